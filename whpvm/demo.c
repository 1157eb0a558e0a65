/* whpvm-demo: one guest on two VPs (xAPIC, SynIC features on), written with the guest test
 * runtime (tests/guest), that goes through every interrupt and event path of the WHP API once per
 * delivery and reports, per path, whether the guest or the host observed the effect, how many
 * deliveries worked and their median latency. This file is the host half; the guest half is
 * demo_guest.c.
 *
 * The guest runs the same loop on both VPs: GUEST_SYNC(READY, index, r0, r1) with interrupts
 * off, then the command the host left in demo_cmd[index] (wait until an interrupt counter
 * reaches n, send an IPI through the ICR, write a doorbell, call HvSignalEvent), then READY
 * again with the result. The host runs the VPs one at a time from this thread (VP 1 also on a
 * thread of its own while it waits for INIT/SIPI), measures each round trip with
 * CLOCK_MONOTONIC and checks what the guest reported or what the host saw.
 *
 * The demo runs in a child process because the runtime is a test harness: a failed host
 * assertion outside a test, or on any thread other than the runner's (the watchdog, VP 1's
 * INIT/SIPI thread, the HvSocket device's), ends the process with _exit, and a guest that stops
 * answering is only ended by killing it. The parent survives both and still prints every path
 * (those not reached as FAIL). The child's stdout goes to stderr, so the report on stdout stays
 * clean. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openwhp/event.h>
#include <openwhp/hvsocket.h>

#include "cli.h"
#include "demo_guest.h"
#include "guest_apic.h"
#include "guest_synic.h"
#include "guest_vsock.h"
#include "ioapic.h"

#define EVT_FLAG 5
#define FIXED_VECTOR 0x40
#define IPI_VECTOR 0x41
#define TRIGGER_VECTOR 0x50
#define LEVEL_VECTOR 0x60
#define LEVEL_PIN 5
#define DB_GPA 0xD0000000ull /* no RAM: a write exits unless the doorbell takes it */
#define PORT_CONNECTION 0x4D2
#define SIPI_PAGE 0x90 /* GPA 0x90000 */
#define SIPI_PORT 0x511
#define SIPI_MARK 0xA5
#define RUN_TIMEOUT_MS 2000
#define ROUNDS 100
#define SIPI_ROUNDS 20

/* ======================================================================================
 * Host: results (shared with the parent process)
 * ====================================================================================== */

enum {
    P_SIPI,
    P_FIXED,
    P_NMI,
    P_IPI,
    P_LEVEL,
    P_DOORBELL,
    P_TRIGGER,
    P_MESSAGE,
    P_EVENT,
    P_PORT,
    P_HVSOCK,
    NPATHS
};

static const char *const path_names[NPATHS] = {
    "INIT/SIPI start-up of VP 1", "fixed interrupt to VP 0", "NMI to VP 0",
    "IPI VP 0 -> VP 1 (ICR)",     "IOAPIC level + EOI",      "doorbell (no exit)",
    "trigger",                    "SynIC message",           "SynIC event",
    "HvSignalEvent -> port",      "HvSocket echo (vsock)",
};

struct path_result {
    int reached, ok;
    unsigned deliveries, planned;
    double median_us;
    char note[200];
};

struct report {
    struct path_result p[NPATHS];
    char setup_error[200];
};

static struct report *rep;

/* ======================================================================================
 * Host: running the VPs
 * ====================================================================================== */

struct demo {
    struct guest_vm *vm;
    volatile struct demo_cmd *cmd;  /* the guest's demo_cmd */
    volatile uint32_t (*count)[256]; /* the guest's irq_count */
    struct hv_synic_vp *syn;        /* the guest's hv_synic */
    struct ioapic ioapic;
    bool ioapic_ready, line_high;
    unsigned raises;
    HRESULT raise_hr;
    unsigned eoi_exits, other_exits;
    uint32_t eoi_vector, eoi_vp;
    uint64_t r[4]; /* the READY values: index, r0, r1 */
};

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One WHvRunVirtualProcessor under the watchdog of guest_apic.h; false (err set) on failure. */
static bool run_once(struct demo *d, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit, char *err, size_t errlen)
{
    HRESULT hr;
    bool fired;

    pthread_mutex_lock(&watchdog.lock);
    if (!watchdog.started) {
        pthread_t t;
        if (pthread_create(&t, NULL, watchdog_main, NULL) != 0) {
            pthread_mutex_unlock(&watchdog.lock);
            snprintf(err, errlen, "cannot start the watchdog thread");
            return false;
        }
        pthread_detach(t);
        watchdog.started = true;
    }
    watchdog.partition = d->vm->partition;
    watchdog.vp = vp;
    watchdog.fired = false;
    watchdog.armed = true;
    deadline_in(&watchdog.deadline, RUN_TIMEOUT_MS);
    pthread_cond_signal(&watchdog.cond);
    pthread_mutex_unlock(&watchdog.lock);

    memset(exit, 0, sizeof(*exit));
    hr = WHvRunVirtualProcessor(d->vm->partition, vp, exit, sizeof(*exit));

    pthread_mutex_lock(&watchdog.lock);
    watchdog.armed = false;
    fired = watchdog.fired;
    pthread_cond_signal(&watchdog.cond);
    pthread_mutex_unlock(&watchdog.lock);

    if (FAILED(hr)) {
        snprintf(err, errlen, "WHvRunVirtualProcessor(vp %u) returned 0x%08x", vp, (unsigned)hr);
        return false;
    }
    if (fired && exit->ExitReason == WHvRunVpExitReasonCanceled) {
        snprintf(err, errlen, "vp %u: no exit within %u ms (guest at rip 0x%llx waits for what did not come)", vp,
                 RUN_TIMEOUT_MS, (unsigned long long)exit->VpContext.Rip);
        return false;
    }
    return true;
}

