/* Opt-in <windows.h> replacement: with include/compat on the include path, Windows programs that
 * include <windows.h> for the WHP API get the openwhp base types and error codes instead. */
#ifndef OPENWHP_COMPAT_WINDOWS_H
#define OPENWHP_COMPAT_WINDOWS_H

#include <openwhp/wintypes.h>

/* ==== Win32 event functions (CreateEvent, SetEvent, WaitForSingleObject, CloseHandle, ...) ====
 * Reserved for the events engineer: declarations go here, between these two markers. */

/* ==== end of Win32 event functions ==== */

#endif /* OPENWHP_COMPAT_WINDOWS_H */
