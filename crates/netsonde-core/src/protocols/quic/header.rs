//! QUIC packet headers: versions (IETF v1/v2, drafts, Facebook mvfst, Google QUIC), the long
//! header of RFC 8999/9000 with its Initial-specific fields, and the Google QUIC public header
//! of the versions before the IETF header (Q024..Q043) and Q046.

/// QUIC version numbers as they appear on the wire.
pub mod version {
    pub const V1: u32 = 0x0000_0001;
    /// RFC 9369 §3.1.
    pub const V2: u32 = 0x6b33_43cf;
    pub const Q046: u32 = 0x5130_3436;
    pub const Q050: u32 = 0x5130_3530;
    pub const T050: u32 = 0x5430_3530;
    pub const T051: u32 = 0x5430_3531;
    pub const MVFST_22: u32 = 0xface_b001;
    pub const MVFST_27: u32 = 0xface_b002;
    pub const MVFST_EXP: u32 = 0xface_b00e;
}

/// The longest connection ID any QUIC version allows (RFC 9000 §17.2).
pub const MAX_CID_LEN: usize = 20;

/// Reads a QUIC variable-length integer (RFC 9000 §16): the value and its encoded length.
pub fn varint(data: &[u8]) -> Option<(u64, usize)> {
    let first = *data.first()?;
    let len = 1usize << (first >> 6);
    let bytes = data.get(..len)?;
    let mut value = u64::from(first & 0x3f);
    for &b in bytes.get(1..)? {
        value = (value << 8) | u64::from(b);
    }
    Some((value, len))
}

pub fn be_u32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([
        *b.first()?,
        *b.get(1)?,
        *b.get(2)?,
        *b.get(3)?,
    ]))
}

/// Versions that follow the pattern 0x?a?a?a?a, reserved to force version negotiation
/// (RFC 9000 §15).
pub fn is_forcing_negotiation(v: u32) -> bool {
    v & 0x0f0f_0f0f == 0x0a0a_0a0a
}

/// An IETF-style QUIC version: v1, v2, a draft, mvfst, or a greased forcing-negotiation one.
pub fn is_ietf(v: u32) -> bool {
    v == version::V1
        || v == version::V2
        || v & 0xffff_ff00 == 0xff00_0000
        || v & 0xffff_f000 == 0xface_b000
        || is_forcing_negotiation(v)
}

/// A Google QUIC version: `Q02x`..`Q05x` or `T05x` in ASCII.
pub fn is_gquic(v: u32) -> bool {
    let prefix = v & 0xffff_ff00;
    matches!(
        prefix,
        0x5130_3200 | 0x5130_3300 | 0x5130_3400 | 0x5130_3500 | 0x5430_3500
    )
}

pub fn is_known(v: u32) -> bool {
    is_ietf(v) || is_gquic(v)
}

/// Google QUIC versions that use the IETF invariant long header (`Q05x`, `T05x`).
pub fn is_gquic_ietf_header(v: u32) -> bool {
    matches!(v & 0xffff_ff00, 0x5130_3500 | 0x5430_3500)
}

/// The Google QUIC version number (`Q043` gives 43), if `v` is one.
pub fn gquic_number(v: u32) -> Option<u8> {
    if !is_gquic(v) {
        return None;
    }
    let [_, _, tens, units] = v.to_be_bytes();
    if !tens.is_ascii_digit() || !units.is_ascii_digit() {
        return None;
    }
    Some((tens - b'0') * 10 + (units - b'0'))
}

/// The IETF draft whose wire constants (salt, labels, transport parameter encoding) an IETF
/// version uses: drafts give their number, v1 34, mvfst the draft it forked from, the
/// forcing-negotiation versions 34 (only their header is readable), v2 100.
pub fn draft_number(v: u32) -> Option<u8> {
    if v & 0xffff_ff00 == 0xff00_0000 {
        return u8::try_from(v & 0xff).ok();
    }
    match v {
        version::V1 => Some(34),
        version::V2 => Some(100),
        version::MVFST_22 => Some(22),
        version::MVFST_27 | version::MVFST_EXP => Some(27),
        _ if is_forcing_negotiation(v) => Some(34),
        _ => None,
    }
}

/// Whether the ClientHello's transport parameters are varint-encoded (draft-27 on, and T051)
/// rather than 16-bit ids and lengths in a length-prefixed list.
pub fn varint_transport_params(v: u32) -> bool {
    v == version::T051 || (is_ietf(v) && draft_number(v).is_some_and(|d| d >= 27))
}

