#!/usr/bin/env bash
# Regenerates a committed example with its generator and the pinned Python
# packages (scripts/requirements-demo.txt) in a private virtualenv, and checks
# every named file is byte-identical to the committed one:
#   scripts/check_generated.sh GENERATOR.py EXAMPLE_DIR FILE...
set -euo pipefail
cd "$(dirname "$0")/.."
generator=$1 dir=$2
shift 2
venv="${ZKINFER_DEMO_VENV:-${TMPDIR:-/tmp}/zkinfer-demo-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r scripts/requirements-demo.txt
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$venv/bin/python" "$generator" "$out" >/dev/null
for f in "$@"; do
  if ! cmp -s "$out/$f" "$dir/$f"; then
    echo "$dir/$f differs from what $generator generates" >&2
    exit 1
  fi
done
echo "$dir matches $generator"
