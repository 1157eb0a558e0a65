/* QEMU's fw_cfg firmware configuration device, traditional I/O interface only (no DMA): the guest
 * writes a 16-bit selector to 0x510 and reads the item byte by byte from 0x511. The VMM fills in
 * numbered items (RAM size, CPUs, command line, kernel, ...) and named files. */
#ifndef OPENWHP_DEVICES_FWCFG_H
#define OPENWHP_DEVICES_FWCFG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define FWCFG_PORT_BASE 0x510 /* the VMM passes offsets from here */
#define FWCFG_SELECTOR 0      /* 16-bit write */
#define FWCFG_DATA 1          /* 8-bit read */

/* Selector keys (docs/specs/fw_cfg.rst in QEMU). Numeric values are little-endian. */
#define FWCFG_SIGNATURE 0x00 /* "QEMU", built in */
#define FWCFG_ID 0x01        /* 32-bit feature bits, built in: 1 = traditional interface */
#define FWCFG_UUID 0x02
#define FWCFG_RAM_SIZE 0x03 /* 64-bit */
#define FWCFG_NOGRAPHIC 0x04
#define FWCFG_NB_CPUS 0x05 /* 16-bit */
#define FWCFG_MACHINE_ID 0x06
#define FWCFG_KERNEL_ADDR 0x07
#define FWCFG_KERNEL_SIZE 0x08 /* 32-bit */
#define FWCFG_KERNEL_CMDLINE 0x09
#define FWCFG_INITRD_ADDR 0x0a
#define FWCFG_INITRD_SIZE 0x0b /* 32-bit */
#define FWCFG_BOOT_DEVICE 0x0c
#define FWCFG_NUMA 0x0d
#define FWCFG_BOOT_MENU 0x0e
#define FWCFG_MAX_CPUS 0x0f /* 16-bit */
#define FWCFG_KERNEL_ENTRY 0x10
#define FWCFG_KERNEL_DATA 0x11
#define FWCFG_INITRD_DATA 0x12
#define FWCFG_CMDLINE_ADDR 0x13
#define FWCFG_CMDLINE_SIZE 0x14 /* 32-bit, including the NUL */
#define FWCFG_CMDLINE_DATA 0x15
#define FWCFG_SETUP_ADDR 0x16
#define FWCFG_SETUP_SIZE 0x17
#define FWCFG_SETUP_DATA 0x18
#define FWCFG_FILE_DIR 0x19 /* built in */
#define FWCFG_FILE_FIRST 0x20
#define FWCFG_WRITE_CHANNEL 0x4000 /* selector flag, ignored (data writes are ignored) */
#define FWCFG_ARCH_LOCAL 0x8000    /* selector flag: architecture-specific keys, e.g. 0x8003 E820 */

#define FWCFG_MAX_ITEMS 32 /* numbered items the VMM may add */
#define FWCFG_MAX_FILES 32 /* named files, selectors 0x20-0x3F */
#define FWCFG_NAME_SIZE 56 /* file name field, NUL included */
#define FWCFG_DIR_ENTRY_SIZE 64

struct fwcfg_item {
    uint16_t key;
    uint32_t len;
    uint8_t *data; /* a copy owned by the fwcfg */
};

struct fwcfg {
    /* Protects every field below: the items, the directory and the guest's selection. */
    pthread_mutex_t lock;
    struct fwcfg_item items[FWCFG_MAX_ITEMS];
    unsigned nitems;
    struct fwcfg_item files[FWCFG_MAX_FILES]; /* files[i].key = FWCFG_FILE_FIRST + i */
    char names[FWCFG_MAX_FILES][FWCFG_NAME_SIZE];
    unsigned nfiles;
    /* FWCFG_FILE_DIR: big-endian count, then per file be32 size, be16 select, be16 0, name[56] */
    uint8_t dir[4 + FWCFG_MAX_FILES * FWCFG_DIR_ENTRY_SIZE];
    uint32_t dir_len;
    uint16_t selector; /* as written, flags stripped */
    uint32_t offset;   /* next byte of the selected item */
};

/* An empty device: signature, ID and an empty file directory. Returns 0 or -errno. */
int fwcfg_init(struct fwcfg *fw);
void fwcfg_destroy(struct fwcfg *fw);

/* Add or replace numbered item key (below FWCFG_FILE_FIRST, or FWCFG_ARCH_LOCAL | n); the data
 * is copied. Returns 0, -EINVAL (built-in or file key, len over 4 GiB), -ENOSPC or -ENOMEM. */
int fwcfg_add(struct fwcfg *fw, uint16_t key, const void *data, size_t len);
int fwcfg_add_u16(struct fwcfg *fw, uint16_t key, uint16_t value);
int fwcfg_add_u32(struct fwcfg *fw, uint16_t key, uint32_t value);
int fwcfg_add_u64(struct fwcfg *fw, uint16_t key, uint64_t value);
/* FWCFG_CMDLINE_SIZE and FWCFG_CMDLINE_DATA (the string with its NUL). */
int fwcfg_set_cmdline(struct fwcfg *fw, const char *cmdline);
/* FWCFG_KERNEL_SIZE/DATA and FWCFG_INITRD_SIZE/DATA. */
int fwcfg_set_kernel(struct fwcfg *fw, const void *data, size_t len);
int fwcfg_set_initrd(struct fwcfg *fw, const void *data, size_t len);

/* Add or replace a named file (1-55 characters, e.g. "etc/e820"); the data is copied. Returns
 * its selector (FWCFG_FILE_FIRST + n) or -EINVAL, -ENOSPC, -ENOMEM. */
int fwcfg_add_file(struct fwcfg *fw, const char *name, const void *data, size_t len);

/* Port access at offset 0 (selector: 16-bit writes) and 1 (data: 8-bit reads). Reads past the
 * end of an item and of unknown items return 0; other accesses are ignored, reading all ones. */
void fwcfg_pio_read(struct fwcfg *fw, uint16_t offset, uint32_t *data, unsigned size);
void fwcfg_pio_write(struct fwcfg *fw, uint16_t offset, uint32_t data, unsigned size);

/* n successive data-port bytes at once, for a VMM that completes `rep insb` in one go. */
void fwcfg_data_read(struct fwcfg *fw, uint8_t *buf, size_t n);

#endif
