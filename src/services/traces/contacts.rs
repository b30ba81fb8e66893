//! The contact search: everyone who shared a venue with a case: for each of the case's stays in the window,
//! every other person whose stay at the same venue (any entrance) overlapped it, with the overlap.
//! At depth 2, the same again from each contact's stays, reported as a second level.
//!
//! Officials act inside their region: contacts at venues of the tracing official's region are
//! reported in full; those at other regions' venues only as counts per region, and handed to
//! those regions as referrals ([`Referral`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::crypto::{Field, PiiCipher};
use crate::db::check_ins::CheckInRow;
use crate::db::persons::{self, PersonContact};
use crate::db::traces::{self, LONGEST_STAY};
use crate::db::{regions, DbConnection, DbError};
use crate::domain::{IdType, RegionCode, Stay};

/// At most this many contact rows are reported; past it the trace says it was cut short.
pub const MAX_CONTACTS: usize = 50_000;

/// Results stored before other documents were taken name resident IDs only.
fn resident_id() -> Option<IdType> {
    Some(IdType::ResidentId)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TracedPerson {
    pub person_id: i64,
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    #[serde(default = "resident_id")]
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TracedStay {
    pub check_in_id: i64,
    pub venue_id: i64,
    pub venue: String,
    pub address: String,
    pub entrance: String,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Contact {
    pub level: u8,
    pub person: TracedPerson,
    pub check_in_id: i64,
    pub venue_id: i64,
    pub venue: String,
    pub entrance: String,
    pub overlap_from: NaiveDateTime,
    pub overlap_to: NaiveDateTime,
    /// For level 2: the level-1 contact whose stay this overlapped.
    pub via_person_id: Option<i64>,
}

/// Contacts found at venues of another region: counted here, referred there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Elsewhere {
    pub region_code: String,
    /// The region's full name.
    #[serde(default)]
    pub region: String,
    /// Distinct people.
    pub people: usize,
    pub venues: usize,
}

/// A complete trace, as stored (sealed) and shown to officials.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceResult {
    pub case: TracedPerson,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub depth: u8,
    pub stays: Vec<TracedStay>,
    /// Contacts at venues of the tracing official's region, in full.
    pub contacts: Vec<Contact>,
    /// Contacts at other regions' venues, as counts.
    #[serde(default)]
    pub elsewhere: Vec<Elsewhere>,
    pub truncated: bool,
}

/// The contacts found at one venue of another region, for its officials.
#[derive(Debug, Clone)]
pub struct Referral {
    pub venue_id: i64,
    pub region_code: String,
    pub contacts: Vec<Contact>,
}

impl TraceResult {
    /// Distinct people at a level (or all levels).
    pub fn people(&self, level: Option<u8>) -> Vec<i64> {
        let mut seen = HashSet::new();
        self.contacts
            .iter()
            .filter(|c| level.is_none_or(|l| c.level == l))
            .filter(|c| seen.insert(c.person.person_id))
            .map(|c| c.person.person_id)
            .collect()
    }
}

/// One overlap found, before names are attached.
struct Overlap {
    level: u8,
    row: CheckInRow,
    overlap: Stay,
    via: Option<i64>,
}

fn stay_of(row: &CheckInRow) -> Stay {
    Stay {
        from: row.scanned_at,
        to: row.ends_at,
    }
}

/// Everyone (not in `exclude`) whose stay at the same venue overlapped one of `stays`. The
/// check-ins that can overlap (entered at most `LONGEST_STAY` before a stay began and before it
/// ended) are read in one go, windows of one venue merged first.
fn overlaps(
    conn: &mut DbConnection,
    stays: &[CheckInRow],
    exclude: &HashSet<i64>,
    since: NaiveDateTime,
    level: u8,
    budget: usize,
) -> Result<(Vec<Overlap>, bool), DbError> {
    let mut by_venue: BTreeMap<i64, Vec<&CheckInRow>> = BTreeMap::new();
    for stay in stays {
        by_venue.entry(stay.venue_id).or_default().push(stay);
    }
    // Per venue, merged spans of entry times that can overlap a stay, each with the earliest
    // start of its stays: a check-in that ended before it overlaps none of them.
    let mut windows: Vec<traces::Window> = Vec::new();
    for (venue_id, venue_stays) in &by_venue {
        let mut spans: Vec<(NaiveDateTime, NaiveDateTime, NaiveDateTime)> = venue_stays
            .iter()
            .map(|s| {
                (
                    (s.scanned_at - LONGEST_STAY).max(since),
                    s.ends_at,
                    s.scanned_at,
                )
            })
            .collect();
        spans.sort_unstable();
        for (from, to, start) in spans {
            match windows.last_mut() {
                Some(w) if w.venue_id == *venue_id && from <= w.to => {
                    w.to = w.to.max(to);
                    w.ended_after = w.ended_after.min(start);
                }
                _ => windows.push(traces::Window {
                    venue_id: *venue_id,
                    from,
                    to,
                    ended_after: start,
                }),
            }
        }
    }
    let mut at_venue: HashMap<i64, Vec<CheckInRow>> = HashMap::new();
    for row in traces::at_venues(conn, &windows)? {
        if row.scanned_at >= since {
            at_venue.entry(row.venue_id).or_default().push(row);
        }
    }
    let mut found = Vec::new();
    for (venue_id, venue_stays) in by_venue {
        let Some(others) = at_venue.get(&venue_id) else {
            continue;
        };
        for stay in &venue_stays {
            for other in others {
                if other.person_id == stay.person_id || exclude.contains(&other.person_id) {
                    continue;
                }
                if let Some(overlap) = stay_of(stay).overlap(&stay_of(other)) {
                    if found.len() >= budget {
                        return Ok((found, true));
                    }
                    found.push(Overlap {
                        level,
                        row: other.clone(),
                        overlap,
                        via: (level > 1).then_some(stay.person_id),
                    });
                }
            }
        }
    }
    Ok((found, false))
}

/// What to trace: a case over `[from, to)`, for an official of `scope`.
pub struct Search<'a> {
    pub case_id: i64,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    /// The oldest check-in that may be read (now less the retention period): older rows are
    /// waiting for the purge, and no stay that began before it is read, the case's or a contact's.
    pub since: NaiveDateTime,
    pub depth: u8,
    pub scope: &'a RegionCode,
}

