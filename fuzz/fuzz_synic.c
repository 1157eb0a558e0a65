/* Fuzzes the SynIC (src/synic), whose inputs are guest-controlled: the synthetic MSRs (written
 * directly through synic_msr and by a real-mode guest's WRMSR/RDMSR, which goes through KVM and
 * the exit path), hypercalls (synic_hypercall on a VP whose registers the input sets: control,
 * input GPA or fast input, RIP inside or outside the stub, either port), the message and event
 * pages in guest RAM (which the guest may fill, move or unmap), and the host calls that write
 * into them. Each input gets a fresh partition: 2 VPs, xAPIC, the synthetic features, 16 KiB of
 * RAM at GPA 0, input-chosen extended exits. Checks: known HRESULTs and hypercall statuses, a
 * posted message lands in its slot, a signalled flag is set, deliverable SINTs were asked for. */
#include <errno.h>

#include "fuzz_vm.h"

#include "synic/synic_state.h" /* white box: the fuzzer checks the SynIC's own state */

#define RAM_SIZE 0x4000u /* 4 pages: the SynIC pages often sit at the end of RAM */
#define NVPS 2
#define NPORTS 4

static const uint32_t msrs[] = {
    0x40000000, 0x40000001, 0x40000002, 0x40000080, 0x40000081, 0x40000082, 0x40000083,
    0x40000084, 0x40000090, 0x40000091, 0x4000009f, 0x400000a0, 0x40000003, 0x400000ff,
};
static const uint16_t hv_statuses[] = {0, 2, 3, 4, 5, 6, 0x12};

struct state {
    WHV_PARTITION_HANDLE part;
    struct whp_partition *p; /* the library's view, for the internal entry points */
    uint8_t *ram;
    bool mapped;
    HANDLE events[NPORTS];
    WHV_NOTIFICATION_PORT_HANDLE ports[NPORTS];
    unsigned slow; /* operations that cost milliseconds (KVM's SRCU waits, guest runs) so far */
};

/* Ioeventfd and memslot changes wait for KVM's SRCU grace period (~8 ms here) and a guest run
 * costs a thread and an entry: a few per input keep the harness at hundreds of inputs a second. */
#define SLOW_PER_INPUT 3

static bool slow_op(struct state *s)
{
    return s->slow++ < SLOW_PER_INPUT;
}

/* A GPA: mostly page-aligned inside RAM (so pages and inputs land in guest memory), sometimes
 * off by a little, past RAM, or anything. */
static uint64_t pick_gpa(struct fz *f)
{
    uint8_t how = fz_u8(f);
    uint64_t page = (uint64_t)(how & 0x3) << 12;
    unsigned kind = how >> 4;
    if (kind < 10)
        return page;
    if (kind < 12)
        return page + (fz_u16(f) & 0xfff);
    if (kind == 12)
        return RAM_SIZE + page;
    if (kind == 13)
        return page | 1; /* enable bit on */
    return fz_u64(f);
}

static uint64_t pick_value(struct fz *f)
{
    uint8_t how = fz_u8(f);
    switch (how & 7) {
    case 0: return pick_gpa(f) | 1;                   /* page MSR: enabled at a GPA */
    case 1: return pick_gpa(f) & ~1ull;               /* page MSR: disabled */
    case 2: return 0x10000ull | fz_u8(f);             /* SINT: masked */
    case 3: return (0x20 + (fz_u8(f) & 0x3f)) | (how & 0x40 ? 0x40000 : 0); /* SINT: vector, maybe polling */
    case 4: return how >> 3;                          /* small: SCONTROL, vectors < 16 */
    default: return fz_u64(f);
    }
}

static struct whp_vp *vp_of(struct state *s, unsigned i)
{
    return s->p->vps[i];
}

