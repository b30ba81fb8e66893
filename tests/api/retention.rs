//! Deleting what is older than the retention period (`venuecode purge`, also run hourly).

use chrono::{Duration, Utc};
use diesel::prelude::*;
use venuecode::db::schema::check_ins;

use crate::helpers::spawn_app;

#[tokio::test]
async fn purge_deletes_old_check_ins_and_keeps_recent_ones() {
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    for _ in 0..4 {
        let resident = app.resident("某人").await;
        app.check_in(&resident.token, &venue.code_url).await;
    }
    let mut conn = app.database().get().unwrap();
    let old: Vec<i64> = check_ins::table
        .order(check_ins::id.asc())
        .limit(3)
        .select(check_ins::id)
        .load(&mut *conn)
        .unwrap();
    let long_ago = (Utc::now() - Duration::days(40)).naive_utc();
    diesel::update(check_ins::table.filter(check_ins::id.eq_any(&old)))
        .set((
            check_ins::scanned_at.eq(long_ago),
            check_ins::ends_at.eq(long_ago + Duration::hours(2)),
        ))
        .execute(&mut *conn)
        .unwrap();
    let output = app.command().arg("purge").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("check_ins: 3 deleted"), "{report}");
    let left: i64 = check_ins::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(left, 1, "the recent check-in stays");
}

#[tokio::test]
async fn a_second_purge_has_nothing_to_do() {
    let app = spawn_app().await;
    let once = app.command().arg("purge").output().unwrap();
    assert!(once.status.success());
    let again = app.command().arg("purge").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 rows deleted in all"));
}
