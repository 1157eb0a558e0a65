/* Split virtqueues (virtio 1.x, section 2.7) seen from the device: take descriptor chains the
 * driver made available, give them back as used. The rings live in guest RAM, which the guest
 * may change at any moment: every index is checked and every descriptor field read once, and a
 * malformed ring is reported (the transport then sets DEVICE_NEEDS_RESET) instead of followed.
 * The rings are found through the VMM's guest-memory callback on every call, never cached: the
 * VMM may remap guest RAM under a running device, and each call then sees the memory mapped now
 * (a chain already taken keeps the host addresses it was taken with). A ring that is no longer
 * RAM is malformed. No locking here: the device serialises the calls on one queue. */
#ifndef OPENWHP_DEVICES_VIRTQUEUE_H
#define OPENWHP_DEVICES_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VIRTQ_MAX_SIZE 256 /* QueueNumMax of our devices */
#define VIRTQ_MAX_SEGS 64  /* descriptors in one chain */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

/* Guest RAM as the device sees it: the host address of [gpa, gpa+len), or NULL when any of it
 * is not RAM. Provided by the VMM; must be callable from any thread. */
struct virtq_mem {
    void *(*gpa_to_hva)(void *ctx, uint64_t gpa, uint64_t len);
    void *ctx;
};

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq {
    /* Set by the driver through the transport; checked by virtq_enable. */
    uint16_t num;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* Device state. */
    bool enabled;
    uint16_t last_avail; /* next avail ring entry to take */
    uint16_t used_idx;   /* our copy of used->idx */
    struct virtq_mem mem; /* translates desc_gpa, avail_gpa and used_gpa at each use */
    /* Resets so far (kept by virtq_reset): a device that works on a chain without its lock
     * compares it before giving the chain back, since a chain from before a reset is forgotten. */
    uint32_t resets;
};

/* One descriptor chain: the device-readable segments first, then the device-writable ones. */
struct virtq_chain {
    uint16_t head;
    unsigned nread, nwrite; /* iov[0..nread) readable, iov[nread..nread+nwrite) writable */
    size_t read_len, write_len;
    struct iovec iov[VIRTQ_MAX_SEGS];
};

/* Resets the queue to the driver's initial state (size VIRTQ_MAX_SIZE, no rings); counts it. */
void virtq_reset(struct virtq *q);
/* Checks the size and ring addresses (the rings must be RAM now) and keeps mem for every later
 * call; false (queue stays off) if bad. */
bool virtq_enable(struct virtq *q, const struct virtq_mem *mem);

/* Takes the next available chain: 1 taken, 0 none, -1 malformed ring or chain (the chain, if
 * any, is not taken). */
int virtq_pop(struct virtq *q, struct virtq_chain *c);
/* Gives back the chain virtq_pop just took, untouched (it stays available). */
static inline void virtq_unpop(struct virtq *q) { q->last_avail--; }
/* Whether a chain is available (without taking it); false for a malformed ring. */
bool virtq_has_avail(const struct virtq *q);
/* Returns chain `head` with `len` bytes written into it; false when the used ring is no longer
 * RAM (malformed: nothing was returned). */
bool virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Asks the driver for notifications (want) or tells it to skip them (NO_NOTIFY). After asking,
 * check for available chains again: the driver may have added some before it saw the flag.
 * False when the used ring is no longer RAM. */
bool virtq_want_notify(struct virtq *q, bool want);
/* After pushes: whether the driver wants an interrupt (it did not set NO_INTERRUPT; true when
 * the driver's ring is no longer RAM, so that it looks at the device). */
bool virtq_should_interrupt(const struct virtq *q);

/* Copies between a buffer and the chain's readable (from) or writable (to) bytes starting at
 * byte `off` of that part; returns the bytes copied (less when the part is shorter). */
size_t virtq_copy_from(const struct virtq_chain *c, size_t off, void *dst, size_t len);
size_t virtq_copy_to(const struct virtq_chain *c, size_t off, const void *src, size_t len);
/* Fills out[] (at most max entries) with the readable (writable=false) or writable part of the
 * chain from byte `off`, at most `len` bytes: an iovec for readv/writev straight into guest
 * memory. Returns the number of entries. */
unsigned virtq_slice(const struct virtq_chain *c, bool writable, size_t off, size_t len,
                     struct iovec *out, unsigned max);

#endif
