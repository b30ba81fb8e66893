//! Health officials' colour imports in the console: many people by CSV upload, previewed before
//! anything changes, and the queue of large imports waiting for a second official of the region.

use crate::auth::HealthOfficial;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::edge::{Answer, EmptyForm, Posted, Session, Signed, Uploaded};
use super::health_codes::{column_label, Choices};
use super::{redirect, render, Frame};
use crate::domain::{ChangeStatus, FieldErrors, HealthColor, HealthReason, IdType};
use crate::services::health_code_imports::{self, PreviewOutcome, PreviewRow};
use crate::services::health_codes::{ColorInput, HealthCodeError, NewColor, MAX_IMPORT_ROWS};
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/health-codes/import", web::get().to(upload_page))
        .route(
            "/console/health-codes/import/preview",
            web::post().to(preview),
        )
        .route("/console/health-codes/import", web::post().to(import))
        .route("/console/health-codes/imports", web::get().to(pending))
        .route(
            "/console/health-codes/imports/{id}",
            web::get().to(pending_one),
        )
        .route(
            "/console/health-codes/imports/{id}/confirm",
            web::post().to(confirm),
        );
}

/// The columns of an upload, by their English or Chinese header.
fn column_of(header: &str) -> Option<&'static str> {
    Some(match header.trim() {
        "id_type" | "证件类型" => "id_type",
        "id_number" | "身份证号" | "身份证号码" | "证件号码" => "id_number",
        "name" | "姓名" => "name",
        "color" | "颜色" | "健康码" => "color",
        "reason_code" | "原因" => "reason_code",
        "note" | "备注" => "note",
        _ => return None,
    })
}

/// A colour as typed in a sheet: its code or its Chinese name.
fn color_code(typed: &str) -> &str {
    HealthColor::ALL
        .iter()
        .find(|c| {
            let label = c.label();
            typed == label || typed == label.trim_end_matches('码')
        })
        .map_or(typed, |c| c.as_str())
}

/// A document kind as typed in a sheet: its code or its Chinese name (empty: the resident ID).
fn id_type_code(typed: &str) -> &str {
    IdType::ALL
        .iter()
        .find(|t| typed == t.label())
        .map_or(typed, |t| t.as_str())
}

fn reason_code(typed: &str) -> &str {
    HealthReason::ALL
        .iter()
        .find(|r| typed == r.label())
        .map_or(typed, |r| r.as_str())
}

/// The changes of an uploaded sheet, or every problem in it by line.
fn parse_sheet(text: &str) -> Result<Vec<NewColor>, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let columns: Vec<Option<&'static str>> = match reader.headers() {
        Ok(headers) => headers.iter().map(column_of).collect(),
        Err(_) => return Err(vec!["无法读取表头，请使用模板中的列名".into()]),
    };
    let missing: Vec<&str> = ["id_number", "color", "reason_code"]
        .into_iter()
        .filter(|needed| !columns.contains(&Some(needed)))
        .map(column_label)
        .collect();
    if !missing.is_empty() {
        return Err(vec![format!("缺少列：{}", missing.join("、"))]);
    }
    let mut errors = FieldErrors::default();
    let mut problems = Vec::new();
    let mut changes = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("第{line}行：无法按 CSV 读取"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if changes.len() + problems.len() >= MAX_IMPORT_ROWS {
            return Err(vec![format!("每次最多导入{MAX_IMPORT_ROWS}行")]);
        }
        let cell = |name: &str| {
            columns
                .iter()
                .position(|c| *c == Some(name))
                .and_then(|i| record.get(i))
                .unwrap_or("")
        };
        let input = ColorInput {
            id_type: Some(cell("id_type").trim())
                .filter(|typed| !typed.is_empty())
                .map(id_type_code),
            id_number: cell("id_number"),
            name: Some(cell("name")),
            color: color_code(cell("color")),
            reason_code: reason_code(cell("reason_code")),
            note: Some(cell("note")),
        };
        if let Some(change) = NewColor::check(&mut errors, &format!("{line}."), input) {
            changes.push(change);
        }
    }
    problems.extend(errors.iter().map(|(field, error)| {
        let (line, column) = field.split_once('.').unwrap_or(("0", field));
        format!("第{line}行 {}：{}", column_label(column), error.message)
    }));
    if !problems.is_empty() {
        return Err(problems);
    }
    if changes.is_empty() {
        return Err(vec!["文件中没有数据行".into()]);
    }
    Ok(changes)
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct UploadPage {
    frame: Frame,
    choices: Choices,
    threshold: u32,
    notice: Option<String>,
    problems: Vec<String>,
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
    rows: Option<u32>,
}

