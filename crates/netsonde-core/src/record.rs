//! The flow record: what a flow becomes when it ends. [`FlowRecord::fields`] is the one
//! place that names and orders the record's fields; JSON, CSV and the Python dict all walk it.

use crate::classify::{application_name, category_name, SignatureSet};
use crate::decode::{write_ip, IpBytes};
use crate::flow::{Expiration, Flow};
use crate::metadata::Metadata;
use crate::text::push_decimal;

/// The attributes naming the server a flow asked for, in order of preference: they fill
/// `requested_server_name`, and a flow carrying one is not given an application by the DNS
/// cache (its own name decides). A `*.name` entry stands for that attribute of any protocol.
pub const SERVER_NAME_ATTRS: &[&str] = &[
    "tls.sni",
    "quic.sni",
    "http.host",
    "dns.query",
    "dhcp.hostname",
    "netbios.name",
    "ssdp.host",
    "stun.realm",
    "smtp.server_name",
    "*.hostname",
];

/// Record fields filled from metadata: the first attribute present wins, in the order
/// given; a `*.name` entry stands for that attribute of any protocol (e.g. the User-Agent
/// that SSDP, RTSP or Gnutella carry).
const PROMOTED: [(&str, &[&str]); 5] = [
    ("requested_server_name", SERVER_NAME_ATTRS),
    (
        "user_agent",
        &["http.user_agent", "quic.user_agent", "*.user_agent"],
    ),
    ("content_type", &["http.content_type", "*.content_type"]),
    ("client_fingerprint", &["tls.ja4", "quic.ja4"]),
    ("server_fingerprint", &["tls.ja3s"]),
];

