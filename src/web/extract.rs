//! Request extractors that turn every way a body or query string can be wrong into the error
//! envelope, naming the field when there is one.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::web::BytesMut;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::error::{ApiError, ErrorCode};
use crate::domain::{FieldCode, FieldError, FieldErrors};

/// Largest JSON body accepted unless the handler asks for more.
pub const DEFAULT_JSON_LIMIT: usize = 64 * 1024;

/// A JSON body of at most `LIMIT` bytes: 415 for another content type, 413 past the limit, 400
/// `malformed_json` for broken syntax, 422 `validation_failed` naming the field for a missing or
/// mistyped value.
pub struct Json<T, const LIMIT: usize = DEFAULT_JSON_LIMIT>(pub T);

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for Json<T, LIMIT> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = match req.mime_type() {
            Ok(Some(mime)) => {
                mime.type_() == "application"
                    && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
            }
            _ => false,
        };
        let limit = LIMIT;
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::new(ErrorCode::MalformedJson))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::new(ErrorCode::PayloadTooLarge)
                        .with_details(json!({"limit_bytes": limit})));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(Json)
        })
    }
}

/// A body that may be JSON or CSV (`text/csv`, UTF-8, a byte-order mark allowed), of at most
/// `LIMIT` bytes; JSON is read as [`Json`] reads it, CSV is left to the handler.
pub enum JsonOrCsv<T, const LIMIT: usize> {
    Json(T),
    Csv(String),
}

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for JsonOrCsv<T, LIMIT> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let kind = match req.mime_type() {
            Ok(Some(mime)) if mime.type_() == "application" && mime.subtype() == "json" => {
                Some(true)
            }
            Ok(Some(mime)) if mime.type_() == "text" && mime.subtype() == "csv" => Some(false),
            _ => None,
        };
        let mut payload = payload.take();
        Box::pin(async move {
            let Some(is_json) = kind else {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
            };
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::new(ErrorCode::MalformedJson))?;
                if body.len() + chunk.len() > LIMIT {
                    return Err(ApiError::new(ErrorCode::PayloadTooLarge)
                        .with_details(json!({"limit_bytes": LIMIT})));
                }
                body.extend_from_slice(&chunk);
            }
            if is_json {
                return parse_json(&body).map(JsonOrCsv::Json);
            }
            let text = String::from_utf8(body.to_vec()).map_err(|_| {
                ApiError::from(FieldErrors::one(
                    "body",
                    FieldError::new(FieldCode::CsvInvalid, "CSV 须为 UTF-8 编码"),
                ))
            })?;
            Ok(JsonOrCsv::Csv(
                text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned(),
            ))
        })
    }
}

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => field_error(&path, &inner.to_string()),
            _ => ApiError::new(ErrorCode::MalformedJson).with_details(json!({
                "line": inner.line(),
                "column": inner.column(),
            })),
        }
    })?;
    deserializer.end().map_err(|e| {
        ApiError::new(ErrorCode::MalformedJson)
            .with_details(json!({"line": e.line(), "column": e.column()}))
    })?;
    Ok(value)
}

/// Turns serde's complaint about one value into a 422 naming the field.
fn field_error(path: &str, reason: &str) -> ApiError {
    // serde reports a missing field at the path of the object that lacks it.
    let field = match missing_field_name(reason) {
        Some(name) => join_path(path, name),
        None if path == "." => "body".to_owned(),
        None => path.to_owned(),
    };
    let (code, message) = if missing_field_name(reason).is_some() {
        (FieldCode::Required, "缺少必填字段")
    } else if reason.starts_with("unknown field `") {
        (FieldCode::UnknownField, "不支持该字段，请删除")
    } else {
        (FieldCode::InvalidType, "字段的类型或取值不正确")
    };
    FieldErrors::one(field, FieldError::new(code, message)).into()
}

