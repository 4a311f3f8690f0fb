//! Classic libpcap files: both byte orders, micro- and nanosecond timestamps, and the
//! "modified" (Kuznetzov) variant with 24-byte record headers.

use super::{
    prefetch, rd_u32, CaptureError, ChunkFrame, LinkType, RawPacket, MAX_RECORD_LEN, PREFETCH_AHEAD,
};

const MAGIC_US: u32 = 0xa1b2_c3d4;
const MAGIC_NS: u32 = 0xa1b2_3c4d;
const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;
const FILE_HEADER_LEN: usize = 24;

pub struct PcapReader {
    big_endian: bool,
    nanos: bool,
    record_header_len: usize,
    link_type: LinkType,
    offset: usize,
}

impl PcapReader {
    /// Recognises a pcap file header; `Ok(None)` when the magic is not pcap's.
    pub fn detect(data: &[u8]) -> Result<Option<PcapReader>, CaptureError> {
        let Some(magic_le) = rd_u32(data, 0, false) else {
            return Ok(None);
        };
        let magic_be = magic_le.swap_bytes();
        let (big_endian, magic) = match (magic_le, magic_be) {
            (m, _) if [MAGIC_US, MAGIC_NS, MAGIC_MODIFIED].contains(&m) => (false, m),
            (_, m) if [MAGIC_US, MAGIC_NS, MAGIC_MODIFIED].contains(&m) => (true, m),
            _ => return Ok(None),
        };
        if data.len() < FILE_HEADER_LEN {
            return Err(CaptureError::Truncated {
                offset: data.len() as u64,
            });
        }
        // Only the lower 16 bits are the link type; the upper bits say how long the frames'
        // FCS is (pcap specification, LinkType field).
        let raw_link = rd_u32(data, 20, big_endian).unwrap_or(0);
        Ok(Some(PcapReader {
            big_endian,
            nanos: magic == MAGIC_NS,
            record_header_len: if magic == MAGIC_MODIFIED { 24 } else { 16 },
            link_type: LinkType(raw_link & 0xffff),
            offset: FILE_HEADER_LEN,
        }))
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The window lost its first `by` bytes (a streaming reader moved on).
    pub fn rebase(&mut self, by: usize) {
        self.offset = self.offset.saturating_sub(by);
    }

    /// Bytes from the current offset that the next record needs in `data` to be read whole
    /// (at least 1). An impossible length asks for just the header, so that `next` reports it.
    pub fn needed(&self, data: &[u8]) -> usize {
        let hdr = self.record_header_len;
        match rd_u32(data, self.offset + 8, self.big_endian) {
            Some(caplen) if (caplen as usize) <= MAX_RECORD_LEN => hdr + caplen as usize,
            _ => hdr,
        }
    }

    /// Appends to `frames` (up to `max` in all) the records that lie whole in `data` from
    /// the current offset, and moves past them; stops before the first record that is not
    /// whole or whose length is impossible, which [`Self::next`] then reads or reports. The
    /// frames' offsets are offsets in `data`. Returns how many were appended.
    ///
    /// What [`Self::next`] does for these records, in one tight loop: chunks of frames are
    /// read for the workers of a sharded analysis, and the reading worker pays for every frame.
    pub fn take_whole(&mut self, data: &[u8], frames: &mut Vec<ChunkFrame>, max: usize) -> usize {
        let before = frames.len();
        let mut at = self.offset;
        while frames.len() < max {
            let Some(h) = data.get(at..).and_then(|d| d.first_chunk::<16>()) else {
                break;
            };
            let (ts_ns, caplen, wire_len) = self.fields(h);
            let len = caplen as usize;
            let start = at + self.record_header_len;
            if len > MAX_RECORD_LEN || start + len > data.len() {
                break;
            }
            prefetch(data, at + PREFETCH_AHEAD);
            frames.push(ChunkFrame {
                ts_ns,
                start: start as u64,
                len: caplen,
                wire_len,
                link_type: self.link_type,
            });
            at = start + len;
        }
        self.offset = at;
        frames.len() - before
    }

    /// A record header's timestamp (ns), captured length and wire length (never below the
    /// captured one); the modified format's extra 8 bytes follow these 16.
    #[inline]
    fn fields(&self, h: &[u8; 16]) -> (i64, u32, u32) {
        let be = self.big_endian;
        let field = |b: [u8; 4]| {
            if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let [s0, s1, s2, s3, f0, f1, f2, f3, c0, c1, c2, c3, w0, w1, w2, w3] = *h;
        let (sec, frac) = (field([s0, s1, s2, s3]), field([f0, f1, f2, f3]));
        let (caplen, wire) = (field([c0, c1, c2, c3]), field([w0, w1, w2, w3]));
        let frac_ns = if self.nanos {
            i64::from(frac)
        } else {
            i64::from(frac) * 1000
        };
        (
            i64::from(sec) * 1_000_000_000 + frac_ns,
            caplen,
            wire.max(caplen),
        )
    }

    pub fn next<'a>(&mut self, data: &'a [u8]) -> Result<Option<RawPacket<'a>>, CaptureError> {
        let at = self.offset;
        if at >= data.len() {
            return Ok(None);
        }
        let truncated = CaptureError::Truncated { offset: at as u64 };
        if data.len() - at < self.record_header_len {
            return Err(truncated);
        }
        let Some(h) = data.get(at..).and_then(|d| d.first_chunk::<16>()) else {
            return Err(truncated);
        };
        let (ts_ns, caplen, wire_len) = self.fields(h);
        let len = caplen as usize;
        if len > MAX_RECORD_LEN {
            return Err(CaptureError::Corrupt {
                offset: at as u64,
                reason: "record length beyond 16 MiB",
            });
        }
        let start = at + self.record_header_len;
        let Some(bytes) = data.get(start..start + len) else {
            return Err(truncated);
        };
        self.offset = start + len;
        Ok(Some(RawPacket {
            ts_ns,
            link_type: self.link_type,
            data: bytes,
            wire_len,
        }))
    }
}