/* Runs vp to its next READY; ApicEoi exits go to the IOAPIC (the device drops its line, then
 * ioapic_eoi), MemoryAccess exits are counted and completed. */
static bool run_to_ready(struct demo *d, uint32_t vp, char *err, size_t errlen)
{
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;

    for (;;) {
        if (!run_once(d, vp, &exit, err, errlen))
            return false;
        if (guest_ucall_decode(d->vm, vp, &exit, &uc)) {
            if (uc.type == UCALL_PRINT)
                continue;
            if (uc.type == UCALL_SYNC && uc.args[0] == DEMO_READY && uc.args[1] == vp) {
                memcpy(d->r, &uc.args[1], sizeof(d->r));
                return true;
            }
            snprintf(err, errlen, "vp %u: ucall %llu (0x%llx) from %.40s:%llu instead of READY", vp,
                     (unsigned long long)uc.type, (unsigned long long)uc.args[0], uc.file,
                     (unsigned long long)uc.line);
            return false;
        }
        if (exit.ExitReason == WHvRunVpExitReasonX64ApicEoi) {
            d->eoi_exits++;
            d->eoi_vector = exit.ApicEoi.InterruptVector;
            d->eoi_vp = vp;
            if (d->ioapic_ready) {
                if (d->line_high && exit.ApicEoi.InterruptVector == LEVEL_VECTOR) {
                    ioapic_deassert_irq(&d->ioapic, LEVEL_PIN);
                    d->line_high = false;
                }
                ioapic_eoi(&d->ioapic, exit.ApicEoi.InterruptVector);
            }
            continue;
        }
        if (exit.ExitReason == WHvRunVpExitReasonMemoryAccess) {
            d->other_exits++;
            if (exit.VpContext.InstructionLength)
                guest_set_reg(d->vm, vp, WHvX64RegisterRip, exit.VpContext.Rip + exit.VpContext.InstructionLength);
            continue;
        }
        snprintf(err, errlen, "vp %u: unexpected exit %s (0x%x) at rip 0x%llx", vp,
                 guest_exit_reason_name(exit.ExitReason), (unsigned)exit.ExitReason,
                 (unsigned long long)exit.VpContext.Rip);
        return false;
    }
}

static void set_cmd(struct demo *d, uint32_t vp, uint64_t op, uint64_t a, uint64_t b)
{
    d->cmd[vp].op = op;
    d->cmd[vp].a = a;
    d->cmd[vp].b = b;
}

static HRESULT request(struct demo *d, WHV_INTERRUPT_TYPE type, WHV_INTERRUPT_TRIGGER_MODE trigger, uint32_t dest,
                       uint32_t vector)
{
    return request_irq(d->vm, type, WHvX64InterruptDestinationModePhysical, trigger, dest, vector);
}

/* ---- Path bookkeeping ---- */

struct path_run {
    struct path_result *res;
    double lat[ROUNDS > SIPI_ROUNDS ? ROUNDS : SIPI_ROUNDS];
    double t0;
};

static void path_begin(struct path_run *p, unsigned id, unsigned planned)
{
    memset(p, 0, sizeof(*p));
    p->res = &rep->p[id];
    p->res->reached = 1;
    p->res->planned = planned;
}

static void path_start_clock(struct path_run *p) { p->t0 = now_us(); }

static void path_delivered(struct path_run *p)
{
    p->lat[p->res->deliveries++] = now_us() - p->t0;
}

