/* Helpers for the interrupt tests (test_interrupts.c, test_apic_state.c): guest access to the local
 * APIC in xAPIC (MMIO page at GPA 0xFEE00000, mapped uncached in the direct map) or x2APIC (MSRs)
 * mode, a guest loop that counts interrupts per VP and vector, and host helpers: interrupt
 * requests, runs with a watchdog (a guest that waits for an interrupt that never comes fails its
 * test instead of hanging the binary) and a VP run on its own thread (APs waiting for SIPI).
 *
 * Include from one test file only: it defines static data. */
#ifndef OPENWHP_TESTS_GUEST_APIC_H
#define OPENWHP_TESTS_GUEST_APIC_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "guest.h"

#define APIC_GPA 0xFEE00000ull
#define APIC_GVA (GUEST_DIRECT_MAP + APIC_GPA)

/* xAPIC MMIO offsets (x2APIC MSR = 0x800 + offset / 16) */
#define APIC_REG_ID 0x20
#define APIC_REG_VERSION 0x30
#define APIC_REG_TPR 0x80
#define APIC_REG_PPR 0xA0
#define APIC_REG_EOI 0xB0
#define APIC_REG_LDR 0xD0
#define APIC_REG_DFR 0xE0
#define APIC_REG_SVR 0xF0
#define APIC_REG_ISR 0x100
#define APIC_REG_TMR 0x180
#define APIC_REG_IRR 0x200
#define APIC_REG_ICR 0x300
#define APIC_REG_ICR2 0x310
#define APIC_REG_LVT_LINT1 0x360

#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)

/* The bit of vector v in a 256-bit APIC register array (ISR/TMR/IRR) of the xAPIC page layout. */
#define APIC_VEC_OFFSET(base, v) ((base) + ((v) / 32) * 0x10)
#define APIC_VEC_BIT(v) (1u << ((v) % 32))

/* Flags of guest_irq_main (arg0) */
#define IRQ_X2APIC 0x1u       /* switch the APIC to x2APIC mode */
#define IRQ_LOGICAL_FLAT 0x2u /* xAPIC: DFR flat, LDR = 1 << index */
#define IRQ_LOGICAL_CLUSTER 0x4u /* xAPIC: DFR cluster, LDR = (index / 2) << 4 | 1 << (index % 2) */
#define IRQ_LINT1_NMI 0x8u    /* LVT LINT1 = NMI, unmasked */

#define IRQ_READY 0x5EAD
/* The lowest-priority vector: requested after the vectors under test, it is the last one a guest
 * takes, so a guest that has seen it has seen everything that was pending. */
#define IRQ_FLUSH_VECTOR 0x20

#define GUEST_APIC_UNUSED __attribute__((unused))

/* ---- Guest side ---- */

/* Shared by all VPs of a guest: whether they use x2APIC (all VPs of a test use the same mode). */
static volatile uint32_t guest_apic_x2;
/* Interrupts taken, per APIC ID and vector (the host reads and clears it between rounds). */
static volatile uint32_t irq_count[GUEST_MAX_VPS][256];

GUEST_INLINE uint32_t apic_read(uint32_t reg)
{
    if (guest_apic_x2)
        return (uint32_t)guest_rdmsr(0x800 + (reg >> 4));
    return guest_read32(APIC_GVA + reg);
}

GUEST_INLINE void apic_write(uint32_t reg, uint32_t value)
{
    if (guest_apic_x2)
        guest_wrmsr(0x800 + (reg >> 4), value);
    else
        guest_write32(APIC_GVA + reg, value);
}

GUEST_INLINE uint32_t apic_id(void)
{
    uint32_t id = apic_read(APIC_REG_ID);
    return guest_apic_x2 ? id : id >> 24;
}

GUEST_INLINE void apic_eoi(void) { apic_write(APIC_REG_EOI, 0); }

/* ICR low word lo (vector, delivery mode, level, ...) to dest. */
GUEST_INLINE void apic_send_ipi(uint32_t dest, uint32_t lo)
{
    if (guest_apic_x2) {
        guest_wrmsr(0x830, ((uint64_t)dest << 32) | lo);
    } else {
        guest_write32(APIC_GVA + APIC_REG_ICR2, dest << 24);
        guest_write32(APIC_GVA + APIC_REG_ICR, lo);
    }
}

