//! Network traffic samples, binned into epochs per flow and combined across
//! flows: throughput summed, loss as Σlost / Σpackets, RTT and jitter
//! averaged over the flows.

use crate::bin::EpochGrid;
use crate::window::TimeWindow;
use std::collections::BTreeMap;

/// One reporting interval of one flow, on the run's clock (seconds relative
/// to the anchor).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    /// When the interval ended, seconds on the run's clock.
    pub end: f64,
    /// Length of the interval, seconds.
    pub seconds: f64,
    /// Bytes transferred in the interval.
    pub bytes: f64,
    /// UDP datagrams sent (sender) or expected (receiver).
    pub packets: Option<u64>,
    /// UDP datagrams lost (receiver).
    pub lost: Option<u64>,
    /// UDP jitter, milliseconds (receiver).
    pub jitter_ms: Option<f64>,
    /// TCP round-trip time, milliseconds (sender).
    pub rtt_ms: Option<f64>,
    /// TCP retransmissions (sender).
    pub retransmits: Option<u64>,
}

impl Sample {
    /// When the interval started, seconds on the run's clock.
    pub fn start(&self) -> f64 {
        self.end - self.seconds
    }
}

/// The metrics a failover study reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Sending rate measured by the sender (the notebook's throughput), bit/s.
    Throughput,
    /// Receiving rate measured by the receiver, bit/s.
    Goodput,
    /// Fraction of datagrams lost, Σlost / Σpackets.
    Loss,
    /// Datagrams lost.
    Lost,
    /// Datagrams expected by the receiver.
    Packets,
    /// UDP jitter, ms.
    Jitter,
    /// TCP round-trip time, ms.
    Rtt,
    /// TCP retransmissions.
    Retransmits,
}

impl Metric {
    /// Every metric, in output order.
    pub const ALL: [Metric; 8] = [
        Metric::Throughput,
        Metric::Goodput,
        Metric::Loss,
        Metric::Lost,
        Metric::Packets,
        Metric::Jitter,
        Metric::Rtt,
        Metric::Retransmits,
    ];

    /// The metric's name in tidy outputs.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Throughput => "throughput",
            Metric::Goodput => "goodput",
            Metric::Loss => "loss",
            Metric::Lost => "lost",
            Metric::Packets => "packets",
            Metric::Jitter => "jitter",
            Metric::Rtt => "rtt",
            Metric::Retransmits => "retransmits",
        }
    }

    /// The unit of the metric's values.
    pub fn unit(self) -> expost_model::Unit {
        use expost_model::Unit;
        match self {
            Metric::Throughput | Metric::Goodput => Unit::BitsPerSecond,
            Metric::Loss => Unit::Fraction,
            Metric::Lost | Metric::Packets | Metric::Retransmits => Unit::Count,
            Metric::Jitter | Metric::Rtt => Unit::Milliseconds,
        }
    }

    /// True for metrics measured by the receiving side.
    pub fn from_receiver(self) -> bool {
        matches!(
            self,
            Metric::Goodput | Metric::Loss | Metric::Lost | Metric::Packets | Metric::Jitter
        )
    }
}

/// Everything one flow reported within one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EpochTotals {
    bytes: f64,
    seconds: f64,
    packets: Option<u64>,
    lost: Option<u64>,
    jitter_sum: f64,
    jitter_n: u32,
    rtt_sum: f64,
    rtt_n: u32,
    retransmits: Option<u64>,
}

fn add_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

impl EpochTotals {
    fn add(&mut self, s: &Sample) {
        self.bytes += s.bytes;
        self.seconds += s.seconds;
        self.packets = add_opt(self.packets, s.packets);
        self.lost = add_opt(self.lost, s.lost);
        self.retransmits = add_opt(self.retransmits, s.retransmits);
        if let Some(j) = s.jitter_ms {
            self.jitter_sum += j;
            self.jitter_n += 1;
        }
        if let Some(r) = s.rtt_ms {
            self.rtt_sum += r;
            self.rtt_n += 1;
        }
    }

    /// The flow's rate over the epoch, bit/s (bytes over the time its intervals covered).
    pub fn rate(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| self.bytes * 8.0 / self.seconds)
    }

    /// The value of `metric` for this flow in this epoch (rates as measured
    /// on this side; the caller picks the side).
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Throughput | Metric::Goodput => self.rate(),
            Metric::Loss => match (self.lost, self.packets) {
                (Some(l), Some(p)) if p > 0 => Some(l as f64 / p as f64),
                _ => None,
            },
            Metric::Lost => self.lost.map(|v| v as f64),
            Metric::Packets => self.lost.and(self.packets).map(|v| v as f64),
            Metric::Jitter => (self.jitter_n > 0).then(|| self.jitter_sum / self.jitter_n as f64),
            Metric::Rtt => (self.rtt_n > 0).then(|| self.rtt_sum / self.rtt_n as f64),
            Metric::Retransmits => self.retransmits.map(|v| v as f64),
        }
    }
}

/// One flow's samples binned into epochs.
pub type FlowEpochs = BTreeMap<i64, EpochTotals>;

/// Bins `samples` by the epoch their interval ends in. With `window`, only
/// samples ending in `(window.start, window.end]` are kept (so an interval
/// that ended exactly when the window opens is outside it).
pub fn bin_samples(samples: &[Sample], grid: &EpochGrid, window: Option<TimeWindow>) -> FlowEpochs {
    let tolerance = grid.width() * 1e-6;
    let mut epochs = FlowEpochs::new();
    for sample in samples {
        if let Some(w) = window {
            if sample.end <= w.start + tolerance || sample.end > w.end + tolerance {
                continue;
            }
        }
        epochs
            .entry(grid.index_of(sample.end))
            .or_default()
            .add(sample);
    }
    epochs
}

