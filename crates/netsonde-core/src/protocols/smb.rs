//! SMB over TCP, direct (445) or over the NetBIOS session service (139): NBSS messages
//! (type, 17-bit length) carry SMB1 (`\xffSMB`), SMB2/3 (`\xfeSMB`) or their transform and
//! compression headers (`\xfdSMB`, `\xfcSMB`). Named as nDPI names them: SMB1 is
//! `NetBIOS.SMBv1` (and raises an insecure-version risk), SMB2/3 is `SMBv23`. Extracts the
//! negotiated SMB2/3 dialect and the NTLMSSP user, domain and workstation of the session
//! setup.

use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub VERSION = "smb.version", Int, Service, "SMB major version of the first message (1, or 2 for SMB2/SMB3)";
    pub DIALECT = "smb.dialect", Str, Service, "SMB2/3 dialect the server chose (2.0.2, 2.1, 3.0, 3.0.2, 3.1.1)";
    pub USER = "smb.user", Str, Identifier, "User name of the NTLMSSP authentication in the session setup";
    pub DOMAIN = "smb.domain", Str, Identifier, "Domain of the NTLMSSP authentication";
    pub WORKSTATION = "smb.workstation", Str, Identifier, "Workstation name of the NTLMSSP authentication";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&VERSION, &DIALECT, &USER, &DOMAIN, &WORKSTATION];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::SMBV23,
    transports: Transports::TCP,
    tcp_ports: &[445, 139],
    udp_ports: &[],
    inspect,
};

/// Risk raised for SMB version 1.
pub use crate::risks::SMB_INSECURE_VERSION as INSECURE_VERSION;

const NBSS_MESSAGE: u8 = 0x00;
const NBSS_REQUEST: u8 = 0x81;
const NBSS_POSITIVE: u8 = 0x82;
const NBSS_NEGATIVE: u8 = 0x83;
const NBSS_RETARGET: u8 = 0x84;
const NBSS_KEEPALIVE: u8 = 0x85;
/// NBSS messages skipped before the first SMB one.
const MAX_SESSION_MESSAGES: usize = 4;
/// SMB messages read per flow after confirmation.
const MAX_MESSAGES: u16 = 16;
const SMB2_NEGOTIATE: u16 = 0x0000;
const MAX_NAME: usize = 128;

#[derive(Default, Debug)]
pub struct State {
    messages: u16,
}

/// The SMB major version of a message's protocol id (1, 2; 3 for SMB3's transform and
/// compression headers, which only SMB3 uses).
pub fn smb_version(msg: &[u8]) -> Option<u8> {
    match msg.get(..4)? {
        b"\xffSMB" => Some(1),
        b"\xfeSMB" => Some(2),
        b"\xfdSMB" | b"\xfcSMB" => Some(3),
        _ => None,
    }
}

