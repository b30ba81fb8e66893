//! Notifications on their way out as platform messages: a WeChat subscribe message or an Alipay
//! template message for risky windows, review results and colour changes.
//!
//! Never on a request's path: the use case that writes a notification queues it in the same
//! transaction (`delivery = 'pending'`, with the template's values), and a background worker on
//! each node takes what is due, sends it and records the outcome. A try that fails for a passing
//! reason is retried with a growing wait; one the platform refuses for good is not. Several nodes
//! may run the worker: a notification is claimed by one of them before it is sent. The inbox
//! (`GET /me/notifications`) stays the source of truth whatever becomes of the message.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use futures_util::StreamExt;

use crate::clock::Clock;
use crate::db::notifications::{self, DueDelivery, TryOutcome};
use crate::db::DbError;
use crate::domain::{Delivery, HealthColor, Platform};
use crate::platforms::dev;
use crate::platforms::messages::{OutgoingMessage, SendError};
use crate::state::AppState;

/// Notifications taken in one claim.
const BATCH: i64 = 100;
/// How long a claimed notification is left to its sender before another may take it again.
const LEASE_SECONDS: i64 = 120;
/// Tries before a notification that keeps failing is given up.
pub const MAX_ATTEMPTS: i32 = 8;
/// The wait after the first failed try; it doubles after each, up to an hour.
const FIRST_RETRY_SECONDS: i64 = 30;
const LONGEST_WAIT_SECONDS: i64 = 3600;

/// The wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min … at most 1 h.
pub fn retry_wait(attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 16) - 1;
    Duration::seconds((FIRST_RETRY_SECONDS << doublings).min(LONGEST_WAIT_SECONDS))
}

/// A time in a message: `2026-11-21 10:30` in the deployment's zone.
fn minute(clock: &Clock, at: NaiveDateTime) -> String {
    clock.local_input(at).replace('T', " ")
}

/// A risky window: the venue, when the stay began, what to do.
pub fn risk_window_values(clock: &Clock, venue: &str, stay_from: NaiveDateTime) -> Vec<String> {
    vec![
        venue.to_owned(),
        minute(clock, stay_from),
        "您到访的场所出现风险，请查看提醒".to_owned(),
    ]
}

/// A review result: the venue, passed or not, and the reason of a rejection.
pub fn review_values(venue: &str, rejection: Option<&str>) -> Vec<String> {
    match rejection {
        None => vec![
            venue.to_owned(),
            "已通过".to_owned(),
            "可在小程序中下载打印场所码".to_owned(),
        ],
        Some(reason) => vec![venue.to_owned(), "未通过".to_owned(), reason.to_owned()],
    }
}

/// A colour change: the colour, when, and whose. No name leaves for the platform.
pub fn health_code_values(
    clock: &Clock,
    color: HealthColor,
    at: NaiveDateTime,
    own: bool,
) -> Vec<String> {
    vec![
        color.label().to_owned(),
        minute(clock, at),
        if own {
            "您的健康码已变更，请查看"
        } else {
            "您的同行人员健康码已变更，请查看"
        }
        .to_owned(),
    ]
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub not_subscribed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Failed for a passing reason; pending again.
    pub retried: usize,
}

impl Round {
    pub fn total(&self) -> usize {
        self.sent + self.not_subscribed + self.failed + self.skipped + self.retried
    }

    fn count(&mut self, outcome: &TryOutcome) -> &'static str {
        let (counter, name) = match outcome {
            TryOutcome::Retry(..) => (&mut self.retried, "retried"),
            TryOutcome::Settled(Delivery::Sent, _) => (&mut self.sent, "sent"),
            TryOutcome::Settled(Delivery::NotSubscribed, _) => {
                (&mut self.not_subscribed, "not_subscribed")
            }
            TryOutcome::Settled(Delivery::Skipped, _) => (&mut self.skipped, "skipped"),
            TryOutcome::Settled(..) => (&mut self.failed, "failed"),
        };
        *counter += 1;
        name
    }
}

