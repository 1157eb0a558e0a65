/* Interrupt delivery seen by guests: WHvRequestInterrupt (fixed, lowest priority, NMI, LINT1,
 * INIT/SIPI) with physical, logical (flat, cluster, x2APIC) and broadcast destinations on up to 4
 * VPs; level-triggered interrupts and their ApicEoi exits; TPR/CR8 holding back interrupts; INIT/SIPI
 * from the host and from the guest's ICR; interrupt windows and PendingInterruption without a LAPIC;
 * and WHvRequestInterrupt's errors. Guests wait for interrupts with sti;hlt and count every
 * interrupt per APIC ID and vector; the host asserts exact counts. */
#include <stdio.h>

#include "guest_apic.h"

#define NR_VPS 4
#define ALL_VPS ((1u << NR_VPS) - 1)

#define XAPIC WHvX64LocalApicEmulationModeXApic
#define X2APIC WHvX64LocalApicEmulationModeX2Apic
#define PHYSICAL WHvX64InterruptDestinationModePhysical
#define LOGICAL WHvX64InterruptDestinationModeLogical
#define EDGE WHvX64InterruptTriggerModeEdge
#define LEVEL WHvX64InterruptTriggerModeLevel

/* ---- Fixed interrupts, physical destination ---- */

static void fixed_physical(WHV_X64_LOCAL_APIC_EMULATION_MODE mode, uint32_t flags)
{
    struct guest_vm *vm = irq_vm_create(mode, NR_VPS);

    irq_add_vps(vm, NR_VPS, flags);
    irq_start(vm, NR_VPS, NULL, NULL);
    /* One round per target: a vector of its own, requested while every VP is stopped. */
    for (uint32_t target = 0; target < NR_VPS; target++) {
        irq_round_begin(vm);
        FIXED_TO(vm, target, 0x40 + target);
        irq_round_end(vm, NR_VPS, NULL, NULL);
        EXPECT_VECTOR_ON(NR_VPS, 0x40 + target, 1u << target, 1);
    }
    /* All four at once, then twice the same vector to one VP (coalesced into one IRR bit at most). */
    irq_round_begin(vm);
    for (uint32_t target = 0; target < NR_VPS; target++)
        FIXED_TO(vm, target, 0x80 + 0x10 * target);
    irq_round_end(vm, NR_VPS, NULL, NULL);
    for (uint32_t target = 0; target < NR_VPS; target++)
        EXPECT_VECTOR_ON(NR_VPS, 0x80 + 0x10 * target, 1u << target, 1);
    guest_vm_destroy(vm);
}

static void test_fixed_physical_xapic(void) { fixed_physical(XAPIC, 0); }
static void test_fixed_physical_x2apic(void) { fixed_physical(X2APIC, IRQ_X2APIC); }

/* A fixed interrupt to an APIC ID that no VP has reaches nobody (and is not an error). */
static void test_fixed_to_missing_apic_id_reaches_nobody(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 2);

    irq_add_vps(vm, 2, 0);
    irq_start(vm, 2, NULL, NULL);
    irq_round_begin(vm);
    FIXED_TO(vm, 7, 0x44);
    irq_round_end(vm, 2, NULL, NULL);
    EXPECT_VECTOR_ON(2, 0x44, 0, 0);
    guest_vm_destroy(vm);
}

/* ---- NMI and LINT1 ---- */

static void test_nmi_runs_vector_2_handler(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);

    irq_add_vps(vm, NR_VPS, 0);
    irq_start(vm, NR_VPS, NULL, NULL);
    for (uint32_t target = 0; target < NR_VPS; target++) {
        irq_round_begin(vm);
        REQUEST_OK(vm, WHvX64InterruptTypeNmi, PHYSICAL, EDGE, target, 0);
        irq_round_end(vm, NR_VPS, NULL, NULL);
        EXPECT_VECTOR_ON(NR_VPS, 2, 1u << target, 1);
    }
    guest_vm_destroy(vm);
}

static void test_localint1_follows_lvt_lint1(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);

    irq_add_vps(vm, NR_VPS, IRQ_LINT1_NMI); /* LVT LINT1 = NMI */
    irq_start(vm, NR_VPS, NULL, NULL);
    irq_round_begin(vm);
    REQUEST_OK(vm, WHvX64InterruptTypeLocalInt1, PHYSICAL, EDGE, 2, 0);
    irq_round_end(vm, NR_VPS, NULL, NULL);
    EXPECT_VECTOR_ON(NR_VPS, 2, 1u << 2, 1);
    guest_vm_destroy(vm);
}

/* ---- Logical destinations, lowest priority, broadcast ---- */

static void test_logical_flat_xapic(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);

    irq_add_vps(vm, NR_VPS, IRQ_LOGICAL_FLAT); /* LDR = 1 << index */
    irq_start(vm, NR_VPS, NULL, NULL);
    irq_round_begin(vm);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x5, 0x51);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0xA, 0x52);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x8, 0x53);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0xFF, 0x54);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x30, 0x55); /* no VP has these bits */
    irq_round_end(vm, NR_VPS, NULL, NULL);
    EXPECT_VECTOR_ON(NR_VPS, 0x51, 0x5, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x52, 0xA, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x53, 0x8, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x54, ALL_VPS, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x55, 0, 0);
    guest_vm_destroy(vm);
}

