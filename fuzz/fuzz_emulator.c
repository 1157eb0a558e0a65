/* Fuzzes the instruction emulator (WinHvEmulation.h), whose input is guest-controlled: the
 * instruction bytes (in the exit context or fetched from guest memory), the registers, the
 * segment state and the CPU mode. The callbacks play a guest with two pages of RAM, page tables
 * that map or fault as the input says, ports that answer input bytes, and callbacks that fail
 * when the input says so. They check the contract of each callback (access sizes, no access
 * crossing a page, known register names), and the results are checked against what x86 allows:
 * RIP moves by an instruction length within the mode's width, only arithmetic flags change, a
 * fault of a non-REP instruction has no side effect, success carries no failure bit. */
#include <WinHvEmulation.h>

#include "fuzz_input.h"

#include "emu/emu_decode.h"

#define PAGE 4096u
#define ARITH_FLAGS 0x8d5ull /* CF PF AF ZF SF OF */

struct world {
    struct fz *f;
    uint64_t gpr[16];
    WHV_X64_SEGMENT_REGISTER seg[6];
    uint8_t ram[2][PAGE];
    uint8_t fail_at[5]; /* n: the n-th call of that callback fails (0: none) */
    unsigned calls[5];
    unsigned side_effects; /* port accesses and memory writes */
    uint8_t read[16], written[16]; /* the bytes of memory reads and writes, in order */
    unsigned nread, nwritten;
    bool rip_written, fault_written, flags_written;
    uint64_t rip, rflags;
    unsigned total;
};

enum { CB_IO, CB_MEM, CB_GET, CB_SET, CB_XLATE };

static bool fails(struct world *w, unsigned cb)
{
    FZ_CHECK(++w->total < 5 * 4096 * 8); /* REP batches are bounded */
    return ++w->calls[cb] == w->fail_at[cb];
}

static HRESULT CALLBACK cb_io(VOID *ctx, WHV_EMULATOR_IO_ACCESS_INFO *a)
{
    struct world *w = ctx;
    FZ_CHECK(a->Direction <= 1);
    FZ_CHECK(a->AccessSize == 1 || a->AccessSize == 2 || a->AccessSize == 4);
    FZ_CHECK(a->AccessSize == 4 || !a->Direction || a->Data >> (8 * a->AccessSize) == 0);
    w->side_effects++;
    if (fails(w, CB_IO))
        return E_FAIL;
    if (!a->Direction)
        a->Data = fz_u32(w->f); /* a device may return stray upper bits: the emulator masks */
    return S_OK;
}

static HRESULT CALLBACK cb_mem(VOID *ctx, WHV_EMULATOR_MEMORY_ACCESS_INFO *a)
{
    struct world *w = ctx;
    FZ_CHECK(a->Direction <= 1);
    FZ_CHECK(a->AccessSize >= 1 && a->AccessSize <= 8);
    FZ_CHECK((a->GpaAddress & (PAGE - 1)) + a->AccessSize <= PAGE); /* one page per call */
    if (a->Direction)
        w->side_effects++;
    if (fails(w, CB_MEM))
        return E_FAIL;
    uint8_t *p = &w->ram[(a->GpaAddress >> 12) & 1][a->GpaAddress & (PAGE - 1)];
    if (a->Direction)
        memcpy(p, a->Data, a->AccessSize);
    else
        memcpy(a->Data, p, a->AccessSize);
    uint8_t *log = a->Direction ? w->written : w->read;
    unsigned *n = a->Direction ? &w->nwritten : &w->nread;
    for (unsigned i = 0; i < a->AccessSize; i++, ++*n)
        log[*n % sizeof(w->read)] = a->Data[i];
    return S_OK;
}

static int gpr_index(WHV_REGISTER_NAME n)
{
    return n >= WHvX64RegisterRax && n <= WHvX64RegisterR15 ? (int)(n - WHvX64RegisterRax) : -1;
}

static HRESULT CALLBACK cb_get(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 count,
                               WHV_REGISTER_VALUE *vals)
{
    struct world *w = ctx;
    FZ_CHECK(count > 0 && count <= 32);
    if (fails(w, CB_GET))
        return E_FAIL;
    for (UINT32 i = 0; i < count; i++) {
        int g = gpr_index(names[i]);
        if (g >= 0)
            vals[i].Reg64 = w->gpr[g];
        else if (names[i] >= WHvX64RegisterEs && names[i] <= WHvX64RegisterGs)
            vals[i].Segment = w->seg[names[i] - WHvX64RegisterEs];
        else
            FZ_CHECK(!"unexpected register read");
    }
    return S_OK;
}

