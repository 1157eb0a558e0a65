/* whpvm's I/O map: the port and MMIO ranges devices register, each with the callback the exit
 * handlers call for an access inside it (kvmtool's ioport/mmio registration, as a small sorted
 * array). Filled while the board is set up, read-only once the VPs run, so it needs no lock. */
#ifndef WHPVM_IOMAP_H
#define WHPVM_IOMAP_H

#include <stdbool.h>
#include <stdint.h>

#define IOMAP_MAX_RANGES 16

/* An access of size bytes at addr (the port or GPA itself, not an offset); data holds the value
 * to write or receives the value read, little-endian. */
typedef void iomap_access_fn(void *opaque, uint64_t addr, void *data, unsigned size, bool write);

struct iomap_range {
    uint64_t start, len;
    iomap_access_fn *access;
    void *opaque;
};

struct iomap {
    struct iomap_range ranges[IOMAP_MAX_RANGES]; /* sorted by start, disjoint */
    unsigned count;
};

/* Adds [start, start + len): 0, or -EINVAL (empty or wrapping), -EEXIST (overlaps a registered
 * range), -ENOSPC (table full). */
int iomap_register(struct iomap *m, uint64_t start, uint64_t len, iomap_access_fn *access, void *opaque);
/* The range that holds all of [addr, addr + size), or NULL. */
const struct iomap_range *iomap_find(const struct iomap *m, uint64_t addr, uint64_t size);

#endif
