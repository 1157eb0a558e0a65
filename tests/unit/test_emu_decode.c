/* Unit tests of the emulator's pure parts: the instruction decoder (fields, prefixes, modes,
 * truncation, the 15-byte limit, random bytes) and the ALU, whose flags are compared with the
 * host CPU's on x86-64. */
#include "emu/emu_alu.h"
#include "emu/emu_decode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Decodes from a heap copy of exactly n bytes, so AddressSanitizer catches any over-read. */
static int dec_n(enum emu_mode mode, const uint8_t *bytes, size_t n, struct emu_insn *in)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (n)
        memcpy(copy, bytes, n);
    int r = emu_decode(copy, n, mode, in);
    free(copy);
    return r;
}

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define DEC(mode, ...) dec_n(mode, BYTES(__VA_ARGS__), &in)

#define M16 EMU_MODE_16
#define M32 EMU_MODE_32
#define M64 EMU_MODE_64

static void test_mov_forms(void)
{
    struct emu_insn in;

    CHECK_EQ(DEC(M64, 0x89, 0x08), 0); /* mov [rax], ecx */
    CHECK_EQ(in.op, EMU_OP_MOV);
    CHECK_EQ(in.len, 2);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(in.addr_size, 8);
    CHECK(in.has_mem && in.mem_dst && !in.has_imm);
    CHECK_EQ(in.reg, 1);
    CHECK_EQ(in.mem.base, 0);
    CHECK_EQ(in.mem.index, EMU_REG_NONE);
    CHECK_EQ(in.mem.seg, EMU_SEG_DS);

    CHECK_EQ(DEC(M64, 0x48, 0x89, 0x08), 0);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(DEC(M64, 0x66, 0x89, 0x08), 0);
    CHECK_EQ(in.size, 2);
    CHECK_EQ(DEC(M64, 0x66, 0x48, 0x89, 0x08), 0); /* REX.W wins over 66 */
    CHECK_EQ(in.size, 8);
    CHECK_EQ(DEC(M64, 0x48, 0x66, 0x89, 0x08), 0); /* REX not last: ignored */
    CHECK_EQ(in.size, 2);

    CHECK_EQ(DEC(M64, 0x88, 0x20), 0); /* mov [rax], ah */
    CHECK_EQ(in.size, 1);
    CHECK_EQ(in.reg, 0);
    CHECK_EQ(in.reg_shift, 8);
    CHECK_EQ(DEC(M64, 0x40, 0x88, 0x20), 0); /* mov [rax], spl */
    CHECK_EQ(in.reg, 4);
    CHECK_EQ(in.reg_shift, 0);
    CHECK_EQ(DEC(M64, 0x44, 0x88, 0x00), 0); /* mov [rax], r8b */
    CHECK_EQ(in.reg, 8);
    CHECK_EQ(DEC(M64, 0x4C, 0x8B, 0x38), 0); /* mov r15, [rax] */
    CHECK_EQ(in.reg, 15);
    CHECK_EQ(in.size, 8);
    CHECK(!in.mem_dst);

    CHECK_EQ(DEC(M64, 0x8B, 0x05, 0x10, 0x00, 0x00, 0x00), 0); /* mov eax, [rip+0x10] */
    CHECK_EQ(in.len, 6);
    CHECK_EQ(in.mem.base, EMU_REG_RIP);
    CHECK_EQ(in.mem.disp, 0x10);
    CHECK_EQ(DEC(M32, 0x8B, 0x05, 0x78, 0x56, 0x34, 0x12), 0); /* absolute in 32-bit mode */
    CHECK_EQ(in.mem.base, EMU_REG_NONE);
    CHECK_EQ(in.mem.disp, 0x12345678);

    CHECK_EQ(DEC(M64, 0x8B, 0x44, 0x8B, 0xF0), 0); /* mov eax, [rbx+rcx*4-0x10] */
    CHECK_EQ(in.len, 4);
    CHECK_EQ(in.mem.base, 3);
    CHECK_EQ(in.mem.index, 1);
    CHECK_EQ(in.mem.scale, 4);
    CHECK_EQ(in.mem.disp, -16);
    CHECK_EQ(DEC(M64, 0x42, 0x8B, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00), 0); /* [r12*1+0x1000] */
    CHECK_EQ(in.mem.base, EMU_REG_NONE);
    CHECK_EQ(in.mem.index, 12);
    CHECK_EQ(in.mem.disp, 0x1000);
    CHECK_EQ(DEC(M64, 0x8B, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00), 0); /* [0x1000], no index */
    CHECK_EQ(in.mem.index, EMU_REG_NONE);
    CHECK_EQ(DEC(M64, 0x41, 0x8B, 0x04, 0x24), 0); /* mov eax, [r12] */
    CHECK_EQ(in.mem.base, 12);
    CHECK_EQ(in.mem.index, EMU_REG_NONE);
    CHECK_EQ(DEC(M64, 0x41, 0x8B, 0x45, 0x00), 0); /* mov eax, [r13+0] */
    CHECK_EQ(in.mem.base, 13);
    CHECK_EQ(in.len, 4);
    CHECK_EQ(DEC(M64, 0x8B, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00), 0); /* [rsp+0x100] */
    CHECK_EQ(in.mem.base, 4);
    CHECK_EQ(in.mem.disp, 0x100);
    CHECK_EQ(in.mem.seg, EMU_SEG_SS);
    CHECK_EQ(in.len, 7);
    CHECK_EQ(DEC(M64, 0x67, 0x8B, 0x00), 0);
    CHECK_EQ(in.addr_size, 4);
    CHECK_EQ(DEC(M64, 0x64, 0x8B, 0x00), 0);
    CHECK_EQ(in.mem.seg, EMU_SEG_FS);
    CHECK_EQ(DEC(M64, 0x65, 0x48, 0x8B, 0x00), 0);
    CHECK_EQ(in.mem.seg, EMU_SEG_GS);

    CHECK_EQ(DEC(M32, 0x8B, 0x04, 0x24), 0); /* mov eax, [esp] */
    CHECK_EQ(in.mem.seg, EMU_SEG_SS);
    CHECK_EQ(DEC(M32, 0x8B, 0x45, 0x08), 0); /* mov eax, [ebp+8] */
    CHECK_EQ(in.mem.seg, EMU_SEG_SS);
    CHECK_EQ(in.mem.disp, 8);
    CHECK_EQ(DEC(M32, 0x26, 0x8B, 0x45, 0x08), 0); /* override beats the SS default */
    CHECK_EQ(in.mem.seg, EMU_SEG_ES);
    CHECK_EQ(DEC(M32, 0x40), -ENOTSUP); /* INC eax, not REX */

    CHECK_EQ(DEC(M16, 0x8B, 0x07), 0); /* mov ax, [bx] */
    CHECK_EQ(in.size, 2);
    CHECK_EQ(in.addr_size, 2);
    CHECK_EQ(in.mem.base, 3);
    CHECK_EQ(in.mem.index, EMU_REG_NONE);
    CHECK_EQ(DEC(M16, 0x8B, 0x42, 0x10), 0); /* mov ax, [bp+si+0x10] */
    CHECK_EQ(in.mem.base, 5);
    CHECK_EQ(in.mem.index, 6);
    CHECK_EQ(in.mem.disp, 0x10);
    CHECK_EQ(in.mem.seg, EMU_SEG_SS);
    CHECK_EQ(DEC(M16, 0x8B, 0x06, 0x34, 0x12), 0); /* mov ax, [0x1234] */
    CHECK_EQ(in.mem.base, EMU_REG_NONE);
    CHECK_EQ(in.mem.disp, 0x1234);
    CHECK_EQ(in.mem.seg, EMU_SEG_DS);
    CHECK_EQ(DEC(M16, 0x8B, 0x81, 0x00, 0x80), 0); /* mov ax, [bx+di-0x8000] */
    CHECK_EQ(in.mem.disp, -0x8000);
    CHECK_EQ(in.mem.index, 7);
    CHECK_EQ(DEC(M16, 0x66, 0x67, 0x8B, 0x00), 0); /* mov eax, [eax] */
    CHECK_EQ(in.size, 4);
    CHECK_EQ(in.addr_size, 4);
    CHECK_EQ(in.mem.base, 0);

    CHECK_EQ(DEC(M64, 0xC7, 0x00, 0x78, 0x56, 0x34, 0x12), 0);
    CHECK(in.has_imm && in.mem_dst);
    CHECK_EQ(in.imm, 0x12345678);
    CHECK_EQ(DEC(M64, 0x48, 0xC7, 0x00, 0xFF, 0xFF, 0xFF, 0xFF), 0);
    CHECK_EQ(in.imm, ~0ull);
    CHECK_EQ(in.len, 7);
    CHECK_EQ(DEC(M64, 0x66, 0xC7, 0x00, 0x34, 0x12), 0);
    CHECK_EQ(in.imm, 0x1234);
    CHECK_EQ(in.len, 5);
    CHECK_EQ(DEC(M64, 0xC6, 0x40, 0x04, 0xAB), 0); /* mov byte [rax+4], 0xab */
    CHECK_EQ(in.imm & 0xFF, 0xAB);
    CHECK_EQ(in.mem.disp, 4);
    CHECK_EQ(DEC(M64, 0xC7, 0x08, 0, 0, 0, 0), -ENOTSUP); /* C7 /1 */

    CHECK_EQ(DEC(M64, 0xA1, 1, 2, 3, 4, 5, 6, 7, 8), 0); /* mov eax, moffs64 */
    CHECK_EQ(in.len, 9);
    CHECK_EQ(in.mem.disp, 0x0807060504030201);
    CHECK(!in.mem_dst && in.reg == 0);
    CHECK_EQ(DEC(M64, 0x67, 0xA1, 1, 2, 3, 4), 0);
    CHECK_EQ(in.len, 6);
    CHECK_EQ(DEC(M32, 0xA3, 0x78, 0x56, 0x34, 0x12), 0);
    CHECK(in.mem_dst);
    CHECK_EQ(in.mem.disp, 0x12345678);
    CHECK_EQ(DEC(M16, 0xA0, 0x34, 0x12), 0);
    CHECK_EQ(in.len, 3);
    CHECK_EQ(in.size, 1);
    CHECK_EQ(DEC(M64, 0x48, 0xA3, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), 0);
    CHECK_EQ((uint64_t)in.mem.disp, 0xFFFFFFFFFFFFFFF0ull);
    CHECK_EQ(in.size, 8);
}

