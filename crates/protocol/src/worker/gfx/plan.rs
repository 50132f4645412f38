//! What the graphics pipeline sends next: pure decisions on (damage, acknowledgements, now).
//!
//! The screen is a grid of [`TILE`]-pixel tiles, each in one of three states: *exact* (the
//! client shows the server's pixels), *dirty* (changed here, not sent yet) or *lossy* (sent
//! as H.264, so the client shows an approximation). [`Plan::next`] turns that into one step:
//! - dirty tiles go out as one H.264 frame painting just those rectangles — or, when only
//!   a few tiles changed (typing, a blinking cursor), losslessly at once;
//! - once nothing has changed for [`PlanConfig::refine_after`] and the client has caught up,
//!   lossy tiles are re-sent losslessly ("refinement"), a bounded batch per frame, until the
//!   client's picture equals the server's;
//! - at most [`PlanConfig::max_in_flight`] frames wait for the client's acknowledgement
//!   (MS-RDPEGFX 2.2.2.13 RDPGFX_FRAME_ACKNOWLEDGE_PDU), so a slow client is never buried:
//!   damage keeps merging into the dirty tiles while it catches up.
//!
//! No clock, no I/O: time is a parameter.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Tile edge in pixels.
pub(crate) const TILE: u16 = 64;

/// A client that stops acknowledging frames sends this queue depth
/// (MS-RDPEGFX 2.2.2.13, SUSPEND_FRAME_ACKNOWLEDGEMENT).
pub(crate) const SUSPEND_FRAME_ACKNOWLEDGEMENT: u32 = 0xFFFF_FFFF;

/// A rectangle in surface pixels; right and bottom edges exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    pub(crate) left: u16,
    pub(crate) top: u16,
    pub(crate) right: u16,
    pub(crate) bottom: u16,
}

impl Rect {
    pub(crate) fn width(&self) -> u16 {
        self.right.saturating_sub(self.left)
    }

    pub(crate) fn height(&self) -> u16 {
        self.bottom.saturating_sub(self.top)
    }

