/* Unit tests of the fw_cfg model (devices/fwcfg.c): signature and ID, numbered items in little
 * endian, the command line, the big-endian file directory, reads past the end, hostile selectors,
 * sizes and names, and the table limits. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fwcfg.h"

#include "check.h"

static struct fwcfg fw;

static void sel(uint16_t key)
{
    fwcfg_pio_write(&fw, FWCFG_SELECTOR, key, 2);
}

static uint8_t byte(void)
{
    uint32_t v = 0xDEAD;
    fwcfg_pio_read(&fw, FWCFG_DATA, &v, 1);
    return (uint8_t)v;
}

static void bytes(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = byte();
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_signature_and_id(void)
{
    uint8_t buf[8];

    sel(FWCFG_SIGNATURE);
    bytes(buf, 6);
    CHECK(memcmp(buf, "QEMU\0\0", 6) == 0); /* then zeros past the end */
    sel(FWCFG_ID);
    bytes(buf, 4);
    CHECK(memcmp(buf, "\1\0\0\0", 4) == 0); /* traditional interface, no DMA */
    sel(FWCFG_SIGNATURE); /* selecting rewinds */
    CHECK_EQ(byte(), 'Q');
    sel(FWCFG_SIGNATURE | FWCFG_WRITE_CHANNEL); /* the write flag is ignored */
    CHECK_EQ(byte(), 'Q');
}

static void test_numbered_items(void)
{
    uint8_t buf[9];

    CHECK_EQ(fwcfg_add_u64(&fw, FWCFG_RAM_SIZE, 0x0000000123456789ull), 0);
    CHECK_EQ(fwcfg_add_u16(&fw, FWCFG_NB_CPUS, 4), 0);
    CHECK_EQ(fwcfg_add_u32(&fw, FWCFG_ARCH_LOCAL | 3, 0xA1B2C3D4), 0);
    sel(FWCFG_RAM_SIZE);
    bytes(buf, 9);
    CHECK(memcmp(buf, "\x89\x67\x45\x23\x01\0\0\0\0", 9) == 0);
    sel(FWCFG_NB_CPUS);
    bytes(buf, 3);
    CHECK(memcmp(buf, "\4\0\0", 3) == 0);
    sel(FWCFG_ARCH_LOCAL | 3);
    bytes(buf, 4);
    CHECK(memcmp(buf, "\xD4\xC3\xB2\xA1", 4) == 0);
    sel(3); /* the arch flag is part of the key */
    CHECK_EQ(byte(), 0x89);
    /* replacing keeps one item */
    CHECK_EQ(fwcfg_add_u16(&fw, FWCFG_NB_CPUS, 2), 0);
    sel(FWCFG_NB_CPUS);
    CHECK_EQ(byte(), 2);
    /* built-in and file keys are not the VMM's, nor the write flag */
    CHECK_EQ(fwcfg_add(&fw, FWCFG_SIGNATURE, "XXXX", 4), -EINVAL);
    CHECK_EQ(fwcfg_add(&fw, FWCFG_ID, "\3\0\0\0", 4), -EINVAL);
    CHECK_EQ(fwcfg_add(&fw, FWCFG_FILE_DIR, "", 1), -EINVAL);
    CHECK_EQ(fwcfg_add(&fw, FWCFG_FILE_FIRST, "", 1), -EINVAL);
    CHECK_EQ(fwcfg_add(&fw, 0x3FFF, "", 1), -EINVAL);
    CHECK_EQ(fwcfg_add(&fw, FWCFG_WRITE_CHANNEL | FWCFG_UUID, "", 1), -EINVAL);
    CHECK_EQ(fwcfg_add(&fw, FWCFG_UUID, NULL, 4), -EINVAL);
    CHECK_EQ(fwcfg_add(&fw, FWCFG_UUID, "", (size_t)UINT32_MAX + 1), -EINVAL);
    sel(FWCFG_SIGNATURE);
    CHECK_EQ(byte(), 'Q');
    /* an empty item reads zeros */
    CHECK_EQ(fwcfg_add(&fw, FWCFG_NOGRAPHIC, NULL, 0), 0);
    sel(FWCFG_NOGRAPHIC);
    CHECK_EQ(byte(), 0);
}

