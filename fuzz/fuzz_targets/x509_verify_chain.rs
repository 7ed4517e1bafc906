#![no_main]
include!("../logic/x509_verify_chain.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
