/* Concurrency stress: while two VPs run a real guest on their own threads (sti;hlt, counting every
 * interrupt per VP and vector, and every SynIC message and event flag per SINT), host threads at
 * the same time request interrupts, signal trigger events (and update, delete and recreate the
 * triggers), signal SynicEvent triggers, post SynIC messages, signal SynIC events, create and
 * delete notification ports and doorbells, map and unmap guest memory, and read and write
 * interrupt controller state, and reset a second, idle partition (WHvResetPartition on this one would
 * put VPs 0 and 1 back to power-on between two of their runs and destroy the guest). Every
 * sender waits for the guest to count its previous delivery before sending the next one on the
 * same path (nothing can coalesce), so the guest's final counts must equal what was sent,
 * exactly. Runs STRESS_SECONDS (default 3) seconds; meant to run under ThreadSanitizer too. */
#include <openwhp/event.h>

#include "guest_apic.h"
#include "guest_stress.h"
#include "guest_synic.h"

#define NR_RUN_VPS 2 /* VPs 0 and 1 run the guest */
#define STATE_VP 2   /* VP 2 exists but never runs: its LAPIC state is written while 0 and 1 run */
#define NR_VPS 3

#define NR_SENDERS 4 /* WHvRequestInterrupt threads: vector 0x40 + i to VP i % 2 */
#define SENDER_VECTOR(i) (0x40u + (i))
#define NR_TRIGGERS 2 /* Interrupt trigger threads: vector 0x60 + i, retargeted between the VPs */
#define TRIGGER_VECTOR(i) (0x60u + (i))
#define SINT_MSG 2  /* WHvPostVirtualProcessorSynicMessage to VP 0 */
#define SINT_EVT 3  /* WHvSignalVirtualProcessorSynicEvent to VP 1 */
#define SINT_TRIG 4 /* a SynicEvent trigger to VP 1 */
#define SINT_VECTOR(s) (0xA0u + (s))
#define DB_GPA 0xD0000000ull /* no RAM: a doorbell here is never written by the guest */
#define EXTRA_GPA 0x100000000ull /* mapped and unmapped by map_main; doorbells land here too */
#define EXTRA_SIZE (16 * GUEST_PAGE_SIZE)
/* How long one delivery may take before it counts as lost: generous, because on a loaded 2-core
 * nested host (CI beside other builds) a busy guest VP can go seconds without the CPU; a lost
 * delivery never arrives, so it still fails. 3 s failed about 1 run in 8 under load. */
#define HANDSHAKE_MS 10000
#define POWER_ON_RIP 0xFFF0 /* docs/design.md, the power-on state table */
#define MOVED_RIP 0x1234

/* ---- Guest ---- */

static struct {
    uint64_t hypercall;
    uint64_t simp[NR_RUN_VPS], siefp[NR_RUN_VPS], input[NR_RUN_VPS];
} stress_cfg;

/* x2APIC, the SynIC with three SINTs, counting handlers for 0x40-0x7F, then sti;hlt forever. */
GUEST_CODE static void guest_stress_main(uint64_t index)
{
    guest_cli();
    apic_enable(true);
    if (index == 0) {
        GUEST_ASSERT(hv_detect());
        hv_hypercall_init(stress_cfg.hypercall);
    }
    GUEST_ASSERT_EQ(hv_synic_init(stress_cfg.simp[index], stress_cfg.siefp[index], stress_cfg.input[index]), index);
    hv_sint_setup(SINT_MSG, SINT_VECTOR(SINT_MSG), 0);
    hv_sint_setup(SINT_EVT, SINT_VECTOR(SINT_EVT), 0);
    hv_sint_setup(SINT_TRIG, SINT_VECTOR(SINT_TRIG), 0);
    for (unsigned v = 0x40; v < 0x80; v++)
        guest_install_handler((uint8_t)v, irq_count_handler);
    GUEST_SYNC(IRQ_READY);
    for (;;)
        guest_sti_hlt();
}

/* ---- Host ---- */

