//! Classification: which protocol and which application a flow is, and how sure we are.
//!
//! While a flow is under inspection it carries a boxed [`Dpi`] state. Every packet with a
//! payload goes to the dissectors that are still candidates (those matching the flow's
//! ports first — ports only order the candidates, they never decide); a dissector confirms,
//! excludes itself, or waits. Once a protocol is confirmed, only its dissector keeps reading,
//! for metadata, until it says it is done or the packet budget runs out; then the state is
//! dropped and the flow is plain accounting.

pub mod dns_cache;
pub mod expect;
pub mod signatures;
pub mod stream;

use crate::metadata::{AttrSpec, EventSink, Metadata};
use crate::protocols::{self, Dissector, ProtoState};
use crate::record::{MetaValue, SERVER_NAME_ATTRS};
pub use dns_cache::{CallCache, DnsCache, CALL_CACHE_ENTRIES, DNS_CACHE_ENTRIES};
pub use expect::{ExpectKey, Expectations};
pub use signatures::{AppId, SignatureSet};
use stream::StreamBuf;
pub use stream::{
    StreamConfig, StreamOptions, StreamShared, StreamStats, TcpPolicy, RISK_TCP_OVERLAP_CONFLICT,
};

/// A protocol or application identifier: protocols (declared in [`crate::protocols`]) and
/// applications (declared in signature packs) share one id space.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct ProtoId(pub u16);

impl ProtoId {
    pub const UNKNOWN: ProtoId = ProtoId(0);
}

/// How a classification was reached, named as nDPI names its confidence levels.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, PartialOrd, Ord)]
pub enum Confidence {
    #[default]
    Unknown,
    MatchByPort,
    MatchByIp,
    DpiPartial,
    DpiCache,
    Dpi,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Unknown => "Unknown",
            Confidence::MatchByPort => "Match by port",
            Confidence::MatchByIp => "Match by IP",
            Confidence::DpiPartial => "DPI (partial)",
            Confidence::DpiCache => "DPI (cache)",
            Confidence::Dpi => "DPI",
        }
    }
}

/// A flow's classification: a master protocol and an application riding on it.
///
/// `sub` is a protocol carried inside the master that nDPI names in the application's place
/// (`NetBIOS.SMBv1`: SMB datagrams inside NetBIOS): unlike `app` it comes from the protocol
/// registry, found by the dissector in the payload. An application from a signature pack
/// (`app`) takes precedence over it in the name.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Classification {
    pub master: ProtoId,
    pub app: Option<AppId>,
    pub sub: Option<ProtoId>,
    pub confidence: Confidence,
}

/// Direction of a payload relative to the flow's client.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dir {
    ToServer = 0,
    ToClient = 1,
}

/// What a dissector says about a packet.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Not decided yet (before confirmation) or more metadata may come (after).
    Continue,
    /// This flow is not this protocol: do not ask again.
    Exclude,
    /// Confirmed and nothing more to learn: stop inspecting the flow.
    Done,
}

crate::events! {
    pub FLOW_CLASSIFIED = "flow.classified", "A dissector confirmed the flow's protocol", ["protocol", "confidence"];
}

