"""Build network frames and write pcap / pcapng captures, with the standard library only.

Every layer is a function that returns ``bytes``; layers nest by passing one's result as
the next one's payload::

    seg = tcp(40000, 80, flags="S", seq=1000)
    pkt = ipv4("10.0.0.1", "10.0.0.2", PROTO_TCP, seg)      # fills IP and TCP checksums
    frame = ether(pkt, vlans=[(TPID_QINQ, 100), (TPID_VLAN, 200)])
    write_pcap(path, [Frame(ns("1.5"), frame)])

IPv4/IPv6 builders fill the transport checksum (TCP, UDP, ICMPv6) over the pseudo-header,
so build whole datagrams first and cut them with :func:`fragment_ipv4` /
:func:`fragment_ipv6`, or place fragments by hand with :func:`ipv4_fragment` /
:func:`ipv6_fragment` (overlaps, odd orders).

Timestamps are integer nanoseconds since the epoch (:func:`ns` converts a decimal string
exactly), so every writer can be checked against exact values.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

# --------------------------------------------------------------------------- constants

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_PPP = 9
LINKTYPE_RAW = 101
LINKTYPE_C_HDLC = 104
LINKTYPE_IEEE802_11 = 105
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_RADIOTAP = 127
LINKTYPE_PPI = 192
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_IPV6 = 0x86DD
ETH_LLDP = 0x88CC
ETH_MPLS = 0x8847
ETH_PPPOE_SESSION = 0x8864
ETH_TEB = 0x6558

TPID_VLAN = 0x8100
TPID_QINQ = 0x88A8
TPID_QINQ_OLD = 0x9100

PROTO_HOPOPT = 0
PROTO_ICMP = 1
PROTO_IPIP = 4
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_IPV6 = 41
PROTO_ROUTING = 43
PROTO_FRAGMENT = 44
PROTO_GRE = 47
PROTO_ICMPV6 = 58
PROTO_NONE = 59
PROTO_DSTOPTS = 60
PROTO_SCTP = 132

PPP_IPV4 = 0x0021
PPP_IPV6 = 0x0057

TCP_FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}

MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"


def ns(seconds: str | int) -> int:
    """Exact nanoseconds for a decimal number of seconds given as a string (or an int)."""
    return int(Decimal(str(seconds)) * 1_000_000_000)


# --------------------------------------------------------------------------- checksums


def inet_checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as SCTP uses it."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC32C[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --------------------------------------------------------------------------- addresses


def mac(text: str) -> bytes:
    raw = bytes.fromhex(text.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"bad MAC address {text!r}")
    return raw


def ip4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def ip6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def ip_version_of(text: str) -> int:
    return ipaddress.ip_address(text).version


# --------------------------------------------------------------------------- layer 2


def ether(
    payload: bytes,
    ethertype: int = ETH_IPV4,
    *,
    src: str = MAC_A,
    dst: str = MAC_B,
    vlans: Sequence[tuple[int, int]] = (),
    pad: bool = False,
) -> bytes:
    """An Ethernet II frame (no FCS). ``vlans`` lists (TPID, TCI) tags outermost first; the
    TCI is the VLAN id, optionally with priority (``pcp << 13``) and DEI (``1 << 12``) bits."""
    header = mac(dst) + mac(src)
    for tpid, tci in vlans:
        header += struct.pack("!HH", tpid, tci & 0xFFFF)
    frame = header + struct.pack("!H", ethertype) + payload
    if pad and len(frame) < 60:
        frame += b"\x00" * (60 - len(frame))
    return frame


def ether_for(packet: bytes, **kwargs: object) -> bytes:
    """An Ethernet frame for an IPv4 or IPv6 packet (EtherType from its version nibble)."""
    return ether(packet, ETH_IPV6 if packet[0] >> 4 == 6 else ETH_IPV4, **kwargs)  # type: ignore[arg-type]


def dot3_llc_snap(payload: bytes, ethertype: int = ETH_IPV4, *, src: str = MAC_A, dst: str = MAC_B) -> bytes:
    """An IEEE 802.3 frame (length field) with an 802.2 LLC/SNAP header carrying an EtherType."""
    llc = b"\xaa\xaa\x03" + b"\x00\x00\x00" + struct.pack("!H", ethertype) + payload
    return mac(dst) + mac(src) + struct.pack("!H", len(llc)) + llc


def dot3_llc(llc_payload: bytes, *, src: str = MAC_A, dst: str = "01:80:c2:00:00:00") -> bytes:
    """An IEEE 802.3 frame whose payload (LLC header included) is given as is."""
    return mac(dst) + mac(src) + struct.pack("!H", len(llc_payload)) + llc_payload


def stp_bpdu() -> bytes:
    """A spanning tree configuration BPDU in an 802.3/LLC frame."""
    bpdu = b"\x00\x00\x00\x00\x00" + b"\x80\x00" + mac(MAC_A) + b"\x00" * 4 + b"\x80\x00" + mac(MAC_A)
    bpdu += b"\x80\x01\x00\x00\x14\x00\x02\x00\x0f\x00"
    return dot3_llc(b"\x42\x42\x03" + bpdu)


def arp_request(sender_ip: str = "10.0.0.1", target_ip: str = "10.0.0.2") -> bytes:
    body = (
        struct.pack("!HHBBH", 1, ETH_IPV4, 6, 4, 1)
        + mac(MAC_A)
        + ip4(sender_ip)
        + b"\x00" * 6
        + ip4(target_ip)
    )
    return ether(body, ETH_ARP, dst="ff:ff:ff:ff:ff:ff", pad=True)


def lldp_frame() -> bytes:
    tlvs = struct.pack("!H", (1 << 9) | 7) + b"\x04" + mac(MAC_A)  # chassis id
    tlvs += struct.pack("!H", (2 << 9) | 2) + b"\x07\x31"  # port id
    tlvs += struct.pack("!H", (3 << 9) | 2) + b"\x00\x78"  # ttl
    tlvs += b"\x00\x00"  # end
    return ether(tlvs, ETH_LLDP, dst="01:80:c2:00:00:0e", pad=True)


def mpls(payload: bytes, labels: Sequence[int], ttl: int = 64) -> bytes:
    """An MPLS label stack (outermost first); the last label has the bottom-of-stack bit."""
    out = b""
    for i, label in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | (bos << 8) | ttl)
    return out + payload


def ppp(
    payload: bytes, protocol: int = PPP_IPV4, *, address_control: bool = True, compress: bool = False
) -> bytes:
    """A PPP frame: optional FF 03 address/control, then the protocol (1 byte if compressed)."""
    head = b"\xff\x03" if address_control else b""
    proto = (
        bytes([protocol]) if compress and protocol < 0x100 and protocol & 1 else struct.pack("!H", protocol)
    )
    return head + proto + payload


def ppp_for(packet: bytes, **kwargs: bool) -> bytes:
    return ppp(packet, PPP_IPV6 if packet[0] >> 4 == 6 else PPP_IPV4, **kwargs)


def pppoe_session(packet: bytes, session_id: int = 0x1234) -> bytes:
    """A PPPoE session-stage payload (goes after EtherType 0x8864) carrying an IP packet."""
    body = struct.pack("!H", PPP_IPV6 if packet[0] >> 4 == 6 else PPP_IPV4) + packet
    return struct.pack("!BBHH", 0x11, 0x00, session_id, len(body)) + body


# --------------------------------------------------------------------------- link-layer headers


def link_null(packet: bytes, *, big_endian: bool = False, family: int | None = None) -> bytes:
    """DLT_NULL: a 4-byte address family in the writing host's byte order."""
    if family is None:
        family = 30 if packet[0] >> 4 == 6 else 2
    return struct.pack(">I" if big_endian else "<I", family) + packet


