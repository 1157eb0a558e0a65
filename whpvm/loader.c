/* whpvm's boot-image loaders (flat binary, Multiboot 1): every image is hostile, so a load is
 * first planned and bounds-checked in full, then written to guest RAM in one pass; a failed
 * load leaves RAM untouched. Layout and entry contract: loader.h. */
#include "loader.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define PAGE 4096u
#define GPA_LIMIT (1ull << 32) /* multiboot addresses are 32-bit */
#define MAX_SEGMENTS 64        /* PT_LOAD segments; real kernels have a handful */

#define ELF_HEADER_SIZE 52u
#define ELF_PHDR_SIZE 32u
#define ELF_CLASS32 1u
#define ELF_CLASS64 2u
#define ELF_DATA_LSB 1u
#define ELF_ET_EXEC 2u
#define ELF_EM_386 3u
#define ELF_PT_LOAD 1u

#define MB_FLAG_PAGE_ALIGN (1u << 0)
#define MB_FLAG_MEMINFO (1u << 1)
#define MB_FLAG_VIDEO (1u << 2)
#define MB_FLAG_AOUT (1u << 16)
#define MB_REQUIRED_MASK 0xFFFFu /* bits 0-15: the kernel needs them; fail if unknown */
#define MB_KNOWN (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO)

#define MBI_MODULE_SIZE 16u
#define MBI_MMAP_ENTRY_SIZE 24u /* size field (4) + base (8) + length (8) + type (4) */
#define LOADER_NAME "whpvm"

struct segment {
    uint64_t gpa;
    uint64_t filesz;
    uint64_t memsz;
    size_t offset; /* in the image */
};

