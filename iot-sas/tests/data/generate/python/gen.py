"""Produce SAS tokens with Microsoft's Python device SDK (`azure-iot-device`, pinned in
requirements.txt next to this file) for every entry of ../inputs.json and print them as JSON.

Run through ../generate.sh. The tokens come out of the SDK's own client factories, whose
`RenewableSasToken` reads `time.time()` once; the clock is frozen with `unittest.mock.patch` so
that `se` equals the wanted expiry exactly:

* device:  IoTHubDeviceClient.create_from_symmetric_key(...) -> pipeline sastoken
* module:  IoTHubModuleClient.create_from_connection_string(...) (IDs with `;` cannot be written in a
           connection string; for those the same internals are called directly:
           abstract_clients._form_sas_uri + RenewableSasToken + SymmetricKeySigningMechanism)
* policy:  RenewableSasToken(uri, SymmetricKeySigningMechanism(key), key_name=policy) (the only
           path of the device SDK that writes `skn`)
* dps, dps-group: ProvisioningDeviceClient.create_from_symmetric_key(...) -> pipeline sastoken;
           group keys are derived with the SDK's SymmetricKeySigningMechanism(group_key).sign(reg_id)
           (the same HMAC the SDK sample provision_symmetric_key_group.py computes), cross-checked
           against Python's stdlib hmac.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
from importlib import metadata
from unittest import mock

from azure.iot.device import IoTHubDeviceClient, IoTHubModuleClient, ProvisioningDeviceClient
from azure.iot.device.common.auth import sastoken as st
from azure.iot.device.common.auth.signing_mechanism import SymmetricKeySigningMechanism
from azure.iot.device.iothub import abstract_clients as hub_clients
from azure.iot.device.provisioning import abstract_provisioning_device_client as prov_clients

DPS_GLOBAL_HOST = "global.azure-devices-provisioning.net"


def ttl_for(expiry):
    # The SDK computes se = int(time.time() + ttl); use the default TTL (3600 s) where possible.
    return 3600 if expiry > 3600 else expiry


def frozen_clock(expiry):
    return mock.patch("time.time", return_value=float(expiry - ttl_for(expiry)))


def hub_token(client):
    token = str(client._mqtt_pipeline.pipeline_configuration.sastoken)
    # The pipeline schedules a background renewal alarm at se - 120 s (real clock); shut the
    # never-connected client down so it does not fire later.
    client.shutdown()
    return token


def dps_token(client):
    return str(client._pipeline._nucleus.pipeline_configuration.sastoken)


def derive(group_key, registration_id):
    sdk = SymmetricKeySigningMechanism(group_key).sign(registration_id)
    stdlib = base64.b64encode(
        hmac.new(base64.b64decode(group_key), registration_id.encode("utf-8"), hashlib.sha256).digest()
    ).decode("ascii")
    assert sdk == stdlib, (registration_id, sdk, stdlib)
    return sdk


def produce(entry, keys):
    kind = entry["kind"]
    expiry = entry["expiry"]
    ttl = ttl_for(expiry)
    case = {"sdk": "python", "kind": kind}
    for field in ("host", "device_id", "module_id", "policy", "id_scope", "registration_id"):
        if field in entry:
            case[field] = entry[field]

    if kind == "device":
        key = keys[entry["key"]]
        plain = hub_clients._form_sas_uri(hostname=entry["host"], device_id=entry["device_id"])
        with frozen_clock(expiry):
            client = IoTHubDeviceClient.create_from_symmetric_key(
                symmetric_key=key, hostname=entry["host"], device_id=entry["device_id"], sastoken_ttl=ttl
            )
            token = hub_token(client)
        producer = "azure.iot.device.IoTHubDeviceClient.create_from_symmetric_key (RenewableSasToken)"
    elif kind == "module":
        key = keys[entry["key"]]
        plain = hub_clients._form_sas_uri(
            hostname=entry["host"], device_id=entry["device_id"], module_id=entry["module_id"]
        )
        if ";" in entry["device_id"] or ";" in entry["module_id"]:
            with frozen_clock(expiry):
                token = str(st.RenewableSasToken(plain, SymmetricKeySigningMechanism(key), ttl=ttl))
            producer = (
                "azure.iot.device.iothub.abstract_clients._form_sas_uri + "
                "common.auth.sastoken.RenewableSasToken(uri, SymmetricKeySigningMechanism(key))"
            )
        else:
            cs = "HostName={};DeviceId={};ModuleId={};SharedAccessKey={}".format(
                entry["host"], entry["device_id"], entry["module_id"], key
            )
            with frozen_clock(expiry):
                client = IoTHubModuleClient.create_from_connection_string(cs, sastoken_ttl=ttl)
                token = hub_token(client)
            producer = "azure.iot.device.IoTHubModuleClient.create_from_connection_string (RenewableSasToken)"
    elif kind == "policy":
        key = keys[entry["key"]]
        if "device_id" in entry:
            plain = hub_clients._form_sas_uri(hostname=entry["host"], device_id=entry["device_id"])
        else:
            plain = entry["host"]
        with frozen_clock(expiry):
            token = str(
                st.RenewableSasToken(
                    plain, SymmetricKeySigningMechanism(key), key_name=entry["policy"], ttl=ttl
                )
            )
        producer = (
            "azure.iot.device.common.auth.sastoken.RenewableSasToken(uri, "
            "SymmetricKeySigningMechanism(key), key_name=policy)"
        )
    elif kind in ("dps", "dps-group"):
        if kind == "dps":
            key = keys[entry["key"]]
        else:
            case["group_key"] = keys[entry["group_key"]]
            key = derive(case["group_key"], entry["registration_id"])
            case["derived_key_producer"] = (
                "azure.iot.device.common.auth.signing_mechanism.SymmetricKeySigningMechanism"
                "(group_key).sign(registration_id) == stdlib hmac per docs formula"
            )
        plain = prov_clients._form_sas_uri(
            id_scope=entry["id_scope"], registration_id=entry["registration_id"]
        )
        with frozen_clock(expiry):
            client = ProvisioningDeviceClient.create_from_symmetric_key(
                provisioning_host=DPS_GLOBAL_HOST,
                registration_id=entry["registration_id"],
                id_scope=entry["id_scope"],
                symmetric_key=key,
                sastoken_ttl=ttl,
            )
            token = dps_token(client)
        producer = "azure.iot.device.ProvisioningDeviceClient.create_from_symmetric_key (RenewableSasToken)"
    else:
        raise ValueError("unknown kind " + kind)

    # Sanity: the SDK's own parser accepts the token and se is the wanted expiry.
    info = st.get_sastoken_info_from_string(token)
    assert info["se"] == str(expiry), (token, expiry)

    case["producer"] = producer
    case["plain_resource"] = plain
    case["key"] = key
    case["expiry"] = expiry
    case["token"] = token
    return case


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        inputs = json.load(f)
    keys = inputs["keys"]
    cases = [produce(entry, keys) for entry in inputs["entries"]]
    out = {
        "packages": {"azure-iot-device": metadata.version("azure-iot-device")},
        "cases": cases,
    }
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    sys.stdout.flush()
    # The provisioning clients have no shutdown(); their daemon renewal alarms would print
    # thread tracebacks during interpreter teardown. Everything is written: leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
