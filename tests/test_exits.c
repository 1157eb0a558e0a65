/* VP exits seen through the WHP API: HLT, MSR exits and #GP without them, exception exits,
 * triple fault, cancellation from another thread, CPUID (result list, the exits of
 * CpuidExitList before the first run) and instruction fetches from unmapped memory. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "guest.h"

/* An MSR that KVM does not know: outside the synthetic range 0x40000000-0x400000FF, KVM's own
 * 0x4b564dxx range and every architectural or vendor MSR KVM emulates. */
#define UNKNOWN_MSR 0x00ABCDEFu

/* ---- HLT ---- */

GUEST_CODE static void guest_halt_then_continue(void)
{
    GUEST_SYNC(1);
    guest_hlt();
    GUEST_SYNC(2);
    GUEST_DONE();
}

static void test_hlt_exits_as_x64halt(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_halt_then_continue);
    WHV_RUN_VP_EXIT_CONTEXT exit;

    guest_expect_sync(vm, 0, 1);
    guest_run_once(vm, 0, &exit);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64Halt, "(exit %s)", guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT(exit.VpContext.ExecutionState.EferLma && exit.VpContext.ExecutionState.Cr0Pe);
    TEST_ASSERT_EQ(exit.VpContext.ExecutionState.Cpl, 0);
    /* As on Hyper-V, the HLT is complete: running again continues after it. */
    guest_expect_sync(vm, 0, 2);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* ---- MSR exits ---- */

static void enable_msr_exits(WHV_PARTITION_HANDLE partition, void *opaque)
{
    WHV_PARTITION_PROPERTY prop;
    (void)opaque;

    memset(&prop, 0, sizeof(prop));
    prop.ExtendedVmExits.X64MsrExit = 1;
    TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)));
    memset(&prop, 0, sizeof(prop));
    prop.X64MsrExitBitmap.UnhandledMsrs = 1;
    TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeX64MsrExitBitmap, &prop, sizeof(prop)));
}

GUEST_CODE static void guest_unknown_msr_access(void)
{
    guest_wrmsr(UNKNOWN_MSR, 0x1122334455667788ull);
    GUEST_ASSERT_EQ(guest_rdmsr(UNKNOWN_MSR), 0x01020304AABBCCDDull);
    GUEST_DONE();
}

