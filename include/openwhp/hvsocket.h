/* HvSocket addressing (Windows SDK hvsocket.h subset) plus openwhp GUID helpers.
 *
 * SDK items keep their SDK names: AF_HYPERV, HV_PROTOCOL_RAW, SOCKADDR_HV, the HVSOCKET_* socket
 * options and limits, HVSOCKET_ADDRESS_INFO and the HV_GUID_* well-known GUIDs. In the SDK the
 * GUIDs are DEFINE_GUID objects; here each one is a macro expanding to `(*OpenWhpHvGuidXxx())`,
 * a const GUID lvalue held in a static inline accessor, so `addr.VmId = HV_GUID_PARENT;` and
 * `&HV_GUID_PARENT` both work (with a stable address), in C and C++, and unused ones emit
 * nothing. The matching HV_GUID_*_INIT macros are brace initializers for static initializers.
 *
 * The AF_VSOCK mapping follows Linux hv_sock: the service GUID of vsock port P is
 * HV_GUID_VSOCK_TEMPLATE with Data1 = P, and a service GUID is a vsock port iff everything but
 * Data1 equals the template.
 *
 * Header only, C11. */
#ifndef OPENWHP_HVSOCKET_H
#define OPENWHP_HVSOCKET_H

#include <stddef.h>
#include <stdint.h>

#include <openwhp/wintypes.h>

/* ---- Address family, protocol, socket options ---- */
#ifndef AF_HYPERV
#define AF_HYPERV 34
#endif
#define HV_PROTOCOL_RAW 1 /* socket protocol and setsockopt level */

#define HVSOCKET_CONNECT_TIMEOUT 0x01 /* ULONG, milliseconds */
#define HVSOCKET_CONNECT_TIMEOUT_MAX 300000
#define HVSOCKET_CONTAINER_PASSTHRU 0x02
#define HVSOCKET_CONNECTED_SUSPEND 0x04
#define HVSOCKET_HIGH_VTL 0x08

#define HVSOCKET_ADDRESS_FLAG_PASSTHRU 0x00000001

/* ---- Structures ---- */
typedef struct _SOCKADDR_HV {
    USHORT Family; /* ADDRESS_FAMILY, = AF_HYPERV */
    USHORT Reserved;
    GUID VmId;
    GUID ServiceId;
} SOCKADDR_HV, *PSOCKADDR_HV;

C_ASSERT(sizeof(SOCKADDR_HV) == 36);
C_ASSERT(offsetof(SOCKADDR_HV, Family) == 0);
C_ASSERT(offsetof(SOCKADDR_HV, Reserved) == 2);
C_ASSERT(offsetof(SOCKADDR_HV, VmId) == 4);
C_ASSERT(offsetof(SOCKADDR_HV, ServiceId) == 20);

typedef struct _HVSOCKET_ADDRESS_INFO {
    GUID SystemId;
    GUID VirtualMachineId;
    GUID SiloId;
    ULONG Flags; /* HVSOCKET_ADDRESS_FLAG_* */
} HVSOCKET_ADDRESS_INFO, *PHVSOCKET_ADDRESS_INFO;

C_ASSERT(sizeof(GUID) == 16);
C_ASSERT(sizeof(HVSOCKET_ADDRESS_INFO) == 52);
C_ASSERT(offsetof(HVSOCKET_ADDRESS_INFO, SystemId) == 0);
C_ASSERT(offsetof(HVSOCKET_ADDRESS_INFO, VirtualMachineId) == 16);
C_ASSERT(offsetof(HVSOCKET_ADDRESS_INFO, SiloId) == 32);
C_ASSERT(offsetof(HVSOCKET_ADDRESS_INFO, Flags) == 48);

/* ---- Well-known GUIDs ---- */
#define HV_GUID_ZERO_INIT                                                                          \
    { 0x00000000, 0x0000, 0x0000, { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 } }
#define HV_GUID_WILDCARD_INIT HV_GUID_ZERO_INIT
#define HV_GUID_BROADCAST_INIT                                                                     \
    { 0xFFFFFFFF, 0xFFFF, 0xFFFF, { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF } }
#define HV_GUID_CHILDREN_INIT                                                                      \
    { 0x90DB8B89, 0x0D35, 0x4F79, { 0x8C, 0xE9, 0x49, 0xEA, 0x0A, 0xC8, 0xB7, 0xCD } }
#define HV_GUID_LOOPBACK_INIT                                                                      \
    { 0xE0E16197, 0xDD56, 0x4A10, { 0x91, 0x95, 0x5E, 0xE7, 0xA1, 0x55, 0xA8, 0x38 } }
#define HV_GUID_PARENT_INIT                                                                        \
    { 0xA42E7CDA, 0xD03F, 0x480C, { 0x9C, 0xC2, 0xA4, 0xDE, 0x20, 0xAB, 0xB8, 0x78 } }
