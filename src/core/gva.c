/* Guest page-table walk for WHvTranslateGva and for fetching instruction bytes: real mode,
 * 32-bit, PAE and 4/5-level long-mode paging with large pages, the permission checks the
 * WHV_TRANSLATE_GVA_FLAGS ask for (accessed/dirty bits are never written). Pure logic over a
 * physical-memory reader, so unit tests drive it with a fake memory. */
#include "core/core.h"

#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_SMEP (1ull << 20)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_US 4ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)

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
        if (rd(ctx, ea, &entry, esize) < 0)
            return WHvTranslateGvaResultGpaUnmapped;
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
