/* Unit tests of whpvm's command-line parser: QEMU spellings, sizes, and one-line errors for
 * absurd or malformed values. */
#include <stdio.h>
#include <string.h>

#include "../../whpvm/cli.c"

#include "check.h"

static int parse(struct cli_options *o, char *err, const char *line)
{
    static char buf[512];
    static char *argv[32];
    int argc = 0;
    snprintf(buf, sizeof(buf), "whpvm %s", line);
    for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
        argv[argc++] = t;
    argv[argc] = NULL;
    err[0] = 0;
    return cli_parse(argc, argv, o, err, 200);
}

int main(void)
{
    struct cli_options o;
    char err[200];
    CHECK(parse(&o, err, "") == 0 && !o.kernel && o.smp == 2 && o.ram == 128ull << 20);
    CHECK(parse(&o, err, "-smp 4 -m 256M -kernel k.elf -append console=ttyS0 -initrd a,b,c -serial stdio") == 0);
    CHECK(o.smp == 4 && o.ram == 256ull << 20 && !strcmp(o.kernel, "k.elf") && o.ninitrd == 3 &&
          !strcmp(o.initrd[2], "c") && o.serial_stdio && !strcmp(o.append, "console=ttyS0"));
    CHECK(parse(&o, err, "-kernel k") == 0 && o.smp == 1);
    CHECK(parse(&o, err, "-nographic --json") == 0 && o.serial_stdio && o.json);
    CHECK(cli_parse_size("2G") == 2ull << 30 && cli_parse_size("512") == 512ull << 20);
    CHECK(cli_parse_size("64GiB") == 64ull << 30 && cli_parse_size("4096k") == 4ull << 20);
    CHECK(cli_parse_size("1k") == 0 && cli_parse_size("65G") == 0 && cli_parse_size("-1") == 0);
    CHECK(cli_parse_size("12Q") == 0 && cli_parse_size("") == 0 && cli_parse_size("99999999999999999999") == 0);
    CHECK(parse(&o, err, "-smp 0") < 0 && strstr(err, "-smp"));
    CHECK(parse(&o, err, "-smp 100000") < 0 && !strchr(err, '\n'));
    CHECK(parse(&o, err, "-smp 2x") < 0);
    CHECK(parse(&o, err, "-m 1T") < 0 && strstr(err, "-m"));
    CHECK(parse(&o, err, "-m") < 0 && strstr(err, "needs a value"));
    CHECK(parse(&o, err, "-serial pty") < 0);
    CHECK(parse(&o, err, "-frobnicate") < 0 && strstr(err, "unknown option"));
    CHECK(parse(&o, err, "-append x") < 0);
    CHECK(parse(&o, err, "-kernel k -initrd a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q") < 0);
    return check_report();
}