fn promoted(meta: &[(&'static str, MetaValue)], field: &str) -> Option<String> {
    promoted_from(meta, field).map(|(_, value)| value)
}

/// The promoted value and the attribute it came from.
fn promoted_from(
    meta: &[(&'static str, MetaValue)],
    field: &str,
) -> Option<(&'static str, String)> {
    let (_, names) = PROMOTED.iter().find(|(f, _)| *f == field)?;
    names.iter().find_map(|pattern| {
        meta.iter()
            .find(|(k, _)| match pattern.strip_prefix('*') {
                Some(suffix) => k.ends_with(suffix),
                None => k == pattern,
            })
            .and_then(|(k, v)| match v {
                MetaValue::Str(s) => Some((*k, s.clone())),
                _ => None,
            })
    })
}

/// The server name a flow asked for. An HTTP Host header may carry a `:port`, which is not
/// part of the name; other protocols' values are kept as they are.
fn requested_server_name(meta: &[(&'static str, MetaValue)]) -> Option<String> {
    let (attr, value) = promoted_from(meta, "requested_server_name")?;
    Some(if attr == "http.host" {
        server_name(value)
    } else {
        value
    })
}

/// The server's name without the `:port` a Host header may carry (`example.com:8080`);
/// bracketed and bare IPv6 addresses keep their colons.
fn server_name(host: String) -> String {
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.is_empty()
                && !name.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name.to_string()
        }
        Some((name, port))
            if name.starts_with('[')
                && name.ends_with(']')
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        }
        _ => host,
    }
}

/// A value of an extracted attribute (see `metadata`).
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    Str(String),
    Int(i64),
    List(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct FlowRecord {
    pub id: u64,
    pub expiration: Expiration,
    pub ip_version: u8,
    pub src_ip: IpBytes,
    pub src_port: u16,
    pub dst_ip: IpBytes,
    pub dst_port: u16,
    pub protocol: u8,
    pub vlan_id: u16,
    pub tunnel_id: u8,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
    pub src2dst_packets: u64,
    pub src2dst_bytes: u64,
    pub dst2src_packets: u64,
    pub dst2src_bytes: u64,
    pub src2dst_tcp_flags: u8,
    pub dst2src_tcp_flags: u8,
    pub application_name: String,
    pub application_category_name: String,
    pub application_confidence: &'static str,
    pub requested_server_name: Option<String>,
    pub user_agent: Option<String>,
    pub content_type: Option<String>,
    pub client_fingerprint: Option<String>,
    pub server_fingerprint: Option<String>,
    /// Extracted attributes keyed `protocol.attribute` (names from the attribute
    /// declarations), in extraction order.
    pub metadata: Vec<(&'static str, MetaValue)>,
    /// Names of the risks raised (from [`crate::risks`]).
    pub risks: Vec<&'static str>,
}

/// One field's value, borrowed from the record.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    UInt(u64),
    Int(i64),
    Str(&'a str),
    /// An IP address of the given version, written as text.
    Ip(u8, &'a IpBytes),
    /// TCP flags, written as letters (see [`tcp_flags_text`]).
    TcpFlags(u8),
    Null,
    Metadata(&'a [(&'static str, MetaValue)]),
    /// Names from a declaration (the risks).
    List(&'a [&'static str]),
}

/// A field of the flow record, as declared once in [`FIELDS`].
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    /// One line for the reference page and the docs.
    pub description: &'static str,
}

const fn field(name: &'static str, ty: FieldType, description: &'static str) -> Field {
    Field {
        name,
        ty,
        description,
    }
}

/// The record's fields, in output order: JSON lines, CSV, the Python `Flow`, Arrow and
/// Parquet columns and the reference page all follow this declaration ([`FlowRecord::fields`]
/// gives the values in the same order; a test checks each value against its type).
pub const FIELDS: [Field; 32] = {
    use FieldType::*;
    [
        field("id", UInt64, "Number of the flow, unique in a run (in order of creation with one worker)"),
        field("expiration", Text, "Why the record was made: idle, active, end (a closed TCP connection), eviction (max_flows), end_of_input"),
        field("src_ip", Text, "Address of the client (the initiator: the SYN sender, else the side not on a service port, else the first sender)"),
        field("src_port", UInt16, "Port of the client (0 without ports)"),
        field("dst_ip", Text, "Address of the server"),
        field("dst_port", UInt16, "Port of the server (0 without ports)"),
        field("protocol", UInt8, "IP protocol number (IANA): 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, …"),
        field("ip_version", UInt8, "4 or 6, of the innermost IP header"),
        field("vlan_id", UInt16, "Innermost VLAN id (0: none)"),
        field("tunnel_id", UInt8, "Innermost tunnel, numbered as nDPI and nfstream do (0 none, 1 GTP, 2 CAPWAP, 3 TZSP, 4 L2TP, 5 VXLAN, 6 GRE; 7 on: netsonde's)"),
        field("bidirectional_first_seen_ms", Int64, "Time of the first packet, milliseconds since the epoch"),
        field("bidirectional_last_seen_ms", Int64, "Time of the last packet, milliseconds since the epoch"),
        field("bidirectional_duration_ms", Int64, "Last minus first, milliseconds"),
        field("bidirectional_packets", UInt64, "Packets, both directions"),
        field("bidirectional_bytes", UInt64, "Bytes, both directions: frame lengths on the wire"),
        field("src2dst_packets", UInt64, "Packets from the client"),
        field("src2dst_bytes", UInt64, "Bytes from the client"),
        field("dst2src_packets", UInt64, "Packets from the server"),
        field("dst2src_bytes", UInt64, "Bytes from the server"),
        field("src2dst_tcp_flags", Text, "TCP flags seen from the client, as letters (S A F R P U E C)"),
        field("dst2src_tcp_flags", Text, "TCP flags seen from the server"),
        field("application_name", Text, "Master.App (TLS.YouTube, DNS.Google) or the protocol alone, in nDPI's spelling; Unknown"),
        field("application_category_name", Text, "Category of the application, else of the protocol"),
        field("application_confidence", Text, "How the application was found: DPI, DPI (cache), Match by port, Match by IP, …"),
        field("requested_server_name", OptionalText, "Server name the client asked for: TLS or QUIC SNI, HTTP Host, DNS query, …"),
        field("user_agent", OptionalText, "User agent: HTTP, QUIC, SSDP, …"),
        field("content_type", OptionalText, "Content type: HTTP, …"),
        field("client_fingerprint", OptionalText, "JA4 of the TLS or QUIC client"),
        field("server_fingerprint", OptionalText, "JA3S of the TLS server"),
        field("metadata", Json, "Attributes extracted, keyed protocol.attribute (see Metadata attributes)"),
        field("risks", TextList, "Security risks seen (see Risks)"),
        field("tunnel", Text, "Name of the innermost tunnel: none, GTP, VXLAN, … (tunnel_id numbers it)"),
    ]
};

/// The names of the record's fields, in output order (from [`FIELDS`]).
#[allow(clippy::indexing_slicing)] // Evaluated while compiling: an index out of range fails the build.
pub const FIELD_NAMES: [&str; 32] = {
    let mut names = [""; 32];
    let mut i = 0;
    while i < names.len() {
        names[i] = FIELDS[i].name;
        i += 1;
    }
    names
};

/// The type of each field's values, for columnar output ([`crate::columns`]: Arrow, pandas,
/// Parquet), in output order (from [`FIELDS`]).
#[allow(clippy::indexing_slicing)] // Evaluated while compiling: an index out of range fails the build.
pub const FIELD_TYPES: [FieldType; 32] = {
    let mut types = [FieldType::Text; 32];
    let mut i = 0;
    while i < types.len() {
        types[i] = FIELDS[i].ty;
        i += 1;
    }
    types
};

fn ns_to_ms(ns: i64) -> i64 {
    ns.div_euclid(1_000_000)
}

/// What a field holds, as a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    UInt8,
    UInt16,
    UInt64,
    Int64,
    /// Text, always present.
    Text,
    /// Text or nothing.
    OptionalText,
    /// An object (the metadata), as its JSON text.
    Json,
    /// A list of names (the risks).
    TextList,
}

impl FieldType {
    /// The name the Python bindings map to an Arrow type.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::UInt8 => "uint8",
            FieldType::UInt16 => "uint16",
            FieldType::UInt64 => "uint64",
            FieldType::Int64 => "int64",
            FieldType::Text => "text",
            FieldType::OptionalText => "optional_text",
            FieldType::Json => "json",
            FieldType::TextList => "text_list",
        }
    }
}

