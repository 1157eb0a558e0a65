/* The interrupt subsystem's private interface to the core. */
#ifndef OPENWHP_APIC_H
#define OPENWHP_APIC_H

#include "core/core.h"

/* An ioctl that needs the vCPU mutex, on a VP that may be running: kicks it out and holds it. */
int apic_vcpu_ioctl(struct whp_vp *vp, unsigned long req, void *arg);
/* An edge-triggered fixed interrupt to the VP with this APIC ID (SynIC SINTs). */
int apic_signal_fixed(struct whp_partition *p, uint32_t apic_id, uint8_t vector);
/* True (and forgets it) when the VP took a level-triggered interrupt of this vector. */
bool apic_take_level_eoi(struct whp_vp *vp, uint8_t vector);

#endif
