/* ABI test of the public headers: every size, offset, bit position, enumerator and error code of
 * the project's WHP ABI fact sheet, checked at run time with one message per failure, plus the
 * parameter types of every exported function. Exit status 1 on any failure. */
#include <WinHvPlatform.h>
#include <WinHvEmulation.h>
#include <openwhp/interrupt_types.h>

#include <stdio.h>
#include <string.h>

static unsigned passed, failed;

static void check_u64(const char *what, unsigned long long got, unsigned long long want)
{
    if (got == want) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s: got 0x%llx, want 0x%llx\n", what, got, want);
}

static void check_true(const char *what, int ok)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s\n", what);
}

/* Lowest set bit and number of set bits of an object, counting bit 0 of byte 0 as bit 0. */
static int lowest_bit(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n * 8; i++)
        if (b[i / 8] & (1u << (i % 8)))
            return (int)i;
    return -1;
}

static int count_bits(const void *p, size_t n)
{
    const unsigned char *b = p;
    int c = 0;
    for (size_t i = 0; i < n * 8; i++)
        c += (b[i / 8] >> (i % 8)) & 1;
    return c;
}

static volatile unsigned long long all_ones = ~0ull;

#define SIZE(T, n) check_u64("sizeof(" #T ")", sizeof(T), (n))
#define ALIGN(T, n) check_u64("alignof(" #T ")", _Alignof(T), (n))
#define OFF(T, m, n) check_u64("offsetof(" #T ", " #m ")", offsetof(T, m), (n))
#define VAL(e, n) check_u64(#e, (unsigned long long)(e), (n))
#define HR(e, n) check_u64(#e, (unsigned long long)(uint32_t)(e), (n))

