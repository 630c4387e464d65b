#!/usr/bin/env bash
# Tests the wasm package of the verifier end to end:
#
# 1. scripts/build-wasm.sh (target/wasm-pkg/{node,web}, after wasm-opt);
# 2. the release CLI proves the demo model (examples/demo_cnn) and a second model
#    (the peer model 1l_mlp when ../shared/peer-models or $ZKINFER_PEER_MODELS has
#    it, otherwise the demo at another scale: another circuit) into a temporary
#    directory;
# 3. node --test verifier/js/test/{verify,iris}.test.mjs: the nodejs package on
#    those files, and the iris user story (examples/iris with a hashed image);
# 4. node --test verifier/js/test/browser.test.mjs: the demo page (verifier/js/web)
#    in headless Chromium (Debian's, installed with apt when /usr/bin/chromium is
#    missing, or $ZKINFER_CHROMIUM), which also writes docs/img/wasm-verify.png.
#
# Needs node and npm (Debian: apt-get install nodejs npm). ZKINFER_WASM_KEEP=1
# keeps the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/build-wasm.sh

# The CLI as the test build makes it (after scripts/test.sh, as in CI, nothing
# is compiled): `cargo build -p zkinfer-cli` would unify features differently
# and compile tract and the workspace again.
cargo test --release --workspace --no-run -q
zkinfer="$root/target/release/zkinfer"

work=$(mktemp -d "${TMPDIR:-/tmp}/zkinfer-wasm.XXXXXX")
if [ "${ZKINFER_WASM_KEEP:-0}" = 1 ]; then
  echo "artifacts kept in $work"
else
  trap 'rm -rf "$work"' EXIT
fi
"$zkinfer" run examples/demo_cnn/network.onnx -q --out "$work/demo_cnn"
peers="${ZKINFER_PEER_MODELS:-$root/../shared/peer-models}"
if [ -f "$peers/1l_mlp/network.onnx" ]; then
  "$zkinfer" run "$peers/1l_mlp/network.onnx" --input "$peers/1l_mlp/input.json" -q --out "$work/other"
else
  echo "no peer model 1l_mlp in $peers: the second model is the demo at scale 6"
  "$zkinfer" run examples/demo_cnn/network.onnx --scale 6 -q --out "$work/other"
fi

# The iris user story: a hashed image, proven for two eyes with the same keys.
"$zkinfer" run examples/iris/network.onnx --input examples/iris/input.json --input-visibility hashed -q --out "$work/iris"
"$zkinfer" prove "$work/iris" --input examples/iris/input_other.json --out "$work/iris/other.bin" -q

js=verifier/js
if [ ! -d "$js/node_modules/playwright-core" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; then
  (cd "$js" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
export ZKINFER_WASM_ARTIFACTS="$work"

echo "=== node: verifier/js/test/verify.test.mjs, iris.test.mjs"
(cd "$js" && node --test --test-reporter=spec test/verify.test.mjs test/iris.test.mjs)

chromium="${ZKINFER_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ] && [ -z "${ZKINFER_CHROMIUM:-}" ]; then
  echo "installing Debian's chromium (apt)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
echo "=== headless Chromium ($("$chromium" --version 2>/dev/null | head -1)): verifier/js/test/browser.test.mjs"
(cd "$js" && node --test --test-reporter=spec test/browser.test.mjs)
