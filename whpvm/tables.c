/* whpvm's ACPI and MP tables: the layout is computed from the configuration and checked against
 * the region before a byte is written; each table is then filled field by field (little-endian)
 * and checksummed. Layouts: ACPI 6.x sections 5.2.5-5.2.12 (FADT revision 3), MP spec 1.4. */
#include "tables.h"

#include <errno.h>
#include <string.h>

#define BIOS_AREA_START 0xF0000u /* MP floating pointer: 0xF0000-0xFFFFF */
#define BIOS_AREA_END 0x100000u

#define ACPI_OEM_ID "OPNWHP"      /* 6 bytes */
#define ACPI_OEM_TABLE_ID "WHPVM   " /* 8 bytes */
#define ACPI_CREATOR_ID "OWHP"    /* 4 bytes */
#define ACPI_HEADER_SIZE 36u

#define RSDP_SIZE 36u
#define MPFP_OFFSET 0x30u
#define MPFP_SIZE 16u
#define FACS_SIZE 64u
#define FADT_SIZE 244u
#define FADT_REVISION 3u
#define MADT_LAPIC_SIZE 8u
#define MADT_IOAPIC_SIZE 12u
#define MADT_ISO_SIZE 10u
#define MADT_LAPIC_NMI_SIZE 6u
#define MPC_HEADER_SIZE 44u
#define MPC_CPU_SIZE 20u
#define MPC_ENTRY_SIZE 8u
#define MP_ISA_IRQS 16u

/* FADT flags. */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4)
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_FIX_RTC (1u << 6)
#define FADT_TMR_VAL_EXT (1u << 8)

/* MADT / MP interrupt flags: polarity in bits 0-1, trigger mode in bits 2-3. */
#define INTI_ACTIVE_LOW 3u
#define INTI_LEVEL (3u << 2)

#define GAS_SYSTEM_IO 1u
#define GAS_ACCESS_WORD 2u
#define GAS_ACCESS_DWORD 3u

struct layout {
    uint64_t rsdp, mpfp, facs, dsdt, fadt, madt, rsdt, xsdt, mpc, end;
    uint32_t madt_len, mpc_len, mpc_entries;
};

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)v);
    wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* The byte that makes the n bytes at p sum to zero, given that it is stored among them as 0. */
static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)(0x100 - sum);
}

static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    wr32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, ACPI_OEM_ID, 6);
    memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
    wr32(t + 24, 1);
    memcpy(t + 28, ACPI_CREATOR_ID, 4);
    wr32(t + 32, 1);
}

static void acpi_checksum(uint8_t *t, uint32_t len)
{
    t[9] = checksum(t, len);
}

/* A Generic Address Structure in system I/O space. */
static void gas_io(uint8_t *g, uint8_t bits, uint8_t access, uint16_t port)
{
    g[0] = GAS_SYSTEM_IO;
    g[1] = port ? bits : 0;
    g[2] = 0;
    g[3] = port ? access : 0;
    wr64(g + 4, port);
}

void tables_default_config(struct tables_config *cfg, unsigned nvcpus)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nvcpus = nvcpus;
    cfg->ioapic_id = 0;
    cfg->ioapic_addr = 0xFEC00000u;
    cfg->ioapic_gsi_base = 0;
    cfg->lapic_addr = 0xFEE00000u;
    cfg->pm1a_evt_port = 0x600;
    cfg->pm1a_cnt_port = 0x604;
    cfg->pm_timer_port = 0x608;
    cfg->pm_timer_32bit = false;
    cfg->pcat_compat = true;
    cfg->iapc_boot_arch = TABLES_BOOT_LEGACY_DEVICES | TABLES_BOOT_NO_VGA;
    cfg->base = TABLES_DEFAULT_BASE;
    cfg->size = TABLES_DEFAULT_SIZE;
}

static int plan(const struct tables_config *cfg, size_t ram_size, struct layout *l)
{
    if (cfg->nvcpus < 1 || cfg->nvcpus > TABLES_MAX_VCPUS || cfg->ioapic_id > 15 ||
        !cfg->pm_timer_port || cfg->base % 16)
        return -EINVAL;
    if (cfg->base < BIOS_AREA_START || cfg->base >= BIOS_AREA_END ||
        cfg->size > BIOS_AREA_END - cfg->base)
        return -EINVAL;
    if (cfg->base + cfg->size > ram_size)
        return -ENOSPC;

    uint64_t n = cfg->nvcpus;
    l->madt_len = (uint32_t)(ACPI_HEADER_SIZE + 8 + n * MADT_LAPIC_SIZE + MADT_IOAPIC_SIZE +
                             2 * MADT_ISO_SIZE + MADT_LAPIC_NMI_SIZE);
    l->mpc_entries = (uint32_t)(n + 1 + 1 + (MP_ISA_IRQS - 1) + 2);
    l->mpc_len = (uint32_t)(MPC_HEADER_SIZE + n * MPC_CPU_SIZE +
                            (l->mpc_entries - n) * MPC_ENTRY_SIZE);

    l->rsdp = cfg->base;
    l->mpfp = cfg->base + MPFP_OFFSET;
    l->facs = align_up(l->mpfp + MPFP_SIZE, 64);
    l->dsdt = align_up(l->facs + FACS_SIZE, 16);
    l->fadt = align_up(l->dsdt + ACPI_HEADER_SIZE, 16);
    l->madt = align_up(l->fadt + FADT_SIZE, 16);
    l->rsdt = align_up(l->madt + l->madt_len, 16);
    l->xsdt = align_up(l->rsdt + ACPI_HEADER_SIZE + 2 * 4, 16);
    l->mpc = align_up(l->xsdt + ACPI_HEADER_SIZE + 2 * 8, 16);
    l->end = l->mpc + l->mpc_len;
    return l->end > cfg->base + cfg->size ? -ENOSPC : 0;
}

