/* 16550A UART model: register decoding, the receive FIFO, loopback, modem status and interrupt
 * identification by priority (line status, received data, THR empty, modem status). Without a
 * baud-rate clock the character timeout fires at once: data below the trigger level reads as IIR 0x0C. */
#include "uart.h"

#include <errno.h>
#include <string.h>

#define LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)
#define MSR_DELTAS (UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_TERI | UART_MSR_DDCD)
#define MCR_MASK 0x1F /* bits 5-7 read as zero on a 16550A */
#define IER_MASK 0x0F

static uint32_t all_ones(unsigned size)
{
    return size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

static bool fifo_on(const struct uart *u)
{
    return u->fcr & UART_FCR_ENABLE;
}

static unsigned rx_capacity(const struct uart *u)
{
    return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
    static const unsigned levels[4] = {1, 4, 8, 14};
    return levels[(u->fcr & UART_FCR_TRIGGER_MASK) >> 6];
}

static void rx_clear(struct uart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* A byte reaches the receiver. When it is full, a 16550A in FIFO mode drops the new byte and
 * without FIFOs overwrites the holding register; both set OE. */
static void rx_push(struct uart *u, uint8_t byte)
{
    if (u->rx_count < rx_capacity(u)) {
        u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
        u->rx_count++;
        return;
    }
    u->lsr |= UART_LSR_OE;
    if (!fifo_on(u))
        u->rx[u->rx_head] = byte;
}

static uint8_t rx_pop(struct uart *u)
{
    uint8_t byte;

    if (u->rx_count == 0)
        return 0;
    byte = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
    u->rx_count--;
    return byte;
}

/* The highest-priority pending interrupt, as IIR reads it. */
static uint8_t iir_value(const struct uart *u)
{
    uint8_t id = UART_IIR_NO_INT;

    if ((u->ier & UART_IER_RLSI) && (u->lsr & LSR_ERRORS))
        id = UART_IIR_RLSI;
    else if ((u->ier & UART_IER_RDI) && u->rx_count > 0)
        id = fifo_on(u) && u->rx_count < rx_trigger(u) ? UART_IIR_TIMEOUT : UART_IIR_RDI;
    else if ((u->ier & UART_IER_THRI) && u->thr_ipending)
        id = UART_IIR_THRI;
    else if ((u->ier & UART_IER_MSI) && (u->msr & MSR_DELTAS))
        id = UART_IIR_MSI;
    return id | (fifo_on(u) ? UART_IIR_FIFO : 0);
}

static void update_irq(struct uart *u)
{
    bool level = !(iir_value(u) & UART_IIR_NO_INT);

    if (level != u->irq_level) {
        u->irq_level = level;
        u->ops->set_irq(u->ctx, level);
    }
}

/* Modem input lines: fixed CTS, DSR and DCD from the host side; in loopback DTR->DSR, RTS->CTS,
 * OUT1->RI, OUT2->DCD. Changes set the delta bits (RI only on its trailing edge). */
static void update_msr(struct uart *u)
{
    uint8_t lines, changed, delta = 0;

    if (u->mcr & UART_MCR_LOOP) {
        lines = (u->mcr & UART_MCR_DTR ? UART_MSR_DSR : 0) | (u->mcr & UART_MCR_RTS ? UART_MSR_CTS : 0) |
                (u->mcr & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (u->mcr & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
    } else {
        lines = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    }
    changed = (uint8_t)((u->msr ^ lines) & 0xF0);
    if (changed & UART_MSR_CTS)
        delta |= UART_MSR_DCTS;
    if (changed & UART_MSR_DSR)
        delta |= UART_MSR_DDSR;
    if (changed & UART_MSR_DCD)
        delta |= UART_MSR_DDCD;
    if ((u->msr & UART_MSR_RI) && !(lines & UART_MSR_RI))
        delta |= UART_MSR_TERI;
    u->msr = (uint8_t)(lines | (u->msr & MSR_DELTAS) | delta);
}

/* THR write: the byte leaves at once (to the host, or to the receiver in loopback), so THRE drops
 * and rises again, and the THR-empty interrupt is pending anew. */
static void transmit(struct uart *u, uint8_t byte)
{
    u->thr_ipending = false;
    u->lsr &= (uint8_t)~(UART_LSR_THRE | UART_LSR_TEMT);
    update_irq(u);
    if (u->mcr & UART_MCR_LOOP)
        rx_push(u, byte);
    else
        u->ops->write(u->ctx, &byte, 1);
    u->lsr |= UART_LSR_THRE | UART_LSR_TEMT;
    u->thr_ipending = true;
}

static void write_fcr(struct uart *u, uint8_t val)
{
    if ((val ^ u->fcr) & UART_FCR_ENABLE)
        rx_clear(u); /* switching the FIFOs on or off empties them */
    if (!(val & UART_FCR_ENABLE)) {
        u->fcr = 0;
        return;
    }
    if (val & UART_FCR_CLEAR_RX)
        rx_clear(u);
    u->fcr = val & (UART_FCR_ENABLE | UART_FCR_TRIGGER_MASK);
}

/* Whether the host side waits for room and now has some: the caller calls ops->rx_ready. */
static bool rx_ready_due(struct uart *u)
{
    if (!u->rx_refused || u->rx_count >= rx_capacity(u))
        return false;
    u->rx_refused = false;
    return u->ops->rx_ready != NULL;
}

static uint8_t read_reg(struct uart *u, uint16_t offset)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    uint8_t val;

    switch (offset) {
    case UART_RBR:
        return dlab ? u->dll : rx_pop(u);
    case UART_IER:
        return dlab ? u->dlm : u->ier;
    case UART_IIR:
        val = iir_value(u);
        if ((val & 0x0F) == UART_IIR_THRI)
            u->thr_ipending = false; /* reading IIR acknowledges THR empty */
        return val;
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        val = (uint8_t)(u->lsr | (u->rx_count ? UART_LSR_DR : 0));
        u->lsr &= (uint8_t)~(LSR_ERRORS | UART_LSR_FIFOE);
        return val;
    case UART_MSR:
        val = u->msr;
        u->msr &= (uint8_t)~MSR_DELTAS;
        return val;
    default:
        return u->scr;
    }
}

static void write_reg(struct uart *u, uint16_t offset, uint8_t val)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    uint8_t old;

    switch (offset) {
    case UART_THR:
        if (dlab)
            u->dll = val;
        else
            transmit(u, val);
        break;
    case UART_IER:
        if (dlab) {
            u->dlm = val;
            break;
        }
        old = u->ier;
        u->ier = val & IER_MASK;
        if (!(u->ier & UART_IER_THRI))
            u->thr_ipending = false;
        else if (!(old & UART_IER_THRI) && (u->lsr & UART_LSR_THRE))
            u->thr_ipending = true; /* enabling THRI with THR empty interrupts at once */
        break;
    case UART_FCR:
        write_fcr(u, val);
        break;
    case UART_LCR:
        u->lcr = val;
        break;
    case UART_MCR:
        u->mcr = val & MCR_MASK;
        update_msr(u);
        break;
    case UART_SCR:
        u->scr = val;
        break;
    default: /* LSR and MSR: factory test registers, writes ignored */
        break;
    }
}

int uart_init(struct uart *uart, const struct uart_ops *ops, void *ctx)
{
    int err;

    memset(uart, 0, sizeof(*uart));
    err = pthread_mutex_init(&uart->lock, NULL);
    if (err)
        return -err;
    uart->ops = ops;
    uart->ctx = ctx;
    uart->dll = 12; /* 115200 / 12 = 9600 baud */
    uart->lsr = UART_LSR_THRE | UART_LSR_TEMT;
    update_msr(uart);
    uart->msr &= (uint8_t)~MSR_DELTAS;
    return 0;
}

void uart_destroy(struct uart *uart)
{
    pthread_mutex_destroy(&uart->lock);
}

void uart_pio_read(struct uart *uart, uint16_t offset, uint32_t *data, unsigned size)
{
    bool notify;

    if (size != 1 || offset > UART_SCR) {
        *data = all_ones(size);
        return;
    }
    pthread_mutex_lock(&uart->lock);
    *data = read_reg(uart, offset);
    update_irq(uart);
    notify = rx_ready_due(uart);
    pthread_mutex_unlock(&uart->lock);
    if (notify)
        uart->ops->rx_ready(uart->ctx);
}

void uart_pio_write(struct uart *uart, uint16_t offset, uint32_t data, unsigned size)
{
    bool notify;

    if (size != 1 || offset > UART_SCR)
        return;
    pthread_mutex_lock(&uart->lock);
    write_reg(uart, offset, (uint8_t)data);
    update_irq(uart);
    notify = rx_ready_due(uart);
    pthread_mutex_unlock(&uart->lock);
    if (notify)
        uart->ops->rx_ready(uart->ctx);
}

size_t uart_receive(struct uart *uart, const uint8_t *buf, size_t n)
{
    size_t taken = 0;

    pthread_mutex_lock(&uart->lock);
    if (uart->mcr & UART_MCR_LOOP) {
        taken = n; /* the serial input is disconnected in loopback */
    } else {
        while (taken < n && uart->rx_count < rx_capacity(uart))
            rx_push(uart, buf[taken++]);
        if (taken < n)
            uart->rx_refused = true;
        update_irq(uart);
    }
    pthread_mutex_unlock(&uart->lock);
    return taken;
}
