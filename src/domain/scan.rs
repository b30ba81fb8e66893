//! The scan's rules, as plain functions over values, in the order a scan meets them. Open this
//! first: `services/scan/` applies them in this order and does nothing else but fetch the values
//! they need (from memory, or the database) and hand the rows to the check-in writer
//! (`db/check_in_writer.rs`), which batches, locks, reads what an entry repeats and what its
//! account recorded in the hour, asks [`decide`] what becomes of each entry, and writes.
//!
//! The numbers are those of the README's list ("The scan").
//!
//! 1. The code's signature: `crypto/venue_code.rs` (a forged code costs no database work); the
//!    request's own fields at the edge, the companions asked for by [`companion_ids`].
//! 2. The entry time: [`entry_time`] (an offline scan's own time within the offline window).
//! 3. The entrance and its venue: [`admit_code`] (the code's version, the entrance open, the venue
//!    approved and not suspended); at the door, [`admit_door`].
//! 4. Consent: `services/accounts.rs` (`consented_snapshot`, shared with every use case that
//!    needs the three elements).
//! 5. The distance: [`distance`].
//! 6. Each companion: [`companion`].
//! 7. Each person's verdict: [`verdict`] (colour, fever, a required recent test).
//! 8. Repeats: [`repeats_near`] and [`decide`].
//! 9. The hourly limit: [`HourlyLimit`] and [`decide`].
//! 10. The rows' alert and follow-up: [`raises_alert`], [`followed_up`].
//! 11. The door's notice: [`door_notice`] (the page itself: `services/scan/page.rs`).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc};

use super::{
    test_required_notice, CheckInSource, CompanionRule, FieldCode, FieldError, HealthColor,
    MapPoint, PersonHealth, Temperature, TestResult, TransportKind, VenueStatus, Verdict,
};

/// A scan at the same entrance within this time returns the earlier check-in.
pub const REPEAT_WINDOW: Duration = Duration::seconds(60);
/// A client clock this far ahead of ours still counts as now.
pub const CLOCK_SKEW: Duration = Duration::seconds(120);
/// Companions one account may have, and bring along in one scan.
pub const MAX_COMPANIONS: usize = 5;

/// The rules of a scan that a deployment may tune.
#[derive(Debug, Clone)]
pub struct ScanPolicy {
    /// A located scan farther than this from the venue's map point is refused (vehicles exempt).
    pub max_distance_m: u32,
    /// A scan without a location is refused (vehicles exempt), so that leaving the location out
    /// does not skip the distance check (`REQUIRE_SCAN_LOCATION`).
    pub require_location: bool,
    /// How far back an offline scan's own time may lie.
    pub offline_window_hours: u32,
    /// Check-ins one account may make in an hour.
    pub hourly_limit: u32,
    /// People one venue staff account may register at the door (by hand or paper code) in an hour.
    pub door_hourly_limit: u32,
    /// The colour of a person with none on record.
    pub unknown_color: HealthColor,
    /// A temperature taken at the door from this reading up turns the person away (`FEVER_FROM_C`).
    pub fever_from: Temperature,
    pub companions: CompanionRule,
    /// Lifetime of the pass token shown at the door.
    pub pass_ttl_seconds: u32,
}

/// What the scan needs to know about an entrance and its venue, so that a scan needs no venue
/// query at all (kept in memory by `cache/`).
#[derive(Debug, Clone)]
pub struct EntranceSnapshot {
    pub entrance_id: i64,
    pub entrance_name: String,
    pub code_version: i32,
    pub open: bool,
    pub venue_id: i64,
    pub venue_name: String,
    pub venue_status: VenueStatus,
    /// Suspended by a reviewer or registrar: no check-ins until resumed.
    pub suspended: bool,
    /// Province to street, for the door page.
    pub full_address: String,
    /// `生活购物场所 · 超市`.
    pub category_label: String,
    pub region_code: String,
    pub default_stay_minutes: u32,
    pub transport: Option<TransportKind>,
    pub location: Option<MapPoint>,
    /// A negative nucleic-acid result sampled within this many hours is required to pass.
    pub test_required_hours: Option<u32>,
}

