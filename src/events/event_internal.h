/* The library's view of event HANDLEs: the eventfd behind one, or -1 if it is not an event.
 * The fd is the handle's: valid until the program closes the handle (KVM takes its own
 * reference when the fd is registered as an irqfd or ioeventfd). */
#ifndef OPENWHP_EVENT_INTERNAL_H
#define OPENWHP_EVENT_INTERNAL_H

#include <openwhp/event.h>

int evt_fd(HANDLE h);
/* A private duplicate of the eventfd (close-on-exec) that outlives the caller closing the
 * handle: what KVM registrations keep, so they can always be removed. -1 on failure. */
int evt_dup(HANDLE h);

#endif
