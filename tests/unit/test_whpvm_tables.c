/* Unit tests of whpvm's firmware tables: every ACPI and MP table is parsed back from guest RAM
 * the way an OS finds it (RSDP scan, XSDT/RSDT, FADT, MADT; MP floating-pointer scan), with its
 * signature, length, checksum and entries checked for 1, 2, 4 and the maximum number of VPs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../whpvm/tables.c"

#include "check.h"

#define RAM_SIZE (2u << 20)
static uint8_t *ram;

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int sums_to_zero(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}

/* An ACPI table at gpa: signature, length bounds, checksum. Returns it or NULL. */
static const uint8_t *acpi_table(uint64_t gpa, const char *sig)
{
    if (gpa + 36 > RAM_SIZE)
        return NULL;
    const uint8_t *t = ram + gpa;
    uint32_t len = get32(t + 4);
    if (memcmp(t, sig, 4) || len < 36 || gpa + len > RAM_SIZE || !sums_to_zero(t, len))
        return NULL;
    return t;
}

/* Finds the RSDP the way Linux does: 16-byte steps through 0xE0000-0xFFFFF. */
static uint64_t scan(const char *sig, size_t len, uint64_t from)
{
    for (uint64_t a = from; a + len <= 0x100000; a += 16)
        if (!memcmp(ram + a, sig, strlen(sig)) && sums_to_zero(ram + a, len))
            return a;
    return 0;
}

static void check_acpi(const struct tables_config *cfg, const struct tables_result *res)
{
    uint64_t rsdp_gpa = scan("RSD PTR ", 20, 0xE0000);
    CHECK(rsdp_gpa == res->rsdp && rsdp_gpa % 16 == 0 && rsdp_gpa >= 0xE0000);
    const uint8_t *rsdp = ram + rsdp_gpa;
    CHECK(rsdp[15] == 2 && get32(rsdp + 20) == 36);
    CHECK(sums_to_zero(rsdp, 20) && sums_to_zero(rsdp, 36));
    CHECK(memcmp(rsdp + 9, "OPNWHP", 6) == 0);

    const uint8_t *rsdt = acpi_table(get32(rsdp + 16), "RSDT");
    const uint8_t *xsdt = acpi_table(get64(rsdp + 24), "XSDT");
    CHECK(rsdt && xsdt);
    if (!rsdt || !xsdt)
        return;
    CHECK(get32(rsdt + 4) == 36 + 2 * 4 && get32(xsdt + 4) == 36 + 2 * 8);
    CHECK(get32(rsdt + 36) == get64(xsdt + 36) && get32(rsdt + 40) == get64(xsdt + 44));

    const uint8_t *fadt = NULL, *madt = NULL;
    for (int i = 0; i < 2; i++) {
        uint64_t a = get64(xsdt + 36 + 8 * i);
        if (!fadt)
            fadt = acpi_table(a, "FACP");
        if (!madt)
            madt = acpi_table(a, "APIC");
    }
    CHECK(fadt && madt);
    if (!fadt || !madt)
        return;

    /* FADT. */
    CHECK(get32(fadt + 4) == 244 && fadt[8] >= 3);
    CHECK(get16(fadt + 46) == 9);
    CHECK(get32(fadt + 76) == cfg->pm_timer_port && fadt[91] == 4);
    CHECK(get32(fadt + 56) == cfg->pm1a_evt_port && fadt[88] == (cfg->pm1a_evt_port ? 4 : 0));
    CHECK(get32(fadt + 64) == cfg->pm1a_cnt_port && fadt[89] == (cfg->pm1a_cnt_port ? 2 : 0));
    uint32_t flags = get32(fadt + 112);
    CHECK(!!(flags & (1u << 8)) == cfg->pm_timer_32bit);
    CHECK(!(flags & (1u << 20))); /* HW_REDUCED_ACPI off */
    CHECK(flags & 1);            /* WBINVD */
    CHECK(get16(fadt + 109) == cfg->iapc_boot_arch);
    const uint8_t *pmt = fadt + 208; /* X_PM_TMR_BLK */
    CHECK(pmt[0] == 1 && pmt[1] == 32 && pmt[2] == 0 && pmt[3] == 3 &&
          get64(pmt + 4) == cfg->pm_timer_port);
    CHECK(fadt[148] == 1 && get64(fadt + 148 + 4) == cfg->pm1a_evt_port);
    CHECK(fadt[172] == 1 && get64(fadt + 172 + 4) == cfg->pm1a_cnt_port);
    const uint8_t *dsdt = acpi_table(get32(fadt + 40), "DSDT");
    CHECK(dsdt && get32(dsdt + 4) == 36 && dsdt[8] == 2);
    CHECK(get64(fadt + 140) == get32(fadt + 40) && get32(fadt + 40) == res->dsdt);
    uint64_t facs = get32(fadt + 36);
    CHECK(facs == res->facs && facs % 64 == 0 && memcmp(ram + facs, "FACS", 4) == 0 &&
          get32(ram + facs + 4) == 64 && ram[facs + 32] >= 1);
    CHECK(get64(fadt + 132) == 0);

    /* MADT: walk every entry. */
    uint32_t len = get32(madt + 4);
    CHECK(get32(madt + 36) == cfg->lapic_addr);
    CHECK(get32(madt + 40) == (cfg->pcat_compat ? 1u : 0u));
    unsigned nlapic = 0, nioapic = 0, niso = 0, nnmi = 0, other = 0;
    int lapic_ok = 1, ioapic_ok = 0, iso0_ok = 0, iso9_ok = 0, nmi_ok = 0, walk_ok = 1;
    for (uint32_t off = 44; off < len;) {
        const uint8_t *e = madt + off;
        if (off + 2 > len || e[1] < 2 || off + e[1] > len) {
            walk_ok = 0;
            break;
        }
        switch (e[0]) {
        case 0:
            lapic_ok &= e[1] == 8 && e[2] == nlapic && e[3] == nlapic && get32(e + 4) == 1;
            nlapic++;
            break;
        case 1:
            ioapic_ok = e[1] == 12 && e[2] == cfg->ioapic_id && get32(e + 4) == cfg->ioapic_addr &&
                        get32(e + 8) == cfg->ioapic_gsi_base;
            nioapic++;
            break;
        case 2:
            if (e[1] == 10 && e[2] == 0 && e[3] == 0)
                iso0_ok = get32(e + 4) == cfg->ioapic_gsi_base + 2 && get16(e + 8) == 0;
            if (e[1] == 10 && e[2] == 0 && e[3] == 9)
                iso9_ok = get32(e + 4) == cfg->ioapic_gsi_base + 9 && get16(e + 8) == 0xF;
            niso++;
            break;
        case 4:
            nmi_ok = e[1] == 6 && e[2] == 0xFF && e[5] == 1;
            nnmi++;
            break;
        default:
            other++;
        }
        off += e[1];
    }
    CHECK(walk_ok);
    CHECK(nlapic == cfg->nvcpus && lapic_ok);
    CHECK(nioapic == 1 && ioapic_ok);
    CHECK(niso == 2 && iso0_ok && iso9_ok);
    CHECK(nnmi == 1 && nmi_ok && other == 0);
    CHECK(len == 44 + 8 * cfg->nvcpus + 12 + 20 + 6);
}

