//! The one error type of the HTTP layer. Every failure answers
//! `{"error": {"code", "message", "details"}}` with a stable snake_case `code` that the
//! mini-programs switch on and a message in Chinese. A 500 says nothing internal; the cause is
//! logged in full where it happens. Each code is defined once, in the table below; how each
//! service's errors become codes is in `service_errors.rs`.

use std::borrow::Cow;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

use crate::db::DbError;
use crate::domain::{FieldError, FieldErrors};

macro_rules! error_codes {
    ($($variant:ident = ($code:literal, $status:ident, $message:literal),)*) => {
        /// Every code the API can answer, with its status and default message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            pub fn default_message(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $message,)*
                }
            }
        }
    };
}

error_codes! {
    MalformedJson = ("malformed_json", BAD_REQUEST, "请求内容不是有效的 JSON"),
    UnsupportedMediaType = ("unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "请求内容类型应为 application/json"),
    PayloadTooLarge = ("payload_too_large", PAYLOAD_TOO_LARGE, "请求内容过大"),
    InvalidQuery = ("invalid_query", BAD_REQUEST, "查询参数格式不正确"),
    ValidationFailed = ("validation_failed", UNPROCESSABLE_ENTITY, "提交的信息有误，请按提示修改"),
    NotFound = ("not_found", NOT_FOUND, "请求的内容不存在"),
    MethodNotAllowed = ("method_not_allowed", METHOD_NOT_ALLOWED, "不支持该请求方法"),
    Overloaded = ("overloaded", SERVICE_UNAVAILABLE, "服务繁忙，请稍后再试"),
    DatabaseUnavailable = ("database_unavailable", SERVICE_UNAVAILABLE, "数据服务暂时不可用，请稍后再试"),
    InternalError = ("internal_error", INTERNAL_SERVER_ERROR, "服务器内部错误，请稍后再试"),
    Unauthorized = ("unauthorized", UNAUTHORIZED, "请先登录"),
    Forbidden = ("forbidden", FORBIDDEN, "没有权限进行此操作"),
    InvalidCredentials = ("invalid_credentials", UNAUTHORIZED, "用户名或密码错误"),
    LoginTooOld = ("login_too_old", UNAUTHORIZED, "为保护您的个人信息，请重新登录后10分钟内导出"),
    TooManyRequests = ("too_many_requests", TOO_MANY_REQUESTS, "操作过于频繁，请稍后再试"),
    PlatformCodeInvalid = ("platform_code_invalid", UNAUTHORIZED, "授权码无效或已过期，请重新授权"),
    PlatformUserBlocked = ("platform_user_blocked", FORBIDDEN, "平台判定该账号存在风险，暂时无法登录"),
    PlatformUnavailable = ("platform_unavailable", SERVICE_UNAVAILABLE, "微信或支付宝服务暂时不可用，请稍后再试"),
    PlatformNotConfigured = ("platform_not_configured", NOT_FOUND, "本服务未开通该平台登录"),
    IdentityAlreadyBound = ("identity_already_bound", CONFLICT, "该身份证号已被其他账号绑定，如是本人请进行人脸核验"),
    VerificationFailed = ("verification_failed", UNPROCESSABLE_ENTITY, "人脸核验未通过，请确认是本人后重试"),
    IdentityMismatch = ("identity_mismatch", CONFLICT, "本账号已实名为其他身份，请先撤回授权"),
    VenueLocked = ("venue_locked", CONFLICT, "场所已审核通过，基本信息不能再修改"),
    EntranceNameTaken = ("entrance_name_taken", CONFLICT, "同一场所的入口名称不能重复"),
    VenueNotActive = ("venue_not_active", CONFLICT, "场所尚未审核通过，场所码暂不可用"),
    EntranceClosed = ("entrance_closed", CONFLICT, "该入口已关闭"),
    VenueSuspended = ("venue_suspended", CONFLICT, "该场所已暂停使用场所码，请联系场所工作人员"),
    VenueNotSuspended = ("venue_not_suspended", CONFLICT, "该场所未被暂停"),
    FollowUpClosed = ("follow_up_closed", CONFLICT, "该跟进任务已办结"),
    VenueNotPending = ("venue_not_pending", CONFLICT, "该申请已审核，不能重复审核"),
    InvalidVenueCode = ("invalid_venue_code", BAD_REQUEST, "无法识别的场所码，请扫描场所张贴的场所码"),
    VenueCodeRevoked = ("venue_code_revoked", GONE, "该场所码已作废，请扫描场所张贴的新码"),
    InvitationInvalid = ("invitation_invalid", NOT_FOUND, "邀请码无效、已使用或已过期"),
    ConsentRequired = ("consent_required", FORBIDDEN, "请先同意授权昵称头像、手机号和实名信息"),
    TooFarFromVenue = ("too_far_from_venue", UNPROCESSABLE_ENTITY, "您与场所距离过远，请到场所现场扫码"),
    LocationRequired = ("location_required", UNPROCESSABLE_ENTITY, "请允许小程序获取您的位置后再扫码"),
    CompanionNotFound = ("companion_not_found", NOT_FOUND, "同行人员不存在，请先添加"),
    CompanionNotEligible = ("companion_not_eligible", UNPROCESSABLE_ENTITY, "同行人员须为儿童或老年人（年龄界限见部署设置）"),
    TooManyCompanions = ("too_many_companions", CONFLICT, "同行人员已达上限"),
    CompanionHasAccount = ("companion_has_account", FORBIDDEN, "该人员已有本人账号，请由本人打印纸质码"),
    CompanionExists = ("companion_exists", CONFLICT, "该人员已是您的同行人员"),
    CompanionNotAccepted = ("companion_not_accepted", CONFLICT, "该同行人员有本人账号，须本人在小程序中同意后才能一同登记"),
    CompanionRequestNotFound = ("companion_request_not_found", NOT_FOUND, "没有该同行人员请求"),
    InvalidPaperCode = ("invalid_paper_code", BAD_REQUEST, "无法识别的纸质码"),
    PaperCodeExpired = ("paper_code_expired", GONE, "纸质码已过期，请重新打印"),
    PaperCodeRevoked = ("paper_code_revoked", GONE, "该纸质码已作废，请使用最新打印的纸质码"),
    SecondOfficialRequired = ("second_official_required", FORBIDDEN, "该变更须由本地区另一名工作人员确认"),
    ChangeNotPending = ("change_not_pending", CONFLICT, "该变更已确认执行"),
    OutsideRegion = ("outside_region", NOT_FOUND, "部分人员不在您的管辖地区，或尚无记录"),
    IdempotencyKeyInvalid = ("idempotency_key_invalid", BAD_REQUEST, "Idempotency-Key 应为 1 到 255 个可见 ASCII 字符"),
    IdempotencyKeyReused = ("idempotency_key_reused", UNPROCESSABLE_ENTITY, "该 Idempotency-Key 已用于另一个不同的请求"),
    IdempotencyKeyInFlight = ("idempotency_key_in_flight", CONFLICT, "相同 Idempotency-Key 的请求正在处理，请稍后再试"),
}

/// `Retry-After` of a 503 `overloaded`: a surge passes in seconds.
pub const OVERLOADED_RETRY_AFTER_SECS: u32 = 1;
/// `Retry-After` of a 503 `database_unavailable`: the circuit probes every quarter second, a
/// restart takes a few.
pub const DATABASE_RETRY_AFTER_SECS: u32 = 2;

#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    details: Option<Value>,
    retry_after_secs: Option<u32>,
    /// What went wrong inside, for the log line of a 5xx; never sent.
    cause: Option<String>,
}

