/* Guest test harness: runs C functions of the test binary as 64-bit CPL0 guest code through the
 * public WHP API only, with a port-I/O "ucall" channel for sync, assertions and prints (modelled on
 * Linux's tools/testing/selftests/kvm). Host and guest code live in the same test file. */
#ifndef OPENWHP_TESTS_GUEST_H
#define OPENWHP_TESTS_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <WinHvEmulation.h>
#include <WinHvPlatform.h>

/* ======================================================================================
 * Guest code
 * ====================================================================================== */

/* Every function that runs in the guest carries GUEST_CODE: no sanitizer instrumentation (the
 * sanitizer runtime is not mapped in the guest), no stack protector (no %fs in the guest), no
 * SSE (the nested KVM here emulates some instructions after privileged ones and chokes on vector
 * ones). Guest code must not call libc or any host function, and must not use thread-locals. */
#if defined(__clang__) && __has_attribute(disable_sanitizer_instrumentation)
/* Also keeps ThreadSanitizer's function entry/exit hooks out of guest code. */
#define GUEST_NO_SANITIZE disable_sanitizer_instrumentation, no_sanitize("address", "undefined", "thread")
#else
#define GUEST_NO_SANITIZE no_sanitize("address", "undefined")
#endif
#define GUEST_ATTRS GUEST_NO_SANITIZE, no_stack_protector, target("general-regs-only")
#define GUEST_CODE __attribute__((GUEST_ATTRS, noinline))
#define GUEST_INLINE static inline __attribute__((GUEST_ATTRS, always_inline))

/* The I/O port of the ucall channel: a 32-bit OUT with RDI = GVA of a struct guest_ucall. */
#define GUEST_UCALL_PORT 0xE0E0

enum guest_ucall_type {
    UCALL_NONE = 0,
    UCALL_SYNC,       /* args: the values given to GUEST_SYNC */
    UCALL_ASSERT,     /* file, line, text; args[0] = GUEST_ASSERT_* kind, then values */
    UCALL_DONE,       /* the guest finished */
    UCALL_PRINT,      /* text = printf-style format, args = integer (or guest string) values */
    UCALL_UNHANDLED,  /* unexpected exception: args = vector, rip, error code, cr2 */
};

#define GUEST_UCALL_MAX_ARGS 6

/* args[0] of an UCALL_ASSERT with values: how the host shows them. */
#define GUEST_ASSERT_MESSAGE 0 /* text is a printf-style format for args[1..] */
#define GUEST_ASSERT_COMPARE 1 /* text is "a op b", args[1] = a, args[2] = b */

/* Guest-side record; lives on the guest stack while the OUT is outstanding. */
struct guest_ucall_record {
    uint64_t type;
    uint64_t nargs;
    uint64_t args[GUEST_UCALL_MAX_ARGS];
    uint64_t file; /* GVA of a NUL-terminated string, or 0 */
    uint64_t line;
    uint64_t text; /* GVA of a NUL-terminated string, or 0 */
};

void guest_ucall(uint64_t type, const char *file, uint64_t line, const char *text, uint64_t nargs,
                 const uint64_t *args);

/* The values are stored one by one, left to right (comma operators: sequenced), into an
 * uninitialised array: an initialiser list would leave the order unspecified, and clang at -O0
 * turns a constant one into a call of the host's memcpy, which the guest cannot run. */
#define GUEST_NARGS_(...) (sizeof((uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)) /* not evaluated */
#define GUEST_STORE6_(v, a, b, c, d, e, f, ...)                                                    \
    ((v)[0] = (uint64_t)(a), (v)[1] = (uint64_t)(b), (v)[2] = (uint64_t)(c),                        \
     (v)[3] = (uint64_t)(d), (v)[4] = (uint64_t)(e), (v)[5] = (uint64_t)(f))
#define GUEST_UCALL_(type, text, ...)                                                              \
    do {                                                                                           \
        uint64_t guest_v_[GUEST_UCALL_MAX_ARGS];                                                   \
        GUEST_STORE6_(guest_v_, __VA_ARGS__, 0, 0, 0, 0, 0, 0);                                    \
        guest_ucall((type), __FILE__, __LINE__, (text), GUEST_NARGS_(__VA_ARGS__), guest_v_);      \
    } while (0)
