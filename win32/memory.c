/* VirtualAlloc/VirtualFree/VirtualProtect over mmap: a reservation is a PROT_NONE mapping on a
 * 64 KiB boundary, recorded with one byte per page (0 = reserved, else the page's PAGE_*
 * protection); committing sets the protection, decommitting discards the contents (the pages
 * read as zero when committed again), and only a whole reservation is released. */
#include "w32.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE_SIZE_BYTES 4096u
#define ALLOCATION_GRANULARITY 0x10000u
#define BASE_PROTECTIONS 0xFFu
#define IGNORED_MODIFIERS (PAGE_NOCACHE | PAGE_WRITECOMBINE)
#define ALLOC_TYPES (MEM_COMMIT | MEM_RESERVE | MEM_RESET | MEM_TOP_DOWN)
#define UNSUPPORTED_ALLOC_TYPES (MEM_WRITE_WATCH | MEM_PHYSICAL | MEM_LARGE_PAGES | MEM_RESET_UNDO)

struct region {
    uintptr_t base;
    size_t size;
    uint8_t *pages; /* per page: 0 = reserved only, else its PAGE_* base protection */
    struct region *next;
};

/* lock protects the region list and every page byte; it is held across the mmap calls so
 * that two threads cannot commit and release the same range at once. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct region *regions;

static uintptr_t align_down(uintptr_t v, uintptr_t a) { return v & ~(a - 1); }

/* PROT_* for a PAGE_* value, or -1 if it is not one protection (+ ignored modifiers) that
 * private memory can have. PAGE_GUARD cannot be expressed: ERROR_NOT_SUPPORTED. */
static int posix_protection(DWORD protect, DWORD *error)
{
    *error = ERROR_INVALID_PARAMETER;
    if (protect & PAGE_GUARD)
        *error = ERROR_NOT_SUPPORTED;
    DWORD base = protect & BASE_PROTECTIONS;
    if ((protect & ~(BASE_PROTECTIONS | IGNORED_MODIFIERS)) || (base & (base - 1)))
        return -1;
    switch (base) {
    case PAGE_NOACCESS: return PROT_NONE;
    case PAGE_READONLY: return PROT_READ;
    case PAGE_READWRITE: return PROT_READ | PROT_WRITE;
    case PAGE_EXECUTE: return PROT_EXEC;
    case PAGE_EXECUTE_READ: return PROT_READ | PROT_EXEC;
    case PAGE_EXECUTE_READWRITE: return PROT_READ | PROT_WRITE | PROT_EXEC;
    default: return -1; /* 0, and the write-copy kinds, which need a file mapping */
    }
}

/* The region holding [start, end) entirely, or NULL. */
static struct region *find_locked(uintptr_t start, uintptr_t end)
{
    for (struct region *r = regions; r; r = r->next)
        if (start >= r->base && end <= r->base + r->size && start < end)
            return r;
    return NULL;
}

/* Page range [start, end) of a request: false if it overflows. */
static bool page_range(LPVOID address, SIZE_T size, uintptr_t *start, uintptr_t *end)
{
    uintptr_t a = (uintptr_t)address;
    if (size > UINTPTR_MAX - a - PAGE_SIZE_BYTES)
        return false;
    *start = align_down(a, PAGE_SIZE_BYTES);
    *end = align_down(a + size + PAGE_SIZE_BYTES - 1, PAGE_SIZE_BYTES);
    return true;
}

/* A new PROT_NONE mapping of size bytes at base (0: anywhere, on the allocation granularity). */
static void *map_reserved(uintptr_t base, size_t size)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (base) {
        void *p = mmap((void *)base, size, PROT_NONE, flags | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != MAP_FAILED && (uintptr_t)p != base) { /* a kernel without NOREPLACE */
            munmap(p, size);
            errno = EEXIST;
            return MAP_FAILED;
        }
        return p;
    }
    size_t padded = size + ALLOCATION_GRANULARITY - PAGE_SIZE_BYTES;
    char *p = mmap(NULL, padded, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED)
        return p;
    uintptr_t aligned = align_down((uintptr_t)p + ALLOCATION_GRANULARITY - 1, ALLOCATION_GRANULARITY);
    if (aligned > (uintptr_t)p)
        munmap(p, aligned - (uintptr_t)p);
    if ((uintptr_t)p + padded > aligned + size)
        munmap((void *)(aligned + size), (uintptr_t)p + padded - aligned - size);
    return (void *)aligned;
}

