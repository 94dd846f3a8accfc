//! Outage detection: when traffic stopped, and for how long.
//!
//! UDP: the receiver books the datagrams lost during an outage in the
//! interval where traffic resumes (it sees the sequence numbers jump). The
//! outage lasted `lost / rate` seconds, with `rate` the flow's sending rate
//! in datagrams per second, and ended when the first datagram after it
//! arrived: `received / rate` seconds before the end of the booking
//! interval. That puts both ends to within one datagram; the intervals in
//! which nothing arrived serve as a cross-check.
//!
//! TCP: the span in which the summed throughput fell below a threshold
//! fraction of its median.

use crate::bin::EpochGrid;
use crate::traffic::Sample;
use std::collections::BTreeMap;

/// An outage on the run's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    /// When traffic stopped, seconds on the run's clock.
    pub start: f64,
    /// How long it lasted, seconds.
    pub duration: f64,
}

/// A UDP outage with the evidence it rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UdpOutage {
    /// The estimate.
    pub outage: Outage,
    /// How far the true start may be from the estimate, seconds: about one
    /// datagram when the outage spans an interval boundary; when it lies
    /// inside one interval, the intervals cannot tell where, and this is
    /// half the room it had.
    pub start_uncertainty: f64,
    /// Datagrams lost in the burst.
    pub lost: u64,
    /// Start of the first interval of the burst (nothing arrived, or loss was booked).
    pub burst_start: f64,
    /// End of the interval in which the loss was booked.
    pub booked_end: f64,
    /// False when the estimate does not fit in the burst's intervals
    /// (more than one interval off): a sign of reordering or a wrong rate.
    pub consistent: bool,
}

/// The UDP outage of one flow, from its receiver-side `samples` (time
/// order) and its sending rate in datagrams per second. `None` when no
/// datagram was lost or the rate is not positive.
pub fn udp_outage(samples: &[Sample], packets_per_second: f64) -> Option<UdpOutage> {
    if !(packets_per_second.is_finite() && packets_per_second > 0.0) {
        return None;
    }
    let lost = |s: &Sample| s.lost.unwrap_or(0);
    let received = |s: &Sample| s.packets.unwrap_or(0).saturating_sub(s.lost.unwrap_or(0));
    let peak = samples
        .iter()
        .enumerate()
        .filter(|(_, s)| lost(s) > 0)
        .max_by_key(|(i, s)| (lost(s), std::cmp::Reverse(*i)))?
        .0;
    let in_burst = |s: &Sample| lost(s) > 0 || received(s) == 0;
    let mut first = peak;
    while first > 0 && in_burst(&samples[first - 1]) {
        first -= 1;
    }
    let mut last = peak;
    while last + 1 < samples.len() && lost(&samples[last + 1]) > 0 {
        last += 1;
    }
    let burst = &samples[first..=last];
    let lost_total: u64 = burst.iter().map(lost).sum();
    let booking = burst.iter().rev().find(|s| lost(s) > 0)?;
    let duration = lost_total as f64 / packets_per_second;
    let datagram = 1.0 / packets_per_second;
    let interval = booking.seconds.max(1e-9);
    let burst_start = burst[0].start();
    // Did the interval before the burst receive all it should have? Then the
    // outage began inside the booking interval, between packets received
    // before and after it, and the counts cannot say where.
    let before_full = first
        .checked_sub(1)
        .map(|i| &samples[i])
        .is_none_or(|p| received(p) as f64 + 1.5 >= p.seconds * packets_per_second);
    let inside_one = first == last && before_full && lost(&samples[first]) > 0;
    let (start, start_uncertainty) = if inside_one {
        let room = (booking.seconds - duration).max(0.0);
        (booking.start() + room / 2.0, room / 2.0 + datagram)
    } else {
        let resumed = booking.end - received(booking) as f64 * datagram;
        (resumed - duration, 2.0 * datagram)
    };
    let consistent =
        start >= burst_start - interval - 1e-9 && start + duration <= booking.end + 1e-9;
    Some(UdpOutage {
        outage: Outage { start, duration },
        start_uncertainty,
        lost: lost_total,
        burst_start,
        booked_end: booking.end,
        consistent,
    })
}

