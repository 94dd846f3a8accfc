//! Shremote event logs (`event_log.json`): a JSON list with one object per
//! command started on a host.
//!
//! Two formats exist. The old one names the command `name_` and keeps the
//! command's user variables beside `time_` and `stop_time_` (so a user
//! variable called `time` is *not* the timestamp); a stop is sometimes its
//! own entry with only `name_` and `stop_time_`. The newer one writes
//! `addr_`, `start_`, `time_`, `stop_time_` and the command's formatted
//! configuration, whose `name` names it.

use crate::ParseError;
use expost_model::{Diagnostics, Event};
use serde_json::{Map, Value};
use std::io::BufRead;

/// The events of one Shremote log, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventLog {
    /// One event per command start (per host), absolute UTC epoch times.
    pub events: Vec<Event>,
}

impl EventLog {
    /// Every event called `name`, in file order.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.events.iter().filter(move |e| e.name == name)
    }

    /// The earliest start of the command `name` (it may have run on several hosts).
    pub fn first_time(&self, name: &str) -> Option<f64> {
        self.named(name).map(|e| e.time).min_by(f64::total_cmp)
    }

    /// The distinct event names, in file order.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for event in &self.events {
            if !names.contains(&event.name.as_str()) {
                names.push(&event.name);
            }
        }
        names
    }
}

/// Parses a Shremote event log, old or new format.
///
/// Entries without a name or a usable time are reported and skipped; a stop
/// entry is attached to the latest start of the same command.
pub fn parse(reader: impl BufRead, diags: &mut Diagnostics) -> Result<EventLog, ParseError> {
    let value: Value = match serde_json::from_reader(reader) {
        Ok(v) => v,
        Err(e) if e.is_eof() && e.line() <= 1 && e.column() == 0 => return Err(ParseError::Empty),
        Err(e) => {
            let kind = if e.is_eof() {
                "truncated JSON"
            } else {
                "invalid JSON"
            };
            return Err(ParseError::format(
                Some(e.line() as u64),
                format!("{kind}: {e}"),
            ));
        }
    };
    let entries = match value {
        Value::Array(entries) => entries,
        other => {
            return Err(ParseError::format(
                None,
                format!(
                    "a Shremote event log is a JSON list of commands, found {}",
                    json_kind(&other)
                ),
            ))
        }
    };
    let mut log = EventLog::default();
    for (index, entry) in entries.into_iter().enumerate() {
        let what = format!("entry {}", index + 1);
        match entry {
            Value::Object(map) => read_entry(&mut log, map, &what, diags),
            other => diags.warn(
                None,
                format!("{what} is {}, not an object; skipped", json_kind(&other)),
            ),
        }
    }
    Ok(log)
}

fn read_entry(
    log: &mut EventLog,
    mut map: Map<String, Value>,
    what: &str,
    diags: &mut Diagnostics,
) {
    let name = match entry_name(&map) {
        Some(name) => name,
        None => {
            diags.warn(
                None,
                format!("{what} has no \"name_\" or \"name\"; skipped"),
            );
            return;
        }
    };
    let time = take_time(&mut map, "time_", what, diags);
    let stop_time = take_time(&mut map, "stop_time_", what, diags);
    map.remove("name_");
    match (time, stop_time) {
        (Some(time), stop_time) => log.events.push(Event {
            name,
            time,
            stop_time,
            attributes: map.into_iter().collect(),
        }),
        (None, Some(stop)) => {
            // The start entry may already carry a planned stop (start +
            // duration); the stop entry records when it really stopped.
            let started = log.events.iter_mut().rev().find(|e| e.name == name);
            match started {
                Some(event) => event.stop_time = Some(stop),
                None => diags.warn(
                    None,
                    format!("{what}: stop of {name:?} without an earlier start; skipped"),
                ),
            }
        }
        (None, None) => diags.warn(
            None,
            format!("{what} ({name:?}) has neither \"time_\" nor \"stop_time_\"; skipped"),
        ),
    }
}

fn entry_name(map: &Map<String, Value>) -> Option<String> {
    ["name_", "name"]
        .iter()
        .find_map(|key| map.get(*key).and_then(Value::as_str))
        .map(str::to_string)
}

fn take_time(
    map: &mut Map<String, Value>,
    key: &str,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<f64> {
    let value = map.remove(key)?;
    match value.as_f64() {
        Some(t) if t.is_finite() && t > 0.0 => Some(t),
        Some(t) => {
            diags.warn(
                None,
                format!("{what}: \"{key}\" is {t}, not an epoch time; ignored"),
            );
            None
        }
        None if value.is_null() => None,
        None => {
            diags.warn(
                None,
                format!(
                    "{what}: \"{key}\" is {}, not a number; ignored",
                    json_kind(&value)
                ),
            );
            None
        }
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (Result<EventLog, ParseError>, Diagnostics) {
        let mut diags = Diagnostics::for_file("event_log.json");
        (parse(text.as_bytes(), &mut diags), diags)
    }

    #[test]
    fn old_format_uses_time_underscore_not_the_user_variable() {
        let text = r#"[
          {"name_": "iperf_server", "time_": 1600000000.5, "time": 30, "i": 0},
          {"name_": "iperf_client", "time_": 1600000001.25, "time": 30, "stop_time_": 1600000031.0},
          {"name_": "iperf_client", "time_": 1600000001.30, "time": 30},
          {"name_": "failover", "time_": 1600000016.0},
          {"name_": "failover", "stop_time_": 1600000016.2}
        ]"#;
        let (log, diags) = parse_str(text);
        let log = log.unwrap();
        assert!(diags.is_empty(), "{:?}", diags.items());
        assert_eq!(log.first_time("iperf_client"), Some(1600000001.25));
        assert_eq!(
            log.named("failover").next().unwrap().stop_time,
            Some(1600000016.2)
        );
        assert_eq!(log.events[0].attributes["time"], 30);
        assert_eq!(log.names(), ["iperf_server", "iperf_client", "failover"]);
    }

    #[test]
    fn new_format_reads_name_and_host_fields() {
        let text = r#"[{"addr_": "10.0.0.1", "start_": "iperf3 -c x", "time_": 1600000001.0,
                        "stop_time_": 1600000009.0, "name": "iperf_client", "begin": 2}]"#;
        let (log, _) = parse_str(text);
        let log = log.unwrap();
        let event = log.named("iperf_client").next().unwrap();
        assert_eq!(event.time, 1600000001.0);
        assert_eq!(event.attributes["addr_"], "10.0.0.1");
    }

    #[test]
    fn bad_entries_are_reported() {
        let text = r#"[{"time_": 1.0}, 5, {"name_": "x", "time_": "soon"}, {"name_": "y", "stop_time_": 9.0}]"#;
        let (log, diags) = parse_str(text);
        assert!(log.unwrap().events.is_empty());
        assert_eq!(diags.len(), 5, "{:?}", diags.items());
    }

    #[test]
    fn not_a_list_and_empty_are_errors() {
        assert!(parse_str(r#"{"a": 1}"#)
            .0
            .unwrap_err()
            .to_string()
            .contains("JSON list"));
        assert!(matches!(parse_str("").0, Err(ParseError::Empty)));
        assert!(parse_str("[{\"name_\": ")
            .0
            .unwrap_err()
            .to_string()
            .contains("truncated"));
    }
}
