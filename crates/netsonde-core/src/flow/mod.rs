//! Bidirectional flows: canonical keys, per-flow counters, orientation, and a table bounded
//! in size whose every removed flow (idle, active timeout, TCP end, eviction) becomes a record.

pub mod defrag;
mod table;

use crate::classify::{Classification, Dpi, Findings};
use crate::decode::{IpBytes, Packet, Tunnel};

pub use table::{FlowTable, Lane};

/// A flow's identity: both endpoints in canonical (sorted) order, so that both directions of
/// a conversation find the same flow. VLAN and tunnel are part of it: the same addresses on
/// two VLANs or inside two tunnel types are different conversations.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FlowKey {
    pub lo_ip: IpBytes,
    pub hi_ip: IpBytes,
    pub lo_port: u16,
    pub hi_port: u16,
    pub vlan_id: u16,
    pub protocol: u8,
    pub ip_version: u8,
    pub tunnel: Tunnel,
}

impl FlowKey {
    /// The key of a packet's flow and whether the packet travels from `lo` to `hi`.
    #[inline]
    pub fn of(p: &Packet<'_>) -> (FlowKey, bool) {
        let src_is_lo = (p.src_ip, p.src_port) <= (p.dst_ip, p.dst_port);
        let (lo_ip, lo_port, hi_ip, hi_port) = if src_is_lo {
            (p.src_ip, p.src_port, p.dst_ip, p.dst_port)
        } else {
            (p.dst_ip, p.dst_port, p.src_ip, p.src_port)
        };
        let key = FlowKey {
            lo_ip,
            hi_ip,
            lo_port,
            hi_port,
            vlan_id: p.vlan_id,
            protocol: p.protocol,
            ip_version: p.ip_version,
            tunnel: p.tunnel,
        };
        (key, src_is_lo)
    }
}

/// Why a flow's record was produced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expiration {
    /// No packet for `idle_timeout`.
    Idle,
    /// The flow lasted `active_timeout`; later packets start a new record.
    Active,
    /// The TCP connection closed and the same endpoints opened a new one.
    End,
    /// The table was full and this was the least recently seen flow.
    Eviction,
    /// The input ended.
    EndOfInput,
}

impl Expiration {
    pub fn name(self) -> &'static str {
        match self {
            Expiration::Idle => "idle",
            Expiration::Active => "active",
            Expiration::End => "end",
            Expiration::Eviction => "eviction",
            Expiration::EndOfInput => "end_of_input",
        }
    }
}

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_ACK: u8 = 0x10;

/// The state of one flow. Direction 0 is client to server.
pub struct Flow {
    pub key: FlowKey,
    pub id: u64,
    /// Whether the client (initiator) is the key's `lo` endpoint.
    pub client_is_lo: bool,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
    /// The engine's clock (the latest timestamp of the input so far) at the flow's last
    /// packet: its idle timeout counts from here. It is `last_seen_ns` unless timestamps
    /// went backwards. It grows along each lane of the table, so a flow times out by its
    /// own packets and the clock alone, whatever other flows share its table (or worker).
    pub idle_since_ns: i64,
    pub packets: [u64; 2],
    pub bytes: [u64; 2],
    pub tcp_flags: [u8; 2],
    pub fin_seen: [bool; 2],
    pub rst_seen: bool,
    /// The client's initial sequence number, from its SYN: a later SYN with another number
    /// opens a new connection, one with the same number is a retransmission.
    pub client_isn: Option<u32>,
    pub lane: Lane,
    /// The classification, for flows classified without payload inspection (ICMP, ESP, …).
    pub class: Classification,
    /// Inspection state; `None` for flows not (or no longer) inspected.
    pub dpi: Option<Box<Dpi>>,
    /// Metadata and risks kept after inspection (the inspection state is then freed).
    pub findings: Option<Box<Findings>>,
    /// Whether payloads still go to the dissectors.
    pub inspecting: bool,
    // Intrusive least-recently-seen list through the table's slots.
    prev: u32,
    next: u32,
}

