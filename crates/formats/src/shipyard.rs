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
use expost_model::{Diagnostics, Severity};
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

/// Read access to a perf entity's fields, whether it owns them
/// ([`PerfEntity`]) or borrows them from the input ([`EntityRef`]).
pub trait Entity {
    /// `<batch account>$<pool id>`.
    fn partition_key(&self) -> &str;
    /// The event's epoch time, seconds, as a decimal string.
    fn row_key(&self) -> &str;
    /// `source:name`; `None` when the entity has none.
    fn event(&self) -> Option<&str>;
    /// The compute node that wrote the event.
    fn node_id(&self) -> Option<&str>;
    /// Comma-separated `key=value` pairs.
    fn message(&self) -> Option<&str>;
    /// The 1-based line of an export file, or position in a query's result.
    fn line(&self) -> u64;
}

/// Implements [`Entity`] for a struct whose fields have the trait's names
/// (`partition_key`, `row_key` as text; `event`, `node_id`, `message` as
/// optional text; `line`).
macro_rules! entity_from_fields {
    ($type:ty) => {
        impl Entity for $type {
            fn partition_key(&self) -> &str {
                &self.partition_key
            }
            fn row_key(&self) -> &str {
                &self.row_key
            }
            fn event(&self) -> Option<&str> {
                self.event.as_deref()
            }
            fn node_id(&self) -> Option<&str> {
                self.node_id.as_deref()
            }
            fn message(&self) -> Option<&str> {
                self.message.as_deref()
            }
            fn line(&self) -> u64 {
                self.line
            }
        }
    };
}

entity_from_fields!(PerfEntity);

impl<T: Entity + ?Sized> Entity for &T {
    fn partition_key(&self) -> &str {
        (**self).partition_key()
    }
    fn row_key(&self) -> &str {
        (**self).row_key()
    }
    fn event(&self) -> Option<&str> {
        (**self).event()
    }
    fn node_id(&self) -> Option<&str> {
        (**self).node_id()
    }
    fn message(&self) -> Option<&str> {
        (**self).message()
    }
    fn line(&self) -> u64 {
        (**self).line()
    }
}

/// A perf entity borrowing its fields from the export's text where it can
/// (a field with JSON escapes is unescaped into its own string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRef<'a> {
    /// `<batch account>$<pool id>`.
    pub partition_key: Cow<'a, str>,
    /// The event's epoch time, seconds, as a decimal string.
    pub row_key: Cow<'a, str>,
    /// `source:name`; `None` when the entity has none.
    pub event: Option<Cow<'a, str>>,
    /// The compute node that wrote the event.
    pub node_id: Option<Cow<'a, str>>,
    /// Comma-separated `key=value` pairs.
    pub message: Option<Cow<'a, str>>,
    /// The 1-based line of the export file.
    pub line: u64,
}

entity_from_fields!(EntityRef<'_>);

impl EntityRef<'_> {
    /// The entity with owned fields.
    pub fn to_owned_entity(&self) -> PerfEntity {
        PerfEntity {
            partition_key: self.partition_key.to_string(),
            row_key: self.row_key.to_string(),
            event: self.event.as_deref().map(str::to_owned),
            node_id: self.node_id.as_deref().map(str::to_owned),
            message: self.message.as_deref().map(str::to_owned),
            line: self.line,
        }
    }
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

/// An entity as written to an export (the shape of [`PerfEntity`]'s serialisation).
#[derive(Serialize)]
struct EntityOut<'a> {
    #[serde(rename = "PartitionKey")]
    partition_key: &'a str,
    #[serde(rename = "RowKey")]
    row_key: &'a str,
    #[serde(rename = "Event", skip_serializing_if = "Option::is_none")]
    event: Option<&'a str>,
    #[serde(rename = "NodeId", skip_serializing_if = "Option::is_none")]
    node_id: Option<&'a str>,
    #[serde(rename = "Message", skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl<'a> EntityOut<'a> {
    fn of(e: &'a impl Entity) -> Self {
        EntityOut {
            partition_key: e.partition_key(),
            row_key: e.row_key(),
            event: e.event(),
            node_id: e.node_id(),
            message: e.message(),
        }
    }
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
    parse_lines(block, first_line, |result| {
        if let Some(result) = result {
            *saw_text = true;
            match result {
                Ok(entity) => out.push(entity.to_owned_entity()),
                Err((line, message)) => diags.repeated(
                    Severity::Warning,
                    "unreadable lines skipped",
                    Some(line),
                    message,
                ),
            }
        }
    })
}

