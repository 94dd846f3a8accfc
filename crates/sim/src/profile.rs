//! Profiles: what training costs at each world size. Read from a Bamboo
//! profiling run (`reconfig.csv`, `loop_times_0.csv`,
//! `async-checkpoint_0.csv`, `load_times_0.csv`, as the notebook reads
//! them) or from a small TOML file.
//!
//! Iteration times are measured at a few world sizes; at any other size
//! [`Profile::iteration_time`] interpolates linearly in 1 / world size
//! (time = a + b / size, the shape of a fixed global batch split across
//! more pipelines) between the two nearest measured sizes, and extrapolates
//! beyond them along the line through the two nearest. A single measured
//! size scales perfectly (time ∝ 1 / size). The method used is returned
//! with the value, and a missing size is never an error.

use expost_model::Diagnostics;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A training profile; all times in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Mean time of one reconfiguration, s.
    pub reconfiguration_s: f64,
    /// Mean time to save one checkpoint, s.
    pub checkpoint_save_s: f64,
    /// Mean time to load a checkpoint at restart, s.
    pub checkpoint_load_s: f64,
    /// Mean time of one training iteration (one global batch), s, by world size (nodes).
    #[serde(with = "ws_map")]
    pub iteration_s: BTreeMap<u32, f64>,
    /// Samples in one global batch.
    #[serde(default = "default_batch")]
    pub global_batch: u32,
    /// Pipeline depth of the profiled run, if known (nodes per pipeline).
    #[serde(default)]
    pub pipeline_depth: Option<u32>,
}

fn default_batch() -> u32 {
    288
}

/// TOML keys must be strings: world sizes are written `"16" = 18.0`.
mod ws_map {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(map: &BTreeMap<u32, f64>, s: S) -> Result<S::Ok, S::Error> {
        let text: BTreeMap<String, f64> = map.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        text.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<u32, f64>, D::Error> {
        let text: BTreeMap<String, f64> = BTreeMap::deserialize(d)?;
        text.into_iter()
            .map(|(k, v)| {
                k.trim().parse::<u32>().map(|k| (k, v)).map_err(|_| {
                    serde::de::Error::custom(format!("world size {k:?} is not a whole number"))
                })
            })
            .collect()
    }
}

/// How an iteration time was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Measured at this world size.
    Measured,
    /// Linear in 1 / size between the two nearest measured sizes.
    Interpolated,
    /// Linear in 1 / size beyond the measured sizes, along the two nearest.
    Extrapolated,
    /// Perfect scaling (time ∝ 1 / size) from the nearest measured size:
    /// one measured size, or the line would give a time ≤ 0.
    Scaled,
}

impl Method {
    /// One line saying what the method is.
    pub fn describe(self) -> &'static str {
        match self {
            Method::Measured => "measured",
            Method::Interpolated => {
                "interpolated linearly in 1/world size between the nearest measured sizes"
            }
            Method::Extrapolated => {
                "extrapolated linearly in 1/world size from the two nearest measured sizes"
            }
            Method::Scaled => "scaled as 1/world size from the nearest measured size",
        }
    }
}

/// Why a profile could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A file is missing or unreadable.
    #[error("{file}: could not read: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{file}:{line}: {message}")]
    Line {
        /// The file.
        file: String,
        /// The 1-based line.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// The profile as a whole is unusable.
    #[error("{file}: {message}")]
    Invalid {
        /// The file (or folder).
        file: String,
        /// What was wrong.
        message: String,
    },
}

