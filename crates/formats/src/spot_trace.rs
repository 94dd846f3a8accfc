//! Spot-instance trace readers, one per format, into one model
//! ([`expost_model::spot::Trace`]): nodes joining and leaving over time.
//!
//! Every reader takes an `impl BufRead`, reports what it repaired or skipped
//! into a [`Diagnostics`], and fails with a [`TraceError`] naming the line
//! when the input cannot be used. [`parse`] recognises the format from the
//! first line; [`parse_as`] reads a given one.

use chrono::NaiveDateTime;
use expost_model::spot::{NodeEvent, Trace, TraceFormat};
use expost_model::{Diagnostics, Severity};
use std::collections::HashMap;
use std::io::BufRead;

/// Seconds in a day: the shift applied to rows dated a day early.
const DAY_S: f64 = 86_400.0;

/// Unit of a step plot's first column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetUnit {
    /// Milliseconds (e.g. Parcae's `aws/traces/*.csv`).
    Milliseconds,
    /// Seconds.
    Seconds,
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
}

impl OffsetUnit {
    /// The unit named `name` (`ms`, `s`, `min`, `h`, or their long names,
    /// as a step plot's header or `--time-unit` gives it).
    pub fn named(name: &str) -> Option<OffsetUnit> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ms" | "millisecond" | "milliseconds" => Some(OffsetUnit::Milliseconds),
            "s" | "sec" | "second" | "seconds" => Some(OffsetUnit::Seconds),
            "min" | "minute" | "minutes" => Some(OffsetUnit::Minutes),
            "h" | "hour" | "hours" => Some(OffsetUnit::Hours),
            _ => None,
        }
    }

    /// Seconds in one unit.
    pub fn seconds(self) -> f64 {
        match self {
            OffsetUnit::Milliseconds => 0.001,
            OffsetUnit::Seconds => 1.0,
            OffsetUnit::Minutes => 60.0,
            OffsetUnit::Hours => 3600.0,
        }
    }

    /// Its short name.
    pub fn short(self) -> &'static str {
        match self {
            OffsetUnit::Milliseconds => "ms",
            OffsetUnit::Seconds => "s",
            OffsetUnit::Minutes => "min",
            OffsetUnit::Hours => "h",
        }
    }
}

/// A trace longer than this (90 days) is implausible for one experiment:
/// most likely its times were read in the wrong unit (a warning).
pub const PLAUSIBLE_SPAN_S: f64 = 90.0 * 86_400.0;

/// Options of the readers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Force a format instead of recognising it.
    pub format: Option<TraceFormat>,
    /// Unit of a step plot's offsets; `None` takes its header's, else
    /// guesses: hours when any offset has a fractional part, seconds
    /// otherwise (reported as a note).
    pub step_unit: Option<OffsetUnit>,
    /// Keep a count trace's final drop of every node to 0 as a removal:
    /// by default it is read as the experiment's end (see
    /// [`final_shutdown`]), reported and left out.
    pub keep_final_shutdown: bool,
}

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The reader failed.
    #[error("could not read: {0}")]
    Io(#[from] std::io::Error),
    /// No records at all.
    #[error("no records: the file is empty")]
    Empty,
    /// The first line matches no known format.
    #[error("line {line}: not a known trace format (found {found:?}; expected one of: timestamp,count | timestamp,number | time,count | <offset>,<count> | <ms>,add|remove,<node> | YYYY-MM-DD, HH:MM:SS, <count> | SkyPilot JSON)")]
    Unknown {
        /// The 1-based line.
        line: u64,
        /// The start of what was found there.
        found: String,
    },
    /// A record is wrong in a way that cannot be repaired.
    #[error("line {line}: {message}")]
    Invalid {
        /// The 1-based line.
        line: u64,
        /// What was wrong and what was expected.
        message: String,
    },
}

