//! External series beside the traffic (`--overlay NAME=FILE`, e.g. the
//! power of each FPGA): each run's own file (FILE relative to the run
//! folder, e.g. `power.csv`, or `power.lp` in line protocol; see
//! [`expost_formats::timeseries`]) is put on
//! the run's clock (epoch times minus the anchor's), kept within the run's
//! window, and binned into the study's epochs as the mean of the samples
//! whose time falls in each (rounded up to the epoch's end, as every other
//! sample). One series per entity, named `NAME[ENTITY]` (or `NAME` when the
//! file has no entity column); banded across trials like every metric.

use expost_formats::campaign::RunDir;
use expost_formats::timeseries::{self, Series, TimeBase};
use expost_model::{Diagnostic, Diagnostics};
use expost_ops::bin::EpochGrid;
use expost_ops::window::TimeWindow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The most read of one overlay file.
const OVERLAY_LIMIT: u64 = 256 << 20;

/// `--overlay NAME=FILE`.
#[derive(Debug, Clone)]
pub struct OverlaySpec {
    /// The series' name in tables and figures.
    pub name: String,
    /// Its file, relative to each run folder (or to the campaign folder).
    pub file: String,
    /// The file at the campaign folder's root, when there is one for the
    /// whole campaign (see [`resolve_campaign_files`]).
    pub campaign: Option<Arc<CampaignFile>>,
}

/// One overlay file for a whole campaign, read once: its samples name
/// their run.
#[derive(Debug)]
pub struct CampaignFile {
    /// The file, as shown in messages.
    pub shown: String,
    /// Every sample.
    pub series: Series,
    /// What reading it said.
    pub diagnostics: Vec<Diagnostic>,
}

/// For each spec whose FILE is at the campaign folder's root: that file
/// serves the whole campaign, each sample given to the run its `run`
/// column names (the run folder's name or its path under the campaign).
///
/// # Errors
/// A message naming the file when it cannot be read or has no `run`
/// column (a file at the root must say which run each sample is of).
pub fn resolve_campaign_files(
    root: &Path,
    specs: Vec<OverlaySpec>,
) -> Result<Vec<OverlaySpec>, String> {
    specs
        .into_iter()
        .map(|spec| {
            let path = root.join(&spec.file);
            if !path.is_file() {
                return Ok(spec);
            }
            let shown = super::load::display(&path);
            let mut diags = Diagnostics::for_file(shown.clone());
            let series = read_series(&path, &spec.file, &mut diags)
                .map_err(|e| format!("--overlay {}: {shown}: {e}", spec.name))?;
            if series.samples.iter().any(|s| s.run.is_empty()) {
                return Err(format!(
                    "--overlay {}: {shown} is at the campaign's root, so it must say which run each sample is of (a run column); files for one run go in each run folder",
                    spec.name
                ));
            }
            let diagnostics = diags.into_items();
            Ok(OverlaySpec {
                campaign: Some(Arc::new(CampaignFile {
                    shown,
                    series,
                    diagnostics,
                })),
                ..spec
            })
        })
        .collect()
}

/// A warning naming the runs a campaign-wide file has samples of that are
/// no run of the campaign (their samples are not used).
pub fn unknown_runs(
    name: &str,
    file: &CampaignFile,
    runs: &[super::RunResult],
) -> Option<Diagnostic> {
    let known = |run: &str| runs.iter().any(|r| r.name == run || r.rel == run);
    let unknown: std::collections::BTreeSet<&str> = (file.series.samples.iter())
        .map(|s| s.run.as_str())
        .filter(|run| !known(run))
        .collect();
    (!unknown.is_empty()).then(|| Diagnostic {
        file: file.shown.clone(),
        line: None,
        severity: expost_model::Severity::Warning,
        message: format!(
            "--overlay {name}: samples of runs the campaign does not have, not used: {}",
            unknown.into_iter().collect::<Vec<_>>().join(", ")
        ),
    })
}

/// Reads a series file: line protocol (`.lp`) or Parquet (`.parquet`) by
/// its extension, CSV otherwise.
fn read_series(path: &Path, file: &str, diags: &mut Diagnostics) -> Result<Series, String> {
    let bytes = crate::files::open_regular(path)
        .and_then(|f| crate::files::read_at_most(f, Vec::new(), OVERLAY_LIMIT, "an overlay series"))
        .map_err(|e| e.to_string())?;
    if file.ends_with(".lp") {
        timeseries::read_line_protocol(&bytes, diags)
    } else if file.ends_with(".parquet") {
        timeseries::read_parquet(bytes, diags)
    } else {
        timeseries::read_csv(&bytes, diags)
    }
}

impl std::str::FromStr for OverlaySpec {
    type Err = String;

    /// `NAME=FILE`, e.g. `power=power.csv`; NAME of letters, digits, `_`, `-`.
    fn from_str(given: &str) -> Result<OverlaySpec, String> {
        let bad = || format!("{given:?}: expected NAME=FILE (e.g. power=power.csv)");
        let (name, file) = given.split_once('=').ok_or_else(bad)?;
        let (name, file) = (name.trim(), file.trim());
        if name.is_empty() || file.is_empty() {
            return Err(bad());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "{given:?}: the name {name:?} may hold only letters, digits, '_' and '-'"
            ));
        }
        if Path::new(file).is_absolute() || file.split('/').any(|p| p == "..") {
            return Err(format!(
                "{given:?}: FILE is looked up in each run folder: give a path inside it (no '/' at the start, no '..')"
            ));
        }
        Ok(OverlaySpec {
            name: name.to_string(),
            file: file.to_string(),
            campaign: None,
        })
    }
}

/// One overlay series of a run, binned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverlaySeries {
    /// Its unit, when the file gives one.
    pub unit: Option<String>,
    /// The mean per epoch.
    pub epochs: BTreeMap<i64, f64>,
}

