//! FTP (RFC 959, 2228, 2428). The control connection is confirmed by a reply-code greeting
//! and an FTP command from the client (or a greeting naming FTP); its commands, the user,
//! the login outcome and the data connection's endpoint (PASV/EPSV/PORT/EPRT) are
//! extracted, so that a later data flow can be tied to it. AUTH TLS turns the flow into
//! `FTPS` and hands it to TLS. Data connections are recognised when they open with a Unix
//! directory listing.

use super::lines::{
    commands_alone, first_lines, inspect_lines, is_one_of, lines, reply_code, split_word,
    starts_with_ci, text, FirstLine, LineProtocol,
};
use super::mail::CLEAR_TEXT_CREDENTIALS;
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub USER = "ftp.user", Str, Identifier, "User name sent with USER";
    pub COMMANDS = "ftp.commands", StrList, Usage, "Distinct commands the client sent, in order";
    pub LOGIN = "ftp.login", Str, Security, "Outcome of the login: success or failure";
    pub DATA_ENDPOINT = "ftp.data_endpoint", Str, Service, "ip:port of the last data connection announced (PASV, EPSV, PORT, EPRT)";
    pub AUTH_TLS = "ftp.auth_tls", Int, Security, "1 when the session was upgraded to TLS with AUTH TLS/SSL";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&USER, &COMMANDS, &LOGIN, &DATA_ENDPOINT, &AUTH_TLS];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::FTP_CONTROL,
    transports: Transports::TCP,
    tcp_ports: &[21],
    udp_ports: &[],
    inspect,
};

pub static DATA_DISSECTOR: Dissector = Dissector {
    proto: id::FTP_DATA,
    transports: Transports::TCP,
    tcp_ports: &[20],
    udp_ports: &[],
    inspect: inspect_data,
};

/// Commands of RFC 959 and its extensions that no other common line protocol uses first.
const COMMANDS_LIST: &[&[u8]] = &[
    b"USER", b"PASS", b"ACCT", b"CWD", b"CDUP", b"SMNT", b"REIN", b"PORT", b"PASV", b"TYPE",
    b"STRU", b"MODE", b"RETR", b"STOR", b"STOU", b"APPE", b"ALLO", b"REST", b"RNFR", b"RNTO",
    b"ABOR", b"DELE", b"RMD", b"MKD", b"PWD", b"LIST", b"NLST", b"SITE", b"SYST", b"FEAT", b"OPTS",
    b"PBSZ", b"PROT", b"EPSV", b"EPRT", b"MDTM", b"SIZE", b"MLSD", b"MLST", b"CLNT", b"LANG",
    b"CCC", b"XPWD", b"XCWD", b"XMKD", b"XRMD", b"HOST",
];
/// Commands FTP shares with other protocols: they count once the flow is FTP.
const SHARED_COMMANDS: &[&[u8]] = &[b"AUTH", b"HELP", b"NOOP", b"QUIT", b"STAT"];
const MAX_PROBE_PACKETS: u16 = 8;
const MAX_LINES: u16 = 300;
const MAX_COMMANDS: usize = 32;

#[derive(Default, Debug)]
pub struct State {
    /// The greeting (first server reply) was read: later replies answer commands.
    greeted: bool,
    auth_tls_asked: bool,
    pass_sent: bool,
    commands: Vec<String>,
    lines: u16,
}

fn is_ftp_command(line: &[u8]) -> bool {
    let (word, arg) = split_word(line);
    is_one_of(word, COMMANDS_LIST)
        || (word.eq_ignore_ascii_case(b"AUTH")
            && is_one_of(arg, &[b"TLS", b"SSL", b"TLS-C", b"TLS-P"]))
}

/// FTP commands that POP3 does not send as well.
fn is_ftp_own(line: &[u8]) -> bool {
    is_ftp_command(line)
        && !is_one_of(
            split_word(line).0,
            &[b"USER", b"PASS", b"RETR", b"LIST", b"DELE"],
        )
}

