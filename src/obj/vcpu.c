/* vCPU primitives: creating a KVM vCPU and putting it back to its power-on state, kicking a
 * thread out of KVM_RUN, holding one or every VP out of the guest, and the CR8/TPR coupling of
 * the register cache. A kick is a signal whose handler sets the running VP's immediate_exit, so a
 * kick that lands between the check of the cancel flag and the entry into the guest still ends
 * KVM_RUN; the thread's signal mask stays the VMM's, and KVM_RUN runs with it minus the kick. */
#include "obj/obj.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The signal that kicks a thread out of KVM_RUN. The library installs its handler for it. */
#define VP_KICK_SIGNAL (SIGRTMAX - 2)
#define KERNEL_SIGSET_BYTES 8 /* the kernel's sigset is 64 bits: the first of sigset_t */

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool kick_installed;
/* The kvm_run of the VP this thread runs (NULL outside a run), for the handler; first written
 * by vcpu_prepare_thread, before any kick can reach the thread. */
static _Thread_local struct kvm_run *volatile kick_run;
static _Thread_local volatile sig_atomic_t kick_seq;  /* kicks handled by this thread */
/* How this thread's runs treat the kick, decided at its first run: THROUGH, the thread lets it
 * through and KVM_RUN runs under the thread's own mask (no syscall per run); MASKED, the thread
 * blocks it (QEMU's vCPU threads block every signal), so each run reads the mask and hands KVM a
 * copy without the kick (KVM_SET_SIGNAL_MASK, only when it changed). */
enum kick_mode { KICK_UNCHECKED, KICK_THROUGH, KICK_MASKED };
static _Thread_local enum kick_mode kick_mode;

static void kick_handler(int sig)
{
    (void)sig;
    kick_seq++;
    struct kvm_run *run = kick_run;
    if (run)
        run->immediate_exit = 1;
}

/* Installs the handler once per process; a failure is reported to every run until it works.
 * A handler of the program's own on the signal is refused rather than replaced. */
static int kick_install(void)
{
    if (atomic_load_explicit(&kick_installed, memory_order_acquire))
        return 0;
    pthread_mutex_lock(&install_lock);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    int r = 0;
    if (!atomic_load(&kick_installed)) {
        if (sigaction(VP_KICK_SIGNAL, NULL, &old) != 0)
            r = -errno;
        else if (old.sa_handler != SIG_DFL && old.sa_handler != kick_handler)
            r = -EBUSY;
        else if (sigaction(VP_KICK_SIGNAL, &sa, NULL) != 0)
            r = -errno;
        else
            atomic_store_explicit(&kick_installed, true, memory_order_release);
    }
    pthread_mutex_unlock(&install_lock);
    return r;
}

/* A VP created while the memory map is being changed waits here for its first entry. */
static void wait_partition_hold(const struct whp_partition *p)
{
    while (atomic_load(&p->hold_all))
        sched_yield();
}

/* KVM_RUN's signal mask for this run: the thread's own (none given to KVM) for THROUGH threads,
 * whose every run so honours the VMM's current mask at no cost; a copy without the kick for
 * MASKED ones. Reading the mask costs one rt_sigprocmask (600-775 ns here, 7-9% of a port-I/O
 * exit), so only MASKED threads pay it, per run. */
static int set_run_mask(struct whp_vp *vp)
{
    if (kick_mode == KICK_THROUGH) {
        if (!vp->sigmask_set)
            return 0;
        vp->sigmask_set = false; /* a MASKED thread ran this VP before: back to the live mask */
        return kvm_ioctl(vp->fd, KVM_SET_SIGNAL_MASK, NULL);
    }
    sigset_t cur;
    int r = -pthread_sigmask(SIG_BLOCK, NULL, &cur);
    if (r < 0)
        return r;
    sigdelset(&cur, VP_KICK_SIGNAL);
    uint64_t bits;
    memcpy(&bits, &cur, KERNEL_SIGSET_BYTES);
    if (vp->sigmask_set && vp->sigmask == bits)
        return 0;
    union {
        struct kvm_signal_mask m;
        uint8_t raw[sizeof(struct kvm_signal_mask) + KERNEL_SIGSET_BYTES];
    } km;
    km.m.len = KERNEL_SIGSET_BYTES;
    memcpy(km.m.sigset, &bits, KERNEL_SIGSET_BYTES);
    r = kvm_ioctl(vp->fd, KVM_SET_SIGNAL_MASK, &km);
    vp->sigmask_set = r == 0;
    vp->sigmask = bits;
    return r;
}

