/* The Hyper-V SynIC seen by a guest that uses it through the guest driver (guest/guest_synic.h):
 * CPUID leaves with and without synthetic features, the synthetic MSRs' reset values and #GP
 * rules, host-posted messages (slots, payload, vector, VP; a busy slot, MessagePending, EOM and
 * SynicSintDeliverable), event flags and NewlySignaled, masked and polling SINTs, HvSignalEvent
 * to unknown connections and to Event notification ports (no user-space exit), HvPostMessage as
 * a Hypercall exit, malformed hypercalls, SIM/SIEF page state and SynIC registers, and moving
 * the pages. Guests wait with sti;hlt; the host asserts exact counts. */
#include <poll.h>
#include <stdio.h>

#include <openwhp/event.h>

#include "guest_apic.h"
#include "guest_synic.h"

#define NR_VPS 2
#define XAPIC WHvX64LocalApicEmulationModeXApic
#define X2APIC WHvX64LocalApicEmulationModeX2Apic

/* ---- Guest configuration (written by the host before the VPs start) ---- */

struct syn_vp_cfg {
    uint64_t simp, siefp, input; /* GPAs; simp/siefp 0 = off */
    uint8_t vector[HV_SINT_COUNT]; /* 0 = leave the SINT at its reset value */
    uint64_t sint_flags[HV_SINT_COUNT];
};

static struct {
    uint64_t hypercall; /* GPA */
    uint32_t x2apic;
    uint64_t spare[4]; /* more pages for a test's own use (GPAs) */
    struct syn_vp_cfg vp[NR_VPS];
} syn_cfg;

/* APIC, flush-vector handler, hypercall page (VP 0), SynIC pages and SINTs; interrupts off. */
GUEST_CODE static void syn_guest_setup(uint64_t index)
{
    const struct syn_vp_cfg *c = &syn_cfg.vp[index];

    guest_cli();
    apic_enable(syn_cfg.x2apic);
    guest_install_handler(IRQ_FLUSH_VECTOR, irq_count_handler);
    if (index == 0) {
        GUEST_ASSERT(hv_detect());
        hv_hypercall_init(syn_cfg.hypercall);
    }
    GUEST_ASSERT_EQ(hv_synic_init(c->simp, c->siefp, c->input), index);
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        if (c->vector[s])
            hv_sint_setup(s, c->vector[s], c->sint_flags[s]);
}

/* Rounds as in test_interrupts.c: READY with interrupts off, then sti;hlt until the flush vector
 * (the lowest priority, so every SINT interrupt pending before it has been handled). */
GUEST_CODE static void guest_synic_main(uint64_t index)
{
    syn_guest_setup(index);
    for (;;) {
        GUEST_SYNC(IRQ_READY);
        guest_wait_vector((uint32_t)index, IRQ_FLUSH_VECTOR);
    }
}

/* ---- Host helpers ---- */

struct syn_opts {
    bool no_bank;
    uint64_t extended_exits;
};

static void syn_pre_setup(WHV_PARTITION_HANDLE partition, void *opaque)
{
    const struct syn_opts *o = opaque;
    WHV_PARTITION_PROPERTY prop;

    if (!o->no_bank)
        TEST_HR(guest_synic_enable(partition));
    if (o->extended_exits) {
        memset(&prop, 0, sizeof(prop));
        prop.ExtendedVmExits.AsUINT64 = o->extended_exits;
        TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)));
    }
}

/* A partition with nr VPs and the bank (unless no_bank), guest pages allocated in syn_cfg. */
static struct guest_vm *syn_vm_create(WHV_X64_LOCAL_APIC_EMULATION_MODE mode, uint32_t nr, bool no_bank,
                                      uint64_t extended_exits)
{
    static struct syn_opts opts;
    struct guest_vm_config cfg = {.nr_vps = nr, .apic_mode = mode, .pre_setup = syn_pre_setup, .opaque = &opts};
    struct guest_vm *vm;

    opts = (struct syn_opts){no_bank, extended_exits};
    guest_apic_x2 = 0;
    memset((void *)irq_count, 0, sizeof(irq_count));
    memset(&syn_cfg, 0, sizeof(syn_cfg));
    vm = guest_vm_create(&cfg);
    if (mode == XAPIC)
        apic_map(vm);
    syn_cfg.x2apic = mode == X2APIC;
    syn_cfg.hypercall = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    for (unsigned i = 0; i < 4; i++)
        syn_cfg.spare[i] = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    for (uint32_t vp = 0; vp < nr; vp++) {
        syn_cfg.vp[vp].simp = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
        syn_cfg.vp[vp].siefp = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
        syn_cfg.vp[vp].input = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    }
    return vm;
}

/* Copies syn_cfg into the guest and creates VPs 0..nr-1 at entry(index) (APs runnable). */
static void syn_add_vps(struct guest_vm *vm, uint32_t nr, const void *entry)
{
    sync_global_to_guest(vm, syn_cfg);
    for (uint32_t vp = 0; vp < nr; vp++) {
        guest_vm_add_vp(vm, vp, entry, vp, 0);
        if (vp > 0)
            guest_set_reg(vm, vp, WHvRegisterInternalActivityState, 0);
    }
}

static struct hv_synic_vp host_syn; /* the guest driver's record of one VP, read by syn_read */

static void syn_read(struct guest_vm *vm, uint32_t vp)
{
    guest_vm_read(vm, (uint64_t)(uintptr_t)&hv_synic[vp], &host_syn, sizeof(host_syn));
}

static void make_message(struct hv_message *m, uint32_t type, uint8_t seed, uint8_t size)
{
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->payload_size = size;
    m->origin = 0x0123456789ABCDEFull ^ seed;
    for (uint8_t i = 0; i < size; i++)
        ((uint8_t *)m->payload)[i] = (uint8_t)(seed + i);
}

static HRESULT post(struct guest_vm *vm, uint32_t vp, uint32_t sint, const struct hv_message *m)
{
    return WHvPostVirtualProcessorSynicMessage(vm->partition, vp, sint, m, sizeof(*m));
}

static HRESULT signal_flag(struct guest_vm *vm, uint32_t vp, uint32_t sint, uint32_t flag, BOOL *newly)
{
    WHV_SYNIC_EVENT_PARAMETERS e;
    memset(&e, 0, sizeof(e));
    e.VpIndex = vp;
    e.TargetSint = (UINT8)sint;
    e.FlagNumber = (UINT16)flag;
    return WHvSignalVirtualProcessorSynicEvent(vm->partition, e, newly);
}

static void get_page(struct guest_vm *vm, uint32_t vp, WHV_VIRTUAL_PROCESSOR_STATE_TYPE type, uint8_t page[4096])
{
    UINT32 written = 0;
    TEST_HR(WHvGetVirtualProcessorState(vm->partition, vp, type, page, 4096, &written));
    TEST_ASSERT_EQ(written, 4096);
}

#define SIM WHvVirtualProcessorStateTypeSynicMessagePage
#define SIEF WHvVirtualProcessorStateTypeSynicEventFlagPage

/* Exits handled while a round runs: SynicSintDeliverable (recorded; the VMM posts its queued
 * message) and Hypercall (recorded; answered with the next status of the script). */
struct vmm_log {
    unsigned deliverable_exits;
    uint16_t deliverable_sints;
    const struct hv_message *queued; /* posted at SynicSintDeliverable */
    uint32_t queued_vp, queued_sint;
    HRESULT queued_hr;
    unsigned hypercalls;
    WHV_HYPERCALL_CONTEXT hc[8];
    uint8_t hc_input[8][256];
    uint8_t hc_length[8];
    uint64_t hc_reply[8];
};

