use super::*;
use expost_formats::ombt_controller::LatencyRecord;

fn agent(name: &str, start: f64, stop: f64, ok: u64, fail: u64, latencies: &[f64]) -> AgentResult {
    let mut h = DecadeHistogram::new();
    for l in latencies {
        h.record(*l);
    }
    AgentResult {
        name: name.into(),
        start_time: Some(start),
        stop_time: Some(stop),
        msgs_ok: ok,
        msgs_fail: fail,
        latency: LatencyRecord {
            min: h.min,
            max: h.max,
            total: h.total,
            count: h.count,
            sum_of_squares: h.sum_of_squares,
            distribution: h.buckets.clone(),
        },
        errors: BTreeMap::new(),
    }
}

#[test]
fn client_latency_is_divided_by_the_clients_own_count() {
    // The notebook divided the clients' total by the servers' count.
    let clients = side_stats(&[agent("c1", 0.0, 2.0, 2, 0, &[10.0, 30.0])]);
    let servers = side_stats(&[agent("s1", 0.0, 2.0, 2, 0, &[1.0, 1.0, 1.0, 1.0, 1.0])]);
    assert_eq!(clients.latency.average(), Some(20.0));
    assert_ne!(clients.latency.total / servers.latency.count as f64, 20.0);
}

#[test]
fn a_zero_minimum_latency_survives_aggregation() {
    let side = side_stats(&[
        agent("a", 0.0, 1.0, 1, 0, &[0.0]),
        agent("b", 0.0, 1.0, 1, 0, &[]),
        agent("c", 0.0, 1.0, 1, 0, &[4.0]),
    ]);
    assert_eq!(side.latency.min, Some(0.0));
    assert_eq!(side.latency.max, Some(4.0));
}

#[test]
fn rate_is_over_the_aggregate_span_and_spreads_are_per_agent() {
    let side = side_stats(&[
        agent("a", 100.0, 104.0, 10, 2, &[1.0]),
        agent("b", 102.0, 110.0, 30, 0, &[2.0]),
    ]);
    assert_eq!(side.agents, 2);
    assert_eq!((side.msgs_ok, side.msgs_fail), (40, 2));
    assert_eq!(
        (side.start_time, side.stop_time),
        (Some(100.0), Some(110.0))
    );
    assert_eq!(side.rate, Some(4.2));
    let ok = side.per_agent_ok.unwrap();
    assert_eq!((ok.mean, ok.min, ok.max), (20.0, 10.0, 30.0));
    let fail = side.per_agent_fail.unwrap();
    assert_eq!((fail.mean, fail.min, fail.max), (1.0, 0.0, 2.0));
}

#[test]
fn window_is_the_later_start_to_the_later_stop() {
    let c = side_stats(&[agent("c", 10.0, 20.0, 1, 0, &[1.0])]);
    let s = side_stats(&[agent("s", 11.0, 19.0, 1, 0, &[1.0])]);
    assert_eq!(
        run_window(&c, &s),
        Some(Window {
            start: 11.0,
            stop: 20.0
        })
    );
}

#[test]
fn default_telemetry_is_cut_to_the_window() {
    let sample = |m: &str, f: &str, host: &str, role: &str, time: f64, value: f64| Sample {
        measurement: m.into(),
        field: f.into(),
        host: host.into(),
        role: role.into(),
        tags: String::new(),
        time,
        value,
    };
    let samples = vec![
        sample("cpu", "usage_idle", "h1", "bus", 5.0, 10.0),
        sample("cpu", "usage_idle", "h1", "bus", 11.0, 80.0),
        sample("cpu", "usage_idle", "h1", "bus", 12.0, 60.0),
        sample("cpu", "usage_idle", "h2", "bus", 12.0, 90.0),
        sample("rabbitmq_overview", "queues", "h1", "", 12.0, 3.0),
        sample("rabbitmq_overview", "queues", "h1", "", 30.0, 99.0),
    ];
    let s = default_scalars(
        &samples,
        Window {
            start: 10.0,
            stop: 20.0,
        },
    );
    assert_eq!(s["min_usage_idle_bus"], 70.0);
    assert_eq!(s["queues"], 3.0);
    assert!(!s.contains_key("min_usage_idle_ombt_server"));
}

#[test]
fn other_tags_leave_out_host_role_and_empty_values_in_key_order() {
    let tags = [
        ("role", "bus"),
        ("host", "h1"),
        ("cpu", "cpu0"),
        ("az", ""),
        ("ab", "x"),
    ];
    assert_eq!(other_tags(tags), "ab=x,cpu=cpu0");
    assert_eq!(other_tags([("host", "h1")]), "");
}

#[test]
fn an_agent_in_two_shard_files_is_counted_once_and_reported() {
    let run = CampaignRun {
        params_file: "params.json".into(),
        name: "run".into(),
        entry: std::sync::Arc::new(expost_formats::ombt_params::RunEntry {
            index: 0,
            backup_dir: Some("run".into()),
            params: Default::default(),
            raw: Default::default(),
        }),
        dir: Some("run".into()),
        problems: Diagnostics::default(),
    };
    let agent = |name: &str| {
        format!(
            r#""{name}": {{"msgs_ok": 5, "msgs_fail": 0, "latency": {{"min": 1, "max": 1, "total": 5, "count": 5, "sum_of_squares": 5, "distribution": {{"0": [0, 5, 0, 0, 0, 0, 0, 0, 0, 0]}}}}}}"#
        )
    };
    let log = |file: &str, clients: &[&str], servers: &[&str]| {
        let line = |names: &[&str]| {
            format!(
                "{{{}}}",
                names
                    .iter()
                    .map(|n| agent(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        ControllerLog {
            path: format!("run/{file}").into(),
            content: Ok(format!("{}\n{}\n", line(clients), line(servers)).into_bytes()),
        }
    };
    let mut diags = Diagnostics::default();
    let merged = merged_results(
        &run,
        vec![
            log("a_controller.log", &["c1", "c2"], &["s1"]),
            // c2 again; an agent named like a client on the servers' side is another agent.
            log("b_controller.log", &["c2", "c3"], &["s2", "c1"]),
        ],
        &mut diags,
    )
    .unwrap();
    let names = |agents: &[AgentResult]| agents.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&merged.clients), ["c1", "c2", "c3"]);
    assert_eq!(names(&merged.servers), ["s1", "c1", "s2"]);
    let messages: Vec<&str> = diags.items().iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "client 'c2' is also in 'run/a_controller.log': counted once, from there",
            "2 controller results files (one per control-bus shard): their agents merged"
        ]
    );
}
