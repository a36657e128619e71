#!/usr/bin/env bash
# Fuzzes thinbench's parsers with libFuzzer (the cargo-fuzz layout, built without it): every target in fuzz/ for
# FUZZ_SECONDS each (default 30, what CI runs), seeded from fuzz/seeds/<target>/, growing
# a corpus in fuzz/corpus/<target>/ (not committed). Exits non-zero if any target
# crashed, panicked, timed out or ran out of memory; the input that did it is left in
# fuzz/artifacts/<target>/ and its path printed. Idempotent: builds only what changed.
#
#   bash ci/fuzz.sh                        # CI: every target, 30 s each
#   FUZZ_SECONDS=3600 bash ci/fuzz.sh      # a long run: an hour per target
#   FUZZ_SECONDS=600 bash ci/fuzz.sh scenario plan   # some targets only
#   FUZZ_STEP=build bash ci/fuzz.sh        # only build (ci/test: beside clippy)
#   FUZZ_STEP=run bash ci/fuzz.sh          # only run what the build made
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${FUZZ_SECONDS:-30}"
ALL=(scenario plan fio_job untrusted_path pool_status thin_status thin_ls thin_dump dm_table bytes_human)
TARGETS=("$@")
[ "$#" -gt 0 ] || TARGETS=("${ALL[@]}")

# Longest input per target: room for the largest seed and then some; more only slows
# the search down.
max_len() {
  case "$1" in
    scenario | plan) echo 8192 ;;
    thin_dump | fio_job) echo 4096 ;;
    thin_ls) echo 1024 ;;
    pool_status | dm_table) echo 256 ;;
    *) echo 128 ;;
  esac
}
dict() {
  case "$1" in
    scenario) echo fuzz/dicts/scenario.dict ;;
    plan) echo fuzz/dicts/plan.dict ;;
    thin_dump) echo fuzz/dicts/thin_dump.dict ;;
    fio_job) echo fuzz/dicts/fio_job.dict ;;
    pool_status | thin_status | dm_table) echo fuzz/dicts/status.dict ;;
  esac
}

# No cargo-fuzz: it is a wrapper around `cargo build` with libFuzzer's instrumentation
# flags, and installing it cost a fresh machine 7 minutes. The flags below are the ones
# cargo-fuzz 0.13 passes for `--sanitizer none --debug-assertions` (src/project.rs,
# `cargo()`): all stable, so the stable toolchain builds them. No sanitizer: the code
# fuzzed is safe Rust, and the crashes looked for are panics, overflows (debug
# assertions on), timeouts and memory blow-ups. `--target` keeps the flags off build
# scripts and proc-macros, as cargo-fuzz does. libfuzzer-sys builds libFuzzer itself.
# Unlike cargo-fuzz, release's default codegen units are kept: `-Ccodegen-units=1` buys
# executions per second, and the CI's fuzzing is bounded by time, not by executions,
# while the one-unit build of the harness took 469 s of a 976 s suite (beside the tests).
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
FUZZ_RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Cllvm-args=-sanitizer-coverage-stack-depth \
-Cdebug-assertions"
fuzz_build() {
  RUSTFLAGS="$FUZZ_RUSTFLAGS" cargo build --manifest-path "$SRC/fuzz/Cargo.toml" \
    --target "$TRIPLE" --release --config 'profile.release.debug="line-tables-only"' \
    --bins --target-dir "$TARGET_DIR"
}