static void check_mp(const struct tables_config *cfg, const struct tables_result *res)
{
    uint64_t fp_gpa = scan("_MP_", 16, 0xF0000);
    CHECK(fp_gpa == res->mpfp && fp_gpa % 16 == 0);
    const uint8_t *fp = ram + fp_gpa;
    CHECK(fp[8] == 1 && fp[9] == 4 && fp[11] == 0 && fp[12] == 0);
    uint64_t mpc_gpa = get32(fp + 4);
    CHECK(mpc_gpa == res->mpc && mpc_gpa + 44 <= RAM_SIZE);
    const uint8_t *t = ram + mpc_gpa;
    uint16_t len = get16(t + 4), count = get16(t + 34);
    CHECK(memcmp(t, "PCMP", 4) == 0 && t[6] == 4 && mpc_gpa + len <= RAM_SIZE);
    CHECK(sums_to_zero(t, len));
    CHECK(get32(t + 36) == cfg->lapic_addr);
    CHECK(get16(t + 40) == 0 && get32(t + 28) == 0);
    CHECK(res->end == mpc_gpa + len);

    unsigned ncpu = 0, nbus = 0, nioapic = 0, nint = 0, nlint = 0, n = 0;
    int cpu_ok = 1, bus_ok = 0, ioapic_ok = 0, ints_ok = 1, order_ok = 1, extint = 0, nmi = 0;
    unsigned seen_irq = 0, last_type = 0;
    uint32_t off = 44;
    for (; n < count && off < len; n++) {
        const uint8_t *e = t + off;
        order_ok &= e[0] >= last_type;
        last_type = e[0];
        if (e[0] == 0) {
            cpu_ok &= e[1] == ncpu && (e[3] & 1) && !!(e[3] & 2) == (ncpu == 0) &&
                      off + 20 <= len;
            ncpu++;
            off += 20;
            continue;
        }
        if (e[0] == 1) {
            bus_ok = e[1] == 0 && memcmp(e + 2, "ISA   ", 6) == 0;
            nbus++;
        } else if (e[0] == 2) {
            ioapic_ok = e[1] == cfg->ioapic_id && (e[3] & 1) && get32(e + 4) == cfg->ioapic_addr;
            nioapic++;
        } else if (e[0] == 3) {
            unsigned irq = e[5];
            ints_ok &= e[1] == 0 && e[4] == 0 && e[6] == cfg->ioapic_id && irq < 16 &&
                       e[7] == (irq == 0 ? 2 : irq) && get16(e + 2) == (irq == 9 ? 0xF : 0);
            seen_irq |= 1u << (irq & 15);
            nint++;
        } else if (e[0] == 4) {
            extint += e[1] == 3 && e[6] == 0xFF && e[7] == 0;
            nmi += e[1] == 1 && e[6] == 0xFF && e[7] == 1;
            nlint++;
        }
        off += 8;
    }
    CHECK(n == count && off == len);
    CHECK(order_ok);
    CHECK(ncpu == cfg->nvcpus && cpu_ok);
    CHECK(nbus == 1 && bus_ok);
    CHECK(nioapic == 1 && ioapic_ok);
    CHECK(nint == 15 && ints_ok && seen_irq == 0xFFFB); /* all but the cascade IRQ 2 */
    CHECK(nlint == 2 && extint == 1 && nmi == 1);
}

