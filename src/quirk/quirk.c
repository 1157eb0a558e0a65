/* Host quirks: INT3 and same-privilege IRET, performed here when KVM's instruction emulator
 * fails on them (see quirk.h for when that happens and how to turn it off). Each is the
 * architectural effect, from the register cache and guest memory; anything this module does not
 * recognise stays the VMM's UnsupportedFeature exit. */
#include "quirk/quirk.h"

#include <stdlib.h>
#include <string.h>

#include "emu/emu_decode.h"
#include "obj/gva.h"

#define PREFIX_OPSIZE 0x66
#define REX_MASK 0xf0
#define REX 0x40
#define REX_W_MASK 0xf8
#define REX_W 0x48
#define IRET_SLOTS_LEGACY 3 /* EIP, CS, EFLAGS */
#define IRET_SLOTS_64 5     /* RIP, CS, RFLAGS, RSP, SS: a 64-bit IRET always pops SS:RSP */
#define VECTOR_BP 3

static _Atomic uint64_t performed;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static bool enabled;

static void read_config(void)
{
    const char *v = getenv("OPENWHP_HOST_QUIRKS");
    enabled = !v || strcmp(v, "0") != 0;
}

uint64_t quirk_count(void)
{
    return atomic_load(&performed);
}

static enum emu_mode mode_of(const struct kvm_sregs *s)
{
    return emu_mode_of(s->cr0 & CR0_PE, s->efer & EFER_LMA, s->cs.l, s->cs.db);
}

/* A same-privilege IRET that keeps CS (and SS) is what interrupt handlers do. Returns false
 * when the IRET is anything else (real mode, which KVM's emulator can do, virtual-8086 mode,
 * a privilege or CS change). */
static bool iret(struct whp_vp *vp, const uint8_t *b, size_t n)
{
    struct kvm_sync_regs *s = &vp->run->s.regs;
    enum emu_mode mode = mode_of(&s->sregs);
    size_t i = 0;
    bool opsize = false, rexw = false;
    for (; i < n && (b[i] == PREFIX_OPSIZE || (mode == EMU_MODE_64 && (b[i] & REX_MASK) == REX)); i++) {
        opsize |= b[i] == PREFIX_OPSIZE;
        rexw = mode == EMU_MODE_64 && (b[i] & REX_W_MASK) == REX_W;
    }
    if (i >= n || b[i] != X86_OP_IRET || !(s->sregs.cr0 & CR0_PE) || (s->regs.rflags & RFLAGS_VM))
        return false;
    unsigned w = rexw ? 8 : opsize ? 2 : 4;
    unsigned slots = mode == EMU_MODE_64 ? IRET_SLOTS_64 : IRET_SLOTS_LEGACY;
    uint64_t sp = mode == EMU_MODE_64 ? s->regs.rsp : s->sregs.ss.base + (uint32_t)s->regs.rsp;
    uint8_t frame[IRET_SLOTS_64 * 8] = {0};
    if (vp_read_gva(vp, sp, frame, w * slots) != w * slots)
        return false;
    uint64_t v[IRET_SLOTS_64] = {0};
    for (unsigned k = 0; k < slots; k++)
        memcpy(&v[k], frame + k * w, w);
    if ((uint16_t)v[1] != s->sregs.cs.selector ||
        (slots == IRET_SLOTS_64 && (uint16_t)v[4] != s->sregs.ss.selector))
        return false;
    /* Flags the guest may not change at its privilege level stay as they are. */
    unsigned cpl = s->sregs.cs.dpl, iopl = (unsigned)((s->regs.rflags & RFLAGS_IOPL) >> RFLAGS_IOPL_SHIFT);
    uint64_t keep = RFLAGS_VM | RFLAGS_VIP | RFLAGS_VIF | (cpl ? RFLAGS_IOPL : 0) |
                    (cpl > iopl ? RFLAGS_IF : 0);
    s->regs.rip = v[0];
    s->regs.rflags = ((v[2] & ~keep) | (s->regs.rflags & keep) | RFLAGS_FIXED) & RFLAGS_IRET_MASK;
    s->regs.rsp = slots == IRET_SLOTS_64 ? v[3] : s->regs.rsp + IRET_SLOTS_LEGACY * w;
    s->events.nmi.masked = 0; /* IRET ends NMI blocking */
    vp->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_EVENTS;
    return true;
}

/* INT3 is a trap: the #BP handler sees RIP after the instruction. */
static void int3(struct whp_vp *vp)
{
    struct kvm_sync_regs *s = &vp->run->s.regs;
    s->regs.rip += 1;
    s->events.exception.injected = 1;
    s->events.exception.nr = VECTOR_BP;
    s->events.exception.has_error_code = 0;
    vp->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS | KVM_SYNC_X86_EVENTS;
}

enum quirk_result quirk_emulation_failure(struct whp_vp *vp, const uint8_t *insn, size_t len,
                                          bool bp_exit)
{
    pthread_once(&config_once, read_config);
    if (!enabled || len == 0)
        return QUIRK_NOT_HANDLED;
    enum quirk_result r = QUIRK_NOT_HANDLED;
    if (insn[0] == X86_OP_INT3) {
        if (bp_exit)
            return QUIRK_BREAKPOINT; /* the VMM's exit, not a workaround */
        int3(vp);
        r = QUIRK_RESUME;
    } else if (iret(vp, insn, len)) {
        r = QUIRK_RESUME;
    }
    if (r != QUIRK_NOT_HANDLED)
        atomic_fetch_add_explicit(&performed, 1, memory_order_relaxed);
    return r;
}
