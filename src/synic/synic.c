/* SynIC emulation: the synthetic MSRs (TLFS rules: reset values, reserved bits, #GP), the CPUID
 * leaves that announce them, message slots and event flags in guest memory, and the host API
 * that posts messages and signals events. Guest memory shared with running VPs is only touched
 * with atomic operations (mem_atomic). */
#include "synic/synic_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apic/apic.h"

#define MSR_GUEST_OS_ID 0x40000000u
#define MSR_HYPERCALL 0x40000001u
#define MSR_VP_INDEX 0x40000002u
#define MSR_SCONTROL 0x40000080u
#define MSR_SVERSION 0x40000081u
#define MSR_SIEFP 0x40000082u
#define MSR_SIMP 0x40000083u
#define MSR_EOM 0x40000084u
#define MSR_SINT0 0x40000090u
#define MSR_SINT15 0x4000009fu

#define SINT_MASKED (1ull << 16)
#define SINT_POLLING (1ull << 18)
#define SINT_RESERVED (~((1ull << 21) - 1) | 0xff00ull)
#define SINT_VECTOR_MASK 0xffull
#define SCONTROL_ENABLE 1ull
#define HYPERCALL_LOCKED (1ull << 1)
#define PAGE_ENABLE 1ull
#define PAGE_BASE(v) ((v) & X86_PAGE_MASK)
#define SYNIC_SLOT_SIZE 256 /* one message slot, or one SINT's 2048 event flags */
#define SYNIC_FLAGS_PER_SINT 2048
#define MESSAGE_PENDING (1ull << 40) /* MessageFlags.MessagePending in the 8-byte header */
#define HV_VERSION_10_0 (10u << 16)

int synic_part_init(struct whp_partition *p)
{
    p->synic = calloc(1, sizeof(*p->synic));
    if (!p->synic)
        return -ENOMEM;
    return owl_init(&p->synic->lock);
}

void synic_part_fini(struct whp_partition *p)
{
    if (!p->synic)
        return;
    for (size_t i = 0; i < p->synic->nconns; i++)
        close(p->synic->conns[i].fd);
    free(p->synic->conns);
    owl_destroy(&p->synic->lock);
    free(p->synic);
    p->synic = NULL;
}

int synic_vp_init(struct whp_vp *vp)
{
    vp->synic = calloc(1, sizeof(*vp->synic));
    return vp->synic ? 0 : -ENOMEM;
}

void synic_vp_fini(struct whp_vp *vp)
{
    free(vp->synic);
    vp->synic = NULL;
}

void synic_vp_reset(struct whp_vp *vp)
{
    SYNIC_LOCK(vp->part);
    memset(vp->synic, 0, sizeof(*vp->synic));
    for (unsigned i = 0; i < SYNIC_SINTS; i++)
        vp->synic->sint[i] = SINT_MASKED;
    SYNIC_UNLOCK(vp->part);
}

uint64_t synic_supported_features(void)
{
    WHV_SYNTHETIC_PROCESSOR_FEATURES f = {.AsUINT64 = 0};
    f.HypervisorPresent = f.Hv1 = f.AccessSynicRegs = f.AccessHypercallRegs = 1;
    f.AccessVpIndex = f.SignalEvents = 1;
    return f.AsUINT64;
}

bool synic_enabled(const struct whp_partition *p)
{
    return (p->cfg.synthetic_features & (WHV_SYNTHETIC_PROCESSOR_FEATURES){.AccessSynicRegs = 1}.AsUINT64) != 0;
}

