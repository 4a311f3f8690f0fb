//! NetBIOS over TCP/IP (RFC 1001/1002): the name service (UDP 137, a DNS-like header whose
//! first name is 32 half-byte letters 'A'..'P'), the datagram service (UDP 138, a header with
//! the source address and two encoded names, its length agreeing with the datagram) and the
//! session service (TCP 139 and SMB's 445: 4-byte frames whose type and length agree).
//!
//! SMB inside datagrams or session messages is named as nDPI names it: `\xffSMB` is SMBv1,
//! reported as NetBIOS.SMBv1; `\xfeSMB` (SMB 2/3) is the protocol SMBv23 itself.

use super::wire::{be16, slice, u8_at};
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;

attrs! {
    pub NAME = "netbios.name", Str, Identifier, "Name queried or registered (name service) or datagram source name, with its scope";
    pub SUFFIX = "netbios.suffix", Int, Usage, "16th byte of that name: the service (0x00 workstation, 0x20 server, 0x1d master browser, …)";
    pub CALLED = "netbios.called_name", Str, Identifier, "Called name of a session request";
    pub CALLING = "netbios.calling_name", Str, Identifier, "Calling name of a session request";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&NAME, &SUFFIX, &CALLED, &CALLING];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NETBIOS,
    transports: Transports::TCP_UDP,
    tcp_ports: &[139, 445],
    udp_ports: &[137, 138],
    inspect,
};

/// A decoded NetBIOS name.
#[derive(Debug, PartialEq, Eq)]
pub struct Name {
    /// The 15 name characters without padding, lower case, then `.scope` when there is one.
    pub name: String,
    pub suffix: u8,
}

/// Decodes a first-level encoded name at `at` (length 32, letters 'A'..'P', then scope
/// labels and a zero); returns it and the offset after it.
pub fn read_name(d: &[u8], at: usize) -> Option<(Name, usize)> {
    decode_name(d, at, true)
}

/// Like [`read_name`], but letters outside 'A'..'P' (damaged or fuzzed names) are decoded
/// by the same arithmetic instead of refused, as long as they are printable.
fn decode_name(d: &[u8], at: usize, strict: bool) -> Option<(Name, usize)> {
    if u8_at(d, at)? != 32 {
        return None;
    }
    let enc = slice(d, at + 1, 32)?;
    let mut raw = [0u8; 16];
    for (i, pair) in enc.chunks_exact(2).enumerate() {
        let (&hi, &lo) = (pair.first()?, pair.get(1)?);
        let ok = |c: u8| {
            if strict {
                (b'A'..=b'P').contains(&c)
            } else {
                c.is_ascii_graphic()
            }
        };
        if !ok(hi) || !ok(lo) {
            return None;
        }
        *raw.get_mut(i)? = (hi.wrapping_sub(b'A') << 4) | (lo.wrapping_sub(b'A') & 0x0F);
    }
    let suffix = *raw.get(15)?;
    let body = raw.get(..15)?;
    // The name ends at its padding, or at a byte that is not text (a damaged name).
    let printable = body
        .iter()
        .position(|&b| !(b.is_ascii_graphic() || b == b' '))
        .unwrap_or(body.len());
    let text = body.get(..printable)?;
    let end = text.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    let mut name: String = text
        .get(..end)?
        .iter()
        .map(|&b| char::from(b.to_ascii_lowercase()))
        .collect();
    // Scope: DNS-style labels up to a zero length.
    match scope(d, at + 33) {
        Some((labels, end)) => {
            name.push_str(&labels);
            Some((Name { name, suffix }, end))
        }
        None if !strict => Some((Name { name, suffix }, at + 33)),
        None => None,
    }
}

/// Scope labels at `p`, each preceded by a dot, and the offset after the final zero.
fn scope(d: &[u8], mut p: usize) -> Option<(String, usize)> {
    let mut out = String::new();
    loop {
        let len = usize::from(u8_at(d, p)?);
        if len == 0 {
            return Some((out, p + 1));
        }
        if len > 63 {
            return None;
        }
        let label = slice(d, p + 1, len)?;
        out.push('.');
        out.extend(label.iter().map(|&b| char::from(b.to_ascii_lowercase())));
        p += 1 + len;
        if out.len() > 255 {
            return None;
        }
    }
}

