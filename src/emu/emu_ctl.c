/* INT n, INT3, INTO and IRET performed in software (see emu_ctl.h), after the pseudo-code of
 * the Intel SDM: delivery through the IVT (real mode) or the IDT (protected and long mode) with
 * the gate, DPL and TSS-stack rules, and the return to the same or an outer privilege level.
 * Every table index is checked against its limit; a rule's exception is reported, not raised. */
#include "emu/emu_ctl.h"

#include <string.h>

#include "emu/emu_decode.h"

#define CR0_PE 1ull
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)

#define FL_FIXED (1ull << 1)
#define FL_TF (1ull << 8)
#define FL_IF (1ull << 9)
#define FL_OF (1ull << 11)
#define FL_IOPL_SHIFT 12
#define FL_IOPL (3ull << FL_IOPL_SHIFT)
#define FL_NT (1ull << 14)
#define FL_RF (1ull << 16)
#define FL_VM (1ull << 17)
#define FL_AC (1ull << 18)
#define FL_VIF (1ull << 19)
#define FL_VIP (1ull << 20)
#define FL_IRET_MASK 0x3f7fd7ull    /* the flags a protected-mode IRET may set */
#define FL_REAL_IRET_MASK 0x257fd5ull /* ... a real-mode 32-bit IRET (not VM, VIF, VIP) */
#define FL_LOW16 0xffffull

#define VEC_BP 3
#define VEC_OF 4
#define VEC_UD 6
#define VEC_TS 10
#define VEC_NP 11
#define VEC_SS 12
#define VEC_GP 13

#define OP_INT3 0xcc
#define OP_INT 0xcd
#define OP_INTO 0xce
#define OP_IRET 0xcf
#define PFX_OPSIZE 0x66
#define PFX_ADDRSIZE 0x67
#define PFX_REP 0xf3
#define PFX_REPNE 0xf2
#define REX_MASK 0xf0
#define REX 0x40
#define REX_W 0x08

#define SEL_RPL 3u
#define SEL_TI 4u
#define SEL_INDEX(sel) ((uint32_t)(sel) & ~7u)
#define SEL_ERR(sel) ((uint32_t)(sel) & ~SEL_RPL) /* the error code naming a selector */
#define ERR_IDT 2u                                /* the error code names an IDT entry */

#define DESC_SIZE 8
#define GATE_SIZE 8
#define GATE64_SIZE 16
#define IVT_ENTRY 4
#define REAL_SEG_SHIFT 4

#define TYPE_ACCESSED 1u
#define TYPE_WRITABLE 2u    /* data */
#define TYPE_EXPAND_DOWN 4u /* data */
#define TYPE_CONFORMING 4u  /* code */
#define TYPE_CODE 8u

#define GATE_TASK 0x5u
#define GATE_INT16 0x6u
#define GATE_TRAP16 0x7u
#define GATE_INT32 0xeu /* the 64-bit interrupt gate in long mode */
#define GATE_TRAP32 0xfu
#define GATE_TRAP_BIT 1u
#define GATE_32_BIT 8u

#define TSS_32_BIT 8u /* in TR's type: a 32-bit (or 64-bit) TSS */
#define TSS16_SP0 2u
#define TSS16_STRIDE 4u
#define TSS32_ESP0 4u
#define TSS32_STRIDE 8u
#define TSS64_RSP0 4u
#define TSS64_IST1 36u
#define TSS64_STRIDE 8u

#define STACK_ALIGN_64 16ull
#define MASK16 0xffffull
#define MASK32 0xffffffffull

enum st { ST_OK, ST_FAULT, ST_UNSUPPORTED };

/* One instruction in progress: a working copy of the CPU, committed only when it succeeds. */
struct run {
    struct emu_ctl_cpu *cpu;
    const struct emu_ctl_mem *mem;
    struct emu_ctl_fault *fault;
};

struct stack {
    uint64_t base, sp, mask;
    const struct emu_segment *seg; /* limit checks outside 64-bit mode */
    uint32_t ss_err;               /* #SS error code: 0, or the new SS on a privilege change */
    bool long64;
};

