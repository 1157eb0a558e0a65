/* What the guest sees through CPUID: the host's supported leaves, narrowed to the partition's
 * processor features, with each VP's own APIC ID, no KVM paravirtual leaves, and the VMM's
 * CpuidResultList (then its answers to the CPUID exits) on top, installed with KVM_SET_CPUID2. */
#include "cpuid/cpuid.h"

#include "obj/hostcpu.h"
#include "synic/synic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CPUID_HV_FIRST 0x40000000u /* the hypervisor range, KVM's or ours */
#define CPUID_HV_LAST 0x400000ffu
#define CPUID_HV_OURS_LAST 0x40000006u
#define CPUID_HV_LEAVES (CPUID_HV_OURS_LAST - CPUID_HV_FIRST + 1)
#define CPUID_1_EBX_APIC_ID_SHIFT 24
#define CPUID_1_EBX_LOGICAL_SHIFT 16
#define CPUID_1_EBX_MAX_LOGICAL 255u
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_APIC (1u << 9)
#define CPUID_TOPOLOGY 0xbu /* and 0x1f: EDX is the x2APIC ID */
#define CPUID_TOPOLOGY_V2 0x1fu
#define CPUID_MAX_ENTRIES 256u /* KVM_MAX_CPUID_ENTRIES */

/* Clears the CPUID bits of features the partition turned off. A bit shared by two features
 * (IBRS and IBPB on Intel) stays set while either is on. */
static void apply_features(struct kvm_cpuid_entry2 *e, const uint64_t features[2])
{
    for (int bank = 0; bank < 2; bank++) {
        size_t n;
        const struct hostcpu_feature *table = hostcpu_feature_table(bank, &n);
        for (size_t i = 0; i < n; i++) {
            const struct hostcpu_feature *f = &table[i];
            if (f->leaf != e->function || (features[bank] & f->mask))
                continue;
            bool shared_on = false;
            for (size_t j = 0; j < n; j++) {
                const struct hostcpu_feature *g = &table[j];
                shared_on |= g->leaf == f->leaf && g->reg == f->reg && g->bit == f->bit &&
                             (features[bank] & g->mask);
            }
            if (!shared_on)
                *hostcpu_entry_reg(e, f->reg) &= ~(1u << f->bit);
        }
    }
}

/* Results replace whole leaves (every subleaf) or add new ones. */
static void apply_results(struct kvm_cpuid2 *c, const WHV_X64_CPUID_RESULT *res, uint32_t count)
{
    for (uint32_t r = 0; r < count; r++, res++) {
        bool found = false;
        for (uint32_t i = 0; i < c->nent; i++) {
            struct kvm_cpuid_entry2 *e = &c->entries[i];
            if (e->function != res->Function)
                continue;
            e->eax = res->Eax, e->ebx = res->Ebx, e->ecx = res->Ecx, e->edx = res->Edx;
            found = true;
        }
        if (!found)
            c->entries[c->nent++] = (struct kvm_cpuid_entry2){
                .function = res->Function, .eax = res->Eax, .ebx = res->Ebx, .ecx = res->Ecx,
                .edx = res->Edx};
    }
}

int cpuid_build(struct whp_partition *p, struct whp_vp *vp, const WHV_X64_CPUID_RESULT *extra,
                uint32_t extra_count)
{
    const struct kvm_cpuid2 *host = kvm_supported_cpuid();
    if (!host)
        return -ENODEV;
    uint32_t max = host->nent + p->cfg.cpuid_result_count + extra_count + CPUID_HV_LEAVES;
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));
    if (!c)
        return -ENOMEM;

    uint32_t apic_id = vp->index;
    for (uint32_t i = 0; i < host->nent; i++) {
        struct kvm_cpuid_entry2 e = host->entries[i];
        /* KVM's paravirtual leaves are not ours to show: Linux would pick KVM over Hyper-V. */
        if (e.function >= CPUID_HV_FIRST && e.function <= CPUID_HV_LAST)
            continue;
        apply_features(&e, p->cfg.features);
        uint32_t logical = p->cfg.processor_count > CPUID_1_EBX_MAX_LOGICAL ? CPUID_1_EBX_MAX_LOGICAL
                                                                           : p->cfg.processor_count;
        switch (e.function) {
        case 1:
            e.ebx = (e.ebx & 0x00ffffff) | (apic_id << CPUID_1_EBX_APIC_ID_SHIFT);
            e.ebx = (e.ebx & 0xff00ffff) | (logical << CPUID_1_EBX_LOGICAL_SHIFT);
            if (p->cfg.synthetic_features == 0)
                e.ecx &= ~CPUID_1_ECX_HYPERVISOR; /* no hypervisor leaves to look for */
            if (p->cfg.apic_mode == WHvX64LocalApicEmulationModeNone)
                e.edx &= ~CPUID_1_EDX_APIC; /* no local APIC */
            if (p->cfg.apic_mode != WHvX64LocalApicEmulationModeX2Apic)
                e.ecx &= ~CPUID_1_ECX_X2APIC;
            break;
        case CPUID_TOPOLOGY:
        case CPUID_TOPOLOGY_V2:
            e.edx = apic_id;
            break;
        }
        c->entries[c->nent++] = e;
    }
    if (p->cfg.synthetic_features) {
        for (uint32_t leaf = CPUID_HV_FIRST; leaf <= CPUID_HV_OURS_LAST; leaf++) {
            uint32_t r[4];
            synic_cpuid(p, leaf, r);
            c->entries[c->nent++] = (struct kvm_cpuid_entry2){
                .function = leaf, .eax = r[0], .ebx = r[1], .ecx = r[2], .edx = r[3]};
        }
    }
    /* The VMM's CpuidResultList, then its answers to the CPUID exits (top/cpuid_exit.c). */
    apply_results(c, p->cfg.cpuid_results, p->cfg.cpuid_result_count);
    apply_results(c, extra, extra_count);
    int r = kvm_ioctl(vp->fd, KVM_SET_CPUID2, c);
    free(c);
    return r < 0 ? r : 0;
}

/* Subleaf 0 of a leaf as KVM_GET_CPUID2 lists it; a leaf KVM does not list reads as zeros. */
int cpuid_default_result(struct whp_vp *vp, uint32_t leaf, WHV_X64_CPUID_RESULT *out)
{
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
    if (!c)
        return -ENOMEM;
    c->nent = CPUID_MAX_ENTRIES;
    int r = kvm_ioctl(vp->fd, KVM_GET_CPUID2, c);
    *out = (WHV_X64_CPUID_RESULT){.Function = leaf};
    for (uint32_t i = 0; r >= 0 && i < c->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &c->entries[i];
        bool indexed = e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
        if (e->function != leaf || (indexed && e->index != 0))
            continue;
        out->Eax = e->eax, out->Ebx = e->ebx, out->Ecx = e->ecx, out->Edx = e->edx;
        break;
    }
    free(c);
    return r < 0 ? r : 0;
}
