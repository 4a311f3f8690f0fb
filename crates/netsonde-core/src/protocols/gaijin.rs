//! Gaijin Entertainment (War Thunder) over UDP: the game client's 52-byte connection
//! request (0x8FFF, a zero byte, then 0x82FF0001) and its telemetry, StatsD lines with
//! tags ("app.start,env=production,…:1|c") under the client's own metric names.

use super::wire::{be16, be32};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::GAIJIN,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// Whether the datagram is the game's connection request.
pub fn is_connect(d: &[u8]) -> bool {
    d.len() == 52
        && be16(d, 0) == Some(0x8fff)
        && d.get(2) == Some(&0)
        && be32(d, 4) == Some(0x82ff_0001)
}

/// Whether the datagram is the client's telemetry: StatsD lines (`name,tags:value|type`)
/// whose first metric is one of the client's start-up or updater metrics.
pub fn is_telemetry(d: &[u8]) -> bool {
    const NAMES: [&[u8]; 3] = [b"app.start", b"app.stage", b"embeddedupdater."];
    if d.len() <= 100 || !NAMES.iter().any(|n| d.starts_with(n)) {
        return false;
    }
    d.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .all(statsd_line)
}

fn statsd_line(l: &[u8]) -> bool {
    let Some(colon) = l.iter().rposition(|&b| b == b':') else {
        return false;
    };
    let (name, rest) = l.split_at(colon);
    let Some(bar) = rest.iter().position(|&b| b == b'|') else {
        return false;
    };
    let value = rest.get(1..bar).unwrap_or_default();
    name.iter().all(|b| b.is_ascii_graphic())
        && !value.is_empty()
        && value
            .iter()
            .all(|b| b.is_ascii_digit() || b"-.".contains(b))
        && rest
            .get(bar + 1..)
            .is_some_and(|t| !t.is_empty() && t.iter().all(u8::is_ascii_alphanumeric))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_connect(ins.data) || is_telemetry(ins.data) {
        ins.detect(id::GAIJIN);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn connection_request() {
        let mut p = vec![0x8f, 0xff, 0x00, 0x01, 0x82, 0xff, 0x00, 0x01];
        p.resize(52, 0);
        assert!(is_connect(&p));
        assert!(!is_connect(&p[..48]));
        p[4] = 0x83;
        assert!(!is_connect(&p));
    }

    #[test]
    fn telemetry() {
        let t = b"app.start,env=production,circuit=production,application=client,project=warthunder,platform=linux64,host=host_client:1|c";
        assert!(is_telemetry(t));
        assert!(!is_telemetry(b"app.start,env=production,circuit=production,application=client,project=warthunder,platform=linux64 no value"));
        let other = b"cpu.load,env=production,circuit=production,application=client,project=warthunder,platform=linux64,host=x:1|c";
        assert!(!is_telemetry(other));
    }
}
