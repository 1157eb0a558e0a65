/* WHP event HANDLEs on Linux: each is an eventfd, so KVM can signal it (ioeventfd: doorbells,
 * the SynIC's HvSignalEvent) and consume it (irqfd: triggers) with no user-space step, and a
 * program can poll/epoll it. Auto-reset events are consumed by a successful wait; manual-reset
 * events stay signaled until reset. <compat/windows.h> maps the Win32 names onto these. */
#ifndef OPENWHP_EVENT_H
#define OPENWHP_EVENT_H

#include <openwhp/wintypes.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OPENWHP_MAXIMUM_WAIT_OBJECTS 64

/* A new unsignaled or signaled event, or NULL (errno set). The HANDLE is opaque (not the fd);
 * a closed handle stays invalid even after its fd number is reused. */
HANDLE OpenWhpCreateEvent(BOOL ManualReset, BOOL InitialState);
/* Signals the event (adds 1 to the eventfd counter). FALSE with errno EBADF for a NULL, closed
 * or foreign handle, as for every function here. */
BOOL OpenWhpSetEvent(HANDLE Event);
/* Unsignals the event (reads the counter to zero). */
BOOL OpenWhpResetEvent(HANDLE Event);
/* WAIT_OBJECT_0, WAIT_TIMEOUT or WAIT_FAILED (errno set); TimeoutMs may be INFINITE. */
DWORD OpenWhpWaitForEvent(HANDLE Event, DWORD TimeoutMs);
/* Count is 1..OPENWHP_MAXIMUM_WAIT_OBJECTS, else WAIT_FAILED with errno EINVAL.
 * Wait-any: WAIT_OBJECT_0 + the lowest signaled index; only that event is consumed.
 * Wait-all: WAIT_OBJECT_0 once every event was seen signaled at one check; the auto-reset ones
 * are consumed only then (the check and the consumption exclude this library's other waits and
 * resets, not KVM's irqfd or a raw read of the fd: such a read makes the wait continue). The
 * same handle twice in a wait-all is WAIT_FAILED, errno EINVAL. */
DWORD OpenWhpWaitForEvents(DWORD Count, const HANDLE *Events, BOOL WaitAll, DWORD TimeoutMs);
/* Invalidates the handle at once; the eventfd is closed when no wait uses it any more (a wait
 * in progress goes on until it is signaled, e.g. by KVM, or times out). */
BOOL OpenWhpCloseEvent(HANDLE Event);
/* The eventfd, for poll/epoll, or -1 (errno EBADF). A counter > 0 means signaled; read it only
 * to consume an auto-reset event. It stays valid until the handle is closed. */
int OpenWhpEventFd(HANDLE Event);

#ifdef __cplusplus
}
#endif

#endif
