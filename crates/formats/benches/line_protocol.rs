//! Line-protocol read throughput on one core: a file made by replicating the
//! real telemetry of tests/fixtures/ombt (its `influx_inspect export` header,
//! then its points over and over, each copy shifted in time) is streamed
//! through `line_protocol::parse` from disk, best of several passes; the
//! peak resident memory shows that reading is bounded, whatever the size.
//!
//! cargo bench -p expost-formats --bench line_protocol -- [--lines N] [--passes P] [--keep FILE]

use expost_formats::line_protocol;
use expost_model::Diagnostics;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn fixture_lines() -> (Vec<String>, Vec<(String, i64)>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ombt/campaign/test_case_1");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path().join("telemetry.lp"))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut header = Vec::new();
    let mut points = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let file = std::fs::File::open(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for line in BufReader::new(file).lines() {
            let line = line.expect("the fixture is UTF-8");
            if line.starts_with('#') || line.starts_with("CREATE ") {
                if i == 0 {
                    header.push(line);
                }
                continue;
            }
            let Some((body, ts)) = line.rsplit_once(' ') else {
                continue;
            };
            let ts: i64 = ts.parse().expect("fixture timestamps are integers");
            points.push((body.to_string(), ts));
        }
    }
    assert!(!points.is_empty(), "no points in {}", dir.display());
    (header, points)
}

/// Writes `lines` points: the real ones, copy after copy, each copy 1 h later.
fn write_file(path: &Path, lines: u64) -> u64 {
    let (header, points) = fixture_lines();
    let span = 3_600_000_000_000i64;
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    for h in &header {
        writeln!(out, "{h}").expect("write");
    }
    let mut written = 0u64;
    let mut copy = 0i64;
    'outer: loop {
        for (body, ts) in &points {
            if written == lines {
                break 'outer;
            }
            writeln!(out, "{body} {}", ts + copy * span).expect("write");
            written += 1;
        }
        copy += 1;
    }
    out.flush().expect("flush");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    let mut lines: u64 = 5_000_000;
    let mut passes = 3;
    let mut keep: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lines" => lines = args.next().and_then(|v| v.parse().ok()).expect("--lines N"),
            "--passes" => {
                passes = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--passes P")
            }
            "--keep" => keep = args.next().map(PathBuf::from),
            "--bench" => {}
            other => eprintln!("ignored argument {other}"),
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = keep.unwrap_or_else(|| dir.path().join("telemetry.lp"));
    let bytes = write_file(&path, lines);
    let rss_before = peak_rss_kb();
    let mut best = f64::INFINITY;
    for _ in 0..passes.max(1) {
        let mut diags = Diagnostics::default();
        let mut fields = 0u64;
        let mut checksum = 0.0f64;
        let start = Instant::now();
        let file = std::fs::File::open(&path).expect("open");
        let counts = line_protocol::parse(
            BufReader::with_capacity(1 << 16, file),
            &mut diags,
            |_, p| {
                fields += p.fields.len() as u64;
                if let Some(v) = p.fields.first().and_then(|(_, v)| v.as_f64()) {
                    checksum += v;
                }
            },
        )
        .expect("the file reads");
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(counts.points, lines, "every point read");
        assert!(diags.is_empty(), "no diagnostics on real lines");
        assert!(fields >= lines && checksum.is_finite());
        best = best.min(seconds);
    }
    println!(
        "line protocol, 1 core: {lines} lines ({:.1} MB) in {best:.3} s: {:.2} M lines/s, {:.0} MB/s (best of {passes})",
        bytes as f64 / 1e6,
        lines as f64 / best / 1e6,
        bytes as f64 / best / 1e6,
    );
    if let (Some(before), Some(after)) = (rss_before, peak_rss_kb()) {
        println!(
            "peak resident memory: {:.1} MB before reading, {:.1} MB after",
            before as f64 / 1024.0,
            after as f64 / 1024.0
        );
    }
}
