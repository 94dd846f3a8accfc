//! What every campaign of runs shares: runs that differ only by their
//! trial form a configuration, ordered by their parameters (numbers
//! numerically).

use expost_model::Params;
use std::collections::BTreeMap;

/// A configuration's key: its parameters, each with its sort key.
type ConfigKey = Vec<(String, SortKey)>;

/// Groups runs, given as `(index, parameters, trial)`, into configurations:
/// the indexes of the runs sharing every parameter, ordered by trial, the
/// configurations ordered by their parameters.
pub fn configurations<'a>(
    runs: impl IntoIterator<Item = (usize, &'a Params, &'a str)>,
) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<ConfigKey, Vec<(SortKey, usize)>> = BTreeMap::new();
    for (index, params, trial) in runs {
        let key = params
            .iter()
            .map(|(k, v)| (k.clone(), SortKey::of(v)))
            .collect();
        groups
            .entry(key)
            .or_default()
            .push((SortKey::of(trial), index));
    }
    groups
        .into_values()
        .map(|mut members| {
            members.sort_by(|a, b| a.0.cmp(&b.0));
            members.into_iter().map(|(_, index)| index).collect()
        })
        .collect()
}

/// Orders parameter values numerically when both are numbers ("020" < "100"),
/// else as text.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    /// A number, with its text to tell "020" from "20".
    Number(f64, String),
    /// Anything else.
    Text(String),
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (SortKey::Number(a, sa), SortKey::Number(b, sb)) => {
                a.total_cmp(b).then_with(|| sa.cmp(sb))
            }
            (SortKey::Number(..), SortKey::Text(_)) => Ordering::Less,
            (SortKey::Text(_), SortKey::Number(..)) => Ordering::Greater,
            (SortKey::Text(a), SortKey::Text(b)) => a.cmp(b),
        }
    }
}

impl SortKey {
    /// The key of a parameter value.
    pub fn of(value: &str) -> SortKey {
        match value.parse::<f64>() {
            Ok(n) if n.is_finite() => SortKey::Number(n, value.to_string()),
            _ => SortKey::Text(value.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_params_sort_numerically() {
        let mut keys = vec![
            SortKey::of("100"),
            SortKey::of("020"),
            SortKey::of("abc"),
            SortKey::of("5"),
        ];
        keys.sort();
        let texts: Vec<String> = keys
            .into_iter()
            .map(|k| match k {
                SortKey::Number(_, s) | SortKey::Text(s) => s,
            })
            .collect();
        assert_eq!(texts, ["5", "020", "100", "abc"]);
    }

    #[test]
    fn runs_differing_only_by_trial_form_a_configuration() {
        let p = |v: &str| Params::from([("rate".to_string(), v.to_string())]);
        let (a, b) = (p("100"), p("20"));
        let runs = [(0, &a, "2"), (1, &b, "1"), (2, &a, "10"), (3, &a, "1")];
        assert_eq!(configurations(runs), vec![vec![1], vec![3, 0, 2]]);
    }
}