impl TraceError {
    /// The 1-based line the error is on, if any.
    pub fn line(&self) -> Option<u64> {
        match self {
            TraceError::Unknown { line, .. } | TraceError::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }
}

fn invalid(line: u64, message: impl Into<String>) -> TraceError {
    TraceError::Invalid {
        line,
        message: message.into(),
    }
}

/// A line of text with its 1-based number.
struct Line {
    number: u64,
    text: String,
}

/// Reads all lines, removing CR before LF (reported once), and reporting a
/// last line without its newline. Lines that are not UTF-8 are errors.
fn read_lines(
    mut reader: impl BufRead,
    diags: &mut Diagnostics,
) -> Result<(Vec<Line>, bool), TraceError> {
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    let mut crlf = 0u64;
    let mut number = 0u64;
    let mut last_complete = true;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        number += 1;
        last_complete = buf.last() == Some(&b'\n');
        if last_complete {
            buf.pop();
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
            crlf += 1;
        }
        let text = String::from_utf8(std::mem::take(&mut buf))
            .map_err(|_| invalid(number, "not UTF-8 text"))?;
        lines.push(Line { number, text });
    }
    if crlf > 0 {
        diags.note(
            None,
            format!("CRLF line endings ({crlf} lines); read as LF"),
        );
    }
    while lines.last().is_some_and(|l| l.text.trim().is_empty()) {
        lines.pop();
    }
    Ok((lines, last_complete))
}

/// Recognises the format from the first non-empty line.
pub fn sniff(first: &str) -> Option<TraceFormat> {
    let t = first.trim();
    if t.starts_with('{') {
        return Some(TraceFormat::SkyPilot);
    }
    let lower = t.to_ascii_lowercase();
    match lower.as_str() {
        "timestamp,count" => return Some(TraceFormat::NodeCount),
        "timestamp,number" => return Some(TraceFormat::Terminations),
        "time,count" => return Some(TraceFormat::AsgMetric),
        _ => {}
    }
    let fields: Vec<&str> = t.split(',').map(str::trim).collect();
    match fields.as_slice() {
        [ms, kind, _] if ms.parse::<u64>().is_ok() && (*kind == "add" || *kind == "remove") => {
            Some(TraceFormat::NodeEvents)
        }
        [date, time, count]
            if NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S")
                .is_ok()
                && count.parse::<i64>().is_ok() =>
        {
            Some(TraceFormat::GcpText)
        }
        [offset, count] if offset.parse::<f64>().is_ok() && count.parse::<f64>().is_ok() => {
            Some(TraceFormat::StepPlot)
        }
        // A step plot with a header naming its offsets' unit (`milliseconds,count`).
        [unit, _] if OffsetUnit::named(unit).is_some() => Some(TraceFormat::StepPlot),
        _ => None,
    }
}

/// Reads a trace, recognising its format from its first line (or taking
/// `options.format`). Repairs (CRLF, misdated rows, repeated samples) are
/// reported into `diags`.
pub fn parse(
    reader: impl BufRead,
    options: ReadOptions,
    diags: &mut Diagnostics,
) -> Result<Trace, TraceError> {
    let (lines, last_complete) = read_lines(reader, diags)?;
    let Some(first) = lines.iter().find(|l| !l.text.trim().is_empty()) else {
        return Err(TraceError::Empty);
    };
    let format = match options.format {
        Some(f) => f,
        None => sniff(&first.text).ok_or_else(|| TraceError::Unknown {
            line: first.number,
            found: first.text.chars().take(40).collect(),
        })?,
    };
    let mut trace = parse_lines(format, lines, last_complete, options, diags)?;
    if !options.keep_final_shutdown {
        final_shutdown(&mut trace, diags);
    }
    if trace.duration > PLAUSIBLE_SPAN_S {
        diags.warn(
            None,
            format!(
                "the trace spans {:.0} days, implausible for one experiment: check the unit of its times (--time-unit ms|s|min|h)",
                trace.duration / 86_400.0
            ),
        );
    }
    Ok(trace)
}

/// Reads a trace of a known format.
pub fn parse_as(
    format: TraceFormat,
    reader: impl BufRead,
    diags: &mut Diagnostics,
) -> Result<Trace, TraceError> {
    let options = ReadOptions {
        format: Some(format),
        ..ReadOptions::default()
    };
    parse(reader, options, diags)
}

