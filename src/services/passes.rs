//! Checking a pass token shown at the door: online here, or offline with the published key.

use serde::Serialize;

use crate::crypto::passes::{PassError, PassPerson, PassVenue};
use crate::domain::Verdict;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct PassCheck {
    pub valid: bool,
    /// Why not: `expired` or `invalid`.
    pub reason: Option<&'static str>,
    pub check_in_id: Option<i64>,
    pub scanned_at: Option<String>,
    pub expires_at: Option<String>,
    pub venue: Option<PassVenue>,
    pub verdict: Option<Verdict>,
    pub people: Option<Vec<PassPerson>>,
}

pub fn verify(state: &AppState, token: &str) -> PassCheck {
    match state.passes.verify(token, state.clock.now()) {
        Ok(claims) => PassCheck {
            valid: true,
            reason: None,
            check_in_id: Some(claims.cid),
            scanned_at: Some(claims.scanned_at),
            expires_at: chrono::DateTime::from_timestamp(claims.exp, 0)
                .map(|t| state.clock.show_utc(t)),
            venue: Some(claims.venue),
            verdict: Some(claims.verdict),
            people: Some(claims.people),
        },
        Err(error) => PassCheck {
            valid: false,
            reason: Some(match error {
                PassError::Expired => "expired",
                PassError::Invalid => "invalid",
            }),
            check_in_id: None,
            scanned_at: None,
            expires_at: None,
            venue: None,
            verdict: None,
            people: None,
        },
    }
}
