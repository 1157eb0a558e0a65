/* A guest-side virtio-vsock driver (virtio-mmio, split queues) for test guests, and the host
 * side that attaches the devices/vsock.h device to a test VM.
 *
 * Guest side: single VP, polling with `sti; hlt` waits woken by the device's interrupt (vector
 * GVS_VECTOR, x2APIC). Received data is copied into the connection's ring of GVS_RING bytes
 * (its credit to the device) and sent data into one of GVS_QSIZE transmit slots; or, for a
 * connection in zero-copy echo mode (gvs_echo), each receive buffer is sent back as it is, by a
 * transmit descriptor that points into it, and returned to the device when that completes. The
 * guest CPU here is slow (every instruction costs about a microsecond on this nested host), so
 * long streams use the zero-copy echo: the guest's work is per packet, not per byte.
 * Everything lives in one block of guest RAM the host allocates (gvs_host_attach) and passes to
 * the guest. */
#ifndef OPENWHP_TESTS_GUEST_VSOCK_H
#define OPENWHP_TESTS_GUEST_VSOCK_H

#include <pthread.h>
#include <stdint.h>

#include "guest.h"
#include "virtqueue.h"
#include "vsock.h"
#include "vsock_proto.h"
#include "vsock_whp.h"

#define GVS_VECTOR 0x40
#define GVS_MMIO_GPA 0xD0000000ull
#define GVS_GUEST_CID 3
#define GVS_QSIZE 64         /* receive buffers = transmit slots */
#define GVS_TXQ (2 * GVS_QSIZE) /* transmit descriptors: slot s uses 2s (header) and 2s+1 */
#define GVS_RX_BUF (64u << 10) /* receive buffer: header + data */
#define GVS_TX_BUF (32u << 10) /* transmit slot: header + data */
#define GVS_MAX_CONNS 72
#define GVS_RING (128u << 10) /* per-connection receive ring (the credit we grant) */
#define GVS_MAX_LISTEN 8
#define GVS_MAX_PENDING 32   /* replies waiting for a transmit slot */

enum gvs_state {
    GVS_FREE = 0,
    GVS_CONNECTING,     /* REQUEST sent */
    GVS_ACCEPT_PENDING, /* the host asked; gvs_accept answers */
    GVS_ESTABLISHED,
    GVS_CLOSING,        /* we sent SHUTDOWN both ways; waiting for RST */
    GVS_RESET,          /* the peer reset (or refused) it; the app must gvs_free it */
};

struct gvs_queue {
    uint16_t num, last_used, avail_idx;
    struct virtq_desc *desc;
    volatile uint16_t *avail; /* flags, idx, ring[] */
    volatile uint16_t *used;  /* flags, idx, ring[] of {u32 id, u32 len} */
};

struct gvs_conn {
    uint32_t state, local_port, peer_port;
    uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt; /* our sending credit */
    uint32_t fwd_cnt, fwd_reported;                /* bytes the app consumed */
    uint32_t head, len;                            /* the receive ring */
    uint32_t peer_shut;                            /* VSOCK_SHUTDOWN_* the peer sent */
    uint8_t *ring;
    /* Zero-copy echo: receive buffers held for sending back, in order. */
    uint32_t zero_copy, hold_head, hold_count;
    uint16_t hold_id[GVS_QSIZE];
    uint32_t hold_len[GVS_QSIZE];
    uint64_t echoed;
};

struct gvs {
    uint64_t mmio; /* GVA of the registers */
    struct gvs_queue rx, tx;
    uint8_t *rx_bufs, *tx_bufs; /* GVAs; GPA = GVA - GUEST_DIRECT_MAP */
    uint16_t tx_free[GVS_QSIZE];
    uint32_t tx_nfree;
    uint16_t tx_rx[GVS_QSIZE];   /* per slot: 1 + the receive buffer it sends, or 0 */
    uint16_t tx_conn[GVS_QSIZE]; /* per slot: the connection that buffer belongs to */
    uint32_t nconns;             /* connection slots ever used (bounds the searches) */
    struct gvs_conn conns[GVS_MAX_CONNS];
    uint32_t listen[GVS_MAX_LISTEN], nlisten;
    struct vsock_hdr pending[GVS_MAX_PENDING];
    uint32_t npending;
    uint32_t next_port;
    uint64_t irqs, rx_packets, tx_packets, waits;
    uint64_t halted_tsc; /* TSC ticks spent in gvs_wait's hlt: the rest of the time the VP works */
};