static void test_unknown_msr_exits_with_x64msraccess(void)
{
    struct guest_vm_config cfg = {.pre_setup = enable_msr_exits};
    struct guest_vm *vm;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    WHV_CAPABILITY cap;
    UINT32 written = 0;

    memset(&cap, 0, sizeof(cap));
    TEST_HR(WHvGetCapability(WHvCapabilityCodeExtendedVmExits, &cap, sizeof(cap), &written));
    TEST_ASSERT(cap.ExtendedVmExits.X64MsrExit, "(X64MsrExit not advertised)");

    vm = guest_vm_create(&cfg);
    guest_vm_add_vp(vm, 0, guest_unknown_msr_access, 0, 0);

    guest_run_once(vm, 0, &exit);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64MsrAccess, "(exit %s)", guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT_EQ(exit.MsrAccess.MsrNumber, UNKNOWN_MSR);
    TEST_ASSERT_EQ(exit.MsrAccess.AccessInfo.IsWrite, 1);
    TEST_ASSERT_EQ(exit.MsrAccess.Rax, 0x55667788);
    TEST_ASSERT_EQ(exit.MsrAccess.Rdx, 0x11223344);
    TEST_ASSERT_EQ(exit.VpContext.InstructionLength, 2);
    guest_skip_instruction(vm, 0, &exit);

    guest_run_once(vm, 0, &exit);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64MsrAccess, "(exit %s)", guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT_EQ(exit.MsrAccess.MsrNumber, UNKNOWN_MSR);
    TEST_ASSERT_EQ(exit.MsrAccess.AccessInfo.IsWrite, 0);
    guest_set_reg(vm, 0, WHvX64RegisterRax, 0xAABBCCDD);
    guest_set_reg(vm, 0, WHvX64RegisterRdx, 0x01020304);
    guest_skip_instruction(vm, 0, &exit);

    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_unknown_msr_faults(void)
{
    uint64_t value = 0;
    GUEST_ASSERT_EQ(guest_rdmsr_safe(UNKNOWN_MSR, &value), GUEST_SAFE_FAULTED | 13);
    GUEST_ASSERT_EQ(guest_wrmsr_safe(UNKNOWN_MSR, 1), GUEST_SAFE_FAULTED | 13);
    GUEST_DONE();
}

static void test_unknown_msr_without_exit_raises_gp(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_unknown_msr_faults);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static uint64_t gp_count, gp_error_code;

GUEST_CODE static void guest_gp_handler(struct guest_ex_frame *f)
{
    gp_count++;
    gp_error_code = f->error_code;
    f->rip += 2; /* rdmsr */
}

GUEST_CODE static void guest_unknown_msr_gp_handler(void)
{
    guest_install_handler(13, guest_gp_handler);
    (void)guest_rdmsr(UNKNOWN_MSR);
    GUEST_ASSERT_EQ(gp_count, 1);
    GUEST_ASSERT_EQ(gp_error_code, 0);
    GUEST_SYNC(gp_count);
    GUEST_DONE();
}

static void test_unknown_msr_gp_reaches_guest_handler(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_unknown_msr_gp_handler);
    guest_expect_sync(vm, 0, 1);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* ---- Exception exits ---- */

static void enable_bp_exit(WHV_PARTITION_HANDLE partition, void *opaque)
{
    WHV_PARTITION_PROPERTY prop;
    (void)opaque;

    memset(&prop, 0, sizeof(prop));
    prop.ExtendedVmExits.ExceptionExit = 1;
    TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)));
    memset(&prop, 0, sizeof(prop));
    prop.ExceptionExitBitmap = 1ull << WHvX64ExceptionTypeBreakpointTrap;
    TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeExceptionExitBitmap, &prop, sizeof(prop)));
}

static uint64_t bp_count, bp_rip;

GUEST_CODE static void guest_bp_handler(struct guest_ex_frame *f)
{
    bp_count++;
    bp_rip = f->rip; /* #BP is a trap: rip is after the int3 */
}

GUEST_CODE static void guest_int3(void)
{
    guest_install_handler(3, guest_bp_handler);
    __asm__ volatile("int3" ::: "memory");
    GUEST_SYNC(bp_count, bp_rip);
    GUEST_DONE();
}

static void test_int3_exits_with_exception_exit(void)
{
    struct guest_vm_config cfg = {.pre_setup = enable_bp_exit};
    struct guest_vm *vm;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;

    vm = guest_vm_create(&cfg);
    guest_vm_add_vp(vm, 0, guest_int3, 0, 0);
    guest_run_once(vm, 0, &exit);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonException, "(exit %s at 0x%llx)",
                guest_exit_reason_name(exit.ExitReason), (unsigned long long)exit.VpContext.Rip);
    TEST_ASSERT_EQ(exit.VpException.ExceptionType, WHvX64ExceptionTypeBreakpointTrap);
    TEST_ASSERT_EQ(exit.VpException.ExceptionInfo.ErrorCodeValid, 0);
    TEST_ASSERT(exit.VpException.InstructionByteCount == 0 || exit.VpException.InstructionBytes[0] == 0xCC,
                "(instruction byte 0x%02x)", exit.VpException.InstructionBytes[0]);
    /* The VMM handles the breakpoint itself (as a debugger would): skip the int3. */
    guest_skip_instruction(vm, 0, &exit);
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 0); /* the guest's #BP handler never ran */
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static void test_int3_without_exit_reaches_guest_idt(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_int3);
    struct guest_ucall uc;

    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 1);
    TEST_ASSERT(uc.args[1] != 0);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* ---- Triple fault ---- */

