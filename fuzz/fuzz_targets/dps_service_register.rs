#![no_main]
include!("../logic/dps_service_register.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
