/* Windows base types, macros and error codes needed by the WinHvPlatform headers on Linux.
 * Everything that a real <windows.h> (or <windef.h>/<minwindef.h>) already provides is skipped
 * when such a header was included first; the WHP-specific error codes are always available. */
#ifndef OPENWHP_WINTYPES_H
#define OPENWHP_WINTYPES_H

#include <stdint.h>
#include <stddef.h>

#if !defined(_WINDOWS_) && !defined(_WINDEF_) && !defined(_MINWINDEF_)
#define OPENWHP_OWN_WINTYPES 1

/* ---- Base types (Windows is LLP64: LONG/ULONG/DWORD are 32-bit) ---- */
typedef void VOID;
typedef void *PVOID;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef void *HANDLE;
typedef HANDLE *PHANDLE;
typedef int32_t HRESULT;
typedef int BOOL;
typedef BOOL *PBOOL;
typedef uint8_t BOOLEAN;
typedef uint8_t BYTE;
typedef char CHAR;
typedef uint8_t UCHAR;
typedef uint16_t WCHAR;
typedef int8_t INT8;
typedef int16_t INT16;
typedef int32_t INT32;
typedef int64_t INT64;
typedef uint8_t UINT8;
typedef uint16_t UINT16;
typedef uint32_t UINT32;
typedef uint64_t UINT64;
typedef UINT8 *PUINT8;
typedef UINT16 *PUINT16;
typedef UINT32 *PUINT32;
typedef UINT64 *PUINT64;
typedef int INT;
typedef unsigned int UINT;
typedef int16_t SHORT;
typedef uint16_t USHORT;
typedef uint16_t WORD;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef int64_t LONG64;
typedef uint64_t ULONG64;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uint32_t DWORD;
typedef uint64_t DWORD64;
typedef DWORD *PDWORD;
typedef intptr_t INT_PTR;
typedef uintptr_t UINT_PTR;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR;
typedef size_t SIZE_T;

typedef struct _GUID {
    UINT32 Data1;
    UINT16 Data2;
    UINT16 Data3;
    UINT8 Data4[8];
} GUID;

typedef struct _LUID {
    DWORD LowPart;
    LONG HighPart;
} LUID, *PLUID;

/* winnt.h: device power states (used by WHvSetVpciDevicePowerState). */
typedef enum _DEVICE_POWER_STATE {
    PowerDeviceUnspecified = 0,
    PowerDeviceD0,
    PowerDeviceD1,
    PowerDeviceD2,
    PowerDeviceD3,
    PowerDeviceMaximum
} DEVICE_POWER_STATE, *PDEVICE_POWER_STATE;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

#define ANYSIZE_ARRAY 1

/* ---- Calling convention and declaration helpers ----
 * WINAPI/CALLBACK are empty: openwhp is a native Linux library and its functions use the
 * platform (SysV x86-64) calling convention. A shim callable from PE code would need
 * __attribute__((ms_abi)) instead. */
#define WINAPI
#define CALLBACK
#define APIENTRY
#ifndef __stdcall
#define __stdcall
#endif
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))

#ifdef __cplusplus
#define C_ASSERT(e) static_assert((e), #e)
#else
#define C_ASSERT(e) _Static_assert((e), #e)
#endif

/* ---- SAL annotations used by the SDK headers (no meaning to gcc/clang) ---- */
#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _In_reads_(n)
#define _In_reads_opt_(n)
#define _In_reads_bytes_(n)
#define _In_reads_bytes_opt_(n)
#define _Out_writes_(n)
#define _Out_writes_opt_(n)
#define _Out_writes_bytes_(n)
#define _Out_writes_bytes_opt_(n)
#define _Out_writes_to_(a, b)
#define _Out_writes_to_opt_(a, b)
#define _Out_writes_bytes_to_(a, b)
#define _Out_writes_bytes_to_opt_(a, b)
#define _Out_writes_all_(n)
#define _Out_writes_bytes_all_(n)
#define _Inout_updates_(n)
#define _Inout_updates_opt_(n)
#define _Inout_updates_bytes_(n)
#define _Inout_updates_bytes_opt_(n)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_result_buffer_(n)
#define _Outptr_result_bytebuffer_(n)
#define _In_range_(a, b)
#define _Out_range_(a, b)
#define _Reserved_
#define _When_(a, b)
#define _Success_(e)
#define _Check_return_
#define _Must_inspect_result_
#define _Ret_maybenull_
#define _Field_size_(n)
#define _Field_size_bytes_(n)
#define _Field_size_opt_(n)
#define _Pre_
#define _Post_
#define _Pre_maybenull_
#define _Post_invalid_
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Printf_format_string_
#define _Null_terminated_
#define _NullNull_terminated_

