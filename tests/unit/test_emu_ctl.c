/* Unit tests of the software INT n / INT3 / INTO / IRET (src/emu/emu_ctl.c) with a fake CPU and
 * a flat fake memory (linear = physical): gates, DPL and limit checks, TSS stacks and IST, the
 * frames pushed, IRET to the same and to an outer privilege level, real mode, hostile tables. */
#include <string.h>

#include "check.h"
#include "emu/emu_ctl.h"
#include "emu/emu_decode.h"

#define MEM_SIZE 0x100000u
#define GDT 0x1000u
#define IDT 0x2000u
#define TSS 0x3000u
#define STACK0 0x8000u
#define USER_STACK 0x9000u
#define IST1 0xa000u
#define HANDLER 0x5000u
#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1b
#define SEL_DATA3 0x23
#define FL_IF 0x200u
#define FL_FIXED 0x2u
#define GATE_INT 0xe
#define GATE_TRAP 0xf
#define GATE_TASK 0x5
#define VEC_UD 6
#define VEC_NP 11
#define VEC_GP 13

static uint8_t mem[MEM_SIZE];

static int fake_read(void *ctx, uint64_t la, void *dst, size_t len)
{
    (void)ctx;
    if (la >= MEM_SIZE || len > MEM_SIZE - la)
        return -14;
    memcpy(dst, mem + la, len);
    return 0;
}

static int fake_write(void *ctx, uint64_t la, const void *src, size_t len)
{
    (void)ctx;
    if (la >= MEM_SIZE || len > MEM_SIZE - la)
        return -14;
    memcpy(mem + la, src, len);
    return 0;
}

static const struct emu_ctl_mem fake = {.read = fake_read, .write = fake_write};

static uint64_t rd(uint64_t la, unsigned w)
{
    uint64_t v = 0;
    memcpy(&v, mem + la, w);
    return v;
}

static void wr(uint64_t la, uint64_t v, unsigned w)
{
    memcpy(mem + la, &v, w);
}

static uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
           ((uint64_t)(base >> 24) << 56);
}

static struct emu_segment flat(uint16_t sel, uint8_t type, unsigned dpl, bool l)
{
    struct emu_segment s = {.limit = 0xffffffffu, .selector = sel, .type = type, .present = 1,
                            .dpl = (uint8_t)dpl, .db = !l, .s = 1, .l = l, .g = 1};
    return s;
}

/* A CPU at CPL cpl in 32-bit protected mode (long: 64-bit mode) with GDT, IDT and TSS. */
static void setup(struct emu_ctl_cpu *c, bool lm, unsigned cpl)
{
    uint8_t cflags = lm ? 0xa : 0xc;
    memset(mem, 0, sizeof(mem));
    wr(GDT + 0x08, desc(0, 0xfffff, 0x9b, cflags), 8);
    wr(GDT + 0x10, desc(0, 0xfffff, 0x93, 0xc), 8);
    wr(GDT + 0x18, desc(0, 0xfffff, 0xfb, cflags), 8);
    wr(GDT + 0x20, desc(0, 0xfffff, 0xf3, 0xc), 8);
    wr(TSS + 4, STACK0, lm ? 8 : 4);
    if (!lm)
        wr(TSS + 8, SEL_DATA0, 2);
    wr(TSS + 36, IST1, 8);
    memset(c, 0, sizeof(*c));
    c->cr0 = 1;
    c->efer = lm ? 0x500 : 0;
    c->rip = 0x4000;
    c->rsp = cpl ? USER_STACK : STACK0 - 0x100;
    c->rflags = FL_FIXED | FL_IF;
    c->seg[EMU_SEG_CS] = flat(cpl ? SEL_CODE3 : SEL_CODE0, 0xb, cpl, lm);
    for (int s = EMU_SEG_ES; s <= EMU_SEG_GS; s++)
        if (s != EMU_SEG_CS)
            c->seg[s] = flat(cpl ? SEL_DATA3 : SEL_DATA0, 0x3, cpl, false);
    c->tr = (struct emu_segment){.base = TSS, .limit = 0x67, .selector = 0x28, .type = 0xb, .present = 1};
    c->gdt_base = GDT;
    c->gdt_limit = 0x2f;
    c->idt_base = IDT;
    c->idt_limit = lm ? 0xfff : 0x7ff;
}

