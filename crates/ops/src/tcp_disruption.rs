//! TCP disruptions: when a TCP flow was hurt, from all the evidence its
//! iperf3 intervals carry.
//!
//! A TCP flow does not book losses like UDP: an outage shows as a dip of
//! the bytes that arrived, and on the sender as a burst of retransmissions,
//! a collapse of the congestion window and a rise of the smoothed RTT.
//!
//! The rules, per flow:
//!
//! * **Baseline**: before each interval, the median throughput of the
//!   intervals that ended in the [`Rules::baseline_s`] seconds before it
//!   (intervals of earlier disruptions left out); at least
//!   [`Rules::min_baseline_intervals`] of them covering half that time, else
//!   no dip can start there.
//! * **Dip**: a run of consecutive intervals whose throughput is below
//!   [`Rules::recovered_fraction`] (90 %) of the baseline taken where the run
//!   began. It must go below every interval of the baseline's window (lower
//!   than the flow went in the seconds before: iperf3's pacing alone makes
//!   intervals 20 % short now and then), else it is pacing, not a dip.
//! * Intervals shorter than half the median interval (iperf3's last one is
//!   often a sliver) are left out.
//! * **Sender evidence** (client intervals): a retransmission burst (at
//!   least one retransmission and at least three times the flow's median per
//!   interval), a cwnd collapse (`snd_cwnd` at most half of its baseline
//!   median) or an RTT rise (at least twice its baseline median and 1 ms
//!   above it).
//! * **Disruption**: a dip with sender evidence in it or within one interval
//!   of its ends; or a dip without any that goes below
//!   [`Rules::bare_dip_fraction`] of the baseline (iperf3's own pacing makes
//!   shallow dips without TCP evidence common, and they are not counted).
//! * **Start**: inside the dip's first interval, assuming the flow ran at its
//!   baseline and then stopped: `start + (bytes / baseline bytes) × length`.
//!   Where traffic stopped (an interval below [`STOPPED`] of the baseline),
//!   the first interval is the one just before the first such interval when
//!   it is in the dip, else that interval itself: a blackhole leaves one
//!   partial interval and then nothing, so a short interval before that
//!   partial one was pacing. Where traffic never stopped, it is the lowest
//!   interval. The start is also reported as the interval it lies in.
//! * **Duration**: until throughput is back to at least 90 % of the
//!   baseline: the end of the dip's last interval.
//! * **Deficit**: the bytes short of the baseline over the dip's intervals.

use expost_model::stats::median;
use std::collections::BTreeSet;

/// Bytes that arrived in one interval of a flow, on the run's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BytesInterval {
    /// Interval start, seconds.
    pub start: f64,
    /// Interval end, seconds.
    pub end: f64,
    /// Bytes in the interval.
    pub bytes: f64,
}

impl BytesInterval {
    fn length(&self) -> f64 {
        self.end - self.start
    }

    /// Bytes per second (0 for an empty interval).
    pub fn rate(&self) -> f64 {
        if self.length() > 0.0 {
            self.bytes / self.length()
        } else {
            0.0
        }
    }
}

/// The sender's TCP state in one interval (an iperf3 client interval).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SenderInterval {
    /// Interval start, seconds on the run's clock.
    pub start: f64,
    /// Interval end, seconds on the run's clock.
    pub end: f64,
    /// Retransmissions in the interval (summed over streams).
    pub retransmits: Option<u64>,
    /// Congestion window at the interval's end, bytes (summed over streams).
    pub snd_cwnd: Option<f64>,
    /// Smoothed RTT at the interval's end, ms (mean over streams).
    pub rtt_ms: Option<f64>,
}

/// A kind of evidence of a disruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Evidence {
    /// Throughput below 90 % of the baseline.
    ThroughputDip,
    /// A burst of retransmissions.
    Retransmits,
    /// The congestion window at most half its baseline.
    CwndCollapse,
    /// The RTT at least twice its baseline.
    RttRise,
}

impl Evidence {
    /// The name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::ThroughputDip => "throughput_dip",
            Evidence::Retransmits => "retransmits",
            Evidence::CwndCollapse => "cwnd_collapse",
            Evidence::RttRise => "rtt_rise",
        }
    }
}

