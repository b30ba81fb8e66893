//! Printed paper codes for people without phones: a resident prints one for themself or a
//! companion; venue staff scan it at the door (`paper_scans`). Valid 14 days from printing.

use std::sync::Arc;

use chrono::NaiveDate;

use super::accounts::consented_person;
use super::companions::CompanionError;
use crate::auth::Account;
use crate::crypto::PaperCode;
use crate::db::companions;
use crate::posters::{self, PosterError};
use crate::state::AppState;

/// The code as an image, and the last day it is valid.
pub struct PaperCodeImage {
    pub png: Vec<u8>,
    pub valid_until: NaiveDate,
}

#[derive(Debug, thiserror::Error)]
pub enum PaperCodeFailure {
    #[error(transparent)]
    Companion(#[from] CompanionError),
    #[error(transparent)]
    Render(#[from] PosterError),
}

fn image(state: &AppState, person_id: i64) -> Result<PaperCodeImage, PaperCodeFailure> {
    let code = PaperCode {
        person_id,
        issued_on: state.clock.today(),
    };
    Ok(PaperCodeImage {
        png: posters::code_png(&state.paper_codes.text(code))?,
        valid_until: code.valid_until(),
    })
}

/// The caller's own paper code.
pub async fn own(
    state: &Arc<AppState>,
    account: &Account,
) -> Result<PaperCodeImage, PaperCodeFailure> {
    let account_id = account.id;
    let person = state
        .read(move |state, conn| {
            consented_person(state, conn, account_id).map_err(CompanionError::from)
        })
        .await?;
    image(state, person.id)
}

/// The paper code of one of the caller's companions.
pub async fn companion(
    state: &Arc<AppState>,
    account: &Account,
    companion_id: i64,
) -> Result<PaperCodeImage, PaperCodeFailure> {
    let account_id = account.id;
    let person_id = state
        .read(move |state, conn| {
            consented_person(state, conn, account_id)?;
            companions::find_many(conn, account_id, &[companion_id])?
                .first()
                .map(|(_, person)| person.id)
                .ok_or(CompanionError::NotFound)
        })
        .await?;
    image(state, person_id)
}