static HRESULT CALLBACK cb_set(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 count,
                               const WHV_REGISTER_VALUE *vals)
{
    struct world *w = ctx;
    FZ_CHECK(count <= 32);
    for (UINT32 i = 0; i < count; i++)
        for (UINT32 j = i + 1; j < count; j++)
            FZ_CHECK(names[i] != names[j]);
    if (fails(w, CB_SET))
        return E_FAIL;
    for (UINT32 i = 0; i < count; i++) {
        int g = gpr_index(names[i]);
        if (g >= 0) {
            w->gpr[g] = vals[i].Reg64;
        } else if (names[i] == WHvX64RegisterRip) {
            w->rip_written = true;
            w->rip = vals[i].Reg64;
        } else if (names[i] == WHvX64RegisterRflags) {
            w->flags_written = true;
            w->rflags = vals[i].Reg64;
        } else if (names[i] == WHvRegisterPendingInterruption) {
            const WHV_X64_PENDING_INTERRUPTION_REGISTER *p = &vals[i].PendingInterruption;
            FZ_CHECK(p->InterruptionPending && p->InterruptionVector == 14 && p->DeliverErrorCode);
            w->fault_written = true;
        } else {
            FZ_CHECK(names[i] == WHvX64RegisterCr2);
        }
    }
    return S_OK;
}

static HRESULT CALLBACK cb_xlate(VOID *ctx, WHV_GUEST_VIRTUAL_ADDRESS gva,
                                 WHV_TRANSLATE_GVA_FLAGS flags, WHV_TRANSLATE_GVA_RESULT_CODE *res,
                                 WHV_GUEST_PHYSICAL_ADDRESS *gpa)
{
    struct world *w = ctx;
    FZ_CHECK((gva & (PAGE - 1)) == 0); /* the callback translates pages */
    FZ_CHECK((flags & ~(UINT32)(WHvTranslateGvaFlagValidateRead | WHvTranslateGvaFlagValidateWrite |
                                WHvTranslateGvaFlagValidateExecute)) == 0);
    if (fails(w, CB_XLATE))
        return E_FAIL;
    uint8_t how = fz_u8(w->f);
    *res = how < 0xf0 ? WHvTranslateGvaResultSuccess : (WHV_TRANSLATE_GVA_RESULT_CODE)(how & 0xf);
    /* Usually page-aligned; sometimes not, which the emulator must refuse. */
    *gpa = ((gva >> 12) * 0x9e3779b1ull & 0xfffff) << 12 | (how == 0xef ? 0x10 : 0);
    return S_OK;
}

static uint64_t le(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* A MOV (or MOVZX/MOVSX load) between a register (or immediate) and memory, decoded from the
 * exit's bytes and completed: the value moved is the one read or written (extended as the
 * instruction says), nothing else changed. */
static void check_mov(const struct world *w, const uint64_t *before, const struct emu_insn *in)
{
    uint64_t mask = in->size == 8 ? ~0ull : (1ull << (8 * in->size)) - 1;
    if (in->mem_dst) {
        uint64_t src = in->has_imm ? in->imm : before[in->reg] >> in->reg_shift;
        FZ_CHECK(w->nwritten == in->size && w->nread == 0);
        FZ_CHECK(le(w->written, in->size) == (src & mask));
        for (unsigned r = 0; r < 16; r++)
            FZ_CHECK(w->gpr[r] == before[r]);
        return;
    }
    FZ_CHECK(w->nread == in->src_size && w->nwritten == 0);
    uint64_t want = le(w->read, in->src_size);
    if (in->op == EMU_OP_MOVSX) {
        unsigned shift = 64 - 8 * in->src_size;
        want = (uint64_t)((int64_t)(want << shift) >> shift) & mask;
    }
    for (unsigned r = 0; r < 16; r++) {
        if (r != in->reg) {
            FZ_CHECK(w->gpr[r] == before[r]);
        } else if (in->size == 4) { /* a 32-bit destination is zero-extended */
            FZ_CHECK(w->gpr[r] == want);
        } else {
            uint64_t m = mask << in->reg_shift;
            FZ_CHECK((w->gpr[r] & m) == want << in->reg_shift);
            FZ_CHECK((w->gpr[r] & ~m) == (before[r] & ~m));
        }
    }
}

/* The host CPU as the reference for the ALU: runs `op src, dst` natively on size-byte operands
 * with CF as given, returns the result and the six arithmetic flags. */
#define ALU_CASE(opc, name)                                                                   \
    case opc:                                                                                 \
        switch (size) {                                                                       \
        case 1: ALU_ASM(name "b", uint8_t, "q"); break;                                       \
        case 2: ALU_ASM(name "w", uint16_t, "r"); break;                                      \
        case 4: ALU_ASM(name "l", uint32_t, "r"); break;                                      \
        default: ALU_ASM(name "q", uint64_t, "r"); break;                                     \
        }                                                                                     \
        break;