void synic_cpuid(const struct whp_partition *p, uint32_t leaf, uint32_t out[4])
{
    WHV_SYNTHETIC_PROCESSOR_FEATURES f = {.AsUINT64 = p->cfg.synthetic_features};
    memset(out, 0, 4 * sizeof(out[0]));
    switch (leaf) {
    case 0x40000000:
        out[0] = 0x40000006;
        out[1] = 0x7263694d; /* "Micr" */
        out[2] = 0x666f736f; /* "osof" */
        out[3] = 0x76482074; /* "t Hv" */
        break;
    case 0x40000001:
        out[0] = 0x31237648; /* "Hv#1" */
        break;
    case 0x40000002:
        out[1] = HV_VERSION_10_0;
        break;
    case 0x40000003:
        out[0] = (f.AccessSynicRegs ? 1u << 2 : 0) | (f.AccessHypercallRegs ? 1u << 5 : 0) |
                 (f.AccessVpIndex ? 1u << 6 : 0);
        out[1] = (f.SignalEvents ? 1u << 5 : 0) | 1u << 4; /* SignalEvents, PostMessages */
        break;
    case 0x40000004:
        out[0] = 1u << 9;     /* AutoEOI is deprecated: KVM's LAPIC cannot auto-EOI for us */
        out[1] = 0xffffffffu; /* never notify long spin waits */
        break;
    case 0x40000005:
        out[0] = p->cfg.processor_count;
        break;
    }
}

/* ---- guest memory ---- */

struct post {
    const uint8_t *msg;
    uint32_t size;
};

/* A free slot (MessageType 0) takes the message, type last; a busy one gets MessagePending.
 * The busy case is one compare-and-swap of the 8-byte header, so it cannot race the guest
 * freeing the slot: either the guest sees MessagePending when it frees it (and writes EOM), or
 * the swap fails, the slot is seen free, and the message goes in. */
static int post_into(uint8_t *slot, void *ctx)
{
    const struct post *m = ctx;
    uint64_t *header = (uint64_t *)slot; /* MessageType, PayloadSize, MessageFlags, Reserved */
    uint64_t h = __atomic_load_n(header, __ATOMIC_ACQUIRE);
    while ((uint32_t)h != 0)
        if (__atomic_compare_exchange_n(header, &h, h | MESSAGE_PENDING, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE))
            return -EBUSY;
    uint32_t *type = (uint32_t *)slot;
    memcpy(slot + 4, m->msg + 4, m->size - 4);
    memset(slot + m->size, 0, SYNIC_SLOT_SIZE - m->size);
    uint32_t t;
    memcpy(&t, m->msg, 4);
    __atomic_store_n(type, t, __ATOMIC_RELEASE);
    return 0;
}

static int flag_set(uint8_t *byte, void *ctx)
{
    uint8_t bit = *(uint8_t *)ctx;
    return (__atomic_fetch_or(byte, bit, __ATOMIC_SEQ_CST) & bit) ? 1 : 0;
}

static int slot_busy(uint8_t *slot, void *ctx)
{
    (void)ctx;
    return __atomic_load_n((uint32_t *)slot, __ATOMIC_ACQUIRE) != 0;
}

static int zero_page(uint8_t *page, void *ctx)
{
    (void)ctx;
    memset(page, 0, X86_PAGE_SIZE);
    return 0;
}

/* Raises the SINT's interrupt on the VP's LAPIC, unless masked or in polling mode. */
static int raise_sint(struct whp_vp *vp, unsigned sint)
{
    assert(SYNIC_LOCKED(vp->part));
    uint64_t s = vp->synic->sint[sint];
    if (s & (SINT_MASKED | SINT_POLLING))
        return 0;
    return apic_signal_fixed(vp->part, vp->index, (uint8_t)(s & SINT_VECTOR_MASK));
}

/* ---- the hypercall page ---- */

/* 64-bit stub. Fast HvSignalEvent (RCX = 0x1005D): the input goes to RAX and its low half to
 * SYNIC_PORT_SIGNAL, where KVM matches the connection id of an Event port and signals its event
 * without an exit; status 0. Everything else: RDX is kept in R9 and SYNIC_PORT_CALL exits to
 * us. R9 and RDX are volatile in the hypercall ABI. */
static const uint8_t hypercall_stub[] = {
    0x48, 0x81, 0xf9, 0x5d, 0x00, 0x01, 0x00, /*  0: cmp rcx, 0x1005d   */
    0x75, 0x0c,                               /*  7: jne slow          */
    0x48, 0x89, 0xd0,                         /*  9: mov rax, rdx      */
    0xba, 0x50, 0x48, 0x00, 0x00,             /* 12: mov edx, 0x4850   */
    0xef,                                     /* 17: out dx, eax       */
    0x31, 0xc0,                               /* 18: xor eax, eax      */
    0xc3,                                     /* 20: ret               */
    0x49, 0x89, 0xd1,                         /* 21: slow: mov r9, rdx */
    0xba, 0x51, 0x48, 0x00, 0x00,             /* 24: mov edx, 0x4851   */
    0xee,                                     /* 29: out dx, al        */
    0xc3,                                     /* 30: ret               */
};

