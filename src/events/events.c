/* The events subsystem's lifetime: its state is created with the partition and freed with it,
 * whatever the program left registered (the VM fd going away detaches KVM's side). */
#include "events/events_state.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int events_part_init(struct whp_partition *p)
{
    struct events_part *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->worker_epoll = e->worker_stop = -1;
    p->events = e;
    return owl_init(&e->lock);
}

void events_part_fini(struct whp_partition *p)
{
    struct events_part *e = p->events;
    if (!e)
        return;
    trigger_stop_worker(p);
    while (e->doorbells) {
        struct whp_doorbell *d = e->doorbells;
        e->doorbells = d->next;
        close(d->fd);
        free(d);
    }
    while (e->triggers) {
        struct whp_trigger *t = e->triggers;
        e->triggers = t->next;
        close(t->fd);
        free(t);
    }
    while (e->ports) {
        struct whp_port *o = e->ports;
        e->ports = o->next;
        if (o->fd >= 0)
            close(o->fd);
        free(o);
    }
    owl_destroy(&e->lock);
    free(e);
    p->events = NULL;
}
