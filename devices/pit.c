/* The 8254 PIT: each counter is kept as "counting since load_ns with count N", so its value,
 * OUT and the next interrupt are computed from the clock when asked; control words, latches,
 * read-back, BCD, the six modes and channel 2's gate follow the 8254 datasheet. */
#include "pit.h"

#include <stdio.h>
#include <string.h>

#define PIT_LOCK(p) pthread_mutex_lock(&(p)->lock)
#define PIT_UNLOCK(p) pthread_mutex_unlock(&(p)->lock)

/* State changes are traced to stderr when built with -DOPENWHP_DEVICE_TRACE. */
#ifdef OPENWHP_DEVICE_TRACE
#define PIT_TRACE(...) fprintf(stderr, "pit: " __VA_ARGS__)
#else
#define PIT_TRACE(...)                                                                             \
    do {                                                                                           \
        if (0)                                                                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)
#endif

#define NS_PER_S 1000000000ull
#define REFRESH_PERIOD_NS 15085 /* port 0x61 bit 4 toggles every 15.085 us */
#define MODULUS_BINARY 65536u
#define MODULUS_BCD 10000u

/* floor(ns * PIT_FREQ_HZ / 10^9), exactly, without overflow: seconds and remainder apart. */
static uint64_t ns_to_ticks(uint64_t ns)
{
    return ns / NS_PER_S * PIT_FREQ_HZ + ns % NS_PER_S * PIT_FREQ_HZ / NS_PER_S;
}

