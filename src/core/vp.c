/* Virtual processors: creation on KVM vCPUs, WHvRunVirtualProcessor and its cancellation, and
 * guest virtual address translation. A kick is a signal that is blocked in the running thread
 * except inside KVM_RUN (KVM_SET_SIGNAL_MASK), so a cancel can never be lost between the check
 * of the cancel flag and the entry into the guest. */
#include "core/core.h"
#include "apic/apic.h"
#include "synic/synic.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The signal that kicks a thread out of KVM_RUN. The library installs a no-op handler for it. */
#define VP_KICK_SIGNAL (SIGRTMAX - 2)

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

/* Blocks the kick signal in the calling thread and makes KVM unblock it inside KVM_RUN. */
static int kick_prepare(struct whp_vp *vp)
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
        uint8_t raw[sizeof(struct kvm_signal_mask) + 8];
    } km;
    km.m.len = 8; /* the kernel's sigset is 64 bits */
    memcpy(km.m.sigset, &thread_mask, 8);
    int r = kvm_ioctl(vp->fd, KVM_SET_SIGNAL_MASK, &km);
    if (r == 0) {
        vp->sigmask_thread = pthread_self();
        vp->sigmask_set = true;
    }
    return r;
}

/* KVM_RUN returns EINTR when a kick is pending but, back in user space with the kick blocked
 * again, the signal stays pending and would end every later KVM_RUN at once: consume it. */
static void kick_drain(void)
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

static int load_cache(struct whp_vp *vp)
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

/* Creates the KVM vCPU, or brings a deleted one back to its power-on state. */
int vp_create_kvm(struct whp_partition *p, struct whp_vp *vp)
{
    int r;
    if (vp->fd < 0) {
        r = kvm_vcpu_create(p->vm_fd, vp->index, &vp->run);
        if (r < 0)
            return r;
        vp->fd = r;
        vp->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
        r = kvm_ioctl(vp->fd, KVM_GET_REGS, &vp->initial_regs);
        if (r == 0)
            r = kvm_ioctl(vp->fd, KVM_GET_SREGS, &vp->initial_sregs);
        if (r == 0)
            r = kvm_ioctl(vp->fd, KVM_GET_MP_STATE, &vp->initial_mp);
        if (r == 0)
            r = cpuid_build(p, vp);
        if (r == 0 && p->apic_mode != WHvX64LocalApicEmulationModeNone) {
            /* Writing the LAPIC once makes KVM rebuild its APIC map: before that, a physical
             * MSI to this VP is dropped (measured here). */
            r = kvm_ioctl(vp->fd, KVM_GET_LAPIC, &vp->initial_lapic);
            if (r == 0)
                r = kvm_ioctl(vp->fd, KVM_SET_LAPIC, &vp->initial_lapic);
        }
    } else {
        /* Re-creation after WHvDeleteVirtualProcessor: the vCPU is kept (KVM cannot destroy
         * one), so everything its guest changed that WHP resets goes back to the power-on
         * values: registers, APIC base (in the sregs, before the LAPIC page it decides the
         * format of), the LAPIC (pending interrupts included) and the activity state (an AP
         * waits for INIT/SIPI again). */
        r = kvm_ioctl(vp->fd, KVM_SET_REGS, &vp->initial_regs);
        if (r == 0)
            r = kvm_ioctl(vp->fd, KVM_SET_SREGS, &vp->initial_sregs);
        struct kvm_vcpu_events ev = {0};
        if (r == 0)
            r = kvm_ioctl(vp->fd, KVM_SET_VCPU_EVENTS, &ev);
        if (r == 0 && p->apic_mode != WHvX64LocalApicEmulationModeNone)
            r = kvm_ioctl(vp->fd, KVM_SET_LAPIC, &vp->initial_lapic);
        if (r == 0)
            r = kvm_ioctl(vp->fd, KVM_SET_MP_STATE, &vp->initial_mp);
    }
    if (r == 0)
        r = prop_apply_vp(p, vp);
    if (r == 0)
        r = load_cache(vp);
    vp->pending = VP_PENDING_NONE;
    vp->queued = false;
    vp->deliverability = 0;
    synic_vp_reset(vp);
    for (int i = 0; i < 8; i++)
        atomic_store(&vp->level_eoi[i], 0);
    for (int i = 0; i < 14; i++)
        atomic_store(&vp->exit_counts[i], 0);
    atomic_store(&vp->guest_ns, 0);
    atomic_store(&vp->cancel, false);
    return r;
}

