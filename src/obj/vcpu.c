/* vCPU primitives: creating a KVM vCPU and putting it back to its power-on state, kicking a
 * thread out of KVM_RUN, holding a running VP out of the guest for an ioctl that needs its
 * mutex, and the CR8/TPR coupling of the register cache. A kick is a signal that is blocked in
 * the running thread except inside KVM_RUN (KVM_SET_SIGNAL_MASK), so a cancel can never be lost
 * between the check of the cancel flag and the entry into the guest. */
#include "obj/obj.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The signal that kicks a thread out of KVM_RUN. The library installs a no-op handler for it. */
#define VP_KICK_SIGNAL (SIGRTMAX - 2)
#define KERNEL_SIGSET_BYTES 8 /* the kernel's sigset is 64 bits */

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;
static _Thread_local bool kick_blocked;
static _Thread_local sigset_t thread_mask; /* this thread's mask before we blocked the kick */

static void kick_handler(int sig)
{
    (void)sig;
}

static void kick_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kick_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(VP_KICK_SIGNAL, &sa, NULL);
}

int vcpu_prepare_thread(struct whp_vp *vp)
{
    pthread_once(&kick_once, kick_install);
    if (!kick_blocked) {
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, VP_KICK_SIGNAL);
        pthread_sigmask(SIG_BLOCK, &block, &thread_mask);
        sigdelset(&thread_mask, VP_KICK_SIGNAL);
        kick_blocked = true;
    }
    if (vp->sigmask_set && pthread_equal(vp->sigmask_thread, pthread_self()))
        return 0;
    union {
        struct kvm_signal_mask m;
        uint8_t raw[sizeof(struct kvm_signal_mask) + KERNEL_SIGSET_BYTES];
    } km;
    km.m.len = KERNEL_SIGSET_BYTES;
    memcpy(km.m.sigset, &thread_mask, KERNEL_SIGSET_BYTES);
    int r = kvm_ioctl(vp->fd, KVM_SET_SIGNAL_MASK, &km);
    if (r == 0) {
        vp->sigmask_thread = pthread_self();
        vp->sigmask_set = true;
    }
    return r;
}

/* KVM_RUN returns EINTR when a kick is pending but, back in user space with the kick blocked
 * again, the signal stays pending and would end every later KVM_RUN at once: consume it. */
void vcpu_drain_kick(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, VP_KICK_SIGNAL);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&s, NULL, &zero) > 0)
        ;
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

int vcpu_load_cache(struct whp_vp *vp)
{
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
    /* Another thread may be the VP's owner: read the flag and the value once each. */
    uint64_t dirty = __atomic_load_n(&vp->run->kvm_dirty_regs, __ATOMIC_ACQUIRE);
    if (!(dirty & KVM_SYNC_X86_SREGS))
        return kvm_base;
    return __atomic_load_n(&vp->run->s.regs.sregs.apic_base, __ATOMIC_RELAXED);
}

void vp_lapic_read(struct whp_vp *vp, struct kvm_lapic_state *lapic)
{
    if (!(vp->run->kvm_dirty_regs & KVM_SYNC_X86_SREGS))
        return;
    uint32_t tpr = (uint32_t)(vp->run->s.regs.sregs.cr8 & CR8_TPR_MASK) << APIC_TPR_CLASS_SHIFT;
    memcpy(lapic->regs + APIC_OFFSET_TPR, &tpr, sizeof(tpr));
}
