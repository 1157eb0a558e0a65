/* Events seen by guests: doorbells (MMIO and port I/O) that signal an event with no exit to user
 * space, notification ports, triggers that interrupt a halted guest from a host thread (update,
 * delete, device interrupts), a doorbell of one partition wired to a trigger of another, races of
 * signals with updates and deletes, and create/delete cycles that must not leak fds or memory.
 * Event signals are counted by reading the eventfd counter; "no user-space exit" is checked with
 * WHvGetVirtualProcessorCounters(WHvProcessorCounterSetIntercepts) before and after. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openwhp/doorbell.h>
#include <openwhp/event.h>

#include "guest_apic.h"

#define XAPIC WHvX64LocalApicEmulationModeXApic
#define X2APIC WHvX64LocalApicEmulationModeX2Apic

#define DB_GPA 0xD0000000ull /* no RAM here: writes exit unless a doorbell takes them */
#define DB_PORT 0x5000
#define DB_READY 0xDB

#define HV_INVALID_PARAMETER ((HRESULT)0xC0350005L)
#define HV_OPERATION_DENIED ((HRESULT)0xC0350008L)
#define NOT_FOUND ((HRESULT)0x80070490L)


/* ======================================================================================
 * Doorbells
 * ====================================================================================== */

/* What the doorbell guest does between two GUEST_SYNC(DB_READY): count writes of size bytes of
 * value to addr (a GVA, or a port when pio). */
struct db_cmd {
    uint64_t addr;
    uint64_t value;
    uint32_t size;
    uint32_t count;
    uint32_t pio;
};
static volatile struct db_cmd db_cmd;

GUEST_CODE static void guest_doorbell_main(void)
{
    for (;;) {
        GUEST_SYNC(DB_READY);
        uint64_t addr = db_cmd.addr, v = db_cmd.value;
        uint32_t size = db_cmd.size, n = db_cmd.count, pio = db_cmd.pio;
        for (uint32_t i = 0; i < n; i++) {
            if (pio) {
                if (size == 1)
                    guest_outb((uint16_t)addr, (uint8_t)v);
                else if (size == 2)
                    guest_outw((uint16_t)addr, (uint16_t)v);
                else
                    guest_outl((uint16_t)addr, (uint32_t)v);
            } else if (size == 1) {
                guest_write8(addr, (uint8_t)v);
            } else if (size == 2) {
                guest_write16(addr, (uint16_t)v);
            } else if (size == 4) {
                guest_write32(addr, (uint32_t)v);
            } else {
                guest_write64(addr, v);
            }
        }
    }
}

static WHV_PROCESSOR_ACTIVITY_COUNTERS vp_counters(struct guest_vm *vm, uint32_t vp)
{
    WHV_PROCESSOR_ACTIVITY_COUNTERS c;
    UINT32 written = 0;
    memset(&c, 0, sizeof(c));
    TEST_HR(WHvGetVirtualProcessorCounters(vm->partition, vp, WHvProcessorCounterSetIntercepts, &c, sizeof(c),
                                           &written));
    TEST_ASSERT_EQ(written, sizeof(c));
    return c;
}

/* Every user-space exit of any kind. */
static uint64_t total_exits(const WHV_PROCESSOR_ACTIVITY_COUNTERS *c)
{
    const WHV_PROCESSOR_INTERCEPT_COUNTER *s = &c->PageInvalidations;
    uint64_t n = 0;
    for (size_t i = 0; i < sizeof(*c) / sizeof(*s); i++)
        n += s[i].Count;
    return n;
}

struct db_result {
    uint64_t mem_exits, io_exits; /* doorbell-address exits the VMM saw */
    uint64_t d_npf, d_io, d_all;  /* counter deltas over the batch (the final ucall included) */
};

struct db_exit_log {
    struct db_cmd cmd;
    uint64_t gpa; /* what a MemoryAccess exit must name */
    struct db_result *r;
};

static bool db_exit(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, void *opaque)
{
    struct db_exit_log *log = opaque;
    if (exit->ExitReason == WHvRunVpExitReasonMemoryAccess && !log->cmd.pio) {
        TEST_ASSERT(exit->MemoryAccess.Gpa == log->gpa, "(MemoryAccess at GPA 0x%llx, expected 0x%llx)",
                    (unsigned long long)exit->MemoryAccess.Gpa, (unsigned long long)log->gpa);
        TEST_ASSERT_EQ(exit->MemoryAccess.AccessInfo.AccessType, WHvMemoryAccessWrite);
        log->r->mem_exits++;
    } else if (exit->ExitReason == WHvRunVpExitReasonX64IoPortAccess && log->cmd.pio) {
        TEST_ASSERT_EQ(exit->IoPortAccess.PortNumber, log->cmd.addr);
        TEST_ASSERT_EQ(exit->IoPortAccess.AccessInfo.IsWrite, 1);
        TEST_ASSERT_EQ(exit->IoPortAccess.AccessInfo.AccessSize, log->cmd.size);
        log->r->io_exits++;
    } else {
        TEST_FAIL("unexpected exit %s (0x%x) at rip 0x%llx", guest_exit_reason_name(exit->ExitReason),
                  (unsigned)exit->ExitReason, (unsigned long long)exit->VpContext.Rip);
    }
    /* The VMM completes the write (a store KVM already committed may report length 0: RIP is
     * then past it). */
    if (exit->VpContext.InstructionLength)
        guest_set_reg(vm, vp, WHvX64RegisterRip, exit->VpContext.Rip + exit->VpContext.InstructionLength);
    return true;
}

/* Runs one batch of count writes from DB_READY to DB_READY. */
static struct db_result db_batch(struct guest_vm *vm, uint64_t addr, uint32_t size, uint64_t value, uint32_t count,
                                 bool pio)
{
    struct db_result r;
    struct db_exit_log log;
    struct guest_ucall uc;

    memset(&r, 0, sizeof(r));
    log.cmd = (struct db_cmd){pio ? addr : guest_vm_gpa2gva(addr), value, size, count, pio};
    log.gpa = addr;
    log.r = &r;
    guest_vm_write(vm, (uint64_t)(uintptr_t)&db_cmd, &log.cmd, sizeof(log.cmd));
    WHV_PROCESSOR_ACTIVITY_COUNTERS c0 = vp_counters(vm, 0);
    uint64_t type = irq_run(vm, 0, &uc, db_exit, &log);
    TEST_ASSERT(type == UCALL_SYNC && uc.args[0] == DB_READY, "(ucall %llu arg 0x%llx)", (unsigned long long)type,
                (unsigned long long)uc.args[0]);
    WHV_PROCESSOR_ACTIVITY_COUNTERS c1 = vp_counters(vm, 0);
    r.d_npf = c1.NestedPageFaultIntercepts.Count - c0.NestedPageFaultIntercepts.Count;
    r.d_io = c1.IoInstructions.Count - c0.IoInstructions.Count;
    r.d_all = total_exits(&c1) - total_exits(&c0);
    /* The counters count exactly the exits the VMM saw, plus the ucall. */
    TEST_ASSERT(r.d_npf == r.mem_exits && r.d_io == r.io_exits + 1 && r.d_all == r.mem_exits + r.io_exits + 1,
                "(%u-byte writes to 0x%llx: the VMM saw %llu MMIO and %llu port exits; counters say %llu "
                "NestedPageFault, %llu IoInstructions, %llu in all)",
                size, (unsigned long long)addr, (unsigned long long)r.mem_exits, (unsigned long long)r.io_exits,
                (unsigned long long)r.d_npf, (unsigned long long)r.d_io, (unsigned long long)r.d_all);
    return r;
}

/* Reads and clears an event's counter: how many times it was signaled since the last read. */
static uint64_t signals(HANDLE e)
{
    uint64_t v = 0;
    int fd = OpenWhpEventFd(e);
    TEST_ASSERT(fd >= 0);
    if (read(fd, &v, sizeof(v)) != sizeof(v))
        return 0; /* EAGAIN: not signaled */
    return v;
}

/* count writes that must each signal e once and exit never. */
#define EXPECT_SIGNALS(vm, e, addr, size, value, count, pio)                                       \
    do {                                                                                           \
        struct db_result r_ = db_batch((vm), (addr), (size), (value), (count), (pio));             \
        uint64_t got_ = signals(e);                                                                \
        if (got_ != (count) || r_.mem_exits || r_.io_exits)                                        \
            TEST_FAIL("%u-byte %s of 0x%llx to 0x%llx x%u: %llu signals, %llu MMIO / %llu port exits " \
                      "(expected %u signals, no exit)",                                            \
                      (unsigned)(size), (pio) ? "out" : "write", (unsigned long long)(value),      \
                      (unsigned long long)(addr), (unsigned)(count), (unsigned long long)got_,     \
                      (unsigned long long)r_.mem_exits, (unsigned long long)r_.io_exits, (unsigned)(count)); \
    } while (0)
