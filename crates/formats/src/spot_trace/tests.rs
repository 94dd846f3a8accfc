use super::*;
use expost_model::Severity;
use proptest::prelude::*;
use std::path::PathBuf;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/preemption")
        .join(rel)
}

fn read(rel: &str) -> (Result<Trace, TraceError>, Diagnostics) {
    let bytes = std::fs::read(fixture(rel)).expect("fixture");
    let mut d = Diagnostics::for_file(rel);
    (parse(&bytes[..], ReadOptions::default(), &mut d), d)
}

fn text(input: &str) -> (Result<Trace, TraceError>, Diagnostics) {
    let mut d = Diagnostics::for_file("t");
    (parse(input.as_bytes(), ReadOptions::default(), &mut d), d)
}

#[test]
fn node_count_trace_reads_the_notebook_input() {
    let (t, _) = read("bamboo-simulation/traces/trace--full-64-node-trace/full-64-node-trace.csv");
    let t = t.unwrap();
    assert_eq!(t.format, TraceFormat::NodeCount);
    assert_eq!(t.initial, 8);
    assert_eq!(t.duration, 355.0 * 60.0);
    let curve = t.count_curve().unwrap();
    assert_eq!(curve.iter().map(|p| p.1).max(), Some(75));
    // Its last row (0) is the experiment's end, left out: see below.
    assert_eq!(curve.last().unwrap().1, 63);
}

#[test]
fn misdated_terminate_rows_are_moved_a_day_and_reported() {
    let (t, d) =
        read("bamboo-simulation/traces/trace--full-64-node-trace/full-64-terminate-trace.csv");
    let t = t.unwrap();
    let moved: Vec<_> = d
        .items()
        .iter()
        .filter(|i| i.message.contains("dated a day early"))
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].line, Some(54));
    assert!(
        moved[0]
            .message
            .starts_with("6 rows dated a day early moved forward 24 h (lines 54, "),
        "{}",
        moved[0].message
    );
    assert_eq!(-t.events.iter().map(|e| e.delta).sum::<i64>(), 140);
    assert!(t.events.windows(2).all(|w| w[0].t <= w[1].t));
    assert!(
        t.duration < 86_400.0,
        "the day is not a day long: {}",
        t.duration
    );
}

#[test]
fn per_event_traces_with_crlf_name_their_nodes() {
    let (t, d) = read("bamboo-traces/traces/p3-trace.csv");
    let t = t.unwrap();
    assert_eq!(t.format, TraceFormat::NodeEvents);
    assert!(d.items().iter().any(|i| i.message.contains("CRLF")));
    assert_eq!(t.events.iter().filter(|e| e.delta > 0).count(), 177);
    assert_eq!(t.events.iter().filter(|e| e.delta < 0).count(), 167);
    assert!(t.names_nodes());
}

#[test]
fn gcp_repeated_samples_are_replaced_and_reported() {
    let (t, d) = read("bamboo-traces/traces/gcloud/v100x1-east1c.txt");
    let t = t.unwrap();
    assert_eq!(t.format, TraceFormat::GcpText);
    let first = d
        .items()
        .iter()
        .find(|i| i.severity == Severity::Warning)
        .unwrap();
    assert_eq!(first.line, Some(4));
    let curve = t.count_curve().unwrap();
    assert_eq!(curve[0].1, 80);
    assert_eq!(curve[1], (60.0, 70));
}

#[test]
fn every_real_format_is_recognised() {
    for (rel, format) in [
        ("bamboo-simulation/traces/trace--preempt-trace--s2021-09-17_04-00--e2021-09-17_09-05/preempt-trace-GroupInServiceInstances.csv", TraceFormat::AsgMetric),
        ("bamboo-aws-2020/aws-spot-instances-g4dn-xlarge-us-east-1c-2020-11-20-1930-to-2020-11-21-2200.csv", TraceFormat::StepPlot),
        ("bamboo-traces/traces/gcloud/a100x1-east1b.txt", TraceFormat::GcpText),
        ("oobleck-traces/1h.csv", TraceFormat::NodeEvents),
        ("skypilot-spot-traces/us-east-1f_v100_1.json", TraceFormat::SkyPilot),
    ] {
        let (t, _) = read(rel);
        assert_eq!(t.unwrap().format, format, "{rel}");
    }
}

