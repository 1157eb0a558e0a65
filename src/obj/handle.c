/* The partition handle table. A WHV_PARTITION_HANDLE is a slot number plus a generation, never a
 * pointer, so a deleted or forged handle is refused instead of followed. Every API call looks its
 * handle up here, so the lookup takes no lock: each slot packs its generation, a "dying" bit and
 * the count of calls in progress into one atomic word, and a call enters with one compare-and-
 * swap that fails once the handle is stale or being deleted. Slots live in chunks that are never
 * freed, so a racing lookup always reads valid memory. */
#include "obj/obj.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOT_BITS 16
#define MAX_PARTITIONS (1u << SLOT_BITS)
#define CHUNK_SLOTS 256u
#define CHUNKS (MAX_PARTITIONS / CHUNK_SLOTS)

/* state: generation (bits 63:32) | DYING (bit 31) | references of calls in progress (30:0). */
#define STATE_DYING (1ull << 31)
#define STATE_REFS 0x7fffffffull
#define STATE_GEN_SHIFT 32
#define DELETE_KICK_NS (10 * 1000 * 1000) /* re-kick running VPs this often while deleting */

struct handle_slot {
    _Atomic uint64_t state;
    struct whp_partition *_Atomic part; /* valid while the generation matches and refs > 0 */
};

/* table_lock serialises publishing and unpublishing (the writers) and is what table_cond's
 * waiters hold; readers never take it. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t table_cond = PTHREAD_COND_INITIALIZER;
static struct handle_slot *_Atomic chunks[CHUNKS];

HRESULT hr_from_errno(int neg_errno)
{
    switch (-neg_errno) {
    case 0: return S_OK;
    case ENOMEM: case ENOSPC: case EMFILE: case ENFILE: return E_OUTOFMEMORY;
    case EINVAL: case ERANGE: case EOVERFLOW: return E_INVALIDARG;
    case EACCES: case EPERM: return E_ACCESSDENIED;
    case EFAULT: return WHV_E_GPA_RANGE_NOT_FOUND;
    case ENODEV: case ENOENT: case ENXIO: return WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG;
    case EOPNOTSUPP: case ENOSYS: return E_NOTIMPL;
    case EEXIST: case EBUSY: return HRESULT_FROM_WIN32(ERROR_BUSY);
    default: return E_FAIL;
    }
}

HRESULT hr_output(const void *buf, UINT32 size, UINT32 *written, UINT32 needed)
{
    if (written)
        *written = needed;
    return size < needed || (needed && !buf) ? WHV_E_INSUFFICIENT_BUFFER : S_OK;
}

HRESULT hr_put(void *buf, UINT32 size, UINT32 *written, const void *val, UINT32 len)
{
    HRESULT hr = hr_output(buf, size, written, len);
    if (SUCCEEDED(hr) && len)
        memcpy(buf, val, len);
    return hr;
}

uint64_t obj_new_serial(void)
{
    static _Atomic uint64_t next = 1;
    return atomic_fetch_add(&next, 1);
}

static struct handle_slot *slot_at(uint32_t index)
{
    struct handle_slot *c = atomic_load_explicit(&chunks[index / CHUNK_SLOTS], memory_order_acquire);
    return c ? &c[index % CHUNK_SLOTS] : NULL;
}

/* Decodes a handle: its slot and generation, or NULL for a value no handle ever had. */
static struct handle_slot *slot_of(WHV_PARTITION_HANDLE h, uint32_t *gen)
{
    uintptr_t v = (uintptr_t)h;
    uint32_t index = (uint32_t)(v & (MAX_PARTITIONS - 1));
    if (index == 0 || (v >> SLOT_BITS) > UINT32_MAX || (v >> SLOT_BITS) == 0)
        return NULL;
    *gen = (uint32_t)(v >> SLOT_BITS);
    return slot_at(index - 1);
}

struct whp_partition *part_get(WHV_PARTITION_HANDLE h)
{
    uint32_t gen;
    struct handle_slot *s = slot_of(h, &gen);
    if (!s)
        return NULL;
    uint64_t st = atomic_load_explicit(&s->state, memory_order_acquire);
    do {
        if ((uint32_t)(st >> STATE_GEN_SHIFT) != gen || (st & STATE_DYING) ||
            (st & STATE_REFS) == STATE_REFS)
            return NULL;
    } while (!atomic_compare_exchange_weak_explicit(&s->state, &st, st + 1, memory_order_acquire,
                                                    memory_order_acquire));
    return atomic_load_explicit(&s->part, memory_order_acquire);
}

void part_put(struct whp_partition *p)
{
    struct handle_slot *s = p->slot;
    uint64_t st = atomic_fetch_sub_explicit(&s->state, 1, memory_order_release) - 1;
    if ((st & STATE_DYING) && (st & STATE_REFS) == 0) {
        /* The last call out of a partition being deleted wakes the deleter. */
        pthread_mutex_lock(&table_lock);
        pthread_cond_broadcast(&table_cond);
        pthread_mutex_unlock(&table_lock);
    }
}