static bool vmm_exit(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, void *opaque)
{
    struct vmm_log *log = opaque;
    WHV_ACCESS_GPA_CONTROLS gpa_controls = {.AsUINT64 = 0};

    if (exit->ExitReason == WHvRunVpExitReasonSynicSintDeliverable) {
        log->deliverable_exits++;
        log->deliverable_sints |= exit->SynicSintDeliverable.DeliverableSints;
        if (log->queued) {
            log->queued_hr = post(vm, log->queued_vp, log->queued_sint, log->queued);
            log->queued = NULL;
        }
        return true;
    }
    if (exit->ExitReason == WHvRunVpExitReasonHypercall && log->hypercalls < 8) {
        unsigned n = log->hypercalls++;
        log->hc[n] = exit->Hypercall;
        log->hc_length[n] = exit->VpContext.InstructionLength;
        if ((exit->Hypercall.Rcx & 0xFFFF) == HV_CALL_POST_MESSAGE && !(exit->Hypercall.Rcx & HV_HYPERCALL_FAST))
            TEST_HR(WHvReadGpaRange(vm->partition, vp, exit->Hypercall.Rdx, gpa_controls, log->hc_input[n], 256));
        guest_set_reg(vm, vp, WHvX64RegisterRax, log->hc_reply[n]);
        guest_skip_instruction(vm, vp, exit);
        return true;
    }
    return false;
}

/* ---- CPUID ---- */

GUEST_CODE static void guest_cpuid_main(void)
{
    uint32_t a, b, c, d;
    uint64_t v = 0;

    guest_cpuid(1, 0, &a, &b, &c, &d);
    GUEST_SYNC(1, (c >> 31) & 1, hv_detect());
    static const uint32_t leaves[] = {0x40000000, 0x40000001, 0x40000003, 0x40000004};
    for (unsigned i = 0; i < 4; i++) {
        guest_cpuid(leaves[i], 0, &a, &b, &c, &d);
        GUEST_SYNC(leaves[i], a, b, c, d);
    }
    uint64_t fault = guest_rdmsr_safe(HV_MSR_SVERSION, &v);
    GUEST_SYNC(2, fault, v);
    GUEST_DONE();
}

static void expect_sync_values(struct guest_vm *vm, uint64_t tag, uint64_t *vals, unsigned n)
{
    struct guest_ucall uc;
    uint64_t type = irq_run(vm, 0, &uc, NULL, NULL);
    TEST_ASSERT(type == UCALL_SYNC && uc.args[0] == tag, "(expected SYNC 0x%llx, got type %llu arg 0x%llx)",
                (unsigned long long)tag, (unsigned long long)type, (unsigned long long)uc.args[0]);
    for (unsigned i = 0; i < n; i++)
        vals[i] = uc.args[1 + i];
}

