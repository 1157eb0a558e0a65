/* VP registers through WHvGet/SetVirtualProcessorRegisters: round trips of every register class,
 * registers the guest sees or sets, and unknown register names. */
#include <string.h>

#include "guest.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Sets names[i] = values[i] in one call, reads them back in one call. */
static void set_and_get(struct guest_vm *vm, const WHV_REGISTER_NAME *names, const WHV_REGISTER_VALUE *values,
                        WHV_REGISTER_VALUE *out, UINT32 count)
{
    TEST_HR(WHvSetVirtualProcessorRegisters(vm->partition, 0, names, count, values));
    memset(out, 0xCC, count * sizeof(*out));
    TEST_HR(WHvGetVirtualProcessorRegisters(vm->partition, 0, names, count, out));
}

/* A VM whose VP 0 never runs: the tests overwrite its state freely. */
GUEST_CODE static void guest_never_runs(void)
{
    GUEST_DONE();
}

static void test_gprs_rip_rflags_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    WHV_REGISTER_NAME names[18];
    WHV_REGISTER_VALUE values[18], out[18];

    memset(values, 0, sizeof(values));
    for (unsigned i = 0; i < 16; i++) {
        names[i] = (WHV_REGISTER_NAME)(WHvX64RegisterRax + i);
        values[i].Reg64 = 0x0101010101010101ull * (i + 1) ^ 0x8000000000000000ull;
    }
    names[16] = WHvX64RegisterRip;
    values[16].Reg64 = 0xFFFF800000123456ull;
    names[17] = WHvX64RegisterRflags;
    values[17].Reg64 = 0x2 | 0x1 /* CF */ | 0x40 /* ZF */ | 0x800 /* OF */;
    set_and_get(vm, names, values, out, 18);
    for (unsigned i = 0; i < 18; i++)
        TEST_ASSERT(out[i].Reg64 == values[i].Reg64, "(register 0x%x: got 0x%llx, set 0x%llx)", names[i],
                    (unsigned long long)out[i].Reg64, (unsigned long long)values[i].Reg64);
    guest_vm_destroy(vm);
}

static WHV_REGISTER_VALUE seg(uint16_t selector, uint64_t base, uint32_t limit, uint16_t attributes)
{
    WHV_REGISTER_VALUE v;
    memset(&v, 0, sizeof(v));
    v.Segment.Selector = selector;
    v.Segment.Base = base;
    v.Segment.Limit = limit;
    v.Segment.Attributes = attributes;
    return v;
}

static void test_segments_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    const WHV_REGISTER_NAME names[] = {WHvX64RegisterEs, WHvX64RegisterCs, WHvX64RegisterSs, WHvX64RegisterDs,
                                       WHvX64RegisterFs, WHvX64RegisterGs, WHvX64RegisterLdtr, WHvX64RegisterTr};
    WHV_REGISTER_VALUE values[COUNT(names)], out[COUNT(names)];

    values[0] = seg(0x18, 0, 0xFFFFFFFF, 0xC093);                 /* ES: data, G, D */
    values[1] = seg(0x08, 0, 0xFFFFFFFF, 0xA09B);                 /* CS: 64-bit code */
    values[2] = seg(0x10, 0, 0xFFFFFFFF, 0xC093);                 /* SS */
    values[3] = seg(0x20, 0x1000, 0x0000FFFF, 0x0093);            /* DS: byte granular */
    values[4] = seg(0x2B, 0x0000123456789000ull, 0xFFFFFFFF, 0xC0F3); /* FS: DPL 3, 64-bit base */
    values[5] = seg(0x33, 0xFFFF888000001000ull, 0xFFFFFFFF, 0xC093); /* GS */
    values[6] = seg(0x40, 0x5000, 0x0FFF, 0x0082);                /* LDT */
    values[7] = seg(0x48, 0xFFFF800000002000ull, 0x0067, 0x008B); /* busy 64-bit TSS */
    set_and_get(vm, names, values, out, COUNT(names));
    for (unsigned i = 0; i < COUNT(names); i++) {
        TEST_ASSERT(out[i].Segment.Selector == values[i].Segment.Selector &&
                        out[i].Segment.Base == values[i].Segment.Base &&
                        out[i].Segment.Limit == values[i].Segment.Limit &&
                        out[i].Segment.Attributes == values[i].Segment.Attributes,
                    "(register 0x%x: got sel 0x%x base 0x%llx limit 0x%x attr 0x%x, set sel 0x%x base 0x%llx "
                    "limit 0x%x attr 0x%x)",
                    names[i], out[i].Segment.Selector, (unsigned long long)out[i].Segment.Base,
                    out[i].Segment.Limit, out[i].Segment.Attributes, values[i].Segment.Selector,
                    (unsigned long long)values[i].Segment.Base, values[i].Segment.Limit,
                    values[i].Segment.Attributes);
    }
    guest_vm_destroy(vm);
}

