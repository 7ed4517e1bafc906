#!/usr/bin/env python3
"""Writes the seed corpora of the iot-dps-proto fuzz targets.

Sources: the topics and payloads of azure-sdk-for-c
sdk/tests/iot/provisioning/test_az_iot_provisioning_client_parser.c (reference §5.2-5.4),
the python/node recordings in iot-dps-proto/tests/data/capture/ (UUID $rid), and the
state-machine scenarios of iot-dps-proto/tests/state_machine.rs.

Run from the repository root: python3 fuzz/gen_dps_corpus.py
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
OP = "4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d"
UUID = "347d594a-5550-4018-8207-73a9baed6a64"

TOPICS = {
    "sdkc_assigning": "$dps/registrations/res/202/?$rid=1&retry-after=3",
    "sdkc_assigning_reordered": "$dps/registrations/res/202/?retry-after=120&$rid=1",
    "sdkc_assigned": "$dps/registrations/res/200/?$rid=1",
    "sdkc_unauthorized": "$dps/registrations/res/401/?$rid=1",
    "sdkc_no_match": "$dps/registrations/unknown",
    "python_uuid": f"$dps/registrations/res/202/?$rid={UUID}&retry-after=3",
    "encoded_keys": "$dps/registrations/res/429/?%24rid=%31%32&Retry-After=%35",
    "no_query": "$dps/registrations/res/200",
    "bad_retry": "$dps/registrations/res/202/?$rid=1&retry-after=99999999999",
    "duplicate_rid": "$dps/registrations/res/202/?$rid=1&$rid=2",
    "register_request": "$dps/registrations/PUT/iotdps-register/?$rid=1",
    "status_request": f"$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId={OP}",
    "user_name": "0neFEEDC0DE/registrations/myRegistrationId/api-version=2019-03-31&ClientVersion=c%2F1.2.3",
}

ASSIGNED = (
    '{"operationId":"' + OP + '","status":"assigned","registrationState":{'
    '"x509":{},"registrationId":"myRegistrationId",'
    '"createdDateTimeUtc":"2020-04-10T03:11:13.0276997Z",'
    '"assignedHub":"contoso.azure-devices.net","deviceId":"my-device-id1",'
    '"status":"assigned","substatus":"initialAssignment",'
    '"lastUpdatedDateTimeUtc":"2020-04-10T03:11:13.2096201Z",'
    '"etag":"IjYxMDA4ZDQ2LTAwMDAtMDEwMC0wMDAwLTVlOGZlM2QxMDAwMCI="}}'
)
BODIES = {
    "sdkc_assigning": '{"operationId":"' + OP + '","status":"assigning"}',
    "sdkc_assigning_state": '{"operationId":"' + OP + '","status":"assigning","registrationState":'
    '{"registrationId":"myRegistrationId","status":"assigning"}}',
    "sdkc_assigned": ASSIGNED,
    "sdkc_disabled": '{"operationId":"","status":"disabled","registrationState":'
    '{"registrationId":"myRegistrationId","status":"disabled"}}',
    "sdkc_allocation_error": '{"operationId":"' + OP + '","status":"failed","registrationState":{'
    '"registrationId":"myRegistrationId","createdDateTimeUtc":"2020-04-10T03:11:13.0276997Z",'
    '"status":"failed","errorCode":400207,"errorMessage":"Custom allocation failed with status code: 400",'
    '"lastUpdatedDateTimeUtc":"2020-04-10T05:24:22.4718526Z"}}',
    "sdkc_invalid_cert": '{"errorCode":401002,"trackingId":"8ad0463c-6427-4479-9dfa-3e8bb7003e9b",'
    '"message":"Invalid certificate.","timestampUtc":"2020-04-10T05:24:22.4718526Z"}',
    "sdkc_payload": '{"operationId":"o","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d",'
    '"payload":{"hello":"world","o1":{"v1":123, "o2": {"v2":321}}, "arr":[1,2,3,4,5,6],"num":123}}}',
    "unknown_status": '{"operationId":"o","status":"unknown status123!@#"}',
    "python_register": '{"payload": null, "registrationId": "capture-device-sym"}',
    "tpm_register": '{"registrationId":"t","tpm":{"endorsementKey":"AToA","storageRootKey":"ARgA"}}',
    "csr_register": '{"registrationId":"a","clientCertificateCsr":"MIIB","csr":"MIIC"}',
    "empty": "",
    "space": " ",
    "deep": "[" * 40 + "]" * 40,
}

# Client scenarios: records [action, status index/raw, retry, len] + body.
ST = {200: 0, 202: 1, 429: 3, 500: 4, 503: 5, 400: 6, 401: 7}


def rec(action, status, retry, body=""):
    b = body.encode()
    return struct.pack("BBBB", action, ST[status], retry, len(b)) + b


TIMEOUT = struct.pack("BBBB", 3, 0, 0, 0)
ASSIGNING = BODIES["sdkc_assigning"]
SMALL_ASSIGNED = '{"operationId":"o","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d"}}'
CLIENT = {
    "assigning_then_assigned": rec(0, 202, 4, ASSIGNING) + TIMEOUT + rec(0, 200, 0, SMALL_ASSIGNED),
    "throttled": rec(0, 429, 8) + TIMEOUT + rec(0, 202, 0, ASSIGNING) + TIMEOUT + rec(0, 200, 0, SMALL_ASSIGNED),
    "server_errors": rec(0, 503, 0) + TIMEOUT + rec(0, 500, 0) + TIMEOUT + rec(0, 202, 1, ASSIGNING),
    "disabled": rec(0, 200, 0, BODIES["sdkc_disabled"]),
    "unauthorized": rec(0, 401, 0, BODIES["sdkc_invalid_cert"]),
    "foreign_then_real": rec(1, 200, 0, SMALL_ASSIGNED) + rec(0, 202, 2, ASSIGNING) + TIMEOUT,
    "lost_then_https": TIMEOUT + TIMEOUT + rec(2, 202, 1, ASSIGNING) + TIMEOUT + rec(2, 200, 0, SMALL_ASSIGNED),
    "zero_retry_storm": (rec(0, 202, 1, ASSIGNING) + TIMEOUT) * 12,
    "deadline": (rec(0, 202, 255, ASSIGNING) + TIMEOUT) * 4,
}


def write(target, files):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)


write("dps_parse_response_topic", TOPICS)
write("dps_parse_operation_status", BODIES)
write("dps_client_handle_response", CLIENT)
