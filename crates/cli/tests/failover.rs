//! End-to-end tests: the real `expost` binary on the bundled example
//! campaign (real iperf3 runs through a real injected outage) and on the
//! bad-input corpus. Numbers are checked against values computed here
//! independently, from the raw files.

mod common;
use common::{expost, figures_json, json_of, repo};

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> PathBuf {
    repo().join("examples/failover")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find('{').unwrap();
    serde_json::from_str(&text[start..]).unwrap()
}

fn injected() -> BTreeMap<String, (f64, f64)> {
    common::injected_outages(&example())
}

#[test]
fn json_contract_on_the_example_campaign() {
    let out = expost(&["failover", example().to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), injected().len());
    for run in runs {
        for key in [
            "run",
            "path",
            "params",
            "proto",
            "flows",
            "anchor_epoch",
            "lost",
            "packets",
            "outage_start_s",
            "outage_ms",
            "diagnostics",
        ] {
            assert!(run.get(key).is_some(), "run lacks {key}: {run}");
        }
        assert_eq!(run["ok"], true, "{run}");
        assert!(run["flows"].as_u64().unwrap() >= 2);
        let path = example().join(run["path"].as_str().unwrap());
        // lost/packets: Σ over flows of the client's end.sum, read here directly.
        let (mut lost, mut packets) = (0, 0);
        for entry in std::fs::read_dir(path.join("iperf")).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("client_") {
                let doc = read_json(&entry.path());
                if let Some(sum) = doc["end"].get("sum") {
                    lost += sum["lost_packets"].as_u64().unwrap();
                    packets += sum["packets"].as_u64().unwrap();
                }
            }
        }
        if run["proto"] == "udp" {
            assert_eq!(run["lost"].as_u64(), Some(lost), "{}", run["path"]);
            assert_eq!(run["packets"].as_u64(), Some(packets), "{}", run["path"]);
        } else {
            assert_eq!(run["proto"], "tcp");
            assert!(run["lost"].is_null() && run["packets"].is_null());
        }
    }
    let configs = report["configs"].as_array().unwrap();
    assert!(configs.len() >= 4);
    for config in configs {
        let spread = &config["outage_ms"];
        assert!(spread["min"].as_f64().unwrap() <= spread["median"].as_f64().unwrap());
        assert!(spread["median"].as_f64().unwrap() <= spread["max"].as_f64().unwrap());
        assert!(config["trials"].as_u64().unwrap() >= 2);
    }
}

#[test]
fn udp_outages_match_the_injected_ones_to_a_few_datagrams() {
    let out = expost(&["failover", example().to_str().unwrap(), "--json"]);
    let report = json_of(&out);
    let truth = injected();
    let mut checked = 0;
    for run in report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["proto"] == "udp")
    {
        let (start_epoch, applied_ms) = truth[run["path"].as_str().unwrap()];
        let measured_ms = run["outage_ms"].as_f64().unwrap();
        // The nft rule is added and removed by separate commands: the applied
        // length is known to about a millisecond; datagrams are 0.6 ms apart at 20 Mbit/s.
        assert!(
            (measured_ms - applied_ms).abs() < 3.0,
            "{}: {measured_ms} ms vs {applied_ms} ms injected",
            run["path"]
        );
        let start = run["outage_start_s"].as_f64().unwrap() + run["anchor_epoch"].as_f64().unwrap();
        // Whole-second --timestamps pin a flow's start only to about one interval.
        let flow_uncertainty = run["flow_starts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["uncertainty_s"].as_f64().unwrap())
            .fold(0.0, f64::max);
        let tolerance = 0.005 + flow_uncertainty;
        assert!(
            (start - start_epoch).abs() < tolerance,
            "{}: outage at {start} vs {start_epoch} (±{tolerance})",
            run["path"]
        );
        checked += 1;
    }
    assert!(checked >= 6);
}