/* ---- HRESULT helpers ---- */
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#define SEVERITY_SUCCESS 0
#define SEVERITY_ERROR 1
#define FACILITY_NULL 0
#define FACILITY_ITF 4
#define FACILITY_WIN32 7
#define MAKE_HRESULT(sev, fac, code)                                                        \
    ((HRESULT)(((uint32_t)(sev) << 31) | ((uint32_t)(fac) << 16) | ((uint32_t)(code))))
#define HRESULT_CODE(hr) ((hr) & 0xFFFF)
#define HRESULT_FACILITY(hr) (((hr) >> 16) & 0x1FFF)
#define HRESULT_SEVERITY(hr) (((uint32_t)(hr) >> 31) & 0x1)
/* As the SDK: values <= 0 (including HRESULTs such as ERROR_HV_*) pass through unchanged. */
#define HRESULT_FROM_WIN32(x)                                                               \
    ((HRESULT)(x) <= 0 ? ((HRESULT)(x))                                                     \
                       : ((HRESULT)(((uint32_t)(x) & 0x0000FFFFu) | 0x80070000u)))

#define S_OK ((HRESULT)0L)
#define S_FALSE ((HRESULT)1L)
#define E_UNEXPECTED ((HRESULT)0x8000FFFFL)
#define E_NOTIMPL ((HRESULT)0x80004001L)
#define E_NOINTERFACE ((HRESULT)0x80004002L)
#define E_POINTER ((HRESULT)0x80004003L)
#define E_ABORT ((HRESULT)0x80004004L)
#define E_FAIL ((HRESULT)0x80004005L)
#define E_PENDING ((HRESULT)0x8000000AL)
#define E_ACCESSDENIED ((HRESULT)0x80070005L)
#define E_HANDLE ((HRESULT)0x80070006L)
#define E_OUTOFMEMORY ((HRESULT)0x8007000EL)
#define E_INVALIDARG ((HRESULT)0x80070057L)

/* ---- Win32 error codes (DWORD values; wrap with HRESULT_FROM_WIN32) ---- */
#define ERROR_SUCCESS 0
#define NO_ERROR 0
#define ERROR_INVALID_FUNCTION 1
#define ERROR_FILE_NOT_FOUND 2
#define ERROR_ACCESS_DENIED 5
#define ERROR_INVALID_HANDLE 6
#define ERROR_NOT_ENOUGH_MEMORY 8
#define ERROR_OUTOFMEMORY 14
#define ERROR_NOT_SUPPORTED 50
#define ERROR_FILENAME_EXCED_RANGE 206
#define ERROR_INVALID_PARAMETER 87
#define ERROR_INSUFFICIENT_BUFFER 122
#define ERROR_BUSY 170
#define ERROR_ALREADY_EXISTS 183
#define ERROR_TIMEOUT 1460
#define ERROR_NOT_FOUND 1168

/* ---- Wait results ---- */
#define INFINITE 0xFFFFFFFFu
#define WAIT_OBJECT_0 ((DWORD)0)
#define WAIT_ABANDONED ((DWORD)0x80)
#define WAIT_ABANDONED_0 ((DWORD)0x80)
#define WAIT_IO_COMPLETION ((DWORD)0xC0)
#define WAIT_TIMEOUT ((DWORD)258)
#define WAIT_FAILED ((DWORD)0xFFFFFFFF)

#endif /* !_WINDOWS_ && !_WINDEF_ && !_MINWINDEF_ */

/* ---- Hypervisor status passthrough: ERROR_HV_<X> = 0xC0350000 | HV_STATUS_<X> ----
 * The SDK's winerror.h types these as DWORD; here they are HRESULTs because that is the only way
 * they are used (HRESULT_FROM_WIN32 leaves them unchanged either way). */
