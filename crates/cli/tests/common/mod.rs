//! Helpers shared by the integration tests: the repository and its
//! fixtures, running the `expost` binary, and loading a real `influxd`.
#![allow(dead_code)] // each test crate uses its own subset

use expost_remote::influx::{Epoch, InfluxClient};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The real ombt campaign (tests/fixtures/ombt/campaign).
pub fn ombt_campaign() -> PathBuf {
    repo().join("tests/fixtures/ombt/campaign")
}

/// `expost ARGS`, its output captured.
pub fn expost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("expost runs")
}

/// `expost run STUDY -q` from another working directory (paths in a study
/// file are relative to it), which must succeed.
pub fn rerun_elsewhere(study: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(["run", study.to_str().unwrap(), "-q"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `expost ARGS -q -o OUT_DIR --save-study`, which must succeed: the study
/// file it wrote, and its text.
pub fn save_study(args: &[&str], out_dir: &Path) -> (PathBuf, String) {
    let mut all = args.to_vec();
    all.extend(["-q", "-o", out_dir.to_str().unwrap(), "--save-study"]);
    let out = expost(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let study = out_dir.join("expost.toml");
    let text = std::fs::read_to_string(&study).unwrap();
    (study, text)
}

/// The files of `dir` (not below it) with their bytes, but the manifest
/// (it names the command line) and the study file.
pub fn outputs_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "manifest.json" && name != "expost.toml")
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// Removes the outputs of `study`'s folder `out_dir`, reruns the study
/// from another working directory, and checks it wrote the same files,
/// byte for byte.
pub fn rerun_reproduces(study: &Path, out_dir: &Path) {
    let first = outputs_of(out_dir);
    assert!(!first.is_empty(), "no output in {}", out_dir.display());
    for name in first.keys() {
        std::fs::remove_file(out_dir.join(name)).unwrap();
    }
    rerun_elsewhere(study);
    let again = outputs_of(out_dir);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        again.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &first {
        assert!(again[name] == *bytes, "{name} differs after the rerun");
    }
}

/// The `figures.json` of an output folder (every figure as drawn).
pub fn figures_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("figures.json")).unwrap()).unwrap()
}

/// Standard output as one JSON value; fails the test with stderr if it is not.
pub fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON value ({e}); stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Copies the folder tree `from` to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Whether `influxd` can be run; when not, fails the test if
/// `EXPOST_REQUIRE_SERVICES=1`, and otherwise prints why it is skipped.
pub fn influxd_available(test: &str) -> bool {
    let found = expost_remote::influxd::available(&expost_remote::influxd::program());
    if !found {
        assert!(
            std::env::var("EXPOST_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "influxd is not installed (apt-get install influxdb) and EXPOST_REQUIRE_SERVICES=1"
        );
        eprintln!("{test}: skipped: influxd is not installed (apt-get install influxdb)");
    }
    found
}

/// The line-protocol lines of an `influx_inspect export` file (its DML part).
pub fn dml_lines(text: &str) -> Vec<&str> {
    let mut in_dml = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line == "# DML" {
            in_dml = true;
        } else if line == "# DDL" {
            in_dml = false;
        } else if in_dml && !line.is_empty() && !line.starts_with('#') {
            out.push(line);
        }
    }
    out
}

/// Loads an export file as `influx -import` does: its DDL statements
/// through `/query`, its DML lines through `/write` into the context database.
pub fn import(client: &InfluxClient, path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut section = "";
    let mut database = String::new();
    for line in text.lines() {
        let line = line.trim_end();
        match line {
            "# DDL" | "# DML" => section = line,
            _ if line.starts_with("# CONTEXT-DATABASE:") => {
                database = line["# CONTEXT-DATABASE:".len()..].to_string();
            }
            _ if line.is_empty() || line.starts_with('#') => {}
            _ if section == "# DDL" => {
                let r = client.query("", line, Epoch::Ns).expect("DDL runs");
                assert!(r.iter().all(|s| s.error.is_none()), "{line}: {r:?}");
            }
            _ => {}
        }
    }
    assert!(
        !database.is_empty(),
        "{}: no CONTEXT-DATABASE",
        path.display()
    );
    client
        .write(&database, &dml_lines(&text).join("\n"))
        .expect("the real line protocol is accepted");
}

/// Pids of the servers `expost` started under `tmp`: the processes run
/// with a `-config` that lives there (not a `tar` unpacking there).
pub fn servers_in(tmp: &Path) -> Vec<u32> {
    let needle = tmp.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
                args.windows(2)
                    .any(|w| w[0] == b"-config" && String::from_utf8_lossy(w[1]).contains(&needle))
            })
        })
        .collect()
}

/// The outages a fixture campaign really had, per run: the injected
/// start (epoch seconds) and length (ms) from its `injected.csv`, written
/// by the script that made it from timestamps taken around the nftables rule.
pub fn injected_outages(campaign: &Path) -> BTreeMap<String, (f64, f64)> {
    let text = std::fs::read_to_string(campaign.join("injected.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (run, start, applied) = (
        col("run"),
        col("outage_start_epoch"),
        col("outage_ms_applied"),
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[run].to_string(),
                (f[start].parse().unwrap(), f[applied].parse().unwrap()),
            )
        })
        .collect()
}