GUEST_CODE static void guest_triple_fault(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } idtr;

    /* Field by field: an initialiser would be a memset call at -O0 (clang), which the guest
     * cannot run. */
    idtr.limit = 0;
    idtr.base = 0;

    GUEST_SYNC(1);
    __asm__ volatile("lidt %0\n\tud2" ::"m"(idtr) : "memory");
    GUEST_FAIL("survived a triple fault");
}

static void test_triple_fault_is_unrecoverable_exception(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_triple_fault);
    WHV_RUN_VP_EXIT_CONTEXT exit;

    guest_expect_sync(vm, 0, 1);
    guest_run_once(vm, 0, &exit);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonUnrecoverableException, "(exit %s at 0x%llx)",
                guest_exit_reason_name(exit.ExitReason), (unsigned long long)exit.VpContext.Rip);
    guest_vm_destroy(vm);
}

/* ---- Cancel ---- */

static uint32_t spin_release;

GUEST_CODE static void guest_spin(void)
{
    while (!guest_read32((uint64_t)(uintptr_t)&spin_release))
        ;
    GUEST_DONE();
}

struct canceler {
    struct guest_vm *vm;
    HRESULT hr;
};

static void *cancel_after_50ms(void *opaque)
{
    struct canceler *c = opaque;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    c->hr = WHvCancelRunVirtualProcessor(c->vm->partition, 0, 0);
    return NULL;
}

static void test_cancel_from_another_thread(void)
{
    struct guest_vm *vm;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct canceler c;
    pthread_t thread;

    spin_release = 0;
    vm = guest_vm_create_default(guest_spin);
    c.vm = vm;
    c.hr = E_FAIL;
    TEST_ASSERT(pthread_create(&thread, NULL, cancel_after_50ms, &c) == 0);
    guest_run_once(vm, 0, &exit);
    pthread_join(thread, NULL);
    TEST_HR(c.hr);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonCanceled, "(exit %s)", guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT_EQ(exit.CancelReason.CancelReason, WHvRunVpCancelReasonUser);

    /* The VP resumes where it was: release the loop and it finishes. */
    spin_release = 1;
    sync_global_to_guest(vm, spin_release);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* ---- CPUID ---- */

#define TEST_CPUID_LEAF 0x40000010u

static const WHV_X64_CPUID_RESULT cpuid_results[] = {
    {.Function = TEST_CPUID_LEAF, .Eax = 0x11111111, .Ebx = 0x22222222, .Ecx = 0x33333333, .Edx = 0x44444444},
    /* "openwhp test cpu" as a brand string */
    {.Function = 0x80000002u, .Eax = 0x6e65706f, .Ebx = 0x20706877, .Ecx = 0x74736574, .Edx = 0x75706320},
};

static void set_cpuid_results(WHV_PARTITION_HANDLE partition, void *opaque)
{
    (void)opaque;
    TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeCpuidResultList, cpuid_results,
                                    sizeof(cpuid_results)));
}

GUEST_CODE static void guest_cpuid_results(void)
{
    uint32_t a, b, c, d;

    guest_cpuid(TEST_CPUID_LEAF, 0, &a, &b, &c, &d);
    GUEST_ASSERT_EQ(a, 0x11111111);
    GUEST_ASSERT_EQ(b, 0x22222222);
    GUEST_ASSERT_EQ(c, 0x33333333);
    GUEST_ASSERT_EQ(d, 0x44444444);
    guest_cpuid(0x80000002u, 0, &a, &b, &c, &d);
    GUEST_ASSERT_EQ(a, 0x6e65706f);
    GUEST_ASSERT_EQ(b, 0x20706877);
    GUEST_ASSERT_EQ(c, 0x74736574);
    GUEST_ASSERT_EQ(d, 0x75706320);
    GUEST_DONE();
}

