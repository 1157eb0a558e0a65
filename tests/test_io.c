/* Port I/O exits: IN and OUT of 1, 2 and 4 bytes completed by the host directly and through the
 * WHP emulator, string I/O (rep outsb, rep insb, outsw, insd) through the emulator, and the exit
 * context that comes with them. */
#include <string.h>

#include "guest.h"

#define PORT_B 0x4410
#define PORT_W 0x4412
#define PORT_L 0x4414
#define PORT_STR 0x4420

GUEST_CODE static void guest_out_in(void)
{
    uint8_t b;
    uint16_t w;
    uint32_t l;

    guest_outb(PORT_B, 0x11);
    guest_outw(PORT_W, 0x2233);
    guest_outl(PORT_L, 0x44556677);
    b = guest_inb(PORT_B);
    w = guest_inw(PORT_W);
    l = guest_inl(PORT_L);
    GUEST_SYNC(b, w, l);
    GUEST_DONE();
}

/* What one port access should look like in the exit context. */
struct io_expect {
    uint16_t port;
    uint8_t size;
    bool is_write;
    uint32_t value; /* OUT: the data; IN: what the host returns */
    uint8_t insn_len;
};

static const struct io_expect out_in_sequence[] = {
    {PORT_B, 1, true, 0x11, 1},
    {PORT_W, 2, true, 0x2233, 2},
    {PORT_L, 4, true, 0x44556677, 1},
    {PORT_B, 1, false, 0xA5, 1},
    {PORT_W, 2, false, 0xBEEF, 2},
    {PORT_L, 4, false, 0xDEADBEEF, 1},
};

static uint32_t size_mask(unsigned size)
{
    return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

/* Checks the parts of an I/O exit that do not depend on who completes it. */
static void check_io_exit(struct guest_vm *vm, const WHV_RUN_VP_EXIT_CONTEXT *exit, const struct io_expect *e)
{
    const WHV_X64_IO_PORT_ACCESS_CONTEXT *io = &exit->IoPortAccess;
    uint8_t code[16];

    TEST_ASSERT(exit->ExitReason == WHvRunVpExitReasonX64IoPortAccess, "(exit %s at 0x%llx)",
                guest_exit_reason_name(exit->ExitReason), (unsigned long long)exit->VpContext.Rip);
    TEST_ASSERT_EQ(io->PortNumber, e->port);
    TEST_ASSERT_EQ(io->AccessInfo.AccessSize, e->size);
    TEST_ASSERT_EQ(io->AccessInfo.IsWrite, e->is_write);
    TEST_ASSERT_EQ(io->AccessInfo.StringOp, 0);
    TEST_ASSERT_EQ(io->AccessInfo.RepPrefix, 0);
    if (e->is_write)
        TEST_ASSERT_EQ(io->Rax & size_mask(e->size), e->value);

    /* The VP context: 64-bit CPL0 code, stopped at the instruction. */
    TEST_ASSERT_EQ(exit->VpContext.InstructionLength, e->insn_len);
    TEST_ASSERT_EQ(exit->VpContext.Cs.Selector, 0x08);
    TEST_ASSERT_EQ(exit->VpContext.Cs.Long, 1);
    TEST_ASSERT_EQ(exit->VpContext.ExecutionState.Cpl, 0);
    TEST_ASSERT_EQ(exit->VpContext.ExecutionState.Cr0Pe, 1);
    TEST_ASSERT_EQ(exit->VpContext.ExecutionState.EferLma, 1);
    TEST_ASSERT(exit->VpContext.Rflags & 0x2, "(rflags 0x%llx)", (unsigned long long)exit->VpContext.Rflags);
    TEST_ASSERT_EQ(guest_get_reg(vm, 0, WHvX64RegisterRip), exit->VpContext.Rip);
    guest_vm_read(vm, exit->VpContext.Rip, code, sizeof(code));
    if (io->InstructionByteCount)
        TEST_ASSERT(memcmp(io->InstructionBytes, code, io->InstructionByteCount < 16 ? io->InstructionByteCount : 16) == 0,
                    "(InstructionBytes differ from the code at rip)");
    /* in/out with the port in DX: EC-EF, after an operand-size prefix for 16 bits. */
    TEST_ASSERT_EQ(code[e->size == 2 ? 1 : 0], (e->is_write ? 0xEE : 0xEC) | (e->size > 1));
}

static void test_out_in_completed_directly(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_out_in);
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;

    for (size_t i = 0; i < sizeof(out_in_sequence) / sizeof(out_in_sequence[0]); i++) {
        const struct io_expect *e = &out_in_sequence[i];
        guest_run_once(vm, 0, &exit);
        check_io_exit(vm, &exit, e);
        if (!e->is_write) {
            /* IN writes AL, AX or EAX (EAX zero-extends into RAX). */
            uint64_t rax = exit.IoPortAccess.Rax;
            rax = e->size == 4 ? e->value : (rax & ~(uint64_t)size_mask(e->size)) | e->value;
            guest_set_reg(vm, 0, WHvX64RegisterRax, rax);
        }
        guest_skip_instruction(vm, 0, &exit);
    }
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 0xA5);
    TEST_ASSERT_EQ(uc.args[1], 0xBEEF);
    TEST_ASSERT_EQ(uc.args[2], 0xDEADBEEF);
    guest_expect_done(vm, 0);
    guest_vm_destroy(vm);
}

