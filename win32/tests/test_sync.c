/* Interlocked operations under threads, critical sections, SRW locks (exclusive against
 * shared), the _Bit* intrinsics, and the lock errors. */
#include <windows.h>

#include "check.h"

#define THREADS 4
#define ROUNDS 100000

static LONG volatile counter32;
static LONG64 volatile counter64;
static LONG volatile cas_counter;
static CRITICAL_SECTION cs;
static long cs_counter;
static SRWLOCK srw = SRWLOCK_INIT;
static long srw_a, srw_b; /* always equal when read under the shared lock */
static LONG volatile srw_torn;

static DWORD WINAPI hammer(LPVOID param)
{
    (void)param;
    for (int i = 0; i < ROUNDS; i++) {
        InterlockedIncrement(&counter32);
        InterlockedDecrement(&counter32);
        InterlockedIncrement(&counter32);
        InterlockedAdd64(&counter64, 2);
        InterlockedExchangeAdd(&counter32, 0);
        LONG seen;
        do
            seen = cas_counter;
        while (InterlockedCompareExchange(&cas_counter, seen + 1, seen) != seen);
        EnterCriticalSection(&cs);
        EnterCriticalSection(&cs); /* recursive */
        cs_counter++;
        LeaveCriticalSection(&cs);
        LeaveCriticalSection(&cs);
        if (i % 4 == 0) {
            AcquireSRWLockExclusive(&srw);
            srw_a++;
            srw_b++;
            ReleaseSRWLockExclusive(&srw);
        } else {
            AcquireSRWLockShared(&srw);
            if (srw_a != srw_b)
                InterlockedIncrement(&srw_torn);
            ReleaseSRWLockShared(&srw);
        }
    }
    return 0;
}

int main(void)
{
    InitializeCriticalSection(&cs);
    HANDLE t[THREADS];
    for (int i = 0; i < THREADS; i++)
        t[i] = CreateThread(NULL, 0, hammer, NULL, 0, NULL);
    CHECK_EQ(WaitForMultipleObjects(THREADS, t, TRUE, 60000), WAIT_OBJECT_0);
    for (int i = 0; i < THREADS; i++)
        CloseHandle(t[i]);
    CHECK_EQ(counter32, THREADS * ROUNDS);
    CHECK_EQ(counter64, 2LL * THREADS * ROUNDS);
    CHECK_EQ(cas_counter, THREADS * ROUNDS);
    CHECK_EQ(cs_counter, THREADS * ROUNDS);
    CHECK_EQ(srw_a, THREADS * ROUNDS / 4);
    CHECK_EQ(srw_torn, 0);

    /* Return values as on Windows. */
    LONG v = 5;
    CHECK_EQ(InterlockedExchange(&v, 9), 5);
    CHECK_EQ(InterlockedCompareExchange(&v, 1, 8), 9); /* no swap */
    CHECK_EQ(InterlockedCompareExchange(&v, 1, 9), 9);
    CHECK_EQ(v, 1);
    CHECK_EQ(InterlockedExchangeAdd(&v, 10), 1);
    CHECK_EQ(InterlockedAdd(&v, 10), 21);
    CHECK_EQ(InterlockedOr(&v, 0x100), 21);
    CHECK_EQ(InterlockedAnd(&v, 0x100), 0x115);
    CHECK_EQ(InterlockedXor(&v, 0x101), 0x100);
    CHECK_EQ(v, 1);
    LONG64 w = -1;
    CHECK_EQ(InterlockedIncrement64(&w), 0);
    CHECK_EQ(InterlockedDecrement64(&w), -1);
    CHECK_EQ(InterlockedExchange64(&w, 1LL << 40), -1);
    CHECK_EQ(InterlockedCompareExchange64(&w, 3, 1LL << 40), 1LL << 40);
    CHECK_EQ(InterlockedExchangeAdd64(&w, 1), 3);
    CHECK_EQ(InterlockedOr64(&w, 1LL << 50), 4);
    CHECK_EQ(InterlockedAnd64(&w, 1LL << 50), 4 | (1LL << 50));
    CHECK_EQ(InterlockedXor64(&w, 1LL << 50), 1LL << 50);
    PVOID ptr = NULL;
    CHECK(InterlockedExchangePointer(&ptr, &v) == NULL && ptr == &v);
    CHECK(InterlockedCompareExchangePointer(&ptr, &w, &v) == &v && ptr == &w);
    MemoryBarrier();

    /* Bit intrinsics. */
    ULONG index = 99;
    CHECK(!_BitScanForward(&index, 0) && index == 99);
    CHECK(_BitScanForward(&index, 0x80000010u) && index == 4);
    CHECK(_BitScanReverse(&index, 0x80000010u) && index == 31);
    CHECK(!_BitScanReverse64(&index, 0));
    CHECK(_BitScanForward64(&index, 1ull << 40) && index == 40);
    CHECK(_BitScanReverse64(&index, (1ull << 63) | 1) && index == 63);
    LONG bits[2] = {0, 0};
    CHECK(!_bittestandset(bits, 33) && bits[1] == 2 && _bittest(bits, 33));
    CHECK(_bittestandset(bits, 33));
    CHECK(_bittestandcomplement(bits, 33) && !_bittest(bits, 33));
    CHECK(!_bittestandreset(bits, 0) && !_bittestandcomplement(bits, 0) && bits[0] == 1);
    CHECK(_bittest(&bits[1], -32)); /* negative offsets address below Base, as BT does */
    LONG64 bits64[2] = {0, 0};
    CHECK(!_bittestandset64(bits64, 70) && _bittest64(bits64, 70) && bits64[1] == 64);
    CHECK(_bittestandreset64(bits64, 70) && !_bittest64(bits64, 70));
    CHECK(!_bittestandcomplement64(bits64, 63) && bits64[0] == INT64_MIN);
    CHECK(!_interlockedbittestandset(bits, 5) && _interlockedbittestandreset(bits, 5));
    CHECK(!_interlockedbittestandset64(bits64, 1) && _interlockedbittestandreset64(bits64, 1));

    /* Try forms and errors. */
    CHECK(TryEnterCriticalSection(&cs));
    LeaveCriticalSection(&cs);
    SetLastError(0);
    LeaveCriticalSection(&cs); /* not held */
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);
    DeleteCriticalSection(&cs);
    CHECK(InitializeCriticalSectionAndSpinCount(&cs, 4000));
    DeleteCriticalSection(&cs);
    EnterCriticalSection(NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!InitializeCriticalSectionEx(NULL, 0, 0));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    SRWLOCK l;
    InitializeSRWLock(&l);
    CHECK(TryAcquireSRWLockShared(&l) && TryAcquireSRWLockShared(&l));
    CHECK(!TryAcquireSRWLockExclusive(&l));
    ReleaseSRWLockShared(&l);
    ReleaseSRWLockShared(&l);
    CHECK(TryAcquireSRWLockExclusive(&l));
    CHECK(!TryAcquireSRWLockShared(&l));
    ReleaseSRWLockExclusive(&l);
    SetLastError(0);
    ReleaseSRWLockExclusive(&l);
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);
    ReleaseSRWLockShared(&l);
    CHECK_EQ(GetLastError(), ERROR_NOT_OWNER);
    CHECK(l.Ptr == NULL);
    AcquireSRWLockExclusive(NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    return check_report();
}
