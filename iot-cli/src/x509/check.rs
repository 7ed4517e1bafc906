//! `iot x509 thumbprint | verify | verify-pop`: the read-only checks.

use std::path::{Path, PathBuf};

use iot_x509::{
    CaSet, CertificateDer, CertificateInfo, RegisteredCa, Thumbprint, check_identity,
    verify_client_chain, verify_proof_of_possession,
};
use serde_json::json;

use crate::certs::{chain_message, read_certs, read_first};
use crate::when::{now_or, put_time, show};
use crate::{Exit, Failure, Out, Outcome};

/// `iot x509 thumbprint`.
pub(super) fn thumbprint(path: &Path, sha256: bool, out: Out) -> Outcome {
    let der = read_first("--cert", path)?;
    out.print(
        || {
            if sha256 {
                format!("{}\n", Thumbprint::sha256_of(&der))
            } else {
                format!("{}\n", Thumbprint::sha1_of(&der))
            }
        },
        || {
            json!({
                "sha1Thumbprint": Thumbprint::sha1_of(&der).to_string(),
                "sha256Thumbprint": Thumbprint::sha256_of(&der).to_string(),
            })
        },
    )?;
    Ok(Exit::Ok)
}

/// The files of `iot x509 verify`.
pub(super) struct ChainFiles<'a> {
    pub(super) cert: &'a Path,
    pub(super) trust: &'a [PathBuf],
    pub(super) unverified: &'a [PathBuf],
    pub(super) chain: &'a [PathBuf],
}

/// `iot x509 verify`.
pub(super) fn verify(
    files: &ChainFiles<'_>,
    now: Option<u64>,
    ids: Option<(&str, Option<&str>)>,
    out: Out,
) -> Outcome {
    let mut presented = read_certs("--cert", files.cert)?;
    if presented.is_empty() {
        return Err(Failure::bad("empty_input", "--cert: no certificate"));
    }
    let leaf = presented.remove(0);
    for file in files.chain {
        presented.extend(read_certs("--chain", file)?);
    }
    let mut cas = CaSet::new();
    for (flag, list, verified) in [
        ("--trust", files.trust, true),
        ("--unverified", files.unverified, false),
    ] {
        for file in list {
            for der in read_certs(flag, file)? {
                register(&mut cas, flag, file, der.to_vec(), verified)?;
            }
        }
    }
    let now = now_or(now);
    let chain = match verify_client_chain(&cas, &leaf, &presented, now) {
        Ok(chain) => chain,
        Err(err) => {
            let message = chain_message(&err);
            return out.rejected("rejected", err.code(), &message, json!({}));
        }
    };
    if let Some((device_id, module_id)) = ids {
        let info = CertificateInfo::parse(&leaf).map_err(|err| Failure::bad(err.code(), err))?;
        if let Err(err) = check_identity(&info, device_id, module_id) {
            return out.rejected("rejected", err.code(), &err.to_string(), json!({}));
        }
    }
    let path: Vec<_> = chain.path.iter().map(|der| path_entry(der)).collect();
    let mut fields = json!({ "ca": chain.ca_name, "path": path });
    put_time(&mut fields, "notAfter", chain.not_after);
    let text = format!(
        "accepted: anchored by CA `{}`, path of {} certificates, valid until {}",
        chain.ca_name,
        chain.path.len(),
        show(chain.not_after)
    );
    out.accepted(&text, fields)
}

fn path_entry(der: &CertificateDer<'_>) -> serde_json::Value {
    let subject = CertificateInfo::parse(der).map(|i| i.subject().to_owned());
    json!({
        "subject": subject.unwrap_or_default(),
        "sha256Thumbprint": Thumbprint::sha256_of(der).to_string(),
    })
}

/// Registers a CA under its subject (made unique with `#n` when needed).
fn register(
    cas: &mut CaSet,
    flag: &str,
    file: &Path,
    der: Vec<u8>,
    verified: bool,
) -> Result<(), Failure> {
    let fail = |err: iot_x509::Error| {
        Failure::bad(err.code(), format_args!("{flag} {}: {err}", file.display()))
    };
    let info = CertificateInfo::parse(&der).map_err(fail)?;
    let mut name = info.subject().to_owned();
    let mut n = 1;
    while cas.get(&name).is_some() {
        n += 1;
        name = format!("{}#{n}", info.subject());
    }
    cas.add(RegisteredCa {
        name,
        der,
        verified,
    })
    .map_err(fail)
}

/// `iot x509 verify-pop`.
pub(super) fn verify_pop(
    ca: &Path,
    cert: &Path,
    code: &str,
    now: Option<u64>,
    out: Out,
) -> Outcome {
    if code.is_empty() {
        return Err(Failure::usage("--code must not be empty"));
    }
    let ca = read_first("--ca", ca)?;
    let cert = read_first("--cert", cert)?;
    match verify_proof_of_possession(&ca, &cert, code, now_or(now)) {
        Ok(()) => out.accepted(
            &format!(
                "accepted: the verification certificate proves possession of the CA key (code \
                 {code})"
            ),
            json!({ "code": code }),
        ),
        Err(err) => {
            let message = match &err {
                iot_x509::Error::PopExpired { not_after, now } => format!(
                    "verification certificate expired at {}, now is {}",
                    show(*not_after),
                    show(*now)
                ),
                iot_x509::Error::PopNotYetValid { not_before, now } => format!(
                    "verification certificate is not valid before {}, now is {}",
                    show(*not_before),
                    show(*now)
                ),
                other => other.to_string(),
            };
            out.rejected("rejected", err.code(), &message, json!({}))
        }
    }
}
