/* HvSocket: a real guest with the test runtime's virtio-vsock driver talks to host programs
 * through the user-space device (devices/vsock.h) and the host API (openwhp/hvsocket.h):
 * echo both ways, 64 concurrent connections, long checked streams both ways, refused ports,
 * unknown VMs and timeouts, either side closing in the middle of a stream, socat on the
 * hybrid Unix socket, and another uid refused on it. The guest runs on the test thread; the host side runs on a peer thread. */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openwhp/hvsocket.h>

#include "guest.h"
#include "guest_vsock.h"

#define ECHO_PORT 5000
#define NR_CONNS 64
#define CONN_BYTES (48u << 10)
#define CLOSE_AFTER (1u << 20)

/* ---- a byte stream both sides can generate: xorshift64 words, little-endian ---- */
struct gen {
    uint64_t s, w;
    uint32_t left;
};

GUEST_INLINE void gen_init(struct gen *g, uint64_t seed)
{
    g->s = seed * 0x9E3779B97F4A7C15ull | 1;
    g->left = 0;
}

GUEST_INLINE uint8_t gen_byte(struct gen *g)
{
    if (!g->left) {
        g->s ^= g->s << 13;
        g->s ^= g->s >> 7;
        g->s ^= g->s << 17;
        g->w = g->s;
        g->left = 8;
    }
    uint8_t b = (uint8_t)g->w;
    g->w >>= 8;
    g->left--;
    return b;
}

/* A position-independent checksum of a stream (Fletcher-style, 64-bit). */
struct sum {
    uint64_t a, b;
};

GUEST_INLINE void sum_add(struct sum *s, uint8_t byte)
{
    s->a += byte;
    s->b += s->a;
}

static uint64_t stream_bytes(void)
{
    const char *e = getenv("HVSOCK_STREAM_MIB");
    return (e ? strtoull(e, NULL, 0) : 256) << 20;
}

/* ======================================================================================
 * Guest programs (arg0 = the driver's area, arg1 = a parameter)
 * ====================================================================================== */

GUEST_CODE static void guest_echo_client(uint64_t area, uint64_t port)
{
    struct gvs *vs = gvs_init(GVS_MMIO_GPA, area);
    static const char msg[] = "hello from the guest over virtio-vsock";
    int c = gvs_connect(vs, (uint32_t)port);
    GUEST_ASSERT(c >= 0);
    GUEST_ASSERT_EQ(gvs_send(vs, c, msg, sizeof(msg)), 0);
    /* Half-close: the echo ends when the host has seen our end of stream and sent everything. */
    gvs_shutdown_send(vs, c);
    uint32_t got = 0;
    for (;;) {
        const uint8_t *p;
        int eof;
        uint32_t n = gvs_recv_wait(vs, c, &p, &eof);
        if (eof)
            break;
        for (uint32_t i = 0; i < n; i++, got++)
            GUEST_ASSERT(got < sizeof(msg) && p[i] == (uint8_t)msg[got]);
        gvs_consume(vs, c, n);
    }
    GUEST_ASSERT_EQ(got, sizeof(msg));
    gvs_close(vs, c);
    /* A port nobody listens on is refused. */
    GUEST_ASSERT_EQ(gvs_connect(vs, (uint32_t)port + 1), -1);
    GUEST_SYNC(vs->irqs, vs->rx_packets, vs->tx_packets);
    GUEST_DONE();
}

/* Accepts `count` connections on `port` and echoes every byte back until each peer finishes
 * sending; then closes them all. */
GUEST_CODE static void guest_echo_server(uint64_t area, uint64_t arg)
{
    uint32_t port = (uint32_t)arg, count = (uint32_t)(arg >> 32);
    struct gvs *vs = gvs_init(GVS_MMIO_GPA, area);
    int conns[NR_CONNS];
    uint32_t live = 0;
    uint64_t echoed = 0;
    gvs_listen(vs, port);
    GUEST_SYNC(1); /* listening */
    for (uint32_t i = 0; i < count; i++)
        conns[i] = gvs_accept(vs, port);
    live = count;
    while (live) {
        int progress = 0;
        for (uint32_t i = 0; i < count; i++) {
            if (conns[i] < 0)
                continue;
            const uint8_t *p;
            int eof;
            uint32_t n = gvs_peek(vs, conns[i], &p, &eof);
            if (n) {
                int64_t sent = gvs_try_send(vs, conns[i], p, n);
                GUEST_ASSERT(sent >= 0);
                gvs_consume(vs, conns[i], (uint32_t)sent);
                echoed += (uint64_t)sent;
                progress |= sent > 0;
            } else if (eof) {
                gvs_close(vs, conns[i]);
                conns[i] = -1;
                live--;
                progress = 1;
            }
        }
        if (!progress)
            gvs_wait(vs);
    }
    GUEST_SYNC(2, echoed, vs->irqs, vs->waits);
    GUEST_DONE();
}