#define GUEST_UCALL0_(type, text) guest_ucall((type), __FILE__, __LINE__, (text), 0, (const uint64_t *)0)

/* GUEST_SYNC(v, ...): 1 to 6 integer values for the host (arguments are converted to uint64_t). */
#define GUEST_SYNC(...) GUEST_UCALL_(UCALL_SYNC, (const char *)0, __VA_ARGS__)
/* GUEST_PRINTF("fmt", v...): up to 5 values; the host formats them (integer conversions, and %s
 * for a guest string). args[0] is unused. */
#define GUEST_PRINTF(fmt, ...) GUEST_UCALL_(UCALL_PRINT, (fmt), 0, ##__VA_ARGS__)
#define GUEST_DONE()                                                                               \
    do {                                                                                           \
        GUEST_UCALL0_(UCALL_DONE, (const char *)0);                                                \
        guest_halt_forever();                                                                      \
    } while (0)
#define GUEST_FAIL(msg, ...)                                                                       \
    do {                                                                                           \
        GUEST_UCALL_(UCALL_ASSERT, (msg), GUEST_ASSERT_MESSAGE, ##__VA_ARGS__);                    \
        guest_halt_forever();                                                                      \
    } while (0)
#define GUEST_ASSERT(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            GUEST_UCALL0_(UCALL_ASSERT, #cond);                                                    \
            guest_halt_forever();                                                                  \
        }                                                                                          \
    } while (0)
#define GUEST_ASSERT_CMP_(a, b, op)                                                                \
    do {                                                                                           \
        uint64_t guest_a_ = (uint64_t)(a), guest_b_ = (uint64_t)(b);                               \
        if (!(guest_a_ op guest_b_)) {                                                             \
            GUEST_UCALL_(UCALL_ASSERT, #a " " #op " " #b, GUEST_ASSERT_COMPARE, guest_a_, guest_b_); \
            guest_halt_forever();                                                                  \
        }                                                                                          \
    } while (0)
#define GUEST_ASSERT_EQ(a, b) GUEST_ASSERT_CMP_(a, b, ==)
#define GUEST_ASSERT_NE(a, b) GUEST_ASSERT_CMP_(a, b, !=)

/* ---- Instructions ---- */
GUEST_INLINE void guest_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
GUEST_INLINE void guest_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
GUEST_INLINE void guest_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
GUEST_INLINE uint8_t guest_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
GUEST_INLINE uint16_t guest_inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
GUEST_INLINE uint32_t guest_inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
GUEST_INLINE uint64_t guest_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
    return ((uint64_t)hi << 32) | lo;
}
GUEST_INLINE void guest_wrmsr(uint32_t msr, uint64_t v)
{
    /* 64-bit operands: with a 32-bit one the upper half of RAX is left undefined (clang -O0 leaves
     * v there), and a WRMSR exit reports the whole register. */
    __asm__ volatile("wrmsr" ::"c"(msr), "a"(v & 0xFFFFFFFFu), "d"(v >> 32) : "memory");
}
GUEST_INLINE void guest_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c,
                              uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(subleaf));
}
GUEST_INLINE void guest_cli(void) { __asm__ volatile("cli" ::: "memory"); }
GUEST_INLINE void guest_sti(void) { __asm__ volatile("sti" ::: "memory"); }
GUEST_INLINE void guest_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* sti; hlt: the one-instruction interrupt shadow makes "enable and wait" atomic. */
GUEST_INLINE void guest_sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
GUEST_INLINE void guest_pause(void) { __asm__ volatile("pause" ::: "memory"); }
GUEST_INLINE uint64_t guest_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
GUEST_INLINE uint64_t guest_read_rflags(void)
{
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}
#define GUEST_READ_CR_(n)                                                                          \
    GUEST_INLINE uint64_t guest_read_cr##n(void)                                                   \
    {                                                                                              \
        uint64_t v;                                                                                \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                          \
        return v;                                                                                  \
    }
GUEST_READ_CR_(0)
GUEST_READ_CR_(2)
GUEST_READ_CR_(3)
GUEST_READ_CR_(4)
GUEST_READ_CR_(8)
#undef GUEST_READ_CR_

