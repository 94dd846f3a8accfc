//! The disruption of a TCP run: each flow's disruptions (see
//! [`expost_ops::tcp_disruption`]) merged across flows, and the one
//! reported as the run's outage.
//!
//! Flows hurt by the same outage overlap in time; overlapping flow events
//! (within one interval) make one run event, from the earliest flow start
//! to the latest flow recovery, with the flows' deficits added up. When a
//! run has more than one event, the one with the largest deficit is the
//! outage and the others are reported too.

use super::analyse::Options;
use expost_model::Diagnostics;
use expost_ops::outage::Outage;
use expost_ops::tcp_disruption::{
    find_disruptions, BytesInterval, Disruption, Evidence, Rules, SenderInterval,
};
use expost_ops::window::TimeWindow;
use std::collections::BTreeSet;

/// One flow's inputs, on the run's clock.
#[derive(Debug, Clone)]
pub struct FlowInput {
    /// The flow's number.
    pub number: u32,
    /// True when `throughput` is the receiver's (else the sender's).
    pub received: bool,
    /// Bytes per interval.
    pub throughput: Vec<BytesInterval>,
    /// The sender's TCP state per interval.
    pub sender: Vec<SenderInterval>,
}

/// A disruption of the run (flows merged).
#[derive(Debug, Clone, PartialEq)]
pub struct RunDisruption {
    /// When it began (earliest flow), seconds after the anchor.
    pub start: f64,
    /// The interval the start lies in, seconds after the anchor.
    pub start_window: (f64, f64),
    /// When the last flow was back to 90 % of its baseline; `None` when one was not.
    pub end: Option<f64>,
    /// Σ over its flows of their pre-event median throughput, bits/s.
    pub baseline_bps: f64,
    /// Σ over its flows of the bytes short of their baseline.
    pub deficit_bytes: f64,
    /// The lowest throughput of a flow in it, as a fraction of its baseline.
    pub min_fraction: f64,
    /// What showed it, over its flows.
    pub evidence: BTreeSet<Evidence>,
    /// The flows it was seen in.
    pub flows: Vec<u32>,
}

impl RunDisruption {
    /// Its duration, seconds, when it ended.
    pub fn duration(&self) -> Option<f64> {
        self.end.map(|e| e - self.start)
    }
}

/// What was found in a TCP run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TcpFinding {
    /// The run's disruptions, in time order.
    pub events: Vec<RunDisruption>,
    /// Index in `events` of the one reported as the outage.
    pub main: Option<usize>,
    /// Why no outage is reported (set when `outage()` is `None`).
    pub reason: Option<String>,
}

impl TcpFinding {
    /// The outage: the main event, when it ended.
    pub fn outage(&self) -> Option<Outage> {
        let event = &self.events[self.main?];
        Some(Outage {
            start: event.start,
            duration: event.duration()?,
        })
    }

    /// The main event, ended or not.
    pub fn main_event(&self) -> Option<&RunDisruption> {
        self.main.map(|i| &self.events[i])
    }
}

/// The rules of the detection under `options`.
pub fn rules(options: &Options) -> Rules {
    Rules {
        bare_dip_fraction: options.tcp_threshold,
        ..Rules::default()
    }
}

/// Finds the disruptions of a TCP run within `window` (where all flows ran).
pub fn run_finding(
    flows: &[FlowInput],
    window: TimeWindow,
    options: &Options,
    diags: &mut Diagnostics,
) -> TcpFinding {
    let rules = rules(options);
    let inside = |start: f64, end: f64| start >= window.start - 1e-9 && end <= window.end + 1e-9;
    let mut tagged: Vec<(u32, Disruption)> = Vec::new();
    let mut weak = Vec::new();
    let mut stray = Vec::new();
    for flow in flows {
        if !flow.received {
            diags.note(
                None,
                format!("flow {}: no server intervals; its TCP disruption is read from the bytes the client sent, which lag what arrived", flow.number),
            );
        }
        let throughput: Vec<BytesInterval> = (flow.throughput.iter())
            .filter(|s| inside(s.start, s.end))
            .copied()
            .collect();
        let sender: Vec<SenderInterval> = (flow.sender.iter())
            .filter(|s| inside(s.start, s.end))
            .copied()
            .collect();
        let found = find_disruptions(&throughput, &sender, &rules);
        tagged.extend(found.events.into_iter().map(|e| (flow.number, e)));
        weak.extend(found.weak_dips);
        stray.extend(found.stray_evidence);
    }
    let events = merge(tagged);
    let mut finding = TcpFinding {
        main: main_event(&events),
        events,
        reason: None,
    };
    explain(&mut finding, &weak, &stray, options, diags);
    finding
}