struct gate {
    uint64_t offset;
    uint16_t selector;
    uint8_t type, dpl, present, ist;
};

static enum st raise(struct run *r, uint8_t vector, bool has_error, uint32_t error)
{
    r->fault->vector = vector;
    r->fault->has_error = has_error;
    r->fault->error = error;
    return ST_FAULT;
}

static unsigned cpl_of(const struct emu_ctl_cpu *c)
{
    return c->seg[EMU_SEG_SS].dpl;
}

static bool long_mode(const struct emu_ctl_cpu *c)
{
    return c->efer & EFER_LMA;
}

static enum emu_mode mode_of(const struct emu_ctl_cpu *c)
{
    const struct emu_segment *cs = &c->seg[EMU_SEG_CS];
    return emu_mode_of(c->cr0 & CR0_PE, long_mode(c), cs->l, cs->db);
}

static bool canonical(const struct emu_ctl_cpu *c, uint64_t v)
{
    unsigned unused = (c->cr4 & CR4_LA57) ? 7 : 16;
    return (uint64_t)((int64_t)(v << unused) >> unused) == v;
}

/* System-table addresses wrap at 4 GiB outside long mode. */
static uint64_t table_linear(const struct emu_ctl_cpu *c, uint64_t base, uint32_t offset)
{
    uint64_t la = base + offset;
    return long_mode(c) ? la : la & MASK32;
}

static enum st read_mem(struct run *r, uint64_t la, void *dst, size_t len)
{
    return r->mem->read(r->mem->ctx, la, dst, len) < 0 ? ST_UNSUPPORTED : ST_OK;
}

/* ---- descriptors ---- */

static void unpack_desc(uint64_t d, uint16_t selector, struct emu_segment *s)
{
    memset(s, 0, sizeof(*s));
    s->selector = selector;
    s->base = ((d >> 16) & 0xffffffull) | ((d >> 56) << 24);
    s->limit = (uint32_t)((d & 0xffffull) | (((d >> 48) & 0xfull) << 16));
    s->type = (d >> 40) & 0xf;
    s->s = (d >> 44) & 1;
    s->dpl = (d >> 45) & 3;
    s->present = (d >> 47) & 1;
    s->avl = (d >> 52) & 1;
    s->l = (d >> 53) & 1;
    s->db = (d >> 54) & 1;
    s->g = (d >> 55) & 1;
    if (s->g)
        s->limit = (s->limit << 12) | 0xfffu;
}

/* The GDT descriptor of a non-null selector; #vector(selector) when it lies beyond the limit.
 * LDT selectors are not performed. */
static enum st read_desc(struct run *r, uint16_t sel, uint8_t vector, struct emu_segment *s)
{
    const struct emu_ctl_cpu *c = r->cpu;
    if (sel & SEL_TI)
        return ST_UNSUPPORTED;
    if (SEL_INDEX(sel) + DESC_SIZE - 1 > c->gdt_limit)
        return raise(r, vector, true, SEL_ERR(sel));
    uint64_t d = 0;
    enum st st = read_mem(r, table_linear(c, c->gdt_base, SEL_INDEX(sel)), &d, DESC_SIZE);
    if (st == ST_OK)
        unpack_desc(d, sel, s);
    return st;
}

static bool is_code(const struct emu_segment *s)
{
    return s->s && (s->type & TYPE_CODE);
}

static bool is_writable_data(const struct emu_segment *s)
{
    return s->s && !(s->type & TYPE_CODE) && (s->type & TYPE_WRITABLE);
}

/* The stack segment of a 64-bit privilege change: a null selector carrying the new RPL. */
static struct emu_segment null_stack(unsigned cpl)
{
    struct emu_segment s = {.limit = (uint32_t)MASK32, .selector = (uint16_t)cpl,
                            .type = TYPE_WRITABLE | TYPE_ACCESSED, .present = 1,
                            .dpl = (uint8_t)cpl, .db = 1, .s = 1, .g = 1};
    return s;
}