/* Fixed-width memory access through volatile pointers (MMIO, shared pages). */
GUEST_INLINE uint8_t guest_read8(uint64_t gva) { return *(volatile uint8_t *)gva; }
GUEST_INLINE uint16_t guest_read16(uint64_t gva) { return *(volatile uint16_t *)gva; }
GUEST_INLINE uint32_t guest_read32(uint64_t gva) { return *(volatile uint32_t *)gva; }
GUEST_INLINE uint64_t guest_read64(uint64_t gva) { return *(volatile uint64_t *)gva; }
GUEST_INLINE void guest_write8(uint64_t gva, uint8_t v) { *(volatile uint8_t *)gva = v; }
GUEST_INLINE void guest_write16(uint64_t gva, uint16_t v) { *(volatile uint16_t *)gva = v; }
GUEST_INLINE void guest_write32(uint64_t gva, uint32_t v) { *(volatile uint32_t *)gva = v; }
GUEST_INLINE void guest_write64(uint64_t gva, uint64_t v) { *(volatile uint64_t *)gva = v; }

void guest_halt_forever(void) __attribute__((noreturn));

/* ---- Exceptions and interrupts ----
 * Every IDT vector enters a stub that saves the general registers into a guest_ex_frame and calls
 * guest code in C. An installed handler runs with the frame (it may change rip or any register)
 * and returns; the stub restores the registers and returns with iretq. Nothing sends an EOI: an
 * interrupt handler does that itself when it needs one. A vector without a handler is reported to
 * the host as UCALL_UNHANDLED ("unexpected exception"), which fails the test. */
struct guest_ex_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*guest_handler_fn)(struct guest_ex_frame *frame);

/* Guest side: install or remove (NULL) the handler of a vector on all VPs. */
void guest_install_handler(uint8_t vector, guest_handler_fn fn);

/* An instruction that may fault: GUEST_ASM_SAFE("rdmsr") in an asm statement whose operands
 * include GUEST_ASM_SAFE_VECTOR(v), an uint64_t that must start at 0. If the instruction faults,
 * execution continues after it with v = GUEST_SAFE_FAULTED | vector (no handler runs). */
#define GUEST_SAFE_FAULTED 0x100u
#define GUEST_ASM_SAFE(insn)                                                                       \
    "6601: " insn "\n6602:\n"                                                                      \
    ".pushsection guest_extable, \"a\"\n.balign 4\n.long 6601b - ., 6602b - .\n.popsection\n"
#define GUEST_ASM_SAFE_VECTOR(v) "+S"(v) /* the fault path writes the vector into RSI */

/* rdmsr/wrmsr that return 0, or GUEST_SAFE_FAULTED | vector when the instruction faulted. */
uint64_t guest_rdmsr_safe(uint32_t msr, uint64_t *value);
uint64_t guest_wrmsr_safe(uint32_t msr, uint64_t value);

/* ======================================================================================
 * Host side: virtual machines
 * ====================================================================================== */

#define GUEST_MAX_VPS 16
#define GUEST_PAGE_SIZE 4096ull
/* Guest RAM starts at GPA 0 and is also mapped at GVA GUEST_DIRECT_MAP + GPA. */
#define GUEST_DIRECT_MAP 0xFFFF800000000000ull
#define GUEST_DEFAULT_RAM_SIZE (32ull << 20)

struct guest_vm_config {
    uint64_t ram_size;  /* 0: GUEST_DEFAULT_RAM_SIZE */
    uint32_t nr_vps;    /* 0: 1 (the partition's ProcessorCount) */
    WHV_X64_LOCAL_APIC_EMULATION_MODE apic_mode; /* set only when not None (the default) */
    /* Called after ProcessorCount (and the APIC mode) are set, before WHvSetupPartition. */
    void (*pre_setup)(WHV_PARTITION_HANDLE partition, void *opaque);
    void *opaque;
    /* > 0: host memory of this size (page multiple) right before and right after guest RAM,
     * filled with a position-dependent canary (guest_vm_guard_damage checks it). */
    uint64_t guard_size;
};