/* Enables the APIC (x2APIC mode if x2), software-enables it (SVR = 0x1FF) and clears the TPR. */
GUEST_INLINE void apic_enable(bool x2)
{
    if (x2) {
        guest_wrmsr(MSR_IA32_APIC_BASE, guest_rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_ENABLE | APIC_BASE_EXTD);
        guest_apic_x2 = 1;
    }
    apic_write(APIC_REG_SVR, 0x1FF);
    apic_write(APIC_REG_TPR, 0);
}

/* Counts the interrupt for the VP that takes it and EOIs it (vectors >= 32). */
GUEST_CODE GUEST_APIC_UNUSED static void irq_count_handler(struct guest_ex_frame *f)
{
    uint32_t id = apic_id();
    if (id < GUEST_MAX_VPS)
        irq_count[id][f->vector & 0xFF]++;
    if (f->vector >= 32)
        apic_eoi();
}

/* cli; then sti;hlt until irq_count[id][vector] != 0; returns with interrupts off. */
GUEST_CODE GUEST_APIC_UNUSED static void guest_wait_vector(uint32_t id, uint32_t vector)
{
    guest_cli();
    while (!irq_count[id][vector]) {
        guest_sti_hlt();
        guest_cli();
    }
}

/* VP `index`: sets up its APIC as flags say, counts every interrupt, and loops: GUEST_SYNC(READY)
 * with interrupts off (the host requests interrupts meanwhile, then IRQ_FLUSH_VECTOR), then waits
 * with sti;hlt until the flush vector arrived. */
GUEST_CODE GUEST_APIC_UNUSED static void guest_irq_main(uint64_t flags, uint64_t index)
{
    guest_cli();
    apic_enable(flags & IRQ_X2APIC);
    if (flags & IRQ_LOGICAL_FLAT) {
        apic_write(APIC_REG_DFR, 0xFFFFFFFF);
        apic_write(APIC_REG_LDR, (1u << index) << 24);
    } else if (flags & IRQ_LOGICAL_CLUSTER) {
        apic_write(APIC_REG_DFR, 0x0FFFFFFF);
        apic_write(APIC_REG_LDR, (uint32_t)((index / 2) << 4 | 1u << (index % 2)) << 24);
    }
    if (flags & IRQ_LINT1_NMI)
        apic_write(APIC_REG_LVT_LINT1, 0x400);
    GUEST_ASSERT_EQ(apic_id(), index);
    if (flags & IRQ_X2APIC) /* x2APIC LDR: cluster (id >> 4) << 16, bit 1 << (id & 15) */
        GUEST_ASSERT_EQ(apic_read(APIC_REG_LDR), ((index >> 4) << 16) | (1u << (index & 15)));
    for (unsigned v = 32; v < 256; v++)
        guest_install_handler((uint8_t)v, irq_count_handler);
    guest_install_handler(2, irq_count_handler);
    for (;;) {
        GUEST_SYNC(IRQ_READY);
        guest_wait_vector((uint32_t)index, IRQ_FLUSH_VECTOR);
    }
}

/* ---- Host side ---- */

/* Maps the xAPIC page at APIC_GVA, uncached (PCD | PWT). */
static inline void apic_map(struct guest_vm *vm)
{
    uint64_t table = vm->pml4_gpa;

    guest_vm_map_gpa(vm, APIC_GPA, GUEST_PAGE_SIZE);
    for (int shift = 39; shift > 12; shift -= 9)
        table = ((uint64_t *)guest_vm_gpa2hva(vm, table))[(APIC_GVA >> shift) & 0x1FF] & 0x000FFFFFFFFFF000ull;
    ((uint64_t *)guest_vm_gpa2hva(vm, table))[(APIC_GVA >> 12) & 0x1FF] |= 0x18; /* PWT | PCD */
}

