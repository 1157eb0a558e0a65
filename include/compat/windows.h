/* Opt-in <windows.h> replacement for WHP programs on Linux: with include/compat first on the
 * include path (pkg-config winhvplatform-win32), a program that includes <windows.h> (or
 * <Windows.h>) gets the C library headers Windows programs rely on, the base types and macros,
 * the error codes and the Win32 functions of libopenwhp-win32 (<winbase.h>). */
#ifndef OPENWHP_COMPAT_WINDOWS_H
#define OPENWHP_COMPAT_WINDOWS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <compat/winbase.h>

/* ---- minwindef.h macros ---- */
#define MAX_PATH 260
#define MAKEWORD(a, b) ((WORD)(((BYTE)((DWORD_PTR)(a) & 0xff)) | ((WORD)((BYTE)((DWORD_PTR)(b) & 0xff))) << 8))
#define MAKELONG(a, b) ((LONG)(((WORD)((DWORD_PTR)(a) & 0xffff)) | ((DWORD)((WORD)((DWORD_PTR)(b) & 0xffff))) << 16))
#define LOWORD(l) ((WORD)((DWORD_PTR)(l) & 0xffff))
#define HIWORD(l) ((WORD)((DWORD_PTR)(l) >> 16))
#define LOBYTE(w) ((BYTE)((DWORD_PTR)(w) & 0xff))
#define HIBYTE(w) ((BYTE)((DWORD_PTR)(w) >> 8))

/* As windows.h: min and max are macros in C unless NOMINMAX (C++ has std::min/std::max). */
#if !defined(NOMINMAX) && !defined(__cplusplus)
#ifndef max
#define max(a, b) (((a) > (b)) ? (a) : (b))
#endif
#ifndef min
#define min(a, b) (((a) < (b)) ? (a) : (b))
#endif
#endif

#endif /* OPENWHP_COMPAT_WINDOWS_H */
