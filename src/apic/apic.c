/* Interrupt delivery into the in-kernel LAPICs: WHvRequestInterrupt, WHvGetInterruptTargetVpSet,
 * level-triggered EOI tracking (X64ApicEoi exits) and the LAPIC state APIs.
 *
 * Fixed, LowestPriority, NMI, INIT and SIPI become MSIs (KVM_SIGNAL_MSI), so KVM does the
 * arbitration; LocalInt1 follows the target's LVT LINT1; ExtInt and LocalInt0 go through
 * KVM_INTERRUPT, which KVM delivers only while LVT LINT0 is in ExtINT mode. KVM reports a guest
 * EOI to user space only for vectors of level-triggered MSI routes on GSIs below the reserved
 * IOAPIC pin count, so each level request installs such a route for (vector, VP) and the VP
 * remembers that it took a level interrupt of that vector: only those EOIs become exits. */
#include "apic/apic.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "apic/apic_dest.h"
#include "events/routes.h"
#include "synic/synic.h"
#include <openwhp/interrupt_types.h>

#define APIC_PAGE 1024
#define STATE2_SIZE 4096

/* ---- reading a running VP's LAPIC ---- */

/* KVM_GET_LAPIC and friends take the vCPU mutex, which KVM_RUN holds: hold the VP outside the
 * guest (the run loop waits while `hold` is non-zero), kick it out, then do the ioctl. */
int apic_vcpu_ioctl(struct whp_vp *vp, unsigned long req, void *arg)
{
    atomic_fetch_add(&vp->hold, 1);
    vp_signal(vp);
    int r = kvm_ioctl(vp->fd, req, arg);
    atomic_fetch_sub(&vp->hold, 1);
    return r;
}

static int read_id_state(struct whp_vp *vp, struct apic_id_state *s)
{
    struct kvm_lapic_state lapic;
    int r = apic_vcpu_ioctl(vp, KVM_GET_LAPIC, &lapic);
    if (r < 0)
        return r;
    /* The APIC base lives in the sregs; KVM_GET_SREGS would also need the vCPU mutex. */
    struct kvm_sregs sregs;
    r = apic_vcpu_ioctl(vp, KVM_GET_SREGS, &sregs);
    if (r < 0)
        return r;
    apic_id_state_from_page((const uint8_t *)lapic.regs, sregs.apic_base, s);
    return 0;
}

/* ---- level-triggered routes ---- */

/* Makes KVM report the EOI of `vector` on the VP with this APIC ID. Called with routes.lock. */
static int route_level(struct whp_partition *p, uint32_t apic_id, uint8_t vector)
{
    int free_slot = -1, victim = -1;
    for (int i = 0; i < APIC_RESERVED_PINS; i++) {
        struct apic_level_route *lr = &p->level_routes[i];
        if (lr->used && lr->vector == vector && lr->apic_id == apic_id)
            return 0;
        if (!lr->used && free_slot < 0)
            free_slot = i;
        /* A route whose level EOI is no longer awaited can be reused. */
        if (lr->used && victim < 0 && lr->apic_id < p->processor_count) {
            struct whp_vp *vp = p->vps[lr->apic_id];
            if (!vp || !(atomic_load(&vp->level_eoi[lr->vector / 32]) & (1u << (lr->vector % 32))))
                victim = i;
        }
    }
    int slot = free_slot >= 0 ? free_slot : victim;
    if (slot < 0)
        return -ENOSPC; /* every route awaits an EOI: refuse rather than lose one */
    struct apic_msi m = apic_msi_encode(0, false, true, apic_id, vector);
    int r = routes_set(p, (uint32_t)slot, &m);
    if (r == 0)
        p->level_routes[slot] = (struct apic_level_route){true, vector, apic_id};
    return r;
}

/* ---- WHvRequestInterrupt ---- */

static HRESULT hr_apic(int r)
{
    return r == -ENOSPC ? HRESULT_FROM_WIN32(ERROR_BUSY) : hr_from_errno(r);
}

static struct whp_vp *vp_by_apic_id(struct whp_partition *p, uint32_t id)
{
    struct whp_vp *vp = id < p->processor_count ? p->vps[id] : NULL;
    return vp && atomic_load(&vp->exists) ? vp : NULL;
}

