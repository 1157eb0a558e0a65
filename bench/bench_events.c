/* Events: the same real-mode guests run through the WHP API and on raw KVM in one process.
 *  - doorbell: the host sets a flag in guest RAM, the spinning guest writes the doorbell, a host
 *    thread wakes from the event (WHP: WHvRegisterPartitionDoorbellEvent + OpenWhpWaitForEvent;
 *    KVM: KVM_IOEVENTFD + blocking read);
 *  - trigger: the host signals the event, the halted guest's handler reports with `out 0x80`
 *    (WHP: WHvCreateTrigger + OpenWhpSetEvent; KVM: irqfd on an MSI route + write);
 *  - ping-pong: A's doorbell is B's trigger and B's doorbell is A's trigger; the handlers bounce
 *    an interrupt back and forth with no user-space step: round-trip time.
 * Medians over rounds of the per-round means, and WHP/KVM ratios; the WHP side's user-space exits
 * per event come from WHvGetVirtualProcessorCounters (expected 0). */
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
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <WinHvPlatform.h>
#include <openwhp/event.h>

#define MEM_SIZE 0x10000
#define APIC_CODE_GPA 0x1000
#define HANDLER_GPA 0x1100
#define SPURIOUS_GPA 0x1200
#define DB_CODE_GPA 0x1400
#define COUNT_GPA 0x2000  /* u32: handler runs */
#define REPORT_GPA 0x2004 /* u8: 1 = the handler reports with out 0x80, 0 = it rings the doorbell */
#define FLAG_GPA 0x3000   /* u8: doorbell guest: 1 = ring once, 2 = report with out 0x81 */
#define STACK_TOP 0x8000
#define DB_GPA 0x20000 /* outside RAM; ES points here */
#define VECTOR 0x40
#define SPURIOUS_VECTOR 0xFF
#define REPORT_PORT 0x80
#define READY_PORT 0x81
#define MAX_ROUNDS 100
#define WATCHDOG_S 60
#define BENCH_NAME "bench_events"
#include "bench_util.h"

/* Real mode: x2APIC on, software-enabled, ready, then `sti; hlt` forever. */
static const uint8_t apic_code[] = {
    0x66, 0xB9, 0x1B, 0x00, 0x00, 0x00, /* mov ecx, 0x1B (IA32_APIC_BASE) */
    0x0F, 0x32,                         /* rdmsr */
    0x66, 0x0D, 0x00, 0x0C, 0x00, 0x00, /* or eax, 0xC00 */
    0x0F, 0x30,                         /* wrmsr */
    0x66, 0xB9, 0x0F, 0x08, 0x00, 0x00, /* mov ecx, 0x80F (SVR) */
    0x66, 0xB8, 0xFF, 0x01, 0x00, 0x00, /* mov eax, 0x1FF */
    0x66, 0x31, 0xD2,                   /* xor edx, edx */
    0x0F, 0x30,                         /* wrmsr */
    0xE6, READY_PORT,                   /* out 0x81, al */
    0xFB,                               /* loop: sti */
    0xF4,                               /* hlt */
    0xEB, 0xFC,                         /* jmp loop */
};

/* Vector 0x40: count; report with out 0x80 or ring the doorbell (es:[0]); EOI; iret. */
static const uint8_t handler_code[] = {
    0x66, 0x50,                         /* push eax */
    0x66, 0x51,                         /* push ecx */
    0x66, 0x52,                         /* push edx */
    0x66, 0xFF, 0x06, 0x00, 0x20,       /* inc dword [0x2000] */
    0x80, 0x3E, 0x04, 0x20, 0x00,       /* cmp byte [0x2004], 0 */
    0x75, 0x06,                         /* jne report */
    0x26, 0xA3, 0x00, 0x00,             /* mov es:[0], ax (doorbell) */
    0xEB, 0x02,                         /* jmp eoi */
    0xE6, REPORT_PORT,                  /* report: out 0x80, al */
    0x66, 0xB9, 0x0B, 0x08, 0x00, 0x00, /* eoi: mov ecx, 0x80B */
    0x66, 0x31, 0xC0,                   /* xor eax, eax */
    0x66, 0x31, 0xD2,                   /* xor edx, edx */
    0x0F, 0x30,                         /* wrmsr */
    0x66, 0x5A,                         /* pop edx */
    0x66, 0x59,                         /* pop ecx */
    0x66, 0x58,                         /* pop eax */
    0xCF,                               /* iret */
};

