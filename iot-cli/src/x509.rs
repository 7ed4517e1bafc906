//! `iot x509`: thumbprints, chain verification, proof of possession and a test PKI.
//!
//! Every decision is made by `iot-x509`; this module reads files and the clock and prints.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use iot_x509::generate::{self, GeneratedCert, Validity};
use iot_x509::{
    CaSet, CertificateDer, CertificateInfo, RegisteredCa, Thumbprint, check_identity,
    parse_certificates, verify_client_chain, verify_proof_of_possession,
};
use serde_json::json;

use crate::Exit;
use crate::output::{bad_input, now_or, print_json};

/// `iot x509 ...`
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a certificate's thumbprint: upper-case hex, no colons (SHA-1 unless --sha256).
    Thumbprint {
        /// Certificate file, PEM (first certificate of a bundle) or DER.
        cert: PathBuf,
        /// SHA-256 instead of SHA-1.
        #[arg(long)]
        sha256: bool,
        /// Print one JSON object with both thumbprints.
        #[arg(long)]
        json: bool,
    },
    /// Show a certificate: subject, CN, issuer, validity, CA flag, key usage, EKU, thumbprints.
    Inspect {
        /// Certificate file, PEM (first certificate of a bundle) or DER.
        cert: PathBuf,
        /// Print the DPS `X509CertificateInfo` JSON shape instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify a device chain against trusted CAs (exit 0 accepted, 1 rejected, 2 bad input).
    Verify {
        /// Device certificate; a bundle's further certificates count as presented intermediates.
        #[arg(long)]
        cert: PathBuf,
        /// Registered, verified CA certificates (PEM bundle or DER); repeatable.
        #[arg(long, required = true)]
        trust: Vec<PathBuf>,
        /// CA certificates registered but not verified (proof of possession pending); repeatable.
        #[arg(long)]
        unverified: Vec<PathBuf>,
        /// Intermediates the device presents (PEM bundle or DER); repeatable.
        #[arg(long)]
        chain: Vec<PathBuf>,
        /// Verification time, Unix seconds (default: now).
        #[arg(long)]
        at: Option<u64>,
        /// Also require the leaf CN to equal this device ID (reference §7.3).
        #[arg(long)]
        device_id: Option<String>,
        /// With --device-id: the CN must be `deviceId/moduleId`.
        #[arg(long, requires = "device_id")]
        module_id: Option<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Check a proof-of-possession verification certificate for a CA (reference §7.4).
    VerifyPop {
        /// The CA certificate being verified.
        #[arg(long)]
        ca: PathBuf,
        /// The verification certificate (CN = code, signed by the CA key).
        #[arg(long)]
        cert: PathBuf,
        /// The verification code the service issued.
        #[arg(long)]
        code: String,
        /// Verification time, Unix seconds (default: now).
        #[arg(long)]
        at: Option<u64>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Make a self-signed test root CA (certGen.sh profile, P-256).
    NewCa {
        /// Output prefix: writes PREFIX.cert.pem and PREFIX.key.pem.
        #[arg(long)]
        out: PathBuf,
        /// Subject CN.
        #[arg(long, default_value = "Azure IoT Hub CA Cert Test Only")]
        cn: String,
        #[command(flatten)]
        validity: ValidityArgs,
    },
    /// Make a test intermediate CA signed by --ca/--ca-key.
    NewIntermediate {
        /// Output prefix: writes PREFIX.cert.pem and PREFIX.key.pem.
        #[arg(long)]
        out: PathBuf,
        /// Subject CN.
        #[arg(long, default_value = "Azure IoT Hub Intermediate Cert Test Only")]
        cn: String,
        #[command(flatten)]
        issuer: IssuerArgs,
        #[command(flatten)]
        validity: ValidityArgs,
    },
    /// Make a device certificate, CN = device ID, signed by --ca/--ca-key (self-signed without).
    NewDevice {
        /// Output prefix: writes PREFIX.cert.pem and PREFIX.key.pem.
        #[arg(long)]
        out: PathBuf,
        /// Device ID (becomes the CN; `deviceId/moduleId` for a module).
        #[arg(long)]
        device_id: String,
        /// Issuing CA certificate (PEM); omit both --ca and --ca-key for a self-signed device.
        #[arg(long, requires = "ca_key")]
        ca: Option<PathBuf>,
        /// Issuing CA private key (PEM).
        #[arg(long, requires = "ca")]
        ca_key: Option<PathBuf>,
        #[command(flatten)]
        validity: ValidityArgs,
    },
    /// Make a proof-of-possession verification certificate: CN = code, signed by --ca/--ca-key.
    NewVerification {
        /// Output prefix: writes PREFIX.cert.pem and PREFIX.key.pem.
        #[arg(long)]
        out: PathBuf,
        /// The verification code (becomes the CN exactly).
        #[arg(long)]
        code: String,
        #[command(flatten)]
        issuer: IssuerArgs,
        #[command(flatten)]
        validity: ValidityArgs,
    },
}

/// The issuing CA of a generated certificate.
#[derive(Debug, clap::Args)]
pub(crate) struct IssuerArgs {
    /// Issuing CA certificate (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// Issuing CA private key (PEM).
    #[arg(long)]
    ca_key: PathBuf,
}

/// Validity of a generated certificate.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidityArgs {
    /// Days of validity (certGen.sh uses 30).
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// notBefore, Unix seconds (default: now).
    #[arg(long)]
    now: Option<u64>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs one `iot x509` command.
pub(crate) fn run(cmd: Command) -> Exit {
    match run_inner(cmd) {
        Ok(exit) => exit,
        Err(message) => bad_input(message),
    }
}

fn run_inner(cmd: Command) -> Result<Exit, String> {
    match cmd {
        Command::Thumbprint { cert, sha256, json } => {
            let der = first_cert(&cert)?;
            if json {
                print_json(&json!({
                    "sha1": Thumbprint::sha1_of(&der).to_string(),
                    "sha256": Thumbprint::sha256_of(&der).to_string(),
                }));
            } else if sha256 {
                println!("{}", Thumbprint::sha256_of(&der));
            } else {
                println!("{}", Thumbprint::sha1_of(&der));
            }
            Ok(Exit::Ok)
        }
        Command::Inspect { cert, json } => inspect(&cert, json),
        Command::Verify {
            cert,
            trust,
            unverified,
            chain,
            at,
            device_id,
            module_id,
            json,
        } => {
            let mut presented = read_certs(&cert)?;
            let leaf = presented.remove(0);
            for file in &chain {
                presented.extend(read_certs(file)?);
            }
            let mut cas = CaSet::new();
            for (files, verified) in [(&trust, true), (&unverified, false)] {
                for file in files {
                    for der in read_certs(file)? {
                        register(&mut cas, file, der.to_vec(), verified)?;
                    }
                }
            }
            let now = now_or(at);
            let ids = device_id.as_deref().map(|d| (d, module_id.as_deref()));
            Ok(verify(&cas, &leaf, &presented, now, ids, json))
        }
        Command::VerifyPop {
            ca,
            cert,
            code,
            at,
            json,
        } => {
            let ca = first_cert(&ca)?;
            let cert = first_cert(&cert)?;
            let result = verify_proof_of_possession(&ca, &cert, &code, now_or(at));
            Ok(report(
                result.map_err(|err| (reason_of(&err), err.to_string())),
                json,
                || {
                    (
                        format!(
                            "accepted: verification certificate proves possession of the CA key (code {code})"
                        ),
                        json!({}),
                    )
                },
            ))
        }
        Command::NewCa { out, cn, validity } => {
            let made = generate::new_root_ca(&cn, validity_of(&validity))
                .map_err(|err| err.to_string())?;
            write_pair(&out, &made, validity.json)
        }
        Command::NewIntermediate {
            out,
            cn,
            issuer,
            validity,
        } => {
            let ca = load_issuer(&issuer.ca, &issuer.ca_key)?;
            let made = generate::new_intermediate_ca(&cn, &ca, validity_of(&validity))
                .map_err(|err| err.to_string())?;
            write_pair(&out, &made, validity.json)
        }
        Command::NewDevice {
            out,
            device_id,
            ca,
            ca_key,
            validity,
        } => {
            let made = match (ca, ca_key) {
                (Some(ca), Some(key)) => {
                    let ca = load_issuer(&ca, &key)?;
                    generate::new_device_cert(&device_id, &ca, validity_of(&validity))
                }
                _ => generate::new_self_signed_device_cert(&device_id, validity_of(&validity)),
            }
            .map_err(|err| err.to_string())?;
            write_pair(&out, &made, validity.json)
        }
        Command::NewVerification {
            out,
            code,
            issuer,
            validity,
        } => {
            let ca = load_issuer(&issuer.ca, &issuer.ca_key)?;
            let made = generate::new_verification_cert(&code, &ca, validity_of(&validity))
                .map_err(|err| err.to_string())?;
            write_pair(&out, &made, validity.json)
        }
    }
}

fn verify(
    cas: &CaSet,
    leaf: &CertificateDer<'static>,
    presented: &[CertificateDer<'static>],
    now: u64,
    ids: Option<(&str, Option<&str>)>,
    json: bool,
) -> Exit {
    let result = verify_client_chain(cas, leaf, presented, now)
        .map_err(|err| (err.code(), err.to_string()))
        .and_then(|chain| {
            if let Some((device_id, module_id)) = ids {
                let info =
                    CertificateInfo::parse(leaf).map_err(|err| ("malformed", err.to_string()))?;
                check_identity(&info, device_id, module_id)
                    .map_err(|err| (reason_of(&err), err.to_string()))?;
            }
            Ok(chain)
        });
    let accepted = result.as_ref().ok().cloned();
    report(result.map(|_| ()), json, || {
        let Some(chain) = accepted else {
            return (String::new(), json!({}));
        };
        let path: Vec<_> = chain
            .path
            .iter()
            .map(|der| {
                let subject = CertificateInfo::parse(der).map(|i| i.subject().to_owned());
                json!({
                    "subject": subject.unwrap_or_default(),
                    "sha256Thumbprint": Thumbprint::sha256_of(der).to_string(),
                })
            })
            .collect();
        let text = format!(
            "accepted: anchored by CA `{}`, path of {} certificates, valid until {}",
            chain.ca_name,
            chain.path.len(),
            chain.not_after
        );
        (
            text,
            json!({ "ca": chain.ca_name, "path": path, "notAfter": chain.not_after }),
        )
    })
}

/// Prints the verdict; `accepted` builds the text and the extra JSON fields of a success.
fn report(
    result: Result<(), (&'static str, String)>,
    json: bool,
    accepted: impl FnOnce() -> (String, serde_json::Value),
) -> Exit {
    match result {
        Ok(()) => {
            let (text, mut extra) = accepted();
            if json {
                extra["accepted"] = json!(true);
                print_json(&extra);
            } else {
                println!("{text}");
            }
            Exit::Ok
        }
        Err((reason, message)) => {
            if json {
                print_json(&json!({ "accepted": false, "reason": reason, "message": message }));
            } else {
                println!("rejected: {message}");
            }
            Exit::Rejected
        }
    }
}

fn reason_of(err: &iot_x509::Error) -> &'static str {
    use iot_x509::Error as E;
    match err {
        E::NoCommonName => "no_common_name",
        E::AmbiguousCommonName { .. } => "ambiguous_common_name",
        E::IdentityMismatch { .. } => "identity_mismatch",
        E::PopCodeMismatch { .. } => "code_mismatch",
        E::PopIssuerMismatch { .. } => "issuer_mismatch",
        E::PopBadSignature => "bad_signature",
        E::PopUnsupportedAlgorithm { .. } => "unsupported_algorithm",
        E::PopExpired { .. } => "expired",
        E::PopNotYetValid { .. } => "not_yet_valid",
        _ => "malformed",
    }
}

fn inspect(path: &Path, json: bool) -> Result<Exit, String> {
    let der = first_cert(path)?;
    let info = CertificateInfo::parse(&der).map_err(|err| format!("{}: {err}", path.display()))?;
    if json {
        let value = serde_json::to_value(info.to_x509_certificate_info(&der))
            .map_err(|err| err.to_string())?;
        print_json(&value);
        return Ok(Exit::Ok);
    }
    println!("subject:            {}", info.subject());
    println!("common name:        {}", info.common_names().join(" | "));
    println!("issuer:             {}", info.issuer());
    println!("serial:             {}", info.serial_hex());
    println!("not before:         {}", info.not_before());
    println!("not after:          {}", info.not_after());
    println!(
        "CA:                 {} (path length {:?})",
        info.is_ca(),
        info.path_len()
    );
    println!(
        "key usage:          {}",
        info.key_usage().map_or("-".into(), |k| k.join(", "))
    );
    println!(
        "extended key usage: {}",
        info.extended_key_usage()
            .map_or("-".into(), |k| k.join(", "))
    );
    println!("sha1 thumbprint:    {}", Thumbprint::sha1_of(&der));
    println!("sha256 thumbprint:  {}", Thumbprint::sha256_of(&der));
    Ok(Exit::Ok)
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|err| format!("{}: {err}", path.display()))?;
    parse_certificates(&bytes).map_err(|err| format!("{}: {err}", path.display()))
}

fn first_cert(path: &Path) -> Result<Vec<u8>, String> {
    read_certs(path)?
        .into_iter()
        .next()
        .map(|der| der.to_vec())
        .ok_or_else(|| format!("{}: no certificate", path.display()))
}

/// Registers a CA under its subject (made unique with `#n` when needed).
fn register(cas: &mut CaSet, file: &Path, der: Vec<u8>, verified: bool) -> Result<(), String> {
    let info = CertificateInfo::parse(&der).map_err(|err| format!("{}: {err}", file.display()))?;
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
    .map_err(|err| format!("{}: {err}", file.display()))
}

fn load_issuer(cert: &Path, key: &Path) -> Result<GeneratedCert, String> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))
    };
    let key_pem = KeyText(Some(read(key)?));
    GeneratedCert::from_pem(&read(cert)?, &key_pem).map_err(|err| err.to_string())
}

