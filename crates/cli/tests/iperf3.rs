//! End-to-end tests of `expost iperf3` on the real binary: the iperf3
//! fixtures (real outputs of several versions) and the failover campaigns
//! read as plain iperf3 campaigns. Every number is checked against the
//! files' own `end` sections, read here independently with serde_json.

mod common;
use common::{copy_dir, expost, json_of, repo};

use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/iperf3")
}

fn example() -> PathBuf {
    repo().join("examples/failover")
}

/// An iperf3 JSON file, any lines before its `{` dropped.
fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text[text.find('{').unwrap()..]).unwrap()
}

/// `expost iperf3 ARGS --json`, which must exit with `code`.
fn study_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["iperf3"];
    all.extend(args);
    all.push("--json");
    let out = expost(&all);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

fn close(got: &Value, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_null(), "{what}: {got}, expected null"),
        Some(w) => {
            let g = got
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {got}, expected {w}"));
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                "{what}: {g} != {w}"
            );
        }
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// What a test's own `end` section says, as the study should report it
/// for the whole file (see the study's documentation of sides).
fn expected_total(doc: &Value) -> Vec<(&'static str, Option<f64>)> {
    let end = &doc["end"];
    let udp = doc["start"]["test_start"]["protocol"] == "UDP";
    let reverse = doc["start"]["test_start"]["reverse"].as_f64() == Some(1.0);
    let sender = doc["start"].get("connecting_to").is_some() != reverse;
    let streams = end["streams"].as_array().unwrap();
    let senders: Vec<&Value> = streams
        .iter()
        .map(|s| &s["sender"])
        .filter(|s| s.is_object())
        .collect();
    let over =
        |key: &str, f: fn(f64, f64) -> f64| senders.iter().filter_map(|s| num(&s[key])).reduce(f);
    let mean_rtt = senders
        .iter()
        .filter_map(|s| num(&s["mean_rtt"]))
        .collect::<Vec<_>>();
    let udp_sum = if end["sum"].is_object() {
        &end["sum"]
    } else {
        &end["sum_received"]
    };
    let ooo: f64 = streams
        .iter()
        .filter_map(|s| num(&s["udp"]["out_of_order"]))
        .sum();
    let sent = if udp && end["sum_sent"].is_null() {
        &end["sum"]
    } else {
        &end["sum_sent"]
    };
    let if_sender = |v: Option<f64>| v.filter(|_| sender);
    let if_udp = |v: Option<f64>| v.filter(|_| udp);
    let (lost, packets) = (
        if_udp(num(&udp_sum["lost_packets"])),
        if_udp(num(&udp_sum["packets"])),
    );
    vec![
        ("throughput_sent", if_sender(num(&sent["bits_per_second"]))),
        (
            "throughput_received",
            num(&end["sum_received"]["bits_per_second"]),
        ),
        (
            "retransmits",
            if_sender(num(&end["sum_sent"]["retransmits"])),
        ),
        (
            "rtt_mean",
            if_sender(
                (!mean_rtt.is_empty())
                    .then(|| mean_rtt.iter().sum::<f64>() / mean_rtt.len() as f64 / 1e3),
            ),
        ),
        (
            "rtt_max",
            if_sender(over("max_rtt", f64::max).map(|us| us / 1e3)),
        ),
        ("cwnd_max", if_sender(over("max_snd_cwnd", f64::max))),
        ("lost", lost),
        ("packets", packets),
        ("loss_pct", lost.zip(packets).map(|(l, p)| 100.0 * l / p)),
        ("jitter", if_udp(num(&udp_sum["jitter_ms"]))),
        ("out_of_order", if_udp(Some(ooo))),
        (
            "cpu_host",
            num(&end["cpu_utilization_percent"]["host_total"]),
        ),
        (
            "cpu_remote",
            num(&end["cpu_utilization_percent"]["remote_total"]),
        ),
    ]
}

