/* The interrupt subsystem's private interface to the core. */
#ifndef OPENWHP_APIC_H
#define OPENWHP_APIC_H

#include "core/core.h"

/* An ioctl that needs the vCPU mutex, on a VP that may be running: kicks it out and holds it. */
int apic_vcpu_ioctl(struct whp_vp *vp, unsigned long req, void *arg);
/* An edge-triggered fixed interrupt to the VP with this APIC ID (SynIC SINTs). */
int apic_signal_fixed(struct whp_partition *p, uint32_t apic_id, uint8_t vector);
/* KVM reports a guest EOI at the next guest entry, so an exit that follows the EOI (a port
 * write right after it) can overtake it. Before such an exit reaches the VMM, any owed level EOI
 * that already happened (the vector is in neither ISR nor IRR) is reported first and the exit
 * is queued for the next run, in WHP's order. */
void apic_order_eoi(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx);
/* True (and forgets it) when the VP took a level-triggered interrupt of this vector. */
bool apic_take_level_eoi(struct whp_vp *vp, uint8_t vector);

#endif