/// One NBSS message at the start of `d`: type and body, or `Err(())` while it arrives.
#[allow(clippy::type_complexity)]
fn nbss(d: &[u8]) -> Option<Result<(u8, &[u8]), ()>> {
    let t = *d.first()?;
    if !matches!(
        t,
        NBSS_MESSAGE
            | NBSS_REQUEST
            | NBSS_POSITIVE
            | NBSS_NEGATIVE
            | NBSS_RETARGET
            | NBSS_KEEPALIVE
    ) {
        return None;
    }
    let (Some(&flags), Some(&hi), Some(&lo)) = (d.get(1), d.get(2), d.get(3)) else {
        return Some(Err(()));
    };
    if flags & 0xfe != 0 {
        return None;
    }
    let len = usize::from(flags & 1) << 16 | usize::from(u16::from_be_bytes([hi, lo]));
    Some(d.get(4..4 + len).map(|body| (t, body)).ok_or(()))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::Smb(_)) {
        // Skip session setup messages (port 139) up to the first SMB message.
        let mut d = ins.data;
        let mut version = None;
        for _ in 0..MAX_SESSION_MESSAGES {
            match nbss(d) {
                None => return Verdict::Exclude,
                Some(Err(())) => {
                    // Wait for the rest; an SMB message shows its magic early.
                    let body = d.get(4..).unwrap_or_default();
                    let n = body.len().min(4);
                    let could = d.first() != Some(&NBSS_MESSAGE)
                        || [&b"\xffSMB"[..], b"\xfeSMB", b"\xfdSMB", b"\xfcSMB"]
                            .iter()
                            .any(|m| m.get(..n) == body.get(..n));
                    return if could {
                        Verdict::Continue
                    } else {
                        Verdict::Exclude
                    };
                }
                Some(Ok((NBSS_MESSAGE, body))) => {
                    version = Some(smb_version(body));
                    break;
                }
                Some(Ok((_, body))) => d = d.get(4 + body.len()..).unwrap_or_default(),
            }
            if d.is_empty() {
                return Verdict::Continue;
            }
        }
        match version {
            Some(Some(1)) => {
                ins.detect(id::NETBIOS);
                ins.set_sub_protocol(id::SMBV1);
                st.risk(INSECURE_VERSION);
                st.set(&VERSION, MetaValue::Int(1));
            }
            Some(Some(_)) => {
                ins.detect(id::SMBV23);
                st.set(&VERSION, MetaValue::Int(2));
            }
            _ => return Verdict::Exclude,
        }
        *st.state = ProtoState::Smb(State::default());
    }
    let ProtoState::Smb(state) = st.state else {
        return Verdict::Done;
    };
    // Read whole NBSS messages.
    let mut d = ins.data;
    let mut consumed = 0;
    while let Some(Ok((t, body))) = nbss(d) {
        consumed += 4 + body.len();
        d = d.get(4 + body.len()..).unwrap_or_default();
        if t != NBSS_MESSAGE {
            continue;
        }
        state.messages += 1;
        if !ins.to_server() && smb_version(body) == Some(2) {
            if let Some(dialect) = smb2_negotiate_dialect(body) {
                st.meta.set_str(&DIALECT, dialect);
            }
        }
        if ins.to_server() {
            if let Some(auth) = ntlmssp_auth(body) {
                for (spec, v) in [
                    (&USER, auth.user),
                    (&DOMAIN, auth.domain),
                    (&WORKSTATION, auth.host),
                ] {
                    if !v.is_empty() {
                        st.meta.set_str(spec, v);
                    }
                }
            }
        }
    }
    ins.consume(consumed);
    if state.messages >= MAX_MESSAGES || st.meta.has(&USER) {
        return Verdict::Done;
    }
    Verdict::Continue
}

/// The dialect of an SMB2 NEGOTIATE response.
fn smb2_negotiate_dialect(msg: &[u8]) -> Option<&'static str> {
    let command = u16::from_le_bytes([*msg.get(12)?, *msg.get(13)?]);
    let flags = u32::from_le_bytes(msg.get(16..20)?.try_into().ok()?);
    if command != SMB2_NEGOTIATE || flags & 1 == 0 {
        return None;
    }
    // Response body after the 64-byte header: structure size (65), security mode, dialect.
    let dialect = u16::from_le_bytes([*msg.get(68)?, *msg.get(69)?]);
    Some(match dialect {
        0x0202 => "2.0.2",
        0x0210 => "2.1",
        0x0300 => "3.0",
        0x0302 => "3.0.2",
        0x0311 => "3.1.1",
        0x02ff => "2.x",
        _ => return None,
    })
}

/// The names of an NTLMSSP AUTHENTICATE message.
struct NtlmAuth {
    user: String,
    domain: String,
    host: String,
}

