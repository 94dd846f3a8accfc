//! The InfluxDB 1.x client and `expost ombt --influx` against a real
//! `influxd` (Debian's `influxdb` package), started by each test on a temp
//! folder and free 127.0.0.1 ports, loaded with the real line protocol of
//! tests/fixtures/ombt, and killed when the test ends (also on a panic);
//! and against a port nobody listens on and a server that never answers.
//!
//! Without `influxd` on the PATH (or in `EXPOST_INFLUXD`) the tests that
//! need it print why and pass, unless `EXPOST_REQUIRE_SERVICES=1` is set
//! (as `scripts/test.sh` does): then they fail.

use expost_remote::influx::{Epoch, InfluxClient, InfluxError, StatementResult};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

mod common;
use common::{dml_lines, expost, import, json_of, ombt_campaign as campaign};

/// A private `influxd` (the library's) and the temp folder holding its
/// config, data and log; the tests skip or fail without it.
mod influxd {
    use super::*;
    pub use expost_remote::influxd::Influxd;
    use expost_remote::influxd::Options;

    pub use super::common::influxd_available as available;

    /// Starts `influxd` on an empty data folder, or `None` (skipped) without it.
    pub fn start(test: &str) -> Option<Influxd> {
        if !available(test) {
            return None;
        }
        Some(Influxd::start(&Options::default()).unwrap_or_else(|e| panic!("{e}")))
    }

    /// Starts `influxd` over an existing data folder inside `dir`, which it then owns.
    pub fn start_in(dir: tempfile::TempDir, data: &Path) -> Influxd {
        Influxd::start_in(dir, data, &Options::default()).unwrap_or_else(|e| panic!("{e}"))
    }
}

use influxd::Influxd;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

fn telemetry_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(campaign().join("test_case_1"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("telemetry.lp"))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "the fixture has 8 runs with telemetry");
    files
}

/// One point of an export file: measurement, tags, fields (as text), ns.
#[derive(Debug, Clone)]
struct Point {
    measurement: String,
    tags: BTreeMap<String, String>,
    fields: BTreeMap<String, String>,
    ns: i64,
}

/// The points of the fixtures' export files (no escapes occur in them).
fn points_of(path: &Path) -> Vec<Point> {
    let text = std::fs::read_to_string(path).unwrap();
    dml_lines(&text)
        .into_iter()
        .map(|line| {
            let mut parts = line.split(' ');
            let key = parts.next().unwrap();
            let fields = parts.next().unwrap();
            let ns = parts.next().unwrap().parse().unwrap();
            let mut key = key.split(',');
            let measurement = key.next().unwrap().to_string();
            let pair = |kv: &str| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            };
            Point {
                measurement,
                tags: key.map(pair).collect(),
                fields: fields.split(',').map(pair).collect(),
                ns,
            }
        })
        .collect()
}

fn import_all(server: &Influxd) -> Vec<Point> {
    let client = server.client();
    let mut points = Vec::new();
    for f in telemetry_files() {
        import(&client, &f);
        points.extend(points_of(&f));
    }
    points
}

fn only(results: &[StatementResult]) -> &StatementResult {
    assert_eq!(results.len(), 1, "{results:?}");
    &results[0]
}

