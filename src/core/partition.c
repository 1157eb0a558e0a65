/* Partition lifetime and the handle table. A WHV_PARTITION_HANDLE is a slot number plus a
 * generation, never a pointer, so a deleted or forged handle is refused instead of followed. */
#include "core/core.h"
#include "events/events.h"
#include "events/routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOT_BITS 16
#define MAX_PARTITIONS (1u << SLOT_BITS)

struct slot {
    struct whp_partition *part;
    uint32_t gen;
};

/* table_lock protects slots[], nslots and every partition's refs; table_cond signals refs dropping. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t table_cond = PTHREAD_COND_INITIALIZER;
static struct slot *slots;
static uint32_t nslots;

HRESULT hr_from_errno(int neg_errno)
{
    switch (-neg_errno) {
    case 0: return S_OK;
    case ENOMEM: case ENOSPC: case EMFILE: case ENFILE: return E_OUTOFMEMORY;
    case EINVAL: case ERANGE: case EOVERFLOW: return E_INVALIDARG;
    case EACCES: case EPERM: return E_ACCESSDENIED;
    case EFAULT: return WHV_E_GPA_RANGE_NOT_FOUND;
    case ENODEV: case ENOENT: case ENXIO: return WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG;
    case EOPNOTSUPP: case ENOSYS: return E_NOTIMPL;
    case EEXIST: case EBUSY: return HRESULT_FROM_WIN32(ERROR_BUSY);
    default: return E_FAIL;
    }
}

HRESULT hr_output(const void *buf, UINT32 size, UINT32 *written, UINT32 needed)
{
    if (written)
        *written = needed;
    return size < needed || (needed && !buf) ? WHV_E_INSUFFICIENT_BUFFER : S_OK;
}

static WHV_PARTITION_HANDLE handle_of(uint32_t index, uint32_t gen)
{
    return (WHV_PARTITION_HANDLE)(uintptr_t)(((uint64_t)gen << SLOT_BITS) | (index + 1));
}

static struct slot *slot_of(WHV_PARTITION_HANDLE h)
{
    uintptr_t v = (uintptr_t)h;
    uint32_t index = (uint32_t)(v & (MAX_PARTITIONS - 1));
    if (index == 0 || index > nslots || (v >> SLOT_BITS) > UINT32_MAX)
        return NULL;
    struct slot *s = &slots[index - 1];
    return s->part && s->gen == (uint32_t)(v >> SLOT_BITS) ? s : NULL;
}

struct whp_partition *part_get(WHV_PARTITION_HANDLE h)
{
    pthread_mutex_lock(&table_lock);
    struct slot *s = slot_of(h);
    struct whp_partition *p = s ? s->part : NULL;
    if (p)
        p->refs++;
    pthread_mutex_unlock(&table_lock);
    return p;
}

void part_put(struct whp_partition *p)
{
    pthread_mutex_lock(&table_lock);
    if (--p->refs <= 1 && p->dying)
        pthread_cond_broadcast(&table_cond);
    pthread_mutex_unlock(&table_lock);
}

HRESULT part_get_vp(WHV_PARTITION_HANDLE h, uint32_t index, struct whp_partition **pp,
                    struct whp_vp **vpp)
{
    struct whp_partition *p = part_get(h);
    if (!p)
        return E_HANDLE;
    /* No partition lock: `setup` only goes false -> true, and vps[] never shrinks. */
    bool setup = atomic_load(&p->setup);
    struct whp_vp *vp = setup && index < p->processor_count ? atomic_load(&p->vps[index]) : NULL;
    if (!setup) {
        part_put(p);
        return WHV_E_INVALID_PARTITION_CONFIG;
    }
    if (!vp || !atomic_load(&vp->exists)) {
        part_put(p);
        return WHV_E_VP_DOES_NOT_EXIST;
    }
    *pp = p;
    *vpp = vp;
    return S_OK;
}

HRESULT vp_acquire(WHV_PARTITION_HANDLE h, uint32_t index, struct whp_partition **pp,
                   struct whp_vp **vpp)
{
    HRESULT hr = part_get_vp(h, index, pp, vpp);
    if (SUCCEEDED(hr) && atomic_flag_test_and_set(&(*vpp)->busy)) {
        part_put(*pp);
        hr = WHV_E_INVALID_VP_STATE; /* another thread runs it: cancel it first */
    } else if (SUCCEEDED(hr) && !atomic_load(&(*vpp)->exists)) {
        /* WHvDeleteVirtualProcessor (which holds `busy` while it clears `exists`) ran between
         * part_get_vp's check and ours: without this second look the deleted VP would run, or be
         * reset by a re-creation while it runs. */
        atomic_flag_clear(&(*vpp)->busy);
        part_put(*pp);
        hr = WHV_E_VP_DOES_NOT_EXIST;
    }
    return hr;
}

void vp_release(struct whp_partition *p, struct whp_vp *vp)
{
    atomic_flag_clear(&vp->busy);
    part_put(p);
}

