#![no_main]
include!("../logic/x509_thumbprint_from_hex.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
