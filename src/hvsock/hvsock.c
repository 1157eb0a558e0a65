/* HvSocket host API: VM ids, the rendezvous directory, listen/accept/connect over Unix socket
 * files (the convention and its owner rules are described in include/openwhp/hvsocket.h; the
 * rules themselves are in owner.c). No state of its own: the owner's directory is the registry. */
#include "hvsock/hvsock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* How often a connect to a full listen backlog is retried (see connect_until). */
#define CONNECT_RETRY_MS 10

void hvsock_new_vm_id(GUID *id)
{
    uint8_t b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* No entropy source: still unique within the host (time and address differ). */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uintptr_t)id;
        for (int i = 0; i < 16; i++, x = x * 6364136223846793005ull + 1442695040888963407ull)
            b[i] = (uint8_t)(x >> 56);
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    id->Data1 = (UINT32)b[0] << 24 | (UINT32)b[1] << 16 | (UINT32)b[2] << 8 | b[3];
    id->Data2 = (UINT16)(b[4] << 8 | b[5]);
    id->Data3 = (UINT16)(b[6] << 8 | b[7]);
    memcpy(id->Data4, b + 8, 8);
}

HRESULT WINAPI OpenWhpGetPartitionVmId(WHV_PARTITION_HANDLE Partition, GUID *VmId)
{
    if (!VmId)
        return E_POINTER;
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    *VmId = p->vm_id;
    part_put(p);
    return S_OK;
}

static HRESULT hr_wsa(long code) { return HRESULT_FROM_WIN32(code); }

/* The HRESULT of a failed owner-rule operation (hvsock_bind_file, hvsock_dir_open). */
static HRESULT hr_owner(int neg_errno)
{
    switch (-neg_errno) {
    case EADDRINUSE: return hr_wsa(WSAEADDRINUSE);
    case EACCES: case EPERM: return E_ACCESSDENIED;
    case ENAMETOOLONG: return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    default: return hr_from_errno(neg_errno);
    }
}

/* The rendezvous directory (created 0700 when missing, refused with -EACCES unless the owner
 * rules hold); 0 or -errno. */
static int hvsock_dir(char *buf, size_t size)
{
    const char *env = getenv("OPENWHP_HVSOCKET_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (env && *env)
        n = snprintf(buf, size, "%s", env);
    else if (xdg && *xdg)
        n = snprintf(buf, size, "%s/openwhp-hvsocket", xdg);
    else
        n = snprintf(buf, size, "/tmp/openwhp-hvsocket-%u", (unsigned)geteuid());
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    int fd = hvsock_dir_open(buf, true);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

/* The VM's socket (port OPENWHP_HVSOCKET_VM_PORT) or a listener's; the length or -errno. */
static int hvsock_path(const GUID *vm, uint32_t port, char *buf, size_t size)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], id[37];
    int r = hvsock_dir(dir, sizeof(dir)), n;
    if (r < 0)
        return r;
    OpenWhpGuidFormat(vm, id);
    if (port == OPENWHP_HVSOCKET_VM_PORT)
        n = snprintf(buf, size, "%s/%s", dir, id);
    else
        n = snprintf(buf, size, "%s/%s_%u", dir, id, (unsigned)port);
    return n < 0 ? -EINVAL : n;
}

HRESULT WINAPI OpenWhpHvSocketGetPath(const GUID *VmId, UINT32 Port, char *Path, UINT32 PathSize,
                                      UINT32 *Written)
{
    char buf[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (!VmId)
        return E_POINTER;
    int n = hvsock_path(VmId, Port, buf, sizeof(buf));
    if (n < 0)
        return hr_owner(n);
    if (n >= (int)sizeof(buf))
        return HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE);
    HRESULT hr = hr_output(Path, PathSize, Written, (UINT32)n + 1);
    if (SUCCEEDED(hr))
        memcpy(Path, buf, (size_t)n + 1);
    return hr;
}

/* Address checks shared by listen and connect: the family, the reserved field, a vsock port. */
static HRESULT hvsock_check(const SOCKADDR_HV *a, uint32_t *port)
{
    if (a->Family != AF_HYPERV || a->Reserved)
        return E_INVALIDARG;
    if (!OpenWhpServiceIdToVsockPort(&a->ServiceId, port) || *port == OPENWHP_HVSOCKET_VM_PORT)
        return hr_wsa(WSAEAFNOSUPPORT);
    return S_OK;
}

/* The Unix address of the socket file path; its length, or -ENAMETOOLONG. */
static int unix_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    size_t n = strlen(path);
    if (n >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    memcpy(sa->sun_path, path, n);
    return (int)(offsetof(struct sockaddr_un, sun_path) + n);
}

