/* Bad-input table for every implemented WinHvPlatform.h / WinHvEmulation.h function: NULL
 * pointers, bad sizes and flags, unknown codes, missing or deleted VPs, deleted and forged
 * handles, wrong partition state. Each row runs in a forked child, so a crash is a FAIL row. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strsignal */
#endif
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <WinHvEmulation.h>
#include <WinHvPlatform.h>

#define PAGE 4096u
#define GPA_MAPPED 0x10000ull /* one read/write page mapped by vm() */
#define FORGED1 ((WHV_PARTITION_HANDLE)(uintptr_t)0x1234)
#define FORGED2 ((WHV_PARTITION_HANDLE)(intptr_t)-1)

/* ---- fixture: what a row prepares; teardown() releases it after the row ---- */
static WHV_PARTITION_HANDLE P;
static void *M;
static WHV_EMULATOR_HANDLE E;

static void teardown(void)
{
    if (P)
        WHvDeletePartition(P);
    P = NULL;
    free(M);
    M = NULL;
    if (E)
        WHvEmulatorDestroyEmulator(E);
    E = NULL;
}

/* A partition that is created but not set up. */
static WHV_PARTITION_HANDLE fresh(void)
{
    if (FAILED(WHvCreatePartition(&P)))
        P = NULL;
    return P;
}

static WHV_PARTITION_HANDLE with_count(UINT32 count)
{
    fresh();
    WHV_PARTITION_PROPERTY v;
    memset(&v, 0, sizeof(v));
    v.ProcessorCount = count;
    WHvSetPartitionProperty(P, WHvPartitionPropertyCodeProcessorCount, &v, sizeof(v));
    return P;
}

/* Set up with two VP slots, none created. */
static WHV_PARTITION_HANDLE setup(void)
{
    with_count(2);
    WHvSetupPartition(P);
    return P;
}

/* Set up, VP 0 created (VP 1 not), one page mapped read/write at GPA_MAPPED. */
static WHV_PARTITION_HANDLE vm(void)
{
    setup();
    WHvCreateVirtualProcessor(P, 0, 0);
    M = aligned_alloc(PAGE, PAGE);
    if (M) {
        memset(M, 0, PAGE);
        WHvMapGpaRange(P, M, GPA_MAPPED, PAGE, WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite);
    }
    return P;
}

/* vm() whose VP 0 was created and then deleted. */
static WHV_PARTITION_HANDLE vm_vp0_deleted(void)
{
    vm();
    WHvDeleteVirtualProcessor(P, 0);
    return P;
}

/* A handle that was valid once: its partition is deleted (the fixture keeps nothing). */
static WHV_PARTITION_HANDLE deleted(void)
{
    WHV_PARTITION_HANDLE h = setup();
    WHvDeletePartition(h);
    P = NULL;
    return h;
}

/* ---- small helpers for the calls ---- */
static const WHV_ACCESS_GPA_CONTROLS NOCTL = {.AsUINT64 = 0};
static UINT8 buf[64];

static HRESULT set_u64(WHV_PARTITION_HANDLE h, WHV_PARTITION_PROPERTY_CODE code, UINT64 val)
{
    WHV_PARTITION_PROPERTY v;
    memset(&v, 0, sizeof(v));
    memcpy(&v, &val, sizeof(val));
    return WHvSetPartitionProperty(h, code, &v, sizeof(v));
}

static HRESULT get_prop(WHV_PARTITION_HANDLE h, WHV_PARTITION_PROPERTY_CODE code)
{
    WHV_PARTITION_PROPERTY v;
    UINT32 w;
    return WHvGetPartitionProperty(h, code, &v, sizeof(v), &w);
}

static HRESULT map(WHV_PARTITION_HANDLE h, UINT64 gpa, UINT64 size, UINT32 flags, uintptr_t off)
{
    if (!M)
        M = aligned_alloc(PAGE, 2 * PAGE);
    return WHvMapGpaRange(h, (UINT8 *)M + off, gpa, size, (WHV_MAP_GPA_RANGE_FLAGS)flags);
}

static HRESULT get_rax(WHV_PARTITION_HANDLE h, UINT32 vp)
{
    WHV_REGISTER_NAME n = WHvX64RegisterRax;
    WHV_REGISTER_VALUE v;
    return WHvGetVirtualProcessorRegisters(h, vp, &n, 1, &v);
}

static HRESULT set_rax(WHV_PARTITION_HANDLE h, UINT32 vp)
{
    WHV_REGISTER_NAME n = WHvX64RegisterRax;
    WHV_REGISTER_VALUE v;
    memset(&v, 0, sizeof(v));
    return WHvSetVirtualProcessorRegisters(h, vp, &n, 1, &v);
}

static HRESULT run(WHV_PARTITION_HANDLE h, UINT32 vp)
{
    WHV_RUN_VP_EXIT_CONTEXT ctx;
    return WHvRunVirtualProcessor(h, vp, &ctx, sizeof(ctx));
}

static HRESULT translate(WHV_PARTITION_HANDLE h, UINT32 vp, UINT32 flags)
{
    WHV_TRANSLATE_GVA_RESULT r;
    WHV_GUEST_PHYSICAL_ADDRESS gpa;
    return WHvTranslateGva(h, vp, 0x1000, (WHV_TRANSLATE_GVA_FLAGS)flags, &r, &gpa);
}

static HRESULT rd(WHV_PARTITION_HANDLE h, UINT32 vp, UINT64 gpa, UINT32 size)
{
    return WHvReadGpaRange(h, vp, gpa, NOCTL, buf, size);
}

static HRESULT wr(WHV_PARTITION_HANDLE h, UINT32 vp, UINT64 gpa, UINT32 size)
{
    return WHvWriteGpaRange(h, vp, gpa, NOCTL, buf, size);
}

static HRESULT vp2(WHV_PARTITION_HANDLE h, UINT32 index, UINT32 code, UINT16 node)
{
    WHV_VIRTUAL_PROCESSOR_PROPERTY prop;
    memset(&prop, 0, sizeof(prop));
    prop.PropertyCode = (WHV_VIRTUAL_PROCESSOR_PROPERTY_CODE)code;
    prop.NumaNode = node;
    return WHvCreateVirtualProcessor2(h, index, &prop, 1);
}

/* Emulator callbacks that all fail: the bad-input rows must never get far enough to need them. */
static HRESULT CALLBACK cb_io(VOID *c, WHV_EMULATOR_IO_ACCESS_INFO *a) { (void)c; (void)a; return E_FAIL; }
static HRESULT CALLBACK cb_mem(VOID *c, WHV_EMULATOR_MEMORY_ACCESS_INFO *a) { (void)c; (void)a; return E_FAIL; }
static HRESULT CALLBACK cb_get(VOID *c, const WHV_REGISTER_NAME *n, UINT32 k, WHV_REGISTER_VALUE *v)
{
    (void)c; (void)n; (void)k; (void)v;
    return E_FAIL;
}
static HRESULT CALLBACK cb_set(VOID *c, const WHV_REGISTER_NAME *n, UINT32 k, const WHV_REGISTER_VALUE *v)
{
    (void)c; (void)n; (void)k; (void)v;
    return E_FAIL;
}
static HRESULT CALLBACK cb_gva(VOID *c, WHV_GUEST_VIRTUAL_ADDRESS g, WHV_TRANSLATE_GVA_FLAGS f,
                               WHV_TRANSLATE_GVA_RESULT_CODE *r, WHV_GUEST_PHYSICAL_ADDRESS *p)
{
    (void)c; (void)g; (void)f; (void)r; (void)p;
    return E_FAIL;
}

static WHV_EMULATOR_CALLBACKS callbacks(void)
{
    WHV_EMULATOR_CALLBACKS cb = {sizeof(cb), 0, cb_io, cb_mem, cb_get, cb_set, cb_gva};
    return cb;
}