/// Flow events overlapping in time (within one interval) become one run event.
fn merge(mut tagged: Vec<(u32, Disruption)>) -> Vec<RunDisruption> {
    tagged.sort_by(|a, b| a.1.start_window.0.total_cmp(&b.1.start_window.0));
    let mut events: Vec<RunDisruption> = Vec::new();
    let mut reach = f64::NEG_INFINITY;
    for (flow, e) in tagged {
        let slack = e.start_window.1 - e.start_window.0;
        let joins = e.start_window.0 <= reach + slack;
        reach = if joins { reach.max(e.last) } else { e.last };
        match events.last_mut() {
            Some(run) if joins => {
                run.start_window = if e.start < run.start {
                    e.start_window
                } else {
                    run.start_window
                };
                run.start = run.start.min(e.start);
                run.end = run.end.zip(e.end).map(|(a, b)| a.max(b));
                run.deficit_bytes += e.deficit_bytes;
                run.min_fraction = run.min_fraction.min(e.min_fraction);
                run.evidence.extend(e.evidence.iter().copied());
                if !run.flows.contains(&flow) {
                    run.flows.push(flow);
                    run.baseline_bps += e.baseline * 8.0;
                }
            }
            _ => events.push(RunDisruption {
                start: e.start,
                start_window: e.start_window,
                end: e.end,
                baseline_bps: e.baseline * 8.0,
                deficit_bytes: e.deficit_bytes,
                min_fraction: e.min_fraction,
                evidence: e.evidence,
                flows: vec![flow],
            }),
        }
    }
    events
}

/// The event with the largest deficit (the earliest among equals).
fn main_event(events: &[RunDisruption]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, e) in events.iter().enumerate() {
        if best.is_none_or(|b| e.deficit_bytes > events[b].deficit_bytes) {
            best = Some(i);
        }
    }
    best
}

