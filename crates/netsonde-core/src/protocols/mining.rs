//! Crypto-currency mining pools: the Stratum family of JSON-RPC protocols over TCP. A
//! miner opens with a JSON object naming a pool method — `mining.subscribe`,
//! `mining.authorize` (Stratum v1), `eth_submitLogin`/`eth_login` (Ethereum proxies),
//! `login` with a password (CryptoNote pools). Confirmed by such a request.

use super::{id, Dissector, DissectorState, Inspect, Transports, Verdict};

pub static ATTRS: &[&crate::metadata::AttrSpec] = &[];

pub static DISSECTOR: Dissector = Dissector {
    proto: id::MINING,
    transports: Transports::TCP,
    tcp_ports: &[],
    udp_ports: &[],
    inspect,
};

const POOL_METHODS: &[&[u8]] = &[
    b"mining.subscribe",
    b"mining.authorize",
    b"mining.extranonce.subscribe",
    b"eth_submitLogin",
    b"eth_login",
];

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The string value of the first `key` in a JSON text.
fn string_value<'a>(json: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = find(json, key)? + key.len();
    let rest = json.get(at..)?.trim_ascii_start().strip_prefix(b":")?;
    let rest = rest.trim_ascii_start().strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    rest.get(..end)
}

/// A pool request: a JSON object whose `method` is a mining method.
pub fn is_pool_request(d: &[u8]) -> bool {
    let d = d.trim_ascii_end();
    if d.first() != Some(&b'{') || d.last() != Some(&b'}') {
        return false;
    }
    let Some(method) = string_value(d, b"\"method\"") else {
        return false;
    };
    POOL_METHODS.contains(&method)
        || (method == b"login"
            && find(d, b"\"params\"").is_some()
            && find(d, b"\"pass\"").is_some())
}

fn inspect(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
    let d = ins.data;
    if d.first() != Some(&b'{') {
        return Verdict::Exclude;
    }
    if is_pool_request(d) {
        ins.detect(id::MINING);
        return Verdict::Done;
    }
    // A JSON request may span segments; give it a few packets.
    if ins.dir_packets.iter().sum::<u16>() < 4 {
        Verdict::Continue
    } else {
        Verdict::Exclude
    }
}

#[cfg(test)]
mod tests {
    use super::super::harness::Conv;
    use super::*;

    #[test]
    fn stratum_subscribe() {
        let mut c = Conv::tcp(&DISSECTOR, 46838, 3333);
        c.client(b"{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"EWBF 0.3.4b\",null]}\n");
        assert_eq!(c.name(), "Mining");
    }

    #[test]
    fn eth_and_cryptonote_logins() {
        assert!(is_pool_request(
            br#"{"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0x9c"], "id": 2, "method": "eth_submitLogin"}"#
        ));
        assert!(is_pool_request(
            br#"{"method":"login","params":{"login":"4BCe","pass":"x","agent":"xmrig"},"id":1}"#
        ));
        assert!(!is_pool_request(
            br#"{"method":"login","params":{"user":"a"}}"#
        ));
        assert!(!is_pool_request(
            br#"{"method":"eth_getBalance","params":[]}"#
        ));
        let mut c = Conv::tcp(&DISSECTOR, 46838, 3333);
        c.client(b"GET / HTTP/1.1\r\n\r\n");
        assert!(!c.open);
    }
}
