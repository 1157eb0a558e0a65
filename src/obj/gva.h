/* Guest virtual addresses: the page walk (pure logic over a physical-memory reader, so unit
 * tests drive it with a fake memory) and reads through a VP's own page tables. */
#ifndef OPENWHP_GVA_H
#define OPENWHP_GVA_H

#include "obj/obj.h"

struct gva_cpu {
    uint64_t cr0, cr3, cr4, efer;
    unsigned cpl;
};
typedef int (*gva_read_fn)(void *ctx, uint64_t gpa, uint64_t *val, unsigned size);
/* Returns a WHV_TRANSLATE_GVA_RESULT_CODE; *gpa is the translation on success, and on
 * WHvTranslateGvaResultGpaUnmapped the GPA of the paging-structure entry that could not be read. */
uint32_t gva_translate(const struct gva_cpu *cpu, uint64_t gva, uint32_t flags, gva_read_fn rd,
                       void *ctx, uint64_t *gpa);

/* The paging state of a VP, from its register cache (the caller owns the VP). */
void vp_gva_cpu(struct whp_vp *vp, struct gva_cpu *cpu);
bool vp_translate(struct whp_vp *vp, uint64_t gva, uint64_t *gpa);
/* The same walk with its WHV_TRANSLATE_GVA_RESULT_CODE (*gpa as for gva_translate). */
uint32_t vp_translate_result(struct whp_vp *vp, uint64_t gva, uint64_t *gpa);
/* Reads guest virtual memory through the VP's page tables: bytes read (stops at a fault). */
size_t vp_read_gva(struct whp_vp *vp, uint64_t gva, void *dst, size_t len);
/* CS:RIP as a linear address, and the code bytes there (the rest of buf zeroed): bytes read. */
uint64_t vp_linear_rip(struct whp_vp *vp, uint64_t rip);
size_t vp_fetch(struct whp_vp *vp, uint64_t rip, uint8_t *buf, size_t len);

#endif
