//! Any field of the iperf3 client's intervals as a metric (`--metric
//! snd_cwnd,rtt,…`): read from the stream objects of each interval, put on
//! the run's clock, binned, combined over flows and banded across trials.
//!
//! How values combine depends on what the field is:
//! * counts (`bytes`, `retransmits`, `packets`, `lost_packets`): summed over
//!   streams, flows and the intervals of an epoch;
//! * sizes and rates (`snd_cwnd`, `snd_wnd`, `bits_per_second`): summed over
//!   streams and flows, averaged over the intervals of an epoch;
//! * every other field (`rtt`, `rttvar`, `pmtu`, `jitter_ms`, …): averaged.
//!
//! A field of the interval's `sum` object is taken from there when its
//! streams lack it. Rows and figures are named `iperf_FIELD`, in the
//! field's own unit (`rtt` in µs, as iperf3 writes it).

use expost_ops::bin::EpochGrid;
use expost_ops::window::TimeWindow;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How a field's values combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Summed everywhere.
    Count,
    /// Summed over streams and flows, averaged over time.
    Size,
    /// Averaged everywhere.
    Level,
}

/// What `name` is.
pub fn kind_of(name: &str) -> Kind {
    match name {
        "bytes" | "retransmits" | "packets" | "lost_packets" | "out_of_order" => Kind::Count,
        "snd_cwnd" | "snd_wnd" | "bits_per_second" => Kind::Size,
        _ => Kind::Level,
    }
}

/// The unit written beside a field's values.
pub fn unit_of(name: &str) -> &'static str {
    match name {
        "bytes" | "snd_cwnd" | "snd_wnd" | "pmtu" => "bytes",
        "retransmits" | "packets" | "lost_packets" | "out_of_order" => "count",
        "bits_per_second" => "bit/s",
        "rtt" | "rttvar" => "us",
        "jitter_ms" => "ms",
        "lost_percent" => "%",
        _ => "",
    }
}

/// Numeric fields of an interval that are its place, not a measurement.
const NOT_METRICS: [&str; 4] = ["start", "end", "seconds", "socket"];

/// The metric name of a field in tables and figures.
pub fn metric_name(field: &str) -> String {
    format!("iperf_{field}")
}

/// The fields of one client file: which numeric fields its intervals have,
/// and the values of those asked for (interval end after the flow's start, value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientFields {
    /// Every numeric field its intervals' streams or sums have.
    pub available: BTreeSet<String>,
    /// Per field asked for and present: (interval end, value), time order.
    pub values: BTreeMap<String, Vec<(f64, f64)>>,
}

/// Reads the fields `names` of every interval of an iperf3 client file
/// (`-J`, or `--json-stream`), omitted intervals left out unless
/// `include_omitted`.
pub fn read_client_fields(
    bytes: &[u8],
    names: &[String],
    include_omitted: bool,
) -> Result<ClientFields, String> {
    let intervals = intervals_of(bytes)?;
    let mut found = ClientFields::default();
    // iperf3 restarts its clock after --omit: warm-up intervals are moved
    // before 0, as the parser does.
    let warm_up_end = (intervals.iter())
        .filter_map(|i| {
            let head = i.get("sum").or_else(|| i.get("streams")?.get(0))?;
            (head.get("omitted")?.as_bool()? && include_omitted)
                .then(|| head.get("end")?.as_f64())?
        })
        .fold(0.0, f64::max);
    for interval in &intervals {
        let streams: Vec<&serde_json::Map<String, Value>> = (interval.get("streams"))
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default();
        let sum = interval.get("sum").and_then(Value::as_object);
        for object in streams.iter().copied().chain(sum) {
            let numeric = (object.iter())
                .filter(|(k, v)| v.is_number() && !NOT_METRICS.contains(&k.as_str()));
            found.available.extend(numeric.map(|(k, _)| k.clone()));
        }
        let head = sum.or(streams.first().copied());
        let Some(end) = head.and_then(|h| h.get("end")).and_then(Value::as_f64) else {
            continue;
        };
        let omitted = head.and_then(|h| h.get("omitted")).and_then(Value::as_bool);
        if omitted == Some(true) && !include_omitted {
            continue;
        }
        let end = if omitted == Some(true) {
            end - warm_up_end
        } else {
            end
        };
        for name in names {
            if let Some(v) = value_of(name, &streams, sum) {
                found.values.entry(name.clone()).or_default().push((end, v));
            }
        }
    }
    Ok(found)
}

