//! Syncthing local discovery (UDP 21027, broadcast and IPv6 multicast): an announcement is
//! the magic 0x2EA7D90B followed by a protobuf message whose first field is the 32-byte
//! device id (tag 0x0A, length 32) and then the device's addresses (`tcp://…`,
//! `quic://…`). Confirmed by the magic and the device-id field.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SYNCTHING,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[21027],
    inspect,
};

const MAGIC: &[u8] = b"\x2e\xa7\xd9\x0b";
/// Protobuf field 1, length-delimited, 32 bytes: the device id.
const DEVICE_ID: &[u8] = b"\x0a\x20";

/// A local-discovery announcement.
pub fn is_announcement(d: &[u8]) -> bool {
    d.len() >= 4 + 2 + 32 && d.get(..4) == Some(MAGIC) && d.get(4..6) == Some(DEVICE_ID)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_announcement(ins.data) {
        ins.detect(id::SYNCTHING);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn announcement() -> Vec<u8> {
        let mut m = MAGIC.to_vec();
        m.extend_from_slice(DEVICE_ID);
        m.extend_from_slice(&[0x92; 32]);
        m.extend_from_slice(b"\x12\x19tcp://192.168.2.100:22000");
        m
    }

    #[test]
    fn local_announcement() {
        let mut c = Conv::udp(&DISSECTOR, 33927, 21027);
        c.client(&announcement());
        assert_eq!(c.name(), "Syncthing");
    }

    #[test]
    fn rejects_others() {
        let m = announcement();
        assert!(!is_announcement(&m[..20]));
        let mut bad = m.clone();
        bad[5] = 0x21;
        assert!(!is_announcement(&bad));
        bad = m;
        bad[0] = 0x2f;
        assert!(!is_announcement(&bad));
    }
}
