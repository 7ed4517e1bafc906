//! `iot x509 new-ca | new-intermediate | new-device | new-verification`: a test PKI like
//! Microsoft's `certGen.sh` (reference §7.4), made by `iot_x509::generate`.
//!
//! Before any key is made, the values that cannot work are refused with the rule: an empty
//! CN or code, a device ID IoT Hub would refuse, an issuer that is not a CA or whose key does
//! not match it, a validity past year 9999, an output that exists or is a directory.

use iot_x509::generate::{self, GeneratedCert, Validity};
use iot_x509::{CertificateInfo, Thumbprint};
use serde_json::json;

use super::key_file::{self, Outputs};
use super::{IssuerArgs, OutArgs, ValidityArgs};
use crate::certs::read_first;
use crate::input::read_secret_file;
use crate::when::{self, now_or, put_time, show};
use crate::{Exit, Failure, Out, Outcome};

/// `iot x509 new-ca`.
pub(super) fn new_ca(to: &OutArgs, cn: &str, validity: &ValidityArgs, out: Out) -> Outcome {
    non_empty("--cn", cn)?;
    let outputs = key_file::plan(&to.out, to.force)?;
    let validity = validity_of(validity)?;
    let made = generate::new_root_ca(cn, validity).map_err(generate_failed)?;
    write(&outputs, &made, to.force, validity, out)
}

/// `iot x509 new-intermediate`.
pub(super) fn new_intermediate(
    to: &OutArgs,
    cn: &str,
    issuer: &IssuerArgs,
    validity: &ValidityArgs,
    out: Out,
) -> Outcome {
    non_empty("--cn", cn)?;
    let outputs = key_file::plan(&to.out, to.force)?;
    let validity = validity_of(validity)?;
    let ca = load_issuer(issuer)?;
    let made = generate::new_intermediate_ca(cn, &ca, validity).map_err(generate_failed)?;
    write(&outputs, &made, to.force, validity, out)
}

/// `iot x509 new-device`.
pub(super) fn new_device(
    to: &OutArgs,
    device_id: &str,
    issuer: Option<&IssuerArgs>,
    validity: &ValidityArgs,
    out: Out,
) -> Outcome {
    check_device_cn(device_id)?;
    let outputs = key_file::plan(&to.out, to.force)?;
    let validity = validity_of(validity)?;
    let made = match issuer {
        Some(issuer) => generate::new_device_cert(device_id, &load_issuer(issuer)?, validity),
        None => generate::new_self_signed_device_cert(device_id, validity),
    }
    .map_err(generate_failed)?;
    write(&outputs, &made, to.force, validity, out)
}

/// `iot x509 new-verification`.
pub(super) fn new_verification(
    to: &OutArgs,
    code: &str,
    issuer: &IssuerArgs,
    validity: &ValidityArgs,
    out: Out,
) -> Outcome {
    non_empty("--code", code)?;
    let outputs = key_file::plan(&to.out, to.force)?;
    let validity = validity_of(validity)?;
    let ca = load_issuer(issuer)?;
    let made = generate::new_verification_cert(code, &ca, validity).map_err(generate_failed)?;
    write(&outputs, &made, to.force, validity, out)
}

fn non_empty(flag: &str, value: &str) -> Result<(), Failure> {
    if value.trim().is_empty() {
        return Err(Failure::usage(format_args!("{flag} must not be empty")));
    }
    Ok(())
}

/// The CN of a device certificate is the device ID, or `deviceId/moduleId` for a module
/// (reference §7.3); each part must be an ID IoT Hub accepts (§4).
fn check_device_cn(cn: &str) -> Result<(), Failure> {
    let (device, module) = match cn.split_once('/') {
        Some((device, module)) => (device, Some(module)),
        None => (cn, None),
    };
    let invalid = |err: iot_hub_auth::Error| {
        Failure::bad("invalid_device_id", format_args!("--device-id: {err}"))
    };
    iot_hub_auth::validate_device_id(device).map_err(invalid)?;
    if let Some(module) = module {
        iot_hub_auth::validate_module_id(module).map_err(invalid)?;
    }
    Ok(())
}

