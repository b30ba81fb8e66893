//! A health official in the console: colours and imports, traces, the dashboard, alerts and risky
//! windows.

use super::*;
use crate::helpers::*;

#[tokio::test]
async fn officials_set_a_colour_and_a_second_official_confirms_a_large_import() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app_with(&[("TRACE_CONFIRM_THRESHOLD", "2")]).await;
    app.new_staff("health_official")
        .named("linwu-health-a")
        .login()
        .await;
    app.new_staff("health_official")
        .named("linwu-health-b")
        .login()
        .await;
    let wang = app.resident("王五").await;
    let zhao = app.resident("赵六").await;
    let newcomer = id_number("43102519900303004");
    let client = &browser.client;

    // One person looked up and given a colour.
    log_in(&app, client, "linwu-health-a").await;
    wait_for_path(client, "/console/dashboard").await;
    client
        .goto(&format!("{}/console/health-codes", app.address))
        .await
        .unwrap();
    fill(client, "id_number", &wang.id_number).await;
    click_to_load(client, "#lookup button").await;
    let person = element(client, "#person").await;
    assert!(person.text().await.unwrap().contains("王五"));
    element(client, "#set-color [name='color'] option[value='yellow']")
        .await
        .click()
        .await
        .unwrap();
    element(
        client,
        "#set-color [name='reason_code'] option[value='close_contact']",
    )
    .await
    .click()
    .await
    .unwrap();
    fill(client, "note", "同乘 K1234 次列车").await;
    click_to_load(client, "#set-color button").await;
    let notice = element(client, ".notice").await;
    assert_eq!(notice.text().await.unwrap(), "已将王五的健康码设为黄码");
    assert_eq!(
        element(client, "#current-color")
            .await
            .text()
            .await
            .unwrap(),
        "黄码"
    );
    screenshot(client, "health-code").await;

    // A sheet naming someone of another region is shown, and cannot be applied.
    let sheet_dir = tempfile::tempdir().unwrap();
    let outside = id_number("11010119850101001");
    let bad = sheet_dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "身份证号,姓名,颜色,原因,备注\n{},,红码,确诊病例,\n{outside},外地人,红码,确诊病例,\n",
            wang.id_number
        ),
    )
    .unwrap();
    client
        .goto(&format!("{}/console/health-codes/import", app.address))
        .await
        .unwrap();
    element(client, "[name='file']")
        .await
        .send_keys(bad.to_str().unwrap())
        .await
        .unwrap();
    click_to_load(client, "#upload button").await;
    let summary = element(client, "#summary").await.text().await.unwrap();
    assert!(summary.contains("1 行无法导入"), "{summary}");
    let preview = element(client, "#preview").await.text().await.unwrap();
    assert!(preview.contains("不属于本地区"), "{preview}");
    assert!(client.find(Locator::Css("#apply")).await.is_err());

    // Three people at once: previewed, then held for a second official.
    let good = sheet_dir.path().join("good.csv");
    std::fs::write(
        &good,
        format!(
            "id_number,name,color,reason_code,note\n{},,red,confirmed_case,\n{},,yellow,close_contact,\n{newcomer},孙七,yellow,close_contact,新登记\n",
            wang.id_number, zhao.id_number
        ),
    )
    .unwrap();
    client
        .goto(&format!("{}/console/health-codes/import", app.address))
        .await
        .unwrap();
    element(client, "[name='file']")
        .await
        .send_keys(good.to_str().unwrap())
        .await
        .unwrap();
    click_to_load(client, "#upload button").await;
    let preview = element(client, "#preview").await.text().await.unwrap();
    assert!(preview.contains("王五 黄码 红码"), "{preview}");
    assert!(preview.contains("赵六 无记录 黄码"), "{preview}");
    assert!(preview.contains("孙七 无记录 黄码"), "{preview}");
    assert!(preview.contains("新登记"), "{preview}");
    screenshot(client, "import-preview").await;
    // Nothing has changed yet.
    let official = app.official(LINWU).await;
    let code = app
        .read(
            &official,
            &format!("/api/v1/health-codes/{}", wang.id_number),
        )
        .await;
    assert_eq!(code["color"], "yellow");
    click_to_load(client, "#apply button").await;
    wait_for_path(client, "/console/health-codes/imports").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert!(notice.contains("待本地区另一名工作人员复核"), "{notice}");
    click_to_load(client, "table.queue a").await;
    element(client, "#own").await;
    log_out(client).await;

    // The second official reads what will change and confirms it.
    log_in(&app, client, "linwu-health-b").await;
    wait_for_path(client, "/console/dashboard").await;
    client
        .goto(&format!("{}/console/health-codes/imports", app.address))
        .await
        .unwrap();
    click_to_load(client, "table.queue a").await;
    let rows = element(client, "#preview").await.text().await.unwrap();
    assert!(rows.contains("王五 黄码 红码"), "{rows}");
    screenshot(client, "import-review").await;
    click_to_load(client, "#confirm button").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert_eq!(notice, "已复核，该批健康码已生效");
    element(client, ".empty").await;
    for (id_number, color) in [
        (&wang.id_number, "red"),
        (&zhao.id_number, "yellow"),
        (&newcomer, "yellow"),
    ] {
        let code = app
            .read(&official, &format!("/api/v1/health-codes/{id_number}"))
            .await;
        assert_eq!(code["color"], color, "{code}");
    }
    browser.close().await;
}

