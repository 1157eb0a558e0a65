/* Table-driven decoder for the instructions the WHP emulator performs: MMIO moves, ALU with a
 * memory operand, string instructions and port I/O. One table row per opcode says which operands
 * follow; everything not in the tables is refused (-ENOTSUP). */
#include "emu/emu_decode.h"

#include <errno.h>
#include <string.h>

enum {
    F_M = 1 << 0,       /* ModRM follows; its r/m must name memory */
    F_B = 1 << 1,       /* byte operation */
    F_R = 1 << 2,       /* the register operand comes first (reg <- mem) */
    F_I8 = 1 << 3,      /* imm8 */
    F_IZ = 1 << 4,      /* imm16 or imm32 by operand size */
    F_MOFFS = 1 << 5,   /* absolute address of address size (A0-A3) */
    F_STR = 1 << 6,     /* string instruction */
    F_W32 = 1 << 7,     /* operand size 2 or 4: REX.W is ignored (port I/O) */
    F_GRP1 = 1 << 8,    /* operation = ADD + ModRM.reg */
    F_GRP3 = 1 << 9,    /* F6/F7: only TEST (/0 and its alias /1) */
    F_GRP11 = 1 << 10,  /* C6/C7: only MOV (/0) */
    F_NO64 = 1 << 11,   /* #UD in 64-bit mode */
    F_ONLY64 = 1 << 12, /* another instruction outside 64-bit mode (63 is ARPL there) */
    F_SRC8 = 1 << 13,   /* MOVZX/MOVSX source sizes */
    F_SRC16 = 1 << 14,
    F_SRC32 = 1 << 15,
};

struct opdesc {
    uint8_t op;
    uint16_t f;
};

#define ALU4(opc, op)                                                                              \
    [opc] = { op, F_M | F_B }, [(opc) + 1] = { op, F_M }, [(opc) + 2] = { op, F_M | F_B | F_R },  \
    [(opc) + 3] = { op, F_M | F_R }

static const struct opdesc onebyte[256] = {
    ALU4(0x00, EMU_OP_ADD), ALU4(0x08, EMU_OP_OR),  ALU4(0x10, EMU_OP_ADC), ALU4(0x18, EMU_OP_SBB),
    ALU4(0x20, EMU_OP_AND), ALU4(0x28, EMU_OP_SUB), ALU4(0x30, EMU_OP_XOR), ALU4(0x38, EMU_OP_CMP),
    [0x63] = { EMU_OP_MOVSX, F_M | F_R | F_SRC32 | F_ONLY64 },
    [0x6C] = { EMU_OP_INS, F_STR | F_B },         [0x6D] = { EMU_OP_INS, F_STR | F_W32 },
    [0x6E] = { EMU_OP_OUTS, F_STR | F_B },        [0x6F] = { EMU_OP_OUTS, F_STR | F_W32 },
    [0x80] = { EMU_OP_ADD, F_M | F_B | F_I8 | F_GRP1 },
    [0x81] = { EMU_OP_ADD, F_M | F_IZ | F_GRP1 },
    [0x82] = { EMU_OP_ADD, F_M | F_B | F_I8 | F_GRP1 | F_NO64 },
    [0x83] = { EMU_OP_ADD, F_M | F_I8 | F_GRP1 },
    [0x84] = { EMU_OP_TEST, F_M | F_B },          [0x85] = { EMU_OP_TEST, F_M },
    [0x86] = { EMU_OP_XCHG, F_M | F_B },          [0x87] = { EMU_OP_XCHG, F_M },
    [0x88] = { EMU_OP_MOV, F_M | F_B },           [0x89] = { EMU_OP_MOV, F_M },
    [0x8A] = { EMU_OP_MOV, F_M | F_B | F_R },     [0x8B] = { EMU_OP_MOV, F_M | F_R },
    [0xA0] = { EMU_OP_MOV, F_MOFFS | F_B | F_R }, [0xA1] = { EMU_OP_MOV, F_MOFFS | F_R },
    [0xA2] = { EMU_OP_MOV, F_MOFFS | F_B },       [0xA3] = { EMU_OP_MOV, F_MOFFS },
    [0xA4] = { EMU_OP_MOVS, F_STR | F_B },        [0xA5] = { EMU_OP_MOVS, F_STR },
    [0xA6] = { EMU_OP_CMPS, F_STR | F_B },        [0xA7] = { EMU_OP_CMPS, F_STR },
    [0xAA] = { EMU_OP_STOS, F_STR | F_B },        [0xAB] = { EMU_OP_STOS, F_STR },
    [0xAC] = { EMU_OP_LODS, F_STR | F_B },        [0xAD] = { EMU_OP_LODS, F_STR },
    [0xAE] = { EMU_OP_SCAS, F_STR | F_B },        [0xAF] = { EMU_OP_SCAS, F_STR },
    [0xC6] = { EMU_OP_MOV, F_M | F_B | F_I8 | F_GRP11 },
    [0xC7] = { EMU_OP_MOV, F_M | F_IZ | F_GRP11 },
    [0xE4] = { EMU_OP_IN, F_B | F_I8 },           [0xE5] = { EMU_OP_IN, F_W32 | F_I8 },
    [0xE6] = { EMU_OP_OUT, F_B | F_I8 },          [0xE7] = { EMU_OP_OUT, F_W32 | F_I8 },
    [0xEC] = { EMU_OP_IN, F_B },                  [0xED] = { EMU_OP_IN, F_W32 },
    [0xEE] = { EMU_OP_OUT, F_B },                 [0xEF] = { EMU_OP_OUT, F_W32 },
    [0xF6] = { EMU_OP_TEST, F_M | F_B | F_I8 | F_GRP3 },
    [0xF7] = { EMU_OP_TEST, F_M | F_IZ | F_GRP3 },
};