/* Everything the threads share; counters are live pointers into guest RAM. */
static struct stress {
    struct guest_vm *vm;
    _Atomic uint64_t deadline_ns; /* extended while a path has not yet reached its minimum */
    atomic_int stop_vps;
    struct stress_vp vps[NR_RUN_VPS];
    volatile uint32_t *irq[NR_RUN_VPS][256]; /* irq_count[vp][vector] */
    volatile uint32_t *syn_messages, *syn_events, *syn_trig_events;
    /* what each thread sent (written by it; read while running by extend_until_stressed, and
     * after the join) */
    _Atomic unsigned long sent_irq[NR_SENDERS], sent_trig[NR_TRIGGERS], trig_updates[NR_TRIGGERS],
        trig_recreates[NR_TRIGGERS];
    _Atomic unsigned long sent_msg, sent_evt, sent_syntrig, port_cycles, doorbell_cycles, state_gets,
        state_busy, state_sets, map_cycles, resets, resets_busy;
    uint8_t *extra; /* host memory of the EXTRA_GPA range */
} st;

static bool running(void) { return !stress_failed() && stress_now_ns() < st.deadline_ns; }

static void *sender_main(void *opaque)
{
    unsigned i = (unsigned)(uintptr_t)opaque, vp = i % NR_RUN_VPS;
    uint32_t vector = SENDER_VECTOR(i);
    volatile uint32_t *count = st.irq[vp][vector];

    while (running()) {
        uint32_t before = stress_load(count);
        HRESULT hr = request_irq(st.vm, WHvX64InterruptTypeFixed, WHvX64InterruptDestinationModePhysical,
                                 WHvX64InterruptTriggerModeEdge, vp, vector);
        if (FAILED(hr)) {
            stress_fail("sender %u: WHvRequestInterrupt returned 0x%08x", i, (unsigned)hr);
            break;
        }
        st.sent_irq[i]++;
        if (!stress_wait_count(count, NULL, before + 1, HANDSHAKE_MS)) {
            stress_fail("sender %u: interrupt %lu (vector 0x%x to vp %u) not taken within %u ms (count %u)", i,
                        st.sent_irq[i], vector, vp, HANDSHAKE_MS, stress_load(count));
            break;
        }
    }
    return NULL;
}

/* Signals its trigger; every 16 signals moves it to the other VP, every 64 deletes it and
 * creates a new one (with a new event). */
static void *trigger_main(void *opaque)
{
    unsigned i = (unsigned)(uintptr_t)opaque, vp = i % NR_RUN_VPS;
    uint32_t vector = TRIGGER_VECTOR(i);
    volatile uint32_t *c0 = st.irq[0][vector], *c1 = st.irq[1][vector];
    WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(vp, vector);
    WHV_TRIGGER_HANDLE th = NULL;
    HANDLE ev = NULL;
    HRESULT hr = WHvCreateTrigger(st.vm->partition, &t, &th, &ev);

    while (SUCCEEDED(hr) && running()) {
        uint32_t before = stress_load(c0) + stress_load(c1);
        if (!OpenWhpSetEvent(ev)) {
            stress_fail("trigger %u: SetEvent failed", i);
            break;
        }
        unsigned long n = ++st.sent_trig[i];
        if (!stress_wait_count(c0, c1, before + 1, HANDSHAKE_MS)) {
            stress_fail("trigger %u: signal %lu (vector 0x%x, vp %u) not taken within %u ms", i, n, vector, vp,
                        HANDSHAKE_MS);
            break;
        }
        if (n % 64 == 0) {
            hr = WHvDeleteTrigger(st.vm->partition, th);
            OpenWhpCloseEvent(ev);
            ev = NULL;
            if (SUCCEEDED(hr))
                hr = WHvCreateTrigger(st.vm->partition, &t, &th, &ev);
            st.trig_recreates[i]++;
        } else if (n % 16 == 0) {
            vp = (vp + 1) % NR_RUN_VPS;
            t = irq_fixed_trigger(vp, vector);
            hr = WHvUpdateTriggerParameters(st.vm->partition, &t, th);
            st.trig_updates[i]++;
        }
    }
    if (FAILED(hr))
        stress_fail("trigger %u: create/update/delete returned 0x%08x", i, (unsigned)hr);
    if (ev) {
        WHvDeleteTrigger(st.vm->partition, th);
        OpenWhpCloseEvent(ev);
    }
    return NULL;
}

