//! Snapshot tests of every study's outputs on the bundled fixtures: a
//! refactor that changes a byte of any output shows it here.
//!
//! Each snapshot lists the output folder file by file: JSON documents and
//! small CSV files whole (the paths of this machine and the command line
//! taken out), larger CSV files by their first lines, their line count and
//! a SHA-256 of every byte, and binary files (Parquet, PNG, PDF) and SVG
//! drawings by their size and SHA-256. Review a change with
//! `cargo insta review` (or read the `.snap.new` file beside the snapshot).

mod common;

use common::repo;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write;
use std::path::Path;

/// CSV files with at most this many lines are shown whole.
const WHOLE_CSV_LINES: usize = 40;
/// Lines shown of a larger CSV file.
const HEAD_LINES: usize = 8;

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Replaces what depends on where and how the test ran: the command line
/// and any string naming a path of this machine.
fn redact(value: &mut Value, repo: &str, out: &str) {
    match value {
        Value::String(s) => {
            if s.starts_with("expost ") || s.contains("/expost ") {
                *s = "[command]".into();
            } else {
                *s = s.replace(out, "[out]").replace(repo, "[repo]");
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, repo, out)),
        Value::Object(map) => {
            if let Some(command) = map.get_mut("command") {
                *command = Value::String("[command]".into());
            }
            map.values_mut().for_each(|v| redact(v, repo, out));
        }
        _ => {}
    }
}

/// The folder's outputs as snapshot text.
fn describe(dir: &Path, repo: &str) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let out = dir.to_string_lossy().into_owned();
    let mut text = String::new();
    for name in names {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let _ = writeln!(text, "=== {name}");
        match Path::new(&name).extension().and_then(|e| e.to_str()) {
            Some("json") if bytes.len() < 200_000 => {
                let mut value: Value = serde_json::from_slice(&bytes).unwrap();
                redact(&mut value, repo, &out);
                let _ = writeln!(text, "{}", serde_json::to_string_pretty(&value).unwrap());
            }
            Some("csv") => {
                let csv = String::from_utf8(bytes.clone())
                    .unwrap()
                    .replace(&out, "[out]")
                    .replace(repo, "[repo]");
                let lines: Vec<&str> = csv.lines().collect();
                if lines.len() <= WHOLE_CSV_LINES {
                    text.push_str(&csv);
                } else {
                    for line in &lines[..HEAD_LINES] {
                        let _ = writeln!(text, "{line}");
                    }
                    let _ = writeln!(text, "… {} lines, sha256 {}", lines.len(), sha256(&bytes));
                }
            }
            _ => {
                let _ = writeln!(text, "{} bytes, sha256 {}", bytes.len(), sha256(&bytes));
            }
        }
    }
    text
}

/// Runs `expost ARGS -o DIR` from the repository's root (inputs are given
/// relative to it, so no output holds where the repository is) and
/// describes DIR.
fn outputs_of(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["-o", out.to_str().unwrap(), "--quiet"]);
    let result = std::process::Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(&all)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        result.status.code().is_some_and(|c| c <= 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let repo = repo().canonicalize().unwrap();
    describe(&out, &repo.to_string_lossy())
}

/// A bundled input, relative to the repository's root.
fn example(path: &str) -> String {
    assert!(repo().join(path).exists(), "{path}");
    path.to_string()
}

#[test]
fn failover_example() {
    let root = example("examples/failover");
    insta::assert_snapshot!(outputs_of(&["failover", &root]));
}

#[test]
fn failover_bad_input_corpus() {
    let root = example("tests/corpus/failover");
    insta::assert_snapshot!(outputs_of(&["failover", &root, "--per-flow"]));
}

#[test]
fn ombt_campaign() {
    let root = example("tests/fixtures/ombt/campaign");
    insta::assert_snapshot!(outputs_of(&["ombt", &root]));
}

#[test]
fn traces_of_every_format() {
    let p = "tests/fixtures/preemption";
    insta::assert_snapshot!(outputs_of(&[
        "traces",
        &example(&format!("{p}/bamboo-traces/traces/p3-trace.csv")),
        &example(&format!(
            "{p}/bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv"
        )),
    ]));
}

#[test]
fn simulate_redundant_poisson() {
    let profile = example("tests/fixtures/preemption/bamboo-simulation/profiling-runs/run-86");
    insta::assert_snapshot!(outputs_of(&[
        "simulate",
        "--profile",
        &profile,
        "--model",
        "poisson",
        "--rate",
        "0.1",
        "--strategy",
        "redundant",
        "--hours",
        "4",
    ]));
}

#[test]
fn sweep_small_grid() {
    let profile = example("tests/fixtures/preemption/bamboo-simulation/profiling-runs/run-86");
    insta::assert_snapshot!(outputs_of(&[
        "sweep",
        "--profile",
        &profile,
        "--rates",
        "0.05,0.25",
        "--seeds",
        "3",
        "--hours",
        "4",
    ]));
}

#[test]
fn provision_example_pool() {
    let events = example("examples/provision/events.jsonl");
    insta::assert_snapshot!(outputs_of(&["provision", "--from", &events]));
}

#[test]
fn iperf3_fixtures_and_the_failover_campaign() {
    insta::assert_snapshot!(outputs_of(&["iperf3", &example("tests/fixtures/iperf3")]));
    insta::assert_snapshot!(outputs_of(&[
        "iperf3",
        &example("examples/failover"),
        "--x",
        "config"
    ]));
}
