//! The Azure Table client against a real Azurite (installed by
//! `scripts/test.sh` into `tests/azurite/`), started on a free port of
//! 127.0.0.1 for each test and stopped at its end, with the development
//! account and real SharedKey signing; and against tiny local servers that
//! refuse, hang, cut a page short, repeat a continuation, send a body without
//! end or an HTML error page.

use expost_formats::shipyard::{entity_from_json, PerfEntity};
use expost_remote::azure_table::{
    ClientOptions, Credentials, Entity, Scheme, TableClient, TableError,
};
use expost_studies::provision::{analyse, Options, Phase};
use expost_testkit::provision::{generate, SynthOptions, SynthPool};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Azurite Table service; killed when dropped.
struct Azurite {
    child: Child,
    port: u16,
}

impl Azurite {
    fn start() -> Azurite {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/azurite/node_modules/.bin/azurite-table");
        assert!(
            bin.exists(),
            "Azurite is not installed at {}: run scripts/test.sh (it runs npm ci in tests/azurite)",
            bin.display()
        );
        let port = free_port();
        let child = Command::new(&bin)
            .args(["--tableHost", "127.0.0.1", "--tablePort", &port.to_string()])
            .args(["--inMemoryPersistence", "--disableTelemetry", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("azurite-table starts");
        let azurite = Azurite { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Azurite did not listen on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        azurite
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/devstoreaccount1", self.port)
    }

    fn client(&self, scheme: Scheme) -> TableClient {
        let options = ClientOptions {
            scheme,
            ..ClientOptions::default()
        };
        TableClient::new(Credentials::development(Some(&self.endpoint())), options).unwrap()
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn objects(entities: &[PerfEntity]) -> Vec<Entity> {
    entities
        .iter()
        .map(|e| match serde_json::to_value(e).unwrap() {
            serde_json::Value::Object(o) => o,
            _ => unreachable!("an entity serialises to an object"),
        })
        .collect()
}

fn pool(nodes: usize, seed: u64) -> SynthPool {
    generate(&SynthOptions {
        seed,
        nodes,
        images: 2,
        missing_pairs: 4,
        unfinished: 2,
        duplicates: 3,
        collide: true,
        ..SynthOptions::default()
    })
}

fn row_keys(entities: &[Entity]) -> Vec<String> {
    entities
        .iter()
        .map(|e| e["RowKey"].as_str().unwrap().to_string())
        .collect()
}

/// Every figure of the analysis against the generator's record.
fn check_against_record(entities: &[PerfEntity], pool: &SynthPool) {
    let p = analyse(entities, "azurite", &Options::default()).unwrap();
    assert_eq!(p.nodes.len(), pool.nodes.len());
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-3,
        (None, None) => true,
        _ => false,
    };
    for truth in &pool.nodes {
        let n = p.nodes.iter().find(|n| n.node_id == truth.node_id).unwrap();
        assert!(
            close(n.start, Some(truth.start)) && close(n.ready, truth.ready),
            "{}",
            truth.node_id
        );
        for phase in &Phase::ALL[..5] {
            assert!(
                close(n.timings.get(*phase), truth.timings.get(*phase)),
                "{} {phase:?}",
                truth.node_id
            );
        }
        for (i, got) in &n.images {
            let want = &truth.images[&p.images[*i as usize]];
            for phase in &Phase::ALL[5..] {
                assert!(
                    close(got.get(*phase), want.get(*phase)),
                    "{} {phase:?}",
                    truth.node_id
                );
            }
            assert_eq!(got.size_bytes, want.size_bytes);
        }
        for (event, image) in &truth.missing {
            assert!(p
                .diagnostics
                .iter()
                .any(|d| d.message.contains(event.as_str())
                    && d.message.contains(&truth.node_id)
                    && image
                        .as_ref()
                        .is_none_or(|i| d.message.contains(i.as_str()))));
        }
    }
    assert_eq!(
        p.summary.unfinished_nodes.len(),
        pool.nodes.iter().filter(|n| n.ready.is_none()).count()
    );
}

#[test]
fn a_pool_of_1200_nodes_round_trips_through_azurite() {
    let azurite = Azurite::start();
    let client = azurite.client(Scheme::SharedKey);
    assert!(client.create_table("shipyardperf").unwrap());
    assert!(
        !client.create_table("shipyardperf").unwrap(),
        "second creation reports it exists"
    );
    let pool = pool(1200, 11);
    assert!(pool.entities.len() > 15_000, "many pages of 1,000");
    client
        .insert_all("shipyardperf", &objects(&pool.entities), &|_| {})
        .unwrap();
    // Another pool in the same table must not leak in.
    let other = generate(&SynthOptions {
        partition: "batchacct$other".into(),
        nodes: 3,
        ..SynthOptions::default()
    });
    client
        .insert_all("shipyardperf", &objects(&other.entities), &|_| {})
        .unwrap();

    let pages = std::sync::atomic::AtomicUsize::new(0);
    let sequential = client
        .query_partition("shipyardperf", "batchacct$pool-1", &|_| {
            pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
    assert_eq!(sequential.len(), pool.entities.len());
    assert!(
        pages.into_inner() >= pool.entities.len() / 1000,
        "every page followed"
    );
    let ranged = client
        .query_partition_ranges("shipyardperf", "batchacct$pool-1", 4, &|_| {})
        .unwrap();
    assert_eq!(
        row_keys(&ranged),
        row_keys(&sequential),
        "same entities, same order"
    );
    let mut written: Vec<String> = pool.entities.iter().map(|e| e.row_key.clone()).collect();
    written.sort();
    assert_eq!(row_keys(&sequential), written, "RowKey order, nothing lost");

    let entities: Vec<PerfEntity> = ranged
        .iter()
        .enumerate()
        .map(|(i, o)| entity_from_json(o, i as u64 + 1).unwrap())
        .collect();
    check_against_record(&entities, &pool);

    // SharedKeyLite signs too.
    let lite = azurite.client(Scheme::SharedKeyLite);
    assert_eq!(
        lite.query_partition("shipyardperf", "batchacct$other", &|_| {})
            .unwrap()
            .len(),
        other.entities.len()
    );
}

#[test]
fn bad_credentials_tables_and_partitions_get_clear_errors() {
    let azurite = Azurite::start();
    let client = azurite.client(Scheme::SharedKey);
    // Wrong key: 403 naming the account, never the key.
    let wrong =
        "AccountName=devstoreaccount1;AccountKey=d3Jvbmcta2V5LXdyb25nLWtleQ==;TableEndpoint="
            .to_string()
            + &azurite.endpoint();
    let bad = TableClient::new(
        Credentials::from_connection_string(&wrong).unwrap(),
        ClientOptions::default(),
    )
    .unwrap();
    let err = bad
        .query_partition("shipyardperf", "a$b", &|_| {})
        .unwrap_err();
    assert!(
        matches!(err, TableError::Denied { status: 403, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("devstoreaccount1") && !text.contains("d3Jvbmcta2V5"),
        "{text}"
    );
    assert!(
        !format!("{bad:?}").contains("d3Jvbmcta2V5"),
        "Debug hides the key"
    );
    // No such table.
    let err = client
        .query_partition("nosuchtable", "a$b", &|_| {})
        .unwrap_err();
    assert!(matches!(err, TableError::TableNotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("'nosuchtable'"));
    // No such partition: no entity (the command line turns it into an error).
    client.create_table("perf").unwrap();
    assert!(client
        .query_partition("perf", "a$nopool", &|_| {})
        .unwrap()
        .is_empty());
    assert!(client
        .query_partition_ranges("perf", "a$nopool", 3, &|_| {})
        .unwrap()
        .is_empty());
    // Inserting the same entity twice is a conflict.
    let pool = pool(1, 3);
    let one = objects(&pool.entities[..1]);
    client.insert("perf", &one[0]).unwrap();
    let err = client.insert("perf", &one[0]).unwrap_err();
    assert!(matches!(err, TableError::Conflict { .. }), "{err:?}");
    let err = client
        .insert_batch("perf", &objects(&pool.entities[..3]))
        .unwrap_err();
    assert!(
        matches!(err, TableError::Conflict { .. }),
        "the whole transaction fails: {err:?}"
    );
    assert_eq!(
        client
            .query_partition("perf", &pool.entities[0].partition_key, &|_| {})
            .unwrap()
            .len(),
        1
    );
}

fn quick(endpoint: &str) -> TableClient {
    let options = ClientOptions {
        connect_timeout: Duration::from_millis(500),
        read_timeout: Duration::from_millis(500),
        attempts: 2,
        backoff: Duration::from_millis(10),
        ..ClientOptions::default()
    };
    TableClient::new(Credentials::development(Some(endpoint)), options).unwrap()
}

#[test]
fn refusing_endpoint_is_unreachable() {
    let port = free_port();
    let err = quick(&format!("http://127.0.0.1:{port}/devstoreaccount1"))
        .query_partition("t", "a$b", &|_| {})
        .unwrap_err();
    assert!(
        matches!(err, TableError::Unreachable { attempts: 2, .. }),
        "{err:?}"
    );
}

#[test]
fn hanging_endpoint_times_out() {
    // Accepted by the kernel's backlog, never answered.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let started = Instant::now();
    let err = quick(&format!("http://127.0.0.1:{port}/devstoreaccount1"))
        .query_partition("t", "a$b", &|_| {})
        .unwrap_err();
    assert!(matches!(err, TableError::Unreachable { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the timeouts"
    );
    drop(listener);
}

#[test]
fn a_page_cut_mid_body_is_retried_then_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let body = br#"{"value":[{"PartitionKey":"a$b","RowKey":"17000"#;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len() + 400
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body);
        }
    });
    let err = quick(&format!("http://127.0.0.1:{port}/devstoreaccount1"))
        .query_partition("t", "a$b", &|_| {})
        .unwrap_err();
    server.join().unwrap();
    assert!(
        matches!(err, TableError::Body { attempts: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("cut"), "{err}");
}

/// A client of the fake service at `port`: two attempts, and timeouts
/// long enough for a loaded machine (they only bound the test).
fn patient(port: u16) -> TableClient {
    let options = ClientOptions {
        connect_timeout: Duration::from_secs(10),
        read_timeout: Duration::from_secs(10),
        attempts: 2,
        backoff: Duration::from_millis(10),
        ..ClientOptions::default()
    };
    let endpoint = format!("http://127.0.0.1:{port}/devstoreaccount1");
    TableClient::new(Credentials::development(Some(&endpoint)), options).unwrap()
}

/// One canned answer of [`fake_service`], written on the connection.
type Answer = Box<dyn FnOnce(&mut TcpStream) + Send>;

/// A fake Table service on 127.0.0.1 answering at most `answers.len()`
/// requests, one per connection, each with the next canned answer (written
/// by the closure, which may stream), and giving up after 20 s of waiting.
/// Returns the port and a handle yielding the request lines received.
fn fake_service(answers: Vec<Answer>) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut requests = Vec::new();
        for answer in answers {
            let mut conn = loop {
                match listener.accept() {
                    Ok((conn, _)) => break conn,
                    Err(_) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => return requests,
                }
            };
            conn.set_nonblocking(false).unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&head);
            requests.push(text.lines().next().unwrap_or_default().to_string());
            answer(&mut conn);
        }
        requests
    });
    (port, handle)
}

fn page_with_continuation(pk: &'static str, rk: &'static str) -> Answer {
    Box::new(move |conn| {
        let body = format!(r#"{{"value":[{{"PartitionKey":"a$b","RowKey":"{rk}"}}]}}"#);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-ms-continuation-NextPartitionKey: {pk}\r\nx-ms-continuation-NextRowKey: {rk}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = conn.write_all(head.as_bytes());
        let _ = conn.write_all(body.as_bytes());
    })
}

#[test]
fn a_repeated_continuation_token_stops_the_query_with_an_error() {
    // Pages 1, 2, then page 1's token again; the server would go on for ever.
    let mut answers = vec![
        page_with_continuation("1!8!YSRi", "1!12!MTcwMDAwMDAwMQ--"),
        page_with_continuation("1!8!YSRi", "1!12!MTcwMDAwMDAwMg--"),
    ];
    for _ in 0..8 {
        answers.push(page_with_continuation("1!8!YSRi", "1!12!MTcwMDAwMDAwMQ--"));
    }
    let (port, server) = fake_service(answers);
    let err = patient(port)
        .query_partition("t", "a$b", &|_| {})
        .unwrap_err();
    assert!(
        matches!(err, TableError::RepeatedContinuation { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("1!8!YSRi") && message.contains("1!12!MTcwMDAwMDAwMQ--"),
        "{message}"
    );
    // Stopped after the first repeat: three requests, not ten. The server
    // waits for its seven other connections; give them to it.
    for _ in 0..7 {
        let _ = TcpStream::connect(("127.0.0.1", port)).map(|mut c| c.write_all(b"\r\n\r\n"));
    }
    let requests = server.join().unwrap();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("GET /devstoreaccount1/t()"))
            .count(),
        3,
        "{requests:?}"
    );
}

#[test]
fn a_huge_response_body_is_read_up_to_the_limit_then_refused() {
    assert_eq!(ClientOptions::default().max_body, 256 << 20);
    // A page that never ends (bounded at 64 MiB here), read with a 1 MiB limit.
    let stream: Answer = Box::new(|conn| {
        let _ = conn.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"value\":[",
        );
        let chunk = br#"{"PartitionKey":"a$b","RowKey":"1"},"#.repeat(1000);
        let mut sent = 0;
        while sent < 64 << 20 {
            if conn.write_all(&chunk).is_err() {
                break;
            }
            sent += chunk.len();
        }
    });
    let (port, server) = fake_service(vec![stream]);
    let options = ClientOptions {
        attempts: 1,
        max_body: 1 << 20,
        read_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    };
    let client = TableClient::new(
        Credentials::development(Some(&format!("http://127.0.0.1:{port}/devstoreaccount1"))),
        options,
    )
    .unwrap();
    let err = client.query_partition("t", "a$b", &|_| {}).unwrap_err();
    drop(client);
    server.join().unwrap();
    assert!(
        matches!(err, TableError::TooLarge { limit: 1048576, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("1048576 bytes"), "{err}");
}

#[test]
fn an_html_server_error_shows_its_status_and_a_short_escaped_excerpt() {
    let html = || -> Answer {
        Box::new(|conn| {
            let body = format!(
                "<html><head><title>502 \x1b[31mBad Gateway</title></head>\r\n<body>{}TAIL-NOT-SHOWN</body></html>",
                "x".repeat(400)
            );
            let head = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body.as_bytes());
        })
    };
    let (port, server) = fake_service(vec![html(), html()]);
    let err = patient(port)
        .query_partition("t", "a$b", &|_| {})
        .unwrap_err();
    assert_eq!(server.join().unwrap().len(), 2, "retried once");
    let message = err.to_string();
    assert!(
        matches!(err, TableError::Status { status: 500, .. }),
        "{err:?}"
    );
    assert!(message.contains("HTTP 500"), "{message}");
    assert!(
        message.contains(
            "<html><head><title>502 \\u{1b}[31mBad Gateway</title></head>\\r\\n<body>xxx"
        ),
        "{message}"
    );
    assert!(
        !message.contains('\x1b') && !message.contains('\n'),
        "{message:?}"
    );
    assert!(!message.contains("TAIL-NOT-SHOWN"), "{message}");
    assert!(message.chars().count() < 400, "{message}");
}
