//! Which run parameters the rate and latency figures put on their axes:
//! `x` on the x axis (a number), one line per `group` value, one figure
//! (rate and latency) per `facet` value. Runs that share a point are
//! averaged, and the parameters they differ in are named, never hidden.

use super::RunResult;
use crate::choice::FigureChoice;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The parameters on the figures' axes, and which runs and legend texts
/// the figures take.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureAxes {
    /// The x axis (a numeric parameter).
    pub x: String,
    /// One line per value.
    pub group: String,
    /// One rate and one latency figure per value.
    pub facet: String,
    /// Only runs with one of the values `--only PARAM=V1,V2` gives are
    /// drawn (tables keep every run); `--label` texts for lines (group
    /// values) and figures (facet values).
    pub choice: FigureChoice,
}

impl Default for FigureAxes {
    /// The notebook's: clients on x, one line per number of servers, one
    /// figure per call type.
    fn default() -> Self {
        FigureAxes {
            x: "nbr_clients".into(),
            group: "nbr_servers".into(),
            facet: "call_type".into(),
            choice: FigureChoice::default(),
        }
    }
}

impl FigureAxes {
    /// Whether `--only` keeps the run in the figures.
    fn keeps(&self, run: &RunResult) -> bool {
        (self.choice).keeps(|param, value| value_of(run, param).is_some_and(|v| v == value))
    }

    /// The text `--label` gives to `param`'s `value`, if any.
    pub fn label(&self, param: &str, value: &str) -> Option<&str> {
        self.choice.label(param, |v| v == value)
    }

    /// What `--only` and `--label` name that no analysed run has, or that
    /// names no legend entry or figure: one message each.
    pub fn unmatched(&self, runs: &[RunResult]) -> Vec<String> {
        let analysed: Vec<&RunResult> = runs.iter().filter(|r| r.ok).collect();
        let has = |param: &str, value: &str| {
            analysed
                .iter()
                .any(|r| value_of(r, param).is_some_and(|v| v == value))
        };
        let mut said = self.choice.unmatched_only(has, "analysed run");
        for l in &self.choice.labels {
            if l.param != self.group && l.param != self.facet {
                said.push(format!(
                    "--label {}={}: '{}' is neither the figures' group ({}) nor their facet ({}), so it names nothing",
                    l.param, l.value, l.param, self.group, self.facet
                ));
            } else if !has(&l.param, &l.value) {
                said.push(format!(
                    "--label {}={}: no analysed run has it",
                    l.param, l.value
                ));
            }
        }
        said
    }
}

/// One point of a figure's line: its x and the runs averaged into it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AxesPoint {
    /// The group (line) value.
    pub group: String,
    /// The runs averaged into the point, by `backup_dir`.
    pub runs: Vec<String>,
    /// The x value.
    pub x: f64,
}

/// The points of the rate and latency figures of one facet value, and
/// what their points average over. Fields in alphabetical order (the JSON
/// contract).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AxesFigure {
    /// Parameters other than the axes that differ between runs sharing a
    /// point, with every value they take there: each point is the mean of
    /// such runs.
    pub averaged: BTreeMap<String, Vec<String>>,
    /// The facet parameter.
    pub facet: String,
    /// Its value for this pair of figures.
    pub facet_value: String,
    /// The figures drawn from these points.
    pub figures: Vec<String>,
    /// The group parameter.
    pub group: String,
    /// Points sorted by group, then x.
    pub points: Vec<AxesPoint>,
    /// The x parameter.
    pub x: String,
}

impl AxesFigure {
    /// The legend note saying what a point averages, if anything.
    pub fn note(&self) -> Option<String> {
        if !self.averaged.is_empty() {
            let named: Vec<String> = self
                .averaged
                .iter()
                .map(|(p, values)| format!("{p} ({})", values.join(", ")))
                .collect();
            return Some(format!("points: mean over {}", named.join("; ")));
        }
        let most = self.points.iter().map(|p| p.runs.len()).max().unwrap_or(0);
        (most > 1).then(|| format!("points: mean of up to {most} runs with the same parameters"))
    }
}

/// A run's value of an axis parameter: its `params.json` value, or for
/// the default numbers of clients and servers, the agents the controller
/// counted (campaigns that do not list them).
fn value_of(run: &RunResult, param: &str) -> Option<String> {
    if let Some(v) = run.params().get(param) {
        return Some(v.clone());
    }
    let side = match param {
        "nbr_clients" => run.clients.as_ref(),
        "nbr_servers" => run.servers.as_ref(),
        _ => None,
    };
    side.map(|s| s.agents.to_string())
}

