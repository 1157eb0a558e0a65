/* Unit tests of the 8254 PIT model with a fake clock and a recording IRQ callback: modes 0, 2,
 * 3 and 4, access modes, latch and read-back, reloads while counting, count 0, BCD, channel
 * 2's gate and output through port 0x61, coalesced ticks and hostile control words. */
#include <stdio.h>
#include <string.h>

#include "pit.h"

#include "check.h"

#define NS_PER_S 1000000000ull
#define T0 (1000 * NS_PER_S)

static uint64_t clock_ns;
static unsigned edges;      /* rising edges of IRQ 0 */
static bool level;          /* its current level */
static bool bad_sequence;   /* a raise while high or a lower while low */
static struct pit *reenter; /* when set, set_irq calls back into the model */
static uint64_t reenter_next;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return clock_ns;
}

static void fake_set_irq(void *ctx, bool l)
{
    (void)ctx;
    if (l == level)
        bad_sequence = true;
    if (l)
        edges++;
    level = l;
    if (reenter)
        reenter_next = pit_next_event_ns(reenter);
}

static const struct pit_ops ops = {.now_ns = fake_now, .set_irq = fake_set_irq};

/* When tick t after `start` begins: the least ns with floor(ns * F / 10^9) >= t. */
static uint64_t at(uint64_t start, uint64_t t)
{
    return start + (uint64_t)(((unsigned __int128)t * NS_PER_S + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ);
}

static void outb(struct pit *pit, uint16_t port, uint8_t v)
{
    pit_pio_write(pit, port, &v, 1);
}

static uint8_t inb(struct pit *pit, uint16_t port)
{
    uint8_t v;
    pit_pio_read(pit, port, &v, 1);
    return v;
}

static void setup(struct pit *pit)
{
    clock_ns = T0;
    edges = 0;
    level = false;
    bad_sequence = false;
    CHECK(pit_init(pit, &ops, NULL) == 0);
}

/* Control word for channel ch, access rw, mode m, binary. */
static uint8_t cw(unsigned ch, unsigned rw, unsigned m)
{
    return (uint8_t)(ch << 6 | rw << 4 | m << 1);
}

static void program(struct pit *pit, unsigned ch, unsigned m, uint16_t count)
{
    outb(pit, PIT_PORT_CONTROL, cw(ch, PIT_RW_WORD, m));
    outb(pit, (uint16_t)(PIT_PORT_CH0 + ch), (uint8_t)count);
    outb(pit, (uint16_t)(PIT_PORT_CH0 + ch), (uint8_t)(count >> 8));
}

static uint16_t latch_read(struct pit *pit, unsigned ch)
{
    outb(pit, PIT_PORT_CONTROL, cw(ch, PIT_RW_LATCH, 0));
    uint8_t lo = inb(pit, (uint16_t)(PIT_PORT_CH0 + ch));
    return (uint16_t)(lo | inb(pit, (uint16_t)(PIT_PORT_CH0 + ch)) << 8);
}

static uint8_t status(struct pit *pit, unsigned ch)
{
    outb(pit, PIT_PORT_CONTROL, PIT_READBACK | PIT_RB_NO_COUNT | PIT_RB_CH(ch));
    return inb(pit, (uint16_t)(PIT_PORT_CH0 + ch));
}

static void test_reset_state(void)
{
    struct pit pit;
    setup(&pit);
    CHECK(pit_next_event_ns(&pit) == PIT_NO_EVENT);
    clock_ns += NS_PER_S;
    CHECK(!pit_tick(&pit) && edges == 0);
    CHECK(status(&pit, 0) == (PIT_STATUS_OUT | PIT_STATUS_NULL_COUNT | 0x30 | 3 << 1));
    CHECK((inb(&pit, PIT_PORT_B) & PIT_PORTB_GATE2) == 0);
    pit_destroy(&pit);
}

static void test_mode2_rate(void)
{
    struct pit pit;
    setup(&pit);
    program(&pit, 0, 2, 1193); /* about 1 kHz */
    CHECK(status(&pit, 0) == (PIT_STATUS_OUT | 0x30 | 2 << 1)); /* null count cleared */
    CHECK(pit_next_event_ns(&pit) == at(T0, 1193));
    clock_ns = at(T0, 1193) - 1;
    CHECK(!pit_tick(&pit) && edges == 0);
    int misaligned = 0;
    for (uint64_t k = 1; k <= 1000; k++) {
        clock_ns = at(T0, k * 1193);
        bool fired = pit_tick(&pit);
        if (!fired || edges != k || level || pit_next_event_ns(&pit) != at(T0, (k + 1) * 1193))
            misaligned++;
    }
    CHECK(misaligned == 0);
    CHECK(!bad_sequence);
    /* 1000 periods of 1193 ticks: 0.99984 s */
    CHECK(clock_ns - T0 == 999847467);

    clock_ns = at(T0, 1000 * 1193 + 100);
    CHECK(latch_read(&pit, 0) == 1193 - 100);
    /* OUT is low for the last tick of each period only */
    clock_ns = at(T0, 1001 * 1193 + 1192);
    CHECK(!(status(&pit, 0) & PIT_STATUS_OUT));
    clock_ns = at(T0, 1001 * 1193 + 1191);
    CHECK(status(&pit, 0) & PIT_STATUS_OUT);
    pit_destroy(&pit);
}

static void test_coalescing(void)
{
    struct pit pit;
    setup(&pit);
    program(&pit, 0, 2, 1000);
    clock_ns = at(T0, 5500); /* five periods due */
    CHECK(pit_tick(&pit) && edges == 1);
    CHECK(pit_next_event_ns(&pit) == at(T0, 6000)); /* still aligned */
    CHECK(!pit_tick(&pit) && edges == 1);
    clock_ns = at(T0, 6000);
    CHECK(pit_tick(&pit) && edges == 2);
    CHECK(!bad_sequence);
    pit_destroy(&pit);
}

static void test_mode0_one_shot(void)
{
    struct pit pit;
    setup(&pit);
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_WORD, 0));
    CHECK(!(status(&pit, 0) & PIT_STATUS_OUT)); /* low from the control word */
    outb(&pit, PIT_PORT_CH0, 1000 & 0xff);
    outb(&pit, PIT_PORT_CH0, 1000 >> 8);
    CHECK(pit_next_event_ns(&pit) == at(T0, 1000));
    clock_ns = at(T0, 999);
    CHECK(!(status(&pit, 0) & PIT_STATUS_OUT));
    CHECK(latch_read(&pit, 0) == 1);
    CHECK(!pit_tick(&pit));
    clock_ns = at(T0, 1000);
    CHECK(status(&pit, 0) & PIT_STATUS_OUT);
    CHECK(pit_tick(&pit) && edges == 1 && !level);
    CHECK(pit_next_event_ns(&pit) == PIT_NO_EVENT);
    clock_ns = at(T0, 1500); /* the counter wraps and keeps counting; OUT stays high */
    CHECK(latch_read(&pit, 0) == (uint16_t)(1000 - 1500));
    CHECK(status(&pit, 0) & PIT_STATUS_OUT);
    clock_ns = at(T0, 1000 + 65536);
    CHECK(!pit_tick(&pit) && edges == 1);

    /* a new count restarts it; the first byte alone stops it with OUT low */
    uint64_t t1 = clock_ns;
    outb(&pit, PIT_PORT_CH0, 50);
    CHECK(!(status(&pit, 0) & PIT_STATUS_OUT));
    CHECK(pit_next_event_ns(&pit) == PIT_NO_EVENT);
    outb(&pit, PIT_PORT_CH0, 0);
    CHECK(pit_next_event_ns(&pit) == at(t1, 50));
    clock_ns = at(t1, 50);
    CHECK(pit_tick(&pit) && edges == 2);
    pit_destroy(&pit);
}

