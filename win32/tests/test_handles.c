/* One HANDLE namespace: events (the library's own), threads and files; waits on any of them,
 * wait-any/wait-all, timeouts, CloseHandle on each kind and double closes. */
#include <windows.h>

#include <stdlib.h>
#include <unistd.h>

#include "check.h"

static DWORD WINAPI signal_later(LPVOID param)
{
    Sleep(50);
    SetEvent((HANDLE)param);
    return 7;
}

static DWORD WINAPI quick(LPVOID param)
{
    *(DWORD *)param = GetCurrentThreadId();
    return 42;
}

static DWORD WINAPI wait_for_event(LPVOID param)
{
    return WaitForSingleObject((HANDLE)param, 5000) == WAIT_OBJECT_0 ? 1 : 0;
}

int main(void)
{
    /* An event signaled from another thread wakes the wait; the thread's exit code. */
    HANDLE ev = CreateEventA(NULL, FALSE, FALSE, NULL);
    CHECK(ev != NULL);
    CHECK_EQ(GetLastError(), ERROR_SUCCESS);
    DWORD tid = 0;
    HANDLE th = CreateThread(NULL, 0, signal_later, ev, 0, &tid);
    CHECK(th != NULL && tid != 0 && tid != GetCurrentThreadId());
    CHECK_EQ(GetThreadId(th), tid);
    CHECK_EQ(WaitForSingleObject(ev, 5000), WAIT_OBJECT_0);
    CHECK_EQ(WaitForSingleObject(th, 5000), WAIT_OBJECT_0);
    CHECK_EQ(WaitForSingleObject(th, 0), WAIT_OBJECT_0); /* a thread stays signaled */
    DWORD code = 0;
    CHECK(GetExitCodeThread(th, &code) && code == 7);

    /* The event HANDLE is the library's: OpenWhp* functions accept it, and the reverse. */
    CHECK(OpenWhpEventFd(ev) >= 0);
    CHECK(OpenWhpEventFd(th) == -1); /* a thread is not an event to the library */
    CHECK(!SetEvent(th));
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    HANDLE lib = OpenWhpCreateEvent(TRUE, FALSE);
    CHECK(OpenWhpSetEvent(lib));
    CHECK_EQ(WaitForSingleObject(lib, 0), WAIT_OBJECT_0);
    CHECK(CloseHandle(lib));

    /* Timeouts. */
    CHECK_EQ(WaitForSingleObject(ev, 0), WAIT_TIMEOUT);
    DWORD t0 = GetTickCount();
    CHECK_EQ(WaitForSingleObjectEx(ev, 30, TRUE), WAIT_TIMEOUT);
    CHECK(GetTickCount() - t0 >= 25);

    /* Wait-any gives the lowest signaled index; wait-all waits for all kinds together. */
    HANDLE m = CreateEventW(NULL, TRUE, FALSE, NULL);
    char path[] = "/tmp/openwhp-w32-handlesXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    HANDLE f = CreateFileA(path, GENERIC_READ, 0, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    CHECK(f != INVALID_HANDLE_VALUE);
    HANDLE set[3] = {ev, m, th};
    CHECK_EQ(WaitForMultipleObjects(2, set, FALSE, 0), WAIT_TIMEOUT);
    CHECK(SetEvent(m));
    CHECK_EQ(WaitForMultipleObjects(3, set, FALSE, 0), WAIT_OBJECT_0 + 1);
    CHECK_EQ(WaitForMultipleObjects(2, set, TRUE, 20), WAIT_TIMEOUT);
    CHECK(SetEvent(ev));
    CHECK_EQ(WaitForMultipleObjects(3, set, TRUE, 0), WAIT_OBJECT_0);
    CHECK_EQ(WaitForSingleObject(ev, 0), WAIT_TIMEOUT); /* auto-reset consumed by wait-all */
    HANDLE with_file[3] = {ev, f, m};
    CHECK_EQ(WaitForMultipleObjects(3, with_file, FALSE, 0), WAIT_OBJECT_0 + 1); /* files are signaled */
    CHECK(SetEvent(ev));
    CHECK_EQ(WaitForMultipleObjects(3, with_file, FALSE, 0), WAIT_OBJECT_0);
    CHECK_EQ(WaitForMultipleObjects(3, with_file, TRUE, 0), WAIT_TIMEOUT);
    CHECK(SetEvent(ev));
    CHECK_EQ(WaitForMultipleObjects(3, with_file, TRUE, 0), WAIT_OBJECT_0);
    CHECK_EQ(WaitForSingleObject(f, INFINITE), WAIT_OBJECT_0);

    /* Wait-all over threads that finish at different times. */
    HANDLE gate = CreateEventA(NULL, TRUE, FALSE, NULL);
    HANDLE workers[4];
    for (int i = 0; i < 4; i++)
        workers[i] = CreateThread(NULL, 0, wait_for_event, gate, 0, NULL);
    CHECK_EQ(WaitForMultipleObjects(4, workers, TRUE, 20), WAIT_TIMEOUT);
    CHECK(SetEvent(gate));
    CHECK_EQ(WaitForMultipleObjects(4, workers, TRUE, 5000), WAIT_OBJECT_0);
    for (int i = 0; i < 4; i++) {
        CHECK(GetExitCodeThread(workers[i], &code) && code == 1);
        CHECK(CloseHandle(workers[i]));
    }

    /* A suspended thread runs only after ResumeThread. */
    DWORD seen = 0;
    HANDLE s = CreateThread(NULL, 64 * 1024, quick, &seen, CREATE_SUSPENDED, &tid);
    CHECK(s != NULL);
    CHECK_EQ(WaitForSingleObject(s, 30), WAIT_TIMEOUT);
    CHECK(GetExitCodeThread(s, &code) && code == STILL_ACTIVE);
    CHECK_EQ(ResumeThread(s), 1);
    CHECK_EQ(WaitForSingleObject(s, 5000), WAIT_OBJECT_0);
    CHECK_EQ(seen, tid);
    CHECK(GetExitCodeThread(s, &code) && code == 42);
    CHECK_EQ(ResumeThread(s), 0);

    /* Closing a thread's handle before it ends is fine (the thread runs on). */
    HANDLE early = CreateThread(NULL, 0, signal_later, m, 0, NULL);
    CHECK(ResetEvent(m));
    CHECK(CloseHandle(early));
    CHECK_EQ(WaitForSingleObject(m, 5000), WAIT_OBJECT_0);

    /* Parameter and handle errors. */
    CHECK_EQ(WaitForMultipleObjects(0, set, FALSE, 0), WAIT_FAILED);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK_EQ(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS + 1, set, FALSE, 0), WAIT_FAILED);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    HANDLE twice[2] = {m, m};
    CHECK_EQ(WaitForMultipleObjects(2, twice, TRUE, 0), WAIT_FAILED);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK_EQ(WaitForSingleObject(NULL, 0), WAIT_FAILED);
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    CHECK(CreateThread(NULL, 0, NULL, NULL, 0, NULL) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(CreateThread(NULL, 0, quick, &seen, 0x80000000u, NULL) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    static const WCHAR name[] = {'n', 0};
    CHECK(CreateEventW(NULL, FALSE, FALSE, name) == NULL);
    CHECK_EQ(GetLastError(), ERROR_NOT_SUPPORTED);
    CHECK(!ReadFile(th, path, 1, &code, NULL)); /* a thread is not a file */
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    CHECK(!GetExitCodeThread(f, &code)); /* a file is not a thread */
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);

    /* CloseHandle on each kind, then again: ERROR_INVALID_HANDLE, and the handles are dead. */
    HANDLE all[] = {ev, m, gate, th, s, f};
    for (size_t i = 0; i < ARRAYSIZE(all); i++) {
        CHECK(CloseHandle(all[i]));
        SetLastError(0);
        CHECK(!CloseHandle(all[i]));
        CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
        CHECK_EQ(WaitForSingleObject(all[i], 0), WAIT_FAILED);
        CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    }
    CHECK(!CloseHandle(NULL));
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    CHECK(CloseHandle(GetCurrentProcess())); /* a pseudo-handle: closing does nothing */
    CHECK(GetCurrentProcessId() == (DWORD)getpid());
    unlink(path);
    return check_report();
}
