/* Software interrupts and IRET in real guests of each mode: INT n, INT3 and INTO through the IVT
 * (real mode) and through interrupt and trap gates (32-bit protected mode without paging, long
 * mode), the privilege change from CPL 3 through the TSS stack (and IST), IRET to CPL 3, and the
 * #GP of a DPL-0 gate used from CPL 3. KVM's emulator fails on most of these here; the library
 * performs them (src/emu/emu_ctl.c). Handlers store what they see in a results page. */
#include <string.h>

#include "guest.h"

#define CODE_GPA 0x10000
#define GDT_GPA 0x20000
#define TSS_GPA 0x21000
#define IDT_GPA 0x22000
#define RES_GPA 0x23000
#define STACK0_TOP 0x30000 /* the CPL-0 stack the code starts on */
#define TSS_STACK_TOP 0x40000
#define USER_STACK_TOP 0x50000
#define IST_STACK_TOP 0x60000
#define PML4_GPA 0x70000
#define REAL_STACK_TOP 0x8000

#define PORT_STEP 0x80 /* an OUT between steps: the host only skips it */
#define PORT_DONE 0xE1

#define SEL_CODE0 0x08
#define SEL_DATA0 0x10
#define SEL_CODE3 0x1b
#define SEL_DATA3 0x23
#define SEL_TSS 0x28
#define TSS_LIMIT 0x67

#define RES_SLOTS 24

/* Each blob runs at CODE_GPA (real mode: CS = CODE_GPA >> 4, IP = offset). Slot k of the
 * results page is at RES_GPA + 8 * k. */
