//! Live capture from a network interface: Linux `AF_PACKET` sockets with a `TPACKET_V3`
//! receive ring shared with the kernel, read without a system call per packet or a copy.
//!
//! The kernel fills blocks of the ring with frames and hands a block over by setting its
//! status to `TP_STATUS_USER`; the reader walks it, then gives it back (`TP_STATUS_KERNEL`).
//! A block is handed over when full or when it has waited `block_timeout_ms`, which bounds
//! how late a packet of a quiet link is seen. Everything read out of a block is bounds-checked
//! against the block: a wrong offset ends the block, never the program.
//!
//! The only `unsafe` code of the crate is here: the system calls, the mapping of the ring
//! and the status word the kernel and the reader hand each block over with.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fmt;
use std::sync::atomic::{fence, Ordering};
use std::time::Duration;

use super::{LinkType, RawPacket};

/// How a live capture is set up.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Receive every frame on the link, not only those addressed to this host.
    pub promiscuous: bool,
    /// Size of the ring shared with the kernel; frames arriving while it is full are dropped
    /// (and counted by [`LiveCapture::drops`]).
    pub buffer_bytes: usize,
    /// Longest wait before the kernel hands over a block that is not full.
    pub block_timeout_ms: u32,
    /// Share the interface's frames with other sockets (see [`Fanout`]).
    pub fanout: Fanout,
}

/// Whether a capture's socket is one of a `PACKET_FANOUT` group, over whose sockets the
/// kernel spreads the interface's frames by a symmetric hash of their flow (both directions
/// of a flow reach the same socket), after reassembling IP fragments, so that every
/// fragment of a datagram reaches the socket of its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fanout {
    /// The socket gets every frame.
    Alone,
    /// The first socket of a new group, whose id the kernel picks so that it is no other
    /// group's (read it with [`LiveCapture::fanout_group`]).
    NewGroup,
    /// A socket joining the group of this id.
    Join(u16),
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            promiscuous: true,
            buffer_bytes: 64 << 20,
            block_timeout_ms: 20,
            fanout: Fanout::Alone,
        }
    }
}

/// Why a live capture could not be opened or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveError {
    /// The interface, as the user named it.
    pub interface: String,
    pub message: String,
    /// Missing privileges (`CAP_NET_RAW`).
    pub permission: bool,
    /// No interface of that name.
    pub no_such_interface: bool,
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.interface, self.message)
    }
}

impl std::error::Error for LiveError {}

/// A block of the ring holds frames of up to 64 KiB (loopback and offloaded segments are
/// that large) many times over.
const BLOCK_BYTES: usize = 1 << 20;
/// Frame slots only count towards the ring's bookkeeping in TPACKET_V3; frames are packed.
const FRAME_BYTES: usize = 2048;
/// `sizeof(struct tpacket3_hdr)`, already a multiple of TPACKET_ALIGNMENT (16).
const PACKET_HEADER_BYTES: usize = 48;
/// The Linux cooked header (LINKTYPE_LINUX_SLL) put before frames of interfaces without an
/// Ethernet header, and of the `any` pseudo-interface.
const SLL_BYTES: usize = 16;
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;
const ETH_P_ALL: u16 = 0x0003;

/// An open live capture: the socket, its ring, and where reading stands in the ring.
pub struct LiveCapture {
    interface: String,
    fd: libc::c_int,
    ring: *mut u8,
    ring_bytes: usize,
    blocks: usize,
    /// The block being read, and the offset and count of the frames left in it.
    block: usize,
    cursor: Option<(usize, u32)>,
    /// Ethernet frames as they were on the wire, or cooked (SLL) frames.
    link_type: LinkType,
    /// The loopback interface's index: its frames are seen twice (sent and received), and
    /// only the received copy is kept, as libpcap does.
    loopback_index: i32,
    /// Frames rebuilt before they are handed out: a VLAN tag the kernel took off, a cooked
    /// header put in front.
    scratch: Vec<u8>,
    /// How long a frame may wait in a block before the kernel hands the block over.
    block_timeout: Duration,
    received: u64,
    dropped: u64,
    /// The loopback's sent copies passed over, which the kernel counts as received.
    copies_skipped: u64,
}

// The ring is mapped for this capture alone and unmapped when it is dropped; nothing else
// holds its address, so moving the capture to another thread moves all access with it.
unsafe impl Send for LiveCapture {}

