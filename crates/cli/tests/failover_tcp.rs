//! End-to-end tests of TCP disruptions: the real `expost` binary on real
//! TCP iperf3 runs (1, 2 and 4 streams, one or two clients) through link
//! blackholes of 20 to 200 ms (tests/fixtures/failover_tcp, made by
//! `scripts/make-failover-fixtures.sh tcp`), checked against the times the
//! blackholes were really injected.

mod common;
use common::{expost, json_of, repo, rerun_elsewhere, save_study};

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/failover_tcp")
}

fn injected() -> BTreeMap<String, (f64, f64)> {
    common::injected_outages(&fixtures())
}

fn report() -> Value {
    let out = expost(&["failover", fixtures().to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

#[test]
fn every_injected_blackhole_is_found_where_it_was_injected() {
    let report = report();
    let injected = injected();
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), injected.len());
    assert!(report["tcp_outage_rule"].as_str().unwrap().contains("90 %"));
    for run in runs {
        let path = run["path"].as_str().unwrap();
        let (start_epoch, applied_ms) = injected[path];
        assert_eq!(run["proto"], "tcp", "{path}");
        let expected = start_epoch - run["anchor_epoch"].as_f64().unwrap();
        let start = run["outage_start_s"].as_f64().unwrap_or(f64::NAN);
        assert!(
            (start - expected).abs() <= 0.1,
            "{path}: disruption at {start} s, blackhole injected at {expected:.3} s"
        );
        // TCP gets no bytes through before the path is back: the
        // disruption ends after the blackhole did, less one interval (the
        // one in which traffic resumes may already be back to 90 %), and
        // within the second Linux's minimum retransmission timeout allows.
        let ms = run["outage_ms"].as_f64().unwrap();
        let end = start + ms / 1e3;
        let injected_end = expected + applied_ms / 1e3;
        assert!(
            end >= injected_end - 0.1 && ms < applied_ms + 1000.0,
            "{path}: {ms} ms from {start:.3} s for a {applied_ms} ms blackhole from {expected:.3} s"
        );
        let events = run["tcp_disruptions"].as_array().unwrap();
        let main: Vec<&Value> = events.iter().filter(|e| e["outage"] == true).collect();
        assert_eq!(main.len(), 1, "{path}: {events:?}");
        let main = main[0];
        assert_eq!(main["start_s"].as_f64(), Some(start));
        let window = main["start_window_s"].as_array().unwrap();
        let (lo, hi) = (window[0].as_f64().unwrap(), window[1].as_f64().unwrap());
        assert!(lo <= start && start <= hi, "{path}: {main}");
        assert!(main["deficit_bytes"].as_f64().unwrap() > 0.0);
        let evidence: Vec<&str> = (main["evidence"].as_array().unwrap().iter())
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(
            evidence.contains(&"throughput_dip") && evidence.contains(&"retransmits"),
            "{path}: {evidence:?}"
        );
        assert!(run.get("outage_reason").is_none(), "{path}");
    }
}

#[test]
fn the_deficit_is_the_bytes_short_of_the_baseline() {
    // deficit <= baseline × duration (nothing at all arrived at worst), and
    // more than the bytes a blackhole alone would have cost at half rate.
    let report = report();
    let injected = injected();
    for run in report["runs"].as_array().unwrap() {
        let path = run["path"].as_str().unwrap();
        let main = (run["tcp_disruptions"].as_array().unwrap().iter())
            .find(|e| e["outage"] == true)
            .unwrap();
        let baseline = main["baseline_bps"].as_f64().unwrap() / 8.0;
        let seconds = main["duration_ms"].as_f64().unwrap() / 1e3;
        let deficit = main["deficit_bytes"].as_f64().unwrap();
        let blackhole = injected[path].1 / 1e3;
        assert!(deficit <= baseline * seconds * 1.0001, "{path}: {main}");
        assert!(deficit >= 0.5 * baseline * blackhole, "{path}: {main}");
    }
}

#[test]
fn configuration_statistics_say_how_many_trials_they_cover() {
    let report = report();
    for config in report["configs"].as_array().unwrap() {
        let trials = config["trials"].as_u64().unwrap();
        assert_eq!(config["outage_trials"].as_u64(), Some(trials), "{config}");
    }
    let two = (report["configs"].as_array().unwrap().iter())
        .find(|c| c["params"]["exp"] == "tcp_p1" && c["params"]["config"] == "020")
        .unwrap();
    assert_eq!(two["trials"], 2);
    let runs: Vec<f64> = (report["runs"].as_array().unwrap().iter())
        .filter(|r| r["path"].as_str().unwrap().starts_with("tcp_p1_020/"))
        .map(|r| r["outage_ms"].as_f64().unwrap())
        .collect();
    let (lo, hi) = (runs[0].min(runs[1]), runs[0].max(runs[1]));
    assert_eq!(two["outage_ms"]["min"].as_f64(), Some(lo));
    assert_eq!(two["outage_ms"]["max"].as_f64(), Some(hi));
    assert!((two["outage_ms"]["median"].as_f64().unwrap() - (lo + hi) / 2.0).abs() < 1e-9);
}

#[test]
fn shallow_dips_are_found() {
    // With rto_min 5ms TCP recovers within milliseconds of the path coming
    // back: a 43 or 70 ms blackhole leaves a dip of one interval that never
    // reaches zero (a fixed threshold at half the median misses it).
    let report = report();
    let shallow: Vec<&Value> = (report["runs"].as_array().unwrap().iter())
        .filter(|r| r["path"].as_str().unwrap().starts_with("tcp_rto5_"))
        .collect();
    assert_eq!(shallow.len(), 3);
    for run in shallow {
        let main = (run["tcp_disruptions"].as_array().unwrap().iter())
            .find(|e| e["outage"] == true)
            .unwrap_or_else(|| panic!("no disruption: {run}"));
        let lowest = main["min_fraction"].as_f64().unwrap();
        assert!(lowest > 0.3 && lowest < 0.9, "{main}");
        assert!(run["outage_ms"].as_f64().unwrap() > 0.0);
        let evidence = main["evidence"].as_array().unwrap();
        assert!(evidence.iter().any(|e| e == "cwnd_collapse"), "{main}");
    }
}

/// The sum over streams of `field` in each interval of a client file.
fn stream_sums(client: &std::path::Path, field: &str) -> Vec<f64> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(client).unwrap()).unwrap();
    (doc["intervals"].as_array().unwrap().iter())
        .map(|i| {
            (i["streams"].as_array().unwrap().iter())
                .map(|s| s[field].as_f64().unwrap())
                .sum()
        })
        .collect()
}

