//! Paper figures: line charts with min–max bands and vertical event markers,
//! drawn with plotters' SVG backend and converted to PNG (resvg) and PDF
//! (svg2pdf) with one embedded font, so the three files look the same on
//! every machine and the same [`Figure`] always gives the same bytes.
//!
//! Layout, from top to bottom: optional title, legend (outside the plot, in
//! as many rows as it needs), labels of the vertical markers, the plot, the
//! x tick labels and the x axis label. Lines use the Okabe–Ito colour-blind
//! safe palette, each with its own marker shape (drawn sparsely) and dash
//! pattern, so they stay apart in greyscale too.
//!
//! Sizes are in points. The SVG's `width`/`height` are in px at 72 px/in
//! (a [`PaperSize::Column`] figure is 237.6 × 158.4), while its `viewBox`
//! has `UNITS_PER_PT` units per point so that plotters' integer
//! coordinates are fine enough (0.2 pt) for smooth lines.

pub(crate) mod font;
mod geom;

use std::path::{Path, PathBuf};

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use resvg::{tiny_skia, usvg};

use geom::Rect;

/// Drawing units per point in the SVG `viewBox`.
const UNITS_PER_PT: f64 = 5.0;
/// plotters writes `font-size` as the given size divided by this.
const PLOTTERS_FONT_FACTOR: f64 = 1.24;
/// At most this many point markers per line.
const MAX_MARKERS: usize = 12;
/// Opacity of the min–max bands.
const BAND_ALPHA: f64 = 0.2;

/// Okabe–Ito colour-blind safe palette, in the order lines use it.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];
/// Dash patterns in points at [`PaperSize::Column`] (on, off, on, off…);
/// empty is solid.
const DASHES: [&[f64]; 4] = [&[], &[4.0, 1.6], &[1.1, 1.3], &[4.0, 1.3, 1.1, 1.3]];
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
const MARKER_LINE: RGBColor = RGBColor(0x55, 0x55, 0x55);
const TEXT: RGBColor = RGBColor(0x00, 0x00, 0x00);

/// The physical size of a figure.
///
/// Column = 3.3 in × 2.2 in (one column of a two-column paper), Page =
/// 7 in × 3.2 in (full text width), Slide = 10 in × 5.6 in (16:9 slide).
/// Fonts and line widths grow a little with the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaperSize {
    /// 3.3 in × 2.2 in, for one column of a two-column paper.
    Column,
    /// 7 in × 3.2 in, for the full text width of a paper.
    Page,
    /// 10 in × 5.6 in, for a 16:9 slide.
    Slide,
}

impl PaperSize {
    /// Width and height in inches.
    pub fn inches(self) -> (f64, f64) {
        match self {
            PaperSize::Column => (3.3, 2.2),
            PaperSize::Page => (7.0, 3.2),
            PaperSize::Slide => (10.0, 5.6),
        }
    }

    /// How much fonts, line widths and markers are scaled relative to
    /// [`PaperSize::Column`] (7–7.5 pt text there).
    fn scale(self) -> f64 {
        match self {
            PaperSize::Column => 1.0,
            PaperSize::Page => 1.1,
            PaperSize::Slide => 1.8,
        }
    }
}

/// A line chart: lines with optional min–max bands, and vertical markers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figure {
    /// Title drawn above the legend; papers usually leave it out and use the
    /// caption instead.
    pub title: Option<String>,
    /// X axis label with its unit, e.g. "Time since iperf_client (s)".
    pub x_label: String,
    /// Y axis label with its unit, e.g. "Packet loss (%)".
    pub y_label: String,
    /// X axis range; `None` takes it from the data (exactly, no padding).
    pub x_range: Option<(f64, f64)>,
    /// Y axis range; `None` takes it from the data (lines and bands within
    /// the x range), with 4 % padding, and includes 0 when the data are
    /// all non-negative.
    pub y_range: Option<(f64, f64)>,
    /// Lines, drawn in order with the palette's colours, markers and dashes.
    pub lines: Vec<Line>,
    /// Vertical dashed lines marking moments, e.g. a failover.
    pub markers: Vec<VMarker>,
    /// A note ending the legend, without a sample (e.g. how the bands were
    /// clipped).
    pub note: Option<String>,
    /// Where the legend goes.
    pub legend: LegendPlace,
}

/// Where a figure's legend goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LegendPlace {
    /// Above the plot (under the title).
    #[default]
    Top,
    /// Under the x axis label.
    Bottom,
    /// No legend (nor its note).
    None,
    /// Inside the plot, one entry per row on a white box, in the corner
    /// the lines and bands cover least (top right when several tie).
    Inside,
}

/// One series: a central line with an optional band around it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    /// Legend entry; an empty label leaves the line out of the legend.
    pub label: String,
    /// The central line (e.g. the median across trials), drawn in the given
    /// order. A point with a non-finite coordinate (NaN) breaks the line.
    pub points: Vec<(f64, f64)>,
    /// `(x, lo, hi)` drawn as a translucent area in the line's colour under
    /// all lines (e.g. min–max across trials). May be empty; a non-finite
    /// entry breaks the band.
    pub band: Vec<(f64, f64, f64)>,
}

/// A vertical dashed line across the plot at `x`, with an optional label
/// written above the plot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VMarker {
    /// Where the line is, in x axis units.
    pub x: f64,
    /// Text written above the plot at `x`, e.g. "failover".
    pub label: Option<String>,
}

/// Why a figure could not be drawn, converted or written.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// No line or band has a single finite point.
    #[error("no data to draw: no line or band has a finite point")]
    NoData,
    /// A given axis range is not finite or not increasing.
    #[error(
        "invalid {axis} range ({lo}, {hi}): bounds must be finite and the first below the second"
    )]
    InvalidRange {
        /// "x" or "y".
        axis: &'static str,
        /// Lower bound as given.
        lo: f64,
        /// Upper bound as given.
        hi: f64,
    },
    /// The legend and labels leave too little room for the plot.
    #[error("figure too crowded: {0}")]
    TooCrowded(String),
    /// The resolution asked for a PNG is unusable.
    #[error(
        "invalid resolution {0} dpi: must be finite and give an image of 1 to 30000 px a side"
    )]
    InvalidDpi(f32),
    /// plotters failed while drawing the SVG.
    #[error("drawing the figure failed: {0}")]
    Draw(String),
    /// The SVG could not be parsed for conversion.
    #[error("cannot parse the SVG: {0}")]
    Svg(String),
    /// Encoding the PNG failed.
    #[error("cannot encode the PNG: {0}")]
    Png(String),
    /// Converting to PDF failed.
    #[error("cannot convert the SVG to PDF: {0}")]
    Pdf(String),
    /// Reading or writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// `fig` with control characters in its texts written as visible escapes