#define ASM_STR_(x) #x
#define ASM_STR(x) ASM_STR_(x)
__asm__(
    ".pushsection .rodata.emu_ctl, \"a\"\n"
    /* ---- real mode ---- */
    ".code16\n"
    ".globl emu_ctl_rm_start, emu_ctl_rm_end, emu_ctl_rm_h20, emu_ctl_rm_h03, emu_ctl_rm_h04\n"
    "emu_ctl_rm_start:\n"
    "  mov $(" ASM_STR(RES_GPA) " >> 4), %ax\n"
    "  mov %ax, %ds\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x20\n"
    "  movl %esp, 32\n"             /* slot 4: SP after IRET */
    "  pushfl\n"
    "  popl 40\n"                   /* slot 5: FLAGS after IRET (IF back) */
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int3\n"
    "  mov $0x7f, %al\n"
    "  add $1, %al\n"               /* OF = 1 */
    "  into\n"
    "  out %al, $" ASM_STR(PORT_DONE) "\n"
    "emu_ctl_rm_h20:\n"
    "  pushfl\n"
    "  popl 0\n"                    /* slot 0: FLAGS in the handler */
    "  movl %esp, 8\n"              /* slot 1: SP in the handler */
    "  mov %sp, %bp\n"
    "  movw (%bp), %ax\n"
    "  movw %ax, 16\n"              /* slot 2: saved IP */
    "  movw 2(%bp), %ax\n"
    "  movw %ax, 24\n"              /* slot 3: saved CS */
    "  iret\n"
    "emu_ctl_rm_h03:\n"
    "  mov %sp, %bp\n"
    "  movw (%bp), %ax\n"
    "  movw %ax, 48\n"              /* slot 6: saved IP after int3 */
    "  iret\n"
    "emu_ctl_rm_h04:\n"
    "  incw 56\n"                   /* slot 7: INTO handler ran */
    "  iret\n"
    "emu_ctl_rm_end:\n"
    /* ---- 32-bit protected mode, no paging ---- */
    ".code32\n"
    ".globl emu_ctl_pm_start, emu_ctl_pm_end, emu_ctl_pm_ring3, emu_ctl_pm_user, emu_ctl_pm_h20, emu_ctl_pm_h03\n"
    ".globl emu_ctl_pm_h21, emu_ctl_pm_h0d, emu_ctl_pm_h04\n"
    "emu_ctl_pm_start:\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x20\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int3\n"
    "  movl $0x7fffffff, %eax\n"
    "  addl $1, %eax\n"             /* OF = 1 */
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  into\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x24\n"                 /* gate not present: #NP */
    "  out %al, $" ASM_STR(PORT_DONE) "\n"
    "emu_ctl_pm_ring3:\n"
    "  pushl $" ASM_STR(SEL_DATA3) "\n"
    "  pushl $" ASM_STR(USER_STACK_TOP) "\n"
    "  pushl $0x3202\n"             /* IF, IOPL 3 (the user code's OUTs) */
    "  pushl $" ASM_STR(SEL_CODE3) "\n"
    "  pushl $(emu_ctl_pm_user - emu_ctl_pm_start + " ASM_STR(CODE_GPA) ")\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  iret\n"                      /* to CPL 3 */
    "emu_ctl_pm_user:\n"
    "  movl $" ASM_STR(SEL_DATA3) ", %eax\n" /* IRET made the DPL-0 DS null */
    "  movl %eax, %ds\n"
    "  movl %esp, " ASM_STR(RES_GPA) " + 8*4\n"
    "  movl %ss, %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*5\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x21\n"                 /* DPL-3 trap gate: to CPL 0 on the TSS stack */
    "  movl %esp, " ASM_STR(RES_GPA) " + 8*11\n"
    "  movl %cs, %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*12\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x22\n"                 /* DPL-0 gate: #GP */
    "  out %al, $" ASM_STR(PORT_DONE) "\n"
    "emu_ctl_pm_h20:\n"
    "  pushfl\n"
    "  popl " ASM_STR(RES_GPA) " + 8*0\n"
    "  movl %esp, " ASM_STR(RES_GPA) " + 8*1\n"
    "  movl 4(%esp), %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*2\n"
    "  iret\n"
    "emu_ctl_pm_h03:\n"
    "  movl (%esp), %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*3\n"
    "  iret\n"
    "emu_ctl_pm_h21:\n"
    "  movl %ss, %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*6\n"
    "  movl %esp, " ASM_STR(RES_GPA) " + 8*7\n"
    "  movl 12(%esp), %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*8\n"
    "  movl 16(%esp), %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*9\n"
    "  pushfl\n"
    "  popl " ASM_STR(RES_GPA) " + 8*10\n"
    "  iret\n"
    "emu_ctl_pm_h0d:\n"
    "  movl (%esp), %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*13\n"
    "  movl 4(%esp), %eax\n"
    "  movl %eax, " ASM_STR(RES_GPA) " + 8*14\n"
    "  addl $4, %esp\n"             /* the error code */
    "  addl $2, (%esp)\n"           /* past the INT imm8 */
    "  iret\n"
    "emu_ctl_pm_h04:\n"
    "  incl " ASM_STR(RES_GPA) " + 8*15\n"
    "  iret\n"
    "emu_ctl_pm_end:\n"
    /* ---- long mode, 4-level paging ---- */
    ".code64\n"
    ".globl emu_ctl_lm_start, emu_ctl_lm_end, emu_ctl_lm_ring3, emu_ctl_lm_user, emu_ctl_lm_h20, emu_ctl_lm_h03\n"
    ".globl emu_ctl_lm_h23, emu_ctl_lm_h21, emu_ctl_lm_h0d, emu_ctl_lm_h06\n"
    "emu_ctl_lm_start:\n"
    "  sub $8, %rsp\n"              /* not 16-byte aligned */
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x20\n"
    "  movq %rsp, " ASM_STR(RES_GPA) " + 8*4\n"
    "  add $8, %rsp\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int3\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x23\n"                 /* IST 1 */
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x24\n"                 /* gate not present: #NP */
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    ".byte 0xce\n"                  /* INTO: #UD in 64-bit mode */
    "  out %al, $" ASM_STR(PORT_DONE) "\n"
    "emu_ctl_lm_ring3:\n"
    "  pushq $" ASM_STR(SEL_DATA3) "\n"
    "  pushq $" ASM_STR(USER_STACK_TOP) "\n"
    "  pushq $0x3202\n"
    "  pushq $" ASM_STR(SEL_CODE3) "\n"
    "  pushq $(emu_ctl_lm_user - emu_ctl_lm_start + " ASM_STR(CODE_GPA) ")\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  iretq\n"
    "emu_ctl_lm_user:\n"
    "  movq %rsp, " ASM_STR(RES_GPA) " + 8*7\n"
    "  movl %ss, %eax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*8\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x21\n"
    "  movq %rsp, " ASM_STR(RES_GPA) " + 8*14\n"
    "  out %al, $" ASM_STR(PORT_STEP) "\n"
    "  int $0x22\n"                 /* DPL-0 gate: #GP */
    "  out %al, $" ASM_STR(PORT_DONE) "\n"
    "emu_ctl_lm_h20:\n"
    "  pushfq\n"
    "  popq " ASM_STR(RES_GPA) " + 8*0\n"
    "  movq %rsp, " ASM_STR(RES_GPA) " + 8*1\n"
    "  movq 24(%rsp), %rax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*2\n"
    "  movq 8(%rsp), %rax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*3\n"
    "  iretq\n"
    "emu_ctl_lm_h03:\n"
    "  movq (%rsp), %rax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*5\n"
    "  iretq\n"
    "emu_ctl_lm_h23:\n"
    "  movq %rsp, " ASM_STR(RES_GPA) " + 8*6\n"
    "  iretq\n"
    "emu_ctl_lm_h21:\n"
    "  movl %ss, %eax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*9\n"
    "  movq %rsp, " ASM_STR(RES_GPA) " + 8*10\n"
    "  movq 32(%rsp), %rax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*11\n"
    "  movq 24(%rsp), %rax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*12\n"
    "  pushfq\n"
    "  popq " ASM_STR(RES_GPA) " + 8*13\n"
    "  iretq\n"
    "emu_ctl_lm_h0d:\n"
    "  movq (%rsp), %rax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*15\n"
    "  movq 8(%rsp), %rax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*16\n"
    "  addq $8, %rsp\n"
    "  addq $2, (%rsp)\n"
    "  iretq\n"
    "emu_ctl_lm_h06:\n"
    "  movq (%rsp), %rax\n"
    "  movq %rax, " ASM_STR(RES_GPA) " + 8*17\n"
    "  addq $1, (%rsp)\n"
    "  iretq\n"
    "emu_ctl_lm_end:\n"
    ".popsection\n");

