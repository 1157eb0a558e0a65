/* Guest page-table walk for WHvTranslateGva and for fetching instruction bytes: real mode,
 * 32-bit, PAE and 4/5-level long-mode paging with large pages, the permission checks the
 * WHV_TRANSLATE_GVA_FLAGS ask for (accessed/dirty bits are never written). Pure logic over a
 * physical-memory reader, so unit tests drive it with a fake memory. */
#include "obj/gva.h"

#include <string.h>

uint32_t gva_translate(const struct gva_cpu *cpu, uint64_t gva, uint32_t flags, gva_read_fn rd,
                       void *ctx, uint64_t *gpa)
{
    if (!(cpu->cr0 & CR0_PG)) {
        *gpa = gva & 0xffffffffull;
        return WHvTranslateGvaResultSuccess;
    }
    bool lma = cpu->efer & EFER_LMA, pae = cpu->cr4 & CR4_PAE;
    int levels = lma ? ((cpu->cr4 & CR4_LA57) ? 5 : 4) : pae ? 3 : 2;
    unsigned esize = levels == 2 ? 4 : 8;
    uint64_t table = levels == 3 ? cpu->cr3 & 0xffffffe0ull : cpu->cr3 & 0x000ffffffffff000ull;
    bool user = cpu->cpl == 3 && !(flags & WHvTranslateGvaFlagPrivilegeExempt);
    bool write = flags & WHvTranslateGvaFlagValidateWrite;
    bool exec = flags & WHvTranslateGvaFlagValidateExecute;
    bool rw = true, us = true, nx = false;
    uint64_t entry = 0, addr_mask = 0x000ffffffffff000ull;

    for (int level = levels; level >= 1; level--) {
        unsigned shift = levels == 2 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
        uint64_t index = levels == 3 && level == 3 ? (gva >> 30) & 3
                         : levels == 2             ? (gva >> shift) & 0x3ff
                                                   : (gva >> shift) & 0x1ff;
        uint64_t ea = table + index * esize;
        entry = 0;
        if (rd(ctx, ea, &entry, esize) < 0) {
            *gpa = ea;
            return WHvTranslateGvaResultGpaUnmapped;
        }
        if (!(entry & PTE_P))
            return WHvTranslateGvaResultPageNotPresent;
        if ((entry & PTE_NX) && !(cpu->efer & EFER_NXE) && esize == 8)
            return WHvTranslateGvaResultInvalidPageTableFlags;
        if (levels == 3 && level == 3) { /* PAE PDPTEs carry no permissions */
            table = entry & addr_mask;
            continue;
        }
        rw &= !!(entry & PTE_RW);
        us &= !!(entry & PTE_US);
        nx |= esize == 8 && (entry & PTE_NX);
        bool large = level > 1 && (entry & PTE_PS) && (levels != 2 || (cpu->cr4 & CR4_PSE));
        if (large || level == 1) {
            uint64_t page_mask = (1ull << shift) - 1;
            uint64_t base = levels == 2 && level == 2
                                ? ((entry & 0xffc00000ull) | ((entry & 0x1fe000ull) << 19))
                                : (entry & addr_mask & ~page_mask);
            *gpa = base | (gva & page_mask);
            break;
        }
        table = entry & (levels == 2 ? 0xfffff000ull : addr_mask);
    }
    if (user && !us)
        return WHvTranslateGvaResultPrivilegeViolation;
    if (write && !rw && (user || (cpu->cr0 & CR0_WP)))
        return WHvTranslateGvaResultPrivilegeViolation;
    if (exec && nx)
        return WHvTranslateGvaResultPrivilegeViolation;
    if (exec && !user && us && (cpu->cr4 & CR4_SMEP) && cpu->cpl < 3 &&
        !(flags & WHvTranslateGvaFlagPrivilegeExempt))
        return WHvTranslateGvaResultPrivilegeViolation;
    return WHvTranslateGvaResultSuccess;
}

/* ---- through a VP's registers ---- */

