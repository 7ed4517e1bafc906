#!/usr/bin/env python3
"""Record what Microsoft's DPS device SDKs really send and accept over MQTT.

A small local DPS look-alike (TLS + a hand-rolled MQTT 3.1.1 codec, loopback only) answers
the SDK's register / operation-status requests the way the reference describes
(../shared/reference/azure-iot-protocol.md §5.1-5.5), and records every MQTT packet in both
directions plus the outcome the SDK reported. The recordings are replayed by
`iot-dps-proto/tests/sdk_capture.rs`.

Usage (see README.md):
    python capture.py --sdk python --out python-sdk.json
    python capture.py --sdk node --node-dir node --out node-sdk.json

Nothing here talks to Azure: the server listens on 127.0.0.1 on an ephemeral port. The Python
SDK hard-codes port 8883, so the paho `Client.connect` call is redirected to the harness port
(the only change to the SDK's behaviour; host name, TLS and MQTT stay the SDK's own). Node
takes `localhost:PORT` as its provisioning host. Both trust the throw-away test CA generated
at run time (Python: `server_verification_cert`; Node: NODE_EXTRA_CA_CERTS).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import hashlib
import hmac
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# ---------------------------------------------------------------------------------------------
# Test credentials. These are throw-away keys for this recording only (never real devices).
# ---------------------------------------------------------------------------------------------

ID_SCOPE = "0ne00CAPTURE"
ASSIGNED_HUB = "contoso-capture.azure-devices.net"
# 32 bytes 0x01..0x20, base64: an individual enrollment's primary key.
INDIVIDUAL_KEY = base64.b64encode(bytes(range(1, 33))).decode()
# 64 bytes 0x40..0x7f: an enrollment group's primary key; devices use the derived key (§3).
GROUP_KEY = base64.b64encode(bytes(range(0x40, 0x80))).decode()
GROUP_ID = "capture-group-1"


def derive_device_key(group_key_b64: str, registration_id: str) -> str:
    """Reference §3: base64(HMAC-SHA256(base64decode(group key), utf8(registration id)))."""
    mac = hmac.new(base64.b64decode(group_key_b64), registration_id.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


# ---------------------------------------------------------------------------------------------
# Throw-away PKI generated at run time (python `cryptography`).
# ---------------------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, issuer, public_key, signing_key, *, ca, eku=None, san=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _pem(obj) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Pki:
    """Server CA + `localhost` server cert, device CA + one device leaf (CN = registration id)."""

    def __init__(self, directory: str, device_registration_id: str):
        import ipaddress

        self.dir = directory
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert("iot-auth capture server CA", "iot-auth capture server CA", ca_key.public_key(), ca_key, ca=True)
        srv_key = ec.generate_private_key(ec.SECP256R1())
        srv = _cert(
            "localhost",
            "iot-auth capture server CA",
            srv_key.public_key(),
            ca_key,
            ca=False,
            eku=[ExtendedKeyUsageOID.SERVER_AUTH],
            san=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        )
        dca_key = ec.generate_private_key(ec.SECP256R1())
        dca = _cert("iot-auth capture device CA", "iot-auth capture device CA", dca_key.public_key(), dca_key, ca=True)
        dev_key = ec.generate_private_key(ec.SECP256R1())
        dev = _cert(
            device_registration_id,
            "iot-auth capture device CA",
            dev_key.public_key(),
            dca_key,
            ca=False,
            eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
        )
        self.device_cert = dev
        self.device_ca = dca
        files = {
            "server_ca.pem": _pem(ca),
            "server_chain.pem": _pem(srv) + _pem(ca),
            "server_key.pem": _pem(srv_key),
            "device_ca.pem": _pem(dca),
            # leaf first, then its issuer: the SDKs send the whole file as the TLS chain
            "device_chain.pem": _pem(dev) + _pem(dca),
            "device_key.pem": _pem(dev_key),
        }
        for name, data in files.items():
            with open(self.path(name), "wb") as f:
                f.write(data)
        self.server_ca_pem = files["server_ca.pem"].decode()

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)


def x509_certificate_info(cert: x509.Certificate) -> dict:
    """DPS X509CertificateInfo (reference §5.4)."""
    der = cert.public_bytes(serialization.Encoding.DER)

    def fmt(t: datetime.datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    return {
        "subjectName": "CN=" + cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
        "sha1Thumbprint": hashlib.sha1(der).hexdigest().upper(),
        "sha256Thumbprint": hashlib.sha256(der).hexdigest().upper(),
        "issuerName": "CN=" + cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
        "notBeforeUtc": fmt(cert.not_valid_before_utc),
        "notAfterUtc": fmt(cert.not_valid_after_utc),
        "serialNumber": format(cert.serial_number, "X"),
        "version": 3,
    }


# ---------------------------------------------------------------------------------------------
# MQTT 3.1.1 codec (only what DPS needs). OASIS MQTT 3.1.1 §2-§3.
# ---------------------------------------------------------------------------------------------

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14
PACKET_NAMES = {
    1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP",
    8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP",
    14: "DISCONNECT",
}


def encode_remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


def mqtt_str(s: str | bytes) -> bytes:
    b = s.encode("utf-8") if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def packet(ptype: int, flags: int, body: bytes) -> bytes:
    return bytes([(ptype << 4) | flags]) + encode_remaining_length(len(body)) + body


async def read_packet(reader: asyncio.StreamReader):
    first = await reader.readexactly(1)
    mult, length = 1, 0
    for _ in range(4):
        b = (await reader.readexactly(1))[0]
        length += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    body = await reader.readexactly(length)
    return first[0] >> 4, first[0] & 0x0F, body


class Cursor:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def u8(self) -> int:
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        self.pos += 2
        return int.from_bytes(self.data[self.pos - 2 : self.pos], "big")

    def blob(self) -> bytes:
        n = self.u16()
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def rest(self) -> bytes:
        return self.data[self.pos :]


def parse_connect(body: bytes) -> dict:
    c = Cursor(body)
    proto = c.blob().decode()
    level = c.u8()
    flags = c.u8()
    keep_alive = c.u16()
    out = {
        "protocol_name": proto,
        "protocol_level": level,
        "clean_session": bool(flags & 0x02),
        "keep_alive": keep_alive,
        "client_id": c.blob().decode("utf-8"),
    }
    if flags & 0x04:
        out["will_topic"] = c.blob().decode("utf-8")
        out["will_payload"] = text_or_hex(c.blob())
    out["username"] = c.blob().decode("utf-8") if flags & 0x80 else None
    out["password"] = text_or_hex(c.blob()) if flags & 0x40 else None
    return out


def text_or_hex(data: bytes):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": data.hex()}


# ---------------------------------------------------------------------------------------------
# DPS behaviour: scripted answers per scenario (reference §5.2-5.5).
# ---------------------------------------------------------------------------------------------


def dps_time(offset_s: float = 0.0) -> str:
    """ISO 8601 with 7 fractional digits and `Z`, like DPS (reference §5.4)."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def dps_etag() -> str:
    return base64.b64encode(('"' + str(uuid.uuid4()) + '"').encode()).decode()