extern const uint8_t emu_ctl_rm_start[], emu_ctl_rm_end[], emu_ctl_rm_h20[], emu_ctl_rm_h03[],
    emu_ctl_rm_h04[];
extern const uint8_t emu_ctl_pm_start[], emu_ctl_pm_end[], emu_ctl_pm_ring3[], emu_ctl_pm_user[], emu_ctl_pm_h20[],
    emu_ctl_pm_h03[], emu_ctl_pm_h21[], emu_ctl_pm_h0d[], emu_ctl_pm_h04[];
extern const uint8_t emu_ctl_lm_start[], emu_ctl_lm_end[], emu_ctl_lm_ring3[], emu_ctl_lm_user[], emu_ctl_lm_h20[],
    emu_ctl_lm_h03[], emu_ctl_lm_h23[], emu_ctl_lm_h21[], emu_ctl_lm_h0d[], emu_ctl_lm_h06[];

/* Segment attributes: type | S << 4 | DPL << 5 | P << 7 | L << 13 | D << 14 | G << 15 */
#define ATTR_CODE16 0x9b
#define ATTR_DATA16 0x93
#define ATTR_CODE32 0xc09b
#define ATTR_DATA32 0xc093
#define ATTR_CODE64 0xa09b
#define ATTR_TSS_BUSY 0x8b
#define ATTR_LDT_NONE 0x82

#define GATE_INT 0xe
#define GATE_TRAP 0xf
#define GATE_PRESENT 0x80

#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_NE 0x20ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define RFLAGS_IF 0x200ull
#define RFLAGS_FIXED 0x2ull
#define PTE_PWU 0x7ull
#define PDE_LARGE 0x80ull