/* An Interrupt trigger: fixed, physical, edge, to APIC ID dest. */
static inline WHV_TRIGGER_PARAMETERS irq_fixed_trigger(uint32_t dest, uint32_t vector)
{
    WHV_TRIGGER_PARAMETERS t;
    memset(&t, 0, sizeof(t));
    t.TriggerType = WHvTriggerTypeInterrupt;
    t.Interrupt.Type = WHvX64InterruptTypeFixed;
    t.Interrupt.DestinationMode = WHvX64InterruptDestinationModePhysical;
    t.Interrupt.TriggerMode = WHvX64InterruptTriggerModeEdge;
    t.Interrupt.Destination = dest;
    t.Interrupt.Vector = vector;
    return t;
}

static inline HRESULT request_irq(struct guest_vm *vm, WHV_INTERRUPT_TYPE type, WHV_INTERRUPT_DESTINATION_MODE mode,
                                  WHV_INTERRUPT_TRIGGER_MODE trigger, uint32_t dest, uint32_t vector)
{
    WHV_INTERRUPT_CONTROL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.Type = type;
    ctl.DestinationMode = mode;
    ctl.TriggerMode = trigger;
    ctl.Destination = dest;
    ctl.Vector = vector;
    return WHvRequestInterrupt(vm->partition, &ctl, sizeof(ctl));
}

#define REQUEST_OK(vm, type, mode, trigger, dest, vector)                                         \
    do {                                                                                           \
        HRESULT req_hr_ = request_irq((vm), (type), (mode), (trigger), (dest), (vector));          \
        if (FAILED(req_hr_))                                                                       \
            TEST_FAIL("WHvRequestInterrupt(Type %s, %s, %s, Destination 0x%x, Vector 0x%x) returned 0x%08x", \
                      #type, #mode, #trigger, (unsigned)(dest), (unsigned)(vector), (unsigned)req_hr_); \
    } while (0)
#define FIXED_TO(vm, dest, vector)                                                                 \
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, WHvX64InterruptDestinationModePhysical,               \
               WHvX64InterruptTriggerModeEdge, dest, vector)

/* Creates VPs 0..nr-1 at guest_irq_main(flags, index) and makes the APs runnable at once
 * (InternalActivityState = 0, as a VMM that sets up its APs itself does). */
static inline void irq_add_vps(struct guest_vm *vm, uint32_t nr, uint32_t flags)
{
    for (uint32_t vp = 0; vp < nr; vp++) {
        guest_vm_add_vp(vm, vp, guest_irq_main, flags, vp);
        if (vp > 0)
            guest_set_reg(vm, vp, WHvRegisterInternalActivityState, 0);
    }
}

static inline struct guest_vm *irq_vm_create(WHV_X64_LOCAL_APIC_EMULATION_MODE mode, uint32_t nr_vps)
{
    struct guest_vm_config cfg = {.nr_vps = nr_vps, .apic_mode = mode};
    struct guest_vm *vm;

    guest_apic_x2 = 0;
    memset((void *)irq_count, 0, sizeof(irq_count));
    vm = guest_vm_create(&cfg);
    apic_map(vm);
    return vm;
}

/* ---- Runs with a watchdog ---- */

/* One watchdog thread, started by the first run and joined when the test ends (guest_test_defer). */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, armed, fired, quit;
    pthread_t thread;
    WHV_PARTITION_HANDLE partition;
    uint32_t vp;
    struct timespec deadline;
} watchdog = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, false, false, 0, NULL, 0, {0, 0}};

static void *watchdog_main(void *opaque)
{
    (void)opaque;
    pthread_mutex_lock(&watchdog.lock);
    while (!watchdog.quit) {
        if (!watchdog.armed) {
            pthread_cond_wait(&watchdog.cond, &watchdog.lock);
            continue;
        }
        if (pthread_cond_timedwait(&watchdog.cond, &watchdog.lock, &watchdog.deadline) != 0 && watchdog.armed) {
            WHvCancelRunVirtualProcessor(watchdog.partition, watchdog.vp, 0);
            watchdog.fired = true;
            watchdog.armed = false;
        }
    }
    pthread_mutex_unlock(&watchdog.lock);
    return NULL;
}

