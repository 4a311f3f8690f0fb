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
    /// Names a TLS server certificate's subject gives the owner (organization or common
    /// name, compared whole, case ignored) when they are no host name: "AnyDesk Client".
    #[serde(default)]
    cert_names: Vec<String>,
    /// The dissector that names this application from what it parses (STUN names the
    /// call application); such an entry needs no hosts or ranges of its own.
    #[serde(default)]
    #[allow(dead_code)] // documents the entry; read by the pack's tests
    named_by: Option<String>,
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
        Some(Cidr {
            net: mask(value, max - bits),
            bits,
            v6,
        })
    }
}

/// A host pattern whose labels may hold one `*` each, standing for any characters within
/// that label (never a dot): `igcdn-photos-*.akamaihd.net`, `video.*.fna.fbcdn.net`. Like a
/// plain suffix it matches the name or any name below it, label for label.
#[derive(Clone, Debug)]
struct HostGlob {
    /// The pattern's labels, last (top-level) first, each split at its `*` (`None`: no `*`).
    labels: Vec<(String, Option<String>)>,
    app: AppId,
}

impl HostGlob {
    fn parse(pattern: &str, app: AppId) -> Option<HostGlob> {
        let mut labels = Vec::new();
        for label in pattern.rsplit('.') {
            if label.is_empty() || label.matches('*').count() > 1 {
                return None;
            }
            labels.push(match label.split_once('*') {
                Some((a, b)) => (a.to_string(), Some(b.to_string())),
                None => (label.to_string(), None),
            });
        }
        Some(HostGlob { labels, app })
    }

    /// Whether `host` (normalized) is the pattern or a name below it.
    fn matches(&self, host: &str) -> bool {
        let mut host_labels = host.rsplit('.');
        self.labels.iter().all(|(head, tail)| {
            let Some(label) = host_labels.next() else {
                return false;
            };
            match tail {
                None => label == head,
                Some(tail) => {
                    label.len() >= head.len() + tail.len()
                        && label.starts_with(head.as_str())
                        && label.ends_with(tail.as_str())
                }
            }
        })
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

/// The ranges of one address family and prefix length, keyed by their network address.
#[derive(Clone)]
struct RangeTable {
    v6: bool,
    bits: u8,
    nets: HashMap<u128, AppId>,
}

/// The compiled signatures of every loaded pack.
#[derive(Clone, Default)]
pub struct SignatureSet {
    apps: Vec<App>,
    by_id: HashMap<AppId, usize>,
    hosts: HashMap<String, AppId>,
    /// Host patterns with wildcards (`igcdn-photos-*.akamaihd.net`), tried beside `hosts`.
    globs: Vec<HostGlob>,
    /// Certificate subject names (lower case) of `cert_names`.
    cert_names: HashMap<String, AppId>,
    /// One table per (family, prefix length), longest prefix first: a lookup costs one hash
    /// probe per distinct length and the first hit is the most specific range.
    ranges: Vec<RangeTable>,
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

    /// The built-in pack, compiled once per process and shared (it is immutable): parsing
    /// it takes a few milliseconds, which every new engine would otherwise pay again.
    pub fn builtin_shared() -> std::sync::Arc<SignatureSet> {
        static BUILTIN: std::sync::OnceLock<std::sync::Arc<SignatureSet>> =
            std::sync::OnceLock::new();
        BUILTIN
            .get_or_init(|| std::sync::Arc::new(SignatureSet::builtin()))
            .clone()
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
                if host.contains('*') {
                    let glob = HostGlob::parse(&host, id).ok_or_else(|| {
                        PackError(format!("{origin}: app {}: bad host pattern {host:?}", id.0))
                    })?;
                    self.globs.retain(|g| g.labels != glob.labels);
                    self.globs.push(glob);
                } else {
                    self.hosts.insert(host.into_owned(), id);
                }
            }
            for name in entry.cert_names {
                let name = name.trim().to_ascii_lowercase();
                if name.is_empty() {
                    return Err(PackError(format!(
                        "{origin}: app {}: empty certificate name",
                        id.0
                    )));
                }
                self.cert_names.insert(name, id);
            }
            for text in entry.ip {
                let cidr = Cidr::parse(&text).ok_or_else(|| {
                    PackError(format!("{origin}: app {}: bad IP range {text:?}", id.0))
                })?;
                self.add_range(cidr, id);
            }
        }
        self.ranges.sort_by_key(|t| std::cmp::Reverse(t.bits));
        Ok(count)
    }