enum mode { MODE_REAL, MODE_PROT, MODE_LONG };

static uint64_t blob_offset(const uint8_t *label, const uint8_t *start)
{
    return (uint64_t)(label - start);
}

static struct guest_vm *raw_vm(const uint8_t *start, const uint8_t *end)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    TEST_HR(WHvCreateVirtualProcessor(vm->partition, 0, 0));
    vm->vp_created[0] = true;
    memcpy(guest_vm_gpa2hva(vm, CODE_GPA), start, (size_t)(end - start));
    return vm;
}

static WHV_X64_SEGMENT_REGISTER seg(uint16_t selector, uint64_t base, uint32_t limit, uint16_t attr)
{
    WHV_X64_SEGMENT_REGISTER s;
    memset(&s, 0, sizeof(s));
    s.Selector = selector;
    s.Base = base;
    s.Limit = limit;
    s.Attributes = attr;
    return s;
}

/* The VP's state at the start of a blob: CPL 0, interrupts on. */
static void raw_start(struct guest_vm *vm, enum mode mode, uint64_t entry)
{
    enum { NREGS = 17 };
    static const WHV_REGISTER_NAME names[NREGS] = {
        WHvX64RegisterCr0, WHvX64RegisterCr3,  WHvX64RegisterCr4,  WHvX64RegisterEfer,
        WHvX64RegisterCs,  WHvX64RegisterSs,   WHvX64RegisterDs,   WHvX64RegisterEs,
        WHvX64RegisterFs,  WHvX64RegisterGs,   WHvX64RegisterTr,   WHvX64RegisterLdtr,
        WHvX64RegisterGdtr, WHvX64RegisterIdtr, WHvX64RegisterRip, WHvX64RegisterRsp,
        WHvX64RegisterRflags};
    WHV_REGISTER_VALUE v[NREGS];
    bool real = mode == MODE_REAL;
    memset(v, 0, sizeof(v));
    v[0].Reg64 = CR0_ET | CR0_NE | (real ? 0 : CR0_PE) | (mode == MODE_LONG ? CR0_PG : 0);
    v[1].Reg64 = mode == MODE_LONG ? PML4_GPA : 0;
    v[2].Reg64 = mode == MODE_LONG ? CR4_PAE : 0;
    v[3].Reg64 = mode == MODE_LONG ? EFER_LME | EFER_LMA : 0;
    v[4].Segment = real ? seg(CODE_GPA >> 4, CODE_GPA, 0xffff, ATTR_CODE16)
                        : seg(SEL_CODE0, 0, 0xffffffff, mode == MODE_LONG ? ATTR_CODE64 : ATTR_CODE32);
    for (int i = 5; i <= 9; i++)
        v[i].Segment = real ? seg(0, 0, 0xffff, ATTR_DATA16) : seg(SEL_DATA0, 0, 0xffffffff, ATTR_DATA32);
    v[10].Segment = seg(real ? 0 : SEL_TSS, real ? 0 : TSS_GPA, real ? 0xffff : TSS_LIMIT, ATTR_TSS_BUSY);
    v[11].Segment = seg(0, 0, 0xffff, ATTR_LDT_NONE);
    v[12].Table.Base = real ? 0 : GDT_GPA;
    v[12].Table.Limit = real ? 0xffff : 0x37;
    v[13].Table.Base = real ? 0 : IDT_GPA;
    v[13].Table.Limit = real ? 0x3ff : mode == MODE_LONG ? 256 * 16 - 1 : 256 * 8 - 1;
    v[14].Reg64 = real ? entry : CODE_GPA + entry;
    v[15].Reg64 = real ? REAL_STACK_TOP : STACK0_TOP;
    v[16].Reg64 = RFLAGS_FIXED | RFLAGS_IF;
    TEST_HR(guest_whv_set_regs(vm->partition, 0, names, NREGS, v));
}

/* Runs the blob to its final OUT; any exit but the step OUTs fails the test, except a shutdown
 * at CPL 3 when cpl3_shutdown is given (then *cpl3_shutdown is set: see the CPL-3 tests). */
