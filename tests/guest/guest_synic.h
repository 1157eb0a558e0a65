/* Guest-side Hyper-V SynIC driver for the guest tests: detects Hyper-V by CPUID, sets the guest
 * OS id, enables the hypercall page, the message (SIM) and event flag (SIEF) pages and the SINTs,
 * and consumes messages and event flags in one interrupt handler that counts what it saw in
 * hv_synic[] (the host reads it with guest_vm_read). Hypercalls: the raw call through the
 * hypercall page, HvSignalEvent (fast and memory forms) and HvPostMessage.
 *
 * Guest memory is named by GPA; the driver reaches it through the harness's direct map
 * (GVA = GUEST_DIRECT_MAP + GPA). SINT interrupts go through the local APIC: the guest enables
 * its APIC first, and in xAPIC mode the host maps the APIC page at GUEST_DIRECT_MAP + 0xFEE00000
 * (apic_map in guest_apic.h). */
#ifndef OPENWHP_TESTS_GUEST_SYNIC_H
#define OPENWHP_TESTS_GUEST_SYNIC_H

#include "guest.h"

/* ---- TLFS constants ---- */

#define HV_MSR_GUEST_OS_ID 0x40000000u
#define HV_MSR_HYPERCALL 0x40000001u
#define HV_MSR_VP_INDEX 0x40000002u
#define HV_MSR_SCONTROL 0x40000080u
#define HV_MSR_SVERSION 0x40000081u
#define HV_MSR_SIEFP 0x40000082u
#define HV_MSR_SIMP 0x40000083u
#define HV_MSR_EOM 0x40000084u
#define HV_MSR_SINT(n) (0x40000090u + (n))

#define HV_SINT_COUNT 16
#define HV_SINT_MASKED (1ull << 16)
#define HV_SINT_AUTO_EOI (1ull << 17) /* deprecated (CPUID 0x40000004 EAX bit 9): not used */
#define HV_SINT_POLLING (1ull << 18)
#define HV_SINT_RESET 0x10000ull
#define HV_PAGE_ENABLE 1ull /* HYPERCALL, SIMP, SIEFP: bit 0; bits 12+ are the GPA */
#define HV_SCONTROL_ENABLE 1ull

/* An open-source guest OS id: bit 63 open source, OS type 1 (Linux) in bits 56-62, version
 * 6.1.0 in bits 16-47 (the encoding Linux uses). */
#define HV_GUEST_OS_ID_OPENWHP (1ull << 63 | 1ull << 56 | 0x060100ull << 16)

#define HV_CALL_POST_MESSAGE 0x5Cu
#define HV_CALL_SIGNAL_EVENT 0x5Du
#define HV_HYPERCALL_FAST (1ull << 16)

#define HV_STATUS_SUCCESS 0x0
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 0x3
#define HV_STATUS_INVALID_ALIGNMENT 0x4
#define HV_STATUS_INVALID_PARAMETER 0x5
#define HV_STATUS_INVALID_CONNECTION_ID 0x12
#define HV_STATUS_INSUFFICIENT_BUFFERS 0x13

/* CPUID 0x40000003 */
#define HV_CPUID_PRIV_SYNIC_REGS (1u << 2)     /* EAX */
#define HV_CPUID_PRIV_HYPERCALL_MSRS (1u << 5) /* EAX */
#define HV_CPUID_PRIV_VP_INDEX (1u << 6)       /* EAX */
#define HV_CPUID_PRIV_POST_MESSAGES (1u << 4)  /* EBX */
#define HV_CPUID_PRIV_SIGNAL_EVENTS (1u << 5)  /* EBX */
/* CPUID 0x40000004 EAX */
#define HV_CPUID_DEPRECATE_AUTO_EOI (1u << 9)

/* One SIM slot (HV_MESSAGE). MessageType 0 = free. */
#define HV_MESSAGE_PAYLOAD_MAX 240
#define HV_MESSAGE_FLAG_PENDING 0x1
struct hv_message {
    uint32_t type;
    uint8_t payload_size;
    uint8_t flags;
    uint16_t reserved;
    uint64_t origin;
    uint64_t payload[30];
};
_Static_assert(sizeof(struct hv_message) == 256, "HV_MESSAGE is 256 bytes");

