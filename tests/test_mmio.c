/* Memory-access exits: loads and stores to unmapped GPAs completed through the WHP emulator and
 * directly, stores that cross a page into MMIO, writes to a read-only mapping, remapping a range
 * and unmapping it. */
#include <string.h>
#include <sys/mman.h>

#include "guest.h"

#define MMIO_GPA 0xC0000000ull
#define ROM_GPA 0xD0000000ull
#define SWAP_GPA 0xD0100000ull

/* A device register file: a load of N bytes at offset o returns bytes (o + 0x40 + i). */
struct mmio_device {
    unsigned reads, writes;
    uint64_t last_gpa, last_data;
    uint8_t last_size;
};

static HRESULT device_mmio(struct guest_emu *emu, WHV_EMULATOR_MEMORY_ACCESS_INFO *access)
{
    struct mmio_device *dev = emu->opaque;
    uint64_t off = access->GpaAddress - MMIO_GPA;

    TEST_ASSERT(access->GpaAddress >= MMIO_GPA && off < GUEST_PAGE_SIZE, "(callback for gpa 0x%llx)",
                (unsigned long long)access->GpaAddress);
    dev->last_gpa = access->GpaAddress;
    dev->last_size = access->AccessSize;
    if (access->Direction) {
        dev->writes++;
        dev->last_data = 0;
        memcpy(&dev->last_data, access->Data, access->AccessSize);
    } else {
        dev->reads++;
        for (unsigned i = 0; i < access->AccessSize; i++)
            access->Data[i] = (uint8_t)(off + 0x40 + i);
    }
    return S_OK;
}

static uint64_t pattern(uint64_t off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)(uint8_t)(off + 0x40 + i) << (8 * i);
    return v;
}

/* Checks a MemoryAccess exit and that InstructionBytes are the bytes at RIP. */
static void check_memory_exit(struct guest_vm *vm, const WHV_RUN_VP_EXIT_CONTEXT *exit, uint64_t gpa,
                              WHV_MEMORY_ACCESS_TYPE type, bool unmapped)
{
    const WHV_MEMORY_ACCESS_CONTEXT *m = &exit->MemoryAccess;
    uint8_t code[16];

    TEST_ASSERT(exit->ExitReason == WHvRunVpExitReasonMemoryAccess, "(exit %s at 0x%llx)",
                guest_exit_reason_name(exit->ExitReason), (unsigned long long)exit->VpContext.Rip);
    TEST_ASSERT(m->Gpa == gpa, "(Gpa 0x%llx, expected 0x%llx)", (unsigned long long)m->Gpa,
                (unsigned long long)gpa);
    TEST_ASSERT_EQ(m->AccessInfo.AccessType, type);
    TEST_ASSERT_EQ(m->AccessInfo.GpaUnmapped, unmapped);
    if (m->AccessInfo.GvaValid)
        TEST_ASSERT_EQ(m->Gva, guest_vm_gpa2gva(gpa));
    TEST_ASSERT(m->InstructionByteCount > 0 && m->InstructionByteCount <= 16, "(InstructionByteCount %u)",
                m->InstructionByteCount);
    guest_vm_read(vm, exit->VpContext.Rip, code, sizeof(code));
    TEST_ASSERT(memcmp(m->InstructionBytes, code, m->InstructionByteCount) == 0,
                "(InstructionBytes %02x %02x %02x differ from the code at rip: %02x %02x %02x)",
                m->InstructionBytes[0], m->InstructionBytes[1], m->InstructionBytes[2], code[0], code[1], code[2]);
}

/* ---- Loads and stores through the emulator ---- */

GUEST_CODE static void guest_mmio_loads(uint64_t base)
{
    uint64_t b = 0, w = 0, l = 0, q = 0, zb = 0, zw = 0;

    __asm__ volatile("movb 0x10(%1), %b0" : "+a"(b) : "D"(base) : "memory");
    __asm__ volatile("movw 0x22(%1), %w0" : "+a"(w) : "D"(base) : "memory");
    __asm__ volatile("movl 0x34(%1), %k0" : "=a"(l) : "D"(base) : "memory");
    __asm__ volatile("movq 0x48(%1), %0" : "=a"(q) : "D"(base) : "memory");
    __asm__ volatile("movzbl 0x51(%1), %k0" : "=a"(zb) : "D"(base) : "memory");
    __asm__ volatile("movzwl 0x62(%1), %k0" : "=a"(zw) : "D"(base) : "memory");
    GUEST_SYNC(b, w, l, q, zb, zw);
    GUEST_DONE();
}