/// Why a rule refused the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the code was replaced or its entrance closed")]
    Revoked,
    #[error("the venue is not approved")]
    NotActive,
    #[error("the entrance is closed")]
    EntranceClosed,
    #[error("the venue is suspended")]
    Suspended,
    /// `REQUIRE_SCAN_LOCATION` is on and the scan came without a location.
    #[error("the scan came without a location")]
    LocationRequired,
    #[error("the scan was made {distance_m} m from the venue")]
    TooFar {
        distance_m: i64,
        max_distance_m: u32,
    },
    #[error("companion {0} is not one of the account's")]
    CompanionNotFound(i64),
    #[error("companion {0} has an account of their own and has not accepted")]
    CompanionNotAccepted(i64),
    #[error("companion {0} is neither a child nor elderly")]
    CompanionNotEligible(i64, CompanionRule),
}

/// Rule 1. The companions asked for are distinct and at most [`MAX_COMPANIONS`].
pub fn companion_ids(ids: &[i64]) -> Result<(), FieldError> {
    let mut seen = std::collections::HashSet::new();
    if ids.len() > MAX_COMPANIONS || !ids.iter().all(|id| seen.insert(*id)) {
        return Err(FieldError::new(
            FieldCode::CompanionIdsInvalid,
            "同行人员不能重复，且最多5人",
        ));
    }
    Ok(())
}

/// When the entry happened, by the client's clock when it scanned offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryTime {
    pub scanned_at: NaiveDateTime,
    pub offline: bool,
}

impl EntryTime {
    pub fn now(now: DateTime<Utc>) -> Self {
        Self {
            scanned_at: now.naive_utc(),
            offline: false,
        }
    }
}

/// Rule 2. The entry time: now, or a client's (or a paper sheet's) own time, which may not lie in
/// the future (beyond [`CLOCK_SKEW`]) nor before the offline window.
pub fn entry_time(
    now: DateTime<Utc>,
    client_time: Option<DateTime<FixedOffset>>,
    offline_window_hours: u32,
) -> Result<EntryTime, FieldError> {
    let Some(time) = client_time else {
        return Ok(EntryTime::now(now));
    };
    let time = time.with_timezone(&Utc);
    if time > now + CLOCK_SKEW {
        return Err(FieldError::new(
            FieldCode::ScannedAtFuture,
            "扫码时间不能晚于现在",
        ));
    }
    if time < now - Duration::hours(i64::from(offline_window_hours)) {
        return Err(FieldError::new(
            FieldCode::ScannedAtTooOld,
            format!("离线扫码记录须在{offline_window_hours}小时内上传"),
        ));
    }
    Ok(EntryTime {
        scanned_at: time.naive_utc().min(now.naive_utc()),
        offline: time < now - CLOCK_SKEW,
    })
}

/// Rule 3. A scanned code of `code_version` admits to the entrance while it is the entrance's
/// current code, the entrance open, and the venue approved and not suspended.
pub fn admit_code(entrance: &EntranceSnapshot, code_version: i32) -> Result<(), Refusal> {
    if code_version != entrance.code_version || !entrance.open {
        return Err(Refusal::Revoked);
    }
    venue_admits(entrance)
}

/// Rule 3. Venue staff register people at an entrance while it is open and its venue approved and
/// not suspended.
pub fn admit_door(entrance: &EntranceSnapshot) -> Result<(), Refusal> {
    if !entrance.open {
        return Err(Refusal::EntranceClosed);
    }
    venue_admits(entrance)
}

fn venue_admits(entrance: &EntranceSnapshot) -> Result<(), Refusal> {
    if entrance.venue_status != VenueStatus::Approved {
        return Err(Refusal::NotActive);
    }
    if entrance.suspended {
        return Err(Refusal::Suspended);
    }
    Ok(())
}

