/* Pure APIC logic: MSI encoding of a WHP interrupt request and destination matching against
 * the VPs' APIC state (physical, logical flat/cluster, x2APIC logical, broadcast). */
#ifndef OPENWHP_APIC_DEST_H
#define OPENWHP_APIC_DEST_H

#include <stdbool.h>
#include <stdint.h>

#include "obj/x86.h"

/* What destination matching needs from one VP's local APIC. */
struct apic_id_state {
    uint32_t id;  /* APIC ID (full 32 bits in x2APIC mode) */
    uint32_t ldr; /* logical destination register as read (xAPIC: bits 31:24) */
    uint32_t dfr; /* destination format register (xAPIC only) */
    bool x2apic;
    bool present;
};

/* Reads the fields above from a 1 KiB xAPIC-layout register page (KVM_GET_LAPIC). */
void apic_id_state_from_page(const uint8_t *page, uint64_t apic_base, struct apic_id_state *s);

/* Does destination (WHP's UINT64 Destination, logical or physical) select this APIC? */
bool apic_dest_matches(const struct apic_id_state *s, uint64_t dest, bool logical);

/* MSI address/data for a request; delivery mode uses the x86 codes (Fixed 0, LowestPriority 1,
 * SMI 2, NMI 4, INIT 5, SIPI 6, ExtINT 7). Destinations above 255 go to address_hi bits 31:8
 * (KVM_X2APIC_API_USE_32BIT_IDS). */
struct msi_msg apic_msi_encode(unsigned delivery_mode, bool logical, bool level, uint32_t dest,
                                uint8_t vector);

#endif