static void raw_run(struct guest_vm *vm, uint64_t *res, bool *cpl3_shutdown)
{
    for (;;) {
        WHV_RUN_VP_EXIT_CONTEXT exit;
        guest_run_once(vm, 0, &exit);
        if (cpl3_shutdown && exit.ExitReason == WHvRunVpExitReasonUnrecoverableException &&
            exit.VpContext.ExecutionState.Cpl == 3) {
            *cpl3_shutdown = true;
            break;
        }
        TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess,
                    "(exit %s at cs 0x%x rip 0x%llx, parameter 0x%llx)",
                    guest_exit_reason_name(exit.ExitReason), exit.VpContext.Cs.Selector,
                    (unsigned long long)exit.VpContext.Rip,
                    (unsigned long long)exit.UnsupportedFeature.FeatureParameter);
        if (exit.IoPortAccess.PortNumber == PORT_DONE)
            break;
        TEST_ASSERT_EQ(exit.IoPortAccess.PortNumber, PORT_STEP);
        guest_skip_instruction(vm, 0, &exit);
    }
    memcpy(res, guest_vm_gpa2hva(vm, RES_GPA), RES_SLOTS * sizeof(*res));
}

#define CPL3_SHUTDOWN_SKIP                                                                         \
    "this host (nested KVM, kvm_pvm) shuts the guest down on INT n from CPL 3 before the library " \
    "sees an exit"

/* ---- real mode ---- */

static void test_real_mode_int_int3_into_through_ivt(void)
{
    struct guest_vm *vm = raw_vm(emu_ctl_rm_start, emu_ctl_rm_end);
    uint16_t *ivt = guest_vm_gpa2hva(vm, 0);
    const uint8_t *handlers[] = {emu_ctl_rm_h03, emu_ctl_rm_h04};
    uint64_t res[RES_SLOTS];

    ivt[0x20 * 2] = (uint16_t)blob_offset(emu_ctl_rm_h20, emu_ctl_rm_start);
    ivt[0x20 * 2 + 1] = CODE_GPA >> 4;
    for (int i = 0; i < 2; i++) {
        ivt[(3 + i) * 2] = (uint16_t)blob_offset(handlers[i], emu_ctl_rm_start);
        ivt[(3 + i) * 2 + 1] = CODE_GPA >> 4;
    }
    raw_start(vm, MODE_REAL, 0);
    raw_run(vm, res, NULL);
    TEST_ASSERT_EQ(res[0] & RFLAGS_IF, 0);                  /* INT clears IF */
    TEST_ASSERT_EQ(res[1] & 0xffff, REAL_STACK_TOP - 6);    /* FLAGS, CS, IP */
    TEST_ASSERT_EQ(res[3], CODE_GPA >> 4);
    TEST_ASSERT_EQ(res[4] & 0xffff, REAL_STACK_TOP);        /* IRET popped them */
    TEST_ASSERT(res[5] & RFLAGS_IF, "(flags after IRET 0x%llx)", (unsigned long long)res[5]);
    TEST_ASSERT(res[6] > res[2], "(int3 return IP 0x%llx, int 0x%llx)",
                (unsigned long long)res[6], (unsigned long long)res[2]);
    TEST_ASSERT_EQ(res[7], 1);                              /* INTO with OF set */
    guest_vm_destroy(vm);
}

/* ---- protected mode ---- */

static uint64_t desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
           ((uint64_t)(base >> 24) << 56);
}

/* access = P | DPL | S | type; flags = G | D/B | L */
#define ACC_CODE(dpl) (0x9a | (dpl) << 5)
#define ACC_DATA(dpl) (0x92 | (dpl) << 5)
#define ACC_TSS_BUSY 0x8b
#define FLAGS_32 0xc
#define FLAGS_64 0xa