GUEST_CODE static void guest_cpuid_leaf_1(void)
{
    uint32_t a, b, c, d;

    guest_cpuid(1, 0, &a, &b, &c, &d);
    GUEST_DONE();
}

static void test_cpuid_result_list_reaches_guest(void)
{
    struct guest_vm_config cfg = {.pre_setup = set_cpuid_results};
    struct guest_vm *vm = guest_vm_create(&cfg);

    guest_vm_add_vp(vm, 0, guest_cpuid_results, 0, 0);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static void enable_cpuid_exit_bit(WHV_PARTITION_HANDLE partition)
{
    WHV_PARTITION_PROPERTY prop;

    memset(&prop, 0, sizeof(prop));
    prop.ExtendedVmExits.X64CpuidExit = 1;
    TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)));
}

static void cpuid_bit_and_results(WHV_PARTITION_HANDLE partition, void *opaque)
{
    enable_cpuid_exit_bit(partition);
    set_cpuid_results(partition, opaque);
}

/* WHP exits only for the leaves of CpuidExitList; KVM cannot exit for any. X64CpuidExit is
 * advertised, and with an empty list a guest's CPUID never exits (the result list still
 * applies); the guest_run below fails the test on any exit but the ucall. */
static void test_cpuid_exit_bit_with_empty_list_never_exits(void)
{
    WHV_CAPABILITY cap;
    UINT32 written = 0;
    struct guest_vm_config cfg = {.pre_setup = cpuid_bit_and_results};
    struct guest_vm *vm;

    memset(&cap, 0, sizeof(cap));
    TEST_HR(WHvGetCapability(WHvCapabilityCodeExtendedVmExits, &cap, sizeof(cap), &written));
    TEST_ASSERT(cap.ExtendedVmExits.X64CpuidExit, "(X64CpuidExit not advertised)");

    vm = guest_vm_create(&cfg);
    guest_vm_add_vp(vm, 0, guest_cpuid_results, 0, 0);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* CpuidExitList with X64CpuidExit: KVM fixes a vCPU's CPUID at its first KVM_RUN, so each listed
 * leaf exits once, before the guest runs, and the VMM's answer is what the guest then sees. */
#define CPUID_1_ECX_CX16 (1u << 13) /* a bit KVM reports, so its narrowing reaches the guest */
#define CPUID_UNANSWERED_LEAF 0x80000001u
#define CPUID_CLOBBER 0xdeadbeefull

static const UINT32 cpuid_exit_leaves[] = {1, TEST_CPUID_LEAF, CPUID_UNANSWERED_LEAF};

GUEST_CODE static void guest_cpuid_exits(void)
{
    uint32_t a, b, c, d, c1;

    guest_cpuid(1, 0, &a, &b, &c1, &d);
    guest_cpuid(TEST_CPUID_LEAF, 0, &a, &b, &c, &d);
    GUEST_SYNC(c1, a, b, c, d);
    guest_cpuid(CPUID_UNANSWERED_LEAF, 0, &a, &b, &c, &d);
    GUEST_SYNC(a, b, c, d);
    GUEST_DONE();
}

static void set_cpuid_exits(WHV_PARTITION_HANDLE partition, const UINT32 *leaves, UINT32 size, HRESULT expect)
{
    TEST_HR_EQ(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeCpuidExitList, leaves, size), expect);
}

/* The exit for leaves[i], as if the guest executed CPUID at its first instruction. */
static void expect_cpuid_exit(struct guest_vm *vm, WHV_RUN_VP_EXIT_CONTEXT *exit, UINT32 leaf, uint64_t entry_rip)
{
    guest_run_once(vm, 0, exit);
    TEST_ASSERT(exit->ExitReason == WHvRunVpExitReasonX64Cpuid, "(exit %s)", guest_exit_reason_name(exit->ExitReason));
    TEST_ASSERT_EQ(exit->CpuidAccess.Rax, leaf);
    TEST_ASSERT_EQ(exit->CpuidAccess.Rcx, 0);
    TEST_ASSERT_EQ(exit->VpContext.Rip, entry_rip);
    TEST_ASSERT_EQ(exit->VpContext.InstructionLength, 2);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterRax), leaf);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterRcx), 0);
}

