/* PCI configuration mechanism 1 (ports 0xCF8-0xCFF): the address register and the data window.
 * With nothing attached every function reads as absent (all ones); a VMM attaches config-space
 * handlers per (bus, device, function) for the devices it adds later. */
#ifndef OPENWHP_DEVICES_PCI_H
#define OPENWHP_DEVICES_PCI_H

#include <pthread.h>
#include <stdint.h>

#define PCI_PORT_BASE 0xCF8 /* the VMM passes offsets 0-7 from here */
#define PCI_CONFIG_ADDRESS 0 /* 32-bit accesses only */
#define PCI_CONFIG_DATA 4    /* 0xCFC-0xCFF: 1-, 2- and 4-byte accesses within the dword */

#define PCI_ADDR_ENABLE 0x80000000u
#define PCI_ADDR_MASK 0x80FFFFFCu /* enable, bus, device, function, dword register; rest reads 0 */
#define PCI_MAX_ATTACHED 32

struct pci_func_ops {
    /* Config-space access to a function: reg is the byte offset (0-255), size 1, 2 or 4, never
     * crossing a dword. Called with the pci lock held (so pci_detach waits for running calls):
     * they must not call into the pci model. */
    uint32_t (*read)(void *ctx, unsigned reg, unsigned size);
    void (*write)(void *ctx, unsigned reg, uint32_t data, unsigned size);
};

struct pci_func {
    uint8_t bus, dev, fn;
    const struct pci_func_ops *ops;
    void *ctx;
};

struct pci {
    /* Protects address and the attached functions. */
    pthread_mutex_t lock;
    uint32_t address; /* 0xCF8, masked with PCI_ADDR_MASK */
    struct pci_func funcs[PCI_MAX_ATTACHED];
    unsigned nfuncs;
};

/* No functions attached, address register 0. Returns 0 or -errno. */
int pci_init(struct pci *pci);
void pci_destroy(struct pci *pci);

/* Attach config-space handlers to bus/dev/fn (dev < 32, fn < 8). Returns 0, -EINVAL, -EEXIST or
 * -ENOSPC. pci_detach returns 0 or -ENOENT; no handler call is running once it returns. */
int pci_attach(struct pci *pci, unsigned bus, unsigned dev, unsigned fn, const struct pci_func_ops *ops,
               void *ctx);
int pci_detach(struct pci *pci, unsigned bus, unsigned dev, unsigned fn);

/* Port access at offset 0-7. Data reads of absent functions, or with the enable bit clear, return
 * all ones and writes to them are dropped; other accesses (say a byte at 0xCF9) are ignored and read
 * as all ones. */
void pci_pio_read(struct pci *pci, uint16_t offset, uint32_t *data, unsigned size);
void pci_pio_write(struct pci *pci, uint16_t offset, uint32_t data, unsigned size);

#endif
