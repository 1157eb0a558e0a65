/* What the harnesses that use real partitions share: the /dev/kvm check (a SKIP line and exit 0
 * without it), the set of HRESULTs the library may return, and running a VP on a real-mode
 * program under a watchdog that cancels the run, so no input can hang the fuzzer. */
#ifndef OPENWHP_FUZZ_VM_H
#define OPENWHP_FUZZ_VM_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <WinHvPlatform.h>

#include "fuzz_input.h"

/* Exits the process with a SKIP line when no hypervisor is usable (call from
 * LLVMFuzzerInitialize). */
static inline void fz_require_kvm(const char *name)
{
    BOOL present = FALSE;
    UINT32 written;
    if (FAILED(WHvGetCapability(WHvCapabilityCodeHypervisorPresent, &present, sizeof(present),
                                &written)) ||
        !present) {
        printf("SKIP: %s: /dev/kvm not available\n", name);
        fflush(stdout);
        exit(0);
    }
}

/* Every HRESULT a WHP function of this library may return. E_FAIL is not among them: it is
 * hr_from_errno's "unexpected errno", i.e. an error path nobody thought about. */
static inline bool fz_hr_known(HRESULT hr)
{
    static const HRESULT known[] = {
        S_OK, E_INVALIDARG, E_NOTIMPL, E_HANDLE, E_POINTER, E_OUTOFMEMORY, E_ACCESSDENIED,
        WHV_E_UNKNOWN_CAPABILITY, WHV_E_INSUFFICIENT_BUFFER, WHV_E_UNKNOWN_PROPERTY,
        WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG, WHV_E_INVALID_PARTITION_CONFIG,
        WHV_E_GPA_RANGE_NOT_FOUND, WHV_E_VP_ALREADY_EXISTS, WHV_E_VP_DOES_NOT_EXIST,
        WHV_E_INVALID_VP_STATE, WHV_E_INVALID_VP_REGISTER_NAME,
        WHV_E_UNSUPPORTED_PROCESSOR_CONFIG, ERROR_HV_INVALID_SYNIC_STATE,
        ERROR_HV_OPERATION_DENIED, ERROR_HV_INVALID_PARAMETER, ERROR_HV_OBJECT_IN_USE,
        HRESULT_FROM_WIN32(ERROR_BUSY), HRESULT_FROM_WIN32(ERROR_NOT_FOUND),
        HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED),
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (hr == known[i])
            return true;
    fprintf(stderr, "unexpected HRESULT 0x%08x\n", (unsigned)hr);
    return false;
}

static inline HRESULT fz_hr_check(HRESULT hr, const char *file, int line, const char *call)
{
    if (!fz_hr_known(hr)) {
        fprintf(stderr, "%s:%d: %s\n", file, line, call);
        abort();
    }
    return hr;
}

/* Evaluates a WHP call and aborts on an HRESULT outside fz_hr_known's set. */
#define FZ_HR(call) fz_hr_check((call), __FILE__, __LINE__, #call)

/* ---- running a VP under a watchdog ---- */

struct fz_watchdog {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    WHV_PARTITION_HANDLE part;
    UINT32 vp;
};

static void *fz_watchdog_main(void *arg)
{
    struct fz_watchdog *w = arg;
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += 20 * 1000 * 1000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&w->lock);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cond, &w->lock, &t) != 0)
            break;
    if (!w->done)
        WHvCancelRunVirtualProcessor(w->part, w->vp, 0);
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* WHvRunVirtualProcessor, cancelled after 20 ms if it has not returned. */
static inline HRESULT fz_run(WHV_PARTITION_HANDLE p, UINT32 vp, WHV_RUN_VP_EXIT_CONTEXT *ctx)
{
    struct fz_watchdog w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, p, vp};
    pthread_t t;
    bool watched = pthread_create(&t, NULL, fz_watchdog_main, &w) == 0;
    HRESULT hr = WHvRunVirtualProcessor(p, vp, ctx, sizeof(*ctx));
    if (watched) {
        pthread_mutex_lock(&w.lock);
        w.done = true;
        pthread_cond_signal(&w.cond);
        pthread_mutex_unlock(&w.lock);
        pthread_join(t, NULL);
    }
    return hr;
}

/* Real-mode guest layout in RAM mapped at GPA 0: every IVT vector points at FZ_TRAP, which
 * exits with OUT 0x81; programs start at FZ_CODE and end with OUT 0x80. */
#define FZ_TRAP 0x500u
#define FZ_CODE 0x1000u

static inline void fz_realmode_ram(uint8_t *ram)
{
    for (unsigned v = 0; v < 256; v++) {
        uint16_t ivt[2] = {FZ_TRAP, 0};
        memcpy(ram + 4 * v, ivt, sizeof(ivt));
    }
    ram[FZ_TRAP] = 0xe6; /* out 0x81, al */
    ram[FZ_TRAP + 1] = 0x81;
    ram[FZ_TRAP + 2] = 0xf4; /* hlt */
}

/* Points the VP at FZ_CODE in real mode with CS base 0 and IF clear. */
static inline HRESULT fz_realmode_vp(WHV_PARTITION_HANDLE p, UINT32 vp)
{
    WHV_REGISTER_NAME n[3] = {WHvX64RegisterCs, WHvX64RegisterRip, WHvX64RegisterRflags};
    WHV_REGISTER_VALUE v[3];
    memset(v, 0, sizeof(v));
    v[0].Segment.Limit = 0xffff;
    v[0].Segment.Attributes = 0x9b;
    v[1].Reg64 = FZ_CODE;
    v[2].Reg64 = 2;
    return WHvSetVirtualProcessorRegisters(p, vp, n, 3, v);
}

/* Appends `mov ecx, index; mov eax, lo; mov edx, hi; wrmsr` (or rdmsr) in real-mode encoding;
 * returns the new end. */
static inline uint8_t *fz_emit_msr(uint8_t *at, bool write, uint32_t index, uint64_t value)
{
    const uint8_t movs[3] = {0xb9, 0xb8, 0xba};
    uint32_t imm[3] = {index, (uint32_t)value, (uint32_t)(value >> 32)};
    for (unsigned i = 0; i < 3; i++) {
        *at++ = 0x66;
        *at++ = movs[i];
        memcpy(at, &imm[i], 4);
        at += 4;
    }
    *at++ = 0x0f;
    *at++ = write ? 0x30 : 0x32;
    return at;
}

#endif
