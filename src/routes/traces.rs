//! Tracing a case (health officials): who shared a venue with them and when, stored as a trace;
//! read back, exported as CSV, and acted on with colour changes. Every step is audited.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::Staff;
use crate::contact_trace::{self, Contact, TraceResult};
use crate::db::audit::{self, AuditEntry};
use crate::db::health_codes::{self, ColorChange};
use crate::db::traces::{self, NewColorChange, NewTrace, TraceRow};
use crate::db::{persons, DbConnection};
use crate::domain::{FieldError, HealthColor, HealthReason, IdNumber, RegionCode, StaffRole};
use crate::error::{ApiError, ErrorCode, Invalid};
use crate::extract::Json;
use crate::pii::Field;
use crate::routes::{local_time, parse_time};
use crate::state::{AppState, State};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceRequest {
    id_number: String,
    from: String,
    to: String,
    depth: Option<u8>,
}

#[derive(Serialize)]
pub struct PersonOut {
    name: String,
    id_number: String,
    phone: Option<String>,
}

#[derive(Serialize)]
pub struct StayOut {
    check_in_id: i64,
    venue: String,
    address: String,
    entrance: String,
    from: String,
    to: String,
}

#[derive(Serialize)]
pub struct ContactOut {
    level: u8,
    name: String,
    id_number: String,
    phone: Option<String>,
    venue: String,
    entrance: String,
    overlap_from: String,
    overlap_to: String,
    check_in_id: i64,
}

#[derive(Serialize)]
pub struct LevelOut {
    level: u8,
    people: usize,
}

#[derive(Serialize)]
pub struct TraceResponse {
    trace_id: i64,
    created_at: String,
    case: PersonOut,
    from: String,
    to: String,
    depth: u8,
    truncated: bool,
    stays: Vec<StayOut>,
    levels: Vec<LevelOut>,
    contacts: Vec<ContactOut>,
}

fn response(state: &AppState, row: &TraceRow, result: &TraceResult) -> TraceResponse {
    TraceResponse {
        trace_id: row.id,
        created_at: local_time(state, row.created_at),
        case: PersonOut {
            name: result.case.name.clone(),
            id_number: result.case.id_number.clone(),
            phone: result.case.phone.clone(),
        },
        from: local_time(state, result.from),
        to: local_time(state, result.to),
        depth: result.depth,
        truncated: result.truncated,
        stays: result
            .stays
            .iter()
            .map(|s| StayOut {
                check_in_id: s.check_in_id,
                venue: s.venue.clone(),
                address: s.address.clone(),
                entrance: s.entrance.clone(),
                from: local_time(state, s.from),
                to: local_time(state, s.to),
            })
            .collect(),
        levels: contact_trace::level_counts(result)
            .into_iter()
            .map(|(level, people)| LevelOut { level, people })
            .collect(),
        contacts: result
            .contacts
            .iter()
            .map(|c| contact_out(state, c))
            .collect(),
    }
}

fn contact_out(state: &AppState, contact: &Contact) -> ContactOut {
    ContactOut {
        level: contact.level,
        name: contact.person.name.clone(),
        id_number: contact.person.id_number.clone(),
        phone: contact.person.phone.clone(),
        venue: contact.venue.clone(),
        entrance: contact.entrance.clone(),
        overlap_from: local_time(state, contact.overlap_from),
        overlap_to: local_time(state, contact.overlap_to),
        check_in_id: contact.check_in_id,
    }
}

fn audit_entry(
    staff: &Staff,
    action: &'static str,
    subject: String,
    count: i64,
) -> AuditEntry<'static> {
    AuditEntry::by_staff(staff.staff_id, "health_official", action, subject, count)
}