/// Private key text read from a file, wiped when dropped.
struct KeyText(Option<String>);

impl core::ops::Deref for KeyText {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_deref().unwrap_or_default()
    }
}

impl Drop for KeyText {
    fn drop(&mut self) {
        if let Some(text) = self.0.take() {
            let mut bytes = text.into_bytes();
            bytes.iter_mut().for_each(|b| *b = 0);
            std::hint::black_box(&bytes);
        }
    }
}

fn validity_of(args: &ValidityArgs) -> Validity {
    let start = i64::try_from(now_or(args.now)).unwrap_or(i64::MAX);
    Validity::days(start, args.days)
}

fn write_pair(prefix: &Path, made: &GeneratedCert, json: bool) -> Result<Exit, String> {
    let base = prefix.as_os_str().to_string_lossy().into_owned();
    let cert_path = PathBuf::from(format!("{base}.cert.pem"));
    let key_path = PathBuf::from(format!("{base}.key.pem"));
    if let Some(dir) = cert_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    std::fs::write(&cert_path, &made.cert_pem)
        .map_err(|err| format!("{}: {err}", cert_path.display()))?;
    write_private(&key_path, made.key_pem.as_bytes())?;
    let sha1 = Thumbprint::sha1_of(&made.der);
    let sha256 = Thumbprint::sha256_of(&made.der);
    if json {
        print_json(&json!({
            "cert": cert_path.display().to_string(),
            "key": key_path.display().to_string(),
            "sha1Thumbprint": sha1.to_string(),
            "sha256Thumbprint": sha256.to_string(),
        }));
    } else {
        println!("certificate: {}", cert_path.display());
        println!("private key: {}", key_path.display());
        println!("sha1 thumbprint:   {sha1}");
        println!("sha256 thumbprint: {sha256}");
    }
    Ok(Exit::Ok)
}

/// Writes a private key readable by the owner only (where the OS supports it).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|err| format!("{}: {err}", path.display()))?;
    file.write_all(bytes)
        .map_err(|err| format!("{}: {err}", path.display()))
}