/// Traces a case: the result for the official, and the referrals for other regions' venues.
pub fn trace(
    conn: &mut DbConnection,
    cipher: &PiiCipher,
    search: &Search<'_>,
) -> Result<(TraceResult, Vec<Referral>), DbError> {
    let Search {
        case_id,
        from,
        to,
        since,
        depth,
        scope,
    } = *search;
    let mut case_stays = traces::stays_of(conn, &[case_id], from, to)?;
    case_stays.retain(|stay| stay.scanned_at >= since);
    let mut exclude: HashSet<i64> = HashSet::from([case_id]);
    let (mut found, mut truncated) = overlaps(conn, &case_stays, &exclude, since, 1, MAX_CONTACTS)?;
    if depth >= 2 && !truncated {
        let level_one: Vec<i64> = {
            let mut seen = HashSet::new();
            found
                .iter()
                .filter(|o| seen.insert(o.row.person_id))
                .map(|o| o.row.person_id)
                .collect()
        };
        exclude.extend(&level_one);
        let mut their_stays = traces::stays_of(conn, &level_one, from, to)?;
        their_stays.retain(|stay| stay.scanned_at >= since);
        let (second, cut) = overlaps(
            conn,
            &their_stays,
            &exclude,
            since,
            2,
            MAX_CONTACTS - found.len(),
        )?;
        found.extend(second);
        truncated = cut;
    }

    // Names, places and people, each fetched once.
    let mut person_ids: Vec<i64> = found.iter().map(|o| o.row.person_id).collect();
    person_ids.push(case_id);
    person_ids.sort_unstable();
    person_ids.dedup();
    let people = persons::contacts(conn, cipher, &person_ids)?;
    let venue_ids: Vec<i64> = found
        .iter()
        .map(|o| o.row.venue_id)
        .chain(case_stays.iter().map(|s| s.venue_id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let entrance_ids: Vec<i64> = found
        .iter()
        .map(|o| o.row.entrance_id)
        .chain(case_stays.iter().map(|s| s.entrance_id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let (venues, entrances) = traces::place_names(conn, &venue_ids, &entrance_ids)?;
    let person = |id: i64| -> TracedPerson {
        let PersonContact {
            name,
            id_type,
            id_number,
            phone,
        } = people.get(&id).cloned().unwrap_or_default();
        TracedPerson {
            person_id: id,
            name,
            id_type,
            id_number,
            phone,
        }
    };
    let place = |id: i64| venues.get(&id).cloned().unwrap_or_default();
    let entrance_name = |id: i64| entrances.get(&id).cloned().unwrap_or_default();

    let stays = case_stays
        .iter()
        .map(|s| {
            let place = place(s.venue_id);
            TracedStay {
                check_in_id: s.id,
                venue_id: s.venue_id,
                venue: place.name,
                address: place.address,
                entrance: entrance_name(s.entrance_id),
                from: s.scanned_at,
                to: s.ends_at,
            }
        })
        .collect();
    let mut contacts: Vec<Contact> = Vec::new();
    let mut referred: BTreeMap<i64, Referral> = BTreeMap::new();
    for o in found {
        let place = place(o.row.venue_id);
        let mut traced = person(o.row.person_id);
        if traced.phone.is_none() {
            // A person without an account of their own: the phone typed at the door, if any.
            traced.phone = typed_phone(cipher, &o.row);
        }
        let contact = Contact {
            level: o.level,
            person: traced,
            check_in_id: o.row.id,
            venue_id: o.row.venue_id,
            venue: place.name,
            entrance: entrance_name(o.row.entrance_id),
            overlap_from: o.overlap.from,
            overlap_to: o.overlap.to,
            via_person_id: o.via,
        };
        if RegionCode::parse(&place.region_code).is_ok_and(|r| r.is_within(scope)) {
            contacts.push(contact);
        } else {
            referred
                .entry(o.row.venue_id)
                .or_insert_with(|| Referral {
                    venue_id: o.row.venue_id,
                    region_code: place.region_code,
                    contacts: Vec::new(),
                })
                .contacts
                .push(contact);
        }
    }
    contacts.sort_by_key(|c| (c.level, c.overlap_from, c.check_in_id));
    let referrals: Vec<Referral> = referred.into_values().collect();
    Ok((
        TraceResult {
            case: person(case_id),
            from,
            to,
            depth,
            stays,
            contacts,
            elsewhere: elsewhere(conn, &referrals)?,
            truncated,
        },
        referrals,
    ))
}

/// The phone number venue staff typed with a manual check-in, opened; a damaged one is left out.
fn typed_phone(cipher: &PiiCipher, row: &CheckInRow) -> Option<String> {
    let sealed = row.typed_phone_sealed.as_deref()?;
    cipher.open(Field::Phone, sealed).ok()
}

/// Counts per region of the referred contacts.
fn elsewhere(conn: &mut DbConnection, referrals: &[Referral]) -> Result<Vec<Elsewhere>, DbError> {
    let mut by_region: BTreeMap<&str, (HashSet<i64>, usize)> = BTreeMap::new();
    for referral in referrals {
        let (people, venues) = by_region.entry(&referral.region_code).or_default();
        people.extend(referral.contacts.iter().map(|c| c.person.person_id));
        *venues += 1;
    }
    by_region
        .into_iter()
        .map(|(region_code, (people, venues))| {
            Ok(Elsewhere {
                region_code: region_code.to_owned(),
                region: regions::full_name_of(conn, region_code)?,
                people: people.len(),
                venues,
            })
        })
        .collect()
}

/// Person ids by level, for summaries.
pub fn level_counts(result: &TraceResult) -> Vec<(u8, usize)> {
    let mut by_level: HashMap<u8, HashSet<i64>> = HashMap::new();
    for contact in &result.contacts {
        by_level
            .entry(contact.level)
            .or_default()
            .insert(contact.person.person_id);
    }
    let mut counts: Vec<(u8, usize)> = by_level.into_iter().map(|(l, p)| (l, p.len())).collect();
    counts.sort_unstable();
    counts
}
