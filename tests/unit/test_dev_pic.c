/* Unit tests of the 8259A pair driven through its ports and inputs, with a fake set_intr that
 * records the INTR line: the Linux and SeaBIOS init sequences, priorities, EOIs, the cascade,
 * ELCR level inputs, auto-EOI, rotation, poll, spurious IRQ7 and the INTA cycle a CPU may
 * refuse (pic_acknowledge_if). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "pic.h"

#include "check.h"

static bool intr;          /* the INTR level last reported */
static unsigned changes;   /* set_intr calls */
static struct pic *inject; /* when set, set_intr(true) runs the INTA cycle at once */
static int injected[16];
static unsigned ninjected;

static void fake_set_intr(void *ctx, bool asserted)
{
    (void)ctx;
    intr = asserted;
    changes++;
    if (inject && asserted && ninjected < 16)
        injected[ninjected++] = pic_acknowledge(inject);
}

static const struct pic_ops ops = {.set_intr = fake_set_intr};

static void out(struct pic *pic, uint16_t port, uint8_t val)
{
    pic_pio_write(pic, port, &val, 1);
}

static uint8_t in(struct pic *pic, uint16_t port)
{
    uint8_t val;
    pic_pio_read(pic, port, &val, 1);
    return val;
}

static uint8_t read_isr(struct pic *pic, uint16_t cmd)
{
    out(pic, cmd, 0x0b);
    uint8_t v = in(pic, cmd);
    out(pic, cmd, 0x0a);
    return v;
}

static uint8_t read_irr(struct pic *pic, uint16_t cmd)
{
    out(pic, cmd, 0x0a);
    return in(pic, cmd);
}

/* arch/x86/kernel/i8259.c init_8259A(): vectors 0x30 and 0x38 */
static void linux_init(struct pic *pic, bool auto_eoi)
{
    out(pic, PIC_MASTER_DATA, 0xff);
    out(pic, PIC_SLAVE_DATA, 0xff);
    out(pic, PIC_MASTER_CMD, 0x11);
    out(pic, PIC_MASTER_DATA, 0x30);
    out(pic, PIC_MASTER_DATA, 0x04);
    out(pic, PIC_MASTER_DATA, auto_eoi ? 0x03 : 0x01);
    out(pic, PIC_SLAVE_CMD, 0x11);
    out(pic, PIC_SLAVE_DATA, 0x38);
    out(pic, PIC_SLAVE_DATA, 0x02);
    out(pic, PIC_SLAVE_DATA, 0x01);
    out(pic, PIC_MASTER_DATA, 0xfb); /* everything masked but the cascade */
    out(pic, PIC_SLAVE_DATA, 0xff);
}

/* SeaBIOS pic_reset(0x08, 0x70): the two chips' words interleaved */
static void seabios_init(struct pic *pic)
{
    out(pic, PIC_MASTER_CMD, 0x11);
    out(pic, PIC_SLAVE_CMD, 0x11);
    out(pic, PIC_MASTER_DATA, 0x08);
    out(pic, PIC_SLAVE_DATA, 0x70);
    out(pic, PIC_MASTER_DATA, 0x04);
    out(pic, PIC_SLAVE_DATA, 0x02);
    out(pic, PIC_MASTER_DATA, 0x01);
    out(pic, PIC_SLAVE_DATA, 0x01);
    out(pic, PIC_MASTER_DATA, 0xfb);
    out(pic, PIC_SLAVE_DATA, 0xff);
}

static void fresh(struct pic *pic)
{
    CHECK(pic_init(pic, &ops, NULL) == 0);
    intr = false;
    changes = 0;
    inject = NULL;
    ninjected = 0;
}

