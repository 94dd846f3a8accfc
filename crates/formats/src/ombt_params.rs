//! ombt-orchestrator's `params.json`: a JSON list of run objects, each with
//! the campaign's varied parameters (`call_type`, `nbr_clients`,
//! `nbr_servers`, `executor`, `pause`, …) and `backup_dir`, the folder
//! (relative to the campaign's root) where the run's results were saved.

use crate::ParseError;
use expost_model::{Diagnostics, Params};
use serde_json::Value;
use std::io::BufRead;

/// One run listed in `params.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEntry {
    /// Position in the list, 0-based.
    pub index: usize,
    /// The run's `backup_dir`, if it has one (a run without one cannot be read).
    pub backup_dir: Option<String>,
    /// Every other key, as text (strings unquoted, numbers as written, others as JSON).
    pub params: Params,
    /// The run object itself, keys and values as in the file (for the JSON output).
    pub raw: serde_json::Map<String, Value>,
}

/// Parses `params.json`. An item of the list that is not an object is
/// reported and skipped; anything but a list is an error.
///
/// # Errors
/// [`ParseError::Empty`] for an empty file, [`ParseError::Format`] for
/// invalid JSON or a top-level value that is not a list.
pub fn parse(
    mut reader: impl BufRead,
    diags: &mut Diagnostics,
) -> Result<Vec<RunEntry>, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ParseError::format(
            Some(e.line() as u64),
            format!("params.json is not valid JSON: {e}"),
        )
    })?;
    let Value::Array(items) = value else {
        return Err(ParseError::format(
            None,
            format!(
                "params.json must hold a JSON list of run objects, found {}",
                kind(&value)
            ),
        ));
    };
    let mut runs = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let Value::Object(raw) = item else {
            diags.error(
                None,
                format!(
                    "run {index} of the list is {}, not an object: skipped",
                    kind(&item)
                ),
            );
            continue;
        };
        let backup_dir = match raw.get("backup_dir") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                diags.error(
                    None,
                    format!("run {index}: backup_dir is {}, not a string", kind(other)),
                );
                None
            }
            None => {
                diags.error(None, format!("run {index}: no backup_dir"));
                None
            }
        };
        let params = raw
            .iter()
            .filter(|(k, _)| k.as_str() != "backup_dir")
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        runs.push(RunEntry {
            index,
            backup_dir,
            params,
            raw,
        });
    }
    Ok(runs)
}

/// A JSON value as parameter text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What kind of JSON value this is, for messages.
fn kind(value: &Value) -> &'static str {
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

    #[test]
    fn reads_runs_and_parameters() {
        let text =
            br#"[{"backup_dir": "a/b", "call_type": "rpc-call", "nbr_clients": 10, "pause": 0.5},
                        {"backup_dir": "c", "call_type": "rpc-cast", "nbr_clients": 20}]"#;
        let mut d = Diagnostics::default();
        let runs = parse(&text[..], &mut d).unwrap();
        assert!(d.is_empty());
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].backup_dir.as_deref(), Some("a/b"));
        assert_eq!(runs[0].params["call_type"], "rpc-call");
        assert_eq!(runs[0].params["nbr_clients"], "10");
        assert_eq!(runs[0].params["pause"], "0.5");
        assert!(!runs[0].params.contains_key("backup_dir"));
    }

    #[test]
    fn not_a_list_is_a_clear_error() {
        let mut d = Diagnostics::default();
        let err = parse(&br#"{"backup_dir": "a"}"#[..], &mut d).unwrap_err();
        assert!(err.to_string().contains("must hold a JSON list"), "{err}");
        assert!(err.to_string().contains("an object"), "{err}");
    }

    #[test]
    fn bad_items_are_reported_and_the_rest_read() {
        let mut d = Diagnostics::default();
        let runs = parse(
            &br#"[1, {"call_type": "x"}, {"backup_dir": "ok"}]"#[..],
            &mut d,
        )
        .unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].backup_dir, None);
        assert_eq!(d.len(), 2, "{:?}", d.items());
    }

    #[test]
    fn invalid_json_and_empty_files() {
        let mut d = Diagnostics::default();
        assert!(matches!(
            parse(&b"  \n"[..], &mut d),
            Err(ParseError::Empty)
        ));
        let err = parse(&b"[\n{\"a\": }"[..], &mut d).unwrap_err();
        assert_eq!(err.line(), Some(2));
    }
}