/* A SynicEvent trigger to VP 1 SINT_TRIG: the library's worker thread sets the flag. The flag
 * number changes every 16 signals (update), the trigger is recreated every 64. */
static void *synic_trigger_main(void *opaque)
{
    WHV_TRIGGER_PARAMETERS t;
    WHV_TRIGGER_HANDLE th = NULL;
    HANDLE ev = NULL;
    (void)opaque;
    memset(&t, 0, sizeof(t));
    t.TriggerType = WHvTriggerTypeSynicEvent;
    t.SynicEvent.VpIndex = 1;
    t.SynicEvent.TargetSint = SINT_TRIG;
    t.SynicEvent.FlagNumber = 5;
    HRESULT hr = WHvCreateTrigger(st.vm->partition, &t, &th, &ev);
    while (SUCCEEDED(hr) && running()) {
        uint32_t before = stress_load(st.syn_trig_events);
        if (!OpenWhpSetEvent(ev)) {
            stress_fail("SynicEvent trigger: SetEvent failed");
            break;
        }
        unsigned long n = ++st.sent_syntrig;
        if (!stress_wait_count(st.syn_trig_events, NULL, before + 1, HANDSHAKE_MS)) {
            stress_fail("SynicEvent trigger: signal %lu (flag %u) not seen by the guest within %u ms", n,
                        t.SynicEvent.FlagNumber, HANDSHAKE_MS);
            break;
        }
        if (n % 64 == 0) {
            hr = WHvDeleteTrigger(st.vm->partition, th);
            OpenWhpCloseEvent(ev);
            ev = NULL;
            if (SUCCEEDED(hr))
                hr = WHvCreateTrigger(st.vm->partition, &t, &th, &ev);
        } else if (n % 16 == 0) {
            t.SynicEvent.FlagNumber = (UINT16)((t.SynicEvent.FlagNumber * 7 + 3) % 2048);
            hr = WHvUpdateTriggerParameters(st.vm->partition, &t, th);
        }
    }
    if (FAILED(hr))
        stress_fail("SynicEvent trigger: create/update/delete returned 0x%08x", (unsigned)hr);
    if (ev) {
        WHvDeleteTrigger(st.vm->partition, th);
        OpenWhpCloseEvent(ev);
    }
    return NULL;
}

static void *message_main(void *opaque)
{
    struct hv_message m;
    (void)opaque;
    while (running()) {
        uint32_t before = stress_load(st.syn_messages);
        memset(&m, 0, sizeof(m));
        m.type = 1 + (uint32_t)(st.sent_msg % 1000);
        m.payload_size = 8;
        m.payload[0] = st.sent_msg;
        HRESULT hr = WHvPostVirtualProcessorSynicMessage(st.vm->partition, 0, SINT_MSG, &m, sizeof(m));
        if (FAILED(hr)) {
            stress_fail("post %lu returned 0x%08x (the slot was freed before the last count)", st.sent_msg + 1,
                        (unsigned)hr);
            break;
        }
        st.sent_msg++;
        if (!stress_wait_count(st.syn_messages, NULL, before + 1, HANDSHAKE_MS)) {
            stress_fail("message %lu not consumed within %u ms", st.sent_msg, HANDSHAKE_MS);
            break;
        }
    }
    return NULL;
}

