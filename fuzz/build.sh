#!/usr/bin/env bash
# fuzz/build.sh - build the libFuzzer harnesses of fuzz/ with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, apart from the autotools
# build (nothing in the source tree is written but OUTDIR).
#
#   fuzz/build.sh [OUTDIR]        (default: fuzz/out)
#
# The lib/ and daemon/ sources are compiled once, with coverage
# instrumentation, into OUTDIR/obj/libcore.a; each harness fuzz/fuzz_NAME.c
# is linked against it into OUTDIR/fuzz_NAME. Compiler flags and libraries
# come from pkg-config, as in configure.ac. Environment: CC (default clang),
# FUZZ_CFLAGS (extra flags), FUZZ_JOBS (parallel compiles, default 2).
# Exit status: 0 built, 77 clang or its libFuzzer runtime is missing (the
# Debian package is libclang-rt-14-dev), 1 a compile error.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
out=${1:-$here/out}
CC=${CC:-clang}
jobs=${FUZZ_JOBS:-2}
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "fuzz/build.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
    exit 77
fi
probe=$out/obj/probe
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe.c"
if ! "$CC" -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" >"$probe.log" 2>&1; then
    echo "fuzz/build.sh: $CC cannot build a libFuzzer program (apt-get install libclang-rt-14-dev):" >&2
    head -5 "$probe.log" >&2
    exit 77
fi

pkgs="sqlite3 yaml-0.1 libcmark gumbo libutf8proc jansson libuv"
# shellcheck disable=SC2086
if ! pkg_cflags=$(pkg-config --cflags $pkgs) || ! pkg_libs=$(pkg-config --libs $pkgs); then
    echo "fuzz/build.sh: pkg-config cannot find one of: $pkgs" >&2
    exit 1
fi
# -O1 and frame pointers for readable sanitizer stacks; any UB aborts, so
# libFuzzer keeps the input.
common="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
        -I$src/lib -I$src/daemon $pkg_cflags ${FUZZ_CFLAGS:-}"
libs="$pkg_libs -lstemmer -lhttp_parser -lpthread -lm"

# The core: every lib/*.c (but the sqlite3-shell extension's entry point)
# and the daemon's modules (but its main).
core=()
for f in "$src"/lib/*.c "$src"/daemon/*.c; do
    case $(basename "$f") in
        sqlite_ext.c|prsearchd.c|web_assets.c) continue ;;
    esac
    core+=("$f")
done
# The daemon's embedded web files are generated C: make our own copy, so
# the harnesses build from a source tree whatever build produced it.
mkdir -p "$out/gen"
sh "$src/daemon/embed_web.sh" "$out/gen/web_assets.c" \
    "$src/web/search.html" "$src/web/search.css" "$src/web/search.js" "$src/web/widget.js"
core+=("$out/gen/web_assets.c")
compile_one() { # compile_one SRC OBJ
    # shellcheck disable=SC2086
    "$CC" $common -fsanitize=fuzzer-no-link -c "$1" -o "$2"
}
export -f compile_one
export CC common
objs=()
for f in "${core[@]}"; do
    rel=${f#"$src"/}
    rel=${rel#"$out"/}
    objs+=("$out/obj/${rel//\//_}.o")
done
# Recompile only what changed (sources or headers newer than the object).
# shellcheck disable=SC2012
newest_h=$(ls -t "$src"/lib/*.h "$src"/daemon/*.h | head -1)
todo=()
for i in "${!core[@]}"; do
    o=${objs[$i]}
    if [[ ! -f $o || ${core[$i]} -nt $o || $newest_h -nt $o || $0 -nt $o ]]; then
        todo+=("${core[$i]}" "$o")
    fi
done
if ((${#todo[@]})); then
    # shellcheck disable=SC2016
    printf '%s\0' "${todo[@]}" | xargs -0 -n2 -P"$jobs" bash -c 'compile_one "$0" "$1"'
    rm -f "$out/obj/libcore.a"
fi
if [[ ! -f $out/obj/libcore.a ]]; then
    ar rcs "$out/obj/libcore.a" "${objs[@]}"
fi

for h in "$here"/fuzz_*.c; do
    name=$(basename "$h" .c)
    bin=$out/$name
    if [[ -f $bin && $bin -nt $out/obj/libcore.a && $bin -nt $h && $bin -nt $here/fuzz_common.h ]]; then
        continue
    fi
    # shellcheck disable=SC2086
    "$CC" $common -fsanitize=fuzzer -I"$here" "$h" "$out/obj/libcore.a" $libs -o "$bin"
    echo "built $bin"
done