/// (SVG cannot hold them); `None` when it has none.
fn printable_labels(fig: &Figure) -> Option<Figure> {
    use crate::printable::printable;
    use std::borrow::Cow;
    let changes = |t: &str| matches!(printable(t), Cow::Owned(_));
    let any = fig.title.as_deref().is_some_and(changes)
        || changes(&fig.x_label)
        || changes(&fig.y_label)
        || fig.lines.iter().any(|l| changes(&l.label))
        || fig
            .markers
            .iter()
            .any(|m| m.label.as_deref().is_some_and(changes))
        || fig.note.as_deref().is_some_and(changes);
    if !any {
        return None;
    }
    let fix = |t: &str| printable(t).into_owned();
    let mut clean = fig.clone();
    clean.title = fig.title.as_deref().map(fix);
    clean.x_label = fix(&fig.x_label);
    clean.y_label = fix(&fig.y_label);
    for line in &mut clean.lines {
        line.label = fix(&line.label);
    }
    for marker in &mut clean.markers {
        marker.label = marker.label.as_deref().map(fix);
    }
    clean.note = fig.note.as_deref().map(fix);
    Some(clean)
}

/// Sizes, in points, for one [`PaperSize`]: the theme every drawing
/// (line figures, bar and Gantt charts) shares.
pub(crate) struct Style {
    pub(crate) w: f64,
    pub(crate) h: f64,
    pub(crate) k: f64,
    pub(crate) tick_font: f64,
    pub(crate) label_font: f64,
    pub(crate) legend_font: f64,
    pub(crate) title_font: f64,
    pub(crate) line_w: f64,
    pub(crate) marker: f64,
    pub(crate) axis_w: f64,
    pub(crate) grid_w: f64,
    pub(crate) tick_len: f64,
}

impl Style {
    /// The theme at `size`.
    pub(crate) fn new(size: PaperSize) -> Style {
        let (w_in, h_in) = size.inches();
        Style::scaled(w_in, h_in, size.scale())
    }

    /// A drawing `w_in` × `h_in` inches, in the theme of the paper size
    /// whose width is closest.
    pub(crate) fn from_inches(w_in: f64, h_in: f64) -> Style {
        let nearest = [PaperSize::Column, PaperSize::Page, PaperSize::Slide]
            .into_iter()
            .min_by(|a, b| {
                (a.inches().0 - w_in)
                    .abs()
                    .total_cmp(&(b.inches().0 - w_in).abs())
            })
            .unwrap_or(PaperSize::Column);
        Style::scaled(w_in, h_in, nearest.scale())
    }

    fn scaled(w_in: f64, h_in: f64, k: f64) -> Style {
        Style {
            w: w_in * 72.0,
            h: h_in * 72.0,
            k,
            tick_font: 7.0 * k,
            label_font: 7.5 * k,
            legend_font: 7.0 * k,
            title_font: 8.5 * k,
            line_w: 1.0 * k,
            marker: 3.4 * k,
            axis_w: 0.6 * k,
            grid_w: 0.4 * k,
            tick_len: 2.5 * k,
        }
    }
}

/// Points to drawing units.
fn u(pt: f64) -> i32 {
    (pt * UNITS_PER_PT).round() as i32
}

/// Points to drawing units, unsigned, at least 1.
fn uw(pt: f64) -> u32 {
    u(pt).max(1) as u32
}

fn text_style(size_pt: f64, color: &RGBColor, pos: Pos) -> TextStyle<'static> {
    FontDesc::new(
        FontFamily::Name(font::SVG_FONT_FAMILY),
        size_pt * UNITS_PER_PT * PLOTTERS_FONT_FACTOR,
        FontStyle::Normal,
    )
    .color(color)
    .pos(pos)
}

fn stroke(color: RGBAColor, width_pt: f64) -> ShapeStyle {
    ShapeStyle {
        color,
        filled: false,
        stroke_width: uw(width_pt),
    }
}

fn fill(color: RGBAColor) -> ShapeStyle {
    ShapeStyle {
        color,
        filled: true,
        stroke_width: 0,
    }
}

fn check_range(axis: &'static str, r: (f64, f64)) -> Result<(f64, f64), FigureError> {
    if r.0.is_finite() && r.1.is_finite() && r.0 < r.1 {
        Ok(r)
    } else {
        Err(FigureError::InvalidRange {
            axis,
            lo: r.0,
            hi: r.1,
        })
    }
}

fn finite_point(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

fn finite_band(b: &(f64, f64, f64)) -> bool {
    b.0.is_finite() && b.1.is_finite() && b.2.is_finite()
}

/// The axes' ranges: given ones checked, missing ones from the data.
fn data_rect(fig: &Figure) -> Result<Rect, FigureError> {
    let points = || {
        fig.lines
            .iter()
            .flat_map(|l| l.points.iter().copied().filter(finite_point))
    };
    let bands = || {
        fig.lines
            .iter()
            .flat_map(|l| l.band.iter().copied().filter(finite_band))
    };
    if points().next().is_none() && bands().next().is_none() {
        return Err(FigureError::NoData);
    }
    let (x0, x1) = match fig.x_range {
        Some(r) => check_range("x", r)?,
        None => {
            let xs = points().map(|p| p.0).chain(bands().map(|b| b.0));
            let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
            if hi > lo {
                (lo, hi)
            } else {
                (lo - 0.5, hi + 0.5)
            }
        }
    };
    let (y0, y1) = match fig.y_range {
        Some(r) => check_range("y", r)?,
        None => {
            let in_x = |x: f64| x >= x0 && x <= x1;
            let ys = points()
                .filter(|p| in_x(p.0))
                .map(|p| p.1)
                .chain(bands().filter(|b| in_x(b.0)).flat_map(|b| [b.1, b.2]));
            let (mut lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
                (a.min(y), b.max(y))
            });
            if lo > hi {
                // Nothing inside the x range: any sensible range will do.
                (0.0, 1.0)
            } else {
                if lo >= 0.0 {
                    lo = 0.0;
                }
                let span = hi - lo;
                if span > 0.0 {
                    (lo - 0.04 * span, hi + 0.04 * span)
                } else if hi == 0.0 {
                    (-0.04, 1.0)
                } else {
                    let pad = hi.abs() * 0.1;
                    (lo - pad, hi + pad)
                }
            }
        }
    };
    Ok(Rect { x0, x1, y0, y1 })
}

/// Tick positions plotters will use for `n` labels on `lo..hi`.
pub(crate) fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    RangedCoordf64::from(lo..hi).key_points(n)
}

