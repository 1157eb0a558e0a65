/* vsock_echo: a WHP program that gives its own guest a virtio-vsock device from
 * libopenwhp-devices and talks to it over HvSocket. The guest (guest.c, embedded as a flat binary)
 * listens on vsock port ECHO_PORT and echoes; this program connects with OpenWhpHvSocketConnect,
 * sends ECHO_BYTES, reads them back and checks them (and that a port nobody listens on is
 * refused). Exit status 0 only when everything came back and the guest closed the connection;
 * 77 (SKIP) without /dev/kvm. Only installed headers and libraries: build it with the Makefile
 * next to it (pkg-config openwhp-devices). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, alarm */
#include <WinHvEmulation.h>
#include <WinHvPlatform.h>
#include <devices/virtio_mmio.h>
#include <devices/vsock.h>
#include <devices/vsock_whp.h>
#include <openwhp/hvsocket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "layout.h"

#define ECHO_BYTES (256u << 10)
#define TIMEOUT_S 60 /* for the whole run: a hang fails instead of blocking CI */
#define CONNECT_TIMEOUT_MS 10000
#define EXIT_SKIP 77

/* Long mode for the guest: page tables identity-mapping the first GiB with 2 MiB pages, and a
 * GDT with one code and one data segment, all below the guest image. */
#define PML4_GPA 0x1000
#define PDPT_GPA 0x2000
#define PD_GPA 0x3000
#define GDT_GPA 0x4000
#define PTE_PRESENT 0x1
#define PTE_WRITE 0x2
#define PTE_LARGE 0x80
#define LARGE_PAGE_SIZE (2ull << 20)
#define PD_ENTRIES 512
#define GDT_ENTRIES 3                    /* null, code, data */
#define GDT_CODE64 0x00AF9B000000FFFFull /* present, DPL 0, execute/read, long mode */
#define GDT_DATA 0x00CF93000000FFFFull   /* present, DPL 0, read/write */
#define SEL_CODE 0x08
#define SEL_DATA 0x10
/* The same segments as WHP register attributes:
 * type | S << 4 | P << 7 | L << 13 | DB << 14 | G << 15 */
#define ATTR_CODE64 0xA09B
#define ATTR_DATA 0xC093
#define ATTR_TSS64_BUSY 0x8B
#define ATTR_LDT 0x82
#define LIMIT_FLAT 0xFFFFFFFF
#define LIMIT_LDT 0xFFFF
#define TSS_LIMIT 0x67
#define CR0_PE 0x1
#define CR0_MP 0x2
#define CR0_ET 0x10
#define CR0_NE 0x20
#define CR0_WP 0x10000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define EFER_LME 0x100
#define EFER_LMA 0x400
#define RFLAGS_RESERVED 0x2 /* and IF clear: the guest enables interrupts only to wait */

extern const uint8_t guest_image[], guest_image_end[];

struct vm {
    WHV_PARTITION_HANDLE partition;
    uint8_t *ram;
    WHV_EMULATOR_HANDLE emulator;
    struct vsock_whp whp;
    struct vsock *dev;
    GUID vm_id;
    char socket_path[108];
    int reports[2]; /* a pipe: the guest's reports, in order, from the VP thread to main */
};

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vsock_echo: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_FAILURE);
}

