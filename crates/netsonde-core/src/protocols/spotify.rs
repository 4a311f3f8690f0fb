//! Spotify's LAN discovery: the desktop client broadcasts UDP datagrams to port 57621 that
//! start with the ASCII tag `SpotUdp0`. The tag alone (not the port) confirms the flow.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SPOTIFY,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[57621],
    inspect,
};

const TAG: &[u8] = b"SpotUdp0";

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.data.starts_with(TAG) {
        ins.detect(id::SPOTIFY);
        Verdict::Done
    } else {
        Verdict::Exclude
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn discovery_broadcast() {
        let mut c = Conv::udp(&DISSECTOR, 57621, 57621);
        c.client(b"SpotUdp0\xdc\x15t(.RbL\x00\x01\x00\x04H\x95\xc2\x03\xa2A\xde \x89\xb9x\xd8");
        assert_eq!(c.name(), "Spotify");
    }

    #[test]
    fn other_datagrams_are_not_spotify() {
        let mut c = Conv::udp(&DISSECTOR, 57621, 57621);
        c.client(b"SpotUdp\x00\x01\x02\x03");
        assert_eq!(c.name(), "Unknown");
    }
}
