/* Unit tests of whpvm's boot-image loaders: multiboot images built here (a.out kludge and ELF32)
 * and synthetic Linux bzImages are loaded and the info structure or zero page, command line,
 * modules or initrd, memory map, page tables and trampoline checked byte by byte;
 * truncated, garbage and adversarial images must fail cleanly and leave guest RAM untouched. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../whpvm/loader.c"

#include "check.h"

#define RAM_SIZE (8u << 20)
#define KBASE 0x100000u

static uint8_t *ram;
static uint8_t *snapshot;

static uint32_t get32(const uint8_t *p)
{
    return rd32(p);
}

static uint64_t get64(const uint8_t *p)
{
    return rd32(p) | ((uint64_t)rd32(p + 4) << 32);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* A multiboot header at image + off, with the a.out fields when flags has bit 16. */
static void mb_header(uint8_t *image, size_t off, uint32_t flags, uint32_t header_addr,
                      uint32_t load_addr, uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    uint8_t *h = image + off;
    wr32(h, LOADER_MB_HEADER_MAGIC);
    wr32(h + 4, flags);
    wr32(h + 8, (uint32_t)(0u - LOADER_MB_HEADER_MAGIC - flags));
    if (flags & MB_FLAG_AOUT) {
        wr32(h + 12, header_addr);
        wr32(h + 16, load_addr);
        wr32(h + 20, load_end);
        wr32(h + 24, bss_end);
        wr32(h + 28, entry);
    }
}

/* An a.out-kludge kernel: header at offset 0, 0x300 bytes of text+data, 0x1800 of bss, loaded at
 * KBASE, entry at KBASE + 0x40. */
#define AOUT_SIZE 0x300u
#define AOUT_BSS 0x1800u
static void make_aout(uint8_t *image)
{
    for (size_t i = 0; i < AOUT_SIZE; i++)
        image[i] = (uint8_t)(i * 7 + 1);
    mb_header(image, 0, MB_FLAG_AOUT | MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO, KBASE, KBASE,
              KBASE + AOUT_SIZE, KBASE + AOUT_SIZE + AOUT_BSS, KBASE + 0x40);
}

/* An ELF32 kernel: a higher-half text segment (vaddr 0xC0100000, paddr KBASE, 0x200 bytes at file
 * offset 0x1000) and a data segment (paddr KBASE + 0x2000, 0x100 bytes at 0x1200, memsz 0x800). */
#define ELF_SIZE 0x1300u
#define ELF_VBASE 0xC0100000u
static void elf_phdr(uint8_t *image, unsigned i, uint32_t type, uint32_t off, uint32_t vaddr,
                     uint32_t paddr, uint32_t filesz, uint32_t memsz)
{
    uint8_t *ph = image + 52 + i * 32;
    wr32(ph, type);
    wr32(ph + 4, off);
    wr32(ph + 8, vaddr);
    wr32(ph + 12, paddr);
    wr32(ph + 16, filesz);
    wr32(ph + 20, memsz);
    wr32(ph + 24, 5);
    wr32(ph + 28, 0x1000);
}

static void make_elf(uint8_t *image)
{
    memset(image, 0, ELF_SIZE);
    memcpy(image, "\x7f" "ELF", 4);
    image[4] = 1;
    image[5] = 1;
    image[6] = 1;
    put16(image + 16, 2);
    put16(image + 18, 3);
    wr32(image + 20, 1);
    wr32(image + 24, ELF_VBASE + 0x10);
    wr32(image + 28, 52);
    put16(image + 40, 52);
    put16(image + 42, 32);
    put16(image + 44, 3);
    elf_phdr(image, 0, ELF_PT_LOAD, 0x1000, ELF_VBASE, KBASE, 0x200, 0x200);
    elf_phdr(image, 1, 4 /* PT_NOTE */, 0, 0, 0, 0, 0);
    elf_phdr(image, 2, ELF_PT_LOAD, 0x1200, ELF_VBASE + 0x2000, KBASE + 0x2000, 0x100, 0x800);
    mb_header(image, 0x100, MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO, 0, 0, 0, 0, 0);
    for (size_t i = 0x1000; i < ELF_SIZE; i++)
        image[i] = (uint8_t)(i * 13 + 5);
}

static void fill_ram(void)
{
    memset(ram, 0xAA, RAM_SIZE);
    memcpy(snapshot, ram, RAM_SIZE);
}

static int ram_untouched(void)
{
    return memcmp(ram, snapshot, RAM_SIZE) == 0;
}

static int load(const uint8_t *image, size_t size, struct loader_result *res)
{
    return loader_multiboot(image, size, "kernel arg=1", NULL, 0, ram, RAM_SIZE, NULL, 0, res);
}

/* Expects err and RAM untouched. */
static int load_fails(const uint8_t *image, size_t size, int err)
{
    struct loader_result res;
    fill_ram();
    int r = load(image, size, &res);
    if (r != err)
        printf("  got %d, want %d\n", r, err);
    return r == err && ram_untouched();
}

static void test_flat(void)
{
    static const uint8_t code[] = {0xF4, 0xEB, 0xFE, 0x90};
    struct loader_result res;
    fill_ram();
    CHECK(loader_flat(code, sizeof(code), ram, RAM_SIZE, 0x7C00, &res) == 0);
    CHECK(memcmp(ram + 0x7C00, code, sizeof(code)) == 0);
    CHECK(ram[0x7C00 + sizeof(code)] == 0xAA && ram[0x7BFF] == 0xAA);
    CHECK(res.entry == 0x7C00 && res.eax == 0 && res.ebx == 0);
    CHECK(res.image_start == 0x7C00 && res.image_end == 0x7C04);
    CHECK(loader_flat(code, sizeof(code), ram, RAM_SIZE, RAM_SIZE - 4, &res) == 0);
    CHECK(loader_flat(code, sizeof(code), ram, RAM_SIZE, RAM_SIZE - 3, &res) == -ENOSPC);
    CHECK(loader_flat(code, sizeof(code), ram, RAM_SIZE, UINT64_MAX - 1, &res) == -ENOSPC);
    CHECK(loader_flat(code, SIZE_MAX, ram, RAM_SIZE, 0, &res) == -ENOSPC);
    CHECK(loader_flat(code, 0, ram, RAM_SIZE, 0, &res) == -EINVAL);
    CHECK(loader_flat(NULL, 4, ram, RAM_SIZE, 0, &res) == -EINVAL);
}