/// The name of an entity's series: `NAME[ENTITY]`, or `NAME`.
pub fn metric_name(name: &str, entity: &str) -> String {
    if entity.is_empty() {
        name.to_string()
    } else {
        format!("{name}[{entity}]")
    }
}

/// Reads every overlay of the run in `dir` (its own file, or its samples
/// of a campaign-wide one), as (name, file as shown, series); a file that
/// is missing or unreadable, or holds nothing of the run, is a warning
/// naming it, and the run goes on without it.
pub fn read(
    dir: &RunDir,
    specs: &[OverlaySpec],
    diags: &mut Diagnostics,
) -> Vec<(String, String, Series)> {
    let mut found = Vec::new();
    for spec in specs {
        if let Some(file) = &spec.campaign {
            diags.set_file(file.shown.clone());
            let samples: Vec<_> = (file.series.samples.iter())
                .filter(|s| s.run == dir.name || s.run == dir.rel)
                .cloned()
                .collect();
            if samples.is_empty() {
                diags.warn(
                    None,
                    format!(
                        "--overlay {}: no sample of run {} (run column: its folder's name or path)",
                        spec.name, dir.rel
                    ),
                );
                continue;
            }
            let series = Series {
                samples,
                ..file.series.clone()
            };
            found.push((spec.name.clone(), file.shown.clone(), series));
            continue;
        }
        let path = dir.path.join(&spec.file);
        let shown = super::load::display(&path);
        diags.set_file(shown.clone());
        match read_series(&path, &spec.file, diags) {
            Ok(series) => found.push((spec.name.clone(), shown, series)),
            Err(e) => diags.warn(None, format!("--overlay {}: not read: {e}", spec.name)),
        }
    }
    found
}

/// Each entity's series of `series` on the run's clock (`anchor`: the
/// anchor's epoch time), within `window`, binned on `grid`; samples
/// outside the window are counted in a note.
pub fn bin(
    name: &str,
    series: &Series,
    anchor: f64,
    window: TimeWindow,
    grid: &EpochGrid,
    diags: &mut Diagnostics,
) -> BTreeMap<String, OverlaySeries> {
    let offset = match series.base {
        TimeBase::Epoch => -anchor,
        TimeBase::Anchor => 0.0,
    };
    let tolerance = grid.width() * 1e-6;
    let mut sums: BTreeMap<&str, BTreeMap<i64, (f64, u32)>> = BTreeMap::new();
    let mut outside = 0usize;
    for s in &series.samples {
        let t = s.time + offset;
        if t <= window.start + tolerance || t > window.end + tolerance {
            outside += 1;
            continue;
        }
        let cell = sums
            .entry(s.entity.as_str())
            .or_default()
            .entry(grid.index_of(t))
            .or_insert((0.0, 0));
        cell.0 += s.value;
        cell.1 += 1;
    }
    if outside > 0 {
        diags.note(
            None,
            format!(
                "--overlay {name}: {outside} of {} samples fall outside the run's window ({:.3} to {:.3} s after the anchor) and are left out",
                series.samples.len(),
                window.start,
                window.end
            ),
        );
    }
    sums.into_iter()
        .map(|(entity, cells)| {
            let epochs = cells
                .into_iter()
                .map(|(k, (sum, n))| (k, sum / f64::from(n)))
                .collect();
            (
                metric_name(name, entity),
                OverlaySeries {
                    unit: series.unit.clone(),
                    epochs,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expost_formats::timeseries::Sample;

    #[test]
    fn specs_are_read_and_paths_out_of_the_run_refused() {
        let spec: OverlaySpec = "power = power/fpga.csv".parse().unwrap();
        assert_eq!(
            (spec.name.as_str(), spec.file.as_str()),
            ("power", "power/fpga.csv")
        );
        assert!("power".parse::<OverlaySpec>().is_err());
        assert!("po wer=x.csv"
            .parse::<OverlaySpec>()
            .unwrap_err()
            .contains("letters"));
        assert!("p=/etc/passwd"
            .parse::<OverlaySpec>()
            .unwrap_err()
            .contains("inside"));
        assert!("p=../x.csv".parse::<OverlaySpec>().is_err());
    }

    #[test]
    fn samples_are_put_on_the_run_clock_and_averaged_per_epoch() {
        let grid = EpochGrid::new(0.1).unwrap();
        let sample = |time: f64, entity: &str, value: f64| Sample {
            run: String::new(),
            time,
            entity: entity.into(),
            value,
        };
        let anchor = 1_700_000_000.0;
        let series = Series {
            samples: vec![
                sample(anchor + 0.01, "a", 10.0),
                sample(anchor + 0.05, "a", 20.0),
                sample(anchor + 0.10, "a", 30.0),
                sample(anchor + 0.15, "b", 1.0),
                sample(anchor - 5.0, "a", 99.0),
            ],
            base: TimeBase::Epoch,
            unit: Some("W".into()),
        };
        let window = TimeWindow {
            start: 0.0,
            end: 1.0,
        };
        let mut d = Diagnostics::for_file("power.csv");
        let binned = bin("power", &series, anchor, window, &grid, &mut d);
        let a = &binned["power[a]"];
        assert_eq!(a.unit.as_deref(), Some("W"));
        // 0.01, 0.05 and 0.10 all end in the epoch ending at 0.1.
        assert_eq!(a.epochs.len(), 1);
        assert!((a.epochs[&grid.index_of(0.1)] - 20.0).abs() < 1e-9);
        assert_eq!(binned["power[b]"].epochs[&grid.index_of(0.2)], 1.0);
        assert!(d.items()[0].message.contains("1 of 5 samples fall outside"));
    }
}