static void set_gdt(struct guest_vm *vm, uint8_t code_flags)
{
    uint64_t *gdt = guest_vm_gpa2hva(vm, GDT_GPA);
    gdt[SEL_CODE0 / 8] = desc(0, 0xfffff, ACC_CODE(0), code_flags);
    gdt[SEL_DATA0 / 8] = desc(0, 0xfffff, ACC_DATA(0), FLAGS_32);
    gdt[SEL_CODE3 / 8] = desc(0, 0xfffff, ACC_CODE(3), code_flags);
    gdt[SEL_DATA3 / 8] = desc(0, 0xfffff, ACC_DATA(3), FLAGS_32);
    gdt[SEL_TSS / 8] = desc(TSS_GPA, TSS_LIMIT, ACC_TSS_BUSY, 0);
    gdt[SEL_TSS / 8 + 1] = 0; /* the upper half of a 64-bit TSS descriptor */
}

static void set_gate32(struct guest_vm *vm, uint8_t vector, const uint8_t *label, uint8_t type, unsigned dpl)
{
    uint64_t *idt = guest_vm_gpa2hva(vm, IDT_GPA);
    uint32_t off = CODE_GPA + (uint32_t)blob_offset(label, emu_ctl_pm_start);
    idt[vector] = (off & 0xffffull) | ((uint64_t)SEL_CODE0 << 16) |
                  ((uint64_t)(GATE_PRESENT | dpl << 5 | type) << 40) | ((uint64_t)(off >> 16) << 48);
}

/* Clears P in the gate whose first 8 bytes are IDT quadword q. */
static void set_gate_absent(struct guest_vm *vm, unsigned q)
{
    uint64_t *idt = guest_vm_gpa2hva(vm, IDT_GPA);
    idt[q] &= ~((uint64_t)GATE_PRESENT << 40);
}

static struct guest_vm *pm_vm(void)
{
    struct guest_vm *vm = raw_vm(emu_ctl_pm_start, emu_ctl_pm_end);
    uint8_t *tss = guest_vm_gpa2hva(vm, TSS_GPA);
    uint32_t esp0 = TSS_STACK_TOP;
    uint16_t ss0 = SEL_DATA0;

    set_gdt(vm, FLAGS_32);
    memcpy(tss + 4, &esp0, sizeof(esp0));
    memcpy(tss + 8, &ss0, sizeof(ss0));
    set_gate32(vm, 0x20, emu_ctl_pm_h20, GATE_INT, 0);
    set_gate32(vm, 0x03, emu_ctl_pm_h03, GATE_INT, 3);
    set_gate32(vm, 0x04, emu_ctl_pm_h04, GATE_TRAP, 3);
    set_gate32(vm, 0x21, emu_ctl_pm_h21, GATE_TRAP, 3);
    set_gate32(vm, 0x22, emu_ctl_pm_h20, GATE_INT, 0);
    set_gate32(vm, 0x0b, emu_ctl_pm_h0d, GATE_INT, 0);
    set_gate32(vm, 0x0d, emu_ctl_pm_h0d, GATE_INT, 0);
    set_gate32(vm, 0x24, emu_ctl_pm_h20, GATE_INT, 0);
    set_gate_absent(vm, 0x24);
    return vm;
}

static void test_protected_mode_int_int3_into_and_np(void)
{
    struct guest_vm *vm = pm_vm();
    uint64_t res[RES_SLOTS];

    raw_start(vm, MODE_PROT, 0);
    raw_run(vm, res, NULL);
    TEST_ASSERT_EQ(res[0] & RFLAGS_IF, 0);                 /* interrupt gate */
    TEST_ASSERT_EQ(res[1], STACK0_TOP - 12);               /* EFLAGS, CS, EIP */
    TEST_ASSERT_EQ(res[2], SEL_CODE0);
    TEST_ASSERT(res[3] > CODE_GPA, "(int3 return 0x%llx)", (unsigned long long)res[3]);
    TEST_ASSERT_EQ(res[15], 1);                            /* INTO with OF set */
    TEST_ASSERT_EQ(res[13], 0x24 * 8 + 2);                 /* #NP(IDT entry 0x24) */
    TEST_ASSERT(res[14] > res[3], "(#NP at 0x%llx)", (unsigned long long)res[14]);
    guest_vm_destroy(vm);
}