/* count writes that must each exit and signal nothing. */
#define EXPECT_EXITS(vm, e, addr, size, value, count, pio)                                         \
    do {                                                                                           \
        struct db_result r_ = db_batch((vm), (addr), (size), (value), (count), (pio));             \
        uint64_t got_ = signals(e);                                                                \
        if (got_ != 0 || (pio ? r_.io_exits : r_.mem_exits) != (count))                            \
            TEST_FAIL("%u-byte %s of 0x%llx to 0x%llx x%u: %llu signals, %llu MMIO / %llu port exits " \
                      "(expected %u exits, no signal)",                                            \
                      (unsigned)(size), (pio) ? "out" : "write", (unsigned long long)(value),      \
                      (unsigned long long)(addr), (unsigned)(count), (unsigned long long)got_,     \
                      (unsigned long long)r_.mem_exits, (unsigned long long)r_.io_exits, (unsigned)(count)); \
    } while (0)

static WHV_DOORBELL_MATCH_DATA db_match(uint64_t addr, uint32_t length, uint64_t value, bool on_length, bool on_value)
{
    WHV_DOORBELL_MATCH_DATA m;
    memset(&m, 0, sizeof(m));
    m.GuestAddress = addr;
    m.Length = length;
    m.Value = value;
    m.MatchOnLength = on_length;
    m.MatchOnValue = on_value;
    return m;
}

static WHV_DOORBELL_MATCH_DATA any_write(uint64_t addr) { return db_match(addr, 0, 0, false, false); }
static WHV_DOORBELL_MATCH_DATA length_only(uint64_t addr, uint32_t len) { return db_match(addr, len, 0, true, false); }
static WHV_DOORBELL_MATCH_DATA value_length(uint64_t addr, uint32_t len, uint64_t v) { return db_match(addr, len, v, true, true); }

static struct guest_vm *db_vm_create(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    guest_vm_map_gpa(vm, DB_GPA, GUEST_PAGE_SIZE);
    guest_vm_add_vp(vm, 0, guest_doorbell_main, 0, 0);
    irq_expect_sync(vm, 0, DB_READY, NULL, NULL);
    return vm;
}

#define N_WRITES 5

static void test_doorbell_any_write_fires_on_every_size(void)
{
    struct guest_vm *vm = db_vm_create();
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA m = any_write(DB_GPA);

    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &m, e));
    EXPECT_SIGNALS(vm, e, DB_GPA, 1, 0x11, N_WRITES, false);
    EXPECT_SIGNALS(vm, e, DB_GPA, 2, 0x2222, N_WRITES, false);
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x44444444, N_WRITES, false);
    EXPECT_SIGNALS(vm, e, DB_GPA, 8, 0x8888888888888888ull, N_WRITES, false);
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0, 1, false);
    /* Another address of the same page is not the doorbell. */
    EXPECT_EXITS(vm, e, DB_GPA + 8, 4, 1, 2, false);
    /* WaitForEvent sees a doorbell signal too. */
    db_batch(vm, DB_GPA, 4, 7, 1, false);
    TEST_ASSERT_EQ(OpenWhpWaitForEvent(e, 0), WAIT_OBJECT_0);
    TEST_ASSERT_EQ(OpenWhpWaitForEvent(e, 0), WAIT_TIMEOUT);
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(vm->partition, &m));
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e));
}

static void test_doorbell_length_only_fires_on_that_length(void)
{
    struct guest_vm *vm = db_vm_create();
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA m = length_only(DB_GPA, 4);

    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &m, e));
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x1234, N_WRITES, false);
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0xFFFFFFFF, N_WRITES, false);
    EXPECT_EXITS(vm, e, DB_GPA, 2, 0x1234, 3, false);
    EXPECT_EXITS(vm, e, DB_GPA, 1, 0x12, 2, false);
    EXPECT_EXITS(vm, e, DB_GPA, 8, 0x1234, 2, false);
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0, 1, false);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e));
}

static void test_doorbell_value_and_length_fires_on_that_value(void)
{
    struct guest_vm *vm = db_vm_create();
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA m = value_length(DB_GPA, 4, 0x1234);

    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &m, e));
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x1234, N_WRITES, false);
    EXPECT_EXITS(vm, e, DB_GPA, 4, 0x1235, 3, false);
    EXPECT_EXITS(vm, e, DB_GPA, 4, 0, 1, false);
    EXPECT_EXITS(vm, e, DB_GPA, 2, 0x1234, 2, false);
    EXPECT_EXITS(vm, e, DB_GPA, 8, 0x1234, 1, false);
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x1234, 1, false);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e));
}

static void test_doorbell_two_values_at_one_gpa(void)
{
    struct guest_vm *vm = db_vm_create();
    HANDLE a = OpenWhpCreateEvent(FALSE, FALSE), b = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA ma = value_length(DB_GPA, 4, 1), mb = value_length(DB_GPA, 4, 2);

    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &ma, a));
    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &mb, b));
    EXPECT_SIGNALS(vm, a, DB_GPA, 4, 1, 3, false);
    TEST_ASSERT_EQ(signals(b), 0);
    EXPECT_SIGNALS(vm, b, DB_GPA, 4, 2, 4, false);
    TEST_ASSERT_EQ(signals(a), 0);
    EXPECT_EXITS(vm, a, DB_GPA, 4, 3, 2, false);
    TEST_ASSERT_EQ(signals(b), 0);
    /* Removing one leaves the other. */
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(vm->partition, &ma));
    EXPECT_EXITS(vm, a, DB_GPA, 4, 1, 2, false);
    EXPECT_SIGNALS(vm, b, DB_GPA, 4, 2, 2, false);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(a) && OpenWhpCloseEvent(b));
}

static void test_doorbell_conflicts_and_bad_match_data(void)
{
    struct guest_vm *vm = db_vm_create();
    WHV_PARTITION_HANDLE p = vm->partition;
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA m;

    /* any-write owns the address */
    m = any_write(DB_GPA);
    TEST_HR(WHvRegisterPartitionDoorbellEvent(p, &m, e));
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = length_only(DB_GPA, 4);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = value_length(DB_GPA, 4, 1);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = any_write(DB_GPA + 8); /* another address: fine */
    TEST_HR(WHvRegisterPartitionDoorbellEvent(p, &m, e));
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(p, &m));
    m = any_write(DB_GPA);
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(p, &m));
    /* length-only owns it too, even against another length */
    m = length_only(DB_GPA, 4);
    TEST_HR(WHvRegisterPartitionDoorbellEvent(p, &m, e));
    m = length_only(DB_GPA, 2);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = any_write(DB_GPA);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = value_length(DB_GPA, 4, 1);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = length_only(DB_GPA, 4);
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(p, &m));
    /* value+length: the same value twice, or another length, conflict */
    m = value_length(DB_GPA, 4, 1);
    TEST_HR(WHvRegisterPartitionDoorbellEvent(p, &m, e));
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = value_length(DB_GPA, 2, 2);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = any_write(DB_GPA);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = value_length(DB_GPA, 4, 1);
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(p, &m));
    /* Malformed match data */
    m = db_match(DB_GPA, 4, 1, false, true); /* value without length */
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), E_INVALIDARG);
    m = db_match(DB_GPA, 3, 0, true, false);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), E_INVALIDARG);
    m = db_match(DB_GPA, 4, 0, false, false); /* Length without MatchOnLength */
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), E_INVALIDARG);
    m = db_match(DB_GPA, 0, 5, false, false); /* Value without MatchOnValue */
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), E_INVALIDARG);
    m = any_write(DB_GPA);
    m.Reserved = 1;
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), E_INVALIDARG);
    m = length_only(DB_GPA + 0xFFE, 4); /* straddles a page */
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), E_INVALIDARG);
    m = any_write(DB_GPA);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, NULL), E_INVALIDARG);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, NULL, e), E_INVALIDARG);
    /* Nothing of the failed attempts stayed registered. */
    EXPECT_EXITS(vm, e, DB_GPA, 4, 1, 1, false);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e));
}

