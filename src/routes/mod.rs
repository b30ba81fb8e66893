//! The route table: every endpoint the server answers, in one list. The OpenAPI file is checked
//! against this list by the test suite, so the two cannot drift apart.

mod alerts;
mod audit_log;
mod check_ins;
mod companions;
mod health_codes;
mod me;
mod ops;
mod paper_codes;
mod passes;
mod regions;
mod reviews;
mod risk_windows;
mod sessions;
mod staff_sessions;
mod traces;
mod venue_categories;
mod venue_desk;
mod venue_page;
mod venue_staff;
pub(crate) mod venues;

use actix_web::http::Method;
use actix_web::web::{self, ServiceConfig};
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route};

use chrono::{DateTime, Utc};

use crate::error::{ApiError, ErrorCode};

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
    vec![
        endpoint(Method::GET, "/healthz", ops::healthz),
        endpoint(Method::GET, "/readyz", ops::readyz),
        endpoint(Method::GET, "/metrics", ops::metrics),
        endpoint(Method::GET, "/api-spec/openapi.yaml", ops::openapi),
        endpoint(Method::GET, "/api/v1/regions", regions::list),
        endpoint(
            Method::GET,
            "/api/v1/venue-categories",
            venue_categories::list,
        ),
        endpoint(Method::POST, "/api/v1/sessions/wechat", sessions::wechat),
        endpoint(Method::POST, "/api/v1/sessions/alipay", sessions::alipay),
        endpoint(Method::POST, "/api/v1/sessions/dev", sessions::dev),
        endpoint(
            Method::POST,
            "/api/v1/staff-sessions",
            staff_sessions::create,
        ),
        endpoint(Method::GET, "/api/v1/staff/me", staff_sessions::me),
        endpoint(Method::GET, "/api/v1/me", me::get),
        endpoint(Method::PUT, "/api/v1/me/consent", me::grant),
        endpoint(Method::DELETE, "/api/v1/me/consent", me::withdraw),
        endpoint(Method::GET, "/api/v1/me/venues", venue_staff::my_venues),
        endpoint(Method::POST, "/api/v1/venues", venues::apply),
        endpoint(Method::GET, "/api/v1/venues", venues::list),
        endpoint(Method::GET, "/api/v1/venues/{id}", venues::get),
        endpoint(Method::PATCH, "/api/v1/venues/{id}", venues::update),
        endpoint(
            Method::POST,
            "/api/v1/venues/{id}/entrances",
            venues::add_entrance,
        ),
        endpoint(
            Method::PATCH,
            "/api/v1/venues/{id}/entrances/{eid}",
            venues::update_entrance,
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/venues/{id}/entrances/{eid}",
            venues::close_entrance,
        ),
        endpoint(
            Method::GET,
            "/api/v1/venues/{id}/entrances/{eid}/code.png",
            venues::code_png,
        ),
        endpoint(
            Method::GET,
            "/api/v1/venues/{id}/entrances/{eid}/code.svg",
            venues::code_svg,
        ),
        endpoint(
            Method::POST,
            "/api/v1/venues/{id}/entrances/{eid}/code/rotate",
            venues::rotate_code,
        ),
        endpoint(
            Method::POST,
            "/api/v1/venues/{id}/staff-invitations",
            venue_staff::invite,
        ),
        endpoint(Method::GET, "/api/v1/venues/{id}/staff", venue_staff::list),
        endpoint(
            Method::DELETE,
            "/api/v1/venues/{id}/staff/{account_id}",
            venue_staff::remove,
        ),
        endpoint(
            Method::POST,
            "/api/v1/venue-staff-invitations/redeem",
            venue_staff::redeem,
        ),
        endpoint(Method::GET, "/api/v1/reviews", reviews::list),
        endpoint(Method::POST, "/api/v1/reviews/{venue_id}", reviews::decide),
        endpoint(Method::POST, "/api/v1/check-ins", check_ins::scan),
        endpoint(
            Method::POST,
            "/api/v1/check-ins/{id}/checkout",
            check_ins::checkout,
        ),
        endpoint(Method::GET, "/api/v1/me/check-ins", check_ins::itinerary),
        endpoint(Method::GET, "/api/v1/me/companions", companions::list),
        endpoint(Method::POST, "/api/v1/me/companions", companions::add),
        endpoint(
            Method::DELETE,
            "/api/v1/me/companions/{id}",
            companions::remove,
        ),
        endpoint(Method::GET, "/api/v1/me/paper-code.png", paper_codes::own),
        endpoint(
            Method::GET,
            "/api/v1/me/companions/{id}/paper-code.png",
            paper_codes::companion,
        ),
        endpoint(
            Method::POST,
            "/api/v1/venues/{id}/manual-check-ins",
            venue_desk::manual,
        ),
        endpoint(
            Method::POST,
            "/api/v1/venues/{id}/paper-scans",
            venue_desk::paper_scan,
        ),
        endpoint(Method::GET, "/api/v1/venues/{id}/stats", venue_desk::stats),
        endpoint(Method::GET, "/api/v1/passes/verify", passes::verify),
        endpoint(Method::GET, "/.well-known/jwks.json", passes::jwks),
        // Fixed paths before the parameterised ones beside them: actix tries resources in order.
        endpoint(
            Method::POST,
            "/api/v1/health-codes/import",
            health_codes::import,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/health-codes/{id_number}",
            health_codes::set,
        ),
        endpoint(
            Method::GET,
            "/api/v1/health-codes/{id_number}",
            health_codes::get,
        ),
        endpoint(Method::GET, "/api/v1/alerts", alerts::list),
        endpoint(Method::POST, "/api/v1/alerts/{id}/close", alerts::close),
        endpoint(Method::POST, "/api/v1/traces", traces::create),
        endpoint(Method::GET, "/api/v1/traces/{id}", traces::get),
        endpoint(
            Method::GET,
            "/api/v1/traces/{id}/export.csv",
            traces::export_csv,
        ),
        endpoint(
            Method::POST,
            "/api/v1/traces/{id}/color-changes",
            traces::request_color_change,
        ),
        endpoint(
            Method::POST,
            "/api/v1/traces/{id}/color-changes/{change_id}/confirm",
            traces::confirm_color_change,
        ),
        endpoint(Method::POST, "/api/v1/risk-windows", risk_windows::create),
        endpoint(Method::GET, "/api/v1/me/notifications", risk_windows::mine),
        endpoint(Method::GET, "/api/v1/audit-log", audit_log::list),
        endpoint(Method::GET, "/v/{token}", venue_page::show),
        endpoint(Method::GET, "/V/{token}", venue_page::show),
    ]
}

