/* The whpvm board: wires the device models to the WHP API (interrupt lines to
 * WHvRequestInterrupt, I/O and MMIO exits through the instruction emulator and the I/O map to the
 * models) and runs one thread per VP, a PIT thread and, with -serial stdio, a console input
 * thread. */
#include "board.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <openwhp/interrupt_types.h>

#define GIB (1ull << 30)
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_DELIVERY_MODE (7u << 8)
#define APIC_LVT_DELIVERY_EXTINT (7u << 8)
#define RFLAGS_IF (1u << 9)
#define VGA_HOLE_START 0xA0000ull
#define VGA_HOLE_END 0xC0000ull

struct vp_ctx {
    struct board *b;
    UINT32 index;
};

static uint64_t now_ns(void *ctx)
{
    (void)ctx;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void stop(struct board *b, int status)
{
    if (atomic_exchange(&b->stop, true))
        return;
    atomic_store(&b->status, status);
    for (unsigned i = 0; i < b->nvp; i++)
        WHvCancelRunVirtualProcessor(b->partition, i, 0);
}

/* ---- interrupt wiring ---- */

static void ioapic_raise(void *ctx, const WHV_INTERRUPT_CONTROL *ic)
{
    struct board *b = ctx;
    HRESULT hr = WHvRequestInterrupt(b->partition, ic, sizeof(*ic));
    if (FAILED(hr))
        fprintf(stderr, "whpvm: interrupt vector %u lost: 0x%08x\n", ic->Vector, (unsigned)hr);
}

/* The PIC's INTR line reaches VP 0's LINT0. KVM takes an ExtInt request only while LINT0 is in
 * ExtINT mode and unmasked, and holds one at a time, so the INTA cycle waits for VP 0's own
 * thread: pic_intr only records the line and kicks VP 0; deliver_extint, before each run, checks
 * that VP 0 can take the interrupt now and acknowledges the PIC only when the request succeeds.
 * While INTR stays pending the PIT thread kicks VP 0 again (a guest unmasks LINT0 or sets IF
 * without an exit). */
static void pic_intr(void *ctx, bool asserted)
{
    struct board *b = ctx;
    atomic_store(&b->intr, asserted);
    if (asserted)
        WHvCancelRunVirtualProcessor(b->partition, 0, 0);
}

static bool request_extint(void *ctx, uint8_t vector)
{
    struct board *b = ctx;
    WHV_INTERRUPT_CONTROL ic = {0};
    ic.Type = OPENWHP_X64_INTERRUPT_TYPE_EXT_INT;
    ic.Vector = vector;
    ic.Destination = 0; /* VP 0's APIC ID */
    return SUCCEEDED(WHvRequestInterrupt(b->partition, &ic, sizeof(ic)));
}

/* True when VP 0 would take an ExtINT interrupt at its next instruction: LVT LINT0 unmasked and
 * in ExtINT mode, IF set, no interrupt shadow (the moment a CPU runs its INTA cycle). */
static bool vp0_takes_extint(struct board *b)
{
    static const WHV_REGISTER_NAME names[] = {WHvX64RegisterApicLvtLint0, WHvX64RegisterRflags,
                                              WHvRegisterInterruptState};
    WHV_REGISTER_VALUE v[3];
    if (FAILED(WHvGetVirtualProcessorRegisters(b->partition, 0, names, 3, v)))
        return false;
    return !(v[0].Reg32 & APIC_LVT_MASKED) &&
           (v[0].Reg32 & APIC_LVT_DELIVERY_MODE) == APIC_LVT_DELIVERY_EXTINT &&
           (v[1].Reg64 & RFLAGS_IF) && !v[2].InterruptState.InterruptShadow;
}

/* VP 0's thread, between runs: the INTA cycle, when INTR is pending and the VP can take it. */
static void deliver_extint(struct board *b)
{
    if (atomic_load(&b->intr) && vp0_takes_extint(b))
        pic_acknowledge_if(&b->pic, request_extint, b);
}

/* ISA IRQ n: IOAPIC pin n (IRQ 0 is on pin 2, as the MADT override says) and PIC input n. */
static void isa_irq(struct board *b, unsigned irq, bool level)
{
    ioapic_set_irq(&b->ioapic, irq == 0 ? 2 : irq, level);
    pic_set_irq(&b->pic, irq, level);
}

static void uart_irq(void *ctx, bool level)
{
    isa_irq(ctx, 4, level);
}

static void pit_irq(void *ctx, bool level)
{
    isa_irq(ctx, 0, level);
}

static void uart_out(void *ctx, const uint8_t *buf, size_t n)
{
    struct board *b = ctx;
    if (b->serial_stdio && write(STDOUT_FILENO, buf, n) < 0)
        b->serial_stdio = false;
}

static void guest_exit(void *ctx, int status)
{
    stop(ctx, status);
}

/* ---- the devices' ranges in the I/O map ---- */

#define PIC_MASTER_PORT 0x20
#define PIC_SLAVE_PORT 0xA0
#define PIC_PORTS 2 /* command and data; the ELCR pair is PIC_ELCR_MASTER/SLAVE */
#define PIT_PORTS 4 /* channels 0-2 and the control word */
#define UART_PORTS 8
#define FWCFG_PORTS 2
#define PCI_PORTS 8
#define PM_TIMER_PORTS 4

/* Port accesses carry a uint32_t (io_port below); the models take absolute ports or offsets. */
static void pic_access(void *pic, uint64_t port, void *data, unsigned size, bool write)
{
    write ? pic_pio_write(pic, (uint16_t)port, data, size) : pic_pio_read(pic, (uint16_t)port, data, size);
}

static void pit_access(void *pit, uint64_t port, void *data, unsigned size, bool write)
{
    write ? pit_pio_write(pit, (uint16_t)port, data, size) : pit_pio_read(pit, (uint16_t)port, data, size);
}

static void uart_access(void *uart, uint64_t port, void *data, unsigned size, bool write)
{
    uint16_t off = (uint16_t)(port - UART_COM1_BASE);
    write ? uart_pio_write(uart, off, *(uint32_t *)data, size) : uart_pio_read(uart, off, data, size);
}

static void exitdev_access(void *exitdev, uint64_t port, void *data, unsigned size, bool write)
{
    (void)port;
    if (write)
        exitdev_pio_write(exitdev, 0, *(uint32_t *)data, size);
}

static void fwcfg_access(void *fwcfg, uint64_t port, void *data, unsigned size, bool write)
{
    uint16_t off = (uint16_t)(port - FWCFG_PORT_BASE);
    write ? fwcfg_pio_write(fwcfg, off, *(uint32_t *)data, size) : fwcfg_pio_read(fwcfg, off, data, size);
}

static void pci_access(void *pci, uint64_t port, void *data, unsigned size, bool write)
{
    uint16_t off = (uint16_t)(port - PCI_PORT_BASE);
    write ? pci_pio_write(pci, off, *(uint32_t *)data, size) : pci_pio_read(pci, off, data, size);
}

static void pmtimer_access(void *pmtimer, uint64_t port, void *data, unsigned size, bool write)
{
    if (!write)
        pmtimer_pio_read(pmtimer, (uint16_t)(port - BOARD_PM_TIMER_PORT), data, size);
}

static void ioapic_access(void *ioapic, uint64_t gpa, void *data, unsigned size, bool write)
{
    write ? ioapic_mmio_write(ioapic, gpa - IOAPIC_DEFAULT_BASE, data, size)
          : ioapic_mmio_read(ioapic, gpa - IOAPIC_DEFAULT_BASE, data, size);
}

/* Adding a device to the board is one line here. */
static int register_devices(struct board *b)
{
    const struct {
        struct iomap *map;
        uint64_t start, len;
        iomap_access_fn *access;
        void *dev;
    } ranges[] = {
        {&b->pio, PIC_MASTER_PORT, PIC_PORTS, pic_access, &b->pic},
        {&b->pio, PIC_SLAVE_PORT, PIC_PORTS, pic_access, &b->pic},
        {&b->pio, PIC_ELCR_MASTER, PIC_PORTS, pic_access, &b->pic},
        {&b->pio, PIT_PORT_CH0, PIT_PORTS, pit_access, &b->pit},
        {&b->pio, PIT_PORT_B, 1, pit_access, &b->pit},
        {&b->pio, UART_COM1_BASE, UART_PORTS, uart_access, &b->uart},
        {&b->pio, EXITDEV_PORT, 1, exitdev_access, &b->exitdev},
        {&b->pio, FWCFG_PORT_BASE, FWCFG_PORTS, fwcfg_access, &b->fwcfg},
        {&b->pio, PCI_PORT_BASE, PCI_PORTS, pci_access, &b->pci},
        {&b->pio, BOARD_PM_TIMER_PORT, PM_TIMER_PORTS, pmtimer_access, &b->pmtimer},
        {&b->mmio, IOAPIC_DEFAULT_BASE, IOAPIC_MMIO_SIZE, ioapic_access, &b->ioapic},
    };
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        int e = iomap_register(ranges[i].map, ranges[i].start, ranges[i].len, ranges[i].access, ranges[i].dev);
        if (e < 0)
            return e;
    }
    return 0;
}

