//! Telemetry from an InfluxDB 1.x server: the notebook's default queries,
//! cut to each run's window, the user's `--query NAME=…`, and the samples
//! of the chosen measurements.

use super::{
    other_tags, sort_samples, CampaignRun, LineProtocolFile, Sample, Telemetry, TelemetrySource,
    Window, RABBITMQ_NODE, RABBITMQ_OVERVIEW, ROLES,
};
use crate::study::Context;
use expost_model::Diagnostics;
use expost_remote::influx::{Epoch, InfluxClient, Series, StatementResult};
use serde_json::Value;
use std::time::Duration;

/// Splits `NAME=QUERY`; the error says what a query looks like.
///
/// # Errors
/// When either side is empty.
pub fn parse_query(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, query)) if !name.trim().is_empty() && !query.trim().is_empty() => {
            Ok((name.trim().to_string(), query.trim().to_string()))
        }
        _ => Err(format!(
            "--query '{text}' must be NAME=QUERY, e.g. q=SELECT max(x) FROM m WHERE time >= $start"
        )),
    }
}

/// An InfluxDB server as a telemetry source.
#[derive(Debug)]
pub struct InfluxSource {
    client: InfluxClient,
    database: String,
    queries: Vec<(String, String)>,
    /// Measurements whose samples are fetched for series and figures.
    measurements: Vec<String>,
    origin: Option<String>,
}

impl InfluxSource {
    /// A source querying `database` at `url`.
    pub fn new(
        url: &str,
        database: &str,
        timeout: Duration,
        queries: Vec<(String, String)>,
    ) -> Self {
        InfluxSource {
            client: InfluxClient::new(url, timeout),
            database: database.to_string(),
            queries,
            measurements: LineProtocolFile::default_measurements(),
            origin: None,
        }
    }

    /// Completes the server's credentials from `INFLUX_USERNAME` and
    /// `INFLUX_PASSWORD` where its URL gives none (see
    /// [`InfluxClient::with_env_credentials`]).
    pub fn with_env_credentials(mut self) -> Self {
        self.client = self.client.with_env_credentials();
        self
    }

    /// Fetches the samples of `measurements` (instead of the defaults).
    pub fn with_measurements(mut self, measurements: Vec<String>) -> Self {
        self.measurements = measurements;
        self
    }

    /// Names `origin` (e.g. the tarball a local server serves) instead of
    /// the server's URL as the file of its diagnostics.
    pub fn with_origin(mut self, origin: String) -> Self {
        self.origin = Some(origin);
        self
    }
}

/// The notebook's default queries over `[start, stop]` (epoch ns): (name, InfluxQL).
pub fn default_queries(start: i64, stop: i64) -> Vec<(String, String)> {
    let range = format!("time >= {start} AND time <= {stop}");
    let mut out = Vec::new();
    for role in ROLES {
        out.push((
            format!("min_usage_idle_{}", role.replace('-', "_")),
            format!(
                "SELECT min(usage_idle) FROM (SELECT mean(usage_idle) AS usage_idle FROM cpu WHERE role = '{role}' AND {range} GROUP BY host) WHERE {range}"
            ),
        ));
    }
    for (m, fields) in [
        ("rabbitmq_overview", &RABBITMQ_OVERVIEW[..]),
        ("rabbitmq_node", &RABBITMQ_NODE[..]),
    ] {
        for f in fields {
            out.push((
                (*f).to_string(),
                format!("SELECT max(\"{f}\") FROM {m} WHERE {range}"),
            ));
        }
    }
    out
}

