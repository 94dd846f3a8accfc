//! Plane geometry used by the figure renderer: splitting series at NaN gaps,
//! clipping lines and filled areas to the plot rectangle (in data space, so
//! nothing is drawn outside the axes whatever the backend does), and cutting
//! polylines into dashes (in device space, so dashes have the same length on
//! every slope).

/// An axis-aligned rectangle `[x0, x1] × [y0, y1]` with `x0 < x1`, `y0 < y1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

impl Rect {
    /// Whether `p` lies inside the rectangle or on its border.
    pub fn contains(&self, p: (f64, f64)) -> bool {
        p.0 >= self.x0 && p.0 <= self.x1 && p.1 >= self.y0 && p.1 <= self.y1
    }
}

/// Splits `items` into maximal runs of consecutive items accepted by `ok`.
/// Runs are returned in order; rejected items (e.g. NaN points) separate runs.
pub(crate) fn split_runs<T: Copy>(items: &[T], ok: impl Fn(&T) -> bool) -> Vec<Vec<T>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for it in items {
        if ok(it) {
            cur.push(*it);
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// Clips the segment `a`–`b` to `r` (Liang–Barsky). Returns the visible part.
fn clip_segment(a: (f64, f64), b: (f64, f64), r: &Rect) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (p, q) in [
        (-dx, a.0 - r.x0),
        (dx, r.x1 - a.0),
        (-dy, a.1 - r.y0),
        (dy, r.y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    if t0 > t1 {
        return None;
    }
    let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
    Some((at(t0), at(t1)))
}

/// Clips a polyline (finite points) to `r`. The result is one or more
/// polylines; a polyline leaving and re-entering the rectangle is split.
pub(crate) fn clip_polyline(points: &[(f64, f64)], r: &Rect) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    if points.len() == 1 {
        if r.contains(points[0]) {
            out.push(vec![points[0]]);
        }
        return out;
    }
    for w in points.windows(2) {
        match clip_segment(w[0], w[1], r) {
            Some((p, q)) => {
                let continues = cur.last().is_some_and(|l| *l == p);
                if !continues {
                    if !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur.push(p);
                }
                cur.push(q);
            }
            None => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Clips a polygon to `r` (Sutherland–Hodgman). Exact for any polygon since
/// the clip region is convex; may leave zero-area slivers along the border,
/// which fill as nothing.
pub(crate) fn clip_polygon(poly: &[(f64, f64)], r: &Rect) -> Vec<(f64, f64)> {
    type Edge = (
        fn(&Rect, (f64, f64)) -> bool,
        fn(&Rect, (f64, f64), (f64, f64)) -> (f64, f64),
    );
    fn lerp_x(a: (f64, f64), b: (f64, f64), x: f64) -> (f64, f64) {
        let t = (x - a.0) / (b.0 - a.0);
        (x, a.1 + t * (b.1 - a.1))
    }
    fn lerp_y(a: (f64, f64), b: (f64, f64), y: f64) -> (f64, f64) {
        let t = (y - a.1) / (b.1 - a.1);
        (a.0 + t * (b.0 - a.0), y)
    }
    let edges: [Edge; 4] = [
        (|r, p| p.0 >= r.x0, |r, a, b| lerp_x(a, b, r.x0)),
        (|r, p| p.0 <= r.x1, |r, a, b| lerp_x(a, b, r.x1)),
        (|r, p| p.1 >= r.y0, |r, a, b| lerp_y(a, b, r.y0)),
        (|r, p| p.1 <= r.y1, |r, a, b| lerp_y(a, b, r.y1)),
    ];
    let mut cur: Vec<(f64, f64)> = poly.to_vec();
    for (inside, cross) in edges {
        if cur.is_empty() {
            break;
        }
        let input = std::mem::take(&mut cur);
        let mut prev = input[input.len() - 1];
        for &p in &input {
            match (inside(r, p), inside(r, prev)) {
                (true, true) => cur.push(p),
                (true, false) => {
                    cur.push(cross(r, prev, p));
                    cur.push(p);
                }
                (false, true) => cur.push(cross(r, prev, p)),
                (false, false) => {}
            }
            prev = p;
        }
    }
    cur
}

/// Cuts a polyline into dashes following `pattern` (alternating on and off
/// lengths, starting with "on"). An empty pattern means a solid line. The
/// pattern continues across vertices, so dashes bend round corners.
pub(crate) fn dash_polyline(points: &[(f64, f64)], pattern: &[f64]) -> Vec<Vec<(f64, f64)>> {
    if pattern.is_empty() || pattern.iter().any(|l| l.is_nan() || *l <= 0.0) || points.len() < 2 {
        return vec![points.to_vec()];
    }
    let mut out = Vec::new();
    let mut idx = 0usize; // current pattern element
    let mut left = pattern[0]; // length left in the current element
    let mut cur: Vec<(f64, f64)> = vec![points[0]];
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let seg = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut pos = 0.0;
        while seg - pos > left {
            pos += left;
            let t = pos / seg;
            let p = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            if idx % 2 == 0 {
                cur.push(p);
                out.push(std::mem::take(&mut cur));
            } else {
                cur.push(p);
            }
            idx = (idx + 1) % pattern.len();
            left = pattern[idx];
        }
        left -= seg - pos;
        if idx % 2 == 0 {
            cur.push(b);
        } else {
            cur.clear();
            cur.push(b);
        }
    }
    if idx % 2 == 0 && cur.len() >= 2 {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rect = Rect {
        x0: 0.0,
        x1: 10.0,
        y0: 0.0,
        y1: 10.0,
    };

    #[test]
    fn runs_split_at_rejected_items() {
        let v = [1.0, f64::NAN, 2.0, 3.0, f64::NAN, f64::NAN];
        let runs = split_runs(&v, |x| x.is_finite());
        assert_eq!(runs, vec![vec![1.0], vec![2.0, 3.0]]);
    }

    #[test]
    fn polyline_leaving_and_reentering_is_split() {
        let pts = [(1.0, 5.0), (5.0, 15.0), (9.0, 5.0)];
        let parts = clip_polyline(&pts, &R);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], vec![(1.0, 5.0), (3.0, 10.0)]);
        assert_eq!(parts[1], vec![(7.0, 10.0), (9.0, 5.0)]);
    }

    #[test]
    fn polygon_is_clipped_to_rect() {
        let poly = [(-5.0, -5.0), (15.0, -5.0), (15.0, 5.0), (-5.0, 5.0)];
        let c = clip_polygon(&poly, &R);
        assert!(c.iter().all(|p| R.contains(*p)));
        let area: f64 = (0..c.len())
            .map(|i| {
                let (a, b) = (c[i], c[(i + 1) % c.len()]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            .abs()
            / 2.0;
        assert!((area - 50.0).abs() < 1e-9, "area {area}");
    }

    #[test]
    fn dashes_have_pattern_lengths() {
        let d = dash_polyline(&[(0.0, 0.0), (10.0, 0.0)], &[2.0, 1.0]);
        let starts: Vec<f64> = d.iter().map(|p| p[0].0).collect();
        assert_eq!(starts, vec![0.0, 3.0, 6.0, 9.0]);
        assert_eq!(d[0], vec![(0.0, 0.0), (2.0, 0.0)]);
        assert_eq!(d[3], vec![(9.0, 0.0), (10.0, 0.0)]);
    }

    #[test]
    fn dashes_bend_round_corners() {
        let d = dash_polyline(&[(0.0, 0.0), (1.0, 0.0), (1.0, 5.0)], &[2.0, 1.0]);
        assert_eq!(d[0], vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)]);
    }
}
