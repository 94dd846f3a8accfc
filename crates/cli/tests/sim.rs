//! End-to-end tests of `expost traces`, `simulate` and `sweep` on the real
//! preemption fixtures.

mod common;
use common::{expost, json_of, repo, rerun_reproduces, save_study};

use std::path::PathBuf;

/// The preemption fixtures (a canonical path: a rerun study names its
/// inputs by their canonical paths, and so do the outputs).
fn fixtures() -> PathBuf {
    repo()
        .join("tests/fixtures/preemption")
        .canonicalize()
        .unwrap()
}

fn profile() -> String {
    fixtures()
        .join("bamboo-simulation/profiling-runs/run-86")
        .display()
        .to_string()
}

#[test]
fn traces_reports_repairs_and_writes_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let terminate = fixtures()
        .join("bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv");
    let p3 = fixtures().join("bamboo-traces/traces/p3-trace.csv");
    let out = expost(&[
        "traces",
        terminate.to_str().unwrap(),
        p3.to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("full-64-terminate-trace.csv:54: 6 rows dated a day early moved forward 24 h (lines 54, 55, 56, 57, 58, …; first: dated a day early"),
        "{stderr}"
    );
    for f in [
        "traces.csv",
        "traces.parquet",
        "counts.csv",
        "lifetimes.csv",
        "hourly.csv",
        "diagnostics.csv",
        "traces.json",
        "lifetimes.svg",
        "node_count.png",
        "preemptions_per_hour.pdf",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
}

/// `--only trace=…` draws the traces named (by file name without
/// extension, or path), `--label trace=…:TEXT` names them; tables keep
/// every trace; a name no file given has exits 2.
#[test]
fn traces_figures_draw_the_traces_chosen_with_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let terminate = fixtures()
        .join("bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv");
    let p3 = fixtures().join("bamboo-traces/traces/p3-trace.csv");
    let traces = |extra: &[&str]| {
        let out_dir = dir.path().display().to_string();
        let mut args = vec!["traces", terminate.to_str().unwrap(), p3.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend(["-q", "-o", &out_dir]);
        expost(&args)
    };
    let out = traces(&[
        "--only",
        "trace=p3-trace",
        "--label",
        "trace=p3-trace:AWS p3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(dir.path().join("preemptions_per_hour.svg")).unwrap();
    assert!(
        svg.contains("\nAWS p3\n") && !svg.contains("terminate"),
        "one trace, labelled"
    );
    let table = std::fs::read_to_string(dir.path().join("traces.csv")).unwrap();
    assert_eq!(table.lines().count(), 1 + 2, "tables keep every trace");
    // By path as given, too.
    let out = traces(&["--only", &format!("trace={}", p3.display())]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (bad, says) in [
        (
            &["--only", "trace=p4-trace"][..],
            "--only trace=p4-trace: no trace file has it",
        ),
        (
            &["--label", "file=p3-trace:x"][..],
            "chosen by trace, not \"file\"",
        ),
    ] {
        let out = traces(bad);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(stderr.contains(says), "{bad:?}: {stderr}");
    }
}

#[test]
fn a_bad_trace_fails_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "timestamp,count\n2021-07-26T18:42:00Z,8\n2021-07-26T18:41:00Z,9\n",
    )
    .unwrap();
    let out = expost(&["traces", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.csv:3: rows out of order"), "{stderr}");
}

#[test]
fn simulate_prints_a_json_summary_whose_time_split_sums_to_wall_time() {
    let out = expost(&[
        "simulate",
        "--profile",
        &profile(),
        "--rate",
        "0.2",
        "--strategy",
        "checkpoint-restart",
        "--checkpoint-interval",
        "600",
        "--hours",
        "6",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["result"];
    let split = &r["split"];
    let total: f64 = [
        "useful_s",
        "reconfiguration_s",
        "rollback_s",
        "checkpoint_stall_s",
        "waiting_s",
    ]
    .iter()
    .map(|k| split[k].as_f64().unwrap())
    .sum();
    assert!((total - 6.0 * 3600.0).abs() < 1e-6);
    assert!(r["preemptions"].as_u64().unwrap() > 0);
    // Young/Daly beside it: the job's MTBF from the rate (0.2 per node-hour
    // at the run's world size), √(2 δ M), and the expected waste at both.
    let y = &v["young_daly"];
    let world = v["result"]["mean_instances"].as_f64().unwrap().round();
    let mtbf = 3600.0 / (0.2 * world);
    assert!(
        (y["mtbf_s"].as_f64().unwrap() - mtbf).abs() < 1e-6 * mtbf,
        "{y}"
    );
    assert_eq!(y["mtbf_from"], "rate");
    let delta = 89.0; // run-86's checkpoint save time
    assert!((y["interval_s"].as_f64().unwrap() - (2.0 * delta * mtbf).sqrt()).abs() < 1.0);
    assert_eq!(y["simulated_interval_s"], 600.0);
    let waste = y["simulated_waste"].as_f64().unwrap();
    assert!((waste - (1.0 - split["useful_s"].as_f64().unwrap() / (6.0 * 3600.0))).abs() < 1e-9);
    assert!(
        y["expected_waste_at_optimum"].as_f64().unwrap()
            <= y["expected_waste_at_simulated_interval"].as_f64().unwrap()
    );
}

#[test]
fn nonsense_parameters_are_usage_errors_found_before_any_input_is_read() {
    // The profile does not even exist: the options are checked first.
    for (args, says) in [
        (
            &["simulate", "--pipeline-depth", "128"][..],
            "pipeline depth 128",
        ),
        (
            &["simulate", "--rate", "-1"][..],
            "--rate -1.0 is out of range: expected preemptions per node-hour from 0 up to 100",
        ),
        (&["simulate", "--model", "tick"][..], "needs --trace"),
        (
            &["simulate", "--strategy", "checkpoint-restart"][..],
            "interval > 0",
        ),
        (&["simulate", "-o", "-"][..], "--model tick"),
        (&["sweep", "--intervals", "auto,0"][..], "must be positive"),
        (
            &["sweep", "--intervals", "soon"][..],
            "neither auto nor seconds",
        ),
        (
            &["sweep", "--rates", "0.1,-2"][..],
            "--rates -2.0 is out of range",
        ),
        (&["sweep", "--shard", "3/2"][..], "1 ≤ i ≤ n"),
        (
            &["sweep", "--shard", "2/4", "--shards", "4"][..],
            "--shards goes with --shard auto",
        ),
        (&["traces", "a.csv", "--step-unit", "m"][..], "--time-unit"),
        (&["traces", "a.csv", "--time-unit", "fortnight"][..], "--time-unit"),
        // Options that would be ignored by the model or strategy chosen.
        (
            &["simulate", "--model", "replay", "--trace", "t.csv", "--rate", "0.3"][..],
            "--rate does not apply to --model replay --strategy reconfigure: it applies to --model poisson",
        ),
        (
            &["simulate", "--trace", "t.csv"][..],
            "--trace does not apply to --model poisson",
        ),
        (
            &["simulate", "--offset", "60"][..],
            "--offset does not apply to --model poisson",
        ),
        (
            &["simulate", "--redundancy-overhead", "0.2"][..],
            "it applies to --strategy redundant",
        ),
        (
            &["simulate", "--world-size", "32"][..],
            "--world-size does not apply",
        ),
        (
            &["simulate", "--model", "replay", "--trace", "t.csv", "--nodes", "32"][..],
            "--nodes does not apply to --model replay --strategy reconfigure",
        ),
        (
            &["simulate", "--model", "tick", "--trace", "t.csv", "--strategy", "redundant"][..],
            "--strategy does not apply to --model tick",
        ),
        (
            &["simulate", "--model", "tick", "--trace", "t.csv", "--generated"][..],
            "--generated writes CSV files: it needs -o DIR",
        ),
        (
            &["simulate", "--generated", "-o", "x"][..],
            "--generated does not apply to --model poisson",
        ),
        (
            &["simulate", "--remove-chance", "0.2"][..],
            "--remove-chance does not apply to --model poisson",
        ),
        (
            &["simulate", "--model", "tick", "--add-trace", "n.csv"][..],
            "--add-trace and --remove-trace go together",
        ),
        (
            &["simulate", "--model", "minute", "--remove-chance", "0.2"][..],
            "the generator needs --trace, or --add-trace with --remove-trace, or all of",
        ),
        (
            &["simulate", "--model", "tick", "--trace", "t.csv", "--remove-burst", "2"][..],
            "--remove-burst \"2\" is not MEAN:STD",
        ),
        (
            &["simulate", "--model", "tick", "--trace", "t.csv", "--prep", "60"][..],
            "--prep does not apply to --model tick",
        ),
        (
            &["simulate", "--model", "tick", "--trace", "t.csv", "--checkpoint-interval", "60"][..],
            "--checkpoint-interval does not apply to --model tick",
        ),
    ] {
        let mut all = args.to_vec();
        if args[0] != "traces" {
            all.extend(["--profile", "/nonexistent/profile"]);
        }
        let out = expost(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // Known once the profile is read (its pipeline depth is 16), and still
    // the options' fault.
    let out = expost(&[
        "simulate",
        "--profile",
        &profile(),
        "--nodes",
        "8",
        "--max-instances",
        "8",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pipeline depth 16"));
    // Checkpoint-restart replaying a trace that never has its world size
    // alive would train nothing: an error giving the most it can be.
    let g4dn = fixtures().join("bamboo-traces/traces/g4dn-trace.csv");
    let replay = |extra: &[&str]| {
        let mut args = vec![
            "simulate",
            "--profile",
            &profile(),
            "--model",
            "replay",
            "--trace",
            g4dn.to_str().unwrap(),
            "--strategy",
            "checkpoint-restart",
            "--checkpoint-interval",
            "600",
            "--hours",
            "10",
            "--json",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        expost(&refs)
    };
    let out = replay(&[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("checkpoint-restart at world size 64 can never start: the trace has at most 24 nodes alive")
            && stderr.contains("--world-size ≤ 16"),
        "{stderr}"
    );
    let out = replay(&["--world-size", "16"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["result"]["samples"].as_f64().unwrap() > 0.0, "{v}");
    let out = expost(&["simulate", "--profile", "/nonexistent/profile"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/profile"));
}

#[test]
fn sweep_shards_merge_to_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    let common = [
        "sweep",
        "--profile",
        &profile(),
        "--rates",
        "0.05,0.3",
        "--seeds",
        "4",
        "--hours",
        "4",
        "-q",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend_from_slice(extra);
        let out = expost(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let (whole, s1, s2, merged) = (d("whole"), d("s1"), d("s2"), d("merged"));
    run(&["-o", &whole]);
    run(&["--shard", "1/2", "-o", &s1]);
    run(&["--shard", "2/2", "-o", &s2]);
    // The profile comes from the shards' sweep-spec.json.
    let out = expost(&["sweep", "merge", &s1, &s2, "-o", &merged, "-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &str| std::fs::read(PathBuf::from(p).join("sweep.csv")).unwrap();
    assert_eq!(read(&whole), read(&merged));
    for f in [
        "sweep.parquet",
        "points.csv",
        "optima.csv",
        "throughput.svg",
        "value.png",
        "time_split_redundant.pdf",
    ] {
        assert!(PathBuf::from(&merged).join(f).is_file(), "{f} missing");
    }
    let out = expost(&[
        "sweep",
        "merge",
        &s1,
        "--profile",
        &profile(),
        "-o",
        &d("m2"),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 shards missing: 2"));
    let out = expost(&["sweep", "merge", &s1, &s2, &s1, "-o", &d("m3"), "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 1/2 is given twice"));
}

/// `expost sweep ARGS` with exactly the array-job variables `vars` set.
fn sweep_in_task(args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_expost"));
    command.arg("sweep").args(args).env("NO_COLOR", "1");
    for name in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
        "SLURM_ARRAY_TASK_STEP",
        "JOB_COMPLETION_INDEX",
    ] {
        command.env_remove(name);
    }
    command.envs(vars.iter().copied()).output().unwrap()
}

#[test]
fn shard_auto_takes_the_shard_from_the_array_jobs_variables() {
    let p = profile();
    let args = [
        "--profile",
        &p,
        "--rates",
        "0.1",
        "--seeds",
        "4",
        "--hours",
        "1",
        "--json",
        "--shard",
        "auto",
    ];
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ];
    let out = sweep_in_task(&args, &slurm);
    let json = json_of(&out);
    assert_eq!(json["shard"], "3/4");
    assert_eq!(json["shard_from"]["scheduler"], "slurm");
    assert_eq!(json["shard_from"]["from"][0], "SLURM_ARRAY_TASK_ID=2");
    assert!(String::from_utf8_lossy(&out.stderr).contains("shard 3/4 from SLURM_ARRAY_TASK_ID=2"));
    let mut with_count = args.to_vec();
    with_count.extend(["--shards", "4"]);
    let out = sweep_in_task(&with_count, &[("JOB_COMPLETION_INDEX", "0")]);
    assert_eq!(json_of(&out)["shard"], "1/4");
    for (args, vars, says) in [
        (
            &args[..],
            &[][..],
            "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT",
        ),
        (
            &args[..],
            &[("JOB_COMPLETION_INDEX", "1")][..],
            "give --shards N",
        ),
        (&with_count[..], &slurm[..], "--shards 4 but the array has"),
    ] {
        let out = sweep_in_task(args, vars);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if vars.len() == 3 {
            // --shards 4 with 4 tasks is consistent: it runs.
            assert!(out.status.success(), "{stderr}");
            continue;
        }
        assert_eq!(out.status.code(), Some(2), "{vars:?}: {stderr}");
        assert!(stderr.contains(says), "{vars:?}: {stderr}");
    }
}

#[test]
fn sweep_slurm_refuses_options_that_do_not_apply() {
    let p = profile();
    for (extra, says) in [
        (&["-o", "x"][..], "does not take -o"),
        (&["--shard", "1/2"][..], "does not take --shard"),
        (&["--time", "1h"][..], "--time \"1h\""),
        (&["--shards", "1000"][..], "--shards 1000: need 1 to 16"),
    ] {
        let mut args = vec![
            "sweep",
            "slurm",
            "--profile",
            &p,
            "--rates",
            "0.1,0.2",
            "--seeds",
            "2",
        ];
        args.extend(["--out-dir", "/nonexistent/out"]);
        args.extend(extra);
        let out = expost(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
    }
    let out = expost(&["sweep", "slurm", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--dependency=afterok") && help.contains("sh sweep.sh"),
        "{help}"
    );
    let out = expost(&[
        "sweep",
        "slurm",
        "--profile",
        &p,
        "--out-dir",
        "/data/my sweep",
        "--shards",
        "3",
        "--expost",
        "/opt/expost",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(script.contains("out='/data/my sweep'"), "{script}");
    assert!(script.contains("--array=1-3"), "{script}");
    assert!(script.contains(&format!("--profile={p}")), "{script}");
}

#[test]
fn dash_output_writes_the_main_table_to_stdout() {
    let p3 = fixtures().join("bamboo-traces/traces/p3-trace.csv");
    let out = expost(&["traces", p3.to_str().unwrap(), "-o", "-"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("file,format,duration_h,"));
    assert_eq!(lines.count(), 1, "{text}");
    let out = expost(&[
        "sweep",
        "--profile",
        &profile(),
        "--rates",
        "0.1",
        "--seeds",
        "2",
        "--hours",
        "2",
        "-o",
        "-",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // 4 strategies (the default) × 2 seeds.
    assert_eq!(text.lines().count(), 1 + 4 * 2, "{text}");
}

#[test]
fn the_sweep_table_has_the_same_columns_in_csv_and_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let out = expost(&[
        "sweep",
        "--profile",
        &profile(),
        "--rates",
        "0.1",
        "--seeds",
        "2",
        "--hours",
        "2",
        "-q",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let columns = |path: &str| -> Vec<String> {
        let entry = manifest["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["path"] == path)
            .unwrap_or_else(|| panic!("{path} is not in the manifest"));
        entry["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect()
    };
    let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    let header: Vec<String> = csv
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    assert_eq!(header.len(), 24);
    assert_eq!(columns("sweep.csv"), header);
    assert_eq!(columns("sweep.parquet"), header);
}

#[test]
fn a_saved_traces_study_reruns_to_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let p3 = fixtures().join("bamboo-traces/traces/p3-trace.csv");
    let gcloud = fixtures().join("bamboo-traces/traces/gcloud/a100x1-east1b.txt");
    let (study, text) = save_study(
        &[
            "traces",
            p3.to_str().unwrap(),
            gcloud.to_str().unwrap(),
            "--step-unit",
            "s",
        ],
        &out_dir,
    );
    assert!(
        text.contains("[traces]") && text.contains("step_unit = \"s\""),
        "{text}"
    );
    assert!(text.contains("p3-trace.csv"), "{text}");
    assert!(out_dir.join("traces.parquet").is_file());
    rerun_reproduces(&study, &out_dir);
}

#[test]
fn a_saved_simulate_study_reruns_to_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let trace = fixtures()
        .join("bamboo-simulation/traces/trace--full-64-node-trace/full-64-node-trace.csv");
    let (study, text) = save_study(
        &[
            "simulate",
            "--profile",
            &profile(),
            "--model",
            "tick",
            "--trace",
            trace.to_str().unwrap(),
            "--hours",
            "2",
            "--seed",
            "7",
        ],
        &out_dir,
    );
    assert!(
        text.contains("[simulate]")
            && text.contains("model = \"tick\"")
            && text.contains("seed = 7"),
        "{text}"
    );
    assert!(out_dir.join("tick-trace.csv").is_file());
    let first = std::fs::read(out_dir.join("simulate.json")).unwrap();
    rerun_reproduces(&study, &out_dir);
    // `expost run --json` prints what simulate.json holds.
    let out = expost(&["run", study.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    assert_eq!(
        json_of(&out),
        serde_json::from_slice::<serde_json::Value>(&first).unwrap()
    );
}

#[test]
fn a_saved_sweep_study_reruns_to_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let (study, text) = save_study(
        &[
            "sweep",
            "--profile",
            &profile(),
            "--strategies",
            "checkpoint-restart,redundant",
            "--rates",
            "0.05,0.3",
            "--intervals",
            "auto,900",
            "--seeds",
            "2",
            "--hours",
            "2",
        ],
        &out_dir,
    );
    let saved: toml::Value = toml::from_str(&text).unwrap();
    let sweep = &saved["sweep"];
    assert_eq!(
        sweep["intervals"],
        toml::Value::Array(vec!["auto".into(), 900.0.into()]),
        "{text}"
    );
    assert_eq!(
        sweep["strategies"],
        toml::Value::Array(vec!["checkpoint-restart".into(), "redundant".into()]),
        "{text}"
    );
    assert!(out_dir.join("time_split_redundant_900s.svg").is_file());
    rerun_reproduces(&study, &out_dir);
}

/// The notebook's way: additions fitted to the node trace, preemptions to
/// the terminate trace; its parameters in the JSON and on the terminal,
/// given values in place of fitted ones, said.
#[test]
fn tick_takes_the_notebooks_two_traces_or_given_parameters() {
    let traces = fixtures().join("bamboo-simulation/traces/trace--full-64-node-trace");
    let node = traces.join("full-64-node-trace.csv");
    let terminate = traces.join("full-64-terminate-trace.csv");
    let out = expost(&[
        "simulate",
        "--profile",
        &profile(),
        "--model",
        "tick",
        "--nodes",
        "32",
        "--hours",
        "1",
        "--add-trace",
        node.to_str().unwrap(),
        "--remove-trace",
        terminate.to_str().unwrap(),
        "--add-burst",
        "3:1",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let g = &v["generator"];
    let close = |key: &str, want: f64| {
        let got = g["params"][key].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{key}: {got} vs {want}");
    };
    close("preempt_chance", 0.16338028169014085);
    close("preempt_mean", 2.413793103448276);
    close("preempt_std", 2.086165648825032);
    close("add_chance", 0.14366197183098592);
    close("add_mean", 3.0);
    close("add_std", 1.0);
    close("big_add_chance", 0.05);
    let source = g["source"].as_str().unwrap();
    assert!(
        source.contains("(additions) and") && source.contains("given: --add-burst"),
        "{source}"
    );
    assert!(v["tick_events"].as_u64().unwrap() > 0);
    assert!(v["tick_reconfigurations"].is_u64());
    // Its result: progress, the time split, the cluster's changes and cost.
    let r = &v["tick_result"];
    assert_eq!(r["wall_s"], 3600.0);
    let split: f64 = [
        "useful_s",
        "reconfiguration_s",
        "rollback_s",
        "waiting_s",
        "other_s",
    ]
    .iter()
    .map(|k| r[k].as_f64().unwrap())
    .sum();
    assert!((split - 3600.0).abs() < 1e-6, "{r}");
    assert!(
        r["samples"].as_f64().unwrap() > 0.0 && r["cost_spot"].as_f64().unwrap() > 0.0,
        "{r}"
    );
}

/// `--generated`: the per-minute traces the notebook's generator cell
/// writes, drawn with the simulation's parameters.
#[test]
fn generated_per_minute_traces_are_written_on_request() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = expost(&[
        "simulate",
        "--profile",
        &profile(),
        "--model",
        "minute",
        "--remove-chance",
        "0.5",
        "--remove-burst",
        "2:1",
        "--add-chance",
        "0.25",
        "--add-burst",
        "3:1",
        "--hours",
        "10",
        "--generated",
        "-o",
        out_dir.path().to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = |name: &str| {
        let text = std::fs::read_to_string(out_dir.path().join(name)).unwrap();
        text.lines().skip(1).count()
    };
    let header = std::fs::read_to_string(out_dir.path().join("generated-preemptions.csv")).unwrap();
    assert!(header.starts_with("minute,preemptions\n"), "{header}");
    // 600 minutes at chances 0.5 and 0.25.
    assert!((250..350).contains(&rows("generated-preemptions.csv")));
    assert!((110..190).contains(&rows("generated-additions.csv")));
}

/// `--only` chooses the grid points drawn (by strategy, interval or rate)
/// and `--label` names strategies; tables keep every point; a parameter or
/// value the grid does not have exits 2; `sweep merge` takes both, and
/// `sweep slurm` hands them to the merge job.
#[test]
fn sweep_figures_draw_the_points_and_labels_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    let profile = profile();
    let sweep = |extra: &[&str]| {
        let mut args = vec![
            "sweep",
            "--profile",
            &profile,
            "--strategies",
            "reconfigure,checkpoint-restart,redundant",
            "--rates",
            "0.05,0.1,0.3",
            "--seeds",
            "2",
            "--hours",
            "2",
            "-q",
        ];
        args.extend_from_slice(extra);
        expost(&args)
    };
    let chosen = [
        "--only",
        "strategy=redundant,reconfigure",
        "--only",
        "rate=0.05,0.3",
        "--label",
        "strategy=redundant:Bamboo",
    ];
    let out = sweep(&[&chosen[..], &["-o", &d("chosen")]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chosen_dir = dir.path().join("chosen");
    let throughput = std::fs::read_to_string(chosen_dir.join("throughput.svg")).unwrap();
    assert!(
        throughput.contains("\nreconfigure\n")
            && throughput.contains("\nBamboo\n")
            && !throughput.contains("checkpoint-restart"),
        "the lines chosen, labelled"
    );
    assert!(!chosen_dir
        .join("time_split_checkpoint-restart.svg")
        .exists());
    let manifest = std::fs::read_to_string(chosen_dir.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("Share of wall time by cause: Bamboo"),
        "the chart's title takes the label"
    );
    let points = std::fs::read_to_string(chosen_dir.join("points.csv")).unwrap();
    assert_eq!(points.lines().count(), 1 + 9, "tables keep every point");

    for (bad, says) in [
        (
            &["--only", "strat=redundant"][..],
            "chosen by strategy or interval or rate, not \"strat\"",
        ),
        (
            &["--only", "rate=0.2"][..],
            "--only rate=0.2: no grid point has it",
        ),
        (
            &["--label", "interval=600:10 min"][..],
            "--label interval=600: no grid point has it",
        ),
        (&["--label", "strategy=redundant"][..], "PARAM=VALUE:TEXT"),
    ] {
        let out = sweep(&[bad, &["-o", &d("bad")]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(stderr.contains(says), "{bad:?}: {stderr}");
    }

    for (i, shard) in ["1/2", "2/2"].iter().enumerate() {
        let out = sweep(&["--shard", shard, "-o", &d(&format!("s{i}"))]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let merge = |extra: &[&str]| {
        let (s0, s1, merged) = (d("s0"), d("s1"), d("merged"));
        let mut args = vec!["sweep", "merge", &s0, &s1, "-o", &merged, "-q"];
        args.extend_from_slice(extra);
        expost(&args)
    };
    let out = merge(&chosen);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = std::fs::read_to_string(dir.path().join("merged/throughput.svg")).unwrap();
    assert_eq!(merged, throughput, "merge draws the same choice");
    let out = merge(&["--only", "rate=0.2"]);
    assert_eq!(out.status.code(), Some(2));

    let out = expost(&[
        "sweep",
        "slurm",
        "--profile",
        &profile,
        "--seeds",
        "4",
        "--out-dir",
        &d("slurm"),
        "--shards",
        "2",
        "--label",
        "strategy=redundant:Bamboo",
        "--ylim",
        "throughput=0:10",
        "--ylim",
        "value=0:5",
    ]);
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let task = script.lines().find(|l| l.starts_with("task=")).unwrap();
    let merge = script.lines().find(|l| l.starts_with("merge=")).unwrap();
    assert!(
        !task.contains("--label") && !task.contains("--ylim"),
        "{task}"
    );
    assert!(
        merge.contains("--label=strategy=redundant:Bamboo")
            && merge.contains("--ylim=throughput=0:10")
            && merge.contains("--ylim=value=0:5"),
        "{merge}"
    );
}
