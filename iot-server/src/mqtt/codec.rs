//! Decoding (MQTT 3.1.1 §2 fixed header, §1.5 data representations, §3 packets); the
//! encoder is in `encode.rs`.
//!
//! The decoder is strict: reserved flag bits must be as §2.2.2 fixes them, strings must be
//! UTF-8 without U+0000 (§1.5.3), topic names carry no wildcard (§4.7.1), SUBSCRIBE and
//! UNSUBSCRIBE carry at least one filter (§3.8.3, §3.10.3), every byte of the remaining length
//! is consumed. It is bounded: the packet size is checked as soon as the remaining length is
//! read, before waiting for the body, so an oversized packet is refused without buffering it.

use super::packet::{ConnAck, Connect, ConnectReturnCode, Packet, Publish, QoS, Subscribe, Will};

/// Why bytes are not a valid packet. Every variant closes the connection (§4.8).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The remaining length needs more than four bytes (§2.2.3).
    #[error("remaining length is longer than four bytes")]
    RemainingLength,
    /// The packet is bigger than the configured maximum.
    #[error("packet of {size} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Fixed header plus remaining length.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Packet type 0 or 15, or a QoS 2 flow packet (PUBREC/PUBREL/PUBCOMP) that IoT Hub does
    /// not support.
    #[error("unsupported packet type {0}")]
    UnsupportedType(u8),
    /// The fixed header's flag bits are not the ones §2.2.2 requires.
    #[error("invalid fixed header flags {flags:#06b} for packet type {packet_type}")]
    Flags {
        /// Packet type.
        packet_type: u8,
        /// The four flag bits.
        flags: u8,
    },
    /// A field runs past the end of the packet.
    #[error("packet is truncated")]
    Truncated,
    /// Bytes remain after the last field.
    #[error("{0} unexpected bytes at the end of the packet")]
    TrailingBytes(usize),
    /// A string is not UTF-8 or contains U+0000 (§1.5.3).
    #[error("string is not valid utf-8 without nul")]
    InvalidString,
    /// The CONNECT protocol name is not `MQTT` (§3.1.2.1).
    #[error("protocol name is not MQTT")]
    ProtocolName,
    /// Invalid CONNECT flags (§3.1.2.3): reserved bit set, will QoS 3, will fields without
    /// the will flag, or a password without a user name.
    #[error("invalid connect flags {0:#010b}")]
    ConnectFlags(u8),
    /// QoS 3 (§4.3).
    #[error("qos 3 is malformed")]
    InvalidQoS,
    /// A topic name containing `+` or `#`, or empty (§4.7.3).
    #[error("invalid topic name")]
    InvalidTopic,
    /// Packet identifier 0 (§2.3.1).
    #[error("packet identifier 0")]
    ZeroPacketId,
    /// SUBSCRIBE or UNSUBSCRIBE without a filter, or a requested QoS byte with reserved bits.
    #[error("invalid subscription list")]
    InvalidSubscription,
    /// A CONNACK return code above 5, or reserved acknowledge flags.
    #[error("invalid connack")]
    InvalidConnAck,
}

