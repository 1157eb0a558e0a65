/* whpvm's boot-image loaders (flat binary, Multiboot 1, Linux bzImage): every image is hostile,
 * so a load is first planned and bounds-checked in full, then written to guest RAM in one pass;
 * a failed load leaves RAM untouched. Layout and entry contract: loader.h. */
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

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | ((uint64_t)rd32(p + 4) << 32);
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

/* Linux bzImage ------------------------------------------------------------------------------ */

#define SECTOR 512u
#define SETUP_SECTS_DEFAULT 4u /* setup_sects 0 means 4 */
#define LARGE_PAGE (2ull << 20)
#define PT_PRESENT_RW 0x3ull
#define PT_LARGE 0x80ull
#define PT_DIRECTORIES 4u /* 4 x 1 GiB */
#define PML4_GPA LOADER_LINUX_PAGE_TABLES
#define PDPT_GPA (LOADER_LINUX_PAGE_TABLES + PAGE)
#define PD_GPA (LOADER_LINUX_PAGE_TABLES + 2 * PAGE)
#define GDT_CODE64 0x00AF9A000000FFFFull /* present, DPL 0, execute/read, L, 4 GiB */
#define GDT_DATA 0x00CF92000000FFFFull   /* present, DPL 0, read/write, 32-bit, 4 GiB */
#define GDT_ENTRIES 4u                   /* null, unused, __BOOT_CS, __BOOT_DS */
#define GDTR_OFFSET 0x20u                /* in the trampoline page: limit (2), base (4) */
#define CODE_OFFSET 0x40u
#define CR4_PAE 0x20u
#define CR0_PE_PG 0x80000001u
#define MSR_EFER 0xC0000080u
#define EFER_LME 0x100u

struct linux_plan {
    size_t setup_size;   /* file offset of the protected-mode kernel */
    uint64_t file_size;  /* its bytes in the file */
    uint64_t mem_size;   /* what it needs in RAM: max(init_size, file_size) */
    uint64_t load;       /* its GPA */
    uint64_t initrd;     /* GPA of the initrd (0: none) */
    size_t hdr_end;      /* end of the setup header in the image */
    size_t cmdline_bytes;
};

/* Checks the header and the file's extent. */
static int linux_header(const uint8_t *image, size_t size, struct linux_plan *p)
{
    if (size < LOADER_LINUX_HDR_MAGIC + 4 ||
        rd16(image + LOADER_LINUX_HDR_BOOT_FLAG) != LOADER_LINUX_BOOT_FLAG ||
        rd32(image + LOADER_LINUX_HDR_MAGIC) != LOADER_LINUX_MAGIC)
        return -ENOEXEC;
    p->hdr_end = LOADER_LINUX_HDR_MAGIC + (size_t)image[LOADER_LINUX_HDR_JUMP + 1];
    if (p->hdr_end > size || p->hdr_end < LOADER_LINUX_HDR_VERSION + 2)
        return -EINVAL;
    if (rd16(image + LOADER_LINUX_HDR_VERSION) < LOADER_LINUX_MIN_VERSION)
        return -ENOTSUP;
    if (p->hdr_end < LOADER_LINUX_HDR_END_MIN + 4)
        return -EINVAL;
    if (!(image[LOADER_LINUX_HDR_LOADFLAGS] & LOADER_LINUX_LOADED_HIGH) ||
        !(rd16(image + LOADER_LINUX_HDR_XLOADFLAGS) & LOADER_LINUX_XLF_KERNEL_64))
        return -ENOTSUP;
    size_t sects = image[LOADER_LINUX_HDR_SETUP_SECTS];
    p->setup_size = ((sects ? sects : SETUP_SECTS_DEFAULT) + 1) * SECTOR;
    p->file_size = (uint64_t)rd32(image + LOADER_LINUX_HDR_SYSSIZE) * 16;
    if (p->setup_size > size || p->file_size == 0 || p->file_size > size - p->setup_size)
        return -EINVAL;
    uint64_t init_size = rd32(image + LOADER_LINUX_HDR_INIT_SIZE);
    p->mem_size = init_size > p->file_size ? init_size : p->file_size;
    return 0;
}

