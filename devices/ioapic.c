/* The I/O APIC model: one register decoder for reads and one for writes behind IOREGSEL/IOWIN,
 * redirection entries with read-only bits protected by a mask, and delivery that collects the
 * messages under the lock and raises them after dropping it. */
#include "ioapic.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openwhp/interrupt_types.h>

#define IOAPIC_LOCK(io) pthread_mutex_lock(&(io)->lock)
#define IOAPIC_UNLOCK(io) pthread_mutex_unlock(&(io)->lock)

/* State changes are traced to stderr when built with -DOPENWHP_DEVICE_TRACE. */
#ifdef OPENWHP_DEVICE_TRACE
#define IOAPIC_TRACE(...) fprintf(stderr, "ioapic: " __VA_ARGS__)
#else
#define IOAPIC_TRACE(...)                                                                          \
    do {                                                                                           \
        if (0)                                                                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)
#endif

/* Bits the guest cannot write; bits 17-55 are reserved and read as zero. */
#define RTBL_RO_BITS (IOAPIC_RTE_DELIVS | IOAPIC_RTE_REM_IRR)
#define RTBL_RW_BITS                                                                               \
    (IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELMODE | IOAPIC_RTE_DESTMODE | IOAPIC_RTE_POLARITY |          \
     IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASK | IOAPIC_RTE_DEST)
#define ID_RW_BITS 0x0f000000u

/* Messages produced under the lock, raised after it is dropped (at most one per pin). */
struct pending {
    unsigned n;
    WHV_INTERRUPT_CONTROL msg[IOAPIC_PINS];
};

static unsigned delmode(uint64_t reg)
{
    return (unsigned)((reg & IOAPIC_RTE_DELMODE) >> 8);
}

/* Level semantics (remote IRR, EOI) apply to fixed and lowest-priority entries only: SMI, NMI,
 * INIT and ExtINT are edge messages whatever the trigger bit says (82093AA datasheet). */
static bool level_entry(uint64_t reg)
{
    unsigned mode = delmode(reg);
    return (reg & IOAPIC_RTE_LEVEL) &&
           (mode == IOAPIC_DELMODE_FIXED || mode == IOAPIC_DELMODE_LOWEST);
}

/* Builds the message of pin into out, setting remote IRR for a level entry. Called with the
 * lock held. */
static void send_intr(struct ioapic *io, unsigned pin, struct pending *out)
{
    uint64_t reg = io->rtbl[pin].reg;
    unsigned mode = delmode(reg);
    bool level = level_entry(reg);

    if (reg & IOAPIC_RTE_MASK) {
        IOAPIC_TRACE("pin %u masked, not delivered\n", pin);
        return;
    }
    if (level && (reg & IOAPIC_RTE_REM_IRR)) {
        IOAPIC_TRACE("pin %u remote IRR set, not delivered\n", pin);
        return;
    }
    switch (mode) {
    case IOAPIC_DELMODE_FIXED:
    case IOAPIC_DELMODE_LOWEST:
    case IOAPIC_DELMODE_SMI:
    case IOAPIC_DELMODE_NMI:
    case IOAPIC_DELMODE_INIT:
    case IOAPIC_DELMODE_EXTINT:
        break;
    default:
        IOAPIC_TRACE("pin %u reserved delivery mode %u, not delivered\n", pin, mode);
        return;
    }
    if (level)
        io->rtbl[pin].reg |= IOAPIC_RTE_REM_IRR;

    WHV_INTERRUPT_CONTROL *m = &out->msg[out->n++];
    memset(m, 0, sizeof(*m));
    m->Type = mode; /* the delivery-mode codes are the interrupt-type codes */
    m->DestinationMode = (reg & IOAPIC_RTE_DESTMODE) ? WHvX64InterruptDestinationModeLogical
                                                     : WHvX64InterruptDestinationModePhysical;
    m->TriggerMode = level ? WHvX64InterruptTriggerModeLevel : WHvX64InterruptTriggerModeEdge;
    m->Destination = (uint32_t)(reg >> IOAPIC_RTE_DEST_SHIFT);
    m->Vector = (uint32_t)(reg & IOAPIC_RTE_VECTOR);
    IOAPIC_TRACE("pin %u -> type %u vector %#x dest %#x%s%s\n", pin, mode, m->Vector,
                 m->Destination, (reg & IOAPIC_RTE_DESTMODE) ? " logical" : "",
                 level ? " level" : "");
}

