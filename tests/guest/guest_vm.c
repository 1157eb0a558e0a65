/* Host side of the harness: builds a 64-bit guest through the public WHP API (partition, RAM,
 * page tables mapping the test executable and a direct map, GDT/IDT/TSS, VP registers), runs VPs
 * and decodes ucalls. */
#include <dlfcn.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guest.h"
#include "guest_internal.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_ADDR 0x000FFFFFFFFFF000ull

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS(vp) (0x18 + 16 * (vp))
#define GDT_ENTRIES (3 + 2 * GUEST_MAX_VPS)
#define TSS_SIZE 104

#define GUEST_STACK_SIZE (64 * 1024)
#define GUEST_IST_STACK_SIZE (16 * 1024)
#define GUEST_LOW_RESERVED 0x100000ull /* first MiB left to tests (real mode, SIPI pages) */

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static struct guest_vm *live_vms;

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        TEST_FAIL("out of memory");
    return p;
}

/* ---- Guest RAM and page tables ---- */

uint64_t guest_vm_alloc(struct guest_vm *vm, uint64_t size)
{
    uint64_t gpa = vm->next_free;
    size = (size + GUEST_PAGE_SIZE - 1) & ~(GUEST_PAGE_SIZE - 1);
    if (size > vm->ram_size - gpa)
        TEST_FAIL("guest RAM exhausted (%llu bytes asked, %llu left)", (unsigned long long)size,
                  (unsigned long long)(vm->ram_size - gpa));
    vm->next_free += size;
    memset(vm->ram + gpa, 0, size);
    return gpa;
}

void *guest_vm_gpa2hva(struct guest_vm *vm, uint64_t gpa)
{
    if (gpa >= vm->ram_size)
        TEST_FAIL("GPA 0x%llx is outside guest RAM", (unsigned long long)gpa);
    return vm->ram + gpa;
}

static uint64_t *table_at(struct guest_vm *vm, uint64_t gpa)
{
    return (uint64_t *)guest_vm_gpa2hva(vm, gpa);
}

/* Returns the page-table entry of gva, creating the intermediate tables if create is set. */
static uint64_t *pte_of(struct guest_vm *vm, uint64_t gva, bool create)
{
    uint64_t *table = table_at(vm, vm->pml4_gpa);

    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *entry = &table[(gva >> shift) & 0x1FF];
        if (!(*entry & PTE_P)) {
            if (!create)
                return NULL;
            *entry = guest_vm_alloc(vm, GUEST_PAGE_SIZE) | PTE_P | PTE_W | PTE_A;
        }
        table = table_at(vm, *entry & PTE_ADDR);
    }
    return &table[(gva >> 12) & 0x1FF];
}

void guest_vm_map(struct guest_vm *vm, uint64_t gva, uint64_t gpa, uint64_t size)
{
    TEST_ASSERT(((gva | gpa) & (GUEST_PAGE_SIZE - 1)) == 0, "unaligned mapping");
    for (uint64_t off = 0; off < size; off += GUEST_PAGE_SIZE)
        *pte_of(vm, gva + off, true) = ((gpa + off) & PTE_ADDR) | PTE_P | PTE_W | PTE_A | PTE_D;
}

uint64_t guest_vm_map_gpa(struct guest_vm *vm, uint64_t gpa, uint64_t size)
{
    uint64_t start = gpa & ~(GUEST_PAGE_SIZE - 1);
    uint64_t end = (gpa + size + GUEST_PAGE_SIZE - 1) & ~(GUEST_PAGE_SIZE - 1);
    guest_vm_map(vm, guest_vm_gpa2gva(start), start, end - start);
    return guest_vm_gpa2gva(gpa);
}

bool guest_vm_gva2gpa(struct guest_vm *vm, uint64_t gva, uint64_t *gpa)
{
    uint64_t *pte = pte_of(vm, gva, false);
    if (!pte || !(*pte & PTE_P))
        return false;
    *gpa = (*pte & PTE_ADDR) | (gva & (GUEST_PAGE_SIZE - 1));
    return true;
}

void *guest_vm_gva2hva(struct guest_vm *vm, uint64_t gva)
{
    uint64_t gpa;
    if (!guest_vm_gva2gpa(vm, gva, &gpa) || gpa >= vm->ram_size)
        return NULL;
    return vm->ram + gpa;
}

