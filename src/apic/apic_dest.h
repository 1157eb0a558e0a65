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

/* x2APIC logical ID of an APIC ID: cluster (bits 31:4 of the ID) in 31:16, one bit of 16 in 15:0. */
#define X2APIC_LDR_CLUSTER_SHIFT 4
#define X2APIC_LDR_CLUSTER_POS 16
#define X2APIC_LDR_MEMBER_MASK 0xfu

/* Reads the fields above from a 1 KiB xAPIC-layout register page (KVM_GET_LAPIC). */
void apic_id_state_from_page(const uint8_t *page, uint64_t apic_base, struct apic_id_state *s);

/* The state after KVM applies a new APIC base to a LAPIC read with the old one (kvm_lapic_set_base):
 * the global enable decides presence; turning x2APIC on sets the ID to the vCPU id and derives
 * the LDR from it. */
void apic_id_state_rebase(struct apic_id_state *s, uint32_t vcpu_id, uint64_t apic_base);

/* Does destination (WHP's UINT64 Destination, logical or physical) select this APIC? */
bool apic_dest_matches(const struct apic_id_state *s, uint64_t dest, bool logical);

/* MSI address/data for a request; delivery mode uses the x86 codes (Fixed 0, LowestPriority 1,
 * SMI 2, NMI 4, INIT 5, SIPI 6, ExtINT 7). Destinations above 255 go to address_hi bits 31:8
 * (KVM_X2APIC_API_USE_32BIT_IDS). */
struct msi_msg apic_msi_encode(unsigned delivery_mode, bool logical, bool level, uint32_t dest,
                                uint8_t vector);

#endif
