/* The Interlocked family and the _Bit* intrinsics as exported functions, on the compiler's
 * __atomic builtins (sequentially consistent, as the Windows functions are full barriers). */
#include "w32.h"

#define SC __ATOMIC_SEQ_CST

LONG WINAPI InterlockedIncrement(LONG volatile *Addend) { return __atomic_add_fetch(Addend, 1, SC); }
LONG WINAPI InterlockedDecrement(LONG volatile *Addend) { return __atomic_sub_fetch(Addend, 1, SC); }
LONG WINAPI InterlockedExchange(LONG volatile *Target, LONG Value) { return __atomic_exchange_n(Target, Value, SC); }
LONG WINAPI InterlockedExchangeAdd(LONG volatile *Addend, LONG Value) { return __atomic_fetch_add(Addend, Value, SC); }
LONG WINAPI InterlockedAdd(LONG volatile *Addend, LONG Value) { return __atomic_add_fetch(Addend, Value, SC); }
LONG WINAPI InterlockedAnd(LONG volatile *Destination, LONG Value) { return __atomic_fetch_and(Destination, Value, SC); }
LONG WINAPI InterlockedOr(LONG volatile *Destination, LONG Value) { return __atomic_fetch_or(Destination, Value, SC); }
LONG WINAPI InterlockedXor(LONG volatile *Destination, LONG Value) { return __atomic_fetch_xor(Destination, Value, SC); }

LONG WINAPI InterlockedCompareExchange(LONG volatile *Destination, LONG ExChange, LONG Comperand)
{
    __atomic_compare_exchange_n(Destination, &Comperand, ExChange, false, SC, SC);
    return Comperand; /* the value found, whether or not it was replaced */
}

LONG64 WINAPI InterlockedIncrement64(LONG64 volatile *Addend) { return __atomic_add_fetch(Addend, 1, SC); }
LONG64 WINAPI InterlockedDecrement64(LONG64 volatile *Addend) { return __atomic_sub_fetch(Addend, 1, SC); }
LONG64 WINAPI InterlockedExchange64(LONG64 volatile *Target, LONG64 Value) { return __atomic_exchange_n(Target, Value, SC); }
LONG64 WINAPI InterlockedExchangeAdd64(LONG64 volatile *Addend, LONG64 Value) { return __atomic_fetch_add(Addend, Value, SC); }
LONG64 WINAPI InterlockedAdd64(LONG64 volatile *Addend, LONG64 Value) { return __atomic_add_fetch(Addend, Value, SC); }
LONG64 WINAPI InterlockedAnd64(LONG64 volatile *Destination, LONG64 Value) { return __atomic_fetch_and(Destination, Value, SC); }
LONG64 WINAPI InterlockedOr64(LONG64 volatile *Destination, LONG64 Value) { return __atomic_fetch_or(Destination, Value, SC); }
LONG64 WINAPI InterlockedXor64(LONG64 volatile *Destination, LONG64 Value) { return __atomic_fetch_xor(Destination, Value, SC); }

LONG64 WINAPI InterlockedCompareExchange64(LONG64 volatile *Destination, LONG64 ExChange,
                                           LONG64 Comperand)
{
    __atomic_compare_exchange_n(Destination, &Comperand, ExChange, false, SC, SC);
    return Comperand;
}

PVOID WINAPI InterlockedExchangePointer(PVOID volatile *Target, PVOID Value)
{
    return __atomic_exchange_n(Target, Value, SC);
}

PVOID WINAPI InterlockedCompareExchangePointer(PVOID volatile *Destination, PVOID ExChange,
                                               PVOID Comperand)
{
    __atomic_compare_exchange_n(Destination, &Comperand, ExChange, false, SC, SC);
    return Comperand;
}

VOID WINAPI MemoryBarrier(VOID)
{
    __atomic_thread_fence(SC);
}

BOOLEAN WINAPI _BitScanForward(ULONG *Index, ULONG Mask)
{
    if (!Mask)
        return 0;
    *Index = (ULONG)__builtin_ctz(Mask);
    return 1;
}

BOOLEAN WINAPI _BitScanReverse(ULONG *Index, ULONG Mask)
{
    if (!Mask)
        return 0;
    *Index = 31u - (ULONG)__builtin_clz(Mask);
    return 1;
}

