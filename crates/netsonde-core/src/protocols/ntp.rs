//! NTP versions 1 to 4 (RFC 958, 1119, 1305, 5905): the 48-byte time packet (optionally
//! with a MAC or v4 extension fields), mode 6 control messages (a 12-byte header and a data
//! count that fits) and mode 7 private requests (an 8-byte header with a known
//! implementation number).

use super::wire::{be16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub VERSION = "ntp.version", Int, Service, "NTP version of the first packet (1-4)";
    pub MODE = "ntp.mode", Int, Usage, "Mode of the first packet (3 = client, 4 = server, 6 = control, 7 = private, …)";
    pub STRATUM = "ntp.stratum", Int, Service, "Stratum of the first server answer";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&VERSION, &MODE, &STRATUM];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NTP,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[123],
    inspect,
};

/// Version, mode and stratum (time packets) of an NTP packet.
#[derive(Debug, PartialEq, Eq)]
pub struct Packet {
    pub version: u8,
    pub mode: u8,
    pub stratum: Option<u8>,
}

pub fn parse(d: &[u8]) -> Option<Packet> {
    let b0 = u8_at(d, 0)?;
    let version = (b0 >> 3) & 0x07;
    let mode = b0 & 0x07;
    if !(1..=4).contains(&version) {
        return None;
    }
    match mode {
        // Version 1 has no mode field: 0 there means a client or server packet.
        0..=5 => {
            if mode == 0 && version != 1 {
                return None;
            }
            let stratum = u8_at(d, 1)?;
            let poll = u8_at(d, 2)? as i8;
            if d.len() < 48 || !tail_ok(d, version) || stratum > 16 || !(-8..=17).contains(&poll) {
                return None;
            }
            Some(Packet {
                version,
                mode,
                stratum: Some(stratum),
            })
        }
        6 => {
            // Control: opcode 1-12 (a request has neither the error nor the more bit); the
            // data count, padded to words, then nothing or a MAC ends the packet.
            let b1 = u8_at(d, 1)?;
            let opcode = b1 & 0x1F;
            let request = b1 & 0x80 == 0;
            let count = usize::from(be16(d, 10)?);
            let padded = 12 + count.div_ceil(4) * 4;
            let tail = d.len().checked_sub(padded);
            let ok = (1..=12).contains(&opcode)
                && (!request || b1 & 0x60 == 0)
                && (d.len() == 12 + count || matches!(tail, Some(0 | 4 | 20 | 24)));
            ok.then_some(Packet {
                version,
                mode,
                stratum: None,
            })
        }
        _ => {
            // Mode 7 (xntpd private, version 2 on): implementation 0 (universal), 2 or 3
            // (xntpd); an error code up to 7; the items (count × size) fit in the packet.
            let implementation = u8_at(d, 2)?;
            let (err_items, size) = (be16(d, 4)?, be16(d, 6)?);
            let (err, items, mbz, size) = (
                err_items >> 12,
                usize::from(err_items & 0x0FFF),
                size >> 12,
                usize::from(size & 0x0FFF),
            );
            let fits = 8 + items * size <= d.len() && (items == 0 || size > 0);
            (version >= 2 && matches!(implementation, 0 | 2 | 3) && err <= 7 && mbz == 0 && fits)
                .then_some(Packet {
                    version,
                    mode,
                    stratum: None,
                })
        }
    }
}

/// After the 48-byte time packet: v4 extension fields (type, length ≥ 16 in words), then
/// nothing, a key id alone (crypto-NAK) or a MAC (key id and MD5 or SHA-1 digest).
fn tail_ok(d: &[u8], version: u8) -> bool {
    let mut at = 48;
    if version == 4 {
        while d.len().saturating_sub(at) > 24 {
            let Some(len) = be16(d, at + 2).map(usize::from) else {
                return false;
            };
            if len < 16 || len % 4 != 0 || at + len > d.len() {
                return false;
            }
            at += len;
        }
    }
    matches!(d.len().saturating_sub(at), 0 | 4 | 20 | 24)
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let Some(p) = parse(ins.data) else {
        return Verdict::Exclude;
    };
    ins.detect(id::NTP);
    st.set(&VERSION, MetaValue::Int(i64::from(p.version)));
    st.set(&MODE, MetaValue::Int(i64::from(p.mode)));
    if p.mode == 4 || p.mode == 2 {
        if let Some(s) = p.stratum {
            st.set(&STRATUM, MetaValue::Int(i64::from(s)));
        }
    }
    if st.meta.has(&STRATUM) || ins.packet_no >= 4 {
        Verdict::Done
    } else {
        Verdict::Continue
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn time_packets_by_version() {
        let mut d = [0u8; 48];
        d[0] = 0x23; // v4 client
        d[2] = 6;
        assert_eq!(
            parse(&d),
            Some(Packet {
                version: 4,
                mode: 3,
                stratum: Some(0)
            })
        );
        d[0] = 0x1c; // v3 server
        d[1] = 2;
        assert_eq!(parse(&d).map(|p| (p.version, p.mode)), Some((3, 4)));
        d[0] = 0x08; // v1, no mode
        assert_eq!(parse(&d).map(|p| p.version), Some(1));
        d[0] = 0x38; // version 7
        assert_eq!(parse(&d), None);
        d[0] = 0x23;
        d[1] = 17;
        assert_eq!(parse(&d), None);
        assert_eq!(parse(&d[..47]), None);
        // With a MAC; with a v4 extension field; with trailing bytes that are neither.
        d[1] = 2;
        let mut mac = d.to_vec();
        mac.extend_from_slice(&[0u8; 20]);
        assert!(parse(&mac).is_some());
        let mut ext = d.to_vec();
        ext.extend_from_slice(&[0x01, 0x04, 0, 28]);
        ext.extend_from_slice(&[0u8; 24]);
        assert!(parse(&ext).is_some());
        ext.extend_from_slice(&[0u8; 100]);
        assert!(parse(&ext).is_none());
    }

    #[test]
    fn control_and_private() {
        // Mode 6, read variables, count 0.
        let c = [0x16, 0x02, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse(&c).map(|p| p.mode), Some(6));
        // A DTLS record (0x16 0xfe …) is not a control message.
        let dtls = [0x16, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20];
        assert_eq!(parse(&dtls), None);
        let p = [0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0];
        assert_eq!(parse(&p).map(|p| p.mode), Some(7));
        assert_eq!(parse(&[0x17, 0x00, 0x09, 0x2a, 0, 0, 0, 0]), None);
        // 601 items of size 0, or more items than the packet holds: not mode 7.
        assert_eq!(parse(&[0x27, 0, 0, 0, 0x02, 0x59, 0, 0]), None);
        assert_eq!(parse(&[0x27, 0, 0, 0, 0x00, 0x02, 0x00, 0x10, 0]), None);
    }
}
