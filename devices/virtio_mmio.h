/* The virtio-mmio transport, version 2 (virtio 1.x, section 4.2.2): the register window a driver
 * uses to negotiate features, set up queues and read the device configuration. Plain data: the
 * device that embeds it serialises the calls with its own lock and acts on what a write reports.
 * Queue notifications (QueueNotify) are meant to be doorbells that never reach this code; a
 * write that does reach it is reported as VIRTIO_MMIO_EV_NOTIFY all the same. */
#ifndef OPENWHP_DEVICES_VIRTIO_MMIO_H
#define OPENWHP_DEVICES_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "virtqueue.h"

#define VIRTIO_MMIO_SIZE 0x200 /* the window: registers, then the device configuration at 0x100 */
#define VIRTIO_MMIO_MAX_QUEUES 4

/* Register offsets */
#define VIRTIO_MMIO_MAGIC 0x000 /* "virt" */
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u
#define VIRTIO_MMIO_VENDOR 0x5048574fu /* "OWHP" */

/* Device status bits */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_F_VERSION_1 (1ull << 32)
#define VIRTIO_INT_USED_RING 1
#define VIRTIO_INT_CONFIG 2

/* What a register write asks of the device (virtio_mmio_write's result, a bit mask). */
#define VIRTIO_MMIO_EV_RESET 1        /* the driver reset the device: drop all device state */
#define VIRTIO_MMIO_EV_QUEUE_READY 2  /* a queue was enabled */
#define VIRTIO_MMIO_EV_DRIVER_OK 4    /* the driver is ready: the device may start */
#define VIRTIO_MMIO_EV_NOTIFY 8       /* QueueNotify reached the model */

struct virtio_mmio {
    uint32_t device_id;
    uint64_t device_features, driver_features;
    uint32_t device_features_sel, driver_features_sel, queue_sel;
    uint32_t status, int_status;
    unsigned nqueues;
    struct virtq queues[VIRTIO_MMIO_MAX_QUEUES];
    const uint8_t *config; /* the device configuration (read-only to the driver) */
    uint32_t config_len;
    struct virtq_mem mem;
};

void virtio_mmio_init(struct virtio_mmio *t, uint32_t device_id, uint64_t features,
                      unsigned nqueues, const void *config, uint32_t config_len,
                      const struct virtq_mem *mem);
/* Register reads and writes of `size` bytes at `offset` in the window. Registers take 4-byte
 * accesses only; others (and unknown offsets) read as all ones and write nothing. */
uint64_t virtio_mmio_read(struct virtio_mmio *t, uint32_t offset, unsigned size);
unsigned virtio_mmio_write(struct virtio_mmio *t, uint32_t offset, uint64_t value, unsigned size);
/* The driver finished setup (DRIVER_OK, no NEEDS_RESET or FAILED). */
static inline int virtio_mmio_running(const struct virtio_mmio *t)
{
    return (t->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) ==
           VIRTIO_STATUS_DRIVER_OK;
}
/* The device found a malformed ring: sets NEEDS_RESET and stops (virtio 2.1.2). */
void virtio_mmio_fail(struct virtio_mmio *t);

#endif