fn parse_lines(
    format: TraceFormat,
    mut lines: Vec<Line>,
    last_complete: bool,
    options: ReadOptions,
    diags: &mut Diagnostics,
) -> Result<Trace, TraceError> {
    // A last line without newline that does not parse was cut short.
    if !last_complete {
        if let Some(last) = lines.last() {
            if !record_is_whole(format, &last.text) {
                diags.warn(
                    Some(last.number),
                    format!("last line cut short ({:?}); ignored", last.text),
                );
                lines.pop();
            }
        }
    }
    let header = matches!(
        format,
        TraceFormat::NodeCount | TraceFormat::Terminations | TraceFormat::AsgMetric
    );
    let body: Vec<Line> = lines
        .into_iter()
        .filter(|l| !l.text.trim().is_empty())
        .skip(usize::from(header))
        .collect();
    if body.is_empty() {
        return Err(TraceError::Empty);
    }
    match format {
        TraceFormat::NodeCount => {
            let rows = timed_rows(&body, 2, parse_iso, "timestamp,count")?;
            counts_to_trace(format, rows, false, diags)
        }
        TraceFormat::AsgMetric => {
            diags.note(None, "Auto Scaling group times carry no zone; read as UTC");
            let rows = timed_rows(&body, 2, parse_plain, "time,count")?;
            counts_to_trace(format, rows, false, diags)
        }
        TraceFormat::GcpText => {
            diags.note(None, "GCP trace times carry no zone; read as UTC");
            let rows = gcp_rows(&body)?;
            let rows = drop_repeated_samples(rows, diags);
            counts_to_trace(format, rows, false, diags)
        }
        TraceFormat::StepPlot => step_plot(&body, options.step_unit, diags),
        TraceFormat::Terminations => terminations(&body, diags),
        TraceFormat::NodeEvents => node_events(&body, diags),
        TraceFormat::SkyPilot => {
            let text: Vec<&str> = body.iter().map(|l| l.text.as_str()).collect();
            skypilot(&text.join("\n"), diags)
        }
    }
}

/// True when `text` is a complete record of `format` (used on a last line
/// without newline).
fn record_is_whole(format: TraceFormat, text: &str) -> bool {
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    match format {
        TraceFormat::NodeEvents => {
            fields.len() == 3
                && fields[0].parse::<u64>().is_ok()
                && (fields[1] == "add" || fields[1] == "remove")
                && !fields[2].is_empty()
        }
        TraceFormat::GcpText => {
            fields.len() == 3 && fields[2].parse::<i64>().is_ok() && fields[1].len() == 8
        }
        TraceFormat::NodeCount | TraceFormat::Terminations => {
            fields.len() == 2 && parse_iso(fields[0]).is_some() && fields[1].parse::<f64>().is_ok()
        }
        TraceFormat::AsgMetric => {
            fields.len() == 2
                && parse_plain(fields[0]).is_some()
                && fields[1].parse::<f64>().is_ok()
        }
        TraceFormat::StepPlot => {
            fields.len() == 2 && fields.iter().all(|f| f.parse::<f64>().is_ok())
        }
        TraceFormat::SkyPilot => true,
    }
}

fn parse_iso(s: &str) -> Option<f64> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%SZ")
        .ok()
        .map(|d| d.and_utc().timestamp() as f64)
}

fn parse_plain(s: &str) -> Option<f64> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|d| d.and_utc().timestamp() as f64)
}

/// A count as a whole, non-negative number (`16` or `16.0`).
fn whole_count(text: &str, line: u64) -> Result<i64, TraceError> {
    let v: f64 = text
        .trim()
        .parse()
        .map_err(|_| invalid(line, format!("count {text:?} is not a number")))?;
    if !v.is_finite() || v.fract() != 0.0 {
        return Err(invalid(
            line,
            format!("count {text:?} is not a whole number"),
        ));
    }
    if v < 0.0 {
        return Err(invalid(line, format!("count {text:?} is below zero")));
    }
    Ok(v as i64)
}

/// A row: (line, epoch seconds or offset, count).
type Row = (u64, f64, i64);

fn timed_rows(
    body: &[Line],
    fields: usize,
    time: fn(&str) -> Option<f64>,
    expected: &str,
) -> Result<Vec<Row>, TraceError> {
    body.iter()
        .map(|l| {
            let parts: Vec<&str> = l.text.split(',').collect();
            if parts.len() != fields {
                return Err(invalid(
                    l.number,
                    format!(
                        "expected {fields} fields ({expected}), found {}",
                        parts.len()
                    ),
                ));
            }
            let t = time(parts[0]).ok_or_else(|| {
                invalid(
                    l.number,
                    format!("bad time {:?} ({expected})", parts[0].trim()),
                )
            })?;
            Ok((l.number, t, whole_count(parts[1], l.number)?))
        })
        .collect()
}

