//! SSH (RFC 4253): the identification banner of each side (`SSH-2.0-…`), then the binary
//! KEXINIT message, from which the HASSH fingerprints are computed: the MD5 of the key
//! exchange, encryption, MAC and compression algorithm lists for the sending side's
//! direction, joined by `;` (HASSH for the client, HASSH-server for the server).

use md5::{Digest, Md5};

use super::wire::{be32, starts_with_ci, text, u8_at};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;

attrs! {
    pub CLIENT_BANNER = "ssh.client_banner", Str, Identifier, "Identification string of the client";
    pub SERVER_BANNER = "ssh.server_banner", Str, Service, "Identification string of the server";
    pub HASSH = "ssh.hassh", Str, Identifier, "HASSH of the client's KEXINIT (MD5, hex)";
    pub HASSH_SERVER = "ssh.hassh_server", Str, Identifier, "HASSH of the server's KEXINIT (MD5, hex)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&CLIENT_BANNER, &SERVER_BANNER, &HASSH, &HASSH_SERVER];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SSH,
    transports: Transports::TCP,
    tcp_ports: &[22, 2222],
    udp_ports: &[],
    inspect,
};

/// RFC 4253 limits the identification line to 255 bytes.
const MAX_BANNER: usize = 255;
/// The server may send other lines of text before its identification line (RFC 4253
/// 4.2: a message of the day, a warning); past this many bytes of them it is not SSH.
const MAX_PRE_BANNER: usize = 8 * 1024;
/// KEXINIT packets larger than this are not waited for.
const MAX_KEXINIT: usize = 32 * 1024;
const MSG_KEXINIT: u8 = 20;

/// Where each direction is: 0 = banner expected, 1 = KEXINIT expected, 2 = done.
#[derive(Default, Debug)]
pub struct State {
    stage: [u8; 2],
}

/// The bytes are not what SSH sends at this point.
#[derive(Debug, PartialEq, Eq)]
pub struct NotSsh;

/// A banner line at the start of `d`: its text and the bytes it takes (with CR LF).
/// `Ok(None)` when the line is incomplete.
pub fn banner(d: &[u8]) -> Result<Option<(String, usize)>, NotSsh> {
    const P: &[u8] = b"SSH-";
    let n = P.len().min(d.len());
    if d.get(..n) != P.get(..n) {
        return Err(NotSsh);
    }
    let Some(end) = d.iter().take(MAX_BANNER + 2).position(|&b| b == b'\n') else {
        return if d.len() > MAX_BANNER + 2 {
            Err(NotSsh)
        } else {
            Ok(None)
        };
    };
    let line = d.get(..end).ok_or(NotSsh)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // "SSH-protoversion-softwareversion": 1.x, 1.99 or 2.0.
    if !(starts_with_ci(line, b"SSH-2.0-") || starts_with_ci(line, b"SSH-1.")) {
        return Err(NotSsh);
    }
    Ok(Some((text(line), end + 1)))
}

/// The length of the lines of text at the start of `d` that come before a line starting
/// `SSH-` (or the start of one). `Ok(None)` when a line is incomplete.
pub fn pre_banner_lines(d: &[u8]) -> Result<Option<usize>, NotSsh> {
    const P: &[u8] = b"SSH-";
    let mut at = 0;
    loop {
        let rest = d.get(at..).unwrap_or_default();
        let n = P.len().min(rest.len());
        if rest.get(..n) == P.get(..n) {
            return Ok(Some(at));
        }
        let end = rest.iter().position(|&b| b == b'\n');
        let line = end.and_then(|e| rest.get(..e)).unwrap_or(rest);
        // Text: control characters other than tab and CR mean a binary protocol.
        if line.iter().any(|&b| b < 0x20 && b != b'\t' && b != b'\r') {
            return Err(NotSsh);
        }
        let Some(end) = end else {
            return if at + rest.len() > MAX_PRE_BANNER {
                Err(NotSsh)
            } else {
                Ok(None)
            };
        };
        at += end + 1;
        if at > MAX_PRE_BANNER {
            return Err(NotSsh);
        }
    }
}

