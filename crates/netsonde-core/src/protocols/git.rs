//! Git's native protocol (git://, TCP 9418): the client's first pkt-line — four lowercase
//! hex digits giving the line's length (themselves included), then the service
//! (`git-upload-pack`, `git-receive-pack` or `git-upload-archive`), a space and the path.
//! Confirmed by a service request whose length matches what arrived.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::GIT,
    transports: Transports::TCP,
    tcp_ports: &[9418],
    udp_ports: &[],
    inspect,
};

const SERVICES: &[&[u8]] = &[
    b"git-upload-pack ",
    b"git-receive-pack ",
    b"git-upload-archive ",
];
/// pkt-lines are at most 65520 bytes.
const MAX_PKT: usize = 65_520;

fn hex_len(d: &[u8]) -> Option<usize> {
    let digits = d.get(..4)?;
    digits.iter().try_fold(0usize, |acc, &b| {
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        Some(acc * 16 + usize::from(v))
    })
}

/// `Some(true)` for a whole service request, `Some(false)` while one may still arrive.
pub fn request(d: &[u8]) -> Option<bool> {
    let digits_ok = d
        .iter()
        .take(4)
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    let Some(len) = hex_len(d) else {
        return digits_ok.then_some(false);
    };
    if !(4 + SERVICES.iter().map(|s| s.len()).min()?..=MAX_PKT).contains(&len) {
        return None;
    }
    let body = d.get(4..).unwrap_or_default();
    let service_ok = SERVICES.iter().any(|s| {
        let n = body.len().min(s.len());
        body.get(..n) == s.get(..n)
    });
    if !service_ok {
        return None;
    }
    Some(d.len() >= len && SERVICES.iter().any(|s| body.starts_with(s)))
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    if !ins.to_server() {
        return Verdict::Exclude;
    }
    match request(ins.data) {
        Some(true) => {
            ins.detect(id::GIT);
            Verdict::Done
        }
        Some(false) if ins.data.len() < MAX_PKT => Verdict::Continue,
        _ => Verdict::Exclude,
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    const UPLOAD: &[u8] = b"0032git-upload-pack /project.git\x00host=myserver.com\x00";

    #[test]
    fn upload_pack_request() {
        assert_eq!(request(UPLOAD), Some(true));
        assert_eq!(request(b"0032git-up"), Some(false));
        assert_eq!(request(b"0032git-fetch /x"), None);
        assert_eq!(request(b"00X2git-upload-pack /x"), None);
        let mut c = Conv::tcp(&DISSECTOR, 47991, 9418);
        c.client(UPLOAD);
        assert_eq!(c.name(), "Git");
    }
}
