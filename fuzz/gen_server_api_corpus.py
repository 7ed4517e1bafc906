#!/usr/bin/env python3
"""Writes the seed corpora of the server_api_route and server_api_decide fuzz targets from the
HTTPS requests recorded from Microsoft's unmodified SDKs (Python azure-iot-hub 2.7.0, Node
azure-iot-provisioning-service 1.11.2 and azure-iot-provisioning-device-http 1.9.1):
iot-server/tests/data/capture/service-and-device-https.json (a copy of the project's
shared/reference/captures recording, embedding.md §4). A few hand-written requests cover
telemetry, WebSocket and refusals.

Run from the repository root: python3 fuzz/gen_server_api_corpus.py
"""
import base64
import hashlib
import hmac
import json
import os
from urllib.parse import quote, unquote

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
CAPTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "iot-server", "tests",
                       "data", "capture", "service-and-device-https.json")


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, name), "wb") as f:
        f.write(data)


capture = json.load(open(CAPTURE))
requests = []
for family in ("registry_manager", "dps_service", "dps_device_https"):
    for i, r in enumerate(capture[family]):
        body = b"" if r["body"] is None else json.dumps(r["body"]).encode()
        requests.append((f"{family}_{i}_{r['method'].lower()}", r["method"], r["path"], r["headers"], body))

requests += [
    ("telemetry_post", "POST", "/devices/dev-sas/messages/events",
     {"Host": "acme-test.azure-devices.net", "iothub-messageid": "m-1", "iothub-app-k": "v&w",
      "Content-Type": "text/plain"}, b"hello"),
    ("module_telemetry", "POST", "/devices/dev-sas/modules/m%2D1/messages/events",
     {"Host": "acme-test.azure-devices.net"}, b"{}"),
    ("websocket_path", "GET", "/$iothub/websocket", {"Host": "localhost"}, b""),
    ("if_match_weak", "DELETE", "/enrollmentGroups/g1",
     {"Host": "acme-dps.azure-devices-provisioning.net", "If-Match": 'W/"abc"'}, b""),
    ("no_token_put", "PUT", "/devices/x", {"Host": "acme-test.azure-devices.net"},
     b'{"deviceId":"x","authentication":{"type":"sas"}}'),
]



def hub_token(skn, key=b"k" * 32, sr="acme-test.azure-devices.net", se="1796177054"):
    """A token of the fuzz realm's hub (fuzz/logic/server_api_decide.rs: iothubowner and
    registryRead both have the key 32 x `k`), signed here with stdlib hmac."""
    mac = hmac.new(key, f"{sr}\n{se}".encode(), hashlib.sha256).digest()
    sig = quote(base64.b64encode(mac).decode(), safe="")
    return f"SharedAccessSignature sr={sr}&sig={sig}&se={se}&skn={skn}"


OWNER = hub_token("iothubowner")
OWNER_SIG = OWNER.split("sig=")[1].split("&")[0]
requests += [
    # Issue 15 (fuzz/mutation_check.py M41): the caller's signature, percent-decoded once, as
    # a device ID of the path; the report must redact the decoded form too.
    ("regression_decoded_signature_in_path", "GET", "/devices/" + unquote(OWNER_SIG),
     {"Host": "acme-test.azure-devices.net", "Authorization": OWNER}, b""),
    # Issue 15 (M42): a valid token of policy registryRead for a registry write: 403, whose
    # body names no policy.
    ("forbidden_registry_write", "PUT", "/devices/x",
     {"Host": "acme-test.azure-devices.net", "Authorization": hub_token("registryRead")},
     b'{"deviceId":"x","authentication":{"type":"sas"}}'),
]

for name, method, path, headers, body in requests:
    lines = "".join(f"{k}: {v}\n" for k, v in headers.items())
    write("server_api_route", name, f"{method}\n{path}\n{lines}".encode())
    fields = [method, path, headers.get("Host", ""), headers.get("Authorization", ""),
              headers.get("If-Match", "")]
    write("server_api_decide", name, b"\0".join(f.encode() for f in fields) + b"\0" + body)
