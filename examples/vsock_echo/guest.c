/* vsock_echo's guest: a freestanding 64-bit program (no libc) with the smallest virtio-mmio
 * vsock driver that accepts one stream connection on ECHO_PORT, sends back every byte it
 * receives and closes when the host is done. The host enters it in long mode with the first GiB
 * identity-mapped; it sets up its own IDT and x2APIC and sleeps in `hlt` until the device's
 * interrupt. Only plain integer instructions: guest code is slow where KVM emulates it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <devices/virtio_mmio.h> /* register offsets and status bits */
#include <devices/virtqueue.h>   /* struct virtq_desc and its flags */
#include <devices/vsock_proto.h> /* the packet header and operations */

#include "layout.h"

#define QUEUE_SIZE 8          /* entries of each virtqueue (a power of two) */
#define RX_BUF_SIZE 4096      /* one receive buffer: header and payload */
#define TX_BUF_SIZE 4096      /* one transmit buffer: header and payload */
#define RX_CREDIT (64u << 10) /* the connection's receive ring: the credit we grant the device */
#define SPURIOUS_VECTOR 0xFF
#define VIRTIO_MMIO_VERSION_MODERN 2 /* the virtio 1.x register layout */

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_EXTD (1u << 10) /* x2APIC mode */
#define APIC_BASE_ENABLE (1u << 11)
#define MSR_X2APIC_EOI 0x80B
#define MSR_X2APIC_SVR 0x80F
#define APIC_SVR_ENABLE 0x100
#define CODE_SELECTOR 0x08     /* the host's GDT */
#define IDT_INTERRUPT_GATE 0x8E /* present, DPL 0, 64-bit interrupt gate */

#define STR(x) STR_(x)
#define STR_(x) #x

/* Entry (the image's first byte, see guest.lds.S) and the interrupt handlers. The device's
 * interrupt is an edge delivered through a WHP trigger: there is no level to lower, so the
 * handler only ends it at the APIC; InterruptStatus/InterruptACK would cost two exits. */
__asm__(".section .text.entry, \"ax\"\n"
        ".globl guest_entry\n"
        "guest_entry:\n"
        "    lea stack_top(%rip), %rsp\n"
        "    call guest_main\n"
        ".text\n"
        "irq_entry:\n"
        "    push %rax\n"
        "    push %rcx\n"
        "    push %rdx\n"
        "    mov $" STR(MSR_X2APIC_EOI) ", %ecx\n"
        "    xor %eax, %eax\n"
        "    xor %edx, %edx\n"
        "    wrmsr\n"
        "    pop %rdx\n"
        "    pop %rcx\n"
        "    pop %rax\n"
        "    iretq\n"
        "spurious_entry:\n"
        "    iretq\n");
void irq_entry(void);
void spurious_entry(void);
void guest_main(void) __attribute__((noreturn));

/* ---- CPU and device access ---- */

static void barrier(void) { __asm__ volatile("" ::: "memory"); }

static void report(uint32_t value) { __asm__ volatile("outl %0, %w1" ::"a"(value), "Nd"(REPORT_PORT)); }

static void __attribute__((noreturn)) halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* A failed check tells the host its line and stops. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            report(REPORT_FAILED | __LINE__);                                                      \
            halt_forever();                                                                        \
        }                                                                                          \
    } while (0)

static void wrmsr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"(value & 0xFFFFFFFFu), "d"(value >> 32) : "memory");
}

static uint64_t rdmsr(uint32_t msr)
{
    uint64_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return hi << 32 | lo;
}

static uint32_t reg_read(uint32_t offset)
{
    return *(volatile uint32_t *)(uintptr_t)(VSOCK_MMIO_GPA + offset);
}

static void reg_write(uint32_t offset, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)(VSOCK_MMIO_GPA + offset) = value;
}

/* The compiler may call these even in a freestanding program (struct copies). Word by word:
 * string instructions may run in KVM's emulator here. */
typedef uint64_t __attribute__((may_alias)) word;

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (; n >= sizeof(word); n -= sizeof(word), d += sizeof(word), s += sizeof(word))
        *(word *)d = *(const word *)s;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

/* ---- interrupts: an IDT with our two vectors, the x2APIC software-enabled ---- */

struct idt_gate {
    uint16_t offset_low, selector;
    uint8_t ist, type;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
};

static struct idt_gate idt[256];

