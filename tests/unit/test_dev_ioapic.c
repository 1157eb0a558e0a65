/* Unit tests of the IOAPIC model driven through its MMIO window and line inputs, with a fake
 * raise callback that records the messages: registers, masking, edge and level delivery, remote
 * IRR, EOI re-delivery, shared lines and hostile register indexes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openwhp/interrupt_types.h>

#include "ioapic.h"

#include "check.h"

#define MAX_MSGS 64
static WHV_INTERRUPT_CONTROL msgs[MAX_MSGS];
static unsigned nmsgs;
static struct ioapic *reenter; /* when set, raise reads a register back (lock must be free) */
static uint32_t reenter_version;

static uint32_t rd(struct ioapic *io, uint32_t index);

static void fake_raise(void *ctx, const WHV_INTERRUPT_CONTROL *ic)
{
    (void)ctx;
    if (nmsgs < MAX_MSGS)
        msgs[nmsgs] = *ic;
    nmsgs++;
    if (reenter)
        reenter_version = rd(reenter, IOAPIC_REG_VERSION);
}

static const struct ioapic_ops ops = {.raise = fake_raise};

static void sel(struct ioapic *io, uint32_t index)
{
    ioapic_mmio_write(io, IOAPIC_IOREGSEL, &index, 4);
}

static uint32_t rd(struct ioapic *io, uint32_t index)
{
    uint32_t v;
    sel(io, index);
    ioapic_mmio_read(io, IOAPIC_IOWIN, &v, 4);
    return v;
}

static void wr(struct ioapic *io, uint32_t index, uint32_t val)
{
    sel(io, index);
    ioapic_mmio_write(io, IOAPIC_IOWIN, &val, 4);
}

static uint64_t rte(struct ioapic *io, unsigned pin)
{
    return (uint64_t)rd(io, 0x11 + 2 * pin) << 32 | rd(io, 0x10 + 2 * pin);
}

/* Writes the high dword first, as guests do, so the low write (which may unmask) comes last. */
static void set_rte(struct ioapic *io, unsigned pin, uint64_t val)
{
    wr(io, 0x11 + 2 * pin, (uint32_t)(val >> 32));
    wr(io, 0x10 + 2 * pin, (uint32_t)val);
}

static uint64_t entry(uint8_t vector, unsigned delmode, bool logical, bool level, bool masked,
                      uint8_t dest)
{
    return vector | (uint64_t)delmode << 8 | (logical ? IOAPIC_RTE_DESTMODE : 0) |
           (level ? IOAPIC_RTE_LEVEL : 0) | (masked ? IOAPIC_RTE_MASK : 0) |
           (uint64_t)dest << 56;
}

static void fresh(struct ioapic *io)
{
    CHECK(ioapic_init(io, &ops, NULL) == 0);
    nmsgs = 0;
}

static void test_reset_state(void)
{
    struct ioapic io;
    fresh(&io);
    CHECK(rd(&io, IOAPIC_REG_VERSION) == 0x00170011u);
    CHECK(rd(&io, IOAPIC_REG_ID) == 0);
    CHECK(rd(&io, IOAPIC_REG_ARB) == 0);
    unsigned masked = 0;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        masked += rte(&io, pin) == IOAPIC_RTE_MASK;
    CHECK(masked == IOAPIC_PINS);
    CHECK(nmsgs == 0);
    ioapic_destroy(&io);
}

