/* Memslot changes while a VP runs: doorbells over RAM next to a page the guest uses, and maps and
 * unmaps that split the guest's RAM range or other ranges, must never show the running guest its
 * RAM missing (no exit, no wrong value), also when the VP's own thread remaps between runs or
 * the partition is deleted meanwhile. REMAP_ROUNDS (default 1000, about 21 s here: a round costs
 * ~21 ms, most of it KVM's SRCU in the memslot and ioeventfd changes) sets the host's rounds. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <openwhp/event.h>

#include "guest_stress.h"

#define WORDS 256                      /* the words the guest writes and checks per round */
#define STOP_WORD (GUEST_PAGE_SIZE / 8 - 1) /* the host's stop flag, in the guest's page */
#define EXTRA_GPA 0x100000000ull       /* a range outside RAM that the host maps and splits */
#define EXTRA_PAGES 4
#define PATTERN(round, i) ((round) * 0x100000001ull + (i))

/* Writes and checks its page until the host sets the stop word; a SYNC per round. */
GUEST_CODE static void guest_rw_main(uint64_t page_gva)
{
    volatile uint64_t *d = (volatile uint64_t *)page_gva;
    for (uint64_t round = 1; !d[STOP_WORD]; round++) {
        for (unsigned i = 0; i < WORDS; i++)
            d[i] = PATTERN(round, i);
        for (unsigned i = 0; i < WORDS; i++)
            GUEST_ASSERT_EQ(d[i], PATTERN(round, i));
        GUEST_SYNC(round);
    }
}

struct remap_job {
    struct guest_vm *vm;
    WHV_PARTITION_HANDLE partition;
    uint64_t neighbour, spare; /* a page next to the guest's; a page of RAM nobody uses */
    uint8_t *extra;            /* host memory of the range at EXTRA_GPA */
    unsigned rounds;           /* 0: until a call fails (the partition was deleted) */
    unsigned done;
    HRESULT hr;                /* the first failure */
    volatile uint64_t *stop;   /* set at the end, for the guest */
};

/* One round: a doorbell on the neighbouring page comes and goes, a page of guest RAM is mapped
 * again over itself (splitting the RAM range), and the extra range is mapped, split and unmapped. */
static HRESULT remap_round(struct remap_job *j, HANDLE ev)
{
    const UINT32 rw = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute;
    WHV_DOORBELL_MATCH_DATA m;
    memset(&m, 0, sizeof(m));
    m.GuestAddress = j->neighbour + 0x10; /* any write */
    HRESULT hr = WHvRegisterPartitionDoorbellEvent(j->partition, &m, ev);
    if (SUCCEEDED(hr))
        hr = WHvUnregisterPartitionDoorbellEvent(j->partition, &m);
    if (SUCCEEDED(hr))
        hr = WHvMapGpaRange(j->partition, j->vm->ram + j->spare, j->spare, GUEST_PAGE_SIZE, rw);
    if (SUCCEEDED(hr))
        hr = WHvMapGpaRange(j->partition, j->extra, EXTRA_GPA, EXTRA_PAGES * GUEST_PAGE_SIZE, rw);
    if (SUCCEEDED(hr))
        hr = WHvUnmapGpaRange(j->partition, EXTRA_GPA + GUEST_PAGE_SIZE, GUEST_PAGE_SIZE);
    if (SUCCEEDED(hr))
        hr = WHvUnmapGpaRange(j->partition, EXTRA_GPA, EXTRA_PAGES * GUEST_PAGE_SIZE);
    return hr;
}

static void *remap_main(void *opaque)
{
    struct remap_job *j = opaque;
    HANDLE ev = OpenWhpCreateEvent(FALSE, FALSE);
    j->hr = S_OK;
    while (SUCCEEDED(j->hr) && (!j->rounds || j->done < j->rounds)) {
        j->hr = remap_round(j, ev);
        if (SUCCEEDED(j->hr))
            j->done++;
    }
    *j->stop = 1;
    OpenWhpCloseEvent(ev);
    return NULL;
}

static uint8_t *alloc_pages(size_t n)
{
    uint8_t *p = aligned_alloc(GUEST_PAGE_SIZE, n * GUEST_PAGE_SIZE);
    TEST_ASSERT(p != NULL);
    memset(p, 0, n * GUEST_PAGE_SIZE);
    return p;
}

