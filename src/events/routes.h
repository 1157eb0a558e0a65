/* The partition's one KVM GSI routing table, shared by level-triggered EOI tracking (GSIs
 * below APIC_RESERVED_PINS, the only ones whose EOIs KVM reports) and by triggers (above). */
#ifndef OPENWHP_ROUTES_H
#define OPENWHP_ROUTES_H

#include "apic/apic_dest.h"
#include "core/core.h"

int routes_init(struct route_table *t);
void routes_destroy(struct route_table *t);
/* Installs or replaces the MSI route of `gsi` and commits the whole table to KVM.
 * Callers hold t->lock. */
int routes_set(struct whp_partition *p, uint32_t gsi, const struct apic_msi *m);
int routes_clear(struct whp_partition *p, uint32_t gsi);
/* Reserves a free GSI above the reserved pins, or -ENOSPC when KVM's table is full. */
int routes_alloc(struct route_table *t);
/* Clears the route of a reserved GSI and releases it. */
int routes_free(struct whp_partition *p, uint32_t gsi);

#endif
