//! The notebook's preemption generator (`--model minute` and `tick`): its
//! parameters fitted to traces, given on the command line, or both (a
//! given value replaces the fitted one), always said in the output.

use expost_sim::model::MinuteParams;
use serde::Serialize;
use std::path::PathBuf;

/// The generator settings given on the command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GivenGenerator {
    /// The node-count trace the notebook takes additions from.
    pub add_trace: Option<PathBuf>,
    /// The terminate trace the notebook takes preemption bursts from.
    pub remove_trace: Option<PathBuf>,
    /// Chance of a preemption burst per minute.
    pub remove_chance: Option<f64>,
    /// Burst size: mean and standard deviation (nodes).
    pub remove_burst: Option<(f64, f64)>,
    /// Chance of an addition per minute.
    pub add_chance: Option<f64>,
    /// Regular addition size: mean and standard deviation (nodes).
    pub add_burst: Option<(f64, f64)>,
    /// Chance that an addition is big (11–31 nodes).
    pub big_add_chance: Option<f64>,
}

/// The parameters a simulation ran with, and where each came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generator {
    /// The parameters.
    pub params: MinuteParams,
    /// Where they come from, in words.
    pub source: String,
}

impl GivenGenerator {
    /// Whether every parameter but the big-addition chance is given (then
    /// no trace is needed).
    pub fn all_given(&self) -> bool {
        self.remove_chance.is_some()
            && self.remove_burst.is_some()
            && self.add_chance.is_some()
            && self.add_burst.is_some()
    }

    /// Whether any generator option is set.
    pub fn any(&self) -> bool {
        *self != GivenGenerator::default()
    }

