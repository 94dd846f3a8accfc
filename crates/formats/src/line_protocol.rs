//! InfluxDB line protocol, as `influx_inspect export` writes it: header and
//! comment lines (`# DDL`, DDL statements, `# DML`,
//! `# CONTEXT-DATABASE:name`, `# CONTEXT-RETENTION-POLICY:name`, `# writing
//! tsm data`), then one point a line:
//!
//! ```text
//! measurement[,tag=value…] field=value[,field=value…] [timestamp_ns]
//! ```
//!
//! Commas and spaces are escaped with `\` in measurements; commas, spaces
//! and equals signs in tag keys, tag values and field keys. Field values are
//! floats (`1.5`, `1e3`), signed integers (`12i`), unsigned integers
//! (`12u`), booleans (`t`, `true`, `F`, `FALSE`, …) or double-quoted
//! strings (with `\"` and `\\`). Timestamps are integer nanoseconds since
//! the epoch (UTC).
//!
//! [`parse`] streams: it reads one line at a time into a reused buffer and
//! hands each point to a callback, borrowing from that buffer, so memory
//! stays bounded whatever the file size. A bad line (bad escaping, a bad
//! field or timestamp) is reported with its number and skipped.

use crate::ParseError;
use expost_model::{Diagnostics, Severity};
use std::borrow::Cow;
use std::io::BufRead;

/// A field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    /// A float (no suffix).
    Float(f64),
    /// A signed integer (`i` suffix).
    Int(i64),
    /// An unsigned integer (`u` suffix).
    UInt(u64),
    /// A boolean.
    Bool(bool),
    /// A string, unescaped.
    Str(Cow<'a, str>),
}

impl FieldValue<'_> {
    /// The value as a number (booleans as 0/1); `None` for strings.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Float(v) => Some(*v),
            FieldValue::Int(v) => Some(*v as f64),
            FieldValue::UInt(v) => Some(*v as f64),
            FieldValue::Bool(b) => Some(f64::from(u8::from(*b))),
            FieldValue::Str(_) => None,
        }
    }
}

/// One point: a line of line protocol, unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Point<'a> {
    /// The measurement's name.
    pub measurement: Cow<'a, str>,
    /// Tags, in the order written.
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Fields, in the order written (at least one).
    pub fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
    /// Nanoseconds since the epoch, UTC; `None` when the line has none.
    pub timestamp_ns: Option<i64>,
}

impl Point<'_> {
    /// The value of tag `key`, if present.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }
}

/// Where points are: the context set by the export's comment lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// From `# CONTEXT-DATABASE:`.
    pub database: Option<String>,
    /// From `# CONTEXT-RETENTION-POLICY:`.
    pub retention_policy: Option<String>,
}

/// Counts of what a parse saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lines read.
    pub lines: u64,
    /// Points handed to the callback.
    pub points: u64,
    /// Bad lines, reported and skipped.
    pub skipped: u64,
}

/// Streams `reader`, calling `sink` with each point and the context it is in.
///
/// # Errors
/// [`ParseError::Io`] when reading fails. Bad lines are diagnostics.
pub fn parse(
    mut reader: impl BufRead,
    diags: &mut Diagnostics,
    mut sink: impl FnMut(&Context, Point<'_>),
) -> Result<Counts, ParseError> {
    let mut buf = Vec::with_capacity(256);
    let mut context = Context::default();
    let mut counts = Counts::default();
    let mut in_ddl = false;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        counts.lines += 1;
        let line_no = counts.lines;
        let mut bad = |counts: &mut Counts, message: String| {
            counts.skipped += 1;
            diags.repeated(
                Severity::Warning,
                "bad lines skipped",
                Some(line_no),
                message,
            );
        };
        let Ok(line) = std::str::from_utf8(&buf) else {
            bad(&mut counts, "not UTF-8: line skipped".into());
            continue;
        };
        let line = line.trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let comment = comment.trim();
            if comment == "DDL" {
                in_ddl = true;
            } else if comment == "DML" {
                in_ddl = false;
            } else if let Some(db) = comment.strip_prefix("CONTEXT-DATABASE:") {
                context.database = Some(db.trim().to_string());
            } else if let Some(rp) = comment.strip_prefix("CONTEXT-RETENTION-POLICY:") {
                context.retention_policy = Some(rp.trim().to_string());
            }
            continue;
        }
        if in_ddl {
            continue;
        }
        match parse_line(line) {
            Ok(point) => {
                counts.points += 1;
                sink(&context, point);
            }
            Err(message) => bad(&mut counts, format!("{message}: line skipped")),
        }
    }
    Ok(counts)
}

