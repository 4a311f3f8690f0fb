//! Capture sources: classic pcap and pcapng files read zero-copy from a memory map.
//!
//! A [`CaptureReader`] owns the bytes of one capture and hands out [`RawPacket`]s that borrow
//! them. Reading stops cleanly at the first damaged record: every packet before it has been
//! returned, and the error says where the damage is, so callers can warn and keep the flows.

mod pcap;
mod pcapng;

use std::fmt;
use std::path::Path;

pub use pcap::PcapReader;
pub use pcapng::PcapngReader;

/// A link-layer header type, as numbered by the tcpdump.org LINKTYPE_ registry.
///
/// A newtype rather than a closed enum: unknown link types are carried, counted and reported,
/// never rejected at read time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const PPP: LinkType = LinkType(9);
    /// DLT_RAW as some BSDs number it in pcap headers.
    pub const RAW_BSD12: LinkType = LinkType(12);
    pub const RAW_BSD14: LinkType = LinkType(14);
    pub const PPP_HDLC: LinkType = LinkType(50);
    pub const PPP_ETHER: LinkType = LinkType(51);
    pub const RAW: LinkType = LinkType(101);
    pub const C_HDLC: LinkType = LinkType(104);
    pub const IEEE802_11: LinkType = LinkType(105);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    pub const PPI: LinkType = LinkType(192);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);

    pub fn name(self) -> &'static str {
        match self {
            Self::NULL => "null",
            Self::ETHERNET => "ethernet",
            Self::PPP => "ppp",
            Self::RAW_BSD12 | Self::RAW_BSD14 | Self::RAW => "raw",
            Self::PPP_HDLC => "ppp-hdlc",
            Self::PPP_ETHER => "pppoe",
            Self::C_HDLC => "cisco-hdlc",
            Self::IEEE802_11 => "ieee802.11",
            Self::LOOP => "loop",
            Self::LINUX_SLL => "linux-sll",
            Self::IEEE802_11_RADIOTAP => "radiotap",
            Self::PPI => "ppi",
            Self::IPV4 => "ipv4",
            Self::IPV6 => "ipv6",
            Self::LINUX_SLL2 => "linux-sll2",
            _ => "unknown",
        }
    }

    /// The link type for a name or a number given by a user (`"ethernet"`, `"raw"`, `"1"`).
    pub fn parse(text: &str) -> Option<LinkType> {
        if let Ok(n) = text.parse::<u32>() {
            return Some(LinkType(n));
        }
        let known = [
            Self::NULL,
            Self::ETHERNET,
            Self::PPP,
            Self::RAW,
            Self::PPP_HDLC,
            Self::PPP_ETHER,
            Self::C_HDLC,
            Self::IEEE802_11,
            Self::LOOP,
            Self::LINUX_SLL,
            Self::IEEE802_11_RADIOTAP,
            Self::PPI,
            Self::IPV4,
            Self::IPV6,
            Self::LINUX_SLL2,
        ];
        let wanted = text.to_ascii_lowercase();
        known.into_iter().find(|l| l.name() == wanted)
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

/// One captured frame, borrowed from the capture's bytes.
#[derive(Clone, Copy, Debug)]
pub struct RawPacket<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    pub link_type: LinkType,
    /// The bytes captured (at most the snap length).
    pub data: &'a [u8],
    /// The frame's length on the wire; at least `data.len()`.
    pub wire_len: u32,
}

