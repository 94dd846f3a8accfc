//! External series beside the traffic (`--overlay NAME=FILE`, e.g. the
//! power of each FPGA): each run's own file (FILE relative to the run
//! folder, e.g. `power.csv`, or `power.lp` in line protocol; see
//! [`expost_formats::timeseries`]) is put on
//! the run's clock (epoch times minus the anchor's), kept within the run's
//! window, and binned into the study's epochs as the mean of the samples
//! whose time falls in each (rounded up to the epoch's end, as every other
//! sample). One series per entity, named `NAME[ENTITY]` (or `NAME` when the
//! file has no entity column); banded across trials like every metric.

use expost_formats::timeseries::{self, Series, TimeBase};
use expost_model::Diagnostics;
use expost_ops::bin::EpochGrid;
use expost_ops::window::TimeWindow;
use std::collections::BTreeMap;
use std::path::Path;

/// The most read of one overlay file.
const OVERLAY_LIMIT: u64 = 256 << 20;

/// `--overlay NAME=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlaySpec {
    /// The series' name in tables and figures.
    pub name: String,
    /// Its file, relative to each run folder.
    pub file: String,
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

/// Reads every overlay file of the run in `dir`, as (name, file as shown,
/// series); a file that is missing or unreadable is a warning naming it,
/// and the run goes on without it.
pub fn read(
    dir: &Path,
    specs: &[OverlaySpec],
    diags: &mut Diagnostics,
) -> Vec<(String, String, Series)> {
    let mut found = Vec::new();
    for spec in specs {
        let path = dir.join(&spec.file);
        let shown = super::load::display(&path);
        diags.set_file(shown.clone());
        let bytes = crate::files::open_regular(&path).and_then(|file| {
            crate::files::read_at_most(file, Vec::new(), OVERLAY_LIMIT, "an overlay series")
        });
        // Line protocol by its extension, CSV otherwise.
        let parse = |b: Vec<u8>, diags: &mut Diagnostics| {
            if spec.file.ends_with(".lp") {
                timeseries::read_line_protocol(&b, diags)
            } else {
                timeseries::read_csv(&b, diags)
            }
        };
        match bytes
            .map_err(|e| e.to_string())
            .and_then(|b| parse(b, diags))
        {
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
