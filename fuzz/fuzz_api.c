/* Fuzzes the public API (WinHvPlatform.h and the openwhp event/doorbell extensions): each input
 * is a sequence of calls with random arguments against real partitions. Handles come from small
 * tables (two partition slots, four events, triggers and ports) so calls meet real objects,
 * deleted ones (use after delete) and forged ones. VPs run real-mode code from the input under a
 * watchdog. Every HRESULT must be one the library documents; a call through a deleted or forged
 * handle, or on a VP that does not exist, must never succeed; creation and deletion succeed
 * exactly when the model says the object is absent or present. Everything is deleted at the end
 * of the input, so inputs are independent and LeakSanitizer sees any leak. */
#include <openwhp/doorbell.h>
#include <openwhp/event.h>
#include <openwhp/interrupt_types.h>

#include "fuzz_vm.h"

#define RAM_SIZE 0x10000u
#define NPARTS 2
#define NVPS 4 /* indexes usually tried; ProcessorCount is chosen by the input */
#define MAX_VP 320 /* indexes the model tracks: pick_vp returns below this or UINT32_MAX */
#define NOBJ 4

struct part {
    WHV_PARTITION_HANDLE h;
    bool live, setup;
    uint32_t count; /* ProcessorCount as set */
    bool vp[MAX_VP];
    uint8_t *ram;
};

struct obj {
    void *h;       /* trigger or port handle */
    unsigned part; /* the slot it belongs to */
    bool live;
};

static struct {
    struct part parts[NPARTS];
    WHV_PARTITION_HANDLE stale[NOBJ]; /* deleted partitions */
    unsigned nstale;
    HANDLE events[NOBJ], closed_event;
    struct obj triggers[NOBJ], ports[NOBJ];
    HANDLE trigger_events[NOBJ * 8]; /* owned by us once WHvCreateTrigger returns them */
    unsigned ntrigger_events;
    unsigned slow; /* operations that cost milliseconds so far */
} S;

/* Memslot and ioeventfd changes wait for KVM's SRCU grace period (~8 ms here) and a run costs a
 * thread and guest entries: a few per input keep the harness at hundreds of inputs a second. */
#define SLOW_PER_INPUT 6

static bool slow_op(void)
{
    return S.slow++ < SLOW_PER_INPUT;
}

/* ---- choosing arguments ---- */

/* A partition handle and, when it is one of ours and alive, its slot (else NULL). */
static WHV_PARTITION_HANDLE pick_part(struct fz *f, struct part **slot)
{
    uint8_t how = fz_u8(f);
    *slot = NULL;
    if (how < 0xd0) {
        struct part *p = &S.parts[how % NPARTS];
        if (p->live)
            *slot = p;
        return p->h; /* NULL or a stale handle when the slot is empty */
    }
    if (how < 0xf0 && S.nstale)
        return S.stale[how % (S.nstale < NOBJ ? S.nstale : NOBJ)];
    if (how < 0xf8)
        return NULL;
    /* Forged; the fuzzer may learn a live handle's value from the library's comparisons. */
    WHV_PARTITION_HANDLE h = (WHV_PARTITION_HANDLE)(uintptr_t)fz_u64(f);
    for (unsigned i = 0; i < NPARTS; i++)
        if (S.parts[i].live && S.parts[i].h == h)
            *slot = &S.parts[i];
    return h;
}

/* A call that got a handle no live partition has must fail. */
static void must_fail_without(const struct part *slot, HRESULT hr)
{
    if (!slot)
        FZ_CHECK(FAILED(hr));
}

static UINT32 pick_vp(struct fz *f)
{
    uint8_t v = fz_u8(f);
    return v < 0xf0 ? v % NVPS : v == 0xff ? UINT32_MAX : 64u + v;
}

static bool vp_exists(const struct part *slot, UINT32 vp)
{
    return slot && slot->setup && vp < MAX_VP && slot->vp[vp];
}

static uint64_t pick_gpa(struct fz *f)
{
    static const uint64_t gpas[] = {0, 0x1000, 0x8000, RAM_SIZE, 0xfee00000, 0xfec00000,
                                    0xfffff000, 1ull << 36, 1ull << 52, 0x123};
    return fz_u8(f) & 0x80 ? fz_u64(f) : FZ_PICK(f, gpas);
}

