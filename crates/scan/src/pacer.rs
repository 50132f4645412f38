//! The scan's bound on connections: a minimum interval between two connection starts (the
//! rate) and a total. Pure; the edge asks before each connection and sleeps what it is
//! told.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted {
    pub max: u32,
}

#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    max: u32,
    used: u32,
    next: Option<Instant>,
}

impl Pacer {
    /// At most `per_second` connection starts per second (at least one), `max` in all.
    pub fn new(per_second: u32, max: u32) -> Self {
        let per_second = per_second.max(1);
        Pacer { interval: Duration::from_secs(1) / per_second, max, used: 0, next: None }
    }

    /// Books the next connection: how long to wait before starting it, or `Exhausted`.
    pub fn admit(&mut self, now: Instant) -> Result<Duration, Exhausted> {
        if self.used >= self.max {
            return Err(Exhausted { max: self.max });
        }
        let start = match self.next {
            Some(next) if next > now => next,
            _ => now,
        };
        self.used += 1;
        self.next = Some(start + self.interval);
        Ok(start - now)
    }

    pub fn used(&self) -> u32 {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_connections_and_stops_at_the_total() {
        let t0 = Instant::now();
        let mut p = Pacer::new(4, 3);
        assert_eq!(p.admit(t0), Ok(Duration::ZERO));
        // Immediately again: wait a quarter second.
        assert_eq!(p.admit(t0), Ok(Duration::from_millis(250)));
        // Later than the booked slot: no wait.
        assert_eq!(p.admit(t0 + Duration::from_secs(2)), Ok(Duration::ZERO));
        assert_eq!(p.admit(t0 + Duration::from_secs(3)), Err(Exhausted { max: 3 }));
        assert_eq!(p.used(), 3);
    }

    #[test]
    fn a_zero_rate_is_one_per_second() {
        let t0 = Instant::now();
        let mut p = Pacer::new(0, 10);
        p.admit(t0).unwrap();
        assert_eq!(p.admit(t0), Ok(Duration::from_secs(1)));
    }
}
