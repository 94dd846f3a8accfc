//! iperf3 human-readable output, client or server side, TCP or UDP.
//!
//! Each line may carry a time prefix: none; an epoch float as moreutils
//! `ts %.s` writes it (`1606412345.123456 [  5] …`); or iperf3's own
//! `--timestamps` prefix, by default `%c` (`Mon Nov 23 11:50:12 2026 `, whole
//! seconds) or a custom strftime format. Calendar prefixes carry no zone;
//! they are read as UTC shifted by [`TextOptions::utc_offset_s`].
//!
//! A file may hold several tests (a server without `-1`); each
//! `Server listening` or `Connecting to host` line starts a new one.

use crate::text_units;
use crate::ParseError;
use chrono::NaiveDateTime;
use expost_model::{Diagnostics, Severity};
use std::io::BufRead;

/// How to read calendar time prefixes.
#[derive(Debug, Clone, Default)]
pub struct TextOptions {
    /// The strftime format of `--timestamps=FORMAT`, when it is none of the
    /// usual ones (`%c`, `%Y-%m-%d %H:%M:%S`, ISO 8601).
    pub timestamp_format: Option<String>,
    /// The zone of calendar prefixes, seconds east of UTC (iperf3 prints local time).
    pub utc_offset_s: f64,
}

/// What kind of time prefix the lines carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StampKind {
    /// No prefix.
    None,
    /// An epoch float (`ts %.s`).
    Epoch,
    /// A calendar time (`--timestamps`); `resolution` in seconds (1 for whole seconds).
    Calendar {
        /// The smallest step the prefix can show, seconds.
        resolution: f64,
    },
}

/// Which stream a line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamId {
    /// One stream, by its socket number.
    Socket(u32),
    /// The `[SUM]` over parallel streams.
    Sum,
}

/// Which side measured a summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `sender`.
    Sender,
    /// `receiver`.
    Receiver,
}

/// One interval or summary line.
#[derive(Debug, Clone, PartialEq)]
pub struct TextInterval {
    /// 1-based line number in the file.
    pub line: u64,
    /// The line's time prefix, UTC epoch seconds, if it had one.
    pub stamp: Option<f64>,
    /// The stream reported.
    pub stream: StreamId,
    /// Interval start, seconds since the test started.
    pub start: f64,
    /// Interval end, seconds since the test started.
    pub end: f64,
    /// Bytes transferred (to iperf3's three significant digits).
    pub bytes: f64,
    /// Rate, bits per second (three significant digits).
    pub bits_per_second: f64,
    /// UDP receiver: jitter, milliseconds.
    pub jitter_ms: Option<f64>,
    /// UDP receiver: datagrams lost.
    pub lost: Option<u64>,
    /// UDP receiver: datagrams expected (the `total` of `lost/total`).
    pub total: Option<u64>,
    /// UDP sender: datagrams sent.
    pub datagrams: Option<u64>,
    /// TCP sender: retransmissions.
    pub retransmits: Option<u64>,
    /// TCP sender: congestion window, bytes.
    pub cwnd_bytes: Option<f64>,
    /// True for an `(omitted)` warm-up interval.
    pub omitted: bool,
    /// `sender` or `receiver` on summary lines.
    pub side: Option<Side>,
}

/// One test in a text log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextTest {
    /// Line where the test's output begins.
    pub first_line: u64,
    /// `Server listening on PORT`.
    pub listening_port: Option<u16>,
    /// `Connecting to host H, port PORT` (client side).
    pub connecting_port: Option<u16>,
    /// The stamp of `Accepted connection from …` (server side), epoch seconds.
    pub accepted_stamp: Option<f64>,
    /// Remote port of the control connection (`Accepted connection from H, port P`).
    pub accepted_port: Option<u16>,
    /// Interval lines, in file order (stream and `[SUM]` lines alike).
    pub intervals: Vec<TextInterval>,
    /// Summary lines (`sender` / `receiver`, or after the `- - -` separator).
    pub summaries: Vec<TextInterval>,
    /// Error lines iperf3 printed (`iperf3: error - …`).
    pub errors: Vec<String>,
}

