/* Unit tests of the ACPI PM timer model with a fake clock: the 3.579545 MHz rate, exactness
 * after days of uptime, the 24-bit wrap, TMR_VAL_EXT's 32 bits, monotonic reads and the
 * byte-wise and out-of-range port accesses. */
#include <stdio.h>
#include <string.h>

#include "pmtimer.h"

#include "check.h"

#define NS_PER_S 1000000000ull
static uint64_t clock_ns;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return clock_ns;
}

static const struct pmtimer_ops ops = {.now_ns = fake_now};

/* The reference: the exact tick count after ns, in 128-bit arithmetic. */
static uint64_t ref_ticks(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * PMTIMER_FREQ_HZ / NS_PER_S);
}

static uint32_t rd32(struct pmtimer *pm)
{
    uint32_t v;
    pmtimer_pio_read(pm, 0, &v, 4);
    return v;
}

static void test_rate(void)
{
    struct pmtimer pm;
    clock_ns = 5 * NS_PER_S; /* the counter starts at 0 whatever the clock reads */
    CHECK(pmtimer_init(&pm, &ops, NULL) == 0);
    CHECK(rd32(&pm) == 0);
    clock_ns += 1000000; /* 1 ms: 3579.545 ticks */
    CHECK(rd32(&pm) == 3579);
    clock_ns = 6 * NS_PER_S;
    CHECK(rd32(&pm) == PMTIMER_FREQ_HZ);
    clock_ns = 5 * NS_PER_S + 280; /* one tick is 279.37 ns */
    CHECK(rd32(&pm) == 1);
    clock_ns = 5 * NS_PER_S + 279;
    CHECK(rd32(&pm) == 0);
    pmtimer_destroy(&pm);
}

static void test_long_uptime(void)
{
    struct pmtimer pm;
    clock_ns = 0;
    CHECK(pmtimer_init(&pm, &ops, NULL) == 0);
    pmtimer_set_tmr_val_ext(&pm, true);
    static const uint64_t times[] = {
        3 * 86400 * NS_PER_S + 123456789,  /* 3 days */
        400 * 86400 * NS_PER_S + 999999999, /* over a year */
        UINT64_MAX,
    };
    for (unsigned i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        clock_ns = times[i];
        CHECK(rd32(&pm) == (uint32_t)ref_ticks(times[i]));
    }
    pmtimer_set_tmr_val_ext(&pm, false);
    CHECK(rd32(&pm) == ((uint32_t)ref_ticks(UINT64_MAX) & 0xffffff));
    pmtimer_destroy(&pm);
}

static void test_wrap_24(void)
{
    struct pmtimer pm;
    clock_ns = 0;
    CHECK(pmtimer_init(&pm, &ops, NULL) == 0);
    /* 2^24 ticks take 4.687 s; find the first nanosecond of tick 2^24 */
    uint64_t wrap_ns = (uint64_t)(((unsigned __int128)1 << 24) * NS_PER_S / PMTIMER_FREQ_HZ);
    while (ref_ticks(wrap_ns) < (1u << 24))
        wrap_ns++;
    clock_ns = wrap_ns - 1;
    CHECK(rd32(&pm) == 0xffffff);
    clock_ns = wrap_ns;
    CHECK(rd32(&pm) == 0);
    clock_ns = wrap_ns + 1000000;
    CHECK(rd32(&pm) == 3579);
    pmtimer_destroy(&pm);
}

static void test_ext32(void)
{
    struct pmtimer pm;
    clock_ns = 0;
    CHECK(pmtimer_init(&pm, &ops, NULL) == 0);
    clock_ns = 10 * NS_PER_S;
    CHECK(rd32(&pm) == (10 * PMTIMER_FREQ_HZ & 0xffffff));
    pmtimer_set_tmr_val_ext(&pm, true);
    CHECK(rd32(&pm) == 10 * PMTIMER_FREQ_HZ);
    CHECK(pmtimer_value(&pm) == 10 * PMTIMER_FREQ_HZ);
    /* 32 bits wrap after 1199.57 s */
    clock_ns = 1200 * NS_PER_S;
    CHECK(rd32(&pm) == (uint32_t)(1200ull * PMTIMER_FREQ_HZ));
    CHECK(rd32(&pm) < 10 * PMTIMER_FREQ_HZ);
    pmtimer_destroy(&pm);
}

static void test_monotonic(void)
{
    struct pmtimer pm;
    clock_ns = 77;
    CHECK(pmtimer_init(&pm, &ops, NULL) == 0);
    pmtimer_set_tmr_val_ext(&pm, true);
    uint32_t prev = rd32(&pm);
    uint64_t step = 1;
    int bad = 0;
    for (int i = 0; i < 100000; i++) {
        step = step * 6364136223846793005ull + 1442695040888963407ull;
        clock_ns += step >> 44; /* 0 to 1 ms */
        uint32_t v = rd32(&pm);
        if (v < prev || v != (uint32_t)ref_ticks(clock_ns - 77))
            bad++;
        prev = v;
    }
    CHECK(bad == 0);
    clock_ns = 0; /* a clock behind the base reads as the base */
    CHECK(rd32(&pm) == 0);
    pmtimer_destroy(&pm);
}

static void test_port_accesses(void)
{
    struct pmtimer pm;
    clock_ns = 0;
    CHECK(pmtimer_init(&pm, &ops, NULL) == 0);
    pmtimer_set_tmr_val_ext(&pm, true);
    clock_ns = 1000 * NS_PER_S;
    uint32_t v = pmtimer_value(&pm);
    CHECK(v > 0xffffff);

    uint8_t b[4];
    uint16_t w;
    pmtimer_pio_read(&pm, 0, &w, 2);
    CHECK(w == (uint16_t)v);
    pmtimer_pio_read(&pm, 2, &w, 2);
    CHECK(w == (uint16_t)(v >> 16));
    pmtimer_pio_read(&pm, 3, b, 1);
    CHECK(b[0] == (uint8_t)(v >> 24));
    pmtimer_pio_read(&pm, 2, b, 4); /* runs past the block: the rest reads all ones */
    CHECK(b[0] == (uint8_t)(v >> 16) && b[1] == (uint8_t)(v >> 24) && b[2] == 0xff && b[3] == 0xff);
    uint32_t x = 0;
    pmtimer_pio_read(&pm, 4, &x, 4);
    CHECK(x == 0xffffffff);
    pmtimer_pio_read(&pm, 0xffff, &x, 4);
    CHECK(x == 0xffffffff);
    uint64_t q = 0;
    pmtimer_pio_read(&pm, 0, &q, 8);
    CHECK(q == (0xffffffff00000000ull | v));
    pmtimer_pio_read(&pm, 0, &x, 0); /* nothing read, nothing touched */
    CHECK(x == 0xffffffff);

    uint32_t junk = 0;
    pmtimer_pio_write(&pm, 0, &junk, 4); /* read-only */
    CHECK(rd32(&pm) == v);

    pmtimer_reset(&pm);
    CHECK(rd32(&pm) == 0);
    clock_ns += NS_PER_S;
    CHECK(rd32(&pm) == PMTIMER_FREQ_HZ);
    pmtimer_destroy(&pm);
}

int main(void)
{
    test_rate();
    test_long_uptime();
    test_wrap_24();
    test_ext32();
    test_monotonic();
    test_port_accesses();
    return check_report();
}