static void test_reset_state(void)
{
    struct pic pic;
    fresh(&pic);
    CHECK(in(&pic, PIC_MASTER_DATA) == 0xff && in(&pic, PIC_SLAVE_DATA) == 0xff);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0 && read_isr(&pic, PIC_MASTER_CMD) == 0);
    CHECK(read_irr(&pic, PIC_SLAVE_CMD) == 0 && read_isr(&pic, PIC_SLAVE_CMD) == 0);
    CHECK(in(&pic, PIC_ELCR_MASTER) == 0 && in(&pic, PIC_ELCR_SLAVE) == 0);
    /* masked: the request is latched in IRR, INTR stays low */
    CHECK(pic_set_irq(&pic, 0, true) == 0);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0x01);
    CHECK(!intr && changes == 0);
    /* reset drops the latched edge but remembers the line is high */
    pic_reset(&pic);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0);
    out(&pic, PIC_MASTER_DATA, 0x00);
    pic_set_irq(&pic, 0, true);
    CHECK(!intr); /* no new edge */
    pic_destroy(&pic);
}

static void test_bad_inputs(void)
{
    struct pic pic;
    fresh(&pic);
    CHECK(pic_set_irq(&pic, 2, true) == -EINVAL); /* the cascade is driven by the slave */
    CHECK(pic_set_irq(&pic, 16, true) == -EINVAL);
    CHECK(pic_set_irq(&pic, 0xffffffffu, true) == -EINVAL);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0);
    /* ports the PICs do not decode */
    CHECK(in(&pic, 0x22) == 0xff && in(&pic, 0x4d2) == 0xff && in(&pic, 0x1f) == 0xff);
    out(&pic, 0x22, 0x00);
    out(&pic, 0x4d2, 0xff);
    CHECK(in(&pic, PIC_MASTER_DATA) == 0xff);
    /* a word access is two byte accesses: IRR (command port) then IMR */
    uint16_t w = 0;
    pic_pio_read(&pic, PIC_MASTER_CMD, &w, 2);
    CHECK(w == 0xff00);
    uint32_t d = 0;
    pic_pio_read(&pic, PIC_ELCR_SLAVE, &d, 4);
    CHECK(d == 0xffffff00u);
    pic_destroy(&pic);
}

static void test_linux_init(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    CHECK(in(&pic, PIC_MASTER_DATA) == 0xfb && in(&pic, PIC_SLAVE_DATA) == 0xff);
    CHECK(!intr);
    out(&pic, PIC_MASTER_DATA, 0xfa); /* unmask the timer */
    pic_set_irq(&pic, 0, true);
    CHECK(intr && changes == 1);
    CHECK(pic_acknowledge(&pic) == 0x30);
    CHECK(!intr && changes == 2);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x01);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0x00);
    pic_set_irq(&pic, 0, false);
    out(&pic, PIC_MASTER_CMD, 0x60); /* specific EOI, IRQ0 */
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0);
    /* a slave input, acknowledged as Linux does: specific EOI to the slave, then IRQ2 */
    out(&pic, PIC_SLAVE_DATA, 0xef); /* IRQ12 */
    pic_set_irq(&pic, 12, true);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x3c);
    CHECK(!intr);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x04 && read_isr(&pic, PIC_SLAVE_CMD) == 0x10);
    out(&pic, PIC_SLAVE_CMD, 0x64);
    out(&pic, PIC_MASTER_CMD, 0x62);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0 && read_isr(&pic, PIC_SLAVE_CMD) == 0);
    CHECK(!intr);
    pic_destroy(&pic);
}

static void test_seabios_init_and_cascade(void)
{
    struct pic pic;
    fresh(&pic);
    seabios_init(&pic);
    CHECK(in(&pic, PIC_MASTER_DATA) == 0xfb && in(&pic, PIC_SLAVE_DATA) == 0xff);
    out(&pic, PIC_SLAVE_DATA, 0xfe); /* IRQ8, the RTC */
    pic_set_irq(&pic, 8, true);
    CHECK(intr);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0x04); /* the cascade requests */
    CHECK(pic_acknowledge(&pic) == 0x70);
    CHECK(!intr);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x04 && read_isr(&pic, PIC_SLAVE_CMD) == 0x01);
    /* a masked cascade blocks the slave */
    pic_set_irq(&pic, 8, false);
    out(&pic, PIC_SLAVE_CMD, 0x20); /* non-specific EOIs, slave first */
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0 && read_isr(&pic, PIC_SLAVE_CMD) == 0);
    out(&pic, PIC_MASTER_DATA, 0xff);
    pic_set_irq(&pic, 8, true);
    CHECK(!intr);
    out(&pic, PIC_MASTER_DATA, 0xfb);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x70);
    /* a second slave input while the first is in service on both chips: not presented until
     * the EOIs, then presented through the cascade again */
    out(&pic, PIC_SLAVE_DATA, 0xfc);
    pic_set_irq(&pic, 9, true);
    CHECK(!intr);
    out(&pic, PIC_SLAVE_CMD, 0x20);
    CHECK(!intr); /* the master still has IRQ2 in service */
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x71);
    pic_destroy(&pic);
}

