//! The audit log: read by auditors, its chain checked by `venuecode audit verify`.

use diesel::prelude::*;
use reqwest::StatusCode;
use venuecode::db::schema::{audit_head, audit_log};

use crate::helpers::{assert_error, spawn_app, TestApp, LINWU};

/// An app with a few audited actions: a review, colours and their read.
async fn audited() -> TestApp {
    let app = spawn_app().await;
    app.approved_venue().await;
    let official = app.official(LINWU).await;
    let resident = app.resident("林一").await;
    app.set_color(&official, &resident.id_number, "林一", "yellow")
        .await;
    app.read(
        &official,
        &format!("/api/v1/health-codes/{}", resident.id_number),
    )
    .await;
    app
}

#[tokio::test]
async fn auditors_read_the_log_newest_first() {
    let app = audited().await;
    let auditor = app.auditor("43").await;
    let log = app.read(&auditor, "/api/v1/audit-log?limit=500").await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    // Staff accounts made at the command line are in the log too.
    assert_eq!(
        actions,
        [
            "staff.create",
            "health_code.read",
            "health_code.set",
            "staff.create",
            "venue.approve",
            "staff.create"
        ]
    );
}

#[tokio::test]
async fn the_log_pages_backwards_by_sequence() {
    let app = audited().await;
    let auditor = app.auditor("43").await;
    let page = app
        .read(&auditor, "/api/v1/audit-log?limit=1&before_seq=3")
        .await;
    assert_eq!(page["items"][0]["seq"], 2);
    assert_error(
        app.get_as(&auditor, "/api/v1/audit-log?limit=0").await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn only_auditors_read_the_log() {
    let app = spawn_app().await;
    let official = app.official(LINWU).await;
    assert_error(
        app.get_as(&official, "/api/v1/audit-log").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn verify_reports_an_intact_chain() {
    let app = audited().await;
    let ok = app.command().args(["audit", "verify"]).output().unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact: 5 entries"));
}

#[tokio::test]
async fn verify_names_a_changed_entry() {
    let app = audited().await;
    let mut conn = app.database().get().unwrap();
    diesel::update(audit_log::table.filter(audit_log::seq.eq(2)))
        .set(audit_log::count.eq(0))
        .execute(&mut *conn)
        .unwrap();
    let broken = app.command().args(["audit", "verify"]).output().unwrap();
    assert_eq!(broken.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("seq 2"));
}

#[tokio::test]
async fn verify_names_the_entry_after_a_removed_one() {
    let app = audited().await;
    let mut conn = app.database().get().unwrap();
    diesel::delete(audit_log::table.filter(audit_log::seq.eq(2)))
        .execute(&mut *conn)
        .unwrap();
    let removed = app.command().args(["audit", "verify"]).output().unwrap();
    assert_eq!(removed.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&removed.stderr).contains("seq 3"));
}

#[tokio::test]
async fn a_cut_tail_passes_the_chain_but_not_the_anchor() {
    let app = audited().await;
    let anchor = app.command().args(["audit", "anchor"]).output().unwrap();
    assert!(anchor.status.success());
    let anchor = String::from_utf8_lossy(&anchor.stdout).trim().to_owned();
    assert!(anchor.starts_with("5:"), "{anchor}");

    // Someone with the database removes the newest entries and points the head at what is left.
    let mut conn = app.database().get().unwrap();
    let (seq, hash): (i64, String) = audit_log::table
        .filter(audit_log::seq.eq(3))
        .select((audit_log::seq, audit_log::hash))
        .first(&mut *conn)
        .unwrap();
    diesel::delete(audit_log::table.filter(audit_log::seq.gt(3)))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(audit_head::table)
        .set((audit_head::seq.eq(seq), audit_head::hash.eq(hash)))
        .execute(&mut *conn)
        .unwrap();

    let alone = app.command().args(["audit", "verify"]).output().unwrap();
    assert!(alone.status.success(), "the chain itself is consistent");
    let anchored = app
        .command()
        .args(["audit", "verify", "--anchor", &anchor])
        .output()
        .unwrap();
    assert_eq!(anchored.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&anchored.stderr).contains("seq 5"),
        "{}",
        String::from_utf8_lossy(&anchored.stderr)
    );
}

#[tokio::test]
async fn an_anchor_taken_earlier_still_holds_as_the_log_grows() {
    let app = audited().await;
    let anchor = app.command().args(["audit", "anchor"]).output().unwrap();
    let anchor = String::from_utf8_lossy(&anchor.stdout).trim().to_owned();
    app.auditor("43").await;
    let ok = app
        .command()
        .args(["audit", "verify", "--anchor", &anchor])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[tokio::test]
async fn an_auditor_sees_the_entries_of_their_region_only() {
    let app = audited().await;
    let elsewhere = app.official("3701").await;
    app.set_color(
        &elsewhere,
        &crate::helpers::id_number("37010219850101001"),
        "济南人",
        "green",
    )
    .await;
    let linwu = app.auditor(LINWU).await;
    let log = app.read(&linwu, "/api/v1/audit-log?limit=500").await;
    let regions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["region_code"].as_str().unwrap())
        .collect();
    assert!(!regions.is_empty());
    assert!(regions.iter().all(|r| r.starts_with(LINWU)), "{regions:?}");
    let jinan = app.auditor("3701").await;
    let log = app
        .read(&jinan, "/api/v1/audit-log?action=health_code.set")
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    assert_eq!(log["items"][0]["region_code"], "3701");
}