static void test_logical_cluster_xapic(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);

    /* LDR: vp0 0x01, vp1 0x02, vp2 0x11, vp3 0x12 */
    irq_add_vps(vm, NR_VPS, IRQ_LOGICAL_CLUSTER);
    irq_start(vm, NR_VPS, NULL, NULL);
    irq_round_begin(vm);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x13, 0x61);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x02, 0x62);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x11, 0x63);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x24, 0x64); /* cluster 2: nobody */
    irq_round_end(vm, NR_VPS, NULL, NULL);
    EXPECT_VECTOR_ON(NR_VPS, 0x61, 0xC, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x62, 0x2, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x63, 0x4, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x64, 0, 0);
    guest_vm_destroy(vm);
}

static void test_logical_x2apic(void)
{
    struct guest_vm *vm = irq_vm_create(X2APIC, NR_VPS);

    /* x2APIC LDR of APIC ID i < 16: cluster 0, bit 1 << i */
    irq_add_vps(vm, NR_VPS, IRQ_X2APIC);
    irq_start(vm, NR_VPS, NULL, NULL);
    irq_round_begin(vm);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x6, 0x71);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x9, 0x72);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0xFFFF, 0x73);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x10006, 0x74); /* cluster 1: nobody */
    irq_round_end(vm, NR_VPS, NULL, NULL);
    EXPECT_VECTOR_ON(NR_VPS, 0x71, 0x6, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x72, 0x9, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x73, ALL_VPS, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x74, 0, 0);
    guest_vm_destroy(vm);
}

static void broadcast(WHV_X64_LOCAL_APIC_EMULATION_MODE mode, uint32_t flags, uint32_t dest)
{
    struct guest_vm *vm = irq_vm_create(mode, NR_VPS);

    irq_add_vps(vm, NR_VPS, flags);
    irq_start(vm, NR_VPS, NULL, NULL);
    irq_round_begin(vm);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, PHYSICAL, EDGE, dest, 0x90);
    REQUEST_OK(vm, WHvX64InterruptTypeNmi, PHYSICAL, EDGE, dest, 0);
    irq_round_end(vm, NR_VPS, NULL, NULL);
    EXPECT_VECTOR_ON(NR_VPS, 0x90, ALL_VPS, 1);
    EXPECT_VECTOR_ON(NR_VPS, 2, ALL_VPS, 1);
    guest_vm_destroy(vm);
}

static void test_broadcast_xapic_0xff(void) { broadcast(XAPIC, 0, 0xFF); }
static void test_broadcast_x2apic_0xffffffff(void) { broadcast(X2APIC, IRQ_X2APIC, 0xFFFFFFFF); }

static void test_lowest_priority_reaches_one_vp(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);
    uint32_t per_vp[NR_VPS] = {0};

    irq_add_vps(vm, NR_VPS, IRQ_LOGICAL_FLAT);
    irq_start(vm, NR_VPS, NULL, NULL);
    for (int round = 0; round < 8; round++) {
        uint32_t total = 0;
        irq_round_begin(vm);
        REQUEST_OK(vm, WHvX64InterruptTypeLowestPriority, LOGICAL, EDGE, ALL_VPS, 0xA0);
        REQUEST_OK(vm, WHvX64InterruptTypeLowestPriority, LOGICAL, EDGE, 0x6, 0xA1);
        irq_round_end(vm, NR_VPS, NULL, NULL);
        for (uint32_t vp = 0; vp < NR_VPS; vp++) {
            total += host_irq_count[vp][0xA0];
            per_vp[vp] += host_irq_count[vp][0xA0];
        }
        TEST_ASSERT(total == 1, "(round %d: lowest-priority vector 0xA0 to logical 0xF taken %u times: %u %u %u %u)",
                    round, total, host_irq_count[0][0xA0], host_irq_count[1][0xA0], host_irq_count[2][0xA0],
                    host_irq_count[3][0xA0]);
        TEST_ASSERT(host_irq_count[1][0xA1] + host_irq_count[2][0xA1] == 1 && host_irq_count[0][0xA1] == 0 &&
                        host_irq_count[3][0xA1] == 0,
                    "(round %d: lowest-priority vector 0xA1 to logical 0x6: %u %u %u %u)", round,
                    host_irq_count[0][0xA1], host_irq_count[1][0xA1], host_irq_count[2][0xA1], host_irq_count[3][0xA1]);
    }
    /* Physical destination: exactly that VP. */
    irq_round_begin(vm);
    REQUEST_OK(vm, WHvX64InterruptTypeLowestPriority, PHYSICAL, EDGE, 3, 0xA2);
    irq_round_end(vm, NR_VPS, NULL, NULL);
    EXPECT_VECTOR_ON(NR_VPS, 0xA2, 1u << 3, 1);
    guest_vm_destroy(vm);
}

/* A software-disabled APIC (SVR bit 8 clear) drops fixed interrupts. */
GUEST_CODE static void guest_disabled_apic(void)
{
    guest_cli();
    for (unsigned v = 32; v < 256; v++)
        guest_install_handler((uint8_t)v, irq_count_handler);
    apic_write(APIC_REG_SVR, 0xFF); /* software disabled */
    GUEST_SYNC(1);                  /* host requests 0x45 */
    apic_write(APIC_REG_SVR, 0x1FF);
    GUEST_SYNC(2); /* host requests IRQ_FLUSH_VECTOR */
    guest_wait_vector(0, IRQ_FLUSH_VECTOR);
    GUEST_SYNC(3, irq_count[0][0x45], apic_read(APIC_VEC_OFFSET(APIC_REG_IRR, 0x45)) & APIC_VEC_BIT(0x45));
}