HRESULT WINAPI OpenWhpHvSocketBindPath(int Fd, const char *Path)
{
    if (!Path)
        return E_POINTER;
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);
    if (Fd < 0 || getsockname(Fd, (struct sockaddr *)&sa, &len) < 0 || sa.sun_family != AF_UNIX)
        return E_HANDLE;
    int r = hvsock_bind_file(Fd, Path);
    return r < 0 ? hr_owner(r) : S_OK;
}

HRESULT WINAPI OpenWhpHvSocketCheckPeer(int Fd)
{
    return hvsock_peer_trusted(Fd) ? S_OK : E_ACCESSDENIED;
}

HRESULT WINAPI OpenWhpHvSocketListen(const SOCKADDR_HV *Address, int Backlog, int *ListenFd)
{
    if (!Address || !ListenFd)
        return E_POINTER;
    *ListenFd = -1;
    uint32_t port;
    HRESULT hr = hvsock_check(Address, &port);
    if (FAILED(hr))
        return hr;
    GUID vm = Address->VmId;
    if (OpenWhpGuidEqual(&vm, &HV_GUID_CHILDREN))
        vm = HV_GUID_WILDCARD; /* the host's children are all its VMs */
    else if (OpenWhpGuidEqual(&vm, &HV_GUID_LOOPBACK) || OpenWhpGuidEqual(&vm, &HV_GUID_PARENT) ||
             OpenWhpGuidEqual(&vm, &HV_GUID_BROADCAST) || OpenWhpGuidEqual(&vm, &HV_GUID_SILOHOST))
        return E_INVALIDARG; /* only guests connect to the host here */
    if (Backlog <= 0)
        Backlog = SOMAXCONN;

    char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    int n = hvsock_path(&vm, port, path, sizeof(path));
    if (n < 0)
        return hr_owner(n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hr_from_errno(-errno);
    int r = hvsock_bind_file(fd, path);
    if (r == 0 && listen(fd, Backlog) < 0) {
        r = -errno;
        hvsock_unlink_own(path);
    }
    if (r < 0) {
        close(fd);
        return hr_owner(r);
    }
    *ListenFd = fd;
    return S_OK;
}

/* The file path of a Unix address, NUL-terminated into buf; NULL for an unnamed or abstract one. */
static const char *addr_path(const struct sockaddr_un *sa, socklen_t len, char *buf, size_t size)
{
    size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
    if (n < 2 || sa->sun_path[0] != '/' || n >= size)
        return NULL;
    memcpy(buf, sa->sun_path, n);
    buf[n] = '\0';
    return buf;
}

HRESULT WINAPI OpenWhpHvSocketCloseListener(int ListenFd)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);
    if (ListenFd < 0 || getsockname(ListenFd, (struct sockaddr *)&sa, &len) < 0 ||
        sa.sun_family != AF_UNIX)
        return E_HANDLE;
    /* An accepted connection reports its listener's name: only a listener removes its file. */
    int listening = 0;
    socklen_t optlen = sizeof(listening);
    char path[sizeof(sa.sun_path) + 1];
    if (getsockopt(ListenFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) == 0 && listening &&
        addr_path(&sa, len, path, sizeof(path)))
        hvsock_unlink_own(path); /* the name goes before the socket: never a stale file */
    close(ListenFd);
    return S_OK;
}

/* Parses "<vmid>.<guest port>.<host port>" (the name a device binds its end to). */
static bool parse_peer_name(const char *name, GUID *vm, uint32_t *port)
{
    char id[37], *end;
    if (strlen(name) < 38 || name[36] != '.')
        return false;
    memcpy(id, name, 36);
    id[36] = '\0';
    if (!OpenWhpGuidParse(id, vm) || name[37] < '0' || name[37] > '9')
        return false;
    unsigned long p = strtoul(name + 37, &end, 10);
    if (*end != '.' || p > UINT32_MAX)
        return false;
    *port = (uint32_t)p;
    return true;
}

/* The peer a trusted device names (see OpenWhpHvSocketAccept): its socket file must sit in the
 * listener's directory, where only the owner can create files. Zeros otherwise. */
static void peer_from_name(int listen_fd, const struct sockaddr_un *sa, socklen_t len, SOCKADDR_HV *peer)
{
    char mine[sizeof(sa->sun_path) + 1], theirs[sizeof(sa->sun_path) + 1];
    struct sockaddr_un me;
    socklen_t melen = sizeof(me);
    memset(peer, 0, sizeof(*peer));
    peer->Family = AF_HYPERV;
    const char *p = addr_path(sa, len, theirs, sizeof(theirs)), *l = NULL;
    if (p && getsockname(listen_fd, (struct sockaddr *)&me, &melen) == 0)
        l = addr_path(&me, melen, mine, sizeof(mine));
    const char *pslash = p ? strrchr(p, '/') : NULL, *lslash = l ? strrchr(l, '/') : NULL;
    if (!pslash || !lslash || pslash - p != lslash - l || memcmp(p, l, (size_t)(pslash - p)) != 0)
        return;
    GUID vm;
    uint32_t port;
    if (!parse_peer_name(pslash + 1, &vm, &port))
        return;
    peer->VmId = vm;
    OpenWhpVsockPortToServiceId(port, &peer->ServiceId);
}

