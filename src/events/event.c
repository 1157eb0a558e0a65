/* Event HANDLEs over eventfd. "Signaled" means the eventfd counter is non-zero, whoever wrote it
 * (SetEvent, or KVM through an ioeventfd); an auto-reset wait reads the counter to zero, a
 * manual-reset wait only polls. A table indexed by fd knows which fds are our events. */
#include "api.h"
#include "events/event_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* A HANDLE is (generation << 32) | (fd + 1): never NULL, and a closed handle stays invalid
 * after its fd number is reused by a new event, whose slot has the next generation. */
_Static_assert(sizeof(HANDLE) == 8, "event handles need 64-bit pointers");
#define GEN_SHIFT 32
#define GEN_MASK 0x7fffffffu

enum slot_state { SLOT_FREE, SLOT_LIVE, SLOT_CLOSING };

struct slot {
    enum slot_state state;
    bool manual;
    uint32_t gen;  /* generation of the handle that is (or was last) live in this slot */
    uint32_t refs; /* waits in progress on this fd */
};

/* lock protects slots[] and nslots, and is held around every read() and write() this file does
 * on an event's eventfd, so a wait-all can check and consume its events without one of our
 * resets or waits in between (KVM adds to counters without it; irqfd consumes without it).
 * A wait holds a reference (refs) on each of its fds and polls without the lock; closing a
 * handle under a wait makes the handle invalid at once and closes the fd when the wait ends. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static int nslots;

/* The slot of a live handle, or NULL (errno EBADF). Called with the lock held. */
static struct slot *find(HANDLE h, int *fd)
{
    uintptr_t v = (uintptr_t)h;
    uint64_t low = v & 0xffffffffu, gen = v >> GEN_SHIFT;
    if (low == 0 || low > (uint64_t)nslots || gen == 0 || gen > GEN_MASK) {
        errno = EBADF;
        return NULL;
    }
    struct slot *s = &slots[low - 1];
    if (s->state != SLOT_LIVE || s->gen != gen) {
        errno = EBADF;
        return NULL;
    }
    *fd = (int)(low - 1);
    return s;
}

/* Drops a wait's reference; the last one closes the fd of a handle closed meanwhile. */
static void put_locked(int fd)
{
    struct slot *s = &slots[fd];
    if (--s->refs == 0 && s->state == SLOT_CLOSING) {
        close(fd);
        s->state = SLOT_FREE;
    }
}

int evt_fd(HANDLE h)
{
    int fd = -1;
    pthread_mutex_lock(&lock);
    find(h, &fd);
    pthread_mutex_unlock(&lock);
    return fd;
}

int OpenWhpEventFd(HANDLE Event)
{
    return evt_fd(Event);
}

static int grow_locked(int fd)
{
    if (fd < nslots)
        return 0;
    int n = nslots ? nslots : 64;
    while (n <= fd)
        n *= 2;
    struct slot *s = realloc(slots, (size_t)n * sizeof(*s));
    if (!s)
        return -ENOMEM;
    for (int i = nslots; i < n; i++)
        s[i] = (struct slot){SLOT_FREE, false, 0, 0};
    slots = s;
    nslots = n;
    return 0;
}

