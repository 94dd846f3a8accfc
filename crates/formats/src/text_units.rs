//! iperf3's human-readable quantities: `1.19 MBytes`, `100 Mbits/sec`.
//!
//! iperf3 prints byte amounts with base 1024 (`K` = 1024 bytes) and bit rates
//! with base 1000 (`K` = 1000 bits/s), as its `unit_snprintf` does: upper-case
//! formats are bytes in powers of 1024, lower-case are bits in powers of 1000.

/// Reads an amount of bytes from a number and its unit (`KBytes`, `MBytes`, …).
pub(crate) fn bytes(number: &str, unit: &str) -> Option<f64> {
    let value: f64 = number.parse().ok()?;
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
    let value: f64 = number.parse().ok()?;
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
}
