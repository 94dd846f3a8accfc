use super::*;

/// Loss (%) of a failover experiment: a spike from 0 to 60 % at x = 4 whose
/// recovery takes longer for slower polling.
fn demo_line(label: &str, poll_s: f64, n: usize, dx: f64) -> Line {
    let recovery = 0.25 + 8.0 * poll_s;
    let loss = |t: f64, wobble: f64| {
        let base = 0.15 * (1.0 + (t * 7.3 + wobble).sin());
        if t < 4.0 {
            base
        } else {
            let dt = t - 4.0;
            let rise = (dt / 0.1).min(1.0);
            base + 60.0 * rise * (-(dt - 0.1).max(0.0) / (recovery / 3.0)).exp()
        }
    };
    let points: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let t = i as f64 * dx;
            (t, loss(t, poll_s * 10.0))
        })
        .collect();
    let band = points
        .iter()
        .map(|&(t, y)| {
            let spread = 0.25 + 0.1 * (t * 3.1 + poll_s * 40.0).cos();
            (
                t,
                (y * (1.0 - spread)).max(0.0),
                (y * (1.0 + spread)).min(100.0),
            )
        })
        .collect();
    Line {
        label: label.to_string(),
        points,
        band,
    }
}

fn demo_figure(n: usize) -> Figure {
    let dx = 8.0 / (n - 1) as f64;
    Figure {
        title: None,
        x_label: "Time since iperf_client (s)".into(),
        y_label: "Packet loss (%)".into(),
        x_range: None,
        y_range: None,
        lines: vec![
            demo_line("20 ms poll", 0.02, n, dx),
            demo_line("50 ms poll", 0.05, n, dx),
            demo_line("100 ms poll", 0.1, n, dx),
        ],
        markers: vec![VMarker {
            x: 4.0,
            label: Some("failover".into()),
        }],
        note: None,
        legend: LegendPlace::Top,
    }
}

#[test]
fn svg_contains_labels_legend_and_physical_size() {
    let svg = render_svg(&demo_figure(81), PaperSize::Column).unwrap();
    assert!(svg.starts_with("<svg width=\"237.6\" height=\"158.4\" viewBox=\"0 0 1188 792\""));
    for text in [
        "Time since iperf_client (s)",
        "Packet loss (%)",
        "20 ms poll",
        "50 ms poll",
        "100 ms poll",
        "failover",
        "DejaVu Sans, sans-serif",
    ] {
        assert!(svg.contains(text), "SVG lacks {text:?}");
    }
    // Tick labels are tidy: no long float tails anywhere in the text.
    assert!(!svg.contains(".000"), "untidy numbers in SVG");
    for t in ["0", "2", "4", "8", "20", "60"] {
        assert!(
            svg.contains(&format!(">\n{t}\n</text>")),
            "SVG lacks tick label {t}"
        );
    }
    // Each axis description is written once.
    assert_eq!(svg.matches("Packet loss (%)").count(), 1);
}

#[test]
fn svg_escapes_text() {
    let mut fig = demo_figure(10);
    fig.lines[0].label = "a<b & c".into();
    let svg = render_svg(&fig, PaperSize::Column).unwrap();
    assert!(svg.contains("a&lt;b &amp; c"));
    svg_to_png(&svg, 72.0).unwrap();
}

#[test]
fn png_has_magic_and_300_dpi_width() {
    let svg = render_svg(&demo_figure(81), PaperSize::Column).unwrap();
    let png = svg_to_png(&svg, 300.0).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (990, 660));
    let dims = info.pixel_dims.unwrap();
    assert_eq!(dims.xppu, 11811); // 300 dpi
}

#[test]
fn page_and_slide_sizes() {
    let fig = demo_figure(81);
    for (size, w, h) in [(PaperSize::Page, 2100, 960), (PaperSize::Slide, 3000, 1680)] {
        let svg = render_svg(&fig, size).unwrap();
        let png = svg_to_png(&svg, 300.0).unwrap();
        let reader = png::Decoder::new(std::io::Cursor::new(&png))
            .read_info()
            .unwrap();
        assert_eq!(
            (reader.info().width, reader.info().height),
            (w, h),
            "{size:?}"
        );
    }
}

#[test]
fn pdf_is_a_pdf_of_the_right_size() {
    let svg = render_svg(&demo_figure(81), PaperSize::Column).unwrap();
    let pdf = svg_to_pdf(&svg).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(
        text.contains("/MediaBox [0 0 237.6 158.4]"),
        "no Column media box"
    );
    assert!(!text.contains("CreationDate") && !text.contains("ModDate"));
    assert!(text.contains("DejaVuSans"), "font not embedded");
}

