/* Host quirks (quirk/): what this kind of host needs the library to do for the guest. On nested
 * KVM whose instruction emulator runs guest code after some exits (kvm_pvm), the emulator
 * cannot execute INT n, INT3, INTO or a protected-mode IRET; KVM reports that as an emulation failure
 * (KVM_EXIT_INTERNAL_ERROR, suberror KVM_INTERNAL_ERROR_EMULATION), and only then does this
 * module step in. OPENWHP_HOST_QUIRKS=0 in the environment turns it off (the failure then
 * reaches the VMM as an UnsupportedFeature exit, as it would without the module). */
#ifndef OPENWHP_QUIRK_H
#define OPENWHP_QUIRK_H

#include "obj/obj.h"

enum quirk_result {
    QUIRK_NOT_HANDLED, /* not an instruction this module performs, or the module is off */
    QUIRK_RESUME,      /* performed: run the guest again */
    QUIRK_BREAKPOINT,  /* an INT3 the VMM intercepts: report the #BP exception exit */
};

/* After KVM reported an emulation failure at RIP, whose bytes are insn[0..len). bp_exit: the
 * VMM asked for #BP exception exits. */
enum quirk_result quirk_emulation_failure(struct whp_vp *vp, const uint8_t *insn, size_t len,
                                          bool bp_exit);

#endif