static void test_protected_mode_cpl3_tss_stack_and_gp(void)
{
    struct guest_vm *vm = pm_vm();
    uint64_t res[RES_SLOTS];
    bool shutdown = false;

    raw_start(vm, MODE_PROT, blob_offset(emu_ctl_pm_ring3, emu_ctl_pm_start));
    raw_run(vm, res, &shutdown);
    TEST_ASSERT_EQ(res[4], USER_STACK_TOP);                /* IRET to CPL 3 loaded SS:ESP */
    TEST_ASSERT_EQ(res[5], SEL_DATA3);
    if (shutdown) {
        guest_vm_destroy(vm);
        guest_test_skip(CPL3_SHUTDOWN_SKIP);
    }
    TEST_ASSERT_EQ(res[6], SEL_DATA0);                     /* INT from CPL 3: SS0:ESP0 */
    TEST_ASSERT_EQ(res[7], TSS_STACK_TOP - 20);            /* SS, ESP, EFLAGS, CS, EIP */
    TEST_ASSERT_EQ(res[8], USER_STACK_TOP);
    TEST_ASSERT_EQ(res[9], SEL_DATA3);
    TEST_ASSERT(res[10] & RFLAGS_IF, "(trap gate cleared IF: 0x%llx)", (unsigned long long)res[10]);
    TEST_ASSERT_EQ(res[11], USER_STACK_TOP);               /* IRET back to CPL 3 */
    TEST_ASSERT_EQ(res[12], SEL_CODE3);
    TEST_ASSERT_EQ(res[13], 0x22 * 8 + 2);                 /* #GP(IDT entry 0x22) */
    guest_vm_destroy(vm);
}

/* ---- long mode ---- */

static void set_gate64(struct guest_vm *vm, uint8_t vector, const uint8_t *label, uint8_t type,
                       unsigned dpl, unsigned ist)
{
    uint64_t *idt = guest_vm_gpa2hva(vm, IDT_GPA);
    uint64_t off = CODE_GPA + blob_offset(label, emu_ctl_lm_start);
    idt[vector * 2] = (off & 0xffffull) | ((uint64_t)SEL_CODE0 << 16) | ((uint64_t)ist << 32) |
                      ((uint64_t)(GATE_PRESENT | dpl << 5 | type) << 40) |
                      (((off >> 16) & 0xffffull) << 48);
    idt[vector * 2 + 1] = off >> 32;
}

/* 4-level paging: the first 2 MiB identity-mapped, user-accessible. */
static void set_identity_paging(struct guest_vm *vm)
{
    uint64_t *pml4 = guest_vm_gpa2hva(vm, PML4_GPA);
    uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024; /* the next two pages */
    pml4[0] = (PML4_GPA + 0x1000) | PTE_PWU;
    pdpt[0] = (PML4_GPA + 0x2000) | PTE_PWU;
    pd[0] = PTE_PWU | PDE_LARGE;
}

static struct guest_vm *lm_vm(void)
{
    struct guest_vm *vm = raw_vm(emu_ctl_lm_start, emu_ctl_lm_end);
    uint8_t *tss = guest_vm_gpa2hva(vm, TSS_GPA);
    uint64_t rsp0 = TSS_STACK_TOP, ist1 = IST_STACK_TOP;

    set_gdt(vm, FLAGS_64);
    set_identity_paging(vm);
    memcpy(tss + 4, &rsp0, sizeof(rsp0));
    memcpy(tss + 36, &ist1, sizeof(ist1));
    set_gate64(vm, 0x20, emu_ctl_lm_h20, GATE_INT, 0, 0);
    set_gate64(vm, 0x03, emu_ctl_lm_h03, GATE_INT, 3, 0);
    set_gate64(vm, 0x23, emu_ctl_lm_h23, GATE_INT, 0, 1);
    set_gate64(vm, 0x21, emu_ctl_lm_h21, GATE_TRAP, 3, 0);
    set_gate64(vm, 0x22, emu_ctl_lm_h20, GATE_INT, 0, 0);
    set_gate64(vm, 0x0b, emu_ctl_lm_h0d, GATE_INT, 0, 0);
    set_gate64(vm, 0x0d, emu_ctl_lm_h0d, GATE_INT, 0, 0);
    set_gate64(vm, 0x06, emu_ctl_lm_h06, GATE_INT, 0, 0);
    set_gate64(vm, 0x24, emu_ctl_lm_h20, GATE_INT, 0, 0);
    set_gate_absent(vm, 0x24 * 2);
    return vm;
}