/// The cause of a 5xx, carried on the response to the request log (`request_context`), which
/// writes it in the one line it writes for the request.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: Cow::Borrowed(code.default_message()),
            details: None,
            retry_after_secs: None,
            cause: None,
        }
    }

    /// Keeps `cause` for the request's log line.
    pub fn with_cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
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

    /// What the person is told (Chinese).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `Retry-After` of an answer to come back later.
    pub fn retry_after_secs(&self) -> Option<u32> {
        self.retry_after_secs
    }

    /// What went wrong inside, for the log line of a 5xx.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound)
    }

    pub fn forbidden(message: &'static str) -> Self {
        Self::new(ErrorCode::Forbidden).with_message(message)
    }

    /// 503 `database_unavailable`: the database cannot be reached or cannot write.
    pub fn database_unavailable() -> Self {
        Self::new(ErrorCode::DatabaseUnavailable).with_retry_after(DATABASE_RETRY_AFTER_SECS)
    }

    /// 503 `overloaded`: this node has more work than it can take; another try soon may pass.
    pub fn overloaded() -> Self {
        Self::new(ErrorCode::Overloaded).with_retry_after(OVERLOADED_RETRY_AFTER_SECS)
    }

    /// A bare 500; `cause` goes in full into the request's log line.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InternalError).with_cause(cause)
    }

    /// 400 `invalid_query` naming the bad parameters.
    pub fn invalid_query(errors: FieldErrors) -> Self {
        Self::new(ErrorCode::InvalidQuery).with_details(field_details(&errors))
    }

    /// 400 `invalid_query` naming one bad parameter.
    pub fn invalid_parameter(name: &str, error: FieldError) -> Self {
        Self::invalid_query(FieldErrors::one(name, error))
    }
}