impl TextTest {
    /// The interval series of the test: the `[SUM]` lines when the test had
    /// parallel streams, otherwise the lines of its single stream.
    pub fn series(&self) -> Vec<&TextInterval> {
        let has_sum = self.intervals.iter().any(|i| i.stream == StreamId::Sum);
        self.intervals
            .iter()
            .filter(|i| !has_sum || i.stream == StreamId::Sum)
            .collect()
    }
}

/// A parsed text log.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLog {
    /// The kind of time prefix found.
    pub stamp_kind: StampKind,
    /// The tests, in file order.
    pub tests: Vec<TextTest>,
}

impl TextLog {
    /// The test with the most interval lines (the one a failover run is about).
    pub fn main_test(&self) -> Option<&TextTest> {
        self.tests
            .iter()
            .filter(|t| !t.intervals.is_empty())
            .max_by_key(|t| t.intervals.len())
    }
}

const CALENDAR_FORMATS: [&str; 4] = [
    "%a %b %e %H:%M:%S %Y",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
];

/// Parses an iperf3 text log, line by line.
///
/// Unrecognised lines, lines cut short at the end of the file, repeated and
/// backwards intervals, and lines with impossible values are reported and
/// skipped. Returns an error only when the file is empty or holds no line
/// iperf3 could have written.
pub fn parse(
    mut reader: impl BufRead,
    options: &TextOptions,
    diags: &mut Diagnostics,
) -> Result<TextLog, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    parse_bytes(&bytes, options, diags)
}

/// Parses an iperf3 text log already in memory; see [`parse`].
pub fn parse_bytes(
    bytes: &[u8],
    options: &TextOptions,
    diags: &mut Diagnostics,
) -> Result<TextLog, ParseError> {
    let mut parser = LineParser::new(options);
    let mut line_no = 0u64;
    let mut any_text = false;
    let mut offset = 0;
    while offset < bytes.len() {
        let (line, complete) = match memchr::memchr(b'\n', &bytes[offset..]) {
            Some(p) => (&bytes[offset..offset + p + 1], true),
            None => (&bytes[offset..], false),
        };
        offset += line.len();
        line_no += 1;
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\n', '\r']);
        any_text |= !text.trim().is_empty();
        parser.line(line_no, text, complete, diags);
    }
    if !any_text {
        return Err(ParseError::Empty);
    }
    parser.finish(diags)
}

struct LineParser<'o> {
    options: &'o TextOptions,
    known_format: Option<String>,
    stamp_kind: StampKind,
    tests: Vec<TextTest>,
    recognised: usize,
    after_separator: bool,
}

impl<'o> LineParser<'o> {
    fn new(options: &'o TextOptions) -> Self {
        LineParser {
            options,
            known_format: None,
            stamp_kind: StampKind::None,
            tests: Vec::new(),
            recognised: 0,
            after_separator: false,
        }
    }

    fn current(&mut self, line: u64) -> &mut TextTest {
        if self.tests.is_empty() {
            self.tests.push(TextTest {
                first_line: line,
                ..TextTest::default()
            });
        }
        self.tests.last_mut().expect("a test exists")
    }

    fn start_test(&mut self, line: u64) -> &mut TextTest {
        let reuse = self.tests.last().is_some_and(|t| {
            t.intervals.is_empty()
                && t.summaries.is_empty()
                && t.listening_port.is_none()
                && t.connecting_port.is_none()
        });
        if !reuse {
            self.tests.push(TextTest {
                first_line: line,
                ..TextTest::default()
            });
        }
        self.after_separator = false;
        self.tests.last_mut().expect("a test exists")
    }