static void *event_main(void *opaque)
{
    WHV_SYNIC_EVENT_PARAMETERS e;
    (void)opaque;
    memset(&e, 0, sizeof(e));
    e.VpIndex = 1;
    e.TargetSint = SINT_EVT;
    while (running()) {
        uint32_t before = stress_load(st.syn_events);
        BOOL newly = FALSE;
        e.FlagNumber = (UINT16)(st.sent_evt % 2048);
        HRESULT hr = WHvSignalVirtualProcessorSynicEvent(st.vm->partition, e, &newly);
        if (FAILED(hr) || !newly) {
            stress_fail("SynIC event %lu (flag %u): 0x%08x, newly signaled %d", st.sent_evt + 1, e.FlagNumber,
                        (unsigned)hr, newly);
            break;
        }
        st.sent_evt++;
        if (!stress_wait_count(st.syn_events, NULL, before + 1, HANDSHAKE_MS)) {
            stress_fail("SynIC event %lu not cleared by the guest within %u ms", st.sent_evt, HANDSHAKE_MS);
            break;
        }
    }
    return NULL;
}

/* Event notification ports (connection ids nobody signals) and MMIO doorbells come and go. A
 * doorbell costs ~8 ms per register/unregister here (KVM_IOEVENTFD): one cycle per 20 ms. */
static void *churn_main(void *opaque)
{
    HANDLE ev = OpenWhpCreateEvent(FALSE, FALSE);
    (void)opaque;
    if (!ev) {
        stress_fail("CreateEvent failed");
        return NULL;
    }
    while (running()) {
        WHV_NOTIFICATION_PORT_PARAMETERS prm;
        WHV_NOTIFICATION_PORT_HANDLE port = NULL;
        memset(&prm, 0, sizeof(prm));
        prm.NotificationPortType = WHvNotificationPortTypeEvent;
        prm.Event.ConnectionId = 0x100 + (UINT32)(st.port_cycles % 64);
        HRESULT hr = WHvCreateNotificationPort(st.vm->partition, &prm, ev, &port);
        if (SUCCEEDED(hr))
            hr = WHvDeleteNotificationPort(st.vm->partition, port);
        if (FAILED(hr)) {
            stress_fail("notification port cycle %lu: 0x%08x", st.port_cycles, (unsigned)hr);
            break;
        }
        st.port_cycles++;
        if (st.port_cycles % 4 == 0) {
            WHV_DOORBELL_MATCH_DATA m;
            memset(&m, 0, sizeof(m));
            /* Every other one over the range map_main maps and unmaps: a hole in its memslot. */
            m.GuestAddress = (st.doorbell_cycles & 1 ? EXTRA_GPA + GUEST_PAGE_SIZE : DB_GPA) +
                             (st.doorbell_cycles % 16) * 8;
            hr = WHvRegisterPartitionDoorbellEvent(st.vm->partition, &m, ev);
            if (SUCCEEDED(hr))
                hr = WHvUnregisterPartitionDoorbellEvent(st.vm->partition, &m);
            if (FAILED(hr)) {
                stress_fail("doorbell cycle %lu: 0x%08x", st.doorbell_cycles, (unsigned)hr);
                break;
            }
            st.doorbell_cycles++;
            stress_sleep_ms(20);
        }
    }
    OpenWhpCloseEvent(ev);
    return NULL;
}

/* Maps a range outside the guest's RAM, unmaps a page of it and maps it again, reads it back
 * through WHvReadGpaRange (not the page a doorbell may cover), and unmaps it: memslot changes
 * while the VPs run and the SynIC writes its pages. */