static HRESULT create_emu(const WHV_EMULATOR_CALLBACKS *cb)
{
    return WHvEmulatorCreateEmulator(cb, &E);
}

static WHV_EMULATOR_HANDLE emu(void)
{
    WHV_EMULATOR_CALLBACKS cb = callbacks();
    if (FAILED(WHvEmulatorCreateEmulator(&cb, &E)))
        E = NULL;
    return E;
}

static WHV_VP_EXIT_CONTEXT vpctx;
static WHV_X64_IO_PORT_ACCESS_CONTEXT ioctx;
static WHV_MEMORY_ACCESS_CONTEXT mmioctx;
static WHV_EMULATOR_STATUS st;

/* S_OK with EmulationSuccessful clear is what garbage must give; anything else is reported. */
static HRESULT emu_failed(HRESULT hr)
{
    return SUCCEEDED(hr) && st.EmulationSuccessful ? S_FALSE : hr;
}

/* ---- the rows ---- */

/* WHvGetCapability */
static HRESULT cap_unknown(void) { return WHvGetCapability((WHV_CAPABILITY_CODE)0x7fffffff, buf, sizeof(buf), NULL); }
static HRESULT cap_unknown2(void) { return WHvGetCapability((WHV_CAPABILITY_CODE)0x0100, buf, sizeof(buf), NULL); }
static HRESULT cap_null_buf(void) { UINT32 w; return WHvGetCapability(WHvCapabilityCodeHypervisorPresent, NULL, 0, &w); }
static HRESULT cap_null_buf_size(void) { return WHvGetCapability(WHvCapabilityCodeFeatures, NULL, 64, NULL); }
static HRESULT cap_short(void) { return WHvGetCapability(WHvCapabilityCodeHypervisorPresent, buf, 1, NULL); }
static HRESULT cap_short_banks(void) { return WHvGetCapability(WHvCapabilityCodeProcessorFeaturesBanks, buf, 8, NULL); }
static HRESULT cap_null_written(void) { return WHvGetCapability(WHvCapabilityCodeExtendedVmExits, buf, sizeof(buf), NULL); }

/* WHvCreatePartition */
static HRESULT create_null(void) { return WHvCreatePartition(NULL); }

/* WHvSetupPartition */
static HRESULT setup_null(void) { return WHvSetupPartition(NULL); }
static HRESULT setup_forged1(void) { return WHvSetupPartition(FORGED1); }
static HRESULT setup_forged2(void) { return WHvSetupPartition(FORGED2); }
static HRESULT setup_deleted(void) { return WHvSetupPartition(deleted()); }
static HRESULT setup_no_count(void) { return WHvSetupPartition(fresh()); }
static HRESULT setup_twice(void) { return WHvSetupPartition(setup()); }

/* WHvResetPartition */
static HRESULT reset_null(void) { return WHvResetPartition(NULL); }
static HRESULT reset_forged(void) { return WHvResetPartition(FORGED1); }
static HRESULT reset_deleted(void) { return WHvResetPartition(deleted()); }
static HRESULT reset_not_setup(void) { return WHvResetPartition(with_count(1)); }

/* WHvDeletePartition */
static HRESULT delete_null(void) { return WHvDeletePartition(NULL); }
static HRESULT delete_forged1(void) { return WHvDeletePartition(FORGED1); }
static HRESULT delete_forged2(void) { return WHvDeletePartition(FORGED2); }
static HRESULT delete_twice(void) { return WHvDeletePartition(deleted()); }
static HRESULT delete_stale_reused(void)
{
    /* The slot of a deleted partition is reused: its old handle must not reach the new one. */
    WHV_PARTITION_HANDLE old = deleted();
    fresh();
    HRESULT hr = WHvDeletePartition(old);
    if (hr == S_OK)
        P = NULL; /* the stale handle deleted the new partition */
    else if (FAILED(set_u64(P, WHvPartitionPropertyCodeProcessorCount, 1)))
        return S_FALSE; /* the new partition was damaged */
    return hr;
}
static HRESULT delete_gen_off(void)
{
    /* A live handle with a different generation is forged. */
    return WHvDeletePartition((WHV_PARTITION_HANDLE)((uintptr_t)fresh() + (1u << 16)));
}

/* WHvSetPartitionProperty */
static HRESULT setp_forged(void) { return set_u64(FORGED1, WHvPartitionPropertyCodeProcessorCount, 1); }
static HRESULT setp_deleted(void) { return set_u64(deleted(), WHvPartitionPropertyCodeProcessorCount, 1); }
static HRESULT setp_null_buf(void) { return WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeProcessorCount, NULL, 4); }
static HRESULT setp_null_buf0(void) { return WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeProcessorCount, NULL, 0); }
static HRESULT setp_short(void) { UINT16 v = 1; return WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeProcessorCount, &v, sizeof(v)); }
static HRESULT setp_unknown(void) { return set_u64(fresh(), (WHV_PARTITION_PROPERTY_CODE)0x7fffffff, 0); }
static HRESULT setp_unknown2(void) { return set_u64(fresh(), (WHV_PARTITION_PROPERTY_CODE)0x00001100, 0); }
static HRESULT setp_count0(void) { return set_u64(fresh(), WHvPartitionPropertyCodeProcessorCount, 0); }
static HRESULT setp_count_huge(void) { return set_u64(fresh(), WHvPartitionPropertyCodeProcessorCount, 0xffffffffu); }
static HRESULT setp_count_after(void) { return set_u64(setup(), WHvPartitionPropertyCodeProcessorCount, 1); }
static HRESULT setp_apic_after(void) { return set_u64(setup(), WHvPartitionPropertyCodeLocalApicEmulationMode, 0); }
static HRESULT setp_apic_bad(void) { return set_u64(fresh(), WHvPartitionPropertyCodeLocalApicEmulationMode, 7); }
static HRESULT setp_exits_bad(void) { return set_u64(fresh(), WHvPartitionPropertyCodeExtendedVmExits, 1ull << 63); }
static HRESULT setp_exc_bad(void) { return set_u64(fresh(), WHvPartitionPropertyCodeExceptionExitBitmap, 1ull << 63); }
static HRESULT setp_msr_bad(void) { return set_u64(fresh(), WHvPartitionPropertyCodeX64MsrExitBitmap, 1ull << 63); }
static HRESULT setp_features_bad(void) { return set_u64(fresh(), WHvPartitionPropertyCodeProcessorFeatures, ~0ull); }
static HRESULT setp_banks_count(void)
{
    WHV_PROCESSOR_FEATURES_BANKS b;
    memset(&b, 0, sizeof(b));
    b.BanksCount = 3;
    return WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeProcessorFeaturesBanks, &b, sizeof(b));
}
static HRESULT setp_banks_short(void)
{
    WHV_PROCESSOR_FEATURES_BANKS b;
    memset(&b, 0, sizeof(b));
    b.BanksCount = WHV_PROCESSOR_FEATURES_BANKS_COUNT;
    return WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeProcessorFeaturesBanks, &b, sizeof(b) - 1);
}
static HRESULT setp_synth_bad(void)
{
    WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS b;
    memset(&b, 0, sizeof(b));
    b.BanksCount = WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS_COUNT;
    b.AsUINT64[0] = ~0ull;
    return WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeSyntheticProcessorFeaturesBanks, &b, sizeof(b));
}
static HRESULT setp_irq_clock0(void) { return set_u64(fresh(), WHvPartitionPropertyCodeInterruptClockFrequency, 0); }
static HRESULT setp_tsc_bad(void) { return set_u64(fresh(), WHvPartitionPropertyCodeProcessorClockFrequency, 1); }
static HRESULT setp_cpuid_list_odd(void) { return WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeCpuidExitList, buf, 6); }
static HRESULT setp_cpuid_res_odd(void) { return WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeCpuidResultList, buf, 7); }
static HRESULT setp_cpuid_res_after(void) { return WHvSetPartitionProperty(setup(), WHvPartitionPropertyCodeCpuidResultList, NULL, 0); }
static HRESULT setp_reftime_before(void) { return set_u64(fresh(), WHvPartitionPropertyCodeReferenceTime, 0); }
static HRESULT setp_exits_null_after(void) { return WHvSetPartitionProperty(setup(), WHvPartitionPropertyCodeExtendedVmExits, NULL, 0); }

