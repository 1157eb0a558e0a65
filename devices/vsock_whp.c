/* vsock device wiring: see vsock_whp.h. */
#include "vsock_whp.h"

#include <string.h>

#include "virtio_mmio.h"

HRESULT vsock_whp_attach(struct vsock_whp *w, WHV_PARTITION_HANDLE partition, uint64_t mmio_base,
                         const WHV_INTERRUPT_CONTROL *irq)
{
    memset(w, 0, sizeof(*w));
    w->partition = partition;
    w->notify_event = OpenWhpCreateEvent(FALSE, FALSE);
    if (!w->notify_event)
        return E_OUTOFMEMORY;

    WHV_NOTIFICATION_PORT_PARAMETERS np;
    memset(&np, 0, sizeof(np));
    np.NotificationPortType = WHvNotificationPortTypeDoorbell;
    np.Doorbell.GuestAddress = mmio_base + VIRTIO_MMIO_QUEUE_NOTIFY; /* any value, any length */
    HRESULT hr = WHvCreateNotificationPort(partition, &np, w->notify_event, &w->port);
    if (SUCCEEDED(hr)) {
        WHV_TRIGGER_PARAMETERS t;
        memset(&t, 0, sizeof(t));
        t.TriggerType = WHvTriggerTypeInterrupt;
        t.Interrupt = *irq;
        hr = WHvCreateTrigger(partition, &t, &w->trigger, &w->interrupt_event);
    }
    if (FAILED(hr))
        vsock_whp_detach(w);
    return hr;
}

void vsock_whp_detach(struct vsock_whp *w)
{
    if (w->trigger)
        WHvDeleteTrigger(w->partition, w->trigger);
    if (w->port)
        WHvDeleteNotificationPort(w->partition, w->port);
    if (w->interrupt_event)
        OpenWhpCloseEvent(w->interrupt_event);
    if (w->notify_event)
        OpenWhpCloseEvent(w->notify_event);
    memset(w, 0, sizeof(*w));
}