static void hypercall_page_update(struct whp_partition *p)
{
    assert(SYNIC_LOCKED(p));
    struct synic_part *sp = p->synic;
    if ((sp->hypercall_msr & PAGE_ENABLE) && sp->guest_os_id)
        mem_write(&p->mem, PAGE_BASE(sp->hypercall_msr), hypercall_stub, sizeof(hypercall_stub), true);
}

/* ---- MSRs ---- */

static void set_page(struct whp_vp *vp, uint64_t *reg, uint64_t v)
{
    assert(SYNIC_LOCKED(vp->part));
    bool was = *reg & PAGE_ENABLE;
    bool moved = PAGE_BASE(*reg) != PAGE_BASE(v);
    *reg = v;
    /* An enabled SIM/SIEF page is an overlay that starts out zero. */
    if ((v & PAGE_ENABLE) && (!was || moved))
        mem_atomic(&vp->part->mem, PAGE_BASE(v), X86_PAGE_SIZE, zero_page, NULL);
}

/* SINTs whose slot is free among those the VMM asked about; clears the request (one-shot). */
static uint16_t deliverable_sints(struct whp_vp *vp)
{
    assert(SYNIC_LOCKED(vp->part));
    const struct synic_vp *sv = vp->synic;
    uint16_t want = (uint16_t)(vp->deliverability >> DELIVERABILITY_SINT_SHIFT), got = 0;
    if (!want || !(sv->scontrol & SCONTROL_ENABLE) || !(sv->simp & PAGE_ENABLE))
        return 0;
    for (unsigned s = 0; s < SYNIC_SINTS; s++)
        if ((want >> s & 1) && mem_atomic(&vp->part->mem, PAGE_BASE(sv->simp) + s * SYNIC_SLOT_SIZE,
                                          sizeof(uint32_t), slot_busy, NULL) == 0)
            got |= 1u << s;
    vp->deliverability &= ~((uint64_t)got << DELIVERABILITY_SINT_SHIFT);
    return got;
}

int synic_msr(struct whp_vp *vp, bool write, uint32_t index, uint64_t *value, uint16_t *deliverable)
{
    struct whp_partition *p = vp->part;
    struct synic_part *sp = p->synic;
    struct synic_vp *s = vp->synic;
    int r = 0;
    *deliverable = 0;
    SYNIC_LOCK(p);
    switch (index) {
    case MSR_GUEST_OS_ID:
        if (!write) {
            *value = sp->guest_os_id;
            break;
        }
        sp->guest_os_id = *value;
        if (!*value)
            sp->hypercall_msr &= ~PAGE_ENABLE; /* clearing the id disables the page */
        break;
    case MSR_HYPERCALL:
        if (!write) {
            *value = sp->hypercall_msr;
            break;
        }
        if (sp->hypercall_msr & HYPERCALL_LOCKED)
            break;
        sp->hypercall_msr = sp->guest_os_id ? *value : *value & ~PAGE_ENABLE;
        hypercall_page_update(p);
        break;
    case MSR_VP_INDEX:
        if (write)
            r = -EINVAL;
        else
            *value = vp->index;
        break;
    case MSR_SCONTROL:
        if (write)
            s->scontrol = *value;
        else
            *value = s->scontrol;
        break;
    case MSR_SVERSION:
        if (write)
            r = -EINVAL;
        else
            *value = 1;
        break;
    case MSR_SIEFP:
    case MSR_SIMP: {
        uint64_t *reg = index == MSR_SIEFP ? &s->siefp : &s->simp;
        if (write)
            set_page(vp, reg, *value);
        else
            *value = *reg;
        break;
    }
    case MSR_EOM:
        if (write)
            *deliverable = deliverable_sints(vp);
        else
            *value = 0;
        break;
    default:
        if (index >= MSR_SINT0 && index <= MSR_SINT15) {
            uint64_t *sint = &s->sint[index - MSR_SINT0];
            if (!write)
                *value = *sint;
            else if ((*value & SINT_RESERVED) ||
                     (!(*value & SINT_MASKED) && (*value & SINT_VECTOR_MASK) < APIC_FIRST_USABLE_VECTOR))
                r = -EINVAL; /* reserved bits, or an unmasked vector below 16 */
            else
                *sint = *value;
        } else {
            r = -EINVAL; /* a synthetic MSR we do not implement */
        }
    }
    SYNIC_UNLOCK(p);
    return r;
}

