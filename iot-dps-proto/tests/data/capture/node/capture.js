// Drives Microsoft's Node DPS device client (azure-iot-provisioning-device + -mqtt) once,
// against the local harness started by ../capture.py, and prints the outcome as one JSON line.
// Input: argv[2] = JSON {host, idScope, registrationId, auth: symkey|x509, key, payload, certFile, keyFile}.
'use strict';
const fs = require('fs');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt } = require('azure-iot-provisioning-device-mqtt');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { X509Security } = require('azure-iot-security-x509');

const job = JSON.parse(process.argv[2]);
let security;
if (job.auth === 'x509') {
  security = new X509Security(job.registrationId, {
    cert: fs.readFileSync(job.certFile, 'utf-8'),
    key: fs.readFileSync(job.keyFile, 'utf-8'),
  });
} else {
  security = new SymmetricKeySecurityClient(job.registrationId, job.key);
}
const client = ProvisioningDeviceClient.create(job.host, job.idScope, new Mqtt(), security);
if (job.payload !== null && job.payload !== undefined) {
  client.setProvisioningPayload(job.payload);
}
const done = (outcome) => {
  process.stdout.write(JSON.stringify(outcome) + '\n');
  process.exit(0);
};
const timer = setTimeout(() => done({ accepted: false, driver_error: 'timeout after 90 s' }), 90000);
client.register((err, result) => {
  clearTimeout(timer);
  if (err) {
    const chain = [];
    for (let e = err; e && chain.length < 5; e = e.innerError || e.cause) {
      chain.push({ type: e.name || (e.constructor && e.constructor.name), message: e.message,
        ...(e.result !== undefined ? { result: e.result } : {}),
        ...(e.transportObject !== undefined ? { transportObject: e.transportObject } : {}) });
      if (e === e.innerError) break;
    }
    // give the transport a moment to DISCONNECT so the harness records it
    setTimeout(() => done({ accepted: false, exception: chain }), 300);
  } else {
    setTimeout(() => done({ accepted: true, result: result }), 300);
  }
});
