/* Unit tests of the event HANDLE API (include/openwhp/event.h): auto- and manual-reset events,
 * initial state, timeouts, wait-any and wait-all, eventfd writes from outside, closed and bogus
 * handles, and many threads. No KVM needed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openwhp/event.h>

#include "check.h"

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Whether the eventfd behind h has a non-zero counter (without consuming it). */
static bool is_signaled(HANDLE h)
{
    struct pollfd p = {.fd = OpenWhpEventFd(h), .events = POLLIN};
    return p.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Reads (and so clears) the eventfd counter; 0 when it was 0. */
static uint64_t drain(HANDLE h)
{
    uint64_t v = 0;
    if (read(OpenWhpEventFd(h), &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}

static void test_auto_reset(void)
{
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    CHECK(e != NULL);
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT);
    CHECK(OpenWhpSetEvent(e));
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_OBJECT_0);
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT); /* consumed by the wait */
    /* Two sets before a wait are one signal (an event, not a semaphore). */
    CHECK(OpenWhpSetEvent(e));
    CHECK(OpenWhpSetEvent(e));
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_OBJECT_0);
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT);
    /* Reset clears it. */
    CHECK(OpenWhpSetEvent(e));
    CHECK(OpenWhpResetEvent(e));
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT);
    CHECK(OpenWhpResetEvent(e)); /* resetting an unsignaled event is fine */
    CHECK(OpenWhpCloseEvent(e));
}

static void test_manual_reset(void)
{
    HANDLE e = OpenWhpCreateEvent(TRUE, FALSE);
    CHECK(e != NULL);
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT);
    CHECK(OpenWhpSetEvent(e));
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_OBJECT_0);
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_OBJECT_0); /* stays signaled */
    CHECK_EQ(OpenWhpWaitForEvent(e, 10), WAIT_OBJECT_0);
    CHECK(OpenWhpResetEvent(e));
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT);
    CHECK(OpenWhpCloseEvent(e));
}

static void test_initial_state(void)
{
    HANDLE a = OpenWhpCreateEvent(FALSE, TRUE), m = OpenWhpCreateEvent(TRUE, TRUE);
    HANDLE a0 = OpenWhpCreateEvent(FALSE, FALSE), m0 = OpenWhpCreateEvent(TRUE, FALSE);
    CHECK(a && m && a0 && m0);
    CHECK(is_signaled(a) && is_signaled(m) && !is_signaled(a0) && !is_signaled(m0));
    CHECK_EQ(OpenWhpWaitForEvent(a, 0), WAIT_OBJECT_0);
    CHECK_EQ(OpenWhpWaitForEvent(a, 0), WAIT_TIMEOUT);
    CHECK_EQ(OpenWhpWaitForEvent(m, 0), WAIT_OBJECT_0);
    CHECK_EQ(OpenWhpWaitForEvent(m, 0), WAIT_OBJECT_0);
    CHECK_EQ(OpenWhpWaitForEvent(a0, 0), WAIT_TIMEOUT);
    CHECK_EQ(OpenWhpWaitForEvent(m0, 0), WAIT_TIMEOUT);
    /* Distinct handles, distinct fds; the fd is close-on-exec. */
    CHECK(a != m && a != a0 && m != m0);
    CHECK(OpenWhpEventFd(a) >= 0 && OpenWhpEventFd(a) != OpenWhpEventFd(m));
    CHECK(fcntl(OpenWhpEventFd(a), F_GETFD) & FD_CLOEXEC);
    CHECK(OpenWhpCloseEvent(a) && OpenWhpCloseEvent(m) && OpenWhpCloseEvent(a0) && OpenWhpCloseEvent(m0));
}

struct setter {
    HANDLE e;
    unsigned delay_ms;
};

static void *set_later(void *arg)
{
    struct setter *s = arg;
    sleep_ms(s->delay_ms);
    OpenWhpSetEvent(s->e);
    return NULL;
}