static struct region *reserve_locked(uintptr_t base, size_t size)
{
    struct region *r = malloc(sizeof(*r));
    uint8_t *pages = calloc(size / PAGE_SIZE_BYTES, 1);
    void *p = r && pages ? map_reserved(base, size) : MAP_FAILED;
    if (p == MAP_FAILED) {
        int err = errno;
        w32_fail(!r || !pages || err == ENOMEM ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_ADDRESS);
        free(r);
        free(pages);
        return NULL;
    }
    *r = (struct region){(uintptr_t)p, size, pages, regions};
    regions = r;
    return r;
}

static bool commit_locked(struct region *r, uintptr_t start, uintptr_t end, int prot,
                          DWORD protect)
{
    if (mprotect((void *)start, end - start, prot) != 0)
        return w32_fail(errno == ENOMEM ? ERROR_COMMITMENT_LIMIT : w32_error_from_errno(errno));
    memset(r->pages + (start - r->base) / PAGE_SIZE_BYTES, (int)(protect & BASE_PROTECTIONS),
           (end - start) / PAGE_SIZE_BYTES);
    return true;
}

static void release_locked(struct region *r)
{
    for (struct region **p = &regions; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    munmap((void *)r->base, r->size);
    free(r->pages);
    free(r);
}

static LPVOID alloc_locked(LPVOID address, SIZE_T size, DWORD type, int prot, DWORD protect)
{
    uintptr_t start, end;
    if (!page_range(address, size, &start, &end)) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    if ((type & MEM_RESERVE) || !address) {
        /* Reserving rounds the address down to the allocation granularity. */
        start = align_down(start, ALLOCATION_GRANULARITY);
        struct region *r = reserve_locked(start, end - start);
        if (!r)
            return NULL;
        if ((type & MEM_COMMIT) && !commit_locked(r, r->base, r->base + r->size, prot, protect)) {
            release_locked(r);
            return NULL;
        }
        return (LPVOID)r->base;
    }
    struct region *r = find_locked(start, end);
    if (!r) {
        w32_fail(ERROR_INVALID_ADDRESS);
        return NULL;
    }
    if (type & MEM_RESET) {
        /* The contents are no longer needed; the pages stay committed. */
        madvise((void *)start, end - start, MADV_FREE);
        return address;
    }
    return commit_locked(r, start, end, prot, protect) ? (LPVOID)start : NULL;
}

/* ERROR_SUCCESS and the PROT_* of the request, or the error VirtualAlloc fails with. */
static DWORD check_alloc(LPVOID address, SIZE_T size, DWORD type, DWORD protect, int *prot)
{
    if (size == 0 || (type & ~(ALLOC_TYPES | UNSUPPORTED_ALLOC_TYPES)) ||
        !(type & (MEM_COMMIT | MEM_RESERVE | MEM_RESET)))
        return ERROR_INVALID_PARAMETER;
    if (type & UNSUPPORTED_ALLOC_TYPES)
        return ERROR_NOT_SUPPORTED;
    if (type & MEM_RESET) { /* alone, on committed memory; the protection is ignored */
        *prot = PROT_NONE;
        return type == MEM_RESET && address ? ERROR_SUCCESS : ERROR_INVALID_PARAMETER;
    }
    DWORD error;
    *prot = posix_protection(protect, &error);
    return *prot < 0 ? error : ERROR_SUCCESS;
}

LPVOID WINAPI VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType,
                           DWORD flProtect)
{
    int prot;
    DWORD error = check_alloc(lpAddress, dwSize, flAllocationType, flProtect, &prot);
    if (error != ERROR_SUCCESS) {
        w32_fail(error);
        return NULL;
    }
    pthread_mutex_lock(&lock);
    LPVOID p = alloc_locked(lpAddress, dwSize, flAllocationType, prot, flProtect);
    pthread_mutex_unlock(&lock);
    return p;
}

static BOOL decommit_locked(LPVOID address, SIZE_T size)
{
    uintptr_t start, end;
    struct region *r;
    if (size == 0) {
        /* Size 0 means the whole reservation, named by its base. */
        r = find_locked((uintptr_t)address, (uintptr_t)address + 1);
        if (!r || r->base != (uintptr_t)address)
            return w32_fail(ERROR_INVALID_ADDRESS);
        start = r->base;
        end = r->base + r->size;
    } else {
        if (!page_range(address, size, &start, &end))
            return w32_fail(ERROR_INVALID_PARAMETER);
        r = find_locked(start, end);
        if (!r)
            return w32_fail(ERROR_INVALID_ADDRESS);
    }
    if (madvise((void *)start, end - start, MADV_DONTNEED) != 0 ||
        mprotect((void *)start, end - start, PROT_NONE) != 0)
        return w32_fail_errno();
    memset(r->pages + (start - r->base) / PAGE_SIZE_BYTES, 0, (end - start) / PAGE_SIZE_BYTES);
    return TRUE;
}