/// Rule 5. A located scan farther from the venue than `max_distance_m` is refused, and with
/// `require_location` one without a location; vehicles are exempt from both. The distance in
/// metres, when both points are known.
pub fn distance(
    policy: &ScanPolicy,
    entrance: &EntranceSnapshot,
    location: Option<MapPoint>,
) -> Result<Option<i32>, Refusal> {
    let vehicle = entrance.transport == Some(TransportKind::Vehicle);
    if location.is_none() && policy.require_location && !vehicle {
        return Err(Refusal::LocationRequired);
    }
    let (Some(scan), Some(venue)) = (location, entrance.location) else {
        return Ok(None);
    };
    let distance = scan.distance_m(&venue);
    let max = policy.max_distance_m;
    if !vehicle && distance > f64::from(max) {
        return Err(Refusal::TooFar {
            distance_m: distance.round() as i64,
            max_distance_m: max,
        });
    }
    Ok(Some(distance.round().min(f64::from(i32::MAX)) as i32))
}

/// What the account holds of a companion it asks to bring.
#[derive(Debug, Clone, Copy)]
pub struct CompanionOnFile {
    /// A companion with an account of their own has accepted being one.
    pub accepted: bool,
    pub birth_date: Option<NaiveDate>,
}

/// Rule 6. A companion is the account's own (`found`), has accepted, and is a child or elderly
/// today.
pub fn companion(
    id: i64,
    found: Option<CompanionOnFile>,
    rule: CompanionRule,
    today: NaiveDate,
) -> Result<(), Refusal> {
    let companion = found.ok_or(Refusal::CompanionNotFound(id))?;
    if !companion.accepted {
        return Err(Refusal::CompanionNotAccepted(id));
    }
    if !companion
        .birth_date
        .is_some_and(|born| rule.is_eligible(born, today))
    {
        return Err(Refusal::CompanionNotEligible(id, rule));
    }
    Ok(())
}

/// Why the door turned a person away, if not for their colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The colour decides (green passes).
    Colour,
    /// A temperature of `FEVER_FROM_C` or more.
    Fever,
    /// The venue requires a recent negative result and there is none.
    NoRecentTest,
}

/// Rule 7. A person's verdict at this door at `at`: their colour's; for a colour that passes, deny
/// with a fever, or where the venue requires a recent negative result and there is none sampled
/// within its hours.
pub fn verdict(
    fever_from: Temperature,
    test_required_hours: Option<u32>,
    health: &PersonHealth,
    at: NaiveDateTime,
    temperature: Option<Temperature>,
) -> (Verdict, Cause) {
    let by_color = health.color.color.verdict();
    if by_color != Verdict::Pass {
        return (by_color, Cause::Colour);
    }
    if temperature.is_some_and(|t| t >= fever_from) {
        return (Verdict::Deny, Cause::Fever);
    }
    if let Some(hours) = test_required_hours {
        let fresh = health.test.is_some_and(|t| {
            t.result == TestResult::Negative
                && t.sampled_at >= at - Duration::hours(i64::from(hours))
        });
        if !fresh {
            return (Verdict::Deny, Cause::NoRecentTest);
        }
    }
    (Verdict::Pass, Cause::Colour)
}

/// Rule 9. How many entries of which sources an account may record in the hour before now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourlyLimit {
    pub sources: &'static [CheckInSource],
    pub per_hour: u32,
    /// An hour before now.
    pub since: NaiveDateTime,
    /// The earliest entry time a row recorded since `since` can have (offline scans lie back).
    pub scanned_since: NaiveDateTime,
}

impl HourlyLimit {
    /// The limit of the recording account: its own scans, or its door check-ins
    /// (manual check-ins and paper scans together).
    pub fn of(policy: &ScanPolicy, source: CheckInSource, now: NaiveDateTime) -> Self {
        let (sources, per_hour): (&'static [CheckInSource], u32) = match source {
            CheckInSource::Scan => (&[CheckInSource::Scan], policy.hourly_limit),
            CheckInSource::Manual | CheckInSource::Paper => (
                &[CheckInSource::Manual, CheckInSource::Paper],
                policy.door_hourly_limit,
            ),
        };
        let since = now - Duration::hours(1);
        HourlyLimit {
            sources,
            per_hour,
            since,
            scanned_since: since
                - Duration::hours(i64::from(policy.offline_window_hours))
                - CLOCK_SKEW,
        }
    }
}

/// How far the past entries of each group of sources (scans; door check-ins) need counting for
/// these limits: to the largest of them. A count that reached its limit decides as well as the
/// whole count would, so counting may stop there.
pub fn count_caps<'a>(limits: impl IntoIterator<Item = &'a HourlyLimit>) -> (u32, u32) {
    limits
        .into_iter()
        .fold((0, 0), |(scans, door), limit| match limit.sources {
            [CheckInSource::Scan] => (scans.max(limit.per_hour), door),
            _ => (scans, door.max(limit.per_hour)),
        })
}