#define HV_GUID_SILOHOST_INIT                                                                      \
    { 0x36BD0C5C, 0x7276, 0x4223, { 0x88, 0xBA, 0x7D, 0x03, 0xB6, 0x54, 0xC5, 0x68 } }
#define HV_GUID_VSOCK_TEMPLATE_INIT                                                                \
    { 0x00000000, 0xFACB, 0x11E6, { 0xBD, 0x58, 0x64, 0x00, 0x6A, 0x79, 0x86, 0xD3 } }

static inline const GUID *OpenWhpHvGuidZero(void)
{
    static const GUID g = HV_GUID_ZERO_INIT;
    return &g;
}
static inline const GUID *OpenWhpHvGuidBroadcast(void)
{
    static const GUID g = HV_GUID_BROADCAST_INIT;
    return &g;
}
static inline const GUID *OpenWhpHvGuidChildren(void)
{
    static const GUID g = HV_GUID_CHILDREN_INIT;
    return &g;
}
static inline const GUID *OpenWhpHvGuidLoopback(void)
{
    static const GUID g = HV_GUID_LOOPBACK_INIT;
    return &g;
}
static inline const GUID *OpenWhpHvGuidParent(void)
{
    static const GUID g = HV_GUID_PARENT_INIT;
    return &g;
}
static inline const GUID *OpenWhpHvGuidSiloHost(void)
{
    static const GUID g = HV_GUID_SILOHOST_INIT;
    return &g;
}
static inline const GUID *OpenWhpHvGuidVsockTemplate(void)
{
    static const GUID g = HV_GUID_VSOCK_TEMPLATE_INIT;
    return &g;
}

#define HV_GUID_ZERO (*OpenWhpHvGuidZero())
#define HV_GUID_WILDCARD HV_GUID_ZERO
#define HV_GUID_BROADCAST (*OpenWhpHvGuidBroadcast())
#define HV_GUID_CHILDREN (*OpenWhpHvGuidChildren())
#define HV_GUID_LOOPBACK (*OpenWhpHvGuidLoopback())
#define HV_GUID_PARENT (*OpenWhpHvGuidParent())
#define HV_GUID_SILOHOST (*OpenWhpHvGuidSiloHost())
#define HV_GUID_VSOCK_TEMPLATE (*OpenWhpHvGuidVsockTemplate())

/* ---- Helpers ---- */

/* TRUE iff *a and *b are the same GUID. */
static inline BOOL OpenWhpGuidEqual(const GUID *a, const GUID *b)
{
    if (a->Data1 != b->Data1 || a->Data2 != b->Data2 || a->Data3 != b->Data3)
        return FALSE;
    for (int i = 0; i < 8; i++)
        if (a->Data4[i] != b->Data4[i])
            return FALSE;
    return TRUE;
}

/* *out = the service GUID of vsock port `port` (the template with Data1 = port). */
static inline void OpenWhpVsockPortToServiceId(uint32_t port, GUID *out)
{
    *out = HV_GUID_VSOCK_TEMPLATE;
    out->Data1 = port;
}

/* TRUE iff *id is a vsock service GUID (all but Data1 equal the template); then *port (if not
 * NULL) receives Data1. */
static inline BOOL OpenWhpServiceIdToVsockPort(const GUID *id, uint32_t *port)
{
    GUID t = *id;
    t.Data1 = 0;
    if (!OpenWhpGuidEqual(&t, &HV_GUID_VSOCK_TEMPLATE))
        return FALSE;
    if (port)
        *port = id->Data1;
    return TRUE;
}

/* Formats *g as lowercase "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" plus NUL into buf.
 * Returns 36 (characters written, excluding the NUL). */
static inline int OpenWhpGuidFormat(const GUID *g, char buf[37])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    int n = 0;
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(g->Data1 >> (24 - 8 * i));
    b[4] = (uint8_t)(g->Data2 >> 8);
    b[5] = (uint8_t)g->Data2;
    b[6] = (uint8_t)(g->Data3 >> 8);
    b[7] = (uint8_t)g->Data3;
    for (int i = 0; i < 8; i++)
        b[8 + i] = g->Data4[i];
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[n++] = '-';
        buf[n++] = hex[b[i] >> 4];
        buf[n++] = hex[b[i] & 0xF];
    }
    buf[n] = '\0';
    return n;
}

