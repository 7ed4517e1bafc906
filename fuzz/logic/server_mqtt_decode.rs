// Fuzz logic for `iot_server::mqtt::decode` and the sans-I/O `Connection` it feeds (shared by
// cargo-fuzz and iot-server/tests/fuzz_replay.rs).
//
// Input: bytes as a client would send them after TLS. Invariants: never panics; a decoded
// packet used at most the input; encoding a decoded packet and decoding that gives the same
// packet; every strict prefix of that encoding is "need more bytes"; a `Connection` fed the
// input in two pieces (split at an input-chosen point) ends in a typed result, queues at most
// as many events as packets, and a refused CONNECT queues exactly one CONNACK.

/// Runs one input.
pub fn run(data: &[u8]) {
    use iot_server::engine::connection::{Connection, Event};
    use iot_server::mqtt::{ConnectReturnCode, Packet, decode, encode};
    use std::time::Duration;

    const MAX: usize = 64 * 1024;
    let mut rest = data;
    let mut packets = 0usize;
    while let Ok(Some((packet, used))) = decode(rest, MAX) {
        assert!(used >= 2 && used <= rest.len());
        let mut bytes = Vec::new();
        encode(&packet, &mut bytes);
        let (again, again_used) = decode(&bytes, MAX)
            .expect("our encoding decodes")
            .expect("our encoding is complete");
        assert_eq!(again, packet);
        assert_eq!(again_used, bytes.len());
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert_eq!(decode(&bytes[..cut], MAX), Ok(None));
        }
        packets += 1;
        rest = &rest[used..];
    }

    let split = usize::from(data.first().copied().unwrap_or(0)) % (data.len() + 1);
    let mut conn = Connection::new(MAX, Duration::from_secs(10), Duration::ZERO);
    let mut events = 0usize;
    let mut refused = false;
    for (i, piece) in [&data[..split], &data[split..]].into_iter().enumerate() {
        let now = Duration::from_secs(u64::try_from(i).unwrap_or(0));
        if conn.handle_input(piece, now).is_err() {
            break;
        }
        while let Some(event) = conn.poll_event() {
            events += 1;
            if matches!(event, Event::Connect(_)) && !refused {
                let _ = conn.refuse(ConnectReturnCode::NotAuthorized);
                refused = true;
            }
        }
        if refused {
            break;
        }
    }
    // Events come only from decoded CONNECT, PUBLISH, SUBSCRIBE and UNSUBSCRIBE packets.
    assert!(events <= packets);
    let out = conn.poll_transmit();
    if refused {
        assert_eq!(
            decode(&out, MAX),
            Ok(Some((
                Packet::ConnAck(iot_server::mqtt::ConnAck {
                    session_present: false,
                    code: ConnectReturnCode::NotAuthorized
                }),
                4
            )))
        );
    }
    let _ = conn.handle_timeout(Duration::from_secs(3600));
}