/// Registers one resource per path; a known path with an unsupported method answers 405 and an
/// unknown path 404, both in the error envelope.
pub fn configure(cfg: &mut ServiceConfig) {
    let mut by_path: Vec<(&'static str, Vec<Route>)> = Vec::new();
    for endpoint in endpoints() {
        match by_path.iter_mut().find(|(path, _)| *path == endpoint.path) {
            Some((_, routes)) => routes.push(endpoint.route),
            None => by_path.push((endpoint.path, vec![endpoint.route])),
        }
    }
    for (path, routes) in by_path {
        let resource = routes
            .into_iter()
            .fold(web::resource(path), |resource, route| resource.route(route))
            .default_service(web::to(method_not_allowed));
        cfg.service(resource);
    }
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(not_found_error())
}

fn not_found_error() -> ApiError {
    ApiError::not_found().with_message("请求的接口不存在")
}

/// A stored UTC time as RFC 3339 in the configured zone.
pub(crate) fn local_time(state: &crate::state::AppState, time: chrono::NaiveDateTime) -> String {
    crate::localtime::rfc3339_stored(time, state.settings.timezone)
}

/// Reads an RFC 3339 time from a request field into UTC, recording a field error otherwise.
pub(crate) fn parse_time(
    invalid: &mut crate::error::Invalid,
    field: &str,
    value: &str,
) -> Option<chrono::NaiveDateTime> {
    invalid
        .check(
            field,
            DateTime::parse_from_rfc3339(value.trim()).map_err(|_| {
                crate::domain::FieldError::new("time_invalid", "时间应为带时区的 RFC 3339 时间")
            }),
        )
        .map(|t| t.with_timezone(&Utc).naive_utc())
}

pub(crate) use crate::localtime::rfc3339;

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::MethodNotAllowed))
}
