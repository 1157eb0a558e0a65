/* <winhvplatformdefs.h> is <WinHvPlatformDefs.h> under the lowercase name that mingw-w64
 * installs and that QEMU's WHPX includes (file names are case-sensitive here). */
#include <WinHvPlatformDefs.h>
