//! Timeline charts of many entities (e.g. the nodes of a cluster): stacked
//! bars placed at a time on the x axis, and a Gantt chart with one row per
//! entity. Written directly as SVG, in points, in the theme of
//! [`crate::figure`]: the same paper sizes, font, font sizes, line widths,
//! colour-blind safe palette (Okabe–Ito), round ticks and tick labels, and
//! converted to PNG and PDF with its [`svg_to_png`] and [`svg_to_pdf`] (so
//! the embedded font is the only one used).
//!
//! Both stay readable with thousands of entities: tick labels are placed
//! at round values, never one per bar or row; bars and rows get thinner
//! (down to a hairline) instead of overlapping labels.

use crate::figure::font::{text_width, SVG_FONT_FAMILY};
use crate::figure::{
    choose_ticks, format_tick, svg_to_pdf, svg_to_png, tick_format, FigureError, PaperSize, Style,
    PALETTE,
};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const GRID: &str = "#DDDDDD";
/// Points per inch.
const PT: f64 = 72.0;

/// Colour `i` of the palette the line figures use, as SVG text.
fn colour(i: usize) -> String {
    let c = PALETTE[i % PALETTE.len()];
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Stacked bars at positions on a time axis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackedBars {
    /// Title above the legend (optional).
    pub title: Option<String>,
    /// X axis label with unit.
    pub x_label: String,
    /// Y axis label with unit.
    pub y_label: String,
    /// The name of each stacked segment, bottom first.
    pub segments: Vec<String>,
    /// The bars.
    pub bars: Vec<Bar>,
}

/// One bar: its x position and the height of each segment (NaN or
/// negative values draw nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Position on the x axis, in x axis units.
    pub x: f64,
    /// Segment heights, bottom first, in y axis units.
    pub values: Vec<f64>,
}

/// One row of a Gantt chart.
#[derive(Debug, Clone, PartialEq)]
pub struct GanttRow {
    /// Row label: shown for as many rows as have room (the part that
    /// tells rows apart), and on hover over the row in a browser.
    pub label: String,
    /// A thin line under the row from `extent.0` to `extent.1` (e.g. the
    /// entity's lifetime), x axis units.
    pub extent: Option<(f64, f64)>,
    /// Slices: (start, end, category index, lane 0 or 1).
    pub slices: Vec<(f64, f64, usize, u8)>,
}

/// A Gantt chart: one row per entity, time on x.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gantt {
    /// Title (optional).
    pub title: Option<String>,
    /// X axis label with unit.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Category names (legend), indexed by the slices' category.
    pub categories: Vec<String>,
    /// Categories that span others (e.g. a whole phase made of steps):
    /// drawn faded and behind the other slices of their row.
    pub envelopes: Vec<usize>,
    /// Rows, top first.
    pub rows: Vec<GanttRow>,
}

/// Round tick values covering `[lo, hi]`, about `target` of them (the
/// line figures' ticks).
pub fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    crate::figure::ticks(lo, hi, target.max(2))
}

/// Ticks on `lo..hi` along `len` points, at least `gap` points apart, and
/// their labels.
fn labelled_ticks(
    lo: f64,
    hi: f64,
    len: f64,
    gap: impl Fn(&[String]) -> f64,
) -> Vec<(f64, String)> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![(lo, format_tick(lo, tick_format(&[lo])))];
    }
    let labels = |t: &[f64]| {
        let f = tick_format(t);
        t.iter().map(|v| format_tick(*v, f)).collect::<Vec<_>>()
    };
    let (_, chosen) = choose_ticks(lo, hi, len, |t| gap(&labels(t)));
    let texts = labels(&chosen);
    chosen.into_iter().zip(texts).collect()
}

fn escape(text: &str) -> String {
    crate::printable::printable(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The frame shared by both charts: page size, plot rectangle, axes.
struct Frame<'a> {
    h: f64,
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
    style: &'a Style,
}

impl Frame<'_> {
    fn plot_w(&self) -> f64 {
        self.right - self.left
    }
    fn plot_h(&self) -> f64 {
        self.bottom - self.top
    }
}