/* Accepts one connection on ECHO_PORT and sends every byte back without touching it (zero-copy
 * echo) until the host ends its stream; with close_after, closes after that many bytes. */
GUEST_CODE static void guest_zc_echo(uint64_t area, uint64_t close_after)
{
    struct gvs *vs = gvs_init(GVS_MMIO_GPA, area);
    gvs_listen(vs, ECHO_PORT);
    GUEST_SYNC(1);
    int c = gvs_accept(vs, ECHO_PORT);
    struct gvs_conn *conn = &vs->conns[c];
    for (;;) {
        int64_t n = gvs_echo(vs, c);
        if (n < 0) {
            /* The host reset the connection (it closed in the middle). */
            GUEST_SYNC(3, conn->echoed);
            gvs_reset(vs, c);
            GUEST_DONE();
        }
        if (close_after && conn->echoed >= close_after) {
            gvs_close(vs, c);
            GUEST_SYNC(5, conn->echoed);
            GUEST_DONE();
        }
        if ((conn->peer_shut & VSOCK_SHUTDOWN_SEND) && !conn->hold_count)
            break;
        if (!n)
            gvs_wait(vs);
    }
    gvs_close(vs, c);
    GUEST_SYNC(4, conn->echoed, vs->rx_packets, vs->tx_packets, vs->irqs);
    GUEST_DONE();
}

/* ======================================================================================
 * Host side
 * ====================================================================================== */

struct peer {
    pthread_t thread;
    struct gvs_host *host;
    int listen_fd;
    uint64_t bytes;
    volatile int failed; /* set by the peer thread; checked after join */
    char why[256];
    uint64_t result[4];
};

#define PEER_FAIL(pr, ...)                                                                         \
    do {                                                                                           \
        snprintf((pr)->why, sizeof((pr)->why), __VA_ARGS__);                                        \
        fprintf(stderr, "    host side failed: %s\n", (pr)->why); /* the guest may now hang */   \
        (pr)->failed = 1;                                                                          \
        return NULL;                                                                               \
    } while (0)

static SOCKADDR_HV hv_addr(const GUID *vm, uint32_t port)
{
    SOCKADDR_HV a;
    memset(&a, 0, sizeof(a));
    a.Family = AF_HYPERV;
    a.VmId = *vm;
    OpenWhpVsockPortToServiceId(port, &a.ServiceId);
    return a;
}

static struct guest_vm *vsock_vm(struct gvs_host *h)
{
    struct guest_vm_config cfg = {.ram_size = 64ull << 20, .apic_mode = WHvX64LocalApicEmulationModeX2Apic};
    struct guest_vm *vm = guest_vm_create(&cfg);
    gvs_host_attach(h, vm);
    return vm;
}

static void vsock_vm_destroy(struct gvs_host *h, struct guest_vm *vm)
{
    gvs_host_detach(h);
    guest_vm_destroy(vm);
}

/* Runs VP 0 until the next SYNC (value checked) or DONE, handling the device's exits. */
static uint64_t run(struct gvs_host *h, struct guest_ucall *uc)
{
    return guest_run_handling(h->vm, 0, uc, gvs_host_exit, h);
}