static void test_registers(void)
{
    struct ioapic io;
    uint32_t v;
    fresh(&io);

    /* IOREGSEL keeps 8 bits */
    sel(&io, 0x12345678);
    ioapic_mmio_read(&io, IOAPIC_IOREGSEL, &v, 4);
    CHECK(v == 0x78);

    /* ID: bits 24-27 writable; arbitration follows it; version is read-only */
    wr(&io, IOAPIC_REG_ID, 0xffffffffu);
    CHECK(rd(&io, IOAPIC_REG_ID) == 0x0f000000u);
    CHECK(rd(&io, IOAPIC_REG_ARB) == 0x0f000000u);
    wr(&io, IOAPIC_REG_ARB, 0);
    CHECK(rd(&io, IOAPIC_REG_ARB) == 0x0f000000u);
    wr(&io, IOAPIC_REG_VERSION, 0);
    CHECK(rd(&io, IOAPIC_REG_VERSION) == IOAPIC_VERSION);

    /* Redirection entry: writable fields stick, delivery status / remote IRR / reserved do not */
    wr(&io, 0x10 + 2 * 5, 0xffffffffu);
    CHECK(rd(&io, 0x10 + 2 * 5) == 0x0001afffu);
    wr(&io, 0x11 + 2 * 5, 0xffffffffu);
    CHECK(rd(&io, 0x11 + 2 * 5) == 0xff000000u);
    CHECK(rte(&io, 5) == 0xff0000000001afffull);
    wr(&io, 0x10 + 2 * 5, 0x00010000u);
    CHECK(rte(&io, 5) == 0xff00000000010000ull);
    /* the last entry, and its neighbours untouched */
    set_rte(&io, 23, entry(0x77, IOAPIC_DELMODE_LOWEST, true, false, true, 0x42));
    CHECK(rte(&io, 23) == entry(0x77, IOAPIC_DELMODE_LOWEST, true, false, true, 0x42));
    CHECK(rte(&io, 22) == IOAPIC_RTE_MASK);
    CHECK(rte(&io, 4) == IOAPIC_RTE_MASK && rte(&io, 6) == IOAPIC_RTE_MASK);
    CHECK(nmsgs == 0);

    /* reset restores all */
    ioapic_reset(&io);
    CHECK(rte(&io, 23) == IOAPIC_RTE_MASK && rte(&io, 5) == IOAPIC_RTE_MASK);
    CHECK(rd(&io, IOAPIC_REG_ID) == 0);
    ioapic_destroy(&io);
}

static void test_ignored_accesses(void)
{
    struct ioapic io;
    uint8_t buf[8];
    uint32_t v;
    fresh(&io);

    /* wrong sizes read all ones and do not change IOREGSEL */
    sel(&io, IOAPIC_REG_VERSION);
    memset(buf, 0, sizeof(buf));
    ioapic_mmio_read(&io, IOAPIC_IOREGSEL, buf, 1);
    CHECK(buf[0] == 0xff && buf[1] == 0);
    memset(buf, 0, sizeof(buf));
    ioapic_mmio_read(&io, IOAPIC_IOWIN, buf, 8);
    CHECK(buf[0] == 0xff && buf[7] == 0xff);
    uint16_t w = 0x10;
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, &w, 2);
    uint64_t q = 0x10;
    ioapic_mmio_write(&io, IOAPIC_IOREGSEL, &q, 8);
    ioapic_mmio_read(&io, IOAPIC_IOREGSEL, &v, 4);
    CHECK(v == IOAPIC_REG_VERSION);
    CHECK(rd(&io, IOAPIC_REG_VERSION) == IOAPIC_VERSION);

    /* other offsets: nothing there */
    const uint64_t offsets[] = {0x04, 0x08, 0x0c, 0x14, 0x20, 0x40, 0xfff, 0x1000, UINT64_MAX};
    for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
        v = 0;
        ioapic_mmio_read(&io, offsets[i], &v, 4);
        CHECK(v == 0xffffffffu);
        v = 0x10;
        ioapic_mmio_write(&io, offsets[i], &v, 4);
    }
    ioapic_mmio_read(&io, IOAPIC_IOREGSEL, &v, 4);
    CHECK(v == IOAPIC_REG_VERSION);
    CHECK(rte(&io, 0) == IOAPIC_RTE_MASK);
    ioapic_destroy(&io);
}