static void test_software_disabled_apic_drops_fixed(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 1);
    struct guest_ucall uc;

    guest_vm_add_vp(vm, 0, guest_disabled_apic, 0, 0);
    irq_expect_sync(vm, 0, 1, NULL, NULL);
    FIXED_TO(vm, 0, 0x45);
    irq_expect_sync(vm, 0, 2, NULL, NULL);
    FIXED_TO(vm, 0, IRQ_FLUSH_VECTOR);
    TEST_ASSERT_EQ(irq_run(vm, 0, &uc, NULL, NULL), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 3);
    TEST_ASSERT(uc.args[1] == 0 && uc.args[2] == 0,
                "(vector 0x45 sent to a software-disabled APIC was taken %llu times later, IRR bit %llu)",
                (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);
    guest_vm_destroy(vm);
}

/* ---- Level-triggered interrupts and ApicEoi exits ---- */

struct eoi_log {
    uint32_t count[NR_VPS];
    uint32_t vector[NR_VPS][8];
};

static bool record_eoi(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, void *opaque)
{
    struct eoi_log *log = opaque;
    (void)vm;
    if (exit->ExitReason != WHvRunVpExitReasonX64ApicEoi)
        TEST_FAIL("vp %u: unexpected exit %s (0x%x) at rip 0x%llx", vp, guest_exit_reason_name(exit->ExitReason),
                  (unsigned)exit->ExitReason, (unsigned long long)exit->VpContext.Rip);
    if (log->count[vp] < 8)
        log->vector[vp][log->count[vp]] = exit->ApicEoi.InterruptVector;
    log->count[vp]++;
    return true;
}

static void level_eoi(WHV_X64_LOCAL_APIC_EMULATION_MODE mode, uint32_t flags)
{
    struct guest_vm *vm = irq_vm_create(mode, 2);
    static struct eoi_log log;

    irq_add_vps(vm, 2, flags);
    memset(&log, 0, sizeof(log));
    irq_start(vm, 2, record_eoi, &log);
    TEST_ASSERT(log.count[0] == 0 && log.count[1] == 0, "(ApicEoi exits before any interrupt: %u %u)",
                log.count[0], log.count[1]);
    for (int round = 0; round < 2; round++) {
        memset(&log, 0, sizeof(log));
        irq_round_begin(vm);
        REQUEST_OK(vm, WHvX64InterruptTypeFixed, PHYSICAL, LEVEL, 1, 0x60);
        REQUEST_OK(vm, WHvX64InterruptTypeFixed, PHYSICAL, EDGE, 0, 0x61);
        REQUEST_OK(vm, WHvX64InterruptTypeFixed, PHYSICAL, EDGE, 1, 0x62);
        irq_round_end(vm, 2, record_eoi, &log);
        EXPECT_VECTOR_ON(2, 0x60, 0x2, 1);
        EXPECT_VECTOR_ON(2, 0x61, 0x1, 1);
        EXPECT_VECTOR_ON(2, 0x62, 0x2, 1);
        TEST_ASSERT(log.count[0] == 0, "(round %d: vp 0 had %u ApicEoi exits, first vector 0x%x; it only EOIed edge vectors)",
                    round, log.count[0], log.vector[0][0]);
        TEST_ASSERT(log.count[1] == 1 && log.vector[1][0] == 0x60,
                    "(round %d: vp 1 had %u ApicEoi exits (vectors 0x%x 0x%x), expected exactly one for 0x60)", round,
                    log.count[1], log.vector[1][0], log.vector[1][1]);
    }
    guest_vm_destroy(vm);
}

static void test_level_interrupt_gives_one_apiceoi_exit_xapic(void) { level_eoi(XAPIC, 0); }
static void test_level_interrupt_gives_one_apiceoi_exit_x2apic(void) { level_eoi(X2APIC, IRQ_X2APIC); }

/* x2APIC switched on through WHvX64RegisterApicBase before the VPs ever ran: KVM applies the
 * register (and derives the x2APIC LDR from the ID) only at the next run, yet the target set and
 * a logical interrupt requested now must already see x2APIC IDs 0 and 1 in cluster 0. */
/* x2APIC switched on through WHvX64RegisterApicBase while the VPs are stopped (xAPIC guests at
 * READY): KVM applies the register (and derives the x2APIC LDR from the ID) only at the next run,
 * yet the target set and a logical interrupt requested now must already see x2APIC IDs 0 and 1
 * in cluster 0. */
static void test_logical_x2apic_set_by_apicbase_before_run(void)
{
    struct guest_vm *vm = irq_vm_create(X2APIC, 2);
    UINT32 targets[2] = {0xFF, 0xFF}, n = 0;
    const uint32_t x2 = 1;
    static struct eoi_log log;

    irq_add_vps(vm, 2, 0);
    irq_start(vm, 2, NULL, NULL);
    for (uint32_t vp = 0; vp < 2; vp++)
        guest_set_reg(vm, vp, WHvX64RegisterApicBase, guest_get_reg(vm, vp, WHvX64RegisterApicBase) | APIC_BASE_EXTD);
    guest_vm_write(vm, (uint64_t)(uintptr_t)&guest_apic_x2, &x2, sizeof(x2)); /* the guests' APIC accessors */
    TEST_HR(WHvGetInterruptTargetVpSet(vm->partition, 0x3, LOGICAL, targets, 2, &n));
    TEST_ASSERT(n == 2 && targets[0] == 0 && targets[1] == 1,
                "(x2APIC logical destination 0x3 before the run: %u VPs (%u, %u), expected VPs 0 and 1)", n,
                targets[0], targets[1]);
    TEST_HR(WHvGetInterruptTargetVpSet(vm->partition, 0x2, LOGICAL, targets, 2, &n));
    TEST_ASSERT(n == 1 && targets[0] == 1, "(x2APIC logical destination 0x2: %u VPs, first %u)", n, targets[0]);
    irq_round_begin(vm);
    memset(&log, 0, sizeof(log));
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, EDGE, 0x3, 0x75);
    REQUEST_OK(vm, WHvX64InterruptTypeFixed, LOGICAL, LEVEL, 0x2, 0x76);
    irq_round_end(vm, 2, record_eoi, &log);
    EXPECT_VECTOR_ON(2, 0x75, 0x3, 1);
    EXPECT_VECTOR_ON(2, 0x76, 0x2, 1);
    TEST_ASSERT(log.count[0] == 0 && log.count[1] == 1 && log.vector[1][0] == 0x76,
                "(ApicEoi exits: vp 0 %u, vp 1 %u (first 0x%x); expected one for 0x76 on vp 1)", log.count[0],
                log.count[1], log.vector[1][0]);
    guest_vm_destroy(vm);
}

