#!/usr/bin/env bash
# Installs the pinned client libraries (package.json: viem, solc-js) into a
# scratch folder and runs the acceptance test against GONT_RPC (default
# http://127.0.0.1:8545) and GONT_WS (default: the same host and port, ws://).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# GONT_ACCEPTANCE_DIR keeps the install between runs; a scratch folder goes.
if [ -n "${GONT_ACCEPTANCE_DIR:-}" ]; then
  work="$GONT_ACCEPTANCE_DIR"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
cp "$here/package.json" "$here/test.mjs" "$here/compile.mjs" "$here/Probe.sol" "$work/"
(cd "$work" && npm install --silent --no-audit --no-fund >/dev/null 2>&1)
node "$work/test.mjs"
