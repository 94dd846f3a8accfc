//! The failover study's figures: one line per configuration (its band
//! across trials around it), for loss, throughput, goodput and RTT against
//! time, plus a zoom around the outage.

use super::{Campaign, ConfigResult, Options, RunResult};
use expost_formats::iperf3_json::Protocol;
use expost_ops::band::BandPoint;
use expost_ops::bin::EpochGrid;
use expost_ops::stats::median;
use expost_ops::traffic::Metric;
use expost_render::figure::{Figure, Line, VMarker};
use std::collections::BTreeMap;

/// One figure to draw: which metric, for which protocol, under which name.
struct Plan<'a> {
    stem: String,
    metric: Metric,
    /// A `--metric` field drawn instead of `metric`.
    field: Option<String>,
    /// An `--overlay` series drawn instead of `metric`, on the x range of
    /// the traffic figures.
    overlay: Option<(String, Option<(f64, f64)>)>,
    configs: Vec<&'a ConfigResult>,
    zoom: Option<(f64, f64)>,
}

/// Every figure the campaign has data for, by file name: one line per
/// configuration, the loss, throughput, goodput and RTT against time, and a
/// zoom around the outage.
pub fn figures(campaign: &Campaign, options: &Options, anchor: &str) -> Vec<(String, Figure)> {
    let chosen = chosen_trials(campaign, options);
    let configs = chosen.as_deref().unwrap_or(&campaign.configs);
    plans(configs, options)
        .iter()
        .map(|plan| {
            (
                plan.stem.clone(),
                figure_of(plan, &campaign.runs, options, anchor),
            )
        })
        .collect()
}

/// Per `--overlay` name and protocol, the main traffic figure (loss for
/// UDP, throughput for TCP) with that overlay's entities in panels under
/// it, on one time axis: named `<main figure>_with_<NAME>`.
pub fn overlay_stacks(
    campaign: &Campaign,
    options: &Options,
    anchor: &str,
) -> Vec<(String, Vec<Figure>)> {
    if options.overlays.is_empty() {
        return Vec::new();
    }
    let chosen = chosen_trials(campaign, options);
    let configs = chosen.as_deref().unwrap_or(&campaign.configs);
    let plans = plans(configs, options);
    let mut stacks = Vec::new();
    for main in plans.iter().filter(|p| {
        p.zoom.is_none()
            && p.field.is_none()
            && p.overlay.is_none()
            && matches!(p.metric, Metric::Loss)
                == p.configs
                    .first()
                    .is_some_and(|c| c.proto == Some(Protocol::Udp))
            && matches!(p.metric, Metric::Loss | Metric::Throughput)
    }) {
        let proto = main.configs.first().and_then(|c| c.proto);
        for spec in &options.overlays {
            let panels: Vec<&Plan<'_>> = (plans.iter())
                .filter(|p| p.configs.first().and_then(|c| c.proto) == proto)
                .filter(|p| {
                    p.overlay.as_ref().is_some_and(|(name, _)| {
                        name == &spec.name || name.starts_with(&format!("{}[", spec.name))
                    })
                })
                .collect();
            if panels.is_empty() {
                continue;
            }
            // The legend once, above the first panel.
            let figures = std::iter::once(main)
                .chain(panels)
                .enumerate()
                .map(|(i, plan)| {
                    let mut figure = figure_of(plan, &campaign.runs, options, anchor);
                    if i > 0 {
                        figure.lines.iter_mut().for_each(|l| l.label.clear());
                    }
                    figure
                })
                .collect();
            stacks.push((format!("{}_with_{}", main.stem, spec.name), figures));
        }
    }
    stacks
}

/// A title for a figure named `stem` (`loss_zoom` → `loss (zoom)`).
pub fn title_of(stem: &str) -> String {
    let base = stem.strip_suffix("_zoom");
    let words = base.unwrap_or(stem).replace('_', " ");
    let mut title: String = words[..1].to_uppercase() + &words[1..];
    if base.is_some() {
        title.push_str(", around the outage");
    }
    title
}

/// With `--trials`, each configuration remade of the chosen trials alone
/// (its bands and outage spread with them); those with none left are not
/// drawn. `None` without `--trials`.
fn chosen_trials(campaign: &Campaign, options: &Options) -> Option<Vec<ConfigResult>> {
    if options.trials.is_empty() {
        return None;
    }
    let chosen = |i: &usize| {
        campaign
            .runs
            .get(*i)
            .is_some_and(|r| options.trials.contains(&r.trial))
    };
    Some(
        campaign
            .configs
            .iter()
            .filter_map(|c| {
                let members: Vec<usize> = c.runs.iter().copied().filter(chosen).collect();
                (!members.is_empty()).then(|| super::config_of(&campaign.runs, members))
            })
            .collect(),
    )
}

