/* Hypercalls that reach user space through the hypercall page stub (synic.c): HvSignalEvent to
 * a connection without a fast-path match, HvSignalEvent in memory form, HvPostMessage and every
 * other call. Inputs in guest memory are hostile: alignment, page crossing and RAM are checked.
 * Results go to RAX and RIP moves to the stub's RET, or the call becomes a Hypercall exit. */
#include "synic/synic_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "obj/gva.h"

#define HV_STATUS_SUCCESS 0x0
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x3
#define HV_STATUS_INVALID_ALIGNMENT 0x4
#define HV_STATUS_INVALID_PARAMETER 0x5
#define HV_STATUS_ACCESS_DENIED 0x6
#define HV_STATUS_INVALID_CONNECTION_ID 0x12

#define CALL_POST_MESSAGE 0x5c
#define CALL_SIGNAL_EVENT 0x5d

/* The hypercall input value (TLFS 3.7). */
#define CONTROL_CODE_MASK 0xffffull
#define CONTROL_FAST (1ull << 16)
#define CONTROL_VARHEAD_SHIFT 17
#define CONTROL_VARHEAD_MASK 0x3ffull
#define CONTROL_REP_SHIFT 32
#define CONTROL_REP_MASK 0xfffull
#define CONTROL_RESERVED (0xfull << 27 | 1ull << 31 | 0xfull << 44 | 0xfull << 60)
#define CONNECTION_ID_BITS 24
#define INPUT_ALIGN 8
#define POST_MESSAGE_MAX_PAYLOAD 240
#define POST_MESSAGE_INPUT 256

/* Stub offsets (see hypercall_stub in synic.c). */
#define STUB_SIGNAL_OUT 17
#define STUB_SIGNAL_RET 20
#define STUB_CALL_OUT 29
#define STUB_CALL_RET 30