static void set_gate(unsigned vector, void (*handler)(void))
{
    uint64_t a = (uint64_t)(uintptr_t)handler;
    idt[vector] = (struct idt_gate){(uint16_t)a, CODE_SELECTOR, 0, IDT_INTERRUPT_GATE, (uint16_t)(a >> 16),
                                    (uint32_t)(a >> 32), 0};
}

static void interrupts_init(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    set_gate(VSOCK_IRQ_VECTOR, irq_entry);
    set_gate(SPURIOUS_VECTOR, spurious_entry);
    __asm__ volatile("lidt %0" ::"m"(idtr));
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_EXTD);
    wrmsr(MSR_X2APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
}

/* Interrupts stay off except here: one that came while we worked is still pending and ends the
 * `hlt` at once (and `sti` delays interrupts by one instruction, so none is lost in between). */
static void wait_for_interrupt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }

/* ---- virtqueues (virtio 1.2, 2.7: split rings, no EVENT_IDX) ---- */

struct queue {
    struct virtq_desc desc[QUEUE_SIZE];
    struct {
        uint16_t flags, idx, ring[QUEUE_SIZE], used_event;
    } avail;
    struct {
        uint16_t flags, idx;
        struct {
            uint32_t id, len;
        } ring[QUEUE_SIZE];
        uint16_t avail_event;
    } used __attribute__((aligned(4)));
    uint16_t last_used; /* the next used entry to look at */
};

static struct queue rxq __attribute__((aligned(16))), txq __attribute__((aligned(16)));
static uint8_t rx_buf[QUEUE_SIZE][RX_BUF_SIZE], tx_buf[QUEUE_SIZE][TX_BUF_SIZE];
static uint16_t tx_free[QUEUE_SIZE]; /* transmit descriptors not in flight */
static unsigned tx_nfree;