static void test_cpuid_with_bank(void)
{
    WHV_CAPABILITY cap;
    UINT32 written = 0;
    uint64_t v[4];

    TEST_HR(WHvGetCapability(WHvCapabilityCodeSyntheticProcessorFeaturesBanks, &cap, sizeof(cap), &written));
    TEST_ASSERT_EQ(cap.SyntheticProcessorFeaturesBanks.BanksCount, 1);
    TEST_ASSERT_EQ(cap.SyntheticProcessorFeaturesBanks.AsUINT64[0], guest_synic_features());

    struct guest_vm *vm = syn_vm_create(XAPIC, 1, false, 0);
    guest_vm_add_vp(vm, 0, guest_cpuid_main, 0, 0);
    expect_sync_values(vm, 1, v, 2);
    TEST_ASSERT_EQ(v[0], 1); /* CPUID.1:ECX[31] */
    TEST_ASSERT_EQ(v[1], 1); /* hv_detect */
    expect_sync_values(vm, 0x40000000, v, 4);
    TEST_ASSERT_EQ(v[0], 0x40000006);
    TEST_ASSERT_EQ(v[1], 0x7263694D);
    TEST_ASSERT_EQ(v[2], 0x666F736F);
    TEST_ASSERT_EQ(v[3], 0x76482074);
    expect_sync_values(vm, 0x40000001, v, 4);
    TEST_ASSERT_EQ(v[0], 0x31237648);
    expect_sync_values(vm, 0x40000003, v, 4);
    TEST_ASSERT_EQ(v[0], HV_CPUID_PRIV_SYNIC_REGS | HV_CPUID_PRIV_HYPERCALL_MSRS | HV_CPUID_PRIV_VP_INDEX);
    TEST_ASSERT_EQ(v[1], HV_CPUID_PRIV_POST_MESSAGES | HV_CPUID_PRIV_SIGNAL_EVENTS);
    expect_sync_values(vm, 0x40000004, v, 4);
    TEST_ASSERT_EQ(v[0] & HV_CPUID_DEPRECATE_AUTO_EOI, HV_CPUID_DEPRECATE_AUTO_EOI);
    expect_sync_values(vm, 2, v, 2);
    TEST_ASSERT_EQ(v[0], 0);
    TEST_ASSERT_EQ(v[1], 1); /* SVERSION */
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static void test_cpuid_without_bank(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, 1, true, 0);
    uint64_t v[4];

    guest_vm_add_vp(vm, 0, guest_cpuid_main, 0, 0);
    expect_sync_values(vm, 1, v, 2);
    TEST_ASSERT_EQ(v[0], 0);
    TEST_ASSERT_EQ(v[1], 0);
    expect_sync_values(vm, 0x40000000, v, 4);
    TEST_ASSERT(!(v[1] == 0x7263694D && v[2] == 0x666F736F && v[3] == 0x76482074),
                "(\"Microsoft Hv\" without synthetic features)");
    expect_sync_values(vm, 0x40000001, v, 4);
    TEST_ASSERT(v[0] != 0x31237648, "(\"Hv#1\" without synthetic features)");
    expect_sync_values(vm, 0x40000003, v, 4);
    expect_sync_values(vm, 0x40000004, v, 4);
    expect_sync_values(vm, 2, v, 2);
    TEST_ASSERT_EQ(v[0], GUEST_SAFE_FAULTED | 13); /* no SynIC MSRs */
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* ---- MSR reset values and rules ---- */

#define MSR_GP (GUEST_SAFE_FAULTED | 13)
#define EXPECT_MSR(msr, want)                                                                      \
    do {                                                                                           \
        uint64_t v_ = 0;                                                                           \
        GUEST_ASSERT_EQ(guest_rdmsr_safe((msr), &v_), 0);                                          \
        GUEST_ASSERT_EQ(v_, (want));                                                               \
    } while (0)
#define EXPECT_WRMSR(msr, value, want) GUEST_ASSERT_EQ(guest_wrmsr_safe((msr), (value)), (want))
#define EXPECT_RDMSR_GP(msr)                                                                       \
    do {                                                                                           \
        uint64_t v_ = 0;                                                                           \
        GUEST_ASSERT_EQ(guest_rdmsr_safe((msr), &v_), MSR_GP);                                         \
    } while (0)

GUEST_CODE static void guest_msr_main(uint64_t index)
{
    const struct syn_vp_cfg *c = &syn_cfg.vp[index];
    uint64_t hc = syn_cfg.hypercall;

    /* Per-VP reset values. */
    EXPECT_MSR(HV_MSR_VP_INDEX, index);
    EXPECT_MSR(HV_MSR_SCONTROL, 0);
    EXPECT_MSR(HV_MSR_SVERSION, 1);
    EXPECT_MSR(HV_MSR_SIEFP, 0);
    EXPECT_MSR(HV_MSR_SIMP, 0);
    EXPECT_MSR(HV_MSR_EOM, 0);
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        EXPECT_MSR(HV_MSR_SINT(s), HV_SINT_RESET);
    /* Read-only and write-only registers. */
    EXPECT_WRMSR(HV_MSR_VP_INDEX, index + 1, MSR_GP);
    EXPECT_WRMSR(HV_MSR_SVERSION, 1, MSR_GP);
    EXPECT_WRMSR(HV_MSR_EOM, 0, 0);
    EXPECT_MSR(HV_MSR_EOM, 0);
    /* SINT rules: an unmasked vector below 16 and reserved bits #GP; the value stays. */
    EXPECT_WRMSR(HV_MSR_SINT(3), HV_SINT_MASKED | 5, 0);
    EXPECT_MSR(HV_MSR_SINT(3), HV_SINT_MASKED | 5);
    EXPECT_WRMSR(HV_MSR_SINT(3), 5, MSR_GP);
    EXPECT_WRMSR(HV_MSR_SINT(3), 15, MSR_GP);
    EXPECT_WRMSR(HV_MSR_SINT(3), 0x20 | 1ull << 21, MSR_GP);
    EXPECT_WRMSR(HV_MSR_SINT(3), 0x20 | 1ull << 63, MSR_GP);
    EXPECT_WRMSR(HV_MSR_SINT(3), 0x20 | 0x100, MSR_GP);
    EXPECT_MSR(HV_MSR_SINT(3), HV_SINT_MASKED | 5);
    EXPECT_WRMSR(HV_MSR_SINT(3), 16, 0);
    EXPECT_MSR(HV_MSR_SINT(3), 16);
    EXPECT_WRMSR(HV_MSR_SINT(15), 0xFF | HV_SINT_POLLING, 0);
    EXPECT_MSR(HV_MSR_SINT(15), 0xFF | HV_SINT_POLLING);
    EXPECT_WRMSR(HV_MSR_SINT(3), HV_SINT_RESET, 0);
    EXPECT_WRMSR(HV_MSR_SINT(15), HV_SINT_RESET, 0);
    /* SCONTROL, SIMP, SIEFP hold what is written. */
    EXPECT_WRMSR(HV_MSR_SCONTROL, 1, 0);
    EXPECT_MSR(HV_MSR_SCONTROL, 1);
    EXPECT_WRMSR(HV_MSR_SIMP, c->simp | 1, 0);
    EXPECT_MSR(HV_MSR_SIMP, c->simp | 1);
    EXPECT_WRMSR(HV_MSR_SIEFP, c->siefp | 1, 0);
    EXPECT_MSR(HV_MSR_SIEFP, c->siefp | 1);
    /* Synthetic MSRs that are not implemented. */
    static const uint32_t absent[] = {0x40000003, 0x40000010, 0x40000020, 0x40000070, 0x40000073,
                                      0x40000085, 0x400000B0, 0x400000F0, 0x400000FF};
    for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        EXPECT_RDMSR_GP(absent[i]);
        EXPECT_WRMSR(absent[i], 0, MSR_GP);
    }

    if (index == 0) {
        /* Partition-wide: GUEST_OS_ID gates the hypercall page. */
        EXPECT_MSR(HV_MSR_GUEST_OS_ID, 0);
        EXPECT_MSR(HV_MSR_HYPERCALL, 0);
        EXPECT_WRMSR(HV_MSR_HYPERCALL, hc | 1, 0);
        uint64_t v = 0;
        GUEST_ASSERT_EQ(guest_rdmsr_safe(HV_MSR_HYPERCALL, &v), 0);
        GUEST_ASSERT_EQ(v & 1, 0); /* ignored while GUEST_OS_ID is 0 */
        GUEST_SYNC(1);             /* the host checks that the page is still empty */
        EXPECT_WRMSR(HV_MSR_GUEST_OS_ID, HV_GUEST_OS_ID_OPENWHP, 0);
        EXPECT_MSR(HV_MSR_GUEST_OS_ID, HV_GUEST_OS_ID_OPENWHP);
        EXPECT_WRMSR(HV_MSR_HYPERCALL, hc | 1, 0);
        EXPECT_MSR(HV_MSR_HYPERCALL, hc | 1);
        GUEST_SYNC(2); /* the host checks the stub */
        EXPECT_WRMSR(HV_MSR_GUEST_OS_ID, 0, 0);
        GUEST_ASSERT_EQ(guest_rdmsr_safe(HV_MSR_HYPERCALL, &v), 0);
        GUEST_ASSERT_EQ(v & 1, 0); /* clearing the id disables the page */
        EXPECT_WRMSR(HV_MSR_GUEST_OS_ID, HV_GUEST_OS_ID_OPENWHP, 0);
        EXPECT_WRMSR(HV_MSR_HYPERCALL, hc | 1, 0);
    } else {
        /* VP 0 has run: its GUEST_OS_ID and HYPERCALL are the partition's. */
        EXPECT_MSR(HV_MSR_GUEST_OS_ID, HV_GUEST_OS_ID_OPENWHP);
        EXPECT_MSR(HV_MSR_HYPERCALL, hc | 1);
    }
    GUEST_DONE();
}

static void test_msr_reset_values_and_rules(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, NR_VPS, false, 0);
    const uint8_t *page = guest_vm_gpa2hva(vm, syn_cfg.hypercall);
    static const uint8_t zero[64];

    syn_add_vps(vm, NR_VPS, guest_msr_main);
    irq_expect_sync(vm, 0, 1, NULL, NULL);
    TEST_ASSERT(memcmp(page, zero, sizeof(zero)) == 0, "(hypercall page filled while GUEST_OS_ID was 0)");
    irq_expect_sync(vm, 0, 2, NULL, NULL);
    TEST_ASSERT(memcmp(page, zero, sizeof(zero)) != 0, "(hypercall page not filled)");
    guest_expect_done(vm, 0);
    guest_expect_done(vm, 1);
    guest_vm_destroy(vm);
}

/* ---- Messages ---- */