#ifndef ERROR_HV_INVALID_HYPERCALL_CODE
#define ERROR_HV_INVALID_HYPERCALL_CODE ((HRESULT)0xC0350002L)
#define ERROR_HV_INVALID_HYPERCALL_INPUT ((HRESULT)0xC0350003L)
#define ERROR_HV_INVALID_ALIGNMENT ((HRESULT)0xC0350004L)
#define ERROR_HV_INVALID_PARAMETER ((HRESULT)0xC0350005L)
#define ERROR_HV_ACCESS_DENIED ((HRESULT)0xC0350006L)
#define ERROR_HV_INVALID_PARTITION_STATE ((HRESULT)0xC0350007L)
#define ERROR_HV_OPERATION_DENIED ((HRESULT)0xC0350008L)
#define ERROR_HV_UNKNOWN_PROPERTY ((HRESULT)0xC0350009L)
#define ERROR_HV_PROPERTY_VALUE_OUT_OF_RANGE ((HRESULT)0xC035000AL)
#define ERROR_HV_INSUFFICIENT_MEMORY ((HRESULT)0xC035000BL)
#define ERROR_HV_PARTITION_TOO_DEEP ((HRESULT)0xC035000CL)
#define ERROR_HV_INVALID_PARTITION_ID ((HRESULT)0xC035000DL)
#define ERROR_HV_INVALID_VP_INDEX ((HRESULT)0xC035000EL)
#define ERROR_HV_NOT_FOUND ((HRESULT)0xC0350010L)
#define ERROR_HV_INVALID_PORT_ID ((HRESULT)0xC0350011L)
#define ERROR_HV_INVALID_CONNECTION_ID ((HRESULT)0xC0350012L)
#define ERROR_HV_INSUFFICIENT_BUFFERS ((HRESULT)0xC0350013L)
#define ERROR_HV_NOT_ACKNOWLEDGED ((HRESULT)0xC0350014L)
#define ERROR_HV_INVALID_VP_STATE ((HRESULT)0xC0350015L)
#define ERROR_HV_ACKNOWLEDGED ((HRESULT)0xC0350016L)
#define ERROR_HV_INVALID_SAVE_RESTORE_STATE ((HRESULT)0xC0350017L)
#define ERROR_HV_INVALID_SYNIC_STATE ((HRESULT)0xC0350018L)
#define ERROR_HV_OBJECT_IN_USE ((HRESULT)0xC0350019L)
#define ERROR_HV_INVALID_PROXIMITY_DOMAIN_INFO ((HRESULT)0xC035001AL)
#define ERROR_HV_NO_DATA ((HRESULT)0xC035001BL)
#define ERROR_HV_INACTIVE ((HRESULT)0xC035001CL)
#define ERROR_HV_NO_RESOURCES ((HRESULT)0xC035001DL)
#define ERROR_HV_FEATURE_UNAVAILABLE ((HRESULT)0xC035001EL)
#define ERROR_HV_PARTIAL_PACKET ((HRESULT)0xC035001FL)
#define ERROR_HV_PROCESSOR_FEATURE_NOT_SUPPORTED ((HRESULT)0xC0350020L)
#define ERROR_HV_PROCESSOR_CACHE_LINE_FLUSH_SIZE_INCOMPATIBLE ((HRESULT)0xC0350030L)
#define ERROR_HV_INSUFFICIENT_BUFFER ((HRESULT)0xC0350033L)
#define ERROR_HV_INCOMPATIBLE_PROCESSOR ((HRESULT)0xC0350037L)
#define ERROR_HV_INSUFFICIENT_DEVICE_DOMAINS ((HRESULT)0xC0350038L)
#define ERROR_HV_CPUID_FEATURE_VALIDATION ((HRESULT)0xC035003CL)
#define ERROR_HV_CPUID_XSAVE_FEATURE_VALIDATION ((HRESULT)0xC035003DL)
#define ERROR_HV_PROCESSOR_STARTUP_TIMEOUT ((HRESULT)0xC035003EL)
#define ERROR_HV_SMX_ENABLED ((HRESULT)0xC035003FL)
#define ERROR_HV_INVALID_LP_INDEX ((HRESULT)0xC0350041L)
#define ERROR_HV_INVALID_REGISTER_VALUE ((HRESULT)0xC0350050L)
#define ERROR_HV_INVALID_VTL_STATE ((HRESULT)0xC0350051L)
#define ERROR_HV_NX_NOT_DETECTED ((HRESULT)0xC0350055L)
#define ERROR_HV_INVALID_DEVICE_ID ((HRESULT)0xC0350057L)
#define ERROR_HV_INVALID_DEVICE_STATE ((HRESULT)0xC0350058L)
/* Informational in the SDK (severity bits 00), unlike every other ERROR_HV_* code. */
#define ERROR_HV_PENDING_PAGE_REQUESTS ((HRESULT)0x00350059L)
#define ERROR_HV_PAGE_REQUEST_INVALID ((HRESULT)0xC0350060L)
#define ERROR_HV_KEY_ALREADY_EXISTS ((HRESULT)0xC0350065L)
#define ERROR_HV_DEVICE_ALREADY_IN_DOMAIN ((HRESULT)0xC0350066L)
#define ERROR_HV_INVALID_CPU_GROUP_ID ((HRESULT)0xC035006FL)
#define ERROR_HV_INVALID_CPU_GROUP_STATE ((HRESULT)0xC0350070L)
#define ERROR_HV_OPERATION_FAILED ((HRESULT)0xC0350071L)
#define ERROR_HV_NOT_ALLOWED_WITH_NESTED_VIRT_ACTIVE ((HRESULT)0xC0350072L)
#define ERROR_HV_INSUFFICIENT_ROOT_MEMORY ((HRESULT)0xC0350073L)
#define ERROR_HV_EVENT_BUFFER_ALREADY_FREED ((HRESULT)0xC0350074L)
#define ERROR_HV_INSUFFICIENT_CONTIGUOUS_MEMORY ((HRESULT)0xC0350075L)
#define ERROR_HV_DEVICE_NOT_IN_DOMAIN ((HRESULT)0xC0350076L)
#define ERROR_HV_NESTED_VM_EXIT ((HRESULT)0xC0350077L)
#define ERROR_HV_TIME_OUT ((HRESULT)0xC0350078L)
#define ERROR_HV_CALL_PENDING ((HRESULT)0xC0350079L)
#define ERROR_HV_MSR_ACCESS_FAILED ((HRESULT)0xC0350080L)
#define ERROR_HV_INSUFFICIENT_MEMORY_MIRRORING ((HRESULT)0xC0350081L)
#define ERROR_HV_INSUFFICIENT_CONTIGUOUS_MEMORY_MIRRORING ((HRESULT)0xC0350082L)
#define ERROR_HV_INSUFFICIENT_CONTIGUOUS_ROOT_MEMORY ((HRESULT)0xC0350083L)
#define ERROR_HV_INSUFFICIENT_ROOT_MEMORY_MIRRORING ((HRESULT)0xC0350084L)
#define ERROR_HV_VTL_ALREADY_ENABLED ((HRESULT)0xC0350086L)
#define ERROR_HV_UNKNOWN_REGISTER_NAME ((HRESULT)0xC0350087L)
#define ERROR_HV_NOT_PRESENT ((HRESULT)0xC0351000L)
#endif /* ERROR_HV_INVALID_HYPERCALL_CODE */

