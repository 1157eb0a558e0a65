/* The run loop's exit dispatcher (exit.c). */
#ifndef OPENWHP_EXIT_H
#define OPENWHP_EXIT_H

#include "obj/obj.h"

/* Translates the KVM exit in vp->run into ctx; *again when nothing reaches the VMM (the library
 * handled it) and the guest runs on. */
HRESULT exit_translate(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx, bool *again);

#endif
