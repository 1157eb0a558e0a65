/* HvSocket owner rules without KVM: lax, foreign and symlinked directories are refused with
 * E_ACCESSDENIED, files that are not the caller's sockets are never removed (listener and vsock
 * device), "in use" costs no phantom connection, and a second uid (nobody, when run as root)
 * can neither take a listener's name nor pass for a VM. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openwhp/event.h>
#include <openwhp/hvsocket.h>

#include "vsock.h"

#include "check.h"

#define NOBODY 65534
#define PORT 5000
#define GUEST_PORT 1234
#define STALE_TEXT "not a socket"

static const GUID vm_id = {0x12345678, 0x1234, 0x4234, {0x82, 0x34, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}};

static SOCKADDR_HV hv_addr(const GUID *vm, uint32_t port)
{
    SOCKADDR_HV a;
    memset(&a, 0, sizeof(a));
    a.Family = AF_HYPERV;
    a.VmId = *vm;
    OpenWhpVsockPortToServiceId(port, &a.ServiceId);
    return a;
}

/* A fresh directory (mode `mode`) that the library uses from now on. */
static void use_dir(char *dir, mode_t mode)
{
    strcpy(dir, "/tmp/openwhp-owner-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK(chmod(dir, mode) == 0);
    setenv("OPENWHP_HVSOCKET_DIR", dir, 1);
}

static void listener_path(const GUID *vm, uint32_t port, char *path, size_t size)
{
    snprintf(path, size, "%s/", getenv("OPENWHP_HVSOCKET_DIR"));
    char id[37];
    OpenWhpGuidFormat(vm, id);
    snprintf(path + strlen(path), size - strlen(path), "%s_%u", id, port);
}

static int unix_socket(void) { return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); }

/* Binds or connects fd to path (abstract: the same name with a leading NUL). 0 or -errno. */
static int unix_op(int fd, const char *path, int abstract, int do_connect)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    memcpy(sa.sun_path + abstract, path, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + n);
    int r = do_connect ? connect(fd, (struct sockaddr *)&sa, len) : bind(fd, (struct sockaddr *)&sa, len);
    return r < 0 ? -errno : 0;
}

static int file_has_text(const char *path)
{
    char buf[32] = "";
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    return n == (ssize_t)strlen(STALE_TEXT) && memcmp(buf, STALE_TEXT, (size_t)n) == 0;
}

static void write_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, STALE_TEXT, strlen(STALE_TEXT)) == (ssize_t)strlen(STALE_TEXT));
    close(fd);
}

static void remove_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void *no_memory(void *ctx, uint64_t gpa, uint64_t len)
{
    (void)ctx;
    (void)gpa;
    (void)len;
    return NULL;
}

static HRESULT listen_once(const GUID *vm)
{
    SOCKADDR_HV a = hv_addr(vm, PORT);
    int fd = -1;
    HRESULT hr = OpenWhpHvSocketListen(&a, 0, &fd);
    if (SUCCEEDED(hr))
        OpenWhpHvSocketCloseListener(fd);
    return hr;
}

/* ---- directories ---- */

static void test_lax_directories_refused(void)
{
    char dir[64], path[128];
    SOCKADDR_HV a = hv_addr(&vm_id, PORT);
    int fd;
    use_dir(dir, 0777); /* world-writable */
    CHECK_EQ(listen_once(&vm_id), E_ACCESSDENIED);
    CHECK_EQ(OpenWhpHvSocketGetPath(&vm_id, PORT, path, sizeof(path), NULL), E_ACCESSDENIED);
    CHECK_EQ(OpenWhpHvSocketConnect(&a, 100, &fd), E_ACCESSDENIED);
    CHECK(chmod(dir, 0770) == 0); /* group-writable */
    CHECK_EQ(listen_once(&vm_id), E_ACCESSDENIED);
    CHECK(chmod(dir, 0700) == 0); /* the owner's: accepted */
    CHECK_EQ(listen_once(&vm_id), S_OK);

    /* A symlink to a good directory is not followed. */
    snprintf(path, sizeof(path), "%s-link", dir);
    CHECK(symlink(dir, path) == 0);
    setenv("OPENWHP_HVSOCKET_DIR", path, 1);
    CHECK_EQ(listen_once(&vm_id), E_ACCESSDENIED);
    unlink(path);

    /* Another user's directory (root's "/" for an ordinary user). */
    if (geteuid() == 0) {
        CHECK(chown(dir, NOBODY, NOBODY) == 0);
        setenv("OPENWHP_HVSOCKET_DIR", dir, 1);
    } else {
        setenv("OPENWHP_HVSOCKET_DIR", "/", 1);
    }
    CHECK_EQ(listen_once(&vm_id), E_ACCESSDENIED);
    remove_dir(dir);
}

/* ---- stale files and live names ---- */

