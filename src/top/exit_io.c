/* The two completion models reconciled, for the exits whose instruction the VMM retires:
 * port I/O and MMIO (and the immediate-exit run MSR exits use).
 *
 * WHP: after an I/O or MMIO exit the VMM performs the access itself and moves RIP past the
 * instruction before running again. KVM: depending on the path the access took, the instruction
 * is either already retired when user space sees the exit (the emulator commits OUT, OUTS and
 * MMIO writes) or finished by the next KVM_RUN (IN, INS, MMIO reads, MSRs, fast-path OUT).
 * We always present the WHP view (RIP at the instruction, registers as before it) and make KVM
 * agree at the next run, without extra ioctls on the hot IN/OUT paths. */
#include "top/exit_io.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu_decode.h"
#include "obj/gva.h"

#define EXIT_DRAIN_LIMIT 64 /* KVM_RUNs to finish one instruction's pending fragments */

int exit_vp_init(struct whp_vp *vp)
{
    vp->exit = calloc(1, sizeof(*vp->exit));
    return vp->exit ? 0 : -ENOMEM;
}

void exit_vp_fini(struct whp_vp *vp)
{
    if (vp->exit)
        exit_cpuid_fini(&vp->exit->cpuid);
    free(vp->exit);
    vp->exit = NULL;
}

void exit_vp_reset(struct whp_vp *vp)
{
    vp->exit->pending = EXIT_PENDING_NONE;
    vp->exit->kvm_regs_valid = false;
    exit_cpuid_reset(&vp->exit->cpuid);
}

static enum emu_mode cpu_mode(const struct kvm_sregs *s)
{
    return emu_mode_of(s->cr0 & CR0_PE, s->efer & EFER_LMA, s->cs.l, s->cs.db);
}

/* Runs KVM just far enough to finish what it owes for the current exit (immediate_exit makes
 * KVM_RUN return before entering the guest). Further I/O fragments are answered with zeros;
 * *mmio_written (optional) gets the bytes of the further MMIO store fragments. */
static int complete_now_counting(struct whp_vp *vp, unsigned *mmio_written)
{
    struct kvm_run *run = vp->run;
    int r;
    unsigned kicks = vcpu_kick_seq();
    run->immediate_exit = 1;
    for (int i = 0; i < EXIT_DRAIN_LIMIT; i++) {
        r = kvm_run(vp->fd);
        if (r == -EINTR) {
            r = 0;
            break;
        }
        if (r < 0)
            break;
        if (mmio_written && run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write)
            *mmio_written += run->mmio.len;
        if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write)
            memset(run->mmio.data, 0, sizeof(run->mmio.data));
        else if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_IN)
            memset((uint8_t *)run + run->io.data_offset, 0, (size_t)run->io.size * run->io.count);
        else if (run->exit_reason != KVM_EXIT_MMIO && run->exit_reason != KVM_EXIT_IO) {
            r = -EIO;
            break;
        }
    }
    vcpu_end_immediate_exit(vp, kicks);
    return r;
}

int exit_complete_now(struct whp_vp *vp)
{
    return complete_now_counting(vp, NULL);
}

