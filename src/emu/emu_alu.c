/* Pure x86 integer ALU for the WHP instruction emulator. Carries and borrows come from the
 * standard bitwise identities, so one code path serves every operand size. */
#include "emu/emu_alu.h"

static int parity_even(uint64_t v)
{
    v &= 0xFF;
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return !(v & 1);
}

uint64_t emu_alu(enum emu_op op, uint64_t dst, uint64_t src, unsigned size, uint64_t *rflags)
{
    uint64_t mask = emu_size_mask(size), sign = 1ull << (8 * size - 1);
    uint64_t d = dst & mask, s = src & mask, r, carry, flags = 0;
    uint64_t cin = (op == EMU_OP_ADC || op == EMU_OP_SBB) ? (*rflags & EMU_RFLAGS_CF) : 0;

    switch (op) {
    case EMU_OP_ADD:
    case EMU_OP_ADC:
        r = d + s + cin;
        carry = (d & s) | ((d ^ s) & ~r); /* carry out of each bit position */
        if (carry & sign)
            flags |= EMU_RFLAGS_CF;
        if ((d ^ r) & (s ^ r) & sign)
            flags |= EMU_RFLAGS_OF;
        flags |= (d ^ s ^ r) & EMU_RFLAGS_AF;
        break;
    case EMU_OP_SUB:
    case EMU_OP_SBB:
    case EMU_OP_CMP:
        r = d - s - cin;
        carry = (~d & s) | (~(d ^ s) & r); /* borrow out of each bit position */
        if (carry & sign)
            flags |= EMU_RFLAGS_CF;
        if ((d ^ s) & (d ^ r) & sign)
            flags |= EMU_RFLAGS_OF;
        flags |= (d ^ s ^ r) & EMU_RFLAGS_AF;
        break;
    case EMU_OP_OR:
        r = d | s;
        break;
    case EMU_OP_XOR:
        r = d ^ s;
        break;
    default: /* AND, TEST */
        r = d & s;
        break;
    }
    r &= mask;
    if (r == 0)
        flags |= EMU_RFLAGS_ZF;
    if (r & sign)
        flags |= EMU_RFLAGS_SF;
    if (parity_even(r))
        flags |= EMU_RFLAGS_PF;
    *rflags = (*rflags & ~(uint64_t)EMU_RFLAGS_ARITH) | flags;
    return r;
}
