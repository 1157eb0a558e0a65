/* The partition properties: what the VMM asked for, checked against what this host can do,
 * and how the exit-related properties become KVM configuration (user-space MSR exits, the MSR
 * filter, guest debug for exception exits). */
#include "prop/prop.h"

#include "obj/hostcpu.h"
#include "synic/synic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- exit configuration ---- */

static int set_msr_filter(struct whp_partition *p, WHV_X64_MSR_EXIT_BITMAP b)
{
    static uint8_t deny[(SYNIC_MSR_LAST - SYNIC_MSR_FIRST + 1) / 8]; /* 0 bits: accesses exit */
    struct kvm_msr_filter f = {.flags = KVM_MSR_FILTER_DEFAULT_ALLOW};
    unsigned n = 0;
    if (synic_enabled(p))
        f.ranges[n++] = (struct kvm_msr_filter_range){
            .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
            .nmsrs = SYNIC_MSR_LAST - SYNIC_MSR_FIRST + 1, .base = SYNIC_MSR_FIRST, .bitmap = deny};
#define RANGE(op, msr) f.ranges[n++] = (struct kvm_msr_filter_range){.flags = op, .nmsrs = 1, .base = msr, .bitmap = deny}
    if (b.TscMsrRead)
        RANGE(KVM_MSR_FILTER_READ, MSR_IA32_TSC);
    if (b.TscMsrWrite)
        RANGE(KVM_MSR_FILTER_WRITE, MSR_IA32_TSC);
    if (b.ApicBaseMsrWrite)
        RANGE(KVM_MSR_FILTER_WRITE, MSR_IA32_APIC_BASE);
    if (b.MiscEnableMsrRead)
        RANGE(KVM_MSR_FILTER_READ, MSR_IA32_MISC_ENABLE);
    if (b.McUpdatePatchLevelMsrRead)
        RANGE(KVM_MSR_FILTER_READ, MSR_IA32_BIOS_SIGN_ID);
#undef RANGE
    return kvm_ioctl(p->vm_fd, KVM_X86_SET_MSR_FILTER, &f);
}

static int set_guest_debug(struct whp_partition *p, struct whp_vp *vp)
{
    WHV_EXTENDED_VM_EXITS e = {.AsUINT64 = p->cfg.extended_exits};
    struct kvm_guest_debug d = {0};
    if (e.ExceptionExit && (p->cfg.exception_bitmap & PROP_SUPPORTED_EXCEPTIONS))
        d.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
    return kvm_ioctl(vp->fd, KVM_SET_GUEST_DEBUG, &d);
}

int prop_apply_vp(struct whp_partition *p, struct whp_vp *vp)
{
    return set_guest_debug(p, vp);
}

HRESULT prop_apply_exits(struct whp_partition *p)
{
    assert(owl_held(&p->lock));
    WHV_EXTENDED_VM_EXITS e = {.AsUINT64 = p->cfg.extended_exits};
    WHV_X64_MSR_EXIT_BITMAP b = {.AsUINT64 = e.X64MsrExit ? p->cfg.msr_exit_bitmap : 0};
    uint32_t mask = b.UnhandledMsrs ? KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_INVAL : 0;
    if ((b.AsUINT64 & ~1ull) || synic_enabled(p))
        mask |= KVM_MSR_EXIT_REASON_FILTER;
    int r = 0;
    /* Only touch KVM's MSR configuration when asked to, or to undo an earlier request. */
    if (mask || p->cfg.msr_config_set) {
        r = kvm_enable_cap(p->vm_fd, KVM_CAP_X86_USER_SPACE_MSR, mask, 0);
        if (r == 0)
            r = set_msr_filter(p, b);
        p->cfg.msr_config_set = mask != 0;
    }
    for (uint32_t i = 0; r == 0 && i < p->cfg.processor_count; i++)
        if (part_vp(p, i))
            r = set_guest_debug(p, part_vp(p, i));
    return hr_from_errno(r);
}

/* ---- properties ---- */

static bool before_setup_only(WHV_PARTITION_PROPERTY_CODE code)
{
    switch (code) {
    case WHvPartitionPropertyCodeExtendedVmExits:
    case WHvPartitionPropertyCodeExceptionExitBitmap:
    case WHvPartitionPropertyCodeX64MsrExitBitmap:
    case WHvPartitionPropertyCodeCpuidExitList:
    case WHvPartitionPropertyCodeReferenceTime:
        return false;
    default:
        return true;
    }
}

