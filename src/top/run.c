/* The run loop: WHvRunVirtualProcessor, its cancellation, and the VP's counters. One thread at
 * a time owns a VP (`busy`); the loop enters KVM until an exit reaches the VMM. */
#include "obj/obj.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "apic/apic.h"
#include "synic/synic.h"
#include "top/exit.h"
#include "top/exit_cpuid.h"
#include "top/exit_io.h"

#define NS_PER_S 1000000000ll
#define NS_PER_100NS 100
/* The exit context of the SDKs 10.0.17134 to 10.0.18362: the union's largest member was
 * IoPortAccess (96 bytes); later SDKs added Hypercall (176) and AsUINT64[22], 224 bytes in all. */
#define EXIT_CONTEXT_SIZE_FIRST_SDK 144u

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

static void set_in_run(struct whp_vp *vp, bool in)
{
    pthread_mutex_lock(&vp->kick_lock);
    vp->run_thread = pthread_self();
    vp->in_run = in;
    pthread_mutex_unlock(&vp->kick_lock);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * NS_PER_S + t.tv_nsec;
}

/* A buffer of the first SDK's size holds every exit but Hypercall, which only a partition with
 * synthetic features (a property of later SDKs) can produce: refuse it for such partitions. */
static bool exit_context_fits(const struct whp_partition *p, UINT32 size)
{
    return size >= sizeof(WHV_RUN_VP_EXIT_CONTEXT) ||
           (size >= EXIT_CONTEXT_SIZE_FIRST_SDK && !synic_enabled(p));
}

HRESULT WINAPI WHvRunVirtualProcessor(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                      VOID *ExitContext, UINT32 ExitContextSizeInBytes)
{
    if (!ExitContext || ExitContextSizeInBytes < EXIT_CONTEXT_SIZE_FIRST_SDK)
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    if (!exit_context_fits(p, ExitContextSizeInBytes)) {
        vp_release(p, vp);
        return E_INVALIDARG;
    }
    /* The exit is built in an aligned context of ours and copied out at the end: callers may
     * pass less alignment than the type declares (Microsoft's Rust crates give 8, not 16), and
     * the compiler may use aligned vector moves on anything typed WHV_RUN_VP_EXIT_CONTEXT. */
    WHV_RUN_VP_EXIT_CONTEXT exit;
    WHV_RUN_VP_EXIT_CONTEXT *ctx = &exit;
    memset(ctx, 0, sizeof(*ctx));
    int r = vcpu_prepare_thread(vp);
    set_in_run(vp, true);

    hr = hr_from_errno(r);
    exit_cpuid_collect(vp);
    if (apic_take_queued(vp, ctx))
        hr = S_OK; /* an exit held back behind a level EOI comes first now */
    while (SUCCEEDED(hr) && ctx->ExitReason == WHvRunVpExitReasonNone) {
        if (atomic_exchange(&vp->cancel, false)) {
            ctx->ExitReason = WHvRunVpExitReasonCanceled;
            ctx->CancelReason.CancelReason = WHvRunVpCancelReasonUser;
            exit_fill_context(vp, ctx);
            break;
        }
        hr = exit_cpuid_next(vp, ctx);
        if (FAILED(hr) || ctx->ExitReason != WHvRunVpExitReasonNone)
            break;
        /* A SINT the VMM asked about may be deliverable already: no need to enter the guest. */
        uint16_t sints = vp->deliverability >> DELIVERABILITY_SINT_SHIFT ? synic_deliverable(vp) : 0;
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
            int64_t t0 = now_ns();
            r = kvm_run(vp->fd);
            vp_apic_base_applied(vp);
            atomic_fetch_add_explicit(&vp->guest_ns, (uint64_t)(now_ns() - t0), memory_order_relaxed);
        }
        if (r == -EINTR)
            vcpu_drain_kick();
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

    set_in_run(vp, false);
    vp_release(p, vp);
    /* An older SDK's smaller context gets the bytes its layout has; a larger buffer only ours. */
    memcpy(ExitContext, ctx, ExitContextSizeInBytes < sizeof(*ctx) ? ExitContextSizeInBytes : sizeof(*ctx));
    return hr;
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
        c.runtime.TotalRuntime100ns = atomic_load(&vp->guest_ns) / NS_PER_100NS;
    } else {
        /* Counts of exits that reached user space; their time is not measured (0). */
        WHV_PROCESSOR_INTERCEPT_COUNTER *slot = &c.intercepts.PageInvalidations;
        for (size_t i = 0; i < VP_COUNTERS; i++)
            slot[i].Count = atomic_load(&vp->exit_counts[i]);
    }
    memcpy(Buffer, &c, len);
    part_put(p);
    return S_OK;
}
