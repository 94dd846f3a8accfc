//! Telemetry from an InfluxDB 1.x server: the notebook's default queries,
//! cut to each run's window, and the user's `--query NAME=…`.

use anyhow::{bail, Result};
use expost_model::Diagnostics;
use expost_remote::influx::{Epoch, InfluxClient, StatementResult};
use expost_studies::ombt::{
    CampaignRun, Telemetry, TelemetrySource, Window, RABBITMQ_NODE, RABBITMQ_OVERVIEW, ROLES,
};
use std::time::Duration;

/// Splits `NAME=QUERY`.
pub fn parse_query(text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((name, query)) if !name.trim().is_empty() && !query.trim().is_empty() => {
            Ok((name.trim().to_string(), query.trim().to_string()))
        }
        _ => bail!(
            "--query '{text}' must be NAME=QUERY, e.g. q=SELECT max(x) FROM m WHERE time >= $start"
        ),
    }
}

/// An InfluxDB server as a telemetry source.
pub struct InfluxSource {
    client: InfluxClient,
    database: String,
    queries: Vec<(String, String)>,
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
            origin: None,
        }
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

impl TelemetrySource for InfluxSource {
    fn fetch(&self, run: &CampaignRun, window: Window, diags: &mut Diagnostics) -> Telemetry {
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
        let text: Vec<&str> = named.iter().map(|(_, q)| q.as_str()).collect();
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
