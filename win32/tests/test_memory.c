/* VirtualAlloc/VirtualFree/VirtualProtect: reserve then commit, zeroed commits, decommit
 * discarding contents, release of the whole region only, protections, and the errors. */
#include <windows.h>

#include "check.h"

#define PAGE 4096u
#define GRANULARITY 0x10000u

int main(void)
{
    /* Reserve + commit in one call: 64 KiB aligned, zeroed, writable. */
    BYTE *p = VirtualAlloc(NULL, 3 * PAGE + 1, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(p != NULL);
    CHECK_EQ((uintptr_t)p % GRANULARITY, 0);
    CHECK(p[0] == 0 && p[4 * PAGE - 1] == 0); /* rounded up to 4 pages */
    memset(p, 0xAB, 4 * PAGE);

    /* Decommit a page: recommitted, it reads as zero; its neighbours keep their contents. */
    CHECK(VirtualFree(p + PAGE, PAGE, MEM_DECOMMIT));
    CHECK(VirtualAlloc(p + PAGE + 10, 1, MEM_COMMIT, PAGE_READWRITE) == p + PAGE);
    CHECK(p[PAGE] == 0 && p[2 * PAGE - 1] == 0 && p[0] == 0xAB && p[2 * PAGE] == 0xAB);

    /* Recommitting committed pages keeps them. */
    CHECK(VirtualAlloc(p, PAGE, MEM_COMMIT, PAGE_READWRITE) == p);
    CHECK(p[0] == 0xAB);

    /* VirtualProtect gives the old protection; uncommitted pages refuse. */
    DWORD old = 0;
    CHECK(VirtualProtect(p, PAGE, PAGE_READONLY, &old));
    CHECK_EQ(old, PAGE_READWRITE);
    CHECK(VirtualProtect(p, PAGE, PAGE_EXECUTE_READWRITE, &old));
    CHECK_EQ(old, PAGE_READONLY);
    CHECK(VirtualFree(p + 3 * PAGE, PAGE, MEM_DECOMMIT));
    SetLastError(0);
    CHECK(!VirtualProtect(p + 2 * PAGE, 2 * PAGE, PAGE_READWRITE, &old));
    CHECK_EQ(GetLastError(), ERROR_INVALID_ADDRESS);
    CHECK(!VirtualProtect(p, PAGE, PAGE_READWRITE, NULL));
    CHECK_EQ(GetLastError(), ERROR_NOACCESS);
    CHECK(!VirtualProtect(p, PAGE, PAGE_READWRITE | PAGE_READONLY, &old));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* Release: only the base with size 0; an inner address or a size is refused. */
    CHECK(!VirtualFree(p, PAGE, MEM_RELEASE));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!VirtualFree(p + PAGE, 0, MEM_RELEASE));
    CHECK_EQ(GetLastError(), ERROR_INVALID_ADDRESS);
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    CHECK(!VirtualFree(p, 0, MEM_RELEASE)); /* already released */
    CHECK_EQ(GetLastError(), ERROR_INVALID_ADDRESS);

    /* Reserve, then commit part of it; commits outside any reservation fail. */
    BYTE *r = VirtualAlloc(NULL, 16 * PAGE, MEM_RESERVE, PAGE_NOACCESS);
    CHECK(r != NULL);
    CHECK(VirtualAlloc(r + 4 * PAGE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE) == r + 4 * PAGE);
    r[4 * PAGE] = 1;
    r[6 * PAGE - 1] = 2;
    CHECK(!VirtualProtect(r, PAGE, PAGE_READWRITE, &old)); /* reserved, not committed */
    CHECK_EQ(GetLastError(), ERROR_INVALID_ADDRESS);
    CHECK(VirtualAlloc(r + 15 * PAGE, 2 * PAGE, MEM_COMMIT, PAGE_READWRITE) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_ADDRESS);
    /* Decommit of the whole region by base and size 0, then its pages read zero again. */
    CHECK(VirtualFree(r, 0, MEM_DECOMMIT));
    CHECK(VirtualAlloc(r + 4 * PAGE, PAGE, MEM_COMMIT, PAGE_READWRITE) == r + 4 * PAGE);
    CHECK(r[4 * PAGE] == 0);
    CHECK(!VirtualFree(r + PAGE, 0, MEM_DECOMMIT));
    CHECK_EQ(GetLastError(), ERROR_INVALID_ADDRESS);

    /* Reserving at a chosen address rounds down to the granularity; an occupied one fails. */
    BYTE *want = r + 3 * PAGE; /* inside the region, free once it is released */
    CHECK(VirtualFree(r, 0, MEM_RELEASE));
    BYTE *at = VirtualAlloc(want + 100, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(at == (BYTE *)((uintptr_t)want & ~(uintptr_t)(GRANULARITY - 1)));
    CHECK(VirtualAlloc(at, PAGE, MEM_RESERVE, PAGE_READWRITE) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_ADDRESS);
    CHECK(at && VirtualFree(at, 0, MEM_RELEASE));

    /* Commit without reserve and without an address reserves too. */
    BYTE *c = VirtualAlloc(NULL, PAGE, MEM_COMMIT, PAGE_READWRITE);
    CHECK(c != NULL && c[0] == 0);
    CHECK(c && VirtualFree(c, 0, MEM_RELEASE));

    /* Parameter errors. */
    CHECK(VirtualAlloc(NULL, 0, MEM_COMMIT, PAGE_READWRITE) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(VirtualAlloc(NULL, PAGE, 0, PAGE_READWRITE) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(VirtualAlloc(NULL, PAGE, MEM_COMMIT, 0) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(VirtualAlloc(NULL, PAGE, MEM_COMMIT, PAGE_WRITECOPY) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(VirtualAlloc(NULL, PAGE, MEM_COMMIT | MEM_DECOMMIT, PAGE_READWRITE) == NULL);
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(VirtualAlloc(NULL, PAGE, MEM_COMMIT | MEM_LARGE_PAGES, PAGE_READWRITE) == NULL);
    CHECK_EQ(GetLastError(), ERROR_NOT_SUPPORTED);
    CHECK(!VirtualFree(NULL, 0, MEM_RELEASE));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    CHECK(!VirtualFree(c, 0, MEM_RELEASE | MEM_DECOMMIT));
    CHECK_EQ(GetLastError(), ERROR_INVALID_PARAMETER);

    /* The Rtl/memory macros and their exported functions. */
    char a[8] = "abcdefg", b[8];
    ZeroMemory(b, sizeof(b));
    CopyMemory(b, a, 4);
    CHECK(!memcmp(b, "abcd\0\0\0", 8));
    FillMemory(b, 2, 'z');
    MoveMemory(b + 1, b, 3);
    CHECK(!memcmp(b, "zzzc", 4));
    (RtlZeroMemory)(a, 2);
    (RtlFillMemory)(a + 2, 2, 'q');
    (RtlMoveMemory)(a + 4, a + 2, 2);
    CHECK(!memcmp(a, "\0\0qqqqg", 8));
    SecureZeroMemory(a, sizeof(a));
    CHECK(a[7] == 0);

    SYSTEM_INFO si;
    GetSystemInfo(&si);
    CHECK(si.dwPageSize == PAGE && si.dwAllocationGranularity == GRANULARITY &&
          si.dwNumberOfProcessors >= 1);
    return check_report();
}