class Step:
    """One scripted answer: `kind` is the request it answers (register|poll)."""

    def __init__(self, kind, status, body, retry_after=None, retry_first=False):
        self.kind, self.status, self.body = kind, status, body
        self.retry_after, self.retry_first = retry_after, retry_first


def assigning(ctx, with_state=False):
    body = {"operationId": ctx["operation_id"], "status": "assigning"}
    if with_state:
        body["registrationState"] = {"registrationId": ctx["registration_id"], "status": "assigning"}
    return body


def assigned(ctx, extra=None):
    state = {}
    if ctx.get("x509_info"):
        state["x509"] = ctx["x509_info"]
    state.update(
        {
            "registrationId": ctx["registration_id"],
            "createdDateTimeUtc": ctx["created"],
            "assignedHub": ASSIGNED_HUB,
            "deviceId": ctx["registration_id"],
            "status": "assigned",
            "substatus": "initialAssignment",
            "lastUpdatedDateTimeUtc": dps_time(),
            "etag": dps_etag(),
        }
    )
    if extra:
        state.update(extra)
    return {"operationId": ctx["operation_id"], "status": "assigned", "registrationState": state}


def error_body(code, message):
    return {
        "errorCode": code,
        "trackingId": str(uuid.uuid4()),
        "message": message,
        "timestampUtc": dps_time(),
    }


WEBHOOK_PAYLOAD = {"greeting": "hello from the allocation webhook", "iotHubHostName": ASSIGNED_HUB}
DEVICE_PAYLOAD = {"modelId": "dtmi:contoso:thermostat;1", "firmware": {"version": "1.2.3"}, "tags": ["a", "b"], "n": 7}


