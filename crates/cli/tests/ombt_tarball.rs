//! `expost ombt --telemetry tarball` against the real `influxd` (Debian's
//! `influxdb` package): each run's `influxdb-data.tar.gz` served by its own
//! local server gives the same figures as the line-protocol export; a
//! tarball that is not a data folder is reported and the other runs go on;
//! no server process or temp folder is left, also after Ctrl-C.
//!
//! Without `influxd` the tests print why and pass, unless
//! `EXPOST_REQUIRE_SERVICES=1` is set: then they fail.

mod common;
use common::{
    copy_dir, influxd_available as available, json_of, ombt_campaign as campaign, servers_in,
};

use expost_remote::influxd::{Influxd, Options};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `expost ARGS` with its temp folders under `tmp`.
fn expost(args: &[&str], tmp: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("TMPDIR", tmp)
        .output()
        .expect("expost runs")
}

fn assert_nothing_left(tmp: &Path) {
    assert_eq!(servers_in(tmp), Vec::<u32>::new(), "influxd left running");
    let left: Vec<_> = std::fs::read_dir(tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "temp folders left: {left:?}");
}

/// Telemetry of every run, by backup_dir.
fn telemetry_of(json: &Value) -> Vec<(String, Value)> {
    json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["backup_dir"].as_str().unwrap().to_string(),
                r["telemetry"].clone(),
            )
        })
        .collect()
}

fn assert_same_figures(label: &str, got: &Value, want: &Value) {
    let (got, want) = (got.as_object().unwrap(), want.as_object().unwrap());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{label}"
    );
    for (k, v) in want {
        let (a, b) = (got[k].as_f64().unwrap(), v.as_f64().unwrap());
        assert!((a - b).abs() < 1e-9, "{label} {k}: {a} vs {b}");
    }
}

#[test]
fn tarball_telemetry_equals_the_line_protocol_figures() {
    if !available("tarball_telemetry_equals_the_line_protocol_figures") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = campaign();
    let root = root.to_str().unwrap();
    let outputs = tempfile::tempdir().unwrap();
    let (tarball_dir, lp_dir) = (outputs.path().join("tarball"), outputs.path().join("lp"));
    let out = expost(
        &[
            "ombt",
            root,
            "--json",
            "-o",
            tarball_dir.to_str().unwrap(),
            "--telemetry",
            "tarball",
            "--query",
            "n_cpu=SELECT count(usage_idle) FROM cpu WHERE time >= $start AND time <= $stop",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let tarball = telemetry_of(&json_of(&out));
    let lp = telemetry_of(&json_of(&expost(
        &["ombt", root, "--json", "-o", lp_dir.to_str().unwrap()],
        tmp.path(),
    )));
    // The samples, and so the telemetry figures, are the same as the .lp files'.
    let series = |dir: &Path| std::fs::read_to_string(dir.join("series.csv")).unwrap();
    assert!(series(&lp_dir).lines().count() > 8);
    assert!(
        series(&tarball_dir) == series(&lp_dir),
        "series.csv differ between --telemetry tarball and the .lp files"
    );
    let figures = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("telemetry_"))
            .collect();
        names.sort();
        names
    };
    assert!(!figures(&lp_dir).is_empty());
    assert_eq!(figures(&tarball_dir), figures(&lp_dir));
    assert_eq!(tarball.len(), 8);
    let mut with_figures = 0;
    for ((label, got), (lp_label, want)) in tarball.iter().zip(&lp) {
        assert_eq!(label, lp_label);
        let mut got = got.clone();
        let n_cpu = got.as_object_mut().unwrap().remove("n_cpu");
        // The user's query ran on each run's own server and window.
        assert_eq!(
            n_cpu.is_some(),
            want.get("min_usage_idle_bus").is_some(),
            "{label}: {stderr}"
        );
        if want.as_object().is_some_and(|w| !w.is_empty()) {
            with_figures += 1;
        }
        assert_same_figures(label, &got, want);
    }
    assert!(with_figures >= 4, "only {with_figures} runs had telemetry");
    assert_nothing_left(tmp.path());
}