static void test_timeouts(void)
{
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    int64_t t0 = now_ms();
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT);
    CHECK(now_ms() - t0 < 20);

    t0 = now_ms();
    CHECK_EQ(OpenWhpWaitForEvent(e, 60), WAIT_TIMEOUT);
    int64_t dt = now_ms() - t0;
    CHECK(dt >= 59 && dt < 1000);
    if (!(dt >= 59 && dt < 1000))
        printf("  a 60 ms wait took %lld ms\n", (long long)dt);

    /* INFINITE, set by another thread after 100 ms */
    struct setter s = {e, 100};
    pthread_t t;
    t0 = now_ms();
    CHECK(pthread_create(&t, NULL, set_later, &s) == 0);
    CHECK_EQ(OpenWhpWaitForEvent(e, INFINITE), WAIT_OBJECT_0);
    dt = now_ms() - t0;
    CHECK(dt >= 95);
    pthread_join(t, NULL);
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT);

    /* A finite wait that a set ends early */
    s.delay_ms = 30;
    t0 = now_ms();
    CHECK(pthread_create(&t, NULL, set_later, &s) == 0);
    CHECK_EQ(OpenWhpWaitForEvent(e, 5000), WAIT_OBJECT_0);
    dt = now_ms() - t0;
    CHECK(dt >= 25 && dt < 2000);
    pthread_join(t, NULL);

    /* Wait-any and wait-all time out too */
    HANDLE two[2] = {e, OpenWhpCreateEvent(TRUE, TRUE)};
    t0 = now_ms();
    CHECK_EQ(OpenWhpWaitForEvents(2, two, TRUE, 40), WAIT_TIMEOUT);
    dt = now_ms() - t0;
    CHECK(dt >= 39 && dt < 1000);
    CHECK(OpenWhpCloseEvent(two[1]));
    CHECK(OpenWhpCloseEvent(e));
}

static void test_wait_any(void)
{
    HANDLE e[4];
    for (int i = 0; i < 4; i++)
        e[i] = OpenWhpCreateEvent(i == 3, FALSE);
    CHECK_EQ(OpenWhpWaitForEvents(4, e, FALSE, 0), WAIT_TIMEOUT);
    CHECK(OpenWhpSetEvent(e[2]));
    CHECK(OpenWhpSetEvent(e[1]));
    /* The lowest signaled index wins and only it is consumed. */
    CHECK_EQ(OpenWhpWaitForEvents(4, e, FALSE, 0), WAIT_OBJECT_0 + 1);
    CHECK(!is_signaled(e[1]) && is_signaled(e[2]));
    CHECK_EQ(OpenWhpWaitForEvents(4, e, FALSE, 0), WAIT_OBJECT_0 + 2);
    CHECK_EQ(OpenWhpWaitForEvents(4, e, FALSE, 0), WAIT_TIMEOUT);
    /* A manual-reset member is reported again and again. */
    CHECK(OpenWhpSetEvent(e[3]));
    CHECK_EQ(OpenWhpWaitForEvents(4, e, FALSE, 0), WAIT_OBJECT_0 + 3);
    CHECK_EQ(OpenWhpWaitForEvents(4, e, FALSE, 0), WAIT_OBJECT_0 + 3);
    CHECK(OpenWhpSetEvent(e[0]));
    CHECK_EQ(OpenWhpWaitForEvents(4, e, FALSE, 0), WAIT_OBJECT_0 + 0);
    CHECK(OpenWhpResetEvent(e[3]));
    /* Blocking wait-any woken by a set of the last one */
    struct setter s = {e[3], 30};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, set_later, &s) == 0);
    CHECK_EQ(OpenWhpWaitForEvents(4, e, FALSE, 5000), WAIT_OBJECT_0 + 3);
    pthread_join(t, NULL);
    for (int i = 0; i < 4; i++)
        CHECK(OpenWhpCloseEvent(e[i]));
}