static void test_stale_files(void)
{
    char dir[64], path[128], target[160];
    use_dir(dir, 0700);
    listener_path(&vm_id, PORT, path, sizeof(path));

    /* A file that is not a socket stays, and the name is not free. */
    write_file(path);
    CHECK_EQ(listen_once(&vm_id), HRESULT_FROM_WIN32(WSAEADDRINUSE));
    CHECK(file_has_text(path));
    unlink(path);

    /* Nor is a symlink followed or removed. */
    snprintf(target, sizeof(target), "%s/target", dir);
    write_file(target);
    CHECK(symlink(target, path) == 0);
    CHECK_EQ(listen_once(&vm_id), HRESULT_FROM_WIN32(WSAEADDRINUSE));
    struct stat st;
    CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && file_has_text(target));
    unlink(path);

    /* A stale socket file of ours is replaced. */
    int s = unix_socket();
    CHECK(unix_op(s, path, 0, 0) == 0);
    close(s);
    CHECK_EQ(listen_once(&vm_id), S_OK);

    /* Another user's stale socket stays. */
    if (geteuid() == 0) {
        s = unix_socket();
        CHECK(unix_op(s, path, 0, 0) == 0);
        close(s);
        CHECK(chown(path, NOBODY, NOBODY) == 0);
        CHECK_EQ(listen_once(&vm_id), HRESULT_FROM_WIN32(WSAEADDRINUSE));
        CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == NOBODY);
        unlink(path);
    }

    /* The vsock device leaves a file that is not a socket where its hybrid socket would go. */
    char hybrid[128];
    snprintf(hybrid, sizeof(hybrid), "%s/vm", dir);
    write_file(hybrid);
    HANDLE notify = OpenWhpCreateEvent(FALSE, FALSE), irq = OpenWhpCreateEvent(FALSE, FALSE);
    struct vsock_config cfg = {.guest_cid = 3, .socket_path = hybrid, .notify_event = notify,
                               .interrupt_event = irq, .mem = {no_memory, NULL}};
    struct vsock *dev = vsock_create(&cfg);
    CHECK(dev == NULL && errno == EADDRINUSE);
    CHECK(file_has_text(hybrid));
    if (dev)
        vsock_destroy(dev);
    OpenWhpCloseEvent(notify);
    OpenWhpCloseEvent(irq);
    remove_dir(dir);
}

static void test_in_use_without_phantom(void)
{
    char dir[64], path[128];
    use_dir(dir, 0700);
    listener_path(&vm_id, PORT, path, sizeof(path));
    SOCKADDR_HV a = hv_addr(&vm_id, PORT);
    int fd = -1, again = -1, got = -1;
    CHECK_EQ(OpenWhpHvSocketListen(&a, 0, &fd), S_OK);
    CHECK_EQ(OpenWhpHvSocketListen(&a, 0, &again), HRESULT_FROM_WIN32(WSAEADDRINUSE));
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    CHECK_EQ(OpenWhpHvSocketAccept(fd, NULL, &got), HRESULT_FROM_WIN32(WSAEWOULDBLOCK));
    /* An accepted connection reports the listener's name: closing it leaves the file. */
    int c = unix_socket();
    CHECK(unix_op(c, path, 0, 1) == 0);
    CHECK_EQ(OpenWhpHvSocketAccept(fd, NULL, &got), S_OK);
    CHECK_EQ(OpenWhpHvSocketCloseListener(got), S_OK);
    CHECK(access(path, F_OK) == 0);
    close(c);
    CHECK_EQ(OpenWhpHvSocketCloseListener(fd), S_OK);
    CHECK(access(path, F_OK) != 0); /* the file goes with the listener */
    CHECK_EQ(listen_once(&vm_id), S_OK);
    remove_dir(dir);
}

/* ---- a second uid ---- */

/* Runs fn(arg) as nobody in a child whose fd 3 is a pipe to us; returns its pid once it wrote
 * its one-byte verdict (into *verdict), and the pipe's read end in *pipe_rd. */
static pid_t spawn_nobody(int (*fn)(const char *), const char *arg, int *pipe_rd, char *verdict)
{
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(pipefd[1], 3) < 0 || setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
            _exit(90);
        _exit(fn(arg));
    }
    close(pipefd[1]);
    *verdict = 0;
    CHECK(pid > 0 && read(pipefd[0], verdict, 1) == 1);
    *pipe_rd = pipefd[0];
    return pid;
}

static void end_child(pid_t pid, int pipe_rd)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pipe_rd);
}

/* The child's side of the squatting test: take the wildcard listener's name, as a file and as
 * the abstract name, and try the API. Keeps what it got and hands it to the parent. */
static int squat_name(const char *path)
{
    int file = unix_socket(), abstract = unix_socket();
    int got_file = unix_op(file, path, 0, 0) == 0 && listen(file, 8) == 0;
    if (unix_op(abstract, path, 1, 0) == 0)
        listen(abstract, 8);
    SOCKADDR_HV a = hv_addr(&HV_GUID_WILDCARD, PORT);
    int fd;
    int got_api = SUCCEEDED(OpenWhpHvSocketListen(&a, 0, &fd));
    /* Stay alive (holding the names) until the parent has listened: it kills us. */
    if (write(3, !got_file && !got_api ? "r" : "X", 1) != 1)
        return 1;
    pause();
    return 0;
}

