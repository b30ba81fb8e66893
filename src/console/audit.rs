//! The auditor's page: the region's newest audit entries, and a check of the whole hash chain.

use crate::auth::Auditor;
use actix_web::web;
use askama::Template;
use serde::Deserialize;

use super::edge::{Answer, Signed};
use super::{render, Frame};
use crate::domain::ChainReport;
use crate::services;
use crate::services::audit::{AuditFilter, AuditItem};
use crate::state::AppState;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/console/audit", web::get().to(log));
}

/// The outcome of a chain verification, as the audit page says it.
struct ChainNotice {
    class: &'static str,
    text: String,
}

impl From<ChainReport> for ChainNotice {
    fn from(report: ChainReport) -> Self {
        match report {
            ChainReport::Intact { entries } => ChainNotice {
                class: "intact",
                text: format!("哈希链完整：共 {entries} 条记录，均未被删改"),
            },
            ChainReport::Changed { seq, .. } => ChainNotice {
                class: "tampered",
                text: format!("哈希链被破坏：第 {seq} 条记录的内容已被修改"),
            },
            ChainReport::Broken { seq, .. } => ChainNotice {
                class: "tampered",
                text: format!("哈希链被破坏：第 {seq} 条记录之前有记录被删除或调换"),
            },
            ChainReport::Truncated { last_seq, head_seq } => ChainNotice {
                class: "tampered",
                text: format!("哈希链被截断：链止于第 {last_seq} 条，应至第 {head_seq} 条"),
            },
            ChainReport::KeyMissing { seq, key_id, .. } => ChainNotice {
                class: "tampered",
                text: format!(
                    "无法校验：第 {seq} 条记录使用的密钥（{key_id}）已不在配置中，请先完成密钥轮换的重新加密"
                ),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    frame: Frame,
    report: Option<ChainNotice>,
    entries: Vec<AuditItem>,
}

#[derive(Deserialize)]
struct AuditQuery {
    verify: Option<String>,
}

/// The auditor's region's newest entries; with `?verify=1`, the whole chain checked first.
async fn log(
    state: web::Data<AppState>,
    session: Signed<Auditor>,
    query: web::Query<AuditQuery>,
) -> Answer {
    let report = match query.verify {
        Some(_) => match services::audit::verify(&state, None).await {
            Ok(report) => Some(ChainNotice::from(report)),
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let filter = AuditFilter {
        action: None,
        before_seq: None,
        limit: 100,
    };
    let entries = services::audit::list(&state, &session.staff, filter).await?;
    Ok(render(&AuditPage {
        frame: session.frame(&state, "/console/audit"),
        report,
        entries,
    }))
}