/* WHvGetPartitionProperty */
static HRESULT getp_null(void) { return get_prop(NULL, WHvPartitionPropertyCodeProcessorCount); }
static HRESULT getp_forged(void) { return get_prop(FORGED2, WHvPartitionPropertyCodeProcessorCount); }
static HRESULT getp_deleted(void) { return get_prop(deleted(), WHvPartitionPropertyCodeProcessorCount); }
static HRESULT getp_unknown(void) { return get_prop(fresh(), (WHV_PARTITION_PROPERTY_CODE)0x7fffffff); }
static HRESULT getp_short(void) { UINT32 w; return WHvGetPartitionProperty(fresh(), WHvPartitionPropertyCodeExtendedVmExits, buf, 4, &w); }
static HRESULT getp_null_buf(void) { UINT32 w; return WHvGetPartitionProperty(fresh(), WHvPartitionPropertyCodeProcessorCount, NULL, 0, &w); }
static HRESULT getp_null_buf_size(void) { return WHvGetPartitionProperty(fresh(), WHvPartitionPropertyCodeProcessorCount, NULL, 64, NULL); }
static HRESULT getp_reftime_before(void) { return get_prop(fresh(), WHvPartitionPropertyCodeReferenceTime); }

/* WHvMapGpaRange */
static HRESULT map_null_handle(void) { return map(NULL, 0, PAGE, WHvMapGpaRangeFlagRead, 0); }
static HRESULT map_forged(void) { return map(FORGED1, 0, PAGE, WHvMapGpaRangeFlagRead, 0); }
static HRESULT map_deleted(void) { return map(deleted(), 0, PAGE, WHvMapGpaRangeFlagRead, 0); }
static HRESULT map_not_setup(void) { return map(with_count(1), 0, PAGE, WHvMapGpaRangeFlagRead, 0); }
static HRESULT map_null_src(void) { return WHvMapGpaRange(setup(), NULL, 0, PAGE, WHvMapGpaRangeFlagRead); }
static HRESULT map_gpa_unaligned(void) { return map(setup(), 0x100, PAGE, WHvMapGpaRangeFlagRead, 0); }
static HRESULT map_size_unaligned(void) { return map(setup(), 0, 100, WHvMapGpaRangeFlagRead, 0); }
static HRESULT map_size0(void) { return map(setup(), 0, 0, WHvMapGpaRangeFlagRead, 0); }
static HRESULT map_src_unaligned(void) { return map(setup(), 0, PAGE, WHvMapGpaRangeFlagRead, 8); }
static HRESULT map_flags_none(void) { return map(setup(), 0, PAGE, WHvMapGpaRangeFlagNone, 0); }
static HRESULT map_flags_write_only(void) { return map(setup(), 0, PAGE, WHvMapGpaRangeFlagWrite, 0); }
static HRESULT map_flags_unknown(void) { return map(setup(), 0, PAGE, WHvMapGpaRangeFlagRead | 0x100, 0); }
static HRESULT map_flags_dirty(void) { return map(setup(), 0, PAGE, WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagTrackDirtyPages, 0); }
static HRESULT map_wrap(void) { return map(setup(), 0xfffffffffffff000ull, 2 * PAGE, WHvMapGpaRangeFlagRead, 0); }
static HRESULT map_beyond_width(void) { return map(setup(), 1ull << 52, PAGE, WHvMapGpaRangeFlagRead, 0); }

/* WHvMapGpaRange2 */
static HRESULT map2_process(void)
{
    M = aligned_alloc(PAGE, PAGE);
    return WHvMapGpaRange2(setup(), (HANDLE)(uintptr_t)0x1234, M, 0, PAGE, WHvMapGpaRangeFlagRead);
}
static HRESULT map2_forged(void)
{
    M = aligned_alloc(PAGE, PAGE);
    return WHvMapGpaRange2(FORGED2, NULL, M, 0, PAGE, WHvMapGpaRangeFlagRead);
}
static HRESULT map2_null_src(void) { return WHvMapGpaRange2(setup(), NULL, NULL, 0, PAGE, WHvMapGpaRangeFlagRead); }
static HRESULT map2_not_setup(void)
{
    M = aligned_alloc(PAGE, PAGE);
    return WHvMapGpaRange2(with_count(1), (HANDLE)(intptr_t)-1, M, 0, PAGE, WHvMapGpaRangeFlagRead);
}
static HRESULT map2_size_unaligned(void)
{
    M = aligned_alloc(PAGE, PAGE);
    return WHvMapGpaRange2(setup(), NULL, M, 0, 1, WHvMapGpaRangeFlagRead);
}

/* WHvUnmapGpaRange */
static HRESULT unmap_forged(void) { return WHvUnmapGpaRange(FORGED1, 0, PAGE); }
static HRESULT unmap_deleted(void) { return WHvUnmapGpaRange(deleted(), 0, PAGE); }
static HRESULT unmap_not_setup(void) { return WHvUnmapGpaRange(with_count(1), 0, PAGE); }
static HRESULT unmap_nothing(void) { return WHvUnmapGpaRange(setup(), 0, PAGE); }
static HRESULT unmap_elsewhere(void) { return WHvUnmapGpaRange(vm(), GPA_MAPPED + 16 * PAGE, PAGE); }
static HRESULT unmap_twice(void) { vm(); WHvUnmapGpaRange(P, GPA_MAPPED, PAGE); return WHvUnmapGpaRange(P, GPA_MAPPED, PAGE); }
static HRESULT unmap_unaligned(void) { return WHvUnmapGpaRange(vm(), GPA_MAPPED + 1, PAGE); }
static HRESULT unmap_size0(void) { return WHvUnmapGpaRange(vm(), GPA_MAPPED, 0); }
static HRESULT unmap_wrap(void) { return WHvUnmapGpaRange(vm(), 0xfffffffffffff000ull, 2 * PAGE); }

/* WHvTranslateGva */
static HRESULT tr_forged(void) { return translate(FORGED1, 0, 0); }
static HRESULT tr_deleted(void) { return translate(deleted(), 0, 0); }
static HRESULT tr_not_setup(void) { return translate(with_count(1), 0, 0); }
static HRESULT tr_vp_range(void) { return translate(vm(), 2, 0); }
static HRESULT tr_vp_missing(void) { return translate(vm(), 1, 0); }
static HRESULT tr_vp_deleted(void) { return translate(vm_vp0_deleted(), 0, 0); }
static HRESULT tr_flags(void) { return translate(vm(), 0, 0x80000000u); }
static HRESULT tr_null_result(void) { WHV_GUEST_PHYSICAL_ADDRESS g; return WHvTranslateGva(vm(), 0, 0, 0, NULL, &g); }
static HRESULT tr_null_gpa(void) { WHV_TRANSLATE_GVA_RESULT r; return WHvTranslateGva(vm(), 0, 0, 0, &r, NULL); }