static void test_posted_message_arrives_in_its_slot_on_its_vp(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, NR_VPS, false, 0);
    struct hv_message m5, m2a, m2b;
    uint8_t page[4096];

    syn_cfg.vp[0].vector[2] = 0x52;
    syn_cfg.vp[1].vector[2] = 0x62;
    syn_cfg.vp[1].vector[5] = 0x65;
    syn_add_vps(vm, NR_VPS, guest_synic_main);
    irq_start(vm, NR_VPS, NULL, NULL);

    /* VP 1, SINT 5: the message sits in slot 5 of VP 1's SIM page until the guest runs. */
    irq_round_begin(vm);
    make_message(&m5, 0x1234, 0x40, 240);
    TEST_HR(post(vm, 1, 5, &m5));
    get_page(vm, 1, SIM, page);
    TEST_ASSERT(memcmp(page + 5 * 256, &m5, 256) == 0, "(slot 5 of VP 1 does not hold the message)");
    get_page(vm, 0, SIM, page);
    TEST_ASSERT_EQ(((struct hv_message *)page)[5].type, 0);
    irq_round_end(vm, NR_VPS, NULL, NULL);
    syn_read(vm, 1);
    TEST_ASSERT_EQ(host_syn.interrupts[5], 1);
    TEST_ASSERT_EQ(host_syn.last_vector[5], 0x65);
    TEST_ASSERT_EQ(host_syn.messages[5], 1);
    TEST_ASSERT_EQ(host_syn.eoms[5], 0);
    TEST_ASSERT_EQ(host_syn.interrupts[2], 0);
    TEST_ASSERT(memcmp(&host_syn.last_message[5], &m5, 256) == 0, "(VP 1 consumed a different message)");
    syn_read(vm, 0);
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        TEST_ASSERT_EQ(host_syn.interrupts[s], 0);
    get_page(vm, 1, SIM, page);
    TEST_ASSERT_EQ(((struct hv_message *)page)[5].type, 0); /* the guest freed the slot */

    /* SINT 2 on both VPs, short messages: each VP takes its own on its own vector. */
    irq_round_begin(vm);
    make_message(&m2a, 0x21, 0x10, 8);
    make_message(&m2b, 0x22, 0x80, 24);
    TEST_HR(WHvPostVirtualProcessorSynicMessage(vm->partition, 0, 2, &m2a, 16 + 8));
    TEST_HR(WHvPostVirtualProcessorSynicMessage(vm->partition, 1, 2, &m2b, 16 + 24));
    irq_round_end(vm, NR_VPS, NULL, NULL);
    syn_read(vm, 0);
    TEST_ASSERT_EQ(host_syn.interrupts[2], 1);
    TEST_ASSERT_EQ(host_syn.last_vector[2], 0x52);
    TEST_ASSERT(memcmp(&host_syn.last_message[2], &m2a, 256) == 0, "(VP 0 SINT 2: wrong message)");
    syn_read(vm, 1);
    TEST_ASSERT_EQ(host_syn.interrupts[2], 1);
    TEST_ASSERT_EQ(host_syn.last_vector[2], 0x62);
    TEST_ASSERT(memcmp(&host_syn.last_message[2], &m2b, 256) == 0, "(VP 1 SINT 2: wrong message)");
    TEST_ASSERT_EQ(host_syn.interrupts[5], 1);
    guest_vm_destroy(vm);
}

static void test_busy_slot_pending_eom_deliverable(void)
{
    struct guest_vm *vm = syn_vm_create(X2APIC, 1, false, 0);
    struct hv_message a, b, c;
    struct vmm_log log;
    uint8_t page[4096];
    WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER dn;

    syn_cfg.vp[0].vector[3] = 0x53;
    syn_add_vps(vm, 1, guest_synic_main);
    irq_start(vm, 1, NULL, NULL);

    irq_round_begin(vm);
    make_message(&a, 0xA, 1, 32);
    make_message(&b, 0xB, 2, 40);
    TEST_HR(post(vm, 0, 3, &a));
    TEST_HR_EQ(post(vm, 0, 3, &b), ERROR_HV_OBJECT_IN_USE);
    get_page(vm, 0, SIM, page);
    TEST_ASSERT_EQ(((struct hv_message *)page)[3].type, 0xA);
    TEST_ASSERT_EQ(((struct hv_message *)page)[3].flags & HV_MESSAGE_FLAG_PENDING, HV_MESSAGE_FLAG_PENDING);
    dn.AsUINT64 = 0;
    dn.Sint = 1u << 3;
    guest_set_reg(vm, 0, WHvX64RegisterDeliverabilityNotifications, dn.AsUINT64);
    memset(&log, 0, sizeof(log));
    log.queued = &b;
    log.queued_vp = 0;
    log.queued_sint = 3;
    log.queued_hr = E_FAIL;
    irq_round_end(vm, 1, vmm_exit, &log);
    TEST_ASSERT_EQ(log.deliverable_exits, 1);
    TEST_ASSERT_EQ(log.deliverable_sints, 1u << 3);
    TEST_HR(log.queued_hr);
    syn_read(vm, 0);
    TEST_ASSERT_EQ(host_syn.messages[3], 2);
    TEST_ASSERT_EQ(host_syn.eoms[3], 1);
    TEST_ASSERT_EQ(host_syn.interrupts[3], 2);
    TEST_ASSERT(memcmp(&host_syn.last_message[3], &b, 256) == 0, "(the second message is not B)");
    /* One-shot: the request is gone. */
    dn.AsUINT64 = guest_get_reg(vm, 0, WHvX64RegisterDeliverabilityNotifications);
    TEST_ASSERT_EQ(dn.Sint, 0);

    /* Without a request: no SynicSintDeliverable, no EOM (MessagePending was never set). */
    irq_round_begin(vm);
    make_message(&c, 0xC, 3, 0);
    TEST_HR(post(vm, 0, 3, &c));
    memset(&log, 0, sizeof(log));
    irq_round_end(vm, 1, vmm_exit, &log);
    TEST_ASSERT_EQ(log.deliverable_exits, 0);
    syn_read(vm, 0);
    TEST_ASSERT_EQ(host_syn.messages[3], 3);
    TEST_ASSERT_EQ(host_syn.eoms[3], 1);

    /* A request for a SINT whose slot is free is answered at the next run, before the guest runs. */
    dn.AsUINT64 = 0;
    dn.Sint = 1u << 3 | 1u << 9;
    guest_set_reg(vm, 0, WHvX64RegisterDeliverabilityNotifications, dn.AsUINT64);
    WHV_RUN_VP_EXIT_CONTEXT exit;
    irq_run_once(vm, 0, &exit, IRQ_RUN_TIMEOUT_MS);
    TEST_ASSERT_EQ(exit.ExitReason, WHvRunVpExitReasonSynicSintDeliverable);
    TEST_ASSERT_EQ(exit.SynicSintDeliverable.DeliverableSints, 1u << 3 | 1u << 9);
    dn.AsUINT64 = guest_get_reg(vm, 0, WHvX64RegisterDeliverabilityNotifications);
    TEST_ASSERT_EQ(dn.Sint, 0);
    guest_vm_destroy(vm);
}

/* ---- Event flags ---- */

