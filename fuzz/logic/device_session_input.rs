// Fuzz logic for iot-device's sans-I/O MQTT client session (shared by cargo-fuzz and
// iot-device/tests/fuzz_replay.rs): the bytes a server sends after TLS.
//
// Input: [split byte][server bytes]. The session queues CONNECT; once connected it queues a
// QoS 1 publish and a subscribe, then takes the rest. Invariants: never panics; every byte the
// session transmits decodes as MQTT 3.1.1 (rumqttc's codec); a PUBACK/SUBACK event names an
// identifier the session handed out; after an error the session accepts no more publishes;
// a refusal is reported only before CONNACK 0; events never outnumber input bytes / 2.

/// Runs one input.
pub fn run(data: &[u8]) {
    use iot_device::internal::{FuzzEvent, FuzzSession};
    use std::time::Duration;

    const MAX: usize = 64 * 1024;
    fn check_transmit(session: &mut FuzzSession) {
        if let Some(bytes) = session.poll_transmit() {
            let mut buf = bytes::BytesMut::from(&bytes[..]);
            while !buf.is_empty() {
                rumqttc::mqttbytes::v4::Packet::read(&mut buf, MAX)
                    .expect("the session only sends well-formed packets");
            }
        }
    }

    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(split) % (rest.len() + 1);
    let mut session = FuzzSession::new(MAX).expect("fixed fields are valid");
    check_transmit(&mut session);
    let mut handed_out: Vec<u16> = Vec::new();
    let mut connected = false;
    let mut events = 0usize;
    for (i, piece) in [&rest[..split], &rest[split..]].into_iter().enumerate() {
        let now = Duration::from_secs(u64::try_from(i).unwrap_or(0));
        let result = session.handle_input(now, piece);
        while let Some(event) = session.poll_event() {
            events += 1;
            match event {
                FuzzEvent::Connected => {
                    assert!(!connected, "one CONNACK 0 at most");
                    connected = true;
                    if let Ok(Some(p)) = session.publish(now, "devices/fuzz-device/messages/events/", true) {
                        handed_out.push(p);
                    }
                    if let Ok(p) = session.subscribe(now, "$iothub/twin/res/#") {
                        handed_out.push(p);
                    }
                }
                FuzzEvent::PubAck(p) | FuzzEvent::SubAck(p, _) => {
                    assert!(handed_out.contains(&p), "ack for {p}, never handed out");
                }
                FuzzEvent::Message { topic, .. } => {
                    assert!(connected);
                    if let Some(r) = iot_device::TwinResponse::parse(&topic) {
                        assert!(!r.rid.contains('&'));
                    }
                }
            }
        }
        check_transmit(&mut session);
        if let Err((_, refused)) = result {
            assert!(!(refused && connected), "a refusal comes only instead of CONNACK 0");
            assert!(session.publish(now, "t", true).is_err(), "closed after an error");
            break;
        }
    }
    assert!(events <= rest.len() / 2 + 1);
    let _ = session.handle_timeout(Duration::from_secs(120));
    check_transmit(&mut session);
}
