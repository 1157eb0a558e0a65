/* Bad-input table for every implemented WinHvPlatform.h / WinHvEmulation.h function and the
 * openwhp event and port-doorbell extensions: NULL pointers, bad sizes and flags, unknown codes,
 * missing or deleted VPs, deleted and forged handles, wrong partition state. Each row runs in a
 * forked child, so a crash is a FAIL row (and a hang one, through alarm()). */
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
#include <openwhp/doorbell.h>
#include <openwhp/event.h>
#include <openwhp/hvsocket.h>
#include <openwhp/interrupt_types.h>

#define PAGE 4096u
#define GPA_MAPPED 0x10000ull /* one read/write page mapped by vm() */
#define FORGED1 ((WHV_PARTITION_HANDLE)(uintptr_t)0x1234)
#define FORGED2 ((WHV_PARTITION_HANDLE)(intptr_t)-1)

/* ---- fixture: what a row prepares; teardown() releases it after the row ---- */
static WHV_PARTITION_HANDLE P;
static void *M;
static WHV_EMULATOR_HANDLE E;
static WHV_PARTITION_HANDLE P2;           /* a second partition, whose objects are foreign to P */
static HANDLE EV;                         /* an event the row created */
static HANDLE TEV;                        /* the event WHvCreateTrigger returned */
static WHV_TRIGGER_HANDLE TRIG;           /* the trigger the row created */
static WHV_NOTIFICATION_PORT_HANDLE PORT; /* the notification port the row created */