/// One line's outcome: `None` for a blank line, else the entity or (line, problem).
type LineResult<'a> = Option<Result<EntityRef<'a>, (u64, String)>>;

/// Bytes of whole lines one task parses.
const PIECE_BYTES: usize = 1 << 18;

/// Pieces parsed in parallel per batch (the batch's results stay small and warm).
const BATCH_PIECES: usize = 64;

/// Parses the lines of `text` in parallel (the first is line
/// `first_line`), handing their outcomes in order to `sink`; returns how
/// many lines `text` held. The text is cut into pieces of whole lines,
/// each split and parsed by one task.
fn parse_lines<'a>(text: &'a [u8], first_line: u64, mut sink: impl FnMut(LineResult<'a>)) -> u64 {
    let mut pieces: Vec<&'a [u8]> = Vec::with_capacity(text.len() / PIECE_BYTES + 1);
    let mut start = 0;
    while start < text.len() {
        let cut = (start + PIECE_BYTES).min(text.len());
        let end = text[cut..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(text.len(), |i| cut + i + 1);
        pieces.push(&text[start..end]);
        start = end;
    }
    let mut next = first_line;
    for batch in pieces.chunks(BATCH_PIECES) {
        let parsed: Vec<(Vec<LineResult<'a>>, u64)> =
            batch.par_iter().map(|piece| parse_piece(piece)).collect();
        for (results, lines) in parsed {
            // Lines were numbered from 0 within the piece.
            for result in results {
                sink(result.map(|r| match r {
                    Ok(mut entity) => {
                        entity.line += next;
                        Ok(entity)
                    }
                    Err((line, message)) => Err((line + next, message)),
                }));
            }
            next += lines;
        }
    }
    next - first_line
}

/// Parses the lines of one piece, numbered from 0; returns their outcomes
/// and how many lines it held.
fn parse_piece(piece: &[u8]) -> (Vec<LineResult<'_>>, u64) {
    let mut results = Vec::with_capacity(piece.len() / 128 + 1);
    let mut lines = 0;
    for bytes in piece.split_inclusive(|b| *b == b'\n') {
        let line = lines;
        lines += 1;
        let text = bytes.trim_ascii();
        results.push((!text.is_empty()).then(|| parse_line(line, text).map_err(|m| (line, m))));
    }
    (results, lines)
}

/// Bytes one task reads when [`read_text`] reads a file in parallel.
const READ_BYTES: usize = 8 << 20;

/// The whole content of `file`, read by several threads at once (on Unix;
/// elsewhere in one sequential read), for [`parse_jsonl_borrowed`]. A file
/// that changes size meanwhile is read again sequentially.
pub fn read_text(file: &mut std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let size = usize::try_from(file.metadata()?.len()).unwrap_or(0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        let mut text = vec![0u8; size];
        let shared: &std::fs::File = file;
        let whole = text
            .par_chunks_mut(READ_BYTES)
            .enumerate()
            .try_for_each(|(i, chunk)| shared.read_exact_at(chunk, (i * READ_BYTES) as u64));
        let mut probe = [0u8; 1];
        if whole.is_ok() && shared.read_at(&mut probe, size as u64)? == 0 {
            return Ok(text);
        }
    }
    file.seek(SeekFrom::Start(0))?;
    let mut text = Vec::with_capacity(size.saturating_add(1));
    file.read_to_end(&mut text)?;
    Ok(text)
}

/// Parses a whole JSON-lines export held in memory, borrowing the fields
/// from `text`: the same entities and diagnostics as [`parse_jsonl`], with
/// no string copied unless it holds JSON escapes.
pub fn parse_jsonl_borrowed<'a>(
    text: &'a [u8],
    diags: &mut Diagnostics,
) -> Result<Vec<EntityRef<'a>>, ParseError> {
    let mut saw_text = false;
    // About 200 bytes per entity: reserve once instead of growing.
    let mut entities = Vec::with_capacity(text.len() / 160 + 1);
    parse_lines(text, 1, |result| {
        if let Some(result) = result {
            saw_text = true;
            match result {
                Ok(entity) => entities.push(entity),
                Err((line, message)) => diags.repeated(
                    Severity::Warning,
                    "unreadable lines skipped",
                    Some(line),
                    message,
                ),
            }
        }
    });
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

fn parse_line(line: u64, text: &[u8]) -> Result<EntityRef<'_>, String> {
    let entity = match parse_plain(text) {
        Some(entity) => entity,
        None => parse_with_serde(text)?,
    };
    let (Some(partition_key), Some(row_key)) = (entity.partition_key, entity.row_key) else {
        return Err("entity without PartitionKey or RowKey; line skipped".into());
    };
    Ok(EntityRef {
        partition_key,
        row_key,
        event: entity.event,
        node_id: entity.node_id,
        message: entity.message,
        line,
    })
}

