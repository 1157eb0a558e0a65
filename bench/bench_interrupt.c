/* Interrupt delivery: one real-mode guest (x2APIC, `sti; hlt` loop, vector 0x40 handler that counts,
 * reports with `out 0x80`, EOIs and `iret`s) driven by WHvRequestInterrupt and by raw KVM_SIGNAL_MSI
 * in the same process: median request -> handler -> port-exit round trip, and the delivery rate. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <WinHvPlatform.h>

#define MEM_SIZE 0x10000
#define CODE_GPA 0x1000
#define HANDLER_GPA 0x1100
#define SPURIOUS_GPA 0x1200
#define COUNT_GPA 0x2000  /* u32: handler runs */
#define REPORT_GPA 0x2004 /* u8: non-zero = the handler reports with out 0x80 */
#define STACK_TOP 0x8000
#define VECTOR 0x40
#define SPURIOUS_VECTOR 0xFF
#define REPORT_PORT 0x80
#define READY_PORT 0x81
#define MAX_ROUNDS 1000
#define MAX_SENDERS 4
#define WATCHDOG_S 30
#define BENCH_NAME "bench_interrupt"
#include "bench_util.h"

/* Real mode, CS = DS = SS = 0. Switches the APIC to x2APIC, software-enables it, says ready, then
 * waits in `sti; hlt`. */
static const uint8_t guest_code[] = {
    0x66, 0xB9, 0x1B, 0x00, 0x00, 0x00, /* mov ecx, 0x1B (IA32_APIC_BASE) */
    0x0F, 0x32,                         /* rdmsr */
    0x66, 0x0D, 0x00, 0x0C, 0x00, 0x00, /* or eax, 0xC00 (enable | x2APIC) */
    0x0F, 0x30,                         /* wrmsr */
    0x66, 0xB9, 0x0F, 0x08, 0x00, 0x00, /* mov ecx, 0x80F (SVR) */
    0x66, 0xB8, 0xFF, 0x01, 0x00, 0x00, /* mov eax, 0x1FF (software enable, spurious 0xFF) */
    0x66, 0x31, 0xD2,                   /* xor edx, edx */
    0x0F, 0x30,                         /* wrmsr */
    0xE6, READY_PORT,                   /* out 0x81, al */
    0xFB,                               /* loop: sti */
    0xF4,                               /* hlt */
    0xEB, 0xFC,                         /* jmp loop */
};

/* Vector 0x40: count, report if asked to, EOI, iret. */
static const uint8_t guest_handler[] = {
    0x66, 0x50,                         /* push eax */
    0x66, 0x51,                         /* push ecx */
    0x66, 0x52,                         /* push edx */
    0x66, 0xFF, 0x06, 0x00, 0x20,       /* inc dword [0x2000] */
    0x80, 0x3E, 0x04, 0x20, 0x00,       /* cmp byte [0x2004], 0 */
    0x74, 0x02,                         /* je +2 */
    0xE6, REPORT_PORT,                  /* out 0x80, al */
    0x66, 0xB9, 0x0B, 0x08, 0x00, 0x00, /* mov ecx, 0x80B (EOI) */
    0x66, 0x31, 0xC0,                   /* xor eax, eax */
    0x66, 0x31, 0xD2,                   /* xor edx, edx */
    0x0F, 0x30,                         /* wrmsr */
    0x66, 0x5A,                         /* pop edx */
    0x66, 0x59,                         /* pop ecx */
    0x66, 0x58,                         /* pop eax */
    0xCF,                               /* iret */
};

static uint8_t *alloc_guest_mem(void)
{
    uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap", errno);
    memcpy(mem + CODE_GPA, guest_code, sizeof(guest_code));
    memcpy(mem + HANDLER_GPA, guest_handler, sizeof(guest_handler));
    mem[SPURIOUS_GPA] = 0xCF; /* iret */
    /* Real-mode IVT: offset, segment 0. */
    put16(mem, VECTOR * 4, HANDLER_GPA);
    put16(mem, SPURIOUS_VECTOR * 4, SPURIOUS_GPA);
    mem[REPORT_GPA] = 1;
    return mem;
}