static void watchdog_stop(void *opaque)
{
    (void)opaque;
    pthread_mutex_lock(&watchdog.lock);
    bool started = watchdog.started;
    watchdog.quit = true;
    watchdog.armed = false;
    pthread_cond_signal(&watchdog.cond);
    pthread_mutex_unlock(&watchdog.lock);
    if (started)
        pthread_join(watchdog.thread, NULL);
    watchdog.started = watchdog.quit = false;
}

static inline void deadline_in(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

#define IRQ_RUN_TIMEOUT_MS 3000

/* One WHvRunVirtualProcessor call; fails the test if no exit comes within timeout_ms. */
static inline void irq_run_once(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, unsigned timeout_ms)
{
    HRESULT hr;
    bool fired;

    pthread_mutex_lock(&watchdog.lock);
    if (!watchdog.started) {
        if (pthread_create(&watchdog.thread, NULL, watchdog_main, NULL) != 0) {
            pthread_mutex_unlock(&watchdog.lock);
            TEST_FAIL("cannot start the watchdog thread");
        }
        watchdog.started = true;
        guest_test_defer(watchdog_stop, NULL);
    }
    watchdog.partition = vm->partition;
    watchdog.vp = vp;
    watchdog.fired = false;
    watchdog.armed = true;
    deadline_in(&watchdog.deadline, timeout_ms);
    pthread_cond_signal(&watchdog.cond);
    pthread_mutex_unlock(&watchdog.lock);

    hr = guest_whv_run(vm->partition, vp, exit);

    pthread_mutex_lock(&watchdog.lock);
    watchdog.armed = false;
    fired = watchdog.fired;
    pthread_cond_signal(&watchdog.cond);
    pthread_mutex_unlock(&watchdog.lock);

    if (FAILED(hr))
        TEST_FAIL("vp %u: WHvRunVirtualProcessor returned 0x%08x", vp, (unsigned)hr);
    if (fired && exit->ExitReason == WHvRunVpExitReasonCanceled)
        TEST_FAIL("vp %u: no exit within %u ms (guest at rip 0x%llx waits for an interrupt that did not come)",
                  vp, timeout_ms, (unsigned long long)exit->VpContext.Rip);
}

/* guest_run_handling with the watchdog. */
static inline uint64_t irq_run(struct guest_vm *vm, uint32_t vp, struct guest_ucall *uc, guest_exit_fn fn, void *opaque)
{
    WHV_RUN_VP_EXIT_CONTEXT exit;

    for (;;) {
        irq_run_once(vm, vp, &exit, IRQ_RUN_TIMEOUT_MS);
        if (guest_ucall_decode(vm, vp, &exit, uc)) {
            if (uc->type == UCALL_PRINT)
                continue;
            return uc->type;
        }
        if (fn && fn(vm, vp, &exit, opaque))
            continue;
        if (fn) {
            memset(uc, 0, sizeof(*uc));
            return UCALL_NONE;
        }
        TEST_FAIL("vp %u: unexpected exit %s (0x%x) at rip 0x%llx", vp, guest_exit_reason_name(exit.ExitReason),
                  (unsigned)exit.ExitReason, (unsigned long long)exit.VpContext.Rip);
    }
}

static inline void irq_expect_sync(struct guest_vm *vm, uint32_t vp, uint64_t value, guest_exit_fn fn, void *opaque)
{
    struct guest_ucall uc;
    uint64_t type = irq_run(vm, vp, &uc, fn, opaque);
    TEST_ASSERT(type == UCALL_SYNC && uc.args[0] == value,
                "(vp %u: expected GUEST_SYNC(0x%llx), got ucall type %llu arg 0x%llx from %s:%llu)", vp,
                (unsigned long long)value, (unsigned long long)type, (unsigned long long)uc.args[0], uc.file,
                (unsigned long long)uc.line);
}

/* ---- Rounds of guest_irq_main ---- */

static uint32_t host_irq_count[GUEST_MAX_VPS][256];

/* Runs VPs 0..nr-1 to their first READY (after their APIC setup). */
static inline void irq_start(struct guest_vm *vm, uint32_t nr, guest_exit_fn fn, void *opaque)
{
    for (uint32_t vp = 0; vp < nr; vp++)
        irq_expect_sync(vm, vp, IRQ_READY, fn, opaque);
}

/* Clears the guest's counters (all VPs stopped at READY). */
static inline void irq_round_begin(struct guest_vm *vm)
{
    memset(host_irq_count, 0, sizeof(host_irq_count));
    guest_vm_write(vm, (uint64_t)(uintptr_t)irq_count, host_irq_count, sizeof(host_irq_count));
}

/* Sends the flush vector to every VP, runs each to READY and copies the counters to
 * host_irq_count. */
static inline void irq_round_end(struct guest_vm *vm, uint32_t nr, guest_exit_fn fn, void *opaque)
{
    for (uint32_t vp = 0; vp < nr; vp++)
        FIXED_TO(vm, vp, IRQ_FLUSH_VECTOR);
    for (uint32_t vp = 0; vp < nr; vp++)
        irq_expect_sync(vm, vp, IRQ_READY, fn, opaque);
    guest_vm_read(vm, (uint64_t)(uintptr_t)irq_count, host_irq_count, sizeof(host_irq_count));
}

/* Each VP in mask took vector exactly n times, every other VP never. */
#define EXPECT_VECTOR_ON(nr, vector, mask, n)                                                      \
    do {                                                                                           \
        for (uint32_t vp_ = 0; vp_ < (nr); vp_++) {                                                \
            uint32_t want_ = ((mask) >> vp_) & 1 ? (n) : 0;                                        \
            if (host_irq_count[vp_][(vector)] != want_)                                            \
                TEST_FAIL("vector 0x%x: vp %u took it %u times, expected %u (VP mask 0x%x)",       \
                          (unsigned)(vector), vp_, host_irq_count[vp_][(vector)], want_, (unsigned)(mask)); \
        }                                                                                          \
    } while (0)

/* ---- A VP run on its own thread (an AP that waits for INIT/SIPI) ---- */

struct vp_async {
    struct guest_vm *vm;
    WHV_PARTITION_HANDLE partition; /* stays usable (E_HANDLE at worst) after vm is freed */
    uint32_t vp;
    pthread_t thread;
    bool joined;
    atomic_int done;
    HRESULT hr;
    WHV_RUN_VP_EXIT_CONTEXT exit;
};

static void *vp_async_main(void *opaque)
{
    struct vp_async *r = opaque;
    r->hr = WHvRunVirtualProcessor(r->partition, r->vp, &r->exit, sizeof(r->exit));
    atomic_store(&r->done, 1);
    return NULL;
}

static void vp_async_cleanup(void *opaque);

/* r must be static: a test that fails leaves before joining; the test's end (guest_test_defer)
 * cancels and joins the run then. */
static inline void vp_async_start(struct vp_async *r, struct guest_vm *vm, uint32_t vp)
{
    memset(r, 0, sizeof(*r));
    r->vm = vm;
    r->partition = vm->partition;
    r->vp = vp;
    r->joined = true; /* until the thread exists */
    TEST_ASSERT(pthread_create(&r->thread, NULL, vp_async_main, r) == 0);
    r->joined = false;
    guest_test_defer(vp_async_cleanup, r);
}

/* Waits up to ms for the run to return. */
static inline bool vp_async_wait(struct vp_async *r, unsigned ms)
{
    for (unsigned i = 0; i < ms && !atomic_load(&r->done); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return atomic_load(&r->done);
}

/* Cancels the run if it is still going and joins the thread. */
static inline void vp_async_stop(struct vp_async *r)
{
    if (r->joined)
        return;
    if (!atomic_load(&r->done))
        WHvCancelRunVirtualProcessor(r->partition, r->vp, 0);
    pthread_join(r->thread, NULL);
    r->joined = true;
}

static void vp_async_cleanup(void *opaque)
{
    vp_async_stop(opaque);
}

#endif /* OPENWHP_TESTS_GUEST_APIC_H */
