//! The trace scenario: a case, the people whose stays overlapped theirs at two venues, and the
//! officials who trace them.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::*;

/// Who was where in the scenario.
pub struct Scenario {
    pub app: TestApp,
    pub official: String,
    pub case_id_number: String,
    pub k_token: String,
    pub c_token: String,
    pub hospital: i64,
    pub restaurant: i64,
    pub t0: DateTime<Utc>,
}

/// A (the case) at the hospital V from T0 for its default two hours; K with companion B at V
/// from T0+1:30; C at V from T0+2:30; D at a bank at T0+1:00; K and B at a shop at T0+4:00
/// where E arrives at T0+4:20. Then, in real time at a restaurant: G and H arrived 30 minutes
/// ago, G has checked out, and A arrives now; two people with hostile names are registered there
/// by hand.
pub async fn scenario() -> Scenario {
    let app = spawn_app_with(&[("TRACE_CONFIRM_THRESHOLD", "3")]).await;
    let official = app.official(LINWU).await;
    let hospital = app
        .approved_venue_of("medical_transport", "hospital", "临武县人民医院")
        .await;
    let bank = app
        .approved_venue_of("daily_shopping", "bank", "临武县农村商业银行")
        .await;
    let shop = app.approved_venue().await;
    let restaurant = app
        .approved_venue_of("lodging_dining", "restaurant", "临武县舜峰镇东江鱼馆")
        .await;

    let person = |n: u32, name: &'static str| {
        let app = &app;
        async move {
            app.new_resident()
                .subject(&format!("p{n}"))
                .named(name)
                .id_number(adult(n))
                .phone(&format!("1380000000{n}"))
                .build()
                .await
                .token
        }
    };
    let a = person(1, "甲病例").await;
    let k = person(2, "柯监护").await;
    let c = person(3, "丙晚到").await;
    let d = person(4, "丁别处").await;
    let e = person(5, "戊二级").await;
    let g = person(6, "庚已离开").await;
    let h = person(7, "辛仍在").await;
    let b = app.add_companion(&k, "乙老人", &elder(8), "父亲").await;
    let b_id = b["id"].as_i64().unwrap();

    let t0 = Utc::now() - Duration::hours(20);
    let minutes = |m: i64| Some(t0 + Duration::minutes(m));
    app.check_in_at(&a, &hospital.code_url, minutes(0), &[])
        .await;
    app.check_in_at(&k, &hospital.code_url, minutes(90), &[b_id])
        .await;
    app.check_in_at(&c, &hospital.code_url, minutes(150), &[])
        .await;
    app.check_in_at(&d, &bank.code_url, minutes(60), &[]).await;
    app.check_in_at(&k, &shop.code_url, minutes(240), &[b_id])
        .await;
    app.check_in_at(&e, &shop.code_url, minutes(260), &[]).await;

    let half_hour_ago = Some(Utc::now() - Duration::minutes(30));
    let g_scan = app
        .check_in_at(&g, &restaurant.code_url, half_hour_ago, &[])
        .await;
    app.check_in_at(&h, &restaurant.code_url, half_hour_ago, &[])
        .await;
    body_of(
        app.post_as(
            &g,
            &format!("/api/v1/check-ins/{}/checkout", g_scan["check_in_id"]),
            &json!({}),
        )
        .await,
        200,
    )
    .await;
    app.check_in(&a, &restaurant.code_url).await;

    // Registered by hand after A arrived, under names a spreadsheet would run.
    for (n, name) in [(9, r#"=HYPERLINK("http://x","y")"#), (10, "@SUM(1)")] {
        body_of(
            app.post_as(
                &restaurant.manager,
                &format!("/api/v1/venues/{}/manual-check-ins", restaurant.id),
                &json!({"entrance_id": restaurant.entrance_id, "name": name, "id_number": adult(n)}),
            )
            .await,
            201,
        )
        .await;
    }
    Scenario {
        app,
        official,
        case_id_number: adult(1),
        k_token: k,
        c_token: c,
        hospital: hospital.id,
        restaurant: restaurant.id,
        t0,
    }
}

pub async fn trace(s: &Scenario, depth: u8) -> Value {
    body_of(
        s.app
            .post_as(
                &s.official,
                "/api/v1/traces",
                &json!({
                    "id_number": s.case_id_number,
                    "from": (s.t0 - Duration::hours(1)).to_rfc3339(),
                    "to": (Utc::now() + Duration::hours(1)).to_rfc3339(),
                    "depth": depth
                }),
            )
            .await,
        201,
    )
    .await
}
