// The Node side of the interop suite: Microsoft's unmodified Node device SDKs
// (azure-iot-provisioning-device 1.9.1 with -mqtt 1.8.1 and -http 1.9.1, azure-iot-device 1.18.4
// with -mqtt 1.16.4, azure-iot-security-symmetric-key / -x509) and the DPS service SDK
// (azure-iot-provisioning-service 1.11.2), driven by ../suite.py.
//
// Protocol: one JSON request per stdin line, {"id": N, "op": "...", "args": {...}}; one JSON
// answer per stdout line, {"id": N, "ok": true, "result": {...}} or {"id": N, "ok": false,
// "error": "..."}. Requests run concurrently; every SDK call is bounded by args.timeoutMs.
//
// Pointing the SDKs at loopback, as issue 10 allows and nothing else: devices dial `localhost`
// (the provisioning host, `GatewayHostName` in the connection string, `gatewayHostName` in the
// X509AuthenticationProvider credentials), the DPS service host name resolves to 127.0.0.1 in
// this process only (dns.lookup), and NODE_EXTRA_CA_CERTS (set by the caller) trusts the
// server's local CA. No SDK file is modified.
'use strict';
const fs = require('fs');
const dns = require('dns');
const readline = require('readline');

const realLookup = dns.lookup;
dns.lookup = function (host, opts, cb) {
  if (typeof opts === 'function') { cb = opts; opts = {}; }
  if (/\.azure-devices(-provisioning)?\.net$/.test(host)) host = '127.0.0.1';
  return realLookup.call(dns, host, opts, cb);
};

const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const ProvMqtt = require('azure-iot-provisioning-device-mqtt');
const { Http: ProvHttp } = require('azure-iot-provisioning-device-http');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { X509Security } = require('azure-iot-security-x509');
const { Client, Message, X509AuthenticationProvider } = require('azure-iot-device');
const HubMqtt = require('azure-iot-device-mqtt');
const { NoRetry } = require('azure-iot-common');
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');

/** Rejects after `ms` with a TimeoutError so no request can hang the suite. */
function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const e = new Error(`${what}: no answer within ${ms} ms`);
      e.name = 'TimeoutError';
      reject(e);
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What the suite needs from an SDK error: its class, message and any service status. */
function describe(err) {
  const out = { error: (err && (err.name || err.constructor.name)) || 'Error', message: String(err && err.message) };
  const result = err && err.result;
  if (result && typeof result === 'object') {
    if (result.status) out.status = result.status;
    if (result.errorCode) out.errorCode = result.errorCode;
    if (result.registrationState && result.registrationState.errorCode) out.errorCode = result.registrationState.errorCode;
  }
  const response = err && err.response;
  if (response && response.statusCode) out.statusCode = response.statusCode;
  if (err && err.transportError && err.transportError.message) out.transportError = err.transportError.message;
  return out;
}

function credentials(args) {
  if (args.symmetricKey) return { kind: 'sas', key: args.symmetricKey };
  return { kind: 'x509', cert: fs.readFileSync(args.certFile, 'utf8'), key: fs.readFileSync(args.keyFile, 'utf8') };
}

/** DPS registration through ProvisioningDeviceClient over mqtt, mqttws or http. */
async function register(args) {
  const transport = { mqtt: () => new ProvMqtt.Mqtt(), mqttws: () => new ProvMqtt.MqttWs(), http: () => new ProvHttp() }[args.transport];
  if (!transport) throw new Error('unknown DPS transport ' + args.transport);
  const cred = credentials(args);
  const security = cred.kind === 'sas'
    ? new SymmetricKeySecurityClient(args.registrationId, cred.key)
    : new X509Security(args.registrationId, { cert: cred.cert, key: cred.key });
  const client = ProvisioningDeviceClient.create('localhost', args.idScope, transport(), security);
  try {
    const result = await bounded(client.register(), args.timeoutMs, 'register');
    return {
      status: result.status || 'assigned',
      assignedHub: result.assignedHub,
      deviceId: result.deviceId,
      substatus: result.substatus,
    };
  } catch (err) {
    // A status the client does not expect (`disabled`) ends the registration with a SyntaxError
    // that carries the service's answer; a refusal (401) or a failure carries its status code.
    const d = describe(err);
    if (!d.status) d.status = 'error';
    return d;
  } finally {
    try { await bounded(client.cancel(), 2000, 'cancel'); } catch (_) { /* already idle */ }
  }
}

