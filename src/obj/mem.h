/* Guest physical memory: the partition's map of GPA ranges onto host memory and KVM memslots,
 * and the GPA -> host lookups the rest of the library uses (memory.c). */
#ifndef OPENWHP_MEM_H
#define OPENWHP_MEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mem_range {
    uint64_t gpa, size;
    uint8_t *hva;
    uint32_t flags;  /* WHV_MAP_GPA_RANGE_FLAGS */
    uint32_t *slots; /* KVM memslot ids: one per stretch between holes */
    uint32_t nslots;
};

struct mem_hole {
    uint64_t page;
    uint32_t refs; /* doorbells on this page */
};

struct mem_map {
    pthread_rwlock_t lock; /* protects everything below; writers also issue the memslot ioctls */
    struct mem_range *ranges; /* sorted by gpa, never overlapping */
    size_t count, capacity;
    uint8_t *slot_used;    /* one byte per KVM memslot id */
    uint32_t slot_limit;
    struct mem_hole *holes; /* pages no memslot may cover (MMIO doorbells) */
    size_t nholes;
};

struct whp_partition;

int mem_init(struct mem_map *m);
void mem_destroy(struct mem_map *m);
/* Map and unmap the partition's memory; a change that re-creates memory the guest keeps (a map
 * over mapped memory, an unmap of part of a range) holds every VP out of KVM_RUN meanwhile. */
int mem_map(struct whp_partition *p, uint8_t *hva, uint64_t gpa, uint64_t size, uint32_t flags);
int mem_unmap(struct whp_partition *p, uint64_t gpa, uint64_t size);
/* Copies guest physical memory; -EFAULT when any byte is unmapped (or, for a write, not
 * writable by the guest, unless `force` is set). */
int mem_read(struct mem_map *m, uint64_t gpa, void *dst, size_t len);
int mem_write(struct mem_map *m, uint64_t gpa, const void *src, size_t len, bool force);
/* Runs fn on the host address of [gpa, gpa+len) while the mapping cannot change: for atomic
 * operations on guest memory shared with running VPs. -EFAULT unless it is writable RAM. */
typedef int (*mem_atomic_fn)(uint8_t *host, void *ctx);
int mem_atomic(struct mem_map *m, uint64_t gpa, size_t len, mem_atomic_fn fn, void *ctx);
/* Adds (or drops one reference to) a hole at gpa's page; the rest of its range stays RAM to
 * running VPs (they are held out of KVM_RUN while its memslots are re-created). */
int mem_hole(struct whp_partition *p, uint64_t gpa, bool add);
/* The WHV_MAP_GPA_RANGE_FLAGS of the page holding gpa as the guest sees it: 0 when unmapped
 * or under a doorbell. */
uint32_t mem_flags(struct mem_map *m, uint64_t gpa);

#endif
