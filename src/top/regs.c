/* WHvGet/SetVirtualProcessorRegisters: each WHP register name mapped to where KVM keeps it.
 * GPRs, segments, control registers and events live in the kvm_run sync area (the register
 * cache, written back by the next KVM_RUN); debug registers, XCR0, FP/SIMD state, MSRs and the
 * activity state are read and written with their own ioctls, once per call and group. */
#include "obj/obj.h"

#include "synic/synic.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define MAX_REGS 1024 /* names per call */
#define MSR_MTRR_PHYS_BASE0 0x200 /* then PhysMask0 at 0x201, and so on in pairs */
/* The APIC register names follow the x2APIC MSRs: name - 0x3000 = MSR - 0x800 = offset >> 4
 * (WHvX64RegisterApicId = 0x3002 is offset 0x20). */
#define X2APIC_REG_NAME_BASE 0x3000
#define X2APIC_NAME_SHIFT 4
#define TSC_WRITE_SLACK_S 10        /* a TSC write is "dropped" when the TSC stayed this far off */
#define TSC_WRITE_SLACK_UNKNOWN (1ull << 36)

enum reg_class {
    RC_NONE, RC_GPR, RC_SEG, RC_TABLE, RC_CR, RC_DR, RC_XCR0, RC_XMM, RC_FPMMX, RC_FPCS, RC_XMMCS,
    RC_MSR, RC_EFER, RC_APICBASE, RC_INITIAL_APIC_ID, RC_PENDING_INTERRUPTION, RC_INTERRUPT_STATE,
    RC_PENDING_EVENT, RC_DELIVERABILITY, RC_ACTIVITY, RC_APIC, RC_SYNIC,
};

struct reg_info {
    enum reg_class cls;
    uint32_t arg; /* GPR slot, segment/table/cr/dr number, xmm index, or MSR index */
};

static const struct { WHV_REGISTER_NAME name; uint32_t msr; } msr_names[] = {
    {WHvX64RegisterTsc, MSR_IA32_TSC}, {WHvX64RegisterKernelGsBase, 0xc0000102},
    {WHvX64RegisterPat, 0x277}, {WHvX64RegisterSysenterCs, 0x174},
    {WHvX64RegisterSysenterEip, 0x176}, {WHvX64RegisterSysenterEsp, 0x175},
    {WHvX64RegisterStar, 0xc0000081}, {WHvX64RegisterLstar, 0xc0000082},
    {WHvX64RegisterCstar, 0xc0000083}, {WHvX64RegisterSfmask, 0xc0000084},
    {WHvX64RegisterMsrMtrrCap, 0xfe}, {WHvX64RegisterMsrMtrrDefType, 0x2ff},
    {WHvX64RegisterMsrMtrrFix64k00000, 0x250}, {WHvX64RegisterMsrMtrrFix16k80000, 0x258},
    {WHvX64RegisterMsrMtrrFix16kA0000, 0x259}, {WHvX64RegisterMsrMtrrFix4kC0000, 0x268},
    {WHvX64RegisterMsrMtrrFix4kC8000, 0x269}, {WHvX64RegisterMsrMtrrFix4kD0000, 0x26a},
    {WHvX64RegisterMsrMtrrFix4kD8000, 0x26b}, {WHvX64RegisterMsrMtrrFix4kE0000, 0x26c},
    {WHvX64RegisterMsrMtrrFix4kE8000, 0x26d}, {WHvX64RegisterMsrMtrrFix4kF0000, 0x26e},
    {WHvX64RegisterMsrMtrrFix4kF8000, 0x26f}, {WHvX64RegisterTscAux, 0xc0000103},
    {WHvX64RegisterBndcfgs, 0xd90}, {WHvX64RegisterMCount, 0xe7}, {WHvX64RegisterACount, 0xe8},
    {WHvX64RegisterSpecCtrl, 0x48}, {WHvX64RegisterPredCmd, 0x49}, {WHvX64RegisterTsxCtrl, 0x122},
    {WHvX64RegisterXss, 0xda0}, {WHvX64RegisterUCet, 0x6a0}, {WHvX64RegisterSCet, 0x6a2},
    {WHvX64RegisterSsp, 0x7a0}, {WHvX64RegisterPl0Ssp, 0x6a4}, {WHvX64RegisterPl1Ssp, 0x6a5},
    {WHvX64RegisterPl2Ssp, 0x6a6}, {WHvX64RegisterPl3Ssp, 0x6a7},
    {WHvX64RegisterInterruptSspTableAddr, 0x6a8}, {WHvX64RegisterTscDeadline, 0x6e0},
    {WHvX64RegisterTscAdjust, 0x3b}, {WHvX64RegisterUmwaitControl, 0xe1},
    {WHvX64RegisterXfd, 0x1c4}, {WHvX64RegisterXfdErr, 0x1c5},
    {WHvX64RegisterMsrIa32MiscEnable, MSR_IA32_MISC_ENABLE},
    {WHvX64RegisterIa32FeatureControl, MSR_IA32_FEATURE_CONTROL},
};

