use super::Strategy;
use super::*;
use crate::metrics::{young_daly_interval, young_daly_waste};
use crate::model::{MinuteModel, MinuteParams, Poisson, Replay};
use crate::sweep::{self, Shard, SweepSpec};
use expost_model::spot::{NodeEvent, Trace, TraceFormat};
use proptest::prelude::{
    any, prop_assert, prop_assume, prop_oneof, proptest, Just, ProptestConfig,
};
use rand::SeedableRng;

fn profile() -> Profile {
    Profile {
        reconfiguration_s: 88.0,
        checkpoint_save_s: 89.0,
        checkpoint_load_s: 47.0,
        iteration_s: [(16, 18.0), (32, 11.0), (48, 9.0), (64, 8.0)]
            .into_iter()
            .collect(),
        global_batch: 288,
        pipeline_depth: Some(16),
    }
}

fn rng(seed: u64) -> SimRng {
    SimRng::seed_from_u64(seed)
}

#[test]
fn no_preemptions_gives_batch_over_iteration_time_exactly() {
    for strategy in [
        Strategy::Reconfigure,
        Strategy::CheckpointRestart,
        Strategy::Redundant,
        Strategy::ElasticRestart,
    ] {
        let cfg = SimConfig {
            strategy,
            initial_nodes: 64,
            checkpoint_interval_s: if strategy.restarts() { 1e9 } else { 0.0 },
            redundancy_overhead: 0.0,
            ..SimConfig::default()
        };
        cfg.validate(&profile()).unwrap();
        let mut model = Poisson::new(0.0, 0.0).unwrap();
        let r = simulate(&cfg, &profile(), &mut model, &mut rng(1));
        assert_eq!(r.throughput, 288.0 / 8.0, "{strategy:?}");
        assert_eq!(r.split.useful_s, cfg.duration_s);
        assert_eq!(r.preemptions, 0);
    }
}

#[test]
fn async_checkpoints_run_back_to_back_without_stalling() {
    let cfg = SimConfig {
        initial_nodes: 32,
        duration_s: 3600.0,
        ..SimConfig::default()
    };
    let mut model = Poisson::new(0.0, 0.0).unwrap();
    let r = simulate(&cfg, &profile(), &mut model, &mut rng(1));
    // Each checkpoint starts at the first iteration end after the previous
    // (89 s, so every 99 s at 11 s per iteration), the first after iteration 1.
    assert_eq!(r.checkpoints, ((3600.0 - 11.0 - 89.0) / 99.0) as u64 + 1);
    assert_eq!(r.split.checkpoint_stall_s, 0.0);
}

/// Checkpoint-restart under Poisson preemptions: the mean wasted fraction
/// over many seeds matches the first-order Young/Daly expression.
#[test]
fn checkpoint_restart_waste_matches_young_daly_within_5_percent() {
    let (rel, mean, expected) = young_daly_gap(60.0, 47.0, 4, 0.02, 180.0, 1.0);
    assert!(
        rel < 0.05,
        "simulated {mean:.5}, Young/Daly {expected:.5} ({:.1} %)",
        rel * 100.0
    );
}

/// The same on other settings: a costlier checkpoint, more nodes, a lower
/// rate, a shorter preparation, and intervals at and off the optimum.
#[test]
fn young_daly_holds_on_other_settings_and_intervals() {
    for (save, load, nodes, rate, prep, at) in [
        (120.0, 30.0, 8, 0.01, 60.0, 1.0),
        (120.0, 30.0, 8, 0.01, 60.0, 0.5),
        (30.0, 90.0, 2, 0.05, 300.0, 2.0),
    ] {
        let (rel, mean, expected) = young_daly_gap(save, load, nodes, rate, prep, at);
        assert!(
            rel < 0.05,
            "δ {save} s, {nodes} nodes at {rate}/h, interval ×{at}: simulated {mean:.5}, Young/Daly {expected:.5} ({:.1} %)",
            rel * 100.0
        );
    }
}