/* ApicEoi exits in program order. The handler of ORDER_VECTOR writes ORDER_PORT and EOIs, in the
 * order the host puts in `order_eoi_first`; the host logs the exits up to the next SYNC: 'P' for
 * the port write, 'E' for an ApicEoi of ORDER_VECTOR. A level interrupt gives "PE" or "EP"; an
 * edge interrupt on the same vector (its EOI is no ApicEoi) gives "P". The handler also notes
 * whether its vector was in service (ISR) when it started: a host whose LAPIC EOIs at delivery
 * (kvm_pvm here) reports the EOI before the handler runs, and nothing in KVM's LAPIC shows the
 * guest's own EOI, so "port write, then EOI" cannot be ordered there and is only printed. */
#define ORDER_VECTOR 0x68
#define ORDER_PORT 0x5E0
#define ORDER_LOG_MAX 8

static uint32_t order_eoi_first;     /* written by the host before each step */
static uint32_t order_not_in_service; /* written by the handler */

GUEST_CODE static void order_handler(struct guest_ex_frame *f)
{
    if (!(apic_read(APIC_VEC_OFFSET(APIC_REG_ISR, ORDER_VECTOR)) & APIC_VEC_BIT(ORDER_VECTOR)))
        *(volatile uint32_t *)&order_not_in_service = 1;
    if (*(volatile uint32_t *)&order_eoi_first) {
        apic_eoi();
        guest_outb(ORDER_PORT, 1);
    } else {
        guest_outb(ORDER_PORT, 1);
        apic_eoi();
    }
    irq_count[0][f->vector & 0xFF]++;
}

/* Each step: GUEST_SYNC(step), the host requests ORDER_VECTOR, the guest waits for it. */
GUEST_CODE static void guest_eoi_order(uint64_t x2, uint64_t steps)
{
    guest_cli();
    apic_enable(x2 != 0);
    guest_install_handler(ORDER_VECTOR, order_handler);
    for (uint32_t step = 0; step < steps; step++) {
        irq_count[0][ORDER_VECTOR] = 0;
        GUEST_SYNC(step);
        guest_wait_vector(0, ORDER_VECTOR);
    }
    GUEST_SYNC(steps);
}

struct order_log {
    char text[ORDER_LOG_MAX + 1];
    unsigned n;
};

static bool record_order(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, void *opaque)
{
    struct order_log *log = opaque;
    char c;
    if (exit->ExitReason == WHvRunVpExitReasonX64IoPortAccess && exit->IoPortAccess.PortNumber == ORDER_PORT) {
        c = 'P';
        guest_skip_instruction(vm, vp, exit);
    } else if (exit->ExitReason == WHvRunVpExitReasonX64ApicEoi &&
               exit->ApicEoi.InterruptVector == ORDER_VECTOR) {
        c = 'E';
    } else {
        TEST_FAIL("vp %u: unexpected exit %s (0x%x) at rip 0x%llx", vp, guest_exit_reason_name(exit->ExitReason),
                  (unsigned)exit->ExitReason, (unsigned long long)exit->VpContext.Rip);
    }
    if (log->n < ORDER_LOG_MAX)
        log->text[log->n++] = c;
    return true;
}

static void eoi_order(WHV_X64_LOCAL_APIC_EMULATION_MODE mode, uint64_t x2)
{
    static const struct {
        WHV_INTERRUPT_TRIGGER_MODE trigger;
        uint32_t eoi_first;
        const char *want;
    } steps[] = {
        {LEVEL, 1, "EP"}, {EDGE, 1, "P"}, {LEVEL, 1, "EP"}, {LEVEL, 0, "PE"},
        {EDGE, 0, "P"},   {LEVEL, 0, "PE"}, {EDGE, 1, "P"}, {LEVEL, 1, "EP"},
    };
    const uint32_t n = sizeof(steps) / sizeof(steps[0]);
    struct guest_vm *vm = irq_vm_create(mode, 1);
    static struct order_log log;

    guest_vm_add_vp(vm, 0, guest_eoi_order, x2, n);
    irq_expect_sync(vm, 0, 0, NULL, NULL);
    for (uint32_t i = 0; i < n; i++) {
        bool early_host;
        memset(&log, 0, sizeof(log));
        order_eoi_first = steps[i].eoi_first;
        order_not_in_service = 0;
        sync_global_to_guest(vm, order_eoi_first);
        sync_global_to_guest(vm, order_not_in_service);
        REQUEST_OK(vm, WHvX64InterruptTypeFixed, PHYSICAL, steps[i].trigger, 0, ORDER_VECTOR);
        irq_expect_sync(vm, 0, i + 1, record_order, &log);
        sync_global_from_guest(vm, order_not_in_service);
        early_host = order_not_in_service && steps[i].trigger == LEVEL && !steps[i].eoi_first;
        if (early_host && strcmp(log.text, steps[i].want) != 0) {
            printf("  step %u: exits \"%s\": this host's LAPIC EOIs at delivery (vector not in service in its "
                   "handler), the guest's later EOI is invisible\n", i, log.text);
            continue;
        }
        TEST_ASSERT(strcmp(log.text, steps[i].want) == 0,
                    "(step %u, %s interrupt, handler %s: exits \"%s\", expected \"%s\" (P port write, E ApicEoi))", i,
                    steps[i].trigger == LEVEL ? "level" : "edge",
                    steps[i].eoi_first ? "EOI then port write" : "port write then EOI", log.text, steps[i].want);
    }
    guest_vm_destroy(vm);
}

