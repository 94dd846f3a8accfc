use super::*;
use crate::choice::FigureChoice;
use crate::study::{fixtures, run_here};
use expost_render::figure::Figure;
use expost_render::output::Content;
use expost_render::table::Csv;

fn study(shard: Shard) -> SweepStudy {
    SweepStudy::new(
        SimSettings {
            profile: fixtures().join("preemption/bamboo-simulation/profiling-runs/run-86"),
            hours: 3.0,
            nodes: 64,
            max_instances: 64,
            pipeline_depth: None,
            prep_s: 180.0,
            redundancy_overhead: 0.1,
            degraded_slowdown: 1.5,
            spot_price: 0.91,
            on_demand_price: 3.06,
            rounded: false,
        },
        SweepGrid {
            strategies: vec![Strategy::CheckpointRestart, Strategy::Redundant],
            rates: vec![0.05, 0.3],
            intervals: vec![None, Some(900.0)],
            seeds: 3,
            base_seed: 5,
            replace_delay_s: 0.0,
        },
        shard,
    )
}

#[test]
fn the_units_are_this_shards_simulations_in_job_order() {
    let whole = study(Shard::default());
    let units = whole.discover().unwrap().units;
    assert_eq!(units.len(), 2 * 2 * 2 * 3);
    let keys: Vec<(u32, u32)> = units
        .iter()
        .map(|j| (j.point.index, j.seed_index))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    let shard = study(Shard { index: 2, count: 5 });
    let mine = shard.discover().unwrap().units;
    assert_eq!(mine.len(), 5);
    assert_eq!((mine[0].point.index, mine[0].seed_index), (0, 1));
}

#[test]
fn results_do_not_depend_on_the_order_units_are_analysed_in() {
    let s = study(Shard::default());
    let forward = run_here(&s, false).unwrap();
    let s = study(Shard::default());
    let backward = run_here(&s, true).unwrap();
    assert_eq!(forward.records, backward.records);
    let s = study(Shard::default());
    let provenance = Provenance::default();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    s.write_json(&forward, &provenance, &mut a).unwrap();
    s.write_json(&backward, &provenance, &mut b).unwrap();
    assert_eq!(a, b);
    assert_eq!(forward.summaries.len(), 8);
    assert_eq!(forward.optima.len(), 4);
    assert_eq!(s.headline(&forward), "24 simulations (8 grid points)");
}

#[test]
fn shards_combine_to_the_whole_sweep() {
    let whole = run_here(&study(Shard::default()), false).unwrap();
    let mut records: Vec<SweepRecord> = (1..=3)
        .flat_map(|index| {
            run_here(&study(Shard { index, count: 3 }), false)
                .unwrap()
                .records
        })
        .collect();
    records.sort_by_key(|r| (r.point, r.seed_index));
    assert_eq!(records, whole.records);
}

#[test]
fn the_sweep_table_is_what_merge_reads_back() {
    let result = run_here(&study(Shard { index: 1, count: 2 }), false).unwrap();
    let mut csv = Vec::new();
    Csv.write_to(&sweep_table(&result.records), &mut csv)
        .unwrap();
    assert_eq!(sweep::read_csv(&csv[..]).unwrap(), result.records);
    let header = String::from_utf8_lossy(&csv)
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(header.split(',').count(), 24, "{header}");
}

#[test]
fn a_shard_writes_what_merge_reads_and_a_whole_sweep_everything() {
    let provenance = Provenance::default();
    let s = study(Shard { index: 1, count: 2 });
    let shard = run_here(&s, false).unwrap();
    let names = |r: &SweepResult| -> Vec<String> {
        s.outputs(r, &provenance)
            .iter()
            .flat_map(|o| o.file_names())
            .collect()
    };
    assert_eq!(
        names(&shard),
        ["sweep-spec.json", "sweep.csv", "sweep.parquet"]
    );
    let whole = run_here(&study(Shard::default()), false).unwrap();
    let all = names(&whole);
    for name in [
        "points.csv",
        "optima.csv",
        "throughput.svg",
        "value.pdf",
        "time_split_redundant_auto.png",
        "time_split_checkpoint-restart_900s.svg",
    ] {
        assert!(all.contains(&name.to_string()), "{name}: {all:?}");
    }
}

