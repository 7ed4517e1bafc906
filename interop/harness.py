"""Material and server for the interop suite: fresh keys (os.urandom) and a test PKI made by
`iot x509`, the import files (a Test hub, a Production hub, a DPS instance whose enrollments
all start on Test), and `iot serve` on the SDKs' fixed ports 8883 and 443."""
import base64
import json
import os
import signal
import socket
import subprocess
import time

ID_SCOPE = "0ne00C0FFEE"
TEST_HUB = "interop-test.azure-devices.net"
PROD_HUB = "interop-prod.azure-devices.net"
DPS_HOST = "interop-dps.azure-devices-provisioning.net"
SDKS = ("python", "node")
OWNER_RIGHTS = "RegistryRead, RegistryWrite, ServiceConnect, DeviceConnect"
DPS_RIGHTS = "ServiceConfig, EnrollmentRead, EnrollmentWrite, RegistrationStatusRead, RegistrationStatusWrite"
# The seed's step 1: every enrollment starts on the Test hub; re-provisioning resets to the
# enrollment's initial configuration (reference §8.4).
TEST_ONLY = {"allocationPolicy": "static", "iotHubs": [TEST_HUB],
             "reprovisionPolicy": {"updateHubAssignment": True, "migrateDeviceData": False}}


def key():
    return base64.b64encode(os.urandom(32)).decode()


def ports_free(ports):
    """Names the first taken port on 127.0.0.1, or None."""
    for port in ports:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return port
    return None


class Material:
    """Keys and certificates of one run. Per SDK: an individual symmetric key, a group key, the
    revoked device's key, a root CA (its own CA group), a CA-issued leaf for the group device
    and one for a hub `certificateAuthority` device, and a self-signed leaf."""

    def __init__(self, iot, directory, run_id):
        self.iot, self.dir, self.run_id = iot, directory, run_id
        now = int(time.time()) - 3600
        self.keys = {name: key() for name in ("dps-owner", "test-owner", "prod-owner")}
        self.sdk = {}
        for sdk in SDKS:
            s = sdk[:2] if sdk == "python" else sdk  # "py" / "node" in names
            root = self._x509("new-ca", f"root-{s}", "--cn", f"interop root CA ({sdk} devices)", now=now)
            self.sdk[sdk] = {
                "tag": s,
                "sym": key(), "sym2": key(), "group": key(), "group2": key(),
                "revoked": key(), "revoked2": key(),
                "root": root,
                "ca": self._x509("new-device", f"ca-{s}-01", "--device-id", f"ca-{s}-01",
                                 "--ca", root["cert"], "--ca-key", root["key"], now=now),
                "ca_hub": self._x509("new-device", f"ca-hub-{s}-01", "--device-id", f"ca-hub-{s}-01",
                                     "--ca", root["cert"], "--ca-key", root["key"], now=now),
                "x509": self._x509("new-device", f"x509-{s}-01", "--device-id", f"x509-{s}-01", now=now),
            }

    def _x509(self, command, name, *args, now):
        out = subprocess.run([self.iot, "x509", command, "--out", os.path.join(self.dir, name), "--days", "2",
                              "--now", str(now), "--json", *args],
                             check=True, capture_output=True, text=True, timeout=30)
        made = json.loads(out.stdout)
        made["pem"] = open(made["cert"]).read()
        return made

    def import_files(self):
        initial_twin = {"properties": {"desired": {"interopRun": self.run_id}}}

        def enrollment(**fields):
            return dict(fields, initialTwin=initial_twin, provisioningStatus="enabled", **TEST_ONLY)

        def sym(a, b):
            return {"type": "symmetricKey", "symmetricKey": {"primaryKey": a, "secondaryKey": b}}

        enrollments, groups, dps_certs, hub_certs = [], [], [], []
        for m in self.sdk.values():
            s = m["tag"]
            enrollments += [
                enrollment(registrationId=f"sym-{s}-01", attestation=sym(m["sym"], m["sym2"])),
                enrollment(registrationId=f"revoked-{s}-01", attestation=sym(m["revoked"], m["revoked2"])),
                enrollment(registrationId=f"x509-{s}-01", attestation={"type": "x509", "x509": {
                    "clientCertificates": {"primary": {"certificate": m["x509"]["pem"]}}}}),
            ]
            groups += [
                enrollment(enrollmentGroupId=f"sym-group-{s}", attestation=sym(m["group"], m["group2"])),
                enrollment(enrollmentGroupId=f"ca-group-{s}", attestation={"type": "x509", "x509": {
                    "caReferences": {"primary": f"root-{s}"}}}),
            ]
            dps_certs.append({"name": f"root-{s}", "certificate": m["root"]["pem"], "isVerified": True})
            hub_certs.append({"name": f"root-{s}", "properties": {"certificate": m["root"]["pem"], "isVerified": True}})
        dps = {
            "idScope": ID_SCOPE,
            "linkedHubs": [{"name": TEST_HUB}, {"name": PROD_HUB}],
            "x509CaOverWebSockets": False,
            "certificates": dps_certs,
            "serviceHostName": DPS_HOST,
            "authorizationPolicies": [{"keyName": "provisioningserviceowner", "primaryKey": self.keys["dps-owner"],
                                       "secondaryKey": key(), "rights": DPS_RIGHTS}],
            "enrollments": enrollments,
            "enrollmentGroups": groups,
        }
        hubs = [
            {"hostName": TEST_HUB, "x509CaOverWebSockets": False, "certificates": hub_certs,
             "authorizationPolicies": [{"keyName": "iothubowner", "primaryKey": self.keys["test-owner"],
                                        "secondaryKey": key(), "rights": OWNER_RIGHTS}]},
            {"hostName": PROD_HUB,
             "authorizationPolicies": [{"keyName": "iothubowner", "primaryKey": self.keys["prod-owner"],
                                        "secondaryKey": key(), "rights": OWNER_RIGHTS}]},
        ]
        paths = []
        for name, doc in (("test-hub.json", hubs[0]), ("prod-hub.json", hubs[1]), ("dps.json", dps)):
            path = os.path.join(self.dir, name)
            with open(path, "w") as f:
                json.dump(doc, f)
            paths.append(path)
        return paths