/* ---- WinHvPlatform HRESULTs (facility 0x37); note the jump from 0x309 to 0x310 ---- */
#ifndef WHV_E_UNKNOWN_CAPABILITY
#define WHV_E_UNKNOWN_CAPABILITY ((HRESULT)0x80370300L)
#define WHV_E_INSUFFICIENT_BUFFER ((HRESULT)0x80370301L)
#define WHV_E_UNKNOWN_PROPERTY ((HRESULT)0x80370302L)
#define WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG ((HRESULT)0x80370303L)
#define WHV_E_INVALID_PARTITION_CONFIG ((HRESULT)0x80370304L)
#define WHV_E_GPA_RANGE_NOT_FOUND ((HRESULT)0x80370305L)
#define WHV_E_VP_ALREADY_EXISTS ((HRESULT)0x80370306L)
#define WHV_E_VP_DOES_NOT_EXIST ((HRESULT)0x80370307L)
#define WHV_E_INVALID_VP_STATE ((HRESULT)0x80370308L)
#define WHV_E_INVALID_VP_REGISTER_NAME ((HRESULT)0x80370309L)
#endif
#ifndef WHV_E_UNSUPPORTED_PROCESSOR_CONFIG
#define WHV_E_UNSUPPORTED_PROCESSOR_CONFIG ((HRESULT)0x80370310L)
#endif

#endif /* OPENWHP_WINTYPES_H */
