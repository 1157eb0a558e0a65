/* whpvm-demo end to end: `whpvm-demo` (table) and `whpvm-demo --json` must exit 0 and report
 * every path as worked. Runs the built binary as a user would; SKIP (77) without /dev/kvm. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whpvm_run.h"

#define NPATHS 11 /* rows of the demo's report */

static unsigned count_of(const char *s, const char *needle)
{
    unsigned n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

int main(int argc, char **argv)
{
    (void)argc;
    char self[PATH_MAX];
    snprintf(self, sizeof(self), "%s", argv[0]);
    snprintf(whpvm, sizeof(whpvm), "%s/../../whpvm/whpvm-demo", dirname(self));
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("SKIP: /dev/kvm not available\n");
        return 77;
    }
    alarm(60);
    static char out[16384], err[16384];

    /* The table: a header line, then one line per path whose result column says ok. */
    int st = run(out, sizeof(out), err, sizeof(err), (const char *[]){NULL});
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "whpvm-demo: status 0x%x\nstdout:\n%s\nstderr:\n%s", st, out, err);
    const char *table = strstr(out, "  path ");
    CHECK(table != NULL, "no table header in:\n%s", out);
    unsigned rows = 0, ok_rows = 0;
    if (table) {
        const char *line = strchr(table, '\n');
        while (line && line[1] == ' ' && line[2] == ' ' && rows < NPATHS) {
            line++;
            const char *end = strchr(line, '\n');
            size_t len = end ? (size_t)(end - line) : strlen(line);
            char buf[256];
            snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) - 1 ? len : sizeof(buf) - 1), line);
            rows++;
            /* The result column starts at offset 31 (2 + 28 + 1). */
            bool ok = len > 34 && !strncmp(buf + 31, "ok ", 3) && !strstr(buf, "FAIL");
            ok_rows += ok;
            CHECK(ok, "path line not ok: '%s'", buf);
            line = end;
        }
    }
    CHECK(rows == NPATHS, "%u path lines, expected %d:\n%s", rows, NPATHS, out);
    CHECK(ok_rows == NPATHS, "%u of %u paths ok", ok_rows, rows);

    /* JSON: one document, NPATHS path objects, each "ok": true. */
    st = run(out, sizeof(out), err, sizeof(err), (const char *[]){"--json", NULL});
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "whpvm-demo --json: status 0x%x\nstdout:\n%s\nstderr:\n%s", st, out,
          err);
    CHECK(out[0] == '{' && strstr(out, "]}\n") != NULL, "not one JSON object:\n%s", out);
    CHECK(count_of(out, "{\"path\": ") == NPATHS, "%u path objects:\n%s", count_of(out, "{\"path\": "), out);
    CHECK(count_of(out, "\"ok\": true") == NPATHS + 1 && count_of(out, "\"ok\": false") == 0,
          "not every path ok:\n%s", out);

    /* The same demo on a 4-VP machine (VPs 2 and 3 stay in wait-for-SIPI). */
    st = run(out, sizeof(out), err, sizeof(err), (const char *[]){"-smp", "4", "--json", NULL});
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && count_of(out, "\"ok\": false") == 0,
          "whpvm-demo -smp 4: status 0x%x\nstdout:\n%s\nstderr:\n%s", st, out, err);

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