/// A name service packet: the first question or record's name, when it can be read. A
/// header that fits (opcode, counts, a 32-letter name) is enough; a damaged name or record
/// type still counts, and the name is then decoded as it stands. A header with the broadcast
/// flag (a NetBIOS flag, not DNS's) and the size of a whole record needs no readable name.
pub fn parse_name_service(d: &[u8]) -> Option<Option<Name>> {
    let flags = be16(d, 2)?;
    let opcode = (flags >> 11) & 0xF;
    let (qd, an, ns, ar) = (be16(d, 4)?, be16(d, 6)?, be16(d, 8)?, be16(d, 10)?);
    if !matches!(opcode, 0 | 5 | 6 | 7 | 8 | 9) || qd > 1 || an > 1 || ns > 1 || ar > 1 {
        return None;
    }
    if qd + an == 0 {
        return None;
    }
    if let Some((name, after)) = read_name(d, 12) {
        // Type NB (0x20) or NBSTAT (0x21), class IN.
        let (rtype, class) = (be16(d, after)?, be16(d, after + 2)?);
        if matches!(rtype, 0x20 | 0x21) && class == 1 {
            return Some(Some(name));
        }
    }
    // Damaged: the message must still hold a name and the rest of a record.
    if d.len() < 12 + 34 + 4 {
        return None;
    }
    match decode_name(d, 12, false) {
        Some((name, _)) => Some(Some(name)),
        None => (flags & BROADCAST != 0).then_some(None),
    }
}

/// The name service's broadcast flag.
const BROADCAST: u16 = 0x0010;

/// A datagram service packet: the source name (for data datagrams) and whether it carries
/// SMBv1.
pub fn parse_datagram(d: &[u8]) -> Option<(Option<Name>, bool)> {
    let kind = u8_at(d, 0)?;
    let flags = u8_at(d, 1)?;
    // Flags: only M, F and the two node-type bits are defined.
    if flags & 0xF0 != 0 {
        return None;
    }
    match kind {
        0x10..=0x12 => {
            let len = usize::from(be16(d, 10)?);
            if len + 14 != d.len() {
                return None;
            }
            // The length agreeing with the datagram is the proof; damaged names are still
            // decoded, and SMB is then looked for where two unscoped names end.
            let source = decode_name(d, 14, false);
            let after = source
                .as_ref()
                .and_then(|(_, a)| decode_name(d, *a, false))
                .map_or(14 + 2 * 34, |(_, a)| a);
            let smb = d.get(after..after + 4) == Some(b"\xffSMB");
            Some((source.map(|(n, _)| n), smb))
        }
        // Error: one error code byte after the 10-byte header.
        0x13 => (d.len() == 11).then_some((None, false)),
        // Query request and responses: the destination name only.
        0x14..=0x16 => {
            let (name, after) = read_name(d, 10)?;
            (after == d.len()).then_some((Some(name), false))
        }
        _ => None,
    }
}

/// What a session-service frame carries.
#[derive(Debug, PartialEq, Eq)]
pub enum Session {
    Request { called: Name, calling: Name },
    Message { smb1: bool, smb2: bool },
    Control,
}

/// One session-service frame: type, flags, length; returns it and its total size.
pub fn parse_session(d: &[u8]) -> Option<(Session, usize)> {
    let kind = u8_at(d, 0)?;
    let flags = u8_at(d, 1)?;
    let len = usize::from(be16(d, 2)?) | (usize::from(flags & 1) << 16);
    if flags & 0xFE != 0 {
        return None;
    }
    let total = 4 + len;
    match kind {
        0x00 => {
            if len == 0 {
                return None;
            }
            let proto = d.get(4..8);
            let smb1 = proto == Some(b"\xffSMB");
            let smb2 = proto == Some(b"\xfeSMB") || proto == Some(b"\xfdSMB");
            // A message must start like SMB to be recognised from its first bytes.
            (smb1 || smb2).then_some((Session::Message { smb1, smb2 }, total))
        }
        0x81 => {
            let (called, after) = read_name(d, 4)?;
            let (calling, after) = read_name(d, after)?;
            (after == total).then_some((Session::Request { called, calling }, total))
        }
        0x82 | 0x85 => (len == 0).then_some((Session::Control, total)),
        0x83 => (len == 1).then_some((Session::Control, total)),
        0x84 => (len == 6).then_some((Session::Control, total)),
        _ => None,
    }
}