#[test]
fn step_plot_in_hours_is_recognised_and_reported() {
    let (t, d) = read("bamboo-aws-2020/aws-spot-instances-p2-xlarge-2020-11-20-to-2020-11-23.csv");
    let t = t.unwrap();
    assert!(d
        .items()
        .iter()
        .any(|i| i.message.contains("read as hours")));
    assert!(
        t.duration > 2.0 * 86_400.0 && t.duration < 4.0 * 86_400.0,
        "{}",
        t.duration
    );
}

fn error_of(input: &str) -> String {
    let (t, _) = text(input);
    t.expect_err("must fail").to_string()
}

#[test]
fn bad_inputs_get_clear_messages_with_lines() {
    let out_of_order =
        error_of("timestamp,count\n2021-07-26T18:42:00Z,8\n2021-07-26T18:40:00Z,9\n");
    assert!(
        out_of_order.starts_with("line 3: rows out of order"),
        "{out_of_order}"
    );
    let dup = error_of("timestamp,count\n2021-07-26T18:42:00Z,8\n2021-07-26T18:42:00Z,9\n");
    assert!(dup.starts_with("line 3: duplicate timestamp"), "{dup}");
    let negative = error_of("timestamp,count\n2021-07-26T18:42:00Z,-1\n");
    assert!(
        negative.contains("line 2") && negative.contains("below zero"),
        "{negative}"
    );
    let unknown = error_of("hello world\n");
    assert!(
        unknown.starts_with("line 1: not a known trace format"),
        "{unknown}"
    );
    let events = error_of("10,add,node1\n5,add,node2\n");
    assert!(events.starts_with("line 2: rows out of order"), "{events}");
    assert_eq!(
        text("").0.unwrap_err().to_string(),
        "no records: the file is empty"
    );
}

#[test]
fn a_file_cut_mid_line_loses_only_the_cut_line_and_says_so() {
    let (t, d) = text("0,add,node1\n60000,add,node2\n120000,rem");
    let t = t.unwrap();
    assert_eq!(t.events.len(), 2);
    let w = &d.items()[0];
    assert_eq!((w.line, w.severity), (Some(3), Severity::Warning));
    assert!(w.message.contains("cut short"));
}

proptest! {
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut d = Diagnostics::default();
        let _ = parse(&bytes[..], ReadOptions::default(), &mut d);
        for format in TraceFormat::ALL {
            let _ = parse_as(format, &bytes[..], &mut d);
        }
    }

    #[test]
    fn parsers_never_panic_on_near_valid_lines(lines in proptest::collection::vec("[0-9]{0,6}(,(add|remove|[0-9.-]{0,4}))?(,node[0-9]{0,2})?", 0..20)) {
        let input = lines.join("\n");
        let mut d = Diagnostics::default();
        let _ = parse(input.as_bytes(), ReadOptions::default(), &mut d);
        let _ = parse(format!("timestamp,count\n{input}").as_bytes(), ReadOptions::default(), &mut d);
    }
}

fn text_with(input: &str, unit: Option<OffsetUnit>) -> (Result<Trace, TraceError>, Diagnostics) {
    let mut d = Diagnostics::for_file("t");
    let options = ReadOptions {
        step_unit: unit,
        ..ReadOptions::default()
    };
    (parse(input.as_bytes(), options, &mut d), d)
}

fn said(d: &Diagnostics, severity: Severity, part: &str) -> bool {
    d.items()
        .iter()
        .any(|i| i.severity == severity && i.message.contains(part))
}

