/* whpvm's I/O map: registration keeps the ranges sorted and disjoint; lookup is a binary search
 * for the last range starting at or below the address. */
#include "iomap.h"

#include <errno.h>
#include <string.h>

/* The number of ranges that start at or below addr. */
static unsigned ranges_at_or_below(const struct iomap *m, uint64_t addr)
{
    unsigned lo = 0, hi = m->count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (m->ranges[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int iomap_register(struct iomap *m, uint64_t start, uint64_t len, iomap_access_fn *access, void *opaque)
{
    if (len == 0 || start + len - 1 < start)
        return -EINVAL;
    unsigned i = ranges_at_or_below(m, start);
    if (i > 0 && m->ranges[i - 1].start + (m->ranges[i - 1].len - 1) >= start)
        return -EEXIST;
    if (i < m->count && m->ranges[i].start <= start + (len - 1))
        return -EEXIST;
    if (m->count == IOMAP_MAX_RANGES)
        return -ENOSPC;
    memmove(&m->ranges[i + 1], &m->ranges[i], (m->count - i) * sizeof(m->ranges[0]));
    m->ranges[i] = (struct iomap_range){start, len, access, opaque};
    m->count++;
    return 0;
}

const struct iomap_range *iomap_find(const struct iomap *m, uint64_t addr, uint64_t size)
{
    unsigned i = ranges_at_or_below(m, addr);
    if (i == 0 || size == 0)
        return NULL;
    const struct iomap_range *r = &m->ranges[i - 1];
    uint64_t off = addr - r->start;
    return off < r->len && size <= r->len - off ? r : NULL;
}
