/* whp_sample: a WHP program written the way Windows samples are - <Windows.h>, the API loaded
 * with LoadLibrary("winhvplatform.dll") + GetProcAddress, guest RAM from VirtualAlloc, the VP
 * run on a CreateThread thread that signals a CreateEvent event, WaitForSingleObject,
 * CloseHandle, GetLastError. The guest is real-mode code that writes "Hi" to port 0xE9 and
 * halts. The same file is valid C and C++ (whp_sample.cpp includes it). Build:
 *   cc whp_sample.c $(pkg-config --cflags --libs winhvplatform-win32)
 * Exit status: 0 when the guest ran, 77 when no hypervisor is usable, 1 on an error. */
#include <Windows.h>
#include <WinHvPlatform.h>

#define GUEST_RAM_SIZE 0x10000
#define GUEST_CODE 0x1000
#define CONSOLE_PORT 0xE9
#define EXIT_SKIP 77

/* mov al, 'H' ; out 0xE9, al ; mov al, 'i' ; out 0xE9, al ; mov al, 10 ; out 0xE9, al ; hlt */
static const BYTE GuestCode[] = {0xB0, 'H', 0xE6, CONSOLE_PORT, 0xB0, 'i', 0xE6, CONSOLE_PORT,
                                 0xB0, 0x0A, 0xE6, CONSOLE_PORT, 0xF4};

typedef HRESULT(WINAPI *PFN_WHV_GET_CAPABILITY)(WHV_CAPABILITY_CODE, VOID *, UINT32, UINT32 *);

typedef struct _VM {
    WHV_PARTITION_HANDLE Partition;
    HANDLE Done;
    HRESULT Result;
    CHAR Output[16];
    UINT32 OutputLength;
} VM;

static DWORD WINAPI RunVp(LPVOID Parameter)
{
    VM *Vm = (VM *)Parameter;
    for (;;) {
        WHV_RUN_VP_EXIT_CONTEXT Exit;
        Vm->Result = WHvRunVirtualProcessor(Vm->Partition, 0, &Exit, sizeof(Exit));
        if (FAILED(Vm->Result))
            break;
        if (Exit.ExitReason == WHvRunVpExitReasonX64Halt)
            break;
        if (Exit.ExitReason != WHvRunVpExitReasonX64IoPortAccess ||
            Exit.IoPortAccess.PortNumber != CONSOLE_PORT) {
            Vm->Result = E_UNEXPECTED;
            break;
        }
        if (Vm->OutputLength < sizeof(Vm->Output) - 1)
            Vm->Output[Vm->OutputLength++] = (CHAR)Exit.IoPortAccess.Rax;
        /* Retire the OUT: RIP past the instruction. */
        WHV_REGISTER_NAME Name = WHvX64RegisterRip;
        WHV_REGISTER_VALUE Value;
        ZeroMemory(&Value, sizeof(Value));
        Value.Reg64 = Exit.VpContext.Rip + Exit.VpContext.InstructionLength;
        Vm->Result = WHvSetVirtualProcessorRegisters(Vm->Partition, 0, &Name, 1, &Value);
        if (FAILED(Vm->Result))
            break;
    }
    SetEvent(Vm->Done);
    return SUCCEEDED(Vm->Result) ? 0 : 1;
}

