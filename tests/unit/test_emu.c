/* Unit tests of the WinHvEmulation.h API with fake callbacks: a register file, a port space,
 * guest RAM plus an MMIO window, and a page translation that is identity or swaps pages. Covers
 * every supported instruction in 16/32/64-bit mode, REP strings, instruction fetch across pages,
 * hostile instruction bytes, each callback failure bit and bad arguments. */
#include "api.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* WHV_EMULATOR_STATUS bits */
#define ST_OK 0x001u
#define ST_INTERNAL 0x002u
#define ST_IO 0x004u
#define ST_MEM 0x008u
#define ST_XLATE 0x010u
#define ST_ALIGN 0x020u
#define ST_GET 0x040u
#define ST_SET 0x080u
#define ST_NOFAULT 0x200u

#define RFL_CF 0x001u
#define RFL_PF 0x004u
#define RFL_AF 0x010u
#define RFL_ZF 0x040u
#define RFL_SF 0x080u
#define RFL_DF 0x400u
#define RFL_OF 0x800u

#define RAM_SIZE 0x40000u   /* guest RAM at GPA 0 */
#define MMIO 0x100000u      /* two pages of device registers */
#define MMIO_SIZE 0x2000u

/* Slots of the fake register file. */
enum {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15,
    RIP, RFL, ES, CS, SS, DS, FS, GS, CR2, PEND, NREGS
};

struct access {
    uint64_t addr, data;
    unsigned size;
    bool write;
};

static struct fake {
    int mode; /* 16, 32 or 64 */
    unsigned cpl, insn_len;
    bool interruption_pending;
    WHV_REGISTER_VALUE r[NREGS];
    uint8_t ram[RAM_SIZE], mmio[MMIO_SIZE];
    struct access mem_log[64], io_log[16];
    unsigned mem_calls, io_calls, get_calls, set_calls, translate_calls, bad;
    WHV_REGISTER_NAME set_names[32];
    unsigned set_n;
    uint32_t in_value, last_translate_flags;
    uint64_t xor_pages; /* GPA = GVA ^ xor_pages */
    bool fail_io, fail_mem, fail_get, fail_set, fail_translate, misalign;
    uint64_t fault_page;
    WHV_TRANSLATE_GVA_RESULT_CODE fault_result; /* for fault_page; Success = no fault */
} F;

#define REG(n) (F.r[n].Reg64)
#define SEG(n) (F.r[n].Segment)

static int slot(WHV_REGISTER_NAME n)
{
    if (n <= WHvX64RegisterRflags)
        return (int)n;
    if (n >= WHvX64RegisterEs && n <= WHvX64RegisterGs)
        return ES + (int)(n - WHvX64RegisterEs);
    if (n == WHvX64RegisterCr2)
        return CR2;
    if (n == WHvRegisterPendingInterruption)
        return PEND;
    return -1;
}

static HRESULT CALLBACK get_regs(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                 WHV_REGISTER_VALUE *vals)
{
    struct fake *f = ctx;
    f->get_calls++;
    if (f->fail_get)
        return E_FAIL;
    for (UINT32 i = 0; i < n; i++) {
        int s = slot(names[i]);
        if (s < 0) {
            f->bad++;
            return WHV_E_INVALID_VP_REGISTER_NAME;
        }
        vals[i] = f->r[s];
    }
    return S_OK;
}

static HRESULT CALLBACK set_regs(VOID *ctx, const WHV_REGISTER_NAME *names, UINT32 n,
                                 const WHV_REGISTER_VALUE *vals)
{
    struct fake *f = ctx;
    f->set_calls++;
    if (f->fail_set)
        return E_FAIL;
    if (n > 32) {
        f->bad++;
        return E_INVALIDARG;
    }
    f->set_n = n;
    for (UINT32 i = 0; i < n; i++) {
        int s = slot(names[i]);
        if (s < 0) {
            f->bad++;
            return WHV_E_INVALID_VP_REGISTER_NAME;
        }
        f->set_names[i] = names[i];
        f->r[s] = vals[i];
    }
    return S_OK;
}

static bool was_set(WHV_REGISTER_NAME n)
{
    for (unsigned i = 0; i < F.set_n; i++)
        if (F.set_names[i] == n)
            return true;
    return false;
}

static uint8_t *backing(uint64_t gpa, unsigned size)
{
    if (gpa + size <= RAM_SIZE)
        return F.ram + gpa;
    if (gpa >= MMIO && gpa + size <= MMIO + MMIO_SIZE)
        return F.mmio + (gpa - MMIO);
    return NULL;
}

static HRESULT CALLBACK mem_cb(VOID *ctx, WHV_EMULATOR_MEMORY_ACCESS_INFO *m)
{
    struct fake *f = ctx;
    unsigned size = m->AccessSize;

    if (size == 0 || size > 8 || (m->GpaAddress & 0xFFF) + size > 0x1000 || m->Direction > 1) {
        f->bad++; /* the emulator must split accesses into pieces of one page, at most 8 bytes */
        return E_INVALIDARG;
    }
    if (f->mem_calls < 64) {
        struct access *a = &f->mem_log[f->mem_calls];
        a->addr = m->GpaAddress;
        a->size = size;
        a->write = m->Direction;
        a->data = 0;
        if (a->write)
            memcpy(&a->data, m->Data, size);
    }
    f->mem_calls++;
    uint8_t *p = backing(m->GpaAddress, size);
    if (f->fail_mem || !p)
        return E_FAIL;
    if (m->Direction)
        memcpy(p, m->Data, size);
    else
        memcpy(m->Data, p, size);
    return S_OK;
}

static HRESULT CALLBACK io_cb(VOID *ctx, WHV_EMULATOR_IO_ACCESS_INFO *io)
{
    struct fake *f = ctx;

    if ((io->AccessSize != 1 && io->AccessSize != 2 && io->AccessSize != 4) || io->Direction > 1) {
        f->bad++;
        return E_INVALIDARG;
    }
    if (f->io_calls < 16)
        f->io_log[f->io_calls] =
            (struct access){ io->Port, io->Data, io->AccessSize, io->Direction };
    f->io_calls++;
    if (f->fail_io)
        return E_FAIL;
    if (!io->Direction)
        io->Data = f->in_value++;
    return S_OK;
}

static HRESULT CALLBACK translate_cb(VOID *ctx, WHV_GUEST_VIRTUAL_ADDRESS gva,
                                     WHV_TRANSLATE_GVA_FLAGS flags,
                                     WHV_TRANSLATE_GVA_RESULT_CODE *result,
                                     WHV_GUEST_PHYSICAL_ADDRESS *gpa)
{
    struct fake *f = ctx;

    f->translate_calls++;
    f->last_translate_flags = (uint32_t)flags;
    if (gva & 0xFFF)
        f->bad++; /* the emulator asks for pages */
    if (f->fail_translate)
        return E_FAIL;
    *result = WHvTranslateGvaResultSuccess;
    *gpa = (gva ^ f->xor_pages) + (f->misalign ? 0x10 : 0);
    if (f->fault_result != WHvTranslateGvaResultSuccess && gva == f->fault_page)
        *result = f->fault_result;
    return S_OK;
}

static WHV_EMULATOR_HANDLE emu;

static void setup(int mode)
{
    memset(&F, 0, sizeof(F));
    F.mode = mode;
    REG(RIP) = 0x1000;
    REG(RFL) = 0x202;
    F.in_value = 0x12345678;
}