/// How to write the tick labels of one axis: the fewest decimals that show
/// every tick exactly, or scientific notation for extreme magnitudes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TickFormat {
    Fixed(usize),
    Sci,
}

pub(crate) fn tick_format(ticks: &[f64]) -> TickFormat {
    let big = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    if big >= 1e7 {
        return TickFormat::Sci;
    }
    for d in 0..=6usize {
        let m = 10f64.powi(d as i32);
        if ticks
            .iter()
            .all(|t| ((t * m).round() - t * m).abs() < 1e-6 * m.max(1.0) + 1e-9 * (t * m).abs())
        {
            return TickFormat::Fixed(d);
        }
    }
    TickFormat::Sci
}

/// Writes one tick value; negative numbers get a typographic minus.
pub(crate) fn format_tick(v: f64, f: TickFormat) -> String {
    let s = match f {
        TickFormat::Fixed(d) => format!("{v:.d$}"),
        TickFormat::Sci => format!("{v:.1e}"),
    };
    match s.strip_prefix('-') {
        // "-0", "-0.0": a rounding artefact, not a negative number.
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        Some(rest) => format!("\u{2212}{rest}"),
        None => s,
    }
}

/// Marker shapes, cycled through by the lines.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Cross,
    Plus,
}

const SHAPES: [Shape; 7] = [
    Shape::Circle,
    Shape::Square,
    Shape::TriangleUp,
    Shape::Diamond,
    Shape::TriangleDown,
    Shape::Cross,
    Shape::Plus,
];

/// The look of line number `i`.
struct LineLook {
    color: RGBColor,
    shape: Shape,
    dash: Vec<f64>,
}

fn look(i: usize, st: &Style) -> LineLook {
    LineLook {
        color: PALETTE[i % PALETTE.len()],
        shape: SHAPES[i % SHAPES.len()],
        dash: DASHES[i % DASHES.len()]
            .iter()
            .map(|l| l * st.k * UNITS_PER_PT)
            .collect(),
    }
}

/// The label-count hint for plotters that gives the most ticks on
/// `lo..hi` while keeping them at least `min_gap(ticks)` points apart on an
/// axis `len` points long; and those ticks.
pub(crate) fn choose_ticks(
    lo: f64,
    hi: f64,
    len: f64,
    min_gap: impl Fn(&[f64]) -> f64,
) -> (usize, Vec<f64>) {
    let mut best = (2, ticks(lo, hi, 2));
    for n in 3..=20 {
        let t = ticks(lo, hi, n);
        let spacing = match t.as_slice() {
            [a, b, ..] => (b - a) / (hi - lo) * len,
            _ => len,
        };
        if spacing >= min_gap(&t) {
            best = (n, t);
        }
    }
    best
}

/// Where a marker label sits relative to its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Centre,
    /// Text starts just right of the line.
    Right,
    /// Text ends just left of the line.
    Left,
}

/// A placed marker label: row 0 is the one next to the plot.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PlacedLabel {
    row: usize,
    side: Side,
    /// x (points) of the text anchor: centre, start or end per `side`.
    anchor_x: f64,
}

/// Places labels `(line x, text width)` (points, sorted by x) so that none
/// overlaps another or leaves `bounds`: centred on the line if possible,
/// else beside it, in the lowest row with room. Placements that would
/// straddle another marker line (`lines`, points) are avoided when any
/// other fits, so that each label stays next to its own line.
fn place_marker_labels(
    labels: impl Iterator<Item = (f64, f64)>,
    lines: &[f64],
    bounds: (f64, f64),
    pad: f64,
    gap: f64,
) -> Vec<PlacedLabel> {
    let mut rows: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut out = Vec::new();
    for (x, w) in labels {
        let candidates = [
            (Side::Centre, x - w / 2.0, x),
            (Side::Right, x + pad, x + pad),
            (Side::Left, x - pad - w, x - pad),
        ];
        let clear_of_lines = |l: f64| {
            lines
                .iter()
                .all(|&o| (o - x).abs() < 1e-9 || o < l - pad / 2.0 || o > l + w + pad / 2.0)
        };
        let mut in_bounds: Vec<_> = candidates
            .iter()
            .copied()
            .filter(|&(_, l, _)| l >= bounds.0 && l + w <= bounds.1)
            .collect();
        if in_bounds.iter().any(|&(_, l, _)| clear_of_lines(l)) {
            in_bounds.retain(|&(_, l, _)| clear_of_lines(l));
        }
        let options = if in_bounds.is_empty() {
            // Wider than the figure allows: centre it as well as possible.
            let l = (x - w / 2.0).clamp(bounds.0, (bounds.1 - w).max(bounds.0));
            vec![(Side::Centre, l, l + w / 2.0)]
        } else {
            in_bounds
        };
        let free = |row: &Vec<(f64, f64)>, l: f64| {
            row.iter().all(|&(a, b)| l + w + gap <= a || l >= b + gap)
        };
        let mut placed = None;
        for (r, row) in rows.iter().enumerate() {
            if let Some(&(side, l, ax)) = options.iter().find(|o| free(row, o.1)) {
                placed = Some((r, side, l, ax));
                break;
            }
        }
        let (r, side, l, ax) = placed.unwrap_or_else(|| {
            rows.push(Vec::new());
            let (side, l, ax) = options[0];
            (rows.len() - 1, side, l, ax)
        });
        rows[r].push((l, l + w));
        out.push(PlacedLabel {
            row: r,
            side,
            anchor_x: ax,
        });
    }
    out
}

type Root<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_err<E: std::fmt::Display>(e: E) -> FigureError {
    FigureError::Draw(e.to_string())
}