int vcpu_prepare_thread(struct whp_vp *vp)
{
    int r = kick_install();
    if (r < 0)
        return r;
    if (kick_mode == KICK_UNCHECKED) {
        sigset_t cur;
        r = -pthread_sigmask(SIG_BLOCK, NULL, &cur);
        if (r < 0)
            return r;
        kick_mode = sigismember(&cur, VP_KICK_SIGNAL) == 1 ? KICK_MASKED : KICK_THROUGH;
    }
    kick_run = vp->run;
    vp->run->immediate_exit = 0; /* a late kick of the last run: its cause is checked anew */
    wait_partition_hold(vp->part);
    return set_run_mask(vp);
}

void vcpu_leave_thread(const struct whp_vp *vp)
{
    if (kick_run == vp->run)
        kick_run = NULL;
}

/* After EINTR: the kick's cause (cancel flag, hold) was set before the signal and is checked
 * after this, so clearing immediate_exit loses nothing. In a MASKED thread the kick stays pending
 * (blocked again in user space) and would end every later KVM_RUN at once: consume it. */
void vcpu_drain_kick(void)
{
    if (kick_run)
        kick_run->immediate_exit = 0;
    if (kick_mode != KICK_MASKED)
        return;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, VP_KICK_SIGNAL);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, NULL, &zero) > 0)
        ;
}

unsigned vcpu_kick_seq(void)
{
    return (unsigned)kick_seq;
}

void vcpu_end_immediate_exit(struct whp_vp *vp, unsigned seq)
{
    vp->run->immediate_exit = 0;
    if ((unsigned)kick_seq != seq)
        vp->run->immediate_exit = 1; /* a kick came meanwhile: the next KVM_RUN must see it */
}

void vp_signal(struct whp_vp *vp)
{
    pthread_mutex_lock(&vp->kick_lock);
    if (vp->in_run)
        pthread_kill(vp->run_thread, VP_KICK_SIGNAL);
    pthread_mutex_unlock(&vp->kick_lock);
}

void vp_kick(struct whp_vp *vp)
{
    atomic_store(&vp->cancel, true);
    vp_signal(vp);
}

int vcpu_ioctl_held(struct whp_vp *vp, unsigned long req, void *arg)
{
    atomic_fetch_add(&vp->hold, 1);
    vp_signal(vp);
    int r = kvm_ioctl(vp->fd, req, arg);
    atomic_fetch_sub(&vp->hold, 1);
    return r;
}

/* Returns once no thread is inside a KVM ioctl of vp: each takes the vCPU's mutex. */
static void wait_out_of_kvm(struct whp_vp *vp)
{
    struct kvm_regs regs;
    kvm_ioctl(vp->fd, KVM_GET_REGS, &regs);
}

/* How the hold works: a run checks vp->hold after every kick's cause could be set and before
 * KVM_RUN; a kick that lands in between sets immediate_exit (or stays pending, when the VMM
 * blocks it), so that KVM_RUN returns before entering the guest. */
