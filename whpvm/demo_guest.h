/* whpvm-demo's guest half (demo_guest.c, compiled with the guest code options) and what the host
 * half (demo.c) shares with it: the command each VP runs next and the guest's configuration. */
#ifndef WHPVM_DEMO_GUEST_H
#define WHPVM_DEMO_GUEST_H

#include <stdint.h>

#include "guest.h"

#define DEMO_READY 0xDE30
#define DEMO_VPS 2
#define DEMO_MSG_SINT 2
#define DEMO_MSG_VECTOR 0x70
#define DEMO_EVT_SINT 3
#define DEMO_EVT_VECTOR 0x71

enum { DEMO_OP_NONE, DEMO_OP_WAIT, DEMO_OP_SEND_IPI, DEMO_OP_DOORBELL, DEMO_OP_WAIT_MSG, DEMO_OP_WAIT_EVT,
       DEMO_OP_SIGNAL };

struct demo_cmd {
    uint64_t op, a, b;
};

struct demo_cfg {
    uint64_t hypercall; /* GPA */
    uint32_t x2apic;
    struct {
        uint64_t simp, siefp, input; /* GPAs */
    } vp[DEMO_VPS];
};

/* The guest's globals (the host reaches them at the same addresses in the guest: demo_cfg with
 * sync_global_to_guest, the others through guest_vm_gva2hva); demo_irq_count points at the
 * guest's interrupt counters, per APIC ID and vector. */
extern volatile struct demo_cmd demo_cmd[DEMO_VPS];
extern struct demo_cfg demo_cfg;
extern volatile uint32_t (*const demo_irq_count)[256];

/* Each VP's entry: sets up its APIC and SynIC, then GUEST_SYNC(DEMO_READY, index, r0, r1) with
 * interrupts off and runs demo_cmd[index], forever. */
void demo_guest_main(uint64_t index);

#endif