/* Bit field f of T occupies bits [lsb, lsb + width) of the object. */
#define BF(T, f, lsb, width)                                                                   \
    do {                                                                                       \
        T v_;                                                                                  \
        memset(&v_, 0, sizeof v_);                                                             \
        v_.f = 1;                                                                              \
        check_u64("lsb of " #T "." #f, (unsigned long long)lowest_bit(&v_, sizeof v_), (lsb)); \
        memset(&v_, 0, sizeof v_);                                                             \
        v_.f = all_ones;                                                                       \
        check_u64("width of " #T "." #f, (unsigned long long)count_bits(&v_, sizeof v_),       \
                  (width));                                                                    \
        check_u64("position of " #T "." #f, (unsigned long long)lowest_bit(&v_, sizeof v_),    \
                  (lsb));                                                                      \
    } while (0)

/* Prototype check: the declared function has exactly this type. */
#define PROTO(fn, type) check_true("prototype of " #fn, _Generic(&fn, type: 1, default: 0))

struct named_value {
    const char *name;
    unsigned long long got;
    unsigned long long want;
};

static const struct named_value register_names[] = {
    { "WHvX64RegisterRax", (uint32_t)WHvX64RegisterRax, 0x00000000u },
    { "WHvX64RegisterRcx", (uint32_t)WHvX64RegisterRcx, 0x00000001u },
    { "WHvX64RegisterRdx", (uint32_t)WHvX64RegisterRdx, 0x00000002u },
    { "WHvX64RegisterRbx", (uint32_t)WHvX64RegisterRbx, 0x00000003u },
    { "WHvX64RegisterRsp", (uint32_t)WHvX64RegisterRsp, 0x00000004u },
    { "WHvX64RegisterRbp", (uint32_t)WHvX64RegisterRbp, 0x00000005u },
    { "WHvX64RegisterRsi", (uint32_t)WHvX64RegisterRsi, 0x00000006u },
    { "WHvX64RegisterRdi", (uint32_t)WHvX64RegisterRdi, 0x00000007u },
    { "WHvX64RegisterR8", (uint32_t)WHvX64RegisterR8, 0x00000008u },
    { "WHvX64RegisterR9", (uint32_t)WHvX64RegisterR9, 0x00000009u },
    { "WHvX64RegisterR10", (uint32_t)WHvX64RegisterR10, 0x0000000Au },
    { "WHvX64RegisterR11", (uint32_t)WHvX64RegisterR11, 0x0000000Bu },
    { "WHvX64RegisterR12", (uint32_t)WHvX64RegisterR12, 0x0000000Cu },
    { "WHvX64RegisterR13", (uint32_t)WHvX64RegisterR13, 0x0000000Du },
    { "WHvX64RegisterR14", (uint32_t)WHvX64RegisterR14, 0x0000000Eu },
    { "WHvX64RegisterR15", (uint32_t)WHvX64RegisterR15, 0x0000000Fu },
    { "WHvX64RegisterRip", (uint32_t)WHvX64RegisterRip, 0x00000010u },
    { "WHvX64RegisterRflags", (uint32_t)WHvX64RegisterRflags, 0x00000011u },
    { "WHvX64RegisterEs", (uint32_t)WHvX64RegisterEs, 0x00000012u },
    { "WHvX64RegisterCs", (uint32_t)WHvX64RegisterCs, 0x00000013u },
    { "WHvX64RegisterSs", (uint32_t)WHvX64RegisterSs, 0x00000014u },
    { "WHvX64RegisterDs", (uint32_t)WHvX64RegisterDs, 0x00000015u },
    { "WHvX64RegisterFs", (uint32_t)WHvX64RegisterFs, 0x00000016u },
    { "WHvX64RegisterGs", (uint32_t)WHvX64RegisterGs, 0x00000017u },
    { "WHvX64RegisterLdtr", (uint32_t)WHvX64RegisterLdtr, 0x00000018u },
    { "WHvX64RegisterTr", (uint32_t)WHvX64RegisterTr, 0x00000019u },
    { "WHvX64RegisterIdtr", (uint32_t)WHvX64RegisterIdtr, 0x0000001Au },
    { "WHvX64RegisterGdtr", (uint32_t)WHvX64RegisterGdtr, 0x0000001Bu },
    { "WHvX64RegisterCr0", (uint32_t)WHvX64RegisterCr0, 0x0000001Cu },
    { "WHvX64RegisterCr2", (uint32_t)WHvX64RegisterCr2, 0x0000001Du },
    { "WHvX64RegisterCr3", (uint32_t)WHvX64RegisterCr3, 0x0000001Eu },
    { "WHvX64RegisterCr4", (uint32_t)WHvX64RegisterCr4, 0x0000001Fu },
    { "WHvX64RegisterCr8", (uint32_t)WHvX64RegisterCr8, 0x00000020u },
    { "WHvX64RegisterDr0", (uint32_t)WHvX64RegisterDr0, 0x00000021u },
    { "WHvX64RegisterDr1", (uint32_t)WHvX64RegisterDr1, 0x00000022u },
    { "WHvX64RegisterDr2", (uint32_t)WHvX64RegisterDr2, 0x00000023u },
    { "WHvX64RegisterDr3", (uint32_t)WHvX64RegisterDr3, 0x00000024u },
    { "WHvX64RegisterDr6", (uint32_t)WHvX64RegisterDr6, 0x00000025u },
    { "WHvX64RegisterDr7", (uint32_t)WHvX64RegisterDr7, 0x00000026u },
    { "WHvX64RegisterXCr0", (uint32_t)WHvX64RegisterXCr0, 0x00000027u },
    { "WHvX64RegisterVirtualCr0", (uint32_t)WHvX64RegisterVirtualCr0, 0x00000028u },
    { "WHvX64RegisterVirtualCr3", (uint32_t)WHvX64RegisterVirtualCr3, 0x00000029u },
    { "WHvX64RegisterVirtualCr4", (uint32_t)WHvX64RegisterVirtualCr4, 0x0000002Au },
    { "WHvX64RegisterVirtualCr8", (uint32_t)WHvX64RegisterVirtualCr8, 0x0000002Bu },
    { "WHvX64RegisterXmm0", (uint32_t)WHvX64RegisterXmm0, 0x00001000u },
    { "WHvX64RegisterXmm1", (uint32_t)WHvX64RegisterXmm1, 0x00001001u },
    { "WHvX64RegisterXmm2", (uint32_t)WHvX64RegisterXmm2, 0x00001002u },
    { "WHvX64RegisterXmm3", (uint32_t)WHvX64RegisterXmm3, 0x00001003u },
    { "WHvX64RegisterXmm4", (uint32_t)WHvX64RegisterXmm4, 0x00001004u },
    { "WHvX64RegisterXmm5", (uint32_t)WHvX64RegisterXmm5, 0x00001005u },
    { "WHvX64RegisterXmm6", (uint32_t)WHvX64RegisterXmm6, 0x00001006u },
    { "WHvX64RegisterXmm7", (uint32_t)WHvX64RegisterXmm7, 0x00001007u },
    { "WHvX64RegisterXmm8", (uint32_t)WHvX64RegisterXmm8, 0x00001008u },
    { "WHvX64RegisterXmm9", (uint32_t)WHvX64RegisterXmm9, 0x00001009u },
    { "WHvX64RegisterXmm10", (uint32_t)WHvX64RegisterXmm10, 0x0000100Au },
    { "WHvX64RegisterXmm11", (uint32_t)WHvX64RegisterXmm11, 0x0000100Bu },
    { "WHvX64RegisterXmm12", (uint32_t)WHvX64RegisterXmm12, 0x0000100Cu },
    { "WHvX64RegisterXmm13", (uint32_t)WHvX64RegisterXmm13, 0x0000100Du },
    { "WHvX64RegisterXmm14", (uint32_t)WHvX64RegisterXmm14, 0x0000100Eu },
    { "WHvX64RegisterXmm15", (uint32_t)WHvX64RegisterXmm15, 0x0000100Fu },
    { "WHvX64RegisterFpMmx0", (uint32_t)WHvX64RegisterFpMmx0, 0x00001010u },
    { "WHvX64RegisterFpMmx1", (uint32_t)WHvX64RegisterFpMmx1, 0x00001011u },
    { "WHvX64RegisterFpMmx2", (uint32_t)WHvX64RegisterFpMmx2, 0x00001012u },
    { "WHvX64RegisterFpMmx3", (uint32_t)WHvX64RegisterFpMmx3, 0x00001013u },
    { "WHvX64RegisterFpMmx4", (uint32_t)WHvX64RegisterFpMmx4, 0x00001014u },
    { "WHvX64RegisterFpMmx5", (uint32_t)WHvX64RegisterFpMmx5, 0x00001015u },
    { "WHvX64RegisterFpMmx6", (uint32_t)WHvX64RegisterFpMmx6, 0x00001016u },
    { "WHvX64RegisterFpMmx7", (uint32_t)WHvX64RegisterFpMmx7, 0x00001017u },
    { "WHvX64RegisterFpControlStatus", (uint32_t)WHvX64RegisterFpControlStatus, 0x00001018u },
    { "WHvX64RegisterXmmControlStatus", (uint32_t)WHvX64RegisterXmmControlStatus, 0x00001019u },
    { "WHvX64RegisterTsc", (uint32_t)WHvX64RegisterTsc, 0x00002000u },
    { "WHvX64RegisterEfer", (uint32_t)WHvX64RegisterEfer, 0x00002001u },
    { "WHvX64RegisterKernelGsBase", (uint32_t)WHvX64RegisterKernelGsBase, 0x00002002u },
    { "WHvX64RegisterApicBase", (uint32_t)WHvX64RegisterApicBase, 0x00002003u },
    { "WHvX64RegisterPat", (uint32_t)WHvX64RegisterPat, 0x00002004u },
    { "WHvX64RegisterSysenterCs", (uint32_t)WHvX64RegisterSysenterCs, 0x00002005u },
    { "WHvX64RegisterSysenterEip", (uint32_t)WHvX64RegisterSysenterEip, 0x00002006u },
    { "WHvX64RegisterSysenterEsp", (uint32_t)WHvX64RegisterSysenterEsp, 0x00002007u },
    { "WHvX64RegisterStar", (uint32_t)WHvX64RegisterStar, 0x00002008u },
    { "WHvX64RegisterLstar", (uint32_t)WHvX64RegisterLstar, 0x00002009u },
    { "WHvX64RegisterCstar", (uint32_t)WHvX64RegisterCstar, 0x0000200Au },
    { "WHvX64RegisterSfmask", (uint32_t)WHvX64RegisterSfmask, 0x0000200Bu },
    { "WHvX64RegisterInitialApicId", (uint32_t)WHvX64RegisterInitialApicId, 0x0000200Cu },
    { "WHvX64RegisterMsrMtrrCap", (uint32_t)WHvX64RegisterMsrMtrrCap, 0x0000200Du },
    { "WHvX64RegisterMsrMtrrDefType", (uint32_t)WHvX64RegisterMsrMtrrDefType, 0x0000200Eu },
    { "WHvX64RegisterMsrMtrrPhysBase0", (uint32_t)WHvX64RegisterMsrMtrrPhysBase0, 0x00002010u },
    { "WHvX64RegisterMsrMtrrPhysBase1", (uint32_t)WHvX64RegisterMsrMtrrPhysBase1, 0x00002011u },
    { "WHvX64RegisterMsrMtrrPhysBase2", (uint32_t)WHvX64RegisterMsrMtrrPhysBase2, 0x00002012u },
    { "WHvX64RegisterMsrMtrrPhysBase3", (uint32_t)WHvX64RegisterMsrMtrrPhysBase3, 0x00002013u },
    { "WHvX64RegisterMsrMtrrPhysBase4", (uint32_t)WHvX64RegisterMsrMtrrPhysBase4, 0x00002014u },
    { "WHvX64RegisterMsrMtrrPhysBase5", (uint32_t)WHvX64RegisterMsrMtrrPhysBase5, 0x00002015u },
    { "WHvX64RegisterMsrMtrrPhysBase6", (uint32_t)WHvX64RegisterMsrMtrrPhysBase6, 0x00002016u },
    { "WHvX64RegisterMsrMtrrPhysBase7", (uint32_t)WHvX64RegisterMsrMtrrPhysBase7, 0x00002017u },
    { "WHvX64RegisterMsrMtrrPhysBase8", (uint32_t)WHvX64RegisterMsrMtrrPhysBase8, 0x00002018u },
    { "WHvX64RegisterMsrMtrrPhysBase9", (uint32_t)WHvX64RegisterMsrMtrrPhysBase9, 0x00002019u },
    { "WHvX64RegisterMsrMtrrPhysBaseA", (uint32_t)WHvX64RegisterMsrMtrrPhysBaseA, 0x0000201Au },
    { "WHvX64RegisterMsrMtrrPhysBaseB", (uint32_t)WHvX64RegisterMsrMtrrPhysBaseB, 0x0000201Bu },
    { "WHvX64RegisterMsrMtrrPhysBaseC", (uint32_t)WHvX64RegisterMsrMtrrPhysBaseC, 0x0000201Cu },
    { "WHvX64RegisterMsrMtrrPhysBaseD", (uint32_t)WHvX64RegisterMsrMtrrPhysBaseD, 0x0000201Du },
    { "WHvX64RegisterMsrMtrrPhysBaseE", (uint32_t)WHvX64RegisterMsrMtrrPhysBaseE, 0x0000201Eu },
    { "WHvX64RegisterMsrMtrrPhysBaseF", (uint32_t)WHvX64RegisterMsrMtrrPhysBaseF, 0x0000201Fu },
    { "WHvX64RegisterMsrMtrrPhysMask0", (uint32_t)WHvX64RegisterMsrMtrrPhysMask0, 0x00002040u },
    { "WHvX64RegisterMsrMtrrPhysMask1", (uint32_t)WHvX64RegisterMsrMtrrPhysMask1, 0x00002041u },
    { "WHvX64RegisterMsrMtrrPhysMask2", (uint32_t)WHvX64RegisterMsrMtrrPhysMask2, 0x00002042u },
    { "WHvX64RegisterMsrMtrrPhysMask3", (uint32_t)WHvX64RegisterMsrMtrrPhysMask3, 0x00002043u },
    { "WHvX64RegisterMsrMtrrPhysMask4", (uint32_t)WHvX64RegisterMsrMtrrPhysMask4, 0x00002044u },
    { "WHvX64RegisterMsrMtrrPhysMask5", (uint32_t)WHvX64RegisterMsrMtrrPhysMask5, 0x00002045u },
    { "WHvX64RegisterMsrMtrrPhysMask6", (uint32_t)WHvX64RegisterMsrMtrrPhysMask6, 0x00002046u },
    { "WHvX64RegisterMsrMtrrPhysMask7", (uint32_t)WHvX64RegisterMsrMtrrPhysMask7, 0x00002047u },
    { "WHvX64RegisterMsrMtrrPhysMask8", (uint32_t)WHvX64RegisterMsrMtrrPhysMask8, 0x00002048u },
    { "WHvX64RegisterMsrMtrrPhysMask9", (uint32_t)WHvX64RegisterMsrMtrrPhysMask9, 0x00002049u },
    { "WHvX64RegisterMsrMtrrPhysMaskA", (uint32_t)WHvX64RegisterMsrMtrrPhysMaskA, 0x0000204Au },
    { "WHvX64RegisterMsrMtrrPhysMaskB", (uint32_t)WHvX64RegisterMsrMtrrPhysMaskB, 0x0000204Bu },
    { "WHvX64RegisterMsrMtrrPhysMaskC", (uint32_t)WHvX64RegisterMsrMtrrPhysMaskC, 0x0000204Cu },
    { "WHvX64RegisterMsrMtrrPhysMaskD", (uint32_t)WHvX64RegisterMsrMtrrPhysMaskD, 0x0000204Du },
    { "WHvX64RegisterMsrMtrrPhysMaskE", (uint32_t)WHvX64RegisterMsrMtrrPhysMaskE, 0x0000204Eu },
    { "WHvX64RegisterMsrMtrrPhysMaskF", (uint32_t)WHvX64RegisterMsrMtrrPhysMaskF, 0x0000204Fu },
    { "WHvX64RegisterMsrMtrrFix64k00000", (uint32_t)WHvX64RegisterMsrMtrrFix64k00000, 0x00002070u },
    { "WHvX64RegisterMsrMtrrFix16k80000", (uint32_t)WHvX64RegisterMsrMtrrFix16k80000, 0x00002071u },
    { "WHvX64RegisterMsrMtrrFix16kA0000", (uint32_t)WHvX64RegisterMsrMtrrFix16kA0000, 0x00002072u },
    { "WHvX64RegisterMsrMtrrFix4kC0000", (uint32_t)WHvX64RegisterMsrMtrrFix4kC0000, 0x00002073u },
    { "WHvX64RegisterMsrMtrrFix4kC8000", (uint32_t)WHvX64RegisterMsrMtrrFix4kC8000, 0x00002074u },
    { "WHvX64RegisterMsrMtrrFix4kD0000", (uint32_t)WHvX64RegisterMsrMtrrFix4kD0000, 0x00002075u },
    { "WHvX64RegisterMsrMtrrFix4kD8000", (uint32_t)WHvX64RegisterMsrMtrrFix4kD8000, 0x00002076u },
    { "WHvX64RegisterMsrMtrrFix4kE0000", (uint32_t)WHvX64RegisterMsrMtrrFix4kE0000, 0x00002077u },
    { "WHvX64RegisterMsrMtrrFix4kE8000", (uint32_t)WHvX64RegisterMsrMtrrFix4kE8000, 0x00002078u },
    { "WHvX64RegisterMsrMtrrFix4kF0000", (uint32_t)WHvX64RegisterMsrMtrrFix4kF0000, 0x00002079u },
    { "WHvX64RegisterMsrMtrrFix4kF8000", (uint32_t)WHvX64RegisterMsrMtrrFix4kF8000, 0x0000207Au },
    { "WHvX64RegisterTscAux", (uint32_t)WHvX64RegisterTscAux, 0x0000207Bu },
    { "WHvX64RegisterBndcfgs", (uint32_t)WHvX64RegisterBndcfgs, 0x0000207Cu },
    { "WHvX64RegisterMCount", (uint32_t)WHvX64RegisterMCount, 0x0000207Eu },
    { "WHvX64RegisterACount", (uint32_t)WHvX64RegisterACount, 0x0000207Fu },
    { "WHvX64RegisterSpecCtrl", (uint32_t)WHvX64RegisterSpecCtrl, 0x00002084u },
    { "WHvX64RegisterPredCmd", (uint32_t)WHvX64RegisterPredCmd, 0x00002085u },
    { "WHvX64RegisterTscVirtualOffset", (uint32_t)WHvX64RegisterTscVirtualOffset, 0x00002087u },
    { "WHvX64RegisterTsxCtrl", (uint32_t)WHvX64RegisterTsxCtrl, 0x00002088u },
    { "WHvX64RegisterXss", (uint32_t)WHvX64RegisterXss, 0x0000208Bu },
    { "WHvX64RegisterUCet", (uint32_t)WHvX64RegisterUCet, 0x0000208Cu },
    { "WHvX64RegisterSCet", (uint32_t)WHvX64RegisterSCet, 0x0000208Du },
    { "WHvX64RegisterSsp", (uint32_t)WHvX64RegisterSsp, 0x0000208Eu },
    { "WHvX64RegisterPl0Ssp", (uint32_t)WHvX64RegisterPl0Ssp, 0x0000208Fu },
    { "WHvX64RegisterPl1Ssp", (uint32_t)WHvX64RegisterPl1Ssp, 0x00002090u },
    { "WHvX64RegisterPl2Ssp", (uint32_t)WHvX64RegisterPl2Ssp, 0x00002091u },
    { "WHvX64RegisterPl3Ssp", (uint32_t)WHvX64RegisterPl3Ssp, 0x00002092u },
    { "WHvX64RegisterInterruptSspTableAddr", (uint32_t)WHvX64RegisterInterruptSspTableAddr, 0x00002093u },
    { "WHvX64RegisterTscDeadline", (uint32_t)WHvX64RegisterTscDeadline, 0x00002095u },
    { "WHvX64RegisterTscAdjust", (uint32_t)WHvX64RegisterTscAdjust, 0x00002096u },
    { "WHvX64RegisterUmwaitControl", (uint32_t)WHvX64RegisterUmwaitControl, 0x00002098u },
    { "WHvX64RegisterXfd", (uint32_t)WHvX64RegisterXfd, 0x00002099u },
    { "WHvX64RegisterXfdErr", (uint32_t)WHvX64RegisterXfdErr, 0x0000209Au },
    { "WHvX64RegisterMsrIa32MiscEnable", (uint32_t)WHvX64RegisterMsrIa32MiscEnable, 0x000020A0u },
    { "WHvX64RegisterIa32FeatureControl", (uint32_t)WHvX64RegisterIa32FeatureControl, 0x000020A1u },
    { "WHvX64RegisterIa32VmxBasic", (uint32_t)WHvX64RegisterIa32VmxBasic, 0x000020A2u },
    { "WHvX64RegisterIa32VmxPinbasedCtls", (uint32_t)WHvX64RegisterIa32VmxPinbasedCtls, 0x000020A3u },
    { "WHvX64RegisterIa32VmxProcbasedCtls", (uint32_t)WHvX64RegisterIa32VmxProcbasedCtls, 0x000020A4u },
    { "WHvX64RegisterIa32VmxExitCtls", (uint32_t)WHvX64RegisterIa32VmxExitCtls, 0x000020A5u },
    { "WHvX64RegisterIa32VmxEntryCtls", (uint32_t)WHvX64RegisterIa32VmxEntryCtls, 0x000020A6u },
    { "WHvX64RegisterIa32VmxMisc", (uint32_t)WHvX64RegisterIa32VmxMisc, 0x000020A7u },
    { "WHvX64RegisterIa32VmxCr0Fixed0", (uint32_t)WHvX64RegisterIa32VmxCr0Fixed0, 0x000020A8u },
    { "WHvX64RegisterIa32VmxCr0Fixed1", (uint32_t)WHvX64RegisterIa32VmxCr0Fixed1, 0x000020A9u },
    { "WHvX64RegisterIa32VmxCr4Fixed0", (uint32_t)WHvX64RegisterIa32VmxCr4Fixed0, 0x000020AAu },
    { "WHvX64RegisterIa32VmxCr4Fixed1", (uint32_t)WHvX64RegisterIa32VmxCr4Fixed1, 0x000020ABu },
    { "WHvX64RegisterIa32VmxVmcsEnum", (uint32_t)WHvX64RegisterIa32VmxVmcsEnum, 0x000020ACu },
    { "WHvX64RegisterIa32VmxProcbasedCtls2", (uint32_t)WHvX64RegisterIa32VmxProcbasedCtls2, 0x000020ADu },
    { "WHvX64RegisterIa32VmxEptVpidCap", (uint32_t)WHvX64RegisterIa32VmxEptVpidCap, 0x000020AEu },
    { "WHvX64RegisterIa32VmxTruePinbasedCtls", (uint32_t)WHvX64RegisterIa32VmxTruePinbasedCtls, 0x000020AFu },
    { "WHvX64RegisterIa32VmxTrueProcbasedCtls", (uint32_t)WHvX64RegisterIa32VmxTrueProcbasedCtls, 0x000020B0u },
    { "WHvX64RegisterIa32VmxTrueExitCtls", (uint32_t)WHvX64RegisterIa32VmxTrueExitCtls, 0x000020B1u },
    { "WHvX64RegisterIa32VmxTrueEntryCtls", (uint32_t)WHvX64RegisterIa32VmxTrueEntryCtls, 0x000020B2u },
    { "WHvX64RegisterAmdVmHsavePa", (uint32_t)WHvX64RegisterAmdVmHsavePa, 0x000020B3u },
    { "WHvX64RegisterAmdVmCr", (uint32_t)WHvX64RegisterAmdVmCr, 0x000020B4u },
    { "WHvX64RegisterApicId", (uint32_t)WHvX64RegisterApicId, 0x00003002u },
    { "WHvX64RegisterApicVersion", (uint32_t)WHvX64RegisterApicVersion, 0x00003003u },
    { "WHvX64RegisterApicTpr", (uint32_t)WHvX64RegisterApicTpr, 0x00003008u },
    { "WHvX64RegisterApicPpr", (uint32_t)WHvX64RegisterApicPpr, 0x0000300Au },
    { "WHvX64RegisterApicEoi", (uint32_t)WHvX64RegisterApicEoi, 0x0000300Bu },
    { "WHvX64RegisterApicLdr", (uint32_t)WHvX64RegisterApicLdr, 0x0000300Du },
    { "WHvX64RegisterApicSpurious", (uint32_t)WHvX64RegisterApicSpurious, 0x0000300Fu },
    { "WHvX64RegisterApicIsr0", (uint32_t)WHvX64RegisterApicIsr0, 0x00003010u },
    { "WHvX64RegisterApicIsr1", (uint32_t)WHvX64RegisterApicIsr1, 0x00003011u },
    { "WHvX64RegisterApicIsr2", (uint32_t)WHvX64RegisterApicIsr2, 0x00003012u },
    { "WHvX64RegisterApicIsr3", (uint32_t)WHvX64RegisterApicIsr3, 0x00003013u },
    { "WHvX64RegisterApicIsr4", (uint32_t)WHvX64RegisterApicIsr4, 0x00003014u },
    { "WHvX64RegisterApicIsr5", (uint32_t)WHvX64RegisterApicIsr5, 0x00003015u },
    { "WHvX64RegisterApicIsr6", (uint32_t)WHvX64RegisterApicIsr6, 0x00003016u },
    { "WHvX64RegisterApicIsr7", (uint32_t)WHvX64RegisterApicIsr7, 0x00003017u },
    { "WHvX64RegisterApicTmr0", (uint32_t)WHvX64RegisterApicTmr0, 0x00003018u },
    { "WHvX64RegisterApicTmr1", (uint32_t)WHvX64RegisterApicTmr1, 0x00003019u },
    { "WHvX64RegisterApicTmr2", (uint32_t)WHvX64RegisterApicTmr2, 0x0000301Au },
    { "WHvX64RegisterApicTmr3", (uint32_t)WHvX64RegisterApicTmr3, 0x0000301Bu },
    { "WHvX64RegisterApicTmr4", (uint32_t)WHvX64RegisterApicTmr4, 0x0000301Cu },
    { "WHvX64RegisterApicTmr5", (uint32_t)WHvX64RegisterApicTmr5, 0x0000301Du },
    { "WHvX64RegisterApicTmr6", (uint32_t)WHvX64RegisterApicTmr6, 0x0000301Eu },
    { "WHvX64RegisterApicTmr7", (uint32_t)WHvX64RegisterApicTmr7, 0x0000301Fu },
    { "WHvX64RegisterApicIrr0", (uint32_t)WHvX64RegisterApicIrr0, 0x00003020u },
    { "WHvX64RegisterApicIrr1", (uint32_t)WHvX64RegisterApicIrr1, 0x00003021u },
    { "WHvX64RegisterApicIrr2", (uint32_t)WHvX64RegisterApicIrr2, 0x00003022u },
    { "WHvX64RegisterApicIrr3", (uint32_t)WHvX64RegisterApicIrr3, 0x00003023u },
    { "WHvX64RegisterApicIrr4", (uint32_t)WHvX64RegisterApicIrr4, 0x00003024u },
    { "WHvX64RegisterApicIrr5", (uint32_t)WHvX64RegisterApicIrr5, 0x00003025u },
    { "WHvX64RegisterApicIrr6", (uint32_t)WHvX64RegisterApicIrr6, 0x00003026u },
    { "WHvX64RegisterApicIrr7", (uint32_t)WHvX64RegisterApicIrr7, 0x00003027u },
    { "WHvX64RegisterApicEse", (uint32_t)WHvX64RegisterApicEse, 0x00003028u },
    { "WHvX64RegisterApicIcr", (uint32_t)WHvX64RegisterApicIcr, 0x00003030u },
    { "WHvX64RegisterApicLvtTimer", (uint32_t)WHvX64RegisterApicLvtTimer, 0x00003032u },
    { "WHvX64RegisterApicLvtThermal", (uint32_t)WHvX64RegisterApicLvtThermal, 0x00003033u },
    { "WHvX64RegisterApicLvtPerfmon", (uint32_t)WHvX64RegisterApicLvtPerfmon, 0x00003034u },
    { "WHvX64RegisterApicLvtLint0", (uint32_t)WHvX64RegisterApicLvtLint0, 0x00003035u },
    { "WHvX64RegisterApicLvtLint1", (uint32_t)WHvX64RegisterApicLvtLint1, 0x00003036u },
    { "WHvX64RegisterApicLvtError", (uint32_t)WHvX64RegisterApicLvtError, 0x00003037u },
    { "WHvX64RegisterApicInitCount", (uint32_t)WHvX64RegisterApicInitCount, 0x00003038u },
    { "WHvX64RegisterApicCurrentCount", (uint32_t)WHvX64RegisterApicCurrentCount, 0x00003039u },
    { "WHvX64RegisterApicDivide", (uint32_t)WHvX64RegisterApicDivide, 0x0000303Eu },
    { "WHvX64RegisterApicSelfIpi", (uint32_t)WHvX64RegisterApicSelfIpi, 0x0000303Fu },
    { "WHvRegisterSint0", (uint32_t)WHvRegisterSint0, 0x00004000u },
    { "WHvRegisterSint1", (uint32_t)WHvRegisterSint1, 0x00004001u },
    { "WHvRegisterSint2", (uint32_t)WHvRegisterSint2, 0x00004002u },
    { "WHvRegisterSint3", (uint32_t)WHvRegisterSint3, 0x00004003u },
    { "WHvRegisterSint4", (uint32_t)WHvRegisterSint4, 0x00004004u },
    { "WHvRegisterSint5", (uint32_t)WHvRegisterSint5, 0x00004005u },
    { "WHvRegisterSint6", (uint32_t)WHvRegisterSint6, 0x00004006u },
    { "WHvRegisterSint7", (uint32_t)WHvRegisterSint7, 0x00004007u },
    { "WHvRegisterSint8", (uint32_t)WHvRegisterSint8, 0x00004008u },
    { "WHvRegisterSint9", (uint32_t)WHvRegisterSint9, 0x00004009u },
    { "WHvRegisterSint10", (uint32_t)WHvRegisterSint10, 0x0000400Au },
    { "WHvRegisterSint11", (uint32_t)WHvRegisterSint11, 0x0000400Bu },
    { "WHvRegisterSint12", (uint32_t)WHvRegisterSint12, 0x0000400Cu },
    { "WHvRegisterSint13", (uint32_t)WHvRegisterSint13, 0x0000400Du },
    { "WHvRegisterSint14", (uint32_t)WHvRegisterSint14, 0x0000400Eu },
    { "WHvRegisterSint15", (uint32_t)WHvRegisterSint15, 0x0000400Fu },
    { "WHvRegisterScontrol", (uint32_t)WHvRegisterScontrol, 0x00004010u },
    { "WHvRegisterSversion", (uint32_t)WHvRegisterSversion, 0x00004011u },
    { "WHvRegisterSiefp", (uint32_t)WHvRegisterSiefp, 0x00004012u },
    { "WHvRegisterSimp", (uint32_t)WHvRegisterSimp, 0x00004013u },
    { "WHvRegisterEom", (uint32_t)WHvRegisterEom, 0x00004014u },
    { "WHvRegisterVpRuntime", (uint32_t)WHvRegisterVpRuntime, 0x00005000u },
    { "WHvX64RegisterHypercall", (uint32_t)WHvX64RegisterHypercall, 0x00005001u },
    { "WHvRegisterGuestOsId", (uint32_t)WHvRegisterGuestOsId, 0x00005002u },
    { "WHvRegisterVpAssistPage", (uint32_t)WHvRegisterVpAssistPage, 0x00005013u },
    { "WHvRegisterReferenceTsc", (uint32_t)WHvRegisterReferenceTsc, 0x00005017u },
    { "WHvRegisterReferenceTscSequence", (uint32_t)WHvRegisterReferenceTscSequence, 0x0000501Au },
    { "WHvX64RegisterNestedGuestState", (uint32_t)WHvX64RegisterNestedGuestState, 0x00005050u },
    { "WHvX64RegisterNestedCurrentVmGpa", (uint32_t)WHvX64RegisterNestedCurrentVmGpa, 0x00005051u },
    { "WHvX64RegisterNestedVmxInvEpt", (uint32_t)WHvX64RegisterNestedVmxInvEpt, 0x00005052u },
    { "WHvX64RegisterNestedVmxInvVpid", (uint32_t)WHvX64RegisterNestedVmxInvVpid, 0x00005053u },
    { "WHvRegisterPendingInterruption", (uint32_t)WHvRegisterPendingInterruption, 0x80000000u },
    { "WHvRegisterInterruptState", (uint32_t)WHvRegisterInterruptState, 0x80000001u },
    { "WHvRegisterPendingEvent", (uint32_t)WHvRegisterPendingEvent, 0x80000002u },
    { "WHvRegisterPendingEvent1", (uint32_t)WHvRegisterPendingEvent1, 0x80000003u },
    { "WHvX64RegisterDeliverabilityNotifications", (uint32_t)WHvX64RegisterDeliverabilityNotifications, 0x80000004u },
    { "WHvRegisterDeliverabilityNotifications", (uint32_t)WHvRegisterDeliverabilityNotifications, 0x80000004u },
    { "WHvRegisterInternalActivityState", (uint32_t)WHvRegisterInternalActivityState, 0x80000005u },
    { "WHvX64RegisterPendingDebugException", (uint32_t)WHvX64RegisterPendingDebugException, 0x80000006u },
    { "WHvRegisterPendingEvent2", (uint32_t)WHvRegisterPendingEvent2, 0x80000007u },
    { "WHvRegisterPendingEvent3", (uint32_t)WHvRegisterPendingEvent3, 0x80000008u },
};

static const struct named_value hv_errors[] = {
    { "ERROR_HV_INVALID_HYPERCALL_CODE", (uint32_t)ERROR_HV_INVALID_HYPERCALL_CODE, 0xC0350002u },
    { "ERROR_HV_INVALID_HYPERCALL_INPUT", (uint32_t)ERROR_HV_INVALID_HYPERCALL_INPUT, 0xC0350003u },
    { "ERROR_HV_INVALID_ALIGNMENT", (uint32_t)ERROR_HV_INVALID_ALIGNMENT, 0xC0350004u },
    { "ERROR_HV_INVALID_PARAMETER", (uint32_t)ERROR_HV_INVALID_PARAMETER, 0xC0350005u },
    { "ERROR_HV_ACCESS_DENIED", (uint32_t)ERROR_HV_ACCESS_DENIED, 0xC0350006u },
    { "ERROR_HV_INVALID_PARTITION_STATE", (uint32_t)ERROR_HV_INVALID_PARTITION_STATE, 0xC0350007u },
    { "ERROR_HV_OPERATION_DENIED", (uint32_t)ERROR_HV_OPERATION_DENIED, 0xC0350008u },
    { "ERROR_HV_UNKNOWN_PROPERTY", (uint32_t)ERROR_HV_UNKNOWN_PROPERTY, 0xC0350009u },
    { "ERROR_HV_PROPERTY_VALUE_OUT_OF_RANGE", (uint32_t)ERROR_HV_PROPERTY_VALUE_OUT_OF_RANGE, 0xC035000Au },
    { "ERROR_HV_INSUFFICIENT_MEMORY", (uint32_t)ERROR_HV_INSUFFICIENT_MEMORY, 0xC035000Bu },
    { "ERROR_HV_PARTITION_TOO_DEEP", (uint32_t)ERROR_HV_PARTITION_TOO_DEEP, 0xC035000Cu },
    { "ERROR_HV_INVALID_PARTITION_ID", (uint32_t)ERROR_HV_INVALID_PARTITION_ID, 0xC035000Du },
    { "ERROR_HV_INVALID_VP_INDEX", (uint32_t)ERROR_HV_INVALID_VP_INDEX, 0xC035000Eu },
    { "ERROR_HV_NOT_FOUND", (uint32_t)ERROR_HV_NOT_FOUND, 0xC0350010u },
    { "ERROR_HV_INVALID_PORT_ID", (uint32_t)ERROR_HV_INVALID_PORT_ID, 0xC0350011u },
    { "ERROR_HV_INVALID_CONNECTION_ID", (uint32_t)ERROR_HV_INVALID_CONNECTION_ID, 0xC0350012u },
    { "ERROR_HV_INSUFFICIENT_BUFFERS", (uint32_t)ERROR_HV_INSUFFICIENT_BUFFERS, 0xC0350013u },
    { "ERROR_HV_NOT_ACKNOWLEDGED", (uint32_t)ERROR_HV_NOT_ACKNOWLEDGED, 0xC0350014u },
    { "ERROR_HV_INVALID_VP_STATE", (uint32_t)ERROR_HV_INVALID_VP_STATE, 0xC0350015u },
    { "ERROR_HV_ACKNOWLEDGED", (uint32_t)ERROR_HV_ACKNOWLEDGED, 0xC0350016u },
    { "ERROR_HV_INVALID_SAVE_RESTORE_STATE", (uint32_t)ERROR_HV_INVALID_SAVE_RESTORE_STATE, 0xC0350017u },
    { "ERROR_HV_INVALID_SYNIC_STATE", (uint32_t)ERROR_HV_INVALID_SYNIC_STATE, 0xC0350018u },
    { "ERROR_HV_OBJECT_IN_USE", (uint32_t)ERROR_HV_OBJECT_IN_USE, 0xC0350019u },
    { "ERROR_HV_INVALID_PROXIMITY_DOMAIN_INFO", (uint32_t)ERROR_HV_INVALID_PROXIMITY_DOMAIN_INFO, 0xC035001Au },
    { "ERROR_HV_NO_DATA", (uint32_t)ERROR_HV_NO_DATA, 0xC035001Bu },
    { "ERROR_HV_INACTIVE", (uint32_t)ERROR_HV_INACTIVE, 0xC035001Cu },
    { "ERROR_HV_NO_RESOURCES", (uint32_t)ERROR_HV_NO_RESOURCES, 0xC035001Du },
    { "ERROR_HV_FEATURE_UNAVAILABLE", (uint32_t)ERROR_HV_FEATURE_UNAVAILABLE, 0xC035001Eu },
    { "ERROR_HV_PARTIAL_PACKET", (uint32_t)ERROR_HV_PARTIAL_PACKET, 0xC035001Fu },
    { "ERROR_HV_PROCESSOR_FEATURE_NOT_SUPPORTED", (uint32_t)ERROR_HV_PROCESSOR_FEATURE_NOT_SUPPORTED, 0xC0350020u },
    { "ERROR_HV_PROCESSOR_CACHE_LINE_FLUSH_SIZE_INCOMPATIBLE", (uint32_t)ERROR_HV_PROCESSOR_CACHE_LINE_FLUSH_SIZE_INCOMPATIBLE, 0xC0350030u },
    { "ERROR_HV_INSUFFICIENT_BUFFER", (uint32_t)ERROR_HV_INSUFFICIENT_BUFFER, 0xC0350033u },
    { "ERROR_HV_INCOMPATIBLE_PROCESSOR", (uint32_t)ERROR_HV_INCOMPATIBLE_PROCESSOR, 0xC0350037u },
    { "ERROR_HV_INSUFFICIENT_DEVICE_DOMAINS", (uint32_t)ERROR_HV_INSUFFICIENT_DEVICE_DOMAINS, 0xC0350038u },
    { "ERROR_HV_CPUID_FEATURE_VALIDATION", (uint32_t)ERROR_HV_CPUID_FEATURE_VALIDATION, 0xC035003Cu },
    { "ERROR_HV_CPUID_XSAVE_FEATURE_VALIDATION", (uint32_t)ERROR_HV_CPUID_XSAVE_FEATURE_VALIDATION, 0xC035003Du },
    { "ERROR_HV_PROCESSOR_STARTUP_TIMEOUT", (uint32_t)ERROR_HV_PROCESSOR_STARTUP_TIMEOUT, 0xC035003Eu },
    { "ERROR_HV_SMX_ENABLED", (uint32_t)ERROR_HV_SMX_ENABLED, 0xC035003Fu },
    { "ERROR_HV_INVALID_LP_INDEX", (uint32_t)ERROR_HV_INVALID_LP_INDEX, 0xC0350041u },
    { "ERROR_HV_INVALID_REGISTER_VALUE", (uint32_t)ERROR_HV_INVALID_REGISTER_VALUE, 0xC0350050u },
    { "ERROR_HV_INVALID_VTL_STATE", (uint32_t)ERROR_HV_INVALID_VTL_STATE, 0xC0350051u },
    { "ERROR_HV_NX_NOT_DETECTED", (uint32_t)ERROR_HV_NX_NOT_DETECTED, 0xC0350055u },
    { "ERROR_HV_INVALID_DEVICE_ID", (uint32_t)ERROR_HV_INVALID_DEVICE_ID, 0xC0350057u },
    { "ERROR_HV_INVALID_DEVICE_STATE", (uint32_t)ERROR_HV_INVALID_DEVICE_STATE, 0xC0350058u },
    { "ERROR_HV_PAGE_REQUEST_INVALID", (uint32_t)ERROR_HV_PAGE_REQUEST_INVALID, 0xC0350060u },
    { "ERROR_HV_KEY_ALREADY_EXISTS", (uint32_t)ERROR_HV_KEY_ALREADY_EXISTS, 0xC0350065u },
    { "ERROR_HV_DEVICE_ALREADY_IN_DOMAIN", (uint32_t)ERROR_HV_DEVICE_ALREADY_IN_DOMAIN, 0xC0350066u },
    { "ERROR_HV_INVALID_CPU_GROUP_ID", (uint32_t)ERROR_HV_INVALID_CPU_GROUP_ID, 0xC035006Fu },
    { "ERROR_HV_INVALID_CPU_GROUP_STATE", (uint32_t)ERROR_HV_INVALID_CPU_GROUP_STATE, 0xC0350070u },
    { "ERROR_HV_OPERATION_FAILED", (uint32_t)ERROR_HV_OPERATION_FAILED, 0xC0350071u },
    { "ERROR_HV_NOT_ALLOWED_WITH_NESTED_VIRT_ACTIVE", (uint32_t)ERROR_HV_NOT_ALLOWED_WITH_NESTED_VIRT_ACTIVE, 0xC0350072u },
    { "ERROR_HV_INSUFFICIENT_ROOT_MEMORY", (uint32_t)ERROR_HV_INSUFFICIENT_ROOT_MEMORY, 0xC0350073u },
    { "ERROR_HV_EVENT_BUFFER_ALREADY_FREED", (uint32_t)ERROR_HV_EVENT_BUFFER_ALREADY_FREED, 0xC0350074u },
    { "ERROR_HV_INSUFFICIENT_CONTIGUOUS_MEMORY", (uint32_t)ERROR_HV_INSUFFICIENT_CONTIGUOUS_MEMORY, 0xC0350075u },
    { "ERROR_HV_DEVICE_NOT_IN_DOMAIN", (uint32_t)ERROR_HV_DEVICE_NOT_IN_DOMAIN, 0xC0350076u },
    { "ERROR_HV_NESTED_VM_EXIT", (uint32_t)ERROR_HV_NESTED_VM_EXIT, 0xC0350077u },
    { "ERROR_HV_TIME_OUT", (uint32_t)ERROR_HV_TIME_OUT, 0xC0350078u },
    { "ERROR_HV_CALL_PENDING", (uint32_t)ERROR_HV_CALL_PENDING, 0xC0350079u },
    { "ERROR_HV_MSR_ACCESS_FAILED", (uint32_t)ERROR_HV_MSR_ACCESS_FAILED, 0xC0350080u },
    { "ERROR_HV_INSUFFICIENT_MEMORY_MIRRORING", (uint32_t)ERROR_HV_INSUFFICIENT_MEMORY_MIRRORING, 0xC0350081u },
    { "ERROR_HV_INSUFFICIENT_CONTIGUOUS_MEMORY_MIRRORING", (uint32_t)ERROR_HV_INSUFFICIENT_CONTIGUOUS_MEMORY_MIRRORING, 0xC0350082u },
    { "ERROR_HV_INSUFFICIENT_CONTIGUOUS_ROOT_MEMORY", (uint32_t)ERROR_HV_INSUFFICIENT_CONTIGUOUS_ROOT_MEMORY, 0xC0350083u },
    { "ERROR_HV_INSUFFICIENT_ROOT_MEMORY_MIRRORING", (uint32_t)ERROR_HV_INSUFFICIENT_ROOT_MEMORY_MIRRORING, 0xC0350084u },
    { "ERROR_HV_VTL_ALREADY_ENABLED", (uint32_t)ERROR_HV_VTL_ALREADY_ENABLED, 0xC0350086u },
    { "ERROR_HV_UNKNOWN_REGISTER_NAME", (uint32_t)ERROR_HV_UNKNOWN_REGISTER_NAME, 0xC0350087u },
};

static void check_table(const struct named_value *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_u64(t[i].name, t[i].got, t[i].want);
}

static void test_base_types(void)
{
    SIZE(HRESULT, 4);
    SIZE(BOOL, 4);
    SIZE(BOOLEAN, 1);
    SIZE(LONG, 4);
    SIZE(ULONG, 4);
    SIZE(DWORD, 4);
    SIZE(WCHAR, 2);
    SIZE(HANDLE, 8);
    SIZE(GUID, 16);
    OFF(GUID, Data2, 4);
    OFF(GUID, Data3, 6);
    OFF(GUID, Data4, 8);
    SIZE(WHV_PARTITION_HANDLE, 8);
    SIZE(WHV_TRIGGER_HANDLE, 8);
    SIZE(WHV_NOTIFICATION_PORT_HANDLE, 8);
    SIZE(WHV_EMULATOR_HANDLE, 8);
    SIZE(WHV_GUEST_PHYSICAL_ADDRESS, 8);
    SIZE(WHV_GUEST_VIRTUAL_ADDRESS, 8);
    SIZE(WHV_VTL, 1);
    SIZE(WHV_NOTIFICATION_PORT_PROPERTY, 8);
    VAL(WHV_VTL_ALL, 0xF);
    /* all WHV_* enums are 32-bit */
    SIZE(WHV_CAPABILITY_CODE, 4);
    SIZE(WHV_PARTITION_PROPERTY_CODE, 4);
    SIZE(WHV_REGISTER_NAME, 4);
    SIZE(WHV_RUN_VP_EXIT_REASON, 4);
    SIZE(WHV_INTERRUPT_TYPE, 4);
    SIZE(WHV_TRIGGER_TYPE, 4);
    SIZE(WHV_NOTIFICATION_PORT_TYPE, 4);
    SIZE(WHV_VIRTUAL_PROCESSOR_STATE_TYPE, 4);
    SIZE(WHV_MAP_GPA_RANGE_FLAGS, 4);
}

static void test_error_codes(void)
{
    HR(S_OK, 0);
    HR(S_FALSE, 1);
    HR(E_INVALIDARG, 0x80070057);
    HR(E_OUTOFMEMORY, 0x8007000E);
    HR(E_ACCESSDENIED, 0x80070005);
    HR(E_FAIL, 0x80004005);
    HR(E_NOTIMPL, 0x80004001);
    HR(E_UNEXPECTED, 0x8000FFFF);
    HR(E_HANDLE, 0x80070006);
    HR(E_POINTER, 0x80004003);
    HR(E_PENDING, 0x8000000A);
    VAL(ERROR_NOT_FOUND, 1168);
    VAL(ERROR_INVALID_PARAMETER, 87);
    VAL(ERROR_NOT_SUPPORTED, 50);
    VAL(ERROR_BUSY, 170);
    VAL(INFINITE, 0xFFFFFFFF);
    VAL(WAIT_OBJECT_0, 0);
    VAL(WAIT_TIMEOUT, 258);
    VAL(WAIT_ABANDONED, 0x80);
    VAL(WAIT_ABANDONED_0, 0x80);
    VAL(WAIT_IO_COMPLETION, 0xC0);
    VAL(WAIT_FAILED, 0xFFFFFFFF);
    HR(HRESULT_FROM_WIN32(ERROR_NOT_FOUND), 0x80070490);
    HR(HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER), 0x80070057);
    HR(HRESULT_FROM_WIN32(0), 0);
    HR(HRESULT_FROM_WIN32(ERROR_HV_OPERATION_DENIED), 0xC0350008);
    HR(HRESULT_FROM_WIN32(ERROR_HV_OBJECT_IN_USE), 0xC0350019);
    HR(HRESULT_FROM_WIN32(ERROR_HV_INVALID_SYNIC_STATE), 0xC0350018);
    HR(MAKE_HRESULT(1, FACILITY_WIN32, 87), 0x80070057);
    check_true("SUCCEEDED(S_FALSE)", SUCCEEDED(S_FALSE));
    check_true("FAILED(E_FAIL)", FAILED(E_FAIL));
    check_true("FAILED(WHV_E_UNKNOWN_CAPABILITY)", FAILED(WHV_E_UNKNOWN_CAPABILITY));
    check_true("!FAILED(S_OK)", !FAILED(S_OK));
    {
        HRESULT hr = E_INVALIDARG; /* compares with a variable without conversion games */
        check_true("hr == E_INVALIDARG", hr == E_INVALIDARG);
        hr = HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
        check_true("hr == HRESULT_FROM_WIN32(ERROR_NOT_FOUND)", hr == (HRESULT)0x80070490L);
    }

    HR(WHV_E_UNKNOWN_CAPABILITY, 0x80370300);
    HR(WHV_E_INSUFFICIENT_BUFFER, 0x80370301);
    HR(WHV_E_UNKNOWN_PROPERTY, 0x80370302);
    HR(WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG, 0x80370303);
    HR(WHV_E_INVALID_PARTITION_CONFIG, 0x80370304);
    HR(WHV_E_GPA_RANGE_NOT_FOUND, 0x80370305);
    HR(WHV_E_VP_ALREADY_EXISTS, 0x80370306);
    HR(WHV_E_VP_DOES_NOT_EXIST, 0x80370307);
    HR(WHV_E_INVALID_VP_STATE, 0x80370308);
    HR(WHV_E_INVALID_VP_REGISTER_NAME, 0x80370309);
    HR(WHV_E_UNSUPPORTED_PROCESSOR_CONFIG, 0x80370310);

    check_table(hv_errors, sizeof hv_errors / sizeof hv_errors[0]);
    HR(ERROR_HV_NOT_PRESENT, 0xC0351000);
    HR(ERROR_HV_PENDING_PAGE_REQUESTS, 0x00350059); /* informational in winerror.h */
    /* openvmm's recovery of the HV status from an HRESULT */
    check_u64("HV status of ERROR_HV_INVALID_DEVICE_ID",
              ((uint32_t)ERROR_HV_INVALID_DEVICE_ID & 0x3FFF0000u) == 0x00350000u
                  ? ((uint32_t)ERROR_HV_INVALID_DEVICE_ID & 0xFFFFu) : 0xFFFFFFFFu,
              0x57);
}

