/* Fuzzes the virtio pieces a guest drives (devices/virtio_mmio.*, devices/virtqueue.*) and the
 * vsock connect-line parser (a host program's input): the input is a sequence of register
 * accesses (feature negotiation, queue setup with ring addresses inside, across and outside guest
 * RAM), guest writes to its RAM (rings and descriptors rewritten at any moment), and device-side
 * queue work (pop, copy from and to the chain, slice, push, unpop). Guest RAM is a heap buffer of
 * exactly its size, so ASan sees any access the ring checks let through. Checks: chains only
 * name guest RAM, their lengths add up, a copy never exceeds the part it copies, the used index
 * is what the device pushed. */
#include <sys/uio.h>

#include "fuzz_input.h"

#include "virtio_mmio.h"
#include "virtqueue.h"
#include "vsock.h"

#define RAM_GPA 0x10000ull
#define RAM_SIZE 0x4000u

static uint8_t *ram;

/* The VMM's translation: RAM is [RAM_GPA, RAM_GPA + RAM_SIZE). */
static void *gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
    (void)ctx;
    if (gpa < RAM_GPA || len > RAM_SIZE || gpa - RAM_GPA > RAM_SIZE - len)
        return NULL;
    return ram + (gpa - RAM_GPA);
}

static bool in_ram(const void *p, size_t len)
{
    const uint8_t *b = p;
    return b >= ram && len <= RAM_SIZE && (size_t)(b - ram) <= RAM_SIZE - len;
}

static uint64_t pick_gpa(struct fz *f)
{
    uint8_t how = fz_u8(f);
    if (how < 0xc0)
        return RAM_GPA + (uint64_t)(how & 0x3f) * 0x100; /* inside, aligned for any ring */
    if (how < 0xe0)
        return RAM_GPA + fz_u16(f);
    return fz_u64(f);
}

static void op_write(struct virtio_mmio *t, struct fz *f)
{
    static const uint32_t regs[] = {
        VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES, VIRTIO_MMIO_DRIVER_FEATURES_SEL,
        VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_READY,
        VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_STATUS,
        VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
        VIRTIO_MMIO_QUEUE_DRIVER_HIGH, VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
        VIRTIO_MMIO_CONFIG, 0x0fc, 0x1fc, 0x200,
    };
    static const unsigned sizes[] = {4, 4, 4, 4, 1, 2, 8, 0};
    uint32_t off = fz_u8(f) & 0x80 ? fz_u16(f) : FZ_PICK(f, regs);
    unsigned size = FZ_PICK(f, sizes);
    uint8_t how = fz_u8(f);
    uint64_t v;
    if (how < 0x40)
        v = (uint32_t)pick_gpa(f);
    else if (how < 0x80)
        v = how & 0x1f; /* small: selectors, queue sizes, status bits */
    else if (how < 0xa0)
        v = 1u << (how & 31);
    else if (how < 0xc0)
        v = 0xf; /* ACKNOWLEDGE | DRIVER | DRIVER_OK | FEATURES_OK */
    else
        v = fz_u64(f);
    unsigned ev = virtio_mmio_write(t, off, v, size);
    FZ_CHECK((ev & ~0xfu) == 0);
    FZ_CHECK(t->queue_sel >= t->nqueues || t->queues[t->queue_sel].num <= 0xffff);
    for (unsigned q = 0; q < t->nqueues; q++) {
        const struct virtq *vq = &t->queues[q];
        if (!vq->enabled)
            continue;
        FZ_CHECK(vq->num && vq->num <= VIRTQ_MAX_SIZE && !(vq->num & (vq->num - 1)));
        FZ_CHECK(gpa_to_hva(NULL, vq->desc_gpa, 16u * vq->num) && gpa_to_hva(NULL, vq->avail_gpa, 6 + 2u * vq->num) &&
                 gpa_to_hva(NULL, vq->used_gpa, 6 + 8u * vq->num));
    }
}

static void op_read(struct virtio_mmio *t, struct fz *f)
{
    uint32_t off = fz_u8(f) & 0x80 ? fz_u16(f) : (uint32_t)(fz_u8(f) & 0x7f) * 4;
    static const unsigned sizes[] = {4, 4, 1, 2, 8, 3, 0};
    unsigned size = FZ_PICK(f, sizes);
    uint64_t v = virtio_mmio_read(t, off, size);
    if (size == 4 && off == VIRTIO_MMIO_MAGIC)
        FZ_CHECK(v == VIRTIO_MMIO_MAGIC_VALUE);
}

/* The guest rewrites a few bytes of its RAM: rings, descriptors, indexes. */
static void op_guest(struct fz *f)
{
    uint16_t at = fz_u16(f) % RAM_SIZE;
    unsigned n = fz_u8(f) % 24;
    for (unsigned k = 0; k < n && at + k < RAM_SIZE; k++)
        ram[at + k] = fz_u8(f);
}