static volatile uint32_t *guest_count(uint8_t *mem)
{
    return (volatile uint32_t *)(void *)(mem + COUNT_GPA);
}

static volatile uint8_t *guest_report(uint8_t *mem)
{
    return (volatile uint8_t *)(mem + REPORT_GPA);
}

/* ---- WHP side ---- */

struct whp_vm {
    WHV_PARTITION_HANDLE part;
    uint8_t *mem;
};

static void whp_request(struct whp_vm *vm)
{
    WHV_INTERRUPT_CONTROL ic;
    memset(&ic, 0, sizeof(ic));
    ic.Type = WHvX64InterruptTypeFixed;
    ic.DestinationMode = WHvX64InterruptDestinationModePhysical;
    ic.TriggerMode = WHvX64InterruptTriggerModeEdge;
    ic.Destination = 0;
    ic.Vector = VECTOR;
    HRESULT hr = WHvRequestInterrupt(vm->part, &ic, sizeof(ic));
    if (FAILED(hr))
        die("WHvRequestInterrupt(Fixed, Physical, Edge, dest 0, vector 0x40)", hr);
}

/* Runs until a port exit on `port`, leaves RIP after the `out`. Canceled exits are retried. */
static void whp_run_to_port(struct whp_vm *vm, uint16_t port)
{
    WHV_RUN_VP_EXIT_CONTEXT ctx;
    WHV_REGISTER_NAME rip_name = WHvX64RegisterRip;
    WHV_REGISTER_VALUE rip;
    HRESULT hr;

    for (;;) {
        hr = WHvRunVirtualProcessor(vm->part, 0, &ctx, sizeof(ctx));
        if (FAILED(hr))
            die("WHvRunVirtualProcessor", hr);
        if (ctx.ExitReason == WHvRunVpExitReasonCanceled)
            continue;
        if (ctx.ExitReason != WHvRunVpExitReasonX64IoPortAccess || ctx.IoPortAccess.PortNumber != port) {
            fprintf(stderr, "bench_interrupt: unexpected WHP exit 0x%x (port 0x%x) at rip 0x%llx, wanted port 0x%x\n",
                    (unsigned)ctx.ExitReason,
                    ctx.ExitReason == WHvRunVpExitReasonX64IoPortAccess ? ctx.IoPortAccess.PortNumber : 0,
                    (unsigned long long)ctx.VpContext.Rip, port);
            exit(1);
        }
        break;
    }
    rip.Reg64 = ctx.VpContext.Rip + ctx.VpContext.InstructionLength;
    hr = WHvSetVirtualProcessorRegisters(vm->part, 0, &rip_name, 1, &rip);
    if (FAILED(hr))
        die("WHvSetVirtualProcessorRegisters(Rip)", hr);
}