static int signal_msi(struct whp_partition *p, unsigned mode, bool logical, bool level,
                      uint32_t dest, uint8_t vector)
{
    struct apic_msi m = apic_msi_encode(mode, logical, level, dest, vector);
    struct kvm_msi msi = {.address_lo = m.address_lo, .address_hi = m.address_hi, .data = m.data};
    int r = kvm_ioctl(p->vm_fd, KVM_SIGNAL_MSI, &msi);
    return r < 0 ? r : 0; /* r is the number of APICs that took it; 0 is not an error */
}

int apic_signal_fixed(struct whp_partition *p, uint32_t apic_id, uint8_t vector)
{
    return signal_msi(p, 0, false, false, apic_id, vector);
}

/* A level-triggered fixed interrupt: resolve its targets, arm their EOI reporting, send it. */
static int request_level(struct whp_partition *p, bool logical, uint32_t dest, uint8_t vector,
                         unsigned mode)
{
    pthread_mutex_lock(&p->routes.lock);
    int r = 0;
    for (uint32_t i = 0; r == 0 && i < p->processor_count; i++) {
        struct whp_vp *vp = vp_by_apic_id(p, i);
        struct apic_id_state s;
        if (!vp || (r = read_id_state(vp, &s)) < 0 || !apic_dest_matches(&s, dest, logical))
            continue;
        r = route_level(p, s.id, vector);
        if (r == 0)
            atomic_fetch_or(&vp->level_eoi[vector / 32], 1u << (vector % 32));
    }
    if (r == 0)
        r = signal_msi(p, mode, logical, true, dest, vector);
    pthread_mutex_unlock(&p->routes.lock);
    return r;
}

/* LocalInt1 follows the target's LVT LINT1 entry, as the pin would. */
static int request_lint1(struct whp_vp *vp)
{
    struct kvm_lapic_state lapic;
    int r = apic_vcpu_ioctl(vp, KVM_GET_LAPIC, &lapic);
    if (r < 0)
        return r;
    uint32_t lvt;
    memcpy(&lvt, lapic.regs + 0x360, 4);
    if (lvt & (1u << 16))
        return 0; /* masked: the pin is ignored */
    switch ((lvt >> 8) & 7) {
    case 4: /* NMI */
        return apic_vcpu_ioctl(vp, KVM_NMI, NULL);
    case 0: /* fixed */
        return signal_msi(vp->part, 0, false, false, vp->index, (uint8_t)lvt);
    default:
        return -EINVAL;
    }
}

HRESULT WINAPI WHvRequestInterrupt(WHV_PARTITION_HANDLE Partition,
                                   const WHV_INTERRUPT_CONTROL *Interrupt,
                                   UINT32 InterruptControlSize)
{
    if (!Interrupt || InterruptControlSize < sizeof(WHV_INTERRUPT_CONTROL))
        return E_INVALIDARG;
    WHV_INTERRUPT_CONTROL ic = *Interrupt;
    bool logical = ic.DestinationMode == WHvX64InterruptDestinationModeLogical;
    bool level = ic.TriggerMode == WHvX64InterruptTriggerModeLevel;
    if (ic.DestinationMode > 1 || ic.TriggerMode > 1 || ic.TargetVtl != 0 || ic.Reserved != 0 ||
        ic.Vector > 255)
        return E_INVALIDARG;
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    int r = 0;
    if (!atomic_load(&p->setup)) {
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    } else if (p->apic_mode == WHvX64LocalApicEmulationModeNone) {
        hr = ERROR_HV_OPERATION_DENIED; /* no LAPIC: inject with PendingInterruption */
    } else {
        uint8_t vector = (uint8_t)ic.Vector;
        switch ((uint32_t)ic.Type) {
        case WHvX64InterruptTypeFixed:
        case WHvX64InterruptTypeLowestPriority:
            if (vector < 16) {
                hr = E_INVALIDARG;
                break;
            }
            r = level ? request_level(p, logical, ic.Destination, vector, ic.Type)
                      : signal_msi(p, ic.Type, logical, false, ic.Destination, vector);
            break;
        case WHvX64InterruptTypeNmi:
        case WHvX64InterruptTypeInit:
        case WHvX64InterruptTypeSipi:
            r = signal_msi(p, ic.Type, logical, false, ic.Destination, vector);
            break;
        case WHvX64InterruptTypeLocalInt1:
        case OPENWHP_X64_INTERRUPT_TYPE_EXT_INT:
        case OPENWHP_X64_INTERRUPT_TYPE_LOCAL_INT0: {
            /* Pins of one LAPIC: the destination is that VP's APIC ID. */
            struct whp_vp *vp = logical ? NULL : vp_by_apic_id(p, ic.Destination);
            if (!vp) {
                hr = E_INVALIDARG;
            } else if (ic.Type == WHvX64InterruptTypeLocalInt1) {
                r = request_lint1(vp);
            } else {
                struct kvm_interrupt irq = {.irq = vector};
                r = apic_vcpu_ioctl(vp, KVM_INTERRUPT, &irq);
            }
            break;
        }
        case OPENWHP_X64_INTERRUPT_TYPE_SMI:
        case OPENWHP_X64_INTERRUPT_TYPE_REMOTE_READ:
            hr = WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG; /* KVM here has no SMM or remote read */
            break;
        default:
            hr = E_INVALIDARG;
            break;
        }
    }
    part_put(p);
    return FAILED(hr) ? hr : hr_apic(r);
}