/// `{"field": {"code", "message"}, …}`.
fn field_details(errors: &FieldErrors) -> Value {
    Value::Object(
        errors
            .iter()
            .map(|(field, error)| {
                (
                    field.to_owned(),
                    serde_json::json!({"code": error.code, "message": error.message}),
                )
            })
            .collect(),
    )
}

/// A 422 naming every bad field.
impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::new(ErrorCode::ValidationFailed).with_details(field_details(&errors))
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            // Logged once per request by the request log, with this cause.
            DbError::Unavailable(reason) => ApiError::database_unavailable().with_cause(reason),
            DbError::Busy(reason) => ApiError::overloaded().with_cause(reason),
            DbError::Query(diesel::result::Error::NotFound) => ApiError::not_found(),
            other => ApiError::internal(other),
        }
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
        let mut response = response.json(Envelope {
            error: Body {
                code: self.code.as_str(),
                message: &self.message,
                details: self.details.as_ref().unwrap_or(&EMPTY_DETAILS),
            },
        });
        if let Some(cause) = &self.cause {
            response.extensions_mut().insert(ErrorCause(cause.clone()));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FieldCode;
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
        let mut errors = FieldErrors::default();
        errors.add(
            "name",
            FieldError::new(FieldCode::Required, "场所名称不能为空"),
        );
        errors.add(
            "manager.phone",
            FieldError::new(FieldCode::MobileInvalid, "x"),
        );
        let (status, body) = body_of(errors.into()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"]["name"]["code"], "required");
        assert_eq!(
            body["error"]["details"]["manager.phone"]["code"],
            "mobile_invalid"
        );
    }

    #[actix_web::test]
    async fn an_internal_error_says_nothing_internal() {
        let (status, body) = body_of(ApiError::internal("secret table xyz exploded")).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("xyz"));
    }

    #[test]
    fn unavailable_database_is_a_503_with_retry_after() {
        let error = ApiError::from(DbError::Unavailable("connection refused".into()));
        assert_eq!(error.code(), ErrorCode::DatabaseUnavailable);
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "2");
        let busy = ApiError::from(DbError::Busy("pool timed out".into()));
        assert_eq!(busy.code(), ErrorCode::Overloaded);
    }

    #[test]
    fn every_code_is_unique() {
        let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
    }
}