fn plans<'a>(configs: &'a [ConfigResult], options: &Options) -> Vec<Plan<'a>> {
    let of = |proto: Protocol| -> Vec<&ConfigResult> {
        configs
            .iter()
            .filter(|c| c.proto == Some(proto) && drawn(c, options))
            .collect()
    };
    let (udp, tcp) = (of(Protocol::Udp), of(Protocol::Tcp));
    let both = !udp.is_empty() && !tcp.is_empty();
    let mut plans = Vec::new();
    for (proto, configs) in [(Protocol::Udp, udp), (Protocol::Tcp, tcp)] {
        let metrics: &[Metric] = match proto {
            Protocol::Udp => &[Metric::Loss, Metric::Goodput, Metric::Throughput],
            Protocol::Tcp => &[Metric::Throughput, Metric::Goodput, Metric::Rtt],
        };
        let zoom = zoom_range(&configs);
        for &metric in metrics {
            let has_data = configs
                .iter()
                .any(|c| c.bands.get(&metric).is_some_and(|b| !b.is_empty()));
            if !has_data {
                continue;
            }
            let specific = matches!(metric, Metric::Loss | Metric::Rtt);
            let stem = if both && !specific {
                format!("{}_{}", metric.name(), proto.as_str())
            } else {
                metric.name().to_string()
            };
            let main_for_zoom = matches!(
                (proto, metric),
                (Protocol::Udp, Metric::Loss) | (Protocol::Tcp, Metric::Throughput)
            );
            if let (true, Some(range)) = (main_for_zoom, zoom) {
                plans.push(Plan {
                    stem: format!("{stem}_zoom"),
                    metric,
                    field: None,
                    overlay: None,
                    configs: configs.clone(),
                    zoom: Some(range),
                });
            }
            plans.push(Plan {
                stem,
                metric,
                field: None,
                overlay: None,
                configs: configs.clone(),
                zoom: None,
            });
        }
        plans.extend(field_plans(&configs, options, both.then_some(proto)));
        plans.extend(overlay_plans(&configs, both.then_some(proto)));
    }
    plans
}

/// A figure per `--metric` field the configurations have data for
/// (`iperf_FIELD`, suffixed with the protocol when a campaign has both).
fn field_plans<'a>(
    configs: &[&'a ConfigResult],
    options: &Options,
    suffix: Option<Protocol>,
) -> Vec<Plan<'a>> {
    (options.fields.iter())
        .filter(|name| {
            (configs.iter()).any(|c| c.field_bands.get(*name).is_some_and(|b| !b.is_empty()))
        })
        .map(|name| {
            let stem = super::fields::metric_name(name);
            Plan {
                stem: match suffix {
                    Some(proto) => format!("{stem}_{}", proto.as_str()),
                    None => stem,
                },
                metric: Metric::Throughput,
                field: Some(name.clone()),
                overlay: None,
                configs: configs.to_vec(),
                zoom: None,
            }
        })
        .collect()
}

/// A figure per `--overlay` series the configurations have data for
/// (`overlay_NAME` or `overlay_NAME_ENTITY`, suffixed with the protocol when
/// a campaign has both), on the time range of the traffic figures.
fn overlay_plans<'a>(configs: &[&'a ConfigResult], suffix: Option<Protocol>) -> Vec<Plan<'a>> {
    let names: std::collections::BTreeSet<&String> = configs
        .iter()
        .flat_map(|c| c.overlay_bands.keys())
        .collect();
    // The traffic figures' x range: every epoch any metric has.
    let epochs = (configs.iter())
        .flat_map(|c| c.bands.values())
        .flat_map(|b| b.keys().copied());
    let range = epochs.fold(None, |acc: Option<(i64, i64)>, k| match acc {
        None => Some((k, k)),
        Some((a, b)) => Some((a.min(k), b.max(k))),
    });
    names
        .into_iter()
        .map(|name| {
            let file_name: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let stem = format!("overlay_{}", file_name.trim_end_matches('_'));
            Plan {
                stem: match suffix {
                    Some(proto) => format!("{stem}_{}", proto.as_str()),
                    None => stem,
                },
                metric: Metric::Throughput,
                field: None,
                overlay: Some((name.clone(), range.map(|(a, b)| (a as f64, b as f64)))),
                configs: configs.to_vec(),
                zoom: None,
            }
        })
        .collect()
}