static WHV_VP_EXIT_CONTEXT vp_context(void)
{
    WHV_VP_EXIT_CONTEXT vp;

    memset(&vp, 0, sizeof(vp));
    vp.ExecutionState.Cpl = F.cpl & 3;
    vp.ExecutionState.Cr0Pe = F.mode != 16;
    vp.ExecutionState.EferLma = F.mode == 64;
    vp.ExecutionState.InterruptionPending = F.interruption_pending;
    vp.InstructionLength = F.insn_len & 15;
    vp.Cs = SEG(CS);
    vp.Cs.Long = F.mode == 64;
    vp.Cs.Default = F.mode == 32;
    vp.Rip = REG(RIP);
    vp.Rflags = REG(RFL);
    return vp;
}

static uint32_t run_mmio(uint64_t gpa, const uint8_t *bytes, size_t n)
{
    WHV_VP_EXIT_CONTEXT vp = vp_context();
    WHV_MEMORY_ACCESS_CONTEXT m;
    WHV_EMULATOR_STATUS st = { .AsUINT32 = 0xDEAD0000 };

    memset(&m, 0, sizeof(m));
    m.InstructionByteCount = (UINT8)n;
    if (n)
        memcpy(m.InstructionBytes, bytes, n < 16 ? n : 16);
    m.Gpa = gpa;
    CHECK_EQ(WHvEmulatorTryMmioEmulation(emu, &F, &vp, &m, &st), S_OK);
    return st.AsUINT32;
}

static uint32_t run_io(const WHV_X64_IO_PORT_ACCESS_CONTEXT *io)
{
    WHV_VP_EXIT_CONTEXT vp = vp_context();
    WHV_EMULATOR_STATUS st = { .AsUINT32 = 0xDEAD0000 };

    CHECK_EQ(WHvEmulatorTryIoEmulation(emu, &F, &vp, io, &st), S_OK);
    return st.AsUINT32;
}

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define MMIO_INSN(gpa, ...) run_mmio(gpa, BYTES(__VA_ARGS__))

/* Port I/O through the decoder: instruction bytes in the exit context, no length. */
static uint32_t io_insn(const uint8_t *bytes, size_t n)
{
    WHV_X64_IO_PORT_ACCESS_CONTEXT io;

    memset(&io, 0, sizeof(io));
    io.InstructionByteCount = (UINT8)n;
    memcpy(io.InstructionBytes, bytes, n);
    io.AccessInfo.StringOp = 1;
    return run_io(&io);
}
#define IO_INSN(...) io_insn(BYTES(__VA_ARGS__))

static uint64_t mmio_get(unsigned off, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, F.mmio + off, size);
    return v;
}

static void mmio_put(unsigned off, uint64_t v, unsigned size)
{
    memcpy(F.mmio + off, &v, size);
}

static uint64_t ram_get(uint64_t off, unsigned size)
{
    uint64_t v = 0;
    memcpy(&v, F.ram + off, size);
    return v;
}

static void test_mov(void)
{
    setup(64);
    REG(RAX) = MMIO + 0x10;
    REG(RCX) = 0x1122334455667788;
    CHECK_EQ(MMIO_INSN(MMIO + 0x10, 0x89, 0x08), ST_OK); /* mov [rax], ecx */
    CHECK_EQ(F.mem_calls, 1);
    CHECK_EQ(F.mem_log[0].addr, MMIO + 0x10);
    CHECK_EQ(F.mem_log[0].size, 4);
    CHECK(F.mem_log[0].write);
    CHECK_EQ(mmio_get(0x10, 8), 0x55667788);
    CHECK_EQ(REG(RIP), 0x1002);
    CHECK_EQ(F.translate_calls, 0); /* the exit's GPA was used */
    CHECK_EQ(F.set_n, 1);
    CHECK(was_set(WHvX64RegisterRip));
    CHECK_EQ(F.get_calls, 1);

    REG(RAX) = MMIO + 0x20;
    REG(RCX) = 0x0102030405060708;
    CHECK_EQ(MMIO_INSN(MMIO + 0x20, 0x48, 0x89, 0x08), ST_OK); /* mov [rax], rcx */
    CHECK_EQ(mmio_get(0x20, 8), 0x0102030405060708);
    CHECK_EQ(MMIO_INSN(MMIO + 0x28, 0x66, 0x89, 0x48, 0x08), ST_OK); /* mov [rax+8], cx */
    CHECK_EQ(mmio_get(0x28, 4), 0x0708);
    REG(RCX) = 0xAB00;
    CHECK_EQ(MMIO_INSN(MMIO + 0x30, 0x88, 0x68, 0x10), ST_OK); /* mov [rax+0x10], ch */
    CHECK_EQ(mmio_get(0x30, 2), 0xAB);

    /* loads: 64-bit, 32-bit zero-extends, 16- and 8-bit merge */
    mmio_put(0x40, 0x8877665544332211, 8);
    REG(RAX) = MMIO + 0x38;
    REG(RBX) = ~0ull;
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x48, 0x8B, 0x58, 0x08), ST_OK);
    CHECK_EQ(REG(RBX), 0x8877665544332211);
    CHECK_EQ(REG(RIP), 0x1000 + 2 + 3 + 4 + 3 + 4);
    REG(RAX) = MMIO + 0x40;
    REG(RBX) = ~0ull;
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x8B, 0x18), ST_OK);
    CHECK_EQ(REG(RBX), 0x44332211);
    CHECK(was_set(WHvX64RegisterRbx) && was_set(WHvX64RegisterRip) && F.set_n == 2);
    REG(RBX) = ~0ull;
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x66, 0x8B, 0x18), ST_OK);
    CHECK_EQ(REG(RBX), 0xFFFFFFFFFFFF2211);
    REG(RBX) = 0;
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x8A, 0x38), ST_OK); /* mov bh, [rax] */
    CHECK_EQ(REG(RBX), 0x1100);
    REG(R8) = 0xFFFF;
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x44, 0x8A, 0x00), ST_OK); /* mov r8b, [rax] */
    CHECK_EQ(REG(R8), 0xFF11);
    REG(RSI) = 0xFFFF;
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x40, 0x8A, 0x30), ST_OK); /* mov sil, [rax] */
    CHECK_EQ(REG(RSI), 0xFF11);

    /* immediates */
    REG(RAX) = MMIO + 0x50;
    CHECK_EQ(MMIO_INSN(MMIO + 0x54, 0xC7, 0x40, 0x04, 0xEF, 0xBE, 0xAD, 0xDE), ST_OK);
    CHECK_EQ(mmio_get(0x54, 8), 0xDEADBEEF);
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x48, 0xC7, 0x00, 0xFE, 0xFF, 0xFF, 0xFF), ST_OK);
    CHECK_EQ(mmio_get(0x50, 8), 0xFFFFFFFFFFFFFFFE);
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0xC6, 0x00, 0xAB), ST_OK);
    CHECK_EQ(mmio_get(0x50, 2), 0xFFAB);
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x66, 0xC7, 0x00, 0x34, 0x12), ST_OK);
    CHECK_EQ(mmio_get(0x50, 4), 0xFFFF1234);
    CHECK_EQ(F.mem_log[F.mem_calls - 1].size, 2);

    /* moffs */
    mmio_put(0x60, 0xCAFEF00D, 4);
    REG(RAX) = ~0ull;
    CHECK_EQ(MMIO_INSN(MMIO + 0x60, 0xA1, 0x60, 0x00, 0x10, 0x00, 0, 0, 0, 0), ST_OK);
    CHECK_EQ(REG(RAX), 0xCAFEF00D);
    REG(RAX) = 0x1122334455667788;
    CHECK_EQ(MMIO_INSN(MMIO + 0x68, 0x48, 0xA3, 0x68, 0x00, 0x10, 0x00, 0, 0, 0, 0), ST_OK);
    CHECK_EQ(mmio_get(0x68, 8), 0x1122334455667788);
    CHECK_EQ(MMIO_INSN(MMIO + 0x70, 0x67, 0xA2, 0x70, 0x00, 0x10, 0x00), ST_OK);
    CHECK_EQ(mmio_get(0x70, 2), 0x88);

    setup(32);
    SEG(DS).Base = 0xF0000;
    REG(RAX) = 0x99;
    CHECK_EQ(MMIO_INSN(MMIO + 0x30, 0xA2, 0x30, 0x00, 0x01, 0x00), ST_OK); /* DS:0x10030 */
    CHECK_EQ(mmio_get(0x30, 1), 0x99);
    CHECK_EQ(F.translate_calls, 0);
    CHECK_EQ(REG(RIP), 0x1005);
}

