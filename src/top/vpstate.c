/* The VP-state API: WHvGet/SetVirtualProcessorState and the InterruptControllerState2 calls.
 * Buffers and VP ownership are checked here; the LAPIC page is the APIC subsystem's, the SIM and
 * SIEF pages the SynIC's. */
#include "obj/obj.h"

#include <errno.h>
#include <string.h>

#include "apic/apic.h"
#include "synic/synic.h"

#define STATE_PAGE_SIZE 4096 /* every state type offered here is one page */

enum state_kind { STATE_LAPIC, STATE_SIM, STATE_SIEF };

static HRESULT hr_state(int r)
{
    return r == -EPERM ? ERROR_HV_OPERATION_DENIED : hr_from_errno(r);
}

static HRESULT state_get(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex, enum state_kind kind,
                         void *buf, UINT32 size, UINT32 *written)
{
    HRESULT hr = hr_output(buf, size, written, STATE_PAGE_SIZE);
    if (FAILED(hr))
        return hr;
    struct whp_partition *p;
    struct whp_vp *vp;
    hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    if (kind == STATE_LAPIC) {
        uint8_t page[STATE_PAGE_SIZE] = {0};
        int r = apic_state_get(vp, page);
        if (r == 0)
            memcpy(buf, page, sizeof(page));
        hr = hr_state(r);
    } else {
        hr = synic_page_state(vp, kind == STATE_SIEF, buf, false);
    }
    vp_release(p, vp);
    return hr;
}

static HRESULT state_set(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex, enum state_kind kind,
                         const void *buf, UINT32 size)
{
    if (!buf || size < STATE_PAGE_SIZE)
        return E_INVALIDARG;
    struct whp_partition *p;
    struct whp_vp *vp;
    HRESULT hr = vp_acquire(Partition, VpIndex, &p, &vp);
    if (FAILED(hr))
        return hr;
    hr = kind == STATE_LAPIC ? hr_state(apic_state_set(vp, buf))
                             : synic_page_state(vp, kind == STATE_SIEF, (void *)buf, true);
    vp_release(p, vp);
    return hr;
}

HRESULT WINAPI WHvGetVirtualProcessorInterruptControllerState2(WHV_PARTITION_HANDLE Partition,
                                                               UINT32 VpIndex, VOID *State,
                                                               UINT32 StateSize, UINT32 *WrittenSize)
{
    return state_get(Partition, VpIndex, STATE_LAPIC, State, StateSize, WrittenSize);
}

HRESULT WINAPI WHvSetVirtualProcessorInterruptControllerState2(WHV_PARTITION_HANDLE Partition,
                                                               UINT32 VpIndex, const VOID *State,
                                                               UINT32 StateSize)
{
    return state_set(Partition, VpIndex, STATE_LAPIC, State, StateSize);
}

/* The state types offered: 0 and the kind, E_NOTIMPL or E_INVALIDARG. */
static HRESULT kind_of(WHV_VIRTUAL_PROCESSOR_STATE_TYPE type, enum state_kind *kind)
{
    switch (type) {
    case WHvVirtualProcessorStateTypeInterruptControllerState2:
        *kind = STATE_LAPIC;
        return S_OK;
    case WHvVirtualProcessorStateTypeSynicMessagePage:
        *kind = STATE_SIM;
        return S_OK;
    case WHvVirtualProcessorStateTypeSynicEventFlagPage:
        *kind = STATE_SIEF;
        return S_OK;
    case WHvVirtualProcessorStateTypeSynicTimerState:
    case WHvVirtualProcessorStateTypeXsaveState:
        return E_NOTIMPL; /* no synthetic timers; XSAVE state is not offered yet */
    default:
        return E_INVALIDARG;
    }
}

HRESULT WINAPI WHvGetVirtualProcessorState(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                           WHV_VIRTUAL_PROCESSOR_STATE_TYPE StateType, VOID *Buffer,
                                           UINT32 BufferSizeInBytes, UINT32 *BytesWritten)
{
    enum state_kind kind;
    HRESULT hr = kind_of(StateType, &kind);
    return FAILED(hr) ? hr : state_get(Partition, VpIndex, kind, Buffer, BufferSizeInBytes, BytesWritten);
}

HRESULT WINAPI WHvSetVirtualProcessorState(WHV_PARTITION_HANDLE Partition, UINT32 VpIndex,
                                           WHV_VIRTUAL_PROCESSOR_STATE_TYPE StateType,
                                           const VOID *Buffer, UINT32 BufferSizeInBytes)
{
    enum state_kind kind;
    HRESULT hr = kind_of(StateType, &kind);
    return FAILED(hr) ? hr : state_set(Partition, VpIndex, kind, Buffer, BufferSizeInBytes);
}
