/* Fuzzes the device models' guest interfaces (devices/): the first byte picks the device, the
 * rest is a sequence of register accesses of random sizes at random offsets mixed with the
 * board's inputs (IRQ lines, EOIs, INTA, received bytes, clock steps). The callbacks check the
 * locking each model documents (called with or without its lock) and re-enter the model where
 * that is allowed; after each step the model's state must stay within its documented bounds. */
#include <errno.h>
#include <pthread.h>

#include "fuzz_input.h"

#include "exitdev.h"
#include "fwcfg.h"
#include "ioapic.h"
#include "pci.h"
#include "pic.h"
#include "pit.h"
#include "pmtimer.h"
#include "uart.h"

/* Whether the calling thread can take the model's lock now, i.e. the model does not hold it. */
static bool lock_free(pthread_mutex_t *m)
{
    if (pthread_mutex_trylock(m) != 0)
        return false;
    pthread_mutex_unlock(m);
    return true;
}

static const unsigned sizes[] = {1, 1, 2, 4, 4, 0, 3, 8};

/* A read into a buffer of exactly `size` bytes (so ASan sees any byte past it). */
#define READ_EXACT(fn, dev, where, size)                                                      \
    do {                                                                                      \
        unsigned n_ = (size);                                                                 \
        uint8_t *b_ = malloc(n_ ? n_ : 1);                                                    \
        fn((dev), (where), b_, n_);                                                           \
        free(b_);                                                                             \
    } while (0)

/* ---- IOAPIC ---- */
static struct ioapic io;
static unsigned io_reentry;

static void io_raise(void *ctx, const WHV_INTERRUPT_CONTROL *i)
{
    (void)ctx;
    FZ_CHECK(lock_free(&io.lock)); /* documented: called without the lock */
    FZ_CHECK(i->Type <= 7 && i->Type != 3 && i->Type != 6);
    FZ_CHECK(i->DestinationMode <= 1 && i->TriggerMode <= 1 && i->TargetVtl == 0);
    FZ_CHECK(i->Vector <= 0xff && i->Destination <= 0xff);
    /* A VMM may EOI at once (the guest's handler was fast): re-enter, a bounded number of times. */
    if (i->TriggerMode == WHvX64InterruptTriggerModeLevel && io_reentry < 4) {
        io_reentry++;
        ioapic_eoi(&io, i->Vector);
        io_reentry--;
    }
}

static void fuzz_ioapic(struct fz *f)
{
    static const struct ioapic_ops ops = {io_raise};
    static const uint64_t offsets[] = {IOAPIC_IOREGSEL, IOAPIC_IOWIN, 0x04, 0x14, 0x20, 0xff0, 0x1000};
    FZ_CHECK(ioapic_init(&io, &ops, NULL) == 0);
    while (fz_more(f)) {
        unsigned op = fz_below(f, 9), pin = fz_below(f, IOAPIC_PINS + 2);
        uint64_t off = fz_u8(f) & 1 ? FZ_PICK(f, offsets) : fz_u16(f);
        unsigned size = FZ_PICK(f, sizes);
        uint32_t v = fz_u32(f);
        switch (op) {
        case 0:
            READ_EXACT(ioapic_mmio_read, &io, off, size);
            break;
        case 1:
        case 2: {
            uint8_t b[8];
            memcpy(b, &v, 4);
            memcpy(b + 4, &v, 4);
            uint8_t *exact = malloc(size ? size : 1);
            memcpy(exact, b, size);
            ioapic_mmio_write(&io, off, exact, size);
            free(exact);
            break;
        }
        case 3:
            FZ_CHECK((ioapic_assert_irq(&io, pin) == 0) == (pin < IOAPIC_PINS));
            break;
        case 4:
            ioapic_deassert_irq(&io, pin);
            break;
        case 5:
            FZ_CHECK((ioapic_pulse_irq(&io, pin) == 0) == (pin < IOAPIC_PINS));
            break;
        case 6:
            ioapic_set_irq(&io, pin, v & 1);
            break;
        case 7:
            ioapic_eoi(&io, v & 0x1ff);
            break;
        default:
            if ((v & 0xff) == 0)
                ioapic_reset(&io);
        }
        pthread_mutex_lock(&io.lock);
        FZ_CHECK(io.ioregsel <= 0xff);
        for (unsigned p = 0; p < IOAPIC_PINS; p++)
            FZ_CHECK(io.rtbl[p].acnt >= 0);
        pthread_mutex_unlock(&io.lock);
    }
    ioapic_destroy(&io);
}

