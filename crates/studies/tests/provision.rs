//! The provisioning analysis against the seeded generator's own record of
//! what each node did (`expost-testkit`).

use expost_studies::provision::{analyse, Options, Phase};
use expost_testkit::provision::{generate, SynthOptions};

/// Durations from timestamps may be off by collision bumps (µs) and the 10 ms grid.
const TOL: f64 = 1e-3;

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < TOL,
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn every_figure_matches_the_generator() {
    let options = SynthOptions {
        seed: 7,
        nodes: 300,
        images: 4,
        missing_pairs: 5,
        unfinished: 2,
        duplicates: 3,
        collide: true,
        ..SynthOptions::default()
    };
    let pool = generate(&options);
    let p = analyse(&pool.entities, "synth", &Options::default()).unwrap();
    assert_eq!(p.partition, options.partition);
    assert_eq!(p.offer.as_deref(), Some("UbuntuServer"));
    assert_eq!(p.nodes.len(), 300);
    for truth in &pool.nodes {
        let node = p.nodes.iter().find(|n| n.node_id == truth.node_id).unwrap();
        assert!(close(node.start, Some(truth.start)), "{}", truth.node_id);
        assert!(close(node.ready, truth.ready), "{}", truth.node_id);
        for phase in &Phase::ALL[..5] {
            assert!(
                close(node.timings.get(*phase), truth.timings.get(*phase)),
                "{} {:?}: {:?} vs {:?}",
                truth.node_id,
                phase,
                node.timings.get(*phase),
                truth.timings.get(*phase)
            );
        }
        assert_eq!(node.images.len(), truth.images.len(), "{}", truth.node_id);
        for (index, got) in &node.images {
            let want = &truth.images[&p.images[*index as usize]];
            for phase in &Phase::ALL[5..] {
                assert!(
                    close(got.get(*phase), want.get(*phase)),
                    "{} {phase:?}",
                    truth.node_id
                );
            }
            assert_eq!(got.size_bytes, want.size_bytes, "{}", truth.node_id);
        }
        for (event, image) in &truth.missing {
            let found = p.diagnostics.iter().any(|d| {
                d.message.contains(event.as_str())
                    && d.message.contains(&truth.node_id)
                    && image
                        .as_ref()
                        .is_none_or(|i| d.message.contains(i.as_str()))
            });
            assert!(
                found,
                "no diagnostic for missing {event} {image:?} on {}",
                truth.node_id
            );
        }
        if truth.duplicated.is_some() {
            assert!(p
                .diagnostics
                .iter()
                .any(|d| d.message.starts_with("duplicate")
                    && d.message.contains(&truth.node_id)
                    && d.message.contains("retried write")));
        }
    }
    // Nodes are ordered by node prep start.
    assert!(p
        .nodes
        .windows(2)
        .all(|w| w[0].order_time() <= w[1].order_time()));
    // Summary figures from the record.
    let unfinished: Vec<&str> = pool
        .nodes
        .iter()
        .filter(|n| n.ready.is_none())
        .map(|n| n.node_id.as_str())
        .collect();
    assert_eq!(p.summary.unfinished_nodes.len(), unfinished.len());
    let readies: Vec<f64> = pool.nodes.iter().filter_map(|n| n.ready).collect();
    let last = readies.iter().copied().fold(f64::MIN, f64::max);
    let first_start = pool.nodes.iter().map(|n| n.start).fold(f64::MAX, f64::min);
    let cp = p.summary.critical_path.as_ref().unwrap();
    assert!((cp.pool_ready - last).abs() < TOL);
    assert!((cp.pool_ready_after_s - (last - first_start)).abs() < TOL);
    let last_node = pool.nodes.iter().find(|n| n.ready == Some(last)).unwrap();
    assert_eq!(cp.node_id, last_node.node_id);
    let ttr: Vec<f64> = pool
        .nodes
        .iter()
        .filter_map(|n| Some(n.ready? - n.start))
        .collect();
    let stats = &p.summary.phases["time_to_ready"];
    let mut sorted = ttr.clone();
    sorted.sort_by(f64::total_cmp);
    assert_eq!(stats.count, ttr.len());
    assert!((stats.max - sorted[sorted.len() - 1]).abs() < TOL);
    let gr_total: f64 = pool
        .nodes
        .iter()
        .filter_map(|n| n.timings.global_resources_loaded)
        .sum();
    assert!((p.summary.total_global_resources_s - gr_total).abs() < TOL * 300.0);
}