static void test_apiceoi_exits_in_program_order_xapic(void) { eoi_order(XAPIC, 0); }
static void test_apiceoi_exits_in_program_order_x2apic(void) { eoi_order(X2APIC, 1); }

/* ---- TPR ---- */

GUEST_CODE static void guest_tpr(void)
{
    guest_cli();
    apic_enable(false);
    for (unsigned v = 32; v < 256; v++)
        guest_install_handler((uint8_t)v, irq_count_handler);

    /* CR8 = 5 holds back classes <= 5. */
    __asm__ volatile("mov %0, %%cr8" ::"r"(5ull) : "memory");
    GUEST_ASSERT_EQ(apic_read(APIC_REG_TPR), 0x50);
    GUEST_SYNC(1); /* host: 0x55 and 0x65 */
    guest_wait_vector(0, 0x65);
    GUEST_ASSERT_EQ(irq_count[0][0x55], 0);
    GUEST_ASSERT_NE(apic_read(APIC_VEC_OFFSET(APIC_REG_IRR, 0x55)) & APIC_VEC_BIT(0x55), 0);
    __asm__ volatile("mov %0, %%cr8" ::"r"(0ull) : "memory");
    guest_wait_vector(0, 0x55);
    GUEST_ASSERT_EQ(irq_count[0][0x55], 1);
    GUEST_ASSERT_EQ(irq_count[0][0x65], 1);

    /* APIC TPR = 0x70 holds back classes <= 7; CR8 reads 7. */
    apic_write(APIC_REG_TPR, 0x70);
    GUEST_ASSERT_EQ(guest_read_cr8(), 7);
    GUEST_SYNC(2); /* host: 0x7F and 0x80 */
    guest_wait_vector(0, 0x80);
    GUEST_ASSERT_EQ(irq_count[0][0x7F], 0);
    apic_write(APIC_REG_TPR, 0);
    guest_wait_vector(0, 0x7F);
    GUEST_SYNC(3, irq_count[0][0x55], irq_count[0][0x65], irq_count[0][0x7F], irq_count[0][0x80]);
}

static void test_tpr_holds_back_lower_classes(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 1);
    struct guest_ucall uc;

    guest_vm_add_vp(vm, 0, guest_tpr, 0, 0);
    irq_expect_sync(vm, 0, 1, NULL, NULL);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterCr8), 5);
    FIXED_TO(vm, 0, 0x55);
    FIXED_TO(vm, 0, 0x65);
    irq_expect_sync(vm, 0, 2, NULL, NULL);
    FIXED_TO(vm, 0, 0x7F);
    FIXED_TO(vm, 0, 0x80);
    TEST_ASSERT_EQ(irq_run(vm, 0, &uc, NULL, NULL), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 3);
    TEST_ASSERT(uc.args[1] == 1 && uc.args[2] == 1 && uc.args[3] == 1 && uc.args[4] == 1, "(counts %llu %llu %llu %llu)",
                (unsigned long long)uc.args[1], (unsigned long long)uc.args[2], (unsigned long long)uc.args[3],
                (unsigned long long)uc.args[4]);
    guest_vm_destroy(vm);
}

/* ---- INIT / SIPI ---- */

#define SIPI_PAGE 0x90 /* GPA 0x90000 */
#define SIPI_PORT 0x511
#define SIPI_MARK 0xA5

/* Real mode at CS:IP = 0x9000:0000: mov al, 0xA5; mov dx, 0x511; out dx, al; hlt; jmp $-1 */
static void write_sipi_code(struct guest_vm *vm)
{
    static const uint8_t code[] = {0xB0, SIPI_MARK, 0xBA, SIPI_PORT & 0xFF, SIPI_PORT >> 8, 0xEE, 0xF4, 0xEB, 0xFD};
    memcpy(guest_vm_gpa2hva(vm, (uint64_t)SIPI_PAGE << 12), code, sizeof(code));
}

static uint64_t startup_suspend(struct guest_vm *vm, uint32_t vp)
{
    return guest_get_reg_value(vm, vp, WHvRegisterInternalActivityState).InternalActivity.StartupSuspend;
}

