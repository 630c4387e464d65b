#!/usr/bin/env bash
# Regenerates the bundled demo model with the pinned Python packages in a private
# virtualenv and checks it is byte-identical to the committed one.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ZKINFER_DEMO_VENV:-${TMPDIR:-/tmp}/zkinfer-demo-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r scripts/requirements-demo.txt
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$venv/bin/python" scripts/make_demo_model.py "$out" >/dev/null
for f in network.onnx input.json; do
  if ! cmp -s "$out/$f" "examples/demo_cnn/$f"; then
    echo "examples/demo_cnn/$f differs from what scripts/make_demo_model.py generates" >&2
    exit 1
  fi
done
echo "examples/demo_cnn matches scripts/make_demo_model.py"
