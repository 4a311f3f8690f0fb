//! NoMachine NX (TCP 4000): the client opens with the banner `NXSH-<version>\n` and the
//! server answers `NXD-<version>\n`, the version dotted decimal. Confirmed by either banner.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NOMACHINE,
    transports: Transports::TCP,
    tcp_ports: &[4000],
    udp_ports: &[],
    inspect,
};

/// `NXSH-8.10.1\n` or `NXD-8.10.1\n`.
pub fn is_banner(d: &[u8]) -> bool {
    let Some(rest) = d.strip_prefix(b"NXSH-").or_else(|| d.strip_prefix(b"NXD-")) else {
        return false;
    };
    let Some(version) = rest.strip_suffix(b"\n") else {
        return false;
    };
    (3..=32).contains(&version.len())
        && version.first().is_some_and(u8::is_ascii_digit)
        && version.contains(&b'.')
        && version.iter().all(|&b| b.is_ascii_digit() || b == b'.')
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if is_banner(ins.data) {
        ins.detect(id::NOMACHINE);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn banners() {
        let mut c = Conv::tcp(&DISSECTOR, 48084, 4000);
        c.client(b"NXSH-8.10.1\n");
        assert_eq!(c.name(), "NoMachine");
        assert!(is_banner(b"NXD-8.10.1\n"));
        assert!(!is_banner(b"NXD-8.10.1"));
        assert!(!is_banner(b"NXSH-beta\n"));
    }
}
