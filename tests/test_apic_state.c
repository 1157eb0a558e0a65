/* LAPIC state through the WHP API: WHvGet/SetVirtualProcessorInterruptControllerState2 and
 * WHvGet/SetVirtualProcessorState(InterruptControllerState2) (xAPIC page layout), the APIC
 * register names, a pending interrupt carried through a get/set round trip (same VP and a fresh
 * partition), and WHvGetInterruptTargetVpSet for every destination model, with its errors. */
#include <stdio.h>

#include "guest_apic.h"

#define NR_VPS 4
#define ALL_VPS ((1u << NR_VPS) - 1)
#define STATE_SIZE 4096

#define XAPIC WHvX64LocalApicEmulationModeXApic
#define X2APIC WHvX64LocalApicEmulationModeX2Apic
#define PHYSICAL WHvX64InterruptDestinationModePhysical
#define LOGICAL WHvX64InterruptDestinationModeLogical

static uint32_t state_reg(const uint8_t *state, unsigned off)
{
    uint32_t v;
    memcpy(&v, state + off, 4);
    return v;
}

static void state_set_reg(uint8_t *state, unsigned off, uint32_t v) { memcpy(state + off, &v, 4); }

static bool state_vec(const uint8_t *state, unsigned base, unsigned vector)
{
    return (state_reg(state, APIC_VEC_OFFSET(base, vector)) & APIC_VEC_BIT(vector)) != 0;
}

static void get_state(struct guest_vm *vm, uint32_t vp, uint8_t *state)
{
    UINT32 written = 0;
    memset(state, 0xCC, STATE_SIZE);
    TEST_HR(WHvGetVirtualProcessorInterruptControllerState2(vm->partition, vp, state, STATE_SIZE, &written));
    TEST_ASSERT_EQ(written, STATE_SIZE);
}

static void set_state(struct guest_vm *vm, uint32_t vp, const uint8_t *state)
{
    TEST_HR(WHvSetVirtualProcessorInterruptControllerState2(vm->partition, vp, state, STATE_SIZE));
}

/* ---- Layout ---- */

static void test_state2_has_xapic_page_layout(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);
    static uint8_t state[STATE_SIZE], state_b[STATE_SIZE];
    UINT32 written = 0;

    irq_add_vps(vm, NR_VPS, IRQ_LOGICAL_FLAT);
    irq_start(vm, NR_VPS, NULL, NULL); /* SVR 0x1FF, DFR flat, LDR 1 << index */
    for (uint32_t vp = 0; vp < NR_VPS; vp++) {
        get_state(vm, vp, state);
        TEST_ASSERT(state_reg(state, APIC_REG_ID) == vp << 24, "(vp %u: ID@0x20 = 0x%x)", vp,
                    state_reg(state, APIC_REG_ID));
        TEST_ASSERT((state_reg(state, APIC_REG_VERSION) & 0xFF) >= 0x10, "(vp %u: version@0x30 = 0x%x)", vp,
                    state_reg(state, APIC_REG_VERSION));
        TEST_ASSERT_EQ(state_reg(state, APIC_REG_TPR), 0);
        TEST_ASSERT(state_reg(state, APIC_REG_LDR) == (1u << vp) << 24, "(vp %u: LDR@0xD0 = 0x%x)", vp,
                    state_reg(state, APIC_REG_LDR));
        TEST_ASSERT_EQ(state_reg(state, APIC_REG_DFR), 0xFFFFFFFF);
        TEST_ASSERT_EQ(state_reg(state, APIC_REG_SVR) & 0x1FF, 0x1FF);
        /* WHvGetVirtualProcessorState gives the same image. */
        memset(state_b, 0xCC, sizeof(state_b));
        TEST_HR(WHvGetVirtualProcessorState(vm->partition, vp, WHvVirtualProcessorStateTypeInterruptControllerState2,
                                            state_b, STATE_SIZE, &written));
        TEST_ASSERT_EQ(written, STATE_SIZE);
        TEST_ASSERT(memcmp(state, state_b, 1024) == 0, "(vp %u: the two state calls disagree)", vp);
    }
    guest_vm_destroy(vm);
}

