#!/usr/bin/env bash
# The SDK interop suite (README.md): Microsoft's unmodified Python and Node SDKs against
# `iot serve` on 127.0.0.1:8883 and :443, then the group-identity check (a Python SDK device
# and iot-device derive the same identity from one group). The servers run one after the
# other; both need ports the SDKs fix, so this stops with a clear message if one is taken.
#
# Needs: the `iot` binary (IOT, default target/debug/iot), a venv with requirements.txt
# (PYTHON, default interop/.venv/bin/python), `npm ci` done in interop/node.
# Exit 0 only if everything passed; 1 on a failed check; 2 if the suite could not run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
IOT="${IOT:-$root/target/debug/iot}"
PYTHON="${PYTHON:-$here/.venv/bin/python}"

die() { echo "interop: $*" >&2; exit 2; }
[ -x "$IOT" ] || die "no iot binary at $IOT (cargo build -p iot-cli, or set IOT)"
"$PYTHON" -c 'import azure.iot.device, azure.iot.hub' 2>/dev/null ||
  die "$PYTHON cannot import azure-iot-device and azure-iot-hub (python3 -m venv interop/.venv && interop/.venv/bin/pip install -r interop/requirements.txt, or set PYTHON)"
[ -d "$here/node/node_modules/azure-iot-provisioning-service" ] || die "no Node SDKs in $here/node/node_modules (cd interop/node && npm ci)"
command -v node >/dev/null || die "node is not on PATH"

status=0
echo "== SDK workflow suite"
# The suite bounds every SDK call and its own flows (120 s); this outer bound only catches a
# hung interpreter, and the suite stops its server on SIGTERM.
timeout 240 "$PYTHON" "$here/suite.py" --iot "$IOT" ${INTEROP_REPORT:+--json "$INTEROP_REPORT"} || status=$?
[ "$status" = 2 ] && exit 2

echo
echo "== group identity: Python SDK device and iot-device from one symmetric-key group"
IOT="$IOT" PYTHON="$PYTHON" timeout 240 bash "$here/group_identity.sh" || { [ "$status" != 0 ] || status=1; }

echo
if [ "$status" = 0 ]; then echo "interop: all passed"; else echo "interop: FAILED" >&2; fi
exit "$status"