static void whp_setup(struct whp_vm *vm)
{
    HRESULT hr;
    WHV_PARTITION_PROPERTY prop;
    WHV_REGISTER_NAME names[4] = {WHvX64RegisterCs, WHvX64RegisterRip, WHvX64RegisterRflags,
                                  WHvX64RegisterRsp};
    WHV_REGISTER_VALUE vals[4];

    vm->mem = alloc_guest_mem();
    hr = WHvCreatePartition(&vm->part);
    if (FAILED(hr))
        die("WHvCreatePartition", hr);
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = 1;
    hr = WHvSetPartitionProperty(vm->part, WHvPartitionPropertyCodeProcessorCount, &prop, sizeof(prop));
    if (FAILED(hr))
        die("WHvSetPartitionProperty(ProcessorCount)", hr);
    memset(&prop, 0, sizeof(prop));
    prop.LocalApicEmulationMode = WHvX64LocalApicEmulationModeX2Apic;
    hr = WHvSetPartitionProperty(vm->part, WHvPartitionPropertyCodeLocalApicEmulationMode, &prop, sizeof(prop));
    if (FAILED(hr))
        die("WHvSetPartitionProperty(LocalApicEmulationMode = X2Apic)", hr);
    hr = WHvSetupPartition(vm->part);
    if (FAILED(hr))
        die("WHvSetupPartition", hr);
    hr = WHvMapGpaRange(vm->part, vm->mem, 0, MEM_SIZE,
                        WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute);
    if (FAILED(hr))
        die("WHvMapGpaRange", hr);
    hr = WHvCreateVirtualProcessor(vm->part, 0, 0);
    if (FAILED(hr))
        die("WHvCreateVirtualProcessor", hr);

    hr = WHvGetVirtualProcessorRegisters(vm->part, 0, names, 4, vals);
    if (FAILED(hr))
        die("WHvGetVirtualProcessorRegisters", hr);
    vals[0].Segment.Base = 0;
    vals[0].Segment.Selector = 0;
    vals[1].Reg64 = CODE_GPA;
    vals[2].Reg64 = 0x2;
    vals[3].Reg64 = STACK_TOP;
    hr = WHvSetVirtualProcessorRegisters(vm->part, 0, names, 4, vals);
    if (FAILED(hr))
        die("WHvSetVirtualProcessorRegisters", hr);

    set_stage("WHP: guest enabling its x2APIC (run to the ready port)");
    whp_run_to_port(vm, READY_PORT);
}

static void whp_teardown(struct whp_vm *vm)
{
    WHvDeleteVirtualProcessor(vm->part, 0);
    WHvDeletePartition(vm->part);
    munmap(vm->mem, MEM_SIZE);
}

/* ---- Raw KVM side ---- */

struct kvm_vm {
    int kvm, vm, vcpu;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *mem;
};

static void kvm_request(struct kvm_vm *k)
{
    struct kvm_msi msi;
    memset(&msi, 0, sizeof(msi));
    msi.address_lo = 0xFEE00000u; /* physical, destination 0 */
    msi.data = VECTOR | (1u << 14); /* fixed, edge, assert */
    int r = ioctl(k->vm, KVM_SIGNAL_MSI, &msi);
    if (r < 0)
        die("KVM_SIGNAL_MSI", errno);
}

