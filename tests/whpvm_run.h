/* Running the built whpvm binary from a test, as a user would: the spawn helper and the check
 * macro the whpvm tests share. */
#ifndef OPENWHP_TEST_WHPVM_RUN_H
#define OPENWHP_TEST_WHPVM_RUN_H

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Counts checks; the test prints "N passed, M failed" at the end. */
static int passed, failed;
#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (cond) {                                                                               \
            passed++;                                                                             \
        } else {                                                                                  \
            failed++;                                                                             \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                \
            printf(__VA_ARGS__);                                                                  \
            printf("\n");                                                                         \
        }                                                                                         \
    } while (0)

/* The whpvm binary; tests set it from argv[0]. */
static char whpvm[PATH_MAX];

/* Runs whpvm with args; captures stdout and stderr (truncated); returns the wait status. */
static int run(char *out, size_t outlen, char *errbuf, size_t errlen, const char *const *args)
{
    char tmpo[] = "/tmp/whpvm-outXXXXXX", tmpe[] = "/tmp/whpvm-errXXXXXX";
    int fo = mkstemp(tmpo), fe = mkstemp(tmpe);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fo, 1);
    posix_spawn_file_actions_adddup2(&fa, fe, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *argv[16] = {whpvm};
    int n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    pid_t pid;
    int status = -1;
    if (posix_spawn(&pid, whpvm, &fa, NULL, argv, environ) == 0)
        waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&fa);
    ssize_t k = pread(fo, out, outlen - 1, 0);
    out[k > 0 ? k : 0] = 0;
    k = pread(fe, errbuf, errlen - 1, 0);
    errbuf[k > 0 ? k : 0] = 0;
    close(fo);
    close(fe);
    unlink(tmpo);
    unlink(tmpe);
    return status;
}

#endif