    fn line(&mut self, line_no: u64, text: &str, complete: bool, diags: &mut Diagnostics) {
        if text.trim().is_empty() {
            return;
        }
        let (stamp, body) = self.strip_stamp(text);
        let body = body.trim();
        match self.classify(line_no, stamp, body) {
            Ok(true) => self.recognised += 1,
            Ok(false) if !complete => diags.warn(
                Some(line_no),
                "file ends in the middle of this line; skipped",
            ),
            Ok(false) => diags.repeated(
                Severity::Warning,
                "lines iperf3 does not write skipped",
                Some(line_no),
                format!(
                    "not a line iperf3 writes; skipped: {:?}",
                    shorten(body, 100)
                ),
            ),
            Err(_) if !complete => diags.warn(
                Some(line_no),
                "file ends in the middle of this line; skipped",
            ),
            Err(problem) => diags.repeated(
                Severity::Warning,
                "unreadable lines skipped",
                Some(line_no),
                format!("{problem}; line skipped"),
            ),
        }
    }

    /// Splits a time prefix off the line, remembering which kind it was.
    fn strip_stamp<'t>(&mut self, text: &'t str) -> (Option<f64>, &'t str) {
        if let Some((stamp, rest)) = epoch_prefix(text) {
            self.stamp_kind = StampKind::Epoch;
            return (Some(stamp), rest);
        }
        let first = text.trim_start().chars().next();
        if !first.is_some_and(|c| c.is_ascii_alphanumeric()) {
            return (None, text);
        }
        let candidates: Vec<String> = self
            .known_format
            .iter()
            .cloned()
            .chain(self.options.timestamp_format.iter().cloned())
            .chain(CALENDAR_FORMATS.iter().map(|f| f.to_string()))
            .collect();
        for format in candidates {
            if let Ok((time, rest)) = NaiveDateTime::parse_and_remainder(text.trim_start(), &format)
            {
                let epoch =
                    time.and_utc().timestamp_micros() as f64 / 1e6 - self.options.utc_offset_s;
                let resolution = if time.and_utc().timestamp_subsec_micros() != 0
                    || format.contains("%.f") && rest_has_fraction(text, rest)
                {
                    1e-6
                } else {
                    1.0
                };
                if let StampKind::Calendar { resolution: r } = self.stamp_kind {
                    self.stamp_kind = StampKind::Calendar {
                        resolution: r.min(resolution),
                    };
                } else {
                    self.stamp_kind = StampKind::Calendar { resolution };
                }
                self.known_format = Some(format);
                return (Some(epoch), rest);
            }
        }
        (None, text)
    }

    /// Reads one line body. `Ok(true)`: understood; `Ok(false)`: not an iperf3 line.
    fn classify(&mut self, line: u64, stamp: Option<f64>, body: &str) -> Result<bool, String> {
        if body.starts_with('[') {
            return self.bracket_line(line, stamp, body);
        }
        if is_separator(body) {
            if body.starts_with("- -") {
                self.after_separator = true;
            }
            return Ok(true);
        }
        if let Some(rest) = body.strip_prefix("Server listening on ") {
            let port = rest.split_whitespace().next().and_then(|p| p.parse().ok());
            self.start_test(line).listening_port = port;
            return Ok(true);
        }
        if let Some(rest) = body.strip_prefix("Connecting to host ") {
            let port = rest
                .rsplit("port ")
                .next()
                .and_then(|p| p.trim().parse().ok());
            self.start_test(line).connecting_port = port;
            return Ok(true);
        }
        if let Some(rest) = body.strip_prefix("Accepted connection from ") {
            let needs_new = self.tests.last().is_some_and(|t| !t.intervals.is_empty());
            let test = if needs_new {
                self.start_test(line)
            } else {
                self.current(line)
            };
            test.accepted_stamp = stamp;
            test.accepted_port = rest
                .rsplit("port ")
                .next()
                .and_then(|p| p.trim().parse().ok());
            return Ok(true);
        }
        if let Some(rest) = body.strip_prefix("iperf3: ") {
            if rest.starts_with("error") {
                self.current(line).errors.push(rest.to_string());
            }
            return Ok(true);
        }
        Ok(INFORMATIONAL.iter().any(|p| body.starts_with(p)))
    }

    fn bracket_line(&mut self, line: u64, stamp: Option<f64>, body: &str) -> Result<bool, String> {
        let close = body.find(']').ok_or("'[' without ']'")?;
        let id = body[1..close].trim();
        let mut rest = &body[close + 1..];
        // Bidirectional tests tag lines as `[  5][TX-C]`.
        if rest.starts_with('[') {
            rest = rest.find(']').map_or(rest, |p| &rest[p + 1..]);
        }
        if id == "ID" {
            return Ok(true);
        }
        let stream = if id == "SUM" {
            StreamId::Sum
        } else {
            StreamId::Socket(
                id.parse()
                    .map_err(|_| format!("stream id {id:?} is not a number"))?,
            )
        };
        let rest = rest.trim();
        if rest.starts_with("local ") || rest.contains("datagrams received out-of-order") {
            return Ok(true);
        }
        let interval = parse_interval(line, stamp, stream, rest)?;
        let after_separator = self.after_separator;
        let test = self.current(line);
        // With parallel streams iperf3 also prints the separator between
        // interval blocks: a line going on from the last interval is one.
        let goes_on = test.intervals.last().is_some_and(|last| {
            (interval.start - last.end).abs() < 1e-3 || (interval.start - last.start).abs() < 1e-3
        });
        let summary = interval.side.is_some() || (after_separator && !goes_on);
        if summary {
            test.summaries.push(interval);
        } else {
            test.intervals.push(interval);
        }
        Ok(true)
    }

    fn finish(mut self, diags: &mut Diagnostics) -> Result<TextLog, ParseError> {
        if self.recognised == 0 {
            return Err(ParseError::foreign(
                None,
                "no line of iperf3 text output found",
            ));
        }
        for test in &mut self.tests {
            drop_bad_intervals(test, diags);
        }
        Ok(TextLog {
            stamp_kind: self.stamp_kind,
            tests: self.tests,
        })
    }
}

