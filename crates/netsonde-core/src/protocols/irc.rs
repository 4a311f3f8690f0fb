//! IRC (RFC 1459 / 2812): confirmed by the client's registration (`NICK`, `USER` with its
//! four parameters, `PASS`, `CAP`) or the server's prefixed messages (`:server NOTICE …`,
//! numeric replies). Extracts the nick, the user name and the first channel joined. A
//! client's STARTTLS (IRCv3) that the server accepts with RPL_STARTTLS (670) hands the
//! flow over to TLS.

use super::lines::{first_lines, is_one_of, lines, split_word, text, FirstLine};
use super::mail::CLEAR_TEXT_CREDENTIALS;
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;

attrs! {
    pub NICK = "irc.nick", Str, Identifier, "Nickname the client registered with (NICK)";
    pub USER = "irc.user", Str, Identifier, "User name of the client's USER command";
    pub CHANNEL = "irc.channel", Str, Usage, "First channel the client joined";
    pub STARTTLS = "irc.starttls", Int, Security, "1 when the session was upgraded to TLS with STARTTLS";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&NICK, &USER, &CHANNEL, &STARTTLS];

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
    starttls_asked: bool,
    /// The client's STARTTLS came before the flow was confirmed (on the server's answer):
    /// its line is still to be read off the client's side.
    starttls_unread: bool,
    /// The server accepted a STARTTLS still unread: the upgrade waits for that line.
    starttls_accepted: bool,
}

/// RPL_STARTTLS: the server accepts the upgrade.
const RPL_STARTTLS: &[u8] = b"670";

/// A server line's command (a numeric or a word), after its `:prefix`.
fn server_command(line: &[u8]) -> &[u8] {
    let rest = line.strip_prefix(b":").map_or(line, |l| split_word(l).1);
    split_word(rest).0
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
    // STARTTLS is other protocols' command too: the server's answer decides.
    let client_ok = client
        .line()
        .filter(|l| !l.eq_ignore_ascii_case(b"STARTTLS"))
        .map(is_client_line);
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
        // Confirmed on the server's answer: the client's STARTTLS came before it.
        let [asked, _] = ins.first_payload;
        let starttls_unread = !ins.to_server()
            && lines(asked)
                .next()
                .is_some_and(|(l, _)| l.eq_ignore_ascii_case(b"STARTTLS"));
        *st.state = ProtoState::Irc(State {
            starttls_unread,
            ..State::default()
        });
    }
    let ProtoState::Irc(state) = st.state else {
        return Verdict::Done;
    };
    let mut consumed = 0;
    for (line, end) in lines(ins.data) {
        consumed = end;
        state.lines = state.lines.saturating_add(1);
        if !ins.to_server() {
            if server_command(line) == RPL_STARTTLS {
                if state.starttls_unread {
                    state.starttls_accepted = true;
                } else if state.starttls_asked {
                    return upgrade(ins, st, consumed);
                }
            }
            continue;
        }
        if line.eq_ignore_ascii_case(b"STARTTLS") {
            if state.starttls_accepted {
                return upgrade(ins, st, consumed);
            }
            state.starttls_asked = true;
            state.starttls_unread = false;
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

/// The server accepted STARTTLS and both sides' lines up to it are read: TLS goes on.
fn upgrade(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>, consumed: usize) -> Verdict {
    ins.consume(consumed);
    st.meta.set(&STARTTLS, crate::record::MetaValue::Int(1));
    ins.handover(id::TLS);
    Verdict::Done
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
    fn starttls_goes_on_as_tls() {
        use super::super::tls::parser::tests::{client_hello_body, handshake, records};
        let mut c = Conv::all(6, 55123, 6667);
        c.client(b"STARTTLS\r\n");
        assert_eq!(c.name(), "Unknown");
        c.server(b":irc.example.org 670  :STARTTLS successful, go ahead with TLS handshake\r\n")
            .client(&records(22, &handshake(1, &client_hello_body()), 16_384));
        assert_eq!(c.name(), "IRC");
        assert_eq!(c.meta(&STARTTLS).as_deref(), Some("1"));
        assert_eq!(
            c.meta(&super::super::tls::SNI).as_deref(),
            Some("example.com")
        );
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