static inline int OpenWhpHexDigit_(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" or the same in braces, hex digits of either
 * case, nothing before or after. Returns FALSE (and leaves *out unchanged) on anything else.
 * Not inlined: inlined into a caller with a 37-byte buffer, gcc -O2 flags the guarded read of
 * the closing brace as out of bounds. */
__attribute__((noinline, unused)) static BOOL OpenWhpGuidParse(const char *s, GUID *out)
{
    size_t len = 0;
    uint8_t b[16];
    if (!s || !out)
        return FALSE;
    while (len < 39 && s[len])
        len++;
    if (len == 38) {
        if (s[0] != '{' || s[len - 1] != '}')
            return FALSE;
        s++;
    } else if (len != 36) {
        return FALSE;
    }
    for (int i = 0, k = 0; i < 36; k++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return FALSE;
            i++;
        }
        int hi = OpenWhpHexDigit_(s[i]), lo = OpenWhpHexDigit_(s[i + 1]);
        if (hi < 0 || lo < 0)
            return FALSE;
        b[k] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    out->Data1 = (UINT32)b[0] << 24 | (UINT32)b[1] << 16 | (UINT32)b[2] << 8 | b[3];
    out->Data2 = (UINT16)(b[4] << 8 | b[5]);
    out->Data3 = (UINT16)(b[6] << 8 | b[7]);
    for (int i = 0; i < 8; i++)
        out->Data4[i] = b[8 + i];
    return TRUE;
}

/* ======================================================================================
 * Host API (libwinhvplatform)
 *
 * Host <-> guest stream sockets between this process (or any process of the host) and the
 * guests of WHP partitions, carried by a virtio-vsock device that the VMM attaches to the
 * partition (devices/vsock.h). Every connection is an ordinary Unix stream socket file
 * descriptor: read/write/poll/epoll/shutdown/close work as usual.
 *
 * Rendezvous, compatible with the hybrid-vsock convention of Firecracker and Cloud Hypervisor:
 * - a VM's device listens on the Unix socket file <dir>/<vmid> (OpenWhpHvSocketGetPath with
 *   OPENWHP_HVSOCKET_VM_PORT). A host program connects, writes "CONNECT <port>\n" (or a vsock
 *   service GUID instead of the port) and reads "OK <host port>\n" once the guest accepted; a
 *   refused port closes the socket instead;
 * - a guest connection to host port P goes to the first listener of the socket files
 *   <dir>/<vmid>_<P> (what OpenWhpHvSocketListen binds, and what hybrid-vsock tools such as
 *   socat create) and <dir>/<HV_GUID_WILDCARD>_<P> (a listener for any VM). The device binds its
 *   end to the file <dir>/<vmid>.<guest port>.<P> (removed once connected), which tells the
 *   listener the peer (OpenWhpHvSocketAccept).
 * <dir> is $OPENWHP_HVSOCKET_DIR, else $XDG_RUNTIME_DIR/openwhp-hvsocket, else
 * /tmp/openwhp-hvsocket-<euid>.
 *
 * Owner rules: the sockets of a directory belong to its owner. <dir> is created with mode 0700
 * when missing; an existing one (or a symlink, which is not followed) must be a directory owned
 * by the caller's effective uid and not writable by group or others, else every call that uses
 * it fails with E_ACCESSDENIED (== HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED)). Names are taken
 * under a lock on the directory; a name is in use (WSAEADDRINUSE) while a live socket is bound to
 * its file, which the library asks the kernel (sock_diag) instead of connecting to it. A stale
 * socket file of the caller is replaced; a file that is not a socket, or is another user's, is
 * never removed (WSAEADDRINUSE). Every accepted or connected peer must run as the owner's uid or
 * as root (SO_PEERCRED): the device refuses other host programs, OpenWhpHvSocketAccept drops
 * them, OpenWhpHvSocketConnect refuses another user's device (E_ACCESSDENIED).
 *
 * Service ids are vsock ports: only GUIDs of the vsock template (OpenWhpVsockPortToServiceId)
 * can be carried by virtio-vsock; any other service id is HRESULT_FROM_WIN32(WSAEAFNOSUPPORT).
 * Errors are Windows Sockets codes as HvSocket gives them: HRESULT_FROM_WIN32(WSAE...).
 * ====================================================================================== */

#include <WinHvPlatformDefs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Windows Sockets error codes (winerror.h) that the host API returns. */
#ifndef WSAEWOULDBLOCK
#define WSAEWOULDBLOCK 10035L
#define WSAEINVAL 10022L
#define WSAEAFNOSUPPORT 10047L
#define WSAEADDRINUSE 10048L
#define WSAETIMEDOUT 10060L
#define WSAECONNREFUSED 10061L
#define WSAEHOSTUNREACH 10065L
#endif

/* OpenWhpHvSocketGetPath: the port value that names the VM's own (hybrid) socket. */
#define OPENWHP_HVSOCKET_VM_PORT 0xFFFFFFFFu
/* The wait of OpenWhpHvSocketConnect when TimeoutMs is 0. */
#define OPENWHP_HVSOCKET_DEFAULT_CONNECT_TIMEOUT 10000u
/* Obsolete: the abstract peer names that devices bound before the owner rules (anyone could
 * forge them). Kept for source compatibility; nothing binds or trusts them now. */
#define OPENWHP_HVSOCKET_PEER_PREFIX "openwhp-hvsocket:"

/* The VM id of a partition: a random GUID chosen when the partition was created. E_HANDLE for
 * a bad handle, E_POINTER for a NULL VmId. */
HRESULT WINAPI OpenWhpGetPartitionVmId(WHV_PARTITION_HANDLE Partition, GUID *VmId);

/* Writes the Unix socket path of VM VmId (Port = OPENWHP_HVSOCKET_VM_PORT) or the socket file
 * of a host listener for vsock port Port of that VM (VmId may be HV_GUID_WILDCARD) into Path,
 * NUL included. *Written (optional) gets the size needed; WHV_E_INSUFFICIENT_BUFFER when
 * PathSize is smaller. Creates the directory; E_ACCESSDENIED when the owner rules fail. */
HRESULT WINAPI OpenWhpHvSocketGetPath(const GUID *VmId, UINT32 Port, char *Path, UINT32 PathSize,
                                      UINT32 *Written);

/* Listens for guest connections to service Address->ServiceId, from VM Address->VmId or from any
 * VM (HV_GUID_WILDCARD or HV_GUID_CHILDREN). *ListenFd is a listening Unix socket bound to its
 * file in <dir>: accept with OpenWhpHvSocketAccept (or accept(2)), poll it for readability;
 * close it with OpenWhpHvSocketCloseListener. WSAEADDRINUSE when a live socket has the address
 * or a file that is not the caller's socket sits there; E_ACCESSDENIED when the owner rules
 * fail. */
HRESULT WINAPI OpenWhpHvSocketListen(const SOCKADDR_HV *Address, int Backlog, int *ListenFd);

/* Accepts one connection: *Fd is the connected socket (blocking, close-on-exec); Peer
 * (optional) gets the guest's VM id and its port as a vsock service id, taken from the peer's
 * socket file <dir>/<vmid>.<guest port>.<host port> in the listener's own directory (zeros when
 * the peer has no such name: socat, a host program). Connections from another uid than the
 * caller's or root are closed unseen. Waits when none is pending unless the listener is
 * non-blocking (then HRESULT_FROM_WIN32(WSAEWOULDBLOCK)). */
HRESULT WINAPI OpenWhpHvSocketAccept(int ListenFd, SOCKADDR_HV *Peer, int *Fd);

/* Closes a listener (or any listening Unix socket bound with OpenWhpHvSocketBindPath) and
 * removes its socket file; other Unix sockets are only closed. close(2) leaves the file, which
 * the next bind of the name replaces as stale. E_HANDLE if not a Unix socket. */
HRESULT WINAPI OpenWhpHvSocketCloseListener(int ListenFd);

/* Binds Unix socket Fd to the socket file Path under the owner rules (Path's directory checked,
 * not created): what a VMM or device uses for its own rendezvous files, such as the hybrid
 * socket of devices/vsock.h. A stale socket file of the caller is replaced. E_ACCESSDENIED,
 * HRESULT_FROM_WIN32(WSAEADDRINUSE), E_HANDLE (not a Unix socket), E_POINTER. */
HRESULT WINAPI OpenWhpHvSocketBindPath(int Fd, const char *Path);

/* S_OK when the peer of connected Unix socket Fd runs as the caller's effective uid or as root
 * (SO_PEERCRED), else E_ACCESSDENIED. */
HRESULT WINAPI OpenWhpHvSocketCheckPeer(int Fd);

/* Connects to service Address->ServiceId of the guest of VM Address->VmId and waits until the
 * guest accepts, at most TimeoutMs (0: OPENWHP_HVSOCKET_DEFAULT_CONNECT_TIMEOUT; more than
 * HVSOCKET_CONNECT_TIMEOUT_MAX is E_INVALIDARG), as HVSOCKET_CONNECT_TIMEOUT does. *Fd is the
 * connected socket (blocking, close-on-exec). WSAEHOSTUNREACH: no such VM (or its device is
 * gone); WSAECONNREFUSED: the guest refused; WSAETIMEDOUT: no answer in time (also while the
 * device takes no more connections: its listen backlog is full); E_ACCESSDENIED:
 * the owner rules fail (the directory, or a device of another user). */
HRESULT WINAPI OpenWhpHvSocketConnect(const SOCKADDR_HV *Address, UINT32 TimeoutMs, int *Fd);

#ifdef __cplusplus
}
#endif

#endif /* OPENWHP_HVSOCKET_H */