static void path_fail(struct path_run *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_fail(struct path_run *p, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->res->note, sizeof(p->res->note), "delivery %u: ", p->res->deliveries + 1);
    va_start(ap, fmt);
    vsnprintf(p->res->note + n, sizeof(p->res->note) - (size_t)n, fmt, ap);
    va_end(ap);
    p->res->ok = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void path_end(struct path_run *p)
{
    unsigned n = p->res->deliveries;
    if (n) {
        qsort(p->lat, n, sizeof(double), cmp_double);
        p->res->median_us = n % 2 ? p->lat[n / 2] : (p->lat[n / 2 - 1] + p->lat[n / 2]) / 2;
    }
    if (!p->res->note[0] && n == p->res->planned)
        p->res->ok = 1;
}

#define ERRLEN 160

/* ======================================================================================
 * Host: the paths
 * ====================================================================================== */

static const WHV_REGISTER_NAME vp_regs[] = {
    WHvX64RegisterCr0,  WHvX64RegisterCr3,  WHvX64RegisterCr4,  WHvX64RegisterEfer, WHvX64RegisterCs,
    WHvX64RegisterDs,   WHvX64RegisterEs,   WHvX64RegisterSs,   WHvX64RegisterFs,   WHvX64RegisterGs,
    WHvX64RegisterTr,   WHvX64RegisterLdtr, WHvX64RegisterGdtr, WHvX64RegisterIdtr, WHvX64RegisterRflags,
    WHvX64RegisterRsp,  WHvX64RegisterRip,  WHvX64RegisterRdi,  WHvX64RegisterRsi,
};
#define NR_VP_REGS (sizeof(vp_regs) / sizeof(vp_regs[0]))

/* INIT (WHvRequestInterrupt) then SIPI to VP 1, which waits on a thread of its own; it must come
 * out of WHvRunVirtualProcessor with the OUT of the real-mode code on the SIPI page. */
static void path_init_sipi(struct demo *d)
{
    static struct vp_async ap;
    struct path_run p;
    HRESULT hr;

    /* Real mode at 0x9000:0000: mov al, 0xA5; mov dx, 0x511; out dx, al; hlt; jmp $-1 */
    static const uint8_t code[] = {0xB0, SIPI_MARK, 0xBA, SIPI_PORT & 0xFF, SIPI_PORT >> 8, 0xEE, 0xF4, 0xEB, 0xFD};
    memcpy(guest_vm_gpa2hva(d->vm, (uint64_t)SIPI_PAGE << 12), code, sizeof(code));

    path_begin(&p, P_SIPI, SIPI_ROUNDS);
    for (unsigned i = 0; i < SIPI_ROUNDS; i++) {
        path_start_clock(&p);
        hr = request(d, WHvX64InterruptTypeInit, WHvX64InterruptTriggerModeEdge, 1, 0);
        if (FAILED(hr)) {
            path_fail(&p, "WHvRequestInterrupt(Init, vp 1) returned 0x%08x", (unsigned)hr);
            break;
        }
        vp_async_start(&ap, d->vm, 1);
        hr = request(d, WHvX64InterruptTypeSipi, WHvX64InterruptTriggerModeEdge, 1, SIPI_PAGE);
        if (FAILED(hr)) {
            vp_async_stop(&ap);
            path_fail(&p, "WHvRequestInterrupt(Sipi 0x%x, vp 1) returned 0x%08x", SIPI_PAGE, (unsigned)hr);
            break;
        }
        bool done = vp_async_wait(&ap, RUN_TIMEOUT_MS);
        vp_async_stop(&ap);
        if (!done) {
            path_fail(&p, "VP 1 did not leave WHvRunVirtualProcessor within %u ms of the SIPI", RUN_TIMEOUT_MS);
            break;
        }
        path_delivered(&p);
        const WHV_RUN_VP_EXIT_CONTEXT *e = &ap.exit;
        if (FAILED(ap.hr) || e->ExitReason != WHvRunVpExitReasonX64IoPortAccess ||
            e->IoPortAccess.PortNumber != SIPI_PORT || (e->IoPortAccess.Rax & 0xFF) != SIPI_MARK ||
            e->VpContext.Cs.Selector != SIPI_PAGE << 8 || e->VpContext.Rip != 5) {
            p.res->deliveries--;
            path_fail(&p, "VP 1 run 0x%08x: exit %s (0x%x) port 0x%x al 0x%llx at cs 0x%x rip 0x%llx, expected the "
                          "OUT to 0x%x at 0x%x:5",
                      (unsigned)ap.hr, guest_exit_reason_name(e->ExitReason), (unsigned)e->ExitReason,
                      e->IoPortAccess.PortNumber, (unsigned long long)(e->IoPortAccess.Rax & 0xFF),
                      e->VpContext.Cs.Selector, (unsigned long long)e->VpContext.Rip, SIPI_PORT, SIPI_PAGE << 8);
            break;
        }
    }
    path_end(&p);
}

/* A fixed interrupt or an NMI from WHvRequestInterrupt to VP 0: the guest's handler counts it. */
static void path_request(struct demo *d, unsigned id, WHV_INTERRUPT_TYPE type, uint32_t vector)
{
    struct path_run p;
    char err[ERRLEN];

    path_begin(&p, id, ROUNDS);
    for (unsigned i = 0; i < ROUNDS; i++) {
        d->count[0][vector] = 0;
        d->count[1][vector] = 0;
        set_cmd(d, 0, DEMO_OP_WAIT, vector, 1);
        path_start_clock(&p);
        HRESULT hr = request(d, type, WHvX64InterruptTriggerModeEdge, 0, type == WHvX64InterruptTypeNmi ? 0 : vector);
        if (FAILED(hr)) {
            path_fail(&p, "WHvRequestInterrupt(vector 0x%x, vp 0) returned 0x%08x", vector, (unsigned)hr);
            break;
        }
        if (!run_to_ready(d, 0, err, sizeof(err))) {
            path_fail(&p, "%s", err);
            break;
        }
        path_delivered(&p);
        if (d->r[1] != 1 || d->count[1][vector] != 0) {
            p.res->deliveries--;
            path_fail(&p, "vector 0x%x taken %llu times on vp 0 and %u on vp 1, expected once on vp 0", vector,
                      (unsigned long long)d->r[1], d->count[1][vector]);
            break;
        }
    }
    path_end(&p);
}

/* VP 0 writes the ICR (fixed, physical, VP 1); VP 1 then takes the vector. */
static void path_ipi(struct demo *d)
{
    struct path_run p;
    char err[ERRLEN];

    path_begin(&p, P_IPI, ROUNDS);
    for (unsigned i = 0; i < ROUNDS; i++) {
        d->count[0][IPI_VECTOR] = 0;
        d->count[1][IPI_VECTOR] = 0;
        set_cmd(d, 0, DEMO_OP_SEND_IPI, 1, IPI_VECTOR);
        set_cmd(d, 1, DEMO_OP_WAIT, IPI_VECTOR, 1);
        path_start_clock(&p);
        if (!run_to_ready(d, 0, err, sizeof(err)) || !run_to_ready(d, 1, err, sizeof(err))) {
            path_fail(&p, "%s", err);
            break;
        }
        path_delivered(&p);
        if (d->r[1] != 1 || d->count[0][IPI_VECTOR] != 0) {
            p.res->deliveries--;
            path_fail(&p, "vector 0x%x taken %llu times on vp 1 and %u on vp 0, expected once on vp 1", IPI_VECTOR,
                      (unsigned long long)d->r[1], d->count[0][IPI_VECTOR]);
            break;
        }
    }
    path_end(&p);
}

static void ioapic_raise(void *ctx, const WHV_INTERRUPT_CONTROL *interrupt)
{
    struct demo *d = ctx;
    HRESULT hr = WHvRequestInterrupt(d->vm->partition, interrupt, sizeof(*interrupt));
    d->raises++;
    if (FAILED(hr))
        d->raise_hr = hr;
}

static uint64_t ioapic_rte(struct demo *d, unsigned pin)
{
    uint32_t sel, lo, hi;
    sel = IOAPIC_REG_RTBL + 2 * pin;
    ioapic_mmio_write(&d->ioapic, IOAPIC_IOREGSEL, &sel, 4);
    ioapic_mmio_read(&d->ioapic, IOAPIC_IOWIN, &lo, 4);
    sel++;
    ioapic_mmio_write(&d->ioapic, IOAPIC_IOREGSEL, &sel, 4);
    ioapic_mmio_read(&d->ioapic, IOAPIC_IOWIN, &hi, 4);
    return (uint64_t)hi << 32 | lo;
}

static void ioapic_set_rte(struct demo *d, unsigned pin, uint64_t rte)
{
    uint32_t sel = IOAPIC_REG_RTBL + 2 * pin, v = (uint32_t)rte;
    ioapic_mmio_write(&d->ioapic, IOAPIC_IOREGSEL, &sel, 4);
    ioapic_mmio_write(&d->ioapic, IOAPIC_IOWIN, &v, 4);
    sel++;
    v = (uint32_t)(rte >> 32);
    ioapic_mmio_write(&d->ioapic, IOAPIC_IOREGSEL, &sel, 4);
    ioapic_mmio_write(&d->ioapic, IOAPIC_IOWIN, &v, 4);
}

static const struct ioapic_ops demo_ioapic_ops = {ioapic_raise};

/* A level-triggered IOAPIC pin to VP 0: the line is asserted, the handler EOIs, the ApicEoi exit
 * drops the line and calls ioapic_eoi, which clears remote IRR. */
static void path_level(struct demo *d)
{
    struct path_run p;
    char err[ERRLEN];

    path_begin(&p, P_LEVEL, ROUNDS);
    if (ioapic_init(&d->ioapic, &demo_ioapic_ops, d) < 0) {
        path_fail(&p, "ioapic_init failed");
        path_end(&p);
        return;
    }
    d->ioapic_ready = true;
    ioapic_set_rte(d, LEVEL_PIN, LEVEL_VECTOR | IOAPIC_RTE_LEVEL); /* fixed, physical, APIC ID 0 */
    for (unsigned i = 0; i < ROUNDS; i++) {
        d->count[0][LEVEL_VECTOR] = 0;
        d->raises = 0;
        d->raise_hr = S_OK;
        d->eoi_exits = 0;
        d->eoi_vector = 0;
        set_cmd(d, 0, DEMO_OP_WAIT, LEVEL_VECTOR, 1);
        path_start_clock(&p);
        d->line_high = true;
        if (ioapic_assert_irq(&d->ioapic, LEVEL_PIN) < 0) {
            path_fail(&p, "ioapic_assert_irq(pin %u) failed", LEVEL_PIN);
            break;
        }
        if (!run_to_ready(d, 0, err, sizeof(err))) {
            path_fail(&p, "%s", err);
            break;
        }
        path_delivered(&p);
        uint64_t rte = ioapic_rte(d, LEVEL_PIN);
        if (d->r[1] != 1 || d->raises != 1 || FAILED(d->raise_hr) || d->eoi_exits != 1 ||
            d->eoi_vector != LEVEL_VECTOR || d->eoi_vp != 0 || (rte & IOAPIC_RTE_REM_IRR) || d->line_high) {
            p.res->deliveries--;
            path_fail(&p, "handler ran %llu times, %u raises (WHvRequestInterrupt 0x%08x), %u ApicEoi exits "
                          "(vector 0x%x vp %u), remote IRR %d, line %s",
                      (unsigned long long)d->r[1], d->raises, (unsigned)d->raise_hr, d->eoi_exits, d->eoi_vector,
                      d->eoi_vp, !!(rte & IOAPIC_RTE_REM_IRR), d->line_high ? "still high" : "low");
            break;
        }
    }
    if (d->line_high)
        ioapic_deassert_irq(&d->ioapic, LEVEL_PIN);
    d->line_high = false;
    path_end(&p);
}

/* Reads an eventfd counter: the number of signals since the last read (0 if none). */
static uint64_t take_signals(HANDLE e)
{
    uint64_t v = 0;
    struct pollfd pfd = {.fd = OpenWhpEventFd(e), .events = POLLIN};
    if (pfd.fd < 0 || poll(&pfd, 1, 0) != 1 || read(pfd.fd, &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}

/* A guest write to a doorbell GPA signals the host's event with no exit. */
static void path_doorbell(struct demo *d)
{
    struct path_run p;
    char err[ERRLEN];
    HANDLE e = OpenWhpCreateEvent(FALSE, FALSE);
    WHV_DOORBELL_MATCH_DATA m;
    HRESULT hr;

    path_begin(&p, P_DOORBELL, ROUNDS);
    memset(&m, 0, sizeof(m));
    m.GuestAddress = DB_GPA;
    m.Length = 4;
    m.Value = 0xD00B;
    m.MatchOnLength = 1;
    m.MatchOnValue = 1;
    if (!e) {
        path_fail(&p, "OpenWhpCreateEvent failed: %s", strerror(errno));
        path_end(&p);
        return;
    }
    hr = WHvRegisterPartitionDoorbellEvent(d->vm->partition, &m, e);
    if (FAILED(hr)) {
        path_fail(&p, "WHvRegisterPartitionDoorbellEvent returned 0x%08x", (unsigned)hr);
    } else {
        for (unsigned i = 0; i < ROUNDS; i++) {
            d->other_exits = 0;
            set_cmd(d, 0, DEMO_OP_DOORBELL, guest_vm_gpa2gva(DB_GPA), 0xD00B);
            path_start_clock(&p);
            if (!run_to_ready(d, 0, err, sizeof(err))) {
                path_fail(&p, "%s", err);
                break;
            }
            uint64_t n = take_signals(e);
            path_delivered(&p);
            if (n != 1 || d->other_exits) {
                p.res->deliveries--;
                path_fail(&p, "%llu signals and %u MMIO exits for one doorbell write, expected 1 and 0",
                          (unsigned long long)n, d->other_exits);
                break;
            }
        }
        WHvUnregisterPartitionDoorbellEvent(d->vm->partition, &m);
    }
    OpenWhpCloseEvent(e);
    path_end(&p);
}

/* An interrupt trigger: the host signals its event, the guest's handler runs on VP 0. */
static void path_trigger(struct demo *d)
{
    struct path_run p;
    char err[ERRLEN];
    WHV_TRIGGER_PARAMETERS t;
    WHV_TRIGGER_HANDLE th = NULL;
    HANDLE ev = NULL;
    HRESULT hr;

    path_begin(&p, P_TRIGGER, ROUNDS);
    t = irq_fixed_trigger(0, TRIGGER_VECTOR);
    hr = WHvCreateTrigger(d->vm->partition, &t, &th, &ev);
    if (FAILED(hr)) {
        path_fail(&p, "WHvCreateTrigger returned 0x%08x", (unsigned)hr);
        path_end(&p);
        return;
    }
    for (unsigned i = 0; i < ROUNDS; i++) {
        d->count[0][TRIGGER_VECTOR] = 0;
        set_cmd(d, 0, DEMO_OP_WAIT, TRIGGER_VECTOR, 1);
        path_start_clock(&p);
        if (!OpenWhpSetEvent(ev)) {
            path_fail(&p, "OpenWhpSetEvent(trigger event) failed: %s", strerror(errno));
            break;
        }
        if (!run_to_ready(d, 0, err, sizeof(err))) {
            path_fail(&p, "%s", err);
            break;
        }
        path_delivered(&p);
        if (d->r[1] != 1) {
            p.res->deliveries--;
            path_fail(&p, "vector 0x%x taken %llu times, expected once", TRIGGER_VECTOR, (unsigned long long)d->r[1]);
            break;
        }
    }
    WHvDeleteTrigger(d->vm->partition, th);
    path_end(&p);
}

/* WHvPostVirtualProcessorSynicMessage to VP 0's SINT 2: the guest's SynIC handler consumes it. */
static void path_message(struct demo *d)
{
    struct path_run p;
    char err[ERRLEN];
    struct hv_message m;

    path_begin(&p, P_MESSAGE, ROUNDS);
    uint32_t base = d->syn[0].messages[DEMO_MSG_SINT];
    for (unsigned i = 0; i < ROUNDS; i++) {
        uint64_t cookie = 0x5EC0000000000000ull | i;
        memset(&m, 0, sizeof(m));
        m.type = 0x100;
        m.payload_size = 16;
        m.payload[0] = cookie;
        m.payload[1] = ~cookie;
        set_cmd(d, 0, DEMO_OP_WAIT_MSG, base + i + 1, 0);
        path_start_clock(&p);
        HRESULT hr = WHvPostVirtualProcessorSynicMessage(d->vm->partition, 0, DEMO_MSG_SINT, &m, sizeof(m));
        if (FAILED(hr)) {
            path_fail(&p, "WHvPostVirtualProcessorSynicMessage(vp 0, sint %u) returned 0x%08x", DEMO_MSG_SINT,
                      (unsigned)hr);
            break;
        }
        if (!run_to_ready(d, 0, err, sizeof(err))) {
            path_fail(&p, "%s", err);
            break;
        }
        path_delivered(&p);
        if (d->r[1] != base + i + 1 || d->r[2] != cookie) {
            p.res->deliveries--;
            path_fail(&p, "guest consumed %llu messages (expected %u), payload 0x%llx (expected 0x%llx)",
                      (unsigned long long)d->r[1], base + i + 1, (unsigned long long)d->r[2],
                      (unsigned long long)cookie);
            break;
        }
    }
    path_end(&p);
}

/* WHvSignalVirtualProcessorSynicEvent: flag 5 of VP 0's SINT 3; the guest clears it. */
static void path_event(struct demo *d)
{
    struct path_run p;
    char err[ERRLEN];
    WHV_SYNIC_EVENT_PARAMETERS e;

    path_begin(&p, P_EVENT, ROUNDS);
    memset(&e, 0, sizeof(e));
    e.VpIndex = 0;
    e.TargetSint = DEMO_EVT_SINT;
    e.FlagNumber = EVT_FLAG;
    uint32_t base = d->syn[0].events[DEMO_EVT_SINT];
    for (unsigned i = 0; i < ROUNDS; i++) {
        BOOL newly = FALSE;
        set_cmd(d, 0, DEMO_OP_WAIT_EVT, base + i + 1, 0);
        path_start_clock(&p);
        HRESULT hr = WHvSignalVirtualProcessorSynicEvent(d->vm->partition, e, &newly);
        if (FAILED(hr)) {
            path_fail(&p, "WHvSignalVirtualProcessorSynicEvent(vp 0, sint %u, flag %u) returned 0x%08x", DEMO_EVT_SINT,
                      EVT_FLAG, (unsigned)hr);
            break;
        }
        if (!run_to_ready(d, 0, err, sizeof(err))) {
            path_fail(&p, "%s", err);
            break;
        }
        path_delivered(&p);
        if (!newly || d->r[1] != base + i + 1 || !(d->r[2] & (1ull << EVT_FLAG))) {
            p.res->deliveries--;
            path_fail(&p, "NewlySignaled %d, guest cleared %llu flags (expected %u), flags seen 0x%llx", (int)newly,
                      (unsigned long long)d->r[1], base + i + 1, (unsigned long long)d->r[2]);
            break;
        }
    }
    path_end(&p);
}

/* The guest's fast HvSignalEvent to a connection of an Event notification port sets the host's
 * event with no exit. */
static void path_port(struct demo *d)
{
    struct path_run p;
    char err[ERRLEN];
    WHV_NOTIFICATION_PORT_PARAMETERS prm;
    WHV_NOTIFICATION_PORT_HANDLE port = NULL;
    HANDLE ev = OpenWhpCreateEvent(FALSE, FALSE);
    HRESULT hr;

    path_begin(&p, P_PORT, ROUNDS);
    if (!ev) {
        path_fail(&p, "OpenWhpCreateEvent failed: %s", strerror(errno));
        path_end(&p);
        return;
    }
    memset(&prm, 0, sizeof(prm));
    prm.NotificationPortType = WHvNotificationPortTypeEvent;
    prm.Event.ConnectionId = PORT_CONNECTION;
    hr = WHvCreateNotificationPort(d->vm->partition, &prm, ev, &port);
    if (FAILED(hr)) {
        path_fail(&p, "WHvCreateNotificationPort(Event, connection 0x%x) returned 0x%08x", PORT_CONNECTION,
                  (unsigned)hr);
    } else {
        for (unsigned i = 0; i < ROUNDS; i++) {
            set_cmd(d, 0, DEMO_OP_SIGNAL, PORT_CONNECTION, 0);
            path_start_clock(&p);
            if (!run_to_ready(d, 0, err, sizeof(err))) {
                path_fail(&p, "%s", err);
                break;
            }
            uint64_t n = take_signals(ev);
            path_delivered(&p);
            if (d->r[1] != HV_STATUS_SUCCESS || n != 1) {
                p.res->deliveries--;
                path_fail(&p, "HvSignalEvent status 0x%llx, %llu signals of the port's event (expected 0, 1)",
                          (unsigned long long)d->r[1], (unsigned long long)n);
                break;
            }
        }
        WHvDeleteNotificationPort(d->vm->partition, port);
    }
    OpenWhpCloseEvent(ev);
    path_end(&p);
}

#define HVSOCK_PORT 5000
#define HVSOCK_BYTES 64

/* Reads exactly n bytes within RUN_TIMEOUT_MS; false on timeout, error or end of stream. */
static bool read_exact(int fd, uint8_t *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        ssize_t r = poll(&pfd, 1, RUN_TIMEOUT_MS) == 1 ? read(fd, buf + got, n - got) : -1;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* HvSocket: a second partition with a virtio-vsock device whose guest echoes every connection
 * (zero-copy); the host connects through the HvSocket API and sends 64 bytes per round trip. */
static void path_hvsock(void)
{
    static struct gvs_host h;
    struct guest_vm_config cfg = {.ram_size = 64ull << 20, .apic_mode = WHvX64LocalApicEmulationModeX2Apic};
    struct path_run p;
    uint8_t out[HVSOCK_BYTES], in[HVSOCK_BYTES];
    int fd = -1;

    path_begin(&p, P_HVSOCK, ROUNDS);
    struct guest_vm *vm = guest_vm_create(&cfg);
    gvs_host_attach(&h, vm);
    guest_vm_add_vp(vm, 0, gvs_echo_forever, h.area_gpa, HVSOCK_PORT);
    SOCKADDR_HV a = {.Family = AF_HYPERV, .VmId = h.vm_id};
    OpenWhpVsockPortToServiceId(HVSOCK_PORT, &a.ServiceId);
    HRESULT hr = E_FAIL;
    if (!gvs_host_start(&h, 5 * RUN_TIMEOUT_MS))
        path_fail(&p, "the guest did not start listening");
    else if (FAILED(hr = OpenWhpHvSocketConnect(&a, RUN_TIMEOUT_MS, &fd)))
        path_fail(&p, "OpenWhpHvSocketConnect returned 0x%08x", (unsigned)hr);
    for (unsigned i = 0; fd >= 0 && i < ROUNDS; i++) {
        for (unsigned k = 0; k < sizeof(out); k++)
            out[k] = (uint8_t)(i * 7 + k);
        path_start_clock(&p);
        if (write(fd, out, sizeof(out)) != (ssize_t)sizeof(out) || !read_exact(fd, in, sizeof(in))) {
            path_fail(&p, "no echo within %u ms", RUN_TIMEOUT_MS);
            break;
        }
        if (memcmp(in, out, sizeof(in)) != 0) {
            path_fail(&p, "the echo differs from what was sent");
            break;
        }
        path_delivered(&p);
    }
    if (fd >= 0)
        close(fd);
    gvs_host_stop(&h);
    gvs_host_detach(&h);
    guest_vm_destroy(vm);
    path_end(&p);
}

/* ======================================================================================
 * Host: setup and the child process
 * ====================================================================================== */

static void *gva_hva(struct demo *d, const volatile void *global)
{
    void *p = guest_vm_gva2hva(d->vm, (uint64_t)(uintptr_t)global);
    TEST_ASSERT(p != NULL, "(global %p not mapped in the guest)", (const void *)global);
    return p;
}

static void demo_child(unsigned nr_vps)
{
    static struct demo d;
    struct guest_vm_config cfg = {.nr_vps = nr_vps,
                                  .apic_mode = WHvX64LocalApicEmulationModeXApic,
                                  .pre_setup = guest_synic_pre_setup};
    WHV_REGISTER_VALUE ap_regs[NR_VP_REGS];
    char err[ERRLEN];

    memset(&d, 0, sizeof(d));
    d.vm = guest_vm_create(&cfg);
    apic_map(d.vm);
    guest_vm_map_gpa(d.vm, DB_GPA, GUEST_PAGE_SIZE);
    demo_cfg.x2apic = 0;
    demo_cfg.hypercall = guest_vm_alloc(d.vm, GUEST_PAGE_SIZE);
    for (unsigned vp = 0; vp < DEMO_VPS; vp++) {
        demo_cfg.vp[vp].simp = guest_vm_alloc(d.vm, GUEST_PAGE_SIZE);
        demo_cfg.vp[vp].siefp = guest_vm_alloc(d.vm, GUEST_PAGE_SIZE);
        demo_cfg.vp[vp].input = guest_vm_alloc(d.vm, GUEST_PAGE_SIZE);
    }
    sync_global_to_guest(d.vm, demo_cfg);
    d.cmd = gva_hva(&d, demo_cmd);
    d.count = gva_hva(&d, demo_irq_count);
    d.syn = gva_hva(&d, hv_synic);

    guest_vm_add_vp(d.vm, 0, demo_guest_main, 0, 0);
    guest_vm_add_vp(d.vm, 1, demo_guest_main, 1, 0); /* an AP: waits for INIT/SIPI */
    /* VP 1's 64-bit entry state, put back after INIT/SIPI has reset it. */
    TEST_HR(WHvGetVirtualProcessorRegisters(d.vm->partition, 1, vp_regs, NR_VP_REGS, ap_regs));
    if (!run_to_ready(&d, 0, err, sizeof(err))) {
        snprintf(rep->setup_error, sizeof(rep->setup_error), "VP 0 setup: %s", err);
        return;
    }

    path_init_sipi(&d);
    /* VP 1 leaves real mode for the demo's 64-bit entry, as an OS trampoline would. */
    TEST_HR(WHvSetVirtualProcessorRegisters(d.vm->partition, 1, vp_regs, NR_VP_REGS, ap_regs));
    guest_set_reg(d.vm, 1, WHvRegisterInternalActivityState, 0);
    if (!run_to_ready(&d, 1, err, sizeof(err))) {
        snprintf(rep->setup_error, sizeof(rep->setup_error), "VP 1 setup: %s", err);
        rep->p[P_IPI].reached = 1;
        snprintf(rep->p[P_IPI].note, sizeof(rep->p[P_IPI].note), "VP 1 did not start: %s", err);
    }

    path_request(&d, P_FIXED, WHvX64InterruptTypeFixed, FIXED_VECTOR);
    path_request(&d, P_NMI, WHvX64InterruptTypeNmi, 2);
    if (!rep->p[P_IPI].reached)
        path_ipi(&d);
    path_level(&d);
    path_doorbell(&d);
    path_trigger(&d);
    path_message(&d);
    path_event(&d);
    path_port(&d);
    path_hvsock();

    if (d.ioapic_ready)
        ioapic_destroy(&d.ioapic);
    guest_vm_destroy(d.vm);
}

/* ======================================================================================
 * The report
 * ====================================================================================== */

static void print_table(unsigned nr_vps)
{
    printf("whpvm demo: %u VPs (VPs 0 and 1 used), xAPIC, SynIC; latency = host clock around each round trip\n\n",
           nr_vps);
    printf("  %-28s %-6s  %10s  %14s\n", "path", "result", "deliveries", "median latency");
    for (unsigned i = 0; i < NPATHS; i++) {
        const struct path_result *r = &rep->p[i];
        char del[32], lat[32];
        if (r->deliveries == r->planned)
            snprintf(del, sizeof(del), "%u", r->deliveries);
        else
            snprintf(del, sizeof(del), "%u/%u", r->deliveries, r->planned);
        if (r->deliveries)
            snprintf(lat, sizeof(lat), "%.1f us", r->median_us);
        else
            snprintf(lat, sizeof(lat), "-");
        printf("  %-28s %-6s  %10s  %14s\n", path_names[i], r->ok ? "ok" : "FAIL", r->reached ? del : "-", lat);
    }
    bool notes = rep->setup_error[0] != 0;
    for (unsigned i = 0; i < NPATHS; i++)
        notes |= !rep->p[i].ok;
    if (notes) {
        printf("\n");
        if (rep->setup_error[0])
            printf("  setup: %s\n", rep->setup_error);
        for (unsigned i = 0; i < NPATHS; i++)
            if (!rep->p[i].ok)
                printf("  %s: %s\n", path_names[i],
                       rep->p[i].note[0] ? rep->p[i].note : rep->p[i].reached ? "incomplete" : "not reached");
    }
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json(unsigned nr_vps, bool all_ok)
{
    printf("{\"vps\": %u, \"apic\": \"xapic\", \"ok\": %s, \"setup_error\": ", nr_vps, all_ok ? "true" : "false");
    json_string(rep->setup_error);
    printf(",\n \"paths\": [\n");
    for (unsigned i = 0; i < NPATHS; i++) {
        const struct path_result *r = &rep->p[i];
        printf("  {\"path\": ");
        json_string(path_names[i]);
        printf(", \"ok\": %s, \"deliveries\": %u, \"planned\": %u, \"median_latency_us\": ", r->ok ? "true" : "false",
               r->deliveries, r->planned);
        if (r->deliveries)
            printf("%.1f", r->median_us);
        else
            printf("null");
        printf(", \"note\": ");
        json_string(r->note[0] ? r->note : r->ok ? "" : r->reached ? "incomplete" : "not reached");
        printf("}%s\n", i + 1 < NPATHS ? "," : "");
    }
    printf(" ]}\n");
}

/* Runs the demo on a partition of nr_vps (2..16) processors, of which VPs 0 and 1 are used;
 * prints a table, or one JSON document when json is set, on stdout. Returns the exit status:
 * 0 when every path worked, 1 when one did not, 2 when the demo could not start. */
static int demo_run(unsigned nr_vps, bool json)
{
    if (nr_vps < DEMO_VPS || nr_vps > GUEST_MAX_VPS) {
        fprintf(stderr, "whpvm-demo: -smp must be 2 to %d\n", GUEST_MAX_VPS);
        return 2;
    }
    rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rep == MAP_FAILED) {
        fprintf(stderr, "whpvm-demo: mmap: %s\n", strerror(errno));
        return 2;
    }
    memset(rep, 0, sizeof(*rep));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "whpvm-demo: fork: %s\n", strerror(errno));
        return 2;
    }
    if (pid == 0) {
        /* The runtime prints its failures on stdout: send them to stderr. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        demo_child(nr_vps);
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    double deadline = now_us() + 30e6;
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_us() < deadline) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        snprintf(rep->setup_error, sizeof(rep->setup_error), "the demo did not finish within 30 s (killed)");
    } else if (w < 0) {
        snprintf(rep->setup_error, sizeof(rep->setup_error), "waitpid: %s", strerror(errno));
    } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !rep->setup_error[0]) {
        if (WIFSIGNALED(status))
            snprintf(rep->setup_error, sizeof(rep->setup_error), "the demo process died of signal %d",
                     WTERMSIG(status));
        else
            snprintf(rep->setup_error, sizeof(rep->setup_error),
                     "the demo process stopped with status %d (message on stderr)", WEXITSTATUS(status));
    }
    bool all_ok = rep->setup_error[0] == 0;
    for (unsigned i = 0; i < NPATHS; i++)
        all_ok &= rep->p[i].ok != 0;
    if (json)
        print_json(nr_vps, all_ok);
    else
        print_table(nr_vps);
    fflush(stdout);
    munmap(rep, sizeof(*rep));
    return all_ok ? 0 : 1;
}

static const char usage[] =
    "usage: whpvm-demo [-smp N] [--json]\n"
    "Runs a guest on VPs 0 and 1 of an N-VP partition (default 2, at most 16) through every\n"
    "interrupt and event path of the WHP API and prints a table of the results (--json: one JSON\n"
    "document). Exit status: 0 when every path worked, 1 when one did not, 2 for an error.\n";

int main(int argc, char **argv)
{
    struct cli_options o;
    char err[256];
    if (cli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "whpvm-demo: %s\n", err);
        return 2;
    }
    if (o.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (o.kernel) {
        fprintf(stderr, "whpvm-demo: -kernel is whpvm's option, not the demo's\n");
        return 2;
    }
    return demo_run(o.smp, o.json);
}
