//! Resident logins: the mini-program's one-time code is exchanged with its platform, the account
//! is found or created, and a session token is issued.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::me::{load_me, MeResponse};
use super::rfc3339;
use crate::auth::{SessionKind, Sessions};
use crate::config::Settings;
use crate::db::{accounts, Database};
use crate::domain::FieldError;
use crate::error::{ApiError, Invalid};
use crate::extract::Json;
use crate::pii::PiiCipher;
use crate::platforms::{IdentityProvider, IdentityProviders, Platform};

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

pub async fn wechat(
    body: Json<WechatLogin>,
    providers: web::Data<IdentityProviders>,
    context: LoginContext,
) -> Result<HttpResponse, ApiError> {
    let code = login_code("code", &body.0.code)?;
    let provider = providers.for_platform(Platform::Wechat)?;
    context
        .login(provider.as_ref(), Platform::Wechat, &code)
        .await
}

pub async fn alipay(
    body: Json<AlipayLogin>,
    providers: web::Data<IdentityProviders>,
    context: LoginContext,
) -> Result<HttpResponse, ApiError> {
    let code = login_code("auth_code", &body.0.auth_code)?;
    let provider = providers.for_platform(Platform::Alipay)?;
    context
        .login(provider.as_ref(), Platform::Alipay, &code)
        .await
}

/// Development only: log in as any subject without a platform. 404 in production.
pub async fn dev(
    body: Json<DevLogin>,
    providers: web::Data<IdentityProviders>,
    context: LoginContext,
) -> Result<HttpResponse, ApiError> {
    let Some(provider) = providers.dev.as_ref() else {
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
    context.login(provider.as_ref(), platform, &subject).await
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

/// What every login needs besides the provider.
pub struct LoginContext {
    db: web::Data<Database>,
    sessions: web::Data<Sessions>,
    cipher: web::Data<PiiCipher>,
    settings: web::Data<Settings>,
}

impl actix_web::FromRequest for LoginContext {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let data = || -> Option<Self> {
            Some(Self {
                db: req.app_data::<web::Data<Database>>()?.clone(),
                sessions: req.app_data::<web::Data<Sessions>>()?.clone(),
                cipher: req.app_data::<web::Data<PiiCipher>>()?.clone(),
                settings: req.app_data::<web::Data<Settings>>()?.clone(),
            })
        };
        std::future::ready(
            data().ok_or_else(|| ApiError::internal("login state is not registered")),
        )
    }
}

impl LoginContext {
    async fn login(
        &self,
        provider: &dyn IdentityProvider,
        platform: Platform,
        code: &str,
    ) -> Result<HttpResponse, ApiError> {
        let login = provider.login(code).await?;
        let cipher = self.cipher.clone();
        let account = self
            .db
            .run(move |conn| accounts::record_login(conn, &cipher, platform, &login))
            .await?;
        let issued = self.sessions.issue(&SessionKind::Resident {
            account_id: account.id,
            platform,
        });
        let user = load_me(&self.db, &self.cipher, account.id).await?;
        Ok(HttpResponse::Ok().json(SessionResponse {
            token: issued.token,
            expires_at: rfc3339(issued.expires_at, self.settings.timezone),
            user,
        }))
    }
}
