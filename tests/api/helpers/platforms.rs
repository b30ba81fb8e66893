//! Logging in through the fake WeChat and Alipay servers: an app that talks to both, and a
//! session token from a code.

use std::sync::Arc;

use serde_json::{json, Value};

use super::{body_of, spawn_app_with, TestApp};
use crate::fake_alipay;
use crate::fake_faces::Faces;
use crate::fake_wechat;

pub struct Platforms {
    pub app: TestApp,
    pub wechat: wiremock::MockServer,
    pub _alipay: wiremock::MockServer,
    /// The face checks each platform opened; a test does them as the user would.
    pub wechat_faces: Arc<Faces>,
    pub alipay_faces: Arc<Faces>,
}

/// An app configured for a fake WeChat and a fake Alipay.
pub async fn app_with_platforms() -> Platforms {
    let wechat = fake_wechat::start().await;
    let wechat_faces = fake_wechat::mount_faces(&wechat, fake_wechat::TOKEN).await;
    let (alipay, alipay_faces) = fake_alipay::start_with_faces().await;
    let mut settings = fake_wechat::settings(&wechat);
    settings.extend(fake_alipay::settings(&alipay));
    Platforms {
        app: spawn_app_with(&settings).await,
        wechat,
        _alipay: alipay,
        wechat_faces,
        alipay_faces,
    }
}

/// A login that must succeed; the session.
pub async fn login(app: &TestApp, path: &str, body: Value) -> Value {
    body_of(app.post_json(path, &body).await, 200).await
}

pub async fn wechat_login(app: &TestApp, code: &str) -> String {
    let session = login(app, "/api/v1/sessions/wechat", json!({"code": code})).await;
    session["token"].as_str().unwrap().to_owned()
}

pub async fn alipay_login(app: &TestApp, code: &str) -> String {
    let session = login(app, "/api/v1/sessions/alipay", json!({"auth_code": code})).await;
    session["token"].as_str().unwrap().to_owned()
}
