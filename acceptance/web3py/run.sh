#!/usr/bin/env bash
# Installs the pinned web3.py into a scratch virtualenv, compiles Probe.sol
# with the solc-js version pinned in ../viem/package.json (through
# ../viem/compile.mjs, so both clients deploy the same bytecode and no
# compiled artifact is committed to go stale), and runs the acceptance test
# against GONT_RPC (default http://127.0.0.1:8545) and GONT_WS (default: the
# same host and port, ws://). Needs python3 (or PYTHON) with venv, node and npm.
set -euo pipefail
WEB3_VERSION=7.16.0
here="$(cd "$(dirname "$0")" && pwd)"
viem="$here/../viem"
# GONT_ACCEPTANCE_DIR keeps the install between runs; a scratch folder goes.
if [ -n "${GONT_ACCEPTANCE_DIR:-}" ]; then
  work="$GONT_ACCEPTANCE_DIR"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "web3==$WEB3_VERSION"

# solc-js alone (not viem), at the viem client's pin.
solc_version="$(node -p "require('$viem/package.json').dependencies.solc")"
mkdir -p "$work/solc"
cp "$viem/compile.mjs" "$viem/Probe.sol" "$work/solc/"
(cd "$work/solc" && npm install --silent --no-audit --no-fund --no-save "solc@$solc_version" >/dev/null 2>&1)
node "$work/solc/compile.mjs" > "$work/Probe.json"

cp "$here/test.py" "$work/"
PROBE_ARTIFACT="$work/Probe.json" "$work/venv/bin/python" "$work/test.py"
