/* Port-I/O exit round trip: the same real-mode loop (out 0x80,al; jmp back) runs through
 * WHvRunVirtualProcessor (host advances RIP by InstructionLength) and on raw KVM ioctls in the
 * same process; rounds alternate between the two and the median per-exit times and ratio are printed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <WinHvPlatform.h>

#define MEM_SIZE 0x10000
#define CODE_GPA 0x1000
#define PIO_PORT 0x80
#define MAX_ROUNDS 1000
#define BENCH_NAME "bench_pio"
#include "bench_util.h"

/* out 0x80, al; jmp $-4 */
static const uint8_t guest_code[] = {0xe6, 0x80, 0xeb, 0xfc};

static void *alloc_guest_mem(void)
{
    uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        die("mmap", errno);
    memcpy(mem + CODE_GPA, guest_code, sizeof(guest_code));
    return mem;
}

/* ---- WHP side ---- */

struct whp_vm {
    WHV_PARTITION_HANDLE part;
    void *mem;
};

static void whp_setup(struct whp_vm *vm)
{
    HRESULT hr;
    WHV_PARTITION_PROPERTY prop;
    WHV_REGISTER_NAME names[3] = {WHvX64RegisterCs, WHvX64RegisterRip, WHvX64RegisterRflags};
    WHV_REGISTER_VALUE vals[3];

    vm->mem = alloc_guest_mem();
    hr = WHvCreatePartition(&vm->part);
    if (FAILED(hr))
        die("WHvCreatePartition", hr);
    memset(&prop, 0, sizeof(prop));
    prop.ProcessorCount = 1;
    hr = WHvSetPartitionProperty(vm->part, WHvPartitionPropertyCodeProcessorCount, &prop, sizeof(prop));
    if (FAILED(hr))
        die("WHvSetPartitionProperty(ProcessorCount)", hr);
    hr = WHvSetupPartition(vm->part);
    if (FAILED(hr))
        die("WHvSetupPartition", hr);
    hr = WHvMapGpaRange(vm->part, vm->mem, 0, MEM_SIZE,
                        WHvMapGpaRangeFlagRead | WHvMapGpaRangeFlagWrite | WHvMapGpaRangeFlagExecute);
    if (FAILED(hr))
        die("WHvMapGpaRange", hr);
    hr = WHvCreateVirtualProcessor(vm->part, 0, 0);
    if (FAILED(hr))
        die("WHvCreateVirtualProcessor", hr);

    /* Real mode as after reset, but with CS base 0 and RIP at the code. */
    hr = WHvGetVirtualProcessorRegisters(vm->part, 0, names, 3, vals);
    if (FAILED(hr))
        die("WHvGetVirtualProcessorRegisters", hr);
    vals[0].Segment.Base = 0;
    vals[0].Segment.Selector = 0;
    vals[1].Reg64 = CODE_GPA;
    vals[2].Reg64 = 0x2;
    hr = WHvSetVirtualProcessorRegisters(vm->part, 0, names, 3, vals);
    if (FAILED(hr))
        die("WHvSetVirtualProcessorRegisters", hr);
}

static void whp_run(struct whp_vm *vm, unsigned exits)
{
    WHV_RUN_VP_EXIT_CONTEXT ctx;
    WHV_REGISTER_NAME rip_name = WHvX64RegisterRip;
    WHV_REGISTER_VALUE rip;
    HRESULT hr;

    for (unsigned i = 0; i < exits; i++) {
        hr = WHvRunVirtualProcessor(vm->part, 0, &ctx, sizeof(ctx));
        if (FAILED(hr))
            die("WHvRunVirtualProcessor", hr);
        if (ctx.ExitReason != WHvRunVpExitReasonX64IoPortAccess || ctx.IoPortAccess.PortNumber != PIO_PORT) {
            fprintf(stderr, "bench_pio: unexpected WHP exit %d at rip 0x%llx\n", (int)ctx.ExitReason,
                    (unsigned long long)ctx.VpContext.Rip);
            exit(1);
        }
        rip.Reg64 = ctx.VpContext.Rip + ctx.VpContext.InstructionLength;
        hr = WHvSetVirtualProcessorRegisters(vm->part, 0, &rip_name, 1, &rip);
        if (FAILED(hr))
            die("WHvSetVirtualProcessorRegisters(Rip)", hr);
    }
}

