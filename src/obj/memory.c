/* Guest physical memory: WHvMapGpaRange/WHvUnmapGpaRange on KVM memslots, and the GPA -> host
 * lookups the rest of the library uses. Mapping over an existing range splits what it covers;
 * read-only mappings become read-only memslots, so guest writes surface as MemoryAccess exits.
 * Pages under an MMIO doorbell are holes: no memslot covers them while the doorbell exists (KVM
 * sees only writes that exit), but the mapping stays, for the host and for afterwards. A change
 * that deletes a memslot and re-creates part of its memory holds every VP out of the guest. */
#include "obj/obj.h"

#include "obj/hostcpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE X86_PAGE_SIZE

int mem_init(struct mem_map *m)
{
    memset(m, 0, sizeof(*m));
    int n = kvm_check(-1, KVM_CAP_NR_MEMSLOTS);
    m->slot_limit = n > 0 ? (uint32_t)n : 32;
    m->slot_used = calloc(m->slot_limit, 1);
    if (!m->slot_used)
        return -ENOMEM;
    return -pthread_rwlock_init(&m->lock, NULL);
}

void mem_destroy(struct mem_map *m)
{
    for (size_t i = 0; i < m->count; i++)
        free(m->ranges[i].slots);
    free(m->ranges);
    free(m->holes);
    free(m->slot_used);
    pthread_rwlock_destroy(&m->lock);
}

static int slot_alloc(struct mem_map *m)
{
    for (uint32_t i = 0; i < m->slot_limit; i++)
        if (!m->slot_used[i]) {
            m->slot_used[i] = 1;
            return (int)i;
        }
    return -ENOSPC;
}

static bool is_hole(const struct mem_map *m, uint64_t page)
{
    for (size_t i = 0; i < m->nholes; i++)
        if (m->holes[i].page == page)
            return true;
    return false;
}

static void uninstall(struct mem_map *m, int vm_fd, struct mem_range *r)
{
    for (uint32_t i = 0; i < r->nslots; i++) {
        kvm_set_memslot(vm_fd, r->slots[i], 0, 0, 0, NULL);
        m->slot_used[r->slots[i]] = 0;
    }
    free(r->slots);
    r->slots = NULL;
    r->nslots = 0;
}

/* Gives r one memslot per stretch between holes. */
static int install(struct mem_map *m, int vm_fd, struct mem_range *r)
{
    uint32_t kflags = (r->flags & WHvMapGpaRangeFlagWrite) ? 0 : KVM_MEM_READONLY;
    uint64_t end = r->gpa + r->size;
    for (uint64_t start = r->gpa; start < end;) {
        if (is_hole(m, start)) {
            start += PAGE_SIZE;
            continue;
        }
        uint64_t stop = start + PAGE_SIZE;
        while (stop < end && !is_hole(m, stop))
            stop += PAGE_SIZE;
        uint32_t *s = realloc(r->slots, (r->nslots + 1) * sizeof(*s));
        int slot = s ? slot_alloc(m) : -ENOMEM;
        if (s)
            r->slots = s;
        int e = slot < 0 ? slot
                         : kvm_set_memslot(vm_fd, (uint32_t)slot, kflags, start, stop - start,
                                           r->hva + (start - r->gpa));
        if (e < 0) {
            if (slot >= 0)
                m->slot_used[slot] = 0;
            uninstall(m, vm_fd, r);
            return e;
        }
        r->slots[r->nslots++] = (uint32_t)slot;
        start = stop;
    }
    return 0;
}

