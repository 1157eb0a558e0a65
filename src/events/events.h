/* Triggers, doorbells and notification ports: the partition's event objects (events/). The
 * rest of the library only creates and destroys the subsystem's state. */
#ifndef OPENWHP_EVENTS_H
#define OPENWHP_EVENTS_H

#include "obj/obj.h"

int events_part_init(struct whp_partition *p);
/* Partition teardown, before the VPs go: stops the SynicEvent worker (which would otherwise
 * keep setting flags through them) and frees every event object. */
void events_part_fini(struct whp_partition *p);

#endif