/// Rule 8. Whether two entries, each given as (`entrance_id`, `scanned_at`), are close enough
/// for the later to repeat the earlier: a check-in already written, or one earlier in the batch.
pub fn repeats_near(written: (i64, NaiveDateTime), entry: (i64, NaiveDateTime)) -> bool {
    written.0 == entry.0 && (written.1 - entry.1).abs() <= REPEAT_WINDOW
}

/// One entry of a batch as the rules see it: who recorded it, where and when, the people in it
/// (the one whose entry it is first), what it may repeat and what its account recorded before.
#[derive(Debug, Clone)]
pub struct Pending {
    pub account_id: i64,
    pub source: CheckInSource,
    pub entrance_id: i64,
    pub scanned_at: NaiveDateTime,
    pub people: Vec<i64>,
    pub limit: HourlyLimit,
    /// The latest entry already written of the first person at this entrance within the repeat
    /// window: its group and its people, in order.
    pub earlier: Option<(i64, Vec<i64>)>,
    /// Entries of the limit's sources the account recorded within the hour, before this batch.
    pub past: i64,
}

/// What becomes of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    New,
    /// A repeat of an entry written earlier (its group).
    RepeatOfGroup(i64),
    /// A repeat of an entry earlier in this batch (its index).
    RepeatInBatch(usize),
    LimitReached,
}

/// Rule 8–9. Decides each entry of a batch in order: the same people at the same entrance within a
/// minute repeat the earlier entry (written before, or earlier in the batch); otherwise an
/// account that used its hourly limit (counting what the batch records before) is refused; a
/// repeat does not count.
pub fn decide(entries: &[Pending]) -> Vec<Decision> {
    let mut decisions: Vec<Decision> = Vec::with_capacity(entries.len());
    let mut in_batch: std::collections::HashMap<(i64, CheckInSource), i64> =
        std::collections::HashMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let decision = if let Some((group, _)) = entry
            .earlier
            .as_ref()
            .filter(|(_, people)| *people == entry.people)
        {
            Decision::RepeatOfGroup(*group)
        } else if let Some(earlier) = (0..index).rev().find(|&i| {
            decisions[i] == Decision::New
                && entries[i].people == entry.people
                && repeats_near(
                    (entries[i].entrance_id, entries[i].scanned_at),
                    (entry.entrance_id, entry.scanned_at),
                )
        }) {
            Decision::RepeatInBatch(earlier)
        } else {
            let recorded: i64 = entry
                .limit
                .sources
                .iter()
                .map(|source| {
                    in_batch
                        .get(&(entry.account_id, *source))
                        .copied()
                        .unwrap_or(0)
                })
                .sum();
            if entry.past + recorded >= i64::from(entry.limit.per_hour) {
                Decision::LimitReached
            } else {
                *in_batch
                    .entry((entry.account_id, entry.source))
                    .or_default() += 1;
                Decision::New
            }
        };
        decisions.push(decision);
    }
    decisions
}

/// Rule 10. A red person recorded at a venue raises an alert for the health officials of its
/// region.
pub fn raises_alert(color: HealthColor) -> bool {
    color == HealthColor::Red
}

/// Rule 10. Yellow and red people recorded at a venue are followed up by the community of its
/// region.
pub fn followed_up(color: HealthColor) -> bool {
    color != HealthColor::Green
}

