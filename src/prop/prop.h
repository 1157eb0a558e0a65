/* Partition properties and capabilities (prop/). */
#ifndef OPENWHP_PROP_H
#define OPENWHP_PROP_H

#include "obj/obj.h"

/* The exception exits KVM can give (KVM_GUESTDBG_USE_SW_BP intercepts #BP only). */
#define PROP_SUPPORTED_EXCEPTIONS (1ull << WHvX64ExceptionTypeBreakpointTrap)

/* What WHvGetCapability offers for ExtendedVmExits and X64MsrExitBitmap. */
uint64_t prop_supported_exits(void);
uint64_t prop_supported_msr_exits(void);
/* Turns the exit properties into KVM configuration (MSR exits and filter, every VP's guest
 * debug). With the partition lock held, once the partition is set up. */
HRESULT prop_apply_exits(struct whp_partition *p);
/* The same for one VP, at its creation. */
int prop_apply_vp(struct whp_partition *p, struct whp_vp *vp);

#endif
