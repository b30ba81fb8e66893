//! Bulk registration for registrars: a sheet of venues uploaded at once, all or nothing, every
//! bad cell named by its row; the registered venues listed with their posters to download.

use crate::auth::Registrar;
use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;

use super::edge::{Answer, Signed, Uploaded};
use super::{render, Frame};
use crate::domain::FieldErrors;
use crate::services::venue_imports::{self, RegisteredVenue};
use crate::services::venues::VenueError;
use crate::state::AppState;
use crate::web::venue_requests::import_sheet;

const PAGE: &str = "/console/venues/import";

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(PAGE, web::get().to(upload_page))
        .route(PAGE, web::post().to(upload));
}

#[derive(Template)]
#[template(path = "console/venue_import.html")]
struct RegistrationPage {
    frame: Frame,
    problems: Vec<String>,
    registered: Vec<RegisteredVenue>,
    limit: usize,
}

impl RegistrationPage {
    fn new(frame: Frame) -> Self {
        Self {
            frame,
            problems: Vec::new(),
            registered: Vec::new(),
            limit: venue_imports::MAX_IMPORTED,
        }
    }
}

async fn upload_page(state: web::Data<AppState>, session: Signed<Registrar>) -> Answer {
    Ok(render(&RegistrationPage::new(session.frame(&state, PAGE))))
}

/// `venues[3].manager.phone` → `第4行 manager.phone：…`; a problem of the whole sheet as it is.
fn row_problems(errors: &FieldErrors) -> Vec<String> {
    errors
        .iter()
        .map(|(field, error)| {
            let row = field
                .strip_prefix("venues[")
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(index, rest)| Some((index.parse::<usize>().ok()?, rest)));
            match row {
                Some((index, rest)) => format!(
                    "第{}行 {}：{}",
                    index + 1,
                    rest.trim_start_matches('.'),
                    error.message
                ),
                None => error.message.clone(),
            }
        })
        .collect()
}

/// Registers every venue of the sheet, or none and says why, row by row.
async fn upload(state: web::Data<AppState>, form: Uploaded<Registrar>) -> Answer {
    let mut page = RegistrationPage::new(form.frame(&state, PAGE));
    let refused = |mut page: RegistrationPage, problems: Vec<String>| {
        page.problems = problems;
        let mut response = render(&page);
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(response)
    };
    let applications = match import_sheet(form.field("file"), &state.taxonomy) {
        Ok(applications) => applications,
        Err(errors) => return refused(page, row_problems(&errors)),
    };
    match venue_imports::import(&state, &form.staff, applications).await {
        Ok(registered) => {
            page.registered = registered;
            Ok(render(&page))
        }
        Err(VenueError::Invalid(errors)) => refused(page, row_problems(&errors)),
        Err(e) => Err(e.into()),
    }
}
