#!/usr/bin/env python3
"""Writes the seed corpora of the iot-hub-auth fuzz targets (fuzz/corpus/hub_*).

Independent of our Rust code: tokens are signed with Python's stdlib `hmac` following the
reference (azure-iot-protocol.md §1.2: HMAC-SHA256 over `sr` + LF + `se`, key base64-decoded),
with `sr` spelled as each SDK spells it (§1.3): python's `quote(safe="")`, and .NET's
`WebUtility.UrlEncode` applied to the ID and then to the whole resource. The world (keys,
identities, policies, CAs) is the one fuzz/logic/hub_authorize.rs defines; the keys below are
copies of its `KEYS` table (`base64(sha256("hub fuzz key N"))`).

Certificates: the self-signed device is examples/certs/device-self-signed.pem; the CA world
(fuzz-pki/: a verified root, an unverified root and leaves named after world identities) was
made once with Python `cryptography` and is committed (keys differ on each run, so it is only
rewritten with --new-pki; then commit the PEMs and the seeds together).

    python3 iot-hub-auth/tests/data/make_fuzz_seeds.py [--new-pki]
"""
import base64
import datetime as dt
import hashlib
import hmac
import os
import ssl
import sys
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
PKI = os.path.join(HERE, "fuzz-pki")
HOST = "contoso.azure-devices.net"
NOW = 1780272000  # 2026-06-01, inside every certificate's validity

# fuzz/logic/hub_authorize.rs KEYS, in order.
KEYS = [base64.b64encode(hashlib.sha256(f"hub fuzz key {i}".encode()).digest()).decode()
        for i in range(16)]
(DEV1_P, DEV1_S, MOD1_P, MOD1_S, OFF_P, OFF_S, OFFMOD_P, OFFMOD_S, NMET_P, NMET_S,
 DEVICE_P, DEVICE_S, SERVICE_P, SERVICE_S, REGISTRY_P, REGISTRY_S) = range(16)
SPECIAL = "n@m.et#st"  # a device ID with reserved characters (§4)


def dotnet_url_encode(text):
    """.NET WebUtility.UrlEncode (§1.3): A-Z a-z 0-9 - _ . ! * ( ) kept, space as +."""
    out = []
    for b in text.encode():
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-_.!*()"):
            out.append(c)
        elif c == " ":
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def sign(key, sr, expiry, skn=None):
    """A token over `sr` exactly as given (already encoded)."""
    mac = hmac.new(base64.b64decode(KEYS[key]), f"{sr}\n{expiry}".encode(), hashlib.sha256)
    sig = quote(base64.b64encode(mac.digest()).decode(), safe="")
    text = f"SharedAccessSignature sr={sr}&sig={sig}&se={expiry}"
    return text + (f"&skn={skn}" if skn else "")


def token(key, resource, expiry, skn=None):
    """The python SDK's spelling: `quote(resource, safe="")`."""
    return sign(key, quote(resource, safe=""), expiry, skn)


def dotnet_token(key, device_id, expiry, skn=None):
    """The csharp SDK's spelling: the ID encoded, then the whole resource (§1.3)."""
    resource = f"{HOST}/devices/{dotnet_url_encode(device_id)}"
    return sign(key, dotnet_url_encode(resource), expiry, skn)


def sign_mode(key, sr, expiry, skn=None):
    """The logic's sign mode: `\\x01{key}{sr}\\x01{se}[\\x01{skn}]`, signed by the logic."""
    text = "\x01" + chr(ord("0") + key) + sr + "\x01" + str(expiry)
    return text + ("\x01" + skn if skn else "")


def der(path):
    return ssl.PEM_cert_to_DER_cert(open(path).read())


def example(name):
    return der(os.path.join(ROOT, "examples", "certs", name))


def pki(name):
    return der(os.path.join(PKI, name))


def user(client):
    return f"{HOST}/{client}/?api-version=2021-04-12"


def write(target, name, data):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def request(transport, client="", username="", password="", device="", module="", now=NOW,
            cert=b""):
    head = "\0".join([transport, client, username, password, device, module, str(now)]).encode()
    return head + b"\0" + cert