#[test]
fn options_are_checked_before_the_profile_is_read() {
    let mut s = study(Shard::default());
    s.settings.profile = "/nonexistent".into();
    assert_eq!(s.check(), Ok(()));
    s.grid.rates.push(-1.0);
    assert!(s.check().unwrap_err().contains("must be a number ≥ 0"));
    s.grid.rates.pop();
    s.grid.intervals.push(Some(0.0));
    assert!(s.check().unwrap_err().contains("must be positive"));
    s.grid.intervals.pop();
    s.settings.nodes = 0;
    assert!(s.check().unwrap_err().contains("world size 0"));
    assert!(matches!(s.discover(), Err(StudyError::Input(m)) if m.contains("/nonexistent")));
}

/// Runs `study` and writes what merge reads (sweep-spec.json, sweep.csv) in `dir`.
fn write_shard(dir: &std::path::Path, study: &SweepStudy) -> std::path::PathBuf {
    let result = run_here(study, false).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let spec = serde_json::to_vec_pretty(&SpecFile::of(&result)).unwrap();
    std::fs::write(dir.join("sweep-spec.json"), spec).unwrap();
    let mut csv = Vec::new();
    Csv.write_to(&sweep_table(&result.records), &mut csv)
        .unwrap();
    std::fs::write(dir.join("sweep.csv"), csv).unwrap();
    dir.to_path_buf()
}

/// Shards 1..=3 of 3 of the test sweep, in folders of `root`.
fn three_shards(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    (1..=3)
        .map(|index| {
            write_shard(
                &root.join(format!("s{index}")),
                &study(Shard { index, count: 3 }),
            )
        })
        .collect()
}

#[test]
fn merge_takes_the_profile_from_the_shards_spec() {
    let root = tempfile::tempdir().unwrap();
    let dirs = three_shards(root.path());
    let whole = run_here(&study(Shard::default()), false).unwrap();
    let (_, merged) = read_shards(&dirs, MergeProfile::FromShards).unwrap();
    assert_eq!(merged.records, whole.records);
    assert_eq!(merged.profile, whole.profile);
    assert_eq!(merged.profile_path, whole.profile_path);
    assert_eq!(SpecFile::of(&merged), SpecFile::of(&whole));
    assert!(merged.diagnostics.is_empty(), "{:?}", merged.diagnostics);
    let given = whole.profile_path.clone();
    let (_, again) = read_shards(&dirs, MergeProfile::Given(&given)).unwrap();
    assert_eq!(again.records, whole.records);
    assert!(
        again
            .diagnostics
            .iter()
            .any(|d| d.message.contains("the same values")),
        "{:?}",
        again.diagnostics
    );
}

#[test]
fn a_missing_shard_is_named() {
    let root = tempfile::tempdir().unwrap();
    let dirs = three_shards(root.path());
    let err = read_shards(
        &[dirs[0].clone(), dirs[2].clone()],
        MergeProfile::FromShards,
    )
    .unwrap_err();
    assert!(matches!(&err, ShardsError::Missing { first, total: 1, count: 3 } if first == &[2]));
    assert_eq!(
        err.to_string(),
        "1 of 3 shards missing: 2 (each of the 3 shards must be given once)"
    );
    assert!(!err.is_usage());
}

#[test]
fn a_shard_given_twice_is_named() {
    let root = tempfile::tempdir().unwrap();
    let mut dirs = three_shards(root.path());
    let copy = root.path().join("s2 again");
    std::fs::create_dir(&copy).unwrap();
    for name in ["sweep-spec.json", "sweep.csv"] {
        std::fs::copy(dirs[1].join(name), copy.join(name)).unwrap();
    }
    dirs.push(copy);
    let err = read_shards(&dirs, MergeProfile::FromShards).unwrap_err();
    assert!(matches!(err, ShardsError::Duplicate { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("shard 2/3 is given twice") && text.contains("s2 again"),
        "{text}"
    );
}

#[test]
fn shards_of_different_sweeps_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let dirs = three_shards(root.path());
    let mut other = study(Shard { index: 2, count: 3 });
    other.grid.seeds = 4;
    other.settings.spot_price = 1.5;
    let odd = write_shard(&root.path().join("other"), &other);
    let err = read_shards(
        &[dirs[0].clone(), odd, dirs[2].clone()],
        MergeProfile::FromShards,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("base.prices.spot: 0.91 ≠ 1.5") && text.contains("seeds: 3 ≠ 4"),
        "{text}"
    );
    // Another expost version is another sweep too.
    let spec = dirs[1].join("sweep-spec.json");
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&spec).unwrap()).unwrap();
    value["expost_version"] = "0.0.1".into();
    std::fs::write(&spec, serde_json::to_vec(&value).unwrap()).unwrap();
    let err = read_shards(&dirs, MergeProfile::FromShards).unwrap_err();
    assert!(err.to_string().contains("expost_version"), "{err}");
    // As is another split of the same sweep.
    let half = write_shard(
        &root.path().join("half"),
        &study(Shard { index: 2, count: 2 }),
    );
    let err = read_shards(&[dirs[0].clone(), half], MergeProfile::FromShards).unwrap_err();
    assert!(matches!(err, ShardsError::Count { .. }), "{err}");
}