static void test_mode4_strobe(void)
{
    struct pit pit;
    setup(&pit);
    program(&pit, 0, 4, 100);
    CHECK(pit_next_event_ns(&pit) == at(T0, 101)); /* OUT rises after the one-tick strobe */
    clock_ns = at(T0, 100);
    CHECK(!(status(&pit, 0) & PIT_STATUS_OUT));
    clock_ns = at(T0, 101);
    CHECK(status(&pit, 0) & PIT_STATUS_OUT);
    CHECK(pit_tick(&pit) && edges == 1);
    CHECK(pit_next_event_ns(&pit) == PIT_NO_EVENT);
    pit_destroy(&pit);
}

static void test_mode3_square_wave(void)
{
    struct pit pit;
    setup(&pit);
    program(&pit, 0, 3, 100);
    CHECK(pit_next_event_ns(&pit) == at(T0, 100));
    clock_ns = at(T0, 10);
    CHECK(latch_read(&pit, 0) == 80); /* counts down by two */
    clock_ns = at(T0, 49);
    CHECK(status(&pit, 0) & PIT_STATUS_OUT);
    clock_ns = at(T0, 50);
    CHECK(!(status(&pit, 0) & PIT_STATUS_OUT));
    clock_ns = at(T0, 99);
    CHECK(!(status(&pit, 0) & PIT_STATUS_OUT));
    clock_ns = at(T0, 100);
    CHECK(status(&pit, 0) & PIT_STATUS_OUT);
    CHECK(pit_tick(&pit) && edges == 1);
    CHECK(pit_next_event_ns(&pit) == at(T0, 200));
    /* odd count: high one tick longer than low */
    program(&pit, 0, 3, 5);
    uint64_t t1 = clock_ns;
    clock_ns = at(t1, 2);
    CHECK(status(&pit, 0) & PIT_STATUS_OUT);
    clock_ns = at(t1, 3);
    CHECK(!(status(&pit, 0) & PIT_STATUS_OUT));
    CHECK(pit_next_event_ns(&pit) == at(t1, 5));
    pit_destroy(&pit);
}