/// Checkpoint-restart under Poisson preemptions at `at` × Young's interval,
/// over 400 seeds of 30 days: the relative gap between the mean wasted
/// fraction and Young/Daly's first-order expression, and both.
fn young_daly_gap(
    save: f64,
    load: f64,
    nodes: u32,
    rate: f64,
    prep: f64,
    at: f64,
) -> (f64, f64, f64) {
    let p = Profile {
        reconfiguration_s: 0.0,
        checkpoint_save_s: save,
        checkpoint_load_s: load,
        iteration_s: [(nodes, 1.0)].into_iter().collect(),
        global_batch: 1,
        pipeline_depth: None,
    };
    let mtbf = 3600.0 / (rate * f64::from(nodes));
    let tau = young_daly_interval(p.checkpoint_save_s, mtbf) * at;
    let cfg = SimConfig {
        strategy: Strategy::CheckpointRestart,
        duration_s: 30.0 * 86_400.0,
        initial_nodes: nodes,
        max_instances: nodes,
        pipeline_depth: 1,
        prep_s: prep,
        checkpoint_interval_s: tau,
        ..SimConfig::default()
    };
    cfg.validate(&p).unwrap();
    let seeds = 400;
    let mean: f64 = (0..seeds)
        .map(|s| {
            let mut model = Poisson::new(rate, 0.0).unwrap();
            let r = simulate(&cfg, &p, &mut model, &mut sweep::rng_for(7, 0, s));
            r.split.wasted_fraction()
        })
        .sum::<f64>()
        / f64::from(seeds);
    let expected = young_daly_waste(
        tau,
        p.checkpoint_save_s,
        cfg.prep_s + p.checkpoint_load_s,
        mtbf,
    );
    ((mean - expected).abs() / expected, mean, expected)
}

fn replay_trace() -> Trace {
    let mut events = Vec::new();
    for i in 0..40u32 {
        events.push(NodeEvent {
            t: 600.0 * f64::from(i),
            delta: if i % 3 == 0 { 5 } else { -2 },
            node: None,
        });
    }
    Trace {
        format: TraceFormat::NodeCount,
        start_epoch: None,
        duration: 24_000.0,
        initial: 40,
        events,
    }
}

#[test]
fn trace_replay_is_identical_across_runs() {
    let cfg = SimConfig {
        initial_nodes: 40,
        duration_s: 20_000.0,
        ..SimConfig::default()
    };
    let run = || {
        let mut model = Replay::new(&replay_trace(), 0.0, 1.0).unwrap();
        simulate(&cfg, &profile(), &mut model, &mut rng(3))
    };
    let first = run();
    assert!(first.preemptions > 0 && first.reconfigurations > 0);
    assert_eq!(first, run());
}

#[test]
fn sweeps_are_identical_whatever_the_thread_count_and_sharding() {
    let spec = SweepSpec {
        base: SimConfig {
            initial_nodes: 64,
            duration_s: 6.0 * 3600.0,
            ..SimConfig::default()
        },
        strategies: vec![
            Strategy::Reconfigure,
            Strategy::CheckpointRestart,
            Strategy::Redundant,
        ],
        rates: vec![0.05, 0.2],
        intervals: vec![None],
        seeds: 6,
        base_seed: 11,
        replace_delay_s: 0.0,
    };
    let p = profile();
    spec.validate(&p).unwrap();
    let on = |threads: usize, shard: Shard| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| sweep::run(&spec, &p, shard, &|| {}))
    };
    let one = on(1, Shard::default());
    assert_eq!(one, on(2, Shard::default()));
    let shards = vec![
        on(2, Shard { index: 2, count: 3 }),
        on(1, Shard { index: 1, count: 3 }),
        on(2, Shard { index: 3, count: 3 }),
    ];
    let merged = sweep::merge(&[spec.clone(), spec.clone(), spec.clone()], shards, &p).unwrap();
    assert_eq!(one, merged);
    let missing = sweep::merge(
        std::slice::from_ref(&spec),
        vec![on(1, Shard { index: 1, count: 2 })],
        &p,
    );
    assert!(matches!(missing, Err(sweep::MergeError::Incomplete { .. })));
}

#[test]
fn nonsense_parameters_are_refused() {
    let p = profile();
    let deep = SimConfig {
        pipeline_depth: 80,
        ..SimConfig::default()
    };
    assert!(deep
        .validate(&p)
        .unwrap_err()
        .0
        .contains("pipeline depth 80"));
    let big = SimConfig {
        pipeline_depth: 32,
        max_instances: 16,
        initial_nodes: 16,
        ..SimConfig::default()
    };
    assert!(big
        .validate(&p)
        .unwrap_err()
        .0
        .contains("larger than the cluster"));
    assert!(Poisson::new(-0.1, 0.0)
        .unwrap_err()
        .0
        .contains("must be a number ≥ 0"));
}

