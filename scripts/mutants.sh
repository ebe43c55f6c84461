#!/usr/bin/env bash
# `npm run mutants`: do the tests catch a wrong optimizer? Outside CI (it rebuilds the wasm
# several times: about 20 minutes on 2 cores).
#
# 1. cargo-mutants on the crate's host tests (`cargo test -p adadelta-wasm`): every mutant it
#    makes of scalar.rs, the formula's one home. Its missed mutants are listed, not fatal: some
#    are equivalent (a bound that changes no result). CARGO_MUTANTS_ALL=1 mutates the whole crate.
#    Skipped, with a note, when cargo-mutants is not installed (`cargo install cargo-mutants`).
# 2. The hand-written mutations in scripts/mutants.json, for what cargo-mutants cannot reach: the
#    SIMD kernel (wasm only), the TS wrapper, the checkpoint codec and the thread pool. Each is
#    applied, the package rebuilt as it needs, and each of its guarding test files run on its own;
#    then the files are restored from a copy. Every one of them must be caught: the script exits
#    1 if any is missed (or no longer applies), and prints a table of what caught what.
#
# Usage: bash scripts/mutants.sh [name ...]   (only the named hand-written mutations, no cargo-mutants)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
list=scripts/mutants.json
work=$(mktemp -d)
log=$work/log
keep=0
trap 'restore; [ $keep = 1 ] || rm -rf "$work"' EXIT

say() { echo "[mutants] $*" >&2; }

# The files the mutations touch, copied once so that every revert is exact.
files=$(node -e 'const l = require("./'$list'"); console.log([...new Set(l.mutations.flatMap((m) => m.edits.map((e) => e.file)))].join("\n"))')
mkdir -p "$work/orig"
for f in $files; do mkdir -p "$work/orig/$(dirname "$f")" && cp "$f" "$work/orig/$f"; done
restore() { for f in $files; do cp "$work/orig/$f" "$root/$f"; done; }

# Applies mutation $1's edits: each `from` must occur exactly once, or the list is stale.
apply() {
  node -e '
    const fs = require("fs");
    const m = require("./'$list'").mutations.find((x) => x.name === process.argv[1]);
    for (const e of m.edits) {
      const text = fs.readFileSync(e.file, "utf8");
      const n = text.split(e.from).length - 1;
      if (n !== 1) { console.error(`${m.name}: "${e.from}" occurs ${n} times in ${e.file}`); process.exit(2); }
      fs.writeFileSync(e.file, text.replace(e.from, () => e.to));
    }' "$1"
}
field() { node -e 'const m = require("./'$list'").mutations.find((x) => x.name === process.argv[1]); const v = m[process.argv[2]]; console.log(Array.isArray(v) ? v.join(" ") : v ?? "")' "$1" "$2"; }

build() {
  case $1 in
    wasm) npm run --silent build:wasm >>"$log" 2>&1 && npm run --silent build:ts >>"$log" 2>&1 ;;
    ts) npm run --silent build:ts >>"$log" 2>&1 ;;
    *) true ;;
  esac
}

# --- 1. cargo-mutants -------------------------------------------------------------------------
cargo_summary="not run (named mutations only)"
if [ $# -eq 0 ]; then
  if cargo mutants --version >/dev/null 2>&1; then
    scope=(--file crate/src/scalar.rs)
    [ "${CARGO_MUTANTS_ALL:-}" = 1 ] && scope=()
    say "cargo-mutants on the crate's host tests (${scope[*]:-the whole crate})"
    # Its own copy of the tree, so the wasm builds below and this never see each other's edits.
    cargo mutants -p adadelta-wasm "${scope[@]}" --output "$work" --jobs 1 --timeout 120 >"$work/cargo-mutants.txt" 2>&1
    out=$work/mutants.out
    count() { if [ -s "$out/$1.txt" ]; then grep -c . "$out/$1.txt"; else echo 0; fi; }
    cargo_summary="$(count caught) caught, $(count missed) missed, $(count unviable) unviable, $(count timeout) timed out"
    say "cargo-mutants: $cargo_summary"
    [ -s "$out/missed.txt" ] && { say "cargo-mutants missed (equivalent or untested; read each):"; sed 's/^/    /' "$out/missed.txt" >&2; }
  else
    cargo_summary="skipped: cargo-mutants is not installed (cargo install cargo-mutants)"
    say "$cargo_summary"
  fi
fi

# --- 2. hand-written mutations ----------------------------------------------------------------
names=("$@")
[ ${#names[@]} -eq 0 ] && mapfile -t names < <(node -e 'for (const m of require("./'$list'").mutations) console.log(m.name)')
# TS-only mutations first, then those that rebuild the wasm, so one clean wasm build at the end
# restores dist/.
mapfile -t names < <(for n in "${names[@]}"; do echo "$([ "$(field "$n" build)" = wasm ] && echo 1 || echo 0) $n"; done | sort -s -k1,1 | cut -d' ' -f2)

say "baseline: the guarding tests must pass on the unmutated package"
all_tests=$(for n in "${names[@]}"; do field "$n" tests; done | tr ' ' '\n' | sort -u)
build ts || { say "the clean build failed (see $log)"; exit 1; }
# shellcheck disable=SC2086
npx vitest run $all_tests >>"$log" 2>&1 || { say "the guarding tests fail without any mutation: fix that first"; tail -40 "$log" >&2; exit 1; }

rows=()
missed=0
wasm_dirty=0
for name in "${names[@]}"; do
  kind=$(field "$name" build)
  say "$name: $(field "$name" bug)"
  if ! apply "$name" 2>>"$log"; then
    rows+=("| $name | STALE (its text is gone: update scripts/mutants.json) | |")
    missed=$((missed + 1))
    restore
    continue
  fi
  [ "$kind" = wasm ] && wasm_dirty=1
  if ! build "$kind"; then
    rows+=("| $name | build failed (not a viable mutation: fix scripts/mutants.json) | |")
    missed=$((missed + 1))
    restore
    continue
  fi
  caught=()
  if [ "$(field "$name" cargo)" = true ] && ! cargo test --quiet -p adadelta-wasm >>"$log" 2>&1; then caught+=("cargo test"); fi
  for t in $(field "$name" tests); do
    if ! timeout 600 npx vitest run "$t" >>"$log" 2>&1; then caught+=("$(basename "$t" .test.ts)"); fi
  done
  restore
  if [ ${#caught[@]} -gt 0 ]; then
    verdict=caught
  else
    verdict=MISSED
    missed=$((missed + 1))
  fi
  say "  $verdict${caught:+ by ${caught[*]}}"
  rows+=("| $name | $verdict | ${caught[*]:-none of: $(field "$name" tests)} |")
done

say "restoring the build"
if [ $wasm_dirty = 1 ]; then build wasm; else build ts; fi || say "the final clean build failed: run npm run build"

echo
echo "cargo-mutants (crate host tests): $cargo_summary"
echo
echo "| hand-written mutation | verdict | caught by |"
echo "| --- | --- | --- |"
printf '%s\n' "${rows[@]}"
echo
if [ $missed -gt 0 ]; then
  keep=1
  echo "$missed of ${#names[@]} hand-written mutations not caught (build and test output: $log)"
  exit 1
fi
echo "all ${#names[@]} hand-written mutations caught"
