/* LoadLibrary/GetProcAddress/FreeLibrary: the WHP DLL names resolve to openwhp itself (the
 * returned WHvCreatePartition is the library's function), other names go to dlopen, and the
 * shared layer exports the Windows names to dlopen users. */
#include <WinHvEmulation.h>
#include <WinHvPlatform.h>
#include <windows.h>

#include <dlfcn.h>

#include "check.h"

typedef HRESULT(WINAPI *CreatePartitionFn)(WHV_PARTITION_HANDLE *);

int main(void)
{
    static const char *names[] = {"winhvplatform.dll", "WinHvPlatform.dll", "WINHVPLATFORM",
                                  "C:\\Windows\\System32\\WinHvPlatform.dll"};
    HMODULE first = NULL;
    for (size_t i = 0; i < ARRAYSIZE(names); i++) {
        HMODULE h = LoadLibraryA(names[i]);
        CHECK(h != NULL);
        if (!first)
            first = h;
        CHECK(h == first); /* one module, counted */
        FARPROC p = GetProcAddress(h, "WHvCreatePartition");
        CHECK(p != NULL && (CreatePartitionFn)p == WHvCreatePartition);
    }
    CHECK((void *)GetProcAddress(first, "WHvRunVirtualProcessor") == (void *)WHvRunVirtualProcessor);
    CHECK((void *)GetProcAddress(first, "WHvGetCapability") == (void *)WHvGetCapability);
    CHECK(GetProcAddress(first, "WHvEmulatorCreateEmulator") == NULL); /* other DLL */
    CHECK_EQ(GetLastError(), ERROR_PROC_NOT_FOUND);
    CHECK(GetProcAddress(first, "OpenWhpCreateEvent") == NULL); /* not a Windows export */
    CHECK(GetProcAddress(first, (LPCSTR)(uintptr_t)1) == NULL); /* ordinals */
    CHECK_EQ(GetLastError(), ERROR_PROC_NOT_FOUND);
    CHECK(GetProcAddress(first, NULL) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    static const WCHAR wname[] = {'W', 'i', 'n', 'H', 'v', 'E', 'm', 'u', 'l', 'a', 't', 'i',
                                  'o', 'n', '.', 'd', 'l', 'l', 0};
    HMODULE emu = LoadLibraryW(wname);
    CHECK(emu != NULL && emu != first);
    CHECK((void *)GetProcAddress(emu, "WHvEmulatorTryIoEmulation") == (void *)WHvEmulatorTryIoEmulation);

    /* The count: four loads need four frees; then the module is gone. */
    for (size_t i = 0; i < ARRAYSIZE(names); i++)
        CHECK(FreeLibrary(first));
    CHECK(!FreeLibrary(first));
    CHECK_EQ(GetLastError(), ERROR_MOD_NOT_FOUND);
    CHECK(GetProcAddress(first, "WHvCreatePartition") == NULL);
    CHECK_EQ(GetLastError(), ERROR_MOD_NOT_FOUND);
    CHECK(FreeLibrary(emu));

    /* Another library goes to dlopen. */
    HMODULE libc = LoadLibraryA("libc.so.6");
    CHECK(libc != NULL);
    CHECK((void *)GetProcAddress(libc, "strlen") != NULL);
    CHECK(GetProcAddress(libc, "no_such_function_here") == NULL);
    CHECK_EQ(GetLastError(), ERROR_PROC_NOT_FOUND);
    CHECK(FreeLibrary(libc));
    CHECK(LoadLibraryA("no-such-library.dll") == NULL);
    CHECK_EQ(GetLastError(), ERROR_MOD_NOT_FOUND);
    CHECK(LoadLibraryA(NULL) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!FreeLibrary(NULL));

    /* dlopen users of the shared layer find the Windows names and the same answers. */
    void *so = dlopen(W32_SHARED_LAYER, RTLD_NOW | RTLD_LOCAL);
    CHECK(so != NULL);
    if (so) {
        HMODULE(WINAPI * load)(LPCSTR) = (HMODULE(WINAPI *)(LPCSTR))dlsym(so, "LoadLibraryA");
        FARPROC(WINAPI * get)(HMODULE, LPCSTR) =
            (FARPROC(WINAPI *)(HMODULE, LPCSTR))dlsym(so, "GetProcAddress");
        CHECK(load && get && dlsym(so, "CreateEventA") && dlsym(so, "VirtualAlloc") &&
              dlsym(so, "InterlockedIncrement") && dlsym(so, "_BitScanForward64"));
        if (load && get) {
            HMODULE h = load("winhvplatform.dll");
            CHECK(h && get(h, "WHvCreatePartition") != NULL);
        }
        dlclose(so);
    }
    return check_report();
}