/// Rule 11. The door's notice: the worst verdict's, unless everyone turned away was turned away for
/// a fever or for want of a recent negative result; then that reason, the fever first.
pub fn door_notice(
    fever_from: Temperature,
    test_required_hours: Option<u32>,
    verdict: Verdict,
    causes: &[(Verdict, Cause, Option<Temperature>)],
) -> String {
    let denied = || causes.iter().filter(|(v, ..)| *v == verdict);
    if verdict != Verdict::Deny || denied().any(|(_, cause, _)| *cause == Cause::Colour) {
        return verdict.notice().to_owned();
    }
    if let Some(t) = denied().find_map(|(_, cause, t)| (*cause == Cause::Fever).then_some(*t)?) {
        return format!(
            "体温{}℃，达到{}℃及以上，请勿进入，请做好防护并前往就近发热门诊就诊。",
            t.shown(),
            fever_from.shown()
        );
    }
    match test_required_hours {
        Some(hours) => test_required_notice(hours),
        None => verdict.notice().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::domain::{CurrentColor, TestOnRecord};

    fn policy() -> ScanPolicy {
        ScanPolicy {
            max_distance_m: 1000,
            require_location: false,
            offline_window_hours: 24,
            hourly_limit: 2,
            door_hourly_limit: 120,
            unknown_color: HealthColor::Green,
            fever_from: Temperature::parse(37.3).unwrap(),
            companions: CompanionRule::default(),
            pass_ttl_seconds: 180,
        }
    }

    fn entrance() -> EntranceSnapshot {
        EntranceSnapshot {
            entrance_id: 7,
            entrance_name: "东门".into(),
            code_version: 2,
            open: true,
            venue_id: 3,
            venue_name: "超市".into(),
            venue_status: VenueStatus::Approved,
            suspended: false,
            full_address: "湖南省".into(),
            category_label: "生活购物场所 · 超市".into(),
            region_code: "431025".into(),
            default_stay_minutes: 60,
            transport: None,
            location: Some(MapPoint::parse(25.0, 112.0).unwrap()),
            test_required_hours: None,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2022, 5, 1, 8, 0, 0).unwrap()
    }

    fn at(minutes: i64) -> NaiveDateTime {
        now().naive_utc() + Duration::minutes(minutes)
    }

    fn health(color: HealthColor, test: Option<(TestResult, NaiveDateTime)>) -> PersonHealth {
        PersonHealth {
            color: CurrentColor {
                color,
                updated_at: None,
            },
            test: test.map(|(result, sampled_at)| TestOnRecord { result, sampled_at }),
            vaccination: None,
        }
    }

    #[test]
    fn companions_asked_are_distinct_and_at_most_five() {
        assert!(companion_ids(&[1, 2, 3, 4, 5]).is_ok());
        assert!(companion_ids(&[1, 2, 3, 4, 5, 6]).is_err());
        assert_eq!(
            companion_ids(&[1, 1]).unwrap_err().code,
            "companion_ids_invalid"
        );
    }

    #[test]
    fn an_offline_time_lies_within_the_window_and_not_ahead() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        assert_eq!(entry_time(now(), None, 24).unwrap(), EntryTime::now(now()));
        let hour_ago = (now() - Duration::hours(1)).with_timezone(&offset);
        let offline = entry_time(now(), Some(hour_ago), 24).unwrap();
        assert!(offline.offline);
        assert_eq!(offline.scanned_at, at(-60));
        // A clock a minute ahead counts as now, not offline.
        let ahead = (now() + Duration::minutes(1)).with_timezone(&offset);
        assert_eq!(
            entry_time(now(), Some(ahead), 24).unwrap(),
            EntryTime::now(now())
        );
        let future = (now() + Duration::minutes(5)).with_timezone(&offset);
        assert_eq!(
            entry_time(now(), Some(future), 24).unwrap_err().code,
            "scanned_at_future"
        );
        let old = (now() - Duration::hours(25)).with_timezone(&offset);
        assert_eq!(
            entry_time(now(), Some(old), 24).unwrap_err().code,
            "scanned_at_too_old"
        );
    }

    #[test]
    fn a_code_admits_while_current_open_approved_and_not_suspended() {
        assert_eq!(admit_code(&entrance(), 2), Ok(()));
        assert_eq!(admit_code(&entrance(), 1), Err(Refusal::Revoked));
        let closed = EntranceSnapshot {
            open: false,
            ..entrance()
        };
        assert_eq!(admit_code(&closed, 2), Err(Refusal::Revoked));
        assert_eq!(admit_door(&closed), Err(Refusal::EntranceClosed));
        let pending = EntranceSnapshot {
            venue_status: VenueStatus::Pending,
            ..entrance()
        };
        assert_eq!(admit_code(&pending, 2), Err(Refusal::NotActive));
        let suspended = EntranceSnapshot {
            suspended: true,
            ..entrance()
        };
        assert_eq!(admit_door(&suspended), Err(Refusal::Suspended));
    }

    #[test]
    fn a_located_scan_far_away_is_refused_except_in_a_vehicle() {
        let near = MapPoint::parse(25.001, 112.0).unwrap();
        let far = MapPoint::parse(25.1, 112.0).unwrap();
        assert_eq!(distance(&policy(), &entrance(), None), Ok(None));
        assert_eq!(distance(&policy(), &entrance(), Some(near)), Ok(Some(111)));
        assert!(matches!(
            distance(&policy(), &entrance(), Some(far)),
            Err(Refusal::TooFar {
                max_distance_m: 1000,
                ..
            })
        ));
        let required = ScanPolicy {
            require_location: true,
            ..policy()
        };
        assert_eq!(
            distance(&required, &entrance(), None),
            Err(Refusal::LocationRequired)
        );
        let bus = EntranceSnapshot {
            transport: Some(TransportKind::Vehicle),
            ..entrance()
        };
        assert_eq!(distance(&required, &bus, None), Ok(None));
        assert!(distance(&policy(), &bus, Some(far)).unwrap().unwrap() > 1000);
    }

    #[test]
    fn a_companion_is_the_accounts_accepted_and_a_child_or_elderly() {
        let rule = CompanionRule::default();
        let today = NaiveDate::from_ymd_opt(2022, 5, 1).unwrap();
        let child = CompanionOnFile {
            accepted: true,
            birth_date: NaiveDate::from_ymd_opt(2015, 1, 1),
        };
        assert_eq!(companion(4, Some(child), rule, today), Ok(()));
        assert_eq!(
            companion(4, None, rule, today),
            Err(Refusal::CompanionNotFound(4))
        );
        let waiting = CompanionOnFile {
            accepted: false,
            ..child
        };
        assert_eq!(
            companion(4, Some(waiting), rule, today),
            Err(Refusal::CompanionNotAccepted(4))
        );
        let adult = CompanionOnFile {
            accepted: true,
            birth_date: NaiveDate::from_ymd_opt(1990, 1, 1),
        };
        assert_eq!(
            companion(4, Some(adult), rule, today),
            Err(Refusal::CompanionNotEligible(4, rule))
        );
        let unknown_age = CompanionOnFile {
            accepted: true,
            birth_date: None,
        };
        assert!(companion(4, Some(unknown_age), rule, today).is_err());
    }

    #[test]
    fn the_verdict_is_the_colours_then_fever_then_a_required_test() {
        let fever = policy().fever_from;
        let hot = Some(Temperature::parse(38.0).unwrap());
        let green = health(HealthColor::Green, None);
        assert_eq!(
            verdict(fever, None, &green, at(0), None),
            (Verdict::Pass, Cause::Colour)
        );
        assert_eq!(
            verdict(fever, None, &health(HealthColor::Red, None), at(0), hot),
            (Verdict::Isolate, Cause::Colour)
        );
        assert_eq!(
            verdict(fever, None, &green, at(0), hot),
            (Verdict::Deny, Cause::Fever)
        );
        assert_eq!(
            verdict(fever, Some(48), &green, at(0), None),
            (Verdict::Deny, Cause::NoRecentTest)
        );
        let tested = health(
            HealthColor::Green,
            Some((TestResult::Negative, at(-47 * 60))),
        );
        assert_eq!(
            verdict(fever, Some(48), &tested, at(0), None),
            (Verdict::Pass, Cause::Colour)
        );
        let stale = health(
            HealthColor::Green,
            Some((TestResult::Negative, at(-49 * 60))),
        );
        assert_eq!(
            verdict(fever, Some(48), &stale, at(0), None).0,
            Verdict::Deny
        );
    }

    fn pending(account_id: i64, people: &[i64], minute: i64) -> Pending {
        Pending {
            account_id,
            source: CheckInSource::Scan,
            entrance_id: 7,
            scanned_at: at(minute),
            people: people.to_vec(),
            limit: HourlyLimit::of(&policy(), CheckInSource::Scan, at(minute)),
            earlier: None,
            past: 0,
        }
    }

    #[test]
    fn the_same_people_within_a_minute_repeat_and_do_not_count() {
        let written_before = Pending {
            earlier: Some((40, vec![1, 2])),
            ..pending(9, &[1, 2], 0)
        };
        let other_people = Pending {
            earlier: Some((40, vec![1])),
            ..pending(9, &[1, 2], 0)
        };
        let decisions = decide(&[
            written_before,
            other_people,
            pending(9, &[1, 2], 0),
            pending(9, &[1, 2], 1),
            pending(9, &[1, 2], 5),
            pending(9, &[1, 2], 10),
        ]);
        assert_eq!(
            decisions,
            vec![
                Decision::RepeatOfGroup(40),
                Decision::New,
                Decision::RepeatInBatch(1),
                // Within a minute of the new entry it repeats (not of the repeat).
                Decision::RepeatInBatch(1),
                Decision::New,
                // The hourly limit of two: the two new entries used it, the repeats did not.
                Decision::LimitReached,
            ]
        );
    }

    #[test]
    fn the_hourly_limit_counts_the_past_and_the_batch_per_account_and_source() {
        // Account 9 recorded one entry within the hour before this batch.
        let of_nine = |person| Pending {
            past: 1,
            ..pending(9, &[person], 0)
        };
        let decisions = decide(&[of_nine(1), of_nine(2), pending(8, &[3], 0)]);
        assert_eq!(
            decisions,
            vec![Decision::New, Decision::LimitReached, Decision::New]
        );
        // The door counts manual check-ins and paper codes together, not scans.
        let door = HourlyLimit::of(&policy(), CheckInSource::Paper, at(0));
        assert_eq!(door.sources, &[CheckInSource::Manual, CheckInSource::Paper]);
        assert_eq!(door.per_hour, 120);
        assert_eq!(door.since, at(-60));
        assert_eq!(door.scanned_since, at(-60 - 24 * 60 - 2));
    }

    #[test]
    fn a_past_counted_only_up_to_the_largest_limit_decides_as_the_whole_count() {
        let scan = HourlyLimit::of(&policy(), CheckInSource::Scan, at(0));
        let door = HourlyLimit::of(&policy(), CheckInSource::Manual, at(0));
        assert_eq!(count_caps([&scan, &door, &scan]), (2, 120));
        assert_eq!(count_caps([&scan]), (2, 0));
        // Far past the limit or just at it, the decision is the same.
        for past in [2, 3, 1_000] {
            let counted = past.min(i64::from(count_caps([&scan]).0));
            let whole = decide(&[Pending {
                past,
                ..pending(9, &[1], 0)
            }]);
            let capped = decide(&[Pending {
                past: counted,
                ..pending(9, &[1], 0)
            }]);
            assert_eq!(whole, capped);
            assert_eq!(capped, vec![Decision::LimitReached]);
        }
    }

    #[test]
    fn red_raises_an_alert_and_yellow_and_red_are_followed_up() {
        assert!(raises_alert(HealthColor::Red));
        assert!(!raises_alert(HealthColor::Yellow));
        assert!(followed_up(HealthColor::Yellow));
        assert!(!followed_up(HealthColor::Green));
    }

    #[test]
    fn the_notice_names_the_fever_or_the_test_only_when_they_alone_turned_people_away() {
        let fever = policy().fever_from;
        let hot = Some(Temperature::parse(38.2).unwrap());
        let notice = door_notice(
            fever,
            Some(48),
            Verdict::Deny,
            &[
                (Verdict::Deny, Cause::NoRecentTest, None),
                (Verdict::Deny, Cause::Fever, hot),
            ],
        );
        assert!(notice.starts_with("体温38.2℃，达到37.3℃"), "{notice}");
        assert_eq!(
            door_notice(
                fever,
                Some(48),
                Verdict::Deny,
                &[(Verdict::Deny, Cause::NoRecentTest, None)]
            ),
            test_required_notice(48)
        );
        assert_eq!(
            door_notice(
                fever,
                Some(48),
                Verdict::Deny,
                &[
                    (Verdict::Deny, Cause::Colour, None),
                    (Verdict::Deny, Cause::Fever, hot)
                ]
            ),
            Verdict::Deny.notice()
        );
    }
}