static void test_table_registers_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    const WHV_REGISTER_NAME names[] = {WHvX64RegisterGdtr, WHvX64RegisterIdtr};
    WHV_REGISTER_VALUE values[2], out[2];

    memset(values, 0, sizeof(values));
    values[0].Table.Base = 0xFFFF800000003000ull;
    values[0].Table.Limit = 0x7F;
    values[1].Table.Base = 0xFFFF800000004000ull;
    values[1].Table.Limit = 0xFFF;
    set_and_get(vm, names, values, out, 2);
    for (unsigned i = 0; i < 2; i++)
        TEST_ASSERT(out[i].Table.Base == values[i].Table.Base && out[i].Table.Limit == values[i].Table.Limit,
                    "(register 0x%x: got base 0x%llx limit 0x%x)", names[i],
                    (unsigned long long)out[i].Table.Base, out[i].Table.Limit);
    guest_vm_destroy(vm);
}

static void test_control_registers_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    const WHV_REGISTER_NAME names[] = {WHvX64RegisterCr0, WHvX64RegisterCr2, WHvX64RegisterCr3,
                                       WHvX64RegisterCr4, WHvX64RegisterCr8, WHvX64RegisterEfer};
    WHV_REGISTER_VALUE values[COUNT(names)], out[COUNT(names)];

    memset(values, 0, sizeof(values));
    values[0].Reg64 = 0x80050033;             /* PG AM WP NE ET MP PE */
    values[1].Reg64 = 0x00007FFFDEADB000ull;  /* CR2 */
    values[2].Reg64 = vm->pml4_gpa;           /* CR3 */
    values[3].Reg64 = 0x6A0;                  /* OSXMMEXCPT OSFXSR PGE PAE */
    values[4].Reg64 = 0x7;                    /* CR8 = TPR priority class */
    values[5].Reg64 = 0xD01;                  /* NXE LMA LME SCE */
    set_and_get(vm, names, values, out, COUNT(names));
    for (unsigned i = 0; i < COUNT(names); i++)
        TEST_ASSERT(out[i].Reg64 == values[i].Reg64, "(register 0x%x: got 0x%llx, set 0x%llx)", names[i],
                    (unsigned long long)out[i].Reg64, (unsigned long long)values[i].Reg64);
    guest_vm_destroy(vm);
}

static void test_debug_registers_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    const WHV_REGISTER_NAME names[] = {WHvX64RegisterDr0, WHvX64RegisterDr1, WHvX64RegisterDr2,
                                       WHvX64RegisterDr3, WHvX64RegisterDr6, WHvX64RegisterDr7};
    WHV_REGISTER_VALUE values[COUNT(names)], out[COUNT(names)];

    memset(values, 0, sizeof(values));
    values[0].Reg64 = 0x0000555500001000ull;
    values[1].Reg64 = 0xFFFF800000002000ull;
    values[2].Reg64 = 0x3000;
    values[3].Reg64 = 0x4008;
    values[4].Reg64 = 0xFFFF0FF1; /* B0 and the bits that read as 1 */
    values[5].Reg64 = 0x00000403; /* L0 G0 and bit 10 */
    set_and_get(vm, names, values, out, COUNT(names));
    for (unsigned i = 0; i < COUNT(names); i++)
        TEST_ASSERT(out[i].Reg64 == values[i].Reg64, "(register 0x%x: got 0x%llx, set 0x%llx)", names[i],
                    (unsigned long long)out[i].Reg64, (unsigned long long)values[i].Reg64);
    guest_vm_destroy(vm);
}

