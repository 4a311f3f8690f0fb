//! Sharded analysis against one engine over a fuzzed capture: with 2 and 3 workers the
//! records are the same as with one (whatever their order and ids), and so are the warnings
//! about damage. Idle and active timeouts are short, so that fuzzed timestamps end flows;
//! the bounds that hold over all flows are left at their defaults, far above what a fuzzed
//! input can reach, since each worker holds only its share of them.
#![no_main]
use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use netsonde_core::record::{TextBatch, TextFormat};
use netsonde_core::{Analysis, CaptureReader, EngineOptions};

/// The records of an analysis of `path` with `workers` workers, as sorted JSON lines
/// without their ids, and its warnings.
fn records(path: &PathBuf, workers: usize) -> (Vec<String>, Vec<String>) {
    let opts = EngineOptions { idle_timeout_ms: 1_000, active_timeout_ms: 3_000, ..EngineOptions::default() };
    let mut analysis = Analysis::open(std::slice::from_ref(path), opts).expect("opened once already");
    analysis.set_workers(workers);
    let mut batch = TextBatch::default();
    while analysis.run_text(TextFormat::Jsonl, &mut batch, 64, &mut |_, _| {}) {}
    let mut lines: Vec<String> = batch
        .text
        .lines()
        .map(|line| {
            // Every record starts with its id: `{"id":N,`.
            let rest = line.split_once(',').map_or(line, |(_, rest)| rest);
            rest.to_string()
        })
        .collect();
    lines.sort_unstable();
    (lines, analysis.take_warnings())
}

fuzz_target!(|data: &[u8]| {
    if CaptureReader::from_vec(data.to_vec()).is_err() {
        return;
    }
    let path = std::env::temp_dir().join(format!("netsonde-fuzz-workers-{}.cap", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let one = records(&path, 1);
    for workers in [2, 3] {
        assert_eq!(records(&path, workers), one, "{workers} workers differ from one");
    }
});
