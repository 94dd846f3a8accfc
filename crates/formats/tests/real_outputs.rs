//! Every real iperf3 output in tests/fixtures/iperf3 (copied from public
//! repositories; see the README there) parses, with the numbers its own
//! summary gives.

use expost_formats::iperf3_json::{self, Protocol, Role};
use expost_formats::iperf3_text::{self, Side, StampKind, TextOptions};
use expost_model::{Diagnostics, Severity};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/iperf3")
        .join(name)
}

fn json(name: &str) -> (iperf3_json::IperfTest, Diagnostics) {
    let mut diags = Diagnostics::for_file(name);
    let bytes = std::fs::read(fixture(name)).unwrap();
    let test =
        iperf3_json::parse_bytes(&bytes, &mut diags).unwrap_or_else(|e| panic!("{name}: {e}"));
    (test, diags)
}

/// A text fixture read with the default options, and what was reported.
fn text(name: &str) -> (iperf3_text::TextLog, Diagnostics) {
    let mut diags = Diagnostics::for_file(name);
    let file = std::fs::File::open(fixture(name)).unwrap();
    let log = iperf3_text::parse(
        std::io::BufReader::new(file),
        &TextOptions::default(),
        &mut diags,
    )
    .unwrap();
    (log, diags)
}

#[test]
fn tcp_p4_iperf_3_6_without_sender_keys() {
    let (test, diags) = json("tcp_P4_iperf3.6_ekfoury-iperf3_plotter_my_test.json");
    assert!(diags.is_empty(), "{:?}", diags.items());
    assert_eq!(test.version.as_deref(), Some("iperf 3.6"));
    assert_eq!(
        (test.role, test.protocol, test.num_streams),
        (Some(Role::Client), Some(Protocol::Tcp), Some(4))
    );
    assert_eq!(test.intervals.len(), 60);
    assert!(test.intervals.iter().all(|i| i.sender.is_none()));
    // Four streams' RTTs averaged, in ms.
    assert!(test.intervals[0].rtt_ms.unwrap() < 1.0);
    let sent = test.end.unwrap().sum_sent.unwrap();
    let from_intervals: f64 = test.intervals.iter().map(|i| i.bytes).sum();
    assert!((from_intervals - sent.bytes).abs() / sent.bytes < 1e-6);
}

#[test]
fn tcp_omit_intervals_are_flagged_and_crlf_is_fine() {
    let (test, diags) = json("tcp_omit3_iperf3.9_cloudpilot_baseline_host_target_direct_0.json");
    assert_eq!(test.omit, Some(3.0));
    assert_eq!(test.intervals.iter().filter(|i| i.omitted).count(), 3);
    assert_eq!(test.intervals.len(), 13);
    // The warm-up comes first, moved before 0; the measured clock starts at 0.
    assert!((test.intervals[0].start + 3.000083).abs() < 1e-9);
    assert!(test.intervals[2].end.abs() < 1e-9);
    assert!(test
        .intervals
        .windows(2)
        .all(|w| w[1].start >= w[0].end - 1e-3));
    assert_eq!(diags.len(), 1);
    assert_eq!(diags.items()[0].severity, Severity::Note);
    assert!(diags.items()[0].message.contains("omitted"));
}

#[test]
fn tcp_p2_iperf_3_12() {
    let (test, diags) = json("tcp_P2_iperf3.12_flxo-iperf3-json_tcp-parallel.json");
    assert!(diags.is_empty(), "{:?}", diags.items());
    assert_eq!(test.num_streams, Some(2));
    assert!(!test.intervals.is_empty());
    // Each interval keeps its two streams, by socket; they add up to the sum.
    let first = &test.intervals[0];
    let sockets: Vec<_> = first.streams.iter().map(|s| s.socket).collect();
    assert_eq!(sockets, [Some(5), Some(7)]);
    let bytes: f64 = first.streams.iter().map(|s| s.bytes).sum();
    assert!((bytes - first.bytes).abs() < 1e-6);
    assert!(first.streams[0].rtt_ms.is_some() && first.streams[0].snd_cwnd.is_some());
    // Per-stream totals with the sender's RTT (µs in the file, ms here) and cwnd.
    let end = test.end.unwrap();
    assert_eq!(end.streams.len(), 2);
    let sender = end.streams[1].sender.as_ref().unwrap();
    assert_eq!(end.streams[1].socket, Some(7));
    assert_eq!(sender.max_snd_cwnd, Some(270940));
    assert_eq!(
        (sender.mean_rtt_ms, sender.max_rtt_ms),
        (Some(2.955), Some(2.955))
    );
    assert_eq!(end.streams[1].receiver.as_ref().unwrap().bytes, 42037054.0);
    let cpu = end.cpu.unwrap();
    assert_eq!(
        (cpu.host_total, cpu.remote_total),
        (Some(6.06026136006263), Some(0.0))
    );
    assert_eq!(test.reverse, Some(false));
}

#[test]
fn udp_per_stream_totals_carry_out_of_order() {
    let (test, _) = json("udp_server_P2_iperf3.19.1_iperf3-lib_udp-server.json");
    let end = test.end.unwrap();
    let udp: Vec<_> = end.streams.iter().map(|s| s.udp.clone().unwrap()).collect();
    assert_eq!(udp.len(), 2);
    assert_eq!((udp[0].packets, udp[0].out_of_order), (Some(418), Some(0)));
    assert_eq!(end.cpu.unwrap().host_total, Some(0.6421102044485283));
}