static void op_msr(struct state *s, struct fz *f)
{
    unsigned i = fz_u8(f) % NVPS;
    bool write = fz_u8(f) & 1;
    uint32_t index = fz_u8(f) & 0x80 ? 0x40000000u + fz_u8(f) : FZ_PICK(f, msrs);
    uint64_t value = pick_value(f);
    uint16_t deliverable = 0xffff;
    int r = synic_msr(vp_of(s, i), write, index, &value, &deliverable);
    FZ_CHECK(r == 0 || r == -EINVAL);
    FZ_CHECK(!write || index == 0x40000084 || deliverable == 0);
}

/* What a guest driver does at start-up, in one step (so inputs reach the enabled SynIC with a few
 * bytes): guest OS id, hypercall page, SCONTROL, SIMP and SIEFP at chosen GPAs, SINTs unmasked. */
static void op_enable(struct state *s, struct fz *f)
{
    unsigned i = fz_u8(f) % NVPS;
    uint64_t v[5] = {0x1040000000000001ull, pick_gpa(f) | 1, 1, pick_gpa(f) | 1, pick_gpa(f) | 1};
    const uint32_t idx[5] = {0x40000000, 0x40000001, 0x40000080, 0x40000083, 0x40000082};
    uint16_t deliverable;
    for (unsigned k = 0; k < 5; k++)
        synic_msr(vp_of(s, i), true, idx[k], &v[k], &deliverable);
    uint16_t unmask = fz_u16(f);
    for (unsigned sint = 0; sint < 16; sint++) {
        uint64_t val = unmask >> sint & 1 ? 0x30u + sint : 0x10000u;
        synic_msr(vp_of(s, i), true, 0x40000090 + sint, &val, &deliverable);
    }
}

static void op_guest_msrs(struct state *s, struct fz *f)
{
    if (!s->mapped || !slow_op(s))
        return;
    unsigned i = fz_u8(f) % NVPS, n = fz_u8(f) % 8 + 1;
    uint8_t *at = s->ram + FZ_CODE;
    for (unsigned k = 0; k < n; k++) {
        uint32_t index = fz_u8(f) & 0x80 ? 0x40000000u + fz_u8(f) : FZ_PICK(f, msrs);
        at = fz_emit_msr(at, fz_u8(f) & 1, index, pick_value(f));
    }
    *at++ = 0xe6; /* out 0x80, al */
    *at++ = 0x80;
    if (FAILED(FZ_HR(fz_realmode_vp(s->part, i))))
        return;
    /* A few rounds: SynicSintDeliverable and the like come back before the OUT. */
    for (unsigned round = 0; round < 4; round++) {
        WHV_RUN_VP_EXIT_CONTEXT ctx;
        HRESULT hr = FZ_HR(fz_run(s->part, i, &ctx));
        if (FAILED(hr) || ctx.ExitReason == WHvRunVpExitReasonX64IoPortAccess ||
            ctx.ExitReason == WHvRunVpExitReasonCanceled)
            break;
    }
}

