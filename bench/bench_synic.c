/* SynIC: (1) guest fast HvSignalEvent to an Event notification port -> host thread wakes, against a
 * raw-KVM guest's `out %eax, %dx` to a datamatch PIO ioeventfd (same process, alternating rounds,
 * medians, ratio, user-space exits per signal); (2) host-posted SynIC messages per second. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

#include "guest_synic.h"

#define CONN_ID 0x77u        /* connection id of the Event port (and the KVM datamatch) */
#define SIGNAL_PORT 0x4850   /* the port of the hypercall stub's fast HvSignalEvent (docs/design.md) */
#define MSG_SINT 2u
#define MSG_VECTOR 0x52
#define MSG_TYPE 0x100u
#define MAX_ROUNDS 100
#define WATCHDOG_S 60
#define BENCH_NAME "bench_synic"
#include "bench_util.h"

/* Host -> guest commands (the acknowledgement the guest polls with pause). */
#define CMD_NONE 0
#define CMD_SIGNAL 1
#define CMD_STOP 2     /* end of a signal round: GUEST_SYNC(2) */
#define CMD_MESSAGES 3 /* leave the signal loop: GUEST_SYNC(3), then sti;hlt forever */

/* ======================================================================================
 * WHP side: a 64-bit harness guest with the SynIC (guest code and its shared state)
 * ====================================================================================== */

/* Written by the host before the VP starts (sync_global_to_guest). */
static struct {
    uint64_t hypercall, simp, siefp, input; /* GPAs */
} cfg;

/* The guest's copy is shared with the host through guest_vm_gva2hva; fits in one page. */
struct bench_shared {
    uint32_t go;         /* host -> guest: CMD_* (the guest clears it) */
    uint32_t signals;    /* guest: HvSignalEvent calls */
    uint64_t bad_status; /* guest: last non-zero HvSignalEvent status */
    uint32_t messages;   /* guest: messages consumed */
    uint32_t eoms;       /* guest: EOM writes */
    uint32_t empty;      /* guest: SINT interrupts that found the slot empty */
    uint32_t seq_errors; /* guest: messages out of sequence */
};
_Static_assert(sizeof(struct bench_shared) <= 256, "the shared block stays in one page");
static volatile struct bench_shared shared __attribute__((aligned(256)));
static struct hv_message last_msg; /* guest: copy of the last message */

/* SINT handler: copy the message, MessageType = 0, EOI, EOM when MessagePending was set. */
GUEST_CODE static void msg_isr(struct guest_ex_frame *frame)
{
    volatile struct hv_message *m = (volatile struct hv_message *)(GUEST_DIRECT_MAP + cfg.simp + MSG_SINT * 256ull);
    volatile uint64_t *src = (volatile uint64_t *)m;
    uint64_t *dst = (uint64_t *)&last_msg;
    bool eom = false;

    (void)frame;
    if (m->type != 0) {
        for (unsigned i = 0; i < sizeof(*m) / 8; i++)
            dst[i] = src[i];
        __atomic_exchange_n(&m->type, 0, __ATOMIC_SEQ_CST); /* free the slot, then look at the flag */
        if (last_msg.payload[0] != shared.messages)
            shared.seq_errors++;
        shared.messages++;
        eom = (m->flags & HV_MESSAGE_FLAG_PENDING) != 0;
    } else {
        shared.empty++;
    }
    guest_wrmsr(0x80B, 0); /* x2APIC EOI */
    if (eom) {
        shared.eoms++;
        guest_wrmsr(HV_MSR_EOM, 0);
    }
}