static void test_default_memmap(void)
{
    struct loader_memmap m[4];
    CHECK(loader_memmap_default(RAM_SIZE, m, 4) == 4);
    CHECK(m[0].base == 0 && m[0].length == 0x9FC00 && m[0].type == LOADER_MEM_RAM);
    CHECK(m[1].base == 0x9FC00 && m[1].length == 0x400 && m[1].type == LOADER_MEM_RESERVED);
    CHECK(m[2].base == 0xE0000 && m[2].length == 0x20000 && m[2].type == LOADER_MEM_RESERVED);
    CHECK(m[3].base == 0x100000 && m[3].length == RAM_SIZE - 0x100000 && m[3].type == 1);
    CHECK(loader_memmap_default(RAM_SIZE, m, 3) == 0);
    CHECK(loader_memmap_default(0x80000, m, 4) == 3);
    struct loader_memmap big[LOADER_MEMMAP_DEFAULT_MAX];
    CHECK(loader_memmap_default(5ull << 30, big, 4) == 0);
    CHECK(loader_memmap_default(5ull << 30, big, LOADER_MEMMAP_DEFAULT_MAX) == 5);
    CHECK(big[3].base == 0x100000 && big[3].length == 0xC0000000ull - 0x100000);
    CHECK(big[4].base == 1ull << 32 && big[4].length == (2ull << 30) && big[4].type == 1);
    CHECK(loader_memmap_default(0xC0000000ull, big, 4) == 4 && big[3].length == 0xBFF00000ull);
}

static void test_aout(void)
{
    static uint8_t image[AOUT_SIZE];
    static const uint8_t mod0[] = "module zero contents";
    static uint8_t mod1[5000];
    struct loader_module mods[3] = {
        {mod0, sizeof(mod0), "/boot/mod0 a=b"},
        {mod1, sizeof(mod1), NULL},
        {NULL, 0, "empty"},
    };
    struct loader_result res;

    for (size_t i = 0; i < sizeof(mod1); i++)
        mod1[i] = (uint8_t)(i ^ 0x5A);
    make_aout(image);
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), "console=ttyS0 quiet", mods, 3, ram, RAM_SIZE,
                           NULL, 0, &res) == 0);
    CHECK(memcmp(ram + KBASE, image, AOUT_SIZE) == 0);
    int bss_zero = 1;
    for (size_t i = 0; i < AOUT_BSS; i++)
        bss_zero &= ram[KBASE + AOUT_SIZE + i] == 0;
    CHECK(bss_zero);
    CHECK(ram[KBASE + AOUT_SIZE + AOUT_BSS] == 0xAA && ram[KBASE - 1] == 0xAA);
    CHECK(res.entry == KBASE + 0x40);
    CHECK(res.eax == 0x2BADB002u);
    CHECK(res.ebx == LOADER_MB_INFO_BASE);
    CHECK(res.image_start == KBASE && res.image_end == KBASE + AOUT_SIZE + AOUT_BSS);

    const uint8_t *mbi = ram + res.ebx;
    CHECK(get32(mbi) == (LOADER_MBI_MEM | LOADER_MBI_CMDLINE | LOADER_MBI_MODS | LOADER_MBI_MMAP |
                         LOADER_MBI_LOADER_NAME));
    CHECK(get32(mbi + 4) == 639);
    CHECK(get32(mbi + 8) == (RAM_SIZE - 0x100000) / 1024);
    CHECK(get32(mbi + 12) == 0); /* boot_device not given */
    CHECK(strcmp((const char *)ram + get32(mbi + 16), "console=ttyS0 quiet") == 0);
    CHECK(get32(mbi + 20) == 3);
    int zero_tail = 1;
    for (unsigned off = 28; off < LOADER_MBI_SIZE; off++)
        zero_tail &= off == 44 || off == 48 || off == 64 || (off > 44 && off < 52) ||
                     (off > 64 && off < 68) || mbi[off] == 0;
    CHECK(zero_tail);

    /* Modules: page-aligned after the kernel's bss, contents and strings. */
    const uint8_t *m = ram + get32(mbi + 24);
    uint32_t kend = KBASE + AOUT_SIZE + AOUT_BSS;
    uint32_t m0 = (kend + 4095) & ~4095u, m1 = (m0 + (uint32_t)sizeof(mod0) + 4095) & ~4095u;
    uint32_t m2 = (m1 + (uint32_t)sizeof(mod1) + 4095) & ~4095u;
    CHECK(get32(m) == m0 && get32(m + 4) == m0 + sizeof(mod0));
    CHECK(memcmp(ram + m0, mod0, sizeof(mod0)) == 0);
    CHECK(strcmp((const char *)ram + get32(m + 8), "/boot/mod0 a=b") == 0);
    CHECK(get32(m + 12) == 0);
    CHECK(get32(m + 16) == m1 && get32(m + 20) == m1 + sizeof(mod1));
    CHECK(memcmp(ram + m1, mod1, sizeof(mod1)) == 0);
    CHECK(get32(m + 24) != 0 && ram[get32(m + 24)] == 0);
    CHECK(get32(m + 32) == m2 && get32(m + 36) == m2);
    CHECK(strcmp((const char *)ram + get32(m + 40), "empty") == 0);
    CHECK(res.modules_end == m2);

    /* The memory map: the default one, 24-byte records with size 20. */
    CHECK(get32(mbi + 44) == 4 * 24);
    const uint8_t *e = ram + get32(mbi + 48);
    static const uint64_t want[4][3] = {{0, 0x9FC00, 1},
                                        {0x9FC00, 0x400, 2},
                                        {0xE0000, 0x20000, 2},
                                        {0x100000, RAM_SIZE - 0x100000, 1}};
    for (int i = 0; i < 4; i++, e += 24) {
        CHECK(get32(e) == 20);
        CHECK(get64(e + 4) == want[i][0] && get64(e + 12) == want[i][1] &&
              get32(e + 20) == want[i][2]);
    }
    CHECK(strcmp((const char *)ram + get32(mbi + 64), "whpvm") == 0);

    /* The whole info block lies inside [info_start, info_end), in the low window. */
    CHECK(res.info_start == LOADER_MB_INFO_BASE && res.info_end <= LOADER_MB_INFO_END);
    CHECK(get32(mbi + 16) < res.info_end && get32(mbi + 48) + 96 <= res.info_end);
    CHECK(ram[res.info_end] == 0xAA);
}

static void test_aout_variants(void)
{
    static uint8_t image[0x2000];
    struct loader_result res;

    /* Header at offset 0x1000, text loaded from file offset 0x800: header_addr - load_addr = 0x800. */
    memset(image, 0x11, sizeof(image));
    mb_header(image, 0x1000, MB_FLAG_AOUT, 0x200800, 0x200000, 0, 0, 0x200900);
    fill_ram();
    CHECK(load(image, sizeof(image), &res) == 0);
    CHECK(memcmp(ram + 0x200000, image + 0x800, 0x1800) == 0);
    CHECK(ram[0x200000 + 0x1800] == 0xAA);
    CHECK(res.entry == 0x200900 && res.image_end == 0x201800);
    /* No cmdline: flag clear; no modules: mods present with count 0. */
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), NULL, NULL, 0, ram, RAM_SIZE, NULL, 0, &res) == 0);
    CHECK(!(get32(ram + res.ebx) & LOADER_MBI_CMDLINE) && get32(ram + res.ebx + 16) == 0);
    CHECK((get32(ram + res.ebx) & LOADER_MBI_MODS) && get32(ram + res.ebx + 20) == 0);
    /* The video flag is accepted (no video info given). */
    mb_header(image, 0x1000, MB_FLAG_AOUT | MB_FLAG_VIDEO, 0x200800, 0x200000, 0, 0, 0x200900);
    fill_ram();
    CHECK(load(image, sizeof(image), &res) == 0);
    CHECK(!(get32(ram + res.ebx) & ((1u << 11) | (1u << 12))));
}

