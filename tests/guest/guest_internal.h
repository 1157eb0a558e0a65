/* Private to the guest runtime: symbols shared between its host and guest halves. */
#ifndef OPENWHP_TESTS_GUEST_INTERNAL_H
#define OPENWHP_TESTS_GUEST_INTERNAL_H

#include "guest.h"

#define GUEST_IDT_STUB_SIZE 16

extern guest_handler_fn guest_handlers[256] __attribute__((visibility("hidden")));
extern const char guest_idt_stubs[] __attribute__((visibility("hidden")));
extern const char guest_return_trap[] __attribute__((visibility("hidden")));

/* Destroys every VM still alive (after a failed test). */
void guest_vm_destroy_all(void);

#endif /* OPENWHP_TESTS_GUEST_INTERNAL_H */