static void op_hypercall(struct state *s, struct fz *f)
{
    static const uint64_t controls[] = {0x5c, 0x5d, 0x1005d, 0x1005c, 0x99, 0x10000005d,
                                        0x8000005d, 0x4005d};
    static const int offsets[] = {17, 18, 29, 30, 0, 21};
    unsigned i = fz_u8(f) % NVPS;
    struct whp_vp *vp = vp_of(s, i);
    uint64_t page = s->p->synic->hypercall_msr & ~0xfffull;
    uint64_t control = fz_u8(f) & 0x80 ? fz_u64(f) : FZ_PICK(f, controls);
    uint64_t input = fz_u8(f) & 1 ? pick_gpa(f) & ~7ull : fz_u64(f);
    bool signal_port = fz_u8(f) & 1;
    uint64_t rip = page + (fz_u8(f) & 0x80 ? fz_u16(f) : (uint64_t)FZ_PICK(f, offsets));

    WHV_REGISTER_NAME n[5] = {WHvX64RegisterRip, WHvX64RegisterRcx, WHvX64RegisterRdx,
                              WHvX64RegisterR9, WHvX64RegisterRax};
    WHV_REGISTER_VALUE v[5];
    memset(v, 0, sizeof(v));
    v[0].Reg64 = rip;
    v[1].Reg64 = control;
    v[2].Reg64 = input;
    v[3].Reg64 = input;
    v[4].Reg64 = input;
    if (FAILED(FZ_HR(WHvSetVirtualProcessorRegisters(s->part, i, n, 5, v))))
        return;
    /* What KVM reports for the stub's OUT. */
    vp->run->exit_reason = KVM_EXIT_IO;
    vp->run->io.port = signal_port ? SYNIC_PORT_SIGNAL : SYNIC_PORT_CALL;
    vp->run->io.direction = KVM_EXIT_IO_OUT;
    vp->run->io.size = signal_port ? 4 : 1;
    vp->run->io.count = 1;

    WHV_RUN_VP_EXIT_CONTEXT ctx;
    memset(&ctx, 0, sizeof(ctx));
    bool handled;
    bool to_vmm = synic_hypercall(vp, &ctx, &handled);
    uint64_t ret = page + (signal_port ? 20 : 30);
    if (!handled) {
        FZ_CHECK(!to_vmm);
        return;
    }
    FZ_CHECK(s->p->synic->hypercall_msr & 1);
    if (to_vmm) {
        FZ_CHECK(ctx.ExitReason == WHvRunVpExitReasonHypercall);
        FZ_CHECK(ctx.VpContext.Rip + ctx.VpContext.InstructionLength == ret);
        FZ_CHECK(ctx.Hypercall.Rcx == control);
    } else {
        bool known = false;
        for (size_t k = 0; k < sizeof(hv_statuses) / sizeof(hv_statuses[0]); k++)
            known |= vp->run->s.regs.regs.rax == hv_statuses[k];
        FZ_CHECK(known);
        FZ_CHECK(vp->run->s.regs.regs.rip == ret);
    }
}

static void op_post(struct state *s, struct fz *f)
{
    uint8_t msg[260];
    unsigned i = fz_u8(f) % (NVPS + 1), sint = fz_u8(f) % 17;
    uint32_t size = fz_u8(f) & 0x80 ? fz_u16(f) % 262 : 256;
    fz_bytes(f, msg, sizeof(msg));
    HRESULT hr = FZ_HR(WHvPostVirtualProcessorSynicMessage(s->part, i, sint, msg, size));
    if (hr != S_OK)
        return;
    FZ_CHECK(i < NVPS && sint < 16 && size >= 4 && size <= 256);
    /* The message is in its slot: the type and the payload as posted. */
    uint64_t simp = vp_of(s, i)->synic->simp & ~0xfffull;
    FZ_CHECK(simp + 4096 <= RAM_SIZE && s->mapped);
    FZ_CHECK(!memcmp(s->ram + simp + sint * 256, msg, size));
}

static void op_signal(struct state *s, struct fz *f)
{
    WHV_SYNIC_EVENT_PARAMETERS e;
    memset(&e, 0, sizeof(e));
    e.VpIndex = fz_u8(f) % (NVPS + 1);
    e.TargetSint = fz_u8(f) % 17;
    e.FlagNumber = fz_u8(f) & 0x80 ? fz_u16(f) : fz_u8(f);
    e.TargetVtl = fz_u8(f) == 0xff;
    BOOL newly = 2;
    HRESULT hr = FZ_HR(WHvSignalVirtualProcessorSynicEvent(s->part, e, &newly));
    if (hr != S_OK)
        return;
    FZ_CHECK(newly == TRUE || newly == FALSE);
    uint64_t siefp = vp_of(s, e.VpIndex)->synic->siefp & ~0xfffull;
    FZ_CHECK(siefp + 4096 <= RAM_SIZE && s->mapped);
    FZ_CHECK(s->ram[siefp + e.TargetSint * 256 + e.FlagNumber / 8] >> (e.FlagNumber % 8) & 1);
}