def link_loop(packet: bytes, *, family: int | None = None) -> bytes:
    """DLT_LOOP (108): the address family in network byte order."""
    return link_null(packet, big_endian=True, family=family)


def link_cisco_hdlc(packet: bytes, *, address: int = 0x0F) -> bytes:
    ethertype = ETH_IPV6 if packet[0] >> 4 == 6 else ETH_IPV4
    return struct.pack("!BBH", address, 0, ethertype) + packet


def link_sll(packet: bytes, *, packet_type: int = 0, ethertype: int | None = None, arphrd: int = 1) -> bytes:
    """Linux cooked capture v1 (16 bytes)."""
    if ethertype is None:
        ethertype = ETH_IPV6 if packet[0] >> 4 == 6 else ETH_IPV4
    addr = mac(MAC_A) + b"\x00\x00"
    return struct.pack("!HHH", packet_type, arphrd, 6) + addr + struct.pack("!H", ethertype) + packet


def link_sll2(
    packet: bytes, *, packet_type: int = 4, ethertype: int | None = None, ifindex: int = 2, arphrd: int = 1
) -> bytes:
    """Linux cooked capture v2 (20 bytes)."""
    if ethertype is None:
        ethertype = ETH_IPV6 if packet[0] >> 4 == 6 else ETH_IPV4
    addr = mac(MAC_A) + b"\x00\x00"
    return struct.pack("!HHIHBB", ethertype, 0, ifindex, arphrd, packet_type, 6) + addr + packet


# --------------------------------------------------------------------------- layer 3


def ipv4_option_router_alert() -> bytes:
    return b"\x94\x04\x00\x00"


def ipv4_option_record_route(slots: int = 2) -> bytes:
    length = 3 + 4 * slots
    return bytes([7, length, 4]) + b"\x00" * (4 * slots)