/// The version as nDPI names it ("V-1", "V-2", "Draft-29", "Q046", "MVFST-22",
/// "Ver-Negotiation", …).
pub fn version_name(v: u32) -> String {
    match v {
        version::V1 => return "V-1".into(),
        version::V2 => return "V-2".into(),
        version::MVFST_22 => return "MVFST-22".into(),
        version::MVFST_27 => return "MVFST-27".into(),
        version::MVFST_EXP => return "MVFST-EXP".into(),
        _ => {}
    }
    if is_gquic(v) {
        return v.to_be_bytes().iter().map(|&b| char::from(b)).collect();
    }
    if is_forcing_negotiation(v) {
        return "Ver-Negotiation".into();
    }
    if v & 0xffff_ff00 == 0xff00_0000 {
        return format!("Draft-{}", v & 0xff);
    }
    format!("Unknown ({v:04X})")
}

/// Long header packet types, by meaning (their wire bits differ between v1 and v2).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LongType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
}

impl LongType {
    /// The type of a long header first byte for `version` (RFC 9000 §17.2, RFC 9369 §3.2).
    pub fn of(first: u8, v: u32) -> LongType {
        let bits = (first >> 4) & 0x03;
        let bits = if v == version::V2 {
            // v2: Retry 0b00, Initial 0b01, 0-RTT 0b10, Handshake 0b11.
            (bits + 3) & 0x03
        } else {
            bits
        };
        match bits {
            0 => LongType::Initial,
            1 => LongType::ZeroRtt,
            2 => LongType::Handshake,
            _ => LongType::Retry,
        }
    }
}

/// A long header (RFC 8999 §5.1) up to and including the connection IDs.
#[derive(Clone, Copy, Debug)]
pub struct LongHeader<'a> {
    pub first: u8,
    pub version: u32,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    /// Offset of the first byte after the Source Connection ID.
    pub after_cids: usize,
}

/// Parses the version-independent part of a long header.
pub fn parse_long(d: &[u8]) -> Option<LongHeader<'_>> {
    let first = *d.first()?;
    if first & 0x80 == 0 {
        return None;
    }
    let version = be_u32(d, 1)?;
    let dcid_len = usize::from(*d.get(5)?);
    if dcid_len > MAX_CID_LEN {
        return None;
    }
    let dcid = d.get(6..6 + dcid_len)?;
    let scid_at = 6 + dcid_len;
    let scid_len = usize::from(*d.get(scid_at)?);
    if scid_len > MAX_CID_LEN {
        return None;
    }
    let scid = d.get(scid_at + 1..scid_at + 1 + scid_len)?;
    Some(LongHeader {
        first,
        version,
        dcid,
        scid,
        after_cids: scid_at + 1 + scid_len,
    })
}

/// A long header packet of an IETF-style version with a Length field (Initial, 0-RTT,
/// Handshake), located in its datagram.
#[derive(Clone, Copy, Debug)]
pub struct LongPacket<'a> {
    pub header: LongHeader<'a>,
    pub kind: LongType,
    /// Offset of the (protected) packet number.
    pub pn_offset: usize,
    /// Offset just past this packet (the next coalesced packet starts here).
    pub end: usize,
}

/// Parses a long header packet that carries a Length field (all but Retry and Version
/// Negotiation); the Length must fit in the datagram.
pub fn parse_long_packet(d: &[u8]) -> Option<LongPacket<'_>> {
    let header = parse_long(d)?;
    if header.version == 0 || !(is_ietf(header.version) || is_gquic_ietf_header(header.version)) {
        return None;
    }
    let kind = LongType::of(header.first, header.version);
    let mut at = header.after_cids;
    match kind {
        LongType::Retry => return None,
        LongType::Initial => {
            let (token_len, n) = varint(d.get(at..)?)?;
            at = at
                .checked_add(n)?
                .checked_add(usize::try_from(token_len).ok()?)?;
        }
        LongType::ZeroRtt | LongType::Handshake => {}
    }
    let (length, n) = varint(d.get(at..)?)?;
    let pn_offset = at.checked_add(n)?;
    let end = pn_offset.checked_add(usize::try_from(length).ok()?)?;
    // Room for a packet number and a header protection sample at least.
    if end > d.len() || length < 20 {
        return None;
    }
    Some(LongPacket {
        header,
        kind,
        pn_offset,
        end,
    })
}

