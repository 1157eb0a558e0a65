/* Critical sections (a recursive pthread mutex in the CRITICAL_SECTION's storage) and SRW locks
 * (one word: a writer bit, a waiters bit and a reader count, with waiters sleeping on a futex
 * on its low 32 bits, so SRWLOCK_INIT = {0} needs no initialisation and nothing to free). */
#include "w32.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((CRITICAL_SECTION *)0)->Opaque),
               "CRITICAL_SECTION storage too small for a pthread mutex");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the SRW futex word is the low half");

static pthread_mutex_t *mutex_of(LPCRITICAL_SECTION cs)
{
    return (pthread_mutex_t *)(void *)cs->Opaque.Storage;
}

static BOOL init_critical_section(LPCRITICAL_SECTION cs)
{
    if (!cs)
        return w32_fail(ERROR_INVALID_PARAMETER);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int r = pthread_mutex_init(mutex_of(cs), &attr);
    pthread_mutexattr_destroy(&attr);
    return r == 0 ? TRUE : w32_fail(ERROR_NOT_ENOUGH_MEMORY);
}

VOID WINAPI InitializeCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    init_critical_section(lpCriticalSection);
}

BOOL WINAPI InitializeCriticalSectionAndSpinCount(LPCRITICAL_SECTION lpCriticalSection,
                                                  DWORD dwSpinCount)
{
    (void)dwSpinCount; /* glibc's mutex spins by itself */
    return init_critical_section(lpCriticalSection);
}

BOOL WINAPI InitializeCriticalSectionEx(LPCRITICAL_SECTION lpCriticalSection, DWORD dwSpinCount,
                                        DWORD Flags)
{
    (void)dwSpinCount, (void)Flags; /* the flags only concern debug information */
    return init_critical_section(lpCriticalSection);
}

VOID WINAPI EnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    if (!lpCriticalSection) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    pthread_mutex_lock(mutex_of(lpCriticalSection));
}

BOOL WINAPI TryEnterCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    if (!lpCriticalSection)
        return w32_fail(ERROR_INVALID_PARAMETER);
    return pthread_mutex_trylock(mutex_of(lpCriticalSection)) == 0;
}

VOID WINAPI LeaveCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    if (!lpCriticalSection) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    if (pthread_mutex_unlock(mutex_of(lpCriticalSection)) == EPERM)
        w32_fail(ERROR_NOT_OWNER);
}

VOID WINAPI DeleteCriticalSection(LPCRITICAL_SECTION lpCriticalSection)
{
    if (!lpCriticalSection) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    pthread_mutex_destroy(mutex_of(lpCriticalSection));
}

/* ---- SRW locks ---- */
#define SRW_WRITER 0x1u
#define SRW_WAITERS 0x2u /* someone sleeps (or is about to): the releaser wakes everyone */
#define SRW_READER 0x4u  /* one reader; the count is state / SRW_READER */
#define SRW_READERS (~(uintptr_t)(SRW_WRITER | SRW_WAITERS))

static uintptr_t *word(PSRWLOCK l)
{
    return (uintptr_t *)(void *)&l->Ptr;
}

static void futex_wait(PSRWLOCK l, uintptr_t expected)
{
    syscall(SYS_futex, (uint32_t *)(void *)&l->Ptr, FUTEX_WAIT_PRIVATE, (uint32_t)expected, NULL,
            NULL, 0);
}

static void futex_wake_all(PSRWLOCK l)
{
    syscall(SYS_futex, (uint32_t *)(void *)&l->Ptr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* Takes the lock if `free_of` bits are clear, adding `add`; else marks a waiter and sleeps. */
static void acquire(PSRWLOCK l, uintptr_t free_of, uintptr_t add)
{
    uintptr_t s = __atomic_load_n(word(l), __ATOMIC_RELAXED);
    for (;;) {
        if (!(s & free_of)) {
            if (__atomic_compare_exchange_n(word(l), &s, s + add, true, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED))
                return;
            continue;
        }
        if (!(s & SRW_WAITERS) &&
            !__atomic_compare_exchange_n(word(l), &s, s | SRW_WAITERS, true, __ATOMIC_RELAXED,
                                         __ATOMIC_RELAXED))
            continue;
        futex_wait(l, s | SRW_WAITERS);
        s = __atomic_load_n(word(l), __ATOMIC_RELAXED);
    }
}

static BOOLEAN try_acquire(PSRWLOCK l, uintptr_t free_of, uintptr_t add)
{
    uintptr_t s = __atomic_load_n(word(l), __ATOMIC_RELAXED);
    while (!(s & free_of))
        if (__atomic_compare_exchange_n(word(l), &s, s + add, true, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return TRUE;
    return FALSE;
}

VOID WINAPI InitializeSRWLock(PSRWLOCK SRWLock)
{
    if (!SRWLock) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    SRWLock->Ptr = NULL;
}

/* A writer needs the lock free; a reader needs no writer and, so that writers are not starved,
 * no waiter. */
VOID WINAPI AcquireSRWLockExclusive(PSRWLOCK SRWLock)
{
    if (!SRWLock) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    acquire(SRWLock, SRW_WRITER | SRW_READERS, SRW_WRITER);
}

VOID WINAPI AcquireSRWLockShared(PSRWLOCK SRWLock)
{
    if (!SRWLock) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    acquire(SRWLock, SRW_WRITER | SRW_WAITERS, SRW_READER);
}

BOOLEAN WINAPI TryAcquireSRWLockExclusive(PSRWLOCK SRWLock)
{
    if (!SRWLock)
        return w32_fail(ERROR_INVALID_PARAMETER);
    return try_acquire(SRWLock, SRW_WRITER | SRW_READERS, SRW_WRITER);
}

BOOLEAN WINAPI TryAcquireSRWLockShared(PSRWLOCK SRWLock)
{
    if (!SRWLock)
        return w32_fail(ERROR_INVALID_PARAMETER);
    return try_acquire(SRWLock, SRW_WRITER | SRW_WAITERS, SRW_READER);
}

/* Drops `sub` if `held` shows the lock is held that way; the last holder clears the waiters
 * bit and wakes them all, and they compete again. */
static void release(PSRWLOCK l, uintptr_t held, uintptr_t sub)
{
    uintptr_t s = __atomic_load_n(word(l), __ATOMIC_RELAXED), next;
    do {
        if (!(s & held)) {
            w32_fail(ERROR_NOT_OWNER);
            return;
        }
        next = s - sub;
        if (!(next & (SRW_WRITER | SRW_READERS)))
            next = 0;
    } while (!__atomic_compare_exchange_n(word(l), &s, next, true, __ATOMIC_RELEASE,
                                          __ATOMIC_RELAXED));
    if ((s & SRW_WAITERS) && !next)
        futex_wake_all(l);
}

VOID WINAPI ReleaseSRWLockExclusive(PSRWLOCK SRWLock)
{
    if (!SRWLock) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    release(SRWLock, SRW_WRITER, SRW_WRITER);
}

VOID WINAPI ReleaseSRWLockShared(PSRWLOCK SRWLock)
{
    if (!SRWLock) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    release(SRWLock, SRW_READERS, SRW_READER);
}