static void expect_sync(struct gvs_host *h, struct guest_ucall *uc, uint64_t value)
{
    TEST_ASSERT_EQ(run(h, uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc->args[0], value);
}

static void peer_start(struct peer *pr, void *(*fn)(void *))
{
    TEST_ASSERT(pthread_create(&pr->thread, NULL, fn, pr) == 0);
}

static void peer_join(struct peer *pr)
{
    pthread_join(pr->thread, NULL);
    TEST_ASSERT(!pr->failed, "(host side: %s)", pr->why);
}

/* ---- guest -> host echo ---- */

static void *echo_peer(void *opaque)
{
    struct peer *pr = opaque;
    SOCKADDR_HV from;
    int fd;
    char buf[256];
    if (FAILED(OpenWhpHvSocketAccept(pr->listen_fd, &from, &fd)))
        PEER_FAIL(pr, "accept failed");
    if (!OpenWhpGuidEqual(&from.VmId, &pr->host->vm_id))
        PEER_FAIL(pr, "the peer's VM id is not the partition's");
    uint32_t port;
    if (!OpenWhpServiceIdToVsockPort(&from.ServiceId, &port) || port < 50000)
        PEER_FAIL(pr, "the peer's port is not the guest's source port");
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (write(fd, buf, (size_t)n) != n)
            PEER_FAIL(pr, "echo write failed");
    close(fd);
    return NULL;
}

static void test_guest_to_host_echo(void)
{
    struct gvs_host h;
    struct guest_vm *vm = vsock_vm(&h);
    struct peer pr = {.host = &h};
    struct guest_ucall uc;
    SOCKADDR_HV a = hv_addr(&h.vm_id, ECHO_PORT);
    TEST_HR(OpenWhpHvSocketListen(&a, 0, &pr.listen_fd));
    /* The address is taken while the listener lives. */
    int again = -1;
    TEST_HR_EQ(OpenWhpHvSocketListen(&a, 0, &again), HRESULT_FROM_WIN32(WSAEADDRINUSE));
    peer_start(&pr, echo_peer);
    guest_vm_add_vp(vm, 0, guest_echo_client, h.area_gpa, ECHO_PORT);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_SYNC);
    TEST_ASSERT(uc.args[1] >= 3 && uc.args[2] >= 3, "(packets: %llu received, %llu sent)",
                (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    peer_join(&pr);
    TEST_HR(OpenWhpHvSocketCloseListener(pr.listen_fd));
    vsock_vm_destroy(&h, vm);
}

/* ---- host -> guest echo, 64 connections at once ---- */

/* Opens NR_CONNS connections through the host API, then streams CONN_BYTES of a distinct
 * pattern on each while reading the echoes, all at once with poll. */
static void *many_peer(void *opaque)
{
    struct peer *pr = opaque;
    SOCKADDR_HV a = hv_addr(&pr->host->vm_id, ECHO_PORT);
    int fds[NR_CONNS];
    uint32_t sent[NR_CONNS] = {0}, got[NR_CONNS] = {0};
    for (int i = 0; i < NR_CONNS; i++) {
        HRESULT hr = OpenWhpHvSocketConnect(&a, 10000, &fds[i]);
        if (FAILED(hr))
            PEER_FAIL(pr, "connect %d: 0x%08x", i, (unsigned)hr);
    }
    uint8_t buf[4096];
    for (int open = NR_CONNS; open;) {
        struct pollfd p[NR_CONNS];
        for (int i = 0; i < NR_CONNS; i++) {
            p[i].fd = got[i] < CONN_BYTES ? fds[i] : -1;
            p[i].events = POLLIN | (sent[i] < CONN_BYTES ? POLLOUT : 0);
        }
        if (poll(p, NR_CONNS, 20000) <= 0)
            PEER_FAIL(pr, "no progress in 20 s");
        for (int i = 0; i < NR_CONNS; i++) {
            if (p[i].revents & POLLOUT) {
                uint32_t n = CONN_BYTES - sent[i] < sizeof(buf) ? CONN_BYTES - sent[i] : sizeof(buf);
                for (uint32_t k = 0; k < n; k++)
                    buf[k] = (uint8_t)(i * 31 + sent[i] + k);
                ssize_t w = write(fds[i], buf, n);
                if (w < 0)
                    PEER_FAIL(pr, "write on connection %d: %s", i, strerror(errno));
                sent[i] += (uint32_t)w;
                if (sent[i] == CONN_BYTES)
                    shutdown(fds[i], SHUT_WR);
            }
            if (p[i].revents & (POLLIN | POLLHUP)) {
                ssize_t r = read(fds[i], buf, sizeof(buf));
                if (r <= 0)
                    PEER_FAIL(pr, "connection %d ended after %u of %u echoed bytes", i, got[i], CONN_BYTES);
                for (ssize_t k = 0; k < r; k++)
                    if (buf[k] != (uint8_t)(i * 31 + got[i] + k))
                        PEER_FAIL(pr, "connection %d: echoed byte %u is wrong", i, got[i] + (uint32_t)k);
                got[i] += (uint32_t)r;
                if (got[i] == CONN_BYTES)
                    open--;
            }
        }
    }
    /* The guest closes each connection once it has echoed everything. */
    for (int i = 0; i < NR_CONNS; i++) {
        if (read(fds[i], buf, 1) != 0)
            PEER_FAIL(pr, "connection %d: no end of stream after the echo", i);
        close(fds[i]);
    }
    return NULL;
}

static void test_host_to_guest_64_connections(void)
{
    struct gvs_host h;
    struct guest_vm *vm = vsock_vm(&h);
    struct peer pr = {.host = &h};
    struct guest_ucall uc;
    guest_vm_add_vp(vm, 0, guest_echo_server, h.area_gpa, (uint64_t)NR_CONNS << 32 | ECHO_PORT);
    expect_sync(&h, &uc, 1);
    peer_start(&pr, many_peer);
    expect_sync(&h, &uc, 2);
    TEST_ASSERT_EQ(uc.args[1], (uint64_t)NR_CONNS * CONN_BYTES);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    peer_join(&pr);
    struct vsock_stats st;
    vsock_get_stats(h.dev, &st);
    printf("    64 connections: %llu packets to the guest, %llu from it, %llu interrupts, %llu bytes buffered\n",
           (unsigned long long)st.rx_packets, (unsigned long long)st.tx_packets,
           (unsigned long long)st.interrupts, (unsigned long long)st.buffered_bytes);
    vsock_vm_destroy(&h, vm);
}

/* ---- long streams both ways, checked byte for byte and by checksum ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connects to the guest's echo, sends pr->bytes of the generated stream while reading the echo
 * back and checking it; result: [0] bytes echoed, [1..2] checksum of what was sent, [3] the
 * errno that ended the stream early (0 if none). With pr->listen_fd = -2, hangs up after
 * reading CLOSE_AFTER bytes. */
static void *stream_peer(void *opaque)
{
    struct peer *pr = opaque;
    SOCKADDR_HV a = hv_addr(&pr->host->vm_id, ECHO_PORT);
    int fd;
    HRESULT hr = OpenWhpHvSocketConnect(&a, 10000, &fd);
    if (FAILED(hr))
        PEER_FAIL(pr, "connect: 0x%08x", (unsigned)hr);
    static uint8_t out[1 << 16], in[1 << 16];
    struct gen tx, rx;
    struct sum sent = {0, 0}, back = {0, 0};
    uint64_t done = 0, got = 0;
    size_t out_len = 0, out_off = 0;
    gen_init(&tx, 7);
    gen_init(&rx, 7);
    for (;;) {
        if (out_off == out_len && done < pr->bytes) {
            out_len = pr->bytes - done < sizeof(out) ? (size_t)(pr->bytes - done) : sizeof(out);
            for (size_t i = 0; i < out_len; i++) {
                out[i] = gen_byte(&tx);
                sum_add(&sent, out[i]);
            }
            out_off = 0;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN | (out_off < out_len ? POLLOUT : 0)};
        if (poll(&p, 1, 20000) <= 0)
            PEER_FAIL(pr, "no progress in 20 s (%llu sent, %llu echoed)", (unsigned long long)done,
                      (unsigned long long)got);
        if (p.revents & POLLOUT) {
            ssize_t w = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN) {
                pr->result[3] = (uint64_t)errno;
                break;
            }
            if (w > 0) {
                out_off += (size_t)w;
                done += (uint64_t)w;
                if (done == pr->bytes)
                    shutdown(fd, SHUT_WR);
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(fd, in, sizeof(in));
            if (r < 0) {
                pr->result[3] = (uint64_t)errno;
                break;
            }
            if (r == 0)
                break;
            for (ssize_t i = 0; i < r; i++) {
                if (in[i] != gen_byte(&rx))
                    PEER_FAIL(pr, "echoed byte %llu differs from the stream", (unsigned long long)(got + (uint64_t)i));
                sum_add(&back, in[i]);
            }
            got += (uint64_t)r;
            if (pr->listen_fd == -2 && got >= CLOSE_AFTER)
                break; /* the close test: hang up in the middle */
        }
    }
    close(fd);
    if (!pr->result[3] && pr->listen_fd != -2 && (got != pr->bytes || back.a != sent.a || back.b != sent.b))
        PEER_FAIL(pr, "echo: %llu of %llu bytes, checksums %llx/%llx vs %llx/%llx", (unsigned long long)got,
                  (unsigned long long)pr->bytes, (unsigned long long)back.a, (unsigned long long)back.b,
                  (unsigned long long)sent.a, (unsigned long long)sent.b);
    pr->result[0] = got;
    pr->result[1] = sent.a;
    pr->result[2] = sent.b;
    return NULL;
}

static void test_stream_both_ways(void)
{
    struct gvs_host h;
    struct guest_vm *vm = vsock_vm(&h);
    struct peer pr = {.host = &h, .bytes = stream_bytes()};
    struct guest_ucall uc;
    guest_vm_add_vp(vm, 0, guest_zc_echo, h.area_gpa, 0);
    expect_sync(&h, &uc, 1);
    double t0 = now_s();
    peer_start(&pr, stream_peer);
    expect_sync(&h, &uc, 4);
    struct guest_ucall result = uc;
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    peer_join(&pr);
    double t = now_s() - t0;
    uc = result;
    printf("    guest: echoed %llu, packets in %llu, out %llu, %llu waits\n", (unsigned long long)uc.args[1],
           (unsigned long long)uc.args[2], (unsigned long long)uc.args[3], (unsigned long long)uc.args[4]);
    TEST_ASSERT_EQ(uc.args[1], pr.bytes);
    TEST_ASSERT_EQ(pr.result[0], pr.bytes);
    printf("    %llu MiB each way in %.2f s (%.1f MiB/s each way), %llu packets in, %llu out, "
           "%llu register exits\n",
           (unsigned long long)(pr.bytes >> 20), t, (pr.bytes >> 20) / t, (unsigned long long)uc.args[2],
           (unsigned long long)uc.args[3], (unsigned long long)h.mmio_exits);
    vsock_vm_destroy(&h, vm);
}

/* ---- either side closing in the middle of a stream ---- */

static void test_host_closes_midstream(void)
{
    struct gvs_host h;
    struct guest_vm *vm = vsock_vm(&h);
    struct peer pr = {.host = &h, .bytes = 256ull << 20, .listen_fd = -2};
    struct guest_ucall uc;
    guest_vm_add_vp(vm, 0, guest_zc_echo, h.area_gpa, 0);
    expect_sync(&h, &uc, 1);
    peer_start(&pr, stream_peer);
    /* The guest sees the end of the stream (the device read EOF) or a reset (its echo failed). */
    uint64_t kind = run(&h, &uc);
    TEST_ASSERT(kind == UCALL_SYNC && (uc.args[0] == 3 || uc.args[0] == 4), "(ucall %llu, value %llu)",
                (unsigned long long)kind, (unsigned long long)uc.args[0]);
    TEST_ASSERT(uc.args[1] >= CLOSE_AFTER && uc.args[1] < pr.bytes, "(the guest echoed %llu bytes)",
                (unsigned long long)uc.args[1]);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    peer_join(&pr);
    TEST_ASSERT(pr.result[0] >= CLOSE_AFTER);
    vsock_vm_destroy(&h, vm);
}

static void test_guest_closes_midstream(void)
{
    struct gvs_host h;
    struct guest_vm *vm = vsock_vm(&h);
    struct peer pr = {.host = &h, .bytes = 256ull << 20};
    struct guest_ucall uc;
    guest_vm_add_vp(vm, 0, guest_zc_echo, h.area_gpa, CLOSE_AFTER);
    expect_sync(&h, &uc, 1);
    peer_start(&pr, stream_peer);
    expect_sync(&h, &uc, 5);
    TEST_ASSERT(uc.args[1] >= CLOSE_AFTER);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    peer_join(&pr);
    /* The host saw the end: its writes failed, or its reads ended, long before the end. */
    TEST_ASSERT(pr.result[0] < pr.bytes, "(%llu bytes echoed)", (unsigned long long)pr.result[0]);
    TEST_ASSERT(pr.result[3] == 0 || pr.result[3] == EPIPE || pr.result[3] == ECONNRESET, "(errno %llu)",
                (unsigned long long)pr.result[3]);
    vsock_vm_destroy(&h, vm);
}

/* ---- refusals, unknown VMs, bad addresses, timeouts ---- */

static void *refused_peer(void *opaque)
{
    struct peer *pr = opaque;
    const GUID *vm = &pr->host->vm_id;
    SOCKADDR_HV a = hv_addr(vm, ECHO_PORT + 1);
    int fd = 123, fd2;
    HRESULT hr;
    /* Nobody listens on ECHO_PORT + 1: the guest resets the request. */
    if ((hr = OpenWhpHvSocketConnect(&a, 5000, &fd)) != HRESULT_FROM_WIN32(WSAECONNREFUSED) || fd != -1)
        PEER_FAIL(pr, "refused port: 0x%08x", (unsigned)hr);
    /* An unknown VM. */
    GUID other = *vm;
    other.Data1 ^= 0x5a5a5a5a;
    a = hv_addr(&other, ECHO_PORT);
    if ((hr = OpenWhpHvSocketConnect(&a, 1000, &fd)) != HRESULT_FROM_WIN32(WSAEHOSTUNREACH))
        PEER_FAIL(pr, "unknown VM: 0x%08x", (unsigned)hr);
    /* Bad addresses and arguments. */
    a = hv_addr(vm, ECHO_PORT);
    a.ServiceId.Data2 ^= 1; /* not a vsock service id */
    if ((hr = OpenWhpHvSocketConnect(&a, 1000, &fd)) != HRESULT_FROM_WIN32(WSAEAFNOSUPPORT))
        PEER_FAIL(pr, "non-vsock service: 0x%08x", (unsigned)hr);
    a = hv_addr(vm, ECHO_PORT);
    a.Family = 1;
    if ((hr = OpenWhpHvSocketConnect(&a, 1000, &fd)) != E_INVALIDARG)
        PEER_FAIL(pr, "bad family: 0x%08x", (unsigned)hr);
    a = hv_addr(vm, ECHO_PORT);
    if ((hr = OpenWhpHvSocketConnect(&a, HVSOCKET_CONNECT_TIMEOUT_MAX + 1, &fd)) != E_INVALIDARG)
        PEER_FAIL(pr, "timeout over the maximum: 0x%08x", (unsigned)hr);
    if (OpenWhpHvSocketConnect(NULL, 0, &fd) != E_POINTER || OpenWhpHvSocketConnect(&a, 0, NULL) != E_POINTER)
        PEER_FAIL(pr, "NULL arguments");
    /* The guest accepts one connection; a second one waits in its queue until the timeout. */
    if (FAILED(hr = OpenWhpHvSocketConnect(&a, 5000, &fd)))
        PEER_FAIL(pr, "connect: 0x%08x", (unsigned)hr);
    double t0 = now_s();
    if ((hr = OpenWhpHvSocketConnect(&a, 300, &fd2)) != HRESULT_FROM_WIN32(WSAETIMEDOUT))
        PEER_FAIL(pr, "unanswered connect: 0x%08x", (unsigned)hr);
    double waited = now_s() - t0;
    if (waited < 0.29 || waited > 3)
        PEER_FAIL(pr, "a 300 ms connect timeout took %.3f s", waited);
    /* The accepted one works. */
    char c = 'x';
    if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 || c != 'x')
        PEER_FAIL(pr, "echo on the accepted connection");
    shutdown(fd, SHUT_WR);
    if (read(fd, &c, 1) != 0)
        PEER_FAIL(pr, "no end of stream");
    close(fd);
    return NULL;
}

static void test_refused_unknown_timeout(void)
{
    struct gvs_host h;
    struct guest_vm *vm = vsock_vm(&h);
    struct peer pr = {.host = &h};
    struct guest_ucall uc;
    guest_vm_add_vp(vm, 0, guest_echo_server, h.area_gpa, (uint64_t)1 << 32 | ECHO_PORT);
    expect_sync(&h, &uc, 1);
    peer_start(&pr, refused_peer);
    expect_sync(&h, &uc, 2);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    peer_join(&pr);

    /* Listener arguments. */
    SOCKADDR_HV a = hv_addr(&h.vm_id, ECHO_PORT);
    int fd;
    TEST_HR_EQ(OpenWhpHvSocketListen(NULL, 0, &fd), E_POINTER);
    TEST_HR_EQ(OpenWhpHvSocketListen(&a, 0, NULL), E_POINTER);
    a.VmId = HV_GUID_LOOPBACK;
    TEST_HR_EQ(OpenWhpHvSocketListen(&a, 0, &fd), E_INVALIDARG);
    a = hv_addr(&h.vm_id, OPENWHP_HVSOCKET_VM_PORT);
    TEST_HR_EQ(OpenWhpHvSocketListen(&a, 0, &fd), HRESULT_FROM_WIN32(WSAEAFNOSUPPORT));
    a = hv_addr(&h.vm_id, ECHO_PORT);
    a.Reserved = 1;
    TEST_HR_EQ(OpenWhpHvSocketListen(&a, 0, &fd), E_INVALIDARG);
    TEST_HR_EQ(OpenWhpHvSocketCloseListener(-1), E_HANDLE);
    TEST_HR_EQ(OpenWhpHvSocketAccept(-1, NULL, &fd), E_HANDLE);
    TEST_HR_EQ(OpenWhpHvSocketAccept(0, NULL, NULL), E_POINTER);
    char path_buf[8];
    TEST_HR_EQ(OpenWhpHvSocketGetPath(NULL, 1, path_buf, sizeof(path_buf), NULL), E_POINTER);
    GUID id;
    TEST_HR_EQ(OpenWhpGetPartitionVmId(vm->partition, NULL), E_POINTER);
    TEST_HR_EQ(OpenWhpGetPartitionVmId(NULL, &id), E_HANDLE);
    char small[8];
    UINT32 need = 0;
    TEST_HR_EQ(OpenWhpHvSocketGetPath(&h.vm_id, 1, small, sizeof(small), &need), WHV_E_INSUFFICIENT_BUFFER);
    TEST_ASSERT(need > sizeof(small));
    vsock_vm_destroy(&h, vm);
}

/* ---- socat on the hybrid socket ---- */

static const char *socat_path(void)
{
    static const char *const paths[] = {"/usr/bin/socat", "/bin/socat", "/usr/local/bin/socat"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/* Runs socat with the given stdin text; its stdout goes to pr->why (the output check). */
static void *socat_connect_peer(void *opaque)
{
    struct peer *pr = opaque;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "printf 'CONNECT %u\\nping over socat' | %s -t 5 - UNIX-CONNECT:%s",
             ECHO_PORT, socat_path(), pr->host->path);
    FILE *f = popen(cmd, "r");
    if (!f)
        PEER_FAIL(pr, "popen: %s", strerror(errno));
    char out[128];
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    unsigned port;
    char rest[64] = "";
    if (st != 0 || sscanf(out, "OK %u\n%63[^\n]", &port, rest) != 2 || strcmp(rest, "ping over socat") != 0)
        PEER_FAIL(pr, "socat printed \"%s\" (status %d)", out, st);
    return NULL;
}

static void test_socat(void)
{
    if (!socat_path())
        guest_test_skip("socat is not installed (apt-get install socat)");
    struct gvs_host h;
    struct guest_vm *vm = vsock_vm(&h);
    struct peer pr = {.host = &h};
    struct guest_ucall uc;

    /* Host -> guest: CONNECT on the VM's socket, the guest echoes. */
    guest_vm_add_vp(vm, 0, guest_echo_server, h.area_gpa, (uint64_t)1 << 32 | ECHO_PORT);
    expect_sync(&h, &uc, 1);
    peer_start(&pr, socat_connect_peer);
    expect_sync(&h, &uc, 2);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    peer_join(&pr);
    vsock_vm_destroy(&h, vm);

    /* Guest -> host: socat listens on <vm socket>_<port> and echoes with cat. */
    vm = vsock_vm(&h);
    char listen_path[160], arg[200];
    snprintf(listen_path, sizeof(listen_path), "%s_%u", h.path, ECHO_PORT);
    snprintf(arg, sizeof(arg), "UNIX-LISTEN:%s", listen_path);
    pid_t pid = fork();
    TEST_ASSERT(pid >= 0);
    if (pid == 0) {
        execl(socat_path(), "socat", arg, "EXEC:cat", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && access(listen_path, F_OK) != 0; i++)
        usleep(10000);
    TEST_ASSERT(access(listen_path, F_OK) == 0, "(socat did not create %s)", listen_path);
    guest_vm_add_vp(vm, 0, guest_echo_client, h.area_gpa, ECHO_PORT);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    int status;
    TEST_ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "(socat exit status 0x%x)", status);
    unlink(listen_path);
    vsock_vm_destroy(&h, vm);
}

/* ---- only the owner's programs reach the guest ---- */

#define NOBODY 65534

/* As nobody: connects to the hybrid socket at path and asks for ECHO_PORT. Exit status 0 when
 * the device refused (connect failed, or the socket closed without an answer), 1 when it
 * answered OK, 2 when the child could not become nobody. */
static int hybrid_as_nobody(const char *path)
{
    if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
        return 2;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return 0;
    char req[32], reply[32] = "";
    int n = snprintf(req, sizeof(req), "CONNECT %u\n", ECHO_PORT);
    if (write(fd, req, (size_t)n) != n)
        return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 5000) <= 0)
        return 1; /* neither an answer nor a close: the device kept the connection */
    return read(fd, reply, sizeof(reply) - 1) > 0 && strncmp(reply, "OK ", 3) == 0;
}

