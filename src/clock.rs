//! The one clock: what time it is, what day it is in `TIMEZONE`, and how a time is shown (RFC 3339
//! with the zone's offset, to the second). Times are stored in UTC without a zone; nothing else in
//! the code knows about zones or offsets.
//!
//! A clock can be moved forward (`advance`), which lets the test suite see a pass expire or an
//! hour go by without waiting for it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Clone)]
pub struct Clock {
    zone: Tz,
    /// Milliseconds added to the system time; shared by every copy of this clock.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn new(zone: Tz) -> Self {
        Self {
            zone,
            offset_ms: Arc::new(AtomicI64::new(0)),
        }
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Now, as times are stored.
    pub fn now_naive(&self) -> NaiveDateTime {
        self.now().naive_utc()
    }

    /// Today's date in the zone.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.zone).date_naive()
    }

    /// A stored time as the API shows it: `2026-11-21T10:30:00+08:00`.
    pub fn show(&self, stored: NaiveDateTime) -> String {
        self.show_utc(Utc.from_utc_datetime(&stored))
    }

    pub fn show_utc(&self, time: DateTime<Utc>) -> String {
        rfc3339(&time.with_timezone(&self.zone))
    }

    /// A stored time as a form's local date and time field shows it: `2026-11-21T10:30`.
    pub fn local_input(&self, stored: NaiveDateTime) -> String {
        Utc.from_utc_datetime(&stored)
            .with_timezone(&self.zone)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// A form's local date and time (`2026-11-21T10:30`, seconds optional) as a stored time;
    /// `None` when it is not one, or names a time the zone skips.
    pub fn read_local_input(&self, value: &str) -> Option<NaiveDateTime> {
        let value = value.trim();
        let local = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
            .ok()?;
        self.zone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.naive_utc())
    }

    /// The hour of the day (0–23) of a stored time, in the zone.
    pub fn local_hour(&self, stored: NaiveDateTime) -> u32 {
        use chrono::Timelike;
        Utc.from_utc_datetime(&stored)
            .with_timezone(&self.zone)
            .hour()
    }

    /// The stored times at which a local day begins and ends.
    pub fn day_bounds(&self, date: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        let start = |date: NaiveDate| {
            let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
            self.zone
                .from_local_datetime(&midnight)
                .earliest()
                // No zone skips midnight entirely; fall back to reading it as UTC.
                .map_or(midnight, |t| t.naive_utc())
        };
        (start(date), start(date + Duration::days(1)))
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

/// `2026-11-21T10:30:00+08:00`, written directly: chrono's general formatter reads its format
/// items anew each time, and every door page shows several times.
fn rfc3339(time: &DateTime<Tz>) -> String {
    use chrono::{Datelike, Offset, Timelike};
    use std::fmt::Write;
    let offset = time.offset().fix().local_minus_utc();
    let (sign, offset) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    let mut text = String::with_capacity(25);
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second(),
        offset / 3600,
        offset / 60 % 60,
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_rfc3339_to_the_second() {
        for zone in [
            chrono_tz::Asia::Shanghai,
            chrono_tz::America::St_Johns,
            chrono_tz::UTC,
        ] {
            let clock = Clock::new(zone);
            for seconds in [0i64, 1_700_000_000, 1_795_000_123, -86_400 * 365 * 30] {
                let time = DateTime::from_timestamp(seconds, 999_000_000).unwrap();
                assert_eq!(
                    clock.show_utc(time),
                    time.with_timezone(&zone)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
                );
            }
        }
    }

    #[test]
    fn times_carry_the_zone_offset() {
        let time = Utc.with_ymd_and_hms(2026, 11, 21, 2, 30, 0).unwrap();
        let shanghai = Clock::new(chrono_tz::Asia::Shanghai);
        assert_eq!(shanghai.show_utc(time), "2026-11-21T10:30:00+08:00");
        assert_eq!(shanghai.local_hour(time.naive_utc()), 10);
        let london = Clock::new(chrono_tz::Europe::London);
        assert_eq!(london.show(time.naive_utc()), "2026-11-21T02:30:00+00:00");
    }

    #[test]
    fn a_local_day_starts_at_local_midnight() {
        let clock = Clock::new(chrono_tz::Asia::Shanghai);
        let (start, end) = clock.day_bounds(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(start.to_string(), "2026-11-20 16:00:00");
        assert_eq!(end - start, Duration::days(1));
    }

    #[test]
    fn an_advanced_clock_moves_every_copy() {
        let clock = Clock::new(chrono_tz::Asia::Shanghai);
        let copy = clock.clone();
        let before = copy.now();
        clock.advance(Duration::hours(2));
        assert!(copy.now() - before >= Duration::hours(2));
    }
}