/// The algorithm name-lists of a KEXINIT payload (after the message byte and cookie).
fn name_lists(payload: &[u8]) -> Option<Vec<&[u8]>> {
    let mut at = 17;
    let mut lists = Vec::with_capacity(10);
    for _ in 0..10 {
        let len = usize::try_from(be32(payload, at)?).ok()?;
        lists.push(payload.get(at + 4..at.checked_add(4 + len)?)?);
        at += 4 + len;
    }
    Some(lists)
}

/// One binary packet at the start of `d` (no MAC yet): the KEXINIT's HASSH for the given
/// side, and the bytes the packet takes. `Ok(None)` when the packet is incomplete.
pub fn kexinit_hassh(d: &[u8], client: bool) -> Result<Option<(String, usize)>, NotSsh> {
    let Some(len) = be32(d, 0) else {
        return Ok(None);
    };
    let len = usize::try_from(len).map_err(|_| NotSsh)?;
    if !(16..=MAX_KEXINIT).contains(&len) {
        return Err(NotSsh);
    }
    let Some(packet) = d.get(4..4 + len) else {
        return Ok(None);
    };
    let padding = usize::from(u8_at(packet, 0).ok_or(NotSsh)?);
    if padding < 4 || padding + 1 >= len {
        return Err(NotSsh);
    }
    let payload = packet.get(1..len - padding).ok_or(NotSsh)?;
    if u8_at(payload, 0) != Some(MSG_KEXINIT) {
        return Err(NotSsh);
    }
    let lists = name_lists(payload).ok_or(NotSsh)?;
    // kex, host key, enc c2s, enc s2c, mac c2s, mac s2c, comp c2s, comp s2c, lang, lang.
    let pick = |c2s: usize| -> &[u8] {
        lists
            .get(if client { c2s } else { c2s + 1 })
            .copied()
            .unwrap_or_default()
    };
    let kex = lists.first().copied().unwrap_or_default();
    let mut input = Vec::new();
    for (i, part) in [kex, pick(2), pick(4), pick(6)].iter().enumerate() {
        if i > 0 {
            input.push(b';');
        }
        input.extend_from_slice(part);
    }
    let digest = Md5::digest(&input);
    Ok(Some((crate::text::hex(&digest), 4 + len)))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.dir as usize;
    let client = ins.to_server();
    let stage = match st.state {
        ProtoState::Ssh(s) => s.stage.get(d).copied().unwrap_or(2),
        _ => 0,
    };
    let mut consumed = 0;
    let mut next_stage = stage;
    if stage == 0 {
        let skipped = if client {
            Ok(Some(0))
        } else {
            pre_banner_lines(ins.data)
        };
        let found = match skipped {
            Ok(Some(at)) => banner(ins.data.get(at..).unwrap_or_default())
                .map(|line| line.map(|(text, n)| (text, at + n))),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        match found {
            Err(NotSsh) => {
                return if matches!(st.state, ProtoState::Ssh(_)) {
                    Verdict::Done
                } else {
                    Verdict::Exclude
                };
            }
            Ok(None) => return Verdict::Continue,
            Ok(Some((line, n))) => {
                ins.detect(id::SSH);
                if !matches!(st.state, ProtoState::Ssh(_)) {
                    *st.state = ProtoState::Ssh(State::default());
                }
                st.set_str(
                    if client {
                        &CLIENT_BANNER
                    } else {
                        &SERVER_BANNER
                    },
                    line,
                );
                consumed = n;
                next_stage = 1;
            }
        }
    }
    if next_stage == 1 {
        let rest = ins.data.get(consumed..).unwrap_or_default();
        match kexinit_hassh(rest, client) {
            Ok(None) => {}
            Ok(Some((hash, n))) => {
                st.set_str(if client { &HASSH } else { &HASSH_SERVER }, hash);
                consumed += n;
                next_stage = 2;
            }
            Err(NotSsh) => next_stage = 2,
        }
    }
    ins.consume(consumed);
    if let ProtoState::Ssh(s) = st.state {
        if let Some(slot) = s.stage.get_mut(d) {
            *slot = next_stage;
        }
        if s.stage == [2, 2] {
            return Verdict::Done;
        }
    }
    Verdict::Continue
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    fn kexinit(lists: [&str; 10]) -> Vec<u8> {
        let mut payload = vec![MSG_KEXINIT];
        payload.extend_from_slice(&[0x42; 16]);
        for l in lists {
            payload.extend_from_slice(&(l.len() as u32).to_be_bytes());
            payload.extend_from_slice(l.as_bytes());
        }
        payload.extend_from_slice(&[0, 0, 0, 0, 0]);
        let padding = 8 - (payload.len() + 5) % 8 + 4;
        let len = 1 + payload.len() + padding;
        let mut d = (len as u32).to_be_bytes().to_vec();
        d.push(padding as u8);
        d.extend(payload);
        d.extend(std::iter::repeat(0).take(padding));
        d
    }

    #[test]
    fn banner_lines() {
        assert_eq!(
            banner(b"SSH-2.0-OpenSSH_5.3\r\n\x00\x00"),
            Ok(Some(("SSH-2.0-OpenSSH_5.3".to_string(), 21)))
        );
        assert_eq!(banner(b"SSH-2.0-Open"), Ok(None));
        assert_eq!(banner(b"SS"), Ok(None));
        assert_eq!(banner(b"HTTP/1.1 200 OK\r\n"), Err(NotSsh));
        assert_eq!(banner(b"SSH-3.0-x\r\n"), Err(NotSsh));
    }

    #[test]
    fn a_server_banner_after_a_message_of_the_day() {
        let mut c = super::super::harness::Conv::tcp(&DISSECTOR, 55343, 22);
        c.client(b"SSH-2.0-OpenSSH_9.7\r\n");
        assert_eq!(c.name(), "SSH");
        c.server(b" _____\n< Hi stranger >\n -----\n");
        c.server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u5\r\n");
        assert_eq!(
            c.meta(&SERVER_BANNER).as_deref(),
            Some("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u5")
        );
    }

    #[test]
    fn lines_before_the_servers_banner_are_skipped_if_text() {
        assert_eq!(pre_banner_lines(b"SSH-2.0-x\r\n"), Ok(Some(0)));
        assert_eq!(pre_banner_lines(b""), Ok(Some(0)));
        let motd = b"Hi stranger\r\n  \\_ cow\nSSH-2.0-OpenSSH_9.2\r\n";
        assert_eq!(pre_banner_lines(motd), Ok(Some(22)));
        assert_eq!(pre_banner_lines(b"Hi stranger\r\nSS"), Ok(Some(13)));
        assert_eq!(pre_banner_lines(b"Hi strang"), Ok(None));
        assert_eq!(pre_banner_lines(b"\x00\x00\x01\x0c"), Err(NotSsh));
        assert_eq!(pre_banner_lines(b"ok\r\n\x16\x03\x01"), Err(NotSsh));
        let long = vec![b'x'; MAX_PRE_BANNER + 1];
        assert_eq!(pre_banner_lines(&long), Err(NotSsh));
        let mut many = b"line\n".repeat(MAX_PRE_BANNER / 5 + 1);
        many.extend_from_slice(b"SSH-2.0-x\r\n");
        assert_eq!(pre_banner_lines(&many), Err(NotSsh));
    }

    #[test]
    fn hassh_of_kexinit() {
        let lists = [
            "curve25519-sha256",
            "ssh-ed25519",
            "aes128-ctr",
            "aes256-ctr",
            "hmac-sha2-256",
            "hmac-sha2-512",
            "none",
            "zlib",
            "",
            "",
        ];
        let d = kexinit(lists);
        let (client, n) = kexinit_hassh(&d, true).expect("ok").expect("complete");
        assert_eq!(n, d.len());
        let want = Md5::digest(b"curve25519-sha256;aes128-ctr;hmac-sha2-256;none");
        let want: String = want.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(client, want);
        let (server, _) = kexinit_hassh(&d, false).expect("ok").expect("complete");
        let want = Md5::digest(b"curve25519-sha256;aes256-ctr;hmac-sha2-512;zlib");
        let want: String = want.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(server, want);
        assert_eq!(kexinit_hassh(&d[..d.len() - 1], true), Ok(None));
        let mut bad = d.clone();
        bad[5] = 21;
        assert_eq!(kexinit_hassh(&bad, true), Err(NotSsh));
    }
}