/// TCP flags as letters, in the order tcpdump prints them (`S`, `A`, `F`, `R`, `P`, `U`,
/// `E`, `C`).
pub fn tcp_flags_text(flags: u8) -> String {
    let mut out = String::with_capacity(8);
    push_tcp_flags(&mut out, flags);
    out
}

pub(crate) fn push_tcp_flags(out: &mut String, flags: u8) {
    const LETTERS: [(u8, char); 8] = [
        (0x02, 'S'),
        (0x10, 'A'),
        (0x01, 'F'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'C'),
    ];
    for (bit, letter) in LETTERS {
        if flags & bit != 0 {
            out.push(letter);
        }
    }
}

fn opt(s: &Option<String>) -> FieldValue<'_> {
    s.as_deref().map_or(FieldValue::Null, FieldValue::Str)
}

impl FlowRecord {
    /// Builds the record of a flow that ended.
    pub fn from_flow(mut flow: Flow, expiration: Expiration, sigs: &SignatureSet) -> FlowRecord {
        let (class, meta, risks) = match flow.dpi.take() {
            Some(dpi) => {
                let dpi = *dpi;
                (dpi.class, dpi.meta, dpi.risks)
            }
            None => match flow.findings.take() {
                Some(f) => {
                    let f = *f;
                    (flow.class, f.meta.unpack(), f.risks.into_vec())
                }
                None => (flow.class, Metadata::default(), Vec::new()),
            },
        };
        let metadata = meta.into_record();
        let k = &flow.key;
        let (src_ip, src_port, dst_ip, dst_port) = if flow.client_is_lo {
            (k.lo_ip, k.lo_port, k.hi_ip, k.hi_port)
        } else {
            (k.hi_ip, k.hi_port, k.lo_ip, k.lo_port)
        };
        FlowRecord {
            id: flow.id,
            expiration,
            ip_version: k.ip_version,
            src_ip,
            src_port,
            dst_ip,
            dst_port,
            protocol: k.protocol,
            vlan_id: k.vlan_id,
            tunnel_id: k.tunnel.0,
            first_seen_ns: flow.first_seen_ns,
            last_seen_ns: flow.last_seen_ns,
            src2dst_packets: flow.packets[0],
            src2dst_bytes: flow.bytes[0],
            dst2src_packets: flow.packets[1],
            dst2src_bytes: flow.bytes[1],
            src2dst_tcp_flags: flow.tcp_flags[0],
            dst2src_tcp_flags: flow.tcp_flags[1],
            application_name: application_name(&class, sigs),
            application_category_name: category_name(&class, sigs),
            application_confidence: class.confidence.name(),
            requested_server_name: requested_server_name(&metadata),
            user_agent: promoted(&metadata, "user_agent"),
            content_type: promoted(&metadata, "content_type"),
            client_fingerprint: promoted(&metadata, "client_fingerprint"),
            server_fingerprint: promoted(&metadata, "server_fingerprint"),
            metadata,
            risks,
        }
    }

