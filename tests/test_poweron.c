/* The power-on state of a VP: every register of a new VP, of a re-created one and of one after
 * WHvResetPartition against the table of docs/design.md, and a real-mode ROM at 0xF0000 that
 * runs with no register set (WHP's CS base is 0x000F0000). */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guest.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define ROM_GPA 0xF0000ull
#define ROM_SIZE 0x10000ull
#define RESET_IP 0xFFF0u
#define ROM_PORT 0x80
#define ROM_VALUE 0x42
#define APIC_BASE_DEFAULT 0xFEE00000ull
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define PAT_DEFAULT 0x0007040600070406ull
#define ACTIVITY_STARTUP_SUSPEND 1ull
#define CPUID_SIGNATURE_LEAF 1

struct expect {
    WHV_REGISTER_NAME name;
    WHV_REGISTER_VALUE value;
    unsigned bytes; /* compared from the start of the value */
};

static struct expect r64(WHV_REGISTER_NAME name, uint64_t value)
{
    struct expect e = {.name = name, .bytes = 8};
    memset(&e.value, 0, sizeof(e.value));
    e.value.Reg64 = value;
    return e;
}

static struct expect r128(WHV_REGISTER_NAME name)
{
    struct expect e = r64(name, 0);
    e.bytes = 16;
    return e;
}

static struct expect seg(WHV_REGISTER_NAME name, uint16_t selector, uint64_t base, uint16_t attributes)
{
    struct expect e = r128(name);
    e.value.Segment.Selector = selector;
    e.value.Segment.Base = base;
    e.value.Segment.Limit = 0xFFFF;
    e.value.Segment.Attributes = attributes;
    return e;
}

static struct expect table(WHV_REGISTER_NAME name)
{
    struct expect e = r128(name);
    e.value.Table.Limit = 0xFFFF;
    return e;
}

static uint32_t cpu_signature(void)
{
    unsigned eax, ebx, ecx, edx;
    __cpuid(CPUID_SIGNATURE_LEAF, eax, ebx, ecx, edx);
    return eax;
}

/* The table of docs/design.md ("A new VP"), for VP vp of a partition with an xAPIC. */
static size_t power_on_table(struct expect *t, uint32_t vp)
{
    size_t n = 0;
    for (unsigned i = 0; i < 16; i++)
        t[n++] = r64((WHV_REGISTER_NAME)(WHvX64RegisterRax + i), 0);
    t[WHvX64RegisterRdx].value.Reg64 = cpu_signature();
    t[n++] = r64(WHvX64RegisterRip, RESET_IP);
    t[n++] = r64(WHvX64RegisterRflags, 0x2);
    t[n++] = seg(WHvX64RegisterCs, 0xF000, 0xF0000, 0x9B);
    t[n++] = seg(WHvX64RegisterDs, 0, 0, 0x93);
    t[n++] = seg(WHvX64RegisterEs, 0, 0, 0x93);
    t[n++] = seg(WHvX64RegisterFs, 0, 0, 0x93);
    t[n++] = seg(WHvX64RegisterGs, 0, 0, 0x93);
    t[n++] = seg(WHvX64RegisterSs, 0, 0, 0x93);
    t[n++] = seg(WHvX64RegisterLdtr, 0, 0, 0x82);
    t[n++] = seg(WHvX64RegisterTr, 0, 0, 0x8B);
    t[n++] = table(WHvX64RegisterGdtr);
    t[n++] = table(WHvX64RegisterIdtr);
    t[n++] = r64(WHvX64RegisterCr0, 0x60000010);
    t[n++] = r64(WHvX64RegisterCr2, 0);
    t[n++] = r64(WHvX64RegisterCr3, 0);
    t[n++] = r64(WHvX64RegisterCr4, 0);
    t[n++] = r64(WHvX64RegisterCr8, 0);
    t[n++] = r64(WHvX64RegisterEfer, 0);
    t[n++] = r64(WHvX64RegisterDr0, 0);
    t[n++] = r64(WHvX64RegisterDr1, 0);
    t[n++] = r64(WHvX64RegisterDr2, 0);
    t[n++] = r64(WHvX64RegisterDr3, 0);
    t[n++] = r64(WHvX64RegisterDr6, 0xFFFF0FF0);
    t[n++] = r64(WHvX64RegisterDr7, 0x400);
    t[n++] = r64(WHvX64RegisterXCr0, 1);
    struct expect fp = r128(WHvX64RegisterFpControlStatus);
    fp.value.FpControlStatus.FpControl = 0x37F;
    t[n++] = fp;
    struct expect xmm = r128(WHvX64RegisterXmmControlStatus);
    xmm.value.XmmControlStatus.XmmStatusControl = 0x1F80;
    xmm.bytes = 12; /* XmmStatusControlMask is the processor's */
    t[n++] = xmm;
    for (unsigned i = 0; i < 8; i++)
        t[n++] = r128((WHV_REGISTER_NAME)(WHvX64RegisterFpMmx0 + i));
    for (unsigned i = 0; i < 16; i++)
        t[n++] = r128((WHV_REGISTER_NAME)(WHvX64RegisterXmm0 + i));
    t[n++] = r64(WHvX64RegisterPat, PAT_DEFAULT);
    t[n++] = r64(WHvX64RegisterApicBase, APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (vp == 0 ? APIC_BASE_BSP : 0));
    t[n++] = r64(WHvX64RegisterMsrMtrrDefType, 0);
    t[n++] = r64(WHvX64RegisterKernelGsBase, 0);
    t[n++] = r64(WHvX64RegisterSysenterCs, 0);
    t[n++] = r64(WHvX64RegisterSysenterEip, 0);
    t[n++] = r64(WHvX64RegisterSysenterEsp, 0);
    t[n++] = r64(WHvX64RegisterStar, 0);
    t[n++] = r64(WHvX64RegisterLstar, 0);
    t[n++] = r64(WHvX64RegisterCstar, 0);
    t[n++] = r64(WHvX64RegisterSfmask, 0);
    t[n++] = r64(WHvX64RegisterTscAux, 0);
    t[n++] = r64(WHvRegisterPendingInterruption, 0);
    t[n++] = r64(WHvRegisterInterruptState, 0);
    t[n++] = r64(WHvRegisterInternalActivityState, vp == 0 ? 0 : ACTIVITY_STARTUP_SUSPEND);
    return n;
}