#[test]
fn every_fixture_number_is_its_files_own() {
    let report = study_json(&[fixtures().to_str().unwrap()], 0);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 7);
    let mut checked = 0;
    for run in runs
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with(".json"))
    {
        let doc = read_json(&fixtures().join(run["path"].as_str().unwrap()));
        let name = run["path"].as_str().unwrap();
        assert_eq!(
            run["params"]["run"], run["path"],
            "a file fitting no layout is its own configuration"
        );
        for (metric, want) in expected_total(&doc) {
            close(&run["total"][metric], want, &format!("{name} {metric}"));
        }
        // Streams of -P tests are flows, each with its end.streams[] entry.
        let streams = doc["end"]["streams"].as_array().unwrap();
        let flows = run["flows"].as_array().unwrap();
        assert_eq!(flows.len(), streams.len(), "{name}");
        if streams.len() > 1 {
            let sender = doc["start"].get("connecting_to").is_some();
            for (flow, stream) in flows.iter().zip(streams) {
                let block = if stream["udp"].is_object() {
                    &stream["udp"]
                } else {
                    &stream["sender"]
                };
                let socket = block["socket"].as_u64().unwrap();
                assert!(
                    flow["flow"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!(":{socket}")),
                    "{flow}"
                );
                close(
                    &flow["throughput_received"],
                    num(&stream["receiver"]["bits_per_second"]),
                    name,
                );
                close(
                    &flow["throughput_sent"],
                    num(&block["bits_per_second"]).filter(|_| sender),
                    name,
                );
                close(
                    &flow["retransmits"],
                    num(&stream["sender"]["retransmits"]).filter(|_| sender),
                    name,
                );
                close(&flow["lost"], num(&stream["udp"]["lost_packets"]), name);
                close(&flow["packets"], num(&stream["udp"]["packets"]), name);
                close(&flow["jitter"], num(&stream["udp"]["jitter_ms"]), name);
                close(
                    &flow["cpu_host"],
                    num(&doc["end"]["cpu_utilization_percent"]["host_total"]),
                    name,
                );
            }
        } else {
            for (metric, want) in expected_total(&doc) {
                close(&flows[0][metric], want, &format!("{name} flow {metric}"));
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 5);
    // Text gives only its summary lines: the rest stays empty.
    let by_path = |p: &str| {
        runs.iter()
            .find(|r| r["path"].as_str().unwrap().starts_with(p))
            .unwrap()
    };
    let server = by_path("server_text_tcp");
    close(
        &server["total"]["throughput_received"],
        Some(6.78e9),
        "statexec receiver line",
    );
    for empty in [
        "throughput_sent",
        "retransmits",
        "rtt_mean",
        "cwnd_max",
        "cpu_host",
    ] {
        assert!(server["total"][empty].is_null(), "{empty}");
    }
    let udp = by_path("udp_summary_text");
    let flows = udp["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 6, "six tests of summary lines");
    close(
        &flows[0]["throughput_sent"],
        Some(18.1e6),
        "first sender line",
    );
    close(
        &flows[0]["throughput_received"],
        Some(18.0e6),
        "first receiver line",
    );
    close(&flows[0]["jitter"], Some(1.103), "first receiver line");
    close(&flows[3]["lost"], Some(22694.0), "fourth receiver line");
    close(&flows[3]["packets"], Some(29594.0), "fourth receiver line");
    assert!(flows[3]["cpu_host"].is_null() && flows[3]["rtt_mean"].is_null());
    assert_eq!(report["summary"]["configs"], 7);
}

/// Σ over a run's client files of `pick(file)`, when every file has it.
fn client_sum(dir: &Path, pick: impl Fn(&Value) -> Option<f64>) -> Option<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir(dir.join("iperf")).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with("client_") {
            total += pick(&read_json(&entry.path()))?;
        }
    }
    Some(total)
}

