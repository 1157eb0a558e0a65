/* Fuzzes whpvm's boot-image loaders (whpvm/loader.c): a kernel image is an untrusted file, so
 * the Multiboot header, the a.out kludge addresses, the ELF32 headers and segments, the Linux
 * setup header, the modules or initrd, the command line and the memory map all come from the
 * input. Guest RAM is a heap buffer of
 * exactly its size, filled with a pattern. Checks: on failure RAM is untouched (the loader
 * promises to write nothing unless the whole load succeeds); on success the entry lies in the
 * image, image, modules and boot information lie inside RAM, EAX is the boot magic and EBX the
 * info structure, which says what the loader put there; for Linux, the entry is the trampoline,
 * the initrd ends at or below initrd_addr_max + 1 and the zero page names the command line. */
#include <errno.h>

#include "fuzz_input.h"

#include "loader.h"

#define RAM_SIZE (2u << 20)
#define PATTERN 0xa5

static bool untouched(const uint8_t *ram)
{
    static uint8_t page[4096];
    if (page[0] != PATTERN)
        memset(page, PATTERN, sizeof(page));
    for (size_t i = 0; i < RAM_SIZE; i += sizeof(page))
        if (memcmp(ram + i, page, sizeof(page)) != 0)
            return false;
    return true;
}

static void check_linux(const uint8_t *ram, const uint8_t *image, const struct loader_result *out,
                        const char *cmdline, size_t initrd_size)
{
    const uint8_t *bp = ram + LOADER_LINUX_ZERO_PAGE;
    uint32_t max, ptr;
    memcpy(&max, image + LOADER_LINUX_HDR_INITRD_ADDR_MAX, 4);
    memcpy(&ptr, bp + LOADER_LINUX_HDR_CMD_LINE_PTR, 4);
    FZ_CHECK(out->entry >= LOADER_LINUX_TRAMPOLINE && out->entry < LOADER_LINUX_PAGE_TABLES);
    FZ_CHECK(out->image_start >= LOADER_LINUX_MIN_LOAD && out->image_start < out->image_end);
    FZ_CHECK(out->image_end <= RAM_SIZE && out->info_end <= RAM_SIZE);
    FZ_CHECK(out->long_mode.rip == out->image_start + LOADER_LINUX_ENTRY64);
    FZ_CHECK(out->long_mode.rsi == LOADER_LINUX_ZERO_PAGE);
    FZ_CHECK(bp[LOADER_LINUX_HDR_TYPE_OF_LOADER] == LOADER_LINUX_TYPE_OF_LOADER);
    FZ_CHECK(ptr == LOADER_LINUX_CMDLINE && !strcmp((const char *)ram + ptr, cmdline));
    if (initrd_size) {
        FZ_CHECK(out->initrd_start >= out->image_end && out->initrd_end <= RAM_SIZE);
        FZ_CHECK(out->initrd_end - out->initrd_start == initrd_size);
        FZ_CHECK(out->initrd_end - 1 <= max);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *ram;
    if (!ram)
        ram = malloc(RAM_SIZE); /* kept between inputs: the pattern is restored after a load */
    FZ_CHECK(ram);
    struct fz f = {data, size, 0};
    uint8_t how = fz_u8(&f);

    /* The memory map: none (the default one), or up to 4 entries from the input. */
    struct loader_memmap map[4];
    size_t nmap = how & 1 ? fz_u8(&f) % 5 : 0;
    for (size_t i = 0; i < nmap; i++) {
        map[i].base = fz_u8(&f) & 0x80 ? fz_u64(&f) : (uint64_t)fz_u8(&f) << 16;
        map[i].length = fz_u8(&f) & 0x80 ? fz_u64(&f) : (uint64_t)fz_u8(&f) << 16;
        map[i].type = fz_u8(&f) % 5;
    }
    char cmdline[64];
    size_t ncmd = fz_u8(&f) % sizeof(cmdline);
    fz_bytes(&f, cmdline, ncmd);
    cmdline[ncmd] = 0;
    /* Modules: up to 2, each a few bytes of the input. */
    struct loader_module mods[2];
    uint8_t mod_data[2][32];
    size_t nmods = (how >> 1) % 3;
    for (size_t i = 0; i < nmods; i++) {
        mods[i].size = fz_u8(&f) % (sizeof(mod_data[i]) + 1);
        fz_bytes(&f, mod_data[i], mods[i].size);
        mods[i].data = mod_data[i];
        mods[i].cmdline = fz_u8(&f) & 1 ? "mod" : NULL;
    }
    uint64_t load_gpa = fz_u32(&f) % (RAM_SIZE + 0x2000); /* flat binaries; Linux: the RSDP */
    /* The image: the rest of the input, in a buffer of exactly its size. */
    size_t image_size = f.pos < f.size ? f.size - f.pos : 0;
    uint8_t *image = malloc(image_size ? image_size : 1);
    fz_bytes(&f, image, image_size);

    memset(ram, PATTERN, RAM_SIZE);
    struct loader_result out;
    int r;
    bool is_linux = (how & 0xC0) == 0x40;
    if (how & 0x80)
        r = loader_flat(image, image_size, ram, RAM_SIZE, load_gpa, &out);
    else if (is_linux)
        r = loader_linux(image, image_size, how & 8 ? NULL : cmdline, nmods ? mods[0].data : NULL,
                         nmods ? mods[0].size : 0, load_gpa, ram, RAM_SIZE, nmap ? map : NULL,
                         nmap, &out);
    else
        r = loader_multiboot(image, image_size, how & 8 ? NULL : cmdline, nmods ? mods : NULL, nmods,
                             ram, RAM_SIZE, nmap ? map : NULL, nmap, &out);
    if (r != 0) {
        FZ_CHECK(r == -EINVAL || r == -ENOEXEC || r == -ENOTSUP || r == -ENOSPC ||
                 (is_linux && r == -E2BIG));
        FZ_CHECK(untouched(ram));
    } else if (is_linux) {
        check_linux(ram, image, &out, how & 8 ? "" : cmdline, nmods ? mods[0].size : 0);
    } else {
        FZ_CHECK(out.image_start <= out.image_end && out.image_end <= RAM_SIZE);
        FZ_CHECK(out.entry >= out.image_start && out.entry < out.image_end);
        FZ_CHECK(out.image_end <= out.modules_end && out.modules_end <= RAM_SIZE);
        if (!(how & 0x80)) {
            FZ_CHECK(out.eax == LOADER_MB_BOOT_MAGIC);
            FZ_CHECK(out.info_start <= out.info_end && out.info_end <= RAM_SIZE);
            FZ_CHECK(out.ebx >= out.info_start && out.ebx + LOADER_MBI_SIZE <= out.info_end);
            uint32_t flags;
            memcpy(&flags, ram + out.ebx, 4);
            FZ_CHECK(flags & LOADER_MBI_MODS && flags & LOADER_MBI_MMAP);
            FZ_CHECK(!(flags & LOADER_MBI_CMDLINE) == !!(how & 8));
        }
    }
    free(image);
    return 0;
}