/* ---- register names ---- */

static int reg_index(uint32_t name)
{
    if (name >= WHvRegisterSint0 && name <= WHvRegisterSint15)
        return (int)(MSR_SINT0 + (name - WHvRegisterSint0));
    switch (name) {
    case WHvRegisterScontrol: return MSR_SCONTROL;
    case WHvRegisterSversion: return MSR_SVERSION;
    case WHvRegisterSiefp: return MSR_SIEFP;
    case WHvRegisterSimp: return MSR_SIMP;
    case WHvRegisterEom: return MSR_EOM;
    case WHvX64RegisterHypercall: return MSR_HYPERCALL;
    case WHvRegisterGuestOsId: return MSR_GUEST_OS_ID;
    default: return -1;
    }
}

int synic_get_reg(struct whp_vp *vp, uint32_t name, uint64_t *value)
{
    int msr = reg_index(name);
    uint16_t unused;
    if (msr < 0 || !synic_enabled(vp->part))
        return -ENOENT;
    return synic_msr(vp, false, (uint32_t)msr, value, &unused);
}

int synic_set_reg(struct whp_vp *vp, uint32_t name, uint64_t value)
{
    int msr = reg_index(name);
    uint16_t unused;
    if (msr < 0 || !synic_enabled(vp->part))
        return -ENOENT;
    if (msr == MSR_SVERSION)
        return value == 1 ? 0 : -EINVAL; /* read-only; restoring its value is fine */
    return synic_msr(vp, true, (uint32_t)msr, &value, &unused);
}

/* ---- host API ---- */

