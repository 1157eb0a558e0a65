/* KVM exits -> WHP exits: the dispatcher of the run loop. Port I/O and MMIO go to the completion
 * model (exit_io.c); the SynIC's MSRs and hypercall ports and the APIC's EOIs to their
 * subsystems; emulation failures to the host-quirk module; the rest is translated here. */
#include "top/exit.h"

#include <errno.h>
#include <string.h>

#include "apic/apic.h"
#include "obj/gva.h"
#include "quirk/quirk.h"
#include "synic/synic.h"
#include "top/exit_io.h"

#define VECTOR_BP WHvX64ExceptionTypeBreakpointTrap
#define INT3_LENGTH 1
#define MSR_INSN_LENGTH 2 /* RDMSR, WRMSR */

/* ---- MSRs ---- */

static bool msr_wanted(struct whp_vp *vp, uint8_t reason)
{
    WHV_EXTENDED_VM_EXITS e = {.AsUINT64 = vp->part->cfg.extended_exits};
    WHV_X64_MSR_EXIT_BITMAP b = {.AsUINT64 = vp->part->cfg.msr_exit_bitmap};
    if (!e.X64MsrExit)
        return false;
    return reason == KVM_MSR_EXIT_REASON_FILTER || b.UnhandledMsrs;
}

static HRESULT msr_exit(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx, bool *again)
{
    struct kvm_run *run = vp->run;
    bool write = run->exit_reason == KVM_EXIT_X86_WRMSR;
    if (synic_enabled(vp->part) && run->msr.index >= SYNIC_MSR_FIRST &&
        run->msr.index <= SYNIC_MSR_LAST) {
        /* Ours: KVM finishes the instruction with the value (or #GP) at the next run. */
        uint64_t value = run->msr.data;
        uint16_t sints;
        run->msr.error = synic_msr(vp, write, run->msr.index, &value, &sints) < 0;
        if (!write)
            run->msr.data = value;
        if (!sints) {
            *again = true;
            return S_OK;
        }
        exit_fill_context(vp, ctx);
        ctx->ExitReason = WHvRunVpExitReasonSynicSintDeliverable;
        ctx->SynicSintDeliverable.DeliverableSints = sints;
        return S_OK;
    }
    if (!msr_wanted(vp, run->msr.reason)) {
        run->msr.error = 1; /* #GP, as on hardware without the MSR */
        *again = true;
        return S_OK;
    }
    /* KVM finishes RDMSR/WRMSR at the next run (data in, RIP + 2) regardless of what the VMM
     * did: finish it now and keep the WHP view (RIP at the instruction) in the cache. */
    struct kvm_regs before = run->s.regs.regs;
    uint32_t index = run->msr.index;
    run->msr.error = 0;
    run->msr.data = 0;
    int r = exit_complete_now(vp);
    if (r < 0)
        return hr_from_errno(r);
    run->s.regs.regs = before;
    run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;

    exit_fill_context(vp, ctx);
    ctx->ExitReason = WHvRunVpExitReasonX64MsrAccess;
    ctx->VpContext.InstructionLength = MSR_INSN_LENGTH;
    ctx->MsrAccess.AccessInfo.IsWrite = write;
    ctx->MsrAccess.MsrNumber = index;
    ctx->MsrAccess.Rax = before.rax;
    ctx->MsrAccess.Rdx = before.rdx;
    return S_OK;
}

/* ---- the rest ---- */

static HRESULT exception_exit(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx, uint8_t vector)
{
    struct kvm_run *run = vp->run;
    exit_fill_context(vp, ctx);
    ctx->ExitReason = WHvRunVpExitReasonException;
    WHV_VP_EXCEPTION_CONTEXT *e = &ctx->VpException;
    e->InstructionByteCount =
        (UINT8)vp_fetch(vp, run->s.regs.regs.rip, e->InstructionBytes, sizeof(e->InstructionBytes));
    e->ExceptionType = vector;
    e->ExceptionInfo.SoftwareException = vector == VECTOR_BP;
    if (vector == VECTOR_BP)
        ctx->VpContext.InstructionLength = INT3_LENGTH;
    return S_OK;
}

static bool bp_exit_wanted(const struct whp_partition *p)
{
    WHV_EXTENDED_VM_EXITS e = {.AsUINT64 = p->cfg.extended_exits};
    return e.ExceptionExit && (p->cfg.exception_bitmap & (1ull << VECTOR_BP));
}

/* The VP_COUNTER slot of a KVM exit, or -1 for one that is no exit. */
static int counter_slot(uint32_t reason)
{
    switch (reason) {
    case KVM_EXIT_IO: return VP_COUNTER(IoInstructions);
    case KVM_EXIT_HLT: return VP_COUNTER(HaltInstructions);
    case KVM_EXIT_X86_RDMSR: case KVM_EXIT_X86_WRMSR: return VP_COUNTER(MsrAccesses);
    case KVM_EXIT_IRQ_WINDOW_OPEN: return VP_COUNTER(PendingInterrupts);
    case KVM_EXIT_MMIO: return VP_COUNTER(NestedPageFaultIntercepts);
    case KVM_EXIT_INTR: return -1;
    default: return VP_COUNTER(OtherIntercepts);
    }
}

static void window_exit(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    /* A one-shot request, as in WHP: the VMM asks again if it still wants it. */
    vp->deliverability &= ~DELIVERABILITY_INTERRUPT_WINDOW;
    vp->run->request_interrupt_window = 0;
    ctx->ExitReason = WHvRunVpExitReasonX64InterruptWindow;
    ctx->InterruptWindow.DeliverableType = WHvX64PendingInterrupt;
}

