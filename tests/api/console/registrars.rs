//! A registrar in the console: follow-ups, suspensions, sheets of venues, handovers.

use super::*;

#[tokio::test]
async fn a_registrar_follows_up_a_yellow_scan_and_suspends_and_resumes_a_venue() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let yellow = app.resident("黄码人").await;
    app.set_color(&official, &yellow.id_number, "黄码人", "yellow")
        .await;
    app.check_in(&yellow.token, &venue.code_url).await;
    app.new_staff("registrar")
        .in_region(LINWU_TOWNSHIP)
        .named("linwu-street")
        .login()
        .await;
    let client = &browser.client;
    log_in(&app, client, "linwu-street").await;
    wait_for_path(client, "/console/follow-ups").await;

    // The yellow scan at the township's venue is the street's to follow up.
    let tasks = element(client, "#follow-ups").await.text().await.unwrap();
    assert!(
        tasks.contains("黄码人") && tasks.contains("扫码进入本地区场所"),
        "{tasks}"
    );
    screenshot(client, "follow-ups").await;
    fill(client, "outcome", "已上门告知，居家健康监测").await;
    click_to_load(client, "#follow-ups form.close button").await;
    assert_eq!(
        element(client, ".notice").await.text().await.unwrap(),
        "已办结该跟进任务"
    );
    element(client, ".empty").await;
    click_to_load(client, "nav.menu a[href='/console/venues']").await;
    click_to_load(
        client,
        &format!("#venues a[href='/console/venues/{}']", venue.id),
    )
    .await;
    fill(client, "reason", "消防检查不合格").await;
    click_to_load(client, "#suspension button").await;
    assert_eq!(
        element(client, ".notice").await.text().await.unwrap(),
        "已暂停该场所的场所码"
    );
    let banner = element(client, "#suspended").await.text().await.unwrap();
    assert!(banner.contains("消防检查不合格"), "{banner}");
    screenshot(client, "venue-suspended").await;
    let resident = app.resident("周平").await;
    let scan = app.new_scan(&resident.token, &venue.code_url).send().await;
    assert_eq!(scan.status(), 409);

    fill(client, "reason", "整改完成").await;
    click_to_load(client, "#suspension button").await;
    assert_eq!(
        element(client, ".notice").await.text().await.unwrap(),
        "已恢复该场所的场所码"
    );
    app.check_in(&resident.token, &venue.code_url).await;
    browser.close().await;
}

#[tokio::test]
async fn a_registrar_registers_a_sheet_of_venues_downloads_posters_and_hands_one_over() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.new_staff("registrar")
        .in_region(LINWU_TOWNSHIP)
        .named("linwu-community")
        .login()
        .await;
    let client = &browser.client;
    log_in(&app, client, "linwu-community").await;
    click_to_load(client, "nav.menu a[href='/console/venues/import']").await;

    let header = "name,category,subtype,region_code,address,lat,lng,manager_name,manager_phone,manager_id_number,entrances";
    let manager = id_number("43102519800315001");
    let sheets = tempfile::tempdir().unwrap();
    // A bad phone on the second row and a venue outside the township: nothing is registered.
    let bad = sheets.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}\n舜峰镇便民超市,daily_shopping,supermarket,{LINWU_TOWNSHIP},解放路1号,25.28,112.56,王建国,13907351234,{manager},东门|西门\n舜峰镇东江鱼馆,lodging_dining,restaurant,{LINWU_TOWNSHIP},解放路2号,25.28,112.56,李四,1390735,{manager},正门\n"
        ),
    )
    .unwrap();
    element(client, "[name='file']")
        .await
        .send_keys(bad.to_str().unwrap())
        .await
        .unwrap();
    click_to_load(client, "#upload button").await;
    let problem = element(client, ".problem").await.text().await.unwrap();
    assert!(problem.starts_with("第2行 manager.phone："), "{problem}");
    {
        use diesel::prelude::*;
        use venuecode::db::schema::venues;
        let mut conn = app.database().get().unwrap();
        let stored: i64 = venues::table.count().get_result(&mut *conn).unwrap();
        assert_eq!(stored, 0, "all or nothing");
    }

    let good = sheets.path().join("good.csv");
    std::fs::write(
        &good,
        format!(
            "{header}\n舜峰镇便民超市,daily_shopping,supermarket,{LINWU_TOWNSHIP},解放路1号,25.28,112.56,王建国,13907351234,{manager},东门|西门\n舜峰镇东江鱼馆,lodging_dining,restaurant,{LINWU_TOWNSHIP},解放路2号,25.28,112.56,李四,13907351235,{manager},正门\n"
        ),
    )
    .unwrap();
    element(client, "[name='file']")
        .await
        .send_keys(good.to_str().unwrap())
        .await
        .unwrap();
    click_to_load(client, "#upload button").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert!(notice.starts_with("已登记 2 个场所"), "{notice}");
    let registered = element(client, "#registered").await.text().await.unwrap();
    assert!(registered.contains("舜峰镇便民超市") && registered.contains("舜峰镇东江鱼馆"));
    screenshot(client, "registrations").await;

    // The first venue's posters: a zip of a PNG and an SVG per entrance.
    element(client, "#registered a[href$='posters.zip']")
        .await
        .click()
        .await
        .unwrap();
    let rows = element(client, "#registered tbody tr td")
        .await
        .text()
        .await
        .unwrap();
    let venue_id: i64 = rows.parse().unwrap();
    let zip = browser
        .downloaded(&format!("venue-{venue_id}-posters.zip"))
        .await;
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    assert_eq!(archive.len(), 4, "two entrances, PNG and SVG each");

    // Handed over to another manager, who claims it by logging in with the new mobile.
    click_to_load(
        client,
        &format!("#registered a[href='/console/venues/{venue_id}']"),
    )
    .await;
    fill(client, "name", "赵新").await;
    fill(client, "phone", "13907359999").await;
    fill(client, "id_number", &id_number("43102519900101002")).await;
    click_to_load(client, "#handover button").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert!(notice.starts_with("已移交新负责人"), "{notice}");
    let venue = element(client, "#venue").await.text().await.unwrap();
    assert!(venue.contains("赵*") && !venue.contains("王*"), "{venue}");
    browser.close().await;
}
