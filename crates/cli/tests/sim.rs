//! End-to-end tests of `expost traces`, `simulate` and `sweep` on the real
//! preemption fixtures.

mod common;
use common::{expost, repo};

use std::path::PathBuf;

/// The preemption fixtures.
fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/preemption")
}

fn profile() -> String {
    fixtures()
        .join("bamboo-simulation/profiling-runs/run-86")
        .display()
        .to_string()
}

#[test]
fn traces_reports_repairs_and_writes_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let terminate = fixtures()
        .join("bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv");
    let p3 = fixtures().join("bamboo-traces/traces/p3-trace.csv");
    let out = expost(&[
        "traces",
        terminate.to_str().unwrap(),
        p3.to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("full-64-terminate-trace.csv:54: dated a day early"),
        "{stderr}"
    );
    for f in [
        "traces.csv",
        "traces.parquet",
        "counts.csv",
        "lifetimes.csv",
        "hourly.csv",
        "diagnostics.csv",
        "traces.json",
        "lifetimes.svg",
        "node_count.png",
        "preemptions_per_hour.pdf",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
}

#[test]
fn a_bad_trace_fails_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "timestamp,count\n2021-07-26T18:42:00Z,8\n2021-07-26T18:41:00Z,9\n",
    )
    .unwrap();
    let out = expost(&["traces", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.csv:3: rows out of order"), "{stderr}");
}

#[test]
fn simulate_prints_a_json_summary_whose_time_split_sums_to_wall_time() {
    let out = expost(&[
        "simulate",
        "--profile",
        &profile(),
        "--rate",
        "0.2",
        "--strategy",
        "checkpoint-restart",
        "--checkpoint-interval",
        "600",
        "--hours",
        "6",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["result"];
    let split = &r["split"];
    let total: f64 = [
        "useful_s",
        "reconfiguration_s",
        "rollback_s",
        "checkpoint_stall_s",
        "waiting_s",
    ]
    .iter()
    .map(|k| split[k].as_f64().unwrap())
    .sum();
    assert!((total - 6.0 * 3600.0).abs() < 1e-6);
    assert!(r["preemptions"].as_u64().unwrap() > 0);
}

#[test]
fn nonsense_parameters_are_refused_with_a_message() {
    let out = expost(&[
        "simulate",
        "--profile",
        &profile(),
        "--pipeline-depth",
        "128",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pipeline depth 128"));
    let out = expost(&["simulate", "--profile", &profile(), "--rate=-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be a number ≥ 0"));
}

#[test]
fn sweep_shards_merge_to_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    let common = [
        "sweep",
        "--profile",
        &profile(),
        "--rates",
        "0.05,0.3",
        "--seeds",
        "4",
        "--hours",
        "4",
        "-q",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend_from_slice(extra);
        let out = expost(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (whole, s1, s2, merged) = (d("whole"), d("s1"), d("s2"), d("merged"));
    run(&["-o", &whole]);
    run(&["--shard", "1/2", "-o", &s1]);
    run(&["--shard", "2/2", "-o", &s2]);
    let out = expost(&[
        "sweep",
        "merge",
        &s1,
        &s2,
        "--profile",
        &profile(),
        "-o",
        &merged,
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &str| std::fs::read(PathBuf::from(p).join("sweep.csv")).unwrap();
    assert_eq!(read(&whole), read(&merged));
    for f in [
        "sweep.parquet",
        "points.csv",
        "optima.csv",
        "throughput.svg",
        "value.png",
        "time_split_redundant.pdf",
    ] {
        assert!(PathBuf::from(&merged).join(f).is_file(), "{f} missing");
    }
    let out = expost(&[
        "sweep",
        "merge",
        &s1,
        "--profile",
        &profile(),
        "-o",
        &d("m2"),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}
