"""Merge the per-SDK outputs of python/gen.py and node/gen.js into ../sdk-vectors.json.

Usage (see generate.sh): merge.py INPUTS PYTHON_JSON NODE_JSON OUT_JSON

Before writing, cross-checks that need no Rust code and fail the generation on mismatch:
* the derived group keys of both SDKs agree with each other and with the published vectors
  (shared/reference/azure-iot-protocol.md section 3: docs how-to-legacy-device-symm-key and
  azure-iot-cli-extension tests);
* tokens that the reference (section 1.8) lists for the same inputs come out identical;
* where python and node produce the same `sr` text, they produce the same `sig`;
* every `sig` equals a stdlib HMAC-SHA256 over `sr` + LF + `se` with the case key, and `sr`
  percent-decodes to `plain_resource` (reference section 1.2).
Output is deterministic: fixed key order, no timestamps except the constant GENERATED_ON.
"""

import base64
import hashlib
import hmac
import json
import sys
from urllib.parse import unquote

# Date the SDK versions were pinned and the vectors first generated. A constant so that a rerun
# reproduces the file byte for byte; change it only together with requirements.txt/package.json.
GENERATED_ON = "2026-11-28"

PUBLISHED_DERIVED_KEYS = {
    # docs iot-dps/how-to-legacy-device-symm-key
    "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6": "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=",
    # Azure/azure-iot-cli-extension azext_iot/tests/dps/__init__.py (TEST_ENDORSEMENT_KEY)
    "myarbitrarydeviceId": "cT/EXZvsplPEpT//p98Pc6sKh8mY3kYgSxavHwMkl7w=",
}

# shared/reference/azure-iot-protocol.md section 1.8 (python-style and node-raw rows).
REFERENCE_SIGS = {
    "myiothub.azure-devices.net%2Fdevices%2Fmy_device": "dIMMdDDBGFR8eqAfYkiMxoOphaFMPtMgj7Wg%2FYB1AvU%3D",
    "myiothub.azure-devices.net%2Fdevices%2Fmy_device%2Fmodules%2Fmy_module": "iAQRxkGTvQpFKsLRYZsj0xf8UcgKBbNZhWDb5pCSK9o%3D",
    "myiothub.azure-devices.net": "jNLd5fT1OOOh8Q3GOXfi%2BCbnqvMsE7%2BlpEsBASuS%2FKI%3D",
    "0neFEEDC0DE%2Fregistrations%2FmyRegistrationId": "%2Ft1VzEUrQ62f%2BJ%2B7chJSaFx3rh6pGwFWik1rI4kqc7E%3D",
    "0neFEEDC0DE/registrations/myRegistrationId": "ad%2By%2B8CaG7%2FLlhlx9g%2BtidAW4jsUwb6AluSr0p0mxfk%3D",
    "MyExampleHub.azure-devices.net%2Fdevices%2Fmy-symkey-device": "f%2BwW8XOKeJOtiPc9Iwjc4OpExvPM7NlhM9qxN2a1aAM%3D",
}


def fields(token):
    prefix = "SharedAccessSignature "
    assert token.startswith(prefix), token
    return dict(part.split("=", 1) for part in token[len(prefix):].split("&"))


def main():
    inputs_path, py_path, node_path, out_path = sys.argv[1:5]
    with open(py_path, encoding="utf-8") as f:
        py = json.load(f)
    with open(node_path, encoding="utf-8") as f:
        node = json.load(f)
    cases = py["cases"] + node["cases"]

    derived = {}
    reference_hits = 0
    by_sr = {}
    for case in cases:
        if "group_key" in case:
            k = (case["group_key"], case["registration_id"])
            derived.setdefault(k, set()).add(case["key"])
            want = PUBLISHED_DERIVED_KEYS.get(case["registration_id"])
            if want is not None:
                assert case["key"] == want, (case["registration_id"], case["key"], want)
        f = fields(case["token"])
        mac = hmac.new(base64.b64decode(case["key"], validate=True),
                       (f["sr"] + "\n" + f["se"]).encode("utf-8"), hashlib.sha256).digest()
        assert unquote(f["sig"]) == base64.b64encode(mac).decode("ascii"), case["token"]
        assert unquote(f["sr"]) == case["plain_resource"], case["token"]
        assert f["se"] == str(case["expiry"]), case["token"]
        want_sig = REFERENCE_SIGS.get(f["sr"])
        if want_sig is not None and case["expiry"] in (1578941692, 1663119026):
            assert f["sig"] == want_sig, (case["token"], want_sig)
            reference_hits += 1
        by_sr.setdefault((f["sr"], f["se"], case["key"]), set()).add(f["sig"])
    for k, v in derived.items():
        assert len(v) == 1, ("SDKs disagree on derived key", k, v)
    for k, v in by_sr.items():
        assert len(v) == 1, ("same sr/se/key, different sig", k, v)
    assert reference_hits >= 8, reference_hits
    assert set(PUBLISHED_DERIVED_KEYS) <= {c.get("registration_id") for c in cases}

    base = "iot-sas/tests/data/generate/"
    out = {
        "source": {
            "description": (
                "SAS tokens produced by Microsoft's own SDKs through their token-producing code "
                "paths (see each case's producer) with the clock frozen so that se is fixed. "
                "Inputs: " + base + "inputs.json."
            ),
            "generated_on": GENERATED_ON,
            "regenerate": "bash " + base + "generate.sh",
            "python": {
                "packages": py["packages"],
                "registry": "PyPI",
                "pinned_in": base + "python/requirements.txt",
                "generator": base + "python/gen.py",
            },
            "node": {
                "packages": node["packages"],
                "registry": "npm",
                "pinned_in": base + "node/package.json + package-lock.json",
                "generator": base + "node/gen.js",
            },
            "derived_keys": (
                "dps-group keys: python azure-iot-device SymmetricKeySigningMechanism(group_key)"
                ".sign(registration_id), checked equal to python stdlib hmac (docs formula) and to "
                "node azure-iot-common hmacHash(groupKey, registrationId); published vectors "
                "(docs how-to-legacy-device-symm-key, azure-iot-cli-extension tests) re-checked"
            ),
            "merge": base + "merge.py",
        },
        "cases": cases,
    }
    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