/// Finds an NTLMSSP AUTHENTICATE message (type 3) in `msg` and reads its names.
fn ntlmssp_auth(msg: &[u8]) -> Option<NtlmAuth> {
    const SIG: &[u8] = b"NTLMSSP\0";
    let at = msg.windows(SIG.len()).position(|w| w == SIG)?;
    let m = msg.get(at..)?;
    if u32::from_le_bytes(m.get(8..12)?.try_into().ok()?) != 3 {
        return None;
    }
    let flags = u32::from_le_bytes(m.get(60..64)?.try_into().ok()?);
    let unicode = flags & 1 != 0;
    let field = |off: usize| -> Option<String> {
        let len = usize::from(u16::from_le_bytes([*m.get(off)?, *m.get(off + 1)?]));
        let start = usize::try_from(u32::from_le_bytes(
            m.get(off + 4..off + 8)?.try_into().ok()?,
        ))
        .ok()?;
        let raw = m.get(start..start.checked_add(len)?)?;
        let s = if unicode {
            let units: Vec<u16> = raw
                .chunks_exact(2)
                .map(|c| {
                    u16::from_le_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ])
                })
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(raw).into_owned()
        };
        Some(super::lines::text(s.as_bytes(), MAX_NAME))
    };
    Some(NtlmAuth {
        domain: field(28).unwrap_or_default(),
        user: field(36).unwrap_or_default(),
        host: field(44).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn nbss_msg(body: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0];
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn smb2_header(command: u16, response: bool) -> Vec<u8> {
        let mut h = b"\xfeSMB".to_vec();
        h.extend_from_slice(&64u16.to_le_bytes());
        h.extend_from_slice(&[0; 6]);
        h.extend_from_slice(&command.to_le_bytes());
        h.extend_from_slice(&[0; 2]);
        h.extend_from_slice(&u32::from(response).to_le_bytes());
        h.resize(64, 0);
        h
    }

    #[test]
    fn smb1_negotiate() {
        let mut c = Conv::tcp(&DISSECTOR, 54120, 445);
        c.client(&nbss_msg(b"\xffSMBr\x00\x00\x00\x00\x18\x05\xd8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x01\x00\xff\xff\x01\x00\x00\x0c\x00\x02NT LM 0.12\x00"));
        assert_eq!(c.name(), "NetBIOS.SMBv1");
        assert!(c.has_risk(INSECURE_VERSION));
    }

    #[test]
    fn smb2_over_session_service_with_ntlm() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 139);
        // Session request and positive response first.
        let mut req = vec![NBSS_REQUEST, 0, 0, 4];
        req.extend_from_slice(b"\x20AB\x00");
        c.client(&req).server(&[NBSS_POSITIVE, 0, 0, 0]);
        assert!(c.open);
        assert_eq!(c.name(), "Unknown");
        c.client(&nbss_msg(&smb2_header(SMB2_NEGOTIATE, false)));
        assert_eq!(c.name(), "SMBv23");
        let mut rsp = smb2_header(SMB2_NEGOTIATE, true);
        rsp.extend_from_slice(&[65, 0, 1, 0, 0x11, 0x03]);
        c.server(&nbss_msg(&rsp));
        assert_eq!(c.meta(&DIALECT).as_deref(), Some("3.1.1"));
        // NTLMSSP AUTHENTICATE with UTF-16 names.
        let mut ntlm = b"NTLMSSP\0\x03\x00\x00\x00".to_vec();
        ntlm.resize(64, 0);
        let names: [(usize, &str); 3] = [(28, "CORP"), (36, "alice"), (44, "WS1")];
        let mut payload = Vec::new();
        for (off, name) in names {
            let bytes: Vec<u8> = name.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
            let start = (72 + payload.len()) as u32;
            let len = (bytes.len() as u16).to_le_bytes();
            let field = [len[0], len[1], len[0], len[1]]
                .into_iter()
                .chain(start.to_le_bytes())
                .collect::<Vec<u8>>();
            if let Some(f) = ntlm.get_mut(off..off + 8) {
                f.copy_from_slice(&field);
            }
            payload.extend(bytes);
        }
        if let Some(f) = ntlm.get_mut(60..64) {
            f.copy_from_slice(&1u32.to_le_bytes());
        }
        ntlm.resize(72, 0);
        ntlm.extend(payload);
        let mut setup = smb2_header(1, false);
        setup.extend(ntlm);
        c.client(&nbss_msg(&setup));
        assert_eq!(c.meta(&USER).as_deref(), Some("alice"));
        assert_eq!(c.meta(&DOMAIN).as_deref(), Some("CORP"));
        assert_eq!(c.meta(&WORKSTATION).as_deref(), Some("WS1"));
    }

    #[test]
    fn not_smb() {
        let mut c = Conv::tcp(&DISSECTOR, 1, 445);
        c.client(&nbss_msg(b"GET / HTTP/1.1\r\n"));
        assert!(!c.open);
        let mut c = Conv::tcp(&DISSECTOR, 1, 445);
        c.client(b"\x16\x03\x01\x00\x10");
        assert!(!c.open);
    }
}