struct whp_vp *part_vp(struct whp_partition *p, uint32_t index)
{
    if (!atomic_load(&p->setup) || index >= p->cfg.processor_count)
        return NULL;
    struct whp_vp *vp = atomic_load(&p->vps[index]);
    return vp && atomic_load(&vp->exists) ? vp : NULL;
}

HRESULT part_get_vp(WHV_PARTITION_HANDLE h, uint32_t index, struct whp_partition **pp,
                    struct whp_vp **vpp)
{
    struct whp_partition *p = part_get(h);
    if (!p)
        return E_HANDLE;
    /* No partition lock: `setup` only goes false -> true, and vps[] never shrinks. */
    if (!atomic_load(&p->setup)) {
        part_put(p);
        return WHV_E_INVALID_PARTITION_CONFIG;
    }
    struct whp_vp *vp = part_vp(p, index);
    if (!vp) {
        part_put(p);
        return WHV_E_VP_DOES_NOT_EXIST;
    }
    *pp = p;
    *vpp = vp;
    return S_OK;
}

HRESULT vp_acquire(WHV_PARTITION_HANDLE h, uint32_t index, struct whp_partition **pp,
                   struct whp_vp **vpp)
{
    HRESULT hr = part_get_vp(h, index, pp, vpp);
    if (SUCCEEDED(hr) && atomic_flag_test_and_set(&(*vpp)->busy)) {
        part_put(*pp);
        hr = WHV_E_INVALID_VP_STATE; /* another thread runs it: cancel it first */
    } else if (SUCCEEDED(hr) && !atomic_load(&(*vpp)->exists)) {
        /* WHvDeleteVirtualProcessor (which holds `busy` while it clears `exists`) ran between
         * part_get_vp's check and ours: without this second look the deleted VP would run, or be
         * reset by a re-creation while it runs. */
        atomic_flag_clear(&(*vpp)->busy);
        part_put(*pp);
        hr = WHV_E_VP_DOES_NOT_EXIST;
    }
    return hr;
}

void vp_release(struct whp_partition *p, struct whp_vp *vp)
{
    vcpu_leave_thread(vp);
    atomic_flag_clear(&vp->busy);
    part_put(p);
}

HRESULT handle_publish(struct whp_partition *p, WHV_PARTITION_HANDLE *h)
{
    HRESULT hr = E_OUTOFMEMORY;
    pthread_mutex_lock(&table_lock);
    /* Slot 0 of chunk 0 is never used: index + 1 is never 0, so no handle is NULL. */
    for (uint32_t i = 0; i < MAX_PARTITIONS - 1; i++) {
        struct handle_slot *s = slot_at(i);
        if (!s) {
            struct handle_slot *c = calloc(CHUNK_SLOTS, sizeof(*c));
            if (!c)
                break;
            atomic_store_explicit(&chunks[i / CHUNK_SLOTS], c, memory_order_release);
            s = &c[i % CHUNK_SLOTS];
        }
        if (atomic_load(&s->part))
            continue;
        /* The slot's generation is that of its next occupant (0 only in a fresh chunk). */
        uint32_t gen = (uint32_t)(atomic_load(&s->state) >> STATE_GEN_SHIFT);
        if (gen == 0)
            gen = 1;
        p->slot = s;
        atomic_store_explicit(&s->part, p, memory_order_release);
        atomic_store_explicit(&s->state, (uint64_t)gen << STATE_GEN_SHIFT, memory_order_release);
        *h = (WHV_PARTITION_HANDLE)(uintptr_t)(((uint64_t)gen << SLOT_BITS) | (i + 1));
        hr = S_OK;
        break;
    }
    pthread_mutex_unlock(&table_lock);
    return hr;
}

struct whp_partition *handle_unpublish(WHV_PARTITION_HANDLE h, void (*kick)(struct whp_partition *))
{
    uint32_t gen;
    struct handle_slot *s = slot_of(h, &gen);
    if (!s)
        return NULL;
    pthread_mutex_lock(&table_lock);
    uint64_t st = atomic_load(&s->state);
    struct whp_partition *p = atomic_load(&s->part);
    do {
        if (!p || (uint32_t)(st >> STATE_GEN_SHIFT) != gen || (st & STATE_DYING)) {
            pthread_mutex_unlock(&table_lock);
            return NULL;
        }
    } while (!atomic_compare_exchange_weak(&s->state, &st, st | STATE_DYING));
    /* No new call can enter now; stop running VPs and wait for the calls in progress. */
    while (atomic_load(&s->state) & STATE_REFS) {
        kick(p);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += DELETE_KICK_NS;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&table_cond, &table_lock, &ts);
    }
    /* The next generation makes every handle of this partition stale at once. */
    uint32_t next = gen + 1 ? gen + 1 : 1;
    atomic_store(&s->state, (uint64_t)next << STATE_GEN_SHIFT);
    atomic_store(&s->part, NULL);
    pthread_mutex_unlock(&table_lock);
    return p;
}
