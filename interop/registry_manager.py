"""Drives Microsoft's unmodified Python azure-iot-hub 2.7.0 IoTHubRegistryManager against a
running `iot serve` (HTTPS on 127.0.0.1:443, the SDK's fixed port).

Usage: python registry_manager.py SUMMARY_JSON
  SUMMARY_JSON: the first line `iot serve --json` prints (CA path, hub connection string).

Hub host names resolve to 127.0.0.1 inside this process only; REQUESTS_CA_BUNDLE points at
the server's local CA. Prints one JSON object with what each call returned; exits 1 if a step
did not behave as IoT Hub does.
"""
import base64
import json
import os
import socket
import sys

summary = json.loads(open(sys.argv[1]).read().splitlines()[0])
real_getaddrinfo = socket.getaddrinfo


def loopback(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith((".azure-devices.net", ".azure-devices-provisioning.net")):
        host = "127.0.0.1"
    return real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = loopback
os.environ["REQUESTS_CA_BUNDLE"] = summary["caPath"]

from azure.iot.hub import IoTHubRegistryManager  # noqa: E402
from msrest.exceptions import HttpOperationError  # noqa: E402

owner = summary["hubs"][0]["ownerConnectionString"]
rm = IoTHubRegistryManager.from_connection_string(owner)
key = base64.b64encode(b"k" * 32).decode()
out = {}
failures = []


def expect(name, ok):
    if not ok:
        failures.append(name)


def status_of(call):
    try:
        call()
        return 200
    except HttpOperationError as e:
        return e.response.status_code


for device in ("rm-sas", "rm-thumb", "rm-ca"):
    try:
        rm.delete_device(device)
    except HttpOperationError:
        pass

d = rm.create_device_with_sas("rm-sas", key, key, "enabled")
out["create_sas"] = [d.device_id, d.authentication.type, d.status, d.etag]
expect("create_sas", d.authentication.type == "sas" and d.authentication.symmetric_key.primary_key == key)

thumb1, thumb2 = "AB" * 20, "CD" * 20
d = rm.create_device_with_x509("rm-thumb", thumb1, thumb2, "enabled")
out["create_x509"] = [d.authentication.type, d.authentication.x509_thumbprint.primary_thumbprint]
expect("create_x509", d.authentication.type == "selfSigned"
       and d.authentication.x509_thumbprint.primary_thumbprint.upper() == thumb1)

d = rm.create_device_with_certificate_authority("rm-ca", "enabled")
out["create_ca"] = d.authentication.type
expect("create_ca", d.authentication.type == "certificateAuthority")

out["create_again"] = status_of(lambda: rm.create_device_with_sas("rm-sas", key, key, "enabled"))
expect("create_again", out["create_again"] == 409)

d = rm.get_device("rm-sas")
out["get"] = [d.device_id, d.status, d.etag]
expect("get", d.device_id == "rm-sas" and d.status == "enabled" and d.etag)
etag = d.etag

d = rm.update_device_with_sas("rm-sas", "*", key, key, "disabled")
out["update"] = [d.status, d.etag]
expect("update", d.status == "disabled" and d.etag != etag)
out["get_after_update"] = rm.get_device("rm-sas").status
expect("get_after_update", out["get_after_update"] == "disabled")

out["update_stale_etag"] = status_of(lambda: rm.update_device_with_sas("rm-sas", etag, key, key, "enabled"))
expect("update_stale_etag", out["update_stale_etag"] == 412)

m = rm.create_module_with_sas("rm-sas", "mod1", "", key, key)
out["module"] = [m.device_id, m.module_id, m.authentication.type]
expect("module", m.module_id == "mod1" and m.device_id == "rm-sas")
m = rm.get_module("rm-sas", "mod1")
out["get_module"] = m.module_id
expect("get_module", m.module_id == "mod1")

rm.delete_device("rm-sas")
out["delete"] = True
out["get_deleted"] = status_of(lambda: rm.get_device("rm-sas"))
expect("get_deleted", out["get_deleted"] == 404)
out["get_deleted_module"] = status_of(lambda: rm.get_module("rm-sas", "mod1"))
expect("get_deleted_module", out["get_deleted_module"] == 404)

wrong = base64.b64encode(b"x" * 32).decode()
bad = IoTHubRegistryManager.from_connection_string(";".join(
    "SharedAccessKey=" + wrong if part.startswith("SharedAccessKey=") else part for part in owner.split(";")))
out["wrong_key"] = status_of(lambda: bad.get_device("rm-ca"))
expect("wrong_key", out["wrong_key"] == 401)

out["failures"] = failures
print(json.dumps(out))
sys.exit(1 if failures else 0)
