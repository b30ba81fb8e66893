//! Resident logins: the mini-program's one-time code is exchanged with its platform, the account
//! is found or created, and a session token is issued.

use actix_web::web;
use serde::Deserialize;

use super::State;
use crate::domain::{FieldCode, FieldError, FieldErrors, Platform};
use crate::services::accounts::{self, LoginVia, SessionView};
use crate::web::{ApiError, Json};

/// Platform codes are short opaque strings; anything longer is not one.
const MAX_CODE_LEN: usize = 256;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatLogin {
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlipayLogin {
    auth_code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevLogin {
    platform: String,
    subject: String,
}

fn login_code(value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(FieldCode::Required, "授权码不能为空"));
    }
    // The platforms' codes are short runs of printable ASCII.
    if value.len() > MAX_CODE_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldError::new(FieldCode::CodeInvalid, "授权码格式不正确"));
    }
    Ok(value.to_owned())
}

fn code_field(field: &str, value: &str) -> Result<String, FieldErrors> {
    login_code(value).map_err(|e| FieldErrors::one(field, e))
}

pub async fn wechat(
    body: Json<WechatLogin>,
    state: State,
) -> Result<web::Json<SessionView>, ApiError> {
    let code = code_field("code", &body.0.code)?;
    let via = LoginVia::Platform(Platform::Wechat);
    Ok(web::Json(accounts::login(&state, via, code).await?))
}

pub async fn alipay(
    body: Json<AlipayLogin>,
    state: State,
) -> Result<web::Json<SessionView>, ApiError> {
    let code = code_field("auth_code", &body.0.auth_code)?;
    let via = LoginVia::Platform(Platform::Alipay);
    Ok(web::Json(accounts::login(&state, via, code).await?))
}

/// Development only: log in as any subject without a platform. 404 in production.
pub async fn dev(body: Json<DevLogin>, state: State) -> Result<web::Json<SessionView>, ApiError> {
    if state.providers.dev.is_none() {
        return Err(ApiError::not_found().with_message("请求的接口不存在"));
    }
    let mut errors = FieldErrors::default();
    let platform = errors.check(
        "platform",
        Platform::from_name(body.0.platform.trim()).ok_or_else(|| {
            FieldError::new(FieldCode::PlatformInvalid, "平台只能是 wechat 或 alipay")
        }),
    );
    let subject = body.0.subject.trim();
    let subject = errors.check(
        "subject",
        crate::platforms::dev::is_subject(subject)
            .then(|| subject.to_owned())
            .ok_or_else(|| {
                FieldError::new(
                    FieldCode::SubjectInvalid,
                    "subject 为1至64位字母、数字、- 或 _",
                )
            }),
    );
    let (platform, subject) = errors.into_result(platform.zip(subject))?;
    let via = LoginVia::Development(platform);
    Ok(web::Json(accounts::login(&state, via, subject).await?))
}
