/* The partition's one KVM GSI routing table, shared by level-triggered EOI tracking (GSIs below
 * ROUTES_RESERVED_PINS, the only ones whose EOIs KVM reports) and by triggers (above). */
#ifndef OPENWHP_ROUTES_H
#define OPENWHP_ROUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "obj/lock.h"
#include "obj/x86.h"

/* GSIs below this are KVM's reserved IOAPIC pins: the only level routes whose EOIs it reports. */
#define ROUTES_RESERVED_PINS 24

struct route_entry {
    bool used;     /* installed in KVM */
    bool reserved; /* owned by a trigger */
    struct msi_msg msi;
};

struct route_table {
    struct owl lock; /* protects everything below and KVM's copy of the table */
    struct route_entry *entries; /* indexed by GSI */
    uint32_t limit, used;
};

int routes_init(struct route_table *t);
void routes_destroy(struct route_table *t);
/* Installs or replaces the MSI route of `gsi` and commits the whole table to KVM. */
int routes_set(struct route_table *t, int vm_fd, uint32_t gsi, const struct msi_msg *m);
/* Reserves a free GSI above the reserved pins and routes it: the GSI, or -ENOSPC when KVM's
 * table is full. */
int routes_add(struct route_table *t, int vm_fd, const struct msi_msg *m);
/* Clears the route of a GSI from routes_add and releases it. */
int routes_free(struct route_table *t, int vm_fd, uint32_t gsi);

#endif