static void test_xcr0_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    WHV_CAPABILITY cap;
    UINT32 written = 0;

    memset(&cap, 0, sizeof(cap));
    TEST_HR(WHvGetCapability(WHvCapabilityCodeProcessorXsaveFeatures, &cap, sizeof(cap), &written));
    if (!cap.ProcessorXsaveFeatures.XsaveSupport)
        guest_test_skip("no XSAVE support advertised");
    /* XCR0 matters only with CR4.OSXSAVE. */
    guest_set_reg(vm, 0, WHvX64RegisterCr4, guest_get_reg(vm, 0, WHvX64RegisterCr4) | (1ull << 18));
    guest_set_reg(vm, 0, WHvX64RegisterXCr0, 0x3);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterXCr0), 0x3);
    guest_set_reg(vm, 0, WHvX64RegisterXCr0, 0x1);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterXCr0), 0x1);
    guest_vm_destroy(vm);
}

static void test_xmm_registers_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    WHV_REGISTER_NAME names[17];
    WHV_REGISTER_VALUE values[17], out[17];

    memset(values, 0, sizeof(values));
    for (unsigned i = 0; i < 16; i++) {
        names[i] = (WHV_REGISTER_NAME)(WHvX64RegisterXmm0 + i);
        values[i].Reg128.Low64 = 0x1111111111111111ull * (i + 1);
        values[i].Reg128.High64 = ~values[i].Reg128.Low64 ^ ((uint64_t)i << 56);
    }
    names[16] = WHvX64RegisterXmmControlStatus;
    values[16].XmmControlStatus.XmmStatusControl = 0x1F80 | 0x3; /* masks, IE and DE flags */
    values[16].XmmControlStatus.LastFpRdp = 0x0000123456789ABCull;
    set_and_get(vm, names, values, out, 17);
    for (unsigned i = 0; i < 16; i++)
        TEST_ASSERT(out[i].Reg128.Low64 == values[i].Reg128.Low64 && out[i].Reg128.High64 == values[i].Reg128.High64,
                    "(XMM%u: got 0x%016llx%016llx)", i, (unsigned long long)out[i].Reg128.High64,
                    (unsigned long long)out[i].Reg128.Low64);
    TEST_ASSERT_EQ(out[16].XmmControlStatus.XmmStatusControl, 0x1F83);
    TEST_ASSERT_EQ(out[16].XmmControlStatus.LastFpRdp, 0x0000123456789ABCull);
    guest_vm_destroy(vm);
}

