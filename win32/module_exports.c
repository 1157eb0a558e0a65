/* The exports of the two WHP DLLs, for GetProcAddress: the functions winhvplatform.dll and
 * winhvemulation.dll export on Windows, which are openwhp's own. Sorted by name. */
#include "w32.h"
#include "module_exports.h"

#include <WinHvEmulation.h>
#include <WinHvPlatform.h>

#define EXPORT(f) {#f, (FARPROC)(void (*)(void))f}

const struct w32_export w32_winhvplatform_exports[] = {
    EXPORT(WHvAcceptPartitionMigration),
    EXPORT(WHvAdviseGpaRange),
    EXPORT(WHvAllocateVpciResource),
    EXPORT(WHvCancelPartitionMigration),
    EXPORT(WHvCancelRunVirtualProcessor),
    EXPORT(WHvCompletePartitionMigration),
    EXPORT(WHvCreateNotificationPort),
    EXPORT(WHvCreatePartition),
    EXPORT(WHvCreateTrigger),
    EXPORT(WHvCreateVirtualProcessor),
    EXPORT(WHvCreateVirtualProcessor2),
    EXPORT(WHvCreateVpciDevice),
    EXPORT(WHvDeleteNotificationPort),
    EXPORT(WHvDeletePartition),
    EXPORT(WHvDeleteTrigger),
    EXPORT(WHvDeleteVirtualProcessor),
    EXPORT(WHvDeleteVpciDevice),
    EXPORT(WHvGetCapability),
    EXPORT(WHvGetInterruptTargetVpSet),
    EXPORT(WHvGetPartitionCounters),
    EXPORT(WHvGetPartitionProperty),
    EXPORT(WHvGetVirtualProcessorCounters),
    EXPORT(WHvGetVirtualProcessorCpuidOutput),
    EXPORT(WHvGetVirtualProcessorInterruptControllerState),
    EXPORT(WHvGetVirtualProcessorInterruptControllerState2),
    EXPORT(WHvGetVirtualProcessorRegisters),
    EXPORT(WHvGetVirtualProcessorState),
    EXPORT(WHvGetVirtualProcessorXsaveState),
    EXPORT(WHvGetVpciDeviceInterruptTarget),
    EXPORT(WHvGetVpciDeviceNotification),
    EXPORT(WHvGetVpciDeviceProperty),
    EXPORT(WHvMapGpaRange),
    EXPORT(WHvMapGpaRange2),
    EXPORT(WHvMapVpciDeviceInterrupt),
    EXPORT(WHvMapVpciDeviceMmioRanges),
    EXPORT(WHvPostVirtualProcessorSynicMessage),
    EXPORT(WHvQueryGpaRangeDirtyBitmap),
    EXPORT(WHvReadGpaRange),
    EXPORT(WHvReadVpciDeviceRegister),
    EXPORT(WHvRegisterPartitionDoorbellEvent),
    EXPORT(WHvRequestInterrupt),
    EXPORT(WHvRequestVpciDeviceInterrupt),
    EXPORT(WHvResetPartition),
    EXPORT(WHvResumePartitionTime),
    EXPORT(WHvRetargetVpciDeviceInterrupt),
    EXPORT(WHvRunVirtualProcessor),
    EXPORT(WHvSetNotificationPortProperty),
    EXPORT(WHvSetPartitionProperty),
    EXPORT(WHvSetVirtualProcessorInterruptControllerState),
    EXPORT(WHvSetVirtualProcessorInterruptControllerState2),
    EXPORT(WHvSetVirtualProcessorRegisters),
    EXPORT(WHvSetVirtualProcessorState),
    EXPORT(WHvSetVirtualProcessorXsaveState),
    EXPORT(WHvSetVpciDevicePowerState),
    EXPORT(WHvSetupPartition),
    EXPORT(WHvSignalVirtualProcessorSynicEvent),
    EXPORT(WHvStartPartitionMigration),
    EXPORT(WHvSuspendPartitionTime),
    EXPORT(WHvTranslateGva),
    EXPORT(WHvUnmapGpaRange),
    EXPORT(WHvUnmapVpciDeviceInterrupt),
    EXPORT(WHvUnmapVpciDeviceMmioRanges),
    EXPORT(WHvUnregisterPartitionDoorbellEvent),
    EXPORT(WHvUpdateTriggerParameters),
    EXPORT(WHvWriteGpaRange),
    EXPORT(WHvWriteVpciDeviceRegister),
};
const size_t w32_winhvplatform_export_count =
    sizeof(w32_winhvplatform_exports) / sizeof(w32_winhvplatform_exports[0]);

const struct w32_export w32_winhvemulation_exports[] = {
    EXPORT(WHvEmulatorCreateEmulator),
    EXPORT(WHvEmulatorDestroyEmulator),
    EXPORT(WHvEmulatorTryIoEmulation),
    EXPORT(WHvEmulatorTryMmioEmulation),
};
const size_t w32_winhvemulation_export_count =
    sizeof(w32_winhvemulation_exports) / sizeof(w32_winhvemulation_exports[0]);
