//! DNS, mDNS and LLMNR (one wire format): query name and type, response code, answers.
//! Answers feed the engine's DNS cache, so later flows to the answered addresses can be
//! classified by the name that was asked for.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub QUERY = "dns.query", Str, Identifier, "Name asked for in the first question";
    pub QTYPE = "dns.qtype", Int, Usage, "Type of the first question (1 = A, 28 = AAAA, …)";
    pub RCODE = "dns.rcode", Int, Service, "Response code of the first response (0 = no error)";
    pub ANSWERS = "dns.answers", StrList, Content, "Addresses and names in the first response's answers";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&QUERY, &QTYPE, &RCODE, &ANSWERS];

crate::events! {
    pub QUERY_EVENT = "dns.query", "Each query message", ["dns.query", "dns.qtype"];
    pub RESPONSE_EVENT = "dns.response", "Each response message", ["dns.query", "dns.qtype", "dns.rcode", "dns.answers"];
}

pub static EVENTS: &[&crate::metadata::EventSpec] = &[&QUERY_EVENT, &RESPONSE_EVENT];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DNS,
    transports: Transports::TCP_UDP,
    tcp_ports: &[53],
    udp_ports: &[53, 5353, 5355],
    inspect,
};

/// Compression pointers followed per name before it is declared malformed.
const MAX_POINTERS: usize = 16;
const MAX_NAME_LEN: usize = 255;
const MAX_ANSWERS: usize = 32;
/// Messages (the detecting one and five more) whose question renames the flow.
const NAME_FOLLOWS_PACKETS: u16 = 6;

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

/// Reads a (possibly compressed) name at `at`; returns it and the offset after it.
/// Bytes outside printable ASCII read as '?' (host names are ASCII; IDNs travel as punycode).
pub fn read_name(msg: &[u8], at: usize) -> Option<(String, usize)> {
    read_name_as(msg, at, Labels::Ascii)
}

#[derive(Clone, Copy, PartialEq)]
enum Labels {
    Ascii,
    /// mDNS names are UTF-8 text (RFC 6762 §16): DNS-SD service instance names such as
    /// "Luca’s iMac" carry spaces and any Unicode character (RFC 6763 §4.1.1).
    Text,
}

fn read_name_as(msg: &[u8], mut at: usize, labels: Labels) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(at)?;
        match len {
            0 => {
                return Some((name, end.unwrap_or(at + 1)));
            }
            l if l & 0xC0 == 0xC0 => {
                let ptr = usize::from(be16(msg, at)? & 0x3FFF);
                end.get_or_insert(at + 2);
                jumps += 1;
                if jumps > MAX_POINTERS || ptr >= msg.len() {
                    return None;
                }
                at = ptr;
            }
            l if l & 0xC0 == 0 => {
                let label = msg.get(at + 1..at + 1 + usize::from(l))?;
                if !name.is_empty() {
                    name.push('.');
                }
                match labels {
                    Labels::Ascii => name.extend(label.iter().map(|&b| {
                        if b.is_ascii_graphic() {
                            char::from(b.to_ascii_lowercase())
                        } else {
                            '?'
                        }
                    })),
                    Labels::Text => push_text_label(&mut name, label),
                }
                if name.len() > MAX_NAME_LEN {
                    return None;
                }
                at += 1 + usize::from(l);
            }
            _ => return None,
        }
    }
}

/// Appends a UTF-8 label: ASCII lowercased, control characters and bytes that are not
/// UTF-8 as '?'.
fn push_text_label(name: &mut String, label: &[u8]) {
    for chunk in label.utf8_chunks() {
        name.extend(chunk.valid().chars().map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c.to_ascii_lowercase()
            } else if c.is_ascii() || c.is_control() {
                '?'
            } else {
                c
            }
        }));
        name.extend(chunk.invalid().iter().map(|_| '?'));
    }
}

struct Header {
    flags: u16,
    response: bool,
    opcode: u8,
    rcode: u8,
    qd: u16,
    an: u16,
    ns: u16,
    ar: u16,
}

