//! Every numeric option of every study command is checked before any work:
//! whatever text is given, the command never panics (exit 101) and a value
//! outside the option's range is a usage error (exit 2).

mod common;

use common::expost;
use proptest::prelude::*;

/// The range an option accepts: `(min, min_open, max)`.
type Range = (f64, bool, f64);

/// A command line that reaches the option checks with an input that does
/// not exist, so an accepted value ends in exit 1 (input missing) and
/// nothing runs.
fn base(command: &str) -> Vec<&'static str> {
    match command {
        "failover" => vec!["failover", "/nonexistent-campaign"],
        "iperf3" => vec!["iperf3", "/nonexistent-campaign"],
        "ombt" => vec!["ombt", "/nonexistent-campaign"],
        "provision" => vec!["provision", "--from", "/nonexistent-export.jsonl"],
        "simulate" => vec!["simulate", "--profile", "/nonexistent-profile"],
        "sweep" => vec!["sweep", "--profile", "/nonexistent-profile"],
        other => panic!("no base command line for {other}"),
    }
}

/// Real-valued options and their ranges.
const REAL: &[(&str, &str, Range)] = &[
    ("failover", "--bin", (0.001, false, 3600.0)),
    ("failover", "--tcp-threshold", (0.0, true, 0.999)),
    ("failover", "--text-utc-offset", (-24.0, false, 24.0)),
    ("iperf3", "--bin", (0.001, false, 3600.0)),
    ("ombt", "--timeout", (0.0, true, 86_400.0)),
    ("provision", "--timeout", (0.0, true, 86_400.0)),
    ("provision", "--straggler-mads", (0.0, true, 1000.0)),
    ("simulate", "--hours", (0.0, true, 100_000.0)),
    ("simulate", "--prep", (0.0, false, 86_400.0)),
    ("simulate", "--redundancy-overhead", (0.0, false, 100.0)),
    ("simulate", "--degraded-slowdown", (0.0, true, 1000.0)),
    ("simulate", "--spot-price", (0.0, false, 1e6)),
    ("simulate", "--on-demand-price", (0.0, false, 1e6)),
    ("simulate", "--rate", (0.0, false, 100.0)),
    (
        "simulate",
        "--replace-delay",
        (0.0, false, 86_400.0 * 365.0),
    ),
    ("simulate", "--offset", (0.0, false, 1e9)),
    ("simulate", "--time-scale", (0.0, true, 1e6)),
    ("simulate", "--checkpoint-interval", (0.0, false, 1e7)),
    ("sweep", "--hours", (0.0, true, 100_000.0)),
    ("sweep", "--rates", (0.0, false, 100.0)),
    ("sweep", "--intervals", (0.0, false, 1e7)),
    ("sweep", "--replace-delay", (0.0, false, 86_400.0 * 365.0)),
];

/// Whole-number options and their ranges.
const WHOLE: &[(&str, &str, u64, u64)] = &[
    ("failover", "--rolling", 1, 100_000),
    ("provision", "--attempts", 1, 100),
    ("provision", "--concurrency", 1, 1024),
    ("simulate", "--nodes", 0, 100_000),
    ("simulate", "--max-instances", 1, 100_000),
    ("simulate", "--pipeline-depth", 1, 100_000),
    ("simulate", "--seed", 0, u64::MAX),
    ("sweep", "--seeds", 1, 100_000),
    ("sweep", "--seed", 0, u64::MAX),
];

fn in_range(value: f64, (min, min_open, max): Range) -> bool {
    let above = if min_open { value > min } else { value >= min };
    value.is_finite() && above && value <= max
}

/// Runs `command option text` and returns its exit code.
fn exit_code(command: &str, option: &str, text: &str) -> i32 {
    let mut args = base(command);
    args.push(option);
    args.push(text);
    let out = expost(&args);
    let code = out.status.code().expect("exited, not killed");
    assert_ne!(
        code,
        101,
        "{args:?} panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    code
}

fn any_real() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(1e-300),
        Just(1e308),
        Just(-1.0),
        Just(0.0),
        any::<f64>(),
        -2000.0..2000.0f64,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn real_options_never_panic_and_reject_out_of_range_values_with_exit_2(value in any_real()) {
        for (command, option, range) in REAL {
            let code = exit_code(command, option, &value.to_string());
            if !in_range(value, *range) {
                prop_assert_eq!(code, 2, "{} {} {}", command, option, value);
            }
        }
    }

    #[test]
    fn whole_options_never_panic_and_reject_out_of_range_values_with_exit_2(
        value in prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>(), 0..200u64],
        negative in any::<bool>(),
    ) {
        for (command, option, min, max) in WHOLE {
            let text = if negative { format!("-{value}") } else { value.to_string() };
            let code = exit_code(command, option, &text);
            if negative && value > 0 || !(*min..=*max).contains(&value) {
                prop_assert_eq!(code, 2, "{} {} {}", command, option, text);
            }
        }
    }
}

#[test]
fn the_values_that_used_to_panic_or_hang_are_usage_errors() {
    assert_eq!(
        exit_code("failover", "--rolling", "18446744073709551615"),
        2
    );
    assert_eq!(exit_code("failover", "--tcp-threshold", "NaN"), 2);
    assert_eq!(exit_code("failover", "--bin", "-1"), 2);
    assert_eq!(exit_code("failover", "--bin", "1e-300"), 2);
    assert_eq!(exit_code("simulate", "--rate", "1e308"), 2);
    // An accepted value reaches the input, which is missing: exit 1.
    assert_eq!(exit_code("failover", "--bin", "0.5"), 1);
}
