/* virtio-vsock device: see vsock.h. The worker thread owns the data path and its state (the
 * connections); register accesses come from VP threads. dev->lock protects only the transport
 * (registers and queues) and is never held across socket I/O: the worker takes a chain under it,
 * works on the chain and the sockets without it, and takes it again to give the chain back. */
#include "vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openwhp/hvsocket.h>

#include "virtio_mmio.h"
#include "vsock_proto.h"

#define CTRL_MAX 256        /* control packets waiting for receive buffers */
#define CONN_BUCKETS 256
#define MAX_LINE 80         /* "CONNECT <port or GUID>\n" */
#define FIRST_HOST_PORT 1024u

enum conn_state {
    CONN_HANDSHAKE,   /* a host program connected to the hybrid socket; reading CONNECT */
    CONN_CONNECTING,  /* REQUEST sent to the guest, waiting for RESPONSE or RST */
    CONN_ESTABLISHED,
};

struct conn {
    struct conn *hash_next;
    struct conn *prev, *next; /* dev->conns, in round-robin order for receive service */
    int fd;                   /* the host end */
    enum conn_state state;
    uint32_t host_port, guest_port;
    /* Credit (virtio 5.10.6.3): what we may send the guest and what we report. */
    uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt; /* host -> guest */
    uint32_t rx_cnt, fwd_cnt, fwd_reported;          /* guest -> host */
    bool readable, writable; /* edge-triggered epoll state, cleared on EAGAIN */
    bool hup;                /* the host end closed (EPOLLHUP or EPOLLERR seen) */
    bool host_eof;           /* the host end will send nothing more */
    bool guest_no_send, guest_no_recv; /* the guest's SHUTDOWN flags */
    bool shut_wr_done, need_credit_update, dead;
    /* Guest bytes the host socket has not taken yet: a ring of VSOCK_BUF_ALLOC, on demand. */
    uint8_t *buf;
    uint32_t buf_head, buf_len;
};

struct vsock {
    /* Protects mmio (registers, queue indices), resets, busy and shown; never held across socket
     * I/O or anything else that may wait. */
    pthread_mutex_t lock;
    pthread_cond_t idle; /* busy became false */
    struct virtio_mmio mmio;
    unsigned resets; /* device resets by the driver so far */
    bool busy;       /* the worker holds a chain it took (between take and give or untake) */
    struct vsock_stats shown; /* stats as of the worker's last batch (vsock_get_stats) */
    /* Fixed after create. */
    struct vsock_config_space config;
    struct vsock_config cfg;
    char *socket_path, *fallback_prefix;
    int listen_fd, notify_fd, interrupt_fd, epoll_fd; /* fixed after create */
    int stop_rd, stop_wr; /* a pipe: closing stop_wr (EPOLLHUP on stop_rd) stops the worker */
    pthread_t worker;
    /* The worker's own (no lock): */
    unsigned resets_seen; /* resets when the worker last forgot its connections */
    bool running;         /* whether the driver ran the device at the start of the batch */
    struct conn *buckets[CONN_BUCKETS];
    struct conn *conns; /* circular list head (the next connection to serve), or NULL */
    unsigned nconns, max_conns;
    uint32_t next_host_port;
    struct vsock_hdr ctrl[CTRL_MAX]; /* FIFO of control packets for the guest */
    unsigned ctrl_head, ctrl_count;
    bool raise_rx, raise_tx; /* used buffers pushed (per queue) since the last interrupt */
    struct vsock_stats stats;
};

/* ---- connections ---- */

static unsigned bucket(uint32_t host_port, uint32_t guest_port)
{
    return (host_port * 2654435761u ^ guest_port) % CONN_BUCKETS;
}

static struct conn *conn_find(struct vsock *dev, uint32_t host_port, uint32_t guest_port)
{
    for (struct conn *c = dev->buckets[bucket(host_port, guest_port)]; c; c = c->hash_next)
        if (c->host_port == host_port && c->guest_port == guest_port && c->state != CONN_HANDSHAKE)
            return c;
    return NULL;
}

static void conn_link(struct vsock *dev, struct conn *c)
{
    if (!dev->conns) {
        c->prev = c->next = c;
        dev->conns = c;
    } else {
        c->next = dev->conns;
        c->prev = dev->conns->prev;
        c->prev->next = c;
        dev->conns->prev = c;
    }
    dev->stats.connections++;
    dev->nconns++;
}

static void conn_hash(struct vsock *dev, struct conn *c)
{
    unsigned b = bucket(c->host_port, c->guest_port);
    c->hash_next = dev->buckets[b];
    dev->buckets[b] = c;
}

static void conn_unhash(struct vsock *dev, struct conn *c)
{
    for (struct conn **pp = &dev->buckets[bucket(c->host_port, c->guest_port)]; *pp; pp = &(*pp)->hash_next)
        if (*pp == c) {
            *pp = c->hash_next;
            return;
        }
}

