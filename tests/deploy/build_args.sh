#!/usr/bin/env bash
# deploy/common.sh build(): a reused build folder is configured again when the CMake
# arguments change (an option given before and dropped now goes back to its default),
# and not when they stay the same. Configure only (the target `help` compiles nothing).
source "$(dirname "$0")/lib.sh"
dir=$(test_dir build-args)/build
cache() { sed -n "s/^$1:[A-Z]*=//p" "$dir/CMakeCache.txt"; }

build "$dir" Release -DATENDEAI_ONLY_CORE=ON -DATENDEAI_SANITIZE=ON -- help >/dev/null
[ "$(cache ATENDEAI_SANITIZE)" = ON ] || fail "first configure: ATENDEAI_SANITIZE=$(cache ATENDEAI_SANITIZE)"
before=$(stat -c %Y "$dir/CMakeCache.txt")
sleep 1.1
out=$(build "$dir" Release -DATENDEAI_ONLY_CORE=ON -DATENDEAI_SANITIZE=ON -- help 2>&1 >/dev/null)
[ "$(stat -c %Y "$dir/CMakeCache.txt")" = "$before" ] || fail "configured again with the same arguments: $out"
note "same arguments: not configured again"

out=$(build "$dir" Release -DATENDEAI_ONLY_CORE=ON -- help 2>&1 >/dev/null)
[[ $out == *"CMake arguments changed"* ]] || fail "not configured again after the arguments changed: $out"
[ "$(cache ATENDEAI_SANITIZE)" = OFF ] || fail "ATENDEAI_SANITIZE kept its old value $(cache ATENDEAI_SANITIZE)"
note "an option dropped: configured again, ATENDEAI_SANITIZE back to OFF"

build "$dir" RelWithDebInfo -DATENDEAI_ONLY_CORE=ON -- help >/dev/null 2>&1
[ "$(cache CMAKE_BUILD_TYPE)" = RelWithDebInfo ] || fail "build type $(cache CMAKE_BUILD_TYPE) after asking for RelWithDebInfo"
note "another build type: configured again"
