/* An exit device compatible with QEMU's isa-debug-exit (port 0xF4 on our board): a guest write of
 * value v asks the VMM to end the process with status (v << 1) | 1, so a test guest reports its
 * result as the VMM's exit code (which the host truncates to its low 8 bits). */
#ifndef OPENWHP_DEVICES_EXITDEV_H
#define OPENWHP_DEVICES_EXITDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define EXITDEV_PORT 0xF4 /* the VMM passes offset 0 */

struct exitdev_ops {
    /* The guest asked to exit with this status. Called without the lock held (the VMM may stop
     * the VPs or read exitdev_status from it); may be NULL if the VMM polls exitdev_status. */
    void (*exit)(void *ctx, int status);
};

struct exitdev {
    /* Protects requested and status; ops and ctx are fixed at init. */
    pthread_mutex_t lock;
    const struct exitdev_ops *ops;
    void *ctx;
    bool requested;
    int status; /* of the last request */
};

int exitdev_init(struct exitdev *dev, const struct exitdev_ops *ops, void *ctx);
void exitdev_destroy(struct exitdev *dev);

/* A write of size 1, 2 or 4 at offset 0 requests an exit: returns true and reports it through
 * ops->exit. Other sizes and offsets are ignored (false). Reads return all ones. */
bool exitdev_pio_write(struct exitdev *dev, uint16_t offset, uint32_t data, unsigned size);
void exitdev_pio_read(struct exitdev *dev, uint16_t offset, uint32_t *data, unsigned size);

/* Whether the guest has requested an exit, and the status of the last request. */
bool exitdev_status(struct exitdev *dev, int *status);

#endif
