/* Partition and VP lifecycle: creation, setup, reset and deletion, and what each step asks of
 * the subsystems (their init/fini and per-VP reset hooks), in one place. */
#include "obj/obj.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apic/apic.h"
#include "cpuid/cpuid.h"
#include "events/events.h"
#include "hvsock/hvsock.h"
#include "obj/hostcpu.h"
#include "obj/poweron.h"
#include "prop/prop.h"
#include "synic/synic.h"
#include "top/exit_io.h"

#define TSC_HZ_PER_KHZ 1000ull

/* ---- virtual processors ---- */

static void vp_free(struct whp_vp *vp)
{
    exit_vp_fini(vp);
    synic_vp_fini(vp);
    apic_vp_fini(vp);
    vcpu_destroy(vp);
    free(vp);
}

static struct whp_vp *vp_alloc(struct whp_partition *p, uint32_t index)
{
    struct whp_vp *vp = calloc(1, sizeof(*vp));
    if (!vp)
        return NULL;
    vp->part = p;
    vp->index = index;
    vp->fd = -1;
    atomic_flag_clear(&vp->busy);
    pthread_mutex_init(&vp->kick_lock, NULL);
    if (apic_vp_init(vp) < 0 || synic_vp_init(vp) < 0 || exit_vp_init(vp) < 0) {
        vp_free(vp);
        return NULL;
    }
    return vp;
}

/* Brings a VP to its power-on state: the first time by creating its vCPU, later (re-creation
 * after WHvDeleteVirtualProcessor, WHvResetPartition) by resetting the kept one (KVM cannot
 * destroy a vCPU); then WHP's power-on registers replace KVM's. Every subsystem forgets what
 * the VP did. */
/* Fault injection for tests (guest.test_vp_faults, through the static library; nothing sets it
 * otherwise): the next power-on fails once with -EIO right after step N did its work, N as in
 * power_on_step. */
_Atomic int top_vp_fault_step;

enum power_on_step {
    STEP_CREATE = 1, STEP_CPUID, STEP_LAPIC, STEP_REGISTERS, STEP_EXITS, STEP_CACHE,
};

static int fail_after(enum power_on_step s, int r)
{
    int want = (int)s;
    if (r == 0 && atomic_compare_exchange_strong(&top_vp_fault_step, &want, 0))
        return -EIO;
    return r;
}

static int vp_power_on(struct whp_partition *p, struct whp_vp *vp)
{
    assert(owl_held(&p->lock));
    int r;
    if (!vp->initialized) {
        r = fail_after(STEP_CREATE, vcpu_create(p, vp));
        if (r == 0)
            r = fail_after(STEP_CPUID, cpuid_build(p, vp, NULL, 0));
        if (r == 0)
            r = fail_after(STEP_LAPIC, vcpu_init_lapic(p, vp));
        vp->initialized = r == 0;
    } else {
        r = vcpu_reset(p, vp);
    }
    if (r == 0)
        r = fail_after(STEP_REGISTERS, poweron_apply(vp));
    if (r == 0)
        r = fail_after(STEP_EXITS, prop_apply_vp(p, vp));
    if (r == 0)
        r = fail_after(STEP_CACHE, vcpu_load_cache(vp));
    vp->deliverability = 0;
    apic_vp_reset(vp);
    synic_vp_reset(vp);
    exit_vp_reset(vp);
    for (size_t i = 0; i < VP_COUNTERS; i++)
        atomic_store(&vp->exit_counts[i], 0);
    atomic_store(&vp->guest_ns, 0);
    atomic_store(&vp->cancel, false);
    return r;
}

HRESULT WINAPI WHvCreateVirtualProcessor(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                         UINT32 Flags)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    owl_lock(&p->lock);
    if (!p->setup)
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    else if (Flags != 0 || VpIndex >= p->cfg.processor_count)
        hr = E_INVALIDARG;
    else if (part_vp(p, VpIndex))
        hr = WHV_E_VP_ALREADY_EXISTS;
    struct whp_vp *vp = SUCCEEDED(hr) ? atomic_load(&p->vps[VpIndex]) : NULL;
    if (SUCCEEDED(hr) && !vp && !(vp = vp_alloc(p, VpIndex)))
        hr = E_OUTOFMEMORY;
    if (SUCCEEDED(hr)) {
        int r = vp_power_on(p, vp);
        /* A vCPU that KVM created stays with the partition even when a later step failed: its id
         * is taken, so a retry of this index must find it. */
        if (vp->fd >= 0)
            atomic_store(&p->vps[VpIndex], vp);
        else
            vp_free(vp);
        if (r == 0)
            atomic_store(&vp->exists, true);
        hr = hr_from_errno(r);
    }
    owl_unlock(&p->lock);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvCreateVirtualProcessor2(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                          const WHV_VIRTUAL_PROCESSOR_PROPERTY *Properties,
                                          UINT32 PropertyCount)
{
    if (PropertyCount && !Properties)
        return E_INVALIDARG;
    for (UINT32 i = 0; i < PropertyCount; i++) {
        /* NUMA placement is a host scheduling hint with no KVM meaning; accept node 0 only. */
        if (Properties[i].PropertyCode != WHvVirtualProcessorPropertyCodeNumaNode ||
            Properties[i].Reserved != 0 || Properties[i].NumaNode != 0)
            return E_INVALIDARG;
    }
    return WHvCreateVirtualProcessor(Partition, VpIndex, 0);
}

