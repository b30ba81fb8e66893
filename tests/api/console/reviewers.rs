//! A county reviewer in the console: the review queue.

use super::*;

#[tokio::test]
async fn a_reviewer_logs_in_and_approves_and_rejects_applications() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    app.new_staff("reviewer")
        .named("linwu-review")
        .login()
        .await;
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