static void test_doorbell_unregister_needs_exact_match(void)
{
    struct guest_vm *vm = db_vm_create();
    WHV_PARTITION_HANDLE p = vm->partition;
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA m = value_length(DB_GPA, 4, 0x1234), other;

    TEST_HR(WHvRegisterPartitionDoorbellEvent(p, &m, e));
    other = value_length(DB_GPA, 4, 0x1235);
    TEST_HR_EQ(WHvUnregisterPartitionDoorbellEvent(p, &other), NOT_FOUND);
    other = length_only(DB_GPA, 4);
    TEST_HR_EQ(WHvUnregisterPartitionDoorbellEvent(p, &other), NOT_FOUND);
    other = any_write(DB_GPA);
    TEST_HR_EQ(WHvUnregisterPartitionDoorbellEvent(p, &other), NOT_FOUND);
    other = value_length(DB_GPA + 4, 4, 0x1234);
    TEST_HR_EQ(WHvUnregisterPartitionDoorbellEvent(p, &other), NOT_FOUND);
    other = value_length(DB_GPA, 4, 0x1234);
    TEST_HR_EQ(OpenWhpUnregisterPortDoorbellEvent(p, &other), NOT_FOUND); /* not a port doorbell */
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x1234, 2, false);
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(p, &m));
    TEST_HR_EQ(WHvUnregisterPartitionDoorbellEvent(p, &m), NOT_FOUND);
    EXPECT_EXITS(vm, e, DB_GPA, 4, 0x1234, 2, false);
    /* Registered again after that: works again. */
    TEST_HR(WHvRegisterPartitionDoorbellEvent(p, &m, e));
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x1234, 2, false);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e));
}

/* A doorbell over mapped RAM: while it exists, its page behaves as unmapped (KVM only sees writes
 * that exit); after unregistering it is RAM again, with its contents. */
static void test_doorbell_over_ram_page(void)
{
    struct guest_vm *vm = db_vm_create();
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    uint64_t ram = guest_vm_alloc(vm, GUEST_PAGE_SIZE);
    volatile uint32_t *page = guest_vm_gpa2hva(vm, ram);
    WHV_DOORBELL_MATCH_DATA m = value_length(ram + 0x10, 4, 0x1234);

    page[0x100 / 4] = 0xFEEDF00D;
    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &m, e));
    EXPECT_SIGNALS(vm, e, ram + 0x10, 4, 0x1234, N_WRITES, false);
    EXPECT_EXITS(vm, e, ram + 0x10, 4, 0x1235, 2, false);
    EXPECT_EXITS(vm, e, ram + 0x20, 4, 0x1234, 2, false); /* the rest of the page exits too */
    TEST_ASSERT_EQ(page[0x10 / 4], 0);
    TEST_ASSERT_EQ(page[0x20 / 4], 0);
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(vm->partition, &m));
    /* RAM again: writes land in the page, no exit, no signal. */
    struct db_result r = db_batch(vm, ram + 0x20, 4, 0xABCD, 3, false);
    TEST_ASSERT(r.mem_exits == 0 && r.d_npf == 0, "(%llu MMIO exits after the doorbell went)",
                (unsigned long long)r.mem_exits);
    TEST_ASSERT_EQ(signals(e), 0);
    TEST_ASSERT_EQ(page[0x20 / 4], 0xABCD);
    TEST_ASSERT_EQ(page[0x100 / 4], 0xFEEDF00D);
    /* Two doorbells on one RAM page: the page stays a hole until the last one goes. */
    WHV_DOORBELL_MATCH_DATA m2 = any_write(ram + 0x40);
    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &m, e));
    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &m2, e));
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(vm->partition, &m));
    EXPECT_SIGNALS(vm, e, ram + 0x40, 2, 0x77, 2, false);
    EXPECT_EXITS(vm, e, ram + 0x10, 4, 0x1234, 1, false);
    TEST_HR(WHvUnregisterPartitionDoorbellEvent(vm->partition, &m2));
    r = db_batch(vm, ram + 0x40, 2, 0x77, 1, false);
    TEST_ASSERT(r.mem_exits == 0 && signals(e) == 0, "(%llu MMIO exits after both doorbells went)",
                (unsigned long long)r.mem_exits);
    TEST_ASSERT_EQ(page[0x40 / 4] & 0xFFFF, 0x77);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e));
}

static void test_port_doorbells(void)
{
    struct guest_vm *vm = db_vm_create();
    WHV_PARTITION_HANDLE p = vm->partition;
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE), f = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA m;

    /* any write */
    m = any_write(DB_PORT);
    TEST_HR(OpenWhpRegisterPortDoorbellEvent(p, &m, e));
    EXPECT_SIGNALS(vm, e, DB_PORT, 1, 0x11, N_WRITES, true);
    EXPECT_SIGNALS(vm, e, DB_PORT, 2, 0x2222, N_WRITES, true);
    EXPECT_SIGNALS(vm, e, DB_PORT, 4, 0x44444444, N_WRITES, true);
    EXPECT_EXITS(vm, e, DB_PORT + 1, 1, 1, 2, true);
    TEST_HR_EQ(OpenWhpRegisterPortDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    TEST_HR_EQ(WHvUnregisterPartitionDoorbellEvent(p, &m), NOT_FOUND); /* not an MMIO doorbell */
    TEST_HR(OpenWhpUnregisterPortDoorbellEvent(p, &m));
    TEST_HR_EQ(OpenWhpUnregisterPortDoorbellEvent(p, &m), NOT_FOUND);
    EXPECT_EXITS(vm, e, DB_PORT, 1, 0x11, 2, true);
    /* length only */
    m = length_only(DB_PORT, 2);
    TEST_HR(OpenWhpRegisterPortDoorbellEvent(p, &m, e));
    EXPECT_SIGNALS(vm, e, DB_PORT, 2, 0x1234, N_WRITES, true);
    EXPECT_EXITS(vm, e, DB_PORT, 1, 0x12, 2, true);
    EXPECT_EXITS(vm, e, DB_PORT, 4, 0x1234, 2, true);
    TEST_HR(OpenWhpUnregisterPortDoorbellEvent(p, &m));
    /* value + length, two values */
    m = value_length(DB_PORT, 4, 0x1234);
    TEST_HR(OpenWhpRegisterPortDoorbellEvent(p, &m, e));
    m = value_length(DB_PORT, 4, 0x5678);
    TEST_HR(OpenWhpRegisterPortDoorbellEvent(p, &m, f));
    EXPECT_SIGNALS(vm, e, DB_PORT, 4, 0x1234, N_WRITES, true);
    TEST_ASSERT_EQ(signals(f), 0);
    EXPECT_SIGNALS(vm, f, DB_PORT, 4, 0x5678, 3, true);
    TEST_ASSERT_EQ(signals(e), 0);
    EXPECT_EXITS(vm, e, DB_PORT, 4, 0x1235, 2, true);
    TEST_ASSERT_EQ(signals(f), 0);
    EXPECT_EXITS(vm, e, DB_PORT, 2, 0x1234, 1, true);
    m = value_length(DB_PORT, 2, 0x9);
    TEST_HR_EQ(OpenWhpRegisterPortDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = any_write(DB_PORT);
    TEST_HR_EQ(OpenWhpRegisterPortDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    m = value_length(DB_PORT, 4, 0x1234);
    TEST_HR(OpenWhpUnregisterPortDoorbellEvent(p, &m));
    m = value_length(DB_PORT, 4, 0x5678);
    TEST_HR(OpenWhpUnregisterPortDoorbellEvent(p, &m));
    EXPECT_EXITS(vm, f, DB_PORT, 4, 0x5678, 1, true);
    /* Ports are 16 bits, OUT is at most 4 bytes. */
    m = length_only(DB_PORT, 8);
    TEST_HR_EQ(OpenWhpRegisterPortDoorbellEvent(p, &m, e), E_INVALIDARG);
    m = any_write(0x10000);
    TEST_HR_EQ(OpenWhpRegisterPortDoorbellEvent(p, &m, e), E_INVALIDARG);
    m = length_only(0xFFFF, 2);
    TEST_HR_EQ(OpenWhpRegisterPortDoorbellEvent(p, &m, e), E_INVALIDARG);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e) && OpenWhpCloseEvent(f));
}

/* ======================================================================================
 * Notification ports
 * ====================================================================================== */

