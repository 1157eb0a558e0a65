/* The fuzz guest: for FUZZ_SECONDS (default 3) a guest on a SynIC partition (x2APIC, MSR and
 * hypercall exits on) issues pseudo-random hypercalls through the hypercall page (fast and memory
 * forms, random call codes, rep counts and headers, input and output GPAs in RAM, outside it,
 * misaligned and page-crossing), synthetic MSR reads and writes (0x40000000-0x400000FF)
 * and reads and writes of random other MSRs (a #GP handler skips the faulting RDMSR/WRMSR), port
 * I/O of every size (plain and string, the SynIC's own ports included) and MMIO of every size,
 * page-crossing ones and ones that straddle the end of RAM. The host answers every exit like a
 * VMM (the instruction emulator for I/O and MMIO, which must succeed on every access, random
 * data; unknown MSRs answered or completed), posts SynIC messages and signals
 * event flags now and then. The host must stay up and the guard pages right before and after
 * the host mapping of guest RAM must keep their canary. The seed is printed; FUZZ_SEED=n replays
 * a run. No raw VMCALL: on this nested (kvm_pvm) host a guest VMCALL never comes back from
 * KVM_RUN (measured: the vCPU stays in the kernel until canceled), which tests the host, not
 * openwhp. */
#include "guest_apic.h"
#include "guest_stress.h"
#include "guest_synic.h"

#define FUZZ_DONE 0xF0220
#define GUARD_SIZE (1ull << 20)
#define MMIO_GPA 0xC0000000ull /* 16 pages of nothing: every access exits */
#define MMIO_PAGES 16
#define NR_SCRATCH 8 /* guest pages the fuzzer may hand out as GPAs (SIM, SIEF, hypercall page, I/O) */

/* Guest configuration, written by the host before the VP starts. */
static struct {
    uint64_t seed;
    uint64_t ram_size;
    uint64_t hypercall, simp, siefp, input; /* the SynIC's pages at start (GPAs) */
    uint64_t scratch;                       /* NR_SCRATCH pages (GPA) */
    uint64_t mmio_gva;                      /* MMIO_GPA mapped here */
    uint64_t ram_end_gva;                   /* GVA of the last RAM page, the next page mapped too */
} fz_cfg;

/* Set by the host (through guest RAM) when the time is up. */
static volatile uint32_t fz_stop;

enum {
    FZ_ITER,
    FZ_HYPERCALL,
    FZ_HYPERCALL_FAST,
    FZ_HYPERCALL_OK, /* returned HV_STATUS_SUCCESS */
    FZ_SYN_RDMSR,
    FZ_SYN_WRMSR,
    FZ_OTHER_RDMSR,
    FZ_OTHER_WRMSR,
    FZ_GP, /* RDMSR/WRMSR that faulted */
    FZ_PIO,
    FZ_PIO_STRING,
    FZ_MMIO,
    FZ_MMIO_CROSS, /* page-crossing or RAM-end-crossing */
    FZ_INTERRUPTS,
    FZ_NR
};
static volatile uint64_t fz_count[FZ_NR];

/* ---- Guest ---- */

GUEST_INLINE uint64_t fz_next(uint64_t *s) /* xorshift64* */
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

GUEST_INLINE uint64_t fz_below(uint64_t *s, uint64_t n) { return fz_next(s) % n; }

/* RDMSR/WRMSR that faulted: skip them (2 bytes each). Anything else is a bug the test reports. */
GUEST_CODE static void fz_gp_handler(struct guest_ex_frame *f)
{
    uint16_t insn = *(volatile uint16_t *)f->rip;
    if (insn != 0x320F && insn != 0x300F)
        GUEST_FAIL("#GP at rip 0x%lx (bytes 0x%x), not at an MSR access", f->rip, insn);
    fz_count[FZ_GP]++;
    f->rip += 2;
}

/* SINT and other interrupts the fuzzing raises: count and EOI. */
GUEST_CODE static void fz_irq_handler(struct guest_ex_frame *f)
{
    (void)f;
    fz_count[FZ_INTERRUPTS]++;
    guest_wrmsr(0x80B, 0); /* x2APIC EOI */
}

GUEST_INLINE uint64_t raw_rdmsr(uint32_t msr)
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* A GPA for a hypercall argument or an MSR page field: in the scratch pages (maybe misaligned or
 * running into the next page), right at the end of RAM, beyond RAM, or anywhere. */
