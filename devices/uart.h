/* A 16550A UART (the PC's COM1 at 0x3F8, IRQ 4): registers, 16-byte FIFOs, loopback and the
 * interrupt identification logic. Transmission is instantaneous: each THR byte leaves through
 * ops->write at once; received bytes come in through uart_receive. */
#ifndef OPENWHP_DEVICES_UART_H
#define OPENWHP_DEVICES_UART_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3F8 /* the VMM passes offsets 0-7 from here */
#define UART_COM1_IRQ 4
#define UART_FIFO_SIZE 16

/* Register offsets (DLAB = LCR bit 7 switches offsets 0 and 1 to the divisor latch). */
#define UART_RBR 0 /* read: receiver buffer */
#define UART_THR 0 /* write: transmitter holding */
#define UART_DLL 0 /* DLAB=1: divisor latch low */
#define UART_IER 1
#define UART_DLM 1 /* DLAB=1: divisor latch high */
#define UART_IIR 2 /* read: interrupt identification */
#define UART_FCR 2 /* write: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_RDI 0x01  /* received data available */
#define UART_IER_THRI 0x02 /* transmitter holding register empty */
#define UART_IER_RLSI 0x04 /* receiver line status */
#define UART_IER_MSI 0x08  /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_TIMEOUT 0x0C
#define UART_IIR_FIFO 0xC0 /* both bits set while the FIFOs are enabled */

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_TRIGGER_MASK 0xC0 /* 00: 1 byte, 01: 4, 10: 8, 11: 14 */

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_PE 0x04
#define UART_LSR_FE 0x08
#define UART_LSR_BI 0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

struct uart_ops {
    /* Drive the interrupt line (IRQ 4 on a PC). Called with the uart lock held, only when the
     * level changes, so calls are ordered: it must not call back into the uart. The line is not
     * gated by MCR.OUT2 (as in QEMU). */
    void (*set_irq)(void *ctx, bool level);
    /* Bytes the guest transmitted (never in loopback mode). Called with the lock held so output
     * keeps the guest's order: it must not call back into the uart. */
    void (*write)(void *ctx, const uint8_t *buf, size_t n);
    /* Optional (may be NULL): the receiver has room again after uart_receive took fewer bytes
     * than offered. Called without the lock held, so it may call uart_receive. */
    void (*rx_ready)(void *ctx);
};

struct uart {
    /* Protects every field below; ops and ctx are fixed at init. */
    pthread_mutex_t lock;
    const struct uart_ops *ops;
    void *ctx;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr; /* fcr: FIFO enable and trigger bits only */
    uint8_t dll, dlm;
    bool thr_ipending;  /* THR-empty interrupt pending (cleared by IIR read or THR write) */
    bool irq_level;     /* last level given to ops->set_irq */
    bool rx_refused;    /* uart_receive could not take everything: call rx_ready on room */
    uint8_t rx[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;
};

/* Reset state: no interrupts enabled, FIFOs off, divisor 12 (9600 baud), LSR = THRE | TEMT.
 * Returns 0 or -errno. */
int uart_init(struct uart *uart, const struct uart_ops *ops, void *ctx);
void uart_destroy(struct uart *uart);

/* Register access at offset 0-7 from the base. Only 1-byte accesses reach the registers: other
 * sizes and offsets are ignored and read as all ones. */
void uart_pio_read(struct uart *uart, uint16_t offset, uint32_t *data, unsigned size);
void uart_pio_write(struct uart *uart, uint16_t offset, uint32_t data, unsigned size);

/* Bytes from the host side (e.g. stdin): returns how many fit in the receiver (1 byte with FIFOs
 * off, 16 with FIFOs on); the caller keeps the rest until ops->rx_ready. In loopback mode the
 * serial input is disconnected as on hardware: all bytes are taken and dropped. */
size_t uart_receive(struct uart *uart, const uint8_t *buf, size_t n);

#endif
