/* Opt-in <winnt.h> subset: the base types, macros and constants Windows programs use beyond the
 * WHP headers (pointer types, LARGE_INTEGER, MEM_ and PAGE_ flags, the Rtl memory macros, the
 * lock types) and the Interlocked and _Bit* intrinsics, here exported functions of
 * libopenwhp-win32. */
#ifndef OPENWHP_COMPAT_WINNT_H
#define OPENWHP_COMPAT_WINNT_H

#include <openwhp/wintypes.h>
#include <compat/enumflags.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Annotations and declaration helpers ---- */
#define IN
#define OUT
#define OPTIONAL
#define CONST const
#define UNREFERENCED_PARAMETER(p) ((void)(p))
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#define CONTAINING_RECORD(address, type, field)                                                    \
    ((type *)((char *)(address) - offsetof(type, field)))
#define RTL_NUMBER_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ARRAYSIZE(a) RTL_NUMBER_OF(a)
#define _countof(a) RTL_NUMBER_OF(a)

/* ---- More base types (LLP64 sizes, as wintypes.h) ---- */
typedef BYTE *PBYTE, *LPBYTE;
typedef CHAR *PCHAR, *PSTR, *LPSTR;
typedef const CHAR *PCSTR, *LPCSTR;
typedef WCHAR *PWCHAR, *PWSTR, *LPWSTR;
typedef const WCHAR *PCWSTR, *LPCWSTR;
typedef DWORD *LPDWORD;
typedef WORD *PWORD, *LPWORD;
typedef LONG *PLONG, *LPLONG;
typedef ULONG *PULONG;
typedef LONG64 *PLONG64;
typedef ULONG64 *PULONG64;
typedef LONGLONG *PLONGLONG;
typedef ULONGLONG *PULONGLONG;
typedef BOOL *LPBOOL;
typedef BOOLEAN *PBOOLEAN;
typedef SIZE_T *PSIZE_T;
typedef ULONG_PTR DWORD_PTR, *PDWORD_PTR;
typedef ULONG_PTR *PULONG_PTR;
typedef HANDLE *LPHANDLE;
typedef float FLOAT;
#ifdef UNICODE
typedef WCHAR TCHAR;
#else
typedef CHAR TCHAR;
#endif
typedef TCHAR *LPTSTR;
typedef const TCHAR *LPCTSTR;

typedef union _LARGE_INTEGER {
    struct {
        DWORD LowPart;
        LONG HighPart;
    };
    struct {
        DWORD LowPart;
        LONG HighPart;
    } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct {
        DWORD LowPart;
        DWORD HighPart;
    };
    struct {
        DWORD LowPart;
        DWORD HighPart;
    } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)

#define MAXBYTE 0xff
#define MAXWORD 0xffff
#define MAXDWORD 0xffffffffu
#define MAXLONG 0x7fffffff
#define MAXLONGLONG ((LONGLONG)0x7fffffffffffffffLL)
#define MAXUINT32 ((UINT32)~((UINT32)0))
#define MAXINT32 ((INT32)(MAXUINT32 >> 1))
#define MAXUINT64 ((UINT64)~((UINT64)0))
#define MAXINT64 ((INT64)(MAXUINT64 >> 1))

/* ---- Virtual memory: VirtualAlloc/VirtualFree types and page protections ---- */
#define PAGE_NOACCESS 0x01
#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04
#define PAGE_WRITECOPY 0x08
#define PAGE_EXECUTE 0x10
#define PAGE_EXECUTE_READ 0x20
#define PAGE_EXECUTE_READWRITE 0x40
#define PAGE_EXECUTE_WRITECOPY 0x80
#define PAGE_GUARD 0x100
#define PAGE_NOCACHE 0x200
#define PAGE_WRITECOMBINE 0x400

#define MEM_COMMIT 0x00001000
#define MEM_RESERVE 0x00002000
#define MEM_DECOMMIT 0x00004000
#define MEM_RELEASE 0x00008000
#define MEM_FREE 0x00010000
#define MEM_PRIVATE 0x00020000
#define MEM_MAPPED 0x00040000
#define MEM_RESET 0x00080000
#define MEM_TOP_DOWN 0x00100000
#define MEM_WRITE_WATCH 0x00200000
#define MEM_PHYSICAL 0x00400000
#define MEM_RESET_UNDO 0x01000000
#define MEM_LARGE_PAGES 0x20000000

/* ---- Memory macros (winnt.h spells them as the C library calls; the functions of the same
 * names are exported too, for callers that cannot use macros) ---- */
VOID WINAPI RtlZeroMemory(VOID *Destination, SIZE_T Length);
VOID WINAPI RtlFillMemory(VOID *Destination, SIZE_T Length, BYTE Fill);
VOID WINAPI RtlCopyMemory(VOID *Destination, const VOID *Source, SIZE_T Length);
VOID WINAPI RtlMoveMemory(VOID *Destination, const VOID *Source, SIZE_T Length);
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlEqualMemory(Destination, Source, Length) (!memcmp((Destination), (Source), (Length)))
#define ZeroMemory RtlZeroMemory
#define FillMemory RtlFillMemory
#define CopyMemory RtlCopyMemory
#define MoveMemory RtlMoveMemory
#define EqualMemory RtlEqualMemory
#define SecureZeroMemory(Destination, Length) RtlSecureZeroMemory((Destination), (Length))
PVOID WINAPI RtlSecureZeroMemory(PVOID Destination, SIZE_T Length);