/// Parses one line of line protocol (no newline).
///
/// # Errors
/// A message saying what is wrong with it.
pub fn parse_line(line: &str) -> Result<Point<'_>, String> {
    let bytes = line.as_bytes();
    let (measurement, mut at) = scan(bytes, 0, b", ")?;
    if measurement.is_empty() {
        return Err("no measurement".into());
    }
    let measurement = unescape(&line[..measurement.len()]);
    let mut tags = Vec::new();
    while bytes.get(at) == Some(&b',') {
        let (key, next) = scan(bytes, at + 1, b"=, ")?;
        let key_end = at + 1 + key.len();
        if bytes.get(next) != Some(&b'=') || key.is_empty() {
            return Err(format!("tag '{}' has no '=value'", &line[at + 1..key_end]));
        }
        let (value, after) = scan(bytes, next + 1, b", ")?;
        if value.is_empty() {
            return Err(format!(
                "tag '{}' has an empty value",
                &line[at + 1..key_end]
            ));
        }
        tags.push((
            unescape(&line[at + 1..key_end]),
            unescape(&line[next + 1..next + 1 + value.len()]),
        ));
        at = after;
    }
    if bytes.get(at) != Some(&b' ') {
        return Err("no fields (expected a space after the measurement and tags)".into());
    }
    while bytes.get(at) == Some(&b' ') {
        at += 1;
    }
    let mut fields = Vec::new();
    loop {
        let (key, eq) = scan(bytes, at, b"=, ")?;
        if bytes.get(eq) != Some(&b'=') || key.is_empty() {
            return Err(format!(
                "field '{}' has no '=value' (an unescaped space or comma?)",
                &line[at..at + key.len()]
            ));
        }
        let key_text = unescape(&line[at..at + key.len()]);
        let (value, next) =
            field_value(line, eq + 1).map_err(|e| format!("field '{key_text}': {e}"))?;
        fields.push((key_text, value));
        at = next;
        if bytes.get(at) == Some(&b',') {
            at += 1;
            continue;
        }
        break;
    }
    let rest = line[at..].trim();
    let timestamp_ns = if rest.is_empty() {
        None
    } else {
        Some(
            rest.parse::<i64>()
                .map_err(|_| format!("bad timestamp '{rest}' (expected integer nanoseconds)"))?,
        )
    };
    Ok(Point {
        measurement,
        tags,
        fields,
        timestamp_ns,
    })
}

/// Scans from `start` to the first unescaped byte of `stops` (or the end),
/// returning the scanned bytes and the stop position.
fn scan<'b>(bytes: &'b [u8], start: usize, stops: &[u8]) -> Result<(&'b [u8], usize), String> {
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            if i + 1 >= bytes.len() {
                return Err("the line ends in an escape ('\\')".into());
            }
            i += 2;
            continue;
        }
        if stops.contains(&b) {
            break;
        }
        i += 1;
    }
    Ok((
        &bytes[start.min(bytes.len())..i.min(bytes.len())],
        i.min(bytes.len()),
    ))
}

