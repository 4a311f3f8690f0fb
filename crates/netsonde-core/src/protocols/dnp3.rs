//! DNP3 (IEEE 1815) over TCP and UDP. Every message travels in data link frames: the start
//! bytes 0x05 0x64, a length (control, addresses and user data: at least 5), a control
//! byte, the destination and source link addresses (little-endian) and a CRC-16/DNP of
//! those eight bytes; then the user data in blocks of up to 16 bytes, each followed by its
//! own CRC. A flow is DNP3 when it opens with a frame whose CRCs all hold (a 16-bit check
//! over a fixed start: nothing else passes for it by chance).
//!
//! The user data of a frame is a transport segment: one header byte (FIN, FIR, a 6-bit
//! sequence number), then a piece of an application fragment. The fragment starts with the
//! application control byte and the function code; responses add the internal indications
//! (IIN, two bytes). Only that header is reassembled (four bytes per direction), enough to
//! report each request and response as an event.

use super::wire::{le16, u8_at};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub SOURCE = "dnp3.source", Int, Identifier, "Link-layer source address of the first frame (events: of the message's first frame)";
    pub DESTINATION = "dnp3.destination", Int, Identifier, "Link-layer destination address of the first frame (events: of the message's first frame)";
    pub FUNCTION_CODES = "dnp3.function_codes", StrList, Usage, "Distinct application function codes seen, by name (READ, WRITE, SELECT, OPERATE, RESPONSE, …), in order of appearance";
    pub FUNCTION = "dnp3.function", Str, Usage, "Function code of one application message, by name (carried by the dnp3.request and dnp3.response events)";
    pub IIN = "dnp3.iin", Int, Service, "Internal indications of the last response, IIN1 × 256 + IIN2 (as Zeek's dnp3.log): device restart, need time, trouble, …";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] =
    &[&SOURCE, &DESTINATION, &FUNCTION_CODES, &FUNCTION, &IIN];

crate::events! {
    pub REQUEST = "dnp3.request", "Each application request (its function code)", ["dnp3.function", "dnp3.source", "dnp3.destination"];
    pub RESPONSE = "dnp3.response", "Each application response, solicited or not (function code and internal indications)", ["dnp3.function", "dnp3.iin", "dnp3.source", "dnp3.destination"];
}

pub static EVENTS: &[&crate::metadata::EventSpec] = &[&REQUEST, &RESPONSE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DNP3,
    transports: Transports::TCP_UDP,
    tcp_ports: &[20000],
    udp_ports: &[20000],
    inspect,
};

const START: [u8; 2] = [0x05, 0x64];
const HEADER: usize = 10;
const BLOCK: usize = 16;
/// Distinct function codes listed per flow at most (37 are defined).
const MAX_FUNCTION_CODES: usize = 48;

/// CRC-16/DNP: polynomial 0x3D65 (0xA6BC reflected), initial value 0, result inverted.
pub fn crc16(d: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in d {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA6BC
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Bytes of a whole frame whose length byte is `len` (at least 5).
fn frame_len(len: u8) -> usize {
    let user = usize::from(len).saturating_sub(5);
    HEADER + user + 2 * user.div_ceil(BLOCK)
}

/// A data link frame whose CRCs all hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub control: u8,
    pub destination: u16,
    pub source: u16,
    /// Bytes of the whole frame: header, user data and CRCs.
    pub len: usize,
    /// Bytes of user data (the transport segment).
    pub user_len: usize,
    /// The first user data bytes: the transport header and up to four application bytes.
    pub head: [u8; 5],
}

impl Frame {
    /// The user data bytes kept in `head`.
    fn head(&self) -> &[u8] {
        self.head.get(..self.user_len.min(5)).unwrap_or_default()
    }
}

/// What the bytes at the start of a buffer are.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Parsed {
    Frame(Frame),
    /// The start of a frame, as far as it goes: more bytes are needed.
    Short,
    /// Not a DNP3 frame (wrong start, length or CRC).
    Bad,
}

