// Every public header compiles as C++ together with the Win32 layer's, and the WHP flag enums
// combine with |, &, ^, ~ and the compound forms (DEFINE_ENUM_FLAG_OPERATORS), as with the SDK.
// With CXX_HEADERS_ONLY it calls no library function, so it builds without linking openwhp.
#include <Windows.h>
#include <windows.h>
#include <winerror.h>
#include <winbase.h>
#include <winnt.h>
#include <WinHvEmulation.h>
#include <WinHvPlatform.h>
#include <WinHvPlatformDefs.h>
#include <winhvemulation.h>
#include <winhvplatform.h>
#include <winhvplatformdefs.h>
#include <openwhp/doorbell.h>
#include <openwhp/event.h>
#include <openwhp/hvsocket.h>
#include <openwhp/interrupt_types.h>
#include <openwhp/wintypes.h>

#include <cstdio>
#include <type_traits>

static_assert(std::is_same<decltype(WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite),
                           WHV_MAP_GPA_RANGE_FLAGS>::value,
              "| keeps the flag type");
static_assert((WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagExecute) == 5, "constexpr |");
static_assert((WHvTranslateGvaFlagValidateRead & WHvTranslateGvaFlagValidateWrite) == 0,
              "constexpr &");

static int failures;
#define EXPECT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

// A parameter of the flag type, as WHvMapGpaRange has: needs the operators in C++.
static UINT32 take_map_flags(WHV_MAP_GPA_RANGE_FLAGS f) { return (UINT32)f; }
static UINT32 take_gva_flags(WHV_TRANSLATE_GVA_FLAGS f) { return (UINT32)f; }

int main()
{
    WHV_MAP_GPA_RANGE_FLAGS m = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite;
    EXPECT(take_map_flags(m) == 3);
    m |= WHvMapGpaRangeFlagExecute;
    EXPECT(m == 7);
    m &= ~WHvMapGpaRangeFlagWrite;
    EXPECT(m == (WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagExecute));
    m ^= WHvMapGpaRangeFlagRead;
    EXPECT(m == WHvMapGpaRangeFlagExecute);
    EXPECT((m ^ WHvMapGpaRangeFlagExecute) == WHvMapGpaRangeFlagNone);
    EXPECT(take_gva_flags(WHvTranslateGvaFlagValidateRead | WHvTranslateGvaFlagPrivilegeExempt) == 9);
    WHV_X64_CPUID_RESULT2_FLAGS c = WHvX64CpuidResult2FlagSubleafSpecific | WHvX64CpuidResult2FlagVpSpecific;
    EXPECT(c == 3);
    WHV_ALLOCATE_VPCI_RESOURCE_FLAGS a = WHvAllocateVpciResourceFlagNone | WHvAllocateVpciResourceFlagAllowDirectP2P;
    EXPECT(a == WHvAllocateVpciResourceFlagAllowDirectP2P);
    WHV_CREATE_VPCI_DEVICE_FLAGS d = WHvCreateVpciDeviceFlagNone | WHvCreateVpciDeviceFlagPhysicallyBacked;
    d |= WHvCreateVpciDeviceFlagUseLogicalInterrupts;
    EXPECT(d == 3);
    WHV_VPCI_MMIO_RANGE_FLAGS r = WHvVpciMmioRangeFlagReadAccess | WHvVpciMmioRangeFlagWriteAccess;
    EXPECT(r == 3);
    WHV_VPCI_INTERRUPT_TARGET_FLAGS t = WHvVpciInterruptTargetFlagNone | WHvVpciInterruptTargetFlagMulticast;
    EXPECT(t == WHvVpciInterruptTargetFlagMulticast);

#ifndef CXX_HEADERS_ONLY
    // The layer's functions link from C++ too (extern "C").
    HANDLE e = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    EXPECT(e != nullptr && SetEvent(e) && WaitForSingleObject(e, 0) == WAIT_OBJECT_0);
    EXPECT(CloseHandle(e));
    EXPECT(!CloseHandle(e) && GetLastError() == ERROR_INVALID_HANDLE);
    LONG v = 1;
    EXPECT(InterlockedIncrement(&v) == 2);
#endif
#ifdef min
    EXPECT(!"min must not be a macro in C++");
#endif
    std::printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
