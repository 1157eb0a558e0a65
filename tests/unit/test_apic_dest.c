/* Unit tests of the pure APIC destination logic: every addressing mode of the SDM and the MSI
 * encoding KVM expects. */
#include <stdio.h>
#include <string.h>

#include "apic/apic_dest.h"

#include "check.h"

static struct apic_id_state xapic(uint32_t id, uint8_t ldr, bool flat)
{
    return (struct apic_id_state){id, (uint32_t)ldr << 24, flat ? 0xffffffffu : 0x0fffffffu,
                                  false, true};
}

static struct apic_id_state x2apic(uint32_t id)
{
    uint32_t ldr = ((id >> 4) << 16) | (1u << (id & 0xf));
    return (struct apic_id_state){id, ldr, 0, true, true};
}

int main(void)
{
    /* physical */
    struct apic_id_state a = xapic(3, 0x08, true);
    CHECK(apic_dest_matches(&a, 3, false));
    CHECK(!apic_dest_matches(&a, 2, false));
    CHECK(apic_dest_matches(&a, 0xff, false)); /* broadcast */
    /* logical flat: bitmask */
    CHECK(apic_dest_matches(&a, 0x08, true));
    CHECK(apic_dest_matches(&a, 0x0c, true));
    CHECK(!apic_dest_matches(&a, 0x04, true));
    /* logical cluster: cluster 2, member bit 1 */
    struct apic_id_state c = xapic(5, 0x22, false);
    CHECK(apic_dest_matches(&c, 0x22, true));
    CHECK(apic_dest_matches(&c, 0x23, true));
    CHECK(!apic_dest_matches(&c, 0x12, true));
    CHECK(!apic_dest_matches(&c, 0x21, true));
    CHECK(apic_dest_matches(&c, 0xff, true));
    /* x2APIC physical and logical */
    struct apic_id_state x = x2apic(0x13);
    CHECK(apic_dest_matches(&x, 0x13, false));
    CHECK(!apic_dest_matches(&x, 0x03, false));
    CHECK(apic_dest_matches(&x, 0xffffffffu, false));
    CHECK(!apic_dest_matches(&x, 0xff, false)); /* 0xFF is an ordinary ID in x2APIC mode */
    CHECK(apic_dest_matches(&x, (1u << 16) | (1u << 3), true));
    CHECK(!apic_dest_matches(&x, (1u << 16) | (1u << 2), true));
    CHECK(!apic_dest_matches(&x, (0u << 16) | (1u << 3), true));
    /* a globally disabled APIC matches nothing */
    struct apic_id_state off = a;
    off.present = false;
    CHECK(!apic_dest_matches(&off, 0xff, false));
    /* page parsing */
    uint8_t page[1024] = {0};
    uint32_t id = 7u << 24, ldr = 0x40u << 24, dfr = 0xffffffffu;
    memcpy(page + 0x20, &id, 4);
    memcpy(page + 0xd0, &ldr, 4);
    memcpy(page + 0xe0, &dfr, 4);
    struct apic_id_state p;
    apic_id_state_from_page(page, 0xfee00900, &p);
    CHECK(p.id == 7 && !p.x2apic && p.present && apic_dest_matches(&p, 0x40, true));
    /* ApicBase applied later: x2APIC on derives ID and LDR from the vCPU id; disabled is absent */
    struct apic_id_state r = p;
    apic_id_state_rebase(&r, 18, 0xfee00c00);
    CHECK(r.x2apic && r.present && r.id == 18 && r.ldr == (1u << 16 | 1u << 2));
    CHECK(apic_dest_matches(&r, 0x10004, true) && !apic_dest_matches(&r, 0x4, true));
    r = p;
    apic_id_state_rebase(&r, 7, 0xfee00000);
    CHECK(!r.present && !apic_dest_matches(&r, 0xff, false));
    /* MSI encoding */
    struct msi_msg m = apic_msi_encode(0, false, true, 0x1234, 0x41);
    CHECK(m.address_lo == (0xfee00000u | 0x34u << 12));
    CHECK(m.address_hi == 0x1200);
    CHECK(m.data == (0x41u | 1u << 14 | 1u << 15));
    m = apic_msi_encode(1, true, false, 0x3, 0x30);
    CHECK(m.address_lo == (0xfee00000u | 3u << 12 | 1u << 2 | 1u << 3));
    CHECK(m.data == (0x30u | 1u << 8 | 1u << 14));
    m = apic_msi_encode(6, false, false, 1, 0x9);
    CHECK((m.data >> 8 & 7) == 6 && (m.data & 0xff) == 9);

    return check_report();
}
