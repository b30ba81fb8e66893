//! County review: reviewers see and decide only the applications of their own region. Another
//! region's application answers as if it did not exist.

use std::sync::Arc;

use super::cache_sync::changed;
use super::venues::{self, VenueError, VenueView};
use super::{audit, delivery};
use crate::auth::Staff;
use crate::cache::CacheKey;
use crate::db::notifications;
use crate::db::venues as venue_rows;
use crate::domain::{NotificationKind, PageRequest, VenueStatus};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("the application was already decided")]
    NotPending,
    #[error(transparent)]
    Venue(#[from] VenueError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

#[derive(Debug, Clone)]
pub enum Decision {
    Approve,
    Reject { reason: String },
}

/// Applications of the reviewer's region, oldest first; `None` for every status.
pub async fn list(
    state: &Arc<AppState>,
    reviewer: &Staff,
    status: Option<VenueStatus>,
    page: PageRequest,
) -> Result<(Vec<VenueView>, Option<String>), ReviewError> {
    let region = reviewer.region.clone();
    state
        .read(move |state, conn| {
            let rows = venue_rows::in_region(conn, &region, status, page)?;
            let (rows, next) = page.cut(rows, |venue| venue.id);
            let views = rows
                .into_iter()
                .map(|venue| venues::view(state, conn, venue))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((views, next))
        })
        .await
}

/// Approves or rejects a pending application of the reviewer's region, with its audit entry.
pub async fn decide(
    state: &Arc<AppState>,
    reviewer: &Staff,
    venue_id: i64,
    decision: Decision,
) -> Result<VenueView, ReviewError> {
    let reviewer = reviewer.clone();
    let view = state
        .write(move |state, conn| {
            let venue = venue_rows::find(conn, venue_id)?
                .filter(|v| reviewer.covers(&v.region_code))
                .ok_or(VenueError::NotFound)?;
            if venue.status != VenueStatus::Pending {
                return Err(ReviewError::NotPending);
            }
            let (status, reason, action) = match &decision {
                Decision::Approve => (VenueStatus::Approved, None, "venue.approve"),
                Decision::Reject { reason } => {
                    (VenueStatus::Rejected, Some(reason.as_str()), "venue.reject")
                }
            };
            let now = state.clock.now_naive();
            venue_rows::set_decision(conn, venue_id, status, reason, reviewer.id, now)?;
            // The applicant is told in their notices.
            if let Some(manager) = venue.manager_account_id {
                let outgoing = delivery::review_values(
                    &venue.name,
                    match &decision {
                        Decision::Approve => None,
                        Decision::Reject { reason } => Some(reason.as_str()),
                    },
                );
                let message = match &decision {
                    Decision::Approve => format!(
                        "您申请的场所码“{}”已审核通过，可在小程序中下载打印场所码。",
                        venue.name
                    ),
                    Decision::Reject { reason } => format!(
                        "您申请的场所码“{}”未通过审核：{reason}。请修改后重新提交。",
                        venue.name
                    ),
                };
                notifications::insert_message(
                    conn,
                    manager,
                    NotificationKind::ReviewResult,
                    &message,
                    Some(&outgoing),
                    now,
                )?;
            }
            audit::record(
                state,
                conn,
                &[audit::by_staff(
                    &reviewer,
                    action,
                    format!("venue:{venue_id}"),
                    1,
                )],
            )?;
            changed(state, conn, &[CacheKey::Venue(venue_id)])?;
            Ok(venues::reload(state, conn, venue_id)?)
        })
        .await?;
    Ok(view)
}