fn gcp_rows(body: &[Line]) -> Result<Vec<Row>, TraceError> {
    body.iter()
        .map(|l| {
            let parts: Vec<&str> = l.text.split(',').map(str::trim).collect();
            if parts.len() != 3 {
                return Err(invalid(
                    l.number,
                    format!(
                        "expected 3 fields (YYYY-MM-DD, HH:MM:SS, count), found {}",
                        parts.len()
                    ),
                ));
            }
            let t = parse_plain(&format!("{} {}", parts[0], parts[1])).ok_or_else(|| {
                invalid(
                    l.number,
                    format!("bad date and time {:?}, {:?}", parts[0], parts[1]),
                )
            })?;
            Ok((l.number, t, whole_count(parts[2], l.number)?))
        })
        .collect()
}

/// GCP traces print each count at the moment it changed and again each
/// minute for two minutes, so a change goes back in time over the previous
/// count's repeats. A row earlier than (or as early as) kept rows replaces
/// them: they were repeats of a count that no longer held. Reported.
fn drop_repeated_samples(rows: Vec<Row>, diags: &mut Diagnostics) -> Vec<Row> {
    let mut kept: Vec<Row> = Vec::with_capacity(rows.len());
    for row in rows {
        let first_later = kept.partition_point(|k| k.1 < row.1);
        if first_later < kept.len() {
            let dropped = kept.len() - first_later;
            diags.repeated(
                Severity::Warning,
                "rows going back in time",
                Some(row.0),
                format!(
                    "time goes back {:.0} s to before line {}; the {dropped} earlier row(s) at or after it repeat a stale count and are replaced",
                    kept[kept.len() - 1].1 - row.1,
                    kept[first_later].0
                ),
            );
            kept.truncate(first_later);
        }
        kept.push(row);
    }
    kept
}

/// Rows of live-node counts to a trace; rows must be in time order, with
/// no repeated time unless `steps` (a step plot draws each change twice).
fn counts_to_trace(
    format: TraceFormat,
    rows: Vec<Row>,
    steps: bool,
    _diags: &mut Diagnostics,
) -> Result<Trace, TraceError> {
    let (_, t0, initial) = rows[0];
    let mut events = Vec::new();
    let mut prev = rows[0];
    for &row in &rows[1..] {
        if row.1 < prev.1 {
            return Err(invalid(
                row.0,
                format!(
                    "rows out of order: this row's time is {:.0} s before line {}'s",
                    prev.1 - row.1,
                    prev.0
                ),
            ));
        }
        if row.1 == prev.1 && !steps {
            return Err(invalid(
                row.0,
                format!("duplicate timestamp: line {} has the same time", prev.0),
            ));
        }
        if row.2 != prev.2 {
            events.push(NodeEvent {
                t: row.1 - t0,
                delta: row.2 - prev.2,
                node: None,
            });
        }
        prev = row;
    }
    let absolute = !matches!(format, TraceFormat::StepPlot);
    Ok(Trace {
        format,
        start_epoch: absolute.then_some(t0),
        duration: prev.1 - t0,
        initial,
        events,
    })
}

/// A count trace (node counts over time, not an availability measure) whose
/// last change drops every live node, two or more, to 0 at once records the
/// experiment being shut down, not a preemption: that drop is left out of
/// the trace (it then ends at that instant with the nodes it had), and a
/// warning says so. Returns whether it was.
pub fn final_shutdown(trace: &mut Trace, diags: &mut Diagnostics) -> bool {
    let counted = matches!(
        trace.format,
        TraceFormat::NodeCount
            | TraceFormat::AsgMetric
            | TraceFormat::GcpText
            | TraceFormat::StepPlot
    );
    let Some(last) = trace.events.last() else {
        return false;
    };
    let live_before: i64 =
        trace.initial + trace.events.iter().map(|e| e.delta).sum::<i64>() - last.delta;
    if !counted || last.delta > -2 || live_before + last.delta != 0 {
        return false;
    }
    diags.warn(
        None,
        format!(
            "the trace ends by shutting down all {live_before} nodes at once (at {:.0} s): read as the end of the experiment, not a preemption (--keep-final-shutdown keeps it)",
            last.t
        ),
    );
    trace.events.pop();
    true
}

