//! In-order TCP bytes of one direction, for dissectors: segments are placed by sequence
//! number, retransmitted bytes are dropped, out-of-order segments wait (bounded) for the gap
//! to fill. Full evasion handling (overlap policies, gap resync) is the reassembly issue's.

/// Bytes held per direction (unconsumed plus waiting) before data is dropped.
pub const MAX_STREAM_BYTES: usize = 64 * 1024;
/// Out-of-order segments held per direction.
const MAX_PENDING_SEGMENTS: usize = 32;

#[derive(Default)]
pub struct StreamBuf {
    /// Sequence number of the next in-order byte; unknown until the first segment.
    next_seq: Option<u32>,
    buf: Vec<u8>,
    pending: Vec<(u32, Vec<u8>)>,
    /// Bytes that could not be kept (bound reached, or a gap never filled).
    pub dropped: u64,
}

const SYN: u8 = 0x02;

/// `a - b` in sequence space (wrapping), as a signed distance.
fn seq_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

impl StreamBuf {
    /// Adds a segment with sequence number `seq`.
    pub fn add(&mut self, seq: u32, flags: u8, payload: &[u8]) {
        let data_seq = if flags & SYN != 0 {
            seq.wrapping_add(1)
        } else {
            seq
        };
        let next = *self.next_seq.get_or_insert(data_seq);
        if payload.is_empty() {
            return;
        }
        let diff = seq_diff(data_seq, next);
        if diff <= 0 {
            // In order, or overlapping bytes already delivered: keep only the new tail.
            let skip = usize::try_from(-diff).unwrap_or(usize::MAX);
            if let Some(tail) = payload.get(skip..) {
                self.append(tail);
            }
            self.drain_pending();
        } else if self.pending.len() < MAX_PENDING_SEGMENTS
            && self.buffered() + payload.len() <= MAX_STREAM_BYTES
        {
            self.pending.push((data_seq, payload.to_vec()));
        } else {
            self.dropped += payload.len() as u64;
        }
    }

    fn buffered(&self) -> usize {
        self.buf.len() + self.pending.iter().map(|(_, d)| d.len()).sum::<usize>()
    }

    fn append(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let room = MAX_STREAM_BYTES.saturating_sub(self.buf.len());
        let take = bytes.len().min(room);
        self.buf
            .extend_from_slice(bytes.get(..take).unwrap_or_default());
        self.dropped += (bytes.len() - take) as u64;
        if let Some(n) = self.next_seq.as_mut() {
            *n = n.wrapping_add(bytes.len() as u32);
        }
    }

    fn drain_pending(&mut self) {
        loop {
            let Some(next) = self.next_seq else { return };
            let Some(pos) = self.pending.iter().position(|(s, d)| {
                seq_diff(*s, next) <= 0 && seq_diff(s.wrapping_add(d.len() as u32), next) > 0
            }) else {
                // Drop segments wholly before `next` (retransmissions).
                self.pending
                    .retain(|(s, d)| seq_diff(s.wrapping_add(d.len() as u32), next) > 0);
                return;
            };
            let (s, d) = self.pending.swap_remove(pos);
            let skip = usize::try_from(seq_diff(next, s)).unwrap_or(0);
            if let Some(tail) = d.get(skip..) {
                self.append(tail);
            }
        }
    }

    /// The in-order bytes not yet consumed.
    pub fn available(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets the first `n` available bytes.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reorders_and_drops_retransmissions() {
        let mut s = StreamBuf::default();
        s.add(100, SYN, b"");
        s.add(106, 0, b"world");
        s.add(101, 0, b"hello");
        assert_eq!(s.available(), b"helloworld");
        s.add(101, 0, b"hello"); // retransmission
        s.add(109, 0, b"ld!!"); // overlaps the tail, adds "!!"
        assert_eq!(s.available(), b"helloworld!!");
        s.consume(5);
        assert_eq!(s.available(), b"world!!");
    }

    #[test]
    fn wraps_around_sequence_space() {
        let mut s = StreamBuf::default();
        s.add(u32::MAX - 1, 0, b"ab");
        s.add(0, 0, b"cd");
        assert_eq!(s.available(), b"abcd");
    }
}