static void test_access_modes(void)
{
    struct pit pit;
    setup(&pit);
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_LSB, 2));
    outb(&pit, PIT_PORT_CH0, 0x80);
    CHECK(pit_next_event_ns(&pit) == at(T0, 0x80));
    clock_ns = at(T0, 0x10);
    CHECK(inb(&pit, PIT_PORT_CH0) == 0x70);
    CHECK(inb(&pit, PIT_PORT_CH0) == 0x70); /* no toggle in LSB mode */

    uint64_t t1 = clock_ns;
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_MSB, 2));
    outb(&pit, PIT_PORT_CH0, 0x02); /* 0x200 */
    CHECK(pit_next_event_ns(&pit) == at(t1, 0x200));
    clock_ns = at(t1, 0x101);
    CHECK(inb(&pit, PIT_PORT_CH0) == 0x00); /* 0x0ff */
    clock_ns = at(t1, 0x100);
    CHECK(inb(&pit, PIT_PORT_CH0) == 0x01);

    uint64_t t2 = clock_ns;
    program(&pit, 0, 2, 0x1234);
    clock_ns = at(t2, 0x34);
    CHECK(inb(&pit, PIT_PORT_CH0) == 0x00); /* 0x1200: LSB, then MSB */
    CHECK(inb(&pit, PIT_PORT_CH0) == 0x12);
    CHECK(inb(&pit, PIT_PORT_CH0) == 0x00);
    pit_destroy(&pit);
}

