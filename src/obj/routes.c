/* The partition's KVM GSI routing table. KVM_SET_GSI_ROUTING replaces the whole table at once
 * and irqfd injection reads it under RCU, so a route update retargets an irqfd atomically. */
#include "obj/routes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/kvm.h"

#define ROUTES_DEFAULT_LIMIT 1024 /* when KVM does not say */

#define ROUTES_LOCKED(t) owl_held(&(t)->lock)

int routes_init(struct route_table *t)
{
    memset(t, 0, sizeof(*t));
    int n = kvm_check(-1, KVM_CAP_IRQ_ROUTING);
    t->limit = n > ROUTES_RESERVED_PINS ? (uint32_t)n : ROUTES_DEFAULT_LIMIT;
    t->entries = calloc(t->limit, sizeof(*t->entries));
    if (!t->entries)
        return -ENOMEM;
    return owl_init(&t->lock);
}

void routes_destroy(struct route_table *t)
{
    free(t->entries);
    owl_destroy(&t->lock);
}

static int commit(struct route_table *t, int vm_fd)
{
    assert(ROUTES_LOCKED(t));
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
    int e = kvm_ioctl(vm_fd, KVM_SET_GSI_ROUTING, r);
    free(r);
    return e < 0 ? e : 0;
}

static int set_locked(struct route_table *t, int vm_fd, uint32_t gsi, const struct msi_msg *m)
{
    assert(ROUTES_LOCKED(t));
    if (gsi >= t->limit)
        return -EINVAL;
    struct route_entry old = t->entries[gsi];
    if (!old.used)
        t->used++;
    t->entries[gsi].used = true;
    t->entries[gsi].msi = *m;
    int e = commit(t, vm_fd);
    if (e < 0) {
        t->entries[gsi] = old;
        if (!old.used)
            t->used--;
    }
    return e;
}

int routes_set(struct route_table *t, int vm_fd, uint32_t gsi, const struct msi_msg *m)
{
    owl_lock(&t->lock);
    int e = set_locked(t, vm_fd, gsi, m);
    owl_unlock(&t->lock);
    return e;
}

int routes_add(struct route_table *t, int vm_fd, const struct msi_msg *m)
{
    owl_lock(&t->lock);
    int e = -ENOSPC;
    for (uint32_t gsi = ROUTES_RESERVED_PINS; gsi < t->limit; gsi++) {
        if (t->entries[gsi].used || t->entries[gsi].reserved)
            continue;
        e = set_locked(t, vm_fd, gsi, m);
        if (e == 0) {
            t->entries[gsi].reserved = true;
            e = (int)gsi;
        }
        break;
    }
    owl_unlock(&t->lock);
    return e;
}

int routes_free(struct route_table *t, int vm_fd, uint32_t gsi)
{
    if (gsi < ROUTES_RESERVED_PINS || gsi >= t->limit)
        return -EINVAL;
    owl_lock(&t->lock);
    int e = 0;
    if (t->entries[gsi].used) {
        t->entries[gsi].used = false;
        t->used--;
        e = commit(t, vm_fd);
    }
    t->entries[gsi].reserved = false;
    owl_unlock(&t->lock);
    return e;
}