static HANDLE pick_event(struct fz *f)
{
    uint8_t how = fz_u8(f);
    if (how < 0xe0) {
        HANDLE *e = &S.events[how % NOBJ];
        if (!*e)
            *e = OpenWhpCreateEvent(how & 0x10, FALSE);
        return *e;
    }
    if (how < 0xf0)
        return S.closed_event;
    return how < 0xf8 ? NULL : (HANDLE)(uintptr_t)fz_u64(f);
}

static void fill_interrupt(struct fz *f, WHV_INTERRUPT_CONTROL *c)
{
    static const uint8_t types[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    memset(c, 0, sizeof(*c));
    if (fz_u8(f) < 0x20) {
        fz_bytes(f, c, sizeof(*c));
        return;
    }
    c->Type = FZ_PICK(f, types);
    c->DestinationMode = fz_u8(f) & 1;
    c->TriggerMode = fz_u8(f) & 1;
    c->Destination = fz_u8(f) < 0xf0 ? fz_u8(f) % NVPS : fz_u32(f);
    c->Vector = fz_u8(f) < 0xf0 ? 0x20 + fz_u8(f) % 0xe0 : fz_u32(f);
}

/* ---- partitions ---- */

/* After a successful delete: the handle joins the stale ones and stays in its slot, so later
 * calls through the slot use it after delete. */
static void free_part(struct part *p)
{
    WHV_PARTITION_HANDLE h = p->h;
    S.stale[S.nstale++ % NOBJ] = h;
    free(p->ram);
    memset(p, 0, sizeof(*p));
    p->h = h;
    for (unsigned k = 0; k < NOBJ; k++) {
        if (S.triggers[k].live && &S.parts[S.triggers[k].part] == p)
            S.triggers[k].live = false;
        if (S.ports[k].live && &S.parts[S.ports[k].part] == p)
            S.ports[k].live = false;
    }
}

static void op_create(struct fz *f)
{
    struct part *p = &S.parts[fz_u8(f) % NPARTS];
    if (p->live)
        return;
    WHV_PARTITION_HANDLE h;
    HRESULT hr = FZ_HR(WHvCreatePartition(fz_u8(f) == 0xff ? NULL : &h));
    if (FAILED(hr))
        return;
    memset(p, 0, sizeof(*p));
    p->h = h;
    p->live = true;
    p->ram = aligned_alloc(4096, RAM_SIZE);
    FZ_CHECK(p->ram);
    memset(p->ram, 0, RAM_SIZE);
    fz_realmode_ram(p->ram);
}

static void op_delete(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    HRESULT hr = FZ_HR(WHvDeletePartition(h));
    FZ_CHECK(SUCCEEDED(hr) == (slot != NULL));
    if (slot)
        free_part(slot);
}

static void op_setup(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    HRESULT hr = FZ_HR(WHvSetupPartition(h));
    must_fail_without(slot, hr);
    if (slot && SUCCEEDED(hr)) {
        FZ_CHECK(!slot->setup);
        slot->setup = true;
    }
}

static void op_reset(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    must_fail_without(slot, FZ_HR(WHvResetPartition(h)));
}

static const UINT32 prop_codes[] = {
    0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0x9, 0xa, 0xb, 0xc, 0xd, 0x1001, 0x1002, 0x1003,
    0x1004, 0x1005, 0x1006, 0x1007, 0x1008, 0x1009, 0x100a, 0x100b, 0x100c, 0x100d, 0x100e,
    0x100f, 0x1010, 0x1011, 0x1fff, 0x0, 0x7fffffff,
};

static void op_set_property(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 code = FZ_PICK(f, prop_codes);
    uint8_t buf[512];
    memset(buf, 0, sizeof(buf));
    UINT32 size = fz_u8(f) & 0x80 ? fz_below(f, sizeof(buf) + 1) : sizeof(WHV_PARTITION_PROPERTY);
    uint8_t how = fz_u8(f);
    if (how < 0x80) { /* a small value: counts, modes, bit sets */
        uint64_t v = how & 0x40 ? fz_u8(f) % 5 : fz_u64(f);
        memcpy(buf, &v, sizeof(v));
    } else {
        fz_bytes(f, buf, size);
    }
    HRESULT hr = FZ_HR(WHvSetPartitionProperty(h, (WHV_PARTITION_PROPERTY_CODE)code,
                                               how == 0xff ? NULL : buf, size));
    must_fail_without(slot, hr);
    if (slot && SUCCEEDED(hr) && code == WHvPartitionPropertyCodeProcessorCount) {
        FZ_CHECK(!slot->setup);
        memcpy(&slot->count, buf, sizeof(slot->count));
    }
}

static void op_get_property(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 code = FZ_PICK(f, prop_codes);
    UINT32 size = fz_u8(f) & 0x80 ? fz_below(f, 1025) : sizeof(WHV_PARTITION_PROPERTY), written = 0;
    uint8_t *buf = malloc(size ? size : 1); /* exactly the size passed: ASan sees overruns */
    HRESULT hr = FZ_HR(WHvGetPartitionProperty(h, (WHV_PARTITION_PROPERTY_CODE)code,
                                               fz_u8(f) == 0xff ? NULL : buf, size, &written));
    must_fail_without(slot, hr);
    if (SUCCEEDED(hr))
        FZ_CHECK(written <= size);
    free(buf);
}

static void op_capability(struct fz *f)
{
    static const UINT32 codes[] = {0, 1, 2, 3, 4, 5, 0x1000, 0x1001, 0x1002, 0x1003, 0x1004,
                                   0x1005, 0x1006, 0x1007, 0x1008, 0x1009, 0x100a, 0xffff};
    UINT32 code = fz_u8(f) & 0x80 ? fz_u32(f) : FZ_PICK(f, codes);
    UINT32 size = fz_below(f, 257), written = 0;
    uint8_t *buf = malloc(size ? size : 1);
    HRESULT hr = FZ_HR(WHvGetCapability((WHV_CAPABILITY_CODE)code, buf, size, &written));
    if (SUCCEEDED(hr))
        FZ_CHECK(written <= size);
    free(buf);
}

/* ---- memory ---- */

static void op_map(struct fz *f)
{
    if (!slow_op())
        return;
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    static const uint64_t sizes[] = {0x1000, 0x2000, 0x8000, RAM_SIZE, 0, 0x800, 0x1001};
    uint64_t off = (uint64_t)(fz_u8(f) % 16) << 12, size = FZ_PICK(f, sizes);
    if (off + size > RAM_SIZE) /* never hand the library memory we do not own */
        size = RAM_SIZE - off;
    if (fz_u8(f) == 0xfe)
        off += 0x10; /* misaligned host address */
    uint32_t flags = fz_u8(f) < 0xc0 ? 0x7 : fz_u32(f);
    uint8_t *host = slot ? slot->ram + off : (uint8_t *)(uintptr_t)0x1000; /* never used */
    HRESULT hr = FZ_HR(WHvMapGpaRange(h, fz_u8(f) == 0xff ? NULL : host, pick_gpa(f), size,
                                      (WHV_MAP_GPA_RANGE_FLAGS)flags));
    must_fail_without(slot, hr);
}

static void op_unmap(struct fz *f)
{
    if (!slow_op())
        return;
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    uint64_t size = fz_u8(f) & 0x80 ? fz_u64(f) : (uint64_t)(fz_u8(f) % 17) << 12;
    must_fail_without(slot, FZ_HR(WHvUnmapGpaRange(h, pick_gpa(f), size)));
}

static void op_rw_gpa(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 vp = pick_vp(f);
    UINT32 size = fz_below(f, 301);
    uint8_t *buf = malloc(size ? size : 1), *back = malloc(size ? size : 1);
    WHV_ACCESS_GPA_CONTROLS ctl = {.AsUINT64 = fz_u8(f) == 0xff ? fz_u64(f) : 0};
    uint64_t gpa = fz_u8(f) & 1 ? pick_gpa(f) : fz_u16(f);
    HRESULT hr;
    if (fz_u8(f) & 1) {
        fz_bytes(f, buf, size);
        hr = FZ_HR(WHvWriteGpaRange(h, vp, gpa, ctl, buf, size));
        if (SUCCEEDED(hr) && SUCCEEDED(FZ_HR(WHvReadGpaRange(h, vp, gpa, ctl, back, size))))
            FZ_CHECK(!memcmp(back, buf, size)); /* what was written reads back */
    } else {
        hr = FZ_HR(WHvReadGpaRange(h, vp, gpa, ctl, buf, size));
    }
    must_fail_without(slot, hr);
    free(buf);
    free(back);
}

/* ---- virtual processors ---- */

static void op_create_vp(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 vp = pick_vp(f);
    HRESULT hr;
    if (fz_u8(f) & 1) {
        WHV_VIRTUAL_PROCESSOR_PROPERTY prop[2];
        memset(prop, 0, sizeof(prop));
        prop[0].PropertyCode = (WHV_VIRTUAL_PROCESSOR_PROPERTY_CODE)(fz_u8(f) == 0xff);
        prop[0].NumaNode = fz_u8(f) & 3;
        hr = FZ_HR(WHvCreateVirtualProcessor2(h, vp, prop, fz_u8(f) % 3));
    } else {
        hr = FZ_HR(WHvCreateVirtualProcessor(h, vp, fz_u8(f) == 0xff));
    }
    must_fail_without(slot, hr);
    if (SUCCEEDED(hr)) {
        FZ_CHECK(slot->setup && vp < MAX_VP && vp < slot->count && !slot->vp[vp]);
        slot->vp[vp] = true;
    }
}

static void op_delete_vp(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 vp = pick_vp(f);
    bool existed = vp_exists(slot, vp);
    HRESULT hr = FZ_HR(WHvDeleteVirtualProcessor(h, vp));
    FZ_CHECK(SUCCEEDED(hr) == existed);
    if (existed)
        slot->vp[vp] = false;
}

static WHV_REGISTER_NAME pick_reg(struct fz *f)
{
    static const uint32_t bases[] = {0x0, 0x10, 0x1000, 0x2000, 0x2080, 0x3000, 0x4000, 0x5000,
                                     0x6000, 0x7000, 0x80000000};
    uint8_t how = fz_u8(f);
    if (how == 0xff)
        return (WHV_REGISTER_NAME)fz_u32(f);
    return (WHV_REGISTER_NAME)(FZ_PICK(f, bases) + (how & 0x3f));
}

static void op_registers(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 vp = pick_vp(f), n = fz_below(f, 5);
    /* Arrays of exactly n entries: ASan sees any access past RegisterCount. */
    WHV_REGISTER_NAME *names = malloc(sizeof(*names) * (n ? n : 1));
    WHV_REGISTER_VALUE *vals = calloc(n ? n : 1, sizeof(*vals));
    WHV_REGISTER_VALUE *back = calloc(n ? n : 1, sizeof(*back));
    for (UINT32 i = 0; i < n; i++)
        names[i] = pick_reg(f);
    HRESULT hr;
    if (fz_u8(f) & 1) {
        for (UINT32 i = 0; i < n; i++)
            fz_bytes(f, &vals[i], fz_u8(f) & 1 ? 8 : sizeof(vals[i]));
        hr = FZ_HR(WHvSetVirtualProcessorRegisters(h, vp, names, n, vals));
        /* General-purpose registers read back as written (unless named twice). */
        if (SUCCEEDED(hr) && n && SUCCEEDED(FZ_HR(WHvGetVirtualProcessorRegisters(h, vp, names, n, back))))
            for (UINT32 i = 0; i < n; i++) {
                bool twice = false;
                for (UINT32 j = 0; j < n; j++)
                    twice |= j != i && names[j] == names[i];
                if (names[i] <= WHvX64RegisterR15 && !twice)
                    FZ_CHECK(back[i].Reg64 == vals[i].Reg64);
            }
    } else {
        hr = FZ_HR(WHvGetVirtualProcessorRegisters(h, vp, names, n, vals));
    }
    must_fail_without(slot, hr);
    if (n && SUCCEEDED(hr))
        FZ_CHECK(vp_exists(slot, vp));
    free(names);
    free(vals);
    free(back);
}

static void op_interrupt(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    WHV_INTERRUPT_CONTROL c;
    fill_interrupt(f, &c);
    UINT32 size = fz_u8(f) == 0xff ? fz_u8(f) : sizeof(c);
    must_fail_without(slot, FZ_HR(WHvRequestInterrupt(h, &c, size)));
}

static void op_target_set(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 n = 0, count = fz_below(f, 9);
    UINT32 *vps = malloc(sizeof(*vps) * (count ? count : 1));
    HRESULT hr = FZ_HR(WHvGetInterruptTargetVpSet(h, fz_u8(f) & 0x80 ? fz_u64(f) : fz_u8(f),
                                                  (WHV_INTERRUPT_DESTINATION_MODE)(fz_u8(f) % 3),
                                                  vps, count, &n));
    must_fail_without(slot, hr);
    if (SUCCEEDED(hr)) {
        FZ_CHECK(n <= count);
        for (UINT32 i = 0; i < n; i++)
            FZ_CHECK(vp_exists(slot, vps[i]));
    }
    free(vps);
}

static void op_vp_state(struct fz *f)
{
    static const UINT32 types[] = {0, 1, 2, 0x1000, 0x1001, 0x1002, 3, 0xffffffff};
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 vp = pick_vp(f), type = FZ_PICK(f, types);
    UINT32 size = fz_u8(f) & 0x80 ? fz_below(f, 8193) : 4096, written = 0;
    uint8_t *buf = calloc(1, size ? size : 1);
    HRESULT hr;
    bool legacy = fz_u8(f) < 0x40; /* the ...InterruptControllerState2 spelling */
    if (legacy)
        hr = FZ_HR(WHvGetVirtualProcessorInterruptControllerState2(h, vp, buf, size, &written));
    else
        hr = FZ_HR(WHvGetVirtualProcessorState(h, vp, (WHV_VIRTUAL_PROCESSOR_STATE_TYPE)type, buf,
                                               size, &written));
    must_fail_without(slot, hr);
    if (SUCCEEDED(hr)) {
        FZ_CHECK(written <= size && vp_exists(slot, vp));
        /* Write it back, perhaps damaged: the guest-visible state the VMM restores. */
        unsigned flips = fz_u8(f) % 8;
        for (unsigned i = 0; i < flips && written; i++)
            buf[fz_u16(f) % written] ^= (uint8_t)(1u << (fz_u8(f) & 7));
        UINT32 back = fz_u8(f) == 0xff ? fz_u16(f) % (size + 1) : written;
        if (legacy)
            FZ_HR(WHvSetVirtualProcessorInterruptControllerState2(h, vp, buf, back));
        else
            FZ_HR(WHvSetVirtualProcessorState(h, vp, (WHV_VIRTUAL_PROCESSOR_STATE_TYPE)type, buf,
                                              back));
    }
    free(buf);
}

static void op_translate(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 vp = pick_vp(f);
    WHV_TRANSLATE_GVA_RESULT r;
    WHV_GUEST_PHYSICAL_ADDRESS gpa;
    uint32_t flags = fz_u8(f) < 0xf0 ? fz_u8(f) & 0x3f : fz_u32(f);
    HRESULT hr = FZ_HR(WHvTranslateGva(h, vp, pick_gpa(f), (WHV_TRANSLATE_GVA_FLAGS)flags, &r, &gpa));
    must_fail_without(slot, hr);
    if (SUCCEEDED(hr))
        FZ_CHECK(r.ResultCode <= WHvTranslateGvaResultGpaUnmapped ||
                 r.ResultCode == WHvTranslateGvaResultGpaNoReadAccess ||
                 r.ResultCode == WHvTranslateGvaResultGpaNoWriteAccess ||
                 r.ResultCode == WHvTranslateGvaResultGpaIllegalOverlayAccess ||
                 r.ResultCode == WHvTranslateGvaResultIntercept);
}

static void op_counters(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 vp = pick_vp(f), size = fz_below(f, 257), written = 0;
    uint8_t *buf = malloc(size ? size : 1);
    HRESULT hr = FZ_HR(WHvGetVirtualProcessorCounters(h, vp, (WHV_PROCESSOR_COUNTER_SET)fz_u8(f) % 6,
                                                      buf, size, &written));
    must_fail_without(slot, hr);
    if (SUCCEEDED(hr))
        FZ_CHECK(written <= size);
    free(buf);
}

/* Runs a VP on real-mode code from the input (then OUT 0x80), completing port-I/O exits by
 * moving RIP, for a few rounds; the watchdog cancels anything that does not exit. */
static void op_run(struct fz *f)
{
    if (!slow_op())
        return;
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    UINT32 vp = pick_vp(f);
    if (slot) {
        uint8_t n = fz_u8(f) % 32;
        fz_bytes(f, slot->ram + FZ_CODE, n);
        slot->ram[FZ_CODE + n] = 0xe6; /* out 0x80, al */
        slot->ram[FZ_CODE + n + 1] = 0x80;
        if (fz_u8(f) & 1)
            FZ_HR(fz_realmode_vp(h, vp));
    }
    for (unsigned round = 0, rounds = fz_u8(f) % 4 + 1; round < rounds; round++) {
        WHV_RUN_VP_EXIT_CONTEXT ctx;
        HRESULT hr = FZ_HR(fz_run(h, vp, &ctx));
        must_fail_without(slot, hr);
        if (FAILED(hr))
            return;
        FZ_CHECK(vp_exists(slot, vp));
        if (ctx.ExitReason != WHvRunVpExitReasonX64IoPortAccess &&
            ctx.ExitReason != WHvRunVpExitReasonMemoryAccess)
            continue;
        WHV_REGISTER_NAME n = WHvX64RegisterRip;
        WHV_REGISTER_VALUE v;
        memset(&v, 0, sizeof(v));
        v.Reg64 = ctx.VpContext.Rip + ctx.VpContext.InstructionLength;
        FZ_HR(WHvSetVirtualProcessorRegisters(h, vp, &n, 1, &v));
    }
}

static void op_cancel(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    must_fail_without(slot, FZ_HR(WHvCancelRunVirtualProcessor(h, pick_vp(f), fz_u8(f) == 0xff)));
}

/* ---- events, doorbells, triggers, ports ---- */

static void fill_doorbell(struct fz *f, WHV_DOORBELL_MATCH_DATA *m)
{
    memset(m, 0, sizeof(*m));
    m->GuestAddress = fz_u8(f) & 1 ? pick_gpa(f) : fz_u16(f);
    m->Value = fz_u8(f);
    m->Length = fz_u8(f) % 9;
    m->MatchOnValue = fz_u8(f) & 1;
    m->MatchOnLength = fz_u8(f) & 1;
}

static void op_doorbell(struct fz *f)
{
    if (!slow_op())
        return;
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    WHV_DOORBELL_MATCH_DATA m;
    fill_doorbell(f, &m);
    uint8_t how = fz_u8(f) % 4;
    HRESULT hr;
    if (how == 0)
        hr = FZ_HR(WHvRegisterPartitionDoorbellEvent(h, &m, pick_event(f)));
    else if (how == 1)
        hr = FZ_HR(WHvUnregisterPartitionDoorbellEvent(h, &m));
    else if (how == 2)
        hr = FZ_HR(OpenWhpRegisterPortDoorbellEvent(h, &m, pick_event(f)));
    else
        hr = FZ_HR(OpenWhpUnregisterPortDoorbellEvent(h, &m));
    must_fail_without(slot, hr);
}

static void fill_trigger(struct fz *f, WHV_TRIGGER_PARAMETERS *t)
{
    memset(t, 0, sizeof(*t));
    t->TriggerType = (WHV_TRIGGER_TYPE)(fz_u8(f) % 4);
    if (t->TriggerType == WHvTriggerTypeInterrupt) {
        fill_interrupt(f, &t->Interrupt);
    } else if (t->TriggerType == WHvTriggerTypeSynicEvent) {
        t->SynicEvent.VpIndex = pick_vp(f);
        t->SynicEvent.TargetSint = fz_u8(f) % 17;
        t->SynicEvent.FlagNumber = fz_u16(f) % 2100;
    } else {
        t->DeviceInterrupt.MsiAddress = fz_u8(f) & 1 ? 0xfee00000ull | (fz_u8(f) % NVPS) << 12
                                                     : fz_u64(f);
        t->DeviceInterrupt.MsiData = fz_u8(f) & 1 ? 0x20u + fz_u8(f) % 0xe0 : fz_u32(f);
        t->DeviceInterrupt.LogicalDeviceId = fz_u8(f);
    }
    if (fz_u8(f) == 0xff)
        t->Reserved = 1;
}

static struct obj *pick_obj(struct fz *f, struct obj *table, unsigned *slot_part)
{
    struct obj *o = &table[fz_u8(f) % NOBJ];
    *slot_part = o->part;
    return o;
}

static void op_trigger(struct fz *f)
{
    unsigned pi;
    struct obj *o = pick_obj(f, S.triggers, &pi);
    uint8_t how = fz_u8(f) % 4;
    WHV_TRIGGER_PARAMETERS t;
    fill_trigger(f, &t);
    if (how == 0 && !o->live) {
        struct part *slot;
        WHV_PARTITION_HANDLE h = pick_part(f, &slot);
        WHV_TRIGGER_HANDLE th = NULL;
        HANDLE ev = NULL;
        HRESULT hr = FZ_HR(WHvCreateTrigger(h, &t, &th, &ev));
        must_fail_without(slot, hr);
        if (SUCCEEDED(hr)) {
            FZ_CHECK(th && ev);
            *o = (struct obj){th, (unsigned)(slot - S.parts), true};
            FZ_CHECK(S.ntrigger_events < sizeof(S.trigger_events) / sizeof(S.trigger_events[0]));
            S.trigger_events[S.ntrigger_events++] = ev;
        }
        return;
    }
    if (!o->h)
        return;
    WHV_PARTITION_HANDLE h = S.parts[pi].h;
    if (how == 1) {
        HRESULT hr = FZ_HR(WHvDeleteTrigger(h, o->h));
        FZ_CHECK(SUCCEEDED(hr) == o->live);
        o->live = false;
    } else if (how == 2) {
        HRESULT hr = FZ_HR(WHvUpdateTriggerParameters(h, &t, o->h));
        if (!o->live)
            FZ_CHECK(FAILED(hr));
    } else if (S.ntrigger_events) {
        OpenWhpSetEvent(S.trigger_events[fz_u8(f) % S.ntrigger_events]);
    }
}

static void op_port(struct fz *f)
{
    if (!slow_op())
        return;
    unsigned pi;
    struct obj *o = pick_obj(f, S.ports, &pi);
    uint8_t how = fz_u8(f) % 3;
    if (how == 0 && !o->live) {
        struct part *slot;
        WHV_PARTITION_HANDLE h = pick_part(f, &slot);
        WHV_NOTIFICATION_PORT_PARAMETERS prm;
        memset(&prm, 0, sizeof(prm));
        prm.NotificationPortType = fz_u8(f) & 1 ? WHvNotificationPortTypeEvent
                                                : WHvNotificationPortTypeDoorbell;
        if (prm.NotificationPortType == WHvNotificationPortTypeEvent)
            prm.Event.ConnectionId = fz_u8(f) & 0x80 ? fz_u32(f) : fz_u8(f) % 4;
        else
            fill_doorbell(f, &prm.Doorbell);
        if (fz_u8(f) == 0xff)
            prm.NotificationPortType = (WHV_NOTIFICATION_PORT_TYPE)fz_u8(f);
        WHV_NOTIFICATION_PORT_HANDLE ph = NULL;
        HRESULT hr = FZ_HR(WHvCreateNotificationPort(h, &prm, pick_event(f), &ph));
        must_fail_without(slot, hr);
        if (SUCCEEDED(hr)) {
            FZ_CHECK(ph);
            *o = (struct obj){ph, (unsigned)(slot - S.parts), true};
        }
        return;
    }
    if (!o->h)
        return;
    WHV_PARTITION_HANDLE h = S.parts[pi].h;
    if (how == 1) {
        HRESULT hr = FZ_HR(WHvDeleteNotificationPort(h, o->h));
        FZ_CHECK(SUCCEEDED(hr) == o->live);
        o->live = false;
    } else {
        static const UINT32 codes[] = {1, 5, 0, 2};
        HRESULT hr = FZ_HR(WHvSetNotificationPortProperty(
            h, o->h, (WHV_NOTIFICATION_PORT_PROPERTY_CODE)FZ_PICK(f, codes), fz_u8(f) & 0x80 ? fz_u64(f) : fz_u8(f) % 5));
        if (!o->live)
            FZ_CHECK(FAILED(hr));
    }
}

static void op_event(struct fz *f)
{
    unsigned k = fz_u8(f) % NOBJ;
    switch (fz_u8(f) % 4) {
    case 0: /* close it; the handle value is kept to be used after close */
        if (S.events[k]) {
            FZ_CHECK(OpenWhpCloseEvent(S.events[k]));
            S.closed_event = S.events[k];
            S.events[k] = NULL;
        }
        break;
    case 1:
        if (S.events[k])
            FZ_CHECK(OpenWhpSetEvent(S.events[k]));
        break;
    case 2:
        FZ_CHECK(!OpenWhpSetEvent(S.closed_event) || !S.closed_event);
        break;
    default:
        if (S.events[k])
            OpenWhpWaitForEvent(S.events[k], 0);
    }
}

static void op_synic(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    if (fz_u8(f) & 1) {
        uint8_t msg[256];
        UINT32 size = fz_below(f, 258);
        fz_bytes(f, msg, sizeof(msg));
        must_fail_without(slot, FZ_HR(WHvPostVirtualProcessorSynicMessage(h, pick_vp(f), fz_u8(f) % 17,
                                                                           msg, size)));
    } else {
        WHV_SYNIC_EVENT_PARAMETERS e;
        memset(&e, 0, sizeof(e));
        e.VpIndex = pick_vp(f);
        e.TargetSint = fz_u8(f) % 17;
        e.FlagNumber = fz_u16(f) % 2100;
        BOOL newly;
        must_fail_without(slot, FZ_HR(WHvSignalVirtualProcessorSynicEvent(h, e, &newly)));
    }
}

/* Functions this library does not implement: E_NOTIMPL, or a handle error first. */
static void op_unimplemented(struct fz *f)
{
    struct part *slot;
    WHV_PARTITION_HANDLE h = pick_part(f, &slot);
    uint8_t buf[64];
    UINT32 written;
    HRESULT hr;
    switch (fz_u8(f) % 4) {
    case 0:
        hr = FZ_HR(WHvGetPartitionCounters(h, WHvPartitionCounterSetMemory, buf, sizeof(buf), &written));
        break;
    case 1:
        hr = FZ_HR(WHvQueryGpaRangeDirtyBitmap(h, 0, 0x1000, (UINT64 *)buf, 8));
        break;
    case 2:
        hr = FZ_HR(WHvSuspendPartitionTime(h));
        break;
    default:
        hr = FZ_HR(WHvGetVirtualProcessorXsaveState(h, 0, buf, sizeof(buf), &written));
    }
    FZ_CHECK(FAILED(hr));
}

/* ---- driver ---- */

static void reset_all(void)
{
    for (unsigned i = 0; i < NPARTS; i++)
        if (S.parts[i].live) {
            FZ_CHECK(FZ_HR(WHvDeletePartition(S.parts[i].h)) == S_OK);
            free(S.parts[i].ram);
        }
    for (unsigned k = 0; k < NOBJ; k++)
        if (S.events[k])
            OpenWhpCloseEvent(S.events[k]);
    for (unsigned k = 0; k < S.ntrigger_events; k++)
        OpenWhpCloseEvent(S.trigger_events[k]);
    memset(&S, 0, sizeof(S));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_require_kvm("fuzz_api");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void (*const ops[])(struct fz *) = {
        op_create, op_create, op_delete, op_setup, op_setup, op_reset, op_set_property,
        op_set_property, op_get_property, op_capability, op_map, op_map, op_unmap, op_rw_gpa,
        op_create_vp, op_create_vp, op_delete_vp, op_registers, op_registers, op_interrupt,
        op_target_set, op_vp_state, op_translate, op_counters, op_run, op_cancel, op_doorbell,
        op_trigger, op_port, op_event, op_synic, op_unimplemented,
    };
    struct fz f = {data, size, 0};
    for (unsigned n = 0; n < 48 && fz_more(&f); n++)
        ops[fz_u8(&f) % (sizeof(ops) / sizeof(ops[0]))](&f);
    reset_all();
    return 0;
}