static void test_cmdline_kernel(void)
{
    const char *cmdline = "console=ttyS0 panic=-1";
    size_t n = strlen(cmdline) + 1;
    uint8_t buf[64];

    CHECK_EQ(fwcfg_set_cmdline(&fw, cmdline), 0);
    CHECK_EQ(fwcfg_set_cmdline(&fw, NULL), -EINVAL);
    sel(FWCFG_CMDLINE_SIZE);
    bytes(buf, 4);
    CHECK_EQ(buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24, n);
    sel(FWCFG_CMDLINE_DATA);
    bytes(buf, n + 2);
    CHECK(memcmp(buf, cmdline, n) == 0);
    CHECK_EQ(buf[n - 1], 0);
    CHECK_EQ(buf[n], 0);
    CHECK_EQ(buf[n + 1], 0);

    CHECK_EQ(fwcfg_set_kernel(&fw, "\x7f" "ELF", 4), 0);
    CHECK_EQ(fwcfg_set_initrd(&fw, "INITRD", 6), 0);
    sel(FWCFG_KERNEL_SIZE);
    CHECK_EQ(byte(), 4);
    sel(FWCFG_KERNEL_DATA);
    bytes(buf, 4);
    CHECK(memcmp(buf, "\x7f" "ELF", 4) == 0);
    sel(FWCFG_INITRD_SIZE);
    CHECK_EQ(byte(), 6);
    sel(FWCFG_INITRD_DATA);
    /* the bulk read is the same byte stream */
    fwcfg_data_read(&fw, buf, 8);
    CHECK(memcmp(buf, "INITRD\0\0", 8) == 0);
}

static void test_file_dir(void)
{
    uint8_t buf[4 + 3 * FWCFG_DIR_ENTRY_SIZE + 4];
    const uint8_t *e;

    sel(FWCFG_FILE_DIR);
    bytes(buf, 8);
    CHECK(memcmp(buf, "\0\0\0\0\0\0\0\0", 8) == 0); /* no files: count 0, nothing after */

    CHECK_EQ(fwcfg_add_file(&fw, "etc/e820", "0123456789abcdefghij", 20), FWCFG_FILE_FIRST);
    CHECK_EQ(fwcfg_add_file(&fw, "opt/org.openwhp/test", "x", 1), FWCFG_FILE_FIRST + 1);
    CHECK_EQ(fwcfg_add_file(&fw, "etc/empty", NULL, 0), FWCFG_FILE_FIRST + 2);
    sel(FWCFG_FILE_DIR);
    bytes(buf, sizeof(buf));
    CHECK_EQ(be32(buf), 3);
    e = buf + 4;
    CHECK_EQ(be32(e), 20);
    CHECK_EQ(e[4] << 8 | e[5], FWCFG_FILE_FIRST);
    CHECK_EQ(e[6] | e[7], 0);
    CHECK(strcmp((const char *)e + 8, "etc/e820") == 0);
    for (unsigned i = 8 + 8; i < FWCFG_DIR_ENTRY_SIZE; i++)
        CHECK_EQ(e[i], 0); /* name padded with NULs */
    e += FWCFG_DIR_ENTRY_SIZE;
    CHECK_EQ(be32(e), 1);
    CHECK_EQ(e[4] << 8 | e[5], FWCFG_FILE_FIRST + 1);
    CHECK(strcmp((const char *)e + 8, "opt/org.openwhp/test") == 0);
    e += FWCFG_DIR_ENTRY_SIZE;
    CHECK_EQ(be32(e), 0);
    CHECK_EQ(e[4] << 8 | e[5], FWCFG_FILE_FIRST + 2);
    CHECK_EQ(be32(buf + 4 + 3 * FWCFG_DIR_ENTRY_SIZE), 0); /* past the end */

    sel(FWCFG_FILE_FIRST);
    bytes(buf, 21);
    CHECK(memcmp(buf, "0123456789abcdefghij", 21) == 0);

    /* same name: replaced in place, same selector, directory updated */
    CHECK_EQ(fwcfg_add_file(&fw, "etc/e820", "AB", 2), FWCFG_FILE_FIRST);
    sel(FWCFG_FILE_DIR);
    bytes(buf, 8);
    CHECK_EQ(be32(buf), 3);
    CHECK_EQ(be32(buf + 4), 2);
    sel(FWCFG_FILE_FIRST);
    bytes(buf, 3);
    CHECK(memcmp(buf, "AB", 3) == 0);
}