static void test_state2_errors(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 2);
    static uint8_t state[STATE_SIZE];
    UINT32 written = 0;
    HRESULT hr;

    irq_add_vps(vm, 2, 0);
    TEST_HR_EQ(WHvGetVirtualProcessorInterruptControllerState2(vm->partition, 0, state, 100, &written),
               WHV_E_INSUFFICIENT_BUFFER);
    TEST_ASSERT_EQ(written, STATE_SIZE);
    written = 0;
    TEST_HR_EQ(WHvGetVirtualProcessorState(vm->partition, 0, WHvVirtualProcessorStateTypeInterruptControllerState2,
                                           state, STATE_SIZE - 1, &written),
               WHV_E_INSUFFICIENT_BUFFER);
    TEST_ASSERT_EQ(written, STATE_SIZE);
    get_state(vm, 0, state);
    hr = WHvSetVirtualProcessorInterruptControllerState2(vm->partition, 0, state, STATE_SIZE - 1);
    TEST_ASSERT(FAILED(hr), "(a 4095-byte state was accepted: 0x%08x)", (unsigned)hr);
    TEST_HR_EQ(WHvGetVirtualProcessorInterruptControllerState2(vm->partition, 5, state, STATE_SIZE, &written),
               WHV_E_VP_DOES_NOT_EXIST);
    TEST_HR_EQ(WHvSetVirtualProcessorInterruptControllerState2(vm->partition, 5, state, STATE_SIZE),
               WHV_E_VP_DOES_NOT_EXIST);
    TEST_HR_EQ(WHvGetVirtualProcessorState(vm->partition, 0, (WHV_VIRTUAL_PROCESSOR_STATE_TYPE)0x9999, state,
                                           STATE_SIZE, &written),
               E_INVALIDARG);
    TEST_HR_EQ(WHvSetVirtualProcessorState(vm->partition, 0, (WHV_VIRTUAL_PROCESSOR_STATE_TYPE)0x9999, state,
                                           STATE_SIZE),
               E_INVALIDARG);
    guest_vm_destroy(vm);

    vm = irq_vm_create(WHvX64LocalApicEmulationModeNone, 1);
    guest_vm_add_vp(vm, 0, guest_irq_main, 0, 0);
    hr = WHvGetVirtualProcessorInterruptControllerState2(vm->partition, 0, state, STATE_SIZE, &written);
    TEST_ASSERT(FAILED(hr), "(state of a LAPIC that does not exist: 0x%08x)", (unsigned)hr);
    guest_vm_destroy(vm);
}

/* ---- Registers and state written by the host, seen by the guest ---- */

GUEST_CODE static void guest_report_apic(void)
{
    guest_cli();
    apic_enable(false);
    apic_write(APIC_REG_DFR, 0xFFFFFFFF);
    GUEST_SYNC(1);
    GUEST_SYNC(2, apic_read(APIC_REG_TPR), guest_read_cr8(), apic_read(APIC_REG_LDR));
    GUEST_SYNC(3, apic_read(APIC_REG_TPR), guest_read_cr8());
}

