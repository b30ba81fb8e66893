//! Guessing staff passwords is slowed down, then stopped for a while. Counted per username,
//! whether or not the account exists, so the answers reveal nothing about which usernames do.

use chrono::{Duration, NaiveDateTime};

/// Failures answered at once.
pub const FREE_FAILURES: i32 = 3;
/// Failures within one window that lock the username.
pub const LOCK_AFTER: i32 = 10;
pub const WINDOW_MINUTES: i64 = 15;
pub const LOCK_MINUTES: i64 = 15;
/// The longest a failed attempt is held before its answer.
pub const MAX_DELAY_MS: u64 = 2_000;

/// The stored state of one username.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureState {
    pub failures: i32,
    pub window_started_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

/// Seconds until the lock ends, when the username is locked at `now`.
pub fn locked_for(state: Option<&FailureState>, now: NaiveDateTime) -> Option<i64> {
    let until = state?.locked_until?;
    (until > now).then(|| (until - now).num_seconds().max(1))
}

/// The state after one more failure at `now`.
pub fn after_failure(state: Option<&FailureState>, now: NaiveDateTime) -> FailureState {
    let window = Duration::minutes(WINDOW_MINUTES);
    let (failures, window_started_at) = match state {
        Some(s) if now - s.window_started_at < window && locked_for(Some(s), now).is_none() => {
            (s.failures + 1, s.window_started_at)
        }
        _ => (1, now),
    };
    FailureState {
        failures,
        window_started_at,
        locked_until: (failures >= LOCK_AFTER).then(|| now + Duration::minutes(LOCK_MINUTES)),
    }
}

/// How long to hold the answer to the `failures`-th failure: nothing for the first few, then
/// doubling from half a second.
pub fn delay_ms(failures: i32) -> u64 {
    if failures <= FREE_FAILURES {
        return 0;
    }
    let steps = (failures - FREE_FAILURES - 1).min(10) as u32;
    (500u64 << steps).min(MAX_DELAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(minute: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(10, minute, 0)
            .unwrap()
    }

    #[test]
    fn failures_slow_down_then_lock() {
        let mut state = None;
        for n in 1..=LOCK_AFTER {
            let next = after_failure(state.as_ref(), at(0));
            assert_eq!(next.failures, n);
            assert_eq!(next.locked_until.is_some(), n == LOCK_AFTER);
            state = Some(next);
        }
        assert_eq!(locked_for(state.as_ref(), at(1)), Some(14 * 60));
        assert_eq!(locked_for(state.as_ref(), at(16)), None);
        // After the lock, counting starts again.
        assert_eq!(after_failure(state.as_ref(), at(16)).failures, 1);
    }

    #[test]
    fn an_old_window_is_forgotten() {
        let state = after_failure(None, at(0));
        assert_eq!(after_failure(Some(&state), at(14)).failures, 2);
        assert_eq!(after_failure(Some(&state), at(15)).failures, 1);
    }

    #[test]
    fn delays_grow_and_are_capped() {
        assert_eq!(delay_ms(1), 0);
        assert_eq!(delay_ms(3), 0);
        assert_eq!(delay_ms(4), 500);
        assert_eq!(delay_ms(5), 1000);
        assert_eq!(delay_ms(6), 2000);
        assert_eq!(delay_ms(9), MAX_DELAY_MS);
    }
}