/* Brings KVM to the state the VMM left in the register cache before a KVM_RUN. */
int exit_prepare_run(struct whp_vp *vp)
{
    struct kvm_run *run = vp->run;
    struct kvm_regs *regs = &run->s.regs.regs;
    enum exit_pending pending = vp->exit->pending;
    vp->exit->pending = EXIT_PENDING_NONE;

    /* The usual end of a committed OUT: the VMM moved RIP back to where KVM already is.
     * Writing registers KVM already holds costs a full register load in the kernel. */
    if (pending == EXIT_PENDING_NONE && vp->exit->kvm_regs_valid &&
        (run->kvm_dirty_regs & KVM_SYNC_X86_REGS) && !memcmp(regs, &vp->exit->kvm_regs, sizeof(*regs)))
        run->kvm_dirty_regs &= ~(uint64_t)KVM_SYNC_X86_REGS;
    vp->exit->kvm_regs_valid = false;

    if ((pending == EXIT_PENDING_PIO_IN || pending == EXIT_PENDING_PIO_OUT) &&
        regs->rip == vp->exit->pending_rip) {
        /* The VMM retired the instruction as WHP expects. KVM's fast path sees RIP moved and
         * drops its completion; its emulator path finishes the IN with the data we hand it,
         * which is what the VMM put in RAX, and lands on the same RIP. */
        if (pending == EXIT_PENDING_PIO_IN)
            memcpy((uint8_t *)run + run->io.data_offset, &regs->rax, vp->exit->pending_size);
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        return 0;
    }
    if (pending == EXIT_PENDING_PIO_IN || pending == EXIT_PENDING_PIO_OUT) {
        /* Anything else (re-execute, inject, jump): let KVM finish, then restore the VMM's view. */
        struct kvm_sync_regs want = run->s.regs;
        uint64_t dirty = run->kvm_dirty_regs;
        run->kvm_dirty_regs = 0;
        int r = exit_complete_now(vp);
        run->s.regs = want;
        run->kvm_dirty_regs = dirty | KVM_SYNC_X86_REGS;
        return r;
    }
    if (pending == EXIT_PENDING_RESTORE && !(run->kvm_dirty_regs & KVM_SYNC_X86_REGS)) {
        run->s.regs.regs = vp->exit->saved;
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    }
    return 0;
}

/* ---- instruction bytes ---- */

/* The up to 15 bytes that end at `end`, read once for the backward searches: *bytes points at
 * the first of the returned count, and bytes[count] is `end`. */
static size_t fetch_before(struct whp_vp *vp, uint64_t end, uint8_t buf[EMU_MAX_INSN_LEN],
                           const uint8_t **bytes)
{
    size_t n = end < EMU_MAX_INSN_LEN ? (size_t)end : EMU_MAX_INSN_LEN;
    if (vp_fetch(vp, end - n, buf, n) != n) {
        /* The previous page may be unmapped: keep what lies on end's own page. */
        size_t same_page = ((end - 1) & (X86_PAGE_SIZE - 1)) + 1;
        n = n < same_page ? n : same_page;
        if (vp_fetch(vp, end - n, buf + EMU_MAX_INSN_LEN - n, n) != n)
            n = 0;
        *bytes = buf + EMU_MAX_INSN_LEN - n;
        return n;
    }
    *bytes = buf;
    return n;
}

/* Port I/O instructions are few and simple: matching them here costs a few dozen instructions,
 * where the general decoder costs a thousand, and the hot exit path decodes up to three times. */
struct io_insn {
    uint8_t len, size, addr_size;
    bool out, string, rep, has_imm;
    uint8_t imm;
};

static bool io_decode(const uint8_t *b, size_t n, enum emu_mode mode, struct io_insn *io)
{
    bool opsize = false, addrsize = false, rep = false;
    size_t i = 0;
    for (; i < n && i < EMU_MAX_INSN_LEN; i++) {
        uint8_t c = b[i];
        if (c == 0x66)
            opsize = true;
        else if (c == 0x67)
            addrsize = true;
        else if (c == 0xf2 || c == 0xf3)
            rep = true;
        else if (c == 0xf0 || c == 0x26 || c == 0x2e || c == 0x36 || c == 0x3e || c == 0x64 ||
                 c == 0x65)
            ;
        else if (mode == EMU_MODE_64 && (c & 0xf0) == 0x40 && i + 1 < n && (b[i + 1] & 0xf0) != 0x40)
            ; /* REX, only directly before the opcode; it does not widen I/O */
        else
            break;
    }
    if (i >= n)
        return false;
    uint8_t op = b[i];
    bool narrow = !(op & 1);
    unsigned wide = (mode == EMU_MODE_16) != opsize ? 2 : 4;
    *io = (struct io_insn){
        .size = narrow ? 1 : wide,
        .addr_size = mode == EMU_MODE_64 ? (addrsize ? 4 : 8) : (mode == EMU_MODE_32) != addrsize ? 4 : 2,
        .rep = rep,
    };
    if (op >= 0xe4 && op <= 0xe7) {
        if (i + 1 >= n)
            return false;
        io->has_imm = true;
        io->imm = b[i + 1];
        io->out = op >= 0xe6;
        io->len = (uint8_t)(i + 2);
    } else if (op >= 0xec && op <= 0xef) {
        io->out = op >= 0xee;
        io->len = (uint8_t)(i + 1);
    } else if (op >= 0x6c && op <= 0x6f) {
        io->string = true;
        io->out = op >= 0x6e;
        io->len = (uint8_t)(i + 1);
    } else {
        return false;
    }
    return true;
}

