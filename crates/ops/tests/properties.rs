//! Invariants of the operations, checked on random inputs.

use expost_ops::band::band;
use expost_ops::bin::EpochGrid;
use expost_ops::outage::udp_outage;
use expost_ops::traffic::{bin_samples, combine, Metric, Sample};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A UDP receiver at `rate` datagrams/s reporting every `step` seconds,
/// with traffic stopped during `[off, on)`: lost datagrams are booked in
/// the interval where traffic resumes, as iperf3 does.
fn receiver(rate: f64, step: f64, off: f64, on: f64, until: f64) -> Vec<Sample> {
    // Datagram i leaves at i / rate; those leaving in [x, y) number:
    let count = |x: f64, y: f64| ((y * rate).ceil() - (x * rate).ceil()).max(0.0);
    let mut samples = Vec::new();
    let mut pending = 0.0;
    let mut k = 0;
    loop {
        let (a, b) = (k as f64 * step, (k + 1) as f64 * step);
        if a >= until {
            break;
        }
        let sent = count(a, b);
        let lost_here = count(a.max(off), b.min(on));
        let received = sent - lost_here;
        pending += lost_here;
        let booked = if received > 0.0 {
            std::mem::take(&mut pending)
        } else {
            0.0
        };
        samples.push(Sample {
            end: b,
            seconds: step,
            bytes: received * 1200.0,
            packets: Some((received + booked) as u64),
            lost: Some(booked as u64),
            ..Sample::default()
        });
        k += 1;
    }
    samples
}

proptest! {
    #[test]
    fn udp_outage_is_found_to_within_a_few_datagrams(
        rate in 500.0f64..20_000.0,
        off in 1.0f64..5.0,
        length in 0.02f64..0.8,
        step in prop::sample::select(vec![0.1, 0.5, 1.0]),
    ) {
        let samples = receiver(rate, step, off, off + length, 8.0);
        let found = udp_outage(&samples, rate).expect("an outage with lost datagrams");
        let datagram = 1.0 / rate;
        prop_assert!((found.outage.duration - length).abs() <= 2.0 * datagram + 1e-9, "{found:?} vs {length}");
        prop_assert!((found.outage.start - off).abs() <= found.start_uncertainty + 2.0 * datagram + 1e-9, "{found:?} vs {off}");
        // When the lost datagrams fall on both sides of an interval boundary,
        // the start is known to a few datagrams (otherwise only to the room
        // the outage had inside its interval).
        let first_lost = (off * rate).ceil() / rate;
        let last_lost = ((off + length) * rate).ceil() / rate - 1.0 / rate;
        let crosses = (first_lost / step).floor() != (last_lost / step).floor();
        if crosses {
            prop_assert!(found.start_uncertainty <= 2.0 * datagram + 1e-12);
        }
        prop_assert!(found.consistent);
    }

    #[test]
    fn combining_flows_does_not_depend_on_their_order(
        flows in prop::collection::vec(prop::collection::vec((0.01f64..3.0, 0.0f64..1e6, 0u64..1000, 0u64..100), 1..30), 1..6),
    ) {
        let grid = EpochGrid::new(0.1).unwrap();
        let binned: Vec<_> = flows
            .iter()
            .map(|samples| {
                let samples: Vec<Sample> = samples
                    .iter()
                    .map(|&(end, bytes, packets, lost)| Sample {
                        end,
                        seconds: 0.1,
                        bytes,
                        packets: Some(packets + lost),
                        lost: Some(lost),
                        ..Sample::default()
                    })
                    .collect();
                bin_samples(&samples, &grid, None)
            })
            .collect();
        let forward: Vec<_> = binned.iter().collect();
        let backward: Vec<_> = binned.iter().rev().collect();
        let (a, b) = (combine(&forward), combine(&backward));
        prop_assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (k, x) in &a {
            for metric in [Metric::Lost, Metric::Packets, Metric::Loss] {
                prop_assert_eq!(x.metric(metric), b[k].metric(metric));
            }
            let (p, q) = (x.metric(Metric::Goodput).unwrap(), b[k].metric(Metric::Goodput).unwrap());
            prop_assert!((p - q).abs() <= 1e-9 * p.abs().max(1.0));
        }
    }

    #[test]
    fn bands_do_not_depend_on_trial_order(trials in prop::collection::vec(prop::collection::btree_map(0i64..20, -1e3f64..1e3, 0..20), 1..6)) {
        let refs: Vec<&BTreeMap<i64, f64>> = trials.iter().collect();
        let reversed: Vec<&BTreeMap<i64, f64>> = trials.iter().rev().collect();
        let (a, b) = (band(&refs), band(&reversed));
        prop_assert_eq!(a.len(), b.len());
        for (k, p) in &a {
            let q = &b[k];
            prop_assert_eq!((p.n, p.median, p.min, p.max), (q.n, q.median, q.min, q.max));
            prop_assert!(p.min <= p.median && p.median <= p.max);
            prop_assert!(p.ci_low <= p.mean + 1e-9 && p.mean <= p.ci_high + 1e-9);
        }
    }

    #[test]
    fn every_time_falls_in_the_epoch_that_ends_at_or_after_it(t in -100.0f64..100.0, width in 0.001f64..10.0) {
        let grid = EpochGrid::new(width).unwrap();
        let k = grid.index_of(t);
        prop_assert!(grid.time_of(k) >= t - width * 1e-5);
        prop_assert!(grid.time_of(k - 1) < t + width * 1e-5);
    }
}