/// The thresholds of the detection (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Throughput at or above this fraction of the baseline is recovered (0.9).
    pub recovered_fraction: f64,
    /// A dip without sender evidence counts only below this fraction (0.5).
    pub bare_dip_fraction: f64,
    /// The baseline is taken over this many seconds before the dip (2 s).
    pub baseline_s: f64,
    /// At least this many intervals make a baseline (3).
    pub min_baseline_intervals: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            recovered_fraction: 0.9,
            bare_dip_fraction: 0.5,
            baseline_s: 2.0,
            min_baseline_intervals: 3,
        }
    }
}

/// One disruption of one flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Disruption {
    /// When it began, seconds (see the module documentation).
    pub start: f64,
    /// The interval the start lies in, seconds.
    pub start_window: (f64, f64),
    /// When throughput was back to 90 % of the baseline, seconds; `None`
    /// when it was not before the flow's intervals ended.
    pub end: Option<f64>,
    /// The end of the last interval of the dip (equal to `end` when it recovered).
    pub last: f64,
    /// The pre-event median throughput, bytes per second.
    pub baseline: f64,
    /// Bytes short of the baseline over the dip.
    pub deficit_bytes: f64,
    /// The lowest throughput in the dip, as a fraction of the baseline.
    pub min_fraction: f64,
    /// What showed it.
    pub evidence: BTreeSet<Evidence>,
}

impl Disruption {
    /// How long it lasted, seconds, when it ended.
    pub fn duration(&self) -> Option<f64> {
        self.end.map(|e| e - self.start)
    }
}

/// What was found in one flow.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowDisruptions {
    /// The disruptions, in time order.
    pub events: Vec<Disruption>,
    /// Dips that did not count: no sender evidence and not below
    /// [`Rules::bare_dip_fraction`] (start, lowest fraction).
    pub weak_dips: Vec<(f64, f64)>,
    /// Sender evidence outside every disruption (interval start, kind).
    pub stray_evidence: Vec<(f64, Evidence)>,
}

/// Finds the disruptions of one flow from the bytes that arrived per
/// interval (`throughput`, time order; the receiver's intervals when there
/// are, else the sender's) and the sender's TCP state per interval.
pub fn find_disruptions(
    throughput: &[BytesInterval],
    sender: &[SenderInterval],
    rules: &Rules,
) -> FlowDisruptions {
    let evidence = sender_evidence(sender, rules);
    let throughput = without_slivers(throughput);
    let mut found = FlowDisruptions::default();
    let mut in_dip = vec![false; throughput.len()];
    let mut i = 0;
    while i < throughput.len() {
        let Some((baseline, lowest)) = baseline_before(&throughput, &in_dip, i, rules) else {
            i += 1;
            continue;
        };
        let floor = rules.recovered_fraction * baseline;
        if throughput[i].rate() >= floor {
            i += 1;
            continue;
        }
        let first = i;
        while i < throughput.len() && throughput[i].rate() < floor {
            i += 1;
        }
        let least = (first..i)
            .map(|k| throughput[k].rate())
            .fold(f64::INFINITY, f64::min);
        if least >= lowest {
            found
                .weak_dips
                .push((throughput[first].start, least / baseline));
            continue;
        }
        let core = first_interval(&throughput[first..i], baseline) + first;
        let dip = &throughput[core..i];
        let recovered = i < throughput.len();
        let event = disruption_of(dip, baseline, recovered, &evidence);
        if event.evidence.len() > 1 || event.min_fraction < rules.bare_dip_fraction {
            in_dip[core..i].iter_mut().for_each(|d| *d = true);
            found.events.push(event);
        } else {
            found.weak_dips.push((event.start, event.min_fraction));
        }
    }
    found.stray_evidence = evidence
        .iter()
        .filter(|(s, kind)| {
            !found
                .events
                .iter()
                .any(|e| e.evidence.contains(kind) && near(e, s))
        })
        .map(|(s, kind)| (s.start, *kind))
        .collect();
    found
}

/// Below this fraction of its baseline, traffic has stopped.
pub const STOPPED: f64 = 0.1;