static bool classify(WHV_REGISTER_NAME n, struct reg_info *ri)
{
    uint32_t v = (uint32_t)n;
    *ri = (struct reg_info){RC_NONE, 0};
    if (v <= WHvX64RegisterRflags)
        *ri = (struct reg_info){RC_GPR, v};
    else if (v >= WHvX64RegisterEs && v <= WHvX64RegisterTr)
        *ri = (struct reg_info){RC_SEG, v - WHvX64RegisterEs};
    else if (v == WHvX64RegisterIdtr || v == WHvX64RegisterGdtr)
        *ri = (struct reg_info){RC_TABLE, v};
    else if (v >= WHvX64RegisterCr0 && v <= WHvX64RegisterCr8)
        *ri = (struct reg_info){RC_CR, v};
    else if (v >= WHvX64RegisterDr0 && v <= WHvX64RegisterDr7)
        *ri = (struct reg_info){RC_DR, v - WHvX64RegisterDr0};
    else if (v == WHvX64RegisterXCr0)
        *ri = (struct reg_info){RC_XCR0, 0};
    else if (v >= WHvX64RegisterXmm0 && v <= WHvX64RegisterXmm15)
        *ri = (struct reg_info){RC_XMM, v - WHvX64RegisterXmm0};
    else if (v >= WHvX64RegisterFpMmx0 && v <= WHvX64RegisterFpMmx7)
        *ri = (struct reg_info){RC_FPMMX, v - WHvX64RegisterFpMmx0};
    else if (v == WHvX64RegisterFpControlStatus)
        *ri = (struct reg_info){RC_FPCS, 0};
    else if (v == WHvX64RegisterXmmControlStatus)
        *ri = (struct reg_info){RC_XMMCS, 0};
    else if (v == WHvX64RegisterEfer)
        *ri = (struct reg_info){RC_EFER, 0};
    else if (v == WHvX64RegisterApicBase)
        *ri = (struct reg_info){RC_APICBASE, 0};
    else if (v == WHvX64RegisterInitialApicId)
        *ri = (struct reg_info){RC_INITIAL_APIC_ID, 0};
    else if (v >= WHvX64RegisterMsrMtrrPhysBase0 && v <= WHvX64RegisterMsrMtrrPhysBaseF)
        *ri = (struct reg_info){RC_MSR, MSR_MTRR_PHYS_BASE0 + 2 * (v - WHvX64RegisterMsrMtrrPhysBase0)};
    else if (v >= WHvX64RegisterMsrMtrrPhysMask0 && v <= WHvX64RegisterMsrMtrrPhysMaskF)
        *ri = (struct reg_info){RC_MSR, MSR_MTRR_PHYS_BASE0 + 1 + 2 * (v - WHvX64RegisterMsrMtrrPhysMask0)};
    else if (v == WHvRegisterPendingInterruption)
        *ri = (struct reg_info){RC_PENDING_INTERRUPTION, 0};
    else if (v == WHvRegisterInterruptState)
        *ri = (struct reg_info){RC_INTERRUPT_STATE, 0};
    else if (v == WHvRegisterPendingEvent)
        *ri = (struct reg_info){RC_PENDING_EVENT, 0};
    else if (v == WHvX64RegisterDeliverabilityNotifications)
        *ri = (struct reg_info){RC_DELIVERABILITY, 0};
    else if (v == WHvRegisterInternalActivityState)
        *ri = (struct reg_info){RC_ACTIVITY, 0};
    else if ((v >= WHvRegisterSint0 && v <= WHvRegisterEom) || v == WHvX64RegisterHypercall ||
             v == WHvRegisterGuestOsId)
        *ri = (struct reg_info){RC_SYNIC, v};
    else if (v >= WHvX64RegisterApicId && v <= WHvX64RegisterApicSelfIpi && v != WHvX64RegisterApicEoi &&
             v != WHvX64RegisterApicSelfIpi)
        *ri = (struct reg_info){RC_APIC, (v - X2APIC_REG_NAME_BASE) << X2APIC_NAME_SHIFT};
    else
        for (size_t i = 0; i < sizeof(msr_names) / sizeof(msr_names[0]); i++)
            if (msr_names[i].name == n)
                *ri = (struct reg_info){RC_MSR, msr_names[i].msr};
    return ri->cls != RC_NONE;
}

