/* The public WHP API as the library sees it: every declaration of the SDK headers gets default
 * visibility here, so the library can be built with -fvisibility=hidden and export exactly the API. */
#ifndef OPENWHP_API_H
#define OPENWHP_API_H

#pragma GCC visibility push(default)
#include <WinHvPlatform.h>
#include <WinHvEmulation.h>
#include <openwhp/doorbell.h>
#include <openwhp/event.h>
#include <openwhp/hvsocket.h>
#pragma GCC visibility pop

#endif
