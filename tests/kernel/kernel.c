/* whpvm_test_kernel: a small multiboot (v1) kernel that exercises the whpvm board end to end.
 * BSP: checks the boot magic and the info structure, reads the CPU count and RAM size from
 * fw_cfg, starts every AP with INIT-SIPI-SIPI (the APs run a real-mode trampoline at 0x8000,
 * switch to protected mode, count themselves and halt), routes COM1's IRQ 4 through the IOAPIC
 * to vector 0x24 and prints "whpvm kernel: N CPUs up\n" one byte per THR-empty interrupt.
 * The run ends through isa-debug-exit (port 0xF4): 0x10 on success (whpvm status 33), 0x20 + a
 * code from enum fail on failure (status 65 and up). Waits for interrupts with sti; hlt.
 * Options (the multiboot command line, words separated by spaces): "lint0" first checks that
 * the PIC's interrupt waits while LVT LINT0 is masked (lint0_check). */
#include <stdint.h>

#define MAX_CPUS 16
#define TRAMP_BASE 0x8000u /* SIPI vector 0x08 */
#define AP_STACK_SIZE 4096u

#define LAPIC_BASE 0xFEE00000u
#define LAPIC_ID 0x020
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LVT_MASKED 0x10000u
#define LVT_EXTINT 0x700u
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3E0
#define IOAPIC_BASE 0xFEC00000u

#define PIC_MASTER 0x20
#define PIC_SLAVE 0xA0
#define PIC_OCW3_READ_IRR 0x0A
#define PIC_OCW3_READ_ISR 0x0B
#define PIC_EOI 0x20
#define PIT_CH0 0x40
#define PIT_CONTROL 0x43
#define PIT_CH0_RATE 0x34   /* channel 0, LSB then MSB, mode 2 (rate generator) */
#define PIT_1KHZ 1193u
#define MBI_CMDLINE 0x4u    /* multiboot info flag: mbi[4] points at the command line */

#define COM1 0x3F8
#define PM_TIMER 0x608
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define EXIT_PORT 0xF4

#define VEC_UART 0x24
#define VEC_WATCHDOG 0x30
#define VEC_PIC_BASE 0x40 /* IRQ 0-7 of the master; the slave follows at 0x48 */
#define VEC_SPURIOUS 0xFF

enum fail {
    FAIL_MAGIC = 1,         /* EAX is not 0x2BADB002 */
    FAIL_FWCFG_SIG = 2,     /* fw_cfg signature is not "QEMU" */
    FAIL_CPU_COUNT = 3,     /* fw_cfg CPU count is 0 or above MAX_CPUS */
    FAIL_ICR_BUSY = 4,      /* the ICR delivery-status bit never cleared */
    FAIL_AP_TIMEOUT = 5,    /* not every AP checked in within 2 s */
    FAIL_AP_EXTRA = 6,      /* more APs checked in than fw_cfg announced */
    FAIL_IOAPIC_VER = 7,    /* IOAPIC version register: not 24 entries */
    FAIL_IOAPIC_RTE = 8,    /* the redirection entry read back differently */
    FAIL_NO_IRQ = 9,        /* the watchdog fired before the UART interrupt came */
    FAIL_LSR_THRE = 10,     /* LSR.THRE clear right after a THR-empty interrupt */
    FAIL_IIR = 11,          /* the UART handler found no THR-empty cause in IIR */
    FAIL_IRQ_COUNT = 12,    /* interrupt count differs from bytes + 1 */
    FAIL_BSP_ID = 13,       /* the BSP's LAPIC ID is not 0 */
    FAIL_MBI = 14,          /* multiboot info: no memory fields, or more memory than fw_cfg says */
    FAIL_LINE_STUCK = 15,   /* a UART interrupt after IER was cleared */
    FAIL_PIC_EARLY = 16,    /* lint0: a PIC interrupt arrived while LINT0 was masked */
    FAIL_PIC_ISR = 17,      /* lint0: the PIC has IRQ 0 in service though the CPU never took it */
    FAIL_PIC_NO_IRQ = 18,   /* lint0: no PIC interrupt within a second of unmasking LINT0 */
    FAIL_EXCEPTION = 0x1E,  /* a CPU exception */
    FAIL_VECTOR = 0x1F,     /* an interrupt on a vector nobody programmed */
};