/* HvPostMessage input (memory form, 8-aligned, must not cross a page). */
struct hv_post_message_input {
    uint32_t connection_id;
    uint32_t reserved;
    uint32_t message_type;
    uint32_t payload_size;
    uint8_t payload[HV_MESSAGE_PAYLOAD_MAX];
};
_Static_assert(sizeof(struct hv_post_message_input) == 256, "HvPostMessage input is 256 bytes");

/* ---- What the driver saw, per VP (indexed by VP_INDEX) ---- */

struct hv_synic_vp {
    /* Set up by hv_synic_init (GPAs; 0 = not enabled). */
    uint64_t simp_gpa, siefp_gpa, input_gpa;
    uint8_t sint_of_vector[256]; /* 0xFF: not a SINT vector */
    /* Counted by the interrupt handler, per SINT. */
    uint32_t interrupts[HV_SINT_COUNT]; /* SINT interrupts taken */
    uint32_t last_vector[HV_SINT_COUNT];
    uint32_t messages[HV_SINT_COUNT];   /* messages consumed */
    uint32_t eoms[HV_SINT_COUNT];       /* EOM writes (MessagePending was set) */
    uint32_t events[HV_SINT_COUNT];     /* event flags cleared */
    struct hv_message last_message[HV_SINT_COUNT];
    uint64_t flags_seen[HV_SINT_COUNT][32]; /* every flag cleared so far (2048 bits per SINT) */
};

extern struct hv_synic_vp hv_synic[GUEST_MAX_VPS];

/* ---- Guest API ---- */

/* True when CPUID reports Hyper-V ("Microsoft Hv", "Hv#1") with the SynIC, hypercall and
 * VP index MSRs. */
bool hv_detect(void);
/* Sets GUEST_OS_ID (if still 0) and enables the hypercall page at hypercall_gpa (partition-wide:
 * one VP does it). */
void hv_hypercall_init(uint64_t hypercall_gpa);
/* This VP: enables the SIM page at simp_gpa and the SIEF page at siefp_gpa (0: leave it off),
 * then SCONTROL. input_gpa is a page for memory-form hypercall inputs. Returns the VP index. */
uint32_t hv_synic_init(uint64_t simp_gpa, uint64_t siefp_gpa, uint64_t input_gpa);
/* This VP: SINT sint raises vector (>= 16) with hv_synic_isr as its handler; sint_flags may add
 * HV_SINT_MASKED or HV_SINT_POLLING. */
void hv_sint_setup(unsigned sint, uint8_t vector, uint64_t sint_flags);
/* The SINT interrupt handler (installed by hv_sint_setup): consumes the SINT's message (copy,
 * MessageType = 0, EOI, EOM if MessagePending was set) and its event flags (atomic
 * test-and-clear), and counts them in hv_synic[VP_INDEX]. */
void hv_synic_isr(struct guest_ex_frame *frame);
/* Waits with sti;hlt until *counter >= n; returns with interrupts off. */
void hv_wait_count(const volatile uint32_t *counter, uint32_t n);

/* The hypercall page called as a function: RCX = control, RDX = input, R8 = output; returns
 * RAX (HV_STATUS in bits 0-15). */
uint64_t hv_hypercall(uint64_t control, uint64_t input, uint64_t output);
/* HvSignalEvent, fast form (input in RDX). */
uint64_t hv_signal_event(uint32_t connection_id, uint16_t flag);
/* HvSignalEvent, memory form (input in this VP's input page). */
uint64_t hv_signal_event_mem(uint32_t connection_id, uint16_t flag);
/* HvPostMessage (input in this VP's input page); size <= HV_MESSAGE_PAYLOAD_MAX. */
uint64_t hv_post_message(uint32_t connection_id, uint32_t type, const void *payload, uint32_t size);

/* ---- Host side ---- */
/* The synthetic features the SynIC guests use: HypervisorPresent, Hv1, the SynIC, hypercall and
 * VP index MSRs, SignalEvents (what WHvGetCapability(SyntheticProcessorFeaturesBanks) reports). */
uint64_t guest_synic_features(void);
/* Sets the partition's SyntheticProcessorFeaturesBanks to guest_synic_features(). */
HRESULT guest_synic_enable(WHV_PARTITION_HANDLE partition);
/* A guest_vm_config.pre_setup that enables the SynIC features (fails the test if it cannot). */
void guest_synic_pre_setup(WHV_PARTITION_HANDLE partition, void *opaque);

#endif /* OPENWHP_TESTS_GUEST_SYNIC_H */
