/* Fuzzes the virtio-vsock device (devices/vsock.*) as a hostile guest driver would: after a
 * normal virtio-mmio setup the input sends transmit packets (headers with chosen CIDs, ports,
 * types, ops, lengths and credit, payloads split over descriptors), rewrites registers and RAM,
 * recycles receive buffers, and plays host programs on the other side (a listener for guest
 * connections that accepts, writes and closes). The device's worker runs for real; the harness
 * waits until it has consumed each packet. Checks: every packet the device puts in a receive
 * buffer is a well-formed stream packet from the host to the guest's CID and fits the buffer. */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fuzz_input.h"

#include "virtio_mmio.h"
#include "vsock.h"
#include "vsock_proto.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE 0x10000u
#define QSIZE 16
#define GUEST_CID 3
#define HOST_PORT 1234 /* the port a host listener serves */
#define RXBUF 256

/* RAM layout (offsets): per queue desc/avail/used at Q_BASE(q); RX buffers; TX buffers. */
#define Q_BASE(q) (0x1000u * (q))
#define Q_AVAIL 0x100u
#define Q_USED 0x200u
#define RX_BUFS 0x4000u
#define TX_BUFS 0x8000u

static uint8_t *ram;
static char sock_path[64];
static int listener = -1;

static void *gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
    (void)ctx;
    if (gpa < RAM_GPA || len > RAM_SIZE || gpa - RAM_GPA > RAM_SIZE - len)
        return NULL;
    return ram + (gpa - RAM_GPA);
}

static volatile uint16_t *ring16(unsigned q, unsigned off)
{
    return (volatile uint16_t *)(ram + Q_BASE(q) + off);
}

static struct virtq_desc *desc(unsigned q, unsigned i)
{
    return (struct virtq_desc *)(ram + Q_BASE(q)) + i;
}

static void publish(unsigned q, uint16_t head)
{
    volatile uint16_t *avail = ring16(q, Q_AVAIL);
    uint16_t idx = avail[1];
    avail[2 + idx % QSIZE] = head;
    __atomic_store_n(&avail[1], (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

static void setup_driver(struct vsock *dev)
{
    vsock_mmio_write(dev, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 4);
    vsock_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
    vsock_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, 1, 4); /* VERSION_1 */
    vsock_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0, 4);
    vsock_mmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, 1, 4); /* STREAM */
    vsock_mmio_write(dev, VIRTIO_MMIO_STATUS, 0xb, 4);
    for (unsigned q = 0; q < VSOCK_NR_QUEUES; q++) {
        vsock_mmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, q, 4);
        vsock_mmio_write(dev, VIRTIO_MMIO_QUEUE_NUM, QSIZE, 4);
        vsock_mmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_GPA + Q_BASE(q)), 4);
        vsock_mmio_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_GPA + Q_BASE(q) + Q_AVAIL), 4);
        vsock_mmio_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_GPA + Q_BASE(q) + Q_USED), 4);
        vsock_mmio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1, 4);
    }
    for (unsigned i = 0; i < QSIZE; i++) {
        *desc(VSOCK_QUEUE_RX, i) = (struct virtq_desc){RAM_GPA + RX_BUFS + i * RXBUF, RXBUF,
                                                       VIRTQ_DESC_F_WRITE, 0};
        publish(VSOCK_QUEUE_RX, (uint16_t)i);
    }
    vsock_mmio_write(dev, VIRTIO_MMIO_STATUS, 0xf, 4);
}

static void sleep_us(long us)
{
    struct timespec t = {0, us * 1000};
    nanosleep(&t, NULL);
}

/* Every receive buffer the device filled holds one well-formed packet; recycle them. Once the
 * input rewrote queue or status registers the rings may no longer be the ones set up here, and
 * the checks stop for the rest of the input. */
static uint16_t rx_seen;
static bool rx_unchecked;

/* Waits (at most ~100 ms) until the device used every transmit chain the driver made available;
 * not once the rings may no longer be the harness's (a reset drops the chains it interrupted, so
 * the wait would run out on every later packet and one input could take seconds). */