/* The take callback of pic_acknowledge_if: records the vector offered, answers `accept`. */
static bool accept;
static int offered;

static bool fake_take(void *ctx, uint8_t vector)
{
    (void)ctx;
    offered = vector;
    return accept;
}

/* A refused INTA leaves IRR, ISR and INTR alone and offers the same vector again; an accepted
 * one is pic_acknowledge, through the cascade too. */
static void test_acknowledge_if(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_MASTER_DATA, 0xfa); /* IRQ0 and the cascade */
    pic_set_irq(&pic, 0, true);
    accept = false;
    CHECK(!pic_acknowledge_if(&pic, fake_take, NULL) && offered == 0x30);
    CHECK(intr && read_irr(&pic, PIC_MASTER_CMD) == 0x01 && read_isr(&pic, PIC_MASTER_CMD) == 0);
    offered = 0;
    CHECK(!pic_acknowledge_if(&pic, fake_take, NULL) && offered == 0x30);
    accept = true;
    CHECK(pic_acknowledge_if(&pic, fake_take, NULL) && offered == 0x30);
    CHECK(!intr && read_irr(&pic, PIC_MASTER_CMD) == 0 && read_isr(&pic, PIC_MASTER_CMD) == 0x01);
    out(&pic, PIC_MASTER_CMD, 0x20);
    /* a slave input: refused, then taken on both chips */
    out(&pic, PIC_SLAVE_DATA, 0xfe);
    pic_set_irq(&pic, 8, true);
    accept = false;
    CHECK(!pic_acknowledge_if(&pic, fake_take, NULL) && offered == 0x38);
    CHECK(intr && read_isr(&pic, PIC_MASTER_CMD) == 0 && read_isr(&pic, PIC_SLAVE_CMD) == 0);
    accept = true;
    CHECK(pic_acknowledge_if(&pic, fake_take, NULL) && offered == 0x38);
    CHECK(!intr && read_isr(&pic, PIC_MASTER_CMD) == 0x04 && read_isr(&pic, PIC_SLAVE_CMD) == 0x01);
    pic_destroy(&pic);
}

static void test_priority(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    pic_set_irq(&pic, 5, true);
    pic_set_irq(&pic, 3, true);
    pic_set_irq(&pic, 1, true);
    pic_set_irq(&pic, 10, true);
    CHECK(!intr);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0x2a);
    out(&pic, PIC_MASTER_DATA, 0x00);
    out(&pic, PIC_SLAVE_DATA, 0x00);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x31); /* IRQ1 */
    CHECK(!intr);                         /* all others have lower priority */
    /* IRQ0 nests above IRQ1 */
    pic_set_irq(&pic, 0, true);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x30);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x03);
    out(&pic, PIC_MASTER_CMD, 0x20); /* non-specific: the highest in service, IRQ0 */
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x02);
    CHECK(!intr);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(intr);
    /* slave inputs rank at IRQ2: IRQ10 before IRQ3 */
    CHECK(pic_acknowledge(&pic) == 0x3a);
    out(&pic, PIC_SLAVE_CMD, 0x20);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(pic_acknowledge(&pic) == 0x33);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(pic_acknowledge(&pic) == 0x35);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(!intr);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0 && read_irr(&pic, PIC_MASTER_CMD) == 0);
    pic_destroy(&pic);
}

