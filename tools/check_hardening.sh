#!/usr/bin/env bash
# Checks that the product binaries of a CMake build (whpvm, whpvm-demo, libwinhvplatform.so) carry
# the hardening the top-level CMakeLists.txt asks for: PIE, full RELRO (GNU_RELRO + BIND_NOW),
# the stack protector, FORTIFY_SOURCE in optimised builds without sanitizers, and CET (IBT and
# shadow stack) where the compiler has -fcf-protection. Exits 1 naming what is missing.
#
# CET: the linker keeps the IBT/SHSTK property only when every input has it, and some C libraries'
# start files (Debian 12's crt1.o, crti.o) have none, so a binary without the note is accepted
# when every object file of ours in it has the note. whpvm-demo's *_guest.c files are built
# without CET on purpose (guest code, whpvm/CMakeLists.txt) and are not checked.
set -euo pipefail
build=${1:?usage: tools/check_hardening.sh <build-dir>}
cache="$build/CMakeCache.txt"
[ -r "$cache" ] || { echo "check_hardening: $cache: not a CMake build directory" >&2; exit 2; }
setting() { sed -n "s/^$1:[A-Z]*=//p" "$cache"; }

fortify=0
case "$(setting CMAKE_BUILD_TYPE)" in Release | RelWithDebInfo | MinSizeRel) fortify=1 ;; esac
for opt in OPENWHP_SANITIZE OPENWHP_TSAN OPENWHP_FUZZ; do
    case "$(setting "$opt")" in ON | TRUE | 1) fortify=0 ;; esac
done
cet=0
[ "$(setting OPENWHP_HAVE_CF_PROTECTION)" = 1 ] && cet=1

library="$build/CMakeFiles/winhvplatform_obj.dir"
devices="$build/devices/CMakeFiles/openwhp_devices.dir"
status=0
fail() {
    echo "FAIL $1: $2"
    status=1
}

# check <binary> <exe|lib> <object dirs...>
check() {
    local bin=$1 kind=$2 name
    shift 2
    name=${bin#"$build"/}
    if [ ! -f "$bin" ]; then
        fail "$name" "not built"
        return
    fi
    local header dynamic segments symbols notes
    header=$(readelf -hW "$bin")
    dynamic=$(readelf -dW "$bin")
    segments=$(readelf -lW "$bin")
    symbols=$(readelf --dyn-syms -W "$bin")
    notes=$(readelf -nW "$bin")
    grep -q 'Type: *DYN' <<<"$header" || fail "$name" "ELF type is not DYN (not position-independent)"
    if [ "$kind" = exe ]; then
        grep -q 'FLAGS_1.*PIE' <<<"$dynamic" || fail "$name" "no PIE in FLAGS_1 (linked without -pie)"
    fi
    grep -q GNU_RELRO <<<"$segments" || fail "$name" "no GNU_RELRO segment (-z relro)"
    grep -Eq '\(FLAGS\).*BIND_NOW|FLAGS_1.*NOW' <<<"$dynamic" || fail "$name" "no BIND_NOW (-z now)"
    grep -q ' __stack_chk_fail' <<<"$symbols" || fail "$name" "__stack_chk_fail not referenced (no stack protector)"
    if [ "$fortify" = 1 ] && ! grep -Eq ' __[a-z0-9_]+_chk(@|$)' <<<"$(grep -v __stack_chk_fail <<<"$symbols")"; then
        fail "$name" "no __*_chk function referenced (no _FORTIFY_SOURCE)"
    fi
    if [ "$cet" = 1 ] && ! grep -q 'x86 feature: IBT, SHSTK' <<<"$notes"; then
        local o first="" missing=0 count=0
        while IFS= read -r -d '' o; do
            count=$((count + 1))
            if ! readelf -nW "$o" | grep -q 'x86 feature: IBT, SHSTK'; then
                missing=$((missing + 1))
                first=${first:-${o#"$build"/}}
            fi
        done < <(find "$@" -name '*.o' ! -name '*_guest.c.o' -print0)
        if [ "$count" = 0 ]; then
            fail "$name" "no CET note and no object files found to check for it"
        elif [ "$missing" != 0 ]; then
            fail "$name" "$missing of $count object files have no IBT/SHSTK property, $first the first (no -fcf-protection)"
        else
            echo "note $name: no CET note after linking, but all $count of our object files in it have IBT and SHSTK"
        fi
    fi
}

# The object files each binary is linked from (whpvm-demo: the static library; its guest runtime,
# tests/guest, is test code and is not checked).
check "$build/whpvm/whpvm" exe "$build/whpvm/CMakeFiles/whpvm.dir" "$devices"
check "$build/whpvm/whpvm-demo" exe "$build/whpvm/CMakeFiles/whpvm-demo.dir" "$library" "$devices"
lib=$(find "$build" -maxdepth 1 -name 'libwinhvplatform.so.*.*' | head -n 1)
check "${lib:-$build/libwinhvplatform.so}" lib "$library"

if [ "$status" = 0 ]; then
    echo "check_hardening: whpvm, whpvm-demo and the library: PIE, RELRO, BIND_NOW, stack protector$([ "$fortify" = 1 ] && echo ", FORTIFY_SOURCE")$([ "$cet" = 1 ] && echo ", CET")"
fi
exit "$status"