static void teardown(void)
{
    if (P)
        WHvDeletePartition(P);
    P = NULL;
    if (P2)
        WHvDeletePartition(P2);
    P2 = NULL;
    if (EV)
        OpenWhpCloseEvent(EV);
    if (TEV)
        OpenWhpCloseEvent(TEV);
    EV = TEV = NULL;
    TRIG = NULL;
    PORT = NULL;
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
static HRESULT setp_unknown_4(void) { return WHvSetPartitionProperty(fresh(), (WHV_PARTITION_PROPERTY_CODE)0x7fffffff, buf, 4); }
static HRESULT setp_unknown_0(void) { return WHvSetPartitionProperty(fresh(), (WHV_PARTITION_PROPERTY_CODE)0x7fffffff, buf, 0); }
static HRESULT setp_unknown_null(void) { return WHvSetPartitionProperty(fresh(), (WHV_PARTITION_PROPERTY_CODE)0x7fffffff, NULL, 4); }
static HRESULT setp_unknown_after(void) { return WHvSetPartitionProperty(setup(), (WHV_PARTITION_PROPERTY_CODE)0x00001100, buf, 4); }
static HRESULT setp_cpuid_exit_bit(void)
{
    WHV_EXTENDED_VM_EXITS e = {.AsUINT64 = 0};
    e.X64CpuidExit = 1;
    return set_u64(P, WHvPartitionPropertyCodeExtendedVmExits, e.AsUINT64);
}
static HRESULT setp_cpuid_list_with_bit(void)
{
    static const UINT32 leaves[] = {1};
    fresh();
    if (FAILED(setp_cpuid_exit_bit()))
        return E_UNEXPECTED;
    return WHvSetPartitionProperty(P, WHvPartitionPropertyCodeCpuidExitList, leaves, sizeof(leaves));
}
static HRESULT setp_cpuid_bit_with_list(void)
{
    static const UINT32 leaves[] = {1};
    if (FAILED(WHvSetPartitionProperty(fresh(), WHvPartitionPropertyCodeCpuidExitList, leaves, sizeof(leaves))))
        return E_UNEXPECTED;
    return setp_cpuid_exit_bit();
}

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
/* The first SDK's exit context (10.0.17134-10.0.18362) is the smallest accepted (test_exit_sizes). */
#define EXIT_CONTEXT_SIZE_FIRST_SDK 144u
static HRESULT run_short_ctx(void) { WHV_RUN_VP_EXIT_CONTEXT c; return WHvRunVirtualProcessor(vm(), 0, &c, EXIT_CONTEXT_SIZE_FIRST_SDK - 1); }
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

/* ---- fixtures and helpers of the interrupt, SynIC and event rows ---- */
#define GPA_UNMAPPED 0x200000ull
#define SIEF_GPA (GPA_MAPPED + PAGE) /* second page that synic() maps */
#define FORGED_TRIGGER ((WHV_TRIGGER_HANDLE)(uintptr_t)0x1234)
#define FORGED_PORT ((WHV_NOTIFICATION_PORT_HANDLE)(uintptr_t)0x1234)
#define FORGED_EVENT ((HANDLE)(uintptr_t)0x1234)
#define STDIN_EVENT ((HANDLE)(uintptr_t)1) /* fd 0 plus one: a real fd, but not an event */
/* Rows of the event functions return their raw result: FALSE, WAIT_FAILED or -1. */
#define R_FALSE ((HRESULT)FALSE)
#define R_WAIT_FAILED ((HRESULT)WAIT_FAILED)
#define R_NO_FD ((HRESULT)-1)

/* Set up with two VP slots and this LAPIC mode and synthetic features; VP 0 created (VP 1 not);
 * GPA_MAPPED mapped read/write: one page, two with SynIC features (SIM at GPA_MAPPED, SIEF at
 * SIEF_GPA). */
static WHV_PARTITION_HANDLE configured(UINT32 apic_mode, UINT64 synthetic)
{
    with_count(2);
    set_u64(P, WHvPartitionPropertyCodeLocalApicEmulationMode, apic_mode);
    if (synthetic) {
        WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS b;
        memset(&b, 0, sizeof(b));
        b.BanksCount = WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS_COUNT;
        b.AsUINT64[0] = synthetic;
        WHvSetPartitionProperty(P, WHvPartitionPropertyCodeSyntheticProcessorFeaturesBanks, &b, sizeof(b));
    }
    WHvSetupPartition(P);
    WHvCreateVirtualProcessor(P, 0, 0);
    UINT32 size = synthetic ? 2 * PAGE : PAGE;
    M = aligned_alloc(PAGE, size);
    if (M) {
        memset(M, 0, size);
        WHvMapGpaRange(P, M, GPA_MAPPED, size, WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite);
    }
    return P;
}

static UINT64 synic_features(void)
{
    WHV_SYNTHETIC_PROCESSOR_FEATURES f = {.AsUINT64 = 0};
    f.HypervisorPresent = f.Hv1 = f.AccessSynicRegs = 1;
    return f.AsUINT64;
}

/* vm() with the LAPIC emulated (xAPIC): what interrupts need. */
static WHV_PARTITION_HANDLE lapic(void) { return configured(WHvX64LocalApicEmulationModeXApic, 0); }
static WHV_PARTITION_HANDLE lapic_vp0_deleted(void)
{
    lapic();
    WHvDeleteVirtualProcessor(P, 0);
    return P;
}
/* lapic() with SynIC features; the guest has not enabled the SynIC (SCONTROL 0, pages off). */
static WHV_PARTITION_HANDLE synic(void) { return configured(WHvX64LocalApicEmulationModeXApic, synic_features()); }
/* SynIC features but no LAPIC. */
static WHV_PARTITION_HANDLE synic_no_lapic(void) { return configured(WHvX64LocalApicEmulationModeNone, synic_features()); }

static HRESULT set_reg(WHV_PARTITION_HANDLE h, WHV_REGISTER_NAME n, UINT64 val)
{
    WHV_REGISTER_VALUE v;
    memset(&v, 0, sizeof(v));
    v.Reg64 = val;
    return WHvSetVirtualProcessorRegisters(h, 0, &n, 1, &v);
}

/* synic() whose VP 0 enabled the SynIC: SIM page at `simp`, SIEF page at SIEF_GPA, SINT 0
 * unmasked on vector 0x30 unless `sint0_masked`. */
static WHV_PARTITION_HANDLE synic_on(UINT64 simp, int sint0_masked)
{
    synic();
    set_reg(P, WHvRegisterScontrol, 1);
    set_reg(P, WHvRegisterSimp, simp | 1);
    set_reg(P, WHvRegisterSiefp, SIEF_GPA | 1);
    set_reg(P, WHvRegisterSint0, sint0_masked ? 0x10030 : 0x30);
    return P;
}

static HANDLE event(void)
{
    if (!EV)
        EV = OpenWhpCreateEvent(FALSE, FALSE);
    return EV;
}

/* A handle that was an event: closed, and its fd not reused by another event yet. */
static HANDLE closed_event(void)
{
    HANDLE h = OpenWhpCreateEvent(FALSE, FALSE);
    OpenWhpCloseEvent(h);
    return h;
}

/* WHvRequestInterrupt */
static WHV_INTERRUPT_CONTROL fixed(UINT32 vector)
{
    WHV_INTERRUPT_CONTROL c;
    memset(&c, 0, sizeof(c));
    c.Type = WHvX64InterruptTypeFixed;
    c.DestinationMode = WHvX64InterruptDestinationModePhysical;
    c.TriggerMode = WHvX64InterruptTriggerModeEdge;
    c.Destination = 0;
    c.Vector = vector;
    return c;
}

static HRESULT request(WHV_PARTITION_HANDLE h, WHV_INTERRUPT_CONTROL c)
{
    return WHvRequestInterrupt(h, &c, sizeof(c));
}

static HRESULT request_type(WHV_PARTITION_HANDLE h, UINT32 type, UINT32 dest)
{
    WHV_INTERRUPT_CONTROL c = fixed(0x30);
    c.Type = type;
    c.Destination = dest;
    return request(h, c);
}

/* WHvGetInterruptTargetVpSet */
static UINT32 vps[8], nvps;

static HRESULT targets(WHV_PARTITION_HANDLE h, UINT32 mode, UINT32 capacity)
{
    return WHvGetInterruptTargetVpSet(h, 0, (WHV_INTERRUPT_DESTINATION_MODE)mode, vps, capacity, &nvps);
}

/* LAPIC and VP state: a page and a little more, so rows can pass sizes around 4096 */
static UINT8 state[2 * PAGE];
static UINT32 written;

static HRESULT get_ic2(WHV_PARTITION_HANDLE h, UINT32 vp, UINT32 size)
{
    return WHvGetVirtualProcessorInterruptControllerState2(h, vp, state, size, &written);
}

static HRESULT set_ic2(WHV_PARTITION_HANDLE h, UINT32 vp, UINT32 size)
{
    return WHvSetVirtualProcessorInterruptControllerState2(h, vp, state, size);
}

static HRESULT get_state(WHV_PARTITION_HANDLE h, UINT32 vp, UINT32 type, UINT32 size)
{
    return WHvGetVirtualProcessorState(h, vp, (WHV_VIRTUAL_PROCESSOR_STATE_TYPE)type, state, size, &written);
}

static HRESULT set_state(WHV_PARTITION_HANDLE h, UINT32 vp, UINT32 type, UINT32 size)
{
    return WHvSetVirtualProcessorState(h, vp, (WHV_VIRTUAL_PROCESSOR_STATE_TYPE)type, state, size);
}

/* A size probe must fail with the required size in the written count: S_FALSE if it does not. */
static HRESULT probed(HRESULT hr, UINT32 need)
{
    return written == need ? hr : S_FALSE;
}

/* WHvGetVirtualProcessorCounters */
static HRESULT counters(WHV_PARTITION_HANDLE h, UINT32 vp, UINT32 set, UINT32 size)
{
    return WHvGetVirtualProcessorCounters(h, vp, (WHV_PROCESSOR_COUNTER_SET)set, state, size, &written);
}

/* SynIC */
static UINT8 msg[WHV_SYNIC_MESSAGE_SIZE + 8];

static HRESULT post(WHV_PARTITION_HANDLE h, UINT32 vp, UINT32 sint, UINT32 type, UINT32 size)
{
    memcpy(msg, &type, sizeof(type));
    return WHvPostVirtualProcessorSynicMessage(h, vp, sint, msg, size);
}

static HRESULT signal_evt(WHV_PARTITION_HANDLE h, UINT32 vp, UINT32 sint, UINT32 vtl, UINT32 flag)
{
    WHV_SYNIC_EVENT_PARAMETERS e;
    memset(&e, 0, sizeof(e));
    e.VpIndex = vp;
    e.TargetSint = (UINT8)sint;
    e.TargetVtl = (WHV_VTL)vtl;
    e.FlagNumber = (UINT16)flag;
    BOOL newly;
    return WHvSignalVirtualProcessorSynicEvent(h, e, &newly);
}

/* Doorbells: a match on any write to this address */
static WHV_DOORBELL_MATCH_DATA bell(UINT64 address)
{
    WHV_DOORBELL_MATCH_DATA m;
    memset(&m, 0, sizeof(m));
    m.GuestAddress = address;
    return m;
}

static WHV_DOORBELL_MATCH_DATA bell_value(UINT64 address, UINT32 length, UINT64 value)
{
    WHV_DOORBELL_MATCH_DATA m = bell(address);
    m.MatchOnLength = m.MatchOnValue = 1;
    m.Length = length;
    m.Value = value;
    return m;
}

static HRESULT ring(WHV_PARTITION_HANDLE h, WHV_DOORBELL_MATCH_DATA m)
{
    return WHvRegisterPartitionDoorbellEvent(h, &m, event());
}

static HRESULT ring_pio(WHV_PARTITION_HANDLE h, WHV_DOORBELL_MATCH_DATA m)
{
    return OpenWhpRegisterPortDoorbellEvent(h, &m, event());
}

/* Triggers */
static WHV_TRIGGER_PARAMETERS trig_irq(UINT32 vector)
{
    WHV_TRIGGER_PARAMETERS t;
    memset(&t, 0, sizeof(t));
    t.TriggerType = WHvTriggerTypeInterrupt;
    t.Interrupt = fixed(vector);
    return t;
}

static WHV_TRIGGER_PARAMETERS trig_dev(UINT64 address)
{
    WHV_TRIGGER_PARAMETERS t;
    memset(&t, 0, sizeof(t));
    t.TriggerType = WHvTriggerTypeDeviceInterrupt;
    t.DeviceInterrupt.MsiAddress = address;
    t.DeviceInterrupt.MsiData = 0x30;
    return t;
}

static HRESULT create_trig(WHV_PARTITION_HANDLE h, WHV_TRIGGER_PARAMETERS t)
{
    return WHvCreateTrigger(h, &t, &TRIG, &TEV);
}

/* lapic() with a trigger for vector 0x30 in TRIG. */
static WHV_PARTITION_HANDLE with_trigger(void)
{
    create_trig(lapic(), trig_irq(0x30));
    return P;
}

/* Notification ports */
static WHV_NOTIFICATION_PORT_PARAMETERS port_event(UINT32 connection)
{
    WHV_NOTIFICATION_PORT_PARAMETERS prm;
    memset(&prm, 0, sizeof(prm));
    prm.NotificationPortType = WHvNotificationPortTypeEvent;
    prm.Event.ConnectionId = connection;
    return prm;
}

static HRESULT create_port(WHV_PARTITION_HANDLE h, WHV_NOTIFICATION_PORT_PARAMETERS prm, HANDLE ev)
{
    return WHvCreateNotificationPort(h, &prm, ev, &PORT);
}

/* vm() with an event port for connection 7 in PORT. */
static WHV_PARTITION_HANDLE with_port(void)
{
    create_port(vm(), port_event(7), event());
    return P;
}

/* ---- rows of the interrupt, SynIC and event functions ---- */

/* WHvRequestInterrupt */
static HRESULT ri_null(void) { return WHvRequestInterrupt(lapic(), NULL, sizeof(WHV_INTERRUPT_CONTROL)); }
static HRESULT ri_short(void) { WHV_INTERRUPT_CONTROL c = fixed(0x30); return WHvRequestInterrupt(lapic(), &c, sizeof(c) - 1); }
static HRESULT ri_size0(void) { WHV_INTERRUPT_CONTROL c = fixed(0x30); return WHvRequestInterrupt(lapic(), &c, 0); }
static HRESULT ri_smi(void) { return request_type(lapic(), OPENWHP_X64_INTERRUPT_TYPE_SMI, 0); }
static HRESULT ri_remote_read(void) { return request_type(lapic(), OPENWHP_X64_INTERRUPT_TYPE_REMOTE_READ, 0); }
static HRESULT ri_type10(void) { return request_type(lapic(), 10, 0); }
static HRESULT ri_type255(void) { return request_type(lapic(), 255, 0); }
static HRESULT ri_vector15(void) { return request(lapic(), fixed(15)); }
static HRESULT ri_lowest_vector0(void) { WHV_INTERRUPT_CONTROL c = fixed(0); c.Type = WHvX64InterruptTypeLowestPriority; return request(lapic(), c); }
static HRESULT ri_level_vector15(void) { WHV_INTERRUPT_CONTROL c = fixed(15); c.TriggerMode = WHvX64InterruptTriggerModeLevel; return request(lapic(), c); }
static HRESULT ri_vector256(void) { return request(lapic(), fixed(256)); }
static HRESULT ri_dest_mode2(void) { WHV_INTERRUPT_CONTROL c = fixed(0x30); c.DestinationMode = 2; return request(lapic(), c); }
static HRESULT ri_trigger_mode2(void) { WHV_INTERRUPT_CONTROL c = fixed(0x30); c.TriggerMode = 2; return request(lapic(), c); }
static HRESULT ri_vtl1(void) { WHV_INTERRUPT_CONTROL c = fixed(0x30); c.TargetVtl = 1; return request(lapic(), c); }
static HRESULT ri_reserved(void) { WHV_INTERRUPT_CONTROL c = fixed(0x30); c.Reserved = 1ull << 39; return request(lapic(), c); }
static HRESULT ri_lint1_missing(void) { return request_type(lapic(), WHvX64InterruptTypeLocalInt1, 1); }
static HRESULT ri_lint1_logical(void)
{
    WHV_INTERRUPT_CONTROL c = fixed(0);
    c.Type = WHvX64InterruptTypeLocalInt1;
    c.DestinationMode = WHvX64InterruptDestinationModeLogical;
    c.Destination = 1;
    return request(lapic(), c);
}
static HRESULT ri_extint_missing(void) { return request_type(lapic(), OPENWHP_X64_INTERRUPT_TYPE_EXT_INT, 0xffffffffu); }
static HRESULT ri_lint0_deleted(void) { return request_type(lapic_vp0_deleted(), OPENWHP_X64_INTERRUPT_TYPE_LOCAL_INT0, 0); }
static HRESULT ri_none(void) { return request(vm(), fixed(0x30)); }
static HRESULT ri_none_nmi(void) { return request_type(vm(), WHvX64InterruptTypeNmi, 0); }
static HRESULT ri_not_setup(void) { return request(with_count(1), fixed(0x30)); }
static HRESULT ri_deleted(void) { return request(deleted(), fixed(0x30)); }
static HRESULT ri_forged(void) { return request(FORGED1, fixed(0x30)); }
static HRESULT ri_null_handle(void) { return request(NULL, fixed(0x30)); }
static HRESULT ri_level_routes_full(void)
{
    /* Level interrupts whose EOI never comes: each holds one of the 24 EOI-reporting routes. */
    lapic();
    WHV_INTERRUPT_CONTROL c = fixed(0x30);
    c.TriggerMode = WHvX64InterruptTriggerModeLevel;
    for (UINT32 v = 0x30; v < 0x30 + 24; v++) {
        c.Vector = v;
        if (FAILED(request(P, c)))
            return S_FALSE;
    }
    c.Vector = 0x30 + 24;
    return request(P, c);
}

/* WHvGetInterruptTargetVpSet */
static HRESULT tv_null_vps(void) { return WHvGetInterruptTargetVpSet(lapic(), 0, WHvX64InterruptDestinationModePhysical, NULL, 8, &nvps); }
static HRESULT tv_null_count(void) { return WHvGetInterruptTargetVpSet(lapic(), 0, WHvX64InterruptDestinationModePhysical, vps, 8, NULL); }
static HRESULT tv_capacity(void) { return targets(lapic(), WHvX64InterruptDestinationModePhysical, 1); }
static HRESULT tv_capacity0(void) { return targets(lapic(), WHvX64InterruptDestinationModeLogical, 0); }
static HRESULT tv_mode2(void) { return targets(lapic(), 2, 8); }
static HRESULT tv_none(void) { return targets(vm(), WHvX64InterruptDestinationModePhysical, 8); }
static HRESULT tv_not_setup(void) { return targets(with_count(1), WHvX64InterruptDestinationModePhysical, 8); }
static HRESULT tv_forged(void) { return targets(FORGED2, WHvX64InterruptDestinationModePhysical, 8); }
static HRESULT tv_deleted(void) { return targets(deleted(), WHvX64InterruptDestinationModePhysical, 8); }

/* WHvGet/SetVirtualProcessorInterruptControllerState2 */
static HRESULT gic_null(void) { written = 0; return probed(WHvGetVirtualProcessorInterruptControllerState2(lapic(), 0, NULL, 0, &written), PAGE); }
static HRESULT gic_short(void) { written = 0; return probed(get_ic2(lapic(), 0, PAGE - 1), PAGE); }
static HRESULT gic_short_no_written(void) { return WHvGetVirtualProcessorInterruptControllerState2(lapic(), 0, state, 1024, NULL); }
static HRESULT gic_none(void) { return get_ic2(vm(), 0, PAGE); }
static HRESULT gic_not_setup(void) { return get_ic2(with_count(1), 0, PAGE); }
static HRESULT gic_vp_range(void) { return get_ic2(lapic(), 2, PAGE); }
static HRESULT gic_vp_missing(void) { return get_ic2(lapic(), 1, PAGE); }
static HRESULT gic_vp_deleted(void) { return get_ic2(lapic_vp0_deleted(), 0, PAGE); }
static HRESULT gic_forged(void) { return get_ic2(FORGED1, 0, PAGE); }
static HRESULT gic_deleted(void) { return get_ic2(deleted(), 0, PAGE); }
static HRESULT sic_null(void) { return WHvSetVirtualProcessorInterruptControllerState2(lapic(), 0, NULL, PAGE); }
static HRESULT sic_short(void) { return set_ic2(lapic(), 0, PAGE - 1); }
static HRESULT sic_none(void) { return set_ic2(vm(), 0, PAGE); }
static HRESULT sic_vp_range(void) { return set_ic2(lapic(), 0xffffffffu, PAGE); }
static HRESULT sic_vp_missing(void) { return set_ic2(lapic(), 1, PAGE); }
static HRESULT sic_vp_deleted(void) { return set_ic2(lapic_vp0_deleted(), 0, PAGE); }
static HRESULT sic_forged(void) { return set_ic2(FORGED2, 0, PAGE); }

/* WHvGetVirtualProcessorState / WHvSetVirtualProcessorState */
#define ST_LAPIC WHvVirtualProcessorStateTypeInterruptControllerState2
static HRESULT gst_unknown(void) { return get_state(lapic(), 0, 0x7fffffffu, PAGE); }
static HRESULT gst_nested(void) { return get_state(lapic(), 0, WHvVirtualProcessorStateTypeNestedState, sizeof(state)); }
static HRESULT gst_xsave(void) { return get_state(lapic(), 0, WHvVirtualProcessorStateTypeXsaveState, sizeof(state)); }
static HRESULT gst_timer(void) { return get_state(synic(), 0, WHvVirtualProcessorStateTypeSynicTimerState, sizeof(state)); }
static HRESULT gst_null(void) { written = 0; return probed(WHvGetVirtualProcessorState(lapic(), 0, ST_LAPIC, NULL, 0, &written), PAGE); }
static HRESULT gst_short(void) { written = 0; return probed(get_state(lapic(), 0, ST_LAPIC, PAGE - 1), PAGE); }
static HRESULT gst_sim_short(void) { written = 0; return probed(get_state(synic(), 0, WHvVirtualProcessorStateTypeSynicMessagePage, 256), PAGE); }
static HRESULT gst_sief_null(void) { written = 0; return probed(WHvGetVirtualProcessorState(synic(), 0, WHvVirtualProcessorStateTypeSynicEventFlagPage, NULL, PAGE, &written), PAGE); }
static HRESULT gst_sim_no_synic(void) { return get_state(lapic(), 0, WHvVirtualProcessorStateTypeSynicMessagePage, PAGE); }
static HRESULT gst_none(void) { return get_state(vm(), 0, ST_LAPIC, PAGE); }
static HRESULT gst_not_setup(void) { return get_state(with_count(1), 0, ST_LAPIC, PAGE); }
static HRESULT gst_vp_range(void) { return get_state(lapic(), 2, ST_LAPIC, PAGE); }
static HRESULT gst_vp_missing(void) { return get_state(lapic(), 1, ST_LAPIC, PAGE); }
static HRESULT gst_vp_deleted(void) { return get_state(lapic_vp0_deleted(), 0, ST_LAPIC, PAGE); }
static HRESULT gst_sim_vp_missing(void) { return get_state(synic(), 1, WHvVirtualProcessorStateTypeSynicMessagePage, PAGE); }
static HRESULT gst_forged(void) { return get_state(FORGED1, 0, ST_LAPIC, PAGE); }
static HRESULT sst_unknown(void) { return set_state(lapic(), 0, 0x7fffffffu, PAGE); }
static HRESULT sst_nested(void) { return set_state(lapic(), 0, WHvVirtualProcessorStateTypeNestedState, sizeof(state)); }
static HRESULT sst_xsave(void) { return set_state(lapic(), 0, WHvVirtualProcessorStateTypeXsaveState, sizeof(state)); }
static HRESULT sst_null(void) { return WHvSetVirtualProcessorState(lapic(), 0, ST_LAPIC, NULL, PAGE); }
static HRESULT sst_short(void) { return set_state(lapic(), 0, ST_LAPIC, PAGE - 1); }
static HRESULT sst_long(void)
{
    /* whp-abi.md: "Size must be exact"; the code takes any size from 4096 up. */
    lapic();
    if (FAILED(get_state(P, 0, ST_LAPIC, PAGE)))
        return S_FALSE;
    return set_state(P, 0, ST_LAPIC, PAGE + 1);
}
static HRESULT sst_sief_short(void) { return set_state(synic(), 0, WHvVirtualProcessorStateTypeSynicEventFlagPage, PAGE - 1); }
static HRESULT sst_sim_no_synic(void) { return set_state(lapic(), 0, WHvVirtualProcessorStateTypeSynicMessagePage, PAGE); }
static HRESULT sst_none(void) { return set_state(vm(), 0, ST_LAPIC, PAGE); }
static HRESULT sst_vp_range(void) { return set_state(lapic(), 2, ST_LAPIC, PAGE); }
static HRESULT sst_vp_missing(void) { return set_state(lapic(), 1, ST_LAPIC, PAGE); }
static HRESULT sst_vp_deleted(void) { return set_state(lapic_vp0_deleted(), 0, ST_LAPIC, PAGE); }
static HRESULT sst_forged(void) { return set_state(FORGED2, 0, ST_LAPIC, PAGE); }

/* WHvGetVirtualProcessorCounters */
static HRESULT cnt_unknown(void) { return counters(vm(), 0, 0x7fffffffu, sizeof(state)); }
static HRESULT cnt_set5(void) { return counters(vm(), 0, 5, sizeof(state)); }
static HRESULT cnt_events(void) { return counters(vm(), 0, WHvProcessorCounterSetEvents, sizeof(state)); }
static HRESULT cnt_apic(void) { return counters(lapic(), 0, WHvProcessorCounterSetApic, sizeof(state)); }
static HRESULT cnt_synthetic(void) { return counters(vm(), 0, WHvProcessorCounterSetSyntheticFeatures, sizeof(state)); }
static HRESULT cnt_short(void) { written = 0; return probed(counters(vm(), 0, WHvProcessorCounterSetRuntime, 8), sizeof(WHV_PROCESSOR_RUNTIME_COUNTERS)); }
static HRESULT cnt_short2(void)
{
    written = 0;
    return probed(counters(vm(), 0, WHvProcessorCounterSetIntercepts, sizeof(WHV_PROCESSOR_ACTIVITY_COUNTERS) - 1),
                  sizeof(WHV_PROCESSOR_ACTIVITY_COUNTERS));
}
static HRESULT cnt_null(void)
{
    written = 0;
    return probed(WHvGetVirtualProcessorCounters(vm(), 0, WHvProcessorCounterSetRuntime, NULL, 0, &written),
                  sizeof(WHV_PROCESSOR_RUNTIME_COUNTERS));
}
static HRESULT cnt_not_setup(void) { return counters(with_count(1), 0, WHvProcessorCounterSetRuntime, sizeof(state)); }
static HRESULT cnt_vp_range(void) { return counters(vm(), 2, WHvProcessorCounterSetRuntime, sizeof(state)); }
static HRESULT cnt_vp_missing(void) { return counters(vm(), 1, WHvProcessorCounterSetIntercepts, sizeof(state)); }
static HRESULT cnt_vp_deleted(void) { return counters(vm_vp0_deleted(), 0, WHvProcessorCounterSetRuntime, sizeof(state)); }
static HRESULT cnt_forged(void) { return counters(FORGED1, 0, WHvProcessorCounterSetRuntime, sizeof(state)); }
static HRESULT cnt_deleted(void) { return counters(deleted(), 0, WHvProcessorCounterSetRuntime, sizeof(state)); }

/* WHvPostVirtualProcessorSynicMessage */
static HRESULT pm_null(void) { return WHvPostVirtualProcessorSynicMessage(synic_on(GPA_MAPPED, 0), 0, 0, NULL, 256); }
static HRESULT pm_size0(void) { return post(synic_on(GPA_MAPPED, 0), 0, 0, 1, 0); }
static HRESULT pm_size3(void) { return post(synic_on(GPA_MAPPED, 0), 0, 0, 1, 3); }
static HRESULT pm_size257(void) { return post(synic_on(GPA_MAPPED, 0), 0, 0, 1, WHV_SYNIC_MESSAGE_SIZE + 1); }
static HRESULT pm_sint16(void) { return post(synic_on(GPA_MAPPED, 0), 0, 16, 1, 256); }
static HRESULT pm_sint_max(void) { return post(synic_on(GPA_MAPPED, 0), 0, 0xffffffffu, 1, 256); }
static HRESULT pm_type0(void) { return post(synic_on(GPA_MAPPED, 0), 0, 0, 0, 256); }
static HRESULT pm_no_synic(void) { return post(lapic(), 0, 0, 1, 256); }
static HRESULT pm_no_synic_type0(void) { return post(lapic(), 0, 0, 0, 256); }
static HRESULT pm_no_lapic(void) { return post(synic_no_lapic(), 0, 0, 1, 256); }
static HRESULT pm_synic_off(void) { return post(synic(), 0, 0, 1, 256); }
static HRESULT pm_simp_unmapped(void) { return post(synic_on(GPA_UNMAPPED, 0), 0, 0, 1, 256); }
static HRESULT pm_busy(void)
{
    synic_on(GPA_MAPPED, 1);
    if (FAILED(post(P, 0, 3, 1, 256)))
        return S_FALSE;
    return post(P, 0, 3, 2, 24);
}
static HRESULT pm_not_setup(void) { return post(with_count(1), 0, 0, 1, 256); }
static HRESULT pm_vp_range(void) { return post(synic_on(GPA_MAPPED, 0), 2, 0, 1, 256); }
static HRESULT pm_vp_missing(void) { return post(synic_on(GPA_MAPPED, 0), 1, 0, 1, 256); }
static HRESULT pm_vp_deleted(void) { synic_on(GPA_MAPPED, 0); WHvDeleteVirtualProcessor(P, 0); return post(P, 0, 0, 1, 256); }
static HRESULT pm_forged(void) { return post(FORGED1, 0, 0, 1, 256); }
static HRESULT pm_deleted(void) { return post(deleted(), 0, 0, 1, 256); }

/* WHvSignalVirtualProcessorSynicEvent */
static HRESULT se_sint16(void) { return signal_evt(synic_on(GPA_MAPPED, 0), 0, 16, 0, 0); }
static HRESULT se_sint255(void) { return signal_evt(synic_on(GPA_MAPPED, 0), 0, 255, 0, 0); }
static HRESULT se_vtl1(void) { return signal_evt(synic_on(GPA_MAPPED, 0), 0, 0, 1, 0); }
static HRESULT se_flag2048(void) { return signal_evt(synic_on(GPA_MAPPED, 0), 0, 0, 0, 2048); }
static HRESULT se_flag_max(void) { return signal_evt(synic_on(GPA_MAPPED, 0), 0, 0, 0, 0xffff); }
static HRESULT se_vp_range(void) { return signal_evt(synic_on(GPA_MAPPED, 0), 2, 0, 0, 0); }
static HRESULT se_vp_missing(void) { return signal_evt(synic_on(GPA_MAPPED, 0), 1, 0, 0, 0); }
static HRESULT se_vp_deleted(void) { synic_on(GPA_MAPPED, 0); WHvDeleteVirtualProcessor(P, 0); return signal_evt(P, 0, 0, 0, 0); }
static HRESULT se_no_synic(void) { return signal_evt(lapic(), 0, 0, 0, 0); }
static HRESULT se_no_lapic(void) { return signal_evt(synic_no_lapic(), 0, 0, 0, 0); }
static HRESULT se_synic_off(void) { return signal_evt(synic(), 0, 0, 0, 0); }
static HRESULT se_masked(void) { return signal_evt(synic_on(GPA_MAPPED, 1), 0, 0, 0, 0); }
static HRESULT se_other_sint_masked(void) { return signal_evt(synic_on(GPA_MAPPED, 0), 0, 1, 0, 0); }
static HRESULT se_null_newly(void)
{
    WHV_SYNIC_EVENT_PARAMETERS e;
    memset(&e, 0, sizeof(e));
    return WHvSignalVirtualProcessorSynicEvent(synic_on(GPA_MAPPED, 0), e, NULL);
}
static HRESULT se_not_setup(void) { return signal_evt(with_count(1), 0, 0, 0, 0); }
static HRESULT se_forged(void) { return signal_evt(FORGED2, 0, 0, 0, 0); }

/* WHvRegisterPartitionDoorbellEvent / WHvUnregisterPartitionDoorbellEvent */
#define DB_GPA 0x100000ull /* no RAM there */
static HRESULT db_null(void) { return WHvRegisterPartitionDoorbellEvent(vm(), NULL, event()); }
static HRESULT db_value_no_length(void) { WHV_DOORBELL_MATCH_DATA m = bell_value(DB_GPA, 4, 1); m.MatchOnLength = 0; return ring(vm(), m); }
static HRESULT db_length3(void) { return ring(vm(), bell_value(DB_GPA, 3, 1)); }
static HRESULT db_length0_on_length(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); m.MatchOnLength = 1; return ring(vm(), m); }
static HRESULT db_length16(void) { return ring(vm(), bell_value(DB_GPA, 16, 1)); }
static HRESULT db_length_no_flag(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); m.Length = 4; return ring(vm(), m); }
static HRESULT db_value_no_flag(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); m.Value = 1; return ring(vm(), m); }
static HRESULT db_value_length_only(void) { WHV_DOORBELL_MATCH_DATA m = bell_value(DB_GPA, 4, 5); m.MatchOnValue = 0; return ring(vm(), m); }
static HRESULT db_reserved(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); m.Reserved = 1; return ring(vm(), m); }
static HRESULT db_straddle(void) { return ring(vm(), bell_value(DB_GPA + PAGE - 4, 8, 1)); }
static HRESULT db_straddle2(void) { return ring(vm(), bell_value(DB_GPA + PAGE - 1, 2, 1)); }
static HRESULT db_beyond_width(void) { return ring(vm(), bell(1ull << 52)); }
static HRESULT db_top(void) { return ring(vm(), bell(0xfffffffffffffff8ull)); }
static HRESULT db_null_event(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); return WHvRegisterPartitionDoorbellEvent(vm(), &m, NULL); }
static HRESULT db_forged_event(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); return WHvRegisterPartitionDoorbellEvent(vm(), &m, FORGED_EVENT); }
static HRESULT db_closed_event(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); return WHvRegisterPartitionDoorbellEvent(vm(), &m, closed_event()); }
static HRESULT db_stdin_event(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); return WHvRegisterPartitionDoorbellEvent(vm(), &m, STDIN_EVENT); }
static HRESULT db_ram(void) { return ring(vm(), bell(GPA_MAPPED + 8)); }
static HRESULT db_ram_unmapped(void)
{
    WHV_DOORBELL_MATCH_DATA m = bell(GPA_MAPPED + 8);
    if (FAILED(ring(vm(), m)) || FAILED(WHvUnmapGpaRange(P, GPA_MAPPED, PAGE)))
        return S_FALSE;
    return WHvUnregisterPartitionDoorbellEvent(P, &m);
}
static HRESULT db_ram_mapped_after(void)
{
    WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA + 8);
    if (FAILED(ring(vm(), m)) || FAILED(WHvMapGpaRange(P, M, DB_GPA, PAGE, WHvMapGpaRangeFlagRead)))
        return S_FALSE;
    return WHvUnregisterPartitionDoorbellEvent(P, &m);
}
static HRESULT db_twice(void)
{
    if (FAILED(ring(vm(), bell(DB_GPA))))
        return S_FALSE;
    return ring(P, bell(DB_GPA));
}
static HRESULT db_any_then_value(void)
{
    if (FAILED(ring(vm(), bell(DB_GPA))))
        return S_FALSE;
    return ring(P, bell_value(DB_GPA, 4, 1));
}
static HRESULT db_same_value(void)
{
    if (FAILED(ring(vm(), bell_value(DB_GPA, 4, 1))))
        return S_FALSE;
    return ring(P, bell_value(DB_GPA, 4, 1));
}
static HRESULT db_other_length(void)
{
    if (FAILED(ring(vm(), bell_value(DB_GPA, 4, 1))))
        return S_FALSE;
    return ring(P, bell_value(DB_GPA, 8, 2));
}
static HRESULT db_not_setup(void) { return ring(with_count(1), bell(DB_GPA)); }
static HRESULT db_forged(void) { return ring(FORGED1, bell(DB_GPA)); }
static HRESULT db_deleted(void) { return ring(deleted(), bell(DB_GPA)); }
static HRESULT udb_null(void) { return WHvUnregisterPartitionDoorbellEvent(vm(), NULL); }
static HRESULT udb_unknown(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); return WHvUnregisterPartitionDoorbellEvent(vm(), &m); }
static HRESULT udb_other_match(void)
{
    if (FAILED(ring(vm(), bell_value(DB_GPA, 4, 1))))
        return S_FALSE;
    WHV_DOORBELL_MATCH_DATA m = bell_value(DB_GPA, 4, 2);
    return WHvUnregisterPartitionDoorbellEvent(P, &m);
}
static HRESULT udb_twice(void)
{
    WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA);
    if (FAILED(ring(vm(), m)) || FAILED(WHvUnregisterPartitionDoorbellEvent(P, &m)))
        return S_FALSE;
    return WHvUnregisterPartitionDoorbellEvent(P, &m);
}
static HRESULT udb_port_doorbell(void)
{
    /* An MMIO doorbell is not a port doorbell at the same number. */
    WHV_DOORBELL_MATCH_DATA m = bell(0x80);
    if (FAILED(ring(vm(), m)))
        return S_FALSE;
    return OpenWhpUnregisterPortDoorbellEvent(P, &m);
}
static HRESULT udb_not_setup(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); return WHvUnregisterPartitionDoorbellEvent(with_count(1), &m); }
static HRESULT udb_forged(void) { WHV_DOORBELL_MATCH_DATA m = bell(DB_GPA); return WHvUnregisterPartitionDoorbellEvent(FORGED2, &m); }