static void test_specific_eoi(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_MASTER_DATA, 0x00);
    pic_set_irq(&pic, 6, true);
    CHECK(pic_acknowledge(&pic) == 0x36);
    pic_set_irq(&pic, 4, true);
    CHECK(pic_acknowledge(&pic) == 0x34);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x50);
    out(&pic, PIC_MASTER_CMD, 0x66); /* specific EOI of the lower one */
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x10);
    out(&pic, PIC_MASTER_CMD, 0x67); /* EOI of an input not in service: nothing */
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x10);
    out(&pic, PIC_MASTER_CMD, 0x40); /* no-op command */
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x10);
    out(&pic, PIC_MASTER_CMD, 0x64);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0);
    out(&pic, PIC_MASTER_CMD, 0x20); /* non-specific EOI with nothing in service */
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0 && !intr);
    pic_destroy(&pic);
}

static void test_edge(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_MASTER_DATA, 0x00);
    pic_set_irq(&pic, 3, true);
    CHECK(pic_acknowledge(&pic) == 0x33);
    out(&pic, PIC_MASTER_CMD, 0x20);
    /* the line stays high: no new request */
    pic_set_irq(&pic, 3, true);
    CHECK(!intr && read_irr(&pic, PIC_MASTER_CMD) == 0);
    /* an edge is latched even if the line falls before the INTA */
    pic_set_irq(&pic, 3, false);
    pic_set_irq(&pic, 3, true);
    pic_set_irq(&pic, 3, false);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x33);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(!intr);
    pic_destroy(&pic);
}

static void test_elcr_level(void)
{
    struct pic pic;
    fresh(&pic);
    seabios_init(&pic);
    /* writable bits: IRQ0-2, 8 and 13 are always edge */
    out(&pic, PIC_ELCR_MASTER, 0xff);
    out(&pic, PIC_ELCR_SLAVE, 0xff);
    CHECK(in(&pic, PIC_ELCR_MASTER) == 0xf8 && in(&pic, PIC_ELCR_SLAVE) == 0xde);
    /* a word write sets both */
    uint16_t w = 0x0a20; /* IRQ5; IRQ9 and IRQ11 */
    pic_pio_write(&pic, PIC_ELCR_MASTER, &w, 2);
    CHECK(in(&pic, PIC_ELCR_MASTER) == 0x20 && in(&pic, PIC_ELCR_SLAVE) == 0x0a);

    out(&pic, PIC_MASTER_DATA, 0x00);
    out(&pic, PIC_SLAVE_DATA, 0x00);
    pic_set_irq(&pic, 5, true);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x0d);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0x20); /* a level request stays while high */
    CHECK(!intr);
    /* EOI while the line is still high: requested again */
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x0d);
    /* the device is serviced before the EOI: no new request */
    pic_set_irq(&pic, 5, false);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(!intr);

    /* level input on the slave, through the cascade */
    pic_set_irq(&pic, 11, true);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x73);
    out(&pic, PIC_SLAVE_CMD, 0x20);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(intr); /* still high */
    CHECK(pic_acknowledge(&pic) == 0x73);
    pic_set_irq(&pic, 11, false);
    out(&pic, PIC_SLAVE_CMD, 0x20);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(!intr);

    /* making a high line level-triggered requests at once; edge again drops nothing latched */
    pic_set_irq(&pic, 6, true);
    CHECK(pic_acknowledge(&pic) == 0x0e);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(!intr);
    out(&pic, PIC_ELCR_MASTER, 0x60);
    CHECK(intr);
    pic_destroy(&pic);
}

static void test_spurious(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_ELCR_MASTER, 0x10); /* IRQ4 level */
    out(&pic, PIC_MASTER_DATA, 0x00);
    pic_set_irq(&pic, 4, true);
    CHECK(intr);
    /* the line falls before the CPU acknowledges: IRQ7, nothing in service */
    pic_set_irq(&pic, 4, false);
    CHECK(!intr);
    CHECK(pic_acknowledge(&pic) == 0x37);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0);
    /* an INTA with nothing pending at all is spurious too */
    CHECK(pic_acknowledge(&pic) == 0x37);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0 && !intr);
    /* a real IRQ7 sets ISR, which is how Linux tells them apart */
    pic_set_irq(&pic, 7, true);
    CHECK(pic_acknowledge(&pic) == 0x37);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x80);
    pic_destroy(&pic);
}

