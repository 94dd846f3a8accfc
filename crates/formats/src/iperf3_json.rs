//! iperf3 JSON output (`iperf3 -J`, client or server side, TCP or UDP,
//! versions 3.1 to 3.19), and the line-per-event `--json-stream` form.
//!
//! Real files are messy in known ways, all tolerated and reported:
//! error lines written before the JSON (a retried client), CRLF line ends,
//! bare `nan`/`inf` numbers written by old iperf3 versions, `--omit`
//! intervals (kept and flagged), intervals without the `sender` key (before
//! 3.7), and, for `--json-stream`, a last record cut short.

use crate::ParseError;
use expost_model::{Diagnostics, Severity};
use serde::Deserialize;
use std::fmt::Display;
use std::io::BufRead;

/// Which end of the test wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `iperf3 -c`: the side that connected.
    Client,
    /// `iperf3 -s`: the side that accepted.
    Server,
}

/// The transport protocol of the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP (`-u`).
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// One reporting interval of a test, summed over its parallel streams.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Start, seconds since the test started.
    pub start: f64,
    /// End, seconds since the test started.
    pub end: f64,
    /// Length of the interval, seconds.
    pub seconds: f64,
    /// Bytes transferred in the interval.
    pub bytes: f64,
    /// Rate in the interval, bits per second.
    pub bits_per_second: f64,
    /// UDP datagrams: sent (sender side) or expected (receiver side).
    pub packets: Option<u64>,
    /// UDP datagrams lost (receiver side only).
    pub lost_packets: Option<u64>,
    /// UDP jitter, milliseconds (receiver side only).
    pub jitter_ms: Option<f64>,
    /// TCP retransmissions (sender side only).
    pub retransmits: Option<u64>,
    /// TCP smoothed round-trip time averaged over the streams, milliseconds.
    pub rtt_ms: Option<f64>,
    /// TCP congestion window summed over the streams, bytes.
    pub snd_cwnd: Option<u64>,
    /// True for a warm-up interval excluded by `--omit`.
    pub omitted: bool,
    /// Whether the interval was measured by the sender, when the file says so
    /// (the key appeared in iperf3 3.7).
    pub sender: Option<bool>,
    /// The stream's socket (per-stream intervals only).
    pub socket: Option<u32>,
    /// Each stream's own interval, when the test had several (`-P`); empty
    /// for one stream, whose interval is this one.
    pub streams: Vec<Interval>,
}

/// Totals of a whole test, from the `end` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndSum {
    /// Duration, seconds.
    pub seconds: f64,
    /// Bytes transferred.
    pub bytes: f64,
    /// Mean rate, bits per second.
    pub bits_per_second: f64,
    /// UDP datagrams (sent or expected).
    pub packets: Option<u64>,
    /// UDP datagrams lost.
    pub lost_packets: Option<u64>,
    /// UDP jitter, milliseconds.
    pub jitter_ms: Option<f64>,
    /// TCP retransmissions.
    pub retransmits: Option<u64>,
    /// TCP sender: largest congestion window, bytes (per stream only).
    pub max_snd_cwnd: Option<u64>,
    /// TCP sender: largest smoothed RTT, ms (per stream only).
    pub max_rtt_ms: Option<f64>,
    /// TCP sender: mean smoothed RTT, ms (per stream only).
    pub mean_rtt_ms: Option<f64>,
    /// UDP datagrams received out of order (per stream only).
    pub out_of_order: Option<u64>,
}

/// One stream's totals in the `end` section (`end.streams[]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndStream {
    /// The stream's socket.
    pub socket: Option<u32>,
    /// TCP: what the sender sent (with retransmits, RTT and cwnd when this side sent).
    pub sender: Option<EndSum>,
    /// TCP: what the receiver received.
    pub receiver: Option<EndSum>,
    /// UDP: bytes sent by this side, and the receiver's loss, jitter and out-of-order.
    pub udp: Option<EndSum>,
}

/// CPU utilisation over the test (`end.cpu_utilization_percent`), percent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cpu {
    /// The side that wrote the file.
    pub host_total: Option<f64>,
    /// The other side.
    pub remote_total: Option<f64>,
}

/// The `end` section: UDP tests have `sum`; TCP tests `sum_sent` and
/// `sum_received`; recent UDP tests have all three.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct End {
    /// UDP totals as the client reports them (`end.sum`).
    pub sum: Option<EndSum>,
    /// What the sender sent.
    pub sum_sent: Option<EndSum>,
    /// What the receiver received.
    pub sum_received: Option<EndSum>,
    /// Each stream's totals.
    pub streams: Vec<EndStream>,
    /// CPU utilisation, when the file has it.
    pub cpu: Option<Cpu>,
}