/* kvm_regs order differs from WHP's (rax rcx rdx rbx ... in WHP; rax rbx rcx rdx ... in KVM). */
static uint64_t *gpr(struct kvm_regs *r, uint32_t whp)
{
    static const uint8_t off[18] = {
        offsetof(struct kvm_regs, rax) / 8, offsetof(struct kvm_regs, rcx) / 8,
        offsetof(struct kvm_regs, rdx) / 8, offsetof(struct kvm_regs, rbx) / 8,
        offsetof(struct kvm_regs, rsp) / 8, offsetof(struct kvm_regs, rbp) / 8,
        offsetof(struct kvm_regs, rsi) / 8, offsetof(struct kvm_regs, rdi) / 8,
        offsetof(struct kvm_regs, r8) / 8,  offsetof(struct kvm_regs, r9) / 8,
        offsetof(struct kvm_regs, r10) / 8, offsetof(struct kvm_regs, r11) / 8,
        offsetof(struct kvm_regs, r12) / 8, offsetof(struct kvm_regs, r13) / 8,
        offsetof(struct kvm_regs, r14) / 8, offsetof(struct kvm_regs, r15) / 8,
        offsetof(struct kvm_regs, rip) / 8, offsetof(struct kvm_regs, rflags) / 8,
    };
    return (uint64_t *)r + off[whp];
}

static struct kvm_segment *seg(struct kvm_sregs *s, uint32_t i)
{
    struct kvm_segment *order[] = {&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs, &s->ldt, &s->tr};
    return order[i];
}

static __u64 *cr(struct kvm_sregs *s, uint32_t name)
{
    switch (name) {
    case WHvX64RegisterCr0: return &s->cr0;
    case WHvX64RegisterCr2: return &s->cr2;
    case WHvX64RegisterCr3: return &s->cr3;
    case WHvX64RegisterCr4: return &s->cr4;
    default: return &s->cr8;
    }
}

/* Per-call copies of the ioctl-backed groups, fetched on first use. */
struct groups {
    struct whp_vp *vp;
    bool have_dr, have_xcr, have_xsave, have_mp, have_lapic;
    bool dirty_dr, dirty_xcr, dirty_xsave, dirty_mp, dirty_lapic;
    struct kvm_lapic_state lapic;
    struct kvm_debugregs dr;
    struct kvm_xcrs xcr;
    struct kvm_mp_state mp;
    struct kvm_xsave xsave; /* the legacy FXSAVE area is all we touch; last: it may grow */
};

static int need(struct groups *g, enum reg_class c)
{
    int r = 0;
    if (c == RC_DR && !g->have_dr && (r = kvm_ioctl(g->vp->fd, KVM_GET_DEBUGREGS, &g->dr)) == 0)
        g->have_dr = true;
    if (c == RC_XCR0 && !g->have_xcr && (r = kvm_ioctl(g->vp->fd, KVM_GET_XCRS, &g->xcr)) == 0)
        g->have_xcr = true;
    if ((c == RC_XMM || c == RC_FPMMX || c == RC_FPCS || c == RC_XMMCS) && !g->have_xsave &&
        (r = kvm_ioctl(g->vp->fd, KVM_GET_XSAVE, &g->xsave)) == 0)
        g->have_xsave = true;
    if (c == RC_ACTIVITY && !g->have_mp && (r = kvm_ioctl(g->vp->fd, KVM_GET_MP_STATE, &g->mp)) == 0)
        g->have_mp = true;
    if (c == RC_APIC && g->vp->part->cfg.apic_mode == WHvX64LocalApicEmulationModeNone)
        return -ENOENT; /* no LAPIC: these names do not exist */
    if (c == RC_APIC && !g->have_lapic && (r = kvm_ioctl(g->vp->fd, KVM_GET_LAPIC, &g->lapic)) == 0) {
        vp_lapic_read(g->vp, &g->lapic);
        g->have_lapic = true;
    }
    return r;
}

