//! Time as a door: what watchers, waits and phases read as "now" and how they pause, so
//! tests can run a whole `up` or `step` in-process against a clock that never sleeps.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The clock everything that waits goes through.
pub trait Clock: Sync {
    /// A monotonic "now", for deadlines and durations.
    fn now(&self) -> Instant;
    /// The wall-clock time, for what is written down (state, reports).
    fn wall(&self) -> SystemTime;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration);
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock for tests: `sleep` returns at once and moves time on by what was asked, so a
/// ten-minute watch takes microseconds and every deadline is reached in order.
#[derive(Debug)]
pub struct FakeClock {
    start: Instant,
    wall_start: SystemTime,
    elapsed: Mutex<Duration>,
}

impl FakeClock {
    /// A clock standing at `wall_start` (monotonic time starts at the real "now").
    pub fn at(wall_start: SystemTime) -> Self {
        Self {
            start: Instant::now(),
            wall_start,
            elapsed: Mutex::new(Duration::ZERO),
        }
    }

    /// How much time has passed on this clock.
    pub fn elapsed(&self) -> Duration {
        *self
            .elapsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Moves time on without anyone sleeping (a scripted command that "took" a while).
    pub fn advance(&self, by: Duration) {
        let mut elapsed = self
            .elapsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *elapsed = elapsed.saturating_add(by);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn wall(&self) -> SystemTime {
        self.wall_start + self.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        self.advance(duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fake_sleep_moves_both_clocks_on_and_returns_at_once() {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = FakeClock::at(wall);
        let before = clock.now();
        let real = Instant::now();
        clock.sleep(Duration::from_secs(600));
        assert!(real.elapsed() < Duration::from_secs(1));
        assert_eq!(clock.now() - before, Duration::from_secs(600));
        assert_eq!(clock.wall(), wall + Duration::from_secs(600));
    }
}