/* ---- port and MMIO access ---- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t mmio_read(uint32_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t lapic_read(uint32_t r) { return mmio_read(LAPIC_BASE + r); }
static inline void lapic_write(uint32_t r, uint32_t v) { mmio_write(LAPIC_BASE + r, v); }
static inline void pause(void) { __asm__ volatile("pause"); }

static uint32_t ioapic_read(uint32_t reg)
{
    mmio_write(IOAPIC_BASE, reg);
    return mmio_read(IOAPIC_BASE + 0x10);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write(IOAPIC_BASE, reg);
    mmio_write(IOAPIC_BASE + 0x10, v);
}

__attribute__((noreturn)) void finish(unsigned value)
{
    outb(EXIT_PORT, (uint8_t)value);
    for (;;)
        __asm__ volatile("cli; hlt");
}

__attribute__((noreturn)) static void fail(enum fail code) { finish(0x20u + code); }

/* Freestanding compilers may still emit these for copies and clears. */
void *memcpy(void *d, const void *s, unsigned n)
{
    volatile uint8_t *dp = d;
    const volatile uint8_t *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memset(void *d, int c, unsigned n)
{
    volatile uint8_t *dp = d;
    while (n--)
        *dp++ = (uint8_t)c;
    return d;
}

/* ---- time: the ACPI PM timer (3.579545 MHz, 24 bits used) ---- */

static uint32_t pm_ticks(void) { return inl(PM_TIMER) & 0xFFFFFFu; }

/* True once us microseconds passed since start (at most about 4.6 s). */
static int pm_elapsed(uint32_t start, uint32_t us)
{
    return ((pm_ticks() - start) & 0xFFFFFFu) >= us / 1000u * 3580u + us % 1000u * 3580u / 1000u;
}

static void delay_us(uint32_t us)
{
    uint32_t start = pm_ticks();
    while (!pm_elapsed(start, us))
        pause();
}

/* ---- descriptor tables, entry, trampoline, interrupt stubs ---- */

uint64_t gdt[3] __attribute__((aligned(8))) = {
    0,
    0x00CF9A000000FFFFull, /* 0x08: code, flat 4 GiB, 32-bit */
    0x00CF92000000FFFFull, /* 0x10: data, flat 4 GiB */
};
struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint32_t base;
};
static uint64_t idt[256] __attribute__((aligned(8)));

uint8_t bsp_stack[16384] __attribute__((aligned(16)));
uint8_t ap_stacks[MAX_CPUS * AP_STACK_SIZE] __attribute__((aligned(16)));

volatile uint32_t ap_count;
volatile uint32_t uart_irqs, watchdog_fired, bad_iir, unexpected, pic_irqs;

void kmain(uint32_t magic, uint32_t info);
void ap_main(void);
void uart_isr(void);
void watchdog_isr(void);
void pic_isr(void);
extern char tramp_start[], tramp_end[];
extern char isr_uart[], isr_watchdog[], isr_spurious[], isr_exception[], isr_other[], isr_pic[];

