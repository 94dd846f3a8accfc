//! Helpers shared by the integration tests that talk to a real `influxd`.
#![allow(dead_code)] // each test crate uses its own subset

use expost_remote::influx::{Epoch, InfluxClient};
use std::path::Path;

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
