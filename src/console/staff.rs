//! Staff accounts, for sysadmins: the accounts of their region; a new account with a first
//! password; an account disabled or enabled again, or given another role or region. Each change
//! ends the account's sessions on every node within a second and is audited.

use crate::auth::Sysadmin;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::edge::{csrf_forms, Answer, Posted, Session, Signed};
use super::{filters, redirect, render, Frame};
use crate::auth::password::{PasswordError, MAX_LENGTH, MIN_LENGTH};
use crate::domain::StaffRole;
use crate::services::staff::{self, ManagedAccount, Operator, StaffError};
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/staff", web::get().to(list))
        .route("/console/staff", web::post().to(create))
        .route("/console/staff/{username}/access", web::post().to(access))
        .route("/console/staff/{username}/role", web::post().to(role));
}

/// A role as staff read it.
pub fn role_label(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Reviewer => "场所审核员",
        StaffRole::HealthOfficial => "卫健工作人员",
        StaffRole::Auditor => "审计员",
        StaffRole::Sysadmin => "系统管理员",
        StaffRole::Registrar => "街道社区登记员",
    }
}

#[derive(Template)]
#[template(path = "console/staff_accounts.html")]
struct AccountsPage {
    frame: Frame,
    own_region: String,
    roles: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
    problems: Vec<String>,
    accounts: Vec<ManagedAccount>,
}

impl AccountsPage {
    fn role_of(account: &ManagedAccount) -> &'static str {
        role_label(account.role)
    }
}

async fn show(
    state: &std::sync::Arc<AppState>,
    session: &Session,
    notice: Option<String>,
    problems: Vec<String>,
) -> Answer {
    let accounts = staff::accounts_of(state, &session.staff).await?;
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut response = render(&AccountsPage {
        frame: session.frame(state, "/console/staff"),
        own_region: session.staff.region.to_string(),
        roles: StaffRole::ALL
            .iter()
            .map(|r| (r.as_str(), role_label(*r)))
            .collect(),
        notice,
        problems,
        accounts,
    });
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    Ok(response)
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    session: Signed<Sysadmin>,
    done: web::Query<Done>,
) -> Answer {
    let notice = match done.done.as_deref() {
        Some("created") => Some("已创建账号，请将用户名和初始密码当面交给本人".to_owned()),
        Some("disabled") => Some("已停用该账号，其登录已失效".to_owned()),
        Some("enabled") => Some("已启用该账号".to_owned()),
        Some("role") => Some("已变更该账号的角色和地区，其登录已失效".to_owned()),
        _ => None,
    };
    show(&state, &session, notice, Vec::new()).await
}

/// What went wrong, in words; `None` for a failure that is not the form's.
fn problem_of(error: &StaffError) -> Option<String> {
    Some(match error {
        StaffError::InvalidUsername => "用户名须为3至32位小写字母、数字或“.”“_”“-”".to_owned(),
        StaffError::UsernameTaken(name) => format!("用户名 {name} 已被使用"),
        StaffError::UnknownRegion(code) => format!("地区代码 {code} 不是有效的行政区划"),
        StaffError::OutsideRegion => "只能管理本地区的账号".to_owned(),
        StaffError::UnknownUsername(name) => format!("本地区没有可管理的账号 {name}"),
        StaffError::Password(PasswordError::Length) => {
            format!("密码长度须为{MIN_LENGTH}至{MAX_LENGTH}个字符")
        }
        StaffError::Password(PasswordError::Trivial) => "密码不能由同一个字符组成".to_owned(),
        _ => return None,
    })
}

async fn changed(
    state: &std::sync::Arc<AppState>,
    session: &Session,
    result: Result<(), StaffError>,
    done: &str,
) -> Answer {
    match result {
        Ok(()) => Ok(redirect(&format!("/console/staff?done={done}"))),
        Err(e) => match problem_of(&e) {
            Some(problem) => show(state, session, None, vec![problem]).await,
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
struct NewAccountForm {
    csrf: String,
    username: String,
    role: String,
    region: String,
    password: String,
}

csrf_forms!(NewAccountForm);

async fn create(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<Sysadmin, NewAccountForm>,
) -> Answer {
    let Ok(role) = StaffRole::parse(&form.role) else {
        return show(&state, &session, None, vec!["请选择角色".into()]).await;
    };
    let by = Operator::Sysadmin(session.staff.clone());
    let result = staff::create_account(
        &state,
        &by,
        &form.username,
        role,
        form.region.trim(),
        &form.password,
    )
    .await
    .map(|_| ());
    changed(&state, &session, result, "created").await
}

#[derive(Deserialize)]
struct AccessForm {
    csrf: String,
    disabled: String,
}

csrf_forms!(AccessForm);

async fn access(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<Sysadmin, AccessForm>,
    username: web::Path<String>,
) -> Answer {
    let disabled = form.disabled == "true";
    let by = Operator::Sysadmin(session.staff.clone());
    let result = staff::set_disabled(&state, &by, &username, disabled)
        .await
        .map(|_| ());
    let done = if disabled { "disabled" } else { "enabled" };
    changed(&state, &session, result, done).await
}

#[derive(Deserialize)]
struct RoleForm {
    csrf: String,
    role: String,
    region: String,
}

csrf_forms!(RoleForm);

async fn role(
    state: web::Data<AppState>,
    Posted { session, form, .. }: Posted<Sysadmin, RoleForm>,
    username: web::Path<String>,
) -> Answer {
    let Ok(role) = StaffRole::parse(&form.role) else {
        return show(&state, &session, None, vec!["请选择角色".into()]).await;
    };
    let by = Operator::Sysadmin(session.staff.clone());
    let result = staff::set_role(&state, &by, &username, role, form.region.trim())
        .await
        .map(|_| ());
    changed(&state, &session, result, "role").await
}
