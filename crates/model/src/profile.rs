//! Training profiles: what training costs at each world size (read from a
//! Bamboo profiling run or a TOML file by `expost-formats`).
//!
//! Iteration times are measured at a few world sizes; at any other size
//! [`Profile::iteration_time`] interpolates linearly in 1 / world size
//! (time = a + b / size, the shape of a fixed global batch split across
//! more pipelines) between the two nearest measured sizes, and extrapolates
//! beyond them along the line through the two nearest. A single measured
//! size scales perfectly (time ∝ 1 / size). The method used is returned
//! with the value, and a missing size is never an error.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

/// The global batch when a profile does not say (Bamboo run-86).
pub fn default_batch() -> u32 {
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

impl Profile {
    /// Checks its values: times finite and ≥ 0, at least one world size,
    /// each ≥ 1 with an iteration time > 0, a global batch of at least 1.
    ///
    /// # Errors
    /// What is wrong, in a few words.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("reconfiguration_s", self.reconfiguration_s),
            ("checkpoint_save_s", self.checkpoint_save_s),
            ("checkpoint_load_s", self.checkpoint_load_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} = {v} must be a number of seconds ≥ 0"));
            }
        }
        if self.iteration_s.is_empty() {
            return Err("no iteration time for any world size".into());
        }
        for (ws, t) in &self.iteration_s {
            if *ws == 0 || !(t.is_finite() && *t > 0.0) {
                return Err(format!(
                    "iteration time {t} s at world size {ws}: need size ≥ 1 and time > 0"
                ));
            }
        }
        if self.global_batch == 0 {
            return Err("global_batch must be at least 1".into());
        }
        Ok(())
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
}