/// The frame at the start of `d`.
pub fn parse(d: &[u8]) -> Parsed {
    let n = d.len().min(START.len());
    if d.get(..n) != START.get(..n) {
        return Parsed::Bad;
    }
    let Some(len) = u8_at(d, 2) else {
        return Parsed::Short;
    };
    if len < 5 {
        return Parsed::Bad;
    }
    let (Some(header), Some(crc)) = (d.get(..8), le16(d, 8)) else {
        return Parsed::Short;
    };
    if crc16(header) != crc {
        return Parsed::Bad;
    }
    let total = frame_len(len);
    let Some(body) = d.get(HEADER..total) else {
        return Parsed::Short;
    };
    let mut head = [0u8; 5];
    for (i, block) in body.chunks(BLOCK + 2).enumerate() {
        let data_len = block.len().saturating_sub(2);
        let (Some(data), Some(crc)) = (block.get(..data_len), le16(block, data_len)) else {
            return Parsed::Bad;
        };
        if data.is_empty() || crc16(data) != crc {
            return Parsed::Bad;
        }
        if i == 0 {
            for (h, b) in head.iter_mut().zip(data) {
                *h = *b;
            }
        }
    }
    let (Some(control), Some(destination), Some(source)) = (u8_at(d, 3), le16(d, 4), le16(d, 6))
    else {
        return Parsed::Short;
    };
    Parsed::Frame(Frame {
        control,
        destination,
        source,
        len: total,
        user_len: usize::from(len) - 5,
        head,
    })
}

/// The name of an application function code (Zeek's and the standard's names).
pub fn function_name(fc: u8) -> Option<&'static str> {
    const REQUESTS: [&str; 34] = [
        "CONFIRM",
        "READ",
        "WRITE",
        "SELECT",
        "OPERATE",
        "DIRECT_OPERATE",
        "DIRECT_OPERATE_NR",
        "IMMED_FREEZE",
        "IMMED_FREEZE_NR",
        "FREEZE_CLEAR",
        "FREEZE_CLEAR_NR",
        "FREEZE_AT_TIME",
        "FREEZE_AT_TIME_NR",
        "COLD_RESTART",
        "WARM_RESTART",
        "INITIALIZE_DATA",
        "INITIALIZE_APPL",
        "START_APPL",
        "STOP_APPL",
        "SAVE_CONFIG",
        "ENABLE_UNSOLICITED",
        "DISABLE_UNSOLICITED",
        "ASSIGN_CLASS",
        "DELAY_MEASURE",
        "RECORD_CURRENT_TIME",
        "OPEN_FILE",
        "CLOSE_FILE",
        "DELETE_FILE",
        "GET_FILE_INFO",
        "AUTHENTICATE_FILE",
        "ABORT_FILE",
        "ACTIVATE_CONFIG",
        "AUTHENTICATE_REQ",
        "AUTHENTICATE_REQ_NR",
    ];
    match fc {
        0x81 => Some("RESPONSE"),
        0x82 => Some("UNSOLICITED_RESPONSE"),
        0x83 => Some("AUTHENTICATE_RESP"),
        _ => REQUESTS.get(usize::from(fc)).copied(),
    }
}

fn function_text(fc: u8) -> String {
    function_name(fc).map_or_else(|| format!("UNKNOWN_{fc}"), str::to_string)
}

/// Function codes from 0x80 up are responses (0x81 to 0x83 defined); below, requests.
fn is_response(fc: u8) -> bool {
    fc & 0x80 != 0
}

/// The application fragment being reassembled in one direction: only its first bytes.
#[derive(Clone, Copy, Debug, Default)]
struct Fragment {
    /// A first segment was seen and the header is not complete yet.
    active: bool,
    /// Transport sequence number of the last segment taken.
    seq: u8,
    /// Application control, function code, IIN1, IIN2.
    head: [u8; 4],
    have: u8,
    source: u16,
    destination: u16,
}

/// Per-flow state: the fragment header under reassembly in each direction.
#[derive(Debug, Default)]
pub struct State {
    dirs: [Fragment; 2],
}

/// An application header read from a fragment.
#[derive(Clone, Copy, Debug, PartialEq)]
struct AppHeader {
    function: u8,
    iin: Option<u16>,
    source: u16,
    destination: u16,
}

impl Fragment {
    /// Takes one transport segment (the frame's user data); returns the application header
    /// once its bytes are all in.
    fn add(&mut self, frame: &Frame) -> Option<AppHeader> {
        let (&transport, piece) = frame.head().split_first()?;
        let (fin, fir, seq) = (
            transport & 0x80 != 0,
            transport & 0x40 != 0,
            transport & 0x3f,
        );
        if fir {
            *self = Fragment {
                active: true,
                seq,
                source: frame.source,
                destination: frame.destination,
                ..Fragment::default()
            };
        } else if !self.active || seq != (self.seq + 1) & 0x3f {
            // Not within a fragment whose header is awaited, or a segment missing.
            self.active = false;
            return None;
        } else {
            self.seq = seq;
        }
        for &b in piece {
            let Some(slot) = self.head.get_mut(usize::from(self.have)) else {
                break;
            };
            *slot = b;
            self.have += 1;
        }
        let function = *self.head.get(1)?;
        let done = if self.have < 2 {
            None
        } else if !is_response(function) {
            Some(None)
        } else if self.have >= 4 {
            let [_, _, iin1, iin2] = self.head;
            Some(Some(u16::from_be_bytes([iin1, iin2])))
        } else {
            None
        };
        if done.is_some() || fin {
            self.active = false;
        }
        done.map(|iin| AppHeader {
            function,
            iin,
            source: self.source,
            destination: self.destination,
        })
    }
}