__asm__(
    /* Multiboot header: flags = page-align | memory info. */
    ".section .multiboot, \"a\"\n"
    ".align 4\n"
    ".long 0x1BADB002, 0x00000003, -(0x1BADB002 + 0x00000003)\n"
    ".text\n"
    ".globl _start\n"
    "_start:\n"
    "    cli\n"
    "    movl $bsp_stack + 16384, %esp\n"
    "    movl %eax, %esi\n"
    "    lgdtl gdt_desc\n"
    "    ljmpl $0x08, $1f\n"
    "1:  movw $0x10, %ax\n"
    "    movw %ax, %ds\n"
    "    movw %ax, %es\n"
    "    movw %ax, %ss\n"
    "    movw %ax, %fs\n"
    "    movw %ax, %gs\n"
    "    pushl %ebx\n"
    "    pushl %esi\n"
    "    call kmain\n"
    "    pushl $0x2F\n" /* kmain returned: never happens */
    "    call finish\n"
    ".align 8\n"
    "gdt_desc:\n"
    "    .word 23\n"
    "    .long gdt\n"

    /* The AP trampoline: copied to TRAMP_BASE, entered in real mode at CS = 0x0800, IP = 0. */
    ".globl tramp_start, tramp_end\n"
    ".code16\n"
    "tramp_start:\n"
    "    cli\n"
    "    movw %cs, %ax\n"
    "    movw %ax, %ds\n"
    "    lgdtl tramp_gdtr - tramp_start\n"
    "    movl %cr0, %eax\n"
    "    orl $1, %eax\n"
    "    movl %eax, %cr0\n"
    "    ljmpl $0x08, $(0x8000 + tramp_pm - tramp_start)\n"
    ".code32\n"
    "tramp_pm:\n"
    "    movw $0x10, %ax\n"
    "    movw %ax, %ds\n"
    "    movw %ax, %es\n"
    "    movw %ax, %ss\n"
    "    movw %ax, %fs\n"
    "    movw %ax, %gs\n"
    "    movl 0xFEE00020, %eax\n" /* LAPIC ID: one stack per AP */
    "    shrl $24, %eax\n"
    "    andl $15, %eax\n"
    "    incl %eax\n"
    "    shll $12, %eax\n"
    "    addl $ap_stacks, %eax\n"
    "    movl %eax, %esp\n"
    "    movl $ap_main, %eax\n"
    "    jmp *%eax\n"
    ".align 4\n"
    "tramp_gdtr:\n"
    "    .word 23\n"
    "    .long gdt\n"
    "tramp_end:\n"

    /* Interrupt stubs return with a plain iret, as real kernels do. (On this host KVM's
     * emulator, which runs the instructions after some exits, cannot do a protected-mode iret;
     * the library performs it - see docs/design.md.) */
    ".macro IRET32\n"
    "    iretl\n"
    ".endm\n"
    ".globl isr_uart, isr_watchdog, isr_spurious, isr_exception, isr_other, isr_pic\n"
    "isr_uart:\n"
    "    pushal\n"
    "    cld\n"
    "    call uart_isr\n"
    "    popal\n"
    "    IRET32\n"
    "isr_watchdog:\n"
    "    pushal\n"
    "    cld\n"
    "    call watchdog_isr\n"
    "    popal\n"
    "    IRET32\n"
    "isr_pic:\n"
    "    pushal\n"
    "    cld\n"
    "    call pic_isr\n"
    "    popal\n"
    "    IRET32\n"
    "isr_spurious:\n" /* no EOI for the spurious vector */
    "    IRET32\n"
    "isr_exception:\n"
    "    pushl $0x3E\n"
    "    call finish\n"
    "isr_other:\n"
    "    pushl $0x3F\n"
    "    call finish\n");

static void set_gate(unsigned vec, const void *handler)
{
    uint32_t off = (uint32_t)handler;
    idt[vec] = (uint64_t)((off & 0xFFFFu) | (0x08u << 16)) |
               ((uint64_t)((off & 0xFFFF0000u) | 0x8E00u) << 32); /* present, DPL 0, 32-bit intr gate */
}

static void setup_idt(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, v < 32 ? isr_exception : isr_other);
    set_gate(VEC_UART, isr_uart);
    set_gate(VEC_WATCHDOG, isr_watchdog);
    set_gate(VEC_SPURIOUS, isr_spurious);
    set_gate(VEC_PIC_BASE + 0, isr_pic); /* IRQ 0, the PIT; other PIC vectors stay isr_other */
    static struct dtr d;
    d.limit = sizeof(idt) - 1;
    d.base = (uint32_t)idt;
    __asm__ volatile("lidtl %0" ::"m"(d));
}

/* ---- APs ---- */

void ap_main(void)
{
    __atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST);
    for (;;)
        __asm__ volatile("cli; hlt");
}

static void send_ipi(uint32_t dest, uint32_t low)
{
    lapic_write(LAPIC_ICR_HI, dest << 24);
    lapic_write(LAPIC_ICR_LO, low);
    uint32_t start = pm_ticks();
    while (lapic_read(LAPIC_ICR_LO) & (1u << 12)) { /* delivery status: send pending */
        if (pm_elapsed(start, 100000))
            fail(FAIL_ICR_BUSY);
        pause();
    }
}

static void start_aps(uint32_t ncpus)
{
    volatile uint8_t *dst = (volatile uint8_t *)TRAMP_BASE;
    for (const char *p = tramp_start; p < tramp_end; p++)
        *dst++ = (uint8_t)*p;
    for (uint32_t id = 1; id < ncpus; id++) {
        send_ipi(id, 0x00004500); /* INIT, level assert */
        delay_us(10000);
        send_ipi(id, 0x00004600 | (TRAMP_BASE >> 12)); /* STARTUP */
        delay_us(200);
        send_ipi(id, 0x00004600 | (TRAMP_BASE >> 12));
    }
    uint32_t start = pm_ticks();
    while (ap_count < ncpus - 1 && !pm_elapsed(start, 2000000))
        pause();
    if (ap_count < ncpus - 1)
        fail(FAIL_AP_TIMEOUT);
    delay_us(10000); /* a stray extra AP would show up now */
    if (ap_count != ncpus - 1)
        fail(FAIL_AP_EXTRA);
}

