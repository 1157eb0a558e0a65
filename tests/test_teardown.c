/* Teardown under load: WHvDeletePartition while both VPs are inside WHvRunVirtualProcessor on
 * their own threads and other threads request interrupts, signal Interrupt and SynicEvent
 * triggers, post SynIC messages, signal SynIC events, create notification ports, register
 * doorbells and read the VPs' LAPICs; and
 * WHvDeleteVirtualProcessor of one VP while the other runs and interrupts fly. Runs must return
 * (Canceled, then E_HANDLE), every later call on the deleted partition gets E_HANDLE and on the
 * deleted VP WHV_E_VP_DOES_NOT_EXIST, and many cycles leak no fd, thread or memory.
 * TEARDOWN_CYCLES (default 20) sets the number of partition cycles. */
#include <openwhp/event.h>

#include "guest_apic.h"
#include "guest_stress.h"
#include "guest_synic.h"

#define NR_VPS 2
#define SINT_MSG 2
#define SINT_EVT 3
#define SINT_TRIG 4
#define VECTOR_IRQ 0x41
#define VECTOR_TRIGGER 0x61

/* ---- Guest: x2APIC, the SynIC, counting handlers, sti;hlt forever ---- */

static struct {
    uint64_t hypercall;
    uint64_t simp[NR_VPS], siefp[NR_VPS], input[NR_VPS];
} td_cfg;

GUEST_CODE static void guest_teardown_main(uint64_t index)
{
    guest_cli();
    apic_enable(true);
    if (index == 0) {
        GUEST_ASSERT(hv_detect());
        hv_hypercall_init(td_cfg.hypercall);
    }
    GUEST_ASSERT_EQ(hv_synic_init(td_cfg.simp[index], td_cfg.siefp[index], td_cfg.input[index]), index);
    hv_sint_setup(SINT_MSG, 0xA2, 0);
    hv_sint_setup(SINT_EVT, 0xA3, 0);
    hv_sint_setup(SINT_TRIG, 0xA4, 0);
    for (unsigned v = 0x40; v < 0x80; v++)
        guest_install_handler((uint8_t)v, irq_count_handler);
    GUEST_SYNC(IRQ_READY);
    for (;;)
        guest_sti_hlt();
}

/* A partition whose VPs are at READY (interrupts about to be enabled). */
static struct guest_vm *td_vm_create(void)
{
    struct guest_vm_config cfg = {.nr_vps = NR_VPS, .apic_mode = WHvX64LocalApicEmulationModeX2Apic,
                                  .pre_setup = guest_synic_pre_setup};
    guest_apic_x2 = 0;
    memset((void *)irq_count, 0, sizeof(irq_count));
    memset(hv_synic, 0, sizeof(hv_synic));
    struct guest_vm *vm = guest_vm_create(&cfg);
    td_cfg.hypercall = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    for (uint32_t vp = 0; vp < NR_VPS; vp++) {
        td_cfg.simp[vp] = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
        td_cfg.siefp[vp] = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
        td_cfg.input[vp] = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    }
    sync_global_to_guest(vm, td_cfg);
    for (uint32_t vp = 0; vp < NR_VPS; vp++) {
        guest_vm_add_vp(vm, vp, guest_teardown_main, vp, 0);
        if (vp > 0)
            guest_set_reg(vm, vp, WHvRegisterInternalActivityState, 0);
    }
    for (uint32_t vp = 0; vp < NR_VPS; vp++)
        irq_expect_sync(vm, vp, IRQ_READY, NULL, NULL);
    return vm;
}

static HRESULT fixed_to(WHV_PARTITION_HANDLE p, uint32_t vp, uint32_t vector)
{
    WHV_INTERRUPT_CONTROL ctl;
    memset(&ctl, 0, sizeof(ctl));
    ctl.Type = WHvX64InterruptTypeFixed;
    ctl.DestinationMode = WHvX64InterruptDestinationModePhysical;
    ctl.TriggerMode = WHvX64InterruptTriggerModeEdge;
    ctl.Destination = vp;
    ctl.Vector = vector;
    return WHvRequestInterrupt(p, &ctl, sizeof(ctl));
}

