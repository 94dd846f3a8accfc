//! External time series recorded beside an experiment (e.g. the power of
//! each device, sampled while the traffic ran), as CSV with a header:
//!
//! * `time` (or `timestamp`, `t`): seconds, either since the epoch or since
//!   the run's anchor event — told apart by the values (every one at least
//!   10⁹, i.e. after September 2001, is epoch time), and said in a note;
//! * `value`: the measurement;
//! * optional `entity` (or `device`, `host`, `name`): which thing it
//!   measures, one series per entity (empty or absent: one series);
//! * optional `unit`;
//! * optional `run`: in one file for a whole campaign, the run each sample
//!   belongs to (its folder's name or its path under the campaign).
//!
//! Other columns are ignored, and a note names them. A row whose time or
//! value is not a finite number is skipped with a warning naming its line.
//!
//! Or the same columns in Parquet ([`read_parquet`]; a timestamp type is
//! epoch time), or InfluxDB line protocol ([`read_line_protocol`]): epoch times in
//! nanoseconds; the entity is a point's `entity`, `device` or `host` tag
//! (else its measurement), the value its `value` field (other numeric
//! fields are series of their own, `ENTITY.FIELD`), the unit a `unit` tag.

use expost_model::Diagnostics;

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The run it belongs to, in a campaign-wide file (its `run` column;
    /// "" otherwise).
    pub run: String,
    /// Seconds (see [`TimeBase`]).
    pub time: f64,
    /// Which thing it measures ("" when the file has no entity column).
    pub entity: String,
    /// The measurement.
    pub value: f64,
}

/// What the times count from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBase {
    /// Seconds since 1970-01-01 UTC.
    Epoch,
    /// Seconds since the run's anchor event.
    Anchor,
}

/// A whole series file.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Every sample kept, in file order.
    pub samples: Vec<Sample>,
    /// What the times count from.
    pub base: TimeBase,
    /// The unit, when the file gives one (the first non-empty `unit`).
    pub unit: Option<String>,
}

const TIME: [&str; 3] = ["time", "timestamp", "t"];
const ENTITY: [&str; 4] = ["entity", "device", "host", "name"];

/// Reads a series CSV; problems go into `diags` (whose file is the CSV).
///
/// # Errors
/// A message when the file has no header, no time or value column, no
/// sample, or times of both kinds.
pub fn read_csv(bytes: &[u8], diags: &mut Diagnostics) -> Result<Series, String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("no CSV header: {e}"))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let time = find(&TIME).ok_or_else(|| {
        format!(
            "no time column (one of {}); columns: {}",
            TIME.join(", "),
            header.join(", ")
        )
    })?;
    let value = find(&["value"])
        .ok_or_else(|| format!("no value column; columns: {}", header.join(", ")))?;
    let entity = find(&ENTITY);
    let unit_column = find(&["unit"]);
    let run = find(&["run"]);
    let used = [Some(time), Some(value), entity, unit_column, run];
    let ignored: Vec<&str> = (header.iter().enumerate())
        .filter(|(i, _)| !used.contains(&Some(*i)))
        .map(|(_, h)| h.as_str())
        .collect();
    if !ignored.is_empty() {
        diags.note(Some(1), format!("columns not read: {}", ignored.join(", ")));
    }
    let mut samples = Vec::new();
    let mut unit: Option<String> = None;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line());
                diags.warn(line, format!("unreadable CSV row skipped: {e}"));
                continue;
            }
        };
        let line = record.position().map(|p| p.line());
        let number = |i: usize| {
            record
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite())
        };
        let (Some(t), Some(v)) = (number(time), number(value)) else {
            diags.warn(
                line,
                format!(
                    "row skipped: time {:?} and value {:?} must both be numbers",
                    record.get(time).unwrap_or(""),
                    record.get(value).unwrap_or("")
                ),
            );
            continue;
        };
        if unit.is_none() {
            unit = unit_column
                .and_then(|i| record.get(i))
                .filter(|u| !u.is_empty())
                .map(str::to_string);
        }
        samples.push(Sample {
            run: run.and_then(|i| record.get(i)).unwrap_or("").to_string(),
            time: t,
            entity: entity.and_then(|i| record.get(i)).unwrap_or("").to_string(),
            value: v,
        });
    }
    if samples.is_empty() {
        return Err("no sample (no row with a numeric time and value)".into());
    }
    with_time_base(samples, unit, diags)
}

