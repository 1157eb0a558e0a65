/* The SynIC's state (private to synic/): the partition-wide MSRs, each VP's synthetic
 * registers, and the Event notification ports' connection ids. */
#ifndef OPENWHP_SYNIC_STATE_H
#define OPENWHP_SYNIC_STATE_H

#include "synic/synic.h"

#define SYNIC_SINTS 16

struct synic_vp {
    uint64_t scontrol, siefp, simp;
    uint64_t sint[SYNIC_SINTS];
};

/* A connection id bound to an Event port: HvSignalEvent on it sets the event. */
struct synic_conn {
    uint32_t id;
    int fd; /* our own duplicate of the port's eventfd */
};

struct synic_part {
    /* Protects guest_os_id, hypercall_msr, conns and every VP's struct synic_vp. Taken after
     * the events lock (triggers and ports call in with it held), before the memory map's. */
    struct owl lock;
    uint64_t guest_os_id, hypercall_msr;
    struct synic_conn *conns;
    size_t nconns;
};

#define SYNIC_LOCK(p) owl_lock(&(p)->synic->lock)
#define SYNIC_UNLOCK(p) owl_unlock(&(p)->synic->lock)
#define SYNIC_LOCKED(p) owl_held(&(p)->synic->lock)

#endif