static void op_page_state(struct state *s, struct fz *f)
{
    static uint8_t page[4097];
    unsigned i = fz_u8(f) % (NVPS + 1);
    WHV_VIRTUAL_PROCESSOR_STATE_TYPE type = (WHV_VIRTUAL_PROCESSOR_STATE_TYPE)(fz_u8(f) % 3);
    UINT32 size = fz_u8(f) & 0x80 ? fz_u16(f) % 4098 : 4096, written;
    if (fz_u8(f) & 1) {
        fz_bytes(f, page, 64);
        FZ_HR(WHvSetVirtualProcessorState(s->part, i, type, page, size));
    } else {
        FZ_HR(WHvGetVirtualProcessorState(s->part, i, type, page, size, &written));
    }
}

static void op_port(struct state *s, struct fz *f)
{
    unsigned k = fz_u8(f) % NPORTS;
    if (!slow_op(s))
        return;
    if (s->ports[k]) {
        FZ_CHECK(FZ_HR(WHvDeleteNotificationPort(s->part, s->ports[k])) == S_OK);
        s->ports[k] = NULL;
        return;
    }
    if (!s->events[k])
        s->events[k] = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_NOTIFICATION_PORT_PARAMETERS prm;
    memset(&prm, 0, sizeof(prm));
    prm.NotificationPortType = WHvNotificationPortTypeEvent;
    prm.Event.ConnectionId = fz_u8(f) & 0x80 ? fz_u32(f) : fz_u8(f) & 7;
    HRESULT hr = FZ_HR(WHvCreateNotificationPort(s->part, &prm, s->events[k], &s->ports[k]));
    if (FAILED(hr))
        s->ports[k] = NULL;
}

static void op_ram(struct state *s, struct fz *f)
{
    uint8_t how = fz_u8(f);
    if (how < 0x10) { /* unmap or map the RAM again */
        if (!slow_op(s))
            return;
        if (s->mapped)
            FZ_CHECK(FZ_HR(WHvUnmapGpaRange(s->part, 0, RAM_SIZE)) == S_OK);
        else
            FZ_CHECK(FZ_HR(WHvMapGpaRange(s->part, s->ram, 0, RAM_SIZE,
                                          WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite |
                                              WHvMapGpaRangeFlagExecute)) == S_OK);
        s->mapped = !s->mapped;
        return;
    }
    /* The guest writes its pages: frees or fills message slots, sets or clears flags. */
    uint16_t at = fz_u16(f) % RAM_SIZE;
    uint8_t n = fz_u8(f) % 16;
    for (unsigned k = 0; k < n && at + k < RAM_SIZE; k++)
        s->ram[at + k] = fz_u8(f);
}

static void op_deliverable(struct state *s, struct fz *f)
{
    unsigned i = fz_u8(f) % NVPS;
    WHV_REGISTER_NAME n = WHvX64RegisterDeliverabilityNotifications;
    WHV_REGISTER_VALUE v;
    memset(&v, 0, sizeof(v));
    v.DeliverabilityNotifications.Sint = fz_u16(f);
    if (FAILED(FZ_HR(WHvSetVirtualProcessorRegisters(s->part, i, &n, 1, &v))))
        return;
    uint16_t got = synic_deliverable(vp_of(s, i));
    FZ_CHECK((got & ~v.DeliverabilityNotifications.Sint) == 0); /* only what was asked for */
    FZ_CHECK((synic_deliverable(vp_of(s, i)) & got) == 0);        /* one-shot */
}

