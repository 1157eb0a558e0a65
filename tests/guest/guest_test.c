/* Test runner of the guest tests: SKIP without KVM, one alarm per test, a line per test and a
 * summary; host assertions leave the failing test with longjmp. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "guest_internal.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GUEST_HAVE_VALGRIND_H 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GUEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GUEST_SANITIZED 1
#endif
#endif

bool guest_heap_tool(void)
{
#if defined(GUEST_SANITIZED)
    return true;
#elif defined(GUEST_HAVE_VALGRIND_H)
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

enum { RESULT_PASS, RESULT_FAIL, RESULT_SKIP };

static jmp_buf *current_jmp;
static pthread_t main_thread;
static char timeout_msg[256];
static const char *current_name;

/* Cleanups of the running test (or, outside a test, of the process), run last first. Only the
 * main thread registers and runs them. */
#define MAX_DEFERRED 32
struct deferred {
    void (*fn)(void *);
    void *arg;
};
static struct deferred test_deferred[MAX_DEFERRED], exit_deferred[MAX_DEFERRED];
static unsigned n_test_deferred, n_exit_deferred;
static bool in_test;

static void run_deferred(struct deferred *list, unsigned *n)
{
    while (*n > 0) {
        struct deferred d = list[--*n];
        d.fn(d.arg);
    }
}

static void run_exit_deferred(void)
{
    run_deferred(exit_deferred, &n_exit_deferred);
}

void guest_test_defer(void (*fn)(void *), void *arg)
{
    struct deferred *list = in_test ? test_deferred : exit_deferred;
    unsigned *n = in_test ? &n_test_deferred : &n_exit_deferred;
    for (unsigned i = 0; i < *n; i++)
        if (list[i].fn == fn && list[i].arg == arg)
            return;
    if (!in_test && n_exit_deferred == 0 && atexit(run_exit_deferred) != 0)
        abort();
    if (*n == MAX_DEFERRED)
        abort(); /* a harness bug: every user registers a fixed number of cleanups */
    list[(*n)++] = (struct deferred){fn, arg};
}

static void on_alarm(int sig)
{
    ssize_t r;
    (void)sig;
    r = write(STDOUT_FILENO, timeout_msg, strlen(timeout_msg));
    (void)r;
    _exit(1);
}

static void leave_test(int result)
{
    fflush(stdout);
    if (!current_jmp || !pthread_equal(pthread_self(), main_thread))
        _exit(1); /* outside a test, or on another thread: nothing to unwind to */
    longjmp(*current_jmp, result);
}

void guest_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("  FAIL at %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    leave_test(RESULT_FAIL);
    abort();
}

void guest_test_fail_assert(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    printf("  FAIL at %s:%d: assertion failed: %s", file, line, cond);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    leave_test(RESULT_FAIL);
    abort();
}

void guest_test_skip(const char *fmt, ...)
{
    va_list ap;
    printf("  skipped: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    leave_test(RESULT_SKIP);
    abort();
}

/* 0 when the tests can run, otherwise the process exit code (77 = SKIP). */
static int check_hypervisor(void)
{
    WHV_CAPABILITY cap;
    UINT32 written = 0;
    HRESULT hr;
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        printf("SKIP: cannot open /dev/kvm: %s\n", strerror(errno));
        return 77;
    }
    close(fd);
    memset(&cap, 0, sizeof(cap));
    hr = WHvGetCapability(WHvCapabilityCodeHypervisorPresent, &cap, sizeof(cap), &written);
    if (FAILED(hr)) {
        printf("FAIL: WHvGetCapability(HypervisorPresent) returned 0x%08x with /dev/kvm present\n",
               (unsigned)hr);
        return 1;
    }
    if (!cap.HypervisorPresent) {
        printf("SKIP: WHvGetCapability(HypervisorPresent) reports no hypervisor\n");
        return 77;
    }
    return 0;
}

static bool selected(int argc, char **argv, const char *name)
{
    if (argc <= 1)
        return true;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

/* Runs one test under its alarm; setjmp lives here so that no caller's locals can be clobbered. */
static int run_one(const struct guest_test *t, unsigned timeout)
{
    jmp_buf jb;
    volatile int result;

    current_name = t->name;
    snprintf(timeout_msg, sizeof(timeout_msg), "TIMEOUT: %s did not finish within %u s\n", t->name, timeout);
    current_jmp = &jb;
    in_test = true;
    alarm(timeout);
    result = setjmp(jb);
    if (result == 0) {
        t->fn();
        result = RESULT_PASS;
    }
    /* Still under the alarm: a cleanup that hangs (a thread that never returns) is a timeout. */
    current_jmp = NULL;
    run_deferred(test_deferred, &n_test_deferred);
    in_test = false;
    alarm(0);
    guest_vm_destroy_all();
    return result;
}

void guest_test_set_timeout(unsigned seconds)
{
    if (!current_jmp)
        return;
    snprintf(timeout_msg, sizeof(timeout_msg), "TIMEOUT: %s did not finish within %u s\n", current_name,
             seconds);
    alarm(seconds);
}

int guest_test_main(int argc, char **argv, const struct guest_test *tests, size_t count)
{
    struct sigaction sa;
    unsigned timeout = 30, passed = 0, failed = 0;
    const char *env = getenv("GUEST_TEST_TIMEOUT");
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = check_hypervisor();
    if (rc)
        return rc;
    if (env && atoi(env) > 0)
        timeout = (unsigned)atoi(env);
    main_thread = pthread_self();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);

    for (size_t i = 0; i < count; i++) {
        if (!selected(argc, argv, tests[i].name))
            continue;
        switch (run_one(&tests[i], timeout)) {
        case RESULT_FAIL:
            failed++;
            printf("FAIL %s\n", tests[i].name);
            break;
        case RESULT_SKIP:
            passed++;
            printf("SKIP %s\n", tests[i].name);
            break;
        default:
            passed++;
            printf("PASS %s\n", tests[i].name);
            break;
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