#[test]
fn a_tarball_that_is_not_a_data_dir_is_reported_and_the_other_runs_go_on() {
    if !available("a_tarball_that_is_not_a_data_dir") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("campaign");
    copy_dir(&campaign(), &root);
    // A run whose tarball holds a folder without wal/ ...
    let bad_run = "test_case_1/run_3_rpc-call_2c_1s";
    let staging = work.path().join("staging/influxdb-data");
    for sub in ["meta", "data"] {
        std::fs::create_dir_all(staging.join(sub)).unwrap();
    }
    let status = Command::new("tar")
        .arg("-C")
        .arg(work.path().join("staging"))
        .arg("-czf")
        .arg(root.join(bad_run).join("influxdb-data.tar.gz"))
        .arg("influxdb-data")
        .status()
        .unwrap();
    assert!(status.success());
    // ... and one whose tarball is not a tarball at all.
    let garbage_run = "test_case_1/run_5_rpc-cast_1c_1s";
    std::fs::write(
        root.join(garbage_run).join("influxdb-data.tar.gz"),
        "not gzip",
    )
    .unwrap();
    let out = expost(
        &[
            "ombt",
            root.to_str().unwrap(),
            "--json",
            "--telemetry",
            "tarball",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("8 runs (8 analysed, 0 failed)"), "{stderr}");
    let line = |run: &str| {
        stderr
            .lines()
            .find(|l| l.contains(&format!("run '{run}': telemetry not read")))
            .unwrap_or_else(|| panic!("no message for {run}:\n{stderr}"))
            .to_string()
    };
    let bad = line(bad_run);
    assert!(bad.starts_with("error: "), "{bad}");
    assert!(
        bad.contains(&format!("{bad_run}/influxdb-data.tar.gz' is not an InfluxDB data directory: influxdb-data/ has no wal/")),
        "{bad}"
    );
    let garbage = line(garbage_run);
    assert!(
        garbage.contains(&format!(
            "{garbage_run}/influxdb-data.tar.gz' could not be unpacked"
        )),
        "{garbage}"
    );
    let got = telemetry_of(&json_of(&out));
    let lp = telemetry_of(&json_of(&expost(
        &["ombt", campaign().to_str().unwrap(), "--json"],
        tmp.path(),
    )));
    let mut compared = 0;
    for ((label, got), (_, want)) in got.iter().zip(&lp) {
        if label == bad_run || label == garbage_run {
            assert_eq!(got, &Value::Object(Default::default()), "{label}");
        } else {
            assert_same_figures(label, got, want);
            compared += 1;
        }
    }
    assert_eq!(compared, 6);
    assert_nothing_left(tmp.path());
}

/// Starts `expost ombt --telemetry tarball` on four copies of the campaign
/// laid out in `work` (long enough to be interrupted), its temp folders
/// under `tmp`, stderr piped.
fn spawn_long_tarball_run(work: &Path, tmp: &Path) -> Child {
    for n in 1..=4 {
        copy_dir(
            &campaign().join("test_case_1"),
            &work.join(format!("test_case_{n}")),
        );
    }
    Command::new(env!("CARGO_BIN_EXE_expost"))
        .args([
            "ombt",
            work.to_str().unwrap(),
            "--telemetry",
            "tarball",
            "-q",
        ])
        .env("TMPDIR", tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (up to 20 s) until `child` runs a server under `tmp`, sends it
/// SIGINT and waits (up to 30 s) for it to end: its exit code, its stderr
/// and the server pids seen running.
fn interrupt_once_serving(mut child: Child, tmp: &Path) -> (Option<i32>, String, Vec<u32>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while servers_in(tmp).is_empty() {
        assert!(Instant::now() < deadline, "no influxd started within 20 s");
        assert!(
            child.try_wait().unwrap().is_none(),
            "expost ended before any influxd started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let started = servers_in(tmp);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("expost did not stop within 30 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (code, stderr, started)
}

#[test]
fn ctrl_c_stops_every_influxd_and_removes_the_temp_folders() {
    if !available("ctrl_c_stops_every_influxd") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let child = spawn_long_tarball_run(work.path(), tmp.path());
    let (code, stderr, started) = interrupt_once_serving(child, tmp.path());
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: no output written"),
        "{stderr}"
    );
    // The servers seen running were this run's (their config is under tmp)
    // and none of them is left.
    assert!(!started.is_empty());
    assert_nothing_left(tmp.path());
}

/// The fixture campaign laid out as an incremental campaign leaves it: one
/// InfluxDB kept across the runs, its data folder tarred after each run
/// (stopped, tarred, started again), so each tarball holds the telemetry
/// of its run and of every run before it.
fn incremental_campaign(at: &Path) -> PathBuf {
    let root = at.join("campaign");
    copy_dir(&campaign(), &root);
    let data_root = tempfile::tempdir().unwrap();
    let data = data_root.path().join("influxdb-data");
    let options = Options {
        program: expost_remote::influxd::program(),
        ready_timeout: Duration::from_secs(30),
        interrupted: None,
        ..Options::default()
    };
    let mut runs: Vec<PathBuf> = std::fs::read_dir(root.join("test_case_1"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    runs.sort();
    assert_eq!(runs.len(), 8);
    for run in &runs {
        let mut server = Influxd::start_in(tempfile::tempdir().unwrap(), &data, &options)
            .expect("influxd starts over the kept data folder");
        common::import(&server.client(), &run.join("telemetry.lp"));
        server.terminate(Duration::from_secs(20)).unwrap();
        drop(server);
        let status = Command::new("tar")
            .arg("-C")
            .arg(data_root.path())
            .arg("-czf")
            .arg(run.join("influxdb-data.tar.gz"))
            .arg("influxdb-data")
            .status()
            .expect("tar runs");
        assert!(status.success());
    }
    root
}

fn diagnostics_csv(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("diagnostics.csv")).unwrap()
}

#[test]
fn snapshots_of_one_influxdb_are_served_by_one_influxd_with_the_same_figures() {
    if !available("snapshots_of_one_influxdb_are_served_by_one_influxd") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let root = incremental_campaign(work.path());
    let root = root.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| -> (Value, PathBuf) {
        let out_dir = work.path().join(name);
        let mut args = vec!["ombt", root, "--json", "-o", out_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = expost(&args, tmp.path());
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        assert_nothing_left(tmp.path());
        (json_of(&out), out_dir)
    };
    let (shared, shared_dir) = run("shared", &["--telemetry", "tarball"]);
    let (per_run, per_run_dir) = run("per_run", &["--telemetry", "tarball", "--influxd-per-run"]);
    let (lp, lp_dir) = run("lp", &[]);

    // One server, over the last run's snapshot, answered for all eight runs.
    let notes = diagnostics_csv(&shared_dir);
    let shared_notes: Vec<&str> = notes
        .lines()
        .filter(|l| l.contains("one influxd over this tarball answers for"))
        .collect();
    assert_eq!(shared_notes.len(), 1, "{notes}");
    assert!(
        shared_notes[0].contains("run_8_rpc-cast_2c_2s/influxdb-data.tar.gz")
            && shared_notes[0].contains("answers for 8 runs"),
        "{}",
        shared_notes[0]
    );
    assert!(!diagnostics_csv(&per_run_dir).contains("one influxd over"));

    // The same figures and samples as each run's own server and as the .lp files.
    for (label, other) in [("--influxd-per-run", &per_run), (".lp files", &lp)] {
        for ((name, got), (other_name, want)) in
            telemetry_of(&shared).iter().zip(&telemetry_of(other))
        {
            assert_eq!(name, other_name);
            assert_same_figures(&format!("{name} vs {label}"), got, want);
        }
    }
    let series = |dir: &Path| std::fs::read_to_string(dir.join("series.csv")).unwrap();
    assert!(series(&lp_dir).lines().count() > 8);
    assert!(
        series(&shared_dir) == series(&lp_dir),
        "series.csv differ (shared vs .lp)"
    );
    assert!(
        series(&per_run_dir) == series(&lp_dir),
        "series.csv differ (per run vs .lp)"
    );

    // Ctrl-C while the shared server starts (its program made slow to start:
    // a wrapper that waits, then runs influxd): it is stopped, its temp
    // folder removed, and every run waiting for it told.
    let slow = work.path().join("slow-influxd");
    std::fs::write(&slow, "#!/bin/sh\nsleep 5\nexec influxd \"$@\"\n").unwrap();
    let mut permissions = std::fs::metadata(&slow).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&slow, permissions).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(["ombt", root, "--telemetry", "tarball", "-q"])
        .env("TMPDIR", tmp.path())
        .env("EXPOST_INFLUXD", &slow)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stderr, started) = interrupt_once_serving(child, tmp.path());
    assert_eq!(code, Some(130), "{stderr}");
    assert_eq!(started.len(), 1, "one shared server, not one per run");
    assert_nothing_left(tmp.path());
}

/// SIGKILL gives expost no chance to stop its servers: they die with it
/// (the kernel kills each when the thread that started it ends).
#[cfg(target_os = "linux")]
#[test]
fn a_killed_expost_leaves_no_influxd_running() {
    if !available("a_killed_expost_leaves_no_influxd_running") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut child = spawn_long_tarball_run(work.path(), tmp.path());
    let deadline = Instant::now() + Duration::from_secs(20);
    while servers_in(tmp.path()).is_empty() {
        assert!(Instant::now() < deadline, "no influxd started within 20 s");
        assert!(child.try_wait().unwrap().is_none(), "expost ended first");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !servers_in(tmp.path()).is_empty() {
        if Instant::now() >= deadline {
            for pid in servers_in(tmp.path()) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            panic!("influxd still running 10 s after expost was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // A SIGKILLed expost cannot remove its servers' temp folders; the next
    // tarball run removes them, as it can prove their expost is gone, and
    // says so.
    let stale: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("expost-influxd-"))
        .collect();
    assert!(!stale.is_empty(), "the killed run left no server folder");
    let next = expost(
        &[
            "ombt",
            campaign().join("test_case_1").to_str().unwrap(),
            "--telemetry",
            "tarball",
            "--json",
        ],
        tmp.path(),
    );
    let stderr = String::from_utf8_lossy(&next.stderr);
    assert_eq!(next.status.code(), Some(0), "{stderr}");
    let said = String::from_utf8_lossy(&next.stdout);
    for dir in &stale {
        assert!(!dir.exists(), "{} left after the next run", dir.display());
        let name = dir.file_name().unwrap().to_string_lossy();
        assert!(said.contains(&*name), "no note names {name}: {said}");
    }
    assert_nothing_left(tmp.path());
}

/// ombt-orchestrator's own layout (runs holding influxdb-data.tar.gz, no
/// *.lp export): by default the tarballs are served, as with `--telemetry
/// tarball`, and a note says so; without an influxd that can run, a
/// warning says what to install or pass.
#[test]
fn the_default_serves_the_runs_tarballs_when_there_are_no_lp_files() {
    if !available("the_default_serves_the_runs_tarballs_when_there_are_no_lp_files") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("campaign");
    copy_dir(&campaign(), &root);
    let mut removed = 0;
    for case in std::fs::read_dir(&root).unwrap().flatten() {
        for run in std::fs::read_dir(case.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            for file in std::fs::read_dir(run.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if file.path().extension().is_some_and(|e| e == "lp") {
                    std::fs::remove_file(file.path()).unwrap();
                    removed += 1;
                }
            }
        }
    }
    assert!(removed > 0);
    let run = |extra: &[&str], out: &Path| {
        let mut args = vec![
            "ombt",
            root.to_str().unwrap(),
            "--json",
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        expost(&args, tmp.path())
    };
    let (auto_out, tarball_out) = (work.path().join("auto"), work.path().join("tarball"));
    let auto = run(&[], &auto_out);
    assert_eq!(
        auto.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&auto.stderr)
    );
    let json = json_of(&auto);
    let said = json["campaign_diagnostics"].to_string();
    assert!(
        said.contains("no *.lp telemetry files: telemetry from the runs' influxdb-data.tar.gz"),
        "{said}"
    );
    let explicit = run(&["--telemetry", "tarball"], &tarball_out);
    assert_eq!(explicit.status.code(), Some(0));
    let series = |dir: &Path| std::fs::read_to_string(dir.join("series.csv")).unwrap();
    assert!(series(&auto_out) == series(&tarball_out), "series differ");
    assert_nothing_left(tmp.path());

    // No influxd: nothing read, and a warning saying what to do.
    let out = Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(["ombt", root.to_str().unwrap(), "-q"])
        .env("EXPOST_INFLUXD", "/nonexistent/influxd")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("no telemetry read: the runs hold influxdb-data.tar.gz but no *.lp files")
            && stderr.contains("install Debian's influxdb package"),
        "{stderr}"
    );
}
