//! The ombt controller's output (`ombt2 controller --output FILE`, kept by
//! ombt-orchestrator as `*controller*.log`): two JSON lines, the per-agent
//! results of the clients, then of the servers. Each line is an object
//! `{"<agent name>": {"start_time", "stop_time", "msgs_ok", "msgs_fail",
//! "errors", "latency": {"min", "max", "total", "count", "sum_of_squares",
//! "distribution": {"<decade>": [10 counts]}}}}`; times are epoch seconds,
//! latencies milliseconds.
//!
//! The same glob also matches `*controller*_docker.log`, the controller's
//! human-readable output: [`sniff`] tells the two apart by content.

use crate::ParseError;
use expost_model::Diagnostics;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufRead;

/// What a file matching `*controller*.log` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerKind {
    /// The JSON per-agent results (one JSON object per line).
    Results,
    /// The controller's human-readable summary ("Aggregated RPC Client results:").
    Text,
}

/// Tells the controller's results from its human-readable output, from the
/// first bytes of a file (a few KB are enough). `None`: neither.
pub fn sniff(head: &[u8]) -> Option<ControllerKind> {
    // UTF-8 (the usual case) is checked by the fast validator and borrowed;
    // anything else, or a character cut at the end of `head`, is converted.
    let text = match std::str::from_utf8(head) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(head),
    };
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if first.starts_with('{')
        && (first.contains("\"latency\"") || first == "{}" || first.contains("\"msgs_ok\""))
    {
        return Some(ControllerKind::Results);
    }
    let markers = [
        "Aggregated RPC Client results",
        "RPC call test results",
        "RPC cast test results",
        "Aggregated Notifier",
        "Total Messages:",
    ];
    markers
        .iter()
        .any(|m| text.contains(m))
        .then_some(ControllerKind::Text)
}

/// One agent's latency statistic, as ombt wrote it (milliseconds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LatencyRecord {
    /// Smallest latency; `None` when the agent recorded none.
    pub min: Option<f64>,
    /// Largest latency.
    pub max: Option<f64>,
    /// Sum of the latencies, ms.
    pub total: f64,
    /// Number of latencies.
    pub count: u64,
    /// Sum of the squared latencies, ms².
    pub sum_of_squares: f64,
    /// Per decade (the key of ombt's map, as a number), the counts of its ten buckets.
    pub distribution: BTreeMap<i32, [u64; 10]>,
}

/// One agent's results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentResult {
    /// The agent's name (the key in ombt's object).
    pub name: String,
    /// When it started, epoch seconds (`None` if it never did).
    pub start_time: Option<f64>,
    /// When it stopped, epoch seconds.
    pub stop_time: Option<f64>,
    /// Messages sent or received successfully.
    pub msgs_ok: u64,
    /// Messages that failed.
    pub msgs_fail: u64,
    /// Its latencies.
    pub latency: LatencyRecord,
    /// Error messages and how often each occurred.
    pub errors: BTreeMap<String, u64>,
}

/// The controller's results: clients (line 1) and servers (line 2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControllerResults {
    /// The clients (RPC clients or notifiers), in name order.
    pub clients: Vec<AgentResult>,
    /// The servers (RPC servers or listeners), in name order.
    pub servers: Vec<AgentResult>,
}

#[derive(Deserialize)]
struct RawAgent {
    start_time: Option<f64>,
    stop_time: Option<f64>,
    #[serde(default)]
    msgs_ok: u64,
    #[serde(default)]
    msgs_fail: u64,
    #[serde(default)]
    latency: Option<RawLatency>,
    #[serde(default)]
    errors: Option<BTreeMap<String, u64>>,
}

#[derive(Deserialize)]
struct RawLatency {
    min: Option<f64>,
    max: Option<f64>,
    #[serde(default)]
    total: f64,
    #[serde(default)]
    count: u64,
    #[serde(default)]
    sum_of_squares: f64,
    #[serde(default)]
    distribution: Option<BTreeMap<String, Value>>,
}

