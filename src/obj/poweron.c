/* WHP's power-on state of a VP, written over KVM's: the table of docs/design.md ("A new VP").
 * KVM's own reset differs in CS.Base (0xFFFF0000, where WHP has 0x000F0000) and RDX (0x600, where
 * WHP has the processor signature), and restoring the registers KVM_GET_REGS/SREGS captured leaves
 * the debug registers, XCR0, the FPU/SSE state and the MSRs as the guest left them. */
#include "obj/poweron.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RESET_CS_SELECTOR 0xf000
#define RESET_CS_BASE 0x000f0000ull /* WHP's; the architectural value is 0xffff0000 */
#define RESET_RIP 0xfff0
#define RESET_SEGMENT_LIMIT 0xffff
#define RESET_CR0 0x60000010ull       /* CD | NW | ET */
#define RESET_DR6 0xffff0ff0ull
#define RESET_DR7 0x400ull
#define RESET_XCR0 1ull               /* x87 */
#define RESET_FCW 0x37f               /* FINIT's, the XSAVE init value; power-up hardware has 0x40 */
#define RESET_MXCSR 0x1f80
#define RESET_PAT 0x0007040600070406ull
#define RESET_SIGNATURE 0x600         /* KVM's when the CPUID has no leaf 1 */

#define SEG_TYPE_DATA_RW_ACCESSED 0x3
#define SEG_TYPE_CODE_RX_ACCESSED 0xb
#define SEG_TYPE_LDT 0x2
#define SEG_TYPE_TSS_BUSY 0xb

#define CPUID_SIGNATURE_LEAF 1
#define CPUID_MAX_ENTRIES 256 /* KVM's limit for KVM_GET_CPUID2 */

#define XSAVE_FCW_OFFSET 0
#define XSAVE_MXCSR_OFFSET 24
#define XSAVE_XSTATE_BV_OFFSET 512
#define XSTATE_X87_SSE 3ull

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define MSR_MTRR_PHYS_BASE0 0x200
#define MSR_MTRR_VARIABLE_COUNT 16 /* 8 base/mask pairs */
#define MSR_MTRR_FIX64K_00000 0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268
#define MSR_MTRR_FIX4K_COUNT 8
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX 0xc0000103
#define POWERON_MSRS 40

static uint32_t signature(struct whp_vp *vp)
{
    uint32_t sig = RESET_SIGNATURE;
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
    if (!c)
        return sig;
    c->nent = CPUID_MAX_ENTRIES;
    const struct kvm_cpuid_entry2 *e = NULL;
    if (kvm_ioctl(vp->fd, KVM_GET_CPUID2, c) == 0)
        e = kvm_cpuid_find(c, CPUID_SIGNATURE_LEAF, 0);
    if (e)
        sig = e->eax;
    free(c);
    return sig;
}

static int set_regs(struct whp_vp *vp)
{
    struct kvm_regs r;
    memset(&r, 0, sizeof(r));
    r.rdx = signature(vp);
    r.rip = RESET_RIP;
    r.rflags = RFLAGS_FIXED;
    return kvm_ioctl(vp->fd, KVM_SET_REGS, &r);
}

static struct kvm_segment segment(uint16_t selector, uint64_t base, uint8_t type, uint8_t s)
{
    return (struct kvm_segment){.base = base, .limit = RESET_SEGMENT_LIMIT, .selector = selector,
                                .type = type, .present = 1, .s = s};
}

static int set_sregs(struct whp_vp *vp)
{
    struct kvm_sregs s;
    int r = kvm_ioctl(vp->fd, KVM_GET_SREGS, &s);
    if (r < 0)
        return r;
    uint64_t apic_base = s.apic_base; /* the LAPIC's, set by vcpu_create/vcpu_reset */
    memset(&s, 0, sizeof(s));
    s.apic_base = apic_base;
    s.cs = segment(RESET_CS_SELECTOR, RESET_CS_BASE, SEG_TYPE_CODE_RX_ACCESSED, 1);
    s.ds = s.es = s.fs = s.gs = s.ss = segment(0, 0, SEG_TYPE_DATA_RW_ACCESSED, 1);
    s.ldt = segment(0, 0, SEG_TYPE_LDT, 0);
    s.tr = segment(0, 0, SEG_TYPE_TSS_BUSY, 0);
    s.gdt.limit = s.idt.limit = RESET_SEGMENT_LIMIT;
    s.cr0 = RESET_CR0;
    return kvm_ioctl(vp->fd, KVM_SET_SREGS, &s);
}