static bool is_io(const struct io_insn *in, bool out, bool string, unsigned size, uint16_t port,
                  uint64_t rdx)
{
    if (in->out != out || in->string != string || in->size != size)
        return false;
    return string || (in->has_imm ? in->imm == port : (uint16_t)rdx == port);
}

/* Guest code around RIP, read once per exit: up to 15 bytes before it and 16 from it. */
struct code_window {
    uint8_t buf[EMU_MAX_INSN_LEN + 16];
    size_t before, after; /* valid bytes: buf[15 - before, 15 + after) */
    uint64_t rip;         /* the address of buf[15] */
};

static void window_fetch(struct whp_vp *vp, uint64_t rip, struct code_window *w)
{
    uint8_t tmp[EMU_MAX_INSN_LEN];
    const uint8_t *b;
    w->rip = rip;
    /* Usually one read covers it all; near an unmapped page, read the two halves apart. */
    if (rip >= EMU_MAX_INSN_LEN && vp_fetch(vp, rip - EMU_MAX_INSN_LEN, w->buf, sizeof(w->buf)) ==
                                       sizeof(w->buf)) {
        w->before = EMU_MAX_INSN_LEN;
        w->after = 16;
        return;
    }
    w->before = fetch_before(vp, rip, tmp, &b);
    memcpy(w->buf + EMU_MAX_INSN_LEN - w->before, b, w->before);
    w->after = vp_fetch(vp, rip, w->buf + EMU_MAX_INSN_LEN, 16);
}

/* The window's bytes from addr on (addr within it), and how many there are. */
static const uint8_t *window_at(const struct code_window *w, uint64_t addr, size_t *n)
{
    size_t off = EMU_MAX_INSN_LEN - (size_t)(w->rip - addr);
    *n = EMU_MAX_INSN_LEN + w->after - off;
    return w->buf + off;
}

/* Can an I/O instruction start with this byte (a prefix, REX or an I/O opcode)? */
static bool io_first_byte(uint8_t c, enum emu_mode mode)
{
    switch (c) {
    case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
    case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
    case 0x6c: case 0x6d: case 0x6e: case 0x6f:
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
    case 0xec: case 0xed: case 0xee: case 0xef:
        return true;
    default:
        return mode == EMU_MODE_64 && (c & 0xf0) == 0x40;
    }
}

/* Finds an I/O instruction of this direction, size and port that ends exactly at the window's
 * RIP: its start, or 0 when there is none. The shortest such decode wins; only starts whose
 * first byte can begin an I/O instruction are decoded (this runs on every OUT exit). */
static uint64_t find_io_before(const struct code_window *w, enum emu_mode mode, bool out,
                               unsigned size, uint16_t port, uint64_t rdx, struct io_insn *in)
{
    for (size_t n = 1; n <= w->before; n++) {
        const uint8_t *start = w->buf + EMU_MAX_INSN_LEN - n;
        if (io_first_byte(*start, mode) && io_decode(start, n, mode, in) && in->len == n &&
            is_io(in, out, in->string, size, port, rdx))
            return w->rip - n;
    }
    return 0;
}

static void fill_bytes(struct whp_vp *vp, uint64_t rip, UINT8 *count, UINT8 bytes[16])
{
    *count = (UINT8)vp_fetch(vp, rip, bytes, 16);
}

/* ---- port I/O ---- */

static uint64_t mask_of(unsigned bytes)
{
    return bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;
}

