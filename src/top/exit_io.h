/* The completion model for port I/O and MMIO exits (exit_io.c): what KVM still owes for the
 * last exit, so that WHP's completion (the VMM finishes the access and moves RIP) and KVM's
 * (the next KVM_RUN finishes it) agree. */
#ifndef OPENWHP_EXIT_IO_H
#define OPENWHP_EXIT_IO_H

#include "obj/obj.h"
#include "top/exit_cpuid.h"

enum exit_pending {
    EXIT_PENDING_NONE,
    EXIT_PENDING_PIO_IN,  /* KVM will complete an IN at the next KVM_RUN */
    EXIT_PENDING_PIO_OUT, /* KVM will skip an OUT at the next KVM_RUN (fast path) */
    EXIT_PENDING_RESTORE, /* KVM already completed it with dummy data: restore `saved` */
};

/* Per VP; only the thread that owns the VP (`busy`) touches it. */
struct exit_vp {
    enum exit_pending pending;
    uint64_t pending_rip;     /* RIP after the instruction */
    uint8_t pending_size;     /* IN: bytes of RAX to hand to KVM */
    struct kvm_regs saved;    /* EXIT_PENDING_RESTORE: registers to put back */
    struct kvm_regs kvm_regs; /* KVM's registers when they differ from the cache only by our */
    bool kvm_regs_valid;      /* rewind of a retired instruction's RIP */
    struct exit_cpuid cpuid;  /* the CPUID exits before the first KVM_RUN */
};

int exit_vp_init(struct whp_vp *vp);
void exit_vp_fini(struct whp_vp *vp);
void exit_vp_reset(struct whp_vp *vp);

/* Brings KVM to the state the VMM left in the register cache, before a KVM_RUN. */
int exit_prepare_run(struct whp_vp *vp);
/* Runs KVM just far enough (immediate_exit) to finish what it owes for the current exit. */
int exit_complete_now(struct whp_vp *vp);
/* KVM_EXIT_IO and KVM_EXIT_MMIO as WHP exits. */
HRESULT exit_io(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx);
HRESULT exit_mmio(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx);

#endif