static void test_extend_alu_group(void)
{
    struct emu_insn in;

    CHECK_EQ(DEC(M64, 0x0F, 0xB6, 0x00), 0);
    CHECK_EQ(in.op, EMU_OP_MOVZX);
    CHECK_EQ(in.src_size, 1);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC(M64, 0x48, 0x0F, 0xBF, 0x08), 0);
    CHECK_EQ(in.op, EMU_OP_MOVSX);
    CHECK_EQ(in.src_size, 2);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(in.reg, 1);
    CHECK_EQ(DEC(M64, 0x66, 0x0F, 0xB6, 0x00), 0);
    CHECK_EQ(in.size, 2);
    CHECK_EQ(in.reg_shift, 0);
    CHECK_EQ(DEC(M64, 0x48, 0x63, 0x00), 0); /* movsxd rax, dword [rax] */
    CHECK_EQ(in.op, EMU_OP_MOVSX);
    CHECK_EQ(in.src_size, 4);
    CHECK_EQ(DEC(M64, 0x63, 0x00), 0);
    CHECK_EQ(in.src_size, 4);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC(M32, 0x63, 0x00), -ENOTSUP); /* ARPL */
    CHECK_EQ(DEC(M64, 0x0F, 0x0B), -ENOTSUP);
    CHECK_EQ(DEC(M64, 0x0F, 0xB8, 0x00), -ENOTSUP);

    static const uint8_t alu_ops[8] = { EMU_OP_ADD, EMU_OP_OR,  EMU_OP_ADC, EMU_OP_SBB,
                                        EMU_OP_AND, EMU_OP_SUB, EMU_OP_XOR, EMU_OP_CMP };
    for (unsigned i = 0; i < 8; i++) {
        for (unsigned form = 0; form < 4; form++) {
            uint8_t b[2] = { (uint8_t)(i * 8 + form), 0x08 };
            CHECK_EQ(dec_n(M64, b, 2, &in), 0);
            CHECK_EQ(in.op, alu_ops[i]);
            CHECK_EQ(in.size, form & 1 ? 4 : 1);
            CHECK_EQ(in.mem_dst, form < 2);
        }
        uint8_t g[3] = { 0x83, (uint8_t)(0x00 | i << 3), 0xFE };
        CHECK_EQ(dec_n(M64, g, 3, &in), 0);
        CHECK_EQ(in.op, alu_ops[i]);
        CHECK_EQ(in.imm, (uint64_t)-2);
        CHECK(in.mem_dst);
        uint8_t ax[2] = { (uint8_t)(i * 8 + 4), 0x01 }; /* op al, imm8: no memory */
        CHECK_EQ(dec_n(M64, ax, 2, &in), -ENOTSUP);
    }
    CHECK_EQ(DEC(M64, 0x81, 0x28, 0x00, 0x00, 0x00, 0x80), 0); /* sub dword [rax], 0x80000000 */
    CHECK_EQ(in.op, EMU_OP_SUB);
    CHECK_EQ(in.len, 6);
    CHECK_EQ(DEC(M64, 0x66, 0x81, 0x28, 0x00, 0x80), 0);
    CHECK_EQ(in.len, 5);
    CHECK_EQ(in.imm, 0xFFFFFFFFFFFF8000ull);
    CHECK_EQ(DEC(M64, 0x80, 0x38, 0x05), 0);
    CHECK_EQ(in.op, EMU_OP_CMP);
    CHECK_EQ(in.size, 1);
    CHECK_EQ(DEC(M64, 0x82, 0x00, 0x01), -EINVAL);
    CHECK_EQ(DEC(M32, 0x82, 0x00, 0x01), 0);
    CHECK_EQ(in.op, EMU_OP_ADD);

    CHECK_EQ(DEC(M64, 0x85, 0x08), 0);
    CHECK_EQ(in.op, EMU_OP_TEST);
    CHECK_EQ(DEC(M64, 0xF7, 0x00, 1, 0, 0, 0), 0);
    CHECK_EQ(in.op, EMU_OP_TEST);
    CHECK_EQ(in.imm, 1);
    CHECK_EQ(DEC(M64, 0xF6, 0x08, 0x80), 0); /* /1 is an alias of /0 */
    CHECK_EQ(in.op, EMU_OP_TEST);
    CHECK_EQ(DEC(M64, 0xF7, 0x10), -ENOTSUP); /* NOT */
    CHECK_EQ(DEC(M64, 0xF7, 0x30), -ENOTSUP); /* DIV */

    CHECK_EQ(DEC(M64, 0x87, 0x08), 0);
    CHECK_EQ(in.op, EMU_OP_XCHG);
    CHECK_EQ(DEC(M64, 0xF0, 0x87, 0x08), 0);
    CHECK(in.lock);
    CHECK_EQ(DEC(M64, 0xF0, 0x01, 0x08), 0);
    CHECK_EQ(DEC(M64, 0xF0, 0x83, 0x08, 0x01), 0);
    CHECK_EQ(DEC(M64, 0xF0, 0x89, 0x08), -EINVAL);
    CHECK_EQ(DEC(M64, 0xF0, 0x03, 0x08), -EINVAL);
    CHECK_EQ(DEC(M64, 0xF0, 0x39, 0x08), -EINVAL);
    CHECK_EQ(DEC(M64, 0xF0, 0x85, 0x08), -EINVAL);
    CHECK_EQ(DEC(M64, 0xF0, 0xA4), -EINVAL);

    CHECK_EQ(DEC(M64, 0x8B, 0xC0), -ENOTSUP); /* register operand */
    CHECK_EQ(DEC(M64, 0x90), -ENOTSUP);
    CHECK_EQ(DEC(M64, 0xC4, 0xE2, 0x79, 0x18, 0x00), -ENOTSUP); /* VEX */
    CHECK_EQ(DEC(M64, 0xFF, 0x00), -ENOTSUP);
}

