/* Names for the x86 architectural numbers the library uses: LAPIC register offsets and fields,
 * MSR indices, control-register, EFER and RFLAGS bits (bhyve's apicreg.h and specialreg.h are the
 * model). Code says APIC_OFFSET_ISR, never regs + 0x100. */
#ifndef OPENWHP_X86_H
#define OPENWHP_X86_H

#include <stdint.h>

/* ---- local APIC: offsets in the 4 KiB xAPIC register page (KVM_GET_LAPIC's layout) ---- */
#define APIC_OFFSET_ID 0x20
#define APIC_OFFSET_TPR 0x80
#define APIC_OFFSET_LDR 0xd0
#define APIC_OFFSET_DFR 0xe0
#define APIC_OFFSET_SVR 0xf0
#define APIC_OFFSET_ISR 0x100 /* eight 32-bit words, 16 bytes apart */
#define APIC_OFFSET_TMR 0x180
#define APIC_OFFSET_IRR 0x200
#define APIC_OFFSET_ICR_LO 0x300
#define APIC_OFFSET_ICR_HI 0x310
#define APIC_OFFSET_LVT_LINT0 0x350
#define APIC_OFFSET_LVT_LINT1 0x360
#define APIC_PAGE_USED 1024      /* KVM's kvm_lapic_state.regs holds the first 1 KiB */
#define APIC_REG_STRIDE 16       /* 32-bit registers sit 16 bytes apart */
#define APIC_ID_XAPIC_SHIFT 24   /* xAPIC ID and LDR live in bits 31:24 */
#define APIC_TPR_CLASS_SHIFT 4   /* CR8 = TPR[7:4] */

#define DFR_MODEL_SHIFT 28
#define DFR_MODEL_FLAT 0xfu

#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_DM_SHIFT 8
#define APIC_LVT_DM_MASK 7u
#define APIC_LVT_VECTOR_MASK 0xffu

/* Delivery modes (ICR, LVT and MSI data bits 10:8). */
#define APIC_DM_FIXED 0
#define APIC_DM_LOWPRI 1
#define APIC_DM_SMI 2
#define APIC_DM_NMI 4
#define APIC_DM_INIT 5
#define APIC_DM_STARTUP 6
#define APIC_DM_EXTINT 7

#define APIC_VECTORS 256
#define APIC_FIRST_USABLE_VECTOR 16 /* 0-15 are reserved for exceptions */

/* An MSI: what a device writes where (address bits 31:20 = 0xFEE, destination in 19:12 and,
 * with KVM_X2APIC_API_USE_32BIT_IDS, the upper 24 bits in address_hi 31:8). */
struct msi_msg {
    uint32_t address_lo, address_hi, data;
};
#define MSI_ADDRESS_BASE 0xfee00000u
#define MSI_ADDRESS_BASE_MASK 0xfff00000u
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_LOGICAL (1u << 2)
#define MSI_ADDR_REDIRECTION_HINT (1u << 3)
#define MSI_DATA_DM_SHIFT 8
#define MSI_DATA_ASSERT (1u << 14)
#define MSI_DATA_LEVEL (1u << 15)

/* ---- MSRs ---- */
#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_FEATURE_CONTROL 0x3a
#define MSR_IA32_BIOS_SIGN_ID 0x8b /* microcode update patch level */
#define MSR_IA32_MISC_ENABLE 0x1a0

#define APIC_BASE_X2APIC (1ull << 10) /* IA32_APIC_BASE.EXTD */
#define APIC_BASE_ENABLE (1ull << 11)

/* ---- control registers, EFER, RFLAGS ---- */
#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define CR8_TPR_MASK 0xfull

#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define RFLAGS_FIXED (1ull << 1) /* always set */
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_IOPL_SHIFT 12
#define RFLAGS_IOPL (3ull << RFLAGS_IOPL_SHIFT)
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_VIF (1ull << 19)
#define RFLAGS_VIP (1ull << 20)
/* The flags IRET may set at all (bits 21:0 without the reserved ones). */
#define RFLAGS_IRET_MASK 0x3f7fd7ull

/* ---- paging ---- */
#define X86_PAGE_SIZE 4096ull
#define X86_PAGE_MASK (~(X86_PAGE_SIZE - 1))
#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_US 4ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)

/* ---- instructions ---- */
#define X86_MAX_INSN_LEN 15

#endif