fn bit_is_set(words: &[u64; 4], i: usize) -> bool {
    words.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

fn set_bit(words: &mut [u64; 4], i: usize) {
    if let Some(w) = words.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

/// Payload packets inspected per flow before giving up (nDPI's default budget is 32).
pub const PACKET_BUDGET: u16 = 32;
/// TCP segments shorter than this count toward the packet budget by their bytes (one packet
/// per this many bytes), so that cutting a stream into tiny segments cannot spend the budget
/// before the dissectors see a whole message.
const SMALL_SEGMENT: usize = 512;
/// Dissector rounds per flow, whatever the segment sizes (bounds the work of tiny segments).
const MAX_ROUNDS: u16 = 1024;
/// Dissector rounds per flow whose dissector emits events somebody subscribed to: those
/// want every transaction, past the packet budget.
const MAX_TRANSACTIONAL_ROUNDS: u16 = u16::MAX;
/// Bytes of the first payload of each direction kept for dissectors that need both sides.
const FIRST_PAYLOAD_KEEP: usize = 512;

/// Handovers one packet's data may go through (see [`Dpi::inspect`]).
const MAX_HANDOVERS_AT_ONCE: u8 = 4;

/// Per-flow inspection state, boxed so that flows no longer under inspection stay small.
#[derive(Default)]
pub struct Dpi {
    pub class: Classification,
    pub meta: Metadata,
    pub risks: Vec<&'static str>,
    /// The confirmed protocol's dissector state.
    pub state: ProtoState,
    excluded: [u64; 4],
    detected: Option<usize>,
    payload_packets: u16,
    dir_packets: [u16; 2],
    /// Packets charged to the budget: as `payload_packets`, but small TCP segments are
    /// charged by their bytes (see [`SMALL_SEGMENT`]).
    budget_used: u16,
    small_bytes: usize,
    /// Dissector rounds so far (bounded by [`MAX_ROUNDS`]).
    rounds: u16,
    first_payload: [Vec<u8>; 2],
    streams: [StreamBuf; 2],
    /// Dissectors to try, in order (indices into the dissector list).
    order: Vec<u16>,
    /// The flow was handed over or reopened (see [`Inspect::handover`], [`Inspect::reopen`]):
    /// the master protocol is fixed.
    handed_over: bool,
    /// The stream was reopened: the carried protocol names neither application nor
    /// sub-protocol.
    reopened: bool,
    /// A control connection announced this flow (FTP data): it is named so when its payload
    /// names nothing else.
    pub announced: Option<ProtoId>,
    /// A connection this flow announced (see [`Inspect::announce`]), for the engine to take.
    announcement: Option<(u16, ProtoId)>,
    /// The confirmed dissector emitted an event somebody subscribed to (`http.request`,
    /// `mysql.command`, …): inspection goes on past the packet budget, so that every
    /// transaction is an event.
    transactional: bool,
}

/// The metadata and risks of a flow whose inspection is over.
#[derive(Debug, Default)]
pub struct Findings {
    pub meta: crate::metadata::PackedMetadata,
    /// Boxed, not a `Vec`: risks are rarely added once inspection is over, and the eight
    /// bytes of a capacity would count in every flow that keeps its findings.
    pub risks: Box<[&'static str]>,
}

impl Findings {
    /// Adds `risk` unless it is there already.
    pub fn add_risk(&mut self, risk: &'static str) {
        if !self.risks.contains(&risk) {
            let mut list = std::mem::take(&mut self.risks).into_vec();
            list.push(risk);
            self.risks = list.into_boxed_slice();
        }
    }
}

/// The flow facts a dissector may need besides the payload.
#[derive(Clone, Copy, Debug)]
pub struct FlowFacts {
    pub l4: u8,
    pub client_port: u16,
    pub server_port: u16,
    pub ip_version: u8,
    pub client_ip: [u8; 16],
    pub server_ip: [u8; 16],
}

/// What a dissector sees and can do for one packet.
pub struct Inspect<'a> {
    /// TCP: the in-order stream bytes of this direction not yet consumed by the confirmed
    /// dissector (before confirmation, the stream from its start). UDP and others: the
    /// datagram.
    pub data: &'a [u8],
    pub dir: Dir,
    pub flow: FlowFacts,
    /// Payload packets of the flow inspected so far, this one included.
    pub packet_no: u16,
    /// Payload packets so far in each direction, this one included.
    pub dir_packets: [u16; 2],
    /// The first payload seen in each direction (at most 512 bytes; empty when none yet).
    pub first_payload: [&'a [u8]; 2],
    pub ts_ns: i64,
    pub sigs: &'a SignatureSet,
    out: &'a mut Outcome,
}

/// What a dissector asked for, applied by the dispatcher.
#[derive(Default)]
struct Outcome {
    detected: Option<ProtoId>,
    app: Option<AppId>,
    sub: Option<ProtoId>,
    confidence: Option<Confidence>,
    consumed: usize,
    handover: Option<ProtoId>,
    /// The stream was reopened (see [`Inspect::reopen`]), with the other direction's unread
    /// bytes that were the reopening protocol's.
    reopen: Option<usize>,
    announced: Option<(u16, ProtoId)>,
}

impl<'a> Inspect<'a> {
    /// Confirms the flow as `proto` (by DPI).
    pub fn detect(&mut self, proto: ProtoId) {
        self.out.detected = Some(proto);
    }

    /// Sets the application riding on the protocol.
    pub fn set_app(&mut self, app: AppId) {
        self.out.app = Some(app);
    }

    /// Names a protocol carried inside the confirmed one (see [`Classification::sub`]).
    pub fn set_sub_protocol(&mut self, proto: ProtoId) {
        self.out.sub = Some(proto);
    }

    /// Hands the flow over to the dissector of `proto` for the rest of its inspection (a
    /// STARTTLS upgrade goes on as TLS). The classification stays as this dissector set it:
    /// the next dissector may add an application but not change the master protocol. The
    /// bytes consumed so far are not shown again. Without a dissector for `proto` the call
    /// does nothing and this dissector stays in charge.
    pub fn handover(&mut self, proto: ProtoId) {
        self.out.handover = Some(proto);
    }

    /// The rest of the stream carries another protocol, which every dissector judges afresh:
    /// the tunnel a proxy opened after a CONNECT or a SOCKS request. The classification
    /// stays as this dissector set it, application included; the carried protocol's
    /// dissector adds its metadata only (a ClientHello's SNI and fingerprints through the
    /// proxy). The bytes consumed so far are not shown again, nor the first `peer_bytes`
    /// unread bytes of the other direction (a SOCKS request read before the flow was
    /// confirmed on its answer).
    pub fn reopen(&mut self, peer_bytes: usize) {
        self.out.reopen = Some(peer_bytes);
    }

    /// Looks a host name (SNI, Host header, DNS query) up in the signature packs and sets the
    /// application when it matches; returns whether it did.
    pub fn app_from_host(&mut self, host: &str) -> bool {
        match self.sigs.match_host(host) {
            Some(app) => {
                self.out.app = Some(app);
                true
            }
            None => false,
        }
    }

    /// The application owning the server's (else the client's) address by the signature
    /// packs' IP ranges; nothing is set. For dissectors whose protocol takes its application
    /// from where it goes (STUN to a Zoom relay, WireGuard to a VPN provider's servers);
    /// flows in general get no application from their addresses (see [`Dpi::conclude`]).
    pub fn app_by_ip(&self) -> Option<AppId> {
        let f = &self.flow;
        self.sigs
            .match_ip(f.ip_version, &f.server_ip)
            .or_else(|| self.sigs.match_ip(f.ip_version, &f.client_ip))
    }

    pub fn set_confidence(&mut self, c: Confidence) {
        self.out.confidence = Some(c);
    }

    /// Announces a connection to come between the flow's two hosts, to `port`, carrying
    /// `proto` (FTP's data connections): the engine names it so (see [`Expectations`]).
    pub fn announce(&mut self, port: u16, proto: ProtoId) {
        self.out.announced = Some((port, proto));
    }

    /// Marks `n` bytes of `data` as parsed (TCP): they will not be shown again.
    pub fn consume(&mut self, n: usize) {
        self.out.consumed = n.min(self.data.len());
    }

    pub fn to_server(&self) -> bool {
        self.dir == Dir::ToServer
    }
}

/// Everything a dissector's call gets mutable access to besides [`Inspect`].
pub struct DissectorState<'a> {
    pub meta: &'a mut Metadata,
    pub risks: &'a mut Vec<&'static str>,
    pub state: &'a mut ProtoState,
    /// Transactional events (`http.request`, …); only subscribed ones are kept.
    pub events: &'a mut EventSink<'a>,
}

impl DissectorState<'_> {
    pub fn set_str(&mut self, spec: &'static AttrSpec, value: impl Into<String>) {
        self.meta.set_str(spec, value);
    }

    pub fn set(&mut self, spec: &'static AttrSpec, value: MetaValue) {
        self.meta.set(spec, value);
    }

    pub fn risk(&mut self, name: &'static str) {
        add_risk(self.risks, name);
    }
}

/// Adds `risk` to a flow's list unless it is there already.
pub fn add_risk(risks: &mut Vec<&'static str>, risk: &'static str) {
    if !risks.contains(&risk) {
        risks.push(risk);
    }
}

impl Dpi {
    pub fn new(order: Vec<u16>) -> Box<Dpi> {
        Box::new(Dpi {
            order,
            ..Dpi::default()
        })
    }

    /// As [`Dpi::new`], with the engine's TCP reassembly settings (policy, bounds, counters).
    pub fn with_streams(order: Vec<u16>, streams: &StreamConfig) -> Box<Dpi> {
        Box::new(Dpi {
            order,
            streams: [
                StreamBuf::new(streams.clone()),
                StreamBuf::new(streams.clone()),
            ],
            ..Dpi::default()
        })
    }

    /// What the flow keeps once inspection is over: its classification, and its metadata and
    /// risks boxed apart (none when there are none), so that the inspection state is freed.
    pub fn into_findings(self) -> (Classification, Option<Box<Findings>>) {
        let findings = (!self.meta.is_empty() || !self.risks.is_empty()).then(|| {
            Box::new(Findings {
                meta: self.meta.pack(),
                risks: self.risks.into_boxed_slice(),
            })
        });
        (self.class, findings)
    }

    /// Frees what only inspection needs; the classification and metadata stay.
    pub fn finish(&mut self) {
        self.state = ProtoState::None;
        self.streams = Default::default();
        self.first_payload = Default::default();
        self.order = Vec::new();
    }

    /// Inspects one packet's payload. Returns `false` when inspection is over for this flow.
    #[allow(clippy::too_many_arguments)]
    pub fn inspect(
        &mut self,
        payload: &[u8],
        dir: Dir,
        flow: FlowFacts,
        tcp: Option<(u32, u8)>,
        ts_ns: i64,
        sigs: &SignatureSet,
        dissectors: &[&'static Dissector],
        events: &mut EventSink<'_>,
    ) -> bool {
        let d = dir as usize;
        let mut resync = false;
        // TCP: in-order bytes through the stream buffer; the SYN only sets the start.
        let data_ref: &[u8] = match tcp {
            Some((seq, flags)) => {
                if !payload.is_empty() {
                    // An answer means the peer got what it answers: its holes are losses.
                    if let Some(peer) = self.streams.get_mut(1 - d) {
                        peer.peer_moved_on();
                    }
                }
                let Some(stream) = self.streams.get_mut(d) else {
                    return false;
                };
                let before = stream.available().len();
                stream.add(seq, flags, payload);
                let unseen = stream.take_unseen();
                let grew = stream.available().len() > before || unseen;
                if stream.take_conflict() && !self.risks.contains(&RISK_TCP_OVERLAP_CONFLICT) {
                    self.risks.push(RISK_TCP_OVERLAP_CONFLICT);
                }
                if stream.take_rewrite() && self.detected.is_none() {
                    // Bytes the dissectors judged were replaced (the target keeps the later
                    // copy): let them judge the stream again.
                    self.excluded = [0; 4];
                }
                // After a lost segment, show each new segment from its start until a
                // dissector recognises the data again.
                let stale = stream.take_resync();
                if stale > 0 {
                    stream.skip(stale);
                }
                resync = stream.resyncing();
                // Borrow the stream again, shared: dissectors read it in place (no copy) while
                // they write the metadata and state fields beside it.
                let available = self.streams.get(d).map_or(&[][..], StreamBuf::available);
                if (payload.is_empty() && !grew) || available.is_empty() {
                    return true;
                }
                available
            }
            None => {
                if payload.is_empty() {
                    return true;
                }
                payload
            }
        };
        let counts = if tcp.is_some() && payload.len() < SMALL_SEGMENT && self.budget_used > 0 {
            self.small_bytes += payload.len();
            let full = self.small_bytes >= SMALL_SEGMENT;
            if full {
                self.small_bytes -= SMALL_SEGMENT;
            }
            full
        } else {
            true
        };
        if counts {
            self.budget_used = self.budget_used.saturating_add(1);
        }
        self.payload_packets = self.payload_packets.saturating_add(1);
        if let Some(c) = self.dir_packets.get_mut(d) {
            *c = c.saturating_add(1);
        }
        self.rounds = self.rounds.saturating_add(1);
        if let Some(first) = self.first_payload.get_mut(d) {
            if first.is_empty() {
                first.extend_from_slice(payload.get(..FIRST_PAYLOAD_KEEP).unwrap_or(payload));
            }
        }
        let [first_to_server, first_to_client] = &self.first_payload;
        let first_payload = [first_to_server.as_slice(), first_to_client.as_slice()];
        let mut keep_going = true;
        let mut consumed = 0;
        // No allocation here: this runs for every inspected packet.
        let confirmed = self.detected;
        let mut all_excluded = confirmed.is_none();
        let mut reopened = false;
        // A dissector that hands the flow over mid-data (the client's STARTTLS line and its
        // ClientHello in one segment) has the next one read the rest at once, a few times
        // at most: the pass below runs again for it alone.
        let mut data_now = data_ref;
        let mut handovers = 0;
        let mut pass_detected = confirmed;
        'pass: loop {
            let rounds = if pass_detected.is_some() {
                1
            } else {
                self.order.len()
            };
            for pos in 0..rounds {
                let i = match pass_detected {
                    Some(i) => i,
                    None => match self.order.get(pos) {
                        Some(&i) if !bit_is_set(&self.excluded, usize::from(i)) => usize::from(i),
                        _ => continue,
                    },
                };
                let Some(dissector) = dissectors.get(i) else {
                    continue;
                };
                let mut out = Outcome::default();
                let events_before = events.out.len();
                let verdict = {
                    let mut ins = Inspect {
                        data: data_now,
                        dir,
                        flow,
                        packet_no: self.payload_packets,
                        dir_packets: self.dir_packets,
                        first_payload,
                        ts_ns,
                        sigs,
                        out: &mut out,
                    };
                    let mut sink = EventSink {
                        subscribed: events.subscribed,
                        flow_id: events.flow_id,
                        ts_ns: events.ts_ns,
                        out: &mut *events.out,
                    };
                    let mut st = DissectorState {
                        meta: &mut self.meta,
                        risks: &mut self.risks,
                        state: &mut self.state,
                        events: &mut sink,
                    };
                    (dissector.inspect)(&mut ins, &mut st)
                };
                if events.out.len() > events_before
                    && (confirmed.is_some() || out.detected.is_some())
                {
                    self.transactional = true;
                }
                if out.announced.is_some() {
                    self.announcement = out.announced;
                }
                // A tunnel's protocol adds its metadata, not its names: the flow stays the
                // proxy's, as nDPI names it (the host asked for shows in the metadata).
                if !self.reopened {
                    if let Some(app) = out.app {
                        self.class.app = Some(app);
                    }
                    if let Some(sub) = out.sub {
                        self.class.sub = Some(sub);
                    }
                }
                if let Some(p) = out.detected {
                    if self.detected.is_none() && self.handed_over {
                        // The protocol a reopened stream carries: its dissector goes on.
                        self.detected = Some(i);
                    } else if self.detected.is_none() {
                        self.detected = Some(i);
                        self.class.master = p;
                        self.class.confidence = out.confidence.unwrap_or(Confidence::Dpi);
                        if events.wants(&FLOW_CLASSIFIED) {
                            events.emit(
                                &FLOW_CLASSIFIED,
                                vec![
                                    ("protocol", MetaValue::Str(protocols::name(p).to_string())),
                                    (
                                        "confidence",
                                        MetaValue::Str(self.class.confidence.name().to_string()),
                                    ),
                                ],
                            );
                        }
                    } else if self.detected == Some(i) && !self.handed_over {
                        // The confirmed dissector refines its own protocol (SMTP -> SMTPS).
                        self.class.master = p;
                    }
                } else if let Some(c) = out.confidence {
                    self.class.confidence = c;
                }
                if self.detected == Some(i) {
                    consumed = data_ref.len() - data_now.len() + out.consumed;
                    all_excluded = false;
                    if let Some(peer_bytes) = out.reopen {
                        if let Some(peer) = self.streams.get_mut(1 - d) {
                            peer.consume(peer_bytes);
                        }
                        self.reopen_stream();
                        reopened = true;
                        break;
                    }
                    let next = out
                        .handover
                        .and_then(|p| dissectors.iter().position(|d| d.proto == p))
                        .filter(|&j| j != i);
                    if let Some(j) = next {
                        self.detected = Some(j);
                        self.handed_over = true;
                        self.state = ProtoState::None;
                        handovers += 1;
                        if consumed < data_ref.len() && handovers <= MAX_HANDOVERS_AT_ONCE {
                            data_now = data_ref.get(consumed..).unwrap_or_default();
                            pass_detected = Some(j);
                            continue 'pass;
                        }
                    } else if verdict == Verdict::Done || verdict == Verdict::Exclude {
                        keep_going = false;
                    }
                    break;
                }
                match verdict {
                    // Data after a lost segment may start mid-message: not a reason to exclude.
                    Verdict::Exclude if !resync => set_bit(&mut self.excluded, i),
                    _ => all_excluded = false,
                }
            }
            break;
        }
        if tcp.is_some() && (self.detected.is_some() || reopened) {
            if let Some(stream) = self.streams.get_mut(d) {
                if confirmed.is_none() && !reopened {
                    stream.synced();
                }
                stream.consume(consumed);
            }
        }
        let (budget_spent, max_rounds) = if self.transactional {
            (false, MAX_TRANSACTIONAL_ROUNDS)
        } else {
            (self.budget_used >= PACKET_BUDGET, MAX_ROUNDS)
        };
        if all_excluded || budget_spent || self.rounds >= max_rounds {
            keep_going = false;
        }
        keep_going
    }

    /// The dissector confirmed for this flow, if any.
    pub fn detected(&self) -> Option<usize> {
        self.detected
    }

    /// Called once, when inspection of the flow ends (its dissector is done, the packet
    /// budget is spent, every dissector excluded itself, or the flow ended first). A DNS
    /// answer teaches `cache` the answered addresses; a flow that found no application is
    /// named, in this order, by what it finds first:
    /// - in what a control connection announced (an FTP data connection, see
    ///   [`Expectations`]), when no protocol was recognised: that protocol, confidence
    ///   "DPI (cache)";
    /// - in `cache`, when no protocol was recognised and the flow carries no server name of
    ///   its own (SNI, Host, query...): the application of the name last resolved to its
    ///   server's (then its client's) address, confidence "DPI (cache)". A recognised
    ///   protocol keeps its plain name (NTP to an address resolved from time.apple.com
    ///   stays "NTP", as nDPI has it: there the cache only guesses a flow's first packet);
    /// - in the well-known ports of the registry, when no protocol was recognised either:
    ///   the protocol of the server's (then the client's) port, confidence "Match by port",
    ///   unless its dissector read the flow's payload and ruled it out (a flow on port 80
    ///   that carries something else is not called HTTP);
    /// - in the signature packs' IP ranges, when no port names a protocol: the application
    ///   alone, confidence "Match by IP". A recognised protocol keeps its plain name, as
    ///   nDPI does (a TLS flow without SNI to a Google address stays "TLS"), and a port
    ///   guess goes first, as in nDPI (the port names the protocol; an address owned by a
    ///   cloud says little about what runs on it).
    pub fn conclude(
        &mut self,
        ends: &Endpoints,
        sigs: &SignatureSet,
        cache: &mut DnsCache,
        calls: &mut CallCache,
    ) {
        if self.uses_call_cache() {
            let local = (ends.ip_version, ends.client_ip, ends.client_port);
            match self.class.app {
                Some(app) => calls.insert_key(local, app),
                None => {
                    let remote = (ends.ip_version, ends.server_ip, ends.server_port);
                    if let Some(app) = calls.get_key(local).or_else(|| calls.get_key(remote)) {
                        self.class.app = Some(app);
                        self.class.confidence = Confidence::DpiCache;
                        return;
                    }
                }
            }
        }
        if let (Some(app), Some(MetaValue::List(answers))) = (
            self.teaches_dns_cache(),
            self.meta.get(&protocols::dns::ANSWERS),
        ) {
            cache.learn(app, answers);
        }
        if self.class.app.is_some() {
            return;
        }
        if let (ProtoId::UNKNOWN, Some(proto)) = (self.class.master, self.announced) {
            self.class.master = proto;
            self.class.confidence = Confidence::DpiCache;
            return;
        }
        if self.asks_dns_cache() {
            let cached = cache
                .get(ends.ip_version, &ends.server_ip)
                .or_else(|| cache.get(ends.ip_version, &ends.client_ip));
            if let Some(app) = cached {
                self.class.app = Some(app);
                self.class.confidence = Confidence::DpiCache;
                return;
            }
        }
        if self.class.master != ProtoId::UNKNOWN {
            return;
        }
        let by_port = protocols::guess_by_port(ends.l4, ends.server_port, ends.client_port)
            .filter(|&proto| !self.payload_ruled_out(proto));
        if let Some(proto) = by_port {
            self.class.master = proto;
            self.class.confidence = Confidence::MatchByPort;
        } else {
            let by_ip = sigs
                .match_ip(ends.ip_version, &ends.server_ip)
                .or_else(|| sigs.match_ip(ends.ip_version, &ends.client_ip));
            if let Some(app) = by_ip {
                self.class.app = Some(app);
                self.class.confidence = Confidence::MatchByIp;
            }
        }
    }
}

impl Dpi {
    /// Every dissector judges the rest of the stream afresh (see [`Inspect::reopen`]), as
    /// if it started there: nothing is excluded, and the first payloads and packet counts
    /// that probes read start again.
    fn reopen_stream(&mut self) {
        self.detected = None;
        self.handed_over = true;
        self.reopened = true;
        self.state = ProtoState::None;
        self.excluded = [0; 4];
        for first in &mut self.first_payload {
            first.clear();
        }
        self.payload_packets = 0;
        self.dir_packets = [0; 2];
    }

    /// The connection this flow announced since the last call (see [`Inspect::announce`]).
    pub fn take_announcement(&mut self) -> Option<(u16, ProtoId)> {
        self.announcement.take()
    }

    /// Whether a dissector of `proto` read this flow's payload and excluded it.
    fn payload_ruled_out(&self, proto: ProtoId) -> bool {
        protocols::DISSECTORS
            .iter()
            .enumerate()
            .any(|(i, d)| d.proto == proto && bit_is_set(&self.excluded, i))
    }

    /// Whether [`Dpi::conclude`] would read or write `cache` or `calls` for this flow (keep
    /// the two in step): sharded analyses make workers take turns only for those flows.
    pub fn needs_caches(&self) -> bool {
        self.uses_call_cache() || self.teaches_dns_cache().is_some() || self.asks_dns_cache()
    }

    /// A call's media flow: it shares the application of its endpoints through `calls`.
    fn uses_call_cache(&self) -> bool {
        protocols::CALL_MEDIA.contains(&self.class.master)
    }

    /// A DNS flow that named an application and got answers teaches the cache that
    /// application for the answered addresses.
    fn teaches_dns_cache(&self) -> Option<AppId> {
        (self.class.master == protocols::id::DNS && self.meta.has(&protocols::dns::ANSWERS))
            .then_some(self.class.app)
            .flatten()
    }

    /// Only a flow no dissector recognised, without an application or a name of its own,
    /// asks the cache.
    fn asks_dns_cache(&self) -> bool {
        self.class.master == ProtoId::UNKNOWN
            && self.class.app.is_none()
            && !SERVER_NAME_ATTRS.iter().any(|n| self.meta.has_named(n))
    }
}

/// A flow's addresses, for the look-ups made when its inspection ends.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints {
    /// The transport: 6 (TCP) or 17 (UDP).
    pub l4: u8,
    pub ip_version: u8,
    pub client_ip: [u8; 16],
    pub server_ip: [u8; 16],
    pub client_port: u16,
    pub server_port: u16,
}