GUEST_CODE static void guest_main(void)
{
    guest_cli();
    guest_wrmsr(0x1B, guest_rdmsr(0x1B) | 0xC00); /* APIC enable, x2APIC */
    guest_wrmsr(0x80F, 0x1FF);                    /* SVR: software enable */
    guest_wrmsr(0x808, 0);                        /* TPR */
    GUEST_ASSERT(hv_detect());
    hv_hypercall_init(cfg.hypercall); /* GUEST_OS_ID, then the hypercall page */
    GUEST_ASSERT_EQ(hv_synic_init(cfg.simp, cfg.siefp, cfg.input), 0);
    guest_install_handler(MSG_VECTOR, msg_isr);
    guest_wrmsr(HV_MSR_SINT(MSG_SINT), MSG_VECTOR);
    GUEST_SYNC(1);

    /* Signal rounds: wait for the host's go, clear it, signal; CMD_STOP ends a round. */
    for (;;) {
        uint32_t cmd;
        while ((cmd = shared.go) == CMD_NONE)
            guest_pause();
        shared.go = CMD_NONE;
        if (cmd == CMD_SIGNAL) {
            shared.signals++;
            uint64_t st = hv_signal_event(CONN_ID, 0);
            if (st & 0xFFFF)
                shared.bad_status = st;
        } else if (cmd == CMD_STOP) {
            GUEST_SYNC(2);
        } else {
            break;
        }
    }
    /* Messages: everything happens in msg_isr. */
    GUEST_SYNC(3);
    for (;;)
        guest_sti_hlt();
}

static void syn_pre_setup(WHV_PARTITION_HANDLE partition, void *opaque)
{
    (void)opaque;
    HRESULT hr = guest_synic_enable(partition);
    if (FAILED(hr))
        die("WHvSetPartitionProperty(SyntheticProcessorFeaturesBanks)", hr);
}

struct whp_side {
    struct guest_vm *vm;
    struct bench_shared *sh; /* the guest's copy */
    HANDLE ev;
    WHV_NOTIFICATION_PORT_HANDLE port;
};

static void expect_sync(struct guest_vm *vm, uint64_t value)
{
    struct guest_ucall uc;
    uint64_t type = guest_run(vm, 0, &uc);
    if (type != UCALL_SYNC || uc.args[0] != value) {
        fprintf(stderr, "bench_synic: expected GUEST_SYNC(%llu), got ucall %llu arg %llu (stage %s)\n",
                (unsigned long long)value, (unsigned long long)type, (unsigned long long)uc.args[0], stage);
        exit(1);
    }
}

static void whp_setup(struct whp_side *w)
{
    struct guest_vm_config c = {.nr_vps = 1, .apic_mode = WHvX64LocalApicEmulationModeX2Apic,
                                .pre_setup = syn_pre_setup};
    WHV_NOTIFICATION_PORT_PARAMETERS prm;

    w->vm = guest_vm_create(&c);
    cfg.hypercall = guest_vm_alloc(w->vm, GUEST_PAGE_SIZE);
    cfg.simp = guest_vm_alloc(w->vm, GUEST_PAGE_SIZE);
    cfg.siefp = guest_vm_alloc(w->vm, GUEST_PAGE_SIZE);
    cfg.input = guest_vm_alloc(w->vm, GUEST_PAGE_SIZE);
    sync_global_to_guest(w->vm, cfg);
    w->sh = guest_vm_gva2hva(w->vm, (uint64_t)(uintptr_t)&shared);
    if (!w->sh)
        die("guest_vm_gva2hva(shared)", 0);

    w->ev = OpenWhpCreateEvent(FALSE, FALSE);
    if (!w->ev)
        die("OpenWhpCreateEvent", errno);
    memset(&prm, 0, sizeof(prm));
    prm.NotificationPortType = WHvNotificationPortTypeEvent;
    prm.Event.ConnectionId = CONN_ID;
    HRESULT hr = WHvCreateNotificationPort(w->vm->partition, &prm, w->ev, &w->port);
    if (FAILED(hr))
        die("WHvCreateNotificationPort(Event, ConnectionId 0x77)", hr);

    guest_vm_add_vp(w->vm, 0, guest_main, 0, 0);
    set_stage("WHP: guest enabling its x2APIC, hypercall page and SynIC");
    expect_sync(w->vm, 1);
}

static void whp_teardown(struct whp_side *w)
{
    WHvDeleteNotificationPort(w->vm->partition, w->port);
    guest_vm_destroy(w->vm);
    OpenWhpCloseEvent(w->ev);
}