static void test_wait_all(void)
{
    HANDLE e[3] = {OpenWhpCreateEvent(FALSE, FALSE), OpenWhpCreateEvent(FALSE, FALSE),
                   OpenWhpCreateEvent(TRUE, FALSE)};
    CHECK(OpenWhpSetEvent(e[0]));
    CHECK(OpenWhpSetEvent(e[2]));
    /* Not all signaled: times out and consumes nothing. */
    CHECK_EQ(OpenWhpWaitForEvents(3, e, TRUE, 20), WAIT_TIMEOUT);
    CHECK(is_signaled(e[0]) && !is_signaled(e[1]) && is_signaled(e[2]));
    CHECK(OpenWhpSetEvent(e[1]));
    CHECK_EQ(OpenWhpWaitForEvents(3, e, TRUE, 0), WAIT_OBJECT_0);
    /* The auto-reset ones are consumed, the manual one is not. */
    CHECK(!is_signaled(e[0]) && !is_signaled(e[1]) && is_signaled(e[2]));
    /* Blocking: the last one is set by another thread. */
    CHECK(OpenWhpSetEvent(e[0]));
    struct setter s = {e[1], 30};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, set_later, &s) == 0);
    CHECK_EQ(OpenWhpWaitForEvents(3, e, TRUE, INFINITE), WAIT_OBJECT_0);
    pthread_join(t, NULL);
    CHECK(!is_signaled(e[0]) && !is_signaled(e[1]) && is_signaled(e[2]));
    for (int i = 0; i < 3; i++)
        CHECK(OpenWhpCloseEvent(e[i]));
}

/* Wait-all on the same handle twice: refused as on Windows (it could never be satisfied for an
 * auto-reset event), and nothing is consumed. Wait-any accepts duplicates. */
static void test_wait_all_duplicate_handle(void)
{
    HANDLE e = OpenWhpCreateEvent(FALSE, TRUE);
    HANDLE two[2] = {e, e};
    errno = 0;
    CHECK_EQ(OpenWhpWaitForEvents(2, two, TRUE, 50), WAIT_FAILED);
    CHECK_EQ(errno, EINVAL);
    CHECK(is_signaled(e));
    CHECK_EQ(OpenWhpWaitForEvents(2, two, FALSE, 0), WAIT_OBJECT_0);
    CHECK(!is_signaled(e));
    CHECK(OpenWhpCloseEvent(e));
}

static void *write_later(void *arg)
{
    uint64_t one = 1;
    sleep_ms(20);
    if (write(OpenWhpEventFd((HANDLE)arg), &one, sizeof(one)) != sizeof(one))
        return (void *)1;
    return NULL;
}

static void test_external_eventfd_write(void)
{
    HANDLE a = OpenWhpCreateEvent(FALSE, FALSE), m = OpenWhpCreateEvent(TRUE, FALSE);
    uint64_t five = 5;
    CHECK_EQ(write(OpenWhpEventFd(a), &five, sizeof(five)), sizeof(five));
    CHECK_EQ(write(OpenWhpEventFd(m), &five, sizeof(five)), sizeof(five));
    CHECK_EQ(OpenWhpWaitForEvent(a, 0), WAIT_OBJECT_0);
    CHECK_EQ(drain(a), 0); /* the auto-reset wait took the whole counter */
    CHECK_EQ(OpenWhpWaitForEvent(m, 0), WAIT_OBJECT_0);
    CHECK_EQ(drain(m), 5); /* the manual-reset wait left it */
    CHECK_EQ(OpenWhpWaitForEvent(m, 0), WAIT_TIMEOUT);
    /* SetEvent adds 1 to the counter (what the doorbell tests count) */
    for (int i = 0; i < 7; i++)
        CHECK(OpenWhpSetEvent(m));
    CHECK_EQ(drain(m), 7);
    /* A blocked waiter is woken by another thread's raw write() */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, write_later, a) == 0);
    CHECK_EQ(OpenWhpWaitForEvent(a, 5000), WAIT_OBJECT_0);
    pthread_join(t, NULL);
    CHECK(OpenWhpCloseEvent(a));
    CHECK(OpenWhpCloseEvent(m));
}

