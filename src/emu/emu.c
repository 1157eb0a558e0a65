/* The WinHvEmulation.h API: decodes the instruction behind an I/O-port or MMIO exit, performs its
 * accesses through the VMM's callbacks and writes back the registers it changed, RIP included.
 * A handle is immutable after creation and each call keeps its state on the stack, so the VPs of
 * a partition may share one. */
#include "api.h"
#include "emu/emu_alu.h"
#include "emu/emu_decode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EMU_PAGE_SIZE 4096u
#define EMU_PAGE_OFFSET(a) ((a) & (EMU_PAGE_SIZE - 1))
/* REP iterations done per call; RIP stays on the instruction and the guest re-executes it for the
 * rest, so a huge RCX cannot hold the VP thread (interrupts may arrive between iterations). */
#define EMU_REP_BATCH 4096

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };
enum { DIRTY_RIP = 1u << 16, DIRTY_RFLAGS = 1u << 17 }; /* bits 0-15: the GPRs */

struct emulator {
    WHV_EMULATOR_CALLBACKS cb;
};

/* A data access of up to 8 bytes, resolved to one or two guest-physical pieces (split at a page
 * boundary) before any access is made, so a page fault leaves no side effect behind. */
struct span {
    uint64_t gpa[2];
    unsigned n0, size; /* n0 bytes at gpa[0], the rest at gpa[1] */
};

struct tlb_entry {
    bool valid;
    uint32_t flags;
    uint64_t gva_page, gpa_page;
};

/* Everything one emulation call knows. */
struct call {
    const WHV_EMULATOR_CALLBACKS *cb;
    void *ctx;
    const WHV_VP_EXIT_CONTEXT *vp;
    WHV_EMULATOR_STATUS st; /* failure bits as they happen; EmulationSuccessful at the end */
    enum emu_mode mode;
    struct emu_insn in;
    uint64_t gpr[16], rip, rflags;
    WHV_X64_SEGMENT_REGISTER seg[6]; /* indexed by enum emu_seg */
    uint32_t dirty;
    bool has_gpa; /* MMIO exit: the GPA the exit reports */
    uint64_t gpa;
    bool incomplete; /* REP batch ended early: write registers but leave RIP */
    bool fault;      /* a guest #PF replaces completion */
    uint64_t fault_addr;
    uint32_t fault_code;
    struct tlb_entry tlb[2]; /* MOVS alternates between two pages */
    unsigned tlb_next;
};

