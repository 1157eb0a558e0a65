/* DEFINE_ENUM_FLAG_OPERATORS as winnt.h defines it: in C++ it gives a flag enum the bitwise
 * operators (|, &, ^, ~ and the compound forms) on its underlying integer; in C it expands to
 * nothing, since C enums already combine as ints. The WHP headers apply it to their flag enums. */
#ifndef OPENWHP_COMPAT_ENUMFLAGS_H
#define OPENWHP_COMPAT_ENUMFLAGS_H

#ifndef DEFINE_ENUM_FLAG_OPERATORS
#ifdef __cplusplus

#include <stddef.h>
#include <stdint.h>

extern "C++" {
template <size_t S> struct _ENUM_FLAG_INTEGER_FOR_SIZE;
template <> struct _ENUM_FLAG_INTEGER_FOR_SIZE<1> { typedef int8_t type; };
template <> struct _ENUM_FLAG_INTEGER_FOR_SIZE<2> { typedef int16_t type; };
template <> struct _ENUM_FLAG_INTEGER_FOR_SIZE<4> { typedef int32_t type; };
template <> struct _ENUM_FLAG_INTEGER_FOR_SIZE<8> { typedef int64_t type; };
/* The signed integer of the enum's size, as winnt.h uses. */
template <class T> struct _ENUM_FLAG_SIZED_INTEGER {
    typedef typename _ENUM_FLAG_INTEGER_FOR_SIZE<sizeof(T)>::type type;
};
}

#define DEFINE_ENUM_FLAG_OPERATORS(ENUMTYPE)                                                       \
    extern "C++" {                                                                                 \
    inline constexpr ENUMTYPE operator|(ENUMTYPE a, ENUMTYPE b) noexcept                           \
    {                                                                                              \
        return ENUMTYPE(((_ENUM_FLAG_SIZED_INTEGER<ENUMTYPE>::type)a) |                            \
                        ((_ENUM_FLAG_SIZED_INTEGER<ENUMTYPE>::type)b));                            \
    }                                                                                              \
    inline ENUMTYPE &operator|=(ENUMTYPE &a, ENUMTYPE b) noexcept { return a = a | b; }            \
    inline constexpr ENUMTYPE operator&(ENUMTYPE a, ENUMTYPE b) noexcept                           \
    {                                                                                              \
        return ENUMTYPE(((_ENUM_FLAG_SIZED_INTEGER<ENUMTYPE>::type)a) &                            \
                        ((_ENUM_FLAG_SIZED_INTEGER<ENUMTYPE>::type)b));                            \
    }                                                                                              \
    inline ENUMTYPE &operator&=(ENUMTYPE &a, ENUMTYPE b) noexcept { return a = a & b; }            \
    inline constexpr ENUMTYPE operator~(ENUMTYPE a) noexcept                                       \
    {                                                                                              \
        return ENUMTYPE(~((_ENUM_FLAG_SIZED_INTEGER<ENUMTYPE>::type)a));                           \
    }                                                                                              \
    inline constexpr ENUMTYPE operator^(ENUMTYPE a, ENUMTYPE b) noexcept                           \
    {                                                                                              \
        return ENUMTYPE(((_ENUM_FLAG_SIZED_INTEGER<ENUMTYPE>::type)a) ^                            \
                        ((_ENUM_FLAG_SIZED_INTEGER<ENUMTYPE>::type)b));                            \
    }                                                                                              \
    inline ENUMTYPE &operator^=(ENUMTYPE &a, ENUMTYPE b) noexcept { return a = a ^ b; }            \
    }

#else
#define DEFINE_ENUM_FLAG_OPERATORS(ENUMTYPE) /* C: enums already combine as ints */
#endif
#endif /* DEFINE_ENUM_FLAG_OPERATORS */

#endif /* OPENWHP_COMPAT_ENUMFLAGS_H */
