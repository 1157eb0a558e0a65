/* WHvGetCapability: what this host can do, from KVM's capabilities and its supported CPUID. */
#include "prop/prop.h"

#include <errno.h>
#include <string.h>

#include "obj/hostcpu.h"
#include "synic/synic.h"

/* Exits that work on KVM. There is no user-space RDTSC exit in KVM, and only #BP can be
 * intercepted (KVM_GUESTDBG_USE_SW_BP). X64CpuidExit: WHP exits only for the leaves of
 * CpuidExitList, which are asked once each before the VP's first run (top/exit_cpuid.c).
 * X64ApicInitSipiExitTrap is accepted but delivers no exit: KVM's in-kernel LAPIC delivers
 * INIT and SIPI itself (a VMM's handler would only send them on). */
uint64_t prop_supported_exits(void)
{
    WHV_EXTENDED_VM_EXITS e = {.AsUINT64 = 0};
    e.X64CpuidExit = 1;
    e.X64ApicInitSipiExitTrap = 1;
    e.X64MsrExit = kvm_check(-1, KVM_CAP_X86_USER_SPACE_MSR) && kvm_check(-1, KVM_CAP_X86_MSR_FILTER);
    e.ExceptionExit = kvm_check(-1, KVM_CAP_SET_GUEST_DEBUG) != 0;
    e.HypercallExit = e.UnknownSynicConnection = 1; /* through the SynIC's hypercall page */
    return e.AsUINT64;
}

uint64_t prop_supported_msr_exits(void)
{
    WHV_X64_MSR_EXIT_BITMAP b = {.AsUINT64 = 0};
    if (!(prop_supported_exits() & (WHV_EXTENDED_VM_EXITS){.X64MsrExit = 1}.AsUINT64))
        return 0;
    b.UnhandledMsrs = b.TscMsrWrite = b.TscMsrRead = b.ApicBaseMsrWrite = 1;
    b.MiscEnableMsrRead = b.McUpdatePatchLevelMsrRead = 1;
    return b.AsUINT64;
}

HRESULT WINAPI WHvGetCapability(WHV_CAPABILITY_CODE CapabilityCode, VOID *CapabilityBuffer,
                                UINT32 CapabilityBufferSizeInBytes, UINT32 *WrittenSizeInBytes)
{
    WHV_CAPABILITY c;
    memset(&c, 0, sizeof(c));
    UINT32 len = sizeof(UINT64);
    bool kvm = kvm_system_fd() >= 0;

    switch (CapabilityCode) {
    case WHvCapabilityCodeHypervisorPresent:
        c.HypervisorPresent = kvm;
        len = sizeof(BOOL);
        break;
    case WHvCapabilityCodeFeatures:
        c.Features.PartialUnmap = 1;
        c.Features.LocalApicEmulation = kvm && kvm_check(-1, KVM_CAP_SPLIT_IRQCHIP);
        break;
    case WHvCapabilityCodeExtendedVmExits:
        c.ExtendedVmExits.AsUINT64 = kvm ? prop_supported_exits() : 0;
        break;
    case WHvCapabilityCodeExceptionExitBitmap:
        c.ExceptionExitBitmap = kvm ? PROP_SUPPORTED_EXCEPTIONS : 0;
        break;
    case WHvCapabilityCodeX64MsrExitBitmap:
        c.X64MsrExitBitmap.AsUINT64 = kvm ? prop_supported_msr_exits() : 0;
        break;
    case WHvCapabilityCodeProcessorVendor:
        c.ProcessorVendor = hostcpu_vendor();
        len = sizeof(UINT32);
        break;
    case WHvCapabilityCodeProcessorFeatures:
        c.ProcessorFeatures.AsUINT64 = hostcpu_features(0);
        break;
    case WHvCapabilityCodeProcessorXsaveFeatures:
        c.ProcessorXsaveFeatures.AsUINT64 = hostcpu_xsave_features();
        break;
    case WHvCapabilityCodeProcessorClFlushSize:
        c.ProcessorClFlushSize = (UINT8)hostcpu_clflush_size();
        len = sizeof(UINT8);
        break;
    case WHvCapabilityCodeProcessorClockFrequency: {
        int khz = kvm ? kvm_ioctl(kvm_system_fd(), KVM_GET_TSC_KHZ, NULL) : -ENODEV;
        c.ProcessorClockFrequency = khz > 0 ? (uint64_t)khz * 1000 : 0;
        break;
    }
    case WHvCapabilityCodeInterruptClockFrequency:
        c.InterruptClockFrequency = KVM_APIC_TIMER_HZ;
        break;
    case WHvCapabilityCodeProcessorFeaturesBanks:
        c.ProcessorFeaturesBanks.BanksCount = WHV_PROCESSOR_FEATURES_BANKS_COUNT;
        c.ProcessorFeaturesBanks.AsUINT64[0] = hostcpu_features(0);
        c.ProcessorFeaturesBanks.AsUINT64[1] = hostcpu_features(1);
        len = sizeof(c.ProcessorFeaturesBanks);
        break;
    case WHvCapabilityCodeSyntheticProcessorFeaturesBanks:
        c.SyntheticProcessorFeaturesBanks.BanksCount = WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS_COUNT;
        c.SyntheticProcessorFeaturesBanks.AsUINT64[0] = kvm ? synic_supported_features() : 0;
        len = sizeof(c.SyntheticProcessorFeaturesBanks);
        break;
    case WHvCapabilityCodePhysicalAddressWidth:
        c.PhysicalAddressWidth = hostcpu_phys_bits();
        len = sizeof(UINT32);
        break;
    default:
        return WHV_E_UNKNOWN_CAPABILITY;
    }
    return hr_put(CapabilityBuffer, CapabilityBufferSizeInBytes, WrittenSizeInBytes, &c, len);
}

