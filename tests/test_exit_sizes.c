/* WHvRunVirtualProcessor with the exit-context sizes of each SDK: 144 bytes (10.0.17134 to
 * 10.0.18362, the union's largest member IoPortAccess) and 224 (later SDKs, with Hypercall and
 * AsUINT64[22]). The library writes only what the caller's layout has. */
#include <string.h>

#include "guest.h"
#include "guest_synic.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define SIZE_FIRST_SDK 144u /* 10.0.17134, 10.0.17763, 10.0.18362 */
#define SIZE_CURRENT_SDK 224u
#define CANARY 0xA5
#define OUT_PORT 0x99
#define OUT_VALUE 0x5A

GUEST_CODE static void guest_out_loop(void)
{
    for (;;)
        guest_outb(OUT_PORT, OUT_VALUE);
}

/* Runs VP 0 with a buffer of `size` bytes inside a larger one full of canaries; checks the port
 * exit and that nothing past `size` (nor past the full context) was written, then skips the OUT. */
static void run_with_size(struct guest_vm *vm, UINT32 size)
{
    uint8_t buf[SIZE_CURRENT_SDK + 64];
    memset(buf, CANARY, sizeof(buf));
    TEST_HR(WHvRunVirtualProcessor(vm->partition, 0, buf, size));
    WHV_RUN_VP_EXIT_CONTEXT exit;
    memset(&exit, 0, sizeof(exit));
    memcpy(&exit, buf, size < sizeof(exit) ? size : sizeof(exit));
    TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess, "(size %u: exit %s)", size,
                guest_exit_reason_name(exit.ExitReason));
    TEST_ASSERT_EQ(exit.IoPortAccess.PortNumber, OUT_PORT);
    TEST_ASSERT_EQ(exit.IoPortAccess.Rax & 0xFF, OUT_VALUE);
    size_t written = size < sizeof(exit) ? size : sizeof(exit);
    for (size_t i = written; i < sizeof(buf); i++)
        TEST_ASSERT(buf[i] == CANARY, "(size %u: byte %zu written)", size, i);
    guest_skip_instruction(vm, 0, &exit);
}

static void test_each_sdk_size_gets_its_exit(void)
{
    static const UINT32 sizes[] = {SIZE_FIRST_SDK, SIZE_FIRST_SDK + 8, SIZE_CURRENT_SDK,
                                   SIZE_CURRENT_SDK + 64};
    struct guest_vm *vm = guest_vm_create_default(guest_out_loop);
    for (size_t i = 0; i < COUNT(sizes); i++)
        run_with_size(vm, sizes[i]);
    guest_vm_destroy(vm);
}

static void test_smaller_than_first_sdk_is_invalid(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_out_loop);
    uint8_t buf[SIZE_CURRENT_SDK];
    static const UINT32 sizes[] = {0, 48, SIZE_FIRST_SDK - 1};
    for (size_t i = 0; i < COUNT(sizes); i++)
        TEST_HR_EQ(WHvRunVirtualProcessor(vm->partition, 0, buf, sizes[i]), E_INVALIDARG);
    run_with_size(vm, SIZE_FIRST_SDK); /* the VP did not run */
    guest_vm_destroy(vm);
}

static void synic_pre_setup(WHV_PARTITION_HANDLE partition, void *opaque)
{
    (void)opaque;
    TEST_HR(guest_synic_enable(partition));
}

/* Synthetic features (a later SDK's property) can produce Hypercall exits, which need 224 bytes. */
static void test_first_sdk_size_is_refused_with_synthetic_features(void)
{
    struct guest_vm_config cfg = {.pre_setup = synic_pre_setup};
    struct guest_vm *vm = guest_vm_create(&cfg);
    guest_vm_add_vp(vm, 0, guest_out_loop, 0, 0);
    uint8_t buf[SIZE_CURRENT_SDK];
    TEST_HR_EQ(WHvRunVirtualProcessor(vm->partition, 0, buf, SIZE_FIRST_SDK), E_INVALIDARG);
    TEST_HR_EQ(WHvRunVirtualProcessor(vm->partition, 0, buf, SIZE_CURRENT_SDK - 1), E_INVALIDARG);
    run_with_size(vm, SIZE_CURRENT_SDK);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_each_sdk_size_gets_its_exit),
        GUEST_TEST(test_smaller_than_first_sdk_is_invalid),
        GUEST_TEST(test_first_sdk_size_is_refused_with_synthetic_features),
    };
    return guest_test_main(argc, argv, tests, COUNT(tests));
}
