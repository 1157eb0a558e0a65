/* PCI configuration mechanism 1: decodes the 0xCF8 address (enable, bus, device, function,
 * register) and routes 0xCFC-0xCFF accesses, at their byte offset and width, to the attached
 * function or reads all ones for absent ones. */
#include "pci.h"

#include <errno.h>
#include <string.h>

static uint32_t all_ones(unsigned size)
{
    return size == 1 ? 0xFFu : size == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

static struct pci_func *find(struct pci *pci, unsigned bus, unsigned dev, unsigned fn)
{
    for (unsigned i = 0; i < pci->nfuncs; i++) {
        struct pci_func *f = &pci->funcs[i];

        if (f->bus == bus && f->dev == dev && f->fn == fn)
            return f;
    }
    return NULL;
}

/* The function the address register selects, if enabled and attached. */
static struct pci_func *selected(struct pci *pci)
{
    uint32_t a = pci->address;

    if (!(a & PCI_ADDR_ENABLE))
        return NULL;
    return find(pci, (a >> 16) & 0xFF, (a >> 11) & 0x1F, (a >> 8) & 0x7);
}

/* A data-window access: within the dword, of width 1, 2 or 4, naturally placed. */
static int data_access_ok(uint16_t offset, unsigned size)
{
    if (offset < PCI_CONFIG_DATA || offset > PCI_CONFIG_DATA + 3)
        return 0;
    if (size != 1 && size != 2 && size != 4)
        return 0;
    return (offset & 3) + size <= 4;
}

int pci_init(struct pci *pci)
{
    int err;

    memset(pci, 0, sizeof(*pci));
    err = pthread_mutex_init(&pci->lock, NULL);
    return err ? -err : 0;
}

void pci_destroy(struct pci *pci)
{
    pthread_mutex_destroy(&pci->lock);
}

int pci_attach(struct pci *pci, unsigned bus, unsigned dev, unsigned fn, const struct pci_func_ops *ops,
               void *ctx)
{
    int ret = 0;

    if (bus > 0xFF || dev > 0x1F || fn > 7 || !ops || !ops->read || !ops->write)
        return -EINVAL;
    pthread_mutex_lock(&pci->lock);
    if (find(pci, bus, dev, fn)) {
        ret = -EEXIST;
    } else if (pci->nfuncs == PCI_MAX_ATTACHED) {
        ret = -ENOSPC;
    } else {
        pci->funcs[pci->nfuncs++] = (struct pci_func){(uint8_t)bus, (uint8_t)dev, (uint8_t)fn, ops, ctx};
    }
    pthread_mutex_unlock(&pci->lock);
    return ret;
}

int pci_detach(struct pci *pci, unsigned bus, unsigned dev, unsigned fn)
{
    struct pci_func *f;
    int ret = -ENOENT;

    pthread_mutex_lock(&pci->lock);
    f = find(pci, bus, dev, fn);
    if (f) {
        *f = pci->funcs[--pci->nfuncs];
        ret = 0;
    }
    pthread_mutex_unlock(&pci->lock);
    return ret;
}

void pci_pio_read(struct pci *pci, uint16_t offset, uint32_t *data, unsigned size)
{
    struct pci_func *f;

    if (offset == PCI_CONFIG_ADDRESS && size == 4) {
        pthread_mutex_lock(&pci->lock);
        *data = pci->address;
        pthread_mutex_unlock(&pci->lock);
        return;
    }
    *data = all_ones(size);
    if (!data_access_ok(offset, size))
        return;
    pthread_mutex_lock(&pci->lock);
    f = selected(pci);
    if (f)
        *data = f->ops->read(f->ctx, (pci->address & 0xFC) | (offset & 3u), size) & all_ones(size);
    pthread_mutex_unlock(&pci->lock);
}

void pci_pio_write(struct pci *pci, uint16_t offset, uint32_t data, unsigned size)
{
    struct pci_func *f;

    if (offset == PCI_CONFIG_ADDRESS && size == 4) {
        pthread_mutex_lock(&pci->lock);
        pci->address = data & PCI_ADDR_MASK;
        pthread_mutex_unlock(&pci->lock);
        return;
    }
    if (!data_access_ok(offset, size))
        return;
    pthread_mutex_lock(&pci->lock);
    f = selected(pci);
    if (f)
        f->ops->write(f->ctx, (pci->address & 0xFC) | (offset & 3u), data & all_ones(size), size);
    pthread_mutex_unlock(&pci->lock);
}