void vp_destroy(struct whp_vp *vp)
{
    if (vp->fd >= 0) {
        munmap(vp->run, (size_t)kvm_ioctl(kvm_system_fd(), KVM_GET_VCPU_MMAP_SIZE, NULL));
        close(vp->fd);
    }
    pthread_mutex_destroy(&vp->kick_lock);
    free(vp);
}

HRESULT WINAPI WHvCreateVirtualProcessor(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                         UINT32 Flags)
{
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr = S_OK;
    pthread_mutex_lock(&p->lock);
    if (!p->setup)
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    else if (Flags != 0 || VpIndex >= p->processor_count)
        hr = E_INVALIDARG;
    else if (p->vps[VpIndex] && atomic_load(&p->vps[VpIndex]->exists))
        hr = WHV_E_VP_ALREADY_EXISTS;
    if (SUCCEEDED(hr)) {
        struct whp_vp *vp = p->vps[VpIndex];
        if (!vp) {
            vp = calloc(1, sizeof(*vp));
            if (!vp) {
                hr = E_OUTOFMEMORY;
            } else {
                vp->part = p;
                vp->index = VpIndex;
                vp->fd = -1;
                atomic_flag_clear(&vp->busy);
                pthread_mutex_init(&vp->kick_lock, NULL);
            }
        }
        if (vp) {
            int r = vp_create_kvm(p, vp);
            if (r == 0) {
                p->vps[VpIndex] = vp;
                atomic_store(&vp->exists, true);
            } else if (vp->fd < 0) {
                vp_destroy(vp);
            }
            hr = hr_from_errno(r);
        }
    }
    pthread_mutex_unlock(&p->lock);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvCreateVirtualProcessor2(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                          const WHV_VIRTUAL_PROCESSOR_PROPERTY *Properties,
                                          UINT32 PropertyCount)
{
    if (PropertyCount && !Properties)
        return E_INVALIDARG;
    for (UINT32 i = 0; i < PropertyCount; i++) {
        /* NUMA placement is a host scheduling hint with no KVM meaning; accept node 0 only. */
        if (Properties[i].PropertyCode != WHvVirtualProcessorPropertyCodeNumaNode ||
            Properties[i].Reserved != 0 || Properties[i].NumaNode != 0)
            return E_INVALIDARG;
    }
    return WHvCreateVirtualProcessor(Partition, VpIndex, 0);
}

HRESULT WINAPI WHvDeleteVirtualProcessor(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex)
{
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = part_get_vp(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    pthread_mutex_lock(&p->lock);
    if (atomic_flag_test_and_set(&vp->busy)) {
        hr = WHV_E_INVALID_VP_STATE; /* running: cancel it first */
    } else {
        atomic_store(&vp->exists, false);
        atomic_flag_clear(&vp->busy);
    }
    pthread_mutex_unlock(&p->lock);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvCancelRunVirtualProcessor(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                            UINT32 Flags)
{
    if (Flags != 0)
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = part_get_vp(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    vp_kick(vp);
    part_put(p);
    return S_OK;
}

HRESULT WINAPI WHvRunVirtualProcessor(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                      VOID *ExitContext, UINT32 ExitContextSizeInBytes)
{
    if (!ExitContext || ExitContextSizeInBytes < sizeof(WHV_RUN_VP_EXIT_CONTEXT))
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    WHV_RUN_VP_EXIT_CONTEXT *ctx = ExitContext;
    memset(ctx, 0, sizeof(*ctx));
    int r = kick_prepare(vp);
    pthread_mutex_lock(&vp->kick_lock);
    vp->run_thread = pthread_self();
    vp->in_run = true;
    pthread_mutex_unlock(&vp->kick_lock);

    hr = hr_from_errno(r);
    if (vp->queued) {
        /* An exit held back behind a level EOI (apic_order_eoi): it comes first now. */
        *ctx = vp->queued_exit;
        vp->queued = false;
        hr = S_OK;
    }
    while (SUCCEEDED(hr) && ctx->ExitReason == WHvRunVpExitReasonNone) {
        if (atomic_exchange(&vp->cancel, false)) {
            ctx->ExitReason = WHvRunVpExitReasonCanceled;
            ctx->CancelReason.CancelReason = WHvRunVpCancelReasonUser;
            exit_fill_context(vp, ctx);
            break;
        }
        /* A SINT the VMM asked about may be deliverable already: no need to enter the guest. */
        uint16_t sints = vp->deliverability >> 48 ? synic_deliverable(vp) : 0;
        if (sints) {
            exit_fill_context(vp, ctx);
            ctx->ExitReason = WHvRunVpExitReasonSynicSintDeliverable;
            ctx->SynicSintDeliverable.DeliverableSints = sints;
            break;
        }
        r = exit_prepare_run(vp);
        while (atomic_load(&vp->hold))
            sched_yield(); /* another thread is reading this vCPU's LAPIC */
        if (r == 0) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            r = kvm_run(vp->fd);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            atomic_fetch_add_explicit(&vp->guest_ns,
                                      (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000 +
                                                 (t1.tv_nsec - t0.tv_nsec)),
                                      memory_order_relaxed);
        }
        if (r == -EINTR)
            kick_drain();
        if (r == -EINTR || r == -EAGAIN)
            continue;
        if (r < 0) {
            hr = hr_from_errno(r);
            break;
        }
        bool again = false;
        hr = exit_translate(vp, ctx, &again);
        if (!again) {
            if (SUCCEEDED(hr))
                apic_order_eoi(vp, ctx);
            break;
        }
    }

    pthread_mutex_lock(&vp->kick_lock);
    vp->in_run = false;
    pthread_mutex_unlock(&vp->kick_lock);
    vp_release(p, vp);
    return hr;
}

/* ---- guest virtual addresses ---- */

void vp_gva_cpu(struct whp_vp *vp, struct gva_cpu *cpu)
{
    const struct kvm_sregs *s = &vp->run->s.regs.sregs;
    cpu->cr0 = s->cr0;
    cpu->cr3 = s->cr3;
    cpu->cr4 = s->cr4;
    cpu->efer = s->efer;
    cpu->cpl = s->ss.dpl;
}

static int read_phys(void *ctx, uint64_t gpa, uint64_t *val, unsigned size)
{
    return mem_read(ctx, gpa, val, size);
}

size_t vp_read_gva(struct whp_vp *vp, uint64_t gva, void *dst, size_t len)
{
    struct gva_cpu cpu;
    vp_gva_cpu(vp, &cpu);
    size_t done = 0;
    while (done < len) {
        uint64_t gpa;
        if (gva_translate(&cpu, gva + done, 0, read_phys, &vp->part->mem, &gpa) !=
            WHvTranslateGvaResultSuccess)
            break;
        size_t n = 4096 - ((gva + done) & 4095);
        if (n > len - done)
            n = len - done;
        if (mem_read(&vp->part->mem, gpa, (uint8_t *)dst + done, n) < 0)
            break;
        done += n;
    }
    return done;
}

/* CR8 is the LAPIC's TPR: KVM keeps one value, the register cache keeps a copy in the sregs.
 * After the LAPIC page is written, the copy follows it; before the page is read, a CR8 the VMM
 * set but KVM has not seen yet wins. */
void vp_lapic_written(struct whp_vp *vp, const struct kvm_lapic_state *lapic)
{
    uint32_t tpr;
    memcpy(&tpr, lapic->regs + 0x80, 4);
    vp->run->s.regs.sregs.cr8 = (tpr >> 4) & 0xf;
}

void vp_lapic_read(struct whp_vp *vp, struct kvm_lapic_state *lapic)
{
    if (!(vp->run->kvm_dirty_regs & KVM_SYNC_X86_SREGS))
        return;
    uint32_t tpr = (uint32_t)(vp->run->s.regs.sregs.cr8 & 0xf) << 4;
    memcpy(lapic->regs + 0x80, &tpr, 4);
}

bool vp_translate(struct whp_vp *vp, uint64_t gva, uint64_t *gpa)
{
    struct gva_cpu cpu;
    vp_gva_cpu(vp, &cpu);
    return gva_translate(&cpu, gva, 0, read_phys, &vp->part->mem, gpa) == WHvTranslateGvaResultSuccess;
}

HRESULT WINAPI WHvTranslateGva(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                               WHV_GUEST_VIRTUAL_ADDRESS Gva, WHV_TRANSLATE_GVA_FLAGS TranslateFlags,
                               WHV_TRANSLATE_GVA_RESULT *TranslationResult,
                               WHV_GUEST_PHYSICAL_ADDRESS *Gpa)
{
    uint32_t known = WHvTranslateGvaFlagValidateRead | WHvTranslateGvaFlagValidateWrite |
                     WHvTranslateGvaFlagValidateExecute | WHvTranslateGvaFlagPrivilegeExempt |
                     WHvTranslateGvaFlagSetPageTableBits | WHvTranslateGvaFlagEnforceSmap |
                     WHvTranslateGvaFlagOverrideSmap;
    if (!TranslationResult || !Gpa || (TranslateFlags & ~known))
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = part_get_vp(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    struct gva_cpu cpu;
    vp_gva_cpu(vp, &cpu);
    uint64_t gpa = 0;
    memset(TranslationResult, 0, sizeof(*TranslationResult));
    TranslationResult->ResultCode =
        gva_translate(&cpu, Gva, (uint32_t)TranslateFlags, read_phys, &p->mem, &gpa);
    *Gpa = gpa;
    part_put(p);
    return S_OK;
}

HRESULT WINAPI WHvGetVirtualProcessorCounters(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                              WHV_PROCESSOR_COUNTER_SET CounterSet, VOID *Buffer,
                                              UINT32 BufferSizeInBytes, UINT32 *BytesWritten)
{
    union {
        WHV_PROCESSOR_RUNTIME_COUNTERS runtime;
        WHV_PROCESSOR_ACTIVITY_COUNTERS intercepts;
    } c;
    UINT32 len;
    if (CounterSet == WHvProcessorCounterSetRuntime)
        len = sizeof(c.runtime);
    else if (CounterSet == WHvProcessorCounterSetIntercepts)
        len = sizeof(c.intercepts);
    else
        return E_INVALIDARG; /* the other sets have no KVM counterpart here */
    HRESULT hr = hr_output(Buffer, BufferSizeInBytes, BytesWritten, len);
    if (FAILED(hr))
        return hr;
    struct whp_partition *p;
    struct whp_vp *vp;
    hr = part_get_vp(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    memset(&c, 0, sizeof(c));
    if (CounterSet == WHvProcessorCounterSetRuntime) {
        /* Time inside KVM_RUN; the hypervisor's own share is not visible from here. */
        c.runtime.TotalRuntime100ns = atomic_load(&vp->guest_ns) / 100;
    } else {
        /* Counts of exits that reached user space; their time is not measured (0). */
        WHV_PROCESSOR_INTERCEPT_COUNTER *slot = &c.intercepts.PageInvalidations;
        for (int i = 0; i < 14; i++)
            slot[i].Count = atomic_load(&vp->exit_counts[i]);
    }
    memcpy(Buffer, &c, len);
    part_put(p);
    return S_OK;
}
