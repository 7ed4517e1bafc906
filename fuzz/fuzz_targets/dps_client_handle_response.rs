#![no_main]
include!("../logic/dps_client_handle_response.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