void guest_vm_read(struct guest_vm *vm, uint64_t gva, void *dst, size_t size)
{
    uint8_t *out = dst;
    while (size) {
        size_t chunk = GUEST_PAGE_SIZE - (gva & (GUEST_PAGE_SIZE - 1));
        uint8_t *src = guest_vm_gva2hva(vm, gva);
        if (!src)
            TEST_FAIL("guest address 0x%llx is not mapped to RAM", (unsigned long long)gva);
        if (chunk > size)
            chunk = size;
        memcpy(out, src, chunk);
        out += chunk;
        gva += chunk;
        size -= chunk;
    }
}

void guest_vm_write(struct guest_vm *vm, uint64_t gva, const void *src, size_t size)
{
    const uint8_t *in = src;
    while (size) {
        size_t chunk = GUEST_PAGE_SIZE - (gva & (GUEST_PAGE_SIZE - 1));
        uint8_t *dst = guest_vm_gva2hva(vm, gva);
        if (!dst)
            TEST_FAIL("guest address 0x%llx is not mapped to RAM", (unsigned long long)gva);
        if (chunk > size)
            chunk = size;
        memcpy(dst, in, chunk);
        in += chunk;
        gva += chunk;
        size -= chunk;
    }
}

/* Reads a NUL-terminated guest string (truncated to size - 1). */
static void read_guest_string(struct guest_vm *vm, uint64_t gva, char *buf, size_t size)
{
    size_t i = 0;
    if (!gva) {
        buf[0] = 0;
        return;
    }
    for (; i + 1 < size; i++, gva++) {
        const char *p = guest_vm_gva2hva(vm, gva);
        if (!p) {
            snprintf(buf, size, "<unmapped string at 0x%llx>", (unsigned long long)gva);
            return;
        }
        if (!*p)
            break;
        buf[i] = *p;
    }
    buf[i] = 0;
}

/* Copies a host page without the sanitizers: .data/.bss pages hold redzones that the
 * instrumented memcpy would refuse to read. */
__attribute__((no_sanitize("address", "undefined"))) static void copy_raw_page(void *dst,
                                                                              const void *src)
{
    volatile const uint64_t *s = src;
    uint64_t *d = dst;
    for (size_t i = 0; i < GUEST_PAGE_SIZE / 8; i++)
        d[i] = s[i];
}

/* Maps every PT_LOAD segment of the main program at its own virtual address, as a copy. */
static int map_program_cb(struct dl_phdr_info *info, size_t size, void *opaque)
{
    struct guest_vm *vm = opaque;
    (void)size;

    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
            continue;
        uint64_t start = (info->dlpi_addr + ph->p_vaddr) & ~(GUEST_PAGE_SIZE - 1);
        uint64_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + GUEST_PAGE_SIZE - 1) &
                       ~(GUEST_PAGE_SIZE - 1);
        for (uint64_t va = start; va < end; va += GUEST_PAGE_SIZE) {
            uint64_t *pte = pte_of(vm, va, true);
            if (*pte & PTE_P)
                continue; /* page shared with the previous segment */
            uint64_t gpa = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
            copy_raw_page(vm->ram + gpa, (const void *)(uintptr_t)va);
            *pte = gpa | PTE_P | PTE_W | PTE_A | PTE_D;
        }
    }
    return 1; /* the first object is the main program: stop there */
}

/* ---- Descriptor tables ---- */

static void set_idt_gate(struct guest_vm *vm, uint8_t vector, uint64_t handler, unsigned ist)
{
    uint64_t *gate = (uint64_t *)(vm->ram + vm->idt_gpa) + 2 * vector;
    gate[0] = (handler & 0xFFFF) | ((uint64_t)SEL_CODE << 16) | ((uint64_t)(ist & 7) << 32) |
              (0x8Eull << 40) /* present, DPL 0, 64-bit interrupt gate */ |
              (((handler >> 16) & 0xFFFF) << 48);
    gate[1] = handler >> 32;
}

void guest_vm_set_idt_gate(struct guest_vm *vm, uint8_t vector, uint64_t handler_gva, unsigned ist)
{
    set_idt_gate(vm, vector, handler_gva, ist);
}

void guest_vm_install_handler(struct guest_vm *vm, uint8_t vector, guest_handler_fn fn)
{
    guest_vm_write(vm, (uint64_t)(uintptr_t)&guest_handlers[vector], &fn, sizeof(fn));
}

