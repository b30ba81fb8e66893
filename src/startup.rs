//! The application: database prepared, listener bound (its real port read back), route table
//! registered.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::config::Settings;
use crate::db::regions::{self, LoadOutcome};
use crate::db::Database;
use crate::error::ApiError;
use crate::platforms::alipay::AlipayClient;
use crate::platforms::dev::DevProvider;
use crate::platforms::wechat::WechatClient;
use crate::platforms::{IdentityProvider, IdentityProviders};
use crate::request_context::request_context;
use crate::routes;
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Prepares the database and binds `APP_HOST:APP_PORT` (port 0 picks a free one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let database = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || prepare_database(&settings)).await??
        };
        let listener = TcpListener::bind((settings.host.as_str(), settings.port)).map_err(|e| {
            anyhow::anyhow!("cannot listen on {}:{}: {e}", settings.host, settings.port)
        })?;
        let port = listener.local_addr()?.port();
        let providers = identity_providers(&settings)?;
        let server = run(listener, database, providers, settings)?;
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Connects, applies pending migrations and loads the shipped reference data. Blocking.
pub fn prepare_database(settings: &Settings) -> anyhow::Result<Database> {
    let database = Database::connect(&settings.database_url, settings.database_pool_size)?;
    let applied = database.migrate()?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    let mut conn = database.get()?;
    if let LoadOutcome::Loaded { rows } = regions::ensure_loaded(&mut conn)? {
        tracing::info!(rows, "loaded administrative divisions");
    }
    Ok(database)
}

/// The platforms this deployment is configured for, plus development logins in development.
pub fn identity_providers(settings: &Settings) -> anyhow::Result<IdentityProviders> {
    let wechat = match &settings.wechat {
        Some(config) => Some(Arc::new(
            WechatClient::new(config.clone()).map_err(|e| anyhow::anyhow!("WeChat: {e}"))?,
        ) as Arc<dyn IdentityProvider>),
        None => None,
    };
    let alipay = match &settings.alipay {
        Some(config) => Some(Arc::new(
            AlipayClient::new(config.clone()).map_err(|e| anyhow::anyhow!("Alipay: {e}"))?,
        ) as Arc<dyn IdentityProvider>),
        None => None,
    };
    let dev = settings
        .is_development()
        .then(|| Arc::new(DevProvider) as Arc<dyn IdentityProvider>);
    Ok(IdentityProviders {
        wechat,
        alipay,
        dev,
    })
}

/// Deletes old data every `PURGE_INTERVAL_MINUTES` in the background (first run one interval
/// after start-up, so start-up stays quick).
fn spawn_purge(state: web::Data<AppState>) {
    let minutes = state.settings.purge_interval_minutes;
    if minutes == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut ticks =
            tokio::time::interval(std::time::Duration::from_secs(u64::from(minutes) * 60));
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let worker = state.clone();
            let outcome = state
                .db
                .run(move |conn| {
                    crate::db::retention::purge(
                        conn,
                        worker.settings.retention_days,
                        worker.settings.audit_retention_days,
                    )
                })
                .await;
            match outcome {
                Ok(purged) => {
                    state.metrics.observe_purge(&purged.counts);
                    tracing::info!(deleted = purged.total(), counts = ?purged.counts, "retention purge");
                }
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        }
    });
}

fn run(
    listener: TcpListener,
    database: Database,
    providers: IdentityProviders,
    settings: Settings,
) -> std::io::Result<Server> {
    let state = web::Data::new(AppState::new(settings, database, providers));
    spawn_purge(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(request_context))
            .app_data(state.clone())
            // A path segment that does not parse (`/venues/abc`) names nothing that exists.
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
            .configure(routes::configure)
            .default_service(web::to(routes::not_found))
    })
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}