/// Parcae's `aws/traces/p3.csv` layout: a running count every minute,
/// offsets in milliseconds, under a `milliseconds,count` header.
#[test]
fn a_millisecond_step_plot_is_read_from_its_header_or_the_given_unit() {
    let rows: String = (0..=682)
        .map(|m| format!("{},{}\n", m * 60_000, 4 + m % 3))
        .collect();
    let (t, d) = text(&format!("milliseconds,count\n{rows}"));
    let t = t.unwrap();
    assert_eq!(t.format, TraceFormat::StepPlot);
    assert!((t.duration / 3600.0 - 11.37).abs() < 0.01, "{}", t.duration);
    assert!(
        !said(&d, Severity::Warning, "implausible"),
        "{:?}",
        d.items()
    );

    // Without a header: read as seconds, said, and the span is a warning.
    let (t, d) = text(&rows);
    assert!(t.unwrap().duration > 1000.0 * 3600.0);
    assert!(said(&d, Severity::Note, "whole offsets read as seconds"));
    assert!(said(
        &d,
        Severity::Warning,
        "implausible for one experiment"
    ));

    // Given: read in that unit.
    let (t, d) = text_with(&rows, Some(OffsetUnit::Milliseconds));
    assert!((t.unwrap().duration / 3600.0 - 11.37).abs() < 0.01);
    assert!(d.items().is_empty(), "{:?}", d.items());

    // Given against the header: the given unit wins, and that is said.
    let (t, d) = text_with(
        &format!("min,count\n{rows}"),
        Some(OffsetUnit::Milliseconds),
    );
    assert!((t.unwrap().duration / 3600.0 - 11.37).abs() < 0.01);
    assert!(said(
        &d,
        Severity::Warning,
        "header says the offsets are in min"
    ));

    let bad = error_of("fortnights,count\n0,4\n");
    assert!(bad.starts_with("line 1: not a known trace format"), "{bad}");
}

#[test]
fn skypilot_flags_are_read_as_availability_and_counts_as_counts() {
    // Single instance: 1 means preempted (spot unavailable).
    let (t, d) = text(r#"{"metadata":{"gap_seconds":300},"data":[0,0,1,1,0]}"#);
    let t = t.unwrap();
    let curve = t.count_curve().unwrap();
    let counts: Vec<i64> = curve.iter().map(|p| p.1).collect();
    assert_eq!(t.initial, 1);
    assert_eq!(counts.first(), Some(&1));
    assert!(counts.contains(&0));
    assert!(said(&d, Severity::Note, "1 means preempted"));

    // The project's 4-node fixture: counts of instances available.
    let (t, d) = read("skypilot-spot-traces/us-east-1f_v100_1.json");
    let t = t.unwrap();
    assert!(t.count_curve().unwrap().iter().all(|p| p.1 <= 4));
    assert!(said(&d, Severity::Note, "counts of instances available"));
}

/// Bamboo's full-64 node trace ends with a row of 0: the experiment being
/// shut down (63 → 0), not 63 nodes preempted at once.
#[test]
fn a_final_drop_of_every_node_is_the_experiments_end_unless_kept() {
    let rel = "bamboo-simulation/traces/trace--full-64-node-trace/full-64-node-trace.csv";
    let (t, d) = read(rel);
    let t = t.unwrap();
    assert!(said(
        &d,
        Severity::Warning,
        "shutting down all 63 nodes at once"
    ));
    assert!(t.events.iter().all(|e| e.delta > -63));
    assert_eq!(t.duration, 355.0 * 60.0);

    let bytes = std::fs::read(fixture(rel)).unwrap();
    let mut d = Diagnostics::default();
    let options = ReadOptions {
        keep_final_shutdown: true,
        ..ReadOptions::default()
    };
    let kept = parse(&bytes[..], options, &mut d).unwrap();
    assert_eq!(kept.events.last().map(|e| e.delta), Some(-63));
    assert_eq!(kept.events.len(), t.events.len() + 1);

    // One node leaving last is a preemption like any other.
    let (t, d) = text(
        "timestamp,count\n2021-07-26T18:42:00Z,2\n2021-07-26T18:43:00Z,1\n2021-07-26T18:44:00Z,0\n",
    );
    assert_eq!(t.unwrap().events.len(), 2);
    assert!(!said(&d, Severity::Warning, "shutting down"));
}
