/* Private state of the WHP core: partitions, their memory map and their virtual processors.
 * One lock per owner; what each lock protects is written next to it. */
#ifndef OPENWHP_CORE_H
#define OPENWHP_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "apic/apic_dest.h"
#include "kvm/kvm.h"

/* ---- errors: internal code returns 0 or -errno; the API boundary converts here ---- */
HRESULT hr_from_errno(int neg_errno);
/* The WHP rule for output buffers: *written (optional) gets the size needed; a missing or
 * short buffer is WHV_E_INSUFFICIENT_BUFFER. */
HRESULT hr_output(const void *buf, UINT32 size, UINT32 *written, UINT32 needed);

/* ---- guest physical memory (memory.c) ---- */
struct mem_range {
    uint64_t gpa, size;
    uint8_t *hva;
    uint32_t flags;  /* WHV_MAP_GPA_RANGE_FLAGS */
    uint32_t *slots; /* KVM memslot ids: one per stretch between holes */
    uint32_t nslots;
};

struct mem_hole {
    uint64_t page;
    uint32_t refs; /* doorbells on this page */
};

struct mem_map {
    pthread_rwlock_t lock; /* protects everything below; writers also issue the memslot ioctls */
    struct mem_range *ranges; /* sorted by gpa, never overlapping */
    size_t count, capacity;
    uint8_t *slot_used;    /* one byte per KVM memslot id */
    uint32_t slot_limit;
    struct mem_hole *holes; /* pages no memslot may cover (MMIO doorbells) */
    size_t nholes;
};

int mem_init(struct mem_map *m);
void mem_destroy(struct mem_map *m);
int mem_map(struct mem_map *m, int vm_fd, uint8_t *hva, uint64_t gpa, uint64_t size,
            uint32_t flags);
int mem_unmap(struct mem_map *m, int vm_fd, uint64_t gpa, uint64_t size);
/* Copies guest physical memory; -EFAULT when any byte is unmapped (or, for a write, not
 * writable by the guest, unless `force` is set). */
int mem_read(struct mem_map *m, uint64_t gpa, void *dst, size_t len);
int mem_write(struct mem_map *m, uint64_t gpa, const void *src, size_t len, bool force);
/* Runs fn on the host address of [gpa, gpa+len) while the mapping cannot change: for atomic
 * operations on guest memory shared with running VPs. -EFAULT unless it is writable RAM. */
typedef int (*mem_atomic_fn)(uint8_t *host, void *ctx);
int mem_atomic(struct mem_map *m, uint64_t gpa, size_t len, mem_atomic_fn fn, void *ctx);
/* Adds (or drops one reference to) a hole at gpa's page. */
int mem_hole(struct mem_map *m, int vm_fd, uint64_t gpa, bool add);
/* The WHV_MAP_GPA_RANGE_FLAGS of the page holding gpa as the guest sees it: 0 when unmapped
 * or under a doorbell. */
uint32_t mem_flags(struct mem_map *m, uint64_t gpa);

/* ---- virtual processors (vp.c, regs.c, exit.c) ---- */

/* What KVM still owes for the last exit, so that WHP's completion model (the VMM finishes the
 * access itself and moves RIP) and KVM's (the next KVM_RUN finishes it) agree. */
enum vp_pending {
    VP_PENDING_NONE,
    VP_PENDING_PIO_IN,   /* KVM will complete an IN at the next KVM_RUN */
    VP_PENDING_PIO_OUT,  /* KVM will skip an OUT at the next KVM_RUN (fast path) */
    VP_PENDING_RESTORE,  /* KVM already completed it with dummy data: restore `saved` */
};

/* SynIC registers of one VP (synic/synic.c); under whp_partition.synic_lock. */
struct synic_vp {
    uint64_t scontrol, siefp, simp;
    uint64_t sint[16];
};

struct whp_partition;
struct whp_doorbell;
struct whp_trigger;
struct whp_port;

struct whp_vp {
    struct whp_partition *part;
    uint32_t index;
    int fd;               /* the KVM vCPU; kept after WHvDeleteVirtualProcessor (KVM cannot
                             destroy a vCPU) and reset when the index is created again */
    struct kvm_run *run;  /* run->s.regs is the register cache (KVM_CAP_SYNC_REGS) */
    atomic_bool exists;
    atomic_flag busy;     /* held by the thread inside WHvRunVirtualProcessor */

    /* Cancellation: kick_lock protects run_thread/in_run; cancel is the sticky request. */
    pthread_mutex_t kick_lock;
    pthread_t run_thread;
    bool in_run;
    atomic_bool cancel;
    pthread_t sigmask_thread; /* thread whose mask KVM_SET_SIGNAL_MASK was built from */
    bool sigmask_set;

    /* Exit completion state; only touched by the thread that owns `busy` (or with the VP idle). */
    enum vp_pending pending;
    uint64_t pending_rip;   /* RIP after the instruction */
    uint8_t pending_size;   /* IN: bytes of RAX to hand to KVM */
    struct kvm_regs saved;  /* VP_PENDING_RESTORE: registers to put back */
    struct kvm_regs kvm_regs; /* KVM's registers when they differ from the cache only by our */
    bool kvm_regs_valid;      /* rewind of a retired instruction's RIP */