fn step_plot(
    body: &[Line],
    given: Option<OffsetUnit>,
    diags: &mut Diagnostics,
) -> Result<Trace, TraceError> {
    let (header_unit, body) = step_plot_header(body)?;
    let mut rows = Vec::with_capacity(body.len());
    for l in body {
        let parts: Vec<&str> = l.text.split(',').collect();
        if parts.len() != 2 {
            return Err(invalid(
                l.number,
                format!("expected 2 fields (offset,count), found {}", parts.len()),
            ));
        }
        let t: f64 = parts[0]
            .trim()
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                invalid(
                    l.number,
                    format!("offset {:?} is not a non-negative number", parts[0].trim()),
                )
            })?;
        rows.push((l.number, t, whole_count(parts[1], l.number)?));
    }
    let unit = step_plot_unit(given, header_unit, &rows, diags);
    for r in &mut rows {
        r.1 *= unit.seconds();
    }
    counts_to_trace(TraceFormat::StepPlot, rows, true, diags)
}

/// A step plot's header line naming its offsets' unit (`milliseconds,count`),
/// if it has one, and the lines after it.
fn step_plot_header(body: &[Line]) -> Result<(Option<OffsetUnit>, &[Line]), TraceError> {
    let Some(first) = body.first() else {
        return Ok((None, body));
    };
    let name = first.text.split(',').next().unwrap_or("").trim();
    if name.parse::<f64>().is_ok() {
        return Ok((None, body));
    }
    match OffsetUnit::named(name) {
        Some(unit) => Ok((Some(unit), &body[1..])),
        None => Err(invalid(
            first.number,
            format!("{name:?} is neither an offset nor a unit (ms, s, min, h)"),
        )),
    }
}

/// The unit of a step plot's offsets: the one given, else its header's,
/// else a guess that is said (hours when an offset has a fraction, else
/// seconds).
fn step_plot_unit(
    given: Option<OffsetUnit>,
    header: Option<OffsetUnit>,
    rows: &[Row],
    diags: &mut Diagnostics,
) -> OffsetUnit {
    match (given, header) {
        (Some(given), Some(header)) if given != header => {
            diags.warn(
                None,
                format!(
                    "the header says the offsets are in {}, read in {} as given",
                    header.short(),
                    given.short()
                ),
            );
            given
        }
        (Some(unit), _) | (None, Some(unit)) => unit,
        (None, None) if rows.iter().any(|r| r.1.fract() != 0.0) => {
            diags.note(
                None,
                "no unit given: offsets with fractions read as hours (give --time-unit to override)",
            );
            OffsetUnit::Hours
        }
        (None, None) => {
            diags.note(
                None,
                "no unit given: whole offsets read as seconds (give --time-unit to override)",
            );
            OffsetUnit::Seconds
        }
    }
}

/// Termination rows; a row dated exactly one day before its neighbours
/// (Bamboo's full-64 trace dates its six rows after midnight a day early)
/// is moved forward a day and reported.
fn terminations(body: &[Line], diags: &mut Diagnostics) -> Result<Trace, TraceError> {
    let mut rows = timed_rows(body, 2, parse_iso, "timestamp,number")?;
    for i in 1..rows.len() {
        let prev = rows[i - 1];
        let row = &mut rows[i];
        if row.1 < prev.1 && row.1 + DAY_S >= prev.1 {
            diags.repeated(
                Severity::Warning,
                "rows dated a day early moved forward 24 h",
                Some(row.0),
                format!(
                    "dated a day early (before line {}); moved forward 24 h",
                    prev.0
                ),
            );
            row.1 += DAY_S;
        }
    }
    let t0 = rows[0].1;
    let mut events = Vec::with_capacity(rows.len());
    let mut prev = rows[0];
    for (i, &row) in rows.iter().enumerate() {
        if i > 0 && row.1 < prev.1 {
            return Err(invalid(
                row.0,
                format!(
                    "rows out of order: this row's time is {:.0} s before line {}'s",
                    prev.1 - row.1,
                    prev.0
                ),
            ));
        }
        if i > 0 && row.1 == prev.1 {
            return Err(invalid(
                row.0,
                format!("duplicate timestamp: line {} has the same time", prev.0),
            ));
        }
        if row.2 > 0 {
            events.push(NodeEvent {
                t: row.1 - t0,
                delta: -row.2,
                node: None,
            });
        }
        prev = row;
    }
    Ok(Trace {
        format: TraceFormat::Terminations,
        start_epoch: Some(t0),
        duration: prev.1 - t0,
        initial: 0,
        events,
    })
}

