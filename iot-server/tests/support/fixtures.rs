//! A hub file and a DPS file with fresh keys and certificates, and a started server.

use std::path::{Path, PathBuf};

use iot_server::{Limits, RunningServer, Server, ServerConfig};
use iot_x509::generate::{
    GeneratedCert, Validity, new_device_cert, new_root_ca, new_self_signed_device_cert,
};
use serde_json::json;

use super::{DPS_HOST, HUB, SCOPE, key, now};

pub struct Pki {
    pub root: GeneratedCert,
    pub self_signed: GeneratedCert,
    pub ca_device: GeneratedCert,
    pub dps_ca_device: GeneratedCert,
    pub dps_x509_device: GeneratedCert,
}

impl Pki {
    pub fn new() -> Self {
        let validity = Validity::days(now() as i64 - 3600, 30);
        let root = new_root_ca("iot-server test root", validity).unwrap();
        Self {
            self_signed: new_self_signed_device_cert("dev-self", validity).unwrap(),
            ca_device: new_device_cert("dev-ca", &root, validity).unwrap(),
            dps_ca_device: new_device_cert("ca-dev-1", &root, validity).unwrap(),
            dps_x509_device: new_self_signed_device_cert("x509-dev-1", validity).unwrap(),
            root,
        }
    }

    /// PEM chain leaf + root.
    pub fn chain(&self, leaf: &GeneratedCert) -> String {
        format!("{}{}", leaf.cert_pem, self.root.cert_pem)
    }
}

pub fn hub_file(pki: &Pki) -> serde_json::Value {
    let thumbprint = iot_x509::Thumbprint::sha256_of(&pki.self_signed.der).to_string();
    json!({
        "hostName": HUB,
        "authorizationPolicies": [{
            "keyName": "iothubowner", "primaryKey": key(100), "secondaryKey": key(101),
            "rights": "RegistryWrite, ServiceConnect, DeviceConnect"
        }],
        "certificates": [{
            "name": "root", "properties": {"certificate": pki.root.cert_pem, "isVerified": true}
        }],
        "identities": [
            {"deviceId": "dev-sas", "authentication": {"type": "sas",
                "symmetricKey": {"primaryKey": key(1), "secondaryKey": key(2)}}},
            {"deviceId": "dev-off", "status": "disabled", "authentication": {"type": "sas",
                "symmetricKey": {"primaryKey": key(3), "secondaryKey": key(4)}}},
            {"deviceId": "dev-self", "authentication": {"type": "selfSigned",
                "x509Thumbprint": {"primaryThumbprint": thumbprint}}},
            {"deviceId": "dev-ca", "authentication": {"type": "certificateAuthority"}}
        ]
    })
}

pub fn dps_file(pki: &Pki) -> serde_json::Value {
    json!({
        "idScope": SCOPE,
        "linkedHubs": [{"name": HUB}],
        "certificates": [{"name": "root", "certificate": pki.root.cert_pem, "isVerified": true}],
        "serviceHostName": DPS_HOST,
        "authorizationPolicies": [{
            "keyName": "provisioningserviceowner", "primaryKey": key(110), "secondaryKey": key(111),
            "rights": "ServiceConfig, EnrollmentRead, EnrollmentWrite, RegistrationStatusRead, RegistrationStatusWrite"
        }],
        "enrollments": [
            {"registrationId": "sym-01",
             "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": key(10), "secondaryKey": key(11)}},
             "initialTwin": {"tags": {"env": "test"}, "properties": {"desired": {"interval": 30}}}},
            {"registrationId": "x509-dev-1",
             "attestation": {"type": "x509", "x509": {"clientCertificates": {
                "primary": {"certificate": pki.dps_x509_device.cert_pem}}}}}
        ],
        "enrollmentGroups": [
            {"enrollmentGroupId": "grp",
             "attestation": {"type": "symmetricKey",
                "symmetricKey": {"primaryKey": key(20), "secondaryKey": key(21)}}},
            {"enrollmentGroupId": "cag",
             "attestation": {"type": "x509", "x509": {"caReferences": {"primary": "root"}}}}
        ]
    })
}

/// Writes the two files into `dir/imports/` and returns their paths.
pub fn write_imports(dir: &Path, pki: &Pki) -> Vec<PathBuf> {
    let imports = dir.join("imports");
    std::fs::create_dir_all(&imports).unwrap();
    let hub = imports.join("hub.json");
    let dps = imports.join("dps.json");
    std::fs::write(&hub, hub_file(pki).to_string()).unwrap();
    std::fs::write(&dps, dps_file(pki).to_string()).unwrap();
    vec![hub, dps]
}

/// Starts a server on an ephemeral port with state in `dir/state`.
pub async fn start(dir: &Path, imports: Vec<PathBuf>, limits: Limits) -> (RunningServer, String) {
    let mut config = ServerConfig::new(dir.join("state")).on_ephemeral_ports();
    config.imports = imports;
    config.limits = limits;
    let server = Server::start(config).await.unwrap();
    let ca_path = server.summary().ca_path.clone().unwrap();
    let ca_pem = std::fs::read_to_string(ca_path).unwrap();
    (server, ca_pem)
}