#[test]
fn any_client_interval_field_is_a_metric() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = expost(&[
        "failover",
        fixtures().to_str().unwrap(),
        "--metric",
        "snd_cwnd,rttvar",
        "--only",
        "exp=tcp_rto5_p4",
        "-q",
        "-o",
        out_dir.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // tcp_rto5_p4_043_1 has one client of 4 streams, 0.1 s intervals in
    // 0.1 s epochs: each epoch's value is the sum of one interval's streams.
    let run = "tcp_rto5_p4_043/tcp_rto5_p4_043_1";
    let raw = stream_sums(
        &fixtures().join(run).join("iperf/client_1.json"),
        "snd_cwnd",
    );
    let series = std::fs::read_to_string(out_dir.path().join("series.csv")).unwrap();
    let rows: Vec<Vec<&str>> = (series.lines().skip(1))
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[0] == "043" && f[1] == "tcp_rto5_p4" && f[4] == "iperf_snd_cwnd")
        .collect();
    assert!(rows.len() >= 25, "{} rows", rows.len());
    for row in &rows {
        assert_eq!(row[7], "bytes");
        let value: f64 = row[6].parse().unwrap();
        assert!(
            raw.contains(&value),
            "{value} is no interval's sum: {raw:?}"
        );
    }
    let collapsed = rows
        .iter()
        .any(|r| r[6].parse::<f64>().unwrap() < 0.5 * raw[5]);
    assert!(collapsed, "the blackhole's cwnd collapse is in the series");
    let bands = std::fs::read_to_string(out_dir.path().join("bands.csv")).unwrap();
    assert!(bands.lines().any(|l| l.contains(",iperf_rttvar,")));
    for ext in ["png", "svg", "pdf"] {
        for stem in ["iperf_snd_cwnd", "iperf_rttvar"] {
            let file = out_dir.path().join(format!("{stem}.{ext}"));
            assert!(file.is_file(), "{file:?} missing");
        }
    }
    let svg = std::fs::read_to_string(out_dir.path().join("iperf_snd_cwnd.svg")).unwrap();
    assert!(svg.contains("snd_cwnd (bytes)"));
}

