"""The SDK interop suite: Microsoft's unmodified Python and Node SDKs run the seed's workflow
against `iot serve` on 127.0.0.1:8883 and :443 (see README.md).

Usage: python suite.py --iot PATH [--json REPORT]
Exit 0 only if every step went as expected, every message the SDKs had acknowledged is found
with `iot serve events`, and the API drivers (registry_manager.py, node/dps_https.js) passed;
1 otherwise; 2 if the suite could not start (a port taken, the server or Node not starting).
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
import scenarios as sc  # noqa: E402
import sdk  # noqa: E402  (points hub host names at 127.0.0.1 in this process)
from harness import PROD_HUB, SDKS, TEST_HUB  # noqa: E402

SCENARIOS = [
    ("sym", "individual enrollment, symmetric key"),
    ("group", "enrollment group, symmetric key (device key derived from the group key)"),
    ("ca", "enrollment group, X.509 CA (the hub shows selfSigned with the leaf's SHA-256 thumbprint)"),
    ("x509", "individual enrollment, X.509 device certificate"),
    ("ws", "X.509 CA over MQTT over WebSockets refused, the same device over MQTT/TLS allowed"),
    ("revoked", "enrollment disabled in DPS: the device keeps hub access until the Registry Manager deletes it"),
]


def devices(material):
    """Per SDK family, one device per scenario; transports spread so that every DPS and hub
    transport each SDK offers is exercised (Python: DPS over MQTT and MQTT-WS; Node: DPS over
    MQTT, MQTT-WS and HTTPS; hubs over MQTT and MQTT-WS)."""
    out = {}
    for sdk in SDKS:
        m = material.sdk[sdk]
        s = m["tag"]
        x509 = lambda made: {"certFile": made["cert"], "keyFile": made["key"]}  # noqa: E731
        derived = group_device_key(m["group"], f"group-{s}-01")
        py = sdk == "python"
        out[sdk] = {
            "sym": sc.Device(sdk, f"sym-{s}-01", {"symmetricKey": m["sym"]}, "mqttws" if py else "http",
                          "mqttws" if py else "mqtt", ("enrollments", f"sym-{s}-01")),
            "group": sc.Device(sdk, f"group-{s}-01", {"symmetricKey": derived}, "mqtt",
                            "mqtt" if py else "mqttws", ("enrollmentGroups", f"sym-group-{s}")),
            "ca": sc.Device(sdk, f"ca-{s}-01", x509(m["ca"]), "mqtt", "mqtt", ("enrollmentGroups", f"ca-group-{s}"),
                         leaf_pem=m["ca"]["pem"]),
            "x509": sc.Device(sdk, f"x509-{s}-01", x509(m["x509"]), "mqttws" if py else "http",
                           "mqttws" if py else "mqtt", ("enrollments", f"x509-{s}-01"), leaf_pem=m["x509"]["pem"]),
            "ca_hub": sc.Device(sdk, f"ca-hub-{s}-01", x509(m["ca_hub"]), "mqtt", "mqtt", None),
            "revoked": sc.Device(sdk, f"revoked-{s}-01", {"symmetricKey": m["revoked"]}, "mqtt" if py else "mqttws",
                              "mqtt", ("enrollments", f"revoked-{s}-01")),
        }
    return out


def group_device_key(group_key, registration_id):
    """The derived device key with the standard library (HMAC-SHA256 of the registration ID under
    the group key, base64: Microsoft's "symmetric key enrollment groups" formula)."""
    return base64.b64encode(hmac.new(base64.b64decode(group_key), registration_id.encode(), hashlib.sha256)
                            .digest()).decode()


def run_flows(ctx, devs, deadline_s):
    results = {}  # (scenario key, sdk) -> steps

    def flow(sdk, key, fn, *args):
        try:
            steps = fn(ctx, *args)
        except Exception as e:  # a driver failure is a failed step, never a crash of the suite
            steps = [{"step": "driver", "sdk": sdk, "device": "", "expected": "the flow runs",
                      "actual": f"{type(e).__name__}: {e}", "ok": False, "notes": []}]
        results.setdefault((key, sdk), []).extend(steps)

    def ca_then_ws(sdk, dev):
        flow(sdk, "ca", sc.move_to_production, dev)
        flow(sdk, "ws", sc.dps_websockets_refused, dev)

    threads = []
    for sdk in SDKS:
        d = devs[sdk]
        jobs = [(flow, sdk, "sym", sc.move_to_production, d["sym"]),
                (flow, sdk, "group", sc.move_to_production, d["group"]),
                (ca_then_ws, sdk, d["ca"]),
                (flow, sdk, "x509", sc.move_to_production, d["x509"]),
                (flow, sdk, "ws", sc.hub_websockets_refused, d["ca_hub"]),
                (flow, sdk, "revoked", sc.revocation, d["revoked"])]
        for fn, *args in jobs:
            t = threading.Thread(target=fn, args=args, daemon=True)
            t.start()
            threads.append(t)
    end = time.monotonic() + deadline_s
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    unfinished = sum(t.is_alive() for t in threads)
    return results, unfinished


def api_drivers(summary_path, ca_path, node_dir, timeout=60):
    """The API breadth drivers (every Registry Manager and DPS service call the SDKs make)."""
    out = []
    for name, cmd, cwd, env in [
        ("Python azure-iot-hub IoTHubRegistryManager (registry_manager.py)",
         [sys.executable, os.path.join(HERE, "registry_manager.py"), summary_path], HERE, {}),
        ("Node azure-iot-provisioning-service + provisioning-device-http (node/dps_https.js)",
         ["node", "dps_https.js", summary_path], node_dir, {"NODE_EXTRA_CA_CERTS": ca_path}),
    ]:
        try:
            p = subprocess.run(cmd, cwd=cwd, env=dict(os.environ, **env), capture_output=True, text=True, timeout=timeout)
            out.append((name, p.returncode == 0, p.stdout.strip()[-1500:] or p.stderr.strip()[-1500:]))
        except subprocess.TimeoutExpired:
            out.append((name, False, f"no result within {timeout} s"))
    return out


def telemetry_check(sent, stored):
    """Every message an SDK had acknowledged is in `iot serve events`, under its hub and device."""
    found = {(e.get("hub"), e.get("deviceId"), (e.get("propertyMap") or {}).get("$.mid")) for e in stored}
    missing = [s for s in sent if (s[0], s[1], s[2]) not in found]
    devices_found = sorted({(s[3], s[1]) for s in sent if (s[0], s[1], s[2]) in found})
    return missing, devices_found


def print_story(results):
    passed = total = 0
    for key, title in SCENARIOS:
        print(f"\n== {title} ==")
        for sdk_name in SDKS:
            for s in results.get((key, sdk_name), []):
                total += 1
                passed += s["ok"]
                print(f"  [{'ok' if s['ok'] else 'UNEXPECTED'}] {sdk_name:6} {s['device']}: {s['step']}")
                print(f"         expected: {s['expected']}")
                print(f"         actual:   {s['actual']}")
                for n in s["notes"]:
                    print(f"         - {n}")
    return passed, total


def print_telemetry(sent, missing, found, expected_devices):
    print("\n== iot serve events ==")
    counts = {}
    for hub, device, _, sdk_name in sent:
        counts[(sdk_name, device)] = counts.get((sdk_name, device), 0) + 1
    for (sdk_name, device), n in sorted(counts.items()):
        print(f"  {sdk_name:6} {device}: {n} acknowledged message(s)")
    without = sorted(expected_devices - set(found))
    if missing or without:
        print(f"  UNEXPECTED: {len(missing)} acknowledged message(s) missing from the store; "
              f"devices without stored telemetry: {without}")
        return False
    print(f"  every acknowledged message ({len(sent)}) of every device ({len(found)}) found")
    return True


def start(args, work, run_id):
    """Material, import files and the server; exits 2 when the suite cannot run."""
    taken = harness.ports_free((8883, 443))
    if taken:
        print(f"interop: port {taken} on 127.0.0.1 is taken by another process; the SDKs' ports are fixed "
              f"(8883 MQTT/TLS, 443 HTTPS and WebSockets), stop it first", file=sys.stderr)
        sys.exit(2)
    try:
        material = harness.Material(args.iot, work, run_id)
        server = harness.Server(args.iot, work, material.import_files())
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        print(f"interop: could not start: {e}", file=sys.stderr)
        sys.exit(2)

    def on_term(signum, frame):  # an outer timeout must not leave the server on 8883/443
        server.stop()
        os._exit(1)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    return material, server


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iot", required=True, help="the iot binary")
    ap.add_argument("--json", help="also write the whole report to this file")
    ap.add_argument("--deadline", type=float, default=120, help="seconds the scenario flows may take")
    args = ap.parse_args()
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="iot-interop-")
    run_id = uuid.uuid4().hex[:12]
    material, server = start(args, work, run_id)
    summary_path = os.path.join(work, "summary.json")
    with open(summary_path, "w") as f:
        json.dump(server.summary, f)
    ca_path = server.summary["caPath"]
    os.environ["REQUESTS_CA_BUNDLE"] = ca_path  # read by requests when the Registry Manager calls
    node_dir = os.path.join(HERE, "node")
    try:
        worker = sdk.NodeWorker(node_dir, ca_path)
    except (sdk.Timeout, OSError) as e:
        print(f"interop: the Node worker could not start: {e}", file=sys.stderr)
        server.stop()
        return 2
    owners = {h["hostName"]: h["ownerConnectionString"] for h in server.summary["hubs"]}
    clients = {"python": sdk.PythonDevice(open(ca_path).read(), harness.ID_SCOPE),
               "node": sdk.NodeDevice(worker, harness.ID_SCOPE)}
    ctx = sc.Context(server, clients, worker, sdk.RegistryManager(owners), run_id)
    print(f"interop: iot serve on 127.0.0.1:8883 and :443 (state {work}); DPS {harness.ID_SCOPE}, "
          f"Test {TEST_HUB}, Production {PROD_HUB}; run {run_id}")
    devs = devices(material)
    results, unfinished = run_flows(ctx, devs, args.deadline)
    apis = api_drivers(summary_path, ca_path, node_dir)
    node_err = worker.close()
    rc = server.stop()
    missing, found = telemetry_check(ctx.sent, server.events())

    passed, total = print_story(results)
    ok = passed == total and total > 0 and not unfinished
    print("\n== API drivers ==")
    for name, good, tail in apis:
        ok &= good
        print(f"  [{'ok' if good else 'UNEXPECTED'}] {name}\n         {tail}")
    ok &= print_telemetry(ctx.sent, missing, found, {(d.sdk, d.id) for per in devs.values() for d in per.values()})
    if unfinished:
        print(f"  UNEXPECTED: {unfinished} flow(s) still running after {args.deadline} s")
    if rc not in (0, None):
        print(f"  note: iot serve exited with {rc}")
    if node_err.strip() and not ok:
        print("node worker stderr (tail):\n" + node_err.strip()[-1500:])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"ok": ok, "runId": run_id, "scenarios": [
                {"name": t, "steps": [s for n in SDKS for s in results.get((k, n), [])]} for k, t in SCENARIOS],
                "apiDrivers": [{"name": n, "ok": g} for n, g, _ in apis],
                "telemetry": {"acknowledged": len(ctx.sent), "missing": len(missing)}}, f, indent=1)
    print(f"\nRESULT: {'every expected decision happened' if ok else 'FAILED'} ({passed}/{total} steps, "
          f"{len(apis)} API drivers, {len(ctx.sent)} messages) in {time.monotonic() - started:.0f} s")
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"state and server log kept in {work}")
    sys.stdout.flush()
    os._exit(0 if ok else 1)  # SDK threads that a failure left behind must not keep the process


if __name__ == "__main__":
    sys.exit(main())
