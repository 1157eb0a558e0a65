/* The object layer: partitions and virtual processors as objects (handle table, references,
 * the vCPU primitives), the HRESULT helpers, and the services every subsystem builds on (the
 * memory map, the GSI routing table, the exit-context filler). Nothing here calls upwards.
 *
 * A subsystem's state hangs off the objects as an opaque pointer (apic, synic, events, exit)
 * that only that subsystem dereferences; its own header says what its lock protects. */
#ifndef OPENWHP_OBJ_H
#define OPENWHP_OBJ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "kvm/kvm.h"
#include "obj/lock.h"
#include "obj/mem.h"
#include "obj/routes.h"
#include "obj/x86.h"

/* ---- errors: internal code returns 0 or -errno; the API boundary converts here ---- */
HRESULT hr_from_errno(int neg_errno);
/* The WHP rule for output buffers: *written (optional) gets the size needed; a missing or
 * short buffer is WHV_E_INSUFFICIENT_BUFFER. */
HRESULT hr_output(const void *buf, UINT32 size, UINT32 *written, UINT32 needed);
/* hr_output, then the value copied out when the buffer is large enough. */
HRESULT hr_put(void *buf, UINT32 size, UINT32 *written, const void *val, UINT32 len);
/* A fresh process-wide serial number (trigger and port handles): never 0, never reused. */
uint64_t obj_new_serial(void);

/* ---- configuration: the partition properties (written by prop/, read by everyone) ---- */
struct whp_config {
    uint32_t processor_count;
    uint32_t apic_mode;       /* WHV_X64_LOCAL_APIC_EMULATION_MODE */
    uint64_t extended_exits;  /* WHV_EXTENDED_VM_EXITS */
    uint64_t exception_bitmap;
    uint64_t msr_exit_bitmap; /* WHV_X64_MSR_EXIT_BITMAP */
    bool msr_config_set;      /* KVM user-space MSR exits or a filter are in force */
    uint32_t *cpuid_exits;
    uint32_t cpuid_exit_count;
    WHV_X64_CPUID_RESULT *cpuid_results;
    uint32_t cpuid_result_count;
    uint64_t features[2];     /* ProcessorFeaturesBanks */
    uint64_t synthetic_features;
    uint64_t tsc_hz, apic_hz;
};

/* ---- virtual processors ---- */

/* WHV_PROCESSOR_ACTIVITY_COUNTERS slots, by field name. */
#define VP_COUNTER(field) \
    (offsetof(WHV_PROCESSOR_ACTIVITY_COUNTERS, field) / sizeof(WHV_PROCESSOR_INTERCEPT_COUNTER))
#define VP_COUNTERS (sizeof(WHV_PROCESSOR_ACTIVITY_COUNTERS) / sizeof(WHV_PROCESSOR_INTERCEPT_COUNTER))

struct whp_partition;
struct apic_vp;
struct synic_vp;
struct exit_vp;

struct whp_vp {
    struct whp_partition *part;
    uint32_t index;
    int fd;               /* the KVM vCPU; kept after WHvDeleteVirtualProcessor (KVM cannot
                             destroy a vCPU) and reset when the index is created again */
    struct kvm_run *run;  /* run->s.regs is the register cache (KVM_CAP_SYNC_REGS) */
    bool initialized;     /* power-on state captured; under the partition lock */
    atomic_bool exists;
    atomic_bool cpuid_fixed; /* its first run began: CpuidExitList no longer changes (prop/) */
    atomic_flag busy;     /* held by the thread inside WHvRunVirtualProcessor or a register call */

    /* Cancellation: kick_lock protects run_thread/in_run; cancel is the sticky request. */
    pthread_mutex_t kick_lock;
    pthread_t run_thread;
    bool in_run;
    atomic_bool cancel;
    atomic_int hold;          /* > 0: another thread needs the vCPU mutex; stay out of KVM_RUN */
    bool held_all;            /* vcpu_hold_all counted this VP in `hold` (its callers serialize) */
    uint64_t sigmask;         /* the kernel sigset KVM_SET_SIGNAL_MASK last gave KVM (valid when
                                 sigmask_set); touched only by the `busy` holder */
    bool sigmask_set;