#[test]
fn spec_files_without_the_profile_need_profile_given() {
    let root = tempfile::tempdir().unwrap();
    let dirs = three_shards(root.path());
    for dir in &dirs {
        let path = dir.join("sweep-spec.json");
        let mut value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let map = value.as_object_mut().unwrap();
        for key in ["profile", "shard", "expost_version"] {
            map.remove(key);
        }
        std::fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
    }
    let err = read_shards(&dirs, MergeProfile::FromShards).unwrap_err();
    assert!(
        err.is_usage() && err.to_string().contains("give --profile"),
        "{err}"
    );
    let profile = study(Shard::default()).settings.profile;
    let (_, merged) = read_shards(&dirs, MergeProfile::Given(&profile)).unwrap();
    assert_eq!(merged.records.len(), 24);
    assert!(merged
        .diagnostics
        .iter()
        .any(|d| d.message.contains("does not say which shard")));
}

/// The figure `name` of a whole sweep's outputs, as built.
fn built_figure(study: &SweepStudy, result: &SweepResult, name: &str) -> Option<Figure> {
    let provenance = Provenance::default();
    let outputs = study.outputs(result, &provenance);
    let output = outputs.iter().find(|o| o.name == name)?;
    let figure = match (output.build)().unwrap() {
        Content::Figure(figure, _) => *figure,
        _ => panic!("{name} is not a line figure"),
    };
    Some(figure)
}

#[test]
fn only_and_label_choose_the_lines_and_points_drawn() {
    let rates = |strategy: &str, interval: &str| {
        let only = [
            format!("strategy={strategy}"),
            format!("interval={interval}"),
        ];
        let labels = [
            "strategy=redundant:Bamboo".to_string(),
            "interval=900.0:15 min".to_string(),
        ];
        FigureChoice::parse(&only, &labels, &SweepStudy::CHOICE_PARAMS).unwrap()
    };
    let whole = study(Shard::default());
    let result = run_here(&whole, false).unwrap();
    let chosen = study(Shard::default())
        .with_choice(rates("redundant", "900"))
        .unwrap();
    let figure = built_figure(&chosen, &result, "throughput").unwrap();
    let labels: Vec<&str> = figure.lines.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["Bamboo 15 min"]);
    assert_eq!(figure.lines[0].points.len(), 2, "both rates");
    let names: Vec<String> = chosen
        .outputs(&result, &Provenance::default())
        .iter()
        .map(|o| o.name.clone())
        .collect();
    assert!(
        names.contains(&"time_split_redundant_900s".to_string()),
        "files keep their names: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.starts_with("time_split_checkpoint")),
        "{names:?}"
    );

    let only_rate =
        FigureChoice::parse(&["rate=0.3".into()], &[], &SweepStudy::CHOICE_PARAMS).unwrap();
    let chosen = study(Shard::default()).with_choice(only_rate).unwrap();
    let figure = built_figure(&chosen, &result, "value").unwrap();
    assert_eq!(figure.lines.len(), 4);
    for line in &figure.lines {
        let xs: Vec<f64> = line.points.iter().map(|p| p.0).collect();
        assert_eq!(xs, [0.3], "{}", line.label);
    }

    let missing =
        FigureChoice::parse(&["interval=600".into()], &[], &SweepStudy::CHOICE_PARAMS).unwrap();
    let err = study(Shard::default()).with_choice(missing).unwrap_err();
    assert!(
        err.starts_with("--only interval=600: no grid point has it"),
        "{err}"
    );
}