static void test_auto_eoi(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, true);
    out(&pic, PIC_MASTER_DATA, 0x00);
    pic_set_irq(&pic, 1, true);
    pic_set_irq(&pic, 4, true);
    CHECK(pic_acknowledge(&pic) == 0x31);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0);
    CHECK(intr); /* nothing in service: IRQ4 follows without an EOI */
    CHECK(pic_acknowledge(&pic) == 0x34);
    CHECK(!intr && read_isr(&pic, PIC_MASTER_CMD) == 0);
    /* rotate in auto-EOI mode: a serviced input drops to the lowest priority */
    out(&pic, PIC_MASTER_CMD, 0x80);
    pic_set_irq(&pic, 0, true);
    CHECK(pic_acknowledge(&pic) == 0x30);
    pic_set_irq(&pic, 0, false);
    pic_set_irq(&pic, 0, true);
    pic_set_irq(&pic, 3, true);
    CHECK(pic_acknowledge(&pic) == 0x33); /* IRQ3 now beats IRQ0 */
    CHECK(pic_acknowledge(&pic) == 0x30);
    /* rotation off: the order stays as the last rotation left it (IRQ1 highest) */
    out(&pic, PIC_MASTER_CMD, 0x00);
    pic_set_irq(&pic, 0, false);
    pic_set_irq(&pic, 3, false);
    pic_set_irq(&pic, 0, true);
    pic_set_irq(&pic, 3, true);
    CHECK(pic_acknowledge(&pic) == 0x33);
    CHECK(pic_acknowledge(&pic) == 0x30);
    pic_set_irq(&pic, 0, false);
    pic_set_irq(&pic, 3, false);
    pic_set_irq(&pic, 0, true);
    pic_set_irq(&pic, 3, true);
    CHECK(pic_acknowledge(&pic) == 0x33);
    CHECK(pic_acknowledge(&pic) == 0x30);
    /* set priority: IRQ7 lowest restores the fixed order */
    out(&pic, PIC_MASTER_CMD, 0xc7);
    pic_set_irq(&pic, 0, false);
    pic_set_irq(&pic, 3, false);
    pic_set_irq(&pic, 0, true);
    pic_set_irq(&pic, 3, true);
    CHECK(pic_acknowledge(&pic) == 0x30);
    CHECK(pic_acknowledge(&pic) == 0x33);
    CHECK(!intr);
    pic_destroy(&pic);
}

static void test_rotation(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_MASTER_DATA, 0x00);
    /* set priority: IRQ4 lowest, so IRQ5 highest */
    out(&pic, PIC_MASTER_CMD, 0xc4);
    pic_set_irq(&pic, 1, true);
    pic_set_irq(&pic, 6, true);
    CHECK(pic_acknowledge(&pic) == 0x36);
    /* IRQ6 in service blocks IRQ1, lower in the rotated order */
    CHECK(!intr);
    /* rotate on non-specific EOI: IRQ6 becomes lowest, IRQ7 highest */
    out(&pic, PIC_MASTER_CMD, 0xa0);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0);
    pic_set_irq(&pic, 0, true);
    CHECK(pic_acknowledge(&pic) == 0x30); /* IRQ0 is above IRQ1 after IRQ7 */
    /* rotate on specific EOI of IRQ0: IRQ1 highest */
    out(&pic, PIC_MASTER_CMD, 0xe0);
    pic_set_irq(&pic, 6, false);
    pic_set_irq(&pic, 6, true);
    CHECK(pic_acknowledge(&pic) == 0x31);
    out(&pic, PIC_MASTER_CMD, 0x20);
    CHECK(pic_acknowledge(&pic) == 0x36);
    pic_destroy(&pic);
}