HRESULT exit_io(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    struct kvm_run *run = vp->run;
    struct kvm_regs *regs = &run->s.regs.regs;
    bool out = run->io.direction == KVM_EXIT_IO_OUT;
    unsigned size = run->io.size;
    uint16_t port = run->io.port;
    enum emu_mode mode = cpu_mode(&run->s.regs.sregs);
    struct code_window w;
    window_fetch(vp, regs->rip, &w);
    struct io_insn at, bk;
    size_t n;
    const uint8_t *code = window_at(&w, regs->rip, &n);
    bool fwd = io_decode(code, n, mode, &at) && is_io(&at, out, at.string, size, port, regs->rdx);
    /* Only OUT and OUTS can already be retired (by KVM's emulator) when we see the exit. */
    uint64_t back = out ? find_io_before(&w, mode, out, size, port, regs->rdx, &bk) : 0;
    bool string = fwd ? at.string : back ? bk.string : run->io.count > 1;
    uint64_t start = regs->rip, len = fwd ? at.len : 0;

    if (string && out) {
        /* OUTS is committed one batch at a time (RSI, RCX and, when done, RIP already moved).
         * Present the state before the batch so the VMM's emulator replays it. */
        bool mid_rep = fwd && at.string && at.rep && (regs->rcx & mask_of(at.addr_size)) != 0;
        if (!mid_rep && back && bk.string) {
            start = back;
            len = bk.len;
            at = bk;
            fwd = true;
        }
        uint64_t amask = mask_of(fwd ? at.addr_size : 8);
        uint64_t bytes = (uint64_t)run->io.count * size;
        bool down = regs->rflags & RFLAGS_DF;
        regs->rsi = (regs->rsi & ~amask) | ((regs->rsi + (down ? bytes : -bytes)) & amask);
        if (fwd && at.rep)
            regs->rcx = (regs->rcx & ~amask) | ((regs->rcx + run->io.count) & amask);
        regs->rip = start;
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    } else if (string) {
        /* INS still owes its data: finish it now with zeros (the VMM then writes the real data
         * over them) and restore the registers at the next run. */
        vp->exit->saved = *regs;
        int r = exit_complete_now(vp);
        if (r < 0)
            return hr_from_errno(r);
        vp->exit->pending = EXIT_PENDING_RESTORE;
        run->s.regs.regs = vp->exit->saved;
    } else if (!out) {
        vp->exit->pending = EXIT_PENDING_PIO_IN;
        vp->exit->pending_size = (uint8_t)size;
    } else {
        bool after;
        if (fwd != (back != 0)) {
            after = back != 0;
        } else {
            /* Ambiguous (say, two identical OUTs in a row): ask KVM whether it still owes
             * the instruction. */
            struct kvm_regs before = *regs;
            int r = exit_complete_now(vp);
            if (r < 0)
                return hr_from_errno(r);
            after = run->s.regs.regs.rip == before.rip;
            if (!after)
                len = run->s.regs.regs.rip - before.rip;
            run->s.regs.regs = before;
            run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        }
        if (after) {
            len = back ? bk.len : 0;
            start = regs->rip - len;
            if (!(run->kvm_dirty_regs & KVM_SYNC_X86_REGS)) {
                vp->exit->kvm_regs = *regs; /* what KVM holds: the instruction is retired */
                vp->exit->kvm_regs_valid = true;
            }
            regs->rip = start;
            run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        } else if (vp->exit->pending == EXIT_PENDING_NONE && !(run->kvm_dirty_regs & KVM_SYNC_X86_REGS)) {
            vp->exit->pending = EXIT_PENDING_PIO_OUT;
        }
    }
    vp->exit->pending_rip = start + len;

    exit_fill_context(vp, ctx);
    ctx->ExitReason = WHvRunVpExitReasonX64IoPortAccess;
    ctx->VpContext.InstructionLength = (UINT8)len;
    WHV_X64_IO_PORT_ACCESS_CONTEXT *io = &ctx->IoPortAccess;
    const uint8_t *bytes = window_at(&w, start, &n);
    n = len && n > len ? len : n > 16 ? 16 : n;
    memcpy(io->InstructionBytes, bytes, n);
    io->InstructionByteCount = (UINT8)n;
    io->AccessInfo.IsWrite = out;
    io->AccessInfo.AccessSize = size;
    io->AccessInfo.StringOp = string;
    io->AccessInfo.RepPrefix = string && fwd && at.rep;
    io->PortNumber = port;
    io->Rax = regs->rax;
    io->Rcx = regs->rcx;
    io->Rsi = regs->rsi;
    io->Rdi = regs->rdi;
    exit_seg_to_whp(&run->s.regs.sregs.ds, &io->Ds);
    exit_seg_to_whp(&run->s.regs.sregs.es, &io->Es);
    return S_OK;
}