static void answer_cpuid(struct guest_vm *vm, const WHV_RUN_VP_EXIT_CONTEXT *exit, uint64_t a, uint64_t b,
                         uint64_t c, uint64_t d)
{
    guest_set_reg(vm, 0, WHvX64RegisterRax, a);
    guest_set_reg(vm, 0, WHvX64RegisterRbx, b);
    guest_set_reg(vm, 0, WHvX64RegisterRcx, c);
    guest_set_reg(vm, 0, WHvX64RegisterRdx, d);
    guest_skip_instruction(vm, 0, exit);
}

static void test_cpuid_exits_once_per_leaf_before_guest_runs(void)
{
    struct guest_vm_config cfg = {.pre_setup = cpuid_bit_and_results};
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;
    struct guest_vm *vm = guest_vm_create(&cfg);

    /* After setup and after the VP's creation, before its first run: still accepted. */
    guest_vm_add_vp(vm, 0, guest_cpuid_exits, 0, 0);
    set_cpuid_exits(vm->partition, cpuid_exit_leaves, sizeof(cpuid_exit_leaves), S_OK);
    uint64_t entry = guest_get_reg(vm, 0, WHvX64RegisterRip);

    expect_cpuid_exit(vm, &exit, 1, entry);
    TEST_ASSERT(exit.CpuidAccess.DefaultResultRcx & CPUID_1_ECX_CX16, "(no CX16 by default)");
    answer_cpuid(vm, &exit, exit.CpuidAccess.DefaultResultRax, exit.CpuidAccess.DefaultResultRbx,
                 exit.CpuidAccess.DefaultResultRcx & ~CPUID_1_ECX_CX16, exit.CpuidAccess.DefaultResultRdx);
    uint64_t ecx1 = exit.CpuidAccess.DefaultResultRcx & ~CPUID_1_ECX_CX16;

    /* A cancel between the exits is a Canceled exit at the guest's own state. */
    TEST_HR(WHvCancelRunVirtualProcessor(vm->partition, 0, 0));
    guest_run_once(vm, 0, &exit);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonCanceled, "(exit %s)", guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT_EQ(exit.VpContext.Rip, entry);

    expect_cpuid_exit(vm, &exit, TEST_CPUID_LEAF, entry);
    TEST_ASSERT_EQ(exit.CpuidAccess.DefaultResultRax, 0x11111111); /* CpuidResultList's value */
    answer_cpuid(vm, &exit, 0xa1a2a3a4, 0xb1b2b3b4, 0xc1c2c3c4, 0xd1d2d3d4);

    /* Not answered (RIP left at the CPUID): the default stays, the clobbered RAX does not. */
    expect_cpuid_exit(vm, &exit, CPUID_UNANSWERED_LEAF, entry);
    WHV_X64_CPUID_ACCESS_CONTEXT unanswered = exit.CpuidAccess;
    guest_set_reg(vm, 0, WHvX64RegisterRax, CPUID_CLOBBER);

    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], ecx1);
    TEST_ASSERT_EQ(uc.args[1], 0xa1a2a3a4);
    TEST_ASSERT_EQ(uc.args[2], 0xb1b2b3b4);
    TEST_ASSERT_EQ(uc.args[3], 0xc1c2c3c4);
    TEST_ASSERT_EQ(uc.args[4], 0xd1d2d3d4);
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], unanswered.DefaultResultRax);
    TEST_ASSERT_EQ(uc.args[1], unanswered.DefaultResultRbx);
    TEST_ASSERT_EQ(uc.args[2], unanswered.DefaultResultRcx);
    TEST_ASSERT_EQ(uc.args[3], unanswered.DefaultResultRdx);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* Once a VP has run, its CPUID is final: a new list, or the bit turned on with a list, is
 * refused; the bit alone may still go off and on while the list is empty. */