/// All flows of a run at one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Combined {
    rate_sum: f64,
    rate_n: u32,
    lost: Option<u64>,
    packets: Option<u64>,
    jitter_sum: f64,
    jitter_n: u32,
    rtt_sum: f64,
    rtt_n: u32,
    retransmits: Option<u64>,
    /// How many flows reported in this epoch.
    pub flows: u32,
}

impl Combined {
    fn add_flow(&mut self, t: &EpochTotals) {
        self.flows += 1;
        if let Some(rate) = t.rate() {
            self.rate_sum += rate;
            self.rate_n += 1;
        }
        if let (Some(lost), Some(packets)) = (t.lost, t.packets) {
            self.lost = Some(self.lost.unwrap_or(0) + lost);
            self.packets = Some(self.packets.unwrap_or(0) + packets);
        }
        if let Some(j) = t.metric(Metric::Jitter) {
            self.jitter_sum += j;
            self.jitter_n += 1;
        }
        if let Some(r) = t.metric(Metric::Rtt) {
            self.rtt_sum += r;
            self.rtt_n += 1;
        }
        self.retransmits = add_opt(self.retransmits, t.retransmits);
    }

    /// The value of `metric` over all flows: rates summed, loss as Σlost /
    /// Σpackets, jitter and RTT averaged over the flows, counts summed.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Throughput | Metric::Goodput => (self.rate_n > 0).then_some(self.rate_sum),
            Metric::Loss => match (self.lost, self.packets) {
                (Some(l), Some(p)) if p > 0 => Some(l as f64 / p as f64),
                _ => None,
            },
            Metric::Lost => self.lost.map(|v| v as f64),
            Metric::Packets => self.packets.map(|v| v as f64),
            Metric::Jitter => (self.jitter_n > 0).then(|| self.jitter_sum / self.jitter_n as f64),
            Metric::Rtt => (self.rtt_n > 0).then(|| self.rtt_sum / self.rtt_n as f64),
            Metric::Retransmits => self.retransmits.map(|v| v as f64),
        }
    }

    /// Several consecutive epochs folded into one: counts summed (so loss
    /// is Σlost / Σpackets over the whole span), rates and times averaged.
    pub fn fold(epochs: &[&Combined]) -> Combined {
        let mut rated = 0u32;
        let mut out = Combined::default();
        for e in epochs {
            out.lost = add_opt(out.lost, e.lost);
            out.packets = add_opt(out.packets, e.packets);
            out.retransmits = add_opt(out.retransmits, e.retransmits);
            out.jitter_sum += e.jitter_sum;
            out.jitter_n += e.jitter_n;
            out.rtt_sum += e.rtt_sum;
            out.rtt_n += e.rtt_n;
            out.flows = out.flows.max(e.flows);
            if e.rate_n > 0 {
                out.rate_sum += e.rate_sum;
                rated += 1;
            }
        }
        if rated > 0 {
            out.rate_sum /= f64::from(rated);
            out.rate_n = 1;
        }
        out
    }
}

/// Combines flows epoch by epoch.
pub fn combine(flows: &[&FlowEpochs]) -> BTreeMap<i64, Combined> {
    let mut out: BTreeMap<i64, Combined> = BTreeMap::new();
    for flow in flows {
        for (&k, totals) in flow.iter() {
            out.entry(k).or_default().add_flow(totals);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(end: f64, bytes: f64, packets: u64, lost: u64) -> Sample {
        Sample {
            end,
            seconds: 0.1,
            bytes,
            packets: Some(packets),
            lost: Some(lost),
            jitter_ms: Some(0.01),
            ..Sample::default()
        }
    }

    #[test]
    fn loss_is_ratio_of_sums_not_mean_of_ratios() {
        let grid = EpochGrid::new(0.1).unwrap();
        let a = bin_samples(&[udp(0.13, 1000.0, 100, 50)], &grid, None);
        let b = bin_samples(&[udp(0.17, 1000.0, 300, 0)], &grid, None);
        let combined = combine(&[&a, &b]);
        let at = combined[&2];
        assert_eq!(at.metric(Metric::Loss), Some(50.0 / 400.0));
        assert_eq!(at.metric(Metric::Goodput), Some(160_000.0));
        assert_eq!(at.flows, 2);
    }

    #[test]
    fn window_excludes_samples_ending_at_its_start() {
        let grid = EpochGrid::new(0.1).unwrap();
        let samples = [
            udp(0.1, 1.0, 1, 0),
            udp(0.2, 1.0, 1, 0),
            udp(0.3, 1.0, 1, 0),
        ];
        let window = TimeWindow {
            start: 0.1,
            end: 0.25,
        };
        let bins = bin_samples(&samples, &grid, Some(window));
        assert_eq!(bins.keys().copied().collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn zero_packet_epoch_has_no_loss_value() {
        let grid = EpochGrid::new(0.1).unwrap();
        let bins = bin_samples(&[udp(0.1, 0.0, 0, 0)], &grid, None);
        let combined = combine(&[&bins]);
        assert_eq!(combined[&1].metric(Metric::Loss), None);
        assert_eq!(combined[&1].metric(Metric::Lost), Some(0.0));
    }

    #[test]
    fn fold_sums_counts_and_averages_rates() {
        let grid = EpochGrid::new(0.1).unwrap();
        let bins = bin_samples(
            &[udp(0.1, 1000.0, 10, 5), udp(0.2, 3000.0, 30, 0)],
            &grid,
            None,
        );
        let combined = combine(&[&bins]);
        let folded = Combined::fold(&[&combined[&1], &combined[&2]]);
        assert_eq!(folded.metric(Metric::Loss), Some(5.0 / 40.0));
        assert_eq!(folded.metric(Metric::Goodput), Some(160_000.0));
    }
}