static struct conn *conn_new(struct vsock *dev, int fd, enum conn_state state)
{
    if (dev->nconns >= dev->max_conns) {
        dev->stats.refused_over_limit++;
        return NULL;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = fd;
    c->state = state;
    c->writable = true; /* until a send says EAGAIN */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(dev->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(c);
        return NULL;
    }
    conn_link(dev, c);
    return c;
}

/* Unlinks and frees a connection; its events still queued in the worker's batch are skipped
 * because the worker frees dead connections only after the batch. */
static void conn_free(struct vsock *dev, struct conn *c)
{
    if (c->state != CONN_HANDSHAKE)
        conn_unhash(dev, c);
    if (c->next == c) {
        dev->conns = NULL;
    } else {
        c->prev->next = c->next;
        c->next->prev = c->prev;
        if (dev->conns == c)
            dev->conns = c->next;
    }
    close(c->fd);
    free(c->buf);
    free(c);
    dev->nconns--;
}

/* ---- packets to the guest ---- */

static struct vsock_hdr conn_hdr(struct vsock *dev, struct conn *c, uint16_t op)
{
    struct vsock_hdr h = {
        .src_cid = VSOCK_CID_HOST,
        .dst_cid = dev->config.guest_cid,
        .src_port = c->host_port,
        .dst_port = c->guest_port,
        .type = VSOCK_TYPE_STREAM,
        .op = op,
        .buf_alloc = VSOCK_BUF_ALLOC,
        .fwd_cnt = c->fwd_cnt,
    };
    c->fwd_reported = c->fwd_cnt;
    c->need_credit_update = false;
    return h;
}

static bool ctrl_full(const struct vsock *dev) { return dev->ctrl_count == CTRL_MAX; }

static void ctrl_push(struct vsock *dev, const struct vsock_hdr *h)
{
    /* Callers stop taking guest packets before the queue fills (see process_tx). */
    if (ctrl_full(dev))
        return;
    dev->ctrl[(dev->ctrl_head + dev->ctrl_count++) % CTRL_MAX] = *h;
}

/* A reset for a packet that names no connection we have (virtio 5.10.6.4). */
static void ctrl_rst_reply(struct vsock *dev, const struct vsock_hdr *in)
{
    struct vsock_hdr h = {
        .src_cid = VSOCK_CID_HOST,
        .dst_cid = dev->config.guest_cid,
        .src_port = in->dst_port,
        .dst_port = in->src_port,
        .type = VSOCK_TYPE_STREAM,
        .op = VSOCK_OP_RST,
    };
    ctrl_push(dev, &h);
}

/* Sends RST for c and frees it at the end of the worker's batch. */
static void conn_reset(struct vsock *dev, struct conn *c)
{
    if (c->dead)
        return;
    if (c->state != CONN_HANDSHAKE) {
        struct vsock_hdr h = conn_hdr(dev, c, VSOCK_OP_RST);
        ctrl_push(dev, &h);
    }
    c->dead = true;
}

/* ---- guest -> host ---- */

static uint32_t buf_space(const struct conn *c) { return VSOCK_BUF_ALLOC - c->buf_len; }

/* Asks for a CREDIT_UPDATE once a quarter of the buffer was forwarded since the last report,
 * before the guest can run out of credit. */
static void note_credit(struct conn *c)
{
    if (c->fwd_cnt - c->fwd_reported >= VSOCK_BUF_ALLOC / 4)
        c->need_credit_update = true;
}

/* Moves buffered bytes into the socket; false when the host end is gone. */
static bool conn_flush(struct conn *c)
{
    while (c->buf_len && c->writable) {
        uint32_t tail = VSOCK_BUF_ALLOC - c->buf_head;
        struct iovec iov[2] = {{c->buf + c->buf_head, c->buf_len < tail ? c->buf_len : tail},
                               {c->buf, c->buf_len > tail ? c->buf_len - tail : 0}};
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = iov[1].iov_len ? 2 : 1};
        ssize_t n = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN) {
                c->writable = false;
                break;
            }
            if (errno == EINTR)
                continue;
            return false;
        }
        c->buf_head = (c->buf_head + (uint32_t)n) % VSOCK_BUF_ALLOC;
        c->buf_len -= (uint32_t)n;
        c->fwd_cnt += (uint32_t)n;
    }
    if (!c->buf_len && c->guest_no_send && !c->shut_wr_done) {
        shutdown(c->fd, SHUT_WR);
        c->shut_wr_done = true;
    }
    return true;
}

/* Appends payload bytes [off, off+len) of the chain to the connection's ring. */
static void buf_append(struct conn *c, const struct virtq_chain *ch, size_t off, size_t len)
{
    while (len) {
        uint32_t tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
        uint32_t room = VSOCK_BUF_ALLOC - tail;
        size_t n = len < room ? len : room;
        virtq_copy_from(ch, off, c->buf + tail, n);
        c->buf_len += (uint32_t)n;
        off += n;
        len -= n;
    }
}