static WHV_SYNIC_EVENT_PARAMETERS synic_event(uint32_t vp, uint32_t sint, uint32_t flag)
{
    WHV_SYNIC_EVENT_PARAMETERS e;
    memset(&e, 0, sizeof(e));
    e.VpIndex = vp;
    e.TargetSint = (UINT8)sint;
    e.FlagNumber = (UINT16)flag;
    return e;
}

/* ---- Partition deleted under load ---- */

/* A thread that calls one API in a loop on a partition until the partition is gone. Every
 * result before E_HANDLE must be one the call can give on a live partition. */
struct caller {
    pthread_t thread;
    WHV_PARTITION_HANDLE partition;
    HANDLE event; /* signal_main: the trigger's event (it outlives the partition) */
    atomic_int *stop;
    unsigned long calls;
    HRESULT last;
};

static void *request_main(void *opaque)
{
    struct caller *c = opaque;
    for (; !stress_failed(); c->calls++) {
        c->last = fixed_to(c->partition, c->calls % NR_VPS, VECTOR_IRQ);
        if (c->last == E_HANDLE)
            break;
        if (FAILED(c->last)) {
            stress_fail("WHvRequestInterrupt on a live partition: 0x%08x", (unsigned)c->last);
            break;
        }
    }
    return NULL;
}

static void *post_main(void *opaque)
{
    struct caller *c = opaque;
    struct hv_message m;
    memset(&m, 0, sizeof(m));
    m.type = 7;
    m.payload_size = 8;
    for (; !stress_failed(); c->calls++) {
        c->last = WHvPostVirtualProcessorSynicMessage(c->partition, c->calls % NR_VPS, SINT_MSG, &m, sizeof(m));
        if (c->last == E_HANDLE)
            break;
        if (FAILED(c->last) && c->last != ERROR_HV_OBJECT_IN_USE) { /* a full slot is fine */
            stress_fail("WHvPostVirtualProcessorSynicMessage on a live partition: 0x%08x", (unsigned)c->last);
            break;
        }
    }
    return NULL;
}

static void *synic_event_main(void *opaque)
{
    struct caller *c = opaque;
    for (; !stress_failed(); c->calls++) {
        c->last = WHvSignalVirtualProcessorSynicEvent(c->partition, synic_event(c->calls % NR_VPS, SINT_EVT,
                                                                                 (uint32_t)(c->calls % 2048)),
                                                      NULL);
        if (c->last == E_HANDLE)
            break;
        if (FAILED(c->last)) {
            stress_fail("WHvSignalVirtualProcessorSynicEvent on a live partition: 0x%08x", (unsigned)c->last);
            break;
        }
    }
    return NULL;
}

static void *port_main(void *opaque)
{
    struct caller *c = opaque;
    for (; !stress_failed(); c->calls++) {
        WHV_NOTIFICATION_PORT_PARAMETERS prm;
        WHV_NOTIFICATION_PORT_HANDLE port;
        memset(&prm, 0, sizeof(prm));
        prm.NotificationPortType = WHvNotificationPortTypeEvent;
        prm.Event.ConnectionId = 0x200 + (UINT32)(c->calls % 16);
        c->last = WHvCreateNotificationPort(c->partition, &prm, c->event, &port);
        /* Ports left behind by the delete are the partition's to free. */
        if (SUCCEEDED(c->last) && (c->calls & 1))
            c->last = WHvDeleteNotificationPort(c->partition, port);
        if (c->last == E_HANDLE)
            break;
        if (FAILED(c->last) && c->last != ERROR_HV_INVALID_PARAMETER) { /* the id is still taken */
            stress_fail("notification port on a live partition: 0x%08x", (unsigned)c->last);
            break;
        }
    }
    return NULL;
}

