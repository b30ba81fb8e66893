//! A sysadmin in the console: the staff accounts of the region.

use serde_json::json;

use super::*;

#[tokio::test]
async fn a_sysadmin_manages_the_staff_accounts_of_the_region() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.new_staff("sysadmin").named("linwu-admin").login().await;
    app.new_staff("reviewer")
        .in_region("370102")
        .named("jinan-review")
        .login()
        .await;
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
