//! pcapng files: several sections (each with its own byte order), several interfaces per
//! section with their own link type, snap length and timestamp resolution/offset. Enhanced,
//! simple and obsolete packet blocks are read; every other block is skipped.

use super::{rd_u16, rd_u32, CaptureError, LinkType, RawPacket, MAX_RECORD_LEN};

const BLOCK_SHB: u32 = 0x0A0D_0D0A;
const BLOCK_IDB: u32 = 1;
const BLOCK_PB_OBSOLETE: u32 = 2;
const BLOCK_SPB: u32 = 3;
const BLOCK_EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;
/// Link type handed out for packets whose interface was never described; the engine counts
/// them as frames of an unsupported link type.
const UNDESCRIBED_INTERFACE: LinkType = LinkType(u32::MAX);

#[derive(Clone, Copy)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    /// Timestamp units per second.
    units_per_sec: u64,
    offset_sec: i64,
}

pub struct PcapngReader {
    big_endian: bool,
    interfaces: Vec<Interface>,
    offset: usize,
}

impl PcapngReader {
    pub fn detect(data: &[u8]) -> Result<Option<PcapngReader>, CaptureError> {
        if rd_u32(data, 0, false) != Some(BLOCK_SHB) {
            return Ok(None);
        }
        let big_endian = match rd_u32(data, 8, false) {
            Some(BYTE_ORDER_MAGIC) => false,
            Some(m) if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
            Some(_) => return Ok(None),
            None => return Err(CaptureError::Truncated { offset: 0 }),
        };
        Ok(Some(PcapngReader {
            big_endian,
            interfaces: Vec::new(),
            offset: 0,
        }))
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The window lost its first `by` bytes (a streaming reader moved on).
    pub fn rebase(&mut self, by: usize) {
        self.offset = self.offset.saturating_sub(by);
    }

    /// Bytes from the current offset that the next block needs in `data` to be read whole
    /// (at least 1). A bad length asks for just the header, so that `next` reports it.
    pub fn needed(&self, data: &[u8]) -> usize {
        const HEADER: usize = 12;
        let at = self.offset;
        let be = match rd_u32(data, at, self.big_endian) {
            // A section header says its own byte order.
            Some(BLOCK_SHB) => match rd_u32(data, at + 8, false) {
                Some(BYTE_ORDER_MAGIC) => false,
                Some(m) if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
                _ => return HEADER,
            },
            Some(_) => self.big_endian,
            None => return HEADER,
        };
        match rd_u32(data, at + 4, be) {
            Some(len) if len >= 12 && len as usize <= MAX_RECORD_LEN + 64 => len as usize,
            _ => HEADER,
        }
    }

    /// Reads the non-packet blocks (sections, interfaces, statistics...) that lie wholly in
    /// `data` at the current offset, stopping at a packet block or an incomplete block: a
    /// streaming reader calls it before [`Self::needed`], so that the block measured is the
    /// one `next` returns.
    pub fn skip_to_packet(&mut self, data: &[u8]) -> Result<(), CaptureError> {
        loop {
            let at = self.offset;
            let need = self.needed(data);
            if data.len().saturating_sub(at) < need {
                return Ok(());
            }
            if let Some(BLOCK_EPB | BLOCK_SPB | BLOCK_PB_OBSOLETE) =
                rd_u32(data, at, self.big_endian)
            {
                return Ok(());
            }
            // `next` reads this one block and finds the end of its window after it.
            let Some(block) = data.get(..at + need) else {
                return Ok(());
            };
            if self.next(block)?.is_some() || self.offset == at {
                return Ok(());
            }
        }
    }

    pub fn next<'a>(&mut self, data: &'a [u8]) -> Result<Option<RawPacket<'a>>, CaptureError> {
        loop {
            let at = self.offset;
            if at >= data.len() {
                return Ok(None);
            }
            let truncated = CaptureError::Truncated { offset: at as u64 };
            let Some(block_type) = rd_u32(data, at, self.big_endian) else {
                return Err(truncated);
            };
            if block_type == BLOCK_SHB {
                // A new section may switch byte order; it also forgets all interfaces.
                self.big_endian = match rd_u32(data, at + 8, false) {
                    Some(BYTE_ORDER_MAGIC) => false,
                    Some(m) if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
                    Some(_) => {
                        return Err(CaptureError::Corrupt {
                            offset: at as u64,
                            reason: "section header with a bad byte-order magic",
                        })
                    }
                    None => return Err(truncated),
                };
                self.interfaces.clear();
            }
            let be = self.big_endian;
            let Some(block_len) = rd_u32(data, at + 4, be) else {
                return Err(truncated);
            };
            let block_len = block_len as usize;
            if block_len < 12 || block_len % 4 != 0 || block_len > MAX_RECORD_LEN + 64 {
                return Err(CaptureError::Corrupt {
                    offset: at as u64,
                    reason: "bad block length",
                });
            }
            let Some(block) = data.get(at..at + block_len) else {
                return Err(truncated);
            };
            self.offset = at + block_len;
            // Body without the type/length header and the trailing length.
            let body = block.get(8..block_len - 4).unwrap_or_default();
            match block_type {
                BLOCK_IDB => self.read_interface(body, at)?,
                BLOCK_EPB => return self.read_epb(body, at).map(Some),
                BLOCK_SPB => return self.read_spb(body, at).map(Some),
                BLOCK_PB_OBSOLETE => return self.read_obsolete_pb(body, at).map(Some),
                _ => {}
            }
        }
    }

    fn read_interface(&mut self, body: &[u8], at: usize) -> Result<(), CaptureError> {
        let be = self.big_endian;
        let (Some(link), Some(snaplen)) = (rd_u16(body, 0, be), rd_u32(body, 4, be)) else {
            return Err(CaptureError::Corrupt {
                offset: at as u64,
                reason: "short interface block",
            });
        };
        let mut iface = Interface {
            link_type: LinkType(u32::from(link)),
            snaplen,
            units_per_sec: 1_000_000,
            offset_sec: 0,
        };
        let mut pos = 8;
        while let (Some(code), Some(len)) = (rd_u16(body, pos, be), rd_u16(body, pos + 2, be)) {
            let len = len as usize;
            let Some(value) = body.get(pos + 4..pos + 4 + len) else {
                break;
            };
            match code {
                OPT_END => break,
                OPT_IF_TSRESOL => {
                    if let Some(&r) = value.first() {
                        let exp = u32::from(r & 0x7f);
                        iface.units_per_sec = if r & 0x80 == 0 {
                            10u64.checked_pow(exp).unwrap_or(1_000_000)
                        } else {
                            2u64.checked_pow(exp).unwrap_or(1_000_000)
                        };
                    }
                }
                OPT_IF_TSOFFSET => {
                    if let Ok(b) = <[u8; 8]>::try_from(value) {
                        iface.offset_sec = if be {
                            i64::from_be_bytes(b)
                        } else {
                            i64::from_le_bytes(b)
                        };
                    }
                }
                _ => {}
            }
            pos += 4 + len.div_ceil(4) * 4;
        }
        self.interfaces.push(iface);
        Ok(())
    }

    fn interface(&self, id: u32) -> Interface {
        self.interfaces
            .get(id as usize)
            .copied()
            .unwrap_or(Interface {
                link_type: UNDESCRIBED_INTERFACE,
                snaplen: 0,
                units_per_sec: 1_000_000,
                offset_sec: 0,
            })
    }

    fn timestamp_ns(iface: &Interface, high: u32, low: u32) -> i64 {
        let units = (u128::from(high) << 32) | u128::from(low);
        let per_sec = u128::from(iface.units_per_sec.max(1));
        let secs = units / per_sec;
        let ns = (units % per_sec) * 1_000_000_000 / per_sec;
        let total = (secs as i128 + i128::from(iface.offset_sec)) * 1_000_000_000 + ns as i128;
        total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    fn read_epb<'a>(&self, body: &'a [u8], at: usize) -> Result<RawPacket<'a>, CaptureError> {
        let id = rd_u32(body, 0, self.big_endian);
        self.read_timed_packet(id, body, at, "bad enhanced packet block")
    }

    /// The fields enhanced and obsolete packet blocks share after the interface id:
    /// timestamp (high, low), captured length, wire length, then the data.
    fn read_timed_packet<'a>(
        &self,
        interface: Option<u32>,
        body: &'a [u8],
        at: usize,
        reason: &'static str,
    ) -> Result<RawPacket<'a>, CaptureError> {
        let be = self.big_endian;
        let corrupt = CaptureError::Corrupt {
            offset: at as u64,
            reason,
        };
        let (Some(id), Some(hi), Some(lo), Some(caplen), Some(wire)) = (
            interface,
            rd_u32(body, 4, be),
            rd_u32(body, 8, be),
            rd_u32(body, 12, be),
            rd_u32(body, 16, be),
        ) else {
            return Err(corrupt);
        };
        let Some(bytes) = body.get(20..20 + caplen as usize) else {
            return Err(corrupt);
        };
        let iface = self.interface(id);
        Ok(RawPacket {
            ts_ns: Self::timestamp_ns(&iface, hi, lo),
            link_type: iface.link_type,
            data: bytes,
            wire_len: wire.max(caplen),
        })
    }

    fn read_spb<'a>(&self, body: &'a [u8], at: usize) -> Result<RawPacket<'a>, CaptureError> {
        let Some(wire) = rd_u32(body, 0, self.big_endian) else {
            return Err(CaptureError::Corrupt {
                offset: at as u64,
                reason: "bad simple packet block",
            });
        };
        let iface = self.interface(0);
        let room = body.len().saturating_sub(4);
        let mut caplen = (wire as usize).min(room);
        if iface.snaplen > 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        let bytes = body.get(4..4 + caplen).unwrap_or_default();
        // Simple packet blocks carry no timestamp.
        Ok(RawPacket {
            ts_ns: 0,
            link_type: iface.link_type,
            data: bytes,
            wire_len: wire.max(caplen as u32),
        })
    }

    fn read_obsolete_pb<'a>(
        &self,
        body: &'a [u8],
        at: usize,
    ) -> Result<RawPacket<'a>, CaptureError> {
        let id = rd_u16(body, 0, self.big_endian).map(u32::from);
        self.read_timed_packet(id, body, at, "bad packet block")
    }
}
