//! Health officials' colour pages: one person looked up and given a colour (many at once:
//! `health_code_imports.rs`). ID numbers travel only in form bodies, never in addresses.

use crate::auth::HealthOfficial;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::edge::{csrf_forms, Answer, Posted, Session, Signed};
use super::{problems, render, DocumentField, Frame};
use crate::domain::{FieldErrors, HealthColor, HealthReason, IdDocument};
use crate::services::health_codes::{self, ColorInput, HealthCodeError, HealthCodeView, NewColor};
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/health-codes", web::get().to(person_page))
        .route("/console/health-codes/lookup", web::post().to(lookup))
        .route("/console/health-codes", web::post().to(set));
}

/// The choices of the colour form, by code and label.
pub struct Choices {
    pub colors: Vec<(&'static str, &'static str)>,
    pub reasons: Vec<(&'static str, &'static str)>,
}

impl Default for Choices {
    fn default() -> Self {
        Self {
            colors: HealthColor::ALL
                .iter()
                .map(|c| (c.as_str(), c.label()))
                .collect(),
            reasons: HealthReason::ALL
                .iter()
                .map(|r| (r.as_str(), r.label()))
                .collect(),
        }
    }
}

/// One history entry as the page shows it.
struct HistoryLine {
    color: &'static str,
    color_class: &'static str,
    reason: &'static str,
    note: String,
    changed_at: String,
}

/// A person's colour and history as the page shows it.
struct PersonCard {
    id_type: &'static str,
    id_number: String,
    name: String,
    color: &'static str,
    color_class: &'static str,
    updated_at: String,
    history: Vec<HistoryLine>,
}

impl From<HealthCodeView> for PersonCard {
    fn from(view: HealthCodeView) -> Self {
        Self {
            id_type: view.id_type.label(),
            id_number: view.id_number,
            name: view.name,
            color: view.color.label(),
            color_class: view.color.as_str(),
            updated_at: view.updated_at.unwrap_or_else(|| "无记录".into()),
            history: view
                .history
                .into_iter()
                .map(|h| HistoryLine {
                    color: h.color.label(),
                    color_class: h.color.as_str(),
                    reason: h.reason_code.label(),
                    note: h.note.unwrap_or_default(),
                    changed_at: h.changed_at,
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/health_code.html")]
struct PersonPage {
    frame: Frame,
    choices: Choices,
    /// The document the forms are filled with.
    document: DocumentField,
    id_number: String,
    person: Option<PersonCard>,
    /// Shown when the number is not a person of the region yet: the colour form asks for a name.
    unknown: bool,
    notice: Option<String>,
    problems: Vec<String>,
}

impl PersonPage {
    fn new(frame: Frame) -> Self {
        Self {
            frame,
            choices: Choices::default(),
            document: DocumentField::new(None),
            id_number: String::new(),
            person: None,
            unknown: false,
            notice: None,
            problems: Vec::new(),
        }
    }
}

async fn person_page(state: web::Data<AppState>, session: Signed<HealthOfficial>) -> Answer {
    Ok(render(&PersonPage::new(
        session.frame(&state, "/console/health-codes"),
    )))
}

pub(super) fn column_label(field: &str) -> &'static str {
    match field {
        "id_type" => "证件类型",
        "id_number" => "证件号码",
        "name" => "姓名",
        "color" => "颜色",
        "reason_code" => "原因",
        "note" => "备注",
        _ => "内容",
    }
}

#[derive(Deserialize)]
struct LookupForm {
    csrf: String,
    id_type: Option<String>,
    id_number: String,
}

csrf_forms!(LookupForm);

/// The colour and history of one person of the region (an audited read).
async fn lookup(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<HealthOfficial, LookupForm>,
) -> Answer {
    let mut page = PersonPage::new(session.frame(&state, "/console/health-codes"));
    page.id_number = form.id_number.trim().to_owned();
    page.document = DocumentField::new(form.id_type.as_deref());
    let document = match IdDocument::from_request(form.id_type.as_deref(), &page.id_number) {
        Ok(document) => document,
        Err(errors) => {
            page.problems = problems(&errors, column_label);
            return Ok(render(&page));
        }
    };
    show_person(&state, &session, page, document).await
}

async fn show_person(
    state: &std::sync::Arc<AppState>,
    session: &Session,
    mut page: PersonPage,
    document: IdDocument,
) -> Answer {
    match health_codes::get(state, &session.staff, document).await {
        Ok(view) => page.person = Some(view.into()),
        Err(HealthCodeError::NotFound) => page.unknown = true,
        Err(e) => return Err(e.into()),
    }
    Ok(render(&page))
}

#[derive(Deserialize)]
struct ColorForm {
    csrf: String,
    id_type: Option<String>,
    id_number: String,
    name: Option<String>,
    color: String,
    reason_code: String,
    note: Option<String>,
}

csrf_forms!(ColorForm);

/// One person's colour set, then shown with its history.
async fn set(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<HealthOfficial, ColorForm>,
) -> Answer {
    let mut page = PersonPage::new(session.frame(&state, "/console/health-codes"));
    page.id_number = form.id_number.trim().to_owned();
    page.document = DocumentField::new(form.id_type.as_deref());
    let mut errors = FieldErrors::default();
    let input = ColorInput {
        id_type: form.id_type.as_deref(),
        id_number: &page.id_number,
        name: form.name.as_deref(),
        color: &form.color,
        reason_code: &form.reason_code,
        note: form.note.as_deref(),
    };
    let change = NewColor::check(&mut errors, "", input);
    let change = match errors.into_result(change) {
        Ok(change) => change,
        Err(errors) => {
            page.problems = problems(&errors, column_label);
            let mut response = render(&page);
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
    };
    match health_codes::set(&state, &session.staff, change).await {
        Ok(view) => {
            page.notice = Some(format!(
                "已将{}的健康码设为{}",
                view.name,
                view.color.label()
            ));
            page.person = Some(view.into());
            Ok(render(&page))
        }
        Err(HealthCodeError::NotFound) => {
            page.unknown = true;
            page.problems
                .push("本地区无此人记录，且该身份证号不属于本地区，无法赋码".into());
            Ok(render(&page))
        }
        Err(HealthCodeError::Invalid(errors)) => {
            page.unknown = true;
            page.problems = problems(&errors, column_label);
            Ok(render(&page))
        }
        Err(e) => Err(e.into()),
    }
}