/// Lines iperf3 prints that carry nothing the analysis needs.
const INFORMATIONAL: [&str; 16] = [
    "iperf Done",
    "Time:",
    "Cookie:",
    "TCP MSS",
    "Starting Test",
    "Test Complete",
    "CPU Utilization",
    "snd_tcp_congestion",
    "rcv_tcp_congestion",
    "Target Bitrate",
    "Reverse mode",
    "Linux ",
    "Control connection MSS",
    "iperf 3",
    "Warning",
    "Test Finished",
];

fn rest_has_fraction(text: &str, rest: &str) -> bool {
    let consumed = &text.trim_start()[..text.trim_start().len() - rest.len()];
    consumed.contains('.')
}

fn is_separator(body: &str) -> bool {
    !body.is_empty() && body.chars().all(|c| c == '-' || c == ' ')
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// `1606412345.123456 rest` → (1606412345.123456, "rest").
fn epoch_prefix(text: &str) -> Option<(f64, &str)> {
    let end = text.find([' ', '\t'])?;
    let token = &text[..end];
    let (whole, frac) = token.split_once('.').unwrap_or((token, ""));
    let plausible = (9..=11).contains(&whole.len())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !plausible {
        return None;
    }
    Some((text_units::decimal(token)?, &text[end + 1..]))
}

/// The fields of an ASCII line between runs of whitespace, as
/// `str::split_whitespace` splits it (the same six ASCII characters count
/// as white space), without decoding characters.
fn split_ascii_fields(text: &str) -> impl Iterator<Item = &str> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
    let bytes = text.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < bytes.len() && is_space(bytes[pos]) {
            pos += 1;
        }
        if pos == bytes.len() {
            return None;
        }
        let start = pos;
        while pos < bytes.len() && !is_space(bytes[pos]) {
            pos += 1;
        }
        Some(&text[start..pos])
    })
}