static struct emu_segment null_data(void)
{
    struct emu_segment s = {.unusable = 1};
    return s;
}

/* ---- stacks ---- */

static struct stack stack_of(const struct emu_segment *ss, uint64_t sp, bool long64)
{
    struct stack s = {.base = ss->base, .seg = ss, .long64 = long64};
    s.mask = long64 ? ~0ull : ss->db ? MASK32 : MASK16;
    s.sp = sp & s.mask;
    return s;
}

static enum st stack_check(struct run *r, const struct stack *s, uint64_t sp, unsigned w)
{
    if (s->long64)
        return canonical(r->cpu, sp) && canonical(r->cpu, sp + w - 1) ? ST_OK
                                                                        : raise(r, VEC_SS, true, 0);
    uint64_t last = sp + w - 1, top = s->seg->db ? MASK32 : MASK16;
    bool down = !(s->seg->type & TYPE_CODE) && (s->seg->type & TYPE_EXPAND_DOWN);
    bool ok = down ? sp > s->seg->limit && last <= top : last <= s->seg->limit;
    return ok ? ST_OK : raise(r, VEC_SS, true, s->ss_err);
}

static uint64_t stack_linear(const struct stack *s, uint64_t sp)
{
    return s->long64 ? sp : (s->base + sp) & MASK32;
}

static enum st push(struct run *r, struct stack *s, uint64_t v, unsigned w)
{
    uint64_t sp = (s->sp - w) & s->mask;
    enum st st = stack_check(r, s, sp, w);
    if (st != ST_OK)
        return st;
    if (r->mem->write(r->mem->ctx, stack_linear(s, sp), &v, w) < 0)
        return ST_UNSUPPORTED;
    s->sp = sp;
    return ST_OK;
}

static enum st pop(struct run *r, struct stack *s, uint64_t *v, unsigned w)
{
    enum st st = stack_check(r, s, s->sp, w);
    *v = 0;
    if (st == ST_OK)
        st = read_mem(r, stack_linear(s, s->sp), v, w);
    if (st == ST_OK)
        s->sp = (s->sp + w) & s->mask;
    return st;
}

/* The frame of an interrupt: values[] pushed in order, each w bytes. */
static enum st push_all(struct run *r, struct stack *s, const uint64_t *values, size_t n, unsigned w)
{
    enum st st = ST_OK;
    for (size_t i = 0; i < n && st == ST_OK; i++)
        st = push(r, s, values[i], w);
    return st;
}

/* RSP after the stack s was used: the bits outside the stack size are kept. */
static uint64_t stack_rsp(uint64_t old, const struct stack *s)
{
    return (old & ~s->mask) | s->sp;
}

/* ---- delivery: real mode ---- */

static enum st deliver_real(struct run *r, uint8_t vector, uint64_t next)
{
    struct emu_ctl_cpu *c = r->cpu;
    uint32_t off = (uint32_t)vector * IVT_ENTRY;
    if (off + IVT_ENTRY - 1 > c->idt_limit)
        return raise(r, VEC_GP, false, 0);
    uint16_t entry[2];
    enum st st = read_mem(r, (c->idt_base + off) & MASK32, entry, sizeof(entry));
    struct stack s = stack_of(&c->seg[EMU_SEG_SS], c->rsp, false);
    const uint64_t frame[] = {c->rflags & FL_LOW16, c->seg[EMU_SEG_CS].selector, next & MASK16};
    if (st == ST_OK)
        st = push_all(r, &s, frame, sizeof(frame) / sizeof(frame[0]), 2);
    if (st != ST_OK)
        return st;
    c->rsp = stack_rsp(c->rsp, &s);
    c->rflags &= ~(FL_IF | FL_TF | FL_AC);
    c->seg[EMU_SEG_CS].selector = entry[1];
    c->seg[EMU_SEG_CS].base = (uint64_t)entry[1] << REAL_SEG_SHIFT;
    c->rip = entry[0];
    return ST_OK;
}

/* ---- delivery: protected and long mode ---- */