static void test_event_flags_and_newly_signaled(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, NR_VPS, false, 0);
    uint8_t page[4096];
    BOOL newly;

    syn_cfg.vp[0].vector[4] = 0x44;
    syn_cfg.vp[1].vector[4] = 0x74;
    syn_add_vps(vm, NR_VPS, guest_synic_main);
    irq_start(vm, NR_VPS, NULL, NULL);

    irq_round_begin(vm);
    newly = -1;
    TEST_HR(signal_flag(vm, 1, 4, 7, &newly));
    TEST_ASSERT_EQ(newly, TRUE);
    newly = -1;
    TEST_HR(signal_flag(vm, 1, 4, 7, &newly));
    TEST_ASSERT_EQ(newly, FALSE);
    TEST_HR(signal_flag(vm, 1, 4, 64, &newly));
    TEST_ASSERT_EQ(newly, TRUE);
    TEST_HR(signal_flag(vm, 1, 4, 2047, &newly));
    TEST_ASSERT_EQ(newly, TRUE);
    TEST_HR(signal_flag(vm, 1, 4, 100, NULL));
    get_page(vm, 1, SIEF, page);
    TEST_ASSERT_EQ(page[4 * 256 + 0], 0x80);
    TEST_ASSERT_EQ(page[4 * 256 + 8], 0x01);
    TEST_ASSERT_EQ(page[4 * 256 + 12], 0x10);
    TEST_ASSERT_EQ(page[4 * 256 + 255], 0x80);
    get_page(vm, 0, SIEF, page);
    TEST_ASSERT_EQ(page[4 * 256], 0);
    irq_round_end(vm, NR_VPS, NULL, NULL);
    syn_read(vm, 1);
    TEST_ASSERT(host_syn.interrupts[4] >= 1 && host_syn.interrupts[4] <= 4, "(%u SINT 4 interrupts)",
                host_syn.interrupts[4]);
    TEST_ASSERT_EQ(host_syn.last_vector[4], 0x74);
    TEST_ASSERT_EQ(host_syn.events[4], 4);
    TEST_ASSERT_EQ(host_syn.messages[4], 0);
    TEST_ASSERT_EQ(host_syn.flags_seen[4][0], 1ull << 7);
    TEST_ASSERT_EQ(host_syn.flags_seen[4][1], (1ull << 0) | (1ull << 36));
    TEST_ASSERT_EQ(host_syn.flags_seen[4][31], 1ull << 63);
    syn_read(vm, 0);
    TEST_ASSERT_EQ(host_syn.interrupts[4], 0);
    get_page(vm, 1, SIEF, page);
    for (unsigned i = 0; i < 4096; i++)
        TEST_ASSERT(page[i] == 0, "(SIEF byte %u is 0x%x after the guest cleared its flags)", i, page[i]);

    /* Cleared by the guest: the same flag is newly signaled again, and interrupts again. */
    irq_round_begin(vm);
    TEST_HR(signal_flag(vm, 1, 4, 7, &newly));
    TEST_ASSERT_EQ(newly, TRUE);
    TEST_HR(signal_flag(vm, 0, 4, 0, &newly));
    TEST_ASSERT_EQ(newly, TRUE);
    irq_round_end(vm, NR_VPS, NULL, NULL);
    syn_read(vm, 1);
    TEST_ASSERT_EQ(host_syn.events[4], 5);
    syn_read(vm, 0);
    TEST_ASSERT_EQ(host_syn.interrupts[4], 1);
    TEST_ASSERT_EQ(host_syn.last_vector[4], 0x44);
    TEST_ASSERT_EQ(host_syn.flags_seen[4][0], 1);

    /* Bad parameters. */
    WHV_SYNIC_EVENT_PARAMETERS e;
    memset(&e, 0, sizeof(e));
    e.TargetSint = 16;
    TEST_HR_EQ(WHvSignalVirtualProcessorSynicEvent(vm->partition, e, NULL), E_INVALIDARG);
    e.TargetSint = 4;
    e.TargetVtl = 1;
    TEST_HR_EQ(WHvSignalVirtualProcessorSynicEvent(vm->partition, e, NULL), E_INVALIDARG);
    guest_vm_destroy(vm);
}

/* ---- Masked and polling SINTs, pages off ---- */

static void test_masked_sint_raises_nothing(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, NR_VPS, false, 0);
    struct hv_message m;
    uint8_t page[4096];
    BOOL newly;

    syn_cfg.vp[0].vector[6] = 0x56;
    syn_cfg.vp[0].sint_flags[6] = HV_SINT_MASKED;
    syn_cfg.vp[0].vector[7] = 0x57;
    syn_cfg.vp[0].sint_flags[7] = HV_SINT_POLLING;
    syn_cfg.vp[1].simp = syn_cfg.vp[1].siefp = 0; /* VP 1: SCONTROL on, pages off */
    syn_cfg.vp[1].vector[6] = 0x66;
    syn_add_vps(vm, NR_VPS, guest_synic_main);
    irq_start(vm, NR_VPS, NULL, NULL);

    irq_round_begin(vm);
    make_message(&m, 0x66, 6, 16);
    TEST_HR(post(vm, 0, 6, &m)); /* written, no interrupt */
    TEST_HR_EQ(signal_flag(vm, 0, 6, 1, &newly), ERROR_HV_INVALID_SYNIC_STATE);
    make_message(&m, 0x77, 7, 16);
    TEST_HR(post(vm, 0, 7, &m)); /* polling: written, no interrupt */
    TEST_HR(signal_flag(vm, 0, 7, 3, &newly));
    TEST_ASSERT_EQ(newly, TRUE);
    TEST_HR_EQ(post(vm, 1, 6, &m), ERROR_HV_INVALID_SYNIC_STATE);         /* SIMP off */
    TEST_HR_EQ(signal_flag(vm, 1, 6, 1, &newly), ERROR_HV_INVALID_SYNIC_STATE); /* SIEFP off */
    irq_round_end(vm, NR_VPS, NULL, NULL);
    syn_read(vm, 0);
    TEST_ASSERT_EQ(host_syn.interrupts[6], 0);
    TEST_ASSERT_EQ(host_syn.interrupts[7], 0);
    get_page(vm, 0, SIM, page);
    TEST_ASSERT_EQ(((struct hv_message *)page)[6].type, 0x66);
    TEST_ASSERT_EQ(((struct hv_message *)page)[7].type, 0x77);
    get_page(vm, 0, SIEF, page);
    TEST_ASSERT_EQ(page[7 * 256], 0x08);
    syn_read(vm, 1);
    TEST_ASSERT_EQ(host_syn.interrupts[6], 0);
    guest_vm_destroy(vm);
}

/* ---- Hypercalls from the guest ---- */

#define CONN_UNKNOWN 0x42u
#define CONN_PORT 0x77u

GUEST_CODE static void guest_signal_unknown_main(uint64_t index)
{
    static const char hello[] = "hello, VMM";

    syn_guest_setup(index);
    GUEST_SYNC(1, hv_signal_event(CONN_UNKNOWN, 3), hv_signal_event_mem(CONN_UNKNOWN, 4),
               hv_post_message(CONN_UNKNOWN, 0x1, hello, sizeof(hello)));
    GUEST_DONE();
}

