//! Single files as tables, for people who build their own analysis (the
//! Python module's `read_*` functions): one file read by the same parser
//! the studies use, its records as one tidy [`Table`], and what was wrong
//! with it as diagnostics. A file that cannot be used at all is a
//! [`ReadError`] naming the file and, when known, the line.

use expost_formats::error::ParseError;
use expost_formats::line_protocol::FieldValue;
use expost_formats::spot_trace::{ReadOptions, TraceError};
use expost_formats::{detect, iperf3_json, line_protocol, shipyard, shremote, spot_trace};
use expost_model::{Diagnostic, Diagnostics};
use expost_render::table::{ColumnData, DictBuilder, Table};
use std::io::BufReader;
use std::path::Path;

/// A file's records as a table, and its diagnostics.
#[derive(Debug)]
pub struct Read {
    /// The records, one row each.
    pub table: Table,
    /// What was skipped, repaired or noticed while reading.
    pub diagnostics: Vec<Diagnostic>,
}

/// Why a file could not be read at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ReadError {
    /// The file, as given.
    pub file: String,
    /// The 1-based line, when the problem is at one.
    pub line: Option<u64>,
    /// What was wrong.
    pub message: String,
}

impl ReadError {
    fn new(path: &Path, line: Option<u64>, message: impl Into<String>) -> ReadError {
        ReadError {
            file: path.display().to_string(),
            line,
            message: message.into(),
        }
    }

    fn parse(path: &Path, error: ParseError) -> ReadError {
        ReadError::new(path, error.line(), error.to_string())
    }
}

/// Opens `path` for reading, buffered.
fn open(path: &Path) -> Result<BufReader<std::fs::File>, ReadError> {
    crate::files::open_regular(path)
        .map(BufReader::new)
        .map_err(|e| ReadError::new(path, None, format!("could not read: {e}")))
}

/// A column of text with few distinct values.
fn dict<'a>(values: impl IntoIterator<Item = &'a str>) -> ColumnData {
    let mut builder = DictBuilder::default();
    for value in values {
        builder.push(value);
    }
    builder.finish()
}

/// A Shremote event log (`event_log.json`): one row per event, with its
/// name, time and stop time (UTC epoch seconds) and its other fields as JSON.
///
/// # Errors
/// When the file cannot be read or is no event log.
pub fn shremote(path: &Path) -> Result<Read, ReadError> {
    let mut diags = Diagnostics::for_file(path.display().to_string());
    let log = shremote::parse(open(path)?, &mut diags).map_err(|e| ReadError::parse(path, e))?;
    let events = &log.events;
    let attributes: Vec<String> = (events.iter())
        .map(|e| serde_json::to_string(&e.attributes).unwrap_or_default())
        .collect();
    let mut table = Table::default();
    table.push("name", dict(events.iter().map(|e| e.name.as_str())));
    table.push_with_unit(
        "time",
        ColumnData::Number(events.iter().map(|e| e.time).collect()),
        "s",
    );
    table.push_with_unit(
        "stop_time",
        ColumnData::Float(events.iter().map(|e| e.stop_time).collect()),
        "s",
    );
    table.push("attributes", dict(attributes.iter().map(String::as_str)));
    Ok(Read {
        table,
        diagnostics: diags.into_items(),
    })
}