void vp_gva_cpu(struct whp_vp *vp, struct gva_cpu *cpu)
{
    const struct kvm_sregs *s = &vp->run->s.regs.sregs;
    cpu->cr0 = s->cr0;
    cpu->cr3 = s->cr3;
    cpu->cr4 = s->cr4;
    cpu->efer = s->efer;
    cpu->cpl = s->ss.dpl;
}

static int read_phys(void *ctx, uint64_t gpa, uint64_t *val, unsigned size)
{
    return mem_read(ctx, gpa, val, size);
}

uint32_t vp_translate_result(struct whp_vp *vp, uint64_t gva, uint64_t *gpa)
{
    struct gva_cpu cpu;
    vp_gva_cpu(vp, &cpu);
    return gva_translate(&cpu, gva, 0, read_phys, &vp->part->mem, gpa);
}

bool vp_translate(struct whp_vp *vp, uint64_t gva, uint64_t *gpa)
{
    return vp_translate_result(vp, gva, gpa) == WHvTranslateGvaResultSuccess;
}

size_t vp_read_gva(struct whp_vp *vp, uint64_t gva, void *dst, size_t len)
{
    struct gva_cpu cpu;
    vp_gva_cpu(vp, &cpu);
    size_t done = 0;
    while (done < len) {
        uint64_t gpa;
        if (gva_translate(&cpu, gva + done, 0, read_phys, &vp->part->mem, &gpa) !=
            WHvTranslateGvaResultSuccess)
            break;
        size_t n = X86_PAGE_SIZE - ((gva + done) & (X86_PAGE_SIZE - 1));
        if (n > len - done)
            n = len - done;
        if (mem_read(&vp->part->mem, gpa, (uint8_t *)dst + done, n) < 0)
            break;
        done += n;
    }
    return done;
}

uint64_t vp_linear_rip(struct whp_vp *vp, uint64_t rip)
{
    const struct kvm_sregs *s = &vp->run->s.regs.sregs;
    bool long64 = (s->efer & EFER_LMA) && s->cs.l;
    return long64 ? rip : s->cs.base + (rip & 0xffffffffull);
}

size_t vp_fetch(struct whp_vp *vp, uint64_t rip, uint8_t *buf, size_t len)
{
    memset(buf, 0, len);
    return vp_read_gva(vp, vp_linear_rip(vp, rip), buf, len);
}

HRESULT WINAPI WHvTranslateGva(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                               WHV_GUEST_VIRTUAL_ADDRESS Gva, WHV_TRANSLATE_GVA_FLAGS TranslateFlags,
                               WHV_TRANSLATE_GVA_RESULT *TranslationResult,
                               WHV_GUEST_PHYSICAL_ADDRESS *Gpa)
{
    uint32_t known = WHvTranslateGvaFlagValidateRead | WHvTranslateGvaFlagValidateWrite |
                     WHvTranslateGvaFlagValidateExecute | WHvTranslateGvaFlagPrivilegeExempt |
                     WHvTranslateGvaFlagSetPageTableBits | WHvTranslateGvaFlagEnforceSmap |
                     WHvTranslateGvaFlagOverrideSmap;
    if (!TranslationResult || !Gpa || (TranslateFlags & ~known))
        return E_INVALIDARG;
    /* The walk reads the register cache, which a running KVM_RUN owns: exclusive use. */
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    struct gva_cpu cpu;
    vp_gva_cpu(vp, &cpu);
    uint64_t gpa = 0;
    WHV_TRANSLATE_GVA_RESULT res;
    memset(&res, 0, sizeof(res));
    res.ResultCode = gva_translate(&cpu, Gva, (uint32_t)TranslateFlags, read_phys, &p->mem, &gpa);
    vp_release(p, vp);
    if (res.ResultCode != WHvTranslateGvaResultSuccess)
        gpa = 0;
    memcpy(TranslationResult, &res, sizeof(res));
    memcpy(Gpa, &gpa, sizeof(gpa));
    return S_OK;
}