static void test_mmio_loads_through_emulator(void)
{
    static const struct {
        uint64_t off;
        unsigned size;
    } loads[] = {{0x10, 1}, {0x22, 2}, {0x34, 4}, {0x48, 8}, {0x51, 1}, {0x62, 2}};
    struct guest_vm *vm = guest_vm_create(NULL);
    struct mmio_device dev;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;
    struct guest_emu emu;

    guest_vm_add_vp(vm, 0, guest_mmio_loads, guest_vm_map_gpa(vm, MMIO_GPA, GUEST_PAGE_SIZE), 0);
    memset(&dev, 0, sizeof(dev));
    guest_emu_create(&emu, vm, 0);
    emu.mmio = device_mmio;
    emu.opaque = &dev;
    for (unsigned i = 0; i < 6; i++) {
        guest_run_once(vm, 0, &exit);
        check_memory_exit(vm, &exit, MMIO_GPA + loads[i].off, WHvMemoryAccessRead, true);
        guest_emu_mmio(&emu, &exit);
        TEST_ASSERT_EQ(dev.reads, i + 1);
        TEST_ASSERT_EQ(dev.last_gpa, MMIO_GPA + loads[i].off);
        TEST_ASSERT_EQ(dev.last_size, loads[i].size);
    }
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    for (unsigned i = 0; i < 6; i++)
        TEST_ASSERT(uc.args[i] == pattern(loads[i].off, loads[i].size), "(load %u: 0x%llx, expected 0x%llx)", i,
                    (unsigned long long)uc.args[i], (unsigned long long)pattern(loads[i].off, loads[i].size));
    guest_expect_done(vm, 0);
    guest_emu_destroy(&emu);
    guest_vm_destroy(vm);
}

GUEST_CODE static void guest_mmio_stores(uint64_t base)
{
    __asm__ volatile("movb %b0, 0x08(%1)" ::"a"(0x81), "D"(base) : "memory");
    __asm__ volatile("movw %w0, 0x1a(%1)" ::"a"(0x8382), "D"(base) : "memory");
    __asm__ volatile("movl %k0, 0x2c(%1)" ::"a"(0x87868584), "D"(base) : "memory");
    __asm__ volatile("movq %0, 0x38(%1)" ::"a"(0x8F8E8D8C8B8A8988ull), "D"(base) : "memory");
    __asm__ volatile("movl $0x12345678, 0x40(%0)" ::"D"(base) : "memory");
    GUEST_DONE();
}

static void test_mmio_stores_through_emulator(void)
{
    static const struct {
        uint64_t off;
        unsigned size;
        uint64_t data;
    } stores[] = {{0x08, 1, 0x81},
                  {0x1a, 2, 0x8382},
                  {0x2c, 4, 0x87868584},
                  {0x38, 8, 0x8F8E8D8C8B8A8988ull},
                  {0x40, 4, 0x12345678}};
    struct guest_vm *vm = guest_vm_create(NULL);
    struct mmio_device dev;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_emu emu;

    guest_vm_add_vp(vm, 0, guest_mmio_stores, guest_vm_map_gpa(vm, MMIO_GPA, GUEST_PAGE_SIZE), 0);
    memset(&dev, 0, sizeof(dev));
    guest_emu_create(&emu, vm, 0);
    emu.mmio = device_mmio;
    emu.opaque = &dev;
    for (unsigned i = 0; i < 5; i++) {
        guest_run_once(vm, 0, &exit);
        check_memory_exit(vm, &exit, MMIO_GPA + stores[i].off, WHvMemoryAccessWrite, true);
        guest_emu_mmio(&emu, &exit);
        TEST_ASSERT_EQ(dev.writes, i + 1);
        TEST_ASSERT_EQ(dev.last_gpa, MMIO_GPA + stores[i].off);
        TEST_ASSERT_EQ(dev.last_size, stores[i].size);
        TEST_ASSERT_EQ(dev.last_data, stores[i].data);
    }
    guest_expect_done(vm, 0);
    guest_emu_destroy(&emu);
    guest_vm_destroy(vm);
}

/* ---- A store completed by the VMM itself ---- */