static void test_long_mode_int_alignment_ist_and_np(void)
{
    struct guest_vm *vm = lm_vm();
    uint64_t res[RES_SLOTS];

    raw_start(vm, MODE_LONG, 0);
    raw_run(vm, res, NULL);
    TEST_ASSERT_EQ(res[0] & RFLAGS_IF, 0);
    TEST_ASSERT_EQ(res[1], STACK0_TOP - 16 - 40);          /* aligned down, then 5 slots */
    TEST_ASSERT_EQ(res[2], STACK0_TOP - 8);                /* the RSP it interrupted */
    TEST_ASSERT_EQ(res[3], SEL_CODE0);
    TEST_ASSERT_EQ(res[4], STACK0_TOP - 8);                /* IRETQ restored it */
    TEST_ASSERT(res[5] > CODE_GPA, "(int3 return 0x%llx)", (unsigned long long)res[5]);
    TEST_ASSERT_EQ(res[6], IST_STACK_TOP - 40);            /* IST 1 */
    TEST_ASSERT_EQ(res[15], 0x24 * 8 + 2);                 /* #NP(IDT entry 0x24) */
    TEST_ASSERT(res[16] > res[5], "(#NP at 0x%llx)", (unsigned long long)res[16]);
    TEST_ASSERT(res[17] > res[16], "(#UD at 0x%llx)", (unsigned long long)res[17]);
    guest_vm_destroy(vm);
}

static void test_long_mode_cpl3_rsp0_and_gp(void)
{
    struct guest_vm *vm = lm_vm();
    uint64_t res[RES_SLOTS];
    bool shutdown = false;

    raw_start(vm, MODE_LONG, blob_offset(emu_ctl_lm_ring3, emu_ctl_lm_start));
    raw_run(vm, res, &shutdown);
    TEST_ASSERT_EQ(res[7], USER_STACK_TOP);                /* IRETQ to CPL 3 */
    if (res[8] != SEL_DATA3) {
        guest_vm_destroy(vm);
        guest_test_skip("this host (nested KVM, kvm_pvm) performs IRETQ to CPL 3 itself (no "
                        "emulation failure) and CPL-3 code then sees SS 0x%llx; INT n from CPL 3 "
                        "then %s", (unsigned long long)res[8],
                        shutdown ? "shut the guest down" : "returned");
    }
    TEST_ASSERT_EQ(res[9] & ~3ull, 0);                     /* null SS at CPL 0 */
    TEST_ASSERT_EQ(res[10], TSS_STACK_TOP - 40);           /* RSP0 */
    TEST_ASSERT_EQ(res[11], SEL_DATA3);
    TEST_ASSERT_EQ(res[12], USER_STACK_TOP);
    TEST_ASSERT(res[13] & RFLAGS_IF, "(trap gate cleared IF: 0x%llx)", (unsigned long long)res[13]);
    TEST_ASSERT_EQ(res[14], USER_STACK_TOP);
    TEST_ASSERT_EQ(res[15], 0x22 * 8 + 2);                 /* #GP(IDT entry 0x22) */
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_real_mode_int_int3_into_through_ivt),
        GUEST_TEST(test_protected_mode_int_int3_into_and_np),
        GUEST_TEST(test_protected_mode_cpl3_tss_stack_and_gp),
        GUEST_TEST(test_long_mode_int_alignment_ist_and_np),
        GUEST_TEST(test_long_mode_cpl3_rsp0_and_gp),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
