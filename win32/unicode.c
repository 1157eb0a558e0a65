/* UTF-16 (WCHAR) to UTF-8 for the W functions, whose strings become Linux paths and names. */
#include "w32.h"

#include <stdlib.h>

#define REPLACEMENT_CHARACTER 0xFFFDu
#define SURROGATE_HIGH_FIRST 0xD800u
#define SURROGATE_LOW_FIRST 0xDC00u
#define SURROGATE_LAST 0xDFFFu

/* The code point at s[*i], advancing *i past it. */
static uint32_t next_code_point(const WCHAR *s, size_t *i)
{
    uint32_t c = s[(*i)++];
    if (c < SURROGATE_HIGH_FIRST || c > SURROGATE_LAST)
        return c;
    if (c < SURROGATE_LOW_FIRST && s[*i] >= SURROGATE_LOW_FIRST && s[*i] <= SURROGATE_LAST) {
        uint32_t low = s[(*i)++];
        return 0x10000u + ((c - SURROGATE_HIGH_FIRST) << 10) + (low - SURROGATE_LOW_FIRST);
    }
    return REPLACEMENT_CHARACTER;
}

static size_t put_utf8(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

char *w32_utf16_to_utf8(const WCHAR *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    /* Each UTF-16 unit gives at most 3 bytes (a surrogate pair: 4 bytes for 2 units). */
    char *out = malloc(3 * n + 1);
    if (!out) {
        w32_fail(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    size_t len = 0;
    for (size_t i = 0; i < n;)
        len += put_utf8(next_code_point(s, &i), out + len);
    out[len] = '\0';
    return out;
}