/* Registers and unregisters an MMIO doorbell (~8 ms each here). */
static void *doorbell_main(void *opaque)
{
    struct caller *c = opaque;
    WHV_DOORBELL_MATCH_DATA m;
    memset(&m, 0, sizeof(m));
    m.GuestAddress = 0xD0000000ull;
    for (; !stress_failed(); c->calls++) {
        c->last = WHvRegisterPartitionDoorbellEvent(c->partition, &m, c->event);
        if (SUCCEEDED(c->last))
            c->last = WHvUnregisterPartitionDoorbellEvent(c->partition, &m);
        if (c->last == E_HANDLE)
            break;
        if (FAILED(c->last)) {
            stress_fail("doorbell on a live partition: 0x%08x", (unsigned)c->last);
            break;
        }
    }
    return NULL;
}

/* Reads the running VPs' LAPICs (each read kicks the VP out of KVM_RUN and holds it). */
static void *target_set_main(void *opaque)
{
    struct caller *c = opaque;
    for (; !stress_failed(); c->calls++) {
        UINT32 vps[NR_VPS], count = 0;
        c->last = WHvGetInterruptTargetVpSet(c->partition, c->calls % NR_VPS, WHvX64InterruptDestinationModePhysical,
                                             vps, NR_VPS, &count);
        if (c->last == E_HANDLE)
            break;
        if (FAILED(c->last) || count != 1) {
            stress_fail("WHvGetInterruptTargetVpSet on a live partition: 0x%08x, %u VPs", (unsigned)c->last, count);
            break;
        }
    }
    return NULL;
}

/* Signals a trigger's event until told to stop: the event stays the caller's after the delete. */
static void *signal_main(void *opaque)
{
    struct caller *c = opaque;
    while (!atomic_load(c->stop) && !stress_failed()) {
        if (!OpenWhpSetEvent(c->event)) {
            stress_fail("SetEvent on a trigger's event failed (the partition must not close it)");
            break;
        }
        c->calls++;
    }
    return NULL;
}

/* Every call on a deleted partition handle is E_HANDLE. */
static void expect_partition_gone(WHV_PARTITION_HANDLE p, WHV_TRIGGER_HANDLE trigger)
{
    WHV_RUN_VP_EXIT_CONTEXT exit;
    WHV_REGISTER_NAME name = WHvX64RegisterRip;
    WHV_REGISTER_VALUE value;
    WHV_PARTITION_PROPERTY prop;
    struct hv_message m;
    uint8_t page[4096];
    UINT32 written;

    memset(&m, 0, sizeof(m));
    m.type = 1;
    TEST_HR_EQ(WHvRunVirtualProcessor(p, 0, &exit, sizeof(exit)), E_HANDLE);
    TEST_HR_EQ(WHvCancelRunVirtualProcessor(p, 0, 0), E_HANDLE);
    TEST_HR_EQ(WHvGetVirtualProcessorRegisters(p, 0, &name, 1, &value), E_HANDLE);
    TEST_HR_EQ(fixed_to(p, 0, VECTOR_IRQ), E_HANDLE);
    TEST_HR_EQ(WHvPostVirtualProcessorSynicMessage(p, 0, SINT_MSG, &m, sizeof(m)), E_HANDLE);
    TEST_HR_EQ(WHvSignalVirtualProcessorSynicEvent(p, synic_event(0, SINT_EVT, 1), NULL), E_HANDLE);
    TEST_HR_EQ(WHvGetVirtualProcessorInterruptControllerState2(p, 0, page, sizeof(page), &written), E_HANDLE);
    TEST_HR_EQ(WHvDeleteTrigger(p, trigger), E_HANDLE);
    TEST_HR_EQ(WHvCreateVirtualProcessor(p, 0, 0), E_HANDLE);
    TEST_HR_EQ(WHvDeleteVirtualProcessor(p, 0), E_HANDLE);
    TEST_HR_EQ(WHvGetPartitionProperty(p, WHvPartitionPropertyCodeProcessorCount, &prop, sizeof(prop), &written),
               E_HANDLE);
    TEST_HR_EQ(WHvDeletePartition(p), E_HANDLE);
}

