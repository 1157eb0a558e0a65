/* The 8259A pair: ICW/OCW command decoding per chip, priority resolution with rotation, edge
 * and level (ELCR) inputs, the cascade of the slave's output into the master's IRQ2, and the
 * INTR output reported to the VMM in order and without the lock held. */
#include "pic.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PIC_LOCK(p) pthread_mutex_lock(&(p)->lock)
#define PIC_UNLOCK(p) pthread_mutex_unlock(&(p)->lock)

/* State changes are traced to stderr when built with -DOPENWHP_DEVICE_TRACE. */
#ifdef OPENWHP_DEVICE_TRACE
#define PIC_TRACE(...) fprintf(stderr, "pic: " __VA_ARGS__)
#else
#define PIC_TRACE(...)                                                                             \
    do {                                                                                           \
        if (0)                                                                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
    } while (0)
#endif

#define MASTER 0
#define SLAVE 1
#define NO_IRQ (-1)
#define SPURIOUS_IRQ 7

/* ELCR bits that can be set: IRQ0, 1, 2, 8 and 13 are always edge-triggered on a PC. */
#define ELCR_MASK_MASTER 0xf8
#define ELCR_MASK_SLAVE 0xde

/* OCW2 commands (bits 5-7) */
#define OCW2_ROTATE_AEOI_CLEAR 0
#define OCW2_NONSPECIFIC_EOI 1
#define OCW2_NOP 2
#define OCW2_SPECIFIC_EOI 3
#define OCW2_ROTATE_AEOI_SET 4
#define OCW2_ROTATE_NONSPECIFIC_EOI 5
#define OCW2_SET_PRIORITY 6
#define OCW2_ROTATE_SPECIFIC_EOI 7

static uint8_t level_mask(const struct pic_chip *c)
{
    return c->ltim ? 0xff : c->elcr;
}

/* Priority of the best request in mask, 0 (highest) to 7, or 8 for none. */
static int priority(const struct pic_chip *c, uint8_t mask)
{
    if (!mask)
        return 8;
    int p = 0;
    while (!(mask & (1u << ((p + c->highest) & 7))))
        p++;
    return p;
}

/* The input this chip would present on INTA now, or NO_IRQ: the best unmasked request that
 * beats every in-service input. No output while the chip is being initialised. */
static int chip_irq(const struct pic_chip *c, bool is_master)
{
    if (c->icw_step)
        return NO_IRQ;
    int req = priority(c, c->irr & ~c->imr);
    if (req == 8)
        return NO_IRQ;
    uint8_t in_service = c->isr;
    if (c->special_mask)
        in_service &= ~c->imr; /* masked in-service inputs do not block others */
    if (is_master && c->sfnm)
        in_service &= ~(1u << PIC_CASCADE_IRQ); /* the slave nests on its own */
    if (req < priority(c, in_service))
        return (req + c->highest) & 7;
    return NO_IRQ;
}

/* Recomputes the cascade input and the INTR output. Called with the lock held. */
static void update(struct pic *pic)
{
    struct pic_chip *m = &pic->chip[MASTER];
    uint8_t cascade = 1u << PIC_CASCADE_IRQ;

    if (chip_irq(&pic->chip[SLAVE], false) != NO_IRQ) {
        m->lines |= cascade;
        m->irr |= cascade;
    } else {
        m->lines &= ~cascade;
        m->irr &= ~cascade;
    }
    pic->intr = chip_irq(m, true) != NO_IRQ;
}

/* Updates, drops the lock and reports INTR changes. One thread at a time reports, in a loop
 * until the reported level is the current one, so the VMM sees the changes in order and the
 * last report is always right, even when set_intr re-enters the model. */
static void unlock_and_notify(struct pic *pic)
{
    update(pic);
    if (pic->notifying) {
        PIC_UNLOCK(pic);
        return;
    }
    pic->notifying = true;
    while (pic->intr_reported != pic->intr) {
        bool level = pic->intr;
        pic->intr_reported = level;
        PIC_TRACE("INTR %d\n", level);
        PIC_UNLOCK(pic);
        pic->ops->set_intr(pic->ctx, level);
        PIC_LOCK(pic);
        update(pic);
    }
    pic->notifying = false;
    PIC_UNLOCK(pic);
}

/* The INTA of one chip for input irq: in service (unless auto-EOI), edge request consumed. */
static void chip_ack(struct pic_chip *c, int irq)
{
    uint8_t bit = (uint8_t)(1u << irq);

    if (c->auto_eoi) {
        if (c->rotate_on_aeoi)
            c->highest = (uint8_t)((irq + 1) & 7);
    } else {
        c->isr |= bit;
    }
    if (!(level_mask(c) & bit))
        c->irr &= ~bit;
}

static void chip_reset(struct pic_chip *c, uint8_t elcr_mask)
{
    memset(c, 0, sizeof(*c));
    c->imr = 0xff;
    c->elcr_mask = elcr_mask;
}

