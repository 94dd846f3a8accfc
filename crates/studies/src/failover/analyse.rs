//! One failover run: align its flows on the anchor event, bin them into
//! epochs within the window where all flows ran, combine them, and find the
//! outage.

use super::load::{display, FlowFiles, RunFiles, ServerOutput};
pub use crate::choice::FigureChoice;
use expost_formats::iperf3_json::{IperfTest, Protocol};
use expost_formats::iperf3_text::{StampKind, TextInterval, TextLog, TextOptions};
use expost_model::Diagnostics;
use expost_ops::align::{
    start_from_coarse_stamps, start_from_precise_stamps, StampedEnd, StartEstimate,
};
use expost_ops::band::BandKind;
use expost_ops::bin::EpochGrid;
use expost_ops::outage::{udp_outage, Outage, UdpOutage};
use expost_ops::rolling::rolling;
use expost_ops::stats::median;
use expost_ops::tcp_disruption::{BytesInterval, SenderInterval};
use expost_ops::traffic::{bin_samples, combine, Combined, FlowEpochs, Metric, Sample};
use expost_ops::window::{overlap, TimeWindow};
use std::collections::BTreeMap;

/// Options of the failover analysis.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Shremote event the runs are aligned on (its `time_`).
    pub anchor: String,
    /// The epoch grid (0.1 s by default).
    pub grid: EpochGrid,
    /// Keep only epochs in this window (seconds after the anchor) in series, bands and figures.
    pub window: Option<TimeWindow>,
    /// Rolling window, in epochs, applied to each run's combined series (1 = none).
    pub rolling: usize,
    /// TCP: a throughput dip without sender evidence (retransmissions,
    /// cwnd collapse, RTT rise) is a disruption only below this fraction of
    /// its pre-event median.
    pub tcp_threshold: f64,
    /// Keep iperf3 `--omit` warm-up intervals.
    pub include_omitted: bool,
    /// Keep each flow's own epochs in the result (for per-flow outputs);
    /// otherwise only the flows combined are kept, to save memory.
    pub keep_flow_epochs: bool,
    /// How to read text time prefixes.
    pub text: TextOptions,
    /// Which band to compute for figures.
    pub band: BandKind,
    /// Other events of the Shremote log to mark (their first time per run,
    /// drawn as labelled vertical lines).
    pub marks: Vec<String>,
    /// Only the configurations whose parameters have one of the values
    /// `--only PARAM=V1,V2` gives are drawn, under the legend text
    /// `--label PARAM=VALUE:TEXT` gives.
    pub choice: FigureChoice,
    /// Only these trials are drawn, their bands made of them alone
    /// (`--trials 1,2`; all when empty).
    pub trials: Vec<String>,
    /// Fields of the client's intervals added as metrics (`--metric`).
    pub fields: Vec<String>,
    /// External series read from each run folder (`--overlay NAME=FILE`).
    pub overlays: Vec<super::overlay::OverlaySpec>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            anchor: "iperf_client".into(),
            grid: EpochGrid::new(0.1).expect("0.1 is a valid width"),
            window: None,
            rolling: 1,
            tcp_threshold: 0.5,
            include_omitted: false,
            keep_flow_epochs: false,
            text: TextOptions::default(),
            band: BandKind::default(),
            marks: Vec::new(),
            choice: FigureChoice::default(),
            trials: Vec::new(),
            fields: Vec::new(),
            overlays: Vec::new(),
        }
    }
}

/// Where a flow's start time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartSource {
    /// Sub-second time prefixes of the server's interval lines (`ts %.s`).
    ServerEpochStamps,
    /// Whole-second `--timestamps` prefixes, pinned by their roll-overs.
    ServerCalendarStamps,
    /// The `start.timestamp.timesecs` of a JSON file (whole seconds).
    JsonTimesecs,
}