fn strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    prop_oneof![
        Just(Strategy::Reconfigure),
        Just(Strategy::CheckpointRestart),
        Just(Strategy::Redundant)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn time_split_sums_to_wall_time(
        strategy in strategy(),
        rate in 0.0f64..2.0,
        nodes in 1u32..64,
        depth in 1u32..17,
        interval in 0.0f64..3000.0,
        seed in any::<u64>(),
        minute in any::<bool>(),
    ) {
        let depth = depth.min(nodes);
        let cfg = SimConfig {
            strategy,
            duration_s: 8.0 * 3600.0,
            initial_nodes: nodes,
            pipeline_depth: depth,
            checkpoint_interval_s: if strategy == Strategy::CheckpointRestart { interval.max(1.0) } else { interval },
            ..SimConfig::default()
        };
        prop_assume!(cfg.validate(&profile()).is_ok());
        let r = if minute {
            let params = MinuteParams { period_s: 60.0, preempt_chance: rate / 4.0, preempt_mean: 2.4, preempt_std: 2.1,
                add_chance: rate / 3.0, big_add_chance: 0.05, add_mean: 2.5, add_std: 1.9 };
            let mut model = MinuteModel::new(params).unwrap();
            simulate(&cfg, &profile(), &mut model, &mut rng(seed))
        } else {
            let mut model = Poisson::new(rate, 60.0).unwrap();
            simulate(&cfg, &profile(), &mut model, &mut rng(seed))
        };
        let s = r.split;
        prop_assert!((s.total() - cfg.duration_s).abs() < 1e-6 * cfg.duration_s, "{s:?}");
        for part in [s.useful_s, s.reconfiguration_s, s.rollback_s, s.checkpoint_stall_s, s.waiting_s] {
            prop_assert!(part >= -1e-6, "{s:?}");
        }
        prop_assert!(r.iterations >= 0.0);
    }
}

/// Nodes added together become ready together, at the very instant of a
/// preemption: one change of membership, one reconfiguration (two before:
/// each change at that instant counted on its own).
#[test]
fn changes_at_one_instant_make_one_reconfiguration() {
    let trace = Trace {
        format: TraceFormat::NodeCount,
        start_epoch: None,
        duration: 3600.0,
        initial: 32,
        events: vec![
            NodeEvent {
                t: 600.0,
                delta: 16,
                node: None,
            },
            // When the 16 are ready (180 s of preparation).
            NodeEvent {
                t: 780.0,
                delta: -3,
                node: None,
            },
        ],
    };
    for seed in 0..20 {
        let cfg = SimConfig {
            strategy: Strategy::Reconfigure,
            initial_nodes: 32,
            duration_s: 3600.0,
            ..SimConfig::default()
        };
        let mut model = Replay::new(&trace, 0.0, 1.0).unwrap();
        let r = simulate(&cfg, &profile(), &mut model, &mut rng(seed));
        assert_eq!(r.preemptions, 3);
        assert_eq!(r.reconfigurations, 1, "seed {seed}");
    }
}

/// With one pipeline, elastic restart cannot run on fewer nodes: it waits
/// for the full world as checkpoint-restart does, to the last number.
#[test]
fn elastic_restart_with_a_constant_world_size_equals_checkpoint_restart() {
    for seed in 0..10 {
        let run = |strategy| {
            let cfg = SimConfig {
                strategy,
                initial_nodes: 16,
                max_instances: 32,
                duration_s: 12.0 * 3600.0,
                checkpoint_interval_s: 900.0,
                ..SimConfig::default()
            };
            cfg.validate(&profile()).unwrap();
            let mut model = Poisson::new(0.2, 60.0).unwrap();
            simulate(&cfg, &profile(), &mut model, &mut rng(seed))
        };
        let (elastic, restart) = (
            run(Strategy::ElasticRestart),
            run(Strategy::CheckpointRestart),
        );
        assert!(restart.rollbacks > 0, "seed {seed}: no failure simulated");
        assert_eq!(elastic, restart, "seed {seed}");
    }
}

/// Short of nodes, elastic restart trains on what is left while
/// checkpoint-restart waits, and grows back once nodes return.
#[test]
fn elastic_restart_trains_on_the_nodes_left_and_grows_back() {
    let trace = Trace {
        format: TraceFormat::NodeCount,
        start_epoch: None,
        duration: 4.0 * 3600.0,
        initial: 64,
        events: vec![
            NodeEvent {
                t: 3600.0,
                delta: -20,
                node: None,
            },
            NodeEvent {
                t: 7200.0,
                delta: 20,
                node: None,
            },
        ],
    };
    let run = |strategy| {
        let cfg = SimConfig {
            strategy,
            initial_nodes: 64,
            duration_s: 4.0 * 3600.0,
            checkpoint_interval_s: 600.0,
            ..SimConfig::default()
        };
        let mut model = Replay::new(&trace, 0.0, 1.0).unwrap();
        simulate(&cfg, &profile(), &mut model, &mut rng(1))
    };
    let (elastic, restart) = (
        run(Strategy::ElasticRestart),
        run(Strategy::CheckpointRestart),
    );
    assert!(
        elastic.samples > restart.samples * 1.1,
        "elastic {} vs checkpoint-restart {}",
        elastic.samples,
        restart.samples
    );
    // It ran smaller for a while and grew back: more restarts than losses.
    assert!(elastic.reconfigurations >= 2, "{elastic:?}");
    assert!(elastic.split.waiting_s < restart.split.waiting_s);
}
