/* Guest-side Hyper-V SynIC driver (see guest_synic.h): setup through the synthetic MSRs, the
 * SINT interrupt handler, and hypercalls through the hypercall page. Runs inside the guest. */
#include "guest_synic.h"

#include <string.h>

#define APIC_BASE_MSR 0x1Bu
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_EOI_GVA (GUEST_DIRECT_MAP + 0xFEE000B0ull)
#define X2APIC_EOI_MSR 0x80Bu

struct hv_synic_vp hv_synic[GUEST_MAX_VPS];

/* GVA of the hypercall page (0: not enabled) and whether the APICs are in x2APIC mode; shared by
 * all VPs. */
static volatile uint64_t hv_hypercall_page;
static volatile uint32_t hv_apic_x2;

GUEST_INLINE uint64_t gva_of(uint64_t gpa) { return GUEST_DIRECT_MAP + gpa; }

GUEST_INLINE uint32_t vp_index(void) { return (uint32_t)guest_rdmsr(HV_MSR_VP_INDEX); }

GUEST_INLINE void apic_eoi(void)
{
    if (hv_apic_x2)
        guest_wrmsr(X2APIC_EOI_MSR, 0);
    else
        guest_write32(APIC_EOI_GVA, 0);
}

GUEST_CODE bool hv_detect(void)
{
    uint32_t a, b, c, d;

    guest_cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 31)))
        return false;
    guest_cpuid(0x40000000, 0, &a, &b, &c, &d);
    if (a < 0x40000005 || b != 0x7263694D || c != 0x666F736F || d != 0x76482074) /* "Microsoft Hv" */
        return false;
    guest_cpuid(0x40000001, 0, &a, &b, &c, &d);
    if (a != 0x31237648) /* "Hv#1" */
        return false;
    guest_cpuid(0x40000003, 0, &a, &b, &c, &d);
    uint32_t need = HV_CPUID_PRIV_SYNIC_REGS | HV_CPUID_PRIV_HYPERCALL_MSRS | HV_CPUID_PRIV_VP_INDEX;
    return (a & need) == need;
}

GUEST_CODE void hv_hypercall_init(uint64_t hypercall_gpa)
{
    if (guest_rdmsr(HV_MSR_GUEST_OS_ID) == 0)
        guest_wrmsr(HV_MSR_GUEST_OS_ID, HV_GUEST_OS_ID_OPENWHP);
    guest_wrmsr(HV_MSR_HYPERCALL, hypercall_gpa | HV_PAGE_ENABLE);
    hv_hypercall_page = gva_of(hypercall_gpa);
}

GUEST_CODE uint32_t hv_synic_init(uint64_t simp_gpa, uint64_t siefp_gpa, uint64_t input_gpa)
{
    uint32_t vp = vp_index();
    struct hv_synic_vp *s = &hv_synic[vp];

    hv_apic_x2 = (guest_rdmsr(APIC_BASE_MSR) & APIC_BASE_X2APIC) != 0;
    for (unsigned v = 0; v < 256; v++)
        s->sint_of_vector[v] = 0xFF;
    s->simp_gpa = simp_gpa;
    s->siefp_gpa = siefp_gpa;
    s->input_gpa = input_gpa;
    if (simp_gpa)
        guest_wrmsr(HV_MSR_SIMP, simp_gpa | HV_PAGE_ENABLE);
    if (siefp_gpa)
        guest_wrmsr(HV_MSR_SIEFP, siefp_gpa | HV_PAGE_ENABLE);
    guest_wrmsr(HV_MSR_SCONTROL, HV_SCONTROL_ENABLE);
    return vp;
}

GUEST_CODE void hv_sint_setup(unsigned sint, uint8_t vector, uint64_t sint_flags)
{
    hv_synic[vp_index()].sint_of_vector[vector] = (uint8_t)sint;
    guest_install_handler(vector, hv_synic_isr);
    guest_wrmsr(HV_MSR_SINT(sint), vector | sint_flags);
}

/* Takes the SINT's message, if any: copy, free the slot, then look at MessagePending (after the
 * slot is free, so a post that found it busy is not missed). Returns whether EOM is due. */
GUEST_INLINE bool take_message(struct hv_synic_vp *s, unsigned sint)
{
    volatile struct hv_message *m = (volatile struct hv_message *)gva_of(s->simp_gpa + sint * 256ull);
    volatile uint64_t *src = (volatile uint64_t *)m;
    uint64_t *dst = (uint64_t *)&s->last_message[sint];

    if (!s->simp_gpa || m->type == 0)
        return false;
    for (unsigned i = 0; i < sizeof(*m) / 8; i++)
        dst[i] = src[i];
    __atomic_exchange_n(&m->type, 0, __ATOMIC_SEQ_CST); /* xchg: a full barrier before the read */
    s->messages[sint]++;
    return (m->flags & HV_MESSAGE_FLAG_PENDING) != 0;
}