GUEST_CODE static void guest_store_then_sync(uint64_t addr)
{
    /* 89 07: mov %eax, (%rdi) */
    __asm__ volatile("movl %k0, (%1)" ::"a"(0xCAFEF00D), "D"(addr) : "memory");
    GUEST_SYNC(1);
    GUEST_DONE();
}

/* Completes "mov %eax, (%rdi)" as a VMM that decodes it itself: read EAX, move RIP past the two
 * bytes. Returns the value stored. */
static uint32_t complete_store_directly(struct guest_vm *vm, const WHV_RUN_VP_EXIT_CONTEXT *exit)
{
    const WHV_MEMORY_ACCESS_CONTEXT *m = &exit->MemoryAccess;

    TEST_ASSERT(m->InstructionBytes[0] == 0x89 && m->InstructionBytes[1] == 0x07, "(instruction %02x %02x)",
                m->InstructionBytes[0], m->InstructionBytes[1]);
    TEST_ASSERT(exit->VpContext.InstructionLength == 0 || exit->VpContext.InstructionLength == 2,
                "(InstructionLength %u)", exit->VpContext.InstructionLength);
    guest_set_reg(vm, 0, WHvX64RegisterRip, exit->VpContext.Rip + 2);
    return (uint32_t)guest_get_reg(vm, 0, WHvX64RegisterRax);
}