static void test_latch_and_readback(void)
{
    struct pit pit;
    setup(&pit);
    program(&pit, 0, 2, 1000);
    program(&pit, 1, 2, 2000);
    clock_ns = at(T0, 100);
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_LATCH, 0));
    clock_ns = at(T0, 200);
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_LATCH, 0)); /* ignored: the first is unread */
    uint8_t lo = inb(&pit, PIT_PORT_CH0);
    clock_ns = at(T0, 300);
    uint8_t hi = inb(&pit, PIT_PORT_CH0);
    CHECK((lo | hi << 8) == 900);
    CHECK(latch_read(&pit, 0) == 700); /* latch released: a new one is live */
    uint8_t l2 = inb(&pit, PIT_PORT_CH0);
    CHECK((l2 | inb(&pit, PIT_PORT_CH0) << 8) == 700); /* and unlatched reads too */

    /* read-back of status and count on two channels at once */
    outb(&pit, PIT_PORT_CONTROL, PIT_READBACK | PIT_RB_CH(0) | PIT_RB_CH(1));
    clock_ns = at(T0, 400);
    CHECK(inb(&pit, PIT_PORT_CH0) == (PIT_STATUS_OUT | 0x30 | 2 << 1)); /* status first */
    CHECK(inb(&pit, PIT_PORT_CH0) == (700 & 0xff));
    CHECK(inb(&pit, PIT_PORT_CH0) == 700 >> 8);
    CHECK(inb(&pit, PIT_PORT_CH1) == (PIT_STATUS_OUT | 0x30 | 2 << 1));
    lo = inb(&pit, PIT_PORT_CH1);
    CHECK((lo | inb(&pit, PIT_PORT_CH1) << 8) == 1700);
    /* count only */
    outb(&pit, PIT_PORT_CONTROL, PIT_READBACK | PIT_RB_NO_STATUS | PIT_RB_CH(1));
    lo = inb(&pit, PIT_PORT_CH1);
    CHECK((lo | inb(&pit, PIT_PORT_CH1) << 8) == 1600);
    /* status twice: the second latch waits for the first to be read */
    outb(&pit, PIT_PORT_CONTROL, PIT_READBACK | PIT_RB_NO_COUNT | PIT_RB_CH(1));
    outb(&pit, PIT_PORT_CONTROL, cw(1, PIT_RW_WORD, 0));
    CHECK(inb(&pit, PIT_PORT_CH1) != (PIT_STATUS_OUT | 0x30 | 2 << 1)); /* cleared by it */
    outb(&pit, PIT_PORT_CONTROL, PIT_READBACK | PIT_RB_NO_COUNT | PIT_RB_CH(1));
    CHECK(inb(&pit, PIT_PORT_CH1) == (PIT_STATUS_NULL_COUNT | 0x30)); /* mode 0, OUT low */
    pit_destroy(&pit);
}

static void test_reload_while_counting(void)
{
    struct pit pit;
    setup(&pit);
    program(&pit, 0, 2, 1000);
    clock_ns = at(T0, 300);
    program(&pit, 0, 2, 500); /* a control word stops it: the new count starts now */
    CHECK(pit_next_event_ns(&pit) == at(clock_ns, 500));

    uint64_t t1 = clock_ns;
    clock_ns = at(t1, 200);
    outb(&pit, PIT_PORT_CH0, 2000 & 0xff); /* count only: waits for the period end */
    outb(&pit, PIT_PORT_CH0, 2000 >> 8);
    CHECK(status(&pit, 0) & PIT_STATUS_NULL_COUNT);
    CHECK(pit_next_event_ns(&pit) == at(t1, 500));
    CHECK(latch_read(&pit, 0) == 300);
    clock_ns = at(t1, 500);
    CHECK(pit_tick(&pit) && edges == 1);
    CHECK(pit_next_event_ns(&pit) == at(at(t1, 500), 2000));
    CHECK(!(status(&pit, 0) & PIT_STATUS_NULL_COUNT));
    clock_ns = at(at(t1, 500), 100);
    CHECK(latch_read(&pit, 0) == 1900);

    /* mode 0: a new count restarts at once */
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_LSB, 0));
    outb(&pit, PIT_PORT_CH0, 200);
    uint64_t t2 = clock_ns;
    clock_ns = at(t2, 150);
    outb(&pit, PIT_PORT_CH0, 100);
    CHECK(pit_next_event_ns(&pit) == at(clock_ns, 100));
    pit_destroy(&pit);
}

static void test_count_zero(void)
{
    struct pit pit;
    setup(&pit);
    program(&pit, 0, 2, 0);
    CHECK(pit_next_event_ns(&pit) == at(T0, 65536));
    CHECK(latch_read(&pit, 0) == 0);
    clock_ns = at(T0, 1);
    CHECK(latch_read(&pit, 0) == 65535);
    clock_ns = at(T0, 65536);
    CHECK(pit_tick(&pit) && pit_next_event_ns(&pit) == at(T0, 2 * 65536));
    /* BCD: 0 means 10000, the counter reads in BCD */
    uint64_t t1 = clock_ns;
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_WORD, 2) | PIT_CW_BCD);
    outb(&pit, PIT_PORT_CH0, 0);
    outb(&pit, PIT_PORT_CH0, 0);
    CHECK(pit_next_event_ns(&pit) == at(t1, 10000));
    clock_ns = at(t1, 1);
    CHECK(latch_read(&pit, 0) == 0x9999);
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_WORD, 0) | PIT_CW_BCD);
    outb(&pit, PIT_PORT_CH0, 0x34);
    outb(&pit, PIT_PORT_CH0, 0x12); /* 1234 decimal */
    uint64_t t2 = clock_ns;
    CHECK(pit_next_event_ns(&pit) == at(t2, 1234));
    clock_ns = at(t2, 1240); /* wraps at 10000 */
    CHECK(latch_read(&pit, 0) == 0x9994);
    pit_destroy(&pit);
}