static void queue_init(uint32_t index, struct queue *q)
{
    reg_write(VIRTIO_MMIO_QUEUE_SEL, index);
    CHECK(reg_read(VIRTIO_MMIO_QUEUE_NUM_MAX) >= QUEUE_SIZE);
    reg_write(VIRTIO_MMIO_QUEUE_NUM, QUEUE_SIZE);
    reg_write(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(uintptr_t)q->desc);
    reg_write(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    reg_write(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(uintptr_t)&q->avail);
    reg_write(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    reg_write(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(uintptr_t)&q->used);
    reg_write(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    reg_write(VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Makes descriptor id available to the device and tells it (a doorbell: no exit). */
static void queue_add(struct queue *q, uint32_t queue_index, uint16_t id)
{
    q->avail.ring[q->avail.idx % QUEUE_SIZE] = id;
    barrier();
    *(volatile uint16_t *)&q->avail.idx = (uint16_t)(q->avail.idx + 1);
    reg_write(VIRTIO_MMIO_QUEUE_NOTIFY, queue_index);
}

/* The next used entry, or false when the device has not returned one yet. */
static bool queue_next_used(struct queue *q, uint32_t *id, uint32_t *len)
{
    if (q->last_used == *(volatile uint16_t *)&q->used.idx)
        return false;
    barrier();
    *id = q->used.ring[q->last_used % QUEUE_SIZE].id;
    *len = q->used.ring[q->last_used % QUEUE_SIZE].len;
    q->last_used++;
    return true;
}

/* Virtio initialisation (3.1.1): reset, features, queues, receive buffers, DRIVER_OK. */
static void device_init(void)
{
    const uint32_t base = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
    CHECK(reg_read(VIRTIO_MMIO_MAGIC) == VIRTIO_MMIO_MAGIC_VALUE);
    CHECK(reg_read(VIRTIO_MMIO_VERSION) == VIRTIO_MMIO_VERSION_MODERN);
    CHECK(reg_read(VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_VSOCK);
    reg_write(VIRTIO_MMIO_STATUS, 0);
    reg_write(VIRTIO_MMIO_STATUS, base);
    reg_write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    CHECK(reg_read(VIRTIO_MMIO_DEVICE_FEATURES) & (uint32_t)(VIRTIO_F_VERSION_1 >> 32));
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(VIRTIO_F_VERSION_1 >> 32));
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    reg_write(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_VSOCK_F_STREAM);
    reg_write(VIRTIO_MMIO_STATUS, base | VIRTIO_STATUS_FEATURES_OK);
    CHECK(reg_read(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    CHECK(reg_read(VIRTIO_MMIO_CONFIG) == GUEST_CID); /* guest_cid, low half */
    queue_init(VSOCK_QUEUE_RX, &rxq);
    queue_init(VSOCK_QUEUE_TX, &txq);
    reg_write(VIRTIO_MMIO_STATUS, base | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    for (uint16_t i = 0; i < QUEUE_SIZE; i++) {
        rxq.desc[i] = (struct virtq_desc){(uint64_t)(uintptr_t)rx_buf[i], RX_BUF_SIZE, VIRTQ_DESC_F_WRITE, 0};
        queue_add(&rxq, VSOCK_QUEUE_RX, i);
        txq.desc[i] = (struct virtq_desc){(uint64_t)(uintptr_t)tx_buf[i], 0, 0, 0};
        tx_free[tx_nfree++] = i;
    }
}

/* ---- the connection ---- */

enum conn_state { CONN_LISTEN, CONN_OPEN, CONN_CLOSING, CONN_CLOSED };

static struct {
    enum conn_state state;
    uint32_t peer_port;
    uint32_t peer_buf_alloc, peer_fwd_cnt; /* the device's credit, from its last header */
    uint32_t tx_cnt;                       /* payload bytes we sent */
    uint32_t fwd_cnt;                      /* payload bytes we took out of the ring */
    uint32_t peer_shutdown;                /* VSOCK_SHUTDOWN_* the device sent */
    bool owe_response, owe_credit_update;  /* control packets to send */
    uint32_t head, len;                    /* the receive ring */
} conn;
static uint8_t ring[RX_CREDIT];

/* A reset for a packet that names no connection of ours; when one is already waiting for a
 * transmit buffer, later ones are dropped (the peer's connect then times out). */
static struct vsock_hdr stray_rst;
static bool owe_stray_rst;

static struct vsock_hdr conn_hdr(uint16_t op, uint32_t flags, uint32_t len)
{
    return (struct vsock_hdr){
        .src_cid = GUEST_CID,
        .dst_cid = VSOCK_CID_HOST,
        .src_port = ECHO_PORT,
        .dst_port = conn.peer_port,
        .len = len,
        .type = VSOCK_TYPE_STREAM,
        .op = op,
        .flags = flags,
        .buf_alloc = RX_CREDIT,
        .fwd_cnt = conn.fwd_cnt,
    };
}

/* Sends header h and h->len bytes of payload; false when every transmit buffer is in flight. */
static bool tx_send(const struct vsock_hdr *h, const void *payload)
{
    if (!tx_nfree)
        return false;
    uint16_t id = tx_free[--tx_nfree];
    memcpy(tx_buf[id], h, sizeof(*h));
    memcpy(tx_buf[id] + sizeof(*h), payload, h->len);
    txq.desc[id].len = (uint32_t)sizeof(*h) + h->len;
    queue_add(&txq, VSOCK_QUEUE_TX, id);
    return true;
}

static void on_packet(const struct vsock_hdr *h, uint32_t used_len)
{
    CHECK(used_len >= sizeof(*h) && h->len <= used_len - sizeof(*h));
    bool to_us = h->src_cid == VSOCK_CID_HOST && h->dst_cid == GUEST_CID && h->type == VSOCK_TYPE_STREAM &&
                 h->dst_port == ECHO_PORT;
    if (to_us && h->op == VSOCK_OP_REQUEST && conn.state == CONN_LISTEN) {
        conn.state = CONN_OPEN; /* accept: RESPONSE is owed */
        conn.peer_port = h->src_port;
        conn.peer_buf_alloc = h->buf_alloc;
        conn.peer_fwd_cnt = h->fwd_cnt;
        conn.owe_response = true;
        return;
    }
    if (!to_us || h->src_port != conn.peer_port || conn.state == CONN_LISTEN || conn.state == CONN_CLOSED) {
        if (h->op != VSOCK_OP_RST && !owe_stray_rst) {
            stray_rst = (struct vsock_hdr){.src_cid = h->dst_cid, .dst_cid = h->src_cid,
                                           .src_port = h->dst_port, .dst_port = h->src_port,
                                           .type = h->type, .op = VSOCK_OP_RST};
            owe_stray_rst = true;
        }
        return;
    }
    conn.peer_buf_alloc = h->buf_alloc; /* every header carries the device's credit */
    conn.peer_fwd_cnt = h->fwd_cnt;
    switch (h->op) {
    case VSOCK_OP_RW: {
        /* Into the ring; the device may not send more than our credit, so it fits. */
        CHECK(h->len <= RX_CREDIT - conn.len);
        const uint8_t *data = (const uint8_t *)(h + 1);
        uint32_t tail = (conn.head + conn.len) % RX_CREDIT, first = RX_CREDIT - tail;
        if (first > h->len)
            first = h->len;
        memcpy(ring + tail, data, first);
        memcpy(ring, data + first, h->len - first);
        conn.len += h->len;
        break;
    }
    case VSOCK_OP_SHUTDOWN:
        conn.peer_shutdown |= h->flags;
        break;
    case VSOCK_OP_RST:
        conn.state = CONN_CLOSED;
        break;
    case VSOCK_OP_CREDIT_REQUEST:
        conn.owe_credit_update = true;
        break;
    default:
        break; /* CREDIT_UPDATE: its credit was taken above; nothing else is valid here */
    }
}

/* Takes the device's used buffers: received packets (each buffer goes straight back) and sent
 * ones (their descriptors are free again). */
static bool poll_device(void)
{
    bool progress = false;
    uint32_t id, len;
    while (queue_next_used(&rxq, &id, &len)) {
        CHECK(id < QUEUE_SIZE && len <= RX_BUF_SIZE);
        on_packet((const struct vsock_hdr *)rx_buf[id], len);
        queue_add(&rxq, VSOCK_QUEUE_RX, (uint16_t)id);
        progress = true;
    }
    while (queue_next_used(&txq, &id, &len)) {
        CHECK(id < QUEUE_SIZE && tx_nfree < QUEUE_SIZE);
        tx_free[tx_nfree++] = (uint16_t)id;
        progress = true;
    }
    return progress;
}

static bool tx_control(uint16_t op, uint32_t flags)
{
    struct vsock_hdr h = conn_hdr(op, flags, 0);
    return tx_send(&h, NULL);
}

/* Sends what is owed and what can be echoed: control replies first, then ring data as far as
 * the device's credit and our transmit buffers allow, then our SHUTDOWN once the host sent its
 * last byte and we echoed it. Our credit (fwd_cnt) goes back in every header we send. */
static bool send_pending(void)
{
    bool progress = false;
    if (owe_stray_rst && tx_send(&stray_rst, NULL)) {
        owe_stray_rst = false;
        progress = true;
    }
    if (conn.owe_response && tx_control(VSOCK_OP_RESPONSE, 0)) {
        conn.owe_response = false;
        progress = true;
    }
    if (conn.owe_credit_update && tx_control(VSOCK_OP_CREDIT_UPDATE, 0)) {
        conn.owe_credit_update = false;
        progress = true;
    }
    if (conn.owe_response || conn.state != CONN_OPEN)
        return progress;
    while (conn.len && tx_nfree) {
        uint32_t in_flight = conn.tx_cnt - conn.peer_fwd_cnt;
        uint32_t n = in_flight < conn.peer_buf_alloc ? conn.peer_buf_alloc - in_flight : 0;
        if (n > conn.len)
            n = conn.len;
        if (n > RX_CREDIT - conn.head)
            n = RX_CREDIT - conn.head;
        if (n > TX_BUF_SIZE - sizeof(struct vsock_hdr))
            n = TX_BUF_SIZE - sizeof(struct vsock_hdr);
        if (!n)
            break; /* no credit: the device's next header brings more */
        const uint8_t *data = ring + conn.head;
        conn.head = (conn.head + n) % RX_CREDIT;
        conn.len -= n;
        conn.fwd_cnt += n;
        conn.tx_cnt += n;
        struct vsock_hdr h = conn_hdr(VSOCK_OP_RW, 0, n);
        tx_send(&h, data);
        progress = true;
    }
    if (!conn.len && (conn.peer_shutdown & VSOCK_SHUTDOWN_SEND) &&
        tx_control(VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)) {
        conn.state = CONN_CLOSING; /* the device answers with RST */
        progress = true;
    }
    return progress;
}

void guest_main(void)
{
    interrupts_init();
    device_init();
    report(REPORT_LISTENING);
    while (conn.state != CONN_CLOSED) {
        bool progress = poll_device();
        progress |= send_pending();
        if (!progress)
            wait_for_interrupt();
    }
    report(REPORT_CLOSED);
    halt_forever();
}
