//! IMAP (RFC 9051 / 3501): confirmed by an untagged greeting (`* OK`, `* PREAUTH`) and a
//! tagged IMAP command, or a greeting naming IMAP. Extracts the LOGIN / AUTHENTICATE PLAIN
//! user; STARTTLS turns the flow into `IMAPS` and hands it to TLS.

use super::super::lines::{
    commands_alone, first_lines, inspect_lines, is_one_of, lines, split_word, starts_with_ci,
    FirstLine, LineProtocol,
};
use super::super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use super::{clear_text_user, sasl_plain_continuation, sasl_plain_start, unquote};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub STARTTLS = "imap.starttls", Int, Security, "1 when the session was upgraded to TLS with STARTTLS";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&STARTTLS];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::IMAP,
    transports: Transports::TCP,
    tcp_ports: &[143],
    udp_ports: &[],
    inspect,
};

const COMMANDS: &[&[u8]] = &[
    b"CAPABILITY",
    b"NOOP",
    b"LOGOUT",
    b"STARTTLS",
    b"AUTHENTICATE",
    b"LOGIN",
    b"SELECT",
    b"EXAMINE",
    b"CREATE",
    b"DELETE",
    b"RENAME",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"LIST",
    b"LSUB",
    b"STATUS",
    b"APPEND",
    b"CHECK",
    b"CLOSE",
    b"EXPUNGE",
    b"SEARCH",
    b"FETCH",
    b"STORE",
    b"COPY",
    b"UID",
    b"ID",
    b"IDLE",
    b"NAMESPACE",
    b"ENABLE",
    b"MOVE",
    b"UNSELECT",
    b"GETQUOTAROOT",
];
const MAX_PROBE_PACKETS: u16 = 8;
const MAX_LINES: u16 = 200;
const MAX_TAG: usize = 32;

#[derive(Default, Debug)]
pub struct State {
    /// Tag of a STARTTLS command waiting for its answer.
    starttls_tag: Option<Vec<u8>>,
    /// AUTHENTICATE PLAIN without an initial response: the next client line is the message.
    auth_plain: bool,
    lines: u16,
}

/// A tagged command: `tag SP command ...` with an atom tag.
fn tagged_command(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (tag, rest) = split_word(line);
    let atom = |b: &u8| b.is_ascii_graphic() && !b"(){%*\"\\]+".contains(b);
    if tag.is_empty() || tag.len() > MAX_TAG || !tag.iter().all(atom) {
        return None;
    }
    let (cmd, args) = split_word(rest);
    is_one_of(cmd, COMMANDS).then_some((tag, cmd, args))
}

fn is_greeting(line: &[u8]) -> bool {
    starts_with_ci(line, b"* OK")
        || starts_with_ci(line, b"* PREAUTH")
        || starts_with_ci(line, b"* BYE")
}

fn probe(ins: &Inspect<'_>) -> Option<bool> {
    let (client, server) = first_lines(ins);
    if matches!(client, FirstLine::NotText) || matches!(server, FirstLine::NotText) {
        return Some(false);
    }
    let client_ok = match client.line() {
        Some(l) if tagged_command(l).is_some() => true,
        Some(_) => return Some(false),
        None => false,
    };
    let tagged = |l: &[u8]| tagged_command(l).is_some();
    if commands_alone(ins, tagged, tagged) {
        return Some(true);
    }
    if let Some(l) = server.line() {
        if !is_greeting(l) {
            return Some(false);
        }
        let says_imap = l.windows(4).any(|w| w.eq_ignore_ascii_case(b"IMAP"));
        if says_imap || client_ok {
            return Some(true);
        }
    }
    (ins.packet_no >= MAX_PROBE_PACKETS).then_some(false)
}

/// How this protocol is confirmed and parsed, run by [`inspect_lines`].
static LINES: LineProtocol<State> = LineProtocol {
    proto: id::IMAP,
    probe,
    init: |_, _| State::default(),
    wrap: ProtoState::Imap,
    state: |s| match s {
        ProtoState::Imap(state) => Some(state),
        _ => None,
    },
    parse,
};

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    inspect_lines(&LINES, ins, st)
}

fn parse(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>, state: &mut State) -> Verdict {
    let mut consumed = 0;
    for (line, end) in lines(ins.data) {
        consumed = end;
        state.lines = state.lines.saturating_add(1);
        if ins.to_server() {
            if state.auth_plain {
                state.auth_plain = false;
                sasl_plain_continuation(st, line);
                continue;
            }
            let Some((tag, cmd, args)) = tagged_command(line) else {
                continue;
            };
            if cmd.eq_ignore_ascii_case(b"LOGIN") {
                let (user, _) = split_word(args);
                clear_text_user(st, unquote(user));
            } else if cmd.eq_ignore_ascii_case(b"AUTHENTICATE") {
                state.auth_plain = sasl_plain_start(st, args);
            } else if cmd.eq_ignore_ascii_case(b"STARTTLS") {
                state.starttls_tag = Some(tag.to_vec());
            }
        } else if let Some(tag) = &state.starttls_tag {
            let (t, rest) = split_word(line);
            if t == tag.as_slice() {
                let ok = starts_with_ci(rest, b"OK");
                state.starttls_tag = None;
                if ok {
                    ins.consume(consumed);
                    st.set(&STARTTLS, MetaValue::Int(1));
                    ins.detect(id::IMAPS);
                    ins.handover(id::TLS);
                    return Verdict::Done;
                }
            }
        }
    }
    ins.consume(consumed);
    if state.lines >= MAX_LINES {
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::super::harness::Conv;
    use super::super::{CLEAR_TEXT_CREDENTIALS, USER};
    use super::*;

    #[test]
    fn login() {
        let mut c = Conv::tcp(&DISSECTOR, 46045, 143);
        c.server(b"* OK IMAP4Rev1 Server Version 4.9.04.012\r\n");
        assert_eq!(c.name(), "IMAP");
        c.client(b"C00000 CAPABILITY\r\n")
            .server(b"* CAPABILITY IMAP4rev1 AUTH=LOGIN\r\nC00000 OK done\r\n")
            .client(b"C00001 LOGIN samir pfres\r\n");
        assert_eq!(c.meta(&USER).as_deref(), Some("samir"));
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
    }

    #[test]
    fn starttls() {
        let mut c = Conv::tcp(&DISSECTOR, 49640, 143);
        c.server(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
            .client(b". CAPABILITY\r\n")
            .server(b"* CAPABILITY IMAP4rev1\r\n. OK CAPABILITY completed\r\n")
            .client(b". STARTTLS\r\n");
        assert_eq!(c.name(), "IMAP");
        c.server(b". OK Begin TLS negotiation now\r\n");
        assert_eq!(c.name(), "IMAPS");
        assert_eq!(c.meta(&STARTTLS).as_deref(), Some("1"));
    }

    #[test]
    fn greeting_without_imap_needs_a_command() {
        let mut c = Conv::tcp(&DISSECTOR, 5000, 143);
        c.server(b"* OK ready\r\n");
        assert_eq!(c.name(), "Unknown");
        c.client(b"a1 LOGIN \"bob\" x\r\n");
        assert_eq!(c.name(), "IMAP");
        assert_eq!(c.meta(&USER).as_deref(), Some("bob"));
    }

    #[test]
    fn not_imap() {
        let mut c = Conv::tcp(&DISSECTOR, 5000, 143);
        c.server(b"+OK POP3 ready\r\n");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 5000, 143);
        c.client(b"GET / HTTP/1.1\r\n");
        assert!(!c.open);
    }
}