static void reset_locked(struct pic *pic)
{
    uint8_t master_lines = pic->chip[MASTER].lines, slave_lines = pic->chip[SLAVE].lines;

    chip_reset(&pic->chip[MASTER], ELCR_MASK_MASTER);
    chip_reset(&pic->chip[SLAVE], ELCR_MASK_SLAVE);
    pic->chip[MASTER].lines = master_lines;
    pic->chip[SLAVE].lines = slave_lines;
}

int pic_init(struct pic *pic, const struct pic_ops *ops, void *ctx)
{
    memset(pic, 0, sizeof(*pic));
    int err = pthread_mutex_init(&pic->lock, NULL);
    if (err)
        return -err;
    pic->ops = ops;
    pic->ctx = ctx;
    reset_locked(pic);
    return 0;
}

void pic_destroy(struct pic *pic)
{
    pthread_mutex_destroy(&pic->lock);
}

void pic_reset(struct pic *pic)
{
    PIC_LOCK(pic);
    reset_locked(pic);
    unlock_and_notify(pic);
}

/* ICW1: starts the initialisation sequence. Per the 8259A datasheet it clears IMR, ISR, the
 * edge latches (pending edge requests), special mask mode, the status-read selection and, when
 * no ICW4 follows, everything ICW4 sets. ELCR and the input levels are unaffected. */
static void icw1(struct pic_chip *c, uint8_t val)
{
    c->icw_step = 1;
    c->icw4_needed = val & 0x01;
    c->single = val & 0x02;
    c->ltim = val & 0x08;
    c->imr = 0;
    c->isr = 0;
    c->irr = c->lines & level_mask(c);
    c->highest = 0;
    c->read_isr = false;
    c->poll = false;
    c->special_mask = false;
    c->auto_eoi = false;
    c->sfnm = false;
    c->rotate_on_aeoi = false;
}

static void ocw2(struct pic_chip *c, uint8_t val)
{
    unsigned level = val & 7;
    int irq;

    switch (val >> 5) {
    case OCW2_ROTATE_AEOI_CLEAR:
    case OCW2_ROTATE_AEOI_SET:
        c->rotate_on_aeoi = (val >> 5) == OCW2_ROTATE_AEOI_SET;
        break;
    case OCW2_NONSPECIFIC_EOI:
    case OCW2_ROTATE_NONSPECIFIC_EOI:
        irq = priority(c, c->isr);
        if (irq == 8)
            break;
        irq = (irq + c->highest) & 7;
        c->isr &= ~(1u << irq);
        if ((val >> 5) == OCW2_ROTATE_NONSPECIFIC_EOI)
            c->highest = (uint8_t)((irq + 1) & 7);
        break;
    case OCW2_SPECIFIC_EOI:
    case OCW2_ROTATE_SPECIFIC_EOI:
        c->isr &= ~(1u << level);
        if ((val >> 5) == OCW2_ROTATE_SPECIFIC_EOI)
            c->highest = (uint8_t)((level + 1) & 7);
        break;
    case OCW2_SET_PRIORITY:
        c->highest = (uint8_t)((level + 1) & 7);
        break;
    case OCW2_NOP:
        break;
    }
}

static void ocw3(struct pic_chip *c, uint8_t val)
{
    if (val & 0x02)
        c->read_isr = val & 0x01;
    if (val & 0x04)
        c->poll = true;
    if (val & 0x40)
        c->special_mask = val & 0x20;
}

static void write_cmd(struct pic_chip *c, uint8_t val)
{
    if (val & 0x10)
        icw1(c, val);
    else if (val & 0x08)
        ocw3(c, val);
    else
        ocw2(c, val);
}

static void write_data(struct pic_chip *c, uint8_t val)
{
    switch (c->icw_step) {
    case 0: /* OCW1 */
        c->imr = val;
        break;
    case 1: /* ICW2: vector base; the low 3 bits are the input number */
        c->irq_base = val & 0xf8;
        c->icw_step = c->single ? (c->icw4_needed ? 3 : 0) : 2;
        break;
    case 2: /* ICW3: the cascade wiring is fixed (slave on IRQ2, ID 2) */
        c->icw_step = c->icw4_needed ? 3 : 0;
        break;
    default: /* ICW4: bit 0 (8086 mode) and bits 2-3 (buffered mode) do not matter here */
        c->auto_eoi = val & 0x02;
        c->sfnm = val & 0x10;
        c->icw_step = 0;
        break;
    }
}

static void write_elcr(struct pic_chip *c, uint8_t val)
{
    uint8_t level;

    c->elcr = val & c->elcr_mask;
    level = level_mask(c);
    c->irr = (uint8_t)((c->irr & ~level) | (c->lines & level));
}

/* The poll command's read: acknowledges like INTA and returns 0x80 | input, or 0. */
static uint8_t poll_read(struct pic *pic, struct pic_chip *c)
{
    int irq = chip_irq(c, c == &pic->chip[MASTER]);

    c->poll = false;
    if (irq == NO_IRQ)
        return 0;
    chip_ack(c, irq);
    return (uint8_t)(0x80 | irq);
}

