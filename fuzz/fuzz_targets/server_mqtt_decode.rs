#![no_main]
include!("../logic/server_mqtt_decode.rs");
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));
