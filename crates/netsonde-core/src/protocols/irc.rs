//! IRC (RFC 1459 / 2812): confirmed by the client's registration (`NICK`, `USER` with its
//! four parameters, `PASS`, `CAP`) or the server's prefixed messages (`:server NOTICE …`,
//! numeric replies). Extracts the nick, the user name and the first channel joined.

use super::lines::{first_lines, is_one_of, lines, split_word, text, FirstLine};
use super::mail::CLEAR_TEXT_CREDENTIALS;
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;

attrs! {
    pub NICK = "irc.nick", Str, Identifier, "Nickname the client registered with (NICK)";
    pub USER = "irc.user", Str, Identifier, "User name of the client's USER command";
    pub CHANNEL = "irc.channel", Str, Usage, "First channel the client joined";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&NICK, &USER, &CHANNEL];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::IRC,
    transports: Transports::TCP,
    tcp_ports: &[6667, 6668, 6669, 7000],
    udp_ports: &[],
    inspect,
};

const SERVER_COMMANDS: &[&[u8]] = &[
    b"NOTICE", b"PRIVMSG", b"PING", b"JOIN", b"MODE", b"CAP", b"ERROR", b"PART", b"QUIT", b"NICK",
];
const MAX_LINES: u16 = 64;
const MAX_PROBE_PACKETS: u16 = 8;

#[derive(Default, Debug)]
pub struct State {
    lines: u16,
}

/// Whether `s` is a valid nickname (letters, digits and `[]\`_^{|}-`, not starting with a
/// digit or a dash).
fn is_nick(s: &[u8]) -> bool {
    let special = |b: &u8| b"[]\\`_^{|}".contains(b);
    !s.is_empty()
        && s.len() <= 32
        && s.first()
            .is_some_and(|b| b.is_ascii_alphabetic() || special(b))
        && s.iter()
            .all(|b| b.is_ascii_alphanumeric() || special(b) || *b == b'-')
}

/// A client registration line.
fn is_client_line(line: &[u8]) -> bool {
    let (cmd, args) = split_word(line);
    if cmd.eq_ignore_ascii_case(b"NICK") {
        let (nick, _) = split_word(args);
        return is_nick(nick.strip_prefix(b":").unwrap_or(nick));
    }
    if cmd.eq_ignore_ascii_case(b"USER") {
        // USER <user> <mode> <unused> :<realname>
        let (user, rest) = split_word(args);
        let (_mode, rest) = split_word(rest);
        let (_unused, rest) = split_word(rest);
        return !user.is_empty() && rest.first() == Some(&b':');
    }
    if cmd.eq_ignore_ascii_case(b"CAP") {
        let (sub, _) = split_word(args);
        return is_one_of(sub, &[b"LS", b"REQ", b"END"]);
    }
    cmd.eq_ignore_ascii_case(b"PASS") && !args.is_empty() && !args.contains(&b' ')
}

/// A server line: `:prefix COMMAND …` with a known command or a three-digit numeric.
fn is_server_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b":") else {
        let (cmd, args) = split_word(line);
        return is_one_of(cmd, &[b"PING", b"NOTICE", b"ERROR"]) && !args.is_empty();
    };
    let (prefix, rest) = split_word(rest);
    let (cmd, args) = split_word(rest);
    let numeric = cmd.len() == 3 && cmd.iter().all(u8::is_ascii_digit);
    !prefix.is_empty() && !args.is_empty() && (numeric || is_one_of(cmd, SERVER_COMMANDS))
}

fn probe(ins: &Inspect<'_>) -> Option<bool> {
    let (client, server) = first_lines(ins);
    if matches!(client, FirstLine::NotText) || matches!(server, FirstLine::NotText) {
        return Some(false);
    }
    let client_ok = client.line().map(is_client_line);
    let server_ok = server.line().map(is_server_line);
    match (client_ok, server_ok) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), _) | (_, Some(true)) => Some(true),
        _ => (ins.packet_no >= MAX_PROBE_PACKETS).then_some(false),
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Irc(_)) {
        match probe(ins) {
            Some(true) => {}
            Some(false) => return Verdict::Exclude,
            None => return Verdict::Continue,
        }
        ins.detect(id::IRC);
        *st.state = ProtoState::Irc(State::default());
    }
    let ProtoState::Irc(state) = st.state else {
        return Verdict::Done;
    };
    let mut consumed = 0;
    for (line, end) in lines(ins.data) {
        consumed = end;
        state.lines = state.lines.saturating_add(1);
        if !ins.to_server() {
            continue;
        }
        let (cmd, args) = split_word(line);
        let (first, _) = split_word(args);
        if cmd.eq_ignore_ascii_case(b"NICK") {
            st.meta
                .set_str(&NICK, text(first.strip_prefix(b":").unwrap_or(first), 64));
        } else if cmd.eq_ignore_ascii_case(b"USER") {
            st.meta.set_str(&USER, text(first, 64));
        } else if cmd.eq_ignore_ascii_case(b"JOIN") {
            let chan = first.split(|&b| b == b',').next().unwrap_or_default();
            st.meta.set_str(&CHANNEL, text(chan, 128));
        } else if cmd.eq_ignore_ascii_case(b"PASS") && !st.risks.contains(&CLEAR_TEXT_CREDENTIALS) {
            st.risks.push(CLEAR_TEXT_CREDENTIALS);
        }
    }
    ins.consume(consumed);
    if state.lines >= MAX_LINES || st.meta.has(&CHANNEL) {
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn registration() {
        let mut c = Conv::tcp(&DISSECTOR, 45921, 8000);
        c.client(b"USER xxxxx +iw xxxxx :Xxxxxx Xxxx\r\n");
        assert_eq!(c.name(), "IRC");
        c.client(b"NICK molochtest\r\n")
            .server(b":card.freenode.net NOTICE * :*** Looking up your hostname...\r\n")
            .client(b"JOIN #ntop,#other\r\n");
        assert_eq!(c.meta(&USER).as_deref(), Some("xxxxx"));
        assert_eq!(c.meta(&NICK).as_deref(), Some("molochtest"));
        assert_eq!(c.meta(&CHANNEL).as_deref(), Some("#ntop"));
    }

    #[test]
    fn server_first() {
        let mut c = Conv::tcp(&DISSECTOR, 1, 6667);
        c.server(b":irc.example.net 001 bob :Welcome\r\n");
        assert_eq!(c.name(), "IRC");
        let mut c = Conv::tcp(&DISSECTOR, 1, 6667);
        c.client(b"PASS secret\r\nNICK bob\r\n");
        assert_eq!(c.name(), "IRC");
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
    }

    #[test]
    fn not_irc() {
        for d in [
            &b"USER bob\r\n"[..],
            b"NICK 9bad\r\n",
            b"GET / HTTP/1.1\r\n",
            b"220 ftp ready\r\n",
        ] {
            let mut c = Conv::tcp(&DISSECTOR, 1, 6667);
            c.client(d);
            assert!(!c.open, "{:?}", String::from_utf8_lossy(d));
        }
    }
}