static void test_string_io(void)
{
    struct emu_insn in;

    CHECK_EQ(DEC(M64, 0xF3, 0xA4), 0);
    CHECK_EQ(in.op, EMU_OP_MOVS);
    CHECK_EQ(in.rep, EMU_REP_E);
    CHECK_EQ(in.size, 1);
    CHECK(!in.has_mem);
    CHECK_EQ(in.mem.seg, EMU_SEG_DS);
    CHECK_EQ(DEC(M64, 0xF3, 0x48, 0xA5), 0);
    CHECK_EQ(in.size, 8);
    CHECK_EQ(DEC(M32, 0x66, 0xA5), 0);
    CHECK_EQ(in.size, 2);
    CHECK_EQ(in.rep, EMU_REP_NONE);
    CHECK_EQ(DEC(M64, 0xF2, 0xAE), 0);
    CHECK_EQ(in.op, EMU_OP_SCAS);
    CHECK_EQ(in.rep, EMU_REP_NE);
    CHECK_EQ(DEC(M64, 0xF2, 0xF3, 0xA6), 0); /* the last of F2/F3 counts */
    CHECK_EQ(in.op, EMU_OP_CMPS);
    CHECK_EQ(in.rep, EMU_REP_E);
    CHECK_EQ(DEC(M32, 0x26, 0xAC), 0);
    CHECK_EQ(in.op, EMU_OP_LODS);
    CHECK_EQ(in.mem.seg, EMU_SEG_ES);
    CHECK_EQ(DEC(M64, 0xF3, 0x67, 0xAB), 0);
    CHECK_EQ(in.op, EMU_OP_STOS);
    CHECK_EQ(in.addr_size, 4);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC(M64, 0xF3, 0x89, 0x08), 0); /* REP on a non-string instruction is ignored */
    CHECK_EQ(in.rep, EMU_REP_NONE);

    CHECK_EQ(DEC(M64, 0xE4, 0x60), 0);
    CHECK_EQ(in.op, EMU_OP_IN);
    CHECK(in.has_imm);
    CHECK_EQ(in.imm, 0x60);
    CHECK_EQ(in.size, 1);
    CHECK_EQ(DEC(M64, 0xE5, 0x80), 0);
    CHECK_EQ(in.imm, 0x80);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC(M64, 0x66, 0xE7, 0xF0), 0);
    CHECK_EQ(in.op, EMU_OP_OUT);
    CHECK_EQ(in.size, 2);
    CHECK_EQ(in.imm, 0xF0);
    CHECK_EQ(DEC(M64, 0x48, 0xE5, 0x10), 0); /* REX.W does not make a 64-bit port access */
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC(M16, 0xED), 0);
    CHECK_EQ(in.size, 2);
    CHECK(!in.has_imm);
    CHECK_EQ(DEC(M16, 0x66, 0xEF), 0);
    CHECK_EQ(in.op, EMU_OP_OUT);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC(M32, 0xEE), 0);
    CHECK_EQ(in.size, 1);
    CHECK_EQ(DEC(M64, 0x6C), 0);
    CHECK_EQ(in.op, EMU_OP_INS);
    CHECK_EQ(in.size, 1);
    CHECK_EQ(DEC(M64, 0xF3, 0x66, 0x6D), 0);
    CHECK_EQ(in.size, 2);
    CHECK_EQ(in.rep, EMU_REP_E);
    CHECK_EQ(DEC(M64, 0x48, 0x6F), 0);
    CHECK_EQ(in.op, EMU_OP_OUTS);
    CHECK_EQ(in.size, 4);
    CHECK_EQ(DEC(M32, 0x64, 0x6E), 0);
    CHECK_EQ(in.mem.seg, EMU_SEG_FS);
}

