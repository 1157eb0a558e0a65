/* Control transfers through the IDT, performed in software: INT n, INT3, INTO and IRET in real,
 * protected and long mode, with the gate, privilege and stack rules of the architecture. Pure:
 * the register state is plain data and guest memory is reached through two callbacks, so unit
 * tests drive it with a fake CPU; src/quirk wires it to a VP. */
#ifndef OPENWHP_EMU_CTL_H
#define OPENWHP_EMU_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A segment register with its hidden part (the fields of KVM's struct kvm_segment). */
struct emu_segment {
    uint64_t base;
    uint32_t limit; /* in bytes, granularity applied */
    uint16_t selector;
    uint8_t type, present, dpl, db, s, l, g, avl, unusable;
};

/* The state the instructions read and change. seg[] is indexed by enum emu_seg (emu_decode.h);
 * the CPL is SS.DPL, as KVM keeps it. */
struct emu_ctl_cpu {
    uint64_t rip, rsp, rflags, cr0, cr4, efer;
    struct emu_segment seg[6];
    struct emu_segment tr;
    uint64_t gdt_base, idt_base;
    uint16_t gdt_limit, idt_limit;
    bool nmi_unblocked; /* out: an IRET ended NMI blocking */
};

/* Guest memory at a linear address, as an implicit supervisor access (descriptor tables, TSS,
 * stacks): 0, or -EFAULT when any byte cannot be read or written. */
struct emu_ctl_mem {
    void *ctx;
    int (*read)(void *ctx, uint64_t linear, void *dst, size_t len);
    int (*write)(void *ctx, uint64_t linear, const void *src, size_t len);
};

enum emu_ctl_kind { EMU_CTL_NONE, EMU_CTL_INT, EMU_CTL_INT3, EMU_CTL_INTO, EMU_CTL_IRET };

struct emu_ctl_insn {
    uint8_t kind;   /* enum emu_ctl_kind */
    uint8_t len;    /* with prefixes */
    uint8_t vector; /* INT n, INT3, INTO */
    uint8_t size;   /* IRET: operand size in bytes (2, 4 or 8) */
};

enum emu_ctl_result {
    EMU_CTL_UNSUPPORTED, /* not one of these instructions, or a case this module does not do
                          * (task gates and task switches, virtual-8086 mode, LDT selectors,
                          * guest memory that cannot be reached): nothing changed */
    EMU_CTL_DONE,        /* performed: *cpu holds the new state */
    EMU_CTL_FAULT,       /* the CPU raises *fault at the instruction instead: nothing changed */
};

struct emu_ctl_fault {
    uint8_t vector;
    bool has_error;
    uint32_t error;
};

/* Recognises INT n, INT3, INTO and IRET (with prefixes) at bytes[0..count) in the mode of cpu:
 * kind EMU_CTL_NONE for anything else. */
void emu_ctl_decode(const struct emu_ctl_cpu *cpu, const uint8_t *bytes, size_t count,
                    struct emu_ctl_insn *insn);
/* Performs the instruction at cpu->rip, whose bytes are bytes[0..count). */
enum emu_ctl_result emu_ctl_execute(struct emu_ctl_cpu *cpu, const uint8_t *bytes, size_t count,
                                    const struct emu_ctl_mem *mem, struct emu_ctl_fault *fault);

#endif
