"""The SDK clients of the interop suite, each bounded in time.

* Python devices: Microsoft's unmodified `azure-iot-device` 2.14.0 (ProvisioningDeviceClient
  over MQTT or MQTT over WebSockets, IoTHubDeviceClient), dialling `localhost` through
  `provisioning_host` / `gateway_hostname` and trusting the server's CA through
  `server_verification_cert`.
* Registry Manager: unmodified `azure-iot-hub` 2.7.0 `IoTHubRegistryManager`; hub host names
  resolve to 127.0.0.1 inside this process only, `REQUESTS_CA_BUNDLE` trusts the server's CA.
* Node: `node/worker.js` (device SDKs and the DPS service SDK), one child process spoken to in
  JSON lines.
"""
import hashlib
import json
import logging
import os
import queue
import socket
import ssl
import subprocess
import threading

_real_getaddrinfo = socket.getaddrinfo


def _loopback(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith((".azure-devices.net", ".azure-devices-provisioning.net")):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback
# The device SDK logs refused connections from its background threads; the suite reports them.
logging.getLogger("azure.iot.device").setLevel(logging.CRITICAL)

from azure.iot.device import IoTHubDeviceClient, Message, ProvisioningDeviceClient, X509  # noqa: E402
from azure.iot.hub import IoTHubRegistryManager  # noqa: E402
from msrest.exceptions import HttpOperationError  # noqa: E402


class Timeout(Exception):
    """A bounded call did not return in time."""


def bounded(seconds, fn, *args, **kwargs):
    """Runs `fn` in a daemon thread; raises Timeout if it has not returned after `seconds`."""
    box = {}

    def run():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as e:  # handed to the caller
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise Timeout(f"{getattr(fn, '__name__', 'call')}: no answer within {seconds} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def sha256_thumbprint(pem_text):
    """The SHA-256 thumbprint of the first certificate of a PEM text, computed independently of
    the server: Python's ssl (PEM to DER) and hashlib, upper-case hex as IoT Hub shows it."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem_text)).hexdigest().upper()


def _error(e):
    """The exception and what it wraps (the Python SDK raises ClientError("Unexpected failure")
    around the ServiceError that names the service's answer)."""
    out = {"error": type(e).__name__, "message": str(e)[:300]}
    cause = e.__cause__ or e.__context__
    if cause is not None:
        out["cause"] = f"{type(cause).__name__}: {str(cause)[:300]}"
    return out


class PythonDevice:
    """One device through the Python SDK. `credential` is {"symmetricKey": K} or
    {"certFile": F, "keyFile": F}."""

    sdk = "python"

    def __init__(self, ca_pem, id_scope, timeout=25):
        self.ca_pem, self.id_scope, self.timeout = ca_pem, id_scope, timeout

    def register(self, registration_id, credential, transport):
        websockets = {"mqtt": False, "mqttws": True}[transport]
        kw = dict(provisioning_host="localhost", registration_id=registration_id, id_scope=self.id_scope,
                  server_verification_cert=self.ca_pem, websockets=websockets)
        if "symmetricKey" in credential:
            client = ProvisioningDeviceClient.create_from_symmetric_key(symmetric_key=credential["symmetricKey"], **kw)
        else:
            client = ProvisioningDeviceClient.create_from_x509_certificate(
                x509=X509(cert_file=credential["certFile"], key_file=credential["keyFile"]), **kw)
        try:
            result = bounded(self.timeout, client.register)
        except Exception as e:  # a refusal surfaces as an SDK exception
            self._end(client)
            return dict(status="error", **_error(e))
        state = result.registration_state
        if result.status != "assigned":
            self._end(client)
        return {"status": result.status,
                "assignedHub": state.assigned_hub if state else None,
                "deviceId": state.device_id if state else None,
                "substatus": state.sub_status if state else None}

    def _end(self, client):
        """register() shuts its pipeline down only after `assigned`; after a refusal the client
        stays connected and, with its automatic reconnect, would take the client ID back from
        the device's next registration (one session per client ID, MQTT 3.1.1 §3.1.4-2). The
        client has no public shutdown, so the suite does what register() does on success."""
        try:
            done = threading.Event()
            client._pipeline.shutdown(callback=lambda error=None: done.set())
            done.wait(5)
        except Exception:
            pass

    def hub(self, hub, device_id, credential, transport, messages, reported=None):
        common = dict(hostname=hub, device_id=device_id, gateway_hostname="localhost",
                      server_verification_cert=self.ca_pem, websockets=transport == "mqttws",
                      connection_retry=False)
        if "symmetricKey" in credential:
            client = IoTHubDeviceClient.create_from_symmetric_key(symmetric_key=credential["symmetricKey"], **common)
        else:
            client = IoTHubDeviceClient.create_from_x509_certificate(
                x509=X509(cert_file=credential["certFile"], key_file=credential["keyFile"]), **common)
        out = {"connected": False}
        try:
            bounded(self.timeout, client.connect)
            out["connected"], out["sent"] = True, []
            for m in messages:
                message = Message(m["body"], message_id=m["messageId"], content_encoding="utf-8",
                                  content_type="application/json")
                message.custom_properties.update(m.get("properties", {}))
                bounded(self.timeout, client.send_message, message)
                out["sent"].append(m["messageId"])
            if reported is not None:
                out["desired"] = bounded(self.timeout, client.get_twin).get("desired")
                bounded(self.timeout, client.patch_twin_reported_properties, reported)
                out["reported"] = bounded(self.timeout, client.get_twin).get("reported")
        except Exception as e:  # CONNACK 5 is the SDK's CredentialError
            out.update(_error(e))
        finally:
            try:
                bounded(5, client.shutdown)
            except Exception:
                pass
        return out


class NodeWorker:
    """`node/worker.js` as a child process: concurrent requests, one answer line each."""

    def __init__(self, node_dir, ca_path, timeout=30):
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=ca_path)
        self.proc = subprocess.Popen(["node", "worker.js"], cwd=node_dir, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.timeout = timeout
        self.lock = threading.Lock()
        self.waiting = {}
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()
        ready = queue.Queue()
        self.waiting[0] = ready
        try:
            ready.get(timeout=timeout)
        except queue.Empty:
            raise Timeout("node worker did not start (npm ci in interop/node?)") from None

    def _read(self):
        for line in self.proc.stdout:
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            box = self.waiting.pop(answer.get("id"), None)
            if box is not None:
                box.put(answer)

    def call(self, op, **args):
        box = queue.Queue()
        with self.lock:
            rid, self.next_id = self.next_id, self.next_id + 1
            self.waiting[rid] = box
            args.setdefault("timeoutMs", int(self.timeout * 1000 * 0.8))
            self.proc.stdin.write(json.dumps({"id": rid, "op": op, "args": args}) + "\n")
            self.proc.stdin.flush()
        try:
            answer = box.get(timeout=self.timeout)
        except queue.Empty:
            raise Timeout(f"node {op}: no answer within {self.timeout} s") from None
        if not answer.get("ok"):
            raise RuntimeError(f"node {op}: {answer.get('error')}")
        return answer["result"]

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(5)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read()


class NodeDevice:
    """One device through the Node SDKs (in the worker)."""

    sdk = "node"

    def __init__(self, worker, id_scope):
        self.worker, self.id_scope = worker, id_scope

    def register(self, registration_id, credential, transport):
        return self.worker.call("register", transport=transport, idScope=self.id_scope,
                                registrationId=registration_id, **credential)

    def hub(self, hub, device_id, credential, transport, messages, reported=None):
        args = dict(hub=hub, deviceId=device_id, transport=transport, messages=messages, **credential)
        if reported is not None:
            args["reported"] = reported
        return self.worker.call("hub", **args)


class RegistryManager:
    """Python azure-iot-hub IoTHubRegistryManager, one per hub owner connection string."""

    def __init__(self, connection_strings, timeout=20):
        self.connection_strings, self.timeout = connection_strings, timeout

    def _rm(self, hub):
        return IoTHubRegistryManager.from_connection_string(self.connection_strings[hub])

    def _call(self, hub, method, *args):
        try:
            return 200, bounded(self.timeout, getattr(self._rm(hub), method), *args)
        except HttpOperationError as e:
            return e.response.status_code, None

    def get(self, hub, device_id):
        return self._call(hub, "get_device", device_id)

    def delete(self, hub, device_id):
        status, _ = self._call(hub, "delete_device", device_id)
        return status

    def create_ca_device(self, hub, device_id):
        return self._call(hub, "create_device_with_certificate_authority", device_id, "enabled")
