/* The calls a Rust program on Microsoft's windows-sys crate makes, made the way it makes them:
 * no openwhp header (the prototypes and layouts below are windows-sys's: HRESULT i32, BOOL i32,
 * "system" = the C ABI on Linux x86-64, WHV_RUN_VP_EXIT_CONTEXT and WHV_REGISTER_VALUE 8-aligned),
 * symbols resolved by name from the library a build.rs would link (cargo:rustc-link-lib=
 * winhvplatform). A real-mode ROM at 0xF0000 runs from WHP's power-on state and writes a port.
 * docs/rust.md describes the Rust side. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* windows-sys declarations (Win32::System::Hypervisor), as extern "system" fns. */
typedef int32_t HRESULT;
extern HRESULT WHvGetCapability(int32_t code, void *buf, uint32_t size, uint32_t *written);
extern HRESULT WHvCreatePartition(void **partition);
extern HRESULT WHvSetPartitionProperty(void *partition, int32_t code, const void *buf, uint32_t size);
extern HRESULT WHvSetupPartition(void *partition);
extern HRESULT WHvMapGpaRange(void *partition, void *source, uint64_t gpa, uint64_t size, int32_t flags);
extern HRESULT WHvCreateVirtualProcessor(void *partition, uint32_t index, uint32_t flags);
extern HRESULT WHvRunVirtualProcessor(void *partition, uint32_t index, void *exit, uint32_t size);
extern HRESULT WHvGetVirtualProcessorRegisters(void *partition, uint32_t index, const int32_t *names,
                                               uint32_t count, void *values);
extern HRESULT WHvDeleteVirtualProcessor(void *partition, uint32_t index);
extern HRESULT WHvDeletePartition(void *partition);

/* Values and offsets from windows-sys (equal to the SDK's: unit.test_abi checks the headers). */
#define CAP_HYPERVISOR_PRESENT 0x0
#define PROP_PROCESSOR_COUNT 0x1fff
#define MAP_READ_WRITE_EXECUTE 0x7
#define REG_RIP 0x10
#define EXIT_IO_PORT_ACCESS 0x2
#define EXIT_CONTEXT_SIZE 224
#define EXIT_PORT_OFFSET 72 /* IoPortAccess.PortNumber */
#define ROM_GPA 0xF0000ull
#define ROM_SIZE 0x10000ull
#define RESET_OFFSET 0xFFF0 /* F000:FFF0 */
#define TEST_PORT 0x42
#define SKIP 77

/* An 8-aligned, never 16-aligned, buffer: what a Rust struct of windows-sys's layout may get. */
struct rust_buffers {
    uint64_t pad;
    uint8_t exit[EXIT_CONTEXT_SIZE];
    uint8_t value[16];
} __attribute__((aligned(16)));

static int fail(const char *what, HRESULT hr)
{
    printf("FAIL: %s returned 0x%08x\n", what, (unsigned)hr);
    return 1;
}

int main(void)
{
    int32_t present = 0;
    uint32_t written = 0;
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0 || WHvGetCapability(CAP_HYPERVISOR_PRESENT, &present, sizeof(present), &written) < 0 ||
        !present) {
        printf("SKIP: /dev/kvm not available\n");
        return SKIP;
    }
    close(fd);

    uint8_t *rom = mmap(NULL, ROM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    static const uint8_t code[] = {0xb0, 'R', 0xe6, TEST_PORT, 0xf4}; /* mov al,'R'; out 0x42,al; hlt */
    memcpy(rom + RESET_OFFSET, code, sizeof(code));

    void *p = NULL;
    uint32_t one = 1;
    HRESULT hr;
    if ((hr = WHvCreatePartition(&p)) < 0)
        return fail("WHvCreatePartition", hr);
    if ((hr = WHvSetPartitionProperty(p, PROP_PROCESSOR_COUNT, &one, sizeof(one))) < 0)
        return fail("WHvSetPartitionProperty", hr);
    if ((hr = WHvSetupPartition(p)) < 0)
        return fail("WHvSetupPartition", hr);
    if ((hr = WHvMapGpaRange(p, rom, ROM_GPA, ROM_SIZE, MAP_READ_WRITE_EXECUTE)) < 0)
        return fail("WHvMapGpaRange", hr);
    if ((hr = WHvCreateVirtualProcessor(p, 0, 0)) < 0)
        return fail("WHvCreateVirtualProcessor", hr);

    static struct rust_buffers b;
    int32_t rip = REG_RIP;
    if ((hr = WHvGetVirtualProcessorRegisters(p, 0, &rip, 1, b.value)) < 0)
        return fail("WHvGetVirtualProcessorRegisters", hr);
    uint64_t rip_value;
    memcpy(&rip_value, b.value, sizeof(rip_value));
    if (rip_value != RESET_OFFSET) {
        printf("FAIL: power-on RIP 0x%llx, expected 0x%x\n", (unsigned long long)rip_value, RESET_OFFSET);
        return 1;
    }
    if ((hr = WHvRunVirtualProcessor(p, 0, b.exit, EXIT_CONTEXT_SIZE)) < 0)
        return fail("WHvRunVirtualProcessor", hr);
    uint32_t reason;
    uint16_t port;
    memcpy(&reason, b.exit, sizeof(reason));
    memcpy(&port, b.exit + EXIT_PORT_OFFSET, sizeof(port));
    if (reason != EXIT_IO_PORT_ACCESS || port != TEST_PORT) {
        printf("FAIL: exit reason 0x%x port 0x%x, expected an I/O exit on port 0x%x\n", reason, port,
               TEST_PORT);
        return 1;
    }
    if ((hr = WHvDeleteVirtualProcessor(p, 0)) < 0 || (hr = WHvDeletePartition(p)) < 0)
        return fail("teardown", hr);
    munmap(rom, ROM_SIZE);
    printf("PASS: windows-sys-style calls with 8-aligned buffers (exit on port 0x%x)\n", port);
    return 0;
}