#[test]
fn output_is_deterministic() {
    let fig = demo_figure(81);
    let svg1 = render_svg(&fig, PaperSize::Column).unwrap();
    let svg2 = render_svg(&fig.clone(), PaperSize::Column).unwrap();
    assert_eq!(svg1, svg2);
    assert_eq!(
        svg_to_png(&svg1, 300.0).unwrap(),
        svg_to_png(&svg2, 300.0).unwrap()
    );
    assert_eq!(svg_to_pdf(&svg1).unwrap(), svg_to_pdf(&svg2).unwrap());
}

#[test]
fn nan_breaks_the_line() {
    let fig = Figure {
        x_label: "x".into(),
        y_label: "y".into(),
        lines: vec![Line {
            label: "gappy".into(),
            points: vec![
                (0.0, 1.0),
                (1.0, 2.0),
                (2.0, f64::NAN),
                (f64::NAN, 3.0),
                (3.0, 1.0),
                (4.0, f64::INFINITY),
                (5.0, 2.0),
                (6.0, 3.0),
            ],
            band: vec![(0.0, 0.5, 1.5), (1.0, f64::NAN, 2.0), (2.0, 1.0, 2.0)],
        }],
        ..Figure::default()
    };
    let svg = render_svg(&fig, PaperSize::Column).unwrap();
    assert!(!svg.to_lowercase().contains("nan"));
    assert!(!svg.contains("inf"));
    // Solid line (first style): the runs [0,1] and [5,6] are two polylines,
    // the lone point at 3 none; plus the legend sample.
    let blue_lines = svg
        .lines()
        .filter(|l| l.starts_with("<polyline") && l.contains("stroke=\"#0072B2\""))
        .count();
    assert_eq!(blue_lines, 3);
    svg_to_png(&svg, 100.0).unwrap();
    svg_to_pdf(&svg).unwrap();
}

#[test]
fn no_data_is_an_error() {
    let empty = Figure::default();
    assert!(matches!(
        render_svg(&empty, PaperSize::Column),
        Err(FigureError::NoData)
    ));
    let only_nan = Figure {
        lines: vec![Line {
            label: "x".into(),
            points: vec![(f64::NAN, 1.0), (2.0, f64::NAN)],
            band: vec![(1.0, f64::NAN, 2.0)],
        }],
        ..Figure::default()
    };
    let err = render_svg(&only_nan, PaperSize::Column).unwrap_err();
    assert!(matches!(err, FigureError::NoData));
    assert_eq!(
        err.to_string(),
        "no data to draw: no line or band has a finite point"
    );
}

#[test]
fn invalid_ranges_are_errors() {
    let mut fig = demo_figure(10);
    fig.x_range = Some((5.0, 5.0));
    assert!(matches!(
        render_svg(&fig, PaperSize::Column),
        Err(FigureError::InvalidRange { axis: "x", .. })
    ));
    fig.x_range = None;
    fig.y_range = Some((0.0, f64::NAN));
    let err = render_svg(&fig, PaperSize::Column).unwrap_err();
    assert!(
        err.to_string().starts_with("invalid y range (0, NaN)"),
        "{err}"
    );
}

