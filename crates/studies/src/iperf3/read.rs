//! One run: each file read as iperf3 JSON (`*.json`) or text (the rest) into
//! one shape (a test's totals and its streams with their intervals), client
//! and server files paired, then the run's flows, totals and series.
//!
//! JSON: a file written by the data's receiver (a server, or a client with
//! `-R`) gives only the receiver's values and CPU: iperf3 writes zeros there
//! for the sender's RTT and cwnd, and a UDP receiver's `sum_sent` is empty.
//! An RTT of 0 (no measurement) is left empty. Text: only the summary lines
//! (`sender`: rate, retransmits; `receiver`: rate, loss, jitter); an
//! interval line's side is told by its columns (jitter: receiver; Retr/Cwnd
//! or datagram count: sender; none: a TCP receiver).

use super::*;
use expost_formats::iperf3_json::{self, EndSum, Interval, IperfTest, Role};
use expost_formats::iperf3_text::{self, Side, StreamId, TextInterval, TextLog};
use expost_ops::traffic::{bin_samples, combine, Sample};

/// A test as read from one file.
struct View {
    /// The file as reachable (for diagnostics).
    path: String,
    /// The file relative to ROOT (for outputs, the same wherever expost runs).
    rel: String,
    stem: String,
    server: bool,
    proto: Option<Protocol>,
    total: Summary,
    streams: Vec<Stream>,
}

/// One stream of a test.
struct Stream {
    socket: Option<u32>,
    summary: Summary,
    sent: Vec<Sample>,
    received: Vec<Sample>,
}

/// Sets a value the summary does not have yet.
fn put<T: Into<f64>>(s: &mut Summary, index: usize, value: Option<T>) {
    if s[index].is_none() {
        s[index] = value.map(Into::into);
    }
}

fn count(v: Option<u64>) -> Option<f64> {
    v.map(|v| v as f64)
}

/// Analyses one run; problems go into its diagnostics.
pub(super) fn analyse(unit: &RunUnit, options: &Options) -> RunResult {
    let mut run = RunResult {
        name: unit.dir.name.clone(),
        rel: unit.dir.rel.clone(),
        params: unit.params.clone(),
        trial: unit.trial.clone(),
        diagnostics: Diagnostics::for_file(display(&unit.dir.path)),
        ..RunResult::default()
    };
    let mut views = Vec::new();
    for file in &unit.files {
        run.diagnostics.set_file(display(file));
        let rel = match file.strip_prefix(&unit.dir.path) {
            Ok(inner) if !inner.as_os_str().is_empty() => {
                format!("{}/{}", unit.dir.rel, display(inner))
            }
            _ => unit.dir.rel.clone(),
        };
        if let Some(found) = read_file(file, &rel, options, &mut run.diagnostics) {
            run.iperf_files += 1;
            views.extend(found);
        }
    }
    run.diagnostics.set_file(display(&unit.dir.path));
    match &unit.misfit {
        // Read first all the same: files that are no iperf3 output make no run.
        Some((Severity::Error, why)) => {
            run.diagnostics.error(None, format!("{why}; run left out"));
            return run;
        }
        Some((_, why)) => run.diagnostics.note(None, why.clone()),
        None => {}
    }
    let groups = pair(views, &mut run.diagnostics);
    for group in &groups {
        let view = &group.view;
        let several = view.streams.len() > 1;
        for (index, stream) in view.streams.iter().enumerate() {
            let label = match (several, stream.socket) {
                (false, _) => view.stem.clone(),
                (true, Some(socket)) => format!("{}:{socket}", view.stem),
                (true, None) => format!("{}:#{}", view.stem, index + 1),
            };
            run.flows.push(Flow {
                label,
                file: view.rel.clone(),
                server_file: group.server_path.clone(),
                proto: view.proto,
                summary: finish(stream.summary),
                sent: bin_samples(&stream.sent, &options.grid, None),
                received: bin_samples(&stream.received, &options.grid, None),
            });
        }
    }
    run.total = finish(std::array::from_fn(|m| {
        let values: Vec<f64> = groups.iter().filter_map(|g| g.view.total[m]).collect();
        match m {
            RTT_MAX | CWND_MAX => values.into_iter().reduce(f64::max),
            RTT_MEAN | JITTER | CPU_HOST | CPU_REMOTE if !values.is_empty() => {
                Some(values.iter().sum::<f64>() / values.len() as f64)
            }
            SENT | RECEIVED | RETRANSMITS | LOST | PACKETS | OUT_OF_ORDER
                if !values.is_empty() && values.len() == groups.len() =>
            {
                Some(values.iter().sum())
            }
            _ => None,
        }
    }));
    run.proto = run.flows.first().and_then(|f| f.proto);
    run.sent = combine(&run.flows.iter().map(|f| &f.sent).collect::<Vec<_>>());
    run.received = combine(&run.flows.iter().map(|f| &f.received).collect::<Vec<_>>());
    run.ok = !run.flows.is_empty();
    if !run.ok && run.diagnostics.count_at_least(Severity::Error) == 0 && run.iperf_files > 0 {
        run.diagnostics.error(None, "no iperf3 results in the run");
    }
    run
}