/// The intervals of a `-J` document or a `--json-stream` log.
fn intervals_of(bytes: &[u8]) -> Result<Vec<serde_json::Map<String, Value>>, String> {
    let text = String::from_utf8_lossy(bytes);
    let start = text
        .find("\n{")
        .map(|i| i + 1)
        .filter(|_| !text.starts_with('{'))
        .unwrap_or(0);
    let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
    let first = match values.next() {
        Some(Ok(v)) => v,
        Some(Err(e)) => return Err(format!("not iperf3 JSON: {e}")),
        None => return Err("empty".into()),
    };
    let objects = |v: &Value| -> Vec<serde_json::Map<String, Value>> {
        v.as_array()
            .map(|a| a.iter().filter_map(|i| i.as_object().cloned()).collect())
            .unwrap_or_default()
    };
    if let Some(intervals) = first.get("intervals") {
        return Ok(objects(intervals));
    }
    // --json-stream: one {"event": …, "data": …} object a line.
    let mut found = Vec::new();
    for value in std::iter::once(Ok(first)).chain(values) {
        let Ok(value) = value else { break };
        if value.get("event").and_then(Value::as_str) == Some("interval") {
            if let Some(data) = value.get("data").and_then(Value::as_object) {
                found.push(data.clone());
            }
        }
    }
    Ok(found)
}

/// One interval's value of `name`: its streams combined, else its sum's.
fn value_of(
    name: &str,
    streams: &[&serde_json::Map<String, Value>],
    sum: Option<&serde_json::Map<String, Value>>,
) -> Option<f64> {
    let values: Vec<f64> = streams
        .iter()
        .filter_map(|s| s.get(name)?.as_f64())
        .collect();
    if values.is_empty() {
        return sum?.get(name)?.as_f64();
    }
    Some(across(kind_of(name), &values))
}

/// Values of parallel things (streams, flows) combined.
fn across(kind: Kind, values: &[f64]) -> f64 {
    let total: f64 = values.iter().sum();
    match kind {
        Kind::Count | Kind::Size => total,
        Kind::Level => total / values.len() as f64,
    }
}

/// One flow's values per epoch (interval ends within `window`, on the run's
/// clock after adding `offset`).
pub fn bin_field(
    name: &str,
    values: &[(f64, f64)],
    offset: f64,
    grid: &EpochGrid,
    window: TimeWindow,
) -> BTreeMap<i64, f64> {
    let tolerance = grid.width() * 1e-6;
    let mut by_epoch: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for &(end, v) in values {
        let t = offset + end;
        if t <= window.start + tolerance || t > window.end + tolerance {
            continue;
        }
        by_epoch.entry(grid.index_of(t)).or_default().push(v);
    }
    let kind = kind_of(name);
    by_epoch
        .into_iter()
        .map(|(k, vs)| {
            let total: f64 = vs.iter().sum();
            let v = match kind {
                Kind::Count => total,
                Kind::Size | Kind::Level => total / vs.len() as f64,
            };
            (k, v)
        })
        .collect()
}

/// The flows' values combined per epoch, at the epochs in `keep`.
pub fn combine_flows(
    name: &str,
    flows: &[BTreeMap<i64, f64>],
    keep: impl Fn(i64) -> bool,
) -> BTreeMap<i64, f64> {
    let mut by_epoch: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for flow in flows {
        for (&k, &v) in flow {
            if keep(k) {
                by_epoch.entry(k).or_default().push(v);
            }
        }
    }
    let kind = kind_of(name);
    by_epoch
        .into_iter()
        .map(|(k, vs)| (k, across(kind, &vs)))
        .collect()
}

