#!/usr/bin/env bash
# Installs solc 0.8.19 (the npm package `solc`, whose `solcjs` runs offline once
# installed) into the tools directory zkinfer looks in:
# ${ZKINFER_TOOLS_DIR:-$HOME/.cache/zkinfer/tools}/solc. Needs node and npm.
set -euo pipefail
tools="${ZKINFER_TOOLS_DIR:-$HOME/.cache/zkinfer/tools}"
dir="$tools/solc"
if [ -x "$dir/node_modules/.bin/solcjs" ] && "$dir/node_modules/.bin/solcjs" --version 2>/dev/null | grep -q '^0\.8\.19'; then
  echo "solc 0.8.19 already installed: $dir/node_modules/.bin/solcjs"
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed to install solc (Debian: apt-get install nodejs npm)" >&2; exit 1; }
mkdir -p "$dir"
npm install --silent --no-audit --no-fund --prefix "$dir" solc@0.8.19 >/dev/null
"$dir/node_modules/.bin/solcjs" --version
echo "installed solc 0.8.19: $dir/node_modules/.bin/solcjs"