static void gate(bool lm, uint8_t vec, uint8_t type, unsigned dpl, unsigned ist, bool present)
{
    uint64_t lo = (HANDLER & 0xffff) | ((uint64_t)SEL_CODE0 << 16) | ((uint64_t)ist << 32) |
                  ((uint64_t)((present ? 0x80 : 0) | dpl << 5 | type) << 40);
    wr(IDT + vec * (lm ? 16u : 8u), lo, 8);
}

static int run(struct emu_ctl_cpu *c, const uint8_t *b, size_t n, struct emu_ctl_fault *f)
{
    return emu_ctl_execute(c, b, n, &fake, f);
}

static const uint8_t int21[] = {0xcd, 0x21};

static void test_legacy_int_from_cpl3_uses_tss_stack(void)
{
    struct emu_ctl_cpu c;
    struct emu_ctl_fault f;
    setup(&c, false, 3);
    gate(false, 0x21, GATE_TRAP, 3, 0, true);
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_DONE);
    CHECK_EQ(c.rip, HANDLER);
    CHECK_EQ(c.seg[EMU_SEG_CS].selector, SEL_CODE0);
    CHECK_EQ(c.seg[EMU_SEG_SS].selector, SEL_DATA0);
    CHECK_EQ(c.seg[EMU_SEG_SS].dpl, 0);
    CHECK_EQ(c.rsp, STACK0 - 20);
    CHECK_EQ(rd(STACK0 - 4, 4), SEL_DATA3);
    CHECK_EQ(rd(STACK0 - 8, 4), USER_STACK);
    CHECK(rd(STACK0 - 12, 4) & FL_IF);
    CHECK_EQ(rd(STACK0 - 16, 4), SEL_CODE3);
    CHECK_EQ(rd(STACK0 - 20, 4), 0x4002);
    CHECK(c.rflags & FL_IF); /* trap gate */

    /* ... and IRET goes back to CPL 3, popping SS:ESP; DPL-0 data segments become null. */
    static const uint8_t iret[] = {0xcf};
    c.seg[EMU_SEG_DS] = flat(SEL_DATA0, 0x3, 0, false);
    CHECK_EQ(run(&c, iret, 1, &f), EMU_CTL_DONE);
    CHECK_EQ(c.rip, 0x4002);
    CHECK_EQ(c.rsp, USER_STACK);
    CHECK_EQ(c.seg[EMU_SEG_SS].selector, SEL_DATA3);
    CHECK_EQ(c.seg[EMU_SEG_SS].dpl, 3);
    CHECK_EQ(c.seg[EMU_SEG_CS].selector, SEL_CODE3);
    CHECK_EQ(c.seg[EMU_SEG_DS].unusable, 1);
    CHECK(c.nmi_unblocked);
}

static void test_dpl0_gate_from_cpl3_is_gp(void)
{
    struct emu_ctl_cpu c, before;
    struct emu_ctl_fault f;
    for (int lm = 0; lm < 2; lm++) {
        setup(&c, lm, 3);
        gate(lm, 0x21, GATE_INT, 0, 0, true);
        before = c;
        CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_FAULT);
        CHECK_EQ(f.vector, VEC_GP);
        CHECK(f.has_error);
        CHECK_EQ(f.error, 0x21 * 8 + 2);
        CHECK(memcmp(&c, &before, sizeof(c)) == 0);
    }
}

