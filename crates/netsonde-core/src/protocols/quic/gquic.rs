//! Google QUIC handshake data: the crypto stream in Google's frame formats (STREAM frames on
//! stream 1 up to Q046, CRYPTO frames type 0x08 from Q050/T050) and the `CHLO` tag-value
//! message that carries the server name (`SNI`) and the user agent (`UAID`).

use super::header::{gquic_number, varint};

/// Skips the frames that may precede the handshake data in a client's first packets: PADDING,
/// and an ACK of the common short shapes (type 0x40: 6 bytes; 0x60: 9 bytes).
fn skip_leading(frames: &[u8]) -> Option<usize> {
    let mut at = frames.iter().position(|&b| b != 0)?;
    match frames.get(at)? {
        0x40 => at += 6,
        0x60 => at += 9,
        _ => {}
    }
    Some(at)
}

/// The handshake bytes of a Q024..Q046 packet: the data of its STREAM frame on stream 1.
pub fn stream_data(frames: &[u8], version: u32) -> Option<&[u8]> {
    let at = skip_leading(frames)?;
    let ty = *frames.get(at)?;
    // STREAM: 1 F D OOO SS.
    if ty & 0x80 == 0 || ty & 0x20 == 0 {
        return None;
    }
    let offset_len = match (ty >> 2) & 0x07 {
        0 => 0,
        n => usize::from(n) + 1,
    };
    let id_len = usize::from(ty & 0x03) + 1;
    let id = frames.get(at + 1..at + 1 + id_len)?;
    if id.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)) != 1 {
        return None;
    }
    let len_at = at + 1 + id_len + offset_len;
    let len_bytes = frames.get(len_at..len_at + 2)?;
    let pair = [*len_bytes.first()?, *len_bytes.get(1)?];
    // The data length is little-endian before Q039.
    let len = if gquic_number(version).is_some_and(|n| n >= 39) {
        u16::from_be_bytes(pair)
    } else {
        u16::from_le_bytes(pair)
    };
    frames.get(len_at + 2..len_at + 2 + usize::from(len))
}

/// The handshake bytes of a Q050/T050/T051 packet: the data of its CRYPTO frame (type 0x08).
pub fn crypto_frame_data(frames: &[u8]) -> Option<&[u8]> {
    let mut at = skip_leading(frames)?;
    if *frames.get(at)? != 0x08 {
        return None;
    }
    at += 1;
    let (_offset, n) = varint(frames.get(at..)?)?;
    at += n;
    let (len, n) = varint(frames.get(at..)?)?;
    at += n;
    frames.get(at..at.checked_add(usize::try_from(len).ok()?)?)
}

/// What a `CHLO` message says about the client.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Chlo<'a> {
    pub sni: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
}

fn le_u32(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([
        *b.first()?,
        *b.get(1)?,
        *b.get(2)?,
        *b.get(3)?,
    ]))
}

/// Parses a `CHLO`: tag, 16-bit tag count, 2 bytes of padding, then (tag, end offset) pairs
/// and the values they delimit. Values past the message's end are ignored.
pub fn parse_chlo(d: &[u8]) -> Option<Chlo<'_>> {
    if d.get(..4)? != b"CHLO" {
        return None;
    }
    let count = usize::from(u16::from_le_bytes([*d.get(4)?, *d.get(5)?]));
    let values = d.get(8 + 8 * count..).unwrap_or_default();
    let mut chlo = Chlo::default();
    let mut prev_end = 0usize;
    for i in 0..count {
        let entry = 8 + 8 * i;
        let Some(tag) = d.get(entry..entry + 4) else {
            break;
        };
        let Some(end) = le_u32(d, entry + 4).and_then(|e| usize::try_from(e).ok()) else {
            break;
        };
        let Some(value) = values.get(prev_end..end) else {
            break;
        };
        match tag {
            b"SNI\0" => chlo.sni = Some(value),
            b"UAID" => chlo.user_agent = Some(value),
            _ => {}
        }
        prev_end = end;
    }
    Some(chlo)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chlo_bytes() -> Vec<u8> {
        let mut m = b"CHLO".to_vec();
        m.extend([3, 0, 0, 0]);
        m.extend(b"PAD\0");
        m.extend(4u32.to_le_bytes());
        m.extend(b"SNI\0");
        m.extend(19u32.to_le_bytes());
        m.extend(b"UAID");
        m.extend(29u32.to_le_bytes());
        m.extend(b"----www.youtube.comChrome/49");
        m.push(b'!');
        m
    }

    #[test]
    fn chlo_tags() {
        let m = chlo_bytes();
        let c = parse_chlo(&m).expect("CHLO");
        assert_eq!(c.sni, Some(&b"www.youtube.com"[..]));
        assert_eq!(c.user_agent, Some(&b"Chrome/49!"[..]));
        // Cut short: the UAID value is past the end, the SNI is still read.
        let c = parse_chlo(m.get(..m.len() - 3).unwrap_or_default()).expect("CHLO");
        assert_eq!(c.sni, Some(&b"www.youtube.com"[..]));
        assert_eq!(c.user_agent, None);
        assert!(parse_chlo(b"SHLO\0\0\0\0").is_none());
    }

    #[test]
    fn stream_frames_by_version() {
        let chlo = chlo_bytes();
        let n = u16::try_from(chlo.len()).unwrap_or(0);
        // Q025: frame 0xa0 (data length, 1-byte stream id), little-endian length.
        let mut f = vec![0x00, 0xa0, 0x01];
        f.extend(n.to_le_bytes());
        f.extend(&chlo);
        f.extend([0u8; 10]);
        assert_eq!(stream_data(&f, 0x5130_3235), Some(chlo.as_slice()));
        // Q043: big-endian length, a 2-byte offset (0xa4), after a short ACK.
        let mut f = vec![0x40, 1, 2, 3, 4, 5, 0xa4, 0x01, 0x00, 0x00];
        f.extend(n.to_be_bytes());
        f.extend(&chlo);
        assert_eq!(stream_data(&f, 0x5130_3433), Some(chlo.as_slice()));
        // Another stream is not the handshake.
        let mut g = f.clone();
        if let Some(b) = g.get_mut(7) {
            *b = 3;
        }
        assert_eq!(stream_data(&g, 0x5130_3433), None);
        // Q050: CRYPTO frame 0x08.
        let mut f = vec![0x08, 0x00, 0x40 | (n >> 8) as u8, n as u8];
        f.extend(&chlo);
        assert_eq!(crypto_frame_data(&f), Some(chlo.as_slice()));
        assert_eq!(crypto_frame_data(f.get(..20).unwrap_or_default()), None);
    }
}