/// Reports one application message: the flow's list of function codes, the last IIN, an
/// event.
fn report(app: &AppHeader, st: &mut DissectorState<'_>) {
    let name = function_text(app.function);
    // The list is copied only when it grows: at most once per distinct code.
    let listed = match st.meta.get(&FUNCTION_CODES) {
        Some(MetaValue::List(l)) => Some(l),
        _ => None,
    };
    let full = listed.is_some_and(|l| l.contains(&name) || l.len() >= MAX_FUNCTION_CODES);
    if !full {
        let mut listed = listed.cloned().unwrap_or_default();
        listed.push(name.clone());
        st.meta.replace(&FUNCTION_CODES, MetaValue::List(listed));
    }
    let addrs = [
        (SOURCE.name, MetaValue::Int(i64::from(app.source))),
        (DESTINATION.name, MetaValue::Int(i64::from(app.destination))),
    ];
    match app.iin {
        Some(iin) => {
            st.meta.replace(&IIN, MetaValue::Int(i64::from(iin)));
            if st.events.wants(&RESPONSE) {
                let mut attrs = vec![
                    (FUNCTION.name, MetaValue::Str(name)),
                    (IIN.name, MetaValue::Int(i64::from(iin))),
                ];
                attrs.extend(addrs);
                st.events.emit(&RESPONSE, attrs);
            }
        }
        None => {
            if st.events.wants(&REQUEST) {
                let mut attrs = vec![(FUNCTION.name, MetaValue::Str(name))];
                attrs.extend(addrs);
                st.events.emit(&REQUEST, attrs);
            }
        }
    }
}