/* Doorbell guest: spin on [0x3000]; 1: clear it and write es:[0]; 2: clear it and out 0x81. */
static const uint8_t db_code[] = {
    0xA0, 0x00, 0x30,             /* loop: mov al, [0x3000] */
    0x3C, 0x00,                   /* cmp al, 0 */
    0x74, 0xF9,                   /* je loop */
    0x3C, 0x02,                   /* cmp al, 2 */
    0x74, 0x0B,                   /* je stop */
    0xC6, 0x06, 0x00, 0x30, 0x00, /* mov byte [0x3000], 0 */
    0x26, 0xA3, 0x00, 0x00,       /* mov es:[0], ax */
    0xEB, 0xEA,                   /* jmp loop */
    0xC6, 0x06, 0x00, 0x30, 0x00, /* stop: mov byte [0x3000], 0 */
    0xE6, READY_PORT,             /* out 0x81, al */
    0xEB, 0xE1,                   /* jmp loop */
};

static uint8_t *alloc_guest_mem(void)
{
    uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap", errno);
    memcpy(mem + APIC_CODE_GPA, apic_code, sizeof(apic_code));
    memcpy(mem + HANDLER_GPA, handler_code, sizeof(handler_code));
    memcpy(mem + DB_CODE_GPA, db_code, sizeof(db_code));
    mem[SPURIOUS_GPA] = 0xCF; /* iret */
    put16(mem, VECTOR * 4, HANDLER_GPA);
    put16(mem, SPURIOUS_VECTOR * 4, SPURIOUS_GPA);
    mem[REPORT_GPA] = 1;
    return mem;
}

static uint32_t load32(uint8_t *mem, uint32_t gpa) { return __atomic_load_n((uint32_t *)(void *)(mem + gpa), __ATOMIC_ACQUIRE); }
static void store8(uint8_t *mem, uint32_t gpa, uint8_t v) { __atomic_store_n(mem + gpa, v, __ATOMIC_RELEASE); }

/* ---- One VM, either side ---- */

struct vm {
    int is_whp;
    uint8_t *mem;
    WHV_PARTITION_HANDLE part;
    int vmfd, vcpu;
    struct kvm_run *run;
    size_t run_size;
};

static int kvm_fd = -1;

static void whp_run_to_port(struct vm *v, uint16_t port)
{
    WHV_RUN_VP_EXIT_CONTEXT ctx;
    WHV_REGISTER_NAME rip_name = WHvX64RegisterRip;
    WHV_REGISTER_VALUE rip;
    for (;;) {
        HRESULT hr = WHvRunVirtualProcessor(v->part, 0, &ctx, sizeof(ctx));
        if (FAILED(hr))
            die("WHvRunVirtualProcessor", hr);
        if (ctx.ExitReason == WHvRunVpExitReasonCanceled)
            continue;
        if (ctx.ExitReason != WHvRunVpExitReasonX64IoPortAccess || ctx.IoPortAccess.PortNumber != port) {
            fprintf(stderr, "bench_events: unexpected WHP exit 0x%x at rip 0x%llx (stage %s)\n",
                    (unsigned)ctx.ExitReason, (unsigned long long)ctx.VpContext.Rip, stage);
            exit(1);
        }
        break;
    }
    rip.Reg64 = ctx.VpContext.Rip + ctx.VpContext.InstructionLength;
    HRESULT hr = WHvSetVirtualProcessorRegisters(v->part, 0, &rip_name, 1, &rip);
    if (FAILED(hr))
        die("WHvSetVirtualProcessorRegisters(Rip)", hr);
}

static void kvm_run_to_port(struct vm *v, uint16_t port)
{
    for (;;) {
        if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            die("KVM_RUN", errno);
        }
        if (v->run->exit_reason == KVM_EXIT_INTR)
            continue;
        if (v->run->exit_reason != KVM_EXIT_IO || v->run->io.port != port) {
            fprintf(stderr, "bench_events: unexpected KVM exit %u (stage %s)\n", v->run->exit_reason, stage);
            exit(1);
        }
        return;
    }
}

