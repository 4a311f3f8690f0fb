//! SMTP (RFC 5321): confirmed by a 220 greeting and an SMTP command from the client (or a
//! greeting that names SMTP). Extracts the server's announced name, the client's HELO
//! domain, the envelope sender and first recipient, the AUTH user; STARTTLS turns the
//! flow into `SMTPS` and hands it to TLS.

use super::super::lines::{
    base64_decode, commands_alone, first_lines, inspect_lines, is_one_of, lines, reply_code,
    split_word, starts_with_ci, text, FirstLine, LineProtocol,
};
use super::super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use super::{clear_text_user, sasl_plain_continuation, sasl_plain_start};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub SERVER_NAME = "smtp.server_name", Str, Identifier, "Host name the server announces in its 220 greeting";
    pub HELO = "smtp.helo", Str, Identifier, "Domain the client gives in EHLO/HELO";
    pub MAIL_FROM = "smtp.mail_from", Str, Identifier, "Envelope sender (MAIL FROM) of the first message";
    pub RCPT_TO = "smtp.rcpt_to", Str, Identifier, "First envelope recipient (RCPT TO)";
    pub STARTTLS = "smtp.starttls", Int, Security, "1 when the session was upgraded to TLS with STARTTLS";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&SERVER_NAME, &HELO, &MAIL_FROM, &RCPT_TO, &STARTTLS];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SMTP,
    transports: Transports::TCP,
    tcp_ports: &[25, 587, 2525],
    udp_ports: &[],
    inspect,
};

/// Client commands (RFC 5321 and its extensions).
const COMMANDS: &[&[u8]] = &[
    b"EHLO",
    b"HELO",
    b"MAIL",
    b"RCPT",
    b"DATA",
    b"RSET",
    b"NOOP",
    b"QUIT",
    b"VRFY",
    b"EXPN",
    b"HELP",
    b"AUTH",
    b"STARTTLS",
    b"BDAT",
    b"ETRN",
    b"TURN",
    b"ATRN",
    b"XCLIENT",
    b"XFORWARD",
];
/// Payload packets without a decision before SMTP gives up.
const MAX_PROBE_PACKETS: u16 = 8;
/// Lines parsed per flow after confirmation.
const MAX_LINES: u16 = 200;
const MAX_VALUE: usize = 256;

#[derive(Default, Debug)]
pub struct State {
    greeted: bool,
    starttls_asked: bool,
    data_asked: bool,
    auth: Auth,
    lines: u16,
}

/// Where an AUTH exchange stands: which client line comes next.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    #[default]
    None,
    /// AUTH PLAIN without an initial response: the next line is the PLAIN message.
    Plain,
    /// AUTH LOGIN: the next line is the base64 user name.
    LoginUser,
    /// AUTH LOGIN: the next line is the base64 password.
    LoginPassword,
}

fn is_command(line: &[u8]) -> bool {
    let (word, _) = split_word(line);
    is_one_of(word, COMMANDS)
}

/// Commands only SMTP sends (STARTTLS is IRC's and NNTP's too).
fn is_smtp_own(line: &[u8]) -> bool {
    let (word, _) = split_word(line);
    is_one_of(word, &[b"EHLO", b"HELO", b"MAIL", b"RCPT", b"BDAT"])
}

fn is_helo(line: &[u8]) -> bool {
    let (word, _) = split_word(line);
    is_one_of(word, &[b"EHLO", b"HELO"])
}

/// Whether the flow so far is SMTP: `Some(true)` confirmed, `Some(false)` not SMTP,
/// `None` undecided.
fn probe(ins: &Inspect<'_>) -> Option<bool> {
    let (client, server) = first_lines(ins);
    if matches!(client, FirstLine::NotText) || matches!(server, FirstLine::NotText) {
        return Some(false);
    }
    if let Some(l) = client.line() {
        if !is_command(l) {
            return Some(false);
        }
    }
    if commands_alone(ins, is_command, is_smtp_own) {
        return Some(true);
    }
    if let Some(l) = server.line() {
        let Some(code) = reply_code(l) else {
            return Some(false);
        };
        match code {
            // A greeting, then either an SMTP command or a greeting that says SMTP.
            220 => {
                let says_smtp = l.windows(4).any(|w| w.eq_ignore_ascii_case(b"SMTP"));
                if says_smtp || client.line().is_some_and(is_helo) {
                    return Some(true);
                }
            }
            // Capture started after the greeting: EHLO answered by 250.
            250 if client.line().is_some_and(is_helo) => return Some(true),
            _ if client.line().is_some() => return Some(false),
            _ => {}
        }
    }
    if ins.packet_no >= MAX_PROBE_PACKETS {
        return Some(false);
    }
    None
}

/// How this protocol is confirmed and parsed, run by [`inspect_lines`].
static LINES: LineProtocol<State> = LineProtocol {
    proto: id::SMTP,
    probe,
    init: confirmed,
    wrap: ProtoState::Smtp,
    state: |s| match s {
        ProtoState::Smtp(state) => Some(state),
        _ => None,
    },
    parse,
};

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    inspect_lines(&LINES, ins, st)
}