/* ---- the emulator's view of the board ---- */

static HRESULT CALLBACK io_port(VOID *ctx, WHV_EMULATOR_IO_ACCESS_INFO *io)
{
    struct board *b = ((struct vp_ctx *)ctx)->b;
    unsigned size = io->AccessSize;
    uint32_t v = io->Direction ? io->Data : 0xffffffffu;
    /* An access goes to the device of its first port; with no device there, reads float high. */
    const struct iomap_range *r = iomap_find(&b->pio, io->Port, 1);
    if (r)
        r->access(r->opaque, io->Port, &v, size, io->Direction);
    if (!io->Direction)
        io->Data = size == 4 ? v : v & ((1u << (size * 8)) - 1);
    return S_OK;
}

static HRESULT CALLBACK memory(VOID *ctx, WHV_EMULATOR_MEMORY_ACCESS_INFO *m)
{
    struct board *b = ((struct vp_ctx *)ctx)->b;
    uint64_t gpa = m->GpaAddress;
    unsigned n = m->AccessSize <= 8 ? m->AccessSize : 8;
    const struct iomap_range *r = iomap_find(&b->mmio, gpa, n);
    if (r) {
        r->access(r->opaque, gpa, m->Data, n, m->Direction);
        return S_OK;
    }
    WHV_ACCESS_GPA_CONTROLS c = {.AsUINT64 = 0};
    HRESULT hr = m->Direction ? WHvWriteGpaRange(b->partition, ((struct vp_ctx *)ctx)->index, gpa, c,
                                                 m->Data, n)
                              : WHvReadGpaRange(b->partition, ((struct vp_ctx *)ctx)->index, gpa, c,
                                                m->Data, n);
    if (FAILED(hr) && !m->Direction)
        memset(m->Data, 0xff, n); /* no device: reads float high, writes are dropped */
    return S_OK;
}

