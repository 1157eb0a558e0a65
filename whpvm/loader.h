/* whpvm's boot-image loaders: a flat binary, or a Multiboot 1 kernel (a.out kludge or ELF32) with
 * its command line, modules, memory map and info structure. Pure: they fill a guest-RAM buffer
 * the caller owns (GPA 0 at ram[0]) and never touch the hypervisor, so they are unit-tested. */
#ifndef WHPVM_LOADER_H
#define WHPVM_LOADER_H

#include <stddef.h>
#include <stdint.h>

/* Multiboot 1 constants (the spec's names, prefixed). */
#define LOADER_MB_HEADER_MAGIC 0x1BADB002u
#define LOADER_MB_BOOT_MAGIC 0x2BADB002u /* EAX at the kernel's entry */
#define LOADER_MB_SEARCH 8192u           /* the header lies in the first 8 KiB, 4-aligned */

/* Info-structure flags set by loader_multiboot. */
#define LOADER_MBI_MEM (1u << 0)
#define LOADER_MBI_CMDLINE (1u << 2)
#define LOADER_MBI_MODS (1u << 3)
#define LOADER_MBI_MMAP (1u << 6)
#define LOADER_MBI_LOADER_NAME (1u << 9)
#define LOADER_MBI_SIZE 116u /* bytes of the info structure (0.6.96 layout, framebuffer fields zero) */

/* Where the boot information goes (info structure, module list, memory map, strings): the
 * low-memory window [LOADER_MB_INFO_BASE, LOADER_MB_INFO_END), clear of the real-mode IVT/BDA, the
 * usual AP trampoline pages (0x7000-0x9FFF) and the EBDA; if the kernel or a module overlaps that
 * window, right after the last module (page-aligned) instead. Modules go page-aligned right after
 * the kernel's last byte (bss included). */
#define LOADER_MB_INFO_BASE 0x10000u
#define LOADER_MB_INFO_END 0x9F000u

/* Memory-map entry types (Multiboot / E820). */
#define LOADER_MEM_RAM 1u
#define LOADER_MEM_RESERVED 2u
#define LOADER_MEM_ACPI 3u
#define LOADER_MEM_NVS 4u

struct loader_memmap {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* LOADER_MEM_* */
};

struct loader_module {
    const uint8_t *data;
    size_t size;
    const char *cmdline; /* the module's string; NULL: an empty string */
};

struct loader_result {
    uint64_t entry;       /* GPA of the first instruction */
    uint32_t eax;         /* multiboot: LOADER_MB_BOOT_MAGIC; flat: 0 */
    uint32_t ebx;         /* multiboot: GPA of the info structure; flat: 0 */
    uint64_t image_start; /* GPA range the kernel occupies, bss included */
    uint64_t image_end;
    uint64_t modules_end; /* end of the last module; image_end when there are none */
    uint64_t info_start;  /* GPA range of the boot information (multiboot only) */
    uint64_t info_end;
};

/* Copies a flat binary to load_gpa; entry = load_gpa. The CPU mode at entry is the caller's
 * convention. Returns 0, -EINVAL (empty image, NULL buffers) or -ENOSPC (past the end of RAM). */
int loader_flat(const uint8_t *image, size_t size, uint8_t *ram, size_t ram_size, uint64_t load_gpa,
                struct loader_result *out);

/* Guest RAM beyond this many bytes appears at GPA 4 GiB (as whpvm's board maps it, see
 * BOARD_LOW_RAM_LIMIT): the gap up to 4 GiB is MMIO (IOAPIC, LAPIC, ...). */
#define LOADER_LOW_RAM_LIMIT 0xC0000000ull
#define LOADER_MEMMAP_DEFAULT_MAX 5u

/* The memory map loader_multiboot uses when given none: RAM [0, 0x9FC00), EBDA [0x9FC00, 0xA0000)
 * and the BIOS area [0xE0000, 0x100000) (where tables_build puts the firmware tables) reserved,
 * RAM [1 MiB, min(ram_size, LOADER_LOW_RAM_LIMIT)) and, for larger RAM, the rest at 4 GiB.
 * Returns the number of entries written (at most LOADER_MEMMAP_DEFAULT_MAX), 0 if cap is too
 * small. */
size_t loader_memmap_default(uint64_t ram_size, struct loader_memmap *map, size_t cap);

/* Loads a Multiboot 1 kernel. The header (magic, flags, checksum) must lie 4-aligned in the first
 * 8 KiB. With header flag 16 the a.out-kludge addresses are used; otherwise the image must be an
 * ELF32 i386 executable, loaded by the PT_LOAD segments' physical addresses (bss zero-filled; an
 * entry point inside a segment's virtual range is translated to physical, as GRUB 2 does; one
 * outside every virtual range but inside a physical one is taken as physical).
 * Header flag 0 (page-aligned modules) and 1 (memory info) are always honoured; flag 2 (video
 * mode) is accepted but no video information is given; other required flags are refused.
 * The kernel, modules and boot information go only to GPAs below 4 GiB that are both inside
 * the buffer (ram[gpa], gpa < ram_size) and in RAM entries (LOADER_MEM_RAM) of map, or of the
 * default map when map is NULL / nmap is 0; map must have nmap entries. The loader trusts map to
 * describe the board, so a board that remaps RAM (above LOADER_LOW_RAM_LIMIT) must say so in it. The info structure gets flags mem_lower/mem_upper
 * (from map), cmdline (when cmdline is not NULL), mods (always; mods_count 0 when there are
 * none), mmap (the caller's map, or the default) and boot_loader_name ("whpvm").
 * Nothing is written to ram unless the whole load succeeds.
 *
 * Entry contract, set by the caller (Multiboot 1 spec, section 3.2): EAX = out->eax
 * (0x2BADB002), EBX = out->ebx (info GPA), EIP = out->entry; CR0.PE = 1, CR0.PG = 0; CS a 32-bit
 * execute/read code segment, DS/ES/FS/GS/SS 32-bit read/write data segments, all base 0 and limit
 * 0xFFFFFFFF; EFLAGS.VM = 0 and IF = 0; A20 enabled. ESP, GDTR and IDTR are undefined: the kernel
 * sets up its own before using them.
 *
 * Returns 0, -ENOEXEC (no multiboot header), -EINVAL (malformed header or ELF, ELF64, overlapping
 * segments, addresses wrapping past 4 GiB, entry outside the image, NULL arguments), -ENOTSUP
 * (a required header flag this loader does not know) or -ENOSPC (kernel, modules or boot
 * information do not fit in RAM). */
int loader_multiboot(const uint8_t *image, size_t size, const char *cmdline,
                     const struct loader_module *modules, size_t nmodules, uint8_t *ram,
                     size_t ram_size, const struct loader_memmap *map, size_t nmap,
                     struct loader_result *out);

#endif
