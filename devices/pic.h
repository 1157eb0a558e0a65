/* A PC's pair of 8259A PICs: master at ports 0x20/0x21, slave at 0xA0/0xA1 cascaded on the
 * master's IRQ2, and the edge/level control registers (ELCR) at 0x4D0/0x4D1. The master's INTR
 * output leaves through ops->set_intr; the VMM's INTA cycle is pic_acknowledge. */
#ifndef OPENWHP_DEVICES_PIC_H
#define OPENWHP_DEVICES_PIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xa0
#define PIC_SLAVE_DATA 0xa1
#define PIC_ELCR_MASTER 0x4d0
#define PIC_ELCR_SLAVE 0x4d1
#define PIC_IRQS 16
#define PIC_CASCADE_IRQ 2

struct pic_ops {
    /* The master's INTR line changed. Calls are serialised and the last one always carries the
     * current level. Called without the lock held, so it may re-enter the model (for instance
     * call pic_acknowledge). */
    void (*set_intr)(void *ctx, bool asserted);
};

/* One 8259A. */
struct pic_chip {
    uint8_t irr, isr, imr;
    uint8_t lines;        /* input levels, for edge detection and level-mode IRR */
    uint8_t elcr;         /* level-triggered inputs (ELCR) */
    uint8_t elcr_mask;    /* inputs ELCR can make level-triggered */
    uint8_t irq_base;     /* ICW2: vector of IRQ0 */
    uint8_t highest;      /* rotation: the input with the highest priority */
    uint8_t icw_step;     /* 0: initialised; 1, 2, 3: expecting ICW2, ICW3, ICW4 */
    bool icw4_needed;     /* ICW1 IC4 */
    bool single;          /* ICW1 SNGL */
    bool ltim;            /* ICW1 LTIM: every input level-triggered */
    bool auto_eoi;        /* ICW4 AEOI */
    bool sfnm;            /* ICW4 special fully nested mode */
    bool rotate_on_aeoi;  /* OCW2 rotate in automatic EOI mode */
    bool read_isr;        /* OCW3: the command port reads ISR rather than IRR */
    bool poll;            /* OCW3 poll command: the next read is a poll */
    bool special_mask;    /* OCW3 special mask mode */
};

struct pic {
    const struct pic_ops *ops;
    void *ctx;
    pthread_mutex_t lock;   /* protects every field below */
    struct pic_chip chip[2]; /* master, slave */
    bool intr;              /* the master's INTR output */
    bool intr_reported;     /* the level last passed to set_intr */
    bool notifying;         /* a thread is calling set_intr; it reports later changes too */
};

/* 0 or -errno. The PICs start reset: all inputs masked (IMR 0xFF), edge-triggered, INTR low. */
int pic_init(struct pic *pic, const struct pic_ops *ops, void *ctx);
void pic_destroy(struct pic *pic);
/* Board reset: registers to their reset values; input levels are kept. */
void pic_reset(struct pic *pic);

/* Guest port accesses. A wider access is a sequence of byte accesses to consecutive ports, as
 * on the ISA bus; bytes of ports the PICs do not decode read all ones. */
void pic_pio_read(struct pic *pic, uint16_t port, void *data, unsigned size);
void pic_pio_write(struct pic *pic, uint16_t port, const void *data, unsigned size);

/* Input level of IRQ 0-15 (IRQ2 is the cascade, driven by the slave). Edge inputs latch a
 * request on the rising edge, level inputs (ELCR) request while high. 0 or -EINVAL. */
int pic_set_irq(struct pic *pic, unsigned irq, bool level);

/* The INTA cycle: the vector to inject now. Moves the winning request from IRR to ISR (unless
 * in auto-EOI mode); with no request left (a level input dropped before the INTA) it returns
 * the spurious vector of IRQ7 without setting ISR. */
uint8_t pic_acknowledge(struct pic *pic);

/* An INTA cycle that the CPU may refuse: take(ctx, vector) is offered the vector pic_acknowledge
 * would return and tries to inject it; only when it returns true does the request move to ISR,
 * otherwise the PICs are unchanged. take runs with the lock held: it must not re-enter the model.
 * Returns take's result. */
typedef bool pic_take_fn(void *ctx, uint8_t vector);
bool pic_acknowledge_if(struct pic *pic, pic_take_fn *take, void *ctx);

#endif /* OPENWHP_DEVICES_PIC_H */