mod study {
    use expost_formats::shipyard::write_jsonl;
    use expost_render::output::Kind;
    use expost_studies::provision::{
        analyse, Account, Error, Options, ProvisionStudy, Report, Source, SourceError, TableSource,
    };
    use expost_studies::study::{Context, Provenance, Study};
    use expost_testkit::provision::{generate, SynthOptions};
    use std::sync::atomic::AtomicBool;

    fn study(source: Source) -> ProvisionStudy {
        ProvisionStudy {
            source,
            options: Options::default(),
            export: None,
            progress: Box::new(()),
            size: expost_render::figure::PaperSize::Page,
            choice: Default::default(),
        }
    }

    /// Discover, analyse each node, combine: as the command line's driver does.
    fn run(study: &ProvisionStudy) -> expost_studies::provision::Provision {
        let flag = AtomicBool::new(false);
        let context = Context::new(&flag);
        let discovered = study.discover().unwrap();
        let analysed = discovered
            .units
            .iter()
            .map(|u| study.analyse(u, &context))
            .collect();
        study.combine(analysed, discovered.diagnostics).unwrap()
    }

    #[test]
    fn nodes_as_units_give_the_analysis_of_the_whole_pool() {
        let dir = tempfile::tempdir().unwrap();
        let pool = generate(&SynthOptions {
            seed: 11,
            nodes: 60,
            missing_pairs: 3,
            unfinished: 1,
            duplicates: 2,
            collide: true,
            ..SynthOptions::default()
        });
        let path = dir.path().join("events.jsonl");
        let mut text = Vec::new();
        write_jsonl(&pool.entities, &mut text).unwrap();
        std::fs::write(&path, &text).unwrap();
        let mut s = study(Source::Export(path.clone()));
        s.export = Some(dir.path().join("copy.csv"));
        let discovered = s.discover().unwrap();
        assert_eq!(discovered.units.len(), 60);
        assert_eq!(s.unit_noun(), "nodes");
        let p = run(&s);
        let whole = analyse(
            &pool.entities,
            &path.display().to_string(),
            &Options::default(),
        )
        .unwrap();
        let json = |p| {
            let mut out = Vec::new();
            s.write_json(p, &Provenance::default(), &mut out).unwrap();
            out
        };
        assert_eq!(
            json(&p),
            serde_json::to_vec_pretty(&Report::of(&whole)).unwrap()
        );
        // Each node's diagnostics are its own; the export was written.
        let diagnostics = s.diagnostics(&p);
        assert_eq!(diagnostics.len(), p.diagnostics.len());
        assert!(!diagnostics.is_empty());
        for (unit, d) in &diagnostics {
            assert!(
                !unit.is_empty() && d.message.contains(unit),
                "{unit}: {}",
                d.message
            );
        }
        let copy = std::fs::read_to_string(dir.path().join("copy.csv")).unwrap();
        assert_eq!(copy.lines().count(), pool.entities.len() + 1);
        assert!(s
            .headline(&p)
            .starts_with("pool batchacct$pool-1: 60 nodes ("));
        assert!(s.terminal(&p).contains("stragglers"));
    }