/* An RW packet: send the payload, buffering what the socket does not take now. */
static void conn_write(struct vsock *dev, struct conn *c, const struct virtq_chain *ch, uint32_t len)
{
    size_t off = sizeof(struct vsock_hdr);
    if (c->guest_no_send || len > buf_space(c)) {
        conn_reset(dev, c); /* the guest ignored its credit or its own shutdown */
        return;
    }
    c->rx_cnt += len;
    dev->stats.tx_bytes += len;
    if (!c->buf_len && c->writable) {
        struct iovec iov[VIRTQ_MAX_SEGS];
        unsigned n = virtq_slice(ch, false, off, len, iov, VIRTQ_MAX_SEGS);
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = n};
        ssize_t sent;
        do
            sent = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (sent < 0 && errno == EINTR);
        if (sent < 0 && errno != EAGAIN) {
            conn_reset(dev, c);
            return;
        }
        if (sent < 0) {
            sent = 0;
            c->writable = false;
        }
        c->fwd_cnt += (uint32_t)sent;
        off += (size_t)sent;
        len -= (uint32_t)sent;
        if (len)
            c->writable = false;
    }
    if (len) {
        if (!c->buf && !(c->buf = malloc(VSOCK_BUF_ALLOC))) {
            conn_reset(dev, c);
            return;
        }
        buf_append(c, ch, off, len);
        dev->stats.buffered_bytes += len;
    }
    note_credit(c);
}

/* The name the device's end of a guest connection takes, next to the listener at `prefix`:
 * <dir of prefix>/<vmid>.<guest port>.<host port>. Only the owner can create it there, so the
 * listener may believe it (OpenWhpHvSocketAccept). False when it does not fit. */
static bool peer_name(struct vsock *dev, const char *prefix, const struct vsock_hdr *h, char *buf, size_t size)
{
    const char *slash = strrchr(prefix, '/');
    char id[37];
    OpenWhpGuidFormat(&dev->cfg.vm_id, id);
    int n = snprintf(buf, size, "%.*s%s.%u.%u", slash ? (int)(slash - prefix + 1) : 0, prefix, id,
                     h->src_port, h->dst_port);
    return n > 0 && (size_t)n < size;
}

/* A socket connected to the listener file prefix_<port>, named after the guest's end; -1 if
 * nobody (or nobody of the owner's: see OpenWhpHvSocketCheckPeer) listens there. */