/// Loss in percent, from lost and packets.
fn finish(mut s: Summary) -> Summary {
    s[LOSS] = match (s[LOST], s[PACKETS]) {
        (Some(lost), Some(packets)) if packets > 0.0 => Some(100.0 * lost / packets),
        _ => None,
    };
    s
}

/// The tests of one file; `None` when it is not iperf3 output at all (noted).
fn read_file(
    path: &Path,
    rel: &str,
    options: &Options,
    diags: &mut Diagnostics,
) -> Option<Vec<View>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            diags.error(None, format!("could not read: {e}"));
            return Some(Vec::new());
        }
    };
    let mut own = Diagnostics::for_file(diags.file());
    let name = display(path);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read = if path.extension().is_some_and(|e| e == "json") {
        iperf3_json::parse_bytes(&bytes, &mut own)
            .map(|t| (vec![json_view(&t, &name, &stem)], Vec::new()))
    } else {
        iperf3_text::parse_bytes(&bytes, &options.text, &mut own)
            .map(|l| text_views(&l, &name, &stem))
    };
    let (mut views, errors) = match read {
        Err(e) if e.is_foreign() => {
            diags.note(e.line(), format!("not iperf3 output ({e}); ignored"));
            return None;
        }
        Err(e) => {
            diags.extend(own);
            diags.error(e.line(), e.to_string());
            return Some(Vec::new());
        }
        Ok(read) => read,
    };
    for view in &mut views {
        view.rel = rel.into();
    }
    views.retain(|v| {
        v.streams
            .iter()
            .any(|s| !s.sent.is_empty() || !s.received.is_empty())
            || v.total.iter().any(Option::is_some)
    });
    if views.is_empty()
        && errors.is_empty()
        && !own.items().iter().any(|d| d.severity == Severity::Error)
    {
        diags.note(None, "no iperf3 interval or summary line; ignored");
        return None;
    }
    diags.extend(own);
    let (severity, what) = if views.is_empty() {
        (Severity::Error, "and no results")
    } else {
        (Severity::Warning, "(its other tests are read)")
    };
    for (line, error) in &errors {
        diags.push(
            severity,
            Some(*line),
            format!("iperf3 reported {error} {what}"),
        );
    }
    Some(views)
}

fn sample_of(i: &Interval) -> Sample {
    Sample {
        end: i.end,
        seconds: i.seconds,
        bytes: i.bytes,
        packets: i.packets,
        lost: i.lost_packets,
        jitter_ms: i.jitter_ms,
        rtt_ms: i.rtt_ms,
        retransmits: i.retransmits,
    }
}