static void unpack_gate(const uint64_t d[2], struct gate *g)
{
    g->offset = (d[0] & 0xffffull) | ((d[0] >> 48) << 16) | ((d[1] & MASK32) << 32);
    g->selector = (uint16_t)(d[0] >> 16);
    g->ist = (d[0] >> 32) & 7;
    g->type = (d[0] >> 40) & 0xf;
    g->dpl = (d[0] >> 45) & 3;
    g->present = (d[0] >> 47) & 1;
}

/* The IDT gate of a software interrupt: the bounds, type, DPL and present checks. */
static enum st read_gate(struct run *r, uint8_t vector, struct gate *g)
{
    const struct emu_ctl_cpu *c = r->cpu;
    unsigned size = long_mode(c) ? GATE64_SIZE : GATE_SIZE;
    uint32_t off = (uint32_t)vector * size, err = (uint32_t)vector * GATE_SIZE + ERR_IDT;
    if (off + size - 1 > c->idt_limit)
        return raise(r, VEC_GP, true, err);
    uint64_t d[2] = {0, 0};
    enum st st = read_mem(r, table_linear(c, c->idt_base, off), d, size);
    if (st != ST_OK)
        return st;
    unpack_gate(d, g);
    if (!long_mode(c))
        g->offset &= MASK32;
    bool legacy_type = g->type == GATE_INT16 || g->type == GATE_TRAP16;
    if (g->type == GATE_TASK && !long_mode(c))
        return ST_UNSUPPORTED;
    if ((legacy_type && long_mode(c)) ||
        (!legacy_type && g->type != GATE_INT32 && g->type != GATE_TRAP32))
        return raise(r, VEC_GP, true, err);
    if (g->dpl < cpl_of(c))
        return raise(r, VEC_GP, true, err);
    if (!g->present)
        return raise(r, VEC_NP, true, err);
    return ST_OK;
}

/* The code segment a gate names: a present code segment of DPL <= CPL. */
static enum st gate_code(struct run *r, const struct gate *g, struct emu_segment *cs)
{
    if (!SEL_INDEX(g->selector) && !(g->selector & SEL_TI))
        return raise(r, VEC_GP, true, 0);
    enum st st = read_desc(r, g->selector, VEC_GP, cs);
    if (st != ST_OK)
        return st;
    if (!is_code(cs) || cs->dpl > cpl_of(r->cpu) ||
        (long_mode(r->cpu) && (!cs->l || cs->db)))
        return raise(r, VEC_GP, true, SEL_ERR(g->selector));
    if (!cs->present)
        return raise(r, VEC_NP, true, SEL_ERR(g->selector));
    return ST_OK;
}

/* SS:ESP of ring cpl from a 16- or 32-bit TSS, checked as the CPU checks the new stack. */
static enum st tss_stack_legacy(struct run *r, unsigned cpl, struct emu_segment *ss, uint64_t *sp)
{
    const struct emu_segment *tr = &r->cpu->tr;
    bool t32 = tr->type & TSS_32_BIT;
    unsigned w = t32 ? 4 : 2;
    uint32_t off = t32 ? TSS32_ESP0 + cpl * TSS32_STRIDE : TSS16_SP0 + cpl * TSS16_STRIDE;
    if (off + w + 2 - 1 > tr->limit)
        return raise(r, VEC_TS, true, SEL_ERR(tr->selector));
    uint8_t raw[6] = {0};
    enum st st = read_mem(r, (tr->base + off) & MASK32, raw, w + 2);
    if (st != ST_OK)
        return st;
    uint16_t sel;
    *sp = 0;
    memcpy(sp, raw, w);
    memcpy(&sel, raw + w, sizeof(sel));
    if (!SEL_INDEX(sel) && !(sel & SEL_TI))
        return raise(r, VEC_TS, true, 0);
    if ((sel & SEL_RPL) != cpl)
        return raise(r, VEC_TS, true, SEL_ERR(sel));
    st = read_desc(r, sel, VEC_TS, ss);
    if (st != ST_OK)
        return st;
    if (!is_writable_data(ss) || ss->dpl != cpl)
        return raise(r, VEC_TS, true, SEL_ERR(sel));
    if (!ss->present)
        return raise(r, VEC_SS, true, SEL_ERR(sel));
    ss->type |= TYPE_ACCESSED;
    return ST_OK;
}