struct kernel_plan {
    struct segment seg[MAX_SEGMENTS];
    size_t nseg;
    uint64_t lo, hi; /* lowest and highest (exclusive) GPA over all segments */
    uint64_t entry;
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* End of a map entry, saturated instead of wrapping. */
static uint64_t entry_end(const struct loader_memmap *e)
{
    return e->length > UINT64_MAX - e->base ? UINT64_MAX : e->base + e->length;
}

/* End of the run of RAM entries that covers start (start itself when none does). Walks at most
 * nmap steps, so a map of overlapping or adjacent entries cannot loop. */
static uint64_t ram_run_end(const struct loader_memmap *map, size_t nmap, uint64_t start)
{
    uint64_t cur = start;
    for (size_t step = 0; step < nmap; step++) {
        bool advanced = false;
        for (size_t i = 0; i < nmap; i++) {
            if (map[i].type != LOADER_MEM_RAM || map[i].base > cur || entry_end(&map[i]) <= cur)
                continue;
            cur = entry_end(&map[i]);
            advanced = true;
        }
        if (!advanced)
            break;
    }
    return cur;
}

/* [start, end) lies in the RAM buffer, below 4 GiB, and in RAM entries of the map. */
static bool usable(const struct loader_memmap *map, size_t nmap, size_t ram_size, uint64_t start,
                   uint64_t end)
{
    if (end < start || end > ram_size || end > GPA_LIMIT)
        return false;
    return start == end || ram_run_end(map, nmap, start) >= end;
}

int loader_flat(const uint8_t *image, size_t size, uint8_t *ram, size_t ram_size, uint64_t load_gpa,
                struct loader_result *out)
{
    if (!image || !size || !ram || !out)
        return -EINVAL;
    if (load_gpa > ram_size || size > ram_size - load_gpa)
        return -ENOSPC;
    memcpy(ram + load_gpa, image, size);
    memset(out, 0, sizeof(*out));
    out->entry = load_gpa;
    out->image_start = load_gpa;
    out->image_end = load_gpa + size;
    out->modules_end = out->image_end;
    return 0;
}

size_t loader_memmap_default(uint64_t ram_size, struct loader_memmap *map, size_t cap)
{
    static const struct loader_memmap low[] = {
        {0, 0x9FC00, LOADER_MEM_RAM},
        {0x9FC00, 0x400, LOADER_MEM_RESERVED},
        {0xE0000, 0x20000, LOADER_MEM_RESERVED},
    };
    size_t n = 3 + (ram_size > 0x100000) + (ram_size > LOADER_LOW_RAM_LIMIT);
    if (!map || cap < n)
        return 0;
    memcpy(map, low, sizeof(low));
    if (ram_size > 0x100000) {
        uint64_t end = ram_size < LOADER_LOW_RAM_LIMIT ? ram_size : LOADER_LOW_RAM_LIMIT;
        map[3] = (struct loader_memmap){0x100000, end - 0x100000, LOADER_MEM_RAM};
    }
    if (ram_size > LOADER_LOW_RAM_LIMIT)
        map[4] = (struct loader_memmap){GPA_LIMIT, ram_size - LOADER_LOW_RAM_LIMIT, LOADER_MEM_RAM};
    return n;
}

/* Offset of a valid header in the first 8 KiB, or -ENOEXEC. */
static long find_header(const uint8_t *image, size_t size)
{
    size_t limit = size < LOADER_MB_SEARCH ? size : LOADER_MB_SEARCH;
    for (size_t off = 0; limit >= 12 && off <= limit - 12; off += 4) {
        const uint8_t *h = image + off;
        if (rd32(h) != LOADER_MB_HEADER_MAGIC)
            continue;
        if ((uint32_t)(rd32(h) + rd32(h + 4) + rd32(h + 8)) == 0)
            return (long)off;
    }
    return -ENOEXEC;
}

static int plan_aout(const uint8_t *image, size_t size, size_t hoff, struct kernel_plan *p)
{
    if (hoff + 32 > LOADER_MB_SEARCH || hoff + 32 > size)
        return -EINVAL;
    const uint8_t *h = image + hoff;
    uint64_t header_addr = rd32(h + 12), load_addr = rd32(h + 16);
    uint64_t load_end_addr = rd32(h + 20), bss_end_addr = rd32(h + 24), entry = rd32(h + 28);

    if (load_addr > header_addr || header_addr - load_addr > hoff)
        return -EINVAL;
    size_t file_off = hoff - (size_t)(header_addr - load_addr);
    uint64_t filesz = size - file_off;
    if (load_end_addr) {
        if (load_end_addr < load_addr || load_end_addr - load_addr > filesz)
            return -EINVAL;
        filesz = load_end_addr - load_addr;
    }
    if (filesz > GPA_LIMIT - load_addr)
        return -EINVAL;
    uint64_t load_end = load_addr + filesz, memsz = filesz;
    if (bss_end_addr) {
        if (bss_end_addr < load_end)
            return -EINVAL;
        memsz = bss_end_addr - load_addr;
    }
    if (entry < load_addr || entry >= load_end)
        return -EINVAL;
    p->seg[0] = (struct segment){load_addr, filesz, memsz, file_off};
    p->nseg = 1;
    p->entry = entry;
    return 0;
}

static int plan_elf(const uint8_t *image, size_t size, struct kernel_plan *p)
{
    if (size < ELF_HEADER_SIZE || memcmp(image, "\x7f" "ELF", 4) != 0)
        return -EINVAL;
    if (image[4] != ELF_CLASS32 || image[5] != ELF_DATA_LSB || image[6] != 1)
        return -EINVAL; /* ELF64, big-endian or unknown version */
    if (rd16(image + 16) != ELF_ET_EXEC || rd16(image + 18) != ELF_EM_386)
        return -EINVAL;
    uint64_t e_entry = rd32(image + 24), phoff = rd32(image + 28);
    uint64_t phentsize = rd16(image + 42), phnum = rd16(image + 44);
    if (phentsize < ELF_PHDR_SIZE || phnum == 0 || phoff > size || phnum * phentsize > size - phoff)
        return -EINVAL;

    bool have_entry = false;
    p->nseg = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *ph = image + phoff + i * phentsize;
        if (rd32(ph) != ELF_PT_LOAD)
            continue;
        uint64_t offset = rd32(ph + 4), vaddr = rd32(ph + 8), paddr = rd32(ph + 12);
        uint64_t filesz = rd32(ph + 16), memsz = rd32(ph + 20);
        if (filesz > memsz || offset > size || filesz > size - offset)
            return -EINVAL;
        if (memsz == 0)
            continue;
        if (memsz > GPA_LIMIT - paddr || memsz > GPA_LIMIT - vaddr)
            return -EINVAL;
        for (size_t j = 0; j < p->nseg; j++)
            if (paddr < p->seg[j].gpa + p->seg[j].memsz && p->seg[j].gpa < paddr + memsz)
                return -EINVAL;
        if (p->nseg == MAX_SEGMENTS)
            return -EINVAL;
        p->seg[p->nseg++] = (struct segment){paddr, filesz, memsz, (size_t)offset};
        if (!have_entry && e_entry >= vaddr && e_entry < vaddr + memsz) {
            p->entry = paddr + (e_entry - vaddr);
            have_entry = true;
        }
    }
    /* An entry given as a physical address (vaddr != paddr kernels linked that way). */
    for (size_t j = 0; !have_entry && j < p->nseg; j++) {
        if (e_entry >= p->seg[j].gpa && e_entry < p->seg[j].gpa + p->seg[j].memsz) {
            p->entry = e_entry;
            have_entry = true;
        }
    }
    return p->nseg && have_entry ? 0 : -EINVAL;
}

