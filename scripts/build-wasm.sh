#!/usr/bin/env bash
# Builds the JavaScript/wasm package of the verifier (feature `wasm` of
# zkinfer-verifier: verify, proof_instances, proof_outputs):
#
#   target/wasm-pkg/node/   wasm-bindgen --target nodejs (CommonJS: require it)
#   target/wasm-pkg/web/    wasm-bindgen --target web (an ES module: import it, await init())
#
# 1. cargo build --release -p zkinfer-verifier --features wasm --target wasm32-unknown-unknown
# 2. wasm-bindgen, the CLI of exactly the version of the wasm-bindgen crate in
#    Cargo.lock, installed once with cargo into
#    ${ZKINFER_TOOLS_DIR:-$HOME/.cache/zkinfer/tools}/wasm-bindgen-<version>
# 3. wasm-opt -Oz (npm package binaryen, pinned in verifier/js/package-lock.json,
#    installed into verifier/js/node_modules)
#
# Prints the module's size and fails when it exceeds ZKINFER_WASM_MAX_BYTES
# (default 3,000,000). Needs rustup (or the wasm32 target installed), node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
max_bytes="${ZKINFER_WASM_MAX_BYTES:-3000000}"

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
cargo build --release -p zkinfer-verifier --features wasm --target wasm32-unknown-unknown
raw=target/wasm32-unknown-unknown/release/zkinfer_verifier.wasm

# wasm-bindgen's CLI must be the same version as the crate.
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$version" ] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
tools="${ZKINFER_TOOLS_DIR:-$HOME/.cache/zkinfer/tools}"
bindgen_root="$tools/wasm-bindgen-$version"
bindgen="$bindgen_root/bin/wasm-bindgen"
if [ -x "$bindgen" ] && "$bindgen" --version | grep -qx "wasm-bindgen $version"; then
  echo "wasm-bindgen $version already installed: $bindgen"
else
  echo "installing wasm-bindgen-cli $version into $bindgen_root"
  # --locked first; a registry mirror that lacks one of its locked dependencies
  # (it happened with webpki-roots) makes cargo resolve them afresh instead.
  cargo install --locked --quiet wasm-bindgen-cli --version "$version" --root "$bindgen_root" ||
    { echo "cargo install --locked failed; retrying without --locked" >&2
      cargo install --quiet wasm-bindgen-cli --version "$version" --root "$bindgen_root"; }
fi

# binaryen (wasm-opt) from npm, at the version package-lock.json pins.
js=verifier/js
if [ ! -x "$js/node_modules/.bin/wasm-opt" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
  command -v npm >/dev/null || { echo "npm is needed for wasm-opt (Debian: apt-get install nodejs npm)" >&2; exit 1; }
  (cd "$js" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
wasm_opt="$root/$js/node_modules/.bin/wasm-opt"

pkg=target/wasm-pkg
rm -rf "$pkg"
mkdir -p "$pkg"
crate_version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
for target in nodejs web; do
  dir="$pkg/$([ "$target" = nodejs ] && echo node || echo web)"
  "$bindgen" --target "$target" --out-dir "$dir" "$raw"
  "$wasm_opt" -Oz "$dir/zkinfer_verifier_bg.wasm" -o "$dir/zkinfer_verifier_bg.wasm"
  # A package.json, so that `npm install target/wasm-pkg/node` (or web) works and
  # node reads the files as the module kind they are.
  if [ "$target" = nodejs ]; then type=commonjs; else type=module; fi
  cat >"$dir/package.json" <<EOF
{
  "name": "zkinfer-verifier",
  "version": "$crate_version",
  "description": "zkinfer proof verifier (wasm, $target)",
  "license": "MIT OR Apache-2.0",
  "type": "$type",
  "main": "zkinfer_verifier.js",
  "types": "zkinfer_verifier.d.ts",
  "files": ["zkinfer_verifier.js", "zkinfer_verifier.d.ts", "zkinfer_verifier_bg.wasm", "zkinfer_verifier_bg.wasm.d.ts"]
}
EOF
done

size=$(stat -c %s "$pkg/web/zkinfer_verifier_bg.wasm")
gz=$(gzip -9 -c "$pkg/web/zkinfer_verifier_bg.wasm" | wc -c)
printf 'wasm: %s bytes from cargo, %s bytes after wasm-opt -Oz (%s gzipped)\n' "$(stat -c %s "$raw")" "$size" "$gz"
echo "packages: $pkg/node (require) and $pkg/web (import, then await init())"
if [ "$size" -gt "$max_bytes" ]; then
  echo "the wasm module is larger than $max_bytes bytes (ZKINFER_WASM_MAX_BYTES)" >&2
  exit 1
fi