impl Profile {
    /// Checks values: times finite and positive (load may be 0), at least one world size.
    pub fn validate(&self, file: &str) -> Result<(), ProfileError> {
        let bad = |message: String| ProfileError::Invalid {
            file: file.to_string(),
            message,
        };
        for (name, v) in [
            ("reconfiguration_s", self.reconfiguration_s),
            ("checkpoint_save_s", self.checkpoint_save_s),
            ("checkpoint_load_s", self.checkpoint_load_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad(format!("{name} = {v} must be a number of seconds ≥ 0")));
            }
        }
        if self.iteration_s.is_empty() {
            return Err(bad("no iteration time for any world size".into()));
        }
        for (ws, t) in &self.iteration_s {
            if *ws == 0 || !(t.is_finite() && *t > 0.0) {
                return Err(bad(format!(
                    "iteration time {t} s at world size {ws}: need size ≥ 1 and time > 0"
                )));
            }
        }
        if self.global_batch == 0 {
            return Err(bad("global_batch must be at least 1".into()));
        }
        Ok(())
    }

    /// Reads a profile: a TOML file, or a profiling run folder (the
    /// notebook's CSVs).
    pub fn read(path: &Path, diags: &mut Diagnostics) -> Result<Profile, ProfileError> {
        if path.is_dir() {
            Profile::from_run_dir(path, diags)
        } else {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
                file: file.clone(),
                source,
            })?;
            Profile::from_toml(&text, &file)
        }
    }

    /// Reads a TOML profile.
    pub fn from_toml(text: &str, file: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Invalid {
            file: file.to_string(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        profile.validate(file)?;
        Ok(profile)
    }

    /// Reads a Bamboo profiling run folder as the notebook does: the mean
    /// of `reconfig.csv`'s elapsed column without its first row, the mean
    /// train time of `loop_times_0.csv` per world size, and the means of
    /// `async-checkpoint_0.csv` and `load_times_0.csv`. `exp-info.json`, if
    /// present, gives the global batch and pipeline depth.
    pub fn from_run_dir(dir: &Path, diags: &mut Diagnostics) -> Result<Profile, ProfileError> {
        let read = |name: &str| -> Result<(String, String), ProfileError> {
            let path = dir.join(name);
            let file = path.display().to_string();
            std::fs::read_to_string(&path)
                .map(|t| (file.clone(), t))
                .map_err(|source| ProfileError::Io { file, source })
        };
        let (f, text) = read("reconfig.csv")?;
        let reconfig = columns(&f, &text, 4)?;
        if reconfig.len() < 2 {
            return Err(invalid(
                &f,
                "needs at least 2 rows (the notebook drops the first)",
            ));
        }
        diags.set_file(f.clone());
        diags.note(
            Some(1),
            "first reconfiguration dropped, as the notebook does (start-up)",
        );
        let reconfiguration_s = mean(reconfig[1..].iter().map(|r| r.1[3]));

        let (f, text) = read("loop_times_0.csv")?;
        let loops = columns(&f, &text, 7)?;
        let mut sums: BTreeMap<u32, (f64, usize)> = BTreeMap::new();
        for (line, row) in &loops {
            let ws = row[0];
            if ws.fract() != 0.0 || ws < 1.0 {
                return Err(line_error(
                    &f,
                    *line,
                    format!("world size {ws} is not a whole number ≥ 1"),
                ));
            }
            let e = sums.entry(ws as u32).or_insert((0.0, 0));
            e.0 += row[4];
            e.1 += 1;
        }
        let iteration_s: BTreeMap<u32, f64> = sums
            .into_iter()
            .map(|(k, (s, n))| (k, s / n as f64))
            .collect();

        let (f, text) = read("async-checkpoint_0.csv")?;
        let ckpt = columns(&f, &text, 1)?;
        let (f2, text) = read("load_times_0.csv")?;
        let load = columns(&f2, &text, 3)?;
        if ckpt.is_empty() {
            return Err(invalid(&f, "no rows"));
        }
        if load.is_empty() {
            return Err(invalid(&f2, "no rows"));
        }
        let (global_batch, pipeline_depth) = exp_info(dir, diags)?;
        let profile = Profile {
            reconfiguration_s,
            checkpoint_save_s: mean(ckpt.iter().map(|r| r.1[0])),
            checkpoint_load_s: mean(load.iter().map(|r| r.1[2])),
            iteration_s,
            global_batch,
            pipeline_depth,
        };
        profile.validate(&dir.join("loop_times_0.csv").display().to_string())?;
        Ok(profile)
    }

    /// Every time rounded to whole seconds, as the notebook's simulation
    /// does (`np.round`, half to even).
    pub fn rounded(&self) -> Profile {
        Profile {
            reconfiguration_s: self.reconfiguration_s.round_ties_even(),
            checkpoint_save_s: self.checkpoint_save_s.round_ties_even(),
            checkpoint_load_s: self.checkpoint_load_s.round_ties_even(),
            iteration_s: self
                .iteration_s
                .iter()
                .map(|(k, v)| (*k, v.round_ties_even()))
                .collect(),
            ..self.clone()
        }
    }

    /// Seconds per iteration at `world_size` nodes and how it was obtained;
    /// `None` only for size 0 (no training).
    pub fn iteration_time(&self, world_size: u32) -> Option<(f64, Method)> {
        if world_size == 0 {
            return None;
        }
        if let Some(t) = self.iteration_s.get(&world_size) {
            return Some((*t, Method::Measured));
        }
        let sizes: Vec<(u32, f64)> = self.iteration_s.iter().map(|(k, v)| (*k, *v)).collect();
        let scaled =
            |(ws0, t0): (u32, f64)| (t0 * f64::from(ws0) / f64::from(world_size), Method::Scaled);
        let nearest = *sizes.iter().min_by_key(|(ws, _)| ws.abs_diff(world_size))?;
        if sizes.len() == 1 {
            return Some(scaled(nearest));
        }
        let above = sizes.partition_point(|(ws, _)| *ws < world_size);
        let (i, j, method) = if above == 0 {
            (0, 1, Method::Extrapolated)
        } else if above == sizes.len() {
            (sizes.len() - 2, sizes.len() - 1, Method::Extrapolated)
        } else {
            (above - 1, above, Method::Interpolated)
        };
        let t = line_in_inverse(sizes[i], sizes[j], world_size);
        if t > 0.0 && t.is_finite() {
            Some((t, method))
        } else {
            Some(scaled(nearest))
        }
    }

    /// The iteration-time table over world sizes `1..=max` with methods
    /// (for reports).
    pub fn table(&self, sizes: impl IntoIterator<Item = u32>) -> Vec<(u32, f64, Method)> {
        sizes
            .into_iter()
            .filter_map(|ws| self.iteration_time(ws).map(|(t, m)| (ws, t, m)))
            .collect()
    }
}

/// The value at `ws` of the line through `a` and `b` in (1/size, time).
/// Written as in the baseline script, operation for operation, so both
/// give the same bits.
pub fn line_in_inverse(a: (u32, f64), b: (u32, f64), ws: u32) -> f64 {
    let (xa, xb, x) = (
        1.0 / f64::from(a.0),
        1.0 / f64::from(b.0),
        1.0 / f64::from(ws),
    );
    a.1 + (b.1 - a.1) * (x - xa) / (xb - xa)
}

fn invalid(file: &str, message: &str) -> ProfileError {
    ProfileError::Invalid {
        file: file.to_string(),
        message: message.to_string(),
    }
}

fn line_error(file: &str, line: u64, message: String) -> ProfileError {
    ProfileError::Line {
        file: file.to_string(),
        line,
        message,
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    s / n as f64
}

/// Numeric rows of a header-less CSV with at least `width` columns.
fn columns(file: &str, text: &str, width: usize) -> Result<Vec<(u64, Vec<f64>)>, ProfileError> {
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let values: Vec<f64> = raw
            .split(',')
            .map(|f| f.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| {
                line_error(
                    file,
                    line,
                    format!("expected {width} numbers separated by commas, found {raw:?}"),
                )
            })?;
        if values.len() < width || values.iter().any(|v| !v.is_finite()) {
            return Err(line_error(
                file,
                line,
                format!("expected {width} finite numbers, found {}", values.len()),
            ));
        }
        rows.push((line, values));
    }
    Ok(rows)
}

/// Global batch and pipeline depth from `exp-info.json`, if present.
fn exp_info(dir: &Path, diags: &mut Diagnostics) -> Result<(u32, Option<u32>), ProfileError> {
    let path = dir.join("exp-info.json");
    let file = path.display().to_string();
    let Ok(text) = std::fs::read_to_string(&path) else {
        diags.set_file(file);
        diags.note(
            None,
            "no exp-info.json: global batch taken as 288 (Bamboo run-86)",
        );
        return Ok((default_batch(), None));
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| line_error(&file, e.line() as u64, e.to_string()))?;
    let get = |key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .map(|v| v as u32)
    };
    let batch = value
        .get("deepspeed-config")
        .and_then(|c| c.get("train_batch_size"))
        .and_then(serde_json::Value::as_u64)
        .map(|v| v as u32);
    Ok((batch.unwrap_or_else(default_batch), get("pipe-depth")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notebook() -> Profile {
        Profile {
            reconfiguration_s: 88.0,
            checkpoint_save_s: 89.0,
            checkpoint_load_s: 47.0,
            iteration_s: [(16, 18.0), (32, 11.0), (48, 9.0), (64, 8.0)]
                .into_iter()
                .collect(),
            global_batch: 288,
            pipeline_depth: Some(16),
        }
    }

    #[test]
    fn missing_world_sizes_interpolate_and_extrapolate_without_error() {
        let p = notebook();
        assert_eq!(p.iteration_time(32), Some((11.0, Method::Measured)));
        let (t, m) = p.iteration_time(40).unwrap();
        assert_eq!(m, Method::Interpolated);
        assert!(t < 11.0 && t > 9.0);
        let (t, m) = p.iteration_time(80).unwrap();
        assert_eq!(m, Method::Extrapolated);
        assert!(t < 8.0 && t > 0.0);
        let (t, m) = p.iteration_time(8).unwrap();
        assert_eq!(m, Method::Extrapolated);
        assert!(t > 18.0);
        assert_eq!(p.iteration_time(0), None);
    }

    #[test]
    fn line_goes_through_measured_points() {
        let t = line_in_inverse((48, 9.0), (64, 8.0), 64);
        assert!((t - 8.0).abs() < 1e-12);
    }

    #[test]
    fn toml_profile_round_trips_and_rejects_empty_tables() {
        let text = toml::to_string(&notebook()).unwrap();
        assert_eq!(Profile::from_toml(&text, "p.toml").unwrap(), notebook());
        let empty = "reconfiguration_s = 88\ncheckpoint_save_s = 89\ncheckpoint_load_s = 47\n[iteration_s]\n";
        let err = Profile::from_toml(empty, "p.toml").unwrap_err().to_string();
        assert!(
            err.contains("no iteration time for any world size"),
            "{err}"
        );
    }
}