pub async fn create(
    staff: Staff,
    body: Json<TraceRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let request = body.0;
    let mut invalid = Invalid::default();
    let id_number = invalid.check("id_number", IdNumber::parse(&request.id_number));
    let from = parse_time(&mut invalid, "from", &request.from);
    let to = parse_time(&mut invalid, "to", &request.to);
    let depth = request.depth.unwrap_or(1);
    if !(1..=2).contains(&depth) {
        invalid.add(
            "depth",
            FieldError::new("depth_invalid", "depth 只能是 1 或 2"),
        );
    }
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            invalid.add(
                "to",
                FieldError::new("range_invalid", "结束时间应晚于开始时间"),
            );
        } else if to - from > contact_trace::max_window(state.settings.retention_days) {
            invalid.add(
                "from",
                FieldError::new(
                    "range_too_long",
                    format!(
                        "追踪时段最长{}天（数据保存期限）",
                        state.settings.retention_days
                    ),
                ),
            );
        }
    }
    invalid.finish()?;
    let (id_number, from, to) = (
        id_number.expect("checked"),
        from.expect("checked"),
        to.expect("checked"),
    );
    let worker = state.clone();
    let started = std::time::Instant::now();
    let (row, result) = state
        .db
        .run(move |conn| {
            let case = persons::find_by_id_number(conn, &worker.cipher, &id_number)?
                .ok_or_else(|| ApiError::not_found().with_message("没有该人员的扫码记录"))?;
            let result = contact_trace::trace(conn, &worker.cipher, case.id, from, to, depth)?;
            let json = serde_json::to_string(&result).map_err(ApiError::internal)?;
            crate::db::write_transaction(conn, |conn| -> Result<_, ApiError> {
                let row = traces::insert(
                    conn,
                    &worker.cipher,
                    &NewTrace {
                        created_by: staff.staff_id,
                        region_code: staff.region.as_ref(),
                        case_person_id: case.id,
                        from,
                        to,
                        depth: i32::from(depth),
                        contact_count: result.contacts.len() as i64,
                        result_json: &json,
                    },
                )?;
                audit::append(
                    conn,
                    &worker.cipher,
                    &audit_entry(
                        &staff,
                        "trace.create",
                        format!("person:{}", case.id),
                        result.contacts.len() as i64,
                    ),
                )?;
                Ok(row)
            })
            .map(|row| (row, result))
        })
        .await?;
    tracing::info!(
        trace_id = row.id,
        contacts = result.contacts.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "trace"
    );
    Ok(HttpResponse::Created().json(response(&state, &row, &result)))
}

/// A stored trace, for officials of the region it was made in; audited as `action`.
fn load(
    state: &AppState,
    conn: &mut DbConnection,
    staff: &Staff,
    id: i64,
    action: &'static str,
) -> Result<(TraceRow, TraceResult), ApiError> {
    let row = traces::find(conn, id)?.ok_or_else(ApiError::not_found)?;
    let visible =
        RegionCode::parse(&row.region_code).is_ok_and(|code| code.is_within(&staff.region));
    if !visible {
        return Err(ApiError::not_found());
    }
    let json = state
        .cipher
        .open(Field::TraceResult, &row.result_sealed)
        .map_err(ApiError::internal)?;
    let result: TraceResult = serde_json::from_str(&json).map_err(ApiError::internal)?;
    audit::append(
        conn,
        &state.cipher,
        &audit_entry(
            staff,
            action,
            format!("trace:{id}"),
            result.contacts.len() as i64,
        ),
    )?;
    Ok((row, result))
}

pub async fn get(
    staff: Staff,
    path: web::Path<i64>,
    state: State,
) -> Result<web::Json<TraceResponse>, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let id = path.into_inner();
    let worker = state.clone();
    let (row, result) = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| load(&worker, conn, &staff, id, "trace.read"))
        })
        .await?;
    Ok(web::Json(response(&state, &row, &result)))
}

/// A cell that a spreadsheet cannot run: quoted, and prefixed with `'` when it starts like a
/// formula (`=`, `+`, `-`, `@`, tab, carriage return).
pub fn csv_cell(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    format!("\"{}\"", neutral.replace('"', "\"\""))
}

