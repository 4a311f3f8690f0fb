//! netsonde-core: the deep packet inspection engine, in pure Rust.
//!
//! Frames come from [`capture`] (pcap, pcapng, or bytes handed in), are decoded by
//! [`decode`] down to the innermost IP flow, tracked by [`flow`] and turned into
//! [`record::FlowRecord`]s by the [`engine::Engine`]. [`analysis::Analysis`] drives an engine
//! over capture files in batches, the way the CLI and the Python bindings use it.
#![deny(unsafe_code)]

pub mod analysis;
pub mod capture;
pub mod classify;
pub mod columns;
pub mod decode;
pub mod engine;
pub mod flow;
#[cfg(target_os = "linux")]
pub mod live;
pub mod metadata;
pub mod names;
pub mod parallel;
pub mod protocols;
pub mod record;
pub mod risks;
pub mod text;

pub use analysis::Analysis;
pub use capture::{CaptureError, CaptureReader, LinkType, RawPacket};
pub use engine::{Engine, EngineOptions, Stats};
pub use record::FlowRecord;

/// The crate version, for `netsonde --version` and build information.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