#[test]
fn outputs_are_written_and_agree_with_the_raw_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = expost(&[
        "failover",
        example().to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
        "-q",
        "--per-flow",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "series.csv",
        "series.parquet",
        "runs.csv",
        "runs.parquet",
        "bands.csv",
        "diagnostics.csv",
        "failover.json",
    ] {
        assert!(dir.path().join(name).is_file(), "{name} missing");
    }
    for stem in [
        "loss",
        "loss_zoom",
        "throughput_udp",
        "throughput_tcp",
        "rtt",
    ] {
        for ext in ["svg", "png", "pdf"] {
            let path = dir.path().join(format!("{stem}.{ext}"));
            assert!(
                path.metadata().map(|m| m.len() > 500).unwrap_or(false),
                "{} missing or empty",
                path.display()
            );
        }
    }
    let png = std::fs::read(dir.path().join("loss.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(std::fs::read(dir.path().join("loss.pdf"))
        .unwrap()
        .starts_with(b"%PDF"));

    // Flow 0's sent throughput per epoch is its client interval rate: their
    // mean over the run equals the client's own end.sum rate within 1 %.
    let series = std::fs::read_to_string(dir.path().join("series.csv")).unwrap();
    let mut lines = series.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header,
        ["config", "exp", "trial", "flow", "metric", "time", "value", "unit"]
    );
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let run_name = "fec_udp_failover_050/fec_udp_failover_050_1";
    let values: Vec<f64> = series
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| {
            f[col("exp")] == "fec_udp_failover"
                && f[col("config")] == "050"
                && f[col("trial")] == "1"
        })
        .filter(|f| f[col("flow")] == "0" && f[col("metric")] == "throughput")
        .map(|f| f[col("value")].parse().unwrap())
        .collect();
    assert!(values.len() > 50);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let client = read_json(&example().join(run_name).join("iperf/client_0.json"));
    let reported = client["end"]["sum"]["bits_per_second"].as_f64().unwrap();
    assert!(
        (mean - reported).abs() / reported < 0.01,
        "{mean} vs {reported}"
    );
}

#[test]
fn outputs_are_identical_whatever_the_thread_count() {
    let run = |threads: &str| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_expost"))
            .args([
                "failover",
                example().to_str().unwrap(),
                "-q",
                "-o",
                dir.path().to_str().unwrap(),
            ])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(out.status.success());
        dir
    };
    let (one, two) = (run("1"), run("2"));
    for name in [
        "series.csv",
        "series.parquet",
        "bands.csv",
        "runs.csv",
        "figures.json",
        "loss.svg",
        "loss.png",
        "loss.pdf",
    ] {
        let a = std::fs::read(one.path().join(name)).unwrap();
        let b = std::fs::read(two.path().join(name)).unwrap();
        assert!(a == b, "{name} differs between 1 and 2 threads");
    }
    // The summary records the command line, whose output folder differs here.
    let summary = |dir: &tempfile::TempDir| {
        let mut value = read_json(&dir.path().join("failover.json"));
        let object = value.as_object_mut().unwrap();
        object.remove("command");
        object["options"].as_object_mut().unwrap().remove("output");
        value
    };
    assert_eq!(summary(&one), summary(&two));
}