    fn add_range(&mut self, cidr: Cidr, id: AppId) {
        let same = |t: &RangeTable| t.v6 == cidr.v6 && t.bits == cidr.bits;
        let i = match self.ranges.iter().position(same) {
            Some(i) => i,
            None => {
                self.ranges.push(RangeTable {
                    v6: cidr.v6,
                    bits: cidr.bits,
                    nets: HashMap::new(),
                });
                self.ranges.len() - 1
            }
        };
        if let Some(table) = self.ranges.get_mut(i) {
            table.nets.insert(cidr.net, id);
        }
    }

    pub fn app(&self, id: AppId) -> Option<&App> {
        self.by_id.get(&id).and_then(|&i| self.apps.get(i))
    }

    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// The application with this exact name, for code that refers to an application of
    /// the packs (several packs may name one; the first loaded wins).
    pub fn app_by_name(&self, name: &str) -> Option<AppId> {
        self.apps.iter().find(|a| a.name == name).map(|a| a.id)
    }

    /// The application of a host name: the longest pattern that is the name or one of its
    /// parent domains (`r1.googlevideo.com` matches `googlevideo.com`). Patterns are ranked
    /// by their number of labels; a wildcard pattern beats a plain one of fewer labels
    /// (`igcdn-photos-*.akamaihd.net` over `akamaihd.net`) and loses a tie.
    pub fn match_host(&self, host: &str) -> Option<AppId> {
        let host = normalize_host(host);
        let mut rest: &str = &host;
        let plain = loop {
            if let Some(&id) = self.hosts.get(rest) {
                break Some((rest.split('.').count(), id));
            }
            match rest.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => rest = parent,
                _ => break None,
            }
        };
        let glob = self
            .globs
            .iter()
            .filter(|g| g.matches(&host))
            .max_by_key(|g| g.labels.len());
        match (plain, glob) {
            (Some((n, _)), Some(g)) if g.labels.len() > n => Some(g.app),
            (Some((_, id)), _) => Some(id),
            (None, g) => g.map(|g| g.app),
        }
    }

    /// The application a certificate subject's organization or common name belongs to, by
    /// the packs' `cert_names` (whole name, case ignored).
    pub fn match_cert_name(&self, name: &str) -> Option<AppId> {
        self.cert_names
            .get(&name.trim().to_ascii_lowercase())
            .copied()
    }

    /// The application owning an address, by the most specific range.
    pub fn match_ip(&self, version: u8, ip: &[u8; 16]) -> Option<AppId> {
        let (value, v6, max) = if version == 4 {
            let [a, b, c, d, ..] = *ip;
            (u128::from(u32::from_be_bytes([a, b, c, d])), false, 32u8)
        } else {
            (u128::from_be_bytes(*ip), true, 128u8)
        };
        self.ranges
            .iter()
            .filter(|t| t.v6 == v6)
            .find_map(|t| t.nets.get(&mask(value, max - t.bits.min(max))).copied())
    }
}