static void build_fadt(uint8_t *ram, const struct tables_config *cfg, const struct layout *l)
{
    uint8_t *t = ram + l->fadt;
    uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_FIX_RTC;
    if (cfg->pm_timer_32bit)
        flags |= FADT_TMR_VAL_EXT;

    acpi_header(t, "FACP", FADT_SIZE, FADT_REVISION);
    wr32(t + 36, (uint32_t)l->facs);
    wr32(t + 40, (uint32_t)l->dsdt);
    wr16(t + 46, TABLES_SCI_IRQ);
    wr32(t + 56, cfg->pm1a_evt_port);
    wr32(t + 64, cfg->pm1a_cnt_port);
    wr32(t + 76, cfg->pm_timer_port);
    t[88] = cfg->pm1a_evt_port ? 4 : 0;
    t[89] = cfg->pm1a_cnt_port ? 2 : 0;
    t[91] = 4;
    wr16(t + 96, 101);  /* P_LVL2_LAT > 100: no C2 */
    wr16(t + 98, 1001); /* P_LVL3_LAT > 1000: no C3 */
    wr16(t + 109, cfg->iapc_boot_arch);
    wr32(t + 112, flags);
    wr64(t + 140, l->dsdt); /* X_DSDT; X_FIRMWARE_CTRL stays 0, FIRMWARE_CTRL holds the FACS */
    gas_io(t + 148, 32, GAS_ACCESS_WORD, cfg->pm1a_evt_port);
    gas_io(t + 172, 16, GAS_ACCESS_WORD, cfg->pm1a_cnt_port);
    gas_io(t + 208, 32, GAS_ACCESS_DWORD, cfg->pm_timer_port);
    acpi_checksum(t, FADT_SIZE);
}

static void build_madt(uint8_t *ram, const struct tables_config *cfg, const struct layout *l)
{
    uint8_t *t = ram + l->madt, *e = t + ACPI_HEADER_SIZE + 8;

    acpi_header(t, "APIC", l->madt_len, 3);
    wr32(t + 36, cfg->lapic_addr);
    wr32(t + 40, cfg->pcat_compat ? 1 : 0);
    for (unsigned i = 0; i < cfg->nvcpus; i++, e += MADT_LAPIC_SIZE) {
        e[0] = 0;
        e[1] = MADT_LAPIC_SIZE;
        e[2] = (uint8_t)i; /* ACPI processor UID */
        e[3] = (uint8_t)i; /* APIC ID */
        wr32(e + 4, 1);    /* enabled */
    }
    e[0] = 1;
    e[1] = MADT_IOAPIC_SIZE;
    e[2] = cfg->ioapic_id;
    wr32(e + 4, cfg->ioapic_addr);
    wr32(e + 8, cfg->ioapic_gsi_base);
    e += MADT_IOAPIC_SIZE;

    /* Interrupt source overrides: the PIT's IRQ 0 on GSI 2; the SCI level-triggered active low. */
    static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } iso[2] = {
        {0, 2, 0},
        {TABLES_SCI_IRQ, TABLES_SCI_IRQ, INTI_ACTIVE_LOW | INTI_LEVEL},
    };
    for (unsigned i = 0; i < 2; i++, e += MADT_ISO_SIZE) {
        e[0] = 2;
        e[1] = MADT_ISO_SIZE;
        e[2] = 0; /* bus: ISA */
        e[3] = iso[i].irq;
        wr32(e + 4, cfg->ioapic_gsi_base + iso[i].gsi);
        wr16(e + 8, iso[i].flags);
    }

    /* NMI on LINT1 of every processor. */
    e[0] = 4;
    e[1] = MADT_LAPIC_NMI_SIZE;
    e[2] = 0xFF;
    wr16(e + 3, 0);
    e[5] = 1;
    acpi_checksum(t, l->madt_len);
}

static uint8_t *mp_entry(uint8_t *e, uint8_t type, uint8_t inttype, uint16_t flags, uint8_t irq,
                         uint8_t dst, uint8_t pin)
{
    e[0] = type;
    e[1] = inttype;
    wr16(e + 2, flags);
    e[4] = 0; /* source bus: ISA */
    e[5] = irq;
    e[6] = dst;
    e[7] = pin;
    return e + MPC_ENTRY_SIZE;
}

