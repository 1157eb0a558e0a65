/* The part of every exit context that describes the VP (WHV_VP_EXIT_CONTEXT), filled from the
 * register cache; used by the run loop and by every subsystem that produces an exit. */
#include "obj/obj.h"

#include <string.h>

void exit_seg_to_whp(const struct kvm_segment *k, WHV_X64_SEGMENT_REGISTER *w)
{
    memset(w, 0, sizeof(*w));
    w->Base = k->base;
    w->Limit = k->limit;
    w->Selector = k->selector;
    w->SegmentType = k->type;
    w->NonSystemSegment = k->s;
    w->DescriptorPrivilegeLevel = k->dpl;
    w->Present = k->present && !k->unusable;
    w->Available = k->avl;
    w->Long = k->l;
    w->Default = k->db;
    w->Granularity = k->g;
}

void exit_fill_context(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    const struct kvm_sync_regs *s = &vp->run->s.regs;
    WHV_VP_EXIT_CONTEXT *c = &ctx->VpContext;
    c->ExecutionState.Cpl = s->sregs.ss.dpl;
    c->ExecutionState.Cr0Pe = (s->sregs.cr0 & CR0_PE) != 0;
    c->ExecutionState.Cr0Am = (s->sregs.cr0 & CR0_AM) != 0;
    c->ExecutionState.EferLma = (s->sregs.efer & EFER_LMA) != 0;
    c->ExecutionState.InterruptionPending =
        s->events.interrupt.injected || s->events.exception.injected || s->events.nmi.injected;
    c->ExecutionState.InterruptShadow = s->events.interrupt.shadow != 0;
    c->Cr8 = s->sregs.cr8 & CR8_TPR_MASK;
    exit_seg_to_whp(&s->sregs.cs, &c->Cs);
    c->Rip = s->regs.rip;
    c->Rflags = s->regs.rflags;
}
