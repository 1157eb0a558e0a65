/* whpvm's command-line parser: QEMU's option names (-smp, -m, -kernel, -append, -initrd,
 * -serial stdio, -nographic) with range checks, so absurd values fail before any VM exists. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t cli_parse_size(const char *s)
{
    if (!s || !*s)
        return 0;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return 0;
    unsigned shift = 20; /* QEMU: a bare number is MiB */
    if (*end) {
        switch (*end++) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return 0;
        }
        if (*end == 'i')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return 0;
    }
    if (v > (CLI_MAX_RAM >> shift))
        return 0;
    uint64_t bytes = (uint64_t)v << shift;
    return bytes >= CLI_MIN_RAM && bytes <= CLI_MAX_RAM && !(bytes & 0xfff) ? bytes : 0;
}

int cli_parse(int argc, char **argv, struct cli_options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->ram = 128ull << 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = !strcmp(a, "-smp") || !strcmp(a, "-m") || !strcmp(a, "-kernel") ||
                     !strcmp(a, "-append") || !strcmp(a, "-initrd") || !strcmp(a, "-serial");
        if (takes && !v) {
            snprintf(err, errlen, "option %s needs a value", a);
            return -1;
        }
        if (!strcmp(a, "-smp")) {
            char *end;
            errno = 0;
            long n = strtol(v, &end, 10);
            if (errno || *end || n < 1 || n > CLI_MAX_SMP) {
                snprintf(err, errlen, "-smp %s: expected 1 to %d processors", v, CLI_MAX_SMP);
                return -1;
            }
            o->smp = (unsigned)n;
        } else if (!strcmp(a, "-m")) {
            o->ram = cli_parse_size(v);
            if (!o->ram) {
                snprintf(err, errlen, "-m %s: expected a size from 2M to 64G (e.g. 256M, 1G)", v);
                return -1;
            }
        } else if (!strcmp(a, "-kernel")) {
            o->kernel = v;
        } else if (!strcmp(a, "-append")) {
            o->append = v;
        } else if (!strcmp(a, "-initrd")) {
            /* Comma-separated, as QEMU takes multiboot modules; the strings stay in argv. */
            for (char *s = argv[i + 1]; s && *s;) {
                if (o->ninitrd == CLI_MAX_INITRD) {
                    snprintf(err, errlen, "-initrd: at most %d files", CLI_MAX_INITRD);
                    return -1;
                }
                o->initrd[o->ninitrd++] = s;
                char *comma = strchr(s, ',');
                if (!comma)
                    break;
                *comma = 0;
                s = comma + 1;
            }
        } else if (!strcmp(a, "-serial")) {
            if (strcmp(v, "stdio")) {
                snprintf(err, errlen, "-serial %s: only 'stdio' is supported", v);
                return -1;
            }
            o->serial_stdio = true;
        } else if (!strcmp(a, "-nographic")) {
            o->serial_stdio = true;
            continue;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            o->help = true;
            continue;
        } else {
            snprintf(err, errlen, "unknown option %s (see whpvm --help)", a);
            return -1;
        }
        i++;
    }
    if (o->kernel == NULL && (o->append || o->ninitrd)) {
        snprintf(err, errlen, "-append and -initrd need -kernel");
        return -1;
    }
    if (!o->smp)
        o->smp = o->kernel ? 1 : 2;
    return 0;
}
