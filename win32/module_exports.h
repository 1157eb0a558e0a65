/* The export tables of the built-in modules (module_exports.c), sorted by name. */
#ifndef OPENWHP_W32_MODULE_EXPORTS_H
#define OPENWHP_W32_MODULE_EXPORTS_H

#include "w32.h"

struct w32_export {
    const char *name;
    FARPROC proc;
};

extern const struct w32_export w32_winhvplatform_exports[];
extern const size_t w32_winhvplatform_export_count;
extern const struct w32_export w32_winhvemulation_exports[];
extern const size_t w32_winhvemulation_export_count;

#endif
