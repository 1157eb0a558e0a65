/* Unit tests of PCI configuration mechanism 1 (devices/pci.c): all-ones reads with no devices,
 * the address register round trip and its mask, partial-width data accesses, ignored accesses,
 * and attached config-space handlers. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pci.h"

#include "check.h"

static struct pci pci;

static uint32_t addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return PCI_ADDR_ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xFC);
}

static uint32_t rd(uint16_t off, unsigned size)
{
    uint32_t v = 0x12345678;
    pci_pio_read(&pci, off, &v, size);
    return v;
}

static void wr(uint16_t off, uint32_t v, unsigned size)
{
    pci_pio_write(&pci, off, v, size);
}

/* A fake function: 256 bytes of config space, little endian. */
struct fake_fn {
    uint8_t cfg[256];
    unsigned reads, writes, last_reg, last_size;
};

static uint32_t fake_read(void *ctx, unsigned reg, unsigned size)
{
    struct fake_fn *f = ctx;
    uint32_t v = 0;

    f->reads++;
    f->last_reg = reg;
    f->last_size = size;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)f->cfg[reg + i] << (8 * i);
    return v;
}

static void fake_write(void *ctx, unsigned reg, uint32_t data, unsigned size)
{
    struct fake_fn *f = ctx;

    f->writes++;
    f->last_reg = reg;
    f->last_size = size;
    for (unsigned i = 0; i < size; i++)
        f->cfg[reg + i] = (uint8_t)(data >> (8 * i));
}

static const struct pci_func_ops fake_ops = {fake_read, fake_write};

static void test_empty_bus(void)
{
    unsigned bad = 0;

    CHECK_EQ(rd(PCI_CONFIG_ADDRESS, 4), 0);
    /* every bus/device/function, vendor ID and another register, all widths */
    for (unsigned bus = 0; bus < 256; bus++)
        for (unsigned dev = 0; dev < 32; dev++)
            for (unsigned fn = 0; fn < 8; fn += 7) {
                wr(PCI_CONFIG_ADDRESS, addr(bus, dev, fn, 0), 4);
                if (rd(PCI_CONFIG_DATA, 4) != 0xFFFFFFFF || rd(PCI_CONFIG_DATA + 2, 2) != 0xFFFF ||
                    rd(PCI_CONFIG_DATA + 3, 1) != 0xFF)
                    bad++;
                wr(PCI_CONFIG_DATA, 0, 4); /* ignored */
                wr(PCI_CONFIG_ADDRESS, addr(bus, dev, fn, 0x3C), 4);
                if (rd(PCI_CONFIG_DATA, 4) != 0xFFFFFFFF)
                    bad++;
            }
    CHECK_EQ(bad, 0);
    /* with the enable bit clear the window reads all ones too */
    wr(PCI_CONFIG_ADDRESS, 0, 4);
    CHECK_EQ(rd(PCI_CONFIG_DATA, 4), 0xFFFFFFFF);
    CHECK_EQ(rd(PCI_CONFIG_DATA + 1, 1), 0xFF);
}

static void test_address_register(void)
{
    wr(PCI_CONFIG_ADDRESS, 0x80000000, 4); /* Linux's type 1 probe */
    CHECK_EQ(rd(PCI_CONFIG_ADDRESS, 4), 0x80000000);
    wr(PCI_CONFIG_ADDRESS, addr(0xAB, 0x1F, 7, 0xFC), 4);
    CHECK_EQ(rd(PCI_CONFIG_ADDRESS, 4), 0x80ABFFFC);
    wr(PCI_CONFIG_ADDRESS, 0xFFFFFFFF, 4); /* reserved bits 30-24 and 1-0 read as zero */
    CHECK_EQ(rd(PCI_CONFIG_ADDRESS, 4), PCI_ADDR_MASK);
    wr(PCI_CONFIG_ADDRESS, 0x7FFFFFFF, 4);
    CHECK_EQ(rd(PCI_CONFIG_ADDRESS, 4), 0x00FFFFFC);
    /* byte and word accesses to 0xCF8-0xCFB are not the address register (0xCF9 is reset control) */
    wr(PCI_CONFIG_ADDRESS, 0x80001000, 4);
    wr(PCI_CONFIG_ADDRESS, 0x01, 1);
    wr(1, 0x06, 1);
    wr(3, 0xFF, 1);
    wr(PCI_CONFIG_ADDRESS, 0xFFFF, 2);
    wr(2, 0xFFFF, 2);
    wr(1, 0xFFFFFFFF, 4);
    CHECK_EQ(rd(PCI_CONFIG_ADDRESS, 4), 0x80001000);
    CHECK_EQ(rd(PCI_CONFIG_ADDRESS, 1), 0xFF);
    CHECK_EQ(rd(PCI_CONFIG_ADDRESS, 2), 0xFFFF);
    CHECK_EQ(rd(1, 1), 0xFF);
    CHECK_EQ(rd(1, 4), 0xFFFFFFFF);
    CHECK_EQ(rd(8, 4), 0xFFFFFFFF);
}

