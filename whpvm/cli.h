/* whpvm's command line, in QEMU's spelling where one exists: parsed into plain data, so the
 * parser is unit-tested apart from the VM. */
#ifndef WHPVM_CLI_H
#define WHPVM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_MAX_INITRD 16
#define CLI_MAX_SMP 64
#define CLI_MIN_RAM (2ull << 20)
#define CLI_MAX_RAM (64ull << 30)

struct cli_options {
    unsigned smp;                   /* -smp N (default 1; 2 without -kernel: whpvm-demo) */
    uint64_t ram;                   /* -m SIZE: bytes (default 128 MiB) */
    const char *kernel;             /* -kernel FILE: bzImage, multiboot or flat (whpvm only) */
    const char *append;             /* -append STRING: the kernel command line */
    const char *initrd[CLI_MAX_INITRD]; /* -initrd FILE[,FILE...]: initrd or multiboot modules */
    size_t ninitrd;
    bool serial_stdio;              /* -serial stdio (also implied by -nographic) */
    bool json;                      /* --json: whpvm-demo's report for machines */
    bool help;
};

/* Parses argv; on an error writes a one-line message (without newline) to err and returns -1. */
int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen);
/* "128M", "2G", "1048576": bytes, or 0 when malformed or out of range. */
uint64_t cli_parse_size(const char *s);

#endif
