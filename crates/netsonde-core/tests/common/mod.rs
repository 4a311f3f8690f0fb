//! What the tests against Zeek's logs share: where the corpus is, its traces and expected
//! logs, and a run of the engine that keeps the events asked for.

use std::path::{Path, PathBuf};

use netsonde_core::analysis::process_file;
use netsonde_core::metadata::Event;
use netsonde_core::record::FlowRecord;
use netsonde_core::{Engine, EngineOptions};
use serde_json::Value;

/// The Zeek corpus beside the repository (`../shared/corpus/zeek`), or where
/// `NETSONDE_ZEEK_CORPUS` says (a worktree kept elsewhere than beside `shared`).
pub fn zeek_corpus() -> Option<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("NETSONDE_ZEEK_CORPUS")
        .map(PathBuf::from)
        .into_iter()
        .chain([here.join("../../../shared/corpus/zeek")])
        .find(|p| p.join("index.jsonl").is_file())
}

/// The names of the corpus' traces that start with `prefix`, sorted.
pub fn traces(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("pcap"))
        .expect("pcap folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// The logs Zeek's baselines expect for trace `name`, if the corpus has them.
pub fn expected(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("expected").join(format!("{name}.json"))).ok()?;
    Some(serde_json::from_str(&text).expect("expected logs are JSON"))
}

/// The engine's records over a trace, and its events of the names given.
pub fn run(pcap: &Path, events: &[&str]) -> (Vec<FlowRecord>, Vec<Event>) {
    let mut engine = Engine::new(EngineOptions::default());
    for name in events {
        engine.subscribe(name).expect("declared event");
    }
    let mut out = Vec::new();
    let warning = process_file(&mut engine, pcap, &mut out).expect("readable capture");
    assert!(warning.is_none(), "{}: {warning:?}", pcap.display());
    engine.flush(&mut out);
    (out, engine.take_events())
}