static void *owner_peer(void *opaque)
{
    struct peer *pr = opaque;
    pid_t pid = fork();
    if (pid == 0)
        _exit(hybrid_as_nobody(pr->host->path));
    int status = -1;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        PEER_FAIL(pr, "the nobody child did not finish");
    if (WEXITSTATUS(status) != 0)
        PEER_FAIL(pr, "uid %d %s", NOBODY,
                  WEXITSTATUS(status) == 1 ? "got through the hybrid socket" : "could not be set");
    /* The owner (the guest waits for one connection) still gets through. */
    SOCKADDR_HV a = hv_addr(&pr->host->vm_id, ECHO_PORT);
    int fd;
    HRESULT hr = OpenWhpHvSocketConnect(&a, 10000, &fd);
    if (FAILED(hr))
        PEER_FAIL(pr, "the owner's connect: 0x%08x", (unsigned)hr);
    char c = 'x';
    if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 || c != 'x')
        PEER_FAIL(pr, "echo on the owner's connection");
    shutdown(fd, SHUT_WR);
    if (read(fd, &c, 1) != 0)
        PEER_FAIL(pr, "no end of stream");
    close(fd);
    return NULL;
}

/* Another uid cannot talk to the guest through the hybrid socket, even when the VMM left the
 * socket file open to everyone in a directory others may enter. */
