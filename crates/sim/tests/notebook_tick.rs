//! `--model tick` replays the notebook's own random draws (recorded by
//! bench/baseline_bamboo.py) and must give the notebook's trace of steps
//! and reconfigurations, event for event.

use expost_formats::profile::read_run;
use expost_model::Diagnostics;
use expost_sim::tick::{self, Recorded, TickParams};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/preemption")
}

fn expected_trace() -> Vec<(u32, i64, bool, u64)> {
    let text = std::fs::read_to_string(fixtures().join("notebook-tick/trace.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2] == "reconfig",
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn tick_mode_with_the_notebooks_draws_gives_the_notebooks_trace() {
    let params: TickParams = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("notebook-tick/params.json")).unwrap(),
    )
    .unwrap();
    let mut diags = Diagnostics::default();
    let profile = read_run(
        &fixtures().join("bamboo-simulation/profiling-runs/run-86"),
        &mut diags,
    )
    .unwrap();
    let mut draws = Recorded::parse(
        &std::fs::read_to_string(fixtures().join("notebook-tick/draws.txt")).unwrap(),
    )
    .unwrap();
    let trace = tick::run(&params, &profile, &mut draws).unwrap();
    let got: Vec<(u32, i64, bool, u64)> = trace
        .iter()
        .map(|e| (e.ws, e.t_us, e.reconfig, e.id))
        .collect();
    let want = expected_trace();
    assert!(
        want.iter().filter(|e| e.2).count() > 10,
        "the recording must exercise reconfigurations"
    );
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "event {i} differs");
    }
    assert_eq!(got.len(), want.len());
    assert_eq!(draws.remaining(), 0, "every recorded draw is used");
}

#[test]
fn the_notebook_profile_reads_as_the_notebook_printed_it() {
    let mut diags = Diagnostics::default();
    let p = read_run(
        &fixtures().join("bamboo-simulation/profiling-runs/run-86"),
        &mut diags,
    )
    .unwrap();
    assert!((p.reconfiguration_s - 87.87109575271606).abs() < 1e-9);
    assert!((p.checkpoint_save_s - 88.99610565625704).abs() < 1e-9);
    assert!((p.checkpoint_load_s - 46.83130866289139).abs() < 1e-9);
    assert!((p.iteration_s[&16] - 17.994171783779606).abs() < 1e-9);
    assert!((p.iteration_s[&64] - 8.282614257155346).abs() < 1e-9);
    assert_eq!((p.global_batch, p.pipeline_depth), (288, Some(16)));
}

#[test]
fn a_profile_missing_a_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("bamboo-simulation/profiling-runs/run-86");
    for f in ["reconfig.csv", "loop_times_0.csv", "async-checkpoint_0.csv"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let err = read_run(dir.path(), &mut Diagnostics::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("load_times_0.csv") && err.contains("could not read"),
        "{err}"
    );
    std::fs::write(dir.path().join("loop_times_0.csv"), "").unwrap();
    std::fs::copy(
        src.join("load_times_0.csv"),
        dir.path().join("load_times_0.csv"),
    )
    .unwrap();
    let err = read_run(dir.path(), &mut Diagnostics::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no iteration time for any world size"),
        "{err}"
    );
}

/// The notebook's cells fit its generator to the node trace (additions)
/// and the terminate trace (preemptions): the same numbers as its own run
/// recorded in params.json.
#[test]
fn the_notebooks_fit_of_two_traces_gives_its_recorded_parameters() {
    use expost_formats::spot_trace::{self, ReadOptions};
    let dir = fixtures().join("bamboo-simulation/traces/trace--full-64-node-trace");
    let read = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let mut d = expost_model::Diagnostics::default();
        spot_trace::parse(&bytes[..], ReadOptions::default(), &mut d).unwrap()
    };
    let fit = expost_sim::model::fit_notebook(
        &read("full-64-node-trace.csv"),
        &read("full-64-terminate-trace.csv"),
    )
    .unwrap();
    let want: TickParams = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("notebook-tick/params.json")).unwrap(),
    )
    .unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(
        close(fit.preempt_chance, want.preemption_chance_per_minute),
        "{fit:?}"
    );
    assert!(close(fit.preempt_mean, want.preempt_mean), "{fit:?}");
    assert!(close(fit.preempt_std, want.preempt_std), "{fit:?}");
    assert!(
        close(fit.add_chance, want.addition_chance_per_minute),
        "{fit:?}"
    );
    assert!(close(fit.add_mean, want.add_mean), "{fit:?}");
    assert!(close(fit.add_std, want.add_std), "{fit:?}");
    // The notebook prints 0.0588 for the share of big additions (1 of 17).
    assert!(close(fit.big_add_chance, 1.0 / 17.0), "{fit:?}");
    assert_eq!(want.big_add_chance, 0.05);
}

/// The notebook's run, counted: the same trace, and an outcome whose time
/// split accounts for the wall time (the rest is at most the iteration
/// under way and the ticks that notice iteration ends).
#[test]
fn the_counted_run_gives_the_same_trace_and_an_outcome_that_adds_up() {
    let params: TickParams = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("notebook-tick/params.json")).unwrap(),
    )
    .unwrap();
    let profile = read_run(
        &fixtures().join("bamboo-simulation/profiling-runs/run-86"),
        &mut expost_model::Diagnostics::default(),
    )
    .unwrap();
    for seed in 0..20 {
        let mut live = tick::Live::new(expost_sim::model::seeded(seed));
        let (trace, outcome) = tick::run_counted(&params, &profile, &mut live).unwrap();
        let mut again = tick::Live::new(expost_sim::model::seeded(seed));
        assert_eq!(trace, tick::run(&params, &profile, &mut again).unwrap());
        assert_eq!(outcome.wall_s, 355.0 * 60.0);
        assert_eq!(
            outcome.reconfigurations,
            trace.iter().filter(|e| e.reconfig).count() as u64
        );
        let steps = trace.iter().filter(|e| !e.reconfig).count() as u64;
        assert!(outcome.iterations < steps, "seed {seed}: {outcome:?}");
        // Each iteration ends at most one 5-second tick before it is seen.
        let slack = 5.0 * (outcome.iterations + outcome.reconfigurations) as f64 + 20.0;
        assert!(
            outcome.other_s >= -1e-6 && outcome.other_s <= slack,
            "seed {seed}: {outcome:?}"
        );
        let priced = outcome.priced(expost_sim::metrics::Prices::default());
        assert!(priced.cost_spot > 0.0 && priced.samples_per_dollar > 0.0);
    }
}
