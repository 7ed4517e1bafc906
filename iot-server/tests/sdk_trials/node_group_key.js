// Trial: unmodified Node SDKs against iot serve on an ephemeral port.
// usage: NODE_EXTRA_CA_CERTS=ca.pem node trial.js PORT
const port = process.argv[2];
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt: ProvMqtt } = require('azure-iot-provisioning-device-mqtt');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const crypto = require('crypto');
// A device of the "sensors" group in examples/dps.json: key derived from the group key.
const groupKey = Buffer.from(Array.from({length: 32}, (_, i) => (0x50 + i) % 256)).toString('base64');
const regId = 'node-sensor-7';
const deviceKey = crypto.createHmac('sha256', Buffer.from(groupKey, 'base64')).update(regId).digest('base64');
const security = new SymmetricKeySecurityClient(regId, deviceKey);
const prov = ProvisioningDeviceClient.create('localhost:' + port, '0ne00000A0A', new ProvMqtt(), security);
prov.register((err, result) => {
  if (err) { console.log('register failed:', err.message); process.exit(1); }
  console.log('register:', result.assignedHub, result.deviceId, result.substatus);
  const cs = `HostName=${result.assignedHub};DeviceId=${result.deviceId};SharedAccessKey=${deviceKey};GatewayHostName=localhost:${port}`;
  const client = Client.fromConnectionString(cs, Mqtt);
  client.open((err) => {
    if (err) { console.log('open failed:', err.message); process.exit(1); }
    const m = new Message(JSON.stringify({ from: 'node' }));
    m.properties.add('kind', 'trial');
    client.sendEvent(m, (err) => {
      console.log('sendEvent:', err ? err.message : 'ok');
      client.getTwin((err, twin) => {
        if (err) { console.log('twin failed:', err.message); process.exit(1); }
        twin.properties.reported.update({ node: true }, (err) => {
          console.log('reported update:', err ? err.message : 'ok', 'version', twin.properties.reported.$version);
          client.close(() => process.exit(0));
        });
      });
    });
  });
});
