/* fw_cfg over the traditional I/O ports: a table of numbered items and named files (copies owned
 * here, fixed-size tables), the generated file directory, and the selector/offset state the guest
 * drives one byte at a time. */
#include "fwcfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MASK 0x3FFF

static const uint8_t signature[4] = {'Q', 'E', 'M', 'U'};
static const uint8_t id_traditional[4] = {1, 0, 0, 0};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void rebuild_dir(struct fwcfg *fw)
{
    uint8_t *e;

    memset(fw->dir, 0, sizeof(fw->dir));
    put_be32(fw->dir, fw->nfiles);
    for (unsigned i = 0; i < fw->nfiles; i++) {
        e = fw->dir + 4 + i * FWCFG_DIR_ENTRY_SIZE;
        put_be32(e, fw->files[i].len);
        put_be16(e + 4, fw->files[i].key);
        memcpy(e + 8, fw->names[i], FWCFG_NAME_SIZE);
    }
    fw->dir_len = 4 + fw->nfiles * FWCFG_DIR_ENTRY_SIZE;
}

/* The item behind a selector, or NULL (reads as zeros). */
static const uint8_t *lookup(const struct fwcfg *fw, uint16_t key, uint32_t *len)
{
    *len = 0;
    switch (key) {
    case FWCFG_SIGNATURE:
        *len = sizeof(signature);
        return signature;
    case FWCFG_ID:
        *len = sizeof(id_traditional);
        return id_traditional;
    case FWCFG_FILE_DIR:
        *len = fw->dir_len;
        return fw->dir;
    default:
        break;
    }
    if (key >= FWCFG_FILE_FIRST && key < FWCFG_FILE_FIRST + fw->nfiles) {
        *len = fw->files[key - FWCFG_FILE_FIRST].len;
        return fw->files[key - FWCFG_FILE_FIRST].data;
    }
    for (unsigned i = 0; i < fw->nitems; i++) {
        if (fw->items[i].key == key) {
            *len = fw->items[i].len;
            return fw->items[i].data;
        }
    }
    return NULL;
}

/* The next byte of the selected item; 0 past its end. */
static uint8_t next_byte(struct fwcfg *fw)
{
    uint32_t len;
    const uint8_t *data = lookup(fw, fw->selector, &len);

    if (!data || fw->offset >= len)
        return 0;
    return data[fw->offset++];
}

/* Copy of the caller's data (NULL when empty); 0 or -errno. */
static int copy_data(const void *data, size_t len, uint8_t **out)
{
    *out = NULL;
    if (len > UINT32_MAX || (len && !data))
        return -EINVAL;
    if (len == 0)
        return 0;
    *out = malloc(len);
    if (!*out)
        return -ENOMEM;
    memcpy(*out, data, len);
    return 0;
}

/* Replace an item's data; frees the old copy. */
static void set_item(struct fwcfg_item *item, uint16_t key, uint8_t *data, size_t len)
{
    free(item->data);
    item->key = key;
    item->data = data;
    item->len = (uint32_t)len;
}

int fwcfg_init(struct fwcfg *fw)
{
    int err;

    memset(fw, 0, sizeof(*fw));
    err = pthread_mutex_init(&fw->lock, NULL);
    if (err)
        return -err;
    rebuild_dir(fw);
    return 0;
}

void fwcfg_destroy(struct fwcfg *fw)
{
    for (unsigned i = 0; i < fw->nitems; i++)
        free(fw->items[i].data);
    for (unsigned i = 0; i < fw->nfiles; i++)
        free(fw->files[i].data);
    pthread_mutex_destroy(&fw->lock);
}

int fwcfg_add(struct fwcfg *fw, uint16_t key, const void *data, size_t len)
{
    uint16_t index = key & KEY_MASK;
    uint8_t *copy;
    unsigned i;
    int err;

    if (key & FWCFG_WRITE_CHANNEL)
        return -EINVAL;
    if (!(key & FWCFG_ARCH_LOCAL) &&
        (index == FWCFG_SIGNATURE || index == FWCFG_ID || index == FWCFG_FILE_DIR || index >= FWCFG_FILE_FIRST))
        return -EINVAL;
    err = copy_data(data, len, &copy);
    if (err)
        return err;
    pthread_mutex_lock(&fw->lock);
    for (i = 0; i < fw->nitems && fw->items[i].key != key; i++)
        ;
    if (i == FWCFG_MAX_ITEMS) {
        pthread_mutex_unlock(&fw->lock);
        free(copy);
        return -ENOSPC;
    }
    if (i == fw->nitems)
        fw->nitems++;
    set_item(&fw->items[i], key, copy, len);
    pthread_mutex_unlock(&fw->lock);
    return 0;
}

