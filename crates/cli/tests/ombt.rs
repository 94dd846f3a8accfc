//! End-to-end tests of `expost ombt` on the real ombt campaign in
//! tests/fixtures/ombt (ombt 3.0.0 over RabbitMQ on 127.0.0.1) and on bad
//! campaigns built from it in temp folders. Numbers are checked against
//! values computed here from the raw controller logs.

mod common;
use common::{copy_dir, expost, json_of, ombt_campaign as campaign};

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Sums over the agents of one line of a raw controller log.
fn raw_side(log: &Path, line: usize) -> (u64, f64, f64, u64) {
    let text = std::fs::read_to_string(log).unwrap();
    let side: Value = serde_json::from_str(text.lines().nth(line).unwrap()).unwrap();
    let mut ok = 0;
    let mut total = 0.0;
    let mut count = 0;
    let mut min = f64::INFINITY;
    for agent in side.as_object().unwrap().values() {
        ok += agent["msgs_ok"].as_u64().unwrap();
        total += agent["latency"]["total"].as_f64().unwrap();
        count += agent["latency"]["count"].as_u64().unwrap();
        min = min.min(agent["latency"]["min"].as_f64().unwrap());
    }
    (ok, total, min, count)
}

#[test]
fn real_campaign_json_follows_the_contract_and_the_raw_logs() {
    let out = expost(&["ombt", campaign().to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json_of(&out);
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 8);
    for run in runs {
        let dir = campaign().join(run["backup_dir"].as_str().unwrap());
        let log = dir.join("ombt-controller.log");
        for (side, line) in [("clients", 0), ("servers", 1)] {
            let s = &run[side];
            for key in [
                "agents",
                "msgs_ok",
                "msgs_fail",
                "rate",
                "start_time",
                "stop_time",
                "per_agent_ok",
                "per_agent_fail",
            ] {
                assert!(!s[key].is_null(), "{side}.{key} missing in {run}");
            }
            for key in ["count", "avg", "std", "min", "max", "distribution"] {
                assert!(!s["latency"][key].is_null(), "{side}.latency.{key} missing");
            }
            let (ok, total, min, count) = raw_side(&log, line);
            assert_eq!(s["msgs_ok"].as_u64(), Some(ok));
            assert_eq!(s["latency"]["count"].as_u64(), Some(count));
            // Each side's average is over its own count (the notebook used the servers' for clients).
            let avg = s["latency"]["avg"].as_f64().unwrap();
            assert!((avg - total / count as f64).abs() < 1e-9, "{side}: {avg}");
            assert_eq!(s["latency"]["min"].as_f64(), Some(min));
        }
        let nc: u64 = run["params"]["nbr_clients"].as_u64().unwrap();
        assert_eq!(run["clients"]["agents"].as_u64(), Some(nc));
        assert!(run["telemetry"].is_object());
        assert!(run["diagnostics"].is_array());
    }
}

#[test]
fn outputs_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = expost(&[
        "ombt",
        campaign().to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "runs.csv",
        "runs.parquet",
        "series.csv",
        "series.parquet",
        "diagnostics.csv",
        "ombt.json",
        "rate_rpc-call.svg",
        "rate_rpc-cast.png",
        "latency_rpc-call.pdf",
        "latency_rpc-cast.svg",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let runs = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 9);
    let header = runs.lines().next().unwrap();
    for col in [
        "backup_dir",
        "call_type",
        "nbr_clients",
        "client_rate",
        "server_latency_avg",
        "client_per_agent_ok_max",
    ] {
        assert!(header.split(',').any(|c| c == col), "{col} not in {header}");
    }
    let dist = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("latency_dist_"))
        .count();
    assert_eq!(dist, 8 * 3);
    // Clients and servers in two panels of one figure.
    let svg = std::fs::read_to_string(
        dir.path()
            .join("latency_dist_test_case_1_run_4_rpc-call_2c_2s.svg"),
    )
    .unwrap();
    assert!(svg.contains(">clients, test_case_1/run_4_rpc-call_2c_2s<"));
    assert!(svg.contains(">servers, test_case_1/run_4_rpc-call_2c_2s<"));
    assert_eq!(svg.matches("<g transform=\"translate(0,").count(), 2);
}