/// The order in which dissectors are tried for a flow: those registered for one of its
/// ports first, then every other dissector of its transport (each group in list order).
/// Builds the list's index each time: the engine keeps [`CandidateIndex::builtin`] instead.
pub fn candidate_order(dissectors: &[&'static Dissector], l4: u8, ports: [u16; 2]) -> Vec<u16> {
    CandidateIndex::new(dissectors).order(l4, ports)
}

/// A dissector list indexed by transport and port, so that a new flow's candidate order
/// ([`candidate_order`]) costs a look-up per port and a copy of the transport's list,
/// not a scan of every dissector's ports (this runs for every new TCP and UDP flow).
pub struct CandidateIndex {
    tcp: TransportCandidates,
    udp: TransportCandidates,
}

#[derive(Default)]
struct TransportCandidates {
    /// Every dissector of the transport, in list order.
    all: Vec<u16>,
    /// (port, dissector) for each port a dissector of the transport registers, sorted.
    by_port: Vec<(u16, u16)>,
}

impl CandidateIndex {
    pub fn new(dissectors: &[&'static Dissector]) -> CandidateIndex {
        let transport = |l4: u8| {
            let mut index = TransportCandidates::default();
            for (i, d) in (0u16..).zip(dissectors.iter()) {
                if !d.transports.contains(l4) {
                    continue;
                }
                index.all.push(i);
                let ports = if l4 == 6 { d.tcp_ports } else { d.udp_ports };
                index.by_port.extend(ports.iter().map(|&port| (port, i)));
            }
            index.by_port.sort_unstable();
            index.by_port.dedup();
            index
        };
        CandidateIndex {
            tcp: transport(6),
            udp: transport(17),
        }
    }

    /// The index of [`protocols::DISSECTORS`], made once per process.
    pub fn builtin() -> &'static CandidateIndex {
        static BUILTIN: std::sync::OnceLock<CandidateIndex> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| CandidateIndex::new(protocols::DISSECTORS))
    }

    /// The candidate order for a flow of transport `l4` between `ports`; one allocation of
    /// the exact size.
    pub fn order(&self, l4: u8, ports: [u16; 2]) -> Vec<u16> {
        let index = match l4 {
            6 => &self.tcp,
            17 => &self.udp,
            _ => return Vec::new(),
        };
        let mut order = Vec::with_capacity(index.all.len());
        for port in ports {
            let from = index.by_port.partition_point(|&(p, _)| p < port);
            let registered = index.by_port.get(from..).unwrap_or_default();
            order.extend(
                registered
                    .iter()
                    .take_while(|&&(p, _)| p == port)
                    .map(|&(_, i)| i),
            );
        }
        order.sort_unstable();
        order.dedup();
        // Both lists ascend and the first is part of the second: one merge skips it.
        let hinted = order.len();
        let mut next_hinted = 0;
        for &i in &index.all {
            if next_hinted < hinted && order.get(next_hinted) == Some(&i) {
                next_hinted += 1;
            } else {
                order.push(i);
            }
        }
        order
    }
}