static void test_cpuid_exit_list_change_after_first_run_is_refused(void)
{
    struct guest_vm_config cfg = {.pre_setup = cpuid_bit_and_results};
    WHV_PARTITION_PROPERTY prop;
    struct guest_vm *vm = guest_vm_create(&cfg);

    guest_vm_add_vp(vm, 0, guest_cpuid_results, 0, 0);
    set_cpuid_exits(vm->partition, cpuid_exit_leaves, sizeof(cpuid_exit_leaves), S_OK);
    set_cpuid_exits(vm->partition, NULL, 0, S_OK);
    guest_expect_done(vm, 0);

    set_cpuid_exits(vm->partition, cpuid_exit_leaves, sizeof(cpuid_exit_leaves), WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG);
    memset(&prop, 0, sizeof(prop));
    TEST_HR(WHvSetPartitionProperty(vm->partition, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)));
    enable_cpuid_exit_bit(vm->partition);
    guest_vm_destroy(vm);

    /* The bit turned on after the first run, with a list set while it was off. */
    vm = guest_vm_create(NULL);
    guest_vm_add_vp(vm, 0, guest_cpuid_leaf_1, 0, 0);
    set_cpuid_exits(vm->partition, cpuid_exit_leaves, sizeof(cpuid_exit_leaves), S_OK);
    guest_expect_done(vm, 0);
    prop.ExtendedVmExits.X64CpuidExit = 1;
    TEST_HR_EQ(WHvSetPartitionProperty(vm->partition, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)),
               WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG);
    guest_vm_destroy(vm);
}

/* ---- instruction fetch from unmapped memory ---- */

/* Beyond the harness's 32 MiB of RAM: no mapping there. */
#define UNMAPPED_CODE_GPA 0x40000000ull
#define UNMAPPED_CODE_OFFSET 0x123ull
/* A PML4 slot the harness leaves empty (it uses 0 for the executable, 256 for the direct map),
 * pointed at a page-directory-pointer table in unmapped memory. */
#define UNMAPPED_TABLE_PML4_INDEX 384ull
#define UNMAPPED_TABLE_GPA 0x50000000ull
#define UNMAPPED_TABLE_PDPT_INDEX 5ull
#define PML4_SHIFT 39
#define PDPT_SHIFT 30
#define CANONICAL_HIGH 0xFFFF000000000000ull
#define TABLE_ENTRY_PRESENT_WRITABLE 0x3ull
#define TABLE_ENTRY_SIZE 8ull
#define PAGE_FAULT_VECTOR 14

GUEST_CODE static void guest_jump(uint64_t target)
{
    ((void (*)(void))(uintptr_t)target)();
    GUEST_FAIL("returned from an unmapped address");
}