fn json_view(t: &IperfTest, path: &str, stem: &str) -> View {
    let udp = t.protocol == Some(Protocol::Udp);
    let receiver = matches!(
        (t.role, t.reverse.unwrap_or(false)),
        (Some(Role::Server), false) | (Some(Role::Client), true)
    );
    let end = t.end.clone().unwrap_or_default();
    let bps = |s: Option<&EndSum>| s.map(|s| s.bits_per_second);
    let rtt = |v: Option<f64>| v.filter(|&ms| ms > 0.0);
    let mut total = Summary::default();
    let senders: Vec<&EndSum> = end
        .streams
        .iter()
        .filter_map(|s| s.sender.as_ref())
        .collect();
    if !receiver {
        put(
            &mut total,
            SENT,
            if udp {
                bps(end.sum_sent.as_ref().or(end.sum.as_ref()))
            } else {
                bps(end.sum_sent.as_ref())
            },
        );
        put(
            &mut total,
            RETRANSMITS,
            count(end.sum_sent.as_ref().and_then(|s| s.retransmits)),
        );
        let rtts: Vec<f64> = senders.iter().filter_map(|s| rtt(s.mean_rtt_ms)).collect();
        put(
            &mut total,
            RTT_MEAN,
            (!rtts.is_empty()).then(|| rtts.iter().sum::<f64>() / rtts.len() as f64),
        );
        put(
            &mut total,
            RTT_MAX,
            senders
                .iter()
                .filter_map(|s| rtt(s.max_rtt_ms))
                .reduce(f64::max),
        );
        put(
            &mut total,
            CWND_MAX,
            senders
                .iter()
                .filter_map(|s| count(s.max_snd_cwnd))
                .reduce(f64::max),
        );
    }
    put(&mut total, RECEIVED, bps(end.sum_received.as_ref()));
    if let Some(s) = t.udp_totals().filter(|_| udp) {
        put(&mut total, LOST, count(s.lost_packets));
        put(&mut total, PACKETS, count(s.packets));
        put(&mut total, JITTER, s.jitter_ms);
        let ooo: Option<Vec<u64>> = end
            .streams
            .iter()
            .map(|s| s.udp.as_ref()?.out_of_order)
            .collect();
        put(
            &mut total,
            OUT_OF_ORDER,
            ooo.filter(|v| !v.is_empty())
                .map(|v| v.iter().sum::<u64>() as f64),
        );
    }
    put(&mut total, CPU_HOST, end.cpu.and_then(|c| c.host_total));
    put(&mut total, CPU_REMOTE, end.cpu.and_then(|c| c.remote_total));
    let samples = |pick: &dyn Fn(&Interval) -> Option<&Interval>| {
        let (mut sent, mut received) = (Vec::new(), Vec::new());
        for i in t.intervals.iter().filter(|i| !i.omitted).filter_map(pick) {
            if i.sender.unwrap_or(!receiver) {
                &mut sent
            } else {
                &mut received
            }
            .push(sample_of(i));
        }
        (sent, received)
    };
    let sockets: Vec<Option<u32>> = match t.intervals.first() {
        _ if end.streams.len() > 1 => end.streams.iter().map(|s| s.socket).collect(),
        Some(i) if i.streams.len() > 1 => i.streams.iter().map(|s| s.socket).collect(),
        _ => Vec::new(),
    };
    let streams = if sockets.is_empty() {
        let (sent, received) = samples(&|i| Some(i));
        vec![Stream {
            socket: end.streams.first().and_then(|s| s.socket),
            summary: total,
            sent,
            received,
        }]
    } else {
        let streams = sockets.iter().enumerate().map(|(index, &socket)| {
            let mut s = Summary::default();
            if let Some(e) = end.streams.get(index) {
                if let Some(b) = e.sender.as_ref().filter(|_| !receiver) {
                    put(&mut s, SENT, Some(b.bits_per_second));
                    put(&mut s, RETRANSMITS, count(b.retransmits));
                    put(&mut s, RTT_MEAN, rtt(b.mean_rtt_ms));
                    put(&mut s, RTT_MAX, rtt(b.max_rtt_ms));
                    put(&mut s, CWND_MAX, count(b.max_snd_cwnd));
                }
                put(
                    &mut s,
                    RECEIVED,
                    e.receiver.as_ref().map(|b| b.bits_per_second),
                );
                if let Some(b) = &e.udp {
                    put(&mut s, SENT, Some(b.bits_per_second).filter(|_| !receiver));
                    put(&mut s, LOST, count(b.lost_packets));
                    put(&mut s, PACKETS, count(b.packets));
                    put(&mut s, JITTER, b.jitter_ms);
                    put(&mut s, OUT_OF_ORDER, count(b.out_of_order));
                }
            }
            put(&mut s, CPU_HOST, total[CPU_HOST]);
            put(&mut s, CPU_REMOTE, total[CPU_REMOTE]);
            let (sent, received) = samples(&|i| i.streams.iter().find(|s| s.socket == socket));
            Stream {
                socket,
                summary: s,
                sent,
                received,
            }
        });
        streams.collect()
    };
    View {
        path: path.into(),
        rel: String::new(),
        stem: stem.into(),
        server: t.role == Some(Role::Server),
        proto: t.protocol,
        total,
        streams,
    }
}

