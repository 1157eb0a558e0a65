/* virtio-vsock wire format (virtio 1.2, section 5.10): shared by the device model and by
 * drivers (the test runtime's guest driver). All fields little-endian. */
#ifndef OPENWHP_DEVICES_VSOCK_PROTO_H
#define OPENWHP_DEVICES_VSOCK_PROTO_H

#include <stdint.h>

#define VIRTIO_ID_VSOCK 19
#define VIRTIO_VSOCK_F_STREAM 0 /* feature bit */

#define VSOCK_QUEUE_RX 0 /* device -> driver packets */
#define VSOCK_QUEUE_TX 1 /* driver -> device packets */
#define VSOCK_QUEUE_EVENT 2
#define VSOCK_NR_QUEUES 3

#define VSOCK_CID_HOST 2

#define VSOCK_TYPE_STREAM 1

enum vsock_op {
    VSOCK_OP_INVALID = 0,
    VSOCK_OP_REQUEST = 1,
    VSOCK_OP_RESPONSE = 2,
    VSOCK_OP_RST = 3,
    VSOCK_OP_SHUTDOWN = 4,
    VSOCK_OP_RW = 5,
    VSOCK_OP_CREDIT_UPDATE = 6,
    VSOCK_OP_CREDIT_REQUEST = 7,
};

/* SHUTDOWN flags: the sender will receive (RCV) or send (SEND) no more. */
#define VSOCK_SHUTDOWN_RCV 1
#define VSOCK_SHUTDOWN_SEND 2

struct vsock_hdr {
    uint64_t src_cid;
    uint64_t dst_cid;
    uint32_t src_port;
    uint32_t dst_port;
    uint32_t len; /* payload bytes after the header (RW) */
    uint16_t type;
    uint16_t op;
    uint32_t flags;
    uint32_t buf_alloc; /* the sender's receive buffer for this connection */
    uint32_t fwd_cnt;   /* bytes the sender has consumed of what it received */
} __attribute__((packed));

_Static_assert(sizeof(struct vsock_hdr) == 44, "virtio_vsock_hdr is 44 bytes");

/* The device configuration: the guest's context id. */
struct vsock_config_space {
    uint64_t guest_cid;
} __attribute__((packed));

#endif