/// Where the next frame may start in `d` after a damaged one at its start: the next start
/// bytes, else the last byte when it may begin them, else the end.
fn resync(d: &[u8]) -> usize {
    let from = 1.min(d.len());
    let rest = d.get(from..).unwrap_or_default();
    match rest.windows(2).position(|w| w == START) {
        Some(p) => from + p,
        None if rest.last() == START.first() => d.len() - 1,
        None => d.len(),
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let tcp = ins.flow.l4 == 6;
    if !matches!(st.state, ProtoState::Dnp3(_)) {
        // The flow (TCP) or the datagram (UDP) must open with a whole, intact frame.
        match parse(ins.data) {
            Parsed::Frame(_) => {}
            Parsed::Short if tcp => return Verdict::Continue,
            _ => return Verdict::Exclude,
        }
        ins.detect(id::DNP3);
        *st.state = ProtoState::Dnp3(State::default());
    }
    let d = ins.dir as usize;
    let data = ins.data;
    let mut at = 0;
    while let Some(rest) = data.get(at..).filter(|r| !r.is_empty()) {
        match parse(rest) {
            Parsed::Frame(f) => {
                at += f.len;
                st.meta.set_int(&SOURCE, i64::from(f.source));
                st.meta.set_int(&DESTINATION, i64::from(f.destination));
                let ProtoState::Dnp3(state) = &mut *st.state else {
                    return Verdict::Done;
                };
                let app = state.dirs.get_mut(d).and_then(|frag| frag.add(&f));
                if let Some(app) = app {
                    report(&app, st);
                }
            }
            Parsed::Short => break,
            // A datagram's damaged frame ends what can be read of it; a stream goes on at
            // the next frame start (after a lost segment, say).
            Parsed::Bad if tcp => at += resync(rest),
            Parsed::Bad => break,
        }
    }
    ins.consume(at);
    Verdict::Continue
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// A frame from `control`, addresses and user data, with its CRCs.
    fn frame(control: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
        let mut f = vec![0x05, 0x64, (user.len() + 5) as u8, control];
        f.extend(dst.to_le_bytes());
        f.extend(src.to_le_bytes());
        f.extend(crc16(&f).to_le_bytes());
        for block in user.chunks(BLOCK) {
            f.extend(block);
            f.extend(crc16(block).to_le_bytes());
        }
        f
    }

    /// A single-segment fragment: transport header (FIR, FIN, `seq`), application control,
    /// function code, then `rest`.
    fn message(seq: u8, function: u8, rest: &[u8]) -> Vec<u8> {
        let mut user = vec![0xc0 | (seq & 0x3f), 0xc0 | (seq & 0x0f), function];
        user.extend(rest);
        user
    }

    #[test]
    fn crc_matches_the_standard_check_value_and_a_known_frame() {
        // CRC-16/DNP's check value over "123456789".
        assert_eq!(crc16(b"123456789"), 0xEA82);
        // A link reset (control 0xC0) to address 1 from 1024, as commonly shown.
        let reset = [0x05, 0x64, 0x05, 0xc0, 0x01, 0x00, 0x00, 0x04, 0xe9, 0x21];
        assert_eq!(
            parse(&reset),
            Parsed::Frame(Frame {
                control: 0xc0,
                destination: 1,
                source: 1024,
                len: 10,
                user_len: 0,
                head: [0; 5],
            })
        );
        assert_eq!(frame(0xc0, 1, 1024, &[]), reset);
    }

    #[test]
    fn frames_with_blocks() {
        // A read of class 0 data (object 60 variation 1, all): 6 bytes of user data.
        let read = frame(0xc4, 10, 1, &message(1, 0x01, &[0x3c, 0x01, 0x06]));
        assert_eq!(read.len(), 10 + 6 + 2);
        let Parsed::Frame(f) = parse(&read) else {
            panic!("valid frame");
        };
        assert_eq!((f.destination, f.source, f.user_len, f.len), (10, 1, 6, 18));
        // 40 bytes of user data: three blocks (16, 16, 8), each with its CRC.
        let long = frame(0x44, 1, 10, &[7u8; 40]);
        assert_eq!(long.len(), 10 + 40 + 6);
        assert!(matches!(parse(&long), Parsed::Frame(f) if f.len == long.len()));
        // Cut: short, whatever the cut.
        for n in 0..long.len() {
            assert_eq!(parse(&long[..n]), Parsed::Short, "{n}");
        }
        // A damaged block, a damaged header, a length below 5.
        let mut bad = long.clone();
        bad[30] ^= 1;
        assert_eq!(parse(&bad), Parsed::Bad);
        let mut bad = read.clone();
        bad[5] ^= 0x80;
        assert_eq!(parse(&bad), Parsed::Bad);
        let mut bad = frame(0xc0, 1, 2, &[]);
        bad[2] = 4;
        assert_eq!(parse(&bad), Parsed::Bad);
        assert_eq!(parse(b"\x05\x65"), Parsed::Bad);
    }

    #[test]
    fn names() {
        assert_eq!(function_name(0x00), Some("CONFIRM"));
        assert_eq!(function_name(0x05), Some("DIRECT_OPERATE"));
        assert_eq!(function_name(0x17), Some("DELAY_MEASURE"));
        assert_eq!(function_name(0x21), Some("AUTHENTICATE_REQ_NR"));
        assert_eq!(function_name(0x22), None);
        assert_eq!(function_name(0x82), Some("UNSOLICITED_RESPONSE"));
        assert_eq!(function_text(0x90), "UNKNOWN_144");
    }

    #[test]
    fn request_and_response_over_tcp() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 20000);
        // The link status exchange, then a read and its response, the response in two
        // segments cut inside a block.
        c.client(&frame(0xc9, 10, 1, &[]));
        assert_eq!(c.name(), "DNP3");
        c.server(&frame(0x0b, 1, 10, &[]));
        c.client(&frame(0xc4, 10, 1, &message(2, 0x01, &[0x3c, 0x02, 0x06])));
        let resp = frame(
            0x44,
            1,
            10,
            &message(3, 0x81, &[0x90, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01]),
        );
        c.server(&resp[..13]);
        c.server(&resp[13..]);
        assert!(c.open);
        assert_eq!(c.meta(&SOURCE).as_deref(), Some("1"));
        assert_eq!(c.meta(&DESTINATION).as_deref(), Some("10"));
        assert_eq!(c.meta(&FUNCTION_CODES).as_deref(), Some("READ,RESPONSE"));
        assert_eq!(c.meta(&IIN).as_deref(), Some("36864"));
    }

    #[test]
    fn several_frames_in_a_segment_and_a_fragment_over_segments() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 20000);
        let mut both = frame(0xc4, 10, 1, &message(5, 0x03, &[0x0c, 0x01]));
        both.extend(frame(0xc4, 10, 1, &message(6, 0x04, &[0x0c, 0x01])));
        c.client(&both);
        assert_eq!(c.meta(&FUNCTION_CODES).as_deref(), Some("SELECT,OPERATE"));
        // A response whose first segment holds only the application control and function:
        // the IIN comes in the next segment (FIR then FIN).
        c.server(&frame(0x44, 1, 10, &[0x40 | 7, 0xc5, 0x81]));
        assert_eq!(c.meta(&IIN), None);
        c.server(&frame(0x44, 1, 10, &[0x80 | 8, 0x00, 0x04, 0x0c]));
        assert_eq!(
            c.meta(&FUNCTION_CODES).as_deref(),
            Some("SELECT,OPERATE,RESPONSE")
        );
        assert_eq!(c.meta(&IIN).as_deref(), Some("4"));
        // A segment out of sequence does not continue a fragment.
        c.server(&frame(0x44, 1, 10, &[0x40 | 9, 0xc6, 0x82]));
        c.server(&frame(0x44, 1, 10, &[0x80 | 11, 0x00, 0x00]));
        assert_eq!(c.meta(&IIN).as_deref(), Some("4"));
    }

    #[test]
    fn resynchronises_on_garbage_after_confirmation() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 20000);
        c.client(&frame(0xc9, 10, 1, &[]));
        let mut d = b"\x00\x05junk".to_vec();
        d.extend(frame(0xc4, 10, 1, &message(1, 0x02, &[0x50, 0x01])));
        c.client(&d);
        assert_eq!(c.meta(&FUNCTION_CODES).as_deref(), Some("WRITE"));
        assert_eq!(resync(b"\x05\x64"), 2);
        assert_eq!(resync(b"ab\x05"), 2);
        assert_eq!(resync(b"a\x05\x64"), 1);
        assert_eq!(resync(b""), 0);
    }

    #[test]
    fn udp_datagrams() {
        let mut c = Conv::udp(&DISSECTOR, 1128, 20000);
        c.client(&frame(0xc4, 10, 1, &message(1, 0x14, &[0x3c, 0x02, 0x06])));
        assert_eq!(c.name(), "DNP3");
        c.server(&frame(0x44, 1, 10, &message(1, 0x81, &[0x00, 0x01])));
        assert_eq!(
            c.meta(&FUNCTION_CODES).as_deref(),
            Some("ENABLE_UNSOLICITED,RESPONSE")
        );
        assert_eq!(c.meta(&IIN).as_deref(), Some("1"));
    }

    #[test]
    fn rejects() {
        // A bad header CRC, over TCP and UDP.
        let mut bad = frame(0xc9, 10, 1, &[]);
        bad[8] ^= 0xff;
        let mut c = Conv::tcp(&DISSECTOR, 40000, 20000);
        c.client(&bad);
        assert!(!c.open);
        assert_eq!(c.name(), "Unknown");
        let mut c = Conv::udp(&DISSECTOR, 40000, 20000);
        c.client(&bad);
        assert!(!c.open);
        // A damaged block.
        let mut bad = frame(0xc4, 10, 1, &message(1, 0x01, &[0x3c, 0x02, 0x06]));
        bad[12] ^= 1;
        let mut c = Conv::tcp(&DISSECTOR, 40000, 20000);
        c.client(&bad);
        assert!(!c.open);
        // Other protocols.
        for other in [
            &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
            b"\x00\x07\x00\x00\x00\x06\x01\x03\x00\x00\x00\x02",
            b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
            b"\x05\x64\x05\xc0\x01\x00\x00\x04\x00\x00",
        ] {
            let mut c = Conv::tcp(&DISSECTOR, 40000, 20000);
            c.client(other);
            assert!(!c.open, "{other:?}");
            let mut c = Conv::udp(&DISSECTOR, 40000, 20000);
            c.client(other);
            assert!(!c.open, "{other:?}");
        }
        // A TCP stream that opens like a frame waits for the rest.
        let mut c = Conv::tcp(&DISSECTOR, 40000, 20000);
        c.client(b"\x05\x64\x05");
        assert!(c.open);
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn all_dissectors_name_it_on_any_port() {
        let mut c = Conv::all(6, 40000, 41000);
        c.client(&frame(0xc4, 10, 1, &message(1, 0x01, &[0x3c, 0x02, 0x06])));
        assert_eq!(c.name(), "DNP3");
        let mut c = Conv::all(17, 40000, 41000);
        c.client(&frame(0xc4, 10, 1, &message(1, 0x01, &[0x3c, 0x02, 0x06])));
        assert_eq!(c.name(), "DNP3");
    }
}