/* WHvReadGpaRange / WHvWriteGpaRange */
static HRESULT rd_forged(void) { return rd(FORGED2, 0, GPA_MAPPED, 8); }
static HRESULT rd_deleted(void) { return rd(deleted(), 0, GPA_MAPPED, 8); }
static HRESULT rd_not_setup(void) { return rd(with_count(1), 0, GPA_MAPPED, 8); }
static HRESULT rd_vp_range(void) { return rd(vm(), 0xffffffffu, GPA_MAPPED, 8); }
static HRESULT rd_vp_missing(void) { return rd(vm(), 1, GPA_MAPPED, 8); }
static HRESULT rd_vp_deleted(void) { return rd(vm_vp0_deleted(), 0, GPA_MAPPED, 8); }
static HRESULT rd_unmapped(void) { return rd(vm(), 0, 0x200000, 8); }
static HRESULT rd_straddle(void) { return rd(vm(), 0, GPA_MAPPED + PAGE - 4, 8); }
static HRESULT rd_null(void) { return WHvReadGpaRange(vm(), 0, GPA_MAPPED, NOCTL, NULL, 8); }
static HRESULT rd_size0(void) { return rd(vm(), 0, GPA_MAPPED, 0); }
static HRESULT rd_wrap(void) { return rd(vm(), 0, 0xfffffffffffffff8ull, 16); }
static HRESULT rd_vtl(void)
{
    WHV_ACCESS_GPA_CONTROLS c = {.AsUINT64 = 0};
    c.InputVtl.TargetVtl = 1;
    c.InputVtl.UseTargetVtl = 1;
    return WHvReadGpaRange(vm(), 0, GPA_MAPPED, c, buf, 8);
}
static HRESULT wr_forged(void) { return wr(FORGED1, 0, GPA_MAPPED, 8); }
static HRESULT wr_deleted(void) { return wr(deleted(), 0, GPA_MAPPED, 8); }
static HRESULT wr_not_setup(void) { return wr(with_count(1), 0, GPA_MAPPED, 8); }
static HRESULT wr_vp_missing(void) { return wr(vm(), 1, GPA_MAPPED, 8); }
static HRESULT wr_unmapped(void) { return wr(vm(), 0, 0x200000, 8); }
static HRESULT wr_after_unmap(void) { vm(); WHvUnmapGpaRange(P, GPA_MAPPED, PAGE); return wr(P, 0, GPA_MAPPED, 8); }
static HRESULT wr_null(void) { return WHvWriteGpaRange(vm(), 0, GPA_MAPPED, NOCTL, NULL, 8); }
static HRESULT wr_size0(void) { return wr(vm(), 0, GPA_MAPPED, 0); }
static HRESULT wr_wrap(void) { return wr(vm(), 0, 0xfffffffffffffff8ull, 16); }

/* WHvCreateVirtualProcessor / WHvCreateVirtualProcessor2 */
static HRESULT cvp_null(void) { return WHvCreateVirtualProcessor(NULL, 0, 0); }
static HRESULT cvp_forged(void) { return WHvCreateVirtualProcessor(FORGED1, 0, 0); }
static HRESULT cvp_deleted(void) { return WHvCreateVirtualProcessor(deleted(), 0, 0); }
static HRESULT cvp_not_setup(void) { return WHvCreateVirtualProcessor(with_count(1), 0, 0); }
static HRESULT cvp_index(void) { return WHvCreateVirtualProcessor(setup(), 2, 0); }
static HRESULT cvp_index_max(void) { return WHvCreateVirtualProcessor(setup(), 0xffffffffu, 0); }
static HRESULT cvp_flags(void) { return WHvCreateVirtualProcessor(setup(), 0, 1); }
static HRESULT cvp_twice(void) { return WHvCreateVirtualProcessor(vm(), 0, 0); }
static HRESULT cvp2_null_props(void) { return WHvCreateVirtualProcessor2(setup(), 0, NULL, 1); }
static HRESULT cvp2_code(void) { return vp2(setup(), 0, 0x1234, 0); }
static HRESULT cvp2_node(void) { return vp2(setup(), 0, WHvVirtualProcessorPropertyCodeNumaNode, 0xffff); }
static HRESULT cvp2_forged(void) { return vp2(FORGED2, 0, WHvVirtualProcessorPropertyCodeNumaNode, 0); }
static HRESULT cvp2_not_setup(void) { return vp2(with_count(1), 0, WHvVirtualProcessorPropertyCodeNumaNode, 0); }
static HRESULT cvp2_index(void) { return vp2(setup(), 2, WHvVirtualProcessorPropertyCodeNumaNode, 0); }
static HRESULT cvp2_twice(void) { return vp2(vm(), 0, WHvVirtualProcessorPropertyCodeNumaNode, 0); }

/* WHvDeleteVirtualProcessor */
static HRESULT dvp_forged(void) { return WHvDeleteVirtualProcessor(FORGED1, 0); }
static HRESULT dvp_deleted(void) { return WHvDeleteVirtualProcessor(deleted(), 0); }
static HRESULT dvp_not_setup(void) { return WHvDeleteVirtualProcessor(with_count(1), 0); }
static HRESULT dvp_range(void) { return WHvDeleteVirtualProcessor(vm(), 2); }
static HRESULT dvp_missing(void) { return WHvDeleteVirtualProcessor(vm(), 1); }
static HRESULT dvp_twice(void) { return WHvDeleteVirtualProcessor(vm_vp0_deleted(), 0); }

/* WHvRunVirtualProcessor */
static HRESULT run_forged(void) { return run(FORGED2, 0); }
static HRESULT run_deleted(void) { return run(deleted(), 0); }
static HRESULT run_not_setup(void) { return run(with_count(1), 0); }
static HRESULT run_vp_range(void) { return run(vm(), 7); }
static HRESULT run_vp_missing(void) { return run(vm(), 1); }
static HRESULT run_vp_deleted(void) { return run(vm_vp0_deleted(), 0); }
static HRESULT run_null_ctx(void) { return WHvRunVirtualProcessor(vm(), 0, NULL, sizeof(WHV_RUN_VP_EXIT_CONTEXT)); }
static HRESULT run_short_ctx(void) { WHV_RUN_VP_EXIT_CONTEXT c; return WHvRunVirtualProcessor(vm(), 0, &c, sizeof(c) - 1); }
static HRESULT run_zero_ctx(void) { WHV_RUN_VP_EXIT_CONTEXT c; return WHvRunVirtualProcessor(vm(), 0, &c, 0); }

/* WHvCancelRunVirtualProcessor */
static HRESULT cancel_forged(void) { return WHvCancelRunVirtualProcessor(FORGED1, 0, 0); }
static HRESULT cancel_deleted(void) { return WHvCancelRunVirtualProcessor(deleted(), 0, 0); }
static HRESULT cancel_not_setup(void) { return WHvCancelRunVirtualProcessor(with_count(1), 0, 0); }
static HRESULT cancel_vp_range(void) { return WHvCancelRunVirtualProcessor(vm(), 2, 0); }
static HRESULT cancel_vp_missing(void) { return WHvCancelRunVirtualProcessor(vm(), 1, 0); }
static HRESULT cancel_vp_deleted(void) { return WHvCancelRunVirtualProcessor(vm_vp0_deleted(), 0, 0); }
static HRESULT cancel_flags(void) { return WHvCancelRunVirtualProcessor(vm(), 0, 1); }

