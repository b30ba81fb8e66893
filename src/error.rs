//! The one error type of the HTTP layer. Every failure answers
//! `{"error": {"code", "message", "details"}}` with a stable snake_case `code` that the
//! mini-programs switch on and a message in Chinese. A 500 says nothing internal; the cause is
//! logged in full where it happens.

use std::borrow::Cow;
use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

use crate::db::venues::VenueError;
use crate::db::DbError;
use crate::domain::FieldError;
use crate::platforms::PlatformError;

/// Every code the API can answer, with its status and default message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    MalformedJson,
    UnsupportedMediaType,
    PayloadTooLarge,
    InvalidQuery,
    ValidationFailed,
    NotFound,
    MethodNotAllowed,
    ServiceUnavailable,
    InternalError,
    Unauthorized,
    Forbidden,
    InvalidCredentials,
    TooManyRequests,
    PlatformCodeInvalid,
    PlatformUserBlocked,
    PlatformUnavailable,
    PlatformNotConfigured,
    IdentityAlreadyBound,
    IdentityMismatch,
    VenueLocked,
    EntranceNameTaken,
    VenueNotActive,
    EntranceClosed,
    VenueNotPending,
    InvalidVenueCode,
    VenueCodeRevoked,
    InvitationInvalid,
    ConsentRequired,
    TooFarFromVenue,
    CompanionNotFound,
    CompanionNotEligible,
    TooManyCompanions,
    CompanionAccountLimit,
    CompanionExists,
    InvalidPersonalCode,
    PersonalCodeExpired,
    SecondOfficialRequired,
    ChangeNotPending,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 38] = [
        ErrorCode::MalformedJson,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::PayloadTooLarge,
        ErrorCode::InvalidQuery,
        ErrorCode::ValidationFailed,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::ServiceUnavailable,
        ErrorCode::InternalError,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::InvalidCredentials,
        ErrorCode::TooManyRequests,
        ErrorCode::PlatformCodeInvalid,
        ErrorCode::PlatformUserBlocked,
        ErrorCode::PlatformUnavailable,
        ErrorCode::PlatformNotConfigured,
        ErrorCode::IdentityAlreadyBound,
        ErrorCode::IdentityMismatch,
        ErrorCode::VenueLocked,
        ErrorCode::EntranceNameTaken,
        ErrorCode::VenueNotActive,
        ErrorCode::EntranceClosed,
        ErrorCode::VenueNotPending,
        ErrorCode::InvalidVenueCode,
        ErrorCode::VenueCodeRevoked,
        ErrorCode::InvitationInvalid,
        ErrorCode::ConsentRequired,
        ErrorCode::TooFarFromVenue,
        ErrorCode::CompanionNotFound,
        ErrorCode::CompanionNotEligible,
        ErrorCode::TooManyCompanions,
        ErrorCode::CompanionAccountLimit,
        ErrorCode::CompanionExists,
        ErrorCode::InvalidPersonalCode,
        ErrorCode::PersonalCodeExpired,
        ErrorCode::SecondOfficialRequired,
        ErrorCode::ChangeNotPending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::ServiceUnavailable => "service_unavailable",
            ErrorCode::InternalError => "internal_error",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::PlatformCodeInvalid => "platform_code_invalid",
            ErrorCode::PlatformUserBlocked => "platform_user_blocked",
            ErrorCode::PlatformUnavailable => "platform_unavailable",
            ErrorCode::PlatformNotConfigured => "platform_not_configured",
            ErrorCode::IdentityAlreadyBound => "identity_already_bound",
            ErrorCode::IdentityMismatch => "identity_mismatch",
            ErrorCode::VenueLocked => "venue_locked",
            ErrorCode::EntranceNameTaken => "entrance_name_taken",
            ErrorCode::VenueNotActive => "venue_not_active",
            ErrorCode::EntranceClosed => "entrance_closed",
            ErrorCode::VenueNotPending => "venue_not_pending",
            ErrorCode::InvalidVenueCode => "invalid_venue_code",
            ErrorCode::VenueCodeRevoked => "venue_code_revoked",
            ErrorCode::InvitationInvalid => "invitation_invalid",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::TooFarFromVenue => "too_far_from_venue",
            ErrorCode::CompanionNotFound => "companion_not_found",
            ErrorCode::CompanionNotEligible => "companion_not_eligible",
            ErrorCode::TooManyCompanions => "too_many_companions",
            ErrorCode::CompanionAccountLimit => "companion_account_limit",
            ErrorCode::CompanionExists => "companion_exists",
            ErrorCode::InvalidPersonalCode => "invalid_personal_code",
            ErrorCode::PersonalCodeExpired => "personal_code_expired",
            ErrorCode::SecondOfficialRequired => "second_official_required",
            ErrorCode::ChangeNotPending => "change_not_pending",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MalformedJson | ErrorCode::InvalidQuery => StatusCode::BAD_REQUEST,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::PlatformCodeInvalid => StatusCode::UNAUTHORIZED,
            ErrorCode::PlatformUserBlocked => StatusCode::FORBIDDEN,
            ErrorCode::PlatformUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::PlatformNotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::IdentityAlreadyBound => StatusCode::CONFLICT,
            ErrorCode::IdentityMismatch => StatusCode::CONFLICT,
            ErrorCode::VenueLocked => StatusCode::CONFLICT,
            ErrorCode::EntranceNameTaken => StatusCode::CONFLICT,
            ErrorCode::VenueNotActive => StatusCode::CONFLICT,
            ErrorCode::EntranceClosed => StatusCode::CONFLICT,
            ErrorCode::VenueNotPending => StatusCode::CONFLICT,
            ErrorCode::InvalidVenueCode => StatusCode::BAD_REQUEST,
            ErrorCode::VenueCodeRevoked => StatusCode::GONE,
            ErrorCode::InvitationInvalid => StatusCode::NOT_FOUND,
            ErrorCode::ConsentRequired => StatusCode::FORBIDDEN,
            ErrorCode::TooFarFromVenue => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::CompanionNotFound => StatusCode::NOT_FOUND,
            ErrorCode::CompanionNotEligible => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::TooManyCompanions => StatusCode::CONFLICT,
            ErrorCode::CompanionAccountLimit => StatusCode::CONFLICT,
            ErrorCode::CompanionExists => StatusCode::CONFLICT,
            ErrorCode::InvalidPersonalCode => StatusCode::BAD_REQUEST,
            ErrorCode::PersonalCodeExpired => StatusCode::GONE,
            ErrorCode::SecondOfficialRequired => StatusCode::FORBIDDEN,
            ErrorCode::ChangeNotPending => StatusCode::CONFLICT,
        }
    }

    pub fn default_message(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "请求内容不是有效的 JSON",
            ErrorCode::UnsupportedMediaType => "请求内容类型应为 application/json",
            ErrorCode::PayloadTooLarge => "请求内容过大",
            ErrorCode::InvalidQuery => "查询参数格式不正确",
            ErrorCode::ValidationFailed => "提交的信息有误，请按提示修改",
            ErrorCode::NotFound => "请求的内容不存在",
            ErrorCode::MethodNotAllowed => "不支持该请求方法",
            ErrorCode::ServiceUnavailable => "服务繁忙，请稍后再试",
            ErrorCode::InternalError => "服务器内部错误，请稍后再试",
            ErrorCode::Unauthorized => "请先登录",
            ErrorCode::Forbidden => "没有权限进行此操作",
            ErrorCode::InvalidCredentials => "用户名或密码错误",
            ErrorCode::TooManyRequests => "操作过于频繁，请稍后再试",
            ErrorCode::PlatformCodeInvalid => "授权码无效或已过期，请重新授权",
            ErrorCode::PlatformUserBlocked => "平台判定该账号存在风险，暂时无法登录",
            ErrorCode::PlatformUnavailable => "微信或支付宝服务暂时不可用，请稍后再试",
            ErrorCode::PlatformNotConfigured => "暂不支持通过该平台登录",
            ErrorCode::IdentityAlreadyBound => "该身份证号已绑定本平台的其他账号",
            ErrorCode::IdentityMismatch => "本账号已实名为其他身份，请先撤回授权",
            ErrorCode::VenueLocked => "场所已审核通过，基本信息不能再修改",
            ErrorCode::EntranceNameTaken => "同一场所的入口名称不能重复",
            ErrorCode::VenueNotActive => "场所尚未审核通过，场所码暂不可用",
            ErrorCode::EntranceClosed => "该入口已关闭",
            ErrorCode::VenueNotPending => "该申请已审核，不能重复审核",
            ErrorCode::InvalidVenueCode => "无法识别的场所码，请扫描场所张贴的场所码",
            ErrorCode::VenueCodeRevoked => "该场所码已作废，请扫描场所张贴的新码",
            ErrorCode::InvitationInvalid => "邀请码无效、已使用或已过期",
            ErrorCode::ConsentRequired => "请先同意授权昵称头像、手机号和实名信息",
            ErrorCode::TooFarFromVenue => "您与场所距离过远，请到场所现场扫码",
            ErrorCode::CompanionNotFound => "同行人员不存在，请先添加",
            ErrorCode::CompanionNotEligible => "同行人员须为未满18周岁或60周岁及以上人员",
            ErrorCode::TooManyCompanions => "同行人员已达上限",
            ErrorCode::CompanionAccountLimit => "该人员已被过多账号添加为同行人员",
            ErrorCode::CompanionExists => "该人员已是您的同行人员",
            ErrorCode::InvalidPersonalCode => "无法识别的个人码",
            ErrorCode::PersonalCodeExpired => "个人码已过期，请重新打印",
            ErrorCode::SecondOfficialRequired => "该变更须由本地区另一名工作人员确认",
            ErrorCode::ChangeNotPending => "该变更已确认执行",
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    details: Option<Value>,
    retry_after_secs: Option<u32>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            details: None,
            retry_after_secs: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = message.into();
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }

    /// Rewrites `details` (e.g. to rename fields for a narrower request).
    pub fn map_details(mut self, f: impl FnOnce(Value) -> Value) -> Self {
        self.details = self.details.map(f);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    pub fn unavailable() -> Self {
        Self::new(ErrorCode::ServiceUnavailable).with_retry_after(5)
    }

    /// Logs `cause` in full and answers a bare 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::InternalError)
    }

    /// 422 naming one bad field.
    pub fn invalid_field(field: &str, error: FieldError) -> Self {
        let mut invalid = Invalid::default();
        invalid.add(field, error);
        invalid.into_error()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'static str,
    message: &'a str,
    details: &'a Value,
}