static void test_constants(void)
{
    VAL(WHV_SYNIC_MESSAGE_SIZE, 256);
    VAL(WHV_ANY_VP, 0xFFFFFFFF);
    VAL(WHV_NOTIFICATION_PORT_PREFERRED_DURATION_MAX, 0xFFFFFFFFFFFFFFFFull);
    SIZE(WHV_NOTIFICATION_PORT_PREFERRED_DURATION_MAX, 8);
    VAL(WHV_HYPERCALL_CONTEXT_MAX_XMM_REGISTERS, 6);
    VAL(WHV_READ_WRITE_GPA_RANGE_MAX_SIZE, 16);
    VAL(WHV_PROCESSOR_FEATURES_BANKS_COUNT, 2);
    VAL(WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS_COUNT, 1);
    VAL(WHV_MAX_DEVICE_ID_SIZE_IN_CHARS, 200);
    VAL(WHV_VPCI_TYPE0_BAR_COUNT, 6);
}

static void test_interrupt_enums(void)
{
    VAL(WHvX64InterruptTypeFixed, 0);
    VAL(WHvX64InterruptTypeLowestPriority, 1);
    VAL(WHvX64InterruptTypeNmi, 4);
    VAL(WHvX64InterruptTypeInit, 5);
    VAL(WHvX64InterruptTypeSipi, 6);
    VAL(WHvX64InterruptTypeLocalInt1, 9);
    VAL(OPENWHP_X64_INTERRUPT_TYPE_SMI, 2);
    VAL(OPENWHP_X64_INTERRUPT_TYPE_REMOTE_READ, 3);
    VAL(OPENWHP_X64_INTERRUPT_TYPE_EXT_INT, 7);
    VAL(OPENWHP_X64_INTERRUPT_TYPE_LOCAL_INT0, 8);
    VAL(WHvX64InterruptDestinationModePhysical, 0);
    VAL(WHvX64InterruptDestinationModeLogical, 1);
    VAL(WHvX64InterruptTriggerModeEdge, 0);
    VAL(WHvX64InterruptTriggerModeLevel, 1);
    VAL(WHvTriggerTypeInterrupt, 0);
    VAL(WHvTriggerTypeSynicEvent, 1);
    VAL(WHvTriggerTypeDeviceInterrupt, 2);
    VAL(WHvNotificationPortTypeEvent, 2);
    VAL(WHvNotificationPortTypeDoorbell, 4);
    VAL(WHvNotificationPortPropertyPreferredTargetVp, 1);
    VAL(WHvNotificationPortPropertyPreferredTargetDuration, 5);
    VAL(WHvVirtualProcessorStateTypeSynicMessagePage, 0x0);
    VAL(WHvVirtualProcessorStateTypeSynicEventFlagPage, 0x1);
    VAL(WHvVirtualProcessorStateTypeSynicTimerState, 0x2);
    VAL(WHvVirtualProcessorStateTypeInterruptControllerState2, 0x1000);
    VAL(WHvVirtualProcessorStateTypeXsaveState, 0x1001);
    VAL(WHvVirtualProcessorStateTypeNestedState, 0x1002);
    VAL(WHvVirtualProcessorPropertyCodeNumaNode, 0);
}