static bool apic_bit(const struct kvm_lapic_state *l, unsigned base, unsigned v)
{
    uint32_t w;
    memcpy(&w, l->regs + base + (v / 32) * 16, 4);
    return (w >> (v % 32)) & 1;
}

void apic_order_eoi(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    if (ctx->ExitReason == WHvRunVpExitReasonX64ApicEoi ||
        ctx->ExitReason == WHvRunVpExitReasonCanceled)
        return;
    bool owed = false;
    for (int i = 0; i < 8; i++)
        owed |= atomic_load(&vp->level_eoi[i]) != 0;
    struct kvm_lapic_state l;
    if (!owed || kvm_ioctl(vp->fd, KVM_GET_LAPIC, &l) < 0)
        return;
    for (unsigned v = 16; v < 256; v++) {
        if (!(atomic_load(&vp->level_eoi[v / 32]) & (1u << (v % 32))) || apic_bit(&l, 0x100, v) ||
            apic_bit(&l, 0x200, v) || !apic_take_level_eoi(vp, (uint8_t)v))
            continue;
        vp->queued_exit = *ctx;
        vp->queued = true;
        memset(ctx, 0, sizeof(*ctx));
        exit_fill_context(vp, ctx);
        ctx->ExitReason = WHvRunVpExitReasonX64ApicEoi;
        ctx->ApicEoi.InterruptVector = v;
        return;
    }
}

bool apic_take_level_eoi(struct whp_vp *vp, uint8_t vector)
{
    uint32_t bit = 1u << (vector % 32);
    return atomic_fetch_and(&vp->level_eoi[vector / 32], ~bit) & bit;
}

/* ---- WHvGetInterruptTargetVpSet ---- */

HRESULT WINAPI WHvGetInterruptTargetVpSet(WHV_PARTITION_HANDLE Partition, UINT64 Destination,
                                          WHV_INTERRUPT_DESTINATION_MODE DestinationMode,
                                          UINT32 *TargetVps, UINT32 VpCount, UINT32 *TargetVpCount)
{
    if (!TargetVps || !TargetVpCount || DestinationMode > WHvX64InterruptDestinationModeLogical)
        return E_INVALIDARG;
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    if (!atomic_load(&p->setup))
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    else if (p->apic_mode == WHvX64LocalApicEmulationModeNone)
        hr = ERROR_HV_OPERATION_DENIED;
    else if (VpCount < p->processor_count)
        hr = E_INVALIDARG; /* WHP has no size query: the array must hold every VP */
    UINT32 n = 0;
    for (uint32_t i = 0; SUCCEEDED(hr) && i < p->processor_count; i++) {
        struct whp_vp *vp = vp_by_apic_id(p, i);
        struct apic_id_state s;
        if (!vp)
            continue;
        int r = read_id_state(vp, &s);
        if (r < 0)
            hr = hr_from_errno(r);
        else if (apic_dest_matches(&s, Destination, DestinationMode == WHvX64InterruptDestinationModeLogical))
            TargetVps[n++] = i;
    }
    *TargetVpCount = SUCCEEDED(hr) ? n : 0;
    part_put(p);
    return hr;
}

/* ---- LAPIC state ---- */