static void run_to_port(struct vm *v, uint16_t port)
{
    if (v->is_whp)
        whp_run_to_port(v, port);
    else
        kvm_run_to_port(v, port);
}

static void whp_setup(struct vm *v, uint64_t entry)
{
    WHV_PARTITION_PROPERTY prop;
    WHV_REGISTER_NAME names[5] = {WHvX64RegisterCs, WHvX64RegisterEs, WHvX64RegisterRip, WHvX64RegisterRflags,
                                  WHvX64RegisterRsp};
    WHV_REGISTER_VALUE vals[5];
    HRESULT hr;

    if (FAILED(hr = WHvCreatePartition(&v->part)))
        die("WHvCreatePartition", hr);
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = 1;
    if (FAILED(hr = WHvSetPartitionProperty(v->part, WHvPartitionPropertyCodeProcessorCount, &prop, sizeof(prop))))
        die("WHvSetPartitionProperty(ProcessorCount)", hr);
    memset(&prop, 0, sizeof(prop));
    prop.LocalApicEmulationMode = WHvX64LocalApicEmulationModeX2Apic;
    if (FAILED(hr = WHvSetPartitionProperty(v->part, WHvPartitionPropertyCodeLocalApicEmulationMode, &prop,
                                            sizeof(prop))))
        die("WHvSetPartitionProperty(LocalApicEmulationMode)", hr);
    if (FAILED(hr = WHvSetupPartition(v->part)))
        die("WHvSetupPartition", hr);
    if (FAILED(hr = WHvMapGpaRange(v->part, v->mem, 0, MEM_SIZE,
                                   WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute)))
        die("WHvMapGpaRange", hr);
    if (FAILED(hr = WHvCreateVirtualProcessor(v->part, 0, 0)))
        die("WHvCreateVirtualProcessor", hr);
    if (FAILED(hr = WHvGetVirtualProcessorRegisters(v->part, 0, names, 5, vals)))
        die("WHvGetVirtualProcessorRegisters", hr);
    vals[0].Segment.Base = 0;
    vals[0].Segment.Selector = 0;
    vals[1].Segment.Base = DB_GPA;
    vals[1].Segment.Selector = DB_GPA >> 4;
    vals[2].Reg64 = entry;
    vals[3].Reg64 = 0x2;
    vals[4].Reg64 = STACK_TOP;
    if (FAILED(hr = WHvSetVirtualProcessorRegisters(v->part, 0, names, 5, vals)))
        die("WHvSetVirtualProcessorRegisters", hr);
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

static void kvm_setup(struct vm *v, uint64_t entry)
{
    struct kvm_userspace_memory_region region;
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    v->vmfd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (v->vmfd < 0)
        die("KVM_CREATE_VM", errno);
    kvm_enable_cap(v->vmfd, KVM_CAP_SPLIT_IRQCHIP, 24, "KVM_ENABLE_CAP(SPLIT_IRQCHIP)");
    kvm_enable_cap(v->vmfd, KVM_CAP_X2APIC_API,
                   KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK, "KVM_ENABLE_CAP(X2APIC_API)");
    memset(&region, 0, sizeof(region));
    region.memory_size = MEM_SIZE;
    region.userspace_addr = (uint64_t)(uintptr_t)v->mem;
    if (ioctl(v->vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION", errno);
    v->vcpu = ioctl(v->vmfd, KVM_CREATE_VCPU, 0);
    if (v->vcpu < 0)
        die("KVM_CREATE_VCPU", errno);
    v->run = bench_map_run(kvm_fd, v->vcpu, &v->run_size);
    bench_cpuid_x2apic(kvm_fd, v->vcpu);
    if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS", errno);
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.es.base = DB_GPA;
    sregs.es.selector = DB_GPA >> 4;
    if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS", errno);
    memset(&regs, 0, sizeof(regs));
    regs.rip = entry;
    regs.rflags = 0x2;
    regs.rsp = STACK_TOP;
    if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS", errno);
}

static void vm_create(struct vm *v, int is_whp, uint64_t entry)
{
    memset(v, 0, sizeof(*v));
    v->is_whp = is_whp;
    v->mem = alloc_guest_mem();
    if (is_whp)
        whp_setup(v, entry);
    else
        kvm_setup(v, entry);
    if (entry == APIC_CODE_GPA) {
        set_stage(is_whp ? "WHP: guest enabling its x2APIC" : "KVM: guest enabling its x2APIC");
        run_to_port(v, READY_PORT);
    }
}

static void vm_destroy(struct vm *v)
{
    if (v->is_whp) {
        WHvDeletePartition(v->part);
    } else {
        munmap(v->run, v->run_size);
        close(v->vcpu);
        close(v->vmfd);
    }
    munmap(v->mem, MEM_SIZE);
}

static uint64_t whp_exits(struct vm *v)
{
    WHV_PROCESSOR_ACTIVITY_COUNTERS c;
    if (!v->is_whp)
        return 0;
    HRESULT hr = WHvGetVirtualProcessorCounters(v->part, 0, WHvProcessorCounterSetIntercepts, &c, sizeof(c), NULL);
    if (FAILED(hr))
        die("WHvGetVirtualProcessorCounters", hr);
    const WHV_PROCESSOR_INTERCEPT_COUNTER *s = &c.PageInvalidations;
    uint64_t n = 0;
    for (size_t i = 0; i < sizeof(c) / sizeof(*s); i++)
        n += s[i].Count;
    return n;
}

/* ---- Event plumbing on each side: an event (eventfd) the host can signal and wait for ---- */

struct evt {
    int is_whp;
    HANDLE h; /* WHP */
    int fd;   /* KVM: a blocking eventfd */
};

static void evt_signal(struct evt *e)
{
    if (e->is_whp) {
        if (!OpenWhpSetEvent(e->h))
            die("OpenWhpSetEvent", errno);
    } else {
        uint64_t one = 1;
        if (write(e->fd, &one, sizeof(one)) != sizeof(one))
            die("write(eventfd)", errno);
    }
}

static void evt_wait(struct evt *e)
{
    if (e->is_whp) {
        if (OpenWhpWaitForEvent(e->h, INFINITE) != WAIT_OBJECT_0)
            die("OpenWhpWaitForEvent", errno);
    } else {
        uint64_t v;
        if (read(e->fd, &v, sizeof(v)) != sizeof(v))
            die("read(eventfd)", errno);
    }
}

/* A doorbell (any write at DB_GPA) that signals a new event. */
static struct evt doorbell(struct vm *v)
{
    struct evt e = {v->is_whp, NULL, -1};
    if (v->is_whp) {
        WHV_DOORBELL_MATCH_DATA m;
        memset(&m, 0, sizeof(m));
        m.GuestAddress = DB_GPA;
        e.h = OpenWhpCreateEvent(FALSE, FALSE);
        HRESULT hr = e.h ? WHvRegisterPartitionDoorbellEvent(v->part, &m, e.h) : E_OUTOFMEMORY;
        if (FAILED(hr))
            die("WHvRegisterPartitionDoorbellEvent", hr);
    } else {
        e.fd = eventfd(0, EFD_CLOEXEC);
        struct kvm_ioeventfd io = {.addr = DB_GPA, .len = 0, .fd = e.fd};
        if (e.fd < 0 || ioctl(v->vmfd, KVM_IOEVENTFD, &io) < 0)
            die("KVM_IOEVENTFD", errno);
    }
    return e;
}

/* A trigger (fixed, vector 0x40 to APIC 0) and its event. KVM: an irqfd on GSI 24 with that MSI
 * route. */
static struct evt trigger(struct vm *v, WHV_TRIGGER_HANDLE *th)
{
    struct evt e = {v->is_whp, NULL, -1};
    if (v->is_whp) {
        WHV_TRIGGER_PARAMETERS t;
        memset(&t, 0, sizeof(t));
        t.TriggerType = WHvTriggerTypeInterrupt;
        t.Interrupt.Type = WHvX64InterruptTypeFixed;
        t.Interrupt.Vector = VECTOR;
        HRESULT hr = WHvCreateTrigger(v->part, &t, th, &e.h);
        if (FAILED(hr))
            die("WHvCreateTrigger", hr);
    } else {
        struct kvm_irq_routing *rt = calloc(1, sizeof(*rt) + sizeof(rt->entries[0]));
        if (!rt)
            die("calloc", errno);
        rt->nr = 1;
        rt->entries[0].gsi = 24;
        rt->entries[0].type = KVM_IRQ_ROUTING_MSI;
        rt->entries[0].u.msi.address_lo = 0xFEE00000u;
        rt->entries[0].u.msi.data = VECTOR;
        if (ioctl(v->vmfd, KVM_SET_GSI_ROUTING, rt) < 0)
            die("KVM_SET_GSI_ROUTING", errno);
        free(rt);
        e.fd = eventfd(0, EFD_CLOEXEC);
        struct kvm_irqfd f = {.fd = (uint32_t)e.fd, .gsi = 24};
        if (e.fd < 0 || ioctl(v->vmfd, KVM_IRQFD, &f) < 0)
            die("KVM_IRQFD", errno);
    }
    return e;
}

static void evt_close(struct evt *e)
{
    if (e->is_whp)
        OpenWhpCloseEvent(e->h);
    else
        close(e->fd);
}

/* ---- A VP on its own thread, running until n port exits on port ---- */

struct vp_thread {
    pthread_t th;
    struct vm *v;
    uint16_t port;
    atomic_uint exits;
    atomic_int stop;
};

static void *vp_main(void *arg)
{
    struct vp_thread *t = arg;
    for (;;) {
        run_to_port(t->v, t->port);
        atomic_fetch_add(&t->exits, 1);
        if (atomic_load(&t->stop))
            return NULL;
    }
}

static void vp_start(struct vp_thread *t, struct vm *v, uint16_t port)
{
    t->v = v;
    t->port = port;
    atomic_init(&t->exits, 0);
    atomic_init(&t->stop, 0);
    if (pthread_create(&t->th, NULL, vp_main, t) != 0)
        die("pthread_create", errno);
}

/* ---- 1. Doorbell: flag -> guest write -> host wakes ---- */

struct result {
    double us;
    double exits_per_event;
};

static struct result doorbell_round(struct vm *v, struct evt *e, unsigned n)
{
    struct vp_thread t;
    uint64_t x0 = whp_exits(v);
    vp_start(&t, v, READY_PORT);
    double total = 0;
    for (unsigned i = 0; i < n; i++) {
        double t0 = now_us();
        store8(v->mem, FLAG_GPA, 1);
        evt_wait(e);
        total += now_us() - t0;
    }
    atomic_store(&t.stop, 1);
    store8(v->mem, FLAG_GPA, 2); /* the guest reports: the VP thread ends */
    pthread_join(t.th, NULL);
    uint64_t x1 = whp_exits(v);
    return (struct result){total / n, v->is_whp ? (double)(x1 - x0 - 1) / n : 0};
}

/* ---- 2. Trigger: signal -> handler -> out 0x80 ---- */

#define HLT_GAP_US 100.0

static struct result trigger_round(struct vm *v, struct evt *e, unsigned n)
{
    struct vp_thread t;
    uint64_t x0 = whp_exits(v);
    uint32_t c0 = load32(v->mem, COUNT_GPA);
    store8(v->mem, REPORT_GPA, 1);
    vp_start(&t, v, REPORT_PORT);
    double total = 0;
    for (unsigned i = 0; i < n; i++) {
        double g = now_us() + (i == 0 ? 10 * HLT_GAP_US : HLT_GAP_US);
        while (now_us() < g)
            ; /* back into hlt */
        if (i == n - 1)
            atomic_store(&t.stop, 1);
        double t0 = now_us();
        evt_signal(e);
        while (atomic_load(&t.exits) != i + 1)
            ;
        total += now_us() - t0;
    }
    pthread_join(t.th, NULL);
    if (load32(v->mem, COUNT_GPA) - c0 != n) {
        fprintf(stderr, "bench_events: %s trigger: %u handler runs for %u signals\n", v->is_whp ? "WHP" : "KVM",
                load32(v->mem, COUNT_GPA) - c0, n);
        exit(1);
    }
    uint64_t x1 = whp_exits(v);
    /* Every signal has one exit by design (the report); anything beyond is delivery. */
    return (struct result){total / n, v->is_whp ? (double)(x1 - x0 - n) / n : 0};
}

/* ---- 3. Ping-pong: A's doorbell is B's trigger, B's doorbell is A's trigger ---- */

struct pingpong {
    struct vm a, b;
    struct evt a_trig, b_trig; /* each is also the other VM's doorbell event */
    WHV_TRIGGER_HANDLE a_th, b_th;
};

static void pingpong_setup(struct pingpong *pp, int is_whp)
{
    vm_create(&pp->a, is_whp, APIC_CODE_GPA);
    vm_create(&pp->b, is_whp, APIC_CODE_GPA);
    pp->a_trig = trigger(&pp->a, &pp->a_th);
    pp->b_trig = trigger(&pp->b, &pp->b_th);
    if (is_whp) {
        WHV_DOORBELL_MATCH_DATA m;
        memset(&m, 0, sizeof(m));
        m.GuestAddress = DB_GPA;
        HRESULT hr = WHvRegisterPartitionDoorbellEvent(pp->a.part, &m, pp->b_trig.h);
        if (SUCCEEDED(hr))
            hr = WHvRegisterPartitionDoorbellEvent(pp->b.part, &m, pp->a_trig.h);
        if (FAILED(hr))
            die("WHvRegisterPartitionDoorbellEvent(other partition's trigger event)", hr);
    } else {
        struct kvm_ioeventfd io = {.addr = DB_GPA, .len = 0, .fd = pp->b_trig.fd};
        if (ioctl(pp->a.vmfd, KVM_IOEVENTFD, &io) < 0)
            die("KVM_IOEVENTFD(A -> B)", errno);
        io.fd = pp->a_trig.fd;
        if (ioctl(pp->b.vmfd, KVM_IOEVENTFD, &io) < 0)
            die("KVM_IOEVENTFD(B -> A)", errno);
    }
}

static void pingpong_teardown(struct pingpong *pp)
{
    vm_destroy(&pp->a);
    vm_destroy(&pp->b);
    evt_close(&pp->a_trig);
    evt_close(&pp->b_trig);
}

/* Bounces for ms milliseconds; returns the mean round-trip time (A -> B -> A). */
static struct result pingpong_round(struct pingpong *pp, unsigned ms)
{
    struct vp_thread ta, tb;
    uint64_t x0 = whp_exits(&pp->a) + whp_exits(&pp->b);
    store8(pp->a.mem, REPORT_GPA, 0);
    store8(pp->b.mem, REPORT_GPA, 0);
    vp_start(&ta, &pp->a, REPORT_PORT);
    vp_start(&tb, &pp->b, REPORT_PORT);
    atomic_store(&ta.stop, 1);
    atomic_store(&tb.stop, 1);
    usleep(5000); /* both halt */
    uint32_t a0 = load32(pp->a.mem, COUNT_GPA);
    double t0 = now_us();
    evt_signal(&pp->a_trig); /* serve */
    usleep(ms * 1000);
    uint32_t a1 = load32(pp->a.mem, COUNT_GPA);
    double t1 = now_us();
    /* Stop: the handlers report instead of ringing; a signal to each ends both runs. */
    store8(pp->a.mem, REPORT_GPA, 1);
    store8(pp->b.mem, REPORT_GPA, 1);
    usleep(1000);
    if (atomic_load(&ta.exits) == 0)
        evt_signal(&pp->a_trig);
    if (atomic_load(&tb.exits) == 0)
        evt_signal(&pp->b_trig);
    pthread_join(ta.th, NULL);
    pthread_join(tb.th, NULL);
    uint64_t x1 = whp_exits(&pp->a) + whp_exits(&pp->b);
    unsigned trips = a1 - a0;
    if (trips < 2) {
        fprintf(stderr, "bench_events: %s ping-pong made %u round trips\n", pp->a.is_whp ? "WHP" : "KVM", trips);
        exit(1);
    }
    /* The two final reports are the only exits expected. */
    return (struct result){(t1 - t0) / trips, pp->a.is_whp ? (double)(x1 - x0 - 2) / trips : 0};
}

/* ---- Driver ---- */

static void report(const char *name, const char *what, const double *w, const double *k, const double *x,
                   unsigned rounds)
{
    double ratio[MAX_ROUNDS];
    for (unsigned r = 0; r < rounds; r++)
        ratio[r] = w[r] / k[r];
    printf("%s: whp %.1f us, kvm %.1f us, ratio %.2f, user-space exits per event %.3f (median of %u rounds; %s)\n",
           name, median(w, rounds), median(k, rounds), median(ratio, rounds), median(x, rounds), rounds, what);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    unsigned rounds = 5, events = 200, pp_ms = 200;
    static double w[MAX_ROUNDS], k[MAX_ROUNDS], x[MAX_ROUNDS];

    const struct bench_opt opts[] = {
        {"--rounds", "N", &rounds}, {"--events", "N", &events}, {"--pingpong-ms", "MS", &pp_ms}};
    bench_parse_options(argc, argv, opts, 3);
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        printf("SKIP: /dev/kvm not available (%s)\n", strerror(errno));
        return 0;
    }
    signal(SIGALRM, on_alarm);

    /* 1. Doorbell */
    {
        struct vm vw, vk;
        vm_create(&vw, 1, DB_CODE_GPA);
        vm_create(&vk, 0, DB_CODE_GPA);
        struct evt ew = doorbell(&vw), ek = doorbell(&vk);
        set_stage("doorbell warm-up");
        doorbell_round(&vw, &ew, events / 4 + 1);
        doorbell_round(&vk, &ek, events / 4 + 1);
        for (unsigned r = 0; r < rounds; r++) {
            for (int side = 0; side < 2; side++) {
                int do_whp = (side == 0) == (r % 2 == 0);
                set_stage(do_whp ? "WHP doorbell round" : "KVM doorbell round");
                struct result res = doorbell_round(do_whp ? &vw : &vk, do_whp ? &ew : &ek, events);
                if (do_whp) {
                    w[r] = res.us;
                    x[r] = res.exits_per_event;
                } else {
                    k[r] = res.us;
                }
            }
        }
        report("doorbell", "guest write -> host thread wakes from the event; KVM: ioeventfd", w, k, x, rounds);
        vm_destroy(&vw);
        vm_destroy(&vk);
        evt_close(&ew);
        evt_close(&ek);
    }

    /* 2. Trigger */
    {
        struct vm vw, vk;
        WHV_TRIGGER_HANDLE th;
        vm_create(&vw, 1, APIC_CODE_GPA);
        vm_create(&vk, 0, APIC_CODE_GPA);
        struct evt ew = trigger(&vw, &th), ek = trigger(&vk, &th);
        set_stage("trigger warm-up");
        trigger_round(&vw, &ew, events / 4 + 1);
        trigger_round(&vk, &ek, events / 4 + 1);
        for (unsigned r = 0; r < rounds; r++) {
            for (int side = 0; side < 2; side++) {
                int do_whp = (side == 0) == (r % 2 == 0);
                set_stage(do_whp ? "WHP trigger round" : "KVM trigger round");
                struct result res = trigger_round(do_whp ? &vw : &vk, do_whp ? &ew : &ek, events);
                if (do_whp) {
                    w[r] = res.us;
                    x[r] = res.exits_per_event;
                } else {
                    k[r] = res.us;
                }
            }
        }
        report("trigger", "host signal -> halted guest's handler -> out 0x80 seen by the VP thread; KVM: irqfd",
               w, k, x, rounds);
        vm_destroy(&vw);
        vm_destroy(&vk);
        evt_close(&ew);
        evt_close(&ek);
    }

    /* 3. Ping-pong */
    {
        static struct pingpong pw, pk;
        pingpong_setup(&pw, 1);
        pingpong_setup(&pk, 0);
        set_stage("ping-pong warm-up");
        pingpong_round(&pw, pp_ms / 4 + 1);
        pingpong_round(&pk, pp_ms / 4 + 1);
        for (unsigned r = 0; r < rounds; r++) {
            for (int side = 0; side < 2; side++) {
                int do_whp = (side == 0) == (r % 2 == 0);
                set_stage(do_whp ? "WHP ping-pong round" : "KVM ping-pong round");
                struct result res = pingpong_round(do_whp ? &pw : &pk, pp_ms);
                if (do_whp) {
                    w[r] = res.us;
                    x[r] = res.exits_per_event;
                } else {
                    k[r] = res.us;
                }
            }
        }
        alarm(0);
        report("pingpong", "A doorbell -> B trigger -> B doorbell -> A trigger round trip, no user-space step; "
                           "exits per round trip", w, k, x, rounds);
        pingpong_teardown(&pw);
        pingpong_teardown(&pk);
    }
    close(kvm_fd);
    return 0;
}