static void test_interrupt_structs(void)
{
    /* 2.2 WHV_INTERRUPT_CONTROL */
    SIZE(WHV_INTERRUPT_CONTROL, 16);
    ALIGN(WHV_INTERRUPT_CONTROL, 8);
    BF(WHV_INTERRUPT_CONTROL, Type, 0, 8);
    BF(WHV_INTERRUPT_CONTROL, DestinationMode, 8, 4);
    BF(WHV_INTERRUPT_CONTROL, TriggerMode, 12, 4);
    BF(WHV_INTERRUPT_CONTROL, TargetVtl, 16, 8);
    BF(WHV_INTERRUPT_CONTROL, Reserved, 24, 40);
    OFF(WHV_INTERRUPT_CONTROL, Destination, 8);
    OFF(WHV_INTERRUPT_CONTROL, Vector, 12);
    {
        WHV_INTERRUPT_CONTROL ic;
        UINT64 raw;
        memset(&ic, 0, sizeof ic);
        ic.Type = 0xAA;
        ic.DestinationMode = WHvX64InterruptDestinationModeLogical;
        ic.TriggerMode = WHvX64InterruptTriggerModeLevel;
        ic.TargetVtl = 5;
        memcpy(&raw, &ic, sizeof raw);
        check_u64("InterruptControl{Type=0xAA,Dest=1,Trig=1,Vtl=5} raw", raw, 0x00000000000511AAull);
    }

    /* 2.3 WHV_SYNIC_EVENT_PARAMETERS */
    SIZE(WHV_SYNIC_EVENT_PARAMETERS, 8);
    OFF(WHV_SYNIC_EVENT_PARAMETERS, VpIndex, 0);
    OFF(WHV_SYNIC_EVENT_PARAMETERS, TargetSint, 4);
    OFF(WHV_SYNIC_EVENT_PARAMETERS, TargetVtl, 5);
    OFF(WHV_SYNIC_EVENT_PARAMETERS, FlagNumber, 6);

    /* 2.4 WHV_DOORBELL_MATCH_DATA */
    SIZE(WHV_DOORBELL_MATCH_DATA, 24);
    OFF(WHV_DOORBELL_MATCH_DATA, GuestAddress, 0);
    OFF(WHV_DOORBELL_MATCH_DATA, Value, 8);
    OFF(WHV_DOORBELL_MATCH_DATA, Length, 16);
    BF(WHV_DOORBELL_MATCH_DATA, MatchOnValue, 20 * 8 + 0, 1);
    BF(WHV_DOORBELL_MATCH_DATA, MatchOnLength, 20 * 8 + 1, 1);
    BF(WHV_DOORBELL_MATCH_DATA, Reserved, 20 * 8 + 2, 30);

    /* 2.5 WHV_NOTIFICATION_PORT_PARAMETERS */
    SIZE(WHV_NOTIFICATION_PORT_PARAMETERS, 32);
    OFF(WHV_NOTIFICATION_PORT_PARAMETERS, NotificationPortType, 0);
    OFF(WHV_NOTIFICATION_PORT_PARAMETERS, Reserved, 4);
    OFF(WHV_NOTIFICATION_PORT_PARAMETERS, Reserved1, 6);
    OFF(WHV_NOTIFICATION_PORT_PARAMETERS, ConnectionVtl, 7);
    OFF(WHV_NOTIFICATION_PORT_PARAMETERS, Doorbell, 8);
    OFF(WHV_NOTIFICATION_PORT_PARAMETERS, Event.ConnectionId, 8);

    /* 2.6 WHV_TRIGGER_PARAMETERS */
    SIZE(WHV_TRIGGER_PARAMETERS, 32);
    OFF(WHV_TRIGGER_PARAMETERS, TriggerType, 0);
    OFF(WHV_TRIGGER_PARAMETERS, Reserved, 4);
    OFF(WHV_TRIGGER_PARAMETERS, Interrupt, 8);
    OFF(WHV_TRIGGER_PARAMETERS, SynicEvent, 8);
    OFF(WHV_TRIGGER_PARAMETERS, DeviceInterrupt.LogicalDeviceId, 8);
    OFF(WHV_TRIGGER_PARAMETERS, DeviceInterrupt.MsiAddress, 16);
    OFF(WHV_TRIGGER_PARAMETERS, DeviceInterrupt.MsiData, 24);
    OFF(WHV_TRIGGER_PARAMETERS, DeviceInterrupt.Reserved, 28);

    SIZE(WHV_VIRTUAL_PROCESSOR_PROPERTY, 16);
    OFF(WHV_VIRTUAL_PROCESSOR_PROPERTY, PropertyCode, 0);
    OFF(WHV_VIRTUAL_PROCESSOR_PROPERTY, Reserved, 4);
    OFF(WHV_VIRTUAL_PROCESSOR_PROPERTY, NumaNode, 8);
    OFF(WHV_VIRTUAL_PROCESSOR_PROPERTY, Padding, 8);
    SIZE(USHORT, 2);
}

