/* <winhvemulation.h> is <WinHvEmulation.h> under the lowercase name that mingw-w64
 * installs and that QEMU's WHPX includes (file names are case-sensitive here). */
#include <WinHvEmulation.h>