/* RSP of ring cpl, or of IST ist, from the 64-bit TSS. */
static enum st tss_stack_64(struct run *r, unsigned cpl, unsigned ist, uint64_t *sp)
{
    const struct emu_segment *tr = &r->cpu->tr;
    uint32_t off = ist ? TSS64_IST1 + (ist - 1) * TSS64_STRIDE : TSS64_RSP0 + cpl * TSS64_STRIDE;
    if (off + sizeof(*sp) - 1 > tr->limit)
        return raise(r, VEC_TS, true, SEL_ERR(tr->selector));
    enum st st = read_mem(r, tr->base + off, sp, sizeof(*sp));
    if (st == ST_OK && !canonical(r->cpu, *sp))
        return raise(r, VEC_SS, true, 0);
    return st;
}

/* The common end of a delivery: CS:RIP of the handler, and the flags the gate clears. */
static void enter_handler(struct emu_ctl_cpu *c, struct emu_segment *cs, unsigned cpl,
                          const struct gate *g)
{
    cs->selector = (uint16_t)((cs->selector & ~SEL_RPL) | cpl);
    cs->type |= TYPE_ACCESSED;
    c->seg[EMU_SEG_CS] = *cs;
    c->rip = g->offset;
    c->rflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
    if (!(g->type & GATE_TRAP_BIT))
        c->rflags &= ~FL_IF;
}

static enum st deliver_legacy(struct run *r, const struct gate *g, struct emu_segment *cs,
                              uint64_t next)
{
    struct emu_ctl_cpu *c = r->cpu;
    unsigned cpl = cpl_of(c), w = (g->type & GATE_32_BIT) ? 4 : 2;
    unsigned new_cpl = (cs->type & TYPE_CONFORMING) ? cpl : cs->dpl;
    struct gate target = *g;
    if (w == 2)
        target.offset &= MASK16;
    if (target.offset > cs->limit)
        return raise(r, VEC_GP, true, 0);
    struct emu_segment ss = c->seg[EMU_SEG_SS];
    uint64_t sp = c->rsp;
    enum st st = new_cpl < cpl ? tss_stack_legacy(r, new_cpl, &ss, &sp) : ST_OK;
    if (st != ST_OK)
        return st;
    struct stack s = stack_of(&ss, sp, false);
    s.ss_err = new_cpl < cpl ? SEL_ERR(ss.selector) : 0;
    const uint64_t outer[] = {c->seg[EMU_SEG_SS].selector,
                              c->rsp & (c->seg[EMU_SEG_SS].db ? MASK32 : MASK16)};
    const uint64_t frame[] = {c->rflags, c->seg[EMU_SEG_CS].selector, next};
    if (new_cpl < cpl)
        st = push_all(r, &s, outer, 2, w);
    if (st == ST_OK)
        st = push_all(r, &s, frame, 3, w);
    if (st != ST_OK)
        return st;
    c->rsp = stack_rsp(new_cpl < cpl ? sp : c->rsp, &s);
    c->seg[EMU_SEG_SS] = ss;
    enter_handler(c, cs, new_cpl, &target);
    return ST_OK;
}

static enum st deliver_long(struct run *r, const struct gate *g, struct emu_segment *cs,
                            uint64_t next)
{
    struct emu_ctl_cpu *c = r->cpu;
    unsigned cpl = cpl_of(c);
    unsigned new_cpl = (cs->type & TYPE_CONFORMING) ? cpl : cs->dpl;
    if (!canonical(c, g->offset))
        return raise(r, VEC_GP, true, 0);
    uint64_t sp = c->rsp;
    enum st st = new_cpl < cpl || g->ist ? tss_stack_64(r, new_cpl, g->ist, &sp) : ST_OK;
    if (st != ST_OK)
        return st;
    struct emu_segment ss = new_cpl < cpl ? null_stack(new_cpl) : c->seg[EMU_SEG_SS];
    struct stack s = stack_of(&ss, sp & ~(STACK_ALIGN_64 - 1), true);
    const uint64_t frame[] = {c->seg[EMU_SEG_SS].selector, c->rsp, c->rflags,
                              c->seg[EMU_SEG_CS].selector, next};
    st = push_all(r, &s, frame, sizeof(frame) / sizeof(frame[0]), sizeof(uint64_t));
    if (st != ST_OK)
        return st;
    c->rsp = s.sp;
    c->seg[EMU_SEG_SS] = ss;
    enter_handler(c, cs, new_cpl, g);
    return ST_OK;
}