struct guest_vm {
    WHV_PARTITION_HANDLE partition;
    uint8_t *ram; /* host mapping of guest RAM, GPA 0 .. ram_size */
    uint64_t ram_size;
    uint64_t next_free; /* bump allocator over guest RAM (GPA) */
    uint64_t pml4_gpa;
    uint64_t gdt_gpa, idt_gpa, tss_gpa;
    uint32_t nr_vps;
    uint64_t guard_size; /* canary-filled host memory on each side of ram */
    bool vp_created[GUEST_MAX_VPS];
    struct guest_vm *next_live; /* list of live VMs; the runner frees what a failed test left */
};

/* Creates the partition (properties, setup), guest RAM, page tables that map the test executable
 * (its PT_LOAD segments copied at their own addresses) and the direct map, GDT, IDT and TSSs. No VP
 * exists yet. cfg may be NULL. */
struct guest_vm *guest_vm_create(const struct guest_vm_config *cfg);
/* Creates VP vp in 64-bit mode at entry(arg0, arg1), with its own stack. If entry returns, the
 * guest reports UCALL_DONE. */
void guest_vm_add_vp(struct guest_vm *vm, uint32_t vp, const void *entry, uint64_t arg0, uint64_t arg1);
/* guest_vm_create(NULL) + guest_vm_add_vp(vm, 0, entry, 0, 0). */
struct guest_vm *guest_vm_create_default(const void *entry);
void guest_vm_destroy(struct guest_vm *vm);

/* Bytes of the guard areas around guest RAM (guest_vm_config.guard_size) that no longer hold
 * their canary: anything but 0 means something wrote host memory outside the guest's RAM. */
uint64_t guest_vm_guard_damage(struct guest_vm *vm);

/* ---- Guest memory ---- */
uint64_t guest_vm_alloc(struct guest_vm *vm, uint64_t size); /* zeroed, page-aligned; returns a GPA */
void *guest_vm_gpa2hva(struct guest_vm *vm, uint64_t gpa);   /* RAM only; fails the test otherwise */
static inline uint64_t guest_vm_gpa2gva(uint64_t gpa) { return GUEST_DIRECT_MAP + gpa; }
/* Walks the guest page tables; returns false if gva is not mapped. */
bool guest_vm_gva2gpa(struct guest_vm *vm, uint64_t gva, uint64_t *gpa);
void *guest_vm_gva2hva(struct guest_vm *vm, uint64_t gva); /* NULL unless mapped to RAM */
/* Maps [gva, gva+size) to [gpa, gpa+size) (4 KiB pages; replaces existing entries). */
void guest_vm_map(struct guest_vm *vm, uint64_t gva, uint64_t gpa, uint64_t size);
/* Extends the direct map over a GPA range outside RAM (MMIO); returns the GVA. */
uint64_t guest_vm_map_gpa(struct guest_vm *vm, uint64_t gpa, uint64_t size);
void guest_vm_read(struct guest_vm *vm, uint64_t gva, void *dst, size_t size);
void guest_vm_write(struct guest_vm *vm, uint64_t gva, const void *src, size_t size);
/* The guest has its own copy of the executable's .data/.bss, taken at guest_vm_create. */
#define sync_global_to_guest(vm, g) guest_vm_write((vm), (uint64_t)(uintptr_t)&(g), &(g), sizeof(g))
#define sync_global_from_guest(vm, g) guest_vm_read((vm), (uint64_t)(uintptr_t)&(g), &(g), sizeof(g))

/* Host side: install a C handler for a vector (writes the guest's copy of the handler table). */
void guest_vm_install_handler(struct guest_vm *vm, uint8_t vector, guest_handler_fn fn);
/* Host side: point an IDT gate at a raw handler (an asm routine ending in iretq). ist: 0..7. */
void guest_vm_set_idt_gate(struct guest_vm *vm, uint8_t vector, uint64_t handler_gva, unsigned ist);

