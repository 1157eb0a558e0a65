/* The guest page walk (obj/gva.c) over a fake physical memory: a translation, and a walk that
 * reads a table from unmapped memory, which names the entry it could not read. */
#include "obj/gva.h"

#include <string.h>

#include "check.h"

/* Fake RAM: four pages at GPA 0; everything above is unmapped. */
#define RAM_PAGES 4
#define PML4_GPA (0 * X86_PAGE_SIZE)
#define PDPT_GPA (1 * X86_PAGE_SIZE)
#define PD_GPA (2 * X86_PAGE_SIZE)
#define PT_GPA (3 * X86_PAGE_SIZE)
#define UNMAPPED_TABLE_GPA 0x50000000ull
#define DATA_GPA 0x12345000ull
#define ENTRY_SIZE 8
#define PML4_SHIFT 39
#define PDPT_SHIFT 30
#define PD_SHIFT 21
#define PT_SHIFT 12
#define CANONICAL_HIGH 0xFFFF000000000000ull

static uint8_t ram[RAM_PAGES * X86_PAGE_SIZE];

static int read_ram(void *ctx, uint64_t gpa, uint64_t *val, unsigned size)
{
    (void)ctx;
    if (gpa + size > sizeof(ram))
        return -1;
    memcpy(val, ram + gpa, size);
    return 0;
}

static void set_entry(uint64_t table, unsigned index, uint64_t value)
{
    memcpy(ram + table + index * ENTRY_SIZE, &value, sizeof(value));
}

int main(void)
{
    const struct gva_cpu cpu = {.cr0 = CR0_PG, .cr3 = PML4_GPA, .cr4 = CR4_PAE, .efer = EFER_LMA};
    const uint64_t present = PTE_P | PTE_RW;
    uint64_t gpa = 0;

    /* GVA (1, 2, 3, 4, 0x567): mapped to DATA_GPA + 0x567 through RAM tables. */
    set_entry(PML4_GPA, 1, PDPT_GPA | present);
    set_entry(PDPT_GPA, 2, PD_GPA | present);
    set_entry(PD_GPA, 3, PT_GPA | present);
    set_entry(PT_GPA, 4, DATA_GPA | present);
    uint64_t gva = 1ull << PML4_SHIFT | 2ull << PDPT_SHIFT | 3ull << PD_SHIFT | 4ull << PT_SHIFT | 0x567;
    CHECK_EQ(gva_translate(&cpu, gva, 0, read_ram, NULL, &gpa), WHvTranslateGvaResultSuccess);
    CHECK_EQ(gpa, DATA_GPA + 0x567);

    /* PML4 entry 300 points at a PDPT in unmapped memory: the walk names PDPT entry 5. */
    set_entry(PML4_GPA, 300, UNMAPPED_TABLE_GPA | present);
    gva = CANONICAL_HIGH | 300ull << PML4_SHIFT | 5ull << PDPT_SHIFT;
    gpa = 0;
    CHECK_EQ(gva_translate(&cpu, gva, 0, read_ram, NULL, &gpa), WHvTranslateGvaResultGpaUnmapped);
    CHECK_EQ(gpa, UNMAPPED_TABLE_GPA + 5 * ENTRY_SIZE);

    /* A missing entry is PageNotPresent and leaves *gpa alone. */
    gva = 7ull << PML4_SHIFT;
    gpa = 0;
    CHECK_EQ(gva_translate(&cpu, gva, 0, read_ram, NULL, &gpa), WHvTranslateGvaResultPageNotPresent);
    CHECK_EQ(gpa, 0);
    return check_report();
}
