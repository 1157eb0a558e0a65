/* Opt-in <windows.h> replacement: with include/compat on the include path, Windows programs that
 * include <windows.h> for the WHP API get the openwhp base types and error codes instead. */
#ifndef OPENWHP_COMPAT_WINDOWS_H
#define OPENWHP_COMPAT_WINDOWS_H

#include <openwhp/wintypes.h>

/* ==== Win32 event functions (CreateEvent, SetEvent, WaitForSingleObject, CloseHandle, ...) ====
 * The Win32 names WHP programs use around the API, onto <openwhp/event.h>. Only unnamed events
 * exist (a name gives NULL, errno ENOTSUP); CloseHandle closes events only. */
#include <errno.h>
#include <openwhp/event.h>

#ifndef MAXIMUM_WAIT_OBJECTS
#define MAXIMUM_WAIT_OBJECTS OPENWHP_MAXIMUM_WAIT_OBJECTS
#endif
typedef struct _SECURITY_ATTRIBUTES *LPSECURITY_ATTRIBUTES;
typedef const WCHAR *LPCWSTR;
typedef const char *LPCSTR;

static inline HANDLE CreateEventW(LPSECURITY_ATTRIBUTES Attributes, BOOL ManualReset,
                                  BOOL InitialState, LPCWSTR Name)
{
    (void)Attributes;
    if (Name) {
        errno = ENOTSUP;
        return NULL;
    }
    return OpenWhpCreateEvent(ManualReset, InitialState);
}

static inline HANDLE CreateEventA(LPSECURITY_ATTRIBUTES Attributes, BOOL ManualReset,
                                  BOOL InitialState, LPCSTR Name)
{
    (void)Attributes;
    if (Name) {
        errno = ENOTSUP;
        return NULL;
    }
    return OpenWhpCreateEvent(ManualReset, InitialState);
}

#ifdef UNICODE
#define CreateEvent CreateEventW
#else
#define CreateEvent CreateEventA
#endif

static inline BOOL SetEvent(HANDLE Event) { return OpenWhpSetEvent(Event); }
static inline BOOL ResetEvent(HANDLE Event) { return OpenWhpResetEvent(Event); }
static inline BOOL CloseHandle(HANDLE Object) { return OpenWhpCloseEvent(Object); }

static inline DWORD WaitForSingleObject(HANDLE Handle, DWORD Milliseconds)
{
    return OpenWhpWaitForEvent(Handle, Milliseconds);
}

static inline DWORD WaitForMultipleObjects(DWORD Count, const HANDLE *Handles, BOOL WaitAll,
                                           DWORD Milliseconds)
{
    return OpenWhpWaitForEvents(Count, Handles, WaitAll, Milliseconds);
}

/* ==== end of Win32 event functions ==== */

#endif /* OPENWHP_COMPAT_WINDOWS_H */
