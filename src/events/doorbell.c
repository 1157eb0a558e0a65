/* Doorbells: a guest write that matches (any write, a given length, or a given length and
 * value) signals an event inside KVM (KVM_IOEVENTFD) with no exit to user space; other writes
 * to the address still exit as MemoryAccess. Port-I/O doorbells are a Linux extension. */
#include "events/events_state.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "events/event_internal.h"
#include "obj/hostcpu.h"
#include "synic/synic.h"
#include <openwhp/doorbell.h>

#define PIO_PORTS 0x10000ull

int doorbell_check(const WHV_DOORBELL_MATCH_DATA *m, bool pio)
{
    if (m->Reserved || (m->MatchOnValue && !m->MatchOnLength))
        return -EINVAL;
    if (m->MatchOnLength ? (m->Length != 1 && m->Length != 2 && m->Length != 4 && m->Length != 8)
                         : m->Length != 0)
        return -EINVAL;
    if (!m->MatchOnValue && m->Value != 0)
        return -EINVAL;
    uint64_t len = m->Length ? m->Length : 1;
    if (pio) /* the SynIC's hypercall ports are not the VMM's to take */
        return m->GuestAddress < PIO_PORTS && m->GuestAddress <= PIO_PORTS - len && m->Length <= 4 &&
                       (m->GuestAddress + len <= SYNIC_PORT_SIGNAL || m->GuestAddress > SYNIC_PORT_CALL)
                   ? 0
                   : -EINVAL;
    if ((m->GuestAddress & (X86_PAGE_SIZE - 1)) + len > X86_PAGE_SIZE) /* one page per write */
        return -EINVAL;
    return m->GuestAddress < (1ull << hostcpu_phys_bits()) ? 0 : -EINVAL;
}

bool doorbell_compatible(const WHV_DOORBELL_MATCH_DATA *a, const WHV_DOORBELL_MATCH_DATA *b)
{
    if (a->GuestAddress != b->GuestAddress)
        return true;
    return a->MatchOnValue && b->MatchOnValue && a->Length == b->Length && a->Value != b->Value;
}

static bool same(const WHV_DOORBELL_MATCH_DATA *a, const WHV_DOORBELL_MATCH_DATA *b)
{
    return a->GuestAddress == b->GuestAddress && a->Value == b->Value && a->Length == b->Length &&
           a->MatchOnValue == b->MatchOnValue && a->MatchOnLength == b->MatchOnLength;
}

static int ioeventfd(struct whp_partition *p, const WHV_DOORBELL_MATCH_DATA *m, int fd, bool pio,
                     bool assign)
{
    struct kvm_ioeventfd io = {
        .datamatch = m->Value,
        .addr = m->GuestAddress,
        .len = m->MatchOnLength ? m->Length : 0, /* 0: any length (no value match possible) */
        .fd = fd,
        .flags = (m->MatchOnValue ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
                 (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
    };
    return kvm_ioctl(p->vm_fd, KVM_IOEVENTFD, &io);
}

HRESULT doorbell_add(struct whp_partition *p, const WHV_DOORBELL_MATCH_DATA *m, HANDLE event,
                     bool pio)
{
    assert(EVENTS_LOCKED(p));
    if (doorbell_check(m, pio) < 0)
        return E_INVALIDARG;
    if (evt_fd(event) < 0)
        return E_INVALIDARG;
    for (struct whp_doorbell *d = p->events->doorbells; d; d = d->next)
        if (d->pio == pio && !doorbell_compatible(&d->match, m))
            return ERROR_HV_INVALID_PARAMETER;
    struct whp_doorbell *d = calloc(1, sizeof(*d));
    int fd = d ? evt_dup(event) : -1;
    if (fd < 0) {
        free(d);
        return E_OUTOFMEMORY;
    }
    *d = (struct whp_doorbell){p->events->doorbells, *m, fd, pio};
    /* KVM only sees writes that exit: while the doorbell exists its page is not RAM to the
     * guest. */
    int r = pio ? 0 : mem_hole(p, m->GuestAddress, true);
    if (r == 0 && (r = ioeventfd(p, m, fd, pio, true)) < 0 && !pio)
        mem_hole(p, m->GuestAddress, false);
    if (r < 0) {
        close(fd);
        free(d);
        return hr_from_errno(r);
    }
    p->events->doorbells = d;
    return S_OK;
}

HRESULT doorbell_remove(struct whp_partition *p, const WHV_DOORBELL_MATCH_DATA *m, bool pio)
{
    assert(EVENTS_LOCKED(p));
    for (struct whp_doorbell **pp = &p->events->doorbells; *pp; pp = &(*pp)->next) {
        struct whp_doorbell *d = *pp;
        if (d->pio != pio || !same(&d->match, m))
            continue;
        int r = ioeventfd(p, &d->match, d->fd, pio, false);
        if (!pio && r == 0)
            r = mem_hole(p, d->match.GuestAddress, false);
        *pp = d->next;
        close(d->fd);
        free(d);
        return hr_from_errno(r);
    }
    return HRESULT_FROM_WIN32(ERROR_NOT_FOUND);
}

static HRESULT doorbell_call(WHV_PARTITION_HANDLE Partition, const WHV_DOORBELL_MATCH_DATA *m,
                             HANDLE event, bool pio, bool add)
{
    if (!m)
        return E_INVALIDARG;
    struct whp_partition *p = part_get(Partition);
    if (!p)
        return E_HANDLE;
    HRESULT hr;
    EVENTS_LOCK(p);
    if (!atomic_load(&p->setup))
        hr = WHV_E_INVALID_PARTITION_CONFIG;
    else
        hr = add ? doorbell_add(p, m, event, pio) : doorbell_remove(p, m, pio);
    EVENTS_UNLOCK(p);
    part_put(p);
    return hr;
}

HRESULT WINAPI WHvRegisterPartitionDoorbellEvent(WHV_PARTITION_HANDLE Partition,
                                                 const WHV_DOORBELL_MATCH_DATA *MatchData,
                                                 HANDLE EventHandle)
{
    return doorbell_call(Partition, MatchData, EventHandle, false, true);
}

HRESULT WINAPI WHvUnregisterPartitionDoorbellEvent(WHV_PARTITION_HANDLE Partition,
                                                   const WHV_DOORBELL_MATCH_DATA *MatchData)
{
    return doorbell_call(Partition, MatchData, NULL, false, false);
}

HRESULT WINAPI OpenWhpRegisterPortDoorbellEvent(WHV_PARTITION_HANDLE Partition,
                                                const WHV_DOORBELL_MATCH_DATA *MatchData,
                                                HANDLE EventHandle)
{
    return doorbell_call(Partition, MatchData, EventHandle, true, true);
}

HRESULT WINAPI OpenWhpUnregisterPortDoorbellEvent(WHV_PARTITION_HANDLE Partition,
                                                  const WHV_DOORBELL_MATCH_DATA *MatchData)
{
    return doorbell_call(Partition, MatchData, NULL, true, false);
}