/* OpenWhpRegisterPortDoorbellEvent / OpenWhpUnregisterPortDoorbellEvent */
static HRESULT pdb_null(void) { return OpenWhpRegisterPortDoorbellEvent(vm(), NULL, event()); }
static HRESULT pdb_length8(void) { return ring_pio(vm(), bell_value(0x80, 8, 1)); }
static HRESULT pdb_length3(void) { return ring_pio(vm(), bell_value(0x80, 3, 1)); }
static HRESULT pdb_value_no_length(void) { WHV_DOORBELL_MATCH_DATA m = bell_value(0x80, 4, 1); m.MatchOnLength = 0; return ring_pio(vm(), m); }
static HRESULT pdb_reserved(void) { WHV_DOORBELL_MATCH_DATA m = bell(0x80); m.Reserved = 1u << 29; return ring_pio(vm(), m); }
static HRESULT pdb_port_10000(void) { return ring_pio(vm(), bell(0x10000)); }
static HRESULT pdb_straddle(void) { return ring_pio(vm(), bell_value(0xffff, 2, 1)); }
static HRESULT pdb_wrap(void) { return ring_pio(vm(), bell(0xffffffffffffffffull)); }
static HRESULT pdb_wrap4(void) { return ring_pio(vm(), bell_value(0xfffffffffffffffcull, 4, 1)); }
static HRESULT pdb_null_event(void) { WHV_DOORBELL_MATCH_DATA m = bell(0x80); return OpenWhpRegisterPortDoorbellEvent(vm(), &m, NULL); }
static HRESULT pdb_forged_event(void) { WHV_DOORBELL_MATCH_DATA m = bell(0x80); return OpenWhpRegisterPortDoorbellEvent(vm(), &m, FORGED_EVENT); }
static HRESULT pdb_twice(void)
{
    if (FAILED(ring_pio(vm(), bell(0x80))))
        return S_FALSE;
    return ring_pio(P, bell(0x80));
}
static HRESULT pdb_not_setup(void) { return ring_pio(with_count(1), bell(0x80)); }
static HRESULT pdb_forged(void) { return ring_pio(FORGED2, bell(0x80)); }
static HRESULT updb_null(void) { return OpenWhpUnregisterPortDoorbellEvent(vm(), NULL); }
static HRESULT updb_unknown(void) { WHV_DOORBELL_MATCH_DATA m = bell(0x80); return OpenWhpUnregisterPortDoorbellEvent(vm(), &m); }
static HRESULT updb_mmio_doorbell(void)
{
    WHV_DOORBELL_MATCH_DATA m = bell(0x80);
    if (FAILED(ring_pio(vm(), m)))
        return S_FALSE;
    return WHvUnregisterPartitionDoorbellEvent(P, &m);
}
static HRESULT updb_forged(void) { WHV_DOORBELL_MATCH_DATA m = bell(0x80); return OpenWhpUnregisterPortDoorbellEvent(FORGED1, &m); }

