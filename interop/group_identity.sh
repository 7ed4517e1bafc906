#!/usr/bin/env bash
# A Python SDK device (azure-iot-device 2.14.0, unmodified) and an iot-device device register
# through the same symmetric-key enrollment group of a fresh `iot serve` and must get the same
# derived identity: for each registration ID the key Python derives with its standard library
# equals `iot dps derive-key`, both registrations land on the same hub as the same device ID,
# and the hub identity DPS created for one side admits the other side's key.
#
#   A (python-first): Python registers and sends; then `iot device provision --group-key`
#     registers the same ID, and `iot device send` connects as that device with Python's key.
#   B (iot-first): `iot device run --group-key` registers and sends; then Python registers the
#     same ID and sends with its own derived key.
#
# The Python SDK's MQTT port is fixed at 8883: `iot serve` binds it (root here), HTTPS takes a
# free port. Needs the `iot` binary (IOT, default target/debug/iot) and a venv with
# azure-iot-device 2.14.0 (PYTHON, default interop/.venv/bin/python; run.sh passes both).
# Every client call is bounded (60 s). Exit 0 only if all holds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
IOT="${IOT:-$root/target/debug/iot}"
PYTHON="${PYTHON:-$here/.venv/bin/python}"
bounded() { timeout 60 "$@"; }
GROUP_KEY="$(sed -n '/"enrollmentGroupId": "sensors"/,/secondaryKey/s/.*"primaryKey": "\([^"]*\)".*/\1/p' "$root/examples/dps.json")"
state="$(mktemp -d)"
out="$state/serve.out"

if (exec 3<>"/dev/tcp/127.0.0.1/8883") 2>/dev/null; then
  echo "group_identity: port 8883 on 127.0.0.1 is taken; the Python SDK's port is fixed, stop it first" >&2
  exit 2
fi
"$IOT" serve --state "$state/serve" --import "$root/examples/hub.json" --import "$root/examples/dps.json" \
  --mqtt-port 8883 --https-port 0 --json >"$out" 2>"$state/serve.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$state"' EXIT
for _ in $(seq 1 100); do
  [ -s "$out" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$state/serve.err" >&2; exit 1; }
  sleep 0.1
done
head -1 "$out" >"$state/summary.json"
ca="$(sed -n 's/.*"caPath":"\([^"]*\)".*/\1/p' "$state/summary.json")"
scope="$(sed -n 's/.*"idScope":"\([^"]*\)".*/\1/p' "$state/summary.json")"
dps=(--id-scope "$scope" --group-key "$GROUP_KEY" --endpoint localhost --port 8883 --ca "$ca")
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" | head -1; }
fail=0
check() { if [ "$2" = "$3" ]; then echo "  ok: $1 ($2)"; else echo "  MISMATCH: $1: '$2' vs '$3'" >&2; fail=1; fi; }
# Keys are compared, never printed.
check_secret() { if [ -n "$2" ] && [ "$2" = "$3" ]; then echo "  ok: $1 (equal)"; else echo "  MISMATCH: $1 (values not shown)" >&2; fail=1; fi; }
redact() { sed 's/"derivedKey": *"[^"]*"/"derivedKey": "<redacted>"/'; }

echo "== A: Python first, then iot-device (registration py-grp-01)"
py="$(bounded "$PYTHON" "$here/group_device.py" "$state/summary.json" "$GROUP_KEY" py-grp-01 2>/dev/null)" || fail=1
echo "  python: $(redact <<<"$py")"
rs="$(bounded "$IOT" device provision "${dps[@]}" --registration-id py-grp-01 --json)" || fail=1
echo "  iot-device: $rs"
check_secret "derived key" "$(field derivedKey <<<"$py")" "$("$IOT" dps derive-key --group-key "$GROUP_KEY" --registration-id py-grp-01)"
check "assigned hub" "$(field assignedHub <<<"$py")" "$(field assignedHub <<<"$rs")"
check "device id" "$(field deviceId <<<"$py")" "$(field deviceId <<<"$rs")"
bounded "$IOT" device send --hub "$(field assignedHub <<<"$rs")" --device-id "$(field deviceId <<<"$rs")" \
  --symmetric-key "$(field derivedKey <<<"$py")" --gateway localhost --port 8883 --ca "$ca" \
  --message '{"from":"iot-device"}' --json | sed 's/^/  iot device send: /' || fail=1

echo "== B: iot-device first, then Python (registration rs-grp-01)"
run="$(bounded "$IOT" device run "${dps[@]}" --registration-id rs-grp-01 --state "$state/rs-grp-01.json" \
  --gateway localhost --interval 1 --count 1 --json)" || fail=1
echo "$run" | tail -2 | sed 's/^/  iot-device: /'
rs_hub="$(field assignedHub <"$state/rs-grp-01.json")"
rs_dev="$(field deviceId <"$state/rs-grp-01.json")"
py="$(bounded "$PYTHON" "$here/group_device.py" "$state/summary.json" "$GROUP_KEY" rs-grp-01 2>/dev/null)" || fail=1
echo "  python: $(redact <<<"$py")"
check_secret "derived key" "$(field derivedKey <<<"$py")" "$("$IOT" dps derive-key --group-key "$GROUP_KEY" --registration-id rs-grp-01)"
check "assigned hub" "$rs_hub" "$(field assignedHub <<<"$py")"
check "device id" "$rs_dev" "$(field deviceId <<<"$py")"

kill "$server"; wait "$server" 2>/dev/null || true
echo "== iot serve events"
events="$("$IOT" serve events --state "$state/serve" --json)"
for device in py-grp-01 rs-grp-01; do
  n="$(grep -c "\"deviceId\":\"$device\"" <<<"$events" || true)"
  check "telemetry messages stored for $device (python + iot-device)" "$n" 2
done
[ "$fail" = 0 ] && echo "group_identity: all passed" || echo "group_identity: FAILED" >&2
exit "$fail"
