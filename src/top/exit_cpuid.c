/* The X64Cpuid exits of CpuidExitList, in the only form KVM allows: before the VP's first
 * KVM_RUN, one exit per listed leaf (subleaf 0) as if the guest executed CPUID at its current
 * RIP; the answers become the VP's CPUID (KVM_SET_CPUID2) and the guest then runs with them. */
#include "top/exit_cpuid.h"

#include <errno.h>
#include <stdlib.h>

#include "cpuid/cpuid.h"
#include "top/exit_io.h"

#define CPUID_INSN_LENGTH 2 /* 0F A2 */
#define CPUID_REG_MASK 0xffffffffull

void exit_cpuid_fini(struct exit_cpuid *s)
{
    free(s->answers);
    s->answers = NULL;
}

void exit_cpuid_reset(struct exit_cpuid *s)
{
    s->presented = false;
}

/* The VP's first run: the list in force now is the one asked (prop/ refuses changes from here). */
static int start(struct whp_vp *vp, struct exit_cpuid *s)
{
    struct whp_partition *p = vp->part;
    owl_lock(&p->lock);
    WHV_EXTENDED_VM_EXITS e = {.AsUINT64 = p->cfg.extended_exits};
    uint32_t count = e.X64CpuidExit ? p->cfg.cpuid_exit_count : 0;
    WHV_X64_CPUID_RESULT *answers = count ? calloc(count, sizeof(*answers)) : NULL;
    for (uint32_t i = 0; answers && i < count; i++)
        answers[i].Function = p->cfg.cpuid_exits[i];
    if (!count || answers)
        atomic_store(&vp->cpuid_fixed, true);
    owl_unlock(&p->lock);
    if (count && !answers)
        return -ENOMEM;
    s->answers = answers;
    s->count = count;
    s->next = 0;
    s->phase = count ? EXIT_CPUID_ASKING : EXIT_CPUID_DONE;
    return 0;
}

void exit_cpuid_collect(struct whp_vp *vp)
{
    struct exit_cpuid *s = &vp->exit->cpuid;
    if (!s->presented)
        return;
    struct kvm_regs *regs = &vp->run->s.regs.regs;
    WHV_X64_CPUID_RESULT *a = &s->answers[s->next];
    if (regs->rip == s->saved.rip + CPUID_INSN_LENGTH) {
        a->Eax = (UINT32)(regs->rax & CPUID_REG_MASK);
        a->Ebx = (UINT32)(regs->rbx & CPUID_REG_MASK);
        a->Ecx = (UINT32)(regs->rcx & CPUID_REG_MASK);
        a->Edx = (UINT32)(regs->rdx & CPUID_REG_MASK);
    }
    *regs = s->saved;
    vp->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    s->presented = false;
    s->next++;
}

static HRESULT present(struct whp_vp *vp, struct exit_cpuid *s, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    WHV_X64_CPUID_RESULT *a = &s->answers[s->next];
    int r = cpuid_default_result(vp, a->Function, a);
    if (r < 0)
        return hr_from_errno(r);
    struct kvm_regs *regs = &vp->run->s.regs.regs;
    s->saved = *regs;
    regs->rax = a->Function;
    regs->rcx = 0;
    vp->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    s->presented = true;

    exit_fill_context(vp, ctx);
    ctx->ExitReason = WHvRunVpExitReasonX64Cpuid;
    ctx->VpContext.InstructionLength = CPUID_INSN_LENGTH;
    ctx->CpuidAccess.Rax = regs->rax;
    ctx->CpuidAccess.Rcx = regs->rcx;
    ctx->CpuidAccess.Rdx = regs->rdx;
    ctx->CpuidAccess.Rbx = regs->rbx;
    ctx->CpuidAccess.DefaultResultRax = a->Eax;
    ctx->CpuidAccess.DefaultResultRcx = a->Ecx;
    ctx->CpuidAccess.DefaultResultRdx = a->Edx;
    ctx->CpuidAccess.DefaultResultRbx = a->Ebx;
    atomic_fetch_add_explicit(&vp->exit_counts[VP_COUNTER(CpuidInstructions)], 1,
                              memory_order_relaxed);
    return S_OK;
}

HRESULT exit_cpuid_next(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    struct exit_cpuid *s = &vp->exit->cpuid;
    if (s->phase == EXIT_CPUID_DONE)
        return S_OK;
    int r = 0;
    if (s->phase == EXIT_CPUID_NOT_STARTED && (r = start(vp, s)) < 0)
        return hr_from_errno(r);
    if (s->phase == EXIT_CPUID_DONE)
        return S_OK;
    if (s->next < s->count)
        return present(vp, s, ctx);
    r = cpuid_build(vp->part, vp, s->answers, s->count);
    if (r < 0)
        return hr_from_errno(r);
    exit_cpuid_fini(s);
    s->phase = EXIT_CPUID_DONE;
    return S_OK;
}
