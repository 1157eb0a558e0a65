/* The Hyper-V synthetic interrupt controller, emulated in user space (KVM here has no Hyper-V
 * support): synthetic MSRs, the hypercall page and its dispatch, message slots and event flags.
 * State: synic/synic_state.h, under its one lock. */
#ifndef OPENWHP_SYNIC_H
#define OPENWHP_SYNIC_H

#include "obj/obj.h"

/* I/O ports of the hypercall page stub: the fast HvSignalEvent path writes the connection id to
 * SYNIC_PORT_SIGNAL, where each Event notification port has a datamatch ioeventfd (no exit);
 * every other hypercall writes to SYNIC_PORT_CALL and is dispatched here. */
#define SYNIC_PORT_SIGNAL 0x4850
#define SYNIC_PORT_CALL 0x4851

#define SYNIC_MSR_FIRST 0x40000000u
#define SYNIC_MSR_LAST 0x400000ffu

/* Lifetime: the partition's state at creation, each VP's when the VP is first created, and a
 * VP's registers back to their reset values at each (re)creation and WHvResetPartition. */
int synic_part_init(struct whp_partition *p);
void synic_part_fini(struct whp_partition *p);
int synic_vp_init(struct whp_vp *vp);
void synic_vp_fini(struct whp_vp *vp);
void synic_vp_reset(struct whp_vp *vp);

/* The synthetic features this implementation provides (WHV_SYNTHETIC_PROCESSOR_FEATURES). */
uint64_t synic_supported_features(void);
bool synic_enabled(const struct whp_partition *p);

/* CPUID 0x40000000-0x40000006 for a partition with synthetic features. */
void synic_cpuid(const struct whp_partition *p, uint32_t leaf, uint32_t out[4]);

/* A guest RDMSR/WRMSR in the synthetic range: 0, -EINVAL for #GP. A write to EOM may ask for a
 * SynicSintDeliverable exit: *deliverable gets the SINT bits (0 for none). */
int synic_msr(struct whp_vp *vp, bool write, uint32_t index, uint64_t *value, uint16_t *deliverable);

/* A KVM_EXIT_IO on a hypercall port. *handled is false when the OUT did not come from the
 * hypercall page (then it is an ordinary I/O exit). Otherwise the call is completed (RAX, RIP)
 * and false returned, or a Hypercall exit for the VMM is filled and true returned. */
bool synic_hypercall(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx, bool *handled);
/* SINTs the VMM asked about (DeliverabilityNotifications.Sint) whose slot is free; one-shot. */
uint16_t synic_deliverable(struct whp_vp *vp);
/* WHvGet/SetVirtualProcessorState for the SIM (event_page false) and SIEF pages. */
HRESULT synic_page_state(struct whp_vp *vp, bool event_page, void *buf, bool set);

/* Register names Sint0..Eom, GuestOsId, Hypercall, VpIndex-like views: 0 or -ENOENT. */
int synic_get_reg(struct whp_vp *vp, uint32_t name, uint64_t *value);
int synic_set_reg(struct whp_vp *vp, uint32_t name, uint64_t value);

/* SynicEvent triggers: validation, and setting the flag (WHvSignalVirtualProcessorSynicEvent). */
HRESULT synic_check_event(const struct whp_partition *p, const WHV_SYNIC_EVENT_PARAMETERS *e);
HRESULT synic_signal(struct whp_partition *p, const WHV_SYNIC_EVENT_PARAMETERS *e, BOOL *newly);

/* Event notification ports: binds (or unbinds) a connection id to an eventfd, for the fast
 * path (a datamatch ioeventfd on SYNIC_PORT_SIGNAL) and the slow one (HvSignalEvent through
 * SYNIC_PORT_CALL). 0 or -errno (-EEXIST when the id is bound already). */
int synic_port_attach(struct whp_partition *p, uint32_t connection_id, int fd, bool attach);

#endif