HRESULT WINAPI WHvDeleteVirtualProcessor(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex)
{
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = part_get_vp(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    owl_lock(&p->lock);
    if (atomic_flag_test_and_set(&vp->busy)) {
        hr = WHV_E_INVALID_VP_STATE; /* running: cancel it first */
    } else {
        atomic_store(&vp->exists, false);
        atomic_flag_clear(&vp->busy);
    }
    owl_unlock(&p->lock);
    part_put(p);
    return hr;
}

/* ---- partitions ---- */

static void partition_free(struct whp_partition *p)
{
    events_part_fini(p); /* first: its SynicEvent worker uses the VPs and the memory map */
    for (uint32_t i = 0; p->vps && i < p->cfg.processor_count; i++)
        if (p->vps[i])
            vp_free(p->vps[i]);
    free(p->vps);
    mem_destroy(&p->mem);
    if (p->vm_fd >= 0)
        close(p->vm_fd);
    free(p->cfg.cpuid_exits);
    free(p->cfg.cpuid_results);
    routes_destroy(&p->routes);
    synic_part_fini(p);
    apic_part_fini(p);
    owl_destroy(&p->lock);
    free(p);
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
    p->vm_fd = -1;
    p->cfg.apic_mode = WHvX64LocalApicEmulationModeNone;
    p->cfg.features[0] = hostcpu_features(0);
    p->cfg.features[1] = hostcpu_features(1);
    p->cfg.apic_hz = KVM_APIC_TIMER_HZ;
    int khz = kvm_ioctl(kfd, KVM_GET_TSC_KHZ, NULL);
    p->cfg.tsc_hz = khz > 0 ? (uint64_t)khz * TSC_HZ_PER_KHZ : 0;
    hvsock_new_vm_id(&p->vm_id);
    int r = owl_init(&p->lock);
    if (r == 0)
        r = mem_init(&p->mem);
    if (r == 0)
        r = routes_init(&p->routes);
    if (r == 0)
        r = apic_part_init(p);
    if (r == 0)
        r = synic_part_init(p);
    if (r == 0)
        r = events_part_init(p);
    HRESULT hr = r == 0 ? handle_publish(p, Partition) : E_OUTOFMEMORY;
    if (FAILED(hr))
        partition_free(p);
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
    if (r == 0 && p->cfg.apic_mode != WHvX64LocalApicEmulationModeNone)
        r = kvm_enable_cap(fd, KVM_CAP_SPLIT_IRQCHIP, ROUTES_RESERVED_PINS, 0);
    if (r == 0 && p->cfg.apic_hz != KVM_APIC_TIMER_HZ)
        r = kvm_enable_cap(fd, KVM_CAP_X86_APIC_BUS_CYCLES_NS, KVM_APIC_TIMER_HZ / p->cfg.apic_hz, 0);
    return r;
}

HRESULT WINAPI WHvSetupPartition(WHV_PARTITION_HANDLE Partition)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    owl_lock(&p->lock);
    if (p->setup || p->cfg.processor_count == 0) {
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    } else {
        p->vps = calloc(p->cfg.processor_count, sizeof(*p->vps));
        int r = p->vps ? setup_kvm(p) : -ENOMEM;
        hr = r == 0 ? prop_apply_exits(p) : hr_from_errno(r);
        if (SUCCEEDED(hr)) {
            atomic_store(&p->setup, true);
        } else {
            free(p->vps);
            p->vps = NULL;
            if (p->vm_fd >= 0)
                close(p->vm_fd);
            p->vm_fd = -1;
        }
    }
    owl_unlock(&p->lock);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvResetPartition(WHV_PARTITION_HANDLE Partition)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    owl_lock(&p->lock);
    if (!p->setup) {
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    } else {
        for (uint32_t i = 0; i < p->cfg.processor_count && SUCCEEDED(hr); i++) {
            struct whp_vp *vp = part_vp(p, i);
            if (!vp)
                continue;
            if (atomic_flag_test_and_set(&vp->busy)) {
                hr = WHV_E_INVALID_VP_STATE;
                continue;
            }
            hr = hr_from_errno(vp_power_on(p, vp));
            atomic_flag_clear(&vp->busy);
        }
    }
    owl_unlock(&p->lock);
    part_put(p);
    return hr;
}

static void kick_all(struct whp_partition *p)
{
    for (uint32_t i = 0; p->vps && i < p->cfg.processor_count; i++) {
        struct whp_vp *vp = atomic_load(&p->vps[i]);
        if (vp)
            vp_kick(vp);
    }
}

HRESULT WINAPI WHvDeletePartition(WHV_PARTITION_HANDLE Partition)
{
    /* Unpublish first so no new call can start; running VPs are cancelled and the calls in
     * progress drop their references before anything is freed. */
    struct whp_partition *p = handle_unpublish(Partition, kick_all);
    if (!p)
        return E_HANDLE;
    partition_free(p);
    return S_OK;
}
