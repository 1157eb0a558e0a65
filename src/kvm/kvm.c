/* Thin, typed wrappers around the KVM ioctls, plus the process-wide facts about /dev/kvm
 * (the supported CPUID) that every partition shares. */
#include "kvm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_once_t kvm_once = PTHREAD_ONCE_INIT;
static int kvm_fd = -ENODEV;
static struct kvm_cpuid2 *kvm_cpuid;
static int kvm_run_size;

static void kvm_init(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        kvm_fd = -errno;
        return;
    }
    if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
        close(fd);
        kvm_fd = -ENOSYS;
        return;
    }
    kvm_run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    for (int n = 128; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
        if (!c)
            break;
        c->nent = n;
        if (ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            kvm_cpuid = c;
            break;
        }
        free(c);
        if (errno != E2BIG)
            break;
    }
    kvm_fd = fd;
}

int kvm_system_fd(void)
{
    pthread_once(&kvm_once, kvm_init);
    return kvm_fd;
}

int kvm_ioctl(int fd, unsigned long request, void *arg)
{
    int r;
    do
        r = ioctl(fd, request, arg);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

int kvm_run(int vcpu_fd)
{
    return ioctl(vcpu_fd, KVM_RUN, 0) < 0 ? -errno : 0;
}

int kvm_check(int vm_fd, long cap)
{
    int fd = vm_fd >= 0 ? vm_fd : kvm_system_fd();
    if (fd < 0)
        return 0;
    int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
}

int kvm_vm_create(void)
{
    int fd = kvm_system_fd();
    if (fd < 0)
        return fd;
    return kvm_ioctl(fd, KVM_CREATE_VM, 0);
}

int kvm_enable_cap(int fd, uint32_t cap, uint64_t arg0, uint64_t arg1)
{
    struct kvm_enable_cap c = { .cap = cap, .args = { arg0, arg1 } };
    return kvm_ioctl(fd, KVM_ENABLE_CAP, &c);
}

int kvm_set_memslot(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size,
                    void *hva)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot, .flags = flags, .guest_phys_addr = gpa, .memory_size = size,
        .userspace_addr = (uintptr_t)hva,
    };
    return kvm_ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

int kvm_vcpu_create(int vm_fd, uint32_t id, struct kvm_run **run)
{
    if (kvm_system_fd() < 0 || kvm_run_size <= 0)
        return -ENODEV;
    int fd = kvm_ioctl(vm_fd, KVM_CREATE_VCPU, (void *)(uintptr_t)id);
    if (fd < 0)
        return fd;
    void *p = mmap(NULL, kvm_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        int e = -errno;
        close(fd);
        return e;
    }
    *run = p;
    return fd;
}

const struct kvm_cpuid2 *kvm_supported_cpuid(void)
{
    kvm_system_fd();
    return kvm_cpuid;
}

const struct kvm_cpuid_entry2 *kvm_cpuid_find(const struct kvm_cpuid2 *c, uint32_t fn,
                                              uint32_t idx)
{
    if (!c)
        return NULL;
    for (uint32_t i = 0; i < c->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function == fn &&
            (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == idx))
            return e;
    }
    return NULL;
}