static int flush(struct groups *g)
{
    int r = 0;
    if (g->dirty_dr)
        r = kvm_ioctl(g->vp->fd, KVM_SET_DEBUGREGS, &g->dr);
    if (r == 0 && g->dirty_xcr)
        r = kvm_ioctl(g->vp->fd, KVM_SET_XCRS, &g->xcr);
    if (r == 0 && g->dirty_xsave)
        r = kvm_ioctl(g->vp->fd, KVM_SET_XSAVE, &g->xsave);
    if (r == 0 && g->dirty_mp)
        r = kvm_ioctl(g->vp->fd, KVM_SET_MP_STATE, &g->mp);
    if (r == 0 && g->dirty_lapic && (r = kvm_ioctl(g->vp->fd, KVM_SET_LAPIC, &g->lapic)) == 0)
        vp_lapic_written(g->vp, &g->lapic);
    return r;
}

static uint8_t *fx(struct groups *g, size_t off)
{
    /* Any write to the legacy area must also mark x87 and SSE state as present in the XSAVE
     * header's XSTATE_BV (offset 512), or KVM loads them in their initial (zero) state. */
    ((uint8_t *)g->xsave.region)[512] |= 3;
    return (uint8_t *)g->xsave.region + off;
}

static __u64 *xcr0(struct groups *g)
{
    for (uint32_t i = 0; i < g->xcr.nr_xcrs; i++)
        if (g->xcr.xcrs[i].xcr == 0)
            return &g->xcr.xcrs[i].value;
    return NULL;
}

/* APIC registers through their x2APIC-view names: the ID is the plain APIC ID in both modes;
 * ICR is 64 bits (high word = destination); the rest are the raw 32-bit registers. */
static bool lapic_x2(struct groups *g)
{
    return (g->vp->run->s.regs.sregs.apic_base & APIC_BASE_X2APIC) != 0;
}

static uint64_t lapic_get(struct groups *g, uint32_t off)
{
    uint32_t lo, hi = 0;
    memcpy(&lo, g->lapic.regs + off, 4);
    if (off == APIC_OFFSET_ICR_LO)
        memcpy(&hi, g->lapic.regs + APIC_OFFSET_ICR_HI, 4);
    if (off == APIC_OFFSET_ID && !lapic_x2(g))
        lo >>= APIC_ID_XAPIC_SHIFT;
    return (uint64_t)hi << 32 | lo;
}

static void lapic_set(struct groups *g, uint32_t off, uint64_t v)
{
    uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
    if (off == APIC_OFFSET_ID && !lapic_x2(g))
        lo <<= APIC_ID_XAPIC_SHIFT;
    memcpy(g->lapic.regs + off, &lo, 4);
    if (off == APIC_OFFSET_ICR_LO)
        memcpy(g->lapic.regs + APIC_OFFSET_ICR_HI, &hi, 4);
    g->dirty_lapic = true;
}

static void get_pending_interruption(const struct kvm_vcpu_events *e, WHV_REGISTER_VALUE *v)
{
    WHV_X64_PENDING_INTERRUPTION_REGISTER *p = &v->PendingInterruption;
    if (e->exception.injected) {
        p->InterruptionPending = 1;
        p->InterruptionType = WHvX64PendingException;
        p->InterruptionVector = e->exception.nr;
        p->DeliverErrorCode = e->exception.has_error_code;
        p->ErrorCode = e->exception.error_code;
    } else if (e->nmi.injected) {
        p->InterruptionPending = 1;
        p->InterruptionType = WHvX64PendingNmi;
        p->InterruptionVector = 2;
    } else if (e->interrupt.injected) {
        p->InterruptionPending = 1;
        p->InterruptionType = WHvX64PendingInterrupt;
        p->InterruptionVector = e->interrupt.nr;
    }
}