static void test_poll_and_ocw3(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_MASTER_DATA, 0x00);
    /* poll with nothing pending */
    out(&pic, PIC_MASTER_CMD, 0x0c);
    CHECK(in(&pic, PIC_MASTER_CMD) == 0x00);
    pic_set_irq(&pic, 5, true);
    CHECK(intr);
    out(&pic, PIC_MASTER_CMD, 0x0c);
    CHECK(in(&pic, PIC_MASTER_CMD) == 0x85); /* acknowledged by the poll */
    CHECK(!intr);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0x20);
    /* only the next read polls */
    CHECK(in(&pic, PIC_MASTER_CMD) == 0x00); /* IRR */
    out(&pic, PIC_MASTER_CMD, 0x20);
    /* the register selection persists across reads; OCW3 without RR keeps it */
    pic_set_irq(&pic, 6, true);
    out(&pic, PIC_MASTER_CMD, 0x0b);
    CHECK(in(&pic, PIC_MASTER_CMD) == 0x00 && in(&pic, PIC_MASTER_CMD) == 0x00);
    out(&pic, PIC_MASTER_CMD, 0x08);
    CHECK(in(&pic, PIC_MASTER_CMD) == 0x00);
    out(&pic, PIC_MASTER_CMD, 0x0a);
    CHECK(in(&pic, PIC_MASTER_CMD) == 0x40);
    pic_destroy(&pic);
}

static void test_special_mask(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_MASTER_DATA, 0x00);
    pic_set_irq(&pic, 3, true);
    CHECK(pic_acknowledge(&pic) == 0x33);
    pic_set_irq(&pic, 5, true);
    CHECK(!intr); /* IRQ3 in service blocks IRQ5 */
    /* special mask mode: masking the in-service IRQ3 lets lower priorities through */
    out(&pic, PIC_MASTER_CMD, 0x68);
    out(&pic, PIC_MASTER_DATA, 0x08);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x35);
    out(&pic, PIC_MASTER_CMD, 0x65);
    /* leaving special mask mode restores normal nesting */
    out(&pic, PIC_MASTER_CMD, 0x48);
    out(&pic, PIC_MASTER_DATA, 0x00);
    pic_set_irq(&pic, 5, false);
    pic_set_irq(&pic, 5, true);
    CHECK(!intr);
    out(&pic, PIC_MASTER_CMD, 0x63);
    CHECK(intr);
    pic_destroy(&pic);
}

static void test_special_fully_nested(void)
{
    struct pic pic;
    fresh(&pic);
    /* master ICW4 with SFNM */
    out(&pic, PIC_MASTER_CMD, 0x11);
    out(&pic, PIC_MASTER_DATA, 0x30);
    out(&pic, PIC_MASTER_DATA, 0x04);
    out(&pic, PIC_MASTER_DATA, 0x11);
    out(&pic, PIC_SLAVE_CMD, 0x11);
    out(&pic, PIC_SLAVE_DATA, 0x38);
    out(&pic, PIC_SLAVE_DATA, 0x02);
    out(&pic, PIC_SLAVE_DATA, 0x01);
    out(&pic, PIC_MASTER_DATA, 0x00);
    out(&pic, PIC_SLAVE_DATA, 0x00);
    pic_set_irq(&pic, 12, true);
    CHECK(pic_acknowledge(&pic) == 0x3c);
    /* a higher slave input nests although the master has IRQ2 in service */
    pic_set_irq(&pic, 9, true);
    CHECK(intr);
    CHECK(pic_acknowledge(&pic) == 0x39);
    /* a lower one does not */
    pic_set_irq(&pic, 14, true);
    CHECK(!intr);
    pic_destroy(&pic);
}