static void *map_main(void *opaque)
{
    const UINT32 rw = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite;
    WHV_ACCESS_GPA_CONTROLS c = {.AsUINT64 = 0};
    uint64_t back = 0;
    (void)opaque;
    while (running()) {
        uint64_t v = 0x6A70000000000000ull | st.map_cycles;
        memcpy(st.extra + 8 * GUEST_PAGE_SIZE, &v, sizeof(v));
        HRESULT hr = WHvMapGpaRange(st.vm->partition, st.extra, EXTRA_GPA, EXTRA_SIZE, rw);
        if (SUCCEEDED(hr))
            hr = WHvUnmapGpaRange(st.vm->partition, EXTRA_GPA + 4 * GUEST_PAGE_SIZE, GUEST_PAGE_SIZE);
        if (SUCCEEDED(hr))
            hr = WHvMapGpaRange(st.vm->partition, st.extra + 4 * GUEST_PAGE_SIZE, EXTRA_GPA + 4 * GUEST_PAGE_SIZE,
                                GUEST_PAGE_SIZE, rw);
        if (SUCCEEDED(hr))
            hr = WHvReadGpaRange(st.vm->partition, 0, EXTRA_GPA + 8 * GUEST_PAGE_SIZE, c, &back, sizeof(back));
        if (SUCCEEDED(hr) && back != v) {
            stress_fail("map cycle %lu: read 0x%llx back from the mapped range, host wrote 0x%llx", st.map_cycles,
                        (unsigned long long)back, (unsigned long long)v);
            break;
        }
        if (SUCCEEDED(hr))
            hr = WHvUnmapGpaRange(st.vm->partition, EXTRA_GPA, EXTRA_SIZE);
        if (FAILED(hr)) {
            stress_fail("map cycle %lu: 0x%08x", st.map_cycles, (unsigned)hr);
            break;
        }
        st.map_cycles++;
        stress_sleep_ms(10); /* memslot changes wait for KVM's SRCU (ms here): leave the others room */
    }
    return NULL;
}

/* Reads the running VPs' LAPIC state (S_OK between two runs, WHV_E_INVALID_VP_STATE during one)
 * and their target set, and writes VP 2's TPR through its state and reads it back. */
static void *state_main(void *opaque)
{
    static uint8_t page[4096];
    (void)opaque;
    while (running()) {
        UINT32 written = 0;
        for (uint32_t vp = 0; vp < NR_RUN_VPS; vp++) {
            HRESULT hr = WHvGetVirtualProcessorInterruptControllerState2(st.vm->partition, vp, page, sizeof(page),
                                                                         &written);
            if (hr == WHV_E_INVALID_VP_STATE) {
                st.state_busy++;
            } else if (FAILED(hr) || written != sizeof(page)) {
                stress_fail("state of running vp %u: 0x%08x (%u bytes)", vp, (unsigned)hr, written);
                return NULL;
            } else {
                st.state_gets++;
            }
        }
        UINT32 vps[NR_VPS], count = 0;
        HRESULT hr = WHvGetInterruptTargetVpSet(st.vm->partition, 1, WHvX64InterruptDestinationModePhysical, vps,
                                                NR_VPS, &count);
        if (FAILED(hr) || count != 1 || vps[0] != 1) {
            stress_fail("target set of APIC ID 1: 0x%08x, %u VPs, first %u", (unsigned)hr, count, vps[0]);
            return NULL;
        }
        uint32_t tpr = (uint32_t)(st.state_sets % 16) << 4;
        hr = WHvGetVirtualProcessorInterruptControllerState2(st.vm->partition, STATE_VP, page, sizeof(page), &written);
        if (SUCCEEDED(hr)) {
            memcpy(page + 0x80, &tpr, 4);
            hr = WHvSetVirtualProcessorInterruptControllerState2(st.vm->partition, STATE_VP, page, sizeof(page));
        }
        if (SUCCEEDED(hr)) {
            memset(page, 0xCC, sizeof(page));
            hr = WHvGetVirtualProcessorInterruptControllerState2(st.vm->partition, STATE_VP, page, sizeof(page),
                                                                 &written);
        }
        uint32_t back = 0;
        memcpy(&back, page + 0x80, 4);
        if (FAILED(hr) || back != tpr) {
            stress_fail("vp %u TPR through its LAPIC state: 0x%08x, wrote 0x%x, read 0x%x", STATE_VP, (unsigned)hr,
                        tpr, back);
            return NULL;
        }
        st.state_sets++;
    }
    return NULL;
}

/* One idle VP in a partition of its own: moves its RIP, resets the partition (S_OK, or
 * WHV_E_INVALID_VP_STATE for a VP that runs: none does here) and checks RIP is back at the
 * power-on value, while the other threads keep the main partition busy. */
