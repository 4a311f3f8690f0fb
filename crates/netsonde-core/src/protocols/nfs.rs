//! NFS and its ONC-RPC companions (RFC 5531, 1813, 7530): an RPC call (message type 0, RPC
//! version 2, a program of the NFS family, a credential whose length fits) confirms it; nDPI
//! names the whole family (portmapper, mountd, lock manager, status monitor) NFS. Over TCP
//! each record carries a 4-byte record mark (last-fragment bit and length).

use super::wire::be32;
use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};
use crate::attrs;
use crate::record::MetaValue;

attrs! {
    pub PROGRAM = "nfs.program", Int, Usage, "ONC-RPC program of the first call (100003 = NFS, 100000 = portmapper, 100005 = mountd, …)";
    pub VERSION = "nfs.version", Int, Service, "Program version of the first call";
    pub PROCEDURE = "nfs.procedure", Int, Usage, "Procedure number of the first call";
}

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[&PROGRAM, &VERSION, &PROCEDURE];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::NFS,
    transports: Transports::TCP_UDP,
    tcp_ports: &[2049, 111],
    udp_ports: &[2049, 111],
    inspect,
};

/// Programs of the NFS family: portmapper, NFS, mountd, NLM, NSM, NFS ACL.
const PROGRAMS: [u32; 6] = [100_000, 100_003, 100_005, 100_021, 100_024, 100_227];
/// Credential and verifier bodies are at most 400 bytes (RFC 5531).
const MAX_AUTH: u32 = 400;

/// The program, version and procedure of an RPC call at the start of `d`.
pub fn parse_call(d: &[u8]) -> Option<(u32, u32, u32)> {
    let msg_type = be32(d, 4)?;
    let rpc_version = be32(d, 8)?;
    let (program, version, procedure) = (be32(d, 12)?, be32(d, 16)?, be32(d, 20)?);
    let cred_flavor = be32(d, 24)?;
    let cred_len = be32(d, 28)?;
    if msg_type != 0
        || rpc_version != 2
        || !PROGRAMS.contains(&program)
        || !(1..=4).contains(&version)
        || procedure > 100
        || cred_flavor > 6
        || cred_len > MAX_AUTH
    {
        return None;
    }
    // The verifier follows the credential.
    let verf_at = 32 + usize::try_from(cred_len).ok()?;
    let verf_len = be32(d, verf_at + 4)?;
    if verf_len > MAX_AUTH {
        return None;
    }
    Some((program, version, procedure))
}

fn inspect(ins: &mut Inspect<'_>, st: &mut DissectorState<'_>) -> Verdict {
    let tcp = ins.flow.l4 == 6;
    let msg = if tcp {
        let Some(mark) = be32(ins.data, 0) else {
            return Verdict::Continue;
        };
        let len = usize::try_from(mark & 0x7FFF_FFFF).unwrap_or(usize::MAX);
        if !(40..=1 << 20).contains(&len) {
            return Verdict::Exclude;
        }
        ins.data.get(4..).unwrap_or_default()
    } else {
        ins.data
    };
    // Only calls identify the program; a reply first (capture started late) waits.
    if be32(msg, 4) == Some(1) && ins.packet_no == 1 {
        return Verdict::Continue;
    }
    let Some((program, version, procedure)) = parse_call(msg) else {
        if tcp && msg.len() < 40 {
            return Verdict::Continue;
        }
        return Verdict::Exclude;
    };
    ins.detect(id::NFS);
    st.set(&PROGRAM, MetaValue::Int(i64::from(program)));
    st.set(&VERSION, MetaValue::Int(i64::from(version)));
    st.set(&PROCEDURE, MetaValue::Int(i64::from(procedure)));
    Verdict::Done
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // test fixtures are built by index
mod tests {
    use super::*;

    #[test]
    fn portmap_getport_call() {
        let words: [u32; 10] = [0x1234, 0, 2, 100_000, 2, 3, 0, 0, 0, 0];
        let d: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(parse_call(&d), Some((100_000, 2, 3)));
        let mut bad = d.clone();
        bad[15] = 0x99; // another program
        assert_eq!(parse_call(&bad), None);
        bad = d.clone();
        bad[7] = 1; // a reply
        assert_eq!(parse_call(&bad), None);
        assert_eq!(parse_call(&d[..36]), None);
    }
}
