use super::*;
use crate::study::{fixtures, run_here};

fn study(files: &[&str]) -> TracesStudy {
    TracesStudy {
        files: files
            .iter()
            .map(|f| fixtures().join("preemption").join(f))
            .collect(),
        options: ReadOptions::default(),
        additions: false,
        choice: Default::default(),
    }
}

#[test]
fn each_trace_is_a_unit_and_a_bad_one_fails_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "timestamp,count\n2021-07-26T18:42:00Z,8\n2021-07-26T18:41:00Z,9\n",
    )
    .unwrap();
    let mut s = study(&["bamboo-traces/traces/p3-trace.csv"]);
    s.files.push(bad.clone());
    s.files.push(dir.path().join("missing.csv"));
    let traces = run_here(&s, false).unwrap();
    assert_eq!(traces.reports.len(), 3);
    assert_eq!(s.failed_units(&traces), 2);
    assert_eq!(s.headline(&traces), "3 traces (1 read, 2 failed)");
    let failure = traces.reports[1].failure.as_ref().unwrap();
    assert_eq!(failure.line, Some(3));
    assert!(
        failure.message.starts_with("rows out of order"),
        "{failure}"
    );
    assert_eq!(
        traces.reports[1].error.as_deref(),
        Some(format!("{}:3: {}", bad.display(), failure.message).as_str())
    );
    assert!(traces.reports[2]
        .error
        .as_deref()
        .unwrap()
        .contains("could not open"));
    // Every diagnostic, the failures too, with the trace it belongs to.
    let diagnostics = s.diagnostics(&traces);
    let errors: Vec<_> = diagnostics
        .iter()
        .filter(|(_, d)| d.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].0, bad.display().to_string());
    // The tables list the traces read; the terminal shows every one.
    assert_eq!(outputs::stats_table(&traces).rows(), 1);
    assert!(s.terminal(&traces).contains("FAILED"));
}

#[test]
fn outputs_are_the_tables_and_the_figures_there_is_data_for() {
    let s = study(&[
        "bamboo-traces/traces/p3-trace.csv",
        "bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv",
    ]);
    let traces = run_here(&s, false).unwrap();
    let provenance = Provenance::default();
    let names: Vec<String> = s
        .outputs(&traces, &provenance)
        .iter()
        .flat_map(|o| o.file_names())
        .collect();
    for name in [
        "traces.csv",
        "traces.parquet",
        "counts.csv",
        "counts.parquet",
        "lifetimes.csv",
        "hourly.csv",
        "node_count.svg",
        "lifetimes.pdf",
        "preemptions_per_hour.png",
    ] {
        assert!(names.contains(&name.to_string()), "{name}: {names:?}");
    }
    let mut json = Vec::new();
    s.write_json(&traces, &provenance, &mut json).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(value.as_array().unwrap().len(), 2);
    assert_eq!(value[0]["format"], "node-events");
    assert!(value[0].get("curve").is_none() && value[0].get("failure").is_none());
    // A removal-only trace has no count curve and names no node.
    assert!(traces.reports[1].curve.is_none());
}

/// The notebook's additions trace of the full-64 node trace: 51 rises,
/// each at the row before it (the notebook's full-64-additions-trace.csv).
#[test]
fn additions_are_the_rises_of_the_node_count_as_the_notebook_derives_them() {
    let mut s =
        study(&["bamboo-simulation/traces/trace--full-64-node-trace/full-64-node-trace.csv"]);
    s.additions = true;
    let traces = run_here(&s, false).unwrap();
    let provenance = Provenance::default();
    let outputs = s.outputs(&traces, &provenance);
    let additions = outputs
        .iter()
        .find(|o| o.name == "additions")
        .expect("additions table");
    assert_eq!(additions.file_names(), ["additions.csv"]);
    drop(outputs);
    let table = super::outputs::additions_table(&traces);
    assert_eq!(table.rows(), 51);
    s.additions = false;
    assert!(s
        .outputs(&traces, &provenance)
        .iter()
        .all(|o| o.name != "additions"));
}
