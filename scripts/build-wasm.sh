#!/usr/bin/env bash
# Builds the two wasm kernels through wasm-pack (cargo + wasm-bindgen + wasm-opt):
#   target/wasm/adadelta-simd.wasm   with +simd128 (the f32x4 kernel)
#   target/wasm/adadelta-plain.wasm  without it, for runtimes that lack wasm SIMD
# Each build has its own cargo target dir, so switching RUSTFLAGS does not rebuild the other.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$root"
mkdir -p target/wasm
# A small shadow stack: the kernel recurses nowhere and every optimizer owns an instance.
common="-C link-arg=-zstack-size=65536"
for build in simd plain; do
  flags="$common"
  [ "$build" = simd ] && flags="-C target-feature=+simd128 $common"
  CARGO_TARGET_DIR="$root/target/wasm-$build" RUSTFLAGS="$flags" \
    wasm-pack --quiet --log-level error build crate --release --target web --mode no-install --no-pack \
      --out-dir "$root/target/pkg-$build" --out-name adadelta
  cp "target/pkg-$build/adadelta_bg.wasm" "target/wasm/adadelta-$build.wasm"
done
cp target/pkg-simd/adadelta_bg.wasm.d.ts target/wasm/exports.d.ts
echo "[build-wasm] $(wc -c < target/wasm/adadelta-simd.wasm) B simd, $(wc -c < target/wasm/adadelta-plain.wasm) B plain"