/* Byte read of one port. Called with the lock held. */
static uint8_t read_port(struct pic *pic, uint16_t port)
{
    struct pic_chip *c;

    switch (port) {
    case PIC_MASTER_CMD:
    case PIC_MASTER_DATA:
        c = &pic->chip[MASTER];
        break;
    case PIC_SLAVE_CMD:
    case PIC_SLAVE_DATA:
        c = &pic->chip[SLAVE];
        break;
    case PIC_ELCR_MASTER:
        return pic->chip[MASTER].elcr;
    case PIC_ELCR_SLAVE:
        return pic->chip[SLAVE].elcr;
    default:
        return 0xff;
    }
    if (c->poll)
        return poll_read(pic, c);
    if (port & 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

/* Byte write of one port. Called with the lock held. */
static void write_port(struct pic *pic, uint16_t port, uint8_t val)
{
    PIC_TRACE("write %#x <- %#04x\n", port, val);
    switch (port) {
    case PIC_MASTER_CMD:
        write_cmd(&pic->chip[MASTER], val);
        break;
    case PIC_MASTER_DATA:
        write_data(&pic->chip[MASTER], val);
        break;
    case PIC_SLAVE_CMD:
        write_cmd(&pic->chip[SLAVE], val);
        break;
    case PIC_SLAVE_DATA:
        write_data(&pic->chip[SLAVE], val);
        break;
    case PIC_ELCR_MASTER:
        write_elcr(&pic->chip[MASTER], val);
        break;
    case PIC_ELCR_SLAVE:
        write_elcr(&pic->chip[SLAVE], val);
        break;
    }
}

void pic_pio_read(struct pic *pic, uint16_t port, void *data, unsigned size)
{
    uint8_t *bytes = data;

    PIC_LOCK(pic);
    for (unsigned i = 0; i < size; i++)
        bytes[i] = read_port(pic, (uint16_t)(port + i));
    unlock_and_notify(pic);
}

void pic_pio_write(struct pic *pic, uint16_t port, const void *data, unsigned size)
{
    const uint8_t *bytes = data;

    PIC_LOCK(pic);
    for (unsigned i = 0; i < size; i++)
        write_port(pic, (uint16_t)(port + i), bytes[i]);
    unlock_and_notify(pic);
}

int pic_set_irq(struct pic *pic, unsigned irq, bool level)
{
    if (irq >= PIC_IRQS || irq == PIC_CASCADE_IRQ)
        return -EINVAL;

    PIC_LOCK(pic);
    struct pic_chip *c = &pic->chip[irq >> 3];
    uint8_t bit = (uint8_t)(1u << (irq & 7));
    if (level_mask(c) & bit) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (level && !(c->lines & bit)) {
        c->irr |= bit; /* rising edge: latched until acknowledged */
    }
    if (level)
        c->lines |= bit;
    else
        c->lines &= ~bit;
    unlock_and_notify(pic);
    return 0;
}

/* The vector an INTA cycle would return now; *irq is the master's winning input or NO_IRQ. */
static uint8_t inta_vector(struct pic *pic, int *irq)
{
    struct pic_chip *m = &pic->chip[MASTER], *s = &pic->chip[SLAVE];
    *irq = chip_irq(m, true);
    if (*irq == NO_IRQ)
        return (uint8_t)(m->irq_base + SPURIOUS_IRQ); /* nothing in service */
    if (*irq != PIC_CASCADE_IRQ)
        return (uint8_t)(m->irq_base + *irq);
    /* IRQ2 is requested exactly while the slave has an input to present (update) */
    int sirq = chip_irq(s, false);
    assert(sirq != NO_IRQ);
    return (uint8_t)(s->irq_base + sirq);
}

/* Moves the request inta_vector chose from IRR to ISR. */
static void inta_commit(struct pic *pic, int irq)
{
    if (irq == NO_IRQ)
        return;
    chip_ack(&pic->chip[MASTER], irq);
    if (irq == PIC_CASCADE_IRQ)
        chip_ack(&pic->chip[SLAVE], chip_irq(&pic->chip[SLAVE], false));
}

uint8_t pic_acknowledge(struct pic *pic)
{
    int irq;
    PIC_LOCK(pic);
    uint8_t vector = inta_vector(pic, &irq);
    inta_commit(pic, irq);
    PIC_TRACE("INTA -> vector %#x\n", vector);
    unlock_and_notify(pic);
    return vector;
}

bool pic_acknowledge_if(struct pic *pic, pic_take_fn *take, void *ctx)
{
    int irq;
    PIC_LOCK(pic);
    uint8_t vector = inta_vector(pic, &irq);
    bool taken = take(ctx, vector);
    if (taken)
        inta_commit(pic, irq);
    PIC_TRACE("INTA -> vector %#x %s\n", vector, taken ? "taken" : "refused");
    unlock_and_notify(pic);
    return taken;
}
