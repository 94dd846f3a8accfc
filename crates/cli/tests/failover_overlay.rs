//! End-to-end tests of `expost failover --overlay NAME=FILE`: a series with
//! known values written beside each run of the bundled example (epoch
//! times from each run's own anchor, as a power meter would stamp them),
//! checked by value after alignment, binning and banding.

mod common;
use common::{copy_dir, expost, json_of, repo};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Per run (relative path): its anchor's epoch time and its trial.
fn runs_of(root: &Path) -> BTreeMap<String, (f64, u32)> {
    let out = expost(&["failover", root.to_str().unwrap(), "--json"]);
    let json = json_of(&out);
    json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                (
                    r["anchor_epoch"].as_f64().unwrap(),
                    r["trial"].as_str().unwrap().parse().unwrap(),
                ),
            )
        })
        .collect()
}

/// Two meters every 50 ms from 25 ms to 8 s after the anchor (between epoch
/// boundaries, as a meter's clock would be): fpga0 at 100 + trial watts,
/// fpga1 ramping as the time itself; one bad row.
fn write_power(run_dir: &Path, anchor: f64, trial: u32, epoch_times: bool) {
    let mut csv = String::from("time,device,value,unit\n");
    for i in 1..=160 {
        let t = f64::from(i) * 0.05 - 0.025;
        let stamp = if epoch_times { anchor + t } else { t };
        writeln!(csv, "{stamp:.6},fpga0,{},W", 100 + trial).unwrap();
        writeln!(csv, "{stamp:.6},fpga1,{t:.6},W").unwrap();
    }
    csv.push_str("oops,fpga0,1,W\n");
    std::fs::write(run_dir.join("power.csv"), csv).unwrap();
}

/// Rows of a CSV file as maps of column to value.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[test]
fn an_overlay_is_aligned_binned_and_banded_by_value() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("campaign");
    copy_dir(&repo().join("examples/failover"), &root);
    let runs = runs_of(&root);
    assert_eq!(runs.len(), 13);
    let missing = "fec_udp_failover_050/fec_udp_failover_050_3";
    for (i, (rel, &(anchor, trial))) in runs.iter().enumerate() {
        if rel != missing {
            // One run stamps times after the anchor instead of epoch times.
            write_power(&root.join(rel), anchor, trial, i != 0);
        }
    }
    let out_dir = tmp.path().join("out");
    let out = expost(&[
        "failover",
        root.to_str().unwrap(),
        "-q",
        "-o",
        out_dir.to_str().unwrap(),
        "--overlay",
        "power=power.csv",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The run without the file is warned, naming it; bad rows name their line.
    assert!(
        stderr.contains(&format!("{missing}/power.csv"))
            && stderr.contains("--overlay power: not read"),
        "{stderr}"
    );
    assert!(stderr.contains("power.csv:322: row skipped"), "{stderr}");

    let series = rows(&out_dir.join("series.csv"));
    let of = |metric: &str, config: &str, trial: &str| -> Vec<(f64, f64)> {
        (series.iter())
            .filter(|r| r["metric"] == metric && r["config"] == config && r["trial"] == trial)
            .filter(|r| r["exp"] == "fec_udp_failover")
            .map(|r| (r["time"].parse().unwrap(), r["value"].parse().unwrap()))
            .collect()
    };
    let flat = of("power[fpga0]", "020", "2");
    assert!(flat.len() > 70, "{} epochs", flat.len());
    assert!(flat.iter().all(|&(_, v)| v == 102.0), "{flat:?}");
    // The ramp: each whole epoch (T - 0.1, T] holds the samples at
    // T - 0.075 and T - 0.025 (the first one starts with the flows).
    let ramp = of("power[fpga1]", "020", "2");
    assert!(ramp.len() > 70);
    for &(t, v) in ramp.iter().filter(|(t, _)| *t >= 0.2) {
        assert!((v - (t - 0.05)).abs() < 1e-6, "at {t}: {v}");
    }
    // Anchor-relative times land on the same clock.
    let first = runs.keys().next().unwrap();
    let (config, trial) = (&first[17..20], &first[first.len() - 1..]);
    let relative = of("power[fpga1]", config, trial);
    assert!(relative.len() > 70);
    for &(t, v) in relative.iter().filter(|(t, _)| *t >= 0.2) {
        assert!(
            (v - (t - 0.05)).abs() < 1e-6,
            "anchor-relative run at {t}: {v}"
        );
    }
    // Kept within the run's window: nothing after 8 s or before its start.
    assert!(flat.iter().all(|&(t, _)| t > 0.0 && t <= 8.05));

    // Bands: configuration 020 has trials 1, 2 and 3 at 101, 102, 103 W.
    let bands = rows(&out_dir.join("bands.csv"));
    let band: Vec<&BTreeMap<String, String>> = (bands.iter())
        .filter(|r| r["metric"] == "power[fpga0]" && r["config"] == "020")
        .filter(|r| r["exp"] == "fec_udp_failover" && r["trials"] == "3")
        .collect();
    assert!(!band.is_empty());
    for r in &band {
        assert_eq!(
            (
                r["median"].as_str(),
                r["min"].as_str(),
                r["max"].as_str(),
                r["unit"].as_str()
            ),
            ("102", "101", "103", "W"),
            "{r:?}"
        );
    }
    // One figure per entity, on the traffic figures' time range.
    let specs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("figures.json")).unwrap())
            .unwrap();
    let spec = |name: &str| {
        specs
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap()
    };
    let power = spec("overlay_power_fpga0_udp");
    assert_eq!(power["figure"]["y_label"], "power[fpga0] (W)");
    let loss = spec("loss");
    let lines = |f: &serde_json::Value| {
        f["figure"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|l| {
                l["points"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|p| p[0].as_f64())
            })
            .collect::<Vec<f64>>()
    };
    let (lo, hi) = lines(&loss)
        .into_iter()
        .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    // The traffic figures' span: the loss figure's, give or take an epoch.
    let range = &power["figure"]["x_range"];
    let (a, b) = (range[0].as_f64().unwrap(), range[1].as_f64().unwrap());
    assert!(
        a <= lo + 1e-9 && b >= hi - 1e-9 && (b - a) - (hi - lo) <= 0.1 + 1e-9,
        "{range} vs {lo}..{hi}"
    );
    // The main figure with the overlay's panels under it, legend once.
    let stacked = std::fs::read_to_string(out_dir.join("loss_with_power.svg")).unwrap();
    assert_eq!(stacked.matches("<svg").count(), 4, "the page and 3 panels");
    assert!(stacked.contains("power[fpga0] (W)") && stacked.contains("Packet loss (%)"));
    assert_eq!(
        stacked.matches(">\nconfig 020\n<").count() + stacked.matches(">config 020<").count(),
        1,
        "legend once"
    );
    assert!(out_dir.join("throughput_tcp_with_power.png").is_file());
    for ext in ["svg", "png", "pdf"] {
        assert!(out_dir
            .join(format!("overlay_power_fpga1_udp.{ext}"))
            .is_file());
    }
}

