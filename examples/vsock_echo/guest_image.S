/* vsock_echo's guest (guest.bin, built from guest.c) inside the host program. */
    .section .rodata
    .balign 16
    .globl guest_image, guest_image_end
guest_image:
    .incbin "guest.bin"
guest_image_end:
    .section .note.GNU-stack, "", @progbits