static void test_state2_and_tpr_register_written_by_host_reach_guest(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 1);
    static uint8_t state[STATE_SIZE];
    struct guest_ucall uc;

    guest_vm_add_vp(vm, 0, guest_report_apic, 0, 0);
    irq_expect_sync(vm, 0, 1, NULL, NULL);
    get_state(vm, 0, state);
    state_set_reg(state, APIC_REG_TPR, 0x30);
    state_set_reg(state, APIC_REG_LDR, 0x04000000);
    set_state(vm, 0, state);
    get_state(vm, 0, state);
    TEST_ASSERT_EQ(state_reg(state, APIC_REG_TPR), 0x30);
    TEST_ASSERT_EQ(state_reg(state, APIC_REG_LDR), 0x04000000);
    TEST_ASSERT_EQ(irq_run(vm, 0, &uc, NULL, NULL), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 2);
    TEST_ASSERT(uc.args[1] == 0x30 && uc.args[2] == 3 && uc.args[3] == 0x04000000,
                "(guest sees TPR 0x%llx CR8 %llu LDR 0x%llx)", (unsigned long long)uc.args[1],
                (unsigned long long)uc.args[2], (unsigned long long)uc.args[3]);

    guest_set_reg(vm, 0, WHvX64RegisterApicTpr, 0x50);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterApicTpr), 0x50);
    /* Another control register written after the TPR must not bring back an old CR8. */
    guest_set_reg(vm, 0, WHvX64RegisterCr2, 0x1234);
    TEST_ASSERT_EQ(irq_run(vm, 0, &uc, NULL, NULL), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 3);
    TEST_ASSERT(uc.args[1] == 0x50 && uc.args[2] == 5, "(after ApicTpr = 0x50 the guest sees TPR 0x%llx CR8 %llu)",
                (unsigned long long)uc.args[1], (unsigned long long)uc.args[2]);

    /* CR8 is TPR[7:4]: the register view agrees with what the host wrote into the APIC. */
    get_state(vm, 0, state);
    state_set_reg(state, APIC_REG_TPR, 0x60);
    set_state(vm, 0, state);
    TEST_ASSERT(guest_get_reg(vm, 0, WHvX64RegisterCr8) == 6, "(Cr8 register %llu after State2 TPR = 0x60)",
                (unsigned long long)guest_get_reg(vm, 0, WHvX64RegisterCr8));
    guest_set_reg(vm, 0, WHvX64RegisterApicTpr, 0x70);
    TEST_ASSERT(guest_get_reg(vm, 0, WHvX64RegisterCr8) == 7, "(Cr8 register %llu after ApicTpr = 0x70)",
                (unsigned long long)guest_get_reg(vm, 0, WHvX64RegisterCr8));
    guest_vm_destroy(vm);
}

static void test_apic_registers_x2apic(void)
{
    struct guest_vm *vm = irq_vm_create(X2APIC, NR_VPS);

    irq_add_vps(vm, NR_VPS, IRQ_X2APIC);
    irq_start(vm, NR_VPS, NULL, NULL);
    for (uint32_t vp = 0; vp < NR_VPS; vp++) {
        uint64_t base = guest_get_reg(vm, vp, WHvX64RegisterApicBase);
        TEST_ASSERT((base & ~0xFFFull) == APIC_GPA && (base & 0xC00) == 0xC00 && !!(base & 0x100) == (vp == 0),
                    "(vp %u: ApicBase 0x%llx)", vp, (unsigned long long)base);
        TEST_ASSERT(guest_get_reg(vm, vp, WHvX64RegisterApicId) == vp, "(vp %u: ApicId 0x%llx)", vp,
                    (unsigned long long)guest_get_reg(vm, vp, WHvX64RegisterApicId));
        TEST_ASSERT(guest_get_reg(vm, vp, WHvX64RegisterApicLdr) == 1u << vp, "(vp %u: ApicLdr 0x%llx)", vp,
                    (unsigned long long)guest_get_reg(vm, vp, WHvX64RegisterApicLdr));
        TEST_ASSERT_EQ(guest_get_reg(vm, vp, WHvX64RegisterApicSpurious) & 0x1FF, 0x1FF);
        TEST_ASSERT_EQ(guest_get_reg(vm, vp, WHvX64RegisterApicTpr), 0);
    }
    /* ApicTpr written by the host holds back class 3 on VP 1; class 4 still arrives. */
    guest_set_reg(vm, 1, WHvX64RegisterApicTpr, 0x30);
    irq_round_begin(vm);
    FIXED_TO(vm, 1, 0x35);
    FIXED_TO(vm, 1, 0x45);
    /* The flush vector (class 2) is held back too on VP 1: check there with ApicIrr, then lower. */
    FIXED_TO(vm, 1, IRQ_FLUSH_VECTOR);
    {
        WHV_REGISTER_VALUE irr1 = guest_get_reg_value(vm, 1, (WHV_REGISTER_NAME)(WHvX64RegisterApicIrr0 + 1));
        TEST_ASSERT((irr1.Reg32 & APIC_VEC_BIT(0x35)) != 0, "(ApicIrr1 = 0x%x, no bit for vector 0x35)", irr1.Reg32);
    }
    guest_set_reg(vm, 1, WHvX64RegisterApicTpr, 0);
    irq_round_end(vm, NR_VPS, NULL, NULL);
    TEST_ASSERT_EQ(host_irq_count[1][0x35], 1);
    TEST_ASSERT_EQ(host_irq_count[1][0x45], 1);
    guest_set_reg(vm, 1, WHvX64RegisterApicTpr, 0x30);
    TEST_ASSERT(guest_get_reg(vm, 1, WHvX64RegisterCr8) == 3, "(Cr8 register %llu after ApicTpr = 0x30)",
                (unsigned long long)guest_get_reg(vm, 1, WHvX64RegisterCr8));
    guest_vm_destroy(vm);
}