static int fast_path(struct whp_partition *p, uint32_t connection_id, int fd, bool attach)
{
    struct kvm_ioeventfd io = {
        .datamatch = connection_id, .addr = SYNIC_PORT_SIGNAL, .len = 4, .fd = fd,
        .flags = KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH |
                 (attach ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    return kvm_ioctl(p->vm_fd, KVM_IOEVENTFD, &io);
}

static struct synic_conn *find_conn(struct synic_part *sp, uint32_t id)
{
    for (size_t i = 0; i < sp->nconns; i++)
        if (sp->conns[i].id == id)
            return &sp->conns[i];
    return NULL;
}

int synic_port_attach(struct whp_partition *p, uint32_t connection_id, int fd, bool attach)
{
    struct synic_part *sp = p->synic;
    int r = 0;
    SYNIC_LOCK(p);
    struct synic_conn *c = find_conn(sp, connection_id);
    if (attach && c) {
        r = -EEXIST;
    } else if (attach) {
        struct synic_conn *n = realloc(sp->conns, (sp->nconns + 1) * sizeof(*n));
        int own = n ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
        if (n)
            sp->conns = n;
        if (own < 0)
            r = n ? -errno : -ENOMEM;
        else if ((r = fast_path(p, connection_id, own, true)) < 0)
            close(own);
        else
            sp->conns[sp->nconns++] = (struct synic_conn){connection_id, own};
    } else if (c) {
        r = fast_path(p, connection_id, c->fd, false);
        close(c->fd);
        *c = sp->conns[--sp->nconns];
    }
    SYNIC_UNLOCK(p);
    return r;
}

/* Sets the event bound to this connection: false when there is none. */
static bool signal_connection(struct whp_partition *p, uint32_t connection_id)
{
    SYNIC_LOCK(p);
    struct synic_conn *c = find_conn(p->synic, connection_id);
    uint64_t one = 1;
    bool found = c && write(c->fd, &one, sizeof(one)) == sizeof(one);
    SYNIC_UNLOCK(p);
    return found;
}

/* Reads a hypercall input block: it must be aligned to 8, stay in one page and be RAM. */
static uint16_t read_input(struct whp_vp *vp, uint64_t gpa, void *buf, size_t len)
{
    if (gpa & (INPUT_ALIGN - 1))
        return HV_STATUS_INVALID_ALIGNMENT;
    if ((gpa & (X86_PAGE_SIZE - 1)) + len > X86_PAGE_SIZE || mem_read(&vp->part->mem, gpa, buf, len) < 0)
        return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

static bool exit_enabled(const struct whp_partition *p, bool unknown_connection)
{
    WHV_EXTENDED_VM_EXITS e = {.AsUINT64 = p->cfg.extended_exits};
    return unknown_connection ? e.UnknownSynicConnection : e.HypercallExit;
}

/* Dispatches one call: a status, or -1 when the VMM must see it as a Hypercall exit. */
static int dispatch(struct whp_vp *vp, uint64_t control, uint64_t input, bool from_signal_port)
{
    struct whp_partition *p = vp->part;
    uint16_t code = control & CONTROL_CODE_MASK;
    bool fast = (control & CONTROL_FAST) != 0;
    unsigned reps = (control >> CONTROL_REP_SHIFT) & CONTROL_REP_MASK;
    if (control & CONTROL_RESERVED)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    switch (code) {
    case CALL_SIGNAL_EVENT: {
        if (!(p->cfg.synthetic_features & (WHV_SYNTHETIC_PROCESSOR_FEATURES){.SignalEvents = 1}.AsUINT64))
            return HV_STATUS_ACCESS_DENIED;
        if (reps || ((control >> CONTROL_VARHEAD_SHIFT) & CONTROL_VARHEAD_MASK))
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        uint64_t in = input;
        if (!fast && !from_signal_port) {
            uint16_t st = read_input(vp, input, &in, sizeof(in));
            if (st)
                return st;
        }
        if ((in >> CONNECTION_ID_BITS) & 0xff || in >> 48) /* HV_CONNECTION_ID; RsvdZ */
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        if (signal_connection(p, (uint32_t)in))
            return HV_STATUS_SUCCESS;
        return exit_enabled(p, true) ? -1 : HV_STATUS_INVALID_CONNECTION_ID;
    }
    case CALL_POST_MESSAGE: {
        struct {
            uint32_t connection_id, rsvd, type, size;
        } hdr;
        if (fast || reps)
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        uint8_t buf[POST_MESSAGE_INPUT];
        uint16_t st = read_input(vp, input, buf, sizeof(buf));
        if (st)
            return st;
        memcpy(&hdr, buf, sizeof(hdr));
        if (hdr.type == 0 || (hdr.type >> 31) || hdr.size > POST_MESSAGE_MAX_PAYLOAD ||
            (hdr.connection_id >> CONNECTION_ID_BITS))
            return HV_STATUS_INVALID_PARAMETER;
        return exit_enabled(p, false) ? -1 : HV_STATUS_INVALID_CONNECTION_ID;
    }
    default:
        return exit_enabled(p, false) ? -1 : HV_STATUS_INVALID_HYPERCALL_CODE;
    }
}

/* Where RIP is inside the hypercall page, or -1 when the exit did not come from our stub. */
static int64_t stub_offset(struct whp_vp *vp, uint64_t rip, uint64_t *page_gva)
{
    uint64_t gpa;
    if (!vp_translate(vp, rip, &gpa))
        return -1;
    SYNIC_LOCK(vp->part);
    uint64_t msr = vp->part->synic->hypercall_msr;
    SYNIC_UNLOCK(vp->part);
    uint64_t page = msr & X86_PAGE_MASK;
    if (!(msr & 1) || gpa < page || gpa >= page + X86_PAGE_SIZE)
        return -1;
    *page_gva = rip - (gpa - page);
    return (int64_t)(gpa - page);
}

bool synic_hypercall(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx, bool *handled)
{
    struct kvm_run *run = vp->run;
    struct kvm_regs *regs = &run->s.regs.regs;
    uint64_t base;
    int64_t off = stub_offset(vp, regs->rip, &base);
    bool signal_port = run->io.port == SYNIC_PORT_SIGNAL;
    /* KVM's emulator may already have retired the OUT (RIP one byte on) or not. */
    int64_t out = signal_port ? STUB_SIGNAL_OUT : STUB_CALL_OUT;
    *handled = off == out || off == out + 1;
    if (!*handled)
        return false; /* an ordinary OUT to that port: the VMM's business */
    uint64_t input = signal_port ? regs->rax : regs->r9;
    int status = dispatch(vp, regs->rcx, input, signal_port);
    if (status >= 0) {
        regs->rax = (uint64_t)status;
        regs->rip = base + (signal_port ? STUB_SIGNAL_RET : STUB_CALL_RET);
        run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        return false;
    }
    /* The VMM answers: it sets RAX and moves RIP by InstructionLength, which lands on the
     * stub's RET (after the OUT of the call port; over the status-clearing XOR of the signal
     * port). */
    uint64_t ret = base + (signal_port ? STUB_SIGNAL_RET : STUB_CALL_RET);
    regs->rip = signal_port ? base + out + 1 : base + out;
    run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
    exit_fill_context(vp, ctx);
    ctx->ExitReason = WHvRunVpExitReasonHypercall;
    ctx->VpContext.InstructionLength = (UINT8)(ret - regs->rip);
    WHV_HYPERCALL_CONTEXT *h = &ctx->Hypercall;
    h->Rax = regs->rax;
    h->Rbx = regs->rbx;
    h->Rcx = regs->rcx;
    h->Rdx = input;
    h->R8 = regs->r8;
    h->Rsi = regs->rsi;
    h->Rdi = regs->rdi;
    return true;
}
