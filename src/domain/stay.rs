use chrono::{Duration, NaiveDateTime};

/// The time a person spent at a venue: from check-in to checkout, or to check-in plus the
/// subtype's default stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Stay {
    /// A stay of the default length; a checkout earlier than that ends it early.
    pub fn new(from: NaiveDateTime, default_minutes: u32, left_at: Option<NaiveDateTime>) -> Self {
        let planned = from + Duration::minutes(i64::from(default_minutes));
        let to = match left_at {
            Some(left) if left < planned => left.max(from),
            _ => planned,
        };
        Self { from, to }
    }

    /// The time both stays share, if any. Stays that only touch do not overlap.
    pub fn overlap(&self, other: &Stay) -> Option<Stay> {
        let from = self.from.max(other.from);
        let to = self.to.min(other.to);
        (from < to).then_some(Stay { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(hour: u32, minute: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(hour, minute, 0)
            .unwrap()
    }

    #[test]
    fn a_stay_lasts_the_default_unless_ended_early() {
        assert_eq!(Stay::new(at(10, 0), 120, None).to, at(12, 0));
        assert_eq!(Stay::new(at(10, 0), 120, Some(at(10, 30))).to, at(10, 30));
        assert_eq!(Stay::new(at(10, 0), 120, Some(at(13, 0))).to, at(12, 0));
    }

    #[test]
    fn overlaps() {
        let case = Stay {
            from: at(10, 0),
            to: at(12, 0),
        };
        let b = Stay::new(at(11, 30), 120, None);
        assert_eq!(
            case.overlap(&b),
            Some(Stay {
                from: at(11, 30),
                to: at(12, 0)
            })
        );
        let c = Stay::new(at(12, 30), 60, None);
        assert_eq!(case.overlap(&c), None);
        let touching = Stay::new(at(12, 0), 60, None);
        assert_eq!(case.overlap(&touching), None);
        let left_early = Stay::new(at(9, 0), 120, Some(at(9, 59)));
        assert_eq!(case.overlap(&left_early), None);
    }
}