#define ALU_ASM(insn, type, cons)                                                             \
    do {                                                                                      \
        type d_ = (type)d, s_ = (type)src;                                                    \
        __asm__ volatile("pushq %[in]\n\tpopfq\n\t" insn " %[s], %[d]\n\tpushfq\n\tpopq %[out]"   \
                         : [d] "+" cons(d_), [out] "=r"(fl)                                    \
                         : [s] cons(s_), [in] "r"(fin)                                         \
                         : "cc");                                                             \
        r = d_;                                                                               \
    } while (0)

static uint64_t native_alu(enum emu_op op, uint64_t d, uint64_t src, unsigned size, bool cf,
                           uint64_t *flags)
{
    uint64_t fin = 0x202 | cf, fl = 0, r = d;
    switch (op) {
        ALU_CASE(EMU_OP_ADD, "add")
        ALU_CASE(EMU_OP_OR, "or")
        ALU_CASE(EMU_OP_ADC, "adc")
        ALU_CASE(EMU_OP_SBB, "sbb")
        ALU_CASE(EMU_OP_AND, "and")
        ALU_CASE(EMU_OP_SUB, "sub")
        ALU_CASE(EMU_OP_XOR, "xor")
        ALU_CASE(EMU_OP_CMP, "cmp")
        ALU_CASE(EMU_OP_TEST, "test")
    default:
        FZ_CHECK(!"not an ALU operation");
    }
    *flags = fl & ARITH_FLAGS;
    return r;
}

/* An ALU instruction with a memory operand, decoded from the exit's bytes and completed: result
 * and flags are what the host CPU computes for the same operands (AF after logic operations is
 * undefined on x86 and not compared). */
static void check_alu(const struct world *w, const uint64_t *before, const struct emu_insn *in,
                      uint64_t rflags_in)
{
    uint64_t mask = in->size == 8 ? ~0ull : (1ull << (8 * in->size)) - 1;
    FZ_CHECK(w->nread == in->size);
    uint64_t m = le(w->read, in->size), reg = before[in->reg] >> in->reg_shift & mask;
    uint64_t d = in->mem_dst ? m : reg, src = in->has_imm ? in->imm : in->mem_dst ? reg : m;
    uint64_t want_flags, want = native_alu((enum emu_op)in->op, d, src, in->size, rflags_in & 1,
                                           &want_flags) & mask;
    uint64_t got_flags = (w->flags_written ? w->rflags : rflags_in) & ARITH_FLAGS;
    bool logic = in->op == EMU_OP_OR || in->op == EMU_OP_AND || in->op == EMU_OP_XOR ||
                 in->op == EMU_OP_TEST;
    uint64_t compare = logic ? ARITH_FLAGS & ~0x10ull : ARITH_FLAGS;
    FZ_CHECK((got_flags & compare) == (want_flags & compare));
    bool writes = in->op != EMU_OP_CMP && in->op != EMU_OP_TEST;
    if (!writes) {
        FZ_CHECK(w->nwritten == 0);
    } else if (in->mem_dst) {
        FZ_CHECK(w->nwritten == in->size && le(w->written, in->size) == want);
    } else if (in->size == 4) {
        FZ_CHECK(w->gpr[in->reg] == want);
    } else {
        FZ_CHECK((w->gpr[in->reg] >> in->reg_shift & mask) == want);
    }
}

static uint64_t mode_mask(const WHV_VP_EXIT_CONTEXT *vp)
{
    if (vp->ExecutionState.EferLma && vp->Cs.Long)
        return ~0ull;
    return vp->Cs.Default ? 0xffffffffull : 0xffffull;
}

static enum emu_mode mode_of(const WHV_VP_EXIT_CONTEXT *vp)
{
    if (vp->ExecutionState.EferLma && vp->Cs.Long)
        return EMU_MODE_64;
    return vp->Cs.Default ? EMU_MODE_32 : EMU_MODE_16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const WHV_EMULATOR_CALLBACKS cbs = {
        sizeof(WHV_EMULATOR_CALLBACKS), 0, cb_io, cb_mem, cb_get, cb_set, cb_xlate,
    };
    static struct world w;
    struct fz f = {data, size, 0};
    WHV_EMULATOR_HANDLE e;
    FZ_CHECK(WHvEmulatorCreateEmulator(&cbs, &e) == S_OK);