HRESULT WINAPI OpenWhpHvSocketAccept(int ListenFd, SOCKADDR_HV *Peer, int *Fd)
{
    if (!Fd)
        return E_POINTER;
    *Fd = -1;
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);
    int fd;
    for (;;) {
        len = sizeof(sa);
        fd = accept4(ListenFd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
        if (fd < 0 && errno == EINTR)
            continue;
        if (fd < 0 || hvsock_peer_trusted(fd))
            break;
        close(fd); /* another user: refused (it could only reach us through a lax directory) */
    }
    if (fd < 0) {
        if (errno == EAGAIN)
            return hr_wsa(WSAEWOULDBLOCK);
        return errno == EBADF || errno == ENOTSOCK ? E_HANDLE : hr_wsa(WSAEINVAL);
    }
    if (Peer)
        peer_from_name(ListenFd, &sa, len, Peer);
    *Fd = fd;
    return S_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
}

/* Reads the device's answer "OK <port>\n" one byte at a time (nothing after the line may be
 * consumed: it is the guest's data). */
static HRESULT read_ok_line(int fd, int64_t deadline)
{
    char line[32];
    size_t n = 0;
    for (;;) {
        int r = wait_fd(fd, POLLIN, deadline);
        if (r == 0)
            return hr_wsa(WSAETIMEDOUT);
        if (r < 0)
            return hr_from_errno(r);
        ssize_t got = read(fd, line + n, 1);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return hr_wsa(WSAECONNREFUSED); /* the device closed: the guest refused */
        if (line[n] == '\n')
            break;
        if (++n == sizeof(line) - 1)
            return hr_wsa(WSAECONNREFUSED);
    }
    line[n] = '\0';
    return strncmp(line, "OK ", 3) == 0 ? S_OK : hr_wsa(WSAECONNREFUSED);
}

/* Connects the non-blocking fd to a Unix socket until deadline, then makes it blocking (what
 * callers get is an ordinary socket). A full listen backlog makes a Unix connect fail with EAGAIN
 * (never EINPROGRESS) and nothing can be polled for room in it, so the connect is retried every
 * CONNECT_RETRY_MS. 1 connected, 0 timed out, -errno: ENOENT is no such VM, ECONNREFUSED a socket
 * file whose device is gone. */
static int connect_until(int fd, const struct sockaddr_un *sa, int salen, int64_t deadline)
{
    while (connect(fd, (const struct sockaddr *)sa, (socklen_t)salen) < 0) {
        if (errno != EAGAIN)
            return -errno;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        poll(NULL, 0, left < CONNECT_RETRY_MS ? (int)left : CONNECT_RETRY_MS);
    }
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ? -errno : 1;
}

HRESULT WINAPI OpenWhpHvSocketConnect(const SOCKADDR_HV *Address, UINT32 TimeoutMs, int *Fd)
{
    if (!Address || !Fd)
        return E_POINTER;
    *Fd = -1;
    uint32_t port;
    HRESULT hr = hvsock_check(Address, &port);
    if (FAILED(hr))
        return hr;
    if (TimeoutMs > HVSOCKET_CONNECT_TIMEOUT_MAX)
        return E_INVALIDARG;
    int64_t deadline = now_ms() + (TimeoutMs ? TimeoutMs : OPENWHP_HVSOCKET_DEFAULT_CONNECT_TIMEOUT);

    char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    int n = hvsock_path(&Address->VmId, OPENWHP_HVSOCKET_VM_PORT, path, sizeof(path));
    if (n < 0)
        return hr_owner(n);
    struct sockaddr_un sa;
    int salen = unix_addr(&sa, path);
    if (salen < 0)
        return hr_wsa(WSAEHOSTUNREACH);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return hr_from_errno(-errno);
    int r = connect_until(fd, &sa, salen, deadline);
    if (r <= 0) {
        close(fd);
        return r == 0 ? hr_wsa(WSAETIMEDOUT) : hr_wsa(WSAEHOSTUNREACH);
    }
    if (!hvsock_peer_trusted(fd)) {
        close(fd); /* the device is not ours: it must not see our data */
        return E_ACCESSDENIED;
    }
    char req[32];
    int len = snprintf(req, sizeof(req), "CONNECT %u\n", (unsigned)port);
    if (send(fd, req, (size_t)len, MSG_NOSIGNAL) != len) {
        close(fd);
        return hr_wsa(WSAEHOSTUNREACH);
    }
    hr = read_ok_line(fd, deadline);
    if (FAILED(hr)) {
        close(fd);
        return hr;
    }
    *Fd = fd;
    return S_OK;
}