/* WHvCreateTrigger */
static HRESULT ct_null_params(void) { return WHvCreateTrigger(lapic(), NULL, &TRIG, &TEV); }
static HRESULT ct_null_handle(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); return WHvCreateTrigger(lapic(), &t, NULL, &TEV); }
static HRESULT ct_null_event(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); return WHvCreateTrigger(lapic(), &t, &TRIG, NULL); }
static HRESULT ct_type(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); t.TriggerType = (WHV_TRIGGER_TYPE)3; return create_trig(lapic(), t); }
static HRESULT ct_type_max(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); t.TriggerType = (WHV_TRIGGER_TYPE)0x7fffffff; return create_trig(lapic(), t); }
static HRESULT ct_reserved(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); t.Reserved = 1; return create_trig(lapic(), t); }
static HRESULT ct_level(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); t.Interrupt.TriggerMode = WHvX64InterruptTriggerModeLevel; return create_trig(lapic(), t); }
static HRESULT ct_vector15(void) { return create_trig(lapic(), trig_irq(15)); }
static HRESULT ct_vector256(void) { return create_trig(lapic(), trig_irq(256)); }
static HRESULT ct_init(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0); t.Interrupt.Type = WHvX64InterruptTypeInit; return create_trig(lapic(), t); }
static HRESULT ct_smi(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0); t.Interrupt.Type = OPENWHP_X64_INTERRUPT_TYPE_SMI; return create_trig(lapic(), t); }
static HRESULT ct_dest_mode2(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); t.Interrupt.DestinationMode = 2; return create_trig(lapic(), t); }
static HRESULT ct_vtl1(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); t.Interrupt.TargetVtl = 1; return create_trig(lapic(), t); }
static HRESULT ct_irq_reserved(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); t.Interrupt.Reserved = 1; return create_trig(lapic(), t); }
static HRESULT ct_none(void) { return create_trig(vm(), trig_irq(0x30)); }
static HRESULT ct_dev_addr(void) { return create_trig(lapic(), trig_dev(0xfed00000ull)); }
static HRESULT ct_dev_addr_zero(void) { return create_trig(lapic(), trig_dev(0)); }
static HRESULT ct_dev_addr_high(void) { return create_trig(lapic(), trig_dev(0x10000000000ull | 0xfee00000ull)); }
static HRESULT ct_dev_reserved(void) { WHV_TRIGGER_PARAMETERS t = trig_dev(0xfee00000ull); t.DeviceInterrupt.Reserved = 1; return create_trig(lapic(), t); }
static WHV_TRIGGER_PARAMETERS trig_synic(UINT32 vp, UINT32 sint, UINT32 vtl, UINT32 flag)
{
    WHV_TRIGGER_PARAMETERS t;
    memset(&t, 0, sizeof(t));
    t.TriggerType = WHvTriggerTypeSynicEvent;
    t.SynicEvent.VpIndex = vp;
    t.SynicEvent.TargetSint = (UINT8)sint;
    t.SynicEvent.TargetVtl = (WHV_VTL)vtl;
    t.SynicEvent.FlagNumber = (UINT16)flag;
    return t;
}
static HRESULT ct_synic_sint16(void) { return create_trig(synic(), trig_synic(0, 16, 0, 0)); }
static HRESULT ct_synic_vtl1(void) { return create_trig(synic(), trig_synic(0, 0, 1, 0)); }
static HRESULT ct_synic_flag2048(void) { return create_trig(synic(), trig_synic(0, 0, 0, 2048)); }
static HRESULT ct_synic_vp_range(void) { return create_trig(synic(), trig_synic(2, 0, 0, 0)); }
static HRESULT ct_synic_no_synic(void) { return create_trig(lapic(), trig_synic(0, 0, 0, 0)); }
static HRESULT ct_synic_reserved(void) { WHV_TRIGGER_PARAMETERS t = trig_synic(0, 0, 0, 0); t.Reserved = 1; return create_trig(synic(), t); }
/* synic() with a SynicEvent trigger for VP 0, SINT 0, flag 0 in TRIG. */
static WHV_PARTITION_HANDLE with_synic_trigger(void)
{
    create_trig(synic(), trig_synic(0, 0, 0, 0));
    return P;
}
static HRESULT ct_not_setup(void) { return create_trig(with_count(1), trig_irq(0x30)); }
static HRESULT ct_forged(void) { return create_trig(FORGED1, trig_irq(0x30)); }
static HRESULT ct_deleted(void) { return create_trig(deleted(), trig_irq(0x30)); }
static HRESULT ct_outputs_cleared(void)
{
    /* A failed create leaves NULL in both outputs: S_FALSE if it does not. */
    TRIG = FORGED_TRIGGER;
    HANDLE ev = FORGED_EVENT;
    WHV_TRIGGER_PARAMETERS t = trig_irq(15);
    HRESULT hr = WHvCreateTrigger(lapic(), &t, &TRIG, &ev);
    return TRIG || ev ? S_FALSE : hr;
}

