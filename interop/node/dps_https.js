// Drives Microsoft's unmodified Node SDKs against a running `iot serve` over HTTPS
// (127.0.0.1:443, the SDKs' fixed port): azure-iot-provisioning-service 1.11.2 (individual
// enrollment and group create/get/delete, registration state get/delete, a wrong key) and
// azure-iot-provisioning-device-http 1.9.1 (a symmetric-key device registers over HTTPS).
//
// Usage (from interop/node, after npm ci; ../suite.py runs it): NODE_EXTRA_CA_CERTS=STATE/tls/ca.pem node dps_https.js SUMMARY_JSON
// DPS and hub host names resolve to 127.0.0.1 inside this process only; the device dials
// `localhost`, which the server certificate covers. Prints one JSON object; exit 1 on a
// step that did not behave as DPS does.
'use strict';
const fs = require('fs');
const dns = require('dns');
const crypto = require('crypto');
const origLookup = dns.lookup;
dns.lookup = function (host, opts, cb) {
  if (typeof opts === 'function') { cb = opts; opts = {}; }
  if (/\.azure-devices(-provisioning)?\.net$/.test(host)) host = '127.0.0.1';
  return origLookup.call(dns, host, opts, cb);
};
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Http } = require('azure-iot-provisioning-device-http');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');

const summary = JSON.parse(fs.readFileSync(process.argv[2], 'utf8').split('\n')[0]);
const svc = ProvisioningServiceClient.fromConnectionString(summary.dps.serviceConnectionString);
const hub = summary.hubs[0].hostName;
const key = crypto.randomBytes(32).toString('base64');
const regId = 'node-http-' + crypto.randomBytes(4).toString('hex');
const out = {};
const failures = [];
const expect = (name, ok) => { if (!ok) failures.push(name); };
const status = (e) => (e && (e.responseBody !== undefined || e.response) ? (e.response && e.response.statusCode) : undefined) || (e && e.statusCode);

function register() {
  return new Promise((resolve) => {
    const sec = new SymmetricKeySecurityClient(regId, key);
    const client = ProvisioningDeviceClient.create('localhost', summary.dps.idScope, new Http(), sec);
    client.register((err, res) => resolve(err ? { err: err.message } : res));
  });
}

(async () => {
  const enrollment = {
    registrationId: regId,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key, secondaryKey: key } },
    allocationPolicy: 'static', iotHubs: [hub],
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false },
  };
  const created = (await svc.createOrUpdateIndividualEnrollment(enrollment)).responseBody;
  out.create = [created.registrationId, created.etag];
  expect('create', created.registrationId === regId && !!created.etag);

  const got = (await svc.getIndividualEnrollment(regId)).responseBody;
  out.get = [got.registrationId, got.etag, got.allocationPolicy];
  expect('get', got.etag === created.etag && got.allocationPolicy === 'static');

  try {
    await svc.createOrUpdateIndividualEnrollment(Object.assign({}, enrollment, { etag: 'stale' }));
    out.staleEtag = 200;
  } catch (e) { out.staleEtag = status(e); }
  expect('staleEtag', out.staleEtag === 412);

  const res = await register();
  out.register = res.err ? res : [res.assignedHub, res.deviceId];
  expect('register', res.assignedHub === hub && res.deviceId === regId);

  const state = (await svc.getDeviceRegistrationState(regId)).responseBody;
  out.registrationState = [state.status, state.assignedHub, state.deviceId, state.substatus];
  expect('registrationState', state.status === 'assigned' && state.assignedHub === hub);

  await svc.deleteDeviceRegistrationState(regId);
  try { await svc.getDeviceRegistrationState(regId); out.stateAfterDelete = 200; } catch (e) { out.stateAfterDelete = status(e); }
  expect('stateAfterDelete', out.stateAfterDelete === 404);

  const group = { enrollmentGroupId: regId + '-grp', attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key, secondaryKey: key } } };
  const g = (await svc.createOrUpdateEnrollmentGroup(group)).responseBody;
  out.group = [g.enrollmentGroupId, g.etag];
  expect('group', g.enrollmentGroupId === group.enrollmentGroupId && !!g.etag);
  const gg = (await svc.getEnrollmentGroup(group.enrollmentGroupId)).responseBody;
  expect('getGroup', gg.etag === g.etag);
  await svc.deleteEnrollmentGroup(group.enrollmentGroupId);

  await svc.deleteIndividualEnrollment(regId);
  try { await svc.getIndividualEnrollment(regId); out.getDeleted = 200; } catch (e) { out.getDeleted = status(e); }
  expect('getDeleted', out.getDeleted === 404);

  const wrong = summary.dps.serviceConnectionString.replace(/SharedAccessKey=[^;]*/, 'SharedAccessKey=' + crypto.randomBytes(32).toString('base64'));
  try { await ProvisioningServiceClient.fromConnectionString(wrong).getIndividualEnrollment(regId); out.wrongKey = 200; } catch (e) { out.wrongKey = status(e); }
  expect('wrongKey', out.wrongKey === 401);

  out.failures = failures;
  console.log(JSON.stringify(out));
  process.exit(failures.length ? 1 : 0);
})().catch((e) => { console.log(JSON.stringify({ error: e.message, status: status(e), out })); process.exit(1); });
