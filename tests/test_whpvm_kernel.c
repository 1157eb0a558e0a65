/* whpvm boots a real multiboot kernel (tests/kernel/): the BSP starts every AP with
 * INIT-SIPI-SIPI, routes COM1's THR-empty interrupt through the IOAPIC and prints
 * "whpvm kernel: N CPUs up" one byte per interrupt, then exits through isa-debug-exit with 0x10
 * (status 33); a failure exits with 0x20 + a code (status 65 and up, see tests/kernel/kernel.c).
 * With -append lint0 the kernel first checks that a PIT interrupt waits in the PIC, not in
 * service, while LVT LINT0 is masked, and arrives once LINT0 is unmasked. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
