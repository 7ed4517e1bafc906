// Fuzz logic for `iot_x509::verify_client_chain` and `ChainCache`.
// Shared by fuzz_targets/x509_verify_chain.rs and iot-x509/tests/fuzz_replay.rs.
//
// Input: a sequence of [u16 big-endian length][DER] records: the leaf, then the presented
// intermediates. The registered CAs are fixed: the EC root (verified) and the EC intermediate
// (unverified) of iot-x509's OpenSSL fixtures, so mutated real chains reach deep code.

/// Verifies an arbitrary presented chain; checks the invariants of the verdict.
pub fn run(data: &[u8]) {
    const AT: u64 = 1_780_272_000; // the fixtures' verification time (2026-06-01)
    const ROOT: &[u8] = include_bytes!("../../iot-x509/tests/data/openssl/root-ec.pem");
    const INTERMEDIATE: &[u8] =
        include_bytes!("../../iot-x509/tests/data/openssl/intermediate-ec.pem");

    let mut records = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && records.len() < 12 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        let body = &rest[2..];
        let take = len.min(body.len());
        records.push(&body[..take]);
        rest = &body[take..];
    }
    let Some((leaf, intermediates)) = records.split_first() else {
        return;
    };
    let intermediates: Vec<iot_x509::CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| iot_x509::CertificateDer::from(*der))
        .collect();

    let mut cas = iot_x509::CaSet::new();
    for (name, pem, verified) in [("root", ROOT, true), ("intermediate", INTERMEDIATE, false)] {
        let der = iot_x509::parse_certificates(pem)
            .expect("fixture parses")
            .remove(0)
            .to_vec();
        cas.add(iot_x509::RegisteredCa {
            name: name.into(),
            der,
            verified,
        })
        .expect("fixture is a CA");
    }
    let result = iot_x509::verify_client_chain(&cas, leaf, &intermediates, AT);
    match &result {
        Ok(chain) => {
            assert_eq!(chain.path[0].as_ref(), *leaf);
            let ca = cas.get(&chain.ca_name).expect("anchor is registered");
            assert!(ca.verified, "only verified CAs anchor");
            assert_eq!(
                chain.path.last().map(|c| c.as_ref()),
                Some(ca.der.as_slice())
            );
            let now = i64::try_from(AT).unwrap_or(i64::MAX);
            assert!(chain.not_before <= now && now <= chain.not_after);
        }
        Err(iot_x509::ChainError::CaNotVerified { ca_name }) => {
            assert_eq!(ca_name, "intermediate");
        }
        Err(err) => {
            assert!(!err.to_string().is_empty());
            assert!(!err.code().is_empty());
        }
    }
    // The cache gives the same verdict, on a miss and on a repeat.
    let mut cache = iot_x509::ChainCache::new(4);
    for _ in 0..2 {
        let cached = cache.get_or_verify(&cas, leaf, &intermediates, AT);
        assert_eq!(
            cached.as_deref().map_err(Clone::clone),
            result.as_ref().map_err(Clone::clone)
        );
    }
}
