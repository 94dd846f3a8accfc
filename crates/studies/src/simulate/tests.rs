use super::*;
use crate::study::{fixtures, run_here};

fn settings() -> SimSettings {
    SimSettings {
        profile: fixtures().join("preemption/bamboo-simulation/profiling-runs/run-86"),
        hours: 4.0,
        nodes: 64,
        max_instances: 64,
        pipeline_depth: None,
        prep_s: 180.0,
        redundancy_overhead: 0.1,
        degraded_slowdown: 1.5,
        spot_price: 0.91,
        on_demand_price: 3.06,
        rounded: false,
    }
}

fn study(model: ModelKind) -> SimulateStudy {
    SimulateStudy {
        settings: settings(),
        model,
        strategy: Strategy::Reconfigure,
        rate: 0.2,
        replace_delay_s: 0.0,
        trace: (model != ModelKind::Poisson).then(|| {
            fixtures().join(
                "preemption/bamboo-simulation/traces/trace--full-64-node-trace/full-64-node-trace.csv",
            )
        }),
        offset_s: 0.0,
        time_scale: 1.0,
        checkpoint_interval_s: 0.0,
        world_size: None,
        generator: super::GivenGenerator::default(),
        generated: false,
        seed: 3,
    }
}

#[test]
fn options_are_checked_before_any_input_is_read() {
    let mut s = study(ModelKind::Poisson);
    s.settings.profile = "/nonexistent".into();
    assert_eq!(s.check(), Ok(()));
    s.rate = -1.0;
    assert!(s.check().unwrap_err().contains("must be a number ≥ 0"));
    s.rate = 0.1;
    s.settings.pipeline_depth = Some(128);
    assert!(s.check().unwrap_err().contains("pipeline depth 128"));
    s.settings.pipeline_depth = None;
    s.strategy = Strategy::CheckpointRestart;
    assert!(s.check().unwrap_err().contains("interval > 0"));
    let mut s = study(ModelKind::Replay);
    s.time_scale = 0.0;
    assert!(s.check().unwrap_err().contains("--time-scale"));
    s.trace = None;
    assert!(s.check().unwrap_err().contains("needs --trace"));
    // The profile's depth is known once it is read: still the options' fault.
    let mut s = study(ModelKind::Poisson);
    s.settings.nodes = 8;
    s.settings.max_instances = 8;
    assert_eq!(s.check(), Ok(()));
    assert!(matches!(s.discover(), Err(StudyError::Usage(m)) if m.contains("pipeline depth 16")));
}

#[test]
fn one_simulation_whose_time_split_sums_to_the_wall_time() {
    let s = study(ModelKind::Poisson);
    let simulated = run_here(&s, false).unwrap();
    let result = simulated.simulation.result.unwrap();
    assert!((result.split.total() - 4.0 * 3600.0).abs() < 1e-6);
    assert!(result.preemptions > 0);
    assert_eq!(s.failed_units(&simulated), 0);
    // The profile's notes are the study's.
    assert!(!simulated.diagnostics.is_empty());
    assert!(s.outputs(&simulated, &Provenance::default()).is_empty());
    assert!(s.stdout_table(&simulated).is_none());
    let mut json = Vec::new();
    s.write_json(&simulated, &Provenance::default(), &mut json)
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value["model"], "poisson");
    assert_eq!(value["seed"], 3);
    assert!(value["tick_events"].is_null());
    assert!(s
        .terminal(&simulated)
        .starts_with("strategy reconfigure, model poisson, seed 3\n"));
    // The same seed, the same simulation.
    let again = run_here(&s, false).unwrap();
    assert_eq!(again.simulation.result, simulated.simulation.result);
}

#[test]
fn an_interrupted_simulation_stops_early() {
    // Long enough for thousands of events: the flag is looked at now and then.
    let mut s = study(ModelKind::Poisson);
    s.settings.hours = 24.0 * 30.0;
    let unit = s.discover().unwrap().units.pop().unwrap();
    let flag = std::sync::atomic::AtomicBool::new(true);
    let simulation = s.analyse(&unit, &Context::new(&flag));
    assert!(simulation.result.is_none());
}

#[test]
fn the_tick_model_writes_its_trace() {
    let s = study(ModelKind::Tick);
    let simulated = run_here(&s, false).unwrap();
    let events = simulated.simulation.tick.as_ref().unwrap();
    assert!(!events.is_empty());
    assert_eq!(simulated.simulation.model, "tick");
    let generator = simulated.simulation.generator.as_ref().unwrap();
    assert!(generator.source.starts_with("fitted to "), "{generator:?}");
    let provenance = Provenance::default();
    let outputs = s.outputs(&simulated, &provenance);
    assert_eq!(outputs[0].file_names(), ["tick-trace.csv"]);
    let table = s.stdout_table(&simulated).unwrap().next().unwrap();
    assert_eq!(table.rows(), events.len());
    assert!(s
        .terminal(&simulated)
        .contains(&format!("tick trace: {} events", events.len())));
}

#[test]
fn a_trace_that_cannot_be_replayed_is_an_input_error() {
    let mut s = study(ModelKind::Replay);
    s.trace = Some(fixtures().join(
        "preemption/bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv",
    ));
    assert!(matches!(s.discover(), Err(StudyError::Input(m)) if m.contains("cannot be replayed")));
}