/// Index in `dip` of the interval the disruption began in (see the module
/// documentation).
fn first_interval(dip: &[BytesInterval], baseline: f64) -> usize {
    let stopped = dip.iter().position(|s| s.rate() < STOPPED * baseline);
    match stopped {
        Some(k) => k.saturating_sub(1),
        None => (0..dip.len())
            .min_by(|&a, &b| dip[a].rate().total_cmp(&dip[b].rate()))
            .unwrap_or(0),
    }
}

/// The intervals at least half the median interval long.
fn without_slivers(series: &[BytesInterval]) -> Vec<BytesInterval> {
    let lengths: Vec<f64> = series.iter().map(BytesInterval::length).collect();
    let usual = median(&lengths).unwrap_or(0.0);
    series
        .iter()
        .filter(|s| s.length() >= 0.5 * usual)
        .copied()
        .collect()
}

/// The median and the lowest rate of the intervals that ended within
/// `baseline_s` before interval `i` began, outside dips.
fn baseline_before(
    series: &[BytesInterval],
    in_dip: &[bool],
    i: usize,
    rules: &Rules,
) -> Option<(f64, f64)> {
    let begin = series[i].start - rules.baseline_s;
    let rates: Vec<f64> = series[..i]
        .iter()
        .zip(in_dip)
        .filter(|(s, dip)| !**dip && s.end > begin + 1e-9)
        .map(|(s, _)| s.rate())
        .collect();
    if rates.len() < rules.min_baseline_intervals {
        return None;
    }
    let covered: f64 = (series[..i].iter().zip(in_dip))
        .filter(|(s, dip)| !**dip && s.end > begin + 1e-9)
        .map(|(s, _)| s.length())
        .sum();
    if covered < 0.5 * rules.baseline_s {
        return None;
    }
    let lowest = rates.iter().copied().fold(f64::INFINITY, f64::min);
    median(&rates).filter(|b| *b > 0.0).map(|b| (b, lowest))
}

fn disruption_of(
    dip: &[BytesInterval],
    baseline: f64,
    recovered: bool,
    evidence: &[(SenderInterval, Evidence)],
) -> Disruption {
    let first = dip[0];
    let last = dip[dip.len() - 1];
    let ran = (first.rate() / baseline).clamp(0.0, 1.0);
    let mut event = Disruption {
        start: first.start + ran * first.length(),
        start_window: (first.start, first.end),
        end: recovered.then_some(last.end),
        last: last.end,
        baseline,
        deficit_bytes: dip
            .iter()
            .map(|s| baseline * s.length() - s.bytes)
            .sum::<f64>()
            .max(0.0),
        min_fraction: dip
            .iter()
            .map(|s| s.rate() / baseline)
            .fold(f64::INFINITY, f64::min),
        evidence: BTreeSet::from([Evidence::ThroughputDip]),
    };
    for (s, kind) in evidence {
        if near(&event, s) {
            event.evidence.insert(*kind);
        }
    }
    event
}

/// True when sender interval `s` lies within the dip of `event` or within
/// one interval of its ends.
fn near(event: &Disruption, s: &SenderInterval) -> bool {
    let slack = event.start_window.1 - event.start_window.0;
    s.end > event.start_window.0 - slack && s.start < event.last + slack
}