static int connect_listener(struct vsock *dev, const char *prefix, const struct vsock_hdr *h)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char me[sizeof(sa.sun_path)];
    int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", prefix, h->dst_port);
    if (n < 0 || n >= (int)sizeof(sa.sun_path))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* Unnamed when the name does not fit: the listener then sees zeros, never a wrong peer. */
    bool named = peer_name(dev, prefix, h, me, sizeof(me));
    if (named && FAILED(OpenWhpHvSocketBindPath(fd, me))) {
        close(fd); /* the listener's directory breaks the owner rules (or the name is taken) */
        return -1;
    }
    int r = connect(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    if (named)
        unlink(me); /* the connection keeps the name; the file is not needed any more */
    if (r < 0 || FAILED(OpenWhpHvSocketCheckPeer(fd))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The guest asks to connect to host port hdr->dst_port: find the host listener. */
static void guest_connect(struct vsock *dev, const struct vsock_hdr *h)
{
    const char *prefixes[2] = {dev->socket_path, dev->fallback_prefix};
    int fd = -1;
    if (dev->nconns >= dev->max_conns) {
        dev->stats.refused_over_limit++; /* checked first: the listener must not see it */
        ctrl_rst_reply(dev, h);
        return;
    }
    for (int i = 0; i < 2 && fd < 0; i++)
        if (prefixes[i])
            fd = connect_listener(dev, prefixes[i], h);
    struct conn *c = fd >= 0 ? conn_new(dev, fd, CONN_ESTABLISHED) : NULL;
    if (!c) {
        if (fd >= 0)
            close(fd);
        ctrl_rst_reply(dev, h);
        return;
    }
    c->host_port = h->dst_port;
    c->guest_port = h->src_port;
    c->peer_buf_alloc = h->buf_alloc;
    c->peer_fwd_cnt = h->fwd_cnt;
    conn_hash(dev, c);
    struct vsock_hdr r = conn_hdr(dev, c, VSOCK_OP_RESPONSE);
    ctrl_push(dev, &r);
}

/* The guest accepted a connection a host program asked for: tell the program. */
static void guest_accepted(struct vsock *dev, struct conn *c)
{
    char line[32];
    int n = snprintf(line, sizeof(line), "OK %u\n", c->host_port);
    if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
        conn_reset(dev, c);
        return;
    }
    c->state = CONN_ESTABLISHED;
}

static void guest_shutdown(struct vsock *dev, struct conn *c, uint32_t flags)
{
    if (flags & VSOCK_SHUTDOWN_RCV) {
        c->guest_no_recv = true;
        shutdown(c->fd, SHUT_RD);
    }
    if (flags & VSOCK_SHUTDOWN_SEND)
        c->guest_no_send = true;
    if (!conn_flush(c) || (c->guest_no_send && c->guest_no_recv && !c->buf_len))
        conn_reset(dev, c); /* fully shut down: the RST ends it (virtio 5.10.6.6) */
}

/* One packet from the guest. */
static void guest_packet(struct vsock *dev, const struct virtq_chain *ch)
{
    struct vsock_hdr h;
    if (virtq_copy_from(ch, 0, &h, sizeof(h)) != sizeof(h))
        return; /* too short to answer */
    if (h.src_cid != dev->config.guest_cid || h.dst_cid != VSOCK_CID_HOST)
        return; /* not ours to answer: drop (as vhost-vsock does) */
    if (h.type != VSOCK_TYPE_STREAM) {
        if (h.op != VSOCK_OP_RST)
            ctrl_rst_reply(dev, &h);
        return;
    }
    dev->stats.tx_packets++;
    struct conn *c = conn_find(dev, h.dst_port, h.src_port);
    if (h.op == VSOCK_OP_REQUEST) {
        if (c)
            conn_reset(dev, c);
        else
            guest_connect(dev, &h);
        return;
    }
    if (!c || c->dead) {
        if (h.op != VSOCK_OP_RST)
            ctrl_rst_reply(dev, &h);
        return;
    }
    c->peer_buf_alloc = h.buf_alloc;
    c->peer_fwd_cnt = h.fwd_cnt;
    switch (h.op) {
    case VSOCK_OP_RESPONSE:
        if (c->state == CONN_CONNECTING)
            guest_accepted(dev, c);
        else
            conn_reset(dev, c);
        break;
    case VSOCK_OP_RST:
        conn_flush(c);
        c->dead = true;
        break;
    case VSOCK_OP_SHUTDOWN:
        guest_shutdown(dev, c, h.flags);
        break;
    case VSOCK_OP_RW: {
        size_t avail = ch->read_len - sizeof(h);
        if (c->state != CONN_ESTABLISHED || h.len > avail)
            conn_reset(dev, c);
        else
            conn_write(dev, c, ch, h.len);
        break;
    }
    case VSOCK_OP_CREDIT_UPDATE:
        break; /* the credit fields were taken above */
    case VSOCK_OP_CREDIT_REQUEST:
        c->need_credit_update = true;
        break;
    default:
        conn_reset(dev, c);
        break;
    }
}

/* ---- the queues: the only data-path steps under dev->lock ---- */

/* Whether the driver runs the device and has not reset it since the batch began (lock held). */
static bool live(const struct vsock *dev)
{
    return dev->resets == dev->resets_seen && virtio_mmio_running(&dev->mmio);
}

/* The receive queue after a pop that gave r (lock held): out of buffers with work waiting, the
 * driver is asked to notify its refill; with buffers in hand, refills need not wake us. */
static int rx_notify(struct virtq *q, struct virtq_chain *ch, int r)
{
    while (r == 0 && q->enabled) {
        if (!virtq_want_notify(q, true))
            return -1;
        if (!virtq_has_avail(q))
            return 0;
        r = virtq_pop(q, ch); /* the driver added some before it saw the flag */
    }
    return r > 0 && !virtq_want_notify(q, false) ? -1 : r;
}

/* Takes the next chain of queue qi: 1 taken, 0 none (or the device stopped or was reset since
 * the batch began), -1 malformed (the device now needs a reset). *resets: the queue's reset
 * count, for give and untake. */
static int take(struct vsock *dev, unsigned qi, struct virtq_chain *ch, uint32_t *resets)
{
    struct virtq *q = &dev->mmio.queues[qi];
    pthread_mutex_lock(&dev->lock);
    int r = 0;
    if (live(dev)) {
        r = virtq_pop(q, ch);
        if (qi == VSOCK_QUEUE_RX)
            r = rx_notify(q, ch, r);
        if (r < 0)
            virtio_mmio_fail(&dev->mmio);
    }
    dev->busy = r > 0;
    *resets = q->resets;
    pthread_mutex_unlock(&dev->lock);
    return r;
}

/* Gives back a chain taken when its queue had `resets` resets, with len bytes used; a chain
 * from before a reset is dropped (the driver forgot it). False when the used ring is malformed. */
static bool give(struct vsock *dev, unsigned qi, uint16_t head, uint32_t len, uint32_t resets)
{
    struct virtq *q = &dev->mmio.queues[qi];
    bool ok = true;
    pthread_mutex_lock(&dev->lock);
    if (q->resets == resets && virtio_mmio_running(&dev->mmio) && !(ok = virtq_push(q, head, len)))
        virtio_mmio_fail(&dev->mmio);
    dev->busy = false;
    pthread_cond_broadcast(&dev->idle);
    pthread_mutex_unlock(&dev->lock);
    return ok;
}

/* Leaves the chain take just gave available again (unless its queue was reset meanwhile). */
static void untake(struct vsock *dev, unsigned qi, uint32_t resets)
{
    struct virtq *q = &dev->mmio.queues[qi];
    pthread_mutex_lock(&dev->lock);
    if (q->resets == resets)
        virtq_unpop(q);
    dev->busy = false;
    pthread_cond_broadcast(&dev->idle);
    pthread_mutex_unlock(&dev->lock);
}

/* Takes the guest's transmit packets while there is room for the replies they may need. */
static bool process_tx(struct vsock *dev)
{
    struct virtq_chain ch;
    uint32_t resets;
    while (!ctrl_full(dev)) {
        int r = take(dev, VSOCK_QUEUE_TX, &ch, &resets);
        if (r <= 0)
            return r == 0;
        guest_packet(dev, &ch); /* socket I/O: without the lock */
        if (!give(dev, VSOCK_QUEUE_TX, ch.head, 0, resets))
            return false;
        dev->raise_tx = true;
    }
    return true;
}

/* ---- host -> guest ---- */

static uint32_t peer_credit(const struct conn *c)
{
    uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
    return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Whether host data may be read for the guest now (readable, not ended, credit left). */
static bool conn_can_read(const struct conn *c)
{
    return c->readable && !c->host_eof && !c->guest_no_recv && peer_credit(c) > 0;
}

/* Whether the connection has something for a receive buffer now. */
static bool conn_wants_rx(const struct conn *c)
{
    if (c->dead || c->state != CONN_ESTABLISHED)
        return false;
    return c->need_credit_update || conn_can_read(c);
}

/* Fills one receive chain from c: data, an end-of-stream SHUTDOWN, or a credit update.
 * Returns false when the chain was not used (nothing to read after all). */
static bool conn_rx(struct vsock *dev, struct conn *c, struct virtq_chain *ch, uint32_t *used)
{
    struct vsock_hdr h;
    size_t room = ch->write_len - sizeof(h);
    uint32_t credit = peer_credit(c);
    if (conn_can_read(c) && room > 0) {
        struct iovec iov[VIRTQ_MAX_SEGS];
        size_t want = room < credit ? room : credit;
        unsigned n = virtq_slice(ch, true, sizeof(h), want, iov, VIRTQ_MAX_SEGS);
        ssize_t got;
        do
            got = readv(c->fd, iov, (int)n);
        while (got < 0 && errno == EINTR);
        if (got > 0) {
            h = conn_hdr(dev, c, VSOCK_OP_RW);
            h.len = (uint32_t)got;
            c->tx_cnt += (uint32_t)got;
            dev->stats.rx_bytes += (uint64_t)got;
            virtq_copy_to(ch, 0, &h, sizeof(h));
            *used = (uint32_t)(sizeof(h) + (size_t)got);
            return true;
        }
        if (got == 0) {
            /* The host end closed (or shut down) its sending side. */
            c->host_eof = true;
            h = conn_hdr(dev, c, VSOCK_OP_SHUTDOWN);
            h.flags = VSOCK_SHUTDOWN_SEND;
            virtq_copy_to(ch, 0, &h, sizeof(h));
            *used = sizeof(h);
            return true;
        }
        if (errno == EAGAIN) {
            c->readable = false;
        } else {
            c->readable = false;
            conn_reset(dev, c);
            return false;
        }
    }
    if (!c->need_credit_update)
        return false;
    h = conn_hdr(dev, c, VSOCK_OP_CREDIT_UPDATE);
    virtq_copy_to(ch, 0, &h, sizeof(h));
    *used = sizeof(h);
    return true;
}

static bool process_rx(struct vsock *dev)
{
    struct virtq_chain ch;
    uint32_t resets;
    for (;;) {
        struct conn *c = NULL;
        if (!dev->ctrl_count) {
            /* Round robin: the first connection with work, then it goes to the back. */
            struct conn *it = dev->conns;
            if (it)
                do {
                    if (conn_wants_rx(it)) {
                        c = it;
                        break;
                    }
                    it = it->next;
                } while (it != dev->conns);
            if (!c)
                return true;
        }
        int r = take(dev, VSOCK_QUEUE_RX, &ch, &resets);
        if (r <= 0)
            return r == 0;
        if (ch.write_len <= sizeof(struct vsock_hdr)) {
            if (!give(dev, VSOCK_QUEUE_RX, ch.head, 0, resets)) /* no room for data: give it back empty */
                return false;
            dev->raise_rx = true;
            continue;
        }
        uint32_t used = 0;
        if (!c) {
            virtq_copy_to(&ch, 0, &dev->ctrl[dev->ctrl_head], sizeof(struct vsock_hdr));
            dev->ctrl_head = (dev->ctrl_head + 1) % CTRL_MAX;
            dev->ctrl_count--;
            used = sizeof(struct vsock_hdr);
        } else {
            dev->conns = c->next;
            if (!conn_rx(dev, c, &ch, &used)) { /* socket I/O: without the lock */
                untake(dev, VSOCK_QUEUE_RX, resets); /* not used after all: leave it available */
                continue;
            }
        }
        if (!give(dev, VSOCK_QUEUE_RX, ch.head, used, resets))
            return false;
        dev->stats.rx_packets++;
        dev->raise_rx = true;
    }
}

/* ---- the hybrid socket: host programs connecting to the guest ---- */

static void host_accept(struct vsock *dev)
{
    for (;;) {
        int fd = accept4(dev->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        /* Only the owner's programs (and root) may talk to the guest; others are closed unread. */
        if (FAILED(OpenWhpHvSocketCheckPeer(fd)) || !conn_new(dev, fd, CONN_HANDSHAKE))
            close(fd);
    }
}

/* Parses "CONNECT <port>" or "CONNECT <vsock service GUID>"; false if neither. */
bool vsock_parse_connect(const char *line, uint32_t *port)
{
    if (strncmp(line, "CONNECT ", 8) != 0)
        return false;
    const char *arg = line + 8;
    GUID g;
    if (OpenWhpGuidParse(arg, &g))
        return OpenWhpServiceIdToVsockPort(&g, port) != FALSE;
    if (*arg < '0' || *arg > '9')
        return false;
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (*end != '\0' || v > UINT32_MAX || end - arg > 10)
        return false;
    *port = (uint32_t)v;
    return true;
}

static uint32_t alloc_host_port(struct vsock *dev)
{
    for (;;) {
        uint32_t p = dev->next_host_port++;
        if (dev->next_host_port > 0x7FFFFFFFu)
            dev->next_host_port = FIRST_HOST_PORT;
        bool used = false;
        struct conn *it = dev->conns;
        if (it)
            do {
                used |= it->state != CONN_HANDSHAKE && it->host_port == p;
                it = it->next;
            } while (it != dev->conns && !used);
        if (!used)
            return p;
    }
}

/* Reads the CONNECT line without consuming anything after it (that is data for the guest). */
static void host_handshake(struct vsock *dev, struct conn *c)
{
    char line[MAX_LINE + 1];
    ssize_t n = recv(c->fd, line, MAX_LINE, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN) {
        c->readable = false;
        return;
    }
    char *nl = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;
    if (!nl) {
        if (n <= 0 || n == MAX_LINE)
            c->dead = true; /* closed, or no line where one must be */
        else
            c->readable = false; /* a partial line: wait for the rest */
        return;
    }
    size_t len = (size_t)(nl - line) + 1;
    if (recv(c->fd, line, len, MSG_DONTWAIT) != (ssize_t)len) {
        c->dead = true;
        return;
    }
    line[len - 1] = '\0';
    if (len > 1 && line[len - 2] == '\r')
        line[len - 2] = '\0';
    uint32_t port;
    if (!vsock_parse_connect(line, &port) || !dev->running) {
        c->dead = true; /* refused: closing tells the program */
        return;
    }
    c->guest_port = port;
    c->host_port = alloc_host_port(dev);
    c->state = CONN_CONNECTING;
    conn_hash(dev, c);
    struct vsock_hdr h = conn_hdr(dev, c, VSOCK_OP_REQUEST);
    ctrl_push(dev, &h);
}

/* ---- the worker ---- */

static void reap_dead(struct vsock *dev)
{
    struct conn *it = dev->conns;
    if (!it)
        return;
    /* Walk once around the ring; freeing may change dev->conns. */
    unsigned n = 0;
    do {
        n++;
        it = it->next;
    } while (it != dev->conns);
    for (it = dev->conns; n--;) {
        struct conn *next = it->next;
        if (it->dead)
            conn_free(dev, it);
        it = next;
    }
}

/* Device reset: every connection ends without a word to the guest (it forgot them). They are
 * marked, and freed at the end of the batch (its epoll events may name them). */
static void forget_all(struct vsock *dev)
{
    struct conn *it = dev->conns;
    if (it)
        do {
            it->dead = true;
            it = it->next;
        } while (it != dev->conns);
    dev->ctrl_count = dev->ctrl_head = 0;
}

/* Start of a batch: forgets the connections if the driver reset the device since the last
 * batch, and notes whether the device runs. */
static bool batch_begin(struct vsock *dev)
{
    pthread_mutex_lock(&dev->lock);
    bool reset = dev->resets != dev->resets_seen;
    dev->resets_seen = dev->resets;
    dev->running = virtio_mmio_running(&dev->mmio);
    pthread_mutex_unlock(&dev->lock);
    if (reset)
        forget_all(dev);
    return dev->running;
}

/* End of a batch: one interrupt for it, if a queue that got used buffers wants one or the
 * device failed (ok false), and the statistics vsock_get_stats reports. */
static void batch_end(struct vsock *dev, bool ok)
{
    bool want = false;
    pthread_mutex_lock(&dev->lock);
    if (dev->raise_rx || dev->raise_tx || !ok) {
        want = !ok || (dev->raise_rx && virtq_should_interrupt(&dev->mmio.queues[VSOCK_QUEUE_RX])) ||
               (dev->raise_tx && virtq_should_interrupt(&dev->mmio.queues[VSOCK_QUEUE_TX]));
        dev->mmio.int_status |= VIRTIO_INT_USED_RING;
    }
    dev->stats.interrupts += want;
    dev->shown = dev->stats;
    pthread_mutex_unlock(&dev->lock);
    dev->raise_rx = dev->raise_tx = false;
    if (want)
        OpenWhpSetEvent(dev->cfg.interrupt_event);
}

/* Everything the device can do now. */
static void service(struct vsock *dev)
{
    if (!batch_begin(dev)) {
        reap_dead(dev);
        batch_end(dev, true);
        return;
    }
    struct conn *it = dev->conns;
    if (it)
        do {
            if (it->state == CONN_HANDSHAKE && it->readable && !it->dead)
                host_handshake(dev, it);
            else if (it->state == CONN_CONNECTING && it->hup && !it->dead)
                conn_reset(dev, it); /* the program gave up before the guest answered */
            else if (it->writable && it->buf_len && !it->dead && !conn_flush(it))
                conn_reset(dev, it);
            else if (it->guest_no_send && (it->guest_no_recv || it->host_eof) && !it->buf_len && !it->dead)
                conn_reset(dev, it); /* nothing left to carry either way: RST ends it */
            if (!it->dead)
                note_credit(it); /* flushed bytes are forwarded too */
            it = it->next;
        } while (it != dev->conns);
    bool ok = process_tx(dev) && process_rx(dev);
    /* Replies queued while taking packets need receive buffers: one more round. */
    ok = ok && process_tx(dev) && process_rx(dev);
    reap_dead(dev);
    batch_end(dev, ok);
}

static void *worker_main(void *opaque)
{
    struct vsock *dev = opaque;
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(dev->epoll_fd, evs, 64, -1);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &dev->stop_rd) {
                return NULL;
            } else if (p == &dev->notify_fd) {
                uint64_t v;
                if (read(dev->notify_fd, &v, sizeof(v)) > 0)
                    dev->stats.notifies++;
            } else if (p == &dev->listen_fd) {
                host_accept(dev);
            } else {
                struct conn *c = p;
                if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                    c->readable = true;
                if (evs[i].events & (EPOLLHUP | EPOLLERR))
                    c->hup = true; /* closed both ways (a half-close is only EPOLLRDHUP) */
                if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                    c->writable = true;
            }
        }
        service(dev);
    }
    return NULL;
}

