/* Unit tests of the virtio pieces with a plain buffer as guest RAM (no KVM): split virtqueues
 * against hostile rings (bad sizes and addresses, index jumps, loops, indirect and misordered
 * descriptors, memory outside RAM), the virtio-mmio register model (negotiation, queue setup,
 * NEEDS_RESET, reset, access sizes), the hybrid CONNECT line parser, and the vsock device
 * driven by a fake driver: refused requests, packets for unknown connections, and a malformed
 * ring that stops the device. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <openwhp/hvsocket.h>

#include "virtio_mmio.h"
#include "virtqueue.h"
#include "vsock.h"
#include "vsock_proto.h"

#include "check.h"

#define RAM_SIZE (1u << 20)
static uint8_t *ram, *retired_ram; /* guest RAM now, and before remap_ram */
/* One more page of guest RAM right after ram[], backed by userfaultfd: the device's access to it
 * waits until the test resolves the fault. */
#define SLOW_GPA RAM_SIZE
#define SLOW_SIZE 4096u /* a page */
static uint8_t *slow_page;

static void *fake_gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
    (void)ctx;
    if (slow_page && gpa >= SLOW_GPA && gpa - SLOW_GPA < SLOW_SIZE && len <= SLOW_SIZE - (gpa - SLOW_GPA))
        return slow_page + (gpa - SLOW_GPA);
    if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
        return NULL;
    return __atomic_load_n(&ram, __ATOMIC_ACQUIRE) + gpa; /* the device's threads call this */
}

/* What a VMM remapping guest RAM does: the same contents in new host memory. The old memory
 * stays allocated (and stale) so that a device still using it is seen, not a crash. */
static void remap_ram(void)
{
    uint8_t *now = malloc(RAM_SIZE);
    memcpy(now, ram, RAM_SIZE);
    free(retired_ram);
    retired_ram = ram;
    __atomic_store_n(&ram, now, __ATOMIC_RELEASE);
}

static const struct virtq_mem mem = {fake_gpa_to_hva, NULL};

/* Ring layout used below: descriptors at 0x1000, avail at 0x2000, used at 0x3000. */
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define QN 8

static struct virtq_desc *desc(unsigned i) { return (struct virtq_desc *)(ram + DESC) + i; }
static uint16_t *avail(void) { return (uint16_t *)(ram + AVAIL); }
static uint32_t *used_ring(void) { return (uint32_t *)(ram + USED + 4); }
static uint16_t used_idx(void) { return ((uint16_t *)(ram + USED))[1]; }

static void make_queue(struct virtq *q)
{
    memset(ram, 0, 0x4000);
    virtq_reset(q);
    q->num = QN;
    q->desc_gpa = DESC;
    q->avail_gpa = AVAIL;
    q->used_gpa = USED;
}

static void offer(uint16_t head)
{
    avail()[2 + avail()[1] % QN] = head;
    avail()[1]++;
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    *desc(i) = (struct virtq_desc){addr, len, flags, next};
}

static void test_virtq_enable(void)
{
    struct virtq q;
    make_queue(&q);
    CHECK(virtq_enable(&q, &mem) && q.enabled);
    make_queue(&q);
    q.num = 6; /* not a power of two */
    CHECK(!virtq_enable(&q, &mem));
    q.num = 512; /* over the maximum */
    CHECK(!virtq_enable(&q, &mem));
    q.num = 0;
    CHECK(!virtq_enable(&q, &mem));
    make_queue(&q);
    q.desc_gpa = DESC + 8; /* misaligned */
    CHECK(!virtq_enable(&q, &mem));
    make_queue(&q);
    q.used_gpa = RAM_SIZE - 16; /* runs past RAM */
    CHECK(!virtq_enable(&q, &mem));
    make_queue(&q);
    q.avail_gpa = ~0ull - 1; /* wraps around */
    CHECK(!virtq_enable(&q, &mem));
    CHECK(!virtq_has_avail(&q));
}