/// `expost ombt ROOT -q -o OUT`, which must succeed.
fn write_outputs(root: &str, out: &str) {
    let run = expost(&["ombt", root, "-q", "-o", out]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn bad_runs_are_reported_and_the_others_go_on() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let src = campaign().join("test_case_1");
    for n in [
        "run_1_rpc-call_1c_1s",
        "run_2_rpc-call_1c_2s",
        "run_3_rpc-call_2c_1s",
        "run_4_rpc-call_2c_2s",
    ] {
        copy_dir(&src.join(n), &root.join(n));
    }
    // One line only; non-JSON; only the human-readable output.
    let one = root.join("run_2_rpc-call_1c_2s/ombt-controller.log");
    let first = std::fs::read_to_string(&one)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&one, format!("{first}\n")).unwrap();
    std::fs::write(
        root.join("run_3_rpc-call_2c_1s/ombt-controller.log"),
        format!("{first}\nTraceback (most recent call last):\n"),
    )
    .unwrap();
    std::fs::remove_file(root.join("run_4_rpc-call_2c_2s/ombt-controller.log")).unwrap();
    let params = r#"[{"backup_dir": "run_1_rpc-call_1c_1s", "call_type": "rpc-call", "nbr_clients": 1, "nbr_servers": 1},
                    {"backup_dir": "run_2_rpc-call_1c_2s", "call_type": "rpc-call", "nbr_clients": 1, "nbr_servers": 2},
                    {"backup_dir": "run_3_rpc-call_2c_1s", "call_type": "rpc-call", "nbr_clients": 2, "nbr_servers": 1},
                    {"backup_dir": "run_4_rpc-call_2c_2s", "call_type": "rpc-call", "nbr_clients": 2, "nbr_servers": 2},
                    {"backup_dir": "missing_run", "call_type": "rpc-call"}]"#;
    std::fs::write(root.join("params.json"), params).unwrap();
    let out = expost(&["ombt", root.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json = json_of(&out);
    let ok: Vec<bool> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ok"].as_bool().unwrap())
        .collect();
    assert_eq!(ok, vec![true, false, false, false, false]);
    assert!(stderr.contains("servers' line is missing"), "{stderr}");
    assert!(
        stderr.contains("run_3_rpc-call_2c_1s/ombt-controller.log:2"),
        "{stderr}"
    );
    assert!(stderr.contains("human-readable output"), "{stderr}");
    assert!(stderr.contains("'missing_run' is not a folder"), "{stderr}");
}

#[test]
fn params_that_are_not_a_list_are_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("params.json"), r#"{"backup_dir": "x"}"#).unwrap();
    let out = expost(&["ombt", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("params.json") && stderr.contains("must hold a JSON list"),
        "{stderr}"
    );
}

#[test]
fn query_needs_influx() {
    let out = expost(&[
        "ombt",
        campaign().to_str().unwrap(),
        "--query",
        "a=SELECT 1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// Option values the study cannot use are usage errors (exit 2), found
/// before any input is read; inputs that are not there exit 1.
#[test]
fn bad_option_values_exit_2_and_missing_inputs_exit_1() {
    let url = "http://127.0.0.1:9";
    for (args, says) in [
        (&["--influx", url, "--timeout", "0"][..], "--timeout 0"),
        (
            &["--influx", url, "--query", "no_equals_sign"][..],
            "NAME=QUERY",
        ),
    ] {
        let mut all = vec!["ombt", "/nonexistent/campaign"];
        all.extend_from_slice(args);
        let out = expost(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(says) && stderr.contains("--help"),
            "{stderr}"
        );
    }
    let out = expost(&["ombt", "/nonexistent/campaign"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/campaign"));
    let root = campaign();
    let out = expost(&["ombt", root.to_str().unwrap(), "--lp", "/nonexistent/x.lp"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.lp"));
}

/// `-o -` writes runs.csv to stdout, as `-o DIR` writes it.
#[test]
fn dash_output_writes_runs_csv_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let root = campaign();
    write_outputs(root.to_str().unwrap(), dir.path().to_str().unwrap());
    let out = expost(&["ombt", root.to_str().unwrap(), "-o", "-"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(dir.path().join("runs.csv")).unwrap()
    );
}

/// Each run's telemetry is drawn against time in the run, one figure per
/// field, with the run's window marked; the points are the series rows.
#[test]
fn telemetry_is_drawn_per_run_with_its_window_marked() {
    let dir = tempfile::tempdir().unwrap();
    write_outputs(campaign().to_str().unwrap(), dir.path().to_str().unwrap());
    let series = std::fs::read_to_string(dir.path().join("series.csv")).unwrap();
    let runs_with_samples: BTreeSet<String> = series
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    assert!(!runs_with_samples.is_empty());
    let figures: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("telemetry_") && n.ends_with(".svg"))
        .collect();
    assert!(
        figures.len() >= runs_with_samples.len(),
        "{figures:?} for {runs_with_samples:?}"
    );
    let svg = std::fs::read_to_string(dir.path().join(&figures[0])).unwrap();
    assert!(
        svg.contains("run start") && svg.contains("run stop"),
        "window not marked"
    );
}

/// telegraf's cpu plugin writes one series per core and one for the whole
/// host (`cpu=cpu-total`): every series is kept in series.csv with its tag,
/// the figure draws each host's total, not a zigzag across its cores.
#[test]
fn per_core_cpu_series_are_kept_apart_and_the_figure_draws_the_total() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("campaign");
    copy_dir(&campaign(), &root);
    let run = root.join("test_case_1/run_1_rpc-call_1c_1s");
    let json = json_of(&expost(&[
        "ombt",
        root.to_str().unwrap(),
        "--json",
        "--no-telemetry",
    ]));
    let window = &json["runs"][0]["window"];
    let start_ns = (window[0].as_f64().unwrap() * 1e9).ceil() as i64;
    let mut lp = String::from("# DDL\nCREATE DATABASE telegraf WITH NAME autogen\n# DML\n# CONTEXT-DATABASE:telegraf\n# CONTEXT-RETENTION-POLICY:autogen\n");
    for (i, cpu, idle) in [
        (0, "cpu0", 10.0),
        (0, "cpu1", 90.0),
        (0, "cpu-total", 50.0),
        (1, "cpu0", 20.0),
        (1, "cpu1", 80.0),
        (1, "cpu-total", 50.0),
    ] {
        let ns = start_ns + i * 1_000_000;
        lp.push_str(&format!(
            "cpu,cpu={cpu},host=vm,role=bus usage_idle={idle} {ns}\n"
        ));
    }
    std::fs::write(run.join("telemetry.lp"), lp).unwrap();
    let out_dir = work.path().join("out");
    write_outputs(root.to_str().unwrap(), out_dir.to_str().unwrap());

    let series = std::fs::read_to_string(out_dir.join("series.csv")).unwrap();
    let mut lines = series.lines();
    assert_eq!(
        lines.next(),
        Some("backup_dir,measurement,field,host,role,tags,time,value")
    );
    let run_1: Vec<&str> = lines
        .filter(|l| l.starts_with("test_case_1/run_1_"))
        .collect();
    assert_eq!(run_1.len(), 6, "{series}");
    for cpu in ["cpu=cpu0", "cpu=cpu1", "cpu=cpu-total"] {
        assert_eq!(
            run_1
                .iter()
                .filter(|l| l.contains(&format!(",{cpu},")))
                .count(),
            2,
            "{cpu}"
        );
    }
    // The run's best host idles 50 % on average (its total), as the notebook's query says.
    let idle = json_of(&expost(&["ombt", root.to_str().unwrap(), "--json"]));
    assert_eq!(
        idle["runs"][0]["telemetry"]["min_usage_idle_bus"].as_f64(),
        Some(50.0)
    );

    let svg = std::fs::read_to_string(
        out_dir.join("telemetry_test_case_1_run_1_rpc-call_1c_1s_cpu_usage_idle.svg"),
    )
    .unwrap();
    assert!(svg.contains("vm (bus)"), "legend names the host");
    assert!(
        !svg.contains("cpu0") && !svg.contains("cpu1"),
        "cores drawn"
    );
}

/// `expost report` reads an ombt output folder: the notebook's four plots
/// as interactive charts (from figures.json), the runs and the diagnostics.
#[test]
fn an_ombt_output_folder_makes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    write_outputs(campaign().to_str().unwrap(), out_dir.to_str().unwrap());
    let specs: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("figures.json")).unwrap()).unwrap();
    let names: Vec<&str> = specs
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "rate_rpc-call",
            "latency_rpc-call",
            "rate_rpc-cast",
            "latency_rpc-cast"
        ]
    );
    let html_path = dir.path().join("report.html");
    let out = expost(&[
        "report",
        out_dir.to_str().unwrap(),
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    for needle in [
        "expost report: ombt",
        "latency_rpc-cast",
        "test_case_1/run_8_rpc-cast_2c_2s",
        "Diagnostics",
        "expost ombt ",
        // The options it ran with (ombt.json's "options").
        "influxd_per_run",
    ] {
        assert!(html.contains(needle), "report lacks {needle:?}");
    }
}

/// `--measurement` chooses which measurements' samples are kept (a Qpid
/// dispatch campaign's collectd measurements, say); the notebook's figures
/// are computed all the same.
#[test]
fn measurement_chooses_the_samples_kept() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("campaign");
    copy_dir(&campaign(), &root);
    let json = json_of(&expost(&[
        "ombt",
        root.to_str().unwrap(),
        "--json",
        "--no-telemetry",
    ]));
    let start = json["runs"][0]["window"][0].as_f64().unwrap();
    let ns = (start * 1e9).ceil() as i64 + 1_000_000;
    std::fs::write(
        root.join("test_case_1/run_1_rpc-call_1c_1s/telemetry.lp"),
        format!(
            "# DML\n# CONTEXT-DATABASE:telegraf\ncpu,cpu=cpu-total,host=vm,role=bus usage_idle=40 {ns}\nqdrouterd,host=bus1 links=3i,deliveries=120i {ns}\n"
        ),
    )
    .unwrap();
    let out_dir = work.path().join("out");
    let root = root.to_str().unwrap();
    let out = expost(&[
        "ombt",
        root,
        "-q",
        "--json",
        "-o",
        out_dir.to_str().unwrap(),
        "--measurement",
        "qdrouterd",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let series = std::fs::read_to_string(out_dir.join("series.csv")).unwrap();
    let rows: Vec<&str> = series.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{series}");
    assert!(rows.iter().all(|r| r.contains(",qdrouterd,")), "{series}");
    // The notebook's CPU figure still comes from the cpu samples not kept.
    assert_eq!(
        json_of(&out)["runs"][0]["telemetry"]["min_usage_idle_bus"].as_f64(),
        Some(40.0)
    );
    let out = expost(&["ombt", root, "--no-telemetry", "--measurement", "cpu"]);
    assert_eq!(out.status.code(), Some(2), "conflicts with --no-telemetry");
}

/// Splits the results of a run's controller into two shard files (as a
/// campaign with two control buses leaves them), each with part of the agents.
fn split_into_shards(run: &Path) {
    let log = run.join("ombt-controller.log");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut shards = [String::new(), String::new()];
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let agents: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
        let mut halves = [serde_json::Map::new(), serde_json::Map::new()];
        for (i, (name, agent)) in agents.into_iter().enumerate() {
            halves[i % 2].insert(name, agent);
        }
        for (shard, half) in shards.iter_mut().zip(halves) {
            shard.push_str(&serde_json::to_string(&half).unwrap());
            shard.push('\n');
        }
    }
    std::fs::remove_file(&log).unwrap();
    for (i, shard) in shards.iter().enumerate() {
        std::fs::write(run.join(format!("node1_controller-{i}.log")), shard).unwrap();
    }
}

#[test]
fn a_sharded_runs_controller_results_are_merged() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("campaign");
    copy_dir(&campaign(), &root);
    let run = root.join("test_case_1/run_4_rpc-call_2c_2s");
    split_into_shards(&run);
    let json = |root: &Path| {
        json_of(&expost(&[
            "ombt",
            root.to_str().unwrap(),
            "--json",
            "--no-telemetry",
        ]))
    };
    let (whole, sharded) = (json(&campaign()), json(&root));
    let (whole, sharded) = (&whole["runs"][3], &sharded["runs"][3]);
    assert_eq!(sharded["backup_dir"], "test_case_1/run_4_rpc-call_2c_2s");
    for side in ["clients", "servers"] {
        assert_eq!(sharded[side]["agents"], 2, "{sharded}");
        for key in [
            "msgs_ok",
            "msgs_fail",
            "start_time",
            "stop_time",
            "per_agent_ok",
        ] {
            assert_eq!(sharded[side][key], whole[side][key], "{side} {key}");
        }
        for key in ["count", "min", "max", "distribution"] {
            assert_eq!(
                sharded[side]["latency"][key], whole[side]["latency"][key],
                "{side} {key}"
            );
        }
        for key in ["avg", "std"] {
            let (a, b) = (
                sharded[side]["latency"][key].as_f64().unwrap(),
                whole[side]["latency"][key].as_f64().unwrap(),
            );
            assert!((a - b).abs() <= 1e-9 * b.abs(), "{side} {key}: {a} vs {b}");
        }
    }
    let diags = sharded["diagnostics"].to_string();
    assert!(
        diags.contains("2 controller results files (one per control-bus shard)"),
        "{diags}"
    );

    // A shard that cannot be read fails the run, naming the file: its totals would be wrong.
    std::fs::write(
        run.join("node1_controller-1.log"),
        "{\"client-2\": {\"msgs_ok\": \n",
    )
    .unwrap();
    let out = expost(&["ombt", root.to_str().unwrap(), "--json", "--no-telemetry"]);
    assert_eq!(out.status.code(), Some(1));
    let failed = &json_of(&out)["runs"][3];
    assert_eq!(failed["ok"], false, "{failed}");
    assert!(
        failed["diagnostics"]
            .to_string()
            .contains("node1_controller-1.log"),
        "{failed}"
    );
}

/// `--help` allows a params.json as ROOT: the bundled campaign's
/// `test_case_1/params.json` names its runs relative to the campaign
/// folder above it, and they are found there (they failed before).
#[test]
fn a_params_json_as_root_finds_runs_named_from_the_campaign_folder() {
    let params = campaign().join("test_case_1/params.json");
    let by_file = expost(&["ombt", params.to_str().unwrap(), "--json"]);
    assert_eq!(
        by_file.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&by_file.stderr)
    );
    let by_folder = expost(&["ombt", campaign().to_str().unwrap(), "--json"]);
    let (a, b) = (json_of(&by_file), json_of(&by_folder));
    assert_eq!(a["summary"], b["summary"]);
    assert_eq!(a["summary"]["ok"], 8);
    assert_eq!(a["runs"].as_array().unwrap().len(), 8);
}

#[test]
fn figure_axes_are_chosen_and_what_a_point_averages_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let root = campaign();
    let root = root.to_str().unwrap();
    // Servers on x, one line per call type, one figure for the single
    // number of topics: each point averages runs with 1 and 2 clients.
    let out = expost(&[
        "ombt",
        root,
        "-q",
        "-o",
        out_dir,
        "--x",
        "nbr_servers",
        "--group",
        "call_type",
        "--facet",
        "nbr_topics",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ombt.json")).unwrap())
            .unwrap();
    let figures = json["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 1);
    let plan = &figures[0];
    assert_eq!(plan["x"], "nbr_servers");
    assert_eq!(plan["facet_value"], "1");
    assert_eq!(
        plan["averaged"],
        serde_json::json!({"nbr_clients": ["1", "2"]})
    );
    let points = plan["points"].as_array().unwrap();
    assert_eq!(points.len(), 4, "2 call types × 2 numbers of servers");
    for p in points {
        let runs: Vec<&str> = p["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(runs.len(), 2, "{p}");
        let servers = p["x"].as_f64().unwrap() as u64;
        let call = p["group"].as_str().unwrap();
        assert!(
            runs.iter()
                .all(|r| r.contains(&format!("_{call}_")) && r.ends_with(&format!("c_{servers}s"))),
            "{runs:?}"
        );
    }
    for stem in ["rate_nbr_topics_1", "latency_nbr_topics_1"] {
        for ext in ["svg", "png", "pdf"] {
            assert!(
                dir.path().join(format!("{stem}.{ext}")).is_file(),
                "{stem}.{ext}"
            );
        }
        let svg = std::fs::read_to_string(dir.path().join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains("points: mean over nbr_clients (1, 2)"),
            "{stem}: no note"
        );
        assert!(
            svg.contains("call_type = rpc-cast"),
            "{stem}: no line label"
        );
    }
    // The rate of a point is the mean of its runs' rates (rpc-call: clients).
    let runs = json["runs"].as_array().unwrap();
    let rate = |name: &str| {
        let r = runs.iter().find(|r| r["backup_dir"] == name).unwrap();
        r["clients"]["rate"].as_f64().unwrap()
    };
    let specs: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("figures.json")).unwrap())
            .unwrap();
    let spec = specs
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "rate_nbr_topics_1")
        .unwrap();
    let expected =
        (rate("test_case_1/run_1_rpc-call_1c_1s") + rate("test_case_1/run_3_rpc-call_2c_1s")) / 2.0;
    let text = spec.to_string();
    assert!(
        text.contains(&format!("{expected}")) || text.contains(&format!("{:.6}", expected)),
        "{expected} not in {text}"
    );
}

#[test]
fn figure_axes_that_do_not_fit_are_said() {
    let root = campaign();
    let root = root.to_str().unwrap();
    // One parameter on two axes: a bad command line.
    let out = expost(&[
        "ombt",
        root,
        "--json",
        "--no-telemetry",
        "--x",
        "call_type",
        "--facet",
        "call_type",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("on two axes"));
    // A parameter no run has: an error naming the parameters there are.
    let out = expost(&[
        "ombt",
        root,
        "--json",
        "--no-telemetry",
        "--group",
        "nbr_cores",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json = json_of(&out);
    let said = json["campaign_diagnostics"].to_string();
    assert!(
        said.contains("nbr_cores") && said.contains("executor, length"),
        "{said}"
    );
    assert_eq!(json["figures"].as_array().unwrap().len(), 0);
    // A non-numeric x: every run left out of the figures, each with a warning.
    let out = expost(&["ombt", root, "--json", "--no-telemetry", "--x", "executor"]);
    let json = json_of(&out);
    assert_eq!(json["figures"].as_array().unwrap().len(), 0);
    for run in json["runs"].as_array().unwrap() {
        assert!(
            run["diagnostics"]
                .to_string()
                .contains("\\\"threading\\\", not a number"),
            "{run}"
        );
    }
}

#[test]
fn only_and_label_choose_what_the_figures_draw_and_what_names_nothing_is_warned() {
    let dir = tempfile::tempdir().unwrap();
    let root = campaign();
    let out = expost(&[
        "ombt",
        root.to_str().unwrap(),
        "-q",
        "--no-telemetry",
        "-o",
        dir.path().to_str().unwrap(),
        "--only",
        "call_type=rpc-call",
        "--only",
        "nbr_clients=1,9",
        "--label",
        "nbr_servers=1:one server",
        "--label",
        "call_type=rpc-call:RPC calls",
        "--label",
        "executor=threading:threads",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--only nbr_clients=9: no analysed run has it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--label executor=threading: 'executor' is neither"),
        "{stderr}"
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ombt.json")).unwrap())
            .unwrap();
    let figures = json["figures"].as_array().unwrap();
    assert_eq!(figures.len(), 1, "only rpc-call is drawn");
    let runs: Vec<&str> = figures[0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap())
        })
        .collect();
    assert_eq!(
        runs,
        [
            "test_case_1/run_1_rpc-call_1c_1s",
            "test_case_1/run_2_rpc-call_1c_2s"
        ]
    );
    assert!(!dir.path().join("rate_rpc-cast.svg").exists());
    let svg = std::fs::read_to_string(dir.path().join("rate_rpc-call.svg")).unwrap();
    assert!(
        svg.contains("one server") && svg.contains("2 servers"),
        "line labels"
    );
    assert!(svg.contains("RPC calls: rate"), "figure title");
    // Tables keep every run.
    let table = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    assert_eq!(table.lines().count(), 9);
    // A bad form is a bad command line.
    let bad = expost(&[
        "ombt",
        root.to_str().unwrap(),
        "--json",
        "--only",
        "call_type",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--only \"call_type\": expected PARAM=V1,V2")
    );
}
