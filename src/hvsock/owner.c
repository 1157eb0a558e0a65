/* HvSocket owner rules: every rendezvous is a socket file in a directory that only its owner can
 * write, names are taken under a lock on that directory, and "in use" is asked of the kernel
 * (sock_diag) instead of probed with a connection, which would land in a live accept queue. */
#include "hvsock/hvsock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#define DIAG_BUF_SIZE 32768
#define DIAG_ALL_STATES 0xFFFFFFFFu
/* The kernel's internal dev_t, as sock_diag reports it (include/linux/kdev_t.h). */
#define KDEV_MINOR_BITS 20
#define KDEV_MINOR_MASK ((1u << KDEV_MINOR_BITS) - 1)
#define SOCKET_FILE_MODE 0600
#define UNTRUSTED_MODE_BITS (S_IWGRP | S_IWOTH)

int hvsock_dir_open(const char *dir, bool create)
{
    if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ELOOP || errno == ENOTDIR ? -EACCES : -errno; /* a symlink or a file */
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & UNTRUSTED_MODE_BITS)) {
        close(fd);
        return -EACCES;
    }
    return fd;
}

bool hvsock_peer_trusted(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
        return false;
    return cred.uid == geteuid() || cred.uid == 0;
}

/* Whether the attributes of one unix_diag_msg name the socket file (dev, ino). */
static bool diag_names(const struct nlmsghdr *h, dev_t dev, ino_t ino)
{
    const struct unix_diag_msg *m = NLMSG_DATA(h);
    int left = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
    for (const struct nlattr *a = (const void *)(m + 1); left >= (int)sizeof(*a) &&
         a->nla_len >= sizeof(*a) && a->nla_len <= left;
         left -= NLA_ALIGN(a->nla_len), a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
        if (a->nla_type != UNIX_DIAG_VFS || a->nla_len < NLA_HDRLEN + sizeof(struct unix_diag_vfs))
            continue;
        struct unix_diag_vfs v;
        memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
        dev_t vdev = makedev(v.udiag_vfs_dev >> KDEV_MINOR_BITS, v.udiag_vfs_dev & KDEV_MINOR_MASK);
        if (v.udiag_vfs_ino == (uint32_t)ino && vdev == dev)
            return true;
    }
    return false;
}

/* Reads the dump on nl: 1 when a socket is bound to (dev, ino), 0 when none is, -errno. */
static int diag_scan(int nl, char *buf, dev_t dev, ino_t ino)
{
    int found = 0;
    for (;;) {
        ssize_t n = recv(nl, buf, DIAG_BUF_SIZE, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return found;
            if (h->nlmsg_type == NLMSG_ERROR)
                return -EOPNOTSUPP;
            if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && diag_names(h, dev, ino))
                found = 1;
        }
    }
}

/* Whether a live socket of this network namespace is bound to the file (dev, ino): 1, 0, or
 * -errno when the kernel cannot tell (no unix_diag). */
static int bound_live(dev_t dev, ino_t ino)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -errno;
    struct {
        struct nlmsghdr h;
        struct unix_diag_req r;
    } req = {
        .h = {.nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
              .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
        .r = {.sdiag_family = AF_UNIX, .udiag_states = DIAG_ALL_STATES, .udiag_show = UDIAG_SHOW_VFS},
    };
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    char *buf = malloc(DIAG_BUF_SIZE); /* a dump message is at most this big */
    int r = -ENOMEM;
    if (buf)
        r = sendto(nl, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0
                ? -errno : diag_scan(nl, buf, dev, ino);
    free(buf);
    close(nl);
    return r;
}

/* With the directory locked: frees the name `base` unless something must keep it. A missing
 * name is free; a stale socket file of ours is removed; anything else (a live socket, another
 * user's file, a file that is not a socket, no way to tell) is -EADDRINUSE. */
static int reclaim(int dirfd, const char *base)
{
    struct stat st;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid() || bound_live(st.st_dev, st.st_ino) != 0)
        return -EADDRINUSE;
    return unlinkat(dirfd, base, 0) < 0 && errno != ENOENT ? -errno : 0;
}

/* Splits path into its directory (into dir) and its last component; NULL if it has none. */
static const char *split_path(const char *path, char *dir, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1] || (size_t)(slash - path) >= size)
        return NULL;
    if (slash == path)
        snprintf(dir, size, "/");
    else
        snprintf(dir, size, "%.*s", (int)(slash - path), path);
    return slash + 1;
}

/* Opens and locks the directory of path (owner rules checked); the fd or -errno. */
static int lock_dir(const char *path, const char **base)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    if (!(*base = split_path(path, dir, sizeof(dir))))
        return -EINVAL;
    int dirfd = hvsock_dir_open(dir, false);
    if (dirfd >= 0 && flock(dirfd, LOCK_EX) < 0) {
        int e = errno;
        close(dirfd);
        return -e;
    }
    return dirfd;
}

int hvsock_bind_file(int fd, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, n);
    const char *base;
    int dirfd = lock_dir(path, &base);
    if (dirfd < 0)
        return dirfd;
    int r = reclaim(dirfd, base);
    if (r == 0 && bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
        r = -errno;
    if (r == 0 && fchmodat(dirfd, base, SOCKET_FILE_MODE, 0) < 0) {
        r = -errno;
        unlinkat(dirfd, base, 0);
    }
    close(dirfd); /* drops the lock */
    return r;
}

int hvsock_unlink_own(const char *path)
{
    const char *base;
    int dirfd = lock_dir(path, &base);
    if (dirfd < 0)
        return dirfd;
    struct stat st;
    int r = 0;
    if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid())
        r = unlinkat(dirfd, base, 0) < 0 ? -errno : 0;
    close(dirfd);
    return r;
}