/* ---- A pending interrupt through a get/set round trip ---- */

#define PENDING_VECTOR 0x70

GUEST_CODE static void guest_pending(uint64_t setup_apic)
{
    guest_cli();
    if (setup_apic)
        apic_enable(false);
    for (unsigned v = 32; v < 256; v++)
        guest_install_handler((uint8_t)v, irq_count_handler);
    GUEST_SYNC(1); /* the host requests PENDING_VECTOR and moves the state around */
    guest_wait_vector(0, PENDING_VECTOR);
    GUEST_SYNC(2, irq_count[0][PENDING_VECTOR], apic_read(APIC_REG_SVR));
}

static void test_pending_interrupt_survives_state_round_trip(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 1);
    static uint8_t state[STATE_SIZE], cleared[STATE_SIZE], check[STATE_SIZE];
    struct guest_ucall uc;

    guest_vm_add_vp(vm, 0, guest_pending, 1, 0);
    irq_expect_sync(vm, 0, 1, NULL, NULL);
    FIXED_TO(vm, 0, PENDING_VECTOR);
    get_state(vm, 0, state);
    TEST_ASSERT(state_vec(state, APIC_REG_IRR, PENDING_VECTOR), "(IRR word 0x%x = 0x%x)",
                APIC_VEC_OFFSET(APIC_REG_IRR, PENDING_VECTOR), state_reg(state, APIC_VEC_OFFSET(APIC_REG_IRR, PENDING_VECTOR)));
    TEST_ASSERT(!state_vec(state, APIC_REG_ISR, PENDING_VECTOR));

    /* Setting really sets: without the IRR bit it is gone, with it it is back. */
    memcpy(cleared, state, STATE_SIZE);
    state_set_reg(cleared, APIC_VEC_OFFSET(APIC_REG_IRR, PENDING_VECTOR),
                  state_reg(state, APIC_VEC_OFFSET(APIC_REG_IRR, PENDING_VECTOR)) & ~APIC_VEC_BIT(PENDING_VECTOR));
    set_state(vm, 0, cleared);
    get_state(vm, 0, check);
    TEST_ASSERT(!state_vec(check, APIC_REG_IRR, PENDING_VECTOR), "(IRR bit still set after setting a state without it)");
    TEST_HR(WHvSetVirtualProcessorState(vm->partition, 0, WHvVirtualProcessorStateTypeInterruptControllerState2, state,
                                        STATE_SIZE));
    get_state(vm, 0, check);
    TEST_ASSERT(state_vec(check, APIC_REG_IRR, PENDING_VECTOR), "(IRR bit lost after setting the state back)");

    TEST_ASSERT_EQ(irq_run(vm, 0, &uc, NULL, NULL), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 2);
    TEST_ASSERT(uc.args[1] == 1, "(handler of vector 0x%x ran %llu times)", PENDING_VECTOR, (unsigned long long)uc.args[1]);
    guest_vm_destroy(vm);
}