/* Every proper prefix of a valid instruction asks for more bytes. */
static void test_truncation(void)
{
    static const struct {
        enum emu_mode mode;
        uint8_t n, b[15];
    } insns[] = {
        { M64, 2, { 0x89, 0x08 } },
        { M64, 8, { 0x42, 0x8B, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00 } },
        { M64, 7, { 0x8B, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00 } },
        { M64, 10, { 0x48, 0xA3, 1, 2, 3, 4, 5, 6, 7, 8 } },
        { M64, 13, { 0x65, 0x48, 0xC7, 0x84, 0x88, 1, 2, 3, 4, 5, 6, 7, 8 } },
        { M64, 4, { 0x48, 0x0F, 0xBF, 0x08 } },
        { M16, 4, { 0x8B, 0x81, 0x00, 0x80 } },
        { M16, 9, { 0x66, 0x81, 0x06, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12 } },
        { M32, 3, { 0xF3, 0x66, 0xA5 } },
    };
    struct emu_insn in;

    for (size_t i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        CHECK_EQ(dec_n(insns[i].mode, insns[i].b, insns[i].n, &in), 0);
        CHECK_EQ(in.len, insns[i].n);
        for (uint8_t n = 0; n < insns[i].n; n++)
            CHECK_EQ(dec_n(insns[i].mode, insns[i].b, n, &in), (uint64_t)-ENODATA);
    }
}

