/* The HANDLE table of the layer's own objects (threads, files) and CloseHandle, which closes
 * any handle: a table handle, or one of the library's event handles. A table handle is
 * TABLE_TAG | (generation << 32) | (slot + 1); a slot's generation changes on reuse, so a
 * closed handle stays invalid. */
#include "w32.h"

#include <pthread.h>
#include <stdlib.h>

_Static_assert(sizeof(HANDLE) == 8, "table handles need 64-bit pointers");
#define TABLE_TAG (1ull << 63)
#define GEN_SHIFT 32
#define GEN_MASK 0x7fffffffu
#define SLOT_MASK 0xffffffffu
#define MAX_SLOTS (1u << 24) /* keeps (HANDLE)-1 and (HANDLE)-2 out of the table's range */
#define FIRST_SLOTS 64
#define PSEUDO_CURRENT_PROCESS ((HANDLE)(LONG_PTR)-1)
#define PSEUDO_CURRENT_THREAD ((HANDLE)(LONG_PTR)-2)

struct slot {
    struct w32_object *obj; /* NULL when free */
    uint32_t gen;
};

/* lock protects slots[] and nslots; object reference counts are atomic. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *slots;
static uint32_t nslots;

bool w32_handle_is_table(HANDLE h)
{
    return ((uintptr_t)h & TABLE_TAG) != 0;
}

void w32_object_ref(struct w32_object *o)
{
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

void w32_object_put(struct w32_object *o)
{
    if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0)
        o->destroy(o);
}

static bool grow_locked(void)
{
    uint32_t n = nslots ? nslots * 2 : FIRST_SLOTS;
    if (n > MAX_SLOTS)
        return false;
    struct slot *s = realloc(slots, (size_t)n * sizeof(*s));
    if (!s)
        return false;
    for (uint32_t i = nslots; i < n; i++)
        s[i] = (struct slot){NULL, 0};
    slots = s;
    nslots = n;
    return true;
}

HANDLE w32_handle_insert(struct w32_object *o)
{
    pthread_mutex_lock(&lock);
    uint32_t i = 0;
    while (i < nslots && slots[i].obj)
        i++;
    if (i == nslots && !grow_locked()) {
        pthread_mutex_unlock(&lock);
        w32_fail(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    struct slot *s = &slots[i];
    s->gen = (s->gen & GEN_MASK) == GEN_MASK ? 1 : s->gen + 1;
    s->obj = o;
    uintptr_t h = TABLE_TAG | ((uintptr_t)s->gen << GEN_SHIFT) | (uintptr_t)(i + 1);
    pthread_mutex_unlock(&lock);
    return (HANDLE)h;
}

/* The slot of a live table handle, or NULL. Called with the lock held. */
static struct slot *find_locked(HANDLE h)
{
    uintptr_t v = (uintptr_t)h;
    if (!(v & TABLE_TAG))
        return NULL;
    uint64_t index = v & SLOT_MASK, gen = (v & ~TABLE_TAG) >> GEN_SHIFT;
    if (index == 0 || index > nslots)
        return NULL;
    struct slot *s = &slots[index - 1];
    return s->obj && s->gen == gen ? s : NULL;
}

struct w32_object *w32_handle_get_any(HANDLE h)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find_locked(h);
    struct w32_object *o = s ? s->obj : NULL;
    if (o)
        w32_object_ref(o);
    pthread_mutex_unlock(&lock);
    if (!o)
        w32_fail(ERROR_INVALID_HANDLE);
    return o;
}

struct w32_object *w32_handle_get(HANDLE h, enum w32_kind kind)
{
    struct w32_object *o = w32_handle_get_any(h);
    if (o && o->kind != kind) {
        w32_object_put(o);
        w32_fail(ERROR_INVALID_HANDLE);
        return NULL;
    }
    return o;
}

bool w32_handle_remove(HANDLE h)
{
    pthread_mutex_lock(&lock);
    struct slot *s = find_locked(h);
    struct w32_object *o = s ? s->obj : NULL;
    if (s)
        s->obj = NULL;
    pthread_mutex_unlock(&lock);
    if (o)
        w32_object_put(o);
    return o != NULL;
}

HANDLE WINAPI GetCurrentProcess(VOID)
{
    return PSEUDO_CURRENT_PROCESS;
}

BOOL WINAPI CloseHandle(HANDLE hObject)
{
    if (hObject == PSEUDO_CURRENT_PROCESS || hObject == PSEUDO_CURRENT_THREAD)
        return TRUE;
    if (!hObject)
        return w32_fail(ERROR_INVALID_HANDLE);
    if (w32_handle_is_table(hObject))
        return w32_handle_remove(hObject) ? TRUE : w32_fail(ERROR_INVALID_HANDLE);
    return OpenWhpCloseEvent(hObject) ? TRUE : w32_fail(ERROR_INVALID_HANDLE);
}