/// Reads `0.00-0.10 sec 1.19 MBytes 100 Mbits/sec [more fields] [sender|receiver] [(omitted)]`.
fn parse_interval(
    line: u64,
    stamp: Option<f64>,
    stream: StreamId,
    text: &str,
) -> Result<TextInterval, String> {
    // Interval lines have at most 12 fields: they are split on the stack.
    let mut stack = [""; 16];
    let mut count = 0;
    let mut heap = Vec::new();
    let mut ascii_tokens;
    let mut unicode_tokens;
    let tokens: &mut dyn Iterator<Item = &str> = if text.is_ascii() {
        ascii_tokens = split_ascii_fields(text);
        &mut ascii_tokens
    } else {
        unicode_tokens = text.split_whitespace();
        &mut unicode_tokens
    };
    for token in tokens {
        if count < stack.len() {
            stack[count] = token;
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack);
            }
            heap.push(token);
        }
        count += 1;
    }
    let mut tokens: &[&str] = if heap.is_empty() {
        &stack[..count]
    } else {
        &heap
    };
    let mut omitted = false;
    if let Some((&"(omitted)", head)) = tokens.split_last() {
        omitted = true;
        tokens = head;
    }
    let side = match tokens.last() {
        Some(&"sender") => Some(Side::Sender),
        Some(&"receiver") => Some(Side::Receiver),
        _ => None,
    };
    if side.is_some() {
        tokens = &tokens[..tokens.len() - 1];
    }
    if tokens.len() < 6 || tokens[1] != "sec" {
        return Err("interval line without `START-END sec TRANSFER UNIT RATE UNIT`".into());
    }
    let (start, end) = tokens[0]
        .split_once('-')
        .and_then(|(a, b)| Some((text_units::decimal(a)?, text_units::decimal(b)?)))
        .ok_or_else(|| format!("interval {:?} is not START-END", tokens[0]))?;
    let bytes = text_units::bytes(tokens[2], tokens[3]).ok_or_else(|| {
        format!(
            "transfer {} {} is not an amount of bytes",
            tokens[2], tokens[3]
        )
    })?;
    let bits_per_second = text_units::bits_per_second(tokens[4], tokens[5])
        .ok_or_else(|| format!("rate {} {} is not a bit rate", tokens[4], tokens[5]))?;
    for (name, value) in [
        ("start", start),
        ("end", end),
        ("transfer", bytes),
        ("rate", bits_per_second),
    ] {
        if !value.is_finite() || value < 0.0 {
            return Err(format!("{name} is {value}, not a non-negative number"));
        }
    }
    if end < start {
        return Err(format!("interval ends ({end}) before it starts ({start})"));
    }
    let mut interval = TextInterval {
        line,
        stamp,
        stream,
        start,
        end,
        bytes,
        bits_per_second,
        jitter_ms: None,
        lost: None,
        total: None,
        datagrams: None,
        retransmits: None,
        cwnd_bytes: None,
        omitted,
        side,
    };
    read_extra_fields(&mut interval, &tokens[6..])?;
    Ok(interval)
}

