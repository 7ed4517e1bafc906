"""The seed's workflow with Microsoft's unmodified SDKs (the same scenarios as `iot demo` and
`iot_server::engine::workflow`; reference §7.5, §7.6, §8.3, §8.4):

  1. the device registers with DPS and is assigned the Test hub (initialAssignment);
  2. it connects to Test and sends telemetry;
  3. the operator moves its enrollment to Production (Node azure-iot-provisioning-service) and
     deletes the device from Test (Python azure-iot-hub Registry Manager);
  4. Test refuses the device (CONNACK 5: unknown identity);
  5. the device registers again, DPS assigns Production (deviceDataReset: the reprovision
     policy resets to the enrollment's initial configuration) and Production lets it in (its
     twin holds the enrollment's initial desired properties; a reported patch round-trips).

Every step checks what the SDK saw and the decision the server logged (`iot serve --json`).
"""
import base64
import copy
import json
import os
import threading
import uuid

from harness import PROD_HUB, TEST_HUB
from sdk import sha256_thumbprint

MOVE_TO_PROD = {"allocationPolicy": "static", "iotHubs": [PROD_HUB],
                "reprovisionPolicy": {"updateHubAssignment": True, "migrateDeviceData": False}}


AUTH_ERROR = {"python": "CredentialError", "node": "UnauthorizedError"}


class Device:
    """One device of a scenario, driven by one SDK family."""

    def __init__(self, sdk, device_id, credential, dps, hub, enrollment, leaf_pem=None):
        self.sdk, self.id, self.credential = sdk, device_id, credential
        self.dps, self.hub = dps, hub  # transports: mqtt / mqttws / http (DPS, Node only)
        self.enrollment = enrollment  # ("enrollments" | "enrollmentGroups", id)
        self.leaf_pem = leaf_pem


class Context:
    """What the flows share: the server, the SDK clients, and the telemetry sent."""

    def __init__(self, server, clients, worker, rm, run_id):
        self.server, self.clients, self.worker, self.rm, self.run_id = server, clients, worker, rm, run_id
        self.dps_connection_string = server.summary["dps"]["serviceConnectionString"]
        self.sent = []  # (hub, device ID, message ID, sdk)
        self.lock = threading.Lock()


def step(title, dev, expected, actual, ok, notes=()):
    return {"step": title, "sdk": dev.sdk, "device": dev.id, "expected": expected, "actual": actual,
            "ok": bool(ok), "notes": [n for n in notes if n]}


def _short(result):
    keep = ("status", "assignedHub", "deviceId", "substatus", "error", "message", "cause", "statusCode", "errorCode",
            "connected")
    return {k: v for k, v in result.items() if k in keep and v is not None}


def saw_disabled(r):
    """How each SDK reports DPS status `disabled`: Node ends the registration with a SyntaxError
    carrying the service's answer (status disabled); Python 2.14.0 raises ClientError around a
    ServiceError "invalid registration status disabled" (it knows only assigned and failed)."""
    return r.get("status") == "disabled" or "invalid registration status disabled" in r.get("cause", "")


def saw_401(r):
    """How each SDK reports a DPS 401: Node an UnauthorizedError with the body's errorCode, Python
    a ClientError around a ServiceError naming status code 401."""
    return r.get("errorCode") == 401002 or "status code 401" in r.get("cause", "")


def register(ctx, dev, title, hub, substatus, transport=None):
    transport = transport or dev.dps
    mark = len(ctx.server.decisions())
    r = ctx.clients[dev.sdk].register(dev.id, dev.credential, transport)
    decision = ctx.server.find(lambda e: e.get("event") == "registration" and e.get("registrationId") == dev.id, mark)
    expected = f"assigned to {hub} as '{dev.id}'" + (f", substatus {substatus}" if substatus else "")
    ok = (r.get("status") == "assigned" and r.get("assignedHub") == hub and r.get("deviceId") == dev.id
          and (substatus is None or r.get("substatus") == substatus))
    actual = (f"assigned to {r.get('assignedHub')} as '{r.get('deviceId')}', substatus {r.get('substatus')}"
              if r.get("status") == "assigned" else f"not assigned: {_short(r)}")
    notes = [f"{dev.sdk} ProvisioningDeviceClient over {transport}",
             decision and f"server: {decision.get('message')}"]
    if dev.leaf_pem and r.get("status") == "assigned":
        good, note = thumbprint_check(ctx, dev, hub)
        ok &= good
        notes.append(note)
    return step(title, dev, expected, actual, ok, notes)


