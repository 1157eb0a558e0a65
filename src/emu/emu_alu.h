/* Pure x86 integer ALU for the WHP instruction emulator: the two-operand arithmetic and logic
 * operations with the RFLAGS bits they produce (CF, PF, AF, ZF, SF, OF). */
#ifndef OPENWHP_EMU_ALU_H
#define OPENWHP_EMU_ALU_H

#include <stdint.h>

#include "emu/emu_decode.h"

#define EMU_RFLAGS_CF (1u << 0)
#define EMU_RFLAGS_PF (1u << 2)
#define EMU_RFLAGS_AF (1u << 4)
#define EMU_RFLAGS_ZF (1u << 6)
#define EMU_RFLAGS_SF (1u << 7)
#define EMU_RFLAGS_DF (1u << 10)
#define EMU_RFLAGS_OF (1u << 11)
#define EMU_RFLAGS_ARITH                                                                           \
    (EMU_RFLAGS_CF | EMU_RFLAGS_PF | EMU_RFLAGS_AF | EMU_RFLAGS_ZF | EMU_RFLAGS_SF | EMU_RFLAGS_OF)

/* All-ones in the low size bytes (size 1, 2, 4 or 8). */
static inline uint64_t emu_size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Sign-extends the low size bytes of v to 64 bits. */
static inline uint64_t emu_sext(uint64_t v, unsigned size)
{
    unsigned shift = 64 - 8 * size;
    return (uint64_t)((int64_t)(v << shift) >> shift);
}

/*
 * dst op src for op in EMU_OP_ADD..EMU_OP_CMP or EMU_OP_TEST on size-byte operands. Returns the
 * result (for CMP and TEST: what SUB and AND would give), masked to size, and replaces the six
 * arithmetic flags in *rflags; ADC and SBB read CF from it. Logic ops clear CF, OF and AF.
 */
uint64_t emu_alu(enum emu_op op, uint64_t dst, uint64_t src, unsigned size, uint64_t *rflags);

#endif