/// Names the classification as `Master.App`, `Master.Sub`, `Master`, `App` or `Unknown`.
pub fn application_name(class: &Classification, sigs: &SignatureSet) -> String {
    let master = protocols::name(class.master);
    match (class.master, class.app.and_then(|a| sigs.app(a)), class.sub) {
        (ProtoId::UNKNOWN, None, _) => "Unknown".to_string(),
        (ProtoId::UNKNOWN, Some(app), _) => app.name.clone(),
        (_, None, Some(sub)) if sub != class.master => dotted(master, protocols::name(sub)),
        (_, None, _) => master.to_string(),
        (_, Some(app), _) if app.name == master => master.to_string(),
        (_, Some(app), _) => dotted(master, &app.name),
    }
}

/// `master.name`, without the formatting machinery (every flow record names its flow).
fn dotted(master: &str, name: &str) -> String {
    let mut s = String::with_capacity(master.len() + 1 + name.len());
    s.push_str(master);
    s.push('.');
    s.push_str(name);
    s
}

/// The category of the classification: the application's, else the carried protocol's,
/// else the protocol's — except for protocols that keep their own
/// ([`protocols::KEEP_CATEGORY`]).
pub fn category_name(class: &Classification, sigs: &SignatureSet) -> String {
    if protocols::KEEP_CATEGORY.contains(&class.master) {
        return protocols::category(class.master).to_string();
    }
    match (class.app.and_then(|a| sigs.app(a)), class.sub) {
        (Some(app), _) => app.category.clone(),
        _ if class.master == ProtoId::UNKNOWN => "Unknown".to_string(),
        (None, Some(sub)) => protocols::category(sub).to_string(),
        (None, None) => protocols::category(class.master).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tests::v4;
    use crate::protocols::id;

    #[test]
    fn carried_protocol_names_the_flow_unless_an_app_does() {
        let sigs = SignatureSet::builtin();
        let mut class = Classification {
            master: id::NETBIOS,
            sub: Some(id::SMBV1),
            confidence: Confidence::Dpi,
            ..Classification::default()
        };
        assert_eq!(application_name(&class, &sigs), "NetBIOS.SMBv1");
        assert_eq!(category_name(&class, &sigs), "System");
        class.sub = Some(id::NETBIOS);
        assert_eq!(application_name(&class, &sigs), "NetBIOS");
        let google = sigs.match_host("google.com").expect("built-in app");
        class.sub = Some(id::SMBV1);
        class.app = Some(google);
        assert_eq!(application_name(&class, &sigs), "NetBIOS.Google");
        assert_eq!(
            application_name(&Classification::default(), &sigs),
            "Unknown"
        );
    }

    #[test]
    fn candidates_for_the_ports_come_first_then_the_rest_of_the_transport_in_list_order() {
        let list = crate::protocols::DISSECTORS;
        let tcp = candidate_order(list, 6, [51000, 443]);
        let fits_tcp: Vec<u16> = (0u16..)
            .zip(list.iter())
            .filter(|(_, d)| d.transports.contains(6))
            .map(|(i, _)| i)
            .collect();
        // Every TCP dissector once, none of the UDP-only ones.
        let mut sorted = tcp.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, fits_tcp);
        let for_443 = |i: &u16| {
            list.get(usize::from(*i))
                .is_some_and(|d| d.tcp_ports.contains(&443))
        };
        let hinted = tcp.iter().take_while(|i| for_443(i)).count();
        assert!(hinted > 0, "a dissector registers TCP port 443");
        assert!(tcp.iter().skip(hinted).all(|i| !for_443(i)));
        let (first, rest) = tcp.split_at(hinted);
        let ascending = |s: &[u16]| s.windows(2).all(|w| w.first() < w.get(1));
        assert!(ascending(first) && ascending(rest));
        // Unknown ports: the list order, nothing first.
        assert_eq!(candidate_order(list, 6, [1, 2]), fits_tcp);
        assert!(candidate_order(list, 1, [1, 2]).is_empty());
    }

    #[test]
    fn the_index_orders_candidates_as_a_scan_of_every_dissector_would() {
        let list = crate::protocols::DISSECTORS;
        let scan = |l4: u8, ports: [u16; 2]| {
            let fits: Vec<(u16, &Dissector)> = (0u16..)
                .zip(list.iter().copied())
                .filter(|(_, d)| d.transports.contains(l4))
                .collect();
            let hinted = |d: &Dissector| {
                let registered = if l4 == 6 { d.tcp_ports } else { d.udp_ports };
                ports.iter().any(|p| registered.contains(p))
            };
            let first = fits.iter().filter(|(_, d)| hinted(d)).map(|(i, _)| *i);
            let rest = fits.iter().filter(|(_, d)| !hinted(d)).map(|(i, _)| *i);
            first.chain(rest).collect::<Vec<u16>>()
        };
        let index = CandidateIndex::builtin();
        let mut registered: Vec<u16> = list
            .iter()
            .flat_map(|d| d.tcp_ports.iter().chain(d.udp_ports))
            .copied()
            .collect();
        registered.extend([0, 1, 51000, 65535]);
        // Each port against an unregistered one, against its neighbour and against 443/53,
        // in both positions.
        for (n, &a) in registered.iter().enumerate() {
            let b = registered.get(n + 1).copied().unwrap_or(0);
            for ports in [
                [a, 51000],
                [51000, a],
                [a, b],
                [b, a],
                [a, 443],
                [53, a],
                [a, a],
            ] {
                for l4 in [6, 17] {
                    assert_eq!(index.order(l4, ports), scan(l4, ports), "{l4} {ports:?}");
                }
            }
        }
        assert!(index.order(132, [80, 443]).is_empty());
    }

    fn name(sigs: &SignatureSet, app: Option<AppId>) -> Option<&str> {
        app.and_then(|a| sigs.app(a)).map(|a| a.name.as_str())
    }

    #[test]
    fn app_by_ip_looks_at_the_server_then_the_client() {
        let sigs = SignatureSet::builtin();
        let lookup = |client: [u8; 4], server: [u8; 4]| {
            let mut out = Outcome::default();
            let ins = Inspect {
                data: &[],
                dir: Dir::ToServer,
                flow: FlowFacts {
                    l4: 17,
                    client_port: 50000,
                    server_port: 3478,
                    ip_version: 4,
                    client_ip: v4(client),
                    server_ip: v4(server),
                },
                packet_no: 1,
                dir_packets: [1, 0],
                first_payload: [&[], &[]],
                ts_ns: 0,
                sigs: &sigs,
                out: &mut out,
            };
            ins.app_by_ip()
        };
        let me = [192, 168, 1, 2];
        assert_eq!(name(&sigs, lookup(me, [206, 247, 87, 213])), Some("Zoom"));
        assert_eq!(
            name(&sigs, lookup([149, 154, 167, 91], me)),
            Some("Telegram")
        );
        // The server's owner wins over the client's.
        assert_eq!(
            name(&sigs, lookup([149, 154, 167, 91], [206, 247, 87, 213])),
            Some("Zoom")
        );
        assert_eq!(lookup(me, [192, 168, 1, 1]), None);
    }

    #[test]
    fn conclude_prefers_the_flows_own_name_then_the_cache_then_the_range() {
        let sigs = SignatureSet::builtin();
        let mut cache = DnsCache::new(16);
        let netflix = sigs.app_by_name("NetFlix").expect("in the pack");
        let telegram_ip = v4([149, 154, 167, 91]);
        let ends = Endpoints {
            l4: 6,
            ip_version: 4,
            client_ip: v4([10, 0, 0, 2]),
            server_ip: telegram_ip,
            client_port: 50000,
            server_port: 8443,
        };

        // A DNS answer for a NetFlix name teaches the cache the answered address.
        let mut dns = Dpi {
            class: Classification {
                master: protocols::id::DNS,
                app: Some(netflix),
                sub: None,
                confidence: Confidence::Dpi,
            },
            ..Dpi::default()
        };
        dns.meta.set(
            &protocols::dns::ANSWERS,
            MetaValue::List(vec!["nflx.example".into(), "149.154.167.91".into()]),
        );
        dns.conclude(&ends, &sigs, &mut cache, &mut CallCache::new(16));
        assert_eq!(cache.len(), 1);

        // Nothing recognised, no name: the cache (more specific) beats the range.
        let mut bare = Dpi::default();
        bare.conclude(&ends, &sigs, &mut cache, &mut CallCache::new(16));
        assert_eq!(bare.class.app, Some(netflix));
        assert_eq!(bare.class.confidence, Confidence::DpiCache);

        // A flow naming its server keeps its own verdict, even with no application.
        let http_only = Classification {
            master: protocols::id::HTTP,
            app: None,
            sub: None,
            confidence: Confidence::Dpi,
        };
        let mut named = Dpi {
            class: http_only,
            ..Dpi::default()
        };
        named.meta.set_str(&protocols::http::HOST, "example.org");
        named.conclude(&ends, &sigs, &mut cache, &mut CallCache::new(16));
        assert_eq!(named.class.app, None);
        assert_eq!(named.class.confidence, Confidence::Dpi);

        // A recognised protocol without a name of its own keeps its plain name too.
        let mut unnamed = Dpi {
            class: http_only,
            ..Dpi::default()
        };
        unnamed.conclude(&ends, &sigs, &mut cache, &mut CallCache::new(16));
        assert_eq!(unnamed.class.app, None);

        // Without the cache entry: the range names the application of an unrecognised flow
        // only; a recognised protocol stays alone.
        let mut empty = DnsCache::new(16);
        let mut bare = Dpi::default();
        bare.conclude(&ends, &sigs, &mut empty, &mut CallCache::new(16));
        assert_eq!(name(&sigs, bare.class.app), Some("Telegram"));
        assert_eq!(bare.class.confidence, Confidence::MatchByIp);
        let mut http = Dpi {
            class: http_only,
            ..Dpi::default()
        };
        http.conclude(&ends, &sigs, &mut empty, &mut CallCache::new(16));
        assert_eq!(http.class.app, None);

        // On a well-known port, the port's protocol goes before the range, as a guess.
        let on_443 = Endpoints {
            server_port: 443,
            ..ends
        };
        let mut bare = Dpi::default();
        bare.conclude(&on_443, &sigs, &mut empty, &mut CallCache::new(16));
        assert_eq!(bare.class.master, protocols::id::TLS);
        assert_eq!(bare.class.app, None);
        assert_eq!(bare.class.confidence, Confidence::MatchByPort);
        // The cache still goes first: it learned from a DNS answer, not from a port.
        let mut bare = Dpi::default();
        bare.conclude(&on_443, &sigs, &mut cache, &mut CallCache::new(16));
        assert_eq!(bare.class.app, Some(netflix));
        assert_eq!(bare.class.confidence, Confidence::DpiCache);
    }

    #[test]
    fn a_calls_media_flows_share_the_application_of_its_local_endpoint() {
        let sigs = SignatureSet::builtin();
        let call = sigs.app_by_name("WhatsAppCall").expect("in the pack");
        let mut calls = CallCache::new(16);
        let mut dns = DnsCache::new(16);
        let ends = |server: [u8; 4], port: u16| Endpoints {
            l4: 17,
            ip_version: 4,
            client_ip: v4([192, 168, 1, 2]),
            server_ip: v4(server),
            client_port: 40000,
            server_port: port,
        };
        let media = |master, app| Dpi {
            class: Classification {
                master,
                app,
                sub: None,
                confidence: Confidence::Dpi,
            },
            ..Dpi::default()
        };
        let mut stun = media(protocols::id::STUN, Some(call));
        stun.conclude(&ends([1, 2, 3, 4], 3478), &sigs, &mut dns, &mut calls);
        let mut dtls = media(protocols::id::DTLS, None);
        dtls.conclude(&ends([5, 6, 7, 8], 50001), &sigs, &mut dns, &mut calls);
        assert_eq!(dtls.class.app, Some(call));
        assert_eq!(dtls.class.confidence, Confidence::DpiCache);
        // Not a media protocol: no call application from the endpoint.
        let mut http = media(protocols::id::HTTP, None);
        http.conclude(&ends([5, 6, 7, 8], 80), &sigs, &mut dns, &mut calls);
        assert_eq!(http.class.app, None);
    }
}