static void test_capabilities(void)
{
    VAL(WHvCapabilityCodeHypervisorPresent, 0x0);
    VAL(WHvCapabilityCodeFeatures, 0x1);
    VAL(WHvCapabilityCodeExtendedVmExits, 0x2);
    VAL(WHvCapabilityCodeExceptionExitBitmap, 0x3);
    VAL(WHvCapabilityCodeX64MsrExitBitmap, 0x4);
    VAL(WHvCapabilityCodeGpaRangePopulateFlags, 0x5);
    VAL(WHvCapabilityCodeSchedulerFeatures, 0x6);
    VAL(WHvCapabilityCodeProcessorVendor, 0x1000);
    VAL(WHvCapabilityCodeProcessorFeatures, 0x1001);
    VAL(WHvCapabilityCodeProcessorClFlushSize, 0x1002);
    VAL(WHvCapabilityCodeProcessorXsaveFeatures, 0x1003);
    VAL(WHvCapabilityCodeProcessorClockFrequency, 0x1004);
    VAL(WHvCapabilityCodeInterruptClockFrequency, 0x1005);
    VAL(WHvCapabilityCodeProcessorFeaturesBanks, 0x1006);
    VAL(WHvCapabilityCodeProcessorFrequencyCap, 0x1007);
    VAL(WHvCapabilityCodeSyntheticProcessorFeaturesBanks, 0x1008);
    VAL(WHvCapabilityCodeProcessorPerfmonFeatures, 0x1009);
    VAL(WHvCapabilityCodePhysicalAddressWidth, 0x100A);
    VAL(WHvCapabilityCodeVmxBasic, 0x2000);
    VAL(WHvCapabilityCodeVmxPinbasedCtls, 0x2001);
    VAL(WHvCapabilityCodeVmxProcbasedCtls, 0x2002);
    VAL(WHvCapabilityCodeVmxExitCtls, 0x2003);
    VAL(WHvCapabilityCodeVmxEntryCtls, 0x2004);
    VAL(WHvCapabilityCodeVmxMisc, 0x2005);
    VAL(WHvCapabilityCodeVmxCr0Fixed0, 0x2006);
    VAL(WHvCapabilityCodeVmxCr0Fixed1, 0x2007);
    VAL(WHvCapabilityCodeVmxCr4Fixed0, 0x2008);
    VAL(WHvCapabilityCodeVmxCr4Fixed1, 0x2009);
    VAL(WHvCapabilityCodeVmxVmcsEnum, 0x200A);
    VAL(WHvCapabilityCodeVmxProcbasedCtls2, 0x200B);
    VAL(WHvCapabilityCodeVmxEptVpidCap, 0x200C);
    VAL(WHvCapabilityCodeVmxTruePinbasedCtls, 0x200D);
    VAL(WHvCapabilityCodeVmxTrueProcbasedCtls, 0x200E);
    VAL(WHvCapabilityCodeVmxTrueExitCtls, 0x200F);
    VAL(WHvCapabilityCodeVmxTrueEntryCtls, 0x2010);

    VAL(WHvProcessorVendorAmd, 0);
    VAL(WHvProcessorVendorIntel, 1);
    VAL(WHvProcessorVendorHygon, 2);
    VAL(WHvProcessorVendorArm, 0x10);

    SIZE(WHV_CAPABILITY, 24);
    SIZE(WHV_CAPABILITY_FEATURES, 8);
    BF(WHV_CAPABILITY_FEATURES, PartialUnmap, 0, 1);
    BF(WHV_CAPABILITY_FEATURES, LocalApicEmulation, 1, 1);
    BF(WHV_CAPABILITY_FEATURES, Xsave, 2, 1);
    BF(WHV_CAPABILITY_FEATURES, DirtyPageTracking, 3, 1);
    BF(WHV_CAPABILITY_FEATURES, SpeculationControl, 4, 1);
    BF(WHV_CAPABILITY_FEATURES, ApicRemoteRead, 5, 1);
    BF(WHV_CAPABILITY_FEATURES, IdleSuspend, 6, 1);
    BF(WHV_CAPABILITY_FEATURES, VirtualPciDeviceSupport, 7, 1);
    BF(WHV_CAPABILITY_FEATURES, IommuSupport, 8, 1);
    BF(WHV_CAPABILITY_FEATURES, VpHotAddRemove, 9, 1);
    BF(WHV_CAPABILITY_FEATURES, DeviceAccessTracking, 10, 1);
    BF(WHV_CAPABILITY_FEATURES, Reserved, 12, 52);

    SIZE(WHV_EXTENDED_VM_EXITS, 8);
    BF(WHV_EXTENDED_VM_EXITS, X64CpuidExit, 0, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64MsrExit, 1, 1);
    BF(WHV_EXTENDED_VM_EXITS, ExceptionExit, 2, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64RdtscExit, 3, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64ApicSmiExitTrap, 4, 1);
    BF(WHV_EXTENDED_VM_EXITS, HypercallExit, 5, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64ApicInitSipiExitTrap, 6, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64ApicWriteLint0ExitTrap, 7, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64ApicWriteLint1ExitTrap, 8, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64ApicWriteSvrExitTrap, 9, 1);
    BF(WHV_EXTENDED_VM_EXITS, UnknownSynicConnection, 10, 1);
    BF(WHV_EXTENDED_VM_EXITS, RetargetUnknownVpciDevice, 11, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64ApicWriteLdrExitTrap, 12, 1);
    BF(WHV_EXTENDED_VM_EXITS, X64ApicWriteDfrExitTrap, 13, 1);
    BF(WHV_EXTENDED_VM_EXITS, GpaAccessFaultExit, 14, 1);
    BF(WHV_EXTENDED_VM_EXITS, Reserved, 15, 49);

    SIZE(WHV_SYNTHETIC_PROCESSOR_FEATURES, 8);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, HypervisorPresent, 0, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, Hv1, 1, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessVpRunTimeReg, 2, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessPartitionReferenceCounter, 3, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessSynicRegs, 4, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessSyntheticTimerRegs, 5, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessIntrCtrlRegs, 6, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessHypercallRegs, 7, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessVpIndex, 8, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessPartitionReferenceTsc, 9, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessGuestIdleReg, 10, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessFrequencyRegs, 11, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, EnableExtendedGvaRangesForFlushVirtualAddressList, 15, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, FastHypercallOutput, 18, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, DirectSyntheticTimers, 22, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, ExtendedProcessorMasks, 24, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, TbFlushHypercalls, 25, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, SyntheticClusterIpi, 26, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, NotifyLongSpinWait, 27, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, QueryNumaDistance, 28, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, SignalEvents, 29, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, RetargetDeviceInterrupt, 30, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, RestoreTime, 31, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, EnlightenedVmcs, 32, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, NestedDebugCtl, 33, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, SyntheticTimeUnhaltedTimer, 34, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, IdleSpecCtrl, 35, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, WakeVps, 37, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, AccessVpRegs, 38, 1);
    BF(WHV_SYNTHETIC_PROCESSOR_FEATURES, Reserved, 45, 19);

    SIZE(WHV_X64_MSR_EXIT_BITMAP, 8);
    BF(WHV_X64_MSR_EXIT_BITMAP, UnhandledMsrs, 0, 1);
    BF(WHV_X64_MSR_EXIT_BITMAP, TscMsrWrite, 1, 1);
    BF(WHV_X64_MSR_EXIT_BITMAP, TscMsrRead, 2, 1);
    BF(WHV_X64_MSR_EXIT_BITMAP, ApicBaseMsrWrite, 3, 1);
    BF(WHV_X64_MSR_EXIT_BITMAP, MiscEnableMsrRead, 4, 1);
    BF(WHV_X64_MSR_EXIT_BITMAP, McUpdatePatchLevelMsrRead, 5, 1);

    SIZE(WHV_SCHEDULER_FEATURES, 8);
    BF(WHV_SCHEDULER_FEATURES, CpuReserve, 0, 1);
    BF(WHV_SCHEDULER_FEATURES, CpuCap, 1, 1);
    BF(WHV_SCHEDULER_FEATURES, CpuWeight, 2, 1);
    BF(WHV_SCHEDULER_FEATURES, CpuGroupId, 3, 1);
    BF(WHV_SCHEDULER_FEATURES, DisableSmt, 4, 1);

    SIZE(WHV_PROCESSOR_PERFMON_FEATURES, 8);
    BF(WHV_PROCESSOR_PERFMON_FEATURES, PmuSupport, 0, 1);
    BF(WHV_PROCESSOR_PERFMON_FEATURES, LbrSupport, 1, 1);

    SIZE(WHV_PROCESSOR_FEATURES, 8);
    SIZE(WHV_PROCESSOR_FEATURES1, 8);
    SIZE(WHV_PROCESSOR_XSAVE_FEATURES, 8);
    BF(WHV_PROCESSOR_FEATURES, Sse3Support, 0, 1);
    BF(WHV_PROCESSOR_FEATURES, MovbeSupport, 29, 1);
    BF(WHV_PROCESSOR_FEATURES, RdtscpSupport, 38, 1);
    BF(WHV_PROCESSOR_FEATURES, TsxCtrlSupport, 62, 1);
    BF(WHV_PROCESSOR_FEATURES1, ClZeroSupport, 2, 1);
    BF(WHV_PROCESSOR_FEATURES1, TscDeadlineTmrSupport, 17, 1);
    BF(WHV_PROCESSOR_XSAVE_FEATURES, XsaveSupport, 0, 1);
    BF(WHV_PROCESSOR_XSAVE_FEATURES, AvxSupport, 2, 1);

    SIZE(WHV_PROCESSOR_FEATURES_BANKS, 24);
    OFF(WHV_PROCESSOR_FEATURES_BANKS, BanksCount, 0);
    OFF(WHV_PROCESSOR_FEATURES_BANKS, Reserved0, 4);
    OFF(WHV_PROCESSOR_FEATURES_BANKS, Bank0, 8);
    OFF(WHV_PROCESSOR_FEATURES_BANKS, Bank1, 16);
    OFF(WHV_PROCESSOR_FEATURES_BANKS, AsUINT64, 8);

    SIZE(WHV_CAPABILITY_PROCESSOR_FREQUENCY_CAP, 20);
    BF(WHV_CAPABILITY_PROCESSOR_FREQUENCY_CAP, IsSupported, 0, 1);
    OFF(WHV_CAPABILITY_PROCESSOR_FREQUENCY_CAP, HighestFrequencyMhz, 4);
    OFF(WHV_CAPABILITY_PROCESSOR_FREQUENCY_CAP, NominalFrequencyMhz, 8);
    OFF(WHV_CAPABILITY_PROCESSOR_FREQUENCY_CAP, LowestFrequencyMhz, 12);
    OFF(WHV_CAPABILITY_PROCESSOR_FREQUENCY_CAP, FrequencyStepMhz, 16);

    SIZE(WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS, 16);
    OFF(WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS, BanksCount, 0);
    OFF(WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS, Reserved0, 4);
    OFF(WHV_SYNTHETIC_PROCESSOR_FEATURES_BANKS, Bank0, 8);

    SIZE(WHV_ADVISE_GPA_RANGE_POPULATE_FLAGS, 4);
    BF(WHV_ADVISE_GPA_RANGE_POPULATE_FLAGS, Prefetch, 0, 1);
    BF(WHV_ADVISE_GPA_RANGE_POPULATE_FLAGS, AvoidHardFaults, 1, 1);
}

static void test_partition_properties(void)
{
    VAL(WHvPartitionPropertyCodeExtendedVmExits, 0x1);
    VAL(WHvPartitionPropertyCodeExceptionExitBitmap, 0x2);
    VAL(WHvPartitionPropertyCodeSeparateSecurityDomain, 0x3);
    VAL(WHvPartitionPropertyCodeNestedVirtualization, 0x4);
    VAL(WHvPartitionPropertyCodeX64MsrExitBitmap, 0x5);
    VAL(WHvPartitionPropertyCodePrimaryNumaNode, 0x6);
    VAL(WHvPartitionPropertyCodeCpuReserve, 0x7);
    VAL(WHvPartitionPropertyCodeCpuCap, 0x8);
    VAL(WHvPartitionPropertyCodeCpuWeight, 0x9);
    VAL(WHvPartitionPropertyCodeCpuGroupId, 0xA);
    VAL(WHvPartitionPropertyCodeProcessorFrequencyCap, 0xB);
    VAL(WHvPartitionPropertyCodeAllowDeviceAssignment, 0xC);
    VAL(WHvPartitionPropertyCodeDisableSmt, 0xD);
    VAL(WHvPartitionPropertyCodeProcessorFeatures, 0x1001);
    VAL(WHvPartitionPropertyCodeProcessorClFlushSize, 0x1002);
    VAL(WHvPartitionPropertyCodeCpuidExitList, 0x1003);
    VAL(WHvPartitionPropertyCodeCpuidResultList, 0x1004);
    VAL(WHvPartitionPropertyCodeLocalApicEmulationMode, 0x1005);
    VAL(WHvPartitionPropertyCodeProcessorXsaveFeatures, 0x1006);
    VAL(WHvPartitionPropertyCodeProcessorClockFrequency, 0x1007);
    VAL(WHvPartitionPropertyCodeInterruptClockFrequency, 0x1008);
    VAL(WHvPartitionPropertyCodeApicRemoteReadSupport, 0x1009);
    VAL(WHvPartitionPropertyCodeProcessorFeaturesBanks, 0x100A);
    VAL(WHvPartitionPropertyCodeReferenceTime, 0x100B);
    VAL(WHvPartitionPropertyCodeSyntheticProcessorFeaturesBanks, 0x100C);
    VAL(WHvPartitionPropertyCodeCpuidResultList2, 0x100D);
    VAL(WHvPartitionPropertyCodeProcessorPerfmonFeatures, 0x100E);
    VAL(WHvPartitionPropertyCodeMsrActionList, 0x100F);
    VAL(WHvPartitionPropertyCodeUnimplementedMsrAction, 0x1010);
    VAL(WHvPartitionPropertyCodePhysicalAddressWidth, 0x1011);
    VAL(WHvPartitionPropertyCodeProcessorCount, 0x1FFF);

    SIZE(WHV_PARTITION_PROPERTY, 48);

    SIZE(WHV_X64_CPUID_RESULT, 32);
    OFF(WHV_X64_CPUID_RESULT, Function, 0);
    OFF(WHV_X64_CPUID_RESULT, Reserved, 4);
    OFF(WHV_X64_CPUID_RESULT, Eax, 16);
    OFF(WHV_X64_CPUID_RESULT, Ebx, 20);
    OFF(WHV_X64_CPUID_RESULT, Ecx, 24);
    OFF(WHV_X64_CPUID_RESULT, Edx, 28);

    SIZE(WHV_X64_CPUID_RESULT2, 48);
    OFF(WHV_X64_CPUID_RESULT2, Function, 0);
    OFF(WHV_X64_CPUID_RESULT2, Index, 4);
    OFF(WHV_X64_CPUID_RESULT2, VpIndex, 8);
    OFF(WHV_X64_CPUID_RESULT2, Flags, 12);
    OFF(WHV_X64_CPUID_RESULT2, Output, 16);
    OFF(WHV_X64_CPUID_RESULT2, Mask, 32);
    VAL(WHvX64CpuidResult2FlagSubleafSpecific, 1);
    VAL(WHvX64CpuidResult2FlagVpSpecific, 2);
    SIZE(WHV_CPUID_OUTPUT, 16);
    OFF(WHV_CPUID_OUTPUT, Eax, 0);
    OFF(WHV_CPUID_OUTPUT, Ebx, 4);
    OFF(WHV_CPUID_OUTPUT, Ecx, 8);
    OFF(WHV_CPUID_OUTPUT, Edx, 12);

    SIZE(WHV_MSR_ACTION_ENTRY, 8);
    OFF(WHV_MSR_ACTION_ENTRY, Index, 0);
    OFF(WHV_MSR_ACTION_ENTRY, ReadAction, 4);
    OFF(WHV_MSR_ACTION_ENTRY, WriteAction, 5);
    OFF(WHV_MSR_ACTION_ENTRY, Reserved, 6);
    VAL(WHvMsrActionArchitectureDefault, 0);
    VAL(WHvMsrActionIgnoreWriteReadZero, 1);
    VAL(WHvMsrActionExit, 2);

    VAL(WHvX64LocalApicEmulationModeNone, 0);
    VAL(WHvX64LocalApicEmulationModeXApic, 1);
    VAL(WHvX64LocalApicEmulationModeX2Apic, 2);
}