static int set_pending_interruption(struct kvm_vcpu_events *e, const WHV_REGISTER_VALUE *v)
{
    const WHV_X64_PENDING_INTERRUPTION_REGISTER *p = &v->PendingInterruption;
    e->exception.injected = 0;
    e->nmi.injected = 0;
    e->interrupt.injected = 0;
    if (!p->InterruptionPending)
        return 0;
    if (p->InterruptionVector > 255)
        return -EINVAL;
    switch (p->InterruptionType) {
    case WHvX64PendingException:
        if (p->InterruptionVector > 31)
            return -EINVAL;
        e->exception.injected = 1;
        e->exception.nr = (uint8_t)p->InterruptionVector;
        e->exception.has_error_code = p->DeliverErrorCode;
        e->exception.error_code = p->ErrorCode;
        return 0;
    case WHvX64PendingNmi:
        e->nmi.injected = 1;
        return 0;
    case WHvX64PendingInterrupt:
        e->interrupt.injected = 1;
        e->interrupt.nr = (uint8_t)p->InterruptionVector;
        e->interrupt.soft = 0;
        return 0;
    default:
        return -EINVAL;
    }
}

static int get_one(struct groups *g, const struct reg_info *ri, WHV_REGISTER_NAME name,
                   WHV_REGISTER_VALUE *v)
{
    struct whp_vp *vp = g->vp;
    struct kvm_sync_regs *s = &vp->run->s.regs;
    memset(v, 0, sizeof(*v));
    int r = need(g, ri->cls);
    if (r < 0)
        return r;
    switch (ri->cls) {
    case RC_GPR: v->Reg64 = *gpr(&s->regs, ri->arg); break;
    case RC_SEG: {
        const struct kvm_segment *k = seg(&s->sregs, ri->arg);
        WHV_X64_SEGMENT_REGISTER *w = &v->Segment;
        w->Base = k->base, w->Limit = k->limit, w->Selector = k->selector;
        w->SegmentType = k->type, w->NonSystemSegment = k->s, w->DescriptorPrivilegeLevel = k->dpl;
        w->Present = k->present && !k->unusable, w->Available = k->avl, w->Long = k->l;
        w->Default = k->db, w->Granularity = k->g;
        break;
    }
    case RC_TABLE: {
        const struct kvm_dtable *t = ri->arg == WHvX64RegisterIdtr ? &s->sregs.idt : &s->sregs.gdt;
        v->Table.Base = t->base;
        v->Table.Limit = t->limit;
        break;
    }
    case RC_CR: v->Reg64 = *cr(&s->sregs, ri->arg); break;
    case RC_DR: v->Reg64 = ri->arg < 4 ? g->dr.db[ri->arg] : ri->arg == 4 ? g->dr.dr6 : g->dr.dr7; break;
    case RC_XCR0: {
        __u64 *x = xcr0(g);
        if (!x)
            return -ENOENT;
        v->Reg64 = *x;
        break;
    }
    case RC_XMM: memcpy(v, fx(g, 160 + 16 * ri->arg), 16); break;
    case RC_FPMMX: memcpy(v, fx(g, 32 + 16 * ri->arg), 16); break;
    case RC_FPCS:
        memcpy(&v->FpControlStatus.FpControl, fx(g, 0), 2);
        memcpy(&v->FpControlStatus.FpStatus, fx(g, 2), 2);
        v->FpControlStatus.FpTag = *fx(g, 4);
        memcpy(&v->FpControlStatus.LastFpOp, fx(g, 6), 2);
        memcpy(&v->FpControlStatus.LastFpRip, fx(g, 8), 8);
        break;
    case RC_XMMCS:
        memcpy(&v->XmmControlStatus.LastFpRdp, fx(g, 16), 8);
        memcpy(&v->XmmControlStatus.XmmStatusControl, fx(g, 24), 4);
        memcpy(&v->XmmControlStatus.XmmStatusControlMask, fx(g, 28), 4);
        break;
    case RC_EFER: v->Reg64 = s->sregs.efer; break;
    case RC_APICBASE: v->Reg64 = s->sregs.apic_base; break;
    case RC_INITIAL_APIC_ID: v->Reg64 = vp->index; break;
    case RC_PENDING_INTERRUPTION: get_pending_interruption(&s->events, v); break;
    case RC_INTERRUPT_STATE:
        v->InterruptState.InterruptShadow = s->events.interrupt.shadow != 0;
        v->InterruptState.NmiMasked = s->events.nmi.masked;
        break;
    case RC_PENDING_EVENT:
        if (s->events.exception.pending) {
            v->ExceptionEvent.EventPending = 1;
            v->ExceptionEvent.EventType = WHvX64PendingEventException;
            v->ExceptionEvent.Vector = s->events.exception.nr;
            v->ExceptionEvent.DeliverErrorCode = s->events.exception.has_error_code;
            v->ExceptionEvent.ErrorCode = s->events.exception.error_code;
            v->ExceptionEvent.ExceptionParameter = s->events.exception_payload;
        }
        break;
    case RC_DELIVERABILITY: v->Reg64 = vp->deliverability; break;
    case RC_APIC: v->Reg64 = lapic_get(g, ri->arg); break;
    case RC_SYNIC: return synic_get_reg(vp, ri->arg, &v->Reg64);
    case RC_ACTIVITY:
        v->InternalActivity.StartupSuspend = g->mp.mp_state == KVM_MP_STATE_INIT_RECEIVED ||
                                             g->mp.mp_state == KVM_MP_STATE_UNINITIALIZED;
        v->InternalActivity.HaltSuspend = g->mp.mp_state == KVM_MP_STATE_HALTED;
        break;
    case RC_MSR:
    case RC_NONE:
        (void)name;
        return -ENOENT;
    }
    return 0;
}