    fn is_empty(&self) -> bool {
        self.width() == 0 || self.height() == 0
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PlanConfig {
    /// Frames sent and not yet acknowledged before the plan waits.
    pub(crate) max_in_flight: usize,
    /// Shortest time between two H.264 frames (caps the frame rate).
    pub(crate) min_frame_interval: Duration,
    /// Quiet time (no damage) before lossy tiles are refined.
    pub(crate) refine_after: Duration,
    /// Lossless tiles per refinement frame (bounds one frame's size).
    pub(crate) refine_batch: usize,
    /// Damage of at most this many tiles is sent losslessly straight away.
    pub(crate) small_update_tiles: usize,
    /// A frame unacknowledged this long no longer counts as in flight.
    pub(crate) ack_timeout: Duration,
    /// While the client has suspended acknowledgements, a frame counts as in flight for
    /// this long (a time budget instead of the acknowledgement).
    pub(crate) suspended_lifetime: Duration,
}

impl Default for PlanConfig {
    fn default() -> Self {
        Self {
            max_in_flight: 2,
            // ~33 fps at most: damage ticking at 60 Hz still yields 30 frames a second.
            min_frame_interval: Duration::from_millis(30),
            refine_after: Duration::from_millis(300),
            refine_batch: 64,
            small_update_tiles: 4,
            ack_timeout: Duration::from_secs(2),
            suspended_lifetime: Duration::from_millis(70),
        }
    }
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing to send now; ask again after this long at the latest (`None`: on new input).
    Wait(Option<Duration>),
    /// Encode the current picture as H.264 and paint these rectangles from it.
    H264 { frame_id: u32, rects: Vec<Rect> },
    /// Send these rectangles losslessly; `refinement` when they were sent as H.264 before.
    Lossless {
        frame_id: u32,
        rects: Vec<Rect>,
        refinement: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tile {
    Exact,
    Dirty,
    Lossy,
}

#[derive(Debug)]
pub(crate) struct Plan {
    config: PlanConfig,
    width: u16,
    height: u16,
    cols: usize,
    rows: usize,
    tiles: Vec<Tile>,
    last_damage: Option<Instant>,
    last_h264: Option<Instant>,
    in_flight: VecDeque<(u32, Instant)>,
    acks_suspended: bool,
    next_frame_id: u32,
}

impl Plan {
    /// A plan for a `width` x `height` surface the client has not seen yet: everything dirty.
    pub(crate) fn new(config: PlanConfig, width: u16, height: u16) -> Self {
        let mut plan = Self {
            config,
            width: 0,
            height: 0,
            cols: 0,
            rows: 0,
            tiles: Vec::new(),
            last_damage: None,
            last_h264: None,
            in_flight: VecDeque::new(),
            acks_suspended: false,
            next_frame_id: 0,
        };
        plan.resize(width, height);
        plan
    }

    /// A new surface size: the client's picture is gone, everything is dirty.
    pub(crate) fn resize(&mut self, width: u16, height: u16) {
        self.width = width;
        self.height = height;
        self.cols = usize::from(width.div_ceil(TILE));
        self.rows = usize::from(height.div_ceil(TILE));
        self.tiles = vec![Tile::Dirty; self.cols * self.rows];
        self.in_flight.clear();
    }

    /// Pixels in `rect` changed at `now`.
    pub(crate) fn damage(&mut self, rect: Rect, now: Instant) {
        let rect = self.clip(rect);
        if rect.is_empty() {
            return;
        }
        let (c0, c1) = (usize::from(rect.left / TILE), usize::from((rect.right - 1) / TILE));
        let (r0, r1) = (usize::from(rect.top / TILE), usize::from((rect.bottom - 1) / TILE));
        for row in r0..=r1 {
            for col in c0..=c1 {
                if let Some(tile) = self.tiles.get_mut(row * self.cols + col) {
                    *tile = Tile::Dirty;
                }
            }
        }
        self.last_damage = Some(now);
    }

    /// The client acknowledged `frame_id`, reporting `queue_depth` frames still undecoded.
    pub(crate) fn ack(&mut self, frame_id: u32, queue_depth: u32) {
        self.acks_suspended = queue_depth == SUSPEND_FRAME_ACKNOWLEDGEMENT;
        self.in_flight.retain(|(id, _)| *id != frame_id);
    }

    /// The H.264 frame `frame_id` for `rects` was not sent after all (the encoder skipped it):
    /// it is not in flight, and its rectangles are dirty again.
    pub(crate) fn skipped(&mut self, frame_id: u32, rects: &[Rect], now: Instant) {
        self.in_flight.retain(|(id, _)| *id != frame_id);
        for rect in rects {
            self.damage(*rect, now);
        }
    }

    /// Frames sent and not yet acknowledged.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether every tile shows the server's exact pixels on the client (once sent).
    #[cfg(test)]
    pub(crate) fn is_exact(&self) -> bool {
        self.tiles.iter().all(|t| *t == Tile::Exact)
    }

    pub(crate) fn next(&mut self, now: Instant) -> Step {
        let timeout = if self.acks_suspended {
            self.config.suspended_lifetime
        } else {
            self.config.ack_timeout
        };
        self.in_flight.retain(|(_, sent)| now.saturating_duration_since(*sent) < timeout);
        let busy = self.in_flight.len() >= self.config.max_in_flight;
        let oldest_ack_due = self
            .in_flight
            .front()
            .map(|(_, sent)| timeout.saturating_sub(now.saturating_duration_since(*sent)));

        let dirty = self.count(Tile::Dirty);
        if dirty > 0 {
            if busy {
                return Step::Wait(oldest_ack_due);
            }
            if dirty <= self.config.small_update_tiles {
                let rects = self.take(Tile::Dirty, Tile::Exact, usize::MAX);
                return Step::Lossless {
                    frame_id: self.begin(now),
                    rects,
                    refinement: false,
                };
            }
            if let Some(last) = self.last_h264 {
                let since = now.saturating_duration_since(last);
                if since < self.config.min_frame_interval {
                    return Step::Wait(Some(self.config.min_frame_interval - since));
                }
            }
            let rects = self.take(Tile::Dirty, Tile::Lossy, usize::MAX);
            self.last_h264 = Some(now);
            return Step::H264 {
                frame_id: self.begin(now),
                rects,
            };
        }
        if self.count(Tile::Lossy) == 0 {
            return Step::Wait(None);
        }
        // Quiet since the last change or the last H.264 frame, whichever came later.
        let quiet = self
            .last_damage
            .max(self.last_h264)
            .map_or(self.config.refine_after, |at| now.saturating_duration_since(at));
        if quiet < self.config.refine_after {
            return Step::Wait(Some(self.config.refine_after - quiet));
        }
        if !self.in_flight.is_empty() {
            // Refine only once the client has caught up with the motion.
            return Step::Wait(oldest_ack_due);
        }
        let rects = self.take(Tile::Lossy, Tile::Exact, self.config.refine_batch);
        Step::Lossless {
            frame_id: self.begin(now),
            rects,
            refinement: true,
        }
    }

    fn begin(&mut self, now: Instant) -> u32 {
        let id = self.next_frame_id;
        self.next_frame_id = self.next_frame_id.wrapping_add(1);
        self.in_flight.push_back((id, now));
        id
    }

    fn count(&self, state: Tile) -> usize {
        self.tiles.iter().filter(|t| **t == state).count()
    }

    /// Up to `limit` tiles in state `from`, moved to `to`, as rectangles: runs along each tile
    /// row, merged with the identical run of the row above.
    fn take(&mut self, from: Tile, to: Tile, limit: usize) -> Vec<Rect> {
        let mut left = limit;
        let mut rects: Vec<Rect> = Vec::new();
        // Rectangles that ended on the previous tile row, open for extending downwards.
        let mut open: Vec<usize> = Vec::new();
        for row in 0..self.rows {
            let mut next_open = Vec::new();
            let mut col = 0;
            while col < self.cols && left > 0 {
                if self.tiles.get(row * self.cols + col) != Some(&from) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < self.cols && left > 0 && self.tiles.get(row * self.cols + col) == Some(&from) {
                    if let Some(tile) = self.tiles.get_mut(row * self.cols + col) {
                        *tile = to;
                    }
                    left -= 1;
                    col += 1;
                }
                let run = self.clip(self.tile_rect(row, start, col));
                let merged = open.iter().copied().find(|&i| {
                    rects
                        .get(i)
                        .is_some_and(|r| r.left == run.left && r.right == run.right && r.bottom == run.top)
                });
                match merged.and_then(|i| rects.get_mut(i).map(|r| (i, r))) {
                    Some((i, r)) => {
                        r.bottom = run.bottom;
                        next_open.push(i);
                    }
                    None => {
                        next_open.push(rects.len());
                        rects.push(run);
                    }
                }
            }
            open = next_open;
        }
        rects
    }

    fn tile_rect(&self, row: usize, col_start: usize, col_end: usize) -> Rect {
        let t = usize::from(TILE);
        let px = |v: usize| u16::try_from(v * t).unwrap_or(u16::MAX);
        Rect {
            left: px(col_start),
            top: px(row),
            right: px(col_end),
            bottom: px(row + 1),
        }
    }

    fn clip(&self, r: Rect) -> Rect {
        Rect {
            left: r.left.min(self.width),
            top: r.top.min(self.height),
            right: r.right.min(self.width),
            bottom: r.bottom.min(self.height),
        }
    }
}

/// How much of the screen the motion covers, which decides how the encoder is set up: a
/// scrolling terminal or a moving window ([`Motion::Local`]) or full-screen motion
/// ([`Motion::FullScreen`]); see `h264::Rate::for_motion`. Switching costs a key frame,
/// so it needs a run of frames to switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Motion {
    Local,
    FullScreen,
}

/// Frames in a row covering at least [`MotionGauge::WIDE`] before switching to full-screen.
const FRAMES_TO_WIDEN: u32 = 3;
/// Frames in a row covering less than [`MotionGauge::NARROW`] before switching back.
const FRAMES_TO_NARROW: u32 = 30;

/// The motion kind from the area of each H.264 frame's damage; pure.
#[derive(Debug, Clone)]
pub(crate) struct MotionGauge {
    current: Motion,
    run: u32,
}

impl Default for MotionGauge {
    fn default() -> Self {
        Self {
            current: Motion::Local,
            run: 0,
        }
    }
}

impl MotionGauge {
    /// Per mille of the surface: at least this much is wide motion.
    const WIDE: u64 = 350;
    /// Below this much is local motion.
    const NARROW: u64 = 150;

    pub(crate) fn current(&self) -> Motion {
        self.current
    }

    /// One H.264 frame painting `rects` on a `width` x `height` surface. Returns the new
    /// motion kind when it changes.
    pub(crate) fn observe(&mut self, rects: &[Rect], width: u16, height: u16) -> Option<Motion> {
        let surface = u64::from(width) * u64::from(height);
        if surface == 0 {
            return None;
        }
        let per_mille = area(rects).saturating_mul(1000) / surface;
        let (toward, needed) = match self.current {
            Motion::Local if per_mille >= Self::WIDE => (Motion::FullScreen, FRAMES_TO_WIDEN),
            Motion::FullScreen if per_mille < Self::NARROW => (Motion::Local, FRAMES_TO_NARROW),
            _ => {
                self.run = 0;
                return None;
            }
        };
        self.run += 1;
        if self.run < needed {
            return None;
        }
        self.run = 0;
        self.current = toward;
        Some(toward)
    }
}

/// Pixels covered by `rects` (they do not overlap: the plan merges tiles).
fn area(rects: &[Rect]) -> u64 {
    rects
        .iter()
        .map(|r| u64::from(r.width()) * u64::from(r.height()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(left: u16, top: u16, right: u16, bottom: u16) -> Rect {
        Rect {
            left,
            top,
            right,
            bottom,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Runs the plan as a perfect client would (every frame acknowledged at once) until it
    /// waits; returns the steps taken.
    fn drain(plan: &mut Plan, now: Instant) -> Vec<Step> {
        let mut steps = Vec::new();
        for _ in 0..1000 {
            let step = plan.next(now);
            match &step {
                Step::Wait(_) => break,
                Step::H264 { frame_id, .. } | Step::Lossless { frame_id, .. } => plan.ack(*frame_id, 0),
            }
            steps.push(step);
        }
        steps
    }

    #[test]
    fn first_frame_is_the_whole_surface_in_h264_then_refined_after_quiet_then_nothing() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 1920, 1080);
        let Step::H264 { rects, .. } = plan.next(t0) else {
            panic!("first step is not H.264");
        };
        assert_eq!(area(&rects), 1920 * 1080);
        assert_eq!(rects, vec![rect(0, 0, 1920, 1080)], "one merged rectangle, clipped to the surface");
        plan.ack(0, 0);
        // Not quiet long enough yet (the first frame counts as motion when nothing else did).
        assert!(matches!(plan.next(t0 + ms(10)), Step::Wait(Some(_))));
        let steps = drain(&mut plan, t0 + ms(400));
        assert!(!steps.is_empty());
        let refined: u64 = steps
            .iter()
            .map(|s| match s {
                Step::Lossless { rects, .. } => area(rects),
                other => panic!("unexpected {other:?}"),
            })
            .sum();
        assert_eq!(refined, 1920 * 1080, "every lossy pixel refined exactly once");
        assert!(plan.is_exact());
        assert_eq!(plan.next(t0 + ms(5000)), Step::Wait(None), "then nothing");
    }

    #[test]
    fn refinement_comes_in_bounded_batches() {
        let t0 = Instant::now();
        let config = PlanConfig {
            refine_batch: 10,
            ..PlanConfig::default()
        };
        let mut plan = Plan::new(config, 1920, 1080);
        drain(&mut plan, t0);
        let steps = drain(&mut plan, t0 + ms(1000));
        let tiles = 30 * 17;
        assert_eq!(steps.len(), tiles / 10 + usize::from(tiles % 10 != 0));
        for step in &steps {
            let Step::Lossless { rects, .. } = step else {
                panic!("unexpected {step:?}");
            };
            assert!(area(rects) <= 10 * 64 * 64);
        }
        assert!(plan.is_exact());
    }

    #[test]
    fn small_damage_goes_lossless_at_once_and_needs_no_refinement() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 1920, 1080);
        drain(&mut plan, t0);
        drain(&mut plan, t0 + ms(1000));
        assert!(plan.is_exact());
        // A typed character: a few pixels inside one tile.
        plan.damage(rect(70, 70, 78, 86), t0 + ms(2000));
        let Step::Lossless {
            frame_id,
            rects,
            refinement: false,
        } = plan.next(t0 + ms(2000))
        else {
            panic!("a small change was not sent losslessly");
        };
        assert_eq!(rects, vec![rect(64, 64, 128, 128)]);
        assert!(plan.is_exact());
        plan.ack(frame_id, 0);
        assert_eq!(plan.next(t0 + ms(9000)), Step::Wait(None));
    }

    #[test]
    fn motion_is_h264_at_a_capped_rate_and_refined_once_it_stops() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 1920, 1080);
        drain(&mut plan, t0);
        drain(&mut plan, t0 + ms(1000));
        let mut h264 = 0;
        let mut now = t0 + ms(2000);
        // One second of full-screen damage every 10 ms.
        for _ in 0..100 {
            plan.damage(rect(0, 0, 1920, 1080), now);
            for step in drain(&mut plan, now) {
                match step {
                    Step::H264 { rects, .. } => {
                        assert_eq!(area(&rects), 1920 * 1080);
                        h264 += 1;
                    }
                    other => panic!("refined during motion: {other:?}"),
                }
            }
            now += ms(10);
        }
        assert!((25..=34).contains(&h264), "{h264} H.264 frames in one second");
        assert!(!plan.is_exact());
        // The last damage still goes out as H.264 (at most one frame), then, after the quiet
        // time, only refinement.
        let steps = drain(&mut plan, now);
        assert!(steps.len() <= 1 && steps.iter().all(|s| matches!(s, Step::H264 { .. })));
        assert!(matches!(plan.next(now + ms(100)), Step::Wait(Some(_))));
        let steps = drain(&mut plan, now + ms(400));
        assert!(steps.iter().all(|s| matches!(s, Step::Lossless { refinement: true, .. })));
        assert!(plan.is_exact());
    }

    #[test]
    fn a_client_that_does_not_acknowledge_gets_at_most_max_in_flight_frames() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 640, 480);
        let mut sent = 0;
        let mut now = t0;
        for _ in 0..50 {
            plan.damage(rect(0, 0, 640, 480), now);
            if !matches!(plan.next(now), Step::Wait(_)) {
                sent += 1;
            }
            now += ms(20);
        }
        assert_eq!(sent, 2);
        assert_eq!(plan.in_flight(), 2);
        // The wait is bounded by the acknowledgement timeout, after which frames flow again.
        let Step::Wait(Some(wait)) = plan.next(now) else {
            panic!("no bounded wait");
        };
        assert!(wait <= Duration::from_secs(2));
        assert!(matches!(plan.next(t0 + Duration::from_secs(3)), Step::H264 { .. }));
    }

    #[test]
    fn acknowledgements_release_the_next_frame_and_unknown_ones_change_nothing() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 640, 480);
        let Step::H264 { frame_id: a, .. } = plan.next(t0) else {
            panic!()
        };
        plan.damage(rect(0, 0, 640, 480), t0 + ms(40));
        let Step::H264 { frame_id: b, .. } = plan.next(t0 + ms(40)) else {
            panic!()
        };
        plan.damage(rect(0, 0, 640, 480), t0 + ms(80));
        assert!(matches!(plan.next(t0 + ms(80)), Step::Wait(_)));
        plan.ack(9999, 0);
        assert!(matches!(plan.next(t0 + ms(81)), Step::Wait(_)));
        plan.ack(a, 1);
        assert!(matches!(plan.next(t0 + ms(82)), Step::H264 { .. }));
        plan.ack(b, 0);
        assert_eq!(plan.in_flight(), 1);
    }

    #[test]
    fn a_skipped_frame_is_retried_and_does_not_count_as_in_flight() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 640, 480);
        let Step::H264 { frame_id, rects } = plan.next(t0) else {
            panic!()
        };
        plan.skipped(frame_id, &rects, t0);
        assert_eq!(plan.in_flight(), 0);
        assert!(matches!(plan.next(t0 + ms(1)), Step::Wait(Some(_))), "not before the frame interval");
        let Step::H264 { rects: again, .. } = plan.next(t0 + ms(40)) else {
            panic!("the skipped damage was not retried")
        };
        assert_eq!(again, rects);
    }

    #[test]
    fn suspended_acknowledgements_do_not_stall_the_stream() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 640, 480);
        let Step::H264 { frame_id, .. } = plan.next(t0) else {
            panic!()
        };
        plan.ack(frame_id, SUSPEND_FRAME_ACKNOWLEDGEMENT);
        let mut now = t0;
        for _ in 0..10 {
            now += ms(40);
            plan.damage(rect(0, 0, 640, 480), now);
            assert!(matches!(plan.next(now), Step::H264 { .. }));
        }
        // Still bounded: faster damage waits for the time budget.
        plan.damage(rect(0, 0, 640, 480), now + ms(1));
        assert!(matches!(plan.next(now + ms(1)), Step::Wait(Some(_))));
        assert!(plan.in_flight() <= 2);
        // Acknowledgements resumed: back to counting them.
        plan.ack(0, 0);
        assert!(!plan.acks_suspended);
    }

    #[test]
    fn damage_outside_the_surface_is_ignored_and_edges_are_clipped() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 100, 100);
        drain(&mut plan, t0);
        drain(&mut plan, t0 + ms(1000));
        plan.damage(rect(200, 200, 300, 300), t0 + ms(2000));
        plan.damage(rect(5, 5, 5, 50), t0 + ms(2000));
        assert_eq!(plan.next(t0 + ms(2000)), Step::Wait(None));
        plan.damage(rect(90, 90, 400, 400), t0 + ms(2000));
        let Step::Lossless { rects, .. } = plan.next(t0 + ms(2000)) else {
            panic!()
        };
        assert_eq!(rects, vec![rect(64, 64, 100, 100)]);
    }

    #[test]
    fn separate_regions_stay_separate_rectangles() {
        let t0 = Instant::now();
        let config = PlanConfig {
            small_update_tiles: 0,
            ..PlanConfig::default()
        };
        let mut plan = Plan::new(config, 640, 480);
        drain(&mut plan, t0);
        drain(&mut plan, t0 + ms(1000));
        plan.damage(rect(0, 0, 128, 128), t0 + ms(2000));
        plan.damage(rect(512, 256, 640, 480), t0 + ms(2000));
        let Step::H264 { rects, .. } = plan.next(t0 + ms(2000)) else {
            panic!()
        };
        assert_eq!(rects, vec![rect(0, 0, 128, 128), rect(512, 256, 640, 480)]);
    }

    #[test]
    fn resize_makes_everything_dirty_again() {
        let t0 = Instant::now();
        let mut plan = Plan::new(PlanConfig::default(), 640, 480);
        drain(&mut plan, t0);
        drain(&mut plan, t0 + ms(1000));
        plan.resize(800, 600);
        let Step::H264 { rects, .. } = plan.next(t0 + ms(2000)) else {
            panic!()
        };
        assert_eq!(area(&rects), 800 * 600);
    }

    #[test]
    fn the_gauge_widens_after_a_run_of_wide_frames_and_narrows_slowly() {
        let mut gauge = MotionGauge::default();
        assert_eq!(gauge.current(), Motion::Local);
        // A scrolling terminal (720x520 of 1920x1080) stays local.
        for _ in 0..100 {
            assert_eq!(gauge.observe(&[rect(0, 0, 720, 520)], 1920, 1080), None);
        }
        // Two full-screen frames then a small one: not yet a run.
        assert_eq!(gauge.observe(&[rect(0, 0, 1920, 1080)], 1920, 1080), None);
        assert_eq!(gauge.observe(&[rect(0, 0, 1920, 1080)], 1920, 1080), None);
        assert_eq!(gauge.observe(&[rect(0, 0, 64, 64)], 1920, 1080), None);
        // Three in a row switch.
        assert_eq!(gauge.observe(&[rect(0, 0, 1920, 1080)], 1920, 1080), None);
        assert_eq!(gauge.observe(&[rect(0, 0, 1920, 1080)], 1920, 1080), None);
        assert_eq!(gauge.observe(&[rect(0, 0, 1920, 1080)], 1920, 1080), Some(Motion::FullScreen));
        assert_eq!(gauge.current(), Motion::FullScreen);
        // Medium damage keeps it; 29 small frames do not switch back, the 30th does.
        assert_eq!(gauge.observe(&[rect(0, 0, 1000, 700)], 1920, 1080), None);
        for _ in 0..29 {
            assert_eq!(gauge.observe(&[rect(0, 0, 64, 64)], 1920, 1080), None);
        }
        assert_eq!(gauge.observe(&[rect(0, 0, 64, 64)], 1920, 1080), Some(Motion::Local));
        // No surface, no decision.
        assert_eq!(gauge.observe(&[rect(0, 0, 64, 64)], 0, 0), None);
    }
}
