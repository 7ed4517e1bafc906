#![no_main]
include!("../logic/dps_parse_response_topic.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