GUEST_CODE static uint64_t fz_gpa(uint64_t *s)
{
    switch (fz_below(s, 6)) {
    case 0: return fz_cfg.scratch + fz_below(s, NR_SCRATCH) * 4096;
    case 1: return fz_cfg.scratch + fz_below(s, NR_SCRATCH * 4096);
    case 2: return fz_cfg.scratch + fz_below(s, NR_SCRATCH) * 4096 + 4096 - 8 * (1 + fz_below(s, 4));
    case 3: return fz_cfg.ram_size - 8 * fz_below(s, 64);
    case 4: return fz_cfg.ram_size + fz_below(s, 1ull << 32);
    default: return fz_next(s) & 0x000FFFFFFFFFFFFFull;
    }
}

/* A value for the page MSRs (HYPERCALL, SIEFP, SIMP): their pages are written by the library
 * (the stub, zeroes), so only scratch pages, the original pages or GPAs outside RAM. */
GUEST_CODE static uint64_t fz_page_value(uint64_t *s, uint64_t original)
{
    uint64_t low = fz_next(s) & 0xFFF, page;
    switch (fz_below(s, 4)) {
    case 0: page = original; break;
    case 1: page = fz_cfg.scratch + fz_below(s, NR_SCRATCH) * 4096; break;
    case 2: page = (fz_cfg.ram_size + fz_below(s, 1ull << 30)) & ~0xFFFull; break;
    default: page = 0; break;
    }
    return page | low;
}

GUEST_CODE static void fz_synthetic_msr(uint64_t *s)
{
    uint32_t msr = 0x40000000u + (uint32_t)fz_below(s, 256);
    if (fz_below(s, 2)) {
        fz_count[FZ_SYN_RDMSR]++;
        (void)raw_rdmsr(msr);
        return;
    }
    uint64_t v = fz_next(s);
    switch (msr) {
    case HV_MSR_HYPERCALL: v = fz_page_value(s, fz_cfg.hypercall); break;
    case HV_MSR_SIMP: v = fz_page_value(s, fz_cfg.simp); break;
    case HV_MSR_SIEFP: v = fz_page_value(s, fz_cfg.siefp); break;
    default:
        if (msr >= HV_MSR_SINT(0) && msr <= HV_MSR_SINT(15)) /* vectors the handlers expect */
            v = (v & ~0xFFull) | (0x30 + fz_below(s, 0xD0));
        break;
    }
    fz_count[FZ_SYN_WRMSR]++;
    guest_wrmsr(msr, v);
}

/* Random MSRs other than the synthetic ones. Writes avoid the architectural ranges (a random EFER,
 * LSTAR or APIC base would end the guest, not test the host) and KVM's paravirtual MSRs (they make
 * KVM write guest RAM at a GPA of the value); reads go anywhere. */
GUEST_CODE static void fz_other_msr(uint64_t *s)
{
    uint32_t msr = (uint32_t)fz_next(s);
    if (fz_below(s, 4) == 0)
        msr = (uint32_t)fz_below(s, 0x2000); /* the architectural range, for reads */
    if ((msr >> 8) == 0x400000u)
        msr += 0x100; /* synthetic: fz_synthetic_msr's */
    if (fz_below(s, 2)) {
        fz_count[FZ_OTHER_RDMSR]++;
        (void)raw_rdmsr(msr);
        return;
    }
    if (msr < 0x2000 || (msr >= 0xC0000000u && msr < 0xC0002000u) || (msr >> 8) == 0x4B564Du)
        msr = 0x40000200u + (uint32_t)fz_below(s, 0x1000);
    fz_count[FZ_OTHER_WRMSR]++;
    guest_wrmsr(msr, fz_next(s));
}