static void test_gate_checks(void)
{
    struct emu_ctl_cpu c;
    struct emu_ctl_fault f;
    setup(&c, false, 0);
    gate(false, 0x21, GATE_INT, 0, 0, false);
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_FAULT);
    CHECK_EQ(f.vector, VEC_NP);
    CHECK_EQ(f.error, 0x21 * 8 + 2);
    c.idt_limit = 0x21 * 8 + 6; /* one byte short */
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_FAULT);
    CHECK_EQ(f.vector, VEC_GP);
    CHECK_EQ(f.error, 0x21 * 8 + 2);
    c.idt_limit = 0x7ff;
    gate(false, 0x21, GATE_TASK, 0, 0, true);
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_UNSUPPORTED);
    /* A gate naming a selector beyond the GDT limit. */
    gate(false, 0x21, GATE_INT, 0, 0, true);
    wr(IDT + 0x21 * 8 + 2, 0x40, 2);
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_FAULT);
    CHECK_EQ(f.vector, VEC_GP);
    CHECK_EQ(f.error, 0x40);
    /* Tables outside guest memory: not performed. */
    c.idt_base = MEM_SIZE - 8;
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_UNSUPPORTED);
}

static void test_long_mode_int_from_cpl3_rsp0_and_ist(void)
{
    struct emu_ctl_cpu c;
    struct emu_ctl_fault f;
    setup(&c, true, 3);
    c.rsp = USER_STACK - 8;
    gate(true, 0x21, GATE_INT, 3, 0, true);
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_DONE);
    CHECK_EQ(c.rsp, STACK0 - 40);
    CHECK_EQ(c.seg[EMU_SEG_SS].selector, 0);
    CHECK_EQ(c.seg[EMU_SEG_SS].dpl, 0);
    CHECK_EQ(rd(STACK0 - 8, 8), SEL_DATA3);
    CHECK_EQ(rd(STACK0 - 16, 8), USER_STACK - 8);
    CHECK_EQ(rd(STACK0 - 32, 8), SEL_CODE3);
    CHECK_EQ(rd(STACK0 - 40, 8), 0x4002);
    CHECK_EQ(c.rflags & FL_IF, 0);

    /* IRETQ to CPL 3 */
    static const uint8_t iretq[] = {0x48, 0xcf};
    CHECK_EQ(run(&c, iretq, sizeof(iretq), &f), EMU_CTL_DONE);
    CHECK_EQ(c.rsp, USER_STACK - 8);
    CHECK_EQ(c.seg[EMU_SEG_SS].selector, SEL_DATA3);
    CHECK_EQ(c.seg[EMU_SEG_CS].selector, SEL_CODE3);
    CHECK(c.rflags & FL_IF);

    /* IST 1 at CPL 0, from a misaligned stack */
    setup(&c, true, 0);
    c.rsp = STACK0 - 0x108;
    gate(true, 0x21, GATE_INT, 0, 1, true);
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_DONE);
    CHECK_EQ(c.rsp, IST1 - 40);
    CHECK_EQ(rd(IST1 - 16, 8), STACK0 - 0x108);
    setup(&c, true, 0);
    c.rsp = STACK0 - 0x108;
    gate(true, 0x21, GATE_INT, 0, 0, true);
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_DONE);
    CHECK_EQ(c.rsp, STACK0 - 0x110 - 40); /* aligned to 16 first */
}

