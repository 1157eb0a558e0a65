/* The partition's KVM GSI routing table. KVM_SET_GSI_ROUTING replaces the whole table at once
 * and irqfd injection reads it under RCU, so a route update retargets an irqfd atomically. */
#include "events/routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int routes_init(struct route_table *t)
{
    memset(t, 0, sizeof(*t));
    int n = kvm_check(-1, KVM_CAP_IRQ_ROUTING);
    t->limit = n > APIC_RESERVED_PINS ? (uint32_t)n : 1024;
    t->entries = calloc(t->limit, sizeof(*t->entries));
    if (!t->entries)
        return -ENOMEM;
    return -pthread_mutex_init(&t->lock, NULL);
}

void routes_destroy(struct route_table *t)
{
    free(t->entries);
    pthread_mutex_destroy(&t->lock);
}

static int commit(struct whp_partition *p)
{
    struct route_table *t = &p->routes;
    struct kvm_irq_routing *r = calloc(1, sizeof(*r) + t->used * sizeof(r->entries[0]));
    if (!r)
        return -ENOMEM;
    for (uint32_t gsi = 0; gsi < t->limit && r->nr < t->used; gsi++) {
        if (!t->entries[gsi].used)
            continue;
        struct kvm_irq_routing_entry *e = &r->entries[r->nr++];
        e->gsi = gsi;
        e->type = KVM_IRQ_ROUTING_MSI;
        e->u.msi.address_lo = t->entries[gsi].msi.address_lo;
        e->u.msi.address_hi = t->entries[gsi].msi.address_hi;
        e->u.msi.data = t->entries[gsi].msi.data;
    }
    int e = kvm_ioctl(p->vm_fd, KVM_SET_GSI_ROUTING, r);
    free(r);
    return e < 0 ? e : 0;
}

int routes_set(struct whp_partition *p, uint32_t gsi, const struct apic_msi *m)
{
    struct route_table *t = &p->routes;
    if (gsi >= t->limit)
        return -EINVAL;
    struct route_entry old = t->entries[gsi];
    if (!old.used)
        t->used++;
    t->entries[gsi].used = true;
    t->entries[gsi].msi = *m;
    int e = commit(p);
    if (e < 0) {
        t->entries[gsi] = old;
        if (!old.used)
            t->used--;
    }
    return e;
}

int routes_clear(struct whp_partition *p, uint32_t gsi)
{
    struct route_table *t = &p->routes;
    if (gsi >= t->limit || !t->entries[gsi].used)
        return 0;
    t->entries[gsi].used = false;
    t->used--;
    return commit(p);
}

int routes_alloc(struct route_table *t)
{
    for (uint32_t gsi = APIC_RESERVED_PINS; gsi < t->limit; gsi++)
        if (!t->entries[gsi].used && !t->entries[gsi].reserved) {
            t->entries[gsi].reserved = true;
            return (int)gsi;
        }
    return -ENOSPC;
}

int routes_free(struct whp_partition *p, uint32_t gsi)
{
    int e = routes_clear(p, gsi);
    if (gsi < p->routes.limit)
        p->routes.entries[gsi].reserved = false;
    return e;
}
