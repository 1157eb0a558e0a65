/* Sleep, tick counts, the performance counter and the wall clock: Sleep and the counters use
 * CLOCK_MONOTONIC, GetTickCount counts from boot (CLOCK_BOOTTIME, as Windows counts from
 * start-up), the calendar functions CLOCK_REALTIME. */
#include "w32.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000ll
#define NS_PER_S 1000000000ll
#define PERFORMANCE_FREQUENCY 10000000ll /* 10 MHz, as current Windows reports */
#define NS_PER_PERFORMANCE_TICK (NS_PER_S / PERFORMANCE_FREQUENCY)
#define FILETIME_TICKS_PER_S 10000000ull
#define FILETIME_UNIX_EPOCH 116444736000000000ull /* 1970-01-01 in 100 ns units since 1601 */

static int64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

DWORD WINAPI SleepEx(DWORD dwMilliseconds, BOOL bAlertable)
{
    (void)bAlertable; /* no APCs, so never WAIT_IO_COMPLETION */
    if (dwMilliseconds == INFINITE) {
        for (;;)
            pause();
    }
    struct timespec left = {(time_t)(dwMilliseconds / 1000), (long)(dwMilliseconds % 1000) * NS_PER_MS};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        continue;
    return 0;
}

VOID WINAPI Sleep(DWORD dwMilliseconds)
{
    SleepEx(dwMilliseconds, FALSE);
}

ULONGLONG WINAPI GetTickCount64(VOID)
{
    return (ULONGLONG)(clock_ns(CLOCK_BOOTTIME) / NS_PER_MS);
}

DWORD WINAPI GetTickCount(VOID)
{
    return (DWORD)GetTickCount64();
}

BOOL WINAPI QueryPerformanceCounter(LARGE_INTEGER *lpPerformanceCount)
{
    if (!lpPerformanceCount)
        return w32_fail(ERROR_NOACCESS);
    lpPerformanceCount->QuadPart = clock_ns(CLOCK_MONOTONIC) / NS_PER_PERFORMANCE_TICK;
    return TRUE;
}

BOOL WINAPI QueryPerformanceFrequency(LARGE_INTEGER *lpFrequency)
{
    if (!lpFrequency)
        return w32_fail(ERROR_NOACCESS);
    lpFrequency->QuadPart = PERFORMANCE_FREQUENCY;
    return TRUE;
}

static void to_systemtime(const struct tm *tm, long ns, LPSYSTEMTIME st)
{
    st->wYear = (WORD)(tm->tm_year + 1900);
    st->wMonth = (WORD)(tm->tm_mon + 1);
    st->wDayOfWeek = (WORD)tm->tm_wday;
    st->wDay = (WORD)tm->tm_mday;
    st->wHour = (WORD)tm->tm_hour;
    st->wMinute = (WORD)tm->tm_min;
    st->wSecond = (WORD)tm->tm_sec;
    st->wMilliseconds = (WORD)(ns / NS_PER_MS);
}

static void calendar_time(LPSYSTEMTIME st, bool local)
{
    if (!st) {
        w32_fail(ERROR_NOACCESS);
        return;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (local)
        localtime_r(&ts.tv_sec, &tm);
    else
        gmtime_r(&ts.tv_sec, &tm);
    to_systemtime(&tm, ts.tv_nsec, st);
}

VOID WINAPI GetSystemTime(LPSYSTEMTIME lpSystemTime)
{
    calendar_time(lpSystemTime, false);
}

VOID WINAPI GetLocalTime(LPSYSTEMTIME lpSystemTime)
{
    calendar_time(lpSystemTime, true);
}

VOID WINAPI GetSystemTimeAsFileTime(LPFILETIME lpSystemTimeAsFileTime)
{
    if (!lpSystemTimeAsFileTime) {
        w32_fail(ERROR_NOACCESS);
        return;
    }
    uint64_t t = (uint64_t)clock_ns(CLOCK_REALTIME) / (NS_PER_S / FILETIME_TICKS_PER_S) +
                 FILETIME_UNIX_EPOCH;
    lpSystemTimeAsFileTime->dwLowDateTime = (DWORD)t;
    lpSystemTimeAsFileTime->dwHighDateTime = (DWORD)(t >> 32);
}