static void setup_descriptor_tables(struct guest_vm *vm)
{
    uint64_t *gdt;

    vm->gdt_gpa = guest_vm_alloc(vm, GDT_ENTRIES * 8);
    vm->tss_gpa = guest_vm_alloc(vm, GUEST_MAX_VPS * TSS_SIZE);
    vm->idt_gpa = guest_vm_alloc(vm, 256 * 16);

    gdt = (uint64_t *)(vm->ram + vm->gdt_gpa);
    gdt[SEL_CODE / 8] = 0x00AF9B000000FFFFull; /* 64-bit code, DPL 0 */
    gdt[SEL_DATA / 8] = 0x00CF93000000FFFFull; /* data, read/write */
    for (unsigned vp = 0; vp < GUEST_MAX_VPS; vp++) {
        uint64_t base = guest_vm_gpa2gva(vm->tss_gpa + vp * TSS_SIZE);
        uint64_t limit = TSS_SIZE - 1;
        gdt[SEL_TSS(vp) / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
                               (0x8Bull << 40) /* present, busy 64-bit TSS */ |
                               (((base >> 24) & 0xFF) << 56);
        gdt[SEL_TSS(vp) / 8 + 1] = base >> 32;
        /* I/O map base beyond the limit: no I/O permission bitmap. */
        *(uint16_t *)(vm->ram + vm->tss_gpa + vp * TSS_SIZE + 102) = TSS_SIZE;
    }

    for (unsigned v = 0; v < 256; v++)
        set_idt_gate(vm, (uint8_t)v, (uint64_t)(uintptr_t)guest_idt_stubs + v * GUEST_IDT_STUB_SIZE,
                     v == 8 ? 1 : 0); /* #DF on its own stack */
}

/* ---- VM lifetime ---- */

/* The canary of byte i of the guard areas (before RAM: i < guard_size; after: guard_size + offset):
 * position-dependent, so shifted or copied guard bytes are caught too. */
static uint8_t guard_byte(uint64_t i)
{
    return (uint8_t)(0xA5 ^ (i * 131) ^ (i >> 9));
}

uint64_t guest_vm_guard_damage(struct guest_vm *vm)
{
    const uint8_t *before = vm->ram - vm->guard_size, *after = vm->ram + vm->ram_size;
    uint64_t bad = 0;
    for (uint64_t i = 0; i < vm->guard_size; i++)
        bad += (before[i] != guard_byte(i)) + (after[i] != guard_byte(vm->guard_size + i));
    return bad;
}

struct guest_vm *guest_vm_create(const struct guest_vm_config *cfg)
{
    static const struct guest_vm_config defaults;
    struct guest_vm *vm = xcalloc(1, sizeof(*vm));
    WHV_PARTITION_PROPERTY prop;

    if (!cfg)
        cfg = &defaults;
    vm->ram_size = cfg->ram_size ? cfg->ram_size : GUEST_DEFAULT_RAM_SIZE;
    vm->nr_vps = cfg->nr_vps ? cfg->nr_vps : 1;
    TEST_ASSERT(vm->nr_vps <= GUEST_MAX_VPS);
    vm->next_live = live_vms;
    live_vms = vm;

    TEST_HR(WHvCreatePartition(&vm->partition));
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = vm->nr_vps;
    TEST_HR(WHvSetPartitionProperty(vm->partition, WHvPartitionPropertyCodeProcessorCount, &prop,
                                    sizeof(prop)));
    if (cfg->apic_mode != WHvX64LocalApicEmulationModeNone) {
        memset(&prop, 0, sizeof(prop));
        prop.LocalApicEmulationMode = cfg->apic_mode;
        TEST_HR(WHvSetPartitionProperty(vm->partition, WHvPartitionPropertyCodeLocalApicEmulationMode,
                                        &prop, sizeof(prop)));
    }
    if (cfg->pre_setup)
        cfg->pre_setup(vm->partition, cfg->opaque);
    TEST_HR(WHvSetupPartition(vm->partition));

    vm->guard_size = (cfg->guard_size + GUEST_PAGE_SIZE - 1) & ~(GUEST_PAGE_SIZE - 1);
    uint8_t *area = mmap(NULL, vm->ram_size + 2 * vm->guard_size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED)
        TEST_FAIL("mmap of %llu bytes of guest RAM failed", (unsigned long long)vm->ram_size);
    vm->ram = area + vm->guard_size;
    for (uint64_t i = 0; i < vm->guard_size; i++) {
        area[i] = guard_byte(i);
        vm->ram[vm->ram_size + i] = guard_byte(vm->guard_size + i);
    }
    TEST_HR(WHvMapGpaRange(vm->partition, vm->ram, 0, vm->ram_size,
                           WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute));

    vm->next_free = GUEST_LOW_RESERVED;
    vm->pml4_gpa = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    guest_vm_map(vm, GUEST_DIRECT_MAP, 0, vm->ram_size);
    dl_iterate_phdr(map_program_cb, vm);
    setup_descriptor_tables(vm);
    return vm;
}

static WHV_X64_SEGMENT_REGISTER segment(uint16_t selector, uint64_t base, uint32_t limit, uint16_t attributes)
{
    WHV_X64_SEGMENT_REGISTER s;
    memset(&s, 0, sizeof(s));
    s.Base = base;
    s.Limit = limit;
    s.Selector = selector;
    s.Attributes = attributes;
    return s;
}

void guest_vm_add_vp(struct guest_vm *vm, uint32_t vp, const void *entry, uint64_t arg0, uint64_t arg1)
{
    enum { NREGS = 19 };
    WHV_REGISTER_NAME names[NREGS];
    WHV_REGISTER_VALUE values[NREGS];
    unsigned n = 0;
    uint64_t stack, ist, rsp, trap = (uint64_t)(uintptr_t)guest_return_trap;
    /* Attributes: type | S << 4 | DPL << 5 | P << 7 | L << 13 | D << 14 | G << 15 */
    const uint16_t code64 = 0xB | 1 << 4 | 1 << 7 | 1 << 13 | 1 << 15;
    const uint16_t data = 0x3 | 1 << 4 | 1 << 7 | 1 << 14 | 1 << 15;

    TEST_ASSERT(vp < vm->nr_vps, "VP %u but the partition has %u", vp, vm->nr_vps);
    TEST_HR(WHvCreateVirtualProcessor(vm->partition, vp, 0));
    vm->vp_created[vp] = true;

    stack = guest_vm_alloc(vm, GUEST_STACK_SIZE);
    ist = guest_vm_alloc(vm, GUEST_IST_STACK_SIZE);
    /* TSS.IST1 (offset 36) */
    memcpy(vm->ram + vm->tss_gpa + vp * TSS_SIZE + 36, &(uint64_t){guest_vm_gpa2gva(ist + GUEST_IST_STACK_SIZE)}, 8);
    /* As after a call: the return address at RSP, RSP + 8 16-byte aligned. */
    rsp = guest_vm_gpa2gva(stack + GUEST_STACK_SIZE - 16);
    memcpy(vm->ram + stack + GUEST_STACK_SIZE - 16, &trap, 8);

#define REG(name_, field_, value_)                                                                 \
    do {                                                                                           \
        names[n] = (name_);                                                                        \
        memset(&values[n], 0, sizeof(values[n]));                                                  \
        values[n].field_ = (value_);                                                               \
        n++;                                                                                       \
    } while (0)
    REG(WHvX64RegisterCr0, Reg64, CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG);
    REG(WHvX64RegisterCr3, Reg64, vm->pml4_gpa);
    REG(WHvX64RegisterCr4, Reg64, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT);
    REG(WHvX64RegisterEfer, Reg64, EFER_LME | EFER_LMA | EFER_NXE);
    REG(WHvX64RegisterCs, Segment, segment(SEL_CODE, 0, 0xFFFFFFFF, code64));
    REG(WHvX64RegisterDs, Segment, segment(SEL_DATA, 0, 0xFFFFFFFF, data));
    REG(WHvX64RegisterEs, Segment, segment(SEL_DATA, 0, 0xFFFFFFFF, data));
    REG(WHvX64RegisterSs, Segment, segment(SEL_DATA, 0, 0xFFFFFFFF, data));
    REG(WHvX64RegisterFs, Segment, segment(SEL_DATA, 0, 0xFFFFFFFF, data));
    REG(WHvX64RegisterGs, Segment, segment(SEL_DATA, 0, 0xFFFFFFFF, data));
    REG(WHvX64RegisterTr, Segment,
        segment(SEL_TSS(vp), guest_vm_gpa2gva(vm->tss_gpa + vp * TSS_SIZE), TSS_SIZE - 1, 0x8B));
    REG(WHvX64RegisterLdtr, Segment, segment(0, 0, 0xFFFF, 0x82));
    names[n] = WHvX64RegisterGdtr;
    memset(&values[n], 0, sizeof(values[n]));
    values[n].Table.Base = guest_vm_gpa2gva(vm->gdt_gpa);
    values[n].Table.Limit = GDT_ENTRIES * 8 - 1;
    n++;
    names[n] = WHvX64RegisterIdtr;
    memset(&values[n], 0, sizeof(values[n]));
    values[n].Table.Base = guest_vm_gpa2gva(vm->idt_gpa);
    values[n].Table.Limit = 256 * 16 - 1;
    n++;
    REG(WHvX64RegisterRflags, Reg64, 0x2);
    REG(WHvX64RegisterRsp, Reg64, rsp);
    REG(WHvX64RegisterRip, Reg64, (uint64_t)(uintptr_t)entry);
    REG(WHvX64RegisterRdi, Reg64, arg0);
    REG(WHvX64RegisterRsi, Reg64, arg1);
#undef REG
    TEST_ASSERT(n == NREGS);
    TEST_HR(guest_whv_set_regs(vm->partition, vp, names, n, values));
}

struct guest_vm *guest_vm_create_default(const void *entry)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    guest_vm_add_vp(vm, 0, entry, 0, 0);
    return vm;
}

