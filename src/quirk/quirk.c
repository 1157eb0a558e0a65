/* Host quirks: the control transfers KVM's instruction emulator fails on (INT n, INT3, INTO,
 * IRET), performed by src/emu/emu_ctl.c on this VP's register cache and guest memory when KVM
 * reports the failure (see quirk.h for when that happens and how to turn it off). A rule's
 * exception is injected; anything the emulator does not perform stays the VMM's
 * UnsupportedFeature exit. */
#include "quirk/quirk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu_ctl.h"
#include "obj/gva.h"

static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static bool enabled;

static void read_config(void)
{
    const char *v = getenv("OPENWHP_HOST_QUIRKS");
    enabled = !v || strcmp(v, "0") != 0;
}

/* ---- guest memory as the emulator sees it: linear addresses, supervisor accesses ---- */

struct guest {
    struct whp_vp *vp;
    struct gva_cpu cpu;
};

static int read_phys(void *ctx, uint64_t gpa, uint64_t *val, unsigned size)
{
    return mem_read(ctx, gpa, val, size);
}

static int access_linear(struct guest *g, uint64_t la, uint8_t *buf, size_t len, bool write)
{
    struct mem_map *m = &g->vp->part->mem;
    uint32_t flags = WHvTranslateGvaFlagPrivilegeExempt | (write ? WHvTranslateGvaFlagValidateWrite : 0);
    for (size_t done = 0; done < len;) {
        uint64_t gpa;
        if (gva_translate(&g->cpu, la + done, flags, read_phys, m, &gpa) != WHvTranslateGvaResultSuccess)
            return -EFAULT;
        size_t n = X86_PAGE_SIZE - ((la + done) & (X86_PAGE_SIZE - 1));
        if (n > len - done)
            n = len - done;
        int rc = write ? mem_write(m, gpa, buf + done, n, false) : mem_read(m, gpa, buf + done, n);
        if (rc < 0)
            return rc;
        done += n;
    }
    return 0;
}

static int guest_read(void *ctx, uint64_t linear, void *dst, size_t len)
{
    return access_linear(ctx, linear, dst, len, false);
}

static int guest_write(void *ctx, uint64_t linear, const void *src, size_t len)
{
    return access_linear(ctx, linear, (uint8_t *)src, len, true);
}

/* ---- the register cache <-> the emulator's state ---- */

static void seg_in(const struct kvm_segment *k, struct emu_segment *e)
{
    *e = (struct emu_segment){.base = k->base, .limit = k->limit, .selector = k->selector,
                              .type = k->type, .present = k->present, .dpl = k->dpl, .db = k->db,
                              .s = k->s, .l = k->l, .g = k->g, .avl = k->avl, .unusable = k->unusable};
}

static void seg_out(const struct emu_segment *e, struct kvm_segment *k)
{
    *k = (struct kvm_segment){.base = e->base, .limit = e->limit, .selector = e->selector,
                              .type = e->type, .present = e->present, .dpl = e->dpl, .db = e->db,
                              .s = e->s, .l = e->l, .g = e->g, .avl = e->avl, .unusable = e->unusable};
}

static void cpu_in(const struct kvm_sync_regs *s, struct emu_ctl_cpu *c)
{
    const struct kvm_sregs *sr = &s->sregs;
    const struct kvm_segment *segs[] = {&sr->es, &sr->cs, &sr->ss, &sr->ds, &sr->fs, &sr->gs};
    memset(c, 0, sizeof(*c));
    c->rip = s->regs.rip;
    c->rsp = s->regs.rsp;
    c->rflags = s->regs.rflags;
    c->cr0 = sr->cr0;
    c->cr4 = sr->cr4;
    c->efer = sr->efer;
    for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
        seg_in(segs[i], &c->seg[i]);
    seg_in(&sr->tr, &c->tr);
    c->gdt_base = sr->gdt.base;
    c->gdt_limit = sr->gdt.limit;
    c->idt_base = sr->idt.base;
    c->idt_limit = sr->idt.limit;
}

static void cpu_out(const struct emu_ctl_cpu *c, struct kvm_run *run)
{
    struct kvm_sync_regs *s = &run->s.regs;
    struct kvm_sregs *sr = &s->sregs;
    struct kvm_segment *segs[] = {&sr->es, &sr->cs, &sr->ss, &sr->ds, &sr->fs, &sr->gs};
    s->regs.rip = c->rip;
    s->regs.rsp = c->rsp;
    s->regs.rflags = c->rflags;
    for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
        seg_out(&c->seg[i], segs[i]);
    if (c->nmi_unblocked)
        s->events.nmi.masked = 0;
    run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
}

/* The exception a rule raises instead, at the instruction (RIP unchanged). */
static void inject(struct kvm_run *run, const struct emu_ctl_fault *f)
{
    struct kvm_vcpu_events *e = &run->s.regs.events;
    e->exception.injected = 1;
    e->exception.nr = f->vector;
    e->exception.has_error_code = f->has_error;
    e->exception.error_code = f->error;
    run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
}

enum quirk_result quirk_emulation_failure(struct whp_vp *vp, const uint8_t *insn, size_t len,
                                          bool bp_exit)
{
    pthread_once(&config_once, read_config);
    if (!enabled || len == 0)
        return QUIRK_NOT_HANDLED;
    struct guest g = {.vp = vp};
    struct emu_ctl_cpu cpu;
    struct emu_ctl_insn d;
    cpu_in(&vp->run->s.regs, &cpu);
    emu_ctl_decode(&cpu, insn, len, &d);
    if (d.kind == EMU_CTL_NONE)
        return QUIRK_NOT_HANDLED;
    if (d.kind == EMU_CTL_INT3 && bp_exit)
        return QUIRK_BREAKPOINT; /* the VMM's exit, not a workaround */
    vp_gva_cpu(vp, &g.cpu);
    const struct emu_ctl_mem mem = {.ctx = &g, .read = guest_read, .write = guest_write};
    struct emu_ctl_fault fault;
    switch (emu_ctl_execute(&cpu, insn, len, &mem, &fault)) {
    case EMU_CTL_DONE:
        cpu_out(&cpu, vp->run);
        break;
    case EMU_CTL_FAULT:
        inject(vp->run, &fault);
        break;
    case EMU_CTL_UNSUPPORTED:
        return QUIRK_NOT_HANDLED;
    }
    return QUIRK_RESUME;
}