enum { C_REQUEST, C_POST, C_EVENT, C_PORT, C_DOORBELL, C_TARGETS, C_SIGNAL_IRQ, C_SIGNAL_SYNIC, NR_CALLERS };

static struct stress_vp td_vps[NR_VPS];
static struct caller callers[NR_CALLERS];

/* One cycle: a loaded partition deleted from under its callers. Returns the delete's duration. */
static double delete_cycle(unsigned cycle)
{
    static void *(*const mains[NR_CALLERS])(void *) = {request_main,    post_main,   synic_event_main,
                                                       port_main,       doorbell_main, target_set_main,
                                                       signal_main,     signal_main};
    static atomic_int stop_vps, stop_signals;
    struct guest_vm *vm = td_vm_create();
    WHV_PARTITION_HANDLE p = vm->partition;
    WHV_TRIGGER_PARAMETERS t;
    WHV_TRIGGER_HANDLE th_irq, th_synic;
    HANDLE ev_irq, ev_synic, ev_port;

    t = irq_fixed_trigger(1, VECTOR_TRIGGER);
    TEST_HR(WHvCreateTrigger(p, &t, &th_irq, &ev_irq));
    memset(&t, 0, sizeof(t));
    t.TriggerType = WHvTriggerTypeSynicEvent;
    t.SynicEvent = synic_event(0, SINT_TRIG, 9);
    TEST_HR(WHvCreateTrigger(p, &t, &th_synic, &ev_synic));
    ev_port = OpenWhpCreateEvent(FALSE, FALSE);
    TEST_ASSERT(ev_port != NULL);

    atomic_store(&stop_vps, 0);
    atomic_store(&stop_signals, 0);
    for (uint32_t vp = 0; vp < NR_VPS; vp++)
        stress_vp_start(&td_vps[vp], vm, vp, &stop_vps);
    for (unsigned i = 0; i < NR_CALLERS; i++) {
        callers[i] = (struct caller){.partition = p, .stop = &stop_signals};
        callers[i].event = i == C_SIGNAL_IRQ ? ev_irq : i == C_SIGNAL_SYNIC ? ev_synic : ev_port;
        stress_spawn(&callers[i].thread, mains[i], &callers[i]);
    }
    stress_sleep_ms(2 + cycle % 11); /* a different moment of the load each cycle */

    uint64_t t0 = stress_now_ns();
    TEST_HR(WHvDeletePartition(p));
    double ms = (double)(stress_now_ns() - t0) / 1e6;

    /* The runs end (Canceled, then E_HANDLE) and so do the callers (E_HANDLE). */
    for (uint32_t vp = 0; vp < NR_VPS; vp++)
        TEST_ASSERT(stress_vp_join(&td_vps[vp], 2000), "(vp %u still inside WHvRunVirtualProcessor 2 s after "
                                                        "WHvDeletePartition)", vp);
    atomic_store(&stop_signals, 1);
    for (unsigned i = 0; i < NR_CALLERS; i++)
        stress_join(&callers[i].thread);
    STRESS_CHECK();
    for (uint32_t vp = 0; vp < NR_VPS; vp++)
        TEST_ASSERT(td_vps[vp].last_hr == E_HANDLE, "(vp %u: the run after the delete returned 0x%08x)", vp,
                    (unsigned)td_vps[vp].last_hr);
    for (unsigned i = 0; i < C_SIGNAL_IRQ; i++)
        TEST_ASSERT(callers[i].last == E_HANDLE, "(caller %u ended with 0x%08x)", i, (unsigned)callers[i].last);
    expect_partition_gone(p, th_irq);
    /* The trigger events are the caller's: still valid, closed here. */
    TEST_ASSERT(OpenWhpSetEvent(ev_irq) && OpenWhpSetEvent(ev_synic));
    TEST_ASSERT(OpenWhpCloseEvent(ev_irq) && OpenWhpCloseEvent(ev_synic) && OpenWhpCloseEvent(ev_port));
    guest_vm_destroy(vm); /* its own delete calls get E_HANDLE; the RAM is unmapped */
    return ms;
}