static void test_extend(void)
{
    setup(64);
    mmio_put(0x40, 0x80, 1);
    mmio_put(0x42, 0x8001, 2);
    mmio_put(0x44, 0x80000001, 4);
    REG(RAX) = MMIO + 0x40;
    REG(RCX) = ~0ull;
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x0F, 0xB6, 0x08), ST_OK);
    CHECK_EQ(REG(RCX), 0x80);
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x0F, 0xBE, 0x08), ST_OK);
    CHECK_EQ(REG(RCX), 0xFFFFFF80);
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x48, 0x0F, 0xBE, 0x08), ST_OK);
    CHECK_EQ(REG(RCX), 0xFFFFFFFFFFFFFF80);
    REG(RCX) = 0x1234567800000000;
    CHECK_EQ(MMIO_INSN(MMIO + 0x40, 0x66, 0x0F, 0xBE, 0x08), ST_OK);
    CHECK_EQ(REG(RCX), 0x123456780000FF80);
    CHECK_EQ(F.mem_log[F.mem_calls - 1].size, 1);
    REG(RAX) = MMIO + 0x42;
    CHECK_EQ(MMIO_INSN(MMIO + 0x42, 0x0F, 0xB7, 0x08), ST_OK);
    CHECK_EQ(REG(RCX), 0x8001);
    CHECK_EQ(MMIO_INSN(MMIO + 0x42, 0x48, 0x0F, 0xBF, 0x08), ST_OK);
    CHECK_EQ(REG(RCX), 0xFFFFFFFFFFFF8001);
    REG(RAX) = MMIO + 0x44;
    CHECK_EQ(MMIO_INSN(MMIO + 0x44, 0x48, 0x63, 0x08), ST_OK);
    CHECK_EQ(REG(RCX), 0xFFFFFFFF80000001);
    CHECK_EQ(F.mem_log[F.mem_calls - 1].size, 4);
    CHECK_EQ(MMIO_INSN(MMIO + 0x44, 0x63, 0x08), ST_OK);
    CHECK_EQ(REG(RCX), 0x80000001);
}

static void test_alu(void)
{
    setup(64);
    REG(RFL) = 0x202 | RFL_DF | RFL_OF;
    REG(RAX) = MMIO + 0x50;
    mmio_put(0x50, 0xFFFFFFFF, 4);
    REG(RCX) = 1;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x01, 0x08), ST_OK); /* add [rax], ecx */
    CHECK_EQ(mmio_get(0x50, 4), 0);
    CHECK_EQ(REG(RFL), 0x202 | RFL_DF | RFL_CF | RFL_PF | RFL_AF | RFL_ZF);
    CHECK(was_set(WHvX64RegisterRflags) && was_set(WHvX64RegisterRip) && F.set_n == 2);
    CHECK_EQ(F.mem_calls, 2);
    CHECK(!F.mem_log[0].write && F.mem_log[1].write);

    mmio_put(0x50, 5, 4);
    REG(RCX) = 0xFFFFFFFF00000003;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x2B, 0x08), ST_OK); /* sub ecx, [rax] */
    CHECK_EQ(REG(RCX), 0xFFFFFFFE);
    CHECK_EQ(REG(RFL) & (RFL_CF | RFL_SF | RFL_ZF | RFL_OF), RFL_CF | RFL_SF);
    CHECK_EQ(mmio_get(0x50, 4), 5);

    mmio_put(0x50, 7, 4);
    REG(RCX) = 7;
    F.mem_calls = 0;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x39, 0x08), ST_OK); /* cmp [rax], ecx */
    CHECK_EQ(REG(RFL) & (RFL_CF | RFL_ZF), RFL_ZF);
    CHECK_EQ(F.mem_calls, 1);
    CHECK(!was_set(WHvX64RegisterRcx));

    mmio_put(0x50, 1, 4);
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x81, 0x08, 0x00, 0x00, 0x00, 0x80), ST_OK); /* or */
    CHECK_EQ(mmio_get(0x50, 4), 0x80000001);
    CHECK_EQ(REG(RFL) & (RFL_CF | RFL_SF | RFL_ZF | RFL_OF), RFL_SF);

    mmio_put(0x50, 0xF5, 1);
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x80, 0x20, 0x0F), ST_OK); /* and byte [rax], 0xf */
    CHECK_EQ(mmio_get(0x50, 4), 0x80000005);

    REG(RFL) |= RFL_CF;
    mmio_put(0x50, 0x10, 1);
    REG(RCX) = 0x20;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x10, 0x08), ST_OK); /* adc [rax], cl */
    CHECK_EQ(mmio_get(0x50, 1), 0x31);

    REG(RFL) |= RFL_CF;
    mmio_put(0x50, 3, 8);
    REG(RCX) = 10;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x48, 0x1B, 0x08), ST_OK); /* sbb rcx, [rax] */
    CHECK_EQ(REG(RCX), 6);

    mmio_put(0x50, 0xFF00FF00, 4);
    REG(RDX) = 0x0F0F0F0F;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0xF0, 0x31, 0x10), ST_OK); /* lock xor [rax], edx */
    CHECK_EQ(mmio_get(0x50, 4), 0xF00FF00F);

    mmio_put(0x50, 5, 4);
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x83, 0x00, 0xFF), ST_OK); /* add dword [rax], -1 */
    CHECK_EQ(mmio_get(0x50, 4), 4);
    CHECK_EQ(REG(RFL) & RFL_CF, RFL_CF);

    mmio_put(0x50, 5, 4);
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x83, 0x38, 0x06), ST_OK); /* cmp dword [rax], 6 */
    CHECK_EQ(REG(RFL) & (RFL_CF | RFL_SF | RFL_ZF), RFL_CF | RFL_SF);
    CHECK_EQ(mmio_get(0x50, 4), 5);

    /* TEST never writes memory */
    mmio_put(0x50, 0xF0, 4);
    REG(RCX) = 0x0F;
    F.mem_calls = 0;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x85, 0x08), ST_OK);
    CHECK_EQ(REG(RFL) & (RFL_ZF | RFL_CF | RFL_OF), RFL_ZF);
    CHECK_EQ(F.mem_calls, 1);
    mmio_put(0x50, 0x80000000, 4);
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0xF7, 0x00, 0x00, 0x00, 0x00, 0x80), ST_OK);
    CHECK_EQ(REG(RFL) & (RFL_ZF | RFL_SF), RFL_SF);
    CHECK_EQ(MMIO_INSN(MMIO + 0x53, 0xF6, 0x40, 0x03, 0x01), ST_OK); /* test byte [rax+3], 1 */
    CHECK_EQ(REG(RFL) & RFL_ZF, RFL_ZF);
    CHECK_EQ(F.mem_calls, 3);
    CHECK_EQ(REG(RFL) & RFL_DF, RFL_DF); /* non-arithmetic flags survive */

    /* XCHG */
    mmio_put(0x50, 0x11111111, 4);
    REG(RCX) = 0x22222222;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0x87, 0x08), ST_OK);
    CHECK_EQ(mmio_get(0x50, 4), 0x22222222);
    CHECK_EQ(REG(RCX), 0x11111111);
    REG(RCX) = 0x3300;
    CHECK_EQ(MMIO_INSN(MMIO + 0x50, 0xF0, 0x86, 0x28), ST_OK); /* lock xchg [rax], ch */
    CHECK_EQ(mmio_get(0x50, 4), 0x22222233);
    CHECK_EQ(REG(RCX), 0x2200);
}

