/* The library's view of event HANDLEs: the eventfd behind one, or -1 if it is not an event. */
#ifndef OPENWHP_EVENT_INTERNAL_H
#define OPENWHP_EVENT_INTERNAL_H

#include <openwhp/event.h>

int evt_fd(HANDLE h);

#endif