/* WHvUpdateTriggerParameters */
static HRESULT ut_null(void) { with_trigger(); return WHvUpdateTriggerParameters(P, NULL, TRIG); }
static HRESULT ut_forged_trigger(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x31); return WHvUpdateTriggerParameters(with_trigger(), &t, FORGED_TRIGGER); }
static HRESULT ut_null_trigger(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x31); return WHvUpdateTriggerParameters(with_trigger(), &t, NULL); }
static HRESULT ut_deleted_trigger(void)
{
    with_trigger();
    WHvDeleteTrigger(P, TRIG);
    WHV_TRIGGER_PARAMETERS t = trig_irq(0x31);
    return WHvUpdateTriggerParameters(P, &t, TRIG);
}
static HRESULT ut_other_partition(void)
{
    /* A trigger of one partition is not a handle in another. */
    with_trigger();
    WHV_PARTITION_HANDLE mine = P;
    P = NULL;
    P2 = mine;
    setup();
    WHV_TRIGGER_PARAMETERS t = trig_irq(0x31);
    return WHvUpdateTriggerParameters(P, &t, TRIG);
}
static HRESULT ut_type_change(void) { WHV_TRIGGER_PARAMETERS t = trig_dev(0xfee00000ull); with_trigger(); return WHvUpdateTriggerParameters(P, &t, TRIG); }
static HRESULT ut_vector15(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(15); with_trigger(); return WHvUpdateTriggerParameters(P, &t, TRIG); }
static HRESULT ut_reserved(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x31); t.Reserved = 1; with_trigger(); return WHvUpdateTriggerParameters(P, &t, TRIG); }
static HRESULT ut_synic_to_irq(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x30); with_synic_trigger(); return WHvUpdateTriggerParameters(P, &t, TRIG); }
static HRESULT ut_synic_sint16(void) { WHV_TRIGGER_PARAMETERS t = trig_synic(0, 16, 0, 0); with_synic_trigger(); return WHvUpdateTriggerParameters(P, &t, TRIG); }
static HRESULT ut_synic_vp_range(void) { WHV_TRIGGER_PARAMETERS t = trig_synic(5, 0, 0, 0); with_synic_trigger(); return WHvUpdateTriggerParameters(P, &t, TRIG); }
static HRESULT ut_forged(void) { WHV_TRIGGER_PARAMETERS t = trig_irq(0x31); with_trigger(); return WHvUpdateTriggerParameters(FORGED2, &t, TRIG); }

/* WHvDeleteTrigger */
static HRESULT dt_forged_trigger(void) { return WHvDeleteTrigger(with_trigger(), FORGED_TRIGGER); }
static HRESULT dt_null_trigger(void) { return WHvDeleteTrigger(with_trigger(), NULL); }
static HRESULT dt_twice(void)
{
    with_trigger();
    if (FAILED(WHvDeleteTrigger(P, TRIG)))
        return S_FALSE;
    return WHvDeleteTrigger(P, TRIG);
}
static HRESULT dt_synic_twice(void)
{
    with_synic_trigger();
    if (FAILED(WHvDeleteTrigger(P, TRIG)))
        return S_FALSE;
    return WHvDeleteTrigger(P, TRIG);
}
static HRESULT dt_no_triggers(void) { return WHvDeleteTrigger(lapic(), FORGED_TRIGGER); }
static HRESULT dt_forged(void) { with_trigger(); return WHvDeleteTrigger(FORGED1, TRIG); }
static HRESULT dt_deleted(void) { return WHvDeleteTrigger(deleted(), FORGED_TRIGGER); }

/* WHvCreateNotificationPort */
static HRESULT cp_null_params(void) { return WHvCreateNotificationPort(vm(), NULL, event(), &PORT); }
static HRESULT cp_null_out(void) { WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(7); return WHvCreateNotificationPort(vm(), &prm, event(), NULL); }
static HRESULT cp_type0(void) { WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(7); prm.NotificationPortType = (WHV_NOTIFICATION_PORT_TYPE)0; return create_port(vm(), prm, event()); }
static HRESULT cp_type3(void) { WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(7); prm.NotificationPortType = (WHV_NOTIFICATION_PORT_TYPE)3; return create_port(vm(), prm, event()); }
static HRESULT cp_reserved(void) { WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(7); prm.Reserved = 1; return create_port(vm(), prm, event()); }
static HRESULT cp_reserved1(void) { WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(7); prm.Reserved1 = 1; return create_port(vm(), prm, event()); }
static HRESULT cp_vtl(void) { WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(7); prm.ConnectionVtl = 1; return create_port(vm(), prm, event()); }
static HRESULT cp_vtl_doorbell(void)
{
    WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(0);
    prm.NotificationPortType = WHvNotificationPortTypeDoorbell;
    prm.Doorbell = bell(DB_GPA);
    prm.ConnectionVtl = 1;
    return create_port(vm(), prm, event());
}
static HRESULT cp_null_event(void) { return create_port(vm(), port_event(7), NULL); }
static HRESULT cp_forged_event(void) { return create_port(vm(), port_event(7), FORGED_EVENT); }
static HRESULT cp_closed_event(void) { return create_port(vm(), port_event(7), closed_event()); }
static HRESULT cp_connection(void) { return create_port(vm(), port_event(1u << 24), event()); }
static HRESULT cp_connection_max(void) { return create_port(vm(), port_event(0xffffffffu), event()); }
static HRESULT cp_duplicate(void)
{
    with_port();
    WHV_NOTIFICATION_PORT_HANDLE first = PORT;
    HRESULT hr = create_port(P, port_event(7), event());
    return PORT || !first ? S_FALSE : hr; /* a failed create leaves NULL */
}
static HRESULT cp_doorbell_bad(void)
{
    WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(0);
    prm.NotificationPortType = WHvNotificationPortTypeDoorbell;
    prm.Doorbell = bell_value(DB_GPA, 3, 1);
    return create_port(vm(), prm, event());
}
static HRESULT cp_doorbell_ram(void)
{
    WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(0);
    prm.NotificationPortType = WHvNotificationPortTypeDoorbell;
    prm.Doorbell = bell(GPA_MAPPED);
    return create_port(vm(), prm, event());
}
static HRESULT cp_doorbell_conflict(void)
{
    /* A doorbell port where a doorbell is registered already. */
    if (FAILED(ring(vm(), bell(DB_GPA))))
        return S_FALSE;
    WHV_NOTIFICATION_PORT_PARAMETERS prm = port_event(0);
    prm.NotificationPortType = WHvNotificationPortTypeDoorbell;
    prm.Doorbell = bell(DB_GPA);
    return create_port(P, prm, event());
}
static HRESULT cp_not_setup(void) { return create_port(with_count(1), port_event(7), event()); }
static HRESULT cp_forged(void) { return create_port(FORGED2, port_event(7), event()); }
static HRESULT cp_deleted(void) { return create_port(deleted(), port_event(7), event()); }

/* WHvSetNotificationPortProperty */
static HRESULT sp_forged_port(void) { return WHvSetNotificationPortProperty(with_port(), FORGED_PORT, WHvNotificationPortPropertyPreferredTargetVp, 0); }
static HRESULT sp_null_port(void) { return WHvSetNotificationPortProperty(with_port(), NULL, WHvNotificationPortPropertyPreferredTargetVp, 0); }
static HRESULT sp_code0(void) { with_port(); return WHvSetNotificationPortProperty(P, PORT, (WHV_NOTIFICATION_PORT_PROPERTY_CODE)0, 0); }
static HRESULT sp_code2(void) { with_port(); return WHvSetNotificationPortProperty(P, PORT, (WHV_NOTIFICATION_PORT_PROPERTY_CODE)2, 0); }
static HRESULT sp_vp_range(void) { with_port(); return WHvSetNotificationPortProperty(P, PORT, WHvNotificationPortPropertyPreferredTargetVp, 2); }
static HRESULT sp_vp_huge(void) { with_port(); return WHvSetNotificationPortProperty(P, PORT, WHvNotificationPortPropertyPreferredTargetVp, 1ull << 32); }
static HRESULT sp_any_vp(void) { with_port(); return WHvSetNotificationPortProperty(P, PORT, WHvNotificationPortPropertyPreferredTargetVp, WHV_ANY_VP); }
static HRESULT sp_deleted_port(void)
{
    with_port();
    WHvDeleteNotificationPort(P, PORT);
    return WHvSetNotificationPortProperty(P, PORT, WHvNotificationPortPropertyPreferredTargetVp, 0);
}
static HRESULT sp_forged(void) { with_port(); return WHvSetNotificationPortProperty(FORGED1, PORT, WHvNotificationPortPropertyPreferredTargetVp, 0); }
static HRESULT sp_not_setup(void) { return WHvSetNotificationPortProperty(with_count(1), FORGED_PORT, WHvNotificationPortPropertyPreferredTargetVp, 0); }

/* WHvDeleteNotificationPort */
static HRESULT dp_forged_port(void) { return WHvDeleteNotificationPort(with_port(), FORGED_PORT); }
static HRESULT dp_null_port(void) { return WHvDeleteNotificationPort(with_port(), NULL); }
static HRESULT dp_twice(void)
{
    with_port();
    if (FAILED(WHvDeleteNotificationPort(P, PORT)))
        return S_FALSE;
    return WHvDeleteNotificationPort(P, PORT);
}
static HRESULT dp_trigger_handle(void)
{
    /* A trigger handle is not a port handle. */
    with_trigger();
    return WHvDeleteNotificationPort(P, (WHV_NOTIFICATION_PORT_HANDLE)TRIG);
}
static HRESULT dp_forged(void) { with_port(); return WHvDeleteNotificationPort(FORGED2, PORT); }
static HRESULT dp_deleted(void) { return WHvDeleteNotificationPort(deleted(), FORGED_PORT); }

/* OpenWhp event functions */
static HRESULT ev_set_null(void) { return (HRESULT)OpenWhpSetEvent(NULL); }
static HRESULT ev_set_forged(void) { return (HRESULT)OpenWhpSetEvent(FORGED_EVENT); }
static HRESULT ev_set_minus1(void) { return (HRESULT)OpenWhpSetEvent((HANDLE)(intptr_t)-1); }
static HRESULT ev_set_stdin(void) { return (HRESULT)OpenWhpSetEvent(STDIN_EVENT); }
static HRESULT ev_set_closed(void) { return (HRESULT)OpenWhpSetEvent(closed_event()); }
static HRESULT ev_reset_null(void) { return (HRESULT)OpenWhpResetEvent(NULL); }
static HRESULT ev_reset_forged(void) { return (HRESULT)OpenWhpResetEvent(FORGED_EVENT); }
static HRESULT ev_reset_closed(void) { return (HRESULT)OpenWhpResetEvent(closed_event()); }
static HRESULT ev_close_null(void) { return (HRESULT)OpenWhpCloseEvent(NULL); }
static HRESULT ev_close_forged(void) { return (HRESULT)OpenWhpCloseEvent(FORGED_EVENT); }
static HRESULT ev_close_stdin(void) { return (HRESULT)OpenWhpCloseEvent(STDIN_EVENT); }
static HRESULT ev_close_twice(void) { return (HRESULT)OpenWhpCloseEvent(closed_event()); }
static HRESULT ev_fd_null(void) { return (HRESULT)OpenWhpEventFd(NULL); }
static HRESULT ev_fd_forged(void) { return (HRESULT)OpenWhpEventFd((HANDLE)(intptr_t)-1); }
static HRESULT ev_fd_closed(void) { return (HRESULT)OpenWhpEventFd(closed_event()); }
static HRESULT ev_wait_null(void) { return (HRESULT)OpenWhpWaitForEvent(NULL, INFINITE); }
static HRESULT ev_wait_forged(void) { return (HRESULT)OpenWhpWaitForEvent(FORGED_EVENT, INFINITE); }
static HRESULT ev_wait_stdin(void) { return (HRESULT)OpenWhpWaitForEvent(STDIN_EVENT, INFINITE); }
static HRESULT ev_wait_closed(void) { return (HRESULT)OpenWhpWaitForEvent(closed_event(), INFINITE); }
static HRESULT ev_waits_count0(void) { HANDLE h[1] = {event()}; return (HRESULT)OpenWhpWaitForEvents(0, h, FALSE, INFINITE); }
static HRESULT ev_waits_count65(void)
{
    HANDLE h[OPENWHP_MAXIMUM_WAIT_OBJECTS + 1];
    for (int i = 0; i <= OPENWHP_MAXIMUM_WAIT_OBJECTS; i++)
        h[i] = event();
    return (HRESULT)OpenWhpWaitForEvents(OPENWHP_MAXIMUM_WAIT_OBJECTS + 1, h, FALSE, INFINITE);
}
static HRESULT ev_waits_count_max(void) { HANDLE h[1] = {event()}; return (HRESULT)OpenWhpWaitForEvents(0xffffffffu, h, TRUE, 0); }
static HRESULT ev_waits_null(void) { return (HRESULT)OpenWhpWaitForEvents(1, NULL, FALSE, INFINITE); }
static HRESULT ev_waits_one_bad(void)
{
    HANDLE h[3] = {event(), FORGED_EVENT, event()};
    OpenWhpSetEvent(h[0]);
    return (HRESULT)OpenWhpWaitForEvents(3, h, FALSE, INFINITE);
}
static HRESULT ev_waits_all_closed(void)
{
    HANDLE h[2];
    h[0] = event();
    h[1] = closed_event();
    OpenWhpSetEvent(h[0]);
    return (HRESULT)OpenWhpWaitForEvents(2, h, TRUE, INFINITE);
}