static void op_regs(struct state *s, struct fz *f)
{
    static const WHV_REGISTER_NAME names[] = {
        WHvRegisterSint0, WHvRegisterSint15, WHvRegisterScontrol, WHvRegisterSversion,
        WHvRegisterSiefp, WHvRegisterSimp, WHvRegisterEom, WHvX64RegisterHypercall,
        WHvRegisterGuestOsId, WHvX64RegisterRax,
    };
    unsigned i = fz_u8(f) % (NVPS + 1);
    WHV_REGISTER_NAME n = FZ_PICK(f, names);
    WHV_REGISTER_VALUE v;
    memset(&v, 0, sizeof(v));
    if (fz_u8(f) & 1) {
        v.Reg64 = pick_value(f);
        FZ_HR(WHvSetVirtualProcessorRegisters(s->part, i, &n, 1, &v));
    } else {
        FZ_HR(WHvGetVirtualProcessorRegisters(s->part, i, &n, 1, &v));
    }
}

static bool setup(struct state *s, struct fz *f)
{
    WHV_PARTITION_PROPERTY prop;
    if (FAILED(FZ_HR(WHvCreatePartition(&s->part))))
        return false;
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = NVPS;
    FZ_HR(WHvSetPartitionProperty(s->part, WHvPartitionPropertyCodeProcessorCount, &prop, sizeof(prop)));
    memset(&prop, 0, sizeof(prop));
    prop.LocalApicEmulationMode = fz_u8(f) == 0xff ? WHvX64LocalApicEmulationModeX2Apic
                                                   : WHvX64LocalApicEmulationModeXApic;
    FZ_HR(WHvSetPartitionProperty(s->part, WHvPartitionPropertyCodeLocalApicEmulationMode, &prop, sizeof(prop)));
    memset(&prop, 0, sizeof(prop));
    prop.SyntheticProcessorFeaturesBanks.BanksCount = 1;
    prop.SyntheticProcessorFeaturesBanks.AsUINT64[0] = synic_supported_features();
    FZ_HR(WHvSetPartitionProperty(s->part, WHvPartitionPropertyCodeSyntheticProcessorFeaturesBanks, &prop, sizeof(prop)));
    memset(&prop, 0, sizeof(prop));
    uint8_t exits = fz_u8(f);
    prop.ExtendedVmExits.HypercallExit = exits & 1;
    prop.ExtendedVmExits.UnknownSynicConnection = (exits >> 1) & 1;
    FZ_HR(WHvSetPartitionProperty(s->part, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)));
    FZ_CHECK(FZ_HR(WHvSetupPartition(s->part)) == S_OK);
    s->ram = aligned_alloc(4096, RAM_SIZE);
    FZ_CHECK(s->ram);
    memset(s->ram, 0, RAM_SIZE);
    fz_realmode_ram(s->ram);
    FZ_CHECK(FZ_HR(WHvMapGpaRange(s->part, s->ram, 0, RAM_SIZE,
                                  WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite |
                                      WHvMapGpaRangeFlagExecute)) == S_OK);
    s->mapped = true;
    for (unsigned i = 0; i < NVPS; i++)
        FZ_CHECK(FZ_HR(WHvCreateVirtualProcessor(s->part, i, 0)) == S_OK);
    s->p = part_get(s->part);
    FZ_CHECK(s->p);
    return true;
}

static void teardown(struct state *s)
{
    if (s->p)
        part_put(s->p);
    if (s->part)
        FZ_CHECK(FZ_HR(WHvDeletePartition(s->part)) == S_OK);
    for (unsigned k = 0; k < NPORTS; k++)
        if (s->events[k])
            OpenWhpCloseEvent(s->events[k]);
    free(s->ram);
    memset(s, 0, sizeof(*s));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_require_kvm("fuzz_synic");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static void (*const ops[])(struct state *, struct fz *) = {
        op_msr, op_msr, op_enable, op_hypercall, op_hypercall, op_post, op_signal,
        op_page_state, op_port, op_ram, op_deliverable, op_regs, op_guest_msrs,
    };
    struct fz f = {data, size, 0};
    struct state s;
    memset(&s, 0, sizeof(s));
    if (setup(&s, &f))
        for (unsigned n = 0; n < 64 && fz_more(&f); n++)
            ops[fz_u8(&f) % (sizeof(ops) / sizeof(ops[0]))](&s, &f);
    teardown(&s);
    return 0;
}