static void expect_ap_at_sipi_page(struct vp_async *ap)
{
    const WHV_RUN_VP_EXIT_CONTEXT *e = &ap->exit;

    TEST_HR(ap->hr);
    TEST_ASSERT(e->ExitReason == WHvRunVpExitReasonX64IoPortAccess, "(AP exit %s (0x%x) at cs 0x%x rip 0x%llx)",
                guest_exit_reason_name(e->ExitReason), (unsigned)e->ExitReason, e->VpContext.Cs.Selector,
                (unsigned long long)e->VpContext.Rip);
    TEST_ASSERT_EQ(e->IoPortAccess.PortNumber, SIPI_PORT);
    TEST_ASSERT_EQ(e->IoPortAccess.Rax & 0xFF, SIPI_MARK);
    TEST_ASSERT_EQ(e->VpContext.Cs.Selector, SIPI_PAGE << 8);
    TEST_ASSERT_EQ(e->VpContext.Cs.Base, (uint64_t)SIPI_PAGE << 12);
    TEST_ASSERT_EQ(e->VpContext.Rip, 5); /* the OUT, 5 bytes into the page */
    TEST_ASSERT_EQ(e->VpContext.ExecutionState.Cr0Pe, 0);
}

GUEST_CODE static void guest_never_runs(void) { GUEST_FAIL("an AP ran its 64-bit entry instead of the SIPI page"); }

static void test_init_sipi_from_host_starts_ap(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 2);
    static struct vp_async ap;

    guest_vm_add_vp(vm, 0, guest_never_runs, 0, 0);
    guest_vm_add_vp(vm, 1, guest_never_runs, 0, 0);
    write_sipi_code(vm);
    TEST_ASSERT_EQ(startup_suspend(vm, 0), 0);
    TEST_ASSERT_EQ(startup_suspend(vm, 1), 1);

    vp_async_start(&ap, vm, 1);
    TEST_ASSERT(!vp_async_wait(&ap, 200), "(the AP's WHvRunVirtualProcessor returned 0x%08x, exit %s, before INIT/SIPI)",
                (unsigned)ap.hr, guest_exit_reason_name(ap.exit.ExitReason));
    REQUEST_OK(vm, WHvX64InterruptTypeInit, PHYSICAL, EDGE, 1, 0);
    TEST_ASSERT(!vp_async_wait(&ap, 100), "(the AP's run returned 0x%08x, exit %s, after INIT alone)", (unsigned)ap.hr,
                guest_exit_reason_name(ap.exit.ExitReason));
    REQUEST_OK(vm, WHvX64InterruptTypeSipi, PHYSICAL, EDGE, 1, SIPI_PAGE);
    if (!vp_async_wait(&ap, 3000)) {
        vp_async_stop(&ap);
        TEST_FAIL("the AP did not leave WHvRunVirtualProcessor within 3 s of the SIPI (exit %s)",
                  guest_exit_reason_name(ap.exit.ExitReason));
    }
    vp_async_stop(&ap);
    expect_ap_at_sipi_page(&ap);
    TEST_ASSERT_EQ(startup_suspend(vm, 1), 0);
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_bsp_starts_ap(uint64_t x2)
{
    guest_cli();
    apic_enable(x2 != 0);
    apic_send_ipi(1, 0x4500);              /* INIT, level assert, physical */
    apic_send_ipi(1, 0x4600 | SIPI_PAGE); /* SIPI */
    GUEST_SYNC(1);
    GUEST_DONE();
}

/* X64ApicInitSipiExitTrap (QEMU's WHPX sets it): accepted, but KVM's LAPIC delivers INIT and
 * SIPI itself and no trap exit comes; any exit but the AP's I/O would fail the test. */
static void enable_init_sipi_trap(struct guest_vm *vm)
{
    WHV_PARTITION_PROPERTY prop;
    WHV_CAPABILITY cap;
    UINT32 written = 0;

    memset(&cap, 0, sizeof(cap));
    TEST_HR(WHvGetCapability(WHvCapabilityCodeExtendedVmExits, &cap, sizeof(cap), &written));
    TEST_ASSERT(cap.ExtendedVmExits.X64ApicInitSipiExitTrap, "(X64ApicInitSipiExitTrap not advertised)");
    memset(&prop, 0, sizeof(prop));
    prop.ExtendedVmExits.X64ApicInitSipiExitTrap = 1;
    TEST_HR(WHvSetPartitionProperty(vm->partition, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)));
}

static void init_sipi_from_guest(WHV_X64_LOCAL_APIC_EMULATION_MODE mode, uint64_t x2, bool trap)
{
    struct guest_vm *vm = irq_vm_create(mode, 2);
    static struct vp_async ap;

    if (trap)
        enable_init_sipi_trap(vm);

    guest_vm_add_vp(vm, 0, guest_bsp_starts_ap, x2, 0);
    guest_vm_add_vp(vm, 1, guest_never_runs, 0, 0);
    write_sipi_code(vm);
    TEST_ASSERT_EQ(startup_suspend(vm, 1), 1);
    vp_async_start(&ap, vm, 1);
    TEST_ASSERT(!vp_async_wait(&ap, 100), "(the AP's WHvRunVirtualProcessor returned 0x%08x, exit %s, before INIT/SIPI)",
                (unsigned)ap.hr, guest_exit_reason_name(ap.exit.ExitReason));
    irq_expect_sync(vm, 0, 1, NULL, NULL);
    if (!vp_async_wait(&ap, 3000)) {
        vp_async_stop(&ap);
        TEST_FAIL("the AP did not leave WHvRunVirtualProcessor within 3 s of the BSP's SIPI (exit %s)",
                  guest_exit_reason_name(ap.exit.ExitReason));
    }
    vp_async_stop(&ap);
    expect_ap_at_sipi_page(&ap);
    guest_vm_destroy(vm);
}

static void test_init_sipi_from_guest_bsp_xapic(void) { init_sipi_from_guest(XAPIC, 0, false); }
static void test_init_sipi_from_guest_bsp_x2apic(void) { init_sipi_from_guest(X2APIC, 1, false); }
static void test_init_sipi_with_trap_bit_still_starts_ap(void) { init_sipi_from_guest(XAPIC, 0, true); }

