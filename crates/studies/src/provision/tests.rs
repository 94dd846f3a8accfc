//! The script's rules on small hand-made pools (the analysis against the
//! seeded generator is in `tests/provision.rs`).

use super::*;
use expost_formats::shipyard::PerfEntity;

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