#[test]
fn failover_campaign_read_as_a_plain_iperf3_campaign() {
    let report = study_json(&[example().to_str().unwrap()], 0);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 13);
    for run in runs {
        let dir = example().join(run["path"].as_str().unwrap());
        let name = run["path"].as_str().unwrap();
        assert_eq!(run["ok"], true);
        assert_eq!(
            run["trial"],
            dir.to_str().unwrap().rsplit('_').next().unwrap()
        );
        let total = &run["total"];
        let bps = |key: &'static str| move |d: &Value| num(&d["end"][key]["bits_per_second"]);
        close(
            &total["throughput_sent"],
            client_sum(&dir, bps("sum_sent")),
            name,
        );
        close(
            &total["throughput_received"],
            client_sum(&dir, bps("sum_received")),
            name,
        );
        let cpu = client_sum(&dir, |d| {
            num(&d["end"]["cpu_utilization_percent"]["host_total"])
        });
        close(&total["cpu_host"], cpu.map(|c| c / 2.0), name);
        if run["proto"] == "udp" {
            close(
                &total["lost"],
                client_sum(&dir, |d| num(&d["end"]["sum"]["lost_packets"])),
                name,
            );
            close(
                &total["packets"],
                client_sum(&dir, |d| num(&d["end"]["sum"]["packets"])),
                name,
            );
            assert!(total["retransmits"].is_null());
        } else {
            close(
                &total["retransmits"],
                client_sum(&dir, |d| num(&d["end"]["sum_sent"]["retransmits"])),
                name,
            );
            assert!(total["lost"].is_null() && total["jitter"].is_null());
        }
        // Each client file is a flow, its server file the receiver's view.
        for flow in run["flows"].as_array().unwrap() {
            let client = flow["flow"].as_str().unwrap();
            let doc = read_json(&dir.join(format!("iperf/{client}.json")));
            for (metric, want) in expected_total(&doc) {
                close(&flow[metric], want, &format!("{name} {client} {metric}"));
            }
            let server = client.replace("client", "server");
            assert!(flow["server_file"]
                .as_str()
                .unwrap()
                .ends_with(&format!("iperf/{server}.out")));
        }
        // The event log (a JSON list) is noted, not taken for iperf3.
        let notes = run["diagnostics"].as_array().unwrap();
        assert!(notes
            .iter()
            .any(|d| d["file"].as_str().unwrap().ends_with("event_log.json")
                && d["severity"] == "note"));
    }
    // Configurations: the runs' totals across trials.
    let configs = report["configs"].as_array().unwrap();
    assert_eq!(configs.len(), 5);
    for config in configs {
        let members: Vec<&Value> = runs
            .iter()
            .filter(|r| r["params"] == config["params"])
            .collect();
        assert_eq!(config["trials"].as_u64().unwrap() as usize, members.len());
        let mut values: Vec<f64> = members
            .iter()
            .map(|r| r["total"]["throughput_received"].as_f64().unwrap())
            .collect();
        values.sort_by(f64::total_cmp);
        let spread = &config["metrics"]["throughput_received"];
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        close(&spread["median"], Some(median), "median");
        close(&spread["min"], Some(values[0]), "min");
        close(&spread["max"], Some(values[n - 1]), "max");
        close(
            &spread["mean"],
            Some(values.iter().sum::<f64>() / n as f64),
            "mean",
        );
        assert!(spread["ci95_low"].as_f64() <= spread["mean"].as_f64());
    }
    for key in ["expost_version", "command", "options", "summary"] {
        assert!(report.get(key).is_some(), "{key}");
    }
    assert_eq!(report["summary"]["flows"], 26);
}

