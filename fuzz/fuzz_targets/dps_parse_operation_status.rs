#![no_main]
include!("../logic/dps_parse_operation_status.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
