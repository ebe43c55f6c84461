#!/usr/bin/env bash
# Installs everything the wasm build needs, idempotently, and prints only what it installs.
#   - Debian's rustc-web with its library sources, a wasm32 std built from them, linked as the
#     rustup toolchain `adadelta-debian-web`. The threaded kernel always builds with it: it needs
#     a std compiled with atomics (-Zbuild-std), hence the sources.
#   - for the simd and plain kernels: rustup's own wasm32 target where it exists or can be
#     added, else the Debian toolchain above;
#   - wasm-bindgen-cli pinned to the wasm-bindgen version in Cargo.lock, and wasm-pack;
#   - rust-lld (scripts/env.sh puts it on PATH); wasm-opt comes from npm's binaryen.
# Writes the chosen toolchains to target/toolchain.env, which scripts/env.sh reads.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "[setup-toolchain] $*"; }
mkdir -p "$root/target"
export PATH="$HOME/.cargo/bin:$PATH"

DEBIAN_TC=adadelta-debian-web
has_wasm_std() { # $1 = sysroot
  compgen -G "$1/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib" >/dev/null
}

# --- Debian's rustc-web, its sources and a wasm32 std built from them -------------------------
if [ ! -x /usr/bin/rustc ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
  say "installing Debian rustc-web, cargo-web, rust-web-src (apt)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rustc-web cargo-web rust-web-src) >/dev/null
fi
if ! has_wasm_std /usr; then
  ver=$(/usr/bin/rustc --version | awk '{print $2}')
  library=/usr/src/rustc-$ver/library
  [ -d "$library/vendor" ] || { say "missing $library/vendor"; exit 1; }
  say "building the wasm32 std from $library (rustc $ver, build-std; about a minute)"
  work=$(mktemp -d)
  mkdir -p "$work/src"
  printf '[package]\nname = "stdbuild"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n[profile.release]\npanic = "abort"\n' > "$work/Cargo.toml"
  : > "$work/src/lib.rs"
  # The directory source is given on this one command line only: in a config file it would
  # also cut the project's own crates off from the registry.
  (cd "$work" && RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS="-C embed-bitcode=yes" \
    /usr/bin/cargo build --quiet --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort \
    --config "source.crates-io.replace-with='debian-std-vendor'" \
    --config "source.debian-std-vendor.directory='$library/vendor'")
  mkdir -p /usr/lib/rustlib/wasm32-unknown-unknown/lib
  find "$work/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' ! -name 'libstdbuild-*' \
    -exec cp {} /usr/lib/rustlib/wasm32-unknown-unknown/lib/ \;
  rm -rf "$work"
fi
if ! rustup toolchain list | grep -q "^$DEBIAN_TC"; then
  say "linking rustup toolchain $DEBIAN_TC -> /usr"
  rustup toolchain link "$DEBIAN_TC" /usr
fi

# --- the toolchain for the simd and plain kernels -----------------------------------------------
# ADADELTA_DEBIAN_STD=1 forces the Debian route (to test it where rustup could download).
toolchain=$DEBIAN_TC
if [ "${ADADELTA_DEBIAN_STD:-0}" != 1 ]; then
  active=$(rustup show active-toolchain | awk '{print $1}')
  if has_wasm_std "$(rustc --print sysroot)"; then
    toolchain=$active
  elif timeout 60 rustup target add wasm32-unknown-unknown >/dev/null 2>&1 && has_wasm_std "$(rustc --print sysroot)"; then
    say "installed rustup target wasm32-unknown-unknown for $active"
    toolchain=$active
  fi
fi

# rust-lld: the wasm linker. Debian's rustc does not ship one; any rustup toolchain's works.
lld_dir=""
for sysroot in "$(rustc --print sysroot)" "$HOME"/.rustup/toolchains/*; do
  if [ -x "$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld" ]; then
    lld_dir="$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin"; break
  fi
done
[ -n "$lld_dir" ] || command -v rust-lld >/dev/null || { say "no rust-lld found"; exit 1; }

# --- wasm-bindgen-cli (exactly the crate's version) and wasm-pack -----------------------------
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' "$root/Cargo.lock")
[ -n "$wb_version" ] || { say "no wasm-bindgen in Cargo.lock"; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli =$wb_version (cargo install; a few minutes)"
  # --locked first, as upstream intends; if a locked dependency has since been yanked from the
  # registry (webpki-roots was, for 0.2.130), let cargo pick the newest compatible versions.
  cargo install --quiet --locked --force wasm-bindgen-cli --version "=$wb_version" 2>/dev/null \
    || cargo install --quiet --force wasm-bindgen-cli --version "=$wb_version"
fi
if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (cargo install; a few minutes)"
  cargo install --quiet --locked wasm-pack
fi

cat > "$root/target/toolchain.env" <<ENV
RUSTUP_TOOLCHAIN=$toolchain
THREADS_TOOLCHAIN=$DEBIAN_TC
LLD_DIR=$lld_dir
ENV