static void test_closed_and_bogus_handles(void)
{
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    CHECK(OpenWhpCloseEvent(e));
    errno = 0;
    CHECK(!OpenWhpSetEvent(e));
    CHECK_EQ(errno, EBADF);
    CHECK(!OpenWhpResetEvent(e));
    CHECK_EQ(OpenWhpWaitForEvent(e, 0), WAIT_FAILED);
    CHECK_EQ(OpenWhpWaitForEvent(e, INFINITE), WAIT_FAILED);
    CHECK(!OpenWhpCloseEvent(e));
    CHECK_EQ(OpenWhpEventFd(e), -1);
    /* NULL, INVALID_HANDLE_VALUE-like, a plain fd that is no event, a huge value */
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    HANDLE bogus[] = {NULL, (HANDLE)(intptr_t)-1, (HANDLE)(intptr_t)(pipefd[0] + 1),
                      (HANDLE)(intptr_t)0x7fffffff, (HANDLE)(uintptr_t)0xdeadbeef00ull};
    for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++) {
        CHECK(!OpenWhpSetEvent(bogus[i]));
        CHECK(!OpenWhpResetEvent(bogus[i]));
        CHECK_EQ(OpenWhpWaitForEvent(bogus[i], 0), WAIT_FAILED);
        CHECK(!OpenWhpCloseEvent(bogus[i]));
        CHECK_EQ(OpenWhpEventFd(bogus[i]), -1);
    }
    CHECK(fcntl(pipefd[0], F_GETFD) >= 0); /* CloseEvent(pipe fd + 1) left the pipe alone */
    CHECK(fcntl(pipefd[1], F_GETFD) >= 0);
    close(pipefd[0]);
    close(pipefd[1]);
    /* A closed handle stays invalid when a new event gets its fd number. */
    HANDLE old = OpenWhpCreateEvent(TRUE, TRUE);
    int oldfd = OpenWhpEventFd(old);
    CHECK(OpenWhpCloseEvent(old));
    HANDLE new = OpenWhpCreateEvent(FALSE, FALSE);
    CHECK_EQ(OpenWhpEventFd(new), oldfd);
    CHECK(new != old);
    errno = 0;
    CHECK(!OpenWhpSetEvent(old));
    CHECK_EQ(errno, EBADF);
    CHECK(!OpenWhpCloseEvent(old));
    CHECK_EQ(OpenWhpEventFd(old), -1);
    CHECK_EQ(OpenWhpWaitForEvent(new, 0), WAIT_TIMEOUT); /* the new one was not touched */
    CHECK(OpenWhpCloseEvent(new));
    /* Arrays: a bad member, no members, too many, no array */
    HANDLE good = OpenWhpCreateEvent(TRUE, TRUE), dead = OpenWhpCreateEvent(TRUE, TRUE);
    CHECK(OpenWhpCloseEvent(dead));
    HANDLE mix[2] = {good, dead};
    errno = 0;
    CHECK_EQ(OpenWhpWaitForEvents(2, mix, FALSE, 0), WAIT_FAILED);
    CHECK_EQ(errno, EBADF);
    CHECK_EQ(OpenWhpWaitForEvents(2, mix, TRUE, 0), WAIT_FAILED);
    errno = 0;
    CHECK_EQ(OpenWhpWaitForEvents(0, mix, FALSE, 0), WAIT_FAILED);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(OpenWhpWaitForEvents(1, NULL, FALSE, 0), WAIT_FAILED);
    HANDLE many[OPENWHP_MAXIMUM_WAIT_OBJECTS + 1];
    for (int i = 0; i <= OPENWHP_MAXIMUM_WAIT_OBJECTS; i++)
        many[i] = good;
    CHECK_EQ(OpenWhpWaitForEvents(OPENWHP_MAXIMUM_WAIT_OBJECTS + 1, many, FALSE, 0), WAIT_FAILED);
    CHECK_EQ(OpenWhpWaitForEvents(OPENWHP_MAXIMUM_WAIT_OBJECTS, many, FALSE, 0), WAIT_OBJECT_0);
    CHECK(OpenWhpCloseEvent(good));
}

/* ---- Threads ---- */

#define NR_THREADS 8
#define SETS_PER_THREAD 20000

static void *set_many(void *arg)
{
    for (int i = 0; i < SETS_PER_THREAD; i++)
        OpenWhpSetEvent((HANDLE)arg);
    return NULL;
}

struct waiter {
    HANDLE e;
    DWORD result;
    atomic_int *woken;
};

static void *wait_one(void *arg)
{
    struct waiter *w = arg;
    w->result = OpenWhpWaitForEvent(w->e, 10000);
    atomic_fetch_add(w->woken, 1);
    return NULL;
}