static void test_hostile_indexes(void)
{
    struct ioapic io;
    fresh(&io);
    /* unimplemented indexes read all ones, writes to them change nothing */
    const uint32_t bad[] = {0x03, 0x0f, 0x40, 0x41, 0x7f, 0x80, 0xff};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(rd(&io, bad[i]) == 0xffffffffu);
        wr(&io, bad[i], 0);
    }
    /* IOREGSEL values wider than 8 bits wrap instead of indexing past the table */
    wr(&io, 0xffffff40u, 0);
    wr(&io, 0x00000110u, 0x31); /* = index 0x10 */
    CHECK(rd(&io, 0x10) == 0x31);
    unsigned untouched = 0;
    for (unsigned pin = 1; pin < IOAPIC_PINS; pin++)
        untouched += rte(&io, pin) == IOAPIC_RTE_MASK;
    CHECK(untouched == IOAPIC_PINS - 1);
    CHECK(rd(&io, IOAPIC_REG_ID) == 0 && rd(&io, IOAPIC_REG_VERSION) == IOAPIC_VERSION);
    CHECK(nmsgs == 0);
    ioapic_destroy(&io);
}

static void test_out_of_range_pins(void)
{
    struct ioapic io;
    fresh(&io);
    CHECK(ioapic_assert_irq(&io, IOAPIC_PINS) == -EINVAL);
    CHECK(ioapic_assert_irq(&io, UINT_MAX) == -EINVAL);
    CHECK(ioapic_deassert_irq(&io, IOAPIC_PINS) == -EINVAL);
    CHECK(ioapic_pulse_irq(&io, 1000) == -EINVAL);
    CHECK(ioapic_set_irq(&io, 24, true) == -EINVAL);
    /* deasserting a line nobody asserts is refused, the count does not go negative */
    CHECK(ioapic_deassert_irq(&io, 3) == -EINVAL);
    set_rte(&io, 3, entry(0x33, IOAPIC_DELMODE_FIXED, false, false, false, 0));
    CHECK(ioapic_assert_irq(&io, 3) == 0);
    CHECK(nmsgs == 1);
    /* EOI of any vector with nothing pending is harmless */
    ioapic_eoi(&io, 0);
    ioapic_eoi(&io, 0xffffffffu);
    CHECK(nmsgs == 1);
    ioapic_destroy(&io);
}

static void test_edge(void)
{
    struct ioapic io;
    fresh(&io);
    set_rte(&io, 1, entry(0x31, IOAPIC_DELMODE_FIXED, false, false, false, 3));
    CHECK(nmsgs == 0);
    CHECK(ioapic_assert_irq(&io, 1) == 0);
    CHECK(nmsgs == 1);
    CHECK(msgs[0].Type == WHvX64InterruptTypeFixed);
    CHECK(msgs[0].DestinationMode == WHvX64InterruptDestinationModePhysical);
    CHECK(msgs[0].TriggerMode == WHvX64InterruptTriggerModeEdge);
    CHECK(msgs[0].Destination == 3 && msgs[0].Vector == 0x31);
    CHECK(msgs[0].TargetVtl == 0 && msgs[0].Reserved == 0);
    CHECK(!(rte(&io, 1) & IOAPIC_RTE_REM_IRR)); /* edge entries have no remote IRR */
    /* a second source on the same line: no edge */
    CHECK(ioapic_assert_irq(&io, 1) == 0);
    CHECK(nmsgs == 1);
    CHECK(ioapic_deassert_irq(&io, 1) == 0);
    CHECK(nmsgs == 1);
    /* the line is still high from the first source */
    CHECK(ioapic_assert_irq(&io, 1) == 0);
    CHECK(nmsgs == 1);
    CHECK(ioapic_deassert_irq(&io, 1) == 0 && ioapic_deassert_irq(&io, 1) == 0);
    /* low now: the next assert is an edge; EOI does nothing for edge entries */
    ioapic_eoi(&io, 0x31);
    CHECK(nmsgs == 1);
    CHECK(ioapic_set_irq(&io, 1, true) == 0);
    CHECK(nmsgs == 2);
    CHECK(ioapic_set_irq(&io, 1, false) == 0);
    /* pulses: one message each */
    CHECK(ioapic_pulse_irq(&io, 1) == 0 && ioapic_pulse_irq(&io, 1) == 0);
    CHECK(nmsgs == 4);
    /* logical destination, lowest priority, full 8-bit destination */
    set_rte(&io, 2, entry(0xfe, IOAPIC_DELMODE_LOWEST, true, false, false, 0xff));
    ioapic_pulse_irq(&io, 2);
    CHECK(nmsgs == 5);
    CHECK(msgs[4].Type == WHvX64InterruptTypeLowestPriority);
    CHECK(msgs[4].DestinationMode == WHvX64InterruptDestinationModeLogical);
    CHECK(msgs[4].Destination == 0xff && msgs[4].Vector == 0xfe);
    ioapic_destroy(&io);
}

