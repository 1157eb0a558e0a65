/* The guest test harness itself: ucall values and prints, globals shared by copy, entry arguments
 * and return, several VPs, and exception handlers installed by the guest or the host. */
#include <string.h>

#include "guest.h"

GUEST_CODE static void guest_sync_values(void)
{
    GUEST_PRINTF("printf from the guest: %d %u 0x%llx %s %c", -42, 7u, 0xABCull, (uint64_t)(uintptr_t)"guest string", 'x');
    GUEST_SYNC(1, 2, 3, 4, 5, 6);
    GUEST_SYNC(0xFFFFFFFFFFFFFFFFull);
    GUEST_DONE();
}

static void test_sync_carries_up_to_six_values(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_sync_values);
    struct guest_ucall uc;

    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.nargs, 6);
    for (unsigned i = 0; i < 6; i++)
        TEST_ASSERT_EQ(uc.args[i], i + 1);
    TEST_ASSERT(strstr(uc.file, "test_harness.c") != NULL, "(file \"%s\")", uc.file);
    TEST_ASSERT(uc.line > 0);
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.nargs, 1);
    TEST_ASSERT_EQ(uc.args[0], 0xFFFFFFFFFFFFFFFFull);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static uint64_t copied_at_create, synced_later, written_by_guest;

GUEST_CODE static void guest_globals(void)
{
    GUEST_SYNC(copied_at_create);
    GUEST_SYNC(synced_later);
    written_by_guest = 0x600D;
    GUEST_DONE();
}

static void test_globals_are_copies_synced_explicitly(void)
{
    struct guest_vm *vm;

    copied_at_create = 0xC0;
    synced_later = 1;
    written_by_guest = 0;
    vm = guest_vm_create_default(guest_globals);
    copied_at_create = 0xBAD; /* the guest keeps the value of guest_vm_create */
    guest_expect_sync(vm, 0, 0xC0);
    synced_later = 0x5EC;
    sync_global_to_guest(vm, synced_later);
    guest_expect_sync(vm, 0, 0x5EC);
    guest_expect_done(vm, 0);
    TEST_ASSERT_EQ(written_by_guest, 0);
    sync_global_from_guest(vm, written_by_guest);
    TEST_ASSERT_EQ(written_by_guest, 0x600D);
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_add_and_return(uint64_t a, uint64_t b)
{
    uint64_t local = a + b;
    GUEST_SYNC(local, (uint64_t)(uintptr_t)&local);
    /* Returning reports DONE. */
}

static void test_entry_arguments_and_return(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    struct guest_ucall uc;

    guest_vm_add_vp(vm, 0, guest_add_and_return, 40, 2);
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 42);
    TEST_ASSERT(uc.args[1] >= GUEST_DIRECT_MAP, "(stack variable at 0x%llx)", (unsigned long long)uc.args[1]);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static void test_two_vps_run_on_their_own_stacks(void)
{
    struct guest_vm_config cfg = {.nr_vps = 2};
    struct guest_vm *vm = guest_vm_create(&cfg);
    struct guest_ucall uc0, uc1;

    guest_vm_add_vp(vm, 0, guest_add_and_return, 1, 2);
    guest_vm_add_vp(vm, 1, guest_add_and_return, 10, 20);
    TEST_ASSERT_EQ(guest_run(vm, 1, &uc1), UCALL_SYNC);
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc0), UCALL_SYNC);
    TEST_ASSERT_EQ(uc0.args[0], 3);
    TEST_ASSERT_EQ(uc1.args[0], 30);
    TEST_ASSERT(uc0.args[1] != uc1.args[1], "(both VPs use stack 0x%llx)", (unsigned long long)uc0.args[1]);
    guest_expect_done(vm, 0);
    guest_expect_done(vm, 1);
    guest_vm_destroy(vm);
}

static uint64_t ud_count, ud_cs, ud_rflags;

GUEST_CODE static void guest_ud_handler(struct guest_ex_frame *f)
{
    ud_count++;
    ud_cs = f->cs;
    ud_rflags = f->rflags;
    f->rip += 2; /* ud2 */
}

GUEST_CODE static void guest_ud_twice(void)
{
    __asm__ volatile("ud2" ::: "memory");
    __asm__ volatile("ud2" ::: "memory");
    GUEST_SYNC(ud_count, ud_cs, ud_rflags);
    GUEST_DONE();
}

static void test_host_installed_handler_returns_with_iretq(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_ud_twice);
    struct guest_ucall uc;

    ud_count = 0;
    guest_vm_install_handler(vm, 6, guest_ud_handler);
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 2);
    TEST_ASSERT_EQ(uc.args[1], 0x08);
    TEST_ASSERT(uc.args[2] & 0x2, "(rflags 0x%llx)", (unsigned long long)uc.args[2]);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static uint64_t pf_error, pf_cr2, pf_vector;

GUEST_CODE static void guest_pf_handler(struct guest_ex_frame *f)
{
    pf_vector = f->vector;
    pf_error = f->error_code;
    pf_cr2 = guest_read_cr2();
    f->rax = 0x77;
    f->rip += 2; /* 8b 07: mov (%rdi), %eax */
}

GUEST_CODE static void guest_page_fault(uint64_t unmapped)
{
    uint64_t v = 0;
    guest_install_handler(14, guest_pf_handler);
    __asm__ volatile("movl (%1), %k0" : "=a"(v) : "D"(unmapped) : "memory");
    GUEST_SYNC(v, pf_vector, pf_error, pf_cr2);
    GUEST_DONE();
}

static void test_page_fault_frame_has_error_code_and_cr2(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    struct guest_ucall uc;
    const uint64_t unmapped = 0x1234; /* nothing is mapped in the first 2 MiB of GVA space */

    guest_vm_add_vp(vm, 0, guest_page_fault, unmapped, 0);
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 0x77);
    TEST_ASSERT_EQ(uc.args[1], 14);
    TEST_ASSERT_EQ(uc.args[2], 0); /* not present, read, supervisor */
    TEST_ASSERT_EQ(uc.args[3], unmapped);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_sync_carries_up_to_six_values),
        GUEST_TEST(test_globals_are_copies_synced_explicitly),
        GUEST_TEST(test_entry_arguments_and_return),
        GUEST_TEST(test_two_vps_run_on_their_own_stacks),
        GUEST_TEST(test_host_installed_handler_returns_with_iretq),
        GUEST_TEST(test_page_fault_frame_has_error_code_and_cr2),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
