#![no_main]
include!("../logic/server_api_route.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