/* ---- Registers ---- */
uint64_t guest_get_reg(struct guest_vm *vm, uint32_t vp, WHV_REGISTER_NAME name);
void guest_set_reg(struct guest_vm *vm, uint32_t vp, WHV_REGISTER_NAME name, uint64_t value);
/* Microsoft's Rust crates declare WHV_RUN_VP_EXIT_CONTEXT and WHV_REGISTER_VALUE with 8-byte
 * alignment (their metadata drops DECLSPEC_ALIGN(16)), so Rust programs pass such buffers at
 * 8 mod 16. Every run and register call of the harness does the same, through these, so every
 * guest test also proves the library accepts them (the copy in and out is the harness's). */
HRESULT guest_whv_run(WHV_PARTITION_HANDLE p, UINT32 vp, WHV_RUN_VP_EXIT_CONTEXT *exit);
HRESULT guest_whv_get_regs(WHV_PARTITION_HANDLE p, UINT32 vp, const WHV_REGISTER_NAME *names,
                           UINT32 count, WHV_REGISTER_VALUE *values);
HRESULT guest_whv_set_regs(WHV_PARTITION_HANDLE p, UINT32 vp, const WHV_REGISTER_NAME *names,
                           UINT32 count, const WHV_REGISTER_VALUE *values);

WHV_REGISTER_VALUE guest_get_reg_value(struct guest_vm *vm, uint32_t vp, WHV_REGISTER_NAME name);
void guest_set_reg_value(struct guest_vm *vm, uint32_t vp, WHV_REGISTER_NAME name, WHV_REGISTER_VALUE v);
/* RIP = VpContext.Rip + VpContext.InstructionLength: how a WHP VMM completes an exit. */
void guest_skip_instruction(struct guest_vm *vm, uint32_t vp, const WHV_RUN_VP_EXIT_CONTEXT *exit);

/* ---- Running ---- */
struct guest_ucall {
    uint64_t type; /* enum guest_ucall_type */
    uint64_t nargs;
    uint64_t args[GUEST_UCALL_MAX_ARGS];
    char file[128];
    uint64_t line;
    char text[256];
};

/* Returns true to keep running, false to stop guest_run_handling (which then returns UCALL_NONE). */
typedef bool (*guest_exit_fn)(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit,
                              void *opaque);

/* One WHvRunVirtualProcessor call (fails the test if the call fails). */
void guest_run_once(struct guest_vm *vm, uint32_t vp, WHV_RUN_VP_EXIT_CONTEXT *exit);
/* If exit is the ucall OUT: decodes it into uc, completes the OUT (RIP advanced) and returns true.
 * ASSERT and UNHANDLED fail the test; PRINT is printed (and still returned). */
bool guest_ucall_decode(struct guest_vm *vm, uint32_t vp, const WHV_RUN_VP_EXIT_CONTEXT *exit,
                        struct guest_ucall *uc);
/* Runs until the next SYNC or DONE ucall (PRINT is printed and the guest resumed); any other
 * exit goes to fn (NULL: the exit fails the test). Returns the ucall type. */
uint64_t guest_run_handling(struct guest_vm *vm, uint32_t vp, struct guest_ucall *uc, guest_exit_fn fn,
                            void *opaque);
static inline uint64_t guest_run(struct guest_vm *vm, uint32_t vp, struct guest_ucall *uc)
{
    return guest_run_handling(vm, vp, uc, NULL, NULL);
}
/* Runs and requires a SYNC ucall whose first value is value. */
void guest_expect_sync(struct guest_vm *vm, uint32_t vp, uint64_t value);
/* Runs and requires the DONE ucall. */
void guest_expect_done(struct guest_vm *vm, uint32_t vp);

const char *guest_exit_reason_name(WHV_RUN_VP_EXIT_REASON reason);

/* ---- A WHP instruction emulator wired to the public API ----
 * The callbacks use WHvGet/SetVirtualProcessorRegisters, WHvTranslateGva and, for guest RAM,
 * WHvReadGpaRange/WHvWriteGpaRange; port I/O and memory outside RAM go to the test's io/mmio. */
struct guest_emu {
    WHV_EMULATOR_HANDLE handle;
    struct guest_vm *vm;
    uint32_t vp;
    HRESULT (*io)(struct guest_emu *emu, WHV_EMULATOR_IO_ACCESS_INFO *access);
    HRESULT (*mmio)(struct guest_emu *emu, WHV_EMULATOR_MEMORY_ACCESS_INFO *access);
    void *opaque;
    unsigned io_calls, memory_calls, ram_calls, get_calls, set_calls, translate_calls;
};

