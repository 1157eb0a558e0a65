/* Opt-in <winerror.h> replacement: HRESULT helpers, Win32, ERROR_HV_* and WHV_E_* codes come from
 * the openwhp base-type header. */
#ifndef OPENWHP_COMPAT_WINERROR_H
#define OPENWHP_COMPAT_WINERROR_H

#include <openwhp/wintypes.h>

#endif /* OPENWHP_COMPAT_WINERROR_H */