static void test_delete_partition_under_load_leaks_nothing(void)
{
    unsigned cycles = stress_env("TEARDOWN_CYCLES", 20), warmup = 3;
    double worst = 0, total = 0;

    guest_test_set_timeout(60 + (cycles + warmup) / 2); /* a cycle takes ~50 ms here, 0.5 s allowed */
    stress_reset();
    for (unsigned i = 0; i < warmup; i++)
        delete_cycle(i);
    struct stress_usage before = stress_usage_now();
    for (unsigned i = 0; i < cycles; i++) {
        double ms = delete_cycle(warmup + i);
        total += ms;
        if (ms > worst)
            worst = ms;
    }
    struct stress_usage after = stress_usage_now();
    unsigned long calls = 0;
    for (unsigned i = 0; i < NR_CALLERS; i++)
        calls += callers[i].calls;
    printf("  WHvDeletePartition under load: %.2f ms average, %.2f ms worst (%lu calls in the last cycle)\n",
           total / cycles, worst, calls);
    STRESS_EXPECT_NO_GROWTH("partition cycles under load", cycles, before, after);
}

/* ---- A VP deleted while the other runs ---- */

static struct {
    WHV_PARTITION_HANDLE partition;
    volatile uint32_t *vp0_count;
    atomic_int stop;
    unsigned long handshakes, to_vp1, vp1_ok, vp1_gone;
} vd;

/* Interrupts to VP 0 (each taken before the next) and to VP 1, which comes and goes. */
static void *vp_delete_sender(void *opaque)
{
    (void)opaque;
    while (!atomic_load(&vd.stop) && !stress_failed()) {
        uint32_t before = stress_load(vd.vp0_count);
        HRESULT hr = fixed_to(vd.partition, 0, VECTOR_IRQ);
        if (FAILED(hr) || !stress_wait_count(vd.vp0_count, NULL, before + 1, 3000)) {
            stress_fail("interrupt %lu to the running vp 0: 0x%08x, count %u", vd.handshakes + 1, (unsigned)hr,
                        stress_load(vd.vp0_count));
            break;
        }
        vd.handshakes++;
        hr = fixed_to(vd.partition, 1, VECTOR_IRQ);
        /* To the APIC ID of a deleted VP: accepted (docs/design.md), the dormant vCPU takes it. */
        if (FAILED(hr)) {
            stress_fail("interrupt to vp 1 (deleted or not): 0x%08x", (unsigned)hr);
            break;
        }
        vd.to_vp1++;
        BOOL newly;
        hr = WHvSignalVirtualProcessorSynicEvent(vd.partition, synic_event(1, SINT_EVT, 1), &newly);
        if (SUCCEEDED(hr))
            vd.vp1_ok++;
        else if (hr == WHV_E_VP_DOES_NOT_EXIST || hr == ERROR_HV_INVALID_SYNIC_STATE) /* gone, or reset */
            vd.vp1_gone++;
        else {
            stress_fail("SynIC event to vp 1: 0x%08x", (unsigned)hr);
            break;
        }
    }
    return NULL;
}