static HRESULT CALLBACK get_regs(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                 WHV_REGISTER_VALUE *values)
{
    struct vp_ctx *c = ctx;
    return WHvGetVirtualProcessorRegisters(c->b->partition, c->index, names, n, values);
}

static HRESULT CALLBACK set_regs(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                 const WHV_REGISTER_VALUE *values)
{
    struct vp_ctx *c = ctx;
    return WHvSetVirtualProcessorRegisters(c->b->partition, c->index, names, n, values);
}

static HRESULT CALLBACK translate(VOID *ctx, WHV_GUEST_VIRTUAL_ADDRESS gva,
                                  WHV_TRANSLATE_GVA_FLAGS flags,
                                  WHV_TRANSLATE_GVA_RESULT_CODE *result,
                                  WHV_GUEST_PHYSICAL_ADDRESS *gpa)
{
    struct vp_ctx *c = ctx;
    WHV_TRANSLATE_GVA_RESULT r;
    HRESULT hr = WHvTranslateGva(c->b->partition, c->index, gva, flags, &r, gpa);
    *result = r.ResultCode;
    return hr;
}

/* ---- threads ---- */

static void *vp_thread(void *arg)
{
    struct vp_ctx *c = arg;
    struct board *b = c->b;
    while (!atomic_load(&b->stop)) {
        WHV_RUN_VP_EXIT_CONTEXT e;
        if (c->index == 0)
            deliver_extint(b);
        HRESULT hr = WHvRunVirtualProcessor(b->partition, c->index, &e, sizeof(e));
        if (FAILED(hr)) {
            fprintf(stderr, "whpvm: VP %u: run failed: 0x%08x\n", c->index, (unsigned)hr);
            stop(b, 2);
            break;
        }
        WHV_EMULATOR_STATUS st = {.AsUINT32 = 0};
        switch (e.ExitReason) {
        case WHvRunVpExitReasonX64IoPortAccess:
            hr = WHvEmulatorTryIoEmulation(b->emulator, c, &e.VpContext, &e.IoPortAccess, &st);
            break;
        case WHvRunVpExitReasonMemoryAccess:
            hr = WHvEmulatorTryMmioEmulation(b->emulator, c, &e.VpContext, &e.MemoryAccess, &st);
            break;
        case WHvRunVpExitReasonX64ApicEoi:
            ioapic_eoi(&b->ioapic, e.ApicEoi.InterruptVector);
            continue;
        case WHvRunVpExitReasonCanceled:
        case WHvRunVpExitReasonX64Halt:
            continue;
        case WHvRunVpExitReasonUnrecoverableException:
            fprintf(stderr, "whpvm: VP %u: triple fault at rip 0x%llx\n", c->index,
                    (unsigned long long)e.VpContext.Rip);
            stop(b, 3);
            continue;
        default:
            fprintf(stderr, "whpvm: VP %u: unexpected exit 0x%x at rip 0x%llx (parameter 0x%llx)\n",
                    c->index, e.ExitReason, (unsigned long long)e.VpContext.Rip,
                    e.ExitReason == WHvRunVpExitReasonUnsupportedFeature
                        ? (unsigned long long)e.UnsupportedFeature.FeatureParameter
                        : 0ull);
            stop(b, 2);
            continue;
        }
        if (FAILED(hr) || !st.EmulationSuccessful) {
            fprintf(stderr, "whpvm: VP %u: cannot emulate the access at rip 0x%llx (status 0x%x)\n",
                    c->index, (unsigned long long)e.VpContext.Rip, st.AsUINT32);
            stop(b, 2);
        }
    }
    return NULL;
}