static void test_many_threads(void)
{
    /* Concurrent sets: the eventfd counter holds every one of them. */
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    pthread_t t[NR_THREADS];
    for (int i = 0; i < NR_THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, set_many, e) == 0);
    for (int i = 0; i < NR_THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(drain(e), (uint64_t)NR_THREADS * SETS_PER_THREAD);

    /* Auto-reset: each set releases exactly one of the blocked waiters. */
    atomic_int woken = 0;
    struct waiter w[NR_THREADS];
    for (int i = 0; i < NR_THREADS; i++) {
        w[i] = (struct waiter){e, 0xdead, &woken};
        CHECK(pthread_create(&t[i], NULL, wait_one, &w[i]) == 0);
    }
    sleep_ms(50);
    CHECK_EQ(atomic_load(&woken), 0);
    for (int n = 1; n <= NR_THREADS; n++) {
        CHECK(OpenWhpSetEvent(e));
        int64_t deadline = now_ms() + 5000;
        while (atomic_load(&woken) < n && now_ms() < deadline)
            sleep_ms(1);
        sleep_ms(5); /* a second waiter wrongly released would show up here */
        CHECK_EQ(atomic_load(&woken), n);
    }
    for (int i = 0; i < NR_THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].result, WAIT_OBJECT_0);
    }
    CHECK(!is_signaled(e));
    CHECK(OpenWhpCloseEvent(e));

    /* Manual-reset: one set releases every waiter. */
    HANDLE m = OpenWhpCreateEvent(TRUE, FALSE);
    atomic_store(&woken, 0);
    for (int i = 0; i < NR_THREADS; i++) {
        w[i] = (struct waiter){m, 0xdead, &woken};
        CHECK(pthread_create(&t[i], NULL, wait_one, &w[i]) == 0);
    }
    sleep_ms(30);
    CHECK(OpenWhpSetEvent(m));
    for (int i = 0; i < NR_THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].result, WAIT_OBJECT_0);
    }
    CHECK_EQ(atomic_load(&woken), NR_THREADS);
    CHECK(OpenWhpCloseEvent(m));
}

/* Creating and closing many events from several threads at once leaves no fd behind. */
static void *churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5000; i++) {
        HANDLE e = OpenWhpCreateEvent(i & 1, i & 2);
        if (!e || !OpenWhpSetEvent(e) || OpenWhpWaitForEvent(e, 0) != WAIT_OBJECT_0 || !OpenWhpCloseEvent(e))
            return (void *)1;
    }
    return NULL;
}

static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

static void test_create_close_threads(void)
{
    int before = count_fds();
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, churn, NULL) == 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECK(r == NULL);
    }
    CHECK_EQ(count_fds(), before);
}

/* A finite timeout above INT_MAX ms is a long wait, not an infinite or an immediate one. */
static void test_long_timeout(void)
{
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    struct setter s = {e, 30};
    pthread_t t;
    int64_t t0 = now_ms();
    CHECK(pthread_create(&t, NULL, set_later, &s) == 0);
    CHECK_EQ(OpenWhpWaitForEvent(e, 0xFFFFFFFEu), WAIT_OBJECT_0);
    CHECK(now_ms() - t0 >= 25);
    pthread_join(t, NULL);
    CHECK(OpenWhpCloseEvent(e));
}

static void on_signal(int sig)
{
    (void)sig;
}

struct timed_wait {
    HANDLE e;
    DWORD timeout;
    DWORD result;
    int64_t ms;
};

static void *timed_wait(void *arg)
{
    struct timed_wait *w = arg;
    int64_t t0 = now_ms();
    w->result = OpenWhpWaitForEvent(w->e, w->timeout);
    w->ms = now_ms() - t0;
    return NULL;
}