/* Bytes of a string, terminator included; NULL counts as "". */
static size_t str_bytes(const char *s)
{
    return s ? strlen(s) + 1 : 1;
}

static void put_str(uint8_t *ram, uint64_t gpa, const char *s)
{
    size_t n = str_bytes(s);
    if (s)
        memcpy(ram + gpa, s, n);
    else
        ram[gpa] = 0;
}

int loader_multiboot(const uint8_t *image, size_t size, const char *cmdline,
                     const struct loader_module *modules, size_t nmodules, uint8_t *ram,
                     size_t ram_size, const struct loader_memmap *map, size_t nmap,
                     struct loader_result *out)
{
    struct loader_memmap defmap[LOADER_MEMMAP_DEFAULT_MAX];
    struct kernel_plan plan;
    int r;

    if (!image || !ram || !out || (nmodules && !modules) || (nmap && !map))
        return -EINVAL;
    /* Counts whose lists could not be addressed below 4 GiB are refused before any is read. */
    if (nmodules > GPA_LIMIT / MBI_MODULE_SIZE || nmap > GPA_LIMIT / MBI_MMAP_ENTRY_SIZE)
        return -ENOSPC;
    if (!map || !nmap) {
        map = defmap;
        nmap = loader_memmap_default(ram_size, defmap, LOADER_MEMMAP_DEFAULT_MAX);
    }

    long hoff = find_header(image, size);
    if (hoff < 0)
        return (int)hoff;
    uint32_t hflags = rd32(image + hoff + 4);
    if (hflags & MB_REQUIRED_MASK & ~MB_KNOWN)
        return -ENOTSUP;
    r = hflags & MB_FLAG_AOUT ? plan_aout(image, size, (size_t)hoff, &plan)
                              : plan_elf(image, size, &plan);
    if (r)
        return r;

    plan.lo = UINT64_MAX;
    plan.hi = 0;
    for (size_t i = 0; i < plan.nseg; i++) {
        const struct segment *s = &plan.seg[i];
        if (!usable(map, nmap, ram_size, s->gpa, s->gpa + s->memsz))
            return -ENOSPC;
        plan.lo = s->gpa < plan.lo ? s->gpa : plan.lo;
        plan.hi = s->gpa + s->memsz > plan.hi ? s->gpa + s->memsz : plan.hi;
    }

    /* Modules: page-aligned after the kernel. Their strings count toward the info block. */
    const uint64_t info_window = LOADER_MB_INFO_END - LOADER_MB_INFO_BASE;
    uint64_t cursor = align_up(plan.hi, PAGE), modules_end = plan.hi;
    uint64_t strings = sizeof(LOADER_NAME) + (cmdline ? str_bytes(cmdline) : 0);
    for (size_t i = 0; i < nmodules; i++) {
        if (modules[i].size && !modules[i].data)
            return -EINVAL;
        if (cursor >= GPA_LIMIT || modules[i].size > GPA_LIMIT - cursor ||
            !usable(map, nmap, ram_size, cursor, cursor + modules[i].size))
            return -ENOSPC;
        modules_end = cursor + modules[i].size;
        cursor = align_up(modules_end, PAGE);
        strings += str_bytes(modules[i].cmdline);
        if (strings > GPA_LIMIT)
            return -ENOSPC;
    }