/* The least ns with ns_to_ticks(ns) >= ticks: when the clock reaches that tick. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
    uint64_t rem = ticks % PIT_FREQ_HZ;
    return ticks / PIT_FREQ_HZ * NS_PER_S + (rem * NS_PER_S + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
}

static uint32_t modulus(const struct pit_channel *c)
{
    return c->bcd ? MODULUS_BCD : MODULUS_BINARY;
}

/* Digits above 9 are taken at face value; the result is reduced by the caller. */
static uint32_t from_bcd(uint16_t v)
{
    return (v >> 12 & 15) * 1000u + (v >> 8 & 15) * 100u + (v >> 4 & 15) * 10u + (v & 15);
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* Clock ticks the counter has counted at now. */
static uint64_t elapsed(const struct pit_channel *c, uint64_t now)
{
    if (!c->running || now <= c->load_ns)
        return c->carried;
    return c->carried + ns_to_ticks(now - c->load_ns);
}

/* Modes 2 and 3: when the current period ends. Only while running, where carried is 0. */
static uint64_t period_end(const struct pit_channel *c, uint64_t now)
{
    uint64_t d = elapsed(c, now);
    return c->load_ns + ticks_to_ns((d / c->count + 1) * c->count);
}

/* Modes 2 and 3 take a count written while counting at the end of the current period. */
static void apply_pending(struct pit_channel *c, uint64_t now)
{
    if (c->pending && c->running && now >= c->switch_ns) {
        c->count = c->reload;
        c->load_ns = c->switch_ns;
        c->carried = 0;
        c->pending = false;
        c->null_count = false;
    }
}

/* Every access starts here, so the helpers below see the counts in use at now. */
static void sync_all(struct pit *pit, uint64_t now)
{
    for (unsigned n = 0; n < PIT_CHANNELS; n++)
        apply_pending(&pit->ch[n], now);
}

/* The next rising edge of OUT after now (the interrupt of channel 0), or PIT_NO_EVENT. */
static uint64_t next_event(const struct pit_channel *c, uint64_t now)
{
    if (!c->running)
        return PIT_NO_EVENT;
    uint64_t d = elapsed(c, now);
    uint64_t t;
    switch (c->mode) {
    case 0:
    case 1:
        t = c->count; /* terminal count */
        break;
    case 2:
    case 3:
        t = (d / c->count + 1) * c->count;
        break;
    default:
        t = (uint64_t)c->count + 1; /* the end of the one-tick strobe */
        break;
    }
    if (t <= d)
        return PIT_NO_EVENT;
    return c->load_ns + ticks_to_ns(t - c->carried);
}

static uint16_t counter_value(const struct pit_channel *c, uint64_t now)
{
    uint32_t m = modulus(c);
    uint32_t v;

    if (!c->armed) {
        v = c->reload % m;
    } else {
        uint64_t d = elapsed(c, now);
        uint32_t n = c->count;
        switch (c->mode) {
        case 2:
            v = n - (uint32_t)(d % n);
            break;
        case 3:
            v = n - (uint32_t)(2 * d % n); /* counts down by two, twice per period */
            break;
        default:
            v = (n + m - (uint32_t)(d % m)) % m; /* wraps and keeps counting */
            break;
        }
        v %= m;
    }
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

static bool out(const struct pit_channel *c, uint64_t now)
{
    if (!c->armed)
        return c->mode != 0; /* mode 0 OUT is low from the control word to terminal count */
    uint64_t d = elapsed(c, now);
    uint32_t n = c->count;
    switch (c->mode) {
    case 0:
    case 1:
        return d >= n;
    case 2:
        return !c->running || d % n != n - 1; /* low for the last tick of each period */
    case 3:
        return !c->running || d % n < (n + 1) / 2u; /* high for the first half, rounded up */
    default:
        return d != n; /* modes 4, 5: low for one tick at terminal count */
    }
}

/* Loads the count register into the counting element and starts counting now. */
static void start(struct pit *pit, unsigned n, uint64_t now)
{
    struct pit_channel *c = &pit->ch[n];

    c->count = c->reload;
    c->armed = true;
    c->running = c->gate || c->mode == 1 || c->mode == 5;
    c->pending = false;
    c->null_count = false;
    c->carried = 0;
    c->load_ns = now;
    PIT_TRACE("channel %u mode %u count %u%s\n", n, c->mode, c->count,
              c->running ? "" : " (gate low)");
    if (n == 0)
        pit->next_irq_ns = next_event(c, now);
}

static void stop(struct pit *pit, unsigned n)
{
    struct pit_channel *c = &pit->ch[n];

    c->armed = false;
    c->running = false;
    c->pending = false;
    if (n == 0)
        pit->next_irq_ns = PIT_NO_EVENT;
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
    if (c->latch_rw)
        return; /* a latched count not yet read is kept */
    c->latched = counter_value(c, now);
    c->latch_rw = c->rw;
    c->latch_msb_next = false;
}

static void latch_status(struct pit_channel *c, uint64_t now)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)((out(c, now) ? PIT_STATUS_OUT : 0) |
                          (c->null_count ? PIT_STATUS_NULL_COUNT : 0) |
                          c->rw << PIT_CW_RW_SHIFT | c->mode << PIT_CW_MODE_SHIFT |
                          (c->bcd ? PIT_CW_BCD : 0));
    c->status_latched = true;
}

static void control_word(struct pit *pit, uint8_t val, uint64_t now)
{
    unsigned sc = val >> PIT_CW_SC_SHIFT;
    uint8_t rw = val >> PIT_CW_RW_SHIFT & 3;

    if (sc == 3) { /* read-back; bit 0 is reserved and ignored */
        for (unsigned n = 0; n < PIT_CHANNELS; n++) {
            if (!(val & PIT_RB_CH(n)))
                continue;
            if (!(val & PIT_RB_NO_COUNT))
                latch_count(&pit->ch[n], now);
            if (!(val & PIT_RB_NO_STATUS))
                latch_status(&pit->ch[n], now);
        }
        return;
    }
    struct pit_channel *c = &pit->ch[sc];
    if (rw == PIT_RW_LATCH) {
        latch_count(c, now);
        return;
    }
    /* A control word resets the counter's control logic: access sequences, latches, and the
     * counting itself until a new count is written. */
    c->mode = val >> PIT_CW_MODE_SHIFT & 7;
    if (c->mode > 5)
        c->mode -= 4;
    c->rw = rw;
    c->bcd = val & PIT_CW_BCD;
    c->have_count = false;
    c->null_count = true;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->latch_rw = 0;
    c->status_latched = false;
    stop(pit, sc);
    PIT_TRACE("channel %u control %#x: mode %u rw %u%s\n", sc, val, c->mode, rw,
              c->bcd ? " bcd" : "");
}

