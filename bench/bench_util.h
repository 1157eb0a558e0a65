/* Helpers every benchmark shares: the clock, medians, option parsing, fatal errors and a
 * watchdog that names the stage a hung benchmark was in. Define BENCH_NAME and MAX_ROUNDS (and
 * WATCHDOG_S to use the watchdog) before including. */
#ifndef OPENWHP_BENCH_UTIL_H
#define OPENWHP_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

static inline double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline void die(const char *what, long code)
{
    fprintf(stderr, BENCH_NAME ": %s failed (0x%lx)\n", what, (unsigned long)code);
    exit(1);
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n (at most MAX_ROUNDS) values; the input is left as it is. */
static inline double median(const double *in, unsigned n)
{
    double v[MAX_ROUNDS];
    memcpy(v, in, n * sizeof(*v));
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline unsigned parse_uint(const char *s, const char *opt)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > 100000000ul) {
        fprintf(stderr, BENCH_NAME ": bad value for %s: %s\n", opt, s);
        exit(2);
    }
    return (unsigned)v;
}

/* A command-line option "--name N" of a benchmark; meta names N in the usage line. */
struct bench_opt {
    const char *name, *meta;
    unsigned *value;
};

/* Parses argv as "--name N" pairs of opts (each value through parse_uint). Anything else
 * prints the usage line and exits 2, as does a "--rounds" over MAX_ROUNDS. */
static inline void bench_parse_options(int argc, char **argv, const struct bench_opt *opts, unsigned n)
{
    for (int i = 1; i < argc; i++) {
        unsigned k = 0;
        while (k < n && !(strcmp(argv[i], opts[k].name) == 0 && i + 1 < argc))
            k++;
        if (k == n) {
            fprintf(stderr, "usage: %s", argv[0]);
            for (k = 0; k < n; k++)
                fprintf(stderr, " [%s %s]", opts[k].name, opts[k].meta);
            fprintf(stderr, "\n");
            exit(2);
        }
        *opts[k].value = parse_uint(argv[++i], opts[k].name);
        if (strcmp(opts[k].name, "--rounds") == 0 && *opts[k].value > MAX_ROUNDS) {
            fprintf(stderr, BENCH_NAME ": --rounds at most %d\n", MAX_ROUNDS);
            exit(2);
        }
    }
}

static inline void put16(uint8_t *mem, uint32_t gpa, uint16_t v)
{
    memcpy(mem + gpa, &v, sizeof(v));
}

/* The raw-KVM baselines: a vCPU's mapped kvm_run area, and the host's CPUID with x2APIC on. */
static inline struct kvm_run *bench_map_run(int kvm_fd, int vcpu, size_t *run_size)
{
    int size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (size <= 0)
        die("KVM_GET_VCPU_MMAP_SIZE", errno);
    *run_size = (size_t)size;
    struct kvm_run *run = mmap(NULL, *run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap(kvm_run)", errno);
    return run;
}

static inline void bench_cpuid_x2apic(int kvm_fd, int vcpu)
{
    const unsigned max_ent = 256;
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + max_ent * sizeof(cpuid->entries[0]));
    if (!cpuid)
        die("calloc", errno);
    cpuid->nent = max_ent;
    if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
        die("KVM_GET_SUPPORTED_CPUID", errno);
    for (unsigned i = 0; i < cpuid->nent; i++)
        if (cpuid->entries[i].function == 1)
            cpuid->entries[i].ecx |= 1u << 21; /* x2APIC */
    if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
        die("KVM_SET_CPUID2", errno);
    free(cpuid);
}

#ifdef WATCHDOG_S
/* A guest that never takes an interrupt would leave a run call blocked in hlt forever. */
static const char *volatile stage = "start";

static inline void on_alarm(int sig)
{
    char msg[256];
    (void)sig;
    int n = snprintf(msg, sizeof(msg), BENCH_NAME ": timed out (%d s) in: %s\n", WATCHDOG_S, stage);
    if (n > 0)
        (void)!write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
    _exit(1);
}

static inline void set_stage(const char *s)
{
    stage = s;
    alarm(WATCHDOG_S);
}
#endif

#endif