    /* The info block: structure, module list, memory map, then the strings. */
    uint64_t mods_off = align_up(LOADER_MBI_SIZE, 16);
    uint64_t mmap_off = mods_off + nmodules * MBI_MODULE_SIZE;
    uint64_t str_off = mmap_off + nmap * MBI_MMAP_ENTRY_SIZE;
    uint64_t info_size = str_off + strings;
    uint64_t info = LOADER_MB_INFO_BASE;
    uint64_t busy_end = align_up(modules_end, PAGE);
    if (info_size > info_window || (plan.lo < LOADER_MB_INFO_END && LOADER_MB_INFO_BASE < busy_end) ||
        !usable(map, nmap, ram_size, info, info + info_size)) {
        info = busy_end;
        if (info >= GPA_LIMIT || info_size > GPA_LIMIT - info ||
            !usable(map, nmap, ram_size, info, info + info_size))
            return -ENOSPC;
    }

    /* Everything fits: write. */
    for (size_t i = 0; i < plan.nseg; i++) {
        const struct segment *s = &plan.seg[i];
        memcpy(ram + s->gpa, image + s->offset, (size_t)s->filesz);
        memset(ram + s->gpa + s->filesz, 0, (size_t)(s->memsz - s->filesz));
    }
    memset(ram + info, 0, (size_t)info_size);
    uint8_t *mbi = ram + info;
    uint64_t str = info + str_off;
    uint32_t flags = LOADER_MBI_MEM | LOADER_MBI_MMAP | LOADER_MBI_LOADER_NAME;

    uint64_t lower = ram_run_end(map, nmap, 0), upper = ram_run_end(map, nmap, 0x100000);
    lower = lower > 0xA0000 ? 0xA0000 : lower;
    upper = (upper - 0x100000) / 1024;
    wr32(mbi + 4, (uint32_t)(lower / 1024));
    wr32(mbi + 8, upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper);

    if (cmdline) {
        flags |= LOADER_MBI_CMDLINE;
        wr32(mbi + 16, (uint32_t)str);
        put_str(ram, str, cmdline);
        str += str_bytes(cmdline);
    }

    cursor = align_up(plan.hi, PAGE);
    flags |= LOADER_MBI_MODS; /* also with no modules: mods_count 0, as GRUB does */
    wr32(mbi + 20, (uint32_t)nmodules);
    wr32(mbi + 24, (uint32_t)(info + mods_off));
    for (size_t i = 0; i < nmodules; i++) {
        uint8_t *m = mbi + mods_off + i * MBI_MODULE_SIZE;
        if (modules[i].size)
            memcpy(ram + cursor, modules[i].data, modules[i].size);
        wr32(m, (uint32_t)cursor);
        wr32(m + 4, (uint32_t)(cursor + modules[i].size));
        wr32(m + 8, (uint32_t)str);
        put_str(ram, str, modules[i].cmdline);
        str += str_bytes(modules[i].cmdline);
        cursor = align_up(cursor + modules[i].size, PAGE);
    }

    wr32(mbi + 44, (uint32_t)(nmap * MBI_MMAP_ENTRY_SIZE));
    wr32(mbi + 48, (uint32_t)(info + mmap_off));
    for (size_t i = 0; i < nmap; i++) {
        uint8_t *e = mbi + mmap_off + i * MBI_MMAP_ENTRY_SIZE;
        wr32(e, MBI_MMAP_ENTRY_SIZE - 4);
        wr64(e + 4, map[i].base);
        wr64(e + 12, map[i].length);
        wr32(e + 20, map[i].type);
    }

    wr32(mbi + 64, (uint32_t)str);
    put_str(ram, str, LOADER_NAME);
    wr32(mbi, flags);

    memset(out, 0, sizeof(*out));
    out->entry = plan.entry;
    out->eax = LOADER_MB_BOOT_MAGIC;
    out->ebx = (uint32_t)info;
    out->image_start = plan.lo;
    out->image_end = plan.hi;
    out->modules_end = modules_end;
    out->info_start = info;
    out->info_end = info + info_size;
    return 0;
}