/* PIT channel 0 has no thread of its own: this one sleeps until the next period is due. It also
 * retries a pending PIC interrupt that VP 0 could not take yet (see pic_intr). */
static void *pit_thread(void *arg)
{
    struct board *b = arg;
    while (!atomic_load(&b->stop)) {
        uint64_t next = pit_next_event_ns(&b->pit), now = now_ns(NULL);
        uint64_t wait = next == UINT64_MAX || next < now ? 1000000 : next - now;
        if (wait > 10000000)
            wait = 10000000; /* look again at least every 10 ms: the guest may reprogram */
        struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
        nanosleep(&ts, NULL);
        pit_tick(&b->pit);
        if (atomic_load(&b->intr))
            WHvCancelRunVirtualProcessor(b->partition, 0, 0); /* VP 0 looks at LINT0 again */
    }
    return NULL;
}

static void *console_thread(void *arg)
{
    struct board *b = arg;
    uint8_t buf[64];
    while (!atomic_load(&b->stop)) {
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (size_t done = 0; done < (size_t)n && !atomic_load(&b->stop);) {
            size_t k = uart_receive(&b->uart, buf + done, (size_t)n - done);
            done += k;
            if (!k)
                usleep(1000); /* the guest has not drained the FIFO yet */
        }
    }
    return NULL;
}

/* ---- setup ---- */

static const struct ioapic_ops ioapic_ops = {ioapic_raise};
static const struct pic_ops pic_ops = {pic_intr};
static const struct uart_ops uart_ops = {uart_irq, uart_out, NULL};
static const struct exitdev_ops exitdev_ops = {guest_exit};
static const struct pmtimer_ops pmtimer_ops = {now_ns};
static const struct pit_ops pit_ops = {now_ns, pit_irq};

#define TRY(call, what)                                                                           \
    do {                                                                                          \
        HRESULT hr_ = (call);                                                                     \
        if (FAILED(hr_)) {                                                                        \
            snprintf(err, errlen, "%s failed: 0x%08x", what, (unsigned)hr_);                      \
            return -1;                                                                            \
        }                                                                                         \
    } while (0)

