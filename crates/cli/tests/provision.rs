//! End-to-end tests of `expost provision`: the real binary on exports made
//! by the seeded pool generator (checked against its own record), on the
//! bad-input corpus, and against a real Azurite (`--load`, then a read with
//! a connection string).

use expost_formats::shipyard::{write_csv, write_jsonl, PerfEntity};
use expost_testkit::provision::{generate, SynthOptions, SynthPool};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn expost(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_expost"));
    cmd.args(args).env_remove("AZURE_STORAGE_CONNECTION_STRING");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("expost runs")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn pool(nodes: usize) -> SynthPool {
    generate(&SynthOptions {
        seed: 5,
        nodes,
        images: 3,
        missing_pairs: 3,
        unfinished: 1,
        duplicates: 2,
        collide: true,
        ..SynthOptions::default()
    })
}

fn write_export(dir: &Path, name: &str, entities: &[PerfEntity]) -> PathBuf {
    let path = dir.join(name);
    let mut out = Vec::new();
    if name.ends_with(".csv") {
        write_csv(entities, &mut out).unwrap();
    } else {
        write_jsonl(entities, &mut out).unwrap();
    }
    std::fs::write(&path, out).unwrap();
    path
}

fn close(v: &Value, want: Option<f64>) -> bool {
    match (v.as_f64(), want) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-3,
        (None, None) => v.is_null(),
        _ => false,
    }
}

