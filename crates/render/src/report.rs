//! One self-contained HTML report: figures (interactive, drawn by a small
//! inline script from the same figure specs as the SVG/PNG/PDF files, with
//! the static SVG inline as a fallback), sortable tables, diagnostics, the
//! parameters and the command that made each study. Nothing is fetched
//! from the network: the CSS and the script are inlined.

mod folder;

pub use folder::{headline, parameters, read_specs, section_of, specs_json, FIGURE_SPECS};

use crate::figure::{Figure, LegendPlace, Line, VMarker};
use crate::output::{DiagnosticCounts, Kind};
use serde_json::{json, Value};

const CSS: &str = include_str!("../assets/report.css");
const SCRIPT: &str = include_str!("../assets/report.js");

/// At most this many rows of a table are shown; the full table is in its
/// CSV file, which the page names.
pub const TABLE_ROWS: usize = 500;

/// A whole report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The page title.
    pub title: String,
    /// The command that made the report.
    pub command: String,
    /// The expost version that made the report.
    pub version: String,
    /// One section per study output folder.
    pub studies: Vec<StudySection>,
}

/// One study's outputs.
#[derive(Debug, Clone, Default)]
pub struct StudySection {
    /// The study's name (`failover`, …).
    pub name: String,
    /// The folder its outputs were read from.
    pub source: String,
    /// The command that ran the study, when it was recorded.
    pub command: Option<String>,
    /// The expost version that ran it, when recorded.
    pub version: Option<String>,
    /// Options and their values.
    pub parameters: Vec<(String, String)>,
    /// Headline numbers (`runs`, `errors`, …).
    pub summary: Vec<(String, String)>,
    /// How many diagnostics of each severity, when known.
    pub diagnostics: Option<DiagnosticCounts>,
    /// Figures and charts, in order.
    pub figures: Vec<ReportFigure>,
    /// Tables, in order (the diagnostics table among them).
    pub tables: Vec<HtmlTable>,
    /// Traces and JSON documents: named, with how to open them.
    pub files: Vec<ReportFile>,
    /// What was wrong with the folder (files listed but missing, …).
    pub problems: Vec<String>,
}

/// A figure: its spec (drawn interactively) and its static SVG.
#[derive(Debug, Clone, Default)]
pub struct ReportFigure {
    /// The figure's file stem (`loss`, `throughput_udp`, …).
    pub name: String,
    /// Its title for people (`Loss, around the outage`); empty: none.
    pub title: String,
    /// What to draw interactively; `None`: the static SVG only (bar and
    /// Gantt charts).
    pub figure: Option<Figure>,
    /// The SVG written by the study, shown when scripts are off.
    pub static_svg: Option<String>,
    /// Its files in the folder (`loss.svg`, `loss.png`, …).
    pub files: Vec<String>,
}

/// A table to show.
#[derive(Debug, Clone, Default)]
pub struct HtmlTable {
    /// Heading above it.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Each column's unit, where it has one (may be shorter than `header`).
    pub units: Vec<Option<String>>,
    /// Cells, row by row.
    pub rows: Vec<Vec<String>>,
    /// A CSS class per row (`error`, `warning`), or empty.
    pub row_classes: Vec<String>,
    /// Rows in the whole table, when more than `rows` holds (capped at
    /// [`TABLE_ROWS`]).
    pub total_rows: Option<usize>,
    /// The file holding the whole table (`series.csv`).
    pub file: Option<String>,
}

/// A file of the folder the page does not show: a trace or a JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFile {
    /// The file, relative to the folder.
    pub path: String,
    /// Its title.
    pub title: String,
    /// What it is.
    pub kind: Kind,
}