    /// Every field with its name, in output order (the order of [`FIELD_NAMES`]).
    pub fn fields(&self) -> [(&'static str, FieldValue<'_>); 32] {
        use FieldValue::*;
        let first_ms = ns_to_ms(self.first_seen_ns);
        let last_ms = ns_to_ms(self.last_seen_ns);
        let values = [
            UInt(self.id),
            Str(self.expiration.name()),
            Ip(self.ip_version, &self.src_ip),
            UInt(u64::from(self.src_port)),
            Ip(self.ip_version, &self.dst_ip),
            UInt(u64::from(self.dst_port)),
            UInt(u64::from(self.protocol)),
            UInt(u64::from(self.ip_version)),
            UInt(u64::from(self.vlan_id)),
            UInt(u64::from(self.tunnel_id)),
            Int(first_ms),
            Int(last_ms),
            Int(last_ms - first_ms),
            UInt(self.src2dst_packets + self.dst2src_packets),
            UInt(self.src2dst_bytes + self.dst2src_bytes),
            UInt(self.src2dst_packets),
            UInt(self.src2dst_bytes),
            UInt(self.dst2src_packets),
            UInt(self.dst2src_bytes),
            TcpFlags(self.src2dst_tcp_flags),
            TcpFlags(self.dst2src_tcp_flags),
            Str(&self.application_name),
            Str(&self.application_category_name),
            Str(self.application_confidence),
            opt(&self.requested_server_name),
            opt(&self.user_agent),
            opt(&self.content_type),
            opt(&self.client_fingerprint),
            opt(&self.server_fingerprint),
            Metadata(&self.metadata),
            List(&self.risks),
            Str(crate::decode::Tunnel(self.tunnel_id).name()),
        ];
        let mut i = 0;
        values.map(|v| {
            let name = FIELD_NAMES.get(i).copied().unwrap_or("");
            i += 1;
            (name, v)
        })
    }

    /// Appends the record as one line of JSON (with a trailing newline).
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        for (i, (name, value)) in self.fields().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Field names are plain identifiers (a test checks): no escaping needed.
            out.push('"');
            out.push_str(name);
            out.push_str("\":");
            json_value(out, value);
        }
        out.push_str("}\n");
    }

    /// Appends the record as one CSV row (metadata as a JSON object, risks joined by `;`).
    pub fn write_csv(&self, out: &mut String) {
        for (i, (_, value)) in self.fields().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match value {
                FieldValue::Null => {}
                FieldValue::Metadata([]) => {}
                FieldValue::Metadata(_) => {
                    let mut s = String::new();
                    json_value(&mut s, value);
                    csv_str(out, &s);
                }
                FieldValue::List(l) => csv_str(out, &l.join(";")),
                FieldValue::Str(s) => csv_str(out, s),
                FieldValue::Ip(version, addr) => write_ip(out, *version, addr),
                FieldValue::TcpFlags(flags) => push_tcp_flags(out, *flags),
                FieldValue::UInt(n) => push_decimal(out, *n),
                FieldValue::Int(n) => push_int(out, *n),
            }
        }
        out.push('\n');
    }

    /// The CSV header line.
    pub fn csv_header() -> String {
        let mut s = FIELD_NAMES.join(",");
        s.push('\n');
        s
    }
}

/// The text formats records are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated rows, in the order of [`FIELD_NAMES`] (no header: see
    /// [`FlowRecord::csv_header`]).
    Csv,
    /// No text: only the totals by application, for a summary.
    TotalsOnly,
}

/// Flows, packets and bytes of the records of one application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppTotals {
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
}