    uint64_t deliverability; /* WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER */
    struct synic_vp synic;
    atomic_int hold;         /* > 0: another thread needs the vCPU mutex; stay out of KVM_RUN */
    /* Exits that reached user space, by WHV_PROCESSOR_ACTIVITY_COUNTERS slot, and time in the
     * guest; written by the running thread, read by anyone. */
    _Atomic uint64_t exit_counts[14];
    _Atomic uint64_t guest_ns;
    _Atomic uint32_t level_eoi[8]; /* vectors taken level-triggered, whose EOI is an exit */
    bool queued;                   /* queued_exit is the next exit (apic_order_eoi) */
    WHV_RUN_VP_EXIT_CONTEXT queued_exit;
    struct kvm_sregs initial_sregs; /* power-on state, for re-creation */
    struct kvm_regs initial_regs;
    struct kvm_mp_state initial_mp;    /* an AP waits for INIT/SIPI again */
    struct kvm_lapic_state initial_lapic; /* with a LAPIC mode: no stale IRR/ISR, ID, SVR */
};

/* ---- partitions (partition.c, property.c) ---- */

/* GSIs below this are KVM's reserved IOAPIC pins: the only level routes whose EOIs it reports. */
#define APIC_RESERVED_PINS 24

struct apic_level_route {
    bool used;
    uint8_t vector;
    uint32_t apic_id;
};

struct route_entry {
    bool used;     /* installed in KVM */
    bool reserved; /* owned by a trigger */
    struct apic_msi msi;
};

struct route_table {
    pthread_mutex_t lock; /* protects entries, used, the level routes and KVM's routing table */
    struct route_entry *entries; /* indexed by GSI */
    uint32_t limit, used;
};

struct whp_partition {
    uint32_t refs;        /* handle-table references; protected by partition.c's table lock */
    bool dying;           /* WHvDeletePartition waits for refs; same lock */
    pthread_mutex_t lock; /* protects properties and vp creation/deletion; writers of setup */
    atomic_bool setup;
    int vm_fd;
    GUID vm_id; /* HvSocket VM id (hvsock/hvsock.c): random, fixed at creation */

    /* properties (WHvSetPartitionProperty) */
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

    pthread_mutex_t synic_lock; /* protects the two MSRs below and every VP's synic state */
    uint64_t guest_os_id, hypercall_msr;
    pthread_mutex_t events_lock; /* protects the lists below (events/events.h); before routes.lock */
    struct whp_doorbell *doorbells;
    struct whp_trigger *triggers;
    struct whp_port *ports;
    int trigger_epoll, trigger_stop; /* SynicEvent trigger worker (events/trigger.c), or -1 */
    pthread_t trigger_thread;
    bool trigger_running;
    struct route_table routes;
    struct apic_level_route level_routes[APIC_RESERVED_PINS]; /* GSI i; under routes.lock */

    struct mem_map mem;
    struct whp_vp *_Atomic *vps; /* processor_count entries after setup; a vp lives until the
                                    partition does */
};

/* Handle table: API calls take a reference for their duration; delete waits for them. */
struct whp_partition *part_get(WHV_PARTITION_HANDLE h);
void part_put(struct whp_partition *p);
/* part_get plus the checks most calls need: set up, and vp index names an existing VP. */
HRESULT part_get_vp(WHV_PARTITION_HANDLE h, uint32_t index, struct whp_partition **pp,
                    struct whp_vp **vpp);

/* part_get_vp plus exclusive use of the VP (WHV_E_INVALID_VP_STATE while it runs). */
HRESULT vp_acquire(WHV_PARTITION_HANDLE h, uint32_t index, struct whp_partition **pp,
                   struct whp_vp **vpp);
void vp_release(struct whp_partition *p, struct whp_vp *vp);

/* hvsock/hvsock.c: a random (version 4) GUID. */
void hvsock_new_vm_id(GUID *id);

/* property.c */
HRESULT prop_apply_exits(struct whp_partition *p);
int prop_apply_vp(struct whp_partition *p, struct whp_vp *vp);
int cpuid_build(struct whp_partition *p, struct whp_vp *vp);
uint64_t cpu_host_features(int bank);
uint32_t cpu_phys_bits(void);
uint64_t cpu_xsave_features(void);

/* vp.c */
int vp_create_kvm(struct whp_partition *p, struct whp_vp *vp);
void vp_destroy(struct whp_vp *vp);
void vp_kick(struct whp_vp *vp);   /* cancel the run */
void vp_signal(struct whp_vp *vp); /* only make KVM_RUN return, if inside it */

/* exit.c */
HRESULT exit_translate(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx, bool *again);
int exit_prepare_run(struct whp_vp *vp);
void exit_fill_context(struct whp_vp *vp, WHV_RUN_VP_EXIT_CONTEXT *ctx);

/* gva.c: guest page-table walk, pure logic over a physical-memory reader */
struct gva_cpu {
    uint64_t cr0, cr3, cr4, efer;
    unsigned cpl;
};
typedef int (*gva_read_fn)(void *ctx, uint64_t gpa, uint64_t *val, unsigned size);
/* Returns a WHV_TRANSLATE_GVA_RESULT_CODE; *gpa is valid on success. */
uint32_t gva_translate(const struct gva_cpu *cpu, uint64_t gva, uint32_t flags, gva_read_fn rd,
                       void *ctx, uint64_t *gpa);
void vp_gva_cpu(struct whp_vp *vp, struct gva_cpu *cpu);
bool vp_translate(struct whp_vp *vp, uint64_t gva, uint64_t *gpa);
void vp_lapic_written(struct whp_vp *vp, const struct kvm_lapic_state *lapic);
void vp_lapic_read(struct whp_vp *vp, struct kvm_lapic_state *lapic);
/* Reads guest virtual memory through the VP's page tables: bytes read (stops at a fault). */
size_t vp_read_gva(struct whp_vp *vp, uint64_t gva, void *dst, size_t len);

#endif