/// Checks the `--metric` fields against the runs analysed: a field no run
/// has is an error naming the fields there are; a field some runs lack is a
/// warning naming them (returned), as is `--rolling`, which does not apply.
pub fn check_fields(
    runs: &[super::RunResult],
    options: &super::Options,
) -> Result<Vec<String>, crate::study::StudyError> {
    let mut said = Vec::new();
    let ok: Vec<&super::RunResult> = runs.iter().filter(|r| r.ok).collect();
    // With no run analysed there is nothing to check against (the runs'
    // own errors say why).
    if options.fields.is_empty() || ok.is_empty() {
        return Ok(said);
    }
    let available: BTreeSet<&String> = ok.iter().flat_map(|r| &r.fields_available).collect();
    for name in &options.fields {
        let lacking: Vec<&str> = (ok.iter())
            .filter(|r| !r.fields.contains_key(name))
            .map(|r| r.rel.as_str())
            .collect();
        if lacking.len() == ok.len() && !available.contains(name) {
            let names: Vec<&str> = available.iter().map(|s| s.as_str()).collect();
            return Err(crate::study::StudyError::Usage(format!(
                "--metric {name}: no run's client intervals have this field; they have: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        if !lacking.is_empty() {
            said.push(format!(
                "--metric {name}: absent from {} of {} runs: {}",
                lacking.len(),
                ok.len(),
                lacking.join(", ")
            ));
        }
    }
    if options.rolling > 1 {
        said.push(format!(
            "--rolling {} does not apply to the --metric fields: they are drawn per epoch",
            options.rolling
        ));
    }
    Ok(said)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"sudo: unable to resolve host x
{"start": {}, "intervals": [
 {"streams": [{"start": 0, "end": 0.1, "snd_cwnd": 1000, "rtt": 50, "retransmits": 1, "omitted": false},
              {"start": 0, "end": 0.1, "snd_cwnd": 3000, "rtt": 150, "retransmits": 2, "omitted": false}],
  "sum": {"start": 0, "end": 0.1, "bytes": 10, "retransmits": 3, "omitted": false}},
 {"streams": [{"start": 0.1, "end": 0.2, "snd_cwnd": 500, "rtt": 70, "omitted": true}],
  "sum": {"start": 0.1, "end": 0.2, "bytes": 4, "omitted": true}}
], "end": {}}"#;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn streams_combine_by_kind_and_sums_fill_in() {
        let f = read_client_fields(DOC.as_bytes(), &names(&["snd_cwnd", "rtt", "bytes"]), false)
            .unwrap();
        assert_eq!(f.values["snd_cwnd"], vec![(0.1, 4000.0)]);
        assert_eq!(f.values["rtt"], vec![(0.1, 100.0)]);
        assert_eq!(f.values["bytes"], vec![(0.1, 10.0)]);
        for name in ["snd_cwnd", "rtt", "retransmits", "bytes"] {
            assert!(f.available.contains(name), "{name}");
        }
        for name in ["omitted", "start", "end"] {
            assert!(!f.available.contains(name), "{name}");
        }
    }

    #[test]
    fn omitted_intervals_are_kept_only_when_asked() {
        let asked = names(&["snd_cwnd"]);
        let with = read_client_fields(DOC.as_bytes(), &asked, true).unwrap();
        // Warm-up intervals end where the measured ones begin.
        assert_eq!(with.values["snd_cwnd"], vec![(0.1, 4000.0), (0.0, 500.0)]);
    }

    #[test]
    fn json_stream_intervals_are_read() {
        let stream = "{\"event\":\"start\",\"data\":{}}\n{\"event\":\"interval\",\"data\":{\"streams\":[{\"end\":0.5,\"pmtu\":1500}],\"sum\":{\"end\":0.5}}}\n";
        let f = read_client_fields(stream.as_bytes(), &names(&["pmtu"]), false).unwrap();
        assert_eq!(f.values["pmtu"], vec![(0.5, 1500.0)]);
    }

    #[test]
    fn fields_are_checked_against_the_runs_analysed_only() {
        use crate::failover::{Options, RunResult};
        let options = Options {
            fields: names(&["snd_cwnd"]),
            ..Options::default()
        };
        let failed = RunResult::default();
        let said = check_fields(std::slice::from_ref(&failed), &options).unwrap();
        assert!(said.is_empty(), "{said:?}");
        let udp = RunResult {
            ok: true,
            rel: "udp_1".into(),
            fields_available: ["bytes".to_string()].into(),
            ..RunResult::default()
        };
        let err = check_fields(&[failed, udp], &options).unwrap_err();
        assert!(err.to_string().contains("they have: bytes"), "{err}");
    }

    #[test]
    fn binning_sums_counts_and_averages_levels() {
        let grid = EpochGrid::new(0.1).unwrap();
        let window = TimeWindow {
            start: 0.0,
            end: 10.0,
        };
        let values = [(0.05, 2.0), (0.1, 4.0), (0.15, 6.0)];
        let counts = bin_field("retransmits", &values, 1.0, &grid, window);
        let levels = bin_field("rtt", &values, 1.0, &grid, window);
        assert_eq!(counts.values().copied().collect::<Vec<_>>(), [6.0, 6.0]);
        assert_eq!(levels.values().copied().collect::<Vec<_>>(), [3.0, 6.0]);
        let flows = [counts.clone(), counts];
        let both = combine_flows("snd_cwnd", &flows, |_| true);
        assert_eq!(both.values().copied().collect::<Vec<_>>(), [12.0, 12.0]);
    }
}
