//! Times as the API shows them: RFC 3339 with the offset of the configured zone, to the second.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

pub fn rfc3339(time: DateTime<Utc>, zone: Tz) -> String {
    time.with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The same for a UTC time as stored in the database.
pub fn rfc3339_stored(time: NaiveDateTime, zone: Tz) -> String {
    rfc3339(Utc.from_utc_datetime(&time), zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_carry_the_zone_offset() {
        let time = Utc.with_ymd_and_hms(2026, 11, 21, 2, 30, 0).unwrap();
        assert_eq!(
            rfc3339(time, chrono_tz::Asia::Shanghai),
            "2026-11-21T10:30:00+08:00"
        );
        assert_eq!(
            rfc3339_stored(time.naive_utc(), chrono_tz::Europe::London),
            "2026-11-21T02:30:00+00:00"
        );
    }
}
