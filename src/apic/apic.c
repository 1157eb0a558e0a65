/* Interrupt delivery into the in-kernel LAPICs: WHvRequestInterrupt, WHvGetInterruptTargetVpSet,
 * level-triggered EOI tracking (X64ApicEoi exits) and the LAPIC state APIs.
 *
 * Fixed, LowestPriority, NMI, INIT and SIPI become MSIs (KVM_SIGNAL_MSI), so KVM does the
 * arbitration; LocalInt1 follows the target's LVT LINT1; ExtInt and LocalInt0 go through
 * KVM_INTERRUPT, which KVM delivers only while LVT LINT0 is in ExtINT mode. KVM reports a guest
 * EOI to user space only for vectors of level-triggered MSI routes on GSIs below the reserved
 * IOAPIC pin count, so each level request installs such a route for (vector, VP) and the VP
 * remembers that it took a level interrupt of that vector: only those EOIs become exits. */
#include "apic/apic_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apic/apic_dest.h"
#include <openwhp/interrupt_types.h>

int apic_part_init(struct whp_partition *p)
{
    p->apic = calloc(1, sizeof(*p->apic));
    return p->apic ? owl_init(&p->apic->lock) : -ENOMEM;
}

void apic_part_fini(struct whp_partition *p)
{
    if (p->apic)
        owl_destroy(&p->apic->lock);
    free(p->apic);
    p->apic = NULL;
}

int apic_vp_init(struct whp_vp *vp)
{
    vp->apic = calloc(1, sizeof(*vp->apic));
    return vp->apic ? 0 : -ENOMEM;
}

void apic_vp_fini(struct whp_vp *vp)
{
    free(vp->apic);
    vp->apic = NULL;
}

void apic_vp_reset(struct whp_vp *vp)
{
    for (int i = 0; i < APIC_VECTOR_WORDS; i++)
        atomic_store(&vp->apic->level_eoi[i], 0);
    vp->apic->queued = false;
}

static bool has_lapic(const struct whp_partition *p)
{
    return p->cfg.apic_mode != WHvX64LocalApicEmulationModeNone;
}

/* ---- reading a running VP's LAPIC ---- */

/* The VP's destination state as the next guest instruction will see it: an ApicBase the VMM set
 * is applied by KVM (with the x2APIC ID and LDR) only at the VP's next run. *stale says KVM's
 * own view (its APIC map, which routes MSIs) still differs. */
static int read_id_state(struct whp_vp *vp, struct apic_id_state *s, bool *stale)
{
    struct kvm_lapic_state lapic;
    int r = vcpu_ioctl_held(vp, KVM_GET_LAPIC, &lapic);
    if (r < 0)
        return r;
    /* The APIC base lives in the sregs; KVM_GET_SREGS would also need the vCPU mutex. */
    struct kvm_sregs sregs;
    r = vcpu_ioctl_held(vp, KVM_GET_SREGS, &sregs);
    if (r < 0)
        return r;
    apic_id_state_from_page((const uint8_t *)lapic.regs, sregs.apic_base, s);
    uint64_t base = vp_apic_base(vp, sregs.apic_base);
    *stale = base != sregs.apic_base;
    if (*stale)
        apic_id_state_rebase(s, vp->index, base);
    return 0;
}

/* ---- level-triggered routes ---- */

static bool eoi_owed(struct whp_vp *vp, uint8_t vector)
{
    return atomic_load(&vp->apic->level_eoi[vector / 32]) & (1u << (vector % 32));
}

/* Makes KVM report the EOI of `vector` on the VP with this APIC ID. */
static int route_level(struct whp_partition *p, uint32_t apic_id, uint8_t vector)
{
    assert(APIC_LOCKED(p));
    struct apic_level_route *routes = p->apic->level_routes;
    int free_slot = -1, victim = -1;
    for (int i = 0; i < ROUTES_RESERVED_PINS; i++) {
        struct apic_level_route *lr = &routes[i];
        if (lr->used && lr->vector == vector && lr->apic_id == apic_id)
            return 0;
        if (!lr->used && free_slot < 0)
            free_slot = i;
        /* A route whose level EOI is no longer awaited can be reused. */
        if (lr->used && victim < 0) {
            struct whp_vp *vp = part_vp(p, lr->apic_id);
            if (!vp || !eoi_owed(vp, lr->vector))
                victim = i;
        }
    }
    int slot = free_slot >= 0 ? free_slot : victim;
    if (slot < 0)
        return -ENOSPC; /* every route awaits an EOI: refuse rather than lose one */
    struct msi_msg m = apic_msi_encode(APIC_DM_FIXED, false, true, apic_id, vector);
    int r = routes_set(&p->routes, p->vm_fd, (uint32_t)slot, &m);
    if (r == 0)
        routes[slot] = (struct apic_level_route){true, vector, apic_id};
    return r;
}

/* ---- WHvRequestInterrupt ---- */

static HRESULT hr_apic(int r)
{
    return r == -ENOSPC ? HRESULT_FROM_WIN32(ERROR_BUSY) : hr_from_errno(r);
}