static void test_elf(void)
{
    static uint8_t image[ELF_SIZE];
    struct loader_result res;
    make_elf(image);
    fill_ram();
    CHECK(load(image, sizeof(image), &res) == 0);
    CHECK(memcmp(ram + KBASE, image + 0x1000, 0x200) == 0);
    CHECK(ram[KBASE + 0x200] == 0xAA);
    CHECK(memcmp(ram + KBASE + 0x2000, image + 0x1200, 0x100) == 0);
    int bss_zero = 1;
    for (size_t i = 0x100; i < 0x800; i++)
        bss_zero &= ram[KBASE + 0x2000 + i] == 0;
    CHECK(bss_zero);
    CHECK(ram[KBASE + 0x2800] == 0xAA);
    CHECK(res.entry == KBASE + 0x10); /* translated from the virtual entry */
    CHECK(res.image_start == KBASE && res.image_end == KBASE + 0x2800);
    CHECK(res.eax == 0x2BADB002u && res.ebx == LOADER_MB_INFO_BASE);
    CHECK(strcmp((const char *)ram + get32(ram + res.ebx + 16), "kernel arg=1") == 0);

    /* Entry given as a physical address also works. */
    wr32(image + 24, KBASE + 0x20);
    CHECK(load(image, sizeof(image), &res) == 0 && res.entry == KBASE + 0x20);
}

static void test_memmap_given(void)
{
    static uint8_t image[AOUT_SIZE];
    struct loader_memmap map[] = {
        {0x100000, 0x100000, LOADER_MEM_RAM}, /* adjacent entries count as one run */
        {0x200000, 0x300000, LOADER_MEM_RAM},
        {0x500000, 0x1000, LOADER_MEM_ACPI},
        {0x501000, 0x100000, LOADER_MEM_RAM},
        {0, 0x80000, LOADER_MEM_RAM},
    };
    struct loader_result res;
    make_aout(image);
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), "", NULL, 0, ram, RAM_SIZE, map, 5, &res) == 0);
    const uint8_t *mbi = ram + res.ebx;
    CHECK(res.ebx == LOADER_MB_INFO_BASE);
    CHECK(get32(mbi + 4) == 0x80000 / 1024);
    CHECK(get32(mbi + 8) == 0x400000 / 1024);
    CHECK(get32(mbi + 44) == 5 * 24);
    const uint8_t *e = ram + get32(mbi + 48);
    for (int i = 0; i < 5; i++, e += 24)
        CHECK(get32(e) == 20 && get64(e + 4) == map[i].base && get64(e + 12) == map[i].length &&
              get32(e + 20) == map[i].type);
    CHECK((get32(mbi) & LOADER_MBI_CMDLINE) && ram[get32(mbi + 16)] == 0);

    /* Low memory missing from the map: the info block goes after the kernel. */
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), "x", NULL, 0, ram, RAM_SIZE, map, 4, &res) == 0);
    CHECK(res.ebx == ((KBASE + AOUT_SIZE + AOUT_BSS + 4095) & ~4095u));
    CHECK(get32(ram + res.ebx + 4) == 0);
    /* The kernel in a reserved range. */
    struct loader_memmap holes[] = {{0, 0x9FC00, 1}, {0x100000, 0x1000, 1}};
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), "x", NULL, 0, ram, RAM_SIZE, holes, 2, &res) ==
          -ENOSPC);
    CHECK(ram_untouched());
    /* A map with wrapping and duplicated entries does not confuse the walk. */
    struct loader_memmap odd[] = {{0, UINT64_MAX, 1}, {UINT64_MAX - 5, 100, 1}, {0, 0, 1}};
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), "x", NULL, 0, ram, RAM_SIZE, odd, 3, &res) == 0);
    CHECK(get32(ram + res.ebx + 4) == 640 && get32(ram + res.ebx + 8) == UINT32_MAX);
}

static void test_info_fallback(void)
{
    /* A kernel loaded at 0x20000, inside the low window: the info block follows the modules. */
    static uint8_t image[0x100];
    static const uint8_t mod[] = "abc";
    struct loader_module mods[1] = {{mod, sizeof(mod), "m"}};
    struct loader_result res;
    memset(image, 0x90, sizeof(image));
    mb_header(image, 0, MB_FLAG_AOUT, 0x20000, 0x20000, 0x20100, 0x21000, 0x20040);
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), "c", mods, 1, ram, RAM_SIZE, NULL, 0, &res) == 0);
    CHECK(get32(ram + res.ebx + 24) > 0 && get32(ram + get32(ram + res.ebx + 24)) == 0x21000);
    CHECK(res.modules_end == 0x21004 && res.ebx == 0x22000);
    CHECK(res.info_start >= res.modules_end);
    CHECK(memcmp(ram + 0x21000, mod, sizeof(mod)) == 0);
}

static void test_header_errors(void)
{
    static uint8_t image[0x3000];
    uint32_t f = MB_FLAG_AOUT;

    memset(image, 0, sizeof(image));
    CHECK(load_fails(image, sizeof(image), -ENOEXEC));
    CHECK(load_fails(image, 0, -ENOEXEC));
    CHECK(load_fails(image, 11, -ENOEXEC));
    /* Bad checksum, unaligned, past 8 KiB. */
    mb_header(image, 0, f, KBASE, KBASE, 0, 0, KBASE + 0x40);
    wr32(image + 8, get32(image + 8) + 1);
    CHECK(load_fails(image, sizeof(image), -ENOEXEC));
    memset(image, 0, sizeof(image));
    mb_header(image, 2, f, KBASE + 2, KBASE, 0, 0, KBASE + 0x40);
    CHECK(load_fails(image, sizeof(image), -ENOEXEC));
    memset(image, 0, sizeof(image));
    mb_header(image, 8192, f, KBASE + 8192, KBASE, 0, 0, KBASE + 0x40);
    CHECK(load_fails(image, sizeof(image), -ENOEXEC));
    /* The last slot of the window: found, but the a.out fields would pass 8 KiB. */
    memset(image, 0, sizeof(image));
    mb_header(image, 8180, f, KBASE + 8180, KBASE, 0, 0, KBASE + 0x40);
    CHECK(load_fails(image, sizeof(image), -EINVAL));
    /* Truncated right after the magic, flags and checksum. */
    memset(image, 0, sizeof(image));
    mb_header(image, 0, f, KBASE, KBASE, 0, 0, KBASE + 0x40);
    CHECK(load_fails(image, 12, -EINVAL));
    CHECK(load_fails(image, 31, -EINVAL));
    CHECK(load_fails(image, 32, -EINVAL)); /* entry past the 32 loaded bytes */
    /* A second, valid header after a bad one is found. */
    memset(image, 0, sizeof(image));
    wr32(image, LOADER_MB_HEADER_MAGIC);
    mb_header(image, 16, f, KBASE + 16, KBASE, 0, 0, KBASE + 0x40);
    struct loader_result res;
    fill_ram();
    CHECK(load(image, sizeof(image), &res) == 0 && res.entry == KBASE + 0x40);
    /* Unknown required flags. */
    memset(image, 0, sizeof(image));
    mb_header(image, 0, f | (1u << 3), KBASE, KBASE, 0, 0, KBASE + 0x40);
    CHECK(load_fails(image, sizeof(image), -ENOTSUP));
    mb_header(image, 0, f | (1u << 15), KBASE, KBASE, 0, 0, KBASE + 0x40);
    CHECK(load_fails(image, sizeof(image), -ENOTSUP));
    /* Not ELF and no a.out addresses. */
    mb_header(image, 0, 0, 0, 0, 0, 0, 0);
    CHECK(load_fails(image, sizeof(image), -EINVAL));
    /* NULL arguments. */
    CHECK(loader_multiboot(NULL, 10, NULL, NULL, 0, ram, RAM_SIZE, NULL, 0, &res) == -EINVAL);
    CHECK(loader_multiboot(image, 10, NULL, NULL, 2, ram, RAM_SIZE, NULL, 0, &res) == -EINVAL);
    CHECK(loader_multiboot(image, 10, NULL, NULL, 0, ram, RAM_SIZE, NULL, 3, &res) == -EINVAL);
}