/* Bytes of guest RAM the driver needs (struct, rings, buffers, connection rings). */
#define GVS_AREA_SIZE                                                                              \
    ((sizeof(struct gvs) + 4095) / 4096 * 4096 + 4 * 4096 + GVS_QSIZE * (GVS_RX_BUF + GVS_TX_BUF) + \
     (uint64_t)GVS_MAX_CONNS * GVS_RING)

/* ---- guest side (call from GUEST_CODE) ---- */
/* Resets and sets up the device and returns the driver state placed at the start of area_gpa. */
struct gvs *gvs_init(uint64_t mmio_gpa, uint64_t area_gpa);
/* Processes used buffers and pending replies; returns whether anything happened. */
int gvs_poll(struct gvs *vs);
/* gvs_poll, and if nothing happened, wait for the next interrupt. */
void gvs_wait(struct gvs *vs);
/* Connects to host port `port`: the connection index, or -1 when refused (RST). */
int gvs_connect(struct gvs *vs, uint32_t port);
void gvs_listen(struct gvs *vs, uint32_t port);
/* Waits for a host connection to a listened port and accepts it: the connection index. */
int gvs_accept(struct gvs *vs, uint32_t port);
/* Queues up to len bytes now (credit and slots permitting): bytes queued, -1 if reset. */
int64_t gvs_try_send(struct gvs *vs, int c, const void *data, uint32_t len);
/* Sends all of it, waiting as needed: 0, or -1 if the connection was reset. */
int gvs_send(struct gvs *vs, int c, const void *data, uint32_t len);
/* Received data without waiting: the contiguous bytes at the ring's head (*p, return value);
 * 0 with *eof set when the peer will send nothing more (or reset the connection). */
uint32_t gvs_peek(struct gvs *vs, int c, const uint8_t **p, int *eof);
/* Marks n peeked bytes consumed (may send a credit update). */
void gvs_consume(struct gvs *vs, int c, uint32_t n);
/* Waits for data: gvs_peek that blocks while there is none and no end of stream. */
uint32_t gvs_recv_wait(struct gvs *vs, int c, const uint8_t **p, int *eof);
/* Switches connection c to zero-copy echo (before data arrives) and sends back what it can
 * now: returns the bytes sent by this call, -1 if the connection was reset. */
int64_t gvs_echo(struct gvs *vs, int c);
/* A guest entry (guest_vm_add_vp(vm, 0, gvs_echo_forever, area, port)): listens on `port`,
 * reports GUEST_SYNC(1), then echoes each connection (zero-copy) until its peer is done, forever. */
void gvs_echo_forever(uint64_t area_gpa, uint64_t port);
/* Tells the peer we will send nothing more (SHUTDOWN SEND). */
void gvs_shutdown_send(struct gvs *vs, int c);
/* Orderly close: SHUTDOWN both ways, wait for the device's RST, free the slot. */
void gvs_close(struct gvs *vs, int c);
/* Abortive close: RST, free the slot. */
void gvs_reset(struct gvs *vs, int c);

/* ---- host side ---- */
struct gvs_host {
    struct guest_vm *vm;
    struct vsock *dev;
    struct vsock_whp whp;
    struct guest_emu emu;
    uint64_t area_gpa;
    GUID vm_id;
    char path[108];
    _Atomic uint64_t mmio_exits; /* register accesses that exited to user space */
    /* gvs_host_start: VP 0 on its own thread */
    pthread_t thread;
    _Atomic int syncs;
};

/* The VM must use an APIC emulation mode; the guest enables x2APIC (gvs_init does). Allocates
 * the driver's area (h->area_gpa, pass it to the guest), maps the register window, wires the
 * doorbell and the trigger and creates the device at OpenWhpHvSocketGetPath(vm id). */
void gvs_host_attach(struct gvs_host *h, struct guest_vm *vm);
void gvs_host_detach(struct gvs_host *h);
/* Runs VP 0 on a thread (device exits handled, SYNCs counted) and returns after the guest's
 * first SYNC (e.g. gvs_echo_forever listening); false if it did not come within timeout_ms. */
bool gvs_host_start(struct gvs_host *h, unsigned timeout_ms);
/* Cancels VP 0 and joins its thread. */
void gvs_host_stop(struct gvs_host *h);
/* A guest_exit_fn: emulates accesses to the register window (opaque = the gvs_host). */
bool gvs_host_exit(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, void *opaque);

#endif