static void test_notification_port_doorbell(void)
{
    struct guest_vm *vm = db_vm_create();
    WHV_PARTITION_HANDLE p = vm->partition;
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_NOTIFICATION_PORT_PARAMETERS prm;
    WHV_NOTIFICATION_PORT_HANDLE port = NULL, port2 = NULL;
    WHV_DOORBELL_MATCH_DATA m;

    TEST_ASSERT_EQ(sizeof(prm), 32);
    memset(&prm, 0, sizeof(prm));
    prm.NotificationPortType = WHvNotificationPortTypeDoorbell;
    prm.Doorbell = value_length(DB_GPA, 4, 0x77);
    TEST_HR(WHvCreateNotificationPort(p, &prm, e, &port));
    TEST_ASSERT(port != NULL);
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x77, N_WRITES, false);
    EXPECT_EXITS(vm, e, DB_GPA, 4, 0x78, 1, false);
    /* It conflicts with doorbells and other ports like a doorbell would. */
    m = value_length(DB_GPA, 4, 0x77);
    TEST_HR_EQ(WHvRegisterPartitionDoorbellEvent(p, &m, e), HV_INVALID_PARAMETER);
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, e, &port2), HV_INVALID_PARAMETER);
    TEST_ASSERT(port2 == NULL);
    /* Properties */
    TEST_HR(WHvSetNotificationPortProperty(p, port, WHvNotificationPortPropertyPreferredTargetVp, WHV_ANY_VP));
    TEST_HR(WHvSetNotificationPortProperty(p, port, WHvNotificationPortPropertyPreferredTargetVp, 0));
    TEST_HR_EQ(WHvSetNotificationPortProperty(p, port, WHvNotificationPortPropertyPreferredTargetVp, 1), E_INVALIDARG);
    TEST_HR_EQ(WHvSetNotificationPortProperty(p, port, WHvNotificationPortPropertyPreferredTargetVp, 0x1000),
               E_INVALIDARG);
    TEST_HR(WHvSetNotificationPortProperty(p, port, WHvNotificationPortPropertyPreferredTargetDuration, 1000));
    TEST_HR(WHvSetNotificationPortProperty(p, port, WHvNotificationPortPropertyPreferredTargetDuration,
                                           WHV_NOTIFICATION_PORT_PREFERRED_DURATION_MAX));
    TEST_HR_EQ(WHvSetNotificationPortProperty(p, port, (WHV_NOTIFICATION_PORT_PROPERTY_CODE)2, 0), E_INVALIDARG);
    TEST_HR_EQ(WHvSetNotificationPortProperty(p, (WHV_NOTIFICATION_PORT_HANDLE)&prm,
                                              WHvNotificationPortPropertyPreferredTargetVp, 0),
               E_HANDLE);
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x77, 2, false);
    /* Delete stops the signals; the event stays ours. */
    TEST_HR(WHvDeleteNotificationPort(p, port));
    EXPECT_EXITS(vm, e, DB_GPA, 4, 0x77, 2, false);
    TEST_HR_EQ(WHvDeleteNotificationPort(p, port), E_HANDLE);
    TEST_ASSERT(OpenWhpSetEvent(e));
    TEST_ASSERT_EQ(signals(e), 1);
    /* The address is free again. */
    TEST_HR(WHvCreateNotificationPort(p, &prm, e, &port));
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 0x77, 1, false);
    TEST_HR(WHvDeleteNotificationPort(p, port));
    /* Bad parameters */
    prm.Reserved = 1;
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, e, &port), E_INVALIDARG);
    prm.Reserved = 0;
    prm.NotificationPortType = (WHV_NOTIFICATION_PORT_TYPE)3;
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, e, &port), E_INVALIDARG);
    prm.NotificationPortType = WHvNotificationPortTypeDoorbell;
    prm.Doorbell = db_match(DB_GPA, 3, 0, true, false);
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, e, &port), E_INVALIDARG);
    TEST_HR_EQ(WHvCreateNotificationPort(p, NULL, e, &port), E_INVALIDARG);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e));
}

static void test_notification_port_event(void)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    WHV_PARTITION_HANDLE p = vm->partition;
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE), f = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_NOTIFICATION_PORT_PARAMETERS prm;
    WHV_NOTIFICATION_PORT_HANDLE port = NULL, port2 = NULL, port3 = NULL;

    memset(&prm, 0, sizeof(prm));
    prm.NotificationPortType = WHvNotificationPortTypeEvent;
    prm.Event.ConnectionId = 5;
    TEST_HR(WHvCreateNotificationPort(p, &prm, e, &port));
    TEST_ASSERT(port != NULL);
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, f, &port2), HV_INVALID_PARAMETER);
    TEST_ASSERT(port2 == NULL);
    prm.Event.ConnectionId = 6;
    TEST_HR(WHvCreateNotificationPort(p, &prm, f, &port2));
    TEST_ASSERT(port2 != NULL && port2 != port);
    prm.Event.ConnectionId = 1u << 24;
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, f, &port3), E_INVALIDARG);
    prm.Event.ConnectionId = 0xFFFFFFFF;
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, f, &port3), E_INVALIDARG);
    prm.Event.ConnectionId = (1u << 24) - 1;
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, NULL, &port3), E_INVALIDARG);
    TEST_HR(WHvCreateNotificationPort(p, &prm, f, &port3));
    prm.ConnectionVtl = 1;
    prm.Event.ConnectionId = 9;
    TEST_HR_EQ(WHvCreateNotificationPort(p, &prm, f, &port3), E_INVALIDARG);
    TEST_ASSERT(port3 == NULL);
    TEST_HR(WHvSetNotificationPortProperty(p, port, WHvNotificationPortPropertyPreferredTargetVp, 0));
    TEST_HR(WHvDeleteNotificationPort(p, port));
    TEST_HR_EQ(WHvDeleteNotificationPort(p, port), E_HANDLE);
    /* Connection 5 is free again */
    prm.ConnectionVtl = 0;
    prm.Event.ConnectionId = 5;
    TEST_HR(WHvCreateNotificationPort(p, &prm, e, &port));
    TEST_HR(WHvDeleteNotificationPort(p, port));
    TEST_HR(WHvDeleteNotificationPort(p, port2));
    guest_vm_destroy(vm); /* port of (1 << 24) - 1 goes with the partition */
    TEST_ASSERT(OpenWhpSetEvent(e) && OpenWhpSetEvent(f));
    TEST_ASSERT(OpenWhpCloseEvent(e) && OpenWhpCloseEvent(f));
}

/* ======================================================================================
 * Triggers
 * ====================================================================================== */

#define NR_VPS 2

static WHV_TRIGGER_PARAMETERS msi_trigger(uint32_t dest, uint32_t vector)
{
    WHV_TRIGGER_PARAMETERS t;
    memset(&t, 0, sizeof(t));
    t.TriggerType = WHvTriggerTypeDeviceInterrupt;
    t.DeviceInterrupt.LogicalDeviceId = 0x1234;
    t.DeviceInterrupt.MsiAddress = 0xFEE00000ull | (uint64_t)dest << 12;
    t.DeviceInterrupt.MsiData = vector;
    return t;
}

/* The guest's interrupt count of (vp, vector), read live from guest RAM (safe from any thread). */
static uint32_t live_count(struct guest_vm *vm, uint32_t vp, uint32_t vector)
{
    volatile uint32_t *c = guest_vm_gva2hva(vm, (uint64_t)(uintptr_t)&irq_count[vp][vector]);
    return c ? __atomic_load_n(c, __ATOMIC_ACQUIRE) : 0xFFFFFFFFu;
}

static bool wait_count(struct guest_vm *vm, uint32_t vp, uint32_t vector, uint32_t want, unsigned ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (live_count(vm, vp, vector) >= want)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > (long)ms)
            return false;
        sched_yield();
    }
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* A round in which the VPs wait in sti;hlt on their own threads: async_begin clears the counts
 * and starts the runs; the test signals meanwhile; async_end sends the flush vector, requires
 * each run to end at READY and copies the counts to host_irq_count. No exit other than that READY
 * may reach user space during the round. */
static struct vp_async async_vp[GUEST_MAX_VPS];
static uint64_t async_exits0[GUEST_MAX_VPS];

static void async_begin(struct guest_vm *vm, uint32_t nr)
{
    irq_round_begin(vm);
    for (uint32_t vp = 0; vp < nr; vp++) {
        WHV_PROCESSOR_ACTIVITY_COUNTERS c = vp_counters(vm, vp);
        async_exits0[vp] = total_exits(&c);
        vp_async_start(&async_vp[vp], vm, vp);
    }
    sleep_ms(5); /* into hlt */
}

static void async_stop_all(uint32_t nr)
{
    for (uint32_t vp = 0; vp < nr; vp++)
        vp_async_stop(&async_vp[vp]);
}