static const struct opdesc twobyte_b6[2] = { /* 0F B6, B7 */
    { EMU_OP_MOVZX, F_M | F_R | F_SRC8 }, { EMU_OP_MOVZX, F_M | F_R | F_SRC16 },
};
static const struct opdesc twobyte_be[2] = { /* 0F BE, BF */
    { EMU_OP_MOVSX, F_M | F_R | F_SRC8 }, { EMU_OP_MOVSX, F_M | F_R | F_SRC16 },
};

/* Reading past the given bytes or past the architectural limit sets err and yields zeros. */
struct cursor {
    const uint8_t *p;
    size_t n, pos;
    int err;
};

static uint8_t next(struct cursor *c)
{
    if (c->err)
        return 0;
    if (c->pos >= EMU_MAX_INSN_LEN) {
        c->err = -EINVAL;
        return 0;
    }
    if (c->pos >= c->n) {
        c->err = -ENODATA;
        return 0;
    }
    return c->p[c->pos++];
}

static uint64_t next_le(struct cursor *c, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)next(c) << (8 * i);
    return v;
}

/* 16-bit ModRM forms: base and index for r/m 0-7 (BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX). */
static const int8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
#define NO EMU_REG_NONE
static const int8_t index16[8] = { 6, 7, 6, 7, NO, NO, NO, NO };
#undef NO

static void decode_mem16(struct cursor *c, unsigned mod, unsigned rm, struct emu_mem *m)
{
    m->base = base16[rm];
    m->index = index16[rm];
    if (mod == 0 && rm == 6) {
        m->base = EMU_REG_NONE;
        m->disp = (int16_t)next_le(c, 2);
    } else if (mod == 1) {
        m->disp = (int8_t)next(c);
    } else if (mod == 2) {
        m->disp = (int16_t)next_le(c, 2);
    }
    m->seg = m->base == 5 ? EMU_SEG_SS : EMU_SEG_DS;
}

static void decode_mem32(struct cursor *c, unsigned mod, unsigned rm, unsigned rex, bool mode64,
                         struct emu_mem *m)
{
    m->base = (int8_t)(rm | (rex & 1) << 3);
    if (rm == 4) {
        uint8_t sib = next(c);
        unsigned index = ((sib >> 3) & 7) | (rex & 2) << 2;
        m->scale = (uint8_t)(1u << (sib >> 6));
        m->index = index == 4 ? EMU_REG_NONE : (int8_t)index;
        m->base = (int8_t)((sib & 7) | (rex & 1) << 3);
        if ((sib & 7) == 5 && mod == 0) {
            m->base = EMU_REG_NONE;
            m->disp = (int32_t)next_le(c, 4);
        }
    } else if (rm == 5 && mod == 0) {
        m->base = mode64 ? EMU_REG_RIP : EMU_REG_NONE;
        m->disp = (int32_t)next_le(c, 4);
    }
    if (mod == 1)
        m->disp = (int8_t)next(c);
    else if (mod == 2)
        m->disp = (int32_t)next_le(c, 4);
    m->seg = (m->base == 4 || m->base == 5) ? EMU_SEG_SS : EMU_SEG_DS;
}

