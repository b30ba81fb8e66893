//! The route table: every endpoint the server answers, in one list, and one file per resource.
//! A handler parses the request into a domain input, calls one service function and answers its
//! result; the OpenAPI file is checked against this list by the test suite.

mod alerts;
mod audit_log;
mod check_ins;
mod companions;
mod entrances;
mod follow_ups;
mod health_codes;
mod identity;
mod manual_check_ins;
mod me;
mod notifications;
mod ops;
mod paper_codes;
mod paper_scans;
mod passes;
mod regions;
mod reviews;
mod risk_windows;
mod sessions;
mod staff_sessions;
mod stats;
mod suspensions;
mod test_results;
mod traces;
mod venue_categories;
mod venue_page;
mod venue_staff;
pub mod venues;
mod visitors;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::web::{self, ServiceConfig};
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use crate::domain::{FieldCode, FieldError, FieldErrors, PageRequest};
use crate::state::AppState;
use crate::web::{idempotency, ApiError, ErrorCode};

/// The shared state as handlers receive it.
pub type State = web::Data<AppState>;

/// One method on one path, with its handler.
pub struct Endpoint {
    pub method: Method,
    /// The full path in actix syntax (`/api/v1/venues/{id}`), which is also OpenAPI's.
    pub path: &'static str,
    route: Route,
}

fn endpoint<F, Args>(method: Method, path: &'static str, handler: F) -> Endpoint
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    Endpoint {
        route: web::method(method.clone()).to(handler),
        method,
        path,
    }
}