static int set_debug_and_xcr0(struct whp_vp *vp)
{
    struct kvm_debugregs d;
    memset(&d, 0, sizeof(d));
    d.dr6 = RESET_DR6;
    d.dr7 = RESET_DR7;
    int r = kvm_ioctl(vp->fd, KVM_SET_DEBUGREGS, &d);
    if (r < 0 || !kvm_check(vp->part->vm_fd, KVM_CAP_XCRS))
        return r;
    struct kvm_xcrs x;
    memset(&x, 0, sizeof(x));
    x.nr_xcrs = 1;
    x.xcrs[0].value = RESET_XCR0; /* xcr 0 */
    return kvm_ioctl(vp->fd, KVM_SET_XCRS, &x);
}

/* x87 and SSE in their init state except FCW and MXCSR; every other XSAVE component at init. */
static int set_fpu(struct whp_vp *vp)
{
    struct kvm_xsave *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    uint8_t *area = (uint8_t *)x->region;
    uint16_t fcw = RESET_FCW;
    uint32_t mxcsr = RESET_MXCSR;
    uint64_t bv = XSTATE_X87_SSE;
    memcpy(area + XSAVE_FCW_OFFSET, &fcw, sizeof(fcw));
    memcpy(area + XSAVE_MXCSR_OFFSET, &mxcsr, sizeof(mxcsr));
    memcpy(area + XSAVE_XSTATE_BV_OFFSET, &bv, sizeof(bv));
    int r = kvm_ioctl(vp->fd, KVM_SET_XSAVE, x);
    free(x);
    return r;
}

static size_t msr_list(struct kvm_msr_entry *e)
{
    static const uint32_t zero[] = {MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
                                    MSR_MTRR_DEF_TYPE, MSR_MTRR_FIX64K_00000, MSR_MTRR_FIX16K_80000,
                                    MSR_MTRR_FIX16K_A0000, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
                                    MSR_SFMASK, MSR_KERNEL_GS_BASE, MSR_TSC_AUX};
    size_t n = 0;
    e[n++] = (struct kvm_msr_entry){.index = MSR_PAT, .data = RESET_PAT};
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        e[n++] = (struct kvm_msr_entry){.index = zero[i]};
    for (uint32_t i = 0; i < MSR_MTRR_FIX4K_COUNT; i++)
        e[n++] = (struct kvm_msr_entry){.index = MSR_MTRR_FIX4K_C0000 + i};
    for (uint32_t i = 0; i < MSR_MTRR_VARIABLE_COUNT; i++)
        e[n++] = (struct kvm_msr_entry){.index = MSR_MTRR_PHYS_BASE0 + i};
    return n;
}

/* KVM_SET_MSRS stops at the first MSR it refuses (one this vCPU does not have): skip it and go on. */
static int set_msrs(struct whp_vp *vp)
{
    union {
        struct kvm_msrs h;
        uint8_t raw[sizeof(struct kvm_msrs) + POWERON_MSRS * sizeof(struct kvm_msr_entry)];
    } m;
    struct kvm_msr_entry all[POWERON_MSRS];
    size_t n = msr_list(all), done = 0;
    while (done < n) {
        memset(&m, 0, sizeof(m));
        m.h.nmsrs = (uint32_t)(n - done);
        memcpy(m.h.entries, all + done, (n - done) * sizeof(all[0]));
        int r = kvm_ioctl(vp->fd, KVM_SET_MSRS, &m);
        if (r < 0)
            return r;
        done += (size_t)r + 1; /* r set, the next one refused (or none left) */
    }
    return 0;
}

int poweron_apply(struct whp_vp *vp)
{
    int r = set_regs(vp);
    if (r == 0)
        r = set_sregs(vp);
    if (r == 0)
        r = set_debug_and_xcr0(vp);
    if (r == 0)
        r = set_fpu(vp);
    if (r == 0)
        r = set_msrs(vp);
    return r;
}