GUEST_CODE static void fz_hypercall(uint64_t *s)
{
    static const uint16_t codes[] = {HV_CALL_POST_MESSAGE, HV_CALL_SIGNAL_EVENT, 0x0001, 0x0002, 0x0003,
                                     0x0008, 0x0013, 0x0058, 0x005E, 0x007C, 0x0099, 0xFFFF};
    /* The fuzzing may have moved or disabled the page (or cleared GUEST_OS_ID, which it needs):
     * put them back, and call only when the page holds the stub. */
    guest_wrmsr(HV_MSR_GUEST_OS_ID, HV_GUEST_OS_ID_OPENWHP);
    guest_wrmsr(HV_MSR_HYPERCALL, fz_cfg.hypercall | HV_PAGE_ENABLE);
    if (*(volatile uint8_t *)(GUEST_DIRECT_MAP + fz_cfg.hypercall) == 0)
        return;
    uint64_t control = fz_below(s, 3) ? codes[fz_below(s, sizeof(codes) / sizeof(codes[0]))] : fz_next(s) & 0xFFFF;
    if (fz_below(s, 2))
        control |= HV_HYPERCALL_FAST;
    if (fz_below(s, 4) == 0)
        control |= (fz_next(s) & 0x3FF) << 17; /* variable header size */
    if (fz_below(s, 4) == 0)
        control |= (fz_next(s) & 0xFFF) << 32; /* rep count */
    if (fz_below(s, 8) == 0)
        control ^= fz_next(s) & 0xF000F000FC00F000ull; /* reserved bits */
    uint64_t input = fz_below(s, 3) ? fz_gpa(s) : fz_next(s);
    uint64_t output = fz_gpa(s);
    if (fz_below(s, 2)) { /* a plausible input in a scratch page */
        volatile uint64_t *in = (volatile uint64_t *)(GUEST_DIRECT_MAP + fz_cfg.scratch);
        in[0] = fz_below(s, 0x300) | fz_next(s) << 32;
        in[1] = fz_next(s) & 0x1FF;
        in[2] = fz_next(s);
        input = control & HV_HYPERCALL_FAST ? in[0] : fz_cfg.scratch;
    }
    fz_count[control & HV_HYPERCALL_FAST ? FZ_HYPERCALL_FAST : FZ_HYPERCALL]++;
    if ((hv_hypercall(control, input, output) & 0xFFFF) == HV_STATUS_SUCCESS)
        fz_count[FZ_HYPERCALL_OK]++;
}