static void async_end(struct guest_vm *vm, uint32_t nr)
{
    struct guest_ucall uc;
    for (uint32_t vp = 0; vp < nr; vp++)
        TEST_ASSERT(!atomic_load(&async_vp[vp].done),
                    "(vp %u left WHvRunVirtualProcessor during the round: exit %s (0x%x) at rip 0x%llx)", vp,
                    guest_exit_reason_name(async_vp[vp].exit.ExitReason), (unsigned)async_vp[vp].exit.ExitReason,
                    (unsigned long long)async_vp[vp].exit.VpContext.Rip);
    for (uint32_t vp = 0; vp < nr; vp++)
        FIXED_TO(vm, vp, IRQ_FLUSH_VECTOR);
    for (uint32_t vp = 0; vp < nr; vp++) {
        if (!vp_async_wait(&async_vp[vp], 3000)) {
            async_stop_all(nr);
            TEST_FAIL("vp %u did not take the flush vector within 3 s", vp);
        }
    }
    async_stop_all(nr);
    for (uint32_t vp = 0; vp < nr; vp++) {
        TEST_HR(async_vp[vp].hr);
        TEST_ASSERT(guest_ucall_decode(vm, vp, &async_vp[vp].exit, &uc) && uc.type == UCALL_SYNC &&
                        uc.args[0] == IRQ_READY,
                    "(vp %u: exit %s (0x%x) at rip 0x%llx instead of READY)", vp,
                    guest_exit_reason_name(async_vp[vp].exit.ExitReason), (unsigned)async_vp[vp].exit.ExitReason,
                    (unsigned long long)async_vp[vp].exit.VpContext.Rip);
        WHV_PROCESSOR_ACTIVITY_COUNTERS c = vp_counters(vm, vp);
        TEST_ASSERT(total_exits(&c) - async_exits0[vp] == 1,
                    "(vp %u: %llu user-space exits during the round, expected only the READY ucall)", vp,
                    (unsigned long long)(total_exits(&c) - async_exits0[vp]));
    }
    guest_vm_read(vm, (uint64_t)(uintptr_t)irq_count, host_irq_count, sizeof(host_irq_count));
}

/* Signals from a host thread. */
struct signal_job {
    pthread_t thread;
    HANDLE event;
    unsigned n;
    BOOL ok;
};

static void *signal_main(void *opaque)
{
    struct signal_job *j = opaque;
    j->ok = TRUE;
    for (unsigned i = 0; i < j->n; i++)
        j->ok &= OpenWhpSetEvent(j->event);
    return NULL;
}

static BOOL signal_from_thread(HANDLE event, unsigned n)
{
    struct signal_job j = {.event = event, .n = n};
    TEST_ASSERT(pthread_create(&j.thread, NULL, signal_main, &j) == 0);
    pthread_join(j.thread, NULL);
    return j.ok;
}

static struct guest_vm *trigger_vm(WHV_X64_LOCAL_APIC_EMULATION_MODE mode, uint32_t nr)
{
    struct guest_vm *vm = irq_vm_create(mode, nr);
    irq_add_vps(vm, nr, mode == X2APIC ? IRQ_X2APIC : 0);
    irq_start(vm, nr, NULL, NULL);
    return vm;
}

/* One signal from a host thread while the target halts: the handler runs (seen live in guest RAM)
 * while the VP stays inside WHvRunVirtualProcessor. */
static void signal_and_expect(struct guest_vm *vm, HANDLE ev, uint32_t vp, uint32_t vector)
{
    async_begin(vm, NR_VPS);
    TEST_ASSERT(signal_from_thread(ev, 1));
    if (!wait_count(vm, vp, vector, 1, 3000)) {
        async_stop_all(NR_VPS);
        TEST_FAIL("vector 0x%x did not reach vp %u within 3 s of the trigger's signal", vector, vp);
    }
    async_end(vm, NR_VPS);
    EXPECT_VECTOR_ON(NR_VPS, vector, 1u << vp, 1);
}

static void trigger_interrupt(WHV_X64_LOCAL_APIC_EMULATION_MODE mode)
{
    struct guest_vm *vm = trigger_vm(mode, NR_VPS);
    WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(1, 0x50);
    WHV_TRIGGER_HANDLE th = NULL;
    HANDLE ev = NULL;

    TEST_ASSERT_EQ(sizeof(t), 32);
    TEST_HR(WHvCreateTrigger(vm->partition, &t, &th, &ev));
    TEST_ASSERT(th != NULL && ev != NULL && OpenWhpEventFd(ev) >= 0);
    signal_and_expect(vm, ev, 1, 0x50);
    /* Signals while the VPs are stopped are delivered when they run. */
    irq_round_begin(vm);
    TEST_ASSERT(OpenWhpSetEvent(ev));
    irq_round_end(vm, NR_VPS, NULL, NULL);
    EXPECT_VECTOR_ON(NR_VPS, 0x50, 0x2, 1);
    /* A raw write to the eventfd is a signal too. */
    async_begin(vm, NR_VPS);
    uint64_t one = 1;
    TEST_ASSERT_EQ(write(OpenWhpEventFd(ev), &one, sizeof(one)), sizeof(one));
    TEST_ASSERT(wait_count(vm, 1, 0x50, 1, 3000));
    async_end(vm, NR_VPS);
    EXPECT_VECTOR_ON(NR_VPS, 0x50, 0x2, 1);

    /* Retarget to VP 0, then another vector. */
    t = irq_fixed_trigger(0, 0x50);
    TEST_HR(WHvUpdateTriggerParameters(vm->partition, &t, th));
    signal_and_expect(vm, ev, 0, 0x50);
    t = irq_fixed_trigger(0, 0x51);
    TEST_HR(WHvUpdateTriggerParameters(vm->partition, &t, th));
    signal_and_expect(vm, ev, 0, 0x51);
    EXPECT_VECTOR_ON(NR_VPS, 0x50, 0, 0);
    t = irq_fixed_trigger(1, 0x52);
    TEST_HR(WHvUpdateTriggerParameters(vm->partition, &t, th));
    signal_and_expect(vm, ev, 1, 0x52);

    /* A trigger keeps its type; bad updates change nothing. */
    t = msi_trigger(0, 0x53);
    TEST_HR_EQ(WHvUpdateTriggerParameters(vm->partition, &t, th), E_INVALIDARG);
    t = irq_fixed_trigger(0, 0x53);
    t.Interrupt.TriggerMode = WHvX64InterruptTriggerModeLevel;
    TEST_HR_EQ(WHvUpdateTriggerParameters(vm->partition, &t, th), E_INVALIDARG);
    t = irq_fixed_trigger(0, 0x53);
    TEST_HR_EQ(WHvUpdateTriggerParameters(vm->partition, &t, (WHV_TRIGGER_HANDLE)&t), E_HANDLE);
    TEST_HR_EQ(WHvUpdateTriggerParameters(vm->partition, NULL, th), E_INVALIDARG);
    signal_and_expect(vm, ev, 1, 0x52);

    /* Delete: no more delivery, the event stays valid until we close it. */
    TEST_HR(WHvDeleteTrigger(vm->partition, th));
    TEST_HR_EQ(WHvDeleteTrigger(vm->partition, th), E_HANDLE);
    TEST_HR_EQ(WHvUpdateTriggerParameters(vm->partition, &t, th), E_HANDLE);
    async_begin(vm, NR_VPS);
    TEST_ASSERT(signal_from_thread(ev, 3));
    sleep_ms(20);
    async_end(vm, NR_VPS);
    for (uint32_t v = 0x21; v < 256; v++)
        EXPECT_VECTOR_ON(NR_VPS, v, 0, 0);
    TEST_ASSERT_EQ(OpenWhpWaitForEvent(ev, 0), WAIT_OBJECT_0); /* the signals are still in it */
    TEST_ASSERT(OpenWhpCloseEvent(ev));
    guest_vm_destroy(vm);
}

static void test_trigger_interrupt_x2apic(void) { trigger_interrupt(X2APIC); }
static void test_trigger_interrupt_xapic(void) { trigger_interrupt(XAPIC); }

static void test_trigger_nmi(void)
{
    struct guest_vm *vm = trigger_vm(X2APIC, NR_VPS);
    WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(1, 0);
    WHV_TRIGGER_HANDLE th;
    HANDLE ev;

    t.Interrupt.Type = WHvX64InterruptTypeNmi;
    TEST_HR(WHvCreateTrigger(vm->partition, &t, &th, &ev));
    signal_and_expect(vm, ev, 1, 2);
    TEST_HR(WHvDeleteTrigger(vm->partition, th));
    TEST_ASSERT(OpenWhpCloseEvent(ev));
    guest_vm_destroy(vm);
}

