//! DCE/RPC connection-oriented (C706 chapter 12.6, [MS-RPCE]) over TCP: the endpoint mapper
//! on port 135 and the services it hands out on dynamic ports. Every PDU starts with a
//! 16-byte header: RPC version 5 and minor 0 or 1, the PDU type, flags, the data
//! representation (integer byte order in the high nibble of its first byte: 0 big-endian,
//! 1 little-endian; then the character and floating-point formats, two zero bytes), the
//! fragment length (the whole PDU, header included), the authentication trailer's length and
//! the call id.
//!
//! A client's bind, alter-context or request opens the flow (a capture may start mid-call);
//! the interface its bind names (an abstract syntax UUID) is kept, with the service's name
//! for the interfaces Windows and Exchange expose, and the operation number of the first
//! request.

use super::wire::{be16, be32, le16, le32, u8_at};
use super::{id, Dissector, DissectorState, Inspect, ProtoState, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub INTERFACE = "dcerpc.interface", Str, Service, "Interface UUID of the first bind (abstract syntax)";
    pub ENDPOINT = "dcerpc.endpoint", Str, Service, "Service of that interface (epmapper, samr, lsarpc, drsuapi, …) when known";
    pub OPNUM = "dcerpc.opnum", Int, Usage, "Operation number of the first request";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&INTERFACE, &ENDPOINT, &OPNUM];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::DCERPC,
    transports: Transports::TCP,
    tcp_ports: &[135],
    udp_ports: &[],
    inspect,
};

const HEADER: usize = 16;
/// PDU types (C706 12.6.4.1).
const REQUEST: u8 = 0;
const BIND: u8 = 11;
const ALTER_CONTEXT: u8 = 14;
/// Types a client sends and those a server answers with.
const CLIENT_TYPES: &[u8] = &[REQUEST, BIND, ALTER_CONTEXT, 16, 17, 18, 19];
const SERVER_TYPES: &[u8] = &[2, 3, 12, 13, 15];
/// PDUs read per flow once confirmed.
const MAX_PDUS: u16 = 16;

/// Interfaces by their UUID ([MS-RPCE] and each protocol's specification), named as Zeek's
/// dce_rpc.log names their endpoints.
const ENDPOINTS: &[(&str, &str)] = &[
    ("e1af8308-5d1f-11c9-91a4-08002b14a0fa", "epmapper"),
    ("12345778-1234-abcd-ef00-0123456789ab", "lsarpc"),
    ("12345778-1234-abcd-ef00-0123456789ac", "samr"),
    ("12345678-1234-abcd-ef00-01234567cffb", "netlogon"),
    ("12345678-1234-abcd-ef00-0123456789ab", "spoolss"),
    ("76f03f96-cdfd-44fc-a22c-64950a001209", "IRemoteWinspool"),
    ("4b324fc8-1670-01d3-1278-5a47bf6ee188", "srvsvc"),
    ("6bffd098-a112-3610-9833-46c3f87e345a", "wkssvc"),
    ("338cd001-2244-31f1-aaaa-900038001003", "winreg"),
    ("367abb81-9844-35f1-ad32-98f038001003", "svcctl"),
    ("1ff70682-0a51-30e8-076d-740be8cee98b", "atsvc"),
    (
        "86d35949-83c9-4044-b424-db363231fd0c",
        "ITaskSchedulerService",
    ),
    ("e3514235-4b06-11d1-ab04-00c04fc2dcd2", "drsuapi"),
    ("3919286a-b10c-11d0-9ba8-00c04fd92ef5", "dssetup"),
    ("3dde7c30-165d-11d1-ab8f-00805f14db40", "BackupKey"),
    ("82273fdc-e32a-18c3-3f78-827929dc23ea", "eventlog"),
    ("50abc2a4-574d-40b3-9d66-ee4fd5fba076", "DnsServer"),
    ("c681d488-d850-11d0-8c52-00c04fd90f7e", "efsrpc"),
    ("df1941c5-fe89-4e79-bf10-463657acf44d", "efsrpc"),
    ("000001a0-0000-0000-c000-000000000046", "ISystemActivator"),
    ("4d9f4ab8-7d1c-11cf-861e-0020af6e7c57", "IRemoteActivation"),
    ("99fcfec4-5260-101b-bbcb-00aa0021347a", "IObjectExporter"),
    ("f5cc5a18-4264-101a-8c59-08002b2f8426", "nspi"),
    ("a4f1db00-ca47-1067-b31f-00dd010662da", "exchange_mapi"),
    ("afa8bd80-7d8a-11c9-bef4-08002b102989", "mgmt"),
    ("00000131-0000-0000-c000-000000000046", "IRemUnknown"),
    ("00000143-0000-0000-c000-000000000046", "IRemUnknown2"),
    ("f5cc59b4-4264-101a-8c59-08002b2f8426", "frsrpc"),
];