def new_pki():
    """The CA world of the fuzz hub: certGen.sh-like profiles (reference §7.4)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    utc = dt.timezone.utc
    ca_valid = (dt.datetime(2024, 1, 1, tzinfo=utc), dt.datetime(2044, 1, 1, tzinfo=utc))
    leaf_valid = (dt.datetime(2025, 1, 1, tzinfo=utc), dt.datetime(2035, 1, 1, tzinfo=utc))

    def cert(cn, key, issuer_cn, issuer_key, ca, serial):
        ku = dict(digital_signature=True, content_commitment=not ca, key_encipherment=not ca,
                  data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                  encipher_only=False, decipher_only=False)
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)]))
             .public_key(key.public_key()).serial_number(serial)
             .not_valid_before((ca_valid if ca else leaf_valid)[0])
             .not_valid_after((ca_valid if ca else leaf_valid)[1])
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
             .add_extension(x509.KeyUsage(**ku), critical=True))
        if not ca:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                critical=False)
        return b.sign(issuer_key, hashes.SHA256())

    def save(name, c):
        with open(os.path.join(PKI, name), "wb") as f:
            f.write(c.public_bytes(serialization.Encoding.PEM))

    os.makedirs(PKI, exist_ok=True)
    root_key, pending_key = ec.generate_private_key(ec.SECP256R1()), \
        ec.generate_private_key(ec.SECP256R1())
    save("hub-root.pem", cert("hub fuzz root", root_key, "hub fuzz root", root_key, True, 1))
    save("pending-root.pem", cert("hub fuzz pending root", pending_key, "hub fuzz pending root",
                                  pending_key, True, 2))
    leaves = [("ca1.pem", "ca1", "hub fuzz root", root_key),
              ("offca.pem", "off/offca", "hub fuzz root", root_key),
              ("ca1-pending.pem", "ca1", "hub fuzz pending root", pending_key)]
    for serial, (name, cn, issuer, issuer_key) in enumerate(leaves, start=10):
        save(name, cert(cn, ec.generate_private_key(ec.SECP256R1()), issuer, issuer_key, False,
                        serial))


def main():
    if "--new-pki" in sys.argv:
        new_pki()
    exp = NOW + 3600
    dev = token(DEV1_P, f"{HOST}/devices/dev1", exp)
    self_signed = example("device-self-signed.pem")
    seeds = {
        # Allowed (each names the identity and credential it authenticates with).
        "mqtt_device_key": request("mqtt", "dev1", user("dev1"), dev),
        "mqtt_ws_secondary_key": request("mqtt-ws", "dev1", user("dev1"),
                                         token(DEV1_S, f"{HOST}/devices/dev1", exp)),
        "mqtt_module_key": request("mqtt", "dev1/mod1", user("dev1/mod1"),
                                   token(MOD1_S, f"{HOST}/devices/dev1/modules/mod1", exp)),
        "amqp_sasl_device": request("amqp", username="dev1@sas.contoso", password=dev),
        # The SASL user name claims dev1, the link names another device: the claim must
        # agree with the link (a 60 s fuzz run of a mutant that ignored the link found this).
        "amqp_sasl_link_names_another_device": request("amqp", username="dev1@sas.contoso",
                                                       password=dev, device="dev2"),
        "amqp_sasl_policy": request("amqp", username="device@sas.root.contoso",
                                    password=token(DEVICE_P, f"{HOST}/devices", exp, "device"),
                                    device="dev1"),
        "https_device": request("https", password=dev, device="dev1"),
        "https_module": request("https", device="dev1", module="mod1",
                                password=token(MOD1_P, f"{HOST}/devices/dev1/modules/mod1", exp)),
        "mqtt_policy_token": request("mqtt", "dev1", user("dev1"),
                                     token(DEVICE_S, HOST, exp, "device")),
        "self_signed_cert": request("mqtt", "self1", user("self1"), cert=self_signed),
        "ca_cert": request("mqtt", "ca1", user("ca1"), cert=pki("ca1.pem")),
        "dotnet_special_id_device_key": request("https", device=SPECIAL,
                                                password=dotnet_token(NMET_P, SPECIAL, exp)),
        "dotnet_special_id_policy": request("mqtt", SPECIAL, user(SPECIAL),
                                            dotnet_token(DEVICE_P, SPECIAL, exp, "device")),
        "sign_mode_device_key": request("mqtt", "dev1", user("dev1"),
                                        sign_mode(DEV1_P, f"{HOST}/devices/dev1", exp)),
        "sign_mode_policy": request("amqp", username="device@sas.root.contoso", device="dev1",
                                    password=sign_mode(DEVICE_P, f"{HOST}%2fDEVICES", exp,
                                                       "device")),
        # Issue 12.5: the AMQP SASL module form {deviceId}/modules/{moduleId}@sas.{hub}.
        "amqp_sasl_module": request("amqp", username="dev1/modules/mod1@sas.contoso",
                                    password=token(MOD1_P, f"{HOST}/devices/dev1/modules/mod1",
                                                   exp)),
        "amqp_ws_sasl_module": request("amqp-ws", username="dev1/modules/mod1@sas.contoso",
                                       password=token(MOD1_S,
                                                      f"{HOST}/devices/dev1/modules/mod1", exp)),
        # Refused.
        "amqp_wrong_hub": request("amqp", username="dev1@sas.fabrikam", password=dev),
        "self_signed_wrong_cert": request("mqtt", "self1", user("self1"), cert=pki("ca1.pem")),
        "ca_cert_wrong_cn": request("mqtt", "ca1", user("ca1"), cert=pki("offca.pem")),
        "device_key_devices_wide": request("mqtt", "dev1", user("dev1"),
                                           token(DEV1_P, f"{HOST}/devices", exp)),
        "service_token_other_hub": request("https", device="dev1",
                                           password=token(SERVICE_S, "fabrikam.azure-devices.net",
                                                          exp, "service")),
        "service_token": request("https", password=token(SERVICE_P, HOST, exp, "service"),
                                 device="dev1"),
        "expired": request("mqtt", "dev1", user("dev1"),
                           token(DEV1_P, f"{HOST}/devices/dev1", NOW - 1000)),
        "wrong_host": request("mqtt", "dev1", "fabrikam.azure-devices.net/dev1/?api-version=1",
                              dev),
        "client_id_mismatch": request("mqtt", "dev2", user("dev1"), dev),
        "disabled": request("mqtt", "off", user("off"), token(OFF_P, f"{HOST}/devices/off", exp)),
        "ca_cert_unverified": request("amqp", device="ca1", cert=pki("ca1-pending.pem")),
        "ca_cert_unknown_issuer": request("amqp", device="ca1", cert=example("device-ec.pem")),
        "ca_over_websockets": request("mqtt-ws", "ca1", user("ca1"), cert=pki("ca1.pem")),
        "no_credential": request("mqtt", "dev1", user("dev1")),
        # Issue 15 (fuzz/mutation_check.py M12): the SASL user name names policy `service`,
        # the token is signed by policy `device`: they must agree.
        "amqp_sasl_policy_other_than_skn": request("amqp", username="service@sas.root.contoso",
                                                   password=token(DEVICE_P, f"{HOST}/devices",
                                                                  exp, "device"),
                                                   device="dev1"),
        # Issue 15 (M14): the user name names module dev1/mod1, the client ID device dev1; the
        # user name's path must be the client ID followed by nothing, `/` or `/?`.
        "mqtt_user_name_names_a_module_of_the_client": request("mqtt", "dev1", user("dev1/mod1"),
                                                               dev),
        "policy_lacks_device_connect": request("mqtt", "dev1", user("dev1"),
                                               token(REGISTRY_P, HOST, exp, "registryRead")),
        "device_key_of_other_identity": request("mqtt", "dev1/mod1", user("dev1/mod1"),
                                                token(DEV1_P,
                                                      f"{HOST}/devices/dev1/modules/mod1", exp)),
        "amqp_sasl_module_wrong_key": request("amqp", username="dev1/modules/mod1@sas.contoso",
                                              password=token(DEV1_P,
                                                             f"{HOST}/devices/dev1/modules/mod1",
                                                             exp)),
        # Issue 12.1: a module of a disabled device, with each credential.
        "disabled_parent_module_key": request("mqtt", "off/offmod", user("off/offmod"),
                                              token(OFFMOD_P,
                                                    f"{HOST}/devices/off/modules/offmod", exp)),
        "disabled_parent_policy": request("https", device="off", module="offmod",
                                          password=token(DEVICE_P, f"{HOST}/devices/off", exp,
                                                         "device")),
        "disabled_parent_self_signed": request("mqtt", "off/offself", user("off/offself"),
                                               cert=self_signed),
        "disabled_parent_ca": request("amqp", device="off", module="offca",
                                      cert=pki("offca.pem")),
        # Issue 12.2: a policy token's scope decoded twice (`%2564ev1` is device `%64ev1`).
        "policy_scope_double_decoded": request("mqtt", "dev1", user("dev1"),
                                               token(DEVICE_P, f"{HOST}/devices/%64ev1", exp,
                                                     "device")),
        "policy_scope_escaped_letter": request("https", device="dev1",
                                               password=token(DEVICE_P, f"{HOST}/devices/dev%31",
                                                              exp, "device")),
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
        "sasl_module": "dev1/modules/mod1@sas.myhub",
        "special_ids": "a-b.c+d%e_f#g*h?i!j(k)l,m:n=o@p$q'r;s\nh.net/a-b.c+d%e_f#g*h?i!j(k)l,m:n=o@p$q'r;s/?api-version=1",
        "device_id_inside_host": "dev\ndev.net/other/?api-version=1",
        "device_id_inside_query": "h.net/x/?api-version=1&d=dev",
        # Issue 15 (M17): the client ID's device ID inside another device ID's segment.
        "device_id_inside_another_segment": "dev1\nh.net/xxdev1/?api-version=1",
    }
    for name, data in usernames.items():
        write("hub_parse_mqtt_username", name, data)


if __name__ == "__main__":
    main()
