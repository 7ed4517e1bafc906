import sys
import paho.mqtt.client as paho
PORT = int(sys.argv[1]); ca = open(sys.argv[2]).read()
orig = paho.Client.connect
def connect(self, host, port=1883, *a, **kw):
    return orig(self, host, PORT if port == 8883 else port, *a, **kw)
paho.Client.connect = connect
from azure.iot.device import ProvisioningDeviceClient, IoTHubDeviceClient, Message, X509
x509 = X509(cert_file="dev.chain.pem", key_file="dev.key.pem")
p = ProvisioningDeviceClient.create_from_x509_certificate(
    provisioning_host="localhost", registration_id="x509-ca-dev-1", id_scope="0ne00000B0B",
    x509=x509, server_verification_cert=ca)
r = p.register()
print("register:", r.status, r.registration_state.assigned_hub, r.registration_state.device_id)
d = IoTHubDeviceClient.create_from_x509_certificate(
    x509=x509, hostname=r.registration_state.assigned_hub, device_id=r.registration_state.device_id,
    gateway_hostname="localhost", server_verification_cert=ca, connection_retry=False)
d.connect(); d.send_message(Message("x509 hello")); print("sent"); d.shutdown()