/* ---- MMIO ---- */

/* kvm_regs order is rax rbx rcx rdx rsi rdi rsp rbp r8..r15; x86 numbers rax rcx rdx rbx ... */
static uint64_t gpr_value(const struct kvm_regs *r, unsigned x86_reg)
{
    static const uint8_t kvm_order[16] = {0, 2, 3, 1, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15};
    return ((const uint64_t *)&r->rax)[kvm_order[x86_reg & 15]];
}

/* Whether a decoded store's memory operand, `offset` bytes in, is guest physical address `gpa`
 * (next_rip: the address after the instruction, for RIP-relative operands). String stores name
 * no operand to check and pass. */
static bool store_hits(struct whp_vp *vp, const struct emu_insn *in, uint64_t next_rip,
                       unsigned offset, uint64_t gpa)
{
    if (in->op == EMU_OP_MOVS || in->op == EMU_OP_STOS)
        return true;
    const struct kvm_regs *r = &vp->run->s.regs.regs;
    const struct kvm_sregs *sr = &vp->run->s.regs.sregs;
    const struct emu_mem *m = &in->mem;
    uint64_t ea = (uint64_t)m->disp;
    if (m->base == EMU_REG_RIP)
        ea += next_rip;
    else if (m->base != EMU_REG_NONE)
        ea += gpr_value(r, (unsigned)m->base);
    if (m->index != EMU_REG_NONE)
        ea += gpr_value(r, (unsigned)m->index) * m->scale;
    ea &= mask_of(in->addr_size);
    static const size_t seg_of[] = {offsetof(struct kvm_sregs, es), offsetof(struct kvm_sregs, cs),
                                    offsetof(struct kvm_sregs, ss), offsetof(struct kvm_sregs, ds),
                                    offsetof(struct kvm_sregs, fs), offsetof(struct kvm_sregs, gs)};
    if (m->seg < 6 && (cpu_mode(sr) != EMU_MODE_64 || m->seg >= EMU_SEG_FS))
        ea += ((const struct kvm_segment *)((const uint8_t *)sr + seg_of[m->seg]))->base;
    if (cpu_mode(sr) != EMU_MODE_64)
        ea &= 0xffffffffull;
    uint64_t hit;
    return vp_translate(vp, ea + offset, &hit) && hit == gpa;
}

/* A store of `size` bytes that ends at `end`, whose first (`head`) or last `len` bytes are at
 * `gpa` and (where the source is a register or an immediate) were `data`: the shortest such
 * decode, or 0. size == len for a whole store; size > len for a fragment of one that crosses a
 * page. The operand's address is checked because a shorter decode without a prefix (REX.B, 0x66)
 * can be another store of the same size. */
static uint64_t find_store_before(struct whp_vp *vp, uint64_t end, uint64_t gpa, unsigned len,
                                  uint64_t data, unsigned size, bool head)
{
    const struct kvm_regs *r = &vp->run->s.regs.regs;
    enum emu_mode mode = cpu_mode(&vp->run->s.regs.sregs);
    uint8_t buf[EMU_MAX_INSN_LEN];
    const uint8_t *b;
    size_t avail = fetch_before(vp, end, buf, &b);
    for (size_t n = 1; n <= avail; n++) {
        struct emu_insn in;
        if (emu_decode(b + avail - n, n, mode, &in) != 0 || in.len != n)
            continue;
        if (!in.has_mem || !in.mem_dst || in.size != size || in.op == EMU_OP_CMP ||
            in.op == EMU_OP_TEST)
            continue;
        if (in.op == EMU_OP_MOV) {
            uint64_t v = in.has_imm ? in.imm : gpr_value(r, in.reg) >> in.reg_shift;
            if (!head)
                v >>= 8 * (size - len);
            if ((v & mask_of(len)) != (data & mask_of(len)))
                continue;
        }
        if (!store_hits(vp, &in, end, head ? 0 : size - len, gpa))
            continue;
        return end - n;
    }
    return 0;
}

