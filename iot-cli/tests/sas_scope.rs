//! `iot sas verify --resource` decodes the token's `sr` exactly once (issue 12, item 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::Command;

/// Key V1 of reference §1.8.
const KEY: &str = "NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=";
/// A `device`-policy token for the device `%64ev1`, made with Python's standard library:
///
/// ```text
/// python3 -c 'import hmac,hashlib,base64,urllib.parse as u
/// k=base64.b64decode("NMgJDvdKTxjLi+xBxxkDDEwDJxEvOE5u8BiT0mVgPeg=")
/// sr=u.quote("myiothub.azure-devices.net/devices/%64ev1",safe="")
/// s=base64.b64encode(hmac.new(k,(sr+"\n1578941692").encode(),hashlib.sha256).digest()).decode()
/// print("SharedAccessSignature sr=%s&sig=%s&se=1578941692&skn=device"%(sr,u.quote(s,safe="")))'
/// ```
const TOKEN: &str = "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2F%2564ev1&sig=DGiNb98O%2F8ZaHJlb6xxfsUkkFBL3hWOrljGmizk0O80%3D&se=1578941692&skn=device";

fn verify(resource: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iot"))
        .args([
            "sas",
            "verify",
            "--token",
            TOKEN,
            "--key",
            KEY,
            "--resource",
            resource,
            "--now",
            "1578941000",
        ])
        .output()
        .expect("run iot");
    let text = String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap();
    (out.status.code().expect("exit code"), text)
}

#[test]
fn sas_verify_resource_decodes_sr_exactly_once() {
    let (code, text) = verify("myiothub.azure-devices.net/devices/%64ev1");
    assert_eq!(code, 0, "{text}");
    // Decoded twice, `%2564ev1` would read `dev1`: the token must not cover that device.
    let (code, text) = verify("myiothub.azure-devices.net/devices/dev1");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("resource"), "{text}");
}