/// Every endpoint, in the order they are registered.
pub fn endpoints() -> Vec<Endpoint> {
    use Method as M;
    vec![
        // The scan first: actix tries resources in order, and this is the request of the peak.
        endpoint(M::POST, "/api/v1/check-ins", check_ins::scan),
        endpoint(M::GET, "/healthz", ops::healthz),
        endpoint(M::GET, "/readyz", ops::readyz),
        endpoint(M::GET, "/metrics", ops::metrics),
        endpoint(M::GET, "/api-spec/openapi.yaml", ops::openapi),
        endpoint(M::GET, "/api/v1/regions", regions::list),
        endpoint(M::GET, "/api/v1/venue-categories", venue_categories::list),
        endpoint(M::POST, "/api/v1/sessions/wechat", sessions::wechat),
        endpoint(M::POST, "/api/v1/sessions/alipay", sessions::alipay),
        endpoint(M::POST, "/api/v1/sessions/dev", sessions::dev),
        endpoint(M::POST, "/api/v1/staff-sessions", staff_sessions::create),
        endpoint(
            M::DELETE,
            "/api/v1/staff-sessions/current",
            staff_sessions::end,
        ),
        endpoint(M::GET, "/api/v1/staff/me", staff_sessions::me),
        endpoint(M::GET, "/api/v1/me", me::get),
        endpoint(M::DELETE, "/api/v1/me", me::cancel),
        endpoint(M::GET, "/api/v1/me/data", me::data),
        endpoint(M::PUT, "/api/v1/me/consent", me::grant),
        endpoint(M::DELETE, "/api/v1/me/consent", me::withdraw),
        endpoint(M::POST, "/api/v1/me/identity/verification", identity::start),
        endpoint(
            M::POST,
            "/api/v1/me/identity/verification/{verification_id}/result",
            identity::result,
        ),
        endpoint(M::GET, "/api/v1/me/venues", venue_staff::my_venues),
        endpoint(M::POST, "/api/v1/venues", venues::apply),
        // Fixed paths before the parameterised ones beside them.
        endpoint(M::POST, "/api/v1/venues/import", venues::import),
        endpoint(
            M::GET,
            "/api/v1/venues/outdated-posters",
            entrances::outdated_posters,
        ),
        endpoint(M::GET, "/api/v1/venues", venues::list),
        endpoint(M::GET, "/api/v1/venues/{id}", venues::get),
        endpoint(M::PATCH, "/api/v1/venues/{id}", venues::update),
        endpoint(M::POST, "/api/v1/venues/{id}/entrances", entrances::add),
        endpoint(
            M::PATCH,
            "/api/v1/venues/{id}/entrances/{eid}",
            entrances::update,
        ),
        endpoint(
            M::DELETE,
            "/api/v1/venues/{id}/entrances/{eid}",
            entrances::close,
        ),
        endpoint(
            M::GET,
            "/api/v1/venues/{id}/entrances/{eid}/code.png",
            entrances::code_png,
        ),
        endpoint(
            M::GET,
            "/api/v1/venues/{id}/entrances/{eid}/code.svg",
            entrances::code_svg,
        ),
        endpoint(
            M::POST,
            "/api/v1/venues/{id}/entrances/{eid}/code/rotate",
            entrances::rotate_code,
        ),
        endpoint(
            M::POST,
            "/api/v1/venues/{id}/staff-invitations",
            venue_staff::invite,
        ),
        endpoint(M::GET, "/api/v1/venues/{id}/staff", venue_staff::list),
        endpoint(
            M::DELETE,
            "/api/v1/venues/{id}/staff/{account_id}",
            venue_staff::remove,
        ),
        endpoint(
            M::POST,
            "/api/v1/venue-staff-invitations/redeem",
            venue_staff::redeem,
        ),
        endpoint(M::GET, "/api/v1/reviews", reviews::list),
        endpoint(M::POST, "/api/v1/reviews/{id}", reviews::decide),
        endpoint(
            M::POST,
            "/api/v1/check-ins/{id}/checkout",
            check_ins::checkout,
        ),
        endpoint(M::GET, "/api/v1/me/check-ins", check_ins::itinerary),
        endpoint(M::GET, "/api/v1/me/companions", companions::list),
        endpoint(M::POST, "/api/v1/me/companions", companions::add),
        endpoint(M::DELETE, "/api/v1/me/companions/{id}", companions::remove),
        endpoint(
            M::GET,
            "/api/v1/me/companion-requests",
            companions::requests,
        ),
        endpoint(
            M::POST,
            "/api/v1/me/companion-requests/{id}/accept",
            companions::accept,
        ),
        endpoint(
            M::DELETE,
            "/api/v1/me/companion-requests/{id}",
            companions::end,
        ),
        endpoint(M::GET, "/api/v1/me/paper-code.png", paper_codes::own),
        endpoint(
            M::GET,
            "/api/v1/me/companions/{id}/paper-code.png",
            paper_codes::companion,
        ),
        endpoint(
            M::POST,
            "/api/v1/venues/{id}/manual-check-ins",
            manual_check_ins::record,
        ),
        endpoint(
            M::POST,
            "/api/v1/venues/{id}/manual-check-ins/sheets",
            manual_check_ins::record_sheet,
        ),
        endpoint(
            M::POST,
            "/api/v1/venues/{id}/paper-scans",
            paper_scans::scan,
        ),
        endpoint(M::GET, "/api/v1/venues/{id}/stats", stats::of_day),
        endpoint(
            M::GET,
            "/api/v1/venues/{id}/posters.zip",
            entrances::posters_zip,
        ),
        endpoint(M::GET, "/api/v1/venues/{id}/visitors", visitors::list),
        endpoint(M::POST, "/api/v1/venues/{id}/suspend", suspensions::suspend),
        endpoint(M::POST, "/api/v1/venues/{id}/handover", venues::hand_over),
        endpoint(
            M::PUT,
            "/api/v1/venues/{id}/test-requirement",
            test_results::set_requirement,
        ),
        endpoint(M::POST, "/api/v1/venues/{id}/resume", suspensions::resume),
        endpoint(M::GET, "/api/v1/venues/{id}/visitors.csv", visitors::csv),
        endpoint(M::GET, "/api/v1/passes/verify", passes::verify),
        endpoint(M::GET, "/.well-known/jwks.json", passes::jwks),
        // Fixed paths before the parameterised ones beside them: actix tries resources in order.
        endpoint(M::POST, "/api/v1/health-codes/import", health_codes::import),
        endpoint(M::POST, "/api/v1/test-results/import", test_results::import),
        endpoint(
            M::GET,
            "/api/v1/health-codes/imports",
            health_codes::pending_imports,
        ),
        endpoint(
            M::POST,
            "/api/v1/health-codes/imports/{id}/confirm",
            health_codes::confirm_import,
        ),
        endpoint(
            M::PUT,
            "/api/v1/health-codes/{id_number}",
            health_codes::set,
        ),
        endpoint(
            M::GET,
            "/api/v1/health-codes/{id_number}",
            health_codes::get,
        ),
        endpoint(
            M::DELETE,
            "/api/v1/identity-bindings/{id_number}",
            identity::release,
        ),
        endpoint(M::GET, "/api/v1/alerts", alerts::list),
        endpoint(M::GET, "/api/v1/follow-ups", follow_ups::list),
        endpoint(M::POST, "/api/v1/follow-ups/{id}/close", follow_ups::close),
        endpoint(M::POST, "/api/v1/alerts/{id}/close", alerts::close),
        endpoint(M::POST, "/api/v1/traces", traces::create),
        endpoint(M::GET, "/api/v1/traces/{id}", traces::get),
        endpoint(M::GET, "/api/v1/traces/{id}/export.csv", traces::export_csv),
        endpoint(
            M::POST,
            "/api/v1/traces/{id}/color-changes",
            traces::request_color_change,
        ),
        endpoint(
            M::POST,
            "/api/v1/traces/{id}/color-changes/{change_id}/confirm",
            traces::confirm_color_change,
        ),
        endpoint(M::POST, "/api/v1/risk-windows", risk_windows::create),
        endpoint(M::GET, "/api/v1/me/notifications", notifications::list_mine),
        endpoint(M::GET, "/api/v1/audit-log", audit_log::list),
        endpoint(M::GET, "/v/{token}", venue_page::show),
        endpoint(M::GET, "/V/{token}", venue_page::show),
    ]
}

