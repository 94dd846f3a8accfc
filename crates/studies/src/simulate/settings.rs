//! The settings `simulate` and `sweep` share: the profile, the cluster,
//! the strategies' costs and the prices.

use crate::study::StudyError;
use expost_model::profile::Profile;
use expost_model::Diagnostics;
use expost_sim::engine::SimConfig;
use expost_sim::metrics::Prices;
use std::path::PathBuf;

/// Settings shared by every simulation of a study.
#[derive(Debug, Clone)]
pub struct SimSettings {
    /// A profiling run folder or a TOML profile.
    pub profile: PathBuf,
    /// Simulated hours.
    pub hours: f64,
    /// Nodes ready at the start.
    pub nodes: u32,
    /// Most instances at once.
    pub max_instances: u32,
    /// Nodes per pipeline (`None`: the profile's, else 16).
    pub pipeline_depth: Option<u32>,
    /// Seconds a new node prepares.
    pub prep_s: f64,
    /// Redundant: iteration slowdown of redundant computation.
    pub redundancy_overhead: f64,
    /// Redundant: slowdown factor while a pipeline runs with a lost stage.
    pub degraded_slowdown: f64,
    /// Spot price per node-hour, $.
    pub spot_price: f64,
    /// On-demand price per node-hour, $.
    pub on_demand_price: f64,
    /// Use the profile's times rounded to whole seconds, as the notebook does.
    pub rounded: bool,
}

/// The pipeline depth that stands in for the profile's before it is read:
/// 1 divides every world size, so a check that fails with it fails with
/// any depth.
const STAND_IN_DEPTH: u32 = 1;

/// The pipeline depth when neither the options nor the profile give one.
const DEFAULT_DEPTH: u32 = 16;

impl SimSettings {
    /// The base configuration, with `profile_depth` when no depth was
    /// asked (else 16).
    pub fn config(&self, profile_depth: Option<u32>) -> SimConfig {
        SimConfig {
            duration_s: self.hours * 3600.0,
            initial_nodes: self.nodes,
            max_instances: self.max_instances,
            pipeline_depth: self
                .pipeline_depth
                .or(profile_depth)
                .unwrap_or(DEFAULT_DEPTH),
            prep_s: self.prep_s,
            redundancy_overhead: self.redundancy_overhead,
            degraded_slowdown: self.degraded_slowdown,
            prices: Prices {
                spot: self.spot_price,
                on_demand: self.on_demand_price,
            },
            ..SimConfig::default()
        }
    }

    /// The base configuration as far as it is known before the profile is
    /// read (for the option checks).
    pub fn config_unread(&self) -> SimConfig {
        self.config(Some(STAND_IN_DEPTH))
    }

    /// Reads the profile (rounded when asked); its notes go to `diags`.
    ///
    /// # Errors
    /// [`StudyError::Input`] when it cannot be read.
    pub fn load(&self, diags: &mut Diagnostics) -> Result<Profile, StudyError> {
        let profile = expost_formats::profile::read(&self.profile, diags)
            .map_err(|e| StudyError::Input(e.to_string()))?;
        Ok(if self.rounded {
            profile.rounded()
        } else {
            profile
        })
    }
}