BOOL WINAPI VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
{
    if (!lpAddress || (dwFreeType != MEM_RELEASE && dwFreeType != MEM_DECOMMIT) ||
        (dwFreeType == MEM_RELEASE && dwSize != 0))
        return w32_fail(ERROR_INVALID_PARAMETER);
    pthread_mutex_lock(&lock);
    BOOL ok;
    if (dwFreeType == MEM_DECOMMIT) {
        ok = decommit_locked(lpAddress, dwSize);
    } else {
        struct region *r = find_locked((uintptr_t)lpAddress, (uintptr_t)lpAddress + 1);
        ok = r && r->base == (uintptr_t)lpAddress;
        if (ok)
            release_locked(r);
        else
            w32_fail(ERROR_INVALID_ADDRESS);
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

BOOL WINAPI VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect,
                           PDWORD lpflOldProtect)
{
    DWORD error;
    uintptr_t start, end;
    int prot = posix_protection(flNewProtect, &error);
    if (prot < 0)
        return w32_fail(error);
    if (!lpflOldProtect)
        return w32_fail(ERROR_NOACCESS);
    if (!lpAddress || dwSize == 0 || !page_range(lpAddress, dwSize, &start, &end))
        return w32_fail(ERROR_INVALID_PARAMETER);
    pthread_mutex_lock(&lock);
    struct region *r = find_locked(start, end);
    BOOL ok = r != NULL;
    const uint8_t *first = r ? r->pages + (start - r->base) / PAGE_SIZE_BYTES : NULL;
    for (size_t i = 0; ok && i < (end - start) / PAGE_SIZE_BYTES; i++)
        ok = first[i] != 0; /* every page must be committed */
    if (!ok) {
        w32_fail(ERROR_INVALID_ADDRESS);
    } else {
        DWORD old = first[0];
        ok = commit_locked(r, start, end, prot, flNewProtect);
        if (ok)
            *lpflOldProtect = old;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

VOID WINAPI GetSystemInfo(LPSYSTEM_INFO lpSystemInfo)
{
    if (!lpSystemInfo) {
        w32_fail(ERROR_INVALID_PARAMETER);
        return;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    memset(lpSystemInfo, 0, sizeof(*lpSystemInfo));
    lpSystemInfo->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
    lpSystemInfo->dwPageSize = PAGE_SIZE_BYTES;
    lpSystemInfo->lpMinimumApplicationAddress = (LPVOID)(uintptr_t)ALLOCATION_GRANULARITY;
    lpSystemInfo->lpMaximumApplicationAddress = (LPVOID)(uintptr_t)0x7FFFFFFEFFFFull;
    lpSystemInfo->dwNumberOfProcessors = cpus > 0 ? (DWORD)cpus : 1;
    lpSystemInfo->dwActiveProcessorMask =
        lpSystemInfo->dwNumberOfProcessors >= 64 ? ~(DWORD_PTR)0
                                                 : ((DWORD_PTR)1 << lpSystemInfo->dwNumberOfProcessors) - 1;
    lpSystemInfo->dwProcessorType = PROCESSOR_AMD_X8664;
    lpSystemInfo->dwAllocationGranularity = ALLOCATION_GRANULARITY;
}

#undef RtlZeroMemory
#undef RtlFillMemory
#undef RtlCopyMemory
#undef RtlMoveMemory

VOID WINAPI RtlZeroMemory(VOID *Destination, SIZE_T Length)
{
    memset(Destination, 0, Length);
}

VOID WINAPI RtlFillMemory(VOID *Destination, SIZE_T Length, BYTE Fill)
{
    memset(Destination, Fill, Length);
}

VOID WINAPI RtlCopyMemory(VOID *Destination, const VOID *Source, SIZE_T Length)
{
    memcpy(Destination, Source, Length);
}

VOID WINAPI RtlMoveMemory(VOID *Destination, const VOID *Source, SIZE_T Length)
{
    memmove(Destination, Source, Length);
}

PVOID WINAPI RtlSecureZeroMemory(PVOID Destination, SIZE_T Length)
{
    volatile BYTE *p = Destination;
    while (Length--)
        *p++ = 0;
    return Destination;
}
