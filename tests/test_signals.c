/* The VMM's signals and the library's kick (SIGRTMAX-2): a failed or refused installation of the
 * kick handler fails the run; the thread's signal mask is taken at every run (a signal the VMM
 * blocks stays pending during KVM_RUN, one it unblocks interrupts it) and left as the VMM set it
 * (the kick is not blocked after the run); cancels are never lost, also in a thread that blocks
 * the kick itself (as QEMU's do) or is signalled all the time. sigaction is interposed to make it
 * fail. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "guest_stress.h"

#define KICK_SIGNAL (SIGRTMAX - 2)
#define SETTLE_MS 100       /* long enough for the run to be inside KVM_RUN (hlt) */
#define CANCEL_ROUNDS 300
#define CANCEL_WAIT_MS 2000 /* a cancel not answered by then is lost */

static atomic_bool fail_kick_sigaction;

/* Fails installing a handler on the kick signal while fail_kick_sigaction is set. */
int sigaction(int sig, const struct sigaction *sa, struct sigaction *old)
{
    static int (*real)(int, const struct sigaction *, struct sigaction *);
    if (sa && sig == KICK_SIGNAL && atomic_load(&fail_kick_sigaction)) {
        errno = EINVAL;
        return -1;
    }
    if (!real)
        real = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    return real(sig, sa, old);
}

GUEST_CODE static void guest_hlt_main(void)
{
    for (;;)
        guest_hlt(); /* interrupts off: only a kick ends KVM_RUN */
}

static atomic_uint usr1_count;

static void usr1_handler(int sig)
{
    (void)sig;
    atomic_fetch_add(&usr1_count, 1);
}

static void own_handler(int sig)
{
    (void)sig;
}

static void set_handler(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    TEST_ASSERT(sigaction(sig, &sa, NULL) == 0);
}

static void mask(int how, int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    TEST_ASSERT(pthread_sigmask(how, &s, NULL) == 0);
}

static bool blocked(int sig)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig) == 1;
}

static bool pending(int sig)
{
    sigset_t s;
    sigpending(&s);
    return sigismember(&s, sig) == 1;
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static struct guest_vm *hlt_vm(void)
{
    struct guest_vm_config cfg = {.apic_mode = WHvX64LocalApicEmulationModeXApic}; /* hlt stays in KVM */
    struct guest_vm *vm = guest_vm_create(&cfg);
    guest_vm_add_vp(vm, 0, guest_hlt_main, 0, 0);
    return vm;
}

/* Runs until the run ends; requires a Canceled exit. */
static void run_expect_canceled(struct guest_vm *vm)
{
    WHV_RUN_VP_EXIT_CONTEXT exit;
    TEST_HR(guest_whv_run(vm->partition, 0, &exit));
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonCanceled, "(exit %s instead of Canceled)",
                guest_exit_reason_name(exit.ExitReason));
}

/* Must run before any other run of the process: the handler is installed at the first run. */
static void test_kick_handler_failures_fail_the_run(void)
{
    struct guest_vm *vm = hlt_vm();
    WHV_RUN_VP_EXIT_CONTEXT exit;
    set_handler(KICK_SIGNAL, own_handler); /* the program's own handler is not replaced */
    TEST_HR_EQ(guest_whv_run(vm->partition, 0, &exit), HRESULT_FROM_WIN32(ERROR_BUSY));
    set_handler(KICK_SIGNAL, SIG_DFL);
    atomic_store(&fail_kick_sigaction, true);
    TEST_HR_EQ(guest_whv_run(vm->partition, 0, &exit), E_INVALIDARG); /* sigaction's EINVAL */
    atomic_store(&fail_kick_sigaction, false);
    TEST_HR(WHvCancelRunVirtualProcessor(vm->partition, 0, 0));
    run_expect_canceled(vm); /* installed now */
    guest_vm_destroy(vm);
}

struct poke {
    pthread_t target;
    WHV_PARTITION_HANDLE partition;
    unsigned seen; /* SIGUSR1 handler runs counted while the run was still going */
};

/* Sends SIGUSR1 to the running thread, looks at the handler count, then cancels the run. */
static void *poke_main(void *opaque)
{
    struct poke *p = opaque;
    sleep_ms(SETTLE_MS);
    pthread_kill(p->target, SIGUSR1);
    sleep_ms(SETTLE_MS);
    p->seen = atomic_load(&usr1_count);
    WHvCancelRunVirtualProcessor(p->partition, 0, 0);
    return NULL;
}

static unsigned run_poked(struct guest_vm *vm)
{
    struct poke p = {pthread_self(), vm->partition, 0};
    pthread_t t;
    atomic_store(&usr1_count, 0);
    TEST_ASSERT(pthread_create(&t, NULL, poke_main, &p) == 0);
    run_expect_canceled(vm);
    pthread_join(t, NULL);
    TEST_ASSERT(!blocked(KICK_SIGNAL), "(the kick signal is blocked in the thread after the run)");
    return p.seen;
}

static void test_mask_changes_between_runs_reach_kvm_run(void)
{
    struct guest_vm *vm = hlt_vm();
    set_handler(SIGUSR1, usr1_handler);
    mask(SIG_BLOCK, SIGUSR1);
    TEST_ASSERT_EQ(run_poked(vm), 0); /* blocked: stays pending, does not interrupt the run */
    TEST_ASSERT(pending(SIGUSR1));
    mask(SIG_UNBLOCK, SIGUSR1);       /* the handler runs now, outside any run */
    TEST_ASSERT_EQ(atomic_load(&usr1_count), 1);
    TEST_ASSERT_EQ(run_poked(vm), 1); /* unblocked: it interrupts KVM_RUN, the run goes on */
    mask(SIG_BLOCK, SIGUSR1);
    TEST_ASSERT_EQ(run_poked(vm), 0);
    mask(SIG_UNBLOCK, SIGUSR1);
    set_handler(SIGUSR1, SIG_DFL);
    guest_vm_destroy(vm);
}