fn set_name(st: &mut DissectorState<'_>, name: Name) {
    if !name.name.is_empty() {
        st.set_str(&NAME, name.name);
    }
    st.set(
        &SUFFIX,
        crate::record::MetaValue::Int(i64::from(name.suffix)),
    );
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.l4 == 17 {
        if let Some(name) = parse_name_service(ins.data) {
            ins.detect(id::NETBIOS);
            if let Some(name) = name {
                set_name(st, name);
            }
            return Verdict::Done;
        }
        if let Some((name, smb)) = parse_datagram(ins.data) {
            ins.detect(id::NETBIOS);
            if smb {
                ins.set_sub_protocol(id::SMBV1);
            }
            if let Some(name) = name {
                set_name(st, name);
            }
            return Verdict::Done;
        }
        return Verdict::Exclude;
    }
    match parse_session(ins.data) {
        Some((Session::Message { smb2: true, .. }, _)) => {
            ins.detect(id::SMBV23);
            Verdict::Done
        }
        Some((Session::Message { smb1, .. }, _)) => {
            ins.detect(id::NETBIOS);
            if smb1 {
                ins.set_sub_protocol(id::SMBV1);
            }
            Verdict::Done
        }
        Some((Session::Request { called, calling }, n)) => {
            ins.detect(id::NETBIOS);
            ins.consume(n);
            st.set_str(&CALLED, called.name);
            st.set_str(&CALLING, calling.name);
            // The session messages that follow may show SMBv1.
            Verdict::Continue
        }
        Some((Session::Control, n)) => {
            ins.detect(id::NETBIOS);
            ins.consume(n);
            Verdict::Continue
        }
        None if ins.data.len() < 4 => Verdict::Continue,
        None => Verdict::Exclude,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    fn encode(name: &str, suffix: u8) -> Vec<u8> {
        let mut raw = [b' '; 16];
        raw[..name.len()].copy_from_slice(name.as_bytes());
        raw[15] = suffix;
        let mut out = vec![32u8];
        for b in raw {
            out.push(b'A' + (b >> 4));
            out.push(b'A' + (b & 0xF));
        }
        out
    }

    #[test]
    fn name_query_with_scope() {
        let mut q = vec![0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend(encode("NASFILE", 0x20));
        q.extend_from_slice(b"\x02sc\x08arrancar\x03org\x00");
        q.extend_from_slice(&[0, 0x20, 0, 1]);
        let n = parse_name_service(&q).flatten().expect("query");
        assert_eq!(n.name, "nasfile.sc.arrancar.org");
        assert_eq!(n.suffix, 0x20);
        // A damaged letter is decoded as it stands; a control byte is not a name.
        let mut damaged = q.clone();
        damaged[13] = b'Z';
        assert!(parse_name_service(&damaged).is_some());
        let mut bad = q.clone();
        bad[13] = 0x01;
        // With the broadcast flag the header alone still names the service...
        assert_eq!(parse_name_service(&bad), Some(None));
        // ...without it, a control byte is not a name.
        bad[3] = 0x00;
        assert!(parse_name_service(&bad).is_none());
        bad[3] = q[3];
        bad[13] = q[13];
        bad[2] = 0x71; // opcode 14
        assert!(parse_name_service(&bad).is_none());
        // Cut before a whole record could follow the name: refused.
        for n in 0..50 {
            assert!(parse_name_service(&q[..n]).is_none());
        }
    }

    #[test]
    fn browser_datagram_carries_smb1() {
        let mut body = encode("GIOVANNI-PC", 0x00);
        body.push(0);
        body.extend(encode("WORKGROUP", 0x1d));
        body.push(0);
        body.extend_from_slice(b"\xffSMB\x25");
        let mut d = vec![0x11, 0x02, 0x81, 0x5e, 192, 168, 1, 2, 0, 138];
        d.extend_from_slice(&(body.len() as u16).to_be_bytes());
        d.extend_from_slice(&[0, 0]);
        d.extend(body);
        let (name, smb) = parse_datagram(&d).expect("datagram");
        assert_eq!(name.map(|n| n.name).as_deref(), Some("giovanni-pc"));
        assert!(smb);
        d.push(0);
        assert!(parse_datagram(&d).is_none());
    }

    #[test]
    fn session_frames() {
        let mut req = vec![0x81, 0, 0, 68];
        req.extend(encode("SERVER", 0x20));
        req.push(0);
        req.extend(encode("CLIENT", 0x00));
        req.push(0);
        let (s, n) = parse_session(&req).expect("request");
        assert_eq!(n, 72);
        assert!(matches!(s, Session::Request { ref called, .. } if called.name == "server"));
        let msg = b"\x00\x00\x00\x08\xffSMBr\x00\x00\x00";
        assert_eq!(
            parse_session(msg).map(|s| s.0),
            Some(Session::Message {
                smb1: true,
                smb2: false
            })
        );
        assert!(parse_session(b"\x85\x00\x00\x00").is_some());
        assert!(parse_session(b"\x85\x00\x00\x01").is_none());
        assert!(parse_session(b"\x00\x00\x00\x08GET /").is_none());
    }
}
