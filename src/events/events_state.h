/* The events subsystem's state (private to events/): the partition's doorbells, triggers and
 * notification ports, and the SynicEvent trigger worker. A trigger or port handle is a
 * process-wide serial number, never an address: a stale or forged one finds nothing. */
#ifndef OPENWHP_EVENTS_STATE_H
#define OPENWHP_EVENTS_STATE_H

#include "events/events.h"

struct whp_doorbell {
    struct whp_doorbell *next;
    WHV_DOORBELL_MATCH_DATA match;
    int fd;   /* our duplicate of the caller's eventfd */
    bool pio; /* port I/O doorbell (Linux extension): GuestAddress is the port */
};

struct whp_trigger {
    struct whp_trigger *next;
    uint64_t id; /* the WHV_TRIGGER_HANDLE */
    WHV_TRIGGER_PARAMETERS params;
    HANDLE event; /* created here, owned by the caller */
    int fd;       /* our duplicate of its eventfd */
    uint32_t gsi;
};

struct whp_port {
    struct whp_port *next;
    uint64_t id; /* the WHV_NOTIFICATION_PORT_HANDLE */
    WHV_NOTIFICATION_PORT_PARAMETERS params;
    HANDLE event;
    int fd; /* our duplicate of the event's eventfd (Event ports) */
    uint32_t preferred_vp;
    uint64_t preferred_duration;
};

struct events_part {
    /* Protects the lists and the worker's fields. Taken before the SynIC's lock, the routing
     * table's and the memory map's (events call into all three while holding it). */
    struct owl lock;
    struct whp_doorbell *doorbells;
    struct whp_trigger *triggers;
    struct whp_port *ports;
    int worker_epoll, worker_stop; /* SynicEvent trigger worker (trigger.c), or -1 */
    pthread_t worker;
    bool worker_running;
};

#define EVENTS_LOCK(p) owl_lock(&(p)->events->lock)
#define EVENTS_UNLOCK(p) owl_unlock(&(p)->events->lock)
#define EVENTS_LOCKED(p) owl_held(&(p)->events->lock)

/* Pure validation of doorbell match data (also used by the unit tests): 0 or -EINVAL. */
int doorbell_check(const WHV_DOORBELL_MATCH_DATA *m, bool pio);
/* Whether two registrations at the same address may coexist (all value+length, same length,
 * distinct values). */
bool doorbell_compatible(const WHV_DOORBELL_MATCH_DATA *a, const WHV_DOORBELL_MATCH_DATA *b);

/* With the events lock held. */
HRESULT doorbell_add(struct whp_partition *p, const WHV_DOORBELL_MATCH_DATA *m, HANDLE event,
                     bool pio);
HRESULT doorbell_remove(struct whp_partition *p, const WHV_DOORBELL_MATCH_DATA *m, bool pio);
/* Stops the SynicEvent trigger worker, if it runs. */
void trigger_stop_worker(struct whp_partition *p);

#endif
