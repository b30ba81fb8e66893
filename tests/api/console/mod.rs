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

mod auditors;
mod lockdown;
mod officials;
mod registrars;
mod reviewers;
mod sysadmins;

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