/// Legend entries laid out in rows across the width; returns the SVG and
/// its height. Entries whose `faded` is true get a faded swatch (as their
/// slices are drawn); with `note`, the last entry is text without a swatch.
fn legend(
    names: &[String],
    faded: &[bool],
    note: bool,
    (x0, y0, width): (f64, f64, f64),
    font: f64,
) -> (String, f64) {
    let mut svg = String::new();
    let (mut x, mut y) = (x0, y0);
    let swatch = font * 0.9;
    for (i, name) in names.iter().enumerate() {
        let is_note = note && i + 1 == names.len();
        let sample = if is_note { 0.0 } else { swatch + 3.0 };
        let w = sample + text_width(name, font) + 8.0;
        if x + w > x0 + width && x > x0 {
            x = x0;
            y += font * 1.4;
        }
        if !is_note {
            let opacity = if faded.get(i) == Some(&true) {
                r#" fill-opacity="0.35""#
            } else {
                ""
            };
            let _ = write!(
                svg,
                r#"<rect x="{x:.2}" y="{:.2}" width="{swatch:.2}" height="{swatch:.2}" fill="{}"{opacity}/>"#,
                y - swatch + 1.0,
                colour(i),
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.2}" y="{:.2}" font-size="{font}">{}</text>"#,
            x + sample,
            y + 1.0,
            escape(name)
        );
        x += w;
    }
    (svg, y - y0 + font * 1.4)
}

fn open_svg(w: f64, h: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.1}" height="{h:.1}" viewBox="0 0 {w:.1} {h:.1}" font-family="{SVG_FONT_FAMILY}"><rect width="100%" height="100%" fill="white"/>"#
    )
}

/// Axes, grid and tick labels for x in `[x0, x1]` and y in `[y0, y1]`
/// (y ticks only when `y_ticks`).
fn axes(
    f: &Frame<'_>,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    y_ticks: bool,
    labels: (&str, &str),
) -> String {
    let st = f.style;
    let mut svg = String::new();
    let sx = |v: f64| f.left + (v - x0) / (x1 - x0) * f.plot_w();
    let sy = |v: f64| f.bottom - (v - y0) / (y1 - y0) * f.plot_h();
    let widest = |labels: &[String]| {
        labels
            .iter()
            .map(|l| text_width(l, st.tick_font))
            .fold(0.0, f64::max)
            + st.tick_font
    };
    for (t, text) in labelled_ticks(x0, x1, f.plot_w(), widest) {
        let x = sx(t);
        let _ = write!(
            svg,
            r#"<line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="{GRID}" stroke-width="{:.2}"/><text x="{x:.2}" y="{:.2}" font-size="{:.2}" text-anchor="middle">{text}</text>"#,
            f.top,
            f.bottom,
            st.grid_w,
            f.bottom + st.tick_len + st.tick_font * 1.1,
            st.tick_font,
        );
    }
    if y_ticks {
        for (t, text) in labelled_ticks(y0, y1, f.plot_h(), |_| st.tick_font * 2.2) {
            let y = sy(t);
            let _ = write!(
                svg,
                r#"<line x1="{:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{GRID}" stroke-width="{:.2}"/><text x="{:.2}" y="{:.2}" font-size="{:.2}" text-anchor="end">{text}</text>"#,
                f.left,
                f.right,
                st.grid_w,
                f.left - st.tick_len - 1.0,
                y + st.tick_font * 0.35,
                st.tick_font,
            );
        }
    }
    let _ = write!(
        svg,
        r#"<rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="none" stroke="black" stroke-width="{:.2}"/><text x="{:.2}" y="{:.2}" font-size="{:.2}" text-anchor="middle">{}</text><text transform="translate({:.2},{:.2}) rotate(-90)" font-size="{:.2}" text-anchor="middle">{}</text>"#,
        f.left,
        f.top,
        f.plot_w(),
        f.plot_h(),
        st.axis_w,
        x_label_centre(f, labels.0),
        f.h - st.label_font * 0.6,
        st.label_font,
        escape(labels.0),
        st.label_font * 1.2,
        (f.top + f.bottom) / 2.0,
        st.label_font,
        escape(labels.1)
    );
    svg
}

/// Where the x axis label is centred: under the plot, moved in as far as
/// it takes to stay on the page when the plot is narrow.
fn x_label_centre(f: &Frame<'_>, label: &str) -> f64 {
    let half = text_width(label, f.style.label_font) / 2.0 + 2.0;
    let centre = (f.left + f.right) / 2.0;
    centre.min(f.style.w - half).max(half)
}