static void test_icw1_resets(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_ELCR_MASTER, 0x40); /* IRQ6 level */
    out(&pic, PIC_MASTER_DATA, 0x00);
    pic_set_irq(&pic, 3, true);
    CHECK(pic_acknowledge(&pic) == 0x33);
    pic_set_irq(&pic, 4, true);
    pic_set_irq(&pic, 6, true);
    out(&pic, PIC_MASTER_DATA, 0x5a);
    /* ICW1: IMR and ISR cleared, the latched edge dropped, the level request kept; INTR is held
     * low until the sequence ends */
    out(&pic, PIC_MASTER_CMD, 0x11);
    CHECK(in(&pic, PIC_MASTER_DATA) == 0x00);
    CHECK(read_isr(&pic, PIC_MASTER_CMD) == 0);
    CHECK(!intr);
    out(&pic, PIC_MASTER_DATA, 0x50);
    CHECK(!intr);
    out(&pic, PIC_MASTER_DATA, 0x04);
    out(&pic, PIC_MASTER_DATA, 0x01);
    CHECK(intr);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0x40);
    CHECK(pic_acknowledge(&pic) == 0x56);
    CHECK(in(&pic, PIC_ELCR_MASTER) == 0x40);
    /* without IC4 the sequence ends after ICW3, ICW4 features off */
    out(&pic, PIC_MASTER_CMD, 0x10);
    out(&pic, PIC_MASTER_DATA, 0x20);
    out(&pic, PIC_MASTER_DATA, 0x04);
    out(&pic, PIC_MASTER_DATA, 0xf7); /* OCW1 */
    CHECK(in(&pic, PIC_MASTER_DATA) == 0xf7);
    /* single mode: no ICW3 */
    out(&pic, PIC_MASTER_CMD, 0x13);
    out(&pic, PIC_MASTER_DATA, 0x40);
    out(&pic, PIC_MASTER_DATA, 0x01); /* ICW4 */
    out(&pic, PIC_MASTER_DATA, 0xb7); /* OCW1 */
    CHECK(in(&pic, PIC_MASTER_DATA) == 0xb7);
    CHECK(intr); /* level IRQ6 still high */
    CHECK(pic_acknowledge(&pic) == 0x46);
    /* LTIM: every input level-triggered */
    out(&pic, PIC_MASTER_CMD, 0x19);
    out(&pic, PIC_MASTER_DATA, 0x30);
    out(&pic, PIC_MASTER_DATA, 0x04);
    out(&pic, PIC_MASTER_DATA, 0x01);
    out(&pic, PIC_MASTER_DATA, 0xff);
    pic_set_irq(&pic, 4, false);
    CHECK(read_irr(&pic, PIC_MASTER_CMD) == 0x48); /* lines 3 and 6 are high */
    pic_destroy(&pic);
}

static void test_set_intr_reentry(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_MASTER_DATA, 0x00);
    out(&pic, PIC_SLAVE_DATA, 0x00);
    inject = &pic; /* the VMM injects from inside set_intr */
    pic_set_irq(&pic, 1, true);
    CHECK(ninjected == 1 && injected[0] == 0x31);
    CHECK(!intr); /* the INTA inside the callback dropped INTR, reported after it */
    out(&pic, PIC_MASTER_CMD, 0x20);
    pic_set_irq(&pic, 9, true);
    CHECK(ninjected == 2 && injected[1] == 0x39);
    CHECK(!intr);
    inject = NULL;
    pic_destroy(&pic);
}

struct toggler {
    struct pic *pic;
    unsigned irq;
};

static void *toggle(void *arg)
{
    const struct toggler *t = arg;
    for (unsigned i = 0; i < 20000; i++)
        pic_set_irq(t->pic, t->irq, !(i & 1));
    return NULL;
}

static void test_concurrent_reports(void)
{
    struct pic pic;
    fresh(&pic);
    linux_init(&pic, false);
    out(&pic, PIC_ELCR_MASTER, 0x18); /* IRQ3 and IRQ4 level */
    out(&pic, PIC_MASTER_DATA, 0x00);
    struct toggler t[2] = {{&pic, 3}, {&pic, 4}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, toggle, &t[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    /* both lines end low: whatever the interleaving, the last report says so */
    CHECK(!intr);
    CHECK(changes % 2 == 0 && changes > 0);
    pic_set_irq(&pic, 4, true);
    CHECK(intr);
    pic_destroy(&pic);
}

int main(void)
{
    test_reset_state();
    test_bad_inputs();
    test_linux_init();
    test_seabios_init_and_cascade();
    test_priority();
    test_acknowledge_if();
    test_specific_eoi();
    test_edge();
    test_elcr_level();
    test_spurious();
    test_auto_eoi();
    test_rotation();
    test_poll_and_ocw3();
    test_special_mask();
    test_special_fully_nested();
    test_icw1_resets();
    test_set_intr_reentry();
    test_concurrent_reports();
    return check_report();
}