/// One iperf3 test as its JSON output describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IperfTest {
    /// `iperf 3.12`, as the file says.
    pub version: Option<String>,
    /// Client or server, from `connecting_to` / `accepted_connection`.
    pub role: Option<Role>,
    /// TCP or UDP, from `test_start.protocol` (or guessed from the fields).
    pub protocol: Option<Protocol>,
    /// When the test started, UTC epoch seconds (whole seconds: iperf3 keeps no more).
    pub start_epoch: Option<f64>,
    /// The server's port (the port the client connected to).
    pub server_port: Option<u16>,
    /// Number of parallel streams (`-P`).
    pub num_streams: Option<u32>,
    /// Seconds omitted at the start (`-O`).
    pub omit: Option<f64>,
    /// Planned duration, seconds (`-t`).
    pub duration: Option<f64>,
    /// `-R`: the server sent, the client received.
    pub reverse: Option<bool>,
    /// Reporting intervals in time order, bad ones already left out (and reported).
    pub intervals: Vec<Interval>,
    /// The totals, when the test ended normally.
    pub end: Option<End>,
    /// The error iperf3 recorded in the file, if any.
    pub error: Option<String>,
}

impl IperfTest {
    /// `, port N` when the server's port is known, else nothing.
    pub fn port_text(&self) -> String {
        self.server_port
            .map(|p| format!(", port {p}"))
            .unwrap_or_default()
    }

    /// The client's UDP totals, as `end.sum` (or `end.sum_received` when `sum` is absent).
    pub fn udp_totals(&self) -> Option<&EndSum> {
        let end = self.end.as_ref()?;
        end.sum.as_ref().or(end.sum_received.as_ref())
    }
}

#[derive(Deserialize)]
struct RawDoc<'a> {
    #[serde(borrow)]
    start: Option<RawStart<'a>>,
    intervals: Option<IntervalPass>,
    end: Option<RawEnd>,
    error: Option<String>,
    event: Option<&'a str>,
}

#[derive(Deserialize)]
struct RawStart<'a> {
    #[serde(borrow)]
    version: Option<&'a str>,
    timestamp: Option<RawTimestamp>,
    connecting_to: Option<RawHostPort>,
    accepted_connection: Option<RawHostPort>,
    connected: Option<Vec<RawConnected>>,
    test_start: Option<RawTestStart<'a>>,
}

#[derive(Deserialize)]
struct RawTimestamp {
    timesecs: Option<f64>,
}

#[derive(Deserialize)]
struct RawHostPort {
    port: Option<u16>,
}

#[derive(Deserialize)]
struct RawConnected {
    local_port: Option<u16>,
}

#[derive(Deserialize)]
struct RawTestStart<'a> {
    protocol: Option<&'a str>,
    num_streams: Option<u32>,
    omit: Option<f64>,
    duration: Option<f64>,
    // A number in every known version; read loosely so that no other shape fails the file.
    reverse: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawInterval {
    streams: Option<Vec<RawStream>>,
    sum: Option<RawStream>,
}

#[derive(Deserialize, Clone, Default)]
struct RawStream {
    socket: Option<f64>,
    start: Option<f64>,
    end: Option<f64>,
    seconds: Option<f64>,
    bytes: Option<f64>,
    bits_per_second: Option<f64>,
    packets: Option<f64>,
    lost_packets: Option<f64>,
    jitter_ms: Option<f64>,
    retransmits: Option<f64>,
    rtt: Option<f64>,
    snd_cwnd: Option<f64>,
    omitted: Option<bool>,
    sender: Option<bool>,
    max_snd_cwnd: Option<f64>,
    max_rtt: Option<f64>,
    mean_rtt: Option<f64>,
    out_of_order: Option<f64>,
}

#[derive(Deserialize)]
struct RawEnd {
    sum: Option<RawStream>,
    sum_sent: Option<RawStream>,
    sum_received: Option<RawStream>,
    streams: Option<Vec<RawEndStream>>,
    cpu_utilization_percent: Option<RawCpu>,
}

#[derive(Deserialize)]
struct RawEndStream {
    sender: Option<RawStream>,
    receiver: Option<RawStream>,
    udp: Option<RawStream>,
}

#[derive(Deserialize)]
struct RawCpu {
    host_total: Option<f64>,
    remote_total: Option<f64>,
}

#[derive(Deserialize)]
struct RawStreamEvent<'a> {
    event: &'a str,
    #[serde(borrow)]
    data: Option<&'a serde_json::value::RawValue>,
}

/// Parses one iperf3 JSON document (or a `--json-stream` log) from `reader`.
///
/// Lines before the opening `{` are reported as warnings and skipped, as are
/// intervals with negative or missing values and intervals whose times go
/// backwards. Returns an error when the file is empty, is not JSON, or is
/// JSON from another tool.
pub fn parse(mut reader: impl BufRead, diags: &mut Diagnostics) -> Result<IperfTest, ParseError> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    parse_bytes(&bytes, diags)
}

