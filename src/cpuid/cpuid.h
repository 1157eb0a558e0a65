/* The guest's CPUID (cpuid.c). */
#ifndef OPENWHP_CPUID_H
#define OPENWHP_CPUID_H

#include "obj/obj.h"

/* Builds the VP's CPUID from the host's, the partition's features and the VMM's results, and
 * installs it (KVM_SET_CPUID2, before the VP's first run). */
int cpuid_build(struct whp_partition *p, struct whp_vp *vp);

#endif