/// Hears of each message sent or not: its platform and the outcome's name (`sent`, `failed`, …),
/// for the node's metrics.
pub type Observe = dyn Fn(&str, &str) + Send + Sync;

/// One round: claims up to a batch of due notifications, sends them `DELIVERY_CONCURRENCY` at a
/// time, and records every outcome.
pub async fn send_due(state: &Arc<AppState>, observe: &Observe) -> Result<Round, DbError> {
    let now = state.clock.now_naive();
    let lease_until = now + Duration::seconds(LEASE_SECONDS);
    let claimed: Vec<DueDelivery> = state
        .write(move |_, conn| {
            let mut mine = Vec::new();
            for due in notifications::due(conn, now, BATCH)? {
                if notifications::claim(conn, due.id, now, lease_until)? {
                    mine.push(due);
                }
            }
            Ok::<_, DbError>(mine)
        })
        .await?;
    if claimed.is_empty() {
        return Ok(Round::default());
    }
    let outcomes: Vec<(i64, Platform, TryOutcome)> = futures_util::stream::iter(claimed)
        .map(|due| async move {
            let outcome = attempt(state, &due).await;
            (due.id, due.platform, outcome)
        })
        .buffer_unordered(state.settings.delivery.concurrency)
        .collect()
        .await;
    let mut round = Round::default();
    for (_, platform, outcome) in &outcomes {
        let name = round.count(outcome);
        observe(platform.as_str(), name);
    }
    let done = state.clock.now_naive();
    state
        .write(move |_, conn| {
            for (id, _, outcome) in &outcomes {
                notifications::record(conn, *id, outcome, done)?;
            }
            Ok::<_, DbError>(())
        })
        .await?;
    Ok(round)
}

/// One try of one notification (its try already counted by the claim).
async fn attempt(state: &AppState, due: &DueDelivery) -> TryOutcome {
    let skipped = |why: &str| TryOutcome::Settled(Delivery::Skipped, Some(why.to_owned()));
    if due.subject.starts_with(dev::SUBJECT_PREFIX) {
        return skipped("development account");
    }
    let Some(sender) = state.senders.for_platform(due.platform) else {
        return skipped("platform not configured");
    };
    let Some(values) = due
        .values
        .as_deref()
        .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
    else {
        return TryOutcome::Settled(Delivery::Failed, Some("unreadable values".into()));
    };
    let message = OutgoingMessage {
        kind: due.kind,
        values: &values,
        page: &state.settings.delivery.page,
    };
    match sender.send(&due.subject, &message).await {
        Ok(()) => TryOutcome::Settled(Delivery::Sent, None),
        Err(SendError::NotSubscribed) => TryOutcome::Settled(Delivery::NotSubscribed, None),
        Err(SendError::NoTemplate) => skipped("no template for this kind"),
        Err(SendError::Refused(why)) => TryOutcome::Settled(Delivery::Failed, Some(why)),
        Err(SendError::Unavailable(why)) => {
            let attempts = due.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                TryOutcome::Settled(Delivery::Failed, Some(why))
            } else {
                TryOutcome::Retry(state.clock.now_naive() + retry_wait(attempts), why)
            }
        }
    }
}

/// Runs rounds every `DELIVERY_POLL_SECONDS`, at once again while whole batches come back.
pub fn spawn(state: Arc<AppState>, observe: Box<Observe>) {
    let seconds = state.settings.delivery.poll_seconds;
    if seconds == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(u64::from(seconds)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            loop {
                match send_due(&state, &*observe).await {
                    Ok(round) if round.total() as i64 >= BATCH => continue,
                    Ok(round) if round.total() > 0 => {
                        tracing::info!(?round, "platform messages");
                        break;
                    }
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "platform messages not sent this round");
                        break;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_an_hour() {
        assert_eq!(retry_wait(1), Duration::seconds(30));
        assert_eq!(retry_wait(2), Duration::seconds(60));
        assert_eq!(retry_wait(4), Duration::seconds(240));
        assert_eq!(retry_wait(8), Duration::seconds(3600));
        assert_eq!(retry_wait(40), Duration::seconds(3600));
    }
}