/* The guest publishes a descriptor: a well-formed one most of the time. */
static void op_descriptor(struct virtio_mmio *t, struct fz *f)
{
    const struct virtq *q = &t->queues[fz_u8(f) % t->nqueues];
    if (!q->enabled)
        return;
    unsigned i = fz_u8(f) % q->num;
    struct virtq_desc d = {pick_gpa(f), fz_u8(f) & 0x80 ? fz_u32(f) : fz_u8(f), fz_u8(f) & 7,
                           (uint16_t)(fz_u8(f) % (q->num + 1))};
    memcpy((struct virtq_desc *)gpa_to_hva(NULL, q->desc_gpa, 16u * q->num) + i, &d, sizeof(d));
    volatile uint16_t *avail = gpa_to_hva(NULL, q->avail_gpa, 6 + 2u * q->num);
    uint16_t idx = avail[1];
    avail[2 + idx % q->num] = (uint16_t)(fz_u8(f) & 0x80 ? fz_u16(f) : i);
    avail[1] = (uint16_t)(idx + (fz_u8(f) == 0xff ? fz_u16(f) : 1));
}

static void op_device(struct virtio_mmio *t, struct fz *f)
{
    struct virtq *q = &t->queues[fz_u8(f) % t->nqueues];
    static struct virtq_chain c;
    bool had = virtq_has_avail(q);
    int r = virtq_pop(q, &c);
    FZ_CHECK(r >= -1 && r <= 1);
    FZ_CHECK(r != 1 || had);
    if (r < 0) {
        virtio_mmio_fail(t);
        FZ_CHECK(!virtio_mmio_running(t));
        return;
    }
    if (r == 0)
        return;
    FZ_CHECK(c.head < q->num && c.nread + c.nwrite <= VIRTQ_MAX_SEGS);
    size_t rl = 0, wl = 0;
    for (unsigned i = 0; i < c.nread + c.nwrite; i++) {
        FZ_CHECK(in_ram(c.iov[i].iov_base, c.iov[i].iov_len));
        *(i < c.nread ? &rl : &wl) += c.iov[i].iov_len;
    }
    FZ_CHECK(rl == c.read_len && wl == c.write_len);

    uint8_t buf[512];
    size_t off = fz_u8(f) & 0x80 ? fz_u32(f) : fz_u8(f), len = fz_below(f, sizeof(buf) + 1);
    size_t got = virtq_copy_from(&c, off, buf, len);
    FZ_CHECK(got <= len && got <= (off < c.read_len ? c.read_len - off : 0));
    fz_bytes(f, buf, len);
    size_t put = virtq_copy_to(&c, off, buf, len);
    FZ_CHECK(put <= len && put <= (off < c.write_len ? c.write_len - off : 0));
    struct iovec iov[8];
    unsigned max = fz_u8(f) % 9, n = virtq_slice(&c, fz_u8(f) & 1, off, len, iov, max);
    FZ_CHECK(n <= max);
    for (unsigned i = 0; i < n; i++)
        FZ_CHECK(in_ram(iov[i].iov_base, iov[i].iov_len));

    if (fz_u8(f) == 0xff) {
        virtq_unpop(q);
        return;
    }
    uint16_t before = q->used_idx;
    FZ_CHECK(virtq_push(q, c.head, (uint32_t)put)); /* the rings never move here */
    FZ_CHECK(q->used_idx == (uint16_t)(before + 1));
    FZ_CHECK(((volatile uint16_t *)gpa_to_hva(NULL, q->used_gpa, 6 + 8u * q->num))[1] == q->used_idx);
    virtq_should_interrupt(q);
}

static void op_connect_line(struct fz *f)
{
    char line[80];
    size_t n = fz_u8(f) % sizeof(line);
    fz_bytes(f, line, n);
    if (fz_u8(f) & 1 && n >= 8)
        memcpy(line, "CONNECT ", 8);
    line[n] = 0;
    uint32_t port = 0;
    if (vsock_parse_connect(line, &port))
        FZ_CHECK(strncmp(line, "CONNECT ", 8) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t config[8] = {3};
    static struct virtio_mmio t;
    struct fz f = {data, size, 0};
    ram = calloc(1, RAM_SIZE);
    FZ_CHECK(ram);
    uint8_t *cfg = malloc(sizeof(config)); /* exact size: reads past it are ASan reports */
    memcpy(cfg, config, sizeof(config));
    const struct virtq_mem mem = {gpa_to_hva, NULL};
    virtio_mmio_init(&t, 19, VIRTIO_F_VERSION_1 | 1, fz_u8(&f) % (VIRTIO_MMIO_MAX_QUEUES + 1),
                     cfg, sizeof(config), &mem);
    while (fz_more(&f)) {
        switch (fz_u8(&f) % 8) {
        case 0:
        case 1:
            op_write(&t, &f);
            break;
        case 2:
            op_read(&t, &f);
            break;
        case 3:
            op_guest(&f);
            break;
        case 4:
        case 5:
            if (t.nqueues)
                op_descriptor(&t, &f);
            break;
        case 6:
            if (t.nqueues)
                op_device(&t, &f);
            break;
        default:
            op_connect_line(&f);
        }
    }
    free(cfg);
    free(ram);
    return 0;
}