/// The fields after the rate: UDP receiver `J ms L/T (P%)`; UDP sender `N`;
/// TCP sender `RETR CWND UNIT`; TCP receiver nothing.
fn read_extra_fields(interval: &mut TextInterval, extra: &[&str]) -> Result<(), String> {
    let count = |token: &str, what: &str| -> Result<u64, String> {
        token
            .parse::<u64>()
            .map_err(|_| format!("{what} {token:?} is not a whole non-negative number"))
    };
    match extra {
        [] => Ok(()),
        [jitter, "ms", lost_total, rest @ ..] => {
            let jitter: f64 = text_units::decimal(jitter)
                .ok_or(())
                .map_err(|_| format!("jitter {jitter:?} is not a number"))?;
            if !jitter.is_finite() || jitter < 0.0 {
                return Err(format!("jitter is {jitter}"));
            }
            let (lost, total) = lost_total
                .split_once('/')
                .ok_or_else(|| format!("{lost_total:?} is not LOST/TOTAL"))?;
            let (lost, total) = (count(lost, "lost")?, count(total, "total")?);
            if lost > total {
                return Err(format!("lost {lost} exceeds total {total}"));
            }
            if rest.len() > 1 {
                return Err(format!(
                    "unexpected fields after the loss: {:?}",
                    rest.join(" ")
                ));
            }
            interval.jitter_ms = Some(jitter);
            interval.lost = Some(lost);
            interval.total = Some(total);
            Ok(())
        }
        [retr] if interval.side == Some(Side::Sender) => {
            interval.retransmits = Some(count(retr, "retransmits")?);
            Ok(())
        }
        [datagrams] => {
            interval.datagrams = Some(count(datagrams, "datagram count")?);
            Ok(())
        }
        [retr, cwnd, unit] if text_units::is_bytes_unit(unit) => {
            interval.retransmits = Some(count(retr, "retransmits")?);
            interval.cwnd_bytes = Some(
                text_units::bytes(cwnd, unit)
                    .ok_or_else(|| format!("cwnd {cwnd} {unit} is not an amount of bytes"))?,
            );
            Ok(())
        }
        other => Err(format!(
            "unexpected fields after the rate: {:?}",
            other.join(" ")
        )),
    }
}

/// Drops repeated lines and lines whose times go backwards, per stream.
fn drop_bad_intervals(test: &mut TextTest, diags: &mut Diagnostics) {
    let mut kept: Vec<TextInterval> = Vec::with_capacity(test.intervals.len());
    for interval in test.intervals.drain(..) {
        let previous = kept
            .iter()
            .rev()
            .find(|k| k.stream == interval.stream && k.omitted == interval.omitted);
        if let Some(prev) = previous {
            if prev.start == interval.start && prev.end == interval.end {
                diags.repeated(
                    Severity::Warning,
                    "intervals printed twice skipped",
                    Some(interval.line),
                    format!(
                        "interval {:.2}-{:.2} s printed twice; the repeat is skipped",
                        interval.start, interval.end
                    ),
                );
                continue;
            }
            if interval.start < prev.end - 1e-3 {
                diags.repeated(
                    Severity::Warning,
                    "intervals going back in time skipped",
                    Some(interval.line),
                    format!(
                        "interval time goes backwards ({:.2}-{:.2} s after {:.2}-{:.2} s); skipped",
                        interval.start, interval.end, prev.start, prev.end
                    ),
                );
                continue;
            }
            if let (Some(a), Some(b)) = (prev.stamp, interval.stamp) {
                if b < a - 1e-6 {
                    diags.repeated(
                        Severity::Warning,
                        "lines whose time prefix goes backwards skipped",
                        Some(interval.line),
                        "time prefix goes backwards from the line before; skipped",
                    );
                    continue;
                }
            }
        }
        kept.push(interval);
    }
    crate::iperf3_json::shift_omitted(
        &mut kept,
        |i| i.omitted,
        |i, by| {
            i.start -= by;
            i.end -= by;
        },
    );
    test.intervals = kept;
}

