/* The whpvm board: a PC-like machine built only on the public WHP API and the device models:
 * RAM with the usual holes, an IOAPIC, a pair of PICs, COM1, the isa-debug-exit port, fw_cfg,
 * PCI mechanism 1 with no devices, the ACPI PM timer and PIT channel 0; one thread per VP. */
#ifndef WHPVM_BOARD_H
#define WHPVM_BOARD_H

#include <WinHvEmulation.h>
#include <WinHvPlatform.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "exitdev.h"
#include "fwcfg.h"
#include "iomap.h"
#include "ioapic.h"
#include "pci.h"
#include "pic.h"
#include "pit.h"
#include "pmtimer.h"
#include "uart.h"

#define BOARD_PM_TIMER_PORT 0x608
#define BOARD_LOW_RAM_LIMIT 0xC0000000ull /* RAM above this goes above 4 GiB */
#define BOARD_MAX_VPS 64 /* at least the CLI's -smp limit */

struct board {
    WHV_PARTITION_HANDLE partition;
    WHV_EMULATOR_HANDLE emulator;
    unsigned nvp;
    uint8_t *ram;
    uint64_t ram_size;

    struct ioapic ioapic;
    struct pic pic;
    struct uart uart;
    struct exitdev exitdev;
    struct fwcfg fwcfg;
    struct pci pci;
    struct pmtimer pmtimer;
    struct pit pit;
    struct iomap pio, mmio; /* the devices' port and MMIO ranges */

    bool devices_ready;
    atomic_bool intr; /* the PIC's INTR output, waiting for VP 0 to take it (pic_intr) */
    atomic_bool stop;
    atomic_int status; /* the process exit status once stopped */
    bool serial_stdio;
};

/* Creates the partition (XApic mode, nvp VPs, APs waiting for INIT/SIPI) and the devices. */
int board_create(struct board *b, unsigned nvp, uint64_t ram_size, bool serial_stdio, char *err,
                 size_t errlen);
/* Starts the BSP at entry in 32-bit protected mode, flat segments, paging off, EAX/EBX given
 * (the multiboot contract); runs every VP on its own thread until the guest exits through the
 * exit device, all VPs stop, or an error. Returns the process exit status. */
int board_run(struct board *b, uint32_t entry, uint32_t eax, uint32_t ebx);
void board_destroy(struct board *b);

#endif