def scenarios():
    """name, auth kind, device payload, response qos, steps."""
    return [
        dict(
            name="symkey_individual",
            auth="symkey",
            registration_id="capture-device-sym",
            payload=None,
            response_qos=0,
            steps=[
                Step("register", 202, lambda c: assigning(c), retry_after=1),
                Step("poll", 202, lambda c: assigning(c, with_state=True), retry_after=1),
                Step("poll", 200, lambda c: assigned(c)),
            ],
        ),
        dict(
            name="symkey_custom_payload",
            auth="symkey",
            registration_id="capture-device-payload",
            payload=DEVICE_PAYLOAD,
            response_qos=0,
            steps=[
                # query order reversed on purpose (§5.2: order is not fixed)
                Step("register", 202, lambda c: assigning(c), retry_after=1, retry_first=True),
                Step("poll", 200, lambda c: assigned(c, {"payload": WEBHOOK_PAYLOAD})),
            ],
        ),
        dict(
            name="symkey_group_derived",
            auth="group",
            registration_id="capture-device-group",
            payload=None,
            response_qos=1,
            steps=[
                Step("register", 202, lambda c: assigning(c), retry_after=1),
                Step("poll", 200, lambda c: assigned(c, {"symmetricKey": {"enrollmentGroupId": GROUP_ID}})),
            ],
        ),
        dict(
            name="x509_client_certificate",
            auth="x509",
            registration_id="capture-device-x509",
            payload=None,
            response_qos=0,
            steps=[
                Step("register", 202, lambda c: assigning(c), retry_after=1),
                Step("poll", 200, lambda c: assigned(c)),
            ],
        ),
        dict(
            name="disabled",
            auth="symkey",
            registration_id="capture-device-disabled",
            payload=None,
            response_qos=0,
            steps=[
                Step("register", 202, lambda c: assigning(c), retry_after=1),
                Step(
                    "poll",
                    200,
                    lambda c: {
                        "operationId": c["operation_id"],
                        "status": "disabled",
                        "registrationState": {
                            "registrationId": c["registration_id"],
                            "createdDateTimeUtc": c["created"],
                            "status": "disabled",
                            "lastUpdatedDateTimeUtc": dps_time(),
                            "etag": dps_etag(),
                        },
                    },
                ),
            ],
        ),
        dict(
            name="failed_status",
            auth="symkey",
            registration_id="capture-device-failed",
            payload=None,
            response_qos=0,
            steps=[
                Step("register", 202, lambda c: assigning(c), retry_after=1),
                Step(
                    "poll",
                    200,
                    lambda c: {
                        "operationId": c["operation_id"],
                        "status": "failed",
                        "registrationState": {
                            "registrationId": c["registration_id"],
                            "createdDateTimeUtc": c["created"],
                            "status": "failed",
                            "errorCode": 400207,
                            "errorMessage": "Custom allocation failed with status code: 400",
                            "lastUpdatedDateTimeUtc": dps_time(),
                            "etag": dps_etag(),
                        },
                    },
                ),
            ],
        ),
        dict(
            name="error_401002",
            auth="symkey",
            registration_id="capture-device-unauthorized",
            payload=None,
            response_qos=0,
            steps=[Step("register", 401, lambda c: error_body(401002, "Invalid certificate."))],
        ),
        dict(
            name="throttled_then_assigned",
            auth="symkey",
            registration_id="capture-device-throttled",
            payload=None,
            response_qos=0,
            steps=[
                Step("register", 429, lambda c: error_body(429001, "Operations are being throttled for this tenant."), retry_after=1),
                Step("register", 202, lambda c: assigning(c), retry_after=1),
                Step("poll", 429, lambda c: error_body(429001, "Operations are being throttled for this tenant."), retry_after=1),
                Step("poll", 200, lambda c: assigned(c)),
            ],
        ),
    ]


# ---------------------------------------------------------------------------------------------
# The harness server.
# ---------------------------------------------------------------------------------------------


class Recorder:
    """Everything one scenario saw; the server appends to `current`."""

    def __init__(self):
        self.current = None
        self.lock = threading.Lock()