/* The kernel's GPA: pref_address, or for a relocatable kernel the lowest aligned fit. */
static int linux_place_kernel(const uint8_t *image, const struct loader_memmap *map, size_t nmap,
                              size_t ram_size, struct linux_plan *p)
{
    uint64_t pref = rd64(image + LOADER_LINUX_HDR_PREF_ADDRESS);
    uint64_t align = rd32(image + LOADER_LINUX_HDR_KERNEL_ALIGNMENT);
    bool relocatable = image[LOADER_LINUX_HDR_RELOCATABLE] != 0;
    if (!relocatable) {
        p->load = pref;
        return pref >= LOADER_LINUX_MIN_LOAD && pref < GPA_LIMIT &&
                       usable(map, nmap, ram_size, pref, pref + p->mem_size)
                   ? 0
                   : -ENOSPC;
    }
    if (align < PAGE || (align & (align - 1)) || align >= GPA_LIMIT)
        return -EINVAL;
    if (pref >= LOADER_LINUX_MIN_LOAD && pref < GPA_LIMIT && !(pref & (align - 1)) &&
        usable(map, nmap, ram_size, pref, pref + p->mem_size)) {
        p->load = pref;
        return 0;
    }
    p->load = UINT64_MAX;
    for (size_t i = 0; i < nmap; i++) {
        if (map[i].type != LOADER_MEM_RAM || map[i].base >= GPA_LIMIT)
            continue;
        uint64_t a = align_up(map[i].base < LOADER_LINUX_MIN_LOAD ? LOADER_LINUX_MIN_LOAD
                                                                   : map[i].base, align);
        if (a < p->load && a < GPA_LIMIT && usable(map, nmap, ram_size, a, a + p->mem_size))
            p->load = a;
    }
    return p->load == UINT64_MAX ? -ENOSPC : 0;
}

/* The initrd's GPA: page-aligned, as high as it fits below initrd_addr_max + 1 and above the
 * kernel. */
static int linux_place_initrd(const uint8_t *image, size_t initrd_size,
                              const struct loader_memmap *map, size_t nmap, size_t ram_size,
                              struct linux_plan *p)
{
    uint64_t limit = (uint64_t)rd32(image + LOADER_LINUX_HDR_INITRD_ADDR_MAX) + 1;
    uint64_t floor = p->load + p->mem_size;
    p->initrd = 0;
    for (size_t i = 0; i < nmap; i++) {
        uint64_t end = entry_end(&map[i]);
        end = end < limit ? end : limit;
        end = end < ram_size ? end : ram_size;
        if (map[i].type != LOADER_MEM_RAM || end < initrd_size)
            continue;
        uint64_t start = (end - initrd_size) & ~(uint64_t)(PAGE - 1);
        if (start >= floor && start >= map[i].base && start > p->initrd &&
            usable(map, nmap, ram_size, start, start + initrd_size))
            p->initrd = start;
    }
    return p->initrd ? 0 : -ENOSPC;
}

/* Identity map of the first 4 GiB with 2 MiB pages. */
static void linux_page_tables(uint8_t *ram)
{
    memset(ram + PML4_GPA, 0, 2 * PAGE);
    wr64(ram + PML4_GPA, PDPT_GPA | PT_PRESENT_RW);
    for (uint64_t d = 0; d < PT_DIRECTORIES; d++) {
        wr64(ram + PDPT_GPA + d * 8, (PD_GPA + d * PAGE) | PT_PRESENT_RW);
        for (uint64_t e = 0; e < PAGE / 8; e++)
            wr64(ram + PD_GPA + d * PAGE + e * 8,
                 ((d * (PAGE / 8) + e) * LARGE_PAGE) | PT_PRESENT_RW | PT_LARGE);
    }
}

static size_t emit(uint8_t *code, size_t at, const uint8_t *bytes, size_t n)
{
    memcpy(code + at, bytes, n);
    return at + n;
}

static size_t emit32(uint8_t *code, size_t at, uint32_t v)
{
    wr32(code + at, v);
    return at + 4;
}

/* The GDT and the trampoline, entered in 32-bit protected mode with paging off: load the GDT,
 * enable PAE, load CR3, set EFER.LME, enable paging, far-jump to the 64-bit code segment, load
 * the data segments, RSP, RSI, clear RBP/RDI/RBX and jump to startup_64. */
