//! What the console lets no one do: pages without a session, another role's pages, another
//! region's data, forms from elsewhere.

use serde_json::json;

use super::*;
use crate::helpers::*;

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
    app.new_staff("reviewer")
        .named("linwu-review-2")
        .login()
        .await;
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
    app.new_staff("health_official")
        .named("linwu-health-2")
        .login()
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