/// The --json contract, figure by figure, against the generator's record.
fn check_report(json: &Value, pool: &SynthPool) {
    assert_eq!(json["partition"], "batchacct$pool-1");
    assert_eq!(json["offer"], "UbuntuServer");
    assert_eq!(json["sku"], "18.04-LTS");
    let nodes = json["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), pool.nodes.len());
    for truth in &pool.nodes {
        let n = nodes
            .iter()
            .find(|n| n["node_id"] == truth.node_id.as_str())
            .unwrap();
        assert!(close(&n["start"], Some(truth.start)));
        let t = &n["timings"];
        assert!(close(&t["nodeprep"], truth.timings.nodeprep));
        assert!(close(&t["docker_install"], truth.timings.docker_install));
        assert!(close(
            &t["private_registry_setup"],
            truth.timings.private_registry_setup
        ));
        assert!(close(
            &t["docker_shipyard_container_pull"],
            truth.timings.docker_shipyard_container_pull
        ));
        assert!(close(
            &t["global_resources_loaded"],
            truth.timings.global_resources_loaded
        ));
        let images = n["images"].as_object().unwrap();
        assert_eq!(images.len(), truth.images.len());
        for (name, want) in &truth.images {
            let got = &images[name];
            assert!(
                close(&got["pull"], want.pull) && close(&got["save"], want.save),
                "{name}"
            );
            assert!(
                close(&got["torrent"], want.torrent) && close(&got["load"], want.load),
                "{name}"
            );
            assert_eq!(got["size_bytes"].as_u64(), want.size_bytes, "{name}");
        }
    }
    let ready: Vec<f64> = pool.nodes.iter().filter_map(|n| n.ready).collect();
    let last = ready.iter().copied().fold(f64::MIN, f64::max);
    assert!(close(
        &json["summary"]["critical_path"]["pool_ready"],
        Some(last)
    ));
    assert_eq!(
        json["summary"]["ready_nodes"].as_u64(),
        Some(ready.len() as u64)
    );
    for key in ["p50", "p90", "p99", "max"] {
        assert!(
            json["summary"]["phases"]["time_to_ready"][key].is_f64(),
            "{key}"
        );
    }
}

#[test]
fn offline_export_gives_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let pool = pool(120);
    let input = write_export(dir.path(), "events.jsonl", &pool.entities);
    let out_dir = dir.path().join("out");
    let out = expost(
        &[
            "provision",
            "--from",
            input.to_str().unwrap(),
            "-o",
            out_dir.to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_report(&json_of(&out), &pool);
    for name in [
        "nodes.csv",
        "nodes.parquet",
        "images.csv",
        "spans.parquet",
        "spans.csv",
        "diagnostics.csv",
        "provision.json",
        "trace.json",
        "timeline.svg",
        "timeline.png",
        "timeline.pdf",
        "gantt.svg",
        "gantt.png",
        "gantt.pdf",
        "manifest.json",
    ] {
        assert!(out_dir.join(name).is_file(), "{name} missing");
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["study"], "provision");
    let kinds: Vec<(&str, &str)> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["path"].as_str().unwrap(), o["kind"].as_str().unwrap()))
        .collect();
    for want in [
        ("timeline.svg", "chart"),
        ("gantt.pdf", "chart"),
        ("trace.json", "trace"),
        ("nodes.parquet", "table"),
        ("provision.json", "json"),
    ] {
        assert!(kinds.contains(&want), "{want:?} not in {kinds:?}");
    }
    assert_eq!(manifest["summary"]["nodes"], 120);
    // -o -: one row per node on stdout, nothing written.
    let out = expost(
        &["provision", "--from", input.to_str().unwrap(), "-o", "-"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("node_id,start,ready,"), "{csv:.80}");
    assert_eq!(csv.lines().count(), 121);
    assert!(!Path::new("-").exists());
    let nodes_csv = std::fs::read_to_string(out_dir.join("nodes.csv")).unwrap();
    assert_eq!(nodes_csv.lines().count(), 121);
    let trace: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("trace.json")).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let tracks = events.iter().filter(|e| e["name"] == "thread_name").count();
    assert_eq!(tracks, 120, "one track per node");
    assert!(events.iter().filter(|e| e["ph"] == "X").count() > 120 * 5);
    // The same entities as CSV give the same report.
    let csv = write_export(dir.path(), "events.csv", &pool.entities);
    let out = expost(
        &["provision", "--from", csv.to_str().unwrap(), "--json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    check_report(&json_of(&out), &pool);
}

#[test]
fn terminal_summary_and_export_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let pool = pool(30);
    let input = write_export(dir.path(), "events.jsonl", &pool.entities);
    let converted = dir.path().join("copy.csv");
    let out = expost(
        &[
            "provision",
            "--from",
            input.to_str().unwrap(),
            "--export",
            converted.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("30 nodes") && text.contains("time_to_ready") && text.contains("stragglers"),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing end event"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&converted).unwrap().lines().count(),
        pool.entities.len() + 1
    );
}

#[test]
fn bad_input_corpus_is_reported_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"PartitionKey":"a$p","RowKey":"1700000000.0","Event":"nodeprep:start","NodeId":"n1","Message":"offer=o,sku=s"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"1700000000.000001","Event":"nodeprep:start","NodeId":"n1","Message":"offer=o,sku=s"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"1700000050.0","Event":"nodeprep:end","NodeId":"n1"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"1700000051.0","Event":"cascade:start","NodeId":"n1","Message":"nglobalresources=1"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"1700000052.0","Event":"cascade:pull-start","NodeId":"n1","Message":"grtype=docker,img=alpine"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"1700000053.0","Event":"cascade:pull-end","NodeId":"n1","Message":"img=alpine,diff=oops,size=4.41 MB,garbage"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"not-a-time","Event":"cascade:gr-done","NodeId":"n1"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"1700000054.0","NodeId":"n1"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"1700000055.0","Event":"cascade:gr-done"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"1700000056.0","Event":"cascade:save-start","NodeId":"n1","Message":"img=alpine"}"#,
        r#"{"PartitionKey":"a$p","RowKey":"17000"#,
    ];
    let input = dir.path().join("bad.jsonl");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let out = expost(
        &["provision", "--from", input.to_str().unwrap(), "--json"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = json_of(&out);
    let messages: Vec<(u64, String)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap_or(0),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |line: u64, text: &str| messages.iter().any(|(l, m)| *l == line && m.contains(text));
    assert!(
        has(2, "duplicate nodeprep:start on node n1"),
        "{messages:#?}"
    );
    assert!(has(6, "diff 'oops' is not a number"), "{messages:#?}");
    assert!(has(6, "'garbage' has no '='"), "{messages:#?}");
    assert!(has(7, "RowKey 'not-a-time'"), "{messages:#?}");
    assert!(has(8, "no Event"), "{messages:#?}");
    assert!(has(9, "no NodeId"), "{messages:#?}");
    assert!(
        has(
            10,
            "missing end event cascade:save-end for cascade:save-start of image alpine on node n1"
        ),
        "{messages:#?}"
    );
    assert!(has(11, "cut short"), "{messages:#?}");
    assert!(has(4, "missing end event cascade:gr-done"), "{messages:#?}");
    let n1 = &json["nodes"][0];
    assert_eq!(
        n1["images"]["alpine"]["pull"].as_f64(),
        Some(1.0),
        "timestamps when diff is unusable"
    );
    assert_eq!(
        n1["images"]["alpine"]["size_bytes"].as_u64(),
        Some(4_410_000),
        "Docker sizes are base 1000"
    );
}

#[test]
fn usage_and_input_errors_have_their_exit_codes() {
    let out = expost(&["provision"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no input"));
    let out = expost(&["provision", "--from", "/nonexistent/events.jsonl"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/events.jsonl"));
    let out = expost(&["provision", "--straggler-mads", "-1", "--from", "x"], &[]);
    assert_eq!(out.status.code(), Some(2));
    // A table needs its partition; Batch Shipyard's files need each other.
    let conn = [(
        "AZURE_STORAGE_CONNECTION_STRING",
        "UseDevelopmentStorage=true",
    )];
    let out = expost(&["provision"], &conn);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --partition"));
    let out = expost(&["provision", "--credentials", "c.json"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.json not given"));
    let out = expost(&["provision", "--load", "events.jsonl"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--load needs credentials"));
    // A key missing from the environment, or not a key: never echoed.
    let out = expost(
        &[
            "provision",
            "--account",
            "acct",
            "--key-env",
            "EXPOST_NO_SUCH_KEY",
            "--partition",
            "a$p",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--account acct needs its key in the environment variable EXPOST_NO_SUCH_KEY"));
    let out = expost(
        &[
            "provision",
            "--account",
            "acct",
            "--key-env",
            "MY_KEY",
            "--partition",
            "a$p",
        ],
        &[("MY_KEY", "secret!not-base64")],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MY_KEY") && !stderr.contains("secret"),
        "{stderr}"
    );
    let out = expost(
        &["provision", "--partition", "a$p"],
        &[(
            "AZURE_STORAGE_CONNECTION_STRING",
            "AccountName=a;AccountKey=secret!;TableEndpoint=http://127.0.0.1:9/a",
        )],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AZURE_STORAGE_CONNECTION_STRING") && !stderr.contains("secret"),
        "{stderr}"
    );
    // Several partitions: the error says which option chooses one.
    let dir = tempfile::tempdir().unwrap();
    let mut entities = pool(5).entities;
    entities[0].partition_key = "other$pool".into();
    let input = write_export(dir.path(), "two.jsonl", &entities);
    let out = expost(&["provision", "--from", input.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("2 partitions (batchacct$pool-1, other$pool); choose one with --partition"));
    let help = expost(&["provision", "--help"], &[]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}

#[test]
fn load_then_read_through_azurite() {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/azurite/node_modules/.bin/azurite-table");
    assert!(
        bin.exists(),
        "Azurite is not installed: run scripts/test.sh (npm ci in tests/azurite)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _azurite = Kill(
        Command::new(&bin)
            .args([
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                &port.to_string(),
                "--inMemoryPersistence",
                "--disableTelemetry",
                "--silent",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "Azurite did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let conn = format!(
        "UseDevelopmentStorage=true;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1"
    );
    let env = [("AZURE_STORAGE_CONNECTION_STRING", conn.as_str())];
    let dir = tempfile::tempdir().unwrap();
    let pool = pool(40);
    let input = write_export(dir.path(), "events.jsonl", &pool.entities);
    let out = expost(
        &[
            "provision",
            "--load",
            input.to_str().unwrap(),
            "--table",
            "shipyardperf",
        ],
        &env,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = expost(
        &[
            "provision",
            "--partition",
            "batchacct$pool-1",
            "--json",
            "--concurrency",
            "3",
        ],
        &env,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_report(&json_of(&out), &pool);
    // SharedKeyLite, one query following its pages.
    let out = expost(
        &[
            "provision",
            "--partition",
            "batchacct$pool-1",
            "--json",
            "--shared-key-lite",
            "--concurrency",
            "1",
        ],
        &env,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_report(&json_of(&out), &pool);
    // A partition that is not there.
    let out = expost(&["provision", "--partition", "batchacct$nopool"], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("partition 'batchacct$nopool' not found"));
    // A wrong key: the account is named, the key is not.
    let wrong = format!("AccountName=devstoreaccount1;AccountKey=d3Jvbmcta2V5;TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1");
    let out = expost(
        &["provision", "--partition", "batchacct$pool-1"],
        &[("AZURE_STORAGE_CONNECTION_STRING", &wrong)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("devstoreaccount1")
            && stderr.contains("denied")
            && !stderr.contains("d3Jvbmcta2V5"),
        "{stderr}"
    );
}

/// `--only phase=…` draws those phases in the charts, `--label
/// phase=…:TEXT` names them; a chart left with no phase is not drawn, and
/// says so; a phase no key names exits 2.
#[test]
fn only_and_label_choose_and_name_the_phases_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_export(dir.path(), "events.jsonl", &pool(12).entities);
    let out_dir = dir.path().join("out");
    let provision = |extra: &[&str]| {
        let mut args = vec!["provision", "--from", input.to_str().unwrap(), "-q"];
        args.extend_from_slice(extra);
        args.extend(["-o", out_dir.to_str().unwrap()]);
        expost(&args, &[])
    };
    let out = provision(&[
        "--only",
        "phase=pull,load",
        "--label",
        "phase=pull:Image pull",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("--only: the timeline stacks none of the phases chosen"),
        "{stderr}"
    );
    assert!(!out_dir.join("timeline.svg").exists());
    let gantt = std::fs::read_to_string(out_dir.join("gantt.svg")).unwrap();
    assert!(
        gantt.contains("Image pull") && gantt.contains(">load<"),
        "chosen, labelled"
    );
    assert!(!gantt.contains("docker_install"), "others left out");
    let spans = std::fs::read_to_string(out_dir.join("spans.csv")).unwrap();
    assert!(spans.contains("docker_install"), "tables keep every phase");

    let out = provision(&["--label", "phase=docker_install:Docker"]);
    assert_eq!(out.status.code(), Some(0));
    let timeline = std::fs::read_to_string(out_dir.join("timeline.svg")).unwrap();
    assert!(timeline.contains("Docker") && !timeline.contains("Node prep + Docker install"));

    for (bad, says) in [
        (
            &["--only", "phase=docker"][..],
            "--only phase=docker: no phase has it (the phases: nodeprep, docker_install",
        ),
        (
            &["--label", "node=x:y"][..],
            "chosen by phase, not \"node\"",
        ),
    ] {
        let out = provision(bad);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(stderr.contains(says), "{bad:?}: {stderr}");
    }
}