static void test_aout_errors(void)
{
    static uint8_t image[0x1000];
    uint32_t f = MB_FLAG_AOUT;
#define AOUT(hoff, ha, la, le, be, en)                                                            \
    (memset(image, 0, sizeof(image)), mb_header(image, hoff, f, ha, la, le, be, en), image)

    /* load_addr above header_addr; header_addr - load_addr past the header's file offset. */
    CHECK(load_fails(AOUT(0, KBASE, KBASE + 4, 0, 0, KBASE + 8), sizeof(image), -EINVAL));
    CHECK(load_fails(AOUT(0x40, KBASE + 0x44, KBASE, 0, 0, KBASE + 8), sizeof(image), -EINVAL));
    CHECK(load_fails(AOUT(0, 0xFFFFFFFF, 0, 0, 0, 8), sizeof(image), -EINVAL));
    /* load_end below load_addr, or past the file. */
    CHECK(load_fails(AOUT(0, KBASE, KBASE, KBASE - 1, 0, KBASE + 8), sizeof(image), -EINVAL));
    CHECK(load_fails(AOUT(0, KBASE, KBASE, KBASE + 0x1001, 0, KBASE + 8), sizeof(image), -EINVAL));
    /* bss_end below load_end. */
    CHECK(load_fails(AOUT(0, KBASE, KBASE, KBASE + 0x100, KBASE + 0xFF, KBASE + 8), sizeof(image),
                     -EINVAL));
    /* Entry outside the loaded bytes. */
    CHECK(load_fails(AOUT(0, KBASE, KBASE, KBASE + 0x100, 0, KBASE + 0x100), sizeof(image),
                     -EINVAL));
    CHECK(load_fails(AOUT(0, KBASE, KBASE, 0, 0, KBASE - 1), sizeof(image), -EINVAL));
    /* Wrapping past 4 GiB. */
    CHECK(load_fails(AOUT(0, 0xFFFFFF00, 0xFFFFFF00, 0, 0, 0xFFFFFF08), sizeof(image), -EINVAL));
    CHECK(load_fails(AOUT(0, 0xFFFFF000, 0xFFFFF000, 0xFFFFF100, 0xFFFFFFFF, 0xFFFFF008),
                     sizeof(image), -ENOSPC));
    /* Beyond RAM; bss beyond RAM; in the hole below 1 MiB. */
    CHECK(load_fails(AOUT(0, RAM_SIZE - 0x800, RAM_SIZE - 0x800, 0, 0, RAM_SIZE - 0x7F0),
                     sizeof(image), -ENOSPC));
    CHECK(load_fails(AOUT(0, KBASE, KBASE, 0, RAM_SIZE + 1, KBASE + 8), sizeof(image), -ENOSPC));
    CHECK(load_fails(AOUT(0, 0xA0000, 0xA0000, 0, 0, 0xA0008), sizeof(image), -ENOSPC));
    CHECK(load_fails(AOUT(0, 0xF0000, 0xF0000, 0, 0, 0xF0008), sizeof(image), -ENOSPC));
#undef AOUT
}

static void test_elf_errors(void)
{
    static uint8_t image[ELF_SIZE], good[ELF_SIZE];
    make_elf(good);
#define MUT(stmt) (memcpy(image, good, ELF_SIZE), (stmt), image)

    CHECK(load_fails(MUT(image[4] = 2), ELF_SIZE, -EINVAL)); /* ELF64 */
    CHECK(load_fails(MUT(image[5] = 2), ELF_SIZE, -EINVAL)); /* big-endian */
    CHECK(load_fails(MUT(image[0] = 0), ELF_SIZE, -EINVAL)); /* not ELF */
    CHECK(load_fails(MUT(put16(image + 16, 3)), ELF_SIZE, -EINVAL)); /* ET_DYN */
    CHECK(load_fails(MUT(put16(image + 18, 62)), ELF_SIZE, -EINVAL)); /* x86-64 */
    CHECK(load_fails(MUT(put16(image + 42, 16)), ELF_SIZE, -EINVAL)); /* phentsize too small */
    CHECK(load_fails(MUT(put16(image + 44, 0)), ELF_SIZE, -EINVAL));
    CHECK(load_fails(MUT(put16(image + 44, 0xFFFF)), ELF_SIZE, -EINVAL)); /* huge count */
    CHECK(load_fails(MUT(put16(image + 42, 0xFFFF)), ELF_SIZE, -EINVAL)); /* huge entries */
    CHECK(load_fails(MUT(wr32(image + 28, 0xFFFFFFF0)), ELF_SIZE, -EINVAL)); /* phoff past end */
    CHECK(load_fails(MUT(wr32(image + 28, ELF_SIZE - 40)), ELF_SIZE, -EINVAL));
    /* Segment file range past the end, offset wrapping. */
    CHECK(load_fails(MUT(wr32(image + 52 + 4, ELF_SIZE - 0x100)), ELF_SIZE, -EINVAL));
    CHECK(load_fails(MUT(wr32(image + 52 + 4, 0xFFFFFF00)), ELF_SIZE, -EINVAL));
    CHECK(load_fails(MUT(wr32(image + 52 + 16, 0xFFFFFFFF)), ELF_SIZE, -EINVAL));
    /* filesz > memsz. */
    CHECK(load_fails(MUT(wr32(image + 52 + 20, 0x100)), ELF_SIZE, -EINVAL));
    /* Overlapping segments (the data segment moved onto the text). */
    CHECK(load_fails(MUT(wr32(image + 52 + 64 + 12, KBASE + 0x1FF)), ELF_SIZE, -EINVAL));
    CHECK(load_fails(MUT(wr32(image + 52 + 64 + 12, KBASE - 0x7FF)), ELF_SIZE, -EINVAL));
    /* Physical or virtual range wrapping past 4 GiB. */
    CHECK(load_fails(MUT(wr32(image + 52 + 12, 0xFFFFFF00)), ELF_SIZE, -EINVAL));
    CHECK(load_fails(MUT(wr32(image + 52 + 8, 0xFFFFFF00)), ELF_SIZE, -EINVAL));
    CHECK(load_fails(MUT(wr32(image + 52 + 64 + 20, 0xFFFFFFFF)), ELF_SIZE, -EINVAL));
    /* Outside RAM. */
    CHECK(load_fails(MUT(wr32(image + 52 + 64 + 12, RAM_SIZE)), ELF_SIZE, -ENOSPC));
    CHECK(load_fails(MUT(wr32(image + 52 + 64 + 20, RAM_SIZE)), ELF_SIZE, -ENOSPC));
    /* Entry in no segment; no PT_LOAD at all. */
    CHECK(load_fails(MUT(wr32(image + 24, 0x1000)), ELF_SIZE, -EINVAL));
    CHECK(load_fails(MUT((wr32(image + 52, 6), wr32(image + 52 + 64, 6))), ELF_SIZE, -EINVAL));
    /* Too many PT_LOAD segments: 65 non-overlapping one-byte segments. */
    static uint8_t many[0x2000 + 65 * 32];
    memset(many, 0, sizeof(many));
    memcpy(many, good, 52);
    put16(many + 44, 65);
    wr32(many + 24, KBASE);
    for (unsigned i = 0; i < 65; i++)
        elf_phdr(many, i, ELF_PT_LOAD, 0, KBASE + i * 16, KBASE + i * 16, 1, 1);
    mb_header(many, 0x1000, MB_FLAG_MEMINFO, 0, 0, 0, 0, 0);
    CHECK(load_fails(many, sizeof(many), -EINVAL));
    put16(many + 44, 64);
    struct loader_result res;
    CHECK(load(many, sizeof(many), &res) == 0 && res.image_end == KBASE + 63 * 16 + 1);

    /* Every truncation of the good image fails cleanly. */
    int all_fail = 1;
    for (size_t n = 0; n < ELF_SIZE; n++) {
        int r = load(good, n, &res);
        all_fail &= r == -EINVAL || r == -ENOEXEC;
    }
    CHECK(all_fail);
#undef MUT
}