fn missing_field_name(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn join_path(path: &str, name: &str) -> String {
    if path == "." || path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// A query string: 400 `invalid_query` naming the parameter that does not fit. A parameter given
/// without a value (`?status=`) is refused like any other bad value, never read as absent: leave
/// it out to mean "not given".
pub struct Query<T>(pub T);

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if let Some((name, _)) =
        form_urlencoded::parse(query.as_bytes()).find(|(_, value)| value.trim().is_empty())
    {
        return Err(ApiError::invalid_query(FieldErrors::one(
            name,
            FieldError::new(
                FieldCode::EmptyValue,
                "查询参数不能为空；不需要时请省略该参数",
            ),
        )));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner().to_string();
        let field = match missing_field_name(&reason) {
            Some(name) => join_path(&path, name),
            None if path == "." => "query".to_owned(),
            None => path,
        };
        ApiError::invalid_query(FieldErrors::one(
            field,
            FieldError::new(FieldCode::InvalidValue, "查询参数格式不正确"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Manager {
        name: String,
        phone: String,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Application {
        name: String,
        manager: Manager,
        count: Option<u32>,
    }

    #[test]
    fn broken_syntax_is_malformed_json() {
        let err = parse_json::<Application>(b"{\"name\": ").unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedJson);
        let err = parse_json::<Application>(
            br#"{"name": "x", "manager": {"name": "y", "phone": "1"}} trailing"#,
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedJson);
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let err =
            parse_json::<Application>(br#"{"name": "x", "manager": {"name": "y"}}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert!(format!("{err:?}").contains("manager.phone"), "{err:?}");
        let err = parse_json::<Application>(
            br#"{"name": "x", "manager": {"name": "y", "phone": "1"}, "count": "many"}"#,
        )
        .unwrap_err();
        assert!(format!("{err:?}").contains("\"count\""), "{err:?}");
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Days {
        days: Option<u32>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        assert!(parse_query::<Days>("").unwrap().days.is_none());
        assert_eq!(parse_query::<Days>("days=14").unwrap().days, Some(14));
        let err = parse_query::<Days>("days=abc").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidQuery);
        assert!(format!("{err:?}").contains("\"days\""), "{err:?}");
    }

    #[test]
    fn an_empty_value_is_refused_not_read_as_absent() {
        for query in ["days=", "days=%20", "days"] {
            let err = parse_query::<Days>(query).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidQuery, "{query}");
            assert!(
                format!("{err:?}").contains("empty_value"),
                "{query}: {err:?}"
            );
        }
    }
}

#[cfg(test)]
mod http_tests {
    //! The extractors inside a running service, as a client meets them.
    use actix_web::{test, web, App, HttpResponse};
    use serde::Deserialize;
    use serde_json::Value;

    use super::Json;

    #[derive(Deserialize)]
    struct Login {
        username: String,
    }

    async fn login(body: Json<Login, 64>) -> HttpResponse {
        HttpResponse::Ok().body(body.0.username)
    }

    async fn call(content_type: Option<&str>, body: &'static str) -> (u16, Value) {
        let app = test::init_service(App::new().route("/login", web::post().to(login))).await;
        let mut request = test::TestRequest::post().uri("/login").set_payload(body);
        if let Some(content_type) = content_type {
            request = request.insert_header(("content-type", content_type));
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let bytes = test::read_body(response).await;
        let body = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, body)
    }

    #[actix_web::test]
    async fn a_good_body_passes() {
        let (status, body) = call(Some("application/json"), r#"{"username": "li"}"#).await;
        assert_eq!((status, body), (200, Value::String("li".into())));
        let (status, _) = call(
            Some("application/json; charset=utf-8"),
            r#"{"username": "li"}"#,
        )
        .await;
        assert_eq!(status, 200);
    }

    #[actix_web::test]
    async fn each_failure_has_its_status_and_code() {
        let cases = [
            (
                Some("application/json"),
                r#"{"username": "#,
                400,
                "malformed_json",
            ),
            (
                Some("text/plain"),
                r#"{"username": "li"}"#,
                415,
                "unsupported_media_type",
            ),
            (None, r#"{"username": "li"}"#, 415, "unsupported_media_type"),
            (
                Some("application/json"),
                r#"{"name": "li"}"#,
                422,
                "validation_failed",
            ),
            (
                Some("application/json"),
                r#"{"username": 7}"#,
                422,
                "validation_failed",
            ),
            (
                Some("application/json"),
                r#"{"username": "a very long name that goes past the sixty-four byte limit of this route"}"#,
                413,
                "payload_too_large",
            ),
        ];
        for (content_type, body, status, code) in cases {
            let (got_status, got) = call(content_type, body).await;
            assert_eq!(got_status, status, "{body}: {got}");
            assert_eq!(got["error"]["code"], code, "{body}: {got}");
        }
        let (_, missing) = call(Some("application/json"), r#"{"name": "li"}"#).await;
        assert_eq!(missing["error"]["details"]["username"]["code"], "required");
    }
}
