/* whpvm end to end: a flat 32-bit guest prints through COM1 and ends the run with the
 * isa-debug-exit port; malformed images, missing files and absurd options give one-line errors
 * and a non-zero status, never a crash. Runs the built whpvm binary as a user would. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whpvm_run.h"

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

/* 32-bit code loaded at 1 MiB: "OK\n" to COM1, then write 0x2a to port 0xF4. */
static const unsigned char flat_guest[] = {
    0x66, 0xba, 0xf8, 0x03, /* mov dx, 0x3f8 */
    0xb0, 'O', 0xee,        /* mov al, 'O'; out dx, al */
    0xb0, 'K', 0xee,        /* mov al, 'K'; out dx, al */
    0xb0, '\n', 0xee,       /* mov al, '\n'; out dx, al */
    0x66, 0xba, 0xf4, 0x00, /* mov dx, 0xf4 */
    0xb0, 0x2a, 0xee,       /* mov al, 42; out dx, al */
    0xf4,                   /* hlt */
};

int main(int argc, char **argv)
{
    (void)argc;
    char self[PATH_MAX];
    snprintf(self, sizeof(self), "%s", argv[0]);
    snprintf(whpvm, sizeof(whpvm), "%s/../../whpvm/whpvm", dirname(self));
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("SKIP: /dev/kvm not available\n");
        return 77;
    }
    alarm(60);
    char out[4096], err[4096];
    const char *img = "/tmp/whpvm-test-flat.bin", *bad = "/tmp/whpvm-test-bad.bin";
    write_file(img, flat_guest, sizeof(flat_guest));

    int st = run(out, sizeof(out), err, sizeof(err),
                 (const char *[]){"-kernel", img, "-serial", "stdio", NULL});
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == ((0x2a << 1) | 1), "status 0x%x, stderr: %s", st, err);
    CHECK(!strcmp(out, "OK\n"), "stdout '%s'", out);

    st = run(out, sizeof(out), err, sizeof(err),
             (const char *[]){"-smp", "4", "-m", "64M", "-kernel", img, "-nographic", NULL});
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 85 && !strcmp(out, "OK\n"), "4 VPs: 0x%x %s", st, err);

    static const struct {
        const char *const args[8];
        const char *want;
    } cases[] = {
        {{"-kernel", "/nonexistent/kernel", NULL}, "No such file"},
        {{"-smp", "0", "-kernel", "x", NULL}, "-smp"},
        {{"-smp", "100000", NULL}, "-smp"},
        {{"-m", "1T", "-kernel", "x", NULL}, "-m"},
        {{"-m", "abc", NULL}, "-m"},
        {{"-bogus", NULL}, "unknown option"},
        {{"-kernel", "/tmp/whpvm-test-bad.bin", "-append", "x", NULL}, "multiboot"},
        {{"-kernel", "/dev/null", NULL}, "empty"},
        {{"-kernel", NULL}, "needs a value"},
    };
    unsigned char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 7 + 3);
    write_file(bad, junk, sizeof(junk));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        st = run(out, sizeof(out), err, sizeof(err), cases[i].args);
        size_t lines = 0;
        for (const char *p = err; *p; p++)
            lines += *p == '\n';
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 85, "case %zu: status 0x%x",
              i, st);
        CHECK(lines == 1 && strstr(err, cases[i].want), "case %zu: stderr '%s'", i, err);
    }
    unlink(img);
    unlink(bad);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
