/* What the guest sees through CPUID: the host's supported leaves, narrowed to the partition's
 * processor features, with each VP's own APIC ID, no KVM paravirtual leaves, and the VMM's
 * CpuidResultList on top. Also the host feature banks reported by WHvGetCapability. */
#include "core/core.h"
#include "synic/synic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { EAX, EBX, ECX, EDX };

/* WHP processor feature bit -> CPUID leaf/register/bit. Only features with a CPUID bit appear;
 * the rest are never reported as present. */
#define BANK0_FEATURES(X)                                                                         \
    X(Sse3Support, 1, ECX, 0) X(LahfSahfSupport, 0x80000001, ECX, 0) X(Ssse3Support, 1, ECX, 9)   \
    X(Sse4_1Support, 1, ECX, 19) X(Sse4_2Support, 1, ECX, 20)                                      \
    X(Sse4aSupport, 0x80000001, ECX, 6) X(XopSupport, 0x80000001, ECX, 11)                         \
    X(PopCntSupport, 1, ECX, 23) X(Cmpxchg16bSupport, 1, ECX, 13)                                  \
    X(Altmovcr8Support, 0x80000001, ECX, 4) X(LzcntSupport, 0x80000001, ECX, 5)                    \
    X(MisAlignSseSupport, 0x80000001, ECX, 7) X(MmxExtSupport, 0x80000001, EDX, 22)                \
    X(Amd3DNowSupport, 0x80000001, EDX, 31) X(ExtendedAmd3DNowSupport, 0x80000001, EDX, 30)        \
    X(Page1GbSupport, 0x80000001, EDX, 26) X(AesSupport, 1, ECX, 25)                               \
    X(PclmulqdqSupport, 1, ECX, 1) X(PcidSupport, 1, ECX, 17)                                      \
    X(Fma4Support, 0x80000001, ECX, 16) X(F16CSupport, 1, ECX, 29) X(RdRandSupport, 1, ECX, 30)    \
    X(RdWrFsGsSupport, 7, EBX, 0) X(SmepSupport, 7, EBX, 7)                                        \
    X(EnhancedFastStringSupport, 7, EBX, 9) X(Bmi1Support, 7, EBX, 3) X(Bmi2Support, 7, EBX, 8)    \
    X(MovbeSupport, 1, ECX, 22) X(RdSeedSupport, 7, EBX, 18) X(AdxSupport, 7, EBX, 19)             \
    X(IntelPrefetchSupport, 0x80000001, ECX, 8) X(SmapSupport, 7, EBX, 20)                         \
    X(HleSupport, 7, EBX, 4) X(RtmSupport, 7, EBX, 11) X(RdtscpSupport, 0x80000001, EDX, 27)       \
    X(ClflushoptSupport, 7, EBX, 23) X(ClwbSupport, 7, EBX, 24) X(ShaSupport, 7, EBX, 29)          \
    X(InvpcidSupport, 7, EBX, 10) X(IbrsSupport, 7, EDX, 26) X(StibpSupport, 7, EDX, 27)           \
    X(IbpbSupport, 7, EDX, 26) X(SsbdSupport, 7, EDX, 31) X(FastShortRepMovSupport, 7, EDX, 4)     \
    X(RdPidSupport, 7, ECX, 22) X(UmipSupport, 7, ECX, 2) X(MdClearSupport, 7, EDX, 10)

#define BANK1_FEATURES(X)                                                                         \
    X(TscInvariantSupport, 0x80000007, EDX, 8) X(ClZeroSupport, 0x80000008, EBX, 0)                \
    X(La57Support, 7, ECX, 16) X(CetSsSupport, 7, ECX, 7) X(CetIbtSupport, 7, EDX, 20)             \
    X(UmwaitTpauseSupport, 7, ECX, 5) X(MovdiriSupport, 7, ECX, 27)                                \
    X(Movdir64bSupport, 7, ECX, 28) X(CldemoteSupport, 7, ECX, 25) X(SerializeSupport, 7, EDX, 14) \
    X(TscDeadlineTmrSupport, 1, ECX, 24) X(TscAdjustSupport, 7, EBX, 1)

struct feature {
    uint64_t mask; /* the bit in its WHP bank */
    uint32_t leaf;
    uint8_t reg, bit;
};

/* Compound literals are not constant expressions, so the tables are filled on first use. */
static struct feature bank_table[2][64];
static size_t bank_size[2];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

#define F0(name, leaf, reg, bit)                                                                  \
    bank_table[0][bank_size[0]++] =                                                               \
        (struct feature){(WHV_PROCESSOR_FEATURES){.name = 1}.AsUINT64, leaf, reg, bit};
#define F1(name, leaf, reg, bit)                                                                  \
    bank_table[1][bank_size[1]++] =                                                               \
        (struct feature){(WHV_PROCESSOR_FEATURES1){.name = 1}.AsUINT64, leaf, reg, bit};

static void tables_init(void)
{
    BANK0_FEATURES(F0)
    BANK1_FEATURES(F1)
}

static uint32_t *entry_reg(struct kvm_cpuid_entry2 *e, int reg)
{
    return reg == EAX ? &e->eax : reg == EBX ? &e->ebx : reg == ECX ? &e->ecx : &e->edx;
}

