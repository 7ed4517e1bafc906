#!/usr/bin/env python3
"""Writes the seed corpora of the iot-sas fuzz targets: fuzz/corpus/sas_parse_token,
fuzz/corpus/sas_verify and fuzz/corpus/sas_parse_connection_string.

Independent of our Rust code: tokens are signed with Python's stdlib `hmac` (reference
azure-iot-protocol.md §1.2: HMAC-SHA256 over the raw `sr` + LF + `se`, key base64-decoded), and
`sr` is spelled as each producer of §1.3 spells it (python `quote(safe="")`, raw, lower-case
escapes, csharp's double `WebUtility.UrlEncode`, form `+`). The key is the one of the SDK
vectors (tests/data/sdk-vectors.json). Files not named here (for example fuzzer finds) are
left alone.

    python3 iot-sas/tests/data/make_fuzz_seeds.py
"""
import base64
import hashlib
import hmac
import os
from urllib.parse import quote

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
KEY = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg="
SE = 1578941692
NOW = 1578941000
HUB = "myiothub.azure-devices.net"


def mac(sr, se=SE, key=KEY):
    digest = hmac.new(base64.b64decode(key), f"{sr}\n{se}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def token(sr, sig=None, se=SE, skn=None):
    sig = quote(mac(sr, se), safe="") if sig is None else sig
    text = f"SharedAccessSignature sr={sr}&sig={sig}&se={se}"
    return text + (f"&skn={skn}" if skn else "")


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


def write(target, name, data):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def verify_seed(now, token_text, resource):
    """sas_verify input: `now` (8 bytes big endian), token, LF, plain resource."""
    return now.to_bytes(8, "big") + f"{token_text}\n{resource}".encode()


def sign_mode(key_slot, sr, se=SE):
    """The logic's sign mode: `\\x01{slot}{sr}\\x01{se}`, signed by the logic itself."""
    return "\x01" + chr(ord("0") + key_slot) + sr + "\x01" + str(se)


def main():
    device = f"{HUB}/devices/my_device"
    rfc = quote(device, safe="")
    lower = rfc.replace("%2F", "%2f")
    module = quote(f"{device}/modules/my_module", safe="")
    dps = "0neFEEDC0DE/registrations/myRegistrationId"
    dotnet = dotnet_url_encode(f"{HUB}/devices/{dotnet_url_encode('dev#1')}")
    plus = f"{HUB}%2Fdevices%2Fa+b"
    sig_lower = quote(mac(lower), safe="").replace("%2F", "%2f").replace("%3D", "%3d")
    tokens = {
        "hub_device_rfc3986": token(rfc),
        "hub_device_raw": token(device),
        "hub_device_lower_escapes": token(lower, sig=sig_lower),
        "hub_module": token(module),
        "hub_service_skn": token(HUB, skn="iothubowner"),
        "dps_python": token(quote(dps, safe="")),
        # node's DPS symmetric-key provider: raw `sr`, raw `sig` (§1.3, §1.4.2).
        "dps_raw_node_sig_raw": token(dps, sig=mac(dps)),
        "dotnet_double": token(dotnet),
        "plus_for_space": token(plus),
        "docs_order": "SharedAccessSignature sig=f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D"
                      "&se=1663119026&skn=device"
                      "&sr=MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device",
        "bad_case": "SharedAccessSignature SR=a&sig=b&se=1",
        "bad_duplicate": "SharedAccessSignature sr=a&sr=b&sig=x&se=1",
        "bad_leading_zero": token("a", sig=quote(mac(rfc), safe=""), se="01"),
    }
    for name, text in tokens.items():
        write("sas_parse_token", name, text)

    verify = {
        "hub_device_rfc3986": (NOW, tokens["hub_device_rfc3986"], device),
        "hub_device_raw": (NOW, tokens["hub_device_raw"], device),
        "hub_device_lower_escapes": (NOW, tokens["hub_device_lower_escapes"],
                                     "MyIotHub.azure-devices.net/devices/My_Device"),
        "hub_module": (NOW, tokens["hub_module"], f"{device}/modules/my_module"),
        "hub_service_skn": (NOW, tokens["hub_service_skn"], f"{HUB}/devices/any"),
        "dps_python": (NOW, tokens["dps_python"], dps),
        "dps_raw_node_sig_raw": (NOW, tokens["dps_raw_node_sig_raw"],
                                 "0neFEEDC0DE/registrations/myregistrationid"),
        "dotnet_double": (NOW, tokens["dotnet_double"], f"{HUB}/devices/dev#1"),
        "plus_for_space": (NOW, tokens["plus_for_space"], f"{HUB}/devices/a b"),
        "expired": (1578999999, tokens["hub_device_rfc3986"], device),
        # The verifier's 300 s of clock skew (§1.4.4): valid up to `se + 300`, not one second more.
        "within_skew": (SE + 300, tokens["hub_device_rfc3986"], device),
        "past_skew": (SE + 301, tokens["hub_device_rfc3986"], device),
        "prefix_not_segment": (NOW, tokens["hub_device_rfc3986"], f"{device}10"),
        "sdk_spelling_module_resource": (NOW, tokens["hub_device_rfc3986"],
                                         f"{HUB}/my_device/mod"),
        # `ResourceUri::Device { host, device_id: "my_devic" }` is not named by the SDK
        # spelling for `my_device` (the logic builds it from the resource's first `/`).
        "sdk_spelling_longer_id": (NOW, tokens["hub_device_rfc3986"], f"{HUB}/my_devic"),
        # csharp's spelling of an ID with reserved characters verifies (§1.3, §1.4.6)...
        "dotnet_special_id": (NOW, token(dotnet_url_encode(
            f"{HUB}/devices/{dotnet_url_encode('n@m.et#st')}")), f"{HUB}/devices/n@m.et#st"),
        # ...but `sr` is decoded once (issue 12.2): `%2564ev1` is the device `%64ev1`, not
        # `dev1`, and `x%2541` is `x%41`, not `xA`.
        "double_decoded_percent_id": (NOW, token(quote(f"{HUB}/devices/%64ev1", safe="")),
                                      f"{HUB}/devices/dev1"),
        "double_decoded_letter": (NOW, token(quote(f"{HUB}/devices/x%41", safe="")),
                                  f"{HUB}/devices/xA"),
        "percent_id_itself": (NOW, token(quote(f"{HUB}/devices/%64ev1", safe="")),
                              f"{HUB}/devices/%64ev1"),
        "sign_mode_primary": (NOW, sign_mode(0, f"{HUB}%2fDevices%2fmy_device"), device),
        "sign_mode_secondary_ok": (NOW, sign_mode(1, rfc), device),
        "sign_mode_secondary": (NOW, sign_mode(1, f"{HUB}/devices/dev%2531"), f"{HUB}/devices/dev1"),
    }
    for name, (now, text, resource) in verify.items():
        write("sas_verify", name, verify_seed(now, text, resource))

    strings = {
        "device_key": f"HostName=myhub.azure-devices.net;DeviceId=dev1;SharedAccessKey={KEY}",
        "device_policy": "HostName=myhub.azure-devices.net;DeviceId=dev1;"
                         f"SharedAccessKeyName=device;SharedAccessKey={KEY}",
        "module_key": f"HostName=myhub.azure-devices.net;DeviceId=dev1;ModuleId=m1;SharedAccessKey={KEY}",
        "device_token": f"HostName={HUB};DeviceId=my_device;"
                        f"SharedAccessSignature={tokens['hub_device_rfc3986']}",
        "device_x509_gateway": "HostName=myhub.azure-devices.net;DeviceId=dev1;x509=true;"
                               "GatewayHostName=edge.local",
        "hub_service": "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;"
                       f"SharedAccessKey={KEY}",
        "dps_service": "HostName=my-dps.azure-devices-provisioning.net;"
                       f"SharedAccessKeyName=provisioningserviceowner;SharedAccessKey={KEY}",
        "bad_duplicate": "HostName=h;DeviceId=d;DeviceId=e;x509=true",
        "bad_trailing_semicolon": "HostName=h;DeviceId=d;x509=true;",
        "bad_x509_value": "HostName=h;DeviceId=d;x509=True",
    }
    for name, text in strings.items():
        write("sas_parse_connection_string", name, text)


if __name__ == "__main__":
    main()
