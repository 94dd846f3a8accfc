//! The analysis against the generator's own record, and the script's rules
//! on small hand-made pools.

use super::synth::{generate, SynthOptions};
use super::*;
use expost_formats::shipyard::PerfEntity;

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

fn e(node: &str, event: &str, t: f64, message: &str) -> PerfEntity {
    PerfEntity {
        partition_key: "acct$pool".into(),
        row_key: format!("{t}"),
        event: Some(event.into()),
        node_id: Some(node.into()),
        message: (!message.is_empty()).then(|| message.to_string()),
        line: (t * 10.0) as u64,
    }
}

#[test]
fn script_rules_without_registry() {
    let entities = vec![
        e("n1", "nodeprep:start", 100.0, "offer=o,sku=s"),
        e("n1", "nodeprep:end", 150.0, ""),
        e("n1", "cascade:start", 151.0, "nglobalresources=1"),
        e("n1", "cascade:torrent-start", 152.0, "img=a"),
        e("n1", "cascade:load-start", 160.0, "img=a,size=2000"),
        e("n1", "cascade:load-end", 170.5, "img=a,diff=10.0"),
        e("n1", "cascade:gr-done", 171.0, "nglobalresources=1"),
    ];
    let p = analyse(&entities, "x", &Options::default()).unwrap();
    let n = &p.nodes[0];
    assert_eq!(n.timings.nodeprep, Some(50.0));
    assert_eq!(
        n.timings.docker_install,
        Some(50.0),
        "no registry: install is node prep"
    );
    assert_eq!(n.timings.private_registry_setup, Some(0.0));
    assert_eq!(n.timings.docker_shipyard_container_pull, Some(0.0));
    assert_eq!(n.timings.global_resources_loaded, Some(20.0));
    let img = n.images[&0];
    assert_eq!(img.torrent, Some(8.0));
    assert_eq!(img.load, Some(10.0), "the recorded diff wins over 10.5");
    assert_eq!(
        img.size_bytes,
        Some(2000),
        "size of the load's own start event"
    );
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
}

#[test]
fn partitions_must_be_chosen() {
    let mut entities = vec![e("n1", "nodeprep:start", 1.0, "")];
    let mut other = e("n2", "nodeprep:start", 2.0, "");
    other.partition_key = "acct$other".into();
    entities.push(other);
    let err = analyse(&entities, "x", &Options::default()).unwrap_err();
    assert!(matches!(err, ProvisionError::SeveralPartitions(ref v) if v.len() == 2));
    let o = Options {
        partition: Some("acct$other".into()),
        ..Options::default()
    };
    let p = analyse(&entities, "x", &o).unwrap();
    assert_eq!(p.nodes[0].node_id, "n2");
    let o = Options {
        partition: Some("nope".into()),
        ..Options::default()
    };
    assert!(matches!(
        analyse(&entities, "x", &o),
        Err(ProvisionError::PartitionNotFound { .. })
    ));
}

#[test]
fn stragglers_by_mads() {
    let mut entities = Vec::new();
    for (i, ttr) in [100.0, 101.0, 99.0, 100.5, 99.5, 180.0].iter().enumerate() {
        let node = format!("n{i}");
        let s = 1000.0 + i as f64;
        entities.push(e(&node, "nodeprep:start", s, ""));
        entities.push(e(&node, "nodeprep:end", s + 10.0, ""));
        entities.push(e(&node, "cascade:start", s + 11.0, ""));
        entities.push(e(&node, "cascade:gr-done", s + ttr, ""));
    }
    let p = analyse(&entities, "x", &Options::default()).unwrap();
    let st = &p.summary.stragglers;
    assert_eq!(st.nodes.len(), 1);
    assert_eq!(st.nodes[0].node_id, "n5");
    assert!((st.median_s - 100.25).abs() < 1e-9);
    assert_eq!(p.summary.critical_path.as_ref().unwrap().node_id, "n5");
}
