/* Helpers for the stress, teardown and fuzz-guest tests: time budgets from the environment, the
 * process's resource usage (fds, threads, RSS, heap) for leak checks over many cycles, VPs run
 * in a loop on their own threads, live reads of guest counters, and a first-error record that
 * worker threads fill (host assertions may only fail the test on the main thread).
 *
 * Include from one test file only: it defines static functions. */
#ifndef OPENWHP_TESTS_GUEST_STRESS_H
#define OPENWHP_TESTS_GUEST_STRESS_H

#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define STRESS_UNUSED __attribute__((unused))

/* A positive number from the environment variable `name`, or `def`. */
STRESS_UNUSED static unsigned stress_env(const char *name, unsigned def)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 0) : 0;
    return n > 0 ? (unsigned)n : def;
}

STRESS_UNUSED static uint64_t stress_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

STRESS_UNUSED static void stress_sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* ---- First error of a worker thread ---- */

static struct {
    pthread_mutex_t lock;
    atomic_int failed;
    char msg[512];
} stress_error = {PTHREAD_MUTEX_INITIALIZER, 0, ""};

/* Records the first failure; later ones are dropped. Worker threads check stress_failed() to stop. */
STRESS_UNUSED __attribute__((format(printf, 1, 2))) static void stress_fail(const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&stress_error.lock);
    if (!atomic_load(&stress_error.failed)) {
        va_start(ap, fmt);
        vsnprintf(stress_error.msg, sizeof(stress_error.msg), fmt, ap);
        va_end(ap);
        atomic_store(&stress_error.failed, 1);
    }
    pthread_mutex_unlock(&stress_error.lock);
}

STRESS_UNUSED static bool stress_failed(void) { return atomic_load(&stress_error.failed) != 0; }

STRESS_UNUSED static void stress_reset(void)
{
    pthread_mutex_lock(&stress_error.lock);
    atomic_store(&stress_error.failed, 0);
    stress_error.msg[0] = 0;
    pthread_mutex_unlock(&stress_error.lock);
}

/* On the main thread: fails the test with the first worker failure, if any. */
#define STRESS_CHECK()                                                                             \
    do {                                                                                           \
        if (stress_failed())                                                                       \
            TEST_FAIL("%s", stress_error.msg);                                                     \
    } while (0)

/* ---- Worker threads that are joined even when the test fails ---- */

#define STRESS_MAX_THREADS 32
static struct {
    pthread_t *threads[STRESS_MAX_THREADS];
    unsigned n;
} stress_spawned;

/* At the end of a test (guest_test_defer): threads still unjoined are told to stop (through
 * stress_failed(), which every worker loop checks) and joined. */
static void stress_join_leftovers(void *opaque)
{
    (void)opaque;
    if (stress_spawned.n)
        stress_fail("the test ended while worker threads ran");
    while (stress_spawned.n)
        pthread_join(*stress_spawned.threads[--stress_spawned.n], NULL);
}

STRESS_UNUSED static void stress_spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
    TEST_ASSERT(stress_spawned.n < STRESS_MAX_THREADS);
    TEST_ASSERT(pthread_create(t, NULL, fn, arg) == 0);
    stress_spawned.threads[stress_spawned.n++] = t;
    guest_test_defer(stress_join_leftovers, NULL);
}

STRESS_UNUSED static void stress_join(pthread_t *t)
{
    for (unsigned i = 0; i < stress_spawned.n; i++) {
        if (stress_spawned.threads[i] == t) {
            pthread_join(*t, NULL);
            stress_spawned.threads[i] = stress_spawned.threads[--stress_spawned.n];
            return;
        }
    }
    TEST_FAIL("stress_join of a thread stress_spawn did not start");
}

/* ---- Live guest counters ---- */

/* The host address of a guest global (same GVA as in the host), for live reads while VPs run.
 * Call on the main thread (fails the test if the global is not in guest RAM). */