#[tokio::test]
async fn an_official_traces_a_case_and_downloads_the_contacts() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let s = scenario().await;
    let app = &s.app;
    app.new_staff("health_official")
        .named("linwu-tracer")
        .login()
        .await;
    let client = &browser.client;
    log_in(app, client, "linwu-tracer").await;
    wait_for_path(client, "/console/dashboard").await;
    click_to_load(client, "nav.menu a[href='/console/traces']").await;

    // A number that is nobody of the region is refused on the form.
    fill(client, "id_number", &id_number("11010119850101001")).await;
    click_to_load(client, "#trace button").await;
    let problem = element(client, ".problem").await.text().await.unwrap();
    assert!(problem.contains("本地区无此人记录"), "{problem}");

    let field = element(client, "[name='id_number']").await;
    field.clear().await.unwrap();
    field.send_keys(&s.case_id_number).await.unwrap();
    element(client, "[name='depth'] option[value='2']")
        .await
        .click()
        .await
        .unwrap();
    click_to_load(client, "#trace button").await;
    let contacts = element(client, "#contacts").await.text().await.unwrap();
    for name in ["柯监护", "乙老人", "戊二级"] {
        assert!(contacts.contains(name), "{name} missing: {contacts}");
    }
    assert!(!contacts.contains("丁别处"), "{contacts}");
    let levels = element(client, "#levels").await.text().await.unwrap();
    assert!(levels.contains("密切接触者"), "{levels}");
    screenshot(client, "trace").await;

    let path = client.current_url().await.unwrap().path().to_owned();
    let trace_id = path.rsplit('/').next().unwrap().to_owned();
    element(client, "#export").await.click().await.unwrap();
    let csv = browser.downloaded(&format!("trace-{trace_id}.csv")).await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with('\u{feff}'),
        "a spreadsheet needs the byte-order mark"
    );
    assert!(csv.contains("柯监护") && csv.contains("乙老人"), "{csv}");

    // The export is the API's, and it was audited like any official access.
    let api = s
        .app
        .get_as(
            &s.official,
            &format!("/api/v1/traces/{trace_id}/export.csv"),
        )
        .await;
    assert_eq!(api.status(), 200);
    let auditor = app.auditor(LINWU).await;
    let log = app
        .read(&auditor, "/api/v1/audit-log?action=trace.export")
        .await;
    assert!(log["items"].as_array().unwrap().len() >= 2, "{log}");

    // Every contact made yellow: more than the threshold, so a second official confirms it.
    element(client, "#change [name='level'] option[value='all']")
        .await
        .click()
        .await
        .unwrap();
    click_to_load(client, "#change button").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert!(notice.contains("待本地区另一名工作人员复核"), "{notice}");
    let changes = element(client, "#changes").await.text().await.unwrap();
    assert!(changes.contains("待他人复核"), "{changes}");
    log_out(client).await;
    app.new_staff("health_official")
        .named("linwu-tracer-2")
        .login()
        .await;
    log_in(app, client, "linwu-tracer-2").await;
    wait_for_path(client, "/console/dashboard").await;
    client
        .goto(&format!("{}{path}", app.address))
        .await
        .unwrap();
    click_to_load(client, "#changes form.confirm button").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert_eq!(notice, "已复核，赋码已生效");
    let code = app
        .read(&s.official, &format!("/api/v1/health-codes/{}", adult(2)))
        .await;
    assert_eq!(code["color"], "yellow", "{code}");
    browser.close().await;
}

