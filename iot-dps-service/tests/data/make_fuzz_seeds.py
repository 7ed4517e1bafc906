#!/usr/bin/env python3
"""Writes the seed corpus of the dps_service_register fuzz target
(fuzz/corpus/dps_service_register) and, with --new-pki, its certificates.

Independent of our Rust code: tokens are signed with Python's stdlib `hmac` (reference
azure-iot-protocol.md §1.2: HMAC-SHA256 over the raw `sr` + LF + `se`), group device keys are
derived as §3 says (HMAC-SHA256 of the registration ID under the group key, base64), `sr` is the
python SDK's `quote("{idScope}/registrations/{id}", safe="")`. The keys and the world are the
ones fuzz/logic/dps_service_register.rs defines.

Certificates (fuzz-pki/, made once with Python `cryptography`, keys differ on each run, so they
are only rewritten with --new-pki; then commit the PEMs and the seeds together): a verified
root with leaves `cam-1`, a root whose EKU is serverAuth only and a root whose keyUsage lacks
keyCertSign, each with a leaf. `openssl verify -purpose sslclient` verdicts for each leaf are
written to fuzz-pki/verdicts.json: the logic's world refuses exactly the enrollments whose CA
OpenSSL refuses.

Input layout (see the logic file): flags byte (bit 0 token, bit 1 certificate, bit 2 user name,
bits 3..=5 transport mod 5: mqtt, mqtt-ws, amqp, amqp-ws, https; bit 6 previous record), then
registration ID, token, body, user name separated by 0x00, then the leaf DER.

    python3 iot-dps-service/tests/data/make_fuzz_seeds.py [--new-pki]
"""
import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import ssl
import subprocess
import sys
import tempfile
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
PKI = os.path.join(HERE, "fuzz-pki")
SCOPE = "0ne00000001"
NOW = 1780272000  # 2026-06-01: the logic's decision time
AT = NOW
SE = 4102444800  # 2100-01-01

KEYS = [base64.b64encode(bytes([b]) * 32).decode() for b in (0x01, 0x02, 0x10, 0x11)]
DEV1_P, DEV1_S, G1_P, G1_S = range(4)
DERIVED_P, DERIVED_S = 4, 5  # sign mode: keys derived from G1_P / G1_S for the request's ID

TOKEN, CERT, USER, PREVIOUS = 1, 2, 4, 64
MQTT, MQTT_WS, AMQP, AMQP_WS, HTTPS = (t << 3 for t in range(5))