/* Signals (EINTR) neither end a wait early nor make it forget its deadline. */
static void test_signal_during_wait(void)
{
    struct sigaction sa = {.sa_handler = on_signal}, old;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, &old) == 0); /* no SA_RESTART: poll returns EINTR */
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    struct timed_wait w = {e, 150, 0xdead, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, timed_wait, &w) == 0);
    for (int i = 0; i < 10; i++) {
        sleep_ms(10);
        pthread_kill(t, SIGUSR1);
    }
    pthread_join(t, NULL);
    CHECK_EQ(w.result, WAIT_TIMEOUT);
    CHECK(w.ms >= 149 && w.ms < 2000);
    /* INFINITE, interrupted, then set */
    w = (struct timed_wait){e, INFINITE, 0xdead, 0};
    CHECK(pthread_create(&t, NULL, timed_wait, &w) == 0);
    for (int i = 0; i < 5; i++) {
        sleep_ms(10);
        pthread_kill(t, SIGUSR1);
    }
    CHECK(OpenWhpSetEvent(e));
    pthread_join(t, NULL);
    CHECK_EQ(w.result, WAIT_OBJECT_0);
    CHECK(OpenWhpCloseEvent(e));
    sigaction(SIGUSR1, &old, NULL);
}

/* Closing a handle a wait is using: the handle is invalid at once, the wait goes on (it can
 * still be signaled through the fd, as KVM would) and the fd is closed when the wait ends. */
static void test_close_during_wait(void)
{
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    int fd = OpenWhpEventFd(e);
    struct timed_wait w = {e, 5000, 0xdead, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, timed_wait, &w) == 0);
    sleep_ms(30);
    CHECK(OpenWhpCloseEvent(e));
    CHECK(!OpenWhpSetEvent(e));
    CHECK_EQ(OpenWhpEventFd(e), -1);
    CHECK(fcntl(fd, F_GETFD) >= 0);        /* still open for the wait */
    HANDLE other = OpenWhpCreateEvent(FALSE, FALSE);
    CHECK(OpenWhpEventFd(other) != fd);     /* so no new event can get its number */
    uint64_t one = 1;
    CHECK_EQ(write(fd, &one, sizeof(one)), sizeof(one));
    pthread_join(t, NULL);
    CHECK_EQ(w.result, WAIT_OBJECT_0);
    CHECK(w.ms < 4000);
    CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF); /* closed by the end of the wait */
    CHECK(OpenWhpCloseEvent(other));
}

/* Two wait-all waiters on the same two auto-reset events, in opposite orders: each pair of sets
 * completes exactly one of them, which consumes both events (never one each). */
#define ROUNDS 500

struct all_waiter {
    HANDLE e[2];
    atomic_int *done;
    atomic_bool *stop;
    int failures;
};

static void *wait_all_loop(void *arg)
{
    struct all_waiter *w = arg;
    while (!atomic_load(w->stop)) {
        DWORD r = OpenWhpWaitForEvents(2, w->e, TRUE, 20);
        if (r == WAIT_OBJECT_0)
            atomic_fetch_add(w->done, 1);
        else if (r != WAIT_TIMEOUT)
            w->failures++;
    }
    return NULL;
}

static void test_wait_all_contention(void)
{
    HANDLE a = OpenWhpCreateEvent(FALSE, FALSE), b = OpenWhpCreateEvent(FALSE, FALSE);
    atomic_int done = 0;
    atomic_bool stop = false;
    struct all_waiter w[2] = {{{a, b}, &done, &stop, 0}, {{b, a}, &done, &stop, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, wait_all_loop, &w[i]) == 0);
    int completed = 0;
    for (int round = 1; round <= ROUNDS; round++) {
        OpenWhpSetEvent(a);
        OpenWhpSetEvent(b);
        int64_t deadline = now_ms() + 5000;
        while (atomic_load(&done) < round && now_ms() < deadline)
            sched_yield();
        if (atomic_load(&done) != round)
            break;
        completed = round;
    }
    CHECK_EQ(completed, ROUNDS);
    sleep_ms(30);
    CHECK_EQ(atomic_load(&done), ROUNDS);
    CHECK(!is_signaled(a) && !is_signaled(b));
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].failures, 0);
    }
    CHECK(OpenWhpCloseEvent(a) && OpenWhpCloseEvent(b));
}

int main(void)
{
    test_auto_reset();
    test_manual_reset();
    test_initial_state();
    test_timeouts();
    test_wait_any();
    test_wait_all();
    test_wait_all_duplicate_handle();
    test_long_timeout();
    test_signal_during_wait();
    test_close_during_wait();
    test_external_eventfd_write();
    test_closed_and_bogus_handles();
    test_many_threads();
    test_create_close_threads();
    test_wait_all_contention();
    return check_report();
}
