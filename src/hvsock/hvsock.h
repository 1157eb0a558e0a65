/* HvSocket (hvsock/): the host socket API over the rendezvous directory. */
#ifndef OPENWHP_HVSOCK_H
#define OPENWHP_HVSOCK_H

#include "obj/obj.h"

/* A random (version 4) GUID: each partition's VM id. */
void hvsock_new_vm_id(GUID *id);

#endif
