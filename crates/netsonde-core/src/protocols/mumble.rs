//! Mumble's UDP ping (port 64738): the client sends 12 bytes, a zero request type and an
//! 8-byte identifier; the server answers 24 bytes: its version, the same identifier, then
//! the user count, the user limit and the allowed bandwidth. Confirmed when an answer
//! echoes the identifier of the client's request; voice packets afterwards are encrypted.

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MUMBLE,
    transports: Transports::UDP,
    tcp_ports: &[],
    udp_ports: &[64738],
    inspect,
};

/// The identifier of a ping request.
pub fn ping_request(d: &[u8]) -> Option<&[u8]> {
    (d.len() == 12 && be32(d, 0) == Some(0)).then(|| d.get(4..12))?
}

/// Whether `answer` is a ping answer echoing `ident`: a version (major 1, sane minor) and
/// user count not above the limit.
pub fn ping_answer(answer: &[u8], ident: &[u8]) -> bool {
    let (Some(&major), Some(users), Some(limit)) =
        (answer.get(1), be32(answer, 12), be32(answer, 16))
    else {
        return false;
    };
    answer.len() == 24
        && answer.first() == Some(&0)
        && major == 1
        && answer.get(4..12) == Some(ident)
        && users <= limit
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let Some(ident) = ping_request(ins.first_payload[0]) else {
        return Verdict::Exclude;
    };
    if ins.to_server() {
        return if ins.dir_packets[0] == 1 {
            Verdict::Continue
        } else {
            Verdict::Exclude
        };
    }
    if ping_answer(ins.data, ident) {
        ins.detect(id::MUMBLE);
        return Verdict::Done;
    }
    Verdict::Exclude
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn ping_exchange() {
        let req = [0, 0, 0, 0, 0x03, 0xd7, 0x20, 0x00, 0xfa, 0x76, 0x28, 0x7e];
        let ident = ping_request(&req).expect("request");
        let mut ans = vec![0, 1, 3, 4];
        ans.extend_from_slice(ident);
        ans.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x64, 0, 1, 0x19, 0x40]);
        assert!(ping_answer(&ans, ident));
        assert!(!ping_answer(&ans, &[0; 8]));
        assert!(!ping_answer(&ans[..23], ident));
        let mut over = ans.clone();
        over[15] = 0xff; // more users than the limit
        assert!(!ping_answer(&over, ident));
        assert!(ping_request(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_none());
    }
}
