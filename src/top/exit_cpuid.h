/* CPUID exits before a VP's first KVM_RUN (exit_cpuid.c): KVM has no user-space CPUID exit and
 * fixes a vCPU's CPUID at its first KVM_RUN, so the leaves of CpuidExitList are asked of the VMM
 * once each, up front, and its answers installed with KVM_SET_CPUID2. */
#ifndef OPENWHP_EXIT_CPUID_H
#define OPENWHP_EXIT_CPUID_H

#include "obj/obj.h"

enum exit_cpuid_phase {
    EXIT_CPUID_NOT_STARTED, /* the VP has not run yet */
    EXIT_CPUID_ASKING,      /* presenting the leaves one exit at a time */
    EXIT_CPUID_DONE,        /* answers installed (or none asked): runs enter the guest */
};

/* Per VP, in struct exit_vp; only the thread that owns the VP (`busy`) touches it. */
struct exit_cpuid {
    enum exit_cpuid_phase phase;
    bool presented;                /* the exit for answers[next] is with the VMM */
    uint32_t count, next;
    WHV_X64_CPUID_RESULT *answers; /* per listed leaf: the default, then the VMM's answer */
    struct kvm_regs saved;         /* the registers before the presented exit */
};

void exit_cpuid_fini(struct exit_cpuid *s);
/* WHvResetPartition: an exit the VMM holds is dropped and its leaf asked again. */
void exit_cpuid_reset(struct exit_cpuid *s);
/* At the start of a run: takes the VMM's answer to the exit it was given (its RAX, RBX, RCX,
 * RDX if it moved RIP past the CPUID, else the default) and puts the registers back. */
void exit_cpuid_collect(struct whp_vp *vp);
/* Before entering the guest: presents the next leaf's exit in ctx, or after the last one
 * installs the answers. */
HRESULT exit_cpuid_next(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx);

#endif