static void test_module_errors(void)
{
    static uint8_t image[AOUT_SIZE];
    static const uint8_t data[16];
    struct loader_module big = {data, RAM_SIZE, NULL};
    struct loader_module bad = {NULL, 10, NULL};
    struct loader_module huge = {data, SIZE_MAX, NULL};
    struct loader_result res;
    make_aout(image);

    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), NULL, &big, 1, ram, RAM_SIZE, NULL, 0, &res) ==
          -ENOSPC);
    CHECK(loader_multiboot(image, sizeof(image), NULL, &huge, 1, ram, RAM_SIZE, NULL, 0, &res) ==
          -ENOSPC);
    CHECK(loader_multiboot(image, sizeof(image), NULL, &bad, 1, ram, RAM_SIZE, NULL, 0, &res) ==
          -EINVAL);
    CHECK(loader_multiboot(image, sizeof(image), NULL, &bad, SIZE_MAX, ram, RAM_SIZE, NULL, 0,
                           &res) == -ENOSPC);
    CHECK(loader_multiboot(image, sizeof(image), NULL, NULL, 0, ram, RAM_SIZE, &(struct loader_memmap){0, 1, 1},
                           SIZE_MAX / 2, &res) == -ENOSPC);
    CHECK(ram_untouched());
    /* A module that fits exactly up to the end of RAM, leaving the info block in low memory. */
    uint64_t first = (KBASE + AOUT_SIZE + AOUT_BSS + 4095) & ~4095u;
    static uint8_t *rest;
    rest = calloc(1, RAM_SIZE - first);
    struct loader_module fit = {rest, RAM_SIZE - first, "fit"};
    CHECK(loader_multiboot(image, sizeof(image), NULL, &fit, 1, ram, RAM_SIZE, NULL, 0, &res) == 0);
    CHECK(res.modules_end == RAM_SIZE && res.ebx == LOADER_MB_INFO_BASE);
    fit.size++;
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), NULL, &fit, 1, ram, RAM_SIZE, NULL, 0, &res) ==
          -ENOSPC);
    CHECK(ram_untouched());
    free(rest);
    /* A command line too long for the low window goes after the kernel; too long for RAM fails. */
    size_t len = 0x100000;
    char *cmd = malloc(len);
    memset(cmd, 'x', len - 1);
    cmd[len - 1] = 0;
    CHECK(loader_multiboot(image, sizeof(image), cmd, NULL, 0, ram, RAM_SIZE, NULL, 0, &res) == 0);
    CHECK(res.ebx == first && strlen((const char *)ram + get32(ram + res.ebx + 16)) == len - 1);
    free(cmd);
    len = RAM_SIZE;
    cmd = malloc(len);
    memset(cmd, 'x', len - 1);
    cmd[len - 1] = 0;
    fill_ram();
    CHECK(loader_multiboot(image, sizeof(image), cmd, NULL, 0, ram, RAM_SIZE, NULL, 0, &res) ==
          -ENOSPC);
    CHECK(ram_untouched());
    free(cmd);
    /* RAM smaller than the kernel's address. */
    CHECK(loader_multiboot(image, sizeof(image), NULL, NULL, 0, ram, KBASE, NULL, 0, &res) ==
          -ENOSPC);
}

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return rng_state >> 8 ^ rng_state << 13;
}

/* Random images around a valid header: results vary, but nothing is read or written out of
 * bounds (the sanitizer build checks that), and a success keeps everything inside RAM. */
static void test_fuzz(void)
{
    static uint8_t image[0x3000], good_elf[ELF_SIZE];
    make_elf(good_elf);
    struct loader_result res;
    int ok = 1, successes = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t size = rng() % sizeof(image);
        int kind = iter % 3;
        if (kind == 0) {
            for (size_t i = 0; i < sizeof(image); i++)
                image[i] = (uint8_t)rng();
            size_t hoff = (rng() % 2048) * 4;
            uint32_t choices[] = {KBASE, KBASE + (uint32_t)hoff, 0, rng(), rng() % RAM_SIZE,
                                  0xFFFFFFFF, KBASE + 0x100, (uint32_t)RAM_SIZE};
            mb_header(image, hoff, MB_FLAG_AOUT | (rng() & 3), choices[rng() % 8],
                      choices[rng() % 8], choices[rng() % 8], choices[rng() % 8],
                      choices[rng() % 8]);
        } else {
            memcpy(image, good_elf, ELF_SIZE);
            size = ELF_SIZE - (kind == 2 ? rng() % 64 : 0);
            for (int k = 0; k < 4; k++) {
                size_t at = rng() % 0x120;
                if (at >= 0x100 && at < 0x10C)
                    continue; /* keep the multiboot header */
                image[at] = (uint8_t)(rng() % 3 == 0 ? 0xFF : rng());
            }
        }
        int r = load(image, size, &res);
        if (r == 0) {
            successes++;
            ok &= res.image_end <= RAM_SIZE && res.info_end <= RAM_SIZE &&
                  res.modules_end <= RAM_SIZE && res.image_start < res.image_end;
        } else {
            ok &= r == -EINVAL || r == -ENOSPC || r == -ENOEXEC || r == -ENOTSUP;
        }
    }
    CHECK(ok);
    CHECK(successes > 0);
}