#define CHECK_HR(call)                                                                            \
    do {                                                                                          \
        HRESULT hr_ = (call);                                                                     \
        if (FAILED(hr_))                                                                          \
            die("%s failed: 0x%08x", #call, (unsigned)hr_);                                       \
    } while (0)

static void on_alarm(int sig)
{
    static const char msg[] = "vsock_echo: timed out\n";
    (void)sig;
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(EXIT_FAILURE);
}

/* ---- the device's view of guest RAM, and the instruction emulator's callbacks ---- */

static void *gpa_to_hva(void *ctx, uint64_t gpa, uint64_t len)
{
    struct vm *vm = ctx;
    if (gpa > GUEST_RAM_SIZE || len > GUEST_RAM_SIZE - gpa)
        return NULL;
    return vm->ram + gpa;
}

/* The guest's OUTs to REPORT_PORT. */
static HRESULT CALLBACK io_port(VOID *ctx, WHV_EMULATOR_IO_ACCESS_INFO *io)
{
    struct vm *vm = ctx;
    if (io->Port != REPORT_PORT || io->Direction != 1 || io->AccessSize != sizeof(io->Data))
        return E_INVALIDARG;
    if (io->Data & REPORT_FAILED)
        die("the guest's check at guest.c:%u failed", io->Data & ~REPORT_FAILED);
    if (write(vm->reports[1], &io->Data, sizeof(io->Data)) != sizeof(io->Data))
        die("report pipe: %s", strerror(errno));
    return S_OK;
}

/* The device's register window; RAM for anything else the emulator reads or writes. */
static HRESULT CALLBACK memory(VOID *ctx, WHV_EMULATOR_MEMORY_ACCESS_INFO *m)
{
    struct vm *vm = ctx;
    uint64_t value = 0;
    if (m->GpaAddress - VSOCK_MMIO_GPA < VIRTIO_MMIO_SIZE) {
        uint32_t offset = (uint32_t)(m->GpaAddress - VSOCK_MMIO_GPA);
        if (m->Direction) {
            memcpy(&value, m->Data, m->AccessSize);
            vsock_mmio_write(vm->dev, offset, value, m->AccessSize);
        } else {
            value = vsock_mmio_read(vm->dev, offset, m->AccessSize);
            memcpy(m->Data, &value, m->AccessSize);
        }
        return S_OK;
    }
    uint8_t *ram = gpa_to_hva(vm, m->GpaAddress, m->AccessSize);
    if (!ram)
        return E_INVALIDARG;
    if (m->Direction)
        memcpy(ram, m->Data, m->AccessSize);
    else
        memcpy(m->Data, ram, m->AccessSize);
    return S_OK;
}

static HRESULT CALLBACK get_regs(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                 WHV_REGISTER_VALUE *values)
{
    return WHvGetVirtualProcessorRegisters(((struct vm *)ctx)->partition, 0, names, n, values);
}

static HRESULT CALLBACK set_regs(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                 const WHV_REGISTER_VALUE *values)
{
    return WHvSetVirtualProcessorRegisters(((struct vm *)ctx)->partition, 0, names, n, values);
}

static HRESULT CALLBACK translate(VOID *ctx, WHV_GUEST_VIRTUAL_ADDRESS gva, WHV_TRANSLATE_GVA_FLAGS flags,
                                  WHV_TRANSLATE_GVA_RESULT_CODE *result, WHV_GUEST_PHYSICAL_ADDRESS *gpa)
{
    WHV_TRANSLATE_GVA_RESULT r;
    HRESULT hr = WHvTranslateGva(((struct vm *)ctx)->partition, 0, gva, flags, &r, gpa);
    *result = r.ResultCode;
    return hr;
}

/* ---- the VM ---- */

/* RAM with the guest image, page tables and GDT; one VP in long mode at the image's start. */
static void vm_create(struct vm *vm)
{
    size_t image_size = (size_t)(guest_image_end - guest_image);
    if (image_size > GUEST_RAM_SIZE - GUEST_LOAD_GPA)
        die("the guest image (%zu bytes) does not fit", image_size);
    vm->ram = mmap(NULL, GUEST_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (vm->ram == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    memcpy(vm->ram + GUEST_LOAD_GPA, guest_image, image_size);
    uint64_t *pml4 = (uint64_t *)(vm->ram + PML4_GPA), *pdpt = (uint64_t *)(vm->ram + PDPT_GPA);
    uint64_t *pd = (uint64_t *)(vm->ram + PD_GPA), *gdt = (uint64_t *)(vm->ram + GDT_GPA);
    pml4[0] = PDPT_GPA | PTE_PRESENT | PTE_WRITE;
    pdpt[0] = PD_GPA | PTE_PRESENT | PTE_WRITE;
    for (uint64_t i = 0; i < PD_ENTRIES; i++)
        pd[i] = i * LARGE_PAGE_SIZE | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
    gdt[SEL_CODE / 8] = GDT_CODE64;
    gdt[SEL_DATA / 8] = GDT_DATA;

    CHECK_HR(WHvCreatePartition(&vm->partition));
    WHV_PARTITION_PROPERTY prop;
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = 1;
    CHECK_HR(WHvSetPartitionProperty(vm->partition, WHvPartitionPropertyCodeProcessorCount, &prop,
                                     sizeof(prop)));
    memset(&prop, 0, sizeof(prop));
    prop.LocalApicEmulationMode = WHvX64LocalApicEmulationModeX2Apic; /* the device's interrupt */
    CHECK_HR(WHvSetPartitionProperty(vm->partition, WHvPartitionPropertyCodeLocalApicEmulationMode, &prop,
                                     sizeof(prop)));
    CHECK_HR(WHvSetupPartition(vm->partition));
    CHECK_HR(WHvMapGpaRange(vm->partition, vm->ram, 0, GUEST_RAM_SIZE,
                            WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute));
    CHECK_HR(WHvCreateVirtualProcessor(vm->partition, 0, 0));

    const WHV_X64_SEGMENT_REGISTER code = {.Limit = LIMIT_FLAT, .Selector = SEL_CODE,
                                           .Attributes = ATTR_CODE64};
    const WHV_X64_SEGMENT_REGISTER data = {.Limit = LIMIT_FLAT, .Selector = SEL_DATA,
                                           .Attributes = ATTR_DATA};
    const struct {
        WHV_REGISTER_NAME name;
        WHV_REGISTER_VALUE value;
    } regs[] = {
        {WHvX64RegisterCr0, {.Reg64 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG}},
        {WHvX64RegisterCr3, {.Reg64 = PML4_GPA}},
        {WHvX64RegisterCr4, {.Reg64 = CR4_PAE}},
        {WHvX64RegisterEfer, {.Reg64 = EFER_LME | EFER_LMA}},
        {WHvX64RegisterCs, {.Segment = code}},
        {WHvX64RegisterDs, {.Segment = data}},
        {WHvX64RegisterEs, {.Segment = data}},
        {WHvX64RegisterFs, {.Segment = data}},
        {WHvX64RegisterGs, {.Segment = data}},
        {WHvX64RegisterSs, {.Segment = data}},
        {WHvX64RegisterTr, {.Segment = {.Limit = TSS_LIMIT, .Attributes = ATTR_TSS64_BUSY}}},
        {WHvX64RegisterLdtr, {.Segment = {.Limit = LIMIT_LDT, .Attributes = ATTR_LDT}}},
        {WHvX64RegisterGdtr, {.Table = {.Limit = GDT_ENTRIES * 8 - 1, .Base = GDT_GPA}}},
        {WHvX64RegisterRflags, {.Reg64 = RFLAGS_RESERVED}},
        {WHvX64RegisterRip, {.Reg64 = GUEST_LOAD_GPA}},
    };
    enum { NREGS = sizeof(regs) / sizeof(regs[0]) };
    WHV_REGISTER_NAME names[NREGS];
    WHV_REGISTER_VALUE values[NREGS];
    for (unsigned i = 0; i < NREGS; i++) {
        names[i] = regs[i].name;
        values[i] = regs[i].value;
    }
    CHECK_HR(WHvSetVirtualProcessorRegisters(vm->partition, 0, names, NREGS, values));

    WHV_EMULATOR_CALLBACKS callbacks = {
        .Size = sizeof(callbacks),
        .WHvEmulatorIoPortCallback = io_port,
        .WHvEmulatorMemoryCallback = memory,
        .WHvEmulatorGetVirtualProcessorRegisters = get_regs,
        .WHvEmulatorSetVirtualProcessorRegisters = set_regs,
        .WHvEmulatorTranslateGvaPage = translate,
    };
    CHECK_HR(WHvEmulatorCreateEmulator(&callbacks, &vm->emulator));
    if (pipe(vm->reports) < 0)
        die("pipe: %s", strerror(errno));
}

/* The vsock device: a doorbell on its QueueNotify register and a trigger for its interrupt
 * (vsock_whp_attach), listening on the VM's hybrid socket, where OpenWhpHvSocketConnect finds it. */
static void vsock_attach(struct vm *vm)
{
    const WHV_INTERRUPT_CONTROL irq = {
        .Type = WHvX64InterruptTypeFixed,
        .DestinationMode = WHvX64InterruptDestinationModePhysical,
        .TriggerMode = WHvX64InterruptTriggerModeEdge,
        .Destination = 0,
        .Vector = VSOCK_IRQ_VECTOR,
    };
    CHECK_HR(vsock_whp_attach(&vm->whp, vm->partition, VSOCK_MMIO_GPA, &irq));
    CHECK_HR(OpenWhpGetPartitionVmId(vm->partition, &vm->vm_id));
    CHECK_HR(OpenWhpHvSocketGetPath(&vm->vm_id, OPENWHP_HVSOCKET_VM_PORT, vm->socket_path,
                                    sizeof(vm->socket_path), NULL));
    const struct vsock_config cfg = {
        .guest_cid = GUEST_CID,
        .vm_id = vm->vm_id,
        .socket_path = vm->socket_path,
        .notify_event = vm->whp.notify_event,
        .interrupt_event = vm->whp.interrupt_event,
        .mem = {gpa_to_hva, vm},
    };
    vm->dev = vsock_create(&cfg);
    if (!vm->dev)
        die("vsock_create: %s", strerror(errno));
}

/* Runs VP 0 until main cancels it: register accesses go to the emulator, which calls the device
 * (memory) or takes the guest's reports (io_port). */
static void *vp_thread(void *opaque)
{
    struct vm *vm = opaque;
    for (;;) {
        WHV_RUN_VP_EXIT_CONTEXT exit;
        WHV_EMULATOR_STATUS status = {.AsUINT32 = 0};
        CHECK_HR(WHvRunVirtualProcessor(vm->partition, 0, &exit, sizeof(exit)));
        HRESULT hr;
        if (exit.ExitReason == WHvRunVpExitReasonMemoryAccess)
            hr = WHvEmulatorTryMmioEmulation(vm->emulator, vm, &exit.VpContext, &exit.MemoryAccess, &status);
        else if (exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess)
            hr = WHvEmulatorTryIoEmulation(vm->emulator, vm, &exit.VpContext, &exit.IoPortAccess, &status);
        else if (exit.ExitReason == WHvRunVpExitReasonCanceled)
            return NULL;
        else
            die("unexpected exit 0x%x at rip 0x%llx", exit.ExitReason,
                (unsigned long long)exit.VpContext.Rip);
        if (FAILED(hr) || !status.EmulationSuccessful)
            die("cannot emulate the access at rip 0x%llx (0x%08x, status 0x%x)",
                (unsigned long long)exit.VpContext.Rip, (unsigned)hr, status.AsUINT32);
    }
}

static void expect_report(struct vm *vm, uint32_t expected)
{
    uint32_t value;
    if (read(vm->reports[0], &value, sizeof(value)) != sizeof(value))
        die("report pipe: %s", strerror(errno));
    if (value != expected)
        die("the guest reported %u, expected %u", value, expected);
}

/* ---- the host side of the connection ---- */

static uint8_t pattern(size_t i) { return (uint8_t)(i * 131 + (i >> 8)); }

/* Sends ECHO_BYTES and reads the echo until the guest's end of stream, both at once (poll), so
 * neither direction waits for the other; then checks every byte. */
static void echo(int fd)
{
    static uint8_t out[ECHO_BYTES], in[ECHO_BYTES + 1]; /* one more: an extra byte is an error */
    size_t sent = 0, got = 0;
    for (size_t i = 0; i < ECHO_BYTES; i++)
        out[i] = pattern(i);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
        die("fcntl: %s", strerror(errno));
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < ECHO_BYTES ? POLLOUT : 0)};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        if (p.revents & POLLOUT) {
            ssize_t n = write(fd, out + sent, ECHO_BYTES - sent);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                die("write: %s", strerror(errno));
            if (n > 0 && (sent += (size_t)n) == ECHO_BYTES && shutdown(fd, SHUT_WR) < 0)
                die("shutdown: %s", strerror(errno));
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(fd, in + got, sizeof(in) - got);
            if (n < 0 && errno != EAGAIN && errno != EINTR)
                die("read: %s", strerror(errno));
            if (n == 0)
                break; /* the guest's SHUTDOWN */
            if (n > 0)
                got += (size_t)n;
        }
    }
    if (sent != ECHO_BYTES || got != ECHO_BYTES)
        die("sent %zu bytes, got %zu back", sent, got);
    for (size_t i = 0; i < ECHO_BYTES; i++)
        if (in[i] != out[i])
            die("byte %zu came back as 0x%02x, sent 0x%02x", i, in[i], out[i]);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(TIMEOUT_S);
    WHV_CAPABILITY cap;
    UINT32 size;
    if (access("/dev/kvm", R_OK | W_OK) != 0 ||
        FAILED(WHvGetCapability(WHvCapabilityCodeHypervisorPresent, &cap, sizeof(cap), &size)) ||
        !cap.HypervisorPresent) {
        printf("SKIP: /dev/kvm not available\n");
        return EXIT_SKIP;
    }

    struct vm vm;
    memset(&vm, 0, sizeof(vm));
    vm_create(&vm);
    vsock_attach(&vm);
    pthread_t vp;
    if ((errno = pthread_create(&vp, NULL, vp_thread, &vm)))
        die("pthread_create: %s", strerror(errno));
    expect_report(&vm, REPORT_LISTENING);

    /* Nobody listens on ECHO_PORT + 1: the guest answers the request with RST. */
    SOCKADDR_HV addr = {.Family = AF_HYPERV, .VmId = vm.vm_id};
    OpenWhpVsockPortToServiceId(ECHO_PORT + 1, &addr.ServiceId);
    int fd;
    HRESULT hr = OpenWhpHvSocketConnect(&addr, CONNECT_TIMEOUT_MS, &fd);
    if (hr != HRESULT_FROM_WIN32(WSAECONNREFUSED))
        die("connect to port %u: 0x%08x, expected WSAECONNREFUSED", ECHO_PORT + 1, (unsigned)hr);

    double t0 = now_ms();
    OpenWhpVsockPortToServiceId(ECHO_PORT, &addr.ServiceId);
    CHECK_HR(OpenWhpHvSocketConnect(&addr, CONNECT_TIMEOUT_MS, &fd));
    echo(fd);
    close(fd);
    expect_report(&vm, REPORT_CLOSED); /* the guest saw the device's RST */
    double ms = now_ms() - t0;

    struct vsock_stats st;
    vsock_get_stats(vm.dev, &st);
    printf("vsock_echo: %u bytes echoed by the guest in %.1f ms (%llu packets to the guest, %llu from it, "
           "%llu interrupts)\n",
           ECHO_BYTES, ms, (unsigned long long)st.rx_packets, (unsigned long long)st.tx_packets,
           (unsigned long long)st.interrupts);

    CHECK_HR(WHvCancelRunVirtualProcessor(vm.partition, 0, 0));
    pthread_join(vp, NULL);
    vsock_destroy(vm.dev);
    vsock_whp_detach(&vm.whp);
    WHvEmulatorDestroyEmulator(vm.emulator);
    WHvDeletePartition(vm.partition);
    munmap(vm.ram, GUEST_RAM_SIZE);
    close(vm.reports[0]);
    close(vm.reports[1]);
    return 0;
}
