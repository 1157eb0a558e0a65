/* The interrupt subsystem (apic/): WHvRequestInterrupt, WHvGetInterruptTargetVpSet, level EOI
 * tracking for X64ApicEoi exits, and the LAPIC state. Its interface to the rest of the library. */
#ifndef OPENWHP_APIC_H
#define OPENWHP_APIC_H

#include "obj/obj.h"

int apic_part_init(struct whp_partition *p);
void apic_part_fini(struct whp_partition *p);
int apic_vp_init(struct whp_vp *vp);
void apic_vp_fini(struct whp_vp *vp);
/* A VP's (re)creation or WHvResetPartition: no EOI owed, nothing queued. */
void apic_vp_reset(struct whp_vp *vp);

/* An edge-triggered fixed interrupt to the VP with this APIC ID (SynIC SINTs). */
int apic_signal_fixed(struct whp_partition *p, uint32_t apic_id, uint8_t vector);
/* KVM reports a guest EOI at the next guest entry, so an exit that follows the EOI (a port
 * write right after it) can overtake it. Before such an exit reaches the VMM, any owed level EOI
 * that already happened (the vector not in service, no level delivery of it in IRR) is reported
 * first and the exit is queued for the next run, in WHP's order. */
void apic_order_eoi(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx);
/* The exit queued by apic_order_eoi, if any: copied to ctx, true. */
bool apic_take_queued(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx);
/* KVM_EXIT_IOAPIC_EOI of vector on the VP's own thread: true (and forgets the owed EOI) when it
 * is an X64ApicEoi now; false when no level delivery owes it, or when the vector is still in
 * service (an early report: apic_order_eoi delivers it once the guest's EOI happened). */
bool apic_eoi_exit(struct whp_vp *vp, uint8_t vector);

/* The LAPIC page of WHvGet/SetVirtualProcessorInterruptControllerState2 (the caller owns the
 * VP): 0, -EPERM without a LAPIC, or another -errno. */
int apic_state_get(struct whp_vp *vp, void *page);
int apic_state_set(struct whp_vp *vp, const void *page);

#endif