impl StartSource {
    /// A short name for outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            StartSource::ServerEpochStamps => "server-epoch-stamps",
            StartSource::ServerCalendarStamps => "server-timestamps",
            StartSource::JsonTimesecs => "json-timesecs",
        }
    }
}

/// One flow of a run, on the run's clock.
#[derive(Debug, Clone)]
pub struct FlowResult {
    /// The flow's number (from its file names).
    pub number: u32,
    /// Transport protocol.
    pub proto: Protocol,
    /// When the flow started, seconds after the anchor.
    pub start: f64,
    /// How sure that is, ± seconds.
    pub start_uncertainty: f64,
    /// Where the start came from.
    pub start_source: StartSource,
    /// When the flow ran, seconds after the anchor.
    pub span: TimeWindow,
    /// The client's intervals, binned (within the overlap window).
    pub sender: FlowEpochs,
    /// The server's intervals, binned (within the overlap window).
    pub receiver: FlowEpochs,
    /// UDP datagrams lost and sent, from the client's `end.sum`.
    pub lost_packets: Option<(u64, u64)>,
    /// The UDP outage this flow saw.
    pub outage: Option<UdpOutage>,
}

/// The analysis of one run.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// The run folder's name.
    pub name: String,
    /// The run folder relative to the campaign root.
    pub rel: String,
    /// Configuration parameters read from the path.
    pub params: expost_model::Params,
    /// The trial.
    pub trial: String,
    /// Protocol of the run's flows.
    pub proto: Option<Protocol>,
    /// The anchor event's time, epoch seconds.
    pub anchor_epoch: Option<f64>,
    /// The flows that could be used.
    pub flows: Vec<FlowResult>,
    /// The window in which all flows ran, seconds after the anchor.
    pub overlap: Option<TimeWindow>,
    /// The flows combined per epoch (after `--rolling`, within `--window`): sender side.
    pub sender: BTreeMap<i64, Combined>,
    /// The flows combined per epoch: receiver side.
    pub receiver: BTreeMap<i64, Combined>,
    /// Σ lost datagrams over flows (UDP).
    pub lost: Option<u64>,
    /// Σ datagrams over flows (UDP).
    pub packets: Option<u64>,
    /// The outage (start after the anchor, duration); `None` when it could not be told.
    pub outage: Option<Outage>,
    /// TCP runs: the disruptions found and, when none is the outage, why.
    pub tcp: Option<super::tcp::TcpFinding>,
    /// Each `--metric` field the run's clients have, combined over flows per epoch.
    pub fields: BTreeMap<String, BTreeMap<i64, f64>>,
    /// Each `--overlay` series, per entity (`NAME[ENTITY]`), binned.
    pub overlays: BTreeMap<String, super::overlay::OverlaySeries>,
    /// Every numeric field the run's client intervals have (with `--metric`).
    pub fields_available: std::collections::BTreeSet<String>,
    /// Each marked event's first time, seconds after the anchor (`--mark`).
    pub marks: BTreeMap<String, f64>,
    /// True when the run was analysed (false: it failed, see diagnostics).
    pub ok: bool,
    /// Everything reported while reading and analysing the run.
    pub diagnostics: Diagnostics,
}

impl RunResult {
    /// The run's combined value of `metric` per epoch.
    pub fn series(&self, metric: Metric) -> BTreeMap<i64, f64> {
        let side = if metric.from_receiver() {
            &self.receiver
        } else {
            &self.sender
        };
        side.iter()
            .filter_map(|(&k, c)| c.metric(metric).map(|v| (k, v)))
            .collect()
    }
}