static int map_ram(struct board *b, char *err, size_t errlen)
{
    uint64_t low = b->ram_size < BOARD_LOW_RAM_LIMIT ? b->ram_size : BOARD_LOW_RAM_LIMIT;
    WHV_MAP_GPA_RANGE_FLAGS rwx =
        WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute;
    TRY(WHvMapGpaRange(b->partition, b->ram, 0, VGA_HOLE_START, rwx), "mapping low RAM");
    TRY(WHvMapGpaRange(b->partition, b->ram + VGA_HOLE_END, VGA_HOLE_END, low - VGA_HOLE_END, rwx),
        "mapping RAM");
    if (b->ram_size > low)
        TRY(WHvMapGpaRange(b->partition, b->ram + low, 4 * GIB, b->ram_size - low, rwx),
            "mapping RAM above 4 GiB");
    return 0;
}

int board_create(struct board *b, unsigned nvp, uint64_t ram_size, bool serial_stdio, char *err,
                 size_t errlen)
{
    memset(b, 0, sizeof(*b));
    if (nvp == 0 || nvp > BOARD_MAX_VPS) {
        snprintf(err, errlen, "%u processors: the board has 1 to %d", nvp, BOARD_MAX_VPS);
        return -1;
    }
    b->nvp = nvp;
    b->ram_size = ram_size;
    b->serial_stdio = serial_stdio;
    b->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
    if (b->ram == MAP_FAILED) {
        b->ram = NULL;
        snprintf(err, errlen, "cannot allocate %llu MiB of guest RAM",
                 (unsigned long long)(ram_size >> 20));
        return -1;
    }
    if (ioapic_init(&b->ioapic, &ioapic_ops, b) || pic_init(&b->pic, &pic_ops, b) ||
        uart_init(&b->uart, &uart_ops, b) || exitdev_init(&b->exitdev, &exitdev_ops, b) ||
        fwcfg_init(&b->fwcfg) || pci_init(&b->pci) || pmtimer_init(&b->pmtimer, &pmtimer_ops, b) ||
        pit_init(&b->pit, &pit_ops, b)) {
        snprintf(err, errlen, "cannot initialise the devices");
        return -1;
    }
    b->devices_ready = true;
    if (register_devices(b) < 0) {
        snprintf(err, errlen, "overlapping or too many device ranges");
        return -1;
    }
    WHV_CAPABILITY cap;
    UINT32 size;
    if (FAILED(WHvGetCapability(WHvCapabilityCodeHypervisorPresent, &cap, sizeof(cap), &size)) ||
        !cap.HypervisorPresent) {
        snprintf(err, errlen, "no hypervisor: /dev/kvm is missing or not usable");
        return -1;
    }
    TRY(WHvCreatePartition(&b->partition), "WHvCreatePartition");
    WHV_PARTITION_PROPERTY prop;
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = nvp;
    TRY(WHvSetPartitionProperty(b->partition, WHvPartitionPropertyCodeProcessorCount, &prop,
                                sizeof(prop)), "setting the processor count");
    prop.LocalApicEmulationMode = WHvX64LocalApicEmulationModeXApic;
    TRY(WHvSetPartitionProperty(b->partition, WHvPartitionPropertyCodeLocalApicEmulationMode,
                                &prop, sizeof(prop)), "setting the LAPIC mode");
    TRY(WHvSetupPartition(b->partition), "WHvSetupPartition");
    if (map_ram(b, err, errlen) < 0)
        return -1;
    for (unsigned i = 0; i < nvp; i++)
        TRY(WHvCreateVirtualProcessor(b->partition, i, 0), "WHvCreateVirtualProcessor");
    WHV_EMULATOR_CALLBACKS cb = {
        .Size = sizeof(cb),
        .WHvEmulatorIoPortCallback = io_port,
        .WHvEmulatorMemoryCallback = memory,
        .WHvEmulatorGetVirtualProcessorRegisters = get_regs,
        .WHvEmulatorSetVirtualProcessorRegisters = set_regs,
        .WHvEmulatorTranslateGvaPage = translate,
    };
    TRY(WHvEmulatorCreateEmulator(&cb, &b->emulator), "WHvEmulatorCreateEmulator");
    return 0;
}

