//! Signing in and out of the console. The login form carries the keyed hash of its own cookie, so
//! only a page this server gave out can post a login; the session cookie is the API's staff
//! session token, HttpOnly and SameSite=Strict (Secure outside development).

use std::net::IpAddr;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::edge::{cookie, keyed, session, Answer, CsrfForm, EmptyForm, PageError, COOKIE};
use super::{redirect, render, start_page};
use crate::crypto::constant_time_eq;
use crate::services;
use crate::state::AppState;

/// The login form's own cookie: a random value whose keyed hash the form carries, so only a page
/// this server gave out can post a login (no login CSRF).
const LOGIN_COOKIE: &str = "vc_login";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(home))
        .route("/console/", web::get().to(home))
        .route("/console/login", web::get().to(login_page))
        .route("/console/login", web::post().to(login))
        .route("/console/logout", web::post().to(logout));
}

async fn home(state: web::Data<AppState>, request: HttpRequest) -> Answer {
    let session = session(&state, &request).await?;
    Ok(redirect(start_page(session.staff.role)))
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    problem: Option<&'static str>,
    username: String,
    /// The keyed hash of this page's login cookie.
    login_csrf: String,
}

/// How long a login page may stay open before its form is refused.
const LOGIN_PAGE_SECS: i64 = 3600;

/// The login page with the browser's login cookie (a new one when it has none, so that two tabs
/// of the page both work), whose keyed hash its form carries.
fn login_form(
    state: &AppState,
    request: &HttpRequest,
    status: StatusCode,
    problem: Option<&'static str>,
    username: String,
) -> HttpResponse {
    let nonce = cookie(request, LOGIN_COOKIE)
        .filter(|n| crate::auth::well_formed_session_id(n))
        .unwrap_or_else(crate::auth::new_session_id);
    let mut response = render(&LoginPage {
        problem,
        username,
        login_csrf: keyed(state, b"console-login:", &nonce),
    });
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&console_cookie(
        state,
        LOGIN_COOKIE,
        &nonce,
        LOGIN_PAGE_SECS,
    )) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn login_page(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    login_form(&state, &request, StatusCode::OK, None, String::new())
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    login_csrf: String,
}

/// Whether a login was posted by the login page this server gave the same browser: the browser
/// says the post came from this origin (when it says where from at all), and the form carries
/// the keyed hash of the login cookie, which a page of another origin can neither read nor set.
fn login_posted_here(state: &AppState, request: &HttpRequest, form: &LoginForm) -> bool {
    let site = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if site.is_some_and(|site| site != "same-origin") {
        return false;
    }
    cookie(request, LOGIN_COOKIE).is_some_and(|nonce| {
        constant_time_eq(
            keyed(state, b"console-login:", &nonce).as_bytes(),
            form.login_csrf.as_bytes(),
        )
    })
}

async fn login(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let state = state.into_inner();
    let form = form.into_inner();
    if !login_posted_here(&state, &request, &form) {
        return login_form(
            &state,
            &request,
            StatusCode::FORBIDDEN,
            Some("登录页面已失效，请重新输入后登录"),
            String::new(),
        );
    }
    let LoginForm {
        username, password, ..
    } = form;
    let client: Option<IpAddr> = request.peer_addr().map(|peer| peer.ip());
    match services::staff::login(&state, username.clone(), password, client).await {
        Ok(session) => {
            let hours = i64::from(state.settings.sessions.staff_hours);
            let mut response = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, start_page(session.staff.role)))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
            for cookie in [
                session_cookie(&state, &session.token, hours * 3600),
                console_cookie(&state, LOGIN_COOKIE, "", 0),
            ] {
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            response
        }
        Err(e) => {
            let problem = match e {
                services::staff::StaffError::Locked { .. } => "登录失败次数过多，请稍后再试",
                _ => "用户名或密码错误",
            };
            login_form(
                &state,
                &request,
                StatusCode::UNAUTHORIZED,
                Some(problem),
                username,
            )
        }
    }
}

/// Ends the session when there is one (its form's CSRF token checked), and forgets the cookie.
async fn logout(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<EmptyForm>,
) -> Answer {
    match session(&state, &request).await {
        Ok(session) => {
            if !session.csrf_ok(&state, form.csrf()) {
                return Err(PageError::StaleForm);
            }
            services::staff::logout(&state, &session.staff).await?;
        }
        Err(PageError::SignIn) => {}
        Err(e) => return Err(e),
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/console/login"))
        .insert_header((header::SET_COOKIE, session_cookie(&state, "", 0)))
        .finish())
}

fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> String {
    console_cookie(state, COOKIE, token, max_age_secs)
}

fn console_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if state.settings.is_development() {
        ""
    } else {
        "; Secure"
    };
    format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    )
}
