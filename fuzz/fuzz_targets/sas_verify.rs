#![no_main]
include!("../logic/sas_verify.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