/* 32-bit protected mode, flat 4 GiB segments, paging off: the multiboot machine state. */
static HRESULT start_bsp(struct board *b, uint32_t entry, uint32_t eax, uint32_t ebx)
{
    WHV_X64_SEGMENT_REGISTER code = {.Base = 0, .Limit = 0xffffffff, .Selector = 0x10};
    code.SegmentType = 0xb, code.NonSystemSegment = 1, code.Present = 1, code.Default = 1,
    code.Granularity = 1;
    WHV_X64_SEGMENT_REGISTER data = code;
    data.Selector = 0x18, data.SegmentType = 0x3;
    WHV_X64_SEGMENT_REGISTER tr = {.Base = 0, .Limit = 0x67, .Selector = 0};
    tr.SegmentType = 0xb, tr.Present = 1;
    WHV_REGISTER_NAME names[] = {
        WHvX64RegisterCs, WHvX64RegisterDs, WHvX64RegisterEs, WHvX64RegisterSs,
        WHvX64RegisterFs, WHvX64RegisterGs, WHvX64RegisterTr, WHvX64RegisterCr0,
        WHvX64RegisterRip, WHvX64RegisterRflags, WHvX64RegisterRax, WHvX64RegisterRbx,
    };
    WHV_REGISTER_VALUE v[12];
    memset(v, 0, sizeof(v));
    v[0].Segment = code;
    for (int i = 1; i <= 5; i++)
        v[i].Segment = data;
    v[6].Segment = tr;
    v[7].Reg64 = 0x11; /* PE | ET */
    v[8].Reg64 = entry;
    v[9].Reg64 = 0x2;
    v[10].Reg64 = eax;
    v[11].Reg64 = ebx;
    return WHvSetVirtualProcessorRegisters(b->partition, 0, names, 12, v);
}

/* Starts fn(arg) as threads[*n]; when it cannot, says so in one line and stops the board with
 * status 2, so that the threads already started end and the caller joins them. */
static bool start_thread(struct board *b, pthread_t *threads, unsigned *n, void *(*fn)(void *),
                         void *arg, const char *what)
{
    int e = pthread_create(&threads[*n], NULL, fn, arg);
    if (e) {
        fprintf(stderr, "whpvm: cannot start the %s thread: %s\n", what, strerror(e));
        stop(b, 2);
        return false;
    }
    (*n)++;
    return true;
}

int board_run(struct board *b, uint32_t entry, uint32_t eax, uint32_t ebx)
{
    HRESULT hr = start_bsp(b, entry, eax, ebx);
    if (FAILED(hr)) {
        fprintf(stderr, "whpvm: cannot set the boot registers: 0x%08x\n", (unsigned)hr);
        return 2;
    }
    pthread_t vps[BOARD_MAX_VPS], helpers[2];
    struct vp_ctx ctx[BOARD_MAX_VPS];
    unsigned nvps = 0, nhelpers = 0;
    bool ok = start_thread(b, helpers, &nhelpers, pit_thread, b, "PIT") &&
              (!b->serial_stdio || start_thread(b, helpers, &nhelpers, console_thread, b, "console"));
    for (unsigned i = 0; ok && i < b->nvp; i++) {
        ctx[i] = (struct vp_ctx){b, i};
        ok = start_thread(b, vps, &nvps, vp_thread, &ctx[i], "VP");
    }
    for (unsigned i = 0; i < nvps; i++)
        pthread_join(vps[i], NULL);
    stop(b, atomic_load(&b->status)); /* also ends the helpers when the VPs stopped by themselves */
    for (unsigned i = 0; i < nhelpers; i++)
        pthread_join(helpers[i], NULL);
    return atomic_load(&b->status);
}

void board_destroy(struct board *b)
{
    if (b->emulator)
        WHvEmulatorDestroyEmulator(b->emulator);
    if (b->partition)
        WHvDeletePartition(b->partition);
    if (b->devices_ready) {
        pit_destroy(&b->pit);
        pmtimer_destroy(&b->pmtimer);
        pci_destroy(&b->pci);
        fwcfg_destroy(&b->fwcfg);
        exitdev_destroy(&b->exitdev);
        uart_destroy(&b->uart);
        pic_destroy(&b->pic);
        ioapic_destroy(&b->ioapic);
    }
    if (b->ram)
        munmap(b->ram, b->ram_size);
}