static void test_addressing(void)
{
    /* RIP-relative: the exit GPA is used when its page offset agrees, else translation */
    setup(64);
    F.xor_pages = 0x10000;
    memcpy(F.ram + 0x11106, "\x78\x56\x34\x12", 4);
    CHECK_EQ(MMIO_INSN(0x11106, 0x8B, 0x05, 0x00, 0x01, 0x00, 0x00), ST_OK);
    CHECK_EQ(REG(RAX), 0x12345678);
    CHECK_EQ(F.translate_calls, 0);
    REG(RIP) = 0x1000;
    REG(RAX) = 0;
    CHECK_EQ(MMIO_INSN(0x11100, 0x8B, 0x05, 0x00, 0x01, 0x00, 0x00), ST_OK);
    CHECK_EQ(REG(RAX), 0x12345678);
    CHECK_EQ(F.translate_calls, 1);
    CHECK_EQ(F.last_translate_flags, WHvTranslateGvaFlagValidateRead);
    CHECK_EQ(F.mem_log[0].addr, 0x11106);
    CHECK_EQ(F.mem_log[1].addr, 0x11106);

    setup(64);
    REG(RBX) = MMIO;
    REG(RCX) = 2;
    REG(RDX) = 0xA5A5A5A5;
    CHECK_EQ(MMIO_INSN(MMIO + 0x20, 0x89, 0x54, 0xCB, 0x10), ST_OK); /* mov [rbx+rcx*8+0x10], edx */
    CHECK_EQ(mmio_get(0x20, 4), 0xA5A5A5A5);
    REG(R12) = MMIO + 0x100;
    REG(R13) = 4;
    CHECK_EQ(MMIO_INSN(MMIO + 0x0FC, 0x43, 0x89, 0x54, 0xAC, 0xEC), ST_OK); /* [r12+r13*4-0x14] */
    CHECK_EQ(mmio_get(0xFC, 4), 0xA5A5A5A5);

    /* 64-bit: only FS and GS have a base */
    setup(64);
    SEG(DS).Base = 0x5000;
    SEG(GS).Base = 0x30000;
    REG(RAX) = 8;
    F.ram[0x30008] = 0x5A;
    CHECK_EQ(MMIO_INSN(0x30008, 0x65, 0x48, 0x8B, 0x00), ST_OK);
    CHECK_EQ(REG(RAX), 0x5A);
    REG(RAX) = 0x30008;
    CHECK_EQ(MMIO_INSN(0x30008, 0x48, 0x8B, 0x00), ST_OK);
    CHECK_EQ(REG(RAX), 0x5A);
    REG(RAX) = 0x100000008ull;
    F.ram[0x8] = 0x77;
    CHECK_EQ(MMIO_INSN(0x8, 0x67, 0x8B, 0x00), ST_OK); /* 32-bit address: [eax] */
    CHECK_EQ(REG(RAX), 0x77);

    /* 32-bit: SS for EBP, FS override, linear wrap at 4 GiB */
    setup(32);
    SEG(SS).Base = 0x10000;
    REG(RBP) = 0x2000;
    F.ram[0x11FFC] = 0x42;
    CHECK_EQ(MMIO_INSN(0x11FFC, 0x8B, 0x45, 0xFC), ST_OK);
    CHECK_EQ(REG(RAX), 0x42);
    SEG(FS).Base = 0x30000;
    REG(RAX) = 0x10;
    F.ram[0x30010] = 0x43;
    CHECK_EQ(MMIO_INSN(0x30010, 0x64, 0x8B, 0x00), ST_OK);
    CHECK_EQ(REG(RAX), 0x43);
    SEG(DS).Base = 0xFFFFF000;
    REG(RAX) = 0x2000;
    F.ram[0x1000] = 0x44;
    CHECK_EQ(MMIO_INSN(0x1100, 0x8B, 0x00), ST_OK); /* GPA offset differs: translated */
    CHECK_EQ(REG(RAX), 0x44);
    CHECK_EQ(F.mem_log[F.mem_calls - 1].addr, 0x1000);
    REG(RIP) = 0xFFFFFFFE;
    REG(RAX) = 0x2000;
    CHECK_EQ(MMIO_INSN(0x1000, 0x8B, 0x00), ST_OK);
    CHECK_EQ(REG(RIP), 0);

    /* 16-bit real mode: BX+SI, BP -> SS, IP wraps at 64 KiB, 66/67 prefixes */
    setup(16);
    SEG(DS).Base = 0x20000;
    SEG(SS).Base = 0x30000;
    REG(RBX) = 0x100;
    REG(RSI) = 0x20;
    REG(RAX) = 0xFFFF1234;
    REG(RIP) = 0xFFFE;
    CHECK_EQ(MMIO_INSN(0x20124, 0x89, 0x40, 0x04), ST_OK); /* mov [bx+si+4], ax */
    CHECK_EQ(ram_get(0x20124, 4), 0x1234);
    CHECK_EQ(REG(RIP), 0x0001);
    REG(RBP) = 0x10;
    memcpy(F.ram + 0x3000E, "\xCD\xAB", 2);
    CHECK_EQ(MMIO_INSN(0x3000E, 0x8B, 0x46, 0xFE), ST_OK); /* mov ax, [bp-2] */
    CHECK_EQ(REG(RAX), 0xFFFFABCD);
    REG(RBX) = 0xFFFF; /* BX+SI+4 wraps at 64 KiB */
    CHECK_EQ(MMIO_INSN(0x20023, 0x88, 0x40, 0x04), ST_OK);
    CHECK_EQ(F.ram[0x20023], 0xCD);
    REG(RAX) = 0x40;
    F.ram[0x20040] = 0x11;
    CHECK_EQ(MMIO_INSN(0x20040, 0x66, 0x67, 0x8B, 0x00), ST_OK); /* mov eax, [eax] */
    CHECK_EQ(REG(RAX), 0x11);

    /* data access across a page boundary, pages not contiguous in GPA space */
    setup(64);
    F.xor_pages = 0x10000;
    REG(RAX) = 0x2FFE;
    REG(RCX) = 0x55667788;
    CHECK_EQ(MMIO_INSN(0x13000, 0x89, 0x08), ST_OK);
    CHECK_EQ(F.mem_calls, 2);
    CHECK_EQ(F.mem_log[0].addr, 0x12FFE);
    CHECK_EQ(F.mem_log[0].size, 2);
    CHECK_EQ(F.mem_log[0].data, 0x7788);
    CHECK_EQ(F.mem_log[1].addr, 0x13000);
    CHECK_EQ(F.mem_log[1].data, 0x5566);
    CHECK_EQ(F.translate_calls, 2);
    CHECK_EQ(F.last_translate_flags, WHvTranslateGvaFlagValidateWrite);
}

