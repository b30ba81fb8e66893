//! An auditor in the console: the log and the hash chain.

use super::*;

#[tokio::test]
async fn an_auditor_reads_the_log_and_verifies_the_chain() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    // Something to audit: a reviewer of the county approves an application.
    let (_, venue) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇审计超市")
        .await;
    app.approve(venue["id"].as_i64().unwrap()).await;
    app.new_staff("auditor").named("linwu-audit").login().await;
    let client = &browser.client;

    log_in(&app, client, "linwu-audit").await;
    wait_for_path(client, "/console/audit").await;
    let table = element(client, "table.queue").await.text().await.unwrap();
    assert!(table.contains("venue.approve"), "{table}");

    click_to_load(client, "#verify").await;
    let chain = element(client, "#chain").await.text().await.unwrap();
    assert!(chain.starts_with("哈希链完整"), "{chain}");

    // Someone with database access changes an entry: the page says which.
    {
        use diesel::prelude::*;
        use venuecode::db::schema::audit_log;
        let mut conn = app.database().get().unwrap();
        diesel::update(audit_log::table.filter(audit_log::seq.eq(1)))
            .set(audit_log::count.eq(99))
            .execute(&mut *conn)
            .unwrap();
    }
    client
        .goto(&format!("{}/console/audit?verify=1", app.address))
        .await
        .unwrap();
    let chain = element(client, "#chain").await.text().await.unwrap();
    assert_eq!(chain, "哈希链被破坏：第 1 条记录的内容已被修改");
    screenshot(client, "audit").await;
    browser.close().await;
}
