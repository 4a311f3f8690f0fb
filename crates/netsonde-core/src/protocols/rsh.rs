//! RSH (BSD remote shell, TCP 514): the client sends the port for standard error as
//! decimal text (possibly empty) and a NUL, then the local user, the remote user and the
//! command, each NUL-terminated. Confirmed once those four fields have arrived in order, the
//! user names and the command non-empty and printable.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::RSH,
    transports: Transports::TCP,
    tcp_ports: &[514],
    udp_ports: &[],
    inspect,
};

/// Longest user name accepted.
const MAX_USER: usize = 64;
/// Longest command accepted (the server's limit is about the page size).
const MAX_COMMAND: usize = 4096;

/// How much of the opening arrived: `Some(true)` when complete and well formed,
/// `Some(false)` while a prefix of it, `None` when it cannot be RSH.
pub fn opening(d: &[u8]) -> Option<bool> {
    let mut fields = d.split(|&b| b == 0);
    let port = fields.next()?;
    if port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let limits = [MAX_USER, MAX_USER, MAX_COMMAND];
    let nuls = d.iter().filter(|&&b| b == 0).count();
    for (i, max) in limits.iter().enumerate() {
        let Some(f) = fields.next() else {
            return Some(false);
        };
        let printable = f.iter().all(|&b| b.is_ascii_graphic() || b == b' ');
        // User names and the command are never empty (a run of NULs is binary data).
        let empty = f.is_empty() && nuls > i + 1;
        if f.len() > *max || !printable || empty || (i < 2 && f.contains(&b' ')) {
            return None;
        }
        // Both user names and the command are required (rshd refuses empty ones); an empty
        // field can only be the one still arriving.
        if f.is_empty() && i + 1 < nuls {
            return None;
        }
    }
    if nuls < 4 {
        return Some(false);
    }
    Some(true)
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if !ins.to_server() {
        return Verdict::Exclude;
    }
    match opening(ins.data) {
        Some(true) => {
            ins.detect(id::RSH);
            Verdict::Done
        }
        Some(false)
            if ins
                .dir_packets
                .get(ins.dir as usize)
                .is_some_and(|&n| n < 4) =>
        {
            Verdict::Continue
        }
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn port_then_users_and_command() {
        let mut c = Conv::tcp(&DISSECTOR, 1023, 514);
        c.client(b"1022\x00");
        assert!(c.open);
        c.client(b"lns\x00root\x00mkdir testdir\x00");
        assert_eq!(c.name(), "RSH");
    }

    #[test]
    fn others() {
        assert_eq!(opening(b"\x00lns\x00root\x00ls\x00"), Some(true));
        assert_eq!(opening(b"10x2\x00"), None);
        // A binary header full of NULs (Modbus/TCP) is no RSH opening.
        assert_eq!(opening(b"\x00\x00\x00\x00\x00\x04\x00\x5a\x00\x02"), None);
        assert_eq!(opening(b"\x00lns\x00\x00ls\x00"), None);
        assert_eq!(opening(b"1022\x00a b\x00root\x00ls\x00"), None);
        // Empty user names or command: binary data with zeros, not RSH.
        assert_eq!(opening(b"\x00\x00\x00(\x00\x00\x00\x02"), None);
        assert_eq!(opening(b"\x00lns\x00root\x00\x00"), None);
        assert_eq!(opening(b"\x00lns\x00"), Some(false));
        let mut c = Conv::tcp(&DISSECTOR, 1023, 514);
        c.client(b"<13>syslog line");
        assert!(!c.open);
    }
}