/// The series of `samples`, their times told to be epoch seconds (every
/// one at least 10⁹) or seconds after the anchor (none), said in a note.
fn with_time_base(
    samples: Vec<Sample>,
    unit: Option<String>,
    diags: &mut Diagnostics,
) -> Result<Series, String> {
    let epoch = samples.iter().filter(|s| s.time >= 1e9).count();
    let base = match epoch {
        0 => TimeBase::Anchor,
        n if n == samples.len() => TimeBase::Epoch,
        n => {
            return Err(format!(
                "{n} of {} times are epoch seconds (≥ 10⁹) and the others are not: give every time the same way",
                samples.len()
            ))
        }
    };
    diags.note(
        None,
        match base {
            TimeBase::Epoch => "times read as epoch seconds (every one is at least 10⁹)",
            TimeBase::Anchor => {
                "times read as seconds after the anchor event (none is an epoch time)"
            }
        },
    );
    Ok(Series {
        samples,
        base,
        unit,
    })
}

/// Reads a series written as Parquet, with the columns a CSV has (time as
/// a number, or a timestamp type, which is epoch time); a row without a
/// numeric time and value is a warning naming it.
///
/// # Errors
/// A message when the file is no Parquet, or lacks the time or value column.
pub fn read_parquet(bytes: Vec<u8>, diags: &mut Diagnostics) -> Result<Series, String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let reader = SerializedFileReader::new(bytes::Bytes::from(bytes))
        .map_err(|e| format!("not a Parquet file: {e}"))?;
    let names: Vec<String> = (reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter())
    .map(|c| c.name().to_ascii_lowercase())
    .collect();
    let find = |wanted: &[&str]| names.iter().find(|n| wanted.contains(&n.as_str())).cloned();
    let time = find(&TIME).ok_or_else(|| {
        format!(
            "no time column (one of {}); columns: {}",
            TIME.join(", "),
            names.join(", ")
        )
    })?;
    let value = find(&["value"])
        .ok_or_else(|| format!("no value column; columns: {}", names.join(", ")))?;
    let (entity, unit_column, run) = (find(&ENTITY), find(&["unit"]), find(&["run"]));
    let number = |f: &Field| -> Option<f64> {
        match f {
            Field::Double(v) => Some(*v),
            Field::Float(v) => Some(f64::from(*v)),
            Field::Long(v) => Some(*v as f64),
            Field::Int(v) => Some(f64::from(*v)),
            Field::TimestampMillis(v) => Some(*v as f64 / 1e3),
            Field::TimestampMicros(v) => Some(*v as f64 / 1e6),
            _ => None,
        }
        .filter(|v| v.is_finite())
    };
    let text = |f: &Field| match f {
        Field::Str(s) => s.clone(),
        Field::Null => String::new(),
        other => other.to_string(),
    };
    let mut samples = Vec::new();
    let mut unit = None;
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| format!("unreadable Parquet: {e}"))?;
    for (i, row) in rows.enumerate() {
        let row = row.map_err(|e| format!("unreadable Parquet row {}: {e}", i + 1))?;
        let mut cells: std::collections::HashMap<String, &Field> = std::collections::HashMap::new();
        for (name, field) in row.get_column_iter() {
            cells.insert(name.to_ascii_lowercase(), field);
        }
        let get = |c: &Option<String>| c.as_ref().and_then(|c| cells.get(c).copied());
        let (Some(t), Some(v)) = (
            cells.get(&time).copied().and_then(number),
            cells.get(&value).copied().and_then(number),
        ) else {
            diags.warn(
                None,
                format!(
                    "row {} skipped: its time and value must both be numbers",
                    i + 1
                ),
            );
            continue;
        };
        if unit.is_none() {
            unit = get(&unit_column).map(text).filter(|u| !u.is_empty());
        }
        samples.push(Sample {
            run: get(&run).map(text).unwrap_or_default(),
            time: t,
            entity: get(&entity).map(text).unwrap_or_default(),
            value: v,
        });
    }
    if samples.is_empty() {
        return Err("no sample (no row with a numeric time and value)".into());
    }
    with_time_base(samples, unit, diags)
}

