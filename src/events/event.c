/* Event HANDLEs over eventfd. A handle is the fd plus one (so NULL is never valid); a table
 * indexed by fd says which fds are our events and whether they reset manually. "Signaled"
 * means the eventfd counter is non-zero, whoever wrote it (KVM or SetEvent). */
#include "api.h"
#include "events/event_internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct evt_slot {
    bool live;
    bool manual;
};

/* evt_lock protects evt_slots and evt_count; the fds themselves need no lock. */
static pthread_mutex_t evt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct evt_slot *evt_slots;
static int evt_count;

static int lookup(HANDLE h, bool *manual)
{
    intptr_t fd = (intptr_t)h - 1;
    int r = -1;
    pthread_mutex_lock(&evt_lock);
    if (h && fd >= 0 && fd < evt_count && evt_slots[fd].live) {
        r = (int)fd;
        if (manual)
            *manual = evt_slots[fd].manual;
    }
    pthread_mutex_unlock(&evt_lock);
    if (r < 0)
        errno = EBADF;
    return r;
}

int evt_fd(HANDLE h)
{
    return lookup(h, NULL);
}

int OpenWhpEventFd(HANDLE Event)
{
    return lookup(Event, NULL);
}

HANDLE OpenWhpCreateEvent(BOOL ManualReset, BOOL InitialState)
{
    int fd = eventfd(InitialState ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return NULL;
    pthread_mutex_lock(&evt_lock);
    if (fd >= evt_count) {
        int n = fd + 64;
        struct evt_slot *s = realloc(evt_slots, (size_t)n * sizeof(*s));
        if (!s) {
            pthread_mutex_unlock(&evt_lock);
            close(fd);
            errno = ENOMEM;
            return NULL;
        }
        for (int i = evt_count; i < n; i++)
            s[i] = (struct evt_slot){false, false};
        evt_slots = s;
        evt_count = n;
    }
    evt_slots[fd] = (struct evt_slot){true, ManualReset != 0};
    pthread_mutex_unlock(&evt_lock);
    return (HANDLE)(intptr_t)(fd + 1);
}

BOOL OpenWhpSetEvent(HANDLE Event)
{
    int fd = lookup(Event, NULL);
    uint64_t one = 1;
    /* EAGAIN means the counter is at its maximum: the event is signaled anyway. */
    return fd >= 0 && (write(fd, &one, sizeof(one)) == sizeof(one) || errno == EAGAIN);
}

BOOL OpenWhpResetEvent(HANDLE Event)
{
    int fd = lookup(Event, NULL);
    uint64_t v;
    if (fd < 0)
        return FALSE;
    return read(fd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN;
}

BOOL OpenWhpCloseEvent(HANDLE Event)
{
    int fd = lookup(Event, NULL);
    if (fd < 0)
        return FALSE;
    pthread_mutex_lock(&evt_lock);
    evt_slots[fd].live = false;
    pthread_mutex_unlock(&evt_lock);
    return close(fd) == 0;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Takes a signal from an auto-reset event: false when another waiter was faster. */
static bool consume(int fd)
{
    uint64_t v;
    return read(fd, &v, sizeof(v)) == sizeof(v);
}

static bool signaled(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

DWORD OpenWhpWaitForEvents(DWORD Count, const HANDLE *Events, BOOL WaitAll, DWORD TimeoutMs)
{
    if (!Events || Count == 0 || Count > OPENWHP_MAXIMUM_WAIT_OBJECTS) {
        errno = EINVAL;
        return WAIT_FAILED;
    }
    struct pollfd p[OPENWHP_MAXIMUM_WAIT_OBJECTS];
    bool manual[OPENWHP_MAXIMUM_WAIT_OBJECTS];
    for (DWORD i = 0; i < Count; i++) {
        p[i].fd = lookup(Events[i], &manual[i]);
        p[i].events = POLLIN;
        if (p[i].fd < 0)
            return WAIT_FAILED;
        for (DWORD j = 0; j < i; j++)
            if (p[j].fd == p[i].fd) { /* as Win32: one handle twice is an error */
                errno = EINVAL;
                return WAIT_FAILED;
            }
    }
    int64_t deadline = TimeoutMs == INFINITE ? -1 : now_ms() + TimeoutMs;
    for (;;) {
        /* Wait-any polls every event; wait-all polls only those not signaled yet. */
        struct pollfd q[OPENWHP_MAXIMUM_WAIT_OBJECTS];
        DWORD n = 0;
        for (DWORD i = 0; i < Count; i++)
            if (!WaitAll || !signaled(p[i].fd))
                q[n++] = p[i];
        if (WaitAll && n == 0) {
            /* All signaled: consume the auto-reset ones; if one was taken meanwhile, give the
             * others back and wait again. */
            DWORD got = 0;
            while (got < Count && (manual[got] || consume(p[got].fd)))
                got++;
            if (got == Count)
                return WAIT_OBJECT_0;
            for (DWORD i = 0; i < got; i++) {
                uint64_t one = 1;
                if (!manual[i] && write(p[i].fd, &one, sizeof(one)) < 0)
                    return WAIT_FAILED;
            }
            if (deadline >= 0 && now_ms() >= deadline)
                return WAIT_TIMEOUT;
            continue;
        }
        int64_t left = deadline < 0 ? -1 : deadline - now_ms();
        int r = poll(q, n, left < 0 ? (deadline < 0 ? -1 : 0) : (int)left);
        if (r < 0 && errno != EINTR)
            return WAIT_FAILED;
        for (DWORD i = 0; !WaitAll && r > 0 && i < Count; i++)
            if ((q[i].revents & POLLIN) && (manual[i] || consume(q[i].fd)))
                return WAIT_OBJECT_0 + i;
        if (r == 0 && deadline >= 0 && now_ms() >= deadline)
            return WAIT_TIMEOUT;
    }
}

DWORD OpenWhpWaitForEvent(HANDLE Event, DWORD TimeoutMs)
{
    return OpenWhpWaitForEvents(1, &Event, FALSE, TimeoutMs);
}