/// Frame of a chart in `style` with a title, a legend and a left margin.
fn frame<'a>(
    style: &'a Style,
    left: f64,
    title: &Option<String>,
    legend_names: &[String],
) -> (Frame<'a>, String) {
    frame_with(style, left, title, legend_names, &[], false)
}

/// [`frame`] with faded legend swatches and a note ending the legend (see [`legend`]).
fn frame_with<'a>(
    style: &'a Style,
    left: f64,
    title: &Option<String>,
    legend_names: &[String],
    faded: &[bool],
    note: bool,
) -> (Frame<'a>, String) {
    let (w, h) = (style.w, style.h);
    let font = style.legend_font;
    let mut svg = String::new();
    let mut top = font * 0.8;
    if let Some(t) = title {
        // A title wider than the page gets a smaller font, down to 70 %,
        // then is cut with "…".
        let avail = w - style.tick_font * 2.0;
        let natural = text_width(t, style.title_font);
        let size = style.title_font * (avail / natural).clamp(0.7, 1.0);
        let _ = write!(
            svg,
            r#"<text x="{:.2}" y="{:.2}" font-size="{:.2}" text-anchor="middle">{}</text>"#,
            w / 2.0,
            top + style.title_font,
            size,
            escape(&fit_width(t, size, avail))
        );
        top += style.title_font * 1.6;
    }
    let (legend_svg, legend_h) = legend(
        legend_names,
        faded,
        note,
        (left, top + font, w - left - font),
        font,
    );
    svg.push_str(&legend_svg);
    top += legend_h + font * 0.4;
    let f = Frame {
        h,
        left,
        top,
        right: w - style.tick_font * 1.2,
        bottom: h - style.tick_len - style.tick_font * 1.6 - style.label_font * 1.8,
        style,
    };
    (f, svg)
}