GUEST_CODE static void fz_pio(uint64_t *s)
{
    uint16_t port;
    switch (fz_below(s, 4)) {
    case 0: port = (uint16_t)(0x4850 + fz_below(s, 2)); break; /* the SynIC's ports, from outside the stub */
    case 1: port = (uint16_t)fz_below(s, 0x100); break;
    default: port = (uint16_t)fz_next(s); break;
    }
    if (port == GUEST_UCALL_PORT)
        port++;
    unsigned size = 1u << fz_below(s, 3);
    uint64_t v = fz_next(s);
    if (fz_below(s, 5) == 0) {
        uint64_t buf = GUEST_DIRECT_MAP + fz_cfg.scratch + 4096 + fz_below(s, 4000), n = 1 + fz_below(s, 4);
        bool in = fz_below(s, 2);
        fz_count[FZ_PIO_STRING]++;
        if (in && size == 1)
            __asm__ volatile("cld; rep insb" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
        else if (in && size == 2)
            __asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
        else if (in)
            __asm__ volatile("cld; rep insl" : "+D"(buf), "+c"(n) : "d"(port) : "memory");
        else if (size == 1)
            __asm__ volatile("cld; rep outsb" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
        else if (size == 2)
            __asm__ volatile("cld; rep outsw" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
        else
            __asm__ volatile("cld; rep outsl" : "+S"(buf), "+c"(n) : "d"(port) : "memory");
        return;
    }
    fz_count[FZ_PIO]++;
    if (fz_below(s, 2)) {
        if (size == 1)
            (void)guest_inb(port);
        else if (size == 2)
            (void)guest_inw(port);
        else
            (void)guest_inl(port);
    } else if (size == 1) {
        guest_outb(port, (uint8_t)v);
    } else if (size == 2) {
        guest_outw(port, (uint16_t)v);
    } else {
        guest_outl(port, (uint32_t)v);
    }
}

GUEST_CODE static void fz_mmio(uint64_t *s)
{
    unsigned size = 1u << fz_below(s, 4);
    uint64_t gva;
    switch (fz_below(s, 4)) {
    case 0: /* across two MMIO pages */
        gva = fz_cfg.mmio_gva + 4096 * (1 + fz_below(s, MMIO_PAGES - 1)) - 1 - fz_below(s, size > 1 ? size - 1 : 1);
        fz_count[FZ_MMIO_CROSS]++;
        break;
    case 1: /* from the last bytes of RAM into the first page after it */
        gva = fz_cfg.ram_end_gva + 4096 - 1 - fz_below(s, size > 1 ? size - 1 : 1);
        fz_count[FZ_MMIO_CROSS]++;
        break;
    default:
        gva = fz_cfg.mmio_gva + fz_below(s, MMIO_PAGES * 4096 - 8);
        break;
    }
    uint64_t v = fz_next(s);
    fz_count[FZ_MMIO]++;
    if (fz_below(s, 2)) {
        if (size == 1)
            (void)guest_read8(gva);
        else if (size == 2)
            (void)guest_read16(gva);
        else if (size == 4)
            (void)guest_read32(gva);
        else
            (void)guest_read64(gva);
    } else if (size == 1) {
        guest_write8(gva, (uint8_t)v);
    } else if (size == 2) {
        guest_write16(gva, (uint16_t)v);
    } else if (size == 4) {
        guest_write32(gva, (uint32_t)v);
    } else {
        guest_write64(gva, v);
    }
}

GUEST_CODE static void guest_fuzz_main(void)
{
    uint64_t s = fz_cfg.seed | 1;

    guest_cli();
    apic_enable(true);
    GUEST_ASSERT(hv_detect());
    hv_hypercall_init(fz_cfg.hypercall);
    GUEST_ASSERT_EQ(hv_synic_init(fz_cfg.simp, fz_cfg.siefp, fz_cfg.input), 0);
    guest_install_handler(13, fz_gp_handler);
    for (unsigned v = 0x20; v < 256; v++)
        guest_install_handler((uint8_t)v, fz_irq_handler);
    for (unsigned sint = 0; sint < HV_SINT_COUNT; sint++)
        guest_wrmsr(HV_MSR_SINT(sint), 0x30 + sint);
    GUEST_SYNC(FUZZ_DONE - 1);
    guest_sti();
    while (!fz_stop) {
        fz_count[FZ_ITER]++;
        switch (fz_below(&s, 16)) {
        case 0: case 1: case 2: case 3: fz_hypercall(&s); break;
        case 4: case 5: case 6: fz_synthetic_msr(&s); break;
        case 7: case 8: fz_other_msr(&s); break;
        case 9: case 10: case 11: fz_pio(&s); break;
        default: fz_mmio(&s); break;
        }
    }
    guest_cli();
    GUEST_SYNC(FUZZ_DONE, fz_cfg.seed, fz_count[FZ_ITER]);
    GUEST_DONE();
}

/* ---- Host: a VMM that answers everything with random data ---- */

struct fz_host {
    struct guest_emu emu;
    uint64_t rng;
    uint64_t deadline_ns;
    volatile uint32_t *stop;
    bool trace;
    unsigned long exits[32], posts, signals;
};

static uint64_t host_next(struct fz_host *h) { return fz_next(&h->rng); }

static HRESULT fz_io(struct guest_emu *emu, WHV_EMULATOR_IO_ACCESS_INFO *a)
{
    struct fz_host *h = emu->opaque;
    if (a->Direction == 0)
        a->Data = (UINT32)host_next(h);
    return S_OK;
}

static HRESULT fz_mmio_cb(struct guest_emu *emu, WHV_EMULATOR_MEMORY_ACCESS_INFO *a)
{
    struct fz_host *h = emu->opaque;
    if (a->AccessSize > sizeof(a->Data))
        return E_INVALIDARG;
    if (a->Direction == 0) {
        uint64_t v = host_next(h);
        memcpy(a->Data, &v, a->AccessSize);
    }
    return S_OK;
}

static bool fz_exit(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, void *opaque)
{
    struct fz_host *h = opaque;
    h->exits[exit->ExitReason & 31]++;
    if (h->trace) /* FUZZ_TRACE=1: one line per exit, to find what led to a failure */
        printf("  exit %s rip 0x%llx len %u rax 0x%llx gpa 0x%llx port 0x%x msr 0x%x\n",
               guest_exit_reason_name(exit->ExitReason), (unsigned long long)exit->VpContext.Rip,
               exit->VpContext.InstructionLength, (unsigned long long)guest_get_reg(vm, vp, WHvX64RegisterRax),
               (unsigned long long)exit->MemoryAccess.Gpa, exit->IoPortAccess.PortNumber,
               exit->MsrAccess.MsrNumber);
    if (stress_now_ns() > h->deadline_ns)
        *h->stop = 1;
    switch (exit->ExitReason) {
    case WHvRunVpExitReasonX64IoPortAccess: /* both fail the test unless the emulation succeeds */
        guest_emu_io(&h->emu, exit);
        break;
    case WHvRunVpExitReasonMemoryAccess:
        guest_emu_mmio(&h->emu, exit);
        break;
    case WHvRunVpExitReasonX64MsrAccess:
        if (!exit->MsrAccess.AccessInfo.IsWrite) {
            guest_set_reg(vm, vp, WHvX64RegisterRax, (uint32_t)host_next(h));
            guest_set_reg(vm, vp, WHvX64RegisterRdx, (uint32_t)host_next(h));
        }
        guest_skip_instruction(vm, vp, exit);
        break;
    case WHvRunVpExitReasonHypercall: {
        uint8_t buf[256];
        WHV_ACCESS_GPA_CONTROLS c = {.AsUINT64 = 0};
        if (!(exit->Hypercall.Rcx & HV_HYPERCALL_FAST)) /* read the input wherever it points */
            (void)WHvReadGpaRange(vm->partition, vp, exit->Hypercall.Rdx, c, buf, sizeof(buf));
        guest_set_reg(vm, vp, WHvX64RegisterRax, host_next(h) & 0xFFFF);
        guest_skip_instruction(vm, vp, exit);
        break;
    }
    default:
        return false;
    }
    /* Now and then, SynIC traffic from the host: a message and an event flag on random SINTs. */
    if ((host_next(h) & 63) == 0) {
        struct hv_message m;
        memset(&m, 0, sizeof(m));
        m.type = 1 + (uint32_t)(host_next(h) & 0xFF);
        m.payload_size = (uint8_t)(host_next(h) % 241);
        h->posts += SUCCEEDED(WHvPostVirtualProcessorSynicMessage(vm->partition, vp, (UINT32)(host_next(h) & 15),
                                                                  &m, sizeof(m)));
        WHV_SYNIC_EVENT_PARAMETERS e;
        memset(&e, 0, sizeof(e));
        e.TargetSint = (UINT8)(host_next(h) & 15);
        e.FlagNumber = (UINT16)(host_next(h) % 2048);
        h->signals += SUCCEEDED(WHvSignalVirtualProcessorSynicEvent(vm->partition, e, NULL));
    }
    return true;
}

static void fz_pre_setup(WHV_PARTITION_HANDLE partition, void *opaque)
{
    WHV_EXTENDED_VM_EXITS x = {.AsUINT64 = 0};
    WHV_PARTITION_PROPERTY prop;
    guest_synic_pre_setup(partition, opaque);
    x.X64MsrExit = x.HypercallExit = x.UnknownSynicConnection = 1;
    memset(&prop, 0, sizeof(prop));
    prop.ExtendedVmExits = x;
    TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeExtendedVmExits, &prop, sizeof(prop)));
    memset(&prop, 0, sizeof(prop));
    prop.X64MsrExitBitmap.UnhandledMsrs = 1; /* MSRs KVM does not know come to fz_exit */
    TEST_HR(WHvSetPartitionProperty(partition, WHvPartitionPropertyCodeX64MsrExitBitmap, &prop, sizeof(prop)));
}

static void test_fuzz_guest_leaves_host_memory_alone(void)
{
    struct guest_vm_config cfg = {.apic_mode = WHvX64LocalApicEmulationModeX2Apic, .pre_setup = fz_pre_setup,
                                  .guard_size = GUARD_SIZE};
    static struct fz_host h;
    unsigned seconds = stress_env("FUZZ_SECONDS", 3);

    const char *env_seed = getenv("FUZZ_SEED");
    uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : stress_now_ns() ^ ((uint64_t)getpid() << 32);
    struct guest_ucall uc;

    guest_test_set_timeout(seconds + 60);
    printf("  seed %llu (FUZZ_SEED=%llu replays this run), %u s\n", (unsigned long long)seed,
           (unsigned long long)seed, seconds);
    memset(&h, 0, sizeof(h));
    memset((void *)fz_count, 0, sizeof(fz_count));
    fz_stop = 0;
    guest_apic_x2 = 0;
    struct guest_vm *vm = guest_vm_create(&cfg);
    fz_cfg.seed = seed;
    fz_cfg.ram_size = vm->ram_size;
    fz_cfg.hypercall = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    fz_cfg.simp = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    fz_cfg.siefp = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    fz_cfg.input = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    fz_cfg.scratch = guest_vm_alloc(vm, NR_SCRATCH * GUEST_PAGE_SIZE);
    fz_cfg.mmio_gva = guest_vm_map_gpa(vm, MMIO_GPA, MMIO_PAGES * GUEST_PAGE_SIZE);
    guest_vm_map_gpa(vm, vm->ram_size, GUEST_PAGE_SIZE); /* the direct map runs on past RAM */
    fz_cfg.ram_end_gva = guest_vm_gpa2gva(vm->ram_size - GUEST_PAGE_SIZE);
    TEST_ASSERT(vm->next_free <= vm->ram_size - GUEST_PAGE_SIZE, "(the last RAM page is in use)");
    sync_global_to_guest(vm, fz_cfg);
    guest_vm_add_vp(vm, 0, guest_fuzz_main, 0, 0);

    guest_emu_create(&h.emu, vm, 0);
    h.emu.io = fz_io;
    h.emu.mmio = fz_mmio_cb;
    h.emu.opaque = &h;
    h.rng = seed ^ 0x9E3779B97F4A7C15ull;
    h.trace = stress_env("FUZZ_TRACE", 0) != 0;
    h.stop = stress_live(vm, &fz_stop);
    irq_expect_sync(vm, 0, FUZZ_DONE - 1, NULL, NULL);
    h.deadline_ns = stress_now_ns() + (uint64_t)seconds * 1000000000ull;
    uint64_t type = irq_run(vm, 0, &uc, fz_exit, &h);
    TEST_ASSERT(type == UCALL_SYNC && uc.args[0] == FUZZ_DONE,
                "(seed %llu: the guest stopped with ucall %llu, arg 0x%llx, instead of its report)",
                (unsigned long long)seed, (unsigned long long)type, (unsigned long long)uc.args[0]);
    TEST_ASSERT_EQ(uc.args[1], seed);
    uint64_t counts[FZ_NR];
    guest_vm_read(vm, (uint64_t)(uintptr_t)fz_count, counts, sizeof(counts));
    printf("  guest (seed %llu): %llu operations: %llu+%llu fast hypercalls (%llu succeeded), "
           "synthetic MSRs %llu reads %llu writes, other MSRs %llu reads %llu writes, %llu #GP, "
           "%llu+%llu string port I/O, %llu MMIO (%llu crossing), %llu interrupts\n",
           (unsigned long long)seed, (unsigned long long)counts[FZ_ITER], (unsigned long long)counts[FZ_HYPERCALL],
           (unsigned long long)counts[FZ_HYPERCALL_FAST], (unsigned long long)counts[FZ_HYPERCALL_OK],
           (unsigned long long)counts[FZ_SYN_RDMSR],
           (unsigned long long)counts[FZ_SYN_WRMSR], (unsigned long long)counts[FZ_OTHER_RDMSR],
           (unsigned long long)counts[FZ_OTHER_WRMSR], (unsigned long long)counts[FZ_GP],
           (unsigned long long)counts[FZ_PIO],
           (unsigned long long)counts[FZ_PIO_STRING], (unsigned long long)counts[FZ_MMIO],
           (unsigned long long)counts[FZ_MMIO_CROSS], (unsigned long long)counts[FZ_INTERRUPTS]);
    printf("  host: exits io %lu, mmio %lu, msr %lu, hypercall %lu; %lu messages posted, "
           "%lu event flags signaled\n",
           h.exits[WHvRunVpExitReasonX64IoPortAccess & 31], h.exits[WHvRunVpExitReasonMemoryAccess & 31],
           h.exits[WHvRunVpExitReasonX64MsrAccess & 31], h.exits[WHvRunVpExitReasonHypercall & 31], h.posts,
           h.signals);
    /* The host is still in charge: the guest goes on to DONE, and the partition answers. */
    guest_expect_done(vm, 0);
    uint64_t damage = guest_vm_guard_damage(vm);
    TEST_ASSERT(damage == 0, "(seed %llu: %llu bytes of the guard pages around guest RAM changed)",
                (unsigned long long)seed, (unsigned long long)damage);
    TEST_ASSERT(counts[FZ_ITER] >= 1000, "(only %llu operations)", (unsigned long long)counts[FZ_ITER]);
    for (unsigned i = FZ_HYPERCALL; i <= FZ_MMIO_CROSS; i++)
        if (i != FZ_HYPERCALL_OK && i != FZ_GP)
            TEST_ASSERT(counts[i] > 0, "(seed %llu: operation kind %u never ran)", (unsigned long long)seed, i);
    guest_emu_destroy(&h.emu);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_fuzz_guest_leaves_host_memory_alone),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