/* ---- registers ---- */

uint64_t vsock_mmio_read(struct vsock *dev, uint32_t offset, unsigned size)
{
    pthread_mutex_lock(&dev->lock);
    uint64_t v = virtio_mmio_read(&dev->mmio, offset, size);
    pthread_mutex_unlock(&dev->lock);
    return v;
}

/* Queue resets so far, over all queues (lock held). */
static uint32_t queue_resets(const struct vsock *dev)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < VSOCK_NR_QUEUES; i++)
        n += dev->mmio.queues[i].resets;
    return n;
}

void vsock_mmio_write(struct vsock *dev, uint32_t offset, uint64_t value, unsigned size)
{
    pthread_mutex_lock(&dev->lock);
    uint32_t before = queue_resets(dev);
    unsigned ev = virtio_mmio_write(&dev->mmio, offset, value, size);
    if (ev & VIRTIO_MMIO_EV_RESET)
        dev->resets++; /* the worker forgets the connections at its next batch */
    /* A reset is complete only once the device no longer touches the buffers of the old rings
     * (the driver may free them): wait for the chain the worker is working on, if any (one
     * non-blocking socket call). */
    while (queue_resets(dev) != before && dev->busy)
        pthread_cond_wait(&dev->idle, &dev->lock);
    pthread_mutex_unlock(&dev->lock);
    /* A notify that exited to us (no doorbell), a device that just started or was reset: wake
     * the worker. */
    if (ev & (VIRTIO_MMIO_EV_NOTIFY | VIRTIO_MMIO_EV_DRIVER_OK | VIRTIO_MMIO_EV_QUEUE_READY | VIRTIO_MMIO_EV_RESET))
        OpenWhpSetEvent(dev->cfg.notify_event);
}

