// Produce SAS tokens with Microsoft's Node SDK packages (azure-iot-common, azure-iot-device,
// azure-iot-security-symmetric-key; exact versions in package.json / package-lock.json next to
// this file) for every entry of ../inputs.json and print them as JSON. Run through ../generate.sh.
//
// Producers (read from the installed dist/*.js sources):
// * device: azure-iot-device SharedAccessSignature.create(host, deviceId, key, expiry)
//           and SharedAccessKeyAuthenticationProvider.getDeviceCredentials() (the client's path)
// * module: SharedAccessKeyAuthenticationProvider with credentials.moduleId
// * policy: hub-scoped: azure-iot-common SharedAccessSignature.create(encodeUriComponentStrict(host),
//           policy, key, expiry); device-scoped (device_id given): SharedAccessKeyAuthenticationProvider
//           with sharedAccessKeyName (resource stays {host}/devices/{id}, skn added)
// * dps, dps-group: azure-iot-security-symmetric-key SymmetricKeySecurityClient
//           .createSharedAccessSignature(idScope) (raw slashes, skn=registration); group keys derived
//           with azure-iot-common hmacHash(groupKey, registrationId) (the docs formula)
// Paths that read the clock (Date.now) run with Date.now frozen so `se` equals the wanted expiry.
'use strict';

const fs = require('fs');
const common = require('azure-iot-common');
const { hmacHash } = require('azure-iot-common/dist/authorization');
const device = require('azure-iot-device');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { SharedAccessKeyAuthenticationProvider } = require('azure-iot-device/dist/sak_authentication_provider');

const realNow = Date.now;
async function withClock(nowSeconds, fn) {
  Date.now = () => nowSeconds * 1000;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

async function sakToken(credentials, expiry) {
  const ttl = 3600;
  const provider = new SharedAccessKeyAuthenticationProvider(credentials, ttl, 900);
  try {
    // _renewToken: newExpiry = Math.floor(Date.now() / 1000) + tokenValidTimeInSeconds
    const creds = await withClock(expiry - ttl, () => provider.getDeviceCredentials());
    return creds.sharedAccessSignature;
  } finally {
    provider.stop();
  }
}

async function dpsToken(registrationId, key, idScope, expiry) {
  const client = new SymmetricKeySecurityClient(registrationId, key);
  // anHourFromNow(): Math.ceil(Date.now() / 1000 + 3600)
  const sas = await withClock(expiry - 3600, () => client.createSharedAccessSignature(idScope));
  return sas.toString();
}

function base(entry, producer) {
  const c = { sdk: 'node', kind: entry.kind };
  for (const f of ['host', 'device_id', 'module_id', 'policy', 'id_scope', 'registration_id']) {
    if (f in entry) c[f] = entry[f];
  }
  c.producer = producer;
  return c;
}

function finish(c, plain, key, expiry, token) {
  const parsed = common.SharedAccessSignature.parse(token, ['sr', 'sig', 'se']);
  if (String(parsed.se) !== String(expiry)) throw new Error(`se mismatch ${token} ${expiry}`);
  c.plain_resource = plain;
  c.key = key;
  c.expiry = expiry;
  c.token = token;
  return c;
}

async function produce(entry, keys) {
  const out = [];
  const expiry = entry.expiry;
  const hubPlain = (e) =>
    e.host + '/devices/' + e.device_id + (e.module_id ? '/modules/' + e.module_id : '');
  switch (entry.kind) {
    case 'device': {
      const key = keys[entry.key];
      const plain = hubPlain(entry);
      out.push(finish(base(entry, 'azure-iot-device SharedAccessSignature.create(host, deviceId, key, expiry)'),
        plain, key, expiry, device.SharedAccessSignature.create(entry.host, entry.device_id, key, expiry).toString()));
      const creds = { host: entry.host, deviceId: entry.device_id, sharedAccessKey: key };
      out.push(finish(base(entry, 'azure-iot-device SharedAccessKeyAuthenticationProvider.getDeviceCredentials'),
        plain, key, expiry, await sakToken(creds, expiry)));
      break;
    }
    case 'module': {
      const key = keys[entry.key];
      const creds = { host: entry.host, deviceId: entry.device_id, moduleId: entry.module_id, sharedAccessKey: key };
      out.push(finish(base(entry, 'azure-iot-device SharedAccessKeyAuthenticationProvider.getDeviceCredentials (moduleId)'),
        hubPlain(entry), key, expiry, await sakToken(creds, expiry)));
      break;
    }
    case 'policy': {
      const key = keys[entry.key];
      if (entry.device_id) {
        const creds = { host: entry.host, deviceId: entry.device_id, sharedAccessKeyName: entry.policy, sharedAccessKey: key };
        out.push(finish(base(entry, 'azure-iot-device SharedAccessKeyAuthenticationProvider.getDeviceCredentials (sharedAccessKeyName)'),
          hubPlain(entry), key, expiry, await sakToken(creds, expiry)));
      } else {
        const sas = common.SharedAccessSignature.create(common.encodeUriComponentStrict(entry.host), entry.policy, key, expiry);
        out.push(finish(base(entry, 'azure-iot-common SharedAccessSignature.create(encodeUriComponentStrict(host), policy, key, expiry)'),
          entry.host, key, expiry, sas.toString()));
      }
      break;
    }
    case 'dps':
    case 'dps-group': {
      let key;
      const c = base(entry, 'azure-iot-security-symmetric-key SymmetricKeySecurityClient.createSharedAccessSignature(idScope)');
      if (entry.kind === 'dps') {
        key = keys[entry.key];
      } else {
        c.group_key = keys[entry.group_key];
        key = hmacHash(c.group_key, entry.registration_id);
        c.derived_key_producer = 'azure-iot-common dist/authorization hmacHash(groupKey, registrationId) (docs formula)';
      }
      const plain = entry.id_scope + '/registrations/' + entry.registration_id;
      out.push(finish(c, plain, key, expiry, await dpsToken(entry.registration_id, key, entry.id_scope, expiry)));
      break;
    }
    default:
      throw new Error('unknown kind ' + entry.kind);
  }
  return out;
}

async function main() {
  const inputs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const cases = [];
  for (const entry of inputs.entries) {
    cases.push(...(await produce(entry, inputs.keys)));
  }
  const packages = {};
  for (const p of ['azure-iot-common', 'azure-iot-device', 'azure-iot-security-symmetric-key']) {
    packages[p] = require(p + '/package.json').version;
  }
  process.stdout.write(JSON.stringify({ packages, cases }, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