/* The emulator's port callback, as a device: records OUTs, answers INs from the sequence. */
struct io_device {
    const struct io_expect *seq;
    size_t next, count;
};

static HRESULT sequence_io(struct guest_emu *emu, WHV_EMULATOR_IO_ACCESS_INFO *access)
{
    struct io_device *dev = emu->opaque;
    const struct io_expect *e;

    TEST_ASSERT(dev->next < dev->count, "(unexpected port access 0x%x)", access->Port);
    e = &dev->seq[dev->next++];
    TEST_ASSERT_EQ(access->Port, e->port);
    TEST_ASSERT_EQ(access->AccessSize, e->size);
    TEST_ASSERT_EQ(access->Direction, e->is_write ? 1 : 0);
    if (e->is_write)
        TEST_ASSERT_EQ(access->Data & size_mask(e->size), e->value);
    else
        access->Data = e->value;
    return S_OK;
}

static void test_out_in_through_emulator(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_out_in);
    struct io_device dev = {out_in_sequence, 0, sizeof(out_in_sequence) / sizeof(out_in_sequence[0])};
    WHV_RUN_VP_EXIT_CONTEXT exit;
    struct guest_ucall uc;
    struct guest_emu emu;

    guest_emu_create(&emu, vm, 0);
    emu.io = sequence_io;
    emu.opaque = &dev;
    for (size_t i = 0; i < dev.count; i++) {
        guest_run_once(vm, 0, &exit);
        check_io_exit(vm, &exit, &out_in_sequence[i]);
        guest_emu_io(&emu, &exit);
        TEST_ASSERT_EQ(dev.next, i + 1);
    }
    TEST_ASSERT_EQ(guest_run(vm, 0, &uc), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 0xA5);
    TEST_ASSERT_EQ(uc.args[1], 0xBEEF);
    TEST_ASSERT_EQ(uc.args[2], 0xDEADBEEF);
    TEST_ASSERT(emu.set_calls > 0, "(the emulator never set registers)");
    guest_expect_done(vm, 0);
    guest_emu_destroy(&emu);
    guest_vm_destroy(vm);
}

/* ---- String I/O ---- */

static const char out_text[] = "hello, string I/O";
static uint8_t in_buffer[8];
static uint16_t outsw_word = 0xC0DE;
static uint32_t insd_dword;

/* Runs each string instruction and reports the registers it left behind. */
GUEST_CODE static void guest_string_io(void)
{
    uint64_t rsi = (uint64_t)(uintptr_t)out_text, rdi = (uint64_t)(uintptr_t)in_buffer;
    uint64_t rcx = sizeof(out_text) - 1;

    __asm__ volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(PORT_STR) : "memory");
    GUEST_SYNC(1, rsi, rcx);

    rcx = sizeof(in_buffer);
    __asm__ volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(PORT_STR) : "memory");
    GUEST_SYNC(2, rdi, rcx);

    rsi = (uint64_t)(uintptr_t)&outsw_word;
    __asm__ volatile("outsw" : "+S"(rsi) : "d"(PORT_STR) : "memory");
    GUEST_SYNC(3, rsi);

    rdi = (uint64_t)(uintptr_t)&insd_dword;
    __asm__ volatile("insl" : "+D"(rdi) : "d"(PORT_STR) : "memory");
    GUEST_SYNC(4, rdi, insd_dword);
    GUEST_DONE();
}

struct string_device {
    uint8_t out[64];
    size_t out_len;
    unsigned accesses;
    uint8_t next_in;
};

static HRESULT string_io(struct guest_emu *emu, WHV_EMULATOR_IO_ACCESS_INFO *access)
{
    struct string_device *dev = emu->opaque;

    TEST_ASSERT_EQ(access->Port, PORT_STR);
    dev->accesses++;
    if (access->Direction) {
        for (unsigned i = 0; i < access->AccessSize && dev->out_len < sizeof(dev->out); i++)
            dev->out[dev->out_len++] = (uint8_t)(access->Data >> (8 * i));
    } else {
        access->Data = 0;
        for (unsigned i = 0; i < access->AccessSize; i++)
            access->Data |= (uint32_t)(dev->next_in++) << (8 * i);
    }
    return S_OK;
}

