//! MQTT (3.1, 3.1.1, 5.0): confirmed by a CONNECT packet — fixed header 0x10, a
//! variable-length remaining length that matches, the protocol name (`MQTT` or `MQIsdp`)
//! with its level, connect flags with the reserved bit clear. Extracts the client id, the
//! version and the user name.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub CLIENT_ID = "mqtt.client_id", Str, Identifier, "Client identifier sent in CONNECT";
    pub VERSION = "mqtt.version", Int, Service, "Protocol level of CONNECT (3 = 3.1, 4 = 3.1.1, 5 = 5.0)";
    pub USER = "mqtt.user", Str, Identifier, "User name sent in CONNECT";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&CLIENT_ID, &VERSION, &USER];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MQTT,
    transports: Transports::TCP,
    tcp_ports: &[1883],
    udp_ports: &[],
    inspect,
};

const CONNECT: u8 = 0x10;
const CONNACK: u8 = 0x20;

/// The remaining length (1 to 4 bytes, 7 bits each) after the fixed-header byte; returns
/// the length and the offset of the variable header.
fn remaining_length(d: &[u8]) -> Option<(usize, usize)> {
    let mut len = 0usize;
    for i in 0..4 {
        let b = *d.get(1 + i)?;
        len |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((len, 2 + i));
        }
    }
    None
}

fn u16_at(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
    ])))
}

/// A CONNECT packet's level, client id and user name.
#[derive(Debug, PartialEq, Eq)]
pub struct Connect<'a> {
    pub level: u8,
    pub client_id: &'a [u8],
    pub user: Option<&'a [u8]>,
}

pub fn parse_connect(d: &[u8]) -> Option<Connect<'_>> {
    if *d.first()? != CONNECT {
        return None;
    }
    let (len, at) = remaining_length(d)?;
    let p = d.get(at..at + len)?;
    let name_len = u16_at(p, 0)?;
    let name = p.get(2..2 + name_len)?;
    let level = *p.get(2 + name_len)?;
    match (name, level) {
        (b"MQTT", 4 | 5) | (b"MQIsdp", 3) => {}
        _ => return None,
    }
    let flags = *p.get(3 + name_len)?;
    // Reserved bit clear; a password needs a user name in 3.x; QoS of the will is 0..2.
    if flags & 0x01 != 0 || (flags >> 3) & 0x03 == 3 {
        return None;
    }
    let mut at = 6 + name_len; // after the keep-alive
    if level == 5 {
        let (props, used) = varint(p.get(at..)?)?;
        at += used + props;
    }
    let id_len = u16_at(p, at)?;
    let client_id = p.get(at + 2..at + 2 + id_len)?;
    at += 2 + id_len;
    if flags & 0x04 != 0 {
        if level == 5 {
            let (props, used) = varint(p.get(at..)?)?;
            at += used + props;
        }
        for _ in 0..2 {
            at += 2 + u16_at(p, at)?;
        }
    }
    let user = if flags & 0x80 != 0 {
        let n = u16_at(p, at)?;
        Some(p.get(at + 2..at + 2 + n)?)
    } else {
        None
    };
    Some(Connect {
        level,
        client_id,
        user,
    })
}

/// An MQTT 5 variable byte integer; returns the value and the bytes it took.
fn varint(d: &[u8]) -> Option<(usize, usize)> {
    let mut v = 0usize;
    for i in 0..4 {
        let b = *d.get(i)?;
        v |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if ins.to_server() {
        if let Some(c) = parse_connect(d) {
            ins.detect(id::MQTT);
            st.set_str(&CLIENT_ID, text(c.client_id, 128));
            st.set(&VERSION, MetaValue::Int(i64::from(c.level)));
            if let Some(u) = c.user {
                st.set_str(&USER, text(u, 128));
            }
            return Verdict::Done;
        }
        // Wait for the rest of a CONNECT that has started.
        let waiting = d.first() == Some(&CONNECT)
            && remaining_length(d).map_or(true, |(len, at)| d.len() < at + len && len < 65_536);
        return if waiting {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    // The server answers a CONNECT we have not seen whole with a CONNACK: wait for it.
    if d.first() == Some(&CONNACK) && ins.dir_packets.first().is_some_and(|&n| n > 0) {
        return Verdict::Continue;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn connect_3_1() {
        let pkt = b"\x10\x1e\x00\x06MQIsdp\x03\xc2\x00\x14\x00\x04cli1\x00\x04user\x00\x04pass";
        let c = parse_connect(pkt).expect("connect");
        assert_eq!(c.level, 3);
        assert_eq!(c.client_id, b"cli1");
        assert_eq!(c.user, Some(&b"user"[..]));
        let mut conv = Conv::tcp(&DISSECTOR, 41892, 1883);
        conv.client(pkt);
        assert_eq!(conv.name(), "MQTT");
        assert_eq!(conv.meta(&CLIENT_ID).as_deref(), Some("cli1"));
        assert_eq!(conv.meta(&USER).as_deref(), Some("user"));
        assert_eq!(conv.meta(&VERSION).as_deref(), Some("3"));
    }

    #[test]
    fn connect_5_with_properties() {
        let pkt = b"\x10\x13\x00\x04MQTT\x05\x02\x00\x3c\x03\x21\x00\x0a\x00\x03abc";
        let c = parse_connect(pkt).expect("connect");
        assert_eq!((c.level, c.client_id, c.user), (5, &b"abc"[..], None));
    }

    #[test]
    fn not_connect() {
        assert_eq!(
            parse_connect(b"\x10\x0c\x00\x04MQTX\x04\x02\x00\x3c\x00\x00"),
            None
        );
        assert_eq!(
            parse_connect(b"\x10\x0c\x00\x04MQTT\x04\x03\x00\x3c\x00\x00"),
            None
        );
        assert_eq!(
            parse_connect(b"\x10\x0c\x00\x04MQTT\x09\x02\x00\x3c\x00\x00"),
            None
        );
        let mut conv = Conv::tcp(&DISSECTOR, 1, 1883);
        conv.client(b"\x10\x0c\x00\x04MQ");
        assert!(conv.open);
        conv.client(b"XX\x04\x02\x00\x3c\x00\x00");
        assert!(!conv.open);
        let mut conv = Conv::tcp(&DISSECTOR, 1, 1883);
        conv.client(b"GET / HTTP/1.1\r\n");
        assert!(!conv.open);
    }
}