static void test_strings(void)
{
    setup(64);
    memcpy(F.ram + 0x5000, "hello", 5);
    REG(RSI) = 0x5000;
    REG(RDI) = MMIO + 0x100;
    REG(RCX) = 5;
    CHECK_EQ(MMIO_INSN(MMIO + 0x100, 0xF3, 0xA4), ST_OK); /* rep movsb */
    CHECK(memcmp(F.mmio + 0x100, "hello", 5) == 0);
    CHECK_EQ(REG(RSI), 0x5005);
    CHECK_EQ(REG(RDI), MMIO + 0x105);
    CHECK_EQ(REG(RCX), 0);
    CHECK_EQ(REG(RIP), 0x1002);
    CHECK_EQ(F.mem_calls, 10);

    memcpy(F.ram + 0x5000, "AAAABBBBCCCC", 12);
    REG(RFL) |= RFL_DF;
    REG(RSI) = 0x5008;
    REG(RDI) = MMIO + 0x208;
    REG(RCX) = 3;
    CHECK_EQ(MMIO_INSN(MMIO + 0x208, 0xF3, 0xA5), ST_OK); /* std; rep movsd */
    CHECK(memcmp(F.mmio + 0x200, "AAAABBBBCCCC", 12) == 0);
    CHECK_EQ(REG(RSI), 0x4FFC);
    CHECK_EQ(REG(RDI), MMIO + 0x1FC);
    REG(RFL) &= ~(uint64_t)RFL_DF;

    REG(RAX) = 0xABCD;
    REG(RDI) = MMIO + 0x300;
    REG(RCX) = 4;
    CHECK_EQ(MMIO_INSN(MMIO + 0x300, 0xF3, 0x66, 0xAB), ST_OK); /* rep stosw */
    CHECK_EQ(mmio_get(0x300, 8), 0xABCDABCDABCDABCD);
    CHECK_EQ(REG(RDI), MMIO + 0x308);

    REG(RSI) = MMIO + 0x300;
    REG(RAX) = ~0ull;
    CHECK_EQ(MMIO_INSN(MMIO + 0x300, 0xAD), ST_OK); /* lodsd */
    CHECK_EQ(REG(RAX), 0xABCDABCD);
    CHECK_EQ(REG(RSI), MMIO + 0x304);
    CHECK(!was_set(WHvX64RegisterRdi) && !was_set(WHvX64RegisterRcx));

    REG(RAX) = 0x0123456789ABCDEF;
    REG(RDI) = MMIO + 0x400;
    REG(RCX) = 2;
    CHECK_EQ(MMIO_INSN(MMIO + 0x400, 0xF3, 0x48, 0xAB), ST_OK); /* rep stosq */
    CHECK_EQ(mmio_get(0x408, 8), 0x0123456789ABCDEF);
    CHECK_EQ(REG(RDI), MMIO + 0x410);

    /* 32-bit address size in 64-bit mode: ESI/EDI/ECX, written back zero-extended */
    memcpy(F.ram + 0x5000, "xy", 2);
    REG(RSI) = 0x100005000ull;
    REG(RDI) = 0x200006000ull;
    REG(RCX) = 0xFFFFFFFF00000002ull;
    CHECK_EQ(MMIO_INSN(0x6000, 0x67, 0xF3, 0xA4), ST_OK);
    CHECK(memcmp(F.ram + 0x6000, "xy", 2) == 0);
    CHECK_EQ(REG(RSI), 0x5002);
    CHECK_EQ(REG(RDI), 0x6002);
    CHECK_EQ(REG(RCX), 0);

    /* REPE CMPS stops at the first difference, REPNE SCAS at the first match */
    memcpy(F.ram + 0x5000, "abcXef", 6);
    memcpy(F.ram + 0x6000, "abcYef", 6);
    REG(RSI) = 0x5000;
    REG(RDI) = 0x6000;
    REG(RCX) = 10;
    REG(RIP) = 0x1000;
    CHECK_EQ(MMIO_INSN(0x5000, 0xF3, 0xA6), ST_OK);
    CHECK_EQ(REG(RCX), 6);
    CHECK_EQ(REG(RSI), 0x5004);
    CHECK_EQ(REG(RDI), 0x6004);
    CHECK_EQ(REG(RFL) & RFL_ZF, 0);
    CHECK_EQ(REG(RFL) & RFL_CF, RFL_CF); /* 'X' < 'Y' */
    CHECK_EQ(REG(RIP), 0x1002);
    REG(RSI) = 0x5000;
    REG(RDI) = 0x6000;
    REG(RCX) = 3;
    CHECK_EQ(MMIO_INSN(0x5000, 0xF3, 0xA6), ST_OK); /* all equal: runs out */
    CHECK_EQ(REG(RCX), 0);
    CHECK_EQ(REG(RFL) & RFL_ZF, RFL_ZF);
    REG(RAX) = 'c';
    REG(RDI) = 0x6000;
    REG(RCX) = 10;
    CHECK_EQ(MMIO_INSN(0x6000, 0xF2, 0xAE), ST_OK);
    CHECK_EQ(REG(RCX), 7);
    CHECK_EQ(REG(RDI), 0x6003);
    CHECK_EQ(REG(RFL) & RFL_ZF, RFL_ZF);
    REG(RAX) = 'a';
    REG(RDI) = 0x6000;
    CHECK_EQ(MMIO_INSN(0x6000, 0xAE), ST_OK); /* scasb without REP */
    CHECK_EQ(REG(RDI), 0x6001);

    /* RCX = 0: nothing happens but RIP */
    REG(RCX) = 0;
    F.mem_calls = 0;
    REG(RIP) = 0x1000;
    CHECK_EQ(MMIO_INSN(MMIO, 0xF3, 0xA4), ST_OK);
    CHECK_EQ(F.mem_calls, 0);
    CHECK_EQ(REG(RIP), 0x1002);
    CHECK_EQ(F.set_n, 1);

    /* a huge count is done in batches: RIP stays until RCX reaches 0 */
    REG(RCX) = 0x10000;
    REG(RDI) = 0x10000;
    REG(RAX) = 0xEE;
    REG(RIP) = 0x1000;
    F.mem_calls = 0;
    CHECK_EQ(MMIO_INSN(0x10000, 0xF3, 0xAA), ST_OK);
    CHECK_EQ(REG(RIP), 0x1000);
    CHECK_EQ(REG(RCX), 0x10000 - 4096);
    CHECK_EQ(REG(RDI), 0x11000);
    CHECK_EQ(F.mem_calls, 4096);
    for (int i = 0; i < 15; i++)
        MMIO_INSN(0x10000, 0xF3, 0xAA);
    CHECK_EQ(REG(RCX), 0);
    CHECK_EQ(REG(RIP), 0x1002);
    CHECK_EQ(F.ram[0x1FFFF], 0xEE);

    /* 16-bit: SI wraps at 64 KiB and keeps the upper bits of RSI */
    setup(16);
    SEG(DS).Base = 0x20000;
    SEG(ES).Base = 0x30000;
    memcpy(F.ram + 0x2FFFE, "\x34\x12", 2);
    REG(RSI) = 0xABCDFFFE;
    REG(RDI) = 0x10;
    REG(RCX) = 1;
    CHECK_EQ(MMIO_INSN(0x30010, 0xF3, 0xA5), ST_OK); /* rep movsw */
    CHECK_EQ(ram_get(0x30010, 2), 0x1234);
    CHECK_EQ(REG(RSI), 0xABCD0000);
    CHECK_EQ(REG(RDI), 0x12);

    /* source segment override */
    setup(32);
    SEG(FS).Base = 0x8000;
    F.ram[0x8010] = 0x3C;
    REG(RSI) = 0x10;
    REG(RDI) = 0x9000;
    CHECK_EQ(MMIO_INSN(0x9000, 0x64, 0xA4), ST_OK);
    CHECK_EQ(F.ram[0x9000], 0x3C);
    CHECK_EQ(REG(RSI), 0x11);
}