/* ---- the 8259 pair ---- */
static struct pic pic;
static bool pic_intr, pic_ack_in_callback;

static void pic_set_intr(void *ctx, bool asserted)
{
    (void)ctx;
    FZ_CHECK(lock_free(&pic.lock));
    pic_intr = asserted;
    if (asserted && pic_ack_in_callback) /* documented as allowed: INTA from the callback */
        pic_acknowledge(&pic);
}

static void fuzz_pic(struct fz *f)
{
    static const struct pic_ops ops = {pic_set_intr};
    static const uint16_t ports[] = {PIC_MASTER_CMD, PIC_MASTER_DATA, PIC_SLAVE_CMD, PIC_SLAVE_DATA,
                                     PIC_ELCR_MASTER, PIC_ELCR_SLAVE, 0x1f, 0x22, 0x4cf, 0x4d2};
    pic_intr = false;
    FZ_CHECK(pic_init(&pic, &ops, NULL) == 0);
    while (fz_more(f)) {
        unsigned op = fz_below(f, 7);
        uint16_t port = fz_u8(f) & 7 ? FZ_PICK(f, ports) : fz_u16(f);
        unsigned size = FZ_PICK(f, sizes);
        uint32_t v = fz_u32(f);
        pic_ack_in_callback = v >> 31;
        switch (op) {
        case 0:
            READ_EXACT(pic_pio_read, &pic, port, size);
            break;
        case 1:
        case 2: {
            uint8_t *exact = malloc(size ? size : 1);
            for (unsigned i = 0; i < size; i++)
                exact[i] = (uint8_t)(v >> (8 * (i % 4)));
            pic_pio_write(&pic, port, exact, size);
            free(exact);
            break;
        }
        case 3:
        case 4: {
            unsigned irq = v % (PIC_IRQS + 1);
            FZ_CHECK((pic_set_irq(&pic, irq, (v >> 8) & 1) == 0) == (irq < PIC_IRQS && irq != PIC_CASCADE_IRQ));
            break;
        }
        case 5: {
            uint8_t vec = pic_acknowledge(&pic);
            pthread_mutex_lock(&pic.lock);
            bool match = (vec & ~7) == (pic.chip[0].irq_base & ~7) ||
                         (vec & ~7) == (pic.chip[1].irq_base & ~7);
            pthread_mutex_unlock(&pic.lock);
            FZ_CHECK(match); /* the vector of some IRQ of one of the chips */
            break;
        }
        default:
            if ((v & 0xff) == 0)
                pic_reset(&pic);
        }
        pthread_mutex_lock(&pic.lock);
        for (unsigned c = 0; c < 2; c++) {
            FZ_CHECK(pic.chip[c].icw_step <= 3);
            FZ_CHECK(pic.chip[c].highest < 8);
        }
        FZ_CHECK(pic.notifying || pic.intr_reported == pic.intr);
        pthread_mutex_unlock(&pic.lock);
        FZ_CHECK(pic_intr == pic.intr); /* the last call carries the current level */
    }
    pic_destroy(&pic);
}

/* ---- 16550A ---- */
static struct uart uart;

static void uart_set_irq_cb(void *ctx, bool level)
{
    (void)ctx;
    (void)level;
    FZ_CHECK(!lock_free(&uart.lock)); /* documented: called with the lock held */
}

static void uart_write_cb(void *ctx, const uint8_t *buf, size_t n)
{
    (void)ctx;
    FZ_CHECK(!lock_free(&uart.lock));
    FZ_CHECK(n > 0 && n <= UART_FIFO_SIZE);
    FZ_CHECK(!(uart.mcr & UART_MCR_LOOP)); /* never in loopback mode */
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; i++)
        sink ^= buf[i];
    (void)sink;
}

static void uart_rx_ready_cb(void *ctx)
{
    (void)ctx;
    FZ_CHECK(lock_free(&uart.lock));
    static const uint8_t more[2] = {'x', 'y'};
    uart_receive(&uart, more, sizeof(more)); /* documented as allowed */
}

