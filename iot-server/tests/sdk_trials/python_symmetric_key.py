"""Trial: unmodified azure-iot-device 2.14.0 against iot serve on an ephemeral port.
paho's connect() is wrapped to swap 8883 for the server's port (as capture.py does)."""
import json, sys, time
import paho.mqtt.client as paho
PORT = int(sys.argv[1]); ca = open(sys.argv[2]).read(); key = sys.argv[3]
orig = paho.Client.connect
def connect(self, host, port=1883, *a, **kw):
    return orig(self, host, PORT if port == 8883 else port, *a, **kw)
paho.Client.connect = connect
from azure.iot.device import ProvisioningDeviceClient, IoTHubDeviceClient, Message
p = ProvisioningDeviceClient.create_from_symmetric_key(
    provisioning_host="localhost", registration_id="sensor-001", id_scope="0ne00000A0A",
    symmetric_key=key, server_verification_cert=ca)
r = p.register()
print("register:", r.status, r.registration_state.assigned_hub, r.registration_state.device_id, r.registration_state.sub_status)
d = IoTHubDeviceClient.create_from_symmetric_key(
    symmetric_key=key, hostname=r.registration_state.assigned_hub,
    device_id=r.registration_state.device_id, gateway_hostname="localhost",
    server_verification_cert=ca, connection_retry=False)
d.connect()
for i in range(3):
    m = Message(json.dumps({"temperature": 20 + i})); m.content_type = "application/json"; m.content_encoding = "utf-8"
    m.custom_properties["seq"] = str(i)
    d.send_message(m)
print("sent 3")
t = d.get_twin(); print("twin:", json.dumps(t))
d.patch_twin_reported_properties({"firmware": "1.2.3"})
print("twin after patch:", json.dumps(d.get_twin()["reported"]))
d.shutdown()
# A wrong key: the hub refuses with CONNACK 5.
bad = IoTHubDeviceClient.create_from_symmetric_key(
    symmetric_key="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", hostname=r.registration_state.assigned_hub,
    device_id="sensor-001", gateway_hostname="localhost", server_verification_cert=ca, connection_retry=False)
try:
    bad.connect(); print("UNEXPECTED: bad key connected")
except Exception as e:
    print("bad key refused:", type(e).__name__, e)
bad.shutdown()