/// The figure name stem for a facet value: `<facet value>` for the
/// default facet (the notebook's names, e.g. `rate_rpc-call`), else
/// `<facet>_<value>`.
fn stem(axes: &FigureAxes, value: &str) -> String {
    let raw = if axes.facet == FigureAxes::default().facet {
        value.to_string()
    } else {
        format!("{}_{value}", axes.facet)
    };
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Why a run is left out of the figures, if it is.
fn left_out(run: &RunResult, axes: &FigureAxes) -> Option<String> {
    for (role, param) in [
        ("x", &axes.x),
        ("group", &axes.group),
        ("facet", &axes.facet),
    ] {
        match value_of(run, param) {
            None => {
                return Some(format!(
                    "it has no parameter '{param}' (the figures' {role})"
                ))
            }
            Some(v) if role == "x" && v.trim().parse::<f64>().map_or(true, |x| !x.is_finite()) => {
                return Some(format!(
                    "its '{param}' (the figures' x) is {v:?}, not a number"
                ))
            }
            Some(_) => {}
        }
    }
    None
}

/// The figures' points for `runs` (those analysed), and per run left out
/// (index into `runs`) why.
pub fn plan(runs: &[RunResult], axes: &FigureAxes) -> (Vec<AxesFigure>, Vec<(usize, String)>) {
    let mut skipped = Vec::new();
    // facet value → (group value, x bits) → run indices
    let mut cells: BTreeMap<String, BTreeMap<(String, u64), Vec<usize>>> = BTreeMap::new();
    let mut xs: BTreeMap<u64, f64> = BTreeMap::new();
    for (i, run) in runs
        .iter()
        .enumerate()
        .filter(|(_, r)| r.ok && axes.keeps(r))
    {
        if let Some(why) = left_out(run, axes) {
            skipped.push((i, why));
            continue;
        }
        let value = |p: &str| value_of(run, p).unwrap_or_default();
        let x: f64 = value(&axes.x).trim().parse().unwrap_or(f64::NAN);
        let key = ordered_bits(x);
        xs.insert(key, x);
        cells
            .entry(value(&axes.facet))
            .or_default()
            .entry((value(&axes.group), key))
            .or_default()
            .push(i);
    }
    let figures = cells
        .into_iter()
        .map(|(facet_value, points)| {
            let mut averaged: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for members in points.values() {
                for (param, values) in differing(members.iter().map(|&i| &runs[i]), axes) {
                    averaged.entry(param).or_default().extend(values);
                }
            }
            let stem = stem(axes, &facet_value);
            let mut points: Vec<AxesPoint> = points
                .into_iter()
                .map(|((group, key), members)| AxesPoint {
                    group,
                    runs: members.iter().map(|&i| runs[i].run.name.clone()).collect(),
                    x: xs[&key],
                })
                .collect();
            points.sort_by(|a, b| numeric_first(&a.group, &b.group).then(a.x.total_cmp(&b.x)));
            AxesFigure {
                averaged: averaged
                    .into_iter()
                    .map(|(p, v)| (p, v.into_iter().collect()))
                    .collect(),
                facet: axes.facet.clone(),
                figures: vec![format!("rate_{stem}"), format!("latency_{stem}")],
                facet_value,
                group: axes.group.clone(),
                points,
                x: axes.x.clone(),
            }
        })
        .collect();
    (figures, skipped)
}

/// Numbers in numeric order, before other text in text order.
fn numeric_first(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// Every axis parameter no analysed run has, as (role, parameter).
pub fn missing_everywhere<'a>(
    runs: &[RunResult],
    axes: &'a FigureAxes,
) -> Vec<(&'static str, &'a str)> {
    [
        ("x", &axes.x),
        ("group", &axes.group),
        ("facet", &axes.facet),
    ]
    .into_iter()
    .filter(|(_, p)| {
        !runs
            .iter()
            .filter(|r| r.ok)
            .any(|r| value_of(r, p).is_some())
    })
    .map(|(role, p)| (role, p.as_str()))
    .collect()
}

/// Every parameter of the campaign's runs, for error messages.
pub fn parameter_names(runs: &[RunResult]) -> Vec<&str> {
    let names: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.params().keys().map(String::as_str))
        .collect();
    names.into_iter().collect()
}

/// A key that sorts finite numbers as numbers.
fn ordered_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if x.is_sign_negative() {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The parameters (other than the axes) whose values differ among `runs`,
/// with those values.
fn differing<'a>(
    runs: impl Iterator<Item = &'a RunResult>,
    axes: &FigureAxes,
) -> BTreeMap<String, BTreeSet<String>> {
    let runs: Vec<&RunResult> = runs.collect();
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.params().keys()).collect();
    names
        .into_iter()
        .filter(|p| ![&axes.x, &axes.group, &axes.facet].contains(p))
        .filter_map(|p| {
            let values: BTreeSet<String> = runs
                .iter()
                .map(|r| {
                    r.params()
                        .get(p)
                        .cloned()
                        .unwrap_or_else(|| "(unset)".into())
                })
                .collect();
            (values.len() > 1).then(|| (p.clone(), values))
        })
        .collect()
}
