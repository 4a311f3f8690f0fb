//! Usenet news (NNTP, RFC 3977, TCP 119): the server greets with `200` or `201` and a text
//! line; the client then sends NNTP commands (`MODE READER`, `AUTHINFO`, `CAPABILITIES`,
//! `GROUP`, `LIST`, …). Confirmed by a greeting naming NNTP or news, or by a greeting
//! followed by an NNTP command.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::USENET,
    transports: Transports::TCP,
    tcp_ports: &[119],
    udp_ports: &[],
    inspect,
};

/// Commands only NNTP clients send (HELP and LIST are too common elsewhere alone, but
/// follow an NNTP greeting here).
const COMMANDS: &[&[u8]] = &[
    b"MODE READER",
    b"MODE STREAM",
    b"AUTHINFO ",
    b"CAPABILITIES",
    b"GROUP ",
    b"LISTGROUP",
    b"LIST",
    b"ARTICLE",
    b"XOVER",
    b"OVER",
    b"NEWGROUPS ",
    b"NEWNEWS ",
    b"POST",
    b"IHAVE ",
    b"HELP",
];

/// The server's greeting line: `200 ` or `201 ` and text up to CRLF/LF.
pub fn greeting(d: &[u8]) -> Option<&[u8]> {
    if !(d.starts_with(b"200 ") || d.starts_with(b"201 ")) {
        return None;
    }
    let end = d.iter().position(|&b| b == b'\n')?;
    let line = d.get(4..end)?;
    line.iter()
        .all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\r' || b == b'\t')
        .then_some(line)
}

fn names_news(line: &[u8]) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.windows(4).any(|w| w == b"nntp" || w == b"news")
}

pub fn is_command(d: &[u8]) -> bool {
    let upper = d.get(..16).unwrap_or(d).to_ascii_uppercase();
    COMMANDS.iter().any(|c| upper.starts_with(c))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if !ins.to_server() {
        return match greeting(d) {
            Some(line) if names_news(line) => {
                ins.detect(id::USENET);
                Verdict::Done
            }
            Some(_) => {
                ins.consume(d.len());
                Verdict::Continue
            }
            None if ins.dir_packets.get(ins.dir as usize) == Some(&1) && !d.contains(&b'\n') => {
                Verdict::Continue
            }
            None => Verdict::Exclude,
        };
    }
    let greeted = ins
        .first_payload
        .get(crate::classify::Dir::ToClient as usize)
        .is_some_and(|g| greeting(g).is_some());
    if !greeted {
        // The server speaks first in NNTP.
        return Verdict::Exclude;
    }
    if is_command(d) {
        ins.detect(id::USENET);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn greeting_names_nntp() {
        let mut c = Conv::tcp(&DISSECTOR, 55630, 119);
        c.server(b"200 Leafnode NNTP Daemon, version 1.11.7.rc1 running at data\r\n");
        assert_eq!(c.name(), "Usenet");
    }

    #[test]
    fn greeting_then_command() {
        let mut c = Conv::tcp(&DISSECTOR, 55630, 119);
        c.server(b"200 server ready - posting allowed\r\n");
        assert!(c.open);
        c.client(b"MODE READER\r\n");
        assert_eq!(c.name(), "Usenet");
    }

    #[test]
    fn others() {
        let mut c = Conv::tcp(&DISSECTOR, 55630, 119);
        c.client(b"MODE READER\r\n");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 55630, 119);
        c.server(b"220 smtp ready\r\n");
        assert!(!c.open);
    }
}