fn header(msg: &[u8]) -> Option<Header> {
    let flags = be16(msg, 2)?;
    Some(Header {
        flags,
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xF) as u8,
        rcode: (flags & 0xF) as u8,
        qd: be16(msg, 4)?,
        an: be16(msg, 6)?,
        ns: be16(msg, 8)?,
        ar: be16(msg, 10)?,
    })
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let ports = [ins.flow.client_port, ins.flow.server_port];
    let proto = if ports.contains(&5353) {
        id::MDNS
    } else if ports.contains(&5355) {
        id::LLMNR
    } else {
        id::DNS
    };
    // Anywhere, a whole well-formed message is DNS. On the DNS ports a plausible header is
    // enough: messages there may be truncated or damaged past it and still be DNS (as nDPI
    // reports them), while elsewhere a damaged message could be any binary protocol.
    let lenient = ports.iter().any(|p| matches!(p, 53 | 5353 | 5355));
    let tcp = ins.flow.l4 == 6;
    // DNS over TCP carries a 2-byte length before each message.
    let msg = if tcp {
        let Some(len) = be16(ins.data, 0) else {
            return Verdict::Continue;
        };
        match ins.data.get(2..2 + usize::from(len)) {
            Some(m) => m,
            // Wait for the rest of the message only while what arrived can start one: the
            // length prefix may be some other protocol's field.
            None if ins.data.len() < 2 + usize::from(len) => {
                return match ins.data.get(2..).and_then(header) {
                    Some(h) if !plausible(&h, usize::from(len)) => Verdict::Exclude,
                    _ => Verdict::Continue,
                };
            }
            None => return Verdict::Exclude,
        }
    } else {
        ins.data
    };
    // A message cut short of its header (a truncated capture) says nothing either way.
    let Some(h) = header(msg) else {
        return if lenient {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    };
    // A response may carry answers alone (mDNS announcements have no question section).
    let answers_only = h.response && h.qd == 0 && h.an > 0;
    // Records must fit a TCP message (its length prefix may be another protocol's field)
    // and a response without a question, away from the DNS ports.
    if (tcp || answers_only) && !lenient && !plausible(&h, msg.len()) {
        return Verdict::Exclude;
    }
    let well_formed =
        h.opcode <= 6 && (h.qd > 0 || answers_only) && h.qd <= 16 && (h.response || h.an <= 16);
    let labels = if proto == id::MDNS {
        Labels::Text
    } else {
        Labels::Ascii
    };
    let question = read_name_as(msg, 12, labels).and_then(|(name, after)| {
        let qtype = be16(msg, after)?;
        be16(msg, after + 2)?;
        Some((name, after, qtype))
    });
    // A response whose counts were damaged still shows DNS when its question is whole.
    let damaged_counts = h.response && matches!(h.opcode, 0..=2 | 4..=6) && question.is_some();
    if !(well_formed || lenient && (plausible_header(&h) || damaged_counts)) {
        return Verdict::Exclude;
    }
    let Some((qname, after, qtype)) = question.filter(|_| h.qd > 0 || answers_only) else {
        // A damaged question (or none) under a DNS header on a DNS port, or under a
        // standard query's header (one question, nothing else but an EDNS record), is still
        // DNS: the next message may be whole.
        if lenient || standard_query_header(&h) {
            ins.detect(proto);
            return Verdict::Continue;
        }
        return Verdict::Exclude;
    };
    // Without a question the first record is an answer: its data must fit the message.
    if answers_only
        && !be16(msg, after + 8).is_some_and(|rdlen| msg.len() >= after + 10 + usize::from(rdlen))
    {
        if lenient {
            ins.detect(proto);
            return Verdict::Continue;
        }
        return Verdict::Exclude;
    }
    ins.detect(proto);
    if tcp {
        ins.consume(2 + msg.len());
    }
    let qname_event = qname.clone();
    let first_name = !st.meta.has(&QUERY);
    // The flow's name follows the question of each of its first few messages, up to the
    // first response with answers: a flow that asks several names is named by the one that
    // got the answer (what nDPI reports too).
    if !qname.is_empty() && (first_name || ins.packet_no <= NAME_FOLLOWS_PACKETS) {
        if first_name && proto == id::DNS {
            ins.app_from_host(&qname);
        }
        st.meta.replace(&QUERY, MetaValue::Str(qname));
        st.meta.replace(&QTYPE, MetaValue::Int(i64::from(qtype)));
    }
    let question = [
        (QUERY.name, MetaValue::Str(qname_event)),
        (QTYPE.name, MetaValue::Int(i64::from(qtype))),
    ];
    if h.response {
        st.set(&RCODE, MetaValue::Int(i64::from(h.rcode)));
        let answers = if answers_only {
            read_answers(msg, 12, 1, h.an)
        } else {
            read_answers(msg, after + 4, h.qd, h.an)
        };
        if st.events.wants(&RESPONSE_EVENT) {
            let mut attrs = question.to_vec();
            attrs.push((RCODE.name, MetaValue::Int(i64::from(h.rcode))));
            attrs.push((ANSWERS.name, MetaValue::List(answers.clone())));
            st.events.emit(&RESPONSE_EVENT, attrs);
        }
        if !st.meta.has(&ANSWERS) && !answers.is_empty() {
            st.set(&ANSWERS, MetaValue::List(answers));
        }
        // Over TCP more messages may follow. Over UDP a response with records ends what
        // there is to learn, and so does one that opens the flow; an empty one (a bare
        // NXDOMAIN) to an earlier query leaves the flow's name open.
        let empty = u32::from(h.an) + u32::from(h.ns) + u32::from(h.ar) == 0;
        return if tcp || (empty && !first_name && ins.packet_no < NAME_FOLLOWS_PACKETS) {
            Verdict::Continue
        } else {
            Verdict::Done
        };
    }
    st.events.emit(&QUERY_EVENT, question.to_vec());
    Verdict::Continue
}

