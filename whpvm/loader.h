/* whpvm's boot-image loaders: a flat binary, a Multiboot 1 kernel (a.out kludge or ELF32) with
 * its command line, modules, memory map and info structure, or a Linux bzImage (the x86 boot
 * protocol's 64-bit entry) with its zero page, command line and initrd. Pure: they fill a
 * guest-RAM buffer the caller owns (GPA 0 at ram[0]) and never touch the hypervisor, so they are
 * unit-tested. */
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

/* The 64-bit boot protocol's machine state at the kernel's entry (Linux only): long mode, paging
 * on with cr3's identity map of the first 4 GiB (2 MiB pages), a GDT with a 64-bit code segment
 * at `cs` and a flat data segment at `ds` (also in ES, SS, FS, GS), interrupts off, RSI = rsi
 * (the zero page), RSP = rsp, RBP = RDI = RBX = 0, RIP = rip (startup_64). */
struct loader_long_mode {
    uint64_t rip, rsi, rsp, cr3;
    uint64_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs, ds;
};

struct loader_result {
    uint64_t entry;       /* GPA of the first instruction */
    uint32_t eax;         /* multiboot: LOADER_MB_BOOT_MAGIC; flat: 0 */
    uint32_t ebx;         /* multiboot: GPA of the info structure; flat: 0 */
    uint64_t image_start; /* GPA range the kernel occupies, bss included */
    uint64_t image_end;
    uint64_t modules_end; /* end of the last module; image_end when there are none */
    uint64_t info_start;  /* GPA range of the boot information (multiboot, Linux) */
    uint64_t info_end;
    uint64_t initrd_start; /* Linux: the initrd's GPA range; both 0 without one */
    uint64_t initrd_end;
    struct loader_long_mode long_mode; /* Linux: the state the trampoline enters; else zero */
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

/* Linux x86 boot protocol (Documentation/arch/x86/boot.rst): setup-header and zero-page fields. */
#define LOADER_LINUX_MAGIC 0x53726448u   /* "HdrS" at LOADER_LINUX_HDR_MAGIC */
#define LOADER_LINUX_MIN_VERSION 0x020Cu /* 2.12: xloadflags, so XLF_KERNEL_64 can be checked */
#define LOADER_LINUX_TYPE_OF_LOADER 0xFFu /* "undefined" boot loader */
#define LOADER_LINUX_ENTRY64 0x200u      /* startup_64 = load address + 0x200 */
#define LOADER_LINUX_BOOT_CS 0x10u       /* __BOOT_CS */
#define LOADER_LINUX_BOOT_DS 0x18u       /* __BOOT_DS */
#define LOADER_LINUX_E820_MAX 128u       /* E820_MAX_ENTRIES_ZEROPAGE */
/* Offsets in the image (and, from 0x1F1 on, in the zero page, which holds a copy of the header). */
#define LOADER_LINUX_HDR_SETUP_SECTS 0x1F1u
#define LOADER_LINUX_HDR_SYSSIZE 0x1F4u
#define LOADER_LINUX_HDR_BOOT_FLAG 0x1FEu
#define LOADER_LINUX_HDR_JUMP 0x200u
#define LOADER_LINUX_HDR_MAGIC 0x202u
#define LOADER_LINUX_HDR_VERSION 0x206u
#define LOADER_LINUX_HDR_TYPE_OF_LOADER 0x210u
#define LOADER_LINUX_HDR_LOADFLAGS 0x211u
#define LOADER_LINUX_HDR_CODE32_START 0x214u
#define LOADER_LINUX_HDR_RAMDISK_IMAGE 0x218u
#define LOADER_LINUX_HDR_RAMDISK_SIZE 0x21Cu
#define LOADER_LINUX_HDR_CMD_LINE_PTR 0x228u
#define LOADER_LINUX_HDR_INITRD_ADDR_MAX 0x22Cu
#define LOADER_LINUX_HDR_KERNEL_ALIGNMENT 0x230u
#define LOADER_LINUX_HDR_RELOCATABLE 0x234u
#define LOADER_LINUX_HDR_XLOADFLAGS 0x236u
#define LOADER_LINUX_HDR_CMDLINE_SIZE 0x238u
#define LOADER_LINUX_HDR_PREF_ADDRESS 0x258u
#define LOADER_LINUX_HDR_INIT_SIZE 0x260u
#define LOADER_LINUX_HDR_END_MIN 0x264u  /* a 2.12 header reaches at least past init_size */
#define LOADER_LINUX_BP_ACPI_RSDP 0x070u /* boot_params.acpi_rsdp_addr (protocol 2.14) */
#define LOADER_LINUX_BP_E820_ENTRIES 0x1E8u
#define LOADER_LINUX_BP_HDR_END 0x290u   /* the header copy may not reach further */
#define LOADER_LINUX_BP_E820_TABLE 0x2D0u
#define LOADER_LINUX_E820_ENTRY_SIZE 20u
#define LOADER_LINUX_BOOT_FLAG 0xAA55u
#define LOADER_LINUX_LOADED_HIGH 0x01u   /* loadflags: protected-mode code at 1 MiB (bzImage) */
#define LOADER_LINUX_XLF_KERNEL_64 0x01u /* xloadflags: has the 64-bit entry */

/* Where the Linux boot data goes, inside the multiboot info window (which must be RAM): the zero
 * page, the GDT and the 32-bit trampoline that enters long mode, the page tables (PML4, PDPT and
 * four page directories), then the command line; the kernel and initrd go at or above 1 MiB. */
#define LOADER_LINUX_ZERO_PAGE 0x10000u
#define LOADER_LINUX_TRAMPOLINE 0x11000u
#define LOADER_LINUX_PAGE_TABLES 0x12000u
#define LOADER_LINUX_CMDLINE 0x18000u
#define LOADER_LINUX_CMDLINE_MAX 0x8000u /* bytes, terminator included */
#define LOADER_LINUX_MIN_LOAD 0x100000u

/* Loads a Linux bzImage for the 64-bit boot protocol. The image must have the boot flag 0xAA55
 * and "HdrS", protocol 2.12 or later, loadflags LOADED_HIGH and xloadflags XLF_KERNEL_64; the
 * protected-mode kernel (syssize * 16 bytes after the (setup_sects + 1) * 512 setup bytes, which
 * must all be in the file) goes to pref_address, or, when the kernel is relocatable and that does
 * not fit, to the lowest kernel_alignment-aligned address at or above 1 MiB where init_size bytes
 * fit in RAM. The initrd (optional) goes page-aligned as high as it fits in RAM, above the kernel,
 * ending at or below initrd_addr_max + 1; the command line (NULL: "") may be at most cmdline_size
 * bytes long. RAM means what it does for loader_multiboot (map, or the default map); the zero
 * page gets a copy of the setup header, type_of_loader 0xFF, cmd_line_ptr, the initrd,
 * acpi_rsdp_addr = rsdp (0: none) and the e820 table = map. The page tables, GDT and a 32-bit
 * trampoline are written at LOADER_LINUX_TRAMPOLINE: out->entry is the trampoline (entered in
 * the multiboot machine state, EAX/EBX ignored), which sets up out->long_mode and jumps to
 * startup_64. Nothing is written to ram unless the whole load succeeds.
 * Returns 0, -ENOEXEC (not a bzImage), -ENOTSUP (protocol older than 2.12, no LOADED_HIGH or no
 * XLF_KERNEL_64), -EINVAL (truncated image, header fields that contradict each other or overflow,
 * NULL arguments), -ENOSPC (kernel, initrd or boot data do not fit in RAM, more than
 * LOADER_LINUX_E820_MAX map entries) or -E2BIG (command line longer than cmdline_size). */
int loader_linux(const uint8_t *image, size_t size, const char *cmdline, const uint8_t *initrd,
                 size_t initrd_size, uint64_t rsdp, uint8_t *ram, size_t ram_size,
                 const struct loader_memmap *map, size_t nmap, struct loader_result *out);

#endif
