//! MQTT 3.1.1 packets (OASIS standard, 29 October 2014) as the Azure device SDKs use them, and
//! a strict, bounded decoder and encoder for them.
//!
//! Why our own: the maintained Rust MQTT crates are brokers whose CONNECT hook cannot see the
//! TLS client chain or answer CONNACK 5 (reference embedding.md §1), and the codec-only crates
//! are abandoned (mqttbytes 0.6, 2021; mqtt-codec 0.3, 2019) or pull large trees
//! (mqtt-protocol-core, rmqtt-codec). The SDKs need ten packet types; their grammar is a few
//! hundred lines, fuzzed by the `server_mqtt_decode` target.

mod codec;
mod encode;
mod packet;

pub use codec::{DecodeError, decode};
pub use encode::encode;
pub use packet::{ConnAck, Connect, ConnectReturnCode, Packet, Publish, QoS, Subscribe, Will};