/// JSON's insignificant whitespace.
fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Reads the common shape of an exported line without serde: one flat
/// object whose members are all plain strings (no escape, no control
/// character), each known field at most once. Returns `None` for any other
/// shape, which serde then reads (with its own messages): this fast path
/// only ever agrees with it.
fn parse_plain(line: &[u8]) -> Option<BorrowedEntity<'_>> {
    // Validated once: every slice below starts and ends at an ASCII quote.
    let line = std::str::from_utf8(line).ok()?;
    let text = line.as_bytes();
    let mut entity = BorrowedEntity {
        partition_key: None,
        row_key: None,
        event: None,
        node_id: None,
        message: None,
    };
    let mut at = 0;
    let skip_space = |at: &mut usize| {
        while text.get(*at).is_some_and(|b| is_json_space(*b)) {
            *at += 1;
        }
    };
    // A plain string starting at `at` (its opening quote), as text.
    let string = |at: &mut usize| -> Option<&str> {
        if text.get(*at) != Some(&b'"') {
            return None;
        }
        let start = *at + 1;
        let end = start + string_end(&text[start..])?;
        if text[end] != b'"' {
            return None;
        }
        *at = end + 1;
        line.get(start..end)
    };
    if text.first() != Some(&b'{') {
        return None;
    }
    at += 1;
    skip_space(&mut at);
    if text.get(at) == Some(&b'}') {
        at += 1;
    } else {
        loop {
            let key = string(&mut at)?;
            skip_space(&mut at);
            if text.get(at) != Some(&b':') {
                return None;
            }
            at += 1;
            skip_space(&mut at);
            let value = string(&mut at)?;
            let slot = match key {
                "PartitionKey" => &mut entity.partition_key,
                "RowKey" => &mut entity.row_key,
                "Event" => &mut entity.event,
                "NodeId" => &mut entity.node_id,
                "Message" => &mut entity.message,
                _ => &mut None,
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(Cow::Borrowed(value));
            skip_space(&mut at);
            match text.get(at) {
                Some(b',') => {
                    at += 1;
                    skip_space(&mut at);
                }
                Some(b'}') => {
                    at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    skip_space(&mut at);
    (at == text.len()).then_some(entity)
}

/// The index of the first `"`, `\\` or control character of `text`,
/// eight bytes at a time.
fn string_end(text: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let special = |b: &u8| *b == b'"' || *b == b'\\' || *b < 0x20;
    let mut words = text.chunks_exact(8);
    let mut offset = 0;
    for word in words.by_ref() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        // A byte is flagged when it is zero (after the xor) or below 0x20;
        // only the lowest flag is exact, and only it is used.
        let flags = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | x.wrapping_sub(ONES * 0x20) & !x)
            & HIGHS;
        if flags != 0 {
            return Some(offset + (flags.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words
        .remainder()
        .iter()
        .position(special)
        .map(|i| offset + i)
}

fn parse_with_serde(text: &[u8]) -> Result<BorrowedEntity<'_>, String> {
    serde_json::from_slice(text).map_err(|e| {
        if e.is_eof() {
            format!("entity cut short ({e}); line skipped")
        } else {
            format!("not a perf entity object ({e}); line skipped")
        }
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
                diags.repeated(
                    Severity::Warning,
                    "unreadable CSV records skipped",
                    line,
                    format!("unreadable CSV record ({e}); skipped"),
                );
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
            diags.repeated(
                Severity::Warning,
                "records without PartitionKey or RowKey skipped",
                Some(line),
                "record without PartitionKey or RowKey; skipped",
            );
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
pub fn write_jsonl<E: Entity>(entities: &[E], out: &mut dyn Write) -> std::io::Result<()> {
    for entity in entities {
        serde_json::to_writer(&mut *out, &EntityOut::of(entity))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes entities as CSV (the format [`parse_csv`] reads).
pub fn write_csv<E: Entity>(entities: &[E], out: &mut dyn Write) -> std::io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(["PartitionKey", "RowKey", "Event", "NodeId", "Message"])?;
    for e in entities {
        csv.write_record([
            e.partition_key(),
            e.row_key(),
            e.event().unwrap_or(""),
            e.node_id().unwrap_or(""),
            e.message().unwrap_or(""),
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
        assert_eq!(d.len(), 1, "{:?}", d.items());
        assert_eq!(d.items()[0].line, Some(3));
        assert!(
            d.items()[0]
                .message
                .starts_with("3 unreadable lines skipped (lines 3, 4, 6; first: "),
            "{:?}",
            d.items()
        );
    }

    #[test]
    fn borrowed_parse_matches_streaming_parse() {
        let text = concat!(
            "{\"PartitionKey\":\"a$p\",\"RowKey\":\"1500000000.5\",\"Event\":\"nodeprep:start\",\"NodeId\":\"n1\",\"Message\":\"offer=o,sku=s\"}\n",
            "\n",
            "not json\n",
            "{\"RowKey\":\"1\"}\n",
            "{\"PartitionKey\":\"a$p\",\"RowKey\":\"1500000001\",\"NodeId\":\"n\\u00e9\"}\n",
            "{\"PartitionKey\":\"a$p\",\"RowKey\":\"15",
        );
        let mut streamed = Diagnostics::for_file("e");
        let owned = parse_jsonl(text.as_bytes(), &mut streamed).unwrap();
        let mut borrowed_diags = Diagnostics::for_file("e");
        let borrowed = parse_jsonl_borrowed(text.as_bytes(), &mut borrowed_diags).unwrap();
        let back: Vec<PerfEntity> = borrowed.iter().map(EntityRef::to_owned_entity).collect();
        assert_eq!(back, owned);
        assert_eq!(borrowed_diags.items(), streamed.items());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_jsonl(&owned, &mut a).unwrap();
        write_jsonl(&borrowed, &mut b).unwrap();
        assert_eq!(a, b);
        let mut d = Diagnostics::default();
        assert!(matches!(
            parse_jsonl_borrowed(b"\n \n", &mut d),
            Err(ParseError::Empty)
        ));
        assert!(parse_jsonl_borrowed(b"[1]\n", &mut d).is_err());
    }

    #[test]
    fn read_text_reads_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let content: Vec<u8> = (0..(READ_BYTES * 2 + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        for len in [0, 1, READ_BYTES, content.len()] {
            std::fs::write(&path, &content[..len]).unwrap();
            let mut file = std::fs::File::open(&path).unwrap();
            assert_eq!(read_text(&mut file).unwrap(), &content[..len]);
        }
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

    /// The fields the fast path read, or serde's outcome when it declines.
    fn fields(entity: &BorrowedEntity<'_>) -> [Option<String>; 5] {
        [
            &entity.partition_key,
            &entity.row_key,
            &entity.event,
            &entity.node_id,
            &entity.message,
        ]
        .map(|f| f.as_deref().map(str::to_owned))
    }

    #[test]
    fn string_end_finds_the_first_special_byte() {
        let naive = |t: &[u8]| {
            t.iter()
                .position(|b| *b == b'"' || *b == b'\\' || *b < 0x20)
        };
        let mut text: Vec<u8> = (0..40).map(|i| b'a' + (i % 26) as u8).collect();
        assert_eq!(string_end(&text), None);
        for at in 0..text.len() {
            for special in [b'"', b'\\', 0, 0x1f, b'\n'] {
                let mut t = text.clone();
                t[at] = special;
                if at + 3 < t.len() {
                    t[at + 3] = b'"';
                }
                assert_eq!(string_end(&t), naive(&t), "{t:?}");
            }
        }
        text[5] = 0xc3;
        text[6] = 0xa9;
        text[7] = 0x7f;
        text[8] = 0x20;
        text[9] = 0x21;
        assert_eq!(string_end(&text), None);
    }

    #[test]
    fn plain_lines_read_as_serde_reads_them() {
        let lines: [&[u8]; 14] = [
            br#"{"PartitionKey":"a$p","RowKey":"1.5","Event":"e","NodeId":"n","Message":"img=x,diff=1"}"#,
            br#"{ "RowKey" : "1" , "PartitionKey":"p" , "Other":"x" }"#,
            br#"{}"#,
            br#"{"PartitionKey":"p","PartitionKey":"q"}"#,
            br#"{"PartitionKey":"p","RowKey":"1",}"#,
            br#"{"PartitionKey":"p","RowKey":1}"#,
            br#"{"PartitionKey":"p","RowKey":"1"} x"#,
            br#"{"PartitionKey":"p","Event":null,"RowKey":"1"}"#,
            br#"{"PartitionKey":"p\u0041","RowKey":"1"}"#,
            br#"{"PartitionKey":"p","RowKey":"1""#,
            b"{\"PartitionKey\":\"p\tq\",\"RowKey\":\"1\"}",
            b"{\"PartitionKey\":\"p\xff\",\"RowKey\":\"1\"}",
            br#"["p","1"]"#,
            b"{\"PartitionKey\":\"p\"\r\n,\t\"RowKey\":\"1\"}",
        ];
        let mut plain = 0;
        for line in lines {
            let by_serde = parse_with_serde(line);
            if let Some(fast) = parse_plain(line) {
                plain += 1;
                let by_serde = by_serde.unwrap_or_else(|e| panic!("{line:?}: {e}"));
                assert_eq!(fields(&fast), fields(&by_serde), "{line:?}");
            }
        }
        assert_eq!(plain, 4);
    }

    proptest::proptest! {
        #[test]
        fn plain_fast_path_agrees_with_serde(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "{", "}", "\"", ":", ",", " ", "\t", "\\", "\\n", "\u{1}", "null", "1",
                    "PartitionKey", "RowKey", "Event", "NodeId", "Message", "Other", "a$p", "é",
                ]),
                0..40,
            )
        ) {
            let text = parts.concat();
            if let Some(fast) = parse_plain(text.as_bytes()) {
                let by_serde = parse_with_serde(text.as_bytes());
                proptest::prop_assert!(by_serde.is_ok(), "{}", text);
                proptest::prop_assert_eq!(fields(&fast), fields(&by_serde.unwrap()));
            }
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let mut d = Diagnostics::default();
            let _ = parse_jsonl(bytes.as_slice(), &mut d);
            let _ = parse_jsonl_borrowed(bytes.as_slice(), &mut d);
            if let Some(fast) = parse_plain(&bytes) {
                let by_serde = parse_with_serde(&bytes);
                proptest::prop_assert!(by_serde.is_ok(), "{:?}", bytes);
                proptest::prop_assert_eq!(fields(&fast), fields(&by_serde.unwrap()));
            }
            let _ = parse_csv(bytes.as_slice(), &mut d);
            let naive = bytes.iter().position(|b| *b == b'"' || *b == b'\\' || *b < 0x20);
            proptest::prop_assert_eq!(string_end(&bytes), naive);
            let text = String::from_utf8_lossy(&bytes);
            let _ = parse_message(&text, &mut Vec::new());
            let _ = parse_size(&text);
        }
    }
}