static void test_channel2_port61(void)
{
    struct pit pit;
    setup(&pit);
    /* Linux's PIT calibration: gate on, speaker off, mode 0, poll OUT */
    uint8_t b = inb(&pit, PIT_PORT_B);
    outb(&pit, PIT_PORT_B, (uint8_t)((b & ~PIT_PORTB_SPEAKER) | PIT_PORTB_GATE2));
    program(&pit, 2, 0, 11932);
    CHECK((inb(&pit, PIT_PORT_B) & (PIT_PORTB_OUT2 | 0x0f)) == PIT_PORTB_GATE2);
    clock_ns = at(T0, 11931);
    CHECK(!(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2));
    clock_ns = at(T0, 11932);
    CHECK(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2);
    CHECK(pit_next_event_ns(&pit) == PIT_NO_EVENT); /* channel 2 drives no interrupt */
    CHECK(!pit_tick(&pit) && edges == 0);

    /* mode 0 pauses while the gate is low */
    uint64_t t1 = clock_ns;
    program(&pit, 2, 0, 1000);
    clock_ns = at(t1, 300);
    outb(&pit, PIT_PORT_B, 0);
    clock_ns = at(t1, 5000);
    CHECK(latch_read(&pit, 2) == 700);
    CHECK(!(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2));
    uint64_t t2 = clock_ns;
    outb(&pit, PIT_PORT_B, PIT_PORTB_GATE2);
    clock_ns = at(t2, 699);
    CHECK(!(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2));
    clock_ns = at(t2, 700);
    CHECK(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2);

    /* mode 2: gate low holds OUT high, the rising edge reloads */
    program(&pit, 2, 2, 100);
    uint64_t t3 = clock_ns;
    clock_ns = at(t3, 40);
    outb(&pit, PIT_PORT_B, 0);
    clock_ns = at(t3, 99);
    CHECK(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2);
    outb(&pit, PIT_PORT_B, PIT_PORTB_GATE2);
    uint64_t t4 = clock_ns;
    clock_ns = at(t4, 10);
    CHECK(latch_read(&pit, 2) == 90);

    /* mode 1: the gate's rising edge triggers a one-shot with OUT low until terminal count */
    outb(&pit, PIT_PORT_CONTROL, cw(2, PIT_RW_LSB, 1));
    outb(&pit, PIT_PORT_CH2, 50);
    CHECK(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2); /* not triggered: gate already high */
    outb(&pit, PIT_PORT_B, 0);
    outb(&pit, PIT_PORT_B, PIT_PORTB_GATE2);
    uint64_t t5 = clock_ns;
    CHECK(!(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2));
    clock_ns = at(t5, 50);
    CHECK(inb(&pit, PIT_PORT_B) & PIT_PORTB_OUT2);

    /* bits 0-3 read back, 6-7 read 0; bit 4 is the refresh toggle */
    outb(&pit, PIT_PORT_B, 0xff);
    CHECK((inb(&pit, PIT_PORT_B) & 0xcf) == 0x0f);
    clock_ns = 15085 * 1000;
    uint8_t r0 = inb(&pit, PIT_PORT_B) & PIT_PORTB_REFRESH;
    clock_ns += 15085;
    CHECK((inb(&pit, PIT_PORT_B) & PIT_PORTB_REFRESH) != r0);
    pit_destroy(&pit);
}