/// Every sender interval showing a retransmission burst, a cwnd collapse or
/// an RTT rise, with its kind.
fn sender_evidence(sender: &[SenderInterval], rules: &Rules) -> Vec<(SenderInterval, Evidence)> {
    let retransmits: Vec<f64> = sender
        .iter()
        .filter_map(|s| s.retransmits.map(|r| r as f64))
        .collect();
    let usual = median(&retransmits).unwrap_or(0.0);
    let mut found = Vec::new();
    for (i, s) in sender.iter().enumerate() {
        if s.retransmits
            .is_some_and(|r| r >= 1 && r as f64 >= 3.0 * usual && r as f64 > usual)
        {
            found.push((*s, Evidence::Retransmits));
        }
        let before = |value: fn(&SenderInterval) -> Option<f64>| {
            let begin = s.start - rules.baseline_s;
            let values: Vec<f64> = sender[..i]
                .iter()
                .filter(|p| p.end > begin + 1e-9)
                .filter_map(value)
                .collect();
            (values.len() >= rules.min_baseline_intervals)
                .then(|| median(&values))
                .flatten()
        };
        if let (Some(cwnd), Some(base)) = (s.snd_cwnd, before(|p| p.snd_cwnd)) {
            if cwnd <= 0.5 * base {
                found.push((*s, Evidence::CwndCollapse));
            }
        }
        if let (Some(rtt), Some(base)) = (s.rtt_ms, before(|p| p.rtt_ms)) {
            if base > 0.0 && rtt >= 2.0 * base && rtt - base >= 1.0 {
                found.push((*s, Evidence::RttRise));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 1_000_000.0;

    /// 0.1 s intervals from 0 s, at RATE bytes/s times each fraction.
    fn series(fractions: &[f64]) -> Vec<BytesInterval> {
        fractions
            .iter()
            .enumerate()
            .map(|(i, f)| BytesInterval {
                start: i as f64 * 0.1,
                end: (i + 1) as f64 * 0.1,
                bytes: f * RATE * 0.1,
            })
            .collect()
    }

    /// Sender intervals on the same grid, with retransmits and cwnd per interval.
    fn sender(retransmits: &[u64], cwnd: &[f64]) -> Vec<SenderInterval> {
        retransmits
            .iter()
            .zip(cwnd)
            .enumerate()
            .map(|(i, (r, c))| SenderInterval {
                start: i as f64 * 0.1,
                end: (i + 1) as f64 * 0.1,
                retransmits: Some(*r),
                snd_cwnd: Some(*c),
                rtt_ms: Some(1.0),
            })
            .collect()
    }

    fn flat(n: usize, value: f64) -> Vec<f64> {
        vec![value; n]
    }

    #[test]
    fn blackhole_with_retransmits_gives_start_duration_and_deficit() {
        let mut f = flat(20, 1.0);
        f[10] = 0.4; // ran 40 % of the interval, then stopped
        f[11] = 0.0;
        f[12] = 0.5; // back at full rate within this interval
        let mut r = vec![0; 20];
        r[12] = 5;
        let mut c = flat(20, 100_000.0);
        c[12] = 10_000.0;
        let found = find_disruptions(&series(&f), &sender(&r, &c), &Rules::default());
        assert_eq!(found.events.len(), 1, "{found:?}");
        let e = &found.events[0];
        assert!((e.start - 1.04).abs() < 1e-9, "start {}", e.start);
        assert!((e.end.unwrap() - 1.3).abs() < 1e-9);
        assert!((e.duration().unwrap() - 0.26).abs() < 1e-9);
        assert!((e.deficit_bytes - (0.6 + 1.0 + 0.5) * RATE * 0.1).abs() < 1e-6);
        assert!((e.baseline - RATE).abs() < 1e-6);
        let kinds: Vec<_> = e.evidence.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, ["throughput_dip", "retransmits", "cwnd_collapse"]);
        assert!(found.stray_evidence.is_empty());
    }

    #[test]
    fn shallow_dip_with_retransmits_counts() {
        let mut f = flat(20, 1.0);
        f[10] = 0.6;
        let mut r = vec![0; 20];
        r[10] = 3;
        let found = find_disruptions(&series(&f), &sender(&r, &flat(20, 1e5)), &Rules::default());
        assert_eq!(found.events.len(), 1);
        assert!((found.events[0].min_fraction - 0.6).abs() < 1e-9);
        assert!((found.events[0].duration().unwrap() - 0.04).abs() < 1e-9);
    }

    #[test]
    fn deep_dip_without_retransmits_counts_from_throughput_alone() {
        let mut f = flat(20, 1.0);
        f[12] = 0.2;
        f[13] = 0.3;
        let found = find_disruptions(
            &series(&f),
            &sender(&[0; 20], &flat(20, 1e5)),
            &Rules::default(),
        );
        assert_eq!(found.events.len(), 1);
        let e = &found.events[0];
        assert_eq!(e.evidence, BTreeSet::from([Evidence::ThroughputDip]));
        assert!((e.start - 1.22).abs() < 1e-9);
        assert!((e.end.unwrap() - 1.4).abs() < 1e-9);
    }

    #[test]
    fn shallow_dip_without_sender_evidence_is_a_weak_dip_only() {
        let mut f = flat(20, 1.0);
        f[10] = 0.8;
        let found = find_disruptions(
            &series(&f),
            &sender(&[0; 20], &flat(20, 1e5)),
            &Rules::default(),
        );
        assert!(found.events.is_empty());
        assert_eq!(found.weak_dips.len(), 1);
        assert!((found.weak_dips[0].1 - 0.8).abs() < 1e-9);
    }

    #[test]
    fn dips_within_the_pre_event_range_are_pacing_not_disruptions() {
        // iperf3 -b pacing: every fourth interval 20 % short.
        let mut f: Vec<f64> = (0..30)
            .map(|i| if i % 4 == 3 { 0.8 } else { 1.0 })
            .collect();
        f[19] = 0.8; // the interval before the outage, short as usual
        f[20] = 0.3; // the outage begins 30 % into this one
        f[21] = 0.0;
        let mut r = vec![0; 30];
        r[21] = 9;
        let found = find_disruptions(&series(&f), &sender(&r, &flat(30, 1e5)), &Rules::default());
        assert_eq!(found.events.len(), 1, "{found:?}");
        assert!((found.events[0].start - 2.03).abs() < 1e-9);
        assert!((found.events[0].end.unwrap() - 2.2).abs() < 1e-9);
        assert!(found.weak_dips.len() >= 3);
    }

    #[test]
    fn a_last_sliver_of_an_interval_is_left_out() {
        let mut s = series(&flat(20, 1.0));
        s.push(BytesInterval {
            start: 2.0,
            end: 2.0004,
            bytes: 0.0,
        });
        let found = find_disruptions(&s, &[], &Rules::default());
        assert!(found.events.is_empty() && found.weak_dips.is_empty());
    }

    #[test]
    fn retransmits_without_dip_are_stray_evidence_not_a_disruption() {
        let mut r = vec![0; 20];
        r[10] = 7;
        let found = find_disruptions(
            &series(&flat(20, 1.0)),
            &sender(&r, &flat(20, 1e5)),
            &Rules::default(),
        );
        assert!(found.events.is_empty());
        assert_eq!(found.stray_evidence, vec![(1.0, Evidence::Retransmits)]);
    }

    #[test]
    fn two_events_are_both_found_with_clean_baselines() {
        let mut f = flat(40, 1.0);
        f[10] = 0.0;
        f[11] = 0.0;
        f[25] = 0.5;
        f[26] = 0.1;
        let mut r = vec![0; 40];
        r[11] = 4;
        r[26] = 6;
        let found = find_disruptions(&series(&f), &sender(&r, &flat(40, 1e5)), &Rules::default());
        assert_eq!(found.events.len(), 2, "{found:?}");
        assert!((found.events[0].start - 1.0).abs() < 1e-9);
        assert!((found.events[0].end.unwrap() - 1.2).abs() < 1e-9);
        assert!((found.events[1].start - 2.55).abs() < 1e-9);
        assert!((found.events[1].end.unwrap() - 2.7).abs() < 1e-9);
        assert!((found.events[1].baseline - RATE).abs() < 1e-6);
    }

    #[test]
    fn dip_until_the_end_has_no_end() {
        let mut f = flat(20, 1.0);
        for v in &mut f[15..] {
            *v = 0.0;
        }
        let found = find_disruptions(&series(&f), &[], &Rules::default());
        assert_eq!(found.events.len(), 1);
        assert_eq!(found.events[0].end, None);
        assert_eq!(found.events[0].duration(), None);
    }

    #[test]
    fn no_dip_can_start_before_the_baseline_has_enough_intervals() {
        let f = [0.1, 0.5, 1.0, 1.0, 1.0, 1.0];
        let found = find_disruptions(&series(&f), &[], &Rules::default());
        assert!(found.events.is_empty() && found.weak_dips.is_empty());
    }
}