/// The points of every `<polyline>`/`<polygon>` in `svg` whose line
/// contains `needle`.
fn shape_points(svg: &str, needle: &str) -> Vec<(i64, i64)> {
    svg.lines()
        .filter(|l| (l.starts_with("<polyline") || l.starts_with("<polygon")) && l.contains(needle))
        .flat_map(|l| {
            let pts = l.split("points=\"").nth(1).unwrap();
            let pts = &pts[..pts.find('"').unwrap()];
            pts.split_whitespace()
                .map(|xy| {
                    let (x, y) = xy.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn given_ranges_clip_the_data() {
    let mut fig = demo_figure(81);
    fig.x_range = Some((3.0, 6.0));
    fig.y_range = Some((0.0, 30.0));
    let svg = render_svg(&fig, PaperSize::Column).unwrap();
    // The plot rectangle, from the axes: the y axis is the first black line.
    let axis = shape_points(&svg, "stroke=\"#000000\"");
    let (left, top, bottom) = (axis[0].0, axis[0].1, axis[1].1);
    let right = shape_points(&svg, "stroke=\"#000000\"")
        .iter()
        .map(|p| p.0)
        .max()
        .unwrap();
    assert!(left < right && top < bottom);
    let mut inside = 0;
    for color in ["#0072B2", "#D55E00", "#009E73"] {
        // Lines and bands (markers may stick out by their radius).
        let lines_and_bands: String = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") || l.contains("opacity=\"0.2\""))
            .collect::<Vec<_>>()
            .join("\n");
        for (x, y) in shape_points(&lines_and_bands, color) {
            if y < top {
                continue; // legend sample, above the plot
            }
            assert!(
                x >= left && x <= right && y <= bottom,
                "{color} at ({x}, {y}) outside the plot"
            );
            inside += 1;
        }
    }
    assert!(inside > 100);
}

#[test]
fn tick_labels_are_tidy() {
    assert_eq!(tick_format(&[0.0, 2.0, 4.0]), TickFormat::Fixed(0));
    assert_eq!(tick_format(&[0.0, 0.5, 1.0]), TickFormat::Fixed(1));
    assert_eq!(tick_format(&[0.1 * 3.0, 0.25]), TickFormat::Fixed(2));
    assert_eq!(format_tick(15.0, TickFormat::Fixed(0)), "15");
    assert_eq!(format_tick(-0.0, TickFormat::Fixed(1)), "0.0");
    assert_eq!(format_tick(-2.5, TickFormat::Fixed(1)), "\u{2212}2.5");
    assert_eq!(format_tick(0.1 * 3.0, TickFormat::Fixed(1)), "0.3");
}

#[test]
fn write_figure_writes_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sub");
    let paths = write_figure(&demo_figure(81), PaperSize::Column, &out, "loss").unwrap();
    let names: Vec<_> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["loss.svg", "loss.png", "loss.pdf"]);
    for p in &paths {
        assert!(std::fs::metadata(p).unwrap().len() > 100, "{}", p.display());
    }
}

#[test]
fn write_figure_names_the_failing_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = write_figure(&demo_figure(10), PaperSize::Column, &file, "f").unwrap_err();
    assert!(matches!(err, FigureError::Io { .. }));
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

#[test]
fn crowded_legend_is_an_error_not_a_mess() {
    let mut fig = demo_figure(10);
    let line = fig.lines[0].clone();
    fig.lines = (0..40)
        .map(|i| Line {
            label: format!("a fairly long legend entry number {i}"),
            ..line.clone()
        })
        .collect();
    assert!(matches!(
        render_svg(&fig, PaperSize::Column),
        Err(FigureError::TooCrowded(_))
    ));
}

/// Writes the demo figures for a visual check:
/// `EXPOST_FIGDEMO_DIR=/tmp/figdemo cargo test -p expost-render -- --ignored demo`.
#[test]
#[ignore]
fn demo_write() {
    let dir = std::env::var("EXPOST_FIGDEMO_DIR").unwrap_or_else(|_| "/tmp/figdemo".into());
    let dir = Path::new(&dir);
    let fig = demo_figure(81);
    write_figure(&fig, PaperSize::Column, dir, "column").unwrap();
    write_figure(&fig, PaperSize::Page, dir, "page").unwrap();
    write_figure(&fig, PaperSize::Slide, dir, "slide").unwrap();
    let mut titled = fig.clone();
    titled.title = Some("Failover under three poll intervals".into());
    titled.x_range = Some((3.0, 6.5));
    titled.markers.push(VMarker {
        x: 4.3,
        label: Some("routes converged".into()),
    });
    write_figure(&titled, PaperSize::Column, dir, "column-zoom").unwrap();
}

/// Times render_svg + PNG (300 dpi) + PDF for 3 lines of 300 points:
/// `cargo test --release -p expost-render -- --ignored timing --nocapture`.
#[test]
#[ignore]
fn timing() {
    use std::time::Instant;
    let fig = demo_figure(300);
    // First call: also builds the font database and parses the face.
    let t = Instant::now();
    let svg = render_svg(&fig, PaperSize::Column).unwrap();
    svg_to_png(&svg, 300.0).unwrap();
    svg_to_pdf(&svg).unwrap();
    println!(
        "first svg+png+pdf (cold, with font setup): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let runs = 10;
    let (mut t_svg, mut t_png, mut t_pdf) = (0.0, 0.0, 0.0);
    for _ in 0..runs {
        let t = Instant::now();
        let svg = render_svg(&fig, PaperSize::Column).unwrap();
        t_svg += t.elapsed().as_secs_f64();
        let t = Instant::now();
        svg_to_png(&svg, 300.0).unwrap();
        t_png += t.elapsed().as_secs_f64();
        let t = Instant::now();
        svg_to_pdf(&svg).unwrap();
        t_pdf += t.elapsed().as_secs_f64();
    }
    let ms = |s: f64| s * 1000.0 / runs as f64;
    println!(
        "3 lines x 300 points, Column: svg {:.1} ms, png@300dpi {:.1} ms, pdf {:.1} ms, total {:.1} ms",
        ms(t_svg),
        ms(t_png),
        ms(t_pdf),
        ms(t_svg + t_png + t_pdf)
    );
}

#[test]
fn legend_is_one_row_or_an_aligned_grid() {
    let item = |w: f64| LegendItem {
        line: Some(0),
        label: "",
        width: w,
    };
    let one_row = legend_grid(&[item(30.0), item(40.0), item(30.0)], 200.0, 10.0);
    assert_eq!(one_row, vec![(0.0, 0), (40.0, 0), (90.0, 0)]);
    let items: Vec<_> = (0..5).map(|i| item(50.0 + i as f64)).collect();
    let grid = legend_grid(&items, 130.0, 10.0);
    assert_eq!(
        grid,
        vec![(0.0, 0), (64.0, 0), (0.0, 1), (64.0, 1), (0.0, 2)]
    );
}

#[test]
fn marker_labels_do_not_overlap_and_avoid_other_lines() {
    // Two lines 10 pt apart with 40 pt labels: side by side, one each side.
    let placed = place_marker_labels(
        [(100.0, 40.0), (110.0, 40.0)].into_iter(),
        &[100.0, 110.0],
        (0.0, 300.0),
        1.5,
        3.0,
    );
    assert_eq!(placed[0].row, 0);
    assert_eq!(placed[0].side, Side::Left);
    assert_eq!(placed[1].row, 0);
    assert_eq!(placed[1].side, Side::Right);
    // A label at the right edge goes left of its line.
    let edge = place_marker_labels(
        [(298.0, 20.0)].into_iter(),
        &[298.0],
        (0.0, 300.0),
        1.5,
        3.0,
    );
    assert_eq!(edge[0].side, Side::Left);
}

#[test]
fn a_note_ends_the_legend_as_text_without_a_sample() {
    let mut fig = demo_figure(50);
    let plain = render_svg(&fig, PaperSize::Page).unwrap();
    fig.note = Some("band: 95 % CI, clipped to 0–100 %".into());
    let noted = render_svg(&fig, PaperSize::Page).unwrap();
    assert!(
        noted.contains("band: 95 % CI, clipped to 0–100 %"),
        "note missing"
    );
    // Text only: no more line samples or marker shapes than without it.
    let count = |svg: &str, what: &str| svg.matches(what).count();
    assert_eq!(count(&noted, "<polyline"), count(&plain, "<polyline"));
    assert_eq!(count(&noted, "<text"), count(&plain, "<text") + 1);
}

#[test]
fn a_note_wider_than_the_figure_goes_on_several_rows_within_it() {
    let mut fig = demo_figure(50);
    let note: Vec<String> = (0..40).map(|i| format!("zq{i}")).collect();
    let note = note.join(" ");
    fig.note = Some(note.clone());
    let svg = render_svg(&fig, PaperSize::Column).unwrap();
    let st = Style::new(PaperSize::Column);
    // (x, y, text) of every text element holding a word of the note.
    let texts: Vec<(f64, f64, String)> = svg
        .split("<text ")
        .skip(1)
        .filter_map(|t| {
            let t = format!(" {t}");
            let attr = |name: &str| -> Option<f64> {
                t.split(&format!(" {name}=\""))
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse()
                    .ok()
            };
            let body = t.split('>').nth(1)?.split('<').next()?.trim().to_string();
            Some((attr("x")?, attr("y")?, body))
        })
        .filter(|(_, _, body)| body.starts_with("zq"))
        .collect();
    assert!(texts.len() >= 2, "one row: {texts:?}");
    let joined: Vec<&str> = texts.iter().map(|(_, _, b)| b.as_str()).collect();
    assert_eq!(joined.join(" "), note, "every word, in order");
    // Drawn at a scale: the view box is wider than the page in points.
    let view_w: f64 = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let scale = view_w / st.w;
    for (x, _, body) in &texts {
        let right = x + font::text_width(body, st.legend_font) * scale;
        assert!(
            right <= view_w + 0.5,
            "{body} ends at {right}, past {view_w}"
        );
    }
    assert!(
        texts.windows(2).all(|w| w[1].1 > w[0].1),
        "each piece on a row of its own"
    );
}

#[test]
fn stacked_panels_share_the_first_panels_x_range_and_one_left_edge() {
    let top = demo_figure(50);
    let mut below = demo_figure(20);
    below.y_label = "a much longer label for the lower panel (units)".into();
    for line in &mut below.lines {
        for p in &mut line.points {
            p.1 *= 1e6;
        }
    }
    let svg = render_stacked_svg(&[top.clone(), below], PaperSize::Column).unwrap();
    let st = Style::new(PaperSize::Column);
    assert_eq!(svg.matches("<svg").count(), 3, "the page and two panels");
    assert!(svg.starts_with(&format!(
        "<svg width=\"{:.1}\" height=\"{:.1}\"",
        st.w,
        st.h * 2.0
    )));
    // Both panels drawn with the wider y axis area: the same plot left edge.
    let (_, wide) = render_with_left(&top, PaperSize::Column, 0.0).unwrap();
    let (_, widened) = render_with_left(&top, PaperSize::Column, wide + 20.0).unwrap();
    assert_eq!(widened, wide + 20.0);
    assert!(svg_to_png(&svg, 72.0).is_ok() && svg_to_pdf(&svg).is_ok());
    assert!(matches!(
        render_stacked_svg(&[], PaperSize::Column),
        Err(FigureError::NoData)
    ));
}

#[test]
fn the_legend_goes_above_below_or_nowhere() {
    let mut fig = demo_figure(50);
    let label = fig.lines[0].label.clone();
    let y_of = |svg: &str, text: &str| -> f64 {
        let at = svg
            .find(&format!(">\n{text}\n<"))
            .or_else(|| svg.find(&format!(">{text}<")))
            .unwrap();
        let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
        tag.split(" y=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let top = render_svg(&fig, PaperSize::Page).unwrap();
    fig.legend = LegendPlace::Bottom;
    let bottom = render_svg(&fig, PaperSize::Page).unwrap();
    // Under the x axis label, instead of above the plot.
    let x_label = fig.x_label.clone();
    assert!(y_of(&top, &label) < y_of(&top, &x_label));
    assert!(y_of(&bottom, &label) > y_of(&bottom, &x_label));
    fig.legend = LegendPlace::None;
    fig.note = Some("a note".into());
    let none = render_svg(&fig, PaperSize::Page).unwrap();
    assert!(!none.contains(&label) && !none.contains("a note"));
}

/// Inside: the legend sits in the plot's emptiest corner (here, a line
/// along the top leaves the bottom free; one along the bottom, the top),
/// one entry per row, and a legend too big for the plot is an error.
#[test]
fn an_inside_legend_takes_the_emptiest_corner() {
    let text_at = |svg: &str, text: &str| -> (f64, f64) {
        let at = svg.find(&format!(">\n{text}\n<")).unwrap();
        let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
        let attr = |name: &str| -> f64 {
            let value = tag.split(&format!(" {name}=\"")).nth(1).unwrap();
            value.split('"').next().unwrap().parse().unwrap()
        };
        (attr("x"), attr("y"))
    };
    let line = |label: &str, y: f64| Line {
        label: label.into(),
        points: (0..=20).map(|i| (f64::from(i), y)).collect(),
        band: Vec::new(),
    };
    let mut fig = Figure {
        x_label: "time (s)".into(),
        y_label: "value".into(),
        lines: vec![line("high", 10.0), line("low", 0.0), line("high too", 9.5)],
        y_range: Some((0.0, 10.0)),
        legend: LegendPlace::Inside,
        ..Figure::default()
    };
    let svg = render_svg(&fig, PaperSize::Page).unwrap();
    let (x_axis_label, y_axis_label) = (text_at(&svg, "time (s)"), text_at(&svg, "value"));
    let (first, second) = (text_at(&svg, "high"), text_at(&svg, "low"));
    assert!(
        first.1 < second.1 && first.0 == second.0,
        "one entry per row"
    );
    assert!(first.0 > x_axis_label.0, "right half: {first:?}");
    assert!(first.1 > y_axis_label.1, "bottom half: {first:?}");
    // Lines low and in the middle: the top right is free.
    fig.lines = vec![line("high", 0.5), line("low", 0.0), line("high too", 5.0)];
    let svg = render_svg(&fig, PaperSize::Page).unwrap();
    let first = text_at(&svg, "high");
    assert!(
        first.0 > x_axis_label.0 && first.1 < y_axis_label.1,
        "top right: {first:?}"
    );
    // No room.
    fig.lines = (0..40).map(|i| line(&format!("line {i}"), 1.0)).collect();
    assert!(matches!(
        render_svg(&fig, PaperSize::Page),
        Err(FigureError::TooCrowded(_))
    ));
}