/* A synthetic bzImage: 2 setup sectors after the boot sector, BZ_KSIZE bytes of protected-mode
 * kernel, protocol 2.15, 64-bit, relocatable (2 MiB alignment), preferred at BZ_PREF, init_size
 * BZ_INIT. */
#define BZ_SETUP (3 * 512u)
#define BZ_KSIZE 0x1000u
#define BZ_SIZE (BZ_SETUP + BZ_KSIZE)
#define BZ_PREF 0x200000u
#define BZ_INIT 0x300000u
#define BZ_ALIGN 0x200000u
#define BZ_RSDP 0xF0000u
static void make_bz(uint8_t *image)
{
    memset(image, 0, BZ_SIZE);
    image[LOADER_LINUX_HDR_SETUP_SECTS] = 2;
    wr32(image + LOADER_LINUX_HDR_SYSSIZE, BZ_KSIZE / 16);
    put16(image + LOADER_LINUX_HDR_BOOT_FLAG, LOADER_LINUX_BOOT_FLAG);
    image[LOADER_LINUX_HDR_JUMP] = 0xEB;
    image[LOADER_LINUX_HDR_JUMP + 1] = 0x6A; /* header ends at 0x26C */
    wr32(image + LOADER_LINUX_HDR_MAGIC, LOADER_LINUX_MAGIC);
    put16(image + LOADER_LINUX_HDR_VERSION, 0x020F);
    image[LOADER_LINUX_HDR_LOADFLAGS] = LOADER_LINUX_LOADED_HIGH;
    wr32(image + LOADER_LINUX_HDR_INITRD_ADDR_MAX, 0x7FFFFFFF);
    wr32(image + LOADER_LINUX_HDR_KERNEL_ALIGNMENT, BZ_ALIGN);
    image[LOADER_LINUX_HDR_RELOCATABLE] = 1;
    put16(image + LOADER_LINUX_HDR_XLOADFLAGS, LOADER_LINUX_XLF_KERNEL_64);
    wr32(image + LOADER_LINUX_HDR_CMDLINE_SIZE, 2047);
    wr64(image + LOADER_LINUX_HDR_PREF_ADDRESS, BZ_PREF);
    wr32(image + LOADER_LINUX_HDR_INIT_SIZE, BZ_INIT);
    for (size_t i = BZ_SETUP; i < BZ_SIZE; i++)
        image[i] = (uint8_t)(i * 11 + 3);
}

static int load_bz(const uint8_t *image, size_t size, const char *cmdline, size_t initrd_size,
                   struct loader_result *res)
{
    static uint8_t initrd[0x3000];
    for (size_t i = 0; i < sizeof(initrd); i++)
        initrd[i] = (uint8_t)(i * 5 + 9);
    return loader_linux(image, size, cmdline, initrd_size ? initrd : NULL,
                        initrd_size <= sizeof(initrd) ? initrd_size : 0, BZ_RSDP, ram, RAM_SIZE,
                        NULL, 0, res);
}

/* Expects err and RAM untouched. */
static int bz_fails(const uint8_t *image, size_t size, const char *cmdline, size_t initrd_size,
                    int err)
{
    struct loader_result res;
    fill_ram();
    int r = load_bz(image, size, cmdline, initrd_size, &res);
    if (r != err)
        printf("  got %d, want %d\n", r, err);
    return r == err && ram_untouched();
}

/* The GPA a 4-level walk of the loader's page tables gives for va, or UINT64_MAX. */
static uint64_t walk(uint64_t cr3, uint64_t va)
{
    uint64_t e = get64(ram + cr3 + ((va >> 39) & 511) * 8);
    if (!(e & 1))
        return UINT64_MAX;
    e = get64(ram + (e & ~0xFFFull) + ((va >> 30) & 511) * 8);
    if (!(e & 1) || (e & 0x80))
        return UINT64_MAX;
    e = get64(ram + (e & ~0xFFFull) + ((va >> 21) & 511) * 8);
    if (!(e & 1) || !(e & 0x80) || !(e & 2))
        return UINT64_MAX;
    return (e & ~0x1FFFFFull) + (va & 0x1FFFFF);
}