def thumbprint_check(ctx, dev, hub):
    """The hub identity DPS made for an X.509 device is `selfSigned` with the leaf's SHA-256
    thumbprint (pitfall §11.10), read back through the Registry Manager and compared with a
    thumbprint computed here with hashlib over the leaf's DER."""
    want = sha256_thumbprint(dev.leaf_pem)
    status, device = ctx.rm.get(hub, dev.id)
    if status != 200:
        return False, f"registry manager get_device({hub}, {dev.id}): status {status}"
    auth = device.authentication
    got = (auth.x509_thumbprint.primary_thumbprint or "") if auth.x509_thumbprint else ""
    ok = auth.type == "selfSigned" and got.upper() == want
    return ok, (f"registry manager: {dev.id} in {hub} is {auth.type}, primary thumbprint {got}; "
                f"hashlib SHA-256 of the leaf DER {want}")


def connect(ctx, dev, title, hub, deny=None, transport=None, twin=False):
    """Connects through the SDK; when the hub should allow it, sends one message (found later
    with `iot serve events`); `deny` is the refusal code the server must log."""
    transport = transport or dev.hub
    mark = len(ctx.server.decisions())
    mid = str(uuid.uuid4())
    message = {"messageId": mid, "properties": {"sdk": dev.sdk, "transport": transport},
               "body": json.dumps({"interopRun": ctx.run_id, "sdk": dev.sdk, "device": dev.id, "step": title})}
    reported = {"interop": {"sdk": dev.sdk, "step": title[:2]}} if twin else None
    r = ctx.clients[dev.sdk].hub(hub, dev.id, dev.credential, transport, [message], reported)
    decision = ctx.server.find(lambda e: e.get("event") == "connect" and e.get("endpoint") == "hub"
                               and e.get("identity") == dev.id and e.get("target") == hub, mark)
    logged = decision and f"server: {'allowed' if decision.get('accepted') else 'refused'} " \
                          f"({decision.get('reason')}: {decision.get('message')})"
    notes = [f"{dev.sdk} device client over {transport}", logged]
    if deny is None:
        expected = f"{hub} allows the connection; the message is acknowledged"
        ok = r.get("connected") and r.get("sent") == [mid] and decision and decision.get("accepted") is True
        if r.get("sent") == [mid]:
            with ctx.lock:
                ctx.sent.append((hub, dev.id, mid, dev.sdk))
        actual = ("allowed, message acknowledged" if ok else f"{_short(r)}")
        if twin:
            desired = (r.get("desired") or {}).get("interopRun")
            echoed = (r.get("reported") or {}).get("interop")
            twin_ok = desired == ctx.run_id and echoed == reported["interop"]
            ok = ok and twin_ok
            notes.append(f"twin: desired interopRun {'from the enrollment' if desired == ctx.run_id else repr(desired)}"
                         f", reported patch {'read back' if echoed == reported['interop'] else 'MISSING'}")
    else:
        code, label = deny
        expected = f"{hub} refuses: {label} ({code})"
        # CONNACK 5 must reach the application as the SDK's authentication error, not as a
        # retryable network failure (embedding.md §1: python mqtt_transport, node mqtt_translate_error).
        auth_error = r.get("error") == AUTH_ERROR[dev.sdk]
        ok = (not r.get("connected")) and auth_error and decision and decision.get("accepted") is False \
            and decision.get("reason") == code
        actual = f"refused: the SDK raised {r.get('error')}" if not r.get("connected") else "ALLOWED"
    return step(title, dev, expected, actual, ok, notes)


def edit_enrollment(ctx, dev, changes, title, expected, check):
    collection, eid = dev.enrollment
    r = ctx.worker.call("dps", connectionString=ctx.dps_connection_string, collection=collection, id=eid, set=changes)
    after = r.get("enrollment") or {}
    before = r.get("before") or {}
    ok = check(after) and after.get("etag") and after.get("etag") != before.get("etag")
    actual = "updated" if ok else f"not updated: {_short(r) or after}"
    note = f"Node azure-iot-provisioning-service: {collection}/{eid} GET, PUT with If-Match etag " \
           f"{before.get('etag')} -> {after.get('etag')}"
    return step(title, dev, expected, actual, ok, [note])


def delete_from_hub(ctx, dev, hub):
    status = ctx.rm.delete(hub, dev.id)
    after, _ = ctx.rm.get(hub, dev.id)
    return status == 200 and after == 404, \
        f"Python azure-iot-hub: delete_device({dev.id}) on {hub}: ok={status == 200}; get_device after: {after}"


