//! Prints the flow records of capture files as JSON lines, straight from the Rust engine:
//! `cargo run --release --example records -- [--workers N] FILE...`. Handy with the scorer:
//! `score.py CORPUS --cmd 'target/release/examples/records {pcap}'`.

use std::io::Write;
use std::path::PathBuf;

use netsonde_core::record::{TextBatch, TextFormat};
use netsonde_core::{Analysis, EngineOptions};

fn main() {
    let mut args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let mut workers = 1;
    if args.first().is_some_and(|a| a.as_os_str() == "--workers") && args.len() >= 2 {
        workers = args
            .get(1)
            .and_then(|a| a.to_str())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        args.drain(..2);
    }
    let paths = args;
    if paths.is_empty() || workers == 0 {
        eprintln!("usage: records [--workers N] FILE...");
        std::process::exit(2);
    }
    let mut analysis = match Analysis::open(&paths, EngineOptions::default()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("records: {e}");
            std::process::exit(1);
        }
    };
    analysis.set_workers(workers);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut batch = TextBatch::default();
    loop {
        let more = analysis.run_text(TextFormat::Jsonl, &mut batch, 4096, &mut |_, _| {});
        if out.write_all(batch.text.as_bytes()).is_err() {
            return;
        }
        batch.text.clear();
        if !more {
            break;
        }
    }
    for w in analysis.take_warnings() {
        eprintln!("records: warning: {w}");
    }
}