static void test_iret_same_privilege_and_flags(void)
{
    struct emu_ctl_cpu c;
    struct emu_ctl_fault f;
    static const uint8_t iret[] = {0xcf};
    setup(&c, false, 3);
    c.rflags = FL_FIXED; /* IOPL 0 at CPL 3: IF and IOPL stay */
    wr(USER_STACK, 0x4444, 4);
    wr(USER_STACK + 4, SEL_CODE3, 4);
    wr(USER_STACK + 8, 0x3200 | 0x1, 4);
    CHECK_EQ(run(&c, iret, 1, &f), EMU_CTL_DONE);
    CHECK_EQ(c.rip, 0x4444);
    CHECK_EQ(c.rsp, USER_STACK + 12);
    CHECK_EQ(c.rflags, FL_FIXED | 0x1);
    /* A return to CPL 0 from CPL 3: #GP(selector) */
    setup(&c, false, 3);
    wr(USER_STACK + 4, SEL_CODE0, 4);
    CHECK_EQ(run(&c, iret, 1, &f), EMU_CTL_FAULT);
    CHECK_EQ(f.vector, VEC_GP);
    CHECK_EQ(f.error, SEL_CODE0);
}

static void test_real_mode_int_through_ivt(void)
{
    struct emu_ctl_cpu c;
    struct emu_ctl_fault f;
    memset(mem, 0, sizeof(mem));
    memset(&c, 0, sizeof(c));
    c.rip = 0x100;
    c.rsp = 0x800;
    c.rflags = FL_FIXED | FL_IF;
    for (int s = 0; s < 6; s++)
        c.seg[s] = (struct emu_segment){.limit = 0xffff, .type = 3, .present = 1, .s = 1};
    c.seg[EMU_SEG_CS].selector = 0x1000;
    c.seg[EMU_SEG_CS].base = 0x10000;
    c.idt_limit = 0x3ff;
    wr(0x21 * 4, 0x1234, 2);
    wr(0x21 * 4 + 2, 0x2000, 2);
    CHECK_EQ(run(&c, int21, sizeof(int21), &f), EMU_CTL_DONE);
    CHECK_EQ(c.rip, 0x1234);
    CHECK_EQ(c.seg[EMU_SEG_CS].base, 0x20000);
    CHECK_EQ(c.rsp, 0x800 - 6);
    CHECK_EQ(rd(0x7fa, 2), 0x102);
    CHECK_EQ(rd(0x7fc, 2), 0x1000);
    CHECK_EQ(c.rflags & FL_IF, 0);
    static const uint8_t iret[] = {0xcf};
    CHECK_EQ(run(&c, iret, 1, &f), EMU_CTL_DONE);
    CHECK_EQ(c.rip, 0x102);
    CHECK_EQ(c.seg[EMU_SEG_CS].base, 0x10000);
    CHECK(c.rflags & FL_IF);
}

static void test_decode_and_into(void)
{
    struct emu_ctl_cpu c;
    struct emu_ctl_insn d;
    struct emu_ctl_fault f;
    setup(&c, true, 0);
    static const uint8_t rex_iret[] = {0x66, 0x48, 0xcf}, iretd[] = {0xcf}, into[] = {0xce};
    emu_ctl_decode(&c, rex_iret, sizeof(rex_iret), &d);
    CHECK_EQ(d.kind, EMU_CTL_IRET);
    CHECK_EQ(d.size, 8);
    CHECK_EQ(d.len, 3);
    emu_ctl_decode(&c, iretd, 1, &d);
    CHECK_EQ(d.size, 4);
    emu_ctl_decode(&c, int21, 1, &d); /* the vector byte is missing */
    CHECK_EQ(d.kind, EMU_CTL_NONE);
    CHECK_EQ(run(&c, into, 1, &f), EMU_CTL_FAULT);
    CHECK_EQ(f.vector, VEC_UD);
    setup(&c, false, 0);
    CHECK_EQ(run(&c, into, 1, &f), EMU_CTL_DONE); /* OF clear: no interrupt */
    CHECK_EQ(c.rip, 0x4001);
}

int main(void)
{
    test_legacy_int_from_cpl3_uses_tss_stack();
    test_dpl0_gate_from_cpl3_is_gp();
    test_gate_checks();
    test_long_mode_int_from_cpl3_rsp0_and_ist();
    test_iret_same_privilege_and_flags();
    test_real_mode_int_through_ivt();
    test_decode_and_into();
    return check_report();
}
