#![no_main]
include!("../logic/sas_parse_connection_string.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