static void vm_free(struct guest_vm *vm)
{
    if (vm->partition) {
        for (uint32_t vp = 0; vp < vm->nr_vps; vp++)
            if (vm->vp_created[vp])
                WHvDeleteVirtualProcessor(vm->partition, vp);
        WHvDeletePartition(vm->partition);
    }
    if (vm->ram)
        munmap(vm->ram - vm->guard_size, vm->ram_size + 2 * vm->guard_size);
    free(vm);
}

void guest_vm_destroy(struct guest_vm *vm)
{
    for (struct guest_vm **p = &live_vms; *p; p = &(*p)->next_live) {
        if (*p == vm) {
            *p = vm->next_live;
            break;
        }
    }
    vm_free(vm);
}

void guest_vm_destroy_all(void)
{
    while (live_vms) {
        struct guest_vm *vm = live_vms;
        live_vms = vm->next_live;
        vm_free(vm);
    }
}

/* ---- Registers ---- */

#define RUST_MISALIGN 8 /* what an 8-aligned Rust buffer may be off a 16-byte boundary */

HRESULT guest_whv_run(WHV_PARTITION_HANDLE p, UINT32 vp, WHV_RUN_VP_EXIT_CONTEXT *exit)
{
    _Alignas(16) uint8_t buf[RUST_MISALIGN + sizeof(*exit)];
    memset(buf, 0, sizeof(buf));
    HRESULT hr = WHvRunVirtualProcessor(p, vp, buf + RUST_MISALIGN, sizeof(*exit));
    memcpy(exit, buf + RUST_MISALIGN, sizeof(*exit));
    return hr;
}

