/* whpvm's built-in demo (whpvm without -kernel): a guest on two VPs that goes through every
 * interrupt and event path of the WHP API once per delivery and reports, per path, whether the
 * guest or the host observed the effect, how many deliveries worked and their median latency. */
#ifndef WHPVM_DEMO_H
#define WHPVM_DEMO_H

#include <stdbool.h>

/* Runs the demo on a partition of nr_vps (2..16) processors, of which VPs 0 and 1 are used;
 * prints a table, or one JSON document when json is set, on stdout. Returns the exit status:
 * 0 when every path worked, 1 when one did not, 2 when the demo could not start. */
int demo_run(unsigned nr_vps, bool json);

#endif