static void test_pending_interrupt_moves_to_fresh_partition(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, 1), *vm2;
    static uint8_t state[STATE_SIZE];
    struct guest_ucall uc;

    guest_vm_add_vp(vm, 0, guest_pending, 1, 0);
    irq_expect_sync(vm, 0, 1, NULL, NULL);
    FIXED_TO(vm, 0, PENDING_VECTOR);
    get_state(vm, 0, state);
    TEST_ASSERT(state_vec(state, APIC_REG_IRR, PENDING_VECTOR));
    guest_vm_destroy(vm);

    /* The new guest never touches its APIC: enabled or not, it is what the state says. */
    vm2 = irq_vm_create(XAPIC, 1);
    guest_vm_add_vp(vm2, 0, guest_pending, 0, 0);
    irq_expect_sync(vm2, 0, 1, NULL, NULL);
    TEST_HR(WHvSetVirtualProcessorState(vm2->partition, 0, WHvVirtualProcessorStateTypeInterruptControllerState2, state,
                                        STATE_SIZE));
    TEST_ASSERT_EQ(irq_run(vm2, 0, &uc, NULL, NULL), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 2);
    TEST_ASSERT(uc.args[1] == 1, "(handler of vector 0x%x ran %llu times in the new partition)", PENDING_VECTOR,
                (unsigned long long)uc.args[1]);
    TEST_ASSERT_EQ(uc.args[2] & 0x1FF, 0x1FF);
    guest_vm_destroy(vm2);
}

/* ---- WHvGetInterruptTargetVpSet ---- */

static void expect_targets_(int line, struct guest_vm *vm, uint64_t dest, WHV_INTERRUPT_DESTINATION_MODE mode,
                            uint32_t want_mask)
{
    UINT32 vps[GUEST_MAX_VPS], count = 0xDEAD;
    uint32_t mask = 0;
    HRESULT hr;

    memset(vps, 0xFF, sizeof(vps));
    hr = WHvGetInterruptTargetVpSet(vm->partition, dest, mode, vps, GUEST_MAX_VPS, &count);
    if (FAILED(hr))
        guest_test_fail(__FILE__, line, "WHvGetInterruptTargetVpSet(0x%llx, %s) returned 0x%08x",
                        (unsigned long long)dest, mode == LOGICAL ? "Logical" : "Physical", (unsigned)hr);
    for (UINT32 i = 0; i < count && i < GUEST_MAX_VPS; i++) {
        if (vps[i] >= 32 || (mask & (1u << vps[i])))
            guest_test_fail(__FILE__, line, "WHvGetInterruptTargetVpSet(0x%llx): entry %u is %u (bad or repeated)",
                            (unsigned long long)dest, i, vps[i]);
        mask |= 1u << vps[i];
    }
    if (mask != want_mask || count != (UINT32)__builtin_popcount(want_mask))
        guest_test_fail(__FILE__, line,
                        "WHvGetInterruptTargetVpSet(0x%llx, %s): %u VPs, mask 0x%x; expected mask 0x%x",
                        (unsigned long long)dest, mode == LOGICAL ? "Logical" : "Physical", count, mask, want_mask);
}
#define EXPECT_TARGETS(vm, dest, mode, mask) expect_targets_(__LINE__, vm, dest, mode, mask)

static void test_target_vp_set_physical_and_broadcast_xapic(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);

    irq_add_vps(vm, NR_VPS, 0);
    /* Before any VP ran */
    EXPECT_TARGETS(vm, 1, PHYSICAL, 1u << 1);
    EXPECT_TARGETS(vm, 0xFF, PHYSICAL, ALL_VPS);
    irq_start(vm, NR_VPS, NULL, NULL);
    for (uint32_t vp = 0; vp < NR_VPS; vp++)
        EXPECT_TARGETS(vm, vp, PHYSICAL, 1u << vp);
    EXPECT_TARGETS(vm, 0xFF, PHYSICAL, ALL_VPS);
    EXPECT_TARGETS(vm, 9, PHYSICAL, 0);
    guest_vm_destroy(vm);
}

static void test_target_vp_set_logical_flat(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);

    irq_add_vps(vm, NR_VPS, IRQ_LOGICAL_FLAT);
    irq_start(vm, NR_VPS, NULL, NULL);
    EXPECT_TARGETS(vm, 0x5, LOGICAL, 0x5);
    EXPECT_TARGETS(vm, 0xA, LOGICAL, 0xA);
    EXPECT_TARGETS(vm, 0x8, LOGICAL, 0x8);
    EXPECT_TARGETS(vm, 0xFF, LOGICAL, ALL_VPS);
    EXPECT_TARGETS(vm, 0x30, LOGICAL, 0);
    guest_vm_destroy(vm);
}