def _fill_l4_checksum(proto: int, pseudo: bytes, segment: bytes) -> bytes:
    offsets = {PROTO_TCP: 16, PROTO_UDP: 6, PROTO_ICMPV6: 2}
    at = offsets.get(proto)
    if at is None or len(segment) < at + 2:
        return segment
    seg = bytearray(segment)
    seg[at : at + 2] = b"\x00\x00"
    csum = inet_checksum(pseudo + bytes(seg))
    if proto == PROTO_UDP and csum == 0:
        csum = 0xFFFF
    seg[at : at + 2] = struct.pack("!H", csum)
    return bytes(seg)


def ipv4(
    src: str,
    dst: str,
    proto: int,
    payload: bytes,
    *,
    ident: int = 1,
    ttl: int = 64,
    tos: int = 0,
    df: bool = False,
    mf: bool = False,
    frag_offset: int = 0,
    options: bytes = b"",
    fix_l4_checksum: bool = True,
    total_length: int | None = None,
) -> bytes:
    """An IPv4 packet with a correct header checksum. ``frag_offset`` is in bytes (a multiple
    of 8). The transport checksum is filled for whole (unfragmented) TCP/UDP payloads."""
    if frag_offset % 8:
        raise ValueError("fragment offset must be a multiple of 8 bytes")
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)  # end-of-options padding
    ihl = 5 + len(options) // 4
    if fix_l4_checksum and not mf and frag_offset == 0 and proto in (PROTO_TCP, PROTO_UDP):
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, len(payload))
        payload = _fill_l4_checksum(proto, pseudo, payload)
    length = total_length if total_length is not None else ihl * 4 + len(payload)
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag_offset // 8)
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x40 | ihl, tos, length, ident, flags, ttl, proto, 0, ip4(src), ip4(dst)
    )
    header += options
    csum = inet_checksum(header)
    header = header[:10] + struct.pack("!H", csum) + header[12:]
    return header + payload


@dataclass(frozen=True)
class Ext:
    """An IPv6 extension header: its protocol number and its body after the next-header byte
    (the length byte included). Built by the helpers below."""

    code: int
    body: bytes


