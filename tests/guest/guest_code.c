/* Guest side of the harness: the ucall, the IDT entry stubs and exception dispatch, and the
 * fault-tolerant MSR accessors. Everything in this file runs inside the guest (GUEST_CODE or asm). */
#include "guest.h"

#include "guest_internal.h"

/* Shared by all VPs (guest RAM copy of .bss); written by guest_install_handler and, from the
 * host, by guest_vm_install_handler. */
guest_handler_fn guest_handlers[256];

struct guest_extable_entry {
    int32_t insn;  /* relative to this field */
    int32_t fixup; /* relative to this field */
};

/* Provided by the linker for the section that GUEST_ASM_SAFE fills (guest_rdmsr_safe below
 * guarantees that it exists). */
extern const struct guest_extable_entry __start_guest_extable[] __attribute__((visibility("hidden")));
extern const struct guest_extable_entry __stop_guest_extable[] __attribute__((visibility("hidden")));

GUEST_CODE void guest_ucall(uint64_t type, const char *file, uint64_t line, const char *text,
                            uint64_t nargs, const uint64_t *args)
{
    struct guest_ucall_record rec;

    rec.type = type;
    rec.nargs = nargs < GUEST_UCALL_MAX_ARGS ? nargs : GUEST_UCALL_MAX_ARGS;
    for (uint64_t i = 0; i < GUEST_UCALL_MAX_ARGS; i++) {
        rec.args[i] = i < rec.nargs ? args[i] : 0;
        __asm__ volatile("" ::: "memory"); /* keep the compiler from calling memcpy */
    }
    rec.file = (uint64_t)(uintptr_t)file;
    rec.line = line;
    rec.text = (uint64_t)(uintptr_t)text;
    __asm__ volatile("outl %%eax, %%dx" ::"a"(0), "d"(GUEST_UCALL_PORT), "D"(&rec) : "memory");
}

GUEST_CODE void guest_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

GUEST_CODE void guest_install_handler(uint8_t vector, guest_handler_fn fn)
{
    *(guest_handler_fn volatile *)&guest_handlers[vector] = fn;
}

/* Reached when a VP's entry function returns (its return address points at guest_return_trap). */
GUEST_CODE __attribute__((used, visibility("hidden"))) void guest_entry_returned(void)
{
    GUEST_UCALL0_(UCALL_DONE, (const char *)0);
    guest_halt_forever();
}

GUEST_CODE __attribute__((used, visibility("hidden"))) void guest_idt_dispatch(struct guest_ex_frame *f)
{
    guest_handler_fn fn;

    for (const struct guest_extable_entry *e = __start_guest_extable; e < __stop_guest_extable; e++) {
        uint64_t insn = (uint64_t)(uintptr_t)&e->insn + (uint64_t)(int64_t)e->insn;
        uint64_t fixup = (uint64_t)(uintptr_t)&e->fixup + (uint64_t)(int64_t)e->fixup;
        if (insn == f->rip) {
            f->rip = fixup;
            f->rsi = GUEST_SAFE_FAULTED | f->vector;
            return;
        }
    }

    fn = *(guest_handler_fn volatile *)&guest_handlers[f->vector & 0xFF];
    if (fn) {
        fn(f);
        return;
    }

    GUEST_UCALL_(UCALL_UNHANDLED, (const char *)0, f->vector, f->rip, f->error_code, guest_read_cr2());
    guest_halt_forever();
}

GUEST_CODE uint64_t guest_rdmsr_safe(uint32_t msr, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;
    uint64_t vector = 0;

    __asm__ volatile(GUEST_ASM_SAFE("rdmsr")
                     : "+a"(lo), "+d"(hi), GUEST_ASM_SAFE_VECTOR(vector)
                     : "c"(msr)
                     : "memory");
    *value = ((uint64_t)hi << 32) | lo;
    return vector;
}

GUEST_CODE uint64_t guest_wrmsr_safe(uint32_t msr, uint64_t value)
{
    uint64_t vector = 0;

    __asm__ volatile(GUEST_ASM_SAFE("wrmsr")
                     : GUEST_ASM_SAFE_VECTOR(vector)
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return vector;
}

/* 256 entry stubs, 16 bytes apart: push a zero error code where the CPU pushes none (all vectors
 * but 8, 10-14, 17, 21, 29, 30), push the vector, and join the common path, which saves the
 * general registers in guest_ex_frame order, calls guest_idt_dispatch and returns with iretq.
 * The CPU aligns RSP to 16 before pushing, so the call below is made with RSP 16-aligned. */
__asm__(".pushsection .text\n"
        ".balign 16\n"
        ".globl guest_idt_stubs\n"
        ".hidden guest_idt_stubs\n"
        "guest_idt_stubs:\n"
        ".set guest_vec, 0\n"
        ".rept 256\n"
        ".balign 16\n"
        ".if guest_vec < 32\n"
        ".if ((0x60227D00 >> guest_vec) & 1) == 0\n"
        "pushq $0\n"
        ".endif\n"
        ".else\n"
        "pushq $0\n"
        ".endif\n"
        "pushq $guest_vec\n"
        "jmp guest_idt_common\n"
        ".set guest_vec, guest_vec + 1\n"
        ".endr\n"
        "guest_idt_common:\n"
        "pushq %rax\n"
        "pushq %rcx\n"
        "pushq %rdx\n"
        "pushq %rbx\n"
        "pushq %rbp\n"
        "pushq %rsi\n"
        "pushq %rdi\n"
        "pushq %r8\n"
        "pushq %r9\n"
        "pushq %r10\n"
        "pushq %r11\n"
        "pushq %r12\n"
        "pushq %r13\n"
        "pushq %r14\n"
        "pushq %r15\n"
        "movq %rsp, %rdi\n"
        "cld\n"
        "call guest_idt_dispatch\n"
        "popq %r15\n"
        "popq %r14\n"
        "popq %r13\n"
        "popq %r12\n"
        "popq %r11\n"
        "popq %r10\n"
        "popq %r9\n"
        "popq %r8\n"
        "popq %rdi\n"
        "popq %rsi\n"
        "popq %rbp\n"
        "popq %rbx\n"
        "popq %rdx\n"
        "popq %rcx\n"
        "popq %rax\n"
        "addq $16, %rsp\n"
        "iretq\n"
        "\n"
        /* Return address of every VP entry function. */
        ".globl guest_return_trap\n"
        ".hidden guest_return_trap\n"
        "guest_return_trap:\n"
        "andq $-16, %rsp\n"
        "call guest_entry_returned\n"
        "1: hlt\n"
        "jmp 1b\n"
        ".popsection\n");