/* ---- No LAPIC: interrupt window + PendingInterruption ---- */

/* Without a LAPIC there is nothing to EOI and no APIC ID to read: everything counts as VP 0. */
GUEST_CODE static void irq_count_handler_none(struct guest_ex_frame *f) { irq_count[0][f->vector & 0xFF]++; }

GUEST_CODE static void guest_window(void)
{
    guest_cli();
    for (unsigned v = 32; v < 256; v++)
        guest_install_handler((uint8_t)v, irq_count_handler_none);
    GUEST_SYNC(1); /* host asks for an interrupt window */
    GUEST_SYNC(2); /* IF = 0: no window yet */
    guest_sti_hlt();
    guest_cli();
    GUEST_SYNC(3, irq_count[0][0x41]);
}

static void test_mode_none_window_then_pending_interruption(void)
{
    struct guest_vm *vm = irq_vm_create(WHvX64LocalApicEmulationModeNone, 1);
    WHV_RUN_VP_EXIT_CONTEXT exit;
    WHV_REGISTER_VALUE v;
    struct guest_ucall uc;
    int halts = 0;

    guest_vm_add_vp(vm, 0, guest_window, 0, 0);
    TEST_HR_EQ(request_irq(vm, WHvX64InterruptTypeFixed, PHYSICAL, EDGE, 0, 0x41), (HRESULT)0xC0350008);
    irq_expect_sync(vm, 0, 1, NULL, NULL);

    memset(&v, 0, sizeof(v));
    v.DeliverabilityNotifications.InterruptNotification = 1;
    guest_set_reg_value(vm, 0, WHvX64RegisterDeliverabilityNotifications, v);
    irq_expect_sync(vm, 0, 2, NULL, NULL);
    irq_run_once(vm, 0, &exit, IRQ_RUN_TIMEOUT_MS);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64InterruptWindow, "(exit %s (0x%x) at rip 0x%llx)",
                guest_exit_reason_name(exit.ExitReason), (unsigned)exit.ExitReason,
                (unsigned long long)exit.VpContext.Rip);
    TEST_ASSERT_EQ(exit.InterruptWindow.DeliverableType, WHvX64PendingInterrupt);
    TEST_ASSERT_EQ(exit.VpContext.Rflags & 0x200, 0x200);

    memset(&v, 0, sizeof(v));
    v.PendingInterruption.InterruptionPending = 1;
    v.PendingInterruption.InterruptionType = WHvX64PendingInterrupt;
    v.PendingInterruption.InterruptionVector = 0x41;
    guest_set_reg_value(vm, 0, WHvRegisterPendingInterruption, v);
    /* The handler returns to the HLT or after it: a halt exit in between is fine (no LAPIC). */
    for (;;) {
        irq_run_once(vm, 0, &exit, IRQ_RUN_TIMEOUT_MS);
        if (exit.ExitReason == WHvRunVpExitReasonX64Halt && ++halts == 1)
            continue;
        TEST_ASSERT(guest_ucall_decode(vm, 0, &exit, &uc), "(exit %s (0x%x) at rip 0x%llx)",
                    guest_exit_reason_name(exit.ExitReason), (unsigned)exit.ExitReason,
                    (unsigned long long)exit.VpContext.Rip);
        break;
    }
    TEST_ASSERT_EQ(uc.type, UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 3);
    TEST_ASSERT(uc.args[1] == 1, "(handler of vector 0x41 ran %llu times)", (unsigned long long)uc.args[1]);
    guest_vm_destroy(vm);
}

/* ---- WHvRequestInterrupt errors ---- */

static HRESULT request_raw(struct guest_vm *vm, uint32_t type, uint32_t mode, uint32_t trigger, uint32_t vtl,
                           uint32_t dest, uint32_t vector, UINT32 size)
{
    WHV_INTERRUPT_CONTROL ctl[2];
    memset(ctl, 0, sizeof(ctl));
    ctl[0].Type = type;
    ctl[0].DestinationMode = mode;
    ctl[0].TriggerMode = trigger;
    ctl[0].TargetVtl = (uint8_t)vtl;
    ctl[0].Destination = dest;
    ctl[0].Vector = vector;
    return WHvRequestInterrupt(vm->partition, ctl, size);
}

/* Every mismatch is listed, then the test fails once. */
static unsigned request_mismatches;

