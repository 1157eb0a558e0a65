/* An 82093AA-style I/O APIC with 24 pins: the IOREGSEL/IOWIN register window, redirection
 * entries with remote IRR, and per-pin assert counts so several sources can share a level line.
 * Interrupt messages leave through ops->raise, which a VMM implements with WHvRequestInterrupt. */
#ifndef OPENWHP_DEVICES_IOAPIC_H
#define OPENWHP_DEVICES_IOAPIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <WinHvPlatformDefs.h>

#define IOAPIC_PINS 24
#define IOAPIC_DEFAULT_BASE 0xFEC00000u /* the VMM's choice; the model only sees offsets */
#define IOAPIC_MMIO_SIZE 0x1000u        /* the window a VMM should claim */
#define IOAPIC_VERSION 0x00170011u      /* max redirection entry 23, version 0x11 */

/* Direct registers (offsets in the window) and indirect registers (IOREGSEL values) */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_RTBL 0x10 /* entry n: low dword at 0x10 + 2n, high dword at 0x11 + 2n */

/* Redirection entry bits */
#define IOAPIC_RTE_VECTOR 0x00000000000000ffull
#define IOAPIC_RTE_DELMODE 0x0000000000000700ull /* delivery mode, IOAPIC_DELMODE_* << 8 */
#define IOAPIC_RTE_DESTMODE 0x0000000000000800ull /* 1: logical */
#define IOAPIC_RTE_DELIVS 0x0000000000001000ull   /* delivery status, read-only */
#define IOAPIC_RTE_POLARITY 0x0000000000002000ull /* 1: active low */
#define IOAPIC_RTE_REM_IRR 0x0000000000004000ull  /* remote IRR, read-only */
#define IOAPIC_RTE_LEVEL 0x0000000000008000ull    /* trigger mode, 1: level */
#define IOAPIC_RTE_MASK 0x0000000000010000ull
#define IOAPIC_RTE_DEST 0xff00000000000000ull
#define IOAPIC_RTE_DEST_SHIFT 56

#define IOAPIC_DELMODE_FIXED 0
#define IOAPIC_DELMODE_LOWEST 1
#define IOAPIC_DELMODE_SMI 2
#define IOAPIC_DELMODE_NMI 4
#define IOAPIC_DELMODE_INIT 5
#define IOAPIC_DELMODE_EXTINT 7

struct ioapic_ops {
    /* Sends one interrupt message: Type is the delivery mode (0 fixed, 1 lowest priority,
     * 2 SMI, 4 NMI, 5 INIT, 7 ExtINT = OPENWHP_X64_INTERRUPT_TYPE_EXT_INT, whose vector the VMM
     * takes from the PIC). Level-triggered fixed/lowest-priority messages carry TriggerMode
     * Level: their EOI must come back through ioapic_eoi. Called without the lock held, so it
     * may re-enter the model. */
    void (*raise)(void *ctx, const WHV_INTERRUPT_CONTROL *interrupt);
};

struct ioapic {
    const struct ioapic_ops *ops;
    void *ctx;
    pthread_mutex_t lock; /* protects every field below */
    uint32_t id;          /* ID register, bits 24-27 writable */
    uint32_t ioregsel;    /* 8 bits */
    struct {
        uint64_t reg; /* redirection entry */
        int acnt;     /* number of sources asserting the line */
    } rtbl[IOAPIC_PINS];
};

/* 0 or -errno. The IOAPIC starts reset: every entry masked, no line asserted. */
int ioapic_init(struct ioapic *ioapic, const struct ioapic_ops *ops, void *ctx);
void ioapic_destroy(struct ioapic *ioapic);
/* Board reset: registers to their reset values; line states (assert counts) are kept. */
void ioapic_reset(struct ioapic *ioapic);

/* Guest accesses at an offset in the window: 32-bit accesses to IOREGSEL and IOWIN; anything
 * else is ignored and reads all ones. */
void ioapic_mmio_read(struct ioapic *ioapic, uint64_t offset, void *data, unsigned size);
void ioapic_mmio_write(struct ioapic *ioapic, uint64_t offset, const void *data, unsigned size);

/* Line inputs. Each source asserts a line once and deasserts it once; the line is high while
 * any source asserts it. Edge entries fire on the rising edge, level entries while the line is
 * high and remote IRR is clear. A pulse is an assert and deassert in one step. 0, or -EINVAL for
 * a pin out of range or a deassert of a line no one asserts. */
int ioapic_assert_irq(struct ioapic *ioapic, unsigned pin);
int ioapic_deassert_irq(struct ioapic *ioapic, unsigned pin);
int ioapic_pulse_irq(struct ioapic *ioapic, unsigned pin);
/* The same for a single-source line: level true asserts, false deasserts. */
int ioapic_set_irq(struct ioapic *ioapic, unsigned pin, bool level);

/* An EOI for vector reached the IOAPIC (the X64ApicEoi exit): clears remote IRR of the
 * level-triggered entries with that vector and delivers again those whose line is still high. */
void ioapic_eoi(struct ioapic *ioapic, uint32_t vector);

#endif /* OPENWHP_DEVICES_IOAPIC_H */