/// Parses the controller's results. Blank lines are skipped; lines after
/// the second are reported and ignored; an agent that cannot be read is
/// reported and left out.
///
/// # Errors
/// [`ParseError::Empty`] for an empty file; [`ParseError::Format`] when
/// a line is not a JSON object or the servers' line is missing.
pub fn parse(
    reader: impl BufRead,
    diags: &mut Diagnostics,
) -> Result<ControllerResults, ParseError> {
    let mut sides: Vec<Vec<AgentResult>> = Vec::with_capacity(2);
    let mut line_no = 0u64;
    let mut seen_any = false;
    for line in reader.split(b'\n') {
        let line = line?;
        line_no += 1;
        let text = trim(&line);
        if text.is_empty() {
            continue;
        }
        seen_any = true;
        if sides.len() == 2 {
            diags.warn(Some(line_no), "more than two result lines: ignored");
            continue;
        }
        let side = if sides.is_empty() {
            "clients"
        } else {
            "servers"
        };
        let object: serde_json::Map<String, Value> = serde_json::from_slice(text).map_err(|e| {
            ParseError::format(
                Some(line_no),
                format!("the {side}' results are not a JSON object: {e}"),
            )
        })?;
        sides.push(agents(object, side, line_no, diags));
    }
    if !seen_any {
        return Err(ParseError::Empty);
    }
    if sides.len() < 2 {
        return Err(ParseError::format(
            Some(line_no),
            "only one result line (the clients'): the servers' line is missing",
        ));
    }
    let servers = sides.pop().unwrap_or_default();
    let clients = sides.pop().unwrap_or_default();
    Ok(ControllerResults { clients, servers })
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

fn agents(
    object: serde_json::Map<String, Value>,
    side: &str,
    line: u64,
    diags: &mut Diagnostics,
) -> Vec<AgentResult> {
    let mut out = Vec::with_capacity(object.len());
    for (name, value) in object {
        match serde_json::from_value::<RawAgent>(value) {
            Ok(raw) => out.push(agent(name, raw, line, diags)),
            Err(e) => diags.error(
                Some(line),
                format!("{side}: agent '{name}' cannot be read ({e}): left out"),
            ),
        }
    }
    out
}

fn agent(name: String, raw: RawAgent, line: u64, diags: &mut Diagnostics) -> AgentResult {
    let latency = match raw.latency {
        Some(l) => latency(&name, l, line, diags),
        None => {
            diags.warn(
                Some(line),
                format!("agent '{name}' has no latency statistic"),
            );
            LatencyRecord::default()
        }
    };
    if latency.count == 0 && raw.msgs_ok > 0 {
        diags.note(
            Some(line),
            format!(
                "agent '{name}' has {} messages but no latency sample",
                raw.msgs_ok
            ),
        );
    }
    AgentResult {
        name,
        start_time: raw.start_time,
        stop_time: raw.stop_time,
        msgs_ok: raw.msgs_ok,
        msgs_fail: raw.msgs_fail,
        latency,
        errors: raw.errors.unwrap_or_default(),
    }
}

fn latency(name: &str, raw: RawLatency, line: u64, diags: &mut Diagnostics) -> LatencyRecord {
    let mut distribution = BTreeMap::new();
    for (key, counts) in raw.distribution.unwrap_or_default() {
        let Ok(decade) = key.trim().parse::<i32>() else {
            diags.warn(
                Some(line),
                format!(
                    "agent '{name}': distribution key '{key}' is not a decade: bucket left out"
                ),
            );
            continue;
        };
        let Value::Array(items) = counts else {
            diags.warn(
                Some(line),
                format!("agent '{name}': decade {decade} is not a list of counts: left out"),
            );
            continue;
        };
        let mut row = [0u64; 10];
        if items.len() != 10 {
            diags.warn(
                Some(line),
                format!(
                    "agent '{name}': decade {decade} has {} counts, not 10",
                    items.len()
                ),
            );
        }
        for (slot, item) in row.iter_mut().zip(&items) {
            match item.as_u64() {
                Some(c) => *slot = c,
                None => diags.warn(
                    Some(line),
                    format!(
                        "agent '{name}': decade {decade} holds {item}, not a count: taken as 0"
                    ),
                ),
            }
        }
        distribution.insert(decade, row);
    }
    let in_buckets: u64 = distribution.values().flat_map(|r| r.iter()).sum();
    if in_buckets != raw.count {
        diags.warn(
            Some(line),
            format!(
                "agent '{name}': latency count is {} but its distribution holds {in_buckets}",
                raw.count
            ),
        );
    }
    LatencyRecord {
        min: raw.min,
        max: raw.max,
        total: raw.total,
        count: raw.count,
        sum_of_squares: raw.sum_of_squares,
        distribution,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_LINES: &str = concat!(
        r#"{"c1": {"start_time": 10.0, "stop_time": 12.0, "msgs_ok": 3, "msgs_fail": 1, "errors": {"timeout": 1}, "#,
        r#""latency": {"min": 0.0, "max": 25.0, "total": 30.0, "count": 3, "sum_of_squares": 650.0, "distribution": {"0": [1,0,0,0,0,1,0,0,0,0], "1": [0,0,1,0,0,0,0,0,0,0]}}}}"#,
        "\n",
        r#"{"s1": {"start_time": 10.5, "stop_time": 12.5, "msgs_ok": 3, "msgs_fail": 0, "errors": {}, "latency": {"min": null, "max": null, "total": 0, "count": 0, "sum_of_squares": 0, "distribution": {}}}}"#,
        "\n"
    );

    #[test]
    fn reads_clients_then_servers() {
        let mut d = Diagnostics::default();
        let r = parse(TWO_LINES.as_bytes(), &mut d).unwrap();
        assert_eq!(r.clients.len(), 1);
        assert_eq!(r.servers.len(), 1);
        let c = &r.clients[0];
        assert_eq!((c.msgs_ok, c.msgs_fail), (3, 1));
        assert_eq!(c.latency.min, Some(0.0));
        assert_eq!(c.latency.distribution[&1][2], 1);
        assert_eq!(c.errors["timeout"], 1);
        assert_eq!(r.servers[0].latency.count, 0);
        assert_eq!(r.servers[0].latency.min, None);
        // Only the note that s1 has messages but no latency.
        assert_eq!(d.len(), 1, "{:?}", d.items());
    }

    #[test]
    fn one_line_is_an_error() {
        let first = TWO_LINES.lines().next().unwrap_or_default();
        let err = parse(first.as_bytes(), &mut Diagnostics::default()).unwrap_err();
        assert!(
            err.to_string().contains("servers' line is missing"),
            "{err}"
        );
    }

    #[test]
    fn non_json_is_an_error_with_its_line() {
        let text = format!(
            "{}\nRPC call test results\n",
            TWO_LINES.lines().next().unwrap_or_default()
        );
        let err = parse(text.as_bytes(), &mut Diagnostics::default()).unwrap_err();
        assert_eq!(err.line(), Some(2));
    }

    #[test]
    fn sniffs_results_from_human_output() {
        assert_eq!(sniff(TWO_LINES.as_bytes()), Some(ControllerKind::Results));
        let human = "RPC call test results\n1 RPC clients, 1 RPC Servers (2 total)\n\n\nAggregated RPC Client results:\n";
        assert_eq!(sniff(human.as_bytes()), Some(ControllerKind::Text));
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn bad_buckets_are_reported() {
        let text = concat!(
            r#"{"c": {"msgs_ok": 1, "msgs_fail": 0, "latency": {"min": 1, "max": 1, "total": 1, "count": 1, "sum_of_squares": 1, "distribution": {"x": [1], "0": [0,1]}}}}"#,
            "\n{}\n"
        );
        let mut d = Diagnostics::default();
        let r = parse(text.as_bytes(), &mut d).unwrap();
        assert_eq!(r.clients[0].latency.distribution[&0][1], 1);
        assert_eq!(d.len(), 2, "{:?}", d.items());
    }
}