static HRESULT state_get(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex, void *buf, UINT32 size,
                         UINT32 *written)
{
    HRESULT hr = hr_output(buf, size, written, STATE2_SIZE);
    if (FAILED(hr))
        return hr;
    struct whp_partition *p;
    struct whp_vp *vp;
    hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    struct kvm_lapic_state lapic;
    int r = p->apic_mode == WHvX64LocalApicEmulationModeNone ? -EPERM
                                                             : kvm_ioctl(vp->fd, KVM_GET_LAPIC, &lapic);
    if (r == 0) {
        vp_lapic_read(vp, &lapic);
        memset(buf, 0, STATE2_SIZE);
        memcpy(buf, lapic.regs, APIC_PAGE);
    }
    vp_release(p, vp);
    return r == -EPERM ? ERROR_HV_OPERATION_DENIED : hr_from_errno(r);
}

static HRESULT state_set(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex, const void *buf,
                         UINT32 size)
{
    if (!buf || size < STATE2_SIZE)
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    struct kvm_lapic_state lapic;
    memcpy(lapic.regs, buf, APIC_PAGE);
    int r = p->apic_mode == WHvX64LocalApicEmulationModeNone ? -EPERM
                                                             : kvm_ioctl(vp->fd, KVM_SET_LAPIC, &lapic);
    if (r == 0)
        vp_lapic_written(vp, &lapic);
    vp_release(p, vp);
    return r == -EPERM ? ERROR_HV_OPERATION_DENIED : hr_from_errno(r);
}

HRESULT WINAPI WHvGetVirtualProcessorInterruptControllerState2(WHV_PARTITION_HANDLE Partition,
                                                               UINT32 VpIndex, VOID *State,
                                                               UINT32 StateSize, UINT32 *WrittenSize)
{
    return state_get(Partition, VpIndex, State, StateSize, WrittenSize);
}

HRESULT WINAPI WHvSetVirtualProcessorInterruptControllerState2(WHV_PARTITION_HANDLE Partition,
                                                               UINT32 VpIndex, const VOID *State,
                                                               UINT32 StateSize)
{
    return state_set(Partition, VpIndex, State, StateSize);
}

static HRESULT synic_state(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                           WHV_VIRTUAL_PROCESSOR_STATE_TYPE type, void *buf, UINT32 size,
                           UINT32 *written, bool set)
{
    HRESULT hr = set ? (buf && size >= 4096 ? S_OK : E_INVALIDARG)
                     : hr_output(buf, size, written, 4096);
    if (FAILED(hr))
        return hr;
    struct whp_partition *p;
    struct whp_vp *vp;
    hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    hr = synic_page_state(vp, type == WHvVirtualProcessorStateTypeSynicEventFlagPage, buf, set);
    vp_release(p, vp);
    return hr;
}

HRESULT WINAPI WHvGetVirtualProcessorState(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                           WHV_VIRTUAL_PROCESSOR_STATE_TYPE StateType, VOID *Buffer,
                                           UINT32 BufferSizeInBytes, UINT32 *BytesWritten)
{
    switch (StateType) {
    case WHvVirtualProcessorStateTypeInterruptControllerState2:
        return state_get(Partition, VpIndex, Buffer, BufferSizeInBytes, BytesWritten);
    case WHvVirtualProcessorStateTypeSynicMessagePage:
    case WHvVirtualProcessorStateTypeSynicEventFlagPage:
        return synic_state(Partition, VpIndex, StateType, Buffer, BufferSizeInBytes, BytesWritten,
                           false);
    case WHvVirtualProcessorStateTypeSynicTimerState:
    case WHvVirtualProcessorStateTypeXsaveState:
        return E_NOTIMPL; /* no synthetic timers; XSAVE state is not offered yet */
    default:
        return E_INVALIDARG;
    }
}

HRESULT WINAPI WHvSetVirtualProcessorState(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                           WHV_VIRTUAL_PROCESSOR_STATE_TYPE StateType,
                                           const VOID *Buffer, UINT32 BufferSizeInBytes)
{
    switch (StateType) {
    case WHvVirtualProcessorStateTypeInterruptControllerState2:
        return state_set(Partition, VpIndex, Buffer, BufferSizeInBytes);
    case WHvVirtualProcessorStateTypeSynicMessagePage:
    case WHvVirtualProcessorStateTypeSynicEventFlagPage:
        return synic_state(Partition, VpIndex, StateType, (void *)Buffer, BufferSizeInBytes, NULL,
                           true);
    case WHvVirtualProcessorStateTypeSynicTimerState:
    case WHvVirtualProcessorStateTypeXsaveState:
        return E_NOTIMPL;
    default:
        return E_INVALIDARG;
    }
}