static void test_length_limit(void)
{
    uint8_t b[17];
    struct emu_insn in;

    memset(b, 0x3E, sizeof(b));
    b[14] = 0xA4; /* 14 prefixes + movsb = 15 bytes */
    CHECK_EQ(dec_n(M64, b, 15, &in), 0);
    CHECK_EQ(in.len, 15);
    CHECK_EQ(dec_n(M64, b, 16, &in), 0);
    b[14] = 0x3E;
    b[15] = 0xA4; /* 16 bytes */
    CHECK_EQ(dec_n(M64, b, 16, &in), (uint64_t)-EINVAL);
    CHECK_EQ(dec_n(M64, b, 15, &in), (uint64_t)-EINVAL); /* the 16th byte is never read */
    b[14] = 0x89;
    b[15] = 0x08; /* 14 prefixes + a 2-byte instruction */
    CHECK_EQ(dec_n(M64, b, 16, &in), (uint64_t)-EINVAL);
    memset(b, 0x66, sizeof(b));
    CHECK_EQ(dec_n(M64, b, 17, &in), (uint64_t)-EINVAL);
    CHECK_EQ(dec_n(M64, b, 3, &in), (uint64_t)-ENODATA);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random bytes, biased towards prefixes and known opcodes, must never crash or over-read. */
static void test_random_bytes(void)
{
    static const uint8_t favourites[] = { 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x26, 0x64,
                                          0x48, 0x41, 0x0F, 0x89, 0x8B, 0xC7, 0x81,
                                          0x83, 0xF7, 0xA5, 0xA1, 0x6D };
    struct emu_insn in;
    unsigned bad = 0;

    for (unsigned iter = 0; iter < 200000; iter++) {
        uint8_t b[16];
        size_t n = rng() % 17;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng();
            b[i] = (r & 3) ? (uint8_t)(r >> 8) : favourites[(r >> 8) % sizeof(favourites)];
        }
        int r = dec_n((enum emu_mode)(rng() % 3), b, n, &in);
        if (r == 0 && (in.len == 0 || in.len > n || in.len > EMU_MAX_INSN_LEN || in.reg > 15 ||
                       in.mem.seg > EMU_SEG_GS || in.mem.base > EMU_REG_RIP ||
                       in.mem.index > 15))
            bad++;
        if (r != 0 && r != -ENODATA && r != -EINVAL && r != -ENOTSUP)
            bad++;
    }
    CHECK_EQ(bad, 0);
}

