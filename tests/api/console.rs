//! The staff console in a real browser: headless Chromium driven through ChromeDriver
//! (WebDriver, `fantoccini`). Debian's `chromium` and `chromium-driver` provide both; `.ci/run`
//! installs them and sets `CONSOLE_BROWSER_REQUIRED`, so there a missing browser fails the test.
//! On a machine without them the browser tests say so and pass.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::helpers::{
    adult, body_of, id_number, spawn_app, spawn_app_with, TestApp, LINWU, LINWU_TOWNSHIP,
    STAFF_PASSWORD,
};
use crate::traces::scenario;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium session, and the driver process behind it.
struct Browser {
    client: Client,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    /// `None` when this machine has no Chromium (unless CI requires one).
    async fn start() -> Option<Self> {
        let present =
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
        if !present {
            assert!(
                std::env::var_os("CONSOLE_BROWSER_REQUIRED").is_none(),
                "CONSOLE_BROWSER_REQUIRED is set but {CHROMEDRIVER} or {CHROMIUM} is missing"
            );
            eprintln!(
                "no Chromium here (apt-get install chromium chromium-driver): browser test skipped"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": profile.path().join("downloads"),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => {
                    return Some(Self {
                        client,
                        driver,
                        profile,
                    })
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = driver.kill();
        panic!("no WebDriver session: {last:?}");
    }

    /// The file the browser downloaded as `name`, once it is complete.
    async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.profile.path().join("downloads").join(name);
        for _ in 0..100 {
            if let Ok(bytes) = std::fs::read(&path) {
                return bytes;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} was never downloaded", path.display());
    }

    async fn close(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The element `css` names, once the page shows it (a page loads after a click).
async fn element(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
}

/// Clicks what `css` names and waits until the page it leads to has replaced this one, so that
/// what is read next is on the new page.
async fn click_to_load(client: &Client, css: &str) {
    let old = client.find(Locator::Css("html")).await.unwrap();
    element(client, css).await.click().await.unwrap();
    for _ in 0..100 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("clicking {css} loaded no new page");
}

/// The path of the page once it is `path`.
async fn wait_for_path(client: &Client, path: &str) {
    for _ in 0..100 {
        if client.current_url().await.unwrap().path() == path {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "never reached {path}: at {}",
        client.current_url().await.unwrap()
    );
}

/// Types `value` into the field named `name` of the page.
async fn fill(client: &Client, name: &str, value: &str) {
    element(client, &format!("[name='{name}']"))
        .await
        .send_keys(value)
        .await
        .unwrap();
}

/// Keeps a picture of the page when `CONSOLE_SCREENSHOTS` names a directory (CI keeps them).
async fn screenshot(client: &Client, name: &str) {
    let Some(dir) = std::env::var_os("CONSOLE_SCREENSHOTS") else {
        return;
    };
    let png = client.screenshot().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
}

async fn log_out(client: &Client) {
    click_to_load(client, "header form.inline button").await;
    wait_for_path(client, "/console/login").await;
}

async fn log_in(app: &TestApp, client: &Client, username: &str) {
    client
        .goto(&format!("{}/console/", app.address))
        .await
        .unwrap();
    wait_for_path(client, "/console/login").await;
    fill(client, "username", username).await;
    fill(client, "password", STAFF_PASSWORD).await;
    click_to_load(client, "#login").await;
}

#[tokio::test]
async fn a_reviewer_logs_in_and_approves_and_rejects_applications() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.staff_login("linwu-review", "reviewer", LINWU).await;
    let (_, approved) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇便民超市")
        .await;
    let (_, rejected) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇某某网吧")
        .await;
    let client = &browser.client;

    // A wrong password is refused on the page.
    client
        .goto(&format!("{}/console/login", app.address))
        .await
        .unwrap();
    fill(client, "username", "linwu-review").await;
    fill(client, "password", "not the password").await;
    click_to_load(client, "#login").await;
    let problem = element(client, ".problem").await;
    assert_eq!(problem.text().await.unwrap(), "用户名或密码错误");
    screenshot(client, "login").await;

    log_in(&app, client, "linwu-review").await;
    wait_for_path(client, "/console/reviews").await;
    let queue = element(client, "table.queue").await;
    let text = queue.text().await.unwrap();
    assert!(text.contains("临武县舜峰镇便民超市"), "{text}");
    assert!(text.contains("临武县舜峰镇某某网吧"), "{text}");
    // The manager's personal data is masked, as the API shows it.
    assert!(!text.contains("13907351234"), "{text}");
    screenshot(client, "reviews").await;

    let id = approved["id"].as_i64().unwrap();
    click_to_load(client, &format!("#venue-{id} button.approve")).await;
    let notice = element(client, ".notice").await;
    assert_eq!(notice.text().await.unwrap(), "已通过该申请，场所码已生效");

    let id = rejected["id"].as_i64().unwrap();
    let row = element(client, &format!("#venue-{id}")).await;
    row.find(Locator::Css("[name='reason']"))
        .await
        .unwrap()
        .send_keys("营业执照与场所名称不符")
        .await
        .unwrap();
    click_to_load(client, &format!("#venue-{id} button.reject")).await;
    let notice = element(client, ".notice").await;
    assert_eq!(notice.text().await.unwrap(), "已驳回该申请");
    element(client, ".empty").await;

    // The decisions are those of the API.
    let official = app.reviewer(LINWU).await;
    let venues = app.read(&official, "/api/v1/reviews?status=approved").await;
    assert!(
        venues.to_string().contains("临武县舜峰镇便民超市"),
        "{venues}"
    );
    let venues = app.read(&official, "/api/v1/reviews?status=rejected").await;
    assert!(
        venues.to_string().contains("营业执照与场所名称不符"),
        "{venues}"
    );

    // Logged out, the queue is not there any more.
    click_to_load(client, "header form.inline button").await;
    wait_for_path(client, "/console/login").await;
    client
        .goto(&format!("{}/console/reviews", app.address))
        .await
        .unwrap();
    wait_for_path(client, "/console/login").await;
    browser.close().await;
}

/// The login page's cookie and the token its form carries, as a browser would hold them.
pub(crate) async fn login_page(app: &TestApp) -> (String, String) {
    let page = app.get("/console/login").await;
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("vc_login="), "{cookie}");
    let html = page.text().await.unwrap();
    let token = html
        .split("name=\"login_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the login form carries its token")
        .to_owned();
    (cookie, token)
}

/// Logs in through the console's form without a browser; the session's `Set-Cookie`.
pub(crate) async fn console_login(app: &TestApp, username: &str) -> String {
    let (cookie, token) = login_page(app).await;
    let login = app
        .client
        .post(format!("{}/console/login", app.address))
        .header("cookie", cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("username", username),
            ("password", STAFF_PASSWORD),
            ("login_csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("vc_console="))
        .expect("the session cookie")
}

#[tokio::test]
async fn console_pages_are_locked_down() {
    let app = spawn_app().await;
    let page = app.get("/console/login").await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    // No session: to the login page.
    let queue = app.get("/console/reviews").await;
    assert_eq!(queue.status(), 303);
    assert_eq!(queue.headers()["location"], "/console/login");

    // The cookie is HttpOnly and SameSite=Strict; a decision without the CSRF token is refused.
    app.staff_login("linwu-review-2", "reviewer", LINWU).await;
    let (_, venue) = app
        .applied_venue(LINWU_TOWNSHIP, "临武县舜峰镇百货店")
        .await;
    let cookie = console_login(&app, "linwu-review-2").await;
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let forged = app
        .client
        .post(format!("{}/console/reviews/{}", app.address, venue["id"]))
        .header("cookie", &session)
        .form(&[("csrf", "0".repeat(32).as_str()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let official = app.reviewer(LINWU).await;
    let pending = app.read(&official, "/api/v1/reviews?status=pending").await;
    assert!(pending.to_string().contains("临武县舜峰镇百货店"));

    // A health official's session does not open the review queue.
    app.staff_login("linwu-health-2", "health_official", LINWU)
        .await;
    let session = console_login(&app, "linwu-health-2").await;
    let session = session.split(';').next().unwrap().to_owned();
    let queue = app
        .client
        .get(format!("{}/console/reviews", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(queue.status(), 403);
}

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
    app.staff_login("linwu-audit", "auditor", LINWU).await;
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

#[tokio::test]
async fn officials_set_a_colour_and_a_second_official_confirms_a_large_import() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app_with(&[("TRACE_CONFIRM_THRESHOLD", "2")]).await;
    app.staff_login("linwu-health-a", "health_official", LINWU)
        .await;
    app.staff_login("linwu-health-b", "health_official", LINWU)
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
    app.staff_login("linwu-tracer", "health_official", LINWU)
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
    app.staff_login("linwu-tracer-2", "health_official", LINWU)
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
    body_of(
        app.scan(
            &green.token,
            json!({"code": shop.code_url, "location": {"lat": 25.2800, "lng": 112.5630}}),
        )
        .await,
        201,
    )
    .await;
    app.check_in(&yellow.token, &shop.code_url).await;
    app.check_in(&red.token, &restaurant.code_url).await;
    for _ in 0..2 {
        let visitor = app.resident("济南访客").await;
        app.check_in(&visitor.token, &jinan.code_url).await;
    }

    app.staff_login("linwu-board", "reviewer", LINWU).await;
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

    app.staff_login("linwu-duty", "health_official", LINWU)
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

#[tokio::test]
async fn a_sysadmin_manages_the_staff_accounts_of_the_region() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.staff_login("linwu-admin", "sysadmin", LINWU).await;
    app.staff_login("jinan-review", "reviewer", "370102").await;
    let client = &browser.client;
    log_in(&app, client, "linwu-admin").await;
    wait_for_path(client, "/console/staff").await;
    let accounts = element(client, "#accounts").await.text().await.unwrap();
    assert!(accounts.contains("linwu-admin"), "{accounts}");
    assert!(!accounts.contains("jinan-review"), "{accounts}");

    // A weak password is refused on the page; then the account is made.
    fill(client, "username", "linwu-new-review").await;
    element(client, "#create [name='role'] option[value='reviewer']")
        .await
        .click()
        .await
        .unwrap();
    fill(client, "password", "short").await;
    // The browser's own length check is bypassed, so the server's answer is what shows.
    client
        .execute(
            "document.querySelector(\"#create [name='password']\").removeAttribute('minlength')",
            vec![],
        )
        .await
        .unwrap();
    click_to_load(client, "#create button").await;
    let problem = element(client, ".problem").await.text().await.unwrap();
    assert!(problem.contains("密码长度"), "{problem}");
    fill(client, "username", "linwu-new-review").await;
    element(client, "#create [name='role'] option[value='reviewer']")
        .await
        .click()
        .await
        .unwrap();
    fill(client, "password", STAFF_PASSWORD).await;
    click_to_load(client, "#create button").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert!(notice.contains("已创建账号"), "{notice}");
    screenshot(client, "staff-accounts").await;
    let login = app
        .post_json(
            "/api/v1/staff-sessions",
            &json!({"username": "linwu-new-review", "password": STAFF_PASSWORD}),
        )
        .await;
    let token = body_of(login, 200).await["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Disabled, its session ends and it cannot log in.
    click_to_load(client, "#account-linwu-new-review form.access button").await;
    let notice = element(client, ".notice").await.text().await.unwrap();
    assert!(notice.contains("已停用"), "{notice}");
    assert_eq!(app.get_as(&token, "/api/v1/staff/me").await.status(), 401);

    // An account of another region cannot be made here.
    fill(client, "username", "jinan-new").await;
    let region = element(client, "#create [name='region']").await;
    region.clear().await.unwrap();
    region.send_keys("370102").await.unwrap();
    fill(client, "password", STAFF_PASSWORD).await;
    click_to_load(client, "#create button").await;
    let problem = element(client, ".problem").await.text().await.unwrap();
    assert_eq!(problem, "只能管理本地区的账号");
    browser.close().await;
}

/// A console session for `username` (made with `role` in `region`): its cookie and CSRF token.
pub(crate) async fn console_session(
    app: &TestApp,
    username: &str,
    role: &str,
    region: &str,
) -> (String, String) {
    app.staff_login(username, role, region).await;
    let cookie = console_login(app, username).await;
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let home = console_get(app, &cookie, "/console/").await;
    assert_eq!(home.status(), 303);
    let start = home.headers()["location"].to_str().unwrap().to_owned();
    let html = console_get(app, &cookie, &start)
        .await
        .text()
        .await
        .unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("every signed-in page carries the CSRF token")
        .to_owned();
    (cookie, csrf)
}

pub(crate) async fn console_get(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn each_role_reaches_only_its_pages_and_only_its_regions_data() {
    let app = spawn_app().await;
    let pages = [
        ("/console/reviews", &["reviewer"][..]),
        (
            "/console/venues",
            &["reviewer", "health_official", "registrar"][..],
        ),
        ("/console/dashboard", &["reviewer", "health_official"][..]),
        ("/console/health-codes", &["health_official"][..]),
        ("/console/health-codes/import", &["health_official"][..]),
        ("/console/health-codes/imports", &["health_official"][..]),
        ("/console/traces", &["health_official"][..]),
        ("/console/risk-windows", &["health_official"][..]),
        ("/console/alerts", &["health_official"][..]),
        ("/console/follow-ups", &["health_official", "registrar"][..]),
        ("/console/venues/import", &["registrar"][..]),
        ("/console/audit", &["auditor"][..]),
        ("/console/staff", &["sysadmin"][..]),
    ];
    for role in [
        "reviewer",
        "health_official",
        "auditor",
        "sysadmin",
        "registrar",
    ] {
        let (cookie, _) = console_session(
            &app,
            &format!("matrix-{}", role.replace('_', "-")),
            role,
            LINWU,
        )
        .await;
        for (path, roles) in pages {
            let status = console_get(&app, &cookie, path).await.status();
            let expected = if roles.contains(&role) { 200 } else { 403 };
            assert_eq!(status, expected, "{role} at {path}");
        }
    }

    // Data of Linwu: a venue, a red scan's alert, a traced case.
    let venue = app.approved_venue().await;
    let official = app.official(LINWU).await;
    let case = app.resident("林病例").await;
    app.set_color(&official, &case.id_number, "林病例", "red")
        .await;
    app.check_in(&case.token, &venue.code_url).await;
    let trace = body_of(
        app.post_as(
            &official,
            "/api/v1/traces",
            &json!({
                "id_number": case.id_number,
                "from": (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339(),
                "to": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
            }),
        )
        .await,
        201,
    )
    .await;
    let trace_id = trace["trace_id"].as_i64().unwrap();

    // An official of Jinan reaches none of it, whichever address is typed.
    let (cookie, csrf) = console_session(&app, "jinan-official", "health_official", "370102").await;
    for path in [
        format!("/console/venues/{}", venue.id),
        format!("/console/traces/{trace_id}"),
        format!("/console/traces/{trace_id}/export.csv"),
    ] {
        let answer = console_get(&app, &cookie, &path).await;
        assert_eq!(answer.status(), 303, "{path}");
    }
    for path in ["/console/alerts", "/console/venues", "/console/dashboard"] {
        let html = console_get(&app, &cookie, path).await.text().await.unwrap();
        assert!(
            !html.contains("林病例") && !html.contains(&case.id_number),
            "{path}"
        );
        assert!(!html.contains("临武县舜峰镇便民超市"), "{path}");
    }
    let lookup = app
        .client
        .post(format!("{}/console/health-codes/lookup", app.address))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("id_number", case.id_number.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), 200);
    let html = lookup.text().await.unwrap();
    assert!(html.contains("本地区尚无此人记录") && !html.contains("林病例"));
    // Without the session's CSRF token, a form does nothing.
    let forged = app
        .client
        .post(format!("{}/console/health-codes", app.address))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", "0".repeat(32).as_str()),
            ("id_number", case.id_number.as_str()),
            ("color", "green"),
            ("reason_code", "other"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let code = app
        .read(
            &official,
            &format!("/api/v1/health-codes/{}", case.id_number),
        )
        .await;
    assert_eq!(code["color"], "red");
}

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
    app.staff_login("linwu-street", "registrar", LINWU_TOWNSHIP)
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
    let scan = app
        .scan(&resident.token, json!({"code": venue.code_url}))
        .await;
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
    app.staff_login("linwu-community", "registrar", LINWU_TOWNSHIP)
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