void guest_emu_create(struct guest_emu *emu, struct guest_vm *vm, uint32_t vp);
void guest_emu_destroy(struct guest_emu *emu);
/* WHvEmulatorTryIoEmulation / WHvEmulatorTryMmioEmulation for this exit; fails the test unless
 * the call succeeds and reports EmulationSuccessful. */
void guest_emu_io(struct guest_emu *emu, const WHV_RUN_VP_EXIT_CONTEXT *exit);
void guest_emu_mmio(struct guest_emu *emu, const WHV_RUN_VP_EXIT_CONTEXT *exit);

/* ======================================================================================
 * Host side: test runner and assertions
 * ====================================================================================== */

struct guest_test {
    const char *name;
    void (*fn)(void);
};
#define GUEST_TEST(fn) { #fn, fn }

/* Runs the tests named on the command line (all without arguments), each under an alarm
 * (GUEST_TEST_TIMEOUT seconds, default 30), and prints one line per test and "N passed, M
 * failed". Exits 77 (SKIP) when /dev/kvm cannot be opened or no hypervisor is present. */
int guest_test_main(int argc, char **argv, const struct guest_test *tests, size_t count);

/* Registers fn(arg) to run when the current test ends, passed or failed, before the VMs it left
 * are destroyed (outside a test: at exit); cleanups run last first, and registering the same
 * fn and arg again does nothing. For threads a test starts: they must be joined even when a host
 * assertion leaves the test early. Main thread only. */
void guest_test_defer(void (*fn)(void *), void *arg);

/* True when malloc is not glibc's and RSS includes a tool's own bookkeeping: under ASan or TSan
 * (compile time) or valgrind (run time). Heap and RSS growth checks mean nothing then; the tool's
 * own leak check replaces them. */
bool guest_heap_tool(void);

/* Re-arms the current test's alarm to `seconds` from now: for a test whose time budget comes from
 * the environment and can exceed GUEST_TEST_TIMEOUT. */
void guest_test_set_timeout(unsigned seconds);

/* Fails the current test (prints the location and message, then leaves the test function). */
void guest_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* Prints a "SKIP" line for the current test and leaves it; it counts as passed. */
void guest_test_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

void guest_test_fail_assert(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

#define TEST_FAIL(...) guest_test_fail(__FILE__, __LINE__, __VA_ARGS__)
/* TEST_ASSERT(cond) or TEST_ASSERT(cond, "format", values...). */
#define TEST_ASSERT(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond))                                                                               \
            guest_test_fail_assert(__FILE__, __LINE__, #cond, " " __VA_ARGS__);                    \
    } while (0)
#define TEST_ASSERT_EQ(a, b)                                                                       \
    do {                                                                                           \
        uint64_t test_a_ = (uint64_t)(a), test_b_ = (uint64_t)(b);                                 \
        if (test_a_ != test_b_)                                                                    \
            guest_test_fail(__FILE__, __LINE__, "%s == %s: 0x%llx != 0x%llx", #a, #b,              \
                            (unsigned long long)test_a_, (unsigned long long)test_b_);             \
    } while (0)
/* An API call that must succeed. */
#define TEST_HR(call)                                                                              \
    do {                                                                                           \
        HRESULT test_hr_ = (call);                                                                 \
        if (FAILED(test_hr_))                                                                      \
            guest_test_fail(__FILE__, __LINE__, "%s returned 0x%08x", #call, (unsigned)test_hr_);  \
    } while (0)
/* An API call that must return exactly want. */
#define TEST_HR_EQ(call, want)                                                                     \
    do {                                                                                           \
        HRESULT test_hr_ = (call), test_want_ = (want);                                            \
        if (test_hr_ != test_want_)                                                                \
            guest_test_fail(__FILE__, __LINE__, "%s returned 0x%08x, expected %s (0x%08x)", #call, \
                            (unsigned)test_hr_, #want, (unsigned)test_want_);                      \
    } while (0)

#endif /* OPENWHP_TESTS_GUEST_H */
