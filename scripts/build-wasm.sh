#!/usr/bin/env bash
# Builds the wasm kernels through wasm-pack (cargo + wasm-bindgen + wasm-opt):
#   target/wasm/adadelta-simd.wasm     +simd128: the f32x4 kernel
#   target/wasm/adadelta-plain.wasm    no SIMD, for runtimes that lack it
#   target/wasm/adadelta-threads.wasm  +simd128 with atomics and an imported shared memory, for
#                                      the worker pool; needs a std built with atomics (build-std)
# Each build has its own cargo target dir, so switching RUSTFLAGS does not rebuild the others.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$root"
mkdir -p target/wasm
# A small shadow stack: the kernel recurses nowhere and every optimizer owns an instance. Its
# size is STACK_BYTES in crate/src/layout.rs, which the thread pool reads through ts/wasm/layout.ts.
stack_bytes=$(sed -n 's/^ *STACK_BYTES = \([0-9]\{1,\}\),.*$/\1/p' crate/src/layout.rs)
if [ -z "$stack_bytes" ]; then
  echo "[build-wasm] crate/src/layout.rs has no line 'STACK_BYTES = <integer>,' to take the stack size from" >&2
  exit 1
fi
common="-C link-arg=-zstack-size=$stack_bytes"
threads_link="-C link-arg=--shared-memory -C link-arg=--import-memory -C link-arg=--max-memory=4294967296"
threads_link="$threads_link -C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"
for build in simd plain threads; do
  toolchain=$RUSTUP_TOOLCHAIN
  extra=()
  case $build in
    simd) flags="-C target-feature=+simd128 $common" ;;
    plain) flags="$common" ;;
    threads)
      flags="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals $common $threads_link"
      toolchain=$THREADS_TOOLCHAIN
      extra=(-- -Zbuild-std=std,panic_abort)
      ;;
  esac
  RUSTUP_TOOLCHAIN=$toolchain RUSTC_BOOTSTRAP=$([ "$build" = threads ] && echo 1 || echo "${RUSTC_BOOTSTRAP:-}") \
  CARGO_TARGET_DIR="$root/target/wasm-$build" RUSTFLAGS="$flags" \
    wasm-pack --quiet --log-level error build crate --release --target web --mode no-install --no-pack \
      --out-dir "$root/target/pkg-$build" --out-name adadelta "${extra[@]}"
  cp "target/pkg-$build/adadelta_bg.wasm" "target/wasm/adadelta-$build.wasm"
done
echo "[build-wasm] $(wc -c < target/wasm/adadelta-simd.wasm) B simd, $(wc -c < target/wasm/adadelta-plain.wasm) B plain, $(wc -c < target/wasm/adadelta-threads.wasm) B threads"
