//! End-to-end tests of the everyday commands: inspect, study files,
//! completions and man pages.

mod common;
use common::{expost, repo, rerun_elsewhere, save_study};

use serde_json::Value;
use std::process::Output;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The findings `expost inspect --json` printed, one JSON object a line.
fn findings_of(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn inspect_recognises_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = repo().join("tests/fixtures/iperf3");
    // Names that say nothing: the content decides.
    std::fs::copy(
        fixtures.join("udp_server_P2_iperf3.19.1_iperf3-lib_udp-server.json"),
        dir.path().join("a.dat"),
    )
    .unwrap();
    std::fs::copy(
        fixtures.join("server_text_tcp_iperf3_statexec_iperf_server.log"),
        dir.path().join("b.dat"),
    )
    .unwrap();
    std::fs::copy(
        repo().join("examples/failover/fec_udp_failover_020/fec_udp_failover_020_1/event_log.json"),
        dir.path().join("c.dat"),
    )
    .unwrap();
    let out = expost(&["inspect", dir.path().to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = findings_of(&out);
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["iperf3 JSON", "iperf3 text", "Shremote event log"]);
    assert!(findings[0]["summary"]
        .as_str()
        .unwrap()
        .contains("server, udp, 2 stream(s)"));
    assert_eq!(findings[0]["time_range_utc"][0], "2026-09-26T20:14:23.000Z");
    assert!(findings[1]["diagnostics"][0]["message"]
        .as_str()
        .unwrap()
        .contains("printed twice"));
    assert_eq!(
        findings[2]["entities"],
        serde_json::json!(["iperf_server", "iperf_client", "failover"])
    );
}

#[test]
fn inspect_a_campaign_and_an_unknown_file() {
    let out = expost(&[
        "inspect",
        repo().join("examples/failover").to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success());
    let finding: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(finding["kind"], "failover campaign");
    assert_eq!(finding["runs"], 13);
    assert!(finding["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m == "loss"));
    let out = expost(&["inspect", repo().join("Cargo.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("unknown"));
}

#[test]
fn a_saved_study_reruns_to_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let example = repo().join("examples/failover");
    let (study, text) = save_study(
        &[
            "failover",
            example.to_str().unwrap(),
            "--window",
            "3:6",
            "--band",
            "mean",
        ],
        &out_dir,
    );
    assert!(
        text.contains("version = 1")
            && text.contains("[failover]")
            && text.contains("band = \"mean\""),
        "{text}"
    );
    let first = std::fs::read(out_dir.join("bands.csv")).unwrap();
    std::fs::remove_file(out_dir.join("bands.csv")).unwrap();
    // Rerun from another working directory: paths are relative to the file.
    rerun_elsewhere(&study);
    assert_eq!(std::fs::read(out_dir.join("bands.csv")).unwrap(), first);

    std::fs::write(&study, text.replace("band = \"mean\"", "bands = \"mean\"")).unwrap();
    let out = expost(&["run", study.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bands") && err.contains("expost.toml"),
        "{err}"
    );
}

#[test]
fn completions_and_man_pages_come_from_the_definitions() {
    let out = expost(&["completions", "bash"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("failover") && stdout(&out).contains("--tcp-threshold"));
    for shell in ["zsh", "fish"] {
        assert!(expost(&["completions", shell]).status.success());
    }
    assert_eq!(expost(&["completions", "tcsh"]).status.code(), Some(2));
    let out = expost(&["man"]);
    assert!(
        stdout(&out).starts_with(".ie") || stdout(&out).contains(".TH expost"),
        "{}",
        &stdout(&out)[..200.min(stdout(&out).len())]
    );
    let dir = tempfile::tempdir().unwrap();
    assert!(expost(&["man", "--dir", dir.path().to_str().unwrap()])
        .status
        .success());
    assert!(dir.path().join("expost-failover.1").is_file());
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in ["failover", "inspect", "run", "completions", "man"] {
        let out = expost(&[command, "--help"]);
        assert!(out.status.success());
        assert!(
            stdout(&out).contains("Examples:"),
            "{command} --help has no example"
        );
    }
}

#[test]
fn dash_output_writes_series_csv_to_stdout() {
    let out = expost(&[
        "failover",
        repo().join("examples/failover").to_str().unwrap(),
        "-o",
        "-",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .ends_with("trial,flow,metric,time,value,unit"));
    assert!(lines.count() > 1000);
    assert!(
        !text.contains("outage ms"),
        "no terminal table on a data pipe"
    );
    let both = expost(&[
        "failover",
        repo().join("examples/failover").to_str().unwrap(),
        "-o",
        "-",
        "--json",
    ]);
    assert_eq!(both.status.code(), Some(2), "a usage error");
}

/// `expost failover … -o - | head -1`: the reader goes away after one
/// line; expost ends quietly (no panic, no "failed printing" message) and
/// its exit code says nothing went wrong with the analysis.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    for args in [&["-o", "-"][..], &["--json"][..], &[][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_expost"))
            .arg("failover")
            .arg(repo().join("examples/failover"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?}");
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("failed printing"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}");
    }
}

/// An output folder (it holds manifest.json) is said in words: the study,
/// when and with what command, its outputs with titles, table columns with
/// units, diagnostic counts and headline numbers; `--json` has it all.
#[test]
fn inspect_describes_a_study_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let run = expost(&[
        "failover",
        repo().join("examples/failover").to_str().unwrap(),
        "-q",
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert!(run.status.success());
    let out = expost(&["inspect", out_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    for needle in [
        ": study output\n",
        "`expost failover` output: 5 tables, 8 figures, 2 JSON documents; diagnostics: 0 errors, 1 warning, 0 notes",
        " by expost ",
        ": expost failover ",
        "summary: configs 5, errors 0, failed 0, notes 0, ok 13, runs 13, warnings 1",
        "  tables:\n    configs: Configurations (configs.csv)\n",
        "outage_ms_median (ms)",
        "series: Series: every run's metrics per epoch (series.csv, series.parquet)",
        "  figures:\n",
        "loss_zoom: Loss, around the outage (loss_zoom.svg, loss_zoom.png, loss_zoom.pdf)",
        "  JSON documents:\n    figures: Figure specs",
    ] {
        assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
    }
    assert!(text.contains("written 20"), "when: {text}");

    // The manifest itself says the same of its folder, as JSON.
    let out = expost(&[
        "inspect",
        out_dir.join("manifest.json").to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success());
    let finding: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(finding["kind"], "study output");
    let output = &finding["output"];
    assert_eq!(output["study"], "failover");
    assert_eq!(output["command"][1], "failover");
    assert_eq!(output["counts"]["tables"], 5);
    assert_eq!(output["counts"]["figures"], 8);
    assert_eq!(output["summary"]["runs"], 13);
    assert_eq!(output["diagnostics"]["warnings"], 1);
    let configs = &output["outputs"][0];
    assert_eq!(configs["name"], "configs");
    assert_eq!(configs["kind"], "table");
    let median = configs["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "outage_ms_median")
        .unwrap();
    assert_eq!(median["unit"], "ms");
    assert_eq!(median["type"], "float");

    // A hand-made manifest with a chart and a trace, one file missing:
    // said, and exit code 1.
    let made = dir.path().join("made");
    std::fs::create_dir_all(&made).unwrap();
    std::fs::write(made.join("trace.json"), "{\"traceEvents\": []}").unwrap();
    std::fs::write(
        made.join("manifest.json"),
        serde_json::json!({
            "expost": "9.9.9", "study": "madeup", "command": ["expost", "madeup"],
            "options": {}, "summary": {"nodes": 3},
            "diagnostics": {"errors": 1, "warnings": 0, "notes": 2},
            "outputs": [
                {"path": "trace.json", "kind": "trace", "name": "trace", "title": "Timeline", "format": "json"},
                {"path": "bars.svg", "kind": "chart", "name": "bars", "title": "Bars", "format": "svg"}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let out = expost(&["inspect", made.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for needle in [
        "`expost madeup` output: 1 chart, 1 trace; diagnostics: 1 error, 0 warnings, 2 notes",
        "  charts:\n    bars: Bars (bars.svg)\n",
        "  traces:\n    trace: Timeline (trace.json; open in ui.perfetto.dev)\n",
        "summary: nodes 3",
        "'bars.svg' is listed in manifest.json but missing",
    ] {
        assert!(text.contains(needle), "lacks {needle:?}:\n{text}");
    }
}

#[test]
fn inspect_recognises_spot_traces_and_profiling_runs() {
    let p = repo().join("tests/fixtures/preemption");
    let dir = tempfile::tempdir().unwrap();
    // Misleading names: the content decides.
    std::fs::copy(
        p.join("bamboo-traces/traces/p3-trace.csv"),
        dir.path().join("x.json"),
    )
    .unwrap();
    std::fs::copy(
        p.join("skypilot-spot-traces/us-east-1f_v100_1.json"),
        dir.path().join("y.csv"),
    )
    .unwrap();
    std::fs::copy(
        p.join("bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv"),
        dir.path().join("z.txt"),
    )
    .unwrap();
    let out = expost(&["inspect", dir.path().to_str().unwrap(), "--json"]);
    let findings = findings_of(&out);
    let summaries: Vec<&str> = findings
        .iter()
        .map(|f| f["summary"].as_str().unwrap())
        .collect();
    assert!(
        findings.iter().all(|f| f["kind"] == "spot trace"),
        "{summaries:?}"
    );
    assert!(
        summaries[0].starts_with("node-events trace, 11.37 h, 177 nodes joined, 167 left"),
        "{summaries:?}"
    );
    assert!(summaries[1].starts_with("skypilot trace"), "{summaries:?}");
    // The terminate trace's misdated rows are repaired and reported.
    assert!(!findings[2]["diagnostics"].as_array().unwrap().is_empty());

    let run86 = p.join("bamboo-simulation/profiling-runs/run-86");
    let out = expost(&["inspect", run86.to_str().unwrap(), "--json"]);
    let finding: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(finding["kind"], "profiling run");
    assert!(
        finding["summary"]
            .as_str()
            .unwrap()
            .contains("64 nodes 8.28 s"),
        "{finding}"
    );
}

#[test]
fn inspect_recognises_ombt_campaigns_controller_results_and_line_protocol() {
    let campaign = repo().join("tests/fixtures/ombt/campaign");
    let out = expost(&["inspect", campaign.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let finding: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(finding["kind"], "ombt campaign");
    assert_eq!(finding["runs"], 8);
    let summary = finding["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("8 runs (8 readable): rpc-call, rpc-cast; 1–2 clients, 1–2 servers;"),
        "{summary}"
    );
    assert!(
        summary.contains("in 8 and influxdb-data.tar.gz in 8 of 8 run folders"),
        "{summary}"
    );
    assert!(finding["time_range_utc"][0]
        .as_str()
        .unwrap()
        .starts_with("2026-"));

    // Single files, under names that say nothing: the content decides.
    let run = campaign.join("test_case_1/run_4_rpc-call_2c_2s");
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("ombt-controller.log", "a.txt"),
        ("telemetry.lp", "b.txt"),
        ("ombt-controller_docker.log", "c.txt"),
        ("influxdb-data.tar.gz", "d.bin"),
    ] {
        std::fs::copy(run.join(from), dir.path().join(to)).unwrap();
    }
    let out = expost(&["inspect", dir.path().to_str().unwrap(), "--json"]);
    let findings = findings_of(&out);
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ombt controller results",
            "line protocol",
            "ombt controller output",
            "InfluxDB data folder (tarball)"
        ]
    );
    let tarball = findings[3]["summary"].as_str().unwrap();
    assert!(
        tarball.starts_with("databases: telegraf (1 shard group); cluster id "),
        "{tarball}"
    );
    let results = findings[0]["summary"].as_str().unwrap();
    assert!(
        results.starts_with("clients: 2 agents, 200 messages ok, 0 failed; servers: 2 agents"),
        "{results}"
    );
    let lp = findings[1]["summary"].as_str().unwrap();
    assert!(
        lp.contains("(database telegraf)") && lp.ends_with(", 0 bad"),
        "{lp}"
    );
    assert!(findings[1]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m == "cpu"));
    assert!(out.status.success());

    // Text that is no iperf3 output is not taken for it.
    let out = expost(&["inspect", repo().join("README.md").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("README.md: unknown"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn inspect_recognises_shipyard_exports_as_json_lines_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let events = repo().join("examples/provision/events.jsonl");
    std::fs::copy(&events, dir.path().join("a.txt")).unwrap();
    let csv = dir.path().join("b.csv");
    let out = expost(&[
        "provision",
        "--from",
        events.to_str().unwrap(),
        "--export",
        csv.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = expost(&["inspect", dir.path().to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stdout(&out));
    let findings = findings_of(&out);
    assert_eq!(findings.len(), 2);
    for (finding, format) in findings.iter().zip(["JSON lines", "CSV"]) {
        assert_eq!(finding["kind"], "Shipyard perf events");
        let summary = finding["summary"].as_str().unwrap();
        assert!(
            summary.starts_with("866 events from 48 nodes of examplebatch$gpu-pool")
                && summary.contains(format),
            "{summary}"
        );
        assert!(finding["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "nodeprep:start"));
    }
    assert_eq!(findings[0]["time_range"], findings[1]["time_range"]);
}

#[test]
fn a_saved_ombt_study_reruns_to_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let campaign = repo().join("tests/fixtures/ombt/campaign");
    let (study, text) = save_study(
        &[
            "ombt",
            campaign.to_str().unwrap(),
            "--measurement",
            "cpu",
            "--timeout",
            "12.5",
        ],
        &out_dir,
    );
    assert!(
        text.contains("[ombt]")
            && text.contains("measurement = [\"cpu\"]")
            && text.contains("timeout = 12.5"),
        "{text}"
    );
    let first = std::fs::read(out_dir.join("runs.csv")).unwrap();
    let series = std::fs::read(out_dir.join("series.csv")).unwrap();
    std::fs::remove_file(out_dir.join("runs.csv")).unwrap();
    // Rerun from another working directory: paths are relative to the file.
    rerun_elsewhere(&study);
    assert_eq!(std::fs::read(out_dir.join("runs.csv")).unwrap(), first);
    assert_eq!(std::fs::read(out_dir.join("series.csv")).unwrap(), series);

    // What the command line forbids, a study file cannot say either.
    assert!(text.contains("no_telemetry = false"), "{text}");
    std::fs::write(
        &study,
        text.replace("no_telemetry = false", "no_telemetry = true"),
    )
    .unwrap();
    let out = expost(&["run", study.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'measurement' and 'no_telemetry'"), "{err}");
}

#[test]
fn a_saved_provision_study_reruns_to_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let events = repo().join("examples/provision/events.jsonl");
    let (study, text) = save_study(
        &[
            "provision",
            "--from",
            events.to_str().unwrap(),
            "--straggler-mads",
            "2.5",
        ],
        &out_dir,
    );
    assert!(
        text.contains("[provision]")
            && text.contains("straggler_mads = 2.5")
            && text.contains("from = \"../")
            && !text.contains("json =")
            && !text.contains("save_study"),
        "{text}"
    );
    let first = std::fs::read(out_dir.join("provision.json")).unwrap();
    std::fs::remove_file(out_dir.join("provision.json")).unwrap();
    rerun_elsewhere(&study);
    // The same analysis (diagnostics name the events file by the path given).
    let json = |bytes: &[u8]| -> Value { serde_json::from_slice(bytes).unwrap() };
    let again = json(&std::fs::read(out_dir.join("provision.json")).unwrap());
    let first = json(&first);
    for key in ["summary", "nodes", "partition"] {
        assert!(again[key] == first[key], "{key} differs");
    }
    assert_eq!(again["summary"]["stragglers"]["k"], 2.5);
}

/// A campaign folder whose name is not UTF-8 cannot go into a study file:
/// `--save-study` says which path and why, before any work.
#[cfg(unix)]
#[test]
fn save_study_names_a_path_that_is_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let campaign = dir.path().join(std::ffi::OsStr::from_bytes(b"x\xff_020"));
    std::fs::create_dir_all(&campaign).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_expost"))
        .arg("failover")
        .arg(&campaign)
        .arg("-o")
        .arg(dir.path().join("out"))
        .arg("--save-study")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not valid UTF-8"), "{stderr}");
    assert!(stderr.contains("x\u{fffd}_020"), "names the path: {stderr}");
}