/// Removes the `\` before escaped commas, spaces, equals signs and backslashes.
fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next) = chars.peek() {
                if matches!(next, ',' | ' ' | '=' | '\\') {
                    out.push(next);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// Parses the field value starting at `start`; returns it and the position after it.
fn field_value(line: &str, start: usize) -> Result<(FieldValue<'_>, usize), String> {
    let bytes = line.as_bytes();
    if bytes.get(start) == Some(&b'"') {
        let mut i = start + 1;
        let mut escaped = false;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if i + 1 < bytes.len() => {
                    escaped = true;
                    i += 2;
                    continue;
                }
                b'"' => {
                    let inner = &line[start + 1..i];
                    let text = if escaped {
                        Cow::Owned(inner.replace("\\\"", "\"").replace("\\\\", "\\"))
                    } else {
                        Cow::Borrowed(inner)
                    };
                    return Ok((FieldValue::Str(text), i + 1));
                }
                _ => i += 1,
            }
        }
        return Err("unterminated string (no closing '\"')".into());
    }
    let end = bytes[start..]
        .iter()
        .position(|b| *b == b',' || *b == b' ')
        .map_or(bytes.len(), |p| start + p);
    let text = &line[start..end];
    if text.is_empty() {
        return Err("empty value".into());
    }
    let value = match text.as_bytes()[text.len() - 1] {
        b'i' => FieldValue::Int(
            text[..text.len() - 1]
                .parse()
                .map_err(|_| format!("bad integer '{text}'"))?,
        ),
        b'u' => FieldValue::UInt(
            text[..text.len() - 1]
                .parse()
                .map_err(|_| format!("bad unsigned integer '{text}'"))?,
        ),
        _ => match text {
            "t" | "T" | "true" | "True" | "TRUE" => FieldValue::Bool(true),
            "f" | "F" | "false" | "False" | "FALSE" => FieldValue::Bool(false),
            _ => {
                let v: f64 = text.parse().map_err(|_| format!("bad value '{text}'"))?;
                if !v.is_finite() {
                    return Err(format!("value '{text}' is not a finite number"));
                }
                FieldValue::Float(v)
            }
        },
    };
    Ok((value, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> (Vec<String>, Diagnostics, Counts, Context) {
        let mut d = Diagnostics::default();
        let mut seen = Vec::new();
        let mut ctx = Context::default();
        let counts = parse(text.as_bytes(), &mut d, |c, p| {
            ctx = c.clone();
            seen.push(format!("{p:?}"));
        })
        .unwrap();
        (seen, d, counts, ctx)
    }

    #[test]
    fn export_header_and_points() {
        let text = "# INFLUXDB EXPORT: 1677-09-21T00:12:43Z - 2262-04-11T23:47:16Z\n# DDL\nCREATE DATABASE telegraf WITH NAME autogen\n# DML\n# CONTEXT-DATABASE:telegraf\n# CONTEXT-RETENTION-POLICY:autogen\n# writing tsm data\ncpu,host=a,role=bus usage_idle=97.5 1439856000000000000\r\n\nrandset value=1i\n";
        let (seen, d, counts, ctx) = all(text);
        assert!(d.is_empty(), "{:?}", d.items());
        assert_eq!(seen.len(), 2);
        assert_eq!(counts.points, 2);
        assert_eq!(ctx.database.as_deref(), Some("telegraf"));
        assert_eq!(ctx.retention_policy.as_deref(), Some("autogen"));
    }

    #[test]
    fn escaping_and_field_types() {
        let p = parse_line(
            r#"my\ meas\,ure,ta\=g\ k=v\,a\ l\=ue s="a \"q\" b\\",i=-3i,u=7u,b=T,f=1e3,g=-0.5 -1000"#,
        )
        .unwrap();
        assert_eq!(p.measurement, "my meas,ure");
        assert_eq!(p.tags[0].0, "ta=g k");
        assert_eq!(p.tags[0].1, "v,a l=ue");
        assert_eq!(p.fields[0].1, FieldValue::Str(Cow::Borrowed(r#"a "q" b\"#)));
        assert_eq!(p.fields[1].1, FieldValue::Int(-3));
        assert_eq!(p.fields[2].1, FieldValue::UInt(7));
        assert_eq!(p.fields[3].1, FieldValue::Bool(true));
        assert_eq!(p.fields[4].1, FieldValue::Float(1000.0));
        assert_eq!(p.fields[5].1, FieldValue::Float(-0.5));
        assert_eq!(p.timestamp_ns, Some(-1000));
        let s = parse_line(r#"m f="with, comma and space",g=1"#).unwrap();
        assert_eq!(
            s.fields[0].1,
            FieldValue::Str(Cow::Borrowed("with, comma and space"))
        );
        assert_eq!(s.fields[1].1, FieldValue::Float(1.0));
    }

    #[test]
    fn bad_lines_are_reported_with_their_number_and_the_rest_goes_on() {
        let text = "m v=1 1\nm,host=a b v=1 2\nm v=1 12x\nm v=\"open 3\nm v=1 4\\\nm v=2 5\n";
        let (seen, d, counts, _) = all(text);
        assert_eq!(seen.len(), 2);
        assert_eq!(counts.skipped, 4);
        assert_eq!(d.len(), 1, "{:?}", d.items());
        assert_eq!(d.items()[0].line, Some(2));
        let message = &d.items()[0].message;
        assert!(
            message.starts_with("4 bad lines skipped (lines 2, 3, 4, 5; first: "),
            "{message}"
        );
        assert!(message.contains("field 'b'"), "{message}");
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(parse_line("m").unwrap_err().contains("no fields"));
        assert!(parse_line(",t=a v=1")
            .unwrap_err()
            .contains("no measurement"));
        assert!(parse_line("m,t v=1").unwrap_err().contains("tag 't'"));
        assert!(parse_line("m,t= v=1").unwrap_err().contains("empty value"));
        assert!(parse_line("m v=1x").unwrap_err().contains("bad value"));
        assert!(parse_line("m v=99999999999999999999i")
            .unwrap_err()
            .contains("bad integer"));
        assert!(parse_line("m\\").unwrap_err().contains("escape"));
    }
}