/** Opens a hub connection, sends messages, optionally reads the twin and patches reported. */
async function hub(args) {
  const cred = credentials(args);
  const Transport = args.transport === 'mqttws' ? HubMqtt.MqttWs : HubMqtt.Mqtt;
  let client;
  if (cred.kind === 'sas') {
    client = Client.fromConnectionString(
      `HostName=${args.hub};DeviceId=${args.deviceId};SharedAccessKey=${cred.key};GatewayHostName=localhost`, Transport);
  } else {
    // A connection string with x509=true drops GatewayHostName (device_client.ts), so the
    // provider is built from its credentials, as embedding.md §2 notes.
    const provider = new X509AuthenticationProvider({
      deviceId: args.deviceId, host: args.hub, gatewayHostName: 'localhost',
      x509: { cert: cred.cert, key: cred.key },
    });
    client = Client.fromAuthenticationProvider(provider, Transport);
  }
  client.setRetryPolicy(new NoRetry());
  client.on('error', () => { /* reported through the calls below */ });
  const out = { connected: false };
  try {
    await bounded(client.open(), args.timeoutMs, 'open');
    out.connected = true;
    out.sent = [];
    for (const m of args.messages || []) {
      const message = new Message(m.body);
      message.messageId = m.messageId;
      message.contentType = 'application/json';
      message.contentEncoding = 'utf-8';
      for (const [k, v] of Object.entries(m.properties || {})) message.properties.add(k, v);
      await bounded(client.sendEvent(message), args.timeoutMs, 'sendEvent');
      out.sent.push(m.messageId);
    }
    if (args.reported) {
      const twin = await bounded(client.getTwin(), args.timeoutMs, 'getTwin');
      out.desired = twin.properties.desired;
      await bounded(new Promise((resolve, reject) => twin.properties.reported.update(args.reported,
        (e) => (e ? reject(e) : resolve()))), args.timeoutMs, 'reported update');
      const again = await bounded(client.getTwin(), args.timeoutMs, 'getTwin');
      out.reported = again.properties.reported;
    }
  } catch (err) {
    Object.assign(out, describe(err));
  } finally {
    try { await bounded(client.close(), 3000, 'close'); } catch (_) { /* closing a refused client */ }
  }
  return out;
}

/** DPS service API: read an enrollment or group, change fields, write it back with its etag. */
async function dps(args) {
  const svc = ProvisioningServiceClient.fromConnectionString(args.connectionString);
  const group = args.collection === 'enrollmentGroups';
  const get = (id) => (group ? svc.getEnrollmentGroup(id) : svc.getIndividualEnrollment(id));
  const put = (body) => (group ? svc.createOrUpdateEnrollmentGroup(body) : svc.createOrUpdateIndividualEnrollment(body));
  try {
    const current = (await bounded(get(args.id), args.timeoutMs, 'get enrollment')).responseBody;
    if (!args.set) return { enrollment: current };
    const changed = Object.assign({}, current, args.set); // keeps the etag: a real If-Match
    const written = (await bounded(put(changed), args.timeoutMs, 'put enrollment')).responseBody;
    return { before: current, enrollment: written };
  } catch (err) {
    return describe(err);
  }
}

const ops = { register, hub, dps };

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let request;
  try { request = JSON.parse(line); } catch (e) { return; }
  const op = ops[request.op];
  const args = Object.assign({ timeoutMs: 20000 }, request.args);
  const answer = (body) => process.stdout.write(JSON.stringify(Object.assign({ id: request.id }, body)) + '\n');
  if (!op) { answer({ ok: false, error: 'unknown op ' + request.op }); return; }
  op(args).then((result) => answer({ ok: true, result }), (err) => answer({ ok: false, error: String(err && err.stack || err) }));
});
rl.on('close', () => process.exit(0));
process.stdout.write(JSON.stringify({ id: 0, ok: true, result: 'ready' }) + '\n');
