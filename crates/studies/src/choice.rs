//! What a study's figures draw, as chosen on the command line and in study
//! files: `--only PARAM=V1,V2` (only runs with one of those values) and
//! `--label PARAM=VALUE:TEXT` (a legend entry's text).

/// A legend entry given for a configuration (`--label PARAM=VALUE:TEXT`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigLabel {
    /// The parameter.
    pub param: String,
    /// Its value.
    pub value: String,
    /// The legend text.
    pub text: String,
}

impl std::str::FromStr for ConfigLabel {
    type Err = String;

    /// `PARAM=VALUE:TEXT`, e.g. `config=001:1 ms poll`.
    fn from_str(given: &str) -> Result<ConfigLabel, String> {
        let bad = || format!("{given:?}: expected PARAM=VALUE:TEXT (e.g. config=001:1 ms poll)");
        let (param, rest) = given.split_once('=').ok_or_else(bad)?;
        let (value, text) = rest.split_once(':').ok_or_else(bad)?;
        if param.trim().is_empty() || value.trim().is_empty() || text.trim().is_empty() {
            return Err(bad());
        }
        Ok(ConfigLabel {
            param: param.trim().to_string(),
            value: value.trim().to_string(),
            text: text.trim().to_string(),
        })
    }
}

/// `--only`'s `PARAM=V1,V2`: the parameter and its values, none empty.
///
/// # Errors
/// A message quoting `given` and the expected form.
pub fn parse_only(given: &str) -> Result<(String, Vec<String>), String> {
    let bad = || format!("{given:?}: expected PARAM=V1,V2 (e.g. config=020,050)");
    let (param, values) = given.split_once('=').ok_or_else(bad)?;
    let values: Vec<String> = values
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    if param.trim().is_empty() || values.is_empty() {
        return Err(bad());
    }
    Ok((param.trim().to_string(), values))
}

/// Every `--only` given, read by [`parse_only`].
///
/// # Errors
/// The first bad one's message, naming the option.
pub fn parse_onlys(given: &[String]) -> Result<Vec<(String, Vec<String>)>, String> {
    (given.iter())
        .map(|g| parse_only(g).map_err(|e| format!("--only {e}")))
        .collect()
}

/// Every `--label` given, as [`ConfigLabel`]s.
///
/// # Errors
/// The first bad one's message, naming the option.
pub fn parse_labels(given: &[String]) -> Result<Vec<ConfigLabel>, String> {
    (given.iter())
        .map(|l| l.parse().map_err(|e| format!("--label {e}")))
        .collect()
}

/// `--trials`' names, none empty.
///
/// # Errors
/// A message when a trial is empty.
pub fn parse_trials(given: &[String]) -> Result<Vec<String>, String> {
    given
        .iter()
        .map(|t| match t.trim() {
            "" => Err("--trials: a trial is empty (e.g. --trials 1,2)".to_string()),
            t => Ok(t.to_string()),
        })
        .collect()
}

/// What `--only` and `--label` choose for the figures of a study whose
/// lines stand for a fixed set of parameters (the sweep's strategy,
/// interval and rate; the traces' trace; the provisioning's phase).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FigureChoice {
    /// Only items with one of these values of each parameter are drawn.
    pub only: Vec<(String, Vec<String>)>,
    /// Legend texts.
    pub labels: Vec<ConfigLabel>,
}

impl FigureChoice {
    /// Reads `--only` and `--label`, whose parameters must be among
    /// `params` (a study with a fixed set of them, named in the error).
    ///
    /// # Errors
    /// A bad form, or a parameter the study's figures do not have.
    pub fn parse(only: &[String], labels: &[String], params: &[&str]) -> Result<Self, String> {
        let choice = FigureChoice::parse_any(only, labels)?;
        let named = (choice.only.iter().map(|(p, _)| ("--only", p)))
            .chain(choice.labels.iter().map(|l| ("--label", &l.param)));
        for (option, param) in named {
            if !params.contains(&param.as_str()) {
                return Err(format!(
                    "{option} {param}=…: these figures are chosen by {}, not {param:?}",
                    params.join(" or ")
                ));
            }
        }
        Ok(choice)
    }

    /// Reads `--only` and `--label` of any parameters (those a path
    /// pattern names, known once runs are found).
    ///
    /// # Errors
    /// A bad form.
    pub fn parse_any(only: &[String], labels: &[String]) -> Result<Self, String> {
        Ok(FigureChoice {
            only: parse_onlys(only)?,
            labels: parse_labels(labels)?,
        })
    }