BOOLEAN WINAPI _BitScanForward64(ULONG *Index, ULONG64 Mask)
{
    if (!Mask)
        return 0;
    *Index = (ULONG)__builtin_ctzll(Mask);
    return 1;
}

BOOLEAN WINAPI _BitScanReverse64(ULONG *Index, ULONG64 Mask)
{
    if (!Mask)
        return 0;
    *Index = 63u - (ULONG)__builtin_clzll(Mask);
    return 1;
}

/* BT with a memory operand: bit Offset counted from Base, negative offsets below it. */
#define WORD_OF(offset, bits) ((offset) >= 0 ? (offset) / (bits) : -((-(offset) + (bits) - 1) / (bits)))
#define BIT32(offset) (1u << ((uint32_t)(offset) & 31u))
#define BIT64(offset) (1ull << ((uint64_t)(offset) & 63u))

BOOLEAN WINAPI _bittest(const LONG *Base, LONG Offset)
{
    return (((uint32_t)Base[WORD_OF(Offset, 32)]) & BIT32(Offset)) != 0;
}

/* op: 0 set, 1 reset, 2 complement; the old bit is returned. */
static BOOLEAN modify32(LONG *Base, LONG Offset, int op)
{
    uint32_t *w = (uint32_t *)&Base[WORD_OF(Offset, 32)], bit = BIT32(Offset), old = *w;
    *w = op == 0 ? old | bit : op == 1 ? old & ~bit : old ^ bit;
    return (old & bit) != 0;
}

static BOOLEAN modify64(LONG64 *Base, LONG64 Offset, int op)
{
    uint64_t *w = (uint64_t *)&Base[WORD_OF(Offset, 64)], bit = BIT64(Offset), old = *w;
    *w = op == 0 ? old | bit : op == 1 ? old & ~bit : old ^ bit;
    return (old & bit) != 0;
}

BOOLEAN WINAPI _bittestandset(LONG *Base, LONG Offset) { return modify32(Base, Offset, 0); }
BOOLEAN WINAPI _bittestandreset(LONG *Base, LONG Offset) { return modify32(Base, Offset, 1); }
BOOLEAN WINAPI _bittestandcomplement(LONG *Base, LONG Offset) { return modify32(Base, Offset, 2); }

BOOLEAN WINAPI _bittest64(const LONG64 *Base, LONG64 Offset)
{
    return (((uint64_t)Base[WORD_OF(Offset, 64)]) & BIT64(Offset)) != 0;
}

BOOLEAN WINAPI _bittestandset64(LONG64 *Base, LONG64 Offset) { return modify64(Base, Offset, 0); }
BOOLEAN WINAPI _bittestandreset64(LONG64 *Base, LONG64 Offset) { return modify64(Base, Offset, 1); }
BOOLEAN WINAPI _bittestandcomplement64(LONG64 *Base, LONG64 Offset) { return modify64(Base, Offset, 2); }

BOOLEAN WINAPI _interlockedbittestandset(LONG volatile *Base, LONG Offset)
{
    return (__atomic_fetch_or(&Base[WORD_OF(Offset, 32)], (LONG)BIT32(Offset), SC) & (LONG)BIT32(Offset)) != 0;
}

BOOLEAN WINAPI _interlockedbittestandreset(LONG volatile *Base, LONG Offset)
{
    return (__atomic_fetch_and(&Base[WORD_OF(Offset, 32)], (LONG)~BIT32(Offset), SC) & (LONG)BIT32(Offset)) != 0;
}

BOOLEAN WINAPI _interlockedbittestandset64(LONG64 volatile *Base, LONG64 Offset)
{
    return (__atomic_fetch_or(&Base[WORD_OF(Offset, 64)], (LONG64)BIT64(Offset), SC) & (LONG64)BIT64(Offset)) != 0;
}

BOOLEAN WINAPI _interlockedbittestandreset64(LONG64 volatile *Base, LONG64 Offset)
{
    return (__atomic_fetch_and(&Base[WORD_OF(Offset, 64)], (LONG64)~BIT64(Offset), SC) & (LONG64)BIT64(Offset)) != 0;
}
