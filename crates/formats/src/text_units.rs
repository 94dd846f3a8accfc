//! iperf3's human-readable quantities: `1.19 MBytes`, `100 Mbits/sec`.
//!
//! iperf3 prints byte amounts with base 1024 (`K` = 1024 bytes) and bit rates
//! with base 1000 (`K` = 1000 bits/s), as its `unit_snprintf` does: upper-case
//! formats are bytes in powers of 1024, lower-case are bits in powers of 1000.

/// Reads a decimal number as `str::parse::<f64>` does, to the same bit.
///
/// Plain decimals (`123`, `0.10`, `1606412345.123456`) whose digits fit
/// in 53 bits are converted exactly as the standard library's fast path
/// does (an exact integer divided by an exact power of ten: one correctly
/// rounded operation); anything else (signs, exponents, `inf`, long
/// mantissas) goes to `str::parse`.
pub(crate) fn decimal(text: &str) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let bytes = text.as_bytes();
    let mut mantissa = 0u64;
    let mut digits = 0usize;
    let mut fraction: Option<usize> = None;
    for &b in bytes {
        match b {
            b'0'..=b'9' if digits < 19 => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
                if let Some(f) = fraction.as_mut() {
                    *f += 1;
                }
            }
            b'.' if fraction.is_none() && digits > 0 => fraction = Some(0),
            _ => return text.parse().ok(),
        }
    }
    let scale = fraction.unwrap_or(0);
    if digits == 0 || fraction == Some(0) || mantissa > 1 << 53 || scale >= POW10.len() {
        return text.parse().ok();
    }
    Some(mantissa as f64 / POW10[scale])
}

/// Reads an amount of bytes from a number and its unit (`KBytes`, `MBytes`, …).
pub(crate) fn bytes(number: &str, unit: &str) -> Option<f64> {
    let value: f64 = decimal(number)?;
    let scale = match unit {
        "Bytes" | "B" => 1.0,
        "KBytes" | "KB" => 1024.0,
        "MBytes" | "MB" => 1024.0 * 1024.0,
        "GBytes" | "GB" => 1024.0 * 1024.0 * 1024.0,
        "TBytes" | "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(value * scale)
}

/// Reads a rate in bits per second from a number and its unit
/// (`Mbits/sec`, or a bytes-per-second unit when iperf3 ran with `-f K`).
pub(crate) fn bits_per_second(number: &str, unit: &str) -> Option<f64> {
    let value: f64 = decimal(number)?;
    let per_sec = unit.strip_suffix("/sec")?;
    let scale = match per_sec {
        "bits" => 1.0,
        "Kbits" => 1e3,
        "Mbits" => 1e6,
        "Gbits" => 1e9,
        "Tbits" => 1e12,
        bytes_unit => return bytes(number, bytes_unit).map(|b| b * 8.0),
    };
    Some(value * scale)
}

/// True when `unit` is a byte unit iperf3 prints (`Bytes`, `KBytes`, …).
pub(crate) fn is_bytes_unit(unit: &str) -> bool {
    matches!(unit, "Bytes" | "KBytes" | "MBytes" | "GBytes" | "TBytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_base_1024_and_bits_base_1000() {
        assert_eq!(bytes("1.5", "KBytes"), Some(1536.0));
        assert_eq!(bytes("2", "MBytes"), Some(2.0 * 1048576.0));
        assert_eq!(bits_per_second("100", "Mbits/sec"), Some(1e8));
        assert_eq!(bits_per_second("1", "KBytes/sec"), Some(8192.0));
        assert_eq!(bits_per_second("1", "Mbits"), None);
        assert_eq!(bytes("x", "KBytes"), None);
    }

    #[test]
    fn decimal_matches_the_standard_parser_bit_for_bit() {
        let cases = [
            "0",
            "0.00",
            "0.10",
            "19.9",
            "243",
            "1606412345.123456",
            "1795435855.365772",
            "9007199254740993",
            "0.1234567890123456789",
            "12345678901234567890",
            "1.",
            ".5",
            "-1",
            "1e3",
            "inf",
            "nan",
            "",
            ".",
            "1.2.3",
            "00012.50",
            "4503599627370497.5",
        ];
        for case in cases {
            let ours = decimal(case).map(f64::to_bits);
            let std = case.parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(ours, std, "{case:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decimal_matches_the_standard_parser_on_plain_decimals(
            whole in 0u64..100_000_000_000, frac in 0u64..10_000_000, width in 0usize..8,
        ) {
            let text = if width == 0 {
                whole.to_string()
            } else {
                format!("{whole}.{frac:0width$}")
            };
            let text = &text[..text.len().min(whole.to_string().len() + 1 + width)];
            proptest::prop_assert_eq!(
                decimal(text).map(f64::to_bits),
                text.parse::<f64>().ok().map(f64::to_bits),
                "{}", text
            );
        }
    }
}