/* WHvGetVirtualProcessorRegisters / WHvSetVirtualProcessorRegisters */
static HRESULT getr_forged(void) { return get_rax(FORGED1, 0); }
static HRESULT getr_deleted(void) { return get_rax(deleted(), 0); }
static HRESULT getr_not_setup(void) { return get_rax(with_count(1), 0); }
static HRESULT getr_vp_range(void) { return get_rax(vm(), 2); }
static HRESULT getr_vp_missing(void) { return get_rax(vm(), 1); }
static HRESULT getr_vp_deleted(void) { return get_rax(vm_vp0_deleted(), 0); }
static HRESULT getr_null_names(void) { WHV_REGISTER_VALUE v; return WHvGetVirtualProcessorRegisters(vm(), 0, NULL, 1, &v); }
static HRESULT getr_null_values(void) { WHV_REGISTER_NAME n = WHvX64RegisterRax; return WHvGetVirtualProcessorRegisters(vm(), 0, &n, 1, NULL); }
static HRESULT getr_count0(void) { WHV_REGISTER_NAME n = WHvX64RegisterRax; WHV_REGISTER_VALUE v; return WHvGetVirtualProcessorRegisters(vm(), 0, &n, 0, &v); }
static HRESULT getr_count_huge(void)
{
    static WHV_REGISTER_NAME n[1025];
    static WHV_REGISTER_VALUE v[1025];
    return WHvGetVirtualProcessorRegisters(vm(), 0, n, 1025, v);
}
static HRESULT getr_unknown(void) { WHV_REGISTER_NAME n = (WHV_REGISTER_NAME)0x7fffffff; WHV_REGISTER_VALUE v; return WHvGetVirtualProcessorRegisters(vm(), 0, &n, 1, &v); }
static HRESULT getr_unknown_in_batch(void)
{
    WHV_REGISTER_NAME n[3] = {WHvX64RegisterRax, (WHV_REGISTER_NAME)0x00000fff, WHvX64RegisterRip};
    WHV_REGISTER_VALUE v[3];
    return WHvGetVirtualProcessorRegisters(vm(), 0, n, 3, v);
}
static HRESULT setr_forged(void) { return set_rax(FORGED2, 0); }
static HRESULT setr_deleted(void) { return set_rax(deleted(), 0); }
static HRESULT setr_not_setup(void) { return set_rax(with_count(1), 0); }
static HRESULT setr_vp_range(void) { return set_rax(vm(), 0xffffffffu); }
static HRESULT setr_vp_missing(void) { return set_rax(vm(), 1); }
static HRESULT setr_vp_deleted(void) { return set_rax(vm_vp0_deleted(), 0); }
static HRESULT setr_null_names(void) { WHV_REGISTER_VALUE v; memset(&v, 0, sizeof(v)); return WHvSetVirtualProcessorRegisters(vm(), 0, NULL, 1, &v); }
static HRESULT setr_null_values(void) { WHV_REGISTER_NAME n = WHvX64RegisterRax; return WHvSetVirtualProcessorRegisters(vm(), 0, &n, 1, NULL); }
static HRESULT setr_count0(void) { WHV_REGISTER_NAME n = WHvX64RegisterRax; WHV_REGISTER_VALUE v; memset(&v, 0, sizeof(v)); return WHvSetVirtualProcessorRegisters(vm(), 0, &n, 0, &v); }
static HRESULT setr_unknown(void) { WHV_REGISTER_NAME n = (WHV_REGISTER_NAME)0x7fffffff; WHV_REGISTER_VALUE v; memset(&v, 0, sizeof(v)); return WHvSetVirtualProcessorRegisters(vm(), 0, &n, 1, &v); }

/* WHvEmulatorCreateEmulator / WHvEmulatorDestroyEmulator */
static HRESULT ec_null_cb(void) { return create_emu(NULL); }
static HRESULT ec_null_out(void) { WHV_EMULATOR_CALLBACKS cb = callbacks(); return WHvEmulatorCreateEmulator(&cb, NULL); }
static HRESULT ec_size0(void) { WHV_EMULATOR_CALLBACKS cb = callbacks(); cb.Size = 0; return create_emu(&cb); }
static HRESULT ec_size_big(void) { WHV_EMULATOR_CALLBACKS cb = callbacks(); cb.Size = sizeof(cb) + 8; return create_emu(&cb); }
static HRESULT ec_no_io(void) { WHV_EMULATOR_CALLBACKS cb = callbacks(); cb.WHvEmulatorIoPortCallback = NULL; return create_emu(&cb); }
static HRESULT ec_no_mem(void) { WHV_EMULATOR_CALLBACKS cb = callbacks(); cb.WHvEmulatorMemoryCallback = NULL; return create_emu(&cb); }
static HRESULT ec_no_get(void) { WHV_EMULATOR_CALLBACKS cb = callbacks(); cb.WHvEmulatorGetVirtualProcessorRegisters = NULL; return create_emu(&cb); }
static HRESULT ec_no_set(void) { WHV_EMULATOR_CALLBACKS cb = callbacks(); cb.WHvEmulatorSetVirtualProcessorRegisters = NULL; return create_emu(&cb); }
static HRESULT ec_no_gva(void) { WHV_EMULATOR_CALLBACKS cb = callbacks(); cb.WHvEmulatorTranslateGvaPage = NULL; return create_emu(&cb); }
static HRESULT ed_null(void) { return WHvEmulatorDestroyEmulator(NULL); }

/* WHvEmulatorTryIoEmulation / WHvEmulatorTryMmioEmulation */
static HRESULT io_null_emu(void) { return WHvEmulatorTryIoEmulation(NULL, NULL, &vpctx, &ioctx, &st); }
static HRESULT io_null_vp(void) { return WHvEmulatorTryIoEmulation(emu(), NULL, NULL, &ioctx, &st); }
static HRESULT io_null_io(void) { return WHvEmulatorTryIoEmulation(emu(), NULL, &vpctx, NULL, &st); }
static HRESULT io_null_status(void) { return WHvEmulatorTryIoEmulation(emu(), NULL, &vpctx, &ioctx, NULL); }
static HRESULT io_bad_size(void)
{
    memset(&vpctx, 0, sizeof(vpctx));
    memset(&ioctx, 0, sizeof(ioctx));
    vpctx.InstructionLength = 1;
    ioctx.AccessInfo.AccessSize = 3;
    return emu_failed(WHvEmulatorTryIoEmulation(emu(), NULL, &vpctx, &ioctx, &st));
}
static HRESULT io_garbage_bytes(void)
{
    memset(&vpctx, 0, sizeof(vpctx));
    memset(&ioctx, 0, sizeof(ioctx));
    ioctx.AccessInfo.StringOp = 1;
    ioctx.InstructionByteCount = 255; /* more than the 16 bytes the context holds */
    memset(ioctx.InstructionBytes, 0xff, sizeof(ioctx.InstructionBytes));
    return emu_failed(WHvEmulatorTryIoEmulation(emu(), NULL, &vpctx, &ioctx, &st));
}
static HRESULT mmio_null_emu(void) { return WHvEmulatorTryMmioEmulation(NULL, NULL, &vpctx, &mmioctx, &st); }
static HRESULT mmio_null_vp(void) { return WHvEmulatorTryMmioEmulation(emu(), NULL, NULL, &mmioctx, &st); }
static HRESULT mmio_null_mmio(void) { return WHvEmulatorTryMmioEmulation(emu(), NULL, &vpctx, NULL, &st); }
static HRESULT mmio_null_status(void) { return WHvEmulatorTryMmioEmulation(emu(), NULL, &vpctx, &mmioctx, NULL); }
static HRESULT mmio_garbage_bytes(void)
{
    memset(&vpctx, 0, sizeof(vpctx));
    memset(&mmioctx, 0, sizeof(mmioctx));
    mmioctx.InstructionByteCount = 255;
    memset(mmioctx.InstructionBytes, 0xff, sizeof(mmioctx.InstructionBytes));
    return emu_failed(WHvEmulatorTryMmioEmulation(emu(), NULL, &vpctx, &mmioctx, &st));
}
static HRESULT mmio_no_bytes(void)
{
    /* No instruction bytes: the emulator must fetch them and the failing callbacks stop it. */
    memset(&vpctx, 0, sizeof(vpctx));
    memset(&mmioctx, 0, sizeof(mmioctx));
    return emu_failed(WHvEmulatorTryMmioEmulation(emu(), NULL, &vpctx, &mmioctx, &st));
}