static void test_fp_registers_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    WHV_REGISTER_NAME names[9];
    WHV_REGISTER_VALUE values[9], out[9];

    memset(values, 0, sizeof(values));
    for (unsigned i = 0; i < 8; i++) {
        names[i] = (WHV_REGISTER_NAME)(WHvX64RegisterFpMmx0 + i);
        values[i].Fp.Mantissa = 0x8000000000000000ull | (0x0123456789ull * (i + 1));
        values[i].Fp.BiasedExponent = 0x3FFF + i;
        values[i].Fp.Sign = i & 1;
    }
    names[8] = WHvX64RegisterFpControlStatus;
    values[8].FpControlStatus.FpControl = 0x037F;
    values[8].FpControlStatus.FpStatus = 0x3800; /* TOP = 7 */
    values[8].FpControlStatus.FpTag = 0x81;      /* abridged tag: ST registers 0 and 7 valid */
    values[8].FpControlStatus.LastFpOp = 0x05D9;
    values[8].FpControlStatus.LastFpRip = 0x0000555512345678ull;
    set_and_get(vm, names, values, out, 9);
    for (unsigned i = 0; i < 8; i++)
        TEST_ASSERT(out[i].Fp.Mantissa == values[i].Fp.Mantissa &&
                        out[i].Fp.BiasedExponent == values[i].Fp.BiasedExponent && out[i].Fp.Sign == values[i].Fp.Sign,
                    "(FpMmx%u: got mantissa 0x%llx exponent 0x%x sign %u)", i,
                    (unsigned long long)out[i].Fp.Mantissa, (unsigned)out[i].Fp.BiasedExponent,
                    (unsigned)out[i].Fp.Sign);
    TEST_ASSERT_EQ(out[8].FpControlStatus.FpControl, 0x037F);
    TEST_ASSERT_EQ(out[8].FpControlStatus.FpStatus, 0x3800);
    TEST_ASSERT_EQ(out[8].FpControlStatus.FpTag, 0x81);
    TEST_ASSERT_EQ(out[8].FpControlStatus.LastFpOp, 0x05D9);
    TEST_ASSERT_EQ(out[8].FpControlStatus.LastFpRip, 0x0000555512345678ull);
    guest_vm_destroy(vm);
}

static void test_msrs_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    const WHV_REGISTER_NAME names[] = {
        WHvX64RegisterPat,        WHvX64RegisterStar,       WHvX64RegisterLstar,
        WHvX64RegisterCstar,      WHvX64RegisterSfmask,     WHvX64RegisterKernelGsBase,
        WHvX64RegisterSysenterCs, WHvX64RegisterSysenterEip, WHvX64RegisterSysenterEsp,
        WHvX64RegisterTscAux,     WHvX64RegisterApicBase,   WHvX64RegisterEfer,
    };
    WHV_REGISTER_VALUE values[COUNT(names)], out[COUNT(names)];

    memset(values, 0, sizeof(values));
    values[0].Reg64 = 0x0007010600070106ull;  /* PAT: WB WT UC- UC, twice; entry 2 changed */
    values[1].Reg64 = 0x0023001000000000ull;  /* STAR */
    values[2].Reg64 = 0xFFFFFFFF81000000ull;  /* LSTAR */
    values[3].Reg64 = 0xFFFFFFFF81000100ull;  /* CSTAR */
    values[4].Reg64 = 0x47700;                /* SFMASK */
    values[5].Reg64 = 0xFFFF888012340000ull;  /* KERNEL_GS_BASE */
    values[6].Reg64 = 0x10;                   /* SYSENTER_CS */
    values[7].Reg64 = 0xFFFFFFFF81000200ull;  /* SYSENTER_EIP */
    values[8].Reg64 = 0xFFFF888000010000ull;  /* SYSENTER_ESP */
    values[9].Reg64 = 0x12;                   /* TSC_AUX */
    values[10].Reg64 = 0xFEE00900;            /* APIC base, enabled, BSP */
    values[11].Reg64 = 0xD01;                 /* EFER: NXE LMA LME SCE */
    set_and_get(vm, names, values, out, COUNT(names));
    for (unsigned i = 0; i < COUNT(names); i++)
        TEST_ASSERT(out[i].Reg64 == values[i].Reg64, "(register 0x%x: got 0x%llx, set 0x%llx)", names[i],
                    (unsigned long long)out[i].Reg64, (unsigned long long)values[i].Reg64);
    guest_vm_destroy(vm);
}

