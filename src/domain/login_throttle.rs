//! Guessing staff passwords is slowed down, then stopped for a while. Counted per username,
//! whether or not the account exists (so the answers reveal nothing about which usernames do),
//! and per client address (so one machine cannot try many usernames). Every attempt is counted
//! before the password is checked; a correct password clears its username's count.

use chrono::{Duration, NaiveDateTime};

/// How one key is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts answered at once.
    pub free: i32,
    /// Attempts within one window that lock the key.
    pub lock_after: i32,
    pub window_minutes: i64,
    pub lock_minutes: i64,
}

/// Per username: three free attempts, then slower answers, locked after ten in 15 minutes.
pub const PER_USERNAME: Policy = Policy {
    free: 3,
    lock_after: 10,
    window_minutes: 15,
    lock_minutes: 15,
};

/// Per client address: many staff may share an office's address, so more attempts are allowed.
pub const PER_ADDRESS: Policy = Policy {
    free: 30,
    lock_after: 30,
    window_minutes: 15,
    lock_minutes: 15,
};

/// The longest a failed attempt is held before its answer.
pub const MAX_DELAY_MS: u64 = 2_000;

/// The stored state of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureState {
    pub failures: i32,
    pub window_started_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
}

/// Seconds until the lock ends, when the key is locked at `now`.
pub fn locked_for(state: Option<&FailureState>, now: NaiveDateTime) -> Option<i64> {
    let until = state?.locked_until?;
    (until > now).then(|| (until - now).num_seconds().max(1))
}

/// The state after one more attempt at `now`.
pub fn after_attempt(
    policy: &Policy,
    state: Option<&FailureState>,
    now: NaiveDateTime,
) -> FailureState {
    let window = Duration::minutes(policy.window_minutes);
    let (failures, window_started_at) = match state {
        Some(s) if now - s.window_started_at < window && locked_for(Some(s), now).is_none() => {
            (s.failures + 1, s.window_started_at)
        }
        _ => (1, now),
    };
    FailureState {
        failures,
        window_started_at,
        locked_until: (failures >= policy.lock_after)
            .then(|| now + Duration::minutes(policy.lock_minutes)),
    }
}

/// How long to hold the answer to the `failures`-th failed attempt: nothing for the free ones,
/// then doubling from half a second.
pub fn delay_ms(policy: &Policy, failures: i32) -> u64 {
    if failures <= policy.free {
        return 0;
    }
    let steps = (failures - policy.free - 1).min(10) as u32;
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
    fn attempts_lock_after_the_limit() {
        let mut state = None;
        for n in 1..=PER_USERNAME.lock_after {
            let next = after_attempt(&PER_USERNAME, state.as_ref(), at(0));
            assert_eq!(next.failures, n);
            assert_eq!(next.locked_until.is_some(), n == PER_USERNAME.lock_after);
            state = Some(next);
        }
        assert_eq!(locked_for(state.as_ref(), at(1)), Some(14 * 60));
        assert_eq!(locked_for(state.as_ref(), at(16)), None);
        // After the lock, counting starts again.
        assert_eq!(
            after_attempt(&PER_USERNAME, state.as_ref(), at(16)).failures,
            1
        );
    }

    #[test]
    fn an_old_window_is_forgotten() {
        let state = after_attempt(&PER_USERNAME, None, at(0));
        assert_eq!(
            after_attempt(&PER_USERNAME, Some(&state), at(14)).failures,
            2
        );
        assert_eq!(
            after_attempt(&PER_USERNAME, Some(&state), at(15)).failures,
            1
        );
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let d = |n| delay_ms(&PER_USERNAME, n);
        assert_eq!((d(1), d(3), d(4), d(5), d(6)), (0, 0, 500, 1000, 2000));
        assert_eq!(d(9), MAX_DELAY_MS);
        assert_eq!(delay_ms(&PER_ADDRESS, 29), 0);
    }
}