    /* An ApicBase the VMM set that KVM applies at the next KVM_RUN, or VP_APIC_BASE_NONE: for
     * other threads (target sets), which must not read the register cache of a running VP. */
    _Atomic uint64_t apic_base_pending;
#define VP_APIC_BASE_NONE UINT64_MAX /* reserved bits set: never a valid ApicBase */
    /* WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER; touched only by the `busy` holder. */
    uint64_t deliverability;
#define DELIVERABILITY_INTERRUPT_WINDOW (1ull << 1) /* InterruptNotification */
#define DELIVERABILITY_SINT_SHIFT 48                 /* Sints: bits 63:48 */
    /* Exits that reached user space, by VP_COUNTER slot, and time in the guest; written by the
     * running thread, read by anyone. */
    _Atomic uint64_t exit_counts[VP_COUNTERS];
    _Atomic uint64_t guest_ns;

    /* Power-on state, captured at creation, for re-creation and WHvResetPartition. */
    struct kvm_sregs initial_sregs;
    struct kvm_regs initial_regs;
    struct kvm_mp_state initial_mp;       /* an AP waits for INIT/SIPI again */
    struct kvm_lapic_state initial_lapic; /* with a LAPIC mode: no stale IRR/ISR, ID, SVR */

    /* Subsystem state, each touched only by its owner. */
    struct apic_vp *apic;   /* apic/ */
    struct synic_vp *synic; /* synic/ */
    struct exit_vp *exit;   /* top/: the completion state of the last exit */
};

/* ---- partitions ---- */

struct handle_slot;
struct apic_part;
struct synic_part;
struct events_part;

struct whp_partition {
    struct handle_slot *slot; /* its handle-table entry (references, generation) */
    struct owl lock;          /* protects config and VP creation/deletion; writers of setup */
    atomic_bool setup;
    int vm_fd;
    GUID vm_id;               /* HvSocket VM id: random, fixed at creation */
    struct whp_config cfg;

    struct mem_map mem;
    struct route_table routes;
    struct whp_vp *_Atomic *vps; /* cfg.processor_count entries after setup; a vp lives until
                                    the partition does */
    atomic_int hold_all;         /* > 0: vcpu_hold_all is in force; no run enters the guest */

    /* Subsystem state, each touched only by its owner. */
    struct apic_part *apic;
    struct synic_part *synic;
    struct events_part *events;
};

/* ---- handle table (handle.c) ----
 * API calls take a reference for their duration; WHvDeletePartition unpublishes the handle and
 * waits for the references to drop. Lookups take no lock. */
struct whp_partition *part_get(WHV_PARTITION_HANDLE h);
void part_put(struct whp_partition *p);
/* part_get plus the checks most calls need: set up, and vp index names an existing VP. */
HRESULT part_get_vp(WHV_PARTITION_HANDLE h, uint32_t index, struct whp_partition **pp,
                    struct whp_vp **vpp);
/* part_get_vp plus exclusive use of the VP (WHV_E_INVALID_VP_STATE while it runs). */
HRESULT vp_acquire(WHV_PARTITION_HANDLE h, uint32_t index, struct whp_partition **pp,
                   struct whp_vp **vpp);
void vp_release(struct whp_partition *p, struct whp_vp *vp);
/* Publishes a new partition: its handle, or E_OUTOFMEMORY when the table is full. */
HRESULT handle_publish(struct whp_partition *p, WHV_PARTITION_HANDLE *h);
/* WHvDeletePartition's first half: unpublishes h and waits until no call holds a reference,
 * calling kick(p) while it waits. NULL when h names no partition. */
struct whp_partition *handle_unpublish(WHV_PARTITION_HANDLE h, void (*kick)(struct whp_partition *));
/* The VP with this index if it exists (no reference taken: the caller holds the partition). */
struct whp_vp *part_vp(struct whp_partition *p, uint32_t index);