#[test]
fn real_line_protocol_is_written_and_read_back_with_tags_and_epochs() {
    let Some(server) = influxd::start("real_line_protocol_is_written_and_read_back") else {
        return;
    };
    let points = import_all(&server);
    let client = server.client();

    // Counts per role, as series tagged by role.
    let r = client
        .query(
            "telegraf",
            "SELECT count(usage_idle) FROM cpu GROUP BY role",
            Epoch::Ns,
        )
        .unwrap();
    let r = only(&r);
    assert_eq!(r.error, None);
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    for s in &r.series {
        assert_eq!(s.name, "cpu");
        let count = s.column("count").unwrap();
        got.insert(s.tags["role"].clone(), s.values[0][count].as_u64().unwrap());
    }
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for p in points.iter().filter(|p| p.measurement == "cpu") {
        *want.entry(p.tags["role"].clone()).or_default() += 1;
    }
    assert_eq!(got, want);
    assert_eq!(got.len(), 2);

    // Every bus sample back with its exact nanosecond time and value.
    let mut bus: Vec<(i64, f64)> = points
        .iter()
        .filter(|p| p.measurement == "cpu" && p.tags["role"] == "bus")
        .map(|p| (p.ns, p.fields["usage_idle"].parse().unwrap()))
        .collect();
    bus.sort_by_key(|b| b.0);
    let q = "SELECT usage_idle FROM cpu WHERE role = 'bus'";
    let r = client.query("telegraf", q, Epoch::Ns).unwrap();
    let s = &only(&r).series[0];
    let (t, v) = (s.column("time").unwrap(), s.column("usage_idle").unwrap());
    let back: Vec<(i64, f64)> = s
        .values
        .iter()
        .map(|row| (row[t].as_i64().unwrap(), row[v].as_f64().unwrap()))
        .collect();
    assert_eq!(back, bus);
    // epoch=s and epoch=ms: the same instants, truncated.
    for (epoch, div) in [(Epoch::S, 1_000_000_000), (Epoch::Ms, 1_000_000)] {
        let r = client.query("telegraf", q, epoch).unwrap();
        let s = &only(&r).series[0];
        let times: Vec<i64> = s
            .values
            .iter()
            .map(|row| row[t].as_i64().unwrap())
            .collect();
        let want: Vec<i64> = bus.iter().map(|b| b.0 / div).collect();
        assert_eq!(times, want, "{epoch:?}");
    }
    // Integer fields of the broker keep their type.
    let r = client
        .query("telegraf", "SELECT * FROM rabbitmq_overview", Epoch::Ns)
        .unwrap();
    let s = &only(&r).series[0];
    let rows = points
        .iter()
        .filter(|p| p.measurement == "rabbitmq_overview")
        .count();
    assert_eq!(s.values.len(), rows);
    let ints: Vec<&str> = s.columns.iter().map(String::as_str).collect();
    assert!(ints.contains(&"queues"), "{ints:?}");
    assert!(s.values[0][s.column("queues").unwrap()].is_u64());
}

