#!/usr/bin/env bash
# Runs the HTTPS / WebSocket interop drivers with Microsoft's unmodified SDKs against a fresh
# `iot serve` on 127.0.0.1:8883 and :443 (the SDKs' fixed ports; only one process may hold
# 443 at a time). Needs: the `iot` binary (IOT, default target/debug/iot), a Python venv
# with azure-iot-device 2.14.0 and azure-iot-hub 2.7.0 (PYTHON, default
# /work/venv-sdk/bin/python), the pinned Node SDKs (NODE_MODULES, default
# /work/stage/interop/node/node_modules). Exit 0 only if every driver passed and the
# WebSocket device's telemetry is in `iot serve events`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
IOT="${IOT:-$root/target/debug/iot}"
PYTHON="${PYTHON:-/work/venv-sdk/bin/python}"
NODE_MODULES="${NODE_MODULES:-/work/stage/interop/node/node_modules}"
state="$(mktemp -d)"
out="$state/serve.out"
certs="$root/iot-x509/tests/data/openssl"

for port in 443 8883; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "interop: port $port on 127.0.0.1 is taken by another process; the SDKs' ports are fixed, stop it first" >&2
    exit 2
  fi
done

"$IOT" serve --state "$state" --import "$root/examples/hub.json" --import "$root/examples/dps.json" \
  --mqtt-port 8883 --https-port 443 --json >"$out" 2>"$state/serve.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$state"' EXIT
for _ in $(seq 1 100); do
  [ -s "$out" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$state/serve.err" >&2; exit 1; }
  sleep 0.1
done
head -1 "$out" >"$state/summary.json"

fail=0
echo "== Python azure-iot-hub IoTHubRegistryManager (HTTPS)"
"$PYTHON" "$here/registry_manager.py" "$state/summary.json" 2>/dev/null || fail=1
echo "== Node azure-iot-provisioning-service + provisioning-device-http (HTTPS)"
NODE_EXTRA_CA_CERTS="$(sed -n 's/.*"caPath":"\([^"]*\)".*/\1/p' "$state/summary.json")" \
  NODE_PATH="$NODE_MODULES" node "$here/dps_https.js" "$state/summary.json" || fail=1
echo "== Python azure-iot-device over WebSockets (DPS + telemetry, X.509 CA over WS refused)"
"$PYTHON" "$here/websocket_device.py" "$state/summary.json" sensor-001 \
  EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8= \
  --x509 device-ec "$certs/device-ec.pem" "$certs/device-ec.key.pem" 2>/dev/null || fail=1

kill "$server"; wait "$server" 2>/dev/null || true
echo "== iot serve events"
events="$("$IOT" serve events --state "$state" --json)"
for device in sensor-001 device-ec; do
  if grep -q "\"deviceId\":\"$device\"" <<<"$events"; then
    echo "telemetry of $device stored"
  else
    echo "telemetry of $device missing" >&2
    fail=1
  fi
done
[ "$fail" = 0 ] && echo "interop: all passed" || echo "interop: FAILED" >&2
exit "$fail"
