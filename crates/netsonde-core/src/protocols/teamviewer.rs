//! TeamViewer. Over TCP (5938, or tunnelled on other ports) every command packet starts
//! with the magic 0x17 0x24 and a command byte; two packets of one direction opening so
//! confirm (one alone is too little structure). Over UDP the datagram carries the same
//! magic after a header of ten zero bytes and a packet-type byte.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TEAMVIEWER,
    transports: Transports::TCP_UDP,
    tcp_ports: &[5938],
    udp_ports: &[5938],
    inspect,
};

const MAGIC: &[u8] = b"\x17\x24";

/// A TCP command packet: magic and a command byte.
pub fn is_tcp_command(d: &[u8]) -> bool {
    d.len() >= 3 && d.get(..2) == Some(MAGIC)
}

/// A UDP datagram: ten zero bytes, a type byte, the magic.
pub fn is_udp_packet(d: &[u8]) -> bool {
    d.len() >= 16
        && d.get(..10).is_some_and(|z| z.iter().all(|&b| b == 0))
        && d.get(10).is_some_and(|&t| t != 0)
        && d.get(11..13) == Some(MAGIC)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if ins.flow.l4 == 17 {
        if is_udp_packet(d) {
            ins.detect(id::TEAMVIEWER);
            return Verdict::Done;
        }
        return Verdict::Exclude;
    }
    if !is_tcp_command(d) {
        return Verdict::Exclude;
    }
    let first = ins
        .first_payload
        .get(ins.dir as usize)
        .copied()
        .unwrap_or_default();
    if ins.dir_packets.get(ins.dir as usize).copied().unwrap_or(0) >= 2 && is_tcp_command(first) {
        ins.detect(id::TEAMVIEWER);
        return Verdict::Done;
    }
    ins.consume(d.len());
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn two_tcp_commands() {
        let mut c = Conv::tcp(&DISSECTOR, 35732, 5938);
        c.client(b"\x17\x24\x0a\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x48\x00\x80");
        assert_eq!(c.name(), "Unknown");
        c.client(b"\x17\x24\x28\x18\x00\x00\x80\x00\x00\x7f\xff\xff\xff\x80\x80\x00");
        assert_eq!(c.name(), "TeamViewer");
    }

    #[test]
    fn udp_and_others() {
        let mut c = Conv::udp(&DISSECTOR, 34417, 36037);
        c.client(b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x17\x24\x47\x50\x00\x05\x00");
        assert_eq!(c.name(), "TeamViewer");
        assert!(!is_udp_packet(&[0u8; 20]));
        let mut c = Conv::tcp(&DISSECTOR, 35732, 5938);
        c.client(b"\x17\x25\x0a");
        assert!(!c.open);
    }
}