/// From a little before the earliest outage to a little after the latest end.
fn zoom_range(configs: &[&ConfigResult]) -> Option<(f64, f64)> {
    let starts = configs
        .iter()
        .filter_map(|c| c.outage_start_s.map(|s| s.min));
    let ends = configs
        .iter()
        .filter_map(|c| Some(c.outage_start_s?.max + c.outage_ms?.max / 1e3));
    let start = starts.min_by(f64::total_cmp)?;
    let end = ends.max_by(f64::total_cmp)?;
    Some((
        ((start - 1.0) * 10.0).floor() / 10.0,
        ((end + 1.5) * 10.0).ceil() / 10.0,
    ))
}

/// Scale and label of a metric's axis, given its largest value.
fn axis(metric: Metric, largest: f64) -> (f64, String) {
    match metric {
        Metric::Loss => (100.0, "Packet loss (%)".into()),
        Metric::Throughput | Metric::Goodput => {
            let what = if metric == Metric::Throughput {
                "Throughput sent"
            } else {
                "Throughput received"
            };
            if largest >= 2e9 {
                (1e-9, format!("{what} (Gbit/s)"))
            } else {
                (1e-6, format!("{what} (Mbit/s)"))
            }
        }
        Metric::Rtt => (1.0, "RTT (ms)".into()),
        Metric::Jitter => (1.0, "Jitter (ms)".into()),
        Metric::Lost | Metric::Packets | Metric::Retransmits => {
            (1.0, format!("{} (count)", metric.name()))
        }
    }
}

fn figure_of(plan: &Plan<'_>, runs: &[RunResult], options: &Options, anchor: &str) -> Figure {
    let labels = config_labels(&plan.configs, options);
    let bands_of = |c: &'_ ConfigResult| match (&plan.field, &plan.overlay) {
        (_, Some((name, _))) => c.overlay_bands.get(name).map(|(_, b)| b.clone()),
        (Some(name), None) => c.field_bands.get(name).cloned(),
        (None, None) => c.bands.get(&plan.metric).cloned(),
    };
    let largest = plan
        .configs
        .iter()
        .filter_map(|c| bands_of(c))
        .flat_map(|b| b.into_values().map(|p| p.max))
        .fold(0.0, f64::max);
    let (scale, y_label) = match (&plan.field, &plan.overlay) {
        (_, Some((name, _))) => (1.0, overlay_axis(name, &plan.configs)),
        (Some(name), None) => (1.0, field_axis(name)),
        (None, None) => axis(plan.metric, largest),
    };
    let range = match (&plan.field, &plan.overlay) {
        (None, None) => physical_range(plan.metric),
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let mut clipped = false;
    let lines = plan
        .configs
        .iter()
        .zip(labels)
        .map(|(config, label)| {
            let bands = bands_of(config);
            let (line, clipped_here) =
                line_of(bands.as_ref(), range, scale, label, &options.grid, options);
            clipped |= clipped_here;
            line
        })
        .collect();
    let outage_starts: Vec<f64> = plan
        .configs
        .iter()
        .filter_map(|c| c.outage_start_s.map(|s| s.median))
        .collect();
    let mut markers: Vec<VMarker> = median(&outage_starts)
        .map(|x| VMarker {
            x,
            label: Some("outage".into()),
        })
        .into_iter()
        .collect();
    markers.extend(marked_events(plan, runs, options));
    Figure {
        title: None,
        x_label: format!("Time since {anchor} (s)"),
        y_label,
        x_range: (plan.zoom)
            .or(options.window.map(|w| (w.start, w.end)))
            .or_else(|| {
                let (_, epochs) = plan.overlay.as_ref()?;
                let (a, b) = (*epochs)?;
                Some((
                    options.grid.time_of(a as i64),
                    options.grid.time_of(b as i64),
                ))
            }),
        y_range: None,
        lines,
        markers,
        note: clipped.then(|| clip_note(plan.metric)),
        legend: Default::default(),
    }
}

/// The y axis label of an `--overlay` series: its name and unit.
fn overlay_axis(name: &str, configs: &[&ConfigResult]) -> String {
    let unit = (configs.iter()).find_map(|c| c.overlay_bands.get(name)?.0.clone());
    match unit {
        Some(unit) => format!("{name} ({unit})"),
        None => name.to_string(),
    }
}

/// The y axis label of a `--metric` field: its name and unit.
fn field_axis(name: &str) -> String {
    match super::fields::unit_of(name) {
        "" => format!("iperf3 {name}"),
        unit => format!("iperf3 {name} ({unit})"),
    }
}