/// The failover bad-input corpus as plain iperf3 runs: each damaged file is
/// a diagnostic naming it, and the rest of its run is still read.
#[test]
fn failover_bad_input_corpus() {
    let corpus = repo().join("tests/corpus/failover");
    let report = study_json(&[corpus.to_str().unwrap()], 1);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 11);
    assert!(
        runs.iter().all(|r| r["ok"] == true),
        "every run keeps a flow"
    );
    let run = |name: &str| runs.iter().find(|r| r["params"]["config"] == name).unwrap();
    let has = |name: &str, severity: &str, file: &str, says: &str| {
        run(name)["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| {
                d["severity"] == severity
                    && d["file"].as_str().unwrap().ends_with(file)
                    && d["message"].as_str().unwrap().contains(says)
            })
    };
    assert!(has("truncated", "error", "client_0.json", "truncated"));
    assert!(has("emptyfile", "error", "client_0.json", "empty"));
    assert!(has(
        "othertool",
        "note",
        "client_0.json",
        "not iperf3 output"
    ));
    assert!(has(
        "cutline",
        "warning",
        "server_1.out",
        "middle of this line"
    ));
    // A client lost: its server file is a flow of its own, and the run's
    // sent total (which would miss it) is left empty.
    let lone = run("othertool");
    let flows: Vec<&str> = lone["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flow"].as_str().unwrap())
        .collect();
    assert_eq!(flows, ["client_1", "server_0"]);
    assert!(lone["total"]["throughput_sent"].is_null());
    assert_eq!(run("orphanserver")["flows"].as_array().unwrap().len(), 3);
    let control = run("control");
    let dir = corpus.join(control["path"].as_str().unwrap());
    for flow in control["flows"].as_array().unwrap() {
        let doc = read_json(&dir.join(format!("iperf/{}.json", flow["flow"].as_str().unwrap())));
        for (metric, want) in expected_total(&doc) {
            close(&flow[metric], want, metric);
        }
    }
}

#[test]
fn json_stream_gives_the_same_numbers_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let name = "tcp_P2_iperf3.12_flxo-iperf3-json_tcp-parallel.json";
    let doc = read_json(&fixtures().join(name));
    // As iperf3 writes it: "event" first.
    let event = |event: &str, data: &Value| format!("{{\"event\":\"{event}\",\"data\":{data}}}");
    let mut lines = vec![event("start", &doc["start"])];
    lines.extend(
        doc["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| event("interval", i)),
    );
    lines.push(event("end", &doc["end"]));
    std::fs::write(dir.path().join("stream.json"), lines.join("\n") + "\n").unwrap();
    std::fs::copy(fixtures().join(name), dir.path().join("whole.json")).unwrap();
    let report = study_json(&[dir.path().to_str().unwrap()], 0);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["total"], runs[1]["total"]);
    for (metric, want) in expected_total(&doc) {
        close(&runs[0]["total"][metric], want, metric);
    }
}

#[test]
fn a_bad_file_among_good_ones_exits_1_with_the_others_analysed() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &example().join("fec_udp_failover_020"),
        &dir.path().join("fec_udp_failover_020"),
    );
    let bad = dir
        .path()
        .join("fec_udp_failover_020/fec_udp_failover_020_2/iperf/client_1.json");
    let text = std::fs::read_to_string(&bad).unwrap();
    std::fs::write(&bad, &text[..text.len() / 2]).unwrap();
    let report = study_json(&[dir.path().to_str().unwrap()], 1);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r["ok"] == true));
    let flows = |r: &Value| r["flows"].as_array().unwrap().len();
    assert_eq!((flows(&runs[0]), flows(&runs[2])), (2, 2));
    // The damaged flow's server file stands alone: received values only, never a sum with a gap.
    let damaged = &runs[1];
    assert!(damaged["total"]["throughput_sent"].is_null());
    let error = damaged["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["severity"] == "error")
        .unwrap();
    assert!(
        error["file"].as_str().unwrap().ends_with("client_1.json") && error["line"].is_u64(),
        "{error}"
    );
}

