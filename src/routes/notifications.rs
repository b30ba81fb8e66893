//! A resident's inbox: `GET /api/v1/me/notifications`.

use actix_web::web;

use super::{page, page_request, Page, PageQuery, State};
use crate::auth::Account;
use crate::services::notifications::{self, NotificationView};
use crate::web::{ApiError, Query};

pub async fn list_mine(
    account: Account,
    query: Query<PageQuery>,
    state: State,
) -> Result<web::Json<Page<NotificationView>>, ApiError> {
    let request = page_request(query.0.cursor.as_deref(), query.0.limit)?;
    Ok(page(
        notifications::list_mine(&state, &account, request).await?,
    ))
}
