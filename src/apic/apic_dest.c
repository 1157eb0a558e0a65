/* Pure APIC destination logic: the SDM's matching rules for physical, logical flat, logical
 * cluster and x2APIC logical destinations, and MSI encoding. No KVM, no locks. */
#include "apic/apic_dest.h"

#include <string.h>

static uint32_t reg(const uint8_t *page, unsigned off)
{
    uint32_t v;
    memcpy(&v, page + off, 4);
    return v;
}

void apic_id_state_from_page(const uint8_t *page, uint64_t apic_base, struct apic_id_state *s)
{
    s->x2apic = (apic_base >> 10) & 1;
    s->present = (apic_base >> 11) & 1; /* globally enabled */
    uint32_t id = reg(page, 0x20);
    s->id = s->x2apic ? id : id >> 24;
    s->ldr = reg(page, 0xd0);
    s->dfr = reg(page, 0xe0);
}

bool apic_dest_matches(const struct apic_id_state *s, uint64_t dest, bool logical)
{
    if (!s->present)
        return false;
    if (s->x2apic) {
        uint32_t d = (uint32_t)dest;
        if (d == 0xffffffffu)
            return true;
        if (!logical)
            return d == s->id;
        return (d >> 16) == (s->ldr >> 16) && (d & s->ldr & 0xffff) != 0;
    }
    uint8_t d = (uint8_t)dest;
    if (d == 0xff)
        return true;
    if (!logical)
        return d == (uint8_t)s->id;
    uint8_t ldr = (uint8_t)(s->ldr >> 24);
    if ((s->dfr >> 28) == 0xf) /* flat model */
        return (d & ldr) != 0;
    /* cluster model: high nibble selects the cluster, low nibble a mask within it */
    return (d >> 4) == (ldr >> 4) && (d & ldr & 0xf) != 0;
}

struct apic_msi apic_msi_encode(unsigned delivery_mode, bool logical, bool level, uint32_t dest,
                                uint8_t vector)
{
    struct apic_msi m;
    m.address_lo = 0xfee00000u | ((dest & 0xff) << 12) | (logical ? 1u << 2 : 0) |
                   (delivery_mode == 1 ? 1u << 3 : 0); /* redirection hint for lowest priority */
    m.address_hi = dest & 0xffffff00u;
    m.data = vector | (delivery_mode & 7) << 8 | 1u << 14 /* assert */ | (level ? 1u << 15 : 0);
    return m;
}
