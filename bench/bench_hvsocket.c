/* HvSocket: a host program talks to a guest echo service over the user-space virtio-vsock device,
 * and, in the same run, to an echo thread over an AF_UNIX socket pair (the ceiling: the same
 * client code with no VM in between).
 *  - latency: 64-byte round trips on one connection (median per round of the mean);
 *  - throughput: a stream sent while its echo is read back (MiB/s each way);
 *  - user-space exits per MiB during the stream (register accesses: 0 expected, notifications
 *    are doorbells and interrupts are triggers; every exit the device's guest makes is counted).
 * The guest echoes without touching the data (zero-copy): its CPU here costs about a
 * microsecond per instruction, so it does per-packet work only. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openwhp/hvsocket.h>

#define BENCH_NAME "bench_hvsocket"
#define MAX_ROUNDS 64
#include "bench_util.h"
#include "guest.h"
#include "guest_vsock.h"

#define PORT 7000
#define PING 64

/* ---- client side, the same for both transports ---- */
static double latency_us(int fd, unsigned n)
{
    char buf[PING];
    memset(buf, 0x5a, sizeof(buf));
    double t0 = now_us();
    for (unsigned i = 0; i < n; i++) {
        if (write(fd, buf, PING) != PING)
            die("write", errno);
        for (size_t got = 0; got < PING;) {
            ssize_t r = read(fd, buf + got, PING - got);
            if (r <= 0)
                die("read", errno);
            got += (size_t)r;
        }
    }
    return (now_us() - t0) / n;
}

/* Sends `bytes` while reading the echo; returns MiB/s each way. */
static double stream_mibs(int fd, uint64_t bytes)
{
    static uint8_t out[1 << 16], in[1 << 16];
    uint64_t sent = 0, got = 0;
    memset(out, 0xa5, sizeof(out));
    double t0 = now_us();
    while (got < bytes) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < bytes ? POLLOUT : 0)};
        if (poll(&p, 1, 20000) <= 0)
            die("stream stalled", 0);
        if (p.revents & POLLOUT) {
            size_t n = bytes - sent < sizeof(out) ? (size_t)(bytes - sent) : sizeof(out);
            ssize_t w = send(fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN)
                die("send", errno);
            sent += w > 0 ? (uint64_t)w : 0;
        }
        if (p.revents & (POLLIN | POLLHUP)) {
            ssize_t r = read(fd, in, sizeof(in));
            if (r <= 0)
                die("echo ended early", errno);
            got += (uint64_t)r;
        }
    }
    return (double)(bytes >> 20) / ((now_us() - t0) / 1e6);
}

static void *unix_echo(void *opaque)
{
    int fd = (int)(intptr_t)opaque;
    static uint8_t buf[1 << 16];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w <= 0)
                return NULL;
            off += w;
        }
    return NULL;
}

static int whp_connect(struct gvs_host *h)
{
    SOCKADDR_HV a;
    memset(&a, 0, sizeof(a));
    a.Family = AF_HYPERV;
    a.VmId = h->vm_id;
    OpenWhpVsockPortToServiceId(PORT, &a.ServiceId);
    int fd;
    HRESULT hr = OpenWhpHvSocketConnect(&a, 10000, &fd);
    if (FAILED(hr))
        die("OpenWhpHvSocketConnect", hr);
    return fd;
}

int main(int argc, char **argv)
{
    unsigned rounds = 5, pings = 500, mib = 64;
    const struct bench_opt opts[] = {{"--rounds", "N", &rounds}, {"--pings", "N", &pings}, {"--mib", "MIB", &mib}};
    bench_parse_options(argc, argv, opts, 3);
    if (access("/dev/kvm", R_OK | W_OK) != 0) {
        printf("SKIP: /dev/kvm not available\n");
        return 0;
    }
    uint64_t bytes = (uint64_t)mib << 20;

    static struct gvs_host h;
    struct guest_vm_config cfg = {.ram_size = 64ull << 20, .apic_mode = WHvX64LocalApicEmulationModeX2Apic};
    struct guest_vm *vm = guest_vm_create(&cfg);
    gvs_host_attach(&h, vm);
    guest_vm_add_vp(vm, 0, gvs_echo_forever, h.area_gpa, PORT);
    if (!gvs_host_start(&h, 30000))
        die("the guest did not start listening", 0);

    double lat_w[MAX_ROUNDS], lat_u[MAX_ROUNDS], thr_w[MAX_ROUNDS], thr_u[MAX_ROUNDS], exits_per_mib[MAX_ROUNDS];
    double guest_us[MAX_ROUNDS];
    volatile struct gvs *gvs = guest_vm_gpa2hva(vm, h.area_gpa); /* the guest driver's state */
    for (unsigned r = 0; r < rounds; r++) {
        int fd = whp_connect(&h);
        /* The VP's working time per round trip: wall time minus its time in hlt (TSC ticks). */
        uint64_t halted0 = gvs->halted_tsc, tsc0 = __builtin_ia32_rdtsc();
        double t0 = now_us();
        lat_w[r] = latency_us(fd, pings);
        double tsc_per_us = (double)(__builtin_ia32_rdtsc() - tsc0) / (now_us() - t0);
        guest_us[r] = (lat_w[r] * pings - (double)(gvs->halted_tsc - halted0) / tsc_per_us) / pings;
        close(fd);
        fd = whp_connect(&h);
        uint64_t e0 = h.mmio_exits;
        thr_w[r] = stream_mibs(fd, bytes);
        exits_per_mib[r] = (double)(h.mmio_exits - e0) / mib;
        close(fd);

        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
            die("socketpair", errno);
        pthread_t t;
        pthread_create(&t, NULL, unix_echo, (void *)(intptr_t)sp[1]);
        lat_u[r] = latency_us(sp[0], pings);
        thr_u[r] = stream_mibs(sp[0], bytes);
        close(sp[0]);
        pthread_join(t, NULL);
        close(sp[1]);
    }
    double lw = median(lat_w, rounds), lu = median(lat_u, rounds);
    double tw = median(thr_w, rounds), tu = median(thr_u, rounds);
    printf("hvsocket_latency   (64-byte round trip)  whp %9.1f us  af_unix %7.1f us  ratio %.1f\n", lw, lu, lw / lu);
    printf("hvsocket_stream    (%u MiB echoed)       whp %9.1f MiB/s af_unix %5.0f MiB/s ratio %.3f\n", mib, tw,
           tu, tw / tu);
    printf("hvsocket_guest     the guest VP's working time per round trip: %.1f us (the rest: device, host, wake-ups)\n",
           median(guest_us, rounds));
    printf("hvsocket_exits     user-space exits per MiB during the stream: %.3f\n", median(exits_per_mib, rounds));
    printf("(medians of %u rounds; latency: mean of %u round trips per round)\n", rounds, pings);

    gvs_host_stop(&h);
    gvs_host_detach(&h);
    guest_vm_destroy(vm);
    return 0;
}