/// The range a metric's values can take (before the axis scale): a loss is
/// a fraction, everything else at least 0.
fn physical_range(metric: Metric) -> (f64, f64) {
    match metric {
        Metric::Loss => (0.0, 1.0),
        _ => (0.0, f64::INFINITY),
    }
}

/// The legend's note when a confidence interval was clipped.
fn clip_note(metric: Metric) -> String {
    let range = match metric {
        Metric::Loss => "0–100 %",
        _ => "values ≥ 0",
    };
    format!("band: 95 % CI of the mean, clipped to {range}")
}

/// A labelled line at each `--mark`ed event: its median time over the
/// figure's runs that have it.
fn marked_events(plan: &Plan<'_>, runs: &[RunResult], options: &Options) -> Vec<VMarker> {
    options
        .marks
        .iter()
        .filter_map(|name| {
            let times: Vec<f64> = (plan.configs.iter())
                .flat_map(|c| c.runs.iter())
                .filter_map(|&i| runs.get(i)?.marks.get(name).copied())
                .collect();
            Some(VMarker {
                x: median(&times)?,
                label: Some(name.clone()),
            })
        })
        .collect()
}

/// The configuration's centre line and band; a gap in the epochs breaks
/// both. A band is kept within the metric's physical range (a confidence
/// interval of a mean can reach below 0 % loss): true when it was clipped.
fn line_of(
    bands: Option<&BTreeMap<i64, BandPoint>>,
    (floor, ceiling): (f64, f64),
    scale: f64,
    label: String,
    grid: &EpochGrid,
    options: &Options,
) -> (Line, bool) {
    let mut clipped = false;
    let mut points = Vec::new();
    let mut band = Vec::new();
    let mut previous: Option<i64> = None;
    for (&k, p) in bands.into_iter().flatten() {
        if previous.is_some_and(|prev| k != prev + 1) {
            points.push((f64::NAN, f64::NAN));
            band.push((f64::NAN, f64::NAN, f64::NAN));
        }
        let (centre, low, high) = p.pick(options.band);
        let (low_in, high_in) = (low.clamp(floor, ceiling), high.clamp(floor, ceiling));
        // A missing bound (NaN) stays missing, and is no clipping.
        clipped |= (low < floor) || (high > ceiling) || (high < floor) || (low > ceiling);
        let t = grid.time_of(k);
        points.push((t, centre * scale));
        band.push((t, low_in * scale, high_in * scale));
        previous = Some(k);
    }
    let line = Line {
        label,
        points,
        band,
    };
    (line, clipped)
}

/// A legend label per configuration of a figure: the parameters that
/// differ between them (`name value`, joined), or all of them when none differ.
/// Whether `--only` lets `config` be drawn.
fn drawn(config: &ConfigResult, options: &Options) -> bool {
    (options.choice).keeps(|param, value| config.params.get(param).is_some_and(|v| v == value))
}

/// What `--label`, `--only` and `--trials` name that no configuration or
/// run has: warnings.
pub fn unmatched_figure_options(
    runs: &[RunResult],
    configs: &[ConfigResult],
    options: &Options,
) -> Vec<String> {
    let has = |param: &str, value: &str| {
        configs
            .iter()
            .any(|c| c.params.get(param).is_some_and(|v| v == value))
    };
    let mut said = options.choice.unmatched(has, "configuration");
    for trial in &options.trials {
        if !runs.iter().any(|r| r.ok && &r.trial == trial) {
            said.push(format!("--trials {trial}: no run analysed has this trial"));
        }
    }
    said
}

fn config_labels(configs: &[&ConfigResult], options: &Options) -> Vec<String> {
    let names: Vec<&String> = configs
        .first()
        .map(|c| c.params.keys().collect())
        .unwrap_or_default();
    let varying: Vec<&String> = names
        .into_iter()
        .filter(|n| {
            let mut values = configs.iter().map(|c| c.params.get(n.as_str()));
            let first = values.next().flatten();
            values.any(|v| v != first)
        })
        .collect();
    configs
        .iter()
        .map(|c| {
            let given = (options.choice).label_of(|p, v| c.params.get(p).is_some_and(|x| x == v));
            if let Some(text) = given {
                return text.to_string();
            }
            let shown: Vec<String> = c
                .params
                .iter()
                .filter(|(k, _)| varying.is_empty() || varying.contains(k))
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            shown.join(", ")
        })
        .collect()
}
