/* Facts about the host CPU as KVM offers it to guests: the WHP processor feature banks (each bit
 * mapped to its CPUID leaf, register and bit), XSAVE features, physical address width, vendor
 * and CLFLUSH line size. All read from KVM_GET_SUPPORTED_CPUID. */
#include "obj/hostcpu.h"

#include <pthread.h>

#include "kvm/kvm.h"

#define DEFAULT_PHYS_BITS 36 /* when KVM does not report leaf 0x80000008 */
#define DEFAULT_CLFLUSH 64
#define CPUID_ADDRESS_SIZES 0x80000008u
#define CPUID_VENDOR_AMD_EBX 0x68747541u   /* "Auth" */
#define CPUID_VENDOR_HYGON_EBX 0x6f677948u /* "Hygo" */
#define CPUID_1_EBX_CLFLUSH_SHIFT 8
#define CPUID_CLFLUSH_UNIT 8 /* bytes per unit of CPUID.1:EBX[15:8] */
#define CPUID_1_ECX_FMA (1u << 12)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_AVX (1u << 28)
#define CPUID_7_EBX_AVX2 (1u << 5)
#define CPUID_7_EBX_MPX (1u << 14)
#define CPUID_7_EBX_AVX512F (1u << 16)
#define CPUID_D1_EAX_XSAVEOPT 1u

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

/* Compound literals are not constant expressions, so the tables are filled on first use. */
static struct hostcpu_feature bank_table[2][64];
static size_t bank_size[2];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

#define F0(name, leaf, reg, bit)                                                                  \
    bank_table[0][bank_size[0]++] =                                                               \
        (struct hostcpu_feature){(WHV_PROCESSOR_FEATURES){.name = 1}.AsUINT64, leaf, reg, bit};
#define F1(name, leaf, reg, bit)                                                                  \
    bank_table[1][bank_size[1]++] =                                                               \
        (struct hostcpu_feature){(WHV_PROCESSOR_FEATURES1){.name = 1}.AsUINT64, leaf, reg, bit};

static void tables_init(void)
{
    BANK0_FEATURES(F0)
    BANK1_FEATURES(F1)
}

uint32_t *hostcpu_entry_reg(struct kvm_cpuid_entry2 *e, int reg)
{
    return reg == EAX ? &e->eax : reg == EBX ? &e->ebx : reg == ECX ? &e->ecx : &e->edx;
}

uint64_t hostcpu_features(int bank)
{
    pthread_once(&tables_once, tables_init);
    const struct kvm_cpuid2 *c = kvm_supported_cpuid();
    uint64_t v = 0;
    for (size_t i = 0; i < bank_size[bank]; i++) {
        const struct hostcpu_feature *f = &bank_table[bank][i];
        const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(c, f->leaf, 0);
        if (e && (*hostcpu_entry_reg((struct kvm_cpuid_entry2 *)e, f->reg) >> f->bit & 1))
            v |= f->mask;
    }
    return v;
}

uint64_t hostcpu_xsave_features(void)
{
    const struct kvm_cpuid2 *c = kvm_supported_cpuid();
    const struct kvm_cpuid_entry2 *l1 = kvm_cpuid_find(c, 1, 0), *l7 = kvm_cpuid_find(c, 7, 0);
    const struct kvm_cpuid_entry2 *ld1 = kvm_cpuid_find(c, 0xd, 1);
    WHV_PROCESSOR_XSAVE_FEATURES f = {.AsUINT64 = 0};
    if (!l1 || !(l1->ecx & CPUID_1_ECX_XSAVE))
        return 0;
    f.XsaveSupport = 1;
    f.XsaveoptSupport = ld1 && (ld1->eax & CPUID_D1_EAX_XSAVEOPT);
    f.AvxSupport = (l1->ecx & CPUID_1_ECX_AVX) != 0;
    f.FmaSupport = (l1->ecx & CPUID_1_ECX_FMA) != 0;
    f.Avx2Support = l7 && (l7->ebx & CPUID_7_EBX_AVX2);
    f.MpxSupport = l7 && (l7->ebx & CPUID_7_EBX_MPX);
    f.Avx512Support = l7 && (l7->ebx & CPUID_7_EBX_AVX512F);
    return f.AsUINT64;
}

uint32_t hostcpu_phys_bits(void)
{
    const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(kvm_supported_cpuid(), CPUID_ADDRESS_SIZES, 0);
    return e ? (e->eax & 0xff) : DEFAULT_PHYS_BITS;
}

const struct hostcpu_feature *hostcpu_feature_table(int bank, size_t *count)
{
    pthread_once(&tables_once, tables_init);
    *count = bank_size[bank];
    return bank_table[bank];
}

uint32_t hostcpu_vendor(void)
{
    const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(kvm_supported_cpuid(), 0, 0);
    if (e && e->ebx == CPUID_VENDOR_AMD_EBX)
        return WHvProcessorVendorAmd;
    if (e && e->ebx == CPUID_VENDOR_HYGON_EBX)
        return WHvProcessorVendorHygon;
    return WHvProcessorVendorIntel;
}

uint32_t hostcpu_clflush_size(void)
{
    const struct kvm_cpuid_entry2 *e = kvm_cpuid_find(kvm_supported_cpuid(), 1, 0);
    return e ? ((e->ebx >> CPUID_1_EBX_CLFLUSH_SHIFT) & 0xff) * CPUID_CLFLUSH_UNIT : DEFAULT_CLFLUSH;
}
