#![no_main]
include!("../logic/hub_authorize.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
