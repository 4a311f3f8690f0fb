//! RTP and RTCP (RFC 3550), version 2. RTCP is recognised from one datagram: compound
//! packets whose length fields add up to the datagram, the first a sender or receiver report
//! (or another RTCP type). RTP needs two packets in one direction with the same SSRC and
//! payload type and a sequence number that moved forward a little: one header alone is only
//! a guess.

use super::wire::{be16, be32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub PAYLOAD_TYPE = "rtp.payload_type", Int, Content, "Payload type of the first RTP packet (0 = PCMU, 8 = PCMA, 96-127 dynamic, …)";
    pub SSRC = "rtp.ssrc", Str, Identifier, "Synchronisation source of the first confirmed stream (hex)";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&PAYLOAD_TYPE, &SSRC];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RTP,
    transports: Transports::TCP_UDP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// Largest sequence step between two packets of a stream still taken as the same stream.
const MAX_SEQ_STEP: u16 = 16;

/// An RTP header's identifying fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Header {
    pub payload_type: u8,
    pub seq: u16,
    pub ssrc: u32,
}

/// Per-direction last RTP header seen while confirming.
#[derive(Default, Debug)]
pub struct State {
    last: [Option<Header>; 2],
}

/// Whether a payload type is an RTP one (not in the RTCP range 72-76 that RTP headers
/// with the marker bit would collide with).
fn rtp_payload_type(pt: u8) -> bool {
    pt <= 34 || (96..=127).contains(&pt)
}

/// The RTP header at the start of `d`, if it is a plausible one.
pub fn rtp_header(d: &[u8]) -> Option<Header> {
    let b0 = u8_at(d, 0)?;
    let b1 = u8_at(d, 1)?;
    if b0 >> 6 != 2 {
        return None;
    }
    let csrc = usize::from(b0 & 0x0F);
    let mut len = 12 + 4 * csrc;
    if b0 & 0x10 != 0 {
        // Extension: profile, length in words.
        len += 4 + 4 * usize::from(be16(d, len + 2)?);
    }
    if d.len() < len {
        return None;
    }
    let pt = b1 & 0x7F;
    if !rtp_payload_type(pt) {
        return None;
    }
    Some(Header {
        payload_type: pt,
        seq: be16(d, 2)?,
        ssrc: be32(d, 8)?,
    })
}

/// Whether `d` is a compound RTCP packet: version 2 parts, types 192-223, lengths adding
/// up to the datagram, the first a report, SDES, BYE, APP or feedback.
pub fn is_rtcp(d: &[u8]) -> bool {
    let mut at = 0;
    let mut parts = 0;
    while at < d.len() {
        let (Some(b0), Some(pt), Some(words)) = (u8_at(d, at), u8_at(d, at + 1), be16(d, at + 2))
        else {
            return false;
        };
        if b0 >> 6 != 2 || !(192..=223).contains(&pt) {
            return false;
        }
        if parts == 0 && !(200..=207).contains(&pt) {
            return false;
        }
        at += 4 * (usize::from(words) + 1);
        parts += 1;
    }
    parts > 0 && at == d.len() && d.len() >= 8
}

/// Whether two headers of one direction belong to one stream that moved forward a little.
fn same_stream(p: &Header, h: &Header) -> bool {
    let step = h.seq.wrapping_sub(p.seq);
    p.ssrc == h.ssrc && p.payload_type == h.payload_type && (1..=MAX_SEQ_STEP).contains(&step)
}

fn confirm(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>, h: &Header) -> Verdict {
    ins.detect(id::RTP);
    st.set(&PAYLOAD_TYPE, MetaValue::Int(i64::from(h.payload_type)));
    st.set_str(&SSRC, format!("{:08x}", h.ssrc));
    Verdict::Done
}

/// RTP over TCP (RFC 4571): the stream from its start holds 2-byte-length framed packets;
/// the first two of this direction are compared.
fn inspect_tcp(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    let Some(first_len) = be16(d, 0).map(usize::from) else {
        return Verdict::Continue;
    };
    if !(12..=1500).contains(&first_len) {
        return Verdict::Exclude;
    }
    let Some(first) = d.get(2..2 + first_len) else {
        return Verdict::Continue;
    };
    let Some(h1) = rtp_header(first) else {
        return Verdict::Exclude;
    };
    let at = 2 + first_len;
    let Some(second_len) = be16(d, at).map(usize::from) else {
        return Verdict::Continue;
    };
    let Some(second) = d.get(at + 2..at + 2 + second_len) else {
        return Verdict::Continue;
    };
    match rtp_header(second) {
        Some(h2) if same_stream(&h1, &h2) => {
            let v = confirm(ins, st, &h2);
            ins.consume(d.len());
            v
        }
        _ => Verdict::Exclude,
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if ins.flow.l4 == 6 {
        return inspect_tcp(ins, st);
    }
    if is_rtcp(ins.data) {
        ins.detect(id::RTCP);
        return Verdict::Done;
    }
    let Some(h) = rtp_header(ins.data) else {
        // Signalling or keep-alives may come before the media: look a little further.
        return if ins.packet_no <= 3 {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    };
    if !matches!(st.state, ProtoState::Rtp(_)) {
        *st.state = ProtoState::Rtp(State::default());
    }
    let ProtoState::Rtp(state) = st.state else {
        return Verdict::Exclude;
    };
    let d = ins.dir as usize;
    let prev = state.last.get(d).copied().flatten();
    if let Some(slot) = state.last.get_mut(d) {
        *slot = Some(h);
    }
    match prev {
        Some(p) if same_stream(&p, &h) => confirm(ins, st, &h),
        // A different stream in the same direction: not the stable stream RTP needs.
        Some(p) if p.ssrc != h.ssrc => Verdict::Exclude,
        _ => Verdict::Continue,
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    fn rtp(pt: u8, seq: u16, ssrc: u32) -> Vec<u8> {
        let mut d = vec![0x80, pt];
        d.extend_from_slice(&seq.to_be_bytes());
        d.extend_from_slice(&1234u32.to_be_bytes());
        d.extend_from_slice(&ssrc.to_be_bytes());
        d.extend_from_slice(&[0xd5; 160]);
        d
    }

    #[test]
    fn rtp_headers() {
        let h = rtp_header(&rtp(8, 7, 0xdeadbeef)).expect("rtp");
        assert_eq!(
            h,
            Header {
                payload_type: 8,
                seq: 7,
                ssrc: 0xdeadbeef
            }
        );
        // Marker bit set, PT 0: fine. PT 72 (RTCP SR with the marker bit): not RTP.
        assert!(rtp_header(&rtp(0x80, 1, 1)).is_some());
        assert!(rtp_header(&rtp(72, 1, 1)).is_none());
        let mut v1 = rtp(0, 1, 1);
        v1[0] = 0x40;
        assert!(rtp_header(&v1).is_none());
        assert!(rtp_header(&[0x80, 0, 0, 1]).is_none());
    }

    #[test]
    fn rtcp_compound_lengths() {
        // Receiver report with no blocks (2 words) + SDES of 3 words.
        let mut d = vec![0x80, 201, 0, 1, 1, 2, 3, 4];
        d.extend_from_slice(&[0x81, 202, 0, 2, 1, 2, 3, 4, 1, 0, 0, 0]);
        assert!(is_rtcp(&d));
        d.push(0);
        assert!(!is_rtcp(&d));
        assert!(!is_rtcp(&[0x80, 201, 0, 0]));
        assert!(!is_rtcp(&[0x80, 96, 0, 1, 0, 0, 0, 0]));
    }
}
