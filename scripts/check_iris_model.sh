#!/usr/bin/env bash
# Regenerates the iris-code example with the pinned Python packages in a private
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
"$venv/bin/python" scripts/make_iris_model.py "$out" >/dev/null
for f in network.onnx input.json input_other.json; do
  if ! cmp -s "$out/$f" "examples/iris/$f"; then
    echo "examples/iris/$f differs from what scripts/make_iris_model.py generates" >&2
    exit 1
  fi
done
echo "examples/iris matches scripts/make_iris_model.py"