impl crate::iperf3_json::HasEnd for TextInterval {
    fn end(&self) -> f64 {
        self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (Result<TextLog, ParseError>, Diagnostics) {
        let mut diags = Diagnostics::for_file("server_1.out");
        let result = parse(text.as_bytes(), &TextOptions::default(), &mut diags);
        (result, diags)
    }

    #[test]
    fn ascii_fields_split_as_split_whitespace_does() {
        for text in [
            "",
            "   ",
            "0.00-0.10   sec   243 KBytes  19.9 Mbits/sec  0.005 ms  0/172 (0%)  ",
            "a\tb\x0Bc\x0Cd\re\nf",
            " lead and trail ",
        ] {
            let ours: Vec<&str> = split_ascii_fields(text).collect();
            let std: Vec<&str> = text.split_whitespace().collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn udp_server_with_epoch_prefix() {
        let text = "\
1606412344.900000 -----------------------------------------------------------
1606412344.900100 Server listening on 5201
1606412344.900200 -----------------------------------------------------------
1606412345.000000 Accepted connection from 10.0.0.1, port 40000
1606412345.000100 [  5] local 10.0.0.2 port 5201 connected to 10.0.0.1 port 50000
1606412345.000200 [ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams
1606412345.100300 [  5]   0.00-0.10   sec  1.19 MBytes   100 Mbits/sec  0.012 ms  0/862 (0%)
1606412345.200300 [  5]   0.10-0.20   sec  0.00 Bytes  0.00 bits/sec  0.012 ms  0/0 (-nan%)
1606412345.300300 [  5]   0.20-0.30   sec   600 KBytes  49.2 Mbits/sec  0.050 ms  430/862 (50%)
1606412345.400300 - - - - - - - - - - - - - - - - - - - - - - - - -
1606412345.400400 [  5]   0.00-0.30   sec  1.78 MBytes  49.7 Mbits/sec  0.050 ms  430/1724 (25%)  receiver
";
        let (log, diags) = parse_str(text);
        let log = log.unwrap();
        assert!(diags.is_empty(), "{:?}", diags.items());
        assert_eq!(log.stamp_kind, StampKind::Epoch);
        let test = log.main_test().unwrap();
        assert_eq!(test.listening_port, Some(5201));
        assert_eq!(test.intervals.len(), 3);
        assert_eq!(test.intervals[2].lost, Some(430));
        assert_eq!(test.intervals[2].total, Some(862));
        assert_eq!(test.intervals[2].stamp, Some(1606412345.3003));
        assert_eq!(test.intervals[2].bytes, 600.0 * 1024.0);
        assert_eq!(test.summaries.len(), 1);
        assert_eq!(test.summaries[0].side, Some(Side::Receiver));
    }

    #[test]
    fn default_timestamps_prefix_is_whole_seconds_utc() {
        let text = "Mon Nov 23 11:50:12 2026 [  5]   0.00-0.10   sec  1.19 MBytes   100 Mbits/sec  0.012 ms  0/862 (0%)\n";
        let (log, _) = parse_str(text);
        let log = log.unwrap();
        assert_eq!(log.stamp_kind, StampKind::Calendar { resolution: 1.0 });
        let stamp = log.tests[0].intervals[0].stamp.unwrap();
        assert_eq!(stamp, 1795434612.0);
    }

    #[test]
    fn custom_timestamps_and_summary_lines() {
        let text = "2025-04-02 01:30:50 [  5]   0.00-10.06  sec  21.7 MBytes  18.1 Mbits/sec  0.000 ms  0/15709 (0%)  sender\n";
        let (log, diags) = parse_str(text);
        let log = log.unwrap();
        assert!(diags.is_empty());
        assert_eq!(log.tests[0].summaries[0].total, Some(15709));
        assert_eq!(log.tests[0].summaries[0].side, Some(Side::Sender));
    }

    #[test]
    fn parallel_streams_separators_between_interval_blocks_are_not_summaries() {
        let text = "\
[  5]   0.00-0.10   sec   640 KBytes  52.4 Mbits/sec
[  8]   0.00-0.10   sec   640 KBytes  52.4 Mbits/sec
[SUM]   0.00-0.10   sec  1.25 MBytes   105 Mbits/sec
- - - - - - - - - - - - - - - - - - - - - - - - -
[  5]   0.10-0.20   sec   512 KBytes  41.9 Mbits/sec
[  8]   0.10-0.20   sec   512 KBytes  41.9 Mbits/sec
[SUM]   0.10-0.20   sec  1.00 MBytes  83.8 Mbits/sec
- - - - - - - - - - - - - - - - - - - - - - - - -
[  5]   0.00-0.20   sec  1.12 MBytes  47.2 Mbits/sec                  receiver
[  8]   0.00-0.20   sec  1.12 MBytes  47.2 Mbits/sec
[SUM]   0.00-0.20   sec  2.25 MBytes  94.4 Mbits/sec                  receiver
";
        let (log, diags) = parse_str(text);
        assert!(diags.is_empty(), "{:?}", diags.items());
        let test = &log.unwrap().tests[0];
        assert_eq!(test.intervals.len(), 6);
        let sums: Vec<f64> = test.series().iter().map(|i| i.end).collect();
        assert_eq!(sums, [0.1, 0.2]);
        assert_eq!(test.summaries.len(), 3);
    }

    #[test]
    fn tcp_client_lines_and_omitted() {
        let text = "\
Connecting to host 10.0.0.2, port 5201
[  5] local 10.0.0.1 port 45000 connected to 10.0.0.2 port 5201
[ ID] Interval           Transfer     Bitrate         Retr  Cwnd
[  5]   0.00-1.00   sec   113 MBytes   947 Mbits/sec    0    409 KBytes       (omitted)
[  5]   1.00-2.00   sec   112 MBytes   941 Mbits/sec    3    409 KBytes
- - - - - - - - - - - - - - - - - - - - - - - - -
[  5]   0.00-1.00   sec   112 MBytes   941 Mbits/sec    3             sender
[  5]   0.00-1.04   sec   110 MBytes   888 Mbits/sec                  receiver
iperf Done.
";
        let (log, diags) = parse_str(text);
        assert!(diags.is_empty(), "{:?}", diags.items());
        let log = log.unwrap();
        let test = &log.tests[0];
        assert_eq!(test.connecting_port, Some(5201));
        assert!(test.intervals[0].omitted);
        assert_eq!(test.intervals[1].retransmits, Some(3));
        assert_eq!(test.intervals[1].cwnd_bytes, Some(409.0 * 1024.0));
        assert_eq!(test.summaries.len(), 2);
    }

    #[test]
    fn cut_last_line_and_garbage_are_reported() {
        let text = "[  5]   0.00-0.10   sec  1.19 MBytes   100 Mbits/sec  0.012 ms  0/862 (0%)\nhello world\n[  5]   0.10-0.20   sec  1.1";
        let (log, diags) = parse_str(text);
        assert_eq!(log.unwrap().tests[0].intervals.len(), 1);
        let messages: Vec<_> = diags
            .items()
            .iter()
            .map(|d| (d.line, d.message.clone()))
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[0].0, Some(2));
        assert_eq!(messages[1].0, Some(3));
        assert!(messages[1].1.contains("middle of this line"));
    }

    #[test]
    fn backwards_and_repeated_intervals_are_skipped() {
        let text = "\
[  5]   0.00-1.00   sec   798 MBytes  6.67 Gbits/sec
[  5]   1.00-2.00   sec   780 MBytes  6.55 Gbits/sec
[  5]   1.00-2.00   sec   780 MBytes  6.55 Gbits/sec
[  5]   0.50-1.50   sec   780 MBytes  6.55 Gbits/sec
";
        let (log, diags) = parse_str(text);
        assert_eq!(log.unwrap().tests[0].intervals.len(), 2);
        assert_eq!(diags.len(), 2);
        assert!(diags.items()[0].message.contains("twice"));
        assert!(diags.items()[1].message.contains("backwards"));
    }

    #[test]
    fn negative_values_are_rejected() {
        let text = "[  5]   0.00-1.00   sec   -798 MBytes  6.67 Gbits/sec\n[  5]   1.00-2.00   sec   798 MBytes  6.67 Gbits/sec\n";
        let (log, diags) = parse_str(text);
        assert_eq!(log.unwrap().tests[0].intervals.len(), 1);
        assert!(
            diags.items()[0].message.contains("transfer"),
            "{:?}",
            diags.items()
        );
    }

    #[test]
    fn empty_and_foreign_files_are_errors() {
        assert!(matches!(parse_str("\n\n").0, Err(ParseError::Empty)));
        let err = parse_str("{\"json\": true}\n").0.unwrap_err();
        assert!(err.to_string().contains("no line of iperf3"), "{err}");
        assert!(err.is_foreign());
    }
}