impl std::ops::AddAssign for AppTotals {
    fn add_assign(&mut self, other: AppTotals) {
        self.flows += other.flows;
        self.packets += other.packets;
        self.bytes += other.bytes;
    }
}

/// Records written as text, with their totals by application name: what a writer of
/// records needs, made where the records are made (see `Analysis::run_text`).
#[derive(Clone, Debug, Default)]
pub struct TextBatch {
    /// The records' lines; a writer may take it away between batches.
    pub text: String,
    /// Records added, whether or not their text is still here.
    pub records: u64,
    pub by_app: std::collections::HashMap<String, AppTotals>,
}

impl TextBatch {
    /// Writes a record and counts it.
    pub fn add(&mut self, r: &FlowRecord, format: TextFormat) {
        match format {
            TextFormat::Jsonl => r.write_json(&mut self.text),
            TextFormat::Csv => r.write_csv(&mut self.text),
            TextFormat::TotalsOnly => {}
        }
        self.records += 1;
        let totals = match self.by_app.get_mut(r.application_name.as_str()) {
            Some(t) => t,
            None => self.by_app.entry(r.application_name.clone()).or_default(),
        };
        *totals += AppTotals {
            flows: 1,
            packets: r.src2dst_packets + r.dst2src_packets,
            bytes: r.src2dst_bytes + r.dst2src_bytes,
        };
    }

    /// Writes records and counts them.
    pub fn add_all(&mut self, records: &[FlowRecord], format: TextFormat) {
        for r in records {
            self.add(r, format);
        }
    }

    /// Moves another batch's text and totals to the end of this one.
    pub fn append(&mut self, other: TextBatch) {
        if self.text.is_empty() {
            self.text = other.text;
        } else {
            self.text.push_str(&other.text);
        }
        self.records += other.records;
        for (app, t) in other.by_app {
            *self.by_app.entry(app).or_default() += t;
        }
    }
}

