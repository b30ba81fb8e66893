//! The console without a browser: its login form, a session cookie and CSRF token, a page.

use super::{TestApp, STAFF_PASSWORD};

/// The login page's cookie and the token its form carries, as a browser would hold them.
pub async fn login_page(app: &TestApp) -> (String, String) {
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
pub async fn console_login(app: &TestApp, username: &str) -> String {
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

/// A console session for `username` (made with `role` in `region`): its cookie and CSRF token.
pub async fn console_session(
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

pub async fn console_get(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}