    /// The checks that need no input.
    ///
    /// # Errors
    /// An option out of range, or traces given in a way that cannot be fitted.
    pub fn check(&self, trace_given: bool) -> Result<(), String> {
        for (name, chance) in [
            ("--remove-chance", self.remove_chance),
            ("--add-chance", self.add_chance),
            ("--big-add-chance", self.big_add_chance),
        ] {
            if chance.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
                return Err(format!("{name} must be a chance from 0 to 1"));
            }
        }
        for (name, burst) in [
            ("--remove-burst", self.remove_burst),
            ("--add-burst", self.add_burst),
        ] {
            if burst.is_some_and(|(m, s)| !(m.is_finite() && m >= 0.0 && s.is_finite() && s >= 0.0))
            {
                return Err(format!(
                    "{name} MEAN:STD must be a mean ≥ 0 and a standard deviation ≥ 0 (nodes)"
                ));
            }
        }
        match (&self.add_trace, &self.remove_trace) {
            (Some(_), None) | (None, Some(_)) => Err(
                "--add-trace and --remove-trace go together (the notebook fits additions to the node trace and preemptions to the terminate trace)"
                    .into(),
            ),
            (Some(_), Some(_)) if trace_given => {
                Err("give either --trace or --add-trace with --remove-trace, not both".into())
            }
            (None, None) if !trace_given && !self.all_given() => Err(
                "the generator needs --trace, or --add-trace with --remove-trace, or all of --remove-chance, --remove-burst, --add-chance and --add-burst"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    /// The parameters: `fitted` (with what they were fitted to), each
    /// given value replacing its fitted one; the big-addition chance given,
    /// else `big_default` (`None`: the fitted share).
    ///
    /// # Errors
    /// A parameter neither fitted nor given (see [`GivenGenerator::check`]).
    pub fn resolve(
        &self,
        fitted: Option<(MinuteParams, String)>,
        big_default: Option<f64>,
    ) -> Result<Generator, String> {
        let (base, fitted_to) = match fitted {
            Some((params, to)) => (Some(params), Some(to)),
            None => (None, None),
        };
        let pick = |given: Option<f64>, fit: Option<f64>, name: &str| {
            given
                .or(fit)
                .ok_or_else(|| format!("{name} is neither given nor fitted"))
        };
        let (remove_mean, remove_std) = match self.remove_burst {
            Some(b) => b,
            None => base
                .map(|b| (b.preempt_mean, b.preempt_std))
                .ok_or("--remove-burst is neither given nor fitted")?,
        };
        let (add_mean, add_std) = match self.add_burst {
            Some(b) => b,
            None => base
                .map(|b| (b.add_mean, b.add_std))
                .ok_or("--add-burst is neither given nor fitted")?,
        };
        let params = MinuteParams {
            period_s: 60.0,
            preempt_chance: pick(
                self.remove_chance,
                base.map(|b| b.preempt_chance),
                "--remove-chance",
            )?,
            preempt_mean: remove_mean,
            preempt_std: remove_std,
            add_chance: pick(self.add_chance, base.map(|b| b.add_chance), "--add-chance")?,
            big_add_chance: pick(
                self.big_add_chance,
                big_default.or(base.map(|b| b.big_add_chance)),
                "--big-add-chance",
            )?,
            add_mean,
            add_std,
        };
        Ok(Generator {
            params,
            source: self.describe(fitted_to.as_deref(), big_default),
        })
    }

    /// Where the parameters come from, in words.
    fn describe(&self, fitted_to: Option<&str>, big_default: Option<f64>) -> String {
        let given: Vec<&str> = [
            ("--remove-chance", self.remove_chance.is_some()),
            ("--remove-burst", self.remove_burst.is_some()),
            ("--add-chance", self.add_chance.is_some()),
            ("--add-burst", self.add_burst.is_some()),
            ("--big-add-chance", self.big_add_chance.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        let mut parts = Vec::new();
        if let Some(to) = fitted_to {
            parts.push(format!("fitted to {to}"));
        }
        if !given.is_empty() {
            parts.push(format!("given: {}", given.join(", ")));
        }
        if let (None, Some(big)) = (self.big_add_chance, big_default) {
            parts.push(format!(
                "big-addition chance {big} (the notebook's simulation)"
            ));
        }
        parts.join("; ")
    }
}

/// Parses `MEAN:STD` (`--remove-burst 2.4:2.1`).
///
/// # Errors
/// When it is not two numbers separated by a colon.
pub fn parse_burst(text: &str) -> Result<(f64, f64), String> {
    let (mean, std) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not MEAN:STD (e.g. 2.4:2.1)"))?;
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| format!("{text:?} is not MEAN:STD: {s:?} is not a number"))
    };
    Ok((number(mean)?, number(std)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fitted() -> MinuteParams {
        MinuteParams {
            period_s: 60.0,
            preempt_chance: 0.16,
            preempt_mean: 2.4,
            preempt_std: 2.1,
            add_chance: 0.14,
            big_add_chance: 0.06,
            add_mean: 2.5,
            add_std: 1.9,
        }
    }

    #[test]
    fn given_values_replace_fitted_ones_and_the_source_says_which() {
        let given = GivenGenerator {
            remove_chance: Some(0.3),
            add_burst: Some((4.0, 1.0)),
            ..GivenGenerator::default()
        };
        let g = given
            .resolve(Some((fitted(), "a.csv and b.csv".into())), Some(0.05))
            .unwrap();
        assert_eq!(g.params.preempt_chance, 0.3);
        assert_eq!(g.params.preempt_mean, 2.4);
        assert_eq!((g.params.add_mean, g.params.add_std), (4.0, 1.0));
        assert_eq!(g.params.big_add_chance, 0.05);
        assert_eq!(
            g.source,
            "fitted to a.csv and b.csv; given: --remove-chance, --add-burst; big-addition chance 0.05 (the notebook's simulation)"
        );
        // The minute model keeps the fitted share of big additions.
        let g = given.resolve(Some((fitted(), "t".into())), None).unwrap();
        assert_eq!(g.params.big_add_chance, 0.06);
    }

    #[test]
    fn without_a_trace_every_parameter_must_be_given() {
        let mut given = GivenGenerator {
            remove_chance: Some(0.3),
            remove_burst: Some((2.0, 1.0)),
            add_chance: Some(0.1),
            ..GivenGenerator::default()
        };
        assert!(given.check(false).unwrap_err().contains("needs --trace"));
        given.add_burst = Some((2.0, 1.0));
        assert!(given.check(false).is_ok());
        let g = given.resolve(None, Some(0.05)).unwrap();
        assert_eq!(g.params.add_chance, 0.1);
        assert!(g.source.starts_with("given: --remove-chance"));
    }

    #[test]
    fn bad_values_and_half_given_traces_are_refused() {
        let half = GivenGenerator {
            add_trace: Some("n.csv".into()),
            ..GivenGenerator::default()
        };
        assert!(half.check(false).unwrap_err().contains("go together"));
        let bad = GivenGenerator {
            remove_chance: Some(1.5),
            ..GivenGenerator::default()
        };
        assert!(bad.check(true).unwrap_err().contains("--remove-chance"));
        assert_eq!(parse_burst("2.4:2.1"), Ok((2.4, 2.1)));
        assert!(parse_burst("2.4").is_err());
        assert!(parse_burst("a:1").is_err());
    }
}
