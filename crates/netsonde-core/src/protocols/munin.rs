//! Munin node protocol (TCP 4949): a line-based text protocol in which the node greets
//! with `# munin node at <hostname>`. Confirmed by that greeting.

use super::lines::text;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub HOSTNAME = "munin.hostname", Str, Identifier, "Node name given in the greeting";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&HOSTNAME];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MUNIN,
    transports: Transports::TCP,
    tcp_ports: &[4949],
    udp_ports: &[],
    inspect,
};

const GREETING: &[u8] = b"# munin node at ";

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.len() < GREETING.len() {
        return if GREETING.starts_with(d) {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    let Some(rest) = d.strip_prefix(GREETING) else {
        return Verdict::Exclude;
    };
    ins.detect(id::MUNIN);
    if let Some(end) = rest.iter().position(|&b| b == b'\n') {
        let host = rest.get(..end).unwrap_or_default().trim_ascii();
        if !host.is_empty() {
            st.set_str(&HOSTNAME, text(host, 255));
        }
    }
    Verdict::Done
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn greeting() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 4949);
        c.server(b"# munin node at kibana-node01\n");
        assert_eq!(c.name(), "Munin");
        assert_eq!(c.meta(&HOSTNAME).as_deref(), Some("kibana-node01"));
    }

    #[test]
    fn other_text() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 4949);
        c.client(b"# munin");
        assert!(c.open);
        c.client(b" mode at x\n");
        assert!(!c.open);
    }
}