static void fuzz_uart(struct fz *f)
{
    static const struct uart_ops ops = {uart_set_irq_cb, uart_write_cb, uart_rx_ready_cb};
    FZ_CHECK(uart_init(&uart, &ops, NULL) == 0);
    while (fz_more(f)) {
        unsigned op = fz_below(f, 4);
        uint16_t off = fz_u8(f) & 0x80 ? fz_u16(f) : fz_below(f, 9);
        unsigned size = FZ_PICK(f, sizes);
        uint32_t v = fz_u32(f);
        switch (op) {
        case 0: {
            uint32_t d;
            uart_pio_read(&uart, off, &d, size);
            break;
        }
        case 1:
        case 2:
            uart_pio_write(&uart, off, v, size);
            break;
        default: {
            uint8_t buf[40];
            size_t n = v % sizeof(buf);
            fz_bytes(f, buf, n);
            FZ_CHECK(uart_receive(&uart, buf, n) <= n);
        }
        }
        pthread_mutex_lock(&uart.lock);
        FZ_CHECK(uart.rx_count <= UART_FIFO_SIZE && uart.rx_head < UART_FIFO_SIZE);
        pthread_mutex_unlock(&uart.lock);
    }
    uart_destroy(&uart);
}

/* ---- fw_cfg ---- */
static void fuzz_fwcfg(struct fz *f)
{
    static struct fwcfg fw;
    FZ_CHECK(fwcfg_init(&fw) == 0);
    while (fz_more(f)) {
        unsigned op = fz_below(f, 8);
        uint16_t off = fz_u8(f) & 0x80 ? fz_u16(f) : fz_below(f, 3);
        unsigned size = FZ_PICK(f, sizes);
        uint32_t v = fz_u32(f);
        switch (op) {
        case 0:
        case 1: {
            uint32_t d;
            fwcfg_pio_read(&fw, off, &d, size);
            break;
        }
        case 2:
        case 3:
            fwcfg_pio_write(&fw, off, op == 3 ? v & 0x3f : v, size);
            break;
        case 4: {
            size_t n = v % 300;
            uint8_t *buf = malloc(n ? n : 1);
            fwcfg_data_read(&fw, buf, n);
            free(buf);
            break;
        }
        case 5: { /* the VMM's side, with hostile-looking values */
            size_t n = v % 80;
            uint8_t *buf = malloc(n ? n : 1);
            fz_bytes(f, buf, n);
            uint16_t key = (uint16_t)(v >> 16);
            key = (v >> 15) & 1 ? key : key & 0x3f;
            int r;
            switch ((v >> 12) & 7) {
            case 0: r = fwcfg_add_u16(&fw, key, (uint16_t)v); break;
            case 1: r = fwcfg_add_u32(&fw, key, v); break;
            case 2: r = fwcfg_add_u64(&fw, key, (uint64_t)v << 32 | n); break;
            case 3: r = fwcfg_set_kernel(&fw, buf, n); break;
            case 4: r = fwcfg_set_initrd(&fw, buf, n); break;
            default: r = fwcfg_add(&fw, key, buf, n);
            }
            FZ_CHECK(r == 0 || r == -EINVAL || r == -ENOSPC);
            free(buf);
            break;
        }
        case 6: {
            char name[64];
            size_t n = v % sizeof(name);
            fz_bytes(f, name, n);
            name[n] = 0;
            uint8_t data[8];
            memcpy(data, &v, 4);
            int r = fwcfg_add_file(&fw, name, data, (v >> 8) % sizeof(data));
            FZ_CHECK((r >= FWCFG_FILE_FIRST && r < FWCFG_FILE_FIRST + FWCFG_MAX_FILES) ||
                     r == -EINVAL || r == -ENOSPC);
            break;
        }
        default: {
            char line[32];
            size_t n = v % sizeof(line);
            fz_bytes(f, line, n);
            line[n] = 0;
            FZ_CHECK(fwcfg_set_cmdline(&fw, line) == 0);
        }
        }
        pthread_mutex_lock(&fw.lock);
        FZ_CHECK(fw.nitems <= FWCFG_MAX_ITEMS && fw.nfiles <= FWCFG_MAX_FILES);
        FZ_CHECK(fw.dir_len <= sizeof(fw.dir));
        pthread_mutex_unlock(&fw.lock);
    }
    fwcfg_destroy(&fw);
}

/* ---- PCI mechanism 1 ---- */
static struct pci pci;

static void pci_check_access(unsigned reg, unsigned size)
{
    FZ_CHECK(!lock_free(&pci.lock)); /* documented: called with the pci lock held */
    FZ_CHECK(reg < 256 && (size == 1 || size == 2 || size == 4));
    FZ_CHECK((reg & 3) + size <= 4); /* never crossing a dword */
}

