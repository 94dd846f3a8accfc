//! Batch Shipyard performance events, as its nodes write them into the
//! Azure Table `<prefix>perf` (one entity per event) and as exported to a
//! file: JSON lines (one entity object per line, the Table service's
//! `odata=nometadata` shape) or CSV with a header row.
//!
//! An entity has `PartitionKey` (`<batch account>$<pool id>`), `RowKey` (the
//! event's epoch time in seconds as a decimal string, made unique by adding
//! 1 µs per collision), `Event` (`source:name`, e.g. `cascade:pull-end`),
//! `NodeId` and `Message` (a comma-separated `key=value` list).
//!
//! This module only parses: it keeps every field as text and leaves the
//! meaning of events to the study. Parsing the `Message` list and Docker's
//! size strings lives here too, as they are part of the format.

use crate::ParseError;
use expost_model::Diagnostics;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io::{BufRead, Write};

/// One performance event entity, with every field as the table holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerfEntity {
    /// `<batch account>$<pool id>`.
    #[serde(rename = "PartitionKey")]
    pub partition_key: String,
    /// The event's epoch time, seconds, as a decimal string.
    #[serde(rename = "RowKey")]
    pub row_key: String,
    /// `source:name`, e.g. `nodeprep:start`; `None` when the entity has none.
    #[serde(rename = "Event", default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The compute node that wrote the event.
    #[serde(rename = "NodeId", default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// Comma-separated `key=value` pairs.
    #[serde(rename = "Message", default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Where the entity came from: the 1-based line of an export file, or
    /// its 1-based position in a table query's result.
    #[serde(skip)]
    pub line: u64,
}

/// The same entity, borrowing from the input where it can (fast path).
#[derive(Deserialize)]
struct BorrowedEntity<'a> {
    #[serde(rename = "PartitionKey", borrow)]
    partition_key: Option<Cow<'a, str>>,
    #[serde(rename = "RowKey", borrow)]
    row_key: Option<Cow<'a, str>>,
    #[serde(rename = "Event", borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(rename = "NodeId", borrow, default)]
    node_id: Option<Cow<'a, str>>,
    #[serde(rename = "Message", borrow, default)]
    message: Option<Cow<'a, str>>,
}

/// The format of an export file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header naming `PartitionKey`, `RowKey`, `Event`, `NodeId`, `Message`.
    Csv,
}

impl ExportFormat {
    /// The format a file name implies: `.csv` is CSV, anything else JSON lines.
    pub fn from_path(path: &std::path::Path) -> ExportFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => ExportFormat::Csv,
            _ => ExportFormat::JsonLines,
        }
    }
}

/// Bytes of whole lines parsed in parallel per block (bounds memory while streaming).
const BLOCK_BYTES: usize = 16 << 20;

/// Parses a JSON-lines export. Blank lines are skipped; a line that is not
/// an entity object (or lacks `PartitionKey`/`RowKey`) is reported and
/// skipped; a cut last line is reported as such. Lines are read in blocks
/// of whole lines, parsed in parallel, and returned in file order.
pub fn parse_jsonl(
    mut reader: impl BufRead,
    diags: &mut Diagnostics,
) -> Result<Vec<PerfEntity>, ParseError> {
    let mut entities = Vec::new();
    let mut block: Vec<u8> = Vec::with_capacity(BLOCK_BYTES + (1 << 16));
    let mut first_line = 1u64;
    let mut saw_text = false;
    loop {
        let n = reader.read_until(b'\n', &mut block)?;
        if block.len() >= BLOCK_BYTES || (n == 0 && !block.is_empty()) {
            let lines = parse_block(&block, first_line, &mut entities, diags, &mut saw_text);
            first_line += lines;
            block.clear();
        }
        if n == 0 {
            break;
        }
    }
    if !saw_text {
        return Err(ParseError::Empty);
    }
    if entities.is_empty() {
        return Err(ParseError::format(
            None,
            "no line holds a perf entity (a JSON object with PartitionKey and RowKey)",
        ));
    }
    Ok(entities)
}