/// Decodes one packet from the front of `buf`.
///
/// Returns `Ok(None)` when `buf` holds only part of a packet (read more), or the packet and
/// the number of bytes it used.
///
/// # Errors
/// [`DecodeError`] for anything malformed, or bigger than `max_packet_size`.
pub fn decode(buf: &[u8], max_packet_size: usize) -> Result<Option<(Packet, usize)>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let packet_type = first >> 4;
    let flags = first & 0x0f;
    let mut remaining: usize = 0;
    let mut header_len = 1;
    loop {
        let Some(&byte) = buf.get(header_len) else {
            return Ok(None);
        };
        if header_len > 4 {
            return Err(DecodeError::RemainingLength);
        }
        remaining |= usize::from(byte & 0x7f) << (7 * (header_len - 1));
        header_len += 1;
        if byte & 0x80 == 0 {
            break;
        }
        if header_len > 4 {
            return Err(DecodeError::RemainingLength);
        }
    }
    let size = header_len + remaining;
    if size > max_packet_size {
        return Err(DecodeError::TooLarge {
            size,
            max: max_packet_size,
        });
    }
    check_flags(packet_type, flags)?;
    let Some(body) = buf.get(header_len..size) else {
        return Ok(None);
    };
    let mut r = Reader { buf: body, pos: 0 };
    let packet = match packet_type {
        1 => Packet::Connect(connect(&mut r)?),
        2 => {
            let ack = r.u8()?;
            let code = r.u8()?;
            if ack & 0xfe != 0 {
                return Err(DecodeError::InvalidConnAck);
            }
            Packet::ConnAck(ConnAck {
                session_present: ack & 1 == 1,
                code: ConnectReturnCode::from_code(code).ok_or(DecodeError::InvalidConnAck)?,
            })
        }
        3 => Packet::Publish(publish(&mut r, flags)?),
        4 => Packet::PubAck(r.packet_id()?),
        8 => {
            let packet_id = r.packet_id()?;
            let mut filters = Vec::new();
            while !r.is_empty() {
                let filter = r.string()?;
                let qos_byte = r.u8()?;
                if qos_byte & 0xfc != 0 || filter.is_empty() {
                    return Err(DecodeError::InvalidSubscription);
                }
                let qos = QoS::from_bits(qos_byte).ok_or(DecodeError::InvalidQoS)?;
                filters.push((filter, qos));
            }
            if filters.is_empty() {
                return Err(DecodeError::InvalidSubscription);
            }
            Packet::Subscribe(Subscribe { packet_id, filters })
        }
        9 => {
            let packet_id = r.packet_id()?;
            let codes = r.rest().to_vec();
            if codes.is_empty() || codes.iter().any(|c| !matches!(c, 0 | 1 | 2 | 0x80)) {
                return Err(DecodeError::InvalidSubscription);
            }
            Packet::SubAck { packet_id, codes }
        }
        10 => {
            let packet_id = r.packet_id()?;
            let mut filters = Vec::new();
            while !r.is_empty() {
                let filter = r.string()?;
                if filter.is_empty() {
                    return Err(DecodeError::InvalidSubscription);
                }
                filters.push(filter);
            }
            if filters.is_empty() {
                return Err(DecodeError::InvalidSubscription);
            }
            Packet::Unsubscribe { packet_id, filters }
        }
        11 => Packet::UnsubAck(r.packet_id()?),
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => Packet::Disconnect,
        other => return Err(DecodeError::UnsupportedType(other)),
    };
    if !r.is_empty() {
        return Err(DecodeError::TrailingBytes(r.buf.len() - r.pos));
    }
    Ok(Some((packet, size)))
}

/// §2.2.2: PUBLISH carries DUP/QoS/RETAIN; SUBSCRIBE, UNSUBSCRIBE (and PUBREL) must be
/// 0b0010; every other type 0b0000.
fn check_flags(packet_type: u8, flags: u8) -> Result<(), DecodeError> {
    let ok = match packet_type {
        3 => true,
        8 | 10 => flags == 0b0010,
        1 | 2 | 4 | 9 | 11..=14 => flags == 0,
        other => return Err(DecodeError::UnsupportedType(other)),
    };
    if ok {
        Ok(())
    } else {
        Err(DecodeError::Flags { packet_type, flags })
    }
}