static void test_hybrid_owner_only(void)
{
    if (geteuid() != 0)
        guest_test_skip("needs root to switch to uid 65534");
    char dir[] = "/tmp/openwhp-hybrid-XXXXXX";
    TEST_ASSERT(mkdtemp(dir) && chmod(dir, 0755) == 0);
    setenv("OPENWHP_HVSOCKET_DIR", dir, 1);
    struct gvs_host h;
    struct guest_vm *vm = vsock_vm(&h);
    struct peer pr = {.host = &h};
    struct guest_ucall uc;
    TEST_ASSERT(chmod(h.path, 0777) == 0);
    guest_vm_add_vp(vm, 0, guest_echo_server, h.area_gpa, (uint64_t)1 << 32 | ECHO_PORT);
    expect_sync(&h, &uc, 1);
    peer_start(&pr, owner_peer);
    expect_sync(&h, &uc, 2);
    TEST_ASSERT_EQ(run(&h, &uc), UCALL_DONE);
    peer_join(&pr);
    vsock_vm_destroy(&h, vm);
    unsetenv("OPENWHP_HVSOCKET_DIR");
    TEST_ASSERT(rmdir(dir) == 0, "(%s: %s: the device left files behind)", dir, strerror(errno));
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    static const struct guest_test tests[] = {
        GUEST_TEST(test_guest_to_host_echo),
        GUEST_TEST(test_host_to_guest_64_connections),
        GUEST_TEST(test_refused_unknown_timeout),
        GUEST_TEST(test_stream_both_ways),
        GUEST_TEST(test_host_closes_midstream),
        GUEST_TEST(test_guest_closes_midstream),
        GUEST_TEST(test_socat),
        GUEST_TEST(test_hybrid_owner_only),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