static void test_signal_unknown_connection_status(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, 1, false, 0);
    uint64_t v[3];

    syn_add_vps(vm, 1, guest_signal_unknown_main);
    expect_sync_values(vm, 1, v, 3);
    TEST_ASSERT_EQ(v[0], HV_STATUS_INVALID_CONNECTION_ID);
    TEST_ASSERT_EQ(v[1], HV_STATUS_INVALID_CONNECTION_ID);
    TEST_ASSERT_EQ(v[2], HV_STATUS_INVALID_CONNECTION_ID); /* HvPostMessage without HypercallExit */
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static void test_signal_unknown_connection_exit(void)
{
    WHV_EXTENDED_VM_EXITS exits = {.AsUINT64 = 0};
    exits.UnknownSynicConnection = 1;
    struct guest_vm *vm = syn_vm_create(XAPIC, 1, false, exits.AsUINT64);
    struct vmm_log log;
    struct guest_ucall uc;
    uint64_t v[3];

    syn_add_vps(vm, 1, guest_signal_unknown_main);
    memset(&log, 0, sizeof(log));
    log.hc_reply[0] = 0x1111;
    log.hc_reply[1] = 0x2222;
    TEST_ASSERT_EQ(irq_run(vm, 0, &uc, vmm_exit, &log), UCALL_SYNC);
    for (unsigned i = 0; i < 3; i++)
        v[i] = uc.args[1 + i];
    TEST_ASSERT_EQ(log.hypercalls, 2);
    TEST_ASSERT_EQ(log.hc[0].Rcx, HV_CALL_SIGNAL_EVENT | HV_HYPERCALL_FAST);
    TEST_ASSERT_EQ(log.hc[0].Rdx, CONN_UNKNOWN | 3ull << 32);
    TEST_ASSERT_EQ(log.hc[1].Rcx, HV_CALL_SIGNAL_EVENT);
    TEST_ASSERT_EQ(log.hc[1].Rdx, syn_cfg.vp[0].input);
    TEST_ASSERT_EQ(v[0], 0x1111);
    TEST_ASSERT_EQ(v[1], 0x2222);
    TEST_ASSERT_EQ(v[2], HV_STATUS_INVALID_CONNECTION_ID); /* HvPostMessage: HypercallExit is off */
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_port_main(uint64_t index)
{
    uint64_t st = 0;

    syn_guest_setup(index);
    GUEST_SYNC(1);
    for (unsigned i = 0; i < 100; i++)
        st |= hv_signal_event(CONN_PORT, 0);
    GUEST_SYNC(2, st);
    GUEST_SYNC(3, hv_signal_event_mem(CONN_PORT, 0));
    GUEST_SYNC(4, hv_signal_event(CONN_PORT, 0));
    GUEST_DONE();
}

static uint64_t io_exits(struct guest_vm *vm)
{
    WHV_PROCESSOR_ACTIVITY_COUNTERS c;
    UINT32 written = 0;
    TEST_HR(WHvGetVirtualProcessorCounters(vm->partition, 0, WHvProcessorCounterSetIntercepts, &c, sizeof(c),
                                           &written));
    return c.IoInstructions.Count;
}

static bool event_ready(HANDLE ev)
{
    struct pollfd pfd = {.fd = OpenWhpEventFd(ev), .events = POLLIN};
    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static void test_signal_event_port_sets_event_without_exit(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, 1, false, 0);
    WHV_NOTIFICATION_PORT_PARAMETERS prm;
    WHV_NOTIFICATION_PORT_HANDLE port = NULL;
    HANDLE ev = OpenWhpCreateEvent(FALSE, FALSE);
    uint64_t v[1], before;

    TEST_ASSERT(ev != NULL);
    memset(&prm, 0, sizeof(prm));
    prm.NotificationPortType = WHvNotificationPortTypeEvent;
    prm.Event.ConnectionId = CONN_PORT;
    TEST_HR(WHvCreateNotificationPort(vm->partition, &prm, ev, &port));
    syn_add_vps(vm, 1, guest_port_main);

    irq_expect_sync(vm, 0, 1, NULL, NULL);
    TEST_ASSERT(!event_ready(ev));
    before = io_exits(vm);
    expect_sync_values(vm, 2, v, 1);
    TEST_ASSERT_EQ(v[0], HV_STATUS_SUCCESS);
    TEST_ASSERT(io_exits(vm) - before == 1, "(%llu I/O exits for 100 fast HvSignalEvent + 1 ucall)",
                (unsigned long long)(io_exits(vm) - before));
    TEST_ASSERT(event_ready(ev), "(the port's event is not set)");
    TEST_ASSERT_EQ(OpenWhpWaitForEvent(ev, 0), WAIT_OBJECT_0);
    TEST_ASSERT_EQ(OpenWhpWaitForEvent(ev, 0), WAIT_TIMEOUT); /* auto-reset: consumed */

    /* Memory form: through user space, same event. */
    expect_sync_values(vm, 3, v, 1);
    TEST_ASSERT_EQ(v[0], HV_STATUS_SUCCESS);
    TEST_ASSERT_EQ(OpenWhpWaitForEvent(ev, 0), WAIT_OBJECT_0);

    /* Port deleted: the connection is unknown again. */
    TEST_HR(WHvDeleteNotificationPort(vm->partition, port));
    expect_sync_values(vm, 4, v, 1);
    TEST_ASSERT_EQ(v[0], HV_STATUS_INVALID_CONNECTION_ID);
    TEST_ASSERT_EQ(OpenWhpWaitForEvent(ev, 0), WAIT_TIMEOUT);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
    OpenWhpCloseEvent(ev);
}

GUEST_CODE static void guest_post_main(uint64_t index)
{
    static const char payload[] = "a message for the VMM";

    syn_guest_setup(index);
    uint64_t a = hv_post_message(0x99, 0x77, payload, sizeof(payload));
    uint64_t b = hv_post_message(0x98, 0x78, payload, 4);
    uint64_t c = hv_hypercall(0x7777, 0, 0);
    GUEST_SYNC(1, a, b, c);
    GUEST_DONE();
}

static void test_post_message_is_a_hypercall_exit(void)
{
    WHV_EXTENDED_VM_EXITS exits = {.AsUINT64 = 0};
    exits.HypercallExit = 1;
    struct guest_vm *vm = syn_vm_create(XAPIC, 1, false, exits.AsUINT64);
    static const char payload[] = "a message for the VMM";
    struct hv_post_message_input in;
    struct vmm_log log;
    struct guest_ucall uc;

    syn_add_vps(vm, 1, guest_post_main);
    memset(&log, 0, sizeof(log));
    log.hc_reply[0] = HV_STATUS_SUCCESS;
    log.hc_reply[1] = HV_STATUS_INSUFFICIENT_BUFFERS;
    log.hc_reply[2] = 0xABCD;
    TEST_ASSERT_EQ(irq_run(vm, 0, &uc, vmm_exit, &log), UCALL_SYNC);
    TEST_ASSERT_EQ(log.hypercalls, 3);
    TEST_ASSERT_EQ(log.hc[0].Rcx, HV_CALL_POST_MESSAGE);
    TEST_ASSERT_EQ(log.hc[0].Rdx, syn_cfg.vp[0].input);
    memcpy(&in, log.hc_input[0], sizeof(in));
    TEST_ASSERT_EQ(in.connection_id, 0x99);
    TEST_ASSERT_EQ(in.message_type, 0x77);
    TEST_ASSERT_EQ(in.payload_size, sizeof(payload));
    TEST_ASSERT(memcmp(in.payload, payload, sizeof(payload)) == 0, "(payload differs)");
    memcpy(&in, log.hc_input[1], sizeof(in));
    TEST_ASSERT_EQ(in.connection_id, 0x98);
    TEST_ASSERT_EQ(in.payload_size, 4);
    TEST_ASSERT_EQ(log.hc[2].Rcx, 0x7777); /* an unknown call code goes to the VMM too */
    TEST_ASSERT_EQ(uc.args[1], HV_STATUS_SUCCESS);
    TEST_ASSERT_EQ(uc.args[2], HV_STATUS_INSUFFICIENT_BUFFERS);
    TEST_ASSERT_EQ(uc.args[3], 0xABCD);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_bad_hypercall_main(uint64_t index)
{
    uint64_t in = syn_cfg.vp[index].input;

    syn_guest_setup(index);
    GUEST_SYNC(1, hv_hypercall(HV_CALL_SIGNAL_EVENT, in + 4, 0),          /* misaligned */
               hv_hypercall(HV_CALL_POST_MESSAGE, in + 0xF08, 0),           /* crosses a page */
               hv_hypercall(HV_CALL_SIGNAL_EVENT, 1ull << 32, 0),           /* outside RAM */
               hv_hypercall(HV_CALL_SIGNAL_EVENT | HV_HYPERCALL_FAST | 1ull << 27, CONN_UNKNOWN, 0),
               hv_hypercall(0x7777, 0, 0));                                 /* unknown code */
    GUEST_SYNC(2, hv_hypercall(HV_CALL_SIGNAL_EVENT | HV_HYPERCALL_FAST | 1ull << 32, CONN_UNKNOWN, 0), /* reps */
               hv_hypercall(HV_CALL_SIGNAL_EVENT | HV_HYPERCALL_FAST | 1ull << 17, CONN_UNKNOWN, 0), /* var hdr */
               hv_signal_event(CONN_UNKNOWN | 1u << 24, 0),                 /* connection id > 24 bits */
               hv_hypercall(HV_CALL_POST_MESSAGE | HV_HYPERCALL_FAST, 0, 0)); /* PostMessage is not fast */
    GUEST_SYNC(3, hv_post_message(1, 0, "x", 1),                 /* type 0 */
               hv_post_message(1, 0x80000001u, "x", 1),          /* hypervisor type */
               hv_post_message(1, 1, "x", 241));                 /* payload too big */
    guest_write64(GUEST_DIRECT_MAP + in, CONN_UNKNOWN | 0x1234ull << 48); /* RsvdZ of HvSignalEvent */
    GUEST_SYNC(4, hv_hypercall(HV_CALL_SIGNAL_EVENT, in, 0));
    GUEST_DONE();
}

static void test_bad_hypercalls_get_tlfs_statuses(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, 1, false, 0);
    uint64_t v[5];

    syn_add_vps(vm, 1, guest_bad_hypercall_main);
    expect_sync_values(vm, 1, v, 5);
    TEST_ASSERT_EQ(v[0], HV_STATUS_INVALID_ALIGNMENT);
    TEST_ASSERT_EQ(v[1], HV_STATUS_INVALID_PARAMETER);
    TEST_ASSERT_EQ(v[2], HV_STATUS_INVALID_PARAMETER);
    TEST_ASSERT_EQ(v[3], HV_STATUS_INVALID_HYPERCALL_INPUT);
    TEST_ASSERT_EQ(v[4], HV_STATUS_INVALID_HYPERCALL_CODE);
    expect_sync_values(vm, 2, v, 4);
    TEST_ASSERT_EQ(v[0], HV_STATUS_INVALID_HYPERCALL_INPUT);
    TEST_ASSERT_EQ(v[1], HV_STATUS_INVALID_HYPERCALL_INPUT);
    TEST_ASSERT_EQ(v[2], HV_STATUS_INVALID_HYPERCALL_INPUT);
    TEST_ASSERT_EQ(v[3], HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect_sync_values(vm, 3, v, 3);
    TEST_ASSERT_EQ(v[0], HV_STATUS_INVALID_PARAMETER);
    TEST_ASSERT_EQ(v[1], HV_STATUS_INVALID_PARAMETER);
    TEST_ASSERT_EQ(v[2], HV_STATUS_INVALID_PARAMETER);
    expect_sync_values(vm, 4, v, 1);
    TEST_ASSERT_EQ(v[0], HV_STATUS_INVALID_HYPERCALL_INPUT);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* ---- State: SIM/SIEF pages, registers, moving pages ---- */

GUEST_CODE static void guest_state_main(uint64_t index)
{
    const struct syn_vp_cfg *c = &syn_cfg.vp[index];
    uint64_t sim = 0, sief = 0;

    syn_guest_setup(index);
    GUEST_SYNC(1);
    for (unsigned i = 0; i < 512; i++) {
        sim += guest_read64(GUEST_DIRECT_MAP + c->simp + i * 8) * (i + 1);
        sief += guest_read64(GUEST_DIRECT_MAP + c->siefp + i * 8) * (i + 1);
    }
    GUEST_SYNC(2, sim, sief);
    for (unsigned i = 0; i < 512; i++) {
        guest_write64(GUEST_DIRECT_MAP + c->simp + i * 8, 0x5100000000ull + i);
        guest_write64(GUEST_DIRECT_MAP + c->siefp + i * 8, 0xEF00000000ull + i);
    }
    GUEST_SYNC(3);
    GUEST_DONE();
}

static void test_sim_sief_page_state_round_trip(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, 1, false, 0);
    uint64_t sim[512], sief[512], got[512], sum_sim = 0, sum_sief = 0, v[2];
    UINT32 written = 0;

    syn_add_vps(vm, 1, guest_state_main);
    /* Pages off: reads as zeros. */
    memset(got, 0xAA, sizeof(got));
    TEST_HR(WHvGetVirtualProcessorState(vm->partition, 0, SIM, got, 4096, &written));
    for (unsigned i = 0; i < 512; i++)
        TEST_ASSERT_EQ(got[i], 0);
    TEST_HR_EQ(WHvGetVirtualProcessorState(vm->partition, 0, SIEF, got, 100, &written), WHV_E_INSUFFICIENT_BUFFER);
    TEST_ASSERT_EQ(written, 4096);

    irq_expect_sync(vm, 0, 1, NULL, NULL);
    for (unsigned i = 0; i < 512; i++) {
        sim[i] = 0x1000000000ull * (i % 7) + i;
        sief[i] = ~sim[i];
        sum_sim += sim[i] * (i + 1);
        sum_sief += sief[i] * (i + 1);
    }
    TEST_HR(WHvSetVirtualProcessorState(vm->partition, 0, SIM, sim, 4096));
    TEST_HR(WHvSetVirtualProcessorState(vm->partition, 0, SIEF, sief, 4096));
    get_page(vm, 0, SIM, (uint8_t *)got);
    TEST_ASSERT(memcmp(got, sim, 4096) == 0);
    expect_sync_values(vm, 2, v, 2);
    TEST_ASSERT_EQ(v[0], sum_sim);
    TEST_ASSERT_EQ(v[1], sum_sief);
    irq_expect_sync(vm, 0, 3, NULL, NULL);
    get_page(vm, 0, SIM, (uint8_t *)got);
    for (unsigned i = 0; i < 512; i++)
        TEST_ASSERT_EQ(got[i], 0x5100000000ull + i);
    get_page(vm, 0, SIEF, (uint8_t *)got);
    for (unsigned i = 0; i < 512; i++)
        TEST_ASSERT_EQ(got[i], 0xEF00000000ull + i);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_regs_main(uint64_t index)
{
    uint64_t v[HV_SINT_COUNT];

    (void)index;
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        v[s] = guest_rdmsr(HV_MSR_SINT(s));
    GUEST_SYNC(1, v[0], v[3], v[15], guest_rdmsr(HV_MSR_SCONTROL), guest_rdmsr(HV_MSR_SIMP));
    GUEST_SYNC(2, guest_rdmsr(HV_MSR_SIEFP), guest_rdmsr(HV_MSR_GUEST_OS_ID), guest_rdmsr(HV_MSR_HYPERCALL),
               guest_rdmsr(HV_MSR_SVERSION));
    guest_wrmsr(HV_MSR_SINT(9), 0x99 | HV_SINT_POLLING);
    guest_wrmsr(HV_MSR_SCONTROL, 0);
    guest_wrmsr(HV_MSR_GUEST_OS_ID, 0x8100000000000042ull);
    GUEST_SYNC(3);
    GUEST_DONE();
}

static void test_synic_registers_round_trip(void)
{
    struct guest_vm *vm = syn_vm_create(XAPIC, 1, false, 0);
    WHV_REGISTER_NAME names[22];
    WHV_REGISTER_VALUE vals[22];
    uint64_t v[5];
    unsigned n = 0;

    syn_add_vps(vm, 1, guest_regs_main);
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        names[n++] = (WHV_REGISTER_NAME)(WHvRegisterSint0 + s);
    names[n++] = WHvRegisterScontrol;
    names[n++] = WHvRegisterSversion;
    names[n++] = WHvRegisterSiefp;
    names[n++] = WHvRegisterSimp;
    names[n++] = WHvRegisterEom;
    names[n++] = WHvRegisterGuestOsId;
    TEST_HR(WHvGetVirtualProcessorRegisters(vm->partition, 0, names, n, vals));
    for (unsigned s = 0; s < HV_SINT_COUNT; s++)
        TEST_ASSERT_EQ(vals[s].Reg64, HV_SINT_RESET);
    TEST_ASSERT_EQ(vals[16].Reg64, 0);
    TEST_ASSERT_EQ(vals[17].Reg64, 1);
    TEST_ASSERT_EQ(vals[18].Reg64, 0);
    TEST_ASSERT_EQ(vals[19].Reg64, 0);
    TEST_ASSERT_EQ(vals[20].Reg64, 0);
    TEST_ASSERT_EQ(vals[21].Reg64, 0);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterHypercall), 0);

    guest_set_reg(vm, 0, WHvRegisterSint3, 0x33);
    guest_set_reg(vm, 0, WHvRegisterSint15, 0xF0 | HV_SINT_MASKED);
    guest_set_reg(vm, 0, WHvRegisterScontrol, 1);
    guest_set_reg(vm, 0, WHvRegisterSimp, syn_cfg.vp[0].simp | 1);
    guest_set_reg(vm, 0, WHvRegisterSiefp, syn_cfg.vp[0].siefp | 1);
    guest_set_reg(vm, 0, WHvRegisterGuestOsId, HV_GUEST_OS_ID_OPENWHP);
    guest_set_reg(vm, 0, WHvX64RegisterHypercall, syn_cfg.hypercall | 1);
    guest_set_reg(vm, 0, WHvRegisterSversion, 1); /* restoring the read-only value is fine */
    /* Values the MSR would #GP on are refused. */
    WHV_REGISTER_NAME bad = WHvRegisterSint4;
    WHV_REGISTER_VALUE badv;
    memset(&badv, 0, sizeof(badv));
    badv.Reg64 = 5; /* unmasked vector < 16 */
    TEST_ASSERT(FAILED(WHvSetVirtualProcessorRegisters(vm->partition, 0, &bad, 1, &badv)));
    badv.Reg64 = 0x20 | 1ull << 40;
    TEST_ASSERT(FAILED(WHvSetVirtualProcessorRegisters(vm->partition, 0, &bad, 1, &badv)));
    bad = WHvRegisterSversion;
    badv.Reg64 = 2;
    TEST_ASSERT(FAILED(WHvSetVirtualProcessorRegisters(vm->partition, 0, &bad, 1, &badv)));

    expect_sync_values(vm, 1, v, 5);
    TEST_ASSERT_EQ(v[0], HV_SINT_RESET);
    TEST_ASSERT_EQ(v[1], 0x33);
    TEST_ASSERT_EQ(v[2], 0xF0 | HV_SINT_MASKED);
    TEST_ASSERT_EQ(v[3], 1);
    TEST_ASSERT_EQ(v[4], syn_cfg.vp[0].simp | 1);
    expect_sync_values(vm, 2, v, 4);
    TEST_ASSERT_EQ(v[0], syn_cfg.vp[0].siefp | 1);
    TEST_ASSERT_EQ(v[1], HV_GUEST_OS_ID_OPENWHP);
    TEST_ASSERT_EQ(v[2], syn_cfg.hypercall | 1);
    TEST_ASSERT_EQ(v[3], 1);
    TEST_ASSERT(((uint8_t *)guest_vm_gpa2hva(vm, syn_cfg.hypercall))[0] != 0,
                "(hypercall page not filled when enabled through the register)");
    irq_expect_sync(vm, 0, 3, NULL, NULL);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvRegisterSint9), 0x99 | HV_SINT_POLLING);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvRegisterScontrol), 0);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvRegisterGuestOsId), 0x8100000000000042ull);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);

    /* Without the bank the names do not exist. */
    vm = syn_vm_create(XAPIC, 1, true, 0);
    guest_vm_add_vp(vm, 0, guest_regs_main, 0, 0);
    TEST_ASSERT(FAILED(WHvGetVirtualProcessorRegisters(vm->partition, 0, names, 1, vals)));
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_move_main(uint64_t index)
{
    syn_guest_setup(index);
    GUEST_SYNC(1);
    hv_wait_count(&hv_synic[index].messages[2], 1);
    /* Move both pages (the driver's record first: the handler follows it). */
    hv_synic[index].simp_gpa = syn_cfg.spare[0];
    guest_wrmsr(HV_MSR_SIMP, syn_cfg.spare[0] | HV_PAGE_ENABLE);
    hv_synic[index].siefp_gpa = syn_cfg.spare[1];
    guest_wrmsr(HV_MSR_SIEFP, syn_cfg.spare[1] | HV_PAGE_ENABLE);
    GUEST_SYNC(2);
    hv_wait_count(&hv_synic[index].messages[2], 2);
    hv_wait_count(&hv_synic[index].events[2], 1);
    GUEST_SYNC(3);
    GUEST_DONE();
}