void vsock_get_stats(struct vsock *dev, struct vsock_stats *out)
{
    pthread_mutex_lock(&dev->lock);
    *out = dev->shown;
    pthread_mutex_unlock(&dev->lock);
}

/* ---- life cycle ---- */

/* The errno of a failed OpenWhpHvSocketBindPath. */
static int bind_errno(HRESULT hr)
{
    if (hr == E_ACCESSDENIED)
        return EACCES;
    if (hr == HRESULT_FROM_WIN32(WSAEADDRINUSE))
        return EADDRINUSE;
    return hr == HRESULT_FROM_WIN32(ERROR_FILENAME_EXCED_RANGE) ? ENAMETOOLONG : EINVAL;
}

/* The hybrid socket, bound under the owner rules (a stale socket file of ours is replaced,
 * anything else at the path is left alone). */
static int bind_hybrid(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    HRESULT hr = OpenWhpHvSocketBindPath(fd, path);
    if (FAILED(hr)) {
        close(fd);
        errno = bind_errno(hr);
        return -1;
    }
    if (listen(fd, SOMAXCONN) < 0) {
        int e = errno;
        OpenWhpHvSocketCloseListener(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int watch(struct vsock *dev, int fd, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
    return epoll_ctl(dev->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

struct vsock *vsock_create(const struct vsock_config *cfg)
{
    if (!cfg || !cfg->socket_path || cfg->guest_cid < 3 || cfg->guest_cid > UINT32_MAX ||
        !cfg->mem.gpa_to_hva || OpenWhpEventFd(cfg->notify_event) < 0 ||
        OpenWhpEventFd(cfg->interrupt_event) < 0) {
        errno = EINVAL;
        return NULL;
    }
    struct vsock *dev = calloc(1, sizeof(*dev));
    if (!dev)
        return NULL;
    pthread_mutex_init(&dev->lock, NULL);
    pthread_cond_init(&dev->idle, NULL);
    dev->cfg = *cfg;
    dev->config.guest_cid = cfg->guest_cid;
    dev->next_host_port = FIRST_HOST_PORT;
    dev->max_conns = cfg->max_connections ? cfg->max_connections : VSOCK_DEFAULT_MAX_CONNECTIONS;
    dev->listen_fd = dev->epoll_fd = dev->stop_rd = dev->stop_wr = -1;
    virtio_mmio_init(&dev->mmio, VIRTIO_ID_VSOCK, 1ull << VIRTIO_VSOCK_F_STREAM, VSOCK_NR_QUEUES,
                     &dev->config, sizeof(dev->config), &cfg->mem);
    dev->notify_fd = OpenWhpEventFd(cfg->notify_event);
    dev->interrupt_fd = OpenWhpEventFd(cfg->interrupt_event);
    dev->socket_path = strdup(cfg->socket_path);
    dev->fallback_prefix = cfg->fallback_prefix ? strdup(cfg->fallback_prefix) : NULL;
    dev->cfg.socket_path = dev->socket_path;
    dev->cfg.fallback_prefix = dev->fallback_prefix;
    int e = ENOMEM;
    if (!dev->socket_path || (cfg->fallback_prefix && !dev->fallback_prefix))
        goto fail;
    dev->listen_fd = bind_hybrid(dev->socket_path);
    dev->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    int stop[2];
    if (pipe2(stop, O_CLOEXEC) == 0) {
        dev->stop_rd = stop[0];
        dev->stop_wr = stop[1];
    }
    if (dev->listen_fd < 0 || dev->epoll_fd < 0 || dev->stop_rd < 0 ||
        watch(dev, dev->stop_rd, &dev->stop_rd) < 0 || watch(dev, dev->notify_fd, &dev->notify_fd) < 0 ||
        watch(dev, dev->listen_fd, &dev->listen_fd) < 0) {
        e = errno;
        goto fail;
    }
    if ((e = pthread_create(&dev->worker, NULL, worker_main, dev)) != 0)
        goto fail;
    return dev;
fail:
    if (dev->listen_fd >= 0)
        OpenWhpHvSocketCloseListener(dev->listen_fd); /* and its file */
    if (dev->epoll_fd >= 0)
        close(dev->epoll_fd);
    if (dev->stop_rd >= 0) {
        close(dev->stop_rd);
        close(dev->stop_wr);
    }
    free(dev->socket_path);
    free(dev->fallback_prefix);
    pthread_cond_destroy(&dev->idle);
    pthread_mutex_destroy(&dev->lock);
    free(dev);
    errno = e;
    return NULL;
}

void vsock_destroy(struct vsock *dev)
{
    if (!dev)
        return;
    /* Closing the pipe's write end cannot fail to reach the worker (unlike a write, it has no
     * error to handle): its epoll_wait reports EPOLLHUP on the read end. */
    close(dev->stop_wr);
    pthread_join(dev->worker, NULL);
    while (dev->conns)
        conn_free(dev, dev->conns);
    OpenWhpHvSocketCloseListener(dev->listen_fd); /* and its file */
    close(dev->epoll_fd);
    close(dev->stop_rd);
    free(dev->socket_path);
    free(dev->fallback_prefix);
    pthread_cond_destroy(&dev->idle);
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}
