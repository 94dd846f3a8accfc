//! InfluxDB 1.x over HTTP: `/ping`, `/query` (InfluxQL, `epoch=` precision,
//! `chunked=true` responses merged back per statement and series) and
//! `/write` (line protocol). Blocking, with a timeout on every request.
//! A statement's own `error` is returned with its result, not as a failure
//! of the whole request; HTTP errors carry the server's message.

use crate::redact;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;
use thiserror::Error;

/// Why a request failed.
#[derive(Debug, Error)]
pub enum InfluxError {
    /// The server could not be reached, or did not answer in time.
    #[error("InfluxDB at {url} unreachable{}: {message}", for_query(.query))]
    Unreachable {
        /// The URL requested (without the query).
        url: String,
        /// What the connection reported (refused, timed out…).
        message: String,
        /// The InfluxQL sent, for `/query` requests (shortened).
        query: Option<String>,
    },
    /// The server answered with an HTTP error.
    #[error("InfluxDB answered HTTP {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The server's error message.
        message: String,
    },
    /// The answer was not the JSON InfluxDB sends.
    #[error("InfluxDB answer unreadable: {0}")]
    Body(String),
}

/// One series of a statement's result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Measurement name.
    pub name: String,
    /// The tags it is grouped by.
    pub tags: BTreeMap<String, String>,
    /// Column names (`time` first).
    pub columns: Vec<String>,
    /// Rows, one value per column.
    pub values: Vec<Vec<Value>>,
}

impl Series {
    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// The result of one statement of a query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatementResult {
    /// Its position in the query, from 0.
    pub statement_id: u64,
    /// The series it returned (may be empty).
    pub series: Vec<Series>,
    /// The statement's own error, if it failed.
    pub error: Option<String>,
}

/// Timestamp precision asked for with `epoch=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epoch {
    /// Nanoseconds.
    Ns,
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
}

impl Epoch {
    fn as_str(self) -> &'static str {
        match self {
            Epoch::Ns => "ns",
            Epoch::Ms => "ms",
            Epoch::S => "s",
        }
    }
}

/// A client of one InfluxDB 1.x server.
#[derive(Clone)]
pub struct InfluxClient {
    /// The URL requests go to, without user information.
    endpoint: String,
    /// The URL as shown: the password as `***`.
    base: String,
    /// The user name the URL gave, if any.
    user: Option<String>,
    /// Whether the URL gave a password.
    has_password: bool,
    /// The `Authorization` header sent, if credentials were given.
    authorization: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for InfluxClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InfluxClient")
            .field("base", &self.base)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<hidden>"),
            )
            .finish()
    }
}

impl InfluxClient {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8086`),
    /// giving up on any request after `timeout`. User information in the
    /// URL (`http://user:password@host:8086`) is sent as HTTP basic
    /// authentication, and never shown: [`InfluxClient::base`] hides the password.
    pub fn new(base: &str, timeout: Duration) -> InfluxClient {
        let parts = redact::split_url(base.trim_end_matches('/'));
        let mut client = InfluxClient {
            endpoint: parts.bare.clone(),
            base: parts.shown.clone(),
            user: parts.user.clone(),
            has_password: parts.password.is_some(),
            authorization: None,
            agent: ureq::AgentBuilder::new().timeout(timeout).build(),
        };
        if let Some(user) = &parts.user {
            client.set_credentials(user, parts.password.as_deref().unwrap_or(""));
        }
        client
    }

    /// Completes the credentials from the environment: the password from
    /// `INFLUX_PASSWORD` when the URL gave none, the user name from
    /// `INFLUX_USERNAME` when the URL gave no user information.
    pub fn with_env_credentials(mut self) -> InfluxClient {
        if self.has_password {
            return self;
        }
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let user = self.user.clone().or_else(|| env("INFLUX_USERNAME"));
        let password = env("INFLUX_PASSWORD");
        if let Some(user) = user {
            self.set_credentials(&user, password.as_deref().unwrap_or(""));
        }
        self
    }

    fn set_credentials(&mut self, user: &str, password: &str) {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.authorization = Some(format!("Basic {token}"));
    }

    /// The server's address as it may be shown (a password as `***`).
    pub fn base(&self) -> &str {
        &self.base
    }

    fn authorized(&self, request: ureq::Request) -> ureq::Request {
        match &self.authorization {
            Some(a) => request.set("Authorization", a),
            None => request,
        }
    }