#[test]
fn bad_overlay_options_are_a_bad_command_line() {
    let root = repo().join("examples/failover");
    for (given, said) in [
        ("power", "expected NAME=FILE"),
        ("power=/etc/passwd", "inside it"),
        ("pow er=p.csv", "letters"),
    ] {
        let out = expost(&[
            "failover",
            root.to_str().unwrap(),
            "--json",
            "--overlay",
            given,
        ]);
        assert_eq!(out.status.code(), Some(2), "{given}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(said),
            "{given}"
        );
    }
    let out = expost(&[
        "failover",
        root.to_str().unwrap(),
        "--json",
        "--overlay",
        "p=a.csv",
        "--overlay",
        "p=b.csv",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_overlay_in_line_protocol_is_read_with_epoch_nanoseconds() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("campaign");
    copy_dir(&repo().join("examples/failover"), &root);
    for (rel, &(anchor, trial)) in &runs_of(&root) {
        let mut lp = String::from("# DML\n");
        for i in 1..=160 {
            let t = f64::from(i) * 0.05 - 0.025;
            let ns = ((anchor + t) * 1e9).round() as i64;
            writeln!(lp, "power,device=fpga0,unit=W value={} {ns}", 100 + trial).unwrap();
        }
        std::fs::write(root.join(rel).join("power.lp"), lp).unwrap();
    }
    let out_dir = tmp.path().join("out");
    let out = expost(&[
        "failover",
        root.to_str().unwrap(),
        "-q",
        "-o",
        out_dir.to_str().unwrap(),
        "--overlay",
        "power=power.lp",
        "--figures",
        "loss",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = rows(&out_dir.join("series.csv"));
    let values: Vec<f64> = (rows.iter())
        .filter(|r| r["metric"] == "power[fpga0]" && r["config"] == "050" && r["trial"] == "3")
        .map(|r| r["value"].parse().unwrap())
        .collect();
    assert!(
        values.len() > 70 && values.iter().all(|&v| v == 103.0),
        "{values:?}"
    );
}

#[test]
fn one_overlay_file_for_the_whole_campaign_is_shared_out_by_its_run_column() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("campaign");
    copy_dir(&repo().join("examples/failover"), &root);
    let mut csv = String::from("run,time,device,value\n");
    for (rel, &(anchor, trial)) in &runs_of(&root) {
        // Runs named by folder name, or by path under the campaign.
        let run = if trial == 1 {
            rel.rsplit('/').next().unwrap()
        } else {
            rel.as_str()
        };
        for i in 1..=160 {
            let t = f64::from(i) * 0.05 - 0.025;
            writeln!(csv, "{run},{:.6},fpga0,{}", anchor + t, 100 + trial).unwrap();
        }
    }
    csv.push_str("no_such_run,1700000000,fpga0,1\n");
    std::fs::write(root.join("power.csv"), csv).unwrap();
    let out_dir = tmp.path().join("out");
    let out = expost(&[
        "failover",
        root.to_str().unwrap(),
        "-q",
        "-o",
        out_dir.to_str().unwrap(),
        "--overlay",
        "power=power.csv",
        "--figures",
        "loss",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("runs the campaign does not have, not used: no_such_run"),
        "{stderr}"
    );
    let rows = rows(&out_dir.join("series.csv"));
    for (config, trial, watts) in [("020", "1", 101.0), ("050", "2", 102.0)] {
        let values: Vec<f64> = (rows.iter())
            .filter(|r| r["metric"] == "power[fpga0]" && r["exp"] == "fec_udp_failover")
            .filter(|r| r["config"] == config && r["trial"] == trial)
            .map(|r| r["value"].parse().unwrap())
            .collect();
        assert!(
            values.len() > 70 && values.iter().all(|&v| v == watts),
            "{config}/{trial}: {values:?}"
        );
    }
    // A file at the root without a run column is refused.
    std::fs::write(root.join("power.csv"), "time,value\n1,2\n").unwrap();
    let bad = expost(&[
        "failover",
        root.to_str().unwrap(),
        "--json",
        "--overlay",
        "power=power.csv",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("a run column"));
}

#[test]
fn an_overlay_in_parquet_is_read_like_its_csv() {
    use expost_render::table::{write_table, ColumnData, DictBuilder, Parquet, Table};
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("campaign");
    copy_dir(&repo().join("examples/failover"), &root);
    for (rel, &(anchor, trial)) in &runs_of(&root) {
        let times: Vec<f64> = (1..=160)
            .map(|i| anchor + f64::from(i) * 0.05 - 0.025)
            .collect();
        let mut device = DictBuilder::default();
        device.push_n("fpga0", times.len());
        let mut unit = DictBuilder::default();
        unit.push_n("W", times.len());
        let mut table = Table::default();
        table.push("device", device.finish());
        table.push(
            "value",
            ColumnData::Number(vec![f64::from(100 + trial); times.len()]),
        );
        table.push("time", ColumnData::Number(times));
        table.push("unit", unit.finish());
        write_table(&table, &root.join(rel).join("power.parquet"), &Parquet).unwrap();
    }
    let out_dir = tmp.path().join("out");
    let out = expost(&[
        "failover",
        root.to_str().unwrap(),
        "-q",
        "-o",
        out_dir.to_str().unwrap(),
        "--overlay",
        "power=power.parquet",
        "--figures",
        "loss",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = rows(&out_dir.join("series.csv"));
    let values: Vec<(f64, &str)> = (rows.iter())
        .filter(|r| r["metric"] == "power[fpga0]" && r["config"] == "100" && r["trial"] == "2")
        .filter(|r| r["exp"] == "fec_udp_failover")
        .map(|r| (r["value"].parse().unwrap(), r["unit"].as_str()))
        .collect();
    assert!(
        values.len() > 70 && values.iter().all(|&v| v == (102.0, "W")),
        "{values:?}"
    );
    // Not Parquet: an error for its run, the others go on.
    let first = runs_of(&root).into_keys().next().unwrap();
    std::fs::write(root.join(&first).join("power.parquet"), "time,value\n").unwrap();
    let out = expost(&[
        "failover",
        root.to_str().unwrap(),
        "--json",
        "--overlay",
        "power=power.parquet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a Parquet file"), "{stderr}");
}