/* Installs r (gpa, size, hva, flags) and inserts it at position `at`. */
static int insert_range(struct mem_map *m, int vm_fd, size_t at, struct mem_range r)
{
    if (m->count == m->capacity) {
        size_t cap = m->capacity ? m->capacity * 2 : 16;
        struct mem_range *n = realloc(m->ranges, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        m->ranges = n;
        m->capacity = cap;
    }
    r.slots = NULL;
    r.nslots = 0;
    int e = install(m, vm_fd, &r);
    if (e < 0)
        return e;
    memmove(&m->ranges[at + 1], &m->ranges[at], (m->count - at) * sizeof(*m->ranges));
    m->ranges[at] = r;
    m->count++;
    return 0;
}

static void remove_range(struct mem_map *m, int vm_fd, size_t at)
{
    struct mem_range *r = &m->ranges[at];
    uninstall(m, vm_fd, r);
    memmove(r, r + 1, (m->count - at - 1) * sizeof(*r));
    m->count--;
}

/* Removes [gpa, gpa+size) from every range, keeping the parts outside it. */
static int punch(struct mem_map *m, int vm_fd, uint64_t gpa, uint64_t size)
{
    uint64_t end = gpa + size;
    for (size_t i = 0; i < m->count;) {
        struct mem_range r = m->ranges[i];
        uint64_t rend = r.gpa + r.size;
        if (rend <= gpa || r.gpa >= end) {
            i++;
            continue;
        }
        remove_range(m, vm_fd, i);
        int e = 0;
        if (r.gpa < gpa) {
            struct mem_range head = r;
            head.size = gpa - r.gpa;
            e = insert_range(m, vm_fd, i++, head);
        }
        if (e == 0 && rend > end) {
            struct mem_range tail = r;
            tail.gpa = end;
            tail.size = rend - end;
            tail.hva = r.hva + (end - r.gpa);
            e = insert_range(m, vm_fd, i++, tail);
        }
        if (e < 0)
            return e;
    }
    return 0;
}

static bool valid_range(uint64_t gpa, uint64_t size)
{
    uint64_t limit = 1ull << hostcpu_phys_bits();
    return size && !(gpa % PAGE_SIZE) && !(size % PAGE_SIZE) && gpa + size > gpa &&
           gpa + size <= limit;
}

/* Whether a range overlaps [gpa, gpa+size); with `beyond`, one that also extends past it (a
 * punch re-creates its rest). */
static bool overlaps(const struct mem_map *m, uint64_t gpa, uint64_t size, bool beyond)
{
    uint64_t end = gpa + size;
    for (size_t i = 0; i < m->count; i++) {
        const struct mem_range *r = &m->ranges[i];
        if (r->gpa < end && r->gpa + r->size > gpa && (!beyond || r->gpa < gpa || r->gpa + r->size > end))
            return true;
    }
    return false;
}

int mem_map(struct whp_partition *p, uint8_t *hva, uint64_t gpa, uint64_t size, uint32_t flags)
{
    if (!valid_range(gpa, size) || ((uintptr_t)hva % PAGE_SIZE))
        return -EINVAL;
    struct mem_map *m = &p->mem;
    int vm_fd = p->vm_fd;
    pthread_rwlock_wrlock(&m->lock);
    /* A remap replaces memory the guest has: it must never see none there. */
    bool hold = overlaps(m, gpa, size, false);
    if (hold)
        vcpu_hold_all(p);
    int e = punch(m, vm_fd, gpa, size);
    if (e == 0) {
        size_t at = 0;
        while (at < m->count && m->ranges[at].gpa < gpa)
            at++;
        e = insert_range(m, vm_fd, at,
                         (struct mem_range){.gpa = gpa, .size = size, .hva = hva, .flags = flags});
    }
    if (hold)
        vcpu_release_all(p);
    pthread_rwlock_unlock(&m->lock);
    return e;
}

int mem_unmap(struct whp_partition *p, uint64_t gpa, uint64_t size)
{
    if (!valid_range(gpa, size))
        return -EINVAL;
    struct mem_map *m = &p->mem;
    pthread_rwlock_wrlock(&m->lock);
    int e = -EFAULT;
    if (overlaps(m, gpa, size, false)) {
        bool hold = overlaps(m, gpa, size, true);
        if (hold)
            vcpu_hold_all(p);
        e = punch(m, p->vm_fd, gpa, size);
        if (hold)
            vcpu_release_all(p);
    }
    pthread_rwlock_unlock(&m->lock);
    return e;
}

/* The range holding gpa, with the read lock held by the caller. */
static const struct mem_range *find(const struct mem_map *m, uint64_t gpa)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct mem_range *r = &m->ranges[mid];
        if (gpa < r->gpa)
            hi = mid;
        else if (gpa >= r->gpa + r->size)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

/* Copies between the guest and a host buffer, range by range. */
static int copy(struct mem_map *m, uint64_t gpa, void *host, size_t len, bool write, bool force)
{
    int e = 0;
    pthread_rwlock_rdlock(&m->lock);
    while (len) {
        const struct mem_range *r = find(m, gpa);
        if (!r || (write && !force && !(r->flags & WHvMapGpaRangeFlagWrite)) ||
            (!write && !(r->flags & WHvMapGpaRangeFlagRead))) {
            e = -EFAULT;
            break;
        }
        size_t n = r->gpa + r->size - gpa;
        if (n > len)
            n = len;
        if (write)
            memcpy(r->hva + (gpa - r->gpa), host, n);
        else
            memcpy(host, r->hva + (gpa - r->gpa), n);
        gpa += n;
        host = (uint8_t *)host + n;
        len -= n;
    }
    pthread_rwlock_unlock(&m->lock);
    return e;
}

int mem_read(struct mem_map *m, uint64_t gpa, void *dst, size_t len)
{
    return copy(m, gpa, dst, len, false, false);
}

int mem_write(struct mem_map *m, uint64_t gpa, const void *src, size_t len, bool force)
{
    return copy(m, gpa, (void *)src, len, true, force);
}

int mem_atomic(struct mem_map *m, uint64_t gpa, size_t len, mem_atomic_fn fn, void *ctx)
{
    int e = -EFAULT;
    pthread_rwlock_rdlock(&m->lock);
    const struct mem_range *r = find(m, gpa);
    if (r && (r->flags & WHvMapGpaRangeFlagWrite) && gpa + len <= r->gpa + r->size)
        e = fn(r->hva + (gpa - r->gpa), ctx);
    pthread_rwlock_unlock(&m->lock);
    return e;
}

uint32_t mem_flags(struct mem_map *m, uint64_t gpa)
{
    pthread_rwlock_rdlock(&m->lock);
    const struct mem_range *r = find(m, gpa);
    uint32_t f = r && !is_hole(m, gpa & ~(PAGE_SIZE - 1)) ? r->flags : 0;
    pthread_rwlock_unlock(&m->lock);
    return f;
}

/* Re-installs the range holding page, after the holes changed, with every VP out of the guest:
 * the rest of the range is RAM before and after. */
static int reinstall_page(struct whp_partition *p, uint64_t page)
{
    struct mem_map *m = &p->mem;
    for (size_t i = 0; i < m->count; i++) {
        struct mem_range *r = &m->ranges[i];
        if (page >= r->gpa && page < r->gpa + r->size) {
            vcpu_hold_all(p);
            uninstall(m, p->vm_fd, r);
            int e = install(m, p->vm_fd, r);
            vcpu_release_all(p);
            return e;
        }
    }
    return 0;
}

int mem_hole(struct whp_partition *p, uint64_t gpa, bool add)
{
    struct mem_map *m = &p->mem;
    uint64_t page = gpa & ~(PAGE_SIZE - 1);
    int e = 0;
    pthread_rwlock_wrlock(&m->lock);
    size_t i = 0;
    while (i < m->nholes && m->holes[i].page != page)
        i++;
    if (add && i < m->nholes) {
        m->holes[i].refs++;
    } else if (add) {
        struct mem_hole *h = realloc(m->holes, (m->nholes + 1) * sizeof(*h));
        if (!h) {
            e = -ENOMEM;
        } else {
            m->holes = h;
            m->holes[m->nholes++] = (struct mem_hole){page, 1};
            e = reinstall_page(p, page);
        }
    } else if (i < m->nholes && --m->holes[i].refs == 0) {
        m->holes[i] = m->holes[--m->nholes];
        e = reinstall_page(p, page);
    }
    pthread_rwlock_unlock(&m->lock);
    return e;
}

/* ---- API ---- */

HRESULT WINAPI WHvMapGpaRange(WHV_PARTITION_HANDLE Partition, VOID *SourceAddress,
                              WHV_GUEST_PHYSICAL_ADDRESS GuestAddress, UINT64 SizeInBytes,
                              WHV_MAP_GPA_RANGE_FLAGS Flags)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr;
    uint32_t known = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute;
    if (!p->setup)
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    else if (!SourceAddress)
        hr = E_INVALIDARG;
    else if ((Flags & ~known) || !(Flags & WHvMapGpaRangeFlagRead))
        hr = E_INVALIDARG; /* KVM memory is always readable; dirty tracking is not offered */
    else
        hr = hr_from_errno(mem_map(p, SourceAddress, GuestAddress, SizeInBytes, (uint32_t)Flags));
    part_put(p);
    return hr == WHV_E_GPA_RANGE_NOT_FOUND ? E_INVALIDARG : hr;
}