uint64_t cpu_host_features(int bank)
{
    pthread_once(&tables_once, tables_init);
    const struct kvm_cpuid2 *c = kvm_supported_cpuid();
    uint64_t v = 0;
    for (size_t i = 0; i < bank_size[bank]; i++) {
        const struct feature *f = &bank_table[bank][i];
        const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(c, f->leaf, 0);
        if (e && (*entry_reg((struct kvm_cpuid_entry2 *)e, f->reg) >> f->bit & 1))
            v |= f->mask;
    }
    return v;
}

uint64_t cpu_xsave_features(void)
{
    const struct kvm_cpuid2 *c = kvm_supported_cpuid();
    const struct kvm_cpuid_entry2 *l1 = kvm_cpuid_find(c, 1, 0), *l7 = kvm_cpuid_find(c, 7, 0);
    const struct kvm_cpuid_entry2 *ld1 = kvm_cpuid_find(c, 0xd, 1);
    WHV_PROCESSOR_XSAVE_FEATURES f = {.AsUINT64 = 0};
    if (!l1 || !(l1->ecx & (1u << 26)))
        return 0;
    f.XsaveSupport = 1;
    f.XsaveoptSupport = ld1 && (ld1->eax & 1);
    f.AvxSupport = (l1->ecx >> 28) & 1;
    f.FmaSupport = (l1->ecx >> 12) & 1;
    f.Avx2Support = l7 && ((l7->ebx >> 5) & 1);
    f.MpxSupport = l7 && ((l7->ebx >> 14) & 1);
    f.Avx512Support = l7 && ((l7->ebx >> 16) & 1);
    return f.AsUINT64;
}

uint32_t cpu_phys_bits(void)
{
    const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(kvm_supported_cpuid(), 0x80000008, 0);
    return e ? (e->eax & 0xff) : 36;
}

/* Clears the CPUID bits of features the partition turned off. A bit shared by two features
 * (IBRS and IBPB on Intel) stays set while either is on. */
static void apply_features(struct kvm_cpuid_entry2 *e, const uint64_t features[2])
{
    for (int bank = 0; bank < 2; bank++) {
        for (size_t i = 0; i < bank_size[bank]; i++) {
            const struct feature *f = &bank_table[bank][i];
            if (f->leaf != e->function || (features[bank] & f->mask))
                continue;
            bool shared_on = false;
            for (size_t j = 0; j < bank_size[bank]; j++) {
                const struct feature *g = &bank_table[bank][j];
                shared_on |= g->leaf == f->leaf && g->reg == f->reg && g->bit == f->bit &&
                             (features[bank] & g->mask);
            }
            if (!shared_on)
                *entry_reg(e, f->reg) &= ~(1u << f->bit);
        }
    }
}

int cpuid_build(struct whp_partition *p, struct whp_vp *vp)
{
    pthread_once(&tables_once, tables_init);
    const struct kvm_cpuid2 *host = kvm_supported_cpuid();
    if (!host)
        return -ENODEV;
    uint32_t max = host->nent + p->cpuid_result_count + 7;
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));
    if (!c)
        return -ENOMEM;

    uint32_t apic_id = vp->index;
    for (uint32_t i = 0; i < host->nent; i++) {
        struct kvm_cpuid_entry2 e = host->entries[i];
        /* KVM's paravirtual leaves are not ours to show: Linux would pick KVM over Hyper-V. */
        if (e.function >= 0x40000000 && e.function <= 0x400000ff)
            continue;
        apply_features(&e, p->features);
        switch (e.function) {
        case 1:
            e.ebx = (e.ebx & 0x00ffffff) | (apic_id << 24);
            e.ebx = (e.ebx & 0xff00ffff) | ((p->processor_count > 255 ? 255 : p->processor_count) << 16);
            if (p->synthetic_features == 0)
                e.ecx &= ~(1u << 31); /* no hypervisor leaves to look for */
            if (p->apic_mode == WHvX64LocalApicEmulationModeNone)
                e.edx &= ~(1u << 9); /* no local APIC */
            if (p->apic_mode != WHvX64LocalApicEmulationModeX2Apic)
                e.ecx &= ~(1u << 21);
            break;
        case 0xb:
        case 0x1f:
            e.edx = apic_id;
            break;
        }
        c->entries[c->nent++] = e;
    }
    if (p->synthetic_features) {
        for (uint32_t leaf = 0x40000000; leaf <= 0x40000006; leaf++) {
            uint32_t r[4];
            synic_cpuid(p, leaf, r);
            c->entries[c->nent++] = (struct kvm_cpuid_entry2){
                .function = leaf, .eax = r[0], .ebx = r[1], .ecx = r[2], .edx = r[3]};
        }
    }
    /* The VMM's CpuidResultList replaces whole leaves (every subleaf) or adds new ones. */
    for (uint32_t r = 0; r < p->cpuid_result_count; r++) {
        const WHV_X64_CPUID_RESULT *res = &p->cpuid_results[r];
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
    int r = kvm_ioctl(vp->fd, KVM_SET_CPUID2, c);
    free(c);
    return r < 0 ? r : 0;
}