static int decode(struct cursor *c, enum emu_mode mode, struct emu_insn *in)
{
    bool mode64 = mode == EMU_MODE_64, opsize_pfx = false, addrsize_pfx = false;
    int seg_override = -1;
    unsigned rex = 0;
    uint8_t b;

    for (;;) { /* legacy prefixes, then REX, which counts only right before the opcode */
        b = next(c);
        if (b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E)
            seg_override = (b >> 3) & 3;
        else if (b == 0x64 || b == 0x65)
            seg_override = b - 0x60;
        else if (b == 0x66)
            opsize_pfx = true;
        else if (b == 0x67)
            addrsize_pfx = true;
        else if (b == 0xF0)
            in->lock = true;
        else if (b == 0xF2 || b == 0xF3)
            in->rep = b == 0xF3 ? EMU_REP_E : EMU_REP_NE;
        else if (mode64 && (b & 0xF0) == 0x40) {
            rex = b;
            continue;
        } else
            break;
        rex = 0;
    }

    const struct opdesc *d = &onebyte[b];
    if (b == 0x0F) {
        b = next(c);
        if (b >= 0xB6 && b <= 0xB7)
            d = &twobyte_b6[b - 0xB6];
        else if (b >= 0xBE && b <= 0xBF)
            d = &twobyte_be[b - 0xBE];
        else
            return -ENOTSUP;
    }
    if (d->op == EMU_OP_NONE || ((d->f & F_ONLY64) && !mode64))
        return -ENOTSUP;
    if ((d->f & F_NO64) && mode64)
        return -EINVAL;

    bool rex_w = rex & 8;
    unsigned opsize = (mode == EMU_MODE_16) != opsize_pfx ? 2 : 4;
    if (d->f & F_B)
        in->size = 1;
    else if (rex_w && !(d->f & F_W32))
        in->size = 8;
    else
        in->size = (uint8_t)opsize;
    if (mode64)
        in->addr_size = addrsize_pfx ? 4 : 8;
    else
        in->addr_size = (mode == EMU_MODE_16) != addrsize_pfx ? 2 : 4;
    in->op = d->op;
    in->mem.scale = 1;
    in->mem.base = in->mem.index = EMU_REG_NONE;
    in->mem.seg = EMU_SEG_DS;

    if (d->f & F_M) {
        uint8_t modrm = next(c);
        unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
        if (c->err)
            return c->err;
        if (mod == 3)
            return -ENOTSUP; /* register operand: no memory access to emulate */
        if (in->addr_size == 2)
            decode_mem16(c, mod, rm, &in->mem);
        else
            decode_mem32(c, mod, rm, rex, mode64, &in->mem);
        in->has_mem = true;
        if (d->f & F_GRP1)
            in->op = (uint8_t)(EMU_OP_ADD + reg);
        else if ((d->f & F_GRP3) && reg > 1)
            return -ENOTSUP; /* NOT, NEG, MUL, IMUL, DIV, IDIV */
        else if ((d->f & F_GRP11) && reg != 0)
            return -ENOTSUP;
        if (!(d->f & (F_GRP1 | F_GRP3 | F_GRP11))) {
            reg |= (rex & 4) << 1;
            if (in->size == 1 && !rex && reg >= 4) { /* AH, CH, DH, BH */
                reg -= 4;
                in->reg_shift = 8;
            }
            in->reg = (uint8_t)reg;
        }
    } else if (d->f & F_MOFFS) {
        in->has_mem = true;
        in->mem.disp = (int64_t)next_le(c, in->addr_size);
    }
    in->mem_dst = in->has_mem && !(d->f & F_R);
    if (seg_override >= 0)
        in->mem.seg = (uint8_t)seg_override;

    if (d->f & F_I8) {
        in->has_imm = true;
        in->imm = (uint64_t)(int64_t)(int8_t)next(c);
    } else if (d->f & F_IZ) {
        in->has_imm = true;
        in->imm = in->size == 2 ? (uint64_t)(int64_t)(int16_t)next_le(c, 2)
                                : (uint64_t)(int64_t)(int32_t)next_le(c, 4);
    }
    if (in->op == EMU_OP_IN || in->op == EMU_OP_OUT)
        in->imm &= 0xFF;

    in->src_size = in->size;
    if (d->f & F_SRC8)
        in->src_size = 1;
    else if (d->f & F_SRC16)
        in->src_size = 2;
    else if ((d->f & F_SRC32) && in->size == 8)
        in->src_size = 4;
    if (!(d->f & F_STR))
        in->rep = EMU_REP_NONE; /* F2/F3 on other instructions are ignored */

    /* LOCK is legal only on read-modify-write of memory: ALU except CMP, and XCHG. */
    bool lockable = in->op == EMU_OP_XCHG ||
                    (in->mem_dst && in->op >= EMU_OP_ADD && in->op < EMU_OP_CMP);
    if (in->lock && !lockable)
        return -EINVAL;
    return 0;
}

int emu_decode(const uint8_t *bytes, size_t count, enum emu_mode mode, struct emu_insn *insn)
{
    struct cursor c = { .p = bytes, .n = count };

    memset(insn, 0, sizeof(*insn));
    int r = decode(&c, mode, insn);
    if (c.err) /* running out of bytes explains any other verdict */
        return c.err;
    if (r)
        return r;
    insn->len = (uint8_t)c.pos;
    return 0;
}