def move_to_production(ctx, dev):
    steps = [register(ctx, dev, "1. device registers with DPS", TEST_HUB, "initialAssignment"),
             connect(ctx, dev, "2. device connects to the Test hub", TEST_HUB)]
    moved = edit_enrollment(ctx, dev, MOVE_TO_PROD, "3. operator moves the enrollment to Production and deletes the device from Test",
                            "enrollment names only Production (reset on reprovision); device deleted from Test",
                            lambda e: e.get("iotHubs") == [PROD_HUB] and e.get("allocationPolicy") == "static")
    deleted, note = delete_from_hub(ctx, dev, TEST_HUB)
    moved["ok"] &= deleted
    moved["actual"] = "enrollment updated, device deleted from Test" if moved["ok"] else moved["actual"] + f"; deleted={deleted}"
    moved["notes"].append(note)
    steps += [moved,
              connect(ctx, dev, "4. device connects to the Test hub again", TEST_HUB,
                      deny=("unknown_identity", "the device is not registered in the hub")),
              register(ctx, dev, "5. device registers again", PROD_HUB, "deviceDataReset"),
              connect(ctx, dev, "5b. device connects to the Production hub", PROD_HUB, twin=True)]
    if "symmetricKey" in dev.credential:
        wrong = copy.copy(dev)
        wrong.credential = {"symmetricKey": base64.b64encode(os.urandom(32)).decode()}
        steps.append(connect(ctx, wrong, "5c. the same device ID with a wrong key", PROD_HUB,
                             deny=("bad_signature", "the SAS token's signature does not match the device key")))
    return steps


def dps_websockets_refused(ctx, dev):
    """The CA group device (after its move to Production) registers over MQTT over WebSockets:
    DPS refuses X.509 CA attestation there (x509CaOverWebSockets false, reference §6.4); the same
    device over MQTT/TLS is assigned."""
    mark = len(ctx.server.decisions())
    r = ctx.clients[dev.sdk].register(dev.id, dev.credential, "mqttws")
    decision = ctx.server.find(lambda e: e.get("event") == "registration" and e.get("registrationId") == dev.id, mark)
    refused = r.get("status") != "assigned" and saw_401(r) and decision is not None and decision.get("reason") == "failed" \
        and "401002" in json.dumps(decision)
    steps = [step("device registers over MQTT over WebSockets", dev,
                  "DPS refuses: X.509 CA attestation over WebSockets is disabled (401002)",
                  f"refused: {_short(r)}" if r.get("status") != "assigned" else "ASSIGNED", refused,
                  [decision and f"server: {decision.get('message')}"])]
    steps.append(register(ctx, dev, "the same device registers over MQTT/TLS", PROD_HUB, None, transport="mqtt"))
    return steps


def hub_websockets_refused(ctx, dev):
    """A `certificateAuthority` hub identity (created through the Registry Manager) is refused
    over MQTT over WebSockets (hub setting x509CaOverWebSockets false) and allowed over MQTT/TLS."""
    status, device = ctx.rm.create_ca_device(TEST_HUB, dev.id)
    created = status == 200 and device.authentication.type == "certificateAuthority"
    steps = [step("operator creates a certificateAuthority device in Test", dev, "created",
                  "created" if created else f"status {status}", created,
                  ["Python azure-iot-hub: create_device_with_certificate_authority"]),
             connect(ctx, dev, "device connects over MQTT over WebSockets", TEST_HUB, transport="mqttws",
                     deny=("x509_ca_over_websockets", "X.509 CA authentication over WebSockets is disabled")),
             connect(ctx, dev, "the same device connects over MQTT/TLS", TEST_HUB, transport="mqtt")]
    return steps


def revocation(ctx, dev):
    """Disabling an enrollment in DPS does not revoke hub access (reference §7.6, pitfall
    §11.9): the device keeps connecting until the Registry Manager deletes it."""
    steps = [register(ctx, dev, "1. device registers with DPS", TEST_HUB, "initialAssignment"),
             connect(ctx, dev, "2. device connects to the Test hub", TEST_HUB),
             edit_enrollment(ctx, dev, {"provisioningStatus": "disabled"}, "3. operator disables the enrollment in DPS",
                             "enrollment disabled (this alone does not revoke hub access)",
                             lambda e: e.get("provisioningStatus") == "disabled"),
             connect(ctx, dev, "4. device connects to the Test hub (hub identity untouched)", TEST_HUB)]
    mark = len(ctx.server.decisions())
    r = ctx.clients[dev.sdk].register(dev.id, dev.credential, dev.dps)
    decision = ctx.server.find(lambda e: e.get("event") == "registration" and e.get("registrationId") == dev.id, mark)
    steps.append(step("5. device registers again", dev, "DPS answers status disabled", f"{_short(r)}",
                      saw_disabled(r) and decision and decision.get("reason") == "disabled",
                      [decision and f"server: {decision.get('message')}"]))
    deleted, note = delete_from_hub(ctx, dev, TEST_HUB)
    last = connect(ctx, dev, "6. operator deletes the device from Test; it connects to Test", TEST_HUB,
                   deny=("unknown_identity", "the device is not registered in the hub"))
    last["ok"] &= deleted
    last["notes"].insert(0, note)
    steps.append(last)
    return steps