static void test_target_vp_set_logical_cluster(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);

    irq_add_vps(vm, NR_VPS, IRQ_LOGICAL_CLUSTER); /* LDR 0x01 0x02 0x11 0x12 */
    irq_start(vm, NR_VPS, NULL, NULL);
    EXPECT_TARGETS(vm, 0x13, LOGICAL, 0xC);
    EXPECT_TARGETS(vm, 0x02, LOGICAL, 0x2);
    EXPECT_TARGETS(vm, 0x03, LOGICAL, 0x3);
    EXPECT_TARGETS(vm, 0x11, LOGICAL, 0x4);
    EXPECT_TARGETS(vm, 0x24, LOGICAL, 0);
    guest_vm_destroy(vm);
}

static void test_target_vp_set_x2apic(void)
{
    struct guest_vm *vm = irq_vm_create(X2APIC, NR_VPS);

    irq_add_vps(vm, NR_VPS, IRQ_X2APIC); /* LDR 1 << id, cluster 0 */
    irq_start(vm, NR_VPS, NULL, NULL);
    EXPECT_TARGETS(vm, 0x6, LOGICAL, 0x6);
    EXPECT_TARGETS(vm, 0x9, LOGICAL, 0x9);
    EXPECT_TARGETS(vm, 0xFFFF, LOGICAL, ALL_VPS);
    EXPECT_TARGETS(vm, 0x10006, LOGICAL, 0);
    EXPECT_TARGETS(vm, 3, PHYSICAL, 0x8);
    EXPECT_TARGETS(vm, 0xFFFFFFFF, PHYSICAL, ALL_VPS);
    EXPECT_TARGETS(vm, 0x100, PHYSICAL, 0);
    guest_vm_destroy(vm);
}

static void test_target_vp_set_errors(void)
{
    struct guest_vm *vm = irq_vm_create(XAPIC, NR_VPS);
    UINT32 vps[GUEST_MAX_VPS], count = 0;

    irq_add_vps(vm, NR_VPS, 0);
    TEST_HR_EQ(WHvGetInterruptTargetVpSet(vm->partition, 0xFF, PHYSICAL, vps, NR_VPS - 1, &count), E_INVALIDARG);
    TEST_HR_EQ(WHvGetInterruptTargetVpSet(vm->partition, 0, PHYSICAL, vps, 0, &count), E_INVALIDARG);
    TEST_HR_EQ(WHvGetInterruptTargetVpSet(vm->partition, 0, (WHV_INTERRUPT_DESTINATION_MODE)2, vps, NR_VPS, &count),
               E_INVALIDARG);
    TEST_HR_EQ(WHvGetInterruptTargetVpSet(vm->partition, 0, PHYSICAL, vps, NR_VPS, NULL), E_INVALIDARG);
    TEST_HR_EQ(WHvGetInterruptTargetVpSet(vm->partition, 0, PHYSICAL, NULL, NR_VPS, &count), E_INVALIDARG);
    /* Exactly the processor count is enough. */
    TEST_HR(WHvGetInterruptTargetVpSet(vm->partition, 0xFF, PHYSICAL, vps, NR_VPS, &count));
    TEST_ASSERT_EQ(count, NR_VPS);
    guest_vm_destroy(vm);

    vm = irq_vm_create(WHvX64LocalApicEmulationModeNone, 1);
    guest_vm_add_vp(vm, 0, guest_irq_main, 0, 0);
    TEST_HR_EQ(WHvGetInterruptTargetVpSet(vm->partition, 0, PHYSICAL, vps, GUEST_MAX_VPS, &count), (HRESULT)0xC0350008);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_state2_has_xapic_page_layout),
        GUEST_TEST(test_state2_errors),
        GUEST_TEST(test_state2_and_tpr_register_written_by_host_reach_guest),
        GUEST_TEST(test_apic_registers_x2apic),
        GUEST_TEST(test_pending_interrupt_survives_state_round_trip),
        GUEST_TEST(test_pending_interrupt_moves_to_fresh_partition),
        GUEST_TEST(test_target_vp_set_physical_and_broadcast_xapic),
        GUEST_TEST(test_target_vp_set_logical_flat),
        GUEST_TEST(test_target_vp_set_logical_cluster),
        GUEST_TEST(test_target_vp_set_x2apic),
        GUEST_TEST(test_target_vp_set_errors),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