fn connect(r: &mut Reader<'_>) -> Result<Connect, DecodeError> {
    if r.string()? != "MQTT" {
        return Err(DecodeError::ProtocolName);
    }
    let protocol_level = r.u8()?;
    let flags = r.u8()?;
    let keep_alive = r.u16()?;
    let will_flag = flags & 0x04 != 0;
    let will_qos_bits = (flags >> 3) & 0x03;
    let will_retain = flags & 0x20 != 0;
    let password_flag = flags & 0x40 != 0;
    let username_flag = flags & 0x80 != 0;
    let bad = flags & 0x01 != 0
        || will_qos_bits == 3
        || (!will_flag && (will_qos_bits != 0 || will_retain))
        || (password_flag && !username_flag);
    if bad {
        return Err(DecodeError::ConnectFlags(flags));
    }
    let client_id = r.string()?;
    let will = if will_flag {
        let topic = r.string()?;
        let payload = r.bytes()?.to_vec();
        Some(Will {
            topic,
            payload,
            qos: QoS::from_bits(will_qos_bits).ok_or(DecodeError::InvalidQoS)?,
            retain: will_retain,
        })
    } else {
        None
    };
    let username = if username_flag {
        Some(r.string()?)
    } else {
        None
    };
    let password = if password_flag {
        Some(r.bytes()?.to_vec())
    } else {
        None
    };
    Ok(Connect {
        protocol_level,
        clean_session: flags & 0x02 != 0,
        keep_alive,
        client_id,
        will,
        username,
        password,
    })
}

