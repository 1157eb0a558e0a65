/* The only place that issues KVM ioctls: thin wrappers that return 0 (or a result >= 0) or -errno.
 * Everything above this layer speaks WHP; everything below is /dev/kvm. */
#ifndef OPENWHP_KVM_H
#define OPENWHP_KVM_H

#include <stdint.h>
#include <linux/kvm.h>

#ifndef KVM_CAP_X86_APIC_BUS_CYCLES_NS
#define KVM_CAP_X86_APIC_BUS_CYCLES_NS 232 /* Linux 6.11; older headers lack the name */
#endif
#define KVM_APIC_TIMER_HZ 1000000000ull   /* KVM's APIC timer ticks once per nanosecond */

/* The process-wide /dev/kvm descriptor, opened once; -errno when KVM is unusable. */
int kvm_system_fd(void);
/* KVM_CHECK_EXTENSION on /dev/kvm (vm_fd < 0) or on a VM; 0 when absent or on error. */
int kvm_check(int vm_fd, long cap);
int kvm_vm_create(void);
int kvm_enable_cap(int fd, uint32_t cap, uint64_t arg0, uint64_t arg1);
int kvm_set_memslot(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size,
                    void *hva);
/* A vCPU and its mapped kvm_run area. */
int kvm_vcpu_create(int vm_fd, uint32_t id, struct kvm_run **run);
/* Any other ioctl: the result, or -errno (EINTR is retried except for KVM_RUN). */
int kvm_ioctl(int fd, unsigned long request, void *arg);
int kvm_run(int vcpu_fd);

/* KVM_GET_SUPPORTED_CPUID, cached for the process; NULL when unavailable. */
const struct kvm_cpuid2 *kvm_supported_cpuid(void);
const struct kvm_cpuid_entry2 *kvm_cpuid_find(const struct kvm_cpuid2 *c, uint32_t fn,
                                              uint32_t idx);

#endif
