/* The ACPI power-management timer: a free-running 3.579545 MHz counter, 24 or 32 bits wide
 * (the FADT's TMR_VAL_EXT flag says which), read through the 4-byte PM_TMR_BLK at a port the
 * VMM chooses and advertises in the FADT. Time comes from ops->now_ns; the model has no thread. */
#ifndef OPENWHP_DEVICES_PMTIMER_H
#define OPENWHP_DEVICES_PMTIMER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PMTIMER_FREQ_HZ 3579545u
#define PMTIMER_PORT_ICH9 0x608  /* usual bases; the VMM passes offsets 0-3 from its base */
#define PMTIMER_PORT_PIIX4 0xb008
#define PMTIMER_BLK_LEN 4

struct pmtimer_ops {
    /* A monotonic clock in nanoseconds (CLOCK_MONOTONIC in a VMM, a fake clock in tests).
     * Called with the lock held: it must not call into the model. */
    uint64_t (*now_ns)(void *ctx);
};

struct pmtimer {
    const struct pmtimer_ops *ops;
    void *ctx;
    pthread_mutex_t lock; /* protects base_ns and mask; ops and ctx are fixed at init */
    uint64_t base_ns;     /* the clock reading at which the counter was 0 */
    uint32_t mask;        /* 0x00ffffff, or 0xffffffff with TMR_VAL_EXT */
};

/* 0 or -errno. The counter starts at 0 now and is 24 bits wide (TMR_VAL_EXT clear). */
int pmtimer_init(struct pmtimer *pm, const struct pmtimer_ops *ops, void *ctx);
void pmtimer_destroy(struct pmtimer *pm);
/* Board reset: the counter restarts at 0. */
void pmtimer_reset(struct pmtimer *pm);
/* The width the FADT advertises: 32 bits when the TMR_VAL_EXT flag is set, else 24. The count
 * itself is unaffected; only the bits a read returns change. */
void pmtimer_set_tmr_val_ext(struct pmtimer *pm, bool ext32);

/* The counter value now, masked to the width. */
uint32_t pmtimer_value(struct pmtimer *pm);

/* Guest reads at offset 0-3 from the VMM's base port. ACPI asks for 32-bit reads at offset 0;
 * any other access reads the matching bytes of the little-endian counter, and bytes past
 * offset 3 read all ones. Writes are ignored: the register is read-only. The counter's
 * overflow status (TMR_STS) and its SCI belong to the PM1 event block, not modelled here. */
void pmtimer_pio_read(struct pmtimer *pm, uint16_t offset, void *data, unsigned size);
void pmtimer_pio_write(struct pmtimer *pm, uint16_t offset, const void *data, unsigned size);

#endif /* OPENWHP_DEVICES_PMTIMER_H */
