/* What QEMU's WHPX accelerator (target/i386/whpx/) takes from the Win32 layer, written the way
 * QEMU writes it: the lowercase mingw-w64 header names, LoadLibrary of both DLLs by name and
 * GetProcAddress of every function in its dispatch lists, RTL_NUMBER_OF, max, and its HRESULT
 * comparisons, including its own unsuffixed WHV_E_UNKNOWN_PROPERTY. */
#include <windows.h>
#include <winerror.h>
#include <winhvemulation.h>
#include <winhvplatform.h>
#include <winhvplatformdefs.h>

#include "check.h"

/* QEMU's whpx-internal.h defines this itself, as an unsigned int. */
#define QEMU_WHV_E_UNKNOWN_PROPERTY 0x80370302

static const char *const platform_fns[] = {
    "WHvGetCapability", "WHvCreatePartition", "WHvSetupPartition", "WHvDeletePartition",
    "WHvGetPartitionProperty", "WHvSetPartitionProperty", "WHvMapGpaRange", "WHvUnmapGpaRange",
    "WHvTranslateGva", "WHvCreateVirtualProcessor", "WHvDeleteVirtualProcessor",
    "WHvRunVirtualProcessor", "WHvCancelRunVirtualProcessor", "WHvGetVirtualProcessorRegisters",
    "WHvSetVirtualProcessorRegisters",
    /* LIST_WINHVPLATFORM_FUNCTIONS_SUPPLEMENTAL: optional for QEMU, all present here. */
    "WHvSuspendPartitionTime", "WHvRequestInterrupt",
    "WHvGetVirtualProcessorInterruptControllerState2",
    "WHvSetVirtualProcessorInterruptControllerState2",
};
static const char *const emulation_fns[] = {
    "WHvEmulatorCreateEmulator", "WHvEmulatorDestroyEmulator", "WHvEmulatorTryIoEmulation",
    "WHvEmulatorTryMmioEmulation",
};

typedef HRESULT(WINAPI *WHvGetCapability_t)(WHV_CAPABILITY_CODE, VOID *, UINT32, UINT32 *);

int main(void)
{
    /* HRESULT is a signed 32-bit type, as Windows' LONG. */
    C_ASSERT(sizeof(HRESULT) == 4);
    CHECK((HRESULT)0x80370300L < 0);
    CHECK(FAILED(WHV_E_UNKNOWN_CAPABILITY));

    HMODULE hWinHvPlatform = LoadLibrary("WinHvPlatform.dll");
    HMODULE hWinHvEmulation = LoadLibrary("WinHvEmulation.dll");
    CHECK(hWinHvPlatform != NULL && hWinHvEmulation != NULL);
    for (size_t i = 0; i < RTL_NUMBER_OF(platform_fns); i++)
        CHECK(GetProcAddress(hWinHvPlatform, platform_fns[i]) != NULL);
    for (size_t i = 0; i < RTL_NUMBER_OF(emulation_fns); i++)
        CHECK(GetProcAddress(hWinHvEmulation, emulation_fns[i]) != NULL);

    /* whpx_accel_init: an unknown capability is told apart from other failures. */
    WHvGetCapability_t get_cap =
        (WHvGetCapability_t)GetProcAddress(hWinHvPlatform, "WHvGetCapability");
    UINT64 value = 0;
    UINT32 unused;
    HRESULT hr = get_cap((WHV_CAPABILITY_CODE)0x7fff, &value, sizeof(value), &unused);
    CHECK(FAILED(hr));
    CHECK(hr == WHV_E_UNKNOWN_CAPABILITY);
    CHECK(!(hr != WHV_E_UNKNOWN_CAPABILITY));

    /* whpx_vcpu_run's comparison against QEMU's unsigned constant: hr converts to unsigned int,
     * as a 32-bit long does against it on Windows, so equal values compare equal. (QEMU builds
     * without -Wsign-compare; a 64-bit HRESULT would make this comparison always unequal.) */
    hr = WHV_E_UNKNOWN_PROPERTY;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wsign-compare"
    CHECK(hr == QEMU_WHV_E_UNKNOWN_PROPERTY);
    CHECK(!(FAILED(hr) && hr != QEMU_WHV_E_UNKNOWN_PROPERTY));
#pragma GCC diagnostic pop

    int max_vcpu_index = 0;
    max_vcpu_index = max(max_vcpu_index, 3);
    CHECK_EQ(max_vcpu_index, 3);
    CHECK_EQ(min(2, 5), 2);

    CHECK(FreeLibrary(hWinHvEmulation));
    CHECK(FreeLibrary(hWinHvPlatform));
    return check_report();
}