static EMPTY_DETAILS: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| Value::Object(Default::default()));

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.code == ErrorCode::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let Some(seconds) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(Envelope {
            error: Body {
                code: self.code.as_str(),
                message: &self.message,
                details: self.details.as_ref().unwrap_or(&EMPTY_DETAILS),
            },
        })
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                ApiError::unavailable()
            }
            DbError::Query(diesel::result::Error::NotFound) => ApiError::not_found(),
            other => ApiError::internal(other),
        }
    }
}

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> Self {
        match e {
            PlatformError::CodeInvalid(reason) => {
                tracing::info!(%reason, "platform code refused");
                ApiError::new(ErrorCode::PlatformCodeInvalid)
            }
            PlatformError::RateLimited => {
                ApiError::new(ErrorCode::TooManyRequests).with_retry_after(60)
            }
            PlatformError::UserBlocked => ApiError::new(ErrorCode::PlatformUserBlocked),
            PlatformError::Unavailable(reason) => {
                tracing::warn!(%reason, "platform unavailable");
                ApiError::new(ErrorCode::PlatformUnavailable).with_retry_after(5)
            }
            PlatformError::NotConfigured => ApiError::new(ErrorCode::PlatformNotConfigured),
            PlatformError::WrongProof => ApiError::invalid_field(
                "phone",
                FieldError::new("phone_proof_platform", "手机号授权凭证与登录平台不一致"),
            ),
        }
    }
}

