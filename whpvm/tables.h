/* whpvm's firmware tables: ACPI (RSDP 2.0, RSDT, XSDT, FADT, FACS, empty DSDT, MADT) and the
 * Intel MP tables (floating pointer, configuration table), written into the legacy BIOS area of
 * a guest-RAM buffer the caller owns. Pure: no hypervisor calls, so unit tests parse them back. */
#ifndef WHPVM_TABLES_H
#define WHPVM_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TABLES_MAX_VCPUS 255u /* xAPIC IDs 0..254; 0xFF is the broadcast ID */
#define TABLES_DEFAULT_BASE 0xF0000u
#define TABLES_DEFAULT_SIZE 0x10000u
#define TABLES_SCI_IRQ 9u /* the SCI: ISA IRQ 9, level-triggered, active low */

/* FADT IAPC_BOOT_ARCH bits. */
#define TABLES_BOOT_LEGACY_DEVICES (1u << 0)
#define TABLES_BOOT_8042 (1u << 1)
#define TABLES_BOOT_NO_VGA (1u << 2)
#define TABLES_BOOT_NO_MSI (1u << 3)
#define TABLES_BOOT_NO_CMOS_RTC (1u << 5)

struct tables_config {
    unsigned nvcpus;          /* 1..TABLES_MAX_VCPUS; local APIC IDs 0..nvcpus-1, VP 0 the BSP */
    uint8_t ioapic_id;        /* 0..15 (the ID register has 4 bits) */
    uint32_t ioapic_addr;     /* 0xFEC00000 */
    uint32_t ioapic_gsi_base; /* 0 */
    uint32_t lapic_addr;      /* 0xFEE00000 */
    uint16_t pm1a_evt_port;   /* PM1a event block (4 ports), 0: none */
    uint16_t pm1a_cnt_port;   /* PM1a control block (2 ports), 0: none */
    uint16_t pm_timer_port;   /* ACPI PM timer (4 ports), e.g. 0x608; must not be 0 */
    bool pm_timer_32bit;      /* FADT TMR_VAL_EXT: the timer counts 32 bits, else 24 */
    bool pcat_compat;         /* MADT PCAT_COMPAT: a dual 8259 PIC is present */
    uint16_t iapc_boot_arch;  /* TABLES_BOOT_* */
    /* The region the tables go to: base 16-aligned, [base, base + size) inside [0xF0000,
     * 0x100000) (the MP floating pointer must lie there; Linux scans 0xE0000-0xFFFFF for the
     * RSDP) and inside RAM. The RSDP is at base, the MP floating pointer at base + 0x30, then
     * FACS (64-aligned), DSDT, FADT, MADT, RSDT, XSDT and the MP configuration table. */
    uint64_t base;
    uint64_t size;
};

struct tables_result {
    uint64_t rsdp, rsdt, xsdt, fadt, facs, dsdt, madt; /* GPAs */
    uint64_t mpfp, mpc;
    uint64_t end; /* first byte after the last table */
};

/* Fills cfg with whpvm's board: nvcpus VPs, IOAPIC id 0 at 0xFEC00000 with GSI base 0, LAPIC
 * at 0xFEE00000, PM1a event/control blocks at 0x600/0x604 and the PM timer at 0x608 (24-bit),
 * 8259 present, legacy devices and no VGA, tables in [0xF0000, 0x100000). */
void tables_default_config(struct tables_config *cfg, unsigned nvcpus);

/* Writes all tables into ram; every checksum is valid. The region is zeroed first. Returns 0,
 * -EINVAL (bad config, NULL arguments) or -ENOSPC (the tables do not fit the region or RAM). */
int tables_build(uint8_t *ram, size_t ram_size, const struct tables_config *cfg,
                 struct tables_result *out);

#endif