static int set_one(struct groups *g, const struct reg_info *ri, const WHV_REGISTER_VALUE *v)
{
    struct whp_vp *vp = g->vp;
    struct kvm_run *run = vp->run;
    struct kvm_sync_regs *s = &run->s.regs;
    int r = need(g, ri->cls);
    if (r < 0)
        return r;
    switch (ri->cls) {
    case RC_GPR:
        *gpr(&s->regs, ri->arg) = v->Reg64;
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        break;
    case RC_SEG: {
        struct kvm_segment *k = seg(&s->sregs, ri->arg);
        const WHV_X64_SEGMENT_REGISTER *w = &v->Segment;
        k->base = w->Base, k->limit = w->Limit, k->selector = w->Selector;
        k->type = w->SegmentType, k->s = w->NonSystemSegment, k->dpl = w->DescriptorPrivilegeLevel;
        k->present = w->Present, k->avl = w->Available, k->l = w->Long, k->db = w->Default;
        k->g = w->Granularity, k->unusable = !w->Present;
        run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
        break;
    }
    case RC_TABLE: {
        struct kvm_dtable *t = ri->arg == WHvX64RegisterIdtr ? &s->sregs.idt : &s->sregs.gdt;
        t->base = v->Table.Base;
        t->limit = v->Table.Limit;
        run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
        break;
    }
    case RC_CR:
        *cr(&s->sregs, ri->arg) = v->Reg64;
        run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
        break;
    case RC_DR:
        if (ri->arg < 4)
            g->dr.db[ri->arg] = v->Reg64;
        else if (ri->arg == 4)
            g->dr.dr6 = v->Reg64;
        else
            g->dr.dr7 = v->Reg64;
        g->dirty_dr = true;
        break;
    case RC_XCR0: {
        __u64 *x = xcr0(g);
        if (!x)
            return -ENOENT;
        *x = v->Reg64;
        g->dirty_xcr = true;
        break;
    }
    case RC_XMM: memcpy(fx(g, 160 + 16 * ri->arg), v, 16); g->dirty_xsave = true; break;
    case RC_FPMMX: memcpy(fx(g, 32 + 16 * ri->arg), v, 10); g->dirty_xsave = true; break;
    case RC_FPCS:
        memcpy(fx(g, 0), &v->FpControlStatus.FpControl, 2);
        memcpy(fx(g, 2), &v->FpControlStatus.FpStatus, 2);
        *fx(g, 4) = v->FpControlStatus.FpTag;
        memcpy(fx(g, 6), &v->FpControlStatus.LastFpOp, 2);
        memcpy(fx(g, 8), &v->FpControlStatus.LastFpRip, 8);
        g->dirty_xsave = true;
        break;
    case RC_XMMCS:
        memcpy(fx(g, 16), &v->XmmControlStatus.LastFpRdp, 8);
        memcpy(fx(g, 24), &v->XmmControlStatus.XmmStatusControl, 4);
        g->dirty_xsave = true;
        break;
    case RC_EFER:
        s->sregs.efer = v->Reg64;
        run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
        break;
    case RC_APICBASE:
        s->sregs.apic_base = v->Reg64;
        run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
        atomic_store(&vp->apic_base_pending, v->Reg64); /* for other threads: vp_apic_base */
        break;
    case RC_INITIAL_APIC_ID:
        return v->Reg64 == vp->index ? 0 : -EINVAL; /* fixed: the VP index */
    case RC_PENDING_INTERRUPTION:
        r = set_pending_interruption(&s->events, v);
        run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
        return r;
    case RC_INTERRUPT_STATE:
        s->events.interrupt.shadow = v->InterruptState.InterruptShadow ? KVM_X86_SHADOW_INT_MOV_SS : 0;
        s->events.nmi.masked = v->InterruptState.NmiMasked;
        s->events.flags |= KVM_VCPUEVENT_VALID_SHADOW;
        run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
        break;
    case RC_PENDING_EVENT:
        if (!v->ExceptionEvent.EventPending) {
            s->events.exception.pending = 0;
        } else if (v->ExceptionEvent.EventType == WHvX64PendingEventException &&
                   v->ExceptionEvent.Vector < 32) {
            s->events.exception.pending = 1;
            s->events.exception.nr = (uint8_t)v->ExceptionEvent.Vector;
            s->events.exception.has_error_code = v->ExceptionEvent.DeliverErrorCode;
            s->events.exception.error_code = v->ExceptionEvent.ErrorCode;
            s->events.exception_has_payload = v->ExceptionEvent.ExceptionParameter != 0;
            s->events.exception_payload = v->ExceptionEvent.ExceptionParameter;
        } else if (v->ExtIntEvent.EventType == WHvX64PendingEventExtInt) {
            struct kvm_interrupt irq = {.irq = v->ExtIntEvent.Vector};
            return kvm_ioctl(vp->fd, KVM_INTERRUPT, &irq);
        } else {
            return -EINVAL;
        }
        s->events.flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
        run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
        break;
    case RC_APIC:
        lapic_set(g, ri->arg, v->Reg64);
        break;
    case RC_SYNIC:
        return synic_set_reg(vp, ri->arg, v->Reg64);
    case RC_DELIVERABILITY:
        vp->deliverability = v->Reg64;
        run->request_interrupt_window = v->DeliverabilityNotifications.InterruptNotification;
        break;
    case RC_ACTIVITY:
        g->mp.mp_state = v->InternalActivity.StartupSuspend ? KVM_MP_STATE_INIT_RECEIVED
                         : v->InternalActivity.HaltSuspend  ? KVM_MP_STATE_HALTED
                                                            : KVM_MP_STATE_RUNNABLE;
        g->dirty_mp = true;
        break;
    case RC_MSR:
    case RC_NONE:
        return -ENOENT;
    }
    return 0;
}