/* Clears the SINT's event flags with atomic exchanges and records each flag that was set. */
GUEST_INLINE void take_events(struct hv_synic_vp *s, unsigned sint)
{
    uint64_t *flags = (uint64_t *)gva_of(s->siefp_gpa + sint * 256ull);

    if (!s->siefp_gpa)
        return;
    for (unsigned w = 0; w < 32; w++) {
        uint64_t bits = __atomic_exchange_n(&flags[w], 0, __ATOMIC_SEQ_CST);
        s->flags_seen[sint][w] |= bits;
        for (; bits; bits &= bits - 1)
            s->events[sint]++;
    }
}

GUEST_CODE void hv_synic_isr(struct guest_ex_frame *frame)
{
    struct hv_synic_vp *s = &hv_synic[vp_index()];
    uint8_t vector = (uint8_t)frame->vector;
    unsigned sint = s->sint_of_vector[vector];
    bool eom = false;

    if (sint < HV_SINT_COUNT) {
        s->interrupts[sint]++;
        s->last_vector[sint] = vector;
        eom = take_message(s, sint);
        take_events(s, sint);
    }
    apic_eoi();
    if (eom) {
        s->eoms[sint]++;
        guest_wrmsr(HV_MSR_EOM, 0);
    }
}

GUEST_CODE void hv_wait_count(const volatile uint32_t *counter, uint32_t n)
{
    guest_cli();
    while (*counter < n) {
        guest_sti_hlt();
        guest_cli();
    }
}

GUEST_CODE uint64_t hv_hypercall(uint64_t control, uint64_t input, uint64_t output)
{
    register uint64_t r8 __asm__("r8") = output;
    uint64_t page = hv_hypercall_page;
    uint64_t status;

    __asm__ volatile("call *%[page]"
                     : "=a"(status), "+c"(control), "+d"(input), "+r"(r8)
                     : [page] "r"(page)
                     : "r9", "r10", "r11", "cc", "memory");
    return status;
}

GUEST_CODE uint64_t hv_signal_event(uint32_t connection_id, uint16_t flag)
{
    return hv_hypercall(HV_CALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, connection_id | (uint64_t)flag << 32, 0);
}

GUEST_CODE uint64_t hv_signal_event_mem(uint32_t connection_id, uint16_t flag)
{
    uint64_t gpa = hv_synic[vp_index()].input_gpa;

    guest_write64(gva_of(gpa), connection_id | (uint64_t)flag << 32);
    return hv_hypercall(HV_CALL_SIGNAL_EVENT, gpa, 0);
}

GUEST_CODE uint64_t hv_post_message(uint32_t connection_id, uint32_t type, const void *payload, uint32_t size)
{
    uint64_t gpa = hv_synic[vp_index()].input_gpa;
    volatile struct hv_post_message_input *in = (volatile struct hv_post_message_input *)gva_of(gpa);
    const uint8_t *p = payload;

    in->connection_id = connection_id;
    in->reserved = 0;
    in->message_type = type;
    in->payload_size = size;
    for (uint32_t i = 0; i < size && i < HV_MESSAGE_PAYLOAD_MAX; i++)
        in->payload[i] = p[i];
    return hv_hypercall(HV_CALL_POST_MESSAGE, gpa, 0);
}

/* ---- Host side ---- */

uint64_t guest_synic_features(void)
{
    WHV_SYNTHETIC_PROCESSOR_FEATURES f = {.AsUINT64 = 0};
    f.HypervisorPresent = f.Hv1 = f.AccessSynicRegs = f.AccessHypercallRegs = 1;
    f.AccessVpIndex = f.SignalEvents = 1;
    return f.AsUINT64;
}

HRESULT guest_synic_enable(WHV_PARTITION_HANDLE partition)
{
    WHV_PARTITION_PROPERTY prop;
    memset(&prop, 0, sizeof(prop));
    prop.SyntheticProcessorFeaturesBanks.BanksCount = 1;
    prop.SyntheticProcessorFeaturesBanks.AsUINT64[0] = guest_synic_features();
    return WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeSyntheticProcessorFeaturesBanks, &prop,
                                   sizeof(prop));
}

void guest_synic_pre_setup(WHV_PARTITION_HANDLE partition, void *opaque)
{
    (void)opaque;
    TEST_HR(guest_synic_enable(partition));
}