/* The register values at 8 mod 16 in a buffer of the harness's, copied in and out. */
static HRESULT whv_regs(WHV_PARTITION_HANDLE p, UINT32 vp, const WHV_REGISTER_NAME *names,
                        UINT32 count, WHV_REGISTER_VALUE *values, bool set)
{
    size_t bytes = (size_t)count * sizeof(WHV_REGISTER_VALUE);
    uint8_t *buf = aligned_alloc(16, bytes + 2 * 16); /* C11: a multiple of the alignment */
    TEST_ASSERT(buf, "(out of memory)");
    uint8_t *misaligned = buf + RUST_MISALIGN;
    if (values)
        memcpy(misaligned, values, bytes);
    HRESULT hr = set ? WHvSetVirtualProcessorRegisters(p, vp, names, count, (void *)misaligned)
                     : WHvGetVirtualProcessorRegisters(p, vp, names, count, (void *)misaligned);
    if (!set && values)
        memcpy(values, misaligned, bytes);
    free(buf);
    return hr;
}

HRESULT guest_whv_get_regs(WHV_PARTITION_HANDLE p, UINT32 vp, const WHV_REGISTER_NAME *names,
                           UINT32 count, WHV_REGISTER_VALUE *values)
{
    return whv_regs(p, vp, names, count, values, false);
}

HRESULT guest_whv_set_regs(WHV_PARTITION_HANDLE p, UINT32 vp, const WHV_REGISTER_NAME *names,
                           UINT32 count, const WHV_REGISTER_VALUE *values)
{
    return whv_regs(p, vp, names, count, (WHV_REGISTER_VALUE *)values, true);
}

