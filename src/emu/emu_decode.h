/* Pure x86 instruction decoder for the WHP instruction emulator (WinHvEmulation.h): bytes and CPU
 * mode in, a description of prefixes, operation, operand and address sizes, memory operand and
 * immediate out. No callbacks and no state, so unit tests drive it directly. */
#ifndef OPENWHP_EMU_DECODE_H
#define OPENWHP_EMU_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_MAX_INSN_LEN 15

enum emu_mode { EMU_MODE_16, EMU_MODE_32, EMU_MODE_64 };

/* The mode code runs in: 64-bit with EFER.LMA and CS.L, else CS.D decides in protected mode. */
static inline enum emu_mode emu_mode_of(bool protected_mode, bool lma, bool cs_l, bool cs_db)
{
    if (lma && cs_l)
        return EMU_MODE_64;
    return protected_mode && cs_db ? EMU_MODE_32 : EMU_MODE_16;
}

/* The ALU operations come first, in the order of the group-1 ModRM.reg field (ADD = /0). */
enum emu_op {
    EMU_OP_NONE,
    EMU_OP_ADD, EMU_OP_OR, EMU_OP_ADC, EMU_OP_SBB, EMU_OP_AND, EMU_OP_SUB, EMU_OP_XOR, EMU_OP_CMP,
    EMU_OP_TEST,
    EMU_OP_MOV, EMU_OP_MOVZX, EMU_OP_MOVSX, EMU_OP_XCHG,
    EMU_OP_MOVS, EMU_OP_CMPS, EMU_OP_STOS, EMU_OP_LODS, EMU_OP_SCAS,
    EMU_OP_IN, EMU_OP_OUT, EMU_OP_INS, EMU_OP_OUTS,
};

/* Segment numbers as x86 encodes them; WHvX64RegisterEs + seg is the register name. */
enum emu_seg { EMU_SEG_ES, EMU_SEG_CS, EMU_SEG_SS, EMU_SEG_DS, EMU_SEG_FS, EMU_SEG_GS };

enum emu_rep { EMU_REP_NONE, EMU_REP_E /* F3: REP / REPE */, EMU_REP_NE /* F2: REPNE */ };

#define EMU_REG_NONE (-1)
#define EMU_REG_RIP  16

/* Memory operand: seg:(base + index * scale + disp), truncated to the address size. For string
 * instructions only seg is meaningful: the source segment (DS or the override). */
struct emu_mem {
    int8_t base;   /* GPR 0-15, EMU_REG_RIP (disp is relative to the next instruction) or NONE */
    int8_t index;  /* GPR 0-15 or EMU_REG_NONE */
    uint8_t scale; /* 1, 2, 4 or 8 */
    uint8_t seg;   /* enum emu_seg, after any override */
    int64_t disp;  /* sign-extended displacement, or the zero-extended moffs address */
};

struct emu_insn {
    uint8_t len;       /* instruction length in bytes */
    uint8_t op;        /* enum emu_op */
    uint8_t size;      /* operand size in bytes: 1, 2, 4 or 8 */
    uint8_t src_size;  /* MOVZX/MOVSX: size of the memory source; otherwise equal to size */
    uint8_t addr_size; /* 2, 4 or 8 */
    uint8_t rep;       /* enum emu_rep (string instructions only) */
    uint8_t reg;       /* register operand, GPR 0-15 (the accumulator for implicit forms) */
    uint8_t reg_shift; /* 8 for AH/CH/DH/BH, else 0 */
    bool lock;
    bool has_mem;      /* ModRM or moffs memory operand */
    bool mem_dst;      /* the memory operand comes first (it is the destination, if any) */
    bool has_imm;
    uint64_t imm;      /* sign-extended to 64 bits; the port number for IN/OUT imm8 */
    struct emu_mem mem;
};

/*
 * Decodes one instruction from bytes[0..count). Only reads bytes it needs, never more than
 * EMU_MAX_INSN_LEN. Returns 0; -ENODATA when the bytes end before the instruction does (more bytes
 * may help); -EINVAL for an invalid encoding (too long, LOCK where not allowed, #UD); -ENOTSUP for
 * a valid instruction that the emulator does not perform (including register-only ModRM forms).
 */
int emu_decode(const uint8_t *bytes, size_t count, enum emu_mode mode, struct emu_insn *insn);

#endif
