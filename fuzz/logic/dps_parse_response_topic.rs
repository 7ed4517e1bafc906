// Fuzz logic for `iot_dps_proto::ResponseTopic::parse` (and `Response::from_mqtt`), shared by
// the cargo-fuzz target and iot-dps-proto/tests/fuzz_replay.rs.
//
// Invariants: never panics; an accepted topic has a valid status; rebuilding an accepted
// topic with `response_topic` and parsing it again gives the same status, rid and retry-after.

pub fn run(data: &[u8]) {
    let Ok(topic) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(parsed) = iot_dps_proto::ResponseTopic::parse(topic) else {
        assert!(iot_dps_proto::Response::from_mqtt(topic, b"").is_err());
        return;
    };
    assert!((100..=599).contains(&parsed.status));
    let response = iot_dps_proto::Response::from_mqtt(topic, data).expect("same parser");
    assert_eq!(
        (response.status, response.rid, response.retry_after),
        (parsed.status, parsed.rid, parsed.retry_after)
    );
    if let Some(rid) = parsed.rid {
        assert!(parsed.rid_matches(rid) || rid.contains('%'));
        if let Ok(rebuilt) = iot_dps_proto::response_topic(parsed.status, rid, parsed.retry_after) {
            let again =
                iot_dps_proto::ResponseTopic::parse(&rebuilt).expect("our own topic parses");
            assert_eq!(again.status, parsed.status);
            assert_eq!(again.rid, Some(rid));
            assert_eq!(again.retry_after, parsed.retry_after);
        }
    }
    // The request-topic parser must also survive any input.
    let _ = iot_dps_proto::RequestTopic::parse(topic);
    let _ = iot_dps_proto::UserNameParts::parse(topic);
}