/* ---- Lock types (functions in winbase.h). The storage is opaque: a critical section holds a
 * recursive pthread mutex; an SRW lock is one pointer-sized word, zero when unlocked. ---- */
typedef struct _RTL_CRITICAL_SECTION {
    union {
        ULONG_PTR Align;
        BYTE Storage[64];
    } Opaque;
} RTL_CRITICAL_SECTION, *PRTL_CRITICAL_SECTION;

typedef struct _RTL_SRWLOCK {
    PVOID Ptr;
} RTL_SRWLOCK, *PRTL_SRWLOCK;
#define RTL_SRWLOCK_INIT {0}

/* ---- Interlocked operations (sequentially consistent; each returns what its Windows
 * namesake returns: the new value for Increment/Decrement/Add, the old one otherwise) ---- */
LONG WINAPI InterlockedIncrement(LONG volatile *Addend);
LONG WINAPI InterlockedDecrement(LONG volatile *Addend);
LONG WINAPI InterlockedExchange(LONG volatile *Target, LONG Value);
LONG WINAPI InterlockedExchangeAdd(LONG volatile *Addend, LONG Value);
LONG WINAPI InterlockedAdd(LONG volatile *Addend, LONG Value);
LONG WINAPI InterlockedCompareExchange(LONG volatile *Destination, LONG ExChange, LONG Comperand);
LONG WINAPI InterlockedAnd(LONG volatile *Destination, LONG Value);
LONG WINAPI InterlockedOr(LONG volatile *Destination, LONG Value);
LONG WINAPI InterlockedXor(LONG volatile *Destination, LONG Value);
LONG64 WINAPI InterlockedIncrement64(LONG64 volatile *Addend);
LONG64 WINAPI InterlockedDecrement64(LONG64 volatile *Addend);
LONG64 WINAPI InterlockedExchange64(LONG64 volatile *Target, LONG64 Value);
LONG64 WINAPI InterlockedExchangeAdd64(LONG64 volatile *Addend, LONG64 Value);
LONG64 WINAPI InterlockedAdd64(LONG64 volatile *Addend, LONG64 Value);
LONG64 WINAPI InterlockedCompareExchange64(LONG64 volatile *Destination, LONG64 ExChange,
                                           LONG64 Comperand);
LONG64 WINAPI InterlockedAnd64(LONG64 volatile *Destination, LONG64 Value);
LONG64 WINAPI InterlockedOr64(LONG64 volatile *Destination, LONG64 Value);
LONG64 WINAPI InterlockedXor64(LONG64 volatile *Destination, LONG64 Value);
PVOID WINAPI InterlockedExchangePointer(PVOID volatile *Target, PVOID Value);
PVOID WINAPI InterlockedCompareExchangePointer(PVOID volatile *Destination, PVOID ExChange,
                                               PVOID Comperand);
VOID WINAPI MemoryBarrier(VOID);

/* ---- Bit intrinsics. _BitScan* return 0 (and leave *Index alone) for a zero mask; _bittest*
 * address bit Offset of the array at Base, as the BT instructions do with memory operands. ---- */
BOOLEAN WINAPI _BitScanForward(ULONG *Index, ULONG Mask);
BOOLEAN WINAPI _BitScanReverse(ULONG *Index, ULONG Mask);
BOOLEAN WINAPI _BitScanForward64(ULONG *Index, ULONG64 Mask);
BOOLEAN WINAPI _BitScanReverse64(ULONG *Index, ULONG64 Mask);
BOOLEAN WINAPI _bittest(const LONG *Base, LONG Offset);
BOOLEAN WINAPI _bittestandset(LONG *Base, LONG Offset);
BOOLEAN WINAPI _bittestandreset(LONG *Base, LONG Offset);
BOOLEAN WINAPI _bittestandcomplement(LONG *Base, LONG Offset);
BOOLEAN WINAPI _bittest64(const LONG64 *Base, LONG64 Offset);
BOOLEAN WINAPI _bittestandset64(LONG64 *Base, LONG64 Offset);
BOOLEAN WINAPI _bittestandreset64(LONG64 *Base, LONG64 Offset);
BOOLEAN WINAPI _bittestandcomplement64(LONG64 *Base, LONG64 Offset);
BOOLEAN WINAPI _interlockedbittestandset(LONG volatile *Base, LONG Offset);
BOOLEAN WINAPI _interlockedbittestandreset(LONG volatile *Base, LONG Offset);
BOOLEAN WINAPI _interlockedbittestandset64(LONG64 volatile *Base, LONG64 Offset);
BOOLEAN WINAPI _interlockedbittestandreset64(LONG64 volatile *Base, LONG64 Offset);
#define BitScanForward _BitScanForward
#define BitScanReverse _BitScanReverse
#define BitScanForward64 _BitScanForward64
#define BitScanReverse64 _BitScanReverse64
#define BitTest _bittest
#define BitTestAndSet _bittestandset
#define BitTestAndReset _bittestandreset
#define BitTestAndComplement _bittestandcomplement
#define BitTest64 _bittest64
#define BitTestAndSet64 _bittestandset64
#define BitTestAndReset64 _bittestandreset64
#define BitTestAndComplement64 _bittestandcomplement64

#ifdef __cplusplus
}
#endif

#endif /* OPENWHP_COMPAT_WINNT_H */