static HRESULT copy_list(void **dst, uint32_t *count, const void *src, UINT32 size, size_t elem)
{
    if (size % elem)
        return E_INVALIDARG;
    void *copy = NULL;
    if (size) {
        copy = malloc(size);
        if (!copy)
            return E_OUTOFMEMORY;
        memcpy(copy, src, size);
    }
    free(*dst);
    *dst = copy;
    *count = (uint32_t)(size / elem);
    return S_OK;
}

/* The size of a settable property's value (0 for the lists), or false for a code that cannot be
 * set: WHV_E_UNKNOWN_PROPERTY whatever buffer comes with it. */
static bool settable_size(WHV_PARTITION_PROPERTY_CODE code, UINT32 *fixed)
{
    switch (code) {
    case WHvPartitionPropertyCodeProcessorCount:
    case WHvPartitionPropertyCodeLocalApicEmulationMode:
        *fixed = sizeof(UINT32);
        return true;
    case WHvPartitionPropertyCodeProcessorFeaturesBanks:
        *fixed = sizeof(WHV_PROCESSOR_FEATURES_BANKS);
        return true;
    case WHvPartitionPropertyCodeSyntheticProcessorFeaturesBanks:
        *fixed = sizeof(WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS);
        return true;
    case WHvPartitionPropertyCodeCpuidExitList:
    case WHvPartitionPropertyCodeCpuidResultList:
        *fixed = 0;
        return true;
    case WHvPartitionPropertyCodeExtendedVmExits:
    case WHvPartitionPropertyCodeExceptionExitBitmap:
    case WHvPartitionPropertyCodeX64MsrExitBitmap:
    case WHvPartitionPropertyCodeProcessorFeatures:
    case WHvPartitionPropertyCodeProcessorClockFrequency:
    case WHvPartitionPropertyCodeInterruptClockFrequency:
    case WHvPartitionPropertyCodeReferenceTime:
        *fixed = sizeof(UINT64);
        return true;
    default:
        return false;
    }
}

static bool cpuid_exit_bit(uint64_t extended_exits)
{
    return ((WHV_EXTENDED_VM_EXITS){.AsUINT64 = extended_exits}).X64CpuidExit;
}

/* The leaves of CpuidExitList are asked before a VP's first KVM_RUN (top/exit_cpuid.c), the only
 * time KVM takes a new CPUID: once some VP has begun running, the list no longer changes. */
static bool cpuid_fixed(const struct whp_partition *p)
{
    for (uint32_t i = 0; p->vps && i < p->cfg.processor_count; i++) {
        struct whp_vp *vp = atomic_load(&p->vps[i]);
        if (vp && atomic_load(&vp->cpuid_fixed))
            return true;
    }
    return false;
}

