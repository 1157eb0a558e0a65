/* The 8254 programmable interval timer at ports 0x40-0x43, with port 0x61's gate and output
 * bits of channel 2. All three channels are programmable and readable; only channel 0 drives
 * an interrupt (IRQ 0, ops->set_irq). Time comes from ops->now_ns; the model has no thread. */
#ifndef OPENWHP_DEVICES_PIT_H
#define OPENWHP_DEVICES_PIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PIT_PORT_CH0 0x40
#define PIT_PORT_CH1 0x41
#define PIT_PORT_CH2 0x42
#define PIT_PORT_CONTROL 0x43
#define PIT_PORT_B 0x61 /* system control port B: bit 0 gate 2, bit 5 out 2 */
#define PIT_IRQ 0
#define PIT_FREQ_HZ 1193182u
#define PIT_CHANNELS 3
#define PIT_NO_EVENT UINT64_MAX

/* Control word fields (port 0x43). */
#define PIT_CW_SC_SHIFT 6    /* channel select; 3 = read-back command */
#define PIT_CW_RW_SHIFT 4    /* access: 0 latch command, 1 LSB, 2 MSB, 3 LSB then MSB */
#define PIT_CW_MODE_SHIFT 1  /* modes 0-5; 6 and 7 are 2 and 3 */
#define PIT_CW_BCD 0x01
#define PIT_RW_LATCH 0
#define PIT_RW_LSB 1
#define PIT_RW_MSB 2
#define PIT_RW_WORD 3
#define PIT_READBACK 0xc0
#define PIT_RB_NO_COUNT 0x20  /* read-back: do not latch the counts */
#define PIT_RB_NO_STATUS 0x10 /* read-back: do not latch the status */
#define PIT_RB_CH(n) (0x02 << (n))
#define PIT_STATUS_OUT 0x80
#define PIT_STATUS_NULL_COUNT 0x40

#define PIT_PORTB_GATE2 0x01
#define PIT_PORTB_SPEAKER 0x02
#define PIT_PORTB_WRITABLE 0x0f /* gate 2, speaker data and the two NMI enables */
#define PIT_PORTB_REFRESH 0x10
#define PIT_PORTB_OUT2 0x20

struct pit_ops {
    /* A monotonic clock in nanoseconds (CLOCK_MONOTONIC in a VMM, a fake clock in tests).
     * Called with the lock held: it must not call into the model. */
    uint64_t (*now_ns)(void *ctx);
    /* IRQ 0. Each interrupt is a pulse, set_irq(true) then set_irq(false), so an edge-triggered
     * PIC or IOAPIC input sees exactly one rising edge. Called without the lock held (it may
     * re-enter the model), only from pit_tick: a VMM that calls pit_tick from one thread gets
     * its pulses in order. */
    void (*set_irq)(void *ctx, bool level);
};

/* One counter. Counting is kept as time: the counter has run elapsed_ticks() since load_ns
 * (plus carried ticks from before a gate pause), and its value and OUT derive from that. */
struct pit_channel {
    uint8_t mode;          /* 0-5 */
    uint8_t rw;            /* PIT_RW_LSB, _MSB or _WORD */
    bool bcd;
    bool gate;             /* channels 0 and 1: always high; channel 2: port 0x61 bit 0 */
    bool have_count;       /* a count was written since the control word */
    bool armed;            /* the count is in the counting element (modes 1, 5: triggered) */
    bool running;          /* armed and counting (gate high in modes 0, 2, 3, 4) */
    bool pending;          /* modes 2, 3: a new count waits for the period end at switch_ns */
    bool null_count;       /* status bit 6: the last count written is not yet in use */
    uint32_t reload;       /* count register, 1-65536 (1-10000 in BCD) */
    uint32_t count;        /* the count of the current cycle */
    uint64_t load_ns;      /* when counting (re)started */
    uint64_t carried;      /* ticks counted before the last gate pause */
    uint64_t switch_ns;    /* with pending: when the current period ends */
    uint8_t write_lsb;     /* PIT_RW_WORD: the LSB written, waiting for the MSB */
    bool write_msb_next;
    bool read_msb_next;    /* PIT_RW_WORD: the next unlatched read returns the MSB */
    uint8_t latch_rw;      /* 0, or the access mode of the latched count still to be read */
    bool latch_msb_next;
    uint16_t latched;
    bool status_latched;
    uint8_t status;
};

struct pit {
    const struct pit_ops *ops;
    void *ctx;
    pthread_mutex_t lock; /* protects every field below; ops and ctx are fixed at init */
    struct pit_channel ch[PIT_CHANNELS];
    uint8_t port_b;       /* PIT_PORTB_WRITABLE bits as last written */
    uint64_t next_irq_ns; /* channel 0's next interrupt, or PIT_NO_EVENT */
};

/* 0 or -errno. Every channel starts unprogrammed: mode 3, LSB then MSB, no count loaded, so
 * nothing counts and no interrupt is due until the guest writes a count. Gate 2 is low. */
int pit_init(struct pit *pit, const struct pit_ops *ops, void *ctx);
void pit_destroy(struct pit *pit);
/* Board reset: back to the state pit_init leaves. */
void pit_reset(struct pit *pit);

/* Guest port accesses to 0x40-0x43 and 0x61. A wider access is a sequence of byte accesses to
 * consecutive ports, as on the ISA bus; ports the PIT does not decode (and the write-only
 * control port) read all ones, writes to them are ignored. Never calls set_irq: after a write
 * the VMM asks pit_next_event_ns again, since the guest may have reprogrammed channel 0. */
void pit_pio_read(struct pit *pit, uint16_t port, void *data, unsigned size);
void pit_pio_write(struct pit *pit, uint16_t port, const void *data, unsigned size);

/* The clock time (ops->now_ns) at which channel 0's next interrupt is due, or PIT_NO_EVENT.
 * Mode 0 interrupts once, at terminal count; modes 2 and 3 once per period (the rising edge
 * of OUT); mode 4 once, after the strobe; modes 1 and 5 never, since gate 0 is fixed high. */
uint64_t pit_next_event_ns(struct pit *pit);

/* Called by the VMM at or after pit_next_event_ns: pulses IRQ 0 if an interrupt is due and
 * schedules the next one after now. Periods missed by a late call are coalesced into this
 * one pulse (as a PIC would merge edges it had not yet acknowledged); the following period
 * stays aligned to the programmed rate, so a VMM may also rate-limit its calls (a guest can
 * program a period of one tick). Returns whether it pulsed; early calls do nothing. */
bool pit_tick(struct pit *pit);

#endif /* OPENWHP_DEVICES_PIT_H */
