#!/usr/bin/env bash
# Regenerates ../sdk-vectors.json from Microsoft's own SDKs:
#   python: azure-iot-device (PyPI), pinned in python/requirements.txt
#   node:   azure-iot-common, azure-iot-device, azure-iot-security-symmetric-key (npm),
#           pinned in node/package.json + node/package-lock.json
# Usage (from anywhere): bash iot-sas/tests/data/generate/generate.sh
# Needs python3 (with venv), node and npm, and access to PyPI and the npm registry. The venv and
# node_modules live in a work dir outside the repository (default /tmp/iot-sas-sdk-vectors,
# override with IOT_SAS_VECTORS_WORK) and are reused when present.
# The output is deterministic: a rerun must leave the file byte-identical (`git diff --exit-code`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${IOT_SAS_VECTORS_WORK:-/tmp/iot-sas-sdk-vectors}"
out="$here/../sdk-vectors.json"
mkdir -p "$work"

# Python SDK in its own venv, exact versions.
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
fi
"$work/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/python/requirements.txt"

# Node SDK packages from the lock file, installed outside the repository.
mkdir -p "$work/node"
cp "$here/node/package.json" "$here/node/package-lock.json" "$work/node/"
(cd "$work/node" && npm ci --silent --no-audit --no-fund)

# PYTHONHASHSEED and TZ only guard against accidental nondeterminism; nothing should depend on them.
export PYTHONHASHSEED=0 TZ=UTC
"$work/venv/bin/python" "$here/python/gen.py" "$here/inputs.json" > "$work/python.json"
NODE_PATH="$work/node/node_modules" node "$here/node/gen.js" "$here/inputs.json" > "$work/node.json"
"$work/venv/bin/python" "$here/merge.py" "$here/inputs.json" "$work/python.json" "$work/node.json" "$out"

echo "wrote $out ($(grep -c '"token"' "$out") cases)"