static void load_count(struct pit *pit, unsigned n, uint16_t raw, uint64_t now)
{
    struct pit_channel *c = &pit->ch[n];
    uint32_t m = modulus(c);
    uint32_t v = (c->bcd ? from_bcd(raw) : raw) % m;

    c->reload = v ? v : m;
    c->have_count = true;
    c->null_count = true;
    switch (c->mode) {
    case 0:
    case 4:
        start(pit, n, now); /* restarts at once with the new count */
        break;
    case 2:
    case 3:
        if (!c->armed) {
            start(pit, n, now);
        } else if (c->running) { /* the current period finishes first */
            c->pending = true;
            c->switch_ns = period_end(c, now);
        } /* else the gate is low and its rising edge loads the new count */
        break;
    default:
        break; /* modes 1 and 5 wait for a gate trigger */
    }
}

static void write_counter(struct pit *pit, unsigned n, uint8_t val, uint64_t now)
{
    struct pit_channel *c = &pit->ch[n];

    switch (c->rw) {
    case PIT_RW_LSB:
        load_count(pit, n, val, now);
        break;
    case PIT_RW_MSB:
        load_count(pit, n, (uint16_t)(val << 8), now);
        break;
    default:
        if (!c->write_msb_next) {
            c->write_lsb = val;
            c->write_msb_next = true;
            if (c->mode == 0)
                stop(pit, n); /* mode 0: the first byte stops counting, OUT goes low */
        } else {
            c->write_msb_next = false;
            load_count(pit, n, (uint16_t)(c->write_lsb | val << 8), now);
        }
        break;
    }
}

static uint8_t read_counter(struct pit_channel *c, uint64_t now)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->latch_rw) {
        bool msb = c->latch_rw == PIT_RW_MSB || (c->latch_rw == PIT_RW_WORD && c->latch_msb_next);
        if (c->latch_rw == PIT_RW_WORD && !c->latch_msb_next)
            c->latch_msb_next = true;
        else
            c->latch_rw = 0;
        return (uint8_t)(msb ? c->latched >> 8 : c->latched);
    }
    uint16_t v = counter_value(c, now);
    bool msb = c->rw == PIT_RW_MSB || (c->rw == PIT_RW_WORD && c->read_msb_next);
    if (c->rw == PIT_RW_WORD)
        c->read_msb_next = !c->read_msb_next;
    return (uint8_t)(msb ? v >> 8 : v);
}

/* Channel 2's gate. Modes 0 and 4 pause while it is low; modes 2 and 3 stop with OUT high
 * and restart on the rising edge; modes 1 and 5 are triggered by the rising edge. */
static void set_gate2(struct pit *pit, bool level, uint64_t now)
{
    struct pit_channel *c = &pit->ch[2];

    if (level == c->gate)
        return;
    c->gate = level;
    switch (c->mode) {
    case 0:
    case 4:
    case 2:
    case 3:
        if (!c->armed)
            break;
        if (!level) {
            c->carried = elapsed(c, now);
            c->running = false;
        } else if (c->mode == 0 || c->mode == 4) {
            c->load_ns = now;
            c->running = true;
        } else {
            start(pit, 2, now);
        }
        break;
    default:
        if (level && c->have_count)
            start(pit, 2, now);
        break;
    }
}