fn node_events(body: &[Line], diags: &mut Diagnostics) -> Result<Trace, TraceError> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut live: Vec<bool> = Vec::new();
    let mut events = Vec::with_capacity(body.len());
    let mut last_ms = 0u64;
    for l in body {
        let parts: Vec<&str> = l.text.split(',').map(str::trim).collect();
        if parts.len() != 3 {
            return Err(invalid(
                l.number,
                format!(
                    "expected 3 fields (ms,add|remove,node), found {}",
                    parts.len()
                ),
            ));
        }
        let ms: u64 = parts[0].parse().map_err(|_| {
            invalid(
                l.number,
                format!("time {:?} is not whole milliseconds", parts[0]),
            )
        })?;
        if ms < last_ms {
            return Err(invalid(
                l.number,
                format!("rows out of order: {ms} ms comes after {last_ms} ms"),
            ));
        }
        last_ms = ms;
        if parts[2].is_empty() {
            return Err(invalid(l.number, "empty node name"));
        }
        let next = ids.len() as u32;
        let id = *ids.entry(parts[2].to_string()).or_insert(next);
        if id as usize == live.len() {
            live.push(false);
        }
        let delta = match parts[1] {
            "add" if live[id as usize] => {
                diags.repeated(
                    Severity::Warning,
                    "adds of live nodes ignored",
                    Some(l.number),
                    format!("{} added while live; ignored", parts[2]),
                );
                continue;
            }
            "remove" if !live[id as usize] => {
                diags.repeated(
                    Severity::Warning,
                    "removes of nodes not live ignored",
                    Some(l.number),
                    format!("{} removed while not live; ignored", parts[2]),
                );
                continue;
            }
            "add" => 1,
            "remove" => -1,
            other => {
                return Err(invalid(
                    l.number,
                    format!("event {other:?} is neither add nor remove"),
                ));
            }
        };
        live[id as usize] = delta > 0;
        events.push(NodeEvent {
            t: ms as f64 / 1000.0,
            delta,
            node: Some(id),
        });
    }
    Ok(Trace {
        format: TraceFormat::NodeEvents,
        start_epoch: None,
        duration: last_ms as f64 / 1000.0,
        initial: 0,
        events,
    })
}

#[derive(serde::Deserialize)]
struct SkyMeta {
    gap_seconds: f64,
}

#[derive(serde::Deserialize)]
struct SkyFile {
    metadata: SkyMeta,
    data: Vec<f64>,
}

/// A SkyPilot spot trace (skypilot-org/spot-traces): one value per
/// `gap_seconds`. A multi-instance trace holds the number of instances
/// available; a single-instance trace holds 0/1 flags where 1 means the
/// instance was preempted (spot unavailable), read here as availability
/// `1 - flag`. A trace whose values are all 0 or 1 is taken for the latter,
/// and that is said.
fn skypilot(text: &str, diags: &mut Diagnostics) -> Result<Trace, TraceError> {
    let file: SkyFile = serde_json::from_str(text).map_err(|e| {
        invalid(
            e.line() as u64,
            format!("not a SkyPilot trace ({{\"metadata\": {{\"gap_seconds\": N}}, \"data\": [...]}}): {e}"),
        )
    })?;
    let gap = file.metadata.gap_seconds;
    if !(gap.is_finite() && gap > 0.0) {
        return Err(invalid(
            1,
            format!("gap_seconds {gap} must be a positive number"),
        ));
    }
    if file.data.is_empty() {
        return Err(TraceError::Empty);
    }
    if let Some((i, v)) = (file.data.iter().enumerate())
        .find(|(_, v)| !v.is_finite() || v.fract() != 0.0 || **v < 0.0)
    {
        return Err(invalid(
            1,
            format!("data[{i}] = {v} is not a whole count of at least zero"),
        ));
    }
    let flags = file.data.iter().all(|&v| v == 0.0 || v == 1.0);
    if flags {
        diags.note(
            None,
            "values are 0/1: a single-instance trace where 1 means preempted (spot unavailable); read as 1 - value instances available",
        );
    } else {
        diags.note(None, "values are counts of instances available");
    }
    let rows: Vec<Row> = (file.data.iter().enumerate())
        .map(|(i, &v)| {
            let available = if flags { 1.0 - v } else { v };
            (1, i as f64 * gap, available as i64)
        })
        .collect();
    let mut trace = counts_to_trace(TraceFormat::SkyPilot, rows, false, diags)?;
    trace.start_epoch = None;
    Ok(trace)
}

#[cfg(test)]
mod tests;