static void test_other_uid_cannot_take_a_name(void)
{
    if (geteuid() != 0) {
        printf("SKIP test_other_uid_cannot_take_a_name: needs root to switch to uid %d\n", NOBODY);
        return;
    }
    char dir[64], path[128];
    use_dir(dir, 0700);
    listener_path(&HV_GUID_WILDCARD, PORT, path, sizeof(path));
    int rd = -1;
    char verdict;
    pid_t pid = spawn_nobody(squat_name, path, &rd, &verdict);
    CHECK(verdict == 'r'); /* the child got neither the file nor a listener through the API */
    /* The owner still gets the name, and connections to it reach the owner. */
    SOCKADDR_HV a = hv_addr(&HV_GUID_WILDCARD, PORT);
    int fd = -1, in = -1, c = unix_socket();
    CHECK_EQ(OpenWhpHvSocketListen(&a, 0, &fd), S_OK);
    CHECK(unix_op(c, path, 0, 1) == 0);
    if (fd >= 0) {
        CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
        CHECK_EQ(OpenWhpHvSocketAccept(fd, NULL, &in), S_OK);
        close(in);
        OpenWhpHvSocketCloseListener(fd);
    }
    close(c);
    end_child(pid, rd);
    remove_dir(dir);
}

/* The child's side of the spoofing test: connect to the listener at path as if from the device
 * of VM vm_id, through every name the old and new conventions trust. */
static int forge_peer(const char *path)
{
    char id[37], name[108];
    OpenWhpGuidFormat(&vm_id, id);
    snprintf(name, sizeof(name), OPENWHP_HVSOCKET_PEER_PREFIX "%s:%u:%u", id, GUEST_PORT, PORT);
    char reached_file = 'r';
    for (int target_abstract = 0; target_abstract < 2; target_abstract++) {
        int s = unix_socket();
        unix_op(s, name, 1, 0); /* the abstract peer name the old Accept believed */
        if (unix_op(s, path, target_abstract, 1) < 0)
            close(s); /* frees the name for the next try; a connected one is kept for the parent */
        else if (!target_abstract)
            reached_file = 'c';
    }
    if (write(3, &reached_file, 1) != 1)
        return 1;
    pause();
    return 0;
}

/* Accepts everything pending on fd (non-blocking); fails the test if a connection claims vm_id. */
static void accept_all_not_vm(int fd)
{
    SOCKADDR_HV peer;
    int in;
    while (OpenWhpHvSocketAccept(fd, &peer, &in) == S_OK) {
        CHECK(!OpenWhpGuidEqual(&peer.VmId, &vm_id));
        close(in);
    }
}

static void test_other_uid_cannot_spoof_a_peer(void)
{
    if (geteuid() != 0) {
        printf("SKIP test_other_uid_cannot_spoof_a_peer: needs root to switch to uid %d\n", NOBODY);
        return;
    }
    char dir[64], path[128], peer_path[160], id[37];
    SOCKADDR_HV a = hv_addr(&vm_id, PORT);
    for (int lax = 0; lax < 2; lax++) {
        /* lax: a directory others may enter (not write) and a listener file anyone may open. */
        use_dir(dir, lax ? 0755 : 0700);
        listener_path(&vm_id, PORT, path, sizeof(path));
        int fd = -1, rd = -1;
        CHECK_EQ(OpenWhpHvSocketListen(&a, 0, &fd), S_OK);
        if (fd < 0)
            continue;
        if (lax)
            CHECK(chmod(path, 0777) == 0);
        CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
        char verdict;
        pid_t pid = spawn_nobody(forge_peer, path, &rd, &verdict);
        CHECK(verdict == (lax ? 'c' : 'r')); /* lax: Accept's SO_PEERCRED check must drop it */
        accept_all_not_vm(fd);

        /* The owner's device names itself with a file next to the listener: believed. */
        OpenWhpGuidFormat(&vm_id, id);
        snprintf(peer_path, sizeof(peer_path), "%s/%s.%u.%u", dir, id, GUEST_PORT, PORT);
        int c = unix_socket(), in = -1;
        CHECK(unix_op(c, peer_path, 0, 0) == 0 && unix_op(c, path, 0, 1) == 0);
        SOCKADDR_HV peer;
        uint32_t port = 0;
        CHECK_EQ(OpenWhpHvSocketAccept(fd, &peer, &in), S_OK);
        CHECK(OpenWhpGuidEqual(&peer.VmId, &vm_id) && OpenWhpServiceIdToVsockPort(&peer.ServiceId, &port) &&
              port == GUEST_PORT);
        close(in);
        close(c);
        end_child(pid, rd);
        OpenWhpHvSocketCloseListener(fd);
        remove_dir(dir);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_lax_directories_refused();
    test_stale_files();
    test_in_use_without_phantom();
    test_other_uid_cannot_take_a_name();
    test_other_uid_cannot_spoof_a_peer();
    unsetenv("OPENWHP_HVSOCKET_DIR");
    return check_report();
}
