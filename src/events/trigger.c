/* Triggers: an event whose signal injects an interrupt inside KVM (irqfd on a GSI with an MSI
 * route), with no user-space work per signal. Update rewrites the route, which KVM swaps
 * atomically; delete detaches the irqfd and leaves the event to the caller. SynicEvent triggers
 * need a user-space step (the flag lives in guest memory): a per-partition worker thread waits
 * on their events and sets the flags. */
#include "events/events_state.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "apic/apic_dest.h"
#include "events/event_internal.h"
#include "synic/synic.h"
#include <openwhp/event.h>

#define WORKER_BATCH 16

/* The MSI a trigger's parameters stand for, or an HRESULT saying why there is none. */
static HRESULT trigger_msi(struct whp_partition *p, const WHV_TRIGGER_PARAMETERS *t,
                           struct msi_msg *m)
{
    if (t->Reserved)
        return E_INVALIDARG;
    switch (t->TriggerType) {
    case WHvTriggerTypeInterrupt: {
        const WHV_INTERRUPT_CONTROL *ic = &t->Interrupt;
        if (p->cfg.apic_mode == WHvX64LocalApicEmulationModeNone)
            return ERROR_HV_OPERATION_DENIED;
        bool fixed = ic->Type == WHvX64InterruptTypeFixed ||
                     ic->Type == WHvX64InterruptTypeLowestPriority;
        /* Level triggers would need an EOI per signal, which no user-space step sees. */
        if ((!fixed && ic->Type != WHvX64InterruptTypeNmi) || ic->DestinationMode > 1 ||
            ic->TriggerMode != WHvX64InterruptTriggerModeEdge || ic->TargetVtl || ic->Reserved ||
            ic->Vector >= APIC_VECTORS || (fixed && ic->Vector < APIC_FIRST_USABLE_VECTOR))
            return E_INVALIDARG;
        *m = apic_msi_encode(ic->Type, ic->DestinationMode == WHvX64InterruptDestinationModeLogical,
                             false, ic->Destination, (uint8_t)ic->Vector);
        return S_OK;
    }
    case WHvTriggerTypeDeviceInterrupt:
        /* There is no virtual PCI here: LogicalDeviceId is recorded, not checked; the MSI
         * address and data say everything. */
        if (t->DeviceInterrupt.Reserved || (t->DeviceInterrupt.MsiAddress & ~0xffffffffffull) ||
            (t->DeviceInterrupt.MsiAddress & MSI_ADDRESS_BASE_MASK) != MSI_ADDRESS_BASE)
            return E_INVALIDARG;
        *m = (struct msi_msg){(uint32_t)t->DeviceInterrupt.MsiAddress,
                               (uint32_t)(t->DeviceInterrupt.MsiAddress >> 32),
                               t->DeviceInterrupt.MsiData};
        return S_OK;
    case WHvTriggerTypeSynicEvent:
        return synic_check_event(p, &t->SynicEvent);
    default:
        return E_INVALIDARG;
    }
}

static struct whp_trigger **find(struct whp_partition *p, WHV_TRIGGER_HANDLE h)
{
    assert(EVENTS_LOCKED(p));
    for (struct whp_trigger **pp = &p->events->triggers; *pp; pp = &(*pp)->next)
        if ((*pp)->id == (uint64_t)(uintptr_t)h)
            return pp;
    return NULL;
}

/* ---- SynicEvent triggers ---- */

/* The worker: each readable trigger event is consumed and its flag set. Triggers are looked up
 * in the list under the events lock, so a deleted one is never touched. */
static void *synic_worker(void *arg)
{
    struct whp_partition *p = arg;
    for (;;) {
        struct epoll_event ev[WORKER_BATCH];
        int n = epoll_wait(p->events->worker_epoll, ev, WORKER_BATCH, -1);
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == NULL)
                return NULL; /* the stop event: the partition is going away */
            EVENTS_LOCK(p);
            for (struct whp_trigger *t = p->events->triggers; t; t = t->next) {
                uint64_t count;
                if (t != ev[i].data.ptr || read(t->fd, &count, sizeof(count)) != sizeof(count))
                    continue;
                synic_signal(p, &t->params.SynicEvent, NULL); /* coalesced signals: one flag */
            }
            EVENTS_UNLOCK(p);
        }
    }
}

/* Adds (or removes) a SynicEvent trigger's event to the worker's set, starting the worker on
 * first use. */
static int synic_watch(struct whp_partition *p, struct whp_trigger *t, bool add)
{
    assert(EVENTS_LOCKED(p));
    struct events_part *e = p->events;
    if (add && e->worker_epoll < 0) {
        e->worker_epoll = epoll_create1(EPOLL_CLOEXEC);
        e->worker_stop = eventfd(0, EFD_CLOEXEC);
        struct epoll_event stop = {.events = EPOLLIN, .data.ptr = NULL};
        int r = e->worker_epoll < 0 || e->worker_stop < 0 ||
                        epoll_ctl(e->worker_epoll, EPOLL_CTL_ADD, e->worker_stop, &stop) < 0
                    ? -errno
                    : -pthread_create(&e->worker, NULL, synic_worker, p);
        e->worker_running = r == 0;
        if (r < 0) {
            trigger_stop_worker(p);
            return r;
        }
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = t};
    if (epoll_ctl(e->worker_epoll, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, t->fd, &ev) < 0)
        return -errno;
    return 0;
}

/* Not under the events lock: the worker takes it for every event. Called from a failed first
 * watch (with the lock, before the worker ever ran) and from partition teardown (without). */
