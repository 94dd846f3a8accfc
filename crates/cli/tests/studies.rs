//! What every study command shares, tested on each of them: the output
//! folder describes itself (`manifest.json`), `expost report` and `expost
//! inspect` read any study's folder, `--save-study` + `expost run`
//! reproduce the outputs, option values a study cannot use exit 2 before
//! any work, and a closed stdout pipe ends quietly.

mod common;

use common::{expost, repo};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One study command on a bundled fixture.
struct Case {
    study: &'static str,
    /// Arguments after the study's name (paths relative to the repository).
    args: Vec<String>,
    /// An option value the study cannot use.
    bad: Vec<&'static str>,
}

/// A fixture's canonical path: a rerun from a study file names it the same way.
fn fixture(path: &str) -> String {
    repo()
        .join(path)
        .canonicalize()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

fn cases() -> Vec<Case> {
    let profile = fixture("tests/fixtures/preemption/bamboo-simulation/profiling-runs/run-86");
    vec![
        Case {
            study: "failover",
            args: vec![fixture("examples/failover")],
            bad: vec!["--bin", "0"],
        },
        Case {
            study: "iperf3",
            args: vec![fixture("examples/failover")],
            bad: vec!["--bin", "0"],
        },
        Case {
            study: "ombt",
            args: vec![fixture("tests/fixtures/ombt/campaign")],
            bad: vec!["--query", "no-equals-sign"],
        },
        Case {
            study: "provision",
            args: vec!["--from".into(), fixture("examples/provision/events.jsonl")],
            bad: vec!["--straggler-mads=-1"],
        },
        Case {
            study: "traces",
            args: vec![fixture(
                "tests/fixtures/preemption/bamboo-traces/traces/p3-trace.csv",
            )],
            bad: vec!["--time-unit", "days"],
        },
        Case {
            study: "simulate",
            args: vec![
                "--profile".into(),
                profile.clone(),
                "--model".into(),
                "poisson".into(),
                "--rate".into(),
                "0.1".into(),
                "--hours".into(),
                "2".into(),
            ],
            bad: vec!["--hours=-1"],
        },
        Case {
            study: "sweep",
            args: vec![
                "--profile".into(),
                profile,
                "--rates".into(),
                "0.05,0.2".into(),
                "--seeds".into(),
                "2".into(),
                "--hours".into(),
                "2".into(),
            ],
            bad: vec!["--seeds", "0"],
        },
    ]
}

fn run_case(case: &Case, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&str> = vec![case.study];
    args.extend(case.args.iter().map(String::as_str));
    args.extend(extra);
    expost(&args)
}

fn manifest(dir: &Path) -> Value {
    let bytes = std::fs::read(dir.join("manifest.json"))
        .unwrap_or_else(|e| panic!("{}: no manifest.json: {e}", dir.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// Runs every case with `-o`, returning the output folders.
fn outputs(root: &Path) -> Vec<(&'static str, PathBuf)> {
    cases()
        .iter()
        .map(|case| {
            let out = root.join(case.study);
            let result = run_case(case, &["-o", out.to_str().unwrap(), "--quiet"]);
            assert_eq!(
                result.status.code(),
                Some(0),
                "{}: {}",
                case.study,
                String::from_utf8_lossy(&result.stderr)
            );
            (case.study, out)
        })
        .collect()
}

#[test]
fn every_output_folder_describes_itself_and_report_and_inspect_read_it() {
    let tmp = tempfile::tempdir().unwrap();
    let folders = outputs(tmp.path());
    for (study, dir) in &folders {
        let m = manifest(dir);
        assert_eq!(m["study"], *study);
        assert_eq!(m["expost"], env!("CARGO_PKG_VERSION"));
        assert_eq!(m["command"][1], *study, "{study}: argv");
        for key in ["errors", "warnings", "notes"] {
            assert!(m["diagnostics"][key].is_u64(), "{study}: {key}");
        }
        let outputs = m["outputs"].as_array().unwrap();
        assert!(!outputs.is_empty(), "{study}");
        for o in outputs {
            let path = dir.join(o["path"].as_str().unwrap());
            assert!(
                path.is_file(),
                "{study}: {} listed but missing",
                path.display()
            );
            if o["kind"] == "table" {
                assert!(!o["columns"].as_array().unwrap().is_empty(), "{study}: {o}");
            }
        }
        let names: Vec<&str> = outputs.iter().filter_map(|o| o["path"].as_str()).collect();
        assert!(names.contains(&"diagnostics.csv"), "{study}: {names:?}");
        assert!(
            names.contains(&format!("{study}.json").as_str()),
            "{study}: {names:?}"
        );
        let inspected = expost(&["inspect", dir.to_str().unwrap()]);
        assert_eq!(inspected.status.code(), Some(0), "{study}");
        let text = String::from_utf8_lossy(&inspected.stdout);
        assert!(text.contains(study), "{study}: {text}");
    }
    let html = tmp.path().join("report.html");
    let mut args = vec!["report"];
    args.extend(folders.iter().map(|(_, d)| d.to_str().unwrap()));
    args.extend(["-o", html.to_str().unwrap()]);
    let report = expost(&args);
    assert_eq!(
        report.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let page = std::fs::read_to_string(&html).unwrap();
    for (study, _) in &folders {
        assert!(page.contains(study), "{study} missing from the report");
    }
}

/// The tables of an output folder, by name, as text.
fn tables(dir: &Path) -> Vec<(String, String)> {
    let mut tables: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "csv"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    tables.sort();
    tables
}

#[test]
fn every_study_saves_its_options_and_reruns_from_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for case in cases() {
        let out = tmp.path().join("out").join(case.study);
        let first = run_case(
            &case,
            &["-o", out.to_str().unwrap(), "--quiet", "--save-study"],
        );
        assert_eq!(first.status.code(), Some(0), "{}", case.study);
        let study_file = out.join("expost.toml");
        let text = std::fs::read_to_string(&study_file).unwrap();
        assert!(text.contains(&format!("[{}]", case.study)), "{text}");
        // Keep only the study file, then rerun it from another folder.
        let before = tables(&out);
        let kept = tmp.path().join("kept.toml");
        std::fs::copy(&study_file, &kept).unwrap();
        std::fs::remove_dir_all(&out).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::copy(&kept, &study_file).unwrap();
        let rerun = std::process::Command::new(env!("CARGO_BIN_EXE_expost"))
            .args(["run", study_file.to_str().unwrap(), "--quiet"])
            .current_dir(&elsewhere)
            .output()
            .unwrap();
        assert_eq!(
            rerun.status.code(),
            Some(0),
            "{}: {}",
            case.study,
            String::from_utf8_lossy(&rerun.stderr)
        );
        assert!(out.join("manifest.json").is_file(), "{}", case.study);
        // Diagnostics name files as the paths were given (absolute when
        // rerun from a study file); every other table is the same.
        let after = tables(&out);
        let names = |t: &[(String, String)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&after), names(&before), "{}", case.study);
        for ((name, a), (_, b)) in after.iter().zip(&before) {
            if name != "diagnostics.csv" {
                assert!(a == b, "{}: {name} differs after the rerun", case.study);
            }
        }
    }
}

#[test]
fn option_values_a_study_cannot_use_exit_2_before_any_work() {
    for case in cases() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("never");
        let result = run_case(
            &case,
            &[&case.bad[..], &["-o", out.to_str().unwrap()]].concat(),
        );
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{}: {stderr}", case.study);
        let option = case.bad[0].split('=').next().unwrap();
        assert!(stderr.contains(option), "{}: {stderr}", case.study);
        assert!(!out.exists(), "{}: output written", case.study);
    }
}

#[test]
fn json_and_a_closed_pipe() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    for case in cases() {
        let whole = run_case(&case, &["--json"]);
        assert_eq!(whole.status.code(), Some(0), "{}", case.study);
        let value: Value = serde_json::from_slice(&whole.stdout)
            .unwrap_or_else(|e| panic!("{}: --json is not JSON: {e}", case.study));
        // `traces --json` is a list, one entry per trace (its contract).
        assert!(value.is_object() || value.is_array(), "{}", case.study);
        // The reader goes away after a few bytes.
        let mut child = Command::new(env!("CARGO_BIN_EXE_expost"))
            .arg(case.study)
            .args(&case.args)
            .arg("--json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let result = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", case.study);
        assert_ne!(result.status.code(), Some(101), "{}", case.study);
    }
}

/// `--legend`, every study: line figures place their legend as asked,
/// the choice is saved in the study file, and a study whose figures are
/// all charts says the option changed nothing.
#[test]
fn every_study_takes_legend_and_saves_it() {
    let tmp = tempfile::tempdir().unwrap();
    for case in cases() {
        let out = tmp.path().join(case.study);
        let result = run_case(
            &case,
            &[
                "-o",
                out.to_str().unwrap(),
                "--quiet",
                "--legend",
                "none",
                "--save-study",
            ],
        );
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(0), "{}: {stderr}", case.study);
        let study_file = std::fs::read_to_string(out.join("expost.toml")).unwrap();
        assert!(
            study_file.contains("legend = \"none\""),
            "{}: {study_file}",
            case.study
        );
        let figures: Vec<String> = manifest(&out)["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["kind"] == "figure" && o["format"] == "svg")
            .map(|o| o["path"].as_str().unwrap().to_string())
            .collect();
        if figures.is_empty() {
            assert!(
                stderr.contains("--legend: there is no line figure here"),
                "{}: {stderr}",
                case.study
            );
            continue;
        }
        assert!(!stderr.contains("--legend"), "{}: {stderr}", case.study);
        // Drawn without their legends: fewer texts than by default.
        let plain = tmp.path().join(format!("{}-plain", case.study));
        let default = run_case(&case, &["-o", plain.to_str().unwrap(), "--quiet"]);
        assert_eq!(default.status.code(), Some(0), "{}", case.study);
        let texts = |dir: &Path| -> usize {
            (figures.iter())
                .map(|f| {
                    std::fs::read_to_string(dir.join(f))
                        .unwrap()
                        .matches("<text")
                        .count()
                })
                .sum()
        };
        assert!(
            texts(&out) < texts(&plain),
            "{}: legends still drawn",
            case.study
        );
    }
}