fn range_of(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Renders stacked bars as SVG at a paper size.
///
/// # Errors
/// [`FigureError::NoData`] when no bar has a finite position and height.
pub fn render_bars_at(chart: &StackedBars, size: PaperSize) -> Result<String, FigureError> {
    draw_bars(chart, &Style::new(size))
}

/// Renders stacked bars as SVG, `width_in` × `height_in` inches, in the
/// theme of the paper size closest in width.
///
/// # Errors
/// [`FigureError::NoData`] when no bar has a finite position and height.
pub fn render_bars(
    chart: &StackedBars,
    width_in: f64,
    height_in: f64,
) -> Result<String, FigureError> {
    draw_bars(chart, &Style::from_inches(width_in, height_in))
}

/// Renders charts one above the other, each as tall as `size` and with its
/// own y axis, all on the x axis range that holds every chart's bars (so
/// that a position means the same in each). Charts without bars are left
/// out.
///
/// # Errors
/// [`FigureError::NoData`] when no chart has a finite bar.
pub fn render_bar_panels_at(
    charts: &[StackedBars],
    size: PaperSize,
) -> Result<String, FigureError> {
    let style = Style::new(size);
    let drawn: Vec<&StackedBars> = charts.iter().filter(|c| x_range(c).is_some()).collect();
    let x = range_of(
        drawn
            .iter()
            .filter_map(|c| x_range(c))
            .flat_map(|(a, b)| [a, b]),
    )
    .ok_or(FigureError::NoData)?;
    let (w, h) = (style.w, style.h);
    let mut out = open_svg(w, h * drawn.len() as f64);
    for (i, chart) in drawn.iter().enumerate() {
        let panel = draw_bars_on(chart, &style, Some(x))?;
        let body = panel
            .split_once('>')
            .map_or(panel.as_str(), |(_, rest)| rest)
            .trim_end()
            .trim_end_matches("</svg>")
            .replacen(r#"<rect width="100%" height="100%" fill="white"/>"#, "", 1);
        let _ = write!(
            out,
            r#"<g transform="translate(0,{:.2})">{body}</g>"#,
            h * i as f64
        );
    }
    out.push_str("</svg>\n");
    Ok(out)
}

/// The x range of a chart's bars with a finite position and height.
fn x_range(chart: &StackedBars) -> Option<(f64, f64)> {
    range_of(
        chart
            .bars
            .iter()
            .filter(|b| b.values.iter().any(|v| v.is_finite() && *v > 0.0))
            .map(|b| b.x),
    )
}

fn draw_bars(chart: &StackedBars, style: &Style) -> Result<String, FigureError> {
    draw_bars_on(chart, style, None)
}

/// Draws `chart`, on `x_range` when given (else its bars' own range).
fn draw_bars_on(
    chart: &StackedBars,
    style: &Style,
    x_range: Option<(f64, f64)>,
) -> Result<String, FigureError> {
    let (w, h) = (style.w, style.h);
    let totals: Vec<f64> = chart
        .bars
        .iter()
        .map(|b| b.values.iter().filter(|v| v.is_finite() && **v > 0.0).sum())
        .collect();
    let (x0, x1) = match x_range {
        Some(range) => range,
        None => range_of(chart.bars.iter().map(|b| b.x)).ok_or(FigureError::NoData)?,
    };
    let (_, ymax) = range_of(totals.iter().copied()).ok_or(FigureError::NoData)?;
    // A little room beside the outer bars: 2 % of the span, at least half a
    // unit for spans of seconds, but never more than a tenth of a small span
    // (rates of 0.01–0.5 must not get an axis running to -0.5).
    let span = x1 - x0;
    let pad = if span > 0.0 {
        (span * 0.02).max(0.5_f64.min(span * 0.1))
    } else {
        0.5
    };
    let (x0, x1) = (x0 - pad, x1 + pad);
    let y1 = if ymax > 0.0 { ymax * 1.04 } else { 1.0 };
    let left = style.tick_font * 4.5 + style.label_font * 1.6;
    let (f, mut svg) = frame(style, left, &chart.title, &chart.segments);
    let mut out = open_svg(w, h);
    out.push_str(&svg);
    svg = axes(
        &f,
        (x0, x1),
        (0.0, y1),
        true,
        (&chart.x_label, &chart.y_label),
    );
    // Bars: as wide as the plot allows without merging into a block, at least a hairline.
    let width = (f.plot_w() / chart.bars.len().max(1) as f64 * 0.8).clamp(0.3, 6.0);
    let sx = |v: f64| f.left + (v - x0) / (x1 - x0) * f.plot_w();
    let scale = f.plot_h() / y1;
    for bar in &chart.bars {
        if !bar.x.is_finite() {
            continue;
        }
        let mut base = 0.0;
        for (i, v) in bar.values.iter().enumerate() {
            if !(v.is_finite() && *v > 0.0) {
                continue;
            }
            let _ = write!(
                out,
                r#"<rect x="{:.2}" y="{:.2}" width="{width:.2}" height="{:.3}" fill="{}"/>"#,
                sx(bar.x) - width / 2.0,
                f.bottom - (base + v) * scale,
                v * scale,
                colour(i)
            );
            base += v;
        }
    }
    out.push_str(&svg);
    out.push_str("</svg>\n");
    Ok(out)
}

/// Rows up to this many get room for a readable name each.
const NAMED_ROWS: usize = 60;

/// The height in inches a Gantt chart of `rows` rows gets: at least
/// `min_in`; room for a readable name per row (8.5 pt) up to 60 rows, then
/// 1.5 pt per row; at most 40 in.
pub fn gantt_height(rows: usize, min_in: f64) -> f64 {
    let per_row = if rows <= NAMED_ROWS { 8.5 } else { 1.5 };
    (1.6 + rows as f64 * per_row / PT).clamp(min_in, 40.0)
}

/// Renders a Gantt chart as SVG at a paper size's width, as tall as its
/// rows need (see [`gantt_height`]).
///
/// # Errors
/// [`FigureError::NoData`] when no slice has finite times.
pub fn render_gantt_at(chart: &Gantt, size: PaperSize) -> Result<String, FigureError> {
    let (w_in, h_in) = size.inches();
    let mut style = Style::new(size);
    style.h = gantt_height(chart.rows.len(), h_in) * PT;
    debug_assert_eq!(style.w, w_in * PT);
    draw_gantt(chart, &style)
}

/// Renders a Gantt chart as SVG, `width_in` × `height_in` inches, in the
/// theme of the paper size closest in width.
///
/// # Errors
/// [`FigureError::NoData`] when no slice has finite times.
pub fn render_gantt(chart: &Gantt, width_in: f64, height_in: f64) -> Result<String, FigureError> {
    draw_gantt(chart, &Style::from_inches(width_in, height_in))
}

fn draw_gantt(chart: &Gantt, style: &Style) -> Result<String, FigureError> {
    let (w, h) = (style.w, style.h);
    let font = style.tick_font;
    let times = chart.rows.iter().flat_map(|r| {
        r.slices
            .iter()
            .flat_map(|s| [s.0, s.1])
            .chain(r.extent.into_iter().flat_map(|e| [e.0, e.1]))
    });
    let (x0, x1) = range_of(times).ok_or(FigureError::NoData)?;
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let names = RowNames::of(&chart.rows, font * 0.8, w * 0.3);
    let left = names.width + font + style.label_font * 1.6;
    let mut legend_names = chart.categories.clone();
    let faded: Vec<bool> = (0..legend_names.len())
        .map(|i| chart.envelopes.contains(&i))
        .collect();
    if let Some(pattern) = &names.pattern {
        legend_names.push(format!("row names: {pattern}"));
    }
    let (f, head) = frame_with(
        style,
        left,
        &chart.title,
        &legend_names,
        &faded,
        names.pattern.is_some(),
    );
    let mut out = open_svg(w, h);
    out.push_str(&head);
    let n = chart.rows.len().max(1) as f64;
    let row_h = f.plot_h() / n;
    // Two lanes (entity-level above, per-item below) while each is at least
    // a point tall; past that density every slice fills its whole row, drawn
    // edge to edge so that rows of a pixel or less keep their colours.
    let dense = row_h * 0.4 < 1.0;
    if dense {
        out.push_str(r#"<g shape-rendering="crispEdges">"#);
    }
    let sx = |v: f64| f.left + (v - x0) / (x1 - x0) * f.plot_w();
    for (i, row) in chart.rows.iter().enumerate() {
        let y = f.top + i as f64 * row_h;
        let _ = write!(out, "<g><title>{}</title>", escape(&row.label));
        if let (Some((a, b)), false) = (row.extent, dense) {
            let _ = write!(
                out,
                r##"<rect x="{:.2}" y="{:.3}" width="{:.3}" height="{:.3}" fill="#BBBBBB"/>"##,
                sx(a),
                y + row_h * 0.45,
                (sx(b) - sx(a)).max(0.1),
                (row_h * 0.1).max(0.05)
            );
        }
        // Envelopes first, so the slices they are made of draw over them.
        let mut slices: Vec<&(f64, f64, usize, u8)> = row
            .slices
            .iter()
            .filter(|s| s.0.is_finite() && s.1.is_finite())
            .collect();
        slices.sort_by_key(|s| !chart.envelopes.contains(&s.2));
        for &&(a, b, cat, lane) in &slices {
            let (lane_y, lane_h) = if dense {
                (y, row_h)
            } else {
                (
                    y + row_h * (0.1 + 0.4 * f64::from(lane.min(1))),
                    row_h * 0.4,
                )
            };
            let opacity = if chart.envelopes.contains(&cat) {
                r#" fill-opacity="0.35""#
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<rect x="{:.2}" y="{:.3}" width="{:.3}" height="{:.3}" fill="{}"{opacity}/>"#,
                sx(a.min(b)),
                lane_y,
                (sx(a.max(b)) - sx(a.min(b))).max(0.15),
                lane_h,
                colour(cat)
            );
        }
        out.push_str("</g>");
    }
    if dense {
        out.push_str("</g>");
    }
    out.push_str(&axes(
        &f,
        (x0, x1),
        (0.0, n),
        false,
        (&chart.x_label, &chart.y_label),
    ));
    // Names of every k-th row, k chosen so that no two overlap.
    let name_font = names.font;
    let step = ((name_font * 1.15) / row_h).ceil().max(1.0) as usize;
    for (i, name) in names.shown.iter().enumerate().step_by(step) {
        let y = f.top + (i as f64 + 0.5) * row_h;
        let _ = write!(
            out,
            r#"<text x="{:.2}" y="{:.2}" font-size="{name_font:.2}" text-anchor="end">{}</text>"#,
            f.left - 3.0,
            y + name_font * 0.35,
            escape(name)
        );
    }
    out.push_str("</svg>\n");
    Ok(out)
}

/// The row names a Gantt chart shows: the part that tells rows apart (a
/// prefix and suffix shared by every name, cut at a separator, is taken
/// out and named once in the legend), shortened with "…" to fit a width.
struct RowNames {
    shown: Vec<String>,
    /// `prefix…suffix` when a shared part was taken out.
    pattern: Option<String>,
    /// The widest name shown, points.
    width: f64,
    font: f64,
}

impl RowNames {
    fn of(rows: &[GanttRow], font: f64, max_width: f64) -> RowNames {
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        let (prefix, suffix) = shared_ends(&labels);
        let pattern = (prefix + suffix > 0).then(|| {
            let any = labels[0];
            format!("{}…{}", &any[..prefix], &any[any.len() - suffix..])
        });
        let shown: Vec<String> = labels
            .iter()
            .map(|l| fit_width(&l[prefix..l.len() - suffix], font, max_width))
            .collect();
        let width = shown
            .iter()
            .map(|s| text_width(s, font))
            .fold(0.0, f64::max);
        RowNames {
            shown,
            pattern,
            width,
            font,
        }
    }
}

/// Byte lengths of the longest prefix and suffix every label shares, each
/// ending (prefix) or starting (suffix) at a separator (not a letter or
/// digit), leaving every label something of its own. (0, 0) for fewer
/// than two labels.
fn shared_ends(labels: &[&str]) -> (usize, usize) {
    let (Some(first), true) = (labels.first(), labels.len() > 1) else {
        return (0, 0);
    };
    let is_separator = |c: char| !c.is_alphanumeric();
    let mut prefix = first.len();
    let mut suffix = first.len();
    for l in &labels[1..] {
        let common = first
            .char_indices()
            .zip(l.chars())
            .find(|((_, a), b)| a != b)
            .map_or(first.len().min(l.len()), |((i, _), _)| i);
        prefix = prefix.min(common);
        let common_end = first
            .chars()
            .rev()
            .zip(l.chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum::<usize>();
        suffix = suffix.min(common_end);
    }
    // Cut the prefix just after its last separator, the suffix at its first.
    let prefix = first[..prefix].rfind(is_separator).map_or(0, |i| {
        i + first[i..].chars().next().map_or(1, char::len_utf8)
    });
    let tail = &first[first.len() - suffix..];
    let suffix = tail.find(is_separator).map_or(0, |i| tail.len() - i);
    let shortest = labels.iter().map(|l| l.len()).min().unwrap_or(0);
    if prefix + suffix >= shortest {
        return (0, 0);
    }
    (prefix, suffix)
}

/// `text`, or its beginning and "…" when it is wider than `max_width`.
fn fit_width(text: &str, font: f64, max_width: f64) -> String {
    if text_width(text, font) <= max_width {
        return text.to_string();
    }
    let mut kept = String::new();
    for c in text.chars() {
        kept.push(c);
        if text_width(&kept, font) + text_width("…", font) > max_width {
            kept.pop();
            break;
        }
    }
    kept.push('…');
    kept
}

/// Writes `<dir>/<stem>.svg`, `.png` (300 dpi) and `.pdf`, atomically.
/// Returns the paths written.
///
/// # Errors
/// Conversion errors, and [`FigureError::Io`] naming the file.
pub fn write_svg_png_pdf(svg: &str, dir: &Path, stem: &str) -> Result<Vec<PathBuf>, FigureError> {
    let png = svg_to_png(svg, 300.0)?;
    let pdf = svg_to_pdf(svg)?;
    let mut written = Vec::new();
    for (ext, bytes) in [("svg", svg.as_bytes()), ("png", &png), ("pdf", &pdf)] {
        let path = dir.join(format!("{stem}.{ext}"));
        crate::atomic::write_atomic(&path, bytes).map_err(|source| FigureError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks() {
        let some = ticks(0.0, 10.0, 5);
        assert!(some.len() >= 3 && some.len() <= 6, "{some:?}");
        assert!(some.iter().all(|t| (t * 2.0).fract() == 0.0), "{some:?}");
        assert_eq!(ticks(3.0, 3.0, 5), vec![3.0]);
        let many = ticks(0.0, 999.0, 8);
        assert!(many.len() <= 12 && many.len() >= 4, "{many:?}");
    }

    #[test]
    fn thousand_bars_stay_readable() {
        let bars: Vec<Bar> = (0..1000)
            .map(|i| Bar {
                x: i as f64 * 0.12,
                values: vec![30.0, 10.0, f64::NAN, 50.0 + (i % 7) as f64],
            })
            .collect();
        let chart = StackedBars {
            title: Some("pool <1>".into()),
            x_label: "Node prep start (s)".into(),
            y_label: "Duration (s)".into(),
            segments: vec!["a".into(), "b".into(), "c".into(), "d".into()],
            bars,
        };
        let svg = render_bars(&chart, 7.0, 3.2).unwrap();
        assert_eq!(
            svg.matches("<rect").count(),
            1 + 4 + 3000 + 1,
            "background, swatches, 3 segments per bar, frame"
        );
        // Tick labels at round values: a handful, not one per bar.
        assert!(svg.matches("text-anchor=\"middle\"").count() < 20);
        assert!(svg.contains("pool &lt;1&gt;"));
        let png = svg_to_png(&svg, 72.0).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert!(matches!(
            render_bars(&StackedBars::default(), 3.3, 2.2),
            Err(FigureError::NoData)
        ));
    }

    #[test]
    fn gantt_rows() {
        let rows: Vec<GanttRow> = (0..3)
            .map(|i| GanttRow {
                label: format!("node-{i}"),
                extent: Some((0.0, 10.0)),
                slices: vec![(1.0, 2.0, 0, 0), (2.0, 5.0, 1, 1)],
            })
            .collect();
        let chart = Gantt {
            title: None,
            x_label: "t (s)".into(),
            y_label: "node".into(),
            categories: vec!["x".into(), "y".into()],
            envelopes: Vec::new(),
            rows,
        };
        let svg = render_gantt(&chart, 7.0, gantt_height(3, 2.0)).unwrap();
        // "node-" is shared by every name: shown once in the legend.
        assert!(svg.contains(">2</text>"), "{svg}");
        assert!(svg.contains("row names: node-…"));
        assert!(svg.contains("<title>node-2</title>"));
        assert!(svg_to_pdf(&svg).unwrap().starts_with(b"%PDF"));
    }

    #[test]
    fn panels_stack_on_one_x_range_and_empty_ones_are_left_out() {
        let chart = |name: &str, xs: &[f64]| StackedBars {
            title: Some(name.into()),
            x_label: "x".into(),
            y_label: "n".into(),
            segments: vec![name.into()],
            bars: xs
                .iter()
                .map(|&x| Bar {
                    x,
                    values: vec![2.0],
                })
                .collect(),
        };
        let a = chart("above", &[0.0, 1.0]);
        let b = chart("below", &[3.0, 4.0]);
        let svg =
            render_bar_panels_at(&[a.clone(), b, chart("none", &[])], PaperSize::Column).unwrap();
        let style = Style::new(PaperSize::Column);
        assert!(
            svg.contains(&format!(r#"height="{:.1}""#, style.h * 2.0)),
            "two panels tall"
        );
        assert_eq!(svg.matches("<g transform=").count(), 2);
        assert!(!svg.contains(">none<"));
        // The same x ticks in both panels: 0 to 4 in each.
        for part in svg.split("<g transform=").skip(1) {
            assert!(part.contains(">0.0<") && part.contains(">4.0<"), "{part}");
        }
        assert!(svg_to_png(&svg, 72.0).is_ok());
        assert!(matches!(
            render_bar_panels_at(&[chart("none", &[])], PaperSize::Column),
            Err(FigureError::NoData)
        ));
        // One panel alone is the chart itself, on its own range.
        let alone = render_bar_panels_at(&[a], PaperSize::Column).unwrap();
        assert!(alone.contains(">1.0<") && !alone.contains(">4.0<"));
    }

    #[test]
    fn shared_ends_are_cut_at_separators_and_leave_every_name_its_own_part() {
        let ids = [
            "tvm-0000000007_20-20240101t000000z",
            "tvm-0000000007_1-20240101t000000z",
            "tvm-0000000007_15-20240101t000000z",
        ];
        let (p, s) = shared_ends(&ids);
        assert_eq!(
            (&ids[0][..p], &ids[0][ids[0].len() - s..]),
            ("tvm-0000000007_", "-20240101t000000z")
        );
        // A shared "1" after the separator stays with the names.
        let ones = ["node_10", "node_11", "node_12"];
        assert_eq!(shared_ends(&ones), (5, 0));
        // Nothing shared at a separator, one name, a name that would be emptied.
        assert_eq!(shared_ends(&["alpha", "beta"]), (0, 0));
        assert_eq!(shared_ends(&["solo-1"]), (0, 0));
        assert_eq!(shared_ends(&["a-b", "a-b-b"]), (0, 0));
        assert_eq!(shared_ends(&["né-1", "né-2"]), (4, 0));
    }

    /// The y positions of the row names in `svg` and the widest one.
    fn row_names(svg: &str) -> (Vec<f64>, f64, f64) {
        let mut ys = Vec::new();
        let mut widest: f64 = 0.0;
        let mut font = 0.0;
        for piece in svg.split("<text ").skip(1) {
            if !piece.contains(r#"text-anchor="end">"#) || piece.contains("rotate") {
                continue;
            }
            let attr = |name: &str| -> f64 {
                let start = piece.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                piece[start..].split('"').next().unwrap().parse().unwrap()
            };
            font = attr("font-size");
            let text = piece.split('>').nth(1).unwrap().trim_end_matches("</text");
            widest = widest.max(text_width(text, font));
            ys.push(attr("y"));
        }
        (ys, widest, font)
    }

    fn pool(rows: usize, label: impl Fn(usize) -> String) -> Gantt {
        Gantt {
            title: Some("pool".into()),
            x_label: "Time (s after 2023-12-12 09:48:07 UTC)".into(),
            y_label: "Node (by node prep start)".into(),
            categories: vec!["install".into(), "pull".into(), "prep".into()],
            envelopes: vec![2],
            rows: (0..rows)
                .map(|i| GanttRow {
                    label: label(i),
                    extent: Some((0.0, 300.0)),
                    slices: vec![
                        (0.0, 40.0, 2, 0),
                        (0.0, 30.0, 0, 0),
                        (50.0, 200.0 + i as f64 % 50.0, 1, 1),
                    ],
                })
                .collect(),
        }
    }

    #[test]
    fn row_names_never_overlap_each_other_or_the_axis_title() {
        for (rows, size) in [
            (24, PaperSize::Column),
            (24, PaperSize::Page),
            (1500, PaperSize::Column),
            (10_000, PaperSize::Page),
        ] {
            let chart = pool(rows, |i| format!("tvm-1219235766_{i}-20170622t183113z"));
            let svg = render_gantt_at(&chart, size).unwrap();
            let (ys, widest, font) = row_names(&svg);
            assert!(
                !ys.is_empty() && ys.len() <= rows,
                "{rows} rows: {} names",
                ys.len()
            );
            assert!(
                ys.windows(2).all(|w| w[1] - w[0] >= font),
                "{rows} rows: names closer than their size"
            );
            // The names end 3 pt left of the plot; the rotated axis title
            // takes 1.6 label fonts at the left edge.
            let left = svg.split(r#"fill="none" stroke="black""#).next().unwrap();
            let plot_left: f64 = left
                .rsplit("<rect x=\"")
                .next()
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let style = Style::new(size);
            assert!(
                plot_left - 3.0 - widest >= style.label_font * 1.6 - 0.01,
                "{rows} rows at {size:?}: names reach the axis title"
            );
        }
    }

    #[test]
    fn dense_rows_fill_their_height_and_keep_every_category() {
        let chart = pool(10_000, |i| format!("node-{i}"));
        let svg = render_gantt_at(&chart, PaperSize::Page).unwrap();
        assert!(svg.contains(r#"<g shape-rendering="crispEdges">"#));
        for c in 0..3 {
            assert!(
                svg.contains(&format!("fill=\"{}\"", colour(c))),
                "category {c} drawn"
            );
        }
        assert_eq!(
            svg.matches("<title>").count(),
            10_000,
            "every row named on hover"
        );
        // Envelopes drawn before the slices they hold.
        let row = svg.split("<title>node-0</title>").nth(1).unwrap();
        assert!(row.find(&colour(2)).unwrap() < row.find(&colour(0)).unwrap());
        let sparse = render_gantt_at(&pool(24, |i| format!("node-{i}")), PaperSize::Page).unwrap();
        assert!(!sparse.contains("crispEdges"));
    }
}
