/* isa-debug-exit compatible exit device: encodes the guest's value as (v << 1) | 1, records it
 * and hands it to the VMM through ops->exit. */
#include "exitdev.h"

#include <errno.h>
#include <string.h>

int exitdev_init(struct exitdev *dev, const struct exitdev_ops *ops, void *ctx)
{
    int err;

    memset(dev, 0, sizeof(*dev));
    err = pthread_mutex_init(&dev->lock, NULL);
    if (err)
        return -err;
    dev->ops = ops;
    dev->ctx = ctx;
    return 0;
}

void exitdev_destroy(struct exitdev *dev)
{
    pthread_mutex_destroy(&dev->lock);
}

bool exitdev_pio_write(struct exitdev *dev, uint16_t offset, uint32_t data, unsigned size)
{
    uint32_t value;
    int status;

    if (offset != 0 || (size != 1 && size != 2 && size != 4))
        return false;
    value = size == 4 ? data : data & ((1u << (8 * size)) - 1);
    /* As QEMU computes it; statuses above INT_MAX wrap (two's complement), the low bits stay. */
    status = (int)(int32_t)((value << 1) | 1);
    pthread_mutex_lock(&dev->lock);
    dev->requested = true;
    dev->status = status;
    pthread_mutex_unlock(&dev->lock);
    if (dev->ops && dev->ops->exit)
        dev->ops->exit(dev->ctx, status);
    return true;
}

void exitdev_pio_read(struct exitdev *dev, uint16_t offset, uint32_t *data, unsigned size)
{
    (void)dev;
    (void)offset;
    *data = size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

bool exitdev_status(struct exitdev *dev, int *status)
{
    bool requested;

    pthread_mutex_lock(&dev->lock);
    requested = dev->requested;
    if (status)
        *status = dev->status;
    pthread_mutex_unlock(&dev->lock);
    return requested;
}