fn validity_of(args: &ValidityArgs) -> Result<Validity, Failure> {
    let start = now_or(args.now);
    let end = when::add(start, args.days, "--days")?;
    let to_i64 = |secs: u64| i64::try_from(secs).map_err(|_| Failure::usage("time out of range"));
    Ok(Validity {
        not_before: to_i64(start)?,
        not_after: to_i64(end)?,
    })
}

fn generate_failed(err: iot_x509::Error) -> Failure {
    Failure::bad(err.code(), err)
}

/// Loads `--ca` / `--ca-key`: the certificate must be a CA and the key must be its key.
fn load_issuer(args: &IssuerArgs) -> Result<GeneratedCert, Failure> {
    let der = read_first("--ca", &args.ca)?;
    let info = CertificateInfo::parse(&der).map_err(|err| Failure::bad(err.code(), err))?;
    if !info.is_ca() {
        return Err(Failure::bad(
            "not_a_ca",
            format_args!(
                "--ca {}: `{}` is not a CA certificate (basicConstraints cA is not true), so \
                 it cannot issue certificates",
                args.ca.display(),
                info.subject()
            ),
        ));
    }
    let key_pem = read_secret_file("--ca-key", &args.ca_key)?;
    let key = rcgen::KeyPair::from_pem(&key_pem).map_err(|err| {
        Failure::bad(
            "invalid_key",
            format_args!(
                "--ca-key {}: not a PEM private key: {err}",
                args.ca_key.display()
            ),
        )
    })?;
    let cert_key = x509_parser::parse_x509_certificate(&der)
        .map(|(_, cert)| cert.public_key().subject_public_key.data.to_vec())
        .map_err(|err| Failure::bad("malformed_certificate", err))?;
    if key.public_key_raw() != cert_key.as_slice() {
        return Err(Failure::bad(
            "key_mismatch",
            format_args!(
                "--ca-key {} is not the key of --ca {} (their public keys differ)",
                args.ca_key.display(),
                args.ca.display()
            ),
        ));
    }
    let cert_pem = pem_of(&der);
    GeneratedCert::from_pem(&cert_pem, &key_pem).map_err(|err| Failure::bad(err.code(), err))
}

/// PEM text of one DER certificate (the issuer may have been given as DER or in a bundle).
fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

fn write(
    outputs: &Outputs,
    made: &GeneratedCert,
    force: bool,
    validity: Validity,
    out: Out,
) -> Outcome {
    key_file::write(
        outputs,
        made.cert_pem.as_bytes(),
        made.key_pem.as_bytes(),
        force,
    )?;
    let sha1 = Thumbprint::sha1_of(&made.der);
    let sha256 = Thumbprint::sha256_of(&made.der);
    out.print(
        || {
            format!(
                "certificate: {}\nprivate key: {} (owner-only)\nvalid:       {} to {}\n\
                 sha1 thumbprint:   {sha1}\nsha256 thumbprint: {sha256}\n",
                outputs.cert.display(),
                outputs.key.display(),
                show(validity.not_before),
                show(validity.not_after)
            )
        },
        || {
            let mut v = json!({
                "cert": outputs.cert.display().to_string(),
                "key": outputs.key.display().to_string(),
                "sha1Thumbprint": sha1.to_string(),
                "sha256Thumbprint": sha256.to_string(),
            });
            put_time(&mut v, "notBefore", validity.not_before);
            put_time(&mut v, "notAfter", validity.not_after);
            v
        },
    )?;
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_cns_follow_the_hub_id_rules() {
        assert!(check_device_cn("dev-1").is_ok());
        assert!(check_device_cn("dev-1/mod-1").is_ok());
        assert!(check_device_cn("").is_err());
        assert!(check_device_cn("dev 1").is_err());
        assert!(check_device_cn("dev/").is_err());
    }
}