static void test_trigger_device_interrupt(void)
{
    struct guest_vm *vm = trigger_vm(X2APIC, NR_VPS);
    WHV_TRIGGER_PARAMETERS t = msi_trigger(1, 0x58);
    WHV_TRIGGER_HANDLE th, th2;
    HANDLE ev, ev2;

    TEST_HR(WHvCreateTrigger(vm->partition, &t, &th, &ev));
    signal_and_expect(vm, ev, 1, 0x58);
    t = msi_trigger(0, 0x59);
    TEST_HR(WHvUpdateTriggerParameters(vm->partition, &t, th));
    signal_and_expect(vm, ev, 0, 0x59);
    t = irq_fixed_trigger(0, 0x59);
    TEST_HR_EQ(WHvUpdateTriggerParameters(vm->partition, &t, th), E_INVALIDARG);
    /* Two triggers at once, one of each type */
    t = irq_fixed_trigger(1, 0x5A);
    TEST_HR(WHvCreateTrigger(vm->partition, &t, &th2, &ev2));
    TEST_ASSERT(th2 != th && ev2 != ev);
    async_begin(vm, NR_VPS);
    TEST_ASSERT(signal_from_thread(ev, 1) && signal_from_thread(ev2, 1));
    TEST_ASSERT(wait_count(vm, 0, 0x59, 1, 3000) && wait_count(vm, 1, 0x5A, 1, 3000));
    async_end(vm, NR_VPS);
    EXPECT_VECTOR_ON(NR_VPS, 0x59, 0x1, 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x5A, 0x2, 1);
    /* MSI addresses outside the interrupt window */
    t = msi_trigger(0, 0x59);
    t.DeviceInterrupt.MsiAddress = 0xFED00000;
    TEST_HR_EQ(WHvUpdateTriggerParameters(vm->partition, &t, th), E_INVALIDARG);
    TEST_HR(WHvDeleteTrigger(vm->partition, th));
    TEST_HR(WHvDeleteTrigger(vm->partition, th2));
    TEST_ASSERT(OpenWhpCloseEvent(ev) && OpenWhpCloseEvent(ev2));
    guest_vm_destroy(vm);
}

#define EXPECT_CREATE_FAILS(vm, params, want)                                                      \
    do {                                                                                           \
        WHV_TRIGGER_HANDLE th_ = (WHV_TRIGGER_HANDLE)1;                                            \
        HANDLE ev_ = (HANDLE)1;                                                                    \
        TEST_HR_EQ(WHvCreateTrigger((vm)->partition, &(params), &th_, &ev_), (want));              \
        TEST_ASSERT(th_ == NULL && ev_ == NULL, "(a failed WHvCreateTrigger left handles %p %p)", th_, ev_); \
    } while (0)

static void test_trigger_bad_parameters(void)
{
    struct guest_vm *vm = irq_vm_create(X2APIC, 1);
    WHV_TRIGGER_PARAMETERS t;
    WHV_TRIGGER_HANDLE th;
    HANDLE ev;

    guest_vm_add_vp(vm, 0, guest_irq_main, IRQ_X2APIC, 0);
    t = irq_fixed_trigger(0, 0x40);
    t.Interrupt.TriggerMode = WHvX64InterruptTriggerModeLevel; /* documented: no level triggers */
    EXPECT_CREATE_FAILS(vm, t, E_INVALIDARG);
    t = irq_fixed_trigger(0, 15);
    EXPECT_CREATE_FAILS(vm, t, E_INVALIDARG);
    t = irq_fixed_trigger(0, 256);
    EXPECT_CREATE_FAILS(vm, t, E_INVALIDARG);
    t = irq_fixed_trigger(0, 0x40);
    t.Interrupt.Type = WHvX64InterruptTypeInit;
    EXPECT_CREATE_FAILS(vm, t, E_INVALIDARG);
    t = irq_fixed_trigger(0, 0x40);
    t.Reserved = 1;
    EXPECT_CREATE_FAILS(vm, t, E_INVALIDARG);
    t = irq_fixed_trigger(0, 0x40);
    t.TriggerType = (WHV_TRIGGER_TYPE)7;
    EXPECT_CREATE_FAILS(vm, t, E_INVALIDARG);
    memset(&t, 0, sizeof(t));
    t.TriggerType = WHvTriggerTypeSynicEvent; /* needs synthetic features this partition lacks */
    t.SynicEvent.TargetSint = 2;
    th = (WHV_TRIGGER_HANDLE)1;
    ev = (HANDLE)1;
    TEST_ASSERT(FAILED(WHvCreateTrigger(vm->partition, &t, &th, &ev)) && th == NULL && ev == NULL);
    t = msi_trigger(0, 0x40);
    t.DeviceInterrupt.MsiAddress = 0x1FEE00000ull;
    EXPECT_CREATE_FAILS(vm, t, E_INVALIDARG);
    t = irq_fixed_trigger(0, 0x40);
    TEST_HR_EQ(WHvCreateTrigger(vm->partition, NULL, &th, &ev), E_INVALIDARG);
    TEST_HR_EQ(WHvCreateTrigger(vm->partition, &t, NULL, &ev), E_INVALIDARG);
    TEST_HR_EQ(WHvCreateTrigger(vm->partition, &t, &th, NULL), E_INVALIDARG);
    TEST_HR_EQ(WHvDeleteTrigger(vm->partition, NULL), E_HANDLE);
    guest_vm_destroy(vm);

    /* No LAPIC: interrupt triggers are refused */
    vm = guest_vm_create(NULL);
    t = irq_fixed_trigger(0, 0x40);
    EXPECT_CREATE_FAILS(vm, t, HV_OPERATION_DENIED);
    guest_vm_destroy(vm);
}

/* ======================================================================================
 * Cross-partition: a doorbell of A signals a trigger of B
 * ====================================================================================== */

#define CHAIN_ROUNDS 20

static void test_doorbell_of_a_interrupts_b(void)
{
    struct guest_vm *b = trigger_vm(X2APIC, 1);
    struct guest_vm *a = db_vm_create();
    WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(0, 0x60);
    WHV_TRIGGER_HANDLE th;
    HANDLE ev;
    struct db_result r;
    uint64_t a_npf = 0, a_io = 0;

    TEST_HR(WHvCreateTrigger(b->partition, &t, &th, &ev));
    WHV_DOORBELL_MATCH_DATA m = value_length(DB_GPA, 4, 0xB0B);
    TEST_HR(WHvRegisterPartitionDoorbellEvent(a->partition, &m, ev));

    async_begin(b, 1);
    for (uint32_t k = 1; k <= CHAIN_ROUNDS; k++) {
        r = db_batch(a, DB_GPA, 4, 0xB0B, 1, false); /* A writes once, then reports READY */
        a_npf += r.d_npf;
        a_io += r.d_io;
        if (!wait_count(b, 0, 0x60, k, 3000)) {
            async_stop_all(1);
            TEST_FAIL("round %u: B's handler ran %u times, expected %u", k, live_count(b, 0, 0x60), k);
        }
        TEST_ASSERT_EQ(live_count(b, 0, 0x60), k); /* exactly once per write */
    }
    async_end(b, 1);
    TEST_ASSERT_EQ(host_irq_count[0][0x60], CHAIN_ROUNDS);
    TEST_ASSERT(a_npf == 0 && a_io == CHAIN_ROUNDS,
                "(A's doorbell writes exited: %llu NestedPageFault, %llu IoInstructions for %u READYs)",
                (unsigned long long)a_npf, (unsigned long long)a_io, CHAIN_ROUNDS);
    /* Another value exits in A and interrupts nobody */
    async_begin(b, 1);
    r = db_batch(a, DB_GPA, 4, 0xB0C, 1, false);
    TEST_ASSERT_EQ(r.mem_exits, 1);
    sleep_ms(10);
    async_end(b, 1);
    TEST_ASSERT_EQ(host_irq_count[0][0x60], 0);

    TEST_HR(WHvUnregisterPartitionDoorbellEvent(a->partition, &m));
    TEST_HR(WHvDeleteTrigger(b->partition, th));
    guest_vm_destroy(a);
    guest_vm_destroy(b);
    TEST_ASSERT(OpenWhpCloseEvent(ev));
}

/* ======================================================================================
 * Races
 * ====================================================================================== */

/* Signals one at a time, each after the previous one was taken (the guest stays responsive),
 * while another thread flips the trigger's vector between 0x70 and 0x71. */
struct race {
    struct guest_vm *vm;
    HANDLE ev;
    WHV_TRIGGER_HANDLE th;
    unsigned n;
    atomic_int stop;
    atomic_uint sent, updates, lost_at;
    HRESULT update_hr;
};

