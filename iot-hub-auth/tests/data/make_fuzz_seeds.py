#!/usr/bin/env python3
"""Writes the seed corpora of the iot-hub-auth fuzz targets (fuzz/corpus/hub_*).

Independent of our Rust code: tokens are signed with Python's stdlib `hmac` following the
reference (azure-iot-protocol.md §1.2: HMAC-SHA256 over `sr` + LF + `se`, key base64-decoded,
`sr` and `sig` percent-encoded like the python SDK's `quote(safe="")`). Certificates are the
copies of iot-x509's OpenSSL/cryptography fixtures in examples/certs (stable: the iot-x509
generator makes new keys on each run).

    python3 iot-hub-auth/tests/data/make_fuzz_seeds.py
"""
import base64
import hashlib
import hmac
import os
import ssl
from urllib.parse import quote

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
HOST = "contoso.azure-devices.net"
K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
K2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
P1 = "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8="
NOW = 1780272000


def token(key, resource, expiry, skn=None):
    sr = quote(resource, safe="")
    mac = hmac.new(base64.b64decode(key), f"{sr}\n{expiry}".encode(), hashlib.sha256).digest()
    text = f"SharedAccessSignature sr={sr}&sig={quote(base64.b64encode(mac).decode(), safe='')}&se={expiry}"
    return text + (f"&skn={skn}" if skn else "")


def der(name):
    pem = open(os.path.join(ROOT, "examples", "certs", name)).read()
    return ssl.PEM_cert_to_DER_cert(pem)


def user(client):
    return f"{HOST}/{client}/?api-version=2021-04-12"


def write(target, name, data):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def request(transport, client="", username="", password="", device="", module="", now=NOW, cert=b""):
    head = "\0".join([transport, client, username, password, device, module, str(now)]).encode()
    return head + b"\0" + cert


exp = NOW + 3600
dev = token(K1, f"{HOST}/devices/dev1", exp)
seeds = {
    "mqtt_device_key": request("mqtt", "dev1", user("dev1"), dev),
    "mqtt_ws_secondary_key": request("mqtt-ws", "dev1", user("dev1"), token(K2, f"{HOST}/devices/dev1", exp)),
    "mqtt_module_key": request("mqtt", "dev1/mod1", user("dev1/mod1"), token(K2, f"{HOST}/devices/dev1/modules/mod1", exp)),
    "amqp_sasl_device": request("amqp", username="dev1@sas.contoso", password=dev),
    "amqp_sasl_policy": request("amqp", username="device@sas.root.contoso", password=token(P1, f"{HOST}/devices", exp, "device"), device="dev1"),
    "https_device": request("https", password=dev, device="dev1"),
    "mqtt_policy_token": request("mqtt", "dev1", user("dev1"), token(P1, HOST, exp, "device")),
    "service_token": request("https", password=token(P1, HOST, exp, "service"), device="dev1"),
    "expired": request("mqtt", "dev1", user("dev1"), token(K1, f"{HOST}/devices/dev1", NOW - 1000)),
    "wrong_host": request("mqtt", "dev1", f"fabrikam.azure-devices.net/dev1/?api-version=2021-04-12", dev),
    "client_id_mismatch": request("mqtt", "dev2", user("dev1"), dev),
    "disabled": request("mqtt", "off", user("off"), token(K1, f"{HOST}/devices/off", exp)),
    "self_signed_cert": request("mqtt", "self1", user("self1"), cert=der("device-self-signed.pem")),
    "ca_cert_unknown_issuer": request("amqp", device="ca1", cert=der("device-ec.pem")),
    "ca_over_websockets": request("mqtt-ws", "ca1", user("ca1"), cert=der("device-ec.pem")),
    "no_credential": request("mqtt", "dev1", user("dev1")),
}
for name, data in seeds.items():
    write("hub_authorize", name, data)

usernames = {
    "sdk_for_c_device": "myiothub.azure-devices.net/my_device/?api-version=2020-09-30&DeviceClientType=azsdk-c%2F1.0.0",
    "sdk_for_c_model": "my_device\nmyiothub.azure-devices.net/my_device/?api-version=2020-09-30&DeviceClientType=azsdk-c%2F1.0.0&model-id=dtmi%3AYOUR_COMPANY_NAME_HERE%3Asample_device%3B1",
    "sdk_for_c_module": "my_device/my_module_id\nmyiothub.azure-devices.net/my_device/my_module_id/?api-version=2020-09-30&DeviceClientType=azrtos",
    "question_mark_module": "d/?m\nh.net/d/?m/?api-version=1",
    "edge_auth_chain": "leaf\nhub.azure-devices.net/leaf/?api-version=2020-09-30&auth-chain=leaf%3Bedge",
    "no_query": "h.net/d",
    "duplicate_key": "h.net/d/?api-version=1&api-version=2",
    "sasl_device": "dev@1@sas.myhub",
    "sasl_policy": "iothubowner@sas.root.myhub",
    "special_ids": "a-b.c+d%e_f#g*h?i!j(k)l,m:n=o@p$q'r;s\nh.net/a-b.c+d%e_f#g*h?i!j(k)l,m:n=o@p$q'r;s/?api-version=1",
}
for name, data in usernames.items():
    write("hub_parse_mqtt_username", name, data)