static void test_hostile(void)
{
    char name[FWCFG_NAME_SIZE + 1];
    uint32_t v;

    /* unknown selectors, including every unused one, read zeros */
    for (uint32_t key = 0; key <= 0xFFFF; key++) {
        sel((uint16_t)key);
        if ((key & 0xBFFF) > FWCFG_FILE_FIRST + 2 && (key & 0xBFFF) < FWCFG_ARCH_LOCAL) {
            if (byte() != 0)
                CHECK_EQ(key, -1);
        }
    }
    sel(0x3FFF);
    for (unsigned i = 0; i < 1000; i++)
        if (byte() != 0)
            CHECK(0);
    sel(FWCFG_ARCH_LOCAL | 0x7F);
    CHECK_EQ(byte(), 0);
    /* a long read of a short item stops at the end and stays there */
    sel(FWCFG_SIGNATURE);
    for (unsigned i = 0; i < 100000; i++)
        byte();
    CHECK_EQ(byte(), 0);
    /* selector writes of other sizes and data writes are ignored */
    sel(FWCFG_SIGNATURE);
    fwcfg_pio_write(&fw, FWCFG_SELECTOR, FWCFG_ID, 1);
    fwcfg_pio_write(&fw, FWCFG_SELECTOR, FWCFG_ID, 4);
    fwcfg_pio_write(&fw, FWCFG_DATA, 'X', 1);
    fwcfg_pio_write(&fw, FWCFG_DATA, FWCFG_ID, 2);
    fwcfg_pio_write(&fw, 7, FWCFG_ID, 2);
    CHECK_EQ(byte(), 'Q');
    /* wide or misplaced reads read all ones and do not advance */
    fwcfg_pio_read(&fw, FWCFG_DATA, &v, 2);
    CHECK_EQ(v, 0xFFFF);
    fwcfg_pio_read(&fw, FWCFG_DATA, &v, 4);
    CHECK_EQ(v, 0xFFFFFFFF);
    fwcfg_pio_read(&fw, FWCFG_SELECTOR, &v, 2);
    CHECK_EQ(v, 0xFFFF);
    fwcfg_pio_read(&fw, 2, &v, 1);
    CHECK_EQ(v, 0xFF);
    CHECK_EQ(byte(), 'E');
    /* the selector is 16 bits: higher bits of the value do not matter */
    fwcfg_pio_write(&fw, FWCFG_SELECTOR, 0xFFFF0000u | FWCFG_ID, 2);
    CHECK_EQ(byte(), 1);

    /* names: empty, NULL, too long (55 is the most), limits of the tables */
    CHECK_EQ(fwcfg_add_file(&fw, "", "x", 1), -EINVAL);
    CHECK_EQ(fwcfg_add_file(&fw, NULL, "x", 1), -EINVAL);
    memset(name, 'n', sizeof(name));
    name[FWCFG_NAME_SIZE] = 0;
    CHECK_EQ(fwcfg_add_file(&fw, name, "x", 1), -EINVAL);
    name[FWCFG_NAME_SIZE - 1] = 0;
    CHECK_EQ(fwcfg_add_file(&fw, name, "x", 1), FWCFG_FILE_FIRST + 3);
    sel(FWCFG_FILE_DIR);
    for (unsigned i = 0; i < 4 + 3 * FWCFG_DIR_ENTRY_SIZE + 8; i++)
        byte();
    for (unsigned i = 0; i < FWCFG_NAME_SIZE - 1; i++)
        if (byte() != 'n')
            CHECK(0);
    CHECK_EQ(byte(), 0); /* the name's NUL ends the entry */
    CHECK_EQ(fwcfg_add_file(&fw, "etc/x", NULL, 1), -EINVAL);
}

static void test_limits(void)
{
    struct fwcfg small;
    char name[16];
    uint8_t count[4];
    uint32_t v;
    int ret = 0;

    CHECK_EQ(fwcfg_init(&small), 0);
    for (unsigned i = 0; i < FWCFG_MAX_FILES; i++) {
        snprintf(name, sizeof(name), "f%u", i);
        ret = fwcfg_add_file(&small, name, name, strlen(name));
        if (ret != (int)(FWCFG_FILE_FIRST + i))
            CHECK_EQ(ret, FWCFG_FILE_FIRST + i);
    }
    CHECK_EQ(fwcfg_add_file(&small, "one-too-many", "x", 1), -ENOSPC);
    CHECK_EQ(fwcfg_add_file(&small, "f0", "again", 5), FWCFG_FILE_FIRST); /* replacing still works */
    for (unsigned i = 0; i < FWCFG_MAX_ITEMS; i++) {
        ret = fwcfg_add_u32(&small, (uint16_t)(FWCFG_ARCH_LOCAL | i), i);
        if (ret != 0)
            CHECK_EQ(ret, 0);
    }
    CHECK_EQ(fwcfg_add_u32(&small, FWCFG_RAM_SIZE, 1), -ENOSPC);
    CHECK_EQ(fwcfg_add_u32(&small, FWCFG_ARCH_LOCAL | 5, 55), 0);
    fwcfg_pio_write(&small, FWCFG_SELECTOR, FWCFG_FILE_DIR, 2);
    for (unsigned i = 0; i < 4; i++) {
        fwcfg_pio_read(&small, FWCFG_DATA, &v, 1);
        count[i] = (uint8_t)v;
    }
    CHECK_EQ(be32(count), FWCFG_MAX_FILES);
    fwcfg_destroy(&small);
}

int main(void)
{
    CHECK_EQ(fwcfg_init(&fw), 0);
    test_signature_and_id();
    test_numbered_items();
    test_cmdline_kernel();
    test_file_dir();
    test_hostile();
    fwcfg_destroy(&fw);
    test_limits();
    return check_report();
}
