//! Output files get the mode the umask gives, as any file a program creates
//! (0666 less the umask), never a fixed mode; a later run into the same
//! folder removes the temporary files a killed run left there.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

/// Runs `expost traces` on one trace under `umask` and returns the mode of
/// every file it wrote.
fn modes_under_umask(umask: &str) -> Vec<(String, u32)> {
    let dir = tempfile::tempdir().unwrap();
    let trace = common::repo().join(
        "tests/fixtures/preemption/bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv",
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_expost"))
        .args(["traces", "-q", "-o"])
        .arg(dir.path())
        .arg(&trace)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut modes: Vec<(String, u32)> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let mode = e.metadata().unwrap().permissions().mode() & 0o777;
            (e.file_name().to_string_lossy().into_owned(), mode)
        })
        .collect();
    modes.sort();
    assert!(modes.len() > 2, "{modes:?}");
    modes
}

#[test]
fn outputs_are_private_under_umask_077() {
    for (name, mode) in modes_under_umask("077") {
        assert_eq!(mode, 0o600, "{name}: {mode:o}");
    }
}

#[test]
fn outputs_are_readable_by_all_under_umask_022() {
    for (name, mode) in modes_under_umask("022") {
        assert_eq!(mode, 0o644, "{name}: {mode:o}");
    }
}

#[test]
fn a_killed_runs_temporary_files_are_removed_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    // A child that has exited and been reaped: its pid is dead.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    if !std::path::Path::new("/proc/self").exists()
        || std::path::Path::new(&format!("/proc/{dead}")).exists()
    {
        return; // no way to prove the writer dead here
    }
    let stale = dir.path().join(format!(".expost-{dead}-Ab12Cd.tmp"));
    let not_ours = dir.path().join("notes.tmp");
    std::fs::write(&stale, "half a file").unwrap();
    std::fs::write(&not_ours, "kept").unwrap();
    let trace = common::repo().join(
        "tests/fixtures/preemption/bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv",
    );
    let out = common::expost(&[
        "traces",
        "-q",
        "-o",
        dir.path().to_str().unwrap(),
        trace.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stale.exists(), "{stderr}");
    assert!(not_ours.exists());
    assert!(
        stderr.contains("removed, a temporary file of a killed run"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".expost-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