static void *reset_main(void *opaque)
{
    WHV_PARTITION_HANDLE part = opaque;
    const WHV_REGISTER_NAME rip = WHvX64RegisterRip;
    while (running()) {
        WHV_REGISTER_VALUE v = {.Reg64 = MOVED_RIP};
        HRESULT hr = WHvSetVirtualProcessorRegisters(part, 0, &rip, 1, &v);
        if (FAILED(hr)) {
            stress_fail("reset partition: setting RIP returned 0x%08x", (unsigned)hr);
            break;
        }
        hr = WHvResetPartition(part);
        if (hr == WHV_E_INVALID_VP_STATE) {
            st.resets_busy++;
            continue;
        }
        if (hr != S_OK) {
            stress_fail("WHvResetPartition returned 0x%08x", (unsigned)hr);
            break;
        }
        hr = WHvGetVirtualProcessorRegisters(part, 0, &rip, 1, &v);
        if (FAILED(hr) || v.Reg64 != POWER_ON_RIP) {
            stress_fail("after WHvResetPartition: 0x%08x, RIP 0x%llx", (unsigned)hr, (unsigned long long)v.Reg64);
            break;
        }
        st.resets++;
    }
    return NULL;
}

static WHV_PARTITION_HANDLE reset_partition_create(void)
{
    WHV_PARTITION_HANDLE part;
    WHV_PARTITION_PROPERTY prop;
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = 1;
    TEST_ASSERT(SUCCEEDED(WHvCreatePartition(&part)) &&
                SUCCEEDED(WHvSetPartitionProperty(part, WHvPartitionPropertyCodeProcessorCount, &prop,
                                                  sizeof(prop))) &&
                SUCCEEDED(WHvSetupPartition(part)) && SUCCEEDED(WHvCreateVirtualProcessor(part, 0, 0)),
                "(the partition to reset)");
    return part;
}

/* Every path must reach its minimum (checked at the end: a stress that did not stress fails).
 * On a loaded machine the guest VPs get less CPU, so the run is extended a second at a time, up
 * to EXTEND_MAX_S, until they have; a path that never gets there still fails. */
#define EXTEND_MAX_S 30

static bool stressed_enough(void)
{
    for (unsigned i = 0; i < NR_SENDERS; i++)
        if (st.sent_irq[i] < 10)
            return false;
    return st.sent_trig[0] >= 64 && st.sent_trig[1] >= 64 && st.sent_msg >= 5 && st.sent_evt >= 5 &&
           st.sent_syntrig >= 5 && st.port_cycles >= 4 && st.doorbell_cycles >= 1 &&
           st.state_sets >= 10 && st.map_cycles >= 5 && st.resets >= 10;
}

static void extend_until_stressed(unsigned seconds)
{
    uint64_t limit = stress_now_ns() + (uint64_t)(seconds + EXTEND_MAX_S) * 1000000000ull;
    for (;;) {
        uint64_t deadline = atomic_load(&st.deadline_ns);
        while (stress_now_ns() + 100000000ull < deadline && !stress_failed())
            stress_sleep_ms(100);
        if (stress_failed() || deadline >= limit || stressed_enough())
            return;
        atomic_store(&st.deadline_ns, deadline + 1000000000ull);
    }
}

