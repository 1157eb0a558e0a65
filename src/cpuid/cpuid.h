/* The guest's CPUID (cpuid.c). */
#ifndef OPENWHP_CPUID_H
#define OPENWHP_CPUID_H

#include "obj/obj.h"

/* Builds the VP's CPUID from the host's, the partition's features and the VMM's results, with
 * extra (optional: the answers to CPUID exits) replacing whole leaves last, and installs it
 * (KVM_SET_CPUID2, before the VP's first KVM_RUN). */
int cpuid_build(struct whp_partition *p, struct whp_vp *vp, const WHV_X64_CPUID_RESULT *extra,
                uint32_t extra_count);
/* What the VP's current CPUID gives for leaf, subleaf 0 (zeros for a leaf it does not have). */
int cpuid_default_result(struct whp_vp *vp, uint32_t leaf, WHV_X64_CPUID_RESULT *out);

#endif