/* Emulates every string I/O exit until the next ucall; checks the first exit's context. */
static uint64_t run_string_op(struct guest_vm *vm, struct guest_emu *emu, struct guest_ucall *uc, bool is_write,
                              unsigned size, bool rep, uint64_t rcx, uint64_t pointer)
{
    WHV_RUN_VP_EXIT_CONTEXT exit;
    bool first = true;

    for (;;) {
        guest_run_once(vm, 0, &exit);
        if (guest_ucall_decode(vm, 0, &exit, uc))
            return uc->type;
        TEST_ASSERT(exit.ExitReason == WHvRunVpExitReasonX64IoPortAccess, "(exit %s)",
                    guest_exit_reason_name(exit.ExitReason));
        if (first) {
            const WHV_X64_IO_PORT_ACCESS_CONTEXT *io = &exit.IoPortAccess;
            TEST_ASSERT(io->PortNumber == PORT_STR && io->AccessInfo.IsWrite == is_write &&
                            io->AccessInfo.AccessSize == size && io->AccessInfo.StringOp == 1 &&
                            io->AccessInfo.RepPrefix == rep && (!rep || io->Rcx == rcx) &&
                            (is_write ? io->Rsi : io->Rdi) == pointer &&
                            exit.VpContext.InstructionLength == (rep ? 2 : (size == 2 ? 2 : 1)),
                        "(port 0x%x IsWrite %u AccessSize %u StringOp %u RepPrefix %u Rcx 0x%llx Rsi 0x%llx "
                        "Rdi 0x%llx InstructionLength %u; expected pointer 0x%llx count 0x%llx)",
                        io->PortNumber, io->AccessInfo.IsWrite, io->AccessInfo.AccessSize, io->AccessInfo.StringOp,
                        io->AccessInfo.RepPrefix, (unsigned long long)io->Rcx, (unsigned long long)io->Rsi,
                        (unsigned long long)io->Rdi, exit.VpContext.InstructionLength,
                        (unsigned long long)pointer, (unsigned long long)rcx);
            first = false;
        }
        guest_emu_io(emu, &exit);
    }
}

static void test_string_io_through_emulator(void)
{
    struct guest_vm *vm = guest_vm_create_default(guest_string_io);
    struct string_device dev;
    struct guest_ucall uc;
    struct guest_emu emu;
    uint8_t in_copy[sizeof(in_buffer)];
    uint64_t text = (uint64_t)(uintptr_t)out_text, in = (uint64_t)(uintptr_t)in_buffer;

    memset(&dev, 0, sizeof(dev));
    dev.next_in = 0x30;
    guest_emu_create(&emu, vm, 0);
    emu.io = string_io;
    emu.opaque = &dev;

    /* rep outsb */
    TEST_ASSERT_EQ(run_string_op(vm, &emu, &uc, true, 1, true, sizeof(out_text) - 1, text), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 1);
    TEST_ASSERT_EQ(dev.out_len, sizeof(out_text) - 1);
    TEST_ASSERT(memcmp(dev.out, out_text, sizeof(out_text) - 1) == 0, "(device got \"%.*s\")", (int)dev.out_len,
                (const char *)dev.out);
    TEST_ASSERT_EQ(uc.args[1], text + sizeof(out_text) - 1); /* RSI past the string */
    TEST_ASSERT_EQ(uc.args[2], 0);                           /* RCX counted down */
    TEST_ASSERT(emu.ram_calls > 0 && emu.translate_calls > 0, "(ram %u translate %u callbacks)", emu.ram_calls,
                emu.translate_calls);

    /* rep insb */
    TEST_ASSERT_EQ(run_string_op(vm, &emu, &uc, false, 1, true, sizeof(in_buffer), in), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 2);
    TEST_ASSERT_EQ(uc.args[1], in + sizeof(in_buffer));
    TEST_ASSERT_EQ(uc.args[2], 0);
    guest_vm_read(vm, in, in_copy, sizeof(in_copy));
    for (unsigned i = 0; i < sizeof(in_copy); i++)
        TEST_ASSERT(in_copy[i] == 0x30 + i, "(in_buffer[%u] = 0x%02x)", i, in_copy[i]);

    /* outsw */
    dev.out_len = 0;
    TEST_ASSERT_EQ(run_string_op(vm, &emu, &uc, true, 2, false, 0, (uint64_t)(uintptr_t)&outsw_word), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 3);
    TEST_ASSERT_EQ(uc.args[1], (uint64_t)(uintptr_t)&outsw_word + 2);
    TEST_ASSERT_EQ(dev.out_len, 2);
    TEST_ASSERT(dev.out[0] == 0xDE && dev.out[1] == 0xC0, "(device got %02x %02x)", dev.out[0], dev.out[1]);

    /* insd */
    dev.next_in = 0x40;
    TEST_ASSERT_EQ(run_string_op(vm, &emu, &uc, false, 4, false, 0, (uint64_t)(uintptr_t)&insd_dword), UCALL_SYNC);
    TEST_ASSERT_EQ(uc.args[0], 4);
    TEST_ASSERT_EQ(uc.args[1], (uint64_t)(uintptr_t)&insd_dword + 4);
    TEST_ASSERT_EQ(uc.args[2], 0x43424140);

    guest_expect_done(vm, 0);
    guest_emu_destroy(&emu);
    guest_vm_destroy(vm);
}

int main(int argc, char **argv)
{
    static const struct guest_test tests[] = {
        GUEST_TEST(test_out_in_completed_directly),
        GUEST_TEST(test_out_in_through_emulator),
        GUEST_TEST(test_string_io_through_emulator),
    };
    return guest_test_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]));
}