static void test_linux(void)
{
    static uint8_t image[BZ_SIZE];
    make_bz(image);
    struct loader_result res;
    fill_ram();
    CHECK(load_bz(image, BZ_SIZE, "console=ttyS0 quiet", 0x1800, &res) == 0);
    const uint8_t *bp = ram + LOADER_LINUX_ZERO_PAGE;

    /* The kernel at its preferred address; the initrd page-aligned at the top of RAM. */
    CHECK(memcmp(ram + BZ_PREF, image + BZ_SETUP, BZ_KSIZE) == 0);
    CHECK(ram[BZ_PREF + BZ_KSIZE] == 0xAA);
    CHECK_EQ(res.image_start, BZ_PREF);
    CHECK_EQ(res.image_end, BZ_PREF + BZ_INIT);
    CHECK_EQ(res.initrd_start, RAM_SIZE - 0x2000);
    CHECK_EQ(res.initrd_end, RAM_SIZE - 0x2000 + 0x1800);
    CHECK(ram[res.initrd_start] == 9 && ram[res.initrd_start + 1] == 14);

    /* The zero page: the header copy, what the loader filled in, the e820 table. */
    CHECK_EQ(rd16(bp + LOADER_LINUX_HDR_BOOT_FLAG), LOADER_LINUX_BOOT_FLAG);
    CHECK_EQ(get32(bp + LOADER_LINUX_HDR_MAGIC), LOADER_LINUX_MAGIC);
    CHECK_EQ(get32(bp + LOADER_LINUX_HDR_INIT_SIZE), BZ_INIT);
    CHECK(bp[0x26C] == 0 && bp[LOADER_LINUX_BP_HDR_END] == 0);
    CHECK_EQ(bp[LOADER_LINUX_HDR_TYPE_OF_LOADER], 0xFF);
    CHECK_EQ(get32(bp + LOADER_LINUX_HDR_CODE32_START), BZ_PREF);
    CHECK_EQ(get32(bp + LOADER_LINUX_HDR_CMD_LINE_PTR), LOADER_LINUX_CMDLINE);
    CHECK(!strcmp((const char *)ram + LOADER_LINUX_CMDLINE, "console=ttyS0 quiet"));
    CHECK_EQ(get32(bp + LOADER_LINUX_HDR_RAMDISK_IMAGE), res.initrd_start);
    CHECK_EQ(get32(bp + LOADER_LINUX_HDR_RAMDISK_SIZE), 0x1800);
    CHECK_EQ(get64(bp + LOADER_LINUX_BP_ACPI_RSDP), BZ_RSDP);
    CHECK_EQ(bp[LOADER_LINUX_BP_E820_ENTRIES], 4);
    static const uint64_t e820[4][3] = {
        {0, 0x9FC00, 1}, {0x9FC00, 0x400, 2}, {0xE0000, 0x20000, 2}, {0x100000, RAM_SIZE - 0x100000, 1}};
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *e = bp + LOADER_LINUX_BP_E820_TABLE + i * LOADER_LINUX_E820_ENTRY_SIZE;
        CHECK_EQ(get64(e), e820[i][0]);
        CHECK_EQ(get64(e + 8), e820[i][1]);
        CHECK_EQ(get32(e + 16), e820[i][2]);
    }

    /* The long-mode state, the page tables (identity, 4 GiB) and the GDT. */
    const struct loader_long_mode *lm = &res.long_mode;
    CHECK_EQ(lm->rip, BZ_PREF + LOADER_LINUX_ENTRY64);
    CHECK_EQ(lm->rsi, LOADER_LINUX_ZERO_PAGE);
    CHECK_EQ(lm->cs, LOADER_LINUX_BOOT_CS);
    CHECK_EQ(lm->ds, LOADER_LINUX_BOOT_DS);
    CHECK_EQ(lm->gdt_base, LOADER_LINUX_TRAMPOLINE);
    CHECK_EQ(lm->gdt_limit, 31);
    CHECK(lm->rsp > res.entry && lm->rsp <= lm->cr3);
    CHECK_EQ(walk(lm->cr3, 0), 0);
    CHECK_EQ(walk(lm->cr3, BZ_PREF + 0x234), BZ_PREF + 0x234);
    CHECK_EQ(walk(lm->cr3, 0xFEE00030), 0xFEE00030);
    CHECK_EQ(walk(lm->cr3, 0xFFFFFFFF), 0xFFFFFFFF);
    CHECK_EQ(walk(lm->cr3, 1ull << 32), UINT64_MAX);
    const uint8_t *gdt = ram + lm->gdt_base;
    CHECK_EQ(get64(gdt + LOADER_LINUX_BOOT_CS), 0x00AF9A000000FFFFull);
    CHECK_EQ(get64(gdt + LOADER_LINUX_BOOT_DS), 0x00CF92000000FFFFull);

    /* The trampoline: lgdt first; the far jump lands on "mov eax, __BOOT_DS"; it ends with
     * "mov esi, zero page; ...; mov eax, startup_64; jmp rax". */
    const uint8_t *c = ram + res.entry;
    CHECK(c[0] == 0x0F && c[1] == 0x01 && c[2] == 0x15);
    const uint8_t *jmp = memchr(c, 0xEA, 64);
    CHECK(jmp && rd16(jmp + 5) == LOADER_LINUX_BOOT_CS);
    const uint8_t *l64 = jmp ? ram + get32(jmp + 1) : c;
    CHECK(l64[0] == 0xB8 && get32(l64 + 1) == LOADER_LINUX_BOOT_DS);
    CHECK(l64[15] == 0xBC && get32(l64 + 16) == lm->rsp);
    CHECK(l64[20] == 0xBE && get32(l64 + 21) == LOADER_LINUX_ZERO_PAGE);
    CHECK(l64[31] == 0xB8 && get32(l64 + 32) == lm->rip && l64[36] == 0xFF && l64[37] == 0xE0);

    /* Without an initrd: none in the zero page. */
    CHECK(load_bz(image, BZ_SIZE, NULL, 0, &res) == 0);
    CHECK(res.initrd_start == 0 && res.initrd_end == 0 && res.modules_end == res.image_end);
    CHECK_EQ(get32(bp + LOADER_LINUX_HDR_RAMDISK_SIZE), 0);
    CHECK_EQ(ram[LOADER_LINUX_CMDLINE], 0);
}

static void test_linux_placement(void)
{
    static uint8_t image[BZ_SIZE], good[BZ_SIZE];
    make_bz(good);
    struct loader_result res;
#define BZ(stmt) (memcpy(image, good, BZ_SIZE), (stmt), image)
    /* Preferred address outside RAM or misaligned: the lowest aligned fit at or above 1 MiB. */
    CHECK(load_bz(BZ(wr64(image + LOADER_LINUX_HDR_PREF_ADDRESS, 0x1000000)), BZ_SIZE, "", 0,
                  &res) == 0);
    CHECK_EQ(res.long_mode.rip, BZ_ALIGN + LOADER_LINUX_ENTRY64);
    CHECK(load_bz(BZ((wr64(image + LOADER_LINUX_HDR_PREF_ADDRESS, 0x123000),
                      wr32(image + LOADER_LINUX_HDR_KERNEL_ALIGNMENT, 0x1000))),
                  BZ_SIZE, "", 0, &res) == 0);
    CHECK_EQ(res.image_start, 0x123000);
    CHECK(load_bz(BZ((wr64(image + LOADER_LINUX_HDR_PREF_ADDRESS, 0x1000000),
                      wr32(image + LOADER_LINUX_HDR_KERNEL_ALIGNMENT, 0x1000))),
                  BZ_SIZE, "", 0, &res) == 0);
    CHECK_EQ(res.image_start, LOADER_LINUX_MIN_LOAD);
    /* init_size smaller than the file: the file's size counts. */
    CHECK(load_bz(BZ(wr32(image + LOADER_LINUX_HDR_INIT_SIZE, 16)), BZ_SIZE, "", 0, &res) == 0);
    CHECK_EQ(res.image_end, BZ_PREF + BZ_KSIZE);
    /* initrd_addr_max: the initrd ends at or below it + 1. */
    CHECK(load_bz(BZ(wr32(image + LOADER_LINUX_HDR_INITRD_ADDR_MAX, 0x5FFFFF)), BZ_SIZE, "",
                  0x1800, &res) == 0);
    CHECK_EQ(res.initrd_start, 0x5FE000);
    /* The longest command line the header allows. */
    static char cmd[2048];
    memset(cmd, 'x', 2047);
    CHECK(load_bz(good, BZ_SIZE, cmd, 0, &res) == 0);
    CHECK_EQ(strlen((const char *)ram + LOADER_LINUX_CMDLINE), 2047);
}