#[tokio::test]
async fn the_dashboard_charts_the_regions_last_day_and_nothing_of_other_regions() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let shop = app.approved_venue().await;
    let restaurant = app
        .approved_venue_of("lodging_dining", "restaurant", "临武县舜峰镇东江鱼馆")
        .await;
    app.applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇待审超市")
        .await;
    let jinan = app.jinan_hospital().await;
    let official = app.official(LINWU).await;
    let green = app.resident("绿码人").await;
    let yellow = app.resident("黄码人").await;
    let red = app.resident("红码人").await;
    app.set_color(&official, &yellow.id_number, "黄码人", "yellow")
        .await;
    app.set_color(&official, &red.id_number, "红码人", "red")
        .await;
    app.new_scan(&green.token, &shop.code_url)
        .located(25.2800, 112.5630)
        .admitted()
        .await;
    app.check_in(&yellow.token, &shop.code_url).await;
    app.check_in(&red.token, &restaurant.code_url).await;
    for _ in 0..2 {
        let visitor = app.resident("济南访客").await;
        app.check_in(&visitor.token, &jinan.code_url).await;
    }

    app.new_staff("reviewer").named("linwu-board").login().await;
    let client = &browser.client;
    log_in(&app, client, "linwu-board").await;
    wait_for_path(client, "/console/reviews").await;
    click_to_load(client, "nav.menu a[href='/console/dashboard']").await;
    let text = |css: &'static str| async move { element(client, css).await.text().await.unwrap() };
    assert_eq!(text("#scans").await, "3");
    assert_eq!(text("#red").await, "1");
    assert_eq!(text("#yellow").await, "1");
    assert_eq!(text("#unlocated").await, "66.7%");
    assert_eq!(text("#active").await, "2 / 2");
    assert_eq!(text("#pending").await, "1");
    // Each chart is drawn, as SVG in the page; the busiest venues are the region's own.
    for chart in [
        "#chart-scans",
        "#chart-venues",
        "#chart-unlocated",
        "#chart-top",
    ] {
        element(client, &format!("{chart} svg")).await;
    }
    let top = text("#chart-top svg").await;
    assert!(
        top.contains("临武县舜峰镇") && !top.contains("济南"),
        "{top}"
    );
    let legend = text("#chart-scans svg").await;
    assert!(
        legend.contains("绿码") && legend.contains("红码"),
        "{legend}"
    );
    screenshot(client, "dashboard").await;
    browser.close().await;
}