static void test_pages_move_with_simp_and_siefp(void)
{
    struct guest_vm *vm = syn_vm_create(X2APIC, 1, false, 0);
    struct hv_message m1, m2;
    uint8_t *old_sim, *new_sim, *new_sief;
    BOOL newly;

    syn_cfg.vp[0].vector[2] = 0x92;
    syn_add_vps(vm, 1, guest_move_main);
    old_sim = guest_vm_gpa2hva(vm, syn_cfg.vp[0].simp);
    new_sim = guest_vm_gpa2hva(vm, syn_cfg.spare[0]);
    new_sief = guest_vm_gpa2hva(vm, syn_cfg.spare[1]);
    memset(new_sim, 0xAA, 4096); /* garbage the guest's move must clear */
    memset(new_sief, 0xAA, 4096);

    irq_expect_sync(vm, 0, 1, NULL, NULL);
    make_message(&m1, 0x101, 0x11, 16);
    TEST_HR(post(vm, 0, 2, &m1));
    TEST_ASSERT_EQ(((struct hv_message *)old_sim)[2].type, 0x101);
    irq_expect_sync(vm, 0, 2, NULL, NULL);
    for (unsigned i = 0; i < 4096; i++) {
        TEST_ASSERT(new_sim[i] == 0, "(new SIM page byte %u = 0x%x after SIMP moved)", i, new_sim[i]);
        TEST_ASSERT(new_sief[i] == 0, "(new SIEF page byte %u = 0x%x after SIEFP moved)", i, new_sief[i]);
    }
    make_message(&m2, 0x102, 0x22, 16);
    TEST_HR(post(vm, 0, 2, &m2));
    TEST_ASSERT_EQ(((struct hv_message *)new_sim)[2].type, 0x102);
    TEST_ASSERT_EQ(((struct hv_message *)old_sim)[2].type, 0);
    TEST_HR(signal_flag(vm, 0, 2, 9, &newly));
    TEST_ASSERT_EQ(newly, TRUE);
    TEST_ASSERT_EQ(new_sief[2 * 256 + 1], 0x02);
    irq_expect_sync(vm, 0, 3, NULL, NULL);
    syn_read(vm, 0);
    TEST_ASSERT(memcmp(&host_syn.last_message[2], &m2, 256) == 0, "(the message after the move differs)");
    TEST_ASSERT_EQ(host_syn.flags_seen[2][0], 1ull << 9);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_cpuid_with_bank),
        GUEST_TEST(test_cpuid_without_bank),
        GUEST_TEST(test_msr_reset_values_and_rules),
        GUEST_TEST(test_posted_message_arrives_in_its_slot_on_its_vp),
        GUEST_TEST(test_busy_slot_pending_eom_deliverable),
        GUEST_TEST(test_event_flags_and_newly_signaled),
        GUEST_TEST(test_masked_sint_raises_nothing),
        GUEST_TEST(test_signal_unknown_connection_status),
        GUEST_TEST(test_signal_unknown_connection_exit),
        GUEST_TEST(test_signal_event_port_sets_event_without_exit),
        GUEST_TEST(test_post_message_is_a_hypercall_exit),
        GUEST_TEST(test_bad_hypercalls_get_tlfs_statuses),
        GUEST_TEST(test_sim_sief_page_state_round_trip),
        GUEST_TEST(test_synic_registers_round_trip),
        GUEST_TEST(test_pages_move_with_simp_and_siefp),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