/// `POST /query` with HTTP/1.0, so the body ends when the server closes: the raw chunks.
fn raw_chunks(url: &str, db: &str, query: &str) -> Vec<Value> {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = format!("q={}", query.replace(' ', "+"));
    write!(
        stream,
        "POST /query?db={db}&chunked=true&epoch=ms HTTP/1.0\r\nHost: {addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    serde_json::Deserializer::from_str(body)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_chunked_answer_of_25000_real_samples_is_merged_into_one_series() {
    let Some(server) = influxd::start("a_chunked_answer_is_merged") else {
        return;
    };
    let client = server.client();
    client
        .query("", "CREATE DATABASE chunks", Epoch::Ns)
        .unwrap();
    // The real samples of one run, repeated 1 ms apart.
    let real = points_of(&telemetry_files()[0]);
    let cpu: Vec<&Point> = real.iter().filter(|p| p.measurement == "cpu").collect();
    let base_ms: i64 = 1_700_000_000_000;
    let n = 25_000;
    let mut want = Vec::with_capacity(n);
    for batch in 0..5 {
        let mut lines = String::new();
        for i in batch * 5_000..(batch + 1) * 5_000 {
            let p = cpu[i % cpu.len()];
            let value = &p.fields["usage_idle"];
            let ms = base_ms + i as i64;
            lines.push_str(&format!(
                "cpu,host={},role={} usage_idle={value} {}\n",
                p.tags["host"],
                p.tags["role"],
                ms * 1_000_000
            ));
            want.push((ms, value.parse::<f64>().unwrap()));
        }
        client.write("chunks", &lines).unwrap();
    }
    let q = "SELECT usage_idle FROM cpu";
    // The server really answers in several chunks…
    let chunks = raw_chunks(&server.url(), "chunks", q);
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    // …which the client merges back into one series, in order.
    let r = client.query("chunks", q, Epoch::Ms).unwrap();
    let r = only(&r);
    assert_eq!(r.series.len(), 1);
    let s = &r.series[0];
    let (t, v) = (s.column("time").unwrap(), s.column("usage_idle").unwrap());
    let got: Vec<(i64, f64)> = s
        .values
        .iter()
        .map(|row| (row[t].as_i64().unwrap(), row[v].as_f64().unwrap()))
        .collect();
    assert_eq!(got.len(), n);
    assert_eq!(got, want);
}

#[test]
fn statement_errors_http_400_and_empty_results_are_told_apart() {
    let Some(server) = influxd::start("statement_errors_http_400_and_empty_results") else {
        return;
    };
    import_all(&server);
    let client = server.client();

    // A statement's own error. InfluxDB stops there and leaves the next
    // statement unanswered (1.6 even sends a second, bogus "not executed"
    // error for the failed one): the first error is kept…
    let statements = [
        "SELECT count(usage_idle) FROM cpu",
        "SELECT nosuchfunc(usage_idle) FROM cpu",
        "SELECT count(usage_idle) FROM cpu WHERE role = 'bus'",
    ];
    let r = client
        .query("telegraf", &statements.join("; "), Epoch::Ns)
        .unwrap();
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0].error, None);
    assert_eq!(r[0].series.len(), 1);
    assert_eq!(
        r[1].error.as_deref(),
        Some("undefined function nosuchfunc()")
    );
    // …and query_each sends the statements after the failed one again.
    let r = client
        .query_each("telegraf", &statements, Epoch::Ns)
        .unwrap();
    let ids: Vec<u64> = r.iter().map(|s| s.statement_id).collect();
    assert_eq!(ids, [0, 1, 2]);
    assert_eq!(r[0].error, None);
    assert_eq!(
        r[1].error.as_deref(),
        Some("undefined function nosuchfunc()")
    );
    assert!(r[1].series.is_empty());
    assert_eq!(r[2].error, None);
    assert_eq!(r[2].series.len(), 1);
    assert!(
        r[2].series[0].values[0][1].as_u64().unwrap()
            < r[0].series[0].values[0][1].as_u64().unwrap()
    );

    // A database that does not exist: an error of the statement.
    let r = client
        .query("nosuchdb", "SELECT * FROM cpu", Epoch::Ns)
        .unwrap();
    assert_eq!(
        only(&r).error.as_deref(),
        Some("database not found: nosuchdb")
    );

    // A query that does not parse: HTTP 400 with the server's message.
    match client.query("telegraf", "SELEC usage_idle FROM cpu", Epoch::Ns) {
        Err(InfluxError::Status { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.starts_with("error parsing query"), "{message}");
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }
    // Bad line protocol on /write: HTTP 400 naming the problem.
    match client.write("telegraf", "cpu,host=a usage_idle=1 notatime") {
        Err(InfluxError::Status { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.contains("unable to parse"), "{message}");
        }
        other => panic!("expected HTTP 400, got {other:?}"),
    }

    // No series: before the first sample, and a measurement never written.
    for q in [
        "SELECT usage_idle FROM cpu WHERE time < 1000",
        "SELECT * FROM nosuchmeasurement",
    ] {
        let r = client.query("telegraf", q, Epoch::Ns).unwrap();
        let r = only(&r);
        assert_eq!(r.error, None, "{q}");
        assert!(r.series.is_empty(), "{q}: {r:?}");
    }
}