/* VP index = APIC ID. */
static struct whp_vp *vp_by_apic_id(struct whp_partition *p, uint32_t id)
{
    return part_vp(p, id);
}

static int signal_msi(struct whp_partition *p, unsigned mode, bool logical, bool level,
                      uint32_t dest, uint8_t vector)
{
    struct msi_msg m = apic_msi_encode(mode, logical, level, dest, vector);
    struct kvm_msi msi = {.address_lo = m.address_lo, .address_hi = m.address_hi, .data = m.data};
    int r = kvm_ioctl(p->vm_fd, KVM_SIGNAL_MSI, &msi);
    return r < 0 ? r : 0; /* r is the number of APICs that took it; 0 is not an error */
}

int apic_signal_fixed(struct whp_partition *p, uint32_t apic_id, uint8_t vector)
{
    return signal_msi(p, APIC_DM_FIXED, false, false, apic_id, vector);
}

/* Does some VP run with an APIC base KVM has not applied yet? (Cheap: no ioctl.) */
static bool some_vp_rebased(struct whp_partition *p)
{
    for (uint32_t i = 0; i < p->cfg.processor_count; i++) {
        struct whp_vp *vp = vp_by_apic_id(p, i);
        if (vp && vp_apic_base(vp, VP_APIC_BASE_NONE) != VP_APIC_BASE_NONE)
            return true;
    }
    return false;
}

/* A logical destination while some VP's APIC base is pending: KVM's APIC map would match the old
 * mode, so the targets are resolved here and each gets a physical MSI (lowest priority: the
 * first). */
static int signal_resolved(struct whp_partition *p, unsigned mode, bool level, uint32_t dest,
                           uint8_t vector)
{
    int r = 0;
    for (uint32_t i = 0; r == 0 && i < p->cfg.processor_count; i++) {
        struct whp_vp *vp = vp_by_apic_id(p, i);
        struct apic_id_state s;
        bool stale;
        if (!vp || (r = read_id_state(vp, &s, &stale)) < 0 || !apic_dest_matches(&s, dest, true))
            continue;
        r = signal_msi(p, mode == APIC_DM_LOWPRI ? APIC_DM_FIXED : mode, false, level, vp->index, vector);
        if (mode == APIC_DM_LOWPRI)
            break;
    }
    return r;
}

/* Every MSI of a request goes through here. */
static int deliver(struct whp_partition *p, unsigned mode, bool logical, bool level, uint32_t dest,
                   uint8_t vector)
{
    if (logical && some_vp_rebased(p))
        return signal_resolved(p, mode, level, dest, vector);
    return signal_msi(p, mode, logical, level, dest, vector);
}

/* A level-triggered fixed interrupt: resolve its targets, arm their EOI reporting, send it. */
static int request_level(struct whp_partition *p, bool logical, uint32_t dest, uint8_t vector,
                         unsigned mode)
{
    APIC_LOCK(p);
    int r = 0;
    for (uint32_t i = 0; r == 0 && i < p->cfg.processor_count; i++) {
        struct whp_vp *vp = vp_by_apic_id(p, i);
        struct apic_id_state s;
        bool stale;
        if (!vp || (r = read_id_state(vp, &s, &stale)) < 0 || !apic_dest_matches(&s, dest, logical))
            continue;
        r = route_level(p, vp->index, vector);
        if (r == 0)
            atomic_fetch_or(&vp->apic->level_eoi[vector / 32], 1u << (vector % 32));
    }
    if (r == 0)
        r = deliver(p, mode, logical, true, dest, vector);
    APIC_UNLOCK(p);
    return r;
}