static void test_tsc_round_trip(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    const uint64_t set = 1000000000000ull;
    uint64_t got;

    WHV_REGISTER_NAME name = WHvX64RegisterTsc;
    WHV_REGISTER_VALUE value;
    HRESULT hr;

    memset(&value, 0, sizeof(value));
    value.Reg64 = set;
    hr = WHvSetVirtualProcessorRegisters(vm->partition, 0, &name, 1, &value);
    /* A host that cannot offset the guest TSC (PVM) may refuse the write; it must not drop it. */
    if (FAILED(hr))
        guest_test_skip("WHvSetVirtualProcessorRegisters(Tsc) returned 0x%08x: the host cannot set the TSC",
                        (unsigned)hr);
    got = guest_get_reg(vm, 0, WHvX64RegisterTsc);
    /* The TSC keeps counting: allow well over ten seconds of it. */
    TEST_ASSERT(got >= set && got - set < 100000000000ull, "(TSC set 0x%llx, read back 0x%llx)",
                (unsigned long long)set, (unsigned long long)got);
    guest_vm_destroy(vm);
}

/* ---- Registers seen from both sides ---- */

#define REGS_PORT 0x4500

/* Called by guest_regs_entry (asm) with R12 and RBX as they were at entry. */
void guest_report_entry_regs(uint64_t r12, uint64_t rbx);
GUEST_CODE __attribute__((used)) void guest_report_entry_regs(uint64_t r12, uint64_t rbx)
{
    GUEST_SYNC(r12, rbx);
    /* The guest sets R13 and R14; the host reads them at the OUT. */
    __asm__ volatile("movabs $0x0BADC0FFEE0DDF00, %%r13\n\t"
                     "movabs $0x7766554433221100, %%r14\n\t"
                     "outb %%al, %%dx" ::"a"(0), "d"(REGS_PORT)
                     : "r13", "r14", "memory");
    GUEST_DONE();
}

/* Entry in asm so that nothing touches R12/RBX before they are read. */
extern const char guest_regs_entry[];
__asm__(".pushsection .text\n"
        "guest_regs_entry:\n"
        "movq %r12, %rdi\n"
        "movq %rbx, %rsi\n"
        "jmp guest_report_entry_regs\n"
        ".popsection\n");

static void test_guest_sees_host_registers(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_regs_entry);
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;

    guest_set_reg(vm, 0, WHvX64RegisterR12, 0x1234567890ABCDEFull);
    guest_set_reg(vm, 0, WHvX64RegisterRbx, 0x0FEDCBA987654321ull);
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 0x1234567890ABCDEFull);
    TEST_ASSERT_EQ(uc.args[1], 0x0FEDCBA987654321ull);

    guest_run_once(vm, 0, &exit);
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess && exit.IoPortAccess.PortNumber == REGS_PORT,
                "(exit %s)", guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterR13), 0x0BADC0FFEE0DDF00ull);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterR14), 0x7766554433221100ull);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterRip), exit.VpContext.Rip);
    guest_skip_instruction(vm, 0, &exit);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

static void test_unknown_register_name_is_rejected(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_never_runs);
    const WHV_REGISTER_NAME bad[] = {WHvX64RegisterRax, (WHV_REGISTER_NAME)0x0000ABCD};
    WHV_REGISTER_VALUE values[2];

    memset(values, 0, sizeof(values));
    TEST_HR_EQ(WHvGetVirtualProcessorRegisters(vm->partition, 0, bad, 2, values), WHV_E_INVALID_VP_REGISTER_NAME);
    TEST_HR_EQ(WHvSetVirtualProcessorRegisters(vm->partition, 0, bad, 2, values), WHV_E_INVALID_VP_REGISTER_NAME);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_gprs_rip_rflags_round_trip),
        GUEST_TEST(test_segments_round_trip),
        GUEST_TEST(test_table_registers_round_trip),
        GUEST_TEST(test_control_registers_round_trip),
        GUEST_TEST(test_debug_registers_round_trip),
        GUEST_TEST(test_xcr0_round_trip),
        GUEST_TEST(test_xmm_registers_round_trip),
        GUEST_TEST(test_fp_registers_round_trip),
        GUEST_TEST(test_msrs_round_trip),
        GUEST_TEST(test_tsc_round_trip),
        GUEST_TEST(test_guest_sees_host_registers),
        GUEST_TEST(test_unknown_register_name_is_rejected),
    };
    return guest_test_main(argc, argv, tests, COUNT(tests));
}