int fwcfg_add_u16(struct fwcfg *fw, uint16_t key, uint16_t value)
{
    uint8_t le[2] = {(uint8_t)value, (uint8_t)(value >> 8)};

    return fwcfg_add(fw, key, le, sizeof(le));
}

int fwcfg_add_u32(struct fwcfg *fw, uint16_t key, uint32_t value)
{
    uint8_t le[4];

    for (unsigned i = 0; i < sizeof(le); i++)
        le[i] = (uint8_t)(value >> (8 * i));
    return fwcfg_add(fw, key, le, sizeof(le));
}

int fwcfg_add_u64(struct fwcfg *fw, uint16_t key, uint64_t value)
{
    uint8_t le[8];

    for (unsigned i = 0; i < sizeof(le); i++)
        le[i] = (uint8_t)(value >> (8 * i));
    return fwcfg_add(fw, key, le, sizeof(le));
}

/* A size item and its data item. */
static int add_sized(struct fwcfg *fw, uint16_t size_key, uint16_t data_key, const void *data, size_t len)
{
    int err;

    if (len > UINT32_MAX)
        return -EINVAL;
    err = fwcfg_add(fw, data_key, data, len);
    return err ? err : fwcfg_add_u32(fw, size_key, (uint32_t)len);
}

int fwcfg_set_cmdline(struct fwcfg *fw, const char *cmdline)
{
    if (!cmdline)
        return -EINVAL;
    return add_sized(fw, FWCFG_CMDLINE_SIZE, FWCFG_CMDLINE_DATA, cmdline, strlen(cmdline) + 1);
}

int fwcfg_set_kernel(struct fwcfg *fw, const void *data, size_t len)
{
    return add_sized(fw, FWCFG_KERNEL_SIZE, FWCFG_KERNEL_DATA, data, len);
}

int fwcfg_set_initrd(struct fwcfg *fw, const void *data, size_t len)
{
    return add_sized(fw, FWCFG_INITRD_SIZE, FWCFG_INITRD_DATA, data, len);
}

int fwcfg_add_file(struct fwcfg *fw, const char *name, const void *data, size_t len)
{
    size_t name_len = name ? strnlen(name, FWCFG_NAME_SIZE) : 0;
    uint8_t *copy;
    unsigned i;
    int err;

    if (name_len == 0 || name_len >= FWCFG_NAME_SIZE)
        return -EINVAL;
    err = copy_data(data, len, &copy);
    if (err)
        return err;
    pthread_mutex_lock(&fw->lock);
    for (i = 0; i < fw->nfiles && strcmp(fw->names[i], name) != 0; i++)
        ;
    if (i == FWCFG_MAX_FILES) {
        pthread_mutex_unlock(&fw->lock);
        free(copy);
        return -ENOSPC;
    }
    if (i == fw->nfiles) {
        fw->nfiles++;
        memset(fw->names[i], 0, FWCFG_NAME_SIZE);
        memcpy(fw->names[i], name, name_len);
    }
    set_item(&fw->files[i], (uint16_t)(FWCFG_FILE_FIRST + i), copy, len);
    rebuild_dir(fw);
    pthread_mutex_unlock(&fw->lock);
    return FWCFG_FILE_FIRST + (int)i;
}

void fwcfg_pio_read(struct fwcfg *fw, uint16_t offset, uint32_t *data, unsigned size)
{
    if (offset != FWCFG_DATA || size != 1) {
        *data = size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
        return;
    }
    pthread_mutex_lock(&fw->lock);
    *data = next_byte(fw);
    pthread_mutex_unlock(&fw->lock);
}

void fwcfg_pio_write(struct fwcfg *fw, uint16_t offset, uint32_t data, unsigned size)
{
    if (offset != FWCFG_SELECTOR || size != 2)
        return; /* data-port writes are ignored, as in QEMU since 2.4 */
    pthread_mutex_lock(&fw->lock);
    fw->selector = (uint16_t)(data & (FWCFG_ARCH_LOCAL | KEY_MASK));
    fw->offset = 0;
    pthread_mutex_unlock(&fw->lock);
}

void fwcfg_data_read(struct fwcfg *fw, uint8_t *buf, size_t n)
{
    pthread_mutex_lock(&fw->lock);
    for (size_t i = 0; i < n; i++)
        buf[i] = next_byte(fw);
    pthread_mutex_unlock(&fw->lock);
}