/// Reads a series written as InfluxDB line protocol (see the module's
/// documentation); bad lines and points without a time are warnings.
///
/// # Errors
/// A message when the file holds no numeric field with a time.
pub fn read_line_protocol(bytes: &[u8], diags: &mut Diagnostics) -> Result<Series, String> {
    let mut samples = Vec::new();
    let mut unit: Option<String> = None;
    let mut untimed = 0u64;
    crate::line_protocol::parse(bytes, diags, |_, point| {
        let Some(ns) = point.timestamp_ns else {
            untimed += 1;
            return;
        };
        let base = ["entity", "device", "host"]
            .iter()
            .find_map(|k| point.tag(k))
            .unwrap_or(&point.measurement)
            .to_string();
        if unit.is_none() {
            unit = point.tag("unit").map(str::to_string);
        }
        for (field, value) in &point.fields {
            let Some(value) = value.as_f64().filter(|v| v.is_finite()) else {
                continue;
            };
            let entity = if field == "value" {
                base.clone()
            } else {
                format!("{base}.{field}")
            };
            samples.push(Sample {
                run: point.tag("run").unwrap_or("").to_string(),
                time: ns as f64 / 1e9,
                entity,
                value,
            });
        }
    })
    .map_err(|e| e.to_string())?;
    if untimed > 0 {
        diags.warn(None, format!("{untimed} points without a time skipped"));
    }
    if samples.is_empty() {
        return Err("no sample (no point with a time and a numeric field)".into());
    }
    diags.note(None, "times read as epoch nanoseconds (line protocol)");
    Ok(Series {
        samples,
        base: TimeBase::Epoch,
        unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_is_read_with_its_entities_unit_and_time_base() {
        let mut d = Diagnostics::for_file("power.csv");
        let text = "Time,Device,Value,Unit,host_note\n1700000000.5,fpga0,12.5,W,x\n1700000000.6,fpga1,13,W,y\n";
        let s = read_csv(text.as_bytes(), &mut d).unwrap();
        assert_eq!(s.base, TimeBase::Epoch);
        assert_eq!(s.unit.as_deref(), Some("W"));
        assert_eq!(
            s.samples[1],
            Sample {
                run: String::new(),
                time: 1700000000.6,
                entity: "fpga1".into(),
                value: 13.0
            }
        );
        let said: Vec<String> = d.items().iter().map(|x| x.message.clone()).collect();
        assert!(
            said.iter()
                .any(|m| m.contains("columns not read: host_note")),
            "{said:?}"
        );
        assert!(said.iter().any(|m| m.contains("epoch seconds")));
    }

    #[test]
    fn bad_rows_are_skipped_naming_their_line_and_bad_files_are_errors() {
        let mut d = Diagnostics::for_file("p.csv");
        let s = read_csv(b"t,value\n0.1,5\n0.2,oops\n,\n0.3,NaN\n0.4,7\n", &mut d).unwrap();
        assert_eq!(s.base, TimeBase::Anchor);
        assert_eq!(s.samples.len(), 2);
        let lines: Vec<Option<u64>> = d
            .items()
            .iter()
            .filter(|x| x.message.contains("row skipped"))
            .map(|x| x.line)
            .collect();
        assert_eq!(lines, [Some(3), Some(4), Some(5)]);
        let mut d = Diagnostics::for_file("p.csv");
        assert!(read_csv(b"when,value\n1,2\n", &mut d)
            .unwrap_err()
            .contains("no time column"));
        assert!(read_csv(b"time,watts\n1,2\n", &mut d)
            .unwrap_err()
            .contains("no value column"));
        assert!(read_csv(b"time,value\n", &mut d)
            .unwrap_err()
            .contains("no sample"));
        assert!(read_csv(b"time,value\n1700000000,1\n3,2\n", &mut d)
            .unwrap_err()
            .contains("same way"));
    }

    #[test]
    fn line_protocol_gives_one_series_per_entity_and_field() {
        let mut d = Diagnostics::for_file("power.lp");
        let text = "power,device=fpga0,unit=W value=12.5,temp=40i 1700000000500000000\npower,device=fpga1 value=13 1700000000600000000\npower,device=fpga1 value=14\nbroken line\n";
        let s = read_line_protocol(text.as_bytes(), &mut d).unwrap();
        assert_eq!(s.base, TimeBase::Epoch);
        assert_eq!(s.unit.as_deref(), Some("W"));
        let entities: Vec<&str> = s.samples.iter().map(|x| x.entity.as_str()).collect();
        assert_eq!(entities, ["fpga0", "fpga0.temp", "fpga1"]);
        assert!((s.samples[0].time - 1_700_000_000.5).abs() < 1e-6);
        let said: Vec<String> = d.items().iter().map(|x| x.message.clone()).collect();
        assert!(
            said.iter().any(|m| m.contains("1 points without a time")),
            "{said:?}"
        );
        assert!(said.iter().any(|m| m.contains("line skipped")), "{said:?}");
        assert!(read_line_protocol(b"# DML\n", &mut d).is_err());
    }
}
