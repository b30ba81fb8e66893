//! A resident's inbox: `GET /api/v1/me/notifications`.

use actix_web::web;

use super::{items, Items, State};
use crate::auth::Account;
use crate::services::notifications::{self, NotificationView};
use crate::web::ApiError;

pub async fn list_mine(
    account: Account,
    state: State,
) -> Result<web::Json<Items<NotificationView>>, ApiError> {
    Ok(items(notifications::list_mine(&state, &account).await?))
}
