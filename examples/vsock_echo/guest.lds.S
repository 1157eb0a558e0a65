/* vsock_echo's guest image, preprocessed with layout.h: linked at GUEST_LOAD_GPA with the entry
 * code first, then code, data, zeroed data (not in the flat binary: the host's RAM is zero) and
 * the stack. */
#include "layout.h"

ENTRY(guest_entry)
SECTIONS
{
    . = GUEST_LOAD_GPA;
    .text : { *(.text.entry) *(.text .text.*) }
    .rodata : { *(.rodata .rodata.*) }
    .data : { *(.data .data.*) }
    .bss : { *(.bss .bss.*) *(COMMON) }
    . = ALIGN(16) + 0x4000;
    stack_top = .;
    ASSERT(stack_top <= GUEST_RAM_SIZE, "the guest does not fit in GUEST_RAM_SIZE")
    /DISCARD/ : { *(.comment) *(.note .note.*) *(.eh_frame) }
}