    memset(&w, 0, sizeof(w));
    w.f = &f;
    uint8_t kind = fz_u8(&f);
    WHV_VP_EXIT_CONTEXT vp;
    memset(&vp, 0, sizeof(vp));
    static const uint16_t cs_attr[] = {0x209b /* 64-bit */, 0xc09b /* 32-bit */, 0x009b /* 16 */};
    vp.Cs.Attributes = kind & 0x80 ? fz_u16(&f) : cs_attr[(kind >> 4) % 3];
    vp.Cs.Base = kind & 0x40 ? fz_u64(&f) : 0;
    vp.ExecutionState.AsUINT16 = fz_u16(&f);
    if (!(kind & 0x80))
        vp.ExecutionState.EferLma = (kind >> 4) % 3 == 0;
    vp.InstructionLength = fz_u8(&f) & 0xf;
    vp.Rip = fz_u64(&f);
    vp.Rflags = (fz_u64(&f) & 0x3f7fd7ull) | 2;
    for (unsigned i = 0; i < 16; i++)
        w.gpr[i] = fz_u8(&f) & 1 ? fz_u64(&f) : fz_u8(&f);
    for (unsigned i = 0; i < 6; i++)
        w.seg[i].Base = fz_u8(&f) & 1 ? fz_u64(&f) : 0;
    fz_bytes(&f, w.fail_at, sizeof(w.fail_at));
    for (unsigned i = 0; i < 5; i++)
        w.fail_at[i] = w.fail_at[i] < 0xe0 ? 0 : w.fail_at[i] & 0x1f;
    uint8_t bytes[16];
    unsigned count = fz_u8(&f) % 18; /* 17: more than the field holds */
    fz_bytes(&f, bytes, sizeof(bytes));
    fz_bytes(&f, w.ram, sizeof(w.ram)); /* whatever is left: guest RAM, and the callbacks' data */

    WHV_EMULATOR_STATUS st;
    uint64_t before[16];
    memcpy(before, w.gpr, sizeof(before));
    bool io = kind & 1;
    if (io) {
        WHV_X64_IO_PORT_ACCESS_CONTEXT c;
        memset(&c, 0, sizeof(c));
        c.InstructionByteCount = (UINT8)count;
        memcpy(c.InstructionBytes, bytes, sizeof(bytes));
        c.AccessInfo.AsUINT32 = fz_u32(&f);
        c.PortNumber = fz_u16(&f);
        c.Rax = w.gpr[0];
        c.Rcx = w.gpr[1];
        c.Rsi = w.gpr[6];
        c.Rdi = w.gpr[7];
        c.Ds = w.seg[3];
        c.Es = w.seg[0];
        FZ_CHECK(WHvEmulatorTryIoEmulation(e, &w, &vp, &c, &st) == S_OK);
    } else {
        WHV_MEMORY_ACCESS_CONTEXT c;
        memset(&c, 0, sizeof(c));
        c.InstructionByteCount = (UINT8)count;
        memcpy(c.InstructionBytes, bytes, sizeof(bytes));
        c.AccessInfo.AsUINT32 = fz_u32(&f);
        c.Gpa = fz_u64(&f);
        c.Gva = fz_u64(&f);
        FZ_CHECK(WHvEmulatorTryMmioEmulation(e, &w, &vp, &c, &st) == S_OK);
    }
    WHvEmulatorDestroyEmulator(e);

    FZ_CHECK(st.Reserved == 0);
    if (st.EmulationSuccessful) {
        FZ_CHECK((st.AsUINT32 & ~1u) == 0); /* success and a failure bit never come together */
        FZ_CHECK(w.calls[CB_SET] > 0);
    }
    if (w.flags_written)
        FZ_CHECK(((w.rflags ^ vp.Rflags) & ~ARITH_FLAGS) == 0);
    if (w.rip_written && !w.fault_written) {
        uint64_t len = (w.rip - vp.Rip) & mode_mask(&vp);
        FZ_CHECK(len >= 1 && len <= EMU_MAX_INSN_LEN);
        FZ_CHECK((w.rip & ~mode_mask(&vp)) == 0);
    }
    struct emu_insn in;
    if (st.EmulationSuccessful && !io && count && w.rip_written &&
        emu_decode(bytes, count > 16 ? 16 : count, mode_of(&vp), &in) == 0) {
        if (in.op == EMU_OP_MOV)
            check_mov(&w, before, &in);
        else if (in.op == EMU_OP_MOVZX || in.op == EMU_OP_MOVSX)
            check_mov(&w, before, &in);
        else if (in.op >= EMU_OP_ADD && in.op <= EMU_OP_TEST)
            check_alu(&w, before, &in, vp.Rflags);
    }
    if (w.fault_written) {
        FZ_CHECK(!w.rip_written || w.rip == vp.Rip);
        FZ_CHECK(!vp.ExecutionState.InterruptionPending);
        /* An instruction that does not repeat faults before its first access with an effect. */
        if (count && emu_decode(bytes, count > 16 ? 16 : count, mode_of(&vp), &in) == 0 &&
            in.rep == EMU_REP_NONE)
            FZ_CHECK(w.side_effects == 0);
    }
    return 0;
}