WHV_REGISTER_VALUE guest_get_reg_value(struct guest_vm *vm, uint32_t vp, WHV_REGISTER_NAME name)
{
    WHV_REGISTER_VALUE v;
    memset(&v, 0, sizeof(v));
    TEST_HR(guest_whv_get_regs(vm->partition, vp, &name, 1, &v));
    return v;
}

void guest_set_reg_value(struct guest_vm *vm, uint32_t vp, WHV_REGISTER_NAME name, WHV_REGISTER_VALUE v)
{
    TEST_HR(guest_whv_set_regs(vm->partition, vp, &name, 1, &v));
}

uint64_t guest_get_reg(struct guest_vm *vm, uint32_t vp, WHV_REGISTER_NAME name)
{
    return guest_get_reg_value(vm, vp, name).Reg64;
}

void guest_set_reg(struct guest_vm *vm, uint32_t vp, WHV_REGISTER_NAME name, uint64_t value)
{
    WHV_REGISTER_VALUE v;
    memset(&v, 0, sizeof(v));
    v.Reg64 = value;
    guest_set_reg_value(vm, vp, name, v);
}

void guest_skip_instruction(struct guest_vm *vm, uint32_t vp, const WHV_RUN_VP_EXIT_CONTEXT *exit)
{
    TEST_ASSERT(exit->VpContext.InstructionLength != 0,
                "(exit %s at rip 0x%llx has VpContext.InstructionLength 0)",
                guest_exit_reason_name(exit->ExitReason), (unsigned long long)exit->VpContext.Rip);
    guest_set_reg(vm, vp, WHvX64RegisterRip, exit->VpContext.Rip + exit->VpContext.InstructionLength);
}

/* ---- Running and ucalls ---- */

const char *guest_exit_reason_name(WHV_RUN_VP_EXIT_REASON reason)
{
    switch (reason) {
    case WHvRunVpExitReasonNone: return "None";
    case WHvRunVpExitReasonMemoryAccess: return "MemoryAccess";
    case WHvRunVpExitReasonX64IoPortAccess: return "X64IoPortAccess";
    case WHvRunVpExitReasonUnrecoverableException: return "UnrecoverableException";
    case WHvRunVpExitReasonInvalidVpRegisterValue: return "InvalidVpRegisterValue";
    case WHvRunVpExitReasonUnsupportedFeature: return "UnsupportedFeature";
    case WHvRunVpExitReasonX64InterruptWindow: return "X64InterruptWindow";
    case WHvRunVpExitReasonX64Halt: return "X64Halt";
    case WHvRunVpExitReasonX64ApicEoi: return "X64ApicEoi";
    case WHvRunVpExitReasonX64MsrAccess: return "X64MsrAccess";
    case WHvRunVpExitReasonX64Cpuid: return "X64Cpuid";
    case WHvRunVpExitReasonException: return "Exception";
    case WHvRunVpExitReasonX64Rdtsc: return "X64Rdtsc";
    case WHvRunVpExitReasonX64ApicSmiTrap: return "X64ApicSmiTrap";
    case WHvRunVpExitReasonHypercall: return "Hypercall";
    case WHvRunVpExitReasonX64ApicInitSipiTrap: return "X64ApicInitSipiTrap";
    case WHvRunVpExitReasonX64ApicWriteTrap: return "X64ApicWriteTrap";
    case WHvRunVpExitReasonCanceled: return "Canceled";
    default: return "unknown";
    }
}

void guest_run_once(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit)
{
    TEST_HR(guest_whv_run(vm->partition, vp, exit));
}

