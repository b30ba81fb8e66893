//! A venue's visitors in a window: everyone whose stay at the venue overlapped it, whether or not
//! a case was there. Epidemiologists need it when a case never scanned. Health officials of the
//! venue's region only, in full, and every reading audited.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::audit;
use super::traces::csv_line;
use crate::auth::Staff;
use crate::db::traces::LONGEST_STAY;
use crate::db::{check_ins, open_name, persons, venues, DbError};
use crate::domain::{
    CheckInSource, FieldCode, FieldError, FieldErrors, IdType, PageRequest, Retained,
};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum VisitorsError {
    #[error("no such venue in this region")]
    VenueNotFound,
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// A page's cursor that names no stay of the venue (any more).
    #[error("a stale cursor")]
    StaleCursor,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A window asked for, checked: it ends after it starts, spans at most the retention period and
/// starts inside it.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

impl Window {
    /// Checks times already read (`None` for one that was not readable).
    pub fn check(
        errors: &mut FieldErrors,
        from: Option<NaiveDateTime>,
        to: Option<NaiveDateTime>,
        retained: Retained,
    ) -> Option<Self> {
        let (from, to) = retained.check(errors, from, to, "查询")?;
        Some(Self { from, to })
    }
}

/// One stay at the venue that overlapped the window.
#[derive(Debug, Serialize)]
pub struct Visitor {
    pub check_in_id: i64,
    pub name: String,
    /// `None` with the number for someone registered by hand with a mobile number only.
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    /// The name typed for this stay when it differs from the person's (a companion or a manual
    /// check-in).
    pub typed_name: Option<String>,
    pub entrance: String,
    pub source: CheckInSource,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Serialize)]
pub struct VisitorList {
    pub venue_id: i64,
    pub venue: String,
    pub from: String,
    pub to: String,
    /// Distinct people in the whole window.
    pub people: i64,
    pub items: Vec<Visitor>,
    /// The next page's cursor; `None` on the last page and for the whole list.
    pub next_cursor: Option<String>,
}

/// Everyone whose stay at the venue overlapped the window, oldest first.
/// All of them (the CSV, the console), or one page (`page`). The audit entry counts the people
/// of what was read.
pub async fn list(
    state: &Arc<AppState>,
    official: &Staff,
    venue_id: i64,
    window: Window,
    page: Option<PageRequest>,
) -> Result<VisitorList, VisitorsError> {
    let reader = official.clone();
    // Read where reads may be a little behind (a standby), then the access audited on the
    // primary: the list is answered only once its audit entry is committed.
    let (list, people) = state
        .read_behind(move |state, conn| {
            let official = reader;
            let venue = venues::find(conn, venue_id)?
                .filter(|v| official.covers(&v.region_code))
                .ok_or(VisitorsError::VenueNotFound)?;
            // A stay that began before the retention period waits for the purge: never read.
            let stays = check_ins::Overlapping {
                from: window.from,
                to: window.to,
                earliest: (window.from - LONGEST_STAY).max(state.retained().since),
            };
            let (rows, next_cursor, in_window) = match page {
                None => {
                    let rows = check_ins::at_venue_overlapping(conn, venue_id, &stays, None)?;
                    let mut everyone: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
                    everyone.sort_unstable();
                    everyone.dedup();
                    (rows, None, everyone.len() as i64)
                }
                Some(page) => {
                    let after = match page.after {
                        Some(id) => Some(
                            check_ins::visitor_cursor(conn, venue_id, id)?
                                .ok_or(VisitorsError::StaleCursor)?,
                        ),
                        None => None,
                    };
                    let rows = check_ins::at_venue_overlapping(
                        conn,
                        venue_id,
                        &stays,
                        Some((page.rows(), after)),
                    )?;
                    let (rows, next) = page.cut(rows, |row| row.id);
                    let people = check_ins::people_overlapping(conn, venue_id, &stays)?;
                    (rows, next, people)
                }
            };
            let mut person_ids: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
            person_ids.sort_unstable();
            person_ids.dedup();
            let people = persons::contacts(conn, &state.cipher, &person_ids)?;
            let entrances: HashMap<i64, String> =
                crate::db::entrances::entrances_of(conn, venue_id)?
                    .into_iter()
                    .map(|e| (e.id, e.name))
                    .collect();
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                let person = people.get(&row.person_id).cloned().unwrap_or_default();
                let typed_name = match &row.typed_name_sealed {
                    Some(sealed) => Some(
                        open_name(&state.cipher, sealed, format_args!("check-in {}", row.id))?
                            .into_inner(),
                    )
                    .filter(|typed| *typed != person.name),
                    None => None,
                };
                items.push(Visitor {
                    check_in_id: row.id,
                    name: person.name,
                    id_type: person.id_type,
                    id_number: person.id_number,
                    phone: person.phone,
                    typed_name,
                    entrance: entrances.get(&row.entrance_id).cloned().unwrap_or_default(),
                    source: row.source,
                    from: state.clock.show(row.scanned_at),
                    to: state.clock.show(row.ends_at),
                });
            }
            let list = VisitorList {
                venue_id,
                venue: venue.name,
                from: state.clock.show(window.from),
                to: state.clock.show(window.to),
                people: in_window,
                items,
                next_cursor,
            };
            Ok::<_, VisitorsError>((list, person_ids.len()))
        })
        .await?;
    let entry = audit::by_staff(
        official,
        "venue.visitors",
        format!("venue:{venue_id}"),
        people as i64,
    );
    state
        .write(move |state, conn| audit::record(state, conn, &[entry]))
        .await?;
    Ok(list)
}

/// A cursor naming a stay no longer there (purged, or never of this venue).
pub fn stale_cursor() -> FieldErrors {
    FieldErrors::one(
        "cursor",
        FieldError::new(FieldCode::CursorInvalid, "cursor 无效，请从第一页重新查询"),
    )
}

/// The list as CSV for spreadsheets: UTF-8 with a byte-order mark, every cell formula-safe.
pub fn to_csv(list: &VisitorList) -> String {
    let mut csv = String::from("\u{feff}");
    csv.push_str(&csv_line(&[
        "姓名",
        "证件号码",
        "电话",
        "登记姓名",
        "入口",
        "方式",
        "进入",
        "离开",
    ]));
    for visitor in &list.items {
        let source = match visitor.source {
            CheckInSource::Scan => "扫码",
            CheckInSource::Manual => "人工登记",
            CheckInSource::Paper => "纸质码",
        };
        csv.push_str(&csv_line(&[
            &visitor.name,
            visitor.id_number.as_deref().unwrap_or(""),
            visitor.phone.as_deref().unwrap_or(""),
            visitor.typed_name.as_deref().unwrap_or(""),
            &visitor.entrance,
            source,
            &visitor.from,
            &visitor.to,
        ]));
    }
    csv
}