/// Registers one resource per path; a known path with an unsupported method answers 405 (with
/// `Allow` naming the path's methods) and an unknown path 404, both in the error envelope.
pub fn configure(cfg: &mut ServiceConfig) {
    let mut by_path: Vec<(&'static str, Vec<Method>, Vec<Route>)> = Vec::new();
    for endpoint in endpoints() {
        match by_path.iter_mut().find(|(path, ..)| *path == endpoint.path) {
            Some((_, methods, routes)) => {
                methods.push(endpoint.method);
                routes.push(endpoint.route);
            }
            None => by_path.push((endpoint.path, vec![endpoint.method], vec![endpoint.route])),
        }
    }
    for (path, methods, routes) in by_path {
        let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
        let allow = allow.join(", ");
        let resource = routes
            .into_iter()
            .fold(web::resource(path), |resource, route| resource.route(route))
            .default_service(web::to(move || method_not_allowed(allow.clone())));
        if idempotency::body_limit(path).is_some() {
            cfg.service(resource.wrap(from_fn(idempotency::remember)));
        } else {
            cfg.service(resource);
        }
    }
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found().with_message("请求的接口不存在"))
}

async fn method_not_allowed(allow: String) -> HttpResponse {
    use actix_web::ResponseError;
    let mut response = ApiError::new(ErrorCode::MethodNotAllowed).error_response();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    response
}

/// 201 with the created resource.
fn created(body: impl Serialize) -> HttpResponse {
    HttpResponse::Created().json(body)
}

/// `{"items": [...]}`, the shape of every list.
#[derive(Serialize)]
pub struct Items<T> {
    items: Vec<T>,
}

fn items<T>(items: Vec<T>) -> web::Json<Items<T>> {
    web::Json(Items { items })
}

/// `{"items": [...], "next_cursor": …}`, a list that grows, one page at a time: `next_cursor` is
/// null on the last page.
#[derive(Serialize)]
pub struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

fn page<T>((items, next_cursor): (Vec<T>, Option<String>)) -> web::Json<Page<T>> {
    web::Json(Page { items, next_cursor })
}

/// The query of a paged list with no other parameter.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    cursor: Option<String>,
    limit: Option<i64>,
}

/// `?cursor=…&limit=…` of a paged list.
fn page_request(cursor: Option<&str>, limit: Option<i64>) -> Result<PageRequest, ApiError> {
    PageRequest::parse(cursor, limit).map_err(ApiError::invalid_query)
}

/// The kind of the document whose number a path names (`?id_type=passport`); the resident ID
/// when absent.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    id_type: Option<String>,
}

impl DocumentQuery {
    /// The document of `id_number` (a path segment) of this kind.
    fn document(&self, id_number: &str) -> Result<crate::domain::IdDocument, FieldErrors> {
        crate::domain::IdDocument::from_request(self.id_type.as_deref(), id_number)
    }
}

/// Reads an RFC 3339 time from a request field into a stored (UTC) time, recording a field error
/// otherwise.
fn parse_time(errors: &mut FieldErrors, field: &str, value: &str) -> Option<NaiveDateTime> {
    errors
        .check(
            field,
            DateTime::parse_from_rfc3339(value.trim()).map_err(|_| {
                FieldError::new(FieldCode::TimeInvalid, "时间应为带时区的 RFC 3339 时间")
            }),
        )
        .map(|t| t.with_timezone(&Utc).naive_utc())
}

/// A `status` query parameter: `default` when absent, every status for `all`, else one of `all`'s
/// names.
fn status_query<T: Copy>(
    value: Option<&str>,
    default: T,
    every: &[T],
    name_of: fn(T) -> &'static str,
) -> Result<Option<T>, ApiError> {
    match value {
        None => Ok(Some(default)),
        Some("all") => Ok(None),
        Some(value) => every
            .iter()
            .copied()
            .find(|status| name_of(*status) == value)
            .map(Some)
            .ok_or_else(|| {
                let names: Vec<&str> = every.iter().map(|s| name_of(*s)).collect();
                ApiError::invalid_parameter(
                    "status",
                    FieldError::new(
                        FieldCode::StatusInvalid,
                        format!("status 只能是 {} 或 all", names.join("、")),
                    ),
                )
            }),
    }
}
