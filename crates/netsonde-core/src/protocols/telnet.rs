//! Telnet (RFC 854): confirmed by option negotiation at the start of a direction — a run of
//! well-formed IAC commands (WILL/WONT/DO/DONT option, or SB … IAC SE). The login name is
//! read from what the client types after the server's `login:` prompt; a password typed
//! after `Password:` raises the clear-text credentials risk.

use super::lines::text;
use super::mail::CLEAR_TEXT_CREDENTIALS;
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;

attrs! {
    pub USER = "telnet.user", Str, Identifier, "Login name typed after the server's login prompt";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&USER];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::TELNET,
    transports: Transports::TCP,
    tcp_ports: &[23],
    udp_ports: &[],
    inspect,
};

const IAC: u8 = 255;
const SB: u8 = 250;
const SE: u8 = 240;
const WILL: u8 = 251;
const DONT: u8 = 254;
const MAX_USER: usize = 64;
/// Subnegotiations longer than this are not waited for.
const MAX_SB: usize = 512;

#[derive(Default, Debug)]
pub struct State {
    /// The server showed a login prompt: the client's next line is the name.
    want_user: bool,
    /// The server asked for a password.
    want_password: bool,
    user: Vec<u8>,
}

/// Length of the IAC command at the start of `d`: `Some(Ok(n))` complete, `Some(Err(()))`
/// incomplete, `None` not a negotiation command.
fn command_len(d: &[u8]) -> Option<Result<usize, ()>> {
    if *d.first()? != IAC {
        return None;
    }
    match d.get(1) {
        None => Some(Err(())),
        Some(&v) if (WILL..=DONT).contains(&v) => match d.get(2) {
            Some(&opt) if known_option(opt) => Some(Ok(3)),
            Some(_) => None,
            None => Some(Err(())),
        },
        Some(&SB) => {
            let end = d.windows(2).position(|w| w == [IAC, SE]);
            match end {
                Some(e) if e >= 3 && d.get(2).is_some_and(|&o| known_option(o)) => Some(Ok(e + 2)),
                Some(_) => None,
                None if d.len() < MAX_SB => Some(Err(())),
                None => None,
            }
        }
        _ => None,
    }
}

/// Options assigned by IANA (0-49, 138-140) and the extended-options list (255).
fn known_option(opt: u8) -> bool {
    opt <= 49 || (138..=140).contains(&opt) || opt == 255
}

/// `Some(true)` when `d` opens with negotiation commands (two, or one that is all of `d`),
/// `None` while they are arriving, `Some(false)` otherwise.
pub fn opens_with_negotiation(d: &[u8]) -> Option<bool> {
    let first = match command_len(d) {
        Some(Ok(n)) => n,
        Some(Err(())) => return None,
        None => return Some(false),
    };
    let rest = d.get(first..).unwrap_or_default();
    if rest.is_empty() {
        return Some(true);
    }
    match command_len(rest) {
        Some(Ok(_)) => Some(true),
        Some(Err(())) => None,
        None => Some(false),
    }
}

/// The bytes of `d` that are not IAC commands.
fn strip_commands(d: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(rest) = d.get(at..).filter(|r| !r.is_empty()) {
        match command_len(rest) {
            Some(Ok(n)) => at += n,
            Some(Err(())) => break,
            None if rest.first() == Some(&IAC) => at += 2.min(rest.len()),
            None => {
                out.extend(rest.first());
                at += 1;
            }
        }
    }
    out
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Telnet(_)) {
        match opens_with_negotiation(ins.data) {
            Some(true) => {}
            None => return Verdict::Continue,
            Some(false) => return Verdict::Exclude,
        }
        ins.detect(id::TELNET);
        *st.state = ProtoState::Telnet(State::default());
    }
    let ProtoState::Telnet(state) = st.state else {
        return Verdict::Done;
    };
    let plain = strip_commands(ins.data);
    ins.consume(ins.data.len());
    if ins.to_server() {
        if state.want_user {
            for &b in &plain {
                match b {
                    b'\r' | b'\n' | 0 if !state.user.is_empty() => {
                        st.meta.set_str(&USER, text(&state.user, MAX_USER));
                        state.want_user = false;
                        break;
                    }
                    b'\r' | b'\n' | 0 => {}
                    // Backspace and delete edit what was typed.
                    8 | 127 => {
                        state.user.pop();
                    }
                    b if state.user.len() < MAX_USER => state.user.push(b),
                    _ => {}
                }
            }
        } else if state.want_password && plain.iter().any(|&b| b != b'\r' && b != b'\n' && b != 0) {
            state.want_password = false;
            if !st.risks.contains(&CLEAR_TEXT_CREDENTIALS) {
                st.risks.push(CLEAR_TEXT_CREDENTIALS);
            }
        }
    } else if !st.meta.has(&USER) && contains_ci(&plain, b"login:") {
        state.want_user = true;
        state.user.clear();
    } else if contains_ci(&plain, b"password:") {
        state.want_password = true;
    }
    if st.meta.has(&USER) && st.risks.contains(&CLEAR_TEXT_CREDENTIALS) {
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn login_typed_one_key_at_a_time() {
        let mut c = Conv::tcp(&DISSECTOR, 1550, 23);
        c.client(b"\xff\xfd\x03\xff\xfb\x18\xff\xfb\x1f");
        assert_eq!(c.name(), "Telnet");
        c.server(b"\xff\xfd\x25")
            .server(b"\xff\xfa\x22\x01\x0b\xff\xf0OpenBSD/i386 (oof) (ttyp2)\r\n\r\nlogin: ");
        for k in [b"f", b"a", b"k", b"x", b"\x7f", b"e", b"\r"] {
            c.client(k);
        }
        assert_eq!(c.meta(&USER).as_deref(), Some("fake"));
        c.server(b"Password:").client(b"user\r");
        assert!(c.has_risk(CLEAR_TEXT_CREDENTIALS));
    }

    #[test]
    fn negotiation_shapes() {
        assert_eq!(opens_with_negotiation(b"\xff\xfb\x01"), Some(true));
        assert_eq!(
            opens_with_negotiation(b"\xff\xfb\x01\xff\xfd\x03"),
            Some(true)
        );
        assert_eq!(opens_with_negotiation(b"\xff\xfb\x01binary"), Some(false));
        assert_eq!(opens_with_negotiation(b"\xff\xfb\x99"), Some(false));
        assert_eq!(opens_with_negotiation(b"\xff\xfb"), None);
        assert_eq!(
            opens_with_negotiation(b"\xff\xfa\x18\x01\xff\xf0"),
            Some(true)
        );
        assert_eq!(opens_with_negotiation(b"\xff\xfa\xff\xf0"), Some(false));
        assert_eq!(opens_with_negotiation(b"\xff\x01\x02"), Some(false));
        assert_eq!(opens_with_negotiation(b"login: "), Some(false));
        assert_eq!(
            strip_commands(b"\xff\xfb\x01ab\xff\xfa\x18\x00x\xff\xf0c"),
            b"abc"
        );
    }
}
