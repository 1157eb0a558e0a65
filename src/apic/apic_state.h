/* The interrupt subsystem's state (private to apic/): which level-triggered deliveries owe an
 * X64ApicEoi exit, the routes that make KVM report those EOIs, and the exit held back behind
 * such an EOI. */
#ifndef OPENWHP_APIC_STATE_H
#define OPENWHP_APIC_STATE_H

#include "apic/apic.h"

#define APIC_VECTOR_WORDS (APIC_VECTORS / 32)

struct apic_level_route {
    bool used;
    uint8_t vector;
    uint32_t apic_id;
};

struct apic_part {
    /* Protects level_routes; held across a level request (resolve targets, route, send) so two
     * requests cannot take the same route. Taken before the routing table's lock. */
    struct owl lock;
    struct apic_level_route level_routes[ROUTES_RESERVED_PINS]; /* the route on GSI i */
};

struct apic_vp {
    /* Vectors taken level-triggered, whose EOI is an exit: set by requesters (under the apic
     * lock), cleared by the VP's runner; atomic for that reason. */
    _Atomic uint32_t level_eoi[APIC_VECTOR_WORDS];
    /* An exit held back behind a level EOI (apic_order_eoi): only the VP's runner. */
    bool queued;
    WHV_RUN_VP_EXIT_CONTEXT queued_exit;
};

#define APIC_LOCK(p) owl_lock(&(p)->apic->lock)
#define APIC_UNLOCK(p) owl_unlock(&(p)->apic->lock)
#define APIC_LOCKED(p) owl_held(&(p)->apic->lock)

#endif
