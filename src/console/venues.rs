//! Venue search and detail for reviewers and health officials, inside their region: status,
//! address and map point, the masked manager, entrances and their codes.

use crate::auth::{HealthOfficial, Roles, VenueAuthority, VenueReader};
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::edge::{csrf_forms, Answer, Posted, Signed};
use super::{download, filters, form_window, problems, redirect, render, DocumentField, Frame};
use crate::auth::Caller;
use crate::domain::{CheckInSource, FieldErrors, StaffRole, VenueStatus};
use crate::services::entrances;
use crate::services::venues::{self, VenueError, VenueView, SEARCH_LIMIT};
use crate::services::visitors::{self, Visitor, VisitorList, VisitorsError, Window};
use crate::state::AppState;
use crate::web::venue_requests::manager_of;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/venues", web::get().to(search))
        .route("/console/venues/{id}", web::get().to(detail))
        .route(
            "/console/venues/{id}/suspension",
            web::post().to(suspension),
        )
        .route("/console/venues/{id}/posters.zip", web::get().to(posters))
        .route("/console/venues/{id}/handover", web::post().to(handover))
        .route("/console/venues/{id}/visitors", web::get().to(visitor_list))
        .route(
            "/console/venues/{id}/visitors.csv",
            web::get().to(visitor_csv),
        );
}

/// A status as staff read it.
pub fn status_label(status: VenueStatus) -> &'static str {
    match status {
        VenueStatus::Pending => "待审核",
        VenueStatus::Approved => "已发码",
        VenueStatus::Rejected => "已驳回",
    }
}

#[derive(Template)]
#[template(path = "console/venues.html")]
struct SearchPage {
    frame: Frame,
    q: String,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    venues: Vec<VenueView>,
    limit: i64,
}

impl SearchPage {
    fn label(venue: &VenueView) -> &'static str {
        status_label(venue.status)
    }
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    status: Option<String>,
}

async fn search(
    state: web::Data<AppState>,
    session: Signed<VenueReader>,
    query: web::Query<SearchQuery>,
) -> Answer {
    let query = query.into_inner();
    let q: String = query
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(50)
        .collect();
    let status = query.status.as_deref().and_then(VenueStatus::from_name);
    let found = venues::search_in_region(&state, &session.staff, q.clone(), status).await?;
    Ok(render(&SearchPage {
        frame: session.frame(&state, "/console/venues"),
        q,
        status: status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        statuses: VenueStatus::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(*s)))
            .collect(),
        venues: found,
        limit: SEARCH_LIMIT,
    }))
}

#[derive(Template)]
#[template(path = "console/venue.html")]
struct DetailPage {
    frame: Frame,
    venue: VenueView,
    status: &'static str,
    official: bool,
    /// A reviewer or registrar, who may suspend or resume the venue.
    authority: bool,
    /// Only an approved venue is suspended or resumed.
    approved: bool,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    /// The visitor form's first window: the last two hours, up to now.
    from: String,
    to: String,
    /// The handover form's document kinds.
    document: DocumentField,
}

#[derive(Deserialize)]
struct DetailOutcome {
    done: Option<String>,
}