/// Parses iperf3 JSON already in memory; see [`parse`].
pub fn parse_bytes(bytes: &[u8], diags: &mut Diagnostics) -> Result<IperfTest, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    let (skipped_lines, json) = skip_junk_lines(bytes, diags)?;
    if is_json_stream(json) {
        return parse_json_stream(json, skipped_lines, diags);
    }
    let doc = match deserialize_document(json, skipped_lines) {
        Ok(doc) => doc,
        Err(first_error) => match repair_nonfinite(json) {
            Some(repaired) => {
                let doc =
                    deserialize_document(&repaired, skipped_lines).map_err(|_| first_error)?;
                diags.warn(
                    None,
                    "bare nan/inf numbers (written by old iperf3 versions) read as missing values",
                );
                return build_test(doc, diags);
            }
            None => return Err(first_error),
        },
    };
    build_test(doc, diags)
}

/// Skips lines until one whose first non-blank character is `{`, reporting
/// each skipped line. Returns how many lines were skipped and the rest.
fn skip_junk_lines<'a>(
    bytes: &'a [u8],
    diags: &mut Diagnostics,
) -> Result<(u64, &'a [u8]), ParseError> {
    let mut offset = 0;
    let mut line_no = 0u64;
    while offset < bytes.len() {
        let line_end = bytes[offset..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| offset + p + 1);
        let line = &bytes[offset..line_end];
        let first = line.iter().find(|b| !b.is_ascii_whitespace());
        match first {
            Some(b'{') => return Ok((line_no, &bytes[offset..])),
            Some(_) => {
                let text = String::from_utf8_lossy(line);
                let text = text.trim();
                if text.starts_with('[') || text.starts_with('"') {
                    return Err(ParseError::foreign(
                        Some(line_no + 1),
                        "JSON is not an iperf3 result: expected an object at the top, found another JSON value",
                    ));
                }
                diags.repeated(
                    Severity::Warning,
                    "lines before the JSON skipped",
                    Some(line_no + 1),
                    format!("line before the JSON skipped: {:?}", shorten(text, 120)),
                );
            }
            None => {}
        }
        line_no += 1;
        offset = line_end;
    }
    Err(ParseError::format(
        None,
        format!("no JSON object found ({line_no} lines of other text)"),
    ))
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn deserialize_document(json: &[u8], skipped_lines: u64) -> Result<RawDoc<'_>, ParseError> {
    let mut stream = serde_json::Deserializer::from_slice(json).into_iter::<RawDoc>();
    match stream.next() {
        Some(Ok(doc)) => Ok(doc),
        Some(Err(e)) => Err(json_error(&e, skipped_lines)),
        None => Err(ParseError::Empty),
    }
}

fn json_error(e: &serde_json::Error, skipped_lines: u64) -> ParseError {
    let line = Some(e.line() as u64 + skipped_lines);
    let what = if e.is_eof() {
        format!("truncated JSON: the file ends inside the document ({e})")
    } else if e.is_data() {
        format!("JSON does not have iperf3's shape: {e}")
    } else {
        format!("invalid JSON: {e}")
    };
    ParseError::format(line, strip_serde_position(&what))
}

/// serde_json appends " at line L column C"; the line is reported separately.
fn strip_serde_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(pos) => {
            let (head, tail) = message.split_at(pos);
            let rest = tail.find(')').map(|p| &tail[p..]).unwrap_or("");
            format!("{head}{rest}")
        }
        None => message.to_string(),
    }
}

fn is_json_stream(json: &[u8]) -> bool {
    let first_line = json.split(|&b| b == b'\n').next().unwrap_or(json);
    let trimmed = first_line.trim_ascii();
    trimmed.starts_with(b"{\"event\"") && trimmed.ends_with(b"}")
}

