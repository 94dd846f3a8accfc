//! Range checks of numeric options, made before any work: a value out of
//! range (NaN, infinite, negative, absurdly large) is a usage error (exit 2)
//! naming the allowed range, never a panic or a run that does not end.

/// Checks that `value` of option `name` is a finite number in `[min, max]`
/// (`(min, max]` when `min_open`), in `unit`.
pub fn real(
    name: &str,
    value: f64,
    min: f64,
    min_open: bool,
    max: f64,
    unit: &str,
) -> Result<f64, String> {
    let above = if min_open { value > min } else { value >= min };
    if value.is_finite() && above && value <= max {
        return Ok(value);
    }
    let low = if min_open { "above" } else { "from" };
    Err(format!(
        "{name} {value:?} is out of range: expected {unit} {low} {min} up to {max}"
    ))
}

/// Checks that whole-number option `name` lies in `[min, max]`.
pub fn whole<T: Into<u64> + Copy>(
    name: &str,
    value: T,
    min: u64,
    max: u64,
    unit: &str,
) -> Result<T, String> {
    let v: u64 = value.into();
    if (min..=max).contains(&v) {
        return Ok(value);
    }
    Err(format!(
        "{name} {v} is out of range: expected {unit} from {min} up to {max}"
    ))
}

/// [`whole`] for a `usize` option.
pub fn whole_usize(
    name: &str,
    value: usize,
    min: u64,
    max: u64,
    unit: &str,
) -> Result<usize, String> {
    let v = u64::try_from(value).unwrap_or(u64::MAX);
    whole(name, v, min, max, unit).map(|_| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_values_name_the_range() {
        assert_eq!(real("--bin", 0.1, 0.0, true, 3600.0, "seconds"), Ok(0.1));
        assert_eq!(
            real("--bin", f64::NAN, 0.0, true, 3600.0, "seconds").unwrap_err(),
            "--bin NaN is out of range: expected seconds above 0 up to 3600"
        );
        assert!(real("--rate", 1e308, 0.0, false, 100.0, "per node-hour").is_err());
        assert_eq!(whole("--seeds", 3u32, 1, 10, "seeds"), Ok(3));
        assert!(whole_usize("--rolling", usize::MAX, 1, 100_000, "epochs").is_err());
    }
}