/* printf for a guest format: integer conversions take the next value; %s reads a guest string. */
static void format_guest(struct guest_vm *vm, const char *fmt, const uint64_t *args, size_t nargs,
                         char *out, size_t size)
{
    size_t len = 0, next = 0;
    char spec[32], piece[256];

    out[0] = 0;
    while (*fmt && len + 1 < size) {
        const char *start = fmt;
        size_t n;
        if (*fmt != '%' || fmt[1] == '%') {
            piece[0] = *fmt;
            piece[1] = 0;
            fmt += *fmt == '%' ? 2 : 1;
        } else {
            fmt++;
            while (*fmt && strchr("-+ #0123456789.", *fmt))
                fmt++;
            while (*fmt && strchr("hlLqjzt", *fmt))
                fmt++;
            char conv = *fmt ? *fmt++ : 0;
            uint64_t v = next < nargs ? args[next] : 0;
            next++;
            n = (size_t)(fmt - start);
            if (!conv || n + 2 >= sizeof(spec) || !strchr("diouxXcsp", conv)) {
                snprintf(piece, sizeof(piece), "%.*s", (int)n, start);
            } else if (conv == 's') {
                char str[200];
                read_guest_string(vm, v, str, sizeof(str));
                snprintf(piece, sizeof(piece), "%s", str);
            } else if (conv == 'p') {
                snprintf(piece, sizeof(piece), "0x%llx", (unsigned long long)v);
            } else if (conv == 'c') {
                snprintf(piece, sizeof(piece), "%c", (int)(v & 0xFF));
            } else {
                /* Rebuild the conversion with "ll" in place of any length modifier. */
                size_t k = 0;
                for (const char *p = start; p < fmt - 1; p++)
                    if (!strchr("hlLqjzt", *p))
                        spec[k++] = *p;
                spec[k++] = 'l';
                spec[k++] = 'l';
                spec[k++] = conv;
                spec[k] = 0;
                if (conv == 'd' || conv == 'i')
                    snprintf(piece, sizeof(piece), spec, (long long)v);
                else
                    snprintf(piece, sizeof(piece), spec, (unsigned long long)v);
            }
        }
        n = strlen(piece);
        if (n > size - 1 - len)
            n = size - 1 - len;
        memcpy(out + len, piece, n);
        len += n;
        out[len] = 0;
    }
}

/* " (file+0xoffset, for addr2line)" when addr is code of the test executable, else "". */
static void describe_code_address(uint64_t addr, char *buf, size_t size)
{
    Dl_info info;
    buf[0] = 0;
    if (dladdr((void *)(uintptr_t)addr, &info) && info.dli_fname)
        snprintf(buf, size, " (%s+0x%llx)", info.dli_fname,
                 (unsigned long long)(addr - (uint64_t)(uintptr_t)info.dli_fbase));
}

bool guest_ucall_decode(struct guest_vm *vm, uint32_t vp, const WHV_RUN_VP_EXIT_CONTEXT *exit,
                        struct guest_ucall *uc)
{
    static bool warned_rdi;
    struct guest_ucall_record rec;
    uint64_t gva;
    char msg[512];

    if (exit->ExitReason != WHvRunVpExitReasonX64IoPortAccess ||
        exit->IoPortAccess.PortNumber != GUEST_UCALL_PORT)
        return false;
    TEST_ASSERT(exit->IoPortAccess.AccessInfo.IsWrite && exit->IoPortAccess.AccessInfo.AccessSize == 4,
                "(ucall port access: IsWrite %u AccessSize %u)", exit->IoPortAccess.AccessInfo.IsWrite,
                exit->IoPortAccess.AccessInfo.AccessSize);
    gva = exit->IoPortAccess.Rdi;
    if (!gva) {
        gva = guest_get_reg(vm, vp, WHvX64RegisterRdi);
        if (!warned_rdi) {
            printf("  note: IoPortAccess.Rdi is 0 in the ucall exit; RDI register is 0x%llx\n",
                   (unsigned long long)gva);
            warned_rdi = true;
        }
    }
    guest_vm_read(vm, gva, &rec, sizeof(rec));
    memset(uc, 0, sizeof(*uc));
    uc->type = rec.type;
    uc->nargs = rec.nargs < GUEST_UCALL_MAX_ARGS ? rec.nargs : GUEST_UCALL_MAX_ARGS;
    memcpy(uc->args, rec.args, sizeof(uc->args));
    uc->line = rec.line;
    read_guest_string(vm, rec.file, uc->file, sizeof(uc->file));
    read_guest_string(vm, rec.text, uc->text, sizeof(uc->text));
    guest_skip_instruction(vm, vp, exit);