#[test]
fn an_unknown_field_is_a_usage_error_naming_those_there_are() {
    let out = expost(&[
        "failover",
        fixtures().to_str().unwrap(),
        "--metric",
        "snd_cwnd,cwnd",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--metric cwnd"), "{stderr}");
    for field in ["snd_cwnd", "rtt", "retransmits", "bytes"] {
        assert!(stderr.contains(field), "{stderr}");
    }
}

#[test]
fn a_field_some_runs_lack_is_a_warning_naming_them() {
    // The example campaign mixes UDP runs (no snd_cwnd) and TCP runs.
    let out = expost(&[
        "failover",
        repo().join("examples/failover").to_str().unwrap(),
        "--metric",
        "snd_cwnd",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warning = (stderr.lines())
        .find(|l| l.contains("--metric snd_cwnd: absent from 9 of 13 runs"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(warning.contains("fec_udp_failover_020/fec_udp_failover_020_1"));
    assert!(!warning.contains("hc_failover"));
}

/// Copies folder `from` into `to`, recursively.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_run_without_disruption_is_null_with_a_reason_and_left_out_of_the_statistics() {
    // Trial 2 of tcp_p1_020, its outage erased: every server interval
    // carries the usual 640 KBytes and the client saw no retransmission.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tcp_p1_020");
    copy_tree(&fixtures().join("tcp_p1_020"), &config);
    let iperf = config.join("tcp_p1_020_2/iperf");
    let server = std::fs::read_to_string(iperf.join("server_1.out")).unwrap();
    let flat: Vec<String> = (server.lines())
        .map(|line| match line.find("sec ") {
            Some(at) if line.contains("bits/sec") && !line.contains("receiver") => {
                format!("{}sec   640 KBytes  52.4 Mbits/sec", &line[..at])
            }
            _ => line.to_string(),
        })
        .collect();
    std::fs::write(iperf.join("server_1.out"), flat.join("\n") + "\n").unwrap();
    let client = std::fs::read_to_string(iperf.join("client_1.json")).unwrap();
    let calm = zero_after(&client, "\"retransmits\":");
    std::fs::write(iperf.join("client_1.json"), calm).unwrap();

    let out = expost(&["failover", dir.path().to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    let runs = report["runs"].as_array().unwrap();
    let calm = runs.iter().find(|r| r["trial"] == "2").unwrap();
    assert!(calm["outage_ms"].is_null(), "{calm}");
    let reason = calm["outage_reason"].as_str().unwrap();
    assert!(reason.starts_with("no TCP disruption"), "{reason}");
    assert_eq!(calm["tcp_disruptions"].as_array().unwrap().len(), 0);
    let hit = runs.iter().find(|r| r["trial"] == "1").unwrap();
    let hit_ms = hit["outage_ms"].as_f64().unwrap();
    let config = &report["configs"][0];
    assert_eq!(config["trials"], 2);
    assert_eq!(config["outage_trials"], 1);
    for key in ["median", "min", "max"] {
        assert_eq!(config["outage_ms"][key].as_f64(), Some(hit_ms), "{config}");
    }
    let table = expost(&["failover", dir.path().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&table.stdout);
    assert!(stdout.contains("2 (outage in 1)"), "{stdout}");
}

/// `text` with every number after `key` replaced by 0.
fn zero_after(text: &str, key: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(key) {
        let (head, tail) = rest.split_at(at + key.len());
        out.push_str(head);
        let tail = tail.trim_start();
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        out.push('0');
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn metric_is_saved_in_the_study_file_and_rerun() {
    let out_dir = tempfile::tempdir().unwrap();
    let root = fixtures();
    let (study, text) = save_study(
        &[
            "failover",
            root.to_str().unwrap(),
            "--only",
            "exp=tcp_rto5_p1",
            "--metric",
            "snd_cwnd",
        ],
        out_dir.path(),
    );
    assert!(text.contains("metric = [\"snd_cwnd\"]"), "{text}");
    let figure = out_dir.path().join("iperf_snd_cwnd.svg");
    std::fs::remove_file(&figure).unwrap();
    rerun_elsewhere(&study);
    assert!(figure.is_file());
}