static uint8_t read_port(struct pit *pit, uint16_t port, uint64_t now)
{
    switch (port) {
    case PIT_PORT_CH0:
    case PIT_PORT_CH1:
    case PIT_PORT_CH2:
        return read_counter(&pit->ch[port - PIT_PORT_CH0], now);
    case PIT_PORT_B:
        return (uint8_t)(pit->port_b | ((now / REFRESH_PERIOD_NS) & 1 ? PIT_PORTB_REFRESH : 0) |
                         (out(&pit->ch[2], now) ? PIT_PORTB_OUT2 : 0));
    default:
        return 0xff; /* including the write-only control port */
    }
}

static void write_port(struct pit *pit, uint16_t port, uint8_t val, uint64_t now)
{
    switch (port) {
    case PIT_PORT_CH0:
    case PIT_PORT_CH1:
    case PIT_PORT_CH2:
        write_counter(pit, port - PIT_PORT_CH0, val, now);
        break;
    case PIT_PORT_CONTROL:
        control_word(pit, val, now);
        break;
    case PIT_PORT_B:
        pit->port_b = val & PIT_PORTB_WRITABLE;
        set_gate2(pit, val & PIT_PORTB_GATE2, now);
        break;
    default:
        break;
    }
}

static void reset_locked(struct pit *pit)
{
    memset(pit->ch, 0, sizeof(pit->ch));
    for (unsigned n = 0; n < PIT_CHANNELS; n++) {
        struct pit_channel *c = &pit->ch[n];
        c->mode = 3;
        c->rw = PIT_RW_WORD;
        c->gate = n != 2;
        c->reload = MODULUS_BINARY;
        c->count = MODULUS_BINARY;
        c->null_count = true;
    }
    pit->port_b = 0;
    pit->next_irq_ns = PIT_NO_EVENT;
}

int pit_init(struct pit *pit, const struct pit_ops *ops, void *ctx)
{
    memset(pit, 0, sizeof(*pit));
    int err = pthread_mutex_init(&pit->lock, NULL);
    if (err)
        return -err;
    pit->ops = ops;
    pit->ctx = ctx;
    reset_locked(pit);
    return 0;
}

void pit_destroy(struct pit *pit)
{
    pthread_mutex_destroy(&pit->lock);
}

void pit_reset(struct pit *pit)
{
    PIT_LOCK(pit);
    reset_locked(pit);
    PIT_UNLOCK(pit);
}

void pit_pio_read(struct pit *pit, uint16_t port, void *data, unsigned size)
{
    uint8_t *bytes = data;

    PIT_LOCK(pit);
    uint64_t now = pit->ops->now_ns(pit->ctx);
    sync_all(pit, now);
    for (unsigned i = 0; i < size; i++)
        bytes[i] = read_port(pit, (uint16_t)(port + i), now);
    PIT_UNLOCK(pit);
}

void pit_pio_write(struct pit *pit, uint16_t port, const void *data, unsigned size)
{
    const uint8_t *bytes = data;

    PIT_LOCK(pit);
    uint64_t now = pit->ops->now_ns(pit->ctx);
    sync_all(pit, now);
    for (unsigned i = 0; i < size; i++)
        write_port(pit, (uint16_t)(port + i), bytes[i], now);
    PIT_UNLOCK(pit);
}

uint64_t pit_next_event_ns(struct pit *pit)
{
    PIT_LOCK(pit);
    uint64_t t = pit->next_irq_ns;
    PIT_UNLOCK(pit);
    return t;
}

bool pit_tick(struct pit *pit)
{
    PIT_LOCK(pit);
    uint64_t now = pit->ops->now_ns(pit->ctx);
    struct pit_channel *c = &pit->ch[0];
    apply_pending(c, now);
    bool fire = pit->next_irq_ns != PIT_NO_EVENT && now >= pit->next_irq_ns;
    if (fire)
        pit->next_irq_ns = next_event(c, now);
    PIT_UNLOCK(pit);

    if (fire) {
        PIT_TRACE("IRQ 0\n");
        pit->ops->set_irq(pit->ctx, true);
        pit->ops->set_irq(pit->ctx, false);
    }
    return fire;
}