/* ---- interrupts ---- */

void uart_isr(void)
{
    uint8_t iir = inb(COM1 + 2);
    if ((iir & 0x0F) != 0x02)
        bad_iir++;
    uart_irqs++;
    lapic_write(LAPIC_EOI, 0);
}

void watchdog_isr(void)
{
    watchdog_fired = 1;
    lapic_write(LAPIC_EOI, 0);
}

/* An ExtINT interrupt: the PIC has it in service, the LAPIC does not (no LAPIC EOI). */
void pic_isr(void)
{
    pic_irqs++;
    outb(PIC_MASTER, PIC_EOI);
}

/* Waits (sti; hlt) until uart_irqs moves past seen; fails after about a second. */
static void wait_uart_irq(uint32_t seen)
{
    watchdog_fired = 0;
    lapic_write(LAPIC_TIMER_INIT, 1000000000u); /* one-shot; KVM's LAPIC timer counts at 1 GHz */
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (uart_irqs != seen)
            break;
        if (watchdog_fired)
            fail(FAIL_NO_IRQ);
        __asm__ volatile("sti; hlt" ::: "memory");
    }
    lapic_write(LAPIC_TIMER_INIT, 0);
}

/* ---- fw_cfg ---- */

static void fwcfg_read(uint16_t key, void *buf, unsigned n)
{
    outw(FW_CFG_SEL, key);
    for (unsigned i = 0; i < n; i++)
        ((uint8_t *)buf)[i] = inb(FW_CFG_DATA);
}

/* ---- the PIC behind a masked LINT0 ---- */

static void pic_init(void)
{
    outb(PIC_MASTER, 0x11); /* ICW1: edge, cascade, ICW4 follows */
    outb(PIC_MASTER + 1, VEC_PIC_BASE);
    outb(PIC_MASTER + 1, 1u << 2); /* the slave on IRQ 2 */
    outb(PIC_MASTER + 1, 0x01);    /* ICW4: 8086 mode, normal EOI */
    outb(PIC_SLAVE, 0x11);
    outb(PIC_SLAVE + 1, VEC_PIC_BASE + 8);
    outb(PIC_SLAVE + 1, 2);
    outb(PIC_SLAVE + 1, 0x01);
    outb(PIC_SLAVE + 1, 0xFF);
    outb(PIC_MASTER + 1, 0xFF);
}

static uint8_t pic_isr_reg(void)
{
    outb(PIC_MASTER, PIC_OCW3_READ_ISR);
    uint8_t isr = inb(PIC_MASTER);
    outb(PIC_MASTER, PIC_OCW3_READ_IRR);
    return isr;
}

/* The PIT ticks at 1 kHz into the PIC's IRQ 0 while LINT0 is masked (ExtINT mode): for 50 ms
 * with IF set no interrupt may arrive and the PIC must show nothing in service (the CPU took no
 * INTA). Once LINT0 is unmasked the waiting interrupt arrives (on IRQ 0's vector: any other
 * vector fails through isr_other). Leaves the PIC masked, the PIT stopped, LINT0 masked. */
static void lint0_check(void)
{
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED | LVT_EXTINT);
    pic_init();
    outb(PIT_CONTROL, PIT_CH0_RATE);
    outb(PIT_CH0, PIT_1KHZ & 0xFF);
    outb(PIT_CH0, PIT_1KHZ >> 8);
    outb(PIC_MASTER + 1, 0xFE); /* IRQ 0 only */
    __asm__ volatile("sti" ::: "memory");
    delay_us(50000);
    __asm__ volatile("cli" ::: "memory");
    if (pic_irqs)
        fail(FAIL_PIC_EARLY);
    if (pic_isr_reg())
        fail(FAIL_PIC_ISR);
    lapic_write(LAPIC_LVT_LINT0, LVT_EXTINT);
    watchdog_fired = 0;
    lapic_write(LAPIC_TIMER_INIT, 1000000000u);
    while (!pic_irqs) {
        if (watchdog_fired)
            fail(FAIL_PIC_NO_IRQ);
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
    lapic_write(LAPIC_TIMER_INIT, 0);
    outb(PIC_MASTER + 1, 0xFF);
    outb(PIT_CONTROL, 0x30); /* channel 0, mode 0, no count written: stopped, OUT low */
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED | LVT_EXTINT);
}