/// A figure spec as JSON (the form `figures.json` and the report script use).
pub fn figure_to_json(fig: &Figure) -> Value {
    let num = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
    let mut value = json!({
        "title": fig.title,
        "x_label": fig.x_label,
        "y_label": fig.y_label,
        "x_range": fig.x_range.map(|(a, b)| [a, b]),
        "y_range": fig.y_range.map(|(a, b)| [a, b]),
        "lines": fig.lines.iter().map(|l| json!({
            "label": l.label,
            "points": l.points.iter().map(|&(x, y)| json!([num(x), num(y)])).collect::<Vec<_>>(),
            "band": l.band.iter().map(|&(x, lo, hi)| json!([num(x), num(lo), num(hi)])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "markers": fig.markers.iter().map(|m| json!({"x": num(m.x), "label": m.label})).collect::<Vec<_>>(),
    });
    if let Some(note) = &fig.note {
        value["note"] = json!(note);
    }
    match fig.legend {
        LegendPlace::Top => {}
        LegendPlace::Bottom => value["legend"] = json!("bottom"),
        LegendPlace::None => value["legend"] = json!("none"),
        LegendPlace::Inside => value["legend"] = json!("inside"),
    }
    value
}

/// Reads a figure spec back from [`figure_to_json`]'s form; `None` when it does not have that shape.
pub fn figure_from_json(value: &Value) -> Option<Figure> {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let range = |v: &Value| {
        v.as_array()
            .filter(|a| a.len() == 2)
            .map(|a| (f(&a[0]), f(&a[1])))
    };
    let lines = value["lines"]
        .as_array()?
        .iter()
        .map(|l| {
            Some(Line {
                label: l["label"].as_str()?.to_string(),
                points: l["points"]
                    .as_array()?
                    .iter()
                    .map(|p| (f(&p[0]), f(&p[1])))
                    .collect(),
                band: l["band"]
                    .as_array()?
                    .iter()
                    .map(|b| (f(&b[0]), f(&b[1]), f(&b[2])))
                    .collect(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Figure {
        title: value["title"].as_str().map(str::to_string),
        x_label: value["x_label"].as_str()?.to_string(),
        y_label: value["y_label"].as_str()?.to_string(),
        x_range: range(&value["x_range"]),
        y_range: range(&value["y_range"]),
        lines,
        markers: value["markers"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| VMarker {
                        x: f(&m["x"]),
                        label: m["label"].as_str().map(str::to_string),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        note: value["note"].as_str().map(str::to_string),
        legend: match value["legend"].as_str() {
            Some("bottom") => LegendPlace::Bottom,
            Some("none") => LegendPlace::None,
            Some("inside") => LegendPlace::Inside,
            _ => LegendPlace::Top,
        },
    })
}

/// Escapes text for HTML. Control characters (which HTML does not allow,
/// and which a folder or label may hold) are shown as `\u{1b}` escapes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push_str(&crate::printable::printable(&c.to_string())),
            c => out.push(c),
        }
    }
    out
}

/// JSON made safe to place inside a `<script>` element: `<`, `>` and `&`
/// (which only occur inside strings) as `\u003c`, `\u003e` and `\u0026`, so
/// no `</script>` or `<!--` can end or disturb the element, and the line
/// separators JavaScript once disallowed in strings escaped too.
pub fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report as one HTML document.
pub fn render_html(report: &Report) -> String {
    let mut html = String::with_capacity(1 << 20);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!(
        "<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        escape(&report.title)
    ));
    html.push_str(&format!(
        "<header><h1>{}</h1><p>Made by <code>{}</code> with expost {}.</p>",
        escape(&report.title),
        escape(&report.command),
        escape(&report.version)
    ));
    if report
        .studies
        .iter()
        .any(|s| s.tables.iter().any(|t| t.total_rows.is_some()))
    {
        html.push_str(&format!(
            "<p>Tables show at most {TABLE_ROWS} rows; each full table is in the CSV file named beside it.</p>"
        ));
    }
    html.push_str("</header>\n<main>\n");
    for (index, study) in report.studies.iter().enumerate() {
        render_study(&mut html, study, index);
    }
    html.push_str(&format!(
        "</main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    ));
    html
}

/// `n` and the noun, in the plural unless `n` is 1.
fn counted(n: usize, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

fn render_study(html: &mut String, study: &StudySection, index: usize) {
    html.push_str(&format!(
        "<section class=\"study\" id=\"study-{index}\">\n<h2>{} — <code>{}</code></h2>\n",
        escape(&study.name),
        escape(&study.source)
    ));
    if let Some(command) = &study.command {
        let version = study
            .version
            .as_deref()
            .map(|v| format!(" (expost {})", escape(v)))
            .unwrap_or_default();
        html.push_str(&format!(
            "<p>Made by:{version}</p><pre>{}</pre>\n",
            escape(command)
        ));
    }
    if !study.summary.is_empty() {
        html.push_str("<p class=\"counts\">");
        for (key, value) in &study.summary {
            html.push_str(&format!(
                "<span><b>{}</b> {}</span>",
                escape(value),
                escape(key)
            ));
        }
        html.push_str("</p>\n");
    }
    if let Some(d) = study.diagnostics {
        let class = if d.errors > 0 {
            " error"
        } else if d.warnings > 0 {
            " warning"
        } else {
            ""
        };
        html.push_str(&format!(
            "<p class=\"diagnostic-counts{class}\">Diagnostics: {}, {}, {}.</p>\n",
            counted(d.errors, "error"),
            counted(d.warnings, "warning"),
            counted(d.notes, "note")
        ));
    }
    for problem in &study.problems {
        html.push_str(&format!("<p class=\"problem\">{}</p>\n", escape(problem)));
    }
    if !study.figures.is_empty() {
        html.push_str("<h3>Figures</h3>\n");
        if study.figures.iter().any(|f| f.figure.is_some()) {
            html.push_str("<p class=\"hint\">Hover for values; drag across a chart to zoom its x axis; double-click to reset.</p>\n");
        }
        html.push_str("<div class=\"charts\">\n");
        for (f, figure) in study.figures.iter().enumerate() {
            render_figure(html, figure, &format!("s{index}f{f}"));
        }
        html.push_str("</div>\n");
    }
    for table in &study.tables {
        render_table(html, table);
    }
    render_files(html, &study.files);
    if !study.parameters.is_empty() {
        let table = HtmlTable {
            title: "Parameters".into(),
            header: vec!["option".into(), "value".into()],
            rows: study
                .parameters
                .iter()
                .map(|(k, v)| vec![k.clone(), v.clone()])
                .collect(),
            ..HtmlTable::default()
        };
        render_table(html, &table);
    }
    html.push_str("</section>\n");
}

/// Traces (with how to open them) and the other files of the folder.
fn render_files(html: &mut String, files: &[ReportFile]) {
    let traces: Vec<&ReportFile> = files.iter().filter(|f| f.kind == Kind::Trace).collect();
    if !traces.is_empty() {
        html.push_str("<h3>Traces</h3>\n<ul class=\"files\">\n");
        for t in traces {
            html.push_str(&format!(
                "<li><code>{}</code> — {}: open it in Perfetto (ui.perfetto.dev, “Open trace file”; it stays on your machine) or chrome://tracing.</li>\n",
                escape(&t.path),
                escape(&t.title)
            ));
        }
        html.push_str("</ul>\n");
    }
    let other: Vec<&ReportFile> = files.iter().filter(|f| f.kind != Kind::Trace).collect();
    if !other.is_empty() {
        html.push_str("<p class=\"files\">Also in the folder: ");
        let items: Vec<String> = other
            .iter()
            .map(|f| format!("<code>{}</code> ({})", escape(&f.path), escape(&f.title)))
            .collect();
        html.push_str(&items.join(", "));
        html.push_str(".</p>\n");
    }
}

fn render_figure(html: &mut String, figure: &ReportFigure, id: &str) {
    let svg = figure.static_svg.as_deref().map(strip_prolog).unwrap_or("");
    let name = escape(&figure.name);
    // A title that only says the name again (`Loss` for `loss`) is left out.
    let says_name = figure.title.to_lowercase().replace(' ', "_") == figure.name.to_lowercase();
    let caption = if figure.title.is_empty() || says_name {
        String::new()
    } else {
        format!("<p class=\"caption\">{}</p>", escape(&figure.title))
    };
    let files = if figure.static_svg.is_none() && !figure.files.is_empty() {
        let names: Vec<String> = figure
            .files
            .iter()
            .map(|f| format!("<code>{}</code>", escape(f)))
            .collect();
        format!(
            "<p class=\"files\">No SVG to show: see {}.</p>",
            names.join(", ")
        )
    } else {
        String::new()
    };
    match &figure.figure {
        Some(spec) => {
            // Drawn by the script from its spec: the static drawing would
            // be the same figure a second time (without scripts, its files
            // are named instead).
            let spec = script_safe(&figure_to_json(spec).to_string());
            let files: Vec<String> = figure
                .files
                .iter()
                .map(|f| format!("<code>{}</code>", escape(f)))
                .collect();
            html.push_str(&format!(
                "<div class=\"chart\" id=\"{id}\"><h4>{name}</h4>{caption}<noscript><p class=\"files\">Drawn by the page's script; the figure is in {}.</p></noscript><div class=\"legend\"></div><div class=\"tooltip\" hidden></div>\n<script type=\"application/json\">{spec}</script></div>\n",
                files.join(", ")
            ));
        }
        None => html.push_str(&format!(
            "<div class=\"chart still\" id=\"{id}\"><h4>{name}</h4>{caption}<div class=\"static\">{svg}</div>{files}</div>\n",
        )),
    }
}

/// An SVG file's drawing without what HTML does not take inline (the XML
/// declaration, a doctype, comments before the drawing).
fn strip_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    }
}

fn render_table(html: &mut String, table: &HtmlTable) {
    let count = match table.total_rows {
        Some(total) if total > table.rows.len() => {
            format!("{total} rows, the first {} shown", table.rows.len())
        }
        _ => counted(table.rows.len(), "row"),
    };
    html.push_str(&format!(
        "<h3>{} <small>({count})</small></h3>\n",
        escape(&table.title),
    ));
    if let (Some(total), Some(file)) = (table.total_rows, &table.file) {
        if total > table.rows.len() {
            html.push_str(&format!(
                "<p class=\"capped\">Only the first {} of {total} rows are shown here (sorting sorts those); the full table is in <code>{}</code>.</p>\n",
                table.rows.len(),
                escape(file)
            ));
        }
    }
    if table.rows.is_empty() {
        html.push_str("<p>None.</p>\n");
        return;
    }
    html.push_str("<div class=\"table-wrap\"><table class=\"sortable\"><thead><tr>");
    for (c, name) in table.header.iter().enumerate() {
        match table.units.get(c).and_then(Option::as_deref) {
            Some(unit) => html.push_str(&format!(
                "<th>{} <span class=\"unit\">({})</span></th>",
                escape(name),
                escape(unit)
            )),
            None => html.push_str(&format!("<th>{}</th>", escape(name))),
        }
    }
    html.push_str("</tr></thead><tbody>\n");
    for (r, row) in table.rows.iter().enumerate() {
        match table.row_classes.get(r).filter(|c| !c.is_empty()) {
            Some(class) => html.push_str(&format!("<tr class=\"{}\">", escape(class))),
            None => html.push_str("<tr>"),
        }
        for cell in row {
            let numeric = !cell.is_empty() && cell.parse::<f64>().is_ok();
            match readable(cell) {
                // Rounded for reading: the full value for sorting, and on
                // hover (the script makes it the cell's title).
                Some(short) => html.push_str(&format!(
                    "<td class=\"num\" data-v=\"{0}\">{1}</td>",
                    escape(cell),
                    escape(&short)
                )),
                None => {
                    html.push_str(if numeric {
                        "<td class=\"num\">"
                    } else {
                        "<td>"
                    });
                    html.push_str(&escape(cell));
                    html.push_str("</td>");
                }
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table></div>\n");
}

/// A number written with more than 4 significant digits, rounded to 4
/// for reading (`3.996253490447998` → `3.996`, `0.000123456` →
/// `0.0001235`, `1234567.8` → `1.235e6`); `None` for text, whole numbers
/// and numbers short enough already. Tables' CSV and Parquet files keep
/// every digit.
pub fn readable(cell: &str) -> Option<String> {
    let text = cell.trim();
    if !text.contains(['.', 'e', 'E']) {
        return None;
    }
    let v: f64 = text.parse().ok().filter(|v: &f64| v.is_finite())?;
    let short = if v == 0.0 {
        "0".to_string()
    } else if (1e4..1e15).contains(&v.abs()) {
        // Large values (byte counts, epoch times) keep every digit of their
        // integer part: rounded to 4 significant digits, an epoch time would
        // lose its hours.
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else if !(1e-4..1e6).contains(&v.abs()) {
        let s = format!("{v:.3e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => format!(
                "{}e{exp}",
                mantissa.trim_end_matches('0').trim_end_matches('.')
            ),
            None => s,
        }
    } else {
        folder::number(v)
    };
    (short.len() < text.len()).then_some(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_numbers_are_rounded_for_reading_and_the_rest_kept() {
        assert_eq!(readable("3.996253490447998").as_deref(), Some("3.996"));
        assert_eq!(readable("0.000123456").as_deref(), Some("0.0001235"));
        assert_eq!(readable("1234567.891").as_deref(), Some("1234567.89"));
        assert_eq!(
            readable("1708902051.7712345").as_deref(),
            Some("1708902051.77")
        );
        assert_eq!(readable("1708902051.77"), None);
        assert_eq!(readable("12345.5000001").as_deref(), Some("12345.5"));
        assert_eq!(readable("1.5e20").as_deref(), None);
        assert_eq!(
            readable("123456789012345678.5").as_deref(),
            Some("1.235e17")
        );
        assert_eq!(readable("447.48322619577414").as_deref(), Some("447.5"));
        assert_eq!(readable("-0.12345678").as_deref(), Some("-0.1235"));
        assert_eq!(readable("2.5"), None);
        assert_eq!(readable("1795435757"), None);
        assert_eq!(readable("run_1"), None);
        assert_eq!(readable("NaN"), None);
        assert_eq!(readable(""), None);
        let mut html = String::new();
        let table = HtmlTable {
            title: "t".into(),
            header: vec!["x".into()],
            rows: vec![vec!["3.996253490447998".into()]],
            ..HtmlTable::default()
        };
        render_table(&mut html, &table);
        assert!(
            html.contains("<td class=\"num\" data-v=\"3.996253490447998\">3.996</td>"),
            "{html}"
        );
    }

    fn figure() -> Figure {
        Figure {
            title: None,
            x_label: "Time (s)".into(),
            y_label: "Loss (%)".into(),
            x_range: Some((0.0, 2.0)),
            y_range: None,
            lines: vec![Line {
                label: "a</script><b>".into(),
                points: vec![(0.0, 1.0), (f64::NAN, f64::NAN), (1.0, 2.0)],
                band: vec![(0.0, 0.5, 1.5)],
            }],
            markers: vec![VMarker {
                x: 1.0,
                label: Some("outage".into()),
            }],
            note: Some("band: min–max".into()),
            legend: LegendPlace::Bottom,
        }
    }

    #[test]
    fn figure_json_round_trips_with_gaps() {
        let back = figure_from_json(&figure_to_json(&figure())).unwrap();
        assert_eq!(back.lines[0].points[0], (0.0, 1.0));
        assert!(back.lines[0].points[1].0.is_nan());
        assert_eq!(back.x_range, Some((0.0, 2.0)));
        assert_eq!(back.note.as_deref(), Some("band: min–max"));
        assert_eq!(back.markers[0].label.as_deref(), Some("outage"));
        assert!(figure_from_json(&json!({"lines": 3})).is_none());
    }

    #[test]
    fn html_is_self_contained_and_escaped() {
        let report = Report {
            title: "Failover <study>".into(),
            command: "expost report out -o r.html".into(),
            version: "0.1.0".into(),
            studies: vec![StudySection {
                name: "failover".into(),
                source: "out".into(),
                figures: vec![
                    ReportFigure {
                        name: "loss".into(),
                        figure: Some(figure()),
                        static_svg: Some("<?xml version=\"1.0\"?><svg id=\"drawn\"></svg>".into()),
                        files: vec!["loss.svg".into(), "loss.png".into()],
                        ..ReportFigure::default()
                    },
                    ReportFigure {
                        name: "timeline".into(),
                        figure: None,
                        static_svg: Some("<svg><rect/></svg>".into()),
                        ..ReportFigure::default()
                    },
                ],
                tables: vec![HtmlTable {
                    title: "Runs".into(),
                    header: vec!["run".into(), "ms".into()],
                    rows: vec![vec!["a_1".into(), "5.5".into()]],
                    row_classes: vec![String::new()],
                    ..HtmlTable::default()
                }],
                ..StudySection::default()
            }],
        };
        let html = render_html(&report);
        assert!(html.contains("Failover &lt;study&gt;"));
        assert!(
            !html.contains("a</script><b>"),
            "a label must not close the script element"
        );
        assert!(html.contains("<td class=\"num\">5.5</td>"));
        // A figure the script draws: its spec once, not its static drawing
        // too; without scripts, its files are named.
        assert!(!html.contains("id=\"drawn\""));
        assert!(html.contains("<noscript><p class=\"files\">Drawn by the page's script; the figure is in <code>loss.svg</code>, <code>loss.png</code>.</p></noscript>"));
        // A static-only figure: its SVG, no spec for the script.
        assert!(html.contains("<div class=\"chart still\" id=\"s0f1\"><h4>timeline</h4><div class=\"static\"><svg><rect/></svg></div></div>"));
        assert_eq!(
            html.matches("<script type=\"application/json\">{").count(),
            1
        );
        assert!(!html.contains("<?xml"));
        for forbidden in ["http://", "https://"] {
            let outside_svg_namespace = html.replace("http://www.w3.org/2000/svg", "");
            assert!(
                !outside_svg_namespace.contains(forbidden),
                "the report must fetch nothing"
            );
        }
    }

    /// Labels, titles, folder names and cells holding `<!--`, `</script>`
    /// and control characters neither end an element early nor break the
    /// figure's JSON.
    #[test]
    fn hostile_text_breaks_neither_the_page_nor_its_json() {
        let hostile = "x<!--y</script><script>alert(1)</script>\u{0}\u{1b}[31m\u{2028}&amp;";
        let mut spec = figure();
        spec.title = Some(hostile.into());
        spec.x_label = hostile.into();
        spec.lines[0].label = hostile.into();
        spec.markers[0].label = Some(hostile.into());
        let report = Report {
            title: hostile.into(),
            command: hostile.into(),
            version: "0.1.0".into(),
            studies: vec![StudySection {
                name: hostile.into(),
                source: format!("/tmp/{hostile}"),
                command: Some(hostile.into()),
                parameters: vec![(hostile.into(), hostile.into())],
                summary: vec![(hostile.into(), "1".into())],
                figures: vec![ReportFigure {
                    name: hostile.into(),
                    title: hostile.into(),
                    figure: Some(spec),
                    static_svg: Some("<svg></svg>".into()),
                    ..ReportFigure::default()
                }],
                tables: vec![HtmlTable {
                    title: hostile.into(),
                    header: vec![hostile.into()],
                    units: vec![Some(hostile.into())],
                    rows: vec![vec![hostile.into()]],
                    row_classes: vec!["error\"><script>".into()],
                    ..HtmlTable::default()
                }],
                files: vec![ReportFile {
                    path: hostile.into(),
                    title: hostile.into(),
                    kind: Kind::Trace,
                }],
                problems: vec![hostile.into()],
                ..StudySection::default()
            }],
        };
        let html = render_html(&report);
        // One script element per figure, and the page's own: no other.
        assert_eq!(html.matches("<script>").count(), 1);
        assert_eq!(
            html.matches("<script type=\"application/json\">").count(),
            1
        );
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(!html.contains("<!--"), "no comment can start");
        assert!(!html.contains('\u{0}') && !html.contains('\u{1b}'));
        assert!(
            html.contains("\\u{1b}[31m"),
            "control characters are shown escaped"
        );
        // The figure's JSON parses back to the very label.
        let start = html.find("<script type=\"application/json\">").unwrap()
            + "<script type=\"application/json\">".len();
        let end = start + html[start..].find("</script>").unwrap();
        let json = &html[start..end];
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('\u{2028}'));
        assert!(json.contains("\\u003c/script\\u003e"));
        let value: Value = serde_json::from_str(json).unwrap();
        assert_eq!(value["lines"][0]["label"], hostile);
        assert_eq!(value["title"], hostile);
    }
}
