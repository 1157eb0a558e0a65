/* hello: a complete WHP program, written the way a Windows VMM would write it, that runs a tiny
 * real-mode guest printing a greeting through port I/O. It uses only <WinHvPlatform.h> and
 * <WinHvEmulation.h>; build it with `cc hello.c $(pkg-config --cflags --libs winhvplatform)`. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <WinHvEmulation.h>
#include <WinHvPlatform.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define RAM_SIZE 0x10000
#define CODE 0x1000
#define CONSOLE_PORT 0xE9

/* mov si, msg ; mov cx, len ; mov dx, 0xE9 ; cld ; rep outsb ; mov al, 10 ; out dx, al ; hlt */
static const unsigned char guest[] = {
    0xBE, 0x20, 0x10, 0xB9, 0x00, 0x00, 0xBA, CONSOLE_PORT, 0x00, 0xFC, 0xF3, 0x6E,
    0xB0, 0x0A, 0xEE, 0xF4,
};
static const char message[] = "Hello from a WHP guest on Linux KVM!";

struct vm {
    WHV_PARTITION_HANDLE partition;
    unsigned char *ram;
};

static HRESULT CALLBACK io_port(VOID *ctx, WHV_EMULATOR_IO_ACCESS_INFO *io)
{
    (void)ctx;
    if (io->Port != CONSOLE_PORT || io->Direction != 1)
        return E_INVALIDARG;
    fwrite(&io->Data, 1, io->AccessSize, stdout);
    return S_OK;
}

static HRESULT CALLBACK memory(VOID *ctx, WHV_EMULATOR_MEMORY_ACCESS_INFO *m)
{
    struct vm *vm = ctx;
    if (m->GpaAddress + m->AccessSize > RAM_SIZE)
        return E_INVALIDARG;
    if (m->Direction)
        memcpy(vm->ram + m->GpaAddress, m->Data, m->AccessSize);
    else
        memcpy(m->Data, vm->ram + m->GpaAddress, m->AccessSize);
    return S_OK;
}

static HRESULT CALLBACK get_regs(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                 WHV_REGISTER_VALUE *values)
{
    return WHvGetVirtualProcessorRegisters(((struct vm *)ctx)->partition, 0, names, n, values);
}

static HRESULT CALLBACK set_regs(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                 const WHV_REGISTER_VALUE *values)
{
    return WHvSetVirtualProcessorRegisters(((struct vm *)ctx)->partition, 0, names, n, values);
}

static HRESULT CALLBACK translate(VOID *ctx, WHV_GUEST_VIRTUAL_ADDRESS gva,
                                  WHV_TRANSLATE_GVA_FLAGS flags,
                                  WHV_TRANSLATE_GVA_RESULT_CODE *result,
                                  WHV_GUEST_PHYSICAL_ADDRESS *gpa)
{
    WHV_TRANSLATE_GVA_RESULT r;
    HRESULT hr = WHvTranslateGva(((struct vm *)ctx)->partition, 0, gva, flags, &r, gpa);
    *result = r.ResultCode;
    return hr;
}

#define CHECK(call)                                                                               \
    do {                                                                                          \
        HRESULT hr_ = (call);                                                                     \
        if (FAILED(hr_)) {                                                                        \
            fprintf(stderr, "hello: %s failed: 0x%08x\n", #call, (unsigned)hr_);                  \
            return 1;                                                                             \
        }                                                                                         \
    } while (0)

int main(void)
{
    WHV_CAPABILITY cap;
    UINT32 size;
    CHECK(WHvGetCapability(WHvCapabilityCodeHypervisorPresent, &cap, sizeof(cap), &size));
    if (!cap.HypervisorPresent) {
        fprintf(stderr, "hello: no hypervisor (is /dev/kvm usable?)\n");
        return 2;
    }

    struct vm vm;
    vm.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (vm.ram == MAP_FAILED)
        return 1;
    memcpy(vm.ram + CODE, guest, sizeof(guest));
    memcpy(vm.ram + CODE + 0x20, message, sizeof(message) - 1);
    vm.ram[CODE + 4] = sizeof(message) - 1; /* mov cx, len */

    CHECK(WHvCreatePartition(&vm.partition));
    WHV_PARTITION_PROPERTY prop;
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = 1;
    CHECK(WHvSetPartitionProperty(vm.partition, WHvPartitionPropertyCodeProcessorCount, &prop,
                                  sizeof(prop)));
    CHECK(WHvSetupPartition(vm.partition));
    CHECK(WHvMapGpaRange(vm.partition, vm.ram, 0, RAM_SIZE,
                         WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute));
    CHECK(WHvCreateVirtualProcessor(vm.partition, 0, 0));

    /* Real mode, CS base 0, IP at the code. */
    WHV_REGISTER_NAME names[] = {WHvX64RegisterCs, WHvX64RegisterDs, WHvX64RegisterRip,
                                 WHvX64RegisterRflags};
    WHV_REGISTER_VALUE values[4];
    CHECK(WHvGetVirtualProcessorRegisters(vm.partition, 0, names, 4, values));
    values[0].Segment.Base = 0;
    values[0].Segment.Selector = 0;
    values[1].Segment.Base = 0;
    values[1].Segment.Selector = 0;
    values[2].Reg64 = CODE;
    values[3].Reg64 = 0x2;
    CHECK(WHvSetVirtualProcessorRegisters(vm.partition, 0, names, 4, values));

    WHV_EMULATOR_CALLBACKS callbacks = {
        .Size = sizeof(callbacks),
        .WHvEmulatorIoPortCallback = io_port,
        .WHvEmulatorMemoryCallback = memory,
        .WHvEmulatorGetVirtualProcessorRegisters = get_regs,
        .WHvEmulatorSetVirtualProcessorRegisters = set_regs,
        .WHvEmulatorTranslateGvaPage = translate,
    };
    WHV_EMULATOR_HANDLE emulator;
    CHECK(WHvEmulatorCreateEmulator(&callbacks, &emulator));

    int status = 1;
    for (;;) {
        WHV_RUN_VP_EXIT_CONTEXT exit;
        CHECK(WHvRunVirtualProcessor(vm.partition, 0, &exit, sizeof(exit)));
        if (exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess) {
            WHV_EMULATOR_STATUS st;
            CHECK(WHvEmulatorTryIoEmulation(emulator, &vm, &exit.VpContext, &exit.IoPortAccess, &st));
            if (!st.EmulationSuccessful) {
                fprintf(stderr, "hello: emulation failed (status 0x%x)\n", st.AsUINT32);
                break;
            }
        } else if (exit.ExitReason == WHvRunVpExitReasonX64Halt) {
            status = 0;
            break;
        } else {
            fprintf(stderr, "hello: unexpected exit 0x%x at rip 0x%llx\n", exit.ExitReason,
                    (unsigned long long)exit.VpContext.Rip);
            break;
        }
    }
    fflush(stdout);
    WHvEmulatorDestroyEmulator(emulator);
    WHvDeletePartition(vm.partition);
    munmap(vm.ram, RAM_SIZE);
    return status;
}