#define TABLE_MAX 96

/* Reads every register of the table from VP vp and fails with the list of those that differ. */
static void expect_power_on(WHV_PARTITION_HANDLE part, uint32_t vp, const char *when)
{
    struct expect t[TABLE_MAX];
    size_t n = power_on_table(t, vp);
    WHV_REGISTER_NAME names[TABLE_MAX];
    WHV_REGISTER_VALUE got[TABLE_MAX];
    for (size_t i = 0; i < n; i++)
        names[i] = t[i].name;
    memset(got, 0xCC, sizeof(got));
    TEST_HR(WHvGetVirtualProcessorRegisters(part, vp, names, (UINT32)n, got));
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&got[i], &t[i].value, t[i].bytes) == 0)
            continue;
        printf("  %s, VP %u, register 0x%x: got %016llx:%016llx, want %016llx:%016llx\n", when, vp,
               (unsigned)t[i].name, (unsigned long long)got[i].Reg128.High64,
               (unsigned long long)got[i].Reg128.Low64, (unsigned long long)t[i].value.Reg128.High64,
               (unsigned long long)t[i].value.Reg128.Low64);
        bad++;
    }
    TEST_ASSERT(bad == 0, "(%s: %u registers differ from the power-on table)", when, bad);
}

static void delete_partition(void *part)
{
    WHvDeletePartition(part);
}

/* A set-up partition of vps VPs with an xAPIC, deleted when the test ends. */
static WHV_PARTITION_HANDLE partition(UINT32 vps)
{
    WHV_PARTITION_HANDLE part;
    TEST_HR(WHvCreatePartition(&part));
    guest_test_defer(delete_partition, part);
    WHV_PARTITION_PROPERTY prop;
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = vps;
    TEST_HR(WHvSetPartitionProperty(part, WHvPartitionPropertyCodeProcessorCount, &prop, sizeof(prop)));
    memset(&prop, 0, sizeof(prop));
    prop.LocalApicEmulationMode = WHvX64LocalApicEmulationModeXApic;
    TEST_HR(WHvSetPartitionProperty(part, WHvPartitionPropertyCodeLocalApicEmulationMode, &prop, sizeof(prop)));
    TEST_HR(WHvSetupPartition(part));
    return part;
}

