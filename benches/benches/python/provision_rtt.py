"""Python side of benches/benches/device_provision.rs: Microsoft's unmodified
azure-iot-device 2.14.0 ProvisioningDeviceClient registering devices of one symmetric-key
enrollment group against a running iot-server on localhost:8883 (the SDK's fixed port).

Usage: python provision_rtt.py CA_PEM ID_SCOPE GROUP_KEY PREFIX COUNT CONCURRENCY
Registers COUNT devices one after another (PREFIX-s-N), timing each create+register call, then
CONCURRENCY devices at once in threads (PREFIX-c-N). Prints one JSON object:
{"sequential": [seconds...], "concurrent": {"devices": n, "seconds": s, "assigned": k}}.
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time

from azure.iot.device import ProvisioningDeviceClient

ca = open(sys.argv[1]).read()
scope, group_key, prefix = sys.argv[2], sys.argv[3], sys.argv[4]
count, concurrency = int(sys.argv[5]), int(sys.argv[6])


def register(registration_id):
    key = base64.b64encode(hmac.new(base64.b64decode(group_key), registration_id.encode(),
                                    hashlib.sha256).digest()).decode()
    client = ProvisioningDeviceClient.create_from_symmetric_key(
        provisioning_host="localhost", registration_id=registration_id, id_scope=scope,
        symmetric_key=key, server_verification_cert=ca)
    return client.register().status


sequential = []
for i in range(count):
    start = time.perf_counter()
    status = register(f"{prefix}-s-{i}")
    sequential.append(time.perf_counter() - start)
    if status != "assigned":
        sys.exit(f"{prefix}-s-{i}: {status}")

results = []
threads = [threading.Thread(target=lambda i=i: results.append(register(f"{prefix}-c-{i}")))
           for i in range(concurrency)]
start = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
print(json.dumps({"sequential": sequential, "concurrent": {
    "devices": concurrency, "seconds": elapsed, "assigned": results.count("assigned")}}))