fn probe(ins: &Inspect<'_>) -> Option<bool> {
    let (client, server) = first_lines(ins);
    if matches!(client, FirstLine::NotText) || matches!(server, FirstLine::NotText) {
        return Some(false);
    }
    let client_ftp = match client.line() {
        Some(l) if is_ftp_command(l) => true,
        Some(l) if is_one_of(split_word(l).0, SHARED_COMMANDS) => false,
        Some(_) => return Some(false),
        None => false,
    };
    let any_command = |l: &[u8]| is_ftp_command(l) || is_one_of(split_word(l).0, SHARED_COMMANDS);
    if commands_alone(ins, any_command, is_ftp_own) {
        return Some(true);
    }
    if let Some(l) = server.line() {
        let Some(code) = reply_code(l) else {
            return Some(false);
        };
        let says_ftp = l.windows(3).any(|w| w.eq_ignore_ascii_case(b"FTP"));
        if matches!(code, 220 | 120) && (client_ftp || says_ftp) {
            return Some(true);
        }
        if client.line().is_some() && !client_ftp && code != 220 {
            return Some(false);
        }
    }
    (ins.packet_no >= MAX_PROBE_PACKETS).then_some(false)
}

/// How this protocol is confirmed and parsed, run by [`inspect_lines`].
static LINES: LineProtocol<State> = LineProtocol {
    proto: id::FTP_CONTROL,
    probe,
    init: |_, _| State::default(),
    wrap: ProtoState::Ftp,
    state: |s| match s {
        ProtoState::Ftp(state) => Some(state),
        _ => None,
    },
    parse,
};

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    inspect_lines(&LINES, ins, st)
}

fn parse(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>, state: &mut State) -> Verdict {
    let mut consumed = 0;
    let data = ins.data;
    for (line, end) in lines(data) {
        consumed = end;
        state.lines = state.lines.saturating_add(1);
        if ins.to_server() {
            client_line(line, ins, st, state);
        } else if let Some(code) = reply_code(line) {
            if line.get(3) == Some(&b'-') || !std::mem::replace(&mut state.greeted, true) {
                continue;
            }
            match code {
                227 => {
                    if let Some(ep) = pasv_endpoint(line) {
                        data_endpoint(ins, st, ep);
                    }
                }
                229 => {
                    if let Some(port) = epsv_port(line) {
                        let ep = endpoint(ins.flow.ip_version, &ins.flow.server_ip, port);
                        data_endpoint(ins, st, ep);
                    }
                }
                230 if state.pass_sent || !st.meta.has(&LOGIN) => {
                    st.meta.replace(&LOGIN, MetaValue::Str("success".into()));
                }
                530 if state.pass_sent => {
                    st.meta.replace(&LOGIN, MetaValue::Str("failure".into()));
                }
                234 if state.auth_tls_asked => {
                    ins.consume(consumed);
                    st.set(&AUTH_TLS, MetaValue::Int(1));
                    ins.detect(id::FTPS);
                    ins.handover(id::TLS);
                    return Verdict::Done;
                }
                _ => {}
            }
            if code != 234 {
                state.auth_tls_asked = false;
            }
        }
    }
    ins.consume(consumed);
    if state.lines >= MAX_LINES {
        return Verdict::Done;
    }
    Verdict::Continue
}

/// Records the endpoint of the next data connection, and announces its port so that the
/// connection is named FTP_DATA whatever it carries (see [`crate::classify::Expectations`]).
fn data_endpoint(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>, ep: String) {
    if let Some(port) = ep.rsplit_once(':').and_then(|(_, p)| p.parse().ok()) {
        ins.announce(port, id::FTP_DATA);
    }
    st.meta.replace(&DATA_ENDPOINT, MetaValue::Str(ep));
}

fn client_line(line: &[u8], ins: &mut Inspect<'_>, st: &mut DissectorState<'_>, state: &mut State) {
    let (word, arg) = split_word(line);
    if word.is_empty() || word.len() > 8 || !word.iter().all(u8::is_ascii_alphabetic) {
        return;
    }
    let cmd = String::from_utf8_lossy(word).to_ascii_uppercase();
    match cmd.as_str() {
        "USER" => st.set_str(&USER, text(arg, 128)),
        "PASS" => {
            state.pass_sent = true;
            st.risk(CLEAR_TEXT_CREDENTIALS);
        }
        "AUTH" if is_one_of(arg, &[b"TLS", b"SSL", b"TLS-C", b"TLS-P"]) => {
            state.auth_tls_asked = true;
        }
        "PORT" => {
            if let Some(ep) = port_endpoint(arg) {
                data_endpoint(ins, st, ep);
            }
        }
        "EPRT" => {
            if let Some(ep) = eprt_endpoint(arg) {
                data_endpoint(ins, st, ep);
            }
        }
        _ => {}
    }
    if state.commands.len() < MAX_COMMANDS && !state.commands.contains(&cmd) {
        state.commands.push(cmd);
        st.meta
            .replace(&COMMANDS, MetaValue::List(state.commands.clone()));
    }
}