impl From<VenueError> for ApiError {
    fn from(e: VenueError) -> Self {
        match e {
            VenueError::NotFound => ApiError::not_found(),
            VenueError::Locked => ApiError::new(ErrorCode::VenueLocked),
            VenueError::EntranceNameTaken(name) => ApiError::new(ErrorCode::EntranceNameTaken)
                .with_details(serde_json::json!({ "name": name })),
            VenueError::UnknownRegion => ApiError::invalid_field(
                "region_code",
                FieldError::new("region_unknown", "所选乡镇（街道）或村（社区）不存在"),
            ),
            VenueError::NotActive => ApiError::new(ErrorCode::VenueNotActive),
            VenueError::EntranceClosed => ApiError::new(ErrorCode::EntranceClosed),
            VenueError::Db(e) => e.into(),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::from(e).into()
    }
}

/// Collects every bad field of one request so that a 422 names them all at once.
/// `details` maps each field path (`manager.id_number`, `entrances[1].name`) to its code and
/// message.
#[derive(Debug, Default)]
pub struct Invalid {
    fields: BTreeMap<String, FieldError>,
}

impl Invalid {
    pub fn add(&mut self, field: impl Into<String>, error: FieldError) {
        self.fields.entry(field.into()).or_insert(error);
    }

    /// Keeps the value when it parsed, records the error under `field` otherwise.
    pub fn check<T>(
        &mut self,
        field: impl Into<String>,
        parsed: Result<T, FieldError>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// `Ok(())` when nothing was wrong, the 422 otherwise.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    pub fn into_error(self) -> ApiError {
        let details: serde_json::Map<String, Value> = self
            .fields
            .into_iter()
            .map(|(field, error)| {
                (
                    field,
                    serde_json::json!({"code": error.code, "message": error.message}),
                )
            })
            .collect();
        ApiError::new(ErrorCode::ValidationFailed).with_details(Value::Object(details))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(error: ApiError) -> (StatusCode, Value) {
        let response = error.error_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn the_envelope_has_code_message_and_details() {
        let (status, body) = body_of(ApiError::not_found()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(body["error"]["message"], "请求的内容不存在");
        assert_eq!(body["error"]["details"], serde_json::json!({}));
    }

    #[actix_web::test]
    async fn validation_names_every_field() {
        let mut invalid = Invalid::default();
        invalid.add("name", FieldError::new("required", "场所名称不能为空"));
        assert_eq!(invalid.check("phone", Ok::<_, FieldError>(1)), Some(1));
        invalid.check::<()>("manager.phone", Err(FieldError::new("mobile_invalid", "x")));
        let (status, body) = body_of(invalid.into_error()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"]["name"]["code"], "required");
        assert_eq!(
            body["error"]["details"]["manager.phone"]["code"],
            "mobile_invalid"
        );
        assert!(body["error"]["details"].get("phone").is_none());
    }

    #[actix_web::test]
    async fn an_internal_error_says_nothing_internal() {
        let (status, body) = body_of(ApiError::internal("secret table xyz exploded")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("xyz"));
    }

    #[test]
    fn unavailable_database_is_a_503_with_retry_after() {
        let error = ApiError::from(DbError::Unavailable("pool timed out".into()));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "5");
    }
}
