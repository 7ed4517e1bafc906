"""Drives Microsoft's unmodified Python azure-iot-device 2.14.0 over MQTT-over-WebSockets
(port 443, `/$iothub/websocket`) against a running `iot serve`: ProvisioningDeviceClient
registers with a symmetric key, then IoTHubDeviceClient connects to the assigned hub and sends
telemetry. With --x509 DEVICE_ID CERT KEY it connects a `certificateAuthority` device of the
first hub and expects the hub to refuse an X.509 CA device over WebSockets (hub setting x509CaOverWebSockets, default false)
while the same device over MQTT/TLS (8883) is allowed.

Usage: python websocket_device.py SUMMARY_JSON REGISTRATION_ID KEY_B64 [--x509 DEVICE_ID CERT KEY]
Both clients dial `localhost` (gateway_hostname / provisioning_host) and trust the server's
local CA through server_verification_cert. Prints one JSON object; exit 1 on a failed step.
"""
import json
import sys
import uuid

from azure.iot.device import IoTHubDeviceClient, Message, ProvisioningDeviceClient, X509

summary = json.loads(open(sys.argv[1]).read().splitlines()[0])
ca = open(summary["caPath"]).read()
scope = summary["dps"]["idScope"]
out = {"failures": []}


def expect(name, ok):
    if not ok:
        out["failures"].append(name)


def provision(registration_id, **credential):
    if "x509" in credential:
        client = ProvisioningDeviceClient.create_from_x509_certificate(
            provisioning_host="localhost", registration_id=registration_id, id_scope=scope,
            x509=credential["x509"], server_verification_cert=ca, websockets=True)
    else:
        client = ProvisioningDeviceClient.create_from_symmetric_key(
            provisioning_host="localhost", registration_id=registration_id, id_scope=scope,
            symmetric_key=credential["key"], server_verification_cert=ca, websockets=True)
    result = client.register()
    return result.status, result.registration_state


def send(hub, device_id, websockets, **credential):
    common = dict(hostname=hub, device_id=device_id, gateway_hostname="localhost",
                  server_verification_cert=ca, websockets=websockets,
                  connection_retry=False)
    if "x509" in credential:
        client = IoTHubDeviceClient.create_from_x509_certificate(x509=credential["x509"], **common)
    else:
        client = IoTHubDeviceClient.create_from_symmetric_key(symmetric_key=credential["key"], **common)
    try:
        client.connect()
        message = Message(json.dumps({"from": device_id, "ws": websockets}))
        message.message_id = str(uuid.uuid4())
        message.content_type = "application/json"
        message.custom_properties["transport"] = "ws" if websockets else "mqtt"
        client.send_message(message)
        return "sent"
    except Exception as e:  # the SDK reports a CONNACK 5 as an auth error
        return type(e).__name__
    finally:
        try:
            client.shutdown()
        except Exception:
            pass


registration_id, key = sys.argv[2], sys.argv[3]
status, state = provision(registration_id, key=key)
out["register_ws"] = [status, state.assigned_hub if state else None, state.device_id if state else None]
expect("register_ws", status == "assigned")
if status == "assigned":
    out["telemetry_ws"] = send(state.assigned_hub, state.device_id, True, key=key)
    expect("telemetry_ws", out["telemetry_ws"] == "sent")

if "--x509" in sys.argv:
    i = sys.argv.index("--x509")
    device_id, cert, private = sys.argv[i + 1], sys.argv[i + 2], sys.argv[i + 3]
    x509 = X509(cert_file=cert, key_file=private)
    hub = summary["hubs"][0]["hostName"]
    out["x509_ca_ws"] = send(hub, device_id, True, x509=x509)
    expect("x509_ca_ws_refused", out["x509_ca_ws"] != "sent")
    out["x509_ca_mqtt"] = send(hub, device_id, False, x509=x509)
    expect("x509_ca_mqtt_allowed", out["x509_ca_mqtt"] == "sent")

print(json.dumps(out))
sys.exit(1 if out["failures"] else 0)