fn csv_str(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Appends a signed number in decimal without allocating.
fn push_int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Whether any of 8 bytes needs a JSON escape: a control character, `"` or `\`. The
/// classic "has a byte below n" test on the word and on its XORs with the two characters;
/// exact for existence (a borrow only ever follows a byte that matched).
fn word_needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    (below(word, 0x20) | below(quote, 1) | below(backslash, 1)) != 0
}

/// Appends a JSON string literal. Runs of characters that need no escape are copied whole;
/// they are found 8 bytes at a time (user agents, URLs and certificate names are long, and
/// seldom need an escape).
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut clean = 0;
    while let Some(word) = bytes.get(clean..clean + 8) {
        let word = u64::from_ne_bytes(word.try_into().unwrap_or_default());
        if word_needs_escape(word) {
            break;
        }
        clean += 8;
    }
    let mut start = 0;
    for (i, b) in bytes.iter().copied().enumerate().skip(clean) {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.push_str(s.get(start..i).unwrap_or_default());
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                for nibble in [b >> 4, b & 0xf] {
                    out.push(char::from(
                        HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'),
                    ));
                }
            }
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

pub(crate) fn json_value(out: &mut String, v: &FieldValue<'_>) {
    match v {
        FieldValue::UInt(n) => push_decimal(out, *n),
        FieldValue::Int(n) => push_int(out, *n),
        FieldValue::Str(s) => json_str(out, s),
        FieldValue::Ip(version, addr) => {
            out.push('"');
            write_ip(out, *version, addr);
            out.push('"');
        }
        FieldValue::TcpFlags(flags) => {
            out.push('"');
            push_tcp_flags(out, *flags);
            out.push('"');
        }
        FieldValue::Null => out.push_str("null"),
        FieldValue::List(items) => json_list(out, items),
        FieldValue::Metadata(items) => {
            out.push('{');
            for (i, (k, val)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_str(out, k);
                out.push(':');
                match val {
                    MetaValue::Str(s) => json_str(out, s),
                    MetaValue::Int(n) => push_int(out, *n),
                    MetaValue::List(l) => json_list(out, l),
                }
            }
            out.push('}');
        }
    }
}

fn json_list<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_str(out, s.as_ref());
    }
    out.push(']');
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod json_tests {
    use super::{json_str, server_name};

    #[test]
    fn server_names_lose_the_port_of_a_host_header() {
        assert_eq!(server_name("example.com:8080".into()), "example.com");
        assert_eq!(server_name("10.0.0.1:80".into()), "10.0.0.1");
        assert_eq!(server_name("[2001:db8::1]:443".into()), "2001:db8::1");
        assert_eq!(server_name("2001:db8::1".into()), "2001:db8::1");
        assert_eq!(server_name("example.com".into()), "example.com");
        assert_eq!(server_name("odd:name".into()), "odd:name");
    }

    #[test]
    fn field_names_need_no_escaping() {
        for name in super::FIELD_NAMES {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
        }
    }

    #[test]
    fn every_field_is_declared_once_with_a_description() {
        let mut names: Vec<&str> = super::FIELD_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), super::FIELDS.len());
        for (f, (name, ty)) in super::FIELDS
            .iter()
            .zip(super::FIELD_NAMES.iter().zip(super::FIELD_TYPES))
        {
            assert_eq!((f.name, f.ty), (*name, ty));
            assert!(!f.description.trim().is_empty(), "{name}");
        }
    }

    #[test]
    fn numbers_addresses_and_flags_are_written_without_formatting_machinery() {
        use crate::decode::write_ip;
        use crate::text::push_decimal;
        let mut out = String::new();
        for n in [0u64, 7, 10, 99, 1_704_067_201_316, u64::MAX] {
            out.clear();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        for n in [i64::MIN, -1, 0, 42, i64::MAX] {
            out.clear();
            super::push_int(&mut out, n);
            assert_eq!(out, n.to_string());
        }
        for ip in [
            [0u8, 0, 0, 0],
            [255, 255, 255, 255],
            [192, 168, 1, 6],
            [10, 0, 100, 9],
        ] {
            out.clear();
            let mut bytes = [0u8; 16];
            bytes[..4].copy_from_slice(&ip);
            write_ip(&mut out, 4, &bytes);
            assert_eq!(out, std::net::Ipv4Addr::from(ip).to_string());
        }
        assert_eq!(super::tcp_flags_text(0xff), "SAFRPUEC");
        assert_eq!(super::tcp_flags_text(0x12), "SA");
        assert_eq!(super::tcp_flags_text(0), "");
    }

    #[test]
    fn strings_are_escaped_as_json() {
        let mut out = String::new();
        json_str(&mut out, "plain é \"q\" back\\slash\nline\ttab\u{1}ctl");
        assert_eq!(out, r#""plain é \"q\" back\\slash\nline\ttab\u0001ctl""#);
        out.clear();
        json_str(&mut out, "");
        assert_eq!(out, "\"\"");
    }

    #[test]
    fn the_word_test_finds_every_byte_that_needs_an_escape_and_no_other() {
        let needs = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        // Every byte value at every position, among neighbours that are plain, that need
        // an escape themselves, or are the values just above and below the limits.
        for fill in [
            b'a', 0x00, 0x1f, 0x20, 0x21, b'"', b'#', b'[', b']', 0x7f, 0x80, 0xff,
        ] {
            for at in 0..8 {
                for b in 0..=255u8 {
                    let mut word = [fill; 8];
                    word[at] = b;
                    let want = word.iter().any(|&x| needs(x));
                    let got = super::word_needs_escape(u64::from_ne_bytes(word));
                    assert_eq!(got, want, "{word:?}");
                }
            }
        }
    }

    #[test]
    fn strings_of_every_length_are_escaped_wherever_the_special_character_falls() {
        // The byte-at-a-time escaping the 8-byte scan must agree with.
        fn by_bytes(s: &str) -> String {
            let mut out = String::from("\"");
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        let mut out = String::new();
        for len in 0..40 {
            for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', 'é', ' ', '~'] {
                for at in 0..len.max(1) {
                    let s: String = (0..len)
                        .map(|i| {
                            if i == at {
                                special
                            } else {
                                char::from(b'a' + (i % 26) as u8)
                            }
                        })
                        .collect();
                    out.clear();
                    json_str(&mut out, &s);
                    assert_eq!(out, by_bytes(&s));
                    let back: String = serde_json::from_str(&out).unwrap();
                    assert_eq!(back, s);
                }
            }
        }
    }
}
