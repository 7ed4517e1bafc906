#![no_main]
include!("../logic/sas_parse_token.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