/// Draws a marker of `shape` centred on `c` (drawing units), `size` points
/// across.
fn draw_shape(
    root: &Root,
    shape: Shape,
    c: (i32, i32),
    size: f64,
    color: &RGBColor,
) -> Result<(), FigureError> {
    let r = size * UNITS_PER_PT / 2.0;
    let at = |dx: f64, dy: f64| (c.0 + (dx * r).round() as i32, c.1 + (dy * r).round() as i32);
    let style = fill(color.to_rgba());
    let poly = |pts: Vec<(i32, i32)>| root.draw(&Polygon::new(pts, style));
    let bar = |a: (i32, i32), b: (i32, i32)| {
        root.draw(&PathElement::new(
            vec![a, b],
            stroke(color.to_rgba(), size * 0.28),
        ))
    };
    match shape {
        Shape::Circle => root.draw(&Circle::new(c, (r * 0.95).round() as u32, style)),
        Shape::Square => poly(vec![
            at(-0.85, -0.85),
            at(0.85, -0.85),
            at(0.85, 0.85),
            at(-0.85, 0.85),
        ]),
        Shape::TriangleUp => poly(vec![at(0.0, -1.2), at(1.05, 0.65), at(-1.05, 0.65)]),
        Shape::TriangleDown => poly(vec![at(0.0, 1.2), at(1.05, -0.65), at(-1.05, -0.65)]),
        Shape::Diamond => poly(vec![
            at(0.0, -1.2),
            at(1.0, 0.0),
            at(0.0, 1.2),
            at(-1.0, 0.0),
        ]),
        Shape::Cross => {
            bar(at(-0.9, -0.9), at(0.9, 0.9)).map_err(draw_err)?;
            bar(at(-0.9, 0.9), at(0.9, -0.9))
        }
        Shape::Plus => {
            bar(at(-1.1, 0.0), at(1.1, 0.0)).map_err(draw_err)?;
            bar(at(0.0, -1.1), at(0.0, 1.1))
        }
    }
    .map_err(draw_err)
}

/// Draws a polyline given in drawing units (f64), dashed per `dash`.
fn draw_polyline(
    root: &Root,
    pts: &[(f64, f64)],
    dash: &[f64],
    style: ShapeStyle,
) -> Result<(), FigureError> {
    for piece in geom::dash_polyline(pts, dash) {
        let mut ipts: Vec<(i32, i32)> = Vec::with_capacity(piece.len());
        for p in piece {
            let q = (p.0.round() as i32, p.1.round() as i32);
            if ipts.last() != Some(&q) {
                ipts.push(q);
            }
        }
        if ipts.len() < 2 {
            // A lone point or a dash shorter than the grid: nothing to stroke.
            continue;
        }
        root.draw(&PathElement::new(ipts, style))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// Lays out legend entries of the given widths: `(x offset, row)` of each.
/// All in one row if they fit in `avail`, else in a grid with as many
/// equal-width columns as fit (at least one), filled row by row.
fn legend_grid(items: &[LegendItem], avail: f64, gap: f64) -> Vec<(f64, usize)> {
    let total =
        items.iter().map(|i| i.width).sum::<f64>() + gap * (items.len().saturating_sub(1)) as f64;
    if total <= avail {
        let mut x = 0.0;
        return items
            .iter()
            .map(|it| {
                let p = (x, 0);
                x += it.width + gap;
                p
            })
            .collect();
    }
    let col_w = items.iter().map(|i| i.width).fold(0.0, f64::max);
    let cols = (((avail + gap) / (col_w + gap)).floor() as usize).clamp(1, items.len().max(1));
    // Balance the rows: the fewest columns giving the same number of rows.
    let rows = items.len().div_ceil(cols);
    let cols = items.len().div_ceil(rows);
    (0..items.len())
        .map(|i| ((i % cols) as f64 * (col_w + gap), i / cols))
        .collect()
}

/// Where the lines and bands of `fig` put ink, as points (in points, by
/// `to_pt`) sampled about every 1.5 pt along each line's segments and
/// across each band's extent, within the data rectangle `rect`.
fn ink(fig: &Figure, rect: &Rect, to_pt: impl Fn(&(f64, f64)) -> (f64, f64)) -> Vec<(f64, f64)> {
    let clamp = |(x, y): (f64, f64)| (x.clamp(rect.x0, rect.x1), y.clamp(rect.y0, rect.y1));
    let mut samples = Vec::new();
    let mut segment = |a: (f64, f64), b: (f64, f64)| {
        let (a, b) = (to_pt(&clamp(a)), to_pt(&clamp(b)));
        let steps = ((a.0 - b.0).hypot(a.1 - b.1) / 1.5)
            .ceil()
            .clamp(1.0, 10_000.0) as usize;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            samples.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
        }
    };
    for line in &fig.lines {
        for run in geom::split_runs(&line.points, finite_point) {
            for pair in run.windows(2) {
                segment(pair[0], pair[1]);
            }
            if let [only] = run.as_slice() {
                segment(*only, *only);
            }
        }
        for &(x, lo, hi) in line.band.iter().filter(|b| finite_band(b)) {
            segment((x, lo), (x, hi));
        }
    }
    samples
}

/// The top-left corner of a `size` box inside `plot`, `inset` from its
/// edges, in the corner holding the fewest `ink` samples (ties: top right,
/// top left, bottom right, bottom left).
///
/// # Errors
/// When the box does not fit in the plot.
fn inside_corner(
    plot: &Rect,
    size: (f64, f64),
    inset: f64,
    ink: &[(f64, f64)],
) -> Result<(f64, f64), FigureError> {
    let (w, h) = size;
    if w + 2.0 * inset > plot.x1 - plot.x0 || h + 2.0 * inset > plot.y1 - plot.y0 {
        return Err(FigureError::TooCrowded(format!(
            "a {w:.0} pt × {h:.0} pt legend does not fit inside the plot; put it on top or at the bottom"
        )));
    }
    let (left, right) = (plot.x0 + inset, plot.x1 - inset - w);
    let (top, bottom) = (plot.y0 + inset, plot.y1 - inset - h);
    let corners = [(right, top), (left, top), (right, bottom), (left, bottom)];
    let covered = |&(x, y): &(f64, f64)| {
        (ink.iter())
            .filter(|p| p.0 >= x && p.0 <= x + w && p.1 >= y && p.1 <= y + h)
            .count()
    };
    let mut best = corners[0];
    let mut least = covered(&best);
    for corner in &corners[1..] {
        let n = covered(corner);
        if n < least {
            (best, least) = (*corner, n);
        }
    }
    Ok(best)
}

/// `text` cut at spaces into pieces at most `width` wide at `size` (a
/// single word wider than that is a piece of its own).
fn wrap_words(text: &str, width: f64, size: f64) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, _) in text
        .match_indices(' ')
        .chain(std::iter::once((text.len(), "")))
    {
        if end > start && font::text_width(&text[start..i], size) > width {
            pieces.push(&text[start..end]);
            start = end + 1;
        }
        end = i;
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// One legend entry and where it goes: a line's (with its sample), or the
/// figure's note (`line` is `None`: text only).
struct LegendItem<'a> {
    line: Option<usize>,
    label: &'a str,
    width: f64,
}

