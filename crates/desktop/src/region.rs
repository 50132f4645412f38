//! Damage rectangles: clipping and coalescing. Pure, no I/O.
//!
//! The X server reports damage as many small rectangles. Grabbing each one costs a
//! round trip, and sending each one costs a header; grabbing too much costs
//! bandwidth. The rules here: clip to the screen, merge rectangles whose union
//! wastes little area, and fall back to the bounding box when the damage covers
//! most of it or when there are too many pieces left.

/// A rectangle in screen pixels. `width` and `height` may be zero (empty).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
}

/// Beyond this many rectangles after merging, send the bounding box.
pub const MAX_RECTS: usize = 16;

/// Merging two rectangles is worth it when the union wastes at most this many
/// pixels over the two separate ones (one 64x64 tile).
const MERGE_SLACK: u64 = 64 * 64;

impl Rect {
    pub fn new(x: u16, y: u16, width: u16, height: u16) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    /// Clips a signed X rectangle to a `screen_w` x `screen_h` screen.
    /// Returns `None` when nothing is left.
    pub fn clipped(
        x: i32,
        y: i32,
        width: u32,
        height: u32,
        screen_w: u16,
        screen_h: u16,
    ) -> Option<Self> {
        let x0 = i64::from(x).max(0);
        let y0 = i64::from(y).max(0);
        let x1 = (i64::from(x) + i64::from(width)).min(i64::from(screen_w));
        let y1 = (i64::from(y) + i64::from(height)).min(i64::from(screen_h));
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        Some(Self {
            x: u16::try_from(x0).ok()?,
            y: u16::try_from(y0).ok()?,
            width: u16::try_from(x1 - x0).ok()?,
            height: u16::try_from(y1 - y0).ok()?,
        })
    }