static void *race_signal_main(void *opaque)
{
    struct race *r = opaque;
    for (unsigned i = 1; i <= r->n; i++) {
        OpenWhpSetEvent(r->ev);
        atomic_store(&r->sent, i);
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (live_count(r->vm, 0, 0x70) + live_count(r->vm, 0, 0x71) < i) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > 2000) {
                atomic_store(&r->lost_at, i);
                atomic_store(&r->stop, 1);
                return NULL;
            }
        }
    }
    atomic_store(&r->stop, 1);
    return NULL;
}

static void *race_update_main(void *opaque)
{
    struct race *r = opaque;
    unsigned n = 0;
    while (!atomic_load(&r->stop)) {
        WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(0, (n & 1) ? 0x70 : 0x71);
        HRESULT hr = WHvUpdateTriggerParameters(r->vm->partition, &t, r->th);
        if (FAILED(hr)) {
            r->update_hr = hr;
            break;
        }
        n++;
    }
    atomic_store(&r->updates, n);
    return NULL;
}

static void test_trigger_signal_during_update(void)
{
    struct guest_vm *vm = trigger_vm(X2APIC, 1);
    WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(0, 0x70);
    static struct race r;
    pthread_t s, u;

    memset(&r, 0, sizeof(r));
    r.vm = vm;
    r.n = 2000;
    TEST_HR(WHvCreateTrigger(vm->partition, &t, &r.th, &r.ev));
    async_begin(vm, 1);
    TEST_ASSERT(pthread_create(&u, NULL, race_update_main, &r) == 0);
    TEST_ASSERT(pthread_create(&s, NULL, race_signal_main, &r) == 0);
    pthread_join(s, NULL);
    pthread_join(u, NULL);
    if (atomic_load(&r.lost_at)) {
        async_stop_all(1);
        TEST_FAIL("signal %u of %u was never delivered (vector 0x70 %u times, 0x71 %u times, %u updates)",
                  atomic_load(&r.lost_at), r.n, live_count(vm, 0, 0x70), live_count(vm, 0, 0x71),
                  atomic_load(&r.updates));
    }
    sleep_ms(5);
    async_end(vm, 1);
    TEST_HR(r.update_hr);
    uint32_t total = 0;
    for (uint32_t v = 0x21; v < 256; v++)
        if (v != 0x70 && v != 0x71)
            EXPECT_VECTOR_ON(1, v, 0, 0);
    total = host_irq_count[0][0x70] + host_irq_count[0][0x71];
    printf("  %u signals during %u updates: 0x70 x%u, 0x71 x%u\n", r.n, atomic_load(&r.updates),
           host_irq_count[0][0x70], host_irq_count[0][0x71]);
    TEST_ASSERT(total == r.n, "(%u handler runs for %u signals)", total, r.n);
    TEST_ASSERT(atomic_load(&r.updates) > 10, "(only %u updates happened during the signals)", atomic_load(&r.updates));
    TEST_HR(WHvDeleteTrigger(vm->partition, r.th));
    TEST_ASSERT(OpenWhpCloseEvent(r.ev));
    guest_vm_destroy(vm);
}

struct spammer {
    pthread_t thread;
    HANDLE ev;
    atomic_int *stop;
    unsigned long sent;
    BOOL ok;
};

static void *spam_main(void *opaque)
{
    struct spammer *s = opaque;
    s->ok = TRUE;
    while (!atomic_load(s->stop)) {
        s->ok &= OpenWhpSetEvent(s->ev);
        s->sent++;
    }
    return NULL;
}

static void test_trigger_delete_while_signaled(void)
{
    struct guest_vm *vm = trigger_vm(X2APIC, 1);
    WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(0, 0x72);
    WHV_TRIGGER_HANDLE th;
    HANDLE ev;
    static atomic_int stop;
    static struct spammer sp[2];

    TEST_HR(WHvCreateTrigger(vm->partition, &t, &th, &ev));
    async_begin(vm, 1);
    atomic_store(&stop, 0);
    for (int i = 0; i < 2; i++) {
        sp[i] = (struct spammer){.ev = ev, .stop = &stop};
        TEST_ASSERT(pthread_create(&sp[i].thread, NULL, spam_main, &sp[i]) == 0);
    }
    bool delivered = wait_count(vm, 0, 0x72, 3, 3000);
    TEST_HR(WHvDeleteTrigger(vm->partition, th)); /* while the threads signal */
    sleep_ms(20);
    uint32_t at_delete = live_count(vm, 0, 0x72);
    sleep_ms(50); /* signals keep coming: nothing more may arrive */
    uint32_t later = live_count(vm, 0, 0x72);
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(sp[i].thread, NULL);
    async_end(vm, 1);
    TEST_ASSERT(delivered, "(vector 0x72 taken %u times before the delete)", at_delete);
    TEST_ASSERT(later == at_delete, "(vector 0x72 taken %u times after the delete settled, %u before)", later,
                at_delete);
    TEST_ASSERT(sp[0].ok && sp[1].ok, "(OpenWhpSetEvent failed on the event of a deleted trigger)");
    TEST_ASSERT(OpenWhpSetEvent(ev));
    TEST_ASSERT(OpenWhpCloseEvent(ev));
    /* The partition still works: a new trigger gets delivered. */
    TEST_HR(WHvCreateTrigger(vm->partition, &t, &th, &ev));
    async_begin(vm, 1);
    TEST_ASSERT(OpenWhpSetEvent(ev));
    TEST_ASSERT(wait_count(vm, 0, 0x72, 1, 3000));
    async_end(vm, 1);
    TEST_ASSERT_EQ(host_irq_count[0][0x72], 1);
    TEST_HR(WHvDeleteTrigger(vm->partition, th));
    TEST_ASSERT(OpenWhpCloseEvent(ev));
    guest_vm_destroy(vm);
}

#define SPAM_THREADS 8
#define SPAM_EACH 5000

static void test_trigger_many_threads_signal(void)
{
    struct guest_vm *vm = trigger_vm(X2APIC, NR_VPS);
    WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(1, 0x74);
    WHV_TRIGGER_HANDLE th;
    HANDLE ev;
    static struct signal_job jobs[SPAM_THREADS];

    TEST_HR(WHvCreateTrigger(vm->partition, &t, &th, &ev));
    async_begin(vm, NR_VPS);
    for (int i = 0; i < SPAM_THREADS; i++) {
        jobs[i] = (struct signal_job){.event = ev, .n = SPAM_EACH};
        TEST_ASSERT(pthread_create(&jobs[i].thread, NULL, signal_main, &jobs[i]) == 0);
    }
    for (int i = 0; i < SPAM_THREADS; i++)
        pthread_join(jobs[i].thread, NULL);
    TEST_ASSERT(wait_count(vm, 1, 0x74, 1, 3000));
    sleep_ms(10);
    uint32_t burst = live_count(vm, 1, 0x74);
    /* After the burst, one more signal is one more interrupt: nothing is stuck. */
    TEST_ASSERT(OpenWhpSetEvent(ev));
    TEST_ASSERT(wait_count(vm, 1, 0x74, burst + 1, 3000), "(after a burst of %u signals taken %u times, one more "
                                                          "signal was not delivered)",
                SPAM_THREADS * SPAM_EACH, burst);
    async_end(vm, NR_VPS);
    for (int i = 0; i < SPAM_THREADS; i++)
        TEST_ASSERT(jobs[i].ok);
    printf("  %u signals from %u threads: %u handler runs (signals coalesce)\n", SPAM_THREADS * SPAM_EACH,
           SPAM_THREADS, burst);
    TEST_ASSERT(burst >= 1 && burst <= SPAM_THREADS * SPAM_EACH);
    TEST_ASSERT_EQ(host_irq_count[1][0x74], burst + 1);
    EXPECT_VECTOR_ON(NR_VPS, 0x74, 0x2, burst + 1);
    TEST_HR(WHvDeleteTrigger(vm->partition, th));
    TEST_ASSERT(OpenWhpCloseEvent(ev));
    guest_vm_destroy(vm);
}

/* ---- Create/delete cycles leave nothing behind ---- */

static int fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *e;
    TEST_ASSERT(d != NULL);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static long rss_kib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    TEST_ASSERT(f != NULL);
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = -1;
    fclose(f);
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

struct usage {
    int fds;
    long rss_kib;
    size_t heap;
};