impl Flow {
    /// The direction index (0 = client to server) of a packet going `lo`→`hi` or back.
    #[inline]
    pub fn direction(&self, from_lo: bool) -> usize {
        usize::from(from_lo != self.client_is_lo)
    }

    /// Adds frames travelling `lo`→`hi` (or back) to the counters.
    // The direction index is 0 or 1 by construction, never a value from packet data.
    #[allow(clippy::indexing_slicing)]
    #[inline]
    pub fn add(
        &mut self,
        from_lo: bool,
        packets: u64,
        bytes: u64,
        first_ns: i64,
        last_ns: i64,
        tcp_flags: Option<u8>,
    ) {
        let dir = self.direction(from_lo);
        self.packets[dir] += packets;
        self.bytes[dir] += bytes;
        self.first_seen_ns = self.first_seen_ns.min(first_ns);
        self.last_seen_ns = self.last_seen_ns.max(last_ns);
        if let Some(flags) = tcp_flags {
            self.tcp_flags[dir] |= flags;
            if flags & TCP_FIN != 0 {
                self.fin_seen[dir] = true;
            }
            if flags & TCP_RST != 0 {
                self.rst_seen = true;
            }
        }
    }

    /// A copy of the flow's plain fields (the inspection state stays behind).
    pub fn take(&self) -> Flow {
        Flow {
            key: self.key,
            id: self.id,
            client_is_lo: self.client_is_lo,
            first_seen_ns: self.first_seen_ns,
            last_seen_ns: self.last_seen_ns,
            idle_since_ns: self.idle_since_ns,
            packets: self.packets,
            bytes: self.bytes,
            tcp_flags: self.tcp_flags,
            fin_seen: self.fin_seen,
            rst_seen: self.rst_seen,
            client_isn: self.client_isn,
            lane: self.lane,
            class: self.class,
            dpi: None,
            findings: None,
            inspecting: self.inspecting,
            prev: self.prev,
            next: self.next,
        }
    }

    /// The client's and the server's (address, port).
    pub fn endpoints(&self) -> ((IpBytes, u16), (IpBytes, u16)) {
        let k = &self.key;
        if self.client_is_lo {
            ((k.lo_ip, k.lo_port), (k.hi_ip, k.hi_port))
        } else {
            ((k.hi_ip, k.hi_port), (k.lo_ip, k.lo_port))
        }
    }

    /// Bytes this flow holds: its slot in the table, its entry in the key map, and what it
    /// owns on the heap (inspection state while inspected, then the metadata and risks kept
    /// for its record). The inspection state is counted only by its own size.
    pub fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        // A hashbrown entry is the (key, slot) pair and one control byte.
        let inline = size_of::<Flow>() + size_of::<(FlowKey, u32)>() + 1;
        let findings = self.findings.as_ref().map_or(0, |f| {
            size_of::<Findings>() + f.meta.heap_bytes() + f.risks.len() * size_of::<&'static str>()
        });
        let dpi = self.dpi.as_ref().map_or(0, |_| size_of::<Dpi>());
        inline + findings + dpi
    }

    /// Whether the TCP connection has been closed (both FINs, or a RST).
    pub fn tcp_closed(&self) -> bool {
        self.rst_seen || (self.fin_seen[0] && self.fin_seen[1])
    }
}

/// Ports below this are taken as services when orienting a flow seen mid-stream.
const SERVICE_PORT_LIMIT: u16 = 1024;

/// Decides who is the client of a new flow from its first packet: the SYN sender, else the
/// side not using a service port, else the sender.
pub fn sender_is_client(p: &Packet<'_>) -> bool {
    if p.protocol == 6 && p.tcp_flags & TCP_SYN != 0 {
        return p.tcp_flags & TCP_ACK == 0;
    }
    !(p.src_port < SERVICE_PORT_LIMIT && p.src_port != 0 && p.dst_port >= SERVICE_PORT_LIMIT)
}

#[cfg(test)]
mod tests;