static void test_port_io(void)
{
    WHV_X64_IO_PORT_ACCESS_CONTEXT io;

    /* fast path: the exit describes the access, no register read */
    setup(64);
    F.insn_len = 2;
    memset(&io, 0, sizeof(io));
    io.AccessInfo.AccessSize = 1;
    io.PortNumber = 0x60;
    io.Rax = 0xFFFFFFFFFFFFFF00;
    CHECK_EQ(run_io(&io), ST_OK);
    CHECK_EQ(REG(RAX), 0xFFFFFFFFFFFFFF78);
    CHECK_EQ(REG(RIP), 0x1002);
    CHECK_EQ(F.get_calls, 0);
    CHECK(F.set_n == 2 && was_set(WHvX64RegisterRax) && was_set(WHvX64RegisterRip));
    CHECK_EQ(F.io_log[0].addr, 0x60);
    CHECK_EQ(F.io_log[0].size, 1);
    CHECK(!F.io_log[0].write);

    io.AccessInfo.AccessSize = 4;
    io.Rax = ~0ull;
    CHECK_EQ(run_io(&io), ST_OK);
    CHECK_EQ(REG(RAX), 0x12345679); /* 32-bit IN zero-extends */
    io.AccessInfo.AccessSize = 2;
    CHECK_EQ(run_io(&io), ST_OK);
    CHECK_EQ(REG(RAX), 0xFFFFFFFFFFFF567A);

    F.insn_len = 1;
    io.AccessInfo.IsWrite = 1;
    io.PortNumber = 0x3F8;
    io.Rax = 0xAAAABBBB;
    REG(RAX) = 0x55;
    CHECK_EQ(run_io(&io), ST_OK);
    CHECK_EQ(F.io_log[3].data, 0xBBBB);
    CHECK_EQ(F.io_log[3].addr, 0x3F8);
    CHECK_EQ(F.io_log[3].size, 2);
    CHECK(F.io_log[3].write);
    CHECK(F.set_n == 1 && was_set(WHvX64RegisterRip));
    CHECK_EQ(REG(RAX), 0x55);
    CHECK_EQ(REG(RIP), 0x1000 + 2 + 2 + 2 + 1);

    io.AccessInfo.AccessSize = 3;
    CHECK_EQ(run_io(&io), ST_INTERNAL);

    /* decoded path: no instruction length in the exit */
    setup(64);
    REG(RAX) = ~0ull;
    CHECK_EQ(IO_INSN(0xE5, 0x71), ST_OK); /* in eax, 0x71 */
    CHECK_EQ(REG(RAX), 0x12345678);
    CHECK_EQ(F.io_log[0].addr, 0x71);
    CHECK_EQ(REG(RIP), 0x1002);
    REG(RDX) = 0x3F8;
    REG(RAX) = 0x141;
    CHECK_EQ(IO_INSN(0xEE), ST_OK); /* out dx, al */
    CHECK_EQ(F.io_log[1].addr, 0x3F8);
    CHECK_EQ(F.io_log[1].data, 0x41);
    CHECK(F.io_log[1].write);
    CHECK_EQ(IO_INSN(0xE6, 0x80), ST_OK); /* out 0x80, al: port is not sign-extended */
    CHECK_EQ(F.io_log[2].addr, 0x80);

    setup(16);
    REG(RDX) = 0xCFC;
    REG(RAX) = 0xFFFFFFFF00000000ull;
    CHECK_EQ(IO_INSN(0x66, 0xED), ST_OK); /* in eax, dx */
    CHECK_EQ(REG(RAX), 0x12345678);
    CHECK_EQ(F.io_log[0].size, 4);
    CHECK_EQ(REG(RIP), 0x1002);

    /* INS / OUTS */
    setup(64);
    REG(RDX) = 0x1F0;
    REG(RDI) = 0x7000;
    REG(RCX) = 3;
    CHECK_EQ(IO_INSN(0xF3, 0x66, 0x6D), ST_OK); /* rep insw */
    CHECK_EQ(ram_get(0x7000, 6), 0x567A56795678);
    CHECK_EQ(REG(RDI), 0x7006);
    CHECK_EQ(REG(RCX), 0);
    CHECK_EQ(F.io_calls, 3);
    CHECK_EQ(REG(RIP), 0x1003);

    setup(32);
    SEG(FS).Base = 0x8000;
    memcpy(F.ram + 0x8020, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    REG(RSI) = 0x20;
    REG(RDX) = 0x80;
    REG(RCX) = 2;
    CHECK_EQ(IO_INSN(0xF3, 0x64, 0x6E), ST_OK); /* rep outsb fs: */
    CHECK_EQ(F.io_log[0].data, 0x11);
    CHECK_EQ(F.io_log[1].data, 0x22);
    CHECK_EQ(REG(RSI), 0x22);
    REG(RFL) |= RFL_DF;
    SEG(DS).Base = 0x8000;
    REG(RSI) = 0x24;
    CHECK_EQ(IO_INSN(0x6F), ST_OK); /* outsd, DF=1 */
    CHECK_EQ(F.io_log[2].data, 0x88776655);
    CHECK_EQ(F.io_log[2].size, 4);
    CHECK_EQ(REG(RSI), 0x20);
    CHECK_EQ(REG(RCX), 0);

    /* the instruction must match the exit kind */
    setup(64);
    REG(RAX) = MMIO;
    CHECK_EQ(IO_INSN(0x89, 0x08), ST_INTERNAL);
    CHECK_EQ(MMIO_INSN(MMIO, 0xE4, 0x60), ST_INTERNAL);
    CHECK_EQ(F.io_calls + F.mem_calls + F.set_calls, 0);
}

static void test_fetch(void)
{
    /* no bytes in the exit: fetch from CS.base + EIP */
    setup(32);
    SEG(CS).Base = 0x10000;
    REG(RIP) = 0x234;
    memcpy(F.ram + 0x10234, "\x89\x08", 2);
    REG(RAX) = MMIO;
    REG(RCX) = 0x77;
    CHECK_EQ(run_mmio(MMIO, NULL, 0), ST_OK);
    CHECK_EQ(mmio_get(0, 4), 0x77);
    CHECK_EQ(REG(RIP), 0x236);
    CHECK_EQ(F.translate_calls, 1);
    CHECK_EQ(F.last_translate_flags, WHvTranslateGvaFlagValidateExecute);

    /* too few bytes in the exit: the rest comes from memory */
    REG(RIP) = 0x234;
    REG(RCX) = 0x78;
    CHECK_EQ(MMIO_INSN(MMIO, 0x89), ST_OK);
    CHECK_EQ(mmio_get(0, 4), 0x78);

    /* an instruction across a page boundary, pages not contiguous in GPA space */
    setup(64);
    F.xor_pages = 0x10000;
    REG(RIP) = 0x2FFD;
    memcpy(F.ram + 0x12FFD, "\x48\xC7\x00", 3);
    memcpy(F.ram + 0x13000, "\x78\x56\x34\x12", 4);
    REG(RAX) = MMIO + 8;
    CHECK_EQ(run_mmio(MMIO + 8, NULL, 0), ST_OK);
    CHECK_EQ(mmio_get(8, 8), 0x12345678);
    CHECK_EQ(REG(RIP), 0x3004);
    CHECK_EQ(F.translate_calls, 2);
    for (unsigned i = 0; i < F.mem_calls && i < 64; i++)
        CHECK(F.mem_log[i].size <= 8);

    /* an instruction that ends at the page end never touches the next page */
    setup(64);
    REG(RIP) = 0x2FFE;
    memcpy(F.ram + 0x2FFE, "\x89\x08", 2);
    F.fault_page = 0x3000;
    F.fault_result = WHvTranslateGvaResultPageNotPresent;
    REG(RAX) = MMIO;
    CHECK_EQ(run_mmio(MMIO, NULL, 0), ST_OK);
    CHECK_EQ(REG(RIP), 0x3000);
    CHECK_EQ(F.translate_calls, 1);

    /* fetch fault: #PF with the I/D bit, RIP unchanged */
    setup(64);
    REG(RIP) = 0x2FFE;
    memcpy(F.ram + 0x2FFE, "\x48\x89", 2);
    F.fault_page = 0x3000;
    F.fault_result = WHvTranslateGvaResultPageNotPresent;
    F.cpl = 3;
    CHECK_EQ(run_mmio(MMIO, NULL, 0), ST_OK);
    CHECK_EQ(REG(RIP), 0x2FFE);
    CHECK_EQ(REG(CR2), 0x3000);
    CHECK_EQ(F.r[PEND].PendingInterruption.InterruptionPending, 1);
    CHECK_EQ(F.r[PEND].PendingInterruption.InterruptionVector, 14);
    CHECK_EQ(F.r[PEND].PendingInterruption.ErrorCode, 0x14); /* user, fetch, not present */
    CHECK_EQ(F.get_calls, 0);
}

static void test_hostile_bytes(void)
{
    setup(64);
    REG(RAX) = MMIO;
    CHECK_EQ(MMIO_INSN(MMIO, 0x0F, 0x0B), ST_INTERNAL); /* ud2 */
    CHECK_EQ(MMIO_INSN(MMIO, 0x8B, 0xC0), ST_INTERNAL); /* register operand */
    CHECK_EQ(MMIO_INSN(MMIO, 0xF0, 0x89, 0x08), ST_INTERNAL); /* lock mov */
    CHECK_EQ(MMIO_INSN(MMIO, 0xF7, 0x30), ST_INTERNAL);       /* div */
    CHECK_EQ(MMIO_INSN(MMIO, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                       0x66, 0x66, 0x66, 0x66, 0x89),
             ST_INTERNAL); /* 16 bytes */
    CHECK_EQ(F.mem_calls + F.set_calls + F.get_calls + F.translate_calls, 0);
    CHECK_EQ(REG(RIP), 0x1000);

    /* a bogus byte count is clamped to the 16 bytes the context holds */
    WHV_VP_EXIT_CONTEXT vp = vp_context();
    WHV_MEMORY_ACCESS_CONTEXT m;
    WHV_EMULATOR_STATUS st;
    memset(&m, 0, sizeof(m));
    m.InstructionByteCount = 200;
    m.InstructionBytes[0] = 0x89;
    m.InstructionBytes[1] = 0x08;
    m.Gpa = MMIO;
    CHECK_EQ(WHvEmulatorTryMmioEmulation(emu, &F, &vp, &m, &st), S_OK);
    CHECK_EQ(st.AsUINT32, ST_OK);

    /* truncated bytes and prefix garbage in memory: fetch stops at 15 bytes */
    setup(64);
    memset(F.ram, 0x66, 0x3000);
    REG(RIP) = 0x1FF8;
    CHECK_EQ(MMIO_INSN(MMIO, 0x66), ST_INTERNAL);
    CHECK_EQ(F.translate_calls, 2);
    CHECK_EQ(F.set_calls, 0);
    unsigned fetched = 0;
    for (unsigned i = 0; i < F.mem_calls; i++)
        fetched += F.mem_log[i].size;
    CHECK_EQ(fetched, 15);

    /* random instruction bytes and registers: never a malformed callback, never a crash */
    static const uint8_t favourites[] = { 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x26, 0x64, 0x65, 0x48,
                                          0x41, 0x0F, 0x89, 0x8B, 0xC7, 0x81, 0x83, 0xF7, 0xA5,
                                          0xA1, 0xAB, 0x6D, 0x6F, 0xEC, 0xE7, 0x87, 0x63, 0xB6 };
    uint64_t x = 0x2545F4914F6CDD1Dull;
    unsigned zero_status = 0, bad = 0, ok = 0;
    for (unsigned iter = 0; iter < 20000; iter++) {
        uint8_t b[16];
        setup(16 << (iter % 3)); /* 16, 32, 64 */
        for (unsigned i = 0; i < 16; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b[i] = (x & 3) ? (uint8_t)(x >> 8) : favourites[(x >> 8) % sizeof(favourites)];
        }
        for (unsigned r = 0; r < 16; r++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            REG(r) = (x & 1) ? (x >> 20) % RAM_SIZE : MMIO + (x >> 20) % MMIO_SIZE;
        }
        REG(RCX) &= 0xFF;
        REG(RFL) = 0x202 | (x & RFL_DF);
        F.xor_pages = (iter & 4) ? 0x10000 : 0;
        WHV_X64_IO_PORT_ACCESS_CONTEXT io;
        memset(&io, 0, sizeof(io));
        uint32_t status;
        if (iter & 8) {
            status = run_mmio((x >> 24) % (MMIO + MMIO_SIZE), b, (x >> 40) % 17);
        } else {
            io.InstructionByteCount = (UINT8)((x >> 40) % 17);
            memcpy(io.InstructionBytes, b, 16);
            io.AccessInfo.AsUINT32 = (uint32_t)(x >> 48);
            F.insn_len = (x >> 52) & 15;
            status = run_io(&io);
        }
        zero_status += status == 0;
        ok += status == ST_OK;
        bad += F.bad;
    }
    CHECK_EQ(zero_status, 0);
    CHECK_EQ(bad, 0);
    CHECK(ok > 0);
}

static void test_callback_failures(void)
{
    setup(64);
    REG(RAX) = MMIO;
    F.fail_mem = true;
    CHECK_EQ(MMIO_INSN(MMIO, 0x89, 0x08), ST_MEM);
    CHECK_EQ(F.set_calls, 0);

    setup(64);
    F.fail_io = true;
    F.insn_len = 2;
    WHV_X64_IO_PORT_ACCESS_CONTEXT io;
    memset(&io, 0, sizeof(io));
    io.AccessInfo.AccessSize = 1;
    CHECK_EQ(run_io(&io), ST_IO);
    CHECK_EQ(IO_INSN(0xEC), ST_IO);
    CHECK_EQ(F.set_calls, 0);

    setup(64);
    F.fail_translate = true;
    CHECK_EQ(run_mmio(MMIO, NULL, 0), ST_XLATE);
    setup(64);
    F.misalign = true;
    CHECK_EQ(run_mmio(MMIO, NULL, 0), ST_ALIGN);
    setup(64);
    F.fault_page = 0x1000;
    F.fault_result = WHvTranslateGvaResultGpaUnmapped;
    CHECK_EQ(run_mmio(MMIO, NULL, 0), ST_XLATE);
    CHECK_EQ(F.set_calls, 0);

    setup(64);
    F.fail_get = true;
    CHECK_EQ(MMIO_INSN(MMIO, 0x89, 0x08), ST_GET);
    CHECK_EQ(F.mem_calls, 0);
    setup(64);
    REG(RAX) = MMIO;
    F.fail_set = true;
    CHECK_EQ(MMIO_INSN(MMIO, 0x89, 0x08), ST_SET);
    CHECK_EQ(REG(RIP), 0x1000);

    /* a guest page fault on a data operand: #PF injected, nothing accessed, RIP unchanged */
    setup(64);
    REG(RAX) = 0x4000;
    F.fault_page = 0x4000;
    F.fault_result = WHvTranslateGvaResultPageNotPresent;
    CHECK_EQ(MMIO_INSN(0x4100, 0x89, 0x08), ST_OK);
    CHECK_EQ(F.mem_calls, 0);
    CHECK_EQ(REG(RIP), 0x1000);
    CHECK_EQ(REG(CR2), 0x4000);
    CHECK(was_set(WHvX64RegisterCr2) && was_set(WHvRegisterPendingInterruption));
    CHECK(!was_set(WHvX64RegisterRip));
    WHV_X64_PENDING_INTERRUPTION_REGISTER pi = F.r[PEND].PendingInterruption;
    CHECK_EQ(pi.InterruptionPending, 1);
    CHECK_EQ(pi.InterruptionType, WHvX64PendingException);
    CHECK_EQ(pi.DeliverErrorCode, 1);
    CHECK_EQ(pi.InterruptionVector, 14);
    CHECK_EQ(pi.ErrorCode, 0x2); /* write, supervisor, not present */
    F.cpl = 3;
    F.fault_result = WHvTranslateGvaResultPrivilegeViolation;
    CHECK_EQ(MMIO_INSN(0x4100, 0x8B, 0x08), ST_OK);
    CHECK_EQ(F.r[PEND].PendingInterruption.ErrorCode, 0x5); /* read, user, protection */

    /* an event already in delivery cannot take a #PF */
    F.interruption_pending = true;
    F.set_calls = 0;
    CHECK_EQ(MMIO_INSN(0x4100, 0x8B, 0x08), ST_NOFAULT);
    CHECK_EQ(F.set_calls, 0);

    /* REP: iterations before the fault retire, the fault is at the page start */
    setup(64);
    REG(RDI) = 0x2FFD;
    REG(RCX) = 10;
    REG(RAX) = 0x99;
    F.fault_page = 0x3000;
    F.fault_result = WHvTranslateGvaResultPageNotPresent;
    CHECK_EQ(MMIO_INSN(0x2FFD, 0xF3, 0xAA), ST_OK);
    CHECK_EQ(REG(RCX), 7);
    CHECK_EQ(REG(RDI), 0x3000);
    CHECK_EQ(REG(CR2), 0x3000);
    CHECK_EQ(REG(RIP), 0x1000);
    CHECK_EQ(ram_get(0x2FFD, 3), 0x999999);
}

static void test_bad_arguments(void)
{
    static const WHV_EMULATOR_CALLBACKS good = {
        .Size = sizeof(WHV_EMULATOR_CALLBACKS),
        .WHvEmulatorIoPortCallback = io_cb,
        .WHvEmulatorMemoryCallback = mem_cb,
        .WHvEmulatorGetVirtualProcessorRegisters = get_regs,
        .WHvEmulatorSetVirtualProcessorRegisters = set_regs,
        .WHvEmulatorTranslateGvaPage = translate_cb,
    };
    WHV_EMULATOR_CALLBACKS cb;
    WHV_EMULATOR_HANDLE h = (WHV_EMULATOR_HANDLE)&cb;

    CHECK_EQ(WHvEmulatorCreateEmulator(NULL, &h), E_INVALIDARG);
    CHECK(h == NULL);
    CHECK_EQ(WHvEmulatorCreateEmulator(&good, NULL), E_INVALIDARG);
    cb = good;
    cb.Size = 0;
    CHECK_EQ(WHvEmulatorCreateEmulator(&cb, &h), E_INVALIDARG);
    cb.Size = sizeof(cb) + 8;
    CHECK_EQ(WHvEmulatorCreateEmulator(&cb, &h), E_INVALIDARG);
    for (int i = 0; i < 5; i++) {
        cb = good;
        switch (i) {
        case 0: cb.WHvEmulatorIoPortCallback = NULL; break;
        case 1: cb.WHvEmulatorMemoryCallback = NULL; break;
        case 2: cb.WHvEmulatorGetVirtualProcessorRegisters = NULL; break;
        case 3: cb.WHvEmulatorSetVirtualProcessorRegisters = NULL; break;
        default: cb.WHvEmulatorTranslateGvaPage = NULL; break;
        }
        CHECK_EQ(WHvEmulatorCreateEmulator(&cb, &h), E_INVALIDARG);
    }
    CHECK_EQ(WHvEmulatorDestroyEmulator(NULL), E_INVALIDARG);

    setup(64);
    WHV_VP_EXIT_CONTEXT vp = vp_context();
    WHV_MEMORY_ACCESS_CONTEXT m;
    WHV_X64_IO_PORT_ACCESS_CONTEXT io;
    WHV_EMULATOR_STATUS st;
    memset(&m, 0, sizeof(m));
    memset(&io, 0, sizeof(io));
    CHECK_EQ(WHvEmulatorTryMmioEmulation(NULL, &F, &vp, &m, &st), E_INVALIDARG);
    CHECK_EQ(WHvEmulatorTryMmioEmulation(emu, &F, NULL, &m, &st), E_INVALIDARG);
    CHECK_EQ(WHvEmulatorTryMmioEmulation(emu, &F, &vp, NULL, &st), E_INVALIDARG);
    CHECK_EQ(WHvEmulatorTryMmioEmulation(emu, &F, &vp, &m, NULL), E_INVALIDARG);
    CHECK_EQ(WHvEmulatorTryIoEmulation(NULL, &F, &vp, &io, &st), E_INVALIDARG);
    CHECK_EQ(WHvEmulatorTryIoEmulation(emu, &F, NULL, &io, &st), E_INVALIDARG);
    CHECK_EQ(WHvEmulatorTryIoEmulation(emu, &F, &vp, NULL, &st), E_INVALIDARG);
    CHECK_EQ(WHvEmulatorTryIoEmulation(emu, &F, &vp, &io, NULL), E_INVALIDARG);
    CHECK_EQ(F.get_calls + F.set_calls + F.mem_calls + F.io_calls + F.translate_calls, 0);

    WHV_EMULATOR_HANDLE second = NULL;
    CHECK_EQ(WHvEmulatorCreateEmulator(&good, &second), S_OK);
    CHECK(second != NULL && second != emu);
    CHECK_EQ(WHvEmulatorDestroyEmulator(second), S_OK);
}

int main(void)
{
    static const WHV_EMULATOR_CALLBACKS callbacks = {
        .Size = sizeof(WHV_EMULATOR_CALLBACKS),
        .WHvEmulatorIoPortCallback = io_cb,
        .WHvEmulatorMemoryCallback = mem_cb,
        .WHvEmulatorGetVirtualProcessorRegisters = get_regs,
        .WHvEmulatorSetVirtualProcessorRegisters = set_regs,
        .WHvEmulatorTranslateGvaPage = translate_cb,
    };

    if (WHvEmulatorCreateEmulator(&callbacks, &emu) != S_OK) {
        printf("%s:%d: WHvEmulatorCreateEmulator failed\n0 passed, 1 failed\n", __FILE__, __LINE__);
        return 1;
    }
    test_mov();
    test_extend();
    test_alu();
    test_addressing();
    test_strings();
    test_port_io();
    test_fetch();
    test_hostile_bytes();
    test_callback_failures();
    test_bad_arguments();
    CHECK_EQ(WHvEmulatorDestroyEmulator(emu), S_OK);
    return check_report();
}