def _ext_with_len(code: int, data: bytes) -> Ext:
    # Total = 2 + len(data) padded to a multiple of 8; length field in 8-byte units minus 1.
    size = 2 + len(data)
    if size % 8:
        data += _padn(8 - size % 8)
        size = 2 + len(data)
    return Ext(code, bytes([size // 8 - 1]) + data)


def _padn(n: int) -> bytes:
    if n == 1:
        return b"\x00"  # Pad1
    return bytes([1, n - 2]) + b"\x00" * (n - 2)


def hop_by_hop(options: bytes = b"") -> Ext:
    """Hop-by-hop options (PadN filled); e.g. ``hop_by_hop(b"\\x05\\x02\\x00\\x00")`` (router alert)."""
    return _ext_with_len(PROTO_HOPOPT, options)


def dest_options(options: bytes = b"") -> Ext:
    return _ext_with_len(PROTO_DSTOPTS, options)


def routing(
    addresses: Sequence[str] = ("2001:db8::99",), routing_type: int = 0, segments_left: int = 0
) -> Ext:
    data = bytes([routing_type, segments_left]) + b"\x00" * 4 + b"".join(ip6(a) for a in addresses)
    return _ext_with_len(PROTO_ROUTING, data)


def auth_header(spi: int = 0x1000, seq: int = 1, icv: bytes = b"\x00" * 12) -> Ext:
    """An IPsec authentication header (its length counts 4-byte units, minus 2)."""
    size = 12 + len(icv)
    if size % 8:
        raise ValueError("an IPv6 AH is a multiple of 8 bytes")
    return Ext(51, bytes([size // 4 - 2]) + b"\x00\x00" + struct.pack("!II", spi, seq) + icv)


def frag_header(offset: int, more: bool, ident: int) -> Ext:
    if offset % 8:
        raise ValueError("fragment offset must be a multiple of 8 bytes")
    return Ext(PROTO_FRAGMENT, b"\x00" + struct.pack("!HI", offset | (1 if more else 0), ident))


def ipv6(
    src: str,
    dst: str,
    proto: int,
    payload: bytes,
    *,
    ext: Sequence[Ext] = (),
    hop_limit: int = 64,
    flow_label: int = 0,
    fix_l4_checksum: bool = True,
    payload_length: int | None = None,
) -> bytes:
    """An IPv6 packet with extension headers in the given order, then ``proto``'s payload.
    The transport checksum (TCP, UDP, ICMPv6) is filled unless a fragment header is present."""
    if fix_l4_checksum and not any(e.code == PROTO_FRAGMENT for e in ext):
        pseudo = ip6(src) + ip6(dst) + struct.pack("!IxxxB", len(payload), proto)
        payload = _fill_l4_checksum(proto, pseudo, payload)
    chain = b""
    codes = [e.code for e in ext] + [proto]
    for i, e in enumerate(ext):
        chain += bytes([codes[i + 1]]) + e.body
    body = chain + payload
    first = codes[0]
    plen = payload_length if payload_length is not None else len(body)
    header = struct.pack("!IHBB", (6 << 28) | (flow_label & 0xFFFFF), plen, first, hop_limit)
    return header + ip6(src) + ip6(dst) + body


def ip_packet(src: str, dst: str, proto: int, payload: bytes, **kwargs: object) -> bytes:
    """IPv4 or IPv6, by the version of ``src``."""
    if ip_version_of(src) == 6:
        return ipv6(src, dst, proto, payload, **kwargs)  # type: ignore[arg-type]
    return ipv4(src, dst, proto, payload, **kwargs)  # type: ignore[arg-type]


def ipv4_fragment(
    src: str, dst: str, proto: int, data: bytes, *, offset: int, more: bool, ident: int, ttl: int = 64
) -> bytes:
    """One IPv4 fragment carrying ``data`` at byte ``offset`` of the datagram's payload."""
    return ipv4(
        src, dst, proto, data, ident=ident, ttl=ttl, mf=more, frag_offset=offset, fix_l4_checksum=False
    )


def ipv6_fragment(
    src: str,
    dst: str,
    proto: int,
    data: bytes,
    *,
    offset: int,
    more: bool,
    ident: int,
    ext: Sequence[Ext] = (),
) -> bytes:
    """One IPv6 fragment; ``ext`` are the unfragmentable headers before the fragment header."""
    return ipv6(src, dst, proto, data, ext=[*ext, frag_header(offset, more, ident)], fix_l4_checksum=False)


def fragment_ipv4(packet: bytes, size: int) -> list[bytes]:
    """Cuts a whole IPv4 packet into fragments carrying at most ``size`` payload bytes each
    (``size`` is rounded down to a multiple of 8); the header (options included) is copied."""
    size -= size % 8
    ihl = (packet[0] & 0x0F) * 4
    header, payload = packet[:ihl], packet[ihl:]
    ident = struct.unpack("!H", header[4:6])[0]
    src = str(ipaddress.IPv4Address(header[12:16]))
    dst = str(ipaddress.IPv4Address(header[16:20]))
    proto = header[9]
    options = header[20:]
    out = []
    for off in range(0, len(payload), size):
        chunk = payload[off : off + size]
        more = off + size < len(payload)
        out.append(
            ipv4(
                src,
                dst,
                proto,
                chunk,
                ident=ident,
                ttl=header[8],
                mf=more,
                frag_offset=off,
                options=options,
                fix_l4_checksum=False,
            )
        )
    return out


def fragment_ipv6(packet: bytes, size: int, ident: int = 0x1234) -> list[bytes]:
    """Cuts a whole IPv6 packet (without extension headers) into fragments of at most
    ``size`` payload bytes (rounded down to a multiple of 8)."""
    size -= size % 8
    proto = packet[6]
    src = str(ipaddress.IPv6Address(packet[8:24]))
    dst = str(ipaddress.IPv6Address(packet[24:40]))
    payload = packet[40:]
    out = []
    for off in range(0, len(payload), size):
        chunk = payload[off : off + size]
        more = off + size < len(payload)
        out.append(ipv6_fragment(src, dst, proto, chunk, offset=off, more=more, ident=ident))
    return out


# --------------------------------------------------------------------------- layer 4


def tcp_options(
    *,
    mss: int | None = 1460,
    wscale: int | None = 7,
    sack_permitted: bool = True,
    timestamps: tuple[int, int] | None = (1, 0),
) -> bytes:
    out = b""
    if mss is not None:
        out += struct.pack("!BBH", 2, 4, mss)
    if sack_permitted:
        out += b"\x04\x02"
    if timestamps is not None:
        out += struct.pack("!BBII", 8, 10, *timestamps)
    if wscale is not None:
        out += b"\x01" + struct.pack("!BBB", 3, 3, wscale)
    while len(out) % 4:
        out += b"\x01"  # NOP
    return out


def tcp_flags(text: str) -> int:
    value = 0
    for ch in text.upper():
        value |= TCP_FLAG_BITS[ch]
    return value


def tcp(
    sport: int,
    dport: int,
    *,
    flags: str | int = "S",
    seq: int = 0,
    ack: int = 0,
    window: int = 65535,
    options: bytes = b"",
    payload: bytes = b"",
    urgent: int = 0,
) -> bytes:
    """A TCP segment (checksum left to the IP builder)."""
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)
    bits = tcp_flags(flags) if isinstance(flags, str) else flags
    offset = (20 + len(options)) // 4
    header = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, offset << 4, bits, window, 0, urgent
    )
    return header + options + payload


def udp(sport: int, dport: int, payload: bytes = b"") -> bytes:
    """A UDP datagram (checksum left to the IP builder)."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def icmp(type_: int = 8, code: int = 0, *, ident: int = 1, seq: int = 1, payload: bytes = b"ping") -> bytes:
    """An ICMPv4 message (echo by default) with its checksum."""
    body = struct.pack("!BBHHH", type_, code, 0, ident, seq) + payload
    return body[:2] + struct.pack("!H", inet_checksum(body)) + body[4:]


def icmpv6(
    type_: int = 128, code: int = 0, *, ident: int = 1, seq: int = 1, payload: bytes = b"ping"
) -> bytes:
    """An ICMPv6 message (echo request by default); the IPv6 builder fills the checksum."""
    return struct.pack("!BBHHH", type_, code, 0, ident, seq) + payload


def sctp_chunk(chunk_type: int, value: bytes, flags: int = 0) -> bytes:
    chunk = struct.pack("!BBH", chunk_type, flags, 4 + len(value)) + value
    if len(chunk) % 4:
        chunk += b"\x00" * (4 - len(chunk) % 4)
    return chunk


def sctp_init(initiate_tag: int = 0x11223344) -> bytes:
    return sctp_chunk(1, struct.pack("!IIHHI", initiate_tag, 65536, 10, 10, 1))


def sctp_data(data: bytes, tsn: int = 1, stream: int = 0, ppid: int = 0) -> bytes:
    return sctp_chunk(0, struct.pack("!IHHI", tsn, stream, 0, ppid) + data, flags=0x03)


def sctp(sport: int, dport: int, chunks: Sequence[bytes], vtag: int = 0) -> bytes:
    """An SCTP packet with its CRC-32C checksum."""
    body = struct.pack("!HHII", sport, dport, vtag, 0) + b"".join(chunks)
    return body[:8] + struct.pack("<I", crc32c(body)) + body[12:]


# --------------------------------------------------------------------------- tunnels


def gre(
    payload: bytes,
    protocol: int = ETH_IPV4,
    *,
    key: int | None = None,
    seq: int | None = None,
    checksum: bool = False,
) -> bytes:
    """A GRE (RFC 2784/2890) header and payload; goes in IP protocol 47."""
    flags = (
        (0x8000 if checksum else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    )
    header = struct.pack("!HH", flags, protocol)
    fields = b""
    if checksum:
        fields += b"\x00\x00\x00\x00"
    if key is not None:
        fields += struct.pack("!I", key)
    if seq is not None:
        fields += struct.pack("!I", seq)
    out = header + fields + payload
    if checksum:
        csum = inet_checksum(out)
        out = out[:4] + struct.pack("!H", csum) + out[6:]
    return out


def gre_pptp(
    ppp_frame: bytes, *, call_id: int = 0x4000, seq: int | None = 1, ack: int | None = None
) -> bytes:
    """Enhanced GRE (version 1, RFC 2637) as PPTP uses it, carrying a PPP frame."""
    flags = 0x2000 | 0x0001  # key present, version 1
    if seq is not None:
        flags |= 0x1000
    if ack is not None:
        flags |= 0x0080
    out = struct.pack("!HHHH", flags, 0x880B, len(ppp_frame), call_id)
    if seq is not None:
        out += struct.pack("!I", seq)
    if ack is not None:
        out += struct.pack("!I", ack)
    return out + ppp_frame


def erspan_ii(frame: bytes, *, session_id: int = 100, seq: int = 1, vlan: int = 0, index: int = 0) -> bytes:
    """GRE (with sequence number) + ERSPAN type II header + the mirrored Ethernet frame."""
    header = struct.pack("!HHI", (1 << 12) | (vlan & 0x0FFF), session_id & 0x3FF, index & 0xFFFFF)
    return gre(header + frame, 0x88BE, seq=seq)


def erspan_i(frame: bytes) -> bytes:
    """ERSPAN type I: GRE protocol 0x88BE without a sequence number and no ERSPAN header."""
    return gre(frame, 0x88BE)


def erspan_iii(
    frame: bytes, *, session_id: int = 100, seq: int = 1, timestamp: int = 0, platform_subheader: bool = False
) -> bytes:
    """GRE (with sequence number) + ERSPAN type III header (+ optional 8-byte platform
    specific subheader, O bit set) + the mirrored Ethernet frame."""
    word0 = (2 << 28) | (0 << 16) | (session_id & 0x3FF)
    word2_hi = 0  # SGT
    last = 0x01 if platform_subheader else 0x00  # ... Gra (2 bits), O (1 bit)
    header = struct.pack("!IIHBB", word0, timestamp, word2_hi, 0x00, last)
    if platform_subheader:
        header += struct.pack("!II", (3 << 26), 0)
    return gre(header + frame, 0x22EB, seq=seq)


def gtp_u(
    inner: bytes, *, teid: int = 0x11223344, extension: bool = False, sequence: int | None = None
) -> bytes:
    """A GTPv1-U G-PDU carrying an IP packet; ``extension`` adds a PDU session container."""
    flags = 0x30
    opt = b""
    ext = b""
    if extension or sequence is not None:
        if extension:
            flags |= 0x04
        if sequence is not None:
            flags |= 0x02
        next_type = 0x85 if extension else 0
        opt = struct.pack("!HBB", sequence or 0, 0, next_type)
        if extension:
            ext = bytes([1, 0x10, 0x09, 0])  # length 1 (4 bytes), UL PDU session info, QFI 9, no next
    body = opt + ext + inner
    return struct.pack("!BBHI", flags, 0xFF, len(body), teid) + body


def vxlan(frame: bytes, vni: int = 42) -> bytes:
    return struct.pack("!BxxxI", 0x08, vni << 8) + frame


def geneve(payload: bytes, protocol: int = ETH_TEB, *, vni: int = 42, options: bytes = b"") -> bytes:
    if len(options) % 4:
        raise ValueError("Geneve options are multiples of 4 bytes")
    return struct.pack("!BBHI", len(options) // 4, 0, protocol, vni << 8) + options + payload


def geneve_option(opt_class: int = 0x0102, opt_type: int = 0x01, data: bytes = b"\x00\x00\x00\x01") -> bytes:
    return struct.pack("!HBB", opt_class, opt_type, len(data) // 4) + data


def teredo(ipv6_packet: bytes, *, origin: tuple[int, str] | None = None) -> bytes:
    """A Teredo UDP payload: optional origin indication (port, IPv4, both obfuscated), then IPv6."""
    head = b""
    if origin is not None:
        port, addr = origin
        head = b"\x00\x00" + struct.pack("!H", port ^ 0xFFFF) + bytes(b ^ 0xFF for b in ip4(addr))
    return head + ipv6_packet


def l2tp_v2(
    ppp_frame: bytes,
    *,
    tunnel_id: int = 7,
    session_id: int = 9,
    with_length: bool = False,
    ns_nr: tuple[int, int] | None = None,
) -> bytes:
    """An L2TPv2 data message (UDP port 1701) carrying a PPP frame."""
    flags = 0x0002
    fields = b""
    if with_length:
        flags |= 0x4000
    if ns_nr is not None:
        flags |= 0x0800
    body = struct.pack("!HH", tunnel_id, session_id)
    if ns_nr is not None:
        body += struct.pack("!HH", *ns_nr)
    if with_length:
        fields = struct.pack("!H", 2 + 2 + len(body) + len(ppp_frame))
    return struct.pack("!H", flags) + fields + body + ppp_frame


def tzsp(frame: bytes, *, encapsulation: int = 1, tags: bytes = b"") -> bytes:
    """A TZSP (UDP port 37008) received-packet message: version 1, type 0, then tagged
    fields ending with the end tag (1), then the frame (encapsulation 1 = Ethernet,
    18 = 802.11)."""
    return struct.pack("!BBH", 1, 0, encapsulation) + tags + b"\x01" + frame


def capwap_data(frame: bytes, *, wbid: int = 1, native: bool = False, radio_id: int = 0) -> bytes:
    """A CAPWAP data packet (UDP port 5247), 8-byte header (HLEN 2), carrying an 802.3
    frame (T=0) or a native 802.11 frame (T=1)."""
    hlen = 2
    word = (0 << 24) | (hlen << 19) | (radio_id << 14) | (wbid << 9) | ((1 if native else 0) << 8)
    return struct.pack("!II", word, 0) + frame


def ieee80211_data(packet: bytes, *, to_ds: bool = True, qos: bool = False) -> bytes:
    """An unprotected 802.11 data frame carrying an IP packet in LLC/SNAP."""
    subtype = 8 if qos else 0
    fc0 = (subtype << 4) | (2 << 2)
    fc1 = 0x01 if to_ds else 0x02
    header = bytes([fc0, fc1]) + b"\x00\x00" + mac(MAC_B) + mac(MAC_A) + mac(MAC_B) + b"\x00\x00"
    if qos:
        header += b"\x00\x00"
    ethertype = ETH_IPV6 if packet[0] >> 4 == 6 else ETH_IPV4
    return header + b"\xaa\xaa\x03\x00\x00\x00" + struct.pack("!H", ethertype) + packet


def link_radiotap(frame: bytes) -> bytes:
    """A minimal radiotap header (no fields present) before an 802.11 frame (link type 127)."""
    return struct.pack("<BBHI", 0, 0, 8, 0) + frame


def link_ppi(frame: bytes, dlt: int = 105) -> bytes:
    """A minimal PPI header (no fields) before a frame of link type ``dlt`` (link type 192)."""
    return struct.pack("<BBHI", 0, 0, 8, dlt) + frame


# --------------------------------------------------------------------------- captures


@dataclass(frozen=True)
class Frame:
    """A captured frame: timestamp in ns, its bytes, its wire length (default: its length)."""

    ts_ns: int
    data: bytes
    wire_len: int | None = None

    @property
    def orig_len(self) -> int:
        return self.wire_len if self.wire_len is not None else len(self.data)


def _as_frame(item: Frame | tuple[int, bytes]) -> Frame:
    return item if isinstance(item, Frame) else Frame(item[0], item[1])


def pcap_bytes(
    frames: Iterable[Frame | tuple[int, bytes]],
    *,
    linktype: int = LINKTYPE_ETHERNET,
    nanosecond: bool = False,
    big_endian: bool = False,
    snaplen: int = 65535,
    modified: bool = False,
) -> bytes:
    """A classic pcap file. Frames longer than ``snaplen`` are cut (caplen < wire length).
    ``linktype`` is the whole 32-bit field (FCS information may sit in its upper bits);
    ``modified`` writes Alexey Kuznetzov's variant (magic a1b2cd34, 24-byte record headers)."""
    e = ">" if big_endian else "<"
    magic = 0xA1B2CD34 if modified else 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    out = bytearray(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
    for item in frames:
        f = _as_frame(item)
        sec, frac_ns = divmod(f.ts_ns, 1_000_000_000)
        frac = frac_ns if nanosecond and not modified else frac_ns // 1000
        data = f.data[:snaplen]
        out += struct.pack(e + "IIII", sec, frac, len(data), f.orig_len)
        if modified:
            out += struct.pack(e + "IHBx", 2, ETH_IPV4, 0)  # ifindex, protocol, packet type
        out += data
    return bytes(out)


@dataclass(frozen=True)
class PcapRecord:
    """One record of a classic pcap file as written: time fields, lengths, the bytes."""

    sec: int
    frac: int
    caplen: int
    orig_len: int
    data: bytes


def read_pcap(raw: bytes) -> tuple[str, int, list[PcapRecord]]:
    """A classic pcap file's byte order (``<`` or ``>``), link type and records, for checking
    what was written or replaying it; a file cut short ends the records. Other formats:
    ValueError."""
    orders = {
        b"\xd4\xc3\xb2\xa1": "<",
        b"\x4d\x3c\xb2\xa1": "<",
        b"\xa1\xb2\xc3\xd4": ">",
        b"\xa1\xb2\x3c\x4d": ">",
    }
    e = orders.get(raw[:4])
    if e is None or len(raw) < 24:
        raise ValueError("not a classic pcap file")
    linktype = struct.unpack(e + "I", raw[20:24])[0]
    pos, records = 24, []
    while pos + 16 <= len(raw):
        sec, frac, caplen, orig_len = struct.unpack(e + "IIII", raw[pos : pos + 16])
        data = raw[pos + 16 : pos + 16 + caplen]
        if len(data) < caplen:
            break
        records.append(PcapRecord(sec, frac, caplen, orig_len, data))
        pos += 16 + caplen
    return e, linktype, records


def write_pcap(path: str | Path, frames: Iterable[Frame | tuple[int, bytes]], **kwargs: object) -> Path:
    path = Path(path)
    path.write_bytes(pcap_bytes(frames, **kwargs))  # type: ignore[arg-type]
    return path


@dataclass(frozen=True)
class Interface:
    """A pcapng interface. ``tsresol`` is the if_tsresol byte (6 = µs, 9 = ns, 0x80|n = 2^-n);
    None omits the option (µs)."""

    linktype: int = LINKTYPE_ETHERNET
    snaplen: int = 0
    tsresol: int | None = None
    tsoffset: int | None = None
    name: str | None = None

    def units_per_second(self) -> int:
        r = 6 if self.tsresol is None else self.tsresol
        return 2 ** (r & 0x7F) if r & 0x80 else 10**r


@dataclass(frozen=True)
class EPB:
    """An enhanced packet block; ``flags`` adds an epb_flags option after the data."""

    interface: int
    frame: Frame
    flags: int | None = None


@dataclass(frozen=True)
class PB:
    """The obsolete packet block (type 2)."""

    interface: int
    frame: Frame


@dataclass(frozen=True)
class SPB:
    """A simple packet block (interface 0, no timestamp)."""

    frame: Frame


@dataclass(frozen=True)
class RawBlock:
    """Any other block, written as is (to check readers skip what they do not know)."""

    block_type: int
    body: bytes


@dataclass
class Section:
    interfaces: list[Interface]
    blocks: list[EPB | PB | SPB | RawBlock] = field(default_factory=list)
    big_endian: bool = False


def _pad4(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 4)


def _option(e: str, code: int, value: bytes) -> bytes:
    return struct.pack(e + "HH", code, len(value)) + _pad4(value)


def _block(e: str, block_type: int, body: bytes) -> bytes:
    body = _pad4(body)
    total = 12 + len(body)
    return struct.pack(e + "II", block_type, total) + body + struct.pack(e + "I", total)


def pcapng_bytes(sections: Sequence[Section]) -> bytes:
    out = bytearray()
    for sec in sections:
        e = ">" if sec.big_endian else "<"
        shb_body = struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)
        shb_body += _option(e, 4, b"netsonde pcapgen") + _option(e, 0, b"")
        out += _block(e, 0x0A0D0D0A, shb_body)
        for iface in sec.interfaces:
            body = struct.pack(e + "HHI", iface.linktype, 0, iface.snaplen)
            opts = b""
            if iface.name is not None:
                opts += _option(e, 2, iface.name.encode())
            if iface.tsresol is not None:
                opts += _option(e, 9, bytes([iface.tsresol]))
            if iface.tsoffset is not None:
                opts += _option(e, 14, struct.pack(e + "q", iface.tsoffset))
            if opts:
                opts += _option(e, 0, b"")
            out += _block(e, 1, body + opts)
        for blk in sec.blocks:
            if isinstance(blk, (EPB, PB)):
                iface = sec.interfaces[blk.interface]
                f = blk.frame
                ts_ns = f.ts_ns - (iface.tsoffset or 0) * 1_000_000_000
                units = ts_ns * iface.units_per_second() // 1_000_000_000
                data = f.data[: iface.snaplen] if iface.snaplen else f.data
                if isinstance(blk, EPB):
                    head = struct.pack(e + "I", blk.interface)
                else:
                    head = struct.pack(e + "HH", blk.interface, 0)  # interface, drops count
                body = head + struct.pack(e + "IIII", units >> 32, units & 0xFFFFFFFF, len(data), f.orig_len)
                opts = b""
                if isinstance(blk, EPB) and blk.flags is not None:
                    opts = _option(e, 2, struct.pack(e + "I", blk.flags)) + _option(e, 0, b"")
                out += _block(e, 6 if isinstance(blk, EPB) else 2, body + _pad4(data) + opts)
            elif isinstance(blk, SPB):
                iface = sec.interfaces[0]
                f = blk.frame
                data = f.data[: iface.snaplen] if iface.snaplen else f.data
                out += _block(e, 3, struct.pack(e + "I", f.orig_len) + _pad4(data))
            else:
                out += _block(e, blk.block_type, blk.body)
    return bytes(out)


def write_pcapng(path: str | Path, sections: Sequence[Section]) -> Path:
    path = Path(path)
    path.write_bytes(pcapng_bytes(sections))
    return path


# --------------------------------------------------------------------------- conversations


def tcp_conversation(
    client: str,
    server: str,
    cport: int,
    sport: int,
    *,
    t0_ns: int = 0,
    step_ns: int = 1_000_000,
    isn: int = 1000,
    server_isn: int = 5000,
    request: bytes = b"GET / HTTP/1.0\r\n\r\n",
    response: bytes = b"HTTP/1.0 200 OK\r\n\r\n",
    close: str = "fin",
) -> list[tuple[int, bool, bytes]]:
    """A whole TCP connection as (ts_ns, from_client, ip_packet) items: handshake, a request,
    a response, then FINs both ways (``close="fin"``), a RST (``"rst"``) or nothing."""
    c_seq, s_seq = isn, server_isn
    items: list[tuple[int, bool, bytes]] = []

    def add(from_client: bool, seg: bytes) -> None:
        t = t0_ns + len(items) * step_ns
        s, d = (client, server) if from_client else (server, client)
        items.append((t, from_client, ip_packet(s, d, PROTO_TCP, seg)))

    add(True, tcp(cport, sport, flags="S", seq=c_seq, options=tcp_options()))
    add(False, tcp(sport, cport, flags="SA", seq=s_seq, ack=c_seq + 1, options=tcp_options()))
    c_seq += 1
    s_seq += 1
    add(True, tcp(cport, sport, flags="A", seq=c_seq, ack=s_seq))
    add(True, tcp(cport, sport, flags="PA", seq=c_seq, ack=s_seq, payload=request))
    c_seq += len(request)
    add(False, tcp(sport, cport, flags="PA", seq=s_seq, ack=c_seq, payload=response))
    s_seq += len(response)
    if close == "fin":
        add(True, tcp(cport, sport, flags="FA", seq=c_seq, ack=s_seq))
        add(False, tcp(sport, cport, flags="FA", seq=s_seq, ack=c_seq + 1))
        add(True, tcp(cport, sport, flags="A", seq=c_seq + 1, ack=s_seq + 1))
    elif close == "rst":
        add(True, tcp(cport, sport, flags="R", seq=c_seq))
    return items
