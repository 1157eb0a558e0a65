/* Split virtqueues, device side: see virtqueue.h. */
#include "virtqueue.h"

#include <string.h>

void virtq_reset(struct virtq *q)
{
    uint32_t resets = q->resets + 1;
    memset(q, 0, sizeof(*q));
    q->num = VIRTQ_MAX_SIZE;
    q->resets = resets;
}

/* Bytes of each ring for a queue of n entries (virtio 2.7): the descriptor table, the driver
 * area (flags, idx, ring[n], used_event) and the device area (flags, idx, ring[n] of {id, len},
 * avail_event). */
#define DESC_BYTES(n) (sizeof(struct virtq_desc) * (n))
#define AVAIL_BYTES(n) (6u + 2u * (n))
#define USED_BYTES(n) (6u + 8u * (n))
#define USED_ELEM_WORDS 2 /* {u32 id, u32 len} */

/* The rings where guest memory has them now; NULL when that is not RAM (or before the queue
 * was enabled: no translation yet). */
static void *ring(const struct virtq *q, uint64_t gpa, uint64_t len)
{
    return q->mem.gpa_to_hva ? q->mem.gpa_to_hva(q->mem.ctx, gpa, len) : NULL;
}

static struct virtq_desc *ring_desc(const struct virtq *q) { return ring(q, q->desc_gpa, DESC_BYTES(q->num)); }
static volatile uint16_t *ring_avail(const struct virtq *q) { return ring(q, q->avail_gpa, AVAIL_BYTES(q->num)); }
static volatile uint16_t *ring_used(const struct virtq *q) { return ring(q, q->used_gpa, USED_BYTES(q->num)); }

bool virtq_enable(struct virtq *q, const struct virtq_mem *mem)
{
    uint64_t n = q->num;
    if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
        return false;
    if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
        return false;
    q->mem = *mem;
    volatile uint16_t *used = ring_used(q);
    if (!ring_desc(q) || !ring_avail(q) || !used)
        return false;
    q->last_avail = 0;
    q->used_idx = __atomic_load_n(&used[1], __ATOMIC_RELAXED);
    q->enabled = true;
    return true;
}

/* Chains the driver made available and we have not taken; more than num is malformed. */
static uint16_t pending(const struct virtq *q, volatile uint16_t *avail)
{
    return (uint16_t)(__atomic_load_n(&avail[1], __ATOMIC_ACQUIRE) - q->last_avail);
}

bool virtq_has_avail(const struct virtq *q)
{
    volatile uint16_t *avail = q->enabled ? ring_avail(q) : NULL;
    if (!avail)
        return false;
    uint16_t n = pending(q, avail);
    return n != 0 && n <= q->num;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
    if (!q->enabled)
        return 0;
    volatile uint16_t *avail = ring_avail(q);
    struct virtq_desc *desc = ring_desc(q);
    if (!avail || !desc)
        return -1;
    uint16_t n = pending(q, avail);
    if (n == 0)
        return 0;
    if (n > q->num)
        return -1;
    uint16_t head = __atomic_load_n(&avail[2 + q->last_avail % q->num], __ATOMIC_RELAXED);
    if (head >= q->num)
        return -1;
    c->head = head;
    c->nread = c->nwrite = 0;
    c->read_len = c->write_len = 0;
    uint16_t i = head;
    for (unsigned count = 0;; count++) {
        /* Read the descriptor once: the guest may rewrite it while we look. */
        struct virtq_desc d;
        memcpy(&d, (const void *)&desc[i], sizeof(d));
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (count >= q->num || (d.flags & VIRTQ_DESC_F_INDIRECT))
            return -1;
        bool w = d.flags & VIRTQ_DESC_F_WRITE;
        if (!w && c->nwrite)
            return -1; /* readable after writable */
        if (d.len) {
            if (c->nread + c->nwrite == VIRTQ_MAX_SEGS)
                return -1;
            void *hva = q->mem.gpa_to_hva(q->mem.ctx, d.addr, d.len);
            if (!hva)
                return -1;
            c->iov[c->nread + c->nwrite] = (struct iovec){hva, d.len};
            if (w) {
                c->nwrite++;
                c->write_len += d.len;
            } else {
                c->nread++;
                c->read_len += d.len;
            }
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= q->num)
            return -1;
        i = d.next;
    }
    q->last_avail++;
    return 1;
}

bool virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
    volatile uint16_t *used = ring_used(q);
    if (!used)
        return false;
    volatile uint32_t *elem = (volatile uint32_t *)(used + 2) + USED_ELEM_WORDS * (q->used_idx % q->num);
    elem[0] = head;
    elem[1] = len;
    q->used_idx++;
    __atomic_store_n(&used[1], q->used_idx, __ATOMIC_RELEASE);
    return true;
}

bool virtq_want_notify(struct virtq *q, bool want)
{
    volatile uint16_t *used = ring_used(q);
    if (!used)
        return false;
    uint16_t flags = __atomic_load_n(&used[0], __ATOMIC_RELAXED);
    uint16_t next = want ? flags & ~VIRTQ_USED_F_NO_NOTIFY : flags | VIRTQ_USED_F_NO_NOTIFY;
    if (next == flags)
        return true;
    __atomic_store_n(&used[0], next, __ATOMIC_RELAXED);
    /* The flag must be visible before we look at the avail index again (virtio 2.7.10). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return true;
}

bool virtq_should_interrupt(const struct virtq *q)
{
    /* The used index must be visible before we read the driver's flags (virtio 2.7.10). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    volatile uint16_t *avail = ring_avail(q);
    return !avail || !(__atomic_load_n(&avail[0], __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Walks the readable or writable part from byte off; calls fn on each piece. */
static size_t walk(const struct virtq_chain *c, bool writable, size_t off, size_t len,
                   void (*fn)(void *seg, size_t n, size_t done, void *ctx), void *ctx)
{
    unsigned first = writable ? c->nread : 0, end = writable ? c->nread + c->nwrite : c->nread;
    size_t done = 0;
    for (unsigned i = first; i < end && done < len; i++) {
        size_t seg = c->iov[i].iov_len;
        if (off >= seg) {
            off -= seg;
            continue;
        }
        size_t n = seg - off < len - done ? seg - off : len - done;
        fn((uint8_t *)c->iov[i].iov_base + off, n, done, ctx);
        done += n;
        off = 0;
    }
    return done;
}

static void copy_out(void *seg, size_t n, size_t done, void *dst)
{
    memcpy((uint8_t *)dst + done, seg, n);
}

static void copy_in(void *seg, size_t n, size_t done, void *src)
{
    memcpy(seg, (const uint8_t *)src + done, n);
}

size_t virtq_copy_from(const struct virtq_chain *c, size_t off, void *dst, size_t len)
{
    return walk(c, false, off, len, copy_out, dst);
}

size_t virtq_copy_to(const struct virtq_chain *c, size_t off, const void *src, size_t len)
{
    return walk(c, true, off, len, copy_in, (void *)src);
}

struct slice_ctx {
    struct iovec *out;
    unsigned n, max;
};

static void add_slice(void *seg, size_t n, size_t done, void *ctx)
{
    struct slice_ctx *s = ctx;
    (void)done;
    if (s->n < s->max)
        s->out[s->n++] = (struct iovec){seg, n};
}

unsigned virtq_slice(const struct virtq_chain *c, bool writable, size_t off, size_t len,
                     struct iovec *out, unsigned max)
{
    struct slice_ctx s = {out, 0, max};
    walk(c, writable, off, len, add_slice, &s);
    return s.n;
}
