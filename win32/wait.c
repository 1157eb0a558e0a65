/* WaitForSingleObject(Ex) and WaitForMultipleObjects(Ex) on any handle: each handle becomes the
 * event that stands for it (an event itself, a thread's exit event) and the library waits on
 * those; files are always signaled, so they are answered without waiting. */
#include "w32.h"

#include <errno.h>

struct wait_set {
    DWORD n;
    HANDLE events[MAXIMUM_WAIT_OBJECTS]; /* what the library waits on */
    DWORD index[MAXIMUM_WAIT_OBJECTS];   /* the caller's index of events[i] */
    struct w32_object *held[MAXIMUM_WAIT_OBJECTS]; /* table objects kept alive during the wait */
    DWORD nheld;
    DWORD first_file; /* lowest caller index of a file, or MAXIMUM_WAIT_OBJECTS */
};

static void release(struct wait_set *w)
{
    for (DWORD i = 0; i < w->nheld; i++)
        w32_object_put(w->held[i]);
}

/* Fills w from the caller's handles; false with the last error set. */
static bool translate(struct wait_set *w, DWORD count, const HANDLE *handles, BOOL all)
{
    w->n = w->nheld = 0;
    w->first_file = MAXIMUM_WAIT_OBJECTS;
    for (DWORD i = 0; i < count; i++) {
        /* As Windows, wait-all refuses the same handle twice. */
        for (DWORD j = 0; all && j < i; j++)
            if (handles[j] == handles[i])
                return w32_fail(ERROR_INVALID_PARAMETER);
        if (!handles[i])
            return w32_fail(ERROR_INVALID_HANDLE);
        if (!w32_handle_is_table(handles[i])) {
            w->index[w->n] = i;
            w->events[w->n++] = handles[i];
            continue;
        }
        struct w32_object *o = w32_handle_get_any(handles[i]);
        if (!o)
            return false;
        w->held[w->nheld++] = o;
        HANDLE e = w32_thread_exit_event(o);
        if (!e) {
            if (w->first_file == MAXIMUM_WAIT_OBJECTS)
                w->first_file = i;
            continue;
        }
        w->index[w->n] = i;
        w->events[w->n++] = e;
    }
    return true;
}

static DWORD library_wait(DWORD n, const HANDLE *events, BOOL all, DWORD ms)
{
    DWORD r = OpenWhpWaitForEvents(n, events, all, ms);
    if (r == WAIT_FAILED)
        w32_fail(errno == EINVAL ? ERROR_INVALID_PARAMETER : ERROR_INVALID_HANDLE);
    return r;
}

static DWORD wait_set(struct wait_set *w, BOOL all, DWORD ms)
{
    if (w->first_file == MAXIMUM_WAIT_OBJECTS || (all && w->n > 0)) {
        DWORD r = library_wait(w->n, w->events, all, ms);
        if (r < WAIT_OBJECT_0 + w->n && !all)
            return WAIT_OBJECT_0 + w->index[r - WAIT_OBJECT_0];
        return r;
    }
    if (all)
        return WAIT_OBJECT_0; /* only files */
    /* Wait-any with a file: an event before the first file wins if it is signaled now. */
    DWORD before = 0;
    while (before < w->n && w->index[before] < w->first_file)
        before++;
    if (before) {
        DWORD r = library_wait(before, w->events, FALSE, 0);
        if (r < WAIT_OBJECT_0 + before)
            return WAIT_OBJECT_0 + w->index[r - WAIT_OBJECT_0];
        if (r == WAIT_FAILED)
            return r;
    }
    return WAIT_OBJECT_0 + w->first_file;
}

DWORD WINAPI WaitForMultipleObjectsEx(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                      DWORD dwMilliseconds, BOOL bAlertable)
{
    (void)bAlertable; /* no APCs: an alertable wait is an ordinary one */
    if (!lpHandles || nCount == 0 || nCount > MAXIMUM_WAIT_OBJECTS) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return WAIT_FAILED;
    }
    struct wait_set w;
    DWORD r = WAIT_FAILED;
    if (translate(&w, nCount, lpHandles, bWaitAll))
        r = wait_set(&w, bWaitAll, dwMilliseconds);
    release(&w);
    return r;
}

DWORD WINAPI WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                    DWORD dwMilliseconds)
{
    return WaitForMultipleObjectsEx(nCount, lpHandles, bWaitAll, dwMilliseconds, FALSE);
}

DWORD WINAPI WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable)
{
    return WaitForMultipleObjectsEx(1, &hHandle, FALSE, dwMilliseconds, bAlertable);
}

DWORD WINAPI WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)
{
    return WaitForMultipleObjectsEx(1, &hHandle, FALSE, dwMilliseconds, FALSE);
}
