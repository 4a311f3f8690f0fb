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

    /// The attributes as (name, value) pairs for the record.
    pub fn into_record(self) -> Vec<(String, MetaValue)> {
        self.items
            .into_iter()
            .map(|(s, v)| (s.name.to_string(), v))
            .collect()
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
