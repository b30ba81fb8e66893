//! Resident logins: the mini-program's one-time code is exchanged with its platform, the account
//! is found or created, and a session token is issued.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};

use super::me::{load_me, MeResponse};
use super::rfc3339;
use crate::auth::SessionKind;
use crate::db::accounts;
use crate::domain::FieldError;
use crate::error::{ApiError, Invalid};
use crate::extract::Json;
use crate::platforms::{IdentityProvider, Platform};
use crate::state::State;

/// Platform codes are short opaque strings; anything longer is not one.
const MAX_CODE_LEN: usize = 256;

#[derive(Deserialize)]
pub struct WechatLogin {
    code: String,
}

#[derive(Deserialize)]
pub struct AlipayLogin {
    auth_code: String,
}

#[derive(Deserialize)]
pub struct DevLogin {
    platform: String,
    subject: String,
}

#[derive(Serialize)]
pub struct SessionResponse {
    token: String,
    expires_at: String,
    user: MeResponse,
}

pub async fn wechat(body: Json<WechatLogin>, state: State) -> Result<HttpResponse, ApiError> {
    let code = login_code("code", &body.0.code)?;
    let provider = state.providers.for_platform(Platform::Wechat)?;
    login(&state, provider.as_ref(), Platform::Wechat, &code).await
}

pub async fn alipay(body: Json<AlipayLogin>, state: State) -> Result<HttpResponse, ApiError> {
    let code = login_code("auth_code", &body.0.auth_code)?;
    let provider = state.providers.for_platform(Platform::Alipay)?;
    login(&state, provider.as_ref(), Platform::Alipay, &code).await
}

/// Development only: log in as any subject without a platform. 404 in production.
pub async fn dev(body: Json<DevLogin>, state: State) -> Result<HttpResponse, ApiError> {
    let Some(provider) = state.providers.dev.as_ref() else {
        return Err(super::not_found_error());
    };
    let mut invalid = Invalid::default();
    let platform = invalid.check(
        "platform",
        Platform::parse(body.0.platform.trim())
            .ok_or_else(|| FieldError::new("platform_invalid", "平台只能是 wechat 或 alipay")),
    );
    let subject = invalid.check("subject", login_code_value(&body.0.subject));
    invalid.finish()?;
    let (platform, subject) = (platform.expect("checked"), subject.expect("checked"));
    login(&state, provider.as_ref(), platform, &subject).await
}

fn login_code(field: &str, value: &str) -> Result<String, ApiError> {
    login_code_value(value).map_err(|e| ApiError::invalid_field(field, e))
}

fn login_code_value(value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new("required", "授权码不能为空"));
    }
    if value.len() > MAX_CODE_LEN || value.chars().any(char::is_control) {
        return Err(FieldError::new("code_invalid", "授权码格式不正确"));
    }
    Ok(value.to_owned())
}

/// Exchanges the code, records the login and issues the session.
async fn login(
    state: &State,
    provider: &dyn IdentityProvider,
    platform: Platform,
    code: &str,
) -> Result<HttpResponse, ApiError> {
    let login = provider.login(code).await?;
    let writer = state.clone();
    let account = state
        .db
        .run(move |conn| accounts::record_login(conn, &writer.cipher, platform, &login))
        .await?;
    let issued = state.sessions.issue(&SessionKind::Resident {
        account_id: account.id,
        platform,
    });
    let user = load_me(state, account.id).await?;
    Ok(HttpResponse::Ok().json(SessionResponse {
        token: issued.token,
        expires_at: rfc3339(issued.expires_at, state.settings.timezone),
        user,
    }))
}
