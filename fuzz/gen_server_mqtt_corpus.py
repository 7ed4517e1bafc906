#!/usr/bin/env python3
"""Writes the seed corpus of the server_mqtt_decode fuzz target: MQTT 3.1.1 packets as the
Azure device SDKs send them (field values from the recordings in
iot-dps-proto/tests/data/capture/python-sdk.json), encoded by hand from the OASIS MQTT 3.1.1
standard §2-3, plus a few malformed ones.

Run from the repository root: python3 fuzz/gen_server_mqtt_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "server_mqtt_decode")


def s(text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(b)) + b


def varint(n):
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


def packet(first, body):
    return bytes([first]) + varint(len(body)) + body


USER = ("0ne00CAPTURE/registrations/capture-device-sym/api-version=2019-03-31"
        "&ClientVersion=azure-iot-device-provisioning-py%2F2.14.0")
TOKEN = ("SharedAccessSignature sr=0ne00CAPTURE%2Fregistrations%2Fcapture-device-sym"
         "&sig=Cqgl2mxDMnxvc9EqikxuPTel6V7mWNak3iEdDnkb3SQ%3D&se=1795869740")
connect = packet(0x10, s("MQTT") + bytes([4, 0xC0]) + struct.pack(">H", 60)
                 + s("capture-device-sym") + s(USER) + s(TOKEN))
connect_x509 = packet(0x10, s("MQTT") + bytes([4, 0x82]) + struct.pack(">H", 180)
                      + s("ca-dev-1") + s("contoso.azure-devices.net/ca-dev-1/?api-version=2021-04-12"))
subscribe = packet(0x82, struct.pack(">H", 1) + s("$dps/registrations/res/#") + b"\x01")
register = packet(0x32, s("$dps/registrations/PUT/iotdps-register/?$rid=347d594a-5550-4018-8207-73a9baed6a64")
                  + struct.pack(">H", 2) + b'{"payload": null, "registrationId": "capture-device-sym"}')
telemetry = packet(0x32, s("devices/dev1/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8")
                   + struct.pack(">H", 3) + b'{"temperature": 20}')
twin_get = packet(0x30, s("$iothub/twin/GET/?$rid=1"))
unsubscribe = packet(0xA2, struct.pack(">H", 4) + s("$dps/registrations/res/#"))
ping = bytes([0xC0, 0])
disconnect = bytes([0xE0, 0])

SEEDS = {
    "python_dps_session": connect + subscribe + register + ping + unsubscribe + disconnect,
    "x509_hub_session": connect_x509 + telemetry + twin_get + disconnect,
    "connect_only": connect,
    "connect_split_header": connect[:3],
    "publish_before_connect": telemetry,
    "qos2_publish": connect + packet(0x34, s("a/b") + struct.pack(">H", 5) + b"x"),
    "oversized_header": bytes([0x30, 0xff, 0xff, 0xff, 0x7f]),
    "five_byte_length": bytes([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
    "protocol_level_3": packet(0x10, s("MQTT") + bytes([3, 0x02]) + struct.pack(">H", 0) + s("x")),
    "bad_connect_flags": packet(0x10, s("MQTT") + bytes([4, 0x41]) + struct.pack(">H", 0) + s("x")),
    "wildcard_topic": connect + packet(0x30, s("devices/+/x")),
    "tls_client_hello_like": bytes([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]),
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(SEEDS)} seeds in {OUT}")
