//! Signature packs: applications described as data (name, category, host-name suffixes,
//! IP ranges), compiled at start-up into lookup tables. Packs are TOML; the default pack is
//! built in and more can be loaded (and reloaded) at run time.

use std::net::IpAddr;

use hashbrown::HashMap;
use serde::Deserialize;

/// An application id, as declared in its pack.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct AppId(pub u16);

#[derive(Clone, Debug)]
pub struct App {
    pub id: AppId,
    pub name: String,
    pub category: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    #[serde(default)]
    app: Vec<AppEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppEntry {
    id: u16,
    name: String,
    category: String,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    ip: Vec<String>,
}

/// An IPv4 or IPv6 range, as the first address and the prefix length.
#[derive(Clone, Copy, Debug)]
struct Cidr {
    net: u128,
    bits: u8,
    v6: bool,
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let (addr, bits) = match text.split_once('/') {
            Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
            None => (text, None),
        };
        let ip: IpAddr = addr.trim().parse().ok()?;
        let (value, v6, max) = match ip {
            IpAddr::V4(a) => (u128::from(u32::from(a)), false, 32u8),
            IpAddr::V6(a) => (u128::from(a), true, 128u8),
        };
        let bits = bits.unwrap_or(max);
        if bits > max {
            return None;
        }
        let host_bits = u32::from(max - bits);
        let net = if host_bits >= 128 {
            0
        } else {
            (value >> host_bits) << host_bits
        };
        Some(Cidr { net, bits, v6 })
    }

    fn contains(&self, value: u128, v6: bool) -> bool {
        if v6 != self.v6 {
            return false;
        }
        let max = if v6 { 128 } else { 32 };
        let host_bits = u32::from(max - self.bits);
        host_bits >= 128 || (value >> host_bits) << host_bits == self.net
    }
}

/// A pack that could not be loaded, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError(pub String);

impl std::fmt::Display for PackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PackError {}

/// The compiled signatures of every loaded pack.
#[derive(Clone, Default)]
pub struct SignatureSet {
    apps: Vec<App>,
    by_id: HashMap<AppId, usize>,
    hosts: HashMap<String, AppId>,
    /// Ranges sorted by prefix length, longest first, so the first hit is the most specific.
    cidrs: Vec<(Cidr, AppId)>,
}

/// The pack built into the engine.
pub const DEFAULT_PACK: &str = include_str!("../../signatures/apps.toml");

impl SignatureSet {
    /// The built-in pack.
    pub fn builtin() -> SignatureSet {
        let mut set = SignatureSet::default();
        // The built-in pack is checked by a unit test, so this cannot fail at run time.
        let _ = set.load_str(DEFAULT_PACK, "built-in pack");
        set
    }

    /// Adds a pack's applications; an application id already loaded is replaced.
    pub fn load_str(&mut self, text: &str, origin: &str) -> Result<usize, PackError> {
        let pack: PackFile =
            toml::from_str(text).map_err(|e| PackError(format!("{origin}: {e}")))?;
        let count = pack.app.len();
        for entry in pack.app {
            let id = AppId(entry.id);
            if entry.name.is_empty() || entry.name.contains('.') {
                return Err(PackError(format!(
                    "{origin}: app {}: name must be non-empty, without dots",
                    entry.id
                )));
            }
            let app = App {
                id,
                name: entry.name,
                category: entry.category,
            };
            match self.by_id.get(&id) {
                Some(&i) => {
                    if let Some(slot) = self.apps.get_mut(i) {
                        *slot = app;
                    }
                }
                None => {
                    self.by_id.insert(id, self.apps.len());
                    self.apps.push(app);
                }
            }
            for host in entry.hosts {
                let host = normalize_host(&host);
                if host.is_empty() {
                    return Err(PackError(format!(
                        "{origin}: app {}: empty host pattern",
                        id.0
                    )));
                }
                self.hosts.insert(host.into_owned(), id);
            }
            for text in entry.ip {
                let cidr = Cidr::parse(&text).ok_or_else(|| {
                    PackError(format!("{origin}: app {}: bad IP range {text:?}", id.0))
                })?;
                self.cidrs.push((cidr, id));
            }
        }
        self.cidrs.sort_by_key(|c| std::cmp::Reverse(c.0.bits));
        Ok(count)
    }

    pub fn app(&self, id: AppId) -> Option<&App> {
        self.by_id.get(&id).and_then(|&i| self.apps.get(i))
    }

    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// The application of a host name: the longest pattern that is the name or one of its
    /// parent domains (`r1.googlevideo.com` matches `googlevideo.com`).
    pub fn match_host(&self, host: &str) -> Option<AppId> {
        let host = normalize_host(host);
        let mut rest: &str = &host;
        loop {
            if let Some(&id) = self.hosts.get(rest) {
                return Some(id);
            }
            match rest.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => rest = parent,
                _ => return None,
            }
        }
    }

    /// The application owning an address, by the most specific range.
    pub fn match_ip(&self, version: u8, ip: &[u8; 16]) -> Option<AppId> {
        let (value, v6) = if version == 4 {
            let [a, b, c, d, ..] = *ip;
            (u128::from(u32::from_be_bytes([a, b, c, d])), false)
        } else {
            (u128::from_be_bytes(*ip), true)
        };
        self.cidrs
            .iter()
            .find(|(c, _)| c.contains(value, v6))
            .map(|(_, id)| *id)
    }
}

/// Lower case, without a trailing dot or a `:port`.
pub fn normalize_host(host: &str) -> std::borrow::Cow<'_, str> {
    let host = host.trim().trim_end_matches('.');
    let host = match host.rsplit_once(':') {
        // Strip a port, but not from a bare IPv6 address.
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(host.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pack_loads() {
        let mut set = SignatureSet::default();
        let n = set
            .load_str(DEFAULT_PACK, "built-in")
            .expect("built-in pack is valid");
        assert!(n > 0);
    }

    #[test]
    fn hosts_match_on_label_boundaries_and_ips_by_range() {
        let mut set = SignatureSet::default();
        let pack = r#"
            [[app]]
            id = 5000
            name = "Example"
            category = "Web"
            hosts = ["example.com"]
            ip = ["192.0.2.0/24", "2001:db8::/32"]
        "#;
        set.load_str(pack, "test").expect("valid");
        assert_eq!(set.match_host("www.Example.COM."), Some(AppId(5000)));
        assert_eq!(set.match_host("example.com:8080"), Some(AppId(5000)));
        assert_eq!(set.match_host("notexample.com"), None);
        let mut v4 = [0u8; 16];
        v4[..4].copy_from_slice(&[192, 0, 2, 77]);
        assert_eq!(set.match_ip(4, &v4), Some(AppId(5000)));
        let v6: std::net::Ipv6Addr = "2001:db8::1".parse().expect("valid");
        assert_eq!(set.match_ip(6, &v6.octets()), Some(AppId(5000)));
        assert!(set
            .load_str("[[app]]\nid=1\nname='a.b'\ncategory='x'\n", "bad")
            .is_err());
    }
}