#define CHECK_HR(call)                                                                             \
    do {                                                                                           \
        HRESULT hr_ = (call);                                                                      \
        if (FAILED(hr_)) {                                                                         \
            printf("whp_sample: %s failed: 0x%08lx\n", #call, (unsigned long)hr_);                 \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void)
{
    /* The Windows way to find out whether WHP is there at all. */
    HMODULE WinHvPlatform = LoadLibraryA("WinHvPlatform.dll");
    if (WinHvPlatform == NULL) {
        printf("whp_sample: LoadLibrary failed: %lu\n", (unsigned long)GetLastError());
        return 1;
    }
    PFN_WHV_GET_CAPABILITY GetCapability =
        (PFN_WHV_GET_CAPABILITY)GetProcAddress(WinHvPlatform, "WHvGetCapability");
    if (GetCapability == NULL) {
        printf("whp_sample: GetProcAddress failed: %lu\n", (unsigned long)GetLastError());
        return 1;
    }
    WHV_CAPABILITY Capability;
    UINT32 Written;
    ZeroMemory(&Capability, sizeof(Capability));
    CHECK_HR(GetCapability(WHvCapabilityCodeHypervisorPresent, &Capability, sizeof(Capability),
                           &Written));
    if (!Capability.HypervisorPresent) {
        printf("SKIP: no hypervisor (is /dev/kvm usable?)\n");
        FreeLibrary(WinHvPlatform);
        return EXIT_SKIP;
    }

    BYTE *Ram = (BYTE *)VirtualAlloc(NULL, GUEST_RAM_SIZE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (Ram == NULL) {
        printf("whp_sample: VirtualAlloc failed: %lu\n", (unsigned long)GetLastError());
        return 1;
    }
    CopyMemory(Ram + GUEST_CODE, GuestCode, sizeof(GuestCode));

    VM Vm;
    ZeroMemory(&Vm, sizeof(Vm));
    CHECK_HR(WHvCreatePartition(&Vm.Partition));
    WHV_PARTITION_PROPERTY Property;
    ZeroMemory(&Property, sizeof(Property));
    Property.ProcessorCount = 1;
    CHECK_HR(WHvSetPartitionProperty(Vm.Partition, WHvPartitionPropertyCodeProcessorCount,
                                     &Property, sizeof(Property)));
    CHECK_HR(WHvSetupPartition(Vm.Partition));
    /* In C++ the flags combine through DEFINE_ENUM_FLAG_OPERATORS, as with the SDK. */
    CHECK_HR(WHvMapGpaRange(Vm.Partition, Ram, 0, GUEST_RAM_SIZE,
                            WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite |
                                WHvMapGpaRangeFlagExecute));
    CHECK_HR(WHvCreateVirtualProcessor(Vm.Partition, 0, 0));

    WHV_REGISTER_NAME Names[] = {WHvX64RegisterCs, WHvX64RegisterRip, WHvX64RegisterRflags};
    WHV_REGISTER_VALUE Values[RTL_NUMBER_OF(Names)];
    CHECK_HR(WHvGetVirtualProcessorRegisters(Vm.Partition, 0, Names, RTL_NUMBER_OF(Names), Values));
    Values[0].Segment.Base = 0;
    Values[0].Segment.Selector = 0;
    Values[1].Reg64 = GUEST_CODE;
    Values[2].Reg64 = 0x2;
    CHECK_HR(WHvSetVirtualProcessorRegisters(Vm.Partition, 0, Names, RTL_NUMBER_OF(Names), Values));

    Vm.Done = CreateEventA(NULL, TRUE, FALSE, NULL);
    if (Vm.Done == NULL) {
        printf("whp_sample: CreateEvent failed: %lu\n", (unsigned long)GetLastError());
        return 1;
    }
    DWORD ThreadId;
    HANDLE Thread = CreateThread(NULL, 0, RunVp, &Vm, 0, &ThreadId);
    if (Thread == NULL) {
        printf("whp_sample: CreateThread failed: %lu\n", (unsigned long)GetLastError());
        return 1;
    }
    if (WaitForSingleObject(Vm.Done, 10000) != WAIT_OBJECT_0) {
        printf("whp_sample: the VP did not finish\n");
        WHvCancelRunVirtualProcessor(Vm.Partition, 0, 0);
    }
    WaitForSingleObject(Thread, INFINITE);
    DWORD ExitCode = STILL_ACTIVE;
    GetExitCodeThread(Thread, &ExitCode);
    CloseHandle(Thread);
    CloseHandle(Vm.Done);
    if (!CloseHandle(Vm.Done) && GetLastError() != ERROR_INVALID_HANDLE)
        ExitCode = 1; /* a second close must fail with ERROR_INVALID_HANDLE */

    WHvDeletePartition(Vm.Partition);
    VirtualFree(Ram, 0, MEM_RELEASE);
    FreeLibrary(WinHvPlatform);

    Vm.Output[Vm.OutputLength] = '\0';
    printf("guest (VP thread %lu) says: %s", (unsigned long)ThreadId, Vm.Output);
    if (FAILED(Vm.Result) || ExitCode != 0 || strcmp(Vm.Output, "Hi\n") != 0) {
        printf("whp_sample: failed (hr 0x%08lx)\n", (unsigned long)Vm.Result);
        return 1;
    }
    return 0;
}