static void linux_trampoline(uint8_t *ram, const struct loader_long_mode *lm)
{
    uint8_t *page = ram + LOADER_LINUX_TRAMPOLINE;
    memset(page, 0, PAGE);
    wr64(page + LOADER_LINUX_BOOT_CS, GDT_CODE64);
    wr64(page + LOADER_LINUX_BOOT_DS, GDT_DATA);
    wr16(page + GDTR_OFFSET, lm->gdt_limit);
    wr32(page + GDTR_OFFSET + 2, (uint32_t)lm->gdt_base);

    uint8_t *c = page + CODE_OFFSET;
    size_t n = emit(c, 0, (const uint8_t[]){0x0F, 0x01, 0x15}, 3); /* lgdt [gdtr] */
    n = emit32(c, n, LOADER_LINUX_TRAMPOLINE + GDTR_OFFSET);
    n = emit(c, n, (const uint8_t[]){0x0F, 0x20, 0xE0, 0x83, 0xC8, CR4_PAE, 0x0F, 0x22, 0xE0}, 9);
    n = emit(c, n, (const uint8_t[]){0xB8}, 1); /* mov eax, cr3 value; mov cr3, eax */
    n = emit32(c, n, (uint32_t)lm->cr3);
    n = emit(c, n, (const uint8_t[]){0x0F, 0x22, 0xD8, 0xB9}, 4); /* mov ecx, EFER; rdmsr */
    n = emit32(c, n, MSR_EFER);
    n = emit(c, n, (const uint8_t[]){0x0F, 0x32, 0x0D}, 3); /* or eax, LME; wrmsr */
    n = emit32(c, n, EFER_LME);
    n = emit(c, n, (const uint8_t[]){0x0F, 0x30, 0x0F, 0x20, 0xC0, 0x0D}, 6); /* cr0 |= PE|PG */
    n = emit32(c, n, CR0_PE_PG);
    n = emit(c, n, (const uint8_t[]){0x0F, 0x22, 0xC0, 0xEA}, 4); /* ljmp cs:long64 */
    size_t target = n;
    n += 4;
    n = emit(c, n, (const uint8_t[]){(uint8_t)lm->cs, (uint8_t)(lm->cs >> 8)}, 2);
    emit32(c, target, (uint32_t)(LOADER_LINUX_TRAMPOLINE + CODE_OFFSET + n));
    n = emit(c, n, (const uint8_t[]){0xB8}, 1); /* long64: mov eax, ds; mov ds/es/ss/fs/gs */
    n = emit32(c, n, lm->ds);
    n = emit(c, n, (const uint8_t[]){0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0, 0x8E, 0xE0, 0x8E, 0xE8,
                                     0xBC}, 11); /* mov esp, rsp */
    n = emit32(c, n, (uint32_t)lm->rsp);
    n = emit(c, n, (const uint8_t[]){0xBE}, 1); /* mov esi, zero page */
    n = emit32(c, n, (uint32_t)lm->rsi);
    n = emit(c, n, (const uint8_t[]){0x31, 0xED, 0x31, 0xFF, 0x31, 0xDB, 0xB8}, 7);
    n = emit32(c, n, (uint32_t)lm->rip); /* mov eax, startup_64; jmp rax */
    emit(c, n, (const uint8_t[]){0xFF, 0xE0}, 2);
}

static void linux_zero_page(uint8_t *ram, const uint8_t *image, const struct linux_plan *p,
                            size_t initrd_size, uint64_t rsdp, const struct loader_memmap *map,
                            size_t nmap)
{
    uint8_t *bp = ram + LOADER_LINUX_ZERO_PAGE;
    size_t hdr_end = p->hdr_end < LOADER_LINUX_BP_HDR_END ? p->hdr_end : LOADER_LINUX_BP_HDR_END;
    memset(bp, 0, PAGE);
    memcpy(bp + LOADER_LINUX_HDR_SETUP_SECTS, image + LOADER_LINUX_HDR_SETUP_SECTS,
           hdr_end - LOADER_LINUX_HDR_SETUP_SECTS);
    bp[LOADER_LINUX_HDR_TYPE_OF_LOADER] = LOADER_LINUX_TYPE_OF_LOADER;
    wr32(bp + LOADER_LINUX_HDR_CODE32_START, (uint32_t)p->load);
    wr32(bp + LOADER_LINUX_HDR_CMD_LINE_PTR, LOADER_LINUX_CMDLINE);
    wr32(bp + LOADER_LINUX_HDR_RAMDISK_IMAGE, (uint32_t)p->initrd);
    wr32(bp + LOADER_LINUX_HDR_RAMDISK_SIZE, (uint32_t)initrd_size);
    wr64(bp + LOADER_LINUX_BP_ACPI_RSDP, rsdp);
    bp[LOADER_LINUX_BP_E820_ENTRIES] = (uint8_t)nmap;
    for (size_t i = 0; i < nmap; i++) {
        uint8_t *e = bp + LOADER_LINUX_BP_E820_TABLE + i * LOADER_LINUX_E820_ENTRY_SIZE;
        wr64(e, map[i].base);
        wr64(e + 8, map[i].length);
        wr32(e + 16, map[i].type);
    }
}

