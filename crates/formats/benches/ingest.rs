//! Ingest throughput of the iperf3 parsers on one core, on the real files of
//! the benchmark seed run (`benches/seed/`).
//!
//! cargo bench -p expost-formats --bench ingest

use expost_formats::{iperf3_json, iperf3_text};
use expost_model::Diagnostics;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn seed_files(prefix: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../benches/seed/fec_udp_failover_010/fec_udp_failover_010_1/iperf");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Nanoseconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`),
/// or `None` where that is not available. On a machine shared with other
/// work, throughput per CPU second varies much less than per wall second.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs `parse` over `files` until `budget` has passed; returns MB/s of
/// wall time (and prints MB per CPU second too, when it is known).
fn measure(name: &str, files: &[Vec<u8>], budget: Duration, parse: impl Fn(&[u8])) -> f64 {
    let bytes: usize = files.iter().map(Vec::len).sum();
    for f in files {
        parse(f);
    }
    let start = Instant::now();
    let cpu_start = cpu_ns();
    let mut rounds = 0u64;
    while start.elapsed() < budget {
        for f in files {
            parse(f);
        }
        rounds += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    let parsed = bytes as f64 * rounds as f64;
    let rate = parsed / seconds / 1e6;
    let cpu = match (cpu_start, cpu_ns()) {
        (Some(a), Some(b)) if b > a => {
            format!(
                ", {:.1} MB per CPU second",
                parsed / ((b - a) as f64 / 1e9) / 1e6
            )
        }
        _ => String::new(),
    };
    println!(
        "{name:<28} {rate:>8.1} MB/s  ({rounds} rounds of {} files, {:.1} MB{cpu})",
        files.len(),
        bytes as f64 / 1e6
    );
    rate
}

fn main() {
    let budget = Duration::from_secs(3);
    let clients = seed_files("client_");
    let servers = seed_files("server_");
    measure("iperf3 JSON (client, UDP)", &clients, budget, |bytes| {
        let mut d = Diagnostics::default();
        let test = iperf3_json::parse_bytes(bytes, &mut d).expect("seed parses");
        assert!(!test.intervals.is_empty());
    });
    measure("iperf3 text (server, ts %.s)", &servers, budget, |bytes| {
        let mut d = Diagnostics::default();
        let log = iperf3_text::parse_bytes(bytes, &iperf3_text::TextOptions::default(), &mut d)
            .expect("seed parses");
        assert!(!log.tests.is_empty());
    });
}