static void test_virtq_chains(void)
{
    struct virtq q;
    struct virtq_chain c;
    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    CHECK(virtq_pop(&q, &c) == 0);

    /* A header split over two readable descriptors, then a writable one. */
    memcpy(ram + 0x5000, "0123456789", 10);
    memcpy(ram + 0x6000, "abcdef", 6);
    set_desc(3, 0x5000, 10, VIRTQ_DESC_F_NEXT, 5);
    set_desc(5, 0x6000, 6, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, 0x7000, 100, VIRTQ_DESC_F_WRITE, 0);
    offer(3);
    CHECK(virtq_has_avail(&q));
    CHECK(virtq_pop(&q, &c) == 1);
    CHECK(c.head == 3 && c.nread == 2 && c.nwrite == 1 && c.read_len == 16 && c.write_len == 100);
    char buf[32] = {0};
    CHECK(virtq_copy_from(&c, 8, buf, 5) == 5 && memcmp(buf, "89abc", 5) == 0);
    CHECK(virtq_copy_from(&c, 14, buf, 10) == 2); /* only 2 readable bytes left */
    CHECK(virtq_copy_to(&c, 98, "xyz", 3) == 2 && memcmp(ram + 0x7000 + 98, "xy", 2) == 0);
    struct iovec iov[4];
    CHECK(virtq_slice(&c, false, 4, 10, iov, 4) == 2 && iov[0].iov_len == 6 && iov[1].iov_len == 4);
    CHECK(virtq_slice(&c, true, 0, 1000, iov, 4) == 1 && iov[0].iov_len == 100);
    CHECK(virtq_push(&q, c.head, 42));
    CHECK(used_idx() == 1 && used_ring()[0] == 3 && used_ring()[1] == 42);
    CHECK(virtq_should_interrupt(&q));
    CHECK(virtq_want_notify(&q, false));
    CHECK(((uint16_t *)(ram + USED))[0] == VIRTQ_USED_F_NO_NOTIFY);
    CHECK(virtq_want_notify(&q, true));
    CHECK(((uint16_t *)(ram + USED))[0] == 0);
    avail()[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
    CHECK(!virtq_should_interrupt(&q));

    /* Unpop leaves the chain available. */
    set_desc(0, 0x5000, 4, 0, 0);
    offer(0);
    CHECK(virtq_pop(&q, &c) == 1);
    virtq_unpop(&q);
    CHECK(virtq_pop(&q, &c) == 1 && c.head == 0);
    CHECK(virtq_pop(&q, &c) == 0);
}

static void test_virtq_hostile(void)
{
    struct virtq q;
    struct virtq_chain c;

    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    avail()[1] = QN + 1; /* more entries than the ring has */
    CHECK(virtq_pop(&q, &c) == -1 && !virtq_has_avail(&q));

    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    offer(QN); /* head out of range */
    CHECK(virtq_pop(&q, &c) == -1);

    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    set_desc(2, 0x5000, 4, VIRTQ_DESC_F_NEXT, 2); /* a loop */
    offer(2);
    CHECK(virtq_pop(&q, &c) == -1);

    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    set_desc(2, 0x5000, 4, VIRTQ_DESC_F_NEXT, QN); /* next out of range */
    offer(2);
    CHECK(virtq_pop(&q, &c) == -1);

    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    set_desc(2, 0x5000, 16, VIRTQ_DESC_F_INDIRECT, 0); /* not negotiated */
    offer(2);
    CHECK(virtq_pop(&q, &c) == -1);

    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    set_desc(2, 0x5000, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
    set_desc(3, 0x6000, 4, 0, 0); /* readable after writable */
    offer(2);
    CHECK(virtq_pop(&q, &c) == -1);

    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    set_desc(2, RAM_SIZE - 2, 4, 0, 0); /* buffer runs past RAM */
    offer(2);
    CHECK(virtq_pop(&q, &c) == -1);
    set_desc(2, ~0ull - 1, 4, 0, 0); /* address wraps */
    CHECK(virtq_pop(&q, &c) == -1);

    /* Zero-length descriptors are skipped, and a chain as long as the ring is fine. */
    make_queue(&q);
    CHECK(virtq_enable(&q, &mem));
    for (unsigned i = 0; i < QN; i++)
        set_desc(i, 0x5000 + i, i % 2, i + 1 < QN ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    offer(0);
    CHECK(virtq_pop(&q, &c) == 1 && c.nread == QN / 2 && c.read_len == QN / 2);
}

static void test_mmio(void)
{
    struct virtio_mmio t;
    uint64_t cfg = 0x1122334455667788ull;
    memset(ram, 0, 0x4000);
    virtio_mmio_init(&t, 19, 1, 3, &cfg, sizeof(cfg), &mem);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_MAGIC, 4) == VIRTIO_MMIO_MAGIC_VALUE);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_VERSION, 4) == 2);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_DEVICE_ID, 4) == 19);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_MAGIC, 2) == ~0ull); /* registers are 32-bit */
    CHECK(virtio_mmio_read(&t, 0x0ec, 4) == 0xFFFFFFFFu);      /* nothing there */
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG, 8) == cfg);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG + 4, 4) == 0x11223344u);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG + 6, 4) == ~0ull); /* runs past the config */
    CHECK(virtio_mmio_write(&t, VIRTIO_MMIO_CONFIG, 0, 4) == 0 &&
          virtio_mmio_read(&t, VIRTIO_MMIO_CONFIG, 8) == cfg); /* read-only */
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_DEVICE_FEATURES, 4) == 1);
    virtio_mmio_write(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_DEVICE_FEATURES, 4) == 1); /* VERSION_1 */
    virtio_mmio_write(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_DEVICE_FEATURES, 4) == 0);

    /* A legacy driver (no VERSION_1) does not get FEATURES_OK; nor do unknown features. */
    virtio_mmio_write(&t, VIRTIO_MMIO_DRIVER_FEATURES, 1, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FEATURES_OK | 3, 4);
    CHECK(!(virtio_mmio_read(&t, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_FEATURES_OK));
    CHECK(virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, 0, 4) == VIRTIO_MMIO_EV_RESET);
    virtio_mmio_write(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_DRIVER_FEATURES, 3, 4); /* bit 33 was not offered */
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FEATURES_OK | 3, 4);
    CHECK(!(virtio_mmio_read(&t, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_FEATURES_OK));
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, 0, 4);
    /* Queues cannot go live before FEATURES_OK. */
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_READY, 1, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_QUEUE_READY, 4) == 0);
    virtio_mmio_write(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_DRIVER_FEATURES, 1, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FEATURES_OK | 3, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_FEATURES_OK);
    /* Feature writes after FEATURES_OK change nothing. */
    virtio_mmio_write(&t, VIRTIO_MMIO_DRIVER_FEATURES, 0, 4);
    CHECK(t.driver_features == VIRTIO_F_VERSION_1);

    /* Queue setup: a queue past nqueues has no registers. */
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_SEL, 5, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_QUEUE_NUM_MAX, 4) == 0);
    CHECK(virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_READY, 1, 4) == 0);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_SEL, 1, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_QUEUE_NUM_MAX, 4) == VIRTQ_MAX_SIZE);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_NUM, QN, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 1, 4); /* 4 GiB up: outside RAM */
    CHECK(virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_READY, 1, 4) == 0);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_NEEDS_RESET);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_INTERRUPT_STATUS, 4) & VIRTIO_INT_CONFIG);
    virtio_mmio_write(&t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_CONFIG, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_INTERRUPT_STATUS, 4) == 0);
    /* NEEDS_RESET sticks until a reset; the driver cannot clear it. */
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, 0x0F, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_NEEDS_RESET);
    CHECK(!virtio_mmio_running(&t));
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, 0, 4);
    CHECK(virtio_mmio_read(&t, VIRTIO_MMIO_STATUS, 4) == 0);

    /* A good queue; its registers freeze while it is live. */
    virtio_mmio_write(&t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_DRIVER_FEATURES, 1, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FEATURES_OK | 3, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_SEL, 1, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_NUM, QN, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED, 4);
    CHECK(virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_READY, 1, 4) == VIRTIO_MMIO_EV_QUEUE_READY);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x8000, 4);
    virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_NUM, 2, 4);
    CHECK(t.queues[1].desc_gpa == DESC && t.queues[1].num == QN);
    CHECK(virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, 0x0F, 4) == VIRTIO_MMIO_EV_DRIVER_OK);
    CHECK(virtio_mmio_running(&t));
    CHECK(virtio_mmio_write(&t, VIRTIO_MMIO_QUEUE_NOTIFY, 1, 4) == VIRTIO_MMIO_EV_NOTIFY);
    CHECK(virtio_mmio_write(&t, VIRTIO_MMIO_STATUS, 0, 4) == VIRTIO_MMIO_EV_RESET && !t.queues[1].enabled);
}

