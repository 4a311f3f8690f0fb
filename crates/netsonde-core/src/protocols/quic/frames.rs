//! Frames of Initial packets (RFC 9000 §19: PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE) and
//! the CRYPTO stream they carry, reassembled by offset under a byte bound: a ClientHello may be
//! split over several Initial packets, sent out of order, or repeated.

use super::header::varint;

/// CRYPTO stream bytes kept per flow; a ClientHello past this is not waited for.
pub const MAX_CRYPTO_BYTES: usize = 16 * 1024;

/// Why a frame walk stopped before the end of the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A frame ran past the payload's end.
    Truncated,
    /// A frame type not allowed (or not known) in Initial packets.
    Unexpected(u64),
}

fn take_varint(d: &[u8], at: &mut usize) -> Result<u64, FrameError> {
    let (v, n) = d.get(*at..).and_then(varint).ok_or(FrameError::Truncated)?;
    *at += n;
    Ok(v)
}

fn skip(d: &[u8], at: &mut usize, len: u64) -> Result<(), FrameError> {
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| at.checked_add(l))
        .filter(|&e| e <= d.len())
        .ok_or(FrameError::Truncated)?;
    *at = end;
    Ok(())
}

/// Walks the frames of a decrypted Initial packet, handing each CRYPTO frame's offset and data
/// to `on_crypto`. Stops at the first frame that cannot appear in an Initial packet.
pub fn walk_initial(plain: &[u8], mut on_crypto: impl FnMut(u64, &[u8])) -> Result<(), FrameError> {
    let mut at = 0;
    while let Some(&ty) = plain.get(at) {
        match ty {
            // PADDING: a run of zero bytes.
            0x00 => {
                at += plain
                    .get(at..)
                    .map_or(0, |rest| rest.iter().take_while(|&&b| b == 0).count());
            }
            // PING.
            0x01 => at += 1,
            // ACK, with ECN counts for 0x03.
            0x02 | 0x03 => {
                at += 1;
                let _largest = take_varint(plain, &mut at)?;
                let _delay = take_varint(plain, &mut at)?;
                let ranges = take_varint(plain, &mut at)?;
                let _first = take_varint(plain, &mut at)?;
                // Each range takes at least two bytes: a count past that is malformed.
                if ranges > (plain.len() as u64) {
                    return Err(FrameError::Truncated);
                }
                for _ in 0..ranges {
                    take_varint(plain, &mut at)?;
                    take_varint(plain, &mut at)?;
                }
                if ty == 0x03 {
                    for _ in 0..3 {
                        take_varint(plain, &mut at)?;
                    }
                }
            }
            // CRYPTO: offset, length, data.
            0x06 => {
                at += 1;
                let offset = take_varint(plain, &mut at)?;
                let len = take_varint(plain, &mut at)?;
                let start = at;
                skip(plain, &mut at, len)?;
                on_crypto(offset, plain.get(start..at).unwrap_or_default());
            }
            // CONNECTION_CLOSE (transport: with the offending frame type; application: without).
            0x1c | 0x1d => {
                at += 1;
                let _code = take_varint(plain, &mut at)?;
                if ty == 0x1c {
                    let _frame = take_varint(plain, &mut at)?;
                }
                let reason = take_varint(plain, &mut at)?;
                skip(plain, &mut at, reason)?;
            }
            _ => {
                let ty = plain
                    .get(at..)
                    .and_then(varint)
                    .map_or(u64::from(ty), |(v, _)| v);
                return Err(FrameError::Unexpected(ty));
            }
        }
    }
    Ok(())
}

/// A CRYPTO stream rebuilt from frames at any offsets, in any order, with repeats.
#[derive(Default, Debug)]
pub struct CryptoStream {
    buf: Vec<u8>,
    /// Received byte ranges `[start, end)`, sorted and merged.
    have: Vec<(usize, usize)>,
    /// Data past [`MAX_CRYPTO_BYTES`] was dropped.
    pub truncated: bool,
}

impl CryptoStream {
    /// Adds `data` found at stream `offset`. Bytes past the bound are dropped (and counted in
    /// `truncated`).
    pub fn add(&mut self, offset: u64, data: &[u8]) {
        let Ok(start) = usize::try_from(offset) else {
            self.truncated = true;
            return;
        };
        if start >= MAX_CRYPTO_BYTES {
            self.truncated = !data.is_empty() || self.truncated;
            return;
        }
        let room = MAX_CRYPTO_BYTES - start;
        if data.len() > room {
            self.truncated = true;
        }
        let data = data.get(..room.min(data.len())).unwrap_or_default();
        if data.is_empty() {
            return;
        }
        let end = start + data.len();
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        if let Some(dst) = self.buf.get_mut(start..end) {
            dst.copy_from_slice(data);
        }
        self.insert_range(start, end);
    }