STRESS_UNUSED static volatile uint32_t *stress_live(struct guest_vm *vm, const volatile void *guest_global)
{
    volatile uint32_t *p = guest_vm_gva2hva(vm, (uint64_t)(uintptr_t)guest_global);
    TEST_ASSERT(p != NULL);
    return p;
}

STRESS_UNUSED static uint32_t stress_load(const volatile uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Waits until *a (+ *b, if b) reaches want; false after ms. */
STRESS_UNUSED static bool stress_wait_count(const volatile uint32_t *a, const volatile uint32_t *b, uint32_t want,
                                           unsigned ms)
{
    uint64_t end = stress_now_ns() + (uint64_t)ms * 1000000ull;
    for (;;) {
        if (stress_load(a) + (b ? stress_load(b) : 0) >= want)
            return true;
        if (stress_now_ns() > end)
            return false;
        sched_yield();
    }
}

/* ---- Process resource usage ---- */

struct stress_usage {
    int fds, threads;
    long rss_kib;
    size_t heap; /* bytes in use by malloc (0 under a heap tool: guest_heap_tool) */
};

static int stress_count_dir(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

STRESS_UNUSED static struct stress_usage stress_usage_now(void)
{
    struct stress_usage u = {stress_count_dir("/proc/self/fd") - 1 /* the directory's own fd */,
                             stress_count_dir("/proc/self/task"), 0, 0};
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) == 2)
            u.rss_kib = rss * (sysconf(_SC_PAGESIZE) / 1024);
        fclose(f);
    }
    if (!guest_heap_tool())
        u.heap = mallinfo2().uordblks;
    return u;
}

/* Fails the test if fds or threads grew, or (without a heap tool, whose allocators keep
 * quarantines and shadow memory: guest_heap_tool) if the heap or RSS grew by more than the slack. */
#define STRESS_EXPECT_NO_GROWTH(what, cycles, a, b)                                                \
    do {                                                                                           \
        printf("  %u %s: fds %d -> %d, threads %d -> %d, RSS %ld -> %ld KiB, heap %zu -> %zu bytes\n", \
               (unsigned)(cycles), (what), (a).fds, (b).fds, (a).threads, (b).threads, (a).rss_kib, \
               (b).rss_kib, (a).heap, (b).heap);                                                   \
        TEST_ASSERT((a).fds == (b).fds, "(%s: %d fds before, %d after)", (what), (a).fds, (b).fds); \
        TEST_ASSERT((a).threads == (b).threads, "(%s: %d threads before, %d after)", (what), (a).threads, \
                    (b).threads);                                                                  \
        if (!guest_heap_tool()) {                                                             \
            TEST_ASSERT((b).heap <= (a).heap + 65536, "(%s: heap in use grew from %zu to %zu bytes)", (what), \
                        (a).heap, (b).heap);                                                       \
            TEST_ASSERT((b).rss_kib <= (a).rss_kib + 4096, "(%s: RSS grew from %ld to %ld KiB)", (what), \
                        (a).rss_kib, (b).rss_kib);                                                 \
        }                                                                                          \
    } while (0)

/* ---- VPs that run in a loop on their own threads ---- */

/* Runs vp until `stop` is set: a Canceled exit with stop set ends the loop; PRINT ucalls are
 * printed; any other exit goes to on_exit (NULL or false: recorded as a failure). Each run's
 * HRESULT is kept; a failed run ends the loop (teardown tests expect that). */
struct stress_vp {
    struct guest_vm *vm;
    uint32_t vp;
    pthread_t thread;
    atomic_int *stop;
    bool (*on_exit)(struct stress_vp *r, WHV_RUN_VP_EXIT_CONTEXT *exit);
    void *opaque;
    bool fail_on_error; /* a failed WHvRunVirtualProcessor is a test failure */
    atomic_int done;
    bool joined;
    HRESULT last_hr;
    unsigned long runs, canceled;
};