HANDLE OpenWhpCreateEvent(BOOL ManualReset, BOOL InitialState)
{
    int fd = eventfd(InitialState ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return NULL;
    pthread_mutex_lock(&lock);
    int r = grow_locked(fd);
    if (r < 0) {
        pthread_mutex_unlock(&lock);
        close(fd);
        errno = -r;
        return NULL;
    }
    /* A slot that is not free had its fd closed behind our back (close(OpenWhpEventFd(h))):
     * the new generation makes that old handle invalid. */
    struct slot *s = &slots[fd];
    s->gen = (s->gen & GEN_MASK) == GEN_MASK ? 1 : s->gen + 1;
    s->state = SLOT_LIVE;
    s->manual = ManualReset != 0;
    uintptr_t h = ((uintptr_t)s->gen << GEN_SHIFT) | (uintptr_t)(fd + 1);
    pthread_mutex_unlock(&lock);
    return (HANDLE)h;
}

BOOL OpenWhpSetEvent(HANDLE Event)
{
    uint64_t one = 1;
    int fd;
    pthread_mutex_lock(&lock);
    bool ok = find(Event, &fd) != NULL;
    /* EAGAIN: the counter is at its maximum, so the event is signaled anyway. */
    if (ok)
        ok = write(fd, &one, sizeof(one)) == sizeof(one) || errno == EAGAIN;
    pthread_mutex_unlock(&lock);
    return ok;
}

BOOL OpenWhpResetEvent(HANDLE Event)
{
    uint64_t v;
    int fd;
    pthread_mutex_lock(&lock);
    bool ok = find(Event, &fd) != NULL;
    /* EAGAIN: the counter was already zero. */
    if (ok)
        ok = read(fd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN;
    pthread_mutex_unlock(&lock);
    return ok;
}

BOOL OpenWhpCloseEvent(HANDLE Event)
{
    int fd;
    pthread_mutex_lock(&lock);
    struct slot *s = find(Event, &fd);
    if (s) {
        s->state = SLOT_CLOSING;
        if (s->refs == 0) {
            close(fd);
            s->state = SLOT_FREE;
        }
    }
    pthread_mutex_unlock(&lock);
    return s != NULL;
}

/* Takes the signal of an auto-reset event: false when the counter was zero (someone else, e.g.
 * KVM's irqfd or a raw read of the fd, took it first). Called with the lock held. */
static bool consume_locked(int fd)
{
    uint64_t v;
    return read(fd, &v, sizeof(v)) == sizeof(v);
}

static bool give_back_locked(int fd)
{
    uint64_t one = 1;
    return write(fd, &one, sizeof(one)) == sizeof(one) || errno == EAGAIN;
}

/* Wait-all, under the lock: consumes every auto-reset event if all are signaled. 1 when it did,
 * 0 when not all are signaled (q[] gets the ones that are not, *nq their number), -errno. */
static int try_all_locked(struct pollfd *p, const bool *manual, DWORD n, struct pollfd *q,
                          DWORD *nq)
{
    if (poll(p, n, 0) < 0)
        return -errno;
    *nq = 0;
    for (DWORD i = 0; i < n; i++)
        if (!(p[i].revents & POLLIN))
            q[(*nq)++] = p[i];
    if (*nq)
        return 0;
    for (DWORD i = 0; i < n; i++) {
        if (manual[i] || consume_locked(p[i].fd))
            continue;
        /* Taken from outside since the poll: undo, and wait for that one. */
        for (DWORD j = 0; j < i; j++)
            if (!manual[j] && !give_back_locked(p[j].fd))
                return -errno;
        q[0] = p[i];
        *nq = 1;
        return 0;
    }
    return 1;
}

/* Time left until the deadline for ppoll: NULL for no deadline, zero once it has passed. */
static struct timespec *time_left(const struct timespec *deadline, struct timespec *left)
{
    if (!deadline)
        return NULL;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000000000 +
                 (deadline->tv_nsec - now.tv_nsec);
    if (ns < 0)
        ns = 0;
    *left = (struct timespec){(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    return left;
}

static DWORD wait_refd(struct pollfd *p, const bool *manual, DWORD n, BOOL all, DWORD timeout)
{
    struct timespec deadline_ts, left, *deadline = NULL;
    if (timeout != INFINITE) {
        clock_gettime(CLOCK_MONOTONIC, &deadline_ts);
        deadline_ts.tv_sec += timeout / 1000;
        deadline_ts.tv_nsec += (long)(timeout % 1000) * 1000000;
        if (deadline_ts.tv_nsec >= 1000000000) {
            deadline_ts.tv_sec++;
            deadline_ts.tv_nsec -= 1000000000;
        }
        deadline = &deadline_ts;
    }
    struct pollfd q[OPENWHP_MAXIMUM_WAIT_OBJECTS];
    for (;;) {
        /* Wait-any polls every event; wait-all polls those not signaled at its last check. */
        struct pollfd *w = p;
        DWORD nw = n;
        if (all) {
            pthread_mutex_lock(&lock);
            int r = try_all_locked(p, manual, n, q, &nw);
            pthread_mutex_unlock(&lock);
            if (r < 0) {
                errno = -r;
                return WAIT_FAILED;
            }
            if (r == 1)
                return WAIT_OBJECT_0;
            w = q;
        }
        struct timespec *tmo = time_left(deadline, &left);
        bool last = tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0;
        int r = ppoll(w, nw, tmo, NULL);
        if (r < 0 && errno != EINTR)
            return WAIT_FAILED;
        for (DWORD i = 0; !all && r > 0 && i < n; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            if (manual[i])
                return WAIT_OBJECT_0 + i;
            pthread_mutex_lock(&lock);
            bool got = consume_locked(p[i].fd);
            pthread_mutex_unlock(&lock);
            if (got)
                return WAIT_OBJECT_0 + i;
        }
        /* After a zero-length poll, wait-all still checks once more what it saw signaled. */
        if (last && (!all || r <= 0))
            return WAIT_TIMEOUT;
    }
}

DWORD OpenWhpWaitForEvents(DWORD Count, const HANDLE *Events, BOOL WaitAll, DWORD TimeoutMs)
{
    if (!Events || Count == 0 || Count > OPENWHP_MAXIMUM_WAIT_OBJECTS) {
        errno = EINVAL;
        return WAIT_FAILED;
    }
    struct pollfd p[OPENWHP_MAXIMUM_WAIT_OBJECTS];
    bool manual[OPENWHP_MAXIMUM_WAIT_OBJECTS];
    DWORD n = 0;
    int err = 0;
    pthread_mutex_lock(&lock);
    for (; n < Count; n++) {
        struct slot *s = find(Events[n], &p[n].fd);
        if (!s) {
            err = EBADF;
            break;
        }
        /* As on Windows, wait-all refuses the same event twice (it could never be satisfied). */
        for (DWORD j = 0; WaitAll && j < n; j++)
            if (p[j].fd == p[n].fd)
                err = EINVAL;
        if (err)
            break;
        s->refs++;
        p[n].events = POLLIN;
        manual[n] = s->manual;
    }
    pthread_mutex_unlock(&lock);
    DWORD r = err ? WAIT_FAILED : wait_refd(p, manual, n, WaitAll, TimeoutMs);
    if (r == WAIT_FAILED && !err)
        err = errno; /* set by wait_refd; the close() in put_locked must not replace it */
    pthread_mutex_lock(&lock);
    for (DWORD i = 0; i < n; i++)
        put_locked(p[i].fd);
    pthread_mutex_unlock(&lock);
    if (r == WAIT_FAILED)
        errno = err;
    return r;
}

DWORD OpenWhpWaitForEvent(HANDLE Event, DWORD TimeoutMs)
{
    return OpenWhpWaitForEvents(1, &Event, FALSE, TimeoutMs);
}

int evt_dup(HANDLE h)
{
    int fd = evt_fd(h);
    return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
}
