/* Host CPU facts as KVM offers them to guests (hostcpu.c). */
#ifndef OPENWHP_HOSTCPU_H
#define OPENWHP_HOSTCPU_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "api.h"

enum { EAX, EBX, ECX, EDX };

/* One WHP processor feature bit and the CPUID bit that announces it. */
struct hostcpu_feature {
    uint64_t mask; /* the bit in its WHP bank */
    uint32_t leaf;
    uint8_t reg, bit;
};

/* The features of bank 0 or 1 that KVM offers (WHvCapabilityCodeProcessorFeaturesBanks). */
uint64_t hostcpu_features(int bank);
uint64_t hostcpu_xsave_features(void);
uint32_t hostcpu_phys_bits(void);
uint32_t hostcpu_vendor(void); /* WHV_PROCESSOR_VENDOR */
uint32_t hostcpu_clflush_size(void);
/* The mapping table of a bank (for narrowing a guest's CPUID). */
const struct hostcpu_feature *hostcpu_feature_table(int bank, size_t *count);
uint32_t *hostcpu_entry_reg(struct kvm_cpuid_entry2 *e, int reg);

#endif
