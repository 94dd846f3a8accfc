//! Hostile inputs given to the real binary: InfluxDB data tarballs whose
//! data folder (or something in it) is a link, a device or a FIFO
//! (tests/corpus/hostile, written by scripts/make-hostile-corpus.py),
//! decompression bombs (built here, from sparse files), and paths that
//! `tar` could take for a remote archive. Each is an error for its run
//! only; no `influxd` is started over a folder outside its temp folder and
//! no temp folder is left.
//!
//! The tarball cases need the real `influxd` (see ombt_tarball.rs); without
//! it they print why and pass, unless `EXPOST_REQUIRE_SERVICES=1` is set.

mod common;
use common::{
    copy_dir, influxd_available as available, ombt_campaign as campaign, repo, servers_in,
};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `expost ARGS` in `cwd`, its temp folders under `tmp`.
fn expost_in(args: &[&str], cwd: &Path, tmp: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(args)
        .current_dir(cwd)
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

/// Every file under `dir` (relative paths), folders with a trailing `/`.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            if e.file_type().unwrap().is_dir() {
                out.push(format!("{rel}/"));
                stack.push(e.path());
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// A work folder: `campaign/` (a copy of the ombt campaign), `tmp/` (the
/// binary's TMPDIR) and `outside/` (an empty data folder next to `tmp/`,
/// where the corpus' links point).
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&campaign(), &dir.path().join("campaign"));
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        for part in ["meta", "data", "wal"] {
            std::fs::create_dir_all(dir.path().join("outside").join(part)).unwrap();
        }
        Work { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The tarball of `run` (under test_case_1).
    fn tarball(&self, run: &str) -> PathBuf {
        self.path("campaign/test_case_1")
            .join(run)
            .join("influxdb-data.tar.gz")
    }

    fn ombt(&self, extra: &[&str]) -> (Option<i32>, String) {
        let root = self.path("campaign");
        let mut args = vec![
            "ombt",
            root.to_str().unwrap(),
            "--telemetry",
            "tarball",
            "-q",
        ];
        args.extend(extra);
        let out = expost_in(&args, self.dir.path(), &self.path("tmp"));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// The error line about `run`'s telemetry.
fn line_of(stderr: &str, run: &str) -> String {
    stderr
        .lines()
        .find(|l| l.contains(&format!("{run}': telemetry not read")))
        .unwrap_or_else(|| panic!("no message for {run}:\n{stderr}"))
        .to_string()
}

const RUNS: [&str; 8] = [
    "run_1_rpc-call_1c_1s",
    "run_2_rpc-call_1c_2s",
    "run_3_rpc-call_2c_1s",
    "run_4_rpc-call_2c_2s",
    "run_5_rpc-cast_1c_1s",
    "run_6_rpc-cast_1c_2s",
    "run_7_rpc-cast_2c_1s",
    "run_8_rpc-cast_2c_2s",
];

#[test]
fn links_devices_and_fifos_in_a_tarball_are_refused_and_the_other_runs_go_on() {
    if !available("links_devices_and_fifos_in_a_tarball_are_refused") {
        return;
    }
    let work = Work::new();
    let corpus = repo().join("tests/corpus/hostile");
    let cases = [
        ("symlink-data-dir", "a symbolic link 'influxdb-data'"),
        ("symlink-meta", "a symbolic link 'influxdb-data/meta'"),
        (
            "symlink-file",
            "a symbolic link 'influxdb-data/wal/_00001.wal'",
        ),
        ("hardlink", "a hard link 'influxdb-data/data/x'"),
        ("chardev", "a character device 'influxdb-data/data/zero'"),
        ("fifo-meta", "a FIFO 'influxdb-data/meta/meta.db'"),
    ];
    for ((case, _), run) in cases.iter().zip(RUNS) {
        std::fs::copy(corpus.join(format!("{case}.tar.gz")), work.tarball(run)).unwrap();
    }
    let outside_before = tree(&work.path("outside"));
    let (code, stderr) = work.ombt(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    for ((_, said), run) in cases.iter().zip(RUNS) {
        let line = line_of(&stderr, run);
        assert!(line.starts_with("error: "), "{line}");
        assert!(
            line.contains(&format!(
                "test_case_1/{run}/influxdb-data.tar.gz' holds {said}: only regular files and folders are served"
            )),
            "{line}"
        );
    }
    // The last two runs were served.
    for run in &RUNS[cases.len()..] {
        assert!(
            !stderr.contains(&format!("{run}': telemetry not read")),
            "{stderr}"
        );
    }
    // No server wrote into the folder the links point to.
    assert_eq!(tree(&work.path("outside")), outside_before);
    assert_nothing_left(&work.path("tmp"));
}

/// A data folder tarball holding `file` (relative to the data folder) as
/// a sparse file of `bytes` zeros (few KB compressed).
fn bomb(at: &Path, file: &str, bytes: u64) {
    let staging = tempfile::tempdir().unwrap();
    let data = staging.path().join("influxdb-data");
    for part in ["meta", "data", "wal"] {
        std::fs::create_dir_all(data.join(part)).unwrap();
    }
    std::fs::File::create(data.join(file))
        .unwrap()
        .set_len(bytes)
        .unwrap();
    let ok = Command::new("tar")
        .arg("-C")
        .arg(staging.path())
        .arg("-czf")
        .arg(at)
        .arg("influxdb-data")
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[test]
fn a_tarball_over_max_unpacked_is_refused_naming_the_limit_and_the_flag() {
    if !available("a_tarball_over_max_unpacked_is_refused") {
        return;
    }
    let work = Work::new();
    // The fixture runs unpack to 64 MiB; this one to 160 MiB.
    let run = RUNS[1];
    bomb(&work.tarball(run), "data/shard", 160 << 20);
    let (code, stderr) = work.ombt(&["--max-unpacked", "0.125"]);
    assert_eq!(code, Some(1), "{stderr}");
    let line = line_of(&stderr, run);
    assert!(
        line.contains(&format!(
            "test_case_1/{run}/influxdb-data.tar.gz' unpacks to more than 0.125 GiB (the limit; reached at 'influxdb-data/data/shard') (--max-unpacked GIB raises it)"
        )),
        "{line}"
    );
    assert_eq!(stderr.matches("telemetry not read").count(), 1, "{stderr}");
    assert_nothing_left(&work.path("tmp"));
    // Raised, it is served.
    let (code, stderr) = work.ombt(&["--max-unpacked", "1"]);
    assert!(!stderr.contains("unpacks to more than"), "{stderr}");
    let _ = code;
    assert_nothing_left(&work.path("tmp"));
}

#[test]
fn a_meta_db_bomb_is_refused_by_ombt_and_inspect() {
    if !available("a_meta_db_bomb_is_refused") {
        return;
    }
    let work = Work::new();
    let run = RUNS[2];
    bomb(&work.tarball(run), "meta/meta.db", 48 << 20);
    let tarball = work.tarball(run);
    let out = expost_in(
        &["inspect", tarball.to_str().unwrap()],
        work.dir.path(),
        &work.path("tmp"),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("cannot read meta/meta.db from")
            && said.contains("it is larger than 16 MiB, so not InfluxDB's meta data"),
        "{said}"
    );
    let (code, stderr) = work.ombt(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    let line = line_of(&stderr, run);
    assert!(
        line.contains(&format!("test_case_1/{run}/influxdb-data.tar.gz' holds 'influxdb-data/meta/meta.db' of 50331648 bytes, more than 16 MiB: not InfluxDB's meta data")),
        "{line}"
    );
    assert_eq!(stderr.matches("telemetry not read").count(), 1, "{stderr}");
    assert_nothing_left(&work.path("tmp"));
}

#[test]
fn a_campaign_under_a_path_with_a_colon_is_read_as_local_files() {
    if !available("a_campaign_under_a_path_with_a_colon") {
        return;
    }
    let work = Work::new();
    std::fs::create_dir(work.path("run:2024")).unwrap();
    std::fs::rename(work.path("campaign"), work.path("run:2024/campaign")).unwrap();
    // Relative, as typed: GNU tar reads "run:2024/…" as host "run".
    let out = expost_in(
        &["ombt", "run:2024/campaign", "--telemetry", "tarball", "-q"],
        work.dir.path(),
        &work.path("tmp"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("telemetry not read"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let out = expost_in(
        &[
            "inspect",
            "run:2024/campaign/test_case_1/run_1_rpc-call_1c_1s/influxdb-data.tar.gz",
        ],
        work.dir.path(),
        &work.path("tmp"),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("InfluxDB data folder (tarball)"), "{said}");
    assert_nothing_left(&work.path("tmp"));
}

/// `expost ARGS` in `cwd`, killed (by pid) if it has not ended after
/// 120 s, so a hang fails the test instead of stalling it.
fn expost_guarded(args: &[&str], cwd: &Path) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("expost {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

#[test]
fn fifos_and_device_links_named_like_inputs_are_skipped_with_a_diagnostic() {
    let work = Work::new();
    let run_dir = |run: &str| work.path("campaign/test_case_1").join(run);
    mkfifo(&run_dir(RUNS[0]).join("extra_controller.log"));
    std::os::unix::fs::symlink("/dev/zero", run_dir(RUNS[1]).join("zero_controller.log")).unwrap();
    let lp = run_dir(RUNS[2]).join("telemetry.lp");
    std::fs::remove_file(&lp).unwrap();
    mkfifo(&lp);
    let (code, _, stderr) = expost_guarded(&["ombt", "campaign", "-q"], work.dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    for (run, file, what) in [
        (RUNS[0], "extra_controller.log", "a FIFO"),
        (RUNS[1], "zero_controller.log", "a character device"),
    ] {
        assert!(
            stderr.contains(&format!(
                "cannot read 'campaign/test_case_1/{run}/{file}': not a regular file ({what})"
            )),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains(&format!(
            "campaign/test_case_1/{}/telemetry.lp: cannot open the telemetry file: not a regular file (a FIFO)",
            RUNS[2]
        )),
        "{stderr}"
    );
    assert!(stderr.contains("8 runs (8 analysed, 0 failed)"), "{stderr}");
    for (path, what) in [
        (run_dir(RUNS[0]).join("extra_controller.log"), "a FIFO"),
        (
            run_dir(RUNS[1]).join("zero_controller.log"),
            "a character device",
        ),
    ] {
        let (code, _, stderr) =
            expost_guarded(&["inspect", path.to_str().unwrap()], work.dir.path());
        assert_ne!(code, Some(0), "{stderr}");
        assert!(
            stderr.contains(&format!("not a regular file ({what})")),
            "{stderr}"
        );
    }
}

#[test]
fn a_controller_log_over_the_limit_is_refused_naming_it() {
    let work = Work::new();
    let log = work
        .path("campaign/test_case_1")
        .join(RUNS[0])
        .join("ombt-controller.log");
    // Its real first bytes (so it is taken for controller results), then
    // 300 MiB of zeros, sparse on disk.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let (code, _, stderr) = expost_guarded(&["ombt", "campaign", "-q"], work.dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("larger than 256 MiB, the most read of an ombt controller log"),
        "{stderr}"
    );
    assert!(stderr.contains("8 runs (7 analysed, 1 failed)"), "{stderr}");
}

#[test]
fn links_out_of_a_campaign_are_named_and_not_followed() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("campaign");
    copy_dir(&repo().join("examples/failover"), &root);
    let elsewhere = work.path().join("elsewhere");
    copy_dir(
        &root.join("hc_failover_020"),
        &elsewhere.join("hc_failover_030"),
    );
    std::os::unix::fs::symlink(
        elsewhere.join("hc_failover_030"),
        root.join("hc_failover_030"),
    )
    .unwrap();
    let (code, _, stderr) = expost_guarded(&["failover", "campaign", "-q"], work.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("campaign/hc_failover_030: a symbolic link out of the folder being read"),
        "{stderr}"
    );
    let (code, stdout, stderr) = expost_guarded(&["inspect", "campaign"], work.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stdout.contains("campaign/hc_failover_030: a symbolic link out of the folder being read"),
        "{stdout}"
    );
    // A folder that is no campaign: each file is inspected, a link out not.
    let misc = work.path().join("misc");
    std::fs::create_dir(&misc).unwrap();
    std::fs::copy(
        repo().join("examples/failover/README.md"),
        misc.join("README.md"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/hostname", misc.join("notes.txt")).unwrap();
    let (_, stdout, stderr) = expost_guarded(&["inspect", "misc"], work.path());
    assert!(
        stdout.contains("misc/notes.txt: unknown\n  a symbolic link out of the folder being read (to '/etc/hostname'): not followed"),
        "{stdout}{stderr}"
    );
}