static bool stress_vp_stop(struct stress_vp *r, unsigned ms);

static void stress_vp_cleanup(void *opaque)
{
    stress_vp_stop(opaque, 2000);
}

static void *stress_vp_main(void *opaque)
{
    struct stress_vp *r = opaque;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;

    while (!stress_failed()) {
        memset(&exit, 0, sizeof(exit));
        HRESULT hr = guest_whv_run(r->vm->partition, r->vp, &exit);
        r->last_hr = hr;
        r->runs++;
        if (FAILED(hr)) {
            if (r->fail_on_error)
                stress_fail("vp %u: WHvRunVirtualProcessor returned 0x%08x", r->vp, (unsigned)hr);
            break;
        }
        if (exit.ExitReason == WHvRunVpExitReasonCanceled) {
            r->canceled++;
            if (atomic_load(r->stop))
                break;
            continue;
        }
        if (exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess &&
            exit.IoPortAccess.PortNumber == GUEST_UCALL_PORT && guest_ucall_decode(r->vm, r->vp, &exit, &uc)) {
            if (uc.type == UCALL_PRINT)
                continue;
            stress_fail("vp %u: unexpected ucall %llu from %s:%llu", r->vp, (unsigned long long)uc.type, uc.file,
                        (unsigned long long)uc.line);
            break;
        }
        if (r->on_exit && r->on_exit(r, &exit))
            continue;
        stress_fail("vp %u: unexpected exit %s (0x%x) at rip 0x%llx", r->vp, guest_exit_reason_name(exit.ExitReason),
                    (unsigned)exit.ExitReason, (unsigned long long)exit.VpContext.Rip);
        break;
    }
    atomic_store(&r->done, 1);
    return NULL;
}

/* Starts the loop; the test's end stops and joins it if the test did not (guest_test_defer). */
STRESS_UNUSED static void stress_vp_start(struct stress_vp *r, struct guest_vm *vm, uint32_t vp, atomic_int *stop)
{
    r->vm = vm;
    r->vp = vp;
    r->stop = stop;
    atomic_store(&r->done, 0);
    r->runs = r->canceled = 0;
    r->last_hr = S_OK;
    TEST_ASSERT(pthread_create(&r->thread, NULL, stress_vp_main, r) == 0);
    r->joined = false;
    guest_test_defer(stress_vp_cleanup, r);
}

/* Sets *stop, cancels the VP until its loop ends (within ms), joins it. False on a timeout (the
 * thread is then still joined once the run returns: a hung run hangs here, under the test's alarm). */
STRESS_UNUSED static bool stress_vp_stop(struct stress_vp *r, unsigned ms)
{
    uint64_t end = stress_now_ns() + (uint64_t)ms * 1000000ull;
    bool in_time = true;
    if (r->joined)
        return true;
    atomic_store(r->stop, 1);
    while (!atomic_load(&r->done)) {
        WHvCancelRunVirtualProcessor(r->vm->partition, r->vp, 0);
        if (stress_now_ns() > end)
            in_time = false;
        stress_sleep_ms(1);
    }
    pthread_join(r->thread, NULL);
    r->joined = true;
    return in_time;
}

/* Waits up to ms for the loop to end by itself (a failed run), then joins it. False on a timeout:
 * the run is then stopped as stress_vp_stop does. */
STRESS_UNUSED static bool stress_vp_join(struct stress_vp *r, unsigned ms)
{
    uint64_t end = stress_now_ns() + (uint64_t)ms * 1000000ull;
    while (!atomic_load(&r->done) && stress_now_ns() < end)
        stress_sleep_ms(1);
    if (!atomic_load(&r->done)) {
        stress_vp_stop(r, ms);
        return false;
    }
    pthread_join(r->thread, NULL);
    r->joined = true;
    return true;
}

#endif /* OPENWHP_TESTS_GUEST_STRESS_H */
