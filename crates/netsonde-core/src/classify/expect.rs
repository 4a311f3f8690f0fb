//! Connections a control connection announced (FTP's PASV, EPSV, PORT and EPRT replies and
//! commands): a later flow between the same two hosts to the announced port is the data
//! connection, named after its control connection when its payload names nothing.
//!
//! Kept per engine, not shared: sharded analyses route flows by their two addresses, ports
//! ignored, so a data connection meets its control connection in the same worker, and it is
//! matched only there (the key holds both hosts; a transfer to a third host is not matched).
//! The announced address is not compared: behind NAT the server announces its private one.

use std::collections::{HashMap, VecDeque};

use super::ProtoId;
use crate::decode::IpBytes;

/// Announcements kept at most; the oldest goes first.
pub const EXPECTATIONS: usize = 1024;

/// The two hosts of a control connection (in a fixed order) and the announced port.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ExpectKey {
    hosts: (IpBytes, IpBytes),
    port: u16,
}

impl ExpectKey {
    pub fn new(a: IpBytes, b: IpBytes, port: u16) -> ExpectKey {
        ExpectKey {
            hosts: if a <= b { (a, b) } else { (b, a) },
            port,
        }
    }
}

/// The announced connections and what they will carry.
#[derive(Default)]
pub struct Expectations {
    by_key: HashMap<ExpectKey, ProtoId, ahash::RandomState>,
    order: VecDeque<ExpectKey>,
}

impl Expectations {
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// A connection to `key` will carry `proto`.
    pub fn announce(&mut self, key: ExpectKey, proto: ProtoId) {
        if self.by_key.insert(key, proto).is_some() {
            return;
        }
        self.order.push_back(key);
        while self.order.len() > EXPECTATIONS {
            if let Some(old) = self.order.pop_front() {
                self.by_key.remove(&old);
            }
        }
    }

    /// What a connection to `key` was announced to carry.
    pub fn get(&self, key: &ExpectKey) -> Option<ProtoId> {
        self.by_key.get(key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announced_ports_are_found_from_either_side_and_the_oldest_go_first() {
        let (a, b, c) = ([1; 16], [2; 16], [3; 16]);
        let mut e = Expectations::default();
        e.announce(ExpectKey::new(a, b, 50000), ProtoId(175));
        assert_eq!(e.get(&ExpectKey::new(b, a, 50000)), Some(ProtoId(175)));
        assert_eq!(e.get(&ExpectKey::new(a, c, 50000)), None);
        assert_eq!(e.get(&ExpectKey::new(a, b, 50001)), None);
        for port in 0..EXPECTATIONS as u16 {
            e.announce(ExpectKey::new(a, c, port), ProtoId(175));
        }
        assert_eq!(e.get(&ExpectKey::new(a, b, 50000)), None);
        assert_eq!(e.order.len(), EXPECTATIONS);
        assert_eq!(e.by_key.len(), EXPECTATIONS);
    }
}
