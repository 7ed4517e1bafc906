#![no_main]
include!("../logic/device_session_input.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
