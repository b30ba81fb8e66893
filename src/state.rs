//! Everything a request handler may need, built once at start-up and shared by all workers.

use std::sync::Arc;

use crate::auth::Sessions;
use crate::config::Settings;
use crate::db::Database;
use crate::domain::{Taxonomy, VenueCodeSigner};
use crate::metrics::Metrics;
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
            metrics: Metrics::new(),
            providers,
            db,
            settings,
        }
    }
}

/// The shared state as handlers receive it.
pub type State = actix_web::web::Data<AppState>;