/* The start of the store whose MMIO part KVM reports, 0 if not found. A store that crosses a
 * page boundary reaches KVM's exits in fragments (KVM writes a part in RAM itself, each MMIO part
 * exits on its own, in address order): the VMM emulates the whole store from the first exit
 * (WHP: one exit per instruction), so a fragment that ends at a page boundary has KVM's further
 * fragments drained here (one immediate-exit KVM_RUN), and their sizes give the store's size
 * exactly; a decode of the fragment's own size could be the store without a size prefix. A
 * fragment that starts at a page boundary after RAM is the store's last. */
static uint64_t find_store(struct whp_vp *vp, uint64_t gpa, unsigned len, uint64_t data, int *err)
{
    uint64_t end = vp->run->s.regs.regs.rip, back = 0;
    bool head = ((gpa + len) & (X86_PAGE_SIZE - 1)) == 0, tail = (gpa & (X86_PAGE_SIZE - 1)) == 0;
    unsigned more = 0;
    if (head) {
        *err = complete_now_counting(vp, &more);
        if (*err < 0)
            return 0;
    }
    if (!more)
        back = find_store_before(vp, end, gpa, len, data, len, true);
    for (unsigned size = len + (more ? more : 1); !back && (head || tail) && size <= 8; size++)
        back = find_store_before(vp, end, gpa, len, data, size, head);
    return back;
}

HRESULT exit_mmio(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    struct kvm_run *run = vp->run;
    struct kvm_regs *regs = &run->s.regs.regs;
    uint64_t start = regs->rip, len = 0;
    bool write = run->mmio.is_write;
    uint64_t gpa = run->mmio.phys_addr;

    if (write) {
        /* KVM's emulator retired the store before exiting: find where it started. */
        uint64_t data = 0;
        int err = 0;
        memcpy(&data, run->mmio.data, run->mmio.len > 8 ? 8 : run->mmio.len);
        uint64_t back = find_store(vp, gpa, run->mmio.len, data, &err);
        if (err < 0)
            return hr_from_errno(err);
        if (back) {
            start = back;
            len = regs->rip - back;
            regs->rip = start;
            run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        }
    } else {
        /* The load is still owed: finish it with dummy data now, so nothing KVM writes later
         * can overwrite the VMM's emulation, and restore the registers at the next run. */
        vp->exit->saved = *regs;
        int r = exit_complete_now(vp);
        if (r < 0)
            return hr_from_errno(r);
        if (run->s.regs.regs.rip != vp->exit->saved.rip)
            len = run->s.regs.regs.rip - vp->exit->saved.rip;
        run->s.regs.regs = vp->exit->saved;
        vp->exit->pending = EXIT_PENDING_RESTORE;
    }
    exit_fill_context(vp, ctx);
    ctx->ExitReason = WHvRunVpExitReasonMemoryAccess;
    ctx->VpContext.InstructionLength = (UINT8)len;
    WHV_MEMORY_ACCESS_CONTEXT *m = &ctx->MemoryAccess;
    fill_bytes(vp, start, &m->InstructionByteCount, m->InstructionBytes);
    m->AccessInfo.AccessType = write ? WHvMemoryAccessWrite : WHvMemoryAccessRead;
    m->AccessInfo.GpaUnmapped = mem_flags(&vp->part->mem, gpa) == 0;
    m->AccessInfo.GvaValid = 0;
    m->Gpa = gpa;
    return S_OK;
}