HRESULT WINAPI WHvPostVirtualProcessorSynicMessage(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                                   UINT32 SintIndex, const VOID *Message,
                                                   UINT32 MessageSizeInBytes)
{
    if (!Message || MessageSizeInBytes < 4 || MessageSizeInBytes > WHV_SYNIC_MESSAGE_SIZE ||
        SintIndex >= SYNIC_SINTS)
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = part_get_vp(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    uint32_t type;
    memcpy(&type, Message, 4);
    SYNIC_LOCK(p);
    const struct synic_vp *s = vp->synic;
    if (!synic_enabled(p) || p->cfg.apic_mode == WHvX64LocalApicEmulationModeNone)
        hr = ERROR_HV_INVALID_SYNIC_STATE;
    else if (type == 0)
        hr = E_INVALIDARG; /* type 0 would mark the slot free */
    else if (!(s->scontrol & SCONTROL_ENABLE) || !(s->simp & PAGE_ENABLE))
        hr = ERROR_HV_INVALID_SYNIC_STATE;
    if (SUCCEEDED(hr)) {
        struct post m = {Message, MessageSizeInBytes};
        int r = mem_atomic(&p->mem, PAGE_BASE(s->simp) + SintIndex * SYNIC_SLOT_SIZE,
                           SYNIC_SLOT_SIZE, post_into, &m);
        hr = r == -EBUSY ? ERROR_HV_OBJECT_IN_USE : r < 0 ? ERROR_HV_INVALID_SYNIC_STATE : S_OK;
        if (SUCCEEDED(hr))
            hr = hr_from_errno(raise_sint(vp, SintIndex));
    }
    SYNIC_UNLOCK(p);
    part_put(p);
    return hr;
}

/* Sets one event flag and raises the SINT on a 0 -> 1 change: 0, or an HRESULT's errno form. */
static HRESULT signal_event(struct whp_vp *vp, unsigned sint, unsigned flag, BOOL *newly)
{
    struct whp_partition *p = vp->part;
    assert(SYNIC_LOCKED(p));
    const struct synic_vp *s = vp->synic;
    if (!synic_enabled(p) || p->cfg.apic_mode == WHvX64LocalApicEmulationModeNone ||
        !(s->scontrol & SCONTROL_ENABLE) || !(s->siefp & PAGE_ENABLE) || (s->sint[sint] & SINT_MASKED))
        return ERROR_HV_INVALID_SYNIC_STATE;
    uint8_t bit = (uint8_t)(1u << (flag % 8));
    int was = mem_atomic(&p->mem, PAGE_BASE(s->siefp) + sint * SYNIC_SLOT_SIZE + flag / 8, 1,
                         flag_set, &bit);
    if (was < 0)
        return ERROR_HV_INVALID_SYNIC_STATE;
    if (newly)
        *newly = !was;
    return was ? S_OK : hr_from_errno(raise_sint(vp, sint));
}

HRESULT synic_check_event(const struct whp_partition *p, const WHV_SYNIC_EVENT_PARAMETERS *e)
{
    if (e->TargetSint >= SYNIC_SINTS || e->TargetVtl != 0 || e->FlagNumber >= SYNIC_FLAGS_PER_SINT)
        return E_INVALIDARG;
    if (!part_vp((struct whp_partition *)p, e->VpIndex))
        return WHV_E_VP_DOES_NOT_EXIST;
    /* Flags are only ever announced through a SINT interrupt, which needs a LAPIC. */
    return synic_enabled(p) && p->cfg.apic_mode != WHvX64LocalApicEmulationModeNone
               ? S_OK
               : ERROR_HV_INVALID_SYNIC_STATE;
}

HRESULT synic_signal(struct whp_partition *p, const WHV_SYNIC_EVENT_PARAMETERS *e, BOOL *newly)
{
    struct whp_vp *vp = part_vp(p, e->VpIndex);
    if (!vp)
        return WHV_E_VP_DOES_NOT_EXIST;
    SYNIC_LOCK(p);
    HRESULT hr = signal_event(vp, e->TargetSint, e->FlagNumber, newly);
    SYNIC_UNLOCK(p);
    return hr;
}

HRESULT WINAPI WHvSignalVirtualProcessorSynicEvent(WHV_PARTITION_HANDLE Partition,
                                                   WHV_SYNIC_EVENT_PARAMETERS SynicEvent,
                                                   BOOL *NewlySignaled)
{
    if (SynicEvent.TargetSint >= SYNIC_SINTS || SynicEvent.TargetVtl != 0 ||
        SynicEvent.FlagNumber >= SYNIC_FLAGS_PER_SINT)
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = part_get_vp(Partition, SynicEvent.VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    hr = synic_signal(p, &SynicEvent, NewlySignaled);
    part_put(p);
    return hr;
}

/* ---- VP state: the SIM and SIEF pages ---- */

struct page_copy {
    uint8_t *buf;
    bool to_guest;
};

static int copy_page(uint8_t *page, void *ctx)
{
    struct page_copy *c = ctx;
    if (c->to_guest)
        memcpy(page, c->buf, X86_PAGE_SIZE);
    else
        memcpy(c->buf, page, X86_PAGE_SIZE);
    return 0;
}

HRESULT synic_page_state(struct whp_vp *vp, bool event_page, void *buf, bool set)
{
    struct whp_partition *p = vp->part;
    if (!synic_enabled(p))
        return E_INVALIDARG;
    SYNIC_LOCK(p);
    uint64_t reg = event_page ? vp->synic->siefp : vp->synic->simp;
    HRESULT hr = S_OK;
    if (!(reg & PAGE_ENABLE)) {
        if (!set)
            memset(buf, 0, X86_PAGE_SIZE); /* a disabled page reads as zeros */
    } else {
        struct page_copy c = {buf, set};
        if (mem_atomic(&p->mem, PAGE_BASE(reg), X86_PAGE_SIZE, copy_page, &c) < 0)
            hr = ERROR_HV_INVALID_SYNIC_STATE;
    }
    SYNIC_UNLOCK(p);
    return hr;
}

uint16_t synic_deliverable(struct whp_vp *vp)
{
    SYNIC_LOCK(vp->part);
    uint16_t d = deliverable_sints(vp);
    SYNIC_UNLOCK(vp->part);
    return d;
}