#[test]
fn bad_options_exit_2_and_missing_inputs_exit_1() {
    let root = example();
    let root = root.to_str().unwrap();
    for (args, says) in [
        (
            vec![root, "--x", "nope"],
            "--x nope: no run has that parameter (parameters: config, exp)",
        ),
        (vec![root, "--x", "trial"], "not the trial"),
        (vec![root, "--bin", "0"], "--bin 0"),
        (vec![root, "--pattern", "{open"], "--pattern"),
        (vec![root, "--band", "widest"], "widest"),
        (vec![root, "-o", "-", "--json"], "choose one"),
    ] {
        let mut all = vec!["iperf3"];
        all.extend(&args);
        let out = expost(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let out = expost(&["iperf3", "no/such/folder"]);
    assert_eq!(out.status.code(), Some(1));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "nothing iperf3 wrote\n").unwrap();
    let out = expost(&["iperf3", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no iperf3 output"));
}

#[test]
fn outputs_manifest_stdout_series_and_a_saved_study() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let root = example();
    let args = [
        "iperf3",
        root.to_str().unwrap(),
        "-q",
        "-o",
        out_dir.to_str().unwrap(),
        "--x",
        "config",
        "--save-study",
    ];
    let out = expost(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["study"], "iperf3");
    let listed: Vec<&str> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    for file in [
        "runs.csv",
        "runs.parquet",
        "configs.csv",
        "configs.parquet",
        "series.csv",
        "series.parquet",
        "iperf3.json",
        "diagnostics.csv",
        "throughput_sent_over_time.svg",
        "throughput_received_over_time.png",
        "loss_pct_vs_config.pdf",
        "throughput_received_cdf.svg",
    ] {
        assert!(listed.contains(&file), "{file} not in {listed:?}");
    }
    for file in &listed {
        assert!(
            out_dir.join(file).is_file(),
            "{file} listed but not written"
        );
    }
    // -o - streams the same series as series.csv.
    let piped = expost(&["iperf3", root.to_str().unwrap(), "-o", "-"]);
    assert!(piped.status.success());
    let series = std::fs::read(out_dir.join("series.csv")).unwrap();
    assert_eq!(piped.stdout, series);
    let text = String::from_utf8(series).unwrap();
    assert!(
        text.starts_with("config,exp,trial,flow,metric,time,value,unit\n"),
        "{}",
        &text[..80]
    );
    assert!(text.contains(",1,all,throughput_received,") && text.contains(",1,client_0,loss_pct,"));
    // Epochs of 1 s: the rate over the 0.1 s intervals ending in (1, 2], from
    // the client's JSON; `all` is the two flows' rates summed.
    let value = |flow: &str| {
        let prefix = format!("020,fec_udp_failover,1,{flow},throughput_sent,2,");
        let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
        line[prefix.len()..]
            .split(',')
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    let run = root.join("fec_udp_failover_020/fec_udp_failover_020_1/iperf");
    let mut sum = 0.0;
    for flow in ["client_0", "client_1"] {
        let doc = read_json(&run.join(format!("{flow}.json")));
        let (mut bytes, mut seconds) = (0.0, 0.0);
        for i in doc["intervals"].as_array().unwrap() {
            let end = i["sum"]["end"].as_f64().unwrap();
            if end > 1.0 + 1e-6 && end <= 2.0 + 1e-6 {
                bytes += i["sum"]["bytes"].as_f64().unwrap();
                seconds += i["sum"]["seconds"].as_f64().unwrap();
            }
        }
        let want = bytes * 8.0 / seconds;
        close(&Value::from(value(flow)), Some(want), flow);
        sum += want;
    }
    close(&Value::from(value("all")), Some(sum), "all");
    // `expost run` reproduces every table and the summary.
    let before: Vec<Vec<u8>> = ["runs.csv", "configs.csv", "series.csv"]
        .iter()
        .map(|f| std::fs::read(out_dir.join(f)).unwrap())
        .collect();
    let summary = |dir: &Path| {
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(dir.join("iperf3.json")).unwrap()).unwrap();
        // What differs: how it was run (the root as reached), and diagnostics naming files so.
        for key in ["command", "options", "campaign_diagnostics"] {
            v.as_object_mut().unwrap().remove(key);
        }
        for run in v["runs"].as_array_mut().unwrap() {
            run.as_object_mut().unwrap().remove("diagnostics");
        }
        v
    };
    let first = summary(&out_dir);
    for f in ["runs.csv", "configs.csv", "series.csv", "iperf3.json"] {
        std::fs::remove_file(out_dir.join(f)).unwrap();
    }
    let study = out_dir.join("expost.toml");
    assert!(std::fs::read_to_string(&study)
        .unwrap()
        .contains("[iperf3]"));
    let rerun = expost(&["run", study.to_str().unwrap(), "-q"]);
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let after: Vec<Vec<u8>> = ["runs.csv", "configs.csv", "series.csv"]
        .iter()
        .map(|f| std::fs::read(out_dir.join(f)).unwrap())
        .collect();
    assert!(before == after, "tables differ after expost run");
    assert_eq!(summary(&out_dir), first);
    // Without --x, no figure against a parameter.
    let plain = dir.path().join("plain");
    assert!(expost(&[
        "iperf3",
        root.to_str().unwrap(),
        "-q",
        "-o",
        plain.to_str().unwrap()
    ])
    .status
    .success());
    assert!(!std::fs::read_dir(&plain)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains("_vs_")));
}

#[test]
fn pattern_names_the_parameters_and_a_single_file_is_a_run() {
    let root = example();
    let report = study_json(
        &[
            root.to_str().unwrap(),
            "--pattern",
            "{exp}_{poll}/{_}_{trial}",
        ],
        0,
    );
    let run = &report["runs"][0];
    assert_eq!(
        run["params"],
        serde_json::json!({"exp": "fec_udp_failover", "poll": "020"})
    );
    assert_eq!(run["trial"], "1");
    let file = fixtures().join("udp_client_iperf3.12_flxo-iperf3-json_udp.json");
    let one = study_json(&[file.to_str().unwrap()], 0);
    assert_eq!(one["runs"].as_array().unwrap().len(), 1);
    for (metric, want) in expected_total(&read_json(&file)) {
        close(&one["runs"][0]["total"][metric], want, metric);
    }
    // With --pattern, a path that does not fit is an error and the run is left out.
    let bad = study_json(&[fixtures().to_str().unwrap(), "--pattern", "{a}/{b}"], 1);
    assert!(bad["runs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["ok"] == false));
}

#[test]
fn only_and_label_choose_the_configurations_drawn_and_their_legend() {
    let dir = tempfile::tempdir().unwrap();
    let root = repo().join("examples/failover");
    let out = expost(&[
        "iperf3",
        root.to_str().unwrap(),
        "-q",
        "-o",
        dir.path().to_str().unwrap(),
        "--only",
        "exp=fec_udp_failover",
        "--only",
        "config=020,100,999",
        "--label",
        "config=020:20 ms poll",
        "--label",
        "config=777:nothing",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("--only config=999: no configuration has it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--label config=777: no configuration has it"),
        "{stderr}"
    );
    let specs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("figures.json")).unwrap())
            .unwrap();
    for spec in specs.as_array().unwrap() {
        let labels: Vec<&str> = spec["figure"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["label"].as_str().unwrap())
            .collect();
        assert_eq!(labels, ["20 ms poll", "config 100"], "{}", spec["name"]);
    }
    // Tables keep every configuration.
    let configs = std::fs::read_to_string(dir.path().join("configs.csv")).unwrap();
    assert!(configs.contains(",hc_failover,") && configs.contains("050,fec_udp_failover,"));
}

#[test]
fn trials_draws_only_those_trials_bands_made_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = repo().join("examples/failover");
    let run = |trials: &str, out: &Path| {
        let mut args = vec![
            "iperf3",
            root.to_str().unwrap(),
            "-q",
            "-o",
            out.to_str().unwrap(),
        ];
        if !trials.is_empty() {
            args.extend(["--trials", trials]);
        }
        let out = expost(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let all = dir.path().join("all");
    let one = dir.path().join("one");
    run("", &all);
    let said = run("2,7", &one);
    assert!(
        said.contains("--trials 7: no analysed run has this trial"),
        "{said}"
    );
    let figure = |dir: &Path| -> Value {
        let specs: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("figures.json")).unwrap())
                .unwrap();
        specs
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "throughput_received_over_time")
            .cloned()
            .unwrap()
    };
    // With one trial, the band collapses onto its line; with all, it does not.
    let band_width = |f: &Value| -> f64 {
        f["figure"]["lines"][0]["band"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| Some(b[2].as_f64()? - b[1].as_f64()?))
            .fold(0.0, f64::max)
    };
    assert!(band_width(&figure(&all)) > 0.0);
    assert_eq!(band_width(&figure(&one)), 0.0);
    // Tables keep every trial.
    assert_eq!(
        std::fs::read_to_string(all.join("runs.csv")).unwrap(),
        std::fs::read_to_string(one.join("runs.csv")).unwrap()
    );
}