/* Drops the lock, then raises what was collected. */
static void unlock_and_raise(struct ioapic *io, const struct pending *p)
{
    IOAPIC_UNLOCK(io);
    for (unsigned i = 0; i < p->n; i++)
        io->ops->raise(io->ctx, &p->msg[i]);
}

static void reset_locked(struct ioapic *io)
{
    io->id = 0;
    io->ioregsel = 0;
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
        io->rtbl[pin].reg = IOAPIC_RTE_MASK;
}

int ioapic_init(struct ioapic *ioapic, const struct ioapic_ops *ops, void *ctx)
{
    memset(ioapic, 0, sizeof(*ioapic));
    int err = pthread_mutex_init(&ioapic->lock, NULL);
    if (err)
        return -err;
    ioapic->ops = ops;
    ioapic->ctx = ctx;
    reset_locked(ioapic);
    return 0;
}

void ioapic_destroy(struct ioapic *ioapic)
{
    pthread_mutex_destroy(&ioapic->lock);
}

void ioapic_reset(struct ioapic *ioapic)
{
    IOAPIC_LOCK(ioapic);
    reset_locked(ioapic);
    IOAPIC_UNLOCK(ioapic);
}

/* Indirect register read. Called with the lock held. */
static uint32_t reg_read(struct ioapic *io, uint32_t index)
{
    switch (index) {
    case IOAPIC_REG_ID:
    case IOAPIC_REG_ARB: /* the arbitration ID is loaded from the APIC ID */
        return io->id;
    case IOAPIC_REG_VERSION:
        return IOAPIC_VERSION;
    }
    if (index >= IOAPIC_REG_RTBL && index < IOAPIC_REG_RTBL + 2 * IOAPIC_PINS) {
        unsigned pin = (index - IOAPIC_REG_RTBL) / 2;
        uint64_t reg = io->rtbl[pin].reg;
        return (index & 1) ? (uint32_t)(reg >> 32) : (uint32_t)reg;
    }
    return 0xffffffffu;
}

/* Indirect register write. Called with the lock held; messages to raise go to out. */
static void reg_write(struct ioapic *io, uint32_t index, uint32_t val, struct pending *out)
{
    if (index == IOAPIC_REG_ID) {
        io->id = val & ID_RW_BITS;
        IOAPIC_TRACE("id %u\n", io->id >> 24);
        return;
    }
    if (index < IOAPIC_REG_RTBL || index >= IOAPIC_REG_RTBL + 2 * IOAPIC_PINS)
        return; /* version, arbitration and unimplemented registers are read-only */

    unsigned pin = (index - IOAPIC_REG_RTBL) / 2;
    uint64_t reg = io->rtbl[pin].reg;
    uint64_t mask = (index & 1) ? 0xffffffff00000000ull : 0x00000000ffffffffull;
    uint64_t wval = (index & 1) ? (uint64_t)val << 32 : val;

    mask &= RTBL_RW_BITS;
    reg = (reg & ~mask) | (wval & mask);
    /* Only level entries keep remote IRR; guests switch a pin to edge and back to clear it. */
    if (!level_entry(reg))
        reg &= ~IOAPIC_RTE_REM_IRR;
    io->rtbl[pin].reg = reg;
    IOAPIC_TRACE("rtbl[%u] = %#018llx\n", pin, (unsigned long long)reg);

    /* A level line that is high fires as soon as the entry allows it (unmasked, remote IRR clear);
     * an edge that arrived while masked is lost, as on the 82093AA. */
    if (level_entry(reg) && io->rtbl[pin].acnt > 0)
        send_intr(io, pin, out);
}