/// Parses the whole lines of `block` (the first is line `first_line`);
/// returns how many lines it held.
fn parse_block(
    block: &[u8],
    first_line: u64,
    out: &mut Vec<PerfEntity>,
    diags: &mut Diagnostics,
    saw_text: &mut bool,
) -> u64 {
    let lines: Vec<(u64, &[u8])> = block
        .split_inclusive(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (first_line + i as u64, l))
        .collect();
    let count = lines.len() as u64;
    let results: Vec<Option<Result<PerfEntity, (u64, String)>>> = lines
        .par_iter()
        .with_min_len(1024)
        .map(|(line, bytes)| {
            let text = bytes.trim_ascii();
            (!text.is_empty()).then(|| parse_line(*line, text).map_err(|m| (*line, m)))
        })
        .collect();
    out.reserve(results.len());
    for result in results.into_iter().flatten() {
        *saw_text = true;
        match result {
            Ok(entity) => out.push(entity),
            Err((line, message)) => diags.warn(Some(line), message),
        }
    }
    count
}

fn parse_line(line: u64, text: &[u8]) -> Result<PerfEntity, String> {
    let entity: BorrowedEntity<'_> = serde_json::from_slice(text).map_err(|e| {
        if e.is_eof() {
            format!("entity cut short ({e}); line skipped")
        } else {
            format!("not a perf entity object ({e}); line skipped")
        }
    })?;
    let (Some(partition_key), Some(row_key)) = (entity.partition_key, entity.row_key) else {
        return Err("entity without PartitionKey or RowKey; line skipped".into());
    };
    Ok(PerfEntity {
        partition_key: partition_key.into_owned(),
        row_key: row_key.into_owned(),
        event: entity.event.map(Cow::into_owned),
        node_id: entity.node_id.map(Cow::into_owned),
        message: entity.message.map(Cow::into_owned),
        line,
    })
}

/// Reads an entity from a Table service JSON object (as `Query Entities`
/// returns it). `line` is its position in the result. Returns `None` when
/// `PartitionKey` or `RowKey` is missing or not a string.
pub fn entity_from_json(
    object: &serde_json::Map<String, serde_json::Value>,
    line: u64,
) -> Option<PerfEntity> {
    let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    Some(PerfEntity {
        partition_key: text("PartitionKey")?,
        row_key: text("RowKey")?,
        event: text("Event"),
        node_id: text("NodeId"),
        message: text("Message"),
        line,
    })
}

/// Parses a CSV export (header row naming the columns, any order; extra
/// columns ignored). An empty field reads as absent.
pub fn parse_csv(
    reader: impl BufRead,
    diags: &mut Diagnostics,
) -> Result<Vec<PerfEntity>, ParseError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv
        .headers()
        .map_err(|e| ParseError::format(Some(1), format!("unreadable CSV header: {e}")))?
        .clone();
    if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
        return Err(ParseError::Empty);
    }
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(pk), Some(rk)) = (column("PartitionKey"), column("RowKey")) else {
        return Err(ParseError::format(
            Some(1),
            "the CSV header must name PartitionKey and RowKey (and Event, NodeId, Message)",
        ));
    };
    let (ev, node, msg) = (column("Event"), column("NodeId"), column("Message"));
    let mut entities = Vec::new();
    for record in csv.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line());
                diags.warn(line, format!("unreadable CSV record ({e}); skipped"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (Some(partition_key), Some(row_key)) = (field(Some(pk)), field(Some(rk))) else {
            diags.warn(Some(line), "record without PartitionKey or RowKey; skipped");
            continue;
        };
        entities.push(PerfEntity {
            partition_key,
            row_key,
            event: field(ev),
            node_id: field(node),
            message: field(msg),
            line,
        });
    }
    if entities.is_empty() {
        return Err(ParseError::format(None, "no record holds a perf entity"));
    }
    Ok(entities)
}

/// Parses an export in `format`.
pub fn parse(
    reader: impl BufRead,
    format: ExportFormat,
    diags: &mut Diagnostics,
) -> Result<Vec<PerfEntity>, ParseError> {
    match format {
        ExportFormat::JsonLines => parse_jsonl(reader, diags),
        ExportFormat::Csv => parse_csv(reader, diags),
    }
}

