//! What can go wrong with a venue, for every use case that acts on one (and for the question
//! whether the caller may: `authorize.rs`).

use crate::db::DbError;
use crate::domain::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum VenueError {
    #[error("no such venue or entrance")]
    NotFound,
    #[error("only the venue's manager may do this")]
    ManagerOnly,
    #[error("the venue is approved; its basic information is locked")]
    Locked,
    #[error("an open entrance of this venue already has this name")]
    EntranceNameTaken(String),
    #[error("the venue has no working codes until it is approved")]
    NotActive,
    #[error("the entrance is closed")]
    EntranceClosed,
    #[error("the venue is suspended")]
    Suspended,
    #[error("only the venue's own people and the local authorities over venues may do this")]
    ForStaffOfVenues,
    #[error("the venue is not suspended")]
    NotSuspended,
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    #[error(transparent)]
    Render(#[from] crate::posters::PosterError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for VenueError {
    fn from(e: diesel::result::Error) -> Self {
        VenueError::Db(e.into())
    }
}