static void wait_tx(struct vsock *dev)
{
    for (unsigned i = 0; i < 1000 && !rx_unchecked; i++) {
        if (__atomic_load_n(ring16(VSOCK_QUEUE_TX, Q_USED + 2), __ATOMIC_ACQUIRE) ==
                *ring16(VSOCK_QUEUE_TX, Q_AVAIL + 2) ||
            (vsock_mmio_read(dev, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_NEEDS_RESET))
            return;
        sleep_us(100);
    }
}

static void check_rx(void)
{
    if (rx_unchecked)
        return;
    volatile uint16_t *used = ring16(VSOCK_QUEUE_RX, Q_USED);
    uint16_t idx = __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
    for (; rx_seen != idx; rx_seen++) {
        volatile uint32_t *elem = (volatile uint32_t *)(used + 2) + 2 * (rx_seen % QSIZE);
        uint32_t id = elem[0], len = elem[1];
        FZ_CHECK(id < QSIZE);
        const struct virtq_desc *d = desc(VSOCK_QUEUE_RX, id);
        if (d->addr != RAM_GPA + RX_BUFS + id * RXBUF || d->len != RXBUF)
            continue; /* the guest rewrote the descriptor meanwhile: nothing to hold it to */
        FZ_CHECK(len >= sizeof(struct vsock_hdr) && len <= RXBUF);
        struct vsock_hdr h;
        memcpy(&h, ram + RX_BUFS + id * RXBUF, sizeof(h));
        FZ_CHECK(h.src_cid == VSOCK_CID_HOST && h.dst_cid == GUEST_CID);
        FZ_CHECK(h.op >= VSOCK_OP_REQUEST && h.op <= VSOCK_OP_CREDIT_REQUEST);
        FZ_CHECK(h.len == len - sizeof(h));
        FZ_CHECK(h.type == VSOCK_TYPE_STREAM);
        publish(VSOCK_QUEUE_RX, (uint16_t)id);
    }
}

static void op_packet(struct vsock *dev, struct fz *f, unsigned *next_tx)
{
    static const uint16_t ops[] = {1, 1, 2, 3, 4, 5, 5, 5, 6, 7, 0, 8};
    struct vsock_hdr h;
    memset(&h, 0, sizeof(h));
    uint8_t how = fz_u8(f);
    h.src_cid = how & 1 ? fz_u64(f) : GUEST_CID;
    h.dst_cid = how & 2 ? fz_u64(f) : VSOCK_CID_HOST;
    h.type = how & 4 ? fz_u16(f) : VSOCK_TYPE_STREAM;
    h.op = FZ_PICK(f, ops);
    h.src_port = fz_u8(f) % 4 + 1000;
    h.dst_port = how & 8 ? fz_u32(f) : HOST_PORT;
    h.flags = fz_u8(f) % 4;
    h.buf_alloc = how & 16 ? fz_u32(f) : 65536;
    h.fwd_cnt = how & 32 ? fz_u32(f) : 0;
    uint8_t payload[200];
    unsigned plen = fz_below(f, sizeof(payload) + 1);
    fz_bytes(f, payload, plen);
    h.len = how & 64 ? fz_u32(f) : plen;
    /* Header and payload in one buffer, split over 1-3 descriptors. */
    unsigned slot = (*next_tx)++ % 8, total = sizeof(h) + plen;
    uint8_t *buf = ram + TX_BUFS + slot * 0x400;
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), payload, plen);
    unsigned parts = fz_u8(f) % 3 + 1, at = 0, first = slot * 2 % QSIZE;
    for (unsigned p = 0; p < parts; p++) {
        unsigned n = p + 1 == parts ? total - at : fz_below(f, total - at + 1);
        struct virtq_desc *d = desc(VSOCK_QUEUE_TX, (first + p) % QSIZE);
        *d = (struct virtq_desc){RAM_GPA + TX_BUFS + slot * 0x400 + at, n,
                                 (uint16_t)(p + 1 < parts ? VIRTQ_DESC_F_NEXT : 0),
                                 (uint16_t)((first + p + 1) % QSIZE)};
        at += n;
    }
    publish(VSOCK_QUEUE_TX, (uint16_t)first);
    vsock_mmio_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, VSOCK_QUEUE_TX, 4);
    wait_tx(dev);
}

/* Host programs on the listener: accept, write, close. */
static int conns[4] = {-1, -1, -1, -1};