/* ---- HvSocket host API ---- */
static SOCKADDR_HV hv_addr(UINT32 port)
{
    SOCKADDR_HV a = {.Family = AF_HYPERV};
    OpenWhpVsockPortToServiceId(port, &a.ServiceId);
    return a;
}
static HRESULT vmid_null(void) { return OpenWhpGetPartitionVmId(fresh(), NULL); }
static HRESULT vmid_forged(void) { GUID g; return OpenWhpGetPartitionVmId(FORGED1, &g); }
static HRESULT vmid_deleted(void) { GUID g; return OpenWhpGetPartitionVmId(deleted(), &g); }
static HRESULT vmid_fresh(void)
{
    GUID a, b;
    if (FAILED(OpenWhpGetPartitionVmId(fresh(), &a)) || FAILED(OpenWhpGetPartitionVmId(P, &b)))
        return E_FAIL;
    /* Stable for a partition, a random version-4 GUID. */
    return OpenWhpGuidEqual(&a, &b) && (a.Data3 >> 12) == 4 ? S_OK : S_FALSE;
}
static HRESULT hvpath_null_vm(void) { char p[128]; return OpenWhpHvSocketGetPath(NULL, 1, p, sizeof(p), NULL); }
static HRESULT hvpath_null_buf(void) { return OpenWhpHvSocketGetPath(&HV_GUID_ZERO, 1, NULL, 0, NULL); }
static HRESULT hvpath_short(void) { char p[4]; return OpenWhpHvSocketGetPath(&HV_GUID_ZERO, 1, p, sizeof(p), NULL); }
static HRESULT hvlisten_null(void) { int fd; return OpenWhpHvSocketListen(NULL, 0, &fd); }
static HRESULT hvlisten_null_fd(void) { SOCKADDR_HV a = hv_addr(1); return OpenWhpHvSocketListen(&a, 0, NULL); }
static HRESULT hvlisten_family(void) { SOCKADDR_HV a = hv_addr(1); int fd; a.Family = 2; return OpenWhpHvSocketListen(&a, 0, &fd); }
static HRESULT hvlisten_reserved(void) { SOCKADDR_HV a = hv_addr(1); int fd; a.Reserved = 1; return OpenWhpHvSocketListen(&a, 0, &fd); }
static HRESULT hvlisten_service(void) { SOCKADDR_HV a = hv_addr(1); int fd; a.ServiceId = HV_GUID_PARENT; return OpenWhpHvSocketListen(&a, 0, &fd); }
static HRESULT hvlisten_parent(void) { SOCKADDR_HV a = hv_addr(1); int fd; a.VmId = HV_GUID_PARENT; return OpenWhpHvSocketListen(&a, 0, &fd); }
static HRESULT hvaccept_null(void) { return OpenWhpHvSocketAccept(0, NULL, NULL); }
static HRESULT hvaccept_badfd(void) { int fd; return OpenWhpHvSocketAccept(-1, NULL, &fd); }
static HRESULT hvaccept_notsock(void) { int fd; return OpenWhpHvSocketAccept(STDIN_FILENO, NULL, &fd); }
static HRESULT hvclose_badfd(void) { return OpenWhpHvSocketCloseListener(-1); }
static HRESULT hvconnect_null(void) { int fd; return OpenWhpHvSocketConnect(NULL, 0, &fd); }
static HRESULT hvconnect_null_fd(void) { SOCKADDR_HV a = hv_addr(1); return OpenWhpHvSocketConnect(&a, 0, NULL); }
static HRESULT hvconnect_timeout(void) { SOCKADDR_HV a = hv_addr(1); int fd; return OpenWhpHvSocketConnect(&a, HVSOCKET_CONNECT_TIMEOUT_MAX + 1, &fd); }
static HRESULT hvconnect_unknown_vm(void) { SOCKADDR_HV a = hv_addr(1); int fd; a.VmId.Data1 = 0x0badc0de; return OpenWhpHvSocketConnect(&a, 100, &fd); }
static HRESULT hvconnect_service(void) { SOCKADDR_HV a = hv_addr(1); int fd; a.ServiceId.Data4[7] ^= 1; return OpenWhpHvSocketConnect(&a, 100, &fd); }

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
    {"WHvSetPartitionProperty", "unknown property code, 4-byte buffer", setp_unknown_4, WHV_E_UNKNOWN_PROPERTY, K},
    {"WHvSetPartitionProperty", "unknown property code, empty buffer", setp_unknown_0, WHV_E_UNKNOWN_PROPERTY, K},
    {"WHvSetPartitionProperty", "unknown property code, NULL buffer", setp_unknown_null, WHV_E_UNKNOWN_PROPERTY, K},
    {"WHvSetPartitionProperty", "unknown property code after setup", setp_unknown_after, WHV_E_UNKNOWN_PROPERTY, K},
    {"WHvSetPartitionProperty", "CpuidExitList {1} with X64CpuidExit set: accepted before any run", setp_cpuid_list_with_bit, S_OK, K},
    {"WHvSetPartitionProperty", "X64CpuidExit with CpuidExitList {1} set: accepted before any run", setp_cpuid_bit_with_list, S_OK, K},

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
    {"WHvRunVirtualProcessor", "exit context one byte short of the first SDK's", run_short_ctx, E_INVALIDARG, K},
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

    {"WHvRequestInterrupt", "NULL interrupt control", ri_null, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "size one byte short", ri_short, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "size 0", ri_size0, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "type 2 (SMI)", ri_smi, WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG, K},
    {"WHvRequestInterrupt", "type 3 (RemoteRead)", ri_remote_read, WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG, K},
    {"WHvRequestInterrupt", "unknown type 10", ri_type10, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "unknown type 255", ri_type255, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "Fixed, vector 15", ri_vector15, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "LowestPriority, vector 0", ri_lowest_vector0, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "Fixed level-triggered, vector 15", ri_level_vector15, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "vector 256", ri_vector256, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "DestinationMode 2", ri_dest_mode2, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "TriggerMode 2", ri_trigger_mode2, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "TargetVtl 1", ri_vtl1, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "reserved bit 63", ri_reserved, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "LocalInt1 to a VP not created", ri_lint1_missing, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "LocalInt1 with a logical destination", ri_lint1_logical, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "ExtInt to APIC ID 0xffffffff", ri_extint_missing, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "LocalInt0 to a deleted VP", ri_lint0_deleted, E_INVALIDARG, K},
    {"WHvRequestInterrupt", "24 level interrupts awaiting EOI, then a 25th vector", ri_level_routes_full, HRESULT_FROM_WIN32(ERROR_BUSY), K},
    {"WHvRequestInterrupt", "LocalApicEmulationMode None", ri_none, ERROR_HV_OPERATION_DENIED, K},
    {"WHvRequestInterrupt", "NMI, LocalApicEmulationMode None", ri_none_nmi, ERROR_HV_OPERATION_DENIED, K},
    {"WHvRequestInterrupt", "partition not set up", ri_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvRequestInterrupt", "deleted partition", ri_deleted, E_HANDLE, K},
    {"WHvRequestInterrupt", "forged handle 0x1234", ri_forged, E_HANDLE, 0},
    {"WHvRequestInterrupt", "NULL handle", ri_null_handle, E_HANDLE, 0},

    {"WHvGetInterruptTargetVpSet", "NULL TargetVps", tv_null_vps, E_INVALIDARG, K},
    {"WHvGetInterruptTargetVpSet", "NULL TargetVpCount", tv_null_count, E_INVALIDARG, K},
    {"WHvGetInterruptTargetVpSet", "capacity 1 < ProcessorCount 2", tv_capacity, E_INVALIDARG, K},
    {"WHvGetInterruptTargetVpSet", "capacity 0, logical", tv_capacity0, E_INVALIDARG, K},
    {"WHvGetInterruptTargetVpSet", "DestinationMode 2", tv_mode2, E_INVALIDARG, K},
    {"WHvGetInterruptTargetVpSet", "LocalApicEmulationMode None", tv_none, ERROR_HV_OPERATION_DENIED, K},
    {"WHvGetInterruptTargetVpSet", "partition not set up", tv_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvGetInterruptTargetVpSet", "forged handle -1", tv_forged, E_HANDLE, 0},
    {"WHvGetInterruptTargetVpSet", "deleted partition", tv_deleted, E_HANDLE, K},

    {"WHvGetVirtualProcessorInterruptControllerState2", "NULL buffer, size 0: needs 4096", gic_null, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorInterruptControllerState2", "4095-byte buffer: needs 4096", gic_short, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorInterruptControllerState2", "1024-byte buffer, NULL WrittenSize", gic_short_no_written, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorInterruptControllerState2", "LocalApicEmulationMode None", gic_none, ERROR_HV_OPERATION_DENIED, K},
    {"WHvGetVirtualProcessorInterruptControllerState2", "partition not set up", gic_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvGetVirtualProcessorInterruptControllerState2", "VP index out of range", gic_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorInterruptControllerState2", "VP not created", gic_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorInterruptControllerState2", "VP deleted", gic_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorInterruptControllerState2", "forged handle 0x1234", gic_forged, E_HANDLE, 0},
    {"WHvGetVirtualProcessorInterruptControllerState2", "deleted partition", gic_deleted, E_HANDLE, K},
    {"WHvSetVirtualProcessorInterruptControllerState2", "NULL state", sic_null, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorInterruptControllerState2", "4095-byte state", sic_short, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorInterruptControllerState2", "LocalApicEmulationMode None", sic_none, ERROR_HV_OPERATION_DENIED, K},
    {"WHvSetVirtualProcessorInterruptControllerState2", "VP index 0xffffffff", sic_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorInterruptControllerState2", "VP not created", sic_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorInterruptControllerState2", "VP deleted", sic_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorInterruptControllerState2", "forged handle -1", sic_forged, E_HANDLE, 0},

    {"WHvGetVirtualProcessorState", "unknown state type 0x7fffffff", gst_unknown, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorState", "NestedState (not offered)", gst_nested, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorState", "XsaveState (not offered)", gst_xsave, E_NOTIMPL, K},
    {"WHvGetVirtualProcessorState", "SynicTimerState (no synthetic timers)", gst_timer, E_NOTIMPL, K},
    {"WHvGetVirtualProcessorState", "LAPIC state, NULL buffer: needs 4096", gst_null, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorState", "LAPIC state, 4095 bytes: needs 4096", gst_short, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorState", "SIM page, 256 bytes: needs 4096", gst_sim_short, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorState", "SIEF page, NULL buffer: needs 4096", gst_sief_null, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorState", "SIM page without SynIC features", gst_sim_no_synic, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorState", "LAPIC state, LocalApicEmulationMode None", gst_none, ERROR_HV_OPERATION_DENIED, K},
    {"WHvGetVirtualProcessorState", "partition not set up", gst_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvGetVirtualProcessorState", "VP index out of range", gst_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorState", "VP not created", gst_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorState", "VP deleted", gst_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorState", "SIM page, VP not created", gst_sim_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorState", "forged handle 0x1234", gst_forged, E_HANDLE, 0},
    {"WHvSetVirtualProcessorState", "unknown state type 0x7fffffff", sst_unknown, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorState", "NestedState (not offered)", sst_nested, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorState", "XsaveState (not offered)", sst_xsave, E_NOTIMPL, K},
    {"WHvSetVirtualProcessorState", "LAPIC state, NULL buffer", sst_null, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorState", "LAPIC state, 4095 bytes", sst_short, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorState", "LAPIC state, 4097 bytes: taken (whp-abi.md: size must be exact)", sst_long, S_OK, K},
    {"WHvSetVirtualProcessorState", "SIEF page, 4095 bytes", sst_sief_short, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorState", "SIM page without SynIC features", sst_sim_no_synic, E_INVALIDARG, K},
    {"WHvSetVirtualProcessorState", "LAPIC state, LocalApicEmulationMode None", sst_none, ERROR_HV_OPERATION_DENIED, K},
    {"WHvSetVirtualProcessorState", "VP index out of range", sst_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorState", "VP not created", sst_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorState", "VP deleted", sst_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSetVirtualProcessorState", "forged handle -1", sst_forged, E_HANDLE, 0},

    {"WHvGetVirtualProcessorCounters", "unknown counter set 0x7fffffff", cnt_unknown, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorCounters", "unknown counter set 5", cnt_set5, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorCounters", "Events set (not offered)", cnt_events, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorCounters", "Apic set (not offered)", cnt_apic, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorCounters", "SyntheticFeatures set (not offered)", cnt_synthetic, E_INVALIDARG, K},
    {"WHvGetVirtualProcessorCounters", "Runtime, 8-byte buffer: needs the set's size", cnt_short, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorCounters", "Intercepts, one byte short: needs the set's size", cnt_short2, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorCounters", "NULL buffer, size 0: needs the set's size", cnt_null, WHV_E_INSUFFICIENT_BUFFER, K},
    {"WHvGetVirtualProcessorCounters", "partition not set up", cnt_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvGetVirtualProcessorCounters", "VP index out of range", cnt_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorCounters", "VP not created", cnt_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorCounters", "VP deleted", cnt_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvGetVirtualProcessorCounters", "forged handle 0x1234", cnt_forged, E_HANDLE, 0},
    {"WHvGetVirtualProcessorCounters", "deleted partition", cnt_deleted, E_HANDLE, K},

    {"WHvPostVirtualProcessorSynicMessage", "NULL message", pm_null, E_INVALIDARG, K},
    {"WHvPostVirtualProcessorSynicMessage", "size 0", pm_size0, E_INVALIDARG, K},
    {"WHvPostVirtualProcessorSynicMessage", "size 3 (less than the type)", pm_size3, E_INVALIDARG, K},
    {"WHvPostVirtualProcessorSynicMessage", "size 257", pm_size257, E_INVALIDARG, K},
    {"WHvPostVirtualProcessorSynicMessage", "SINT 16", pm_sint16, E_INVALIDARG, K},
    {"WHvPostVirtualProcessorSynicMessage", "SINT 0xffffffff", pm_sint_max, E_INVALIDARG, K},
    {"WHvPostVirtualProcessorSynicMessage", "MessageType 0", pm_type0, E_INVALIDARG, K},
    {"WHvPostVirtualProcessorSynicMessage", "no synthetic features", pm_no_synic, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvPostVirtualProcessorSynicMessage", "no synthetic features, MessageType 0", pm_no_synic_type0, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvPostVirtualProcessorSynicMessage", "SynIC features, LocalApicEmulationMode None", pm_no_lapic, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvPostVirtualProcessorSynicMessage", "guest has not enabled the SynIC", pm_synic_off, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvPostVirtualProcessorSynicMessage", "SIM page on unmapped GPA", pm_simp_unmapped, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvPostVirtualProcessorSynicMessage", "slot still busy", pm_busy, ERROR_HV_OBJECT_IN_USE, K},
    {"WHvPostVirtualProcessorSynicMessage", "partition not set up", pm_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvPostVirtualProcessorSynicMessage", "VP index out of range", pm_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvPostVirtualProcessorSynicMessage", "VP not created", pm_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvPostVirtualProcessorSynicMessage", "VP deleted", pm_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvPostVirtualProcessorSynicMessage", "forged handle 0x1234", pm_forged, E_HANDLE, 0},
    {"WHvPostVirtualProcessorSynicMessage", "deleted partition", pm_deleted, E_HANDLE, K},

    {"WHvSignalVirtualProcessorSynicEvent", "SINT 16", se_sint16, E_INVALIDARG, K},
    {"WHvSignalVirtualProcessorSynicEvent", "SINT 255", se_sint255, E_INVALIDARG, K},
    {"WHvSignalVirtualProcessorSynicEvent", "TargetVtl 1", se_vtl1, E_INVALIDARG, K},
    {"WHvSignalVirtualProcessorSynicEvent", "FlagNumber 2048", se_flag2048, E_INVALIDARG, K},
    {"WHvSignalVirtualProcessorSynicEvent", "FlagNumber 0xffff", se_flag_max, E_INVALIDARG, K},
    {"WHvSignalVirtualProcessorSynicEvent", "VP index out of range", se_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSignalVirtualProcessorSynicEvent", "VP not created", se_vp_missing, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSignalVirtualProcessorSynicEvent", "VP deleted", se_vp_deleted, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvSignalVirtualProcessorSynicEvent", "no synthetic features", se_no_synic, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvSignalVirtualProcessorSynicEvent", "SynIC features, LocalApicEmulationMode None", se_no_lapic, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvSignalVirtualProcessorSynicEvent", "guest has not enabled the SynIC", se_synic_off, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvSignalVirtualProcessorSynicEvent", "SINT 0 masked", se_masked, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvSignalVirtualProcessorSynicEvent", "SINT 1 still masked from reset", se_other_sint_masked, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvSignalVirtualProcessorSynicEvent", "NULL NewlySignaled is optional", se_null_newly, S_OK, K},
    {"WHvSignalVirtualProcessorSynicEvent", "partition not set up", se_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvSignalVirtualProcessorSynicEvent", "forged handle -1", se_forged, E_HANDLE, 0},

    {"WHvRegisterPartitionDoorbellEvent", "NULL match data", db_null, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "MatchOnValue without MatchOnLength", db_value_no_length, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "Length 3", db_length3, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "MatchOnLength with Length 0", db_length0_on_length, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "Length 16", db_length16, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "Length 4 without MatchOnLength", db_length_no_flag, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "Value 1 without MatchOnValue", db_value_no_flag, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "Value 5 with MatchOnLength only", db_value_length_only, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "reserved bit", db_reserved, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "8-byte match straddling a page", db_straddle, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "2-byte match on a page's last byte", db_straddle2, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "GPA 2^52, beyond the address width", db_beyond_width, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "GPA 0xfffffffffffffff8", db_top, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "NULL event", db_null_event, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "forged event 0x1234", db_forged_event, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "closed event", db_closed_event, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "stdin as an event", db_stdin_event, E_INVALIDARG, K},
    {"WHvRegisterPartitionDoorbellEvent", "GPA in mapped RAM: allowed, the page becomes a hole", db_ram, S_OK, K},
    {"WHvRegisterPartitionDoorbellEvent", "RAM under the doorbell unmapped, then unregistered", db_ram_unmapped, S_OK, K},
    {"WHvRegisterPartitionDoorbellEvent", "RAM mapped over the doorbell, then unregistered", db_ram_mapped_after, S_OK, K},
    {"WHvRegisterPartitionDoorbellEvent", "same doorbell twice", db_twice, ERROR_HV_INVALID_PARAMETER, K},
    {"WHvRegisterPartitionDoorbellEvent", "value match under an any-write match", db_any_then_value, ERROR_HV_INVALID_PARAMETER, K},
    {"WHvRegisterPartitionDoorbellEvent", "same length and value twice", db_same_value, ERROR_HV_INVALID_PARAMETER, K},
    {"WHvRegisterPartitionDoorbellEvent", "same GPA, another length", db_other_length, ERROR_HV_INVALID_PARAMETER, K},
    {"WHvRegisterPartitionDoorbellEvent", "partition not set up", db_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvRegisterPartitionDoorbellEvent", "forged handle 0x1234", db_forged, E_HANDLE, 0},
    {"WHvRegisterPartitionDoorbellEvent", "deleted partition", db_deleted, E_HANDLE, K},
    {"WHvUnregisterPartitionDoorbellEvent", "NULL match data", udb_null, E_INVALIDARG, K},
    {"WHvUnregisterPartitionDoorbellEvent", "nothing registered", udb_unknown, HRESULT_FROM_WIN32(ERROR_NOT_FOUND), K},
    {"WHvUnregisterPartitionDoorbellEvent", "another value than registered", udb_other_match, HRESULT_FROM_WIN32(ERROR_NOT_FOUND), K},
    {"WHvUnregisterPartitionDoorbellEvent", "unregistered twice", udb_twice, HRESULT_FROM_WIN32(ERROR_NOT_FOUND), K},
    {"WHvUnregisterPartitionDoorbellEvent", "port doorbell at the same number", updb_mmio_doorbell, HRESULT_FROM_WIN32(ERROR_NOT_FOUND), K},
    {"WHvUnregisterPartitionDoorbellEvent", "partition not set up", udb_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvUnregisterPartitionDoorbellEvent", "forged handle -1", udb_forged, E_HANDLE, 0},

    {"OpenWhpRegisterPortDoorbellEvent", "NULL match data", pdb_null, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "Length 8", pdb_length8, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "Length 3", pdb_length3, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "MatchOnValue without MatchOnLength", pdb_value_no_length, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "reserved bit", pdb_reserved, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "port 0x10000", pdb_port_10000, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "2-byte match at port 0xffff", pdb_straddle, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "port 0xffffffffffffffff (end wraps to 0)", pdb_wrap, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "4-byte match at port 2^64-4 (end wraps to 0)", pdb_wrap4, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "NULL event", pdb_null_event, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "forged event 0x1234", pdb_forged_event, E_INVALIDARG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "same doorbell twice", pdb_twice, ERROR_HV_INVALID_PARAMETER, K},
    {"OpenWhpRegisterPortDoorbellEvent", "partition not set up", pdb_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"OpenWhpRegisterPortDoorbellEvent", "forged handle -1", pdb_forged, E_HANDLE, 0},
    {"OpenWhpUnregisterPortDoorbellEvent", "NULL match data", updb_null, E_INVALIDARG, K},
    {"OpenWhpUnregisterPortDoorbellEvent", "nothing registered", updb_unknown, HRESULT_FROM_WIN32(ERROR_NOT_FOUND), K},
    {"OpenWhpUnregisterPortDoorbellEvent", "MMIO doorbell at the same number", udb_port_doorbell, HRESULT_FROM_WIN32(ERROR_NOT_FOUND), K},
    {"OpenWhpUnregisterPortDoorbellEvent", "forged handle 0x1234", updb_forged, E_HANDLE, 0},

    {"WHvCreateTrigger", "NULL parameters", ct_null_params, E_INVALIDARG, K},
    {"WHvCreateTrigger", "NULL TriggerHandle", ct_null_handle, E_INVALIDARG, K},
    {"WHvCreateTrigger", "NULL EventHandle", ct_null_event, E_INVALIDARG, K},
    {"WHvCreateTrigger", "unknown trigger type 3", ct_type, E_INVALIDARG, K},
    {"WHvCreateTrigger", "unknown trigger type 0x7fffffff", ct_type_max, E_INVALIDARG, K},
    {"WHvCreateTrigger", "Reserved 1", ct_reserved, E_INVALIDARG, K},
    {"WHvCreateTrigger", "level-triggered interrupt", ct_level, E_INVALIDARG, K},
    {"WHvCreateTrigger", "Fixed, vector 15", ct_vector15, E_INVALIDARG, K},
    {"WHvCreateTrigger", "vector 256", ct_vector256, E_INVALIDARG, K},
    {"WHvCreateTrigger", "INIT interrupt", ct_init, E_INVALIDARG, K},
    {"WHvCreateTrigger", "SMI interrupt", ct_smi, E_INVALIDARG, K},
    {"WHvCreateTrigger", "DestinationMode 2", ct_dest_mode2, E_INVALIDARG, K},
    {"WHvCreateTrigger", "TargetVtl 1", ct_vtl1, E_INVALIDARG, K},
    {"WHvCreateTrigger", "interrupt reserved bit", ct_irq_reserved, E_INVALIDARG, K},
    {"WHvCreateTrigger", "interrupt, LocalApicEmulationMode None", ct_none, ERROR_HV_OPERATION_DENIED, K},
    {"WHvCreateTrigger", "DeviceInterrupt, MSI address 0xfed00000", ct_dev_addr, E_INVALIDARG, K},
    {"WHvCreateTrigger", "DeviceInterrupt, MSI address 0", ct_dev_addr_zero, E_INVALIDARG, K},
    {"WHvCreateTrigger", "DeviceInterrupt, MSI address bit 40", ct_dev_addr_high, E_INVALIDARG, K},
    {"WHvCreateTrigger", "DeviceInterrupt, Reserved 1", ct_dev_reserved, E_INVALIDARG, K},
    {"WHvCreateTrigger", "SynicEvent, SINT 16", ct_synic_sint16, E_INVALIDARG, K},
    {"WHvCreateTrigger", "SynicEvent, TargetVtl 1", ct_synic_vtl1, E_INVALIDARG, K},
    {"WHvCreateTrigger", "SynicEvent, FlagNumber 2048", ct_synic_flag2048, E_INVALIDARG, K},
    {"WHvCreateTrigger", "SynicEvent, VP index out of range", ct_synic_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvCreateTrigger", "SynicEvent without SynIC features", ct_synic_no_synic, ERROR_HV_INVALID_SYNIC_STATE, K},
    {"WHvCreateTrigger", "SynicEvent, Reserved 1", ct_synic_reserved, E_INVALIDARG, K},
    {"WHvCreateTrigger", "partition not set up", ct_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvCreateTrigger", "forged handle 0x1234", ct_forged, E_HANDLE, 0},
    {"WHvCreateTrigger", "deleted partition", ct_deleted, E_HANDLE, K},
    {"WHvCreateTrigger", "failure leaves NULL in both outputs", ct_outputs_cleared, E_INVALIDARG, K},
    {"WHvUpdateTriggerParameters", "NULL parameters", ut_null, E_INVALIDARG, K},
    {"WHvUpdateTriggerParameters", "forged trigger 0x1234", ut_forged_trigger, E_HANDLE, K},
    {"WHvUpdateTriggerParameters", "NULL trigger", ut_null_trigger, E_HANDLE, K},
    {"WHvUpdateTriggerParameters", "deleted trigger", ut_deleted_trigger, E_HANDLE, K},
    {"WHvUpdateTriggerParameters", "trigger of another partition", ut_other_partition, E_HANDLE, K},
    {"WHvUpdateTriggerParameters", "type change Interrupt -> DeviceInterrupt", ut_type_change, E_INVALIDARG, K},
    {"WHvUpdateTriggerParameters", "Fixed, vector 15", ut_vector15, E_INVALIDARG, K},
    {"WHvUpdateTriggerParameters", "Reserved 1", ut_reserved, E_INVALIDARG, K},
    {"WHvUpdateTriggerParameters", "type change SynicEvent -> Interrupt", ut_synic_to_irq, E_INVALIDARG, K},
    {"WHvUpdateTriggerParameters", "SynicEvent, SINT 16", ut_synic_sint16, E_INVALIDARG, K},
    {"WHvUpdateTriggerParameters", "SynicEvent, VP index out of range", ut_synic_vp_range, WHV_E_VP_DOES_NOT_EXIST, K},
    {"WHvUpdateTriggerParameters", "forged partition handle -1", ut_forged, E_HANDLE, K},
    {"WHvDeleteTrigger", "forged trigger 0x1234", dt_forged_trigger, E_HANDLE, K},
    {"WHvDeleteTrigger", "NULL trigger", dt_null_trigger, E_HANDLE, K},
    {"WHvDeleteTrigger", "deleted twice", dt_twice, E_HANDLE, K},
    {"WHvDeleteTrigger", "SynicEvent trigger deleted twice", dt_synic_twice, E_HANDLE, K},
    {"WHvDeleteTrigger", "partition without triggers", dt_no_triggers, E_HANDLE, K},
    {"WHvDeleteTrigger", "forged partition handle 0x1234", dt_forged, E_HANDLE, K},
    {"WHvDeleteTrigger", "deleted partition", dt_deleted, E_HANDLE, K},

    {"WHvCreateNotificationPort", "NULL parameters", cp_null_params, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "NULL PortHandle", cp_null_out, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "port type 0", cp_type0, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "port type 3", cp_type3, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "Reserved 1", cp_reserved, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "Reserved1 1", cp_reserved1, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "ConnectionVtl 1", cp_vtl, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "doorbell port, ConnectionVtl 1", cp_vtl_doorbell, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "NULL event", cp_null_event, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "forged event 0x1234", cp_forged_event, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "closed event", cp_closed_event, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "ConnectionId 1 << 24", cp_connection, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "ConnectionId 0xffffffff", cp_connection_max, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "second port on one connection", cp_duplicate, ERROR_HV_INVALID_PARAMETER, K},
    {"WHvCreateNotificationPort", "doorbell port, Length 3", cp_doorbell_bad, E_INVALIDARG, K},
    {"WHvCreateNotificationPort", "doorbell port in mapped RAM: allowed", cp_doorbell_ram, S_OK, K},
    {"WHvCreateNotificationPort", "doorbell port over a registered doorbell", cp_doorbell_conflict, ERROR_HV_INVALID_PARAMETER, K},
    {"WHvCreateNotificationPort", "partition not set up", cp_not_setup, WHV_E_INVALID_PARTITION_CONFIG, K},
    {"WHvCreateNotificationPort", "forged handle -1", cp_forged, E_HANDLE, K},
    {"WHvCreateNotificationPort", "deleted partition", cp_deleted, E_HANDLE, K},
    {"WHvSetNotificationPortProperty", "forged port 0x1234", sp_forged_port, E_HANDLE, K},
    {"WHvSetNotificationPortProperty", "NULL port", sp_null_port, E_HANDLE, K},
    {"WHvSetNotificationPortProperty", "property code 0", sp_code0, E_INVALIDARG, K},
    {"WHvSetNotificationPortProperty", "property code 2", sp_code2, E_INVALIDARG, K},
    {"WHvSetNotificationPortProperty", "PreferredTargetVp == ProcessorCount", sp_vp_range, E_INVALIDARG, K},
    {"WHvSetNotificationPortProperty", "PreferredTargetVp 2^32", sp_vp_huge, E_INVALIDARG, K},
    {"WHvSetNotificationPortProperty", "PreferredTargetVp WHV_ANY_VP is fine", sp_any_vp, S_OK, K},
    {"WHvSetNotificationPortProperty", "deleted port", sp_deleted_port, E_HANDLE, K},
    {"WHvSetNotificationPortProperty", "forged partition handle 0x1234", sp_forged, E_HANDLE, K},
    {"WHvSetNotificationPortProperty", "partition not set up", sp_not_setup, E_HANDLE, K},
    {"WHvDeleteNotificationPort", "forged port 0x1234", dp_forged_port, E_HANDLE, K},
    {"WHvDeleteNotificationPort", "NULL port", dp_null_port, E_HANDLE, K},
    {"WHvDeleteNotificationPort", "deleted twice", dp_twice, E_HANDLE, K},
    {"WHvDeleteNotificationPort", "a trigger handle", dp_trigger_handle, E_HANDLE, K},
    {"WHvDeleteNotificationPort", "forged partition handle -1", dp_forged, E_HANDLE, K},
    {"WHvDeleteNotificationPort", "deleted partition", dp_deleted, E_HANDLE, K},

    {"OpenWhpSetEvent", "NULL: FALSE", ev_set_null, R_FALSE, 0},
    {"OpenWhpSetEvent", "forged 0x1234: FALSE", ev_set_forged, R_FALSE, 0},
    {"OpenWhpSetEvent", "forged -1: FALSE", ev_set_minus1, R_FALSE, 0},
    {"OpenWhpSetEvent", "stdin's fd: FALSE", ev_set_stdin, R_FALSE, 0},
    {"OpenWhpSetEvent", "closed event: FALSE", ev_set_closed, R_FALSE, 0},
    {"OpenWhpResetEvent", "NULL: FALSE", ev_reset_null, R_FALSE, 0},
    {"OpenWhpResetEvent", "forged 0x1234: FALSE", ev_reset_forged, R_FALSE, 0},
    {"OpenWhpResetEvent", "closed event: FALSE", ev_reset_closed, R_FALSE, 0},
    {"OpenWhpCloseEvent", "NULL: FALSE", ev_close_null, R_FALSE, 0},
    {"OpenWhpCloseEvent", "forged 0x1234: FALSE", ev_close_forged, R_FALSE, 0},
    {"OpenWhpCloseEvent", "stdin's fd: FALSE, stdin stays open", ev_close_stdin, R_FALSE, 0},
    {"OpenWhpCloseEvent", "closed twice: FALSE", ev_close_twice, R_FALSE, 0},
    {"OpenWhpEventFd", "NULL: -1", ev_fd_null, R_NO_FD, 0},
    {"OpenWhpEventFd", "forged -1: -1", ev_fd_forged, R_NO_FD, 0},
    {"OpenWhpEventFd", "closed event: -1", ev_fd_closed, R_NO_FD, 0},
    {"OpenWhpWaitForEvent", "NULL, INFINITE: WAIT_FAILED", ev_wait_null, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvent", "forged 0x1234, INFINITE: WAIT_FAILED", ev_wait_forged, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvent", "stdin's fd, INFINITE: WAIT_FAILED", ev_wait_stdin, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvent", "closed event, INFINITE: WAIT_FAILED", ev_wait_closed, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvents", "Count 0: WAIT_FAILED", ev_waits_count0, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvents", "Count 65: WAIT_FAILED", ev_waits_count65, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvents", "Count 0xffffffff: WAIT_FAILED", ev_waits_count_max, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvents", "NULL array: WAIT_FAILED", ev_waits_null, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvents", "wait-any, a forged handle after a signaled one: WAIT_FAILED", ev_waits_one_bad, R_WAIT_FAILED, 0},
    {"OpenWhpWaitForEvents", "wait-all, a closed handle: WAIT_FAILED", ev_waits_all_closed, R_WAIT_FAILED, 0},

    {"OpenWhpGetPartitionVmId", "NULL VmId", vmid_null, E_POINTER, K},
    {"OpenWhpGetPartitionVmId", "forged handle 0x1234", vmid_forged, E_HANDLE, 0},
    {"OpenWhpGetPartitionVmId", "deleted partition", vmid_deleted, E_HANDLE, K},
    {"OpenWhpGetPartitionVmId", "stable, version 4", vmid_fresh, S_OK, K},
    {"OpenWhpHvSocketGetPath", "NULL VmId", hvpath_null_vm, E_POINTER, 0},
    {"OpenWhpHvSocketGetPath", "NULL buffer of size 0", hvpath_null_buf, WHV_E_INSUFFICIENT_BUFFER, 0},
    {"OpenWhpHvSocketGetPath", "4-byte buffer", hvpath_short, WHV_E_INSUFFICIENT_BUFFER, 0},
    {"OpenWhpHvSocketListen", "NULL address", hvlisten_null, E_POINTER, 0},
    {"OpenWhpHvSocketListen", "NULL ListenFd", hvlisten_null_fd, E_POINTER, 0},
    {"OpenWhpHvSocketListen", "family AF_INET", hvlisten_family, E_INVALIDARG, 0},
    {"OpenWhpHvSocketListen", "Reserved 1", hvlisten_reserved, E_INVALIDARG, 0},
    {"OpenWhpHvSocketListen", "service id not a vsock port", hvlisten_service, HRESULT_FROM_WIN32(WSAEAFNOSUPPORT), 0},
    {"OpenWhpHvSocketListen", "VmId HV_GUID_PARENT", hvlisten_parent, E_INVALIDARG, 0},
    {"OpenWhpHvSocketAccept", "NULL Fd", hvaccept_null, E_POINTER, 0},
    {"OpenWhpHvSocketAccept", "fd -1", hvaccept_badfd, E_HANDLE, 0},
    {"OpenWhpHvSocketAccept", "stdin (not a socket)", hvaccept_notsock, E_HANDLE, 0},
    {"OpenWhpHvSocketCloseListener", "fd -1", hvclose_badfd, E_HANDLE, 0},
    {"OpenWhpHvSocketConnect", "NULL address", hvconnect_null, E_POINTER, 0},
    {"OpenWhpHvSocketConnect", "NULL Fd", hvconnect_null_fd, E_POINTER, 0},
    {"OpenWhpHvSocketConnect", "timeout over HVSOCKET_CONNECT_TIMEOUT_MAX", hvconnect_timeout, E_INVALIDARG, 0},
    {"OpenWhpHvSocketConnect", "unknown VM", hvconnect_unknown_vm, HRESULT_FROM_WIN32(WSAEHOSTUNREACH), 0},
    {"OpenWhpHvSocketConnect", "service id not a vsock port", hvconnect_service, HRESULT_FROM_WIN32(WSAEAFNOSUPPORT), 0},
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
