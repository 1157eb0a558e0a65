/* The ACPI PM timer: the counter is computed from the clock on every read, as
 * (now - base) * 3579545 / 10^9, split so that no intermediate product can overflow 64 bits
 * however long the VM runs; the result is masked to 24 or 32 bits. */
#include "pmtimer.h"

#include <string.h>

#define NS_PER_S 1000000000ull
#define MASK_24 0x00ffffffu
#define MASK_32 0xffffffffu

#define PMTIMER_LOCK(p) pthread_mutex_lock(&(p)->lock)
#define PMTIMER_UNLOCK(p) pthread_mutex_unlock(&(p)->lock)

/* floor(ns * PMTIMER_FREQ_HZ / 10^9), exactly: whole seconds and the remainder apart. Both
 * products stay below 2^63 for any 64-bit ns (584 years of uptime). */
static uint64_t ns_to_ticks(uint64_t ns)
{
    return ns / NS_PER_S * PMTIMER_FREQ_HZ + ns % NS_PER_S * PMTIMER_FREQ_HZ / NS_PER_S;
}

/* Called with the lock held. A clock reading before the base counts as the base. */
static uint32_t value_locked(struct pmtimer *pm)
{
    uint64_t now = pm->ops->now_ns(pm->ctx);
    uint64_t elapsed = now > pm->base_ns ? now - pm->base_ns : 0;
    return (uint32_t)ns_to_ticks(elapsed) & pm->mask;
}

int pmtimer_init(struct pmtimer *pm, const struct pmtimer_ops *ops, void *ctx)
{
    memset(pm, 0, sizeof(*pm));
    int err = pthread_mutex_init(&pm->lock, NULL);
    if (err)
        return -err;
    pm->ops = ops;
    pm->ctx = ctx;
    pm->mask = MASK_24;
    pm->base_ns = ops->now_ns(ctx);
    return 0;
}

void pmtimer_destroy(struct pmtimer *pm)
{
    pthread_mutex_destroy(&pm->lock);
}

void pmtimer_reset(struct pmtimer *pm)
{
    PMTIMER_LOCK(pm);
    pm->base_ns = pm->ops->now_ns(pm->ctx);
    PMTIMER_UNLOCK(pm);
}

void pmtimer_set_tmr_val_ext(struct pmtimer *pm, bool ext32)
{
    PMTIMER_LOCK(pm);
    pm->mask = ext32 ? MASK_32 : MASK_24;
    PMTIMER_UNLOCK(pm);
}

uint32_t pmtimer_value(struct pmtimer *pm)
{
    PMTIMER_LOCK(pm);
    uint32_t v = value_locked(pm);
    PMTIMER_UNLOCK(pm);
    return v;
}

void pmtimer_pio_read(struct pmtimer *pm, uint16_t offset, void *data, unsigned size)
{
    uint8_t *bytes = data;

    memset(bytes, 0xff, size);
    if (offset >= PMTIMER_BLK_LEN || !size)
        return;
    uint32_t v = pmtimer_value(pm);
    for (unsigned i = 0; i < size && offset + i < PMTIMER_BLK_LEN; i++)
        bytes[i] = (uint8_t)(v >> (8 * (offset + i)));
}

void pmtimer_pio_write(struct pmtimer *pm, uint16_t offset, const void *data, unsigned size)
{
    (void)pm;
    (void)offset;
    (void)data;
    (void)size;
}
