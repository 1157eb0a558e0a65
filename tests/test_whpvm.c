/* whpvm end to end: a flat 32-bit guest prints through COM1 and ends the run with the
 * isa-debug-exit port; a synthetic bzImage checks the 64-bit boot protocol's entry state (long
 * mode, __BOOT_CS/__BOOT_DS, RSI = zero page with the loader type, command line and initrd);
 * malformed images, missing files and absurd options give one-line errors
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

/* A bzImage (protocol 2.15, 64-bit, relocatable) whose startup_64 checks its entry state and
 * writes 0x10 to port 0xF4 (status 33) when all holds, 0x20 (status 65) otherwise. */
#define BZ_SETUP 1024u
#define BZ_KERNEL 0x400u
#define BZ_INITRD "init"
static size_t bz_code(unsigned char *c)
{
    static const unsigned char checks[] = {
        0xB9, 0x80, 0x00, 0x00, 0xC0, 0x0F, 0x32, 0xF6, 0xC4, 0x04, /* EFER.LMA */
        0x74, 0x00,
        0x8C, 0xC8, 0x83, 0xF8, 0x10, 0x75, 0x00,                   /* cs == __BOOT_CS */
        0x8C, 0xD0, 0x83, 0xF8, 0x18, 0x75, 0x00,                   /* ss == __BOOT_DS */
        0x80, 0xBE, 0x10, 0x02, 0x00, 0x00, 0xFF, 0x75, 0x00,       /* type_of_loader */
        0x8B, 0x86, 0x28, 0x02, 0x00, 0x00, 0x80, 0x38, 'c', 0x75, 0x00, /* cmdline "c..." */
        0x83, 0xBE, 0x1C, 0x02, 0x00, 0x00, 0x04, 0x75, 0x00,       /* ramdisk_size 4 */
        0x8B, 0x86, 0x18, 0x02, 0x00, 0x00, 0x81, 0x38, 'i', 'n', 'i', 't', 0x75, 0x00,
        0xB0, 0x10, 0xE6, 0xF4, 0xF4,                               /* pass */
        0xB0, 0x20, 0xE6, 0xF4, 0xF4,                               /* fail */
    };
    size_t n = sizeof(checks), fail = n - 5;
    memcpy(c, checks, n);
    for (size_t i = 0; i + 1 < fail; i++)
        if ((c[i] == 0x74 || c[i] == 0x75) && c[i + 1] == 0x00)
            c[i + 1] = (unsigned char)(fail - (i + 2));
    return n;
}

static void make_bz(unsigned char *image, unsigned version)
{
    memset(image, 0, BZ_SETUP + BZ_KERNEL);
    image[0x1F1] = BZ_SETUP / 512 - 1;
    image[0x1F4] = BZ_KERNEL / 16;
    image[0x1FE] = 0x55, image[0x1FF] = 0xAA;
    image[0x200] = 0xEB, image[0x201] = 0x6A;
    memcpy(image + 0x202, "HdrS", 4);
    image[0x206] = (unsigned char)version, image[0x207] = (unsigned char)(version >> 8);
    image[0x211] = 1;                      /* LOADED_HIGH */
    memset(image + 0x22C, 0xFF, 3);        /* initrd_addr_max 0xFFFFFF */
    image[0x232] = 0x20;                   /* kernel_alignment 2 MiB */
    image[0x234] = 1;                      /* relocatable */
    image[0x236] = 1;                      /* XLF_KERNEL_64 */
    image[0x239] = 0x07, image[0x238] = 0xFF; /* cmdline_size 2047 */
    image[0x25A] = 0x20;                   /* pref_address 2 MiB */
    image[0x262] = 0x10;                   /* init_size 1 MiB */
    bz_code(image + BZ_SETUP + 0x200);
}

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

    static unsigned char bzimage[BZ_SETUP + BZ_KERNEL];
    const char *bz = "/tmp/whpvm-test-bz.bin", *rd = "/tmp/whpvm-test-initrd.bin";
    make_bz(bzimage, 0x020F);
    write_file(bz, bzimage, sizeof(bzimage));
    write_file(rd, BZ_INITRD, 4);
    st = run(out, sizeof(out), err, sizeof(err),
             (const char *[]){"-m", "64M", "-kernel", bz, "-initrd", rd, "-append", "console=ttyS0",
                              NULL});
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 33, "bzImage: status 0x%x, stderr: %s", st, err);
    char two[64];
    snprintf(two, sizeof(two), "%s,%s", rd, rd);
    st = run(out, sizeof(out), err, sizeof(err),
             (const char *[]){"-kernel", bz, "-initrd", two, NULL});
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(err, "one -initrd"), "2 initrds: %s", err);
    make_bz(bzimage, 0x020B);
    write_file(bz, bzimage, sizeof(bzimage));
    st = run(out, sizeof(out), err, sizeof(err), (const char *[]){"-kernel", bz, NULL});
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(err, "2.12"), "protocol 2.11: %s", err);
    unlink(bz);
    unlink(rd);

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