static void test_stress_all_paths_exactly_once(void)
{
    struct guest_vm_config cfg = {.nr_vps = NR_VPS, .apic_mode = WHvX64LocalApicEmulationModeX2Apic,
                                  .pre_setup = guest_synic_pre_setup};
    unsigned seconds = stress_env("STRESS_SECONDS", 3);

    static pthread_t threads[NR_SENDERS + NR_TRIGGERS + 7];
    unsigned nthreads = 0;

    guest_test_set_timeout(seconds + EXTEND_MAX_S + 60);
    memset(&st, 0, sizeof(st));
    stress_reset();
    guest_apic_x2 = 0;
    memset((void *)irq_count, 0, sizeof(irq_count));
    memset(hv_synic, 0, sizeof(hv_synic));
    static uint8_t extra[EXTRA_SIZE] __attribute__((aligned(4096)));
    struct guest_vm *vm = guest_vm_create(&cfg);
    WHV_PARTITION_HANDLE reset_part = reset_partition_create();
    st.vm = vm;
    st.extra = extra;
    stress_cfg.hypercall = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    for (uint32_t vp = 0; vp < NR_RUN_VPS; vp++) {
        stress_cfg.simp[vp] = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
        stress_cfg.siefp[vp] = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
        stress_cfg.input[vp] = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    }
    sync_global_to_guest(vm, stress_cfg);
    for (uint32_t vp = 0; vp < NR_VPS; vp++) {
        guest_vm_add_vp(vm, vp, guest_stress_main, vp, 0);
        if (vp > 0)
            guest_set_reg(vm, vp, WHvRegisterInternalActivityState, 0);
    }
    for (uint32_t vp = 0; vp < NR_RUN_VPS; vp++) {
        irq_expect_sync(vm, vp, IRQ_READY, NULL, NULL);
        for (unsigned v = 0; v < 256; v++)
            st.irq[vp][v] = stress_live(vm, &irq_count[vp][v]);
    }
    st.syn_messages = stress_live(vm, &hv_synic[0].messages[SINT_MSG]);
    st.syn_events = stress_live(vm, &hv_synic[1].events[SINT_EVT]);
    st.syn_trig_events = stress_live(vm, &hv_synic[1].events[SINT_TRIG]);

    for (uint32_t vp = 0; vp < NR_RUN_VPS; vp++) {
        st.vps[vp].fail_on_error = true;
        stress_vp_start(&st.vps[vp], vm, vp, &st.stop_vps);
    }
    stress_sleep_ms(5); /* into sti;hlt */
    uint64_t started = stress_now_ns();
    atomic_store(&st.deadline_ns, started + (uint64_t)seconds * 1000000000ull);
    for (unsigned i = 0; i < NR_SENDERS; i++)
        stress_spawn(&threads[nthreads++], sender_main, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < NR_TRIGGERS; i++)
        stress_spawn(&threads[nthreads++], trigger_main, (void *)(uintptr_t)i);
    void *(*const others[])(void *) = {synic_trigger_main, message_main, event_main,
                                       churn_main,         state_main,   map_main};
    for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        stress_spawn(&threads[nthreads++], others[i], NULL);
    stress_spawn(&threads[nthreads++], reset_main, reset_part);
    extend_until_stressed(seconds);
    for (unsigned i = 0; i < nthreads; i++)
        stress_join(&threads[i]);
    stress_sleep_ms(10);
    for (uint32_t vp = 0; vp < NR_RUN_VPS; vp++)
        TEST_ASSERT(stress_vp_stop(&st.vps[vp], 3000), "(vp %u did not leave WHvRunVirtualProcessor within 3 s "
                                                       "of its cancel)", vp);
    STRESS_CHECK();

    /* Exactly once: the guest counted what each sender sent, and nothing else. */
    uint32_t counts[NR_RUN_VPS][256];
    guest_vm_read(vm, (uint64_t)(uintptr_t)irq_count, counts, sizeof(counts));
    struct hv_synic_vp syn[NR_RUN_VPS];
    guest_vm_read(vm, (uint64_t)(uintptr_t)hv_synic, syn, sizeof(syn));
    unsigned long total = 0;
    for (unsigned i = 0; i < NR_SENDERS; i++) {
        uint32_t v = SENDER_VECTOR(i), vp = i % NR_RUN_VPS;
        TEST_ASSERT(counts[vp][v] == st.sent_irq[i] && counts[1 - vp][v] == 0,
                    "(vector 0x%x: sent %lu to vp %u, taken %u times there and %u times on vp %u)", v,
                    st.sent_irq[i], vp, counts[vp][v], counts[1 - vp][v], 1 - vp);
        total += st.sent_irq[i];
    }
    for (unsigned i = 0; i < NR_TRIGGERS; i++) {
        uint32_t v = TRIGGER_VECTOR(i);
        TEST_ASSERT(counts[0][v] + counts[1][v] == st.sent_trig[i],
                    "(trigger vector 0x%x: %lu signals, taken %u + %u times)", v, st.sent_trig[i], counts[0][v],
                    counts[1][v]);
        total += st.sent_trig[i];
    }
    for (uint32_t vp = 0; vp < NR_RUN_VPS; vp++)
        for (unsigned v = 0x40; v < 0x80; v++)
            if (v < 0x60 ? v - 0x40 >= NR_SENDERS : v - 0x60 >= NR_TRIGGERS)
                TEST_ASSERT(counts[vp][v] == 0, "(vector 0x%x nobody sent: taken %u times on vp %u)", v,
                            counts[vp][v], vp);
    TEST_ASSERT(syn[0].messages[SINT_MSG] == st.sent_msg, "(%lu messages posted, %u consumed)", st.sent_msg,
                syn[0].messages[SINT_MSG]);
    TEST_ASSERT(syn[1].events[SINT_EVT] == st.sent_evt, "(%lu SynIC events, %u flags cleared)", st.sent_evt,
                syn[1].events[SINT_EVT]);
    TEST_ASSERT(syn[1].events[SINT_TRIG] == st.sent_syntrig, "(%lu SynicEvent trigger signals, %u flags cleared)",
                st.sent_syntrig, syn[1].events[SINT_TRIG]);
    TEST_ASSERT(syn[0].messages[SINT_EVT] + syn[0].events[SINT_EVT] + syn[0].events[SINT_TRIG] +
                        syn[1].messages[SINT_MSG] + syn[1].events[SINT_MSG] ==
                    0,
                "(a SynIC delivery reached the wrong VP or SINT)");
    total += st.sent_msg + st.sent_evt + st.sent_syntrig;
    printf("  %u s: %lu interrupts (%lu+%lu+%lu+%lu), %lu+%lu trigger signals (%lu updates, %lu recreations), "
           "%lu SynicEvent trigger signals, %lu messages, %lu SynIC events: %lu deliveries, each counted once\n",
           (unsigned)((atomic_load(&st.deadline_ns) - started) / 1000000000ull), total - (st.sent_trig[0] + st.sent_trig[1] + st.sent_msg + st.sent_evt + st.sent_syntrig),
           st.sent_irq[0], st.sent_irq[1], st.sent_irq[2], st.sent_irq[3], st.sent_trig[0], st.sent_trig[1],
           st.trig_updates[0] + st.trig_updates[1],
           st.trig_recreates[0] + st.trig_recreates[1], st.sent_syntrig, st.sent_msg, st.sent_evt, total);
    printf("  meanwhile: %lu port and %lu doorbell create/delete cycles, %lu map/unmap cycles, %lu LAPIC state "
           "reads (%lu refused while running), %lu state writes, %lu resets of the idle partition (%lu "
           "refused); runs: vp0 %lu, vp1 %lu\n",
           st.port_cycles, st.doorbell_cycles, st.map_cycles, st.state_gets, st.state_busy, st.state_sets,
           st.resets, st.resets_busy, st.vps[0].runs, st.vps[1].runs);
    /* A stress that did not stress is a failure: every path must have been exercised. */
    for (unsigned i = 0; i < NR_SENDERS; i++)
        TEST_ASSERT(st.sent_irq[i] >= 10, "(sender %u sent only %lu)", i, st.sent_irq[i]);
    TEST_ASSERT(st.sent_trig[0] >= 64 && st.sent_trig[1] >= 64, "(too few trigger signals to recreate a trigger)");
    TEST_ASSERT(st.sent_msg >= 5 && st.sent_evt >= 5 && st.sent_syntrig >= 5);
    TEST_ASSERT(st.port_cycles >= 4 && st.doorbell_cycles >= 1 && st.state_sets >= 10 && st.map_cycles >= 5);
    TEST_ASSERT(st.resets >= 10, "(only %lu resets of the idle partition)", st.resets);
    TEST_ASSERT(SUCCEEDED(WHvDeletePartition(reset_part)));
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_stress_all_paths_exactly_once),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
