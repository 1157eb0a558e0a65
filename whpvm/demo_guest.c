/* whpvm-demo's guest: the same loop on both VPs, built on the guest runtime (tests/guest). The
 * only file of whpvm-demo compiled with the guest code options (no red zone, stack protector,
 * CET or libc calls): the host half, demo.c, is hardened like whpvm. */
#include "demo_guest.h"

#include "guest_apic.h"
#include "guest_synic.h"

volatile struct demo_cmd demo_cmd[DEMO_VPS];
struct demo_cfg demo_cfg;
volatile uint32_t (*const demo_irq_count)[256] = irq_count;

/* cli; then sti;hlt until irq_count[id][vector] >= n; returns with interrupts off. */
GUEST_CODE static void demo_wait_vector(uint64_t id, uint64_t vector, uint64_t n)
{
    guest_cli();
    while (irq_count[id][vector & 0xFF] < n) {
        guest_sti_hlt();
        guest_cli();
    }
}

GUEST_CODE void demo_guest_main(uint64_t index)
{
    uint64_t r0 = 0, r1 = 0;

    guest_cli();
    apic_enable(demo_cfg.x2apic);
    for (unsigned v = 32; v < 256; v++)
        guest_install_handler((uint8_t)v, irq_count_handler);
    guest_install_handler(2, irq_count_handler); /* NMI */
    if (index == 0) {
        GUEST_ASSERT(hv_detect());
        hv_hypercall_init(demo_cfg.hypercall);
    }
    GUEST_ASSERT_EQ(hv_synic_init(demo_cfg.vp[index].simp, demo_cfg.vp[index].siefp, demo_cfg.vp[index].input),
                    index);
    hv_sint_setup(DEMO_MSG_SINT, DEMO_MSG_VECTOR, 0);
    hv_sint_setup(DEMO_EVT_SINT, DEMO_EVT_VECTOR, 0);
    for (;;) {
        GUEST_SYNC(DEMO_READY, index, r0, r1);
        uint64_t op = demo_cmd[index].op, a = demo_cmd[index].a, b = demo_cmd[index].b;
        r0 = r1 = 0;
        if (op == DEMO_OP_WAIT) {
            demo_wait_vector(index, a, b);
            r0 = irq_count[index][a & 0xFF];
        } else if (op == DEMO_OP_SEND_IPI) {
            apic_send_ipi((uint32_t)a, 0x4000 | (uint32_t)b); /* fixed, physical, assert */
        } else if (op == DEMO_OP_DOORBELL) {
            guest_write32(a, (uint32_t)b);
        } else if (op == DEMO_OP_WAIT_MSG) {
            hv_wait_count(&hv_synic[index].messages[DEMO_MSG_SINT], (uint32_t)a);
            r0 = hv_synic[index].messages[DEMO_MSG_SINT];
            r1 = hv_synic[index].last_message[DEMO_MSG_SINT].payload[0];
        } else if (op == DEMO_OP_WAIT_EVT) {
            hv_wait_count(&hv_synic[index].events[DEMO_EVT_SINT], (uint32_t)a);
            r0 = hv_synic[index].events[DEMO_EVT_SINT];
            r1 = hv_synic[index].flags_seen[DEMO_EVT_SINT][0];
        } else if (op == DEMO_OP_SIGNAL) {
            r0 = hv_signal_event((uint32_t)a, (uint16_t)b);
        }
    }
}