/* ---- vCPU primitives (vcpu.c) ---- */
/* Creates the KVM vCPU (unless vp->fd already is one) and captures its power-on state;
 * vcpu_init_lapic (after CPUID is set,
 * which decides the LAPIC's version register) captures the LAPIC's. */
int vcpu_create(struct whp_partition *p, struct whp_vp *vp);
int vcpu_init_lapic(struct whp_partition *p, struct whp_vp *vp);
/* Puts a kept vCPU back to its power-on state (registers, APIC base, LAPIC, activity). */
int vcpu_reset(struct whp_partition *p, struct whp_vp *vp);
/* Loads KVM's registers into the register cache. */
int vcpu_load_cache(struct whp_vp *vp);
void vcpu_destroy(struct whp_vp *vp);
/* Makes KVM_RUN return, if the VP is inside it (the run loop then decides what to do). */
void vp_signal(struct whp_vp *vp);
/* Cancels the run: the sticky request plus a signal. */
void vp_kick(struct whp_vp *vp);
/* At the start of each run: installs the kick handler (its failure fails the run), points it
 * at this VP's kvm_run, and gives KVM_RUN the thread's current signal mask minus the kick
 * (KVM_SET_SIGNAL_MASK only when the mask changed). The thread's own mask is left alone. */
int vcpu_prepare_thread(struct whp_vp *vp);
/* The thread no longer runs vp (vp_release): a late kick must not touch its kvm_run. */
void vcpu_leave_thread(const struct whp_vp *vp);
/* After KVM_RUN ended with EINTR: clears immediate_exit and consumes a kick left pending. */
void vcpu_drain_kick(void);
/* For a KVM_RUN with immediate_exit of the library's own: take vcpu_kick_seq() before setting
 * it, and clear it with vcpu_end_immediate_exit, which keeps it set if a kick came meanwhile. */
unsigned vcpu_kick_seq(void);
void vcpu_end_immediate_exit(struct whp_vp *vp, unsigned seq);
/* Holds every VP of p out of KVM_RUN: when it returns no VP is inside KVM_RUN, and none enters
 * the guest until vcpu_release_all. For changes of the memslots that would otherwise show a
 * running guest its RAM missing. Callers serialize (the memory map's write lock); the calling
 * thread may be one that runs a VP, between runs. */
void vcpu_hold_all(struct whp_partition *p);
void vcpu_release_all(struct whp_partition *p);
/* An ioctl that needs the vCPU mutex, on a VP that may be running: holds it out of the guest,
 * kicks it, then issues the ioctl. */
int vcpu_ioctl_held(struct whp_vp *vp, unsigned long req, void *arg);
/* CR8 is the LAPIC's TPR: the register cache's copy follows a LAPIC write; a CR8 the VMM set
 * but KVM has not applied yet is patched into a LAPIC read. */
void vp_lapic_written(struct whp_vp *vp, const struct kvm_lapic_state *lapic);
void vp_lapic_read(struct whp_vp *vp, struct kvm_lapic_state *lapic);
/* The APIC base KVM will run with: an ApicBase the VMM set but KVM has not applied yet (the
 * next KVM_RUN does), else kvm_base (KVM_GET_SREGS). Safe from any thread. */
uint64_t vp_apic_base(struct whp_vp *vp, uint64_t kvm_base);
/* The run loop, after KVM_RUN: KVM applied the register cache's sregs, ApicBase included. */
void vp_apic_base_applied(struct whp_vp *vp);
/* A 32-bit LAPIC register of a KVM_GET_LAPIC page. */
uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned offset);

/* ---- exit context (exitctx.c) ---- */
void exit_seg_to_whp(const struct kvm_segment *k, WHV_X64_SEGMENT_REGISTER *w);
/* The VpContext every exit carries, from the register cache. */
void exit_fill_context(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx);

#endif