#[test]
fn a_server_that_is_down_is_unreachable() {
    let port = free_port();
    let started = Instant::now();
    let client = InfluxClient::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5));
    let err = client
        .query("telegraf", "SELECT * FROM cpu", Epoch::Ns)
        .unwrap_err();
    match &err {
        InfluxError::Unreachable { url, message, .. } => {
            assert_eq!(url, &format!("http://127.0.0.1:{port}/query"));
            assert!(message.to_lowercase().contains("refused"), "{message}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(err.to_string().contains("SELECT * FROM cpu"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(client.ping().is_err());
}

/// A server on 127.0.0.1 that accepts connections and never answers;
/// stops (and drops the connections) when dropped, or after 30 s.
struct Hanging {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Hanging {
    fn start() -> Hanging {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut held = Vec::new();
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Hanging {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Hanging {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_server_that_never_answers_times_out_naming_the_query() {
    let hanging = Hanging::start();
    let client = InfluxClient::new(&hanging.url(), Duration::from_millis(400));
    let started = Instant::now();
    let query = "SELECT max(messages) FROM rabbitmq_overview WHERE time >= 0";
    let err = client.query("telegraf", query, Epoch::Ns).unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(350) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert!(
        matches!(&err, InfluxError::Unreachable { query: Some(q), .. } if q == query),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(query), "{text}");
    assert!(text.to_lowercase().contains("timed out"), "{text}");
}

/// The run's window in epoch ns, as `expost` cuts it: the later start and
/// the later stop of the two sides.
fn window_ns(run: &Value) -> (i64, i64) {
    let side = |s: &str, k: &str| run[s][k].as_f64().unwrap();
    let start = side("clients", "start_time").max(side("servers", "start_time"));
    let stop = side("clients", "stop_time").max(side("servers", "stop_time"));
    ((start * 1e9).floor() as i64, (stop * 1e9).ceil() as i64)
}

#[test]
fn ombt_with_influx_gives_each_runs_window_telemetry() {
    let Some(server) = influxd::start("ombt_with_influx_gives_each_runs_window_telemetry") else {
        return;
    };
    let points = import_all(&server);
    let root = campaign();
    let root = root.to_str().unwrap();
    let url = server.url();
    let tmp = tempfile::tempdir().unwrap();
    let (influx_dir, lp_dir) = (tmp.path().join("influx"), tmp.path().join("lp"));
    let out = expost(&[
        "ombt",
        root,
        "--json",
        "-o",
        influx_dir.to_str().unwrap(),
        "--influx",
        &url,
        "--query",
        "n_cpu=SELECT count(usage_idle) FROM cpu WHERE time >= $start AND time <= $stop",
        "--query",
        "bad=SELECT nosuchfunc(usage_idle) FROM cpu",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let influx = json_of(&out);
    // The same campaign with the in-process line-protocol reader.
    let lp = json_of(&expost(&[
        "ombt",
        root,
        "--json",
        "-o",
        lp_dir.to_str().unwrap(),
    ]));
    // The samples (series.csv) are the same rows whichever source served them.
    let series = |dir: &Path| std::fs::read_to_string(dir.join("series.csv")).unwrap();
    let (from_influx, from_lp) = (series(&influx_dir), series(&lp_dir));
    assert!(from_lp.lines().count() > 8, "{from_lp}");
    assert!(
        from_influx == from_lp,
        "series.csv differ between --influx and the .lp files"
    );
    let runs = influx["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 8);
    let mut with_samples = 0;
    for (run, lp_run) in runs.iter().zip(lp["runs"].as_array().unwrap()) {
        let label = run["backup_dir"].as_str().unwrap();
        assert_eq!(label, lp_run["backup_dir"].as_str().unwrap());
        let (start, stop) = window_ns(run);
        let window = &run["window"];
        assert_eq!(
            (
                (window[0].as_f64().unwrap() * 1e9).floor() as i64,
                (window[1].as_f64().unwrap() * 1e9).ceil() as i64
            ),
            (start, stop)
        );
        let in_window = points
            .iter()
            .filter(|p| p.measurement == "cpu" && p.ns >= start && p.ns <= stop)
            .count();
        let mut telemetry = run["telemetry"].as_object().unwrap().clone();
        match telemetry.remove("n_cpu") {
            Some(n) => {
                assert_eq!(n.as_f64(), Some(in_window as f64), "{label}");
                with_samples += 1;
            }
            None => {
                assert_eq!(in_window, 0, "{label}");
                assert!(
                    stderr.contains(&format!("run '{label}': query 'n_cpu' returned no series")),
                    "{stderr}"
                );
            }
        }
        // The notebook's figures agree with the in-process reader's.
        let want = lp_run["telemetry"].as_object().unwrap();
        assert_eq!(
            telemetry.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{label}"
        );
        for (k, v) in want {
            let (a, b) = (telemetry[k].as_f64().unwrap(), v.as_f64().unwrap());
            assert!((a - b).abs() < 1e-9, "{label} {k}: {a} vs {b}");
        }
        // The bad query is reported for this run, naming it, and the others went on.
        assert!(
            stderr.contains(&format!(
                "run '{label}': query 'bad' (SELECT nosuchfunc(usage_idle) FROM cpu) failed: undefined function nosuchfunc()"
            )),
            "{stderr}"
        );
    }
    assert!(with_samples >= 4, "only {with_samples} runs had samples");
}

#[test]
fn ombt_with_influx_down_reports_every_run_and_fails() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = expost(&["ombt", campaign().to_str().unwrap(), "--influx", &url, "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors = stderr
        .lines()
        .filter(|l| {
            l.starts_with("error: ")
                && l.contains("telemetry not read (queries min_usage_idle_ombt_server")
                && l.contains("unreachable")
        })
        .count();
    assert_eq!(errors, 8, "{stderr}");
    assert!(stderr.contains("8 runs (8 analysed, 0 failed)"), "{stderr}");
}

#[test]
fn ombt_with_a_hanging_influx_times_out_naming_the_run_and_query() {
    let hanging = Hanging::start();
    let started = Instant::now();
    let out = expost(&[
        "ombt",
        campaign().to_str().unwrap(),
        "--influx",
        &hanging.url(),
        "--timeout",
        "0.3",
        "--query",
        "q_len=SELECT max(messages) FROM rabbitmq_overview",
        "-q",
    ]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("run 'test_case_1/run_5_rpc-cast_1c_1s': telemetry not read"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("q_len"), "{line}");
    assert!(line.contains("running `SELECT min(usage_idle)"), "{line}");
    assert!(line.to_lowercase().contains("timed out"), "{line}");
}

fn counts_by_role(client: &InfluxClient) -> BTreeMap<String, u64> {
    let r = client
        .query(
            "telegraf",
            "SELECT count(usage_idle) FROM cpu GROUP BY role",
            Epoch::Ns,
        )
        .unwrap();
    let r = only(&r);
    assert_eq!(r.error, None);
    r.series
        .iter()
        .map(|s| {
            let count = s.column("count").unwrap();
            (s.tags["role"].clone(), s.values[0][count].as_u64().unwrap())
        })
        .collect()
}

fn cpu_counts(points: &[Point]) -> BTreeMap<String, u64> {
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for p in points.iter().filter(|p| p.measurement == "cpu") {
        *want.entry(p.tags["role"].clone()).or_default() += 1;
    }
    want
}

/// Unpacks `tarball` (holding `influxdb-data/`) into a new temp folder.
fn unpack(tarball: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("-C")
        .arg(dir.path())
        .arg("-xzf")
        .arg(tarball)
        .status()
        .expect("tar runs");
    assert!(status.success(), "tar -xzf {}", tarball.display());
    let data = dir.path().join("influxdb-data");
    for sub in ["meta", "data", "wal"] {
        assert!(
            data.join(sub).is_dir(),
            "{sub}/ missing in {}",
            tarball.display()
        );
    }
    (dir, data)
}

#[test]
fn a_data_dir_tarred_after_influxd_stopped_is_queried_again() {
    let Some(mut server) = influxd::start("a_data_dir_tarred_after_influxd_stopped") else {
        return;
    };
    let points = import_all(&server);
    let want = cpu_counts(&points);
    assert_eq!(counts_by_role(&server.client()), want);
    // The orchestrator's way: stop influxd, then tar its data folder.
    server.terminate(Duration::from_secs(20)).unwrap();
    let tarball = server.dir().join("influxdb-data.tar.gz");
    let status = Command::new("tar")
        .arg("-C")
        .arg(server.dir())
        .arg("-czf")
        .arg(&tarball)
        .arg("influxdb-data")
        .status()
        .expect("tar runs");
    assert!(status.success());
    let (dir, data) = unpack(&tarball);
    drop(server);
    let restored = influxd::start_in(dir, &data);
    assert_eq!(counts_by_role(&restored.client()), want);
}

#[test]
fn the_fixture_runs_tarballs_hold_their_telemetry() {
    if !influxd::available("the_fixture_runs_tarballs_hold_their_telemetry") {
        return;
    }
    let run = campaign().join("test_case_1/run_1_rpc-call_1c_1s");
    let (dir, data) = unpack(&run.join("influxdb-data.tar.gz"));
    let server = influxd::start_in(dir, &data);
    let want = cpu_counts(&points_of(&run.join("telemetry.lp")));
    assert_eq!(counts_by_role(&server.client()), want);
}

/// A fake InfluxDB on 127.0.0.1 that answers `/ping` and every `/query`
/// with one empty result per statement, and records each request's
/// `Authorization` header; one thread per connection (at most 64),
/// stopped when dropped or after 60 s.
struct Recording {
    port: u16,
    stop: Arc<AtomicBool>,
    seen: Arc<std::sync::Mutex<Vec<Option<String>>>>,
    thread: Option<JoinHandle<()>>,
}

impl Recording {
    fn start() -> Recording {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (flag, log) = (Arc::clone(&stop), Arc::clone(&seen));
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut connections = Vec::new();
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) if connections.len() < 64 => {
                        let log = Arc::clone(&log);
                        connections.push(std::thread::spawn(move || serve(stream, &log)));
                    }
                    Ok(_) => {}
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for c in connections {
                let _ = c.join();
            }
        });
        Recording {
            port,
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn authorizations(&self) -> Vec<Option<String>> {
        self.seen.lock().unwrap().clone()
    }
}

/// Answers the requests of one keep-alive connection until it closes or
/// stays idle for 10 s.
fn serve(mut stream: TcpStream, log: &std::sync::Mutex<Vec<Option<String>>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).into_owned();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while data.len() < end + 4 + length {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        }
        let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned();
        data.drain(..end + 4 + length);
        log.lock().unwrap().push(header("authorization"));
        let answer = if head.starts_with("GET /ping") {
            "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".to_string()
        } else {
            let statements = body.matches("%3B%0A").count() + 1;
            let results: Vec<String> = (0..statements)
                .map(|i| format!(r#"{{"statement_id":{i}}}"#))
                .collect();
            let json = format!(r#"{{"results":[{}]}}"#, results.join(","));
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
                json.len()
            )
        };
        if stream.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn influx_url_credentials_are_sent_as_basic_auth_and_never_shown() {
    let server = Recording::start();
    let url = format!("http://u:secretpw@127.0.0.1:{}/", server.port);
    let client = InfluxClient::new(&url, Duration::from_secs(5));
    client.ping().unwrap();
    client.query("telegraf", "SELECT 1", Epoch::Ns).unwrap();
    assert_eq!(
        server.authorizations(),
        vec![Some("Basic dTpzZWNyZXRwdw==".to_string()); 2]
    );
    assert_eq!(
        client.base(),
        format!("http://u:***@127.0.0.1:{}", server.port)
    );
    assert!(!format!("{client:?}").contains("secretpw"));
    // Unreachable: the error names the server without the password.
    let down = InfluxClient::new(
        &format!("http://u:secretpw@127.0.0.1:{}", free_port()),
        Duration::from_secs(2),
    );
    let err = down.query("telegraf", "SELECT 1", Epoch::Ns).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("secretpw"), "{err:?}");
}

/// Every file under `dir`, as (path, text).
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

#[test]
fn an_influx_password_appears_in_no_output_and_a_rerun_takes_it_from_the_environment() {
    let server = Recording::start();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let url = format!("http://u:secretpw@127.0.0.1:{}", server.port);
    let out = Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(["ombt", campaign().to_str().unwrap(), "--influx", &url])
        .args(["-o", out_dir.to_str().unwrap(), "--save-study"])
        .env("NO_COLOR", "1")
        .env_remove("INFLUX_USERNAME")
        .env_remove("INFLUX_PASSWORD")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        !stdout.contains("secretpw") && !stderr.contains("secretpw"),
        "{stdout}\n{stderr}"
    );
    let sent = server.authorizations();
    assert!(!sent.is_empty(), "{stderr}");
    assert!(
        sent.iter()
            .all(|a| a.as_deref() == Some("Basic dTpzZWNyZXRwdw==")),
        "{sent:?}"
    );
    let files = files_under(&out_dir);
    assert!(files.len() > 3, "{files:?}");
    for (path, text) in &files {
        assert!(!text.contains("secretpw"), "{}", path.display());
    }
    let ombt: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("ombt.json")).unwrap()).unwrap();
    let shown = format!("http://u:***@127.0.0.1:{}", server.port);
    assert!(ombt.to_string().contains(&shown), "{ombt}");
    let study = std::fs::read_to_string(out_dir.join("expost.toml")).unwrap();
    assert!(
        study.contains(&format!("http://u@127.0.0.1:{}", server.port)),
        "{study}"
    );

    // A rerun of the saved study takes the password from INFLUX_PASSWORD.
    let before = server.authorizations().len();
    let rerun = Command::new(env!("CARGO_BIN_EXE_expost"))
        .args(["run", out_dir.join("expost.toml").to_str().unwrap(), "-q"])
        .env("NO_COLOR", "1")
        .env_remove("INFLUX_USERNAME")
        .env("INFLUX_PASSWORD", "otherpw")
        .output()
        .unwrap();
    let rerun_err = String::from_utf8_lossy(&rerun.stderr);
    assert!(!rerun_err.contains("otherpw"), "{rerun_err}");
    let sent = server.authorizations();
    assert!(sent.len() > before, "{rerun_err}");
    // base64("u:otherpw")
    assert!(
        sent[before..]
            .iter()
            .all(|a| a.as_deref() == Some("Basic dTpvdGhlcnB3")),
        "{sent:?}"
    );
}