static void test_linux_errors(void)
{
    static uint8_t image[BZ_SIZE], good[BZ_SIZE];
    make_bz(good);
    struct loader_result res;
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_MAGIC, 0x53726449)), BZ_SIZE, "", 0, -ENOEXEC));
    CHECK(bz_fails(BZ(put16(image + LOADER_LINUX_HDR_BOOT_FLAG, 0)), BZ_SIZE, "", 0, -ENOEXEC));
    CHECK(bz_fails(good, 0x205, "", 0, -ENOEXEC)); /* cut inside the magic */
    CHECK(bz_fails(good, 0x240, "", 0, -EINVAL));  /* cut inside the header */
    CHECK(bz_fails(BZ(put16(image + LOADER_LINUX_HDR_VERSION, 0x020B)), BZ_SIZE, "", 0, -ENOTSUP));
    CHECK(bz_fails(BZ(put16(image + LOADER_LINUX_HDR_XLOADFLAGS, 0x2)), BZ_SIZE, "", 0, -ENOTSUP));
    CHECK(bz_fails(BZ(image[LOADER_LINUX_HDR_LOADFLAGS] = 0), BZ_SIZE, "", 0, -ENOTSUP));
    CHECK(bz_fails(BZ(image[LOADER_LINUX_HDR_JUMP + 1] = 0x20), BZ_SIZE, "", 0, -EINVAL));
    CHECK(bz_fails(good, BZ_SIZE - 1, "", 0, -EINVAL)); /* truncated kernel */
    CHECK(bz_fails(BZ(image[LOADER_LINUX_HDR_SETUP_SECTS] = 255), BZ_SIZE, "", 0, -EINVAL));
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_SYSSIZE, 0)), BZ_SIZE, "", 0, -EINVAL));
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_SYSSIZE, 0xFFFFFFFF)), BZ_SIZE, "", 0, -EINVAL));
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_KERNEL_ALIGNMENT, 0x3000)), BZ_SIZE, "", 0,
                   -EINVAL));
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_KERNEL_ALIGNMENT, 0)), BZ_SIZE, "", 0, -EINVAL));
    /* Does not fit: init_size, a fixed address outside RAM or below 1 MiB, the initrd. */
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_INIT_SIZE, RAM_SIZE)), BZ_SIZE, "", 0, -ENOSPC));
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_INIT_SIZE, 0xFFFFFFFF)), BZ_SIZE, "", 0, -ENOSPC));
    CHECK(bz_fails(BZ((image[LOADER_LINUX_HDR_RELOCATABLE] = 0,
                       wr64(image + LOADER_LINUX_HDR_PREF_ADDRESS, 0x1000000))),
                   BZ_SIZE, "", 0, -ENOSPC));
    CHECK(bz_fails(BZ((image[LOADER_LINUX_HDR_RELOCATABLE] = 0,
                       wr64(image + LOADER_LINUX_HDR_PREF_ADDRESS, 0x10000))),
                   BZ_SIZE, "", 0, -ENOSPC));
    CHECK(bz_fails(BZ((image[LOADER_LINUX_HDR_RELOCATABLE] = 0,
                       wr64(image + LOADER_LINUX_HDR_PREF_ADDRESS, UINT64_MAX - 0xFFF))),
                   BZ_SIZE, "", 0, -ENOSPC));
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_INITRD_ADDR_MAX, 0x4FFFFF)), BZ_SIZE, "", 0x1800,
                   -ENOSPC)); /* initrd_addr_max inside the kernel */
    fill_ram();
    static const uint8_t big[1];
    CHECK(loader_linux(good, BZ_SIZE, "", big, RAM_SIZE, 0, ram, RAM_SIZE, NULL, 0, &res) == -ENOSPC);
    CHECK(loader_linux(good, BZ_SIZE, "", big, SIZE_MAX, 0, ram, RAM_SIZE, NULL, 0, &res) == -ENOSPC);
    CHECK(loader_linux(good, BZ_SIZE, "", NULL, 16, 0, ram, RAM_SIZE, NULL, 0, &res) == -EINVAL);
    /* The boot-data window must be RAM; the e820 table has 128 entries. */
    struct loader_memmap high = {LOADER_LINUX_MIN_LOAD, RAM_SIZE - LOADER_LINUX_MIN_LOAD, 1};
    CHECK(loader_linux(good, BZ_SIZE, "", NULL, 0, 0, ram, RAM_SIZE, &high, 1, &res) == -ENOSPC);
    static struct loader_memmap many[LOADER_LINUX_E820_MAX + 1];
    for (size_t i = 0; i < LOADER_LINUX_E820_MAX + 1; i++)
        many[i] = (struct loader_memmap){0, RAM_SIZE, 1};
    CHECK(loader_linux(good, BZ_SIZE, "", NULL, 0, 0, ram, RAM_SIZE, many, LOADER_LINUX_E820_MAX + 1,
                       &res) == -ENOSPC);
    CHECK(ram_untouched());
    /* Command lines longer than cmdline_size. */
    static char cmd[2049];
    memset(cmd, 'x', 2048);
    CHECK(bz_fails(good, BZ_SIZE, cmd, 0, -E2BIG));
    CHECK(bz_fails(BZ(wr32(image + LOADER_LINUX_HDR_CMDLINE_SIZE, 10)), BZ_SIZE, "console=tty", 0,
                   -E2BIG));
    /* A huge cmdline_size: the loader's own limit (the command-line window) still holds. */
    CHECK(load_bz(BZ(wr32(image + LOADER_LINUX_HDR_CMDLINE_SIZE, 0xFFFFFFFF)), BZ_SIZE, cmd, 0,
                  &res) == 0);
    static char huge[LOADER_LINUX_CMDLINE_MAX + 1];
    memset(huge, 'y', LOADER_LINUX_CMDLINE_MAX);
    CHECK(bz_fails(image, BZ_SIZE, huge, 0, -E2BIG));
    /* A bzImage is not a multiboot kernel. */
    CHECK(load_fails(good, BZ_SIZE, -ENOEXEC));
#undef BZ
}

/* Random header bytes and sizes around a valid bzImage: nothing out of bounds (sanitizers), a
 * failure leaves RAM untouched, a success keeps everything inside RAM and below the limits. */
static void test_linux_fuzz(void)
{
    static uint8_t image[BZ_SIZE], good[BZ_SIZE];
    make_bz(good);
    struct loader_result res;
    int ok = 1, successes = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(image, good, BZ_SIZE);
        for (int k = 0; k < 3; k++)
            image[LOADER_LINUX_HDR_SETUP_SECTS + rng() % 0x80] = (uint8_t)(rng() % 2 ? 0 : rng());
        size_t size = rng() % 4 ? BZ_SIZE : rng() % BZ_SIZE;
        size_t initrd = rng() % 3 ? rng() % 0x3000 : 0;
        fill_ram();
        int r = load_bz(image, size, "console=ttyS0", initrd, &res);
        if (r == 0) {
            successes++;
            uint64_t max = (uint64_t)get32(image + LOADER_LINUX_HDR_INITRD_ADDR_MAX);
            ok &= res.image_start >= LOADER_LINUX_MIN_LOAD && res.image_end <= RAM_SIZE;
            ok &= !initrd || (res.initrd_start >= res.image_end && res.initrd_end <= RAM_SIZE &&
                              res.initrd_end - 1 <= max);
        } else {
            ok &= (r == -EINVAL || r == -ENOSPC || r == -ENOEXEC || r == -ENOTSUP || r == -E2BIG) &&
                  ram_untouched();
        }
    }
    CHECK(ok);
    CHECK(successes > 0);
}

int main(void)
{
    ram = malloc(RAM_SIZE);
    snapshot = malloc(RAM_SIZE);
    if (!ram || !snapshot)
        return 1;
    test_flat();
    test_default_memmap();
    test_aout();
    test_aout_variants();
    test_elf();
    test_memmap_given();
    test_info_fallback();
    test_header_errors();
    test_aout_errors();
    test_elf_errors();
    test_module_errors();
    test_fuzz();
    test_linux();
    test_linux_placement();
    test_linux_errors();
    test_linux_fuzz();
    free(ram);
    free(snapshot);
    return check_report();
}
