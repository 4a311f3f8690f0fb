//! POP3 (RFC 1939): confirmed by a `+OK` greeting (or a POP3 command answered by `+OK` /
//! `-ERR`). Extracts the USER / APOP / AUTH PLAIN user; STLS turns the flow into `POPS` and
//! hands it to TLS.

use super::super::lines::{
    commands_alone, first_lines, inspect_lines, is_one_of, lines, split_word, FirstLine,
    LineProtocol,
};
use super::super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use super::{clear_text_user, sasl_plain_continuation, sasl_plain_start, USER};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub STLS = "pop3.stls", Int, Security, "1 when the session was upgraded to TLS with STLS";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&STLS];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::POP3,
    transports: Transports::TCP,
    tcp_ports: &[110],
    udp_ports: &[],
    inspect,
};

const COMMANDS: &[&[u8]] = &[
    b"USER", b"PASS", b"APOP", b"AUTH", b"CAPA", b"STLS", b"STAT", b"LIST", b"RETR", b"DELE",
    b"NOOP", b"RSET", b"QUIT", b"TOP", b"UIDL", b"XTND",
];
const MAX_PROBE_PACKETS: u16 = 8;
const MAX_LINES: u16 = 200;

#[derive(Default, Debug)]
pub struct State {
    stls_asked: bool,
    /// AUTH PLAIN sent without an initial response: the next client line is the message.
    auth_plain: bool,
    lines: u16,
}

fn is_status(line: &[u8]) -> bool {
    let (word, _) = split_word(line);
    word == b"+OK" || word == b"-ERR"
}

fn is_pop3_command(line: &[u8]) -> bool {
    is_one_of(split_word(line).0, COMMANDS)
}

/// Commands only POP3 sends (USER, PASS, RETR, LIST, DELE, … are FTP's too).
fn is_pop3_own(line: &[u8]) -> bool {
    is_one_of(
        split_word(line).0,
        &[b"APOP", b"CAPA", b"STLS", b"TOP", b"UIDL", b"XTND"],
    )
}

fn probe(ins: &Inspect<'_>) -> Option<bool> {
    let (client, server) = first_lines(ins);
    if matches!(client, FirstLine::NotText) || matches!(server, FirstLine::NotText) {
        return Some(false);
    }
    let client_ok = match client.line() {
        Some(l) => {
            let (word, _) = split_word(l);
            if !is_one_of(word, COMMANDS) {
                return Some(false);
            }
            true
        }
        None => false,
    };
    if commands_alone(ins, is_pop3_command, is_pop3_own) {
        return Some(true);
    }
    if let Some(l) = server.line() {
        if !is_status(l) {
            return Some(false);
        }
        // The server speaks first with +OK; or answers a POP3 command.
        if l.starts_with(b"+OK") || client_ok {
            return Some(true);
        }
    }
    (ins.packet_no >= MAX_PROBE_PACKETS).then_some(false)
}

/// How this protocol is confirmed and parsed, run by [`inspect_lines`].
static LINES: LineProtocol<State> = LineProtocol {
    proto: id::POP3,
    probe,
    init: |_, _| State::default(),
    wrap: ProtoState::Pop3,
    state: |s| match s {
        ProtoState::Pop3(state) => Some(state),
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
            let (word, rest) = split_word(line);
            if word.eq_ignore_ascii_case(b"USER") || word.eq_ignore_ascii_case(b"APOP") {
                let (user, _) = split_word(rest);
                if word.eq_ignore_ascii_case(b"USER") {
                    clear_text_user(st, user);
                } else {
                    // APOP sends a digest, not the password: only the name is in clear.
                    st.set_str(&USER, super::super::lines::text(user, 128));
                }
            } else if word.eq_ignore_ascii_case(b"AUTH") {
                state.auth_plain = sasl_plain_start(st, rest);
            } else if word.eq_ignore_ascii_case(b"STLS") {
                state.stls_asked = true;
            }
        } else if state.stls_asked && is_status(line) {
            state.stls_asked = false;
            if line.starts_with(b"+OK") {
                ins.consume(consumed);
                st.set(&STLS, MetaValue::Int(1));
                ins.detect(id::POPS);
                ins.handover(id::TLS);
                return Verdict::Done;
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
    use super::super::CLEAR_TEXT_CREDENTIALS;
    use super::*;

    #[test]
    fn login_and_stls() {
        let mut c = Conv::tcp(&DISSECTOR, 50583, 110);
        c.server(b"+OK lavad\r\n");
        assert_eq!(c.name(), "POP3");
        c.client(b"USER alice\r\n").server(b"+OK\r\n");
        assert_eq!(c.meta(&USER).as_deref(), Some("alice"));
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
        c.client(b"STLS\r\n")
            .server(b"+OK Ready to start TLS negotiation.\r\n");
        assert_eq!(c.name(), "POPS");
        assert_eq!(c.meta(&STLS).as_deref(), Some("1"));
    }

    #[test]
    fn auth_plain_continuation() {
        let mut c = Conv::tcp(&DISSECTOR, 5000, 110);
        c.server(b"+OK ready\r\n")
            .client(b"AUTH PLAIN\r\n")
            .server(b"+ \r\n")
            .client(b"AGJvYgBzZWNyZXQ=\r\n");
        assert_eq!(c.meta(&USER).as_deref(), Some("bob"));
    }

    #[test]
    fn not_pop3() {
        let mut c = Conv::tcp(&DISSECTOR, 5000, 110);
        c.server(b"220 mail ESMTP\r\n");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 5000, 110);
        c.client(b"GET / HTTP/1.1\r\n");
        assert!(!c.open);
        // A refused STLS keeps the flow POP3.
        let mut c = Conv::tcp(&DISSECTOR, 5000, 110);
        c.server(b"+OK\r\n")
            .client(b"STLS\r\n")
            .server(b"-ERR no\r\n");
        assert_eq!(c.name(), "POP3");
    }
}