#define EXPECT_REQUEST(want, ...)                                                                  \
    do {                                                                                           \
        HRESULT hr_ = request_raw(vm, __VA_ARGS__);                                                \
        if (hr_ != (HRESULT)(want)) {                                                              \
            printf("  line %d: WHvRequestInterrupt(type, mode, trigger, vtl, dest, vector, size = %s)" \
                   " returned 0x%08x, expected 0x%08x\n",                                          \
                   __LINE__, #__VA_ARGS__, (unsigned)hr_, (unsigned)(want));                       \
            request_mismatches++;                                                                  \
        }                                                                                          \
    } while (0)
#define EXPECT_REQUEST_FAILS(...)                                                                  \
    do {                                                                                           \
        HRESULT hr_ = request_raw(vm, __VA_ARGS__);                                                \
        if (SUCCEEDED(hr_)) {                                                                      \
            printf("  line %d: WHvRequestInterrupt(%s) returned 0x%08x, expected a failure\n",     \
                   __LINE__, #__VA_ARGS__, (unsigned)hr_);                                         \
            request_mismatches++;                                                                  \
        }                                                                                          \
    } while (0)

static void test_request_interrupt_bad_input(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 2);
    const UINT32 size = sizeof(WHV_INTERRUPT_CONTROL);
    WHV_PARTITION_HANDLE unset;
    HRESULT hr;

    request_mismatches = 0;
    TEST_ASSERT_EQ(sizeof(WHV_INTERRUPT_CONTROL), 16);
    irq_add_vps(vm, 2, 0);
    /* Fine */
    EXPECT_REQUEST(S_OK, 0, 0, 0, 0, 0, 0x30, size);
    EXPECT_REQUEST(S_OK, 4, 0, 0, 0, 1, 0, size);
    /* Sizes */
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 0, 0, 0, 0x30, 0);
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 0, 0, 0, 0x30, 8);
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 0, 0, 0, 0x30, size - 1);
    /* Vectors of fixed and lowest-priority interrupts: 16..255 */
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 0, 0, 0, 0, size);
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 0, 0, 0, 15, size);
    EXPECT_REQUEST(E_INVALIDARG, 1, 0, 0, 0, 0, 15, size);
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 0, 0, 0, 256, size);
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 0, 0, 0, 0x130, size);
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 1, 0, 0, 15, size); /* level too */
    /* Types WHP does not define: SMI 2 and remote read 3 (TLFS-only) must fail, any code;
     * 10 and up are unknown everywhere. */
    EXPECT_REQUEST_FAILS(2, 0, 0, 0, 0, 0x30, size);
    EXPECT_REQUEST_FAILS(3, 0, 0, 0, 0, 0x30, size);
    EXPECT_REQUEST(E_INVALIDARG, 10, 0, 0, 0, 0, 0x30, size);
    EXPECT_REQUEST(E_INVALIDARG, 0xFF, 0, 0, 0, 0, 0x30, size);
    /* Destination and trigger modes beyond Logical / Level; TargetVtl != 0 */
    EXPECT_REQUEST(E_INVALIDARG, 0, 2, 0, 0, 0, 0x30, size);
    EXPECT_REQUEST(E_INVALIDARG, 0, 0, 2, 0, 0, 0x30, size);
    EXPECT_REQUEST_FAILS(0, 0, 0, 1, 0, 0x30, size);
    hr = WHvRequestInterrupt(vm->partition, NULL, size);
    if (hr != E_INVALIDARG && hr != E_POINTER) {
        printf("  WHvRequestInterrupt(NULL control block) returned 0x%08x\n", (unsigned)hr);
        request_mismatches++;
    }
    guest_vm_destroy(vm);

    /* No LAPIC emulation: ERROR_HV_OPERATION_DENIED for every type */
    vm = irq_vm_create(WHvX64LocalApicEmulationModeNone, 1);
    guest_vm_add_vp(vm, 0, guest_never_runs, 0, 0);
    EXPECT_REQUEST(0xC0350008, 0, 0, 0, 0, 0, 0x30, size);
    EXPECT_REQUEST(0xC0350008, 4, 0, 0, 0, 0, 0, size);
    EXPECT_REQUEST(0xC0350008, 5, 0, 0, 0, 0, 0, size);
    guest_vm_destroy(vm);

    /* A partition that is not set up */
    TEST_HR(WHvCreatePartition(&unset));
    {
        WHV_INTERRUPT_CONTROL ctl;
        memset(&ctl, 0, sizeof(ctl));
        ctl.Vector = 0x30;
        hr = WHvRequestInterrupt(unset, &ctl, size);
        WHvDeletePartition(unset);
        if (SUCCEEDED(hr)) {
            printf("  a partition without WHvSetupPartition accepted an interrupt: 0x%08x\n", (unsigned)hr);
            request_mismatches++;
        }
    }
    TEST_ASSERT(request_mismatches == 0, "(%u mismatches, listed above)", request_mismatches);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_fixed_physical_xapic),
        GUEST_TEST(test_fixed_physical_x2apic),
        GUEST_TEST(test_fixed_to_missing_apic_id_reaches_nobody),
        GUEST_TEST(test_nmi_runs_vector_2_handler),
        GUEST_TEST(test_localint1_follows_lvt_lint1),
        GUEST_TEST(test_logical_flat_xapic),
        GUEST_TEST(test_logical_cluster_xapic),
        GUEST_TEST(test_logical_x2apic),
        GUEST_TEST(test_logical_x2apic_set_by_apicbase_before_run),
        GUEST_TEST(test_broadcast_xapic_0xff),
        GUEST_TEST(test_broadcast_x2apic_0xffffffff),
        GUEST_TEST(test_lowest_priority_reaches_one_vp),
        GUEST_TEST(test_software_disabled_apic_drops_fixed),
        GUEST_TEST(test_level_interrupt_gives_one_apiceoi_exit_xapic),
        GUEST_TEST(test_level_interrupt_gives_one_apiceoi_exit_x2apic),
        GUEST_TEST(test_apiceoi_exits_in_program_order_xapic),
        GUEST_TEST(test_apiceoi_exits_in_program_order_x2apic),
        GUEST_TEST(test_tpr_holds_back_lower_classes),
        GUEST_TEST(test_init_sipi_from_host_starts_ap),
        GUEST_TEST(test_init_sipi_from_guest_bsp_xapic),
        GUEST_TEST(test_init_sipi_from_guest_bsp_x2apic),
        GUEST_TEST(test_init_sipi_with_trap_bit_still_starts_ap),
        GUEST_TEST(test_mode_none_window_then_pending_interruption),
        GUEST_TEST(test_request_interrupt_bad_input),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