/// `ip:port`, IPv6 in brackets.
fn endpoint(version: u8, ip: &[u8; 16], port: u16) -> String {
    let addr = crate::decode::format_ip(version, ip);
    if version == 6 {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

/// Six comma-separated numbers `h1,h2,h3,h4,p1,p2` as an IPv4 endpoint.
fn six_numbers(s: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(s).ok()?;
    let mut n = [0u8; 6];
    let mut parts = s.split(',');
    for slot in n.iter_mut() {
        *slot = parts.next()?.trim().parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    let [a, b, c, d, p1, p2] = n;
    Some(format!("{a}.{b}.{c}.{d}:{}", u16::from_be_bytes([p1, p2])))
}

/// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).`
fn pasv_endpoint(line: &[u8]) -> Option<String> {
    let start = line.iter().position(|&b| b == b'(')? + 1;
    let len = line.get(start..)?.iter().position(|&b| b == b')')?;
    six_numbers(line.get(start..start + len)?).or_else(|| {
        // Some servers omit the parentheses: take the digits after the last space.
        let last = line.iter().rposition(|&b| b == b' ')? + 1;
        six_numbers(line.get(last..)?.strip_suffix(b".").unwrap_or_default())
    })
}

/// `PORT h1,h2,h3,h4,p1,p2`
fn port_endpoint(arg: &[u8]) -> Option<String> {
    six_numbers(arg.trim_ascii())
}

/// `229 Entering Extended Passive Mode (|||port|)`: the port on the server's address.
fn epsv_port(line: &[u8]) -> Option<u16> {
    let start = line.iter().position(|&b| b == b'(')? + 1;
    let inner = line.get(start..)?;
    let d = *inner.first()?;
    let mut fields = inner.split(|&b| b == d);
    fields.next()?; // before the first delimiter
    fields.next()?; // protocol (empty)
    fields.next()?; // address (empty)
    std::str::from_utf8(fields.next()?).ok()?.parse().ok()
}

/// `EPRT |1|132.235.1.2|6275|` or `EPRT |2|1080::8:800:200C:417A|5282|`
fn eprt_endpoint(arg: &[u8]) -> Option<String> {
    let arg = arg.trim_ascii();
    let d = *arg.first()?;
    let mut fields = arg.split(|&b| b == d).skip(1);
    let proto = fields.next()?;
    let addr = std::str::from_utf8(fields.next()?).ok()?;
    let port: u16 = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
    match proto {
        b"1" => {
            let ip: std::net::Ipv4Addr = addr.parse().ok()?;
            Some(format!("{ip}:{port}"))
        }
        b"2" => {
            let ip: std::net::Ipv6Addr = addr.parse().ok()?;
            Some(format!("[{ip}]:{port}"))
        }
        _ => None,
    }
}

/// Whether `line` is an entry of a Unix `ls -l` listing: a type and nine permission
/// characters, blanks, a link count, blanks.
fn is_listing_entry(line: &[u8]) -> bool {
    let Some(mode) = line.get(..10) else {
        return false;
    };
    let kind_ok = matches!(
        mode.first(),
        Some(b'-' | b'd' | b'l' | b'c' | b'b' | b'p' | b's')
    );
    let perms_ok = mode.get(1..).is_some_and(|p| {
        p.chunks(3).all(|c| {
            matches!(c, [r, w, x] if matches!(r, b'r' | b'-')
                && matches!(w, b'w' | b'-')
                && matches!(x, b'x' | b'-' | b's' | b'S' | b't' | b'T'))
        })
    });
    let rest = line.get(10..).unwrap_or_default();
    // An optional ACL / extended-attribute marker, then blanks, digits, a blank.
    let rest = rest
        .strip_prefix(b"+")
        .or_else(|| rest.strip_prefix(b"@"))
        .or_else(|| rest.strip_prefix(b"."))
        .unwrap_or(rest);
    let blanks = rest.iter().take_while(|&&b| b == b' ').count();
    let digits = rest
        .get(blanks..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    kind_ok && perms_ok && blanks > 0 && digits > 0 && rest.get(blanks + digits) == Some(&b' ')
}

fn inspect_data(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    // Only the first bytes of a connection can show it is a listing.
    if ins.packet_no > 1 {
        return Verdict::Exclude;
    }
    let Some((line, _)) = lines(ins.data).next() else {
        return Verdict::Exclude;
    };
    if is_listing_entry(line)
        || (starts_with_ci(line, b"total ")
            && lines(ins.data)
                .nth(1)
                .is_some_and(|(l, _)| is_listing_entry(l)))
    {
        ins.detect(id::FTP_DATA);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn anonymous_session() {
        let mut c = Conv::tcp(&DISSECTOR, 50694, 21);
        c.server(b"220 (vsFTPd 3.0.3)\r\n");
        assert_eq!(c.name(), "FTP_CONTROL");
        c.client(b"USER anonymous\r\n");
        c.server(b"331 Please specify the password.\r\n")
            .client(b"PASS NcFTP@\r\n")
            .server(b"230 Login successful.\r\n")
            .client(b"PASV\r\n")
            .server(b"227 Entering Passive Mode (90,130,70,73,100,85).\r\n")
            .client(b"LIST\r\n");
        assert_eq!(c.meta(&USER).as_deref(), Some("anonymous"));
        assert_eq!(c.meta(&LOGIN).as_deref(), Some("success"));
        assert_eq!(
            c.meta(&DATA_ENDPOINT).as_deref(),
            Some("90.130.70.73:25685")
        );
        assert_eq!(c.meta(&COMMANDS).as_deref(), Some("USER,PASS,PASV,LIST"));
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
    }

    #[test]
    fn failed_login_and_active_mode() {
        let mut c = Conv::tcp(&DISSECTOR, 44724, 21);
        c.server(b"220 ProFTPD Server ready\r\n");
        assert_eq!(c.name(), "FTP_CONTROL");
        c.client(b"USER hello\r\n")
            .server(b"331 ok\r\n")
            .client(b"PASS \r\n")
            .server(b"530 Login incorrect.\r\n")
            .client(b"PORT 10,0,0,1,4,1\r\n");
        assert_eq!(c.meta(&LOGIN).as_deref(), Some("failure"));
        assert_eq!(c.meta(&DATA_ENDPOINT).as_deref(), Some("10.0.0.1:1025"));
    }

    #[test]
    fn auth_tls_becomes_ftps() {
        let mut c = Conv::tcp(&DISSECTOR, 62092, 21);
        c.server(b"220 \"Authorized users only.\"\r\n")
            .client(b"AUTH TLS\r\n");
        assert_eq!(c.name(), "FTP_CONTROL");
        c.server(b"234 Proceed with negotiation.\r\n");
        assert_eq!(c.name(), "FTPS");
        assert_eq!(c.meta(&AUTH_TLS).as_deref(), Some("1"));
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            epsv_port(b"229 Entering Extended Passive Mode (|||6446|)"),
            Some(6446)
        );
        assert_eq!(
            eprt_endpoint(b"|2|1080::8:800:200C:417A|5282|").as_deref(),
            Some("[1080::8:800:200c:417a]:5282")
        );
        assert_eq!(
            eprt_endpoint(b"|1|132.235.1.2|6275|").as_deref(),
            Some("132.235.1.2:6275")
        );
        assert_eq!(pasv_endpoint(b"227 ok (1,2,3,4,5)"), None);
        assert_eq!(pasv_endpoint(b"227 ok (1,2,3,4,300,1)"), None);
        let mut ip = [0u8; 16];
        ip[..4].copy_from_slice(&[10, 0, 0, 2]);
        assert_eq!(endpoint(4, &ip, 21), "10.0.0.2:21");
    }

    #[test]
    fn not_ftp() {
        let mut c = Conv::tcp(&DISSECTOR, 5000, 21);
        c.server(b"220 mx ESMTP\r\n").client(b"EHLO x\r\n");
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 5000, 21);
        c.server(b"+OK POP3\r\n");
        assert!(!c.open);
    }

    #[test]
    fn data_listing() {
        let mut c = Conv::tcp(&DATA_DISSECTOR, 50695, 25685);
        c.server(b"-rw-r--r--    1 0        0        1073741824 Feb 19  2016 1GB.zip\r\n");
        assert_eq!(c.name(), "FTP_DATA");
        let mut c = Conv::tcp(&DATA_DISSECTOR, 50695, 25685);
        c.server(b"drwxr-xr-x+  12 bob staff 384 Jan 1 00:00 dir\r\n");
        assert_eq!(c.name(), "FTP_DATA");
        let mut c = Conv::tcp(&DATA_DISSECTOR, 50695, 25685);
        c.server(b"-rw-r--r-- is not a listing\r\n");
        assert_eq!(c.name(), "Unknown");
        let mut c = Conv::tcp(&DATA_DISSECTOR, 50695, 20);
        c.server(b"\x89PNG\r\n\x1a\n");
        assert_eq!(c.name(), "Unknown");
    }
}