static enum st deliver(struct run *r, uint8_t vector, uint64_t next)
{
    struct emu_ctl_cpu *c = r->cpu;
    if (!(c->cr0 & CR0_PE))
        return deliver_real(r, vector, next);
    if (c->rflags & FL_VM)
        return ST_UNSUPPORTED;
    struct gate g;
    struct emu_segment cs;
    enum st st = read_gate(r, vector, &g);
    if (st == ST_OK)
        st = gate_code(r, &g, &cs);
    if (st != ST_OK)
        return st;
    return long_mode(c) ? deliver_long(r, &g, &cs, next) : deliver_legacy(r, &g, &cs, next);
}

/* ---- IRET ---- */

static enum st iret_real(struct run *r, unsigned w)
{
    struct emu_ctl_cpu *c = r->cpu;
    struct stack s = stack_of(&c->seg[EMU_SEG_SS], c->rsp, false);
    uint64_t ip, sel, fl;
    enum st st = pop(r, &s, &ip, w);
    if (st == ST_OK)
        st = pop(r, &s, &sel, w);
    if (st == ST_OK)
        st = pop(r, &s, &fl, w);
    if (st != ST_OK)
        return st;
    if (ip > c->seg[EMU_SEG_CS].limit)
        return raise(r, VEC_GP, false, 0);
    c->rip = ip;
    c->seg[EMU_SEG_CS].selector = (uint16_t)sel;
    c->seg[EMU_SEG_CS].base = (sel & MASK16) << REAL_SEG_SHIFT;
    c->rflags = w == 2 ? (c->rflags & ~FL_LOW16) | fl
                       : (fl & FL_REAL_IRET_MASK) | (c->rflags & (FL_VM | FL_VIF | FL_VIP));
    c->rflags |= FL_FIXED;
    c->rsp = stack_rsp(c->rsp, &s);
    c->nmi_unblocked = true;
    return ST_OK;
}

/* The flags after a protected-mode IRET: what the CPL and IOPL allow to change. */
static uint64_t iret_flags(uint64_t old, uint64_t popped, unsigned w, unsigned cpl)
{
    unsigned iopl = (unsigned)((old & FL_IOPL) >> FL_IOPL_SHIFT);
    uint64_t keep = FL_VM | (w == 2 ? ~FL_LOW16 : 0) | (cpl ? FL_IOPL | FL_VIF | FL_VIP : 0) |
                    (cpl > iopl ? FL_IF : 0);
    return (((popped & ~keep) | (old & keep)) & FL_IRET_MASK) | FL_FIXED;
}

/* The code segment IRET returns to: RPL >= CPL, DPL matching the RPL as its type requires. */
static enum st iret_code(struct run *r, uint16_t sel, struct emu_segment *cs)
{
    if (!SEL_INDEX(sel) && !(sel & SEL_TI))
        return raise(r, VEC_GP, true, 0);
    enum st st = read_desc(r, sel, VEC_GP, cs);
    if (st != ST_OK)
        return st;
    unsigned rpl = sel & SEL_RPL;
    bool dpl_ok = (cs->type & TYPE_CONFORMING) ? cs->dpl <= rpl : cs->dpl == rpl;
    if (!is_code(cs) || rpl < cpl_of(r->cpu) || !dpl_ok ||
        (long_mode(r->cpu) && cs->l && cs->db))
        return raise(r, VEC_GP, true, SEL_ERR(sel));
    if (!cs->present)
        return raise(r, VEC_NP, true, SEL_ERR(sel));
    cs->type |= TYPE_ACCESSED;
    return ST_OK;
}

