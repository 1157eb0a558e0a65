/* The fuzz input as a stream of choices: every harness reads its operations and arguments from
 * here. Reading past the end yields zeros, so any input is a complete (if short) program. */
#ifndef OPENWHP_FUZZ_INPUT_H
#define OPENWHP_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz {
    const uint8_t *data;
    size_t size, pos;
};

static inline bool fz_more(const struct fz *f)
{
    return f->pos < f->size;
}

static inline void fz_bytes(struct fz *f, void *dst, size_t n)
{
    size_t have = f->pos < f->size ? f->size - f->pos : 0;
    size_t k = n < have ? n : have;
    memcpy(dst, f->data + f->pos, k);
    memset((uint8_t *)dst + k, 0, n - k);
    f->pos += k;
}

static inline uint8_t fz_u8(struct fz *f)
{
    uint8_t v;
    fz_bytes(f, &v, 1);
    return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
    uint16_t v;
    fz_bytes(f, &v, 2);
    return v;
}

static inline uint32_t fz_u32(struct fz *f)
{
    uint32_t v;
    fz_bytes(f, &v, 4);
    return v;
}

static inline uint64_t fz_u64(struct fz *f)
{
    uint64_t v;
    fz_bytes(f, &v, 8);
    return v;
}

/* A value below n (n > 0). */
static inline unsigned fz_below(struct fz *f, unsigned n)
{
    return n <= 256 ? fz_u8(f) % n : fz_u16(f) % n;
}

/* One of the values of a table: biases the input towards meaningful constants. */
#define FZ_PICK(f, table) ((table)[fz_below((f), sizeof(table) / sizeof((table)[0]))])

/* A broken invariant: report where and abort, which libFuzzer records as a crash. */
#define FZ_CHECK(cond)                                                                        \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

#endif
