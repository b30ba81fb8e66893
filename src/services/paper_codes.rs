//! Printed paper codes for people without phones: a resident prints one for themself or a
//! companion; venue staff scan it at the door (`paper_scans`). Valid 14 days from printing; a
//! reprint, or removing the companion, revokes the earlier code.

use std::sync::Arc;

use chrono::NaiveDate;

use super::accounts::consented_person;
use super::companions::CompanionError;
use crate::auth::Account;
use crate::crypto::PaperCode;
use crate::db::{companions, paper_codes, DbConnection};
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

/// Records a new print of `person_id` by the account and draws its code.
fn print(
    state: &AppState,
    conn: &mut DbConnection,
    account_id: i64,
    person_id: i64,
) -> Result<PaperCode, CompanionError> {
    let issued_on = state.clock.today();
    let id = paper_codes::issue(
        conn,
        account_id,
        person_id,
        issued_on,
        state.clock.now_naive(),
    )?;
    Ok(PaperCode { id, issued_on })
}

fn image(state: &AppState, code: PaperCode) -> Result<PaperCodeImage, PaperCodeFailure> {
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
    let code = state
        .write(move |state, conn| {
            let me = consented_person(state, conn, account_id)?;
            print(state, conn, account_id, me.id)
        })
        .await?;
    image(state, code)
}

/// The paper code of one of the caller's companions, unless the companion has an account of
/// their own (their code is theirs to print).
pub async fn companion(
    state: &Arc<AppState>,
    account: &Account,
    companion_id: i64,
) -> Result<PaperCodeImage, PaperCodeFailure> {
    let account_id = account.id;
    let code = state
        .write(move |state, conn| {
            consented_person(state, conn, account_id)?;
            let held = companions::find(conn, account_id, companion_id)?
                .ok_or(CompanionError::NotFound)?;
            if held.own_account {
                return Err(CompanionError::OwnAccount);
            }
            if !held.accepted() {
                return Err(CompanionError::NotAccepted);
            }
            print(state, conn, account_id, held.row.person_id)
        })
        .await?;
    image(state, code)
}
