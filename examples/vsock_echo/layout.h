/* vsock_echo: what the host program and the guest agree on (addresses, the interrupt vector, the
 * vsock port, the report port). Only #defines: the guest's linker script includes it too. */
#ifndef VSOCK_ECHO_LAYOUT_H
#define VSOCK_ECHO_LAYOUT_H

/* Guest RAM is [0, GUEST_RAM_SIZE); the host's page tables identity-map the first GiB (GVA =
 * GPA), which also covers the device's register window. */
#define GUEST_RAM_SIZE 0x200000
#define GUEST_LOAD_GPA 0x100000 /* the guest's flat binary; execution starts at its first byte */
#define VSOCK_MMIO_GPA 0x10000000 /* the virtio-mmio window of the vsock device (not RAM) */

#define VSOCK_IRQ_VECTOR 0x40 /* the device's used-buffer interrupt (fixed, edge, to APIC 0) */
#define GUEST_CID 3           /* the guest's vsock context id */
#define ECHO_PORT 5000        /* the vsock port the guest listens on */

/* The guest reports its progress with a 32-bit OUT to REPORT_PORT. */
#define REPORT_PORT 0x500
#define REPORT_LISTENING 1     /* the driver is up and listens on ECHO_PORT */
#define REPORT_CLOSED 2        /* the echo connection ended with the device's RST */
#define REPORT_FAILED 0x10000 /* | the guest.c line of the check that failed */

#endif