class Server:
    """`iot serve --json` on 8883 and 443 with a fresh state directory."""

    def __init__(self, iot, state, imports, start_timeout=20):
        self.iot, self.state = iot, state
        self.out_path = os.path.join(state, "serve.out")
        self.err_path = os.path.join(state, "serve.err")
        cmd = [iot, "serve", "--state", os.path.join(state, "db"), "--mqtt-port", "8883", "--https-port", "443", "--json"]
        for path in imports:
            cmd += ["--import", path]
        self.proc = subprocess.Popen(cmd, stdout=open(self.out_path, "w"), stderr=open(self.err_path, "w"))
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            lines = self.lines()
            if lines:
                self.summary = json.loads(lines[0])
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("iot serve did not start: " + open(self.err_path).read().strip()[-2000:])

    def lines(self):
        with open(self.out_path) as f:
            return [line for line in f.read().splitlines() if line.strip()]

    def decisions(self):
        """Every decision line after the summary, as JSON values."""
        out = []
        for line in self.lines()[1:]:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def find(self, pred, after=0, timeout=3.0):
        """The first decision at index >= `after` that satisfies `pred`, waiting up to `timeout`
        (decisions are written as they happen, but after the client may have seen the answer)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.decisions()[after:]:
                if pred(event):
                    return event
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def events(self):
        """Stored telemetry through `iot serve events --json` (the server is stopped first)."""
        out = subprocess.run([self.iot, "serve", "events", "--state", os.path.join(self.state, "db"), "--json"],
                             check=True, capture_output=True, text=True, timeout=30)
        return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