/// A PDU header at the start of `d`: its type and fragment length, when the header is
/// well-formed (whatever the PDU's length, which may exceed `d`).
fn header(d: &[u8]) -> Option<(u8, usize)> {
    let [vers, minor, ptype, _flags, int_char, float, r1, r2, ..] = *d.get(..HEADER)? else {
        return None;
    };
    let little = match int_char >> 4 {
        0 => false,
        1 => true,
        _ => return None,
    };
    let sane = vers == 5
        && minor <= 1
        && int_char & 0x0f <= 1
        && float <= 3
        && r1 == 0
        && r2 == 0
        && (CLIENT_TYPES.contains(&ptype) || SERVER_TYPES.contains(&ptype));
    if !sane {
        return None;
    }
    let u16_at = |at| if little { le16(d, at) } else { be16(d, at) };
    let frag = usize::from(u16_at(8)?);
    let auth = usize::from(u16_at(10)?);
    (frag >= HEADER && HEADER + auth <= frag).then_some((ptype, frag))
}

/// The abstract syntax of a bind's or alter-context's first presentation context, as a UUID
/// string. `pdu` is the whole PDU.
fn bound_interface(pdu: &[u8]) -> Option<String> {
    let little = u8_at(pdu, 4)? >> 4 == 1;
    // max_xmit_frag, max_recv_frag, assoc_group_id, then the context list: its count (one
    // byte, three reserved), each element's id (2), transfer syntax count (1), reserved (1),
    // then the abstract syntax.
    let list = HEADER + 8;
    if u8_at(pdu, list)? == 0 {
        return None;
    }
    let at = list + 4 + 4;
    let u32_at = |o| if little { le32(pdu, o) } else { be32(pdu, o) };
    let u16_at = |o| if little { le16(pdu, o) } else { be16(pdu, o) };
    let (time_low, time_mid, time_hi) = (u32_at(at)?, u16_at(at + 4)?, u16_at(at + 6)?);
    let rest = pdu.get(at + 8..at + 16)?;
    use crate::text::hex;
    Some(format!(
        "{time_low:08x}-{time_mid:04x}-{time_hi:04x}-{}-{}",
        hex(rest.get(..2)?),
        hex(rest.get(2..)?)
    ))
}

/// A request's operation number (after alloc_hint and the context id).
fn request_opnum(pdu: &[u8]) -> Option<u16> {
    let little = u8_at(pdu, 4)? >> 4 == 1;
    if little {
        le16(pdu, HEADER + 6)
    } else {
        be16(pdu, HEADER + 6)
    }
}

