//! Nucleic-acid results and vaccination status, imported in bulk by health officials (JSON
//! `{"results": […]}` or CSV with a header row), and a venue's requirement of a recent negative
//! result.

use actix_web::web;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::State;
use crate::auth::{Caller, HealthOfficial};
use crate::domain::{
    FieldCode, FieldError, FieldErrors, IdDocument, PersonName, TestOnRecord, TestResult,
    VaccinationOnRecord,
};
use crate::services::health_codes::MAX_IMPORT_ROWS;
use crate::services::test_results::{self, NewTestRecord};
use crate::services::venues::{self, VenueView};
use crate::state::AppState;
use crate::web::sheet::Sheet;
use crate::web::{ApiError, Json, JsonOrCsv};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestRow {
    id_type: Option<String>,
    id_number: String,
    name: Option<String>,
    result: Option<String>,
    sampled_at: Option<String>,
    vaccine_doses: Option<i64>,
    last_dose_on: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestImportRequest {
    results: Vec<TestRow>,
}

/// The columns of a results sheet; `id_number` is required, the others as a row needs them.
const SHEET_COLUMNS: [&str; 7] = [
    "id_type",
    "id_number",
    "name",
    "result",
    "sampled_at",
    "vaccine_doses",
    "last_dose_on",
];

fn sheet(text: &str) -> Result<Vec<TestRow>, FieldErrors> {
    let sheet = Sheet::read(text);
    if !sheet.has("id_number")
        || sheet
            .headers()
            .iter()
            .any(|h| !SHEET_COLUMNS.contains(&h.as_str()))
    {
        return Err(FieldErrors::one(
            "body",
            FieldError::new(
                FieldCode::CsvColumns,
                format!(
                    "表头须含 id_number，列名只能是：{}",
                    SHEET_COLUMNS.join(", ")
                ),
            ),
        ));
    }
    let mut errors = FieldErrors::default();
    let mut rows = Vec::new();
    for (index, record) in sheet.rows.iter().enumerate() {
        let Some(record) = record else {
            errors.add(
                format!("results[{index}]"),
                FieldError::new(FieldCode::CsvRow, "该行不是有效的 CSV"),
            );
            continue;
        };
        let cell = |name: &str| {
            Some(sheet.cell(record, name))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let doses = match cell("vaccine_doses").map(|d| d.parse::<i64>()) {
            None => None,
            Some(Ok(d)) => Some(d),
            Some(Err(_)) => {
                errors.add(
                    format!("results[{index}].vaccine_doses"),
                    FieldError::new(FieldCode::VaccineDosesInvalid, "接种剂次须为0至9的整数"),
                );
                continue;
            }
        };
        rows.push(TestRow {
            id_type: cell("id_type"),
            id_number: cell("id_number").unwrap_or_default(),
            name: cell("name"),
            result: cell("result"),
            sampled_at: cell("sampled_at"),
            vaccine_doses: doses,
            last_dose_on: cell("last_dose_on"),
        });
    }
    errors.into_result(Some(rows))
}

/// A time as RFC 3339, or the deployment's local `YYYY-MM-DD HH:MM` (as labs write it).
fn parse_time(state: &AppState, value: &str) -> Option<NaiveDateTime> {
    if let Ok(time) = DateTime::parse_from_rfc3339(value.trim()) {
        return Some(time.naive_utc());
    }
    state
        .clock
        .read_local_input(&value.trim().replacen(' ', "T", 1))
}

fn check_row(
    state: &AppState,
    errors: &mut FieldErrors,
    prefix: &str,
    row: &TestRow,
) -> Option<NewTestRecord> {
    let now = state.clock.now_naive();
    let field = |name: &str| format!("{prefix}{name}");
    let document = IdDocument::check(errors, prefix, row.id_type.as_deref(), &row.id_number);
    let name = match row.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => Some(errors.check(field("name"), PersonName::parse(name))?),
        None => None,
    };
    let test = match (&row.result, &row.sampled_at) {
        (None, None) => None,
        (Some(result), Some(sampled_at)) => {
            let result = errors.check(field("result"), TestResult::parse(result));
            let sampled_at = match parse_time(state, sampled_at) {
                Some(t) if t <= now + chrono::Duration::minutes(5) => Some(t),
                Some(_) => {
                    errors.add(
                        field("sampled_at"),
                        FieldError::new(FieldCode::SampledAtFuture, "采样时间不能晚于现在"),
                    );
                    None
                }
                None => {
                    errors.add(
                        field("sampled_at"),
                        FieldError::new(
                            FieldCode::SampledAtInvalid,
                            "采样时间格式应为 2022-04-26T10:30:00+08:00 或 2022-04-26 10:30",
                        ),
                    );
                    None
                }
            };
            Some(TestOnRecord {
                result: result?,
                sampled_at: sampled_at?,
            })
        }
        (Some(_), None) => {
            errors.add(
                field("sampled_at"),
                FieldError::new(FieldCode::SampledAtRequired, "请填写采样时间"),
            );
            None
        }
        (None, Some(_)) => {
            errors.add(
                field("result"),
                FieldError::new(FieldCode::ResultRequired, "请填写检测结果"),
            );
            None
        }
    };
    let vaccination = match row.vaccine_doses {
        None => {
            if row.last_dose_on.is_some() {
                errors.add(
                    field("vaccine_doses"),
                    FieldError::new(FieldCode::VaccineDosesRequired, "请填写接种剂次"),
                );
            }
            None
        }
        Some(doses) => {
            let doses = match i16::try_from(doses).ok().filter(|d| (0..=9).contains(d)) {
                Some(d) => Some(d),
                None => {
                    errors.add(
                        field("vaccine_doses"),
                        FieldError::new(FieldCode::VaccineDosesInvalid, "接种剂次须为0至9的整数"),
                    );
                    None
                }
            };
            let last_dose_on = match row.last_dose_on.as_deref() {
                None => Some(None),
                Some(day) => match NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d") {
                    Ok(d) if d <= state.clock.today() => Some(Some(d)),
                    _ => {
                        errors.add(
                            field("last_dose_on"),
                            FieldError::new(
                                FieldCode::LastDoseOnInvalid,
                                "末次接种日期格式应为 YYYY-MM-DD，且不晚于今天",
                            ),
                        );
                        None
                    }
                },
            };
            Some(VaccinationOnRecord {
                doses: doses?,
                last_dose_on: last_dose_on?,
            })
        }
    };
    if row.result.is_none() && row.sampled_at.is_none() && row.vaccine_doses.is_none() {
        errors.add(
            field("result"),
            FieldError::new(FieldCode::RecordEmpty, "每行须有检测结果或接种信息"),
        );
        return None;
    }
    Some(NewTestRecord {
        document: document?,
        name,
        test,
        vaccination,
    })
}