def derived(group_key, registration_id):
    """§3: base64(HMAC-SHA256(base64decode(group key), registration ID))."""
    mac = hmac.new(base64.b64decode(group_key), registration_id.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def sign(key_b64, sr, se=SE, skn="registration"):
    mac = hmac.new(base64.b64decode(key_b64), f"{sr}\n{se}".encode(), hashlib.sha256)
    sig = quote(base64.b64encode(mac.digest()).decode(), safe="")
    text = f"SharedAccessSignature sr={sr}&sig={sig}&se={se}"
    return text + (f"&skn={skn}" if skn else "")


def token(key_b64, registration_id, scope=SCOPE, **kw):
    return sign(key_b64, quote(f"{scope}/registrations/{registration_id}", safe=""), **kw)


def sign_mode(key, sr, se=SE, skn="registration"):
    """The logic's sign mode: `\\x01{key}{sr}\\x01{se}[\\x01{skn}]`, signed by the logic."""
    text = "\x01" + chr(ord("0") + key) + sr + "\x01" + str(se)
    return text + ("\x01" + skn if skn else "")


def user(registration_id):
    return f"{SCOPE}/registrations/{registration_id}/api-version=2019-03-31"


def seed(flags, registration_id="", tok="", body="", user_name="", cert=b""):
    fields = "\0".join([registration_id, tok, body, user_name]).encode()
    return bytes([flags]) + fields + b"\0" + cert


def pki(name):
    return ssl.PEM_cert_to_DER_cert(open(os.path.join(PKI, name)).read())


def new_pki():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    utc = dt.timezone.utc
    ca_valid = (dt.datetime(2024, 1, 1, tzinfo=utc), dt.datetime(2044, 1, 1, tzinfo=utc))
    leaf_valid = (dt.datetime(2025, 1, 1, tzinfo=utc), dt.datetime(2035, 1, 1, tzinfo=utc))

    def ku(ca, cert_sign=True):
        return x509.KeyUsage(digital_signature=True, content_commitment=not ca,
                             key_encipherment=not ca, data_encipherment=False,
                             key_agreement=False, key_cert_sign=ca and cert_sign, crl_sign=ca,
                             encipher_only=False, decipher_only=False)

    def cert(cn, key, issuer_cn, issuer_key, ca, serial, eku=None, cert_sign=True):
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
             .public_key(key.public_key()).serial_number(serial)
             .not_valid_before((ca_valid if ca else leaf_valid)[0])
             .not_valid_after((ca_valid if ca else leaf_valid)[1])
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
             .add_extension(ku(ca, cert_sign), critical=True))
        if eku:
            b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    def save(name, c):
        with open(os.path.join(PKI, name), "wb") as f:
            f.write(c.public_bytes(serialization.Encoding.PEM))

    os.makedirs(PKI, exist_ok=True)
    client = [ExtendedKeyUsageOID.CLIENT_AUTH]
    roots = [("root.pem", "dps fuzz root", {}),
             ("server-eku-root.pem", "dps fuzz server-only root",
              {"eku": [ExtendedKeyUsageOID.SERVER_AUTH]}),
             ("no-keycertsign-root.pem", "dps fuzz no-keyCertSign root", {"cert_sign": False})]
    leaves = {"root.pem": ["cam-1"], "server-eku-root.pem": ["cam-server"],
              "no-keycertsign-root.pem": ["cam-nokcs"]}
    serial = 1
    for file, cn, kw in roots:
        key = ec.generate_private_key(ec.SECP256R1())
        save(file, cert(cn, key, cn, key, True, serial, **kw))
        for leaf in leaves[file]:
            serial += 1
            save(f"{leaf}.pem", cert(leaf, ec.generate_private_key(ec.SECP256R1()), cn, key,
                                     False, serial, eku=client))
        serial += 1
    verdicts = {}
    for file, leaf_names in leaves.items():
        for leaf in leaf_names:
            p = subprocess.run(["openssl", "verify", "-purpose", "sslclient", "-attime", str(AT),
                                "-CAfile", os.path.join(PKI, file),
                                os.path.join(PKI, f"{leaf}.pem")], capture_output=True, text=True)
            verdicts[leaf] = dict(ca=file, openssl_ok=p.returncode == 0,
                                  openssl_output=(p.stdout + p.stderr).replace(PKI + "/", "").strip())
    with open(os.path.join(PKI, "verdicts.json"), "w") as f:
        json.dump(dict(command="openssl verify -purpose sslclient -attime AT -CAfile CA LEAF",
                       at=AT, verdicts=verdicts), f, indent=2)
        f.write("\n")