    #[test]
    fn outputs_are_the_tables_charts_and_trace() {
        let pool = generate(&SynthOptions::default());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        let mut text = Vec::new();
        expost_formats::shipyard::write_csv(&pool.entities, &mut text).unwrap();
        std::fs::write(&path, &text).unwrap();
        let s = study(Source::Export(path));
        let p = run(&s);
        let provenance = Provenance::default();
        let outputs = s.outputs(&p, &provenance);
        let declared: Vec<(String, Kind, Vec<String>)> = outputs
            .iter()
            .map(|o| (o.name.clone(), o.kind, o.file_names()))
            .collect();
        let names: Vec<&str> = declared.iter().map(|d| d.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "phases",
                "stragglers",
                "nodes",
                "images",
                "spans",
                "timeline",
                "gantt",
                "trace"
            ]
        );
        assert_eq!(declared[5].1, Kind::Chart);
        assert_eq!(declared[6].2, ["gantt.svg", "gantt.png", "gantt.pdf"]);
        assert_eq!(declared[7].1, Kind::Trace);
        assert_eq!(declared[2].2, ["nodes.csv", "nodes.parquet"]);
        assert_eq!(declared[0].2, ["phases.csv"]);
        let out = expost_render::output::OutputDir::prepare(&dir.path().join("out")).unwrap();
        for o in &outputs {
            out.write(o).unwrap();
        }
        let svg = std::fs::read_to_string(dir.path().join("out/timeline.svg")).unwrap();
        assert!(
            svg.starts_with("<svg") || svg.starts_with("<?xml"),
            "{svg:.60}"
        );
        let rows = s.stdout_table(&p).unwrap().map(|t| t.rows()).sum::<usize>();
        assert_eq!(rows, 10);
    }

    #[test]
    fn errors_name_files_and_accounts_but_no_option_and_no_key() {
        let s = study(Source::Export("/nonexistent/events.jsonl".into()));
        let error = s.read().unwrap_err();
        assert!(matches!(error, Error::Source(SourceError::Open { .. })));
        assert!(error.to_string().contains("/nonexistent/events.jsonl"));
        // Several partitions: the error says which, and names no flag.
        let dir = tempfile::tempdir().unwrap();
        let mut entities = generate(&SynthOptions::default()).entities;
        entities[0].partition_key = "other$pool".into();
        let path = dir.path().join("two.jsonl");
        let mut text = Vec::new();
        write_jsonl(&entities, &mut text).unwrap();
        std::fs::write(&path, &text).unwrap();
        let error = study(Source::Export(path)).read().unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("2 partitions") && !message.contains("--"),
            "{message}"
        );
        // A key missing from, or wrong in, the environment.
        let table = |variable: &str| TableSource {
            account: Account::KeyInEnvironment {
                account: "acct".into(),
                variable: variable.into(),
            },
            endpoint: Some("http://127.0.0.1:9/acct".into()),
            table: None,
            partition: Some("b$p".into()),
            client: Default::default(),
            concurrency: 1,
        };
        let error = table("EXPOST_TEST_KEY_NOT_SET").connect().unwrap_err();
        assert!(matches!(error, SourceError::KeyMissing { .. }), "{error}");
        assert!(!error.to_string().contains("--"), "{error}");
        std::env::set_var("EXPOST_TEST_BAD_KEY", "not*base64*secret");
        let error = table("EXPOST_TEST_BAD_KEY").connect().unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("EXPOST_TEST_BAD_KEY") && !message.contains("secret"),
            "{message}"
        );
        std::env::set_var(
            "EXPOST_TEST_CONNECTION",
            "AccountName=a;AccountKey=c2VjcmV0;Bogus",
        );
        let error = TableSource {
            account: Account::ConnectionString {
                variable: "EXPOST_TEST_CONNECTION".into(),
            },
            ..table("unused")
        }
        .connect()
        .unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("EXPOST_TEST_CONNECTION: ") && !message.contains("c2VjcmV0"),
            "{message}"
        );
        let table = table("EXPOST_TEST_GOOD_KEY");
        std::env::set_var("EXPOST_TEST_GOOD_KEY", "c2VjcmV0");
        let connected = table.connect().unwrap();
        assert_eq!(connected.name, "shipyardperf");
        assert_eq!(connected.account(), "acct");
        assert!(!format!("{connected:?}").contains("c2VjcmV0"));
    }
}