#[test]
fn user_pattern_and_window() {
    let out = expost(&[
        "failover",
        example().to_str().unwrap(),
        "--json",
        "--pattern",
        "{exp}_{poll_ms}/{_}_{trial}",
    ]);
    let report = json_of(&out);
    let first = &report["runs"][0];
    assert!(first["params"]["poll_ms"].is_string(), "{first}");
    assert!(first["params"].get("config").is_none());

    let dir = tempfile::tempdir().unwrap();
    let out = expost(&[
        "failover",
        example().to_str().unwrap(),
        "-q",
        "--window",
        "3:6",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let bands = std::fs::read_to_string(dir.path().join("bands.csv")).unwrap();
    let header: Vec<&str> = bands.lines().next().unwrap().split(',').collect();
    let time = header.iter().position(|h| *h == "time").unwrap();
    for line in bands.lines().skip(1) {
        let t: f64 = line.split(',').nth(time).unwrap().parse().unwrap();
        assert!((3.0..=6.0).contains(&t), "{t} outside the window");
    }
}

#[test]
fn command_line_mistakes_exit_2_and_missing_folders_exit_1() {
    let out = expost(&["failover"]);
    assert_eq!(out.status.code(), Some(2));
    let out = expost(&["failover", "x", "--window", "9:3"]);
    assert_eq!(out.status.code(), Some(2));
    // Option values the study cannot use are usage errors too, found
    // before any input is read (the campaign folder does not even exist).
    for (option, value, says) in [
        ("--rolling", "0", "--rolling"),
        ("--bin", "0", "--bin 0"),
        ("--pattern", "{", "--pattern"),
        ("--tcp-threshold", "2", "--tcp-threshold"),
    ] {
        let out = expost(&["failover", "/nonexistent/campaign", option, value]);
        assert_eq!(out.status.code(), Some(2), "{option} {value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{option} {value}: {stderr}");
        assert!(stderr.contains("--help"), "{stderr}");
    }
    let out = expost(&["failover", "/nonexistent/campaign"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/campaign"));
    let out = expost(&[
        "failover",
        example().to_str().unwrap(),
        "--pattern",
        "{a}/{a}",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("appears twice"));
}

/// The bad-input corpus (built by scripts/make-bad-corpus.py from a real run):
/// each case is reported with its file (and line) and what is wrong; the other runs go on.
#[test]
fn bad_input_corpus() {
    let corpus = repo().join("tests/corpus/failover");
    let out = expost(&["failover", corpus.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "some runs fail, so the exit code says so"
    );
    let report = json_of(&out);
    let runs: BTreeMap<String, &Value> = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["params"]["config"].as_str().unwrap().to_string(), r))
        .collect();
    // (case, run still analysed, file suffix, line, words in the message)
    let expected: [(&str, bool, &str, Option<u64>, &str); 11] = [
        ("emptyfile", true, "iperf/client_0.json", None, "empty"),
        (
            "truncated",
            true,
            "iperf/client_0.json",
            Some(0),
            "truncated JSON",
        ),
        (
            "junkline",
            true,
            "iperf/client_0.json",
            Some(1),
            "line before the JSON",
        ),
        (
            "othertool",
            true,
            "iperf/client_0.json",
            None,
            "not iperf3 output",
        ),
        (
            "orphanserver",
            true,
            "iperf/server_7.out",
            None,
            "matches no client",
        ),
        (
            "portmismatch",
            true,
            "iperf/server_0.out",
            None,
            "port 5999",
        ),
        ("noanchor", false, "event_log.json", None, "iperf_client"),
        ("noiperf", false, "iperf", None, "no readable iperf/"),
        (
            "backwards",
            true,
            "iperf/server_0.out",
            Some(0),
            "backwards",
        ),
        (
            "cutline",
            true,
            "iperf/server_1.out",
            Some(0),
            "middle of this line",
        ),
        ("nanneg", true, "iperf/client_1.json", None, "negative"),
    ];
    assert_eq!(runs["control"]["ok"], true);
    assert!(runs["control"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["severity"] == "note"));
    for (case, ok, file, line, words) in expected {
        let run = runs
            .get(case)
            .unwrap_or_else(|| panic!("case {case} not reported"));
        assert_eq!(run["ok"], ok, "{case}: {run}");
        let diags = run["diagnostics"].as_array().unwrap();
        let found = diags.iter().find(|d| {
            d["file"].as_str().unwrap().ends_with(file)
                && d["message"].as_str().unwrap().contains(words)
        });
        let found = found.unwrap_or_else(|| {
            panic!("{case}: no diagnostic on {file} saying {words:?}: {diags:#?}")
        });
        match line {
            Some(0) => assert!(
                found["line"].as_u64().is_some(),
                "{case}: a line number was expected: {found}"
            ),
            Some(n) => assert_eq!(found["line"].as_u64(), Some(n), "{case}: {found}"),
            None => {}
        }
    }
    let nan = runs["nanneg"]["diagnostics"].as_array().unwrap();
    assert!(
        nan.iter()
            .any(|d| d["message"].as_str().unwrap().contains("nan")),
        "{nan:#?}"
    );
    assert_eq!(report["summary"]["failed"], 2);
    let total: usize = runs
        .values()
        .map(|r| r["diagnostics"].as_array().unwrap().len())
        .sum();
    let summary = &report["summary"];
    let counted = summary["errors"].as_u64().unwrap()
        + summary["warnings"].as_u64().unwrap()
        + summary["notes"].as_u64().unwrap();
    assert_eq!(
        counted as usize, total,
        "the summary counts every diagnostic"
    );
}

/// A campaign of real runs, one with an unreadable client file: the other
/// runs are analysed, the error names the file, and the exit code is 1 (it
/// was 0 while only the diagnostics said "1 error").
#[test]
fn an_unreadable_file_in_one_run_fails_the_exit_code_and_the_rest_goes_on() {
    use expost_testkit::campaign::TempCampaign;
    let real = example().join("fec_udp_failover_020");
    let campaign = TempCampaign::new()
        .copy(&real.join("fec_udp_failover_020_1"), "x_1/x_1_1")
        .copy(&real.join("fec_udp_failover_020_2"), "x_1/x_1_2")
        .file("x_1/x_1_2/iperf/client_1.json", "not iperf3 at all");
    let out = expost(&["failover", &campaign.arg(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    assert_eq!(report["summary"]["runs"], 2);
    assert_eq!(report["runs"][0]["ok"], true);
    let errors: Vec<&Value> = report["runs"][1]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert!(!errors.is_empty(), "{}", report["runs"][1]);
    assert!(errors.iter().all(|d| d["file"]
        .as_str()
        .unwrap()
        .ends_with("x_1/x_1_2/iperf/client_1.json")));
}

/// A campaign whose folder names hold an ESC sequence and a bell: the
/// figures are drawn (SVG cannot hold control characters, so they are
/// shown as escapes), and nothing raw reaches the terminal.
#[test]
fn control_characters_in_names_neither_break_figures_nor_reach_the_terminal() {
    use expost_testkit::campaign::TempCampaign;
    let real = example().join("fec_udp_failover_020");
    let name = "a\u{1b}[31mb\u{7}";
    let campaign = TempCampaign::new()
        .copy(
            &real.join("fec_udp_failover_020_1"),
            &format!("{name}_020/{name}_020_1"),
        )
        .copy(
            &real.join("fec_udp_failover_020_2"),
            &format!("{name}_020/{name}_020_2"),
        );
    let out = tempfile::tempdir().unwrap();
    let result = expost(&[
        "failover",
        &campaign.arg(),
        "-o",
        out.path().to_str().unwrap(),
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr),
    );
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
    }
    assert!(stdout.contains("a\\u{1b}[31mb\\u{7}"), "{stdout}");
    let svg = std::fs::read_to_string(out.path().join("loss.svg")).unwrap();
    assert!(svg.contains("a\\u{1b}[31mb\\u{7}"));
    assert!(out.path().join("loss.png").is_file());
}

/// Inputs that are not files: a folder named `event_log.json`, a FIFO and
/// a link to `/dev/zero` named like client files. Each is said for what it
/// is, nothing hangs or reads without end, and the rest is analysed.
#[cfg(unix)]
#[test]
fn inputs_that_are_not_files_are_named_for_what_they_are() {
    use expost_testkit::campaign::TempCampaign;
    use std::time::{Duration, Instant};
    let real = example().join("fec_udp_failover_020");
    let campaign = TempCampaign::new()
        .copy(&real.join("fec_udp_failover_020_1"), "x_1/x_1_1")
        .copy(&real.join("fec_udp_failover_020_2"), "x_1/x_1_2")
        .remove("x_1/x_1_2/event_log.json")
        .file("x_1/x_1_2/event_log.json/inside", "");
    let iperf = campaign.path().join("x_1/x_1_1/iperf");
    let fifo_made = std::process::Command::new("mkfifo")
        .arg(iperf.join("client_7.json"))
        .status()
        .unwrap();
    assert!(fifo_made.success());
    std::os::unix::fs::symlink("/dev/zero", iperf.join("client_8.json")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(["failover", &campaign.arg(), "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("expost hangs on a FIFO or a device");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let report = json_of(&out);
    let messages: Vec<String> = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["diagnostics"].as_array().unwrap().clone())
        .map(|d| {
            format!(
                "{}: {}",
                d["file"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    let said = |file: &str, what: &str| {
        messages
            .iter()
            .any(|m| m.contains(file) && m.contains(what))
    };
    assert!(said("client_7.json", "a FIFO"), "{messages:#?}");
    assert!(said("client_8.json", "a device"), "{messages:#?}");
    assert!(said("x_1_2/event_log.json", "a folder"), "{messages:#?}");
    assert_eq!(report["runs"][0]["ok"], true, "the first run is analysed");
    assert_eq!(report["runs"][0]["flows"], 2);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the second run cannot be aligned"
    );
}

/// An event log 30 years away from its iperf3 files: the run is still
/// analysed, with a warning naming each flow and how far it is.
#[test]
fn an_anchor_decades_away_from_the_flows_is_a_warning() {
    use expost_testkit::campaign::TempCampaign;
    let run = example().join("fec_udp_failover_020/fec_udp_failover_020_1");
    let mut log: Value =
        serde_json::from_slice(&std::fs::read(run.join("event_log.json")).unwrap()).unwrap();
    for event in log.as_array_mut().unwrap() {
        for key in ["time_", "stop_time_"] {
            if let Some(t) = event.get(key).and_then(Value::as_f64) {
                event[key] = serde_json::json!(t - 30.0 * 365.25 * 86400.0);
            }
        }
    }
    let campaign = TempCampaign::new().copy(&run, "x_1/x_1_1").file(
        "x_1/x_1_1/event_log.json",
        serde_json::to_vec(&log).unwrap(),
    );
    let out = expost(&["failover", &campaign.arg(), "--json"]);
    let report = json_of(&out);
    let warnings: Vec<&str> = report["runs"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "warning")
        .filter_map(|d| d["message"].as_str())
        .filter(|m| m.contains("days) after the \"iperf_client\" event"))
        .collect();
    assert_eq!(warnings.len(), 2, "one per flow: {}", report["runs"][0]);
    assert!(warnings[0].contains("10957.5 days"), "{warnings:?}");
}

/// `expost failover` on the example with `extra` options, writing into a
/// new folder: the folder, the exit code and stderr.
fn on_example(extra: &[&str]) -> (tempfile::TempDir, Option<i32>, String) {
    let out_dir = tempfile::tempdir().unwrap();
    let root = example();
    let mut args = vec!["failover", root.to_str().unwrap()];
    args.extend(extra);
    args.extend(["-o", out_dir.path().to_str().unwrap(), "-q"]);
    let out = expost(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out_dir, out.status.code(), stderr)
}

/// An output folder's figures.json.
/// `--mark`: each run's time of another Shremote event, from its own log,
/// in the JSON and as a labelled line on the figures; an event a log lacks
/// is a warning naming the events it has; the anchor cannot be marked.
#[test]
fn marked_events_are_timed_per_run_and_drawn() {
    let (out_dir, code, stderr) = on_example(&["--mark", "failover,recovery"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "no \"recovery\" event to mark (events: iperf_server, iperf_client, failover)"
        ),
        "{stderr}"
    );
    let json = read_json(&out_dir.path().join("failover.json"));
    for run in json["runs"].as_array().unwrap() {
        // Each run's own log: its failover event after its client start.
        let log: Value = serde_json::from_str(
            &std::fs::read_to_string(
                example()
                    .join(run["path"].as_str().unwrap())
                    .join("event_log.json"),
            )
            .unwrap(),
        )
        .unwrap();
        // Shremote's two formats name a command `name_` or `name`.
        let time = |name: &str| {
            log.as_array()
                .unwrap()
                .iter()
                .find(|e| (e["name_"] == name || e["name"] == name) && e["time_"].is_f64())
                .and_then(|e| e["time_"].as_f64())
        };
        let want = time("failover").map(|t| t - time("iperf_client").unwrap());
        let got = run["marks"].get("failover").and_then(Value::as_f64);
        match (got, want) {
            (Some(got), Some(want)) => {
                assert!((got - want).abs() < 1e-6, "{}: {got} vs {want}", run["run"])
            }
            (got, want) => assert_eq!(got, want, "{}", run["run"]),
        }
        assert!(run["marks"].get("recovery").is_none());
    }
    let figures = figures_json(out_dir.path());
    for figure in figures.as_array().unwrap() {
        let labels: Vec<&str> = figure["figure"]["markers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["label"].as_str())
            .collect();
        assert!(labels.contains(&"failover"), "{labels:?}");
    }

    let out = expost(&[
        "failover",
        example().to_str().unwrap(),
        "--mark",
        "iperf_client",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("that is the anchor"));
}

/// `--band mean`: a 95 % interval of the mean reaches below 0 % loss on
/// the example; figures clip it to the quantity's range and the legend
/// says so; bands.csv keeps the interval as computed.
#[test]
fn mean_bands_are_clipped_to_the_physical_range_and_the_legend_says_so() {
    let figures_of = |band: &str| {
        let (out_dir, code, stderr) = on_example(&["--band", band]);
        assert_eq!(code, Some(0), "{stderr}");
        let bands = std::fs::read_to_string(out_dir.path().join("bands.csv")).unwrap();
        (figures_json(out_dir.path()), bands)
    };
    let (figures, bands) = figures_of("mean");
    let loss = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "loss")
        .unwrap();
    assert_eq!(
        loss["figure"]["note"],
        "band: 95 % CI of the mean, clipped to 0–100 %"
    );
    for line in loss["figure"]["lines"].as_array().unwrap() {
        for b in line["band"].as_array().unwrap() {
            let (low, high) = (b[1].as_f64(), b[2].as_f64());
            assert!(low.is_none_or(|v| (0.0..=100.0).contains(&v)), "{b}");
            assert!(high.is_none_or(|v| (0.0..=100.0).contains(&v)), "{b}");
        }
    }
    // The table keeps the interval as computed: below 0 somewhere.
    let mut rows = bands.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let low = header.iter().position(|h| *h == "ci95_low").unwrap();
    assert!(rows.any(|r| r
        .split(',')
        .nth(low)
        .and_then(|v| v.parse::<f64>().ok())
        .is_some_and(|v| v < 0.0)));
    // Min–max bands stay within the data: no note.
    let (figures, _) = figures_of("median");
    assert!(figures
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["figure"].get("note").is_none()));
}

/// `--figures`: only the figures named are written (every table still is);
/// a name that matches no figure is a warning naming those there are.
#[test]
fn only_the_figures_named_are_written() {
    let (out_dir, code, stderr) = on_example(&["--figures", "loss,nope"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr
            .contains("--figures: no figure or chart named nope here (there are: loss_zoom, loss,"),
        "{stderr}"
    );
    let mut files: Vec<String> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".svg") || n.ends_with(".png") || n.ends_with(".pdf"))
        .collect();
    files.sort();
    assert_eq!(files, ["loss.pdf", "loss.png", "loss.svg"]);
    assert!(out_dir.path().join("runs.csv").is_file());
    let manifest = std::fs::read_to_string(out_dir.path().join("manifest.json")).unwrap();
    assert!(!manifest.contains("loss_zoom.svg"));
}

/// The texts of an SVG's `<text>` elements, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

/// `--ylim NAME=MIN:MAX` sets a line figure's y axis; a malformed value
/// is exit 2 before any work, and a name that is no figure a warning.
#[test]
fn ylim_sets_the_y_axis_of_the_figure_named() {
    let (out_dir, code, stderr) = on_example(&[
        "--figures",
        "loss",
        "--ylim",
        "loss=0:50",
        "--ylim",
        "nope=0:1",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("--ylim: no line figure named nope here (there are: loss)"),
        "{stderr}"
    );
    let texts = svg_texts(&std::fs::read_to_string(out_dir.path().join("loss.svg")).unwrap());
    assert!(texts.iter().any(|t| t == "50"), "{texts:?}");
    assert!(
        !texts.iter().any(|t| t == "60" || t == "80" || t == "100"),
        "{texts:?}"
    );
    for bad in ["loss=5:1", "loss", "loss=a:b", "=0:1"] {
        let (out_dir, code, stderr) = on_example(&["--ylim", bad]);
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("expected NAME=MIN:MAX"), "{stderr}");
        assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 0);
    }
}

/// `--only` chooses the configurations drawn, `--label` their legend
/// entries; values no configuration has are warnings, malformed ones exit 2.
#[test]
fn only_and_label_choose_and_name_the_lines_drawn() {
    let (out_dir, code, stderr) = on_example(&[
        "--only",
        "config=020,050,999",
        "--label",
        "config=020:20 ms poll",
        "--label",
        "config=050:50 ms poll",
        "--label",
        "config=777:never",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: --only config=999: no configuration has it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--label config=777: no configuration has it"),
        "{stderr}"
    );
    let figures = figures_json(out_dir.path());
    let loss = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "loss")
        .unwrap();
    let labels: Vec<&str> = loss["figure"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["20 ms poll", "50 ms poll"]);
    // Tables keep every configuration.
    let configs = std::fs::read_to_string(out_dir.path().join("configs.csv")).unwrap();
    assert_eq!(configs.lines().count(), 1 + 5);
    for bad in [
        &["--only", "config"][..],
        &["--only", "=020"][..],
        &["--label", "config=020"][..],
        &["--label", "config=020:"][..],
    ] {
        let (_, code, stderr) = on_example(bad);
        assert_eq!(code, Some(2), "{bad:?}: {stderr}");
    }
}

/// `--trials` draws only the trials named, the bands made of them alone
/// (one trial: its own values, a band of no width); a trial no run has is
/// a warning, an empty one exit 2.
#[test]
fn trials_choose_which_runs_the_figures_are_made_of() {
    let (out_dir, code, stderr) = on_example(&["--trials", "1,9"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("--trials 9: no run analysed has this trial"),
        "{stderr}"
    );
    let figures = figures_json(out_dir.path());
    let loss = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "loss")
        .unwrap();
    for line in loss["figure"]["lines"].as_array().unwrap() {
        for b in line["band"].as_array().unwrap() {
            assert_eq!(b[1], b[2], "{}: one trial, no spread", line["label"]);
        }
    }
    // Without --trials the bands have width somewhere.
    let figures = figures_json(on_example(&[]).0.path());
    let spread = figures.as_array().unwrap().iter().any(|f| {
        f["figure"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["band"].as_array().unwrap().iter().any(|b| b[1] != b[2]))
    });
    assert!(spread);
    let (_, code, _) = on_example(&["--trials", ""]);
    assert_eq!(code, Some(2));
}

#[test]
fn legend_places_the_line_figures_legend_and_says_when_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let out = expost(&[
        "failover",
        example().to_str().unwrap(),
        "-q",
        "-o",
        dir.path().to_str().unwrap(),
        "--figures",
        "loss,rtt",
        "--legend",
        "none",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(dir.path().join("loss.svg")).unwrap();
    assert!(!svg.contains("config 020"), "no legend");
    let inside_dir = dir.path().join("inside");
    let out = expost(&[
        "failover",
        example().to_str().unwrap(),
        "-q",
        "-o",
        inside_dir.to_str().unwrap(),
        "--figures",
        "loss",
        "--legend",
        "inside",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let inside = std::fs::read_to_string(inside_dir.join("loss.svg")).unwrap();
    assert!(inside.contains("config 020") && inside != svg);
    let provision = expost(&[
        "provision",
        "--from",
        repo()
            .join("examples/provision/events.jsonl")
            .to_str()
            .unwrap(),
        "-q",
        "-o",
        dir.path().join("p").to_str().unwrap(),
        "--legend",
        "bottom",
    ]);
    assert!(String::from_utf8_lossy(&provision.stderr)
        .contains("--legend: there is no line figure here"));
    let bad = expost(&[
        "failover",
        example().to_str().unwrap(),
        "--json",
        "--legend",
        "left",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}
