/* Notification ports: a Doorbell port is a doorbell owned by a handle; an Event port binds a
 * SynIC connection id to an event, set by the guest's HvSignalEvent once the SynIC delivers it.
 * PreferredTargetVp and PreferredTargetDuration are validated and stored: KVM wakes the waiter
 * wherever the scheduler runs it, so they have no effect here. */
#include "events/events_state.h"

#include <stdlib.h>
#include <unistd.h>

#include "events/event_internal.h"
#include "synic/synic.h"

#define CONNECTION_ID_BITS 24 /* HV_CONNECTION_ID */

static struct whp_port **find(struct whp_partition *p, WHV_NOTIFICATION_PORT_HANDLE h)
{
    assert(EVENTS_LOCKED(p));
    for (struct whp_port **pp = &p->events->ports; *pp; pp = &(*pp)->next)
        if ((*pp)->id == (uint64_t)(uintptr_t)h)
            return pp;
    return NULL;
}

/* Registers the port's doorbell, or (Event ports) the fast-path ioeventfd on *fd, a duplicate
 * of the event's eventfd made here. */
static HRESULT port_add(struct whp_partition *p, const WHV_NOTIFICATION_PORT_PARAMETERS *prm,
                        HANDLE event, int *fd)
{
    assert(EVENTS_LOCKED(p));
    if (prm->Reserved || prm->Reserved1 || prm->ConnectionVtl)
        return E_INVALIDARG;
    if (prm->NotificationPortType == WHvNotificationPortTypeDoorbell)
        return doorbell_add(p, &prm->Doorbell, event, false);
    if (prm->NotificationPortType != WHvNotificationPortTypeEvent)
        return E_INVALIDARG;
    if (evt_fd(event) < 0 || (prm->Event.ConnectionId >> CONNECTION_ID_BITS))
        return E_INVALIDARG;
    for (struct whp_port *o = p->events->ports; o; o = o->next)
        if (o->params.NotificationPortType == WHvNotificationPortTypeEvent &&
            o->params.Event.ConnectionId == prm->Event.ConnectionId)
            return ERROR_HV_INVALID_PARAMETER; /* one port per connection */
    if ((*fd = evt_dup(event)) < 0)
        return E_OUTOFMEMORY;
    /* The SynIC's HvSignalEvent sets the event (on the fast path inside KVM, with no exit). */
    int r = synic_port_attach(p, prm->Event.ConnectionId, *fd, true);
    if (r < 0) {
        close(*fd);
        *fd = -1;
    }
    return hr_from_errno(r);
}

HRESULT WINAPI WHvCreateNotificationPort(WHV_PARTITION_HANDLE Partition,
                                         const WHV_NOTIFICATION_PORT_PARAMETERS *Parameters,
                                         HANDLE EventHandle, WHV_NOTIFICATION_PORT_HANDLE *PortHandle)
{
    if (!Parameters || !PortHandle)
        return E_INVALIDARG;
    *PortHandle = NULL;
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    struct whp_port *o = calloc(1, sizeof(*o));
    HRESULT hr = o ? S_OK : E_OUTOFMEMORY;
    EVENTS_LOCK(p);
    if (SUCCEEDED(hr) && !atomic_load(&p->setup))
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    int fd = -1;
    if (SUCCEEDED(hr))
        hr = port_add(p, Parameters, EventHandle, &fd);
    if (SUCCEEDED(hr)) {
        *o = (struct whp_port){p->events->ports, obj_new_serial(), *Parameters, EventHandle, fd,
                               WHV_ANY_VP, WHV_NOTIFICATION_PORT_PREFERRED_DURATION_MAX};
        p->events->ports = o;
        *PortHandle = (WHV_NOTIFICATION_PORT_HANDLE)(uintptr_t)o->id;
    }
    EVENTS_UNLOCK(p);
    if (FAILED(hr))
        free(o);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvSetNotificationPortProperty(WHV_PARTITION_HANDLE Partition,
                                              WHV_NOTIFICATION_PORT_HANDLE PortHandle,
                                              WHV_NOTIFICATION_PORT_PROPERTY_CODE PropertyCode,
                                              WHV_NOTIFICATION_PORT_PROPERTY PropertyValue)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    EVENTS_LOCK(p);
    struct whp_port **pp = find(p, PortHandle);
    if (!pp)
        hr = E_HANDLE;
    else if (PropertyCode == WHvNotificationPortPropertyPreferredTargetVp) {
        if (PropertyValue != WHV_ANY_VP && PropertyValue >= p->cfg.processor_count)
            hr = E_INVALIDARG;
        else
            (*pp)->preferred_vp = (uint32_t)PropertyValue;
    } else if (PropertyCode == WHvNotificationPortPropertyPreferredTargetDuration) {
        (*pp)->preferred_duration = PropertyValue;
    } else {
        hr = E_INVALIDARG;
    }
    EVENTS_UNLOCK(p);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvDeleteNotificationPort(WHV_PARTITION_HANDLE Partition,
                                         WHV_NOTIFICATION_PORT_HANDLE PortHandle)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    EVENTS_LOCK(p);
    struct whp_port **pp = find(p, PortHandle);
    if (!pp) {
        hr = E_HANDLE;
    } else {
        struct whp_port *o = *pp;
        if (o->params.NotificationPortType == WHvNotificationPortTypeDoorbell)
            hr = doorbell_remove(p, &o->params.Doorbell, false);
        else
            hr = hr_from_errno(synic_port_attach(p, o->params.Event.ConnectionId, o->fd, false));
        if (o->fd >= 0)
            close(o->fd);
        *pp = o->next;
        free(o);
    }
    EVENTS_UNLOCK(p);
    part_put(p);
    return hr;
}
