//! A window of time asked of the records: it ends after it starts, spans at most the retention
//! period, and starts inside it. Records older than the retention period are waiting only for the
//! purge; no query may read them in the meantime.

use chrono::{Duration, NaiveDateTime};

use super::{FieldCode, FieldError, FieldErrors};

/// What the retention period keeps readable at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retained {
    /// `RETENTION_DAYS`.
    pub days: u32,
    /// The oldest moment still readable: now less the retention period.
    pub since: NaiveDateTime,
}

impl Retained {
    pub fn at(now: NaiveDateTime, days: u32) -> Self {
        Self {
            days,
            since: now - Duration::days(i64::from(days)),
        }
    }

    /// Checks a window whose times were read already (`None` for one that was not readable).
    /// `what` names the query in messages (`查询`, `追踪`). Every bad field is added to `errors`.
    pub fn check(
        self,
        errors: &mut FieldErrors,
        from: Option<NaiveDateTime>,
        to: Option<NaiveDateTime>,
        what: &str,
    ) -> Option<(NaiveDateTime, NaiveDateTime)> {
        let (from, to) = (from?, to?);
        let days = self.days;
        if to <= from {
            errors.add(
                "to",
                FieldError::new(FieldCode::RangeInvalid, "结束时间应晚于开始时间"),
            );
        } else if to - from > Duration::days(i64::from(days)) {
            errors.add(
                "from",
                FieldError::new(
                    FieldCode::RangeTooLong,
                    format!("{what}时段最长{days}天（数据保存期限）"),
                ),
            );
        } else if to > self.since + Duration::days(i64::from(days) + 1) {
            errors.add(
                "to",
                FieldError::new(FieldCode::RangeInFuture, "结束时间不能晚于明天"),
            );
        } else if from < self.since {
            errors.add(
                "from",
                FieldError::new(
                    FieldCode::RangeOutsideRetention,
                    format!("{what}时段须在最近{days}天内（数据保存期限）"),
                ),
            );
        } else {
            return Some((from, to));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    fn check(from: NaiveDateTime, to: NaiveDateTime) -> Result<(), String> {
        let mut errors = FieldErrors::default();
        let retained = Retained::at(at(29, 12), 28);
        match retained.check(&mut errors, Some(from), Some(to), "查询") {
            Some(_) => Ok(()),
            None => Err(errors.iter().map(|(_, e)| e.code.as_str()).collect()),
        }
    }

    #[test]
    fn a_window_inside_the_retention_period_is_read() {
        assert_eq!(check(at(1, 12), at(2, 12)), Ok(()));
        assert_eq!(check(at(1, 12), at(29, 12)), Ok(()));
    }

    #[test]
    fn a_window_that_starts_before_the_retention_period_is_refused() {
        assert_eq!(
            check(at(1, 11), at(1, 15)),
            Err("range_outside_retention".into())
        );
    }

    #[test]
    fn backwards_and_overlong_windows_are_refused() {
        assert_eq!(check(at(3, 12), at(2, 12)), Err("range_invalid".into()));
        assert_eq!(check(at(1, 12), at(29, 13)), Err("range_too_long".into()));
    }
}