static uint32_t pci_fn_read(void *ctx, unsigned reg, unsigned size)
{
    pci_check_access(reg, size);
    return (uint32_t)(uintptr_t)ctx * 0x01010101u + reg;
}

static void pci_fn_write(void *ctx, unsigned reg, uint32_t data, unsigned size)
{
    (void)ctx;
    pci_check_access(reg, size);
    FZ_CHECK(size == 4 || data >> (8 * size) == 0);
}

static void fuzz_pci(struct fz *f)
{
    static const struct pci_func_ops ops = {pci_fn_read, pci_fn_write};
    FZ_CHECK(pci_init(&pci) == 0);
    while (fz_more(f)) {
        unsigned op = fz_below(f, 6);
        uint16_t off = fz_u8(f) & 0x80 ? fz_u16(f) : fz_below(f, 9);
        unsigned size = FZ_PICK(f, sizes);
        uint32_t v = fz_u32(f);
        unsigned bus = fz_u8(f) % 3, dev = fz_below(f, 34), fn = fz_below(f, 9);
        switch (op) {
        case 0:
        case 1: {
            uint32_t d;
            pci_pio_read(&pci, off, &d, size);
            break;
        }
        case 2:
            pci_pio_write(&pci, off, v, size);
            break;
        case 3: /* select a function as a guest does */
            pci_pio_write(&pci, PCI_CONFIG_ADDRESS,
                          PCI_ADDR_ENABLE | bus << 16 | dev << 11 | fn << 8 | (v & 0xff), 4);
            break;
        case 4: {
            int r = pci_attach(&pci, bus, dev, fn, &ops, (void *)(uintptr_t)(v & 0xff));
            FZ_CHECK(r == 0 || r == -EINVAL || r == -EEXIST || r == -ENOSPC);
            FZ_CHECK((r == -EINVAL) == (dev >= 32 || fn >= 8));
            break;
        }
        default: {
            int r = pci_detach(&pci, bus, dev, fn);
            FZ_CHECK(r == 0 || r == -ENOENT);
        }
        }
        pthread_mutex_lock(&pci.lock);
        FZ_CHECK(pci.nfuncs <= PCI_MAX_ATTACHED && (pci.address & ~PCI_ADDR_MASK) == 0);
        pthread_mutex_unlock(&pci.lock);
    }
    pci_destroy(&pci);
}

/* ---- clocks for the PM timer and the PIT: fake, advanced by the input ---- */
static uint64_t fake_now;
static pthread_mutex_t *clock_owner_lock;

static uint64_t fake_clock(void *ctx)
{
    (void)ctx;
    /* documented: called with the lock held (init and reset run before anyone else can call) */
    FZ_CHECK(!clock_owner_lock || !lock_free(clock_owner_lock));
    return fake_now;
}

static void advance(struct fz *f)
{
    static const uint64_t steps[] = {0, 1, 838, 1000, 54925, 1000000, 55000000, 1ull << 40};
    uint64_t step = FZ_PICK(f, steps);
    fake_now += step ? step : fz_u32(f);
}

static void fuzz_pmtimer(struct fz *f)
{
    static struct pmtimer pm;
    static const struct pmtimer_ops ops = {fake_clock};
    fake_now = fz_u64(f) >> 2;
    clock_owner_lock = NULL;
    FZ_CHECK(pmtimer_init(&pm, &ops, NULL) == 0);
    clock_owner_lock = &pm.lock;
    while (fz_more(f)) {
        unsigned op = fz_below(f, 5);
        uint16_t off = fz_u8(f) & 0x80 ? fz_u16(f) : fz_below(f, 6);
        unsigned size = FZ_PICK(f, sizes);
        switch (op) {
        case 0:
            READ_EXACT(pmtimer_pio_read, &pm, off, size);
            break;
        case 1: {
            uint8_t *b = calloc(1, size ? size : 1);
            pmtimer_pio_write(&pm, off, b, size);
            free(b);
            break;
        }
        case 2: {
            bool ext = fz_u8(f) & 1;
            pmtimer_set_tmr_val_ext(&pm, ext);
            FZ_CHECK(ext || pmtimer_value(&pm) <= 0xffffff);
            break;
        }
        case 3:
            pmtimer_reset(&pm);
            FZ_CHECK(pmtimer_value(&pm) == 0);
            break;
        default:
            advance(f);
        }
    }
    pmtimer_destroy(&pm);
}