static void test_memory(void)
{
    VAL(WHvMapGpaRangeFlagNone, 0x0);
    VAL(WHvMapGpaRangeFlagRead, 0x1);
    VAL(WHvMapGpaRangeFlagWrite, 0x2);
    VAL(WHvMapGpaRangeFlagExecute, 0x4);
    VAL(WHvMapGpaRangeFlagTrackDirtyPages, 0x8);
    VAL(WHvTranslateGvaFlagNone, 0);
    VAL(WHvTranslateGvaFlagValidateRead, 0x1);
    VAL(WHvTranslateGvaFlagValidateWrite, 0x2);
    VAL(WHvTranslateGvaFlagValidateExecute, 0x4);
    VAL(WHvTranslateGvaFlagPrivilegeExempt, 0x8);
    VAL(WHvTranslateGvaFlagSetPageTableBits, 0x10);
    VAL(WHvTranslateGvaFlagEnforceSmap, 0x100);
    VAL(WHvTranslateGvaFlagOverrideSmap, 0x200);
    VAL(WHvTranslateGvaResultSuccess, 0);
    VAL(WHvTranslateGvaResultPageNotPresent, 1);
    VAL(WHvTranslateGvaResultPrivilegeViolation, 2);
    VAL(WHvTranslateGvaResultInvalidPageTableFlags, 3);
    VAL(WHvTranslateGvaResultGpaUnmapped, 4);
    VAL(WHvTranslateGvaResultGpaNoReadAccess, 5);
    VAL(WHvTranslateGvaResultGpaNoWriteAccess, 6);
    VAL(WHvTranslateGvaResultGpaIllegalOverlayAccess, 7);
    VAL(WHvTranslateGvaResultIntercept, 8);
    SIZE(WHV_TRANSLATE_GVA_RESULT, 8);
    OFF(WHV_TRANSLATE_GVA_RESULT, ResultCode, 0);
    OFF(WHV_TRANSLATE_GVA_RESULT, Reserved, 4);
    VAL(WHvMemoryAccessRead, 0);
    VAL(WHvMemoryAccessWrite, 1);
    VAL(WHvMemoryAccessExecute, 2);
    VAL(WHvAdviseGpaRangeCodePopulate, 0);
    VAL(WHvAdviseGpaRangeCodePin, 1);
    VAL(WHvAdviseGpaRangeCodeUnpin, 2);
    SIZE(WHV_MEMORY_RANGE_ENTRY, 16);
    OFF(WHV_MEMORY_RANGE_ENTRY, SizeInBytes, 8);
    SIZE(WHV_ADVISE_GPA_RANGE_POPULATE, 8);
    OFF(WHV_ADVISE_GPA_RANGE_POPULATE, AccessType, 4);
    SIZE(WHV_ADVISE_GPA_RANGE, 8);
    SIZE(WHV_ACCESS_GPA_CONTROLS, 8);
    OFF(WHV_ACCESS_GPA_CONTROLS, CacheType, 0);
    OFF(WHV_ACCESS_GPA_CONTROLS, InputVtl, 4);
    VAL(WHvCacheTypeUncached, 0);
    VAL(WHvCacheTypeWriteCombining, 1);
    VAL(WHvCacheTypeWriteThrough, 4);
    VAL(WHvCacheTypeWriteProtected, 5);
    VAL(WHvCacheTypeWriteBack, 6);
    VAL(WHvPartitionCounterSetMemory, 0);
    VAL(WHvProcessorCounterSetRuntime, 0);
    VAL(WHvProcessorCounterSetIntercepts, 1);
    VAL(WHvProcessorCounterSetEvents, 2);
    VAL(WHvProcessorCounterSetApic, 3);
    VAL(WHvProcessorCounterSetSyntheticFeatures, 4);
    SIZE(WHV_PARTITION_MEMORY_COUNTERS, 24);
    SIZE(WHV_PROCESSOR_RUNTIME_COUNTERS, 16);
    SIZE(WHV_PROCESSOR_INTERCEPT_COUNTER, 16);
    SIZE(WHV_PROCESSOR_ACTIVITY_COUNTERS, 224);
    SIZE(WHV_PROCESSOR_GUEST_EVENT_COUNTERS, 24);
    SIZE(WHV_PROCESSOR_APIC_COUNTERS, 40);
    SIZE(WHV_PROCESSOR_SYNTHETIC_FEATURES_COUNTERS, 48);
}

static void test_register_values(void)
{
    check_table(register_names, sizeof register_names / sizeof register_names[0]);

    SIZE(WHV_UINT128, 16);
    ALIGN(WHV_UINT128, 16);
    OFF(WHV_UINT128, High64, 8);
    SIZE(WHV_REGISTER_VALUE, 16);
    ALIGN(WHV_REGISTER_VALUE, 16);

    /* WHV_X64_SEGMENT_REGISTER */
    SIZE(WHV_X64_SEGMENT_REGISTER, 16);
    OFF(WHV_X64_SEGMENT_REGISTER, Base, 0);
    OFF(WHV_X64_SEGMENT_REGISTER, Limit, 8);
    OFF(WHV_X64_SEGMENT_REGISTER, Selector, 12);
    OFF(WHV_X64_SEGMENT_REGISTER, Attributes, 14);
    BF(WHV_X64_SEGMENT_REGISTER, SegmentType, 14 * 8 + 0, 4);
    BF(WHV_X64_SEGMENT_REGISTER, NonSystemSegment, 14 * 8 + 4, 1);
    BF(WHV_X64_SEGMENT_REGISTER, DescriptorPrivilegeLevel, 14 * 8 + 5, 2);
    BF(WHV_X64_SEGMENT_REGISTER, Present, 14 * 8 + 7, 1);
    BF(WHV_X64_SEGMENT_REGISTER, Reserved, 14 * 8 + 8, 4);
    BF(WHV_X64_SEGMENT_REGISTER, Available, 14 * 8 + 12, 1);
    BF(WHV_X64_SEGMENT_REGISTER, Long, 14 * 8 + 13, 1);
    BF(WHV_X64_SEGMENT_REGISTER, Default, 14 * 8 + 14, 1);
    BF(WHV_X64_SEGMENT_REGISTER, Granularity, 14 * 8 + 15, 1);

    /* WHV_X64_TABLE_REGISTER */
    SIZE(WHV_X64_TABLE_REGISTER, 16);
    OFF(WHV_X64_TABLE_REGISTER, Pad, 0);
    OFF(WHV_X64_TABLE_REGISTER, Limit, 6);
    OFF(WHV_X64_TABLE_REGISTER, Base, 8);

    /* WHV_X64_PENDING_INTERRUPTION_REGISTER */
    SIZE(WHV_X64_PENDING_INTERRUPTION_REGISTER, 8);
    BF(WHV_X64_PENDING_INTERRUPTION_REGISTER, InterruptionPending, 0, 1);
    BF(WHV_X64_PENDING_INTERRUPTION_REGISTER, InterruptionType, 1, 3);
    BF(WHV_X64_PENDING_INTERRUPTION_REGISTER, DeliverErrorCode, 4, 1);
    BF(WHV_X64_PENDING_INTERRUPTION_REGISTER, InstructionLength, 5, 4);
    BF(WHV_X64_PENDING_INTERRUPTION_REGISTER, NestedEvent, 9, 1);
    BF(WHV_X64_PENDING_INTERRUPTION_REGISTER, Reserved, 10, 6);
    BF(WHV_X64_PENDING_INTERRUPTION_REGISTER, InterruptionVector, 16, 16);
    OFF(WHV_X64_PENDING_INTERRUPTION_REGISTER, ErrorCode, 4);
    VAL(WHvX64PendingInterrupt, 0);
    VAL(WHvX64PendingNmi, 2);
    VAL(WHvX64PendingException, 3);

    /* WHV_X64_INTERRUPT_STATE_REGISTER */
    SIZE(WHV_X64_INTERRUPT_STATE_REGISTER, 8);
    BF(WHV_X64_INTERRUPT_STATE_REGISTER, InterruptShadow, 0, 1);
    BF(WHV_X64_INTERRUPT_STATE_REGISTER, NmiMasked, 1, 1);

    /* WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER */
    SIZE(WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER, 8);
    SIZE(WHV_DELIVERABILITY_NOTIFICATIONS_REGISTER, 8);
    BF(WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER, NmiNotification, 0, 1);
    BF(WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER, InterruptNotification, 1, 1);
    BF(WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER, InterruptPriority, 2, 4);
    BF(WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER, Reserved, 6, 42);
    BF(WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER, Sint, 48, 16);
    {
        WHV_REGISTER_VALUE rv;
        memset(&rv, 0, sizeof rv);
        rv.DeliverabilityNotifications.InterruptNotification = 1;
        rv.DeliverabilityNotifications.Sint = 0x8001;
        check_u64("DeliverabilityNotifications{IntNotif=1,Sint=0x8001}.AsUINT64",
                  rv.DeliverabilityNotifications.AsUINT64, 0x8001000000000002ull);
        check_u64("DeliverabilityNotifications via Reg64", rv.Reg64, 0x8001000000000002ull);
    }

    /* WHV_INTERNAL_ACTIVITY_REGISTER */
    SIZE(WHV_INTERNAL_ACTIVITY_REGISTER, 8);
    BF(WHV_INTERNAL_ACTIVITY_REGISTER, StartupSuspend, 0, 1);
    BF(WHV_INTERNAL_ACTIVITY_REGISTER, HaltSuspend, 1, 1);
    BF(WHV_INTERNAL_ACTIVITY_REGISTER, IdleSuspend, 2, 1);

    /* WHV_X64_PENDING_EXCEPTION_EVENT */
    SIZE(WHV_X64_PENDING_EXCEPTION_EVENT, 16);
    BF(WHV_X64_PENDING_EXCEPTION_EVENT, EventPending, 0, 1);
    BF(WHV_X64_PENDING_EXCEPTION_EVENT, EventType, 1, 3);
    BF(WHV_X64_PENDING_EXCEPTION_EVENT, Reserved0, 4, 4);
    BF(WHV_X64_PENDING_EXCEPTION_EVENT, DeliverErrorCode, 8, 1);
    BF(WHV_X64_PENDING_EXCEPTION_EVENT, Reserved1, 9, 7);
    BF(WHV_X64_PENDING_EXCEPTION_EVENT, Vector, 16, 16);
    OFF(WHV_X64_PENDING_EXCEPTION_EVENT, ErrorCode, 4);
    OFF(WHV_X64_PENDING_EXCEPTION_EVENT, ExceptionParameter, 8);

    /* WHV_X64_PENDING_EXT_INT_EVENT */
    SIZE(WHV_X64_PENDING_EXT_INT_EVENT, 16);
    BF(WHV_X64_PENDING_EXT_INT_EVENT, EventPending, 0, 1);
    BF(WHV_X64_PENDING_EXT_INT_EVENT, EventType, 1, 3);
    BF(WHV_X64_PENDING_EXT_INT_EVENT, Reserved0, 4, 4);
    BF(WHV_X64_PENDING_EXT_INT_EVENT, Vector, 8, 8);
    BF(WHV_X64_PENDING_EXT_INT_EVENT, Reserved1, 16, 48);
    OFF(WHV_X64_PENDING_EXT_INT_EVENT, Reserved2, 8);
    VAL(WHvX64PendingEventException, 0);
    VAL(WHvX64PendingEventExtInt, 5);
    VAL(WHvX64PendingEventSvmNestedExit, 7);
    VAL(WHvX64PendingEventVmxNestedExit, 8);

    /* WHV_X64_PENDING_DEBUG_EXCEPTION */
    SIZE(WHV_X64_PENDING_DEBUG_EXCEPTION, 8);
    BF(WHV_X64_PENDING_DEBUG_EXCEPTION, Breakpoint0, 0, 1);
    BF(WHV_X64_PENDING_DEBUG_EXCEPTION, Breakpoint1, 1, 1);
    BF(WHV_X64_PENDING_DEBUG_EXCEPTION, Breakpoint2, 2, 1);
    BF(WHV_X64_PENDING_DEBUG_EXCEPTION, Breakpoint3, 3, 1);
    BF(WHV_X64_PENDING_DEBUG_EXCEPTION, SingleStep, 4, 1);

    /* FP / XMM control */
    SIZE(WHV_X64_FP_REGISTER, 16);
    OFF(WHV_X64_FP_REGISTER, Mantissa, 0);
    BF(WHV_X64_FP_REGISTER, BiasedExponent, 64, 15);
    BF(WHV_X64_FP_REGISTER, Sign, 79, 1);
    SIZE(WHV_X64_FP_CONTROL_STATUS_REGISTER, 16);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, FpControl, 0);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, FpStatus, 2);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, FpTag, 4);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, Reserved, 5);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, LastFpOp, 6);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, LastFpRip, 8);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, LastFpEip, 8);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, LastFpCs, 12);
    OFF(WHV_X64_FP_CONTROL_STATUS_REGISTER, Reserved2, 14);
    SIZE(WHV_X64_XMM_CONTROL_STATUS_REGISTER, 16);
    OFF(WHV_X64_XMM_CONTROL_STATUS_REGISTER, LastFpRdp, 0);
    OFF(WHV_X64_XMM_CONTROL_STATUS_REGISTER, LastFpDp, 0);
    OFF(WHV_X64_XMM_CONTROL_STATUS_REGISTER, LastFpDs, 4);
    OFF(WHV_X64_XMM_CONTROL_STATUS_REGISTER, Reserved, 6);
    OFF(WHV_X64_XMM_CONTROL_STATUS_REGISTER, XmmStatusControl, 8);
    OFF(WHV_X64_XMM_CONTROL_STATUS_REGISTER, XmmStatusControlMask, 12);

    SIZE(WHV_X64_NESTED_GUEST_STATE, 16);
    SIZE(WHV_X64_NESTED_INVEPT_REGISTER, 16);
    SIZE(WHV_X64_NESTED_INVVPID_REGISTER, 16);
}