/* Changes a register of every kind the table holds. */
static void scribble(WHV_PARTITION_HANDLE part, uint32_t vp)
{
    const WHV_REGISTER_NAME names[] = {WHvX64RegisterRdx, WHvX64RegisterRip, WHvX64RegisterCs,
                                       WHvX64RegisterCr0, WHvX64RegisterDr7, WHvX64RegisterXCr0,
                                       WHvX64RegisterFpControlStatus, WHvX64RegisterXmmControlStatus,
                                       WHvX64RegisterXmm3, WHvX64RegisterPat, WHvX64RegisterLstar};
    WHV_REGISTER_VALUE v[COUNT(names)];
    TEST_HR(WHvGetVirtualProcessorRegisters(part, vp, names, COUNT(names), v));
    v[0].Reg64 = 0x1234;
    v[1].Reg64 = 0x100;
    v[2].Segment.Base = 0xFFFF0000;
    v[3].Reg64 = 0x10;
    v[4].Reg64 = 0x401;
    v[5].Reg64 = 3;
    v[6].FpControlStatus.FpControl = 0x27F;
    v[7].XmmControlStatus.XmmStatusControl = 0x1F00;
    v[8].Reg128.Low64 = 0x5555;
    v[9].Reg64 = 0x0606060606060606ull;
    v[10].Reg64 = 0xFFFFFFFF81000000ull;
    TEST_HR(WHvSetVirtualProcessorRegisters(part, vp, names, COUNT(names), v));
}

static void test_new_vp_has_whp_power_on_state(void)
{
    WHV_PARTITION_HANDLE part = partition(2);
    TEST_HR(WHvCreateVirtualProcessor(part, 0, 0));
    TEST_HR(WHvCreateVirtualProcessor(part, 1, 0));
    expect_power_on(part, 0, "new");
    expect_power_on(part, 1, "new");
}

static void test_recreated_vp_has_power_on_state(void)
{
    WHV_PARTITION_HANDLE part = partition(1);
    TEST_HR(WHvCreateVirtualProcessor(part, 0, 0));
    scribble(part, 0);
    TEST_HR(WHvDeleteVirtualProcessor(part, 0));
    TEST_HR(WHvCreateVirtualProcessor(part, 0, 0));
    expect_power_on(part, 0, "re-created");
}

static void test_reset_partition_restores_power_on_state(void)
{
    WHV_PARTITION_HANDLE part = partition(2);
    TEST_HR(WHvCreateVirtualProcessor(part, 0, 0));
    TEST_HR(WHvCreateVirtualProcessor(part, 1, 0));
    scribble(part, 0);
    scribble(part, 1);
    TEST_HR(WHvResetPartition(part));
    expect_power_on(part, 0, "after WHvResetPartition");
    expect_power_on(part, 1, "after WHvResetPartition");
}

static void unmap_rom(void *rom)
{
    munmap(rom, ROM_SIZE);
}

/* mov al, ROM_VALUE; out ROM_PORT, al; hlt */
static const uint8_t rom_code[] = {0xB0, ROM_VALUE, 0xE6, ROM_PORT, 0xF4};

static void test_rom_at_f0000_runs_without_registers(void)
{
    WHV_PARTITION_HANDLE part = partition(1);
    uint8_t *rom = mmap(NULL, ROM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TEST_ASSERT(rom != MAP_FAILED);
    guest_test_defer(unmap_rom, rom);
    memset(rom, 0xF4, ROM_SIZE); /* hlt everywhere else */
    memcpy(rom + RESET_IP, rom_code, sizeof(rom_code));
    TEST_HR(WHvMapGpaRange(part, rom, ROM_GPA, ROM_SIZE, WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagExecute));
    TEST_HR(WHvCreateVirtualProcessor(part, 0, 0));

    WHV_RUN_VP_EXIT_CONTEXT exit;
    TEST_HR(WHvRunVirtualProcessor(part, 0, &exit, sizeof(exit)));
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess, "(exit %s at cs:rip %llx:%llx)",
                guest_exit_reason_name(exit.ExitReason), (unsigned long long)exit.VpContext.Cs.Base,
                (unsigned long long)exit.VpContext.Rip);
    TEST_ASSERT_EQ(exit.IoPortAccess.PortNumber, ROM_PORT);
    TEST_ASSERT_EQ(exit.IoPortAccess.AccessInfo.IsWrite, 1);
    TEST_ASSERT_EQ(exit.IoPortAccess.Rax & 0xFF, ROM_VALUE);
    TEST_ASSERT_EQ(exit.VpContext.Cs.Selector, 0xF000);
    TEST_ASSERT_EQ(exit.VpContext.Cs.Base, ROM_GPA);
    TEST_ASSERT_EQ(exit.VpContext.Rip, RESET_IP + 2);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_new_vp_has_whp_power_on_state),
        GUEST_TEST(test_recreated_vp_has_power_on_state),
        GUEST_TEST(test_reset_partition_restores_power_on_state),
        GUEST_TEST(test_rom_at_f0000_runs_without_registers),
    };
    return guest_test_main(argc, argv, tests, COUNT(tests));
}