static uint64_t whp_io_exits(struct whp_side *w)
{
    WHV_PROCESSOR_ACTIVITY_COUNTERS c;
    UINT32 written = 0;
    HRESULT hr = WHvGetVirtualProcessorCounters(w->vm->partition, 0, WHvProcessorCounterSetIntercepts, &c, sizeof(c),
                                                &written);
    if (FAILED(hr))
        die("WHvGetVirtualProcessorCounters(Intercepts)", hr);
    return c.IoInstructions.Count;
}

static void *whp_vp_main(void *arg)
{
    struct whp_side *w = arg;
    expect_sync(w->vm, 2); /* the guest runs its signal loop until CMD_STOP */
    return NULL;
}

/* ======================================================================================
 * Raw KVM side: a real-mode guest doing the same loop with a plain `out %eax, %dx`
 * ====================================================================================== */

#define KVM_MEM_SIZE 0x10000
#define KVM_CODE_GPA 0x1000
#define KVM_GO_GPA 0x3000     /* u8: CMD_* */
#define KVM_COUNT_GPA 0x3004  /* u32: signals */
#define KVM_STOP_PORT 0x81

/* loop: pause; wait for [0x3000]; clear it; 2: out 0x81; else count and out eax (CONN_ID) to dx. */
static const uint8_t kvm_code[] = {
    0xF3, 0x90,                         /*  0: loop: pause */
    0xA0, 0x00, 0x30,                   /*  2: mov al, [0x3000] */
    0x84, 0xC0,                         /*  5: test al, al */
    0x74, 0xF7,                         /*  7: je loop */
    0xC6, 0x06, 0x00, 0x30, 0x00,       /*  9: mov byte [0x3000], 0 */
    0x3C, CMD_STOP,                     /* 14: cmp al, CMD_STOP */
    0x74, 0x12,                         /* 16: je stop */
    0x66, 0xFF, 0x06, 0x04, 0x30,       /* 18: inc dword [0x3004] */
    0x66, 0xB8, CONN_ID, 0x00, 0x00, 0x00, /* 23: mov eax, CONN_ID */
    0xBA, SIGNAL_PORT & 0xFF, SIGNAL_PORT >> 8, /* 29: mov dx, 0x4850 */
    0x66, 0xEF,                         /* 32: out dx, eax */
    0xEB, 0xDC,                         /* 34: jmp loop */
    0xE6, KVM_STOP_PORT,                /* 36: stop: out 0x81, al */
    0xEB, 0xD8,                         /* 38: jmp loop */
};

struct kvm_side {
    int kvm, vmfd, vcpu, efd;
    struct kvm_run *run;
    size_t run_size;
    uint8_t *mem;
};