async fn upload_page(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    done: web::Query<Done>,
) -> Answer {
    let notice = match (done.done.as_deref(), done.rows) {
        (Some("applied"), Some(rows)) => Some(format!("已导入{rows}人的健康码，即时生效")),
        _ => None,
    };
    Ok(render(&UploadPage {
        frame: session.frame(&state, "/console/health-codes/import"),
        choices: Choices::default(),
        threshold: state.settings.trace_confirm_threshold,
        notice,
        problems: Vec::new(),
    }))
}

/// A preview row as the page shows it.
struct PreviewLine {
    id_type: &'static str,
    id_number: String,
    name: String,
    current: &'static str,
    current_class: &'static str,
    color: &'static str,
    color_class: &'static str,
    reason: &'static str,
    note: String,
    outcome: &'static str,
    applies: bool,
}

impl From<PreviewRow> for PreviewLine {
    fn from(row: PreviewRow) -> Self {
        Self {
            id_type: row.id_type.label(),
            id_number: row.id_number,
            name: row.name,
            current: row.current.map_or("无记录", HealthColor::label),
            current_class: row.current.map_or("", HealthColor::as_str),
            color: row.color.label(),
            color_class: row.color.as_str(),
            reason: row.reason.label(),
            note: row.note.unwrap_or_default(),
            outcome: match row.outcome {
                PreviewOutcome::Change => "将变更",
                PreviewOutcome::Unchanged => "颜色不变",
                PreviewOutcome::NewPerson => "新登记",
                PreviewOutcome::NameRequired => "无记录，须填写姓名",
                PreviewOutcome::Outside => "不属于本地区或尚无记录（新登记须填写姓名）",
            },
            applies: row.outcome.applies(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/import_preview.html")]
struct PreviewPage {
    frame: Frame,
    sheet: String,
    lines: Vec<PreviewLine>,
    changing: usize,
    blocked: usize,
    waits: bool,
    threshold: u32,
}

fn upload_problems(state: &AppState, frame: Frame, problems: Vec<String>) -> Answer {
    let mut response = render(&UploadPage {
        frame,
        choices: Choices::default(),
        threshold: state.settings.trace_confirm_threshold,
        notice: None,
        problems,
    });
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// An uploaded sheet checked and shown row by row: who changes from which colour to which.
/// Nothing changes yet.
async fn preview(state: web::Data<AppState>, form: Uploaded<HealthOfficial>) -> Answer {
    let frame = form.frame(&state, "/console/health-codes/import");
    let sheet = form.field("file").to_owned();
    let changes = match parse_sheet(&sheet) {
        Ok(changes) => changes,
        Err(problems) => return upload_problems(&state, frame, problems),
    };
    let rows = health_code_imports::preview(&state, &form.staff, changes).await?;
    let lines: Vec<PreviewLine> = rows.into_iter().map(PreviewLine::from).collect();
    let threshold = state.settings.trace_confirm_threshold;
    Ok(render(&PreviewPage {
        frame,
        changing: lines.iter().filter(|l| l.applies).count(),
        blocked: lines.iter().filter(|l| !l.applies).count(),
        waits: lines.len() > threshold as usize,
        threshold,
        sheet,
        lines,
    }))
}

/// The previewed sheet applied: at once, or kept for a second official above the threshold.
async fn import(state: web::Data<AppState>, form: Uploaded<HealthOfficial>) -> Answer {
    let session = &form.session;
    let frame = session.frame(&state, "/console/health-codes/import");
    let changes = match parse_sheet(form.field("sheet")) {
        Ok(changes) => changes,
        Err(problems) => return upload_problems(&state, frame, problems),
    };
    match health_code_imports::import(&state, &session.staff, changes).await {
        Ok(view) if view.status == ChangeStatus::Pending => {
            Ok(redirect("/console/health-codes/imports?done=requested"))
        }
        Ok(view) => Ok(redirect(&format!(
            "/console/health-codes/import?done=applied&rows={}",
            view.rows
        ))),
        Err(HealthCodeError::OutsideRegion { .. } | HealthCodeError::Invalid(_)) => {
            upload_problems(
                &state,
                frame,
                vec!["部分人员不属于本地区或缺少姓名，请按预览修改后重新上传".into()],
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// A pending import as the queue lists it.
struct PendingLine {
    id: i64,
    rows: i64,
    requested_at: String,
}

#[derive(Template)]
#[template(path = "console/imports.html")]
struct PendingPage {
    frame: Frame,
    notice: Option<&'static str>,
    imports: Vec<PendingLine>,
}

async fn pending(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    done: web::Query<Done>,
) -> Answer {
    let imports = health_code_imports::pending_imports(&state, &session.staff).await?;
    let notice = match done.done.as_deref() {
        Some("requested") => Some("导入人数超过复核门槛，已提交，待本地区另一名工作人员复核后生效"),
        Some("confirmed") => Some("已复核，该批健康码已生效"),
        _ => None,
    };
    Ok(render(&PendingPage {
        frame: session.frame(&state, "/console/health-codes/imports"),
        notice,
        imports: imports
            .into_iter()
            .map(|i| PendingLine {
                id: i.id.unwrap_or_default(),
                rows: i.rows,
                requested_at: i.requested_at.unwrap_or_default(),
            })
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "console/import_review.html")]
struct ReviewPage {
    frame: Frame,
    id: i64,
    requested_at: String,
    own: bool,
    problem: Option<&'static str>,
    lines: Vec<PreviewLine>,
}

async fn review_page(
    state: &std::sync::Arc<AppState>,
    session: &Session,
    id: i64,
    problem: Option<&'static str>,
) -> Answer {
    match health_code_imports::pending_import(state, &session.staff, id).await {
        Ok(import) => Ok(render(&ReviewPage {
            frame: session.frame(state, "/console/health-codes/imports"),
            id,
            requested_at: import.view.requested_at.unwrap_or_default(),
            own: import.requested_by == session.staff.id,
            problem,
            lines: import.rows.into_iter().map(PreviewLine::from).collect(),
        })),
        Err(HealthCodeError::ImportNotFound) => Ok(redirect("/console/health-codes/imports")),
        Err(e) => Err(e.into()),
    }
}

async fn pending_one(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    id: web::Path<i64>,
) -> Answer {
    review_page(&state, &session, id.into_inner(), None).await
}

async fn confirm(
    state: web::Data<AppState>,
    Posted { session, .. }: Posted<HealthOfficial, EmptyForm>,
    id: web::Path<i64>,
) -> Answer {
    let id = id.into_inner();
    match health_code_imports::confirm_import(&state, &session.staff, id).await {
        Ok(_) => Ok(redirect("/console/health-codes/imports?done=confirmed")),
        Err(HealthCodeError::SecondOfficialRequired) => {
            review_page(&state, &session, id, Some("须由提交人以外的工作人员复核")).await
        }
        Err(HealthCodeError::ImportNotFound | HealthCodeError::ImportNotPending) => {
            Ok(redirect("/console/health-codes/imports"))
        }
        Err(e) => Err(e.into()),
    }
}