static void whp_teardown(struct whp_vm *vm)
{
    WHvDeleteVirtualProcessor(vm->part, 0);
    WHvDeletePartition(vm->part);
    munmap(vm->mem, MEM_SIZE);
}

/* ---- Raw KVM side ---- */

struct kvm_vm {
    int kvm, vm, vcpu;
    struct kvm_run *run;
    size_t run_size;
    void *mem;
};

static void kvm_setup(struct kvm_vm *k, int kvm_fd)
{
    struct kvm_userspace_memory_region region;
    struct kvm_sregs sregs;
    struct kvm_regs regs;

    k->kvm = kvm_fd;
    k->mem = alloc_guest_mem();
    k->vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (k->vm < 0)
        die("KVM_CREATE_VM", errno);
    memset(&region, 0, sizeof(region));
    region.slot = 0;
    region.guest_phys_addr = 0;
    region.memory_size = MEM_SIZE;
    region.userspace_addr = (uint64_t)(uintptr_t)k->mem;
    if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        die("KVM_SET_USER_MEMORY_REGION", errno);
    k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
    if (k->vcpu < 0)
        die("KVM_CREATE_VCPU", errno);
    k->run = bench_map_run(kvm_fd, k->vcpu, &k->run_size);
    if (ioctl(k->vcpu, KVM_GET_SREGS, &sregs) < 0)
        die("KVM_GET_SREGS", errno);
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(k->vcpu, KVM_SET_SREGS, &sregs) < 0)
        die("KVM_SET_SREGS", errno);
    memset(&regs, 0, sizeof(regs));
    regs.rip = CODE_GPA;
    regs.rflags = 0x2;
    if (ioctl(k->vcpu, KVM_SET_REGS, &regs) < 0)
        die("KVM_SET_REGS", errno);
}

static void kvm_run_exits(struct kvm_vm *k, unsigned exits)
{
    for (unsigned i = 0; i < exits; i++) {
        if (ioctl(k->vcpu, KVM_RUN, 0) < 0)
            die("KVM_RUN", errno);
        if (k->run->exit_reason != KVM_EXIT_IO || k->run->io.port != PIO_PORT) {
            fprintf(stderr, "bench_pio: unexpected KVM exit %u\n", k->run->exit_reason);
            exit(1);
        }
    }
}

static void kvm_teardown(struct kvm_vm *k)
{
    munmap(k->run, k->run_size);
    close(k->vcpu);
    close(k->vm);
    munmap(k->mem, MEM_SIZE);
}

/* ---- Driver ---- */

int main(int argc, char **argv)
{
    unsigned rounds = 7, exits = 2000;
    static double whp_us[MAX_ROUNDS], kvm_us[MAX_ROUNDS], ratio[MAX_ROUNDS];
    struct whp_vm w;
    struct kvm_vm k;
    int kvm_fd;

    const struct bench_opt opts[] = {{"--rounds", "N", &rounds}, {"--exits", "N", &exits}};
    bench_parse_options(argc, argv, opts, 2);

    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        printf("SKIP: /dev/kvm not available (%s)\n", strerror(errno));
        return 0;
    }

    whp_setup(&w);
    kvm_setup(&k, kvm_fd);

    /* Warm-up. */
    whp_run(&w, exits / 4 + 1);
    kvm_run_exits(&k, exits / 4 + 1);

    for (unsigned r = 0; r < rounds; r++) {
        double t0, t1;
        /* Alternate which side goes first so drift does not favour one. */
        for (int side = 0; side < 2; side++) {
            int do_whp = (side == 0) == (r % 2 == 0);
            t0 = now_us();
            if (do_whp)
                whp_run(&w, exits);
            else
                kvm_run_exits(&k, exits);
            t1 = now_us();
            if (do_whp)
                whp_us[r] = (t1 - t0) / exits;
            else
                kvm_us[r] = (t1 - t0) / exits;
        }
        ratio[r] = whp_us[r] / kvm_us[r];
    }

    whp_teardown(&w);
    kvm_teardown(&k);
    close(kvm_fd);

    {
        double mw = median(whp_us, rounds), mk = median(kvm_us, rounds), mr = median(ratio, rounds);
        printf("pio_exit: whp %.1f us, kvm %.1f us, ratio %.2f (median of %u rounds)\n", mw, mk, mr, rounds);
    }
    return 0;
}