static void test_delete_vp_while_other_runs(void)
{
    struct guest_vm *vm = td_vm_create();
    static atomic_int stop_vp0, stop_vp1;
    static struct stress_vp vp0, vp1;
    unsigned cycles = stress_env("TEARDOWN_VP_CYCLES", 50);
    static pthread_t sender;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    WHV_REGISTER_NAME name = WHvX64RegisterRip;
    WHV_REGISTER_VALUE value;
    struct hv_message m;
    uint8_t page[4096];
    UINT32 written;

    guest_test_set_timeout(60 + cycles / 2);
    stress_reset();
    memset(&vd, 0, sizeof(vd));
    memset(&m, 0, sizeof(m));
    m.type = 1;
    vd.partition = vm->partition;
    vd.vp0_count = stress_live(vm, &irq_count[0][VECTOR_IRQ]);
    atomic_store(&stop_vp0, 0);
    vp0.fail_on_error = true;
    stress_vp_start(&vp0, vm, 0, &stop_vp0);
    stress_spawn(&sender, vp_delete_sender, NULL);

    for (unsigned i = 0; i < cycles && !stress_failed(); i++) {
        /* VP 1 runs: deleting it is refused and leaves its run alone. */
        atomic_store(&stop_vp1, 0);
        stress_vp_start(&vp1, vm, 1, &stop_vp1);
        stress_sleep_ms(2);
        HRESULT hr = WHvDeleteVirtualProcessor(vm->partition, 1);
        TEST_ASSERT(hr == WHV_E_INVALID_VP_STATE || hr == S_OK, "(delete of a running vp 1: 0x%08x)", (unsigned)hr);
        if (hr == WHV_E_INVALID_VP_STATE) {
            /* Refused while it runs, and the run goes on until it is canceled. */
            TEST_ASSERT(!atomic_load(&vp1.done), "(a refused delete ended the run: 0x%08x)", (unsigned)vp1.last_hr);
            TEST_ASSERT(stress_vp_stop(&vp1, 2000), "(vp 1 not canceled within 2 s)");
            TEST_ASSERT(vp1.canceled >= 1 && SUCCEEDED(vp1.last_hr));
            TEST_HR(WHvDeleteVirtualProcessor(vm->partition, 1));
        } else {
            /* The thread had not entered its run yet: the run finds the VP gone. */
            TEST_ASSERT(stress_vp_join(&vp1, 2000));
            TEST_HR_EQ(vp1.last_hr, WHV_E_VP_DOES_NOT_EXIST);
        }
        TEST_HR_EQ(WHvRunVirtualProcessor(vm->partition, 1, &exit, sizeof(exit)), WHV_E_VP_DOES_NOT_EXIST);
        TEST_HR_EQ(WHvCancelRunVirtualProcessor(vm->partition, 1, 0), WHV_E_VP_DOES_NOT_EXIST);
        TEST_HR_EQ(WHvGetVirtualProcessorRegisters(vm->partition, 1, &name, 1, &value), WHV_E_VP_DOES_NOT_EXIST);
        TEST_HR_EQ(WHvPostVirtualProcessorSynicMessage(vm->partition, 1, SINT_MSG, &m, sizeof(m)),
                   WHV_E_VP_DOES_NOT_EXIST);
        TEST_HR_EQ(WHvGetVirtualProcessorInterruptControllerState2(vm->partition, 1, page, sizeof(page), &written),
                   WHV_E_VP_DOES_NOT_EXIST);
        TEST_HR_EQ(WHvDeleteVirtualProcessor(vm->partition, 1), WHV_E_VP_DOES_NOT_EXIST);
        stress_sleep_ms(1);
        TEST_HR(WHvCreateVirtualProcessor(vm->partition, 1, 0));
        /* Re-created at its power-on state: an AP waiting for INIT/SIPI. */
        TEST_ASSERT_EQ(guest_get_reg_value(vm, 1, WHvRegisterInternalActivityState).InternalActivity.StartupSuspend,
                       1);
    }
    atomic_store(&vd.stop, 1);
    stress_join(&sender);
    TEST_ASSERT(stress_vp_stop(&vp0, 2000));
    STRESS_CHECK();
    printf("  %u delete/re-create cycles of vp 1; meanwhile vp 0 took %lu interrupts one by one, %lu went to vp 1, "
           "SynIC events to vp 1: %lu accepted, %lu refused\n",
           cycles, vd.handshakes, vd.to_vp1, vd.vp1_ok, vd.vp1_gone);
    TEST_ASSERT(vd.handshakes >= cycles, "(vp 0 took only %lu interrupts)", vd.handshakes);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_delete_vp_while_other_runs),
        GUEST_TEST(test_delete_partition_under_load_leaks_nothing),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