static struct usage usage_now(void)
{
    struct usage u = {fd_count(), rss_kib(), 0};
    if (!guest_heap_tool())
        u.heap = mallinfo2().uordblks;
    return u;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void expect_no_growth(const char *what, unsigned cycles, double seconds, struct usage a, struct usage b)
{
    printf("  %u %s (%.1f us each): fds %d -> %d, RSS %ld -> %ld KiB, heap in use %zu -> %zu bytes\n", cycles,
           what, seconds * 1e6 / cycles, a.fds, b.fds, a.rss_kib, b.rss_kib, a.heap, b.heap);
    TEST_ASSERT(a.fds == b.fds, "(%s: %d fds before, %d after)", what, a.fds, b.fds);
    if (!guest_heap_tool()) { /* the tool's own leak check replaces these */
        TEST_ASSERT(b.heap <= a.heap + 16384, "(%s: heap in use grew from %zu to %zu bytes)", what, a.heap, b.heap);
        TEST_ASSERT(b.rss_kib <= a.rss_kib + 2048, "(%s: RSS grew from %ld to %ld KiB)", what, a.rss_kib, b.rss_kib);
    }
}

#define CYCLES 100000
#ifndef DB_CYCLES
#define DB_CYCLES 1000 /* KVM_IOEVENTFD assign + deassign costs ~8 ms here (raw KVM too): EVENTS_DB_CYCLES=100000 for the long run */
#endif

static void trigger_cycles(struct guest_vm *vm, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        WHV_TRIGGER_PARAMETERS t = (i & 1) ? msi_trigger(0, 0x40 + (i & 0x3F)) : irq_fixed_trigger(0, 0x40 + (i & 0x3F));
        WHV_TRIGGER_HANDLE th;
        HANDLE ev;
        HRESULT hr = WHvCreateTrigger(vm->partition, &t, &th, &ev);
        if (FAILED(hr))
            TEST_FAIL("cycle %u: WHvCreateTrigger returned 0x%08x", i, (unsigned)hr);
        hr = WHvDeleteTrigger(vm->partition, th);
        if (FAILED(hr))
            TEST_FAIL("cycle %u: WHvDeleteTrigger returned 0x%08x", i, (unsigned)hr);
        if (!OpenWhpCloseEvent(ev))
            TEST_FAIL("cycle %u: OpenWhpCloseEvent of a deleted trigger's event failed", i);
    }
}

static void test_trigger_create_delete_cycles_leak_nothing(void)
{
    struct guest_vm *vm = trigger_vm(X2APIC, 1);
    trigger_cycles(vm, 1000); /* warm-up: tables reach their size */
    struct usage a = usage_now();
    double t0 = now_s();
    trigger_cycles(vm, CYCLES);
    double t1 = now_s();
    struct usage b = usage_now();
    expect_no_growth("trigger create/delete/close cycles", CYCLES, t1 - t0, a, b);
    /* Still working afterwards */
    WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(0, 0x44);
    WHV_TRIGGER_HANDLE th;
    HANDLE ev;
    TEST_HR(WHvCreateTrigger(vm->partition, &t, &th, &ev));
    async_begin(vm, 1);
    TEST_ASSERT(OpenWhpSetEvent(ev));
    TEST_ASSERT(wait_count(vm, 0, 0x44, 1, 3000));
    async_end(vm, 1);
    TEST_ASSERT_EQ(host_irq_count[0][0x44], 1);
    TEST_HR(WHvDeleteTrigger(vm->partition, th));
    TEST_ASSERT(OpenWhpCloseEvent(ev));
    guest_vm_destroy(vm);
}

static void doorbell_cycles(struct guest_vm *vm, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
        uint64_t addr = (i & 2) ? DB_PORT : DB_GPA;
        WHV_DOORBELL_MATCH_DATA m = (i & 1) ? value_length(addr, 4, i) : any_write(addr);
        HRESULT hr = (i & 2) ? OpenWhpRegisterPortDoorbellEvent(vm->partition, &m, e)
                             : WHvRegisterPartitionDoorbellEvent(vm->partition, &m, e);
        if (FAILED(hr))
            TEST_FAIL("cycle %u: register returned 0x%08x", i, (unsigned)hr);
        hr = (i & 2) ? OpenWhpUnregisterPortDoorbellEvent(vm->partition, &m)
                     : WHvUnregisterPartitionDoorbellEvent(vm->partition, &m);
        if (FAILED(hr))
            TEST_FAIL("cycle %u: unregister returned 0x%08x", i, (unsigned)hr);
        if (!OpenWhpCloseEvent(e))
            TEST_FAIL("cycle %u: OpenWhpCloseEvent failed", i);
    }
}

static void test_doorbell_register_cycles_leak_nothing(void)
{
    struct guest_vm *vm = db_vm_create();
    unsigned n = getenv("EVENTS_DB_CYCLES") ? (unsigned)atoi(getenv("EVENTS_DB_CYCLES")) : DB_CYCLES;
    double t0 = now_s();
    doorbell_cycles(vm, 100);
    printf("  warm-up: 100 cycles in %.1f ms\n", (now_s() - t0) * 1e3);
    struct usage a = usage_now();
    t0 = now_s();
    doorbell_cycles(vm, n);
    double t1 = now_s();
    struct usage b = usage_now();
    expect_no_growth("doorbell register/unregister cycles (MMIO and port)", n, t1 - t0, a, b);
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA m = any_write(DB_GPA);
    TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &m, e));
    EXPECT_SIGNALS(vm, e, DB_GPA, 4, 1, 3, false);
    guest_vm_destroy(vm);
    TEST_ASSERT(OpenWhpCloseEvent(e));
}

/* Partitions deleted with live triggers, doorbells and ports: every event stays the caller's. */
static void test_partition_delete_leaves_events_valid(void)
{
    struct usage a = usage_now();
    for (int round = 0; round < 20; round++) {
        struct guest_vm *vm = irq_vm_create(X2APIC, 1);
        WHV_TRIGGER_PARAMETERS t = irq_fixed_trigger(0, 0x40);
        WHV_TRIGGER_HANDLE th;
        HANDLE tev, dev = OpenWhpCreateEvent(FALSE, FALSE), pev = OpenWhpCreateEvent(TRUE, FALSE);
        WHV_DOORBELL_MATCH_DATA m = any_write(DB_GPA);
        WHV_NOTIFICATION_PORT_PARAMETERS prm;
        WHV_NOTIFICATION_PORT_HANDLE port;

        TEST_HR(WHvCreateTrigger(vm->partition, &t, &th, &tev));
        TEST_HR(WHvRegisterPartitionDoorbellEvent(vm->partition, &m, dev));
        memset(&prm, 0, sizeof(prm));
        prm.NotificationPortType = WHvNotificationPortTypeEvent;
        prm.Event.ConnectionId = 3;
        TEST_HR(WHvCreateNotificationPort(vm->partition, &prm, pev, &port));
        guest_vm_destroy(vm);
        TEST_ASSERT(OpenWhpSetEvent(tev) && OpenWhpSetEvent(dev) && OpenWhpSetEvent(pev));
        TEST_ASSERT(OpenWhpCloseEvent(tev) && OpenWhpCloseEvent(dev) && OpenWhpCloseEvent(pev));
    }
    struct usage b = usage_now();
    TEST_ASSERT(a.fds == b.fds, "(%d fds before 20 partitions with event objects, %d after)", a.fds, b.fds);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_doorbell_any_write_fires_on_every_size),
        GUEST_TEST(test_doorbell_length_only_fires_on_that_length),
        GUEST_TEST(test_doorbell_value_and_length_fires_on_that_value),
        GUEST_TEST(test_doorbell_two_values_at_one_gpa),
        GUEST_TEST(test_doorbell_conflicts_and_bad_match_data),
        GUEST_TEST(test_doorbell_unregister_needs_exact_match),
        GUEST_TEST(test_doorbell_over_ram_page),
        GUEST_TEST(test_port_doorbells),
        GUEST_TEST(test_notification_port_doorbell),
        GUEST_TEST(test_notification_port_event),
        GUEST_TEST(test_trigger_interrupt_x2apic),
        GUEST_TEST(test_trigger_interrupt_xapic),
        GUEST_TEST(test_trigger_nmi),
        GUEST_TEST(test_trigger_device_interrupt),
        GUEST_TEST(test_trigger_bad_parameters),
        GUEST_TEST(test_doorbell_of_a_interrupts_b),
        GUEST_TEST(test_trigger_signal_during_update),
        GUEST_TEST(test_trigger_delete_while_signaled),
        GUEST_TEST(test_trigger_many_threads_signal),
        GUEST_TEST(test_trigger_create_delete_cycles_leak_nothing),
        GUEST_TEST(test_doorbell_register_cycles_leak_nothing),
        GUEST_TEST(test_partition_delete_leaves_events_valid),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