/* A thread that blocks the kick (QEMU's vCPU threads block every signal) still gets its cancels:
 * its runs hand KVM its mask without the kick. Its own mask is left alone, a SIGUSR1 it blocks
 * stays pending through the run, and no kick is left pending. Its own thread: the mode is chosen
 * at each thread's first run. */
static void *blocked_kick_main(void *opaque)
{
    struct guest_vm *vm = opaque;
    mask(SIG_BLOCK, KICK_SIGNAL);
    set_handler(SIGUSR1, usr1_handler);
    mask(SIG_BLOCK, SIGUSR1);
    for (int i = 0; i < 3; i++) {
        struct poke p = {pthread_self(), vm->partition, 0};
        pthread_t t;
        TEST_ASSERT(pthread_create(&t, NULL, poke_main, &p) == 0);
        run_expect_canceled(vm);
        pthread_join(t, NULL);
        TEST_ASSERT(blocked(KICK_SIGNAL) && !pending(KICK_SIGNAL));
        TEST_ASSERT(pending(SIGUSR1));
    }
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    TEST_ASSERT_EQ(sigwaitinfo(&s, NULL), SIGUSR1);
    mask(SIG_UNBLOCK, SIGUSR1);
    set_handler(SIGUSR1, SIG_DFL);
    return NULL;
}

static void test_cancel_with_kick_blocked_by_thread(void)
{
    struct guest_vm *vm = hlt_vm();
    pthread_t t;
    TEST_ASSERT(pthread_create(&t, NULL, blocked_kick_main, vm) == 0);
    pthread_join(t, NULL);
    guest_vm_destroy(vm);
}

/* One cancel per run at a random moment (before, at or after the entry into KVM_RUN) while
 * another thread sends SIGUSR1 to the VP thread all the time and the VP thread changes its mask
 * between runs: every run must end within CANCEL_WAIT_MS. */
static struct {
    WHV_PARTITION_HANDLE partition;
    pthread_t vp_thread;
    atomic_uint started, ended, lost;
    atomic_bool stop;
} storm;

static void *storm_cancel_main(void *opaque)
{
    (void)opaque;
    unsigned seed = 13;
    for (unsigned run = 1; run <= CANCEL_ROUNDS; run++) {
        while (atomic_load(&storm.started) < run)
            sched_yield();
        struct timespec t = {0, (long)(rand_r(&seed) % 500) * 1000L};
        nanosleep(&t, NULL);
        WHvCancelRunVirtualProcessor(storm.partition, 0, 0);
        uint64_t deadline = stress_now_ns() + CANCEL_WAIT_MS * 1000000ull;
        while (atomic_load(&storm.ended) < run && stress_now_ns() < deadline)
            sched_yield();
        if (atomic_load(&storm.ended) < run) {
            atomic_fetch_add(&storm.lost, 1);
            WHvCancelRunVirtualProcessor(storm.partition, 0, 0); /* let the test go on */
        }
    }
    return NULL;
}

static void *storm_usr1_main(void *opaque)
{
    (void)opaque;
    while (!atomic_load(&storm.stop)) {
        pthread_kill(storm.vp_thread, SIGUSR1);
        sleep_ms(1);
    }
    return NULL;
}

static void test_cancel_never_lost_under_signals(void)
{
    struct guest_vm *vm = hlt_vm();
    storm.partition = vm->partition;
    storm.vp_thread = pthread_self();
    set_handler(SIGUSR1, usr1_handler);
    pthread_t c, u;
    TEST_ASSERT(pthread_create(&c, NULL, storm_cancel_main, NULL) == 0);
    TEST_ASSERT(pthread_create(&u, NULL, storm_usr1_main, NULL) == 0);
    for (unsigned run = 1; run <= CANCEL_ROUNDS; run++) {
        mask(run % 3 ? SIG_UNBLOCK : SIG_BLOCK, SIGUSR1);
        atomic_store(&storm.started, run);
        run_expect_canceled(vm);
        atomic_store(&storm.ended, run);
        TEST_ASSERT(!blocked(KICK_SIGNAL));
    }
    atomic_store(&storm.stop, true);
    pthread_join(c, NULL);
    pthread_join(u, NULL);
    mask(SIG_BLOCK, SIGUSR1);
    set_handler(SIGUSR1, SIG_DFL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    struct timespec zero = {0, 0};
    sigtimedwait(&s, NULL, &zero);
    mask(SIG_UNBLOCK, SIGUSR1);
    TEST_ASSERT(atomic_load(&storm.lost) == 0, "(%u of %u cancels lost)", atomic_load(&storm.lost), CANCEL_ROUNDS);
    printf("  %u runs cancelled, %u SIGUSR1 handled meanwhile\n", CANCEL_ROUNDS, atomic_load(&usr1_count));
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_kick_handler_failures_fail_the_run),
        GUEST_TEST(test_mask_changes_between_runs_reach_kvm_run),
        GUEST_TEST(test_cancel_with_kick_blocked_by_thread),
        GUEST_TEST(test_cancel_never_lost_under_signals),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