static struct pit pit;
static bool pit_level;

static void pit_set_irq(void *ctx, bool level)
{
    (void)ctx;
    FZ_CHECK(lock_free(&pit.lock)); /* documented: without the lock */
    FZ_CHECK(level != pit_level);   /* pulses: true, then false */
    pit_level = level;
}

static void fuzz_pit(struct fz *f)
{
    static const struct pit_ops ops = {fake_clock, pit_set_irq};
    static const uint16_t ports[] = {PIT_PORT_CH0, PIT_PORT_CH1, PIT_PORT_CH2, PIT_PORT_CONTROL,
                                     PIT_PORT_B, 0x44, 0x60, 0x3f};
    fake_now = fz_u64(f) >> 2;
    clock_owner_lock = NULL;
    pit_level = false;
    FZ_CHECK(pit_init(&pit, &ops, NULL) == 0);
    clock_owner_lock = &pit.lock;
    while (fz_more(f)) {
        unsigned op = fz_below(f, 7);
        uint16_t port = fz_u8(f) & 0x80 ? fz_u16(f) : FZ_PICK(f, ports);
        unsigned size = FZ_PICK(f, sizes);
        uint32_t v = fz_u32(f);
        switch (op) {
        case 0:
            READ_EXACT(pit_pio_read, &pit, port, size);
            break;
        case 1:
        case 2: {
            uint8_t *exact = malloc(size ? size : 1);
            for (unsigned i = 0; i < size; i++)
                exact[i] = (uint8_t)(v >> (8 * (i % 4)));
            pit_pio_write(&pit, port, exact, size);
            free(exact);
            break;
        }
        case 3:
            advance(f);
            break;
        case 4: { /* the VMM's timer fires: at (or after) the announced time it must pulse */
            uint64_t next = pit_next_event_ns(&pit);
            if (next == PIT_NO_EVENT)
                break;
            if (next > fake_now && (v & 1))
                fake_now = next;
            bool due = next <= fake_now;
            bool pulsed = pit_tick(&pit);
            FZ_CHECK(pulsed == due);
            uint64_t after = pit_next_event_ns(&pit);
            FZ_CHECK(after == PIT_NO_EVENT || after > fake_now || !pulsed);
            break;
        }
        case 5:
            pit_tick(&pit); /* early or late, at any time */
            break;
        default:
            if ((v & 0xff) == 0)
                pit_reset(&pit);
        }
        FZ_CHECK(!pit_level);
    }
    pit_destroy(&pit);
}

/* ---- isa-debug-exit ---- */
static int exit_status;

static void exit_cb(void *ctx, int status)
{
    (void)ctx;
    exit_status = status;
}

static void fuzz_exitdev(struct fz *f)
{
    static struct exitdev dev;
    static const struct exitdev_ops ops = {exit_cb};
    FZ_CHECK(exitdev_init(&dev, &ops, NULL) == 0);
    while (fz_more(f)) {
        uint16_t off = fz_u8(f) & 0x80 ? fz_u16(f) : fz_below(f, 2);
        unsigned size = FZ_PICK(f, sizes);
        uint32_t v = fz_u32(f);
        if (fz_u8(f) & 1) {
            uint32_t d;
            exitdev_pio_read(&dev, off, &d, size);
            continue;
        }
        bool ok = off == 0 && (size == 1 || size == 2 || size == 4);
        FZ_CHECK(exitdev_pio_write(&dev, off, v, size) == ok);
        int st;
        if (ok) {
            uint32_t val = size == 4 ? v : v & ((1u << (8 * size)) - 1);
            FZ_CHECK(exitdev_status(&dev, &st) && st == exit_status);
            FZ_CHECK(st == (int)((val << 1) | 1));
        }
    }
    exitdev_destroy(&dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void (*const devices[])(struct fz *) = {
        fuzz_ioapic, fuzz_pic, fuzz_uart, fuzz_fwcfg, fuzz_pci, fuzz_pmtimer, fuzz_pit, fuzz_exitdev,
    };
    if (size < 1)
        return 0;
    struct fz f = {data + 1, size - 1, 0};
    devices[data[0] % (sizeof(devices) / sizeof(devices[0]))](&f);
    return 0;
}
