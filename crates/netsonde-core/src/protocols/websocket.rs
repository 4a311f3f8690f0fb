//! WebSocket (RFC 6455) met after its opening handshake (a capture that starts mid
//! connection): each direction carries whole frames, the server's unmasked and the client's
//! masked (section 5.1). A frame: FIN, three RSV bits (RSV1 may mark a compressed message,
//! RFC 7692), an opcode (continuation, text, binary, close, ping, pong), the mask bit and a
//! 7-bit length (126: a 16-bit length follows, 127: a 64-bit one), the 4-byte masking key
//! when masked, the payload. Control frames are final and at most 125 bytes. The flow is
//! WebSocket when the first payload of each direction is whole frames, masked on one side
//! only. (A handshake seen in full is HTTP's.)

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::classify::Dir;

pub static DISSECTOR: Dissector = Dissector {
    proto: id::WEBSOCKET,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

/// Bytes kept of a direction's first payload (the dispatcher's `first_payload`).
const FIRST_PAYLOAD_KEPT: usize = 512;

#[derive(Debug, PartialEq, Eq)]
enum Frames {
    /// Whole frames, all with this mask bit.
    Whole {
        masked: bool,
    },
    /// Frames so far, the last one cut short.
    Cut {
        masked: bool,
    },
    No,
}

/// Frames read before the run is taken as whole: enough evidence, and a bound on the work
/// per packet (a buffer of zeros reads as thousands of empty frames).
const MAX_FRAMES: usize = 16;

/// Reads `d` as a run of frames.
fn frames(d: &[u8]) -> Frames {
    let mut at = 0usize;
    let mut mask: Option<bool> = None;
    for _ in 0..MAX_FRAMES {
        if at >= d.len() {
            break;
        }
        let Some(&b0) = d.get(at) else { break };
        let opcode = b0 & 0x0f;
        if b0 & 0x30 != 0 || !matches!(opcode, 0 | 1 | 2 | 8 | 9 | 10) {
            return Frames::No;
        }
        let Some(&b1) = d.get(at + 1) else {
            return cut(mask);
        };
        let masked = b1 & 0x80 != 0;
        if mask.is_some_and(|m| m != masked) {
            return Frames::No;
        }
        mask = Some(masked);
        let (len, ext) = match b1 & 0x7f {
            126 => {
                let Some(b) = d
                    .get(at + 2..at + 4)
                    .and_then(|b| <[u8; 2]>::try_from(b).ok())
                else {
                    return cut(mask);
                };
                let n = u64::from(u16::from_be_bytes(b));
                if n < 126 {
                    return Frames::No;
                }
                (n, 2)
            }
            127 => {
                let Some(b) = d
                    .get(at + 2..at + 10)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                else {
                    return cut(mask);
                };
                let n = u64::from_be_bytes(b);
                if n < 65_536 || n >> 63 != 0 {
                    return Frames::No;
                }
                (n, 8)
            }
            n => (u64::from(n), 0),
        };
        if opcode >= 8 && (b0 & 0x80 == 0 || len > 125) {
            return Frames::No;
        }
        let header = 2 + ext + if masked { 4 } else { 0 };
        let end = (at as u64)
            .saturating_add(header as u64)
            .saturating_add(len);
        if end > d.len() as u64 {
            return cut(mask);
        }
        at = end as usize;
    }
    match mask {
        Some(masked) => Frames::Whole { masked },
        None => Frames::No,
    }
}

fn cut(mask: Option<bool>) -> Frames {
    mask.map_or(Frames::No, |masked| Frames::Cut { masked })
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let this = match frames(ins.data) {
        Frames::Whole { masked } => masked,
        // A frame spread over several segments: wait for its end (within the budget).
        Frames::Cut { .. } if ins.data.len() < 64 * 1024 => return Verdict::Continue,
        _ => return Verdict::Exclude,
    };
    let other = match ins.dir {
        Dir::ToServer => Dir::ToClient,
        Dir::ToClient => Dir::ToServer,
    } as usize;
    let Some(first) = ins.first_payload.get(other).copied() else {
        return Verdict::Exclude;
    };
    if first.is_empty() {
        return Verdict::Continue;
    }
    let other_masked = match frames(first) {
        Frames::Whole { masked } => masked,
        // The kept copy of the other side's first payload may end inside a frame.
        Frames::Cut { masked } if first.len() >= FIRST_PAYLOAD_KEPT => masked,
        _ => return Verdict::Exclude,
    };
    if other_masked == this {
        return Verdict::Exclude;
    }
    ins.detect(id::WEBSOCKET);
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::super::harness::Conv;
    use super::*;

    fn masked(payload: &[u8]) -> Vec<u8> {
        let key = [0xe1, 0x7e, 0x8e, 0xb9];
        let mut f = vec![0x81, 0x80 | payload.len() as u8];
        f.extend_from_slice(&key);
        f.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
        f
    }

    #[test]
    fn server_unmasked_client_masked() {
        let mut c = Conv::tcp(&DISSECTOR, 50999, 12345);
        c.server(b"\x81\x17Welcome, 192.168.43.1 !");
        assert_eq!(c.name(), "Unknown");
        c.client(&masked(b"test message"));
        assert_eq!(c.name(), "WebSocket");
    }

    #[test]
    fn both_sides_unmasked_is_not_websocket() {
        let mut c = Conv::tcp(&DISSECTOR, 40000, 9000);
        c.client(b"\x81\x02hi");
        c.server(b"\x81\x02ok");
        assert_eq!(c.name(), "Unknown");
    }

    #[test]
    fn frame_reading() {
        assert_eq!(
            frames(b"\x81\x02hi\x89\x00"),
            Frames::Whole { masked: false }
        );
        assert_eq!(frames(b"\x81\x05hi"), Frames::Cut { masked: false });
        // Mixed mask bits, reserved bits, bad opcode, long control frame.
        assert_eq!(frames(b"\x81\x02hi\x81\x80abcd"), Frames::No);
        assert_eq!(frames(b"\xa1\x02hi"), Frames::No);
        assert_eq!(frames(b"\x83\x02hi"), Frames::No);
        let mut ping = vec![0x89, 126, 0, 200];
        ping.resize(204, 0);
        assert_eq!(frames(&ping), Frames::No);
        // Extended lengths must be used only when needed.
        let mut long = vec![0x82, 126, 0, 200];
        long.resize(204, 7);
        assert_eq!(frames(&long), Frames::Whole { masked: false });
        assert_eq!(frames(&[0x82, 126, 0, 100]), Frames::No);
        assert_eq!(frames(&[0x82, 127, 0, 0, 0, 0, 0, 0, 1, 0]), Frames::No);
        assert_eq!(
            frames(&[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
            Frames::Cut { masked: false }
        );
        assert_eq!(frames(b""), Frames::No);
        assert_eq!(frames(b"GET / HTTP/1.1\r\n"), Frames::No);
    }

    #[test]
    fn a_run_of_zeros_is_not_a_conversation() {
        // Read as empty unmasked frames, bounded; unmasked both ways is not WebSocket.
        let zeros = vec![0u8; 64 * 1024];
        assert!(matches!(frames(&zeros), Frames::Whole { masked: false }));
        let mut c = Conv::tcp(&DISSECTOR, 40000, 9000);
        c.client(&zeros[..1400]).server(&zeros[..1400]);
        assert_eq!(c.name(), "Unknown");
    }
}