static HRESULT set_property(struct whp_partition *p, WHV_PARTITION_PROPERTY_CODE code,
                            const void *buf, UINT32 size, UINT32 fixed)
{
    WHV_PARTITION_PROPERTY v;
    memset(&v, 0, sizeof(v));
    /* Fixed-size values may come in a larger buffer: VMMs pass sizeof(WHV_PARTITION_PROPERTY). */
    if (fixed && size < fixed)
        return E_INVALIDARG;
    if (fixed)
        memcpy(&v, buf, fixed);

    switch (code) {
    case WHvPartitionPropertyCodeProcessorCount: {
        int max = kvm_check(-1, KVM_CAP_MAX_VCPUS);
        if (v.ProcessorCount == 0 || v.ProcessorCount > (UINT32)(max > 0 ? max : 1))
            return E_INVALIDARG;
        p->cfg.processor_count = v.ProcessorCount;
        return S_OK;
    }
    case WHvPartitionPropertyCodeLocalApicEmulationMode:
        if (v.LocalApicEmulationMode > WHvX64LocalApicEmulationModeX2Apic)
            return E_INVALIDARG;
        if (v.LocalApicEmulationMode != WHvX64LocalApicEmulationModeNone &&
            !kvm_check(-1, KVM_CAP_SPLIT_IRQCHIP))
            return WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG;
        p->cfg.apic_mode = v.LocalApicEmulationMode;
        return S_OK;
    case WHvPartitionPropertyCodeExtendedVmExits:
        if (v.ExtendedVmExits.AsUINT64 & ~prop_supported_exits())
            return WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG;
        if (cpuid_exit_bit(v.ExtendedVmExits.AsUINT64) && !cpuid_exit_bit(p->cfg.extended_exits) &&
            p->cfg.cpuid_exit_count && cpuid_fixed(p))
            return WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG;
        p->cfg.extended_exits = v.ExtendedVmExits.AsUINT64;
        return p->setup ? prop_apply_exits(p) : S_OK;
    case WHvPartitionPropertyCodeExceptionExitBitmap:
        if (v.ExceptionExitBitmap & ~PROP_SUPPORTED_EXCEPTIONS)
            return WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG;
        p->cfg.exception_bitmap = v.ExceptionExitBitmap;
        return p->setup ? prop_apply_exits(p) : S_OK;
    case WHvPartitionPropertyCodeX64MsrExitBitmap:
        if (v.X64MsrExitBitmap.AsUINT64 & ~prop_supported_msr_exits())
            return WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG;
        p->cfg.msr_exit_bitmap = v.X64MsrExitBitmap.AsUINT64;
        return p->setup ? prop_apply_exits(p) : S_OK;
    case WHvPartitionPropertyCodeCpuidExitList:
        if (size % sizeof(UINT32))
            return E_INVALIDARG;
        if (cpuid_fixed(p))
            return WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG;
        return copy_list((void **)&p->cfg.cpuid_exits, &p->cfg.cpuid_exit_count, buf, size,
                         sizeof(UINT32));
    case WHvPartitionPropertyCodeCpuidResultList:
        return copy_list((void **)&p->cfg.cpuid_results, &p->cfg.cpuid_result_count, buf, size,
                         sizeof(WHV_X64_CPUID_RESULT));
    case WHvPartitionPropertyCodeProcessorFeatures:
        if (v.ProcessorFeatures.AsUINT64 & ~hostcpu_features(0))
            return WHV_E_UNSUPPORTED_PROCESSOR_CONFIG;
        p->cfg.features[0] = v.ProcessorFeatures.AsUINT64;
        return S_OK;
    case WHvPartitionPropertyCodeProcessorFeaturesBanks:
        if (v.ProcessorFeaturesBanks.BanksCount != WHV_PROCESSOR_FEATURES_BANKS_COUNT)
            return E_INVALIDARG;
        if ((v.ProcessorFeaturesBanks.AsUINT64[0] & ~hostcpu_features(0)) ||
            (v.ProcessorFeaturesBanks.AsUINT64[1] & ~hostcpu_features(1)))
            return WHV_E_UNSUPPORTED_PROCESSOR_CONFIG;
        p->cfg.features[0] = v.ProcessorFeaturesBanks.AsUINT64[0];
        p->cfg.features[1] = v.ProcessorFeaturesBanks.AsUINT64[1];
        return S_OK;
    case WHvPartitionPropertyCodeSyntheticProcessorFeaturesBanks:
        if (v.SyntheticProcessorFeaturesBanks.BanksCount != WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS_COUNT)
            return E_INVALIDARG;
        if (v.SyntheticProcessorFeaturesBanks.AsUINT64[0] & ~synic_supported_features())
            return WHV_E_UNSUPPORTED_PROCESSOR_CONFIG;
        p->cfg.synthetic_features = v.SyntheticProcessorFeaturesBanks.AsUINT64[0];
        return S_OK;
    case WHvPartitionPropertyCodeProcessorClockFrequency:
        /* KVM here cannot scale the TSC (no KVM_CAP_TSC_CONTROL): only the host rate works. */
        if (v.ProcessorClockFrequency != p->cfg.tsc_hz)
            return WHV_E_UNSUPPORTED_PROCESSOR_CONFIG;
        return S_OK;
    case WHvPartitionPropertyCodeInterruptClockFrequency:
        if (v.InterruptClockFrequency == 0 || KVM_APIC_TIMER_HZ % v.InterruptClockFrequency ||
            (v.InterruptClockFrequency != KVM_APIC_TIMER_HZ &&
             !kvm_check(-1, KVM_CAP_X86_APIC_BUS_CYCLES_NS)))
            return WHV_E_UNSUPPORTED_PROCESSOR_CONFIG;
        p->cfg.apic_hz = v.InterruptClockFrequency;
        return S_OK;
    case WHvPartitionPropertyCodeReferenceTime: {
        /* Partition reference time counts 100 ns units; kvmclock counts nanoseconds. */
        struct kvm_clock_data d = {.clock = v.ReferenceTime * 100};
        return hr_from_errno(kvm_ioctl(p->vm_fd, KVM_SET_CLOCK, &d));
    }
    default:
        return WHV_E_UNKNOWN_PROPERTY;
    }
}