#if defined(__x86_64__)
/* The host CPU computes the reference result and flags (below the red zone, for push/popf). */
#define HOST_OP(insn, T)                                                                           \
    {                                                                                              \
        T d_ = (T)d, s_ = (T)s;                                                                    \
        uint64_t f_ = 0x2 | cin;                                                                   \
        __asm__ volatile("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopf\n\t" insn " %[s], %[d]\n\t" \
                         "pushf\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"                              \
                         : [d] "+r"(d_), [f] "+r"(f_)                                              \
                         : [s] "r"(s_)                                                             \
                         : "cc", "memory");                                                        \
        *flags = f_;                                                                               \
        return (uint64_t)d_;                                                                       \
    }
#define HOST_SIZES(insn)                                                                           \
    switch (size) {                                                                                \
    case 1: HOST_OP(insn "b", uint8_t)                                                             \
    case 2: HOST_OP(insn "w", uint16_t)                                                            \
    case 4: HOST_OP(insn "l", uint32_t)                                                            \
    default: HOST_OP(insn "q", uint64_t)                                                           \
    }

static uint64_t host_alu(enum emu_op op, uint64_t d, uint64_t s, unsigned size, uint64_t cin,
                         uint64_t *flags)
{
    switch (op) {
    case EMU_OP_ADD: HOST_SIZES("add")
    case EMU_OP_OR: HOST_SIZES("or")
    case EMU_OP_ADC: HOST_SIZES("adc")
    case EMU_OP_SBB: HOST_SIZES("sbb")
    case EMU_OP_AND: HOST_SIZES("and")
    case EMU_OP_SUB: HOST_SIZES("sub")
    case EMU_OP_XOR: HOST_SIZES("xor")
    case EMU_OP_CMP: HOST_SIZES("cmp")
    default: HOST_SIZES("test")
    }
}