static void test_build(unsigned nvcpus, int variant)
{
    struct tables_config cfg;
    struct tables_result res;
    tables_default_config(&cfg, nvcpus);
    if (variant) {
        cfg.ioapic_id = (uint8_t)(nvcpus & 15);
        cfg.ioapic_gsi_base = 0;
        cfg.pm_timer_port = 0xB008;
        cfg.pm1a_evt_port = 0;
        cfg.pm1a_cnt_port = 0;
        cfg.pm_timer_32bit = true;
        cfg.pcat_compat = false;
        cfg.iapc_boot_arch = TABLES_BOOT_8042;
        cfg.base = nvcpus > 64 ? 0xF8000 : 0xFF000; /* a region ending at 1 MiB */
        cfg.size = 0x100000 - cfg.base;
    }
    memset(ram, 0xCC, RAM_SIZE);
    int r = tables_build(ram, RAM_SIZE, &cfg, &res);
    CHECK(r == 0);
    if (r)
        return;
    CHECK(res.rsdp == cfg.base && res.end <= cfg.base + cfg.size);
    CHECK(ram[cfg.base - 1] == 0xCC);
    if (cfg.base + cfg.size < RAM_SIZE)
        CHECK(ram[cfg.base + cfg.size] == 0xCC);
    check_acpi(&cfg, &res);
    check_mp(&cfg, &res);
}

static void test_errors(void)
{
    struct tables_config cfg;
    struct tables_result res;
    memset(ram, 0xCC, RAM_SIZE);
    tables_default_config(&cfg, 0);
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    tables_default_config(&cfg, 256);
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    tables_default_config(&cfg, 1);
    cfg.ioapic_id = 16;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    tables_default_config(&cfg, 1);
    cfg.pm_timer_port = 0;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    tables_default_config(&cfg, 1);
    cfg.base = 0xF0008;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    cfg.base = 0xE0000;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    cfg.base = 0x100000;
    cfg.size = 0x1000;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    cfg.base = 0xF0000;
    cfg.size = 0x10001;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    cfg.size = UINT64_MAX;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -EINVAL);
    cfg.size = 0x100; /* too small for the tables */
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -ENOSPC);
    tables_default_config(&cfg, 255);
    cfg.base = 0xFF800;
    cfg.size = 0x800;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -ENOSPC);
    tables_default_config(&cfg, 1);
    CHECK(tables_build(ram, 0xFFFFF, &cfg, &res) == -ENOSPC); /* RAM ends inside the region */
    CHECK(tables_build(ram, 0x10000, &cfg, &res) == -ENOSPC);
    CHECK(tables_build(NULL, RAM_SIZE, &cfg, &res) == -EINVAL);
    CHECK(tables_build(ram, RAM_SIZE, NULL, &res) == -EINVAL);
    CHECK(tables_build(ram, RAM_SIZE, &cfg, NULL) == -EINVAL);
    int untouched = 1;
    for (size_t i = 0; i < RAM_SIZE; i++)
        untouched &= ram[i] == 0xCC;
    CHECK(untouched);

    /* The minimum region that fits exactly. */
    tables_default_config(&cfg, 4);
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == 0);
    cfg.size = res.end - cfg.base;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == 0);
    cfg.size--;
    CHECK(tables_build(ram, RAM_SIZE, &cfg, &res) == -ENOSPC);
}

static void test_defaults(void)
{
    struct tables_config cfg;
    tables_default_config(&cfg, 2);
    CHECK(cfg.nvcpus == 2 && cfg.ioapic_addr == 0xFEC00000u && cfg.lapic_addr == 0xFEE00000u);
    CHECK(cfg.ioapic_gsi_base == 0 && cfg.pm_timer_port == 0x608);
    CHECK(cfg.base == 0xF0000 && cfg.size == 0x10000);
}

int main(void)
{
    ram = malloc(RAM_SIZE);
    if (!ram)
        return 1;
    test_defaults();
    static const unsigned counts[] = {1, 2, 4, 16, 64, 255};
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        test_build(counts[i], 0);
        test_build(counts[i], 1);
    }
    test_errors();
    free(ram);
    return check_report();
}
