//! `GET /v/{token}`: what a phone camera or a browser shows when it opens a venue code's link
//! instead of the mini-program. A small Chinese page names the venue and entrance and says to
//! scan with WeChat or Alipay, so a printed code is never a dead end.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::State;
use crate::posters::escape;
use crate::services::venue_codes::{self, CodeStatus};
use crate::web::ApiError;

pub async fn show(path: web::Path<String>, state: State) -> Result<HttpResponse, ApiError> {
    let page = match venue_codes::status(&state, &path.into_inner()).await? {
        CodeStatus::Working { venue, entrance } => html(
            StatusCode::OK,
            "场所码",
            &format!(
                "<p class=\"venue\">{}</p><p class=\"entrance\">入口：{}</p><p>请打开<strong>微信</strong>或<strong>支付宝</strong>，点“扫一扫”扫描本场所码完成登记并出示健康码。</p><p class=\"note\">直接用相机或浏览器打开本页面不会登记。</p>",
                escape(&venue),
                escape(&entrance)
            ),
        ),
        CodeStatus::Invalid => message(
            StatusCode::BAD_REQUEST,
            "无法识别的场所码",
            "这不是有效的场所码，可能已损坏或被篡改。请扫描场所张贴的场所码。",
        ),
        CodeStatus::Unknown => message(
            StatusCode::NOT_FOUND,
            "场所码不存在",
            "没有找到这个场所码对应的场所。",
        ),
        CodeStatus::Revoked => message(
            StatusCode::GONE,
            "场所码已作废",
            "该场所码已更换或入口已关闭，请扫描场所张贴的最新场所码。",
        ),
        CodeStatus::NotActive => message(
            StatusCode::CONFLICT,
            "场所码尚未启用",
            "该场所的申请尚未审核通过。",
        ),
    };
    Ok(page)
}

fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    html(status, title, &format!("<p>{}</p>", escape(text)))
}

fn html(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'"))
        .body(format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>body{{font-family:sans-serif;margin:2em;line-height:1.6;color:#222}}h1{{font-size:1.4em;color:#1a7f37}}.venue{{font-size:1.3em;font-weight:bold}}.note{{color:#777;font-size:.9em}}</style></head><body><h1>{title}</h1>{body}</body></html>",
            title = escape(title),
        ))
}