    fn call(
        &self,
        request: ureq::Request,
        body: Option<&str>,
    ) -> Result<ureq::Response, InfluxError> {
        let request = self.authorized(request);
        let url = redact::redact_urls(request.url().split('?').next().unwrap_or_default());
        let result = match body {
            Some(b) => request.send_string(b),
            None => request.call(),
        };
        match result {
            Ok(r) => Ok(r),
            Err(ureq::Error::Status(status, resp)) => {
                // An error page is read up to 1 MiB and shown as a short,
                // escaped excerpt; InfluxDB's own errors are JSON.
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(
                    &mut std::io::Read::take(resp.into_reader(), 1 << 20),
                    &mut text,
                );
                let message = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v.get("error").and_then(Value::as_str).map(String::from))
                    .unwrap_or(text);
                Err(InfluxError::Status {
                    status,
                    message: redact::redact_urls(&redact::excerpt(&message, 200)),
                })
            }
            Err(ureq::Error::Transport(t)) => Err(InfluxError::Unreachable {
                url,
                message: redact::redact_urls(&t.to_string()),
                query: None,
            }),
        }
    }

    /// Whether the server answers `/ping`.
    ///
    /// # Errors
    /// [`InfluxError::Unreachable`] or [`InfluxError::Status`].
    pub fn ping(&self) -> Result<(), InfluxError> {
        self.call(self.agent.get(&format!("{}/ping", self.endpoint)), None)
            .map(|_| ())
    }

    /// Writes line protocol into `database` (timestamps in nanoseconds).
    ///
    /// # Errors
    /// [`InfluxError::Status`] with the server's message for bad lines.
    pub fn write(&self, database: &str, lines: &str) -> Result<(), InfluxError> {
        let request = self
            .agent
            .post(&format!("{}/write", self.endpoint))
            .query("db", database)
            .query("precision", "ns");
        self.call(request, Some(lines)).map(|_| ())
    }

    /// Runs InfluxQL `query` (one or more `;`-separated statements) in
    /// `database`, with times as epoch integers of `epoch` precision, asking
    /// for a chunked answer; the chunks are merged. POST is used, so
    /// statements that change the database (CREATE …) work too.
    ///
    /// # Errors
    /// Transport and HTTP errors; a statement's own error is in its result.
    pub fn query(
        &self,
        database: &str,
        query: &str,
        epoch: Epoch,
    ) -> Result<Vec<StatementResult>, InfluxError> {
        let request = self
            .agent
            .post(&format!("{}/query", self.endpoint))
            .query("db", database)
            .query("epoch", epoch.as_str())
            .query("chunked", "true")
            .set("Content-Type", "application/x-www-form-urlencoded");
        let body = format!("q={}", encode(query));
        let response = self.call(request, Some(&body)).map_err(|e| match e {
            InfluxError::Unreachable { url, message, .. } => InfluxError::Unreachable {
                url,
                message,
                query: Some(shorten(query, 300)),
            },
            other => other,
        })?;
        let mut text = String::new();
        response
            .into_reader()
            .take(1 << 30)
            .read_to_string(&mut text)
            .map_err(|e| InfluxError::Body(e.to_string()))?;
        merge_chunks(&text)
    }

    /// Runs each of `statements` in `database` and returns one result per
    /// statement, in order (`statement_id` is its index). InfluxDB stops at
    /// the first statement that fails and leaves the others unanswered; those
    /// are sent again, from the one after the failure, so a bad statement
    /// costs only its own result.
    ///
    /// # Errors
    /// Transport and HTTP errors, as [`InfluxClient::query`].
    pub fn query_each(
        &self,
        database: &str,
        statements: &[&str],
        epoch: Epoch,
    ) -> Result<Vec<StatementResult>, InfluxError> {
        let mut out: Vec<StatementResult> = Vec::with_capacity(statements.len());
        while out.len() < statements.len() {
            let from = out.len();
            let rest = &statements[from..];
            let results = self.query(database, &rest.join(";\n"), epoch)?;
            for i in 0..rest.len() {
                let Some(r) = results.iter().find(|r| r.statement_id == i as u64) else {
                    break;
                };
                let mut r = r.clone();
                r.statement_id = (from + i) as u64;
                let failed = r.error.is_some();
                out.push(r);
                if failed {
                    break;
                }
            }
            if out.len() == from {
                out.push(StatementResult {
                    statement_id: from as u64,
                    series: Vec::new(),
                    error: Some("the server did not answer this statement".into()),
                });
            }
        }
        Ok(out)
    }
}

/// The words naming the query in an error's message, or nothing.
fn for_query(query: &Option<String>) -> String {
    query
        .as_deref()
        .map(|q| format!(" running `{q}`"))
        .unwrap_or_default()
}