static void kvm_run_to_port(struct kvm_vm *k, uint16_t port)
{
    for (;;) {
        if (ioctl(k->vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            die("KVM_RUN", errno);
        }
        if (k->run->exit_reason == KVM_EXIT_INTR)
            continue;
        if (k->run->exit_reason != KVM_EXIT_IO || k->run->io.port != port) {
            fprintf(stderr, "bench_interrupt: unexpected KVM exit %u (port 0x%x), wanted port 0x%x\n",
                    k->run->exit_reason, k->run->exit_reason == KVM_EXIT_IO ? k->run->io.port : 0, port);
            exit(1);
        }
        return;
    }
}

static void kvm_enable_cap(int fd, uint32_t cap, uint64_t arg0, const char *what)
{
    struct kvm_enable_cap c;
    memset(&c, 0, sizeof(c));
    c.cap = cap;
    c.args[0] = arg0;
    if (ioctl(fd, KVM_ENABLE_CAP, &c) < 0)
        die(what, errno);
}

static void kvm_setup(struct kvm_vm *k, int kvm_fd)
{
    struct kvm_userspace_memory_region region;
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    k->kvm = kvm_fd;
    k->mem = alloc_guest_mem();
    k->vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (k->vm < 0)
        die("KVM_CREATE_VM", errno);
    kvm_enable_cap(k->vm, KVM_CAP_SPLIT_IRQCHIP, 24, "KVM_ENABLE_CAP(SPLIT_IRQCHIP)");
    kvm_enable_cap(k->vm, KVM_CAP_X2APIC_API,
                   KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK,
                   "KVM_ENABLE_CAP(X2APIC_API)");
    memset(&region, 0, sizeof(region));
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = MEM_SIZE;
    region.userspace_addr = (uint64_t)(uintptr_t)k->mem;
    if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION", errno);
    k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
    if (k->vcpu < 0)
        die("KVM_CREATE_VCPU", errno);
    k->run = bench_map_run(kvm_fd, k->vcpu, &k->run_size);
    bench_cpuid_x2apic(kvm_fd, k->vcpu);

    if (ioctl(k->vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS", errno);
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(k->vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS", errno);
    memset(&regs, 0, sizeof(regs));
    regs.rip = CODE_GPA;
    regs.rflags = 0x2;
    regs.rsp = STACK_TOP;
    if (ioctl(k->vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS", errno);

    set_stage("KVM: guest enabling its x2APIC (run to the ready port)");
    kvm_run_to_port(k, READY_PORT);
}

static void kvm_teardown(struct kvm_vm *k)
{
    munmap(k->run, k->run_size);
    close(k->vcpu);
    close(k->vm);
    munmap(k->mem, MEM_SIZE);
}

/* ---- Latency: request, run until the handler's report ---- */

static void check_count(uint8_t *mem, uint32_t expected, const char *side)
{
    uint32_t got = __atomic_load_n(guest_count(mem), __ATOMIC_SEQ_CST);
    if (got != expected) {
        fprintf(stderr, "bench_interrupt: %s guest handler count %u, expected %u\n", side, got, expected);
        exit(1);
    }
}

static void whp_latency(struct whp_vm *vm, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t before = *guest_count(vm->mem);
        whp_request(vm);
        whp_run_to_port(vm, REPORT_PORT);
        check_count(vm->mem, before + 1, "WHP");
    }
}

static void kvm_latency(struct kvm_vm *k, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t before = *guest_count(k->mem);
        kvm_request(k);
        kvm_run_to_port(k, REPORT_PORT);
        check_count(k->mem, before + 1, "KVM");
    }
}

/* ---- Latency from hlt: the VP runs on its own thread; each request is sent only after the guest
 * has had time to get back into `hlt`, and the time to its report is summed. ---- */

#define HLT_GAP_US 100.0

struct hlt_ctx {
    int is_whp;
    struct whp_vm *w;
    struct kvm_vm *k;
    atomic_uint exits;
    atomic_int stop;
};

static void *hlt_vp_main(void *arg)
{
    struct hlt_ctx *hc = arg;
    for (;;) {
        if (hc->is_whp)
            whp_run_to_port(hc->w, REPORT_PORT);
        else
            kvm_run_to_port(hc->k, REPORT_PORT);
        atomic_fetch_add(&hc->exits, 1);
        if (atomic_load(&hc->stop))
            return NULL;
    }
}

/* Returns the mean microseconds from request to the VP thread seeing the report exit. */
static double hlt_latency(int is_whp, struct whp_vm *w, struct kvm_vm *k, unsigned n)
{
    struct hlt_ctx hc;
    pthread_t vp;
    double total = 0;

    memset(&hc, 0, sizeof(hc));
    hc.is_whp = is_whp;
    hc.w = w;
    hc.k = k;
    atomic_init(&hc.exits, 0);
    atomic_init(&hc.stop, 0);
    if (pthread_create(&vp, NULL, hlt_vp_main, &hc) != 0)
        die("pthread_create(vp)", errno);
    for (unsigned i = 0; i < n; i++) {
        double g = now_us() + (i == 0 ? 10 * HLT_GAP_US : HLT_GAP_US);
        while (now_us() < g)
            ; /* the VP thread re-enters the guest, which EOIs, irets and halts */
        if (i == n - 1)
            atomic_store(&hc.stop, 1);
        double t0 = now_us();
        if (is_whp)
            whp_request(w);
        else
            kvm_request(k);
        while (atomic_load(&hc.exits) != i + 1)
            ;
        total += now_us() - t0;
    }
    pthread_join(vp, NULL);
    return total / n;
}

/* ---- Throughput: sender threads request, the VP runs on its own thread ---- */

struct rate_ctx {
    int is_whp;
    struct whp_vm *w;
    struct kvm_vm *k;
    atomic_int go;
    double deadline_us;
};

struct sender {
    pthread_t th;
    struct rate_ctx *rc;
    unsigned long sent;
};

static void send_one(struct rate_ctx *rc)
{
    if (rc->is_whp)
        whp_request(rc->w);
    else
        kvm_request(rc->k);
}

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    while (!atomic_load(&s->rc->go))
        ;
    unsigned long n = 0;
    double end = s->rc->deadline_us;
    do {
        for (int i = 0; i < 16; i++)
            send_one(s->rc);
        n += 16;
    } while (now_us() < end);
    s->sent = n;
    return NULL;
}

static void *vp_main(void *arg)
{
    struct rate_ctx *rc = arg;
    if (rc->is_whp)
        whp_run_to_port(rc->w, REPORT_PORT);
    else
        kvm_run_to_port(rc->k, REPORT_PORT);
    return NULL;
}

struct rate_result {
    double delivered_per_s, sent_per_s;
};

static struct rate_result measure_rate(int is_whp, struct whp_vm *w, struct kvm_vm *k, unsigned nthreads,
                                       double seconds)
{
    struct rate_ctx rc;
    struct sender senders[MAX_SENDERS];
    pthread_t vp;
    uint8_t *mem = is_whp ? w->mem : k->mem;
    unsigned long sent = 0;
    struct rate_result res;

    memset(&rc, 0, sizeof(rc));
    rc.is_whp = is_whp;
    rc.w = w;
    rc.k = k;
    atomic_init(&rc.go, 0);

    *guest_report(mem) = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (pthread_create(&vp, NULL, vp_main, &rc) != 0)
        die("pthread_create(vp)", errno);
    usleep(20000); /* let the VP reach hlt */

    for (unsigned i = 0; i < nthreads; i++) {
        senders[i].rc = &rc;
        senders[i].sent = 0;
        if (pthread_create(&senders[i].th, NULL, sender_main, &senders[i]) != 0)
            die("pthread_create(sender)", errno);
    }
    uint32_t c0 = __atomic_load_n(guest_count(mem), __ATOMIC_SEQ_CST);
    double t0 = now_us();
    rc.deadline_us = t0 + seconds * 1e6;
    atomic_store(&rc.go, 1);
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(senders[i].th, NULL);
        sent += senders[i].sent;
    }
    double t1 = now_us();
    usleep(2000); /* let the last pending interrupt land */
    uint32_t c1 = __atomic_load_n(guest_count(mem), __ATOMIC_SEQ_CST);

    /* Stop: the next handler run reports, which ends the VP thread's run. */
    *guest_report(mem) = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    send_one(&rc);
    pthread_join(vp, NULL);

    res.delivered_per_s = (double)(c1 - c0) / ((t1 - t0) / 1e6);
    res.sent_per_s = (double)sent / ((t1 - t0) / 1e6);
    return res;
}

/* ---- Driver ---- */

int main(int argc, char **argv)
{
    unsigned rounds = 7, exits = 1000, rate_ms = 500;
    static double whp_us[MAX_ROUNDS], kvm_us[MAX_ROUNDS], ratio[MAX_ROUNDS];
    static double whp_h[MAX_ROUNDS], kvm_h[MAX_ROUNDS], ratio_h[MAX_ROUNDS];
    struct whp_vm w;
    struct kvm_vm k;
    int kvm_fd;

    const struct bench_opt opts[] = {
        {"--rounds", "N", &rounds}, {"--exits", "N", &exits}, {"--rate-ms", "MS", &rate_ms}};
    bench_parse_options(argc, argv, opts, 3);

    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        printf("SKIP: /dev/kvm not available (%s)\n", strerror(errno));
        return 0;
    }
    signal(SIGALRM, on_alarm);

    whp_setup(&w);
    kvm_setup(&k, kvm_fd);

    /* Warm-up. */
    set_stage("WHP latency warm-up (WHvRequestInterrupt, then run to the handler's report)");
    whp_latency(&w, exits / 4 + 1);
    set_stage("KVM latency warm-up");
    kvm_latency(&k, exits / 4 + 1);

    for (unsigned r = 0; r < rounds; r++) {
        /* Alternate which side goes first so drift does not favour one. */
        for (int side = 0; side < 2; side++) {
            int do_whp = (side == 0) == (r % 2 == 0);
            double t0 = now_us();
            set_stage(do_whp ? "WHP latency round" : "KVM latency round");
            if (do_whp)
                whp_latency(&w, exits);
            else
                kvm_latency(&k, exits);
            double t1 = now_us();
            if (do_whp)
                whp_us[r] = (t1 - t0) / exits;
            else
                kvm_us[r] = (t1 - t0) / exits;
        }
        ratio[r] = whp_us[r] / kvm_us[r];
    }
    {
        double mw = median(whp_us, rounds), mk = median(kvm_us, rounds), mr = median(ratio, rounds);
        printf("interrupt_rtt: whp %.1f us, kvm %.1f us, ratio %.2f (median of %u rounds)\n", mw, mk, mr,
               rounds);
        fflush(stdout);
    }

    for (unsigned r = 0; r < rounds; r++) {
        unsigned n = exits / 4 + 1;
        for (int side = 0; side < 2; side++) {
            int do_whp = (side == 0) == (r % 2 == 0);
            set_stage(do_whp ? "WHP hlt latency round (VP on its own thread)" : "KVM hlt latency round");
            if (do_whp)
                whp_h[r] = hlt_latency(1, &w, &k, n);
            else
                kvm_h[r] = hlt_latency(0, &w, &k, n);
        }
        ratio_h[r] = whp_h[r] / kvm_h[r];
    }
    {
        double mw = median(whp_h, rounds), mk = median(kvm_h, rounds), mr = median(ratio_h, rounds);
        printf("interrupt_rtt_hlt: whp %.1f us, kvm %.1f us, ratio %.2f (median of %u rounds; request from "
               "another thread while the guest halts)\n",
               mw, mk, mr, rounds);
        fflush(stdout);
    }

    {
        static const unsigned threads[2] = {1, MAX_SENDERS};
        struct rate_result rw[2], rk[2];
        double s = rate_ms / 1000.0;
        for (int i = 0; i < 2; i++) {
            set_stage(i == 0 ? "WHP rate, 1 sender thread" : "WHP rate, 4 sender threads");
            rw[i] = measure_rate(1, &w, &k, threads[i], s);
            set_stage(i == 0 ? "KVM rate, 1 sender thread" : "KVM rate, 4 sender threads");
            rk[i] = measure_rate(0, &w, &k, threads[i], s);
        }
        alarm(0);
        printf("interrupt_rate: 1 thread %.0f/s (sent %.0f/s), %u threads %.0f/s (sent %.0f/s) "
               "(delivered; requests may coalesce)\n",
               rw[0].delivered_per_s, rw[0].sent_per_s, MAX_SENDERS, rw[1].delivered_per_s, rw[1].sent_per_s);
        printf("interrupt_rate_kvm: 1 thread %.0f/s (sent %.0f/s), %u threads %.0f/s (sent %.0f/s) "
               "(KVM_SIGNAL_MSI baseline)\n",
               rk[0].delivered_per_s, rk[0].sent_per_s, MAX_SENDERS, rk[1].delivered_per_s, rk[1].sent_per_s);
    }

    whp_teardown(&w);
    kvm_teardown(&k);
    close(kvm_fd);
    return 0;
}