    pub fn area(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    pub fn is_empty(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    fn right(&self) -> u32 {
        u32::from(self.x) + u32::from(self.width)
    }

    fn bottom(&self) -> u32 {
        u32::from(self.y) + u32::from(self.height)
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, other: &Self) -> Self {
        let x = self.x.min(other.x);
        let y = self.y.min(other.y);
        let r = self.right().max(other.right());
        let b = self.bottom().max(other.bottom());
        // Both inputs fit in u16 coordinates, so their union's extent does too
        // unless a rectangle ends past u16::MAX; saturate in that case.
        Self {
            x,
            y,
            width: u16::try_from(r - u32::from(x)).unwrap_or(u16::MAX),
            height: u16::try_from(b - u32::from(y)).unwrap_or(u16::MAX),
        }
    }

    fn intersection_area(&self, other: &Self) -> u64 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        if x1 <= u32::from(x0) || y1 <= u32::from(y0) {
            return 0;
        }
        u64::from(x1 - u32::from(x0)) * u64::from(y1 - u32::from(y0))
    }
}

/// Coalesces damage rectangles (already clipped to the screen).
///
/// The result covers every input pixel, holds no empty rectangle, and has at most
/// [`MAX_RECTS`] entries.
pub fn coalesce(rects: &[Rect]) -> Vec<Rect> {
    let mut out: Vec<Rect> = rects.iter().copied().filter(|r| !r.is_empty()).collect();
    let Some(first) = out.first().copied() else {
        return out;
    };
    let bbox = out.iter().fold(first, |acc, r| acc.union(r));
    let covered: u64 = out.iter().map(Rect::area).sum();
    // Damage fills most of its bounding box (overlaps count twice, which only
    // makes this more eager): one rectangle is cheaper than many.
    if covered.saturating_mul(4) >= bbox.area().saturating_mul(3) {
        return vec![bbox];
    }

    // Greedy pairwise merging while some union wastes little. Bounded: each merge
    // removes one rectangle, and the input is capped to keep this quadratic loop cheap.
    if out.len() > MAX_RECTS * 16 {
        return vec![bbox];
    }
    loop {
        let mut merged = false;
        let mut i = 0;
        while i < out.len() {
            let mut j = i + 1;
            while j < out.len() {
                let (Some(a), Some(b)) = (out.get(i).copied(), out.get(j).copied()) else {
                    break;
                };
                let u = a.union(&b);
                let separate = a.area() + b.area() - a.intersection_area(&b);
                if u.area() <= separate + MERGE_SLACK {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = u;
                    }
                    out.swap_remove(j);
                    merged = true;
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
        if !merged {
            break;
        }
    }
    if out.len() > MAX_RECTS {
        return vec![bbox];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(out: &[Rect], x: u16, y: u16) -> bool {
        out.iter()
            .any(|r| x >= r.x && y >= r.y && u32::from(x) < r.right() && u32::from(y) < r.bottom())
    }

    #[test]
    fn clip_to_screen() {
        assert_eq!(
            Rect::clipped(-5, -5, 10, 10, 100, 100),
            Some(Rect::new(0, 0, 5, 5))
        );
        assert_eq!(
            Rect::clipped(95, 90, 10, 20, 100, 100),
            Some(Rect::new(95, 90, 5, 10))
        );
        assert_eq!(Rect::clipped(100, 0, 10, 10, 100, 100), None);
        assert_eq!(Rect::clipped(-20, 0, 10, 10, 100, 100), None);
        assert_eq!(Rect::clipped(0, 0, 0, 10, 100, 100), None);
        assert_eq!(
            Rect::clipped(i32::MIN, i32::MIN, u32::MAX, u32::MAX, 100, 100),
            Some(Rect::new(0, 0, 100, 100))
        );
    }

    #[test]
    fn empty_input() {
        assert!(coalesce(&[]).is_empty());
        assert!(coalesce(&[Rect::new(1, 1, 0, 5)]).is_empty());
    }

    #[test]
    fn small_far_apart_rects_stay_separate() {
        let a = Rect::new(0, 0, 10, 10);
        let b = Rect::new(1000, 700, 10, 10);
        let out = coalesce(&[a, b]);
        assert_eq!(out.len(), 2);
        assert!(out.contains(&a) && out.contains(&b));
    }

    #[test]
    fn adjacent_rects_merge() {
        let out = coalesce(&[
            Rect::new(0, 0, 100, 1),
            Rect::new(0, 1, 100, 1),
            Rect::new(0, 2, 100, 1),
        ]);
        assert_eq!(out, vec![Rect::new(0, 0, 100, 3)]);
    }

    #[test]
    fn dense_damage_becomes_bounding_box() {
        let mut rects = Vec::new();
        for i in 0..50u16 {
            rects.push(Rect::new(i * 10, 0, 10, 500));
        }
        assert_eq!(coalesce(&rects), vec![Rect::new(0, 0, 500, 500)]);
    }

    #[test]
    fn many_scattered_rects_are_capped() {
        let mut rects = Vec::new();
        for i in 0..40u16 {
            rects.push(Rect::new(i * 100, (i % 7) * 300, 2, 2));
        }
        let out = coalesce(&rects);
        assert!(out.len() <= MAX_RECTS);
        for r in &rects {
            assert!(covers(&out, r.x, r.y));
            assert!(covers(&out, r.x + 1, r.y + 1));
        }
    }

    #[test]
    fn output_covers_input_exhaustively_small() {
        // deterministic pseudo-random rectangles
        let mut seed: u32 = 12345;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u16
        };
        for _ in 0..200 {
            let n = usize::from(next() % 30);
            let rects: Vec<Rect> = (0..n)
                .map(|_| Rect::new(next() % 600, next() % 400, next() % 80, next() % 80))
                .collect();
            let out = coalesce(&rects);
            assert!(out.len() <= MAX_RECTS);
            assert!(out.iter().all(|r| !r.is_empty()));
            for r in rects.iter().filter(|r| !r.is_empty()) {
                for (x, y) in [(r.x, r.y), (r.x + r.width - 1, r.y + r.height - 1)] {
                    assert!(covers(&out, x, y), "{r:?} not covered by {out:?}");
                }
            }
        }
    }
}