#[tokio::test]
async fn an_official_closes_an_alert_and_marks_a_risky_window_found_by_venue_search() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let restaurant = app
        .approved_venue_of("lodging_dining", "restaurant", "临武县舜峰镇东江鱼馆")
        .await;
    app.approved_venue().await;
    let official = app.official(LINWU).await;
    let red = app.resident("红码人").await;
    app.set_color(&official, &red.id_number, "红码人", "red")
        .await;
    app.check_in(&red.token, &restaurant.code_url).await;
    let diner = app.resident("食客").await;
    let half_hour_ago = Some(chrono::Utc::now() - chrono::Duration::minutes(30));
    app.check_in_at(&diner.token, &restaurant.code_url, half_hour_ago, &[])
        .await;

    app.new_staff("health_official")
        .named("linwu-duty")
        .login()
        .await;
    let client = &browser.client;
    log_in(&app, client, "linwu-duty").await;
    wait_for_path(client, "/console/dashboard").await;

    // The red scan is an open alert, with the person in full; it is closed with a note.
    click_to_load(client, "nav.menu a[href='/console/alerts']").await;
    let alert = element(client, "section.alert").await;
    let text = alert.text().await.unwrap();
    assert!(
        text.contains("红码扫码") && text.contains("红码人"),
        "{text}"
    );
    assert!(text.contains(&red.id_number), "{text}");
    screenshot(client, "alerts").await;
    alert
        .find(Locator::Css("[name='note']"))
        .await
        .unwrap()
        .send_keys("已转运至隔离点")
        .await
        .unwrap();
    click_to_load(client, "section.alert form.close button").await;
    assert_eq!(
        element(client, ".notice").await.text().await.unwrap(),
        "已办结该预警"
    );
    element(client, ".empty").await;
    let closed = app.read(&official, "/api/v1/alerts?status=closed").await;
    assert!(closed.to_string().contains("已转运至隔离点"), "{closed}");

    // The venue is found by part of its name; its page leads to a risky window for it.
    click_to_load(client, "nav.menu a[href='/console/venues']").await;
    fill(client, "q", "鱼馆").await;
    click_to_load(client, "#search button").await;
    let found = element(client, "#venues").await.text().await.unwrap();
    assert!(found.contains("临武县舜峰镇东江鱼馆"), "{found}");
    assert!(!found.contains("便民超市"), "{found}");
    click_to_load(client, "#venues a").await;
    let venue = element(client, "#venue").await.text().await.unwrap();
    // The manager is masked here as everywhere staff see a venue.
    assert!(venue.contains("负责人") && venue.contains('*'), "{venue}");
    assert_eq!(
        client.title().await.unwrap(),
        "临武县舜峰镇东江鱼馆 · 场所码工作台"
    );
    screenshot(client, "venue").await;

    // Everyone there in the last two hours, on the page and as a download.
    click_to_load(client, "#visitor-window button").await;
    let visitors = element(client, "#visitor-list").await.text().await.unwrap();
    assert!(
        visitors.contains("食客") && visitors.contains("红码人"),
        "{visitors}"
    );
    assert!(visitors.contains(&diner.id_number), "{visitors}");
    screenshot(client, "visitors").await;
    element(client, "#export").await.click().await.unwrap();
    let csv = browser
        .downloaded(&format!("visitors-{}.csv", restaurant.id))
        .await;
    assert!(String::from_utf8(csv).unwrap().contains("食客"));
    client.back().await.unwrap();
    click_to_load(client, "#venue a.button").await;
    wait_for_path(client, "/console/risk-windows").await;
    let venue_id = element(client, "[name='venue_id']").await;
    assert_eq!(
        venue_id.prop("value").await.unwrap().as_deref(),
        Some(restaurant.id.to_string().as_str())
    );
    fill(
        client,
        "message",
        "该时段有确诊病例到访，请尽快进行核酸检测",
    )
    .await;
    click_to_load(client, "#risk-window button").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert!(notice.contains("已标记风险时段"), "{notice}");
    let windows = element(client, "#windows").await.text().await.unwrap();
    assert!(windows.contains("临武县舜峰镇东江鱼馆"), "{windows}");
    screenshot(client, "risk-windows").await;

    // The diner is told in the mini-program.
    let notices = app.read(&diner.token, "/api/v1/me/notifications").await;
    assert!(
        notices.to_string().contains("请尽快进行核酸检测"),
        "{notices}"
    );
    browser.close().await;
}
