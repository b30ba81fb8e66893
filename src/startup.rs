//! The application: database prepared, listener bound (its real port read back), route table
//! registered, background tasks started.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::regions::{self, LoadOutcome};
use crate::db::Database;
use crate::platforms::alipay::AlipayClient;
use crate::platforms::dev::DevProvider;
use crate::platforms::messages::{MessageSender, MessageSenders};
use crate::platforms::wechat::WechatClient;
use crate::platforms::{IdentityProvider, IdentityProviders};
use crate::routes;
use crate::services;
use crate::state::AppState;
use crate::web::admission::{self, Admission};
use crate::web::metrics::Metrics;
use crate::web::request_context::request_context;
use crate::web::ApiError;

pub struct Application {
    port: u16,
    server: Server,
    state: Arc<AppState>,
}

impl Application {
    /// Prepares the database and binds `APP_HOST:APP_PORT` (port 0 picks a free one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let clock = Clock::new(settings.timezone);
        let state = Arc::new(AppState::new(
            settings.clone(),
            clock.clone(),
            open_database(&settings, &clock).await?,
            platform_clients(&settings, &clock)?,
        ));
        let server = &settings.server;
        let listener = TcpListener::bind((server.host.as_str(), server.port)).map_err(|e| {
            anyhow::anyhow!("cannot listen on {}:{}: {e}", server.host, server.port)
        })?;
        let port = listener.local_addr()?.port();
        let metrics = Metrics::new();
        services::cache_sync::start(&state).await?;
        services::cache_sync::spawn(Arc::clone(&state));
        spawn_purge(Arc::clone(&state), metrics.clone());
        spawn_audit_anchor(Arc::clone(&state));
        spawn_replica_lag(&state);
        let messages = metrics.clone();
        services::delivery::spawn(
            Arc::clone(&state),
            Box::new(move |platform, outcome| messages.observe_message(platform, outcome)),
        );
        services::regions::spawn_village_load(Arc::clone(&state));
        let server = run(listener, Arc::clone(&state), metrics)?;
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The state the server runs with (the test suite moves its clock).
    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Connects, applies pending migrations and loads the shipped reference data.
pub async fn open_database(settings: &Settings, clock: &Clock) -> anyhow::Result<Database> {
    let settings = settings.clone();
    // Check-ins are stored in UTC, so their day partitions are UTC days.
    let (now, today) = (clock.now_naive(), clock.now_naive().date());
    tokio::task::spawn_blocking(move || {
        let database = Database::connect_with(
            &settings.database.url,
            settings.database.pool_size,
            settings.database.checkout_timeout,
        )?;
        let applied = database.migrate()?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied migrations");
        }
        let mut conn = database.get()?;
        if let LoadOutcome::Loaded { rows } = regions::ensure_loaded(&mut conn, now)? {
            tracing::info!(rows, "loaded administrative divisions");
        }
        crate::db::partitions::ensure_days(&mut conn, today)?;
        Ok(database)
    })
    .await?
}

/// The state without a server, for the command line: no platform is ever called from there.
pub async fn offline_state(settings: Settings) -> anyhow::Result<Arc<AppState>> {
    let clock = Clock::new(settings.timezone);
    let database = open_database(&settings, &clock).await?;
    Ok(Arc::new(AppState::new(
        settings,
        clock,
        database,
        Default::default(),
    )))
}