static void test_exits(void)
{
    VAL(WHvRunVpExitReasonNone, 0x0);
    VAL(WHvRunVpExitReasonMemoryAccess, 0x1);
    VAL(WHvRunVpExitReasonX64IoPortAccess, 0x2);
    VAL(WHvRunVpExitReasonUnrecoverableException, 0x4);
    VAL(WHvRunVpExitReasonInvalidVpRegisterValue, 0x5);
    VAL(WHvRunVpExitReasonUnsupportedFeature, 0x6);
    VAL(WHvRunVpExitReasonX64InterruptWindow, 0x7);
    VAL(WHvRunVpExitReasonX64Halt, 0x8);
    VAL(WHvRunVpExitReasonX64ApicEoi, 0x9);
    VAL(WHvRunVpExitReasonSynicSintDeliverable, 0xA);
    VAL(WHvRunVpExitReasonX64MsrAccess, 0x1000);
    VAL(WHvRunVpExitReasonX64Cpuid, 0x1001);
    VAL(WHvRunVpExitReasonException, 0x1002);
    VAL(WHvRunVpExitReasonX64Rdtsc, 0x1003);
    VAL(WHvRunVpExitReasonX64ApicSmiTrap, 0x1004);
    VAL(WHvRunVpExitReasonHypercall, 0x1005);
    VAL(WHvRunVpExitReasonX64ApicInitSipiTrap, 0x1006);
    VAL(WHvRunVpExitReasonX64ApicWriteTrap, 0x1007);
    VAL(WHvRunVpExitReasonCanceled, 0x2001);
    VAL(WHvRunVpCancelReasonUser, 0);
    VAL(WhvRunVpCancelReasonUser, 0);

    /* 3.9 WHV_RUN_VP_EXIT_CONTEXT */
    SIZE(WHV_RUN_VP_EXIT_CONTEXT, 224);
    ALIGN(WHV_RUN_VP_EXIT_CONTEXT, 16);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, ExitReason, 0);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, Reserved, 4);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, VpContext, 8);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, MemoryAccess, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, IoPortAccess, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, MsrAccess, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, CpuidAccess, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, VpException, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, InterruptWindow, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, UnsupportedFeature, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, CancelReason, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, ApicEoi, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, ReadTsc, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, ApicSmi, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, Hypercall, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, ApicInitSipi, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, ApicWrite, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, SynicSintDeliverable, 48);
    OFF(WHV_RUN_VP_EXIT_CONTEXT, AsUINT64, 48);
    SIZE(((WHV_RUN_VP_EXIT_CONTEXT *)0)->AsUINT64, 176);

    /* WHV_VP_EXIT_CONTEXT */
    SIZE(WHV_VP_EXIT_CONTEXT, 40);
    OFF(WHV_VP_EXIT_CONTEXT, ExecutionState, 0);
    BF(WHV_VP_EXIT_CONTEXT, InstructionLength, 16, 4);
    BF(WHV_VP_EXIT_CONTEXT, Cr8, 20, 4);
    OFF(WHV_VP_EXIT_CONTEXT, Reserved, 3);
    OFF(WHV_VP_EXIT_CONTEXT, Reserved2, 4);
    OFF(WHV_VP_EXIT_CONTEXT, Cs, 8);
    OFF(WHV_VP_EXIT_CONTEXT, Rip, 24);
    OFF(WHV_VP_EXIT_CONTEXT, Rflags, 32);
    {
        WHV_VP_EXIT_CONTEXT vc;
        unsigned char bytes[sizeof vc];
        memset(&vc, 0, sizeof vc);
        vc.InstructionLength = 0x3;
        vc.Cr8 = 0xA;
        memcpy(bytes, &vc, sizeof vc);
        check_u64("VpContext byte 2 = Cr8 << 4 | InstructionLength", bytes[2], 0xA3);
    }

    SIZE(WHV_X64_VP_EXECUTION_STATE, 2);
    BF(WHV_X64_VP_EXECUTION_STATE, Cpl, 0, 2);
    BF(WHV_X64_VP_EXECUTION_STATE, Cr0Pe, 2, 1);
    BF(WHV_X64_VP_EXECUTION_STATE, Cr0Am, 3, 1);
    BF(WHV_X64_VP_EXECUTION_STATE, EferLma, 4, 1);
    BF(WHV_X64_VP_EXECUTION_STATE, DebugActive, 5, 1);
    BF(WHV_X64_VP_EXECUTION_STATE, InterruptionPending, 6, 1);
    BF(WHV_X64_VP_EXECUTION_STATE, Reserved0, 7, 5);
    BF(WHV_X64_VP_EXECUTION_STATE, InterruptShadow, 12, 1);
    BF(WHV_X64_VP_EXECUTION_STATE, Reserved1, 13, 3);

    /* MemoryAccess */
    SIZE(WHV_MEMORY_ACCESS_CONTEXT, 40);
    OFF(WHV_MEMORY_ACCESS_CONTEXT, InstructionByteCount, 0);
    OFF(WHV_MEMORY_ACCESS_CONTEXT, Reserved, 1);
    OFF(WHV_MEMORY_ACCESS_CONTEXT, InstructionBytes, 4);
    OFF(WHV_MEMORY_ACCESS_CONTEXT, AccessInfo, 20);
    OFF(WHV_MEMORY_ACCESS_CONTEXT, Gpa, 24);
    OFF(WHV_MEMORY_ACCESS_CONTEXT, Gva, 32);
    SIZE(WHV_MEMORY_ACCESS_INFO, 4);
    BF(WHV_MEMORY_ACCESS_INFO, AccessType, 0, 2);
    BF(WHV_MEMORY_ACCESS_INFO, GpaUnmapped, 2, 1);
    BF(WHV_MEMORY_ACCESS_INFO, GvaValid, 3, 1);

    /* IoPortAccess */
    SIZE(WHV_X64_IO_PORT_ACCESS_CONTEXT, 96);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, InstructionByteCount, 0);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, InstructionBytes, 4);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, AccessInfo, 20);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, PortNumber, 24);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, Reserved2, 26);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, Rax, 32);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, Rcx, 40);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, Rsi, 48);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, Rdi, 56);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, Ds, 64);
    OFF(WHV_X64_IO_PORT_ACCESS_CONTEXT, Es, 80);
    SIZE(WHV_X64_IO_PORT_ACCESS_INFO, 4);
    BF(WHV_X64_IO_PORT_ACCESS_INFO, IsWrite, 0, 1);
    BF(WHV_X64_IO_PORT_ACCESS_INFO, AccessSize, 1, 3);
    BF(WHV_X64_IO_PORT_ACCESS_INFO, StringOp, 4, 1);
    BF(WHV_X64_IO_PORT_ACCESS_INFO, RepPrefix, 5, 1);

    /* MsrAccess */
    SIZE(WHV_X64_MSR_ACCESS_CONTEXT, 24);
    OFF(WHV_X64_MSR_ACCESS_CONTEXT, AccessInfo, 0);
    OFF(WHV_X64_MSR_ACCESS_CONTEXT, MsrNumber, 4);
    OFF(WHV_X64_MSR_ACCESS_CONTEXT, Rax, 8);
    OFF(WHV_X64_MSR_ACCESS_CONTEXT, Rdx, 16);
    BF(WHV_X64_MSR_ACCESS_INFO, IsWrite, 0, 1);

    /* CpuidAccess */
    SIZE(WHV_X64_CPUID_ACCESS_CONTEXT, 64);
    OFF(WHV_X64_CPUID_ACCESS_CONTEXT, Rax, 0);
    OFF(WHV_X64_CPUID_ACCESS_CONTEXT, Rcx, 8);
    OFF(WHV_X64_CPUID_ACCESS_CONTEXT, Rdx, 16);
    OFF(WHV_X64_CPUID_ACCESS_CONTEXT, Rbx, 24);
    OFF(WHV_X64_CPUID_ACCESS_CONTEXT, DefaultResultRax, 32);
    OFF(WHV_X64_CPUID_ACCESS_CONTEXT, DefaultResultRcx, 40);
    OFF(WHV_X64_CPUID_ACCESS_CONTEXT, DefaultResultRdx, 48);
    OFF(WHV_X64_CPUID_ACCESS_CONTEXT, DefaultResultRbx, 56);

    /* VpException */
    SIZE(WHV_VP_EXCEPTION_CONTEXT, 40);
    OFF(WHV_VP_EXCEPTION_CONTEXT, InstructionByteCount, 0);
    OFF(WHV_VP_EXCEPTION_CONTEXT, InstructionBytes, 4);
    OFF(WHV_VP_EXCEPTION_CONTEXT, ExceptionInfo, 20);
    OFF(WHV_VP_EXCEPTION_CONTEXT, ExceptionType, 24);
    OFF(WHV_VP_EXCEPTION_CONTEXT, Reserved2, 25);
    OFF(WHV_VP_EXCEPTION_CONTEXT, ErrorCode, 28);
    OFF(WHV_VP_EXCEPTION_CONTEXT, ExceptionParameter, 32);
    BF(WHV_VP_EXCEPTION_INFO, ErrorCodeValid, 0, 1);
    BF(WHV_VP_EXCEPTION_INFO, SoftwareException, 1, 1);

    /* InterruptWindow, UnsupportedFeature, CancelReason, ApicEoi */
    SIZE(WHV_X64_INTERRUPTION_DELIVERABLE_CONTEXT, 4);
    OFF(WHV_X64_INTERRUPTION_DELIVERABLE_CONTEXT, DeliverableType, 0);
    SIZE(WHV_X64_UNSUPPORTED_FEATURE_CONTEXT, 16);
    OFF(WHV_X64_UNSUPPORTED_FEATURE_CONTEXT, FeatureCode, 0);
    OFF(WHV_X64_UNSUPPORTED_FEATURE_CONTEXT, Reserved, 4);
    OFF(WHV_X64_UNSUPPORTED_FEATURE_CONTEXT, FeatureParameter, 8);
    VAL(WHvUnsupportedFeatureIntercept, 1);
    VAL(WHvUnsupportedFeatureTaskSwitchTss, 2);
    SIZE(WHV_RUN_VP_CANCELED_CONTEXT, 4);
    SIZE(WHV_X64_APIC_EOI_CONTEXT, 4);
    OFF(WHV_X64_APIC_EOI_CONTEXT, InterruptVector, 0);

    /* ReadTsc */
    SIZE(WHV_X64_RDTSC_CONTEXT, 40);
    OFF(WHV_X64_RDTSC_CONTEXT, TscAux, 0);
    OFF(WHV_X64_RDTSC_CONTEXT, VirtualOffset, 8);
    OFF(WHV_X64_RDTSC_CONTEXT, Tsc, 16);
    OFF(WHV_X64_RDTSC_CONTEXT, ReferenceTime, 24);
    OFF(WHV_X64_RDTSC_CONTEXT, RdtscInfo, 32);
    BF(WHV_X64_RDTSC_INFO, IsRdtscp, 0, 1);

    /* ApicSmi, ApicInitSipi */
    SIZE(WHV_X64_APIC_SMI_CONTEXT, 8);
    OFF(WHV_X64_APIC_SMI_CONTEXT, ApicIcr, 0);
    SIZE(WHV_X64_APIC_INIT_SIPI_CONTEXT, 8);
    OFF(WHV_X64_APIC_INIT_SIPI_CONTEXT, ApicIcr, 0);

    /* Hypercall */
    SIZE(WHV_HYPERCALL_CONTEXT, 176);
    OFF(WHV_HYPERCALL_CONTEXT, Rax, 0);
    OFF(WHV_HYPERCALL_CONTEXT, Rbx, 8);
    OFF(WHV_HYPERCALL_CONTEXT, Rcx, 16);
    OFF(WHV_HYPERCALL_CONTEXT, Rdx, 24);
    OFF(WHV_HYPERCALL_CONTEXT, R8, 32);
    OFF(WHV_HYPERCALL_CONTEXT, Rsi, 40);
    OFF(WHV_HYPERCALL_CONTEXT, Rdi, 48);
    OFF(WHV_HYPERCALL_CONTEXT, Reserved0, 56);
    OFF(WHV_HYPERCALL_CONTEXT, XmmRegisters, 64);
    OFF(WHV_HYPERCALL_CONTEXT, Reserved1, 160);

    /* ApicWrite */
    SIZE(WHV_X64_APIC_WRITE_CONTEXT, 16);
    OFF(WHV_X64_APIC_WRITE_CONTEXT, Type, 0);
    OFF(WHV_X64_APIC_WRITE_CONTEXT, Reserved, 4);
    OFF(WHV_X64_APIC_WRITE_CONTEXT, WriteValue, 8);
    VAL(WHvX64ApicWriteTypeLdr, 0xD0);
    VAL(WHvX64ApicWriteTypeDfr, 0xE0);
    VAL(WHvX64ApicWriteTypeSvr, 0xF0);
    VAL(WHvX64ApicWriteTypeLint0, 0x350);
    VAL(WHvX64ApicWriteTypeLint1, 0x360);

    /* SynicSintDeliverable */
    SIZE(WHV_SYNIC_SINT_DELIVERABLE_CONTEXT, 8);
    OFF(WHV_SYNIC_SINT_DELIVERABLE_CONTEXT, DeliverableSints, 0);
    OFF(WHV_SYNIC_SINT_DELIVERABLE_CONTEXT, Reserved1, 2);
    OFF(WHV_SYNIC_SINT_DELIVERABLE_CONTEXT, Reserved2, 4);

    /* Exception vectors */
    VAL(WHvX64ExceptionTypeDivideErrorFault, 0x0);
    VAL(WHvX64ExceptionTypeDebugTrapOrFault, 0x1);
    VAL(WHvX64ExceptionTypeBreakpointTrap, 0x3);
    VAL(WHvX64ExceptionTypeOverflowTrap, 0x4);
    VAL(WHvX64ExceptionTypeBoundRangeFault, 0x5);
    VAL(WHvX64ExceptionTypeInvalidOpcodeFault, 0x6);
    VAL(WHvX64ExceptionTypeDeviceNotAvailableFault, 0x7);
    VAL(WHvX64ExceptionTypeDoubleFaultAbort, 0x8);
    VAL(WHvX64ExceptionTypeInvalidTaskStateSegmentFault, 0xA);
    VAL(WHvX64ExceptionTypeSegmentNotPresentFault, 0xB);
    VAL(WHvX64ExceptionTypeStackFault, 0xC);
    VAL(WHvX64ExceptionTypeGeneralProtectionFault, 0xD);
    VAL(WHvX64ExceptionTypePageFault, 0xE);
    VAL(WHvX64ExceptionTypeFloatingPointErrorFault, 0x10);
    VAL(WHvX64ExceptionTypeAlignmentCheckFault, 0x11);
    VAL(WHvX64ExceptionTypeMachineCheckAbort, 0x12);
    VAL(WHvX64ExceptionTypeSimdFloatingPointFault, 0x13);
    VAL(WHvX64ExceptionTypeControlProtectionFault, 0x15);
}

static void test_vpci(void)
{
    SIZE(WHV_SRIOV_RESOURCE_DESCRIPTOR, 412);
    SIZE(WHV_VPCI_DEVICE_NOTIFICATION, 16);
    SIZE(WHV_VPCI_HARDWARE_IDS, 12);
    SIZE(WHV_VPCI_PROBED_BARS, 24);
    SIZE(WHV_VPCI_MMIO_MAPPING, 32);
    SIZE(WHV_VPCI_DEVICE_REGISTER, 16);
    SIZE(WHV_VPCI_INTERRUPT_TARGET, 16);
    VAL(WHvVpciConfigSpace, (unsigned long long)-1);
    VAL(WHvAllocateVpciResourceFlagAllowDirectP2P, 1);
    VAL(WHvCreateVpciDeviceFlagPhysicallyBacked, 1);
    VAL(WHvCreateVpciDeviceFlagUseLogicalInterrupts, 2);
}