HRESULT WINAPI WHvMapGpaRange2(WHV_PARTITION_HANDLE Partition, HANDLE Process,
                               VOID *SourceAddress, WHV_GUEST_PHYSICAL_ADDRESS GuestAddress,
                               UINT64 SizeInBytes, WHV_MAP_GPA_RANGE_FLAGS Flags)
{
    /* Only the calling process's memory can be mapped: KVM memslots take our own addresses. */
    if (Process != NULL && Process != (HANDLE)(intptr_t)-1)
        return E_INVALIDARG;
    return WHvMapGpaRange(Partition, SourceAddress, GuestAddress, SizeInBytes, Flags);
}

HRESULT WINAPI WHvUnmapGpaRange(WHV_PARTITION_HANDLE Partition,
                                WHV_GUEST_PHYSICAL_ADDRESS GuestAddress, UINT64 SizeInBytes)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = p->setup ? hr_from_errno(mem_unmap(p, GuestAddress, SizeInBytes))
                          : WHV_E_INVALID_PARTITION_CONFIG;
    part_put(p);
    return hr;
}

static HRESULT access_gpa(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex, UINT64 gpa,
                          WHV_ACCESS_GPA_CONTROLS Controls, void *data, UINT32 size, bool write)
{
    if (!data || size == 0)
        return E_INVALIDARG;
    /* Only VTL 0 exists here: InputVtl may at most say "use target VTL 0". */
    if ((Controls.AsUINT64 >> 32) & ~0x10ull)
        return E_INVALIDARG;
    if (gpa + size < gpa)
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = part_get_vp(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    int e = write ? mem_write(&p->mem, gpa, data, size, true) : mem_read(&p->mem, gpa, data, size);
    part_put(p);
    return e ? WHV_E_GPA_RANGE_NOT_FOUND : S_OK;
}

HRESULT WINAPI WHvReadGpaRange(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                               WHV_GUEST_PHYSICAL_ADDRESS GuestAddress,
                               WHV_ACCESS_GPA_CONTROLS Controls, VOID *Data, UINT32 DataSizeInBytes)
{
    return access_gpa(Partition, VpIndex, GuestAddress, Controls, Data, DataSizeInBytes, false);
}

HRESULT WINAPI WHvWriteGpaRange(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                WHV_GUEST_PHYSICAL_ADDRESS GuestAddress,
                                WHV_ACCESS_GPA_CONTROLS Controls, const VOID *Data,
                                UINT32 DataSizeInBytes)
{
    return access_gpa(Partition, VpIndex, GuestAddress, Controls, (void *)Data, DataSizeInBytes,
                      true);
}
