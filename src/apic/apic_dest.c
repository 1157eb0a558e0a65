/* Pure APIC destination logic: the SDM's matching rules for physical, logical flat, logical
 * cluster and x2APIC logical destinations, and MSI encoding. No KVM, no locks. */
#include "apic/apic_dest.h"

#include "obj/x86.h"

#include <string.h>

static uint32_t reg(const uint8_t *page, unsigned off)
{
    uint32_t v;
    memcpy(&v, page + off, 4);
    return v;
}

void apic_id_state_from_page(const uint8_t *page, uint64_t apic_base, struct apic_id_state *s)
{
    s->x2apic = (apic_base & APIC_BASE_X2APIC) != 0;
    s->present = (apic_base & APIC_BASE_ENABLE) != 0; /* globally enabled */
    uint32_t id = reg(page, APIC_OFFSET_ID);
    s->id = s->x2apic ? id : id >> APIC_ID_XAPIC_SHIFT;
    s->ldr = reg(page, APIC_OFFSET_LDR);
    s->dfr = reg(page, APIC_OFFSET_DFR);
}

void apic_id_state_rebase(struct apic_id_state *s, uint32_t vcpu_id, uint64_t apic_base)
{
    bool x2apic = (apic_base & APIC_BASE_X2APIC) != 0;
    s->present = (apic_base & APIC_BASE_ENABLE) != 0;
    if (x2apic && !s->x2apic) {
        s->id = vcpu_id;
        s->ldr = (vcpu_id >> X2APIC_LDR_CLUSTER_SHIFT) << X2APIC_LDR_CLUSTER_POS |
                 1u << (vcpu_id & X2APIC_LDR_MEMBER_MASK);
    }
    s->x2apic = x2apic;
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
    uint8_t ldr = (uint8_t)(s->ldr >> APIC_ID_XAPIC_SHIFT);
    if ((s->dfr >> DFR_MODEL_SHIFT) == DFR_MODEL_FLAT)
        return (d & ldr) != 0;
    /* cluster model: high nibble selects the cluster, low nibble a mask within it */
    return (d >> 4) == (ldr >> 4) && (d & ldr & 0xf) != 0;
}

struct msi_msg apic_msi_encode(unsigned delivery_mode, bool logical, bool level, uint32_t dest,
                                uint8_t vector)
{
    struct msi_msg m;
    m.address_lo = MSI_ADDRESS_BASE | ((dest & 0xff) << MSI_ADDR_DEST_SHIFT) |
                   (logical ? MSI_ADDR_LOGICAL : 0) |
                   (delivery_mode == APIC_DM_LOWPRI ? MSI_ADDR_REDIRECTION_HINT : 0);
    m.address_hi = dest & 0xffffff00u;
    m.data = vector | (delivery_mode & APIC_LVT_DM_MASK) << MSI_DATA_DM_SHIFT | MSI_DATA_ASSERT |
             (level ? MSI_DATA_LEVEL : 0);
    return m;
}
