/* HvSocket (hvsock/): the host socket API over the rendezvous directory, and the owner rules
 * that guard it (owner.c). */
#ifndef OPENWHP_HVSOCK_H
#define OPENWHP_HVSOCK_H

#include <stdbool.h>

#include "obj/obj.h"

/* A random (version 4) GUID: each partition's VM id. */
void hvsock_new_vm_id(GUID *id);

/* Opens directory dir (creating it with mode 0700 first when `create`) without following a
 * symlink, and checks that the caller's effective uid owns it and that neither group nor others
 * may write it. The fd, or -EACCES when it is not such a directory, or -errno. */
int hvsock_dir_open(const char *dir, bool create);
/* Binds socket fd to the file path in a directory hvsock_dir_open accepts, with that directory
 * locked (flock) so that deciding whether the name is free and taking it are one step. A stale
 * socket file of the caller is replaced; a live socket's name (asked of sock_diag), a file that
 * is not a socket or is another user's gives -EADDRINUSE and is left alone. 0 or -errno. */
int hvsock_bind_file(int fd, const char *path);
/* Removes path if it is a socket file of the caller (in a directory hvsock_dir_open accepts).
 * 0 or -errno. */
int hvsock_unlink_own(const char *path);
/* Whether the peer of connected Unix socket fd runs as the caller's effective uid or as root
 * (SO_PEERCRED). */
bool hvsock_peer_trusted(int fd);

#endif
