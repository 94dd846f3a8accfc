//! Benchmark of the provisioning analysis: generates a pool with the seeded
//! generator (default 10,000 nodes × 22 images ≈ 1 million events), writes
//! it as a JSON-lines export, then times reading that file and analysing it,
//! best of several runs.
//!
//! ```text
//! cargo bench -p expost-studies --bench provision -- [--nodes N] [--images N] [--runs N] [--keep FILE]
//! ```
//!
//! `--keep FILE` keeps the export (for the Python baseline,
//! `bench/baseline_provision.py FILE`); `--clean` generates no faults (the
//! baseline raises on them); `--input FILE` times an existing export.

use expost_formats::shipyard;
use expost_model::Diagnostics;
use expost_studies::provision::{analyse, Options};
use expost_testkit::provision::{generate, SynthOptions};
use std::io::BufWriter;
use std::time::Instant;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let nodes: usize = arg(&args, "--nodes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let images: usize = arg(&args, "--images")
        .and_then(|v| v.parse().ok())
        .unwrap_or(22);
    let runs: usize = arg(&args, "--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    // --clean: no faults, so that the Python baseline (which raises on a
    // missing end event) can run on the same file.
    let faults = !args.iter().any(|a| a == "--clean");
    let options = SynthOptions {
        seed: 42,
        nodes,
        images,
        missing_pairs: if faults { nodes / 100 } else { 0 },
        unfinished: if faults { nodes / 1000 } else { 0 },
        duplicates: if faults { nodes / 100 } else { 0 },
        collide: true,
        start_spread_s: 600.0,
        compact_sizes: faults,
        ..SynthOptions::default()
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    if let Some(input) = arg(&args, "--input") {
        return time_analysis(std::path::Path::new(&input), runs, None);
    }
    let t = Instant::now();
    let pool = generate(&options);
    eprintln!(
        "generated {} events of {} nodes in {:.2} s",
        pool.entities.len(),
        nodes,
        t.elapsed().as_secs_f64()
    );
    let path = match arg(&args, "--keep") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("events.jsonl"),
    };
    {
        let file = std::fs::File::create(&path).expect("create the export");
        let mut out = BufWriter::new(file);
        shipyard::write_jsonl(&pool.entities, &mut out).expect("write the export");
    }
    let events = pool.entities.len();
    drop(pool);
    time_analysis(&path, runs, Some(nodes));
    let _ = events;
}

/// Times reading and analysing the export at `path`, best of `runs`.
fn time_analysis(path: &std::path::Path, runs: usize, nodes: Option<usize>) {
    let mut events = 0;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut best = (f64::INFINITY, f64::INFINITY);
    for _ in 0..runs.max(1) {
        // As `expost provision --from` reads a JSON-lines export: the whole
        // text in memory, the entities borrowing from it.
        let t = Instant::now();
        let mut file = std::fs::File::open(path).expect("open the export");
        let text = shipyard::read_text(&mut file).expect("read the export");
        let mut diags = Diagnostics::for_file("events.jsonl");
        let entities = shipyard::parse_jsonl_borrowed(&text, &mut diags).expect("parse the export");
        let read = t.elapsed().as_secs_f64();
        let p = analyse(&entities, "events.jsonl", &Options::default()).expect("analyse");
        let total = t.elapsed().as_secs_f64();
        if let Some(n) = nodes {
            assert_eq!(p.nodes.len(), n);
        }
        events = entities.len();
        if total < best.1 {
            best = (read, total);
        }
    }
    println!(
        "provision analysis: {} events ({:.0} MB), best of {runs}: read {:.3} s + analyse {:.3} s = {:.3} s on {} threads",
        events,
        size as f64 / 1e6,
        best.0,
        best.1 - best.0,
        best.1,
        rayon::current_num_threads()
    );
}