HRESULT WINAPI WHvSetPartitionProperty(WHV_PARTITION_HANDLE Partition,
                                       WHV_PARTITION_PROPERTY_CODE PropertyCode,
                                       const VOID *PropertyBuffer, UINT32 PropertyBufferSizeInBytes)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr;
    UINT32 fixed = 0;
    owl_lock(&p->lock);
    if (!settable_size(PropertyCode, &fixed))
        hr = WHV_E_UNKNOWN_PROPERTY;
    else if (!PropertyBuffer && PropertyBufferSizeInBytes)
        hr = E_POINTER;
    else if (!PropertyBuffer && PropertyCode != WHvPartitionPropertyCodeCpuidExitList &&
             PropertyCode != WHvPartitionPropertyCodeCpuidResultList)
        hr = E_POINTER;
    else if (p->setup && before_setup_only(PropertyCode))
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    else if (!p->setup && PropertyCode == WHvPartitionPropertyCodeReferenceTime)
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    else
        hr = set_property(p, PropertyCode, PropertyBuffer, PropertyBufferSizeInBytes, fixed);
    owl_unlock(&p->lock);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvGetPartitionProperty(WHV_PARTITION_HANDLE Partition,
                                       WHV_PARTITION_PROPERTY_CODE PropertyCode,
                                       VOID *PropertyBuffer, UINT32 PropertyBufferSizeInBytes,
                                       UINT32 *WrittenSizeInBytes)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    WHV_PARTITION_PROPERTY v;
    memset(&v, 0, sizeof(v));
    UINT32 len = sizeof(UINT64);
    const void *src = &v;
    HRESULT hr = S_OK;
    owl_lock(&p->lock);
    switch (PropertyCode) {
    case WHvPartitionPropertyCodeProcessorCount:
        v.ProcessorCount = p->cfg.processor_count;
        len = sizeof(UINT32);
        break;
    case WHvPartitionPropertyCodeLocalApicEmulationMode:
        v.LocalApicEmulationMode = p->cfg.apic_mode;
        len = sizeof(UINT32);
        break;
    case WHvPartitionPropertyCodeExtendedVmExits:
        v.ExtendedVmExits.AsUINT64 = p->cfg.extended_exits;
        break;
    case WHvPartitionPropertyCodeExceptionExitBitmap:
        v.ExceptionExitBitmap = p->cfg.exception_bitmap;
        break;
    case WHvPartitionPropertyCodeX64MsrExitBitmap:
        v.X64MsrExitBitmap.AsUINT64 = p->cfg.msr_exit_bitmap;
        break;
    case WHvPartitionPropertyCodeCpuidExitList:
        src = p->cfg.cpuid_exits;
        len = p->cfg.cpuid_exit_count * sizeof(UINT32);
        break;
    case WHvPartitionPropertyCodeCpuidResultList:
        src = p->cfg.cpuid_results;
        len = p->cfg.cpuid_result_count * sizeof(WHV_X64_CPUID_RESULT);
        break;
    case WHvPartitionPropertyCodeProcessorFeatures:
        v.ProcessorFeatures.AsUINT64 = p->cfg.features[0];
        break;
    case WHvPartitionPropertyCodeProcessorFeaturesBanks:
        v.ProcessorFeaturesBanks.BanksCount = WHV_PROCESSOR_FEATURES_BANKS_COUNT;
        v.ProcessorFeaturesBanks.AsUINT64[0] = p->cfg.features[0];
        v.ProcessorFeaturesBanks.AsUINT64[1] = p->cfg.features[1];
        len = sizeof(v.ProcessorFeaturesBanks);
        break;
    case WHvPartitionPropertyCodeSyntheticProcessorFeaturesBanks:
        v.SyntheticProcessorFeaturesBanks.BanksCount = WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS_COUNT;
        v.SyntheticProcessorFeaturesBanks.AsUINT64[0] = p->cfg.synthetic_features;
        len = sizeof(v.SyntheticProcessorFeaturesBanks);
        break;
    case WHvPartitionPropertyCodeProcessorClockFrequency:
        v.ProcessorClockFrequency = p->cfg.tsc_hz;
        break;
    case WHvPartitionPropertyCodeInterruptClockFrequency:
        v.InterruptClockFrequency = p->cfg.apic_hz;
        break;
    case WHvPartitionPropertyCodeReferenceTime: {
        struct kvm_clock_data d = {0};
        int r = p->setup ? kvm_ioctl(p->vm_fd, KVM_GET_CLOCK, &d) : -EINVAL;
        if (r < 0)
            hr = p->setup ? hr_from_errno(r) : WHV_E_INVALID_PARTITION_CONFIG;
        v.ReferenceTime = d.clock / 100;
        break;
    }
    case WHvPartitionPropertyCodePhysicalAddressWidth:
        v.PhysicalAddressWidth = hostcpu_phys_bits();
        len = sizeof(UINT32);
        break;
    default:
        hr = WHV_E_UNKNOWN_PROPERTY;
        break;
    }
    if (SUCCEEDED(hr))
        hr = hr_put(PropertyBuffer, PropertyBufferSizeInBytes, WrittenSizeInBytes, src, len);
    owl_unlock(&p->lock);
    part_put(p);
    return hr;
}