/// `text` on one line, cut to at most `max` characters (with `…`).
fn shorten(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// `application/x-www-form-urlencoded` encoding of a value.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Merges a chunked answer (one JSON object per chunk) into one result per
/// statement, appending the rows of chunks of the same series.
///
/// # Errors
/// [`InfluxError::Body`] when a chunk is not InfluxDB's JSON; a top-level
/// `error` becomes [`InfluxError::Status`] with status 200.
pub fn merge_chunks(text: &str) -> Result<Vec<StatementResult>, InfluxError> {
    let mut out: Vec<StatementResult> = Vec::new();
    for chunk in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let chunk = chunk.map_err(|e| InfluxError::Body(e.to_string()))?;
        if let Some(error) = chunk.get("error").and_then(Value::as_str) {
            return Err(InfluxError::Status {
                status: 200,
                message: error.to_string(),
            });
        }
        let results = chunk
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| InfluxError::Body("no 'results' in the answer".into()))?;
        for r in results {
            let id = r.get("statement_id").and_then(Value::as_u64).unwrap_or(0);
            let pos = match out.iter().position(|s| s.statement_id == id) {
                Some(p) => p,
                None => {
                    out.push(StatementResult {
                        statement_id: id,
                        ..StatementResult::default()
                    });
                    out.len() - 1
                }
            };
            let target = &mut out[pos];
            // The first error is the statement's own: InfluxDB 1.6 follows a
            // failed statement with a bogus "not executed" under the same id.
            if let Some(e) = r.get("error").and_then(Value::as_str) {
                target.error.get_or_insert_with(|| e.to_string());
            }
            for s in r
                .get("series")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let series = parse_series(s);
                match target
                    .series
                    .iter_mut()
                    .find(|x| x.name == series.name && x.tags == series.tags)
                {
                    Some(existing) => existing.values.extend(series.values),
                    None => target.series.push(series),
                }
            }
        }
    }
    out.sort_by_key(|s| s.statement_id);
    Ok(out)
}

fn parse_series(value: &Value) -> Series {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    Series {
        name: value
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        tags: value
            .get("tags")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        columns: strings(value.get("columns")),
        values: value
            .get("values")
            .and_then(Value::as_array)
            .map(|rows| rows.iter().filter_map(|r| r.as_array().cloned()).collect())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server on 127.0.0.1 that answers one request with `response`.
    fn answer_once(response: Vec<u8>) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(&response);
            }
        });
        format!("http://{address}")
    }

    #[test]
    fn an_html_error_page_is_a_short_escaped_excerpt() {
        let page = format!("<html>\u{1b}[31m{}</html>", "x".repeat(100_000));
        let response = format!(
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        let client =
            InfluxClient::new(&answer_once(response.into_bytes()), Duration::from_secs(10));
        let error = client.ping().unwrap_err().to_string();
        assert!(error.contains("HTTP 500"), "{error}");
        assert!(error.len() < 400, "{} characters", error.len());
        assert!(!error.contains('\u{1b}') && error.contains('…'), "{error}");
    }

    #[test]
    fn chunks_of_one_series_are_merged_and_statement_errors_kept() {
        let text = concat!(
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","v"],"values":[[1,2.0]],"partial":true}],"partial":true}]}"#,
            "\n",
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","v"],"values":[[2,3.0]]}]}]}"#,
            "\n",
            r#"{"results":[{"statement_id":1,"error":"measurement not found"}]}"#,
            "\n"
        );
        let r = merge_chunks(text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].series.len(), 1);
        assert_eq!(r[0].series[0].values.len(), 2);
        assert_eq!(r[0].series[0].tags["host"], "a");
        assert_eq!(r[1].error.as_deref(), Some("measurement not found"));
    }

    #[test]
    fn a_statement_keeps_its_first_error() {
        // InfluxDB 1.6, chunked, second statement failing at compile time.
        let text = concat!(
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","count"],"values":[[0,1]]}]}]}"#,
            "\n",
            r#"{"results":[{"statement_id":1,"error":"undefined function nosuchfunc()"}]}"#,
            "\n",
            r#"{"results":[{"statement_id":1,"error":"not executed"}]}"#,
            "\n"
        );
        let r = merge_chunks(text).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[1].error.as_deref(),
            Some("undefined function nosuchfunc()")
        );
    }

    #[test]
    fn a_top_level_error_fails_the_query() {
        let err = merge_chunks(r#"{"error":"database not found: x"}"#).unwrap_err();
        assert!(err.to_string().contains("database not found"), "{err}");
        assert!(matches!(merge_chunks("<html>"), Err(InfluxError::Body(_))));
    }

    #[test]
    fn long_queries_are_shortened_on_one_line() {
        assert_eq!(shorten("SELECT a\n  FROM b", 300), "SELECT a FROM b");
        assert_eq!(shorten("SELECT ééé FROM b", 8), "SELECT é…");
        assert_eq!(for_query(&None), "");
    }

    #[test]
    fn form_encoding() {
        assert_eq!(encode("SELECT a>='x' ;"), "SELECT+a%3E%3D%27x%27+%3B");
    }
}
