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

/* A new event, or NULL (errno set). */
HANDLE OpenWhpCreateEvent(BOOL ManualReset, BOOL InitialState);
BOOL OpenWhpSetEvent(HANDLE Event);
BOOL OpenWhpResetEvent(HANDLE Event);
/* WAIT_OBJECT_0, WAIT_TIMEOUT or WAIT_FAILED (errno set); TimeoutMs may be INFINITE. */
DWORD OpenWhpWaitForEvent(HANDLE Event, DWORD TimeoutMs);
/* Wait-any: WAIT_OBJECT_0 + the lowest signaled index. Wait-all: WAIT_OBJECT_0 once every
 * event is signaled at the same moment; auto-reset ones are consumed only then. */
DWORD OpenWhpWaitForEvents(DWORD Count, const HANDLE *Events, BOOL WaitAll, DWORD TimeoutMs);
BOOL OpenWhpCloseEvent(HANDLE Event);
/* The eventfd, for poll/epoll (read it only for an auto-reset event's semantics), or -1. */
int OpenWhpEventFd(HANDLE Event);

#ifdef __cplusplus
}
#endif

#endif
