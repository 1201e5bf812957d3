//! An injectable clock: real time plus an offset that tests can move forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The simulator's clock: wall time plus an adjustable offset, or a frozen instant.
#[derive(Debug, Default)]
pub struct SimClock {
    offset_ms: AtomicI64,
    /// When non-zero, the clock is frozen at this many milliseconds since the epoch.
    frozen_ms: AtomicI64,
}

impl SimClock {
    /// A clock that follows wall time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Milliseconds since the Unix epoch, as the simulator sees it.
    pub fn now_ms(&self) -> i64 {
        let frozen = self.frozen_ms.load(Ordering::SeqCst);
        let base = if frozen != 0 {
            frozen
        } else {
            SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
        };
        base.saturating_add(self.offset_ms.load(Ordering::SeqCst))
    }

    /// Seconds since the Unix epoch, as the simulator sees it.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves the clock forward (or backward, with a negative value) by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// Freezes the clock at `epoch_ms` (milliseconds since the epoch); [`SimClock::advance_ms`] still moves it.
    pub fn freeze_at(&self, epoch_ms: i64) {
        self.offset_ms.store(0, Ordering::SeqCst);
        self.frozen_ms.store(epoch_ms.max(1), Ordering::SeqCst);
    }
}

/// Day number (days since the epoch) in China Standard Time (UTC+8), which is how WeCom counts daily quotas.
pub(crate) fn cst_day(epoch_secs: i64) -> i64 {
    (epoch_secs + 8 * 3600).div_euclid(86_400)
}

/// `(year, month)` of a day number, for monthly quotas (civil-from-days, proleptic Gregorian).
pub(crate) fn year_month(day: i64) -> (i64, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(year_month(0), (1970, 1));
        // 2024-02-29 is day 19782.
        assert_eq!(year_month(19_782), (2024, 2));
        assert_eq!(year_month(19_783), (2024, 3));
        // 2024-01-01T00:30+08:00 is still 2023-12-31 in UTC but day 2024-01-01 in China.
        assert_eq!(year_month(cst_day(1_704_040_200)), (2024, 1));
    }

    #[test]
    fn advance_moves_time() {
        let c = SimClock::new();
        c.freeze_at(1_000_000);
        c.advance_ms(5_000);
        assert_eq!(c.now_ms(), 1_005_000);
        assert_eq!(c.now_secs(), 1_005);
    }
}
