//! Everything a request handler may need, built once at start-up and shared by all workers.

use std::sync::Arc;

use crate::auth::Sessions;
use crate::config::Settings;
use crate::db::Database;
use crate::domain::{PaperCodeSigner, Taxonomy, VenueCodeSigner};
use crate::entrance_cache::EntranceCache;
use crate::metrics::Metrics;
use crate::passes::PassSigner;
use crate::pii::PiiCipher;
use crate::platforms::IdentityProviders;

pub struct AppState {
    pub settings: Settings,
    pub db: Database,
    pub cipher: PiiCipher,
    pub sessions: Sessions,
    pub providers: IdentityProviders,
    pub taxonomy: Arc<Taxonomy>,
    pub venue_codes: VenueCodeSigner,
    pub paper_codes: PaperCodeSigner,
    pub passes: PassSigner,
    pub entrances: EntranceCache,
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(settings: Settings, db: Database, providers: IdentityProviders) -> Self {
        Self {
            cipher: PiiCipher::new(settings.pii_key.expose()),
            sessions: Sessions::new(
                settings.jwt_secret.expose(),
                settings.resident_session_hours,
                settings.staff_session_hours,
            ),
            taxonomy: Arc::clone(&settings.taxonomy),
            venue_codes: VenueCodeSigner::new(*settings.venue_code_key.expose()),
            paper_codes: PaperCodeSigner::new(*settings.venue_code_key.expose()),
            passes: PassSigner::new(
                settings.pass_signing_key.expose(),
                settings.scan.pass_ttl_seconds,
            ),
            entrances: EntranceCache::default(),
            metrics: Metrics::new(),
            providers,
            db,
            settings,
        }
    }
}

/// The shared state as handlers receive it.
pub type State = actix_web::web::Data<AppState>;
