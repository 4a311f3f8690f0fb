//! Test harness: runs dissectors over a scripted conversation the way the engine does (the
//! same dispatcher, TCP stream buffers and packet budget), so that a dissector's tests see
//! what it will see on the wire.

use super::{Dissector, DISSECTORS};
use crate::classify::{application_name, candidate_order, Dir, Dpi, FlowFacts, SignatureSet};
use crate::metadata::AttrSpec;
use crate::record::MetaValue;

pub struct Conv {
    dpi: Box<Dpi>,
    sigs: SignatureSet,
    dissectors: Vec<&'static Dissector>,
    facts: FlowFacts,
    seq: [u32; 2],
    /// Inspection still running (the engine stops calling dissectors once it is over).
    pub open: bool,
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
        }
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
        self.dpi.meta.get(spec).map(|v| match v {
            MetaValue::Str(s) => s.clone(),
            MetaValue::Int(i) => i.to_string(),
            MetaValue::List(l) => l.join(","),
        })
    }

    pub fn has_risk(&self, risk: &str) -> bool {
        self.dpi.risks.contains(&risk)
    }
}