/// Writes entities as JSON lines (the format [`parse_jsonl`] reads).
pub fn write_jsonl(entities: &[PerfEntity], out: &mut dyn Write) -> std::io::Result<()> {
    for entity in entities {
        serde_json::to_writer(&mut *out, entity)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes entities as CSV (the format [`parse_csv`] reads).
pub fn write_csv(entities: &[PerfEntity], out: &mut dyn Write) -> std::io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(["PartitionKey", "RowKey", "Event", "NodeId", "Message"])?;
    for e in entities {
        csv.write_record([
            e.partition_key.as_str(),
            e.row_key.as_str(),
            e.event.as_deref().unwrap_or(""),
            e.node_id.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or(""),
        ])?;
    }
    csv.flush()
}

/// The fields of a `Message` that the study reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message<'a> {
    /// `img=`: the container image the event is about.
    pub img: Option<&'a str>,
    /// `diff=`: a duration the node measured itself, seconds.
    pub diff: Option<f64>,
    /// `size=`: bytes (a Docker size string converted in base 1000).
    pub size: Option<u64>,
    /// `offer=` (on `nodeprep:start`): the VM image offer.
    pub offer: Option<&'a str>,
    /// `sku=` (on `nodeprep:start`): the VM image SKU.
    pub sku: Option<&'a str>,
    /// `nglobalresources=`: how many global resources the pool loads.
    pub nglobalresources: Option<u64>,
}

/// Parses a `Message`: comma-separated `key=value` pairs. A part without
/// `=`, a `diff` that is not a number or a `size` that is not a size is
/// described in `problems` and left out; the other keys are ignored.
pub fn parse_message<'a>(text: &'a str, problems: &mut Vec<String>) -> Message<'a> {
    let mut m = Message::default();
    for part in text.split(',') {
        let Some((key, value)) = part.split_once('=') else {
            if !part.trim().is_empty() {
                problems.push(format!("message part '{part}' has no '='; ignored"));
            }
            continue;
        };
        match key.trim() {
            "img" => m.img = Some(value),
            "diff" => match value.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => m.diff = Some(v),
                _ => problems.push(format!("diff '{value}' is not a number; ignored")),
            },
            "size" => match parse_size(value) {
                Ok(v) => m.size = Some(v),
                Err(e) => problems.push(e),
            },
            "offer" => m.offer = Some(value),
            "sku" => m.sku = Some(value),
            "nglobalresources" => match value.trim().parse::<u64>() {
                Ok(v) => m.nglobalresources = Some(v),
                Err(_) => problems.push(format!(
                    "nglobalresources '{value}' is not a count; ignored"
                )),
            },
            _ => {}
        }
    }
    m
}

