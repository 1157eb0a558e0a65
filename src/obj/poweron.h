/* WHP's power-on state of a VP (poweron.c), applied over KVM's at every creation and reset. */
#ifndef OPENWHP_POWERON_H
#define OPENWHP_POWERON_H

#include "obj/obj.h"

/* Writes WHP's power-on registers into the VP's vCPU: general registers (RDX = the processor
 * signature, CPUID.1:EAX of the VP's CPUID), real mode at F000:FFF0 with CS.Base 0x000F0000,
 * CR0/EFER, debug registers, XCR0, x87/SSE state and the MSRs a guest can change. Leaves the
 * APIC base, the LAPIC and the activity state to vcpu_create/vcpu_reset. 0 or -errno. */
int poweron_apply(struct whp_vp *vp);

#endif
