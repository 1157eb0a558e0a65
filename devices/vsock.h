/* virtio-vsock device (virtio-mmio) in user space: host <-> guest stream sockets for a WHP
 * partition, with the host ends as Unix sockets (the hybrid-vsock convention; see
 * include/openwhp/hvsocket.h for the rendezvous and the host API that uses it).
 *
 * Wiring: queue notifications arrive on `notify_event` (an event HANDLE of openwhp/event.h,
 * normally a doorbell on QueueNotify, so they never exit to user space) and the device raises
 * its used-buffer interrupt by signaling `interrupt_event` (normally the event of a WHP trigger,
 * so it reaches the guest without user space either). vsock_whp.h sets both up. The other
 * registers come through vsock_mmio_read/_write from the VMM's MMIO exit handler.
 *
 * One worker thread per device moves the data: guest buffers go to the host sockets with
 * sendmsg straight from guest memory, and host data is read with readv straight into the
 * guest's receive buffers. Only bytes a full host socket does not take are copied, into the
 * connection's buffer (bounded by the credit the device grants). Register accesses never wait
 * for that I/O: the device's lock covers the registers and the rings, and the worker does the
 * socket I/O of a chain without it.
 *
 * The rings are found through cfg->mem at every use, so the VMM may remap guest RAM while the
 * device runs; a chain already taken keeps the host addresses it was taken with, and the VMM
 * must keep that memory valid until the device gave the chain back (or reset the device). */
#ifndef OPENWHP_DEVICES_VSOCK_H
#define OPENWHP_DEVICES_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <openwhp/event.h>

#include "virtqueue.h"

/* Receive buffer the device grants each connection (its credit to the guest). */
#define VSOCK_BUF_ALLOC (256u * 1024)
/* A guest (or local programs) cannot hold more connections than this: each costs a host fd and
 * up to VSOCK_BUF_ALLOC of buffer. Beyond it, requests are reset. */
#define VSOCK_DEFAULT_MAX_CONNECTIONS 1024

struct vsock_config {
    uint64_t guest_cid;      /* >= 3 */
    GUID vm_id;              /* names the guest to host listeners (OpenWhpGetPartitionVmId) */
    /* The VM's hybrid socket; host listeners are <path>_<port>. Its directory must follow the
     * owner rules of openwhp/hvsocket.h (owned by the caller, not writable by group or others). */
    const char *socket_path;
    /* Guest connections to port P try the socket file <socket_path>_<P>, then
     * <fallback_prefix>_<P> (NULL: none), and connect only to a listener of the owner's uid or
     * root, from the name <dir>/<vm id>.<guest port>.<P> in that listener's directory. A VMM
     * using the HvSocket rendezvous passes the wildcard listener's prefix here. */
    const char *fallback_prefix;
    unsigned max_connections; /* open connections at most (0: VSOCK_DEFAULT_MAX_CONNECTIONS) */
    HANDLE notify_event;     /* signaled when the driver notifies a queue */
    HANDLE interrupt_event;  /* the device signals it to raise its interrupt */
    struct virtq_mem mem;
};

struct vsock_stats {
    uint64_t tx_packets, rx_packets; /* driver -> device, device -> driver */
    uint64_t tx_bytes, rx_bytes;     /* payload */
    uint64_t interrupts, notifies, buffered_bytes, connections;
    uint64_t refused_over_limit; /* requests reset because max_connections were open */
};

struct vsock;

/* Creates the device, binds its hybrid socket (OpenWhpHvSocketBindPath: a stale socket file of
 * the caller is replaced, nothing else is removed) and starts its worker. Host programs of
 * another uid than the caller's or root are refused on the hybrid socket. NULL with errno set
 * on failure: EACCES when the socket's directory breaks the owner rules, EADDRINUSE when the
 * path is a live socket or a file that is not the caller's socket. */
struct vsock *vsock_create(const struct vsock_config *cfg);
/* Stops the worker, closes every connection and the hybrid socket, and removes its file. It has
 * no failure path (the worker is stopped by closing a pipe, not by a write that could fail). */
void vsock_destroy(struct vsock *dev);

/* The register window (VIRTIO_MMIO_SIZE bytes); offsets from its base. */
uint64_t vsock_mmio_read(struct vsock *dev, uint32_t offset, unsigned size);
void vsock_mmio_write(struct vsock *dev, uint32_t offset, uint64_t value, unsigned size);

/* The counters as of the end of the worker's last batch. */
void vsock_get_stats(struct vsock *dev, struct vsock_stats *out);

/* Parses a hybrid-socket request line (without its newline): "CONNECT <port>" or
 * "CONNECT <vsock service GUID>". */
bool vsock_parse_connect(const char *line, uint32_t *port);

#endif
