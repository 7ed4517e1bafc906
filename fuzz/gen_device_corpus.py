"""Writes the seed corpus of the `device_session_input` fuzz target: MQTT 3.1.1 packets a
server sends to a device (MQTT 3.1.1 spec §3.2, §3.3, §3.4, §3.9, §3.13), built by hand from
the spec with the Python standard library only. Each seed is [split byte][server bytes].

Run from fuzz/: python3 gen_device_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "corpus", "device_session_input")


def remaining(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first, body):
    return bytes([first]) + remaining(len(body)) + body


def utf8(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


connack_ok = packet(0x20, b"\x00\x00")
connack_refused = packet(0x20, b"\x00\x05")
puback_1 = packet(0x40, struct.pack(">H", 1))
suback_2 = packet(0x90, struct.pack(">H", 2) + b"\x01")
suback_2_refused = packet(0x90, struct.pack(">H", 2) + b"\x80")
pingresp = packet(0xD0, b"")
twin_qos0 = packet(0x30, utf8("$iothub/twin/res/200/?$rid=1&$version=3") + b'{"desired":{},"reported":{}}')
c2d_qos1 = packet(0x32, utf8("devices/fuzz-device/messages/devicebound/%24.mid=1") + struct.pack(">H", 9) + b"hello")
dps_answer = packet(0x30, utf8("$dps/registrations/res/202/?$rid=1&retry-after=3") + b'{"operationId":"op","status":"assigning"}')

seeds = {
    "connack_puback_suback_twin": b"\x05" + connack_ok + puback_1 + suback_2 + twin_qos0,
    "connack_refused_5": b"\x00" + connack_refused,
    "connack_ping_c2d_qos1": b"\x03" + connack_ok + pingresp + c2d_qos1,
    "suback_refused_and_dps_answer": b"\x40" + connack_ok + suback_2_refused + dps_answer,
    "puback_for_unknown_id": b"\x01" + connack_ok + packet(0x40, struct.pack(">H", 77)),
    "publish_before_connack": b"\x00" + twin_qos0,
    "qos2_publish": b"\x02" + connack_ok + packet(0x34, utf8("t") + struct.pack(">H", 1) + b"x"),
    "oversized_remaining_length": b"\x00" + connack_ok + b"\x30\xff\xff\xff\x7f",
    "garbage": b"\x07" + bytes(range(256)),
}
os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {OUT}")
