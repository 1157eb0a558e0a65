/* Guest-side virtio-vsock driver and its host-side attachment: see guest_vsock.h. */
#include "guest_vsock.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openwhp/hvsocket.h>

#include "virtio_mmio.h"

/* ======================================================================================
 * Guest side
 * ====================================================================================== */

GUEST_INLINE uint64_t gva2gpa(const void *p) { return (uint64_t)(uintptr_t)p - GUEST_DIRECT_MAP; }
GUEST_INLINE void *gpa2gva(uint64_t gpa) { return (void *)(uintptr_t)(GUEST_DIRECT_MAP + gpa); }
GUEST_INLINE void barrier(void) { __asm__ volatile("" ::: "memory"); }
GUEST_INLINE void full_barrier(void) { __asm__ volatile("lock; orl $0, (%%rsp)" ::: "memory", "cc"); }

/* Word-at-a-time copy and fill: no libc in the guest, and no string instructions (the nested
 * host may run them in its emulator). The words may alias anything (structs with pointers):
 * without may_alias, clang -O2 dropped a pointer store that followed a gzero of its struct. */
typedef uint64_t __attribute__((may_alias)) gvs_word;

GUEST_INLINE void gcopy(void *dst, const void *src, uint32_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (; n >= 8; n -= 8, d += 8, s += 8)
        *(volatile gvs_word *)d = *(const gvs_word *)s;
    for (; n; n--)
        *(volatile uint8_t *)d++ = *s++;
}

GUEST_INLINE void gzero(void *dst, uint64_t n)
{
    for (uint64_t i = 0; i < n / 8; i++)
        ((volatile gvs_word *)dst)[i] = 0;
}

GUEST_INLINE uint32_t reg_read(struct gvs *vs, uint32_t off) { return guest_read32(vs->mmio + off); }
GUEST_INLINE void reg_write(struct gvs *vs, uint32_t off, uint32_t v) { guest_write32(vs->mmio + off, v); }

GUEST_CODE static void gvs_irq(struct guest_ex_frame *f)
{
    (void)f;
    guest_wrmsr(0x80B, 0); /* x2APIC EOI */
}

/* Lays out one queue of num (<= 128) entries at *page (two pages) and tells the device. */
GUEST_CODE static void queue_setup(struct gvs *vs, struct gvs_queue *q, uint32_t index, uint16_t num, uint8_t **page)
{
    q->num = num;
    q->desc = (struct virtq_desc *)*page;                  /* 16 * num <= 2 KiB */
    q->avail = (volatile uint16_t *)(*page + 16 * num);     /* 6 + 2 * num */
    q->used = (volatile uint16_t *)(*page + 4096);          /* 6 + 8 * num */
    *page += 2 * 4096;
    reg_write(vs, VIRTIO_MMIO_QUEUE_SEL, index);
    GUEST_ASSERT(reg_read(vs, VIRTIO_MMIO_QUEUE_NUM_MAX) >= num);
    reg_write(vs, VIRTIO_MMIO_QUEUE_NUM, num);
    reg_write(vs, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)gva2gpa(q->desc));
    reg_write(vs, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(gva2gpa(q->desc) >> 32));
    reg_write(vs, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)gva2gpa((const void *)q->avail));
    reg_write(vs, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(gva2gpa((const void *)q->avail) >> 32));
    reg_write(vs, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)gva2gpa((const void *)q->used));
    reg_write(vs, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(gva2gpa((const void *)q->used) >> 32));
    reg_write(vs, VIRTIO_MMIO_QUEUE_READY, 1);
    GUEST_ASSERT_EQ(reg_read(vs, VIRTIO_MMIO_QUEUE_READY), 1);
}

/* Makes descriptor id available (without notifying). */
GUEST_INLINE void queue_add(struct gvs_queue *q, uint16_t id)
{
    q->avail[2 + q->avail_idx % q->num] = id;
    barrier();
    q->avail[1] = ++q->avail_idx;
}

GUEST_INLINE void notify(struct gvs *vs, uint32_t queue) { reg_write(vs, VIRTIO_MMIO_QUEUE_NOTIFY, queue); }

