/* whpvm boots a real multiboot kernel (tests/kernel/): the BSP starts every AP with
 * INIT-SIPI-SIPI, routes COM1's THR-empty interrupt through the IOAPIC and prints
 * "whpvm kernel: N CPUs up" one byte per interrupt, then exits through isa-debug-exit with 0x10
 * (status 33); a failure exits with 0x20 + a code (status 65 and up, see tests/kernel/kernel.c).
 * With -append lint0 the kernel first checks that a PIT interrupt waits in the PIC, not in
 * service, while LVT LINT0 is masked, and arrives once LINT0 is unmasked. A thread whpvm cannot
 * start (a stack larger than the host's memory) ends the run with one line and status 2. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whpvm_run.h"

static char kernel[PATH_MAX];

static void boot(const char *smp, const char *append)
{
    char out[4096], err[4096], want[64];
    int st = run(out, sizeof(out), err, sizeof(err),
                 (const char *[]){"-smp", smp, "-m", "64M", "-kernel", kernel, "-serial", "stdio",
                                  "-append", append, NULL});
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    CHECK(code == 33, "-smp %s -append '%s': exit status %d (%s), stdout '%s', stderr '%s'", smp,
          append, code,
          code >= 65 && code <= 127 ? "kernel failure code = (status - 65) / 2" : "whpvm", out,
          err);
    snprintf(want, sizeof(want), "whpvm kernel: %s CPUs up\n", smp);
    CHECK(!strcmp(out, want), "-smp %s: stdout '%s', want '%s'", smp, out, want);
    CHECK(err[0] == 0, "-smp %s: stderr '%s'", smp, err);
}

/* RLIMIT_STACK is the default thread stack size: 1 TiB makes every pthread_create fail (EAGAIN)
 * under the kernel's overcommit heuristic, while whpvm's own main stack is not affected. */
static void thread_failure(void)
{
    const rlim_t huge = 1ull << 40;
    struct rlimit old, big;
    if (getrlimit(RLIMIT_STACK, &old) != 0 || (old.rlim_max != RLIM_INFINITY && old.rlim_max < huge)) {
        printf("SKIP thread_failure: RLIMIT_STACK cannot be raised\n");
        return;
    }
    big = (struct rlimit){huge, old.rlim_max};
    setrlimit(RLIMIT_STACK, &big);
    char out[4096], err[4096];
    int st = run(out, sizeof(out), err, sizeof(err),
                 (const char *[]){"-smp", "2", "-m", "64M", "-kernel", kernel, NULL});
    setrlimit(RLIMIT_STACK, &old);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    CHECK(code == 2, "exit status %d (wait status %#x), stderr '%s'", code, st, err);
    CHECK(!strncmp(err, "whpvm: cannot start the ", 24) && strchr(err, '\n') == err + strlen(err) - 1,
          "stderr '%s', want one line 'whpvm: cannot start the ... thread: ...'", err);
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[PATH_MAX];
    snprintf(self, sizeof(self), "%s", argv[0]);
    const char *dir = dirname(self);
    snprintf(whpvm, sizeof(whpvm), "%s/../../whpvm/whpvm", dir);
    snprintf(kernel, sizeof(kernel), "%s/../kernel/whpvm_test_kernel", dir);
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("SKIP: /dev/kvm not available\n");
        return 77;
    }
    if (access(kernel, R_OK) != 0) {
        printf("FAIL: %s not built (add_subdirectory(tests/kernel) missing?)\n", kernel);
        return 1;
    }
    alarm(100);
    boot("1", "");
    boot("2", "");
    boot("4", "");
    boot("1", "lint0");
    boot("2", "lint0");
    thread_failure();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