class Harness:
    def __init__(self, pki: Pki):
        self.pki = pki
        self.rec = Recorder()
        self.loop = asyncio.new_event_loop()
        self.port = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    # -- life cycle
    def start(self):
        self.thread.start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.pki.path("server_chain.pem"), self.pki.path("server_key.pem"))
        ctx.load_verify_locations(self.pki.path("device_ca.pem"))
        ctx.verify_mode = ssl.CERT_OPTIONAL  # X.509 devices present a chain, SAS devices none

        def sni(sslobj, server_name, _ctx):
            sslobj.context_sni = server_name  # read back in the handler

        ctx.sni_callback = sni
        server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=ctx)
        )
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    # -- scenario bookkeeping
    def begin(self, scenario: dict):
        ctx = {
            "registration_id": scenario["registration_id"],
            "operation_id": "4.d0a671905ea5b2c8." + str(uuid.uuid4()),
            "created": dps_time(),
        }
        if scenario["auth"] == "x509":
            ctx["x509_info"] = {
                "certificateInfo": x509_certificate_info(self.pki.device_cert),
                "enrollmentGroupId": "capture-x509-group",
                "signingCertificateInfo": x509_certificate_info(self.pki.device_ca),
            }
        with self.rec.lock:
            self.rec.current = {
                "scenario": scenario,
                "ctx": ctx,
                "steps": list(scenario["steps"]),
                "connections": [],
                "unexpected": [],
            }

    def end(self) -> dict:
        with self.rec.lock:
            cur, self.rec.current = self.rec.current, None
        return cur

    # -- one TLS connection
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        cur = self.rec.current
        sslobj = writer.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj else None
        conn = {
            "tls": {
                "version": sslobj.version() if sslobj else None,
                "sni": getattr(sslobj, "context_sni", None),
                "client_certificate": None,
            },
            "connect": None,
            "packets": [],
        }
        if der:
            cert = x509.load_der_x509_certificate(der)
            conn["tls"]["client_certificate"] = {
                "subject_cn": cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value,
                "sha256_thumbprint": hashlib.sha256(der).hexdigest().upper(),
            }
        if cur is None:
            writer.close()
            return
        cur["connections"].append(conn)
        seq = [0]
        next_pid = [1]

        def log(direction, entry):
            seq[0] += 1
            entry = {"seq": seq[0], "dir": direction, "t": round(time.time(), 3), **entry}
            conn["packets"].append(entry)

        async def send(ptype, flags, body, entry):
            writer.write(packet(ptype, flags, body))
            await writer.drain()
            log("dps->device", {"type": PACKET_NAMES[ptype], **entry})

        async def publish(topic, payload: bytes, qos):
            body = mqtt_str(topic)
            entry = {"topic": topic, "qos": qos, "payload": text_or_hex(payload)}
            if qos:
                pid = next_pid[0]
                next_pid[0] += 1
                body += pid.to_bytes(2, "big")
                entry["packet_id"] = pid
            await send(PUBLISH, qos << 1, body + payload, entry)

        try:
            while True:
                ptype, flags, body = await read_packet(reader)
                name = PACKET_NAMES.get(ptype, str(ptype))
                if ptype == CONNECT:
                    fields = parse_connect(body)
                    conn["connect"] = fields
                    log("device->dps", {"type": name, **fields})
                    await send(CONNACK, 0, b"\x00\x00", {"session_present": False, "return_code": 0})
                elif ptype == SUBSCRIBE:
                    c = Cursor(body)
                    pid = c.u16()
                    subs = []
                    while c.pos < len(body):
                        topic = c.blob().decode()
                        subs.append({"topic": topic, "qos": c.u8()})
                    log("device->dps", {"type": name, "packet_id": pid, "subscriptions": subs})
                    granted = [min(s["qos"], 1) for s in subs]  # DPS grants at most QoS 1 (§5.1)
                    await send(SUBACK, 0, pid.to_bytes(2, "big") + bytes(granted), {"packet_id": pid, "granted_qos": granted})
                elif ptype == UNSUBSCRIBE:
                    c = Cursor(body)
                    pid = c.u16()
                    topics = []
                    while c.pos < len(body):
                        topics.append(c.blob().decode())
                    log("device->dps", {"type": name, "packet_id": pid, "topics": topics})
                    await send(UNSUBACK, 0, pid.to_bytes(2, "big"), {"packet_id": pid})
                elif ptype == PUBLISH:
                    qos = (flags >> 1) & 3
                    c = Cursor(body)
                    topic = c.blob().decode("utf-8")
                    pid = c.u16() if qos else None
                    payload = c.rest()
                    entry = {"topic": topic, "qos": qos, "dup": bool(flags & 8), "retain": bool(flags & 1), "payload": text_or_hex(payload)}
                    if pid is not None:
                        entry["packet_id"] = pid
                    log("device->dps", {"type": name, **entry})
                    if qos == 1:
                        await send(PUBACK, 0, pid.to_bytes(2, "big"), {"packet_id": pid})
                    await self._answer(cur, topic, payload, publish)
                elif ptype == PUBACK:
                    pid = Cursor(body).u16()
                    log("device->dps", {"type": name, "packet_id": pid})
                elif ptype == PINGREQ:
                    log("device->dps", {"type": name})
                    await send(PINGRESP, 0, b"", {})
                elif ptype == DISCONNECT:
                    log("device->dps", {"type": name})
                    break
                else:
                    log("device->dps", {"type": name, "flags": flags, "body_hex": body.hex()})
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError) as e:
            log("device->dps", {"type": "EOF", "detail": type(e).__name__})
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def _answer(self, cur, topic: str, payload: bytes, publish):
        """Map a device request to the next scripted step (reference §5.2)."""
        base, _, query = topic.partition("?")
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        rid = params.get("$rid", "")
        if base == "$dps/registrations/PUT/iotdps-register/":
            kind = "register"
        elif base == "$dps/registrations/GET/iotdps-get-operationstatus/":
            kind = "poll"
        else:
            cur["unexpected"].append({"topic": topic, "reason": "unknown request topic"})
            return
        steps = cur["steps"]
        if not steps or steps[0].kind != kind:
            cur["unexpected"].append({"topic": topic, "reason": "no scripted step for " + kind})
            # a 400 ends the SDK's attempt fast (300..428 is terminal in python and node)
            step = Step(kind, 400, lambda c: error_body(400000, "harness: unexpected request"))
        else:
            step = steps.pop(0)
            if kind == "poll" and params.get("operationId") != cur["ctx"]["operation_id"]:
                cur["unexpected"].append({"topic": topic, "reason": "wrong operationId"})
        # echo the $rid exactly as the device wrote it (still percent-encoded if it was)
        raw_rid = next((kv.split("=", 1)[1] for kv in query.split("&") if kv.startswith("$rid=")), rid)
        parts = ["$rid=" + raw_rid]
        if step.retry_after is not None:
            ra = "retry-after=" + str(step.retry_after)
            parts = [ra] + parts if step.retry_first else parts + [ra]
        resp_topic = "$dps/registrations/res/{}/?{}".format(step.status, "&".join(parts))
        body = json.dumps(step.body(cur["ctx"]), separators=(",", ":")).encode()
        await publish(resp_topic, body, cur["scenario"]["response_qos"])