static void test_hostile(void)
{
    struct pit pit;
    setup(&pit);
    /* modes 6 and 7 are 2 and 3 */
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_WORD, 6));
    CHECK((status(&pit, 0) & 0x0e) == 2 << 1);
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_WORD, 7));
    CHECK((status(&pit, 0) & 0x0e) == 3 << 1);
    /* read-back selecting nothing latches nothing; all channels with nothing to latch either */
    outb(&pit, PIT_PORT_CONTROL, 0xff);
    outb(&pit, PIT_PORT_CONTROL, PIT_READBACK);
    program(&pit, 0, 2, 1000);
    clock_ns = at(T0, 10);
    uint8_t lo = inb(&pit, PIT_PORT_CH0);
    CHECK((lo | inb(&pit, PIT_PORT_CH0) << 8) == 990);
    /* BCD counts with digits above 9 */
    outb(&pit, PIT_PORT_CONTROL, cw(0, PIT_RW_WORD, 2) | PIT_CW_BCD);
    outb(&pit, PIT_PORT_CH0, 0xff);
    outb(&pit, PIT_PORT_CH0, 0xff);
    CHECK(pit_next_event_ns(&pit) != PIT_NO_EVENT);
    /* a period of one tick: coalesced, bounded work per tick */
    program(&pit, 0, 2, 1);
    clock_ns += NS_PER_S;
    CHECK(pit_tick(&pit) && pit_next_event_ns(&pit) > clock_ns);

    /* every byte on every port, wide accesses across the range: no crash, sane deadlines */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int insane = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint16_t port = (uint16_t)(0x3e + x % 0x28);
        unsigned size = 1u << (x >> 8 & 3);
        uint64_t val = x >> 16;
        clock_ns += x >> 46; /* up to 262 us */
        if (x >> 40 & 1)
            pit_pio_write(&pit, port, &val, size);
        else
            pit_pio_read(&pit, port, &val, size);
        if (x >> 41 & 1)
            pit_tick(&pit);
        uint64_t next = pit_next_event_ns(&pit);
        if (next != PIT_NO_EVENT && next > clock_ns + 2 * 65536 * 1000ull)
            insane++;
    }
    CHECK(insane == 0);
    CHECK(edges > 0 && !bad_sequence);
    for (unsigned v = 0; v < 256; v++) {
        uint8_t b = (uint8_t)v;
        pit_pio_write(&pit, PIT_PORT_CONTROL, &b, 1);
    }
    uint32_t w;
    pit_pio_read(&pit, PIT_PORT_CONTROL, &w, 4); /* the write-only control port and beyond */
    CHECK(w == 0xffffffff);
    pit_pio_read(&pit, 0x20, &w, 4);
    CHECK(w == 0xffffffff);
    pit_reset(&pit);
    CHECK(pit_next_event_ns(&pit) == PIT_NO_EVENT);
    pit_destroy(&pit);
}

static void test_callback_without_lock(void)
{
    struct pit pit;
    setup(&pit);
    program(&pit, 0, 2, 100);
    reenter = &pit;
    clock_ns = at(T0, 100);
    CHECK(pit_tick(&pit)); /* set_irq reads the deadline: deadlocks if the lock were held */
    CHECK(reenter_next == at(T0, 200));
    reenter = NULL;
    pit_destroy(&pit);
}

static void test_long_uptime(void)
{
    struct pit pit;
    setup(&pit);
    clock_ns = 30 * 86400 * NS_PER_S + 12345; /* programmed after a month of uptime */
    uint64_t t1 = clock_ns;
    program(&pit, 0, 2, 11932);
    clock_ns = at(t1, 7 * 86400ull * PIT_FREQ_HZ / 11932 * 11932); /* a week of periods */
    CHECK(pit_tick(&pit));
    uint64_t k = 7 * 86400ull * PIT_FREQ_HZ / 11932 + 1;
    CHECK(pit_next_event_ns(&pit) == at(t1, k * 11932));
    pit_destroy(&pit);
}

int main(void)
{
    test_reset_state();
    test_mode2_rate();
    test_coalescing();
    test_mode0_one_shot();
    test_mode4_strobe();
    test_mode3_square_wave();
    test_access_modes();
    test_latch_and_readback();
    test_reload_while_counting();
    test_count_zero();
    test_channel2_port61();
    test_hostile();
    test_callback_without_lock();
    test_long_uptime();
    return check_report();
}