static void test_alu_against_host(void)
{
    static const uint64_t edges[] = { 0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
                                      0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF,
                                      0x8000000000000000, ~0ull, 0x0F, 0x10 };
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    unsigned mismatches = 0;

    for (unsigned iter = 0; iter < 400000; iter++) {
        enum emu_op op = (enum emu_op)(EMU_OP_ADD + rng() % 9); /* ADD..CMP, TEST */
        unsigned size = sizes[rng() % 4];
        uint64_t d = rng(), s = rng(), cin = rng() & 1;
        if (iter % 3 == 0)
            d = edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
        if (iter % 5 == 0)
            s = edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
        uint64_t host_flags, emu_flags = 0x202 | cin | (rng() & EMU_RFLAGS_ARITH & ~1ull);
        uint64_t want = host_alu(op, d, s, size, cin, &host_flags);
        uint64_t got = emu_alu(op, d, s, size, &emu_flags);
        uint64_t mask = EMU_RFLAGS_ARITH;
        bool logic = op == EMU_OP_OR || op == EMU_OP_AND || op == EMU_OP_XOR || op == EMU_OP_TEST;
        if (logic)
            mask &= ~(uint64_t)EMU_RFLAGS_AF; /* architecturally undefined */
        if (op == EMU_OP_CMP || op == EMU_OP_TEST)
            want = op == EMU_OP_CMP ? (d - s) & emu_size_mask(size) : d & s & emu_size_mask(size);
        if (got != want || (emu_flags & mask) != (host_flags & mask) ||
            (emu_flags & ~(uint64_t)EMU_RFLAGS_ARITH) != 0x202) {
            if (mismatches++ < 5)
                printf("%s:%d: alu op %d size %u d=%" PRIx64 " s=%" PRIx64 " cin=%" PRIu64
                       ": got %" PRIx64 "/%" PRIx64 " want %" PRIx64 "/%" PRIx64 "\n",
                       __FILE__, __LINE__, op, size, d, s, cin, got, emu_flags & mask, want,
                       host_flags & mask);
        }
    }
    CHECK_EQ(mismatches, 0);
}
#endif

static void test_alu_vectors(void)
{
    uint64_t fl = 0;

    CHECK_EQ(emu_alu(EMU_OP_ADD, 0xFF, 1, 1, &fl), 0);
    CHECK_EQ(fl, EMU_RFLAGS_CF | EMU_RFLAGS_PF | EMU_RFLAGS_AF | EMU_RFLAGS_ZF);
    CHECK_EQ(emu_alu(EMU_OP_ADD, 0x7FFFFFFF, 1, 4, &fl), 0x80000000);
    CHECK_EQ(fl, EMU_RFLAGS_PF | EMU_RFLAGS_AF | EMU_RFLAGS_SF | EMU_RFLAGS_OF);
    CHECK_EQ(emu_alu(EMU_OP_SUB, 0, 1, 2, &fl), 0xFFFF);
    CHECK_EQ(fl, EMU_RFLAGS_CF | EMU_RFLAGS_PF | EMU_RFLAGS_AF | EMU_RFLAGS_SF);
    fl = EMU_RFLAGS_CF;
    CHECK_EQ(emu_alu(EMU_OP_ADC, ~0ull, 0, 8, &fl), 0);
    CHECK_EQ(fl, EMU_RFLAGS_CF | EMU_RFLAGS_PF | EMU_RFLAGS_AF | EMU_RFLAGS_ZF);
    fl = EMU_RFLAGS_CF;
    CHECK_EQ(emu_alu(EMU_OP_SBB, 0x80, 0, 1, &fl), 0x7F);
    CHECK_EQ(fl, EMU_RFLAGS_AF | EMU_RFLAGS_OF);
    fl = EMU_RFLAGS_CF | EMU_RFLAGS_OF | EMU_RFLAGS_DF;
    CHECK_EQ(emu_alu(EMU_OP_AND, 0xF0, 0x0F, 1, &fl), 0);
    CHECK_EQ(fl, EMU_RFLAGS_PF | EMU_RFLAGS_ZF | EMU_RFLAGS_DF);
    CHECK_EQ(emu_alu(EMU_OP_CMP, 5, 7, 4, &fl), 0xFFFFFFFE);
    CHECK_EQ(fl & EMU_RFLAGS_CF, EMU_RFLAGS_CF);
    CHECK_EQ(emu_sext(0x80, 1), 0xFFFFFFFFFFFFFF80ull);
    CHECK_EQ(emu_sext(0x7FFF, 2), 0x7FFF);
    CHECK_EQ(emu_sext(0x80000000, 4), 0xFFFFFFFF80000000ull);
}

int main(void)
{
    test_mov_forms();
    test_extend_alu_group();
    test_string_io();
    test_truncation();
    test_length_limit();
    test_random_bytes();
    test_alu_vectors();
#if defined(__x86_64__)
    test_alu_against_host();
#endif
    return check_report();
}