#[derive(Serialize)]
pub struct TestImportView {
    rows: usize,
}

/// Up to 10,000 rows, all or nothing; a 422 names every bad row's fields (`results[3].sampled_at`).
pub async fn import(
    HealthOfficial(official): HealthOfficial,
    body: JsonOrCsv<TestImportRequest, { 4 * 1024 * 1024 }>,
    state: State,
) -> Result<web::Json<TestImportView>, ApiError> {
    let rows = match body {
        JsonOrCsv::Json(request) => request.results,
        JsonOrCsv::Csv(text) => sheet(&text)?,
    };
    if rows.is_empty() || rows.len() > MAX_IMPORT_ROWS {
        return Err(FieldErrors::one(
            "results",
            FieldError::new(
                FieldCode::ResultsCount,
                format!("每次导入1至{MAX_IMPORT_ROWS}条"),
            ),
        )
        .into());
    }
    let mut errors = FieldErrors::default();
    let records: Vec<Option<NewTestRecord>> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| check_row(&state, &mut errors, &format!("results[{i}]."), row))
        .collect();
    let records = errors.into_result(records.into_iter().collect::<Option<Vec<_>>>())?;
    let rows = test_results::import(&state, &official, records).await?;
    Ok(web::Json(TestImportView { rows }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementRequest {
    /// Hours (1–168) within which a negative result must have been sampled; `null` lifts it.
    /// Required: a body without it says nothing.
    #[serde(deserialize_with = "Option::deserialize")]
    hours: Option<i64>,
}

/// Sets or lifts the venue's requirement of a recent negative result: its manager, or a health
/// official of its region.
pub async fn set_requirement(
    caller: Caller,
    path: web::Path<i64>,
    body: Json<RequirementRequest>,
    state: State,
) -> Result<web::Json<VenueView>, ApiError> {
    let hours = match body.0.hours {
        None => None,
        Some(h) => Some(
            u32::try_from(h)
                .ok()
                .filter(|h| (1..=168).contains(h))
                .ok_or_else(|| {
                    FieldErrors::one(
                        "hours",
                        FieldError::new(FieldCode::HoursInvalid, "小时数须为1至168的整数"),
                    )
                })?,
        ),
    };
    let view = venues::set_test_requirement(&state, &caller, path.into_inner(), hours).await?;
    Ok(web::Json(view))
}