/// A header that can begin a DNS message: at most 16 questions and, for a query, the flag
/// bits of a standard query (opcode QUERY, no authoritative answer, recursion-available or
/// reserved bits), an inverse query, a NOTIFY or an UPDATE, or no answer or authority
/// records. Responses also need a defined opcode. Damaged sections after it are tolerated.
fn plausible_header(h: &Header) -> bool {
    if h.qd > 16 {
        return false;
    }
    if h.response {
        return matches!(h.opcode, 0..=2 | 4..=6);
    }
    let standard = h.opcode == 0 && h.flags & 0x04F0 == 0;
    standard || matches!(h.opcode, 1 | 4 | 5) || (h.an == 0 && h.ns == 0 && h.opcode <= 6)
}

/// The header of a standard query: opcode QUERY, one question, no answer or authority
/// records, at most one additional record (EDNS), no response code.
/// Whether a header's opcode and section counts can describe a message of `len` bytes: a
/// question takes at least 5 bytes (root name, type, class) and a record at least 11.
fn plausible(h: &Header, len: usize) -> bool {
    let records = usize::from(h.an) + usize::from(h.ns) + usize::from(h.ar);
    h.opcode <= 6 && 12 + 5 * usize::from(h.qd) + 11 * records <= len
}

fn standard_query_header(h: &Header) -> bool {
    !h.response && h.opcode == 0 && h.rcode == 0 && h.qd == 1 && h.an == 0 && h.ns == 0 && h.ar <= 1
}

