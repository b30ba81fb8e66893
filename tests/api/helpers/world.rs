//! Builders for the world a test needs: residents, venues, staff of a role and region, scans. Each
//! starts from what most tests want (a consented adult of Linwu, an approved supermarket in a
//! Linwu township, staff of Linwu, a plain scan) and says only what a test changes:
//!
//! ```ignore
//! let grandma = app.new_resident().named("李奶奶").id_number(elder(1)).build().await;
//! let bus = app.new_venue().of_kind("medical_transport", "bus").with("plate_number", json!("湘L·12345")).approved().await;
//! let official = app.new_staff("health_official").in_region("370102").login().await;
//! let page = app.new_scan(&grandma.token, &bus.code_url).located(25.28, 112.563).admitted().await;
//! ```

use reqwest::Response;
use serde_json::{json, Value};

use super::{adult, body_of, Resident, TestApp, Venue, LINWU, LINWU_TOWNSHIP};

impl TestApp {
    /// A resident to build: a consented adult of Linwu with a number of their own.
    pub fn new_resident(&self) -> ResidentBuilder<'_> {
        let n = self.next();
        ResidentBuilder {
            app: self,
            subject: format!("resident-{n}"),
            name: "张三".into(),
            id_number: adult(n),
            phone: format!("138{n:08}"),
            consented: true,
        }
    }

    /// A venue to build: a supermarket in a Linwu township, managed by a new consented resident.
    pub fn new_venue(&self) -> VenueBuilder<'_> {
        VenueBuilder {
            app: self,
            township: LINWU_TOWNSHIP.into(),
            manager: None,
            application: TestApp::application(LINWU_TOWNSHIP, "临武县舜峰镇好又多超市"),
        }
    }

    /// A staff member to build: of `role` (`reviewer`, `health_official`, …) in Linwu.
    pub fn new_staff(&self, role: &str) -> StaffBuilder<'_> {
        StaffBuilder {
            app: self,
            username: format!("{}-{}", role.replace('_', "-"), self.next()),
            role: role.into(),
            region: LINWU.into(),
        }
    }

    /// A scan of `code` by `token`'s account, as the mini-program sends it.
    pub fn new_scan(&self, token: &str, code: &str) -> ScanBuilder<'_> {
        ScanBuilder {
            app: self,
            token: token.into(),
            body: json!({ "code": code }),
        }
    }
}

pub struct ResidentBuilder<'a> {
    app: &'a TestApp,
    subject: String,
    name: String,
    id_number: String,
    phone: String,
    consented: bool,
}

impl ResidentBuilder<'_> {
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    pub fn id_number(mut self, id_number: impl Into<String>) -> Self {
        self.id_number = id_number.into();
        self
    }

    /// The phone the platform's phone code stands for.
    pub fn phone(mut self, phone: &str) -> Self {
        self.phone = phone.into();
        self
    }

    /// The development login's subject (the same subject is the same account).
    pub fn subject(mut self, subject: &str) -> Self {
        self.subject = subject.into();
        self
    }

    /// Logged in, but consented to nothing yet.
    pub fn without_consent(mut self) -> Self {
        self.consented = false;
        self
    }

    pub async fn build(self) -> Resident {
        let token = self.app.dev_login("wechat", &self.subject).await;
        if self.consented {
            let consent = json!({
                "profile": {"nickname": self.subject},
                "phone": {"wechat_code": self.phone},
                "identity": {"name": self.name, "id_number": self.id_number}
            });
            body_of(
                self.app
                    .put_as(&token, "/api/v1/me/consent", &consent)
                    .await,
                200,
            )
            .await;
        }
        Resident {
            token,
            id_number: self.id_number,
        }
    }
}

pub struct VenueBuilder<'a> {
    app: &'a TestApp,
    township: String,
    manager: Option<String>,
    application: Value,
}

impl VenueBuilder<'_> {
    /// In the township (or any region of nine digits) `code`; reviewed by its county.
    pub fn in_township(mut self, code: &str) -> Self {
        self.township = code.into();
        self.application["region_code"] = json!(code);
        self
    }

    pub fn of_kind(mut self, category: &str, subtype: &str) -> Self {
        self.application["category"] = json!(category);
        self.application["subtype"] = json!(subtype);
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        self.application["name"] = json!(name);
        self
    }

    /// Applied for by this account (a new consented resident otherwise).
    pub fn managed_by(mut self, token: &str) -> Self {
        self.manager = Some(token.into());
        self
    }

    /// Any other field of the application, as sent.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.application[field] = value;
        self
    }

    async fn manager(&self) -> String {
        match &self.manager {
            Some(token) => token.clone(),
            None => self.app.new_resident().named("钱多多").build().await.token,
        }
    }

    /// Applied for, not reviewed yet: the manager's token and the venue.
    pub async fn applied(self) -> (String, Value) {
        let manager = self.manager().await;
        let venue = self.app.apply(&manager, self.application).await;
        (manager, venue)
    }

    /// Applied for and approved by a reviewer of its county.
    pub async fn approved(self) -> Venue {
        let county = self.township[..6].to_owned();
        let app = self.app;
        let (manager, applied) = self.applied().await;
        let json = app
            .approve_in(&county, applied["id"].as_i64().unwrap())
            .await;
        Venue {
            manager,
            id: json["id"].as_i64().unwrap(),
            entrance_id: json["entrances"][0]["id"].as_i64().unwrap(),
            code_url: json["entrances"][0]["code_url"]
                .as_str()
                .unwrap()
                .to_owned(),
            json,
        }
    }
}

pub struct StaffBuilder<'a> {
    app: &'a TestApp,
    username: String,
    role: String,
    region: String,
}

impl StaffBuilder<'_> {
    /// The region (a county's six digits, or any prefix of a region code) the account acts on.
    pub fn in_region(mut self, region: &str) -> Self {
        self.region = region.into();
        self
    }

    pub fn named(mut self, username: &str) -> Self {
        self.username = username.into();
        self
    }

    /// The account created as an operator does, and its first session's token.
    pub async fn login(self) -> String {
        self.app
            .staff_login(&self.username, &self.role, &self.region)
            .await
    }
}

pub struct ScanBuilder<'a> {
    app: &'a TestApp,
    token: String,
    body: Value,
}

impl ScanBuilder<'_> {
    /// Scanned at `when` (RFC 3339) by the phone's clock, as an offline scan sent later.
    pub fn at(mut self, when: &str) -> Self {
        self.body["scanned_at"] = json!(when);
        self
    }

    /// Where the phone was.
    pub fn located(mut self, lat: f64, lng: f64) -> Self {
        self.body["location"] = json!({"lat": lat, "lng": lng});
        self
    }

    /// With these companions of the account (their ids).
    pub fn with_companions(mut self, ids: Value) -> Self {
        self.body["companion_ids"] = ids;
        self
    }

    pub async fn send(self) -> Response {
        self.app.scan(&self.token, self.body).await
    }

    /// A scan that must be accepted: the door page.
    pub async fn admitted(self) -> Value {
        body_of(self.send().await, 201).await
    }
}