/// An iperf3 JSON file (`-J` or `--json-stream`): one row per reporting
/// interval (all streams together), times in seconds since the test began.
///
/// # Errors
/// When the file cannot be read or is no iperf3 JSON output.
pub fn iperf3(path: &Path) -> Result<Read, ReadError> {
    let mut diags = Diagnostics::for_file(path.display().to_string());
    let test =
        iperf3_json::parse(open(path)?, &mut diags).map_err(|e| ReadError::parse(path, e))?;
    let rows = &test.intervals;
    let number =
        |f: fn(&iperf3_json::Interval) -> f64| ColumnData::Number(rows.iter().map(f).collect());
    let float = |f: fn(&iperf3_json::Interval) -> Option<f64>| {
        ColumnData::Float(rows.iter().map(f).collect())
    };
    let int = |f: fn(&iperf3_json::Interval) -> Option<u64>| {
        ColumnData::Int(rows.iter().map(|r| f(r).map(|v| v as i64)).collect())
    };
    let mut table = Table::default();
    table.push_with_unit("start", number(|r| r.start), "s");
    table.push_with_unit("end", number(|r| r.end), "s");
    table.push_with_unit("seconds", number(|r| r.seconds), "s");
    table.push_with_unit("bytes", number(|r| r.bytes), "B");
    table.push_with_unit("bits_per_second", number(|r| r.bits_per_second), "bit/s");
    table.push("packets", int(|r| r.packets));
    table.push("lost_packets", int(|r| r.lost_packets));
    table.push_with_unit("jitter_ms", float(|r| r.jitter_ms), "ms");
    table.push("retransmits", int(|r| r.retransmits));
    table.push_with_unit("rtt_ms", float(|r| r.rtt_ms), "ms");
    table.push_with_unit("snd_cwnd", int(|r| r.snd_cwnd), "B");
    table.push(
        "omitted",
        ColumnData::Bool(rows.iter().map(|r| r.omitted).collect()),
    );
    if let Some(error) = &test.error {
        diags.error(None, format!("iperf3 recorded an error: {error}"));
    }
    Ok(Read {
        table,
        diagnostics: diags.into_items(),
    })
}

/// An InfluxDB line-protocol file: one row per field of each point, with
/// its measurement, its tags as `k=v,k=v`, the field's name, its value
/// (numbers and booleans as numbers, text as `text`) and the time in
/// nanoseconds since the epoch (empty when the line has none).
///
/// # Errors
/// When the file cannot be read.
pub fn line_protocol(path: &Path) -> Result<Read, ReadError> {
    let mut diags = Diagnostics::for_file(path.display().to_string());
    let mut measurement = DictBuilder::default();
    let mut tags = DictBuilder::default();
    let mut field = DictBuilder::default();
    let mut text = DictBuilder::default();
    let mut value = Vec::new();
    let mut time = Vec::new();
    line_protocol::parse(open(path)?, &mut diags, |_, point| {
        let tag_text: Vec<String> = (point.tags.iter())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let tag_text = tag_text.join(",");
        for (name, field_value) in &point.fields {
            measurement.push(&point.measurement);
            tags.push(&tag_text);
            field.push(name);
            let (number, words) = match field_value {
                FieldValue::Float(v) => (Some(*v), ""),
                FieldValue::Int(v) => (Some(*v as f64), ""),
                FieldValue::UInt(v) => (Some(*v as f64), ""),
                FieldValue::Bool(v) => (Some(f64::from(u8::from(*v))), ""),
                FieldValue::Str(s) => (None, s.as_ref()),
            };
            value.push(number);
            text.push(words);
            time.push(point.timestamp_ns);
        }
    })
    .map_err(|e| ReadError::parse(path, e))?;
    let mut table = Table::default();
    table.push("measurement", measurement.finish());
    table.push("tags", tags.finish());
    table.push("field", field.finish());
    table.push("value", ColumnData::Float(value));
    table.push("text", text.finish());
    table.push_with_unit("time", ColumnData::Int(time), "ns");
    Ok(Read {
        table,
        diagnostics: diags.into_items(),
    })
}

/// A Batch Shipyard perf-event export (JSON lines or CSV, as `expost
/// provision --from` reads): one row per entity with its line.
///
/// # Errors
/// When the file cannot be read or is no such export.
pub fn shipyard_export(path: &Path) -> Result<Read, ReadError> {
    let mut file = crate::files::open_regular(path)
        .map_err(|e| ReadError::new(path, None, format!("could not read: {e}")))?;
    let bytes = shipyard::read_text(&mut file)
        .map_err(|e| ReadError::new(path, None, format!("could not read: {e}")))?;
    let format = detect::shipyard_format(&bytes).ok_or_else(|| {
        ReadError::new(
            path,
            Some(1),
            "not a Batch Shipyard export (JSON lines or CSV)",
        )
    })?;
    let mut diags = Diagnostics::for_file(path.display().to_string());
    let entities =
        shipyard::parse(&bytes[..], format, &mut diags).map_err(|e| ReadError::parse(path, e))?;
    use shipyard::Entity as _;
    let mut table = Table::default();
    table.push(
        "partition_key",
        dict(entities.iter().map(|e| e.partition_key())),
    );
    table.push("row_key", dict(entities.iter().map(|e| e.row_key())));
    table.push(
        "event",
        dict(entities.iter().map(|e| e.event().unwrap_or(""))),
    );
    table.push(
        "node_id",
        dict(entities.iter().map(|e| e.node_id().unwrap_or(""))),
    );
    table.push(
        "message",
        dict(entities.iter().map(|e| e.message().unwrap_or(""))),
    );
    table.push(
        "line",
        ColumnData::Int(entities.iter().map(|e| Some(e.line() as i64)).collect()),
    );
    Ok(Read {
        table,
        diagnostics: diags.into_items(),
    })
}

