//! Test harness: runs dissectors over a scripted conversation the way the engine does (the
//! same dispatcher, TCP stream buffers and packet budget), so that a dissector's tests see
//! what it will see on the wire.

use super::{Dissector, DISSECTORS};
use crate::classify::{application_name, candidate_order, Dir, Dpi, FlowFacts, SignatureSet};
use crate::metadata::{AttrSpec, Event, EventSink};
use crate::record::MetaValue;

pub struct Conv {
    dpi: Box<Dpi>,
    sigs: SignatureSet,
    dissectors: Vec<&'static Dissector>,
    facts: FlowFacts,
    seq: [u32; 2],
    /// Inspection still running (the engine stops calling dissectors once it is over).
    pub open: bool,
    /// The events subscribed to ([`Conv::subscribe`]) and those emitted, in order.
    subscribed: Vec<&'static str>,
    pub events: Vec<Event>,
}

impl Conv {
    pub fn new(
        dissectors: &[&'static Dissector],
        l4: u8,
        client_port: u16,
        server_port: u16,
    ) -> Conv {
        let order = candidate_order(dissectors, l4, [client_port, server_port]);
        Conv {
            dpi: Dpi::new(order),
            sigs: SignatureSet::builtin(),
            dissectors: dissectors.to_vec(),
            facts: FlowFacts {
                l4,
                client_port,
                server_port,
                ip_version: 4,
                client_ip: [0; 16],
                server_ip: [0; 16],
            },
            seq: [1000, 9000],
            open: true,
            subscribed: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The same conversation with the server at this IPv4 address.
    pub fn server_ipv4(mut self, ip: [u8; 4]) -> Conv {
        self.facts.server_ip = [0; 16];
        for (d, s) in self.facts.server_ip.iter_mut().zip(ip) {
            *d = s;
        }
        self
    }

    /// The same conversation with these events subscribed, kept in [`Conv::events`].
    pub fn subscribe(mut self, events: &[&'static str]) -> Conv {
        self.subscribed = events.to_vec();
        self
    }

    /// One dissector over TCP.
    pub fn tcp(d: &'static Dissector, client_port: u16, server_port: u16) -> Conv {
        Conv::new(&[d], 6, client_port, server_port)
    }

    /// One dissector over UDP.
    pub fn udp(d: &'static Dissector, client_port: u16, server_port: u16) -> Conv {
        Conv::new(&[d], 17, client_port, server_port)
    }

    /// Every registered dissector, as in the engine.
    pub fn all(l4: u8, client_port: u16, server_port: u16) -> Conv {
        Conv::new(DISSECTORS, l4, client_port, server_port)
    }

    fn send(&mut self, dir: Dir, payload: &[u8]) -> &mut Conv {
        if !self.open {
            return self;
        }
        let d = dir as usize;
        let tcp = if self.facts.l4 == 6 {
            let seq = self.seq.get(d).copied().unwrap_or(0);
            if let Some(s) = self.seq.get_mut(d) {
                *s = seq.wrapping_add(payload.len() as u32);
            }
            Some((seq, 0x18))
        } else {
            None
        };
        let more = self.dpi.inspect(
            payload,
            dir,
            self.facts,
            tcp,
            0,
            &self.sigs,
            &self.dissectors,
            &mut EventSink {
                subscribed: &self.subscribed,
                flow_id: 1,
                ts_ns: 0,
                out: &mut self.events,
            },
        );
        if !more {
            self.dpi.finish();
            self.open = false;
        }
        self
    }

    pub fn client(&mut self, payload: &[u8]) -> &mut Conv {
        self.send(Dir::ToServer, payload)
    }

    pub fn server(&mut self, payload: &[u8]) -> &mut Conv {
        self.send(Dir::ToClient, payload)
    }

    /// The flow's `application_name` as the record would carry it.
    pub fn name(&self) -> String {
        application_name(&self.dpi.class, &self.sigs)
    }

    /// An attribute's value as text (numbers in decimal, lists comma-joined).
    pub fn meta(&self, spec: &'static AttrSpec) -> Option<String> {
        self.dpi.meta.get(spec).map(as_text)
    }

    pub fn has_risk(&self, risk: &str) -> bool {
        self.dpi.risks.contains(&risk)
    }

    /// The text attributes of each event emitted, in order.
    pub fn event_texts(&self) -> Vec<Vec<(&'static str, String)>> {
        self.events
            .iter()
            .map(|e| e.attrs.iter().map(|(n, v)| (*n, as_text(v))).collect())
            .collect()
    }
}

/// A value as text: numbers in decimal, lists comma-joined.
pub fn as_text(v: &MetaValue) -> String {
    match v {
        MetaValue::Str(s) => s.clone(),
        MetaValue::Int(i) => i.to_string(),
        MetaValue::List(l) => l.join(","),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Verdict;
    use crate::protocols::{id, DissectorState, Inspect, Transports};

    /// Confirms SMTP on "UP" and hands over to TLS; refines itself to SMTPS on the way.
    fn upgrading(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
        if ins.packet_no == 1 {
            ins.detect(id::SMTP);
        }
        ins.consume(ins.data.len());
        if ins.data == b"UP" {
            ins.detect(id::SMTPS);
            ins.handover(id::TLS);
        }
        Verdict::Continue
    }

    /// Stands in for TLS: tries to claim the flow and names an application.
    fn tls_like(ins: &mut Inspect<'_>, _st: &mut DissectorState<'_>) -> Verdict {
        ins.detect(id::TLS);
        ins.set_sub_protocol(id::IMAP);
        assert!(
            !ins.data.starts_with(b"UP"),
            "consumed bytes are not shown again"
        );
        Verdict::Done
    }

    static UPGRADING: Dissector = Dissector {
        proto: id::SMTP,
        transports: Transports::TCP,
        tcp_ports: &[],
        udp_ports: &[],
        inspect: upgrading,
    };
    static TLS_LIKE: Dissector = Dissector {
        proto: id::TLS,
        transports: Transports::UDP,
        tcp_ports: &[],
        udp_ports: &[],
        inspect: tls_like,
    };

    #[test]
    fn handover_keeps_the_master_and_takes_an_application() {
        let mut c = Conv::new(&[&UPGRADING, &TLS_LIKE], 6, 1000, 25);
        c.client(b"hello");
        assert_eq!(c.name(), "SMTP");
        c.client(b"UP");
        assert_eq!(c.name(), "SMTPS");
        assert!(c.open);
        c.client(b"xx");
        assert_eq!(c.name(), "SMTPS.IMAP");
        assert!(!c.open);
    }

    #[test]
    fn handover_without_a_dissector_stays() {
        let mut c = Conv::new(&[&UPGRADING], 6, 1000, 25);
        c.client(b"UP").client(b"more");
        assert_eq!(c.name(), "SMTPS");
        assert!(c.open);
    }
}
