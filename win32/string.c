/* MSVC CRT string names: the _snprintf family (-1 on truncation, no terminator then), the
 * bounds-checked _s forms (always terminated; -1 with errno ERANGE and an empty buffer where
 * MSVC calls its invalid-parameter handler, except _TRUNCATE, which truncates), strcpy_s,
 * strcat_s and the case-insensitive compares. These set errno, as the CRT does. */
#include "w32.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>

int _vsnprintf(char *buffer, size_t count, const char *format, va_list args)
{
    if (!format || (!buffer && count)) {
        errno = EINVAL;
        return -1;
    }
    va_list again;
    va_copy(again, args);
    int len = vsnprintf(NULL, 0, format, args);
    if (len >= 0 && (size_t)len < count) {
        vsnprintf(buffer, count, format, again);
    } else if (len >= 0 && count) {
        /* count characters without a terminator: format whole, copy the head. */
        char *whole = malloc((size_t)len + 1);
        if (whole) {
            vsnprintf(whole, (size_t)len + 1, format, again);
            memcpy(buffer, whole, count);
            free(whole);
        } else {
            errno = ENOMEM;
            len = -1;
        }
    }
    va_end(again);
    if (len < 0)
        return -1;
    return (size_t)len <= count ? len : -1;
}

int _snprintf(char *buffer, size_t count, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = _vsnprintf(buffer, count, format, args);
    va_end(args);
    return n;
}

int _vsnprintf_s(char *buffer, size_t sizeOfBuffer, size_t count, const char *format,
                 va_list args)
{
    if (!buffer || sizeOfBuffer == 0 || !format) {
        if (buffer && sizeOfBuffer)
            buffer[0] = '\0';
        errno = EINVAL;
        return -1;
    }
    bool truncate = count == _TRUNCATE || count < sizeOfBuffer;
    size_t max = count < sizeOfBuffer ? count : sizeOfBuffer - 1;
    int len = vsnprintf(buffer, max + 1, format, args);
    if (len < 0) {
        buffer[0] = '\0';
        return -1;
    }
    if ((size_t)len <= max)
        return len;
    if (!truncate) {
        buffer[0] = '\0';
        errno = ERANGE;
    }
    return -1;
}

int _snprintf_s(char *buffer, size_t sizeOfBuffer, size_t count, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = _vsnprintf_s(buffer, sizeOfBuffer, count, format, args);
    va_end(args);
    return n;
}

int vsprintf_s(char *buffer, size_t sizeOfBuffer, const char *format, va_list args)
{
    return _vsnprintf_s(buffer, sizeOfBuffer, sizeOfBuffer, format, args);
}

int sprintf_s(char *buffer, size_t sizeOfBuffer, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int n = vsprintf_s(buffer, sizeOfBuffer, format, args);
    va_end(args);
    return n;
}

errno_t strcpy_s(char *dest, size_t destsz, const char *src)
{
    if (!dest || destsz == 0)
        return EINVAL;
    if (!src) {
        dest[0] = '\0';
        return EINVAL;
    }
    size_t n = strlen(src);
    if (n >= destsz) {
        dest[0] = '\0';
        return ERANGE;
    }
    memcpy(dest, src, n + 1);
    return 0;
}

errno_t strcat_s(char *dest, size_t destsz, const char *src)
{
    if (!dest || destsz == 0)
        return EINVAL;
    size_t used = strnlen(dest, destsz);
    if (!src || used == destsz) {
        dest[0] = '\0';
        return EINVAL;
    }
    size_t n = strlen(src);
    if (used + n >= destsz) {
        dest[0] = '\0';
        return ERANGE;
    }
    memcpy(dest + used, src, n + 1);
    return 0;
}

int _stricmp(const char *string1, const char *string2)
{
    return strcasecmp(string1, string2);
}

int _strnicmp(const char *string1, const char *string2, size_t count)
{
    return strncasecmp(string1, string2, count);
}