# ---------------------------------------------------------------------------------------------
# SDK drivers.
# ---------------------------------------------------------------------------------------------


def scenario_key(scenario) -> str | None:
    if scenario["auth"] == "symkey":
        return INDIVIDUAL_KEY
    if scenario["auth"] == "group":
        return derive_device_key(GROUP_KEY, scenario["registration_id"])
    return None


def run_python(harness: Harness, scenario: dict) -> dict:
    import paho.mqtt.client as paho
    from azure.iot.device import ProvisioningDeviceClient, X509

    if not getattr(paho.Client.connect, "_capture_redirect", False):
        original = paho.Client.connect

        def connect(self, host, port=1883, *args, **kwargs):
            # the SDK hard-codes 8883 (common/mqtt_transport.py); send it to the harness instead
            return original(self, host, harness.port if port == 8883 else port, *args, **kwargs)

        connect._capture_redirect = True
        paho.Client.connect = connect

    common = dict(
        provisioning_host="localhost",
        registration_id=scenario["registration_id"],
        id_scope=ID_SCOPE,
        server_verification_cert=harness.pki.server_ca_pem,
        websockets=False,
    )
    if scenario["auth"] == "x509":
        client = ProvisioningDeviceClient.create_from_x509_certificate(
            x509=X509(harness.pki.path("device_chain.pem"), harness.pki.path("device_key.pem")), **common
        )
    else:
        client = ProvisioningDeviceClient.create_from_symmetric_key(symmetric_key=scenario_key(scenario), **common)
    if scenario["payload"] is not None:
        client.provisioning_payload = scenario["payload"]
    try:
        result = client.register()
    except Exception as e:  # the SDK's own report of the failure
        chain = []
        err = e
        while err is not None and len(chain) < 5:
            chain.append({"type": type(err).__module__ + "." + type(err).__name__, "message": str(err)})
            err = err.__cause__
        return {"accepted": False, "exception": chain}
    finally:
        try:
            client.shutdown()
        except Exception:
            pass
    state = result.registration_state
    return {
        "accepted": True,
        "result": {
            "operation_id": result.operation_id,
            "status": result.status,
            "registration_state": None
            if state is None
            else {
                "device_id": state.device_id,
                "assigned_hub": state.assigned_hub,
                "sub_status": state.sub_status,
                "created_date_time": state.created_date_time,
                "last_update_date_time": state.last_update_date_time,
                "etag": state.etag,
                "response_payload": state.response_payload,
            },
        },
    }


