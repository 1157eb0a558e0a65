/* Unit tests of the 16550A model (devices/uart.c) with fake callbacks: every register, DLAB, FIFO
 * fill/drain and overrun, trigger levels, interrupt priorities in IIR, THRE on enable, loopback
 * and modem status, ignored accesses. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "uart.h"

#include "check.h"

struct fake {
    bool level;
    int irq_calls;
    uint8_t out[256];
    size_t nout;
    int rx_ready_calls;
};

static void fake_set_irq(void *ctx, bool level)
{
    struct fake *f = ctx;
    f->level = level;
    f->irq_calls++;
}

static void fake_write(void *ctx, const uint8_t *buf, size_t n)
{
    struct fake *f = ctx;
    for (size_t i = 0; i < n && f->nout < sizeof(f->out); i++)
        f->out[f->nout++] = buf[i];
}

static void fake_rx_ready(void *ctx)
{
    struct fake *f = ctx;
    f->rx_ready_calls++;
}

static const struct uart_ops ops = {fake_set_irq, fake_write, fake_rx_ready};

static struct uart u;
static struct fake fk;

static void setup(void)
{
    memset(&fk, 0, sizeof(fk));
    CHECK_EQ(uart_init(&u, &ops, &fk), 0);
}

static uint8_t rd(uint16_t off)
{
    uint32_t v = 0xDEAD;
    uart_pio_read(&u, off, &v, 1);
    return (uint8_t)v;
}

static void wr(uint16_t off, uint8_t v)
{
    uart_pio_write(&u, off, v, 1);
}

static void test_reset_state(void)
{
    setup();
    CHECK_EQ(rd(UART_IER), 0);
    CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
    CHECK_EQ(rd(UART_LCR), 0);
    CHECK_EQ(rd(UART_MCR), 0);
    CHECK_EQ(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    CHECK_EQ(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
    CHECK_EQ(rd(UART_SCR), 0);
    CHECK_EQ(rd(UART_RBR), 0); /* empty receiver */
    CHECK_EQ(fk.irq_calls, 0);
    uart_destroy(&u);
}