/// The platforms this deployment is configured for, plus development logins in development;
/// each platform's one client both identifies and sends messages (one access token).
pub fn platform_clients(
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<(IdentityProviders, MessageSenders)> {
    let wechat = match &settings.wechat {
        Some(config) => Some(Arc::new(
            WechatClient::new(config.clone(), clock.clone())
                .map_err(|e| anyhow::anyhow!("WeChat: {e}"))?,
        )),
        None => None,
    };
    let alipay = match &settings.alipay {
        Some(config) => Some(Arc::new(
            AlipayClient::new(config.clone(), clock.clone())
                .map_err(|e| anyhow::anyhow!("Alipay: {e}"))?,
        )),
        None => None,
    };
    let dev = settings
        .is_development()
        .then(|| Arc::new(DevProvider) as Arc<dyn IdentityProvider>);
    let providers = IdentityProviders {
        wechat: wechat.clone().map(|c| c as Arc<dyn IdentityProvider>),
        alipay: alipay.clone().map(|c| c as Arc<dyn IdentityProvider>),
        dev,
    };
    let senders = MessageSenders {
        wechat: wechat.map(|c| c as Arc<dyn MessageSender>),
        alipay: alipay.map(|c| c as Arc<dyn MessageSender>),
    };
    Ok((providers, senders))
}

/// Deletes old data every `PURGE_INTERVAL_MINUTES` in the background (first run one interval
/// after start-up, so start-up stays quick).
fn spawn_purge(state: Arc<AppState>, metrics: Metrics) {
    let minutes = state.settings.retention.purge_interval_minutes;
    if minutes == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut ticks =
            tokio::time::interval(std::time::Duration::from_secs(u64::from(minutes) * 60));
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match services::retention::purge(&state, state.settings.retention.days).await {
                Ok(purged) => {
                    metrics.observe_purge(&purged.counts);
                    tracing::info!(deleted = purged.total(), counts = ?purged.counts, "retention purge");
                }
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        }
    });
}

/// Writes the audit chain's head to the log at start-up and every `AUDIT_ANCHOR_MINUTES` when it
/// moved: an anchor kept outside the database, for `venuecode audit verify --anchor`.
fn spawn_audit_anchor(state: Arc<AppState>) {
    let minutes = state.settings.audit_anchor_minutes;
    if minutes == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut ticks =
            tokio::time::interval(std::time::Duration::from_secs(u64::from(minutes) * 60));
        let mut logged = None;
        loop {
            ticks.tick().await;
            match services::audit::anchor(&state).await {
                Ok(anchor) if logged.as_ref() != Some(&anchor) => {
                    tracing::info!(anchor = %anchor, "audit anchor");
                    logged = Some(anchor);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "audit anchor not read"),
            }
        }
    });
}

fn run(listener: TcpListener, state: Arc<AppState>, metrics: Metrics) -> std::io::Result<Server> {
    let admission = web::Data::new(Admission::new(
        &state.settings.server.admission,
        metrics.clone(),
    ));
    let workers = state.settings.server.http_workers;
    // actix counts connections per worker.
    let max_connections = state.settings.server.admission.max_connections;
    let state = web::Data::from(state);
    let metrics = web::Data::new(metrics);
    let server = HttpServer::new(move || {
        App::new()
            // Inside the request context (a shed request has an id and is counted), before
            // everything else.
            .wrap(from_fn(admission::admission))
            .wrap(from_fn(request_context))
            .app_data(admission.clone())
            .app_data(state.clone())
            .app_data(metrics.clone())
            // A path segment that does not parse (`/venues/abc`) names nothing that exists.
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
            .configure(routes::configure)
            .configure(crate::console::configure)
            .default_service(web::to(routes::not_found))
    })
    .shutdown_timeout(10)
    .workers(workers);
    let server = match max_connections {
        Some(limit) => server.max_connections(limit.div_ceil(workers)),
        None => server,
    };
    let server = server
        // A client that closes its side has gone: its request, if still waiting, is not started.
        .h1_allow_half_closed(false)
        .listen(listener)?
        .run();
    Ok(server)
}

/// Measures the standby's replay lag every half second, when there is one.
fn spawn_replica_lag(state: &Arc<AppState>) {
    let Some(replica) = state.replica.clone() else {
        return;
    };
    tokio::spawn(async move {
        loop {
            let measured = Arc::clone(&replica);
            let _ = tokio::task::spawn_blocking(move || measured.measure()).await;
            tokio::time::sleep(crate::db::replica::LAG_EVERY).await;
        }
    });
}