/* LocalInt1 follows the target's LVT LINT1 entry, as the pin would. */
static int request_lint1(struct whp_vp *vp)
{
    struct kvm_lapic_state lapic;
    int r = vcpu_ioctl_held(vp, KVM_GET_LAPIC, &lapic);
    if (r < 0)
        return r;
    uint32_t lvt = lapic_reg(&lapic, APIC_OFFSET_LVT_LINT1);
    if (lvt & APIC_LVT_MASKED)
        return 0; /* masked: the pin is ignored */
    switch ((lvt >> APIC_LVT_DM_SHIFT) & APIC_LVT_DM_MASK) {
    case APIC_DM_NMI:
        return vcpu_ioctl_held(vp, KVM_NMI, NULL);
    case APIC_DM_FIXED:
        return signal_msi(vp->part, APIC_DM_FIXED, false, false, vp->index,
                          (uint8_t)(lvt & APIC_LVT_VECTOR_MASK));
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
        ic.Vector >= APIC_VECTORS)
        return E_INVALIDARG;
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    int r = 0;
    if (!atomic_load(&p->setup)) {
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    } else if (!has_lapic(p)) {
        hr = ERROR_HV_OPERATION_DENIED; /* no LAPIC: inject with PendingInterruption */
    } else {
        uint8_t vector = (uint8_t)ic.Vector;
        switch ((uint32_t)ic.Type) {
        case WHvX64InterruptTypeFixed:
        case WHvX64InterruptTypeLowestPriority:
            if (vector < APIC_FIRST_USABLE_VECTOR) {
                hr = E_INVALIDARG;
                break;
            }
            r = level ? request_level(p, logical, ic.Destination, vector, ic.Type)
                      : deliver(p, ic.Type, logical, false, ic.Destination, vector);
            break;
        case WHvX64InterruptTypeNmi:
        case WHvX64InterruptTypeInit:
        case WHvX64InterruptTypeSipi:
            r = deliver(p, ic.Type, logical, false, ic.Destination, vector);
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
                r = vcpu_ioctl_held(vp, KVM_INTERRUPT, &irq);
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

/* Bit v of a 256-bit LAPIC register (ISR, TMR, IRR). */
static bool apic_bit(const struct kvm_lapic_state *l, unsigned base, unsigned v)
{
    return (lapic_reg(l, base + (v / 32) * APIC_REG_STRIDE) >> (v % 32)) & 1;
}

/* True (and forgets it) when the VP took a level-triggered interrupt of this vector. */
static bool apic_take_level_eoi(struct whp_vp *vp, uint8_t vector)
{
    uint32_t bit = 1u << (vector % 32);
    return atomic_fetch_and(&vp->apic->level_eoi[vector / 32], ~bit) & bit;
}

/* Has the guest EOIed the level delivery of v? Not while v is in service, nor while a level
 * delivery of v still waits in IRR (TMR set); an edge delivery of v accepted after the level
 * one's EOI clears TMR and does not count. */
static bool level_eoi_done(const struct kvm_lapic_state *l, unsigned v)
{
    if (apic_bit(l, APIC_OFFSET_ISR, v))
        return false;
    return !(apic_bit(l, APIC_OFFSET_IRR, v) && apic_bit(l, APIC_OFFSET_TMR, v));
}

bool apic_eoi_exit(struct whp_vp *vp, uint8_t vector)
{
    struct kvm_lapic_state l;
    if (!eoi_owed(vp, vector))
        return false;
    /* Reported early (still in service): apic_order_eoi reports it after the guest's EOI. */
    if (kvm_ioctl(vp->fd, KVM_GET_LAPIC, &l) == 0 && !level_eoi_done(&l, vector))
        return false;
    return apic_take_level_eoi(vp, vector);
}

void apic_order_eoi(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    if (ctx->ExitReason == WHvRunVpExitReasonX64ApicEoi ||
        ctx->ExitReason == WHvRunVpExitReasonCanceled)
        return;
    struct apic_vp *a = vp->apic;
    bool owed = false;
    for (int i = 0; i < APIC_VECTOR_WORDS; i++)
        owed |= atomic_load(&a->level_eoi[i]) != 0;
    struct kvm_lapic_state l;
    if (!owed || kvm_ioctl(vp->fd, KVM_GET_LAPIC, &l) < 0)
        return;
    for (unsigned v = APIC_FIRST_USABLE_VECTOR; v < APIC_VECTORS; v++) {
        if (!eoi_owed(vp, (uint8_t)v) || !level_eoi_done(&l, v) || !apic_take_level_eoi(vp, (uint8_t)v))
            continue;
        /* memcpy: the caller's buffer may be less aligned than the type says (Rust crates). */
        memcpy(&a->queued_exit, ctx, sizeof(a->queued_exit));
        a->queued = true;
        memset(ctx, 0, sizeof(*ctx));
        exit_fill_context(vp, ctx);
        ctx->ExitReason = WHvRunVpExitReasonX64ApicEoi;
        ctx->ApicEoi.InterruptVector = v;
        return;
    }
}

bool apic_take_queued(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    struct apic_vp *a = vp->apic;
    if (!a->queued)
        return false;
    memcpy(ctx, &a->queued_exit, sizeof(a->queued_exit));
    a->queued = false;
    return true;
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
    else if (!has_lapic(p))
        hr = ERROR_HV_OPERATION_DENIED;
    else if (VpCount < p->cfg.processor_count)
        hr = E_INVALIDARG; /* WHP has no size query: the array must hold every VP */
    UINT32 n = 0;
    for (uint32_t i = 0; SUCCEEDED(hr) && i < p->cfg.processor_count; i++) {
        struct whp_vp *vp = vp_by_apic_id(p, i);
        struct apic_id_state s;
        bool stale;
        if (!vp)
            continue;
        int r = read_id_state(vp, &s, &stale);
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

int apic_state_get(struct whp_vp *vp, void *page)
{
    if (!has_lapic(vp->part))
        return -EPERM;
    struct kvm_lapic_state lapic;
    int r = kvm_ioctl(vp->fd, KVM_GET_LAPIC, &lapic);
    if (r == 0) {
        vp_lapic_read(vp, &lapic);
        memcpy(page, lapic.regs, APIC_PAGE_USED);
    }
    return r;
}

int apic_state_set(struct whp_vp *vp, const void *page)
{
    if (!has_lapic(vp->part))
        return -EPERM;
    struct kvm_lapic_state lapic;
    memcpy(lapic.regs, page, APIC_PAGE_USED);
    int r = kvm_ioctl(vp->fd, KVM_SET_LAPIC, &lapic);
    if (r == 0)
        vp_lapic_written(vp, &lapic);
    return r;
}