HRESULT WINAPI WHvCreatePartition(WHV_PARTITION_HANDLE *Partition)
{
    if (!Partition)
        return E_POINTER;
    *Partition = NULL;
    int kfd = kvm_system_fd();
    if (kfd < 0)
        return hr_from_errno(kfd);

    struct whp_partition *p = calloc(1, sizeof(*p));
    if (!p)
        return E_OUTOFMEMORY;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->synic_lock, NULL);
    pthread_mutex_init(&p->events_lock, NULL);
    p->vm_fd = -1;
    p->trigger_epoll = p->trigger_stop = -1;
    p->apic_mode = WHvX64LocalApicEmulationModeNone;
    p->features[0] = cpu_host_features(0);
    p->features[1] = cpu_host_features(1);
    p->apic_hz = 1000000000ull; /* KVM's APIC timer ticks once per nanosecond */
    int khz = kvm_ioctl(kfd, KVM_GET_TSC_KHZ, NULL);
    p->tsc_hz = khz > 0 ? (uint64_t)khz * 1000 : 0;
    hvsock_new_vm_id(&p->vm_id);
    if (mem_init(&p->mem) < 0 || routes_init(&p->routes) < 0) {
        mem_destroy(&p->mem);
        free(p);
        return E_OUTOFMEMORY;
    }

    HRESULT hr = E_OUTOFMEMORY;
    pthread_mutex_lock(&table_lock);
    uint32_t i = 0;
    while (i < nslots && slots[i].part)
        i++;
    if (i == nslots && nslots < MAX_PARTITIONS - 1) {
        uint32_t n = nslots ? nslots * 2 : 16;
        struct slot *ns = realloc(slots, n * sizeof(*ns));
        if (ns) {
            memset(ns + nslots, 0, (n - nslots) * sizeof(*ns));
            slots = ns;
            nslots = n;
        }
    }
    if (i < nslots) {
        slots[i].part = p;
        slots[i].gen++;
        p->refs = 1;
        *Partition = handle_of(i, slots[i].gen);
        hr = S_OK;
    }
    pthread_mutex_unlock(&table_lock);
    if (FAILED(hr)) {
        routes_destroy(&p->routes);
        mem_destroy(&p->mem);
        free(p);
    }
    return hr;
}

static int setup_kvm(struct whp_partition *p)
{
    int fd = kvm_vm_create();
    if (fd < 0)
        return fd;
    p->vm_fd = fd;
    int r = 0;
    if (kvm_check(fd, KVM_CAP_X2APIC_API))
        r = kvm_enable_cap(fd, KVM_CAP_X2APIC_API,
                           KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK, 0);
    if (r == 0 && kvm_check(fd, KVM_CAP_EXCEPTION_PAYLOAD))
        r = kvm_enable_cap(fd, KVM_CAP_EXCEPTION_PAYLOAD, 1, 0);
    if (r == 0 && p->apic_mode != WHvX64LocalApicEmulationModeNone)
        r = kvm_enable_cap(fd, KVM_CAP_SPLIT_IRQCHIP, APIC_RESERVED_PINS, 0);
    if (r == 0 && p->apic_hz != 1000000000ull)
        r = kvm_enable_cap(fd, 232 /* KVM_CAP_X86_APIC_BUS_CYCLES_NS */,
                           1000000000ull / p->apic_hz, 0);
    return r;
}

HRESULT WINAPI WHvSetupPartition(WHV_PARTITION_HANDLE Partition)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    pthread_mutex_lock(&p->lock);
    if (p->setup) {
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    } else if (p->processor_count == 0) {
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    } else {
        p->vps = calloc(p->processor_count, sizeof(*p->vps));
        int r = p->vps ? setup_kvm(p) : -ENOMEM;
        hr = r == 0 ? prop_apply_exits(p) : hr_from_errno(r);
        if (SUCCEEDED(hr))
            atomic_store(&p->setup, true);
        else {
            free(p->vps);
            p->vps = NULL;
            if (p->vm_fd >= 0)
                close(p->vm_fd);
            p->vm_fd = -1;
    p->trigger_epoll = p->trigger_stop = -1;
        }
    }
    pthread_mutex_unlock(&p->lock);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvResetPartition(WHV_PARTITION_HANDLE Partition)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    pthread_mutex_lock(&p->lock);
    if (!p->setup) {
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    } else {
        for (uint32_t i = 0; i < p->processor_count && SUCCEEDED(hr); i++) {
            struct whp_vp *vp = p->vps[i];
            if (!vp || !atomic_load(&vp->exists))
                continue;
            if (atomic_flag_test_and_set(&vp->busy)) {
                hr = WHV_E_INVALID_VP_STATE;
                continue;
            }
            hr = hr_from_errno(vp_create_kvm(p, vp));
            atomic_flag_clear(&vp->busy);
        }
    }
    pthread_mutex_unlock(&p->lock);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvDeletePartition(WHV_PARTITION_HANDLE Partition)
{
    pthread_mutex_lock(&table_lock);
    struct slot *s = slot_of(Partition);
    struct whp_partition *p = s ? s->part : NULL;
    if (!p) {
        pthread_mutex_unlock(&table_lock);
        return E_HANDLE;
    }
    /* Unpublish first so no new call can start; then stop running VPs and wait for the
     * calls in progress to drop their references. */
    s->part = NULL;
    p->dying = true;
    while (p->refs > 1) {
        for (uint32_t i = 0; p->vps && i < p->processor_count; i++)
            if (p->vps[i])
                vp_kick(p->vps[i]);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&table_cond, &table_lock, &ts);
    }
    pthread_mutex_unlock(&table_lock);

    /* The SynicEvent trigger worker holds no reference: it would keep setting flags through the
     * VPs, the memory map and the VM fd freed below. Stop it first. */
    events_stop_worker(p);
    for (uint32_t i = 0; p->vps && i < p->processor_count; i++)
        if (p->vps[i])
            vp_destroy(p->vps[i]);
    free(p->vps);
    mem_destroy(&p->mem);
    if (p->vm_fd >= 0)
        close(p->vm_fd);
    free(p->cpuid_exits);
    free(p->cpuid_results);
    events_destroy(p);
    routes_destroy(&p->routes);
    pthread_mutex_destroy(&p->events_lock);
    pthread_mutex_destroy(&p->synic_lock);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return S_OK;
}