static void test_partial_access(void)
{
    struct fake_fn f;

    memset(&f, 0, sizeof(f));
    for (unsigned i = 0; i < 256; i++)
        f.cfg[i] = (uint8_t)i;
    CHECK_EQ(pci_attach(&pci, 0, 3, 0, &fake_ops, &f), 0);
    wr(PCI_CONFIG_ADDRESS, addr(0, 3, 0, 0x10), 4);
    CHECK_EQ(rd(PCI_CONFIG_DATA, 4), 0x13121110);
    CHECK_EQ(rd(PCI_CONFIG_DATA + 1, 1), 0x11);
    CHECK_EQ(f.last_reg, 0x11);
    CHECK_EQ(f.last_size, 1);
    CHECK_EQ(rd(PCI_CONFIG_DATA + 2, 2), 0x1312);
    CHECK_EQ(f.last_reg, 0x12);
    CHECK_EQ(rd(PCI_CONFIG_DATA + 3, 1), 0x13);
    CHECK_EQ(rd(PCI_CONFIG_DATA + 1, 2), 0x1211); /* unaligned but inside the dword */
    /* crossing the dword or odd sizes: ignored, all ones, the function is not called */
    f.reads = 0;
    CHECK_EQ(rd(PCI_CONFIG_DATA + 3, 2), 0xFFFF);
    CHECK_EQ(rd(PCI_CONFIG_DATA + 1, 4), 0xFFFFFFFF);
    CHECK_EQ(rd(PCI_CONFIG_DATA, 3), 0xFFFFFFFF);
    CHECK_EQ(f.reads, 0);
    /* writes land at their byte offset and width */
    wr(PCI_CONFIG_DATA + 2, 0xBEEF, 2);
    CHECK_EQ(f.last_reg, 0x12);
    CHECK_EQ(f.last_size, 2);
    CHECK_EQ(rd(PCI_CONFIG_DATA, 4), 0xBEEF1110);
    wr(PCI_CONFIG_DATA + 1, 0xFFFFFF55, 1); /* the value is cut to the width */
    CHECK_EQ(rd(PCI_CONFIG_DATA, 4), 0xBEEF5510);
    wr(PCI_CONFIG_DATA, 0xCAFEF00D, 4);
    CHECK_EQ(f.cfg[0x10] | (uint32_t)f.cfg[0x13] << 24, 0xCA00000D);
    f.writes = 0;
    wr(PCI_CONFIG_DATA + 2, 0x1234, 4);
    wr(PCI_CONFIG_DATA + 3, 0x1234, 2);
    CHECK_EQ(f.writes, 0);
    /* other functions and the disabled window stay absent */
    wr(PCI_CONFIG_ADDRESS, addr(0, 3, 1, 0), 4);
    CHECK_EQ(rd(PCI_CONFIG_DATA, 4), 0xFFFFFFFF);
    wr(PCI_CONFIG_ADDRESS, addr(1, 3, 0, 0), 4);
    CHECK_EQ(rd(PCI_CONFIG_DATA, 4), 0xFFFFFFFF);
    wr(PCI_CONFIG_ADDRESS, addr(0, 3, 0, 0) & ~PCI_ADDR_ENABLE, 4);
    CHECK_EQ(rd(PCI_CONFIG_DATA, 4), 0xFFFFFFFF);
    wr(PCI_CONFIG_ADDRESS, addr(0, 3, 0, 0xFC), 4);
    CHECK_EQ(rd(PCI_CONFIG_DATA + 3, 1), 0xFF); /* byte 255 of the fake */
    CHECK_EQ(f.last_reg, 0xFF);
    CHECK_EQ(pci_detach(&pci, 0, 3, 0), 0);
    CHECK_EQ(rd(PCI_CONFIG_DATA, 4), 0xFFFFFFFF);
    CHECK_EQ(pci_detach(&pci, 0, 3, 0), -ENOENT);
}

static void test_attach_limits(void)
{
    struct fake_fn f;
    static const struct pci_func_ops half = {fake_read, NULL};
    int ret;

    CHECK_EQ(pci_attach(&pci, 256, 0, 0, &fake_ops, &f), -EINVAL);
    CHECK_EQ(pci_attach(&pci, 0, 32, 0, &fake_ops, &f), -EINVAL);
    CHECK_EQ(pci_attach(&pci, 0, 0, 8, &fake_ops, &f), -EINVAL);
    CHECK_EQ(pci_attach(&pci, 0, 0, 0, NULL, &f), -EINVAL);
    CHECK_EQ(pci_attach(&pci, 0, 0, 0, &half, &f), -EINVAL);
    for (unsigned i = 0; i < PCI_MAX_ATTACHED; i++) {
        ret = pci_attach(&pci, 0, i, 0, &fake_ops, &f);
        if (ret != 0)
            CHECK_EQ(ret, 0);
    }
    CHECK_EQ(pci_attach(&pci, 0, 0, 0, &fake_ops, &f), -EEXIST);
    CHECK_EQ(pci_attach(&pci, 1, 0, 0, &fake_ops, &f), -ENOSPC);
    CHECK_EQ(pci_detach(&pci, 0, 5, 0), 0);
    CHECK_EQ(pci_attach(&pci, 1, 0, 0, &fake_ops, &f), 0);
    for (unsigned i = 0; i < PCI_MAX_ATTACHED; i++)
        pci_detach(&pci, 0, i, 0);
    CHECK_EQ(pci_detach(&pci, 1, 0, 0), 0);
    CHECK_EQ(pci.nfuncs, 0);
}

int main(void)
{
    CHECK_EQ(pci_init(&pci), 0);
    test_empty_bus();
    test_address_register();
    test_partial_access();
    test_attach_limits();
    pci_destroy(&pci);
    return check_report();
}
