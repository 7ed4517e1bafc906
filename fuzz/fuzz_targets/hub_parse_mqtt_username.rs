#![no_main]
include!("../logic/hub_parse_mqtt_username.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