static unsigned min_u(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

static uint64_t le_get(const uint8_t *b, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void le_put(uint8_t *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static enum emu_mode vp_mode(const WHV_VP_EXIT_CONTEXT *vp)
{
    if (vp->ExecutionState.EferLma && vp->Cs.Long)
        return EMU_MODE_64;
    return vp->Cs.Default ? EMU_MODE_32 : EMU_MODE_16;
}

/* In 64-bit mode only FS and GS have a base; elsewhere linear addresses wrap at 4 GiB. */
static uint64_t linear(const struct call *c, unsigned seg, uint64_t off)
{
    if (c->mode == EMU_MODE_64)
        return (seg == EMU_SEG_FS || seg == EMU_SEG_GS) ? c->seg[seg].Base + off : off;
    return (uint32_t)(c->seg[seg].Base + off);
}

static uint64_t linear_add(const struct call *c, uint64_t lin, uint64_t n)
{
    return c->mode == EMU_MODE_64 ? lin + n : (uint32_t)(lin + n);
}

/* The instruction does not complete; a #PF with this address and error code is injected. */
static int page_fault(struct call *c, uint64_t lin, uint32_t flags,
                      WHV_TRANSLATE_GVA_RESULT_CODE res)
{
    c->fault = true;
    c->fault_addr = lin;
    c->fault_code = (res != WHvTranslateGvaResultPageNotPresent ? 1u : 0u) |      /* P */
                    (flags & WHvTranslateGvaFlagValidateWrite ? 2u : 0u) |        /* W/R */
                    (c->vp->ExecutionState.Cpl == 3 ? 4u : 0u) |                  /* U/S */
                    (res == WHvTranslateGvaResultInvalidPageTableFlags ? 8u : 0u) | /* RSVD */
                    (flags & WHvTranslateGvaFlagValidateExecute ? 16u : 0u);      /* I/D */
    return -1;
}

static int translate(struct call *c, uint64_t lin, uint32_t flags, uint64_t *gpa)
{
    uint64_t page = lin - EMU_PAGE_OFFSET(lin), gpa_page = 0;
    WHV_TRANSLATE_GVA_RESULT_CODE res = WHvTranslateGvaResultSuccess;

    for (unsigned i = 0; i < 2; i++) {
        const struct tlb_entry *t = &c->tlb[i];
        if (t->valid && t->gva_page == page && t->flags == flags) {
            *gpa = t->gpa_page + EMU_PAGE_OFFSET(lin);
            return 0;
        }
    }
    HRESULT hr = c->cb->WHvEmulatorTranslateGvaPage(c->ctx, page, (WHV_TRANSLATE_GVA_FLAGS)flags,
                                                    &res, &gpa_page);
    if (!FAILED(hr) && res >= WHvTranslateGvaResultPageNotPresent &&
        res <= WHvTranslateGvaResultInvalidPageTableFlags)
        return page_fault(c, lin, flags, res);
    if (FAILED(hr) || res != WHvTranslateGvaResultSuccess) {
        c->st.TranslateGvaPageCallbackFailed = 1;
        return -1;
    }
    if (EMU_PAGE_OFFSET(gpa_page)) {
        c->st.TranslateGvaPageCallbackGpaIsNotAligned = 1;
        return -1;
    }
    c->tlb[c->tlb_next] = (struct tlb_entry){ true, flags, page, gpa_page };
    c->tlb_next ^= 1;
    *gpa = gpa_page + EMU_PAGE_OFFSET(lin);
    return 0;
}

/* One Memory callback: n <= 8 bytes inside one page. */
static int gpa_access(struct call *c, uint64_t gpa, uint8_t *buf, unsigned n, bool write)
{
    WHV_EMULATOR_MEMORY_ACCESS_INFO m = {
        .GpaAddress = gpa, .Direction = write, .AccessSize = (UINT8)n,
    };

    if (write)
        memcpy(m.Data, buf, n);
    if (FAILED(c->cb->WHvEmulatorMemoryCallback(c->ctx, &m))) {
        c->st.MemoryCallbackFailed = 1;
        return -1;
    }
    if (!write)
        memcpy(buf, m.Data, n);
    return 0;
}

/* exit_operand: this is the operand the MMIO exit reports; its GPA is used when the page offset
 * agrees and the access stays in one page, which saves the translation. */
static int resolve(struct call *c, uint64_t lin, unsigned size, uint32_t flags, bool exit_operand,
                   struct span *s)
{
    unsigned off = (unsigned)EMU_PAGE_OFFSET(lin);

    s->size = size;
    s->n0 = min_u(size, EMU_PAGE_SIZE - off);
    if (exit_operand && c->has_gpa && s->n0 == size && EMU_PAGE_OFFSET(c->gpa) == off) {
        s->gpa[0] = c->gpa;
        return 0;
    }
    if (translate(c, lin, flags, &s->gpa[0]))
        return -1;
    return s->n0 < size ? translate(c, linear_add(c, lin, s->n0), flags, &s->gpa[1]) : 0;
}

static int span_access(struct call *c, const struct span *s, uint64_t *v, bool write)
{
    uint8_t b[8];

    if (write)
        le_put(b, *v, s->size);
    if (gpa_access(c, s->gpa[0], b, s->n0, write) ||
        (s->n0 < s->size && gpa_access(c, s->gpa[1], b + s->n0, s->size - s->n0, write)))
        return -1;
    if (!write)
        *v = le_get(b, s->size);
    return 0;
}

static int port_access(struct call *c, uint16_t port, unsigned size, bool write, uint32_t *data)
{
    WHV_EMULATOR_IO_ACCESS_INFO io = {
        .Direction = write, .Port = port, .AccessSize = (UINT16)size, .Data = write ? *data : 0,
    };

    if (FAILED(c->cb->WHvEmulatorIoPortCallback(c->ctx, &io))) {
        c->st.IoPortCallbackFailed = 1;
        return -1;
    }
    if (!write)
        *data = io.Data & (uint32_t)emu_size_mask(size);
    return 0;
}

/* Decodes the exit's instruction bytes; when they are missing or too few, fetches CS:RIP one page
 * at a time, so an instruction that ends on this page never touches the next one. */
static int fetch_decode(struct call *c, const UINT8 *bytes, unsigned count)
{
    uint8_t buf[EMU_MAX_INSN_LEN];
    uint64_t lin = linear(c, EMU_SEG_CS, c->rip), gpa;
    unsigned have = 0;
    int r = -ENODATA;

    if (count)
        r = emu_decode(bytes, min_u(count, 16), c->mode, &c->in);
    while (r == -ENODATA && have < EMU_MAX_INSN_LEN) {
        uint64_t at = linear_add(c, lin, have);
        unsigned n = min_u(EMU_MAX_INSN_LEN - have, EMU_PAGE_SIZE - (unsigned)EMU_PAGE_OFFSET(at));
        if (translate(c, at, WHvTranslateGvaFlagValidateExecute, &gpa))
            return -1;
        for (unsigned done = 0, k; done < n; done += k) {
            k = min_u(n - done, 8);
            if (gpa_access(c, gpa + done, buf + have + done, k, false))
                return -1;
        }
        have += n;
        r = emu_decode(buf, have, c->mode, &c->in);
    }
    if (r) {
        c->st.InternalEmulationFailure = 1;
        return -1;
    }
    return 0;
}

static int load_regs(struct call *c)
{
    WHV_REGISTER_NAME names[21];
    WHV_REGISTER_VALUE vals[21];
    unsigned n = 0;

    for (unsigned i = 0; i < 16; i++)
        names[n++] = (WHV_REGISTER_NAME)(WHvX64RegisterRax + i);
    for (unsigned s = EMU_SEG_ES; s <= EMU_SEG_GS; s++)
        if (s != EMU_SEG_CS) /* CS comes with the exit context */
            names[n++] = (WHV_REGISTER_NAME)(WHvX64RegisterEs + s);
    memset(vals, 0, sizeof(vals));
    if (FAILED(c->cb->WHvEmulatorGetVirtualProcessorRegisters(c->ctx, names, n, vals))) {
        c->st.GetVirtualProcessorRegistersCallbackFailed = 1;
        return -1;
    }
    for (unsigned i = 0; i < 16; i++)
        c->gpr[i] = vals[i].Reg64;
    for (unsigned i = 16; i < n; i++)
        c->seg[names[i] - WHvX64RegisterEs] = vals[i].Segment;
    return 0;
}

static uint64_t reg_get(const struct call *c, unsigned reg, unsigned shift, unsigned size)
{
    return (c->gpr[reg] >> shift) & emu_size_mask(size);
}

/* Writes like the CPU: a 32-bit result zero-extends, 8- and 16-bit results merge. */
static void reg_set(struct call *c, unsigned reg, unsigned shift, unsigned size, uint64_t v)
{
    uint64_t mask = emu_size_mask(size) << shift;

    if (size == 4)
        c->gpr[reg] = (uint32_t)v;
    else
        c->gpr[reg] = (c->gpr[reg] & ~mask) | ((v << shift) & mask);
    c->dirty |= 1u << reg;
}

static void alu_flags(struct call *c, enum emu_op op, uint64_t d, uint64_t s, uint64_t *result)
{
    uint64_t r = emu_alu(op, d, s, c->in.size, &c->rflags);
    if (result)
        *result = r;
    c->dirty |= DIRTY_RFLAGS;
}

static uint64_t mem_offset(const struct call *c)
{
    const struct emu_mem *m = &c->in.mem;
    uint64_t a = (uint64_t)m->disp;

    if (m->base == EMU_REG_RIP)
        a += c->rip + c->in.len;
    else if (m->base != EMU_REG_NONE)
        a += c->gpr[m->base];
    if (m->index != EMU_REG_NONE)
        a += c->gpr[m->index] * m->scale;
    return a & emu_size_mask(c->in.addr_size);
}

/* Instructions with one ModRM or moffs memory operand. */
static int exec_mem(struct call *c)
{
    const struct emu_insn *in = &c->in;
    enum emu_op op = in->op;
    bool alu = op >= EMU_OP_ADD && op <= EMU_OP_CMP;
    bool reads = !(op == EMU_OP_MOV && in->mem_dst);
    bool writes = op == EMU_OP_XCHG ||
                  (in->mem_dst && (op == EMU_OP_MOV || (alu && op != EMU_OP_CMP)));
    uint32_t flags = (reads ? WHvTranslateGvaFlagValidateRead : 0) |
                     (writes ? WHvTranslateGvaFlagValidateWrite : 0);
    uint64_t m = 0, reg = reg_get(c, in->reg, in->reg_shift, in->size), r = 0;
    uint64_t src = in->has_imm ? in->imm : reg;
    struct span s;

    if (resolve(c, linear(c, in->mem.seg, mem_offset(c)), in->src_size, flags, true, &s) ||
        (reads && span_access(c, &s, &m, false)))
        return -1;
    switch (op) {
    case EMU_OP_MOV:
        if (in->mem_dst)
            m = src;
        else
            reg_set(c, in->reg, in->reg_shift, in->size, m);
        break;
    case EMU_OP_MOVZX:
        reg_set(c, in->reg, 0, in->size, m);
        break;
    case EMU_OP_MOVSX:
        reg_set(c, in->reg, 0, in->size, emu_sext(m, in->src_size));
        break;
    case EMU_OP_XCHG:
        reg_set(c, in->reg, in->reg_shift, in->size, m);
        m = reg;
        break;
    case EMU_OP_TEST:
        alu_flags(c, op, m, src, NULL);
        break;
    default: /* ADD .. CMP */
        if (in->mem_dst) {
            alu_flags(c, op, m, src, &m);
        } else {
            alu_flags(c, op, reg, m, &r);
            if (op != EMU_OP_CMP)
                reg_set(c, in->reg, in->reg_shift, in->size, r);
        }
        break;
    }
    return writes ? span_access(c, &s, &m, true) : 0;
}

static int exec_io(struct call *c)
{
    unsigned size = c->in.size;
    uint16_t port = c->in.has_imm ? (uint16_t)c->in.imm : (uint16_t)c->gpr[RDX];
    uint32_t data = (uint32_t)reg_get(c, RAX, 0, size);
    bool out = c->in.op == EMU_OP_OUT;

    if (port_access(c, port, size, out, &data))
        return -1;
    if (!out)
        reg_set(c, RAX, 0, size, data);
    return 0;
}

/* One iteration of a string instruction: source seg:RSI (DS or override), destination ES:RDI. */
static int string_step(struct call *c)
{
    const struct emu_insn *in = &c->in;
    enum emu_op op = in->op;
    unsigned size = in->size, asz = in->addr_size;
    uint64_t si = c->gpr[RSI] & emu_size_mask(asz), di = c->gpr[RDI] & emu_size_mask(asz);
    bool use_si = op == EMU_OP_MOVS || op == EMU_OP_CMPS || op == EMU_OP_LODS || op == EMU_OP_OUTS;
    bool use_di = op != EMU_OP_LODS && op != EMU_OP_OUTS;
    bool di_write = op == EMU_OP_MOVS || op == EMU_OP_STOS || op == EMU_OP_INS;
    uint32_t di_flags = di_write ? WHvTranslateGvaFlagValidateWrite
                                 : WHvTranslateGvaFlagValidateRead;
    uint64_t a = 0, b = 0;
    uint32_t data = 0;
    struct span src, dst;

    if ((use_si && resolve(c, linear(c, in->mem.seg, si), size, WHvTranslateGvaFlagValidateRead,
                           false, &src)) ||
        (use_di && resolve(c, linear(c, EMU_SEG_ES, di), size, di_flags, false, &dst)))
        return -1;
    if (use_si && span_access(c, &src, &a, false))
        return -1;
    switch (op) {
    case EMU_OP_MOVS:
        if (span_access(c, &dst, &a, true))
            return -1;
        break;
    case EMU_OP_CMPS:
        if (span_access(c, &dst, &b, false))
            return -1;
        alu_flags(c, EMU_OP_CMP, a, b, NULL);
        break;
    case EMU_OP_SCAS:
        if (span_access(c, &dst, &b, false))
            return -1;
        alu_flags(c, EMU_OP_CMP, reg_get(c, RAX, 0, size), b, NULL);
        break;
    case EMU_OP_STOS:
        a = reg_get(c, RAX, 0, size);
        if (span_access(c, &dst, &a, true))
            return -1;
        break;
    case EMU_OP_LODS:
        reg_set(c, RAX, 0, size, a);
        break;
    case EMU_OP_INS:
        if (port_access(c, (uint16_t)c->gpr[RDX], size, false, &data))
            return -1;
        a = data;
        if (span_access(c, &dst, &a, true))
            return -1;
        break;
    default: /* OUTS */
        data = (uint32_t)a;
        if (port_access(c, (uint16_t)c->gpr[RDX], size, true, &data))
            return -1;
        break;
    }
    uint64_t step = (c->rflags & EMU_RFLAGS_DF) ? (uint64_t)0 - size : size;
    if (use_si)
        reg_set(c, RSI, 0, asz, si + step);
    if (use_di)
        reg_set(c, RDI, 0, asz, di + step);
    return 0;
}

static int exec_string(struct call *c)
{
    const struct emu_insn *in = &c->in;
    uint64_t count;

    if (in->rep == EMU_REP_NONE)
        return string_step(c);
    count = c->gpr[RCX] & emu_size_mask(in->addr_size);
    for (unsigned n = 0; count; n++) {
        if (n == EMU_REP_BATCH) {
            c->incomplete = true;
            return 0;
        }
        if (string_step(c))
            return -1;
        reg_set(c, RCX, 0, in->addr_size, --count);
        bool zf = c->rflags & EMU_RFLAGS_ZF;
        if ((in->op == EMU_OP_CMPS || in->op == EMU_OP_SCAS) && (in->rep == EMU_REP_E ? !zf : zf))
            break;
    }
    return 0;
}

static int execute(struct call *c)
{
    switch (c->in.op) {
    case EMU_OP_IN:
    case EMU_OP_OUT:
        return exec_io(c);
    case EMU_OP_MOVS:
    case EMU_OP_CMPS:
    case EMU_OP_STOS:
    case EMU_OP_LODS:
    case EMU_OP_SCAS:
    case EMU_OP_INS:
    case EMU_OP_OUTS:
        return exec_string(c);
    default:
        return exec_mem(c);
    }
}

static uint64_t next_rip(const struct call *c)
{
    uint64_t rip = c->rip + c->in.len;

    if (c->mode == EMU_MODE_64)
        return rip;
    return c->mode == EMU_MODE_32 ? (uint32_t)rip : (uint16_t)rip;
}

/* Writes back what changed (or what a fault needs) and sets EmulationSuccessful. r != 0 without a
 * fault means a failure bit is already set, and the guest state stays untouched. */
static void finish(struct call *c, int r)
{
    WHV_REGISTER_NAME names[20];
    WHV_REGISTER_VALUE vals[20];
    unsigned n = 0;

    if (r && !c->fault)
        return;
    if (c->fault && c->vp->ExecutionState.InterruptionPending) {
        c->st.GuestCannotBeFaulted = 1; /* an event is already being delivered */
        return;
    }
    memset(vals, 0, sizeof(vals));
    if (!c->fault && !c->incomplete) {
        c->rip = next_rip(c);
        c->dirty |= DIRTY_RIP;
    }
    for (unsigned i = 0; i < 16; i++) {
        if (c->dirty & (1u << i)) {
            names[n] = (WHV_REGISTER_NAME)(WHvX64RegisterRax + i);
            vals[n++].Reg64 = c->gpr[i];
        }
    }
    if (c->dirty & DIRTY_RIP) {
        names[n] = WHvX64RegisterRip;
        vals[n++].Reg64 = c->rip;
    }
    if (c->dirty & DIRTY_RFLAGS) {
        names[n] = WHvX64RegisterRflags;
        vals[n++].Reg64 = c->rflags;
    }
    if (c->fault) {
        names[n] = WHvX64RegisterCr2;
        vals[n++].Reg64 = c->fault_addr;
        names[n] = WHvRegisterPendingInterruption;
        vals[n].PendingInterruption.InterruptionPending = 1;
        vals[n].PendingInterruption.InterruptionType = WHvX64PendingException;
        vals[n].PendingInterruption.DeliverErrorCode = 1;
        vals[n].PendingInterruption.InterruptionVector = 14;
        vals[n++].PendingInterruption.ErrorCode = c->fault_code;
    }
    if (FAILED(c->cb->WHvEmulatorSetVirtualProcessorRegisters(c->ctx, names, n, vals))) {
        c->st.SetVirtualProcessorRegistersCallbackFailed = 1;
        return;
    }
    c->st.EmulationSuccessful = 1;
}

static void call_init(struct call *c, WHV_EMULATOR_HANDLE emulator, void *ctx,
                      const WHV_VP_EXIT_CONTEXT *vp)
{
    memset(c, 0, sizeof(*c));
    c->cb = &((const struct emulator *)emulator)->cb;
    c->ctx = ctx;
    c->vp = vp;
    c->mode = vp_mode(vp);
    c->rip = vp->Rip;
    c->rflags = vp->Rflags;
    c->seg[EMU_SEG_CS] = vp->Cs;
}

static bool is_port_io(enum emu_op op)
{
    return op == EMU_OP_IN || op == EMU_OP_OUT || op == EMU_OP_INS || op == EMU_OP_OUTS;
}

static void emulate(struct call *c, const UINT8 *bytes, unsigned count, bool io_exit)
{
    int r = fetch_decode(c, bytes, count);

    if (!r && is_port_io(c->in.op) != io_exit) { /* not the kind of instruction that exited */
        c->st.InternalEmulationFailure = 1;
        r = -1;
    }
    if (!r)
        r = load_regs(c);
    if (!r)
        r = execute(c);
    finish(c, r);
}

/* Plain IN/OUT with a known length: the exit context already has port, size, direction and RAX. */
static void io_fast(struct call *c, const WHV_X64_IO_PORT_ACCESS_CONTEXT *io)
{
    unsigned size = io->AccessInfo.AccessSize;
    uint32_t data = (uint32_t)(io->Rax & emu_size_mask(size));

    if (size != 1 && size != 2 && size != 4) {
        c->st.InternalEmulationFailure = 1;
        return;
    }
    if (port_access(c, io->PortNumber, size, io->AccessInfo.IsWrite, &data))
        return;
    c->in.len = c->vp->InstructionLength;
    c->gpr[RAX] = io->Rax;
    if (!io->AccessInfo.IsWrite)
        reg_set(c, RAX, 0, size, data);
    finish(c, 0);
}

HRESULT WINAPI WHvEmulatorCreateEmulator(const WHV_EMULATOR_CALLBACKS *Callbacks,
                                         WHV_EMULATOR_HANDLE *Emulator)
{
    struct emulator *e;

    if (!Emulator)
        return E_INVALIDARG;
    *Emulator = NULL;
    if (!Callbacks || Callbacks->Size != sizeof(*Callbacks) ||
        !Callbacks->WHvEmulatorIoPortCallback || !Callbacks->WHvEmulatorMemoryCallback ||
        !Callbacks->WHvEmulatorGetVirtualProcessorRegisters ||
        !Callbacks->WHvEmulatorSetVirtualProcessorRegisters ||
        !Callbacks->WHvEmulatorTranslateGvaPage)
        return E_INVALIDARG;
    e = malloc(sizeof(*e));
    if (!e)
        return E_OUTOFMEMORY;
    e->cb = *Callbacks;
    *Emulator = e;
    return S_OK;
}

HRESULT WINAPI WHvEmulatorDestroyEmulator(WHV_EMULATOR_HANDLE Emulator)
{
    if (!Emulator)
        return E_INVALIDARG;
    free(Emulator);
    return S_OK;
}

HRESULT WINAPI WHvEmulatorTryIoEmulation(WHV_EMULATOR_HANDLE Emulator, VOID *Context,
                                         const WHV_VP_EXIT_CONTEXT *VpContext,
                                         const WHV_X64_IO_PORT_ACCESS_CONTEXT *IoInstructionContext,
                                         WHV_EMULATOR_STATUS *EmulatorReturnStatus)
{
    struct call c;

    if (!Emulator || !VpContext || !IoInstructionContext || !EmulatorReturnStatus)
        return E_INVALIDARG;
    call_init(&c, Emulator, Context, VpContext);
    if (!IoInstructionContext->AccessInfo.StringOp && VpContext->InstructionLength)
        io_fast(&c, IoInstructionContext);
    else
        emulate(&c, IoInstructionContext->InstructionBytes,
                IoInstructionContext->InstructionByteCount, true);
    *EmulatorReturnStatus = c.st;
    return S_OK;
}

HRESULT WINAPI WHvEmulatorTryMmioEmulation(WHV_EMULATOR_HANDLE Emulator, VOID *Context,
                                           const WHV_VP_EXIT_CONTEXT *VpContext,
                                           const WHV_MEMORY_ACCESS_CONTEXT *MmioInstructionContext,
                                           WHV_EMULATOR_STATUS *EmulatorReturnStatus)
{
    struct call c;

    if (!Emulator || !VpContext || !MmioInstructionContext || !EmulatorReturnStatus)
        return E_INVALIDARG;
    call_init(&c, Emulator, Context, VpContext);
    c.has_gpa = true;
    c.gpa = MmioInstructionContext->Gpa;
    emulate(&c, MmioInstructionContext->InstructionBytes,
            MmioInstructionContext->InstructionByteCount, false);
    *EmulatorReturnStatus = c.st;
    return S_OK;
}