async fn detail(
    state: web::Data<AppState>,
    session: Signed<VenueReader>,
    id: web::Path<i64>,
    outcome: web::Query<DetailOutcome>,
) -> Answer {
    match venues::get_in_region(&state, &session.staff, id.into_inner()).await {
        Ok(venue) => {
            let now = state.clock.now_naive();
            Ok(render(&DetailPage {
                frame: session.frame(&state, "/console/venues"),
                status: status_label(venue.status),
                official: session.staff.role == StaffRole::HealthOfficial,
                authority: VenueAuthority::ROLES.contains(&session.staff.role),
                approved: venue.status == VenueStatus::Approved,
                notice: match outcome.done.as_deref() {
                    Some("suspended") => Some("已暂停该场所的场所码"),
                    Some("resumed") => Some("已恢复该场所的场所码"),
                    Some("handed_over") => {
                        Some("已移交新负责人；新负责人用登记的手机号登录小程序后即可管理场所")
                    }
                    _ => None,
                },
                problem: match outcome.done.as_deref() {
                    Some("reason") => Some("请填写原因（1至200字）"),
                    Some("conflict") => Some("场所状态已变化，请刷新后重试"),
                    Some("manager") => Some("新负责人的姓名、手机号或证件号码有误，请核对"),
                    _ => None,
                },
                venue,
                document: DocumentField::new(None),
                from: state.clock.local_input(now - chrono::Duration::hours(2)),
                // A form's times are whole minutes: round up, so that the window includes now.
                to: state.clock.local_input(now + chrono::Duration::minutes(1)),
            }))
        }
        Err(VenueError::NotFound) => Ok(redirect("/console/venues")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct WindowQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The window of a visitor query (local times of the form), or what is wrong with it.
fn window_of(state: &AppState, query: &WindowQuery) -> Result<Window, Vec<String>> {
    let mut errors = FieldErrors::default();
    let (from, to) = form_window(
        state,
        &mut errors,
        query.from.as_deref(),
        query.to.as_deref(),
    );
    let window = Window::check(&mut errors, from, to, state.retained());
    errors.into_result(window).map_err(|errors| {
        problems(&errors, |field| {
            if field == "from" {
                "开始时间"
            } else {
                "结束时间"
            }
        })
    })
}

#[derive(Template)]
#[template(path = "console/visitors.html")]
struct VisitorsPage {
    frame: Frame,
    venue_id: i64,
    from: String,
    to: String,
    problems: Vec<String>,
    list: Option<VisitorList>,
}

impl VisitorsPage {
    fn source(visitor: &Visitor) -> &'static str {
        match visitor.source {
            CheckInSource::Scan => "扫码",
            CheckInSource::Manual => "人工登记",
            CheckInSource::Paper => "纸质码",
        }
    }
}

/// Everyone at the venue in a window (health officials; audited by the service).
async fn visitor_list(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    id: web::Path<i64>,
    query: web::Query<WindowQuery>,
) -> Answer {
    let venue_id = id.into_inner();
    let mut page = VisitorsPage {
        frame: session.frame(&state, "/console/venues"),
        venue_id,
        from: query.from.clone().unwrap_or_default(),
        to: query.to.clone().unwrap_or_default(),
        problems: Vec::new(),
        list: None,
    };
    match window_of(&state, &query) {
        Ok(window) => match visitors::list(&state, &session.staff, venue_id, window, None).await {
            Ok(list) => page.list = Some(list),
            Err(VisitorsError::VenueNotFound) => return Ok(redirect("/console/venues")),
            Err(e) => return Err(e.into()),
        },
        Err(problems) => page.problems = problems,
    }
    Ok(render(&page))
}

async fn visitor_csv(
    state: web::Data<AppState>,
    session: Signed<HealthOfficial>,
    id: web::Path<i64>,
    query: web::Query<WindowQuery>,
) -> Answer {
    let venue_id = id.into_inner();
    let Ok(window) = window_of(&state, &query) else {
        return Ok(redirect(&format!("/console/venues/{venue_id}")));
    };
    match visitors::list(&state, &session.staff, venue_id, window, None).await {
        Ok(list) => Ok(download(
            "text/csv; charset=utf-8",
            &format!("visitors-{venue_id}.csv"),
            visitors::to_csv(&list),
        )),
        Err(VisitorsError::VenueNotFound) => Ok(redirect("/console/venues")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct SuspensionForm {
    csrf: String,
    /// `suspend` or `resume`.
    action: String,
    reason: String,
}

csrf_forms!(SuspensionForm);

/// A reviewer or registrar suspends or resumes the venue's codes, with a reason.
async fn suspension(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<VenueAuthority, SuspensionForm>,
    id: web::Path<i64>,
) -> Answer {
    let venue_id = id.into_inner();
    let back = format!("/console/venues/{venue_id}");
    let reason: String = form.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > venues::MAX_REASON_CHARS {
        return Ok(redirect(&format!("{back}?done=reason")));
    }
    let suspend = form.action == "suspend";
    match venues::set_suspended(&state, &session.staff, venue_id, suspend, reason).await {
        Ok(_) if suspend => Ok(redirect(&format!("{back}?done=suspended"))),
        Ok(_) => Ok(redirect(&format!("{back}?done=resumed"))),
        Err(VenueError::NotFound) => Ok(redirect("/console/venues")),
        Err(VenueError::Suspended | VenueError::NotSuspended | VenueError::NotActive) => {
            Ok(redirect(&format!("{back}?done=conflict")))
        }
        Err(e) => Err(e.into()),
    }
}

/// Every open entrance's code and A4 poster in one zip, for the local authorities.
async fn posters(
    state: web::Data<AppState>,
    session: Signed<VenueAuthority>,
    id: web::Path<i64>,
) -> Answer {
    let venue_id = id.into_inner();
    match entrances::posters_zip(&state, &Caller::Staff(session.session.staff), venue_id).await {
        Ok(file) => Ok(download(file.content_type, &file.file_name, file.bytes)),
        Err(VenueError::NotFound | VenueError::ForStaffOfVenues) => Ok(redirect("/console/venues")),
        Err(VenueError::NotActive) => Ok(redirect(&format!(
            "/console/venues/{venue_id}?done=conflict"
        ))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct HandoverForm {
    csrf: String,
    name: String,
    phone: String,
    id_type: Option<String>,
    id_number: String,
}

csrf_forms!(HandoverForm);

/// A reviewer or registrar hands the venue over to another manager.
async fn handover(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<VenueAuthority, HandoverForm>,
    id: web::Path<i64>,
) -> Answer {
    let venue_id = id.into_inner();
    let back = format!("/console/venues/{venue_id}");
    let Ok(manager) = manager_of(
        &form.name,
        &form.phone,
        form.id_type.as_deref(),
        &form.id_number,
    ) else {
        return Ok(redirect(&format!("{back}?done=manager")));
    };
    match venues::hand_over(&state, &Caller::Staff(session.staff), venue_id, manager).await {
        Ok(_) => Ok(redirect(&format!("{back}?done=handed_over"))),
        Err(VenueError::NotFound | VenueError::ForStaffOfVenues) => Ok(redirect("/console/venues")),
        Err(VenueError::NotActive) => Ok(redirect(&format!("{back}?done=conflict"))),
        Err(VenueError::Invalid(_)) => Ok(redirect(&format!("{back}?done=manager"))),
        Err(e) => Err(e.into()),
    }
}