/// Whether `d` is a Version Negotiation packet (RFC 8999 §6): long header, version 0, at least
/// one version listed.
pub fn is_version_negotiation(d: &[u8]) -> bool {
    match parse_long(d) {
        Some(h) if h.version == 0 => {
            let rest = d.len().saturating_sub(h.after_cids);
            rest >= 4 && rest % 4 == 0
        }
        _ => false,
    }
}

/// A Google QUIC packet whose header is not encrypted (Q024..Q046), positioned at its frames.
#[derive(Clone, Copy, Debug)]
pub struct GquicPacket {
    pub version: u32,
    /// Offset of the first frame (after the 12-byte message authentication hash and, up to
    /// Q033, the private flags byte).
    pub frames_at: usize,
}

/// The 12-byte FNV-1a-128 message hash that precedes the frames of unencrypted Google QUIC
/// packets.
const GQUIC_HASH_LEN: usize = 12;

/// Parses a client's Google QUIC public header carrying a version: the legacy header
/// (Q024..Q043: flags, 8-byte connection ID, version, packet number) or Q046's long header.
pub fn parse_gquic(d: &[u8]) -> Option<GquicPacket> {
    let flags = *d.first()?;
    if flags & 0x80 != 0 {
        // Q046: long header 0xc3-style (4-byte packet number), DCIL/SCIL 0x50: 8-byte DCID.
        let version = be_u32(d, 1)?;
        if version != version::Q046 || flags & 0x03 != 0x03 || flags & 0x30 != 0 {
            return None;
        }
        if *d.get(5)? != 0x50 {
            return None;
        }
        let frames_at = 6 + 8 + 4 + GQUIC_HASH_LEN;
        d.get(frames_at..)?;
        return Some(GquicPacket { version, frames_at });
    }
    // Legacy public header: version flag 0x01, 8-byte connection ID 0x08, no multipath bit.
    if flags & 0x40 != 0 || flags & 0x08 == 0 || flags & 0x01 == 0 || flags & 0x02 != 0 {
        return None;
    }
    let version = be_u32(d, 9)?;
    let number = gquic_number(version)?;
    if number > 43 {
        return None;
    }
    let pn_len = match (flags >> 4) & 0x03 {
        0 => 1,
        1 => 2,
        2 => 4,
        _ => 6,
    };
    let mut frames_at = 1 + 8 + 4 + pn_len + GQUIC_HASH_LEN;
    if number <= 33 {
        // Private flags byte (entropy, FEC group) before the frames.
        frames_at += 1;
    }
    d.get(frames_at..)?;
    Some(GquicPacket { version, frames_at })
}