/* ---- the table ---- */
struct row {
    const char *fn, *desc;
    HRESULT (*call)(void);
    HRESULT expect;
    int kvm; /* needs /dev/kvm */
};

#define K 1
static const struct row rows[] = {
    {"WHvGetCapability", "unknown capability code 0x7fffffff", cap_unknown, WHV_E_UNKNOWN_CAPABILITY, 0},
    {"WHvGetCapability", "unknown capability code 0x100", cap_unknown2, WHV_E_UNKNOWN_CAPABILITY, 0},
    {"WHvGetCapability", "NULL buffer, size 0", cap_null_buf, WHV_E_INSUFFICIENT_BUFFER, 0},
    {"WHvGetCapability", "NULL buffer, size 64", cap_null_buf_size, WHV_E_INSUFFICIENT_BUFFER, 0},
    {"WHvGetCapability", "1-byte buffer for HypervisorPresent", cap_short, WHV_E_INSUFFICIENT_BUFFER, 0},
    {"WHvGetCapability", "8-byte buffer for ProcessorFeaturesBanks", cap_short_banks, WHV_E_INSUFFICIENT_BUFFER, 0},
    {"WHvGetCapability", "NULL WrittenSizeInBytes is optional", cap_null_written, S_OK, 0},

    {"WHvCreatePartition", "NULL output pointer", create_null, E_POINTER, 0},

    {"WHvSetupPartition", "NULL handle", setup_null, E_HANDLE, 0},
    {"WHvSetupPartition", "forged handle 0x1234", setup_forged1, E_HANDLE, 0},
    {"WHvSetupPartition", "forged handle -1", setup_forged2, E_HANDLE, 0},
    {"WHvSetupPartition", "deleted partition", setup_deleted, E_HANDLE, K},
    {"WHvSetupPartition", "ProcessorCount never set", setup_no_count, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvSetupPartition", "second setup", setup_twice, WHV_E_INVALID_PARTITION_CONFIG, K},

    {"WHvResetPartition", "NULL handle", reset_null, E_HANDLE, 0},
    {"WHvResetPartition", "forged handle 0x1234", reset_forged, E_HANDLE, 0},
    {"WHvResetPartition", "deleted partition", reset_deleted, E_HANDLE, K},
    {"WHvResetPartition", "partition not set up", reset_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},

    {"WHvDeletePartition", "NULL handle", delete_null, E_HANDLE, 0},
    {"WHvDeletePartition", "forged handle 0x1234", delete_forged1, E_HANDLE, 0},
    {"WHvDeletePartition", "forged handle -1", delete_forged2, E_HANDLE, 0},
    {"WHvDeletePartition", "deleted twice", delete_twice, E_HANDLE, K},
    {"WHvDeletePartition", "stale handle whose slot was reused", delete_stale_reused, E_HANDLE, K},
    {"WHvDeletePartition", "live handle with another generation", delete_gen_off, E_HANDLE, K},

    {"WHvSetPartitionProperty", "forged handle 0x1234", setp_forged, E_HANDLE, 0},
    {"WHvSetPartitionProperty", "deleted partition", setp_deleted, E_HANDLE, K},
    {"WHvSetPartitionProperty", "NULL buffer, size 4", setp_null_buf, E_POINTER, K},
    {"WHvSetPartitionProperty", "NULL buffer, size 0, ProcessorCount", setp_null_buf0, E_POINTER, K},
    {"WHvSetPartitionProperty", "2-byte ProcessorCount", setp_short, E_INVALIDARG, K},
    {"WHvSetPartitionProperty", "unknown property code 0x7fffffff", setp_unknown, WHV_E_UNKNOWN_PROPERTY, K},
    {"WHvSetPartitionProperty", "unknown property code 0x1100", setp_unknown2, WHV_E_UNKNOWN_PROPERTY, K},
    {"WHvSetPartitionProperty", "ProcessorCount 0", setp_count0, E_INVALIDARG, K},
    {"WHvSetPartitionProperty", "ProcessorCount 0xffffffff", setp_count_huge, E_INVALIDARG, K},
    {"WHvSetPartitionProperty", "ProcessorCount after setup", setp_count_after, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvSetPartitionProperty", "LocalApicEmulationMode after setup", setp_apic_after, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvSetPartitionProperty", "LocalApicEmulationMode 7", setp_apic_bad, E_INVALIDARG, K},
    {"WHvSetPartitionProperty", "ExtendedVmExits bit 63", setp_exits_bad, WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG, K},
    {"WHvSetPartitionProperty", "ExceptionExitBitmap bit 63", setp_exc_bad, WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG, K},
    {"WHvSetPartitionProperty", "X64MsrExitBitmap bit 63", setp_msr_bad, WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG, K},
    {"WHvSetPartitionProperty", "ProcessorFeatures all ones", setp_features_bad, WHV_E_UNSUPPORTED_PROCESSOR_CONFIG, K},
    {"WHvSetPartitionProperty", "ProcessorFeaturesBanks BanksCount 3", setp_banks_count, E_INVALIDARG, K},
    {"WHvSetPartitionProperty", "ProcessorFeaturesBanks one byte short", setp_banks_short, E_INVALIDARG, K},
    {"WHvSetPartitionProperty", "SyntheticProcessorFeaturesBanks all ones", setp_synth_bad, WHV_E_UNSUPPORTED_PROCESSOR_CONFIG, K},
    {"WHvSetPartitionProperty", "InterruptClockFrequency 0", setp_irq_clock0, WHV_E_UNSUPPORTED_PROCESSOR_CONFIG, K},
    {"WHvSetPartitionProperty", "ProcessorClockFrequency 1 Hz", setp_tsc_bad, WHV_E_UNSUPPORTED_PROCESSOR_CONFIG, K},
    {"WHvSetPartitionProperty", "CpuidExitList of 6 bytes", setp_cpuid_list_odd, E_INVALIDARG, K},
    {"WHvSetPartitionProperty", "CpuidResultList of 7 bytes", setp_cpuid_res_odd, E_INVALIDARG, K},
    {"WHvSetPartitionProperty", "CpuidResultList after setup", setp_cpuid_res_after, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvSetPartitionProperty", "ReferenceTime before setup", setp_reftime_before, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvSetPartitionProperty", "NULL buffer for ExtendedVmExits after setup", setp_exits_null_after, E_POINTER, K},

    {"WHvGetPartitionProperty", "NULL handle", getp_null, E_HANDLE, 0},
    {"WHvGetPartitionProperty", "forged handle -1", getp_forged, E_HANDLE, 0},
    {"WHvGetPartitionProperty", "deleted partition", getp_deleted, E_HANDLE, K},
    {"WHvGetPartitionProperty", "unknown property code", getp_unknown, WHV_E_UNKNOWN_PROPERTY, K},
    {"WHvGetPartitionProperty", "4-byte buffer for ExtendedVmExits", getp_short, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetPartitionProperty", "NULL buffer, size 0", getp_null_buf, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetPartitionProperty", "NULL buffer, size 64", getp_null_buf_size, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetPartitionProperty", "ReferenceTime before setup", getp_reftime_before, WHV_E_INVALID_PARTITION_CONFIG, K},

    {"WHvMapGpaRange", "NULL handle", map_null_handle, E_HANDLE, 0},
    {"WHvMapGpaRange", "forged handle 0x1234", map_forged, E_HANDLE, 0},
    {"WHvMapGpaRange", "deleted partition", map_deleted, E_HANDLE, K},
    {"WHvMapGpaRange", "partition not set up", map_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvMapGpaRange", "NULL source address", map_null_src, E_INVALIDARG, K},
    {"WHvMapGpaRange", "unaligned guest address", map_gpa_unaligned, E_INVALIDARG, K},
    {"WHvMapGpaRange", "size not a page multiple", map_size_unaligned, E_INVALIDARG, K},
    {"WHvMapGpaRange", "size 0", map_size0, E_INVALIDARG, K},
    {"WHvMapGpaRange", "unaligned source address", map_src_unaligned, E_INVALIDARG, K},
    {"WHvMapGpaRange", "flags None", map_flags_none, E_INVALIDARG, K},
    {"WHvMapGpaRange", "flags Write without Read", map_flags_write_only, E_INVALIDARG, K},
    {"WHvMapGpaRange", "unknown flag 0x100", map_flags_unknown, E_INVALIDARG, K},
    {"WHvMapGpaRange", "TrackDirtyPages (not offered)", map_flags_dirty, E_INVALIDARG, K},
    {"WHvMapGpaRange", "range wraps past 2^64", map_wrap, E_INVALIDARG, K},
    {"WHvMapGpaRange", "range at 2^52, beyond the address width", map_beyond_width, E_INVALIDARG, K},

    {"WHvMapGpaRange2", "foreign process handle", map2_process, E_INVALIDARG, K},
    {"WHvMapGpaRange2", "forged handle -1", map2_forged, E_HANDLE, 0},
    {"WHvMapGpaRange2", "NULL source address", map2_null_src, E_INVALIDARG, K},
    {"WHvMapGpaRange2", "partition not set up", map2_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvMapGpaRange2", "size 1", map2_size_unaligned, E_INVALIDARG, K},

    {"WHvUnmapGpaRange", "forged handle 0x1234", unmap_forged, E_HANDLE, 0},
    {"WHvUnmapGpaRange", "deleted partition", unmap_deleted, E_HANDLE, K},
    {"WHvUnmapGpaRange", "partition not set up", unmap_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvUnmapGpaRange", "nothing mapped", unmap_nothing, WHV_E_GPA_RANGE_NOT_FOUND, K},
    {"WHvUnmapGpaRange", "range not mapped", unmap_elsewhere, WHV_E_GPA_RANGE_NOT_FOUND, K},
    {"WHvUnmapGpaRange", "unmapped twice", unmap_twice, WHV_E_GPA_RANGE_NOT_FOUND, K},
    {"WHvUnmapGpaRange", "unaligned guest address", unmap_unaligned, E_INVALIDARG, K},
    {"WHvUnmapGpaRange", "size 0", unmap_size0, E_INVALIDARG, K},
    {"WHvUnmapGpaRange", "range wraps past 2^64", unmap_wrap, E_INVALIDARG, K},

    {"WHvTranslateGva", "forged handle 0x1234", tr_forged, E_HANDLE, 0},
    {"WHvTranslateGva", "deleted partition", tr_deleted, E_HANDLE, K},
    {"WHvTranslateGva", "partition not set up", tr_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvTranslateGva", "VP index out of range", tr_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvTranslateGva", "VP not created", tr_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvTranslateGva", "VP deleted", tr_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvTranslateGva", "unknown flag 0x80000000", tr_flags, E_INVALIDARG, K},
    {"WHvTranslateGva", "NULL TranslationResult", tr_null_result, E_INVALIDARG, K},
    {"WHvTranslateGva", "NULL Gpa", tr_null_gpa, E_INVALIDARG, K},

    {"WHvReadGpaRange", "forged handle -1", rd_forged, E_HANDLE, 0},
    {"WHvReadGpaRange", "deleted partition", rd_deleted, E_HANDLE, K},
    {"WHvReadGpaRange", "partition not set up", rd_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvReadGpaRange", "VP index 0xffffffff", rd_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvReadGpaRange", "VP not created", rd_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvReadGpaRange", "VP deleted", rd_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvReadGpaRange", "unmapped GPA", rd_unmapped, WHV_E_GPA_RANGE_NOT_FOUND, K},
    {"WHvReadGpaRange", "runs past the end of a mapping", rd_straddle, WHV_E_GPA_RANGE_NOT_FOUND, K},
    {"WHvReadGpaRange", "NULL data", rd_null, E_INVALIDARG, K},
    {"WHvReadGpaRange", "size 0", rd_size0, E_INVALIDARG, K},
    {"WHvReadGpaRange", "range wraps past 2^64", rd_wrap, E_INVALIDARG, K},
    {"WHvReadGpaRange", "InputVtl targets VTL 1", rd_vtl, E_INVALIDARG, K},

    {"WHvWriteGpaRange", "forged handle 0x1234", wr_forged, E_HANDLE, 0},
    {"WHvWriteGpaRange", "deleted partition", wr_deleted, E_HANDLE, K},
    {"WHvWriteGpaRange", "partition not set up", wr_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvWriteGpaRange", "VP not created", wr_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvWriteGpaRange", "unmapped GPA", wr_unmapped, WHV_E_GPA_RANGE_NOT_FOUND, K},
    {"WHvWriteGpaRange", "GPA unmapped again", wr_after_unmap, WHV_E_GPA_RANGE_NOT_FOUND, K},
    {"WHvWriteGpaRange", "NULL data", wr_null, E_INVALIDARG, K},
    {"WHvWriteGpaRange", "size 0", wr_size0, E_INVALIDARG, K},
    {"WHvWriteGpaRange", "range wraps past 2^64", wr_wrap, E_INVALIDARG, K},

    {"WHvCreateVirtualProcessor", "NULL handle", cvp_null, E_HANDLE, 0},
    {"WHvCreateVirtualProcessor", "forged handle 0x1234", cvp_forged, E_HANDLE, 0},
    {"WHvCreateVirtualProcessor", "deleted partition", cvp_deleted, E_HANDLE, K},
    {"WHvCreateVirtualProcessor", "partition not set up", cvp_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvCreateVirtualProcessor", "index == ProcessorCount", cvp_index, E_INVALIDARG, K},
    {"WHvCreateVirtualProcessor", "index 0xffffffff", cvp_index_max, E_INVALIDARG, K},
    {"WHvCreateVirtualProcessor", "flags 1", cvp_flags, E_INVALIDARG, K},
    {"WHvCreateVirtualProcessor", "VP created twice", cvp_twice, WHV_E_VP_ALREADY_EXISTS, K},

    {"WHvCreateVirtualProcessor2", "NULL properties, count 1", cvp2_null_props, E_INVALIDARG, K},
    {"WHvCreateVirtualProcessor2", "unknown property code", cvp2_code, E_INVALIDARG, K},
    {"WHvCreateVirtualProcessor2", "NUMA node 0xffff", cvp2_node, E_INVALIDARG, K},
    {"WHvCreateVirtualProcessor2", "forged handle -1", cvp2_forged, E_HANDLE, 0},
    {"WHvCreateVirtualProcessor2", "partition not set up", cvp2_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvCreateVirtualProcessor2", "index == ProcessorCount", cvp2_index, E_INVALIDARG, K},
    {"WHvCreateVirtualProcessor2", "VP created twice", cvp2_twice, WHV_E_VP_ALREADY_EXISTS, K},

    {"WHvDeleteVirtualProcessor", "forged handle 0x1234", dvp_forged, E_HANDLE, 0},
    {"WHvDeleteVirtualProcessor", "deleted partition", dvp_deleted, E_HANDLE, K},
    {"WHvDeleteVirtualProcessor", "partition not set up", dvp_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvDeleteVirtualProcessor", "VP index out of range", dvp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvDeleteVirtualProcessor", "VP not created", dvp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvDeleteVirtualProcessor", "VP deleted twice", dvp_twice, WHV_E_VP_DOES_NOT_EXIST, K},

    {"WHvRunVirtualProcessor", "forged handle -1", run_forged, E_HANDLE, 0},
    {"WHvRunVirtualProcessor", "deleted partition", run_deleted, E_HANDLE, K},
    {"WHvRunVirtualProcessor", "partition not set up", run_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvRunVirtualProcessor", "VP index out of range", run_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvRunVirtualProcessor", "VP not created", run_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvRunVirtualProcessor", "VP deleted", run_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvRunVirtualProcessor", "NULL exit context", run_null_ctx, E_INVALIDARG, K},
    {"WHvRunVirtualProcessor", "exit context one byte short", run_short_ctx, E_INVALIDARG, K},
    {"WHvRunVirtualProcessor", "exit context size 0", run_zero_ctx, E_INVALIDARG, K},

    {"WHvCancelRunVirtualProcessor", "forged handle 0x1234", cancel_forged, E_HANDLE, 0},
    {"WHvCancelRunVirtualProcessor", "deleted partition", cancel_deleted, E_HANDLE, K},
    {"WHvCancelRunVirtualProcessor", "partition not set up", cancel_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvCancelRunVirtualProcessor", "VP index out of range", cancel_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvCancelRunVirtualProcessor", "VP not created", cancel_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvCancelRunVirtualProcessor", "VP deleted", cancel_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvCancelRunVirtualProcessor", "flags 1", cancel_flags, E_INVALIDARG, K},

    {"WHvGetVirtualProcessorRegisters", "forged handle 0x1234", getr_forged, E_HANDLE, 0},
    {"WHvGetVirtualProcessorRegisters", "deleted partition", getr_deleted, E_HANDLE, K},
    {"WHvGetVirtualProcessorRegisters", "partition not set up", getr_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvGetVirtualProcessorRegisters", "VP index out of range", getr_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorRegisters", "VP not created", getr_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorRegisters", "VP deleted", getr_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorRegisters", "NULL names", getr_null_names, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorRegisters", "NULL values", getr_null_values, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorRegisters", "count 0", getr_count0, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorRegisters", "count 1025", getr_count_huge, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorRegisters", "unknown register name 0x7fffffff", getr_unknown, WHV_E_INVALID_VP_REGISTER_NAME, K},
    {"WHvGetVirtualProcessorRegisters", "unknown name inside a batch", getr_unknown_in_batch, WHV_E_INVALID_VP_REGISTER_NAME, K},

    {"WHvSetVirtualProcessorRegisters", "forged handle -1", setr_forged, E_HANDLE, 0},
    {"WHvSetVirtualProcessorRegisters", "deleted partition", setr_deleted, E_HANDLE, K},
    {"WHvSetVirtualProcessorRegisters", "partition not set up", setr_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvSetVirtualProcessorRegisters", "VP index 0xffffffff", setr_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorRegisters", "VP not created", setr_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorRegisters", "VP deleted", setr_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorRegisters", "NULL names", setr_null_names, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorRegisters", "NULL values", setr_null_values, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorRegisters", "count 0", setr_count0, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorRegisters", "unknown register name 0x7fffffff", setr_unknown, WHV_E_INVALID_VP_REGISTER_NAME, K},

    {"WHvEmulatorCreateEmulator", "NULL callbacks", ec_null_cb, E_INVALIDARG, 0},
    {"WHvEmulatorCreateEmulator", "NULL output pointer", ec_null_out, E_INVALIDARG, 0},
    {"WHvEmulatorCreateEmulator", "callbacks Size 0", ec_size0, E_INVALIDARG, 0},
    {"WHvEmulatorCreateEmulator", "callbacks Size too large", ec_size_big, E_INVALIDARG, 0},
    {"WHvEmulatorCreateEmulator", "NULL IoPort callback", ec_no_io, E_INVALIDARG, 0},
    {"WHvEmulatorCreateEmulator", "NULL Memory callback", ec_no_mem, E_INVALIDARG, 0},
    {"WHvEmulatorCreateEmulator", "NULL GetVirtualProcessorRegisters callback", ec_no_get, E_INVALIDARG, 0},
    {"WHvEmulatorCreateEmulator", "NULL SetVirtualProcessorRegisters callback", ec_no_set, E_INVALIDARG, 0},
    {"WHvEmulatorCreateEmulator", "NULL TranslateGvaPage callback", ec_no_gva, E_INVALIDARG, 0},
    {"WHvEmulatorDestroyEmulator", "NULL handle", ed_null, E_INVALIDARG, 0},

    {"WHvEmulatorTryIoEmulation", "NULL emulator", io_null_emu, E_INVALIDARG, 0},
    {"WHvEmulatorTryIoEmulation", "NULL VpContext", io_null_vp, E_INVALIDARG, 0},
    {"WHvEmulatorTryIoEmulation", "NULL IoInstructionContext", io_null_io, E_INVALIDARG, 0},
    {"WHvEmulatorTryIoEmulation", "NULL EmulatorReturnStatus", io_null_status, E_INVALIDARG, 0},
    {"WHvEmulatorTryIoEmulation", "access size 3: S_OK, emulation failed", io_bad_size, S_OK, 0},
    {"WHvEmulatorTryIoEmulation", "255 garbage instruction bytes: S_OK, emulation failed", io_garbage_bytes, S_OK, 0},

    {"WHvEmulatorTryMmioEmulation", "NULL emulator", mmio_null_emu, E_INVALIDARG, 0},
    {"WHvEmulatorTryMmioEmulation", "NULL VpContext", mmio_null_vp, E_INVALIDARG, 0},
    {"WHvEmulatorTryMmioEmulation", "NULL MmioInstructionContext", mmio_null_mmio, E_INVALIDARG, 0},
    {"WHvEmulatorTryMmioEmulation", "NULL EmulatorReturnStatus", mmio_null_status, E_INVALIDARG, 0},
    {"WHvEmulatorTryMmioEmulation", "255 garbage instruction bytes: S_OK, emulation failed", mmio_garbage_bytes, S_OK, 0},
    {"WHvEmulatorTryMmioEmulation", "no instruction bytes, callbacks fail: S_OK, emulation failed", mmio_no_bytes, S_OK, 0},
};

/* Runs one row in a child process: returns 0 and *hr, or the wait status of a child that died. */
static int run_row(const struct row *r, HRESULT *hr)
{
    int fds[2];
    if (getenv("BAD_INPUT_NOFORK") || pipe(fds) < 0) {
        *hr = r->call();
        teardown();
        return 0;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        *hr = r->call();
        teardown();
        return 0;
    }
    if (pid == 0) {
        close(fds[0]);
        alarm(60);
        HRESULT v = r->call();
        teardown();
        ssize_t n = write(fds[1], &v, sizeof(v));
        close(fds[1]);
        exit(n == (ssize_t)sizeof(v) ? 0 : 2);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], hr, sizeof(*hr));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (n != (ssize_t)sizeof(*hr) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return status ? status : -1;
    return 0;
}

int main(void)
{
    BOOL present = FALSE;
    WHvGetCapability(WHvCapabilityCodeHypervisorPresent, &present, sizeof(present), NULL);

    unsigned passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        if (r->kvm && !present)
            continue;
        HRESULT hr = 0;
        int status = run_row(r, &hr);
        if (status != 0) {
            failed++;
            if (status > 0 && WIFSIGNALED(status))
                printf("FAIL - %s: %s: crashed with signal %d (%s)\n", r->fn, r->desc,
                       WTERMSIG(status), strsignal(WTERMSIG(status)));
            else
                printf("FAIL - %s: %s: child exited with status %d\n", r->fn, r->desc,
                       status > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        } else if (hr != r->expect) {
            failed++;
            printf("FAIL - %s: %s: expected 0x%08x got 0x%08x\n", r->fn, r->desc,
                   (unsigned)r->expect, (unsigned)hr);
        } else {
            passed++;
            printf("ok - %s: %s\n", r->fn, r->desc);
        }
    }
    printf("%u passed, %u failed\n", passed, failed);
    if (failed)
        return 1;
    if (!present) {
        printf("SKIP: /dev/kvm not available\n");
        return 77;
    }
    return 0;
}