/// Addresses (A, AAAA) and names (CNAME, PTR) of the answer section.
fn read_answers(msg: &[u8], mut at: usize, qd: u16, an: u16) -> Vec<String> {
    // Skip the remaining questions.
    for _ in 1..qd {
        match read_name(msg, at) {
            Some((_, next)) => at = next + 4,
            None => return Vec::new(),
        }
    }
    let mut out = Vec::new();
    for _ in 0..usize::from(an).min(MAX_ANSWERS) {
        let Some((_, next)) = read_name(msg, at) else {
            break;
        };
        let (Some(rtype), Some(rdlen)) = (be16(msg, next), be16(msg, next + 8)) else {
            break;
        };
        let rdata_at = next + 10;
        let Some(rdata) = msg.get(rdata_at..rdata_at + usize::from(rdlen)) else {
            break;
        };
        match (rtype, rdata.len()) {
            (1, 4) => {
                let a: [u8; 4] = rdata.try_into().unwrap_or_default();
                out.push(std::net::Ipv4Addr::from(a).to_string());
            }
            (28, 16) => {
                let a: [u8; 16] = rdata.try_into().unwrap_or_default();
                out.push(crate::decode::format_ip(6, &a));
            }
            (5 | 12, _) => {
                if let Some((n, _)) = read_name(msg, rdata_at) {
                    out.push(n);
                }
            }
            _ => {}
        }
        at = rdata_at + usize::from(rdlen);
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod answer_only_tests {
    use super::super::harness::Conv;
    use super::*;

    /// An mDNS announcement: a response with no question and one PTR answer.
    const ANNOUNCE: &[u8] = b"\x00\x00\x84\x00\x00\x00\x00\x01\x00\x00\x00\x00\
\x05_dacp\x04_tcp\x05local\x00\x00\x0c\x00\x01\x00\x00\x11\x94\x00\x05\x02ab\xc0\x0c";

    #[test]
    fn mdns_announcement_without_question() {
        let mut c = Conv::udp(&DISSECTOR, 5353, 5353);
        c.client(ANNOUNCE);
        assert_eq!(c.name(), "MDNS");
        assert_eq!(c.meta(&QUERY).as_deref(), Some("_dacp._tcp.local"));
        assert_eq!(c.meta(&ANSWERS).as_deref(), Some("ab._dacp._tcp.local"));
    }

    #[test]
    fn damaged_name_under_a_standard_query_header() {
        let mut c = Conv::udp(&DISSECTOR, 40000, 53);
        c.client(
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03abc\x69xy\x00\x00\x01\x00\x01",
        );
        assert_eq!(c.name(), "DNS");
        assert_eq!(c.meta(&QUERY), None);
        // Off the DNS ports the header must be a standard query's for a damaged name.
        let mut c = Conv::udp(&DISSECTOR, 40000, 5300);
        c.client(
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03abc\x69xy\x00\x00\x01\x00\x01",
        );
        assert_eq!(c.name(), "DNS");
        let mut c = Conv::udp(&DISSECTOR, 40000, 5300);
        c.client(
            b"\x12\x34\x01\x00\x00\x01\x00\x05\x00\x00\x00\x00\x03abc\x69xy\x00\x00\x01\x00\x01",
        );
        assert_eq!(c.name(), "Unknown");
    }

    /// A query whose counts were damaged (32768 answers) keeps a standard query's flags.
    const DAMAGED_QUERY: &[u8] = b"\xed\xd4\x01\x00\x00\x01\x80\x00\x00\x52\x00\x00\
\x03ftp\x07example\x03com\x00\x00\x01\x00\x01";

    #[test]
    fn damaged_counts_under_standard_query_flags() {
        let mut c = Conv::udp(&DISSECTOR, 2719, 53);
        c.client(DAMAGED_QUERY);
        assert_eq!(c.name(), "DNS");
        assert_eq!(c.meta(&QUERY).as_deref(), Some("ftp.example.com"));
    }

    #[test]
    fn damaged_counts_off_the_dns_ports_are_not_enough() {
        let mut c = Conv::udp(&DISSECTOR, 2719, 40000);
        c.client(DAMAGED_QUERY);
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn implausible_headers_are_rejected() {
        // 7169 questions.
        let mut c = Conv::udp(&DISSECTOR, 2758, 53);
        c.client(b"\x47\xf2\x01\x00\x1c\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01");
        assert_eq!(c.name(), "Unknown");
        // A query with the authoritative-answer and reserved bits set, and 512 answers.
        let mut c = Conv::udp(&DISSECTOR, 2758, 53);
        c.client(b"\x47\xf2\x04\x40\x00\x01\x02\x00\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01");
        assert_eq!(c.name(), "Unknown");
        // A response with the unassigned opcode 7.
        let mut c = Conv::udp(&DISSECTOR, 53, 2758);
        c.client(b"\x47\xf2\xb8\x00\x00\x01\x00\x01\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01");
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn response_with_damaged_counts_and_a_whole_question() {
        // 38 questions announced, one whole question present.
        let m = b"\xaf\xf9\x80\x00\x00\x26\x73\x01\x00\x00\x00\x00\x011\x03127\x07in-addr\x04arpa\x00\x00\x0c\x00\x01";
        let mut c = Conv::udp(&DISSECTOR, 53, 2763);
        c.client(m);
        assert_eq!(c.name(), "DNS");
        assert_eq!(c.meta(&QUERY).as_deref(), Some("1.127.in-addr.arpa"));
        // Without a whole question it is not enough.
        let mut c = Conv::udp(&DISSECTOR, 53, 2763);
        c.client(m.get(..20).unwrap_or_default());
        assert_eq!(c.name(), "Unknown");
        // Nor off the DNS ports.
        let mut c = Conv::udp(&DISSECTOR, 40000, 2763);
        c.client(m);
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn a_message_cut_before_its_header_ends_waits_for_the_next() {
        let mut c = Conv::udp(&DISSECTOR, 2754, 53);
        c.client(b"\x7d\xcf\x01\x00\x00\x01\x00\x00\x00");
        assert_eq!(c.name(), "Unknown");
        c.client(DAMAGED_QUERY);
        assert_eq!(c.name(), "DNS");
    }

    #[test]
    fn response_with_a_damaged_question_is_dns() {
        let mut c = Conv::udp(&DISSECTOR, 53, 2572);
        c.client(b"\x3c\x32\x80\x00\x00\x01\x00\x01\xc9\x00\x00\x00\x01\x31\x4a\x69\x6e");
        assert_eq!(c.name(), "DNS");
        assert_eq!(c.meta(&QUERY), None);
    }

    #[test]
    fn answer_overrunning_the_message_gives_no_answers() {
        let cut = ANNOUNCE.get(..ANNOUNCE.len() - 3).unwrap_or_default();
        let mut c = Conv::udp(&DISSECTOR, 5353, 5353);
        c.client(cut);
        assert_eq!(c.name(), "MDNS");
        assert_eq!(c.meta(&ANSWERS), None);
        // Elsewhere it is rejected.
        let mut c = Conv::udp(&DISSECTOR, 40000, 40001);
        c.client(cut);
        assert_eq!(c.name(), "Unknown");
    }

    /// A message with header flags `flags`, one question `name` (PTR), and `records`
    /// answer records (empty owner names, no data) after it.
    fn message(id: u16, flags: u16, name: &[u8], records: u16) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&flags.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&records.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        for label in name.split(|&b| b == b'.') {
            m.push(label.len() as u8);
            m.extend_from_slice(label);
        }
        m.extend_from_slice(&[0, 0, 12, 0, 1]);
        for _ in 0..records {
            m.extend_from_slice(&[0, 0, 12, 0, 1, 0, 0, 0, 60, 0, 0]);
        }
        m
    }

    #[test]
    fn the_flow_is_named_by_the_question_that_got_an_answer() {
        let mut c = Conv::udp(&DISSECTOR, 40000, 53);
        c.client(&message(1, 0x0100, b"a.example", 0));
        c.client(&message(2, 0x0100, b"b.example", 0));
        assert_eq!(c.meta(&QUERY).as_deref(), Some("b.example"));
        c.server(&message(1, 0x8183, b"a.example", 0)); // NXDOMAIN, no records
        assert_eq!(c.meta(&QUERY).as_deref(), Some("a.example"));
        c.server(&message(2, 0x8180, b"b.example", 1));
        c.client(&message(3, 0x0100, b"c.example", 0)); // after the answer: not renamed
        assert_eq!(c.meta(&QUERY).as_deref(), Some("b.example"));
    }

    #[test]
    fn a_flow_opened_by_a_response_keeps_its_name() {
        let mut c = Conv::udp(&DISSECTOR, 53, 40000);
        c.client(&message(1, 0x8180, b"first.example", 0));
        c.client(&message(2, 0x0100, b"second.example", 0));
        assert_eq!(c.meta(&QUERY).as_deref(), Some("first.example"));
    }

    #[test]
    fn mdns_names_are_utf8_text_and_dns_names_ascii() {
        let name = "Luca\u{2019}s iMac._odisk._tcp.local".as_bytes();
        let mut c = Conv::udp(&DISSECTOR, 5353, 5353);
        c.client(&message(0, 0x0000, name, 0));
        assert_eq!(
            c.meta(&QUERY).as_deref(),
            Some("luca\u{2019}s imac._odisk._tcp.local")
        );
        let mut c = Conv::udp(&DISSECTOR, 40000, 53);
        c.client(&message(1, 0x0100, name, 0));
        assert_eq!(
            c.meta(&QUERY).as_deref(),
            Some("luca???s?imac._odisk._tcp.local")
        );
    }

    /// A response without a question whose answers cannot fit the datagram is not DNS
    /// (SOME/IP service discovery looks like a response with 320 answers).
    #[test]
    fn answers_must_fit_the_datagram() {
        let sd =
            b"\xff\xff\x81\x00\x00\x00\x01\x40\x00\x00\x07\xdd\x01\x01\x02\x00\xc0\x00\x00\x00";
        let mut c = Conv::udp(&DISSECTOR, 49190, 49190);
        c.client(sd);
        assert_eq!(c.name(), "Unknown");
    }

    /// A length prefix that is another protocol's field (TPKT: version 3, reserved 0)
    /// must not make DNS wait for 768 bytes and then read the stream as a message.
    #[test]
    fn tcp_length_prefix_of_another_protocol() {
        let mut c = Conv::tcp(&DISSECTOR, 4185, 102);
        c.server(b"\x03\x00\x00\x16\x11\xd0\x00\x07\x00\x03\x00\xc0\x01\x0a\x00\xc1\x02\x01\x00");
        assert!(!c.open);
        assert_eq!(c.name(), "Unknown");
        // A query split over two segments is still awaited.
        let q = b"\x00\x1d\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        let mut c = Conv::tcp(&DISSECTOR, 40000, 53);
        c.client(&q[..10]);
        assert!(c.open);
        c.client(&q[10..]);
        assert_eq!(c.name(), "DNS");
        assert_eq!(c.meta(&QUERY).as_deref(), Some("example.com"));
    }
}
