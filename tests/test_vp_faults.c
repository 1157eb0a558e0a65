/* WHvCreateVirtualProcessor that fails part-way: each step of a VP's power-on (KVM vCPU created,
 * CPUID, LAPIC, power-on registers, exit configuration, register cache) fails once through the
 * library's fault hook; the call must fail, the VP must not exist, a retry of the same index must
 * succeed and run a guest, and many such cycles must leak no fd, thread or memory. Also a
 * re-creation (after WHvDeleteVirtualProcessor) that fails. */
#include "guest.h"
#include "guest_stress.h"

/* The library's fault hook (src/top/partition.c), reachable through the static library. */
extern _Atomic int top_vp_fault_step;

#define FAULT_STEPS 6 /* STEP_CREATE .. STEP_CACHE */
#define FAULT_CYCLES 8

GUEST_CODE static void guest_main(void)
{
    GUEST_SYNC(7);
    GUEST_DONE();
}

static void fail_then_retry(struct guest_vm *vm, int step)
{
    WHV_RUN_VP_EXIT_CONTEXT exit;
    atomic_store(&top_vp_fault_step, step);
    HRESULT hr = WHvCreateVirtualProcessor(vm->partition, 0, 0);
    TEST_ASSERT(FAILED(hr), "(step %d: WHvCreateVirtualProcessor returned 0x%08x)", step, (unsigned)hr);
    TEST_ASSERT_EQ(atomic_load(&top_vp_fault_step), 0); /* the fault was taken */
    TEST_HR_EQ(WHvRunVirtualProcessor(vm->partition, 0, &exit, sizeof(exit)), WHV_E_VP_DOES_NOT_EXIST);
    /* The retry creates the VP (guest_vm_add_vp calls WHvCreateVirtualProcessor) and it runs. */
    guest_vm_add_vp(vm, 0, guest_main, 0, 0);
    guest_expect_sync(vm, 0, 7);
    guest_expect_done(vm, 0);
}

static void test_each_failed_step_leaves_a_retryable_index(void)
{
    for (int step = 1; step <= FAULT_STEPS; step++) {
        struct guest_vm *vm = guest_vm_create(NULL);
        fail_then_retry(vm, step);
        guest_vm_destroy(vm);
    }
}

static void test_failed_recreation_leaves_a_retryable_index(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_main);
    guest_expect_sync(vm, 0, 7);
    TEST_HR(WHvDeleteVirtualProcessor(vm->partition, 0));
    /* Re-creation resets the kept vCPU: only the steps after the reset can fail. */
    for (int step = 4; step <= FAULT_STEPS; step++) {
        fail_then_retry(vm, step);
        TEST_HR(WHvDeleteVirtualProcessor(vm->partition, 0));
    }
    guest_vm_destroy(vm);
}

static void test_failed_creations_leak_nothing(void)
{
    struct guest_vm *warm = guest_vm_create(NULL); /* first-use allocations happen before `before` */
    fail_then_retry(warm, 1);
    guest_vm_destroy(warm);
    struct stress_usage before = stress_usage_now();
    for (unsigned cycle = 0; cycle < FAULT_CYCLES; cycle++) {
        for (int step = 1; step <= FAULT_STEPS; step++) {
            struct guest_vm *vm = guest_vm_create(NULL);
            fail_then_retry(vm, step);
            guest_vm_destroy(vm);
        }
    }
    struct stress_usage after = stress_usage_now();
    STRESS_EXPECT_NO_GROWTH("failed-creation cycles", FAULT_CYCLES * FAULT_STEPS, before, after);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_each_failed_step_leaves_a_retryable_index),
        GUEST_TEST(test_failed_recreation_leaves_a_retryable_index),
        GUEST_TEST(test_failed_creations_leak_nothing),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