static void kvm_setup(struct kvm_side *k, int kvm_fd)
{
    struct kvm_userspace_memory_region region;
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    k->kvm = kvm_fd;
    k->mem = mmap(NULL, KVM_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (k->mem == MAP_FAILED)
        die("mmap", errno);
    memcpy(k->mem + KVM_CODE_GPA, kvm_code, sizeof(kvm_code));
    k->vmfd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (k->vmfd < 0)
        die("KVM_CREATE_VM", errno);
    memset(&region, 0, sizeof(region));
    region.memory_size = KVM_MEM_SIZE;
    region.userspace_addr = (uint64_t)(uintptr_t)k->mem;
    if (ioctl(k->vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION", errno);
    k->vcpu = ioctl(k->vmfd, KVM_CREATE_VCPU, 0);
    if (k->vcpu < 0)
        die("KVM_CREATE_VCPU", errno);
    k->run = bench_map_run(kvm_fd, k->vcpu, &k->run_size);
    if (ioctl(k->vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS", errno);
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(k->vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS", errno);
    memset(&regs, 0, sizeof(regs));
    regs.rip = KVM_CODE_GPA;
    regs.rflags = 0x2;
    if (ioctl(k->vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS", errno);

    /* What the library does for an Event port (src/synic/hypercall.c): PIO, 4 bytes, datamatch. */
    k->efd = eventfd(0, EFD_CLOEXEC);
    if (k->efd < 0)
        die("eventfd", errno);
    struct kvm_ioeventfd io = {.datamatch = CONN_ID, .addr = SIGNAL_PORT, .len = 4, .fd = k->efd,
                               .flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH};
    if (ioctl(k->vmfd, KVM_IOEVENTFD, &io) < 0)
        die("KVM_IOEVENTFD(PIO, datamatch)", errno);
}

static void kvm_teardown(struct kvm_side *k)
{
    munmap(k->run, k->run_size);
    close(k->vcpu);
    close(k->vmfd);
    close(k->efd);
    munmap(k->mem, KVM_MEM_SIZE);
}

static void *kvm_vp_main(void *arg)
{
    struct kvm_side *k = arg;
    for (;;) {
        if (ioctl(k->vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            die("KVM_RUN", errno);
        }
        if (k->run->exit_reason == KVM_EXIT_INTR)
            continue;
        if (k->run->exit_reason != KVM_EXIT_IO || k->run->io.port != KVM_STOP_PORT) {
            fprintf(stderr, "bench_synic: unexpected KVM exit %u (port 0x%x) (stage %s)\n", k->run->exit_reason,
                    k->run->exit_reason == KVM_EXIT_IO ? k->run->io.port : 0, stage);
            exit(1);
        }
        return NULL;
    }
}

/* ======================================================================================
 * 1. synic_signal
 * ====================================================================================== */

struct signal_result {
    double us;
    double exits_per_signal;
};

static struct signal_result whp_signal_round(struct whp_side *w, unsigned n)
{
    pthread_t th;
    uint32_t s0 = __atomic_load_n(&w->sh->signals, __ATOMIC_ACQUIRE);
    uint64_t x0 = whp_io_exits(w);
    double total = 0;

    if (pthread_create(&th, NULL, whp_vp_main, w) != 0)
        die("pthread_create", errno);
    for (unsigned i = 0; i < n; i++) {
        double t0 = now_us();
        __atomic_store_n(&w->sh->go, CMD_SIGNAL, __ATOMIC_RELEASE);
        DWORD r = OpenWhpWaitForEvent(w->ev, INFINITE);
        if (r != WAIT_OBJECT_0)
            die("OpenWhpWaitForEvent(port event, INFINITE)", r == WAIT_FAILED ? errno : (long)r);
        total += now_us() - t0;
    }
    __atomic_store_n(&w->sh->go, CMD_STOP, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    uint64_t x1 = whp_io_exits(w);
    uint32_t got = __atomic_load_n(&w->sh->signals, __ATOMIC_ACQUIRE) - s0;
    if (got != n || w->sh->bad_status) {
        fprintf(stderr, "bench_synic: WHP guest made %u HvSignalEvent calls for %u acks, last bad status 0x%llx\n",
                got, n, (unsigned long long)w->sh->bad_status);
        exit(1);
    }
    if (OpenWhpWaitForEvent(w->ev, 0) != WAIT_TIMEOUT) {
        fprintf(stderr, "bench_synic: the port event is signaled after the round (extra signal)\n");
        exit(1);
    }
    /* One I/O exit per round by design: the GUEST_SYNC ucall that ends it. */
    return (struct signal_result){total / n, (double)(x1 - x0 - 1) / n};
}

static struct signal_result kvm_signal_round(struct kvm_side *k, unsigned n)
{
    pthread_t th;
    uint32_t *count = (uint32_t *)(void *)(k->mem + KVM_COUNT_GPA);
    uint32_t s0 = __atomic_load_n(count, __ATOMIC_ACQUIRE);
    double total = 0;

    if (pthread_create(&th, NULL, kvm_vp_main, k) != 0)
        die("pthread_create", errno);
    for (unsigned i = 0; i < n; i++) {
        uint64_t v;
        double t0 = now_us();
        __atomic_store_n(k->mem + KVM_GO_GPA, (uint8_t)CMD_SIGNAL, __ATOMIC_RELEASE);
        if (read(k->efd, &v, sizeof(v)) != sizeof(v))
            die("read(eventfd)", errno);
        total += now_us() - t0;
    }
    __atomic_store_n(k->mem + KVM_GO_GPA, (uint8_t)CMD_STOP, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    uint32_t got = __atomic_load_n(count, __ATOMIC_ACQUIRE) - s0;
    if (got != n) {
        fprintf(stderr, "bench_synic: KVM guest made %u signals for %u acks\n", got, n);
        exit(1);
    }
    return (struct signal_result){total / n, 0};
}

/* ======================================================================================
 * 2. synic_messages
 * ====================================================================================== */

struct msg_result {
    double per_s;
    double runs_per_msg, posts_per_msg;
};

static uint32_t posted_ok; /* messages accepted by WHvPostVirtualProcessorSynicMessage (all rounds) */

/* Runs the VP until SynicSintDeliverable. */
static void run_to_deliverable(struct whp_side *w)
{
    WHV_RUN_VP_EXIT_CONTEXT ctx;
    for (;;) {
        HRESULT hr = WHvRunVirtualProcessor(w->vm->partition, 0, &ctx, sizeof(ctx));
        if (FAILED(hr))
            die("WHvRunVirtualProcessor", hr);
        if (ctx.ExitReason == WHvRunVpExitReasonCanceled)
            continue;
        if (ctx.ExitReason != WHvRunVpExitReasonSynicSintDeliverable) {
            fprintf(stderr, "bench_synic: unexpected WHP exit %s (0x%x) at rip 0x%llx (stage %s)\n",
                    guest_exit_reason_name(ctx.ExitReason), (unsigned)ctx.ExitReason,
                    (unsigned long long)ctx.VpContext.Rip, stage);
            exit(1);
        }
        if (!(ctx.SynicSintDeliverable.DeliverableSints & (1u << MSG_SINT))) {
            fprintf(stderr, "bench_synic: SynicSintDeliverable with DeliverableSints 0x%x\n",
                    (unsigned)ctx.SynicSintDeliverable.DeliverableSints);
            exit(1);
        }
        return;
    }
}

static struct msg_result msg_round(struct whp_side *w, double ms)
{
    WHV_REGISTER_NAME dn_name = WHvX64RegisterDeliverabilityNotifications;
    WHV_REGISTER_VALUE dn_val;
    struct hv_message msg;
    unsigned long posts = 0, runs = 0;

    memset(&msg, 0, sizeof(msg));
    msg.type = MSG_TYPE;
    msg.payload_size = HV_MESSAGE_PAYLOAD_MAX;
    msg.origin = 0x5157;
    for (unsigned i = 1; i < 30; i++)
        msg.payload[i] = 0x0101010101010101ull * i;

    uint32_t c0 = __atomic_load_n(&w->sh->messages, __ATOMIC_ACQUIRE);
    double t0 = now_us(), end = t0 + ms * 1000;
    while (now_us() < end) {
        msg.payload[0] = posted_ok;
        HRESULT hr = WHvPostVirtualProcessorSynicMessage(w->vm->partition, 0, MSG_SINT, &msg, sizeof(msg));
        posts++;
        if (SUCCEEDED(hr)) {
            posted_ok++;
            continue;
        }
        if (hr != ERROR_HV_OBJECT_IN_USE)
            die("WHvPostVirtualProcessorSynicMessage(VP 0, SINT 2, 256 bytes)", hr);
        memset(&dn_val, 0, sizeof(dn_val));
        WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER dn = {.AsUINT64 = 0};
        dn.Sint = 1u << MSG_SINT;
        dn_val.DeliverabilityNotifications = dn;
        hr = WHvSetVirtualProcessorRegisters(w->vm->partition, 0, &dn_name, 1, &dn_val);
        if (FAILED(hr))
            die("WHvSetVirtualProcessorRegisters(DeliverabilityNotifications.Sint)", hr);
        run_to_deliverable(w);
        runs++;
    }
    double t1 = now_us();
    uint32_t c1 = __atomic_load_n(&w->sh->messages, __ATOMIC_ACQUIRE);
    uint32_t n = c1 - c0;
    if (n == 0) {
        fprintf(stderr, "bench_synic: the guest consumed no message in %.0f ms\n", ms);
        exit(1);
    }
    /* Every accepted message is consumed, except at most the one still in the slot. */
    if (posted_ok - c1 > 1 || w->sh->seq_errors) {
        fprintf(stderr, "bench_synic: %u messages posted, %u consumed, %u out of sequence\n", posted_ok, c1,
                w->sh->seq_errors);
        exit(1);
    }
    return (struct msg_result){n / ((t1 - t0) / 1e6), (double)runs / n, (double)posts / n};
}

/* ======================================================================================
 * Driver
 * ====================================================================================== */

int main(int argc, char **argv)
{
    unsigned rounds = 7, signals = 1000, msg_ms = 500;
    static double w_us[MAX_ROUNDS], k_us[MAX_ROUNDS], ratio[MAX_ROUNDS], x[MAX_ROUNDS];
    static double m_rate[MAX_ROUNDS], m_runs[MAX_ROUNDS], m_posts[MAX_ROUNDS];

    const struct bench_opt opts[] = {
        {"--rounds", "N", &rounds}, {"--signals", "N", &signals}, {"--msg-ms", "MS", &msg_ms}};
    bench_parse_options(argc, argv, opts, 3);
    int kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        printf("SKIP: /dev/kvm not available (%s)\n", strerror(errno));
        return 0;
    }
    signal(SIGALRM, on_alarm);

    struct whp_side w;
    struct kvm_side k;
    whp_setup(&w);
    kvm_setup(&k, kvm_fd);

    /* 1. synic_signal */
    set_stage("signal warm-up");
    whp_signal_round(&w, signals / 4 + 1);
    kvm_signal_round(&k, signals / 4 + 1);
    for (unsigned r = 0; r < rounds; r++) {
        for (int side = 0; side < 2; side++) {
            int do_whp = (side == 0) == (r % 2 == 0);
            set_stage(do_whp ? "WHP signal round" : "KVM signal round");
            if (do_whp) {
                struct signal_result res = whp_signal_round(&w, signals);
                w_us[r] = res.us;
                x[r] = res.exits_per_signal;
            } else {
                k_us[r] = kvm_signal_round(&k, signals).us;
            }
        }
        ratio[r] = w_us[r] / k_us[r];
    }
    printf("synic_signal: whp %.2f us, kvm %.2f us, ratio %.2f, user-space exits per signal %.3f (median of %u "
           "rounds of %u; host ack in guest RAM -> guest fast HvSignalEvent -> Event port -> OpenWhpWaitForEvent "
           "wakes; KVM: out %%eax,%%dx to a datamatch PIO ioeventfd, read(eventfd))\n",
           median(w_us, rounds), median(k_us, rounds), median(ratio, rounds), median(x, rounds), rounds, signals);
    fflush(stdout);

    /* 2. synic_messages */
    set_stage("WHP: guest entering its message loop");
    __atomic_store_n(&w.sh->go, CMD_MESSAGES, __ATOMIC_RELEASE);
    expect_sync(w.vm, 3);
    set_stage("messages warm-up");
    msg_round(&w, msg_ms / 4.0 + 1);
    for (unsigned r = 0; r < rounds; r++) {
        set_stage("WHP messages round");
        struct msg_result res = msg_round(&w, msg_ms);
        m_rate[r] = res.per_s;
        m_runs[r] = res.runs_per_msg;
        m_posts[r] = res.posts_per_msg;
    }
    alarm(0);
    printf("synic_messages: whp %.0f messages/s delivered (median of %u rounds of %u ms; "
           "WHvPostVirtualProcessorSynicMessage to SINT %u, guest handler copies, frees, EOIs, EOMs; busy slot -> "
           "DeliverabilityNotifications.Sint + run to SynicSintDeliverable; %.2f VP runs and %.2f posts per message; "
           "no raw-KVM baseline: KVM here has no SynIC)\n",
           median(m_rate, rounds), rounds, msg_ms, MSG_SINT, median(m_runs, rounds), median(m_posts, rounds));
    fflush(stdout);

    whp_teardown(&w);
    kvm_teardown(&k);
    close(kvm_fd);
    return 0;
}
