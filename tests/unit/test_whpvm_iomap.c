/* Unit tests of whpvm's I/O map: registration keeps ranges sorted and refuses overlaps, empty
 * or wrapping ranges and a full table; lookup finds the range holding the whole access. */
#include <errno.h>
#include <stdint.h>

#include "../../whpvm/iomap.c"

#include "check.h"

static void access_nop(void *opaque, uint64_t addr, void *data, unsigned size, bool write)
{
    (void)opaque, (void)addr, (void)data, (void)size, (void)write;
}

static int dev_a, dev_b, dev_c;

static void test_register_and_find(void)
{
    struct iomap m = {0};
    CHECK_EQ(iomap_register(&m, 0x40, 4, access_nop, &dev_b), 0);
    CHECK_EQ(iomap_register(&m, 0x20, 2, access_nop, &dev_a), 0);
    CHECK_EQ(iomap_register(&m, 0x61, 1, access_nop, &dev_c), 0);
    CHECK_EQ(m.count, 3);
    CHECK(m.ranges[0].start == 0x20 && m.ranges[1].start == 0x40 && m.ranges[2].start == 0x61);

    CHECK(iomap_find(&m, 0x20, 1)->opaque == &dev_a);
    CHECK(iomap_find(&m, 0x21, 1)->opaque == &dev_a);
    CHECK(iomap_find(&m, 0x20, 2)->opaque == &dev_a);
    CHECK(iomap_find(&m, 0x43, 1)->opaque == &dev_b);
    CHECK(iomap_find(&m, 0x61, 1)->opaque == &dev_c);
    CHECK(iomap_find(&m, 0x1f, 1) == NULL);
    CHECK(iomap_find(&m, 0x22, 1) == NULL);
    CHECK(iomap_find(&m, 0x44, 1) == NULL);
    CHECK(iomap_find(&m, 0x62, 1) == NULL);
    CHECK(iomap_find(&m, 0, 1) == NULL);
    CHECK(iomap_find(&m, UINT64_MAX, 1) == NULL);
}

static void test_access_must_fit(void)
{
    struct iomap m = {0};
    CHECK_EQ(iomap_register(&m, 0xFEC00000u, 0x1000, access_nop, &dev_a), 0);
    CHECK(iomap_find(&m, 0xFEC00FFCu, 4) != NULL);
    CHECK(iomap_find(&m, 0xFEC00FFCu, 8) == NULL); /* runs past the end */
    CHECK(iomap_find(&m, 0xFEBFFFFFu, 2) == NULL); /* starts before */
    CHECK(iomap_find(&m, 0xFEC00000u, 0) == NULL);
    CHECK(iomap_find(&m, 0xFEC00000u, UINT64_MAX) == NULL);
}

static void test_overlaps_refused(void)
{
    struct iomap m = {0};
    CHECK_EQ(iomap_register(&m, 0x100, 0x10, access_nop, &dev_a), 0);
    CHECK_EQ(iomap_register(&m, 0x100, 0x10, access_nop, &dev_b), -EEXIST);
    CHECK_EQ(iomap_register(&m, 0x10f, 1, access_nop, &dev_b), -EEXIST);
    CHECK_EQ(iomap_register(&m, 0xf0, 0x11, access_nop, &dev_b), -EEXIST);
    CHECK_EQ(iomap_register(&m, 0xf0, 0x100, access_nop, &dev_b), -EEXIST); /* covers it */
    CHECK_EQ(iomap_register(&m, 0x104, 2, access_nop, &dev_b), -EEXIST);   /* inside it */
    CHECK_EQ(iomap_register(&m, 0xf0, 0x10, access_nop, &dev_b), 0);       /* adjacent below */
    CHECK_EQ(iomap_register(&m, 0x110, 0x10, access_nop, &dev_c), 0);      /* adjacent above */
    CHECK_EQ(m.count, 3);
    CHECK(iomap_find(&m, 0xff, 1)->opaque == &dev_b && iomap_find(&m, 0x110, 1)->opaque == &dev_c);
}

static void test_bad_ranges_and_full_table(void)
{
    struct iomap m = {0};
    CHECK_EQ(iomap_register(&m, 0x10, 0, access_nop, &dev_a), -EINVAL);
    CHECK_EQ(iomap_register(&m, UINT64_MAX, 2, access_nop, &dev_a), -EINVAL);
    CHECK_EQ(iomap_register(&m, UINT64_MAX, 1, access_nop, &dev_a), 0); /* the last byte is fine */
    CHECK(iomap_find(&m, UINT64_MAX, 1) != NULL);
    for (unsigned i = 1; i < IOMAP_MAX_RANGES; i++)
        CHECK_EQ(iomap_register(&m, (IOMAP_MAX_RANGES - i) * 0x10ull, 8, access_nop, &dev_a), 0);
    CHECK_EQ(iomap_register(&m, 0x1000, 8, access_nop, &dev_a), -ENOSPC);
    CHECK_EQ(m.count, IOMAP_MAX_RANGES);
    for (unsigned i = 1; i < IOMAP_MAX_RANGES; i++)
        CHECK(m.ranges[i - 1].start < m.ranges[i].start);
}

int main(void)
{
    test_register_and_find();
    test_access_must_fit();
    test_overlaps_refused();
    test_bad_ranges_and_full_table();
    return check_report();
}
