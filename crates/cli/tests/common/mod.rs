//! Helpers shared by the integration tests: the repository and its
//! fixtures, running the `expost` binary, and loading a real `influxd`.
#![allow(dead_code)] // each test crate uses its own subset

use expost_remote::influx::{Epoch, InfluxClient};
use serde_json::Value;
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