/// Whether a text line was measured by the receiver (see the module documentation).
fn by_receiver(l: &TextInterval) -> bool {
    match l.side {
        Some(side) => side == Side::Receiver,
        None => {
            l.jitter_ms.is_some()
                || (l.retransmits.is_none() && l.cwnd_bytes.is_none() && l.datagrams.is_none())
        }
    }
}

fn text_summary<'a>(lines: impl Iterator<Item = &'a TextInterval>) -> Summary {
    let mut s = Summary::default();
    for l in lines {
        if by_receiver(l) {
            put(&mut s, RECEIVED, Some(l.bits_per_second));
            put(&mut s, LOST, count(l.lost));
            put(&mut s, PACKETS, count(l.total));
            put(&mut s, JITTER, l.jitter_ms);
        } else {
            put(&mut s, SENT, Some(l.bits_per_second));
            put(&mut s, RETRANSMITS, count(l.retransmits));
        }
    }
    s
}

fn text_sample(l: &TextInterval) -> Sample {
    Sample {
        end: l.end,
        seconds: l.end - l.start,
        bytes: l.bytes,
        packets: l.total.or(l.datagrams),
        lost: l.lost,
        jitter_ms: l.jitter_ms,
        rtt_ms: None,
        retransmits: l.retransmits,
    }
}

/// The tests of a text log, and the errors iperf3 printed (line, text).
/// Summary lines repeating a stream and side already seen start another
/// test (logs filtered down to their summary lines).
fn text_views(log: &TextLog, path: &str, stem: &str) -> (Vec<View>, Vec<(u64, String)>) {
    let (mut views, mut errors) = (Vec::new(), Vec::new());
    for test in &log.tests {
        errors.extend(test.errors.iter().map(|e| (test.first_line, e.clone())));
        let mut groups: Vec<Vec<&TextInterval>> = Vec::new();
        for s in &test.summaries {
            if groups
                .last()
                .is_none_or(|g| g.iter().any(|o| o.stream == s.stream && o.side == s.side))
            {
                groups.push(Vec::new());
            }
            groups.last_mut().expect("pushed").push(s);
        }
        if groups.is_empty() && !test.intervals.is_empty() {
            groups.push(Vec::new());
        }
        for (k, summaries) in groups.iter().enumerate() {
            let intervals: &[TextInterval] = if k == 0 { &test.intervals } else { &[] };
            let lines = || intervals.iter().chain(summaries.iter().copied());
            let udp = lines().any(|l| l.jitter_ms.is_some() || l.datagrams.is_some());
            let mut sockets: Vec<u32> = lines()
                .filter_map(|l| match l.stream {
                    StreamId::Socket(s) => Some(s),
                    StreamId::Sum => None,
                })
                .collect();
            sockets.sort_unstable();
            sockets.dedup();
            let of = |id: StreamId| {
                (
                    lines().filter(move |l| l.stream == id),
                    summaries.iter().copied().filter(move |l| l.stream == id),
                )
            };
            let stream = |socket: u32| {
                let (all, summary) = of(StreamId::Socket(socket));
                let (received, sent): (Vec<_>, Vec<_>) = all
                    .filter(|l| l.side.is_none() && !l.omitted)
                    .partition(|l| by_receiver(l));
                let samples = |v: Vec<&TextInterval>| v.into_iter().map(text_sample).collect();
                Stream {
                    socket: Some(socket),
                    summary: text_summary(summary),
                    sent: samples(sent),
                    received: samples(received),
                }
            };
            let streams: Vec<Stream> = sockets.iter().map(|&s| stream(s)).collect();
            let total = match streams.as_slice() {
                [one] => one.summary,
                _ => text_summary(of(StreamId::Sum).1),
            };
            views.push(View {
                path: path.into(),
                rel: String::new(),
                stem: stem.into(),
                server: test.listening_port.is_some() || test.accepted_port.is_some(),
                proto: Some(if udp { Protocol::Udp } else { Protocol::Tcp }),
                total,
                streams,
            });
        }
    }
    if views.len() > 1 {
        for (k, view) in views.iter_mut().enumerate() {
            view.stem = format!("{stem}#{}", k + 1);
        }
    }
    (views, errors)
}

