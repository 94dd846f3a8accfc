//! What `expost failover` prints on a terminal: the runs and the
//! configurations as aligned tables.

use super::Campaign;
use expost_render::text_table::{render, Align};

fn fmt_opt(value: Option<f64>, digits: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => "-".into(),
    }
}

/// The runs and configurations as aligned tables.
pub fn terminal_summary(campaign: &Campaign) -> String {
    let param_names = super::tables::param_names(campaign);
    let mut header: Vec<(&str, Align)> = vec![("run", Align::Left)];
    header.extend(param_names.iter().map(|n| (n.as_str(), Align::Left)));
    header.extend([
        ("trial", Align::Left),
        ("proto", Align::Left),
        ("flows", Align::Right),
        ("lost", Align::Right),
        ("packets", Align::Right),
        ("loss %", Align::Right),
        ("outage at s", Align::Right),
        ("outage ms", Align::Right),
        ("diags", Align::Right),
    ]);
    let rows: Vec<Vec<String>> = campaign
        .runs
        .iter()
        .map(|r| {
            let mut row = vec![r.rel.clone()];
            row.extend(
                param_names
                    .iter()
                    .map(|n| r.params.get(n).cloned().unwrap_or_default()),
            );
            let loss = match (r.lost, r.packets) {
                (Some(l), Some(p)) if p > 0 => Some(100.0 * l as f64 / p as f64),
                _ => None,
            };
            row.extend([
                r.trial.clone(),
                if r.ok {
                    r.proto.map_or("-", |p| p.as_str()).to_string()
                } else {
                    "FAILED".into()
                },
                r.flows.len().to_string(),
                r.lost.map_or("-".into(), |v| v.to_string()),
                r.packets.map_or("-".into(), |v| v.to_string()),
                fmt_opt(loss, 3),
                fmt_opt(r.outage.map(|o| o.start), 3),
                fmt_opt(r.outage.map(|o| o.duration * 1e3), 1),
                r.diagnostics.len().to_string(),
            ]);
            row
        })
        .collect();
    let mut out = render(&header, &rows);
    out.push('\n');
    let mut config_header: Vec<(&str, Align)> = param_names
        .iter()
        .map(|n| (n.as_str(), Align::Left))
        .collect();
    config_header.extend([
        ("proto", Align::Left),
        ("trials", Align::Right),
        ("outage ms median", Align::Right),
        ("min", Align::Right),
        ("max", Align::Right),
    ]);
    let config_rows: Vec<Vec<String>> = campaign
        .configs
        .iter()
        .map(|c| {
            let mut row: Vec<String> = param_names
                .iter()
                .map(|n| c.params.get(n).cloned().unwrap_or_default())
                .collect();
            row.extend([
                c.proto.map_or("-", |p| p.as_str()).to_string(),
                trials_text(c),
                fmt_opt(c.outage_ms.map(|s| s.median), 1),
                fmt_opt(c.outage_ms.map(|s| s.min), 1),
                fmt_opt(c.outage_ms.map(|s| s.max), 1),
            ]);
            row
        })
        .collect();
    out.push_str(&render(&config_header, &config_rows));
    out
}

/// A configuration's trials; for TCP, also how many of them its outage
/// statistics cover when some had no disruption found.
fn trials_text(config: &super::ConfigResult) -> String {
    let n = config.runs.len();
    let tcp = config.proto == Some(expost_formats::iperf3_json::Protocol::Tcp);
    if tcp && config.outage_trials < n {
        format!("{n} (outage in {})", config.outage_trials)
    } else {
        n.to_string()
    }
}