void vcpu_hold_all(struct whp_partition *p)
{
    atomic_fetch_add(&p->hold_all, 1); /* before reading vps: a VP published later waits */
    uint32_t n = p->vps ? p->cfg.processor_count : 0;
    for (uint32_t i = 0; i < n; i++) {
        struct whp_vp *vp = atomic_load(&p->vps[i]);
        if (vp && vp->fd >= 0) {
            vp->held_all = true;
            atomic_fetch_add(&vp->hold, 1);
            vp_signal(vp);
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        struct whp_vp *vp = atomic_load(&p->vps[i]);
        if (vp && vp->held_all)
            wait_out_of_kvm(vp);
    }
}

void vcpu_release_all(struct whp_partition *p)
{
    uint32_t n = p->vps ? p->cfg.processor_count : 0;
    for (uint32_t i = 0; i < n; i++) {
        struct whp_vp *vp = atomic_load(&p->vps[i]);
        if (vp && vp->held_all) {
            vp->held_all = false;
            atomic_fetch_sub(&vp->hold, 1);
        }
    }
    atomic_fetch_sub(&p->hold_all, 1);
}

int vcpu_load_cache(struct whp_vp *vp)
{
    atomic_store(&vp->apic_base_pending, VP_APIC_BASE_NONE);
    struct kvm_sync_regs *s = &vp->run->s.regs;
    int r = kvm_ioctl(vp->fd, KVM_GET_REGS, &s->regs);
    if (r == 0)
        r = kvm_ioctl(vp->fd, KVM_GET_SREGS, &s->sregs);
    if (r == 0)
        r = kvm_ioctl(vp->fd, KVM_GET_VCPU_EVENTS, &s->events);
    vp->run->kvm_dirty_regs = 0;
    return r;
}

static bool has_lapic(const struct whp_partition *p)
{
    return p->cfg.apic_mode != WHvX64LocalApicEmulationModeNone;
}

int vcpu_create(struct whp_partition *p, struct whp_vp *vp)
{
    int r;
    if (vp->fd < 0) { /* else a retry after a later step failed: the vCPU exists already */
        r = kvm_vcpu_create(p->vm_fd, vp->index, &vp->run);
        if (r < 0)
            return r;
        vp->fd = r;
        vp->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
    }
    r = kvm_ioctl(vp->fd, KVM_GET_REGS, &vp->initial_regs);
    if (r == 0)
        r = kvm_ioctl(vp->fd, KVM_GET_SREGS, &vp->initial_sregs);
    if (r == 0)
        r = kvm_ioctl(vp->fd, KVM_GET_MP_STATE, &vp->initial_mp);
    return r;
}

int vcpu_init_lapic(struct whp_partition *p, struct whp_vp *vp)
{
    if (!has_lapic(p))
        return 0;
    /* Writing the LAPIC once makes KVM rebuild its APIC map: before that, a physical MSI to this
     * VP is dropped (measured here). */
    int r = kvm_ioctl(vp->fd, KVM_GET_LAPIC, &vp->initial_lapic);
    return r == 0 ? kvm_ioctl(vp->fd, KVM_SET_LAPIC, &vp->initial_lapic) : r;
}

int vcpu_reset(struct whp_partition *p, struct whp_vp *vp)
{
    /* The APIC base lives in the sregs and decides the format of the LAPIC page: sregs first. */
    int r = kvm_ioctl(vp->fd, KVM_SET_REGS, &vp->initial_regs);
    if (r == 0)
        r = kvm_ioctl(vp->fd, KVM_SET_SREGS, &vp->initial_sregs);
    struct kvm_vcpu_events ev = {0};
    if (r == 0)
        r = kvm_ioctl(vp->fd, KVM_SET_VCPU_EVENTS, &ev);
    if (r == 0 && has_lapic(p))
        r = kvm_ioctl(vp->fd, KVM_SET_LAPIC, &vp->initial_lapic);
    if (r == 0)
        r = kvm_ioctl(vp->fd, KVM_SET_MP_STATE, &vp->initial_mp);
    return r;
}

void vcpu_destroy(struct whp_vp *vp)
{
    if (vp->fd >= 0) {
        munmap(vp->run, (size_t)kvm_ioctl(kvm_system_fd(), KVM_GET_VCPU_MMAP_SIZE, NULL));
        close(vp->fd);
    }
    pthread_mutex_destroy(&vp->kick_lock);
}

uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned offset)
{
    uint32_t v;
    memcpy(&v, l->regs + offset, sizeof(v));
    return v;
}

void vp_lapic_written(struct whp_vp *vp, const struct kvm_lapic_state *lapic)
{
    vp->run->s.regs.sregs.cr8 = (lapic_reg(lapic, APIC_OFFSET_TPR) >> APIC_TPR_CLASS_SHIFT) & CR8_TPR_MASK;
}

uint64_t vp_apic_base(struct whp_vp *vp, uint64_t kvm_base)
{
    /* Not the register cache: another thread owns it while the VP runs. */
    uint64_t pending = atomic_load(&vp->apic_base_pending);
    return pending == VP_APIC_BASE_NONE ? kvm_base : pending;
}

void vp_apic_base_applied(struct whp_vp *vp)
{
    /* Read first: this runs after every KVM_RUN, and a store would dirty the line each time. */
    if (atomic_load_explicit(&vp->apic_base_pending, memory_order_relaxed) != VP_APIC_BASE_NONE &&
        !(vp->run->kvm_dirty_regs & KVM_SYNC_X86_SREGS))
        atomic_store_explicit(&vp->apic_base_pending, VP_APIC_BASE_NONE, memory_order_relaxed);
}

void vp_lapic_read(struct whp_vp *vp, struct kvm_lapic_state *lapic)
{
    if (!(vp->run->kvm_dirty_regs & KVM_SYNC_X86_SREGS))
        return;
    uint32_t tpr = (uint32_t)(vp->run->s.regs.sregs.cr8 & CR8_TPR_MASK) << APIC_TPR_CLASS_SHIFT;
    memcpy(lapic->regs + APIC_OFFSET_TPR, &tpr, sizeof(tpr));
}