pub async fn export_csv(
    staff: Staff,
    path: web::Path<i64>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let id = path.into_inner();
    let worker = state.clone();
    let (_, result) = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                load(&worker, conn, &staff, id, "trace.export")
            })
        })
        .await?;
    // UTF-8 with a byte-order mark, so spreadsheets show Chinese correctly.
    let mut csv = String::from("\u{feff}");
    let header = [
        "层级",
        "姓名",
        "身份证号",
        "手机号",
        "场所",
        "入口",
        "重叠开始",
        "重叠结束",
    ];
    csv.push_str(
        &header
            .iter()
            .map(|h| csv_cell(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    csv.push_str("\r\n");
    for contact in &result.contacts {
        let out = contact_out(&state, contact);
        let cells = [
            out.level.to_string(),
            out.name,
            out.id_number,
            out.phone.unwrap_or_default(),
            out.venue,
            out.entrance,
            out.overlap_from,
            out.overlap_to,
        ];
        csv.push_str(
            &cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push_str("\r\n");
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"trace-{id}.csv\""),
        ))
        .body(csv))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColorChangeRequest {
    color: String,
    reason_code: String,
    /// 1 or 2; all levels when absent.
    level: Option<u8>,
}

#[derive(Serialize)]
pub struct ColorChangeResponse {
    id: i64,
    trace_id: i64,
    status: String,
    color: String,
    reason_code: String,
    level: Option<i32>,
    person_count: i64,
    /// Changes above this many people wait for a second official of the region.
    confirm_threshold: u32,
}

fn change_response(state: &AppState, row: traces::ColorChangeRow) -> ColorChangeResponse {
    ColorChangeResponse {
        id: row.id,
        trace_id: row.trace_id,
        status: row.status,
        color: row.color,
        reason_code: row.reason_code,
        level: row.level,
        person_count: row.person_count,
        confirm_threshold: state.settings.trace_confirm_threshold,
    }
}

fn apply_to_people(
    state: &AppState,
    conn: &mut DbConnection,
    staff_id: i64,
    people: &[i64],
    color: HealthColor,
    reason: HealthReason,
    trace_id: i64,
) -> Result<(), ApiError> {
    let changes: Vec<ColorChange> = people
        .iter()
        .map(|&person_id| ColorChange {
            person_id,
            color,
            reason,
            note: Some(format!("trace:{trace_id}")),
        })
        .collect();
    health_codes::apply(conn, &state.cipher, staff_id, &changes)?;
    Ok(())
}

pub async fn request_color_change(
    staff: Staff,
    path: web::Path<i64>,
    body: Json<ColorChangeRequest>,
    state: State,
) -> Result<HttpResponse, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let id = path.into_inner();
    let request = body.0;
    let mut invalid = Invalid::default();
    let color = invalid.check("color", HealthColor::parse(&request.color));
    let reason = invalid.check("reason_code", HealthReason::parse(&request.reason_code));
    if request.level.is_some_and(|l| !(1..=2).contains(&l)) {
        invalid.add(
            "level",
            FieldError::new("level_invalid", "level 只能是 1 或 2"),
        );
    }
    invalid.finish()?;
    let (color, reason) = (color.expect("checked"), reason.expect("checked"));
    let worker = state.clone();
    let (row, applied) = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| -> Result<_, ApiError> {
                let (_, result) = load(&worker, conn, &staff, id, "trace.read")?;
                let people = result.people(request.level);
                let applied = people.len() <= worker.settings.trace_confirm_threshold as usize;
                if applied {
                    apply_to_people(&worker, conn, staff.staff_id, &people, color, reason, id)?;
                }
                let row = traces::insert_color_change(
                    conn,
                    &NewColorChange {
                        trace_id: id,
                        level: request.level.map(i32::from),
                        color: color.as_str(),
                        reason_code: reason.as_str(),
                        person_count: people.len() as i64,
                        applied,
                        requested_by: staff.staff_id,
                    },
                )?;
                Ok((row, applied))
            })
        })
        .await?;
    let response = change_response(&state, row);
    Ok(if applied {
        HttpResponse::Ok().json(response)
    } else {
        HttpResponse::Accepted().json(response)
    })
}

pub async fn confirm_color_change(
    staff: Staff,
    path: web::Path<(i64, i64)>,
    state: State,
) -> Result<web::Json<ColorChangeResponse>, ApiError> {
    staff.require(&[StaffRole::HealthOfficial])?;
    let (trace_id, change_id) = path.into_inner();
    let worker = state.clone();
    let row = state
        .db
        .run(move |conn| {
            crate::db::write_transaction(conn, |conn| -> Result<_, ApiError> {
                let (_, result) = load(&worker, conn, &staff, trace_id, "trace.read")?;
                let change = traces::find_color_change(conn, change_id)?
                    .filter(|c| c.trace_id == trace_id)
                    .ok_or_else(ApiError::not_found)?;
                if change.requested_by == staff.staff_id {
                    return Err(ApiError::new(ErrorCode::SecondOfficialRequired));
                }
                if change.status != "pending"
                    || !traces::mark_applied(conn, change_id, staff.staff_id)?
                {
                    return Err(ApiError::new(ErrorCode::ChangeNotPending));
                }
                let color = HealthColor::parse(&change.color).map_err(ApiError::internal)?;
                let reason =
                    HealthReason::parse(&change.reason_code).map_err(ApiError::internal)?;
                let level = change.level.and_then(|l| u8::try_from(l).ok());
                apply_to_people(
                    &worker,
                    conn,
                    staff.staff_id,
                    &result.people(level),
                    color,
                    reason,
                    trace_id,
                )?;
                traces::find_color_change(conn, change_id)?.ok_or_else(ApiError::not_found)
            })
        })
        .await?;
    Ok(web::Json(change_response(&state, row)))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("张三"), "\"张三\"");
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell("@SUM(1)"), "\"'@SUM(1)\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
        assert_eq!(csv_cell("\tx"), "\"'\tx\"");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(csv_cell(""), "\"\"");
    }
}