/// Renders `fig` as an SVG document at the given paper size.
///
/// The SVG's `width`/`height` are the paper size in px at 72 px/in; text
/// uses the font family "DejaVu Sans, sans-serif" (the font that
/// [`svg_to_png`] and [`svg_to_pdf`] embed). The output is deterministic.
///
/// # Errors
/// [`FigureError::NoData`] when no line or band has a finite point,
/// [`FigureError::InvalidRange`] for a non-finite or empty axis range,
/// [`FigureError::TooCrowded`] when the legend leaves no room for the plot.
pub fn render_svg(fig: &Figure, size: PaperSize) -> Result<String, FigureError> {
    render_with_left(fig, size, 0.0).map(|(svg, _)| svg)
}

/// Renders figures one above the other on one page, each as tall as
/// `size`, sharing the x axis: every panel gets the x range of the first
/// (the caller's choice, or the first figure's data) and the same plot
/// left edge, so that a time lines up across panels.
///
/// # Errors
/// As [`render_svg`] for any panel; [`FigureError::NoData`] for none.
pub fn render_stacked_svg(figs: &[Figure], size: PaperSize) -> Result<String, FigureError> {
    let first = figs.first().ok_or(FigureError::NoData)?;
    let x_range = match first.x_range {
        Some(range) => range,
        None => {
            let rect = data_rect(first)?;
            (rect.x0, rect.x1)
        }
    };
    let panels: Vec<Figure> = (figs.iter())
        .map(|f| Figure {
            x_range: Some(x_range),
            ..f.clone()
        })
        .collect();
    // The widest y axis sets every panel's plot left edge.
    let mut left = 0.0_f64;
    for panel in &panels {
        left = left.max(render_with_left(panel, size, 0.0)?.1);
    }
    let st = Style::new(size);
    let (w, h) = (u(st.w), u(st.h));
    let mut out = format!(
        "<svg width=\"{:.1}\" height=\"{:.1}\" viewBox=\"0 0 {w} {}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        st.w,
        st.h * panels.len() as f64,
        h * panels.len() as i32
    );
    for (i, panel) in panels.iter().enumerate() {
        let (svg, _) = render_with_left(panel, size, left)?;
        // The panel's own root element, placed at its row in the page's units.
        let body = svg
            .find("<svg")
            .and_then(|start| Some(start + svg[start..].find('>')? + 1))
            .map_or(svg.as_str(), |end| &svg[end..]);
        out.push_str(&format!(
            "<svg x=\"0\" y=\"{}\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">{body}\n",
            h * i as i32
        ));
    }
    out.push_str("</svg>\n");
    Ok(out)
}