/// A Google QUIC server rejection (`REJ`) sent from port 443 with the common header: flags
/// 0x08, 8-byte connection ID, 1-byte packet number, then the hash.
pub fn is_gquic_rej(d: &[u8]) -> bool {
    if d.first() != Some(&0x08) {
        return false;
    }
    let start = 1 + 8 + 1 + GQUIC_HASH_LEN;
    d.get(start..start + 16)
        .is_some_and(|w| w.windows(3).any(|t| t == b"REJ"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_all_four_lengths() {
        // RFC 9000 §A.1 examples.
        assert_eq!(
            varint(&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]),
            Some((151_288_809_941_952_652, 8))
        );
        assert_eq!(varint(&[0x9d, 0x7f, 0x3e, 0x7d]), Some((494_878_333, 4)));
        assert_eq!(varint(&[0x7b, 0xbd]), Some((15_293, 2)));
        assert_eq!(varint(&[0x25]), Some((37, 1)));
        assert_eq!(varint(&[0x40, 0x25]), Some((37, 2)));
        assert_eq!(varint(&[0x7b]), None);
        assert_eq!(varint(&[]), None);
    }

    #[test]
    fn versions_are_named_as_ndpi_prints_them() {
        assert_eq!(version_name(1), "V-1");
        assert_eq!(version_name(version::V2), "V-2");
        assert_eq!(version_name(0xff00_001d), "Draft-29");
        assert_eq!(version_name(0x5130_3436), "Q046");
        assert_eq!(version_name(version::T051), "T051");
        assert_eq!(version_name(version::MVFST_EXP), "MVFST-EXP");
        assert_eq!(version_name(0x1a2a_3a4a), "Ver-Negotiation");
        assert_eq!(version_name(0x1234_5678), "Unknown (12345678)");
        assert!(is_known(0x5130_3235) && !is_known(0x5130_3135) && !is_known(2));
        assert_eq!(gquic_number(0x5130_3433), Some(43));
        assert_eq!(draft_number(0xff00_001b), Some(27));
        assert!(varint_transport_params(0xff00_001b) && !varint_transport_params(0xff00_001a));
        assert!(varint_transport_params(version::MVFST_27));
        assert!(
            !varint_transport_params(version::MVFST_22) && !varint_transport_params(version::T050)
        );
    }

    #[test]
    fn long_types_follow_the_version() {
        assert_eq!(LongType::of(0xc3, 1), LongType::Initial);
        assert_eq!(LongType::of(0xd3, 1), LongType::ZeroRtt);
        assert_eq!(LongType::of(0xd3, version::V2), LongType::Initial);
        assert_eq!(LongType::of(0xc3, version::V2), LongType::Retry);
        assert_eq!(LongType::of(0xe3, version::V2), LongType::ZeroRtt);
        assert_eq!(LongType::of(0xf0, 1), LongType::Retry);
    }

    #[test]
    fn initial_header_is_located() {
        // RFC 9001 §A.2 unprotected header, followed by a made-up 1182-byte payload.
        let mut pkt = vec![
            0xc3, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 0, 0, 0x44, 0x9e,
        ];
        pkt.extend(std::iter::repeat(0u8).take(1182));
        let p = parse_long_packet(&pkt).expect("initial");
        assert_eq!(p.kind, LongType::Initial);
        assert_eq!(
            p.header.dcid,
            &[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08]
        );
        assert!(p.header.scid.is_empty());
        assert_eq!(p.pn_offset, 18);
        assert_eq!(p.end, pkt.len());
        // A Length past the datagram's end is rejected, as is an over-long connection ID.
        assert!(parse_long_packet(pkt.get(..1000).unwrap_or_default()).is_none());
        let mut bad = pkt.clone();
        if let Some(b) = bad.get_mut(5) {
            *b = 21;
        }
        assert!(parse_long_packet(&bad).is_none());
        // Unknown versions are not QUIC packets we can read.
        let mut unknown = pkt;
        if let Some(b) = unknown.get_mut(4) {
            *b = 2;
        }
        assert!(parse_long_packet(&unknown).is_none());
    }

    #[test]
    fn gquic_headers() {
        // Q025 client: flags 0x0d (version, 8-byte CID, 1-byte packet number).
        let mut q25 = vec![0x0d, 1, 2, 3, 4, 5, 6, 7, 8, b'Q', b'0', b'2', b'5', 1];
        q25.extend([0u8; 12]);
        q25.push(0); // private flags
        q25.extend([0xa0, 0x01]);
        let g = parse_gquic(&q25).expect("Q025");
        assert_eq!(g.version, 0x5130_3235);
        assert_eq!(g.frames_at, 27);
        // Q043 has no private flags byte.
        let mut q43 = q25.clone();
        if let Some(b) = q43.get_mut(11) {
            *b = b'4';
        }
        if let Some(b) = q43.get_mut(12) {
            *b = b'3';
        }
        assert_eq!(parse_gquic(&q43).map(|g| g.frames_at), Some(26));
        // Q046 long header.
        let mut q46 = vec![0xc3, b'Q', b'0', b'4', b'6', 0x50];
        q46.extend([0u8; 8 + 4 + 12]);
        q46.push(0xa0);
        assert_eq!(parse_gquic(&q46).map(|g| g.frames_at), Some(30));
        // No version flag: nothing to read.
        let mut noversion = q25;
        if let Some(b) = noversion.first_mut() {
            *b = 0x0c;
        }
        assert!(parse_gquic(&noversion).is_none());
    }

    #[test]
    fn version_negotiation_and_rej() {
        let vn = [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(is_version_negotiation(&vn));
        assert!(!is_version_negotiation(&vn[..10]));
        let mut rej = vec![0x08, 1, 2, 3, 4, 5, 6, 7, 8, 1];
        rej.extend([0u8; 12]);
        rej.extend(b"\xa0\x01\x04\x00REJ\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00");
        assert!(is_gquic_rej(&rej));
        if let Some(b) = rej.get_mut(26) {
            *b = b'X';
        }
        assert!(!is_gquic_rej(&rej));
    }
}