static void test_mmio_store_completed_directly(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    WHV_RUN_VP_EXIT_CONTEXT exit;

    guest_vm_add_vp(vm, 0, guest_store_then_sync, guest_vm_map_gpa(vm, MMIO_GPA + 0x100, 4), 0);
    guest_run_once(vm, 0, &exit);
    check_memory_exit(vm, &exit, MMIO_GPA + 0x100, WHvMemoryAccessWrite, true);
    TEST_ASSERT_EQ(complete_store_directly(vm, &exit), 0xCAFEF00D);
    guest_expect_sync(vm, 0, 1);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* ---- Read-only mappings ---- */

static void *host_page(uint8_t fill)
{
    void *p = mmap(NULL, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TEST_ASSERT(p != MAP_FAILED);
    memset(p, fill, GUEST_PAGE_SIZE);
    return p;
}

GUEST_CODE static void guest_write_rom(uint64_t addr)
{
    GUEST_SYNC(guest_read32(addr));
    __asm__ volatile("movl %k0, (%1)" ::"a"(0x12345678), "D"(addr) : "memory");
    GUEST_SYNC(guest_read32(addr));
    GUEST_DONE();
}

static void test_write_to_readonly_mapping_exits(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    uint8_t *rom = host_page(0x5A);
    WHV_RUN_VP_EXIT_CONTEXT exit;

    TEST_HR(WHvMapGpaRange(vm->partition, rom, ROM_GPA, GUEST_PAGE_SIZE,
                           WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagExecute));
    guest_vm_add_vp(vm, 0, guest_write_rom, guest_vm_map_gpa(vm, ROM_GPA + 0x20, 4), 0);
    guest_expect_sync(vm, 0, 0x5A5A5A5A); /* reads need no exit */
    guest_run_once(vm, 0, &exit);
    check_memory_exit(vm, &exit, ROM_GPA + 0x20, WHvMemoryAccessWrite, false);
    TEST_ASSERT_EQ(complete_store_directly(vm, &exit), 0x12345678);
    guest_expect_sync(vm, 0, 0x5A5A5A5A); /* the page is unchanged */
    for (unsigned i = 0; i < GUEST_PAGE_SIZE; i++)
        TEST_ASSERT(rom[i] == 0x5A, "(host byte %u is 0x%02x)", i, rom[i]);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
    munmap(rom, GUEST_PAGE_SIZE);
}

/* ---- Remapping and unmapping ---- */

GUEST_CODE static void guest_read_three_times(uint64_t addr)
{
    GUEST_SYNC(guest_read32(addr));
    GUEST_SYNC(guest_read32(addr));
    GUEST_SYNC(guest_read32(addr));
    GUEST_DONE();
}

static void test_remap_changes_what_guest_reads(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    uint8_t *a = host_page(0x11), *b = host_page(0x22), *c = host_page(0x33);
    const WHV_MAP_GPA_RANGE_FLAGS rw = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite;

    TEST_HR(WHvMapGpaRange(vm->partition, a, SWAP_GPA, GUEST_PAGE_SIZE, rw));
    guest_vm_add_vp(vm, 0, guest_read_three_times, guest_vm_map_gpa(vm, SWAP_GPA + 0x80, 4), 0);
    guest_expect_sync(vm, 0, 0x11111111);
    /* Map over the existing mapping. */
    TEST_HR(WHvMapGpaRange(vm->partition, b, SWAP_GPA, GUEST_PAGE_SIZE, rw));
    guest_expect_sync(vm, 0, 0x22222222);
    /* Unmap, then map again. */
    TEST_HR(WHvUnmapGpaRange(vm->partition, SWAP_GPA, GUEST_PAGE_SIZE));
    TEST_HR(WHvMapGpaRange(vm->partition, c, SWAP_GPA, GUEST_PAGE_SIZE, rw));
    guest_expect_sync(vm, 0, 0x33333333);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
    munmap(a, GUEST_PAGE_SIZE);
    munmap(b, GUEST_PAGE_SIZE);
    munmap(c, GUEST_PAGE_SIZE);
}

GUEST_CODE static void guest_read_twice_mov(uint64_t addr)
{
    uint64_t v = 0;
    __asm__ volatile("movl (%1), %k0" : "=a"(v) : "D"(addr) : "memory");
    GUEST_SYNC(v);
    __asm__ volatile("movl (%1), %k0" : "=a"(v) : "D"(addr) : "memory");
    GUEST_SYNC(v);
    GUEST_DONE();
}

static HRESULT constant_mmio(struct guest_emu *emu, WHV_EMULATOR_MEMORY_ACCESS_INFO *access)
{
    (void)emu;
    TEST_ASSERT_EQ(access->Direction, 0);
    TEST_ASSERT_EQ(access->AccessSize, 4);
    memcpy(access->Data, &(uint32_t){0xFEEDFACE}, 4);
    return S_OK;
}

static void test_unmapped_range_exits(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    uint8_t *page = host_page(0x44);
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_emu emu;

    TEST_HR(WHvMapGpaRange(vm->partition, page, SWAP_GPA, GUEST_PAGE_SIZE,
                           WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite));
    guest_vm_add_vp(vm, 0, guest_read_twice_mov, guest_vm_map_gpa(vm, SWAP_GPA + 0x40, 4), 0);
    guest_expect_sync(vm, 0, 0x44444444);
    TEST_HR(WHvUnmapGpaRange(vm->partition, SWAP_GPA, GUEST_PAGE_SIZE));
    guest_run_once(vm, 0, &exit);
    check_memory_exit(vm, &exit, SWAP_GPA + 0x40, WHvMemoryAccessRead, true);
    guest_emu_create(&emu, vm, 0);
    emu.mmio = constant_mmio;
    guest_emu_mmio(&emu, &exit);
    guest_expect_sync(vm, 0, 0xFEEDFACE);
    guest_expect_done(vm, 0);
    guest_emu_destroy(&emu);
    guest_vm_destroy(vm);
    munmap(page, GUEST_PAGE_SIZE);
}

/* ---- Stores that cross a page into MMIO (KVM exits once per MMIO fragment), and one whose
 * shorter decode is another store ---- */

/* The bytes the emulator's callbacks wrote (the emulator may split a store at the page). */
struct crossing_log {
    unsigned calls;
    uint64_t lo, hi; /* GPA range written so far by this store's callbacks */
    uint8_t bytes[16]; /* bytes[i]: GPA lo + i */
};

static HRESULT crossing_mmio(struct guest_emu *emu, WHV_EMULATOR_MEMORY_ACCESS_INFO *access)
{
    struct crossing_log *log = emu->opaque;
    TEST_ASSERT(access->Direction == 1, "(a load in the store test)");
    if (log->calls++ == 0)
        log->lo = log->hi = access->GpaAddress;
    TEST_ASSERT(access->GpaAddress == log->hi && log->hi + access->AccessSize - log->lo <= sizeof(log->bytes),
                "(callback at gpa 0x%llx does not continue the store at 0x%llx)",
                (unsigned long long)access->GpaAddress, (unsigned long long)log->hi);
    memcpy(log->bytes + (log->hi - log->lo), access->Data, access->AccessSize);
    log->hi += access->AccessSize;
    return S_OK;
}

GUEST_CODE static void guest_crossing_stores(uint64_t mmio, uint64_t ram_end)
{
    __asm__ volatile("movq %0, 0xffc(%1)" ::"a"(0x1122334455667788ull), "D"(mmio) : "memory");
    __asm__ volatile("movw %w0, 0x1fff(%1)" ::"a"(0xA1A2), "D"(mmio) : "memory"); /* 66 89 87 ff 1f 00 00 */
    __asm__ volatile("movl %k0, -2(%1)" ::"a"(0xB1B2B3B4), "D"(ram_end) : "memory");
    /* Through r9 (41 89 81 fe 0f 00 00): without its REX.B it decodes as a store of the same
     * size and value through rcx, which points elsewhere. */
    register uint64_t r9 __asm__("r9") = mmio;
    __asm__ volatile("movl %k0, 0xffe(%1)" ::"a"(0xC1C2C3C4), "r"(r9), "c"(0) : "memory");
    GUEST_DONE();
}

/* One MemoryAccess exit per store, at the store, with the GPA of its first MMIO byte; the emulator
 * then performs the whole store: its MMIO bytes reach the device (its RAM part may go to RAM). */
static void test_mmio_page_crossing_store_is_one_exit(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    uint64_t mmio = guest_vm_map_gpa(vm, MMIO_GPA, 3 * GUEST_PAGE_SIZE);
    static const struct {
        uint64_t exit_gpa, gpa, data;
        uint8_t size;
    } want[] = {{MMIO_GPA + 0xffc, MMIO_GPA + 0xffc, 0x1122334455667788ull, 8},
                {MMIO_GPA + 0x1fff, MMIO_GPA + 0x1fff, 0xA1A2, 2},
                {GUEST_DEFAULT_RAM_SIZE, GUEST_DEFAULT_RAM_SIZE - 2, 0xB1B2B3B4, 4},
                {MMIO_GPA + 0xffe, MMIO_GPA + 0xffe, 0xC1C2C3C4, 4}};
    struct crossing_log log;
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_emu emu;

    guest_vm_map_gpa(vm, vm->ram_size, GUEST_PAGE_SIZE); /* the direct map runs on past RAM */
    guest_vm_add_vp(vm, 0, guest_crossing_stores, mmio, guest_vm_gpa2gva(vm->ram_size));
    guest_emu_create(&emu, vm, 0);
    emu.mmio = crossing_mmio;
    emu.opaque = &log;
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        memset(&log, 0, sizeof(log));
        guest_run_once(vm, 0, &exit);
        check_memory_exit(vm, &exit, want[i].exit_gpa, WHvMemoryAccessWrite, true);
        TEST_ASSERT(exit.VpContext.InstructionLength > 0, "(store %u: no instruction length)", i);
        guest_emu_mmio(&emu, &exit);
        /* The device saw every MMIO byte of the store, and only bytes of the store. */
        uint64_t end = want[i].gpa + want[i].size;
        TEST_ASSERT(log.calls > 0 && log.lo >= want[i].gpa && log.lo <= want[i].exit_gpa && log.hi == end,
                    "(store %u: the device saw gpa 0x%llx..0x%llx, the store is 0x%llx..0x%llx)", i,
                    (unsigned long long)log.lo, (unsigned long long)log.hi, (unsigned long long)want[i].gpa,
                    (unsigned long long)end);
        for (uint64_t a = log.lo; a < log.hi; a++)
            TEST_ASSERT(log.bytes[a - log.lo] == (uint8_t)(want[i].data >> (8 * (a - want[i].gpa))),
                        "(store %u: byte at gpa 0x%llx is 0x%x)", i, (unsigned long long)a, log.bytes[a - log.lo]);
    }
    uint8_t *last = guest_vm_gpa2hva(vm, vm->ram_size - 2);
    TEST_ASSERT(last[0] == 0xB4 && last[1] == 0xB3, "(RAM part of the crossing store: 0x%x 0x%x)", last[0], last[1]);
    guest_expect_done(vm, 0); /* no further exit for any of the stores */
    guest_emu_destroy(&emu);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_mmio_loads_through_emulator),
        GUEST_TEST(test_mmio_stores_through_emulator),
        GUEST_TEST(test_mmio_store_completed_directly),
        GUEST_TEST(test_mmio_page_crossing_store_is_one_exit),
        GUEST_TEST(test_write_to_readonly_mapping_exits),
        GUEST_TEST(test_remap_changes_what_guest_reads),
        GUEST_TEST(test_unmapped_range_exits),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
