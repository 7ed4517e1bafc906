"""Drives Microsoft's unmodified Python azure-iot-device 2.14.0 as a device of a symmetric-key
enrollment group against a running `iot serve`: the device key is derived from the group key
with the Python standard library (HMAC-SHA256 of the registration ID, base64; the formula of
Microsoft's "How to provision devices using symmetric key enrollment groups"), the
ProvisioningDeviceClient registers over MQTT/TLS on 8883 (the SDK's fixed port), and the
IoTHubDeviceClient sends one message to the assigned hub.

Usage: python group_device.py SUMMARY_JSON GROUP_KEY_B64 REGISTRATION_ID
Prints one JSON object {registrationId, derivedKey, status, assignedHub, deviceId, substatus,
telemetry}; exit 1 when the registration or the send fails.
"""
import base64
import hashlib
import hmac
import json
import sys

from azure.iot.device import IoTHubDeviceClient, Message, ProvisioningDeviceClient

summary = json.loads(open(sys.argv[1]).read().splitlines()[0])
ca = open(summary["caPath"]).read()
group_key, registration_id = sys.argv[2], sys.argv[3]
derived = base64.b64encode(
    hmac.new(base64.b64decode(group_key), registration_id.encode("utf-8"), hashlib.sha256).digest()
).decode()

client = ProvisioningDeviceClient.create_from_symmetric_key(
    provisioning_host="localhost", registration_id=registration_id,
    id_scope=summary["dps"]["idScope"], symmetric_key=derived, server_verification_cert=ca)
result = client.register()
state = result.registration_state
out = {
    "registrationId": registration_id,
    "derivedKey": derived,
    "status": result.status,
    "assignedHub": state.assigned_hub if state else None,
    "deviceId": state.device_id if state else None,
    "substatus": state.sub_status if state else None,
}
if result.status == "assigned":
    hub = IoTHubDeviceClient.create_from_symmetric_key(
        symmetric_key=derived, hostname=state.assigned_hub, device_id=state.device_id,
        gateway_hostname="localhost", server_verification_cert=ca, connection_retry=False)
    try:
        hub.connect()
        hub.send_message(Message(json.dumps({"from": "python", "device": state.device_id})))
        out["telemetry"] = "sent"
    except Exception as e:  # a CONNACK 5 surfaces as an auth error
        out["telemetry"] = type(e).__name__
    finally:
        hub.shutdown()
print(json.dumps(out))
sys.exit(0 if out.get("telemetry") == "sent" else 1)
