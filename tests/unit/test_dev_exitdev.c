/* Unit tests of the isa-debug-exit compatible device (devices/exitdev.c): the (v << 1) | 1
 * status encoding at every access size, the recorded request, and ignored accesses. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "exitdev.h"

#include "check.h"

struct fake {
    int calls;
    int status;
};

static void fake_exit(void *ctx, int status)
{
    struct fake *f = ctx;
    f->calls++;
    f->status = status;
}

static const struct exitdev_ops ops = {fake_exit};

static void test_encoding(void)
{
    struct exitdev d;
    struct fake f = {0, 0};
    int status = -1;

    CHECK_EQ(exitdev_init(&d, &ops, &f), 0);
    CHECK(!exitdev_status(&d, &status));
    CHECK(exitdev_pio_write(&d, 0, 0, 1));
    CHECK_EQ(f.status, 1);
    CHECK(exitdev_pio_write(&d, 0, 0x10, 1)); /* a test's "success" code: 33 */
    CHECK_EQ(f.status, 33);
    CHECK(exitdev_pio_write(&d, 0, 0x7F, 1));
    CHECK_EQ(f.status, 255);
    CHECK(exitdev_pio_write(&d, 0, 0x1234, 2));
    CHECK_EQ(f.status, 0x2469);
    CHECK(exitdev_pio_write(&d, 0, 0x00FF, 1));
    CHECK_EQ(f.status, 0x1FF);
    CHECK(exitdev_pio_write(&d, 0, 0xABCD12, 1)); /* the size masks the value */
    CHECK_EQ(f.status, 0x25);
    CHECK(exitdev_pio_write(&d, 0, 0xABCD1234, 2));
    CHECK_EQ(f.status, 0x2469);
    CHECK(exitdev_pio_write(&d, 0, 0x12345678, 4));
    CHECK_EQ(f.status, 0x2468ACF1);
    CHECK(exitdev_pio_write(&d, 0, 0xFFFFFFFF, 4)); /* wraps as in QEMU; low bits survive */
    CHECK_EQ(f.status & 0xFF, 0xFF);
    CHECK_EQ(f.calls, 9);
    CHECK(exitdev_status(&d, &status));
    CHECK_EQ(status, f.status);
    exitdev_destroy(&d);
}

static void test_ignored(void)
{
    struct exitdev d;
    struct fake f = {0, 0};
    uint32_t v = 0;

    CHECK_EQ(exitdev_init(&d, &ops, &f), 0);
    CHECK(!exitdev_pio_write(&d, 0, 1, 3));
    CHECK(!exitdev_pio_write(&d, 0, 1, 0));
    CHECK(!exitdev_pio_write(&d, 0, 1, 8));
    CHECK(!exitdev_pio_write(&d, 1, 1, 1));
    CHECK_EQ(f.calls, 0);
    CHECK(!exitdev_status(&d, NULL));
    exitdev_pio_read(&d, 0, &v, 1);
    CHECK_EQ(v, 0xFF);
    exitdev_pio_read(&d, 0, &v, 4);
    CHECK_EQ(v, 0xFFFFFFFFll);
    exitdev_destroy(&d);
}

static void test_no_callback(void)
{
    struct exitdev d;
    int status = 0;

    CHECK_EQ(exitdev_init(&d, NULL, NULL), 0);
    CHECK(exitdev_pio_write(&d, 0, 3, 1));
    CHECK(exitdev_status(&d, &status));
    CHECK_EQ(status, 7);
    exitdev_destroy(&d);
}

int main(void)
{
    test_encoding();
    test_ignored();
    test_no_callback();
    return check_report();
}
