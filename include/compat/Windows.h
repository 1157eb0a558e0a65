/* <Windows.h>, as many Windows programs spell it: the same header as <windows.h>. */
#include "windows.h"