/* True when the multiboot command line holds the word w. */
static int has_option(const volatile uint32_t *mbi, const char *w)
{
    if (!(mbi[0] & MBI_CMDLINE) || !mbi[4])
        return 0;
    for (const char *p = (const char *)mbi[4]; *p;) {
        while (*p == ' ')
            p++;
        const char *q = w;
        while (*q && *p == *q)
            p++, q++;
        if (!*q && (*p == ' ' || !*p))
            return 1;
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

/* ---- main ---- */

void kmain(uint32_t magic, uint32_t info)
{
    if (magic != 0x2BADB002u)
        fail(FAIL_MAGIC);
    setup_idt();
    outb(0x21, 0xFF); /* mask both PICs: the IOAPIC delivers */
    outb(0xA1, 0xFF);

    char sig[4];
    fwcfg_read(0x0000, sig, 4);
    if (sig[0] != 'Q' || sig[1] != 'E' || sig[2] != 'M' || sig[3] != 'U')
        fail(FAIL_FWCFG_SIG);
    uint16_t ncpus = 0;
    fwcfg_read(0x0005, &ncpus, 2);
    if (ncpus == 0 || ncpus > MAX_CPUS)
        fail(FAIL_CPU_COUNT);
    uint32_t ram[2] = {0, 0};
    fwcfg_read(0x0003, ram, 8);
    const volatile uint32_t *mbi = (const volatile uint32_t *)info;
    uint64_t ram_size = ram[0] | (uint64_t)ram[1] << 32;
    if (!(mbi[0] & 1) || mbi[2] == 0 || ((uint64_t)mbi[2] + 1024) * 1024 > ram_size)
        fail(FAIL_MBI);

    if (lapic_read(LAPIC_ID) >> 24 != 0)
        fail(FAIL_BSP_ID);
    lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
    lapic_write(LAPIC_TIMER_DIV, 0xB); /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, VEC_WATCHDOG); /* one-shot, unmasked, not running yet */

    if (has_option(mbi, "lint0"))
        lint0_check();
    start_aps(ncpus);

    if (((ioapic_read(0x01) >> 16) & 0xFF) != 23)
        fail(FAIL_IOAPIC_VER);
    ioapic_write(0x10 + 2 * 4 + 1, 0u << 24); /* pin 4: destination APIC 0 */
    ioapic_write(0x10 + 2 * 4, VEC_UART);     /* fixed, physical, edge, active high, unmasked */
    if ((ioapic_read(0x10 + 2 * 4) & 0x1FFFF & ~0x1000u) != VEC_UART ||
        ioapic_read(0x10 + 2 * 4 + 1) >> 24 != 0)
        fail(FAIL_IOAPIC_RTE);

    char msg[40] = "whpvm kernel: ";
    unsigned n = 14;
    if (ncpus >= 10)
        msg[n++] = (char)('0' + ncpus / 10);
    msg[n++] = (char)('0' + ncpus % 10);
    for (const char *s = " CPUs up\n"; *s; s++)
        msg[n++] = *s;

    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0x00); /* FIFOs off */
    outb(COM1 + 4, 0x0B); /* DTR | RTS | OUT2 */
    (void)inb(COM1 + 2);
    uint32_t seen = uart_irqs;
    outb(COM1 + 1, 0x02); /* THR empty interrupt: the THR is empty, so it fires at once */
    wait_uart_irq(seen);
    for (unsigned i = 0; i < n; i++) {
        if (!(inb(COM1 + 5) & 0x20))
            fail(FAIL_LSR_THRE);
        seen = uart_irqs;
        outb(COM1, (uint8_t)msg[i]);
        wait_uart_irq(seen);
    }
    outb(COM1 + 1, 0x00);
    seen = uart_irqs;
    delay_us(2000);
    __asm__ volatile("sti; nop; cli" ::: "memory");
    if (uart_irqs != seen)
        fail(FAIL_LINE_STUCK);
    if (bad_iir)
        fail(FAIL_IIR);
    if (uart_irqs != n + 1)
        fail(FAIL_IRQ_COUNT);
    finish(0x10);
}