fn os_error(interface: &str, what: &str) -> LiveError {
    let e = std::io::Error::last_os_error();
    let code = e.raw_os_error().unwrap_or(0);
    let permission = code == libc::EPERM || code == libc::EACCES;
    let message = if permission {
        format!("{what}: permission denied (live capture needs root or CAP_NET_RAW)")
    } else {
        format!("{what}: {e}")
    };
    LiveError {
        interface: interface.to_string(),
        message,
        permission,
        no_such_interface: code == libc::ENODEV,
    }
}

fn set_option<T>(fd: libc::c_int, level: libc::c_int, name: libc::c_int, value: &T) -> bool {
    // SAFETY: `value` points to a live `T` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// The interface's hardware type (ARPHRD_*), from sysfs.
fn hardware_type(interface: &str) -> Option<u16> {
    let path = format!("/sys/class/net/{interface}/type");
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn interface_index(interface: &str) -> Option<i32> {
    let name = CString::new(interface).ok()?;
    // SAFETY: `name` is a NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (index != 0).then_some(index as i32)
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

impl LiveCapture {
    /// Opens `interface` (`any` for every interface, as cooked frames). Needs root or
    /// `CAP_NET_RAW`.
    pub fn open(interface: &str, opts: &LiveOptions) -> Result<LiveCapture, LiveError> {
        let fail = |message: String, no_such_interface: bool| LiveError {
            interface: interface.to_string(),
            message,
            permission: false,
            no_such_interface,
        };
        let any = interface == "any";
        let index = if any {
            0
        } else {
            interface_index(interface)
                .ok_or_else(|| fail("no such network interface".to_string(), true))?
        };
        // Ethernet-like links keep their header; every other link (and `any`) is read
        // without it and given a cooked header, which names the protocol of what follows.
        let ethernet = !any
            && matches!(
                hardware_type(interface),
                Some(ARPHRD_ETHER | ARPHRD_LOOPBACK)
            );
        let kind = if ethernet {
            libc::SOCK_RAW
        } else {
            libc::SOCK_DGRAM
        };
        let protocol = i32::from(ETH_P_ALL.to_be());
        // SAFETY: a plain system call; the descriptor is owned by the capture from here on.
        let fd = unsafe { libc::socket(libc::AF_PACKET, kind | libc::SOCK_CLOEXEC, protocol) };
        if fd < 0 {
            return Err(os_error(interface, "cannot open a packet socket"));
        }
        let mut capture = LiveCapture {
            interface: interface.to_string(),
            fd,
            ring: std::ptr::null_mut(),
            ring_bytes: 0,
            blocks: 0,
            block: 0,
            cursor: None,
            link_type: if ethernet {
                LinkType::ETHERNET
            } else {
                LinkType::LINUX_SLL
            },
            loopback_index: interface_index("lo").unwrap_or(-1),
            scratch: Vec::with_capacity(1 << 16),
            block_timeout: Duration::from_millis(u64::from(opts.block_timeout_ms.max(1))),
            received: 0,
            dropped: 0,
            copies_skipped: 0,
        };
        capture.set_up_ring(opts)?;
        capture.bind(index)?;
        let mode = libc::PACKET_FANOUT_HASH | libc::PACKET_FANOUT_FLAG_DEFRAG;
        let fanout = match opts.fanout {
            Fanout::Alone => None,
            // A group id of our own choosing could be another program's group, whose frames
            // we would then share: the kernel picks one no group has.
            Fanout::NewGroup => Some((mode | libc::PACKET_FANOUT_FLAG_UNIQUEID) << 16),
            Fanout::Join(group) => Some(u32::from(group) | (mode << 16)),
        };
        if let Some(value) = fanout {
            if !set_option(fd, libc::SOL_PACKET, libc::PACKET_FANOUT, &value) {
                return Err(os_error(interface, "cannot join the fanout group"));
            }
        }
        if opts.promiscuous && !any {
            let request = libc::packet_mreq {
                mr_ifindex: index,
                mr_type: libc::PACKET_MR_PROMISC as u16,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            if !set_option(fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &request) {
                return Err(os_error(interface, "cannot enter promiscuous mode"));
            }
        }
        Ok(capture)
    }

    fn set_up_ring(&mut self, opts: &LiveOptions) -> Result<(), LiveError> {
        let version = libc::tpacket_versions::TPACKET_V3 as libc::c_int;
        if !set_option(self.fd, libc::SOL_PACKET, libc::PACKET_VERSION, &version) {
            return Err(os_error(&self.interface, "TPACKET_V3 is not available"));
        }
        let blocks = (opts.buffer_bytes / BLOCK_BYTES).clamp(2, 4096);
        let request = libc::tpacket_req3 {
            tp_block_size: BLOCK_BYTES as u32,
            tp_block_nr: blocks as u32,
            tp_frame_size: FRAME_BYTES as u32,
            tp_frame_nr: (blocks * (BLOCK_BYTES / FRAME_BYTES)) as u32,
            tp_retire_blk_tov: opts.block_timeout_ms.max(1),
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        if !set_option(self.fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &request) {
            return Err(os_error(&self.interface, "cannot set up the receive ring"));
        }
        let bytes = blocks * BLOCK_BYTES;
        // SAFETY: maps the ring the kernel just allocated for this socket; checked below.
        let ring = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_LOCKED,
                self.fd,
                0,
            )
        };
        // MAP_LOCKED fails beyond the locked-memory limit; the ring works unlocked too.
        let ring = if ring == libc::MAP_FAILED {
            // SAFETY: as above, without locking the pages.
            unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    bytes,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    self.fd,
                    0,
                )
            }
        } else {
            ring
        };
        if ring == libc::MAP_FAILED {
            return Err(os_error(&self.interface, "cannot map the receive ring"));
        }
        self.ring = ring.cast();
        self.ring_bytes = bytes;
        self.blocks = blocks;
        Ok(())
    }

    fn bind(&self, index: i32) -> Result<(), LiveError> {
        // SAFETY: an all-zero sockaddr_ll is valid; the fields that matter are set below.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = ETH_P_ALL.to_be();
        address.sll_ifindex = index;
        // SAFETY: `address` is a sockaddr_ll of the size passed.
        let rc = unsafe {
            libc::bind(
                self.fd,
                (&address as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(os_error(&self.interface, "cannot bind to the interface"));
        }
        Ok(())
    }

    /// The id of the fanout group this socket belongs to, if any.
    pub fn fanout_group(&self) -> Option<u16> {
        let mut value: u32 = 0;
        let mut len = std::mem::size_of::<u32>() as libc::socklen_t;
        // SAFETY: `value` is writable for `len` bytes.
        let rc = unsafe {
            libc::getsockopt(
                self.fd,
                libc::SOL_PACKET,
                libc::PACKET_FANOUT,
                (&mut value as *mut u32).cast(),
                &mut len,
            )
        };
        // The id is the low 16 bits; a socket in no group reads 0.
        (rc == 0 && value != 0).then_some((value & 0xffff) as u16)
    }

    /// The link type of the frames handed out: Ethernet, or Linux cooked (SLL).
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// The time (ns since the epoch) before which every frame the kernel received has been
    /// handed over, when the ring has just been found empty: a frame waits in a block for
    /// at most the block timeout.
    pub fn settled_ns(&self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let settled = now.saturating_sub(2 * self.block_timeout);
        i64::try_from(settled.as_nanos()).unwrap_or(i64::MAX)
    }

    /// Frames the kernel received for this capture (the loopback's sent copies, passed
    /// over, not counted), and those it dropped because the ring was full, since the
    /// capture was opened.
    pub fn counts(&mut self) -> (u64, u64) {
        let mut stats = libc::tpacket_stats_v3 {
            tp_packets: 0,
            tp_drops: 0,
            tp_freeze_q_cnt: 0,
        };
        let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `stats` is writable for `len` bytes. The kernel resets its counters at each
        // read: they are added up here.
        let rc = unsafe {
            libc::getsockopt(
                self.fd,
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut stats as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        };
        if rc == 0 {
            self.received += u64::from(stats.tp_packets);
            self.dropped += u64::from(stats.tp_drops);
        }
        (
            self.received.saturating_sub(self.copies_skipped),
            self.dropped,
        )
    }

    /// Hands up to `max_packets` frames to `each`, waiting up to `timeout` for the first;
    /// returns how many were handed out (0 when the wait ended without any, or was
    /// interrupted by a signal, so that the caller can look at its clock and its signals).
    pub fn read(
        &mut self,
        max_packets: usize,
        timeout: Duration,
        each: &mut dyn FnMut(&RawPacket<'_>),
    ) -> Result<usize, LiveError> {
        let mut handed = self.drain(max_packets, each);
        if handed > 0 || max_packets == 0 {
            return Ok(handed);
        }
        let mut poll = libc::pollfd {
            fd: self.fd,
            events: libc::POLLIN | libc::POLLERR,
            revents: 0,
        };
        let millis = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut poll, 1, millis) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(os_error(&self.interface, "cannot wait for packets"));
        }
        handed += self.drain(max_packets, each);
        // The frames already in the ring first; the error is still pending at the next call.
        if handed == 0 && poll.revents & libc::POLLERR != 0 {
            return Err(self.socket_error());
        }
        Ok(handed)
    }

    /// The error the socket reports (the interface went down, or away).
    fn socket_error(&self) -> LiveError {
        let mut code: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `code` is writable for `len` bytes.
        unsafe {
            libc::getsockopt(
                self.fd,
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut code as *mut libc::c_int).cast(),
                &mut len,
            );
        }
        LiveError {
            interface: self.interface.clone(),
            message: format!(
                "capture stopped: {}",
                std::io::Error::from_raw_os_error(code)
            ),
            permission: false,
            no_such_interface: code == libc::ENODEV,
        }
    }

    /// The status word of block `index`, which the kernel and the reader hand it over with.
    fn status(&self, index: usize) -> *mut u32 {
        // SAFETY: `index < blocks`, so the word (8 bytes into the block) is inside the ring.
        unsafe { self.ring.add(index * BLOCK_BYTES + 8).cast::<u32>() }
    }

    /// The block at `index` when the kernel has handed it to the reader.
    fn user_block(&self, index: usize) -> Option<&[u8]> {
        // SAFETY: the status word is inside the ring and aligned (blocks are page-aligned);
        // volatile because the kernel writes it. Once it reads TP_STATUS_USER the kernel
        // leaves the block alone until it is given back: the acquire fence orders the reads
        // of its frames after that of the status.
        let status = unsafe { std::ptr::read_volatile(self.status(index)) };
        if status & libc::TP_STATUS_USER == 0 {
            return None;
        }
        fence(Ordering::Acquire);
        // SAFETY: the block lies inside the mapping, and is ours until released.
        Some(unsafe { std::slice::from_raw_parts(self.ring.add(index * BLOCK_BYTES), BLOCK_BYTES) })
    }

    /// Gives block `index` back to the kernel.
    fn release(&mut self, index: usize) {
        fence(Ordering::Release);
        // SAFETY: as in `user_block`; the reader no longer uses the block.
        unsafe { std::ptr::write_volatile(self.status(index), libc::TP_STATUS_KERNEL) };
    }

    /// Hands out the frames of the blocks the kernel has filled, up to `max_packets`.
    fn drain(&mut self, max_packets: usize, each: &mut dyn FnMut(&RawPacket<'_>)) -> usize {
        let mut handed = 0;
        while handed < max_packets {
            let index = self.block;
            let (mut offset, mut left) = match self.cursor {
                Some(c) => c,
                None => {
                    let Some(block) = self.user_block(index) else {
                        break;
                    };
                    block_frames(block)
                }
            };
            while left > 0 && handed < max_packets {
                let Some(next) = self.frame_at(index, offset, each) else {
                    left = 0;
                    break;
                };
                handed += usize::from(next.1);
                left -= 1;
                if next.0 == 0 {
                    left = 0;
                }
                offset = offset.saturating_add(next.0);
            }
            if left == 0 {
                self.cursor = None;
                self.release(index);
                self.block = (index + 1) % self.blocks;
            } else {
                self.cursor = Some((offset, left));
            }
        }
        handed
    }

    /// Hands out the frame at `offset` in block `index` (unless it is the loopback's sent
    /// copy); returns the offset of the next frame and whether one was handed out, or None
    /// when the header is out of the block.
    fn frame_at(
        &mut self,
        index: usize,
        offset: usize,
        each: &mut dyn FnMut(&RawPacket<'_>),
    ) -> Option<(usize, bool)> {
        // SAFETY: the block is the reader's until released (see `user_block`); the slice is
        // built again here so that `self.scratch` can be borrowed meanwhile.
        let block: &[u8] =
            unsafe { std::slice::from_raw_parts(self.ring.add(index * BLOCK_BYTES), BLOCK_BYTES) };
        let frame = RingFrame::parse(block, offset)?;
        if frame.packet_type == libc::PACKET_OUTGOING && frame.ifindex == self.loopback_index {
            self.copies_skipped += 1;
            return Some((frame.next, false));
        }
        let packet = frame.packet(self.link_type, &mut self.scratch)?;
        each(&packet);
        Some((frame.next, true))
    }
}

/// The first frame's offset and the number of frames of a block, from its header.
pub fn block_frames(block: &[u8]) -> (usize, u32) {
    let count = read_u32(block, 12).unwrap_or(0);
    let first = read_u32(block, 16).unwrap_or(0) as usize;
    (first, count)
}

/// One frame of a ring block as the kernel describes it: its `tpacket3_hdr` and the
/// `sockaddr_ll` after it, read (bounds-checked) from the block.
#[derive(Clone, Copy, Debug)]
pub struct RingFrame<'a> {
    /// Offset of the next frame from this one (0 for the last).
    pub next: usize,
    pub ts_ns: i64,
    /// The frame as captured, from its link header (or network header, cooked).
    pub data: &'a [u8],
    pub wire_len: u32,
    status: u32,
    vlan_tci: u16,
    vlan_tpid: u16,
    ifindex: i32,
    packet_type: u8,
    /// The `sockaddr_ll` the kernel wrote (20 bytes).
    address: &'a [u8],
}

impl<'a> RingFrame<'a> {
    /// The frame at `offset` in `block`, or None when any part of it is out of the block.
    pub fn parse(block: &'a [u8], offset: usize) -> Option<RingFrame<'a>> {
        let header = block.get(offset..offset.checked_add(PACKET_HEADER_BYTES)?)?;
        let sec = read_u32(header, 4)?;
        let nsec = read_u32(header, 8)?;
        let snaplen = read_u32(header, 12)? as usize;
        let mac = usize::from(read_u16(header, 24)?);
        let at = offset.checked_add(PACKET_HEADER_BYTES)?;
        let address = block.get(at..at.checked_add(20)?)?;
        let start = offset.checked_add(mac)?;
        Some(RingFrame {
            next: read_u32(header, 0)? as usize,
            ts_ns: i64::from(sec) * 1_000_000_000 + i64::from(nsec),
            data: block.get(start..start.checked_add(snaplen)?)?,
            wire_len: read_u32(header, 16)?,
            status: read_u32(header, 20)?,
            vlan_tci: read_u32(header, 32)? as u16,
            vlan_tpid: read_u16(header, 36)?,
            ifindex: i32::from_ne_bytes(address.get(4..8)?.try_into().ok()?),
            packet_type: *address.get(10)?,
            address,
        })
    }

    /// The frame as a packet of `link_type`: as it is, with the 802.1Q tag the kernel took
    /// off put back, or (cooked) after a Linux cooked header; rebuilt frames are written to
    /// `scratch`.
    pub fn packet<'s>(
        &'s self,
        link_type: LinkType,
        scratch: &'s mut Vec<u8>,
    ) -> Option<RawPacket<'s>> {
        let (data, wire_len): (&[u8], u32) = if link_type == LinkType::LINUX_SLL {
            // Packet type, hardware type, address length and address, protocol: the socket
            // address, in the cooked header's order.
            scratch.clear();
            scratch.extend_from_slice(&u16::from(self.packet_type).to_be_bytes());
            scratch.extend_from_slice(&read_u16(self.address, 8)?.to_be_bytes());
            scratch.extend_from_slice(&u16::from(*self.address.get(11)?).to_be_bytes());
            scratch.extend_from_slice(self.address.get(12..20)?);
            scratch.extend_from_slice(self.address.get(2..4)?);
            scratch.extend_from_slice(self.data);
            (scratch, self.wire_len.saturating_add(SLL_BYTES as u32))
        } else if self.status & libc::TP_STATUS_VLAN_VALID != 0 && self.data.len() >= 12 {
            // The kernel took the 802.1Q tag off (hardware offload): put it back where it was.
            let tpid = if self.status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                self.vlan_tpid
            } else {
                0x8100
            };
            scratch.clear();
            scratch.extend_from_slice(self.data.get(..12)?);
            scratch.extend_from_slice(&tpid.to_be_bytes());
            scratch.extend_from_slice(&self.vlan_tci.to_be_bytes());
            scratch.extend_from_slice(self.data.get(12..)?);
            (scratch, self.wire_len.saturating_add(4))
        } else {
            (self.data, self.wire_len)
        };
        Some(RawPacket {
            ts_ns: self.ts_ns,
            link_type,
            data,
            wire_len: wire_len.max(data.len() as u32),
        })
    }
}

impl Drop for LiveCapture {
    fn drop(&mut self) {
        // SAFETY: the mapping and the descriptor are this capture's, and nothing borrows
        // them any more.
        unsafe {
            if !self.ring.is_null() {
                libc::munmap(self.ring.cast(), self.ring_bytes);
            }
            libc::close(self.fd);
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A block holding one frame at offset 64, with its header and socket address set as
    /// the kernel writes them.
    fn block_with(frame: &[u8], status: u32, packet_type: u8) -> Vec<u8> {
        let mut block = vec![0u8; 4096];
        block[12..16].copy_from_slice(&1u32.to_ne_bytes());
        block[16..20].copy_from_slice(&64u32.to_ne_bytes());
        let h = 64;
        block[h + 4..h + 8].copy_from_slice(&1_700_000_000u32.to_ne_bytes());
        block[h + 8..h + 12].copy_from_slice(&5u32.to_ne_bytes());
        block[h + 12..h + 16].copy_from_slice(&(frame.len() as u32).to_ne_bytes());
        block[h + 16..h + 20].copy_from_slice(&(frame.len() as u32 + 100).to_ne_bytes());
        block[h + 20..h + 24].copy_from_slice(&status.to_ne_bytes());
        block[h + 24..h + 26].copy_from_slice(&80u16.to_ne_bytes());
        block[h + 32..h + 36].copy_from_slice(&0x0123u32.to_ne_bytes());
        block[h + 36..h + 38].copy_from_slice(&0x88a8u16.to_ne_bytes());
        let a = h + PACKET_HEADER_BYTES;
        block[a + 2..a + 4].copy_from_slice(&0x0800u16.to_be_bytes());
        block[a + 4..a + 8].copy_from_slice(&3i32.to_ne_bytes());
        block[a + 8..a + 10].copy_from_slice(&1u16.to_ne_bytes());
        block[a + 10] = packet_type;
        block[a + 11] = 6;
        block[a + 12..a + 18].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        block[h + 80..h + 80 + frame.len()].copy_from_slice(frame);
        block
    }

    #[test]
    fn a_vlan_tag_taken_off_by_the_kernel_is_put_back() {
        let ethernet: Vec<u8> = (0u8..12).chain([0x08, 0x00, 0x45]).collect();
        let status =
            libc::TP_STATUS_USER | libc::TP_STATUS_VLAN_VALID | libc::TP_STATUS_VLAN_TPID_VALID;
        let block = block_with(&ethernet, status, 0);
        assert_eq!(block_frames(&block), (64, 1));
        let frame = RingFrame::parse(&block, 64).unwrap();
        let mut scratch = Vec::new();
        let pkt = frame.packet(LinkType::ETHERNET, &mut scratch).unwrap();
        assert_eq!(pkt.ts_ns, 1_700_000_000_000_000_005);
        assert_eq!(&pkt.data[..12], &ethernet[..12]);
        assert_eq!(&pkt.data[12..16], &[0x88, 0xa8, 0x01, 0x23]);
        assert_eq!(&pkt.data[16..], &[0x08, 0x00, 0x45]);
        assert_eq!(pkt.wire_len, 15 + 100 + 4);
    }

    #[test]
    fn a_cooked_frame_starts_with_the_socket_address_in_sll_order() {
        let ip = [0x45u8, 0, 0, 20];
        let block = block_with(&ip, libc::TP_STATUS_USER, 4);
        let frame = RingFrame::parse(&block, 64).unwrap();
        let mut scratch = Vec::new();
        let pkt = frame.packet(LinkType::LINUX_SLL, &mut scratch).unwrap();
        assert_eq!(
            pkt.data,
            &[0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 9, 0, 0, 0x08, 0x00, 0x45, 0, 0, 20]
        );
        assert_eq!(pkt.wire_len, 4 + 100 + 16);
    }

    #[test]
    fn a_frame_reaching_out_of_its_block_is_refused() {
        let block = block_with(&[0u8; 64], libc::TP_STATUS_USER, 0);
        assert!(RingFrame::parse(&block, 4096 - 40).is_none());
        assert!(RingFrame::parse(&block, usize::MAX - 8).is_none());
        let mut long = block.clone();
        long[64 + 12..64 + 16].copy_from_slice(&5000u32.to_ne_bytes());
        assert!(RingFrame::parse(&long, 64).is_none());
    }
}