static struct guest_vm *rw_vm(struct remap_job *j)
{
    struct guest_vm *vm = guest_vm_create(NULL);
    uint64_t page = guest_vm_alloc(vm, 2 * GUEST_PAGE_SIZE);
    memset(j, 0, sizeof(*j));
    j->vm = vm;
    j->partition = vm->partition;
    j->neighbour = page + GUEST_PAGE_SIZE;
    j->spare = guest_vm_alloc(vm, 2 * GUEST_PAGE_SIZE);
    j->extra = alloc_pages(EXTRA_PAGES);
    j->stop = (volatile uint64_t *)guest_vm_gpa2hva(vm, page) + STOP_WORD;
    guest_vm_add_vp(vm, 0, guest_rw_main, guest_vm_gpa2gva(page), 0);
    return vm;
}

/* The VP runs on this thread and, every fourth round, maps a page of RAM over itself between
 * two runs (its vCPU is not in KVM_RUN then: the hold must not wait for it). Any exit other than
 * the guest's ucalls fails the test. */
static void test_remap_while_guest_uses_ram(void)
{
    struct remap_job j;
    struct guest_vm *vm = rw_vm(&j);
    j.rounds = stress_env("REMAP_ROUNDS", 1000);
    guest_test_set_timeout(j.rounds / 10 + 60); /* ~21 ms a round */
    const UINT32 rw = WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute;
    uint64_t own = j.spare + GUEST_PAGE_SIZE;
    pthread_t t;
    TEST_ASSERT(pthread_create(&t, NULL, remap_main, &j) == 0);
    struct guest_ucall uc;
    uint64_t syncs = 0;
    while (guest_run(vm, 0, &uc) == UCALL_SYNC) {
        if (++syncs % 4 == 0)
            TEST_HR(WHvMapGpaRange(vm->partition, vm->ram + own, own, GUEST_PAGE_SIZE, rw));
    }
    pthread_join(t, NULL);
    TEST_HR(j.hr);
    TEST_ASSERT_EQ(uc.type, UCALL_DONE);
    printf("  %u host rounds (doorbell, RAM remap, split range) while the guest checked its page %llu times\n",
           j.done, (unsigned long long)syncs);
    TEST_ASSERT(syncs > j.done / 8, "(the guest hardly ran: %llu rounds)", (unsigned long long)syncs);
    guest_vm_destroy(vm);
    free(j.extra);
}

struct delete_job {
    WHV_PARTITION_HANDLE partition;
    unsigned ms;
};

static void *delete_main(void *opaque)
{
    struct delete_job *d = opaque;
    struct timespec ts = {d->ms / 1000, (long)(d->ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    WHvDeletePartition(d->partition);
    return NULL;
}

/* WHvDeletePartition while the host remaps and the VP runs: the run ends (Canceled, then
 * E_HANDLE), the remap thread's calls fail with E_HANDLE, nothing hangs. */
static void test_delete_partition_while_remapping(void)
{
    struct remap_job j;
    struct guest_vm *vm = rw_vm(&j);
    struct delete_job d = {vm->partition, 300};
    pthread_t rt, dt;
    TEST_ASSERT(pthread_create(&rt, NULL, remap_main, &j) == 0);
    TEST_ASSERT(pthread_create(&dt, NULL, delete_main, &d) == 0);
    WHV_RUN_VP_EXIT_CONTEXT exit;
    HRESULT hr;
    /* The ucalls are skipped by hand: the partition may be gone between the exit and the skip. */
    while (SUCCEEDED(hr = guest_whv_run(vm->partition, 0, &exit)) &&
           exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess) {
        WHV_REGISTER_NAME rip = WHvX64RegisterRip;
        WHV_REGISTER_VALUE v = {.Reg64 = exit.VpContext.Rip + exit.VpContext.InstructionLength};
        if (FAILED(hr = WHvSetVirtualProcessorRegisters(vm->partition, 0, &rip, 1, &v)))
            break;
    }
    TEST_ASSERT(hr == E_HANDLE || (SUCCEEDED(hr) && exit.ExitReason == WHvRunVpExitReasonCanceled),
                "(run ended with 0x%08x, exit %s)", (unsigned)hr, guest_exit_reason_name(exit.ExitReason));
    pthread_join(dt, NULL);
    pthread_join(rt, NULL);
    TEST_HR_EQ(j.hr, E_HANDLE);
    guest_vm_destroy(vm);
    free(j.extra);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_remap_while_guest_uses_ram),
        GUEST_TEST(test_delete_partition_while_remapping),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