static void test_parse_connect(void)
{
    uint32_t port = 0;
    CHECK(vsock_parse_connect("CONNECT 5000", &port) && port == 5000);
    CHECK(vsock_parse_connect("CONNECT 4294967295", &port) && port == 0xFFFFFFFFu);
    CHECK(!vsock_parse_connect("CONNECT 4294967296", &port));
    CHECK(!vsock_parse_connect("CONNECT -1", &port));
    CHECK(!vsock_parse_connect("CONNECT ", &port));
    CHECK(!vsock_parse_connect("CONNECT 12ab", &port));
    CHECK(!vsock_parse_connect("connect 12", &port));
    CHECK(!vsock_parse_connect("CONNECT  12", &port));
    CHECK(!vsock_parse_connect("", &port));
    CHECK(vsock_parse_connect("CONNECT 00002710-facb-11e6-bd58-64006a7986d3", &port) && port == 10000);
    CHECK(vsock_parse_connect("CONNECT {00002710-FACB-11E6-BD58-64006A7986D3}", &port) && port == 10000);
    CHECK(!vsock_parse_connect("CONNECT a42e7cda-d03f-480c-9cc2-a4de20abb878", &port)); /* not vsock */
}

/* ---- the device with a fake driver ---- */

#define RX_DESC 0x10000
#define RX_AVAIL 0x11000
#define RX_USED 0x12000
#define TX_DESC 0x13000
#define TX_AVAIL 0x14000
#define TX_USED 0x15000
#define RX_BUFS 0x20000 /* 8 x 4 KiB */
#define TX_BUFS 0x30000