/// A spot-instance trace (any format `expost traces` reads): one row per
/// change, seconds since the first record, the nodes that joined (+) or
/// left (-), and the node when the trace names them.
///
/// # Errors
/// When the file cannot be read or is no known trace.
pub fn trace(path: &Path) -> Result<Read, ReadError> {
    let mut diags = Diagnostics::for_file(path.display().to_string());
    let trace =
        spot_trace::parse(open(path)?, ReadOptions::default(), &mut diags).map_err(|e| {
            let line = match &e {
                TraceError::Unknown { line, .. } | TraceError::Invalid { line, .. } => Some(*line),
                _ => None,
            };
            ReadError::new(path, line, e.to_string())
        })?;
    let events = &trace.events;
    let mut table = Table::default();
    table.push_with_unit(
        "t",
        ColumnData::Number(events.iter().map(|e| e.t).collect()),
        "s",
    );
    table.push(
        "delta",
        ColumnData::Int(events.iter().map(|e| Some(e.delta)).collect()),
    );
    table.push(
        "node",
        ColumnData::Int(events.iter().map(|e| e.node.map(i64::from)).collect()),
    );
    Ok(Read {
        table,
        diagnostics: diags.into_items(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn repo(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path)
    }

    fn column<'a>(table: &'a Table, name: &str) -> &'a ColumnData {
        &(table.columns.iter().find(|c| c.name == name).unwrap()).data
    }

    #[test]
    fn an_event_log_has_one_row_per_event() {
        let path = repo("examples/failover/hc_failover_020/hc_failover_020_1/event_log.json");
        let read = shremote(&path).unwrap();
        assert!(read.table.rows() >= 3);
        let ColumnData::Dict { values, .. } = column(&read.table, "name") else {
            panic!("name is text");
        };
        assert!(values.iter().any(|v| v == "iperf_client"));
    }

    #[test]
    fn iperf3_intervals_and_traces_are_read() {
        let path =
            repo("tests/fixtures/iperf3/tcp_P4_iperf3.6_ekfoury-iperf3_plotter_my_test.json");
        let read = iperf3(&path).unwrap();
        assert_eq!(read.table.rows(), 60);
        let read = trace(&repo(
            "tests/fixtures/preemption/bamboo-traces/traces/p3-trace.csv",
        ))
        .unwrap();
        assert!(read.table.rows() > 1);
        let read = shipyard_export(&repo("examples/provision/events.jsonl")).unwrap();
        assert!(read.table.rows() > 1);
    }

    #[test]
    fn line_protocol_has_a_row_per_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("points.lp");
        std::fs::write(&path, "cpu,host=a usage=0.5,name=\"x\" 10\nbroken line\n").unwrap();
        let read = line_protocol(&path).unwrap();
        assert_eq!(read.table.rows(), 2);
        assert_eq!(
            column(&read.table, "value"),
            &ColumnData::Float(vec![Some(0.5), None])
        );
        assert!(read.diagnostics.iter().any(|d| d.line == Some(2)));
    }

    #[test]
    fn a_file_that_cannot_be_used_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event_log.json");
        std::fs::write(&path, "[\n{\"name\": \n").unwrap();
        let error = shremote(&path).unwrap_err();
        assert_eq!(error.file, path.display().to_string());
        assert!(error.line.is_some(), "{error:?}");
        assert!(matches!(
            iperf3(&dir.path().join("none.json")),
            Err(ReadError { line: None, .. })
        ));
    }
}
