//! Runs killed at random moments: a study writing its outputs, and an
//! `ombt --telemetry tarball` run serving its tarballs with local
//! `influxd`s, are sent SIGTERM or SIGKILL at moments drawn (from a fixed
//! seed) over a whole run's length. Afterwards every output under its
//! final name is whole (byte-identical to an uninterrupted run's), a
//! SIGTERM leaves no temporary file, and the next run removes what a
//! SIGKILL left (and says so), with no `influxd` left running.
//!
//! The tarball trials need the real `influxd` (see ombt_tarball.rs);
//! without it they print why and pass, unless `EXPOST_REQUIRE_SERVICES=1`
//! is set.

#![cfg(target_os = "linux")]

mod common;
use common::servers_in;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator (64-bit LCG): the trials' moments.
struct Moments(u64);

impl Moments {
    /// A moment in `[0, span)`.
    fn next(&mut self, span: Duration) -> Duration {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let unit = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        span.mul_f64(unit)
    }
}

/// The files in `dir` under their final names (not the temporary files a
/// killed writer leaves, `.expost-*`), with their bytes.
fn finals(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with(".expost-"))
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// The temporary files of writers in `dir`.
fn temps(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".expost-"))
        .collect()
}

/// Waits (up to 10 s) until no server runs under `tmp`; kills any left
/// (by pid) and fails.
fn assert_no_server_left(tmp: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !servers_in(tmp).is_empty() {
        if Instant::now() >= deadline {
            for pid in servers_in(tmp) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            panic!("influxd still running 10 s after expost ended");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One study run: `expost ARGS -o OUT`, each run with its temp folders in
/// its own folder under `tmp` (so that no trial's outputs note the
/// cleaning up of another's leftovers).
struct Trials {
    args: Vec<String>,
    out: PathBuf,
    tmp: PathBuf,
}

impl Trials {
    /// The temp folder of run `name`.
    fn tmp_of(&self, name: &str) -> PathBuf {
        let dir = self.tmp.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn command(&self, tmp: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_expost"));
        command
            .args(&self.args)
            .arg("-o")
            .arg(&self.out)
            .arg("-q")
            .env("NO_COLOR", "1")
            .env("TMPDIR", tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    /// An uninterrupted run: its outputs and how long it took.
    fn reference(&self) -> (BTreeMap<String, Vec<u8>>, Duration) {
        let started = Instant::now();
        let out = self.command(&self.tmp_of("reference")).output().unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let outputs = finals(&self.out);
        assert!(outputs.len() > 3, "{outputs:?}");
        (outputs, took)
    }

    /// Runs `trials` times into an emptied output folder, each run sent
    /// SIGTERM (even trials) or SIGKILL (odd ones) at a moment drawn over
    /// `span`, and checks what each left. Returns how many trials were
    /// killed before they ended.
    fn run(&self, reference: &BTreeMap<String, Vec<u8>>, span: Duration, trials: usize) -> usize {
        let mut moments = Moments(0x5eed_0fe1_0057);
        let mut killed = 0;
        for trial in 0..trials {
            let _ = std::fs::remove_dir_all(&self.out);
            let signal = if trial % 2 == 0 { "TERM" } else { "KILL" };
            let at = moments.next(span);
            let tmp = self.tmp_of(&format!("trial-{trial}"));
            let mut child = self.command(&tmp).spawn().unwrap();
            std::thread::sleep(at);
            let ended_first = child.try_wait().unwrap().is_some();
            // It may have ended meanwhile: kill then says so, unheard.
            let _ = Command::new("kill")
                .args([&format!("-{signal}"), &child.id().to_string()])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(60);
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                if Instant::now() >= deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("trial {trial}: expost did not end 60 s after SIG{signal}");
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            let what = format!("trial {trial}: SIG{signal} at {at:?} ({status})");
            if !ended_first {
                killed += 1;
            }
            // Whatever the moment: every file under a final name is whole.
            for (name, bytes) in finals(&self.out) {
                let want = reference
                    .get(&name)
                    .unwrap_or_else(|| panic!("{what}: unexpected file {name}"));
                assert!(&bytes == want, "{what}: {name} differs from a whole run's");
            }
            if signal == "TERM" {
                // Interrupted (130) or already done (0); cleaned up either way.
                assert!(matches!(status.code(), Some(130 | 0)), "{what}");
                assert_eq!(temps(&self.out), Vec::<String>::new(), "{what}");
            }
            assert_no_server_left(&tmp);
        }
        killed
    }

    /// The run after the trials, in one temp folder holding what every
    /// trial left there: it removes what the killed runs left, says so,
    /// and leaves nothing else. Returns its stderr and what its temp
    /// folder still holds.
    fn next_run_cleans_up(&self, trials: usize) -> (String, Vec<PathBuf>) {
        let tmp = self.tmp_of("next");
        for trial in 0..trials {
            for left in std::fs::read_dir(self.tmp_of(&format!("trial-{trial}")))
                .unwrap()
                .flatten()
            {
                std::fs::rename(left.path(), tmp.join(left.file_name())).unwrap();
            }
        }
        let out = self.command(&tmp).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        assert_eq!(temps(&self.out), Vec::<String>::new(), "{stderr}");
        assert_no_server_left(&tmp);
        let left = std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        (stderr, left)
    }
}

#[test]
fn a_study_killed_at_random_moments_leaves_whole_outputs_and_the_next_run_cleans_up() {
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let trials = Trials {
        args: vec![
            "failover".into(),
            common::repo()
                .join("examples/failover")
                .to_string_lossy()
                .into_owned(),
        ],
        out: work.path().join("out"),
        tmp,
    };
    let (reference, took) = trials.reference();
    let killed = trials.run(&reference, took.mul_f64(1.2), 16);
    // Some trials end first (the moments span 1.2 runs, and a loaded
    // machine runs at its own pace); enough must be cut short to mean
    // anything.
    assert!(
        killed >= 4,
        "only {killed} of 16 trials were killed in time"
    );
    // A SIGKILLed writer's temporary file, left for the next run: make
    // sure one is there (a trial may have missed the writing).
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let _ = std::fs::create_dir_all(&trials.out);
    std::fs::write(
        trials.out.join(format!(".expost-{dead}-Ab12Cd.tmp")),
        "half a file",
    )
    .unwrap();
    let (said, _) = trials.next_run_cleans_up(16);
    assert!(finals(&trials.out) == reference, "outputs differ");
    assert!(
        said.contains("removed, a temporary file of a killed run"),
        "{said}"
    );
}

#[test]
fn a_tarball_run_killed_at_random_moments_leaves_no_server_partial_output_or_temp_folder() {
    if !common::influxd_available(
        "a_tarball_run_killed_at_random_moments_leaves_no_server_partial_output_or_temp_folder",
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let tmp = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let trials = Trials {
        args: vec![
            "ombt".into(),
            common::ombt_campaign()
                .join("test_case_1")
                .to_string_lossy()
                .into_owned(),
            "--telemetry".into(),
            "tarball".into(),
        ],
        out: work.path().join("out"),
        tmp,
    };
    let (reference, took) = trials.reference();
    let killed = trials.run(&reference, took.mul_f64(1.2), 6);
    assert!(killed >= 2, "only {killed} of 6 trials were killed in time");
    let (_, left) = trials.next_run_cleans_up(6);
    // The servers' temp folders of the SIGKILLed trials are gone too.
    assert!(left.is_empty(), "temp folders left: {left:?}");
}