/// Analyses a run from its parsed files. Problems go into `run.diagnostics`;
/// a run that cannot be analysed comes back with `ok == false`.
pub fn analyse_run(
    mut run: RunResult,
    files: RunFiles,
    run_dir: &str,
    options: &Options,
) -> RunResult {
    let diags = &mut run.diagnostics;
    let log_file = format!("{run_dir}/event_log.json");
    let anchor = match &files.events {
        Some(log) => match log.first_time(&options.anchor) {
            Some(t) => Some(t),
            None => {
                let names = log.names();
                diags.set_file(log_file.clone());
                diags.error(
                    None,
                    format!(
                        "no {:?} event to align on (events: {}); choose one with --anchor",
                        options.anchor,
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                );
                None
            }
        },
        None => None,
    };
    let Some(anchor) = anchor else {
        return run;
    };
    run.anchor_epoch = Some(anchor);
    if let Some(log) = &files.events {
        run.marks = marks_of(log, anchor, &options.marks, &log_file, diags);
    }
    diags.set_file(format!("{run_dir}/iperf"));
    if files.flows.is_empty() {
        if diags.count_at_least(expost_model::Severity::Error) == 0 {
            diags.error(
                None,
                "no client_N.json or server_N.out files: nothing to analyse",
            );
        }
        return run;
    }
    let mut prepared = Vec::new();
    for flow in &files.flows {
        if let Some(p) = prepare_flow(flow, anchor, options, diags) {
            prepared.push(p);
        }
    }
    if prepared.is_empty() {
        diags.set_file(format!("{run_dir}/iperf"));
        diags.error(None, "no flow could be placed on the run's clock");
        return run;
    }
    warn_far_from_anchor(&prepared, &options.anchor, run_dir, diags);
    let protos: Vec<Protocol> = prepared.iter().map(|p| p.proto).collect();
    run.proto = Some(protos[0]);
    if protos.iter().any(|p| *p != protos[0]) {
        diags.set_file(format!("{run_dir}/iperf"));
        diags.warn(
            None,
            "flows mix TCP and UDP; the run is labelled by its first flow",
        );
    }
    let spans: Vec<TimeWindow> = prepared.iter().map(|p| p.span).collect();
    let Some(window) = overlap(&spans) else {
        diags.set_file(format!("{run_dir}/iperf"));
        diags.error(
            None,
            "the flows never ran at the same time (no overlap window)",
        );
        return run;
    };
    run.overlap = Some(window);
    for (name, path, series) in &files.overlays {
        diags.set_file(path.clone());
        let binned = super::overlay::bin(name, series, anchor, window, &options.grid, diags);
        run.overlays.extend(binned);
    }
    if let Some(user) = options.window {
        for series in run.overlays.values_mut() {
            (series.epochs).retain(|&k, _| user.contains(options.grid.time_of(k)));
        }
    }
    finish_run(&mut run, prepared, window, run_dir, options);
    run.ok = true;
    run
}

/// The first time of each event in `names`, seconds after `anchor`; an
/// event the log does not have is a warning naming those it has.
fn marks_of(
    log: &expost_formats::shremote::EventLog,
    anchor: f64,
    names: &[String],
    log_file: &str,
    diags: &mut Diagnostics,
) -> BTreeMap<String, f64> {
    let mut marks = BTreeMap::new();
    for name in names {
        match log.first_time(name) {
            Some(t) => {
                marks.insert(name.clone(), t - anchor);
            }
            None => {
                diags.set_file(log_file.to_string());
                diags.warn(
                    None,
                    format!(
                        "no {name:?} event to mark (events: {})",
                        log.names().join(", ")
                    ),
                );
            }
        }
    }
    marks
}

/// Flows start seconds after the anchor event; more than this apart, the
/// event log and the iperf3 files likely come from different runs or clocks.
const FAR_FROM_ANCHOR_S: f64 = 3600.0;

/// Warns about every flow that starts further than [`FAR_FROM_ANCHOR_S`]
/// from the anchor (the results are kept: only the user can tell).
fn warn_far_from_anchor(
    prepared: &[PreparedFlow],
    anchor: &str,
    run_dir: &str,
    diags: &mut Diagnostics,
) {
    for p in prepared
        .iter()
        .filter(|p| p.offset.abs() > FAR_FROM_ANCHOR_S)
    {
        diags.set_file(format!("{run_dir}/iperf"));
        diags.warn(
            None,
            format!(
                "flow {} starts {:.0} s ({:.1} days) {} the {anchor:?} event: the event log and the iperf3 files may come from different runs, or a clock was wrong",
                p.number,
                p.offset.abs(),
                p.offset.abs() / 86400.0,
                if p.offset > 0.0 { "after" } else { "before" },
            ),
        );
    }
}

fn finish_run(
    run: &mut RunResult,
    prepared: Vec<PreparedFlow>,
    window: TimeWindow,
    run_dir: &str,
    options: &Options,
) {
    let grid = &options.grid;
    let tcp_inputs: Vec<super::tcp::FlowInput> = prepared
        .iter()
        .filter(|p| p.proto == Protocol::Tcp)
        .map(|p| super::tcp::FlowInput {
            number: p.number,
            received: !p.receiver.is_empty(),
            throughput: bytes_intervals(if p.receiver.is_empty() {
                &p.sender
            } else {
                &p.receiver
            }),
            sender: p.tcp_sender.clone(),
        })
        .collect();
    let flow_fields = flow_fields(&prepared, window, options);
    run.fields_available = (prepared.iter())
        .filter_map(|p| p.fields.as_ref())
        .flat_map(|f| f.available.iter().cloned())
        .collect();
    let mut flows = Vec::new();
    for p in prepared {
        let sender = bin_samples(&p.sender, grid, Some(window));
        let receiver = bin_samples(&p.receiver, grid, Some(window));
        let outage = if p.proto == Protocol::Udp {
            p.pps.and_then(|pps| udp_outage(&p.receiver, pps))
        } else {
            None
        };
        flows.push(FlowResult {
            number: p.number,
            proto: p.proto,
            start: p.offset,
            start_uncertainty: p.start.uncertainty,
            start_source: p.source,
            span: p.span,
            sender,
            receiver,
            lost_packets: p.lost_packets,
            outage,
        });
    }
    let senders: Vec<&FlowEpochs> = flows.iter().map(|f| &f.sender).collect();
    let receivers: Vec<&FlowEpochs> = flows.iter().map(|f| &f.receiver).collect();
    let mut sender = combine(&senders);
    let mut receiver = combine(&receivers);
    trim_partial_edges(&mut sender, flows.len());
    trim_partial_edges(&mut receiver, flows.len());
    let diags = &mut run.diagnostics;
    diags.set_file(format!("{run_dir}/iperf"));
    report_missing_epochs(&sender, &receiver, flows.len(), diags);
    let udp = run.proto == Some(Protocol::Udp);
    if udp {
        let totals: Vec<Option<(u64, u64)>> = flows.iter().map(|f| f.lost_packets).collect();
        if totals.iter().all(Option::is_some) {
            run.lost = Some(totals.iter().flatten().map(|t| t.0).sum());
            run.packets = Some(totals.iter().flatten().map(|t| t.1).sum());
        } else {
            diags.warn(
                None,
                "some flows have no client end.sum totals: the run's lost/packets are unknown",
            );
        }
        run.outage = udp_run_outage(&flows, grid, run.lost, diags);
    } else {
        let finding = super::tcp::run_finding(&tcp_inputs, window, options, diags);
        run.outage = finding.outage();
        run.tcp = Some(finding);
    }
    run.sender = finish_series(sender, options);
    run.receiver = finish_series(receiver, options);
    for (name, per_flow) in flow_fields {
        let series =
            super::fields::combine_flows(&name, &per_flow, |k| run.sender.contains_key(&k));
        if !series.is_empty() {
            run.fields.insert(name, series);
        }
    }
    if let Some(user) = options.window {
        for flow in &mut flows {
            flow.sender.retain(|&k, _| user.contains(grid.time_of(k)));
            flow.receiver.retain(|&k, _| user.contains(grid.time_of(k)));
        }
    }
    if !options.keep_flow_epochs {
        for flow in &mut flows {
            flow.sender = FlowEpochs::new();
            flow.receiver = FlowEpochs::new();
        }
    }
    run.flows = flows;
}

/// Each `--metric` field of each flow that has it, binned within `window`.
fn flow_fields(
    prepared: &[PreparedFlow],
    window: TimeWindow,
    options: &Options,
) -> BTreeMap<String, Vec<BTreeMap<i64, f64>>> {
    let mut found: BTreeMap<String, Vec<BTreeMap<i64, f64>>> = BTreeMap::new();
    for p in prepared {
        let Some(fields) = &p.fields else { continue };
        for (name, values) in &fields.values {
            let binned = super::fields::bin_field(name, values, p.offset, &options.grid, window);
            found.entry(name.clone()).or_default().push(binned);
        }
    }
    found
}

/// Applies `--rolling` and `--window` to a combined series.
fn finish_series(series: BTreeMap<i64, Combined>, options: &Options) -> BTreeMap<i64, Combined> {
    let rolled = if options.rolling > 1 {
        rolling(&series, options.rolling, Combined::fold)
    } else {
        series
    };
    match options.window {
        Some(w) => rolled
            .into_iter()
            .filter(|(k, _)| w.contains(options.grid.time_of(*k)))
            .collect(),
        None => rolled,
    }
}

/// Drops the epochs at either end of the overlap window that not every flow
/// reported in (the window opens and closes between interval ends, so its
/// first and last epoch may hold only some flows, and a sum over them would
/// show a false dip). Gaps inside the window are kept and reported.
fn trim_partial_edges(series: &mut BTreeMap<i64, Combined>, flows: usize) {
    let partial = |c: &Combined| (c.flows as usize) < flows;
    while series.first_key_value().is_some_and(|(_, c)| partial(c)) {
        series.pop_first();
    }
    while series.last_key_value().is_some_and(|(_, c)| partial(c)) {
        series.pop_last();
    }
}

fn report_missing_epochs(
    sender: &BTreeMap<i64, Combined>,
    receiver: &BTreeMap<i64, Combined>,
    flows: usize,
    diags: &mut Diagnostics,
) {
    for (side, series) in [("client", sender), ("server", receiver)] {
        let short = series
            .values()
            .filter(|c| (c.flows as usize) < flows)
            .count();
        if short > 0 && !series.is_empty() {
            diags.note(
                None,
                format!(
                    "{short} of {} epochs lack a {side} report from some flow (an interval ended on an epoch edge); their sums cover fewer flows",
                    series.len()
                ),
            );
        }
    }
}

/// The run's UDP outage: the median over flows of each flow's estimate.
fn udp_run_outage(
    flows: &[FlowResult],
    grid: &EpochGrid,
    lost: Option<u64>,
    diags: &mut Diagnostics,
) -> Option<Outage> {
    let found: Vec<&UdpOutage> = flows.iter().filter_map(|f| f.outage.as_ref()).collect();
    for flow in flows {
        if let Some(o) = &flow.outage {
            if !o.consistent {
                diags.warn(
                    None,
                    format!(
                        "flow {}: outage estimate ({:.1} ms from {:.3} s) does not fit the intervals where loss was booked ({:.3}-{:.3} s); reordering or a wrong sending rate?",
                        flow.number,
                        o.outage.duration * 1e3,
                        o.outage.start,
                        o.burst_start,
                        o.booked_end
                    ),
                );
            }
        }
    }
    if found.is_empty() {
        return match lost {
            Some(0) => Some(Outage {
                start: f64::NAN,
                duration: 0.0,
            }),
            _ => {
                diags.warn(
                    None,
                    "loss per interval unknown (no server output with loss): outage not estimated",
                );
                None
            }
        };
    }
    let starts: Vec<f64> = found.iter().map(|o| o.outage.start).collect();
    let durations: Vec<f64> = found.iter().map(|o| o.outage.duration).collect();
    let spread = starts.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
        - starts.iter().cloned().fold(f64::INFINITY, f64::min);
    if spread > grid.width() {
        diags.warn(
            None,
            format!("flows disagree on when the outage started (spread {:.0} ms); the median is reported", spread * 1e3),
        );
    }
    Some(Outage {
        start: median(&starts)?,
        duration: median(&durations)?,
    })
}

/// A flow ready to bin: its samples on the run's clock.
struct PreparedFlow {
    number: u32,
    proto: Protocol,
    start: StartEstimate,
    /// The start, seconds after the anchor.
    offset: f64,
    source: StartSource,
    span: TimeWindow,
    sender: Vec<Sample>,
    receiver: Vec<Sample>,
    pps: Option<f64>,
    lost_packets: Option<(u64, u64)>,
    /// The client's TCP state per interval (retransmits, cwnd, RTT).
    tcp_sender: Vec<SenderInterval>,
    /// The client's `--metric` fields.
    fields: Option<super::fields::ClientFields>,
}

/// Samples as the bytes of each interval.
fn bytes_intervals(samples: &[Sample]) -> Vec<BytesInterval> {
    samples
        .iter()
        .map(|s| BytesInterval {
            start: s.start(),
            end: s.end,
            bytes: s.bytes,
        })
        .collect()
}

fn prepare_flow(
    flow: &FlowFiles,
    anchor: f64,
    options: &Options,
    diags: &mut Diagnostics,
) -> Option<PreparedFlow> {
    let file_of = |p: &Option<std::path::PathBuf>| p.as_deref().map(display).unwrap_or_default();
    let client_file = file_of(&flow.client_path);
    let server_file = file_of(&flow.server_path);
    let n = flow.number;
    match (
        &flow.client,
        &flow.server,
        flow.client_path.is_some(),
        flow.server_path.is_some(),
    ) {
        (None, None, _, _) => return None,
        (Some(_), None, _, false) => {
            diags.set_file(&client_file);
            diags.warn(None, format!("no server file for flow {n} (server_{n}.out): no per-interval loss, and the start is known only to the second"));
        }
        (None, Some(_), false, _) => {
            diags.set_file(&server_file);
            diags.warn(None, format!("no client file for flow {n} (client_{n}.json): this server file matches no client; sending rate and totals unknown"));
        }
        _ => {}
    }
    check_ports(flow, &server_file, diags);
    let proto = flow_protocol(flow)?;
    let (start, source) = match flow_start(flow, options, diags) {
        Some(found) => found,
        None => {
            diags.set_file(if server_file.is_empty() {
                &client_file
            } else {
                &server_file
            });
            diags.error(
                None,
                format!("flow {n}: no time stamp to place it on the run's clock; flow left out"),
            );
            return None;
        }
    };
    let offset = start.start - anchor;
    let keep = |omitted: bool| options.include_omitted || !omitted;
    let sender: Vec<Sample> = flow
        .client
        .iter()
        .flat_map(|c| c.intervals.iter())
        .filter(|i| keep(i.omitted))
        .map(|i| Sample {
            end: offset + i.end,
            seconds: i.seconds,
            bytes: i.bytes,
            packets: i.packets,
            lost: None,
            jitter_ms: None,
            rtt_ms: i.rtt_ms,
            retransmits: i.retransmits,
        })
        .collect();
    let tcp_sender: Vec<SenderInterval> = flow
        .client
        .iter()
        .flat_map(|c| c.intervals.iter())
        .filter(|i| keep(i.omitted))
        .map(|i| SenderInterval {
            start: offset + i.start,
            end: offset + i.end,
            retransmits: i.retransmits,
            snd_cwnd: i.snd_cwnd.map(|c| c as f64),
            rtt_ms: i.rtt_ms,
        })
        .collect();
    let receiver = receiver_samples(flow, offset, options.include_omitted);
    let last_end = sender
        .iter()
        .chain(&receiver)
        .map(|s| s.end)
        .fold(f64::NEG_INFINITY, f64::max);
    // Warm-up intervals kept with --include-omitted lie before the measured start.
    let first_start = sender
        .iter()
        .chain(&receiver)
        .map(Sample::start)
        .fold(offset, f64::min);
    if !last_end.is_finite() {
        diags.set_file(if server_file.is_empty() {
            &client_file
        } else {
            &server_file
        });
        diags.error(
            None,
            format!("flow {n}: no interval to analyse; flow left out"),
        );
        return None;
    }
    let totals = flow.client.as_ref().and_then(|c| c.udp_totals());
    let lost_packets = match (proto, totals) {
        (Protocol::Udp, Some(t)) => t.lost_packets.zip(t.packets),
        _ => None,
    };
    let pps = sending_rate(flow.client.as_ref(), &sender, &receiver);
    Some(PreparedFlow {
        number: n,
        proto,
        start,
        offset,
        source,
        span: TimeWindow {
            start: first_start,
            end: last_end,
        },
        sender,
        receiver,
        pps,
        lost_packets,
        tcp_sender,
        fields: flow.fields.clone(),
    })
}

fn receiver_samples(flow: &FlowFiles, offset: f64, include_omitted: bool) -> Vec<Sample> {
    match &flow.server {
        Some(ServerOutput::Text(log)) => log
            .main_test()
            .map(|t| t.series())
            .unwrap_or_default()
            .into_iter()
            .filter(|i| include_omitted || !i.omitted)
            .map(|i| Sample {
                end: offset + i.end,
                seconds: i.end - i.start,
                bytes: i.bytes,
                packets: i.total,
                lost: i.lost,
                jitter_ms: i.jitter_ms,
                rtt_ms: None,
                retransmits: None,
            })
            .collect(),
        Some(ServerOutput::Json(test)) => test
            .intervals
            .iter()
            .filter(|i| include_omitted || !i.omitted)
            .map(|i| Sample {
                end: offset + i.end,
                seconds: i.seconds,
                bytes: i.bytes,
                packets: i.packets,
                lost: i.lost_packets,
                jitter_ms: i.jitter_ms,
                rtt_ms: None,
                retransmits: None,
            })
            .collect(),
        None => Vec::new(),
    }
}

/// Datagrams per second the flow sent: from the client's totals, else its
/// intervals, else what the receiver expected.
fn sending_rate(client: Option<&IperfTest>, sender: &[Sample], receiver: &[Sample]) -> Option<f64> {
    let from_totals = client
        .and_then(|c| c.end.as_ref())
        .and_then(|e| e.sum_sent.as_ref().or(e.sum.as_ref()))
        .and_then(|t| t.packets.map(|p| p as f64 / t.seconds))
        .filter(|r| r.is_finite() && *r > 0.0);
    let from_samples = |samples: &[Sample]| {
        let packets: u64 = samples.iter().filter_map(|s| s.packets).sum();
        let seconds: f64 = samples
            .iter()
            .filter(|s| s.packets.is_some())
            .map(|s| s.seconds)
            .sum();
        (packets > 0 && seconds > 0.0).then(|| packets as f64 / seconds)
    };
    from_totals
        .or_else(|| from_samples(sender))
        .or_else(|| from_samples(receiver))
}

fn flow_protocol(flow: &FlowFiles) -> Option<Protocol> {
    if let Some(p) = flow.client.as_ref().and_then(|c| c.protocol) {
        return Some(p);
    }
    match &flow.server {
        Some(ServerOutput::Json(t)) => t.protocol,
        Some(ServerOutput::Text(log)) => {
            let test = log.main_test()?;
            Some(if test.intervals.iter().any(|i| i.total.is_some()) {
                Protocol::Udp
            } else {
                Protocol::Tcp
            })
        }
        None => None,
    }
}

fn check_ports(flow: &FlowFiles, server_file: &str, diags: &mut Diagnostics) {
    let client_port = flow.client.as_ref().and_then(|c| c.server_port);
    let server_port = match &flow.server {
        Some(ServerOutput::Text(log)) => log.main_test().and_then(|t| t.listening_port),
        Some(ServerOutput::Json(t)) => t.server_port,
        None => None,
    };
    if let (Some(c), Some(s)) = (client_port, server_port) {
        if c != s {
            diags.set_file(server_file);
            diags.warn(
                None,
                format!("server listened on port {s} but client_{}.json connected to port {c}: the files may not belong to the same flow", flow.number),
            );
        }
    }
}

/// When the flow started (absolute), and from what.
fn flow_start(
    flow: &FlowFiles,
    options: &Options,
    diags: &mut Diagnostics,
) -> Option<(StartEstimate, StartSource)> {
    if let Some(ServerOutput::Text(log)) = &flow.server {
        if let Some(found) = start_from_text(log) {
            diags.set_file(flow.server_path.as_deref().map(display).unwrap_or_default());
            check_text_zone(found, flow.client.as_ref(), options, diags);
            return Some(found);
        }
    }
    let json_start = flow
        .client
        .as_ref()
        .and_then(|c| c.start_epoch)
        .or(match &flow.server {
            Some(ServerOutput::Json(t)) => t.start_epoch,
            _ => None,
        })?;
    diags.set_file(
        flow.server_path
            .as_deref()
            .or(flow.client_path.as_deref())
            .map(display)
            .unwrap_or_default(),
    );
    diags.warn(
        None,
        format!(
            "flow {}: no time-stamped server lines; its start is known only to the second (start.timestamp.timesecs), so sub-second alignment is a guess",
            flow.number
        ),
    );
    Some((
        StartEstimate {
            start: json_start + 0.5,
            uncertainty: 0.5,
        },
        StartSource::JsonTimesecs,
    ))
}

fn start_from_text(log: &TextLog) -> Option<(StartEstimate, StartSource)> {
    let test = log.main_test()?;
    let stamped = |i: &TextInterval| i.stamp.map(|stamp| StampedEnd { stamp, end: i.end });
    let lines: Vec<StampedEnd> = test.series().into_iter().filter_map(stamped).collect();
    // With parallel streams iperf3 prints each block's [SUM] line up to an
    // interval late, its streams' lines on time: precise stamps use them all.
    let all_lines: Vec<StampedEnd> = test.intervals.iter().filter_map(stamped).collect();
    match log.stamp_kind {
        StampKind::Epoch => {
            start_from_precise_stamps(&all_lines).map(|s| (s, StartSource::ServerEpochStamps))
        }
        StampKind::Calendar { resolution } if resolution < 1e-3 => {
            start_from_precise_stamps(&all_lines).map(|s| (s, StartSource::ServerCalendarStamps))
        }
        StampKind::Calendar { resolution } => {
            let accepted = test.accepted_stamp;
            start_from_coarse_stamps(&lines, resolution, accepted)
                .map(|s| (s, StartSource::ServerCalendarStamps))
        }
        StampKind::None => None,
    }
}

/// Calendar prefixes are local time without a zone: compare with the
/// client's UTC start and say so when they look shifted by a zone offset.
fn check_text_zone(
    found: (StartEstimate, StartSource),
    client: Option<&IperfTest>,
    options: &Options,
    diags: &mut Diagnostics,
) {
    if found.1 != StartSource::ServerCalendarStamps {
        return;
    }
    let Some(client_start) = client.and_then(|c| c.start_epoch) else {
        return;
    };
    let shift = found.0.start - (client_start + 0.5);
    if shift.abs() > 5.0 {
        let hours = (shift / 900.0).round() * 0.25;
        diags.warn(
            None,
            format!(
                "the --timestamps prefixes are {shift:.0} s away from the client's UTC start: they look like local time at UTC{hours:+} (now read as UTC{:+}); pass --text-utc-offset {hours}",
                options.text.utc_offset_s / 3600.0
            ),
        );
    }
}