/// Replaces bare `nan`, `-nan`, `inf`, `-inf` values (outside strings) by
/// `null`. Returns `None` when there was nothing to replace.
fn repair_nonfinite(json: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut changed = false;
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            out.push(b);
            i += 1;
            continue;
        }
        let rest = &json[i..];
        let token = [
            &b"-nan"[..],
            b"nan",
            b"-inf",
            b"inf",
            b"NaN",
            b"-NaN",
            b"Infinity",
            b"-Infinity",
        ]
        .into_iter()
        .find(|t| rest.starts_with(t) && !rest.get(t.len()).is_some_and(u8::is_ascii_alphanumeric));
        match token {
            Some(t) => {
                out.extend_from_slice(b"null");
                i += t.len();
                changed = true;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

fn build_test(doc: RawDoc<'_>, diags: &mut Diagnostics) -> Result<IperfTest, ParseError> {
    if doc.event.is_some() {
        return Err(ParseError::format(
            Some(1),
            "looks like --json-stream output but is not one event per line",
        ));
    }
    if doc.start.is_none() && doc.intervals.is_none() && doc.end.is_none() {
        return match doc.error {
            Some(error) => Err(ParseError::format(None, format!("iperf3 reported an error and no results: {error}"))),
            None => Err(ParseError::foreign(
                None,
                "JSON is not iperf3 output: it has none of the keys \"start\", \"intervals\", \"end\"",
            )),
        };
    }
    let mut test = IperfTest::default();
    if let Some(start) = &doc.start {
        apply_start(&mut test, start);
    }
    if let Some(error) = doc.error {
        diags.error(None, format!("iperf3 reported an error: {error}"));
        test.error = Some(error);
    }
    let mut builder = IntervalBuilder::default();
    if let Some(pass) = doc.intervals {
        builder = pass.builder;
        for (kind, message) in pass.skipped {
            diags.skip(kind, message);
        }
    }
    builder.finish(&mut test, diags);
    test.end = doc.end.map(convert_end);
    if test.end.is_none() && test.error.is_none() {
        diags.warn(
            None,
            "no \"end\" section: the test did not finish (totals unknown)",
        );
    }
    Ok(test)
}

fn apply_start(test: &mut IperfTest, start: &RawStart<'_>) {
    test.version = start.version.map(str::to_string);
    test.start_epoch = start.timestamp.as_ref().and_then(|t| t.timesecs);
    if let Some(to) = &start.connecting_to {
        test.role = Some(Role::Client);
        test.server_port = to.port;
    } else if start.accepted_connection.is_some() {
        test.role = Some(Role::Server);
        test.server_port = start
            .connected
            .as_ref()
            .and_then(|c| c.first())
            .and_then(|c| c.local_port);
    }
    if let Some(ts) = &start.test_start {
        test.protocol = match ts.protocol {
            Some(p) if p.eq_ignore_ascii_case("udp") => Some(Protocol::Udp),
            Some(p) if p.eq_ignore_ascii_case("tcp") => Some(Protocol::Tcp),
            _ => None,
        };
        test.num_streams = ts.num_streams;
        test.omit = ts.omit;
        test.duration = ts.duration;
        test.reverse = ts
            .reverse
            .as_ref()
            .and_then(|r| r.as_f64().map(|n| n != 0.0).or(r.as_bool()));
    }
}

/// Where the interval checks report an interval they skip (a warning
/// collapsed by `kind`).
trait Skipped {
    fn skip(&mut self, kind: &'static str, message: String);
}

impl Skipped for Diagnostics {
    fn skip(&mut self, kind: &'static str, message: String) {
        self.repeated(Severity::Warning, kind, None, message);
    }
}

impl Skipped for Vec<(&'static str, String)> {
    fn skip(&mut self, kind: &'static str, message: String) {
        self.push((kind, message));
    }
}

/// The `intervals` array, checked and converted while it is read: no raw
/// interval is kept. The skipped intervals' warnings wait in `skipped`
/// until the document is read, so that they are reported in file order
/// after the warnings about the document's start.
#[derive(Default)]
struct IntervalPass {
    builder: IntervalBuilder,
    skipped: Vec<(&'static str, String)>,
}

impl<'de> Deserialize<'de> for IntervalPass {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(IntervalPassVisitor)
    }
}

struct IntervalPassVisitor;

impl<'de> serde::de::Visitor<'de> for IntervalPassVisitor {
    type Value = IntervalPass;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<IntervalPass, A::Error> {
        let mut pass = IntervalPass::default();
        let mut index = 0usize;
        while let Some(raw) = seq.next_element::<RawInterval>()? {
            index += 1;
            pass.builder
                .push(raw, &format_args!("interval {index}"), &mut pass.skipped);
        }
        Ok(pass)
    }
}

/// Checks and converts intervals one by one, keeping time order.
#[derive(Default)]
struct IntervalBuilder {
    intervals: Vec<Interval>,
    omitted: usize,
    saw_udp_fields: bool,
    saw_tcp_fields: bool,
}

impl IntervalBuilder {
    fn push(&mut self, raw: RawInterval, what: &dyn Display, skipped: &mut impl Skipped) {
        let streams = raw.streams.unwrap_or_default();
        let sum = match raw.sum.or_else(|| sum_of_streams(&streams)) {
            Some(sum) => sum,
            None => {
                skipped.skip(
                    "intervals without \"sum\" or streams skipped",
                    format!("{what}: no \"sum\" and no streams; skipped"),
                );
                return;
            }
        };
        let interval = match convert_interval(&sum, &streams) {
            Ok(mut interval) if streams.len() > 1 => {
                interval.streams = streams
                    .iter()
                    .filter_map(|s| convert_interval(s, std::slice::from_ref(s)).ok())
                    .collect();
                interval
            }
            Ok(interval) => interval,
            Err(problem) => {
                skipped.skip(
                    "unreadable intervals skipped",
                    format!("{what}: {problem}; skipped"),
                );
                return;
            }
        };
        // After the `--omit` warm-up, iperf3 restarts its clock at 0: the
        // warm-up intervals are checked among themselves and moved before 0.
        let previous = self
            .intervals
            .iter()
            .rev()
            .find(|p| p.omitted == interval.omitted);
        if let Some(prev) = previous {
            if interval.start == prev.start && interval.end == prev.end {
                skipped.skip(
                    "intervals repeating the one before skipped",
                    format!("{what}: repeats the interval before it; skipped"),
                );
                return;
            }
            if interval.start < prev.end - 1e-3 {
                skipped.skip(
                    "intervals going back in time skipped",
                    format!(
                        "{what}: time goes backwards ({:.3}-{:.3} s after {:.3}-{:.3} s); skipped",
                        interval.start, interval.end, prev.start, prev.end
                    ),
                );
                return;
            }
        }
        self.saw_udp_fields |= interval.packets.is_some();
        self.saw_tcp_fields |= interval.retransmits.is_some() || interval.rtt_ms.is_some();
        self.omitted += usize::from(interval.omitted);
        self.intervals.push(interval);
    }

    fn finish(mut self, test: &mut IperfTest, diags: &mut Diagnostics) {
        shift_omitted(
            &mut self.intervals,
            |i| i.omitted,
            |i, by| {
                i.start -= by;
                i.end -= by;
                for stream in &mut i.streams {
                    stream.start -= by;
                    stream.end -= by;
                }
            },
        );
        if self.omitted > 0 {
            diags.note(
                None,
                format!(
                    "{} warm-up intervals flagged \"omitted\" (--omit)",
                    self.omitted
                ),
            );
        }
        if test.protocol.is_none() {
            test.protocol = if self.saw_udp_fields {
                Some(Protocol::Udp)
            } else if self.saw_tcp_fields {
                Some(Protocol::Tcp)
            } else {
                None
            };
        }
        if test.role.is_none() {
            test.role = self.intervals.iter().find_map(|i| i.sender).map(|sender| {
                if sender {
                    Role::Client
                } else {
                    Role::Server
                }
            });
        }
        test.intervals = self.intervals;
    }
}

/// Moves warm-up intervals (`omitted`) before time 0 so they end where the
/// measured ones begin, and puts them first. iperf3 restarts its clock after
/// `--omit`, so both groups start at 0 in the file.
pub(crate) fn shift_omitted<T>(
    intervals: &mut [T],
    omitted: impl Fn(&T) -> bool,
    shift: impl Fn(&mut T, f64),
) where
    T: HasEnd,
{
    let warm_up_end = intervals
        .iter()
        .filter(|i| omitted(i))
        .map(HasEnd::end)
        .fold(0.0, f64::max);
    if warm_up_end <= 0.0 {
        return;
    }
    for interval in intervals.iter_mut().filter(|i| omitted(i)) {
        shift(interval, warm_up_end);
    }
    intervals.sort_by_key(|i| !omitted(i));
}

/// Something with an end time, in seconds since the test started.
pub(crate) trait HasEnd {
    /// The end time.
    fn end(&self) -> f64;
}

impl HasEnd for Interval {
    fn end(&self) -> f64 {
        self.end
    }
}

fn sum_of_streams(streams: &[RawStream]) -> Option<RawStream> {
    let first = streams.first()?;
    let add = |f: fn(&RawStream) -> Option<f64>| -> Option<f64> {
        streams.iter().map(f).sum::<Option<f64>>()
    };
    Some(RawStream {
        socket: None,
        start: first.start,
        end: first.end,
        seconds: first.seconds,
        bytes: add(|s| s.bytes),
        bits_per_second: add(|s| s.bits_per_second),
        packets: add(|s| s.packets),
        lost_packets: add(|s| s.lost_packets),
        jitter_ms: first.jitter_ms,
        retransmits: add(|s| s.retransmits),
        omitted: first.omitted,
        sender: first.sender,
        ..RawStream::default()
    })
}

fn convert_interval(sum: &RawStream, streams: &[RawStream]) -> Result<Interval, String> {
    for (index, stream) in streams.iter().enumerate() {
        for (name, value) in [
            ("bytes", stream.bytes),
            ("bits_per_second", stream.bits_per_second),
            ("rtt", stream.rtt),
        ] {
            optional_nonneg(value, name).map_err(|e| format!("stream {}: {e}", index + 1))?;
        }
    }
    let start = require(sum.start, "start")?;
    let end = require(sum.end, "end")?;
    if end < start {
        return Err(format!("ends ({end}) before it starts ({start})"));
    }
    let (rtt_sum, rtt_count) = streams
        .iter()
        .filter_map(|s| s.rtt)
        .fold((-0.0, 0usize), |(sum, n), rtt| (sum + rtt, n + 1));
    let cwnds: Option<f64> = if streams.iter().any(|s| s.snd_cwnd.is_some()) {
        Some(streams.iter().filter_map(|s| s.snd_cwnd).sum())
    } else {
        None
    };
    Ok(Interval {
        start,
        end,
        seconds: optional_nonneg(sum.seconds, "seconds")?.unwrap_or(end - start),
        bytes: require(sum.bytes, "bytes")?,
        bits_per_second: require(sum.bits_per_second, "bits_per_second")?,
        packets: optional_count(sum.packets, "packets")?,
        lost_packets: optional_count(sum.lost_packets, "lost_packets")?,
        jitter_ms: optional_nonneg(sum.jitter_ms, "jitter_ms")?,
        retransmits: optional_count(sum.retransmits, "retransmits")?,
        rtt_ms: if rtt_count == 0 {
            None
        } else {
            let mean_us = rtt_sum / rtt_count as f64;
            optional_nonneg(Some(mean_us), "rtt")?.map(|us| us / 1000.0)
        },
        snd_cwnd: optional_count(cwnds, "snd_cwnd")?,
        omitted: sum.omitted.unwrap_or(false),
        sender: sum.sender,
        socket: socket_of(sum.socket),
        streams: Vec::new(),
    })
}

fn socket_of(value: Option<f64>) -> Option<u32> {
    value
        .filter(|v| v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(v))
        .map(|v| v as u32)
}

fn require(value: Option<f64>, name: &str) -> Result<f64, String> {
    match value {
        None => Err(format!("\"{name}\" is missing or not a number")),
        Some(v) => check_value(v, name),
    }
}

fn check_value(v: f64, name: &str) -> Result<f64, String> {
    if v.is_nan() {
        Err(format!("\"{name}\" is NaN"))
    } else if v < 0.0 {
        Err(format!("\"{name}\" is negative ({v})"))
    } else if v.is_infinite() {
        Err(format!("\"{name}\" is infinite"))
    } else {
        Ok(v)
    }
}

fn optional_nonneg(value: Option<f64>, name: &str) -> Result<Option<f64>, String> {
    value.map(|v| check_value(v, name)).transpose()
}

fn optional_count(value: Option<f64>, name: &str) -> Result<Option<u64>, String> {
    Ok(optional_nonneg(value, name)?.map(|v| v.round() as u64))
}

fn convert_end(raw: RawEnd) -> End {
    let valid = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 0.0);
    let block = |b: &Option<RawStream>| b.as_ref().and_then(convert_end_sum);
    End {
        sum: block(&raw.sum),
        sum_sent: block(&raw.sum_sent),
        sum_received: block(&raw.sum_received),
        streams: (raw.streams.unwrap_or_default().iter())
            .map(|s| EndStream {
                socket: [&s.sender, &s.receiver, &s.udp]
                    .into_iter()
                    .find_map(|b| socket_of(b.as_ref()?.socket)),
                sender: block(&s.sender),
                receiver: block(&s.receiver),
                udp: block(&s.udp),
            })
            .collect(),
        cpu: raw.cpu_utilization_percent.map(|c| Cpu {
            host_total: valid(c.host_total),
            remote_total: valid(c.remote_total),
        }),
    }
}

fn convert_end_sum(raw: &RawStream) -> Option<EndSum> {
    let valid = |v: Option<f64>| v.filter(|x| x.is_finite() && *x >= 0.0);
    Some(EndSum {
        seconds: valid(raw.seconds)?,
        bytes: valid(raw.bytes)?,
        bits_per_second: valid(raw.bits_per_second).unwrap_or(0.0),
        packets: valid(raw.packets).map(|v| v.round() as u64),
        lost_packets: valid(raw.lost_packets).map(|v| v.round() as u64),
        jitter_ms: valid(raw.jitter_ms),
        retransmits: valid(raw.retransmits).map(|v| v.round() as u64),
        max_snd_cwnd: valid(raw.max_snd_cwnd).map(|v| v.round() as u64),
        max_rtt_ms: valid(raw.max_rtt).map(|us| us / 1000.0),
        mean_rtt_ms: valid(raw.mean_rtt).map(|us| us / 1000.0),
        out_of_order: valid(raw.out_of_order).map(|v| v.round() as u64),
    })
}

/// `--json-stream` (iperf3 3.17+): one `{"event": …, "data": …}` per line.
fn parse_json_stream(
    json: &[u8],
    skipped_lines: u64,
    diags: &mut Diagnostics,
) -> Result<IperfTest, ParseError> {
    let mut test = IperfTest::default();
    let mut builder = IntervalBuilder::default();
    let mut saw_start = false;
    let lines: Vec<&[u8]> = json.split(|&b| b == b'\n').collect();
    let last_nonblank = lines.iter().rposition(|l| !l.trim_ascii().is_empty());
    for (index, line) in lines.iter().enumerate() {
        let line_no = skipped_lines + index as u64 + 1;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        let event: RawStreamEvent = match serde_json::from_slice(trimmed) {
            Ok(event) => event,
            Err(e) if Some(index) == last_nonblank && e.is_eof() => {
                diags.warn(Some(line_no), "last record cut short; skipped");
                continue;
            }
            Err(e) => {
                diags.repeated(
                    Severity::Warning,
                    "lines that are not JSON events skipped",
                    Some(line_no),
                    format!(
                        "not a JSON event: {}; skipped",
                        strip_serde_position(&e.to_string())
                    ),
                );
                continue;
            }
        };
        let data = event.data.map(|d| d.get()).unwrap_or("null");
        let result = match event.event {
            "start" => serde_json::from_str::<RawStart>(data).map(|start| {
                apply_start(&mut test, &start);
                saw_start = true;
            }),
            "interval" => serde_json::from_str::<RawInterval>(data)
                .map(|raw| builder.push(raw, &format_args!("line {line_no}"), diags)),
            "end" => {
                serde_json::from_str::<RawEnd>(data).map(|end| test.end = Some(convert_end(end)))
            }
            "error" => {
                let text =
                    serde_json::from_str::<String>(data).unwrap_or_else(|_| data.to_string());
                diags.error(Some(line_no), format!("iperf3 reported an error: {text}"));
                test.error = Some(text);
                Ok(())
            }
            other => {
                diags.repeated(
                    Severity::Note,
                    "events of unknown kinds ignored",
                    Some(line_no),
                    format!("event {other:?} ignored"),
                );
                Ok(())
            }
        };
        if let Err(e) = result {
            diags.repeated(
                Severity::Warning,
                "events of an unexpected shape skipped",
                Some(line_no),
                format!(
                    "{} event has an unexpected shape: {}; skipped",
                    event.event,
                    strip_serde_position(&e.to_string())
                ),
            );
        }
    }
    if !saw_start && builder.intervals.is_empty() {
        return Err(ParseError::format(
            None,
            "--json-stream log without a start event or intervals",
        ));
    }
    builder.finish(&mut test, diags);
    if test.end.is_none() && test.error.is_none() {
        diags.warn(
            None,
            "no \"end\" event: the test did not finish (totals unknown)",
        );
    }
    Ok(test)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (Result<IperfTest, ParseError>, Diagnostics) {
        let mut diags = Diagnostics::for_file("t.json");
        let result = parse(text.as_bytes(), &mut diags);
        (result, diags)
    }

    #[test]
    fn junk_lines_before_the_json_collapse_into_one_counted_diagnostic() {
        let mut text = "junk before the JSON\n".repeat(200_000);
        text.push_str(UDP_CLIENT);
        let (result, diags) = parse_str(&text);
        assert!(result.is_ok(), "{result:?}");
        let junk: Vec<_> = diags
            .items()
            .iter()
            .filter(|d| d.message.contains("before the JSON"))
            .collect();
        assert_eq!(junk.len(), 1, "{junk:?}");
        assert_eq!(junk[0].line, Some(1));
        assert_eq!(
            junk[0].message,
            "200000 lines before the JSON skipped (lines 1, 2, 3, 4, 5, …; \
             first: line before the JSON skipped: \"junk before the JSON\")"
        );
    }

    const UDP_CLIENT: &str = r#"{"start": {"version": "iperf 3.12", "timestamp": {"timesecs": 1721734492},
        "connecting_to": {"host": "h", "port": 5202},
        "test_start": {"protocol": "UDP", "num_streams": 1, "omit": 0, "duration": 2}},
      "intervals": [
        {"streams": [{"start": 0, "end": 1.0, "seconds": 1.0, "bytes": 100, "bits_per_second": 800, "packets": 4, "omitted": false, "sender": true}],
         "sum": {"start": 0, "end": 1.0, "seconds": 1.0, "bytes": 100, "bits_per_second": 800, "packets": 4, "omitted": false, "sender": true}},
        {"streams": [], "sum": {"start": 1.0, "end": 2.0, "seconds": 1.0, "bytes": 100, "bits_per_second": 800, "packets": 4, "omitted": false, "sender": true}}],
      "end": {"sum": {"start": 0, "end": 2, "seconds": 2, "bytes": 200, "bits_per_second": 800, "jitter_ms": 0.02, "lost_packets": 1, "packets": 8, "lost_percent": 12.5, "sender": true}}}"#;

    #[test]
    fn udp_client_fields() {
        let (test, diags) = parse_str(UDP_CLIENT);
        let test = test.unwrap();
        assert!(diags.is_empty(), "{:?}", diags.items());
        assert_eq!(test.role, Some(Role::Client));
        assert_eq!(test.protocol, Some(Protocol::Udp));
        assert_eq!(test.server_port, Some(5202));
        assert_eq!(test.start_epoch, Some(1721734492.0));
        assert_eq!(test.intervals.len(), 2);
        assert_eq!(test.intervals[1].packets, Some(4));
        let totals = test.udp_totals().unwrap();
        assert_eq!((totals.lost_packets, totals.packets), (Some(1), Some(8)));
    }

    #[test]
    fn junk_line_before_json_is_reported_and_skipped() {
        let text = format!(
            "iperf3: error - unable to connect to server: Connection refused\n{UDP_CLIENT}"
        );
        let (test, diags) = parse_str(&text);
        assert_eq!(test.unwrap().intervals.len(), 2);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags.items()[0].line, Some(1));
        assert!(diags.items()[0].message.contains("unable to connect"));
    }

    #[test]
    fn crlf_is_fine() {
        let (test, diags) = parse_str(&UDP_CLIENT.replace('\n', "\r\n"));
        assert_eq!(test.unwrap().intervals.len(), 2);
        assert!(diags.is_empty());
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(matches!(parse_str("  \n").0, Err(ParseError::Empty)));
    }

    #[test]
    fn truncated_json_names_the_line() {
        let cut = &UDP_CLIENT[..UDP_CLIENT.len() / 2];
        let err = parse_str(cut).0.unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        assert!(err.line().is_some());
    }

    #[test]
    fn json_from_another_tool_is_an_error() {
        let err = parse_str(r#"{"name": "x", "values": [1,2]}"#)
            .0
            .unwrap_err();
        assert!(err.to_string().contains("not iperf3"), "{err}");
        assert!(err.is_foreign());
        let err = parse_str("[1, 2, 3]").0.unwrap_err();
        assert!(err.to_string().contains("not an iperf3 result"), "{err}");
        assert!(err.is_foreign());
        // A broken iperf3 file is not another tool's.
        assert!(!parse_str(&UDP_CLIENT[..100]).0.unwrap_err().is_foreign());
    }

    #[test]
    fn reverse_and_bad_cpu_values() {
        let text = UDP_CLIENT
            .replace("\"duration\": 2}", "\"duration\": 2, \"reverse\": 1}")
            .replace(
                "\"sender\": true}}}",
                "\"sender\": true}, \"cpu_utilization_percent\": {\"host_total\": 4.5, \"remote_total\": -1e19}}}",
            );
        let test = parse_str(&text).0.unwrap();
        assert_eq!(test.reverse, Some(true));
        let cpu = test.end.unwrap().cpu.unwrap();
        assert_eq!((cpu.host_total, cpu.remote_total), (Some(4.5), None));
    }

    #[test]
    fn negative_and_backwards_intervals_are_skipped_with_warnings() {
        let text = UDP_CLIENT
            .replacen("\"bytes\": 100, \"bits_per_second\": 800, \"packets\": 4, \"omitted\": false, \"sender\": true}}", "\"bytes\": -5, \"bits_per_second\": 800, \"packets\": 4, \"omitted\": false, \"sender\": true}}", 1);
        let (test, diags) = parse_str(&text);
        assert_eq!(test.unwrap().intervals.len(), 1);
        assert!(
            diags.items()[0].message.contains("negative"),
            "{:?}",
            diags.items()
        );
    }

    #[test]
    fn bare_nan_is_repaired_and_reported() {
        let text = UDP_CLIENT.replace("\"jitter_ms\": 0.02", "\"jitter_ms\": -nan");
        let (test, diags) = parse_str(&text);
        let test = test.unwrap();
        assert_eq!(test.udp_totals().unwrap().jitter_ms, None);
        assert!(diags.items().iter().any(|d| d.message.contains("nan")));
    }

    #[test]
    fn json_stream_with_cut_last_record() {
        let text = concat!(
            "{\"event\":\"start\",\"data\":{\"connecting_to\":{\"host\":\"h\",\"port\":5201},\"test_start\":{\"protocol\":\"TCP\",\"num_streams\":1}}}\n",
            "{\"event\":\"interval\",\"data\":{\"streams\":[{\"start\":0,\"end\":1,\"seconds\":1,\"bytes\":10,\"bits_per_second\":80,\"rtt\":2000,\"snd_cwnd\":100,\"retransmits\":0}],\"sum\":{\"start\":0,\"end\":1,\"seconds\":1,\"bytes\":10,\"bits_per_second\":80,\"retransmits\":0}}}\n",
            "{\"event\":\"interval\",\"data\":{\"streams\":[{\"sta"
        );
        let (test, diags) = parse_str(text);
        let test = test.unwrap();
        assert_eq!(test.intervals.len(), 1);
        assert_eq!(test.intervals[0].rtt_ms, Some(2.0));
        assert!(diags
            .items()
            .iter()
            .any(|d| d.line == Some(3) && d.message.contains("cut short")));
    }
}
