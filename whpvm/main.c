/* whpvm: the reference VMM of openwhp, written only against the public WHP API. It boots a Linux
 * bzImage, a multiboot (version 1) kernel or a flat binary on the whpvm board (chosen by magic);
 * a guest ends the run with QEMU's isa-debug-exit convention, so the exit status is
 * (value << 1) | 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "cli.h"
#include "loader.h"
#include "tables.h"

#define FLAT_LOAD_GPA 0x100000u
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05

static const char usage[] =
    "usage: whpvm [-smp N] [-m SIZE] -kernel FILE [-append CMDLINE] [-initrd FILE[,FILE...]]\n"
    "             [-serial stdio] [-nographic]\n"
    "Boots a Linux bzImage (64-bit boot protocol 2.12+; -initrd: one initramfs), a multiboot (v1)\n"
    "kernel (-initrd: its modules), or a flat binary loaded at 1 MiB and entered there in 32-bit\n"
    "protected mode. Exit status: (v << 1) | 1 for a guest write of v to port 0xF4; 2 for a VMM\n"
    "error, 3 for a guest triple fault. The interrupt and event demo is whpvm-demo.\n";

/* Reads a whole file (at most `limit` bytes); NULL with a one-line message on failure. */
static uint8_t *slurp(const char *path, size_t limit, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "whpvm: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb = cap > limit + 1 ? NULL : realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "whpvm: %s: larger than guest RAM\n", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad || n == 0) {
        fprintf(stderr, "whpvm: %s: %s\n", path, bad ? "read error" : "empty file");
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

static const char *linux_error(int e)
{
    switch (e) {
    case -ENOTSUP: return "not a 64-bit bzImage (boot protocol 2.12+, LOADED_HIGH, XLF_KERNEL_64)";
    case -ENOSPC: return "kernel or initrd does not fit in guest RAM (or above initrd_addr_max)";
    case -E2BIG: return "command line longer than the kernel's cmdline_size";
    default: return "malformed bzImage (truncated, or inconsistent setup header)";
    }
}

/* The format is chosen by magic: bzImage ("HdrS"), then multiboot, then (without -append and
 * -initrd) a flat binary. */
static int load_image(struct board *b, const struct cli_options *o, const uint8_t *image,
                      size_t size, const struct loader_module *mods, size_t nmods, uint64_t rsdp,
                      struct loader_result *r)
{
    struct loader_memmap map[LOADER_MEMMAP_DEFAULT_MAX];
    size_t nmap = loader_memmap_default(b->ram_size, map, LOADER_MEMMAP_DEFAULT_MAX);
    const char *cmdline = o->append ? o->append : "";
    int e = loader_linux(image, size, cmdline, nmods ? mods[0].data : NULL,
                         nmods ? mods[0].size : 0, rsdp, b->ram, b->ram_size, map, nmap, r);
    if (e != -ENOEXEC) {
        if (e < 0)
            fprintf(stderr, "whpvm: %s: %s\n", o->kernel, linux_error(e));
        else if (nmods > 1)
            fprintf(stderr, "whpvm: %s: a bzImage takes one -initrd file\n", o->kernel);
        return e < 0 ? e : nmods > 1 ? -EINVAL : 0;
    }
    e = loader_multiboot(image, size, cmdline, mods, nmods, b->ram, b->ram_size, map, nmap, r);
    if (e == -ENOEXEC && !nmods && !o->append)
        e = loader_flat(image, size, b->ram, b->ram_size, FLAT_LOAD_GPA, r);
    if (e < 0)
        fprintf(stderr, "whpvm: %s: %s\n", o->kernel,
                e == -ENOEXEC ? "neither a bzImage nor a multiboot kernel (-append, -initrd need one)"
                : e == -ENOSPC ? "does not fit in guest RAM"
                               : "malformed image");
    return e;
}

static int load(struct board *b, const struct cli_options *o, uint64_t rsdp,
                struct loader_result *r)
{
    size_t size;
    uint8_t *image = slurp(o->kernel, b->ram_size, &size);
    if (!image)
        return -1;
    struct loader_module mods[CLI_MAX_INITRD];
    size_t nmods = 0;
    int e = 0;
    for (; nmods < o->ninitrd && e == 0; nmods++) {
        mods[nmods].data = slurp(o->initrd[nmods], b->ram_size, &mods[nmods].size);
        mods[nmods].cmdline = o->initrd[nmods];
        if (!mods[nmods].data)
            e = -1;
    }
    if (e == 0)
        e = load_image(b, o, image, size, mods, nmods, rsdp, r);
    for (size_t i = 0; i < nmods; i++)
        free((void *)mods[i].data);
    free(image);
    return e < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct cli_options o;
    char err[256];
    if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "whpvm: %s\n", err);
        return 2;
    }
    if (o.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (!o.kernel) {
        fprintf(stderr, "whpvm: no -kernel given (the interrupt and event demo is whpvm-demo)\n");
        return 2;
    }
    struct board b;
    int status = 2;
    if (board_create(&b, o.smp, o.ram, o.serial_stdio, err, sizeof(err)) < 0) {
        fprintf(stderr, "whpvm: %s\n", err);
    } else {
        struct loader_result r;
        struct tables_config cfg;
        struct tables_result t;
        tables_default_config(&cfg, o.smp);
        cfg.pm_timer_port = BOARD_PM_TIMER_PORT;
        cfg.pm1a_evt_port = cfg.pm1a_cnt_port = 0; /* the board has no PM1 event/control blocks */
        if (o.smp <= 15)
            cfg.ioapic_id = (uint8_t)o.smp; /* apart from every APIC ID */
        cfg.iapc_boot_arch |= TABLES_BOOT_NO_CMOS_RTC;
        uint16_t cpus = (uint16_t)o.smp;
        uint64_t ram = o.ram;
        /* The tables first: the Linux zero page points at the RSDP. The loaders keep out of
         * their region, which the memory map reserves. */
        if (tables_build(b.ram, b.ram_size, &cfg, &t) < 0)
            fprintf(stderr, "whpvm: cannot build the ACPI and MP tables\n");
        else if (load(&b, &o, t.rsdp, &r) == 0) {
            if (fwcfg_add(&b.fwcfg, FW_CFG_NB_CPUS, &cpus, sizeof(cpus)) < 0 ||
                fwcfg_add(&b.fwcfg, FW_CFG_RAM_SIZE, &ram, sizeof(ram)) < 0 ||
                fwcfg_set_cmdline(&b.fwcfg, o.append ? o.append : "") < 0)
                fprintf(stderr, "whpvm: cannot fill fw_cfg\n");
            else
                status = board_run(&b, (uint32_t)r.entry, r.eax, r.ebx);
        }
    }
    board_destroy(&b);
    return status;
}
