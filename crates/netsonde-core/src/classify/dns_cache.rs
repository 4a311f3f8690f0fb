//! The DNS cache: addresses answered in DNS responses, mapped to the application of the name
//! that was asked for. A later flow to one of those addresses that ends its inspection with
//! no application and no server name of its own takes the application from here, with
//! confidence "DPI (cache)".
//!
//! One cache per engine (no global state). It is bounded: at most [`DNS_CACHE_ENTRIES`]
//! addresses by default, held in two generations of half that size each. When the current
//! generation is full, the older one is dropped whole (the dropped entries are counted) and
//! the current one becomes the older. A hit in the older generation moves the entry back
//! into the current one, so what goes first is what was neither answered nor used for the
//! longest. Record TTLs are not followed: an entry lives until pushed out.

use std::net::IpAddr;

use hashbrown::HashMap;

use super::AppId;

/// Addresses held by default (about 2 MiB when full).
pub const DNS_CACHE_ENTRIES: usize = 65_536;

/// Call endpoints held by default.
pub const CALL_CACHE_ENTRIES: usize = 16_384;

/// An address as the flow table holds it: IP version and 16 bytes (IPv4 in the first 4).
type Key = (u8, [u8; 16]);

/// The DNS cache: applications by answered address.
pub type DnsCache = AppCache<Key>;

/// The call cache: applications by (address, port) of a call's local endpoint, learnt from
/// a media flow (STUN, DTLS, RTP, RTCP) whose application was recognised, so that the later
/// media flows of the same endpoint get it too ("DPI (cache)"), as nDPI does for calls.
pub type CallCache = AppCache<(u8, [u8; 16], u16)>;

/// A bounded map from a key to an application, in two generations (see the module doc).
pub struct AppCache<K> {
    /// Entries per generation; 0 turns the cache off.
    generation: usize,
    current: HashMap<K, AppId>,
    previous: HashMap<K, AppId>,
    dropped: u64,
}

impl<K> Default for AppCache<K> {
    fn default() -> Self {
        AppCache {
            generation: 0,
            current: HashMap::new(),
            previous: HashMap::new(),
            dropped: 0,
        }
    }
}

impl<K: std::hash::Hash + Eq + Copy> AppCache<K> {
    /// A cache holding at most `entries` keys (0: a cache that never holds any).
    pub fn new(entries: usize) -> AppCache<K> {
        AppCache {
            generation: entries.div_ceil(2),
            ..AppCache::default()
        }
    }

    /// Remembers `app` for `key`.
    pub fn insert_key(&mut self, key: K, app: AppId) {
        if self.generation == 0 {
            return;
        }
        if let Some(slot) = self.current.get_mut(&key) {
            *slot = app;
            return;
        }
        if self.current.len() >= self.generation {
            self.dropped += self.previous.len() as u64;
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
        }
        self.current.insert(key, app);
    }

    /// The application held for `key`; a hit in the older generation renews the entry.
    pub fn get_key(&mut self, key: K) -> Option<AppId> {
        if let Some(&app) = self.current.get(&key) {
            return Some(app);
        }
        let app = self.previous.remove(&key)?;
        self.insert_key(key, app);
        Some(app)
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries dropped so far to stay within the bound.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl DnsCache {
    /// Remembers that `ip` serves `app`.
    pub fn insert(&mut self, version: u8, ip: &[u8; 16], app: AppId) {
        self.insert_key((version, *ip), app);
    }

    /// The application `ip` was last answered for, if it is still held.
    pub fn get(&mut self, version: u8, ip: &[u8; 16]) -> Option<AppId> {
        self.get_key((version, *ip))
    }

    /// Remembers every address among a response's answers (names are skipped); returns how
    /// many there were.
    pub fn learn(&mut self, app: AppId, answers: &[String]) -> usize {
        let mut n = 0;
        for answer in answers {
            let Ok(addr) = answer.parse::<IpAddr>() else {
                continue;
            };
            let (version, bytes) = match addr {
                IpAddr::V4(a) => {
                    let mut b = [0u8; 16];
                    b.iter_mut().zip(a.octets()).for_each(|(d, s)| *d = s);
                    (4, b)
                }
                IpAddr::V6(a) => (6, a.octets()),
            };
            self.insert(version, &bytes, app);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: u8, b: u8, c: u8, d: u8) -> [u8; 16] {
        let mut ip = [0u8; 16];
        ip.iter_mut()
            .zip([a, b, c, d])
            .for_each(|(dst, src)| *dst = src);
        ip
    }

    #[test]
    fn learns_addresses_from_answers_and_skips_names() {
        let mut cache = DnsCache::new(16);
        let answers = [
            "www.example.net".to_string(),
            "192.0.2.7".to_string(),
            "2001:db8::7".to_string(),
        ];
        assert_eq!(cache.learn(AppId(1110), &answers), 2);
        assert_eq!(cache.get(4, &v4(192, 0, 2, 7)), Some(AppId(1110)));
        let v6: std::net::Ipv6Addr = "2001:db8::7".parse().expect("valid");
        assert_eq!(cache.get(6, &v6.octets()), Some(AppId(1110)));
        // The same bytes under the other version are another address.
        assert_eq!(cache.get(6, &v4(192, 0, 2, 7)), None);
        assert_eq!(cache.get(4, &v4(192, 0, 2, 8)), None);
        // A newer answer for the same address wins.
        cache.insert(4, &v4(192, 0, 2, 7), AppId(1000));
        assert_eq!(cache.get(4, &v4(192, 0, 2, 7)), Some(AppId(1000)));
    }

    #[test]
    fn stays_bounded_and_keeps_what_is_used() {
        let mut cache = DnsCache::new(4);
        for i in 0..4 {
            cache.insert(4, &v4(10, 0, 0, i), AppId(u16::from(i)));
        }
        assert_eq!(cache.len(), 4);
        assert_eq!(cache.dropped(), 0);
        // 10.0.0.0 sits in the older generation; using it moves it to a new current one,
        // which pushes out the oldest generation's other entry (10.0.0.1).
        assert_eq!(cache.get(4, &v4(10, 0, 0, 0)), Some(AppId(0)));
        assert_eq!(cache.dropped(), 1);
        assert_eq!(cache.get(4, &v4(10, 0, 0, 1)), None);
        assert_eq!(cache.get(4, &v4(10, 0, 0, 0)), Some(AppId(0)));
        assert_eq!(cache.get(4, &v4(10, 0, 0, 3)), Some(AppId(3)));
        for i in 10..200 {
            cache.insert(4, &v4(10, 0, 1, i), AppId(u16::from(i)));
            assert!(cache.len() <= 4);
        }
        assert_eq!(cache.get(4, &v4(10, 0, 1, 199)), Some(AppId(199)));
        assert_eq!(cache.get(4, &v4(10, 0, 0, 0)), None);
        let mut off = DnsCache::new(0);
        off.insert(4, &v4(10, 0, 0, 1), AppId(1));
        assert!(off.is_empty());
        assert_eq!(off.get(4, &v4(10, 0, 0, 1)), None);
    }
}