/// A client test with the server file of the same flow, if any.
struct Group {
    view: View,
    /// The paired server file, relative to ROOT.
    server_path: Option<String>,
}

/// Pairs each server test with the client test of the same name (`server`
/// for `client`) when that client is the only one of its name and not yet
/// paired; fills the client's missing receiver values and intervals from
/// the server's.
fn pair(views: Vec<View>, diags: &mut Diagnostics) -> Vec<Group> {
    let key = |v: &View| v.stem.replacen("server", "client", 1);
    let (servers, clients): (Vec<View>, Vec<View>) = views.into_iter().partition(|v| v.server);
    let mut groups: Vec<Group> = clients
        .into_iter()
        .map(|view| Group {
            view,
            server_path: None,
        })
        .collect();
    for s in servers {
        let k = key(&s);
        let matches: Vec<usize> = (0..groups.len())
            .filter(|&i| key(&groups[i].view) == k)
            .collect();
        let Some(&index) = matches
            .first()
            .filter(|&&i| matches.len() == 1 && groups[i].server_path.is_none())
        else {
            groups.push(Group {
                view: s,
                server_path: None,
            });
            continue;
        };
        let c = &mut groups[index];
        c.server_path = Some(s.rel.clone());
        diags.set_file(s.path.clone());
        let receiver = [RECEIVED, LOST, PACKETS, JITTER, OUT_OF_ORDER];
        let filled: Vec<&str> = receiver
            .iter()
            .filter(|&&m| c.view.total[m].is_none() && s.total[m].is_some())
            .map(|&m| METRICS[m].0)
            .collect();
        for &m in &receiver {
            put(&mut c.view.total, m, s.total[m]);
        }
        if c.view.streams.len() == s.streams.len() {
            for (cs, ss) in c.view.streams.iter_mut().zip(s.streams) {
                for &m in &receiver {
                    put(&mut cs.summary, m, ss.summary[m]);
                }
                if cs.received.is_empty() {
                    cs.received = ss.received;
                }
            }
        } else {
            diags.note(
                None,
                format!(
                    "{} streams here, {} in {}: per-stream values and intervals not used",
                    s.streams.len(),
                    c.view.streams.len(),
                    c.view.path
                ),
            );
        }
        if !filled.is_empty() {
            diags.note(
                None,
                format!(
                    "{} of {} read from this server file (the client file lacks them)",
                    filled.join(", "),
                    c.view.path
                ),
            );
        }
    }
    groups.sort_by(|a, b| a.view.path.cmp(&b.view.path));
    groups
}