void trigger_stop_worker(struct whp_partition *p)
{
    struct events_part *e = p->events;
    uint64_t one = 1;
    if (e->worker_running && write(e->worker_stop, &one, sizeof(one)) == sizeof(one))
        pthread_join(e->worker, NULL);
    e->worker_running = false;
    if (e->worker_epoll >= 0)
        close(e->worker_epoll);
    if (e->worker_stop >= 0)
        close(e->worker_stop);
    e->worker_epoll = e->worker_stop = -1;
}

static int irqfd(struct whp_partition *p, int fd, uint32_t gsi, bool assign)
{
    struct kvm_irqfd f = {.fd = (uint32_t)fd, .gsi = gsi,
                          .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN};
    return kvm_ioctl(p->vm_fd, KVM_IRQFD, &f);
}

HRESULT WINAPI WHvCreateTrigger(WHV_PARTITION_HANDLE Partition,
                                const WHV_TRIGGER_PARAMETERS *Parameters,
                                WHV_TRIGGER_HANDLE *TriggerHandle, HANDLE *EventHandle)
{
    if (!Parameters || !TriggerHandle || !EventHandle)
        return E_INVALIDARG;
    *TriggerHandle = NULL;
    *EventHandle = NULL;
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    struct msi_msg m;
    struct whp_trigger *t = NULL;
    HRESULT hr = atomic_load(&p->setup) ? trigger_msi(p, Parameters, &m)
                                        : WHV_E_INVALID_PARTITION_CONFIG;
    if (SUCCEEDED(hr) && !(t = calloc(1, sizeof(*t))))
        hr = E_OUTOFMEMORY;
    if (SUCCEEDED(hr)) {
        t->params = *Parameters;
        t->id = obj_new_serial();
        t->event = OpenWhpCreateEvent(FALSE, FALSE);
        t->fd = evt_dup(t->event);
        if (t->fd < 0)
            hr = E_OUTOFMEMORY;
    }
    if (SUCCEEDED(hr) && Parameters->TriggerType == WHvTriggerTypeSynicEvent) {
        EVENTS_LOCK(p);
        int r = synic_watch(p, t, true);
        if (r == 0) {
            t->next = p->events->triggers;
            p->events->triggers = t;
        }
        EVENTS_UNLOCK(p);
        hr = hr_from_errno(r);
    } else if (SUCCEEDED(hr)) {
        EVENTS_LOCK(p);
        int gsi = routes_add(&p->routes, p->vm_fd, &m);
        int r = gsi < 0 ? gsi : irqfd(p, t->fd, (uint32_t)gsi, true);
        if (r < 0 && gsi >= 0)
            routes_free(&p->routes, p->vm_fd, (uint32_t)gsi);
        if (r == 0) {
            t->gsi = (uint32_t)gsi;
            t->next = p->events->triggers;
            p->events->triggers = t;
        }
        EVENTS_UNLOCK(p);
        hr = r == -ENOSPC ? HRESULT_FROM_WIN32(ERROR_BUSY) : hr_from_errno(r);
    }
    if (SUCCEEDED(hr)) {
        *TriggerHandle = (WHV_TRIGGER_HANDLE)(uintptr_t)t->id;
        *EventHandle = t->event;
    } else if (t) {
        if (t->fd >= 0)
            close(t->fd);
        if (t->event)
            OpenWhpCloseEvent(t->event);
        free(t);
    }
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvUpdateTriggerParameters(WHV_PARTITION_HANDLE Partition,
                                          const WHV_TRIGGER_PARAMETERS *Parameters,
                                          WHV_TRIGGER_HANDLE TriggerHandle)
{
    if (!Parameters)
        return E_INVALIDARG;
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr;
    EVENTS_LOCK(p);
    struct whp_trigger **pp = find(p, TriggerHandle);
    struct msi_msg m;
    if (!pp)
        hr = E_HANDLE;
    else if (Parameters->TriggerType != (*pp)->params.TriggerType)
        hr = E_INVALIDARG; /* a trigger keeps its type */
    else if (SUCCEEDED(hr = trigger_msi(p, Parameters, &m)) &&
             Parameters->TriggerType == WHvTriggerTypeSynicEvent)
        (*pp)->params = *Parameters; /* the worker reads it under the events lock */
    else if (SUCCEEDED(hr)) {
        hr = hr_from_errno(routes_set(&p->routes, p->vm_fd, (*pp)->gsi, &m));
        if (SUCCEEDED(hr))
            (*pp)->params = *Parameters;
    }
    EVENTS_UNLOCK(p);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvDeleteTrigger(WHV_PARTITION_HANDLE Partition, WHV_TRIGGER_HANDLE TriggerHandle)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    EVENTS_LOCK(p);
    struct whp_trigger **pp = find(p, TriggerHandle);
    if (!pp) {
        hr = E_HANDLE;
    } else {
        struct whp_trigger *t = *pp;
        *pp = t->next;
        int r;
        if (t->params.TriggerType == WHvTriggerTypeSynicEvent) {
            r = synic_watch(p, t, false);
        } else {
            r = irqfd(p, t->fd, t->gsi, false);
            if (r == 0)
                r = routes_free(&p->routes, p->vm_fd, t->gsi);
        }
        close(t->fd);
        free(t); /* the event stays valid: it belongs to the caller */
        hr = hr_from_errno(r);
    }
    EVENTS_UNLOCK(p);
    part_put(p);
    return hr;
}