/// Why a capture could not be read (further).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureError {
    /// The file does not start with a pcap or pcapng magic number.
    NotACapture,
    /// The file ends inside a record; every earlier record was read.
    Truncated {
        offset: u64,
    },
    /// A record's header is impossible (length beyond any sane bound, bad block).
    Corrupt {
        offset: u64,
        reason: &'static str,
    },
    Io(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::NotACapture => write!(f, "not a pcap or pcapng capture"),
            CaptureError::Truncated { offset } => {
                write!(f, "capture is truncated at byte {offset}")
            }
            CaptureError::Corrupt { offset, reason } => {
                write!(f, "capture is damaged at byte {offset}: {reason}")
            }
            CaptureError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CaptureError {}

/// Largest record we accept; real snap lengths are at most 256 KiB.
pub(crate) const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;

/// The bytes of a capture: a memory map for files, owned bytes for anything else.
enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Bytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

enum Format {
    Pcap(PcapReader),
    Pcapng(PcapngReader),
}

/// A capture file (or buffer) and the position reached in it.
pub struct CaptureReader {
    bytes: Bytes,
    format: Format,
    packets_read: u64,
    finished: bool,
}

impl CaptureReader {
    /// Opens a capture file; the format is recognised from its magic number.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        let file = std::fs::File::open(path).map_err(|e| CaptureError::Io(io_message(path, &e)))?;
        let meta = file
            .metadata()
            .map_err(|e| CaptureError::Io(io_message(path, &e)))?;
        if meta.is_dir() {
            return Err(CaptureError::Io(format!(
                "{}: is a directory",
                path.display()
            )));
        }
        let bytes = if meta.is_file() && meta.len() > 0 {
            Bytes::Mapped(map_file(&file).map_err(|e| CaptureError::Io(io_message(path, &e)))?)
        } else {
            // Pipes, devices and empty files: read them whole.
            let mut buf = Vec::new();
            let mut f = file;
            std::io::Read::read_to_end(&mut f, &mut buf)
                .map_err(|e| CaptureError::Io(io_message(path, &e)))?;
            Bytes::Owned(buf)
        };
        Self::from_bytes_inner(bytes)
    }

    /// Reads a capture held in memory.
    pub fn from_vec(data: Vec<u8>) -> Result<CaptureReader, CaptureError> {
        Self::from_bytes_inner(Bytes::Owned(data))
    }

    fn from_bytes_inner(bytes: Bytes) -> Result<CaptureReader, CaptureError> {
        let data = bytes.as_slice();
        let format = if let Some(r) = PcapReader::detect(data)? {
            Format::Pcap(r)
        } else if let Some(r) = PcapngReader::detect(data)? {
            Format::Pcapng(r)
        } else {
            return Err(CaptureError::NotACapture);
        };
        Ok(CaptureReader {
            bytes,
            format,
            packets_read: 0,
            finished: false,
        })
    }

    /// The next packet, `Ok(None)` at the end, or the error that stopped reading.
    /// After an error every later call returns `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        let data = self.bytes.as_slice();
        let res = match &mut self.format {
            Format::Pcap(r) => r.next(data),
            Format::Pcapng(r) => r.next(data),
        };
        match res {
            Ok(Some(p)) => {
                self.packets_read += 1;
                Ok(Some(p))
            }
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(e) => {
                self.finished = true;
                Err(e)
            }
        }
    }

    pub fn packets_read(&self) -> u64 {
        self.packets_read
    }

    /// Bytes consumed so far and the total, for progress reporting.
    pub fn progress(&self) -> (u64, u64) {
        let pos = match &self.format {
            Format::Pcap(r) => r.offset(),
            Format::Pcapng(r) => r.offset(),
        };
        (pos as u64, self.bytes.as_slice().len() as u64)
    }

    pub fn format_name(&self) -> &'static str {
        match self.format {
            Format::Pcap(_) => "pcap",
            Format::Pcapng(_) => "pcapng",
        }
    }
}

fn io_message(path: &Path, e: &std::io::Error) -> String {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    format!("{}: {}", path.display(), what)
}

#[allow(unsafe_code)]
fn map_file(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and private to this reader. A capture file truncated by
    // another process while mapped would fault; captures being analysed are not rewritten in
    // place by the tools that produce them (they append or write a new file).
    let map = unsafe { memmap2::Mmap::map(file)? };
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// Little helpers to read integers without panicking.
pub(crate) fn rd_u16(d: &[u8], at: usize, be: bool) -> Option<u16> {
    let b: [u8; 2] = d.get(at..at + 2)?.try_into().ok()?;
    Some(if be {
        u16::from_be_bytes(b)
    } else {
        u16::from_le_bytes(b)
    })
}

pub(crate) fn rd_u32(d: &[u8], at: usize, be: bool) -> Option<u32> {
    let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
    Some(if be {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

#[cfg(test)]
mod tests;