static void test_masking(void)
{
    struct ioapic io;
    fresh(&io);
    /* masked edge: the edge is lost, unmasking while high does not deliver */
    set_rte(&io, 4, entry(0x34, IOAPIC_DELMODE_FIXED, false, false, true, 0));
    ioapic_assert_irq(&io, 4);
    CHECK(nmsgs == 0);
    set_rte(&io, 4, entry(0x34, IOAPIC_DELMODE_FIXED, false, false, false, 0));
    CHECK(nmsgs == 0);
    ioapic_deassert_irq(&io, 4);
    ioapic_assert_irq(&io, 4);
    CHECK(nmsgs == 1);
    ioapic_deassert_irq(&io, 4);

    /* masked level: unmasking while the line is high delivers */
    set_rte(&io, 5, entry(0x35, IOAPIC_DELMODE_FIXED, false, true, true, 0));
    ioapic_assert_irq(&io, 5);
    CHECK(nmsgs == 1);
    CHECK(!(rte(&io, 5) & IOAPIC_RTE_REM_IRR));
    set_rte(&io, 5, entry(0x35, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    CHECK(nmsgs == 2 && msgs[1].Vector == 0x35);
    CHECK(msgs[1].TriggerMode == WHvX64InterruptTriggerModeLevel);
    CHECK(rte(&io, 5) & IOAPIC_RTE_REM_IRR);
    /* mask and unmask again with remote IRR set: no second message */
    set_rte(&io, 5, entry(0x35, IOAPIC_DELMODE_FIXED, false, true, true, 0));
    CHECK(rte(&io, 5) & IOAPIC_RTE_REM_IRR); /* masking does not clear remote IRR */
    set_rte(&io, 5, entry(0x35, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    CHECK(nmsgs == 2);
    /* EOI while masked: remote IRR clears, no delivery; unmask then delivers */
    set_rte(&io, 5, entry(0x35, IOAPIC_DELMODE_FIXED, false, true, true, 0));
    ioapic_eoi(&io, 0x35);
    CHECK(nmsgs == 2 && !(rte(&io, 5) & IOAPIC_RTE_REM_IRR));
    set_rte(&io, 5, entry(0x35, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    CHECK(nmsgs == 3);
    ioapic_destroy(&io);
}

static void test_level_and_eoi(void)
{
    struct ioapic io;
    fresh(&io);
    set_rte(&io, 9, entry(0x41, IOAPIC_DELMODE_FIXED, true, true, false, 0x01));
    CHECK(nmsgs == 0);
    ioapic_assert_irq(&io, 9);
    CHECK(nmsgs == 1);
    CHECK(msgs[0].TriggerMode == WHvX64InterruptTriggerModeLevel);
    CHECK(msgs[0].DestinationMode == WHvX64InterruptDestinationModeLogical);
    CHECK(msgs[0].Vector == 0x41 && msgs[0].Destination == 0x01);
    CHECK(rte(&io, 9) & IOAPIC_RTE_REM_IRR);
    /* a guest cannot clear remote IRR by writing the entry */
    wr(&io, 0x10 + 2 * 9, (uint32_t)entry(0x41, IOAPIC_DELMODE_FIXED, true, true, false, 0));
    CHECK(rte(&io, 9) & IOAPIC_RTE_REM_IRR);
    CHECK(nmsgs == 1);

    /* EOI of another vector: nothing */
    ioapic_eoi(&io, 0x42);
    CHECK(nmsgs == 1 && (rte(&io, 9) & IOAPIC_RTE_REM_IRR));

    /* EOI while the line is still high: delivered again (cloud-hypervisor #5260) */
    ioapic_eoi(&io, 0x41);
    CHECK(nmsgs == 2 && msgs[1].Vector == 0x41);
    CHECK(rte(&io, 9) & IOAPIC_RTE_REM_IRR);

    /* deasserted before the EOI: no re-delivery, remote IRR clear */
    ioapic_deassert_irq(&io, 9);
    ioapic_eoi(&io, 0x41);
    CHECK(nmsgs == 2);
    CHECK(!(rte(&io, 9) & IOAPIC_RTE_REM_IRR));
    /* a second EOI changes nothing */
    ioapic_eoi(&io, 0x41);
    CHECK(nmsgs == 2);

    /* a level pulse delivers once and is not re-delivered on EOI */
    ioapic_pulse_irq(&io, 9);
    CHECK(nmsgs == 3);
    ioapic_eoi(&io, 0x41);
    CHECK(nmsgs == 3 && !(rte(&io, 9) & IOAPIC_RTE_REM_IRR));
    ioapic_destroy(&io);
}

static void test_shared_level_line(void)
{
    struct ioapic io;
    fresh(&io);
    set_rte(&io, 16, entry(0x51, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    ioapic_assert_irq(&io, 16); /* device A */
    ioapic_assert_irq(&io, 16); /* device B */
    CHECK(nmsgs == 1);
    /* A is serviced and drops its request; B still holds the line */
    ioapic_deassert_irq(&io, 16);
    ioapic_eoi(&io, 0x51);
    CHECK(nmsgs == 2);
    /* B drops; the EOI ends it */
    ioapic_deassert_irq(&io, 16);
    ioapic_eoi(&io, 0x51);
    CHECK(nmsgs == 2 && !(rte(&io, 16) & IOAPIC_RTE_REM_IRR));
    /* two pins with the same vector: one EOI re-delivers both still-high lines */
    set_rte(&io, 17, entry(0x51, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    ioapic_assert_irq(&io, 16);
    ioapic_assert_irq(&io, 17);
    CHECK(nmsgs == 4);
    ioapic_eoi(&io, 0x51);
    CHECK(nmsgs == 6);
    CHECK((rte(&io, 16) & IOAPIC_RTE_REM_IRR) && (rte(&io, 17) & IOAPIC_RTE_REM_IRR));
    ioapic_destroy(&io);
}

static void test_edge_toggle_clears_remote_irr(void)
{
    struct ioapic io;
    fresh(&io);
    /* Linux clears a stuck remote IRR on a version-0x11 IOAPIC (no EOI register) by masking the
     * pin, switching it to edge and back to level */
    set_rte(&io, 10, entry(0x60, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    ioapic_assert_irq(&io, 10);
    CHECK(nmsgs == 1 && (rte(&io, 10) & IOAPIC_RTE_REM_IRR));
    set_rte(&io, 10, entry(0x60, IOAPIC_DELMODE_FIXED, false, false, true, 0));
    CHECK(!(rte(&io, 10) & IOAPIC_RTE_REM_IRR));
    set_rte(&io, 10, entry(0x60, IOAPIC_DELMODE_FIXED, false, true, true, 0));
    CHECK(!(rte(&io, 10) & IOAPIC_RTE_REM_IRR));
    CHECK(nmsgs == 1);
    /* unmasking the still-high line delivers again */
    set_rte(&io, 10, entry(0x60, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    CHECK(nmsgs == 2 && (rte(&io, 10) & IOAPIC_RTE_REM_IRR));
    ioapic_destroy(&io);
}

static void test_delivery_modes(void)
{
    struct ioapic io;
    fresh(&io);
    const struct {
        unsigned mode;
        unsigned type;
    } modes[] = {
        {IOAPIC_DELMODE_FIXED, WHvX64InterruptTypeFixed},
        {IOAPIC_DELMODE_LOWEST, WHvX64InterruptTypeLowestPriority},
        {IOAPIC_DELMODE_SMI, OPENWHP_X64_INTERRUPT_TYPE_SMI},
        {IOAPIC_DELMODE_NMI, WHvX64InterruptTypeNmi},
        {IOAPIC_DELMODE_INIT, WHvX64InterruptTypeInit},
        {IOAPIC_DELMODE_EXTINT, OPENWHP_X64_INTERRUPT_TYPE_EXT_INT},
    };
    for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        nmsgs = 0;
        set_rte(&io, 0, entry(0x20, modes[i].mode, false, false, false, 0));
        ioapic_pulse_irq(&io, 0);
        CHECK(nmsgs == 1 && msgs[0].Type == modes[i].type);
        CHECK(msgs[0].TriggerMode == WHvX64InterruptTriggerModeEdge);
    }
    CHECK(OPENWHP_X64_INTERRUPT_TYPE_EXT_INT == 7);
    /* reserved delivery modes 3 and 6 deliver nothing */
    nmsgs = 0;
    set_rte(&io, 0, entry(0x20, 3, false, false, false, 0));
    ioapic_pulse_irq(&io, 0);
    set_rte(&io, 0, entry(0x20, 6, false, false, false, 0));
    ioapic_pulse_irq(&io, 0);
    CHECK(nmsgs == 0);
    /* NMI programmed level-triggered is still an edge message: no remote IRR, no EOI needed */
    set_rte(&io, 0, entry(0, IOAPIC_DELMODE_NMI, false, true, false, 0));
    ioapic_assert_irq(&io, 0);
    CHECK(nmsgs == 1 && msgs[0].TriggerMode == WHvX64InterruptTriggerModeEdge);
    CHECK(!(rte(&io, 0) & IOAPIC_RTE_REM_IRR));
    ioapic_deassert_irq(&io, 0);
    ioapic_assert_irq(&io, 0);
    CHECK(nmsgs == 2);
    ioapic_destroy(&io);
}

static void test_reset_keeps_lines(void)
{
    struct ioapic io;
    fresh(&io);
    set_rte(&io, 11, entry(0x70, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    ioapic_assert_irq(&io, 11);
    CHECK(nmsgs == 1);
    ioapic_reset(&io);
    CHECK(rte(&io, 11) == IOAPIC_RTE_MASK);
    set_rte(&io, 11, entry(0x70, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    CHECK(nmsgs == 2);
    ioapic_destroy(&io);
}

static void test_callback_without_lock(void)
{
    struct ioapic io;
    fresh(&io);
    reenter = &io;
    reenter_version = 0;
    set_rte(&io, 12, entry(0x71, IOAPIC_DELMODE_FIXED, false, true, false, 0));
    ioapic_assert_irq(&io, 12); /* raise reads a register: deadlocks if the lock were held */
    CHECK(nmsgs == 1 && reenter_version == IOAPIC_VERSION);
    reenter_version = 0;
    ioapic_eoi(&io, 0x71);
    CHECK(nmsgs == 2 && reenter_version == IOAPIC_VERSION);
    reenter = NULL;
    ioapic_destroy(&io);
}

int main(void)
{
    test_reset_state();
    test_registers();
    test_ignored_accesses();
    test_hostile_indexes();
    test_out_of_range_pins();
    test_edge();
    test_masking();
    test_level_and_eoi();
    test_shared_level_line();
    test_edge_toggle_clears_remote_irr();
    test_delivery_modes();
    test_reset_keeps_lines();
    test_callback_without_lock();
    return check_report();
}