static void test_plain_registers(void)
{
    setup();
    wr(UART_SCR, 0xA5);
    CHECK_EQ(rd(UART_SCR), 0xA5);
    wr(UART_LCR, 0x1B);
    CHECK_EQ(rd(UART_LCR), 0x1B);
    wr(UART_MCR, 0xEF); /* bits 5-7 do not exist; loopback stays off */
    CHECK_EQ(rd(UART_MCR), 0x0F);
    wr(UART_IER, 0xF0); /* only bits 0-3 exist */
    CHECK_EQ(rd(UART_IER), 0);
    wr(UART_LSR, 0x00); /* factory test registers: writes ignored */
    wr(UART_MSR, 0x00);
    CHECK_EQ(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    CHECK_EQ(rd(UART_MSR) & 0xF0, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
    uart_destroy(&u);
}

static void test_dlab(void)
{
    setup();
    CHECK_EQ(rd(UART_DLL), 0); /* DLAB off: RBR, empty */
    wr(UART_LCR, UART_LCR_DLAB | 0x03);
    CHECK_EQ(rd(UART_DLL), 12); /* reset divisor: 9600 baud */
    CHECK_EQ(rd(UART_DLM), 0);
    wr(UART_DLL, 0x01);
    wr(UART_DLM, 0x02);
    CHECK_EQ(rd(UART_DLL), 0x01);
    CHECK_EQ(rd(UART_DLM), 0x02);
    CHECK_EQ(fk.nout, 0); /* the DLL write did not transmit */
    wr(UART_LCR, 0x03);
    CHECK_EQ(rd(UART_IER), 0); /* the DLM write did not touch IER */
    wr(UART_THR, 'x');
    CHECK_EQ(fk.nout, 1);
    wr(UART_LCR, UART_LCR_DLAB);
    CHECK_EQ(rd(UART_DLL), 0x01); /* the THR write did not touch DLL */
    uart_destroy(&u);
}

static void test_transmit(void)
{
    setup();
    wr(UART_THR, 'h');
    wr(UART_THR, 'i');
    CHECK_EQ(fk.nout, 2);
    CHECK(memcmp(fk.out, "hi", 2) == 0);
    CHECK_EQ(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    CHECK_EQ(fk.irq_calls, 0); /* THRI not enabled */
    uart_destroy(&u);
}

static void test_thre_interrupt(void)
{
    setup();
    wr(UART_IER, UART_IER_THRI); /* THR empty: interrupt at once */
    CHECK(fk.level);
    CHECK_EQ(rd(UART_IIR), UART_IIR_THRI);
    CHECK(!fk.level); /* reading IIR acknowledged it */
    CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
    wr(UART_THR, 'a'); /* the byte leaves, THR empty again */
    CHECK(fk.level);
    CHECK_EQ(rd(UART_IIR), UART_IIR_THRI);
    wr(UART_THR, 'b');
    CHECK(fk.level);
    wr(UART_IER, 0); /* disabling drops the line and the pending state */
    CHECK(!fk.level);
    wr(UART_IER, UART_IER_THRI); /* re-enabling interrupts again */
    CHECK(fk.level);
    wr(UART_IER, UART_IER_THRI); /* rewriting the same value does not re-arm */
    CHECK_EQ(rd(UART_IIR), UART_IIR_THRI);
    wr(UART_IER, UART_IER_THRI);
    CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
    uart_destroy(&u);
}

static void test_receive_no_fifo(void)
{
    const uint8_t in[] = {'a', 'b'};

    setup();
    CHECK_EQ(uart_receive(&u, in, 2), 1); /* one holding register */
    CHECK_EQ(rd(UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT);
    CHECK_EQ(fk.irq_calls, 0); /* RDI not enabled */
    CHECK_EQ(rd(UART_RBR), 'a');
    CHECK_EQ(fk.rx_ready_calls, 1); /* room again after a refusal */
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(uart_receive(&u, in + 1, 1), 1);
    CHECK_EQ(rd(UART_RBR), 'b');
    CHECK_EQ(fk.rx_ready_calls, 1); /* nothing was refused */
    CHECK_EQ(uart_receive(&u, in, 0), 0);
    uart_destroy(&u);
}

static void test_rdi_interrupt(void)
{
    const uint8_t c = 'z';

    setup();
    wr(UART_IER, UART_IER_RDI);
    CHECK(!fk.level);
    CHECK_EQ(uart_receive(&u, &c, 1), 1);
    CHECK(fk.level);
    CHECK_EQ(rd(UART_IIR), UART_IIR_RDI);
    CHECK(fk.level); /* reading IIR does not acknowledge data */
    CHECK_EQ(rd(UART_RBR), 'z');
    CHECK(!fk.level);
    CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
    CHECK_EQ(fk.irq_calls, 2); /* only changes are reported */
    uart_destroy(&u);
}

static void test_fifo_fill_drain(void)
{
    uint8_t in[20];

    setup();
    for (unsigned i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(0x40 + i);
    wr(UART_FCR, UART_FCR_ENABLE);
    CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_NO_INT);
    CHECK_EQ(uart_receive(&u, in, 10), 10);
    CHECK_EQ(uart_receive(&u, in + 10, 10), 6); /* 16 bytes */
    CHECK_EQ(uart_receive(&u, in, 1), 0);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_OE, 0); /* refusing is not an overrun */
    for (unsigned i = 0; i < 16; i++) {
        CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
        CHECK_EQ(rd(UART_RBR), 0x40 + i);
        if (i == 0)
            CHECK_EQ(fk.rx_ready_calls, 1);
    }
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(fk.rx_ready_calls, 1);
    /* FCR bit 1 empties the receiver; turning the FIFOs off empties it too */
    CHECK_EQ(uart_receive(&u, in, 5), 5);
    wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(rd(UART_FCR), UART_IIR_FIFO | UART_IIR_NO_INT);
    CHECK_EQ(uart_receive(&u, in, 5), 5);
    wr(UART_FCR, 0);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT); /* FIFO bits gone */
    CHECK_EQ(uart_receive(&u, in, 5), 1);
    uart_destroy(&u);
}

static void test_fifo_trigger_levels(void)
{
    static const uint8_t trig[4][2] = {{0x00, 1}, {0x40, 4}, {0x80, 8}, {0xC0, 14}};
    uint8_t in[16] = {0};

    setup();
    wr(UART_IER, UART_IER_RDI);
    for (unsigned t = 0; t < 4; t++) {
        wr(UART_FCR, (uint8_t)(trig[t][0] | UART_FCR_ENABLE | UART_FCR_CLEAR_RX));
        CHECK(!fk.level);
        if (trig[t][1] > 1) {
            CHECK_EQ(uart_receive(&u, in, trig[t][1] - 1u), trig[t][1] - 1u);
            /* below the trigger: the character timeout, reported at once */
            CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_TIMEOUT);
            CHECK(fk.level);
        }
        CHECK_EQ(uart_receive(&u, in, 1), 1);
        CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_RDI);
        CHECK(fk.level);
    }
    wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    CHECK(!fk.level);
    uart_destroy(&u);
}