/// Says what was found when it is not one clean disruption, and sets the
/// reason when there is no outage.
fn explain(
    finding: &mut TcpFinding,
    weak: &[(f64, f64)],
    stray: &[(f64, Evidence)],
    options: &Options,
    diags: &mut Diagnostics,
) {
    if finding.events.len() > 1 {
        let starts: Vec<String> = (finding.events.iter())
            .map(|e| format!("{:.3} s", e.start))
            .collect();
        let main = finding.main_event().map(|e| e.start).unwrap_or(f64::NAN);
        diags.warn(
            None,
            format!(
                "{} TCP disruptions (at {}); the one with the largest byte deficit, at {main:.3} s, is the outage",
                finding.events.len(),
                starts.join(", ")
            ),
        );
    }
    if let Some(main) = finding.main_event() {
        if main.end.is_none() {
            let reason = format!(
                "TCP disruption from {:.3} s: throughput not back to 90 % of its pre-event median before the flows' common window ended",
                main.start
            );
            diags.warn(None, format!("{reason}; outage duration unknown"));
            finding.reason = Some(reason);
        }
        return;
    }
    let mut parts = vec![format!(
        "no TCP disruption: no throughput dip below 90 % of its pre-event median with retransmissions, a cwnd collapse or an RTT rise, nor one below {:.0} % without",
        options.tcp_threshold * 100.0
    )];
    if !weak.is_empty() {
        let lowest = weak.iter().map(|w| w.1).fold(f64::INFINITY, f64::min);
        parts.push(format!(
            "{} shallow dip(s) without sender evidence (lowest {:.0} %)",
            weak.len(),
            lowest * 100.0
        ));
    }
    if !stray.is_empty() {
        let kinds: BTreeSet<&str> = stray.iter().map(|s| s.1.as_str()).collect();
        parts.push(format!(
            "sender evidence without a dip ({}) from {:.3} s",
            kinds.into_iter().collect::<Vec<_>>().join(", "),
            stray.iter().map(|s| s.0).fold(f64::INFINITY, f64::min)
        ));
    }
    let reason = parts.join("; ");
    diags.note(None, reason.clone());
    finding.reason = Some(reason);
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 1e6;

    /// A flow with 0.1 s intervals from 0 s at RATE times each fraction,
    /// and a retransmission burst in the intervals listed.
    fn flow(number: u32, fractions: &[f64], bursts: &[usize]) -> FlowInput {
        let at = |i: usize| (i as f64 * 0.1, (i + 1) as f64 * 0.1);
        FlowInput {
            number,
            received: true,
            throughput: (fractions.iter().enumerate())
                .map(|(i, f)| BytesInterval {
                    start: at(i).0,
                    end: at(i).1,
                    bytes: f * RATE * 0.1,
                })
                .collect(),
            sender: (0..fractions.len())
                .map(|i| SenderInterval {
                    start: at(i).0,
                    end: at(i).1,
                    retransmits: Some(if bursts.contains(&i) { 10 } else { 0 }),
                    snd_cwnd: None,
                    rtt_ms: None,
                })
                .collect(),
        }
    }

    fn window() -> TimeWindow {
        TimeWindow {
            start: 0.0,
            end: 4.0,
        }
    }

    fn with_dip(dip: &[(usize, f64)]) -> Vec<f64> {
        let mut f = vec![1.0; 40];
        for &(i, v) in dip {
            f[i] = v;
        }
        f
    }

    #[test]
    fn flows_hit_together_make_one_run_disruption() {
        let flows = [
            flow(1, &with_dip(&[(15, 0.5), (16, 0.0)]), &[16]),
            flow(2, &with_dip(&[(16, 0.2), (17, 0.0), (18, 0.0)]), &[18]),
        ];
        let mut diags = Diagnostics::default();
        let found = run_finding(&flows, window(), &Options::default(), &mut diags);
        assert_eq!(found.events.len(), 1, "{found:?}");
        let e = &found.events[0];
        assert_eq!(e.flows, [1, 2]);
        assert!((e.start - 1.55).abs() < 1e-9);
        assert!((e.end.unwrap() - 1.9).abs() < 1e-9);
        assert!((e.baseline_bps - 2.0 * RATE * 8.0).abs() < 1e-3);
        let deficit = (0.5 + 1.0 + 0.8 + 1.0 + 1.0) * RATE * 0.1;
        assert!((e.deficit_bytes - deficit).abs() < 1e-3);
        let outage = found.outage().unwrap();
        assert!((outage.duration - 0.35).abs() < 1e-9);
        assert!(diags.is_empty());
    }

    #[test]
    fn nothing_found_is_no_outage_with_the_reason() {
        let flows = [flow(1, &with_dip(&[(20, 0.8)]), &[30])];
        let mut diags = Diagnostics::default();
        let found = run_finding(&flows, window(), &Options::default(), &mut diags);
        assert_eq!(found.outage(), None);
        let reason = found.reason.unwrap();
        assert!(reason.starts_with("no TCP disruption"), "{reason}");
        assert!(reason.contains("1 shallow dip(s)"), "{reason}");
        assert!(reason.contains("retransmits) from 3.000 s"), "{reason}");
    }

    #[test]
    fn the_largest_of_two_disruptions_is_the_outage_and_both_are_said() {
        let flows = [flow(
            1,
            &with_dip(&[(12, 0.0), (25, 0.0), (26, 0.0)]),
            &[12, 26],
        )];
        let mut diags = Diagnostics::default();
        let found = run_finding(&flows, window(), &Options::default(), &mut diags);
        assert_eq!(found.events.len(), 2);
        assert_eq!(found.main, Some(1));
        assert!((found.outage().unwrap().start - 2.5).abs() < 1e-9);
        assert_eq!(diags.items().len(), 1);
        assert!(diags.items()[0].message.contains("2 TCP disruptions"));
    }

    #[test]
    fn a_disruption_not_over_when_the_window_ends_has_no_duration() {
        let flows = [flow(1, &with_dip(&[(38, 0.0), (39, 0.0)]), &[39])];
        let mut diags = Diagnostics::default();
        let found = run_finding(&flows, window(), &Options::default(), &mut diags);
        assert_eq!(found.outage(), None);
        assert!((found.main_event().unwrap().start - 3.8).abs() < 1e-9);
        assert!(found.reason.unwrap().contains("not back to 90 %"));
    }
}