fn confirmed(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> State {
    let mut state = State::default();
    if ins.to_server() {
        // Confirmed on the client's command: the greeting is in the other direction,
        // which will be parsed with the server's next bytes; take its name now.
        let [_, greeting] = ins.first_payload;
        if let Some((line, _)) = lines(greeting).next() {
            greeting_line(line, ins, st, &mut state);
        }
    }
    state
}

fn parse(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>, state: &mut State) -> Verdict {
    let mut consumed = 0;
    for (line, end) in lines(ins.data) {
        consumed = end;
        state.lines = state.lines.saturating_add(1);
        if ins.to_server() {
            client_line(line, st, state);
        } else if let Some(v) = server_line(line, ins, st, state) {
            ins.consume(consumed);
            return v;
        }
    }
    ins.consume(consumed);
    if state.lines >= MAX_LINES {
        return Verdict::Done;
    }
    Verdict::Continue
}

fn client_line(line: &[u8], st: &mut DissectorState<'_>, state: &mut State) {
    match state.auth {
        Auth::None => {}
        _ if line == b"*" => {
            state.auth = Auth::None;
            return;
        }
        Auth::Plain => {
            sasl_plain_continuation(st, line);
            state.auth = Auth::None;
            return;
        }
        Auth::LoginUser => {
            if let Some(user) = base64_decode(line) {
                clear_text_user(st, &user);
            }
            state.auth = Auth::LoginPassword;
            return;
        }
        Auth::LoginPassword => {
            state.auth = Auth::None;
            return;
        }
    }
    let (word, rest) = split_word(line);
    if is_one_of(word, &[b"EHLO", b"HELO"]) {
        st.set_str(&HELO, text(rest, MAX_VALUE));
    } else if word.eq_ignore_ascii_case(b"MAIL") && starts_with_ci(rest, b"FROM:") {
        st.set_str(&MAIL_FROM, address(rest.get(5..).unwrap_or_default()));
    } else if word.eq_ignore_ascii_case(b"RCPT") && starts_with_ci(rest, b"TO:") {
        st.set_str(&RCPT_TO, address(rest.get(3..).unwrap_or_default()));
    } else if word.eq_ignore_ascii_case(b"AUTH") {
        let (mech, initial) = split_word(rest);
        if mech.eq_ignore_ascii_case(b"PLAIN") {
            if sasl_plain_start(st, rest) {
                state.auth = Auth::Plain;
            }
        } else if mech.eq_ignore_ascii_case(b"LOGIN") {
            match base64_decode(initial) {
                Some(user) if !user.is_empty() => {
                    clear_text_user(st, &user);
                    state.auth = Auth::LoginPassword;
                }
                _ => state.auth = Auth::LoginUser,
            }
        }
    } else if word.eq_ignore_ascii_case(b"STARTTLS") {
        state.starttls_asked = true;
    } else if word.eq_ignore_ascii_case(b"DATA") {
        state.data_asked = true;
    }
}

/// Handles one server line; returns a verdict when the flow changes course.
fn server_line(
    line: &[u8],
    ins: &mut Inspect<'_>,
    st: &mut DissectorState<'_>,
    state: &mut State,
) -> Option<Verdict> {
    let code = reply_code(line)?;
    if greeting_line(line, ins, st, state) {
        return None;
    }
    if state.starttls_asked && line.get(3) != Some(&b'-') {
        state.starttls_asked = false;
        if code == 220 {
            st.set(&STARTTLS, MetaValue::Int(1));
            ins.detect(id::SMTPS);
            ins.handover(id::TLS);
            return Some(Verdict::Done);
        }
    }
    // The message body follows: nothing more to learn from the envelope.
    if state.data_asked && code == 354 {
        return Some(Verdict::Done);
    }
    if code == 334 && state.auth == Auth::None {
        // A challenge for a mechanism we do not follow: keep reading commands.
        return None;
    }
    None
}

/// Takes the server's name from its greeting: the first server line, when it is a 220.
fn greeting_line(
    line: &[u8],
    ins: &mut Inspect<'_>,
    st: &mut DissectorState<'_>,
    state: &mut State,
) -> bool {
    if state.greeted {
        return false;
    }
    if line.get(3) != Some(&b'-') {
        state.greeted = true;
    }
    if reply_code(line) != Some(220) {
        return true;
    }
    if let Some(name) = greeting_host(line) {
        if !st.meta.has(&SERVER_NAME) {
            ins.app_from_host(&name);
        }
        st.set_str(&SERVER_NAME, name);
    }
    true
}

/// The host name in a greeting: the first word after the code, when more text follows.
fn greeting_host(line: &[u8]) -> Option<String> {
    let rest = line.get(4..)?;
    let (host, more) = split_word(rest);
    if host.is_empty() || more.is_empty() || host.first() == Some(&b'(') {
        return None;
    }
    let host = text(host, MAX_VALUE);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// An address as given after `FROM:` / `TO:`: the part inside angle brackets.
fn address(v: &[u8]) -> String {
    let v = v.trim_ascii_start();
    let inner = v
        .strip_prefix(b"<")
        .and_then(|r| r.iter().position(|&b| b == b'>').and_then(|e| r.get(..e)))
        .unwrap_or_else(|| split_word(v).0);
    text(inner, MAX_VALUE)
}

#[cfg(test)]
mod tests {
    use super::super::super::harness::Conv;
    use super::super::{CLEAR_TEXT_CREDENTIALS, USER};
    use super::*;

    #[test]
    fn session_with_auth_login() {
        let mut c = Conv::tcp(&DISSECTOR, 57309, 587);
        c.server(b"220 opmta1mto02nd1 smtp.orange.fr ESMTP server ready\r\n");
        assert_eq!(c.name(), "SMTP");
        c.client(b"EHLO [173.66.46.97]\r\n")
            .server(b"250-opmta1mto02nd1 hello\r\n250 OK\r\n")
            .client(b"AUTH LOGIN\r\n")
            .server(b"334 VXNlcm5hbWU6\r\n")
            .client(b"cmF1bHBhcmVkZXNAd2FuYWRvby5mcg==\r\n")
            .server(b"334 UGFzc3dvcmQ6\r\n")
            .client(b"c2VjcmV0\r\n")
            .client(b"MAIL FROM:<a@b.example> SIZE=100\r\n")
            .client(b"RCPT To:<c@d.example>\r\n");
        assert_eq!(c.meta(&SERVER_NAME).as_deref(), Some("opmta1mto02nd1"));
        assert_eq!(c.meta(&HELO).as_deref(), Some("[173.66.46.97]"));
        assert_eq!(c.meta(&USER).as_deref(), Some("raulparedes@wanadoo.fr"));
        assert_eq!(c.meta(&MAIL_FROM).as_deref(), Some("a@b.example"));
        assert_eq!(c.meta(&RCPT_TO).as_deref(), Some("c@d.example"));
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
    }

    #[test]
    fn greeting_without_smtp_waits_for_the_client() {
        let mut c = Conv::tcp(&DISSECTOR, 2127, 25);
        c.server(b"220 pigeon.eyrie.af.mil Sendmail 8.8.7 ready\r\n");
        assert_eq!(c.name(), "Unknown");
        c.client(b"HELO delta.peach.mil\r\n");
        assert_eq!(c.name(), "SMTP");
        assert_eq!(c.meta(&SERVER_NAME).as_deref(), Some("pigeon.eyrie.af.mil"));
        assert_eq!(c.meta(&HELO).as_deref(), Some("delta.peach.mil"));
    }

    #[test]
    fn auth_plain_initial_response() {
        let mut c = Conv::tcp(&DISSECTOR, 1025, 25);
        c.server(b"220 mx ESMTP\r\n")
            .client(b"EHLO me\r\n")
            .client(b"AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n");
        assert_eq!(c.meta(&USER).as_deref(), Some("bob"));
    }

    #[test]
    fn starttls_becomes_smtps() {
        let mut c = Conv::tcp(&DISSECTOR, 7562, 25);
        c.server(b"220 mx.example ESMTP Postfix\r\n")
            .client(b"EHLO client\r\n")
            .server(b"250-mx.example\r\n250 STARTTLS\r\n")
            .client(b"STARTTLS\r\n")
            .server(b"220 2.0.0 Ready to start TLS\r\n");
        assert_eq!(c.name(), "SMTPS");
        assert_eq!(c.meta(&STARTTLS).as_deref(), Some("1"));
        assert!(!c.has_risk(CLEAR_TEXT_CREDENTIALS));
    }

    #[test]
    fn refused_starttls_stays_smtp() {
        let mut c = Conv::tcp(&DISSECTOR, 7562, 25);
        c.server(b"220 mx ESMTP\r\n")
            .client(b"STARTTLS\r\n")
            .server(b"454 TLS not available\r\n");
        assert_eq!(c.name(), "SMTP");
        assert_eq!(c.meta(&STARTTLS), None);
    }

    #[test]
    fn not_smtp() {
        // FTP: same greeting code, other commands.
        let mut c = Conv::tcp(&DISSECTOR, 50694, 21);
        c.server(b"220 (vsFTPd 3.0.3)\r\n")
            .client(b"USER anonymous\r\n");
        assert_eq!(c.name(), "Unknown");
        assert!(!c.open);
        // HTTP on port 25.
        let mut c = Conv::tcp(&DISSECTOR, 1000, 25);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
        // Binary.
        let mut c = Conv::tcp(&DISSECTOR, 1000, 25);
        c.server(b"\x16\x03\x01\x00\x10\x02");
        assert!(!c.open);
    }

    #[test]
    fn greeting_host_rules() {
        assert_eq!(greeting_host(b"220 a.b ESMTP").as_deref(), Some("a.b"));
        assert_eq!(greeting_host(b"220 a.b"), None);
        assert_eq!(greeting_host(b"220 (x) y"), None);
        assert_eq!(address(b"<a@b> SIZE=1"), "a@b");
        assert_eq!(address(b" a@b"), "a@b");
    }
}