/// [`render_svg`] with the y axis area at least `min_y_area` points wide;
/// also returns the width it took.
fn render_with_left(
    fig: &Figure,
    size: PaperSize,
    min_y_area: f64,
) -> Result<(String, f64), FigureError> {
    let printable = printable_labels(fig);
    let fig = printable.as_ref().unwrap_or(fig);
    let st = Style::new(size);
    let rect = data_rect(fig)?;
    let k = st.k;

    // ---- Horizontal layout (points) ----
    let margin = 3.0 * k;
    let left_margin = 2.0 * k;
    let label_dist = 2.0 * st.tick_len; // plotters: axis to tick label
    let x_area = label_dist + 0.76 * st.tick_font + 2.5 * k + st.label_font;
    let bottom_margin = 2.0 * k;

    // Legend rows, packed into the figure width.
    let sample_len = 16.0 * k;
    let sample_gap = 3.0 * k;
    let item_gap = 10.0 * k;
    let mut items: Vec<LegendItem> = fig
        .lines
        .iter()
        .enumerate()
        .filter(|_| fig.legend != LegendPlace::None)
        .filter(|(_, l)| !l.label.trim().is_empty())
        .map(|(i, l)| LegendItem {
            line: Some(i),
            label: l.label.as_str(),
            width: sample_len + sample_gap + font::text_width(&l.label, st.legend_font),
        })
        .collect();
    let avail = st.w - 2.0 * margin;
    let note = fig
        .note
        .as_deref()
        .filter(|_| fig.legend != LegendPlace::None);
    let inside = fig.legend == LegendPlace::Inside;
    if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
        // A note wider than the figure (inside: than half of it) goes on
        // as many rows as it needs.
        let width = if inside { 0.45 * avail } else { avail };
        for piece in wrap_words(note, width, st.legend_font) {
            items.push(LegendItem {
                line: None,
                label: piece,
                width: font::text_width(piece, st.legend_font),
            });
        }
    }
    // One row if everything fits; else a grid of equal-width columns, so
    // that the entries line up.
    let legend = if inside {
        (0..items.len()).map(|row| (0.0, row)).collect()
    } else {
        legend_grid(&items, avail, item_gap)
    };
    let legend_rows = legend.iter().map(|p| p.1 + 1).max().unwrap_or(0);

    let title = fig
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let title_h = if title.is_some() {
        st.title_font * 1.35
    } else {
        0.0
    };
    let legend_row_h = st.legend_font * 1.45;
    let legend_h = legend_rows as f64 * legend_row_h;
    // Above the plot, or under the x axis label (then the bottom margin
    // grows by it).
    let (legend_h, legend_below) = match fig.legend {
        LegendPlace::Bottom if legend_rows > 0 => (0.0, legend_h + 2.0 * k),
        LegendPlace::Inside => (0.0, 0.0),
        _ => (legend_h, 0.0),
    };
    let bottom_margin = bottom_margin + legend_below;
    let marker_row_h = st.tick_font * 1.3;
    let labelled: Vec<(f64, &str)> = fig
        .markers
        .iter()
        .filter(|m| m.x.is_finite() && m.x >= rect.x0 && m.x <= rect.x1)
        .filter_map(|m| {
            m.label
                .as_deref()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| (m.x, l))
        })
        .collect();

    // Estimate the plot height (one marker label row) to choose y ticks.
    let fixed_top = margin + title_h + legend_h + 4.0 * k;
    let est_plot_h = st.h
        - fixed_top
        - if labelled.is_empty() {
            0.0
        } else {
            marker_row_h
        }
        - x_area
        - bottom_margin;
    let (n_y, y_ticks) = choose_ticks(rect.y0, rect.y1, est_plot_h, |_| 18.0 * k);
    let y_fmt = tick_format(&y_ticks);
    let y_tick_w = y_ticks
        .iter()
        .map(|t| font::text_width(&format_tick(*t, y_fmt), st.tick_font))
        .fold(0.0, f64::max);
    let y_area = if fig.y_label.trim().is_empty() {
        0.0
    } else {
        st.label_font + 3.0 * k
    } + y_tick_w
        + label_dist;
    let y_area = y_area.max(min_y_area);
    let plot_x = left_margin + y_area;

    // X ticks; the last label may stick out past the plot's right edge.
    let mut right_margin = 5.0 * k;
    let mut n_x = 2;
    let mut x_fmt = TickFormat::Fixed(0);
    for _ in 0..2 {
        let plot_w = st.w - plot_x - right_margin;
        let (n, x_ticks) = choose_ticks(rect.x0, rect.x1, plot_w, |t| {
            let f = tick_format(t);
            let widest = t
                .iter()
                .map(|v| font::text_width(&format_tick(*v, f), st.tick_font))
                .fold(0.0, f64::max);
            (widest + 8.0 * k).max(28.0 * k)
        });
        n_x = n;
        x_fmt = tick_format(&x_ticks);
        if let Some(&last) = x_ticks.last() {
            let pos = plot_x + (last - rect.x0) / (rect.x1 - rect.x0) * plot_w;
            let half = font::text_width(&format_tick(last, x_fmt), st.tick_font) / 2.0;
            right_margin = right_margin.max(pos + half + 1.0 * k - (st.w - right_margin));
        }
    }
    let plot_w = st.w - plot_x - right_margin;

    // Marker labels: centred on their line if there is room, else beside
    // it; in as many rows as needed so that they never overlap.
    let to_px = |x: f64| plot_x + (x - rect.x0) / (rect.x1 - rect.x0) * plot_w;
    let mut sorted = labelled.clone();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let marker_lines: Vec<f64> = fig
        .markers
        .iter()
        .filter(|m| m.x.is_finite() && m.x >= rect.x0 && m.x <= rect.x1)
        .map(|m| to_px(m.x))
        .collect();
    let placed = place_marker_labels(
        sorted
            .iter()
            .map(|&(x, text)| (to_px(x), font::text_width(text, st.tick_font))),
        &marker_lines,
        (margin, st.w - margin),
        1.5 * k,
        3.0 * k,
    );
    let n_marker_rows = placed.iter().map(|p| p.row + 1).max().unwrap_or(0);
    let marker_h = n_marker_rows as f64 * marker_row_h;

    // ---- Vertical layout ----
    let top_h = fixed_top + marker_h;
    let plot_h = st.h - top_h - x_area - bottom_margin;
    if plot_h < 25.0 * k || plot_w < 40.0 * k {
        return Err(FigureError::TooCrowded(format!(
            "{} legend row(s) and {n_marker_rows} marker label row(s) leave a {plot_w:.0} pt × \
             {plot_h:.0} pt plot; use a larger PaperSize, fewer lines or shorter labels",
            legend_rows,
        )));
    }

    // ---- Drawing ----
    let w_units = u(st.w) as u32;
    let h_units = u(st.h) as u32;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w_units, h_units)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let area = root.margin(u(top_h), u(bottom_margin), u(left_margin), u(right_margin));
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(u(x_area))
            .y_label_area_size(u(y_area))
            .build_cartesian_2d(rect.x0..rect.x1, rect.y0..rect.y1)
            .map_err(draw_err)?;

        let fx = |v: &f64| format_tick(*v, x_fmt);
        let fy = |v: &f64| format_tick(*v, y_fmt);
        let tick_style = text_style(st.tick_font, &TEXT, Pos::new(HPos::Center, VPos::Top));
        let desc_style = text_style(st.label_font, &TEXT, Pos::new(HPos::Center, VPos::Top));
        let mut mesh = chart.configure_mesh();
        mesh.x_labels(n_x)
            .y_labels(n_y)
            .max_light_lines(0)
            .light_line_style(TRANSPARENT)
            .bold_line_style(stroke(GRID.to_rgba(), st.grid_w))
            .axis_style(stroke(BLACK.to_rgba(), st.axis_w))
            .set_all_tick_mark_size(u(st.tick_len))
            .label_style(tick_style)
            .axis_desc_style(desc_style)
            .x_label_formatter(&fx)
            .y_label_formatter(&fy);
        if !fig.x_label.trim().is_empty() {
            mesh.x_desc(fig.x_label.as_str());
        }
        if !fig.y_label.trim().is_empty() {
            mesh.y_desc(fig.y_label.as_str());
        }
        mesh.draw().map_err(draw_err)?;

        let (px_range, py_range) = chart.plotting_area().get_pixel_range();
        let to_units = |p: (f64, f64)| {
            let q = chart.backend_coord(&p);
            (f64::from(q.0), f64::from(q.1))
        };
        let looks: Vec<LineLook> = (0..fig.lines.len()).map(|i| look(i, &st)).collect();

        // Bands, under everything else.
        for (line, lk) in fig.lines.iter().zip(&looks) {
            for run in geom::split_runs(&line.band, finite_band) {
                if run.len() < 2 {
                    continue;
                }
                let mut poly: Vec<(f64, f64)> = run.iter().map(|b| (b.0, b.1.min(b.2))).collect();
                poly.extend(run.iter().rev().map(|b| (b.0, b.1.max(b.2))));
                let clipped = geom::clip_polygon(&poly, &rect);
                if clipped.len() < 3 {
                    continue;
                }
                let pts: Vec<(i32, i32)> = clipped.iter().map(|p| chart.backend_coord(p)).collect();
                root.draw(&Polygon::new(pts, fill(lk.color.mix(BAND_ALPHA))))
                    .map_err(draw_err)?;
            }
        }

        // Vertical markers, over bands and under lines. A marker whose label
        // is in the row next to the plot reaches up to its label.
        let marker_dash: Vec<f64> = [3.0, 2.0].iter().map(|l| l * k * UNITS_PER_PT).collect();
        let baseline0 = top_h - 2.8 * k;
        for m in &fig.markers {
            if !(m.x.is_finite() && m.x >= rect.x0 && m.x <= rect.x1) {
                continue;
            }
            let reach = placed
                .iter()
                .zip(&sorted)
                .filter(|(p, (x, _))| p.row == 0 && *x == m.x)
                .map(|(p, _)| match p.side {
                    Side::Centre => baseline0 + 1.0 * k,
                    Side::Left | Side::Right => baseline0 - 0.73 * st.tick_font,
                })
                .fold(top_h, f64::min);
            let x = f64::from(chart.backend_coord(&(m.x, rect.y0)).0);
            let pts = [(x, f64::from(py_range.end)), (x, reach * UNITS_PER_PT)];
            draw_polyline(
                &root,
                &pts,
                &marker_dash,
                stroke(MARKER_LINE.to_rgba(), 0.75 * k),
            )?;
        }

        // Lines, then their point markers on top.
        let mut visible: Vec<Vec<(f64, f64)>> = Vec::with_capacity(fig.lines.len());
        for (line, lk) in fig.lines.iter().zip(&looks) {
            for run in geom::split_runs(&line.points, finite_point) {
                for part in geom::clip_polyline(&run, &rect) {
                    let pts: Vec<(f64, f64)> = part.into_iter().map(to_units).collect();
                    draw_polyline(&root, &pts, &lk.dash, stroke(lk.color.to_rgba(), st.line_w))?;
                }
            }
            visible.push(
                line.points
                    .iter()
                    .copied()
                    .filter(|p| finite_point(p) && rect.contains(*p))
                    .collect(),
            );
        }
        let n_lines = fig.lines.len().max(1);
        for (i, (pts, lk)) in visible.iter().zip(&looks).enumerate() {
            let step = pts.len().div_ceil(MAX_MARKERS).max(1);
            // Stagger the lines' markers so they do not sit on each other.
            let offset = (((i % n_lines) as f64 + 0.5) / n_lines as f64 * step as f64) as usize;
            for p in pts.iter().skip(offset.min(step - 1)).step_by(step) {
                draw_shape(
                    &root,
                    lk.shape,
                    chart.backend_coord(p),
                    st.marker,
                    &lk.color,
                )?;
            }
        }

        // Legend, above the plot, centred on it (or on the figure if wider).
        let plot_cx = f64::from(px_range.start + px_range.end) / 2.0 / UNITS_PER_PT;
        let legend_top = if legend_below > 0.0 {
            st.h - legend_below
        } else {
            margin + title_h
        };
        let legend_w = legend
            .iter()
            .zip(&items)
            .map(|(p, it)| p.0 + it.width)
            .fold(0.0, f64::max);
        let cx = if legend_w <= plot_w {
            plot_cx
        } else {
            st.w / 2.0
        };
        let mut left = (cx - legend_w / 2.0).clamp(margin, (st.w - margin - legend_w).max(margin));
        let mut legend_top = legend_top;
        if inside && !items.is_empty() {
            let pad = 2.5 * k;
            let size = (
                legend_w + 2.0 * pad,
                legend_rows as f64 * legend_row_h + 2.0 * pad,
            );
            let pt = |v: i32| f64::from(v) / UNITS_PER_PT;
            let plot = Rect {
                x0: pt(px_range.start),
                x1: pt(px_range.end),
                y0: pt(py_range.start),
                y1: pt(py_range.end),
            };
            let to_pt = |p: &(f64, f64)| {
                let q = chart.backend_coord(p);
                (pt(q.0), pt(q.1))
            };
            let corner = inside_corner(&plot, size, 2.0 * k, &ink(fig, &rect, to_pt))?;
            root.draw(&Rectangle::new(
                [
                    (u(corner.0), u(corner.1)),
                    (u(corner.0 + size.0), u(corner.1 + size.1)),
                ],
                fill(WHITE.mix(0.9)),
            ))
            .map_err(draw_err)?;
            root.draw(&Rectangle::new(
                [
                    (u(corner.0), u(corner.1)),
                    (u(corner.0 + size.0), u(corner.1 + size.1)),
                ],
                stroke(GRID.to_rgba(), st.grid_w),
            ))
            .map_err(draw_err)?;
            (left, legend_top) = (corner.0 + pad, corner.1 + pad);
        }
        for (&(dx, r), it) in legend.iter().zip(&items) {
            let x = left + dx;
            let cy = legend_top + (r as f64 + 0.5) * legend_row_h;
            let Some(line) = it.line else {
                root.draw(&Text::new(
                    it.label.to_string(),
                    (u(x), u(cy)),
                    text_style(st.legend_font, &TEXT, Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(draw_err)?;
                continue;
            };
            let lk = &looks[line];
            let y = cy * UNITS_PER_PT;
            let sample = [(x * UNITS_PER_PT, y), ((x + sample_len) * UNITS_PER_PT, y)];
            draw_polyline(
                &root,
                &sample,
                &lk.dash,
                stroke(lk.color.to_rgba(), st.line_w),
            )?;
            draw_shape(
                &root,
                lk.shape,
                (u(x + sample_len / 2.0), u(cy)),
                st.marker,
                &lk.color,
            )?;
            root.draw(&Text::new(
                it.label.to_string(),
                (u(x + sample_len + sample_gap), u(cy)),
                text_style(st.legend_font, &TEXT, Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(draw_err)?;
        }

        // Marker labels, between the legend and the plot.
        for (p, &(_, text)) in placed.iter().zip(&sorted) {
            let baseline = baseline0 - p.row as f64 * marker_row_h;
            let anchor = match p.side {
                Side::Centre => HPos::Center,
                Side::Right => HPos::Left,
                Side::Left => HPos::Right,
            };
            // VPos::Center puts the baseline 0.25 em below the given y.
            root.draw(&Text::new(
                text.to_string(),
                (u(p.anchor_x), u(baseline - 0.25 * st.tick_font)),
                text_style(st.tick_font, &MARKER_LINE, Pos::new(anchor, VPos::Center)),
            ))
            .map_err(draw_err)?;
        }

        if let Some(t) = title {
            root.draw(&Text::new(
                t.to_string(),
                (u(st.w / 2.0), u(margin)),
                text_style(st.title_font, &TEXT, Pos::new(HPos::Center, VPos::Top)),
            ))
            .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok((finish_svg(&buf, (w_units, h_units), &st)?, y_area))
}

/// Post-processes plotters' SVG: physical size in the `width`/`height`
/// attributes, round line joins, tidy font sizes.
fn finish_svg(svg: &str, units: (u32, u32), st: &Style) -> Result<String, FigureError> {
    let old = format!("<svg width=\"{}\" height=\"{}\" ", units.0, units.1);
    let new = format!(
        "<svg width=\"{}\" height=\"{}\" ",
        tidy_number(st.w),
        tidy_number(st.h)
    );
    if !svg.starts_with(&old) {
        return Err(FigureError::Draw(
            "unexpected SVG header from plotters".to_string(),
        ));
    }
    let svg = svg.replacen(&old, &new, 1);
    let svg = svg.replace(
        "<polyline fill=\"none\" ",
        "<polyline fill=\"none\" stroke-linejoin=\"round\" ",
    );
    // font-size="37.50000000000001" -> font-size="37.5"
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg.as_str();
    const KEY: &str = "font-size=\"";
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i + KEY.len()]);
        rest = &rest[i + KEY.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        match rest[..end].parse::<f64>() {
            Ok(v) => out.push_str(&tidy_number(v)),
            Err(_) => out.push_str(&rest[..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A number with at most 3 decimals and no trailing zeros.
fn tidy_number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn parse_svg(svg: &str) -> Result<usvg::Tree, FigureError> {
    usvg::Tree::from_str(svg, &font::usvg_options()).map_err(|e| FigureError::Svg(e.to_string()))
}

/// Rasterises an SVG (e.g. from [`render_svg`]) to PNG at `dpi`, taking the
/// SVG's `width`/`height` as px at 72 px/in: a Column figure at 300 dpi is
/// 990 px wide. The image is opaque (white background), 8-bit RGBA, and
/// records its resolution (pHYs) so that LaTeX and viewers know its
/// physical size. Text uses only the embedded font.
///
/// # Errors
/// [`FigureError::InvalidDpi`], [`FigureError::Svg`], [`FigureError::Png`].
pub fn svg_to_png(svg: &str, dpi: f32) -> Result<Vec<u8>, FigureError> {
    if !(dpi.is_finite() && dpi > 0.0) {
        return Err(FigureError::InvalidDpi(dpi));
    }
    let tree = parse_svg(svg)?;
    let size = tree.size();
    let scale = dpi / 72.0;
    let pw = (size.width() * scale).round();
    let ph = (size.height() * scale).round();
    if !(pw >= 1.0 && ph >= 1.0 && pw <= 30000.0 && ph <= 30000.0) {
        return Err(FigureError::InvalidDpi(dpi));
    }
    let (pw, ph) = (pw as u32, ph as u32);
    let mut pixmap = tiny_skia::Pixmap::new(pw, ph).ok_or(FigureError::InvalidDpi(dpi))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    let transform =
        tiny_skia::Transform::from_scale(pw as f32 / size.width(), ph as f32 / size.height());
    resvg::render(&tree, transform, &mut pixmap.as_mut());

    // Opaque, so the premultiplied RGBA is plain RGBA and can be written as
    // is (dropping the constant alpha would cost more time than it saves).
    let mut out = Vec::with_capacity(pixmap.data().len() / 16);
    {
        let png_err = |e: png::EncodingError| FigureError::Png(e.to_string());
        let mut enc = png::Encoder::new(&mut out, pw, ph);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let ppm = (f64::from(dpi) / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let mut writer = enc.write_header().map_err(png_err)?;
        writer.write_image_data(pixmap.data()).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
    }
    Ok(out)
}

/// Converts an SVG (e.g. from [`render_svg`]) to a one-page vector PDF whose
/// page is the SVG's `width`/`height` in points (72 px/in), with the text
/// kept as text in a subset of the embedded font. The PDF has no dates or
/// other varying metadata, so the same SVG gives the same bytes.
///
/// # Errors
/// [`FigureError::Svg`], [`FigureError::Pdf`].
pub fn svg_to_pdf(svg: &str) -> Result<Vec<u8>, FigureError> {
    let tree = parse_svg(svg)?;
    let pdf = svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: 72.0 },
    )
    .map_err(|e| FigureError::Pdf(e.to_string()))?;
    Ok(sort_resource_dicts(pdf))
}

/// svg2pdf 0.13 writes the entries of resource dictionaries (`/XObject <<
/// /xo1 10 0 R /xo0 8 0 R >>`, …) in `HashMap` order, which changes from run
/// to run. The names and object numbers are deterministic, so sorting the
/// entry lines makes the bytes deterministic; it keeps every object's
/// length, so the cross-reference offsets stay valid. Stream data (found
/// through `/Length`) is left alone. Anything unexpected leaves the PDF
/// as it is.
fn sort_resource_dicts(mut pdf: Vec<u8>) -> Vec<u8> {
    const KEYS: [&[u8]; 6] = [
        b"/XObject <<",
        b"/ExtGState <<",
        b"/Font <<",
        b"/Pattern <<",
        b"/Shading <<",
        b"/ColorSpace <<",
    ];
    fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|i| i + from)
    }
    // Text regions between streams.
    let mut regions = Vec::new();
    let mut pos = 0;
    while pos < pdf.len() {
        let Some(s) = find(&pdf, b">>\nstream\n", pos) else {
            regions.push(pos..pdf.len());
            break;
        };
        regions.push(pos..s);
        let dict_start = pdf[pos..s]
            .windows(7)
            .rposition(|w| w == b"/Length")
            .map(|i| pos + i + 7);
        let len: Option<usize> = dict_start.and_then(|d| {
            let digits: Vec<u8> = pdf[d..s]
                .iter()
                .skip_while(|c| **c == b' ')
                .take_while(|c| c.is_ascii_digit())
                .copied()
                .collect();
            std::str::from_utf8(&digits).ok()?.parse().ok()
        });
        match len {
            Some(len) => pos = s + b">>\nstream\n".len() + len,
            None => return pdf,
        }
    }
    for region in regions {
        let mut i = region.start;
        while let Some(k) = KEYS
            .iter()
            .filter_map(|key| find(&pdf[..region.end], key, i).map(|at| (at, key.len())))
            .min()
        {
            let body_start = match find(&pdf[..region.end], b"\n", k.0 + k.1) {
                Some(nl) => nl + 1,
                None => break,
            };
            let Some(close) = find(&pdf[..region.end], b">>", body_start) else {
                break;
            };
            // The entry lines, up to the line holding the closing ">>".
            let body_end = pdf[..close]
                .iter()
                .rposition(|c| *c == b'\n')
                .map_or(0, |n| n + 1);
            if body_end > body_start {
                let body = &pdf[body_start..body_end];
                if !body.windows(2).any(|w| w == b"<<") {
                    let mut lines: Vec<&[u8]> = body.split_inclusive(|c| *c == b'\n').collect();
                    lines.sort();
                    let sorted: Vec<u8> = lines.concat();
                    pdf[body_start..body_end].copy_from_slice(&sorted);
                }
            }
            i = close + 2;
        }
    }
    pdf
}

/// Renders `fig` and writes `<dir>/<stem>.svg`, `<dir>/<stem>.png` (300
/// dpi) and `<dir>/<stem>.pdf`, each atomically, creating `dir` if needed.
/// All three are rendered before any is written. Returns the paths written,
/// in that order.
///
/// # Errors
/// Any error of [`render_svg`], [`svg_to_png`] or [`svg_to_pdf`], and
/// [`FigureError::Io`] naming the path that could not be written.
pub fn write_figure(
    fig: &Figure,
    size: PaperSize,
    dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>, FigureError> {
    let svg = render_svg(fig, size)?;
    let png = svg_to_png(&svg, 300.0)?;
    let pdf = svg_to_pdf(&svg)?;
    std::fs::create_dir_all(dir).map_err(|source| FigureError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::with_capacity(3);
    for (ext, bytes) in [
        ("svg", svg.as_bytes()),
        ("png", &png[..]),
        ("pdf", &pdf[..]),
    ] {
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
mod tests;