/* KVM could not go on at RIP: usually its emulator meeting an instruction it cannot do (the
 * host-quirk module may perform it), or a fetch from memory that is not RAM. */
/* KVM could not fetch the instruction at RIP: a MemoryAccess exit for the access that hit
 * unmapped memory, as WHP reports it. Normally the code page itself (Execute, Gpa = the fetched
 * GPA). When the guest's page walk reads an entry from unmapped memory, the hardware faults on
 * that entry: a Read of the paging-structure GPA, with the fetched GVA (what an EPT violation
 * during a walk reports). A walk that fails otherwise would have been a #PF in the guest on WHP,
 * not an exit; if KVM still reports one (a stale translation), Gpa stays 0. */
static void fetch_fault(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    uint64_t gva = vp_linear_rip(vp, vp->run->s.regs.regs.rip), gpa = 0;
    uint32_t walk = vp_translate_result(vp, gva, &gpa);
    ctx->ExitReason = WHvRunVpExitReasonMemoryAccess;
    ctx->MemoryAccess.AccessInfo.AccessType =
        walk == WHvTranslateGvaResultGpaUnmapped ? WHvMemoryAccessRead : WHvMemoryAccessExecute;
    ctx->MemoryAccess.AccessInfo.GpaUnmapped = 1;
    ctx->MemoryAccess.AccessInfo.GvaValid = 1;
    ctx->MemoryAccess.Gva = gva;
    if (walk == WHvTranslateGvaResultSuccess || walk == WHvTranslateGvaResultGpaUnmapped)
        ctx->MemoryAccess.Gpa = gpa;
}

static HRESULT internal_error(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx, bool *again)
{
    struct kvm_run *run = vp->run;
    uint8_t insn[X86_MAX_INSN_LEN];
    size_t len = vp_fetch(vp, run->s.regs.regs.rip, insn, sizeof(insn));
    if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
        switch (quirk_emulation_failure(vp, insn, len, bp_exit_wanted(vp->part))) {
        case QUIRK_RESUME:
            *again = true;
            return S_OK;
        case QUIRK_BREAKPOINT:
            return exception_exit(vp, ctx, VECTOR_BP);
        case QUIRK_NOT_HANDLED:
            break;
        }
    }
    exit_fill_context(vp, ctx);
    if (!len) {
        fetch_fault(vp, ctx);
    } else {
        ctx->ExitReason = WHvRunVpExitReasonUnsupportedFeature;
        ctx->UnsupportedFeature.FeatureCode = WHvUnsupportedFeatureIntercept;
        ctx->UnsupportedFeature.FeatureParameter = run->internal.suberror;
    }
    return S_OK;
}

HRESULT exit_translate(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx, bool *again)
{
    struct kvm_run *run = vp->run;
    *again = false;
    int slot = counter_slot(run->exit_reason);
    if (slot >= 0)
        atomic_fetch_add_explicit(&vp->exit_counts[slot], 1, memory_order_relaxed);
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        if (synic_enabled(vp->part) &&
            (run->io.port == SYNIC_PORT_SIGNAL || run->io.port == SYNIC_PORT_CALL)) {
            bool handled;
            bool to_vmm = synic_hypercall(vp, ctx, &handled);
            if (handled) {
                *again = !to_vmm;
                return S_OK;
            }
        }
        return exit_io(vp, ctx);
    case KVM_EXIT_MMIO:
        return exit_mmio(vp, ctx);
    case KVM_EXIT_X86_RDMSR:
    case KVM_EXIT_X86_WRMSR:
        return msr_exit(vp, ctx, again);
    case KVM_EXIT_DEBUG:
        return exception_exit(vp, ctx, (uint8_t)run->debug.arch.exception);
    case KVM_EXIT_INTR:
        *again = true;
        return S_OK;
    case KVM_EXIT_IOAPIC_EOI:
        /* KVM reports EOIs of every vector with a level route; only level deliveries count. */
        if (!apic_eoi_exit(vp, run->eoi.vector)) {
            *again = true;
            return S_OK;
        }
        exit_fill_context(vp, ctx);
        ctx->ExitReason = WHvRunVpExitReasonX64ApicEoi;
        ctx->ApicEoi.InterruptVector = run->eoi.vector;
        return S_OK;
    case KVM_EXIT_INTERNAL_ERROR:
        return internal_error(vp, ctx, again);
    }
    exit_fill_context(vp, ctx);
    switch (run->exit_reason) {
    case KVM_EXIT_HLT: /* RIP is already past the HLT */
        /* A halted VP with IF set is interruptible: with a window requested (mode None) that
         * is the window the VMM waits for, not a halt. */
        if ((vp->deliverability & DELIVERABILITY_INTERRUPT_WINDOW) &&
            (run->s.regs.regs.rflags & RFLAGS_IF)) {
            window_exit(vp, ctx);
            break;
        }
        ctx->ExitReason = WHvRunVpExitReasonX64Halt;
        break;
    case KVM_EXIT_SHUTDOWN:
        ctx->ExitReason = WHvRunVpExitReasonUnrecoverableException;
        break;
    case KVM_EXIT_FAIL_ENTRY:
        ctx->ExitReason = WHvRunVpExitReasonInvalidVpRegisterValue;
        break;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        window_exit(vp, ctx);
        break;
    default:
        ctx->ExitReason = WHvRunVpExitReasonUnsupportedFeature;
        ctx->UnsupportedFeature.FeatureCode = WHvUnsupportedFeatureIntercept;
        ctx->UnsupportedFeature.FeatureParameter = run->exit_reason;
        break;
    }
    return S_OK;
}