/* The stack segment IRET loads with a return to ring rpl (to64: into 64-bit code). */
static enum st iret_stack(struct run *r, uint16_t sel, unsigned rpl, bool to64,
                          struct emu_segment *ss)
{
    if (!SEL_INDEX(sel) && !(sel & SEL_TI)) {
        if (!to64 || rpl == 3)
            return raise(r, VEC_GP, true, 0);
        *ss = null_stack(rpl);
        ss->selector = sel;
        return ST_OK;
    }
    if ((sel & SEL_RPL) != rpl)
        return raise(r, VEC_GP, true, SEL_ERR(sel));
    enum st st = read_desc(r, sel, VEC_GP, ss);
    if (st != ST_OK)
        return st;
    if (!is_writable_data(ss) || ss->dpl != rpl)
        return raise(r, VEC_GP, true, SEL_ERR(sel));
    if (!ss->present)
        return raise(r, VEC_SS, true, SEL_ERR(sel));
    ss->type |= TYPE_ACCESSED;
    return ST_OK;
}

/* Data segments the outer ring may not use become null. */
static void drop_inner_segments(struct emu_ctl_cpu *c, unsigned cpl)
{
    static const int segs[] = {EMU_SEG_ES, EMU_SEG_DS, EMU_SEG_FS, EMU_SEG_GS};
    for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
        struct emu_segment *s = &c->seg[segs[i]];
        bool conforming_code = is_code(s) && (s->type & TYPE_CONFORMING);
        if (!s->unusable && !conforming_code && s->dpl < cpl)
            *s = null_data();
    }
}

static enum st iret_protected(struct run *r, unsigned w)
{
    struct emu_ctl_cpu *c = r->cpu;
    bool long64 = mode_of(c) == EMU_MODE_64;
    unsigned cpl = cpl_of(c);
    if (c->rflags & FL_VM)
        return ST_UNSUPPORTED;
    if (c->rflags & FL_NT)
        return long_mode(c) ? raise(r, VEC_GP, true, 0) : ST_UNSUPPORTED; /* task return */
    struct stack s = stack_of(&c->seg[EMU_SEG_SS], c->rsp, long64);
    uint64_t v[5]; /* RIP, CS, RFLAGS, RSP, SS */
    enum st st = ST_OK;
    for (int i = 0; i < 3 && st == ST_OK; i++)
        st = pop(r, &s, &v[i], w);
    if (st != ST_OK)
        return st;
    if (!long_mode(c) && (v[2] & FL_VM) && cpl == 0 && w == 4)
        return ST_UNSUPPORTED; /* return to virtual-8086 mode */
    struct emu_segment cs, ss = c->seg[EMU_SEG_SS];
    st = iret_code(r, (uint16_t)v[1], &cs);
    if (st != ST_OK)
        return st;
    unsigned rpl = v[1] & SEL_RPL;
    bool to64 = long_mode(c) && cs.l, outer = rpl > cpl || long64;
    v[3] = c->rsp;
    for (int i = 3; outer && i < 5 && st == ST_OK; i++)
        st = pop(r, &s, &v[i], w);
    if (st == ST_OK && outer)
        st = iret_stack(r, (uint16_t)v[4], rpl, to64, &ss);
    if (st != ST_OK)
        return st;
    if (to64 ? !canonical(c, v[0]) : v[0] > cs.limit)
        return raise(r, VEC_GP, true, 0);
    c->rflags = iret_flags(c->rflags, v[2], w, cpl);
    c->rip = v[0];
    c->seg[EMU_SEG_CS] = cs;
    if (outer) {
        struct stack ns = stack_of(&ss, v[3], to64);
        c->rsp = to64 ? v[3] : stack_rsp(c->rsp, &ns);
        c->seg[EMU_SEG_SS] = ss;
    } else {
        c->rsp = stack_rsp(c->rsp, &s);
    }
    if (rpl > cpl)
        drop_inner_segments(c, rpl);
    c->nmi_unblocked = true;
    return ST_OK;
}

