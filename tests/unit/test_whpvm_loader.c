/* Unit tests of whpvm's boot-image loaders: multiboot images built here (a.out kludge and ELF32)
 * are loaded and the info structure, command line, modules and memory map checked byte by byte;
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
    free(ram);
    free(snapshot);
    return check_report();
}