# The instrumented build is kept beside the VM kernel (setup.sh's cache), outside the
# clone, so that a later CI run on the same machine rebuilds only what changed.
TARGET_DIR="${FUZZ_TARGET_DIR:-${THINBENCH_CACHE:-/var/cache/thinbench}/fuzz-target}"
mkdir -p "$TARGET_DIR" 2>/dev/null && [ -w "$TARGET_DIR" ] || TARGET_DIR=fuzz/target
# Each clone's path gives its own copies of the project's crates (1.3 GiB for the first
# build, about 0.3 more per clone): start again past 4 GiB.
if [ "$(du -sm "$TARGET_DIR" | cut -f1)" -gt 4096 ]; then
  echo "fuzz: $TARGET_DIR is over 4 GiB: emptying it" >&2
  rm -rf "${TARGET_DIR:?}"/*
fi
# cargo keys the project's own crates by their path, so every fresh clone rebuilt all of
# them (144 s of the fuzz phase on a clean clone). The targets are built from a copy at
# a fixed path instead, updated by content: a file that did not change keeps its old
# mtime there, so cargo rebuilds only what a change touched. The corpus and artifacts
# stay in this clone (absolute paths below).
SRC="$(dirname "$TARGET_DIR")/fuzz-src"
sync_src() {
  local list f
  list=$(mktemp)
  git ls-files -z --cached --others --exclude-standard -- . ':!fuzz/corpus' ':!fuzz/artifacts' >"$list"
  mkdir -p "$SRC"
  while IFS= read -r -d '' f; do
    [ -f "$f" ] || continue
    if ! cmp -s "$f" "$SRC/$f"; then
      mkdir -p "$SRC/$(dirname "$f")" && cp "$f" "$SRC/$f"
    fi
  done <"$list"
  # Files gone from the clone go from the copy too (not cargo's own Cargo.lock/target).
  (cd "$SRC" && find . -type f -not -path './fuzz/target/*' -not -path './target/*' -printf '%P\0') |
    while IFS= read -r -d '' f; do
      grep -qzxF -- "$f" "$list" || [ "$f" = fuzz/Cargo.lock ] || rm -f "$SRC/$f"
    done
  rm -f "$list"
}
if [ "$TARGET_DIR" = fuzz/target ] || ! git rev-parse --git-dir >/dev/null 2>&1; then SRC=.; else sync_src; fi
HERE=$(pwd)
BIN="$TARGET_DIR/$TRIPLE/release"
STEP="${FUZZ_STEP:-all}"

start=$(date +%s)
if [ "$STEP" != run ]; then
  fuzz_build
  echo "fuzz: build took $(($(date +%s) - start)) s"
fi
[ "$STEP" != build ] || exit 0

# One target: libFuzzer's log in $out/$t.log, a summary row in $out/$t.row.
run_target() {
  local t=$1 corpus="$HERE/fuzz/corpus/$1" log="$out/$1.log" d result artifact t0 secs execs rate files
  mkdir -p "$corpus" "$HERE/fuzz/artifacts/$t"
  local args=(-max_total_time="$SECONDS_EACH" -max_len="$(max_len "$t")" -timeout=10
              -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$HERE/fuzz/artifacts/$t/")
  d=$(dict "$t")
  [ -z "$d" ] || args+=(-dict="$HERE/$d")
  t0=$(date +%s)
  # Scratch files a target makes (untrusted_path's directory of symlinks) go with $out.
  mkdir -p "$out/tmp-$t"
  # The corpus dir first: libFuzzer adds new inputs there; the seeds are only read.
  if TMPDIR="$out/tmp-$t" "$BIN/$t" "${args[@]}" "$corpus" "$HERE/fuzz/seeds/$t" >"$log" 2>&1; then
    result=ok
  else
    artifact=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
    result="FAILED${artifact:+: $artifact}"
    cp "$log" "fuzz/artifacts/$t/fuzz.log"
  fi
  secs=$(($(date +%s) - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  files=$(find "$corpus" -type f | wc -l)
  printf '%-12s %12s %8s %6s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$secs" "$files" "$result" >"$out/$t.row"
}

# libFuzzer runs one thread: run as many targets at once as there are cores.
JOBS="${FUZZ_JOBS:-$(nproc)}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  run_target "$t" &
done
wait

failed=()
printf '%-12s %12s %8s %6s %8s  %s\n' target executions exec/s secs corpus result
for t in "${TARGETS[@]}"; do
  cat "$out/$t.row"
  if ! grep -q ' ok$' "$out/$t.row"; then
    failed+=("$t")
    # What went wrong, for the CI log: the panic message or libFuzzer's verdict.
    echo "--- $t:" >&2
    grep -E "panicked at|^==[0-9]+== ERROR|ALARM|out-of-memory|SUMMARY|Test unit written|Reproduce with" "$out/$t.log" >&2 ||
      tail -40 "$out/$t.log" >&2
    echo "(whole log: fuzz/artifacts/$t/fuzz.log)" >&2
  fi
done
echo "fuzz: total $(($(date +%s) - start)) s (build, then ${#TARGETS[@]} targets ${SECONDS_EACH} s each, $JOBS at a time)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}; reproduce with: $BIN/<target> <artifact>" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} passed, 0 failed"
