/* Linux extension: port-I/O doorbells. Like WHvRegisterPartitionDoorbellEvent, with
 * MatchData->GuestAddress naming an I/O port: a matching guest OUT signals the event inside
 * KVM with no exit to user space; Length may be 1, 2 or 4 (or 0 with MatchOnLength clear). */
#ifndef OPENWHP_DOORBELL_H
#define OPENWHP_DOORBELL_H

#include <WinHvPlatformDefs.h>

#ifdef __cplusplus
extern "C" {
#endif

HRESULT WINAPI OpenWhpRegisterPortDoorbellEvent(WHV_PARTITION_HANDLE Partition,
                                                const WHV_DOORBELL_MATCH_DATA *MatchData,
                                                HANDLE EventHandle);
HRESULT WINAPI OpenWhpUnregisterPortDoorbellEvent(WHV_PARTITION_HANDLE Partition,
                                                  const WHV_DOORBELL_MATCH_DATA *MatchData);

#ifdef __cplusplus
}
#endif

#endif