/// InfluxQL fetching every field of `measurements` in `[start, stop]` (epoch
/// ns), one series per tag set (`GROUP BY *` keeps tags out of the columns).
pub fn samples_query(measurements: &[String], start: i64, stop: i64) -> String {
    let from: Vec<String> = measurements
        .iter()
        .map(|m| format!("\"{}\"", m.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!(
        "SELECT * FROM {} WHERE time >= {start} AND time <= {stop} GROUP BY *",
        from.join(", ")
    )
}

/// A field's value as a sample's number: floats and integers as they are,
/// booleans as 1/0 (as the line-protocol reader does); strings and the
/// nulls of fields a point lacks are not samples.
fn sample_value(value: &Value) -> Option<f64> {
    match value {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        v => v.as_f64(),
    }
}

/// The samples of one series answered with `epoch=ns` (rows without an
/// integer time are counted in `untimed`).
pub fn samples_of(series: &Series, untimed: &mut u64) -> Vec<Sample> {
    let Some(time_col) = series.column("time") else {
        *untimed += series.values.len() as u64;
        return Vec::new();
    };
    let tag = |k: &str| series.tags.get(k).cloned().unwrap_or_default();
    let (host, role) = (tag("host"), tag("role"));
    let tags = other_tags(series.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut out = Vec::new();
    for row in &series.values {
        let Some(ns) = row.get(time_col).and_then(Value::as_i64) else {
            *untimed += 1;
            continue;
        };
        for (i, value) in row.iter().enumerate() {
            let (Some(field), Some(value)) = (series.columns.get(i), sample_value(value)) else {
                continue;
            };
            if i != time_col {
                out.push(Sample {
                    measurement: series.name.clone(),
                    field: field.clone(),
                    host: host.clone(),
                    role: role.clone(),
                    tags: tags.clone(),
                    time: ns as f64 / 1e9,
                    value,
                });
            }
        }
    }
    out
}

/// The first number in the first row of a statement's first series, past the time column.
fn first_value(result: &StatementResult) -> Option<f64> {
    let series = result.series.first()?;
    let row = series.values.first()?;
    let time = series.column("time");
    row.iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != time)
        .find_map(|(_, v)| v.as_f64())
}

impl InfluxSource {
    /// The samples of the answer to [`samples_query`], sorted; a failed or
    /// missing answer is reported.
    fn samples_from(
        &self,
        run: &CampaignRun,
        result: Option<&StatementResult>,
        query: &str,
        diags: &mut Diagnostics,
    ) -> Vec<Sample> {
        let result = match result {
            Some(StatementResult { error: Some(e), .. }) => {
                diags.warn(
                    None,
                    format!("run {}: samples not read ({query}): {e}", run.label()),
                );
                return Vec::new();
            }
            Some(r) => r,
            None => {
                diags.warn(
                    None,
                    format!(
                        "run {}: no answer to the samples query ({query})",
                        run.label()
                    ),
                );
                return Vec::new();
            }
        };
        let mut untimed = 0;
        let mut samples: Vec<Sample> = result
            .series
            .iter()
            .flat_map(|s| samples_of(s, &mut untimed))
            .collect();
        if untimed > 0 {
            diags.warn(
                None,
                format!(
                    "run {}: {untimed} sample rows without an epoch time left out ({query})",
                    run.label()
                ),
            );
        }
        sort_samples(&mut samples);
        samples
    }
}

impl TelemetrySource for InfluxSource {
    fn fetch(
        &self,
        run: &CampaignRun,
        window: Window,
        _: &Context<'_>,
        diags: &mut Diagnostics,
    ) -> Telemetry {
        let (start, stop) = (
            (window.start * 1e9).floor() as i64,
            (window.stop * 1e9).ceil() as i64,
        );
        let mut named = default_queries(start, stop);
        let defaults = named.len();
        named.extend(self.queries.iter().map(|(n, q)| {
            (
                n.clone(),
                q.replace("$start", &start.to_string())
                    .replace("$stop", &stop.to_string()),
            )
        }));
        diags.set_file(
            self.origin
                .clone()
                .unwrap_or_else(|| format!("{}/query", self.client.base())),
        );
        let samples_query = samples_query(&self.measurements, start, stop);
        let text: Vec<&str> = named
            .iter()
            .map(|(_, q)| q.as_str())
            .chain([samples_query.as_str()])
            .collect();
        let results = match self.client.query_each(&self.database, &text, Epoch::Ns) {
            Ok(r) => r,
            Err(e) => {
                let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
                diags.error(
                    None,
                    format!(
                        "run {}: telemetry not read (queries {}): {e}",
                        run.label(),
                        names.join(", ")
                    ),
                );
                return Telemetry::default();
            }
        };
        let mut telemetry = Telemetry::default();
        let mut empty = Vec::new();
        for (i, (name, query)) in named.iter().enumerate() {
            let result = results.iter().find(|r| r.statement_id == i as u64);
            match result {
                Some(StatementResult { error: Some(e), .. }) => diags.warn(
                    None,
                    format!("run {}: query '{name}' ({query}) failed: {e}", run.label()),
                ),
                Some(r) => match first_value(r) {
                    Some(v) => {
                        telemetry.scalars.insert(name.clone(), v);
                    }
                    None if i < defaults => empty.push(name.clone()),
                    None => diags.warn(
                        None,
                        format!("run {}: query '{name}' returned no series", run.label()),
                    ),
                },
                None => diags.warn(
                    None,
                    format!("run {}: no answer to query '{name}'", run.label()),
                ),
            }
        }
        let samples = results
            .iter()
            .find(|r| r.statement_id == named.len() as u64);
        telemetry.samples = self.samples_from(run, samples, &samples_query, diags);
        if !empty.is_empty() {
            diags.note(
                None,
                format!(
                    "run {}: no telemetry in the run's window for: {}",
                    run.label(),
                    empty.join(", ")
                ),
            );
        }
        telemetry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_samples_query_names_each_measurement_and_groups_by_every_tag() {
        let q = samples_query(&["cpu".into(), "a\"b".into()], 10, 20);
        assert_eq!(
            q,
            r#"SELECT * FROM "cpu", "a\"b" WHERE time >= 10 AND time <= 20 GROUP BY *"#
        );
    }

    #[test]
    fn series_rows_become_samples_with_their_tags_skipping_strings_and_nulls() {
        let series = Series {
            name: "cpu".into(),
            tags: [("host", "h1"), ("role", "bus"), ("cpu", "cpu-total")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            columns: ["time", "usage_idle", "ok", "label", "n"]
                .map(String::from)
                .into(),
            values: vec![
                vec![
                    json!(1_500_000_000),
                    json!(97.5),
                    json!(true),
                    json!("x"),
                    json!(3),
                ],
                vec![
                    json!(2_000_000_000),
                    Value::Null,
                    json!(false),
                    Value::Null,
                    json!(4),
                ],
                vec![
                    Value::Null,
                    json!(1.0),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
            ],
        };
        let mut untimed = 0;
        let samples = samples_of(&series, &mut untimed);
        assert_eq!(untimed, 1);
        let got: Vec<(f64, &str, f64)> = samples
            .iter()
            .map(|s| (s.time, s.field.as_str(), s.value))
            .collect();
        assert_eq!(
            got,
            vec![
                (1.5, "usage_idle", 97.5),
                (1.5, "ok", 1.0),
                (1.5, "n", 3.0),
                (2.0, "ok", 0.0),
                (2.0, "n", 4.0),
            ]
        );
        assert!(samples.iter().all(|s| s.host == "h1"
            && s.role == "bus"
            && s.tags == "cpu=cpu-total"
            && s.measurement == "cpu"));
    }
}
