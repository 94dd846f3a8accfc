//! Chrome trace event JSON (the "JSON Array/Object Format" that
//! ui.perfetto.dev and chrome://tracing open): one track (thread) per
//! entity, one complete slice (`"ph": "X"`) per span. Times are written in
//! microseconds relative to an origin, which is recorded in `otherData`.

use serde::Serialize;
use serde_json::{json, Value};

/// One slice on a track.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice {
    /// Index of the track.
    pub track: usize,
    /// Slice name (e.g. the phase).
    pub name: String,
    /// Category (e.g. `node` or `image`).
    pub category: String,
    /// Start, seconds (absolute; the origin is subtracted).
    pub start: f64,
    /// Duration, seconds.
    pub duration: f64,
    /// Extra fields shown with the slice.
    pub args: serde_json::Map<String, Value>,
}

#[derive(Serialize)]
struct Trace<'a> {
    #[serde(rename = "traceEvents")]
    trace_events: Vec<Value>,
    #[serde(rename = "displayTimeUnit")]
    display_time_unit: &'a str,
    #[serde(rename = "otherData")]
    other_data: Value,
}

/// The trace as JSON bytes: `tracks` names each track, `origin` (epoch
/// seconds) is time zero, `process` names the process holding the tracks.
pub fn trace_json(
    process: &str,
    tracks: &[String],
    slices: &[Slice],
    origin: f64,
) -> serde_json::Result<Vec<u8>> {
    let mut events = Vec::with_capacity(tracks.len() + slices.len() + 1);
    events.push(
        json!({"ph": "M", "name": "process_name", "pid": 1, "tid": 0, "args": {"name": process}}),
    );
    for (i, name) in tracks.iter().enumerate() {
        events.push(json!({"ph": "M", "name": "thread_name", "pid": 1, "tid": i + 1, "args": {"name": name}}));
        events.push(json!({"ph": "M", "name": "thread_sort_index", "pid": 1, "tid": i + 1, "args": {"sort_index": i}}));
    }
    for s in slices {
        if !(s.start.is_finite() && s.duration.is_finite()) {
            continue;
        }
        events.push(json!({
            "ph": "X",
            "name": s.name,
            "cat": s.category,
            "pid": 1,
            "tid": s.track + 1,
            "ts": ((s.start - origin) * 1e6).round(),
            "dur": (s.duration.max(0.0) * 1e6).round(),
            "args": s.args,
        }));
    }
    serde_json::to_vec(&Trace {
        trace_events: events,
        display_time_unit: "ms",
        other_data: json!({"origin_epoch_s": origin, "generator": "expost"}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_and_slices() {
        let slices = vec![Slice {
            track: 1,
            name: "pull".into(),
            category: "image".into(),
            start: 1000.5,
            duration: 2.25,
            args: serde_json::Map::new(),
        }];
        let bytes = trace_json("pool", &["a".into(), "b".into()], &slices, 1000.0).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let events = v["traceEvents"].as_array().unwrap();
        assert_eq!(events.len(), 1 + 4 + 1);
        let x = events.iter().find(|e| e["ph"] == "X").unwrap();
        assert_eq!(
            (x["tid"].as_u64(), x["ts"].as_f64(), x["dur"].as_f64()),
            (Some(2), Some(500000.0), Some(2250000.0))
        );
        assert_eq!(events[3]["args"]["name"], "b");
    }
}