/// `value` with its `host_bits` low bits cleared.
fn mask(value: u128, host_bits: u8) -> u128 {
    if host_bits >= 128 {
        0
    } else {
        (value >> host_bits) << host_bits
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

    #[test]
    fn wildcard_host_patterns_match_within_one_label() {
        let mut set = SignatureSet::default();
        let pack = r#"
            [[app]]
            id = 5100
            name = "Cdn"
            category = "Web"
            hosts = ["cdn.example", "video.*.edge.cdn.example"]
            [[app]]
            id = 5101
            name = "Photos"
            category = "Web"
            hosts = ["photos-*.cdn.example", "*-shop.cdn.example"]
            cert_names = ["Photos Device CA"]
        "#;
        set.load_str(pack, "test").expect("valid");
        let id = |h: &str| set.match_host(h).map(|a| a.0);
        assert_eq!(id("photos-a-1.cdn.example"), Some(5101));
        assert_eq!(id("x.photos-b.cdn.example"), Some(5101));
        assert_eq!(id("p53-shop.CDN.example"), Some(5101));
        assert_eq!(id("photo-a.cdn.example"), Some(5100));
        assert_eq!(id("video.fra1-2.edge.cdn.example"), Some(5100));
        assert_eq!(id("images.fra1.edge.cdn.example"), Some(5100));
        // `*` never spans a dot.
        assert_eq!(id("photos-a.b.other.example"), None);
        assert!(HostGlob::parse("a*b*c.example", AppId(1)).is_none());
        assert_eq!(
            set.match_cert_name("photos device ca").map(|a| a.0),
            Some(5101)
        );
        assert_eq!(set.match_cert_name("Photos Device"), None);
        let glob = HostGlob::parse("photos-*.cdn.example", AppId(1)).expect("valid");
        assert!(glob.matches("photos-.cdn.example"));
        assert!(!glob.matches("cdn.example"));
        assert!(!glob.matches("photos-a.cdn.exampl"));
        assert!(set
            .load_str(
                "[[app]]\nid=1\nname='a'\ncategory='x'\nhosts=['a**.b']\n",
                "bad"
            )
            .is_err());
    }

    fn ip(text: &str) -> (u8, [u8; 16]) {
        match text.parse::<IpAddr>().expect("valid address") {
            IpAddr::V4(a) => {
                let mut b = [0u8; 16];
                b.iter_mut().zip(a.octets()).for_each(|(d, s)| *d = s);
                (4, b)
            }
            IpAddr::V6(a) => (6, a.octets()),
        }
    }

    fn name_of(set: &SignatureSet, id: Option<AppId>) -> Option<&str> {
        id.and_then(|i| set.app(i)).map(|a| a.name.as_str())
    }

    #[test]
    fn builtin_pack_is_well_formed() {
        let pack: PackFile = toml::from_str(DEFAULT_PACK).expect("parses");
        let mut ids = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        let mut hosts: HashMap<String, &str> = HashMap::new();
        let mut ranges: HashMap<(u128, u8, bool), &str> = HashMap::new();
        for app in &pack.app {
            assert!(app.id >= 1000, "{}: built-in ids start at 1000", app.name);
            assert!(ids.insert(app.id), "id {} used twice", app.id);
            assert!(
                names.insert(app.name.as_str()),
                "{} declared twice",
                app.name
            );
            assert!(
                !app.name.is_empty() && !app.name.contains('.'),
                "{}",
                app.name
            );
            assert!(!app.category.is_empty(), "{} has no category", app.name);
            assert!(
                !app.hosts.is_empty() || !app.ip.is_empty() || app.named_by.is_some(),
                "{} matches nothing",
                app.name
            );
            for h in &app.hosts {
                assert_eq!(normalize_host(h), h.as_str(), "{h}: not in normal form");
                assert!(
                    h.contains('.')
                        && !h.starts_with('.')
                        && h.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-.*".contains(&b))
                        && (!h.contains('*') || HostGlob::parse(h, AppId(0)).is_some()),
                    "{h}: not a host suffix or pattern"
                );
                if let Some(other) = hosts.insert(h.clone(), &app.name) {
                    panic!("{h} belongs to both {other} and {}", app.name);
                }
            }
            for text in &app.ip {
                let c = Cidr::parse(text).unwrap_or_else(|| panic!("{text}: bad range"));
                let value = match text.split('/').next().map(str::parse::<IpAddr>) {
                    Some(Ok(IpAddr::V4(a))) => u128::from(u32::from(a)),
                    Some(Ok(IpAddr::V6(a))) => u128::from(a),
                    _ => panic!("{text}: bad address"),
                };
                assert_eq!(value, c.net, "{text}: address bits beyond the prefix");
                if let Some(other) = ranges.insert((c.net, c.bits, c.v6), &app.name) {
                    panic!("{text} belongs to both {other} and {}", app.name);
                }
            }
        }
    }

    #[test]
    fn builtin_pack_classifies_known_names_and_addresses() {
        let set = SignatureSet::builtin();
        let host = |h: &str| name_of(&set, set.match_host(h));
        assert_eq!(
            host("r3---sn-vh5ouxa-hjuk.googlevideo.com"),
            Some("YouTube")
        );
        assert_eq!(host("www.google.com"), Some("Google"));
        assert_eq!(host("mail.google.com"), Some("GMail"));
        assert_eq!(host("android.clients.google.com"), Some("PlayStore"));
        assert_eq!(host("safebrowsing.googleapis.com"), Some("GoogleServices"));
        assert_eq!(host("teams.microsoft.com"), Some("Teams"));
        assert_eq!(host("login.microsoftonline.com"), Some("Microsoft365"));
        assert_eq!(host("1-courier.push.apple.com"), Some("ApplePush"));
        assert_eq!(host("mmg.whatsapp.net"), Some("WhatsAppFiles"));
        assert_eq!(host("g.whatsapp.net"), Some("WhatsApp"));
        assert_eq!(host("notgoogle.com"), None);
        let addr = |a: &str| {
            let (v, b) = ip(a);
            name_of(&set, set.match_ip(v, &b))
        };
        assert_eq!(addr("149.154.167.91"), Some("Telegram"));
        assert_eq!(addr("2001:67c:4e8::1"), Some("Telegram"));
        assert_eq!(addr("17.1.2.3"), Some("Apple"));
        // The more specific range wins over Apple's /8.
        assert_eq!(addr("17.57.144.116"), Some("ApplePush"));
        assert_eq!(addr("104.16.1.1"), Some("Cloudflare"));
        assert_eq!(addr("162.159.192.1"), Some("CloudflareWarp"));
        assert_eq!(addr("192.168.1.1"), None);
        assert_eq!(addr("fe80::1"), None);
        assert_eq!(set.app_by_name("NetFlix").map(|a| a.0), Some(1110));
    }

    #[test]
    fn later_packs_override_and_longest_prefix_wins() {
        let mut set = SignatureSet::default();
        let pack = r#"
            [[app]]
            id = 6000
            name = "Wide"
            category = "Web"
            ip = ["10.0.0.0/8"]
            [[app]]
            id = 6001
            name = "Narrow"
            category = "Web"
            ip = ["10.1.2.0/24"]
        "#;
        set.load_str(pack, "test").expect("valid");
        let lookup = |set: &SignatureSet, a: &str| {
            let (v, b) = ip(a);
            set.match_ip(v, &b).map(|i| i.0)
        };
        assert_eq!(lookup(&set, "10.1.2.3"), Some(6001));
        assert_eq!(lookup(&set, "10.1.3.3"), Some(6000));
        assert_eq!(lookup(&set, "11.0.0.1"), None);
        // A second pack takes the range over and renames the application.
        set.load_str(
            "[[app]]\nid=6002\nname='Mine'\ncategory='Web'\nip=['10.1.2.0/24']\n",
            "user",
        )
        .expect("valid");
        assert_eq!(lookup(&set, "10.1.2.3"), Some(6002));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("::/129").is_none());
        assert!(Cidr::parse("0.0.0.0/0").is_some());
    }
}
