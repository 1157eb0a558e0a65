/* A mutex that knows its owner, so functions that need a lock can assert it (bhyve's
 * KASSERT(VIOAPIC_LOCKED(...)) style). The owner is tracked in Debug and sanitizer builds
 * (NDEBUG unset); in Release builds the lock is a plain pthread mutex and the checks vanish. */
#ifndef OPENWHP_LOCK_H
#define OPENWHP_LOCK_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct owl {
    pthread_mutex_t m;
#ifndef NDEBUG
    _Atomic(pthread_t) owner; /* the holder, or 0 */
#endif
};

static inline int owl_init(struct owl *l)
{
#ifndef NDEBUG
    atomic_init(&l->owner, (pthread_t)0);
#endif
    return -pthread_mutex_init(&l->m, NULL);
}

static inline void owl_destroy(struct owl *l)
{
    pthread_mutex_destroy(&l->m);
}

static inline void owl_lock(struct owl *l)
{
    pthread_mutex_lock(&l->m);
#ifndef NDEBUG
    atomic_store_explicit(&l->owner, pthread_self(), memory_order_relaxed);
#endif
}

static inline void owl_unlock(struct owl *l)
{
#ifndef NDEBUG
    assert(pthread_equal(atomic_load_explicit(&l->owner, memory_order_relaxed), pthread_self()));
    atomic_store_explicit(&l->owner, (pthread_t)0, memory_order_relaxed);
#endif
    pthread_mutex_unlock(&l->m);
}

/* For assertions only: true when the calling thread holds the lock (always true with NDEBUG). */
static inline bool owl_held(struct owl *l)
{
#ifndef NDEBUG
    return pthread_equal(atomic_load_explicit(&l->owner, memory_order_relaxed), pthread_self());
#else
    (void)l;
    return true;
#endif
}

#endif
