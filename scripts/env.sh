# Sourced by the build scripts: the toolchain that scripts/setup-toolchain.sh chose, rust-lld and
# the npm wasm-opt on PATH.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -f "$root/target/toolchain.env" ]; then
  bash "$root/scripts/setup-toolchain.sh"
fi
set -a; . "$root/target/toolchain.env"; set +a
export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:${LLD_DIR:+$LLD_DIR:}$PATH"
