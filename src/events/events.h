/* Triggers, doorbells and notification ports: the partition's event objects. All of them live
 * on lists under whp_partition.events_lock (taken before routes.lock). A trigger or port handle
 * is a process-wide serial number, never an address: a stale or forged one finds nothing. */
#ifndef OPENWHP_EVENTS_H
#define OPENWHP_EVENTS_H

#include "core/core.h"

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

/* A fresh handle value, never 0 and never reused. */
uint64_t events_new_id(void);

/* Pure validation of doorbell match data (also used by the unit tests): 0 or -EINVAL. */
int doorbell_check(const WHV_DOORBELL_MATCH_DATA *m, bool pio);
/* Whether two registrations at the same address may coexist (all value+length, same length,
 * distinct values). */
bool doorbell_compatible(const WHV_DOORBELL_MATCH_DATA *a, const WHV_DOORBELL_MATCH_DATA *b);

/* With events_lock held. */
HRESULT doorbell_add(struct whp_partition *p, const WHV_DOORBELL_MATCH_DATA *m, HANDLE event,
                     bool pio);
HRESULT doorbell_remove(struct whp_partition *p, const WHV_DOORBELL_MATCH_DATA *m, bool pio);

/* Partition teardown: frees every event object (the VM fd going away detaches KVM's side). */
void events_destroy(struct whp_partition *p);
/* Stops the SynicEvent trigger worker, if it runs. */
void events_stop_worker(struct whp_partition *p);

#endif
