#![no_main]
include!("../logic/x509_parse_pem.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
