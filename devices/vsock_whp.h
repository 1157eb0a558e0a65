/* Wires a vsock device to a WHP partition with public calls only: a doorbell notification port
 * on QueueNotify (the guest's notifications signal the device's notify event inside the
 * hypervisor, no exit) and an Interrupt trigger (the device's signal interrupts the guest, no
 * user-space step). */
#ifndef OPENWHP_DEVICES_VSOCK_WHP_H
#define OPENWHP_DEVICES_VSOCK_WHP_H

#include <WinHvPlatform.h>
#include <openwhp/event.h>

struct vsock_whp {
    WHV_PARTITION_HANDLE partition;
    HANDLE notify_event;    /* give to vsock_config.notify_event */
    HANDLE interrupt_event; /* give to vsock_config.interrupt_event */
    WHV_NOTIFICATION_PORT_HANDLE port;
    WHV_TRIGGER_HANDLE trigger;
};

/* mmio_base: the device's register window; irq: its interrupt (fixed or lowest priority, edge). */
HRESULT vsock_whp_attach(struct vsock_whp *w, WHV_PARTITION_HANDLE partition, uint64_t mmio_base,
                         const WHV_INTERRUPT_CONTROL *irq);
/* Deletes the port and the trigger and closes both events (after vsock_destroy). */
void vsock_whp_detach(struct vsock_whp *w);

#endif
