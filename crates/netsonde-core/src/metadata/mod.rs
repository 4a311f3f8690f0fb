//! Metadata attributes: each is declared once, as a static [`AttrSpec`] in the module of the
//! protocol that extracts it, and listed in [`crate::protocols::ATTRIBUTES`]. Values are set
//! through the spec (a typed handle, never a free-form string) and land in the flow record's
//! `metadata` object under the spec's name.

use crate::record::MetaValue;

/// The eight categories every attribute belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Category {
    Volume,
    Service,
    Usage,
    Performance,
    Identifier,
    Content,
    File,
    Security,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Volume => "volume",
            Category::Service => "service",
            Category::Usage => "usage",
            Category::Performance => "performance",
            Category::Identifier => "identifier",
            Category::Content => "content",
            Category::File => "file",
            Category::Security => "security",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AttrType {
    Str,
    Int,
    StrList,
}

impl AttrType {
    pub fn name(self) -> &'static str {
        match self {
            AttrType::Str => "str",
            AttrType::Int => "int",
            AttrType::StrList => "list[str]",
        }
    }
}

/// The declaration of one attribute: `http.host`, `tls.sni`, …
#[derive(Debug)]
pub struct AttrSpec {
    /// `protocol.attribute`, lower snake case.
    pub name: &'static str,
    pub ty: AttrType,
    pub category: Category,
    /// One line: what the value is and where it comes from.
    pub doc: &'static str,
}