GUEST_CODE struct gvs *gvs_init(uint64_t mmio_gpa, uint64_t area_gpa)
{
    struct gvs *vs = gpa2gva(area_gpa);
    gzero(vs, sizeof(*vs));
    vs->mmio = GUEST_DIRECT_MAP + mmio_gpa;
    vs->next_port = 50000;
    uint8_t *page = (uint8_t *)vs + (sizeof(*vs) + 4095) / 4096 * 4096;
    gzero(page, 4 * 4096);

    /* x2APIC on, software-enabled, our vector handled. */
    guest_wrmsr(0x1B, guest_rdmsr(0x1B) | (1ull << 11) | (1ull << 10));
    guest_wrmsr(0x80F, 0x1FF);
    guest_install_handler(GVS_VECTOR, gvs_irq);

    GUEST_ASSERT_EQ(reg_read(vs, VIRTIO_MMIO_MAGIC), VIRTIO_MMIO_MAGIC_VALUE);
    GUEST_ASSERT_EQ(reg_read(vs, VIRTIO_MMIO_VERSION), 2);
    GUEST_ASSERT_EQ(reg_read(vs, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
    reg_write(vs, VIRTIO_MMIO_STATUS, 0);
    reg_write(vs, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    reg_write(vs, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    GUEST_ASSERT(reg_read(vs, VIRTIO_MMIO_DEVICE_FEATURES) & 1); /* VERSION_1 */
    reg_write(vs, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg_write(vs, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    reg_write(vs, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    reg_write(vs, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_VSOCK_F_STREAM);
    reg_write(vs, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    GUEST_ASSERT(reg_read(vs, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    GUEST_ASSERT_EQ(guest_read32(vs->mmio + VIRTIO_MMIO_CONFIG), GVS_GUEST_CID);

    queue_setup(vs, &vs->rx, VSOCK_QUEUE_RX, GVS_QSIZE, &page);
    queue_setup(vs, &vs->tx, VSOCK_QUEUE_TX, GVS_TXQ, &page);
    vs->rx_bufs = page;
    vs->tx_bufs = page + GVS_QSIZE * GVS_RX_BUF;
    uint8_t *rings = vs->tx_bufs + GVS_QSIZE * GVS_TX_BUF;
    for (uint16_t i = 0; i < GVS_QSIZE; i++) {
        vs->rx.desc[i].addr = gva2gpa(vs->rx_bufs + (uint64_t)i * GVS_RX_BUF);
        vs->rx.desc[i].len = GVS_RX_BUF;
        vs->rx.desc[i].flags = VIRTQ_DESC_F_WRITE;
        queue_add(&vs->rx, i);
        vs->tx.desc[2 * i].addr = gva2gpa(vs->tx_bufs + (uint64_t)i * GVS_TX_BUF);
        vs->tx.desc[2 * i].next = (uint16_t)(2 * i + 1);
        vs->tx_free[vs->tx_nfree++] = i;
    }
    for (uint32_t i = 0; i < GVS_MAX_CONNS; i++)
        vs->conns[i].ring = rings + (uint64_t)i * GVS_RING;
    reg_write(vs, VIRTIO_MMIO_STATUS,
              VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    notify(vs, VSOCK_QUEUE_RX);
    return vs;
}

GUEST_INLINE void hdr_fill(struct vsock_hdr *h, struct gvs_conn *c, uint16_t op, uint32_t len)
{
    h->src_cid = GVS_GUEST_CID;
    h->dst_cid = VSOCK_CID_HOST;
    h->src_port = c->local_port;
    h->dst_port = c->peer_port;
    h->len = len;
    h->type = VSOCK_TYPE_STREAM;
    h->op = op;
    h->flags = 0;
    h->buf_alloc = GVS_RING;
    h->fwd_cnt = c->fwd_cnt;
}

/* Queues one packet from a free transmit slot: header (copied from *h) and len bytes of data,
 * copied into the slot or, with zc_gpa, sent from guest memory at that address by a second
 * descriptor. Returns the slot + 1, or 0 when no slot is free. */
GUEST_CODE static uint32_t tx_packet(struct gvs *vs, const struct vsock_hdr *h, const void *data, uint32_t len,
                                     uint64_t zc_gpa)
{
    if (!vs->tx_nfree)
        return 0;
    uint16_t slot = vs->tx_free[--vs->tx_nfree];
    uint8_t *buf = vs->tx_bufs + (uint64_t)slot * GVS_TX_BUF;
    struct virtq_desc *d = &vs->tx.desc[2 * slot];
    gcopy(buf, h, sizeof(*h));
    if (zc_gpa) {
        d[1].addr = zc_gpa;
        d[1].len = len;
        d[1].flags = 0;
        d[0].len = sizeof(*h);
        d[0].flags = VIRTQ_DESC_F_NEXT;
    } else {
        if (len)
            gcopy(buf + sizeof(*h), data, len);
        d[0].len = (uint32_t)sizeof(*h) + len;
        d[0].flags = 0;
    }
    vs->tx_rx[slot] = 0;
    queue_add(&vs->tx, (uint16_t)(2 * slot));
    notify(vs, VSOCK_QUEUE_TX);
    vs->tx_packets++;
    return slot + 1u;
}

/* A control packet: sent now, or kept until a slot frees up. */
GUEST_CODE static void tx_control(struct gvs *vs, struct gvs_conn *c, uint16_t op, uint32_t flags)
{
    struct vsock_hdr h;
    hdr_fill(&h, c, op, 0);
    h.flags = flags;
    c->fwd_reported = c->fwd_cnt;
    if (!tx_packet(vs, &h, 0, 0, 0)) {
        GUEST_ASSERT(vs->npending < GVS_MAX_PENDING);
        gcopy(&vs->pending[vs->npending++], &h, sizeof(h));
    }
}

/* RST for a packet that names no connection of ours. */
GUEST_CODE static void tx_rst_reply(struct gvs *vs, const struct vsock_hdr *in)
{
    struct gvs_conn tmp;
    gzero(&tmp, sizeof(tmp));
    tmp.local_port = in->dst_port;
    tmp.peer_port = in->src_port;
    tx_control(vs, &tmp, VSOCK_OP_RST, 0);
}

GUEST_CODE static struct gvs_conn *conn_find(struct gvs *vs, uint32_t local, uint32_t peer)
{
    for (uint32_t i = 0; i < vs->nconns; i++) {
        struct gvs_conn *c = &vs->conns[i];
        if (c->state != GVS_FREE && c->local_port == local && c->peer_port == peer)
            return c;
    }
    return 0;
}

GUEST_CODE static struct gvs_conn *conn_alloc(struct gvs *vs)
{
    for (uint32_t i = 0; i < GVS_MAX_CONNS; i++) {
        struct gvs_conn *c = &vs->conns[i];
        if (c->state == GVS_FREE) {
            uint8_t *ring = c->ring;
            gzero(c, sizeof(*c));
            c->ring = ring;
            if (i >= vs->nconns)
                vs->nconns = i + 1;
            return c;
        }
    }
    return 0;
}

/* One packet from the device, in receive buffer id. Returns 1 if the buffer is held (zero-copy
 * echo), 0 if it can go straight back to the device. */
GUEST_CODE static int rx_packet(struct gvs *vs, uint16_t id, uint32_t used)
{
    const uint8_t *buf = vs->rx_bufs + (uint64_t)id * GVS_RX_BUF;
    const struct vsock_hdr *h = (const struct vsock_hdr *)buf;
    GUEST_ASSERT(used >= sizeof(*h));
    GUEST_ASSERT_EQ(h->src_cid, VSOCK_CID_HOST);
    GUEST_ASSERT_EQ(h->dst_cid, GVS_GUEST_CID);
    GUEST_ASSERT_EQ(h->type, VSOCK_TYPE_STREAM);
    vs->rx_packets++;
    struct gvs_conn *c = conn_find(vs, h->dst_port, h->src_port);
    if (h->op == VSOCK_OP_REQUEST) {
        bool listening = false;
        for (uint32_t i = 0; i < vs->nlisten; i++)
            listening |= vs->listen[i] == h->dst_port;
        if (!c && listening && (c = conn_alloc(vs))) {
            c->state = GVS_ACCEPT_PENDING;
            c->local_port = h->dst_port;
            c->peer_port = h->src_port;
            c->peer_buf_alloc = h->buf_alloc;
            c->peer_fwd_cnt = h->fwd_cnt;
        } else {
            tx_rst_reply(vs, h);
        }
        return 0;
    }
    if (!c) {
        if (h->op != VSOCK_OP_RST)
            tx_rst_reply(vs, h);
        return 0;
    }
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;
    switch (h->op) {
    case VSOCK_OP_RESPONSE:
        GUEST_ASSERT_EQ(c->state, GVS_CONNECTING);
        c->state = GVS_ESTABLISHED;
        break;
    case VSOCK_OP_RST:
        c->state = c->state == GVS_CLOSING ? GVS_FREE : GVS_RESET;
        break;
    case VSOCK_OP_SHUTDOWN:
        c->peer_shut |= h->flags;
        break;
    case VSOCK_OP_RW: {
        GUEST_ASSERT_EQ(used, sizeof(*h) + h->len);
        if (c->zero_copy) {
            GUEST_ASSERT(c->hold_count < GVS_QSIZE);
            uint32_t k = (c->hold_head + c->hold_count++) % GVS_QSIZE;
            c->hold_id[k] = id;
            c->hold_len[k] = h->len;
            return 1;
        }
        /* The device must respect our credit: the ring cannot overflow. */
        GUEST_ASSERT(c->len + h->len <= GVS_RING);
        uint32_t tail = (c->head + c->len) % GVS_RING, first = GVS_RING - tail;
        if (first > h->len)
            first = h->len;
        gcopy(c->ring + tail, buf + sizeof(*h), first);
        gcopy(c->ring, buf + sizeof(*h) + first, h->len - first);
        c->len += h->len;
        break;
    }
    case VSOCK_OP_CREDIT_REQUEST:
        tx_control(vs, c, VSOCK_OP_CREDIT_UPDATE, 0);
        break;
    default:
        break;
    }
    return 0;
}

GUEST_CODE int gvs_poll(struct gvs *vs)
{
    int progress = 0;
    /* Transmit slots the device is done with; zero-copy ones give their receive buffer back. */
    uint16_t reposted = 0;
    while (vs->tx.last_used != *(volatile uint16_t *)&vs->tx.used[1]) {
        barrier();
        const volatile uint32_t *e = (const volatile uint32_t *)(vs->tx.used + 2) + 2 * (vs->tx.last_used % GVS_TXQ);
        uint32_t slot = e[0] / 2;
        GUEST_ASSERT(e[0] < GVS_TXQ && !(e[0] & 1));
        if (vs->tx_rx[slot]) {
            struct gvs_conn *c = &vs->conns[vs->tx_conn[slot]];
            c->fwd_cnt += vs->tx.desc[2 * slot + 1].len; /* consumed: it left the guest */
            queue_add(&vs->rx, (uint16_t)(vs->tx_rx[slot] - 1));
            vs->tx_rx[slot] = 0;
            reposted++;
        }
        vs->tx_free[vs->tx_nfree++] = (uint16_t)slot;
        vs->tx.last_used++;
        progress = 1;
    }
    /* Replies that waited for a slot. */
    uint32_t sent = 0;
    while (sent < vs->npending && tx_packet(vs, &vs->pending[sent], 0, 0, 0))
        sent++;
    if (sent) {
        for (uint32_t i = sent; i < vs->npending; i++)
            gcopy(&vs->pending[i - sent], &vs->pending[i], sizeof(struct vsock_hdr));
        vs->npending -= sent;
    }
    /* Received packets; each buffer goes straight back to the device unless held. */
    while (vs->rx.last_used != *(volatile uint16_t *)&vs->rx.used[1]) {
        barrier();
        const volatile uint32_t *e = (const volatile uint32_t *)(vs->rx.used + 2) + 2 * (vs->rx.last_used % GVS_QSIZE);
        uint32_t id = e[0], len = e[1];
        GUEST_ASSERT(id < GVS_QSIZE && len <= GVS_RX_BUF);
        vs->rx.last_used++;
        progress = 1;
        if (!rx_packet(vs, (uint16_t)id, len)) {
            queue_add(&vs->rx, (uint16_t)id);
            reposted++;
        }
    }
    if (reposted) {
        /* The device asks for refill notifications only when it ran out (NO_NOTIFY otherwise). */
        full_barrier();
        if (!(vs->rx.used[0] & VIRTQ_USED_F_NO_NOTIFY))
            notify(vs, VSOCK_QUEUE_RX);
        progress = 1;
    }
    return progress;
}

GUEST_CODE void gvs_wait(struct gvs *vs)
{
    guest_cli();
    /* Transmit completions interrupt only a guest that waits for a slot; otherwise the slots are
     * taken back whenever it polls anyway (virtio's NO_INTERRUPT; the device reads the flag after
     * it publishes used buffers, and we publish the flag before we look at them). */
    vs->tx.avail[0] = vs->tx_nfree ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0;
    full_barrier();
    if (!gvs_poll(vs)) {
        vs->waits++;
        uint64_t t0 = guest_rdtsc();
        guest_sti_hlt(); /* the device's interrupt (or any other) ends the wait */
        vs->halted_tsc += guest_rdtsc() - t0;
        vs->irqs++;
    }
    guest_sti();
}

GUEST_CODE int gvs_connect(struct gvs *vs, uint32_t port)
{
    struct gvs_conn *c = conn_alloc(vs);
    GUEST_ASSERT(c);
    c->state = GVS_CONNECTING;
    c->local_port = vs->next_port++;
    c->peer_port = port;
    tx_control(vs, c, VSOCK_OP_REQUEST, 0);
    while (c->state == GVS_CONNECTING)
        gvs_wait(vs);
    if (c->state != GVS_ESTABLISHED) {
        c->state = GVS_FREE;
        return -1;
    }
    return (int)(c - vs->conns);
}

GUEST_CODE void gvs_listen(struct gvs *vs, uint32_t port)
{
    GUEST_ASSERT(vs->nlisten < GVS_MAX_LISTEN);
    vs->listen[vs->nlisten++] = port;
}

GUEST_CODE int gvs_accept(struct gvs *vs, uint32_t port)
{
    for (;;) {
        for (uint32_t i = 0; i < GVS_MAX_CONNS; i++) {
            struct gvs_conn *c = &vs->conns[i];
            if (c->state == GVS_ACCEPT_PENDING && c->local_port == port) {
                c->state = GVS_ESTABLISHED;
                tx_control(vs, c, VSOCK_OP_RESPONSE, 0);
                return (int)i;
            }
        }
        gvs_wait(vs);
    }
}

GUEST_CODE int64_t gvs_try_send(struct gvs *vs, int ci, const void *data, uint32_t len)
{
    struct gvs_conn *c = &vs->conns[ci];
    const uint8_t *p = data;
    uint32_t done = 0;
    gvs_poll(vs);
    if (c->state != GVS_ESTABLISHED)
        return -1;
    while (done < len && vs->tx_nfree) {
        uint32_t credit = c->peer_buf_alloc - (c->tx_cnt - c->peer_fwd_cnt);
        uint32_t n = len - done;
        if (n > GVS_TX_BUF - sizeof(struct vsock_hdr))
            n = GVS_TX_BUF - sizeof(struct vsock_hdr);
        if (n > credit)
            n = credit;
        if (!n)
            break;
        struct vsock_hdr h;
        hdr_fill(&h, c, VSOCK_OP_RW, n);
        c->fwd_reported = c->fwd_cnt;
        tx_packet(vs, &h, p + done, n, 0);
        c->tx_cnt += n;
        done += n;
    }
    return done;
}

GUEST_CODE int gvs_send(struct gvs *vs, int c, const void *data, uint32_t len)
{
    const uint8_t *p = data;
    while (len) {
        int64_t n = gvs_try_send(vs, c, p, len);
        if (n < 0)
            return -1;
        p += n;
        len -= (uint32_t)n;
        if (len)
            gvs_wait(vs);
    }
    return 0;
}

GUEST_CODE uint32_t gvs_peek(struct gvs *vs, int ci, const uint8_t **p, int *eof)
{
    struct gvs_conn *c = &vs->conns[ci];
    gvs_poll(vs);
    *eof = 0;
    if (!c->len) {
        *eof = c->state == GVS_RESET || (c->peer_shut & VSOCK_SHUTDOWN_SEND);
        return 0;
    }
    *p = c->ring + c->head;
    return c->len < GVS_RING - c->head ? c->len : GVS_RING - c->head;
}

GUEST_CODE void gvs_consume(struct gvs *vs, int ci, uint32_t n)
{
    struct gvs_conn *c = &vs->conns[ci];
    GUEST_ASSERT(n <= c->len);
    c->head = (c->head + n) % GVS_RING;
    c->len -= n;
    c->fwd_cnt += n;
    /* Tell the device about freed room before it runs out of credit. */
    if (c->state == GVS_ESTABLISHED && c->fwd_cnt - c->fwd_reported >= GVS_RING / 2)
        tx_control(vs, c, VSOCK_OP_CREDIT_UPDATE, 0);
}

GUEST_CODE uint32_t gvs_recv_wait(struct gvs *vs, int c, const uint8_t **p, int *eof)
{
    for (;;) {
        uint32_t n = gvs_peek(vs, c, p, eof);
        if (n || *eof)
            return n;
        gvs_wait(vs);
    }
}

GUEST_CODE int64_t gvs_echo(struct gvs *vs, int ci)
{
    struct gvs_conn *c = &vs->conns[ci];
    int64_t sent = 0;
    c->zero_copy = 1;
    gvs_poll(vs);
    if (c->state != GVS_ESTABLISHED)
        return -1;
    while (c->hold_count && vs->tx_nfree) {
        uint32_t k = c->hold_head, len = c->hold_len[k];
        if (c->peer_buf_alloc - (c->tx_cnt - c->peer_fwd_cnt) < len)
            break; /* no credit: the device has not drained enough yet */
        uint16_t id = c->hold_id[k];
        struct vsock_hdr h;
        hdr_fill(&h, c, VSOCK_OP_RW, len);
        c->fwd_reported = c->fwd_cnt;
        uint32_t slot = tx_packet(vs, &h, 0, len, gva2gpa(vs->rx_bufs + (uint64_t)id * GVS_RX_BUF) + sizeof(h)) - 1;
        vs->tx_rx[slot] = (uint16_t)(id + 1);
        vs->tx_conn[slot] = (uint16_t)ci;
        c->tx_cnt += len;
        c->echoed += len;
        c->hold_head = (k + 1) % GVS_QSIZE;
        c->hold_count--;
        sent += len;
    }
    if (c->fwd_cnt - c->fwd_reported >= GVS_RING / 2)
        tx_control(vs, c, VSOCK_OP_CREDIT_UPDATE, 0);
    return sent;
}

GUEST_CODE void gvs_shutdown_send(struct gvs *vs, int ci)
{
    struct gvs_conn *c = &vs->conns[ci];
    if (c->state == GVS_ESTABLISHED)
        tx_control(vs, c, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_SEND);
}

/* Gives the connection's held receive buffers back to the device. */
GUEST_CODE static void release_held(struct gvs *vs, struct gvs_conn *c)
{
    if (!c->hold_count)
        return;
    for (; c->hold_count; c->hold_count--, c->hold_head = (c->hold_head + 1) % GVS_QSIZE)
        queue_add(&vs->rx, c->hold_id[c->hold_head]);
    notify(vs, VSOCK_QUEUE_RX);
}

GUEST_CODE void gvs_close(struct gvs *vs, int ci)
{
    struct gvs_conn *c = &vs->conns[ci];
    release_held(vs, c);
    if (c->state != GVS_ESTABLISHED) {
        c->state = GVS_FREE;
        return;
    }
    c->state = GVS_CLOSING;
    tx_control(vs, c, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND);
    while (c->state == GVS_CLOSING)
        gvs_wait(vs);
}

GUEST_CODE void gvs_reset(struct gvs *vs, int ci)
{
    struct gvs_conn *c = &vs->conns[ci];
    release_held(vs, c);
    if (c->state == GVS_ESTABLISHED || c->state == GVS_CLOSING)
        tx_control(vs, c, VSOCK_OP_RST, 0);
    c->state = GVS_FREE;
}

GUEST_CODE void gvs_echo_forever(uint64_t area, uint64_t port)
{
    struct gvs *vs = gvs_init(GVS_MMIO_GPA, area);
    gvs_listen(vs, (uint32_t)port);
    GUEST_SYNC(1);
    for (;;) {
        int c = gvs_accept(vs, (uint32_t)port);
        struct gvs_conn *conn = &vs->conns[c];
        for (;;) {
            int64_t n = gvs_echo(vs, c);
            if (n < 0 || ((conn->peer_shut & VSOCK_SHUTDOWN_SEND) && !conn->hold_count))
                break;
            if (!n)
                gvs_wait(vs);
        }
        gvs_close(vs, c);
    }
}

/* ======================================================================================
 * Host side
 * ====================================================================================== */

static void *host_gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
    struct guest_vm *vm = ctx;
    if (gpa > vm->ram_size || len > vm->ram_size - gpa)
        return NULL;
    return vm->ram + gpa;
}

static HRESULT host_mmio(struct guest_emu *emu, WHV_EMULATOR_MEMORY_ACCESS_INFO *access)
{
    struct gvs_host *h = emu->opaque;
    uint64_t off = access->GpaAddress - GVS_MMIO_GPA;
    if (access->GpaAddress < GVS_MMIO_GPA || off >= VIRTIO_MMIO_SIZE)
        return E_FAIL;
    uint64_t v = 0;
    if (access->Direction) {
        memcpy(&v, access->Data, access->AccessSize);
        vsock_mmio_write(h->dev, (uint32_t)off, v, access->AccessSize);
    } else {
        v = vsock_mmio_read(h->dev, (uint32_t)off, access->AccessSize);
        memcpy(access->Data, &v, access->AccessSize);
    }
    return S_OK;
}

void gvs_host_attach(struct gvs_host *h, struct guest_vm *vm)
{
    memset(h, 0, sizeof(*h));
    h->vm = vm;
    h->area_gpa = guest_vm_alloc(vm, GVS_AREA_SIZE);
    guest_vm_map_gpa(vm, GVS_MMIO_GPA, VIRTIO_MMIO_SIZE);
    TEST_HR(OpenWhpGetPartitionVmId(vm->partition, &h->vm_id));
    TEST_HR(OpenWhpHvSocketGetPath(&h->vm_id, OPENWHP_HVSOCKET_VM_PORT, h->path, sizeof(h->path), NULL));
    char wildcard[108];
    TEST_HR(OpenWhpHvSocketGetPath(&HV_GUID_WILDCARD, OPENWHP_HVSOCKET_VM_PORT, wildcard, sizeof(wildcard), NULL));

    WHV_INTERRUPT_CONTROL irq;
    memset(&irq, 0, sizeof(irq));
    irq.Type = WHvX64InterruptTypeFixed;
    irq.DestinationMode = WHvX64InterruptDestinationModePhysical;
    irq.TriggerMode = WHvX64InterruptTriggerModeEdge;
    irq.Destination = 0;
    irq.Vector = GVS_VECTOR;
    TEST_HR(vsock_whp_attach(&h->whp, vm->partition, GVS_MMIO_GPA, &irq));

    struct vsock_config cfg = {
        .guest_cid = GVS_GUEST_CID,
        .vm_id = h->vm_id,
        .socket_path = h->path,
        .fallback_prefix = wildcard,
        .notify_event = h->whp.notify_event,
        .interrupt_event = h->whp.interrupt_event,
        .mem = {host_gpa_to_hva, vm},
    };
    h->dev = vsock_create(&cfg);
    TEST_ASSERT(h->dev, "(vsock_create: %s)", strerror(errno));
    guest_emu_create(&h->emu, vm, 0);
    h->emu.mmio = host_mmio;
    h->emu.opaque = h;
}

void gvs_host_detach(struct gvs_host *h)
{
    guest_emu_destroy(&h->emu);
    vsock_destroy(h->dev);
    vsock_whp_detach(&h->whp);
}

static bool runner_exit(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, void *opaque)
{
    if (exit->ExitReason == WHvRunVpExitReasonCanceled)
        return false; /* gvs_host_stop */
    return gvs_host_exit(vm, vp, exit, opaque);
}

static void *runner_main(void *opaque)
{
    struct gvs_host *h = opaque;
    struct guest_ucall uc;
    while (guest_run_handling(h->vm, 0, &uc, runner_exit, h) == UCALL_SYNC)
        h->syncs++;
    return NULL;
}

bool gvs_host_start(struct gvs_host *h, unsigned timeout_ms)
{
    h->syncs = 0;
    TEST_ASSERT(pthread_create(&h->thread, NULL, runner_main, h) == 0);
    for (unsigned ms = 0; !h->syncs && ms < timeout_ms; ms++)
        usleep(1000);
    return h->syncs > 0;
}

void gvs_host_stop(struct gvs_host *h)
{
    WHvCancelRunVirtualProcessor(h->vm->partition, 0, 0);
    pthread_join(h->thread, NULL);
}

bool gvs_host_exit(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, void *opaque)
{
    struct gvs_host *h = opaque;
    (void)vm;
    (void)vp;
    if (exit->ExitReason == WHvRunVpExitReasonMemoryAccess &&
        exit->MemoryAccess.Gpa - GVS_MMIO_GPA < VIRTIO_MMIO_SIZE) {
        h->mmio_exits++;
        guest_emu_mmio(&h->emu, exit);
        return true;
    }
    TEST_FAIL("unexpected exit %s at rip 0x%llx", guest_exit_reason_name(exit->ExitReason),
              (unsigned long long)exit->VpContext.Rip);
}