static void test_overrun(void)
{
    setup();
    wr(UART_MCR, UART_MCR_LOOP);
    /* without FIFOs the new byte overwrites the holding register */
    wr(UART_THR, 'x');
    wr(UART_THR, 'y');
    CHECK_EQ(fk.nout, 0); /* loopback: nothing leaves */
    CHECK_EQ(rd(UART_LSR), UART_LSR_DR | UART_LSR_OE | UART_LSR_THRE | UART_LSR_TEMT);
    CHECK_EQ(rd(UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT); /* read clears OE */
    CHECK_EQ(rd(UART_RBR), 'y');
    /* with FIFOs the 17th byte is lost */
    wr(UART_FCR, UART_FCR_ENABLE);
    for (unsigned i = 0; i < 17; i++)
        wr(UART_THR, (uint8_t)i);
    wr(UART_IER, UART_IER_RLSI | UART_IER_RDI);
    CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_RLSI); /* line status first */
    CHECK(fk.level);
    CHECK_EQ(rd(UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    CHECK_EQ(rd(UART_IIR), UART_IIR_FIFO | UART_IIR_RDI); /* 16 >= trigger 1 */
    for (unsigned i = 0; i < 16; i++)
        CHECK_EQ(rd(UART_RBR), i);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK(!fk.level);
    uart_destroy(&u);
}

static void test_iir_priorities(void)
{
    setup();
    wr(UART_MCR, UART_MCR_LOOP); /* CTS, DSR, DCD drop: modem status deltas */
    wr(UART_THR, '1');
    wr(UART_THR, '2'); /* overrun */
    wr(UART_IER, 0x0F);
    CHECK(fk.level);
    CHECK_EQ(rd(UART_IIR), UART_IIR_RLSI);
    CHECK_EQ(rd(UART_IIR), UART_IIR_RLSI); /* stays until LSR is read */
    rd(UART_LSR);
    CHECK_EQ(rd(UART_IIR), UART_IIR_RDI);
    CHECK_EQ(rd(UART_RBR), '2');
    CHECK_EQ(rd(UART_IIR), UART_IIR_THRI); /* this read acknowledges it */
    CHECK_EQ(rd(UART_IIR), UART_IIR_MSI);
    CHECK(fk.level);
    CHECK_EQ(rd(UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
    CHECK_EQ(rd(UART_IIR), UART_IIR_NO_INT);
    CHECK(!fk.level);
    /* a disabled source does not show */
    wr(UART_IER, UART_IER_RDI);
    wr(UART_THR, '3');
    wr(UART_THR, '4');
    CHECK_EQ(rd(UART_IIR), UART_IIR_RDI); /* OE pending but RLSI disabled */
    uart_destroy(&u);
}

static void test_loopback_modem(void)
{
    const uint8_t in[3] = {1, 2, 3};

    setup();
    wr(UART_MCR, UART_MCR_LOOP);
    CHECK_EQ(rd(UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
    CHECK_EQ(rd(UART_MSR), 0);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
    CHECK_EQ(rd(UART_MSR), UART_MSR_DSR | UART_MSR_DDSR);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_RTS);
    CHECK_EQ(rd(UART_MSR), UART_MSR_DSR | UART_MSR_CTS | UART_MSR_DCTS);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
    CHECK_EQ(rd(UART_MSR), UART_MSR_RI | UART_MSR_DCTS | UART_MSR_DDSR); /* RI rising: no TERI */
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    CHECK_EQ(rd(UART_MSR), UART_MSR_DCD | UART_MSR_DDCD | UART_MSR_TERI);
    /* the serial input is disconnected: host bytes are dropped */
    CHECK_EQ(uart_receive(&u, in, 3), 3);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    /* transmitted bytes come back */
    wr(UART_THR, 0x5A);
    CHECK_EQ(rd(UART_RBR), 0x5A);
    CHECK_EQ(fk.nout, 0);
    /* leaving loopback restores the host lines and output */
    wr(UART_MCR, UART_MCR_OUT2);
    CHECK_EQ(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD | UART_MSR_DCTS | UART_MSR_DDSR);
    wr(UART_THR, 0x5B);
    CHECK_EQ(fk.nout, 1);
    CHECK_EQ(uart_receive(&u, in, 1), 1);
    CHECK_EQ(rd(UART_RBR), 1);
    uart_destroy(&u);
}

static void test_msi_interrupt(void)
{
    setup();
    wr(UART_IER, UART_IER_MSI);
    CHECK(!fk.level);
    wr(UART_MCR, UART_MCR_LOOP);
    CHECK(fk.level);
    CHECK_EQ(rd(UART_IIR), UART_IIR_MSI);
    rd(UART_MSR);
    CHECK(!fk.level);
    uart_destroy(&u);
}

static void test_ignored_accesses(void)
{
    uint32_t v;
    const uint8_t c = 'q';

    setup();
    uart_pio_write(&u, UART_THR, 'w', 2);
    uart_pio_write(&u, UART_THR, 'w', 4);
    uart_pio_write(&u, 8, 'w', 1);
    uart_pio_write(&u, 0xFFFF, 'w', 1);
    CHECK_EQ(fk.nout, 0);
    uart_pio_write(&u, UART_SCR, 0x12345677, 1); /* only the low byte */
    CHECK_EQ(rd(UART_SCR), 0x77);
    uart_pio_write(&u, UART_SCR, 0x1111, 2);
    CHECK_EQ(rd(UART_SCR), 0x77);
    CHECK_EQ(uart_receive(&u, &c, 1), 1);
    uart_pio_read(&u, UART_RBR, &v, 2);
    CHECK_EQ(v, 0xFFFF);
    uart_pio_read(&u, UART_RBR, &v, 4);
    CHECK_EQ(v, 0xFFFFFFFF);
    uart_pio_read(&u, 8, &v, 1);
    CHECK_EQ(v, 0xFF);
    uart_pio_read(&u, UART_RBR, &v, 1); /* the wide reads did not consume it */
    CHECK_EQ(v, 'q');
    uart_destroy(&u);
}

/* A host thread feeds bytes as fast as they fit while the "guest" drains the FIFO: every byte
 * arrives once, in order, with the lock keeping the two sides consistent. */
#define STREAM_LEN 20000

static atomic_bool feeder_done;

static void *feeder(void *arg)
{
    uint8_t buf[64];
    size_t sent = 0, n;

    (void)arg;
    while (sent < STREAM_LEN) {
        n = STREAM_LEN - sent < sizeof(buf) ? STREAM_LEN - sent : sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)((sent + i) * 7);
        n = uart_receive(&u, buf, n);
        sent += n;
        if (n == 0)
            sched_yield();
    }
    atomic_store(&feeder_done, true);
    return NULL;
}

static void test_concurrent_stream(void)
{
    pthread_t t;
    size_t got = 0, bad = 0;

    setup();
    wr(UART_FCR, UART_FCR_ENABLE | 0x80);
    wr(UART_IER, UART_IER_RDI);
    atomic_store(&feeder_done, false);
    CHECK_EQ(pthread_create(&t, NULL, feeder, NULL), 0);
    while (got < STREAM_LEN) {
        if (rd(UART_LSR) & UART_LSR_DR) {
            if (rd(UART_RBR) != (uint8_t)(got * 7))
                bad++;
            got++;
        } else if (atomic_load(&feeder_done) && !(rd(UART_LSR) & UART_LSR_DR)) {
            break;
        }
    }
    pthread_join(t, NULL);
    CHECK_EQ(got, STREAM_LEN);
    CHECK_EQ(bad, 0);
    CHECK_EQ(rd(UART_LSR) & (UART_LSR_DR | UART_LSR_OE), 0);
    CHECK(!fk.level);
    uart_destroy(&u);
}

int main(void)
{
    test_reset_state();
    test_plain_registers();
    test_dlab();
    test_transmit();
    test_thre_interrupt();
    test_receive_no_fifo();
    test_rdi_interrupt();
    test_fifo_fill_drain();
    test_fifo_trigger_levels();
    test_overrun();
    test_iir_priorities();
    test_loopback_modem();
    test_msi_interrupt();
    test_ignored_accesses();
    test_concurrent_stream();
    return check_report();
}