def run_node(harness: Harness, scenario: dict, node_dir: str) -> dict:
    job = {
        "host": "localhost:{}".format(harness.port),
        "idScope": ID_SCOPE,
        "registrationId": scenario["registration_id"],
        "auth": "x509" if scenario["auth"] == "x509" else "symkey",
        "key": scenario_key(scenario),
        "payload": scenario["payload"],
        "certFile": harness.pki.path("device_chain.pem"),
        "keyFile": harness.pki.path("device_key.pem"),
    }
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=harness.pki.path("server_ca.pem"))
    proc = subprocess.run(
        ["node", os.path.join(node_dir, "capture.js"), json.dumps(job)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"accepted": False, "driver_error": {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr[-4000:]}}


def sdk_version(sdk: str, node_dir: str) -> dict:
    if sdk == "python":
        from importlib.metadata import version

        return {
            "package": "azure-iot-device",
            "version": version("azure-iot-device"),
            "paho-mqtt": version("paho-mqtt"),
            "python": sys.version.split()[0],
        }
    out = {"node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()}
    for pkg in [
        "azure-iot-provisioning-device",
        "azure-iot-provisioning-device-mqtt",
        "azure-iot-security-symmetric-key",
        "azure-iot-security-x509",
        "azure-iot-mqtt-base",
        "mqtt",
    ]:
        with open(os.path.join(node_dir, "node_modules", pkg, "package.json")) as f:
            out[pkg] = json.load(f)["version"]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdk", choices=["python", "node"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--node-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "node"))
    ap.add_argument("--only", action="append", help="run only these scenario names")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="dps-capture-")
    pki = Pki(tmp, "capture-device-x509")
    harness = Harness(pki)
    harness.start()
    recorded = []
    for scenario in scenarios():
        if args.only and scenario["name"] not in args.only:
            continue
        print("scenario", scenario["name"], "...", file=sys.stderr, flush=True)
        harness.begin(scenario)
        started = int(time.time())
        try:
            if args.sdk == "python":
                outcome = run_python(harness, scenario)
            else:
                outcome = run_node(harness, scenario, args.node_dir)
        except Exception:
            outcome = {"accepted": False, "driver_error": traceback.format_exc()}
        time.sleep(0.5)  # let the last DISCONNECT land
        cur = harness.end()
        key = scenario_key(scenario)
        connections = cur["connections"]
        first = connections[0] if connections else {"connect": None, "tls": None}
        messages = [
            {k: p[k] for k in ("dir", "topic", "payload", "qos") if k in p}
            for c in connections
            for p in c["packets"]
            if p["type"] == "PUBLISH"
        ]
        recorded.append(
            {
                "name": scenario["name"],
                "auth": scenario["auth"],
                "id_scope": ID_SCOPE,
                "registration_id": scenario["registration_id"],
                # base64 key the device signed its SAS token with (group: the derived key)
                "device_key": key,
                "group_key": GROUP_KEY if scenario["auth"] == "group" else None,
                "device_payload": scenario["payload"],
                "response_qos": scenario["response_qos"],
                "captured_at": started,
                "connect": None
                if first["connect"] is None
                else {k: first["connect"][k] for k in ("client_id", "username", "password")},
                "tls": first["tls"],
                "messages": messages,
                "connections": connections,
                "unexpected": cur["unexpected"],
                "unused_steps": [s.kind + " " + str(s.status) for s in cur["steps"]],
                "outcome": outcome,
            }
        )
        print("  ->", json.dumps(outcome)[:300], file=sys.stderr, flush=True)
    doc = {
        "sdk": args.sdk,
        "versions": sdk_version(args.sdk, args.node_dir),
        "generator": "iot-dps-proto/tests/data/capture/capture.py",
        "reference": "shared/reference/azure-iot-protocol.md §5",
        "scenarios": recorded,
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote", args.out, file=sys.stderr)


if __name__ == "__main__":
    main()