/* ---- decoding and dispatch ---- */

static bool ignored_prefix(uint8_t b)
{
    switch (b) {
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65: /* segment overrides */
    case PFX_ADDRSIZE: case PFX_REP: case PFX_REPNE:
        return true;
    default:
        return false;
    }
}

void emu_ctl_decode(const struct emu_ctl_cpu *cpu, const uint8_t *bytes, size_t count,
                    struct emu_ctl_insn *insn)
{
    enum emu_mode mode = mode_of(cpu);
    bool opsize = false, rexw = false;
    size_t i = 0;
    memset(insn, 0, sizeof(*insn));
    for (; i < count && i < EMU_MAX_INSN_LEN; i++) {
        uint8_t b = bytes[i];
        if (b == PFX_OPSIZE || ignored_prefix(b)) {
            opsize |= b == PFX_OPSIZE;
            rexw = false; /* a REX prefix counts only right before the opcode */
        } else if (mode == EMU_MODE_64 && (b & REX_MASK) == REX) {
            rexw = b & REX_W;
        } else {
            break;
        }
    }
    size_t imm = i < count && bytes[i] == OP_INT ? 1 : 0;
    if (i >= count || i + imm >= count || i + 1 + imm > EMU_MAX_INSN_LEN)
        return;
    insn->len = (uint8_t)(i + 1 + imm);
    switch (bytes[i]) {
    case OP_INT3:
        insn->kind = EMU_CTL_INT3;
        insn->vector = VEC_BP;
        break;
    case OP_INT:
        insn->kind = EMU_CTL_INT;
        insn->vector = bytes[i + 1];
        break;
    case OP_INTO:
        insn->kind = EMU_CTL_INTO;
        insn->vector = VEC_OF;
        break;
    case OP_IRET:
        insn->kind = EMU_CTL_IRET;
        insn->size = mode == EMU_MODE_64 && rexw ? 8 : (mode == EMU_MODE_16) != opsize ? 2 : 4;
        break;
    default:
        insn->len = 0;
        break;
    }
}

static uint64_t next_rip(const struct emu_ctl_cpu *c, unsigned len)
{
    enum emu_mode mode = mode_of(c);
    uint64_t next = c->rip + len;
    return mode == EMU_MODE_64 ? next : mode == EMU_MODE_32 ? next & MASK32 : next & MASK16;
}

static enum st perform(struct run *r, const struct emu_ctl_insn *insn)
{
    struct emu_ctl_cpu *c = r->cpu;
    uint64_t next = next_rip(c, insn->len);
    switch (insn->kind) {
    case EMU_CTL_INTO:
        if (mode_of(c) == EMU_MODE_64)
            return raise(r, VEC_UD, false, 0);
        if (!(c->rflags & FL_OF)) {
            c->rip = next;
            return ST_OK;
        }
        return deliver(r, insn->vector, next);
    case EMU_CTL_INT:
    case EMU_CTL_INT3:
        return deliver(r, insn->vector, next);
    case EMU_CTL_IRET:
        return (c->cr0 & CR0_PE) ? iret_protected(r, insn->size) : iret_real(r, insn->size);
    default:
        return ST_UNSUPPORTED;
    }
}

enum emu_ctl_result emu_ctl_execute(struct emu_ctl_cpu *cpu, const uint8_t *bytes, size_t count,
                                    const struct emu_ctl_mem *mem, struct emu_ctl_fault *fault)
{
    struct emu_ctl_insn insn;
    emu_ctl_decode(cpu, bytes, count, &insn);
    struct emu_ctl_cpu work = *cpu;
    work.nmi_unblocked = false;
    struct run r = {.cpu = &work, .mem = mem, .fault = fault};
    switch (perform(&r, &insn)) {
    case ST_OK:
        *cpu = work;
        return EMU_CTL_DONE;
    case ST_FAULT:
        return EMU_CTL_FAULT;
    default:
        return EMU_CTL_UNSUPPORTED;
    }
}