static void op_host(struct fz *f)
{
    unsigned k = fz_u8(f) % 4;
    uint8_t how = fz_u8(f) % 3;
    if (how == 0 && conns[k] < 0) {
        conns[k] = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } else if (how == 1 && conns[k] >= 0) {
        uint8_t buf[64];
        unsigned n = fz_below(f, sizeof(buf) + 1);
        fz_bytes(f, buf, n);
        if (send(conns[k], buf, n, MSG_NOSIGNAL) < 0) {
            /* the device closed it: fine (and no SIGPIPE) */
        }
        ssize_t r = read(conns[k], buf, sizeof(buf));
        (void)r;
    } else if (conns[k] >= 0) {
        close(conns[k]);
        conns[k] = -1;
    }
}

static void op_mmio(struct vsock *dev, struct fz *f)
{
    uint32_t off = (fz_u8(f) & 0x7f) * 4;
    if (fz_u8(f) & 1) {
        vsock_mmio_read(dev, off, 4);
        return;
    }
    vsock_mmio_write(dev, off, fz_u8(f) & 0x80 ? fz_u32(f) : fz_u8(f) & 0xf, 4);
    if (off >= VIRTIO_MMIO_QUEUE_SEL && off != VIRTIO_MMIO_QUEUE_NOTIFY &&
        off != VIRTIO_MMIO_INTERRUPT_ACK)
        rx_unchecked = true;
}

/* The guest rewrites its transmit rings and buffers at any time (not the receive side and the
 * used rings, which check_rx reads as the device's output). */
static void op_guest(struct fz *f)
{
    uint16_t at = fz_u16(f) % RAM_SIZE;
    unsigned n = fz_u8(f) % 16;
    for (unsigned k = 0; k < n && at + k < RAM_SIZE; k++) {
        unsigned a = at + k, q = a / 0x1000;
        bool tx_side = (q == VSOCK_QUEUE_TX || q == VSOCK_QUEUE_EVENT) && a % 0x1000 < Q_USED;
        uint8_t v = fz_u8(f);
        if (tx_side || a >= TX_BUFS)
            ram[a] = v;
    }
}

static struct sockaddr_un listener_addr = {.sun_family = AF_UNIX};

static char sock_dir[] = "/tmp/fuzz_vsock.XXXXXX"; /* owner-only (mkdtemp): the owner rules */

static void remove_listener(void)
{
    unlink(listener_addr.sun_path);
    rmdir(sock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FZ_CHECK(mkdtemp(sock_dir) != NULL);
    snprintf(sock_path, sizeof(sock_path), "%s/vm", sock_dir);
    struct sockaddr_un *sa = &listener_addr;
    snprintf(sa->sun_path, sizeof(sa->sun_path), "%s_%u", sock_path, HOST_PORT);
    unlink(sa->sun_path);
    atexit(remove_listener);
    listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FZ_CHECK(listener >= 0);
    FZ_CHECK(bind(listener, (struct sockaddr *)sa, sizeof(*sa)) == 0);
    FZ_CHECK(listen(listener, 16) == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size, 0};
    ram = calloc(1, RAM_SIZE);
    FZ_CHECK(ram);
    rx_seen = 0;
    rx_unchecked = false;
    struct vsock_config cfg = {
        .guest_cid = GUEST_CID,
        .socket_path = sock_path,
        .notify_event = OpenWhpCreateEvent(FALSE, FALSE),
        .interrupt_event = OpenWhpCreateEvent(FALSE, FALSE),
        .mem = {gpa_to_hva, NULL},
    };
    struct vsock *dev = vsock_create(&cfg);
    FZ_CHECK(dev);
    setup_driver(dev);
    unsigned next_tx = 0;
    for (unsigned n = 0; n < 32 && fz_more(&f); n++) {
        switch (fz_u8(&f) % 8) {
        case 0: case 1: case 2: case 3:
            op_packet(dev, &f, &next_tx);
            break;
        case 4:
        case 5:
            op_host(&f);
            sleep_us(200); /* let the worker see the host side */
            break;
        case 6:
            op_mmio(dev, &f);
            break;
        default:
            op_guest(&f);
        }
        check_rx();
    }
    vsock_destroy(dev);
    for (unsigned k = 0; k < 4; k++)
        if (conns[k] >= 0) {
            close(conns[k]);
            conns[k] = -1;
        }
    /* Connections the device made but nobody accepted. */
    for (int fd; (fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
        close(fd);
    OpenWhpCloseEvent(cfg.notify_event);
    OpenWhpCloseEvent(cfg.interrupt_event);
    free(ram);
    return 0;
}