/// Reads a size: plain bytes (`123456`, as Singularity images and saved
/// files report) or a Docker size string (`4.41 MB`, `4.41MB`, `976kB`).
///
/// Docker prints sizes with go-units' `HumanSize`, which divides by 1000
/// (units `B`, `kB`, `MB`, `GB`, `TB`, `PB`), so `4.41 MB` is 4,410,000
/// bytes, rounded to the nearest byte. Batch Shipyard takes the last two
/// words of `docker images`, which with newer Docker (no space before the
/// unit) also catch the word before the size (`ago 4.41MB`): only the last
/// word is read then.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let bad = || format!("size '{text}' is neither bytes nor a Docker size; ignored");
    if let Ok(bytes) = trimmed.parse::<u64>() {
        return Ok(bytes);
    }
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let (number, unit) = match words.as_slice() {
        [number, unit] if number.parse::<f64>().is_ok() => (*number, *unit),
        [.., last] => split_number_unit(last).ok_or_else(bad)?,
        [] => return Err(bad()),
    };
    let value: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "PB" => 1e15,
        _ => return Err(bad()),
    };
    let bytes = (value * scale).round();
    if !(bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// `4.41MB` → (`4.41`, `MB`).
fn split_number_unit(word: &str) -> Option<(&str, &str)> {
    let at = word.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = word.split_at(at);
    (!number.is_empty()).then_some((number, unit))
}

/// Reads a `RowKey` as epoch seconds; `None` when it is not a finite number.
pub fn row_key_time(row_key: &str) -> Option<f64> {
    row_key.trim().parse::<f64>().ok().filter(|t| t.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_sizes_are_base_1000() {
        assert_eq!(parse_size("4.41 MB"), Ok(4_410_000));
        assert_eq!(parse_size("4.41MB"), Ok(4_410_000));
        assert_eq!(parse_size("ago 4.41MB"), Ok(4_410_000));
        assert_eq!(parse_size("976kB"), Ok(976_000));
        assert_eq!(parse_size("1.2 GB"), Ok(1_200_000_000));
        assert_eq!(parse_size("123456"), Ok(123_456));
        assert_eq!(parse_size("12 B"), Ok(12));
        assert!(parse_size("big").is_err());
        assert!(parse_size("4.41 MiB").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn message_pairs() {
        let mut problems = Vec::new();
        let m = parse_message(
            "grtype=docker,img=alpine:3,diff=12.5,size=4.41 MB,junk",
            &mut problems,
        );
        assert_eq!(m.img, Some("alpine:3"));
        assert_eq!(m.diff, Some(12.5));
        assert_eq!(m.size, Some(4_410_000));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("'junk' has no '='"));
        let m = parse_message("offer=UbuntuServer,sku=16.04-LTS", &mut problems);
        assert_eq!((m.offer, m.sku), (Some("UbuntuServer"), Some("16.04-LTS")));
    }

    #[test]
    fn jsonl_lines_and_diagnostics() {
        let text = concat!(
            "{\"PartitionKey\":\"a$p\",\"RowKey\":\"1500000000.5\",\"Event\":\"nodeprep:start\",\"NodeId\":\"n1\",\"Message\":\"offer=o,sku=s\"}\n",
            "\n",
            "not json\n",
            "{\"RowKey\":\"1\"}\n",
            "{\"PartitionKey\":\"a$p\",\"RowKey\":\"1500000001\",\"NodeId\":\"n\\u00e9\"}\n",
            "{\"PartitionKey\":\"a$p\",\"RowKey\":\"15",
        );
        let mut d = Diagnostics::for_file("events.jsonl");
        let entities = parse_jsonl(text.as_bytes(), &mut d).unwrap();
        assert_eq!(entities.len(), 2);
        assert_eq!(entities[0].line, 1);
        assert_eq!(entities[1].node_id.as_deref(), Some("né"));
        assert_eq!(entities[1].event, None);
        let lines: Vec<_> = d.items().iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![Some(3), Some(4), Some(6)]);
        assert!(d.items()[2].message.contains("cut short"));
    }

    #[test]
    fn csv_round_trip() {
        let entities = vec![PerfEntity {
            partition_key: "a$p".into(),
            row_key: "1500000000.25".into(),
            event: Some("cascade:pull-end".into()),
            node_id: Some("tvm-1".into()),
            message: Some("img=x,diff=1.5,size=4.41 MB".into()),
            line: 2,
        }];
        let mut out = Vec::new();
        write_csv(&entities, &mut out).unwrap();
        let mut d = Diagnostics::default();
        let back = parse_csv(out.as_slice(), &mut d).unwrap();
        assert_eq!(back, entities);
        let mut out = Vec::new();
        write_jsonl(&entities, &mut out).unwrap();
        let mut back = parse_jsonl(out.as_slice(), &mut d).unwrap();
        back[0].line = 2;
        assert_eq!(back, entities);
        assert!(d.is_empty());
    }

    #[test]
    fn empty_inputs() {
        let mut d = Diagnostics::default();
        assert!(matches!(
            parse_jsonl(&b"\n\n"[..], &mut d),
            Err(ParseError::Empty)
        ));
        assert!(matches!(
            parse_csv(&b""[..], &mut d),
            Err(ParseError::Empty)
        ));
        assert_eq!(row_key_time("1500000000.000001"), Some(1500000000.000001));
        assert_eq!(row_key_time("abc"), None);
        assert_eq!(row_key_time("inf"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let mut d = Diagnostics::default();
            let _ = parse_jsonl(bytes.as_slice(), &mut d);
            let _ = parse_csv(bytes.as_slice(), &mut d);
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_message(&text, &mut Vec::new());
            let _ = parse_size(&text);
        }
    }
}
