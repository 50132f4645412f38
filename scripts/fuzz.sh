#!/usr/bin/env bash
# Build and run the libFuzzer targets in fuzz/ (docs/fuzzing.md).
#
#   scripts/fuzz.sh --smoke            every target 20 s (CI; fails on any crash)
#   scripts/fuzz.sh --long             every target 1 h
#   scripts/fuzz.sh --time 600 ntlm    one target, 10 minutes
#   scripts/fuzz.sh --build-only | --list
#
# Options: --time SECONDS per target, --parallel N targets at once (default 1),
# --no-asan (faster, without AddressSanitizer and its allocation limit).
#
# The build is what `cargo fuzz build` does (sanitizer coverage, AddressSanitizer,
# debug assertions, `--cfg fuzzing`), done with plain cargo so that nothing but the
# toolchain is needed: RUSTC_BOOTSTRAP=1 lets the stable compiler take the -Z flags.
# Each target reads its committed seeds (fuzz/seeds/T) and regressions
# (fuzz/regressions/T) and grows its working corpus in fuzz/corpus/T (not committed).
# A crash, timeout or out-of-memory input lands in fuzz/artifacts/T/; keep it as
# fuzz/regressions/T/<name> so `cargo test` replays it from then on.
set -euo pipefail

# One block, read whole before it runs: editing this file during a long run is harmless.
{
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=20
parallel=1
asan=1
build_only=0
list=0
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --smoke) seconds=20 ;;
        --long) seconds=3600 ;;
        --time) seconds="$2"; shift ;;
        --parallel) parallel="$2"; shift ;;
        --no-asan) asan=0 ;;
        --build-only) build_only=1 ;;
        --list) list=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1") ;;
    esac
    shift
done

all_targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^rampart-fuzz$')
if [[ $list -eq 1 ]]; then
    echo "$all_targets"
    exit 0
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets <<<"$all_targets"
fi
for t in "${targets[@]}"; do
    if ! grep -qx "$t" <<<"$all_targets"; then
        echo "fuzz.sh: no target $t (scripts/fuzz.sh --list)" >&2
        exit 2
    fi
done

triple=x86_64-unknown-linux-gnu
flags=(
    -Cpasses=sancov-module
    -Cllvm-args=-sanitizer-coverage-level=4
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters
    -Cllvm-args=-sanitizer-coverage-pc-table
    -Cllvm-args=-sanitizer-coverage-trace-compares
    -Cllvm-args=-sanitizer-coverage-stack-depth
    -Cllvm-args=-simplifycfg-branch-fold-threshold=0
    --cfg fuzzing
    -Cdebug-assertions
    -Coverflow-checks
    # cargo-fuzz uses 1 for run speed; 16 builds several times faster on 2 cores.
    -Ccodegen-units=16
)
target_dir=fuzz/target/asan
if [[ $asan -eq 1 ]]; then
    flags+=(-Zsanitizer=address)
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0:detect_leaks=0"
else
    target_dir=fuzz/target/plain
fi

# The fuzz workspace uses exactly the main workspace's dependency versions: its lock file
# is the main one, to which cargo adds only libFuzzer (so a dependency added to a Rampart
# crate never leaves a second lock file to update by hand).
cp Cargo.lock fuzz/Cargo.lock

build_start=$SECONDS
echo "fuzz: building ${#targets[@]} target(s) (asan=$asan) in $target_dir"
RUSTC_BOOTSTRAP=1 RUSTFLAGS="${flags[*]}" CARGO_TARGET_DIR="$target_dir" \
    cargo build --manifest-path fuzz/Cargo.toml --release --target "$triple" \
    --config 'profile.release.debug="line-tables-only"' \
    $(printf -- '--bin %s ' "${targets[@]}")
echo "fuzz: build took $((SECONDS - build_start)) s"
[[ $build_only -eq 1 ]] && exit 0

bin_dir="$target_dir/$triple/release"
# Each target's libFuzzer log stays here after the run (not committed).
logs=fuzz/logs
rm -rf "$logs"
mkdir -p "$logs"

run_one() {
    local t="$1"
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/seeds/$t" "fuzz/regressions/$t"
    local start=$SECONDS status=0
    # The working corpus comes first (libFuzzer adds new inputs there); the committed
    # seeds and regressions are read only.
    "$bin_dir/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" "fuzz/regressions/$t" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -max_len=8192 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
        >"$logs/$t.log" 2>&1 || status=$?
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
    echo "$t ${execs:-0} $((SECONDS - start)) $status" >"$logs/$t.result"
    if [[ $status -ne 0 ]]; then
        echo "fuzz: $t FAILED (exit $status); its log:" >&2
        grep -v '^#' "$logs/$t.log" | tail -40 >&2
        echo "fuzz: full log in $logs/$t.log" >&2
    fi
}
export -f run_one
export bin_dir seconds logs

printf '%s\n' "${targets[@]}" | xargs -P "$parallel" -I{} bash -c 'run_one "$@"' _ {}

echo
printf '%-16s %14s %8s %8s\n' target executions seconds result
total=0
failed=0
for t in "${targets[@]}"; do
    read -r name execs secs status <"$logs/$t.result"
    result=ok
    if [[ $status -ne 0 ]]; then
        result=CRASH
        failed=$((failed + 1))
    fi
    total=$((total + execs))
    printf '%-16s %14s %8s %8s\n' "$name" "$execs" "$secs" "$result"
done
echo "fuzz: ${#targets[@]} targets, $failed crashed, $total executions"
if [[ $failed -gt 0 ]]; then
    echo "fuzz: the inputs are in fuzz/artifacts/<target>/; fix the bug, then keep each input" >&2
    echo "      as fuzz/regressions/<target>/<name> so cargo test replays it" >&2
    exit 1
fi
exit 0
}
