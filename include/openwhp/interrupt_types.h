/* TLFS HV_INTERRUPT_TYPE values that WinHvPlatform's WHV_INTERRUPT_TYPE leaves out (WHP defines
 * only Fixed 0, LowestPriority 1, Nmi 4, Init 5, Sipi 6, LocalInt1 9). These are openwhp names for
 * the remaining TLFS / x86 APIC delivery-mode codes, not SDK names. */
#ifndef OPENWHP_INTERRUPT_TYPES_H
#define OPENWHP_INTERRUPT_TYPES_H

#define OPENWHP_X64_INTERRUPT_TYPE_SMI 2
#define OPENWHP_X64_INTERRUPT_TYPE_REMOTE_READ 3
#define OPENWHP_X64_INTERRUPT_TYPE_EXT_INT 7
#define OPENWHP_X64_INTERRUPT_TYPE_LOCAL_INT0 8

#endif /* OPENWHP_INTERRUPT_TYPES_H */