    fn insert_range(&mut self, start: usize, end: usize) {
        let mut merged = (start, end);
        let mut out = Vec::with_capacity(self.have.len() + 1);
        let mut placed = false;
        for &(s, e) in &self.have {
            if e < merged.0 {
                out.push((s, e));
            } else if s > merged.1 {
                if !placed {
                    out.push(merged);
                    placed = true;
                }
                out.push((s, e));
            } else {
                merged = (merged.0.min(s), merged.1.max(e));
            }
        }
        if !placed {
            out.push(merged);
        }
        self.have = out;
    }

    /// The bytes received without a gap from offset 0.
    pub fn contiguous(&self) -> &[u8] {
        match self.have.first() {
            Some(&(0, end)) => self.buf.get(..end).unwrap_or_default(),
            _ => &[],
        }
    }

    /// The first handshake message (type, 24-bit length, body) once all its bytes arrived.
    pub fn first_message(&self) -> Option<&[u8]> {
        let data = self.contiguous();
        let header = data.get(..4)?;
        let len = header
            .get(1..4)?
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        data.get(..4 + len)
    }

    /// Whether the first handshake message can never complete within the bound.
    pub fn hopeless(&self) -> bool {
        let data = self.contiguous();
        data.get(1..4).is_some_and(|l| {
            4 + l.iter().fold(0usize, |a, &b| (a << 8) | usize::from(b)) > MAX_CRYPTO_BYTES
        })
    }

    pub fn is_empty(&self) -> bool {
        self.have.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Found = Vec<(u64, Vec<u8>)>;

    fn crypto_frames(plain: &[u8]) -> (Found, Result<(), FrameError>) {
        let mut found = Vec::new();
        let r = walk_initial(plain, |o, d| found.push((o, d.to_vec())));
        (found, r)
    }

    #[test]
    fn walks_padding_ping_ack_and_crypto() {
        let plain = [
            0x00, 0x00, // PADDING
            0x01, // PING
            0x02, 0x05, 0x40, 0x10, 0x01, 0x00, 0x01, 0x02, // ACK, one extra range
            0x06, 0x00, 0x03, b'a', b'b', b'c', // CRYPTO at 0
            0x03, 0x01, 0x00, 0x00, 0x00, 0x07, 0x08, 0x09, // ACK with ECN counts
            0x06, 0x43, 0x00, 0x01, b'd', // CRYPTO at 768 (2-byte varint offset)
            0x1c, 0x0a, 0x06, 0x02, b'n', b'o', // CONNECTION_CLOSE
            0x00, 0x00, 0x00,
        ];
        let (found, r) = crypto_frames(&plain);
        assert_eq!(r, Ok(()));
        assert_eq!(found, vec![(0, b"abc".to_vec()), (768, b"d".to_vec())]);
    }

    #[test]
    fn stops_at_unexpected_or_truncated_frames() {
        // A STREAM frame cannot be in an Initial packet; the CRYPTO before it is still seen.
        let (found, r) = crypto_frames(&[0x06, 0x00, 0x01, b'x', 0x08, 0x00]);
        assert_eq!(found.len(), 1);
        assert_eq!(r, Err(FrameError::Unexpected(8)));
        // CRYPTO longer than the payload.
        let (found, r) = crypto_frames(&[0x06, 0x00, 0x05, b'x']);
        assert!(found.is_empty());
        assert_eq!(r, Err(FrameError::Truncated));
        // ACK with an absurd range count.
        let (_, r) = crypto_frames(&[0x02, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x00]);
        assert_eq!(r, Err(FrameError::Truncated));
    }

    #[test]
    fn reassembles_out_of_order_and_overlapping() {
        let msg: Vec<u8> = [0x01, 0x00, 0x00, 0x06]
            .into_iter()
            .chain(*b"hello!")
            .collect();
        let mut s = CryptoStream::default();
        s.add(6, msg.get(6..).unwrap_or_default());
        assert!(s.first_message().is_none());
        assert!(s.contiguous().is_empty());
        s.add(2, msg.get(2..5).unwrap_or_default());
        assert!(s.contiguous().is_empty());
        s.add(0, msg.get(..3).unwrap_or_default());
        assert_eq!(s.contiguous().len(), 5);
        assert!(s.first_message().is_none());
        s.add(4, msg.get(4..7).unwrap_or_default()); // overlaps both neighbours
        assert_eq!(s.first_message(), Some(msg.as_slice()));
        // A repeat changes nothing.
        s.add(0, &msg);
        assert_eq!(s.first_message(), Some(msg.as_slice()));
        assert_eq!(s.have, vec![(0, 10)]);
    }

    #[test]
    fn bound_is_enforced() {
        let mut s = CryptoStream::default();
        s.add(MAX_CRYPTO_BYTES as u64 - 2, b"abcd");
        assert!(s.truncated);
        assert_eq!(s.buf.len(), MAX_CRYPTO_BYTES);
        s.add(u64::MAX, b"x");
        s.add(0, &[0x01, 0xff, 0xff, 0xff]);
        assert!(s.hopeless());
        assert!(s.first_message().is_none());
    }
}
