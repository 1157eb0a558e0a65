/* OpenWhpHvSocketConnect's deadline without KVM: a VM socket whose listen backlog is full (a
 * device that stopped accepting) must give WSAETIMEDOUT when the timeout expires, not block in
 * connect(2). A watchdog tells "returned late" from "never returned" without timing the call. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openwhp/hvsocket.h>

#include "check.h"

#define CONNECT_TIMEOUT_MS 200
#define WATCHDOG_SECONDS 10 /* far beyond the timeout: only a call that never returns reaches it */
#define BACKLOG 1
#define FILL_MAX 64 /* connections queued before the backlog refuses (Linux: BACKLOG + 1) */

static const GUID vm_id = {0x0badc0de, 0x1234, 0x4234, {0x82, 0x34, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}};

struct connect_call {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    HRESULT hr;
    int fd;
};

static void *connect_thread(void *opaque)
{
    struct connect_call *call = opaque;
    SOCKADDR_HV a;
    memset(&a, 0, sizeof(a));
    a.Family = AF_HYPERV;
    a.VmId = vm_id;
    OpenWhpVsockPortToServiceId(5000, &a.ServiceId);
    int fd;
    HRESULT hr = OpenWhpHvSocketConnect(&a, CONNECT_TIMEOUT_MS, &fd);
    pthread_mutex_lock(&call->lock);
    call->hr = hr;
    call->fd = fd;
    call->done = true;
    pthread_cond_signal(&call->cond);
    pthread_mutex_unlock(&call->lock);
    return NULL;
}

/* Whether the call finished before the watchdog. */
static bool wait_call(struct connect_call *call)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WATCHDOG_SECONDS;
    pthread_mutex_lock(&call->lock);
    int r = 0;
    while (!call->done && r == 0)
        r = pthread_cond_timedwait(&call->cond, &call->lock, &until);
    bool done = call->done;
    pthread_mutex_unlock(&call->lock);
    return done;
}

/* Non-blocking connections until the listener's backlog refuses one; how many were queued. */
static unsigned fill_backlog(const struct sockaddr_un *sa, int *fds)
{
    unsigned n = 0;
    while (n < FILL_MAX) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
            CHECK_EQ(errno, EAGAIN);
            close(fd);
            break;
        }
        fds[n++] = fd;
    }
    return n;
}

static void test_connect_times_out_on_full_backlog(void)
{
    char dir[] = "/tmp/openwhp-connect-XXXXXX", id[37];
    CHECK(mkdtemp(dir) != NULL);
    setenv("OPENWHP_HVSOCKET_DIR", dir, 1);
    OpenWhpGuidFormat(&vm_id, id);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, id);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, BACKLOG) == 0);
    int fds[FILL_MAX];
    unsigned queued = fill_backlog(&sa, fds);
    CHECK(queued > 0 && queued < FILL_MAX);

    struct connect_call call = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, S_OK, -1};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, connect_thread, &call) == 0);
    bool returned = wait_call(&call);
    CHECK(returned);
    if (!returned)
        close(lfd); /* the old blocking connect: closing the listener is what ends it */
    pthread_join(t, NULL);
    if (returned)
        CHECK_EQ(call.hr, HRESULT_FROM_WIN32(WSAETIMEDOUT));
    CHECK_EQ(call.fd, -1);
    for (unsigned i = 0; i < queued; i++)
        close(fds[i]);
    if (returned)
        close(lfd);
    unlink(sa.sun_path);
    rmdir(dir);
    unsetenv("OPENWHP_HVSOCKET_DIR");
}

int main(void)
{
    test_connect_times_out_on_full_backlog();
    return check_report();
}
