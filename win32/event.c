/* The Win32 event functions: the HANDLEs are the library's own events (<openwhp/event.h>), so
 * they can be given to doorbells, notification ports and triggers, and the library's events
 * (e.g. from WHvCreateTrigger) work here. */
#include "w32.h"

#include <errno.h>

static HANDLE create_event(BOOL manual, BOOL initial, bool named)
{
    if (named) {
        w32_fail(ERROR_NOT_SUPPORTED);
        return NULL;
    }
    HANDLE h = OpenWhpCreateEvent(manual, initial);
    if (!h) {
        w32_fail_errno();
        return NULL;
    }
    SetLastError(ERROR_SUCCESS); /* as Windows: ERROR_ALREADY_EXISTS only for a named event */
    return h;
}

HANDLE WINAPI CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                           BOOL bInitialState, LPCSTR lpName)
{
    (void)lpEventAttributes;
    return create_event(bManualReset, bInitialState, lpName != NULL);
}

HANDLE WINAPI CreateEventW(LPSECURITY_ATTRIBUTES lpEventAttributes, BOOL bManualReset,
                           BOOL bInitialState, LPCWSTR lpName)
{
    (void)lpEventAttributes;
    return create_event(bManualReset, bInitialState, lpName != NULL);
}

/* A table handle (thread, file) is not an event: the library refuses it with EBADF too. */
BOOL WINAPI SetEvent(HANDLE hEvent)
{
    return OpenWhpSetEvent(hEvent) ? TRUE : w32_fail(ERROR_INVALID_HANDLE);
}

BOOL WINAPI ResetEvent(HANDLE hEvent)
{
    return OpenWhpResetEvent(hEvent) ? TRUE : w32_fail(ERROR_INVALID_HANDLE);
}