/// The longest span of consecutive epochs in which `series` fell below
/// `threshold` × its median. `None` when nothing fell below, or the median
/// is not positive.
pub fn below_threshold(
    series: &BTreeMap<i64, f64>,
    grid: &EpochGrid,
    threshold: f64,
) -> Option<Outage> {
    let values: Vec<f64> = series.values().copied().collect();
    let median = crate::stats::median(&values)?;
    if median <= 0.0 {
        return None;
    }
    let limit = threshold * median;
    let mut best: Option<(i64, i64)> = None;
    let mut current: Option<(i64, i64)> = None;
    for (&k, &v) in series {
        if v < limit {
            current = match current {
                Some((a, b)) if b + 1 == k => Some((a, k)),
                _ => Some((k, k)),
            };
            let (a, b) = current.expect("just set");
            if best.is_none_or(|(ba, bb)| bb - ba < b - a) {
                best = Some((a, b));
            }
        } else {
            current = None;
        }
    }
    let (first, last) = best?;
    Some(Outage {
        start: grid.time_of(first) - grid.width(),
        duration: (last - first + 1) as f64 * grid.width(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A receiver at 1000 datagrams/s in 0.1 s intervals, with traffic
    /// stopped during `[off, on)`.
    fn receiver(off: f64, on: f64, until: f64) -> Vec<Sample> {
        let rate = 1000.0;
        let mut samples = Vec::new();
        let mut pending_lost = 0.0;
        let mut t = 0.0;
        while t < until - 1e-9 {
            let (a, b) = (t, t + 0.1);
            let silent = (b.min(on) - a.max(off)).max(0.0);
            let received = ((b - a) - silent) * rate;
            pending_lost += silent * rate;
            let booked = if received > 0.0 && b > on {
                std::mem::take(&mut pending_lost)
            } else {
                0.0
            };
            samples.push(Sample {
                end: b,
                seconds: 0.1,
                bytes: received * 1000.0,
                packets: Some((received + booked).round() as u64),
                lost: Some(booked.round() as u64),
                ..Sample::default()
            });
            t = b;
        }
        samples
    }

    #[test]
    fn udp_outage_to_the_datagram() {
        let samples = receiver(4.037, 4.287, 8.0);
        let found = udp_outage(&samples, 1000.0).unwrap();
        assert_eq!(found.lost, 250);
        assert!((found.outage.duration - 0.25).abs() < 1e-9, "{found:?}");
        assert!((found.outage.start - 4.037).abs() < 2e-3, "{found:?}");
        assert!(found.consistent);
    }

    #[test]
    fn no_loss_no_outage() {
        let samples = receiver(100.0, 100.0, 2.0);
        assert!(udp_outage(&samples, 1000.0).is_none());
        assert!(udp_outage(&receiver(1.0, 1.2, 2.0), 0.0).is_none());
    }

    #[test]
    fn tcp_outage_is_longest_dip() {
        let grid = EpochGrid::new(0.1).unwrap();
        let mut series: BTreeMap<i64, f64> = (1..=50).map(|k| (k, 100.0)).collect();
        for k in 20..=24 {
            series.insert(k, 3.0);
        }
        series.insert(40, 10.0);
        let outage = below_threshold(&series, &grid, 0.5).unwrap();
        assert!((outage.start - 1.9).abs() < 1e-9, "{outage:?}");
        assert!((outage.duration - 0.5).abs() < 1e-9);
        let flat: BTreeMap<i64, f64> = (1..=10).map(|k| (k, 5.0)).collect();
        assert!(below_threshold(&flat, &grid, 0.5).is_none());
    }
}
