/* The last error (thread-local, set on failure, kept on success), time, the CRT string names
 * and the windows.h macros. */
#include <windows.h>

#include <errno.h>

#include "check.h"

static DWORD WINAPI other_thread(LPVOID param)
{
    DWORD start = GetLastError(); /* a new thread starts at 0 */
    SetLastError(1234);
    *(DWORD *)param = start;
    return GetLastError();
}

int main(void)
{
    /* Thread-local. */
    SetLastError(77);
    DWORD start = 99, code = 0;
    HANDLE t = CreateThread(NULL, 0, other_thread, &start, 0, NULL);
    CHECK_EQ(WaitForSingleObject(t, 5000), WAIT_OBJECT_0);
    CHECK(GetExitCodeThread(t, &code) && code == 1234 && start == 0);
    CHECK_EQ(GetLastError(), 77);
    /* A success leaves it alone (where Windows documents nothing else)... */
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, NULL); /* ...CreateEvent sets ERROR_SUCCESS */
    CHECK_EQ(GetLastError(), ERROR_SUCCESS);
    SetLastError(55);
    CHECK(SetEvent(e) && GetLastError() == 55);
    CHECK(CloseHandle(e) && CloseHandle(t) && GetLastError() == 55);
    /* ...and each failure sets it. */
    CHECK(!SetEvent(e));
    CHECK_EQ(GetLastError(), ERROR_INVALID_HANDLE);
    LARGE_INTEGER li;
    CHECK(!QueryPerformanceCounter(NULL));
    CHECK_EQ(GetLastError(), ERROR_NOACCESS);

    /* Time. */
    LARGE_INTEGER f, a, b;
    CHECK(QueryPerformanceFrequency(&f) && f.QuadPart == 10000000);
    CHECK(QueryPerformanceCounter(&a));
    ULONGLONG t0 = GetTickCount64();
    Sleep(20);
    CHECK(QueryPerformanceCounter(&b));
    CHECK(b.QuadPart - a.QuadPart >= 19 * (f.QuadPart / 1000));
    CHECK(GetTickCount64() - t0 >= 19);
    CHECK((DWORD)GetTickCount64() - GetTickCount() < 1000);
    CHECK_EQ(SleepEx(0, TRUE), 0);
    SYSTEMTIME st, lt;
    GetSystemTime(&st);
    GetLocalTime(&lt);
    CHECK(st.wYear >= 2024 && st.wMonth >= 1 && st.wMonth <= 12 && st.wDay >= 1 &&
          st.wDayOfWeek <= 6 && st.wMilliseconds < 1000 && lt.wYear >= 2024);
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    li.LowPart = ft.dwLowDateTime;
    li.HighPart = (LONG)ft.dwHighDateTime;
    CHECK(li.QuadPart > 133000000000000000LL); /* after 2022 in 100 ns units since 1601 */

    /* CRT names. */
    char buf[8];
    CHECK_EQ(_snprintf(buf, sizeof(buf), "%d", 1234), 4);
    CHECK(!strcmp(buf, "1234"));
    memset(buf, 'x', sizeof(buf));
    CHECK_EQ(_snprintf(buf, 4, "%s", "abcd"), 4); /* fits exactly: no terminator */
    CHECK(!memcmp(buf, "abcdx", 5));
    CHECK_EQ(_snprintf(buf, 4, "%s", "abcdef"), -1);
    CHECK(!memcmp(buf, "abcdx", 5));
    CHECK_EQ(sprintf_s(buf, sizeof(buf), "%s", "abc"), 3);
    CHECK_EQ(sprintf_s(buf, sizeof(buf), "%s", "abcdefgh"), -1);
    CHECK(buf[0] == '\0' && errno == ERANGE);
    CHECK_EQ(_snprintf_s(buf, sizeof(buf), _TRUNCATE, "%s", "abcdefghij"), -1);
    CHECK(!strcmp(buf, "abcdefg"));
    CHECK_EQ(_snprintf_s(buf, sizeof(buf), 3, "%s", "abcdef"), -1);
    CHECK(!strcmp(buf, "abc"));
    CHECK_EQ(_snprintf_s(buf, sizeof(buf), 5, "%d", 42), 2);
    CHECK_EQ(strcpy_s(buf, sizeof(buf), "hello"), 0);
    CHECK_EQ(strcat_s(buf, sizeof(buf), "!!"), 0);
    CHECK(!strcmp(buf, "hello!!"));
    CHECK_EQ(strcat_s(buf, sizeof(buf), "?"), ERANGE);
    CHECK_EQ(strcpy_s(buf, 3, "abc"), ERANGE);
    CHECK(_stricmp("WinHv", "winhv") == 0 && _strnicmp("ABx", "aby", 2) == 0);

    /* windows.h macros. */
    int arr[5];
    CHECK_EQ(ARRAYSIZE(arr), 5);
    CHECK_EQ(RTL_NUMBER_OF(arr), 5);
    CHECK_EQ(MAKELONG(0x1234, 0x5678), 0x56781234);
    CHECK_EQ(LOWORD(0x56781234), 0x1234);
    CHECK_EQ(HIWORD(0x56781234), 0x5678);
    CHECK_EQ(min(3, 4), 3);
    CHECK_EQ(max(3, 4), 4);
    CHECK_EQ(MAX_PATH, 260);
    CHECK(INVALID_HANDLE_VALUE == (HANDLE)(LONG_PTR)-1);
    CHECK(TRUE == 1 && FALSE == 0);
    PBYTE pb = (PBYTE)arr;
    LPSTR s = (LPSTR)buf;
    LPDWORD pd = &code;
    CHECK(pb && s && pd);
    return check_report();
}