static struct vsock *dev;
static HANDLE notify_ev, irq_ev;
static uint16_t tx_avail_idx;

static void reg(uint32_t off, uint32_t v) { vsock_mmio_write(dev, off, v, 4); }

static void setup_queue(unsigned q, uint64_t d, uint64_t a, uint64_t u)
{
    reg(VIRTIO_MMIO_QUEUE_SEL, q);
    reg(VIRTIO_MMIO_QUEUE_NUM, QN);
    reg(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)d);
    reg(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)a);
    reg(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)u);
    reg(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void driver_start(void)
{
    memset(ram, 0, RAM_SIZE);
    reg(VIRTIO_MMIO_STATUS, 0);
    reg(VIRTIO_MMIO_STATUS, 3);
    reg(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg(VIRTIO_MMIO_DRIVER_FEATURES, 1);
    reg(VIRTIO_MMIO_STATUS, 3 | VIRTIO_STATUS_FEATURES_OK);
    setup_queue(VSOCK_QUEUE_RX, RX_DESC, RX_AVAIL, RX_USED);
    setup_queue(VSOCK_QUEUE_TX, TX_DESC, TX_AVAIL, TX_USED);
    struct virtq_desc *rd = (struct virtq_desc *)(ram + RX_DESC);
    uint16_t *ra = (uint16_t *)(ram + RX_AVAIL);
    for (uint16_t i = 0; i < QN; i++) {
        rd[i] = (struct virtq_desc){RX_BUFS + i * 4096u, 4096, VIRTQ_DESC_F_WRITE, 0};
        ra[2 + i] = i;
    }
    ra[1] = QN;
    tx_avail_idx = 0;
    reg(VIRTIO_MMIO_STATUS, 0x0F);
}

/* Sends one packet of the fake guest on TX descriptor `slot`. */
static void driver_send(unsigned slot, const struct vsock_hdr *h, uint32_t len)
{
    struct virtq_desc *td = (struct virtq_desc *)(ram + TX_DESC);
    uint16_t *ta = (uint16_t *)(ram + TX_AVAIL);
    memcpy(ram + TX_BUFS + slot * 4096, h, sizeof(*h));
    td[slot] = (struct virtq_desc){TX_BUFS + slot * 4096u, len, 0, 0};
    ta[2 + tx_avail_idx % QN] = (uint16_t)slot;
    __atomic_store_n(&ta[1], ++tx_avail_idx, __ATOMIC_RELEASE);
    OpenWhpSetEvent(notify_ev); /* what the doorbell would do */
}

/* Waits for the device's interrupt and for `n` packets in the RX used ring. */
static bool wait_rx(uint16_t n)
{
    for (int i = 0; i < 200; i++) {
        if (__atomic_load_n(&((uint16_t *)(ram + RX_USED))[1], __ATOMIC_ACQUIRE) >= n)
            return OpenWhpWaitForEvent(irq_ev, 1000) == WAIT_OBJECT_0; /* and it interrupted */
        usleep(5000);
    }
    return false;
}

static struct vsock_hdr rx_hdr(unsigned i)
{
    uint32_t id = ((uint32_t *)(ram + RX_USED + 4))[2 * i];
    struct vsock_hdr h;
    memcpy(&h, ram + RX_BUFS + id * 4096, sizeof(h));
    return h;
}

static struct vsock_hdr guest_hdr(uint16_t op, uint32_t src, uint32_t dst)
{
    struct vsock_hdr h = {.src_cid = 3, .dst_cid = VSOCK_CID_HOST, .src_port = src, .dst_port = dst,
                          .type = VSOCK_TYPE_STREAM, .op = op, .buf_alloc = 65536};
    return h;
}

static void test_device(void)
{
    char dir[] = "/tmp/openwhp-unit-vsock-XXXXXX", path[64];
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    snprintf(path, sizeof(path), "%s/vm", dir);
    notify_ev = OpenWhpCreateEvent(FALSE, FALSE);
    irq_ev = OpenWhpCreateEvent(FALSE, FALSE);
    struct vsock_config cfg = {.guest_cid = 3, .socket_path = path, .max_connections = 2,
                               .notify_event = notify_ev, .interrupt_event = irq_ev, .mem = mem};
    struct vsock_config bad = cfg;
    bad.guest_cid = 2;
    CHECK(!vsock_create(&bad));
    bad = cfg;
    bad.notify_event = NULL;
    CHECK(!vsock_create(&bad));
    dev = vsock_create(&cfg);
    CHECK(dev != NULL);
    if (!dev)
        return;
    CHECK(access(path, F_OK) == 0);
    CHECK(vsock_mmio_read(dev, VIRTIO_MMIO_DEVICE_ID, 4) == VIRTIO_ID_VSOCK);
    CHECK(vsock_mmio_read(dev, VIRTIO_MMIO_CONFIG, 8) == 3);
    driver_start();

    /* A request to a port nobody listens on is reset. */
    struct vsock_hdr h = guest_hdr(VSOCK_OP_REQUEST, 1234, 77);
    driver_send(0, &h, sizeof(h));
    CHECK(wait_rx(1));
    struct vsock_hdr r = rx_hdr(0);
    CHECK(r.op == VSOCK_OP_RST && r.src_port == 77 && r.dst_port == 1234 && r.dst_cid == 3);
    /* Data for a connection that does not exist is reset too. */
    h = guest_hdr(VSOCK_OP_RW, 1234, 78);
    h.len = 4;
    driver_send(1, &h, sizeof(h) + 4);
    CHECK(wait_rx(2) && rx_hdr(1).op == VSOCK_OP_RST);
    /* A RW whose length exceeds the buffer resets (no connection here, so RST as well). */
    h.len = 100000;
    driver_send(2, &h, sizeof(h));
    CHECK(wait_rx(3) && rx_hdr(2).op == VSOCK_OP_RST);
    /* Packets for another CID or a short header are dropped without a reply. */
    h = guest_hdr(VSOCK_OP_REQUEST, 1, 2);
    h.src_cid = 9;
    driver_send(3, &h, sizeof(h));
    driver_send(4, &h, 10);
    usleep(50000);
    CHECK(__atomic_load_n(&((uint16_t *)(ram + RX_USED))[1], __ATOMIC_ACQUIRE) == 3);
    CHECK(__atomic_load_n(&((uint16_t *)(ram + TX_USED))[1], __ATOMIC_ACQUIRE) == 5); /* all TX buffers back */

    /* A malformed TX ring stops the device: NEEDS_RESET, nothing more is taken. */
    uint16_t *ta = (uint16_t *)(ram + TX_AVAIL);
    ta[2 + tx_avail_idx % QN] = QN + 3;
    __atomic_store_n(&ta[1], ++tx_avail_idx, __ATOMIC_RELEASE);
    OpenWhpSetEvent(notify_ev);
    for (int i = 0; i < 100 && !(vsock_mmio_read(dev, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_NEEDS_RESET); i++)
        usleep(5000);
    CHECK(vsock_mmio_read(dev, VIRTIO_MMIO_STATUS, 4) & VIRTIO_STATUS_NEEDS_RESET);
    /* After a reset the device works again. */
    driver_start();
    h = guest_hdr(VSOCK_OP_REQUEST, 1234, 79);
    driver_send(0, &h, sizeof(h));
    CHECK(wait_rx(1) && rx_hdr(0).op == VSOCK_OP_RST);

    /* Guest RAM remapped under the running device: the next packet is found in, and answered
     * into, the new memory (cached ring pointers would wait on the old memory forever). */
    remap_ram();
    h = guest_hdr(VSOCK_OP_REQUEST, 1234, 79);
    driver_send(1, &h, sizeof(h));
    CHECK(wait_rx(2) && rx_hdr(1).op == VSOCK_OP_RST);
    CHECK_EQ(((uint16_t *)(retired_ram + RX_USED))[1], 1); /* nothing more in the old memory */

    /* Connections up to the limit (2 here) are accepted, the next one is reset. */
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_80", path);
    const char *lpath = sa.sun_path;
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 8) == 0);
    for (unsigned i = 0; i < 3; i++) {
        h = guest_hdr(VSOCK_OP_REQUEST, 2000 + i, 80);
        driver_send(2 + i, &h, sizeof(h));
        CHECK(wait_rx((uint16_t)(3 + i)));
        r = rx_hdr(2 + i);
        CHECK(r.op == (i < 2 ? VSOCK_OP_RESPONSE : VSOCK_OP_RST) && r.dst_port == 2000 + i);
    }
    close(lfd);
    unlink(lpath);

    struct vsock_stats st;
    vsock_get_stats(dev, &st);
    CHECK(st.tx_packets >= 4 && st.rx_packets >= 4 && st.interrupts >= 1);
    CHECK(st.refused_over_limit == 1 && st.connections == 2);
    vsock_destroy(dev);
    CHECK(access(path, F_OK) != 0); /* the hybrid socket is gone */
    OpenWhpCloseEvent(notify_ev);
    OpenWhpCloseEvent(irq_ev);
    rmdir(dir);
}

#define WATCHDOG_MS 5000 /* only a call that never returns reaches it */
/* How long a reset is given to (wrongly) complete while the worker is provably mid-chain: a
 * correct device never does, so this cannot fail spuriously; a shorter wait only misses more. */
#define RESET_GRACE_MS 200

/* A page registered with a new userfaultfd (missing pages fault to the test); the fd or -1. */
static int slow_page_create(void)
{
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
    struct uffdio_api api = {.api = UFFD_API};
    if (fd < 0 || ioctl(fd, UFFDIO_API, &api) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    void *p = mmap(NULL, SLOW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct uffdio_register reg = {.range = {(uintptr_t)p, SLOW_SIZE}, .mode = UFFDIO_REGISTER_MODE_MISSING};
    if (p == MAP_FAILED || ioctl(fd, UFFDIO_REGISTER, &reg) < 0) {
        if (p != MAP_FAILED)
            munmap(p, SLOW_SIZE);
        close(fd);
        return -1;
    }
    slow_page = p;
    return fd;
}

struct reg_read {
    HANDLE done;
    uint64_t value;
};

static void *read_status(void *opaque)
{
    struct reg_read *r = opaque;
    r->value = vsock_mmio_read(dev, VIRTIO_MMIO_STATUS, 4);
    OpenWhpSetEvent(r->done);
    return NULL;
}

static void *reset_device(void *opaque)
{
    struct reg_read *r = opaque;
    vsock_mmio_write(dev, VIRTIO_MMIO_STATUS, 0, 4);
    OpenWhpSetEvent(r->done);
    return NULL;
}

/* The guest sends SLOW_SIZE bytes from the slow page on an established connection; the worker
 * copies them inside sendmsg, which faults to the test and waits there. A register read made
 * then must complete: the device lock is not held across socket I/O. */
static void test_register_read_during_io(void)
{
    int uffd = slow_page_create();
    if (uffd < 0) {
        printf("SKIP register read during I/O: no userfaultfd (%s)\n", strerror(errno));
        return;
    }
    char dir[] = "/tmp/openwhp-unit-vsock-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/vm", dir);
    notify_ev = OpenWhpCreateEvent(FALSE, FALSE);
    irq_ev = OpenWhpCreateEvent(FALSE, FALSE);
    struct vsock_config cfg = {.guest_cid = 3, .socket_path = path, .notify_event = notify_ev,
                               .interrupt_event = irq_ev, .mem = mem};
    dev = vsock_create(&cfg);
    CHECK(dev != NULL);
    driver_start();
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_82", path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 1) == 0);
    struct vsock_hdr h = guest_hdr(VSOCK_OP_REQUEST, 3000, 82);
    driver_send(0, &h, sizeof(h));
    CHECK(wait_rx(1) && rx_hdr(0).op == VSOCK_OP_RESPONSE);
    int hfd = accept(lfd, NULL, NULL);
    CHECK(hfd >= 0);

    /* RW: the header in TX descriptor 1, the payload (descriptor 2) on the slow page. */
    h = guest_hdr(VSOCK_OP_RW, 3000, 82);
    h.len = SLOW_SIZE;
    memcpy(ram + TX_BUFS + 4096, &h, sizeof(h));
    struct virtq_desc *td = (struct virtq_desc *)(ram + TX_DESC);
    td[1] = (struct virtq_desc){TX_BUFS + 4096, sizeof(h), VIRTQ_DESC_F_NEXT, 2};
    td[2] = (struct virtq_desc){SLOW_GPA, SLOW_SIZE, 0, 0};
    uint16_t *ta = (uint16_t *)(ram + TX_AVAIL);
    ta[2 + tx_avail_idx % QN] = 1;
    __atomic_store_n(&ta[1], ++tx_avail_idx, __ATOMIC_RELEASE);
    OpenWhpSetEvent(notify_ev);

    /* The fault proves the worker is inside sendmsg (nothing else reads the payload). */
    struct pollfd pfd = {.fd = uffd, .events = POLLIN};
    struct uffd_msg msg;
    CHECK(poll(&pfd, 1, WATCHDOG_MS) == 1 && read(uffd, &msg, sizeof(msg)) == sizeof(msg));
    CHECK(msg.event == UFFD_EVENT_PAGEFAULT && (msg.arg.pagefault.address & ~(uint64_t)(SLOW_SIZE - 1)) == (uintptr_t)slow_page);
    struct reg_read r = {OpenWhpCreateEvent(FALSE, FALSE), 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, read_status, &r) == 0);
    bool returned = OpenWhpWaitForEvent(r.done, WATCHDOG_MS) == WAIT_OBJECT_0;
    CHECK(returned);
    CHECK(!returned || (r.value & VIRTIO_STATUS_DRIVER_OK));
    /* A reset must wait for the chain in flight (the driver may free its buffers afterwards):
     * it cannot complete while the worker is still inside sendmsg. */
    struct reg_read rs = {OpenWhpCreateEvent(FALSE, FALSE), 0};
    if (returned) {
        pthread_join(t, NULL);
        CHECK(pthread_create(&t, NULL, reset_device, &rs) == 0);
        CHECK(OpenWhpWaitForEvent(rs.done, RESET_GRACE_MS) == WAIT_TIMEOUT);
    }

    /* Let the copy finish: the host gets the page. */
    static uint8_t pattern[SLOW_SIZE];
    for (unsigned i = 0; i < SLOW_SIZE; i++)
        pattern[i] = (uint8_t)(i * 7 + 1);
    struct uffdio_copy copy = {.dst = (uintptr_t)slow_page, .src = (uintptr_t)pattern, .len = SLOW_SIZE};
    CHECK(ioctl(uffd, UFFDIO_COPY, &copy) == 0);
    CHECK(!returned || OpenWhpWaitForEvent(rs.done, WATCHDOG_MS) == WAIT_OBJECT_0); /* the reset completes */
    pthread_join(t, NULL);
    OpenWhpCloseEvent(rs.done);
    static uint8_t got[SLOW_SIZE];
    size_t n = 0;
    while (n < SLOW_SIZE) {
        ssize_t k = read(hfd, got + n, SLOW_SIZE - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    CHECK(n == SLOW_SIZE && memcmp(got, pattern, SLOW_SIZE) == 0);

    close(hfd);
    close(lfd);
    unlink(sa.sun_path);
    vsock_destroy(dev);
    OpenWhpCloseEvent(r.done);
    OpenWhpCloseEvent(notify_ev);
    OpenWhpCloseEvent(irq_ev);
    rmdir(dir);
    munmap(slow_page, SLOW_SIZE);
    slow_page = NULL;
    close(uffd);
}

int main(void)
{
    ram = calloc(1, RAM_SIZE);
    test_virtq_enable();
    test_virtq_chains();
    test_virtq_hostile();
    test_mmio();
    test_parse_connect();
    test_device();
    test_register_read_during_io();
    free(ram);
    free(retired_ram);
    return check_report();
}
