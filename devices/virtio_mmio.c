/* The virtio-mmio transport: see virtio_mmio.h. */
#include "virtio_mmio.h"

#include <string.h>

static void reset(struct virtio_mmio *t)
{
    t->driver_features = 0;
    t->device_features_sel = t->driver_features_sel = t->queue_sel = 0;
    t->status = t->int_status = 0;
    for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
        virtq_reset(&t->queues[i]);
}

void virtio_mmio_init(struct virtio_mmio *t, uint32_t device_id, uint64_t features,
                      unsigned nqueues, const void *config, uint32_t config_len,
                      const struct virtq_mem *mem)
{
    memset(t, 0, sizeof(*t));
    t->device_id = device_id;
    t->device_features = features | VIRTIO_F_VERSION_1;
    t->nqueues = nqueues < VIRTIO_MMIO_MAX_QUEUES ? nqueues : VIRTIO_MMIO_MAX_QUEUES;
    t->config = config;
    t->config_len = config_len;
    t->mem = *mem;
    reset(t);
}

void virtio_mmio_fail(struct virtio_mmio *t)
{
    t->status |= VIRTIO_STATUS_NEEDS_RESET;
    t->int_status |= VIRTIO_INT_CONFIG;
}

static struct virtq *selected(struct virtio_mmio *t)
{
    return t->queue_sel < t->nqueues ? &t->queues[t->queue_sel] : NULL;
}

uint64_t virtio_mmio_read(struct virtio_mmio *t, uint32_t offset, unsigned size)
{
    if (offset >= VIRTIO_MMIO_CONFIG) {
        uint32_t off = offset - VIRTIO_MMIO_CONFIG;
        uint64_t v = 0;
        if (size > 8 || off >= t->config_len || t->config_len - off < size)
            return ~0ull;
        memcpy(&v, t->config + off, size);
        return v;
    }
    if (size != 4)
        return ~0ull;
    struct virtq *q = selected(t);
    switch (offset) {
    case VIRTIO_MMIO_MAGIC:
        return VIRTIO_MMIO_MAGIC_VALUE;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return t->device_id;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return t->device_features_sel < 2 ? (uint32_t)(t->device_features >> (32 * t->device_features_sel)) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return q ? VIRTQ_MAX_SIZE : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return q ? q->enabled : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return t->int_status;
    case VIRTIO_MMIO_STATUS:
        return t->status;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return 0; /* the configuration never changes */
    default:
        return 0xFFFFFFFFu;
    }
}

/* Sets the low or high half of a 64-bit ring address. */
static void set_half(uint64_t *a, uint32_t v, bool high)
{
    *a = high ? (*a & 0xFFFFFFFFull) | (uint64_t)v << 32 : (*a & ~0xFFFFFFFFull) | v;
}

unsigned virtio_mmio_write(struct virtio_mmio *t, uint32_t offset, uint64_t value, unsigned size)
{
    if (size != 4 || offset >= VIRTIO_MMIO_CONFIG)
        return 0; /* the configuration is read-only */
    uint32_t v = (uint32_t)value;
    struct virtq *q = selected(t);
    /* Queue registers may change only while the queue is off (4.2.2.3). */
    struct virtq *setup = q && !q->enabled ? q : NULL;
    switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        t->device_features_sel = v;
        return 0;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (t->driver_features_sel < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK))
            set_half(&t->driver_features, v, t->driver_features_sel == 1);
        return 0;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        t->driver_features_sel = v;
        return 0;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = v;
        return 0;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (setup)
            setup->num = v > 0xFFFF ? 0 : (uint16_t)v; /* 0 fails virtq_enable */
        return 0;
    case VIRTIO_MMIO_QUEUE_READY:
        if (!q || !(t->status & VIRTIO_STATUS_FEATURES_OK))
            return 0;
        if (v == 0) {
            virtq_reset(q);
            return 0;
        }
        if (q->enabled)
            return 0;
        if (!virtq_enable(q, &t->mem)) {
            virtio_mmio_fail(t);
            return 0;
        }
        return VIRTIO_MMIO_EV_QUEUE_READY;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        return VIRTIO_MMIO_EV_NOTIFY;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        t->int_status &= ~v;
        return 0;
    case VIRTIO_MMIO_STATUS:
        if (v == 0) {
            reset(t);
            return VIRTIO_MMIO_EV_RESET;
        }
        if ((v & VIRTIO_STATUS_FEATURES_OK) && !(t->status & VIRTIO_STATUS_FEATURES_OK)) {
            /* Accept only features we offered, and only as a virtio 1.x driver. */
            if ((t->driver_features & ~t->device_features) || !(t->driver_features & VIRTIO_F_VERSION_1))
                v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
        }
        /* The driver may only add bits; NEEDS_RESET stays until a reset. */
        v |= t->status & VIRTIO_STATUS_NEEDS_RESET;
        unsigned ev = (v & VIRTIO_STATUS_DRIVER_OK) && !(t->status & VIRTIO_STATUS_DRIVER_OK)
                          ? VIRTIO_MMIO_EV_DRIVER_OK : 0;
        t->status = v;
        return ev;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if (setup)
            set_half(&setup->desc_gpa, v, offset == VIRTIO_MMIO_QUEUE_DESC_HIGH);
        return 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if (setup)
            set_half(&setup->avail_gpa, v, offset == VIRTIO_MMIO_QUEUE_DRIVER_HIGH);
        return 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (setup)
            set_half(&setup->used_gpa, v, offset == VIRTIO_MMIO_QUEUE_DEVICE_HIGH);
        return 0;
    default:
        return 0;
    }
}