/* All MSR-backed names of a batch go through one KVM_GET_MSRS / KVM_SET_MSRS. */
/* The caller's values are reached only through these, at byte offsets: callers may pass less
 * alignment than WHV_REGISTER_VALUE declares (Microsoft's Rust crates give 8, not 16), and the
 * compiler may use aligned vector moves on anything of that type. */
static void value_load(const void *buf, UINT32 i, WHV_REGISTER_VALUE *v)
{
    memcpy(v, (const uint8_t *)buf + (size_t)i * sizeof(*v), sizeof(*v));
}

static void value_store(void *buf, UINT32 i, const WHV_REGISTER_VALUE *v)
{
    memcpy((uint8_t *)buf + (size_t)i * sizeof(*v), v, sizeof(*v));
}

static int msrs(struct whp_vp *vp, const struct reg_info *ri, UINT32 count, void *values, bool set)
{
    union {
        struct kvm_msrs hdr;
        uint8_t raw[sizeof(struct kvm_msrs) + 64 * sizeof(struct kvm_msr_entry)];
    } m;
    uint32_t map[64];
    UINT32 wanted = 0;
    for (UINT32 i = 0; i < count; i++)
        wanted += ri[i].cls == RC_MSR;
    if (!wanted)
        return 0;
    memset(&m, 0, sizeof(m));
    for (UINT32 i = 0; i < count; i++) {
        if (ri[i].cls != RC_MSR)
            continue;
        if (m.hdr.nmsrs == 64)
            return -E2BIG;
        map[m.hdr.nmsrs] = i;
        m.hdr.entries[m.hdr.nmsrs].index = ri[i].arg;
        if (set) {
            WHV_REGISTER_VALUE v;
            value_load(values, i, &v);
            m.hdr.entries[m.hdr.nmsrs].data = v.Reg64;
        }
        m.hdr.nmsrs++;
    }
    if (!m.hdr.nmsrs)
        return 0;
    int r = kvm_ioctl(vp->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m);
    if (r < 0)
        return r;
    if ((uint32_t)r < m.hdr.nmsrs)
        return -ENOENT; /* KVM does not know this MSR */
    for (uint32_t k = 0; !set && k < m.hdr.nmsrs; k++) {
        WHV_REGISTER_VALUE v;
        memset(&v, 0, sizeof(v));
        v.Reg64 = m.hdr.entries[k].data;
        value_store(values, map[k], &v);
    }
    for (uint32_t k = 0; set && k < m.hdr.nmsrs; k++) {
        /* Some hosts (PVM) cannot offset the guest TSC and drop the write: say so. */
        if (m.hdr.entries[k].index != MSR_IA32_TSC)
            continue;
        union {
            struct kvm_msrs hdr;
            uint8_t raw[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
        } t;
        memset(&t, 0, sizeof(t));
        t.hdr.nmsrs = 1;
        t.hdr.entries[0].index = MSR_IA32_TSC;
        uint64_t hz = vp->part->cfg.tsc_hz;
        uint64_t slack = hz ? hz * TSC_WRITE_SLACK_S : TSC_WRITE_SLACK_UNKNOWN;
        if (kvm_ioctl(vp->fd, KVM_GET_MSRS, &t) != 1 || t.hdr.entries[0].data - m.hdr.entries[k].data > slack)
            return -EOPNOTSUPP;
    }
    return 0;
}

/* `buf` is the caller's value array, never dereferenced as WHV_REGISTER_VALUE (value_load). */
static HRESULT access(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                      const WHV_REGISTER_NAME *names, UINT32 count, void *buf, bool set)
{
    if (!names || !buf || count == 0 || count > MAX_REGS)
        return E_INVALIDARG;
    struct reg_info ri[MAX_REGS];
    for (UINT32 i = 0; i < count; i++)
        if (!classify(names[i], &ri[i]))
            return WHV_E_INVALID_VP_REGISTER_NAME;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    struct groups g; /* the group buffers are filled on first use, not zeroed: 4 KiB of XSAVE */
    g.vp = vp;
    g.have_dr = g.have_xcr = g.have_xsave = g.have_mp = g.have_lapic = false;
    g.dirty_dr = g.dirty_xcr = g.dirty_xsave = g.dirty_mp = g.dirty_lapic = false;
    int r = msrs(vp, ri, count, buf, set);
    for (UINT32 i = 0; r == 0 && i < count; i++) {
        if (ri[i].cls == RC_MSR)
            continue;
        WHV_REGISTER_VALUE v;
        if (set) {
            value_load(buf, i, &v);
            r = set_one(&g, &ri[i], &v);
        } else if ((r = get_one(&g, &ri[i], names[i], &v)) == 0) {
            value_store(buf, i, &v);
        }
    }
    if (r == 0 && set)
        r = flush(&g);
    vp_release(p, vp);
    if (r == -ENOENT)
        return WHV_E_INVALID_VP_REGISTER_NAME;
    if (r == -EOPNOTSUPP)
        return HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);
    return hr_from_errno(r);
}

HRESULT WINAPI WHvGetVirtualProcessorRegisters(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                               const WHV_REGISTER_NAME *RegisterNames,
                                               UINT32 RegisterCount,
                                               WHV_REGISTER_VALUE *RegisterValues)
{
    return access(Partition, VpIndex, RegisterNames, RegisterCount, RegisterValues, false);
}

HRESULT WINAPI WHvSetVirtualProcessorRegisters(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                               const WHV_REGISTER_NAME *RegisterNames,
                                               UINT32 RegisterCount,
                                               const WHV_REGISTER_VALUE *RegisterValues)
{
    return access(Partition, VpIndex, RegisterNames, RegisterCount, (void *)RegisterValues, true);
}