fn publish(r: &mut Reader<'_>, flags: u8) -> Result<Publish, DecodeError> {
    let qos = QoS::from_bits((flags >> 1) & 0x03).ok_or(DecodeError::InvalidQoS)?;
    let topic = r.string()?;
    if topic.is_empty() || topic.contains(['+', '#']) {
        return Err(DecodeError::InvalidTopic);
    }
    let packet_id = match qos {
        QoS::AtMostOnce => None,
        _ => Some(r.packet_id()?),
    };
    Ok(Publish {
        dup: flags & 0x08 != 0,
        qos,
        retain: flags & 0x01 != 0,
        topic,
        packet_id,
        payload: r.rest().to_vec(),
    })
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let slice = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn packet_id(&mut self) -> Result<u16, DecodeError> {
        match self.u16()? {
            0 => Err(DecodeError::ZeroPacketId),
            id => Ok(id),
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let bytes = self.bytes()?;
        let text = core::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidString)?;
        if text.contains('\0') {
            return Err(DecodeError::InvalidString);
        }
        Ok(text.to_owned())
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        rest
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::mqtt::encode;

    fn round_trip(packet: Packet) {
        let mut out = Vec::new();
        encode(&packet, &mut out);
        let (back, used) = decode(&out, 1 << 20).unwrap().unwrap();
        assert_eq!(used, out.len());
        assert_eq!(back, packet);
        // Every strict prefix is "need more bytes", never an error or a packet.
        for cut in 0..out.len() {
            assert_eq!(decode(&out[..cut], 1 << 20), Ok(None), "prefix {cut}");
        }
    }

    #[test]
    fn every_packet_type_round_trips() {
        round_trip(Packet::Connect(Connect {
            protocol_level: 4,
            clean_session: false,
            keep_alive: 60,
            client_id: "dev1".into(),
            will: Some(Will {
                topic: "w".into(),
                payload: b"bye".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
            }),
            username: Some("hub.azure-devices.net/dev1/?api-version=2021-04-12".into()),
            password: Some(b"SharedAccessSignature sr=x&sig=y&se=1".to_vec()),
        }));
        round_trip(Packet::ConnAck(ConnAck {
            session_present: false,
            code: ConnectReturnCode::NotAuthorized,
        }));
        round_trip(Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: "devices/dev1/messages/events/".into(),
            packet_id: Some(7),
            payload: vec![0xab; 300],
        }));
        round_trip(Packet::PubAck(7));
        round_trip(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![("$dps/registrations/res/#".into(), QoS::AtLeastOnce)],
        }));
        round_trip(Packet::SubAck {
            packet_id: 1,
            codes: vec![1, 0x80],
        });
        round_trip(Packet::Unsubscribe {
            packet_id: 2,
            filters: vec!["a/b".into()],
        });
        round_trip(Packet::UnsubAck(2));
        round_trip(Packet::PingReq);
        round_trip(Packet::PingResp);
        round_trip(Packet::Disconnect);
    }

    #[test]
    fn python_sdk_dps_connect_decodes() {
        // Bytes as paho-mqtt 1.6.1 builds them for the recorded DPS CONNECT
        // (iot-dps-proto/tests/data/capture/python-sdk.json): clean_session 0, keep alive 60.
        let user = "0ne00CAPTURE/registrations/capture-device-sym/api-version=2019-03-31";
        let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0xc0, 0, 60];
        for field in [
            "capture-device-sym",
            user,
            "SharedAccessSignature sr=a&sig=b&se=1",
        ] {
            body.extend_from_slice(&u16::try_from(field.len()).unwrap().to_be_bytes());
            body.extend_from_slice(field.as_bytes());
        }
        // Remaining length as a two-byte variable length integer (§2.2.3).
        let len = body.len();
        assert!((128..16_384).contains(&len));
        let mut bytes = vec![
            0x10,
            u8::try_from(len % 128).unwrap() | 0x80,
            u8::try_from(len / 128).unwrap(),
        ];
        bytes.extend_from_slice(&body);
        let (packet, used) = decode(&bytes, 4096).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        let Packet::Connect(c) = packet else {
            panic!("not a connect")
        };
        assert_eq!(c.client_id, "capture-device-sym");
        assert_eq!(c.username.as_deref(), Some(user));
        assert!(!c.clean_session);
        assert_eq!(c.keep_alive, 60);
        assert!(
            !format!("{c:?}").contains("sig=b"),
            "Debug redacts the password"
        );
    }

    #[test]
    fn malformed_packets_are_typed_errors() {
        let cases: &[(&[u8], DecodeError)] = &[
            (&[0x00, 0x00], DecodeError::UnsupportedType(0)),
            (&[0x50, 0x02, 0, 1], DecodeError::UnsupportedType(5)),
            (
                &[0xc1, 0x00],
                DecodeError::Flags {
                    packet_type: 12,
                    flags: 1,
                },
            ),
            (
                &[0x80, 0x02, 0, 1],
                DecodeError::Flags {
                    packet_type: 8,
                    flags: 0,
                },
            ),
            (&[0x82, 0x02, 0, 1], DecodeError::InvalidSubscription),
            (&[0x40, 0x02, 0, 0], DecodeError::ZeroPacketId),
            (&[0x40, 0x03, 0, 1, 9], DecodeError::TrailingBytes(1)),
            (&[0x36, 0x03, 0, 1, b'a'], DecodeError::InvalidQoS),
            (&[0x30, 0x03, 0, 1, b'#'], DecodeError::InvalidTopic),
            (&[0x30, 0x03, 0, 1, 0], DecodeError::InvalidString),
            (&[0x30, 0x04, 0, 2, 0xc3, 0x28], DecodeError::InvalidString),
            (
                &[0x30, 0xff, 0xff, 0xff, 0xff, 0x01],
                DecodeError::RemainingLength,
            ),
            (&[0x10, 0x02, 0, 4], DecodeError::Truncated),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(bytes, 1 << 20), Err(want.clone()), "{bytes:02x?}");
        }
    }

    #[test]
    fn oversized_packets_are_refused_from_the_header() {
        // Only the fixed header of a 1 MB PUBLISH has arrived: refused now, not buffered.
        let header = [0x30, 0x80, 0x80, 0x40];
        assert_eq!(
            decode(&header, 300_000),
            Err(DecodeError::TooLarge {
                size: 4 + 1_048_576,
                max: 300_000
            })
        );
    }

    #[test]
    fn connect_flag_rules() {
        let connect = |flags: u8| {
            let mut b = vec![0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, flags, 0, 0, 0, 0];
            b[1] = u8::try_from(b.len() - 2).unwrap();
            decode(&b, 100)
        };
        assert!(connect(0x02).unwrap().is_some());
        for flags in [0x01, 0x40, 0x18, 0x08, 0x20] {
            assert_eq!(connect(flags), Err(DecodeError::ConnectFlags(flags)));
        }
    }
}
