//! Encoding (MQTT 3.1.1 §2 fixed header, §1.5 data representations, §3 packets).

use super::packet::{Packet, QoS};

/// Appends the encoding of `packet` to `out`.
///
/// Strings and binary fields longer than 65,535 bytes, or a packet longer than the largest
/// remaining length (268,435,455), cannot be encoded; they are truncated by no one: the
/// caller's values come from decoded packets or from this crate, which stay within bounds,
/// and an out-of-range value is encoded as an empty field rather than a corrupt one.
pub fn encode(packet: &Packet, out: &mut Vec<u8>) {
    let mut body = Vec::new();
    let first = match packet {
        Packet::Connect(c) => {
            put_str(&mut body, "MQTT");
            body.push(c.protocol_level);
            let mut flags = 0u8;
            if c.clean_session {
                flags |= 0x02;
            }
            if let Some(will) = &c.will {
                flags |= 0x04 | (will.qos.bits() << 3);
                if will.retain {
                    flags |= 0x20;
                }
            }
            if c.password.is_some() {
                flags |= 0x40;
            }
            if c.username.is_some() {
                flags |= 0x80;
            }
            body.push(flags);
            body.extend_from_slice(&c.keep_alive.to_be_bytes());
            put_str(&mut body, &c.client_id);
            if let Some(will) = &c.will {
                put_str(&mut body, &will.topic);
                put_bytes(&mut body, &will.payload);
            }
            if let Some(user) = &c.username {
                put_str(&mut body, user);
            }
            if let Some(password) = &c.password {
                put_bytes(&mut body, password);
            }
            0x10
        }
        Packet::ConnAck(ack) => {
            body.push(u8::from(ack.session_present));
            body.push(ack.code.code());
            0x20
        }
        Packet::Publish(p) => {
            put_str(&mut body, &p.topic);
            if let Some(id) = p.packet_id.filter(|_| p.qos != QoS::AtMostOnce) {
                body.extend_from_slice(&id.to_be_bytes());
            }
            body.extend_from_slice(&p.payload);
            0x30 | (u8::from(p.dup) << 3) | (p.qos.bits() << 1) | u8::from(p.retain)
        }
        Packet::PubAck(id) => {
            body.extend_from_slice(&id.to_be_bytes());
            0x40
        }
        Packet::Subscribe(s) => {
            body.extend_from_slice(&s.packet_id.to_be_bytes());
            for (filter, qos) in &s.filters {
                put_str(&mut body, filter);
                body.push(qos.bits());
            }
            0x82
        }
        Packet::SubAck { packet_id, codes } => {
            body.extend_from_slice(&packet_id.to_be_bytes());
            body.extend_from_slice(codes);
            0x90
        }
        Packet::Unsubscribe { packet_id, filters } => {
            body.extend_from_slice(&packet_id.to_be_bytes());
            for filter in filters {
                put_str(&mut body, filter);
            }
            0xa2
        }
        Packet::UnsubAck(id) => {
            body.extend_from_slice(&id.to_be_bytes());
            0xb0
        }
        Packet::PingReq => 0xc0,
        Packet::PingResp => 0xd0,
        Packet::Disconnect => 0xe0,
    };
    out.push(first);
    let mut len = body.len().min(268_435_455);
    loop {
        let mut byte = u8::try_from(len % 128).unwrap_or(0);
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(&body);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let field = if bytes.len() > usize::from(u16::MAX) {
        &[][..]
    } else {
        bytes
    };
    let len = u16::try_from(field.len()).unwrap_or(0);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_bytes(out, text.as_bytes());
}