#[test]
fn udp_client_totals() {
    let (test, diags) = json("udp_client_iperf3.12_flxo-iperf3-json_udp.json");
    assert!(diags.is_empty(), "{:?}", diags.items());
    assert_eq!(
        (test.role, test.protocol),
        (Some(Role::Client), Some(Protocol::Udp))
    );
    let totals = test.udp_totals().unwrap();
    assert_eq!((totals.lost_packets, totals.packets), (Some(0), Some(8)));
    assert_eq!(
        test.intervals
            .iter()
            .map(|i| i.packets.unwrap())
            .sum::<u64>(),
        8
    );
}

#[test]
fn udp_server_receiver_fields() {
    let (test, diags) = json("udp_server_P2_iperf3.19.1_iperf3-lib_udp-server.json");
    assert!(diags.is_empty(), "{:?}", diags.items());
    assert_eq!(
        (test.role, test.protocol),
        (Some(Role::Server), Some(Protocol::Udp))
    );
    assert_eq!(test.server_port, Some(5201));
    let first = &test.intervals[0];
    assert_eq!(
        (first.packets, first.lost_packets, first.sender),
        (Some(834), Some(0), Some(false))
    );
    assert!(first.jitter_ms.is_some());
    // The short trailing interval is kept.
    assert!(test.intervals.last().unwrap().seconds < 0.01);
}

#[test]
fn tcp_server_text_with_errors_and_a_repeated_line() {
    let (log, diags) = text("server_text_tcp_iperf3_statexec_iperf_server.log");
    assert_eq!(log.stamp_kind, StampKind::None);
    let test = log.main_test().unwrap();
    assert_eq!(test.listening_port, Some(5201));
    assert_eq!(test.intervals.len(), 10);
    assert_eq!(test.summaries[0].side, Some(Side::Receiver));
    assert_eq!(diags.len(), 1, "{:?}", diags.items());
    assert!(diags.items()[0].message.contains("printed twice"));
    assert_eq!(diags.items()[0].line, Some(20));
    assert!(log.tests.iter().any(|t| !t.errors.is_empty()));
}

#[test]
fn udp_summary_text_with_custom_timestamps_and_notes() {
    let (log, diags) = text("udp_summary_text_timestamps_iperf3_sh_iperf3.log");
    assert_eq!(log.stamp_kind, StampKind::Calendar { resolution: 1.0 });
    let summaries: Vec<_> = log.tests.iter().flat_map(|t| &t.summaries).collect();
    assert_eq!(summaries.len(), 12);
    assert_eq!(summaries[7].lost, Some(22694));
    assert_eq!(summaries[7].total, Some(29594));
    // The author's banner and notes between the lines are not iperf3 output:
    // all seven are reported, in one diagnostic that counts them.
    assert_eq!(diags.len(), 1, "{:?}", diags.items());
    assert_eq!(diags.items()[0].line, Some(2));
    assert!(diags.items()[0]
        .message
        .starts_with("7 lines iperf3 does not write skipped (lines 2, 7, 12, 17, 22, …; first: "));
}

/// Every controller log of the real ombt campaign (tests/fixtures/ombt) reads
/// without a diagnostic, with as many agents as the run's parameters say;
/// its `_docker.log` is told apart by content; its telemetry export parses.
#[test]
fn ombt_campaign_files() {
    use expost_formats::{line_protocol, ombt_controller, ombt_params};
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ombt/campaign");
    let mut d = Diagnostics::default();
    let params = std::fs::read(root.join("test_case_1/params.json")).unwrap();
    let runs = ombt_params::parse(&params[..], &mut d).unwrap();
    assert_eq!(runs.len(), 8);
    for run in runs {
        let dir = root.join(run.backup_dir.unwrap());
        let log = std::fs::read(dir.join("ombt-controller.log")).unwrap();
        let human = std::fs::read(dir.join("ombt-controller_docker.log")).unwrap();
        assert_eq!(
            ombt_controller::sniff(&log),
            Some(ombt_controller::ControllerKind::Results)
        );
        assert_eq!(
            ombt_controller::sniff(&human),
            Some(ombt_controller::ControllerKind::Text)
        );
        let r = ombt_controller::parse(&log[..], &mut d).unwrap();
        assert_eq!(r.clients.len().to_string(), run.params["nbr_clients"]);
        assert_eq!(r.servers.len().to_string(), run.params["nbr_servers"]);
        let calls: u64 = run.params["nbr_calls"].parse().unwrap();
        let sent: u64 = r.clients.iter().map(|c| c.msgs_ok).sum();
        assert_eq!(sent, calls * r.clients.len() as u64);
        let lp = std::fs::read(dir.join("telemetry.lp")).unwrap();
        let counts = line_protocol::parse(&lp[..], &mut d, |ctx, p| {
            assert_eq!(ctx.database.as_deref(), Some("telegraf"));
            assert!(p.timestamp_ns.is_some());
        })
        .unwrap();
        assert!(counts.points > 0);
        assert_eq!(counts.skipped, 0);
    }
    assert!(d.is_empty(), "{:?}", d.items());
}