/// Declares attributes: `attrs! { pub HOST = "http.host", Str, Identifier, "Host header"; }`.
#[macro_export]
macro_rules! attrs {
    ($( $(#[$m:meta])* $vis:vis $id:ident = $name:literal, $ty:ident, $cat:ident, $doc:literal; )*) => {
        $(
            $(#[$m])*
            $vis static $id: $crate::metadata::AttrSpec = $crate::metadata::AttrSpec {
                name: $name,
                ty: $crate::metadata::AttrType::$ty,
                category: $crate::metadata::Category::$cat,
                doc: $doc,
            };
        )*
    };
}

/// The attributes extracted from one flow, in extraction order; the first value set wins
/// unless [`Metadata::replace`] is used.
#[derive(Default, Debug, Clone)]
pub struct Metadata {
    items: Vec<(&'static AttrSpec, MetaValue)>,
}

impl Metadata {
    pub fn get(&self, spec: &'static AttrSpec) -> Option<&MetaValue> {
        self.items
            .iter()
            .find(|(s, _)| std::ptr::eq(*s, spec))
            .map(|(_, v)| v)
    }

    pub fn get_str(&self, spec: &'static AttrSpec) -> Option<&str> {
        match self.get(spec) {
            Some(MetaValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn has(&self, spec: &'static AttrSpec) -> bool {
        self.get(spec).is_some()
    }

    /// Whether an attribute of this name (`protocol.attribute`) is set.
    pub fn has_named(&self, name: &str) -> bool {
        self.items.iter().any(|(s, _)| s.name == name)
    }

    /// Sets a value unless one is already there.
    pub fn set(&mut self, spec: &'static AttrSpec, value: MetaValue) {
        if !self.has(spec) {
            self.items.push((spec, value));
        }
    }

    pub fn set_str(&mut self, spec: &'static AttrSpec, value: impl Into<String>) {
        if !self.has(spec) {
            self.items.push((spec, MetaValue::Str(value.into())));
        }
    }

    pub fn set_int(&mut self, spec: &'static AttrSpec, value: i64) {
        self.set(spec, MetaValue::Int(value));
    }

    /// Sets a value, replacing any earlier one.
    pub fn replace(&mut self, spec: &'static AttrSpec, value: MetaValue) {
        match self.items.iter_mut().find(|(s, _)| std::ptr::eq(*s, spec)) {
            Some(slot) => slot.1 = value,
            None => self.items.push((spec, value)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Heap bytes held: the list of attributes and the text of their values.
    pub fn heap_bytes(&self) -> usize {
        let list = self.items.capacity() * std::mem::size_of::<(&AttrSpec, MetaValue)>();
        let values: usize = self
            .items
            .iter()
            .map(|(_, v)| match v {
                MetaValue::Str(s) => s.capacity(),
                MetaValue::Int(_) => 0,
                MetaValue::List(l) => {
                    l.capacity() * std::mem::size_of::<String>()
                        + l.iter().map(String::capacity).sum::<usize>()
                }
            })
            .sum();
        list + values
    }

    /// Gives back the spare capacity of the list and the values (for state kept long).
    pub fn shrink_to_fit(&mut self) {
        self.items.shrink_to_fit();
        for (_, v) in &mut self.items {
            match v {
                MetaValue::Str(s) => s.shrink_to_fit(),
                MetaValue::Int(_) => {}
                MetaValue::List(l) => {
                    l.shrink_to_fit();
                    l.iter_mut().for_each(String::shrink_to_fit);
                }
            }
        }
    }

    /// The compact form kept from the end of inspection to the flow's record.
    pub fn pack(self) -> PackedMetadata {
        let mut values = Vec::new();
        let put = |out: &mut Vec<u8>, bytes: &[u8]| {
            put_len(out, bytes.len());
            out.extend_from_slice(bytes);
        };
        let mut specs = Vec::with_capacity(self.items.len());
        for (spec, value) in self.items {
            specs.push(spec);
            match value {
                MetaValue::Str(v) => {
                    values.push(PACKED_STR);
                    put(&mut values, v.as_bytes());
                }
                MetaValue::Int(i) => {
                    values.push(PACKED_INT);
                    values.extend_from_slice(&i.to_le_bytes());
                }
                MetaValue::List(l) => {
                    values.push(PACKED_LIST);
                    put_len(&mut values, l.len());
                    for v in &l {
                        put(&mut values, v.as_bytes());
                    }
                }
            }
        }
        PackedMetadata {
            specs: specs.into_boxed_slice(),
            values: values.into_boxed_slice(),
        }
    }

    /// The attributes as (name, value) pairs for the record.
    pub fn into_record(self) -> Vec<(&'static str, MetaValue)> {
        self.items.into_iter().map(|(s, v)| (s.name, v)).collect()
    }
}

/// The declaration of an event: `http.request`, `dns.response`, `flow.classified`, …
#[derive(Debug)]
pub struct EventSpec {
    /// `protocol.event`, lower snake case.
    pub name: &'static str,
    /// One line: when it fires.
    pub doc: &'static str,
    /// The attributes it carries (besides the flow id and the timestamp).
    pub attrs: &'static [&'static str],
}

/// Declares events: `events! { pub REQUEST = "http.request", "Each request", ["http.method"]; }`.
#[macro_export]
macro_rules! events {
    ($( $vis:vis $id:ident = $name:literal, $doc:literal, [$($attr:literal),* $(,)?]; )*) => {
        $(
            $vis static $id: $crate::metadata::EventSpec = $crate::metadata::EventSpec {
                name: $name,
                doc: $doc,
                attrs: &[$($attr),*],
            };
        )*
    };
}

/// One event, as delivered to subscribers.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: &'static str,
    pub flow_id: u64,
    pub ts_ns: i64,
    pub attrs: Vec<(&'static str, MetaValue)>,
}

/// Where dissectors put events; events nobody subscribed to are never built.
pub struct EventSink<'a> {
    pub subscribed: &'a [&'static str],
    pub flow_id: u64,
    pub ts_ns: i64,
    pub out: &'a mut Vec<Event>,
}

impl<'a> EventSink<'a> {
    /// A sink that keeps nothing (no subscriptions), for callers that want no events.
    pub fn silent(out: &'a mut Vec<Event>) -> EventSink<'a> {
        EventSink {
            subscribed: &[],
            flow_id: 0,
            ts_ns: 0,
            out,
        }
    }

    /// Whether anyone listens to `spec` (check before building costly attributes).
    pub fn wants(&self, spec: &'static EventSpec) -> bool {
        self.subscribed.contains(&spec.name)
    }

    pub fn emit(&mut self, spec: &'static EventSpec, attrs: Vec<(&'static str, MetaValue)>) {
        if self.wants(spec) {
            self.out.push(Event {
                name: spec.name,
                flow_id: self.flow_id,
                ts_ns: self.ts_ns,
                attrs,
            });
        }
    }
}

/// A length as a LEB128 varint (one byte below 128).
fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

const PACKED_STR: u8 = 0;
const PACKED_INT: u8 = 1;
const PACKED_LIST: u8 = 2;

/// Metadata packed for the time a flow waits for its end after inspection: the attributes,
/// and one buffer holding each value in turn (a tag byte, then a varint length and the
/// bytes of a string, a little-endian i64, or a varint count and its strings). About a third of the
/// unpacked size for a typical HTTP flow, which keeps a classified flow within 512 bytes.
#[derive(Default, Debug, Clone)]
pub struct PackedMetadata {
    specs: Box<[&'static AttrSpec]>,
    values: Box<[u8]>,
}

impl PackedMetadata {
    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.specs) + self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    /// Back to the working form (for the record).
    pub fn unpack(&self) -> Metadata {
        fn take<'a>(d: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            let (head, rest) = (d.get(..n)?, d.get(n..)?);
            *d = rest;
            Some(head)
        }
        fn len(d: &mut &[u8]) -> Option<usize> {
            let mut n = 0usize;
            for shift in (0..64).step_by(7) {
                let b = *take(d, 1)?.first()?;
                n |= usize::from(b & 0x7f).checked_shl(shift)?;
                if b & 0x80 == 0 {
                    return Some(n);
                }
            }
            None
        }
        fn text(d: &mut &[u8]) -> Option<String> {
            let n = len(d)?;
            Some(String::from_utf8_lossy(take(d, n)?).into_owned())
        }
        let mut d: &[u8] = &self.values;
        let mut items = Vec::with_capacity(self.specs.len());
        for &spec in self.specs.iter() {
            let value = match take(&mut d, 1).and_then(|t| t.first().copied()) {
                Some(PACKED_STR) => text(&mut d).map(MetaValue::Str),
                Some(PACKED_INT) => take(&mut d, 8)
                    .and_then(|b| b.try_into().ok())
                    .map(|b| MetaValue::Int(i64::from_le_bytes(b))),
                Some(PACKED_LIST) => len(&mut d).and_then(|n| {
                    (0..n)
                        .map(|_| text(&mut d))
                        .collect::<Option<Vec<_>>>()
                        .map(MetaValue::List)
                }),
                _ => None,
            };
            match value {
                Some(v) => items.push((spec, v)),
                None => break,
            }
        }
        Metadata { items }
    }
}

#[cfg(test)]
mod packed_tests {
    use super::*;

    crate::attrs! {
        S = "t.s", Str, Content, "a string";
        I = "t.i", Int, Usage, "a number";
        L = "t.l", StrList, Identifier, "a list";
    }

    #[test]
    fn packing_keeps_every_value_and_saves_room() {
        let mut m = Metadata::default();
        m.set_str(&S, "x".repeat(300)); // a length over one varint byte
        m.set(&I, MetaValue::Int(-42));
        m.set(
            &L,
            MetaValue::List(vec!["a".into(), String::new(), "\u{2019}".into()]),
        );
        let before = m.heap_bytes();
        let packed = m.clone().pack();
        assert!(packed.heap_bytes() < before);
        assert_eq!(packed.unpack().into_record(), m.into_record());
        assert!(Metadata::default().pack().unpack().is_empty());
    }
}
