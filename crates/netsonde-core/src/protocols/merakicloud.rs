//! Cisco Meraki's cloud management tunnel: Meraki access points, switches, cameras and
//! security appliances keep an encrypted tunnel to the Meraki cloud over UDP, to port 7351
//! of the address ranges Meraki publishes for "Meraki cloud communication" (its upstream
//! firewall rules). The tunnel's format is not published: a flow is the tunnel when a
//! datagram goes to (or comes from) port 7351 of a range the signature packs give the
//! MerakiCloud application and both directions open with the same 4-byte header.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::classify::Dir;

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MERAKI_CLOUD,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[7351],
    inspect,
};

const PORT: u16 = 7351;
/// The shortest datagram taken for a tunnel message (header and some payload).
const MIN_LEN: usize = 16;

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.server_port != PORT && ins.flow.client_port != PORT {
        return Verdict::Exclude;
    }
    let meraki = ins.sigs.app_by_name("MerakiCloud");
    if meraki.is_none() || ins.app_by_ip() != meraki || ins.data.len() < MIN_LEN {
        return Verdict::Exclude;
    }
    let other = match ins.dir {
        Dir::ToServer => Dir::ToClient,
        Dir::ToClient => Dir::ToServer,
    } as usize;
    let Some(first) = ins.first_payload.get(other).copied() else {
        return Verdict::Exclude;
    };
    if first.is_empty() {
        return Verdict::Continue;
    }
    if first.len() >= MIN_LEN && first.get(..4) == ins.data.get(..4) {
        ins.detect(id::MERAKI_CLOUD);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn datagram(len: u8) -> Vec<u8> {
        let mut d = vec![0xfe, 0xf7, 0x28, 0x91, 0x0d, 0x01, 0x00, len];
        d.resize(usize::from(len), 0x5a);
        d
    }

    #[test]
    fn tunnel_to_a_published_range() {
        let mut c = Conv::udp(&DISSECTOR, 47301, 7351).server_ipv4([209, 206, 59, 34]);
        c.client(&datagram(112));
        assert_eq!(c.name(), "Unknown");
        c.server(&datagram(46));
        assert_eq!(c.name(), "MerakiCloud");
    }

    #[test]
    fn elsewhere_or_unlike_it_is_not() {
        // Not a Meraki address.
        let mut c = Conv::udp(&DISSECTOR, 47301, 7351).server_ipv4([192, 0, 2, 1]);
        c.client(&datagram(112));
        c.server(&datagram(46));
        assert_eq!(c.name(), "Unknown");
        // Different headers each way.
        let mut c = Conv::udp(&DISSECTOR, 47301, 7351).server_ipv4([209, 206, 59, 34]);
        c.client(&datagram(112));
        let mut reply = datagram(46);
        if let Some(b) = reply.first_mut() {
            *b = 0;
        }
        c.server(&reply);
        assert_eq!(c.name(), "Unknown");
    }
}
