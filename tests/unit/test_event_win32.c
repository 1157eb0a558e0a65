/* The Win32 event names of include/compat/windows.h compile and behave as on Windows: CreateEventW,
 * SetEvent, ResetEvent, WaitForSingleObject, WaitForMultipleObjects, CloseHandle. */
#include <stdio.h>

#include "../../include/compat/windows.h"

#include "check.h"

int main(void)
{
    HANDLE a = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE m = CreateEventW(NULL, TRUE, TRUE, NULL);
    HANDLE ca = CreateEventA(NULL, FALSE, TRUE, NULL);
    HANDLE both[2];
    static const WCHAR name[] = {'e', 0};

    CHECK(a != NULL && m != NULL && ca != NULL);
    CHECK(CreateEventW(NULL, FALSE, FALSE, name) == NULL); /* named events do not exist here */
    HANDLE c = CreateEvent(NULL, FALSE, FALSE, NULL);
    CHECK(c != NULL && CloseHandle(c));
    CHECK(WaitForSingleObject(a, 0) == WAIT_TIMEOUT);
    CHECK(SetEvent(a));
    CHECK(WaitForSingleObject(a, INFINITE) == WAIT_OBJECT_0);
    CHECK(WaitForSingleObject(a, 0) == WAIT_TIMEOUT);
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0);
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0);
    CHECK(ResetEvent(m));
    CHECK(WaitForSingleObject(m, 10) == WAIT_TIMEOUT);
    CHECK(WaitForSingleObject(ca, 0) == WAIT_OBJECT_0);

    both[0] = a;
    both[1] = m;
    CHECK(SetEvent(m));
    CHECK(WaitForMultipleObjects(2, both, FALSE, 0) == WAIT_OBJECT_0 + 1);
    CHECK(WaitForMultipleObjects(2, both, TRUE, 0) == WAIT_TIMEOUT);
    CHECK(SetEvent(a));
    CHECK(WaitForMultipleObjects(2, both, TRUE, 0) == WAIT_OBJECT_0);
    CHECK(WaitForSingleObject(a, 0) == WAIT_TIMEOUT);
    CHECK(MAXIMUM_WAIT_OBJECTS == 64);

    CHECK(CloseHandle(a));
    CHECK(CloseHandle(m));
    CHECK(CloseHandle(ca));
    CHECK(!CloseHandle(a));
    CHECK(!SetEvent(a));
    CHECK(WaitForSingleObject(a, 0) == WAIT_FAILED);
    return check_report();
}