/* A jump to a GVA that maps unmapped GPA: an Execute MemoryAccess exit naming both addresses. */
static void test_fetch_from_unmapped_gpa_reports_gpa_and_gva(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    uint64_t gpa = UNMAPPED_CODE_GPA + UNMAPPED_CODE_OFFSET;
    uint64_t gva = guest_vm_map_gpa(vm, gpa, 1);
    WHV_RUN_VP_EXIT_CONTEXT exit;

    guest_vm_add_vp(vm, 0, guest_jump, gva, 0);
    guest_run_once(vm, 0, &exit);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonMemoryAccess, "(exit %s)", guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT_EQ(exit.MemoryAccess.AccessInfo.AccessType, WHvMemoryAccessExecute);
    TEST_ASSERT_EQ(exit.MemoryAccess.AccessInfo.GpaUnmapped, 1);
    TEST_ASSERT_EQ(exit.MemoryAccess.AccessInfo.GvaValid, 1);
    TEST_ASSERT_EQ(exit.MemoryAccess.Gva, gva);
    TEST_ASSERT_EQ(exit.MemoryAccess.Gpa, gpa);
    TEST_ASSERT_EQ(exit.VpContext.Rip, gva);
    TEST_ASSERT_EQ(exit.MemoryAccess.InstructionByteCount, 0);
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_page_fault_handler(struct guest_ex_frame *f)
{
    GUEST_SYNC(PAGE_FAULT_VECTOR, guest_read_cr2(), f->error_code);
    guest_halt_forever();
}

/* The page walk itself reads a table from unmapped memory: the exit names the entry it could not
 * read (a Read, as the hardware reports a fault during a walk) and the fetched GVA. A KVM that
 * walks guest tables in software (shadow paging, as kvm_pvm here) makes that a #PF in the guest
 * and never exits: then the test is skipped. */
static void test_fetch_through_unmapped_page_table_reports_the_entry(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    uint64_t *pml4 = guest_vm_gpa2hva(vm, vm->pml4_gpa);
    uint64_t gva = CANONICAL_HIGH | UNMAPPED_TABLE_PML4_INDEX << PML4_SHIFT |
                   UNMAPPED_TABLE_PDPT_INDEX << PDPT_SHIFT;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;

    TEST_ASSERT_EQ(pml4[UNMAPPED_TABLE_PML4_INDEX], 0);
    pml4[UNMAPPED_TABLE_PML4_INDEX] = UNMAPPED_TABLE_GPA | TABLE_ENTRY_PRESENT_WRITABLE;
    guest_vm_install_handler(vm, PAGE_FAULT_VECTOR, guest_page_fault_handler);
    guest_vm_add_vp(vm, 0, guest_jump, gva, 0);
    guest_run_once(vm, 0, &exit);
    if (guest_ucall_decode(vm, 0, &exit, &uc)) {
        TEST_ASSERT(uc.type == UCALL_SYNC && uc.args[0] == PAGE_FAULT_VECTOR && uc.args[1] == gva,
                    "(ucall %llu)", (unsigned long long)uc.type);
        guest_vm_destroy(vm);
        guest_test_skip("this KVM turns an unreadable guest page table into a #PF, not an exit");
    }
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonMemoryAccess, "(exit %s)", guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT_EQ(exit.MemoryAccess.AccessInfo.AccessType, WHvMemoryAccessRead);
    TEST_ASSERT_EQ(exit.MemoryAccess.AccessInfo.GpaUnmapped, 1);
    TEST_ASSERT_EQ(exit.MemoryAccess.AccessInfo.GvaValid, 1);
    TEST_ASSERT_EQ(exit.MemoryAccess.Gva, gva);
    TEST_ASSERT_EQ(exit.MemoryAccess.Gpa, UNMAPPED_TABLE_GPA + UNMAPPED_TABLE_PDPT_INDEX * TABLE_ENTRY_SIZE);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_hlt_exits_as_x64halt),
        GUEST_TEST(test_unknown_msr_exits_with_x64msraccess),
        GUEST_TEST(test_unknown_msr_without_exit_raises_gp),
        GUEST_TEST(test_unknown_msr_gp_reaches_guest_handler),
        GUEST_TEST(test_int3_exits_with_exception_exit),
        GUEST_TEST(test_int3_without_exit_reaches_guest_idt),
        GUEST_TEST(test_triple_fault_is_unrecoverable_exception),
        GUEST_TEST(test_cancel_from_another_thread),
        GUEST_TEST(test_cpuid_result_list_reaches_guest),
        GUEST_TEST(test_cpuid_exit_bit_with_empty_list_never_exits),
        GUEST_TEST(test_cpuid_exits_once_per_leaf_before_guest_runs),
        GUEST_TEST(test_cpuid_exit_list_change_after_first_run_is_refused),
        GUEST_TEST(test_fetch_from_unmapped_gpa_reports_gpa_and_gva),
        GUEST_TEST(test_fetch_through_unmapped_page_table_reports_the_entry),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