def main():
    if "--new-pki" in sys.argv:
        new_pki()
    dev1 = token(KEYS[DEV1_P], "dev-1")
    member = "member-7"
    cam = pki("cam-1.pem")
    seeds = {
        "empty": seed(0),
        "bad_registration_id": seed(TOKEN, "bad id!", token(KEYS[DEV1_P], "bad id!")),
        "body_garbage": seed(TOKEN, "dev-1", dev1, '{"registrationId":'),
        "body_mismatch": seed(TOKEN, "dev-1", dev1, '{"registrationId":"dev-2"}'),
        "both_credentials": seed(TOKEN | CERT, "cam-1", token(KEYS[DEV1_P], "cam-1"), cert=cam),
        "group_derived": seed(TOKEN | USER, member, token(derived(KEYS[G1_P], member), member),
                              user_name=user(member)),
        "group_derived_secondary": seed(TOKEN | HTTPS, member,
                                        token(derived(KEYS[G1_S], member), member, skn=None)),
        "group_key_itself": seed(TOKEN, member, token(KEYS[G1_P], member)),
        "individual_expired": seed(TOKEN, "dev-1", token(KEYS[DEV1_P], "dev-1", se=1600000000)),
        "individual_no_skn_https": seed(TOKEN | HTTPS, "dev-1",
                                        token(KEYS[DEV1_P], "dev-1", skn=None)),
        "individual_primary": seed(TOKEN | USER, "dev-1", dev1, '{"registrationId":"dev-1"}',
                                   user("dev-1")),
        "individual_reprovision": seed(TOKEN | USER | PREVIOUS, "dev-1", dev1,
                                       '{"registrationId":"dev-1"}', user("dev-1")),
        "individual_secondary": seed(TOKEN, "dev-1", token(KEYS[DEV1_S], "dev-1"),
                                     '{"payload":null,"registrationId":"dev-1"}'),
        "individual_case_folded_sr": seed(TOKEN | AMQP, "dev-1",
                                          sign(KEYS[DEV1_P], "0NE00000001/REGISTRATIONS/DEV-1")),
        "tpm_body": seed(0, "dev-1", body='{"registrationId":"dev-1","tpm":{"endorsementKey":"AA=="}}'),
        "user_name_mismatch": seed(TOKEN | USER, "dev-1", dev1, user_name=user("dev-2")),
        "wrong_scope": seed(TOKEN, "dev-1", token(KEYS[DEV1_P], "dev-1", scope="0ne99999999")),
        "wrong_skn": seed(TOKEN, "dev-1", token(KEYS[DEV1_P], "dev-1", skn="iothubowner")),
        "other_enrollment_key": seed(TOKEN, "dev-1", token(derived(KEYS[G1_P], "dev-1"), "dev-1")),
        # Issue 12.2: `sr` is decoded once, so `dev%252D1` is `dev%2D1`, not `dev-1`.
        "double_decoded_sr": seed(TOKEN, "dev-1",
                                  sign(KEYS[DEV1_P], f"{SCOPE}%2Fregistrations%2Fdev%252D1")),
        "sign_mode_individual": seed(TOKEN | MQTT_WS, "dev-1",
                                     sign_mode(DEV1_S, f"{SCOPE}%2fregistrations%2fdev-1")),
        "sign_mode_derived": seed(TOKEN | AMQP_WS, "member-9",
                                  sign_mode(DERIVED_P, f"{SCOPE}/registrations/member-9", skn=None)),
        "x509_ca_mqtt": seed(CERT | USER, "cam-1", user_name=user("cam-1"), cert=cam),
        "x509_ca_reprovision": seed(CERT | USER | PREVIOUS, "cam-1", user_name=user("cam-1"),
                                    cert=cam),
        "x509_ca_websockets": seed(CERT | MQTT_WS, "cam-1", cert=cam),
        "x509_ca_https": seed(CERT | HTTPS, "cam-1", cert=cam),
        "x509_cn_mismatch": seed(CERT, "cam-2", cert=cam),
        "x509_garbage_cert": seed(CERT, "cam-1", cert=b"0\x82garbage"),
        # Issue 12.3: the anchor's own EKU and keyUsage apply (OpenSSL refuses both leaves).
        "x509_server_eku_root": seed(CERT, "cam-server", cert=pki("cam-server.pem")),
        "x509_no_keycertsign_root": seed(CERT, "cam-nokcs", cert=pki("cam-nokcs.pem")),
    }
    d = os.path.join(ROOT, "fuzz", "corpus", "dps_service_register")
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
