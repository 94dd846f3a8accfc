//! Epoch binning on a fixed grid.
//!
//! A sample that ends at time `t` belongs to the epoch `ceil(t / width)`,
//! labelled by its end `ceil(t / width) * width`: the rule of the failover
//! notebook, which labels each 0.1 s epoch by the moment it closes. A tiny
//! tolerance keeps a sample ending at 1.0000000002 s in the 1.0 s epoch
//! instead of pushing it into 1.1 s through floating-point noise.

/// A grid of epochs of equal width, indexed by integers; epoch `k` covers
/// `((k - 1) * width, k * width]` and is labelled `k * width`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochGrid {
    width: f64,
}

/// Relative tolerance on the grid (a millionth of an epoch).
const TOLERANCE: f64 = 1e-6;

impl EpochGrid {
    /// A grid of `width` seconds; `None` unless `width` is positive and finite.
    pub fn new(width: f64) -> Option<Self> {
        (width.is_finite() && width > 0.0).then_some(EpochGrid { width })
    }

    /// Width of one epoch, seconds.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// The epoch a sample ending at `t` seconds belongs to.
    pub fn index_of(&self, t: f64) -> i64 {
        (t / self.width - TOLERANCE).ceil() as i64
    }

    /// The label (end time, seconds) of epoch `index`.
    pub fn time_of(&self, index: i64) -> f64 {
        // Rounded to a nanosecond so labels print cleanly (0.30000000000000004 → 0.3).
        ((index as f64 * self.width) * 1e9).round() / 1e9
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_rule_with_tolerance() {
        let grid = EpochGrid::new(0.1).unwrap();
        assert_eq!(grid.index_of(0.1), 1);
        assert_eq!(grid.index_of(0.1000000001), 1);
        assert_eq!(grid.index_of(0.1001), 2);
        assert_eq!(grid.index_of(0.05), 1);
        assert_eq!(grid.index_of(0.0), 0);
        assert_eq!(grid.index_of(-0.05), 0);
        assert_eq!(grid.time_of(3), 0.3);
        assert!(EpochGrid::new(0.0).is_none());
        assert!(EpochGrid::new(f64::NAN).is_none());
    }
}
