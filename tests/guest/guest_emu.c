/* A WHP instruction emulator (WinHvEmulation.h) wired the way a WHP VMM wires it: registers through
 * WHvGet/SetVirtualProcessorRegisters, translation through WHvTranslateGva, guest RAM through
 * WHvReadGpaRange/WHvWriteGpaRange, and port I/O or MMIO outside RAM to the test's callbacks. */
#include <string.h>

#include "guest.h"

static HRESULT CALLBACK emu_io(VOID *context, WHV_EMULATOR_IO_ACCESS_INFO *access)
{
    struct guest_emu *emu = context;
    emu->io_calls++;
    return emu->io ? emu->io(emu, access) : E_NOTIMPL;
}

static HRESULT CALLBACK emu_memory(VOID *context, WHV_EMULATOR_MEMORY_ACCESS_INFO *access)
{
    struct guest_emu *emu = context;
    WHV_ACCESS_GPA_CONTROLS controls;

    emu->memory_calls++;
    if (access->GpaAddress + access->AccessSize <= emu->vm->ram_size) {
        emu->ram_calls++;
        memset(&controls, 0, sizeof(controls));
        controls.CacheType = WHvCacheTypeWriteBack;
        if (access->Direction)
            return WHvWriteGpaRange(emu->vm->partition, emu->vp, access->GpaAddress, controls,
                                    access->Data, access->AccessSize);
        return WHvReadGpaRange(emu->vm->partition, emu->vp, access->GpaAddress, controls, access->Data,
                               access->AccessSize);
    }
    return emu->mmio ? emu->mmio(emu, access) : E_NOTIMPL;
}

static HRESULT CALLBACK emu_get_regs(VOID *context, const WHV_REGISTER_NAME *names, UINT32 count,
                                     WHV_REGISTER_VALUE *values)
{
    struct guest_emu *emu = context;
    emu->get_calls++;
    return guest_whv_get_regs(emu->vm->partition, emu->vp, names, count, values);
}

static HRESULT CALLBACK emu_set_regs(VOID *context, const WHV_REGISTER_NAME *names, UINT32 count,
                                     const WHV_REGISTER_VALUE *values)
{
    struct guest_emu *emu = context;
    emu->set_calls++;
    return guest_whv_set_regs(emu->vm->partition, emu->vp, names, count, values);
}

static HRESULT CALLBACK emu_translate(VOID *context, WHV_GUEST_VIRTUAL_ADDRESS gva,
                                      WHV_TRANSLATE_GVA_FLAGS flags, WHV_TRANSLATE_GVA_RESULT_CODE *result,
                                      WHV_GUEST_PHYSICAL_ADDRESS *gpa)
{
    struct guest_emu *emu = context;
    WHV_TRANSLATE_GVA_RESULT res;
    HRESULT hr;

    emu->translate_calls++;
    memset(&res, 0, sizeof(res));
    hr = WHvTranslateGva(emu->vm->partition, emu->vp, gva, flags, &res, gpa);
    *result = res.ResultCode;
    return hr;
}

void guest_emu_create(struct guest_emu *emu, struct guest_vm *vm, uint32_t vp)
{
    WHV_EMULATOR_CALLBACKS cb;

    memset(emu, 0, sizeof(*emu));
    emu->vm = vm;
    emu->vp = vp;
    memset(&cb, 0, sizeof(cb));
    cb.Size = sizeof(cb);
    cb.WHvEmulatorIoPortCallback = emu_io;
    cb.WHvEmulatorMemoryCallback = emu_memory;
    cb.WHvEmulatorGetVirtualProcessorRegisters = emu_get_regs;
    cb.WHvEmulatorSetVirtualProcessorRegisters = emu_set_regs;
    cb.WHvEmulatorTranslateGvaPage = emu_translate;
    TEST_HR(WHvEmulatorCreateEmulator(&cb, &emu->handle));
}

void guest_emu_destroy(struct guest_emu *emu)
{
    if (emu->handle)
        TEST_HR(WHvEmulatorDestroyEmulator(emu->handle));
    emu->handle = NULL;
}

void guest_emu_io(struct guest_emu *emu, const WHV_RUN_VP_EXIT_CONTEXT *exit)
{
    WHV_EMULATOR_STATUS status;

    status.AsUINT32 = 0;
    TEST_ASSERT(exit->ExitReason == WHvRunVpExitReasonX64IoPortAccess, "(exit reason %s)",
                guest_exit_reason_name(exit->ExitReason));
    TEST_HR(WHvEmulatorTryIoEmulation(emu->handle, emu, &exit->VpContext, &exit->IoPortAccess, &status));
    TEST_ASSERT(status.EmulationSuccessful, "(WHvEmulatorTryIoEmulation status 0x%x, port 0x%x, rip 0x%llx)",
                status.AsUINT32, exit->IoPortAccess.PortNumber, (unsigned long long)exit->VpContext.Rip);
}

void guest_emu_mmio(struct guest_emu *emu, const WHV_RUN_VP_EXIT_CONTEXT *exit)
{
    WHV_EMULATOR_STATUS status;

    status.AsUINT32 = 0;
    TEST_ASSERT(exit->ExitReason == WHvRunVpExitReasonMemoryAccess, "(exit reason %s)",
                guest_exit_reason_name(exit->ExitReason));
    TEST_HR(WHvEmulatorTryMmioEmulation(emu->handle, emu, &exit->VpContext, &exit->MemoryAccess, &status));
    TEST_ASSERT(status.EmulationSuccessful,
                "(WHvEmulatorTryMmioEmulation status 0x%x, gpa 0x%llx, rip 0x%llx)", status.AsUINT32,
                (unsigned long long)exit->MemoryAccess.Gpa, (unsigned long long)exit->VpContext.Rip);
}