static void test_emulator(void)
{
    SIZE(WHV_EMULATOR_STATUS, 4);
    BF(WHV_EMULATOR_STATUS, EmulationSuccessful, 0, 1);
    BF(WHV_EMULATOR_STATUS, InternalEmulationFailure, 1, 1);
    BF(WHV_EMULATOR_STATUS, IoPortCallbackFailed, 2, 1);
    BF(WHV_EMULATOR_STATUS, MemoryCallbackFailed, 3, 1);
    BF(WHV_EMULATOR_STATUS, TranslateGvaPageCallbackFailed, 4, 1);
    BF(WHV_EMULATOR_STATUS, TranslateGvaPageCallbackGpaIsNotAligned, 5, 1);
    BF(WHV_EMULATOR_STATUS, GetVirtualProcessorRegistersCallbackFailed, 6, 1);
    BF(WHV_EMULATOR_STATUS, SetVirtualProcessorRegistersCallbackFailed, 7, 1);
    BF(WHV_EMULATOR_STATUS, InterruptCausedIntercept, 8, 1);
    BF(WHV_EMULATOR_STATUS, GuestCannotBeFaulted, 9, 1);
    BF(WHV_EMULATOR_STATUS, Reserved, 10, 22);

    SIZE(WHV_EMULATOR_MEMORY_ACCESS_INFO, 24);
    OFF(WHV_EMULATOR_MEMORY_ACCESS_INFO, GpaAddress, 0);
    OFF(WHV_EMULATOR_MEMORY_ACCESS_INFO, Direction, 8);
    OFF(WHV_EMULATOR_MEMORY_ACCESS_INFO, AccessSize, 9);
    OFF(WHV_EMULATOR_MEMORY_ACCESS_INFO, Data, 10);

    SIZE(WHV_EMULATOR_IO_ACCESS_INFO, 12);
    OFF(WHV_EMULATOR_IO_ACCESS_INFO, Direction, 0);
    OFF(WHV_EMULATOR_IO_ACCESS_INFO, Port, 2);
    OFF(WHV_EMULATOR_IO_ACCESS_INFO, AccessSize, 4);
    OFF(WHV_EMULATOR_IO_ACCESS_INFO, Data, 8);

    SIZE(WHV_EMULATOR_CALLBACKS, 48);
    OFF(WHV_EMULATOR_CALLBACKS, Size, 0);
    OFF(WHV_EMULATOR_CALLBACKS, Reserved, 4);
    OFF(WHV_EMULATOR_CALLBACKS, WHvEmulatorIoPortCallback, 8);
    OFF(WHV_EMULATOR_CALLBACKS, WHvEmulatorMemoryCallback, 16);
    OFF(WHV_EMULATOR_CALLBACKS, WHvEmulatorGetVirtualProcessorRegisters, 24);
    OFF(WHV_EMULATOR_CALLBACKS, WHvEmulatorSetVirtualProcessorRegisters, 32);
    OFF(WHV_EMULATOR_CALLBACKS, WHvEmulatorTranslateGvaPage, 40);

    check_true("type of WHV_EMULATOR_IO_PORT_CALLBACK",
               _Generic((WHV_EMULATOR_IO_PORT_CALLBACK)0,
                        HRESULT (*)(VOID *, WHV_EMULATOR_IO_ACCESS_INFO *): 1, default: 0));
    check_true("type of WHV_EMULATOR_MEMORY_CALLBACK",
               _Generic((WHV_EMULATOR_MEMORY_CALLBACK)0,
                        HRESULT (*)(VOID *, WHV_EMULATOR_MEMORY_ACCESS_INFO *): 1, default: 0));
    check_true("type of WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK",
               _Generic((WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK)0,
                        HRESULT (*)(VOID *, const WHV_REGISTER_NAME *, UINT32,
                                    WHV_REGISTER_VALUE *): 1,
                        default: 0));
    check_true("type of WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK",
               _Generic((WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK)0,
                        HRESULT (*)(VOID *, const WHV_REGISTER_NAME *, UINT32,
                                    const WHV_REGISTER_VALUE *): 1,
                        default: 0));
    check_true("type of WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK",
               _Generic((WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK)0,
                        HRESULT (*)(VOID *, WHV_GUEST_VIRTUAL_ADDRESS, WHV_TRANSLATE_GVA_FLAGS,
                                    WHV_TRANSLATE_GVA_RESULT_CODE *,
                                    WHV_GUEST_PHYSICAL_ADDRESS *): 1,
                        default: 0));

    PROTO(WHvEmulatorCreateEmulator,
          HRESULT (*)(const WHV_EMULATOR_CALLBACKS *, WHV_EMULATOR_HANDLE *));
    PROTO(WHvEmulatorDestroyEmulator, HRESULT (*)(WHV_EMULATOR_HANDLE));
    PROTO(WHvEmulatorTryIoEmulation,
          HRESULT (*)(WHV_EMULATOR_HANDLE, VOID *, const WHV_VP_EXIT_CONTEXT *,
                      const WHV_X64_IO_PORT_ACCESS_CONTEXT *, WHV_EMULATOR_STATUS *));
    PROTO(WHvEmulatorTryMmioEmulation,
          HRESULT (*)(WHV_EMULATOR_HANDLE, VOID *, const WHV_VP_EXIT_CONTEXT *,
                      const WHV_MEMORY_ACCESS_CONTEXT *, WHV_EMULATOR_STATUS *));
}

/* The 66 WinHvPlatform exports, parameter types in SDK order. */
static void test_prototypes(void)
{
    typedef WHV_PARTITION_HANDLE P;
    PROTO(WHvGetCapability, HRESULT (*)(WHV_CAPABILITY_CODE, VOID *, UINT32, UINT32 *));
    PROTO(WHvCreatePartition, HRESULT (*)(P *));
    PROTO(WHvSetupPartition, HRESULT (*)(P));
    PROTO(WHvResetPartition, HRESULT (*)(P));
    PROTO(WHvDeletePartition, HRESULT (*)(P));
    PROTO(WHvGetPartitionProperty,
          HRESULT (*)(P, WHV_PARTITION_PROPERTY_CODE, VOID *, UINT32, UINT32 *));
    PROTO(WHvSetPartitionProperty,
          HRESULT (*)(P, WHV_PARTITION_PROPERTY_CODE, const VOID *, UINT32));
    PROTO(WHvSuspendPartitionTime, HRESULT (*)(P));
    PROTO(WHvResumePartitionTime, HRESULT (*)(P));
    PROTO(WHvMapGpaRange,
          HRESULT (*)(P, VOID *, WHV_GUEST_PHYSICAL_ADDRESS, UINT64, WHV_MAP_GPA_RANGE_FLAGS));
    PROTO(WHvMapGpaRange2, HRESULT (*)(P, HANDLE, VOID *, WHV_GUEST_PHYSICAL_ADDRESS, UINT64,
                                       WHV_MAP_GPA_RANGE_FLAGS));
    PROTO(WHvUnmapGpaRange, HRESULT (*)(P, WHV_GUEST_PHYSICAL_ADDRESS, UINT64));
    PROTO(WHvTranslateGva,
          HRESULT (*)(P, UINT32, WHV_GUEST_VIRTUAL_ADDRESS, WHV_TRANSLATE_GVA_FLAGS,
                      WHV_TRANSLATE_GVA_RESULT *, WHV_GUEST_PHYSICAL_ADDRESS *));
    PROTO(WHvCreateVirtualProcessor, HRESULT (*)(P, UINT32, UINT32));
    PROTO(WHvCreateVirtualProcessor2,
          HRESULT (*)(P, UINT32, const WHV_VIRTUAL_PROCESSOR_PROPERTY *, UINT32));
    PROTO(WHvDeleteVirtualProcessor, HRESULT (*)(P, UINT32));
    PROTO(WHvRunVirtualProcessor, HRESULT (*)(P, UINT32, VOID *, UINT32));
    PROTO(WHvCancelRunVirtualProcessor, HRESULT (*)(P, UINT32, UINT32));
    PROTO(WHvGetVirtualProcessorRegisters,
          HRESULT (*)(P, UINT32, const WHV_REGISTER_NAME *, UINT32, WHV_REGISTER_VALUE *));
    PROTO(WHvSetVirtualProcessorRegisters,
          HRESULT (*)(P, UINT32, const WHV_REGISTER_NAME *, UINT32, const WHV_REGISTER_VALUE *));
    PROTO(WHvGetVirtualProcessorInterruptControllerState,
          HRESULT (*)(P, UINT32, VOID *, UINT32, UINT32 *));
    PROTO(WHvSetVirtualProcessorInterruptControllerState,
          HRESULT (*)(P, UINT32, const VOID *, UINT32));
    PROTO(WHvRequestInterrupt, HRESULT (*)(P, const WHV_INTERRUPT_CONTROL *, UINT32));
    PROTO(WHvGetVirtualProcessorXsaveState, HRESULT (*)(P, UINT32, VOID *, UINT32, UINT32 *));
    PROTO(WHvSetVirtualProcessorXsaveState, HRESULT (*)(P, UINT32, const VOID *, UINT32));
    PROTO(WHvQueryGpaRangeDirtyBitmap,
          HRESULT (*)(P, WHV_GUEST_PHYSICAL_ADDRESS, UINT64, UINT64 *, UINT32));
    PROTO(WHvGetPartitionCounters,
          HRESULT (*)(P, WHV_PARTITION_COUNTER_SET, VOID *, UINT32, UINT32 *));
    PROTO(WHvGetVirtualProcessorCounters,
          HRESULT (*)(P, UINT32, WHV_PROCESSOR_COUNTER_SET, VOID *, UINT32, UINT32 *));
    PROTO(WHvGetVirtualProcessorInterruptControllerState2,
          HRESULT (*)(P, UINT32, VOID *, UINT32, UINT32 *));
    PROTO(WHvSetVirtualProcessorInterruptControllerState2,
          HRESULT (*)(P, UINT32, const VOID *, UINT32));
    PROTO(WHvRegisterPartitionDoorbellEvent,
          HRESULT (*)(P, const WHV_DOORBELL_MATCH_DATA *, HANDLE));
    PROTO(WHvUnregisterPartitionDoorbellEvent, HRESULT (*)(P, const WHV_DOORBELL_MATCH_DATA *));
    PROTO(WHvAdviseGpaRange, HRESULT (*)(P, const WHV_MEMORY_RANGE_ENTRY *, UINT32,
                                         WHV_ADVISE_GPA_RANGE_CODE, const VOID *, UINT32));
    PROTO(WHvReadGpaRange, HRESULT (*)(P, UINT32, WHV_GUEST_PHYSICAL_ADDRESS,
                                       WHV_ACCESS_GPA_CONTROLS, PVOID, UINT32));
    PROTO(WHvWriteGpaRange, HRESULT (*)(P, UINT32, WHV_GUEST_PHYSICAL_ADDRESS,
                                        WHV_ACCESS_GPA_CONTROLS, const VOID *, UINT32));
    PROTO(WHvSignalVirtualProcessorSynicEvent,
          HRESULT (*)(P, WHV_SYNIC_EVENT_PARAMETERS, BOOL *));
    PROTO(WHvGetVirtualProcessorState,
          HRESULT (*)(P, UINT32, WHV_VIRTUAL_PROCESSOR_STATE_TYPE, VOID *, UINT32, UINT32 *));
    PROTO(WHvSetVirtualProcessorState,
          HRESULT (*)(P, UINT32, WHV_VIRTUAL_PROCESSOR_STATE_TYPE, const VOID *, UINT32));
    PROTO(WHvAllocateVpciResource, HRESULT (*)(const GUID *, WHV_ALLOCATE_VPCI_RESOURCE_FLAGS,
                                               const VOID *, UINT32, HANDLE *));
    PROTO(WHvCreateVpciDevice,
          HRESULT (*)(P, UINT64, HANDLE, WHV_CREATE_VPCI_DEVICE_FLAGS, HANDLE));
    PROTO(WHvDeleteVpciDevice, HRESULT (*)(P, UINT64));
    PROTO(WHvGetVpciDeviceProperty,
          HRESULT (*)(P, UINT64, WHV_VPCI_DEVICE_PROPERTY_CODE, VOID *, UINT32, UINT32 *));
    PROTO(WHvGetVpciDeviceNotification,
          HRESULT (*)(P, UINT64, WHV_VPCI_DEVICE_NOTIFICATION *, UINT32));
    PROTO(WHvMapVpciDeviceMmioRanges, HRESULT (*)(P, UINT64, UINT32 *, WHV_VPCI_MMIO_MAPPING **));
    PROTO(WHvUnmapVpciDeviceMmioRanges, HRESULT (*)(P, UINT64));
    PROTO(WHvSetVpciDevicePowerState, HRESULT (*)(P, UINT64, DEVICE_POWER_STATE));
    PROTO(WHvReadVpciDeviceRegister,
          HRESULT (*)(P, UINT64, const WHV_VPCI_DEVICE_REGISTER *, VOID *));
    PROTO(WHvWriteVpciDeviceRegister,
          HRESULT (*)(P, UINT64, const WHV_VPCI_DEVICE_REGISTER *, const VOID *));
    PROTO(WHvMapVpciDeviceInterrupt,
          HRESULT (*)(P, UINT64, UINT32, UINT32, const WHV_VPCI_INTERRUPT_TARGET *, UINT64 *,
                      UINT32 *));
    PROTO(WHvUnmapVpciDeviceInterrupt, HRESULT (*)(P, UINT64, UINT32));
    PROTO(WHvRetargetVpciDeviceInterrupt,
          HRESULT (*)(P, UINT64, UINT64, UINT32, const WHV_VPCI_INTERRUPT_TARGET *));
    PROTO(WHvRequestVpciDeviceInterrupt, HRESULT (*)(P, UINT64, UINT64, UINT32));
    PROTO(WHvGetVpciDeviceInterruptTarget,
          HRESULT (*)(P, UINT64, UINT32, UINT32, WHV_VPCI_INTERRUPT_TARGET *, UINT32, UINT32 *));
    PROTO(WHvCreateTrigger,
          HRESULT (*)(P, const WHV_TRIGGER_PARAMETERS *, WHV_TRIGGER_HANDLE *, HANDLE *));
    PROTO(WHvUpdateTriggerParameters,
          HRESULT (*)(P, const WHV_TRIGGER_PARAMETERS *, WHV_TRIGGER_HANDLE));
    PROTO(WHvDeleteTrigger, HRESULT (*)(P, WHV_TRIGGER_HANDLE));
    PROTO(WHvCreateNotificationPort,
          HRESULT (*)(P, const WHV_NOTIFICATION_PORT_PARAMETERS *, HANDLE,
                      WHV_NOTIFICATION_PORT_HANDLE *));
    PROTO(WHvSetNotificationPortProperty,
          HRESULT (*)(P, WHV_NOTIFICATION_PORT_HANDLE, WHV_NOTIFICATION_PORT_PROPERTY_CODE,
                      WHV_NOTIFICATION_PORT_PROPERTY));
    PROTO(WHvDeleteNotificationPort, HRESULT (*)(P, WHV_NOTIFICATION_PORT_HANDLE));
    PROTO(WHvPostVirtualProcessorSynicMessage,
          HRESULT (*)(P, UINT32, UINT32, const VOID *, UINT32));
    PROTO(WHvGetVirtualProcessorCpuidOutput,
          HRESULT (*)(P, UINT32, UINT32, UINT32, WHV_CPUID_OUTPUT *));
    PROTO(WHvGetInterruptTargetVpSet,
          HRESULT (*)(P, UINT64, WHV_INTERRUPT_DESTINATION_MODE, UINT32 *, UINT32, UINT32 *));
    PROTO(WHvStartPartitionMigration, HRESULT (*)(P, HANDLE *));
    PROTO(WHvCancelPartitionMigration, HRESULT (*)(P));
    PROTO(WHvCompletePartitionMigration, HRESULT (*)(P));
    PROTO(WHvAcceptPartitionMigration, HRESULT (*)(HANDLE, P *));
}

int main(void)
{
    test_base_types();
    test_error_codes();
    test_constants();
    test_interrupt_enums();
    test_interrupt_structs();
    test_capabilities();
    test_partition_properties();
    test_memory();
    test_register_values();
    test_exits();
    test_vpci();
    test_emulator();
    test_prototypes();

    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