    /// Whether nothing is chosen (every item drawn, default labels).
    pub fn is_empty(&self) -> bool {
        self.only.is_empty() && self.labels.is_empty()
    }

    /// Whether an item is drawn: for each `--only`, `has(param, value)` for
    /// one of its values.
    pub fn keeps(&self, has: impl Fn(&str, &str) -> bool) -> bool {
        (self.only.iter()).all(|(param, values)| values.iter().any(|v| has(param, v)))
    }

    /// The text of the first `--label` of `param` whose value the item has.
    pub fn label(&self, param: &str, has: impl Fn(&str) -> bool) -> Option<&str> {
        (self.labels.iter())
            .find(|l| l.param == param && has(&l.value))
            .map(|l| l.text.as_str())
    }

    /// The text of the first `--label` (of any parameter) whose
    /// `param=value` the item has.
    pub fn label_of(&self, has: impl Fn(&str, &str) -> bool) -> Option<&str> {
        (self.labels.iter())
            .find(|l| has(&l.param, &l.value))
            .map(|l| l.text.as_str())
    }

    /// What `--only` and `--label` name that no item has (`has(param,
    /// value)` over every item), one message each, saying `no {noun} has it`.
    pub fn unmatched(&self, has: impl Fn(&str, &str) -> bool, noun: &str) -> Vec<String> {
        let mut said = self.unmatched_only(&has, noun);
        for l in self.labels.iter().filter(|l| !has(&l.param, &l.value)) {
            said.push(format!(
                "--label {}={}: no {noun} has it; the label is not used",
                l.param, l.value
            ));
        }
        said
    }

    /// What `--only` names that no item has, one message each.
    pub fn unmatched_only(&self, has: impl Fn(&str, &str) -> bool, noun: &str) -> Vec<String> {
        let mut said = Vec::new();
        for (param, values) in &self.only {
            for value in values.iter().filter(|v| !has(param, v)) {
                said.push(format!("--only {param}={value}: no {noun} has it"));
            }
        }
        said
    }
}

/// Whether a value given on the command line names `number` (`600` and
/// `600.0` both name 600).
pub fn names_number(given: &str, number: f64) -> bool {
    given.trim().parse::<f64>().is_ok_and(|g| g == number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_and_labels_are_read_and_bad_ones_said() {
        assert_eq!(
            parse_only(" config = 020, 050 ,").unwrap(),
            (
                "config".to_string(),
                vec!["020".to_string(), "050".to_string()]
            )
        );
        assert!(parse_only("config").unwrap_err().contains("PARAM=V1,V2"));
        assert!(parse_only("=1").is_err() && parse_only("a=,").is_err());
        let label: ConfigLabel = "config=001: 1 ms poll".parse().unwrap();
        assert_eq!(
            (
                label.param.as_str(),
                label.value.as_str(),
                label.text.as_str()
            ),
            ("config", "001", "1 ms poll")
        );
        assert!("config=001".parse::<ConfigLabel>().is_err());
    }

    #[test]
    fn a_figure_choice_keeps_labels_and_says_what_names_nothing() {
        let only = ["strategy=redundant,reconfigure".to_string()];
        let labels = ["strategy=redundant:Bamboo".to_string()];
        let choice = FigureChoice::parse(&only, &labels, &["strategy", "rate"]).unwrap();
        let item =
            |strategy: &'static str| move |p: &str, v: &str| p == "strategy" && v == strategy;
        assert!(choice.keeps(item("redundant")) && !choice.keeps(item("checkpoint-restart")));
        assert_eq!(
            choice.label("strategy", |v| v == "redundant"),
            Some("Bamboo")
        );
        assert_eq!(choice.label("rate", |_| true), None);
        let said = choice.unmatched(|_, v| v == "redundant", "grid point");
        assert_eq!(
            said,
            ["--only strategy=reconfigure: no grid point has it".to_string()]
        );
        let err = FigureChoice::parse(&["strat=x".into()], &[], &["strategy", "rate"]);
        assert!(err.unwrap_err().contains("strategy or rate, not \"strat\""));
        assert!(names_number(" 600.0", 600.0) && !names_number("auto", 600.0));
    }
}