static void build_mp(uint8_t *ram, const struct tables_config *cfg, const struct layout *l)
{
    uint8_t *fp = ram + l->mpfp, *t = ram + l->mpc, *e = t + MPC_HEADER_SIZE;

    memcpy(t, "PCMP", 4);
    wr16(t + 4, (uint16_t)l->mpc_len);
    t[6] = 4; /* spec revision 1.4 */
    memcpy(t + 8, "OPENWHP ", 8);
    memcpy(t + 16, "WHPVM       ", 12);
    wr16(t + 34, (uint16_t)l->mpc_entries);
    wr32(t + 36, cfg->lapic_addr);

    for (unsigned i = 0; i < cfg->nvcpus; i++, e += MPC_CPU_SIZE) {
        e[0] = 0;
        e[1] = (uint8_t)i;
        e[2] = 0x14;                  /* local APIC version: integrated xAPIC */
        e[3] = i == 0 ? 3 : 1;        /* enabled, BSP on VP 0 */
        wr32(e + 4, 0x600);           /* CPU signature: family 6 */
        wr32(e + 8, (1u << 0) | (1u << 9)); /* features: FPU, APIC */
    }
    e[0] = 1;
    e[1] = 0; /* bus id */
    memcpy(e + 2, "ISA   ", 6);
    e += MPC_ENTRY_SIZE;
    e[0] = 2;
    e[1] = cfg->ioapic_id;
    e[2] = 0x11; /* IOAPIC version, as devices/ioapic reports */
    e[3] = 1;    /* enabled */
    wr32(e + 4, cfg->ioapic_addr);
    e += MPC_ENTRY_SIZE;

    /* ISA IRQs 0-15 on IOAPIC pins of the same number, except the PIT's IRQ 0 on pin 2 and the
     * cascade IRQ 2, which has no source. */
    for (uint8_t irq = 0; irq < MP_ISA_IRQS; irq++) {
        if (irq == 2)
            continue;
        uint16_t flags = irq == TABLES_SCI_IRQ ? INTI_ACTIVE_LOW | INTI_LEVEL : 0;
        e = mp_entry(e, 3, 0, flags, irq, cfg->ioapic_id, irq == 0 ? 2 : irq);
    }
    e = mp_entry(e, 4, 3, 0, 0, 0xFF, 0); /* ExtINT on LINT0 of all processors */
    mp_entry(e, 4, 1, 0, 0, 0xFF, 1);     /* NMI on LINT1 */
    t[7] = checksum(t, l->mpc_len);

    memcpy(fp, "_MP_", 4);
    wr32(fp + 4, (uint32_t)l->mpc);
    fp[8] = 1; /* length in 16-byte units */
    fp[9] = 4;
    fp[10] = checksum(fp, MPFP_SIZE);
}

int tables_build(uint8_t *ram, size_t ram_size, const struct tables_config *cfg,
                 struct tables_result *out)
{
    struct layout l;
    if (!ram || !cfg || !out)
        return -EINVAL;
    int r = plan(cfg, ram_size, &l);
    if (r)
        return r;
    memset(ram + cfg->base, 0, (size_t)cfg->size);

    uint8_t *facs = ram + l.facs;
    memcpy(facs, "FACS", 4);
    wr32(facs + 4, FACS_SIZE);
    facs[32] = 2; /* version */

    acpi_header(ram + l.dsdt, "DSDT", ACPI_HEADER_SIZE, 2);
    acpi_checksum(ram + l.dsdt, ACPI_HEADER_SIZE);
    build_fadt(ram, cfg, &l);
    build_madt(ram, cfg, &l);

    uint8_t *rsdt = ram + l.rsdt, *xsdt = ram + l.xsdt;
    acpi_header(rsdt, "RSDT", ACPI_HEADER_SIZE + 8, 1);
    wr32(rsdt + 36, (uint32_t)l.fadt);
    wr32(rsdt + 40, (uint32_t)l.madt);
    acpi_checksum(rsdt, ACPI_HEADER_SIZE + 8);
    acpi_header(xsdt, "XSDT", ACPI_HEADER_SIZE + 16, 1);
    wr64(xsdt + 36, l.fadt);
    wr64(xsdt + 44, l.madt);
    acpi_checksum(xsdt, ACPI_HEADER_SIZE + 16);

    uint8_t *rsdp = ram + l.rsdp;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, ACPI_OEM_ID, 6);
    rsdp[15] = 2; /* ACPI 2.0+ */
    wr32(rsdp + 16, (uint32_t)l.rsdt);
    wr32(rsdp + 20, RSDP_SIZE);
    wr64(rsdp + 24, l.xsdt);
    rsdp[8] = checksum(rsdp, 20);
    rsdp[32] = checksum(rsdp, RSDP_SIZE);

    build_mp(ram, cfg, &l);

    *out = (struct tables_result){
        .rsdp = l.rsdp, .rsdt = l.rsdt, .xsdt = l.xsdt, .fadt = l.fadt, .facs = l.facs,
        .dsdt = l.dsdt, .madt = l.madt, .mpfp = l.mpfp, .mpc = l.mpc, .end = l.end,
    };
    return 0;
}