/// Whether the flow so far is DCE/RPC: the first PDU of the client (or, without one yet, of
/// the server) is well-formed and of that side's types, and fits what arrived: it ends
/// where the data ends or another PDU header follows.
fn probe(ins: &Inspect<'_>) -> Option<bool> {
    let types = if ins.to_server() {
        CLIENT_TYPES
    } else {
        SERVER_TYPES
    };
    let d = ins.data;
    if d.len() < HEADER {
        let may_be = d.first().map_or(true, |&b| b == 5) && d.get(1).map_or(true, |&b| b <= 1);
        return if may_be { None } else { Some(false) };
    }
    let Some((ptype, frag)) = header(d) else {
        return Some(false);
    };
    if !types.contains(&ptype) {
        return Some(false);
    }
    match d.len().cmp(&frag) {
        std::cmp::Ordering::Less => None,
        std::cmp::Ordering::Equal => Some(true),
        std::cmp::Ordering::Greater => Some(header(d.get(frag..).unwrap_or_default()).is_some()),
    }
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    if !matches!(st.state, ProtoState::DceRpc(_)) {
        match probe(ins) {
            Some(true) => {}
            Some(false) => return Verdict::Exclude,
            None => return Verdict::Continue,
        }
        ins.detect(id::DCERPC);
        *st.state = ProtoState::DceRpc(0);
    }
    let ProtoState::DceRpc(pdus) = st.state else {
        return Verdict::Done;
    };
    let mut data = ins.data;
    let mut consumed = 0;
    while let Some((ptype, frag)) = header(data) {
        let Some(pdu) = data.get(..frag) else {
            break;
        };
        *pdus = pdus.saturating_add(1);
        if ins.to_server() {
            if matches!(ptype, BIND | ALTER_CONTEXT) && !st.meta.has(&INTERFACE) {
                if let Some(uuid) = bound_interface(pdu) {
                    if let Some((_, name)) = ENDPOINTS.iter().find(|(u, _)| *u == uuid) {
                        st.meta.set_str(&ENDPOINT, *name);
                    }
                    st.meta.set_str(&INTERFACE, uuid);
                }
            } else if ptype == REQUEST && !st.meta.has(&OPNUM) {
                if let Some(op) = request_opnum(pdu) {
                    st.meta.set(&OPNUM, MetaValue::Int(i64::from(op)));
                }
            }
        }
        consumed += frag;
        data = data.get(frag..).unwrap_or_default();
    }
    ins.consume(consumed);
    if *pdus >= MAX_PDUS || st.meta.has(&OPNUM) {
        return Verdict::Done;
    }
    Verdict::Continue
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    /// The endpoint mapper bind seen on port 502 in Zeek's modbus-and-non-modbus-p502 trace.
    const EPM_BIND: &str = "05000b03100000004800000001000000b810b8100000000001000000000001000883afe11f5dc91191a408002b14a0fa03000000045d888aeb1cc9119fe808002b10486002000000";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .filter_map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect()
    }

    /// A little-endian request for operation `op` of context 0 with an empty stub.
    fn request(op: u16) -> Vec<u8> {
        let mut d = vec![5, 0, 0, 3, 0x10, 0, 0, 0, 24, 0, 0, 0, 2, 0, 0, 0];
        d.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        d.extend_from_slice(&op.to_le_bytes());
        d
    }

    #[test]
    fn an_endpoint_mapper_bind_on_any_port() {
        let mut c = Conv::all(6, 38129, 502);
        c.client(&unhex(EPM_BIND));
        assert_eq!(c.name(), "DCERPC");
        assert_eq!(
            c.meta(&INTERFACE).as_deref(),
            Some("e1af8308-5d1f-11c9-91a4-08002b14a0fa")
        );
        assert_eq!(c.meta(&ENDPOINT).as_deref(), Some("epmapper"));
        c.client(&request(3));
        assert_eq!(c.meta(&OPNUM).as_deref(), Some("3"));
    }

    #[test]
    fn a_request_caught_mid_call() {
        let mut c = Conv::tcp(&DISSECTOR, 50000, 49667);
        let mut two = request(9);
        two.extend_from_slice(&request(10));
        c.client(&two);
        assert_eq!(c.name(), "DCERPC");
        assert_eq!(c.meta(&OPNUM).as_deref(), Some("9"));
    }

    #[test]
    fn headers_that_are_not_dcerpc() {
        let bind = unhex(EPM_BIND);
        assert!(header(&bind).is_some());
        for (at, value) in [(0, 4), (1, 2), (2, 1), (4, 0x20), (5, 9), (6, 1), (8, 8)] {
            let mut d = bind.clone();
            if let Some(b) = d.get_mut(at) {
                *b = value;
            }
            assert_eq!(header(&d), None, "byte {at} = {value}");
        }
        // A bind whose length says more than a full segment brought, then other bytes.
        let mut c = Conv::tcp(&DISSECTOR, 50000, 135);
        let mut d = bind.clone();
        d.extend_from_slice(b"GET / HTTP/1.1\r\n");
        c.client(&d);
        assert_eq!(c.name(), "Unknown");
    }
}