void ioapic_mmio_read(struct ioapic *ioapic, uint64_t offset, void *data, unsigned size)
{
    uint32_t val = 0xffffffffu;

    if (size != 4 || (offset != IOAPIC_IOREGSEL && offset != IOAPIC_IOWIN)) {
        memset(data, 0xff, size);
        return;
    }
    IOAPIC_LOCK(ioapic);
    if (offset == IOAPIC_IOREGSEL)
        val = ioapic->ioregsel;
    else
        val = reg_read(ioapic, ioapic->ioregsel);
    IOAPIC_UNLOCK(ioapic);
    memcpy(data, &val, sizeof(val));
}

void ioapic_mmio_write(struct ioapic *ioapic, uint64_t offset, const void *data, unsigned size)
{
    struct pending p = {0};
    uint32_t val;

    if (size != 4 || (offset != IOAPIC_IOREGSEL && offset != IOAPIC_IOWIN))
        return;
    memcpy(&val, data, sizeof(val));
    IOAPIC_LOCK(ioapic);
    if (offset == IOAPIC_IOREGSEL)
        ioapic->ioregsel = val & 0xff;
    else
        reg_write(ioapic, ioapic->ioregsel, val, &p);
    unlock_and_raise(ioapic, &p);
}

/* Changes the assert count of pin by delta (+1, -1, or 0 for a pulse) and delivers on a rising
 * edge. */
static int set_irqstate(struct ioapic *io, unsigned pin, int delta)
{
    struct pending p = {0};

    if (pin >= IOAPIC_PINS)
        return -EINVAL;
    IOAPIC_LOCK(io);
    int old = io->rtbl[pin].acnt;
    if (delta < 0 && old == 0) {
        IOAPIC_UNLOCK(io);
        return -EINVAL;
    }
    io->rtbl[pin].acnt = old + delta;
    if (old == 0 && delta >= 0) {
        IOAPIC_TRACE("pin %u rising edge%s\n", pin, delta ? "" : " (pulse)");
        send_intr(io, pin, &p);
    } else if (old + delta == 0) {
        IOAPIC_TRACE("pin %u deasserted\n", pin);
    }
    unlock_and_raise(io, &p);
    return 0;
}

int ioapic_assert_irq(struct ioapic *ioapic, unsigned pin)
{
    return set_irqstate(ioapic, pin, 1);
}

int ioapic_deassert_irq(struct ioapic *ioapic, unsigned pin)
{
    return set_irqstate(ioapic, pin, -1);
}

int ioapic_pulse_irq(struct ioapic *ioapic, unsigned pin)
{
    return set_irqstate(ioapic, pin, 0);
}

int ioapic_set_irq(struct ioapic *ioapic, unsigned pin, bool level)
{
    return set_irqstate(ioapic, pin, level ? 1 : -1);
}

void ioapic_eoi(struct ioapic *ioapic, uint32_t vector)
{
    struct pending p = {0};

    IOAPIC_LOCK(ioapic);
    for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t reg = ioapic->rtbl[pin].reg;
        if (!level_entry(reg) || !(reg & IOAPIC_RTE_REM_IRR) ||
            (reg & IOAPIC_RTE_VECTOR) != vector)
            continue;
        ioapic->rtbl[pin].reg = reg & ~IOAPIC_RTE_REM_IRR;
        IOAPIC_TRACE("pin %u eoi vector %#x\n", pin, vector);
        /* The line is still high: the device wants service again (cloud-hypervisor #5260). */
        if (ioapic->rtbl[pin].acnt > 0)
            send_intr(ioapic, pin, &p);
    }
    unlock_and_raise(ioapic, &p);
}
