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
}
