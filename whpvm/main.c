/* whpvm: the reference VMM of openwhp, written only against the public WHP API. It boots a
 * multiboot (version 1) kernel or a flat binary on the whpvm board; a guest ends the run with
 * QEMU's isa-debug-exit convention, so the exit status is (value << 1) | 1. */
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
    "Boots a multiboot (v1) kernel, or a flat binary loaded at 1 MiB and entered there in 32-bit\n"
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

static int load(struct board *b, const struct cli_options *o, struct loader_result *r)
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
    if (e == 0) {
        struct loader_memmap map[8];
        size_t nmap = loader_memmap_default(b->ram_size, map, 8);
        e = loader_multiboot(image, size, o->append ? o->append : "", mods, nmods, b->ram,
                             b->ram_size, map, nmap, r);
        if (e == -ENOEXEC && !nmods && !o->append)
            e = loader_flat(image, size, b->ram, b->ram_size, FLAT_LOAD_GPA, r);
        if (e < 0)
            fprintf(stderr, "whpvm: %s: %s\n", o->kernel,
                    e == -ENOEXEC ? "not a multiboot kernel (-append/-initrd need one)"
                    : e == -ENOSPC ? "does not fit in guest RAM"
                                   : "malformed image");
    }
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
        if (load(&b, &o, &r) == 0) {
            if (tables_build(b.ram, b.ram_size, &cfg, &t) < 0)
                fprintf(stderr, "whpvm: cannot build the ACPI and MP tables\n");
            else if (fwcfg_add(&b.fwcfg, FW_CFG_NB_CPUS, &cpus, sizeof(cpus)) < 0 ||
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