int loader_linux(const uint8_t *image, size_t size, const char *cmdline, const uint8_t *initrd,
                 size_t initrd_size, uint64_t rsdp, uint8_t *ram, size_t ram_size,
                 const struct loader_memmap *map, size_t nmap, struct loader_result *out)
{
    struct loader_memmap defmap[LOADER_MEMMAP_DEFAULT_MAX];
    struct linux_plan plan;
    int r;

    if (!image || !ram || !out || (initrd_size && !initrd) || (nmap && !map))
        return -EINVAL;
    if (!map || !nmap) {
        map = defmap;
        nmap = loader_memmap_default(ram_size, defmap, LOADER_MEMMAP_DEFAULT_MAX);
    }
    if ((r = linux_header(image, size, &plan)) != 0)
        return r;
    plan.initrd = 0;
    plan.cmdline_bytes = str_bytes(cmdline);
    if (plan.cmdline_bytes - 1 > rd32(image + LOADER_LINUX_HDR_CMDLINE_SIZE) ||
        plan.cmdline_bytes > LOADER_LINUX_CMDLINE_MAX)
        return -E2BIG;
    if (nmap > LOADER_LINUX_E820_MAX ||
        !usable(map, nmap, ram_size, LOADER_LINUX_ZERO_PAGE,
                LOADER_LINUX_CMDLINE + LOADER_LINUX_CMDLINE_MAX))
        return -ENOSPC;
    if ((r = linux_place_kernel(image, map, nmap, ram_size, &plan)) != 0)
        return r;
    if (initrd_size && (r = linux_place_initrd(image, initrd_size, map, nmap, ram_size, &plan)))
        return r;

    memset(out, 0, sizeof(*out));
    struct loader_long_mode *lm = &out->long_mode;
    lm->rip = plan.load + LOADER_LINUX_ENTRY64;
    lm->rsi = LOADER_LINUX_ZERO_PAGE;
    lm->rsp = LOADER_LINUX_PAGE_TABLES; /* the top of the trampoline page */
    lm->cr3 = PML4_GPA;
    lm->gdt_base = LOADER_LINUX_TRAMPOLINE;
    lm->gdt_limit = GDT_ENTRIES * 8 - 1;
    lm->cs = LOADER_LINUX_BOOT_CS;
    lm->ds = LOADER_LINUX_BOOT_DS;

    memcpy(ram + plan.load, image + plan.setup_size, (size_t)plan.file_size);
    if (initrd_size)
        memcpy(ram + plan.initrd, initrd, initrd_size);
    linux_zero_page(ram, image, &plan, initrd_size, rsdp, map, nmap);
    linux_trampoline(ram, lm);
    linux_page_tables(ram);
    memset(ram + LOADER_LINUX_CMDLINE, 0, LOADER_LINUX_CMDLINE_MAX);
    put_str(ram, LOADER_LINUX_CMDLINE, cmdline);

    out->entry = LOADER_LINUX_TRAMPOLINE + CODE_OFFSET;
    out->image_start = plan.load;
    out->image_end = plan.load + plan.mem_size;
    out->initrd_start = plan.initrd;
    out->initrd_end = initrd_size ? plan.initrd + initrd_size : 0;
    out->modules_end = initrd_size ? out->initrd_end : out->image_end;
    out->info_start = LOADER_LINUX_ZERO_PAGE;
    out->info_end = LOADER_LINUX_CMDLINE + LOADER_LINUX_CMDLINE_MAX;
    return 0;
}