    switch (uc->type) {
    case UCALL_PRINT:
        format_guest(vm, uc->text, uc->args + 1, uc->nargs ? uc->nargs - 1 : 0, msg, sizeof(msg));
        printf("  guest(vp %u): %s\n", vp, msg);
        break;
    case UCALL_ASSERT:
        if (uc->nargs >= 3 && uc->args[0] == GUEST_ASSERT_COMPARE) {
            guest_test_fail(uc->file, (int)uc->line, "guest assertion failed: %s (0x%llx vs 0x%llx)",
                            uc->text, (unsigned long long)uc->args[1], (unsigned long long)uc->args[2]);
        }
        format_guest(vm, uc->text, uc->args + 1, uc->nargs ? uc->nargs - 1 : 0, msg, sizeof(msg));
        guest_test_fail(uc->file, (int)uc->line, "guest assertion failed: %s", msg);
    case UCALL_UNHANDLED:
        describe_code_address(uc->args[1], msg, sizeof(msg));
        guest_test_fail(uc->file, (int)uc->line,
                        "guest vp %u: unexpected exception %llu at rip 0x%llx%s error 0x%llx (cr2 0x%llx)",
                        vp, (unsigned long long)uc->args[0], (unsigned long long)uc->args[1], msg,
                        (unsigned long long)uc->args[2], (unsigned long long)uc->args[3]);
    case UCALL_SYNC:
    case UCALL_DONE:
        break;
    default:
        TEST_FAIL("unknown ucall type %llu from %s:%llu", (unsigned long long)uc->type, uc->file,
                  (unsigned long long)uc->line);
    }
    return true;
}

static void describe_exit(const WHV_RUN_VP_EXIT_CONTEXT *exit, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s (0x%x) at rip 0x%llx", guest_exit_reason_name(exit->ExitReason),
                     (unsigned)exit->ExitReason, (unsigned long long)exit->VpContext.Rip);
    if (n < 0 || (size_t)n >= size)
        return;
    switch (exit->ExitReason) {
    case WHvRunVpExitReasonX64IoPortAccess:
        snprintf(buf + n, size - n, ": port 0x%x size %u %s", exit->IoPortAccess.PortNumber,
                 exit->IoPortAccess.AccessInfo.AccessSize, exit->IoPortAccess.AccessInfo.IsWrite ? "out" : "in");
        break;
    case WHvRunVpExitReasonMemoryAccess:
        snprintf(buf + n, size - n, ": gpa 0x%llx gva 0x%llx access type %u",
                 (unsigned long long)exit->MemoryAccess.Gpa, (unsigned long long)exit->MemoryAccess.Gva,
                 exit->MemoryAccess.AccessInfo.AccessType);
        break;
    case WHvRunVpExitReasonX64MsrAccess:
        snprintf(buf + n, size - n, ": msr 0x%x %s", exit->MsrAccess.MsrNumber,
                 exit->MsrAccess.AccessInfo.IsWrite ? "write" : "read");
        break;
    case WHvRunVpExitReasonException:
        snprintf(buf + n, size - n, ": exception %u error 0x%x", exit->VpException.ExceptionType,
                 exit->VpException.ErrorCode);
        break;
    default:
        break;
    }
}

uint64_t guest_run_handling(struct guest_vm *vm, uint32_t vp, struct guest_ucall *uc, guest_exit_fn fn,
                            void *opaque)
{
    WHV_RUN_VP_EXIT_CONTEXT exit;
    char desc[256];

    for (;;) {
        guest_run_once(vm, vp, &exit);
        if (guest_ucall_decode(vm, vp, &exit, uc)) {
            if (uc->type == UCALL_PRINT)
                continue;
            return uc->type;
        }
        if (fn) {
            if (fn(vm, vp, &exit, opaque))
                continue;
            memset(uc, 0, sizeof(*uc));
            return UCALL_NONE;
        }
        describe_exit(&exit, desc, sizeof(desc));
        TEST_FAIL("vp %u: unexpected exit %s", vp, desc);
    }
}

void guest_expect_sync(struct guest_vm *vm, uint32_t vp, uint64_t value)
{
    struct guest_ucall uc;
    uint64_t type = guest_run(vm, vp, &uc);
    TEST_ASSERT(type == UCALL_SYNC, "(expected GUEST_SYNC(0x%llx), got ucall type %llu from %s:%llu)",
                (unsigned long long)value, (unsigned long long)type, uc.file, (unsigned long long)uc.line);
    TEST_ASSERT(uc.nargs >= 1 && uc.args[0] == value,
                "(expected GUEST_SYNC(0x%llx), got GUEST_SYNC(0x%llx) at %s:%llu)", (unsigned long long)value,
                (unsigned long long)uc.args[0], uc.file, (unsigned long long)uc.line);
}

void guest_expect_done(struct guest_vm *vm, uint32_t vp)
{
    struct guest_ucall uc;
    uint64_t type = guest_run(vm, vp, &uc);
    TEST_ASSERT(type == UCALL_DONE, "(expected GUEST_DONE, got ucall type %llu (arg 0x%llx) from %s:%llu)",
                (unsigned long long)type, (unsigned long long)uc.args[0], uc.file, (unsigned long long)uc.line);
}
